//! Yubico's published CAs: pinned fingerprints, the real links (including the B2
//! certificate's NULL-less RSA algorithm identifier) and tampering with them.

use der::Encode;

use super::{build, flip_after, Spec};
use crate::attestation::x509::{self as x, Cert};
use crate::attestation::*;

// --- Yubico's published CAs -------------------------------------------------------

const PINNED: [&str; 8] = [
    "7E996A28E3055223733C9AEC897900EDA9B746E3E15D419556AC6A1179879A50",
    "63ECE914E54DD87915F34033C85AF4C0696BA1512F8ADD66CED738331207B546",
    "62760C6A6EF91679F454C8902B80FD009825B3F25DA90F1FBACE2EC6586CD5A8",
    "4698A1D3389C3EC60016C216250F1D0439922832D65142327436376DC2942B55",
    "D4CC3F456FDAF4E7812A21AAB1DFE9D8E27D24E2FD2D6F21C9940109F0DAA754",
    "6DE693F05376F5D8CA29069261E1C8626C75D503BD2EDBFD75354CAD1F722870",
    "2D55B7998F4E42569D6D8FA382B6DC77D1DACF07358B19701163892922B17052",
    "0C90B7D184A36EDF50A35F9BE935F0C5689BFDCFE5BDD073366CAFB49061A440",
];

fn yubico() -> Vec<Cert> {
    x::pem_certificates(YUBICO_ATTESTATION_CAS_PEM)
        .unwrap()
        .iter()
        .map(|d| Cert::parse(d).unwrap())
        .collect()
}

#[test]
fn yubico_cas_match_their_pinned_fingerprints() {
    let got: Vec<String> = x::pem_certificates(YUBICO_ATTESTATION_CAS_PEM)
        .unwrap()
        .iter()
        .map(|d| fingerprint(d))
        .collect();
    assert_eq!(got, PINNED);
    let store = TrustStore::for_trust(Trust::Production);
    assert_eq!((store.anchors.len(), store.intermediates.len()), (2, 5));
    // The pathLen 0 issue of the legacy root is never an anchor.
    assert!(store
        .anchors
        .iter()
        .all(|c| fingerprint(&c.cert.to_der().unwrap()) != PINNED[0]));
}

#[test]
fn yubico_intermediates_verify_under_their_parents() {
    let c = yubico();
    for (child, parent) in [(3, 2), (4, 2), (5, 3), (6, 4), (7, 4), (2, 2), (1, 1)] {
        x::check_link(&c[child], &c[parent])
            .unwrap_or_else(|f| panic!("#{} <- #{}: {f}", child + 1, parent + 1));
    }
}

#[test]
fn yubico_b2_without_null_parameter_is_accepted() {
    let c = yubico();
    assert!(c[7].subject().contains("PIV Attestation B2 1"));
    assert_eq!(c[7].cert.signature_algorithm().parameters, None);
    x::verify_signature(&c[7], &c[4]).unwrap();
}

#[test]
fn yubico_wrong_parent_is_refused() {
    let c = yubico();
    // PIV A 1 is signed by Intermediate A 1, not B 1.
    assert_eq!(
        x::verify_signature(&c[5], &c[4]),
        Err(LinkFault::BadSignature)
    );
    assert!(matches!(
        x::check_link(&c[5], &c[4]),
        Err(LinkFault::IssuerNameMismatch { .. })
    ));
    // An RSA-signed certificate under an EC key.
    let ec = build(Spec::default());
    let ec_root = Cert::parse(&ec.root).unwrap();
    assert_eq!(
        x::verify_signature(&c[5], &ec_root),
        Err(LinkFault::KeyAlgorithmMismatch)
    );
}

#[test]
fn yubico_tampered_b2_is_refused() {
    let c = yubico();
    let tampered = flip_after(&c[7].cert.to_der().unwrap(), b"B2 1");
    let t = Cert::parse(&tampered).unwrap();
    assert_eq!(x::verify_signature(&t, &c[4]), Err(LinkFault::BadSignature));
}

#[test]
fn pem_bundle_errors_are_reported() {
    assert!(x::pem_certificates("-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
    assert!(
        x::pem_certificates("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
            .is_err()
    );
    assert!(x::pem_certificates("-----END CERTIFICATE-----\n").is_err());
}

// --- A real YubiKey (serial 25515137, firmware 5.4.3; see testdata/README.md) -----

const REAL_F9: &str = include_str!("../testdata/yubikey-25515137-f9.pem");
const REAL_9C: &str = include_str!("../testdata/yubikey-25515137-9c.pem");
const LEGACY_ROOT: &str = "CN=Yubico PIV Root CA Serial 263751";

fn real(pem: &str) -> Vec<u8> {
    x::pem_certificates(pem).unwrap().remove(0)
}

#[test]
fn real_device_certificate_chains_to_the_legacy_root() {
    assert_eq!(
        verify_device_certificate(&real(REAL_F9), Trust::Production),
        Ok(LEGACY_ROOT.to_string())
    );
    let slot = Cert::parse(&real(REAL_9C)).unwrap();
    let f9 = Cert::parse(&real(REAL_F9)).unwrap();
    x::check_link(&slot, &f9).unwrap();
}

#[test]
fn real_slot_attestation_facts_are_read() {
    let slot = Cert::parse(&real(REAL_9C)).unwrap();
    assert_eq!(
        yubico_facts(&slot, KeyRole::Sign).unwrap(),
        YubicoFacts {
            serial: 25_515_137,
            firmware: Version {
                major: 5,
                minor: 4,
                patch: 3
            },
            slot: Some(crate::piv::Slot::SIGNATURE),
            pin_policy: crate::piv::PinPolicy::Always,
            touch_policy: crate::piv::TouchPolicy::Never,
            form_factor: Some(0x83),
        }
    );
}

#[test]
fn real_p384_key_is_refused_after_its_chain_verified() {
    // The chain is checked first: reaching the key check proves it held.
    assert_eq!(
        verify_key_attestation(
            KeyRole::Sign,
            &real(REAL_9C),
            &real(REAL_F9),
            Trust::Production
        ),
        Err(AttestationError::NotP256 {
            cert: CertRole::Slot(KeyRole::Sign)
        })
    );
}

#[test]
fn real_yubikey_is_refused_by_a_training_custody() {
    assert_eq!(
        verify_device_certificate(&real(REAL_F9), Trust::Training),
        Err(AttestationError::RealCardInTraining)
    );
    assert_eq!(
        verify_key_attestation(
            KeyRole::Sign,
            &real(REAL_9C),
            &real(REAL_F9),
            Trust::Training
        ),
        Err(AttestationError::RealCardInTraining)
    );
}

#[test]
fn real_slot_attestation_with_a_changed_serial_is_refused() {
    // 02 04 01 85 54 81 is serial 25515137; claim another card.
    let tampered = flip_after(&real(REAL_9C), &[0x02, 0x04, 0x01, 0x85, 0x54, 0x81]);
    let err = verify_key_attestation(KeyRole::Sign, &tampered, &real(REAL_F9), Trust::Production);
    assert!(matches!(
        err,
        Err(AttestationError::ChainInvalid {
            fault: LinkFault::BadSignature,
            ..
        })
    ));
}

#[test]
fn real_device_certificate_tampered_is_refused() {
    let tampered = flip_after(&real(REAL_F9), b"Yubico PIV Attestation");
    let err = verify_device_certificate(&tampered, Trust::Production);
    assert!(
        matches!(
            &err,
            Err(AttestationError::ChainInvalid {
                fault: LinkFault::BadSignature,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn legacy_root_with_path_length_zero_cannot_anchor_a_real_chain() {
    // Why Yubico re-issued the legacy root in 2018, and why glasskeep pins the re-issue.
    let old_root = x::pem_certificates(YUBICO_ATTESTATION_CAS_PEM)
        .unwrap()
        .remove(0);
    let store = TrustStore::new(&[&old_root], &[]);
    let err = verify_with_store(
        KeyRole::Sign,
        &real(REAL_9C),
        &real(REAL_F9),
        Trust::Production,
        &store,
    );
    assert!(
        matches!(
            &err,
            Err(AttestationError::ChainInvalid {
                fault: LinkFault::PathLenExceeded { limit: 0 },
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn real_slot_certificate_is_not_a_device_certificate() {
    // Offering the slot certificate as f9 (or a root as f9) breaks the name chain.
    let err = verify_key_attestation(
        KeyRole::Sign,
        &real(REAL_9C),
        &real(REAL_9C),
        Trust::Production,
    );
    assert!(matches!(
        err,
        Err(AttestationError::ChainInvalid {
            fault: LinkFault::IssuerNameMismatch { .. },
            ..
        })
    ));
}

#[test]
fn yubico_piv_cas_chain_to_root_1_through_the_shipped_intermediates() {
    // Each PIV CA stands where a 5.7.4+ device certificate's issuer stands; the path
    // must reach Root 1 with every CA, path length and key usage check passing.
    let c = yubico();
    let store = TrustStore::for_trust(Trust::Production);
    for piv_ca in &c[5..8] {
        let root = x::build_path(piv_ca, &store.anchors, &store.intermediates)
            .unwrap_or_else(|_| panic!("{} does not chain", piv_ca.subject()));
        assert!(root.contains("Yubico Attestation Root 1"), "{root}");
    }
}
