//! `glasskeep doctor`, and the preflight every ceremony runs before it asks anything:
//! is pcscd answering, is any reader held by another process, which YubiKeys are
//! present (and whose, in the custody), how many PIN and PUK tries each has left, is
//! the clock behind the log, and is this machine on a network.
//!
//! Each check ends in [`Finding`]s with a severity and what to do. Nothing here spends
//! a PIN try, writes anything, or opens a socket: the machine's network state is read
//! from `/sys` and `/proc`. Every string in a report that came from outside glasskeep
//! (reader names, custodian names, process and interface names) is escaped for a
//! terminal where the report is built, so the text and JSON renderings are both safe
//! to print.

pub mod host;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::log::State;
use crate::text::escape;
use glasskeep_card::{CardFacts, ProbeState, ReaderProbe, TokenError};

use self::host::{DefaultRoute, Grabber, UpInterface};
use super::CeremonyError;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Checked and fine.
    Ok,
    /// Worth fixing; a ceremony can still run.
    Warn,
    /// Fix it before the ceremony.
    Fail,
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The PC/SC service.
    Pcscd,
    /// A reader: present, empty, held by another process.
    Reader,
    /// A YubiKey: PIN and PUK tries.
    Card,
    /// Processes known to grab readers.
    Process,
    /// The custody folder and its log.
    Custody,
    /// This machine's clock against the log.
    Clock,
    /// Network interfaces and default routes.
    Network,
    /// The custodians' terms: when each last proved their YubiKey, PIN and envelope.
    Term,
}

impl Check {
    /// Whether a failure of this check is a card, reader or pcscd problem (exit 3).
    pub fn is_card(self) -> bool {
        matches!(
            self,
            Check::Pcscd | Check::Reader | Check::Card | Check::Process
        )
    }
}

/// One result of one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check.
    pub check: Check,
    /// How serious.
    pub severity: Severity,
    /// What was found.
    pub message: String,
    /// What to do about it (none for a finding that is fine).
    pub action: Option<String>,
}

impl Finding {
    fn ok(check: Check, message: impl Into<String>) -> Self {
        Finding {
            check,
            severity: Severity::Ok,
            message: message.into(),
            action: None,
        }
    }

    fn new(
        check: Check,
        severity: Severity,
        message: impl Into<String>,
        action: impl Into<String>,
    ) -> Self {
        Finding {
            check,
            severity,
            message: message.into(),
            action: Some(action.into()),
        }
    }
}

/// Where the machine's facts are read from: `/proc` and `/sys`, or a fake tree in tests.
#[derive(Clone, Debug)]
pub struct Host {
    /// procfs.
    pub proc: PathBuf,
    /// sysfs.
    pub sys: PathBuf,
}

impl Default for Host {
    fn default() -> Self {
        Host {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
        }
    }
}

/// The custody `doctor` looked at.
#[derive(Clone, Debug, Serialize)]
pub struct CustodyFacts {
    /// The organisation (escaped).
    pub org: String,
    /// TRAINING custody.
    pub training: bool,
    /// Entries in the log.
    pub entries: u64,
    /// The last entry's claimed time, RFC 3339.
    pub last_entry: String,
}

/// One reader as `doctor` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ReaderLine {
    /// The reader's name (escaped).
    pub reader: String,
    /// "empty", "busy", "unusable" or "card".
    pub state: &'static str,
    /// Why an unusable card is unusable (escaped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The YubiKey in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CardFacts>,
    /// The enrolled custodian this YubiKey belongs to (escaped), in the custody given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custodian: Option<String>,
    /// That custodian was retired.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

/// What `glasskeep doctor` found. Serializes as `doctor --json`.
#[derive(Clone, Debug, Serialize)]
pub struct DoctorReport {
    /// The custody in the folder, if there is one.
    pub custody: Option<CustodyFacts>,
    /// Every reader pcscd lists.
    pub readers: Vec<ReaderLine>,
    /// Live custodians whose YubiKey is in no reader: "carol (1003)".
    pub absent: Vec<String>,
    /// Every finding, in check order.
    pub findings: Vec<Finding>,
}

/// How `doctor` ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing failed (warnings allowed).
    Clean,
    /// A card, reader or pcscd check failed.
    CardFailure,
    /// Another check failed.
    Failure,
}

/// The outcome of a list of findings: a card failure outranks any other.
pub fn outcome(findings: &[Finding]) -> Outcome {
    let failed = || findings.iter().filter(|f| f.severity == Severity::Fail);
    if failed().any(|f| f.check.is_card()) {
        Outcome::CardFailure
    } else if failed().next().is_some() {
        Outcome::Failure
    } else {
        Outcome::Clean
    }
}

/// `glasskeep doctor`: every check, with the cards' PIN and PUK counters and, if `dir`
/// holds a custody, whose each YubiKey is. Works outside a custody.
pub fn doctor(dir: &Path, now: u64) -> DoctorReport {
    let (state, custody_finding) = match super::read_state(dir) {
        Ok(s) => (Some(s), None),
        Err(CeremonyError::NoCustody { .. }) => (
            None,
            Some(Finding::ok(
                Check::Custody,
                format!(
                    "no custody in {}: whose each YubiKey is and the clock against the log are not checked (pass --dir with the custody folder)",
                    escape(&dir.display().to_string())
                ),
            )),
        ),
        Err(e) => (
            None,
            Some(Finding::new(
                Check::Custody,
                Severity::Warn,
                format!("the custody's log could not be read: {}", escape(&e.to_string())),
                "run `glasskeep log verify` and report what it says",
            )),
        ),
    };
    let probe = glasskeep_card::probe_readers(true);
    let mut report = examine(state.as_ref(), &probe, &Host::default(), now);
    if let Some(f) = custody_finding {
        report.findings.insert(0, f);
    }
    report
}

/// The checks a ceremony runs before it asks anything: pcscd answers, no reader is held
/// by another process, the clock against the log, the network. `state` is the custody's
/// replayed log when it could be read. The caller decides what stops the ceremony
/// ([`blocker`]) and prints the rest.
pub fn preflight(state: Option<&State>, now: u64) -> Vec<Finding> {
    let probe = glasskeep_card::probe_readers(false);
    let mut findings = examine(state, &probe, &Host::default(), now).findings;
    // The cards' counters were not read: a ceremony reads them itself when it needs them.
    findings.retain(|f| f.check != Check::Card);
    findings
}

/// The finding that must end a ceremony before anything is asked: pcscd not answering
/// (nothing could be signed), or — in a production custody, unless the people present
/// allowed it with `--allow-network` — a machine on a network.
pub fn blocker(findings: &[Finding], allow_network: bool) -> Option<&Finding> {
    findings.iter().find(|f| {
        f.severity == Severity::Fail
            && match f.check {
                Check::Pcscd => true,
                Check::Network => !allow_network,
                _ => false,
            }
    })
}

/// Every check on facts already gathered: the reader probe, the host under `host`, and
/// the custody's state.
pub fn examine(
    state: Option<&State>,
    probe: &Result<Vec<ReaderProbe>, TokenError>,
    host: &Host,
    now: u64,
) -> DoctorReport {
    let mut findings = Vec::new();
    let grabbers = host::grabbers(&host.proc);
    let readers = match probe {
        Ok(readers) => {
            findings.push(Finding::ok(Check::Pcscd, "pcscd answers"));
            reader_findings(readers, state, &grabbers, &mut findings)
        }
        Err(TokenError::PcscUnavailable) => {
            findings.push(Finding::new(
                Check::Pcscd,
                Severity::Fail,
                "pcscd is not running: no YubiKey can be reached",
                "start it (`sudo systemctl start pcscd`, or `sudo pcscd` without systemd)",
            ));
            Vec::new()
        }
        Err(e) => {
            findings.push(Finding::new(
                Check::Pcscd,
                Severity::Fail,
                format!("the smart-card service failed: {}", escape(&e.to_string())),
                "restart pcscd (`sudo systemctl restart pcscd`) and run `glasskeep doctor` again",
            ));
            Vec::new()
        }
    };
    findings.extend(process_findings(&grabbers));
    if let Some(state) = state {
        findings.push(clock_finding(now, state.last_time()));
        findings.extend(term_findings(state, now));
    }
    let training = state.and_then(|s| s.custody()).map(|c| c.training);
    findings.extend(network_findings(
        &host::up_interfaces(&host.sys),
        &host::default_routes(&host.proc),
        training,
    ));
    let absent = absent_custodians(state, &readers);
    DoctorReport {
        custody: state.and_then(|s| {
            s.custody().map(|c| CustodyFacts {
                org: escape(&c.org).into_owned(),
                training: c.training,
                entries: s.next_seq(),
                last_entry: rfc3339(s.last_time()),
            })
        }),
        readers,
        absent,
        findings,
    }
}

/// Turns the probe into reader lines and their findings.
fn reader_findings(
    probes: &[ReaderProbe],
    state: Option<&State>,
    grabbers: &[Grabber],
    findings: &mut Vec<Finding>,
) -> Vec<ReaderLine> {
    if probes.is_empty() {
        findings.push(Finding::new(
            Check::Reader,
            Severity::Warn,
            "no smart-card reader found",
            "plug in the custodians' YubiKeys",
        ));
        return Vec::new();
    }
    let first = findings.len();
    let mut lines = Vec::new();
    let mut cards = 0;
    let mut busy = 0;
    for p in probes {
        let reader = escape(&p.reader).into_owned();
        let mut line = ReaderLine {
            reader: reader.clone(),
            state: "empty",
            reason: None,
            card: None,
            custodian: None,
            retired: false,
        };
        match &p.state {
            ProbeState::Empty => {}
            ProbeState::Busy => {
                busy += 1;
                line.state = "busy";
                let named: Vec<String> = grabbers
                    .iter()
                    .map(|g| format!("{} (pid {})", escape(&g.comm), g.pid))
                    .collect();
                let held_by = if named.is_empty() {
                    String::new()
                } else {
                    format!("; running now: {}", named.join(", "))
                };
                findings.push(Finding::new(
                    Check::Reader,
                    Severity::Fail,
                    format!("reader {reader} is held by another process (sharing violation){held_by}"),
                    "if gpg is running, `gpgconf --kill scdaemon`; close ykman, yubico-piv-tool, pcsc_scan and any other tool using the YubiKey; or unplug and replug it",
                ));
            }
            ProbeState::Unusable { reason } => {
                line.state = "unusable";
                line.reason = Some(escape(reason).into_owned());
                findings.push(Finding::new(
                    Check::Reader,
                    Severity::Warn,
                    format!("reader {reader} holds a card that is not a usable YubiKey: {}", escape(reason)),
                    "take it out unless it is a custodian's YubiKey; if it is, replug it and run `glasskeep doctor` again",
                ));
            }
            // Only a ceremony's preflight connects without looking: its custodians'
            // keys are opened, and named, by the ceremony itself.
            ProbeState::Present => {
                cards += 1;
                line.state = "card";
            }
            ProbeState::Card(facts) => {
                cards += 1;
                line.state = "card";
                if let Some(c) = state.and_then(|s| s.custodian_by_serial(facts.serial)) {
                    line.custodian = Some(escape(&c.record.name).into_owned());
                    line.retired = !c.is_live();
                }
                findings.extend(card_findings(facts, line.custodian.as_deref()));
                line.card = Some(facts.clone());
            }
        }
        lines.push(line);
    }
    if busy == 0 {
        findings.insert(
            first,
            Finding::ok(
                Check::Reader,
                format!(
                    "{} reader(s), {cards} YubiKey(s), none held by another process",
                    probes.len()
                ),
            ),
        );
    }
    lines
}

/// PIN and PUK counters of one card.
fn card_findings(facts: &CardFacts, custodian: Option<&str>) -> Vec<Finding> {
    let who = match custodian {
        Some(name) => format!("YubiKey {} ({name})", facts.serial),
        None => format!("YubiKey {}", facts.serial),
    };
    let mut out = Vec::new();
    match facts.pin {
        Some(p) if p.left == 0 => out.push(Finding::new(
            Check::Card,
            Severity::Fail,
            format!("{who}: the PIN is blocked"),
            "unblock it with the PUK (`ykman piv access unblock-pin`) before the ceremony",
        )),
        Some(p) if p.left < p.total.unwrap_or(3) => out.push(Finding::new(
            Check::Card,
            Severity::Warn,
            format!("{who}: {} PIN tries left", p.left),
            "the custodian must type the PIN right: when it blocks, only the PUK unblocks it",
        )),
        Some(p) => out.push(Finding::ok(
            Check::Card,
            format!("{who}: {} PIN tries left", p.left),
        )),
        None => {}
    }
    match facts.puk {
        Some(p) if p.left == 0 => out.push(Finding::new(
            Check::Card,
            Severity::Warn,
            format!("{who}: the PUK is blocked"),
            "a blocked PIN can no longer be unblocked: if it blocks, the card's keys are lost; the custodian should not guess",
        )),
        Some(p) if p.left < p.total.unwrap_or(3) => out.push(Finding::new(
            Check::Card,
            Severity::Warn,
            format!("{who}: {} PUK tries left", p.left),
            "nobody should try the PUK unless the PIN is blocked",
        )),
        _ => {}
    }
    out
}

fn process_findings(grabbers: &[Grabber]) -> Vec<Finding> {
    if grabbers.is_empty() {
        return vec![Finding::ok(
            Check::Process,
            "no process known to hold YubiKey readers is running",
        )];
    }
    grabbers
        .iter()
        .map(|g| {
            Finding::new(
                Check::Process,
                Severity::Warn,
                format!(
                    "{} is running (pid {}): it can hold a YubiKey reader",
                    escape(&g.comm),
                    g.pid
                ),
                g.advice,
            )
        })
        .collect()
}

/// The clock against the log's last entry: behind means the ceremony claims the last
/// entry's time instead of the clock's (docs/THREAT-MODEL.md: times are claimed).
pub fn clock_finding(now: u64, last: u64) -> Finding {
    if now < last {
        Finding::new(
            Check::Clock,
            Severity::Warn,
            format!(
                "this machine's clock ({}) is behind the log's last entry ({}): a ceremony will record the last entry's time instead",
                rfc3339(now),
                rfc3339(last)
            ),
            "set the clock (`sudo date -s ...`) before the ceremony, or note the right time on the ceremony sheet",
        )
    } else {
        Finding::ok(
            Check::Clock,
            format!(
                "the clock ({}) is not behind the log's last entry ({})",
                rfc3339(now),
                rfc3339(last)
            ),
        )
    }
}

/// Custodians whose term has run out: a warning within the grace period after it (a
/// share check or a drill is due), a failure once the grace period is over (a policy
/// violation). Nothing for a custodian whose term still runs.
pub fn term_findings(state: &State, now: u64) -> Vec<Finding> {
    crate::log::policy::terms(state)
        .into_iter()
        .filter(|t| now > t.ends)
        .map(|t| {
            let name = escape(&t.custodian);
            let since = format!(
                "{name}'s term ran out {} (last share check, drill or opening {}, entry {})",
                rfc3339(t.ends),
                rfc3339(t.affirmed),
                t.affirmed_seq
            );
            let action = format!(
                "{name} runs `glasskeep check-share --envelope FILE` on one of their envelopes (or takes part in a drill): it proves their YubiKey, PIN and envelope still work"
            );
            if now > t.due {
                Finding::new(
                    Check::Term,
                    Severity::Fail,
                    format!(
                        "{since}; the grace period ended {}: a policy violation",
                        rfc3339(t.due)
                    ),
                    action,
                )
            } else {
                Finding::new(
                    Check::Term,
                    Severity::Warn,
                    format!("{since}; due by {}", rfc3339(t.due)),
                    action,
                )
            }
        })
        .collect()
}

/// Interfaces up and default routes: a production custody expects an air-gapped machine
/// (fail); a training custody or no custody only warns. `training` is `None` outside a
/// custody.
pub fn network_findings(
    up: &[UpInterface],
    routes: &[DefaultRoute],
    training: Option<bool>,
) -> Vec<Finding> {
    let severity = if training == Some(false) {
        Severity::Fail
    } else {
        Severity::Warn
    };
    let mut out = Vec::new();
    let via = |iface: &str| {
        routes
            .iter()
            .filter(|r| r.iface == iface)
            .map(|r| match &r.gateway {
                Some(g) => format!("; default route via {}", escape(g)),
                None => "; default route".to_string(),
            })
            .collect::<String>()
    };
    for i in up {
        let name = escape(&i.name);
        let link = if i.operstate == "down" {
            "up, no link yet".to_string()
        } else {
            format!("up, link {}", escape(&i.operstate))
        };
        out.push(Finding::new(
            Check::Network,
            severity,
            format!("network interface {name} is {link}{}", via(&i.name)),
            format!(
                "air-gapped machine expected: bring down {name} (`sudo ip link set {name} down`)"
            ),
        ));
    }
    for r in routes
        .iter()
        .filter(|r| !up.iter().any(|i| i.name == r.iface))
    {
        let name = escape(&r.iface);
        out.push(Finding::new(
            Check::Network,
            severity,
            format!("a default route leaves through {name}"),
            format!(
                "air-gapped machine expected: bring down {name} (`sudo ip link set {name} down`)"
            ),
        ));
    }
    if out.is_empty() {
        out.push(Finding::ok(
            Check::Network,
            "no network interface but loopback is up, and no default route",
        ));
    }
    out
}

/// Whether a production custody's preflight refuses this machine for its network (an
/// interface other than loopback up, or a default route).
pub fn on_network(host: &Host) -> bool {
    network_findings(
        &host::up_interfaces(&host.sys),
        &host::default_routes(&host.proc),
        Some(false),
    )
    .iter()
    .any(|f| f.severity == Severity::Fail)
}

fn absent_custodians(state: Option<&State>, readers: &[ReaderLine]) -> Vec<String> {
    let Some(state) = state else {
        return Vec::new();
    };
    let present: Vec<u32> = readers
        .iter()
        .filter_map(|r| r.card.as_ref().map(|c| c.serial))
        .collect();
    state
        .live_custodians()
        .filter(|c| !present.contains(&c.record.serial))
        .map(|c| format!("{} ({})", escape(&c.record.name), c.record.serial))
        .collect()
}

fn rfc3339(t: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t);
    humantime::format_rfc3339_seconds(t).to_string()
}
