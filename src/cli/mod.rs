//! Per-command glue: read inputs (never secrets from argv or env), call the library,
//! print. No cryptography here.

pub mod args;
#[cfg(feature = "card")]
mod ceremonies;
#[cfg(feature = "card")]
mod doctor;
mod print;
mod reveal;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use glasskeep::ceremony::{self, CeremonyError, EnvelopeIncident};
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
    /// The ceremony log could not be read or written (locked, torn tail, I/O), or the
    /// folder holds no custody.
    pub const LOG: u8 = 5;
    /// The log does not verify: no ceremony acts on it (an incident).
    pub const UNVERIFIED: u8 = 6;
    /// The custodians present are not the quorum the act needs.
    pub const QUORUM: u8 = 7;
    /// The log is not the one the last ceremony sheet records (anchor missing or wrong).
    pub const ANCHOR: u8 = 8;
    /// Not confirmed by the people present: nothing was recorded.
    pub const DECLINED: u8 = 9;
    /// An envelope the log does not vouch for was presented: report the incident.
    pub const INCIDENT: u8 = 10;
}

/// An error for the user: the message says what happened and what to do.
#[derive(Debug)]
pub struct CliError {
    message: String,
    code: u8,
    /// An envelope incident, reported as a notice of its own before the message.
    incident: Option<Box<EnvelopeIncident>>,
}

impl CliError {
    /// An error with an explicit exit code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code,
            incident: None,
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
            CeremonyError::Card { .. }
            | CeremonyError::Cards(_)
            | CeremonyError::NoKey { .. }
            | CeremonyError::LastPinTry { .. } => exit::CARD,
            CeremonyError::Envelope { .. } | CeremonyError::Io { .. } | CeremonyError::Input(_) => {
                exit::INPUT
            }
            CeremonyError::Unverified { .. } => exit::UNVERIFIED,
            CeremonyError::Quorum { .. } => exit::QUORUM,
            CeremonyError::AnchorNeeded
            | CeremonyError::AnchorTooShort { .. }
            | CeremonyError::AnchorMismatch { .. } => exit::ANCHOR,
            CeremonyError::Declined => exit::DECLINED,
            CeremonyError::Incident(_) => exit::INCIDENT,
            _ => exit::REFUSED,
        };
        let mut err = CliError::new(code, e.to_string());
        if let CeremonyError::Incident(i) = e {
            err.incident = Some(Box::new(i));
        }
        err
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
    if let Err(CliError {
        incident: Some(i), ..
    }) = &result
    {
        reveal::incident(&dir, i);
    }
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
        Command::Ceremony(cmd) => return ceremonies::run(dir, cmd),

        #[cfg(feature = "card")]
        Command::Custodian(CustodianCommand::Enroll {
            names,
            serials,
            seal_slot,
            force_overwrite,
            accept_firmware_risk,
            type_management_key,
            cosigners,
            common,
        }) => ceremonies::enroll(
            dir,
            ceremonies::EnrollArgs {
                names,
                serials,
                seal_slot: *seal_slot,
                force_overwrite: *force_overwrite,
                accept_firmware_risk: *accept_firmware_risk,
                type_management_key: *type_management_key,
                cosigners,
                common,
            },
        )?,
        #[cfg(feature = "card")]
        Command::Custodian(CustodianCommand::Retire {
            name,
            reason,
            cosigners,
            common,
        }) => ceremonies::retire(dir, name, reason, cosigners, common)?,
        #[cfg(feature = "card")]
        Command::Envelope(EnvelopeCommand::Destroyed {
            fingerprint,
            witnesses,
            common,
        }) => ceremonies::destroyed(dir, fingerprint, witnesses, common)?,
        #[cfg(feature = "card")]
        Command::Log(LogCommand::Checkpoint { custodians, common }) => {
            ceremonies::checkpoint(dir, custodians, common)?
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
        Command::Envelope(EnvelopeCommand::Read { file, output }) => {
            print::read_text(file, output.as_deref())?
        }
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
            training,
            now: given,
        }) => {
            let (now, now_given) = match given {
                Some(t) => (
                    t.duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0),
                    true,
                ),
                None => (now, false),
            };
            return print::verify(
                dir,
                anchor.as_deref(),
                *json,
                print::VerifyFlags {
                    lenient: *policy == args::Policy::Lenient,
                    training: *training,
                    now,
                    now_given,
                },
            );
        }
        Command::Log(LogCommand::Show {
            format,
            training,
            now: given,
            output,
        }) => {
            let (now, now_given) = match given {
                Some(t) => (
                    t.duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0),
                    true,
                ),
                None => (now, false),
            };
            let opts = glasskeep_core::log::VerifyOptions {
                anchor: None,
                now: Some(now),
                lenient: false,
                training: *training,
                now_given,
            };
            print::show(dir, *format, &opts, output.as_deref())?
        }
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
