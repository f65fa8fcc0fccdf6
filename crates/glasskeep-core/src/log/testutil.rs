//! Test-only helpers: software signers with fixed keys, fake enrollment records, a fake
//! attestation checker, a builder for realistic logs, and the malicious writer.

use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use sha2::{Digest, Sha256};

use crate::custodian::CustodianRecord;
use crate::log::body::{Body, CheckpointSignature, SecretKind, Verdict};
use crate::log::checkpoint::{
    finish_checkpoint, make_checkpoint, prepare_checkpoint, signature_input, AttestationCheck,
    CheckpointSigner, SignError, Signed,
};
use crate::log::entry::{entry_hash, Entry, Hash, ZERO_HASH};
use crate::log::frame::write_frame;
use crate::log::replay::State;
use crate::piv::{PinPolicy, Slot, TouchPolicy, Version};
use crate::shamir::SetId;

/// Genesis time of test logs: 2023-11-14T22:13:20Z.
pub const T0: u64 = 1_700_000_000;

/// A fixed key per name: SHA-256 of a label and the name is a valid scalar for every
/// name the tests use (checked by `SigningKey::from_slice`).
pub fn key(name: &str) -> SigningKey {
    let seed: [u8; 32] = Sha256::digest(format!("glasskeep-test-key/{name}")).into();
    SigningKey::from_slice(&seed).expect("test seed is a valid scalar")
}

/// Compressed public key of `key(name)`.
pub fn public(name: &str) -> [u8; 33] {
    let p = key(name).verifying_key().to_sec1_point(true);
    p.as_bytes()
        .try_into()
        .expect("compressed point is 33 bytes")
}

/// A software sign key standing in for a custodian's YubiKey.
pub struct SoftSigner {
    /// The custodian it signs for.
    pub name: String,
    /// Its key.
    pub key: SigningKey,
}

impl SoftSigner {
    /// The signer for `name` with `key(name)`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            key: key(name),
        }
    }
}

impl CheckpointSigner for SoftSigner {
    fn custodian(&self) -> &str {
        &self.name
    }
    fn sign_digest(&mut self, digest: &Hash) -> Result<Vec<u8>, SignError> {
        let sig: DerSignature = self.key.sign_prehash(digest).expect("prehash signing");
        Ok(sig.as_bytes().to_vec())
    }
}

/// Raw low-s signature over a checkpoint input with any key (for forgeries).
pub fn raw_sign(key: &SigningKey, digest: &Hash) -> [u8; 64] {
    let sig: Signature = key.sign_prehash(digest).expect("prehash signing");
    let mut out = [0u8; 64];
    out.copy_from_slice(&sig.normalize_s().to_bytes());
    out
}

/// An enrollment record with the fixed keys and placeholder certificates.
pub fn record(name: &str, serial: u32) -> CustodianRecord {
    CustodianRecord {
        name: name.into(),
        serial,
        firmware: Version {
            major: 5,
            minor: 7,
            patch: 1,
        },
        seal_slot: Slot::RETIRED1,
        seal_public_key: public(&format!("{name}/seal")),
        seal_pin_policy: PinPolicy::Once,
        seal_touch_policy: TouchPolicy::Always,
        sign_public_key: public(name),
        sign_pin_policy: PinPolicy::Always,
        sign_touch_policy: TouchPolicy::Always,
        device_attestation: format!("device-cert/{serial}").into_bytes(),
        seal_attestation: format!("seal-cert/{serial}").into_bytes(),
        sign_attestation: format!("sign-cert/{serial}").into_bytes(),
    }
}

/// Accepts every chain except the named custodian's.
pub struct FakeAttestation(pub Option<&'static str>);

impl AttestationCheck for FakeAttestation {
    fn check(&self, record: &CustodianRecord, _training: bool) -> Result<(), String> {
        match self.0 {
            Some(n) if n == record.name => Err("chain does not reach a trusted root".into()),
            _ => Ok(()),
        }
    }
}

/// Builds a legal log entry by entry, replaying as it goes.
pub struct Builder {
    /// The entries so far.
    pub entries: Vec<Entry>,
    /// Their replayed state.
    pub state: State,
    /// The claimed time of the next entry.
    pub time: u64,
}

impl Builder {
    /// A log holding only a genesis with `custody_id`: production, so that verify judges
    /// these logs without `--training` (their attestations are checked by a fake checker
    /// in every test).
    pub fn new(custody_id: [u8; 16]) -> Self {
        Self::with_genesis(custody_id, false)
    }

    /// A log holding only a genesis with `custody_id`, training or production.
    pub fn with_genesis(custody_id: [u8; 16], training: bool) -> Self {
        let mut b = Builder {
            entries: Vec::new(),
            state: State::new(),
            time: T0,
        };
        b.push(Body::Genesis {
            org: "Example Org".into(),
            training,
            custody_id,
            tool_version: "0.1.0".into(),
            binary_sha256: [0xb1; 32],
            quorum: 2,
            term: crate::log::body::DEFAULT_TERM,
        });
        b
    }

    /// Each custodian of `set` (listed in share order) acknowledges their envelope of a
    /// pending set with a share check, each cosigned by themselves.
    pub fn acknowledge(&mut self, set: SetId, custodians: &[&str]) {
        let order = self.state.set(&set).expect("set sealed").custodians.clone();
        for who in custodians {
            let i = order
                .iter()
                .position(|c| c == who)
                .expect("custodian of the set");
            self.push(Body::ShareCheck {
                set,
                custodian: (*who).into(),
                envelope: envelope(set, i),
            });
            self.checkpoint(&[who]);
        }
    }

    /// Appends the next entry with `body`; panics if replay refuses it.
    pub fn push(&mut self, body: Body) -> u64 {
        let e = Entry {
            seq: self.state.next_seq(),
            prev: self.state.head(),
            time: self.time,
            body,
        };
        self.time += 60;
        self.state.apply(&e).expect("builder entries are legal");
        self.entries.push(e);
        self.entries.len() as u64 - 1
    }

    /// Appends a checkpoint signed by `names` that records `signed` (plan, build,
    /// allowances).
    pub fn checkpoint_signed(&mut self, names: &[&str], signed: Signed) -> u64 {
        self.checkpoint_at_clock(names, signed, self.time)
    }

    /// Appends a checkpoint signed by `names` that records `signed`, the signers' clock
    /// reading `clock`.
    pub fn checkpoint_at_clock(&mut self, names: &[&str], signed: Signed, clock: u64) -> u64 {
        let owned: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let pending =
            prepare_checkpoint(&self.state, &owned, self.time, clock, signed).expect("checkpoint");
        let der: Vec<(String, Vec<u8>)> = owned
            .iter()
            .map(|n| {
                let sig = SoftSigner::new(n).sign_digest(&pending.digest).unwrap();
                (n.clone(), sig)
            })
            .collect();
        let e = finish_checkpoint(&self.state, &pending, &der).expect("checkpoint");
        self.time += 60;
        self.state.apply(&e).expect("checkpoint is legal");
        self.entries.push(e);
        self.entries.len() as u64 - 1
    }

    /// The checkpoint `names` would sign next, made but not applied: for tests of a
    /// checkpoint replay refuses.
    pub fn checkpoint_entry(&self, names: &[&str]) -> Entry {
        let mut signers: Vec<SoftSigner> = names.iter().map(|n| SoftSigner::new(n)).collect();
        let mut refs: Vec<&mut dyn CheckpointSigner> = signers
            .iter_mut()
            .map(|s| s as &mut dyn CheckpointSigner)
            .collect();
        make_checkpoint(&self.state, &mut refs, self.time, self.time).expect("checkpoint")
    }

    /// Appends a checkpoint signed by `names`.
    pub fn checkpoint(&mut self, names: &[&str]) -> u64 {
        let e = self.checkpoint_entry(names);
        self.time += 60;
        self.state.apply(&e).expect("checkpoint is legal");
        self.entries.push(e);
        self.entries.len() as u64 - 1
    }

    /// Enrolls `name` with serial `serial`.
    pub fn enroll(&mut self, name: &str, serial: u32) -> u64 {
        self.push(Body::Enroll {
            record: Box::new(record(name, serial)),
            firmware_risk_accepted: false,
        })
    }

    /// Seals `set` to `names` with threshold `t`; envelopes are derived from the set id.
    pub fn seal(&mut self, set: SetId, label: &str, t: u8, names: &[&str]) -> u64 {
        self.push(seal_body(set, label, t, names))
    }

    /// Framed file image.
    pub fn bytes(&self) -> Vec<u8> {
        frame_all(&self.entries)
    }
}

/// A seal body for `set` to `names` with threshold `t`.
pub fn seal_body(set: SetId, label: &str, t: u8, names: &[&str]) -> Body {
    Body::Seal {
        set,
        label: label.into(),
        secret_kind: SecretKind::Password,
        threshold: t,
        shares: names.len() as u8,
        custodians: names.iter().map(|n| n.to_string()).collect(),
        envelopes: (0..names.len()).map(|i| envelope(set, i)).collect(),
        payload_digest: [0xd1; 32],
        rotate_within: 86_400,
        review_within: 7 * 86_400,
    }
}

/// The fingerprint the builder gives envelope `i` of `set`.
pub fn envelope(set: SetId, i: usize) -> Hash {
    Sha256::digest([&set.0[..], &[i as u8]].concat()).into()
}

/// A set id from a small number.
pub fn set(n: u8) -> SetId {
    SetId([n; 16])
}

/// Frames entries as written (each hashed under the entry label).
pub fn frame_all(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let cbor = e.to_bytes();
        write_frame(&mut out, &cbor, &entry_hash(&cbor));
    }
    out
}

/// A realistic custody: five custodians, two sets, four rounds of share check, drill,
/// open, review, reseal and rotate, and destruction, each ceremony ending in a
/// checkpoint signed by exactly the quorum its act needs. 70 entries, 26 checkpoints.
pub fn scenario(custody_id: [u8; 16]) -> Builder {
    let mut b = Builder::new(custody_id);
    for (i, n) in ["alice", "bob", "carol", "dave", "erin"].iter().enumerate() {
        b.enroll(n, 1001 + i as u32);
    }
    b.checkpoint(&["alice", "bob", "carol", "dave", "erin"]);
    b.seal(set(1), "aws-root", 2, &["alice", "bob", "carol"]);
    b.seal(
        set(100),
        "gcp-root",
        3,
        &["alice", "bob", "carol", "dave", "erin"],
    );
    b.checkpoint(&["alice", "bob", "carol"]);
    for round in 1..=4u8 {
        let (old, new) = (set(round), set(round + 1));
        b.push(Body::ShareCheck {
            set: old,
            custodian: "carol".into(),
            envelope: envelope(old, 2),
        });
        b.checkpoint(&["carol"]);
        b.push(Body::Drill {
            set: old,
            custodians: vec!["alice".into(), "bob".into()],
            envelopes: vec![envelope(old, 0), envelope(old, 1)],
        });
        b.checkpoint(&["alice", "bob"]);
        let open = b.push(Body::Open {
            set: old,
            reason: format!("SSO outage round {round}"),
            incident: format!("INC-{round}"),
            custodians: vec!["alice".into(), "bob".into()],
            envelopes: vec![envelope(old, 0), envelope(old, 1)],
        });
        b.checkpoint(&["alice", "bob"]);
        b.push(Body::Review {
            open_seq: open,
            verdict: Verdict::Justified,
            notes: "outage confirmed by the on-call lead".into(),
        });
        b.checkpoint(&["carol"]);
        b.seal(new, "aws-root", 2, &["alice", "bob", "carol"]);
        b.push(Body::Rotate { old, new });
        b.checkpoint(&["alice", "bob", "carol"]);
        b.acknowledge(new, &["alice", "bob", "carol"]);
        for i in 0..3 {
            b.push(Body::EnvelopeDestroyed {
                envelope: envelope(old, i),
                witnesses: vec!["dave".into(), "erin".into()],
            });
        }
        b.checkpoint(&["dave", "erin"]);
    }
    b
}

/// The custody id of the standard scenario.
pub const CUSTODY: [u8; 16] = [0x5a; 16];

/// The malicious writer's tool: recomputes every link (and checkpoint head) after
/// `entries` were edited, as an attacker without keys would, so that only signatures or
/// replay can catch the edit.
pub fn relink(entries: &mut [Entry]) {
    let mut prev = ZERO_HASH;
    for (i, e) in entries.iter_mut().enumerate() {
        e.seq = i as u64;
        e.prev = prev;
        if let Body::Checkpoint { head, .. } = &mut e.body {
            *head = prev;
        }
        prev = e.hash();
    }
}

/// Re-signs checkpoint `i` of `entries` with the given keys under the given names.
pub fn resign(entries: &mut [Entry], i: usize, custody_id: &[u8; 16], who: &[(&str, &SigningKey)]) {
    let (seq, time) = (entries[i].seq, entries[i].time);
    let Body::Checkpoint {
        head, signatures, ..
    } = &mut entries[i].body
    else {
        panic!("entry {i} is not a checkpoint")
    };
    let mut who = who.to_vec();
    who.sort_by(|a, b| a.0.cmp(b.0));
    let names: Vec<&str> = who.iter().map(|(n, _)| *n).collect();
    let digest = signature_input(custody_id, seq, head, time, &names, &Signed::default());
    *signatures = who
        .iter()
        .map(|(n, k)| CheckpointSignature {
            custodian: n.to_string(),
            signature: raw_sign(k, &digest),
        })
        .collect();
}
