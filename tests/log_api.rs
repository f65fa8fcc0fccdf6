//! The ceremony log driven through its public API only, the way the ceremony layer and
//! the CLI use it: init, transactions, checkpoints, state queries, verify, show.

use glasskeep_core::custodian::CustodianRecord;
use glasskeep_core::log::entry::{Entry, ZERO_HASH};
use glasskeep_core::log::show::{render, Format};
use glasskeep_core::log::SignError;
use glasskeep_core::log::{
    read_log_entries, verify, AttestationCheck, Body, CheckpointSigner, FailureClass, PolicyClass,
    SecretKind, SetStatus, Store, StoreError, Verdict, VerifyOptions,
};
use glasskeep_core::piv::{PinPolicy, Slot, TouchPolicy, Version};
use glasskeep_core::shamir::SetId;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{DerSignature, SigningKey};

const T0: u64 = 1_750_000_000;

struct Soft(&'static str, SigningKey);

impl Soft {
    fn new(name: &'static str, seed: u8) -> Self {
        Soft(name, SigningKey::from_slice(&[seed; 32]).unwrap())
    }
    fn record(&self, serial: u32) -> CustodianRecord {
        let pk = self.1.verifying_key().to_sec1_point(true);
        let pk: [u8; 33] = pk.as_bytes().try_into().unwrap();
        CustodianRecord {
            name: self.0.into(),
            serial,
            firmware: Version {
                major: 5,
                minor: 7,
                patch: 4,
            },
            seal_slot: Slot::RETIRED1,
            seal_public_key: pk,
            seal_pin_policy: PinPolicy::Once,
            seal_touch_policy: TouchPolicy::Always,
            sign_public_key: pk,
            sign_pin_policy: PinPolicy::Always,
            sign_touch_policy: TouchPolicy::Always,
            device_attestation: vec![1],
            seal_attestation: vec![2],
            sign_attestation: vec![3],
        }
    }
}

impl CheckpointSigner for Soft {
    fn custodian(&self) -> &str {
        self.0
    }
    fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<Vec<u8>, SignError> {
        let sig: DerSignature = self.1.sign_prehash(digest).unwrap();
        Ok(sig.as_bytes().to_vec())
    }
}

struct TrustAll;

impl AttestationCheck for TrustAll {
    fn check(&self, _: &CustodianRecord, training: bool) -> Result<(), String> {
        assert!(training, "the checker is told this is a training custody");
        Ok(())
    }
}

#[test]
fn a_custody_from_init_to_review() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = Entry {
        seq: 0,
        prev: ZERO_HASH,
        time: T0,
        body: Body::Genesis {
            org: "Example Org".into(),
            training: true,
            custody_id: [9; 16],
            tool_version: env!("CARGO_PKG_VERSION").into(),
            binary_sha256: [0; 32],
            quorum: 2,
        },
    };
    let mut store = Store::init(dir.path(), &genesis).unwrap();
    let (mut alice, mut bob, mut carol) = (
        Soft::new("alice", 1),
        Soft::new("bob", 2),
        Soft::new("carol", 3),
    );

    // Enrollment ceremony: the first custodians together, each cosigning.
    let mut tx = store.begin();
    for (who, serial) in [(&alice, 1001), (&bob, 1002), (&carol, 1003)] {
        tx.append(
            T0 + 1,
            Body::Enroll {
                record: Box::new(who.record(serial)),
                firmware_risk_accepted: false,
            },
        )
        .unwrap();
    }
    tx.checkpoint(&mut [&mut alice, &mut bob, &mut carol], T0 + 3, T0 + 3)
        .unwrap();
    tx.commit().unwrap();

    // Seal ceremony.
    let set = SetId([7; 16]);
    let fps = [[0xa1; 32], [0xb2; 32]];
    let mut tx = store.begin();
    tx.append(
        T0 + 10,
        Body::Seal {
            set,
            label: "aws-root".into(),
            secret_kind: SecretKind::from_name("password").unwrap(),
            threshold: 2,
            shares: 2,
            custodians: vec!["alice".into(), "bob".into()],
            envelopes: fps.to_vec(),
            payload_digest: [0xcc; 32],
            rotate_within: 86_400,
            review_within: 7 * 86_400,
        },
    )
    .unwrap();
    tx.checkpoint(&mut [&mut alice, &mut bob], T0 + 11, T0 + 11)
        .unwrap();
    tx.commit().unwrap();

    // Opening: the open entry and its cosigned checkpoint land together or not at all.
    let mut tx = store.begin();
    let open_seq = tx
        .append(
            T0 + 100,
            Body::Open {
                set,
                reason: "IdP outage".into(),
                incident: "INC-42".into(),
                custodians: vec!["alice".into(), "bob".into()],
                envelopes: fps.to_vec(),
            },
        )
        .unwrap();
    // Exactly the custodians whose envelopes were used cosign the opening.
    assert!(tx
        .state()
        .quorum_shortfall(&["alice", "bob", "carol"])
        .is_some());
    tx.checkpoint(&mut [&mut alice, &mut bob], T0 + 101, T0 + 101)
        .unwrap();
    let anchor = tx.commit().unwrap();

    let st = store.state();
    assert_eq!(
        st.live_set_by_label("aws-root").unwrap().status,
        SetStatus::Opened
    );
    let open = st.open_credentials();
    assert_eq!(
        (open[0].opened_seq, open[0].deadline),
        (open_seq, T0 + 100 + 86_400)
    );
    assert_eq!(st.unreviewed_openings().count(), 1);

    // The auditor, two days later: passes structurally; the rotation is overdue (a
    // violation), the review still within its week (pending).
    let bytes = std::fs::read(store.path()).unwrap();
    let opts = VerifyOptions {
        anchor: Some(anchor),
        now: Some(T0 + 2 * 86_400),
        lenient: false,
        strict: false,
        training: true,
        now_given: true,
    };
    let r = verify(&bytes, &TrustAll, &opts);
    let f = r.failure.as_ref().unwrap();
    assert_eq!(
        (f.class, f.seq),
        (
            FailureClass::Policy(PolicyClass::RotationOverdue),
            Some(open_seq)
        )
    );
    assert_eq!(r.violations.len(), 1);
    assert_eq!(r.pending.len(), 1);
    assert_eq!(r.pending[0].kind.to_string(), "pending/review");

    let mut tx = store.begin();
    tx.append(
        T0 + 200,
        Body::Review {
            open_seq,
            verdict: Verdict::from_name("justified").unwrap(),
            notes: "outage confirmed".into(),
        },
    )
    .unwrap();
    // Reviewing twice is refused before anything is written.
    assert!(matches!(
        tx.append(
            T0 + 201,
            Body::Review {
                open_seq,
                verdict: Verdict::Unjustified,
                notes: String::new(),
            },
        ),
        Err(StoreError::Rejected { .. })
    ));
    // A review cosigned only by those who opened is refused: someone else must look.
    assert!(matches!(
        tx.checkpoint(&mut [&mut alice], T0 + 202, T0 + 202),
        Err(StoreError::Rejected { .. })
    ));
    tx.checkpoint(&mut [&mut carol], T0 + 202, T0 + 202)
        .unwrap();
    tx.commit().unwrap();
    drop(store);

    let bytes = std::fs::read(dir.path().join("ceremony.log")).unwrap();
    let r = verify(
        &bytes,
        &TrustAll,
        &VerifyOptions {
            anchor: Some(anchor),
            now: Some(T0 + 300),
            lenient: false,
            strict: false,
            training: true,
            now_given: true,
        },
    );
    assert!(r.ok, "{r}");
    assert_eq!(r.anchor_seq, Some(8));
    let entries = read_log_entries(&bytes).unwrap();
    let md = render(&entries, Format::Markdown);
    assert!(md.contains("| 7 | 2025-06-15T15:08:20Z | open | alice, bob | OPENED set 07070707070707070707070707070707: IdP outage (incident INC-42)"), "{md}");
}
