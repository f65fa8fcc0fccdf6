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
pub mod doctor;
#[cfg(feature = "card")]
mod engine;
#[cfg(feature = "card")]
mod enroll;
mod envelopes;
mod init;
mod kit;
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
pub use cosign::Present;
#[cfg(feature = "card")]
pub use engine::{Committed, SignOnly, Visit};
#[cfg(feature = "card")]
pub use engine::{Engine, StartOptions};
#[cfg(feature = "card")]
pub use enroll::{enroll, EnrollRequest, NewCustodian};
pub use envelopes::{load_envelope, EnvelopeFile};
pub use init::{binary_digest, init, InitReport};
pub use kit::{recovery_kit, KitReport, KIT_FILES};
#[cfg(feature = "card")]
pub use open::{check_share, drill, open, OpenReport, OpenRequest};
pub use read::{log_entries, postmortem_html, read_state, transcript, verify_log};
#[cfg(feature = "card")]
pub use seal::{
    activate, begin_rotate, begin_seal, checkpoint, destroyed, precheck_seal, retire, review,
    CeremonyReport, Review, RotateRequest, SealCeremony, SealReport, SealRequest, SealedEnvelope,
};
pub use status::{status, StatusReport};

#[cfg(feature = "card")]
/// How a ceremony talks to the people at the safe.
pub trait Operator {
    /// A line for the people present: progress, and "touch your YubiKey now" right
    /// before every operation that waits for a touch.
    fn notice(&self, message: &str);
    /// The PIN of `custodian`'s YubiKey with this serial, which has `retries_left`
    /// tries left.
    fn pin(
        &mut self,
        custodian: &str,
        serial: u32,
        retries_left: u8,
    ) -> Result<Pin, SecretInputError>;
    /// Whether someone can answer questions (a terminal, PINs typed): only then is a
    /// wrong PIN or a missed touch tried again rather than ending the ceremony.
    fn interactive(&self) -> bool;
    /// Asks a yes/no question of the people present; `default` is what an empty answer
    /// means. Only asked when [`Operator::interactive`].
    fn ask(&mut self, question: &str, default: bool) -> Result<bool, SecretInputError>;
    /// Shows the people present what they are about to sign (`summary`, several lines)
    /// and asks them to confirm; `false` ends the ceremony with nothing recorded.
    fn confirm(&mut self, summary: &str) -> Result<bool, SecretInputError>;
    /// The head hash from the last ceremony sheet, as typed (at least 16 hex digits);
    /// `None` when there is nobody to ask (no terminal).
    fn anchor(&mut self) -> Result<Option<String>, SecretInputError>;
}

#[cfg(feature = "card")]
/// Each reader's name and the ATR of the card in it (empty when it is empty).
pub type Readers = Vec<(String, Vec<u8>)>;

#[cfg(feature = "card")]
/// How a ceremony reaches YubiKeys.
pub trait Cards {
    /// Opens `who`'s card, which has this serial (a wrong card is named in the error).
    fn open_for(&mut self, serial: u32, who: &str) -> Result<Box<dyn Token>, TokenError>;
    /// The cards present now.
    fn present(&mut self) -> Result<Vec<CardInfo>, TokenError>;
    /// The readers and what each holds (its ATR; empty when none), read without talking
    /// to any card: waiting for a key polls this and opens cards only when it changes.
    /// `None` when it cannot be known (then every poll tries to open the card).
    fn presence(&mut self) -> Result<Option<Readers>, TokenError> {
        Ok(None)
    }
}

#[cfg(feature = "card")]
/// YubiKeys over PC/SC: what the command line uses.
#[derive(Debug, Default)]
pub struct PcscCards {
    /// Where each custodian's key was last opened, by reader: looking for the next
    /// custodian's key tries these readers last, so that opening one card does not
    /// send SELECT, GET VERSION and GET SERIAL to every other card in the room (and
    /// end its PIN session). Only an order: a key moved to another reader is still
    /// found.
    seen: std::collections::BTreeMap<String, u32>,
}

#[cfg(feature = "card")]
impl Cards for PcscCards {
    fn open_for(&mut self, serial: u32, who: &str) -> Result<Box<dyn Token>, TokenError> {
        let others: Vec<String> = self
            .seen
            .iter()
            .filter(|(_, s)| **s != serial)
            .map(|(r, _)| r.clone())
            .collect();
        let token = glasskeep_card::open_custodian(serial, who, &others)?;
        self.seen.insert(token.reader().to_owned(), serial);
        Ok(token)
    }

    fn present(&mut self) -> Result<Vec<CardInfo>, TokenError> {
        let cards = glasskeep_card::list_cards()?;
        for c in &cards {
            self.seen.insert(c.reader.clone(), c.serial);
        }
        Ok(cards)
    }

    fn presence(&mut self) -> Result<Option<Readers>, TokenError> {
        glasskeep_card::reader_presence().map(Some)
    }
}

/// Why a ceremony did not complete. In every case nothing was appended to the log, and
/// no secret was shown. Each variant has one documented exit code (`glasskeep --help`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CeremonyError {
    /// The log could not be read, locked or written.
    #[error(transparent)]
    Log(StoreError),
    /// The folder holds no custody: the one way "no custody here" is said, whichever
    /// command looked.
    #[error("no custody in {}: it holds no ceremony.log. Pass --dir with the custody folder (or set GLASSKEEP_DIR)", .dir.display())]
    NoCustody {
        /// The folder looked in.
        dir: PathBuf,
    },
    /// The log does not verify (signatures, attestations, links, rules): no ceremony
    /// acts on it.
    #[error("the ceremony log does not verify{}: {class}: {detail}. Nothing was done: run `glasskeep log verify` and report this as an incident", .seq.map(|s| format!(" at entry {s}")).unwrap_or_default())]
    Unverified {
        /// The failing entry.
        seq: Option<u64>,
        /// The failure class, as `log verify` names it.
        class: String,
        /// What is wrong.
        detail: String,
    },
    /// Entries follow the last checkpoint: nobody present has seen them.
    #[error("entries {from} to {to} are not covered by a signed checkpoint: run `glasskeep log checkpoint` first, which shows them to the custodians present before they sign")]
    Uncovered {
        /// The first uncovered entry.
        from: u64,
        /// The last one.
        to: u64,
    },
    /// A production ceremony needs the head hash from the last ceremony sheet.
    #[error("type at least the first 16 hex digits of the head hash printed on the last ceremony sheet (or pass --anchor): it proves this log is the one the last ceremony left")]
    AnchorNeeded,
    /// The anchor given is too short to mean anything.
    #[error("the anchor has {digits} hex digit(s): give at least 16 of the head hash from the last ceremony sheet")]
    AnchorTooShort {
        /// Hex digits given.
        digits: usize,
    },
    /// The log's head is not the one on the last sheet: rolled back, rewritten, or the
    /// wrong folder.
    #[error("the log's head {head} does not start with {given}, the head on the last ceremony sheet: this is not the log the last ceremony left (rolled back, replaced, or the wrong folder). Nothing was done; report it")]
    AnchorMismatch {
        /// What was typed.
        given: String,
        /// The log's head, hex.
        head: String,
    },
    /// The custodians present are not the quorum the act needs.
    #[error("{kind} needs {need}; the custodians who would cosign are {}. Nothing was done", if .signers.is_empty() { "nobody".to_string() } else { .signers.join(", ") })]
    Quorum {
        /// The act's kind.
        kind: &'static str,
        /// What it needs, in words.
        need: String,
        /// Who would have cosigned.
        signers: Vec<String>,
    },
    /// The people present did not confirm the entries shown to them.
    #[error("not confirmed: nothing was recorded and no card was used")]
    Declined,
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
    /// A custodian's YubiKey did not come in time.
    #[cfg(feature = "card")]
    #[error("gave up after waiting {waited} s for {custodian}'s YubiKey {serial}: nothing was recorded; run the ceremony again with that key at hand")]
    NoKey {
        /// Whose key.
        custodian: String,
        /// Its serial.
        serial: u32,
        /// How long was waited, in seconds.
        waited: u64,
    },
    /// One PIN try is left and nobody confirmed spending it.
    #[cfg(feature = "card")]
    #[error("{custodian}'s YubiKey {serial} has one PIN try left and spending it was not confirmed: nothing was recorded. Make sure of the PIN (a blocked PIN is unblocked with the PUK: `ykman piv access unblock-pin`) and run the ceremony again")]
    LastPinTry {
        /// Whose key.
        custodian: String,
        /// Its serial.
        serial: u32,
    },
    /// The cards could not be listed or opened.
    #[cfg(feature = "card")]
    #[error(transparent)]
    Cards(TokenError),
    /// Enrollment failed (hygiene, attestation, policy, slot).
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
    /// A text field (reason, notes, label, name) was refused.
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
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
    /// No live credential carries this label.
    #[error("no sealed credential is labelled {label:?}: see `glasskeep status`")]
    UnknownLabel {
        /// The label.
        label: String,
    },
    /// The label is already sealed and live.
    #[error(
        "{label:?} is already sealed: use `glasskeep rotate --label {label}` to replace its secret"
    )]
    LabelTaken {
        /// The label.
        label: String,
    },
    /// A name that is not an enrolled, live custodian.
    #[error("{name} is not an enrolled custodian: see `glasskeep custodian list`")]
    NotEnrolled {
        /// The name.
        name: String,
    },
    /// A custodian named twice where each counts once.
    #[error("{name} is named twice: each custodian counts once")]
    NamedTwice {
        /// The name.
        name: String,
    },
    /// The envelope belongs to a set a rotation made that is not yet activated.
    #[error("envelope {short} belongs to set {set} of {label:?}, made by a rotation and not yet active: it opens nothing until {} have acknowledged it with `glasskeep check-share` (or a quorum runs `glasskeep activate --label {label}`); until then use the envelopes of the set it replaces", .waiting_for.join(", "))]
    SetPending {
        /// Its short fingerprint.
        short: String,
        /// Its label.
        label: String,
        /// The pending set.
        set: String,
        /// Who has not acknowledged it yet.
        waiting_for: Vec<String>,
    },
    /// A rotation of the label already waits for acknowledgements.
    #[error("{label:?} already has a pending rotation (set {set}), waiting for {}: each of them runs `glasskeep check-share` on their new envelope, or a quorum runs `glasskeep activate --label {label}`; rotate again after that", .waiting_for.join(", "))]
    RotationPending {
        /// The label.
        label: String,
        /// The pending set.
        set: String,
        /// Who has not acknowledged it yet.
        waiting_for: Vec<String>,
    },
    /// `activate` found no pending rotation of the label.
    #[error("{label:?} has no rotation waiting for acknowledgements: see `glasskeep status`")]
    NothingPending {
        /// The label.
        label: String,
    },
    /// Too few of the pending set's custodians have acknowledged it to activate it.
    #[error("set {set} of {label:?} has {acknowledged} acknowledgement(s), fewer than its threshold {threshold}: too few have shown that their new envelope opens. More of its custodians run `glasskeep check-share` on their new envelope first")]
    ActivateUnproven {
        /// The label.
        label: String,
        /// The pending set.
        set: String,
        /// Acknowledgements so far.
        acknowledged: usize,
        /// Its threshold.
        threshold: u8,
    },
    /// The custodian term is outside one day to ten years.
    #[error("a custodian term of {term}s: it must be between 1 day and 3650 days")]
    Term {
        /// The term asked for, seconds.
        term: u64,
    },
    /// The threshold is outside 2..=custodians.
    #[error("threshold {threshold} with {custodians} custodian(s): it must be at least 2 and at most the number of custodians")]
    Threshold {
        /// The threshold asked for.
        threshold: usize,
        /// Custodians named.
        custodians: usize,
    },
    /// A custodian is already enrolled under this name or YubiKey, or their new key
    /// cannot be told apart from another's.
    #[error("{0}")]
    AlreadyEnrolled(String),
    /// An envelope the log does not vouch for, or the wrong one: an incident.
    #[error("INCIDENT: {0}")]
    Incident(EnvelopeIncident),
    /// A fingerprint that names no recorded envelope, or several.
    #[error("{0}")]
    Fingerprint(FingerprintError),
    /// `--dry-run` stopped where the people present would have confirmed: `summary` is
    /// what they would have been shown (the entries, the checkpoint, the plan of card
    /// visits). Nothing was written and no card was used.
    #[error("dry run: nothing was written and no card was used")]
    DryRun {
        /// What the ceremony would do.
        summary: String,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: nothing was created; check the machine before any ceremony")]
    Randomness,
}

/// Why an envelope presented at the safe is refused: each is an incident to report.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnvelopeIncident {
    /// The log has never recorded this envelope.
    #[error("envelope {short} is not recorded in this custody's log: glasskeep did not seal it here, or it was altered. Do not use it; report it")]
    NotLogged {
        /// Its short fingerprint.
        short: String,
        /// Its full fingerprint, hex (for the incident report).
        fingerprint: String,
    },
    /// The envelope's set was rotated away.
    #[error("envelope {short} belongs to set {set} of {label:?}, which was rotated away: it must not open anything; it should have been destroyed. Report it, then destroy it (`glasskeep envelope destroyed`)")]
    Superseded {
        /// Its short fingerprint.
        short: String,
        /// Its full fingerprint, hex.
        fingerprint: String,
        /// The superseded set.
        set: String,
        /// Its label.
        label: String,
    },
    /// The log records the envelope as destroyed, yet here it is.
    #[error("envelope {short} was recorded as destroyed at entry {seq}, yet it was presented: a copy survived. Report it")]
    Destroyed {
        /// Its short fingerprint.
        short: String,
        /// Its full fingerprint, hex.
        fingerprint: String,
        /// The destruction entry.
        seq: u64,
    },
    /// The envelope is another credential's.
    #[error("envelope {short} belongs to {label:?}, not to {wanted:?}")]
    OtherCredential {
        /// Its short fingerprint.
        short: String,
        /// Its full fingerprint, hex.
        fingerprint: String,
        /// Its label.
        label: String,
        /// The label being opened.
        wanted: String,
    },
    /// The same custodian's envelope twice.
    #[error("the envelope of {custodian} was given twice: each custodian's envelope counts once")]
    Twice {
        /// Whose.
        custodian: String,
    },
    /// The envelope's parts disagree with the log or with each other.
    #[error("{custodian}'s envelope is not what the log recorded ({what}): report it as tampered")]
    Tampered {
        /// Whose.
        custodian: String,
        /// What differs.
        what: String,
    },
    /// The set's seal is not yet covered by a signed checkpoint.
    #[error("the seal of {label:?} is not covered by a signed checkpoint yet: run `glasskeep log checkpoint` first")]
    SealNotCovered {
        /// The label.
        label: String,
    },
}

/// Why a typed fingerprint names no single envelope.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FingerprintError {
    /// Too few digits.
    #[error("give at least the 16-digit short fingerprint printed on the envelope")]
    TooShort,
    /// None matches.
    #[error("no envelope with fingerprint {0} is recorded in this custody's log")]
    Unknown(String),
    /// Several match.
    #[error("{1} envelopes match {0}: give more digits of the fingerprint")]
    Ambiguous(String, usize),
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
