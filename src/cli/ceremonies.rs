//! The ceremonies' glue: the commands that use custodians' YubiKeys. Left out of the
//! auditor's build (`--no-default-features`), which has no card layer at all.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use glasskeep::ceremony::{self, Operator, PcscCards, StartOptions};
use glasskeep::input::{self, PinReader, PinSource};
use glasskeep_core::log::{SecretKind, Verdict};
use glasskeep_core::piv::Slot;
use glasskeep_core::secret::{Pin, SecretBytes, SecretInputError};

use super::args::{self, CeremonyCommand, Common, TokenCommand};
use super::{doctor, exit, print, reveal, CliError};

/// Talks to the people at the safe on stderr; PINs from the prompt or the PIN file;
/// confirmations and the paper anchor from the terminal.
struct Console {
    pins: PinReader,
    yes: bool,
    /// PINs are typed by people at a terminal: mistakes may be retried.
    people: bool,
}

impl Operator for Console {
    fn notice(&self, message: &str) {
        eprintln!("  > {message}");
    }

    fn pin(
        &mut self,
        custodian: &str,
        serial: u32,
        retries_left: u8,
    ) -> Result<Pin, SecretInputError> {
        let tries = if retries_left < 3 {
            format!(
                ", {retries_left} tr{} left",
                if retries_left == 1 { "y" } else { "ies" }
            )
        } else {
            String::new()
        };
        self.pins
            .next_pin(&format!("{custodian} (YubiKey {serial}{tries})"))
    }

    fn interactive(&self) -> bool {
        self.people
    }

    fn ask(&mut self, question: &str, default: bool) -> Result<bool, SecretInputError> {
        match input::ask_line(question)? {
            Some(a) => {
                let a = a.trim();
                Ok(if a.is_empty() {
                    default
                } else {
                    a.eq_ignore_ascii_case("yes") || a.eq_ignore_ascii_case("y")
                })
            }
            None => Ok(false),
        }
    }

    fn confirm(&mut self, summary: &str) -> Result<bool, SecretInputError> {
        eprintln!();
        for line in summary.lines() {
            eprintln!("  | {line}");
        }
        eprintln!();
        if self.yes {
            eprintln!("  > confirmed by --yes");
            return Ok(true);
        }
        match input::ask_line("Type yes to record this and sign it: ")? {
            Some(answer) => Ok(answer.trim().eq_ignore_ascii_case("yes")),
            None => {
                eprintln!("  > no terminal to confirm on: pass --yes for a scripted ceremony");
                Ok(false)
            }
        }
    }

    fn anchor(&mut self) -> Result<Option<String>, SecretInputError> {
        if self.yes {
            return Ok(None);
        }
        let typed = input::ask_line(
            "Head hash from the last ceremony sheet (at least 16 hex digits; empty if none): ",
        )?;
        Ok(typed.filter(|t| !t.trim().is_empty()))
    }
}

fn console(common: &Common) -> Console {
    let source = match (&common.pin_file, common.pin_fd) {
        (Some(f), _) => PinSource::File(f.clone()),
        (None, Some(fd)) => PinSource::Fd(fd),
        (None, None) => PinSource::Prompt,
    };
    let people = source == PinSource::Prompt && input::has_terminal();
    // From here on an interrupt ends the ceremony with what was (not) recorded.
    static INTERRUPTS: std::sync::Once = std::sync::Once::new();
    INTERRUPTS.call_once(|| {
        if let Err(e) = super::interrupt::install() {
            eprintln!("warning: Ctrl-C handling could not be set up ({e}); an interrupt still records nothing");
        }
    });
    Console {
        pins: PinReader::new(source),
        yes: common.yes,
        people,
    }
}

fn start(common: &Common) -> StartOptions {
    StartOptions {
        anchor: common.anchor.clone(),
        covering: false,
        wait: common.wait,
    }
}

/// Runs one ceremony command.
pub(super) fn run(dir: &Path, cmd: &CeremonyCommand) -> Result<ExitCode, CliError> {
    // Where an opened secret goes is settled before anything else: a wrong flag costs
    // neither an opening nor a look at the machine.
    let open_plan = match cmd {
        CeremonyCommand::Open {
            output,
            stdout,
            qr,
            alarm_file,
            common,
            ..
        } => Some(reveal::plan(
            reveal::Wanted {
                output: output.as_deref(),
                stdout: *stdout,
                qr: *qr,
                alarm_file: alarm_file.as_deref(),
                yes: common.yes,
            },
            std::io::stdout().is_terminal(),
        )?),
        _ => None,
    };
    // Then the machine (pcscd, network, scripted PINs on a production custody), then
    // the envelopes.
    if let Some(common) = doctor::ceremony_common(cmd) {
        doctor::preflight(dir, common)?;
    }
    let mut loaded = match cmd {
        CeremonyCommand::Open { envelopes, .. } | CeremonyCommand::Drill { envelopes, .. } => {
            load_all(envelopes)?
        }
        CeremonyCommand::CheckShare { envelope, .. } => vec![ceremony::load_envelope(envelope)?],
        _ => Vec::new(),
    };
    let mut cards = PcscCards::default();
    let now = ceremony::now();
    match cmd {
        CeremonyCommand::Init {
            org,
            training,
            quorum,
        } => {
            let r = ceremony::init(dir, org, *training, *quorum, now)?;
            if *training {
                print::training_banner(dir);
            }
            println!("custody created in {}", dir.display());
            println!("custody id: {}", glasskeep_core::hex::encode(&r.custody_id));
            print::anchor(&r.head);
        }
        CeremonyCommand::Token(TokenCommand::List) => print::token_list()?,
        CeremonyCommand::Doctor { json } => return doctor::run(dir, *json),
        CeremonyCommand::Seal {
            label,
            threshold,
            custodians,
            kind,
            rotate_within,
            review_within,
            cosigners,
            common,
        } => {
            let kind = secret_kind(*kind);
            let req = ceremony::SealRequest {
                label: label.clone(),
                threshold: *threshold,
                custodians: custodians.clone(),
                kind,
                rotate_within: rotate_within.as_secs(),
                review_within: review_within.as_secs(),
                cosigners: cosigners.clone(),
            };
            let mut op = console(common);
            // Every check, quorum included, before the secret is typed.
            let ceremony =
                ceremony::begin_seal(dir, &mut cards, &mut op, &start(common), &req, now)?;
            let secret = read_new_secret(kind)?;
            let r = ceremony.seal(&secret)?;
            drop(secret);
            print::sealed(&r);
        }
        CeremonyCommand::Open {
            label,
            reason,
            incident,
            envelopes: _,
            common,
            ..
        } => {
            let Some(plan) = open_plan else {
                return Err(CliError::new(
                    exit::USAGE,
                    "internal: no plan for the secret",
                ));
            };
            let files = std::mem::take(&mut loaded);
            let mut op = console(common);
            let (secret, r) = ceremony::open(
                dir,
                &mut cards,
                &mut op,
                &start(common),
                &ceremony::OpenRequest {
                    label: label.clone(),
                    reason: reason.clone(),
                    incident: incident.clone().unwrap_or_default(),
                },
                &files,
                now,
            )?;
            reveal::alarm(&plan, &r)?;
            reveal::secret(&plan, &r, &secret)?;
        }
        CeremonyCommand::Drill {
            label,
            envelopes: _,
            common,
        } => {
            let files = std::mem::take(&mut loaded);
            let mut op = console(common);
            let r = ceremony::drill(dir, &mut cards, &mut op, &start(common), label, &files, now)?;
            println!(
                "drill passed: {label} reconstructs with {} (entry {}); nothing was revealed",
                r.cosigners.join(", "),
                r.seq
            );
            print::anchor(&r.head);
        }
        CeremonyCommand::CheckShare { common, .. } => {
            let Some(f) = loaded.pop() else {
                return Err(CliError::new(exit::INPUT, "no envelope was read"));
            };
            let mut op = console(common);
            let r = ceremony::check_share(dir, &mut cards, &mut op, &start(common), &f, now)?;
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
            kind,
            review_within,
            cosigners,
            common,
        } => {
            let mut op = console(common);
            let rot = ceremony::RotateRequest {
                label: label.clone(),
                custodians: custodians.clone(),
                threshold: *threshold,
                kind: kind.map(secret_kind),
                review_within: review_within.map(|d| d.as_secs()),
                cosigners: cosigners.clone(),
            };
            // Every check, quorum included, before the new secret is typed.
            let ceremony =
                ceremony::begin_rotate(dir, &mut cards, &mut op, &start(common), &rot, now)?;
            let secret = read_new_secret(ceremony.kind())?;
            let r = ceremony.seal(&secret)?;
            drop(secret);
            print::sealed(&r);
            println!("the previous set is superseded: destroy its envelopes and record each with `glasskeep envelope destroyed`");
        }
        CeremonyCommand::Review {
            open_seq,
            verdict,
            notes,
            cosigners,
            common,
        } => {
            let v = match verdict {
                args::Verdict::Justified => Verdict::Justified,
                args::Verdict::Unjustified => Verdict::Unjustified,
            };
            let mut op = console(common);
            let review = ceremony::Review {
                open_seq: *open_seq,
                verdict: v,
                notes: notes.clone(),
            };
            let r = ceremony::review(
                dir,
                &mut cards,
                &mut op,
                &start(common),
                &review,
                cosigners,
                now,
            )?;
            println!("opening {open_seq} reviewed (entry {})", r.seq);
            print::anchor(&r.head);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What `custodian enroll` was given.
pub(super) struct EnrollArgs<'a> {
    pub names: &'a [String],
    pub serials: &'a [u32],
    pub seal_slot: u8,
    pub force_overwrite: bool,
    pub accept_firmware_risk: bool,
    pub type_management_key: bool,
    pub cosigners: &'a [String],
    pub common: &'a Common,
}

/// `custodian enroll`.
pub(super) fn enroll(dir: &Path, a: EnrollArgs<'_>) -> Result<(), CliError> {
    doctor::preflight(dir, a.common)?;
    let mut cards = PcscCards::default();
    let now = ceremony::now();
    let slot = Slot::retired(a.seal_slot).ok_or_else(|| {
        CliError::new(exit::USAGE, "--seal-slot must be a retired slot, 82 to 95")
    })?;
    if !a.serials.is_empty() && a.serials.len() != a.names.len() {
        return Err(CliError::new(
            exit::USAGE,
            "give one --serial for each --name, in the same order",
        ));
    }
    let mut custodians = Vec::with_capacity(a.names.len());
    for (i, name) in a.names.iter().enumerate() {
        let management_key = if a.type_management_key {
            let typed = input::prompt_secret(
                &format!("{name}: the YubiKey's management key, hex (not shown): "),
                false,
            )?;
            // The typed key is a secret: its text form is wiped too.
            let text =
                zeroize::Zeroizing::new(String::from_utf8_lossy(typed.expose()).into_owned());
            let key = glasskeep_card::enroll::management_key_from_hex(&text)
                .map_err(|e| CliError::new(exit::INPUT, e.to_string()))?;
            Some(key)
        } else {
            None
        };
        custodians.push(ceremony::NewCustodian {
            name: name.clone(),
            serial: a.serials.get(i).copied(),
            seal_slot: slot,
            overwrite: a.force_overwrite,
            management_key,
        });
    }
    let mut op = console(a.common);
    let records = ceremony::enroll(
        dir,
        &mut cards,
        &mut op,
        &start(a.common),
        &ceremony::EnrollRequest {
            custodians,
            cosigners: a.cosigners.to_vec(),
            accept_firmware_risk: a.accept_firmware_risk,
        },
        now,
    )?;
    for r in &records {
        print::custodian(r);
    }
    print::anchor(&print::head(dir)?);
    Ok(())
}

/// `custodian retire`.
pub(super) fn retire(
    dir: &Path,
    name: &str,
    reason: &str,
    cosigners: &[String],
    common: &Common,
) -> Result<(), CliError> {
    doctor::preflight(dir, common)?;
    let mut cards = PcscCards::default();
    let now = ceremony::now();
    let mut op = console(common);
    let r = ceremony::retire(
        dir,
        &mut cards,
        &mut op,
        &start(common),
        name,
        reason,
        cosigners,
        now,
    )?;
    println!(
        "{name} retired (entry {}); every live set that includes them must now be rotated",
        r.seq
    );
    print::anchor(&r.head);
    Ok(())
}

/// `envelope destroyed`.
pub(super) fn destroyed(
    dir: &Path,
    fingerprint: &str,
    witnesses: &[String],
    common: &Common,
) -> Result<(), CliError> {
    doctor::preflight(dir, common)?;
    let mut cards = PcscCards::default();
    let now = ceremony::now();
    let mut op = console(common);
    let r = ceremony::destroyed(
        dir,
        &mut cards,
        &mut op,
        &start(common),
        fingerprint,
        witnesses,
        now,
    )?;
    println!("envelope destruction recorded as entry {}", r.seq);
    print::anchor(&r.head);
    Ok(())
}

/// `log checkpoint`.
pub(super) fn checkpoint(
    dir: &Path,
    custodians: &[String],
    common: &Common,
) -> Result<(), CliError> {
    doctor::preflight(dir, common)?;
    let mut cards = PcscCards::default();
    let now = ceremony::now();
    let mut op = console(common);
    let r = ceremony::checkpoint(dir, &mut cards, &mut op, &start(common), custodians, now)?;
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
