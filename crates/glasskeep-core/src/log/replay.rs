//! Replay: the log folded into the custody's state, one entry at a time.
//!
//! [`State::apply`] is the only way state changes. The ceremony layer stages every new
//! entry through it before anything is written, and `log verify` replays the file
//! through it, so the rules here are the rules of the custody. Every step is a constant
//! number of hash-map operations plus the size of the entry itself: replay is linear.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use p256::ecdsa::VerifyingKey;

use crate::custodian::CustodianRecord;
use crate::hex;
use crate::log::body::{Body, Kind, SecretKind, Verdict};
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
    /// The custody quorum q.
    pub quorum: u8,
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
    /// The people present accepted the firmware advisory risk of this sign key.
    pub firmware_risk_accepted: bool,
    /// Seq of the retire entry, once retired.
    pub retired: Option<u64>,
    /// Claimed time of the retire entry, once retired: the sets that include the
    /// custodian must be rotated within their window from then.
    pub retired_time: Option<u64>,
}

impl Custodian {
    /// Whether the custodian may still act (sign, hold new shares).
    pub fn is_live(&self) -> bool {
        self.retired.is_none()
    }
}

/// What one act needs from the checkpoint that covers it (FORMAT.md, "Quorum per act").
#[derive(Clone, Debug, PartialEq, Eq)]
enum Need {
    /// The new custodian signs; plus the custody quorum of earlier custodians, or, while
    /// the custody has fewer than q, the batch brings it to q.
    Enroll(String),
    /// q live custodians other than the one retired.
    Retire(String),
    /// At least `count` of `of`.
    AtLeast { of: Vec<String>, count: u8 },
    /// Exactly these custodians, nobody else.
    Exactly(Vec<String>),
    /// Exactly the named witnesses, at least two.
    Witnesses(Vec<String>),
    /// At least one custodian not among these.
    Outside(Vec<String>),
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
    /// Review window after an opening, seconds.
    pub review_within: u64,
    /// Seq of the seal entry.
    pub sealed_seq: u64,
    /// Status.
    pub status: SetStatus,
    /// The set that superseded this one.
    pub superseded_by: Option<SetId>,
    /// Claimed time of the rotate entry that superseded it: its envelopes' destruction
    /// grace period runs from then.
    pub superseded_time: Option<u64>,
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
    /// Time by which the opening must be reviewed.
    pub review_deadline: u64,
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
    /// Acts since the last checkpoint, with what each needs from the next one.
    batch: Vec<(u64, Kind, Need)>,
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
            Body::Enroll { record, .. } => {
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
                // Retired custodians keep their keys on record: a key never comes back
                // under another name.
                for c in &self.custodians {
                    let theirs = [&c.record.seal_public_key, &c.record.sign_public_key];
                    for (role, key) in [
                        ("seal", &record.seal_public_key),
                        ("sign", &record.sign_public_key),
                    ] {
                        if theirs.contains(&key) {
                            return Err(ReplayError::KeyTaken {
                                name: record.name.clone(),
                                role,
                                other: c.record.name.clone(),
                            });
                        }
                    }
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
                    self.live_custodian(name, "hold a share of a new set")?;
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
                for w in witnesses {
                    self.live_custodian(w, "witness")?;
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
            Body::Checkpoint {
                head, signatures, ..
            } => {
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
                    self.live_custodian(&s.custodian, "sign a checkpoint")?;
                }
                self.check_labels()?;
                let names: Vec<&str> = signatures.iter().map(|s| s.custodian.as_str()).collect();
                self.check_quorum(seq, &names)?;
            }
            Body::Retire { custodian, .. } => {
                self.live_custodian(custodian, "be retired again")?;
                let quorum = self.custody.as_ref().map_or(2, |c| c.quorum);
                let left = self.live_custodians().count() - 1;
                if left < usize::from(quorum) {
                    return Err(ReplayError::RetireBelowQuorum {
                        name: custodian.clone(),
                        left,
                        quorum,
                    });
                }
            }
        }
        Ok(None)
    }

    fn live_custodian(&self, name: &str, act: &'static str) -> Result<&Custodian, ReplayError> {
        let c = &self.custodians[self.custodian_idx(name)?];
        match c.retired {
            Some(retired_seq) => Err(ReplayError::Retired {
                name: name.into(),
                retired_seq,
                act,
            }),
            None => Ok(c),
        }
    }

    /// The custodians who may act now.
    pub fn live_custodians(&self) -> impl Iterator<Item = &Custodian> {
        self.custodians.iter().filter(|c| c.is_live())
    }

    /// The first seq of the current batch: the entry after the last checkpoint (or after
    /// genesis).
    fn batch_start(&self) -> u64 {
        self.last_checkpoint.map_or(1, |c| c + 1)
    }

    /// Whether the checkpoint at `seq`, signed by `signers` (distinct, live, enrolled),
    /// carries what every act since the previous checkpoint needs; the first act that
    /// lacks it is the error. The ceremony engine asks the same question before any card
    /// is touched ([`State::quorum_shortfall`]).
    fn check_quorum(&self, seq: u64, signers: &[&str]) -> Result<(), ReplayError> {
        match self.quorum_shortfall(signers) {
            None => Ok(()),
            Some((act_seq, kind, need)) => Err(ReplayError::Quorum {
                seq: act_seq.unwrap_or(seq),
                kind,
                need,
                checkpoint: seq,
                signers: signers.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    /// What the next checkpoint would lack if `signers` signed it: the act's seq (`None`
    /// for a checkpoint that covers no act), its kind and the need in words; `None` when
    /// every act since the last checkpoint has its quorum.
    pub fn quorum_shortfall(
        &self,
        signers: &[&str],
    ) -> Option<(Option<u64>, &'static str, String)> {
        let q = usize::from(self.custody.as_ref().map_or(2, |c| c.quorum));
        let signed: BTreeSet<&str> = signers.iter().copied().collect();
        if self.batch.is_empty() {
            if signed.len() < q {
                let need = format!("the custody quorum of {q} custodians to cosign");
                return Some((None, "checkpoint", need));
            }
            return None;
        }
        let start = self.batch_start();
        // Custodians enrolled before this batch and still live when it started.
        let earlier: BTreeSet<&str> = self
            .custodians
            .iter()
            .filter(|c| c.enrolled_seq < start && c.retired.is_none_or(|r| r >= start))
            .map(|c| c.record.name.as_str())
            .collect();
        let enrolled_now = self
            .batch
            .iter()
            .filter(|(_, _, n)| matches!(n, Need::Enroll(_)))
            .count();
        let count_of = |of: &[String]| of.iter().filter(|n| signed.contains(n.as_str())).count();
        let same = |names: &[String]| {
            let want: BTreeSet<&str> = names.iter().map(String::as_str).collect();
            want == signed
        };
        for (seq, kind, need) in &self.batch {
            let short = match need {
                Need::Enroll(name) => {
                    if !signed.contains(name.as_str()) {
                        Some(format!(
                            "the new custodian {name} to cosign with their own YubiKey"
                        ))
                    } else if earlier.len() < q {
                        (earlier.len() + enrolled_now < q).then(|| format!(
                            "the first {q} custodians enrolled together in one ceremony, each cosigning (this one enrolls {} after {} earlier)",
                            enrolled_now,
                            earlier.len()
                        ))
                    } else {
                        let n = earlier.iter().filter(|e| signed.contains(*e)).count();
                        (n < q).then(|| {
                            format!(
                            "{q} custodians enrolled earlier to cosign besides the new one ({n} do)"
                        )
                        })
                    }
                }
                Need::Retire(name) => {
                    let n = signed.iter().filter(|s| **s != name.as_str()).count();
                    (n < q).then(|| {
                        format!("{q} live custodians other than {name} to cosign ({n} do)")
                    })
                }
                Need::AtLeast { of, count } => {
                    let n = count_of(of);
                    (n < usize::from(*count))
                        .then(|| format!("{count} of {} to cosign ({n} do)", of.join(", ")))
                }
                Need::Exactly(names) => (!same(names)).then(|| {
                    format!(
                        "exactly the custodians who took part to cosign: {}",
                        names.join(", ")
                    )
                }),
                Need::Witnesses(names) => {
                    let distinct: BTreeSet<&str> = names.iter().map(String::as_str).collect();
                    if distinct.len() < 2 {
                        Some("at least two witnesses, each cosigning with their own YubiKey".into())
                    } else {
                        (!same(names)).then(|| {
                            format!(
                                "exactly the witnesses named in the entry to cosign: {}",
                                names.join(", ")
                            )
                        })
                    }
                }
                Need::Outside(excluded) => {
                    let outside = signed.iter().any(|s| !excluded.iter().any(|e| e == s));
                    (!outside).then(|| format!(
                        "at least one custodian who did not take part in the opening ({}) to cosign",
                        excluded.join(", ")
                    ))
                }
            };
            if let Some(need) = short {
                return Some((Some(*seq), kind.name(), need));
            }
        }
        None
    }

    /// [`State::quorum_shortfall`] for enrolling `new` custodians in one ceremony, asked
    /// before their keys exist (so before any card is used): the same rule replay will
    /// apply to their enroll entries.
    pub fn enrollment_shortfall(
        &self,
        new: &[String],
        signers: &[&str],
    ) -> Option<(Option<u64>, &'static str, String)> {
        let mut planned = self.clone();
        for (i, name) in new.iter().enumerate() {
            planned.batch.push((
                self.next_seq + i as u64,
                Kind::Enroll,
                Need::Enroll(name.clone()),
            ));
        }
        planned.quorum_shortfall(signers)
    }

    /// No two live sets share a label (checked once the batch is complete, when a
    /// rotation has superseded the old set its new seal shares a label with).
    fn check_labels(&self) -> Result<(), ReplayError> {
        let mut seen = HashSet::new();
        for s in self.sets.values() {
            if !matches!(s.status, SetStatus::Superseded { .. }) && !seen.insert(s.label.as_str()) {
                return Err(ReplayError::LabelTaken {
                    label: s.label.clone(),
                });
            }
        }
        Ok(())
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
                quorum,
            } => {
                self.custody = Some(Custody {
                    org: org.clone(),
                    training: *training,
                    custody_id: *custody_id,
                    tool_version: tool_version.clone(),
                    binary_sha256: *binary_sha256,
                    created: entry.time,
                    quorum: *quorum,
                });
            }
            Body::Enroll {
                record,
                firmware_risk_accepted,
            } => {
                let Some(key) = key else { return };
                let i = self.custodians.len();
                self.by_name.insert(record.name.clone(), i);
                self.by_serial.insert(record.serial, i);
                self.custodians.push(Custodian {
                    record: (**record).clone(),
                    key,
                    enrolled_seq: seq,
                    firmware_risk_accepted: *firmware_risk_accepted,
                    retired: None,
                    retired_time: None,
                });
                self.batch
                    .push((seq, Kind::Enroll, Need::Enroll(record.name.clone())));
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
                review_within,
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
                self.batch.push((
                    seq,
                    Kind::Seal,
                    Need::AtLeast {
                        of: custodians.clone(),
                        count: *threshold,
                    },
                ));
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
                        review_within: *review_within,
                        sealed_seq: seq,
                        status: SetStatus::Sealed,
                        superseded_by: None,
                        superseded_time: None,
                        openings: Vec::new(),
                    },
                );
            }
            Body::Open {
                set, custodians, ..
            } => {
                self.batch
                    .push((seq, Kind::Open, Need::Exactly(custodians.clone())));
                let Some(s) = self.sets.get_mut(set) else {
                    return;
                };
                s.status = SetStatus::Opened;
                s.openings.push(seq);
                let deadline = entry.time.saturating_add(s.rotate_within);
                let review_deadline = entry.time.saturating_add(s.review_within);
                self.openings.insert(
                    seq,
                    Opening {
                        seq,
                        time: entry.time,
                        set: *set,
                        custodians: custodians.clone(),
                        deadline,
                        review_deadline,
                        review: None,
                        rotated: None,
                    },
                );
            }
            Body::Drill { custodians, .. } => {
                self.batch
                    .push((seq, Kind::Drill, Need::Exactly(custodians.clone())));
            }
            Body::ShareCheck { custodian, .. } => {
                self.batch.push((
                    seq,
                    Kind::ShareCheck,
                    Need::Exactly(vec![custodian.clone()]),
                ));
            }
            Body::Rotate { old, new } => {
                let Some(s) = self.sets.get_mut(old) else {
                    return;
                };
                self.batch.push((
                    seq,
                    Kind::Rotate,
                    Need::AtLeast {
                        of: s.custodians.clone(),
                        count: s.threshold,
                    },
                ));
                s.status = SetStatus::Superseded { seq };
                s.superseded_by = Some(*new);
                s.superseded_time = Some(entry.time);
                for o in &s.openings {
                    if let Some(op) = self.openings.get_mut(o) {
                        op.rotated = Some((seq, entry.time));
                    }
                }
            }
            Body::EnvelopeDestroyed {
                envelope,
                witnesses,
            } => {
                if let Some(e) = self.envelopes.get_mut(envelope) {
                    e.destroyed = Some(seq);
                }
                self.batch.push((
                    seq,
                    Kind::EnvelopeDestroyed,
                    Need::Witnesses(witnesses.clone()),
                ));
            }
            Body::Review {
                open_seq, verdict, ..
            } => {
                if let Some(o) = self.openings.get_mut(open_seq) {
                    o.review = Some((seq, *verdict));
                    let took_part = o.custodians.clone();
                    self.batch
                        .push((seq, Kind::Review, Need::Outside(took_part)));
                }
            }
            Body::Checkpoint { .. } => {
                self.last_checkpoint = Some(seq);
                self.batch.clear();
            }
            Body::Retire { custodian, .. } => {
                if let Some(&i) = self.by_name.get(custodian) {
                    self.custodians[i].retired = Some(seq);
                    self.custodians[i].retired_time = Some(entry.time);
                }
                self.batch
                    .push((seq, Kind::Retire, Need::Retire(custodian.clone())));
            }
        }
    }
}

mod error;
mod query;
pub use error::ReplayError;
pub use query::OpenCredential;
