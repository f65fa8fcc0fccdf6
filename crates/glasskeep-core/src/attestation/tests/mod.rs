//! Attestation verifier tests: synthetic chains built here (one knob changed per
//! negative case) and Yubico's real CAs. Negative cases outnumber positive ones.

mod record;
mod survivors;
mod yubico;

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{GeneralizedTime, ObjectIdentifier, OctetString};
use der::Encode;
use p256::ecdsa::SigningKey;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};
use x509_cert::TbsCertificate;

use super::x509 as x;
use super::*;
use crate::piv::{PinPolicy, TouchPolicy};

struct Profile {
    subject: Name,
    issuer: Name,
    exts: Vec<Extension>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.exts.clone())
    }
}

pub(super) fn key(label: &str) -> SigningKey {
    SigningKey::from_slice(&Sha256::digest(label.as_bytes())).unwrap()
}

pub(super) fn spki(k: &SigningKey) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_key(k.verifying_key()).unwrap()
}

pub(super) fn point(k: &SigningKey) -> Vec<u8> {
    k.verifying_key().to_sec1_point(false).as_bytes().to_vec()
}

fn ext(oid: &str, critical: bool, value: &[u8]) -> Extension {
    Extension {
        extn_id: ObjectIdentifier::new_unwrap(oid),
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

fn bc(ca: bool, path_len_constraint: Option<u8>) -> Extension {
    let v = BasicConstraints {
        ca,
        path_len_constraint,
    }
    .to_der()
    .unwrap();
    ext("2.5.29.19", true, &v)
}

fn year(y: u64) -> Time {
    let secs = (y - 1970) * 365 * 86_400;
    Time::GeneralTime(GeneralizedTime::from_unix_duration(Duration::from_secs(secs)).unwrap())
}

fn cert(
    subject: &str,
    issuer: &str,
    spki: SubjectPublicKeyInfoOwned,
    signer: &SigningKey,
    exts: Vec<Extension>,
    not_before: u64,
) -> Vec<u8> {
    let profile = Profile {
        subject: Name::from_str(subject).unwrap(),
        issuer: Name::from_str(issuer).unwrap(),
        exts,
    };
    let validity = Validity::new(year(not_before), year(2099));
    let b = CertificateBuilder::new(profile, SerialNumber::from(7u32), validity, spki).unwrap();
    b.build::<_, p256::ecdsa::DerSignature>(signer)
        .unwrap()
        .to_der()
        .unwrap()
}

pub(super) const ROOT: &str = "CN=Test Attestation Root";
const DEVICE: &str = "CN=Test PIV Attestation";
const SLOT: &str = "CN=YubiKey PIV Attestation 82";

/// One knob per negative case; `Spec::default()` is a valid chain.
pub(super) struct Spec {
    pub(super) serial: u32,
    pub(super) policy: Vec<u8>,
    pub(super) firmware: Vec<u8>,
    pub(super) root_bc: Option<Extension>,
    pub(super) device_bc: Option<Extension>,
    pub(super) device_not_before: u64,
    pub(super) slot_issuer: &'static str,
    pub(super) slot_signer: &'static str,
    pub(super) slot_key: SubjectPublicKeyInfoOwned,
    pub(super) extra_slot_ext: Option<Extension>,
    pub(super) slot_subject: &'static str,
}

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            serial: 1001,
            policy: vec![2, 2],
            firmware: vec![5, 7, 4],
            root_bc: Some(bc(true, Some(1))),
            device_bc: Some(bc(true, Some(0))),
            device_not_before: 2021,
            slot_issuer: DEVICE,
            slot_signer: "device",
            slot_key: spki(&key("slot")),
            extra_slot_ext: None,
            slot_subject: SLOT,
        }
    }
}

pub(super) struct Chain {
    pub(super) root: Vec<u8>,
    pub(super) device: Vec<u8>,
    pub(super) slot: Vec<u8>,
}

impl Chain {
    pub(super) fn store(&self) -> TrustStore {
        TrustStore::new(&[&self.root], &[])
    }

    pub(super) fn verify(&self, role: KeyRole) -> Result<AttestedKey, AttestationError> {
        verify_with_store(
            role,
            &self.slot,
            &self.device,
            Trust::Training,
            &self.store(),
        )
    }
}

pub(super) fn build(spec: Spec) -> Chain {
    let root_key = key("root");
    let root = cert(
        ROOT,
        ROOT,
        spki(&root_key),
        &root_key,
        spec.root_bc.into_iter().collect(),
        2020,
    );
    let dev_key = key("device");
    let device = cert(
        DEVICE,
        ROOT,
        spki(&dev_key),
        &root_key,
        spec.device_bc.into_iter().collect(),
        spec.device_not_before,
    );
    let serial = spec.serial.to_der().unwrap();
    let mut exts = vec![
        ext("1.3.6.1.4.1.41482.3.3", false, &spec.firmware),
        ext("1.3.6.1.4.1.41482.3.7", false, &serial),
        ext("1.3.6.1.4.1.41482.3.8", false, &spec.policy),
        ext("1.3.6.1.4.1.41482.3.9", false, &[1]),
    ];
    exts.retain(|e| !(e.extn_id == x::OID_YK_POLICY && spec.policy.is_empty()));
    exts.extend(spec.extra_slot_ext);
    let slot = cert(
        spec.slot_subject,
        spec.slot_issuer,
        spec.slot_key,
        &key(spec.slot_signer),
        exts,
        2021,
    );
    Chain { root, device, slot }
}

fn link_fault(r: Result<AttestedKey, AttestationError>) -> LinkFault {
    match r {
        Err(AttestationError::ChainInvalid { fault, .. }) => fault,
        other => panic!("expected ChainInvalid, got {other:?}"),
    }
}

/// Flips one bit of the first occurrence of `needle` (after `skip` bytes).
pub(super) fn flip_after(der: &[u8], needle: &[u8]) -> Vec<u8> {
    let at = der.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut out = der.to_vec();
    out[at + needle.len() - 1] ^= 0x01;
    out
}

#[test]
fn valid_chain_gives_the_attested_facts() {
    let chain = build(Spec::default());
    let k = chain.verify(KeyRole::Seal).unwrap();
    assert_eq!(k.serial, 1001);
    assert_eq!(
        k.firmware,
        Version {
            major: 5,
            minor: 7,
            patch: 4
        }
    );
    assert_eq!(
        (k.pin_policy, k.touch_policy),
        (PinPolicy::Once, TouchPolicy::Always)
    );
    assert_eq!(k.form_factor, Some(1));
    assert_eq!(k.public_key, point(&key("slot")));
    assert_eq!(k.root, ROOT);
    check_attested_key(KeyRole::Seal, &k, 1001, &point(&key("slot"))).unwrap();
}

/// root -> "CN=Int" -> device -> slot: the device certificate issued by an
/// intermediate, the root allowing `root_path_len` CAs below it.
pub(super) struct ViaIntermediate {
    pub(super) root: Vec<u8>,
    pub(super) int: Vec<u8>,
    pub(super) device: Vec<u8>,
    pub(super) slot: Vec<u8>,
}

pub(super) fn via_intermediate(root_path_len: u8, int_bc: Extension) -> ViaIntermediate {
    let root_key = key("root");
    let root = cert(
        ROOT,
        ROOT,
        spki(&root_key),
        &root_key,
        vec![bc(true, Some(root_path_len))],
        2020,
    );
    let int_key = key("int");
    let int = cert(
        "CN=Int",
        ROOT,
        spki(&int_key),
        &root_key,
        vec![int_bc],
        2020,
    );
    let device = cert(
        DEVICE,
        "CN=Int",
        spki(&key("device")),
        &int_key,
        vec![],
        2021,
    );
    let slot = build(Spec::default()).slot;
    ViaIntermediate {
        root,
        int,
        device,
        slot,
    }
}

#[test]
fn chain_through_an_intermediate_verifies() {
    let ViaIntermediate {
        root,
        int,
        device,
        slot,
    } = via_intermediate(2, bc(true, Some(1)));
    let store = TrustStore::new(&[&root], &[&int]);
    let k = verify_with_store(KeyRole::Seal, &slot, &device, Trust::Production, &store).unwrap();
    assert_eq!(k.root, ROOT);
    // Without the intermediate the issuer is unknown.
    let bare = TrustStore::new(&[&root], &[]);
    let err = verify_with_store(KeyRole::Seal, &slot, &device, Trust::Production, &bare);
    assert!(
        matches!(err, Err(AttestationError::UntrustedIssuer { .. })),
        "{err:?}"
    );
}

#[test]
fn tampered_slot_certificate_is_refused() {
    let mut chain = build(Spec::default());
    // The serial extension's last byte: 1001 becomes 1000.
    chain.slot = flip_after(&chain.slot, &[0x02, 0x02, 0x03, 0xe9]);
    assert_eq!(
        link_fault(chain.verify(KeyRole::Seal)),
        LinkFault::BadSignature
    );
}

#[test]
fn tampered_signature_is_refused() {
    let mut chain = build(Spec::default());
    let n = chain.slot.len();
    chain.slot[n - 1] ^= 0x01;
    assert_eq!(
        link_fault(chain.verify(KeyRole::Seal)),
        LinkFault::BadSignature
    );
}

#[test]
fn tampered_device_certificate_is_refused() {
    let mut chain = build(Spec::default());
    chain.device = flip_after(&chain.device, DEVICE.rsplit('=').next().unwrap().as_bytes());
    // The slot's issuer name no longer matches the altered device subject.
    assert!(matches!(
        link_fault(chain.verify(KeyRole::Seal)),
        LinkFault::IssuerNameMismatch { .. }
    ));
}

#[test]
fn slot_certificate_signed_by_another_key_is_refused() {
    let chain = build(Spec {
        slot_signer: "impostor",
        ..Spec::default()
    });
    assert_eq!(
        link_fault(chain.verify(KeyRole::Seal)),
        LinkFault::BadSignature
    );
}

#[test]
fn slot_certificate_naming_another_issuer_is_refused() {
    let chain = build(Spec {
        slot_issuer: "CN=Someone Else",
        ..Spec::default()
    });
    let err = chain.verify(KeyRole::Seal).unwrap_err();
    assert_eq!(
        err.to_string(),
        "attestation chain invalid: \"CN=YubiKey PIV Attestation 82\" <- \
         \"CN=Test PIV Attestation\": issued by \"CN=Someone Else\", not by \
         \"CN=Test PIV Attestation\"; this key cannot be trusted"
    );
}

#[test]
fn device_certificate_from_an_unknown_root_is_untrusted() {
    let chain = build(Spec::default());
    let other_root = key("other");
    let other = cert(
        "CN=Other Root",
        "CN=Other Root",
        spki(&other_root),
        &other_root,
        vec![bc(true, None)],
        2020,
    );
    let err = verify_with_store(
        KeyRole::Seal,
        &chain.slot,
        &chain.device,
        Trust::Training,
        &TrustStore::new(&[&other], &[]),
    );
    assert_eq!(
        err,
        Err(AttestationError::UntrustedIssuer {
            issuer: ROOT.into(),
            trust: Trust::Training
        })
    );
}

#[test]
fn root_impostor_with_the_same_name_is_refused() {
    let chain = build(Spec::default());
    let fake = key("fake root");
    let fake_root = cert(ROOT, ROOT, spki(&fake), &fake, vec![bc(true, None)], 2020);
    let err = verify_with_store(
        KeyRole::Seal,
        &chain.slot,
        &chain.device,
        Trust::Training,
        &TrustStore::new(&[&fake_root], &[]),
    );
    assert_eq!(link_fault(err), LinkFault::BadSignature);
}

#[test]
fn synthetic_chain_is_not_accepted_in_production() {
    let chain = build(Spec::default());
    let err = verify_key_attestation(KeyRole::Seal, &chain.slot, &chain.device, Trust::Production);
    assert!(
        matches!(
            &err,
            Err(AttestationError::UntrustedIssuer {
                trust: Trust::Production,
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn missing_device_certificate_is_malformed() {
    let chain = build(Spec::default());
    let err = verify_with_store(
        KeyRole::Sign,
        &chain.slot,
        &[],
        Trust::Training,
        &chain.store(),
    );
    assert!(matches!(
        err,
        Err(AttestationError::Malformed {
            cert: CertRole::Device,
            ..
        })
    ));
}

#[test]
fn garbage_slot_certificate_is_malformed() {
    let chain = build(Spec::default());
    let err = verify_with_store(
        KeyRole::Sign,
        &[0x30, 0x03, 1, 2, 3],
        &chain.device,
        Trust::Training,
        &chain.store(),
    );
    assert!(matches!(
        err,
        Err(AttestationError::Malformed {
            cert: CertRole::Slot(KeyRole::Sign),
            ..
        })
    ));
}

#[test]
fn root_with_path_length_zero_cannot_anchor_root_device_slot() {
    // The shape of the original (pre-2018) "Yubico PIV Root CA Serial 263751".
    let chain = build(Spec {
        root_bc: Some(bc(true, Some(0))),
        ..Spec::default()
    });
    assert_eq!(
        link_fault(chain.verify(KeyRole::Seal)),
        LinkFault::PathLenExceeded { limit: 0 }
    );
}

#[test]
fn root_that_is_not_a_ca_is_refused() {
    let chain = build(Spec {
        root_bc: Some(bc(false, None)),
        ..Spec::default()
    });
    assert_eq!(link_fault(chain.verify(KeyRole::Seal)), LinkFault::NotCa);
    let chain = build(Spec {
        root_bc: None,
        ..Spec::default()
    });
    assert_eq!(link_fault(chain.verify(KeyRole::Seal)), LinkFault::NotCa);
}

#[test]
fn device_certificate_declaring_itself_no_ca_is_refused() {
    let chain = build(Spec {
        device_bc: Some(bc(false, None)),
        ..Spec::default()
    });
    assert_eq!(link_fault(chain.verify(KeyRole::Seal)), LinkFault::NotCa);
}

#[test]
fn device_certificate_without_basic_constraints_is_tolerated() {
    let chain = build(Spec {
        device_bc: None,
        ..Spec::default()
    });
    chain.verify(KeyRole::Seal).unwrap();
}

#[test]
fn certificate_predating_its_issuer_is_refused() {
    let chain = build(Spec {
        device_not_before: 2019,
        ..Spec::default()
    });
    assert_eq!(
        link_fault(chain.verify(KeyRole::Seal)),
        LinkFault::NotBeforeIssuer
    );
}

#[test]
fn unknown_critical_extension_is_refused() {
    let chain = build(Spec {
        extra_slot_ext: Some(ext("1.2.3.4", true, &[0])),
        ..Spec::default()
    });
    assert_eq!(
        link_fault(chain.verify(KeyRole::Seal)),
        LinkFault::UnknownCriticalExtension {
            oid: "1.2.3.4".into()
        }
    );
}

#[test]
fn outer_algorithm_differing_from_the_signed_one_is_refused() {
    let chain = build(Spec::default());
    // ecdsa-with-SHA256 -> ecdsa-with-SHA384 in the last (outer) algorithm identifier.
    let oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let at = chain
        .slot
        .windows(oid.len())
        .rposition(|w| w == oid)
        .unwrap();
    let mut slot = chain.slot.clone();
    slot[at + oid.len() - 1] = 0x03;
    let c = Chain { slot, ..chain };
    assert_eq!(
        link_fault(c.verify(KeyRole::Seal)),
        LinkFault::AlgorithmMismatch
    );
}

#[test]
fn non_p256_slot_key_is_refused() {
    let k384 = p384::ecdsa::SigningKey::from_slice(&[7u8; 48]).unwrap();
    let spki384 = SubjectPublicKeyInfoOwned::from_key(k384.verifying_key()).unwrap();
    let chain = build(Spec {
        slot_key: spki384,
        ..Spec::default()
    });
    assert!(matches!(
        chain.verify(KeyRole::Seal),
        Err(AttestationError::NotP256 { .. })
    ));
}

#[test]
fn missing_or_malformed_yubico_extensions_are_refused() {
    for (spec, oid) in [
        (
            Spec {
                policy: vec![],
                ..Spec::default()
            },
            "1.3.6.1.4.1.41482.3.8",
        ),
        (
            Spec {
                policy: vec![2],
                ..Spec::default()
            },
            "1.3.6.1.4.1.41482.3.8",
        ),
        (
            Spec {
                policy: vec![0, 2],
                ..Spec::default()
            },
            "1.3.6.1.4.1.41482.3.8",
        ),
        (
            Spec {
                policy: vec![2, 4],
                ..Spec::default()
            },
            "1.3.6.1.4.1.41482.3.8",
        ),
        (
            Spec {
                firmware: vec![5, 7],
                ..Spec::default()
            },
            "1.3.6.1.4.1.41482.3.3",
        ),
    ] {
        match build(spec).verify(KeyRole::Seal) {
            Err(AttestationError::BadYubicoExtension { oid: o, .. }) => assert_eq!(o, oid),
            other => panic!("expected BadYubicoExtension {oid}, got {other:?}"),
        }
    }
}
