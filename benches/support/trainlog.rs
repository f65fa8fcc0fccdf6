//! The benchmarks' log generator (a bench helper, not a ceremony command): a valid,
//! fully signed training log of about `n` entries from a custody of five custodians,
//! cycling through what a custody lives through — share checks, drills, openings,
//! reviews, reseals, rotations, destructions — with a checkpoint after every act,
//! signed by exactly the quorum that act needs, as the ceremonies sign them.
//!
//! The custodians are in-process simulated YubiKeys (glasskeep-card's `sim` feature):
//! each is enrolled as a ceremony enrolls a key (keys generated on the card, the
//! simulator's attestation chain to its training root), and every checkpoint signature
//! is made by the card's sign key after a PIN verification, as its policy demands. The
//! cards touch at once, so a 100,000-entry log takes seconds, not hours of touch waits.
//! `log verify`'s own attestation check ([`AttestationChecker`]) accepts the log.

use glasskeep::ceremony::AttestationChecker;
use glasskeep_card::enroll::{enroll, EnrollOptions};
use glasskeep_card::sim_token::{SimToken, DEFAULT_PIN};
use glasskeep_card::Token;
use glasskeep_core::attestation::Trust;
use glasskeep_core::log::checkpoint::{make_checkpoint, CheckpointSigner, SignError};
use glasskeep_core::log::entry::entry_hash;
use glasskeep_core::log::frame::write_frame;
use glasskeep_core::log::{Body, Entry, Hash, SecretKind, State, Verdict};
use glasskeep_core::piv::Slot;
use glasskeep_core::secret::Pin;
use glasskeep_core::shamir::SetId;
use glasskeep_piv_sim::{SimConfig, TouchMode};
use sha2::{Digest, Sha256};

/// The custodians of every generated log.
pub const NAMES: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

/// A fixed software key per label, for the raw ECDSA baselines the benchmarks measure
/// beside verification (SHA-256 of the label is a valid scalar for every label used).
pub fn key(label: &str) -> p256::ecdsa::SigningKey {
    let seed: [u8; 32] = Sha256::digest(format!("glasskeep-bench-key/{label}")).into();
    p256::ecdsa::SigningKey::from_slice(&seed).expect("bench seeds are valid scalars")
}

/// The check `log verify` runs on enrollment records: the generated log passes it.
pub fn attestation() -> AttestationChecker {
    AttestationChecker
}

/// Five enrolled simulated YubiKeys, one per name in [`NAMES`].
pub struct Cards {
    tokens: Vec<SimToken>,
    pin: Pin,
}

impl Cards {
    fn new() -> Cards {
        Cards {
            tokens: (0..NAMES.len())
                .map(|i| {
                    SimToken::with_config(SimConfig {
                        serial: 1001 + i as u32,
                        touch: TouchMode::Immediate,
                        ..SimConfig::default()
                    })
                })
                .collect(),
            pin: Pin::new(DEFAULT_PIN).expect("the factory PIN is a valid PIN"),
        }
    }

    fn token(&mut self, name: &str) -> &mut SimToken {
        let i = NAMES
            .iter()
            .position(|n| *n == name)
            .expect("a generated custodian");
        &mut self.tokens[i]
    }
}

/// One custodian's card as checkpoint signer: PIN, then the sign key in 9c.
struct CardSigner<'a> {
    name: &'static str,
    token: &'a mut SimToken,
    pin: &'a Pin,
}

impl CheckpointSigner for CardSigner<'_> {
    fn custodian(&self) -> &str {
        self.name
    }
    fn sign_digest(&mut self, digest: &Hash) -> Result<Vec<u8>, SignError> {
        self.token.verify_pin(self.pin).map_err(SignError::new)?;
        self.token
            .sign(Slot::SIGNATURE, digest)
            .map_err(SignError::new)
    }
}

struct Writer {
    cards: Cards,
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
        let Cards { tokens, pin } = &mut self.cards;
        let mut signers: Vec<CardSigner> = tokens
            .iter_mut()
            .zip(NAMES)
            .filter(|(_, n)| names.contains(n))
            .map(|(token, name)| CardSigner {
                name,
                token,
                pin: &*pin,
            })
            .collect();
        // In the order asked for, as the ceremonies visit custodians.
        signers.sort_by_key(|s| names.iter().position(|n| *n == s.name));
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
/// to 18 more), and how many entries it holds.
pub fn training_log(n: usize) -> (Vec<u8>, usize) {
    let mut w = Writer {
        cards: Cards::new(),
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
        term: glasskeep_core::log::body::DEFAULT_TERM,
    });
    for name in NAMES {
        let pin = Pin::new(DEFAULT_PIN).expect("the factory PIN is a valid PIN");
        let enrolled = enroll(
            w.cards.token(name),
            &pin,
            &EnrollOptions::new(name, Trust::Training),
        )
        .expect("a factory-fresh simulated card enrolls in a training custody");
        w.push(Body::Enroll {
            record: Box::new(enrolled.record),
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
        // The new set is pending until each of its custodians has checked their new
        // envelope; the last check activates it and supersedes the old set.
        for (i, name) in ["alice", "bob", "carol"].into_iter().enumerate() {
            w.push(Body::ShareCheck {
                set: new,
                custodian: name.into(),
                envelope: envelope(new, i),
            });
        }
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
