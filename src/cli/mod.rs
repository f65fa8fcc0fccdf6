//! Per-command glue: read inputs (never secrets from argv or env), call the library,
//! print. No cryptography here.

pub mod args;
#[cfg(feature = "card")]
mod ceremonies;
#[cfg(feature = "card")]
mod doctor;
mod documents;
#[cfg(feature = "card")]
mod interrupt;
mod plans;
mod print;
mod reveal;
mod sheet;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use glasskeep::ceremony::{self, CeremonyError, EnvelopeIncident};
use glasskeep::input;
use glasskeep_core::secret::{self, SecretInputError};

use args::{Cli, Command, CustodianCommand, EnvelopeCommand, LogCommand, PlanCommand};

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
    /// `--strict` `log verify` / `status`: verified, with work still within its window.
    pub const PENDING: u8 = 11;
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

/// Whether `cmd` is a ceremony: one that may append to the log and use YubiKeys.
#[cfg(feature = "card")]
fn is_ceremony(cmd: &Command) -> bool {
    match cmd {
        Command::Ceremony(c) => doctor::ceremony_common(c).is_some(),
        Command::Custodian(CustodianCommand::Enroll { .. } | CustodianCommand::Retire { .. })
        | Command::Envelope(EnvelopeCommand::Destroyed { .. })
        | Command::Log(LogCommand::Checkpoint { .. }) => true,
        _ => false,
    }
}

/// `glasskeep --version`: the version, and the SHA-256 of the running binary (read from
/// `/proc/self/exe`) — the same digest `init` records in the genesis entry.
pub fn print_version() -> ExitCode {
    let digest = match ceremony::binary_digest() {
        Ok(digest) => digest,
        Err(e) => {
            eprintln!("glasskeep: {e}");
            return ExitCode::from(exit::INPUT);
        }
    };
    let text = format!(
        "glasskeep {}\nbinary sha256 {}\n",
        env!("CARGO_PKG_VERSION"),
        glasskeep_core::hex::encode(&digest)
    );
    // A closed pipe (`glasskeep --version | head -1`) is not worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    // Before anything could read a secret or a PIN: no core dumps.
    let h = input::harden_process();
    if !h.core_limit_zero || !h.not_dumpable {
        eprintln!("warning: could not disable core dumps; a crash could write memory to disk");
    }
    let dir = custody_dir(&cli);
    #[cfg_attr(not(feature = "card"), allow(unused_mut))]
    let mut result = dispatch(&cli, &dir);
    // A ceremony that fails says, last, what it left behind.
    #[cfg(feature = "card")]
    if let Err(e) = &mut result {
        if is_ceremony(&cli.command) && e.code != exit::USAGE {
            e.message.push('\n');
            e.message
                .push_str(&glasskeep::abort::message(&glasskeep::abort::current()));
        }
    }
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
    let quiet = matches!(
        cli.command,
        Command::Completions { .. } | Command::Man | Command::Runbook { .. }
    );
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
        Command::Status { json, strict } => {
            return print::status_command(dir, now, *json, *strict);
        }
        Command::Log(LogCommand::Verify {
            anchor,
            json,
            policy,
            strict,
            training,
            now: given,
        }) => {
            let (now, now_given) = given_now(*given, now);
            return print::verify(
                dir,
                anchor.as_deref(),
                *json,
                print::VerifyFlags {
                    lenient: *policy == args::Policy::Lenient,
                    strict: *strict,
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
            let (now, now_given) = given_now(*given, now);
            let opts = glasskeep_core::log::VerifyOptions {
                anchor: None,
                now: Some(now),
                lenient: false,
                training: *training,
                now_given,
                strict: false,
            };
            print::show(dir, *format, &opts, output.as_deref())?
        }
        Command::Log(LogCommand::Sheet {
            file,
            from,
            paper,
            witnesses,
        }) => sheet::log_sheet(dir, file, *from, *paper, witnesses)?,
        Command::Plan(PlanCommand::Check { file }) => return plans::check(dir, file, now),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "glasskeep", &mut std::io::stdout());
        }
        Command::Man => print::man()?,
        Command::RecoveryKit { folder, paper } => {
            documents::recovery_kit(dir, folder, *paper, now)?
        }
        Command::Runbook {
            name,
            format,
            paper,
            output,
        } => documents::runbook(name.as_deref(), *format, *paper, output.as_deref())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `--now` as Unix seconds and whether it was given; this machine's clock otherwise.
fn given_now(given: Option<std::time::SystemTime>, clock: u64) -> (u64, bool) {
    match given {
        Some(t) => (
            t.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            true,
        ),
        None => (clock, false),
    }
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

#[cfg(all(test, feature = "card"))]
mod refusal_tests {
    //! Every refusal a ceremony can end with, as the person at the safe reads it, with
    //! its exit code: reviewed once, then held still by a snapshot.

    use super::*;
    use glasskeep::ceremony::{EnvelopeIncident, FingerprintError};
    use glasskeep_card::TokenError;

    fn fp() -> (String, String) {
        ("3f9a1c0e5b7d2a44".into(), "3f9a1c0e5b7d2a44".repeat(4))
    }

    #[test]
    fn every_refusal_says_what_happened_and_what_to_do() {
        let (short, fingerprint) = fp();
        let card = |source| CeremonyError::Card {
            custodian: "alice".into(),
            serial: 1001,
            source,
        };
        let cases: Vec<(&str, CeremonyError)> = vec![
            (
                "no custody",
                CeremonyError::NoCustody {
                    dir: "/media/custody".into(),
                },
            ),
            (
                "unverified",
                CeremonyError::Unverified {
                    seq: Some(7),
                    class: "signature".into(),
                    detail: "checkpoint 7: bob's signature does not verify".into(),
                },
            ),
            ("uncovered", CeremonyError::Uncovered { from: 8, to: 9 }),
            ("anchor needed", CeremonyError::AnchorNeeded),
            (
                "anchor too short",
                CeremonyError::AnchorTooShort { digits: 8 },
            ),
            (
                "anchor mismatch",
                CeremonyError::AnchorMismatch {
                    given: "0123456789abcdef".into(),
                    head: "fedcba9876543210".repeat(4),
                },
            ),
            (
                "quorum",
                CeremonyError::Quorum {
                    kind: "open",
                    need: "2 of the set's custodians (alice, bob, carol)".into(),
                    signers: vec!["alice".into()],
                },
            ),
            ("declined", CeremonyError::Declined),
            ("wrong PIN", card(TokenError::WrongPin { retries_left: 2 })),
            ("PIN blocked", card(TokenError::PinBlocked)),
            ("touch", card(TokenError::TouchTimeout)),
            (
                "wrong key",
                card(TokenError::WrongCard {
                    expected: 1001,
                    who: Some("alice".into()),
                    found: vec![1002],
                }),
            ),
            ("pcscd", CeremonyError::Cards(TokenError::PcscUnavailable)),
            (
                "no key",
                CeremonyError::NoKey {
                    custodian: "bob".into(),
                    serial: 1002,
                    waited: 600,
                },
            ),
            (
                "last PIN try",
                CeremonyError::LastPinTry {
                    custodian: "bob".into(),
                    serial: 1002,
                },
            ),
            (
                "unknown label",
                CeremonyError::UnknownLabel {
                    label: "aws-root".into(),
                },
            ),
            (
                "label taken",
                CeremonyError::LabelTaken {
                    label: "aws-root".into(),
                },
            ),
            (
                "set pending",
                CeremonyError::SetPending {
                    short: short.clone(),
                    label: "aws-root".into(),
                    set: "29ea7888bd0c61d3e42c5950167dd300".into(),
                    waiting_for: vec!["bob".into(), "carol".into()],
                },
            ),
            (
                "rotation pending",
                CeremonyError::RotationPending {
                    label: "aws-root".into(),
                    set: "29ea7888bd0c61d3e42c5950167dd300".into(),
                    waiting_for: vec!["carol".into()],
                },
            ),
            (
                "nothing pending",
                CeremonyError::NothingPending {
                    label: "aws-root".into(),
                },
            ),
            (
                "activate unproven",
                CeremonyError::ActivateUnproven {
                    label: "aws-root".into(),
                    set: "29ea7888bd0c61d3e42c5950167dd300".into(),
                    acknowledged: 1,
                    threshold: 2,
                },
            ),
            (
                "not enrolled",
                CeremonyError::NotEnrolled {
                    name: "mallory".into(),
                },
            ),
            (
                "named twice",
                CeremonyError::NamedTwice {
                    name: "alice".into(),
                },
            ),
            (
                "threshold",
                CeremonyError::Threshold {
                    threshold: 1,
                    custodians: 3,
                },
            ),
            (
                "incident: destroyed",
                CeremonyError::Incident(EnvelopeIncident::Destroyed {
                    short: short.clone(),
                    fingerprint: fingerprint.clone(),
                    seq: 14,
                }),
            ),
            (
                "incident: superseded",
                CeremonyError::Incident(EnvelopeIncident::Superseded {
                    short: short.clone(),
                    fingerprint: fingerprint.clone(),
                    set: "29ea7888bd0c61d3e42c5950167dd300".into(),
                    label: "aws-root".into(),
                }),
            ),
            (
                "incident: not logged",
                CeremonyError::Incident(EnvelopeIncident::NotLogged {
                    short: short.clone(),
                    fingerprint: fingerprint.clone(),
                }),
            ),
            (
                "incident: other credential",
                CeremonyError::Incident(EnvelopeIncident::OtherCredential {
                    short: short.clone(),
                    fingerprint: fingerprint.clone(),
                    label: "gcp-root".into(),
                    wanted: "aws-root".into(),
                }),
            ),
            (
                "incident: twice",
                CeremonyError::Incident(EnvelopeIncident::Twice {
                    custodian: "alice".into(),
                }),
            ),
            (
                "incident: tampered",
                CeremonyError::Incident(EnvelopeIncident::Tampered {
                    custodian: "bob".into(),
                    what: "its payload differs from the one the log records".into(),
                }),
            ),
            (
                "incident: seal not covered",
                CeremonyError::Incident(EnvelopeIncident::SealNotCovered {
                    label: "aws-root".into(),
                }),
            ),
            (
                "fingerprint too short",
                CeremonyError::Fingerprint(FingerprintError::TooShort),
            ),
            (
                "fingerprint ambiguous",
                CeremonyError::Fingerprint(FingerprintError::Ambiguous("3f9a".into(), 2)),
            ),
            ("randomness", CeremonyError::Randomness),
        ];
        let mut out = String::new();
        for (what, e) in cases {
            let cli = CliError::from(e);
            out.push_str(&format!("{what} [exit {}]\n  {cli}\n", cli.code));
        }
        insta::assert_snapshot!(out);
    }
}
