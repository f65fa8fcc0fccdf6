//! Ceremony plans: a TOML file, published before the ceremony, that names the custody,
//! the day, the people and the exact acts. `plan check` holds it against the log and
//! prints the runbook; a ceremony run with `--plan` must be one of its acts, and the
//! checkpoint records the plan's SHA-256 under the custodians' signatures, so an auditor
//! can hold the published plan against what was done (docs/FORMAT.md, "Ceremony plan").
//!
//! The decoder is strict: unknown keys, a key that does not belong to an act's kind,
//! duplicate acts, impossible dates, control or bidi characters anywhere in the file,
//! and oversize input are refused, naming the line or the field.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::log::{Hash, SecretKind, State, Verdict};
use crate::shamir::MAX_LABEL_LEN;
use crate::text;

/// Largest plan file, bytes.
pub const MAX_PLAN: usize = 64 * 1024;
/// Deepest nesting of arrays and inline tables (`[`, `{`), and most parts of a dotted
/// key, a plan may hold. The TOML parser recurses once per level and once per key part:
/// a plan of 64 KiB of `[`, or of `a.a.a…`, would overflow the stack, so both are counted
/// before it parses.
pub const MAX_NESTING: usize = 16;

/// The line of the first `[` or `{` that opens a level deeper than [`MAX_NESTING`], or of
/// the first dotted key of more parts, outside strings and comments; `None` when the text
/// stays within both. One pass, no allocation. (A float's one dot counts as a key's.)
fn too_deep(s: &str) -> Option<usize> {
    #[derive(PartialEq)]
    enum In {
        Code,
        Comment,
        Basic,
        Literal,
        MultiBasic,
        MultiLiteral,
    }
    let b = s.as_bytes();
    let (mut state, mut depth, mut line, mut i) = (In::Code, 0usize, 1usize, 0usize);
    // Dots since the last place a key can start.
    let mut dots = 0usize;
    let triple = |i: usize, q: u8| b.get(i..i + 3) == Some(&[q, q, q][..]);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
        }
        match state {
            In::Code => match c {
                b'#' => state = In::Comment,
                b'"' if triple(i, b'"') => {
                    state = In::MultiBasic;
                    i += 2;
                }
                b'\'' if triple(i, b'\'') => {
                    state = In::MultiLiteral;
                    i += 2;
                }
                b'"' => state = In::Basic,
                b'\'' => state = In::Literal,
                b'[' | b'{' => {
                    depth += 1;
                    dots = 0;
                    if depth > MAX_NESTING {
                        return Some(line);
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                b'\n' | b'=' | b',' => dots = 0,
                b'.' => {
                    dots += 1;
                    if dots >= MAX_NESTING {
                        return Some(line);
                    }
                }
                _ => {}
            },
            In::Comment if c == b'\n' => state = In::Code,
            In::Basic | In::MultiBasic if c == b'\\' => {
                // The escaped character is skipped; a line-ending backslash still ends
                // its line.
                if b.get(i + 1) == Some(&b'\n') {
                    line += 1;
                }
                i += 1;
            }
            In::Basic if c == b'"' || c == b'\n' => state = In::Code,
            In::Literal if c == b'\'' || c == b'\n' => state = In::Code,
            In::MultiBasic if triple(i, b'"') => {
                state = In::Code;
                i += 2;
            }
            In::MultiLiteral if triple(i, b'\'') => {
                state = In::Code;
                i += 2;
            }
            _ => {}
        }
        i += 1;
    }
    None
}
/// Most acts in one plan.
pub const MAX_ACTS: usize = 64;
/// Most names in one list (custodians, cosigners, witnesses).
pub const MAX_NAMES: usize = 255;
/// Longest ceremony title, bytes.
pub const MAX_TITLE: usize = 200;
/// Longest name (custodian, administrator, witness), bytes.
pub const MAX_NAME: usize = 64;
/// Widest date window: the ceremony may run on `date` or up to this many days after.
pub const MAX_WINDOW_DAYS: u32 = 30;
/// The plan format version this build reads.
pub const VERSION: u32 = 1;

/// Why a plan file was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Larger than [`MAX_PLAN`].
    #[error("the plan is {len} bytes; a plan holds at most {MAX_PLAN}")]
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// Not UTF-8.
    #[error("the plan is not UTF-8 text (line {line})")]
    NotText {
        /// The line of the first bad byte.
        line: usize,
    },
    /// A control or invisible formatting character in the file.
    #[error("line {line}: the control or formatting character U+{code:04X}: a plan is read by people, remove it")]
    Forbidden {
        /// Its line.
        line: usize,
        /// The code point.
        code: u32,
    },
    /// Arrays or inline tables nested deeper than [`MAX_NESTING`], or a dotted key of
    /// more parts.
    #[error("line {line}: arrays, inline tables or dotted keys nested more than {MAX_NESTING} deep; a plan needs 2")]
    TooDeep {
        /// The line of the bracket too many.
        line: usize,
    },
    /// Not TOML, an unknown key, a wrong type (the parser names the line).
    #[error("{0}")]
    Syntax(String),
    /// A field's value is refused.
    #[error("{field}: {reason}")]
    Field {
        /// Where: `date`, `roles.custodians`, `act 2 (seal): threshold`.
        field: String,
        /// Why, and what to write instead.
        reason: String,
    },
}

/// The kinds of act a plan may hold: the ceremony commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ActKind {
    /// `custodian enroll`.
    Enroll,
    /// `custodian retire`.
    Retire,
    /// `seal`.
    Seal,
    /// `open`.
    Open,
    /// `drill`.
    Drill,
    /// `check-share`.
    CheckShare,
    /// `rotate`.
    Rotate,
    /// `activate`.
    Activate,
    /// `review`.
    Review,
    /// `envelope destroyed`.
    Destroyed,
    /// `log checkpoint`.
    Checkpoint,
}

impl ActKind {
    const ALL: [ActKind; 11] = [
        ActKind::Enroll,
        ActKind::Retire,
        ActKind::Seal,
        ActKind::Open,
        ActKind::Drill,
        ActKind::CheckShare,
        ActKind::Rotate,
        ActKind::Activate,
        ActKind::Review,
        ActKind::Destroyed,
        ActKind::Checkpoint,
    ];

    /// The name a plan uses (`kind = "check-share"`).
    pub fn name(self) -> &'static str {
        match self {
            ActKind::Enroll => "enroll",
            ActKind::Retire => "retire",
            ActKind::Seal => "seal",
            ActKind::Open => "open",
            ActKind::Drill => "drill",
            ActKind::CheckShare => "check-share",
            ActKind::Rotate => "rotate",
            ActKind::Activate => "activate",
            ActKind::Review => "review",
            ActKind::Destroyed => "destroyed",
            ActKind::Checkpoint => "checkpoint",
        }
    }

    /// The command that performs it.
    pub fn command(self) -> &'static str {
        match self {
            ActKind::Enroll => "custodian enroll",
            ActKind::Retire => "custodian retire",
            ActKind::Destroyed => "envelope destroyed",
            ActKind::Checkpoint => "log checkpoint",
            k => k.name(),
        }
    }

    fn from_name(s: &str) -> Option<ActKind> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The keys an act of this kind takes: (key, required).
    fn keys(self) -> &'static [(Key, bool)] {
        use Key::*;
        match self {
            ActKind::Enroll => &[(Custodians, true), (Serials, false), (Cosigners, false)],
            ActKind::Retire => &[(Name, true), (Reason, true), (Cosigners, true)],
            ActKind::Seal => &[
                (Label, true),
                (Threshold, true),
                (Custodians, true),
                (Secret, true),
                (Cosigners, true),
            ],
            ActKind::Open => &[
                (Label, true),
                (Custodians, true),
                (Reason, true),
                (Incident, false),
            ],
            ActKind::Drill => &[(Label, true), (Custodians, true)],
            ActKind::CheckShare => &[(Label, true), (Custodians, true)],
            ActKind::Rotate => &[
                (Label, true),
                (Threshold, false),
                (Custodians, false),
                (Secret, false),
                (Cosigners, true),
            ],
            ActKind::Activate => &[(Label, true), (Cosigners, true)],
            ActKind::Review => &[(Open, true), (Verdict, false), (Cosigners, true)],
            ActKind::Destroyed => &[(Fingerprint, true), (Witnesses, true)],
            ActKind::Checkpoint => &[(Cosigners, true)],
        }
    }
}

/// The keys of an act besides `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    Label,
    Threshold,
    Custodians,
    Secret,
    Cosigners,
    Name,
    Reason,
    Serials,
    Incident,
    Open,
    Verdict,
    Fingerprint,
    Witnesses,
}

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::Label => "label",
            Key::Threshold => "threshold",
            Key::Custodians => "custodians",
            Key::Secret => "secret_kind",
            Key::Cosigners => "cosigners",
            Key::Name => "name",
            Key::Reason => "reason",
            Key::Serials => "serials",
            Key::Incident => "incident",
            Key::Open => "open",
            Key::Verdict => "verdict",
            Key::Fingerprint => "fingerprint",
            Key::Witnesses => "witnesses",
        }
    }
}

/// One act: what one ceremony command does. The same type describes a command as typed,
/// so that [`Plan::find_act`] can say which field differs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Act {
    /// What it is (`None` only in a default value being filled).
    pub kind: Option<ActKind>,
    /// The credential's label.
    pub label: Option<String>,
    /// The set's threshold.
    pub threshold: Option<u8>,
    /// Seal/rotate: the set's custodians in share order. Open/drill/check-share: whose
    /// envelopes are used. Enroll: who is enrolled.
    pub custodians: Option<Vec<String>>,
    /// What the secret is.
    pub secret_kind: Option<SecretKind>,
    /// Who cosigns the checkpoint.
    pub cosigners: Option<Vec<String>>,
    /// Retire: who.
    pub name: Option<String>,
    /// Retire/open: why (recorded).
    pub reason: Option<String>,
    /// Enroll: each one's YubiKey serial, in the order of `custodians`.
    pub serials: Option<Vec<u32>>,
    /// Open: the incident or ticket.
    pub incident: Option<String>,
    /// Review: the open entry's seq.
    pub open: Option<u64>,
    /// Review: the verdict.
    pub verdict: Option<Verdict>,
    /// Destroyed: the envelope's fingerprint, hex (at least the printed 16 digits).
    pub fingerprint: Option<String>,
    /// Destroyed: the custodians who saw it destroyed.
    pub witnesses: Option<Vec<String>>,
}

impl Act {
    fn kind(&self) -> ActKind {
        self.kind.unwrap_or(ActKind::Checkpoint)
    }

    fn has(&self, k: Key) -> bool {
        match k {
            Key::Label => self.label.is_some(),
            Key::Threshold => self.threshold.is_some(),
            Key::Custodians => self.custodians.is_some(),
            Key::Secret => self.secret_kind.is_some(),
            Key::Cosigners => self.cosigners.is_some(),
            Key::Name => self.name.is_some(),
            Key::Reason => self.reason.is_some(),
            Key::Serials => self.serials.is_some(),
            Key::Incident => self.incident.is_some(),
            Key::Open => self.open.is_some(),
            Key::Verdict => self.verdict.is_some(),
            Key::Fingerprint => self.fingerprint.is_some(),
            Key::Witnesses => self.witnesses.is_some(),
        }
    }

    /// The act in a few words: `seal "aws-root"`.
    pub fn title(&self) -> String {
        let k = self.kind().name();
        if let Some(l) = &self.label {
            format!("{k} {:?}", text::escape(l))
        } else if let Some(n) = &self.name {
            format!("{k} {}", text::escape(n))
        } else if let Some(o) = self.open {
            format!("{k} of opening {o}")
        } else if let Some(f) = &self.fingerprint {
            format!("{k} of envelope {f}")
        } else if let Some(c) = &self.custodians {
            format!("{k} of {}", c.join(", "))
        } else {
            k.to_string()
        }
    }

    /// Everyone named in the act.
    fn people(&self) -> Vec<&String> {
        let mut v: Vec<&String> = Vec::new();
        for list in [&self.custodians, &self.cosigners, &self.witnesses]
            .into_iter()
            .flatten()
        {
            v.extend(list);
        }
        v.extend(&self.name);
        v
    }
}

/// A decoded plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The ceremony's title.
    pub ceremony: String,
    /// The day it is planned for: days since 1970-01-01 (UTC).
    pub date: i64,
    /// The day as written, `YYYY-MM-DD`.
    pub date_text: String,
    /// It may also run up to this many days after `date`.
    pub window_days: u32,
    /// The custody's id (`log verify` prints it).
    pub custody_id: [u8; 16],
    /// The custody's organisation.
    pub org: String,
    /// Who runs the ceremony (reads the runbook, types the commands).
    pub administrator: String,
    /// The custodians who come, with their YubiKeys.
    pub custodians: Vec<String>,
    /// People who watch and sign the paper record (they use no YubiKey).
    pub witnesses: Vec<String>,
    /// The acts, in order.
    pub acts: Vec<Act>,
    /// SHA-256 of the file's bytes: what checkpoints record.
    pub sha256: Hash,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    version: u32,
    ceremony: String,
    date: toml::value::Datetime,
    #[serde(default)]
    window_days: u32,
    custody: RawCustody,
    roles: RawRoles,
    #[serde(default)]
    act: Vec<RawAct>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCustody {
    id: String,
    org: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoles {
    administrator: String,
    custodians: Vec<String>,
    #[serde(default)]
    witnesses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAct {
    kind: String,
    label: Option<String>,
    threshold: Option<i64>,
    custodians: Option<Vec<String>>,
    secret_kind: Option<String>,
    cosigners: Option<Vec<String>>,
    name: Option<String>,
    reason: Option<String>,
    serials: Option<Vec<i64>>,
    incident: Option<String>,
    open: Option<i64>,
    verdict: Option<String>,
    fingerprint: Option<String>,
    witnesses: Option<Vec<String>>,
}

fn field(at: impl Into<String>, reason: impl Into<String>) -> PlanError {
    PlanError::Field {
        field: at.into(),
        reason: reason.into(),
    }
}

fn checked(at: &str, s: &str, max: usize) -> Result<(), PlanError> {
    text::check("text", s, 1, max).map_err(|e| match e {
        text::TextError::Empty { .. } => field(at, "must not be empty"),
        text::TextError::TooLong { max, .. } => field(at, format!("longer than {max} bytes")),
        text::TextError::Forbidden { code, .. } => field(
            at,
            format!("the control or formatting character U+{code:04X}"),
        ),
    })
}

fn names(at: &str, list: &[String], min: usize) -> Result<(), PlanError> {
    if list.len() < min {
        return Err(field(at, format!("name at least {min}")));
    }
    if list.len() > MAX_NAMES {
        return Err(field(at, format!("at most {MAX_NAMES} names")));
    }
    for (i, n) in list.iter().enumerate() {
        checked(at, n, MAX_NAME)?;
        if list[..i].contains(n) {
            return Err(field(at, format!("{} is named twice", text::escape(n))));
        }
    }
    Ok(())
}

/// Days since 1970-01-01 of a proleptic Gregorian date, or `None` when it does not exist.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let len = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > len {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The `YYYY-MM-DD` of a day number.
pub fn civil_from_days(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if y < 2000 {
        return None;
    }
    days_from_civil(i64::from(y), m, d)
}

impl Plan {
    /// Decodes a plan file. Bounded by its size: at most [`MAX_PLAN`] bytes are parsed.
    pub fn decode(bytes: &[u8]) -> Result<Plan, PlanError> {
        if bytes.len() > MAX_PLAN {
            return Err(PlanError::TooLarge { len: bytes.len() });
        }
        let s = std::str::from_utf8(bytes).map_err(|e| PlanError::NotText {
            line: 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count(),
        })?;
        for (i, line) in s.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if let Some(c) = line.chars().find(|c| *c != '\t' && text::forbidden(*c)) {
                return Err(PlanError::Forbidden {
                    line: i + 1,
                    code: u32::from(c),
                });
            }
        }
        if let Some(line) = too_deep(s) {
            return Err(PlanError::TooDeep { line });
        }
        let raw: RawPlan = toml::from_str(s).map_err(|e| PlanError::Syntax(e.to_string()))?;
        if raw.version != VERSION {
            return Err(field(
                "version",
                format!(
                    "{} is not a plan version this glasskeep reads (1)",
                    raw.version
                ),
            ));
        }
        checked("ceremony", &raw.ceremony, MAX_TITLE)?;
        let date_text = raw.date.to_string();
        let date = parse_date(&date_text).ok_or_else(|| {
            field(
                "date",
                "a calendar day written as a TOML date, e.g. date = 2026-11-30 (no time)",
            )
        })?;
        if raw.window_days > MAX_WINDOW_DAYS {
            return Err(field("window_days", format!("at most {MAX_WINDOW_DAYS}")));
        }
        let id = crate::hex::decode_fixed::<16>(&raw.custody.id).ok_or_else(|| {
            field(
                "custody.id",
                "the custody id: 32 hex digits, as `log verify` prints it",
            )
        })?;
        checked("custody.org", &raw.custody.org, crate::log::body::MAX_ORG)?;
        checked("roles.administrator", &raw.roles.administrator, MAX_NAME)?;
        names("roles.custodians", &raw.roles.custodians, 1)?;
        names("roles.witnesses", &raw.roles.witnesses, 0)?;
        if raw.act.is_empty() {
            return Err(field("act", "a plan holds at least one [[act]]"));
        }
        if raw.act.len() > MAX_ACTS {
            return Err(field("act", format!("at most {MAX_ACTS} acts")));
        }
        let mut acts: Vec<Act> = Vec::with_capacity(raw.act.len());
        for (i, r) in raw.act.into_iter().enumerate() {
            let act = decode_act(i + 1, r)?;
            if let Some(j) = acts.iter().position(|a| same_subject(a, &act)) {
                return Err(field(
                    format!("act {}", i + 1),
                    format!("repeats act {} ({})", j + 1, acts[j].title()),
                ));
            }
            for who in act.people() {
                let enrolled_here = acts.iter().any(|a| {
                    a.kind() == ActKind::Enroll
                        && a.custodians.as_ref().is_some_and(|c| c.contains(who))
                });
                if !raw.roles.custodians.contains(who) && !enrolled_here {
                    if act.kind() == ActKind::Enroll
                        && act.custodians.as_ref().is_some_and(|c| c.contains(who))
                    {
                        continue;
                    }
                    return Err(field(
                        format!("act {} ({})", i + 1, act.title()),
                        format!(
                            "{} is not among roles.custodians: name every custodian who comes there",
                            text::escape(who)
                        ),
                    ));
                }
            }
            acts.push(act);
        }
        Ok(Plan {
            ceremony: raw.ceremony,
            date,
            date_text,
            window_days: raw.window_days,
            custody_id: id,
            org: raw.custody.org,
            administrator: raw.roles.administrator,
            custodians: raw.roles.custodians,
            witnesses: raw.roles.witnesses,
            acts,
            sha256: Sha256::digest(bytes).into(),
        })
    }

    /// The act of the plan a command performs, or why none is: no act of its kind, or
    /// the first of its kind and the first field that differs. A field the plan leaves
    /// out that the command gives (or the reverse) differs, except the free text decided
    /// on the day (reason, incident, verdict) and enrollment serials; a command that
    /// names no cosigners takes the act's.
    pub fn find_act(&self, typed: &Act) -> Result<usize, String> {
        let kind = typed.kind();
        let mut best: Option<(usize, String)> = None;
        for (i, a) in self.acts.iter().enumerate() {
            if a.kind() != kind {
                continue;
            }
            match first_difference(a, typed) {
                None => return Ok(i),
                Some(d) => {
                    if best.is_none() {
                        best = Some((i, d));
                    }
                }
            }
        }
        match best {
            Some((i, d)) => Err(format!(
                "the command does not match act {} of the plan ({}): {d}",
                i + 1,
                self.acts[i].title()
            )),
            None => {
                let planned: Vec<String> = self.acts.iter().map(Act::title).collect();
                Err(format!(
                    "the plan has no {} act; it plans: {}",
                    kind.name(),
                    planned.join("; ")
                ))
            }
        }
    }

    /// Whether the plan applies on `today` (days since 1970-01-01, UTC) to the custody
    /// with this id and organisation.
    pub fn applies(&self, custody_id: &[u8; 16], org: &str, today: i64) -> Result<(), String> {
        if &self.custody_id != custody_id {
            return Err(format!(
                "the plan is for custody {}, this folder holds custody {}: the wrong plan or the wrong folder",
                crate::hex::encode(&self.custody_id),
                crate::hex::encode(custody_id)
            ));
        }
        if self.org != org {
            return Err(format!(
                "the plan names the organisation {:?}, the custody's is {:?}",
                text::escape(&self.org),
                text::escape(org)
            ));
        }
        let last = self.date + i64::from(self.window_days);
        if today < self.date || today > last {
            let when = if self.window_days == 0 {
                format!("on {}", self.date_text)
            } else {
                format!("from {} to {}", self.date_text, civil_from_days(last))
            };
            return Err(format!(
                "the plan is for a ceremony {when} (UTC); today is {}: write a new plan for today",
                civil_from_days(today)
            ));
        }
        Ok(())
    }
}

fn list_eq_unordered(a: &[String], b: &[String]) -> bool {
    let x: BTreeSet<&String> = a.iter().collect();
    let y: BTreeSet<&String> = b.iter().collect();
    x == y && a.len() == b.len()
}

fn first_difference(plan: &Act, typed: &Act) -> Option<String> {
    fn show_list(l: &Option<Vec<String>>) -> String {
        match l {
            Some(l) => l.join(","),
            None => "nothing".into(),
        }
    }
    let flag = |k: Key| -> &'static str {
        match (plan.kind(), k) {
            (ActKind::Checkpoint, Key::Cosigners) => "--custodians",
            (ActKind::Open | ActKind::Drill | ActKind::CheckShare, Key::Custodians) => {
                "the envelopes' custodians"
            }
            (ActKind::Enroll, Key::Custodians) => "--name",
            (ActKind::Retire, Key::Name) => "NAME",
            (_, Key::Secret) => "--kind",
            (_, Key::Serials) => "--serial",
            (_, k) => match k {
                Key::Label => "--label",
                Key::Threshold => "--threshold",
                Key::Custodians => "--custodians",
                Key::Cosigners => "--cosigners",
                Key::Reason => "--reason",
                Key::Incident => "--incident",
                Key::Open => "--open",
                Key::Verdict => "--verdict",
                Key::Fingerprint => "--fingerprint",
                Key::Witnesses => "--witnesses",
                _ => "the command",
            },
        }
    };
    let free = [Key::Reason, Key::Incident, Key::Verdict, Key::Serials];
    for &(k, _) in plan.kind().keys() {
        let (p, t) = (plan.has(k), typed.has(k));
        if !p && (free.contains(&k) || !t) {
            continue;
        }
        // A command that names no cosigners takes the act's.
        if k == Key::Cosigners && !t {
            continue;
        }
        let differs = match k {
            Key::Label => plan.label != typed.label,
            Key::Threshold => plan.threshold != typed.threshold,
            Key::Custodians => match plan.kind() {
                // A set's custodians are in share order; elsewhere order is not meant.
                ActKind::Seal | ActKind::Rotate => plan.custodians != typed.custodians,
                _ => {
                    !matches!((&plan.custodians, &typed.custodians), (Some(a), Some(b)) if list_eq_unordered(a, b))
                }
            },
            Key::Secret => plan.secret_kind != typed.secret_kind,
            Key::Cosigners => {
                !matches!((&plan.cosigners, &typed.cosigners), (Some(a), Some(b)) if list_eq_unordered(a, b))
            }
            Key::Witnesses => {
                !matches!((&plan.witnesses, &typed.witnesses), (Some(a), Some(b)) if list_eq_unordered(a, b))
            }
            Key::Name => plan.name != typed.name,
            Key::Reason => plan.reason != typed.reason,
            Key::Serials => plan.serials != typed.serials,
            Key::Incident => plan.incident != typed.incident,
            Key::Open => plan.open != typed.open,
            Key::Verdict => plan.verdict != typed.verdict,
            Key::Fingerprint => !fingerprint_matches(
                plan.fingerprint.as_deref().unwrap_or(""),
                typed.fingerprint.as_deref().unwrap_or(""),
            ),
        };
        if !differs {
            continue;
        }
        let value = |a: &Act| -> String {
            match k {
                Key::Label => a
                    .label
                    .as_deref()
                    .map_or("nothing".into(), |l| format!("{:?}", text::escape(l))),
                Key::Threshold => a.threshold.map_or("nothing".into(), |t| t.to_string()),
                Key::Custodians => show_list(&a.custodians),
                Key::Cosigners => show_list(&a.cosigners),
                Key::Witnesses => show_list(&a.witnesses),
                Key::Secret => a.secret_kind.map_or("nothing".into(), |s| s.name().into()),
                Key::Name => a
                    .name
                    .as_deref()
                    .map_or("nothing".into(), |s| text::escape(s).into_owned()),
                Key::Reason => a
                    .reason
                    .as_deref()
                    .map_or("nothing".into(), |s| format!("{:?}", text::escape(s))),
                Key::Incident => a
                    .incident
                    .as_deref()
                    .map_or("nothing".into(), |s| format!("{:?}", text::escape(s))),
                Key::Serials => a.serials.as_ref().map_or("nothing".into(), |s| {
                    s.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
                }),
                Key::Open => a.open.map_or("nothing".into(), |o| o.to_string()),
                Key::Verdict => a.verdict.map_or("nothing".into(), |v| v.name().into()),
                Key::Fingerprint => a.fingerprint.clone().unwrap_or_else(|| "nothing".into()),
            }
        };
        return Some(format!(
            "{} is {}, the plan says {} = {}",
            flag(k),
            value(typed),
            k.name(),
            value(plan)
        ));
    }
    None
}

/// Whether two fingerprints, each the full 64 hex digits or a prefix of at least 16,
/// name the same envelope (spaces and case aside).
fn fingerprint_matches(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let (a, b) = (norm(a), norm(b));
    a.len() >= 16 && b.len() >= 16 && (a.starts_with(&b) || b.starts_with(&a))
}

fn same_subject(a: &Act, b: &Act) -> bool {
    if a == b {
        return true;
    }
    if a.kind() != b.kind() {
        return false;
    }
    match a.kind() {
        ActKind::Seal | ActKind::Rotate | ActKind::Activate => a.label == b.label,
        ActKind::Retire => a.name == b.name,
        ActKind::Review => a.open == b.open,
        ActKind::Destroyed => fingerprint_matches(
            a.fingerprint.as_deref().unwrap_or(""),
            b.fingerprint.as_deref().unwrap_or(""),
        ),
        ActKind::Enroll => a
            .custodians
            .iter()
            .flatten()
            .any(|n| b.custodians.iter().flatten().any(|m| m == n)),
        _ => false,
    }
}

fn decode_act(n: usize, r: RawAct) -> Result<Act, PlanError> {
    let kind = ActKind::from_name(&r.kind).ok_or_else(|| {
        let all: Vec<&str> = ActKind::ALL.iter().map(|k| k.name()).collect();
        field(
            format!("act {n}: kind"),
            format!(
                "{:?} is not an act; one of {}",
                text::escape(&r.kind),
                all.join(", ")
            ),
        )
    })?;
    let at = |key: &str| format!("act {n} ({}): {key}", kind.name());
    let mut act = Act {
        kind: Some(kind),
        ..Act::default()
    };
    if let Some(l) = r.label {
        checked(&at("label"), &l, MAX_LABEL_LEN)?;
        act.label = Some(l);
    }
    if let Some(t) = r.threshold {
        act.threshold = Some(
            u8::try_from(t)
                .ok()
                .filter(|t| *t >= 2)
                .ok_or_else(|| field(at("threshold"), "a number from 2 to 255"))?,
        );
    }
    if let Some(c) = r.custodians {
        names(&at("custodians"), &c, 1)?;
        act.custodians = Some(c);
    }
    if let Some(k) = r.secret_kind {
        act.secret_kind = Some(SecretKind::from_name(&k).ok_or_else(|| {
            field(
                at("secret_kind"),
                "one of password, totp, recovery-codes, file",
            )
        })?);
    }
    if let Some(c) = r.cosigners {
        names(&at("cosigners"), &c, 1)?;
        act.cosigners = Some(c);
    }
    if let Some(x) = r.name {
        checked(&at("name"), &x, MAX_NAME)?;
        act.name = Some(x);
    }
    if let Some(x) = r.reason {
        checked(&at("reason"), &x, crate::log::body::MAX_REASON)?;
        act.reason = Some(x);
    }
    if let Some(s) = r.serials {
        if s.len() > MAX_NAMES {
            return Err(field(at("serials"), format!("at most {MAX_NAMES}")));
        }
        let mut v = Vec::with_capacity(s.len());
        for x in s {
            v.push(
                u32::try_from(x)
                    .ok()
                    .filter(|x| *x > 0)
                    .ok_or_else(|| field(at("serials"), "YubiKey serials: positive numbers"))?,
            );
        }
        act.serials = Some(v);
    }
    if let Some(x) = r.incident {
        checked(&at("incident"), &x, crate::log::body::MAX_INCIDENT)?;
        act.incident = Some(x);
    }
    if let Some(o) = r.open {
        act.open = Some(
            u64::try_from(o)
                .ok()
                .filter(|o| *o > 0)
                .ok_or_else(|| field(at("open"), "the seq of the open entry"))?,
        );
    }
    if let Some(v) = r.verdict {
        act.verdict = Some(match v.as_str() {
            "justified" => Verdict::Justified,
            "unjustified" => Verdict::Unjustified,
            _ => return Err(field(at("verdict"), "justified or unjustified")),
        });
    }
    if let Some(f) = r.fingerprint {
        let digits: String = f.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() < 16 || digits.len() > 64 || !digits.chars().all(|c| c.is_ascii_hexdigit())
        {
            return Err(field(
                at("fingerprint"),
                "the envelope's fingerprint: at least its 16 printed hex digits",
            ));
        }
        act.fingerprint = Some(digits.to_ascii_lowercase());
    }
    if let Some(w) = r.witnesses {
        names(&at("witnesses"), &w, 2)?;
        act.witnesses = Some(w);
    }
    let keys = kind.keys();
    for k in [
        Key::Label,
        Key::Threshold,
        Key::Custodians,
        Key::Secret,
        Key::Cosigners,
        Key::Name,
        Key::Reason,
        Key::Serials,
        Key::Incident,
        Key::Open,
        Key::Verdict,
        Key::Fingerprint,
        Key::Witnesses,
    ] {
        let wanted = keys.iter().find(|(x, _)| *x == k);
        match (wanted, act.has(k)) {
            (None, true) => {
                return Err(field(
                    at(k.name()),
                    format!("a {} act takes no {}", kind.name(), k.name()),
                ))
            }
            (Some((_, true)), false) => {
                return Err(field(at(k.name()), "missing: this act needs it"))
            }
            _ => {}
        }
    }
    if let (Some(s), Some(c)) = (&act.serials, &act.custodians) {
        if s.len() != c.len() {
            return Err(field(
                at("serials"),
                "one serial for each custodian, same order",
            ));
        }
    }
    if kind == ActKind::CheckShare && act.custodians.as_ref().is_some_and(|c| c.len() != 1) {
        return Err(field(at("custodians"), "a share check is one custodian's"));
    }
    Ok(act)
}

/// How a plan's refusal is classed (the command line maps each to its exit code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalClass {
    /// The plan is for another custody, or its day has passed.
    Custody,
    /// A custodian unknown or retired, a label taken or not live, an unknown opening or
    /// envelope: the log's rules refuse the act.
    Rule,
    /// The act's quorum cannot be reached with the custodians it names.
    Quorum,
}

/// Why a plan cannot be carried out on this log.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{}{reason}", .act.map(|a| format!("act {a}: ")).unwrap_or_default())]
pub struct Refusal {
    /// The act at fault (1-based), if any.
    pub act: Option<usize>,
    /// Its class.
    pub class: RefusalClass,
    /// What is wrong, and what to do.
    pub reason: String,
}

/// Checks a plan against the log's state, its acts in order (a set sealed by an earlier
/// act may be opened by a later one): the custody, the date (not already past), every
/// custodian enrolled and not retired, labels free or live as each act needs, and each
/// act's quorum reachable with the custodians it names. The ceremony itself still
/// applies the log's full rules.
pub fn check(plan: &Plan, state: &State, today: i64) -> Result<(), Refusal> {
    let custody = state.custody().ok_or(Refusal {
        act: None,
        class: RefusalClass::Custody,
        reason: "the folder holds no custody".into(),
    })?;
    let cust = |reason: String| Refusal {
        act: None,
        class: RefusalClass::Custody,
        reason,
    };
    if plan.custody_id != custody.custody_id || plan.org != custody.org {
        return Err(cust(
            plan.applies(&custody.custody_id, &custody.org, plan.date)
                .err()
                .unwrap_or_default(),
        ));
    }
    if today > plan.date + i64::from(plan.window_days) {
        return Err(cust(format!(
            "the plan's day {} (UTC) has passed; today is {}: write a new plan",
            plan.date_text,
            civil_from_days(today)
        )));
    }
    let q = usize::from(custody.quorum);
    let mut live: BTreeSet<String> = state
        .live_custodians()
        .map(|c| c.record.name.clone())
        .collect();
    let mut retired: BTreeSet<String> = state
        .custodians()
        .iter()
        .filter(|c| c.retired.is_some())
        .map(|c| c.record.name.clone())
        .collect();
    let known = |n: &str, live: &BTreeSet<String>, retired: &BTreeSet<String>| -> Option<String> {
        if live.contains(n) {
            None
        } else if retired.contains(n) {
            Some(format!(
                "{} is retired: a retired custodian takes part in nothing",
                text::escape(n)
            ))
        } else {
            Some(format!(
                "{} is not an enrolled custodian: see `glasskeep custodian list`",
                text::escape(n)
            ))
        }
    };
    // Sets by label: live (threshold, custodians), and pending rotations.
    let mut sets: BTreeMap<String, (u8, Vec<String>)> = state
        .sets()
        .filter(|s| s.is_live())
        .map(|s| (s.label.clone(), (s.threshold, s.custodians.clone())))
        .collect();
    let mut pending: BTreeMap<String, (u8, Vec<String>)> = state
        .pending_sets()
        .map(|s| (s.label.clone(), (s.threshold, s.custodians.clone())))
        .collect();
    let enrolled_in_plan: BTreeSet<&String> = plan
        .acts
        .iter()
        .filter(|a| a.kind() == ActKind::Enroll)
        .flat_map(|a| a.custodians.iter().flatten())
        .collect();
    for c in &plan.custodians {
        if !enrolled_in_plan.contains(c) {
            if let Some(why) = known(c, &live, &retired) {
                return Err(Refusal {
                    act: None,
                    class: RefusalClass::Rule,
                    reason: format!("roles.custodians: {why}"),
                });
            }
        }
    }
    for (i, a) in plan.acts.iter().enumerate() {
        let n = i + 1;
        let rule = |reason: String| Refusal {
            act: Some(n),
            class: RefusalClass::Rule,
            reason,
        };
        let quorum = |reason: String| Refusal {
            act: Some(n),
            class: RefusalClass::Quorum,
            reason,
        };
        let cos = a.cosigners.clone().unwrap_or_default();
        // Everyone the act names must be live when it runs (the new ones of an
        // enrollment aside).
        for who in a.people() {
            let new =
                a.kind() == ActKind::Enroll && a.custodians.iter().flatten().any(|c| c == who);
            if !new {
                if let Some(why) = known(who, &live, &retired) {
                    return Err(rule(why));
                }
            }
        }
        let label = a.label.clone().unwrap_or_default();
        let show = text::escape(&label).into_owned();
        let count_in =
            |of: &[String], among: &[String]| of.iter().filter(|x| among.contains(x)).count();
        match a.kind() {
            ActKind::Enroll => {
                let new = a.custodians.clone().unwrap_or_default();
                for c in &new {
                    if live.contains(c) || retired.contains(c) || state.custodian(c).is_some() {
                        return Err(rule(format!("{} is already enrolled", text::escape(c))));
                    }
                }
                if live.len() < q {
                    if live.len() + new.len() < q {
                        return Err(quorum(format!(
                            "the first {q} custodians enroll together; this enrolls {} after {}",
                            new.len(),
                            live.len()
                        )));
                    }
                } else {
                    let earlier = cos.iter().filter(|c| live.contains(*c)).count();
                    if earlier < q {
                        return Err(quorum(format!(
                            "enrollment needs {q} custodians enrolled earlier to cosign; the act names {earlier}"
                        )));
                    }
                }
                live.extend(new);
            }
            ActKind::Retire => {
                let name = a.name.clone().unwrap_or_default();
                let others = cos.iter().filter(|c| **c != name).count();
                if others < q {
                    return Err(quorum(format!(
                        "retiring {} needs {q} other live custodians to cosign; the act names {others}",
                        text::escape(&name)
                    )));
                }
                live.remove(&name);
                retired.insert(name);
            }
            ActKind::Seal | ActKind::Rotate => {
                let old = sets.get(&label).cloned();
                let (t, custodians) = match (a.kind(), &old) {
                    (ActKind::Seal, Some(_)) => {
                        return Err(rule(format!(
                            "{show:?} is already sealed and live: a new secret for it is a rotate act"
                        )))
                    }
                    (ActKind::Seal, None) => (
                        a.threshold.unwrap_or(0),
                        a.custodians.clone().unwrap_or_default(),
                    ),
                    (_, None) => {
                        return Err(rule(format!(
                            "no live credential is labelled {show:?}: there is nothing to rotate (seal it instead)"
                        )))
                    }
                    (_, Some((ot, oc))) => {
                        if pending.contains_key(&label) {
                            return Err(rule(format!(
                                "{show:?} already has a pending rotation: acknowledge or activate it first"
                            )));
                        }
                        (
                            a.threshold.unwrap_or(*ot),
                            a.custodians.clone().unwrap_or_else(|| oc.clone()),
                        )
                    }
                };
                if usize::from(t) > custodians.len() {
                    return Err(quorum(format!(
                        "threshold {t} with {} custodian(s) named: the set could never be opened",
                        custodians.len()
                    )));
                }
                if let Some(w) = custodians.iter().find(|c| !live.contains(*c)) {
                    return Err(rule(known(w, &live, &retired).unwrap_or_default()));
                }
                let signing = count_in(&cos, &custodians);
                if signing < usize::from(t) {
                    return Err(quorum(format!(
                        "{t} of the new set's custodians ({}) must cosign; the act names {signing}",
                        custodians.join(", ")
                    )));
                }
                if let Some((ot, oc)) = &old {
                    let old_signing = count_in(&cos, oc);
                    if old_signing < usize::from(*ot) {
                        return Err(quorum(format!(
                            "{ot} of the old set's custodians ({}) must cosign; the act names {old_signing}",
                            oc.join(", ")
                        )));
                    }
                    pending.insert(label.clone(), (t, custodians));
                } else {
                    sets.insert(label.clone(), (t, custodians));
                }
            }
            ActKind::Activate => {
                let Some(p) = pending.remove(&label) else {
                    return Err(rule(format!(
                        "{show:?} has no pending rotation to activate"
                    )));
                };
                let (ot, oc) = sets.get(&label).cloned().unwrap_or_default();
                let signing = count_in(&cos, &oc);
                if signing < usize::from(ot) {
                    return Err(quorum(format!(
                        "{ot} of the old set's custodians ({}) must cosign; the act names {signing}",
                        oc.join(", ")
                    )));
                }
                sets.insert(label.clone(), p);
            }
            ActKind::Open | ActKind::Drill | ActKind::CheckShare => {
                let set = if a.kind() == ActKind::CheckShare {
                    pending.get(&label).or(sets.get(&label))
                } else {
                    sets.get(&label)
                };
                let Some((t, oc)) = set else {
                    return Err(rule(format!(
                        "no live credential is labelled {show:?}: see `glasskeep status`"
                    )));
                };
                let with = a.custodians.clone().unwrap_or_default();
                if let Some(w) = with.iter().find(|c| !oc.contains(*c)) {
                    return Err(rule(format!(
                        "{} holds no envelope of {show:?} (its custodians: {})",
                        text::escape(w),
                        oc.join(", ")
                    )));
                }
                if a.kind() != ActKind::CheckShare && with.len() < usize::from(*t) {
                    return Err(quorum(format!(
                        "{show:?} needs {t} custodians' envelopes; the act names {} ({})",
                        with.len(),
                        with.join(", ")
                    )));
                }
            }
            ActKind::Review => {
                let seq = a.open.unwrap_or(0);
                let Some(o) = state.opening(seq) else {
                    return Err(rule(format!("entry {seq} is not an opening")));
                };
                if o.review.is_some() {
                    return Err(rule(format!("opening {seq} is already reviewed")));
                }
                if cos.iter().all(|c| o.custodians.contains(c)) {
                    return Err(quorum(format!(
                        "a review needs a cosigner who did not take part in opening {seq} ({})",
                        o.custodians.join(", ")
                    )));
                }
            }
            ActKind::Destroyed => {
                let fp = a.fingerprint.clone().unwrap_or_default();
                let found = state
                    .sets()
                    .flat_map(|s| s.envelopes.iter())
                    .filter(|e| crate::hex::encode(e.as_slice()).starts_with(&fp))
                    .count();
                if found != 1 {
                    return Err(rule(format!(
                        "{} envelope(s) recorded in the log match fingerprint {fp}",
                        found
                    )));
                }
            }
            ActKind::Checkpoint => {
                if cos.len() < q {
                    return Err(quorum(format!(
                        "a checkpoint needs the custody quorum of {q} custodians; the act names {}",
                        cos.len()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Quotes `s` for a POSIX shell when it needs it.
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,/:@+=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The command line that performs `act` under the plan at `file`.
pub fn command(act: &Act, file: &str) -> String {
    let mut c = format!("glasskeep {}", act.kind().command());
    let list = |l: &Option<Vec<String>>| l.as_ref().map(|l| sh(&l.join(","))).unwrap_or_default();
    let each_envelope = |c: &mut String, label: &str| {
        for who in act.custodians.iter().flatten() {
            c.push_str(&format!(" --envelope <{who}'s envelope of {label}>"));
        }
    };
    let label = act.label.as_deref().unwrap_or("");
    match act.kind() {
        ActKind::Enroll => {
            for (i, n) in act.custodians.iter().flatten().enumerate() {
                c.push_str(&format!(" --name {}", sh(n)));
                if let Some(s) = act.serials.as_ref().and_then(|s| s.get(i)) {
                    c.push_str(&format!(" --serial {s}"));
                }
            }
            if act.cosigners.is_some() {
                c.push_str(&format!(" --cosigners {}", list(&act.cosigners)));
            }
        }
        ActKind::Retire => c.push_str(&format!(
            " {} --reason {} --cosigners {}",
            sh(act.name.as_deref().unwrap_or("")),
            sh(act.reason.as_deref().unwrap_or("")),
            list(&act.cosigners)
        )),
        ActKind::Seal => c.push_str(&format!(
            " --label {} --threshold {} --custodians {} --kind {} --cosigners {}",
            sh(label),
            act.threshold.unwrap_or(0),
            list(&act.custodians),
            act.secret_kind.map_or("password", SecretKind::name),
            list(&act.cosigners)
        )),
        ActKind::Open => {
            c.push_str(&format!(
                " --label {} --reason {}",
                sh(label),
                sh(act.reason.as_deref().unwrap_or(""))
            ));
            if let Some(i) = &act.incident {
                c.push_str(&format!(" --incident {}", sh(i)));
            }
            each_envelope(&mut c, label);
        }
        ActKind::Drill => {
            c.push_str(&format!(" --label {}", sh(label)));
            each_envelope(&mut c, label);
        }
        ActKind::CheckShare => each_envelope(&mut c, label),
        ActKind::Rotate => {
            c.push_str(&format!(" --label {}", sh(label)));
            if act.custodians.is_some() {
                c.push_str(&format!(" --custodians {}", list(&act.custodians)));
            }
            if let Some(t) = act.threshold {
                c.push_str(&format!(" --threshold {t}"));
            }
            if let Some(k) = act.secret_kind {
                c.push_str(&format!(" --kind {}", k.name()));
            }
            c.push_str(&format!(" --cosigners {}", list(&act.cosigners)));
        }
        ActKind::Activate => c.push_str(&format!(
            " --label {} --cosigners {}",
            sh(label),
            list(&act.cosigners)
        )),
        ActKind::Review => c.push_str(&format!(
            " --open {} --verdict {} --notes <notes> --cosigners {}",
            act.open.unwrap_or(0),
            act.verdict.map_or("<justified|unjustified>", Verdict::name),
            list(&act.cosigners)
        )),
        ActKind::Destroyed => c.push_str(&format!(
            " --fingerprint {} --witnesses {}",
            act.fingerprint.as_deref().unwrap_or(""),
            list(&act.witnesses)
        )),
        ActKind::Checkpoint => c.push_str(&format!(" --custodians {}", list(&act.cosigners))),
    }
    c.push_str(&format!(" --plan {}", sh(file)));
    c
}

/// The runbook of this ceremony: numbered steps, each an exact command with `--plan`.
pub fn runbook(plan: &Plan, file: &str, training: bool) -> String {
    let mut s = String::new();
    if training {
        s.push_str("TRAINING custody: simulated YubiKeys only\n");
    }
    s.push_str(&format!(
        "Runbook: {}\n  custody {} ({}), {}{} (UTC)\n  plan SHA-256 {}\n  administrator {}; custodians {}{}\n\n",
        text::escape(&plan.ceremony),
        text::escape(&plan.org),
        crate::hex::encode(&plan.custody_id),
        plan.date_text,
        if plan.window_days > 0 {
            format!(" to {}", civil_from_days(plan.date + i64::from(plan.window_days)))
        } else {
            String::new()
        },
        crate::hex::encode(&plan.sha256),
        text::escape(&plan.administrator),
        plan.custodians.join(", "),
        if plan.witnesses.is_empty() {
            String::new()
        } else {
            format!("; witnesses {}", plan.witnesses.join(", "))
        }
    ));
    let mut step = 1;
    s.push_str(&format!(
        "  {step}. Check the machine, with every custodian's YubiKey at hand:\n       glasskeep doctor\n"
    ));
    for a in &plan.acts {
        step += 1;
        let cmd = command(a, file);
        s.push_str(&format!(
            "  {step}. {}:\n       {cmd} --dry-run\n       {cmd}\n",
            a.title()
        ));
    }
    step += 1;
    s.push_str(&format!(
        "  {step}. Write the head hash the last command printed on the ceremony sheet, with the plan's SHA-256; the administrator{} sign it.\n",
        if plan.witnesses.is_empty() { "" } else { " and the witnesses" }
    ));
    s
}

#[cfg(test)]
mod tests;
