//! The checks after the chain (serial, key, policy), re-verifying a custodian record
//! as auditors do, and the words of the errors.

use p256::ecdsa::SigningKey;

use super::{build, key, point, spki, Spec, ROOT};
use crate::attestation::*;
use crate::piv::{PinPolicy, TouchPolicy};

#[test]
fn record_checks() {
    let seal = build(Spec::default());
    let sign = build(Spec {
        slot_subject: "CN=YubiKey PIV Attestation 9c",
        policy: vec![3, 2],
        slot_key: spki(&key("sign")),
        ..Spec::default()
    });
    let compress = |k: &SigningKey| -> [u8; 33] {
        k.verifying_key()
            .to_sec1_point(true)
            .as_bytes()
            .try_into()
            .unwrap()
    };
    let record = CustodianRecord {
        name: "alice".into(),
        serial: 1001,
        firmware: Version {
            major: 5,
            minor: 7,
            patch: 4,
        },
        seal_slot: crate::piv::Slot::RETIRED1,
        seal_public_key: compress(&key("slot")),
        seal_pin_policy: PinPolicy::Once,
        seal_touch_policy: TouchPolicy::Always,
        sign_public_key: compress(&key("sign")),
        sign_pin_policy: PinPolicy::Always,
        sign_touch_policy: TouchPolicy::Always,
        device_attestation: seal.device.clone(),
        seal_attestation: seal.slot.clone(),
        sign_attestation: sign.slot.clone(),
    };
    let store = seal.store();
    let facts = verify_record_with(&record, Trust::Training, &store).unwrap();
    assert_eq!((facts.serial, facts.root.as_str()), (1001, ROOT));

    let swapped = CustodianRecord {
        seal_attestation: record.sign_attestation.clone(),
        sign_attestation: record.seal_attestation.clone(),
        ..record.clone()
    };
    assert_eq!(
        verify_record_with(&swapped, Trust::Training, &store),
        Err(AttestationError::KeyMismatch {
            role: KeyRole::Seal
        })
    );
    let moved = CustodianRecord {
        seal_slot: crate::piv::Slot::retired(0x83).unwrap(),
        ..record.clone()
    };
    assert!(matches!(
        verify_record_with(&moved, Trust::Training, &store),
        Err(AttestationError::SlotMismatch {
            role: KeyRole::Seal,
            ..
        })
    ));
    let fw = CustodianRecord {
        firmware: Version {
            major: 5,
            minor: 4,
            patch: 3,
        },
        ..record.clone()
    };
    assert!(matches!(
        verify_record_with(&fw, Trust::Training, &store),
        Err(AttestationError::FirmwareMismatch { .. })
    ));
    let pol = CustodianRecord {
        seal_pin_policy: PinPolicy::Always,
        ..record.clone()
    };
    assert_eq!(
        verify_record_with(&pol, Trust::Training, &store),
        Err(AttestationError::PolicyMismatch {
            role: KeyRole::Seal
        })
    );
    let serial = CustodianRecord {
        serial: 1002,
        ..record.clone()
    };
    assert!(matches!(
        verify_record_with(&serial, Trust::Training, &store),
        Err(AttestationError::SerialMismatch { .. })
    ));
    let weak_sign = build(Spec {
        policy: vec![2, 2],
        slot_key: spki(&key("sign")),
        ..Spec::default()
    });
    let weak = CustodianRecord {
        sign_attestation: weak_sign.slot,
        sign_pin_policy: PinPolicy::Once,
        ..record
    };
    assert!(matches!(
        verify_record_with(&weak, Trust::Training, &store),
        Err(AttestationError::PolicyTooWeak {
            role: KeyRole::Sign,
            ..
        })
    ));
}

#[test]
fn error_messages_say_what_to_do() {
    let msg = AttestationError::TrainingCardInProduction.to_string();
    assert_eq!(
        msg,
        "this key was not attested by Yubico: a training (simulated) YubiKey cannot join a production custody"
    );
    let msg = AttestationError::UntrustedIssuer {
        issuer: "CN=x".into(),
        trust: Trust::Production,
    }
    .to_string();
    assert!(msg.contains("not a genuine YubiKey"), "{msg}");
}

#[test]
fn key_and_serial_mismatches_are_refused() {
    let k = build(Spec::default()).verify(KeyRole::Seal).unwrap();
    assert_eq!(
        check_attested_key(KeyRole::Seal, &k, 1002, &point(&key("slot"))),
        Err(AttestationError::SerialMismatch {
            attested: 1001,
            expected: 1002
        })
    );
    assert_eq!(
        check_attested_key(KeyRole::Seal, &k, 1001, &point(&key("other"))),
        Err(AttestationError::KeyMismatch {
            role: KeyRole::Seal
        })
    );
    assert_eq!(
        check_attested_key(KeyRole::Seal, &k, 1001, &[4u8; 65]),
        Err(AttestationError::KeyMismatch {
            role: KeyRole::Seal
        })
    );
}

#[test]
fn weak_policies_are_refused() {
    let cases = [
        (KeyRole::Seal, [2, 1], false),
        (KeyRole::Seal, [2, 3], false),
        (KeyRole::Seal, [1, 2], false),
        (KeyRole::Seal, [3, 2], true),
        (KeyRole::Sign, [2, 2], false),
        (KeyRole::Sign, [3, 3], false),
        (KeyRole::Sign, [3, 2], true),
    ];
    for (role, policy, ok) in cases {
        let k = build(Spec {
            policy: policy.to_vec(),
            ..Spec::default()
        })
        .verify(role)
        .unwrap();
        let r = check_policy(role, &k);
        assert_eq!(r.is_ok(), ok, "{role} {policy:?}");
        if !ok {
            assert!(matches!(r, Err(AttestationError::PolicyTooWeak { .. })));
        }
    }
}
