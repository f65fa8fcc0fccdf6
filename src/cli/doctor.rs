//! `glasskeep doctor`'s printing, and the preflight the ceremony glue runs before every
//! ceremony. The checks live in `glasskeep::ceremony::doctor`; every string they return
//! is already escaped for a terminal.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use glasskeep::ceremony::doctor::{self, Check, DoctorReport, Finding, Outcome, Severity};
use glasskeep::ceremony::{self};
use glasskeep_card::Tries;

use super::args::{CeremonyCommand, Common};
use super::{exit, CliError};

/// `glasskeep doctor [--json]`.
pub(super) fn run(dir: &Path, json: bool) -> Result<ExitCode, CliError> {
    let report = doctor::doctor(dir, ceremony::now());
    if json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::new(exit::REFUSED, format!("cannot write the report: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", render(&report));
    }
    Ok(ExitCode::from(match doctor::outcome(&report.findings) {
        Outcome::Clean => 0,
        Outcome::CardFailure => exit::CARD,
        Outcome::Failure => exit::REFUSED,
    }))
}

fn tries(what: &str, t: Option<Tries>, unknown: &str) -> String {
    match t {
        Some(Tries {
            left,
            total: Some(total),
        }) => format!("{what} {left}/{total} tries left"),
        Some(Tries { left, total: None }) => format!("{what} {left} tries left"),
        None => format!("{what} tries {unknown}"),
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "[ok]  ",
        Severity::Warn => "[warn]",
        Severity::Fail => "[FAIL]",
    }
}

/// The readable report: custody, readers, then every finding with what to do.
fn render(r: &DoctorReport) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    match &r.custody {
        Some(c) => {
            let _ = writeln!(
                out,
                "custody: {}{}, {} entries, last entry {}",
                c.org,
                if c.training { " (TRAINING)" } else { "" },
                c.entries,
                c.last_entry
            );
        }
        None => out.push_str("custody: none in this folder\n"),
    }
    out.push_str("readers:\n");
    if r.readers.is_empty() {
        out.push_str("  (none)\n");
    }
    for l in &r.readers {
        let _ = write!(out, "  {}: ", l.reader);
        match (&l.card, l.state) {
            (Some(c), _) => {
                let _ = write!(out, "YubiKey {}", c.serial);
                match (&l.custodian, l.retired) {
                    (Some(name), false) => {
                        let _ = write!(out, " ({name})");
                    }
                    (Some(name), true) => {
                        let _ = write!(out, " ({name}, retired)");
                    }
                    (None, _) if r.custody.is_some() => out.push_str(" (not enrolled here)"),
                    (None, _) => {}
                }
                let _ = write!(
                    out,
                    ", firmware {}, {}, {}",
                    c.firmware,
                    tries("PIN", c.pin, "unknown"),
                    tries("PUK", c.puk, "unknown (firmware before 5.3)")
                );
                if c.pin_default == Some(true) {
                    out.push_str(", factory PIN");
                }
                out.push('\n');
            }
            (None, "busy") => out.push_str("held by another process\n"),
            (None, "unusable") => {
                let _ = writeln!(
                    out,
                    "unusable card ({})",
                    l.reason.as_deref().unwrap_or("unknown")
                );
            }
            (None, _) => out.push_str("no card\n"),
        }
    }
    if !r.absent.is_empty() {
        let _ = writeln!(
            out,
            "enrolled custodians whose YubiKey is not inserted: {}",
            r.absent.join(", ")
        );
    }
    out.push_str("findings:\n");
    for f in &r.findings {
        let _ = writeln!(out, "  {} {}", severity(f.severity), f.message);
        if let Some(a) = f.action.as_deref().filter(|_| f.severity != Severity::Ok) {
            let _ = writeln!(out, "         -> {a}");
        }
    }
    let count = |s| r.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        out,
        "{} failure(s), {} warning(s)",
        count(Severity::Fail),
        count(Severity::Warn)
    );
    out
}

/// What a ceremony command takes in common; `None` for the commands that are no
/// ceremony (init, token list, doctor).
pub(super) fn ceremony_common(cmd: &CeremonyCommand) -> Option<&Common> {
    match cmd {
        CeremonyCommand::Seal { common, .. }
        | CeremonyCommand::Open { common, .. }
        | CeremonyCommand::Drill { common, .. }
        | CeremonyCommand::CheckShare { common, .. }
        | CeremonyCommand::Rotate { common, .. }
        | CeremonyCommand::Activate { common, .. }
        | CeremonyCommand::Review { common, .. } => Some(common),
        // Listed one by one so that a new ceremony cannot be added without deciding.
        CeremonyCommand::Init { .. }
        | CeremonyCommand::Token(_)
        | CeremonyCommand::Doctor { .. } => None,
    }
}

/// Before a ceremony asks anything: pcscd, readers, clock, network and custodian terms. Ends the
/// ceremony when it cannot or must not run (pcscd down; a production custody on a
/// network without `--allow-network`); prints every other problem as a warning.
pub(super) fn preflight(dir: &Path, common: &Common) -> Result<(), CliError> {
    let state = ceremony::read_state(dir).ok();
    scripted_pins(state.as_ref(), common)?;
    let findings = doctor::preflight(state.as_ref(), ceremony::now());
    if let Some(b) = doctor::blocker(&findings, common.allow_network) {
        let code = if b.check.is_card() {
            exit::CARD
        } else {
            exit::REFUSED
        };
        let also = if b.check == Check::Network {
            ", or pass --allow-network if the people present accept a networked machine"
        } else {
            ""
        };
        return Err(CliError::new(
            code,
            format!(
                "{}: {}{also}. Nothing was done (`glasskeep doctor` checks the machine)",
                b.message,
                b.action.as_deref().unwrap_or("fix it")
            ),
        ));
    }
    for f in findings.iter().filter(|f| f.severity != Severity::Ok) {
        eprintln!("  > {}", warning(f, common.allow_network));
    }
    Ok(())
}

/// What the flags allow this ceremony that a production custody would otherwise refuse,
/// for its checkpoint: `--allow-network` while a network interface is up or a default
/// route exists, `--allow-scripted-pins` while PINs come from a file or descriptor. A flag
/// with nothing to allow is not recorded.
pub(super) fn allowed(common: &Common) -> glasskeep_core::log::Allowances {
    glasskeep_core::log::Allowances {
        network: common.allow_network && doctor::on_network(&doctor::Host::default()),
        scripted_pins: common.allow_scripted_pins
            && (common.pin_file.is_some() || common.pin_fd.is_some()),
    }
}

/// A production custody's PINs are typed by the custodians at a no-echo prompt. A PIN
/// file is a copy of a PIN that outlives the ceremony, so it is refused — before any
/// other check, card or question — unless the people present pass
/// `--allow-scripted-pins`. Training custodies (drills, tests) take them freely.
fn scripted_pins(
    state: Option<&glasskeep_core::log::State>,
    common: &Common,
) -> Result<(), CliError> {
    let scripted = common.pin_file.is_some() || common.pin_fd.is_some();
    let production = state.and_then(|s| s.custody()).is_some_and(|c| !c.training);
    if scripted && production && !common.allow_scripted_pins {
        return Err(CliError::new(
            exit::REFUSED,
            "this is a production custody: each custodian types their PIN when asked, \
             --pin-file/--pin-fd are for drills on training custodies. Pass \
             --allow-scripted-pins if the people present accept PINs read from a file. \
             Nothing was done"
                .to_owned(),
        ));
    }
    Ok(())
}

fn warning(f: &Finding, allow_network: bool) -> String {
    let mut s = format!("warning: {}", f.message);
    if let Some(a) = &f.action {
        let _ = write!(s, ": {a}");
    }
    if allow_network && f.check == Check::Network && f.severity == Severity::Fail {
        s.push_str(" (allowed by --allow-network)");
    }
    s
}
