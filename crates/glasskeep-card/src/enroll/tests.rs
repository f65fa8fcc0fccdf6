//! Enrollment on the in-process simulator, and on cards that misbehave in one way each.

use super::*;
use crate::sim_token::{SimToken, DEFAULT_PIN};
use crate::{KeyOrigin, SlotMetadata, Version};
use zeroize::Zeroizing;

fn pin() -> Pin {
    Pin::new(DEFAULT_PIN).unwrap()
}

fn training(name: &str) -> EnrollOptions {
    EnrollOptions::new(name, Trust::Training)
}

#[test]
fn training_enrollment_gives_a_verifiable_record() {
    let mut t = SimToken::new_in_memory(1001);
    let r = enroll(&mut t, &pin(), &training("alice")).unwrap();
    assert_eq!(
        (r.name.as_str(), r.serial, r.seal_slot),
        ("alice", 1001, Slot::RETIRED1)
    );
    assert_eq!(
        r.firmware,
        Version {
            major: 5,
            minor: 7,
            patch: 1
        }
    );
    assert_eq!(
        (r.seal_pin_policy, r.seal_touch_policy),
        (PinPolicy::Once, TouchPolicy::Always)
    );
    assert_eq!(
        (r.sign_pin_policy, r.sign_touch_policy),
        (PinPolicy::Always, TouchPolicy::Always)
    );
    let facts = attestation::verify_record(&r, Trust::Training).unwrap();
    assert_eq!(facts.serial, 1001);
    // The record's keys are the card's keys.
    let seal = t.metadata(Slot::RETIRED1).unwrap().unwrap();
    let seal_pk = p256::PublicKey::from_sec1_bytes(&seal.public_key).unwrap();
    assert_eq!(
        p256::PublicKey::from_sec1_bytes(&r.seal_public_key).unwrap(),
        seal_pk
    );
    // Each slot holds its attestation certificate, fit for age-plugin-yubikey.
    assert_eq!(
        t.read_certificate(Slot::RETIRED1).unwrap(),
        Some(r.seal_attestation.clone())
    );
    assert_eq!(
        t.read_certificate(Slot::SIGNATURE).unwrap(),
        Some(r.sign_attestation.clone())
    );
    for cert in [&r.seal_attestation, &r.sign_attestation] {
        assert!(attestation::critical_extensions(cert)
            .iter()
            .all(|o| o == OID_YUBICO_POLICY));
    }
    // An auditor with production trust refuses it.
    assert!(matches!(
        attestation::verify_record(&r, Trust::Production),
        Err(AttestationError::TrainingCardInProduction)
    ));
}

#[test]
fn production_enrollment_of_a_simulated_card_is_refused_before_any_key_is_made() {
    let mut t = SimToken::new_in_memory(1001);
    let err = enroll(
        &mut t,
        &pin(),
        &EnrollOptions::new("alice", Trust::Production),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        EnrollError::Attestation(AttestationError::TrainingCardInProduction)
    ));
    assert_eq!(
        err.to_string(),
        "this key was not attested by Yubico: a training (simulated) YubiKey cannot join a production custody"
    );
    assert_eq!(t.metadata(Slot::RETIRED1).unwrap(), None);
    assert_eq!(t.metadata(Slot::SIGNATURE).unwrap(), None);
}

#[test]
fn occupied_slots_are_refused_unless_overwriting() {
    for occupied in [Slot::RETIRED1, Slot::SIGNATURE] {
        let mut t = SimToken::new_in_memory(1);
        let old = t
            .generate(
                occupied,
                Algorithm::P256,
                PinPolicy::Once,
                TouchPolicy::Never,
                false,
            )
            .unwrap();
        let err = enroll(&mut t, &pin(), &training("bob")).unwrap_err();
        assert!(
            matches!(err, EnrollError::Token(TokenError::SlotOccupied { slot }) if slot == occupied),
            "{err:?}"
        );
        // Neither slot was touched.
        assert_eq!(t.metadata(occupied).unwrap().unwrap().public_key, old);
        let other = if occupied == Slot::SIGNATURE {
            Slot::RETIRED1
        } else {
            Slot::SIGNATURE
        };
        assert_eq!(t.metadata(other).unwrap(), None);
        let opts = EnrollOptions {
            overwrite: true,
            ..training("bob")
        };
        enroll(&mut t, &pin(), &opts).unwrap();
        assert_ne!(t.metadata(occupied).unwrap().unwrap().public_key, old);
    }
}

#[test]
fn another_retired_slot_can_hold_the_seal_key() {
    let mut t = SimToken::new_in_memory(1);
    let opts = EnrollOptions {
        seal_slot: Slot::retired(0x95).unwrap(),
        ..training("carol")
    };
    let r = enroll(&mut t, &pin(), &opts).unwrap();
    assert_eq!(r.seal_slot.id(), 0x95);
}

#[test]
fn wrong_pin_stops_before_any_key_is_made() {
    let mut t = SimToken::new_in_memory(1);
    let err = enroll(&mut t, &Pin::new(b"999999").unwrap(), &training("alice")).unwrap_err();
    assert!(matches!(
        err,
        EnrollError::Token(TokenError::WrongPin { retries_left: 2 })
    ));
    assert_eq!(t.metadata(Slot::RETIRED1).unwrap(), None);
}

#[test]
fn bad_names_and_slots_are_refused() {
    let mut t = SimToken::new_in_memory(1);
    for name in ["", " alice", "al\nice", &"x".repeat(65)] {
        let err = enroll(&mut t, &pin(), &training(name)).unwrap_err();
        assert!(matches!(err, EnrollError::BadName { .. }), "{name:?}");
    }
    let opts = EnrollOptions {
        seal_slot: Slot::AUTHENTICATION,
        ..training("alice")
    };
    assert!(matches!(
        enroll(&mut t, &pin(), &opts),
        Err(EnrollError::SealSlotNotRetired { .. })
    ));
}

/// One way a card (or a driver, or an attacker in between) can misbehave.
#[derive(Clone, Copy)]
enum Fault {
    /// Generates with touch policy "never" whatever is asked.
    IgnoresTouchPolicy,
    /// Flips a bit in every attestation certificate.
    TamperedAttestation,
    /// Reports a serial that is not the attested one.
    OtherSerial,
    /// Has no f9 certificate.
    NoDeviceCertificate,
    /// Answers ATTEST with another slot's attestation.
    AttestsAnotherKey,
}

struct Faulty {
    inner: SimToken,
    fault: Fault,
}

impl Token for Faulty {
    fn reader(&self) -> &str {
        self.inner.reader()
    }
    fn serial(&self) -> u32 {
        match self.fault {
            Fault::OtherSerial => self.inner.serial() + 1,
            _ => self.inner.serial(),
        }
    }
    fn version(&self) -> Version {
        self.inner.version()
    }
    fn verify_pin(&mut self, pin: &Pin) -> Result<(), TokenError> {
        self.inner.verify_pin(pin)
    }
    fn pin_retries(&mut self) -> Result<u8, TokenError> {
        self.inner.pin_retries()
    }
    fn generate(
        &mut self,
        slot: Slot,
        algorithm: Algorithm,
        pin: PinPolicy,
        touch: TouchPolicy,
        overwrite: bool,
    ) -> Result<Vec<u8>, TokenError> {
        let touch = match self.fault {
            Fault::IgnoresTouchPolicy => TouchPolicy::Never,
            _ => touch,
        };
        if let Fault::AttestsAnotherKey = self.fault {
            self.inner
                .generate(Slot::KEY_MANAGEMENT, algorithm, pin, touch, true)?;
        }
        self.inner.generate(slot, algorithm, pin, touch, overwrite)
    }
    fn ecdh(&mut self, slot: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        self.inner.ecdh(slot, peer)
    }
    fn sign(&mut self, slot: Slot, digest: &[u8]) -> Result<Vec<u8>, TokenError> {
        self.inner.sign(slot, digest)
    }
    fn attest(&mut self, slot: Slot) -> Result<Vec<u8>, TokenError> {
        match self.fault {
            Fault::TamperedAttestation => {
                let mut c = self.inner.attest(slot)?;
                let n = c.len();
                c[n - 40] ^= 1;
                Ok(c)
            }
            Fault::AttestsAnotherKey => self.inner.attest(Slot::KEY_MANAGEMENT),
            _ => self.inner.attest(slot),
        }
    }
    fn read_certificate(&mut self, slot: Slot) -> Result<Option<Vec<u8>>, TokenError> {
        match (self.fault, slot) {
            (Fault::NoDeviceCertificate, Slot::ATTESTATION) => Ok(None),
            _ => self.inner.read_certificate(slot),
        }
    }
    fn write_certificate(&mut self, slot: Slot, der: &[u8]) -> Result<(), TokenError> {
        self.inner.write_certificate(slot, der)
    }
    fn metadata(&mut self, slot: Slot) -> Result<Option<SlotMetadata>, TokenError> {
        self.inner.metadata(slot)
    }
}

fn enroll_faulty(fault: Fault) -> EnrollError {
    let mut t = Faulty {
        inner: SimToken::new_in_memory(500),
        fault,
    };
    enroll(&mut t, &pin(), &training("mallory")).unwrap_err()
}

#[test]
fn a_key_without_touch_always_is_refused() {
    assert!(matches!(
        enroll_faulty(Fault::IgnoresTouchPolicy),
        EnrollError::Attestation(AttestationError::PolicyTooWeak {
            role: KeyRole::Seal,
            touch: TouchPolicy::Never,
            ..
        })
    ));
}

#[test]
fn a_tampered_attestation_is_refused() {
    assert!(matches!(
        enroll_faulty(Fault::TamperedAttestation),
        EnrollError::Attestation(
            AttestationError::ChainInvalid { .. } | AttestationError::Malformed { .. }
        )
    ));
}

#[test]
fn an_attestation_of_another_card_is_refused() {
    assert!(matches!(
        enroll_faulty(Fault::OtherSerial),
        EnrollError::Attestation(AttestationError::SerialMismatch {
            attested: 500,
            expected: 501
        })
    ));
}

#[test]
fn an_attestation_of_another_key_is_refused() {
    assert!(matches!(
        enroll_faulty(Fault::AttestsAnotherKey),
        EnrollError::Attestation(AttestationError::KeyMismatch {
            role: KeyRole::Seal
        })
    ));
}

#[test]
fn a_card_without_device_certificate_is_refused() {
    assert!(matches!(
        enroll_faulty(Fault::NoDeviceCertificate),
        EnrollError::NoDeviceAttestation
    ));
}

#[test]
fn origin_is_generated() {
    let mut t = SimToken::new_in_memory(1);
    enroll(&mut t, &pin(), &training("dave")).unwrap();
    assert_eq!(
        t.metadata(Slot::SIGNATURE).unwrap().unwrap().origin,
        KeyOrigin::Generated
    );
}
