//! Replay: the log folded into the custody's state, one entry at a time.
//!
//! [`State::apply`] is the only way state changes. The ceremony layer stages every new
//! entry through it before anything is written, and `log verify` replays the file
//! through it, so the rules here are the rules of the custody. Every step is a constant
//! number of hash-map operations plus the size of the entry itself: replay is linear.

use std::collections::{BTreeMap, HashMap, HashSet};

use p256::ecdsa::VerifyingKey;

use crate::custodian::CustodianRecord;
use crate::hex;
use crate::log::body::{Body, SecretKind, Verdict};
use crate::log::entry::{Entry, Hash, ZERO_HASH};
use crate::log::hash_eq;
use crate::piv::KeyRole;
use crate::shamir::SetId;

/// The custody as genesis created it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Custody {
    /// The organisation.
    pub org: String,
    /// Whether this is a training custody (simulated cards only).
    pub training: bool,
    /// The random custody id.
    pub custody_id: [u8; 16],
    /// The glasskeep version that wrote genesis.
    pub tool_version: String,
    /// SHA-256 of that binary.
    pub binary_sha256: Hash,
    /// Genesis time.
    pub created: u64,
}

/// An enrolled custodian.
#[derive(Clone, Debug)]
pub struct Custodian {
    /// The enrollment record.
    pub record: CustodianRecord,
    /// The sign key, parsed once at enrollment so verification never re-parses it.
    pub key: VerifyingKey,
    /// Seq of the enroll entry.
    pub enrolled_seq: u64,
}

/// Where a share set stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum SetStatus {
    /// Sealed and never opened.
    Sealed,
    /// Opened at least once and not yet rotated: the credential is exposed.
    Opened,
    /// Rotated away.
    Superseded {
        /// The rotate entry.
        seq: u64,
    },
}

/// A share set as the log records it (label, custodians, fingerprints, status); not to
/// be confused with `shamir::ShareSet`, the shares a split produces.
#[derive(Clone, Debug)]
pub struct SealedSet {
    /// Its id.
    pub id: SetId,
    /// Its label.
    pub label: String,
    /// What it protects.
    pub secret_kind: SecretKind,
    /// Threshold.
    pub threshold: u8,
    /// Share count.
    pub shares: u8,
    /// Custodians in share-index order.
    pub custodians: Vec<String>,
    /// Envelope fingerprints, same order.
    pub envelopes: Vec<Hash>,
    /// SHA-256 of the payload ciphertext.
    pub payload_digest: Hash,
    /// Rotation window after an opening, seconds.
    pub rotate_within: u64,
    /// Seq of the seal entry.
    pub sealed_seq: u64,
    /// Status.
    pub status: SetStatus,
    /// The set that superseded this one.
    pub superseded_by: Option<SetId>,
    /// Seqs of the openings of this set, in order.
    pub openings: Vec<u64>,
}

/// One opening.
#[derive(Clone, Debug)]
pub struct Opening {
    /// Seq of the open entry.
    pub seq: u64,
    /// Its claimed time.
    pub time: u64,
    /// The set opened.
    pub set: SetId,
    /// Custodians present.
    pub custodians: Vec<String>,
    /// Time by which the set must be rotated.
    pub deadline: u64,
    /// The review closing it: (seq, verdict).
    pub review: Option<(u64, Verdict)>,
    /// The rotation that ended the exposure: (seq, time).
    pub rotated: Option<(u64, u64)>,
}

/// A paper envelope recorded by a seal entry.
#[derive(Clone, Debug)]
pub struct EnvelopeState {
    /// Its set.
    pub set: SetId,
    /// Its custodian.
    pub custodian: String,
    /// Seq of the entry that recorded its destruction.
    pub destroyed: Option<u64>,
}

/// The custody's state: the fold of every entry so far.
#[derive(Clone, Debug, Default)]
pub struct State {
    custody: Option<Custody>,
    custodians: Vec<Custodian>,
    by_name: HashMap<String, usize>,
    by_serial: HashMap<u32, usize>,
    sets: HashMap<SetId, SealedSet>,
    set_order: Vec<SetId>,
    by_label: HashMap<String, SetId>,
    openings: BTreeMap<u64, Opening>,
    envelopes: HashMap<Hash, EnvelopeState>,
    next_seq: u64,
    head: Hash,
    last_time: u64,
    last_checkpoint: Option<u64>,
}

fn fp(h: &Hash) -> String {
    hex::encode(h)
}

impl State {
    /// The state of an empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `entry` if it may follow; on error the state is unchanged.
    pub fn apply(&mut self, entry: &Entry) -> Result<(), ReplayError> {
        let hash = entry.hash();
        self.apply_hashed(entry, &hash)
    }

    /// [`State::apply`] with the entry's hash already known (the store and the verifier
    /// have it from the frame and do not re-encode).
    pub fn apply_hashed(&mut self, entry: &Entry, hash: &Hash) -> Result<(), ReplayError> {
        let key = self.check(entry)?;
        self.commit(entry, key);
        self.next_seq = entry.seq + 1;
        self.head = *hash;
        self.last_time = entry.time;
        Ok(())
    }

    fn custodian_idx(&self, name: &str) -> Result<usize, ReplayError> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| ReplayError::UnknownCustodian { name: name.into() })
    }

    fn live_set(&self, set: &SetId) -> Result<&SealedSet, ReplayError> {
        let s = self
            .sets
            .get(set)
            .ok_or(ReplayError::UnknownSet { set: *set })?;
        if let SetStatus::Superseded { seq } = s.status {
            return Err(ReplayError::SetSuperseded { set: *set, seq });
        }
        Ok(s)
    }

    /// Every named custodian holds the named envelope of the set, each once, listed in
    /// ascending share index so that one act has one spelling.
    fn check_shares(
        &self,
        s: &SealedSet,
        names: &[String],
        envs: &[Hash],
    ) -> Result<(), ReplayError> {
        let mut seen = HashSet::with_capacity(names.len());
        let mut last: Option<usize> = None;
        if names.len() != envs.len() {
            return Err(ReplayError::ListMismatch {
                custodians: names.len(),
                envelopes: envs.len(),
            });
        }
        for (name, env) in names.iter().zip(envs) {
            if !seen.insert(name.as_str()) {
                return Err(ReplayError::DuplicateCustodian { name: name.clone() });
            }
            let owner = self.envelopes.get(env);
            let ok = owner.is_some_and(|o| o.set == s.id && &o.custodian == name);
            if !ok {
                return Err(ReplayError::NotInSet {
                    set: s.id,
                    name: name.clone(),
                    fingerprint: fp(env),
                });
            }
            // Sets have at most 255 shares: this scan is bounded.
            let index = s.envelopes.iter().position(|e| e == env);
            if index <= last {
                return Err(ReplayError::ShareOrder { set: s.id });
            }
            last = index;
        }
        Ok(())
    }

    /// All checks, no mutation. Returns an enrolled custodian's parsed sign key, so the
    /// key is parsed once.
    fn check(&self, entry: &Entry) -> Result<Option<VerifyingKey>, ReplayError> {
        if entry.seq != self.next_seq {
            return Err(ReplayError::Sequence {
                expected: self.next_seq,
                found: entry.seq,
            });
        }
        let expected_prev = if self.custody.is_none() {
            ZERO_HASH
        } else {
            self.head
        };
        if !hash_eq(&entry.prev, &expected_prev) {
            return Err(ReplayError::PrevMismatch { seq: entry.seq });
        }
        let seq = entry.seq;
        match (&entry.body, self.custody.is_some()) {
            (Body::Genesis { .. }, false) => return Ok(None),
            (Body::Genesis { .. }, true) => return Err(ReplayError::SecondGenesis { seq }),
            (b, false) => return Err(ReplayError::GenesisNotFirst { kind: b.kind() }),
            _ => {}
        }
        if entry.time < self.last_time {
            return Err(ReplayError::TimeWentBackwards {
                seq,
                time: entry.time,
                previous: self.last_time,
            });
        }
        match &entry.body {
            // Genesis was fully handled above.
            Body::Genesis { .. } => {}
            Body::Enroll { record } => {
                if self.by_name.contains_key(&record.name) {
                    return Err(ReplayError::NameTaken {
                        name: record.name.clone(),
                    });
                }
                if let Some(&i) = self.by_serial.get(&record.serial) {
                    return Err(ReplayError::SerialTaken {
                        serial: record.serial,
                        name: self.custodians[i].record.name.clone(),
                    });
                }
                // The same rule enrollment applies to the attestation (piv::KeyRole).
                let weak = !KeyRole::Seal
                    .policy_allowed(record.seal_pin_policy, record.seal_touch_policy)
                    || !KeyRole::Sign
                        .policy_allowed(record.sign_pin_policy, record.sign_touch_policy);
                if weak {
                    // DESIGN.md: presence is proved by PIN + touch; a key that can be
                    // used without them proves nothing.
                    return Err(ReplayError::WeakKeyPolicy {
                        name: record.name.clone(),
                    });
                }
                let key = VerifyingKey::from_sec1_bytes(&record.sign_public_key).map_err(|_| {
                    ReplayError::BadSignKey {
                        name: record.name.clone(),
                    }
                })?;
                return Ok(Some(key));
            }
            Body::Seal {
                set,
                threshold,
                shares,
                custodians,
                envelopes,
                ..
            } => {
                if *threshold < 2 {
                    return Err(ReplayError::ThresholdTooLow {
                        threshold: *threshold,
                    });
                }
                let n = usize::from(*shares);
                if threshold > shares || custodians.len() != n || envelopes.len() != n {
                    return Err(ReplayError::SetShape {
                        threshold: *threshold,
                        shares: *shares,
                        custodians: custodians.len(),
                        envelopes: envelopes.len(),
                    });
                }
                if self.sets.contains_key(set) {
                    return Err(ReplayError::DuplicateSet { set: *set });
                }
                let mut seen = HashSet::with_capacity(n);
                for name in custodians {
                    self.custodian_idx(name)?;
                    if !seen.insert(name.as_str()) {
                        return Err(ReplayError::DuplicateCustodian { name: name.clone() });
                    }
                }
                let mut seen_env = HashSet::with_capacity(n);
                for e in envelopes {
                    if self.envelopes.contains_key(e) || !seen_env.insert(e) {
                        return Err(ReplayError::DuplicateEnvelope { fingerprint: fp(e) });
                    }
                }
            }
            Body::Open {
                set,
                custodians,
                envelopes,
                ..
            }
            | Body::Drill {
                set,
                custodians,
                envelopes,
            } => {
                let s = self.live_set(set)?;
                if custodians.len() < usize::from(s.threshold) {
                    return Err(ReplayError::BelowThreshold {
                        set: *set,
                        needed: s.threshold,
                        got: custodians.len(),
                    });
                }
                self.check_shares(s, custodians, envelopes)?;
            }
            Body::ShareCheck {
                set,
                custodian,
                envelope,
            } => {
                let s = self.live_set(set)?;
                self.check_shares(s, std::slice::from_ref(custodian), &[*envelope])?;
            }
            Body::Rotate { old, new } => {
                self.live_set(old)?;
                let fresh = self.live_set(new)?;
                if old == new || fresh.status != SetStatus::Sealed {
                    return Err(ReplayError::BadRotation {
                        old: *old,
                        new: *new,
                    });
                }
            }
            Body::EnvelopeDestroyed {
                envelope,
                witnesses,
            } => {
                let e =
                    self.envelopes
                        .get(envelope)
                        .ok_or_else(|| ReplayError::UnknownEnvelope {
                            fingerprint: fp(envelope),
                        })?;
                if let Some(seq) = e.destroyed {
                    return Err(ReplayError::AlreadyDestroyed {
                        fingerprint: fp(envelope),
                        seq,
                    });
                }
                if witnesses.is_empty() {
                    return Err(ReplayError::NoWitness);
                }
            }
            Body::Review { open_seq, .. } => {
                let o = self
                    .openings
                    .get(open_seq)
                    .ok_or(ReplayError::NotAnOpening { seq: *open_seq })?;
                if let Some((review_seq, _)) = o.review {
                    return Err(ReplayError::AlreadyReviewed {
                        open_seq: *open_seq,
                        review_seq,
                    });
                }
            }
            Body::Checkpoint { head, signatures } => {
                if !hash_eq(head, &entry.prev) {
                    return Err(ReplayError::CheckpointHead { seq });
                }
                if signatures.is_empty()
                    || signatures
                        .windows(2)
                        .any(|w| w[0].custodian >= w[1].custodian)
                {
                    return Err(ReplayError::CheckpointSigners { seq });
                }
                for s in signatures {
                    self.custodian_idx(&s.custodian)?;
                }
            }
        }
        Ok(None)
    }

    /// Mutation after a successful check: infallible. Lookups that check() proved
    /// present are written as `if let` so that no input can make replay panic.
    fn commit(&mut self, entry: &Entry, key: Option<VerifyingKey>) {
        let seq = entry.seq;
        match &entry.body {
            Body::Genesis {
                org,
                training,
                custody_id,
                tool_version,
                binary_sha256,
            } => {
                self.custody = Some(Custody {
                    org: org.clone(),
                    training: *training,
                    custody_id: *custody_id,
                    tool_version: tool_version.clone(),
                    binary_sha256: *binary_sha256,
                    created: entry.time,
                });
            }
            Body::Enroll { record } => {
                let Some(key) = key else { return };
                let i = self.custodians.len();
                self.by_name.insert(record.name.clone(), i);
                self.by_serial.insert(record.serial, i);
                self.custodians.push(Custodian {
                    record: (**record).clone(),
                    key,
                    enrolled_seq: seq,
                });
            }
            Body::Seal {
                set,
                label,
                secret_kind,
                threshold,
                shares,
                custodians,
                envelopes,
                payload_digest,
                rotate_within,
            } => {
                for (name, e) in custodians.iter().zip(envelopes) {
                    self.envelopes.insert(
                        *e,
                        EnvelopeState {
                            set: *set,
                            custodian: name.clone(),
                            destroyed: None,
                        },
                    );
                }
                self.set_order.push(*set);
                self.by_label.insert(label.clone(), *set);
                self.sets.insert(
                    *set,
                    SealedSet {
                        id: *set,
                        label: label.clone(),
                        secret_kind: *secret_kind,
                        threshold: *threshold,
                        shares: *shares,
                        custodians: custodians.clone(),
                        envelopes: envelopes.clone(),
                        payload_digest: *payload_digest,
                        rotate_within: *rotate_within,
                        sealed_seq: seq,
                        status: SetStatus::Sealed,
                        superseded_by: None,
                        openings: Vec::new(),
                    },
                );
            }
            Body::Open {
                set, custodians, ..
            } => {
                let Some(s) = self.sets.get_mut(set) else {
                    return;
                };
                s.status = SetStatus::Opened;
                s.openings.push(seq);
                let deadline = entry.time.saturating_add(s.rotate_within);
                self.openings.insert(
                    seq,
                    Opening {
                        seq,
                        time: entry.time,
                        set: *set,
                        custodians: custodians.clone(),
                        deadline,
                        review: None,
                        rotated: None,
                    },
                );
            }
            Body::Drill { .. } | Body::ShareCheck { .. } => {}
            Body::Rotate { old, new } => {
                let Some(s) = self.sets.get_mut(old) else {
                    return;
                };
                s.status = SetStatus::Superseded { seq };
                s.superseded_by = Some(*new);
                for o in &s.openings {
                    if let Some(op) = self.openings.get_mut(o) {
                        op.rotated = Some((seq, entry.time));
                    }
                }
            }
            Body::EnvelopeDestroyed { envelope, .. } => {
                if let Some(e) = self.envelopes.get_mut(envelope) {
                    e.destroyed = Some(seq);
                }
            }
            Body::Review {
                open_seq, verdict, ..
            } => {
                if let Some(o) = self.openings.get_mut(open_seq) {
                    o.review = Some((seq, *verdict));
                }
            }
            Body::Checkpoint { .. } => self.last_checkpoint = Some(seq),
        }
    }
}

mod error;
mod query;
pub use error::ReplayError;
pub use query::OpenCredential;
