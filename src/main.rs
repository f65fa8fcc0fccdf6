//! glasskeep's binary: parse, run, map the error to an exit code. The library does the
//! work; `cli/` only parses, prompts and prints.
#![forbid(unsafe_code)]

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = match cli::args::Cli::try_parse() {
        Ok(args) => args,
        // `--version` names the exact build: an auditor compares this digest with the
        // one the genesis entry recorded and with the digest of the published release.
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayVersion => {
            return cli::print_version();
        }
        Err(e) => e.exit(),
    };
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("glasskeep: {e}");
            e.exit_code()
        }
    }
}
