//! Per-command glue: read inputs (never secrets from argv or env), call the library,
//! print. No cryptography here.

pub mod args;
mod print;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use glasskeep::ceremony::{self, CeremonyError, Operator, PcscCards};
use glasskeep::log::{self, SecretKind, Verdict};
use glasskeep::secret::{self, Pin, PinReader, PinSource, SecretBytes, SecretInputError};
use glasskeep::token::Slot;

use args::{Cli, Command, CustodianCommand, EnvelopeCommand, LogCommand, TokenCommand};

/// Exit codes (documented in `glasskeep man`, EXIT STATUS).
pub mod exit {
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

impl From<CeremonyError> for CliError {
    fn from(e: CeremonyError) -> Self {
        let code = match &e {
            CeremonyError::Log(_) | CeremonyError::NoLog { .. } => exit::LOG,
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

/// Talks to the people at the safe on stderr; PINs from the prompt or the PIN file.
struct Console {
    pins: PinReader,
}

impl Operator for Console {
    fn notice(&self, message: &str) {
        eprintln!("  > {message}");
    }

    fn pin(&mut self, custodian: &str, serial: u32) -> Result<Pin, SecretInputError> {
        self.pins
            .next_pin(&format!("{custodian} (YubiKey {serial})"))
    }
}

fn console(cli: &Cli) -> Console {
    let source = match (&cli.pin_file, cli.pin_fd) {
        (Some(f), _) => PinSource::File(f.clone()),
        (None, Some(fd)) => PinSource::Fd(fd),
        (None, None) => PinSource::Prompt,
    };
    Console {
        pins: PinReader::new(source),
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    // Before anything could read a secret or a PIN: no core dumps.
    let h = secret::harden_process();
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
    let mut cards = PcscCards;
    let now = ceremony::now();
    if !matches!(
        cli.command,
        Command::Init { .. } | Command::Completions { .. } | Command::Man
    ) {
        print::training_banner(dir);
    }
    match &cli.command {
        Command::Init { org, training } => {
            let r = ceremony::init(dir, org, *training, now)?;
            if *training {
                print::training_banner(dir);
            }
            println!("custody created in {}", dir.display());
            println!("custody id: {}", log::hex(&r.custody_id));
            print::anchor(&r.head);
        }
        Command::Token(TokenCommand::List) => print::token_list()?,
        Command::Custodian(CustodianCommand::Enroll {
            name,
            serial,
            seal_slot,
            force_overwrite,
        }) => {
            let slot = Slot::retired(*seal_slot).ok_or_else(|| {
                CliError::new(exit::USAGE, "--seal-slot must be a retired slot, 82 to 95")
            })?;
            let mut op = console(cli);
            let record = ceremony::enroll(
                dir,
                &mut cards,
                &mut op,
                &ceremony::EnrollRequest {
                    name: name.clone(),
                    serial: *serial,
                    seal_slot: slot,
                    overwrite: *force_overwrite,
                },
                now,
            )?;
            print::custodian(&record);
            print::anchor(&print::head(dir)?);
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
        Command::Seal {
            label,
            threshold,
            custodians,
            kind,
            rotate_within,
        } => {
            let kind = secret_kind(*kind);
            let req = ceremony::SealRequest {
                label: label.clone(),
                threshold: *threshold,
                custodians: custodians.clone(),
                kind,
                rotate_within: rotate_within.as_secs(),
            };
            ceremony::precheck_seal(dir, &req)?;
            let secret = read_new_secret(kind)?;
            let mut op = console(cli);
            let r = ceremony::seal(dir, &mut cards, &mut op, &req, &secret, &[], now)?;
            drop(secret);
            print::sealed(&r);
        }
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
        Command::Envelope(EnvelopeCommand::Destroyed {
            fingerprint,
            witnesses,
        }) => {
            let mut op = console(cli);
            let r =
                ceremony::destroyed(dir, &mut cards, &mut op, fingerprint, witnesses, &[], now)?;
            println!("envelope destruction recorded as entry {}", r.seq);
            print::anchor(&r.head);
        }
        Command::Open {
            label,
            reason,
            incident,
            envelopes,
        } => {
            let files = load_all(envelopes)?;
            let mut op = console(cli);
            let (secret, r) = ceremony::open(
                dir,
                &mut cards,
                &mut op,
                &ceremony::OpenRequest {
                    label: label.clone(),
                    reason: reason.clone(),
                    incident: incident.clone().unwrap_or_default(),
                },
                &files,
                now,
            )?;
            print::alarm(&r, reason, incident.as_deref());
            let mut out = std::io::stdout().lock();
            // A file comes back byte for byte; text secrets end their line.
            let newline: &[u8] = if r.kind == SecretKind::File {
                b""
            } else {
                b"\n"
            };
            out.write_all(secret.expose())
                .and_then(|_| out.write_all(newline))
                .and_then(|_| out.flush())
                .map_err(|e| {
                    CliError::new(
                        exit::INPUT,
                        format!("cannot write the secret to stdout: {e}"),
                    )
                })?;
        }
        Command::Drill { label, envelopes } => {
            let files = load_all(envelopes)?;
            let mut op = console(cli);
            let r = ceremony::drill(dir, &mut cards, &mut op, label, &files, now)?;
            println!(
                "drill passed: {label} reconstructs with {} (entry {}); nothing was revealed",
                r.cosigners.join(", "),
                r.seq
            );
            print::anchor(&r.head);
        }
        Command::CheckShare { envelope } => {
            let f = ceremony::load_envelope(envelope)?;
            let mut op = console(cli);
            let r = ceremony::check_share(dir, &mut cards, &mut op, &f, now)?;
            println!(
                "share check passed for {} (entry {}); nothing was revealed",
                r.cosigners.join(", "),
                r.seq
            );
            print::anchor(&r.head);
        }
        Command::Rotate {
            label,
            custodians,
            threshold,
        } => {
            let s = ceremony::status(dir, now)?;
            let set = s
                .sets
                .iter()
                .find(|x| &x.label == label && x.status != "superseded")
                .ok_or_else(|| {
                    CliError::new(
                        exit::REFUSED,
                        format!(
                            "no sealed credential is labelled {label:?}: see `glasskeep status`"
                        ),
                    )
                })?;
            let kind = if set.kind == SecretKind::File.name() {
                SecretKind::File
            } else {
                SecretKind::Password
            };
            let secret = read_new_secret(kind)?;
            let mut op = console(cli);
            let r = ceremony::rotate(
                dir,
                &mut cards,
                &mut op,
                &ceremony::RotateRequest {
                    label: label.clone(),
                    custodians: custodians.clone(),
                    threshold: *threshold,
                },
                &secret,
                &[],
                now,
            )?;
            drop(secret);
            print::sealed(&r);
            println!("the previous set is superseded: destroy its envelopes and record each with `glasskeep envelope destroyed`");
        }
        Command::Review {
            open_seq,
            verdict,
            notes,
        } => {
            let v = match verdict {
                args::Verdict::Justified => Verdict::Justified,
                args::Verdict::Unjustified => Verdict::Unjustified,
            };
            let mut op = console(cli);
            let review = ceremony::Review {
                open_seq: *open_seq,
                verdict: v,
                notes: notes.clone(),
            };
            let r = ceremony::review(dir, &mut cards, &mut op, &review, &[], now)?;
            println!("opening {open_seq} reviewed (entry {})", r.seq);
            print::anchor(&r.head);
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
        Command::Log(LogCommand::Checkpoint { custodians }) => {
            let mut op = console(cli);
            let r = ceremony::checkpoint(dir, &mut cards, &mut op, custodians, now)?;
            println!("checkpoint {} signed by {}", r.seq, r.cosigners.join(", "));
            print::anchor(&r.head);
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "glasskeep", &mut std::io::stdout());
        }
        Command::Man => print::man()?,
    }
    Ok(ExitCode::SUCCESS)
}

fn secret_kind(k: args::SecretKind) -> SecretKind {
    match k {
        args::SecretKind::Password => SecretKind::Password,
        args::SecretKind::Totp => SecretKind::Totp,
        args::SecretKind::RecoveryCodes => SecretKind::RecoveryCodes,
        args::SecretKind::File => SecretKind::File,
    }
}

/// The secret to seal: from stdin when it is not a terminal (a file's bytes are kept
/// verbatim, other kinds lose one trailing newline), else a no-echo prompt typed twice.
fn read_new_secret(kind: SecretKind) -> Result<SecretBytes, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        Ok(secret::prompt_secret("Secret to seal (not shown): ", true)?)
    } else {
        Ok(secret::read_secret(
            stdin.lock().by_ref(),
            kind != SecretKind::File,
        )?)
    }
}

fn load_all(paths: &[PathBuf]) -> Result<Vec<ceremony::EnvelopeFile>, CliError> {
    paths
        .iter()
        .map(|p| ceremony::load_envelope(p).map_err(CliError::from))
        .collect()
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
