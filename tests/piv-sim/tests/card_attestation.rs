//! Attestation on the in-process front: the deterministic TRAINING root, the f9 device
//! certificate and slot certificates with Yubico's extensions.

mod common;

use common::*;
use der::{Decode, Encode};
use glasskeep_piv_sim::apdu::{parse_tlvs, tlv};
use glasskeep_piv_sim::attestation::{
    training_root_key, OID_FIRMWARE, OID_FORM_FACTOR, OID_POLICY, OID_SERIAL, TRAINING_ROOT_SUBJECT,
};
use glasskeep_piv_sim::model::{ALG_P256, ALG_P384};
use glasskeep_piv_sim::{training_root_certificate_der, SimCard, SimConfig, TouchMode};
use p256::ecdsa::signature::Verifier;
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

fn verify_issued(cert: &Certificate, issuer: &Certificate) {
    let tbs = cert.tbs_certificate().to_der().unwrap();
    let sig = p256::ecdsa::DerSignature::from_bytes(cert.signature().raw_bytes()).unwrap();
    let spki = issuer
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap();
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();
    vk.verify(&tbs, &sig).expect("signature by the issuer");
    assert_eq!(
        cert.tbs_certificate().issuer(),
        issuer.tbs_certificate().subject()
    );
}

fn ext<'a>(cert: &'a Certificate, oid: &str) -> Option<&'a x509_cert::ext::Extension> {
    let oid = der::asn1::ObjectIdentifier::new(oid).unwrap();
    cert.tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == oid)
}

fn f9(card: &mut SimCard) -> Certificate {
    let (d, sw) = tx_long(card, 0xCB, 0x3F, 0xFF, &tlv(&[0x5C], &[0x5F, 0xFF, 0x01]));
    assert_eq!(sw, 0x9000);
    let outer = parse_tlvs(&d).unwrap();
    let inner = parse_tlvs(outer[0].value).unwrap();
    assert_eq!(inner[0].tag, &[0x70]);
    Certificate::from_der(inner[0].value).unwrap()
}

fn attest(card: &mut SimCard, slot: u8) -> (Vec<u8>, u16) {
    let mut sw;
    let (mut d, s) = tx(card, &[0, 0xF9, slot, 0]);
    sw = s;
    while sw & 0xFF00 == 0x6100 {
        let (more, s) = tx(card, &[0, 0xC0, 0, 0, 0]);
        d.extend(more);
        sw = s;
    }
    (d, sw)
}

#[test]
fn training_root_is_deterministic() {
    let a = training_root_certificate_der();
    assert_eq!(a, training_root_certificate_der());
    // Pinned: a change to the root's bytes must be deliberate, since glasskeep ships it.
    let root = Certificate::from_der(&a).unwrap();
    assert_eq!(
        root.tbs_certificate().subject().to_string(),
        TRAINING_ROOT_SUBJECT
    );
    assert!(
        TRAINING_ROOT_SUBJECT.contains("TRAINING") && TRAINING_ROOT_SUBJECT.contains("NOT SECURE")
    );
    assert_eq!(root.tbs_certificate().serial_number().as_bytes(), &[0x01]);
    verify_issued(&root, &root);
    let key_point = training_root_key().verifying_key().to_sec1_point(false);
    let spki = root.tbs_certificate().subject_public_key_info();
    assert_eq!(spki.subject_public_key.raw_bytes(), key_point.as_bytes());
}

#[test]
fn training_root_bytes_are_pinned() {
    let digest = Sha256::digest(training_root_certificate_der());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, include_str!("../data/training-root.sha256").trim());
}

#[test]
fn shipped_root_files_match_the_code() {
    assert_eq!(
        training_root_certificate_der(),
        include_bytes!("../data/training-root.der")
    );
    let pem = std::process::Command::new(env!("CARGO_BIN_EXE_glasskeep-piv-sim"))
        .arg("--print-training-root")
        .output()
        .unwrap();
    assert!(pem.status.success());
    assert_eq!(pem.stdout, include_bytes!("../data/training-root.pem"));
}

#[test]
fn ca_certificates_mark_basic_constraints_and_key_usage_critical() {
    let mut c = card(TouchMode::Auto);
    let root = Certificate::from_der(&training_root_certificate_der()).unwrap();
    for cert in [root, f9(&mut c)] {
        assert!(ext(&cert, "2.5.29.19").unwrap().critical);
        assert!(ext(&cert, "2.5.29.15").unwrap().critical);
        assert_eq!(cert.tbs_certificate().extensions().unwrap().len(), 2);
    }
}

#[test]
fn slot_attestation_chains_to_training_root_with_extensions() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let (point, _) = generate(&mut c, 0x9C, ALG_P256, 3, 2);
    let (d, sw) = attest(&mut c, 0x9C);
    assert_eq!(sw, 0x9000);
    let att = Certificate::from_der(&d).unwrap();
    let device = f9(&mut c);
    let root = Certificate::from_der(&training_root_certificate_der()).unwrap();
    verify_issued(&att, &device);
    verify_issued(&device, &root);
    assert_eq!(
        att.tbs_certificate().subject().to_string(),
        "CN=YubiKey PIV Attestation 9c"
    );
    let spki = att.tbs_certificate().subject_public_key_info();
    assert_eq!(spki.subject_public_key.raw_bytes(), &point[..]);
    let exts = att.tbs_certificate().extensions().unwrap();
    assert!(
        exts.iter().all(|e| !e.critical),
        "no critical extension in a slot certificate"
    );
    assert_eq!(exts.len(), 4);
    assert_eq!(
        ext(&att, OID_FIRMWARE).unwrap().extn_value.as_bytes(),
        &[5, 7, 1]
    );
    let serial = ext(&att, OID_SERIAL).unwrap().extn_value.as_bytes();
    let serial = der::asn1::Uint::from_der(serial).unwrap();
    assert_eq!(serial.as_bytes(), &12_345_678u32.to_be_bytes()[1..]);
    assert_eq!(
        ext(&att, OID_POLICY).unwrap().extn_value.as_bytes(),
        &[3, 2]
    );
    assert_eq!(
        ext(&att, OID_FORM_FACTOR)
            .unwrap()
            .extn_value
            .as_bytes()
            .len(),
        1
    );
}

#[test]
fn attestation_reports_each_policy() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    for (pin, touch) in [(1, 1), (2, 3), (3, 2)] {
        generate(&mut c, 0x82, ALG_P256, pin, touch);
        let att = Certificate::from_der(&attest(&mut c, 0x82).0).unwrap();
        assert_eq!(
            ext(&att, OID_POLICY).unwrap().extn_value.as_bytes(),
            &[pin, touch]
        );
        assert_eq!(
            att.tbs_certificate().subject().to_string(),
            "CN=YubiKey PIV Attestation 82"
        );
    }
}

#[test]
fn attestation_of_p384_key() {
    let mut c = SimCard::in_memory(SimConfig {
        firmware: [5, 4, 3],
        ..config(TouchMode::Auto)
    });
    tx(&mut c, SELECT);
    mgm_auth_with(
        &mut c,
        glasskeep_piv_sim::model::ALG_3DES,
        &glasskeep_piv_sim::model::DEFAULT_MGM_KEY,
    );
    let (point, sw) = generate(&mut c, 0x9D, ALG_P384, 0, 0);
    assert_eq!(sw, 0x9000);
    let att = Certificate::from_der(&attest(&mut c, 0x9D).0).unwrap();
    let spki = att.tbs_certificate().subject_public_key_info();
    assert_eq!(spki.subject_public_key.raw_bytes(), &point[..]);
    assert_eq!(
        ext(&att, OID_FIRMWARE).unwrap().extn_value.as_bytes(),
        &[5, 4, 3]
    );
    verify_issued(&att, &f9(&mut c));
}

#[test]
fn attest_empty_slot_or_bad_slot() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(attest(&mut c, 0x9A).1, 0x6A88);
    assert_eq!(attest(&mut c, 0x9B).1, 0x6A86);
    assert_eq!(tx(&mut c, &[0, 0xF9, 0x9A, 0x01]).1, 0x6A86);
}

#[test]
fn each_card_has_its_own_device_key() {
    let mut a = card(TouchMode::Auto);
    let mut b = card(TouchMode::Auto);
    let (fa, fb) = (f9(&mut a), f9(&mut b));
    assert_ne!(
        fa.tbs_certificate().subject_public_key_info(),
        fb.tbs_certificate().subject_public_key_info()
    );
}
