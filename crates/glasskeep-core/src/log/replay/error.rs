//! The typed refusal of an entry that may not follow the log.

use thiserror::Error;

use crate::log::body::Kind;
use crate::shamir::SetId;

/// Why an entry may not follow the log so far. Each variant carries the facts.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The entry's seq is not the next one.
    #[error("entry has seq {found}, expected {expected}")]
    Sequence {
        /// The next seq.
        expected: u64,
        /// The entry's seq.
        found: u64,
    },
    /// The entry's `prev` is not the head.
    #[error("entry {seq} does not link to the head")]
    PrevMismatch {
        /// The entry.
        seq: u64,
    },
    /// The first entry is not a genesis.
    #[error("the log must start with genesis, found {kind:?}")]
    GenesisNotFirst {
        /// The kind found.
        kind: Kind,
    },
    /// A genesis after the first entry.
    #[error("entry {seq} is a second genesis")]
    SecondGenesis {
        /// The entry.
        seq: u64,
    },
    /// The claimed time runs backwards.
    #[error("entry {seq} claims time {time}, before the previous entry's {previous}")]
    TimeWentBackwards {
        /// The entry.
        seq: u64,
        /// Its time.
        time: u64,
        /// The previous entry's time.
        previous: u64,
    },
    /// The name is already enrolled.
    #[error("a custodian named {name} is already enrolled")]
    NameTaken {
        /// The name.
        name: String,
    },
    /// The YubiKey is already enrolled.
    #[error("YubiKey serial {serial} is already enrolled for {name}")]
    SerialTaken {
        /// The serial.
        serial: u32,
        /// Who has it.
        name: String,
    },
    /// The attested key policies would let a key be used without PIN and touch: sign
    /// key PIN "always" and touch "always", seal key touch "always" are required.
    #[error("{name}'s YubiKey keys do not require PIN and touch as glasskeep needs (sign key: PIN always, touch always; seal key: touch always): re-enroll with the right policies")]
    WeakKeyPolicy {
        /// The custodian.
        name: String,
    },
    /// The sign key is not a P-256 point.
    #[error("{name}'s sign key is not a valid P-256 public key")]
    BadSignKey {
        /// The custodian.
        name: String,
    },
    /// A name is not an enrolled custodian.
    #[error("{name} is not an enrolled custodian")]
    UnknownCustodian {
        /// The name.
        name: String,
    },
    /// A threshold below two would let one person open alone.
    #[error("threshold {threshold} is below 2: the two-person rule needs at least 2")]
    ThresholdTooLow {
        /// The threshold.
        threshold: u8,
    },
    /// The set's counts disagree: t > n, or lists not n long.
    #[error("set shape is inconsistent: threshold {threshold}, {shares} shares, {custodians} custodians, {envelopes} envelopes")]
    SetShape {
        /// Threshold.
        threshold: u8,
        /// Share count.
        shares: u8,
        /// Custodians listed.
        custodians: usize,
        /// Envelopes listed.
        envelopes: usize,
    },
    /// The custodian and envelope lists of an entry differ in length.
    #[error(
        "{custodians} custodians but {envelopes} envelopes: each custodian presents one envelope"
    )]
    ListMismatch {
        /// Custodians listed.
        custodians: usize,
        /// Envelopes listed.
        envelopes: usize,
    },
    /// A custodian appears twice in one list.
    #[error("{name} is listed twice")]
    DuplicateCustodian {
        /// The name.
        name: String,
    },
    /// The set id is already sealed.
    #[error("set {set} is already sealed")]
    DuplicateSet {
        /// The set.
        set: SetId,
    },
    /// The envelope fingerprint is already recorded.
    #[error("envelope {fingerprint} is already recorded")]
    DuplicateEnvelope {
        /// Hex fingerprint.
        fingerprint: String,
    },
    /// The set is unknown.
    #[error("set {set} is not sealed in this log")]
    UnknownSet {
        /// The set.
        set: SetId,
    },
    /// The set was rotated away.
    #[error("set {set} was superseded at entry {seq}")]
    SetSuperseded {
        /// The set.
        set: SetId,
        /// The rotate entry.
        seq: u64,
    },
    /// Too few custodians for the set's threshold.
    #[error("set {set} needs {needed} custodians, {got} named")]
    BelowThreshold {
        /// The set.
        set: SetId,
        /// Threshold.
        needed: u8,
        /// Named.
        got: usize,
    },
    /// A custodian or envelope does not belong to the set, or they do not match.
    #[error("{name} with envelope {fingerprint} is not a share of set {set}")]
    NotInSet {
        /// The set.
        set: SetId,
        /// The custodian.
        name: String,
        /// Hex fingerprint.
        fingerprint: String,
    },
    /// Custodians are not listed in ascending share index.
    #[error("custodians of set {set} must be listed in ascending share index (the order of the seal entry)")]
    ShareOrder {
        /// The set.
        set: SetId,
    },
    /// A set cannot be rotated to itself, or to a set that is not fresh.
    #[error(
        "set {old} cannot be rotated to {new}: the new set must be another, freshly sealed set"
    )]
    BadRotation {
        /// Old set.
        old: SetId,
        /// New set.
        new: SetId,
    },
    /// The envelope is unknown.
    #[error("envelope {fingerprint} is not recorded by any seal")]
    UnknownEnvelope {
        /// Hex fingerprint.
        fingerprint: String,
    },
    /// The envelope was already destroyed.
    #[error("envelope {fingerprint} was already destroyed at entry {seq}")]
    AlreadyDestroyed {
        /// Hex fingerprint.
        fingerprint: String,
        /// The earlier entry.
        seq: u64,
    },
    /// No witness named.
    #[error("an envelope destruction needs at least one witness")]
    NoWitness,
    /// The reviewed entry is not an opening.
    #[error("entry {seq} is not an opening: only openings are reviewed")]
    NotAnOpening {
        /// The seq named.
        seq: u64,
    },
    /// The opening already has a review.
    #[error("opening {open_seq} was already reviewed at entry {review_seq}")]
    AlreadyReviewed {
        /// The opening.
        open_seq: u64,
        /// The earlier review.
        review_seq: u64,
    },
    /// A checkpoint's head is not the hash of the previous entry.
    #[error("checkpoint {seq} signs a head that is not the previous entry's hash")]
    CheckpointHead {
        /// The checkpoint.
        seq: u64,
    },
    /// A checkpoint without signatures, or signers not strictly ascending.
    #[error("checkpoint {seq} must list one or more distinct signers in ascending order")]
    CheckpointSigners {
        /// The checkpoint.
        seq: u64,
    },
    /// A key is already enrolled for another custodian: one YubiKey key never speaks
    /// for two names.
    #[error("the {role} key of {name} is already enrolled for {other}")]
    KeyTaken {
        /// The new custodian.
        name: String,
        /// Which key ("seal" or "sign").
        role: &'static str,
        /// Who has it.
        other: String,
    },
    /// A retired custodian was named where only a live one may act.
    #[error("{name} was retired at entry {retired_seq} and can no longer {act}")]
    Retired {
        /// The custodian.
        name: String,
        /// The retire entry.
        retired_seq: u64,
        /// What they were named for.
        act: &'static str,
    },
    /// A retirement would leave fewer live custodians than the custody's quorum.
    #[error("retiring {name} would leave {left} live custodian(s), fewer than the quorum {quorum}: enroll a successor first")]
    RetireBelowQuorum {
        /// The custodian.
        name: String,
        /// Live custodians after the retirement.
        left: usize,
        /// The custody quorum.
        quorum: u8,
    },
    /// An act is not cosigned by the custodians its kind requires (FORMAT.md, "Quorum
    /// per act"). Found when the checkpoint after it is applied; `seq` is the act's.
    #[error("entry {seq} ({kind}) lacks its quorum: it needs {need}; the checkpoint at entry {checkpoint} is signed by {}", signers_text(.signers))]
    Quorum {
        /// The act.
        seq: u64,
        /// Its kind.
        kind: &'static str,
        /// What it needs, in words.
        need: String,
        /// The checkpoint that should have carried the quorum.
        checkpoint: u64,
        /// Who signed it.
        signers: Vec<String>,
    },
    /// The set was made by a rotation whose custodians have not all acknowledged it:
    /// it cannot be opened or drilled until it is activated.
    #[error("set {set} is pending since the rotation at entry {rotate_seq}: it opens only once activated (every custodian's check-share, or `activate`)")]
    SetPending {
        /// The set.
        set: SetId,
        /// The rotate entry that made it pending.
        rotate_seq: u64,
    },
    /// The set already has a rotation waiting for acknowledgements.
    #[error("set {set} already has a pending rotation to set {pending} (entry {rotate_seq}): activate it first")]
    RotationPending {
        /// The old set.
        set: SetId,
        /// The pending set.
        pending: SetId,
        /// The rotate entry.
        rotate_seq: u64,
    },
    /// `activate` names a set that is not pending.
    #[error("set {set} is not pending activation")]
    NotPending {
        /// The set named.
        set: SetId,
    },
    /// `activate` lists other custodians as missing than those who have not
    /// acknowledged.
    #[error("activation of set {set} must list exactly the custodians who have not acknowledged, in share order: {}", signers_text(.expected))]
    ActivateMissing {
        /// The set.
        set: SetId,
        /// Who has not acknowledged.
        expected: Vec<String>,
    },
    /// Fewer custodians acknowledged than the set's threshold: activating it would
    /// retire the old set for one nobody has shown to open.
    #[error("set {set} has {acknowledged} acknowledgement(s), fewer than its threshold {threshold}: it cannot be activated yet")]
    ActivateUnproven {
        /// The set.
        set: SetId,
        /// Acknowledgements so far.
        acknowledged: usize,
        /// Its threshold.
        threshold: u8,
    },
    /// Two live share sets would carry one label.
    #[error("two live sets are labelled {label:?}: rotate the old one instead of sealing the label again")]
    LabelTaken {
        /// The label.
        label: String,
    },
}

fn signers_text(s: &[String]) -> String {
    if s.is_empty() {
        "nobody".into()
    } else {
        s.join(", ")
    }
}
