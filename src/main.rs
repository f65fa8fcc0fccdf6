//! glasskeep's binary: parse, run, map the error to an exit code. The library does the
//! work; `cli/` only parses, prompts and prints.
#![forbid(unsafe_code)]

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::args::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("glasskeep: {e}");
            e.exit_code()
        }
    }
}
