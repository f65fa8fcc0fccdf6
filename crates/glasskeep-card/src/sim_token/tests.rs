//! Every card operation and every card error, through the in-process simulator.

use std::time::Duration;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256};

use super::*;
use crate::list::card_report;
use glasskeep_core::attestation::{self, AttestationError, Trust};
use glasskeep_core::piv::KeyRole;

fn pin(p: &[u8]) -> Pin {
    Pin::new(p).unwrap()
}

fn seal_key_result(t: &mut SimToken) -> Result<Vec<u8>, TokenError> {
    t.generate(
        Slot::RETIRED1,
        Algorithm::P256,
        PinPolicy::Once,
        TouchPolicy::Always,
        false,
    )
}

fn seal_key(t: &mut SimToken) -> Vec<u8> {
    seal_key_result(t).unwrap()
}

#[test]
fn reports_serial_and_version() {
    let t = SimToken::new_in_memory(4242);
    assert_eq!(t.serial(), 4242);
    assert_eq!(
        t.version(),
        Version {
            major: 5,
            minor: 7,
            patch: 1
        }
    );
}

#[test]
fn wrong_pin_counts_down_then_blocks() {
    let mut t = SimToken::new_in_memory(1);
    assert_eq!(t.pin_retries().unwrap(), 3);
    assert!(matches!(
        t.verify_pin(&pin(b"000000")),
        Err(TokenError::WrongPin { retries_left: 2 })
    ));
    assert!(matches!(
        t.verify_pin(&pin(b"000000")),
        Err(TokenError::WrongPin { retries_left: 1 })
    ));
    assert_eq!(t.pin_retries().unwrap(), 1);
    assert!(matches!(
        t.verify_pin(&pin(b"000000")),
        Err(TokenError::PinBlocked)
    ));
    assert!(matches!(
        t.verify_pin(&pin(DEFAULT_PIN)),
        Err(TokenError::PinBlocked)
    ));
    assert_eq!(t.pin_retries().unwrap(), 0);
}

#[test]
fn right_pin_resets_the_counter() {
    let mut t = SimToken::new_in_memory(1);
    assert!(t.verify_pin(&pin(b"654321")).is_err());
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    assert_eq!(t.pin_retries().unwrap(), 3);
}

#[test]
fn generate_reports_the_key_and_refuses_an_occupied_slot() {
    let mut t = SimToken::new_in_memory(1);
    assert_eq!(t.metadata(Slot::RETIRED1).unwrap(), None);
    let pk = seal_key(&mut t);
    assert_eq!(pk.len(), 65);
    let m = t.metadata(Slot::RETIRED1).unwrap().unwrap();
    assert_eq!(
        (m.algorithm, m.pin_policy, m.touch_policy, m.origin),
        (
            Algorithm::P256,
            PinPolicy::Once,
            TouchPolicy::Always,
            KeyOrigin::Generated
        )
    );
    assert_eq!(m.public_key, pk);
    let again = t.generate(
        Slot::RETIRED1,
        Algorithm::P256,
        PinPolicy::Once,
        TouchPolicy::Always,
        false,
    );
    assert!(matches!(
        again,
        Err(TokenError::SlotOccupied {
            slot: Slot::RETIRED1
        })
    ));
    // Still the same key: nothing was overwritten.
    assert_eq!(t.metadata(Slot::RETIRED1).unwrap().unwrap().public_key, pk);
    let replaced = t
        .generate(
            Slot::RETIRED1,
            Algorithm::P256,
            PinPolicy::Once,
            TouchPolicy::Always,
            true,
        )
        .unwrap();
    assert_ne!(replaced, pk);
}

#[test]
fn generate_refuses_unsupported_algorithms() {
    let mut t = SimToken::new_in_memory(1);
    let r = t.generate(
        Slot::RETIRED1,
        Algorithm::Other(0x07),
        PinPolicy::Once,
        TouchPolicy::Always,
        false,
    );
    assert!(matches!(r, Err(TokenError::Unsupported { .. })));
}

#[test]
fn ecdh_needs_the_pin_and_matches_software() {
    let mut t = SimToken::new_in_memory(1);
    let pk = p256::PublicKey::from_sec1_bytes(&seal_key(&mut t)).unwrap();
    let eph = p256::SecretKey::from_slice(&[9u8; 32]).unwrap();
    let eph_pub = eph.public_key().to_sec1_bytes();
    assert!(matches!(
        t.ecdh(Slot::RETIRED1, &eph_pub),
        Err(TokenError::PinNotVerified)
    ));
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    let x = t.ecdh(Slot::RETIRED1, &eph_pub).unwrap();
    let expected = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), pk.as_affine());
    assert_eq!(&x[..], &expected.raw_secret_bytes()[..]);
    // PIN once: a second operation needs no new PIN.
    t.ecdh(Slot::RETIRED1, &eph_pub).unwrap();
}

#[test]
fn sign_with_pin_always_needs_the_pin_every_time() {
    let mut t = SimToken::new_in_memory(1);
    let pk = t
        .generate(
            Slot::SIGNATURE,
            Algorithm::P256,
            PinPolicy::Always,
            TouchPolicy::Always,
            false,
        )
        .unwrap();
    let digest = Sha256::digest(b"checkpoint");
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    let sig = t.sign(Slot::SIGNATURE, &digest).unwrap();
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
    let sig = p256::ecdsa::Signature::from_der(&sig).unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
    assert!(matches!(
        t.sign(Slot::SIGNATURE, &digest),
        Err(TokenError::PinNotVerified)
    ));
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    t.sign(Slot::SIGNATURE, &digest).unwrap();
}

#[test]
fn touch_never_given_times_out() {
    let mut t = SimToken::never_touched(1, Duration::from_millis(100));
    seal_key(&mut t);
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    let eph = p256::SecretKey::from_slice(&[9u8; 32])
        .unwrap()
        .public_key()
        .to_sec1_bytes();
    assert!(matches!(
        t.ecdh(Slot::RETIRED1, &eph),
        Err(TokenError::TouchTimeout)
    ));
}

#[test]
fn touch_timeout_on_a_pin_always_key_right_after_verify_is_a_timeout_not_a_pin_error() {
    // Regression: the spent "PIN fresh" flag used to be cleared before the card's 6982
    // was classified, so an untouched sign key was reported as a missing PIN.
    let mut t = SimToken::never_touched(1, Duration::from_millis(100));
    t.generate(
        Slot::SIGNATURE,
        Algorithm::P256,
        PinPolicy::Always,
        TouchPolicy::Always,
        false,
    )
    .unwrap();
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    assert!(matches!(
        t.sign(Slot::SIGNATURE, &[7; 32]),
        Err(TokenError::TouchTimeout)
    ));
    // The VERIFY is spent: without a new one the card wants the PIN again.
    assert!(matches!(
        t.sign(Slot::SIGNATURE, &[7; 32]),
        Err(TokenError::PinNotVerified)
    ));
}

#[test]
fn operations_on_an_empty_slot_say_so() {
    let mut t = SimToken::new_in_memory(1);
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    assert!(matches!(
        t.sign(Slot::SIGNATURE, &[0; 32]),
        Err(TokenError::SlotEmpty { .. })
    ));
    assert!(matches!(
        t.ecdh(Slot::RETIRED1, &[4; 65]),
        Err(TokenError::SlotEmpty { .. })
    ));
    assert!(matches!(
        t.attest(Slot::RETIRED1),
        Err(TokenError::SlotEmpty { .. })
    ));
}

#[test]
fn certificates_round_trip_and_f9_is_present() {
    let mut t = SimToken::new_in_memory(1);
    assert_eq!(t.read_certificate(Slot::RETIRED1).unwrap(), None);
    let big = vec![0x30; 900]; // forces command chaining and GET RESPONSE
    t.write_certificate(Slot::RETIRED1, &big).unwrap();
    assert_eq!(t.read_certificate(Slot::RETIRED1).unwrap(), Some(big));
    assert!(t.read_certificate(Slot::ATTESTATION).unwrap().is_some());
}

#[test]
fn attestation_verifies_under_training_and_not_production() {
    let mut t = SimToken::new_in_memory(77);
    let pk = seal_key(&mut t);
    let slot = t.attest(Slot::RETIRED1).unwrap();
    let f9 = t.read_certificate(Slot::ATTESTATION).unwrap().unwrap();
    let k =
        attestation::verify_key_attestation(KeyRole::Seal, &slot, &f9, Trust::Training).unwrap();
    attestation::check_attested_key(KeyRole::Seal, &k, 77, &pk).unwrap();
    assert_eq!(
        (k.pin_policy, k.touch_policy),
        (PinPolicy::Once, TouchPolicy::Always)
    );
    assert_eq!(
        attestation::verify_key_attestation(KeyRole::Seal, &slot, &f9, Trust::Production),
        Err(AttestationError::TrainingCardInProduction)
    );
    // Another card's attestation does not pass for this card.
    assert!(matches!(
        attestation::check_attested_key(KeyRole::Seal, &k, 78, &pk),
        Err(AttestationError::SerialMismatch {
            attested: 77,
            expected: 78
        })
    ));
}

#[test]
fn training_root_matches_the_simulator() {
    assert_eq!(
        attestation::SIM_TRAINING_ROOT_DER,
        glasskeep_piv_sim::training_root_certificate_der().as_slice()
    );
}

#[test]
fn card_report_lists_keys() {
    let mut t = SimToken::new_in_memory(5);
    seal_key(&mut t);
    let r = card_report(&mut t).unwrap();
    assert_eq!(
        (r.serial, r.firmware.as_str(), r.metadata_supported),
        (5, "5.7.1", true)
    );
    assert_eq!(r.slots.len(), 1);
    assert_eq!(r.slots[0].slot, "82");
    assert_eq!(r.slots[0].touch_policy.as_deref(), Some("always"));
}

#[test]
fn old_firmware_uses_3des_and_lists_by_certificate() {
    let mut t = SimToken::with_config(glasskeep_piv_sim::SimConfig {
        serial: 9,
        firmware: [5, 2, 7],
        ..Default::default()
    });
    assert!(matches!(
        t.metadata(Slot::RETIRED1),
        Err(TokenError::Unsupported { .. })
    ));
    seal_key(&mut t);
    // Without metadata the only hint of occupation is a certificate.
    t.write_certificate(Slot::RETIRED1, &[0x30, 0x00]).unwrap();
    let again = t.generate(
        Slot::RETIRED1,
        Algorithm::P256,
        PinPolicy::Once,
        TouchPolicy::Always,
        false,
    );
    assert!(matches!(again, Err(TokenError::SlotOccupied { .. })));
    let r = card_report(&mut t).unwrap();
    assert!(!r.metadata_supported);
    assert_eq!(r.slots.len(), 1);
    // ECDH still distinguishes a missing PIN from a missing touch without metadata.
    assert!(matches!(
        t.ecdh(Slot::RETIRED1, &[4; 65]),
        Err(TokenError::PinNotVerified)
    ));
}

#[test]
fn signal_touch_from_another_thread_completes_the_operation() {
    let mut t = SimToken::with_config(glasskeep_piv_sim::SimConfig {
        serial: 3,
        touch: glasskeep_piv_sim::TouchMode::Signal,
        touch_timeout: Duration::from_secs(10),
        ..Default::default()
    });
    seal_key(&mut t);
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    let handle = t.touch_handle();
    let toucher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.touch();
    });
    let eph = p256::SecretKey::from_slice(&[9u8; 32])
        .unwrap()
        .public_key()
        .to_sec1_bytes();
    t.ecdh(Slot::RETIRED1, &eph).unwrap();
    toucher.join().unwrap();
}

#[test]
fn oversized_certificates_are_refused() {
    let mut t = SimToken::new_in_memory(1);
    let r = t.write_certificate(Slot::RETIRED1, &vec![0x30; 3001]);
    assert!(matches!(r, Err(TokenError::Unsupported { .. })));
}

#[test]
fn credential_metadata_spends_no_try_and_follows_changes() {
    use crate::{Credential, ManagementKeyAlgorithm, Retries};
    let mut t = SimToken::new_in_memory(11);
    assert!(matches!(
        t.verify_pin(&pin(b"000000")),
        Err(TokenError::WrongPin { retries_left: 2 })
    ));
    for _ in 0..2 {
        let m = t.credential_metadata(Credential::Pin).unwrap();
        assert!(m.is_default);
        assert_eq!(
            m.retries,
            Some(Retries {
                total: 3,
                remaining: 2
            })
        );
    }
    let m = t.credential_metadata(Credential::ManagementKey).unwrap();
    assert_eq!(
        (m.is_default, m.algorithm),
        (true, Some(ManagementKeyAlgorithm::Aes192))
    );
    let mut t = SimToken::with_config(glasskeep_piv_sim::SimConfig {
        puk: b"87654321".to_vec(),
        management_key: Some((0x08, vec![3; 16])),
        ..Default::default()
    });
    assert!(!t.credential_metadata(Credential::Puk).unwrap().is_default);
    let m = t.credential_metadata(Credential::ManagementKey).unwrap();
    assert_eq!(
        (m.is_default, m.algorithm),
        (false, Some(ManagementKeyAlgorithm::Aes128))
    );
}

#[test]
fn a_given_management_key_is_used_for_generating() {
    let mut t = SimToken::with_config(glasskeep_piv_sim::SimConfig {
        management_key: Some((0x0C, vec![3; 32])),
        ..Default::default()
    });
    assert!(matches!(
        seal_key_result(&mut t),
        Err(TokenError::ManagementKey)
    ));
    assert!(matches!(
        t.authenticate_management_key(&[4; 32]),
        Err(TokenError::ManagementKeyRefused)
    ));
    assert!(matches!(
        t.authenticate_management_key(&[3; 24]),
        Err(TokenError::ManagementKeyLength { found: 24, .. })
    ));
    t.authenticate_management_key(&[3; 32]).unwrap();
    seal_key(&mut t);
}

#[test]
fn protected_management_key_needs_the_pin_and_is_found() {
    let mut t = SimToken::with_config(glasskeep_piv_sim::SimConfig {
        management_key: Some((0x0A, vec![6; 24])),
        protect_management_key: true,
        ..Default::default()
    });
    assert!(matches!(
        t.authenticate_protected_management_key(),
        Err(TokenError::PinNotVerified)
    ));
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    assert!(t.authenticate_protected_management_key().unwrap());
    seal_key(&mut t);
    // A card without one says so.
    let mut t = SimToken::new_in_memory(12);
    t.verify_pin(&pin(DEFAULT_PIN)).unwrap();
    assert!(!t.authenticate_protected_management_key().unwrap());
}
