//! The ceremonies: init, enroll, seal, open, drill, check-share, rotate, review,
//! envelope destruction and checkpoints. Each one reads the log, does its work, and
//! appends its entries plus a checkpoint cosigned by the custodians present in **one**
//! transaction: a ceremony that fails part-way leaves `ceremony.log` exactly as it was.
//!
//! The people at the safe are reached only through [`Operator`] (notices and PINs) and
//! the cards only through [`Cards`], so the ceremonies run the same against real
//! YubiKeys, the simulated card behind pcscd, and in-process test cards.

#[cfg(feature = "card")]
mod cosign;
#[cfg(feature = "card")]
mod enroll;
mod envelopes;
mod init;
#[cfg(feature = "card")]
mod open;
mod read;
#[cfg(feature = "card")]
mod seal;
mod status;

use std::path::PathBuf;

use thiserror::Error;

use crate::attestation::Trust;
use crate::custodian::CustodianRecord;
use crate::envelope::scan::ScanError;
use crate::log::{ReplayError, StoreError};
use crate::seal::{SealError, UnsealError};
#[cfg(feature = "card")]
use crate::secret::Pin;
use crate::secret::SecretInputError;
use crate::shamir::{CombineError, FormatError, SplitError};
#[cfg(feature = "card")]
use glasskeep_card::{CardInfo, Token, TokenError};

#[cfg(feature = "card")]
pub use enroll::{enroll, EnrollRequest};
pub use envelopes::{load_envelope, EnvelopeFile};
pub use init::{binary_digest, init, InitReport};
#[cfg(feature = "card")]
pub use open::{check_share, drill, open, OpenReport, OpenRequest};
pub use read::{read_state, transcript, verify_log};
#[cfg(feature = "card")]
pub use seal::{
    checkpoint, destroyed, precheck_seal, review, rotate, seal, CeremonyReport, Review,
    RotateRequest, SealReport, SealRequest, SealedEnvelope,
};
pub use status::{status, StatusReport};

#[cfg(feature = "card")]
/// How a ceremony talks to the people at the safe.
pub trait Operator {
    /// A line for the people present: progress, and "touch your YubiKey now" right
    /// before every operation that waits for a touch.
    fn notice(&self, message: &str);
    /// The PIN of `custodian`'s YubiKey with this serial.
    fn pin(&mut self, custodian: &str, serial: u32) -> Result<Pin, SecretInputError>;
}

#[cfg(feature = "card")]
/// How a ceremony reaches YubiKeys.
pub trait Cards {
    /// Opens `who`'s card, which has this serial (a wrong card is named in the error).
    fn open_for(&mut self, serial: u32, who: &str) -> Result<Box<dyn Token>, TokenError>;
    /// The cards present now.
    fn present(&mut self) -> Result<Vec<CardInfo>, TokenError>;
}

#[cfg(feature = "card")]
/// YubiKeys over PC/SC: what the command line uses.
#[derive(Debug, Default)]
pub struct PcscCards;

#[cfg(feature = "card")]
impl Cards for PcscCards {
    fn open_for(&mut self, serial: u32, who: &str) -> Result<Box<dyn Token>, TokenError> {
        glasskeep_card::open_custodian(serial, who)
    }

    fn present(&mut self) -> Result<Vec<CardInfo>, TokenError> {
        glasskeep_card::list_cards()
    }
}

/// Why a ceremony did not complete. In every case nothing was appended to the log.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CeremonyError {
    /// The log could not be read, locked or written.
    #[error(transparent)]
    Log(StoreError),
    /// An entry was refused by the log's rules.
    #[error("the log refuses this: {0}")]
    Replay(#[from] ReplayError),
    /// A custodian's card failed.
    #[cfg(feature = "card")]
    #[error("{custodian}'s YubiKey (serial {serial}): {source}")]
    Card {
        /// Whose card.
        custodian: String,
        /// Its serial.
        serial: u32,
        /// What went wrong.
        source: TokenError,
    },
    /// The cards could not be listed or opened.
    #[cfg(feature = "card")]
    #[error(transparent)]
    Cards(TokenError),
    /// Enrollment failed (attestation, policy, slot).
    #[error("enrollment of {name} failed: {reason}")]
    Enrollment {
        /// The custodian.
        name: String,
        /// Why.
        reason: String,
    },
    /// A secret or PIN could not be read.
    #[error(transparent)]
    Input(#[from] SecretInputError),
    /// The secret could not be split.
    #[error(transparent)]
    Split(#[from] SplitError),
    /// The shares did not give the secret back.
    #[error(transparent)]
    Combine(#[from] CombineError),
    /// A share could not be sealed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A custodian's share could not be unsealed.
    #[error("{custodian}'s share could not be unsealed: {source}")]
    Unseal {
        /// Whose share.
        custodian: String,
        /// Why.
        source: UnsealError,
    },
    /// A decrypted share record or payload is malformed.
    #[error("the envelope of {custodian} holds a malformed record: {source}")]
    Record {
        /// Whose envelope.
        custodian: String,
        /// Why.
        source: FormatError,
    },
    /// An envelope could not be read.
    #[error("{path}: {source}")]
    Envelope {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ScanError,
    },
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The folder holds no custody: the one way "no custody here" is said, whichever
    /// command looked.
    #[error("no custody in {}: it holds no ceremony.log. Pass --dir with the custody folder (or set GLASSKEEP_DIR); `glasskeep init` starts a new custody", .dir.display())]
    NoCustody {
        /// The folder looked in.
        dir: PathBuf,
    },
    /// The ceremony is refused; the message says why and what to do.
    #[error("{0}")]
    Refused(String),
}

impl From<StoreError> for CeremonyError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoCustody { path } => CeremonyError::NoCustody {
                dir: path.parent().map(PathBuf::from).unwrap_or(path),
            },
            e => CeremonyError::Log(e),
        }
    }
}

impl CeremonyError {
    pub(crate) fn io(path: impl Into<PathBuf>, e: std::io::Error) -> Self {
        CeremonyError::Io {
            path: path.into(),
            reason: e.to_string(),
        }
    }
}

/// The attestation check `log verify` runs on every enroll entry: the same chain
/// verification as enrollment, under the custody's trust (Yubico's roots, or the
/// simulator's training root).
#[derive(Debug, Default, Clone, Copy)]
pub struct AttestationChecker;

impl crate::log::AttestationCheck for AttestationChecker {
    fn check(&self, record: &CustodianRecord, training: bool) -> Result<(), String> {
        let trust = if training {
            Trust::Training
        } else {
            Trust::Production
        };
        crate::attestation::verify_record(record, trust)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Seconds since the Unix epoch by this machine's clock: the *claimed* time of entries
/// (the log never trusts it for ordering; see docs/THREAT-MODEL.md).
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
