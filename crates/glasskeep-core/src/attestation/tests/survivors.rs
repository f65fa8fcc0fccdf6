//! Tests added for what mutation testing (`cargo mutants`) found unchecked: every
//! signature algorithm the verifier names, the issuer key size floor, the exact shape of
//! the attested point, and the words that reach the custodian.

use der::asn1::{Any, BitString};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::signature::Keypair;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use sha2::{Sha384, Sha512};
use x509_cert::spki::{AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier};

use super::*;

/// Claims a signature algorithm for the builder; the signature itself is made by the
/// test, so any algorithm and any key can be put under any certificate.
struct Claiming(AlgorithmIdentifierOwned);

impl Keypair for Claiming {
    type VerifyingKey = p256::ecdsa::VerifyingKey;
    fn verifying_key(&self) -> Self::VerifyingKey {
        // Only handed to the profile, which ignores it.
        *key("unused").verifying_key()
    }
}

impl DynSignatureAlgorithmIdentifier for Claiming {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.0.clone())
    }
}

fn alg(oid: &str, null_parameters: bool) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap(oid),
        parameters: null_parameters.then(Any::null),
    }
}

/// A certificate over `subject_key`, signed by `sign` over its TBS bytes under `alg`.
fn signed_by(
    subject: &str,
    subject_key: SubjectPublicKeyInfoOwned,
    exts: Vec<Extension>,
    not_before: u64,
    alg: &AlgorithmIdentifierOwned,
    sign: &dyn Fn(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let profile = Profile {
        subject: Name::from_str(subject).unwrap(),
        issuer: Name::from_str(ROOT).unwrap(),
        exts,
    };
    let validity = Validity::new(year(not_before), year(2099));
    let mut b =
        CertificateBuilder::new(profile, SerialNumber::from(7u32), validity, subject_key).unwrap();
    let claim = Claiming(alg.clone());
    let tbs = b.finalize(&claim).unwrap();
    b.assemble(BitString::from_bytes(&sign(&tbs)).unwrap(), &claim)
        .unwrap()
        .to_der()
        .unwrap()
}

/// The default chain, but with a root holding `root_key` that signs the device
/// certificate by `sign` under `alg` (the slot certificate is unchanged).
fn chain_under(
    root_key: SubjectPublicKeyInfoOwned,
    alg: AlgorithmIdentifierOwned,
    sign: &dyn Fn(&[u8]) -> Vec<u8>,
) -> Chain {
    let base = build(Spec::default());
    // An anchor's own signature is never checked: it is trusted by being pinned.
    let root = signed_by(ROOT, root_key, vec![bc(true, Some(1))], 2020, &alg, sign);
    let device = signed_by(
        DEVICE,
        spki(&key("device")),
        vec![bc(true, Some(0))],
        2021,
        &alg,
        sign,
    );
    Chain {
        root,
        device,
        slot: base.slot,
    }
}

fn rsa_key(der: &[u8]) -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::from_pkcs8_der(der).unwrap()
}

const RSA_2048: &[u8] = include_bytes!("../testdata/test-ca-rsa2048.pk8.der");
const RSA_1024: &[u8] = include_bytes!("../testdata/test-ca-rsa1024.pk8.der");

#[test]
fn a_p384_root_signing_with_ecdsa_sha384_verifies() {
    let k = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap();
    let root_key = SubjectPublicKeyInfoOwned::from_key(k.verifying_key()).unwrap();
    let sign = |tbs: &[u8]| {
        let sig: p384::ecdsa::Signature = k.sign_prehash(&Sha384::digest(tbs)).unwrap();
        sig.to_der().as_bytes().to_vec()
    };
    let chain = chain_under(root_key, alg("1.2.840.10045.4.3.3", false), &sign);
    assert_eq!(chain.verify(KeyRole::Seal).unwrap().root, ROOT);
}

#[test]
fn a_p256_root_signing_with_ecdsa_sha512_verifies_and_a_relabelled_hash_does_not() {
    let k = key("root");
    let sign = |tbs: &[u8]| {
        let sig: p256::ecdsa::Signature = k.sign_prehash(&Sha512::digest(tbs)).unwrap();
        sig.to_der().as_bytes().to_vec()
    };
    let chain = chain_under(spki(&k), alg("1.2.840.10045.4.3.4", false), &sign);
    assert_eq!(chain.verify(KeyRole::Seal).unwrap().root, ROOT);
    // The same SHA-512 signature, labelled ecdsa-with-SHA256: the verifier hashes by
    // the label, so the signature no longer verifies.
    let relabelled = chain_under(spki(&k), alg("1.2.840.10045.4.3.2", false), &sign);
    assert_eq!(
        link_fault(relabelled.verify(KeyRole::Seal)),
        LinkFault::BadSignature
    );
}

#[test]
fn an_rsa_2048_root_signing_with_sha384_verifies() {
    let k = rsa_key(RSA_2048);
    let root_key = SubjectPublicKeyInfoOwned::from_key(&k.to_public_key()).unwrap();
    let signer = rsa::pkcs1v15::SigningKey::<Sha384>::new(k);
    let sign = |tbs: &[u8]| signer.sign(tbs).to_vec();
    let chain = chain_under(root_key, alg("1.2.840.113549.1.1.12", true), &sign);
    assert_eq!(chain.verify(KeyRole::Seal).unwrap().root, ROOT);
}

#[test]
fn an_rsa_root_shorter_than_2048_bits_is_refused() {
    let k = rsa_key(RSA_1024);
    let root_key = SubjectPublicKeyInfoOwned::from_key(&k.to_public_key()).unwrap();
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k);
    let sign = |tbs: &[u8]| signer.sign(tbs).to_vec();
    let chain = chain_under(root_key, alg("1.2.840.113549.1.1.11", true), &sign);
    assert_eq!(
        link_fault(chain.verify(KeyRole::Seal)),
        LinkFault::BadIssuerKey
    );
}

/// The slot key with its BIT STRING replaced by `point`.
fn slot_key_as(point: &[u8]) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned {
        algorithm: spki(&key("slot")).algorithm,
        subject_public_key: BitString::from_bytes(point).unwrap(),
    }
}

#[test]
fn a_slot_key_must_be_an_uncompressed_point_on_p256() {
    let k = key("slot");
    let compressed = k.verifying_key().to_sec1_point(true).as_bytes().to_vec();
    let mut off_curve = point(&k);
    off_curve[64] ^= 1;
    for p in [compressed, off_curve] {
        let chain = build(Spec {
            slot_key: slot_key_as(&p),
            ..Spec::default()
        });
        let err = chain.verify(KeyRole::Seal).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the seal key's attestation certificate does not hold a P-256 public key"
        );
    }
}

#[test]
fn critical_extensions_are_listed_by_oid() {
    let chain = build(Spec {
        extra_slot_ext: Some(ext("1.2.3.4", true, &[0])),
        ..Spec::default()
    });
    assert_eq!(critical_extensions(&chain.slot), ["1.2.3.4"]);
    assert_eq!(critical_extensions(&chain.device), ["2.5.29.19"]);
    assert!(critical_extensions(&build(Spec::default()).slot).is_empty());
    assert!(critical_extensions(b"not a certificate").is_empty());
}

#[test]
fn the_trusts_are_named_as_custodians_read_them() {
    assert_eq!(Trust::Production.to_string(), "production");
    assert_eq!(Trust::Training.to_string(), "TRAINING");
    assert_eq!(
        CertRole::Device.to_string(),
        "the device attestation certificate (f9)"
    );
}

#[test]
fn a_root_path_length_counts_every_ca_below_it() {
    // root -> intermediate -> device -> slot: two CAs (the intermediate and the device
    // certificate) sit below the root.
    let verify = |root_path_len: u8| {
        let c = via_intermediate(root_path_len, bc(true, None));
        let store = TrustStore::new(&[&c.root], &[&c.int]);
        verify_with_store(KeyRole::Seal, &c.slot, &c.device, Trust::Training, &store)
    };
    assert_eq!(verify(2).unwrap().root, ROOT);
    assert_eq!(
        link_fault(verify(1)),
        LinkFault::PathLenExceeded { limit: 1 }
    );
}
