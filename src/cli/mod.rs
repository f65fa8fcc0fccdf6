//! Per-command glue: read inputs (never secrets from argv or env), call the library,
//! print. No cryptography here.

pub mod args;

use std::path::PathBuf;
use std::process::ExitCode;

use args::{Cli, Command};

/// Exit codes (documented in `glasskeep man`, EXIT STATUS).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Verification failed, or the tool refused (policy, wrong envelope, bad share).
    pub const REFUSED: u8 = 1;
    /// Usage error (clap's own code too).
    pub const USAGE: u8 = 2;
    /// A YubiKey, reader or pcscd problem.
    pub const CARD: u8 = 3;
    /// An input file could not be read or decoded.
    pub const INPUT: u8 = 4;
    /// The ceremony log could not be read or written (locked, torn tail, I/O).
    pub const LOG: u8 = 5;
}

/// An error for the user: the message says what happened and what to do.
#[derive(Debug)]
pub struct CliError {
    message: String,
    code: u8,
}

impl CliError {
    /// An error with an explicit exit code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code,
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The custody folder: --dir, else $GLASSKEEP_DIR (a path, not a secret), else ".".
pub fn custody_dir(cli: &Cli) -> PathBuf {
    cli.dir
        .clone()
        .or_else(|| std::env::var_os("GLASSKEEP_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "glasskeep", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let man = clap_mangen::Man::new(cmd);
            let mut out = Vec::new();
            man.render(&mut out)
                .map_err(|e| CliError::new(exit::INPUT, format!("cannot render the man page: {e}")))?;
            out.extend_from_slice(EXIT_STATUS_ROFF.as_bytes());
            use std::io::Write;
            std::io::stdout()
                .write_all(&out)
                .map_err(|e| CliError::new(exit::INPUT, format!("cannot write: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(CliError::new(
            exit::USAGE,
            "this command is not available in this build",
        )),
    }
}

const EXIT_STATUS_ROFF: &str = r#".SH "EXIT STATUS"
.TP
0
success
.TP
1
verification failed, or glasskeep refused (policy, a wrong or unlogged envelope, a bad share)
.TP
2
usage error
.TP
3
YubiKey, reader or pcscd problem (the message says which and what to do)
.TP
4
an input file could not be read or decoded
.TP
5
the ceremony log could not be read or written (locked by another writer, torn tail, I/O)
"#;
