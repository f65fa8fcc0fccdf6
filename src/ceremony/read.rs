//! Read-only access to the log for commands that change nothing (`status`, `custodian
//! show`, `log verify`, `log show`): they read the file without taking the writer's
//! lock, so an auditor can look while a ceremony is writing.

use std::path::Path;

use crate::log::show::{self, Format};
use crate::log::store::{replay_bytes, LOG_FILE};
use crate::log::verify::read_log_entries;
use crate::log::{Entry, State, StoreError, VerifyOptions, VerifyReport};

use super::{AttestationChecker, CeremonyError};

pub(super) fn log_bytes(dir: &Path) -> Result<Vec<u8>, CeremonyError> {
    let path = dir.join(LOG_FILE);
    std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CeremonyError::NoCustody {
                dir: dir.to_owned(),
            }
        } else {
            CeremonyError::io(path, e)
        }
    })
}

/// The replayed state of the committed log.
pub fn read_state(dir: &Path) -> Result<State, CeremonyError> {
    Ok(replay_bytes(&log_bytes(dir)?)?)
}

/// `log verify`: every check, with each enroll entry's attestation re-verified under
/// the custody's trust.
pub fn verify_log(dir: &Path, opts: &VerifyOptions) -> Result<VerifyReport, CeremonyError> {
    Ok(crate::log::verify(
        &log_bytes(dir)?,
        &AttestationChecker,
        opts,
    ))
}

/// `log show --format html`: the postmortem report, verification at the top. A log
/// that does not read to its end still gets a report: the verification box says where
/// and why, and the timeline holds nothing, since no entry of it can be vouched for.
pub fn postmortem_html(dir: &Path, opts: &VerifyOptions) -> Result<String, CeremonyError> {
    let data = log_bytes(dir)?;
    let report = crate::log::verify(&data, &AttestationChecker, opts);
    let lines: Vec<show::Line> = read_log_entries(&data)
        .map(|entries| entries.iter().map(show::line).collect())
        .unwrap_or_default();
    Ok(glasskeep_core::report::html(&lines, &report))
}

/// Every intact entry of the committed log, from genesis (a ceremony sheet is drawn
/// from them).
pub fn log_entries(dir: &Path) -> Result<Vec<Entry>, CeremonyError> {
    let data = log_bytes(dir)?;
    read_log_entries(&data).map_err(|f| {
        CeremonyError::Log(StoreError::Corrupt {
            offset: f.offset.unwrap_or_default(),
            seq: f.seq,
            reason: format!(
                "{}: run `glasskeep log verify` for the full report",
                f.detail
            ),
        })
    })
}

/// `log show`: the transcript of every intact entry.
pub fn transcript(dir: &Path, format: Format) -> Result<String, CeremonyError> {
    Ok(show::render(&log_entries(dir)?, format))
}
