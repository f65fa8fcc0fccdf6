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

fn production(name: &str) -> EnrollOptions {
    EnrollOptions::new(name, Trust::Production)
}

/// The PIN of a card whose PIN was changed.
const OWN_PIN: &[u8] = b"24681357";
/// A management key a custodian set (AES-192, the 5.7 algorithm).
const OWN_MGM: [u8; 24] = [0xA5; 24];

fn own_pin() -> Pin {
    Pin::new(OWN_PIN).unwrap()
}

/// How a test card's credentials stand.
#[derive(Clone, Copy)]
struct CardHygiene {
    pin_default: bool,
    puk_default: bool,
    mgm_default: bool,
    mgm_protected: bool,
    firmware: [u8; 3],
}

impl CardHygiene {
    /// PIN and PUK changed, management key stored PIN-protected, firmware 5.7.1: what
    /// a custodian has after following the refusal's instructions.
    fn clean() -> Self {
        CardHygiene {
            pin_default: false,
            puk_default: false,
            mgm_default: false,
            mgm_protected: true,
            firmware: [5, 7, 1],
        }
    }
}

fn card(h: CardHygiene) -> SimToken {
    let defaults = glasskeep_piv_sim::SimConfig::default();
    let alg = if h.firmware >= [5, 7, 0] { 0x0A } else { 0x03 };
    SimToken::with_config(glasskeep_piv_sim::SimConfig {
        serial: 4242,
        firmware: h.firmware,
        pin: if h.pin_default {
            defaults.pin.clone()
        } else {
            OWN_PIN.to_vec()
        },
        puk: if h.puk_default {
            defaults.puk.clone()
        } else {
            b"87654321".to_vec()
        },
        management_key: (!h.mgm_default).then(|| (alg, OWN_MGM.to_vec())),
        protect_management_key: h.mgm_protected,
        ..defaults
    })
}

fn pin_tries_left(t: &mut SimToken) -> u8 {
    t.credential_metadata(crate::Credential::Pin)
        .unwrap()
        .retries
        .unwrap()
        .remaining
}

fn assert_untouched(t: &mut SimToken) {
    assert_eq!(t.metadata(Slot::RETIRED1).unwrap(), None);
    assert_eq!(t.metadata(Slot::SIGNATURE).unwrap(), None);
}

#[test]
fn production_refuses_each_factory_credential_alone_without_spending_a_try() {
    let cases = [
        (
            "pin",
            FactoryDefaults {
                pin: true,
                ..FactoryDefaults::default()
            },
            "this YubiKey still has the factory PIN: change it before enrolling it (`ykman piv access change-pin`), then enroll again",
        ),
        (
            "puk",
            FactoryDefaults {
                puk: true,
                ..FactoryDefaults::default()
            },
            "this YubiKey still has the factory PUK: change it before enrolling it (`ykman piv access change-puk`), then enroll again",
        ),
        (
            "mgm",
            FactoryDefaults {
                management_key: true,
                ..FactoryDefaults::default()
            },
            "this YubiKey still has the factory management key: change it before enrolling it (`ykman piv access change-management-key --generate --protect`), then enroll again",
        ),
    ];
    for (which, want, message) in cases {
        let h = CardHygiene {
            pin_default: want.pin,
            puk_default: want.puk,
            mgm_default: want.management_key,
            mgm_protected: !want.management_key,
            ..CardHygiene::clean()
        };
        let mut t = card(h);
        // A wrong PIN: had enrollment tried it, a try would be gone.
        let err = enroll(&mut t, &Pin::new(b"000000").unwrap(), &production("alice")).unwrap_err();
        match &err {
            EnrollError::FactoryDefaults { defaults } => assert_eq!(*defaults, want, "{which}"),
            other => panic!("{which}: {other:?}"),
        }
        assert_eq!(err.to_string(), message);
        assert_eq!(pin_tries_left(&mut t), 3, "{which}");
        assert_untouched(&mut t);
    }
}

#[test]
fn production_refuses_all_three_factory_credentials_at_once() {
    let mut t = SimToken::new_in_memory(7);
    let err = enroll(&mut t, &Pin::new(b"000000").unwrap(), &production("alice")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this YubiKey still has the factory PIN, PUK and management key: change them before \
         enrolling it (`ykman piv access change-pin`, then `ykman piv access change-puk`, then \
         `ykman piv access change-management-key --generate --protect`), then enroll again"
    );
    assert_eq!(pin_tries_left(&mut t), 3);
    assert_untouched(&mut t);
}

#[test]
fn training_warns_about_factory_credentials_and_enrolls() {
    let mut t = SimToken::new_in_memory(7);
    let done = enroll(&mut t, &pin(), &training("alice")).unwrap();
    assert!(!done.firmware_risk_accepted);
    assert_eq!(done.warnings.len(), 1, "{:?}", done.warnings);
    assert!(
        done.warnings[0]
            .starts_with("this YubiKey still has the factory PIN, PUK and management key"),
        "{:?}",
        done.warnings
    );
    assert!(
        done.warnings[0].contains("ykman piv access change-management-key --generate --protect")
    );
    // A clean card enrolls with no warning at all.
    let mut t = card(CardHygiene::clean());
    let done = enroll(&mut t, &own_pin(), &training("bob")).unwrap();
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
}

#[test]
fn pin_protected_management_key_is_used_after_the_pin() {
    let mut t = card(CardHygiene::clean());
    let done = enroll(&mut t, &own_pin(), &training("alice")).unwrap();
    assert_eq!(done.record.serial, 4242);
    // Production passes every hygiene check and the key, and stops at the root.
    let mut t = card(CardHygiene::clean());
    let err = enroll(&mut t, &own_pin(), &production("alice")).unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Attestation(AttestationError::TrainingCardInProduction)
        ),
        "{err:?}"
    );
    assert_untouched(&mut t);
}

#[test]
fn typed_management_key_right_wrong_and_missing() {
    let h = CardHygiene {
        mgm_protected: false,
        ..CardHygiene::clean()
    };
    let with_key = |key: &[u8], trust| EnrollOptions {
        management_key: Some(Zeroizing::new(key.to_vec())),
        ..EnrollOptions::new("alice", trust)
    };
    let mut t = card(h);
    enroll(&mut t, &own_pin(), &with_key(&OWN_MGM, Trust::Training)).unwrap();

    let mut t = card(h);
    let err = enroll(
        &mut t,
        &own_pin(),
        &with_key(&[0x5A; 24], Trust::Production),
    )
    .unwrap_err();
    assert!(
        matches!(err, EnrollError::TypedManagementKeyRefused),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .contains("refused the management key you typed"));
    assert_untouched(&mut t);

    let err = enroll(
        &mut t,
        &own_pin(),
        &with_key(&[0x5A; 16], Trust::Production),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Token(TokenError::ManagementKeyLength { found: 16, .. })
        ),
        "{err:?}"
    );

    // The right key in production: on to the attestation, which refuses the simulator.
    let err = enroll(&mut t, &own_pin(), &with_key(&OWN_MGM, Trust::Production)).unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Attestation(AttestationError::TrainingCardInProduction)
        ),
        "{err:?}"
    );

    // Changed, not stored on the card, not typed: nothing to authenticate with.
    let err = enroll(&mut t, &own_pin(), &production("alice")).unwrap_err();
    assert!(matches!(err, EnrollError::ManagementKeyNeeded), "{err:?}");
    assert_untouched(&mut t);
}

#[test]
fn typed_key_wins_over_the_stored_one() {
    // A wrong typed key is refused even though the card stores the right one: what the
    // custodian typed must never be silently ignored.
    let mut t = card(CardHygiene::clean());
    let opts = EnrollOptions {
        management_key: Some(Zeroizing::new(vec![0x11; 24])),
        ..training("alice")
    };
    assert!(matches!(
        enroll(&mut t, &own_pin(), &opts),
        Err(EnrollError::TypedManagementKeyRefused)
    ));
}

#[test]
fn old_firmware_sign_key_refused_accepted_or_warned() {
    let old = CardHygiene {
        firmware: [5, 4, 3],
        ..CardHygiene::clean()
    };
    let mut t = card(old);
    let err = enroll(&mut t, &Pin::new(b"000000").unwrap(), &production("alice")).unwrap_err();
    assert!(
        matches!(err, EnrollError::FirmwareRisk { version } if version.minor == 4),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("5.4.3")
            && msg.contains("YSA-2024-03")
            && msg.contains("--accept-firmware-risk"),
        "{msg}"
    );
    assert_eq!(pin_tries_left(&mut t), 3);
    assert_untouched(&mut t);

    // With the flag, production gets past the firmware to the attestation root.
    let accept = |trust| EnrollOptions {
        accept_firmware_risk: true,
        ..EnrollOptions::new("alice", trust)
    };
    let err = enroll(&mut t, &own_pin(), &accept(Trust::Production)).unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Attestation(AttestationError::TrainingCardInProduction)
        ),
        "{err:?}"
    );

    // Training warns; the result says whether the risk was accepted.
    let done = enroll(&mut card(old), &own_pin(), &training("alice")).unwrap();
    assert!(!done.firmware_risk_accepted);
    assert_eq!(done.warnings.len(), 1);
    assert!(
        done.warnings[0].contains("YSA-2024-03"),
        "{:?}",
        done.warnings
    );
    let done = enroll(&mut card(old), &own_pin(), &accept(Trust::Training)).unwrap();
    assert!(done.firmware_risk_accepted);
    assert!(
        done.warnings[0].ends_with("risk accepted"),
        "{:?}",
        done.warnings
    );
    // The flag changes nothing on current firmware.
    let done = enroll(
        &mut card(CardHygiene::clean()),
        &own_pin(),
        &accept(Trust::Training),
    )
    .unwrap();
    assert!(!done.firmware_risk_accepted && done.warnings.is_empty());
}

#[test]
fn firmware_without_metadata_cannot_prove_hygiene() {
    let ancient = CardHygiene {
        firmware: [5, 2, 7],
        ..CardHygiene::clean()
    };
    let accept = EnrollOptions {
        accept_firmware_risk: true,
        ..production("alice")
    };
    let err = enroll(&mut card(ancient), &own_pin(), &accept).unwrap_err();
    assert!(matches!(err, EnrollError::HygieneUnknown { .. }), "{err:?}");
    let done = enroll(&mut card(ancient), &own_pin(), &training("alice")).unwrap();
    assert_eq!(done.warnings.len(), 2, "{:?}", done.warnings);
    assert!(done.warnings[0].contains("cannot report"));
}

#[test]
fn management_key_hex_parsing_never_echoes_the_input() {
    let key =
        management_key_from_hex("01:02:03:04 05060708 0102030405060708 0102030405060708").unwrap();
    assert_eq!(&key[..], &[1, 2, 3, 4, 5, 6, 7, 8].repeat(3)[..]);
    assert_eq!(management_key_from_hex(&"Ab".repeat(16)).unwrap().len(), 16);
    assert_eq!(management_key_from_hex(&"cd".repeat(32)).unwrap().len(), 32);
    for bad in [
        "secretsecretsecretsecretsecretsecretsecretsecret",
        &"ab".repeat(20),
    ] {
        let err = management_key_from_hex(bad).unwrap_err();
        assert!(matches!(err, EnrollError::BadManagementKey { .. }));
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("abab"),
            "{shown}"
        );
    }
}

#[test]
fn options_debug_hides_the_management_key() {
    let opts = EnrollOptions {
        management_key: Some(Zeroizing::new(vec![0xAB; 24])),
        ..training("alice")
    };
    let shown = format!("{opts:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(
        !shown.contains("171") && !shown.to_lowercase().contains("ab, "),
        "{shown}"
    );
}

#[test]
fn training_enrollment_gives_a_verifiable_record() {
    let mut t = SimToken::new_in_memory(1001);
    let r = enroll(&mut t, &pin(), &training("alice")).unwrap().record;
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
    // A card that passes every hygiene check, so the refusal is the attestation's.
    let mut t = card(CardHygiene::clean());
    let err = enroll(&mut t, &own_pin(), &production("alice")).unwrap_err();
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
    let r = enroll(&mut t, &pin(), &opts).unwrap().record;
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
    fn credential_metadata(
        &mut self,
        credential: crate::Credential,
    ) -> Result<crate::CredentialMetadata, TokenError> {
        self.inner.credential_metadata(credential)
    }
    fn authenticate_management_key(&mut self, key: &[u8]) -> Result<(), TokenError> {
        self.inner.authenticate_management_key(key)
    }
    fn authenticate_protected_management_key(&mut self) -> Result<bool, TokenError> {
        self.inner.authenticate_protected_management_key()
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
