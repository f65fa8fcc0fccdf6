//! `status`: what the log says now — sealed, open, overdue, unreviewed — derived by
//! replaying it (there is no other state). What is left to do is split, by the same
//! rule `log verify` applies (`glasskeep_core::log::policy`), into pending items (within
//! their window) and violations (past it).

use std::path::Path;

use serde::Serialize;

use crate::log::replay::SetStatus;
use crate::log::{assess, Obligation, Outcome};
use glasskeep_core::hex;

use super::CeremonyError;

/// The custody at a glance. Serializes as `status --json`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// TRAINING custody (simulated YubiKeys): first in every rendering.
    pub training: bool,
    /// The organisation.
    pub org: String,
    /// The custody id, hex.
    pub custody_id: String,
    /// Entries in the log.
    pub entries: u64,
    /// The head hash, hex.
    pub head: String,
    /// Entries after the last checkpoint (they carry no custodian signature yet).
    pub uncheckpointed: u64,
    /// Custodians.
    pub custodians: Vec<CustodianLine>,
    /// Share sets.
    pub sets: Vec<SetLine>,
    /// Opened credentials not yet rotated.
    pub open: Vec<OpenLine>,
    /// Openings without a review.
    pub unreviewed: Vec<u64>,
    /// Envelopes of superseded sets not yet recorded as destroyed (fingerprints, hex).
    pub envelopes_to_destroy: Vec<String>,
    /// The custody quorum.
    pub quorum: u8,
    /// Live sets that include a retired custodian: they must be rotated (labels).
    pub must_rotate: Vec<String>,
    /// Work within its window (kind `pending/…`, subject, due, seq, detail).
    pub pending: Vec<Obligation>,
    /// Requirements whose window has closed (kind `policy/…`, subject, due, seq,
    /// detail).
    pub violations: Vec<Obligation>,
}

/// One custodian.
#[derive(Debug, Clone, Serialize)]
pub struct CustodianLine {
    /// Name.
    pub name: String,
    /// YubiKey serial.
    pub serial: u32,
    /// Firmware.
    pub firmware: String,
    /// The sign key is on firmware with Yubico advisory YSA-2024-03, accepted at
    /// enrollment.
    pub firmware_risk_accepted: bool,
    /// Seq of the retire entry, if retired.
    pub retired: Option<u64>,
}

/// One share set.
#[derive(Debug, Clone, Serialize)]
pub struct SetLine {
    /// Label.
    pub label: String,
    /// Set id, hex.
    pub set_id: String,
    /// What the secret is (password, totp, recovery-codes, file).
    pub kind: &'static str,
    /// Threshold.
    pub threshold: u8,
    /// Custodians in index order.
    pub custodians: Vec<String>,
    /// sealed | opened | superseded.
    pub status: &'static str,
}

/// One opened credential.
#[derive(Debug, Clone, Serialize)]
pub struct OpenLine {
    /// Label.
    pub label: String,
    /// The open entry.
    pub opened_seq: u64,
    /// Rotation deadline, unix seconds.
    pub deadline: u64,
    /// Past the deadline at `now`.
    pub overdue: bool,
}

impl StatusReport {
    /// Failed when anything is past its window; pending when, with `strict`, anything
    /// is left to do within it; otherwise ok.
    pub fn outcome(&self, strict: bool) -> Outcome {
        if !self.violations.is_empty() {
            Outcome::Failed
        } else if strict && !self.pending.is_empty() {
            Outcome::Pending
        } else {
            Outcome::Ok
        }
    }
}

/// Replays the log in `dir` and summarises it at time `now`.
pub fn status(dir: &Path, now: u64) -> Result<StatusReport, CeremonyError> {
    let state = super::read_state(dir)?;
    let s = &state;
    let custody = s.custody().ok_or_else(|| CeremonyError::NoCustody {
        dir: dir.to_path_buf(),
    })?;
    let last_entry = s.next_seq().saturating_sub(1);
    let uncheckpointed = match s.last_checkpoint() {
        Some(c) => last_entry - c,
        None => s.next_seq(),
    };
    let sets = s
        .sets()
        .map(|set| SetLine {
            label: set.label.clone(),
            set_id: set.id.to_hex(),
            kind: set.secret_kind.name(),
            threshold: set.threshold,
            custodians: set.custodians.clone(),
            status: match set.status {
                SetStatus::Sealed => "sealed",
                SetStatus::Opened => "opened",
                SetStatus::Superseded { .. } => "superseded",
            },
        })
        .collect();
    let open = s
        .open_credentials()
        .into_iter()
        .map(|o| OpenLine {
            label: o.label,
            opened_seq: o.opened_seq,
            deadline: o.deadline,
            overdue: now > o.deadline,
        })
        .collect();
    let envelopes_to_destroy = s
        .envelopes_not_destroyed()
        .into_iter()
        .filter(|(_, e)| {
            s.set(&e.set)
                .is_some_and(|set| matches!(set.status, SetStatus::Superseded { .. }))
        })
        .map(|(fp, _)| hex::encode(&fp))
        .collect();
    let judged = assess(s, Some(now));
    Ok(StatusReport {
        training: custody.training,
        org: custody.org.clone(),
        custody_id: hex::encode(&custody.custody_id),
        entries: s.next_seq(),
        head: hex::encode(&s.head()),
        uncheckpointed,
        custodians: s
            .custodians()
            .iter()
            .map(|c| CustodianLine {
                name: c.record.name.clone(),
                serial: c.record.serial,
                firmware: c.record.firmware.to_string(),
                firmware_risk_accepted: c.firmware_risk_accepted,
                retired: c.retired,
            })
            .collect(),
        sets,
        open,
        unreviewed: s.unreviewed_openings().map(|o| o.seq).collect(),
        envelopes_to_destroy,
        quorum: custody.quorum,
        must_rotate: s
            .sets()
            .filter(|set| !matches!(set.status, SetStatus::Superseded { .. }))
            .filter(|set| {
                set.custodians
                    .iter()
                    .any(|n| s.custodian(n).is_some_and(|c| !c.is_live()))
            })
            .map(|set| set.label.clone())
            .collect(),
        pending: judged.pending,
        violations: judged.violations,
    })
}
