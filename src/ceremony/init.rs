//! Starting a custody: the genesis entry.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::log::{Body, Entry, Hash, Store};

use super::CeremonyError;

/// What `init` did.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// The new custody's random id.
    pub custody_id: [u8; 16],
    /// The log's head (write it on paper).
    pub head: Hash,
}

/// SHA-256 of the running binary, recorded in genesis so an auditor can tell which
/// build started the custody.
pub fn binary_digest() -> Result<Hash, CeremonyError> {
    let exe = std::env::current_exe().map_err(|e| CeremonyError::io("the running binary", e))?;
    let bytes = std::fs::read(&exe).map_err(|e| CeremonyError::io(&exe, e))?;
    Ok(Sha256::digest(&bytes).into())
}

/// Creates `dir/ceremony.log` with its genesis entry, recording the custody quorum
/// `quorum` (at least 2): how many custodians acts on the whole custody need, and the
/// custodians' `term` in seconds (one day to ten years): how often each must re-affirm.
pub fn init(
    dir: &Path,
    org: &str,
    training: bool,
    quorum: u8,
    term: u64,
    time: u64,
) -> Result<InitReport, CeremonyError> {
    crate::text::check("org", org, 1, crate::log::body::MAX_ORG)?;
    if !(crate::log::body::MIN_TERM..=crate::log::body::MAX_TERM).contains(&term) {
        return Err(CeremonyError::Term { term });
    }
    if quorum < 2 {
        return Err(CeremonyError::Threshold {
            threshold: usize::from(quorum),
            custodians: 0,
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| CeremonyError::io(dir, e))?;
    let mut custody_id = [0u8; 16];
    getrandom::fill(&mut custody_id).map_err(|_| CeremonyError::Randomness)?;
    let genesis = Entry {
        seq: 0,
        prev: [0; 32],
        time,
        body: Body::Genesis {
            org: org.to_owned(),
            training,
            custody_id,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            binary_sha256: binary_digest()?,
            quorum,
            term,
        },
    };
    let store = Store::init(dir, &genesis)?;
    Ok(InitReport {
        custody_id,
        head: store.state().head(),
    })
}
