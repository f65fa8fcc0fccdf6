//! The benchmarks' log generator (a bench helper, not a ceremony command): a valid,
//! fully signed training log of about `n` entries from a custody of five custodians,
//! cycling through what a custody lives through — share checks, drills, openings,
//! reviews, reseals, rotations, destructions — with a checkpoint after every act,
//! signed by exactly the quorum that act needs, as the ceremonies sign them.
//!
//! The custodians' sign keys are software keys derived from their names, standing in
//! for YubiKeys (the signatures are the same ECDSA P-256 over the same inputs), and
//! their enrollment records carry placeholder certificates: the benchmarks' attestation
//! check accepts them, so verify figures measure links, replay and signatures, not
//! X.509 chains (those are checked once per enrollment, five times per log here).

use glasskeep_core::custodian::CustodianRecord;
use glasskeep_core::log::checkpoint::{
    make_checkpoint, AttestationCheck, CheckpointSigner, SignError,
};
use glasskeep_core::log::entry::entry_hash;
use glasskeep_core::log::frame::write_frame;
use glasskeep_core::log::{Body, Entry, Hash, SecretKind, State, Verdict};
use glasskeep_core::piv::{PinPolicy, Slot, TouchPolicy, Version};
use glasskeep_core::shamir::SetId;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{DerSignature, SigningKey};
use sha2::{Digest, Sha256};

/// The custodians of every generated log.
pub const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

/// A fixed software key per label (SHA-256 of the label is a valid scalar for every
/// label used here; `from_slice` would refuse one that is not).
pub fn key(label: &str) -> SigningKey {
    let seed: [u8; 32] = Sha256::digest(format!("glasskeep-bench-key/{label}")).into();
    SigningKey::from_slice(&seed).expect("bench seeds are valid scalars")
}

fn compressed(key: &SigningKey) -> [u8; 33] {
    let p = key.verifying_key().to_sec1_point(true);
    p.as_bytes()
        .try_into()
        .expect("a compressed point is 33 bytes")
}

struct Soft(&'static str, SigningKey);

impl CheckpointSigner for Soft {
    fn custodian(&self) -> &str {
        self.0
    }
    fn sign_digest(&mut self, digest: &Hash) -> Result<Vec<u8>, SignError> {
        let sig: DerSignature = self.1.sign_prehash(digest).map_err(SignError::new)?;
        Ok(sig.as_bytes().to_vec())
    }
}

/// Accepts the placeholder certificates of generated logs (see the module docs).
pub struct PlaceholderAttestation;

impl AttestationCheck for PlaceholderAttestation {
    fn check(&self, record: &CustodianRecord, _training: bool) -> Result<(), String> {
        if record.device_attestation.starts_with(b"bench-device/") {
            Ok(())
        } else {
            Err("not a generated record".into())
        }
    }
}

fn record(name: &str, serial: u32) -> CustodianRecord {
    CustodianRecord {
        name: name.into(),
        serial,
        firmware: Version {
            major: 5,
            minor: 7,
            patch: 1,
        },
        seal_slot: Slot::RETIRED1,
        seal_public_key: compressed(&key(&format!("{name}/seal"))),
        seal_pin_policy: PinPolicy::Once,
        seal_touch_policy: TouchPolicy::Always,
        sign_public_key: compressed(&key(name)),
        sign_pin_policy: PinPolicy::Always,
        sign_touch_policy: TouchPolicy::Always,
        device_attestation: format!("bench-device/{serial}").into_bytes(),
        seal_attestation: format!("bench-seal/{serial}").into_bytes(),
        sign_attestation: format!("bench-sign/{serial}").into_bytes(),
    }
}

struct Writer {
    state: State,
    time: u64,
    out: Vec<u8>,
    entries: usize,
}

impl Writer {
    fn append(&mut self, e: &Entry) {
        self.state.apply(e).expect("generated entries are legal");
        let cbor = e.to_bytes();
        write_frame(&mut self.out, &cbor, &entry_hash(&cbor));
        self.entries += 1;
        self.time += 60;
    }

    fn push(&mut self, body: Body) -> u64 {
        let seq = self.state.next_seq();
        let e = Entry {
            seq,
            prev: self.state.head(),
            time: self.time,
            body,
        };
        self.append(&e);
        seq
    }

    fn checkpoint(&mut self, names: &[&'static str]) {
        let mut signers: Vec<Soft> = names.iter().map(|n| Soft(n, key(n))).collect();
        let mut refs: Vec<&mut dyn CheckpointSigner> = signers
            .iter_mut()
            .map(|s| s as &mut dyn CheckpointSigner)
            .collect();
        let e = make_checkpoint(&self.state, &mut refs, self.time, self.time)
            .expect("generated checkpoints are legal");
        self.append(&e);
    }
}

fn set(n: u32) -> SetId {
    let mut id = [0x5e; 16];
    id[..4].copy_from_slice(&n.to_be_bytes());
    SetId(id)
}

fn envelope(set: SetId, i: usize) -> Hash {
    Sha256::digest([&set.0[..], &[i as u8]].concat()).into()
}

fn seal(set: SetId) -> Body {
    let names = ["alice", "bob", "carol"];
    Body::Seal {
        set,
        label: "aws-root".into(),
        secret_kind: SecretKind::Password,
        threshold: 2,
        shares: 3,
        custodians: names.iter().map(|n| n.to_string()).collect(),
        envelopes: (0..3).map(|i| envelope(set, i)).collect(),
        payload_digest: Sha256::digest(set.0).into(),
        rotate_within: 86_400,
        review_within: 7 * 86_400,
    }
}

/// A framed training log of at least `n` entries (it ends after a whole round, so up
/// to 19 more), and how many entries it holds.
pub fn training_log(n: usize) -> (Vec<u8>, usize) {
    let mut w = Writer {
        state: State::new(),
        time: 1_700_000_000,
        out: Vec::new(),
        entries: 0,
    };
    w.push(Body::Genesis {
        org: "Bench Org".into(),
        training: true,
        custody_id: [0x5a; 16],
        tool_version: "0.1.0".into(),
        binary_sha256: [0xb1; 32],
        quorum: 2,
    });
    for (i, name) in NAMES.iter().enumerate() {
        w.push(Body::Enroll {
            record: Box::new(record(name, 1001 + i as u32)),
            firmware_risk_accepted: false,
        });
    }
    w.checkpoint(&NAMES);
    w.push(seal(set(0)));
    w.checkpoint(&["alice", "bob", "carol"]);
    let mut round = 0u32;
    while w.entries < n {
        let (old, new) = (set(round), set(round + 1));
        w.push(Body::ShareCheck {
            set: old,
            custodian: "carol".into(),
            envelope: envelope(old, 2),
        });
        w.checkpoint(&["carol"]);
        w.push(Body::Drill {
            set: old,
            custodians: vec!["alice".into(), "bob".into()],
            envelopes: vec![envelope(old, 0), envelope(old, 1)],
        });
        w.checkpoint(&["alice", "bob"]);
        let open = w.push(Body::Open {
            set: old,
            reason: format!("SSO outage, round {round}"),
            incident: format!("INC-{round}"),
            custodians: vec!["alice".into(), "bob".into()],
            envelopes: vec![envelope(old, 0), envelope(old, 1)],
        });
        w.checkpoint(&["alice", "bob"]);
        w.push(Body::Review {
            open_seq: open,
            verdict: Verdict::Justified,
            notes: "outage confirmed by the on-call lead".into(),
        });
        w.checkpoint(&["carol"]);
        w.push(seal(new));
        w.push(Body::Rotate { old, new });
        w.checkpoint(&["alice", "bob", "carol"]);
        for i in 0..3 {
            w.push(Body::EnvelopeDestroyed {
                envelope: envelope(old, i),
                witnesses: vec!["dave".into(), "erin".into()],
            });
        }
        w.checkpoint(&["dave", "erin"]);
        round += 1;
    }
    (w.out, w.entries)
}
