//! The ceremonies' glue: the commands that use custodians' YubiKeys. Left out of the
//! auditor's build (`--no-default-features`), which has no card layer at all.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use glasskeep::ceremony::{self, CeremonyError, Operator, PcscCards, StartOptions};
use glasskeep::input::{self, PinReader, PinSource};
use glasskeep_core::log::{SecretKind, Verdict};
use glasskeep_core::piv::Slot;
use glasskeep_core::plan::{Act, ActKind};
use glasskeep_core::secret::{Pin, SecretBytes, SecretInputError};

use super::args::{self, CeremonyCommand, Common, TokenCommand};
use super::{doctor, exit, plans, print, reveal, CliError};

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

/// How the ceremony starts, once its plan (if any) was matched.
fn start(common: &Common, planned: &Planned) -> StartOptions {
    StartOptions {
        anchor: common.anchor.clone(),
        covering: false,
        wait: common.wait,
        plan: planned.sha256,
        allowed: doctor::allowed(common),
        dry_run: common.dry_run,
    }
}

/// The machine before a ceremony (`doctor`'s preflight); a dry run uses no reader and
/// skips it.
fn machine(dir: &Path, common: &Common) -> Result<(), CliError> {
    if common.dry_run {
        return Ok(());
    }
    doctor::preflight(dir, common)
}

/// What `--plan` settled before the ceremony.
#[derive(Default)]
struct Planned {
    /// The plan's SHA-256, for the checkpoint.
    sha256: Option<glasskeep_core::log::Hash>,
    /// The matched act's cosigners (witnesses for a destruction): who signs when the
    /// command names nobody.
    cosigners: Option<Vec<String>>,
}

/// An act as the command was typed, to match against the plan.
fn typed(kind: ActKind) -> Act {
    Act {
        kind: Some(kind),
        ..Act::default()
    }
}

fn named(list: &[String]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.to_vec())
}

/// With `--plan`: the plan read, for this custody and today (UTC), and the command one
/// of its acts — else refused before any card, with the field that differs.
fn under_plan(dir: &Path, common: &Common, act: &Act) -> Result<Planned, CliError> {
    let Some(file) = &common.plan else {
        return Ok(Planned::default());
    };
    let plan = plans::load(file)?;
    let state = ceremony::read_state(dir)?;
    let shown = glasskeep_core::text::escape(&file.display().to_string()).into_owned();
    let refused = |why: String| {
        CliError::new(
            exit::REFUSED,
            format!("--plan {shown}: {why}. Nothing was done"),
        )
    };
    let custody = state.custody().ok_or_else(|| CeremonyError::NoCustody {
        dir: dir.to_path_buf(),
    })?;
    plan.applies(
        &custody.custody_id,
        &custody.org,
        plans::today(ceremony::now()),
    )
    .map_err(refused)?;
    let i = plan.find_act(act).map_err(refused)?;
    let matched = &plan.acts[i];
    eprintln!(
        "  > under plan {} (SHA-256 {}): act {} of {}, {}",
        shown,
        glasskeep_core::hex::encode(&plan.sha256),
        i + 1,
        plan.acts.len(),
        matched.title()
    );
    Ok(Planned {
        sha256: Some(plan.sha256),
        cosigners: matched.cosigners.clone().or(matched.witnesses.clone()),
    })
}

/// The cosigners: the command's, else the plan's act's. A dry run uses no card, so it
/// cannot see whose YubiKeys are inserted: it needs them named.
fn cosigners_for(
    given: &[String],
    planned: &Planned,
    common: &Common,
) -> Result<Vec<String>, CliError> {
    let who = match (given.is_empty(), &planned.cosigners) {
        (true, Some(p)) => p.clone(),
        _ => given.to_vec(),
    };
    if common.dry_run && who.is_empty() {
        return Err(CliError::new(
            exit::USAGE,
            "--dry-run uses no card, so it cannot see whose YubiKeys are inserted: name the cosigners (--cosigners, or --custodians for log checkpoint), or run under --plan",
        ));
    }
    Ok(who)
}

/// No card at all: what a dry run gets. Nobody is inserted, and opening fails (a dry run
/// stops before any card would be opened).
struct NoCards;

impl ceremony::Cards for NoCards {
    fn open_for(
        &mut self,
        _serial: u32,
        _who: &str,
    ) -> Result<Box<dyn glasskeep_card::Token>, glasskeep_card::TokenError> {
        Err(glasskeep_card::TokenError::PcscUnavailable)
    }

    fn present(&mut self) -> Result<Vec<glasskeep_card::CardInfo>, glasskeep_card::TokenError> {
        Ok(Vec::new())
    }
}

/// The cards a ceremony reaches: the readers, or none for a dry run.
fn cards_for(common: &Common) -> Box<dyn ceremony::Cards> {
    if common.dry_run {
        Box::new(NoCards)
    } else {
        Box::new(PcscCards::default())
    }
}

/// A dry run's end: what it would have done, on standard output. `None` then; the
/// ceremony's result otherwise.
fn finished<T>(result: Result<T, CeremonyError>) -> Result<Option<T>, CliError> {
    match result {
        Err(CeremonyError::DryRun { summary }) => {
            println!("DRY RUN: nothing is written and no card is used\n");
            print!("{summary}");
            println!("\ndry run: nothing was written and no card was used");
            Ok(None)
        }
        Err(e) => Err(e.into()),
        Ok(r) => Ok(Some(r)),
    }
}

/// Runs one ceremony command.
pub(super) fn run(dir: &Path, cmd: &CeremonyCommand) -> Result<ExitCode, CliError> {
    // A sheet that could not be written afterwards is refused before anything else.
    let sheet_args = match cmd {
        CeremonyCommand::Init { sheet, .. } => Some(sheet),
        c => doctor::ceremony_common(c).map(|c| &c.sheet),
    };
    if let Some(a) = sheet_args {
        super::sheet::precheck(a)?;
    }
    let dry_run = doctor::ceremony_common(cmd).is_some_and(|c| c.dry_run);
    // Where an opened secret goes is settled before anything else: a wrong flag costs
    // neither an opening nor a look at the machine. A dry run reveals nothing.
    let open_plan = match cmd {
        CeremonyCommand::Open {
            output,
            stdout,
            qr,
            alarm_file,
            common,
            ..
        } if !dry_run => Some(reveal::plan(
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
    // the envelopes, then their plan. The other ceremonies hold their command against
    // their plan first, then check the machine. A dry run needs no reader.
    if let CeremonyCommand::Open { common, .. }
    | CeremonyCommand::Drill { common, .. }
    | CeremonyCommand::CheckShare { common, .. } = cmd
    {
        machine(dir, common)?;
    }
    let mut loaded = match cmd {
        CeremonyCommand::Open { envelopes, .. } | CeremonyCommand::Drill { envelopes, .. } => {
            load_all(envelopes)?
        }
        CeremonyCommand::CheckShare { envelope, .. } => vec![ceremony::load_envelope(envelope)?],
        _ => Vec::new(),
    };
    let whose: Vec<String> = loaded
        .iter()
        .map(|f| f.envelope.custodian.clone())
        .collect();
    let now = ceremony::now();
    let first_seq = super::sheet::next_seq(dir);
    match cmd {
        CeremonyCommand::Init {
            org,
            training,
            quorum,
            term,
            sheet: _,
        } => {
            let r = ceremony::init(dir, org, *training, *quorum, term.as_secs(), now)?;
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
            let planned = under_plan(
                dir,
                common,
                &Act {
                    label: Some(label.clone()),
                    threshold: u8::try_from(*threshold).ok(),
                    custodians: Some(custodians.clone()),
                    secret_kind: Some(kind),
                    cosigners: named(cosigners),
                    ..typed(ActKind::Seal)
                },
            )?;
            machine(dir, common)?;
            let req = ceremony::SealRequest {
                label: label.clone(),
                threshold: *threshold,
                custodians: custodians.clone(),
                kind,
                rotate_within: rotate_within.as_secs(),
                review_within: review_within.as_secs(),
                cosigners: cosigners_for(cosigners, &planned, common)?,
            };
            let mut op = console(common);
            let mut cards = cards_for(common);
            // Every check, quorum included, before the secret is typed.
            let ceremony = ceremony::begin_seal(
                dir,
                cards.as_mut(),
                &mut op,
                &start(common, &planned),
                &req,
                now,
            )?;
            if common.dry_run {
                finished(ceremony.dry_run())?;
                return Ok(ExitCode::SUCCESS);
            }
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
            let planned = under_plan(
                dir,
                common,
                &Act {
                    label: Some(label.clone()),
                    custodians: Some(whose.clone()),
                    reason: Some(reason.clone()),
                    incident: incident.clone(),
                    ..typed(ActKind::Open)
                },
            )?;
            let files = std::mem::take(&mut loaded);
            let mut op = console(common);
            let mut cards = cards_for(common);
            let Some((secret, r)) = finished(ceremony::open(
                dir,
                cards.as_mut(),
                &mut op,
                &start(common, &planned),
                &ceremony::OpenRequest {
                    label: label.clone(),
                    reason: reason.clone(),
                    incident: incident.clone().unwrap_or_default(),
                },
                &files,
                now,
            ))?
            else {
                return Ok(ExitCode::SUCCESS);
            };
            let Some(plan) = open_plan else {
                return Err(CliError::new(
                    exit::USAGE,
                    "internal: no plan for the secret",
                ));
            };
            reveal::alarm(&plan, &r)?;
            reveal::secret(&plan, &r, &secret)?;
        }
        CeremonyCommand::Drill {
            label,
            envelopes: _,
            common,
        } => {
            let planned = under_plan(
                dir,
                common,
                &Act {
                    label: Some(label.clone()),
                    custodians: Some(whose.clone()),
                    ..typed(ActKind::Drill)
                },
            )?;
            let files = std::mem::take(&mut loaded);
            let mut op = console(common);
            let mut cards = cards_for(common);
            let Some(r) = finished(ceremony::drill(
                dir,
                cards.as_mut(),
                &mut op,
                &start(common, &planned),
                label,
                &files,
                now,
            ))?
            else {
                return Ok(ExitCode::SUCCESS);
            };
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
            let planned = under_plan(
                dir,
                common,
                &Act {
                    label: Some(f.envelope.label.clone()),
                    custodians: Some(whose.clone()),
                    ..typed(ActKind::CheckShare)
                },
            )?;
            let mut op = console(common);
            let mut cards = cards_for(common);
            let Some(r) = finished(ceremony::check_share(
                dir,
                cards.as_mut(),
                &mut op,
                &start(common, &planned),
                &f,
                now,
            ))?
            else {
                return Ok(ExitCode::SUCCESS);
            };
            println!(
                "share check passed for {} (entry {}); nothing was revealed",
                r.cosigners.join(", "),
                r.seq
            );
            print::acknowledgement(dir, &f.fingerprint.0, r.seq)?;
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
            let planned = under_plan(
                dir,
                common,
                &Act {
                    label: Some(label.clone()),
                    threshold: threshold.map(|t| u8::try_from(t).unwrap_or(0)),
                    custodians: custodians.clone(),
                    secret_kind: kind.map(secret_kind),
                    cosigners: named(cosigners),
                    ..typed(ActKind::Rotate)
                },
            )?;
            machine(dir, common)?;
            let mut op = console(common);
            let rot = ceremony::RotateRequest {
                label: label.clone(),
                custodians: custodians.clone(),
                threshold: *threshold,
                kind: kind.map(secret_kind),
                review_within: review_within.map(|d| d.as_secs()),
                cosigners: cosigners_for(cosigners, &planned, common)?,
            };
            let mut cards = cards_for(common);
            // Every check, quorum included, before the new secret is typed.
            let ceremony = ceremony::begin_rotate(
                dir,
                cards.as_mut(),
                &mut op,
                &start(common, &planned),
                &rot,
                now,
            )?;
            if common.dry_run {
                finished(ceremony.dry_run())?;
                return Ok(ExitCode::SUCCESS);
            }
            let secret = read_new_secret(ceremony.kind())?;
            let r = ceremony.seal(&secret)?;
            drop(secret);
            print::sealed(&r);
            println!("the new set is pending: the previous set stays live until each new custodian runs `glasskeep check-share` on their new envelope (or a quorum runs `glasskeep activate`); only then destroy the old envelopes");
        }
        CeremonyCommand::Activate {
            label,
            cosigners,
            common,
        } => {
            let planned = under_plan(
                dir,
                common,
                &Act {
                    label: Some(label.clone()),
                    cosigners: named(cosigners),
                    ..typed(ActKind::Activate)
                },
            )?;
            machine(dir, common)?;
            let cosigners = cosigners_for(cosigners, &planned, common)?;
            let mut op = console(common);
            let mut cards = cards_for(common);
            let Some(r) = finished(ceremony::activate(
                dir,
                cards.as_mut(),
                &mut op,
                &start(common, &planned),
                label,
                &cosigners,
                now,
            ))?
            else {
                return Ok(ExitCode::SUCCESS);
            };
            println!("the new set of {label} is active (entry {}): destroy the old envelopes and record each with `glasskeep envelope destroyed`", r.seq);
            print::anchor(&r.head);
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
            let planned = under_plan(
                dir,
                common,
                &Act {
                    open: Some(*open_seq),
                    verdict: Some(v),
                    cosigners: named(cosigners),
                    ..typed(ActKind::Review)
                },
            )?;
            machine(dir, common)?;
            let cosigners = cosigners_for(cosigners, &planned, common)?;
            let mut op = console(common);
            let mut cards = cards_for(common);
            let review = ceremony::Review {
                open_seq: *open_seq,
                verdict: v,
                notes: notes.clone(),
            };
            let Some(r) = finished(ceremony::review(
                dir,
                cards.as_mut(),
                &mut op,
                &start(common, &planned),
                &review,
                &cosigners,
                now,
            ))?
            else {
                return Ok(ExitCode::SUCCESS);
            };
            println!("opening {open_seq} reviewed (entry {})", r.seq);
            print::anchor(&r.head);
        }
    }
    if let Some(a) = sheet_args {
        let stdout_secret = matches!(cmd, CeremonyCommand::Open { .. });
        super::sheet::after(dir, a, first_seq, stdout_secret)?;
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
    super::sheet::precheck(&a.common.sheet)?;
    let first_seq = super::sheet::next_seq(dir);
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
    if a.common.dry_run && a.serials.is_empty() {
        return Err(CliError::new(
            exit::USAGE,
            "--dry-run uses no card, so it cannot see which YubiKey is inserted: give --serial",
        ));
    }
    let planned = under_plan(
        dir,
        a.common,
        &Act {
            custodians: Some(a.names.to_vec()),
            serials: named_serials(a.serials),
            cosigners: named(a.cosigners),
            ..typed(ActKind::Enroll)
        },
    )?;
    machine(dir, a.common)?;
    // The first custodians of a custody have no earlier cosigners: an empty list stays
    // empty (cards are then detected, or none in a dry run).
    let cosigners = match (a.cosigners.is_empty(), &planned.cosigners) {
        (true, Some(p)) => p.clone(),
        _ => a.cosigners.to_vec(),
    };
    let mut custodians = Vec::with_capacity(a.names.len());
    for (i, name) in a.names.iter().enumerate() {
        let management_key = if a.type_management_key && !a.common.dry_run {
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
    let mut cards = cards_for(a.common);
    let Some(records) = finished(ceremony::enroll(
        dir,
        cards.as_mut(),
        &mut op,
        &start(a.common, &planned),
        &ceremony::EnrollRequest {
            custodians,
            cosigners,
            accept_firmware_risk: a.accept_firmware_risk,
        },
        now,
    ))?
    else {
        return Ok(());
    };
    for r in &records {
        print::custodian(r);
    }
    print::anchor(&print::head(dir)?);
    super::sheet::after(dir, &a.common.sheet, first_seq, false)
}

fn named_serials(serials: &[u32]) -> Option<Vec<u32>> {
    (!serials.is_empty()).then(|| serials.to_vec())
}

/// `custodian retire`.
pub(super) fn retire(
    dir: &Path,
    name: &str,
    reason: &str,
    cosigners: &[String],
    common: &Common,
) -> Result<(), CliError> {
    super::sheet::precheck(&common.sheet)?;
    let planned = under_plan(
        dir,
        common,
        &Act {
            name: Some(name.to_owned()),
            reason: Some(reason.to_owned()),
            cosigners: named(cosigners),
            ..typed(ActKind::Retire)
        },
    )?;
    machine(dir, common)?;
    let cosigners = cosigners_for(cosigners, &planned, common)?;
    let first_seq = super::sheet::next_seq(dir);
    let now = ceremony::now();
    let mut op = console(common);
    let mut cards = cards_for(common);
    let Some(r) = finished(ceremony::retire(
        dir,
        cards.as_mut(),
        &mut op,
        &start(common, &planned),
        name,
        reason,
        &cosigners,
        now,
    ))?
    else {
        return Ok(());
    };
    println!(
        "{name} retired (entry {}); every live set that includes them must now be rotated",
        r.seq
    );
    print::anchor(&r.head);
    super::sheet::after(dir, &common.sheet, first_seq, false)
}

/// `envelope destroyed`.
pub(super) fn destroyed(
    dir: &Path,
    fingerprint: &str,
    witnesses: &[String],
    common: &Common,
) -> Result<(), CliError> {
    super::sheet::precheck(&common.sheet)?;
    let planned = under_plan(
        dir,
        common,
        &Act {
            fingerprint: Some(
                fingerprint
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_lowercase(),
            ),
            witnesses: named(witnesses),
            ..typed(ActKind::Destroyed)
        },
    )?;
    machine(dir, common)?;
    let first_seq = super::sheet::next_seq(dir);
    let now = ceremony::now();
    let mut op = console(common);
    let mut cards = cards_for(common);
    let Some(r) = finished(ceremony::destroyed(
        dir,
        cards.as_mut(),
        &mut op,
        &start(common, &planned),
        fingerprint,
        witnesses,
        now,
    ))?
    else {
        return Ok(());
    };
    println!("envelope destruction recorded as entry {}", r.seq);
    print::anchor(&r.head);
    super::sheet::after(dir, &common.sheet, first_seq, false)
}

/// `log checkpoint`.
pub(super) fn checkpoint(
    dir: &Path,
    custodians: &[String],
    common: &Common,
) -> Result<(), CliError> {
    super::sheet::precheck(&common.sheet)?;
    let planned = under_plan(
        dir,
        common,
        &Act {
            cosigners: named(custodians),
            ..typed(ActKind::Checkpoint)
        },
    )?;
    machine(dir, common)?;
    let custodians = cosigners_for(custodians, &planned, common)?;
    let first_seq = super::sheet::next_seq(dir);
    let now = ceremony::now();
    let mut op = console(common);
    let mut cards = cards_for(common);
    let Some(r) = finished(ceremony::checkpoint(
        dir,
        cards.as_mut(),
        &mut op,
        &start(common, &planned),
        &custodians,
        now,
    ))?
    else {
        return Ok(());
    };
    println!("checkpoint {} signed by {}", r.seq, r.cosigners.join(", "));
    print::anchor(&r.head);
    super::sheet::after(dir, &common.sheet, first_seq, false)
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
