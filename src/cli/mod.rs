//! Per-command glue: read inputs (never secrets from argv or env), call the library,
//! print. No cryptography here.

pub mod args;
#[cfg(feature = "card")]
mod ceremonies;
mod print;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use glasskeep::ceremony::{self, CeremonyError};
use glasskeep::input;
use glasskeep_core::secret::{self, SecretInputError};

use args::{Cli, Command, CustodianCommand, EnvelopeCommand, LogCommand};

/// Exit codes (documented in `glasskeep man`, EXIT STATUS).
pub mod exit {
    /// Verification failed, or the tool refused (policy, wrong envelope, bad share).
    pub const REFUSED: u8 = 1;
    /// Usage error (clap's own code too).
    pub const USAGE: u8 = 2;
    /// A YubiKey, reader or pcscd problem.
    #[cfg_attr(not(feature = "card"), allow(dead_code))]
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

impl From<CeremonyError> for CliError {
    fn from(e: CeremonyError) -> Self {
        let code = match &e {
            CeremonyError::Log(_) | CeremonyError::NoCustody { .. } => exit::LOG,
            #[cfg(feature = "card")]
            CeremonyError::Card { .. } | CeremonyError::Cards(_) => exit::CARD,
            CeremonyError::Envelope { .. } | CeremonyError::Io { .. } | CeremonyError::Input(_) => {
                exit::INPUT
            }
            _ => exit::REFUSED,
        };
        CliError::new(code, e.to_string())
    }
}

impl From<SecretInputError> for CliError {
    fn from(e: SecretInputError) -> Self {
        CliError::new(exit::INPUT, e.to_string())
    }
}

/// The custody folder: --dir, else $GLASSKEEP_DIR (a path, not a secret), else ".".
fn custody_dir(cli: &Cli) -> PathBuf {
    cli.dir
        .clone()
        .or_else(|| std::env::var_os("GLASSKEEP_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    // Before anything could read a secret or a PIN: no core dumps.
    let h = input::harden_process();
    if !h.core_limit_zero || !h.not_dumpable {
        eprintln!("warning: could not disable core dumps; a crash could write memory to disk");
    }
    let dir = custody_dir(&cli);
    let result = dispatch(&cli, &dir);
    if secret::memory_lock_failed() {
        eprintln!("warning: secret memory could not be locked (raise `ulimit -l`); it may have reached swap");
    }
    result
}

fn dispatch(cli: &Cli, dir: &Path) -> Result<ExitCode, CliError> {
    let now = ceremony::now();
    let quiet = matches!(cli.command, Command::Completions { .. } | Command::Man);
    #[cfg(feature = "card")]
    let quiet = quiet
        || matches!(
            cli.command,
            Command::Ceremony(args::CeremonyCommand::Init { .. })
        );
    if !quiet {
        print::training_banner(dir);
    }
    match &cli.command {
        #[cfg(feature = "card")]
        Command::Ceremony(cmd) => return ceremonies::run(cli, dir, cmd),

        #[cfg(feature = "card")]
        Command::Custodian(CustodianCommand::Enroll {
            name,
            serial,
            seal_slot,
            force_overwrite,
        }) => ceremonies::enroll(cli, dir, name, serial, seal_slot, force_overwrite)?,
        #[cfg(feature = "card")]
        Command::Envelope(EnvelopeCommand::Destroyed {
            fingerprint,
            witnesses,
        }) => ceremonies::destroyed(cli, dir, fingerprint, witnesses)?,
        #[cfg(feature = "card")]
        Command::Log(LogCommand::Checkpoint { custodians }) => {
            ceremonies::checkpoint(cli, dir, custodians)?
        }
        Command::Custodian(CustodianCommand::List) => {
            let s = ceremony::status(dir, now)?;
            for c in &s.custodians {
                println!(
                    "{:<20} YubiKey {:<10} firmware {}",
                    c.name, c.serial, c.firmware
                );
            }
        }
        Command::Custodian(CustodianCommand::Show { name }) => print::custodian_by_name(dir, name)?,
        Command::Envelope(EnvelopeCommand::Render {
            file,
            format,
            paper,
            output,
        }) => print::render(file, *format, *paper, output.as_deref())?,
        Command::Envelope(EnvelopeCommand::ExportAge { file, output }) => {
            let e = ceremony::load_envelope(file)?;
            write_out(output.as_deref(), &e.envelope.sealed_share)?;
        }
        Command::Status { json } => {
            let s = ceremony::status(dir, now)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
            } else {
                print::status(&s);
            }
            if s.needs_attention() {
                return Ok(ExitCode::from(exit::REFUSED));
            }
        }
        Command::Log(LogCommand::Verify {
            anchor,
            json,
            policy,
        }) => {
            return print::verify(
                dir,
                anchor.as_deref(),
                *json,
                *policy == args::Policy::Lenient,
                now,
            )
        }
        Command::Log(LogCommand::Show { format }) => print::show(dir, *format)?,
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "glasskeep", &mut std::io::stdout());
        }
        Command::Man => print::man()?,
    }
    Ok(ExitCode::SUCCESS)
}

fn write_out(output: Option<&Path>, bytes: &[u8]) -> Result<(), CliError> {
    match output {
        Some(p) => std::fs::write(p, bytes)
            .map_err(|e| CliError::new(exit::INPUT, format!("{}: {e}", p.display()))),
        None => std::io::stdout()
            .write_all(bytes)
            .map_err(|e| CliError::new(exit::INPUT, format!("cannot write to stdout: {e}"))),
    }
}
