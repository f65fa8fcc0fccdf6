//! Fidelity: the real `yubikey` crate (the driver glasskeep uses) against simulated
//! cards through the real pcscd. Needs root (pcscd).

use der::{Decode, Encode};
use glasskeep_piv_sim::attestation::{OID_FIRMWARE, OID_FORM_FACTOR, OID_POLICY, OID_SERIAL};
use glasskeep_piv_sim::harness::{CardSpec, LabOptions, PcscLab};
use glasskeep_piv_sim::{training_root_certificate_der, TouchMode};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};
use yubikey::certificate::CertInfo;
use yubikey::piv::{self, AlgorithmId, Origin, RetiredSlotId, SlotAlgorithmId, SlotId};
use yubikey::{
    Certificate, Error, MgmAlgorithmId, MgmKey, PinPolicy, Serial, TouchPolicy, YubiKey,
};

fn lab(specs: &[CardSpec]) -> PcscLab {
    let options = LabOptions {
        sim_bin: Some(env!("CARGO_BIN_EXE_glasskeep-piv-sim").into()),
        ..LabOptions::default()
    };
    PcscLab::start_with(specs, options).expect("pcscd lab starts (root, pcscd, vsmartcard-vpcd)")
}

fn vk_of(spki_der: &[u8]) -> p256::ecdsa::VerifyingKey {
    p256::ecdsa::VerifyingKey::from_public_key_der(spki_der).unwrap()
}

fn verify_issued(cert: &x509_cert::Certificate, issuer: &x509_cert::Certificate) {
    let tbs = cert.tbs_certificate().to_der().unwrap();
    let sig = p256::ecdsa::DerSignature::from_bytes(cert.signature().raw_bytes()).unwrap();
    let spki = issuer
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap();
    vk_of(&spki).verify(&tbs, &sig).unwrap();
    assert_eq!(
        cert.tbs_certificate().issuer(),
        issuer.tbs_certificate().subject()
    );
}

fn extension<'a>(cert: &'a x509_cert::Certificate, oid: &str) -> &'a [u8] {
    let oid = der::asn1::ObjectIdentifier::new(oid).unwrap();
    let ext = cert
        .tbs_certificate()
        .extensions()
        .unwrap()
        .iter()
        .find(|e| e.extn_id == oid)
        .unwrap_or_else(|| panic!("extension {oid} missing"));
    assert!(!ext.critical);
    ext.extn_value.as_bytes()
}

#[test]
fn open_by_serial_among_two_cards() {
    let mut old = CardSpec::new(2002);
    old.firmware = [5, 4, 3];
    let _lab = lab(&[CardSpec::new(2001), old]);
    // Two cards present: the crate refuses to guess, as with real hardware.
    assert!(YubiKey::open().is_err());
    let yk = YubiKey::open_by_serial(Serial(2001)).unwrap();
    assert_eq!(yk.serial(), Serial(2001));
    assert_eq!(yk.version().to_string(), "5.7.1");
    drop(yk);
    let mut yk = YubiKey::open_by_serial(Serial(2002)).unwrap();
    assert_eq!(yk.version().to_string(), "5.4.3");
    let key = MgmKey::get_default(&yk).unwrap();
    assert_eq!(key.algorithm_id(), MgmAlgorithmId::ThreeDes);
    yk.authenticate(&key).unwrap();
    assert!(matches!(
        YubiKey::open_by_serial(Serial(2999)),
        Err(Error::NotFound)
    ));
}

#[test]
fn pin_retries_change_and_unblock() {
    let _lab = lab(&[CardSpec::new(2003)]);
    let mut yk = YubiKey::open_by_serial(Serial(2003)).unwrap();
    assert_eq!(yk.get_pin_retries().unwrap(), 3);
    assert!(matches!(
        yk.verify_pin(b"000000"),
        Err(Error::WrongPin { tries: 2 })
    ));
    assert_eq!(yk.get_pin_retries().unwrap(), 2);
    yk.verify_pin(b"123456").unwrap();
    yk.change_pin(b"123456", b"24681357").unwrap();
    for left in [2, 1, 0] {
        assert!(
            matches!(yk.verify_pin(b"123456"), Err(Error::WrongPin { tries }) if tries == left)
        );
    }
    yk.unblock_pin(b"12345678", b"112233").unwrap();
    yk.verify_pin(b"112233").unwrap();
    let meta = piv::metadata(
        &mut yk,
        SlotId::Management(yubikey::piv::ManagementSlotId::Pin),
    )
    .unwrap();
    assert_eq!(meta.default, Some(false));
}

#[test]
fn management_key_default_aes_and_wrong_key() {
    let _lab = lab(&[CardSpec::new(2004)]);
    let mut yk = YubiKey::open_by_serial(Serial(2004)).unwrap();
    let meta = piv::metadata(
        &mut yk,
        SlotId::Management(yubikey::piv::ManagementSlotId::Management),
    )
    .unwrap();
    assert_eq!(
        meta.algorithm,
        SlotAlgorithmId::Management(MgmAlgorithmId::Aes192)
    );
    assert_eq!(meta.default, Some(true));
    let wrong = MgmKey::from_bytes([0x11u8; 24], Some(MgmAlgorithmId::Aes192)).unwrap();
    assert!(matches!(
        yk.authenticate(&wrong),
        Err(Error::AuthenticationError)
    ));
    // Without management key authentication the card refuses to generate.
    let refused = piv::generate(
        &mut yk,
        SlotId::Authentication,
        AlgorithmId::EccP256,
        PinPolicy::Once,
        TouchPolicy::Never,
    );
    assert!(refused.is_err());
    yk.authenticate(&MgmKey::get_default(&yk).unwrap()).unwrap();
    piv::generate(
        &mut yk,
        SlotId::Authentication,
        AlgorithmId::EccP256,
        PinPolicy::Once,
        TouchPolicy::Never,
    )
    .unwrap();
}

#[test]
fn generate_sign_ecdh_attest_certificates_metadata() {
    let _lab = lab(&[CardSpec::new(2005)]);
    let mut yk = YubiKey::open_by_serial(Serial(2005)).unwrap();
    yk.authenticate(&MgmKey::get_default(&yk).unwrap()).unwrap();
    let sign_spki = piv::generate(
        &mut yk,
        SlotId::Signature,
        AlgorithmId::EccP256,
        PinPolicy::Always,
        TouchPolicy::Always,
    )
    .unwrap();
    let r1 = SlotId::Retired(RetiredSlotId::R1);
    let seal_spki = piv::generate(
        &mut yk,
        r1,
        AlgorithmId::EccP256,
        PinPolicy::Once,
        TouchPolicy::Always,
    )
    .unwrap();

    // Sign: PIN policy always means a fresh VERIFY before each signature.
    let digest = Sha256::digest(b"glasskeep checkpoint");
    assert!(piv::sign_data(&mut yk, &digest, AlgorithmId::EccP256, SlotId::Signature).is_err());
    yk.verify_pin(b"123456").unwrap();
    let sig = piv::sign_data(&mut yk, &digest, AlgorithmId::EccP256, SlotId::Signature).unwrap();
    let sig = p256::ecdsa::DerSignature::from_bytes(&sig).unwrap();
    let sig = p256::ecdsa::Signature::try_from(sig).unwrap();
    vk_of(&sign_spki.to_der().unwrap())
        .verify_prehash(&digest, &sig)
        .unwrap();

    // ECDH against a software key gives the same shared secret.
    let eph = p256::SecretKey::from_slice(&Sha256::digest(b"ephemeral")).unwrap();
    let seal_pk = p256::PublicKey::from_public_key_der(&seal_spki.to_der().unwrap()).unwrap();
    let expected = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), seal_pk.as_affine());
    let point = eph.public_key().to_sec1_point(false);
    let shared = piv::decrypt_data(&mut yk, point.as_bytes(), AlgorithmId::EccP256, r1).unwrap();
    assert_eq!(&shared[..], &expected.raw_secret_bytes()[..]);

    // Attestation: slot certificate <- f9 <- TRAINING root, with the Yubico extensions.
    let att = x509_cert::Certificate::from_der(&piv::attest(&mut yk, SlotId::Signature).unwrap())
        .unwrap();
    let f9 = Certificate::read(&mut yk, SlotId::Attestation)
        .unwrap()
        .cert;
    let root = x509_cert::Certificate::from_der(&training_root_certificate_der()).unwrap();
    verify_issued(&att, &f9);
    verify_issued(&f9, &root);
    verify_issued(&root, &root);
    assert_eq!(
        att.tbs_certificate().subject().to_string(),
        "CN=YubiKey PIV Attestation 9c"
    );
    assert_eq!(att.tbs_certificate().subject_public_key_info(), &sign_spki);
    assert_eq!(extension(&att, OID_FIRMWARE), &[5, 7, 1]);
    assert_eq!(
        extension(&att, OID_SERIAL),
        &der::asn1::Uint::new(&2005u32.to_be_bytes())
            .unwrap()
            .to_der()
            .unwrap()[..]
    );
    assert_eq!(extension(&att, OID_POLICY), &[3, 2]);
    assert_eq!(extension(&att, OID_FORM_FACTOR).len(), 1);
    let att82 = x509_cert::Certificate::from_der(&piv::attest(&mut yk, r1).unwrap()).unwrap();
    assert_eq!(
        att82.tbs_certificate().subject().to_string(),
        "CN=YubiKey PIV Attestation 82"
    );
    assert_eq!(extension(&att82, OID_POLICY), &[2, 2]);

    // Certificates: write one (over 255 bytes, so command chaining) and read it back.
    let cert = Certificate { cert: att.clone() };
    cert.write(&mut yk, SlotId::Signature, CertInfo::Uncompressed)
        .unwrap();
    let back = Certificate::read(&mut yk, SlotId::Signature).unwrap();
    assert_eq!(back.cert, att);

    // Metadata reports policies, origin and the same public key.
    let meta = piv::metadata(&mut yk, SlotId::Signature).unwrap();
    assert_eq!(
        meta.algorithm,
        SlotAlgorithmId::Asymmetric(AlgorithmId::EccP256)
    );
    assert_eq!(meta.policy, Some((PinPolicy::Always, TouchPolicy::Always)));
    assert_eq!(meta.origin, Some(Origin::Generated));
    assert_eq!(meta.public.as_ref(), Some(&sign_spki));
    let meta = piv::metadata(&mut yk, r1).unwrap();
    assert_eq!(meta.policy, Some((PinPolicy::Once, TouchPolicy::Always)));
}

#[test]
fn touch_never_times_out_and_signal_waits_for_the_lab() {
    let mut never = CardSpec::new(2006);
    never.touch = TouchMode::Never;
    let mut signal = CardSpec::new(2007);
    signal.touch = TouchMode::Signal;
    let lab = lab(&[never, signal]);
    for serial in [2006, 2007] {
        let mut yk = YubiKey::open_by_serial(Serial(serial)).unwrap();
        yk.authenticate(&MgmKey::get_default(&yk).unwrap()).unwrap();
        piv::generate(
            &mut yk,
            SlotId::Authentication,
            AlgorithmId::EccP256,
            PinPolicy::Never,
            TouchPolicy::Always,
        )
        .unwrap();
        let result = if serial == 2007 {
            std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    lab.touch(2007).unwrap();
                });
                piv::sign_data(
                    &mut yk,
                    &[7u8; 32],
                    AlgorithmId::EccP256,
                    SlotId::Authentication,
                )
            })
        } else {
            piv::sign_data(
                &mut yk,
                &[7u8; 32],
                AlgorithmId::EccP256,
                SlotId::Authentication,
            )
        };
        assert_eq!(result.is_ok(), serial == 2007, "card {serial}");
    }
}
