//! Ceremony sheets: the paper record of one ceremony, printed after it committed.
//!
//! A sheet names the custody, the ceremony (the kinds of its entries), the plan it ran
//! under, its time, every entry it wrote (seq, kind, summary), the new head in hex and
//! as a QR code ([`head`]), the live share sets with their envelope fingerprints, and a
//! signature line for each custodian who signed its checkpoint and each witness. It is
//! built from the log alone, so `log sheet` prints the same sheet after the fact. A
//! TRAINING custody says TRAINING on every page.

pub mod head;
mod layout;

use thiserror::Error;

use crate::envelope::render::Paper;
use crate::hex;
use crate::log::body::Body;
use crate::log::replay::SetStatus;
use crate::log::{show, Entry, FailureClass, Finding, Hash, State, VerifyReport};

pub use head::{HeadCode, HeadCodeError, HeadScanError};

/// Longest witness name, in bytes.
pub const MAX_WITNESS_LEN: usize = 64;
/// Most witnesses one sheet lists.
pub const MAX_WITNESSES: usize = 16;

/// Why a sheet could not be made.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SheetError {
    /// The range asked for is not in the log.
    #[error("the log has entries 0 to {last}; a sheet of entries {from} to {to} cannot be printed — pick --from within the log")]
    Range {
        /// First seq asked for.
        from: u64,
        /// Last seq asked for.
        to: u64,
        /// The log's last seq.
        last: u64,
    },
    /// The log does not replay (the sheet would vouch for a broken log).
    #[error("the log does not replay at entry {seq}: {reason} — run `glasskeep log verify`")]
    Replay {
        /// The entry.
        seq: u64,
        /// Why.
        reason: String,
    },
    /// A witness name that cannot go on paper.
    #[error("witness name {name:?}: {reason}")]
    Witness {
        /// The name, escaped.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// One entry as the sheet lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryLine {
    /// Seq.
    pub seq: u64,
    /// Kind name.
    pub kind: &'static str,
    /// Time, RFC 3339 UTC.
    pub time: String,
    /// Who and what, escaped.
    pub summary: String,
}

/// One share set as the sheet lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetLine {
    /// Label, escaped.
    pub label: String,
    /// Set id, hex.
    pub set_id: String,
    /// "sealed", "OPENED" or "PENDING".
    pub status: &'static str,
    /// Threshold.
    pub threshold: u8,
    /// (share index, custodian, envelope fingerprint) per share.
    pub envelopes: Vec<(usize, String, Hash)>,
}

/// Everything a ceremony sheet says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sheet {
    /// The organisation, escaped.
    pub org: String,
    /// A training custody.
    pub training: bool,
    /// The custody quorum.
    pub quorum: u8,
    /// The ceremony: the kinds of its acts.
    pub ceremony: String,
    /// Plan hashes of its checkpoints.
    pub plans: Vec<Hash>,
    /// Time of its first and last entry, RFC 3339 UTC.
    pub time: (String, String),
    /// The entries it wrote.
    pub entries: Vec<EntryLine>,
    /// The new head.
    pub head: HeadCode,
    /// Sets live (or pending) after it.
    pub sets: Vec<SetLine>,
    /// Custodians who signed its checkpoints, ascending.
    pub signers: Vec<String>,
    /// Witnesses named for the sheet.
    pub witnesses: Vec<String>,
}

/// Checks a witness name for the sheet: 1 to [`MAX_WITNESS_LEN`] bytes, no control,
/// bidi or zero-width character, not only spaces.
pub fn check_witness(name: &str) -> Result<(), SheetError> {
    let bad = |reason| SheetError::Witness {
        name: crate::text::escape(name).into_owned(),
        reason,
    };
    if name.trim().is_empty() {
        return Err(bad("empty — give the witness's name"));
    }
    if name.len() > MAX_WITNESS_LEN {
        return Err(bad("longer than 64 bytes — shorten it"));
    }
    if name.chars().any(crate::text::forbidden) {
        return Err(bad(
            "holds a control, bidi or zero-width character — type it plainly",
        ));
    }
    Ok(())
}

fn rfc3339(t: u64) -> String {
    let at = std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(t));
    at.map_or_else(
        || format!("unix time {t}"),
        |at| humantime::format_rfc3339_seconds(at).to_string(),
    )
}

fn esc(s: &str) -> String {
    crate::text::escape(s).into_owned()
}

/// The seq at which the last ceremony of `entries` starts: just after the checkpoint
/// before the last one (a ceremony's entries end with its checkpoint), or 0.
pub fn last_ceremony_start(entries: &[Entry]) -> u64 {
    let Some((_, rest)) = entries.split_last() else {
        return 0;
    };
    rest.iter()
        .rev()
        .find(|e| matches!(e.body, Body::Checkpoint { .. }))
        .map_or(0, |e| e.seq + 1)
}

impl Sheet {
    /// The sheet of entries `from..=to` of a log whose entries (from genesis) are
    /// `entries`, with `witnesses` (each checked by [`check_witness`]).
    pub fn new(
        entries: &[Entry],
        from: u64,
        to: u64,
        witnesses: &[String],
    ) -> Result<Sheet, SheetError> {
        if witnesses.len() > MAX_WITNESSES {
            return Err(SheetError::Witness {
                name: format!("{} names", witnesses.len()),
                reason: "more than 16 witnesses — list the others on the back",
            });
        }
        for w in witnesses {
            check_witness(w)?;
        }
        let last = (entries.len() as u64).saturating_sub(1);
        if entries.is_empty() || from > to || to > last {
            return Err(SheetError::Range { from, to, last });
        }
        let mut state = State::new();
        for e in &entries[..=to as usize] {
            state.apply(e).map_err(|err| SheetError::Replay {
                seq: e.seq,
                reason: err.to_string(),
            })?;
        }
        let custody = state.custody().cloned().ok_or(SheetError::Replay {
            seq: 0,
            reason: "no genesis".into(),
        })?;
        let range = &entries[from as usize..=to as usize];
        let mut kinds: Vec<&'static str> = Vec::new();
        let mut plans = Vec::new();
        let mut signers: Vec<String> = Vec::new();
        let mut lines = Vec::new();
        for e in range {
            let kind = e.body.kind().name();
            if let Body::Checkpoint {
                signatures, plan, ..
            } = &e.body
            {
                plans.extend(plan.iter().copied());
                signers.extend(signatures.iter().map(|s| s.custodian.clone()));
            } else if !kinds.contains(&kind) {
                kinds.push(kind);
            }
            let line = show::line(e);
            let who = if line.who.is_empty() {
                String::new()
            } else {
                format!("[{}] ", line.who.join(", "))
            };
            lines.push(EntryLine {
                seq: e.seq,
                kind,
                time: line.time,
                summary: esc(&format!("{who}{}", line.what)),
            });
        }
        signers.sort();
        signers.dedup();
        let ceremony = if kinds.is_empty() {
            "checkpoint".to_owned()
        } else {
            kinds.join(", ")
        };
        let sets = state
            .sets()
            .filter(|s| s.is_live() || matches!(s.status, SetStatus::Pending { .. }))
            .map(|s| SetLine {
                label: esc(&s.label),
                set_id: s.id.to_hex(),
                status: match s.status {
                    SetStatus::Opened => "OPENED",
                    SetStatus::Pending { .. } => "PENDING",
                    _ => "sealed",
                },
                threshold: s.threshold,
                envelopes: s
                    .custodians
                    .iter()
                    .zip(&s.envelopes)
                    .enumerate()
                    .map(|(i, (c, fp))| (i + 1, esc(c), *fp))
                    .collect(),
            })
            .collect();
        let head_entry = &entries[to as usize];
        Ok(Sheet {
            org: esc(&custody.org),
            training: custody.training,
            quorum: custody.quorum,
            ceremony,
            plans,
            time: (rfc3339(range[0].time), rfc3339(head_entry.time)),
            entries: lines,
            head: HeadCode {
                custody_id: custody.custody_id,
                seq: head_entry.seq,
                head: head_entry.hash(),
            },
            sets,
            signers: signers.iter().map(|s| esc(s)).collect(),
            witnesses: witnesses.to_vec(),
        })
    }

    /// The custody id, hex.
    pub fn custody_id_hex(&self) -> String {
        hex::encode(&self.head.custody_id)
    }

    /// The sheet as a PDF on `paper` (base-14 fonts, nothing embedded). The same sheet
    /// always renders to the same bytes.
    pub fn to_pdf(&self, paper: Paper) -> Vec<u8> {
        crate::envelope::render::pdf_of_pages(&layout::pages(self, paper), paper)
    }
}

/// Holds a `log verify` report made with `code.head` as the anchor to the rest of the
/// head code: the log must be the code's custody, and the anchor its entry `code.seq`.
/// A mismatch becomes the report's (anchor) failure; an earlier failure of the chain or
/// the signatures stays, since it says more.
pub fn check_anchor(report: &mut VerifyReport, code: &HeadCode) {
    let theirs = hex::encode(&code.custody_id);
    let finding = |detail: String| Finding {
        seq: Some(code.seq),
        offset: None,
        class: FailureClass::Anchor,
        detail,
    };
    let keep = report
        .failure
        .as_ref()
        .is_some_and(|f| f.class != FailureClass::Anchor);
    if keep {
        return;
    }
    if let Some(ours) = &report.custody_id {
        if *ours != theirs {
            report.failure = Some(finding(format!(
                "the sheet's head code is of custody {theirs}, this log is custody {ours}: use the sheet of this custody"
            )));
            report.ok = false;
            return;
        }
    }
    match report.anchor_seq {
        Some(at) if at != code.seq => {
            report.failure = Some(finding(format!(
                "the sheet's head code names entry {}, but its hash is entry {at} of this log: the sheet or the log was altered",
                code.seq
            )));
            report.ok = false;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
