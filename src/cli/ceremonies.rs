//! The ceremonies' glue: the commands that use custodians' YubiKeys. Left out of the
//! auditor's build (`--no-default-features`), which has no card layer at all.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use glasskeep::ceremony::{self, Operator, PcscCards};
use glasskeep::input::{self, PinReader, PinSource};
use glasskeep_core::log::{SecretKind, Verdict};
use glasskeep_core::piv::Slot;
use glasskeep_core::secret::{Pin, SecretBytes, SecretInputError};

use super::args::{self, CeremonyCommand, Cli, TokenCommand};
use super::{exit, print, CliError};

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

/// Runs one ceremony command.
pub(super) fn run(cli: &Cli, dir: &Path, cmd: &CeremonyCommand) -> Result<ExitCode, CliError> {
    let mut cards = PcscCards;
    let now = ceremony::now();
    match cmd {
        CeremonyCommand::Init { org, training } => {
            let r = ceremony::init(dir, org, *training, now)?;
            if *training {
                print::training_banner(dir);
            }
            println!("custody created in {}", dir.display());
            println!("custody id: {}", glasskeep_core::hex::encode(&r.custody_id));
            print::anchor(&r.head);
        }
        CeremonyCommand::Token(TokenCommand::List) => print::token_list()?,
        CeremonyCommand::Seal {
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
        CeremonyCommand::Open {
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
        CeremonyCommand::Drill { label, envelopes } => {
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
        CeremonyCommand::CheckShare { envelope } => {
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
        CeremonyCommand::Rotate {
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
        CeremonyCommand::Review {
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
    }
    Ok(ExitCode::SUCCESS)
}

/// `custodian enroll`.
pub(super) fn enroll(
    cli: &Cli,
    dir: &Path,
    name: &str,
    serial: &Option<u32>,
    seal_slot: &u8,
    force_overwrite: &bool,
) -> Result<(), CliError> {
    let mut cards = PcscCards;
    let now = ceremony::now();

    let slot = Slot::retired(*seal_slot).ok_or_else(|| {
        CliError::new(exit::USAGE, "--seal-slot must be a retired slot, 82 to 95")
    })?;
    let mut op = console(cli);
    let record = ceremony::enroll(
        dir,
        &mut cards,
        &mut op,
        &ceremony::EnrollRequest {
            name: name.to_owned(),
            serial: *serial,
            seal_slot: slot,
            overwrite: *force_overwrite,
        },
        now,
    )?;
    print::custodian(&record);
    print::anchor(&print::head(dir)?);
    Ok(())
}

/// `envelope destroyed`.
pub(super) fn destroyed(
    cli: &Cli,
    dir: &Path,
    fingerprint: &str,
    witnesses: &[String],
) -> Result<(), CliError> {
    let mut cards = PcscCards;
    let now = ceremony::now();

    let mut op = console(cli);
    let r = ceremony::destroyed(dir, &mut cards, &mut op, fingerprint, witnesses, &[], now)?;
    println!("envelope destruction recorded as entry {}", r.seq);
    print::anchor(&r.head);
    Ok(())
}

/// `log checkpoint`.
pub(super) fn checkpoint(cli: &Cli, dir: &Path, custodians: &[String]) -> Result<(), CliError> {
    let mut cards = PcscCards;
    let now = ceremony::now();

    let mut op = console(cli);
    let r = ceremony::checkpoint(dir, &mut cards, &mut op, custodians, now)?;
    println!("checkpoint {} signed by {}", r.seq, r.cosigners.join(", "));
    print::anchor(&r.head);
    Ok(())
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
        Ok(input::prompt_secret("Secret to seal (not shown): ", true)?)
    } else {
        Ok(glasskeep_core::secret::read_secret(
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
