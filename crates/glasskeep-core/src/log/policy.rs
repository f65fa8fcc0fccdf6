//! What a custody still has to do, and what it failed to do in time (FORMAT.md,
//! "Pending items and violations").
//!
//! A legitimate opening leaves work behind it — a review, a rotation, envelopes to
//! destroy — and the people at the safe have a window for each. While a window is open
//! the item is *pending*: the log is sound and `log verify` passes. Once a window has
//! closed with the work undone, the item is a *violation* and verification fails. Both
//! `log verify` and `status` ask this one module, so they never disagree.

use std::fmt;

use serde::Serialize;

use crate::hex;
use crate::log::replay::{SetStatus, State};

/// How long after the rotate entry that superseded a set its envelopes may stay
/// undestroyed before that is a violation: 30 days, time to collect paper from
/// separate safes. Fixed, not a flag, so that every verifier reaches the same verdict.
pub const DESTRUCTION_GRACE: u64 = 30 * 86_400;

/// The review window `seal` and `rotate` record when none is given: 7 days.
pub const DEFAULT_REVIEW_WITHIN: u64 = 7 * 86_400;

/// A requirement whose window has closed with the work undone (a violation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyClass {
    /// An opening was not reviewed within its set's review window.
    ReviewOverdue,
    /// A set was rotated after its deadline.
    RotatedLate,
    /// An opened set is past its deadline and not rotated.
    RotationOverdue,
    /// An envelope of a superseded set is not recorded destroyed after the grace period.
    EnvelopeNotDestroyed,
    /// Entries after the last checkpoint: nobody has signed them yet.
    UncheckpointedTail,
    /// A set includes a retired custodian and was not rotated within its window from
    /// the retirement.
    MustRotate,
}

/// Work the custody still has to do, within its window (not a failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PendingClass {
    /// An opened set, to be rotated by its deadline.
    Rotate,
    /// An opening, to be reviewed by someone who did not take part.
    Review,
    /// An envelope of a superseded set, to be destroyed within the grace period.
    DestroyEnvelope,
    /// A set that includes a retired custodian, to be rotated within its window.
    RotateAfterRetirement,
    /// A new custody with fewer live custodians than its quorum.
    Enroll,
    /// A custody with no sealed credential yet.
    Seal,
}

/// Which list an item is on, and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemClass {
    /// Within its window.
    Pending(PendingClass),
    /// Past its window.
    Violation(PolicyClass),
}

/// One pending item or violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Obligation {
    /// The entry it stems from (the opening, the rotate, the retire, the first
    /// uncheckpointed entry); `None` for the custody as a whole.
    pub seq: Option<u64>,
    /// `pending/NAME` or `policy/NAME`, identical in text and JSON.
    pub kind: ItemClass,
    /// What it is about: an opening, an envelope, a set, the custody.
    pub subject: String,
    /// When its window closes (closed) — Unix seconds; `None` when it has none.
    pub due: Option<u64>,
    /// In words.
    pub detail: String,
}

/// Everything the custody owes, split by whether its window is still open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assessment {
    /// Within their windows, sorted by seq (custody-wide items first).
    pub pending: Vec<Obligation>,
    /// Past their windows, sorted by seq; at one seq in the documented class order.
    pub violations: Vec<Obligation>,
}

/// Judges `state` at `now` (Unix seconds). Without a clock nothing is judged overdue:
/// every open window stays pending, and only what the log itself proves late
/// (`rotated-late`, `uncheckpointed-tail`) is a violation.
pub fn assess(state: &State, now: Option<u64>) -> Assessment {
    let mut a = Assessment::default();
    let past = |due: u64| now.is_some_and(|n| n > due);
    let label_of = |id| state.set(id).map_or("", |s| s.label.as_str());

    if let Some(custody) = state.custody() {
        let live = state.live_custodians().count();
        if live < usize::from(custody.quorum) {
            a.pending.push(item(
                None,
                ItemClass::Pending(PendingClass::Enroll),
                "custody".into(),
                None,
                format!(
                    "{live} of the quorum of {} custodians enrolled: enroll the first ones together",
                    custody.quorum
                ),
            ));
        }
        if state.sets().next().is_none() {
            a.pending.push(item(
                None,
                ItemClass::Pending(PendingClass::Seal),
                "custody".into(),
                None,
                "no credential sealed yet".into(),
            ));
        }
    }

    for o in state.openings() {
        let subject = format!("opening {} of \"{}\"", o.seq, label_of(&o.set));
        if o.review.is_none() {
            let due = o.review_deadline;
            if past(due) {
                let detail = format!("not reviewed by {}", rfc3339(due));
                a.violations.push(item(
                    Some(o.seq),
                    ItemClass::Violation(PolicyClass::ReviewOverdue),
                    subject.clone(),
                    Some(due),
                    detail,
                ));
            } else {
                let detail = format!(
                    "to be reviewed by {} by someone who did not take part (`glasskeep review --open {}`)",
                    rfc3339(due),
                    o.seq
                );
                a.pending.push(item(
                    Some(o.seq),
                    ItemClass::Pending(PendingClass::Review),
                    subject.clone(),
                    Some(due),
                    detail,
                ));
            }
        }
        match o.rotated {
            Some((rseq, rtime)) if rtime > o.deadline => {
                let detail = format!(
                    "rotated at entry {rseq}, {}s after the deadline {}",
                    rtime - o.deadline,
                    rfc3339(o.deadline)
                );
                a.violations.push(item(
                    Some(o.seq),
                    ItemClass::Violation(PolicyClass::RotatedLate),
                    subject,
                    Some(o.deadline),
                    detail,
                ));
            }
            Some(_) => {}
            None if past(o.deadline) => {
                let detail = format!("not rotated, past the deadline {}", rfc3339(o.deadline));
                a.violations.push(item(
                    Some(o.seq),
                    ItemClass::Violation(PolicyClass::RotationOverdue),
                    subject,
                    Some(o.deadline),
                    detail,
                ));
            }
            None => {
                let detail = format!("to be rotated by {}", rfc3339(o.deadline));
                a.pending.push(item(
                    Some(o.seq),
                    ItemClass::Pending(PendingClass::Rotate),
                    subject,
                    Some(o.deadline),
                    detail,
                ));
            }
        }
    }

    for s in state.sets() {
        let SetStatus::Superseded { seq } = s.status else {
            continue;
        };
        let due = s
            .superseded_time
            .unwrap_or_default()
            .saturating_add(DESTRUCTION_GRACE);
        for fp in &s.envelopes {
            if state.envelope(fp).is_none_or(|e| e.destroyed.is_some()) {
                continue;
            }
            let subject = format!("envelope {} of \"{}\"", hex::encode(fp), s.label);
            let superseded = format!("set {} was superseded at entry {seq}", s.id);
            if past(due) {
                let detail = format!("{superseded}; not recorded destroyed by {}", rfc3339(due));
                a.violations.push(item(
                    Some(seq),
                    ItemClass::Violation(PolicyClass::EnvelopeNotDestroyed),
                    subject,
                    Some(due),
                    detail,
                ));
            } else {
                let detail = format!(
                    "{superseded}; to be destroyed before two witnesses by {}",
                    rfc3339(due)
                );
                a.pending.push(item(
                    Some(seq),
                    ItemClass::Pending(PendingClass::DestroyEnvelope),
                    subject,
                    Some(due),
                    detail,
                ));
            }
        }
    }

    for c in state.custodians() {
        let (Some(retired), Some(when)) = (c.retired, c.retired_time) else {
            continue;
        };
        for s in state.sets() {
            let live = !matches!(s.status, SetStatus::Superseded { .. });
            if !live || !s.custodians.contains(&c.record.name) {
                continue;
            }
            let due = when.saturating_add(s.rotate_within);
            let holders = s
                .custodians
                .iter()
                .filter(|n| state.custodian(n).is_some_and(|x| x.is_live()))
                .count();
            let short = if holders < usize::from(s.threshold) {
                format!(
                    "; only {holders} of its custodians are live, fewer than its threshold {}",
                    s.threshold
                )
            } else {
                String::new()
            };
            let subject = format!("set {} \"{}\"", s.id, s.label);
            let name = &c.record.name;
            if past(due) {
                let detail = format!(
                    "includes {name}, retired at entry {retired}; not rotated by {}{short}",
                    rfc3339(due)
                );
                a.violations.push(item(
                    Some(retired),
                    ItemClass::Violation(PolicyClass::MustRotate),
                    subject,
                    Some(due),
                    detail,
                ));
            } else {
                let detail = format!(
                    "includes {name}, retired at entry {retired}; to be rotated by {}{short}",
                    rfc3339(due)
                );
                a.pending.push(item(
                    Some(retired),
                    ItemClass::Pending(PendingClass::RotateAfterRetirement),
                    subject,
                    Some(due),
                    detail,
                ));
            }
        }
    }

    // Genesis alone needs no checkpoint: nothing has been enrolled to sign one yet.
    let len = state.next_seq();
    let from = state.last_checkpoint().map_or(1, |c| c + 1);
    if from < len {
        a.violations.push(item(
            Some(from),
            ItemClass::Violation(PolicyClass::UncheckpointedTail),
            format!("entries {from}..{}", len - 1),
            None,
            "not covered by any checkpoint: nobody has signed them".into(),
        ));
    }

    // Stable: at one seq the order of the pushes above (the documented class order),
    // then seal order and share index.
    a.pending.sort_by_key(|o| o.seq);
    a.violations.sort_by_key(|o| o.seq);
    a
}

fn item(
    seq: Option<u64>,
    kind: ItemClass,
    subject: String,
    due: Option<u64>,
    detail: String,
) -> Obligation {
    Obligation {
        seq,
        kind,
        subject,
        due,
        detail,
    }
}

/// A time as RFC 3339, UTC, seconds.
pub(crate) fn rfc3339(t: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.min(253_402_300_799));
    humantime::format_rfc3339_seconds(t).to_string()
}

impl PolicyClass {
    /// The kebab-case name printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            PolicyClass::ReviewOverdue => "review-overdue",
            PolicyClass::RotatedLate => "rotated-late",
            PolicyClass::RotationOverdue => "rotation-overdue",
            PolicyClass::EnvelopeNotDestroyed => "envelope-not-destroyed",
            PolicyClass::UncheckpointedTail => "uncheckpointed-tail",
            PolicyClass::MustRotate => "must-rotate",
        }
    }
}

impl PendingClass {
    /// The kebab-case name printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            PendingClass::Rotate => "rotate",
            PendingClass::Review => "review",
            PendingClass::DestroyEnvelope => "destroy-envelope",
            PendingClass::RotateAfterRetirement => "rotate-after-retirement",
            PendingClass::Enroll => "enroll",
            PendingClass::Seal => "seal",
        }
    }
}

impl fmt::Display for ItemClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemClass::Pending(p) => write!(f, "pending/{}", p.name()),
            ItemClass::Violation(v) => write!(f, "policy/{}", v.name()),
        }
    }
}

impl Serialize for ItemClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for Obligation {
    /// `entry SEQ: KIND: SUBJECT: DETAIL` (no entry for custody-wide items).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(seq) = self.seq {
            write!(f, "entry {seq}: ")?;
        }
        write!(f, "{}: {}: {}", self.kind, self.subject, self.detail)
    }
}
