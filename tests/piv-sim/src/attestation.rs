//! Attestation certificates: the TRAINING root, each card's f9 device certificate and
//! the per-slot attestation certificates ATTEST returns.
//!
//! The layout follows a real YubiKey: slot certificates are issued by the f9 subject,
//! carry the Yubico extensions under 1.3.6.1.4.1.41482.3 as raw bytes and have no
//! critical extension. Real Yubico CAs are RSA; the simulator's are ECDSA P-256.

use std::str::FromStr;

use der::asn1::OctetString;
use der::{Decode, Encode};
use p256::ecdsa::{DerSignature, SigningKey};
use sha2::{Digest, Sha256};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

/// The published seed of the TRAINING root key. Anyone can derive the private key from
/// it, which is the point: certificates under this root prove nothing about hardware.
pub const TRAINING_ROOT_SEED: &[u8] =
    b"glasskeep-piv-sim/v1/training-attestation-root: PUBLIC SEED, NOT A SECRET";

/// Subject of the TRAINING root.
pub const TRAINING_ROOT_SUBJECT: &str =
    "CN=glasskeep-piv-sim TRAINING attestation root (NOT SECURE),O=glasskeep training";

/// Subject of every simulated card's f9 device attestation certificate.
pub const DEVICE_SUBJECT: &str = "CN=glasskeep-piv-sim TRAINING PIV Attestation";

/// OID arc of Yubico's PIV attestation extensions.
pub const OID_FIRMWARE: &str = "1.3.6.1.4.1.41482.3.3";
/// Serial number extension (DER INTEGER).
pub const OID_SERIAL: &str = "1.3.6.1.4.1.41482.3.7";
/// PIN and touch policy extension (two bytes).
pub const OID_POLICY: &str = "1.3.6.1.4.1.41482.3.8";
/// Form factor extension (one byte).
pub const OID_FORM_FACTOR: &str = "1.3.6.1.4.1.41482.3.9";

/// Form factor byte: 0x01 is a USB-A keychain YubiKey.
const FORM_FACTOR_USB_A_KEYCHAIN: u8 = 0x01;

// Fixed dates keep the root byte-for-byte reproducible; real YubiKeys also use fixed
// validity periods in their attestation certificates.
const NOT_BEFORE: &str = "2024-01-01T00:00:00Z";
const NOT_AFTER: &str = "2099-12-31T23:59:59Z";

/// Errors while building certificates; none is expected with the fixed inputs used here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// DER encoding failed.
    #[error("DER encoding failed: {0}")]
    Der(#[from] der::Error),
    /// The certificate builder failed.
    #[error("certificate builder failed: {0}")]
    Builder(String),
    /// The key could not be used.
    #[error("attestation key invalid: {0}")]
    Key(String),
}

/// A profile that puts exactly the given issuer, subject and extensions into the
/// certificate (the stock profiles add identifiers a YubiKey does not).
struct FixedProfile {
    issuer: Name,
    subject: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for FixedProfile {
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
        Ok(self.extensions.clone())
    }
}

fn name(s: &str) -> Result<Name, AttestationError> {
    Ok(Name::from_str(s)?)
}

fn validity() -> Result<Validity, AttestationError> {
    Ok(Validity::new(
        Time::from_str(NOT_BEFORE)?,
        Time::from_str(NOT_AFTER)?,
    ))
}

fn raw_extension(oid: &str, critical: bool, value: Vec<u8>) -> Result<Extension, AttestationError> {
    Ok(Extension {
        extn_id: der::asn1::ObjectIdentifier::new(oid)
            .map_err(|e| AttestationError::Builder(e.to_string()))?,
        critical,
        extn_value: OctetString::new(value)?,
    })
}

fn ca_extensions() -> Result<Vec<Extension>, AttestationError> {
    let bc = BasicConstraints {
        ca: true,
        path_len_constraint: None,
    };
    let ku = KeyUsage(KeyUsages::KeyCertSign.into());
    Ok(vec![
        raw_extension("2.5.29.19", true, bc.to_der()?)?,
        raw_extension("2.5.29.15", true, ku.to_der()?)?,
    ])
}

fn issue(
    issuer: Name,
    subject: Name,
    serial: &[u8],
    spki: SubjectPublicKeyInfoOwned,
    extensions: Vec<Extension>,
    signer: &SigningKey,
) -> Result<Vec<u8>, AttestationError> {
    let profile = FixedProfile {
        issuer,
        subject,
        extensions,
    };
    let serial = SerialNumber::new(serial)?;
    let builder = CertificateBuilder::new(profile, serial, validity()?, spki)
        .map_err(|e| AttestationError::Builder(e.to_string()))?;
    // ECDSA signing here is RFC 6979 deterministic, which makes the root reproducible.
    let cert: Certificate = builder
        .build::<SigningKey, DerSignature>(signer)
        .map_err(|e| AttestationError::Builder(e.to_string()))?;
    Ok(cert.to_der()?)
}

/// SubjectPublicKeyInfo of a P-256 or P-384 public key given as a SEC1 point.
pub fn spki_from_point(
    algorithm: u8,
    point: &[u8],
) -> Result<SubjectPublicKeyInfoOwned, AttestationError> {
    use p256::pkcs8::EncodePublicKey;
    let der = match algorithm {
        crate::model::ALG_P256 => p256::PublicKey::from_sec1_bytes(point)
            .map_err(|e| AttestationError::Key(e.to_string()))?
            .to_public_key_der(),
        crate::model::ALG_P384 => p384::PublicKey::from_sec1_bytes(point)
            .map_err(|e| AttestationError::Key(e.to_string()))?
            .to_public_key_der(),
        other => return Err(AttestationError::Key(format!("algorithm {other:#04x}"))),
    }
    .map_err(|e| AttestationError::Key(e.to_string()))?;
    Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?)
}

/// The TRAINING root's signing key, derived from [`TRAINING_ROOT_SEED`].
pub fn training_root_key() -> SigningKey {
    let scalar = Sha256::digest(TRAINING_ROOT_SEED);
    // SHA-256 of this fixed seed is a valid nonzero scalar below the group order (pinned
    // by `training_root_is_deterministic`), so this cannot fail.
    SigningKey::from_slice(&scalar).expect("fixed seed yields a valid P-256 scalar")
}

fn training_root_checked() -> Result<Vec<u8>, AttestationError> {
    let key = training_root_key();
    let point = key.verifying_key().to_sec1_point(false);
    issue(
        name(TRAINING_ROOT_SUBJECT)?,
        name(TRAINING_ROOT_SUBJECT)?,
        &[0x01],
        spki_from_point(crate::model::ALG_P256, point.as_bytes())?,
        ca_extensions()?,
        &key,
    )
}

/// The TRAINING root certificate, DER. Deterministic: fixed key, serial, validity and
/// RFC 6979 signature, so glasskeep can ship it as data and pin its hash.
pub fn training_root_certificate_der() -> Vec<u8> {
    // Every input is a compile-time constant exercised by the unit tests, so building
    // cannot fail at run time.
    training_root_checked().expect("the training root is built from fixed inputs")
}

/// Issues a card's f9 device attestation certificate under the TRAINING root.
pub fn device_certificate(
    device_key: &SigningKey,
    serial: u32,
) -> Result<Vec<u8>, AttestationError> {
    let point = device_key.verifying_key().to_sec1_point(false);
    let mut cert_serial = vec![0x01];
    cert_serial.extend_from_slice(&serial.to_be_bytes());
    issue(
        name(TRAINING_ROOT_SUBJECT)?,
        name(DEVICE_SUBJECT)?,
        &cert_serial,
        spki_from_point(crate::model::ALG_P256, point.as_bytes())?,
        ca_extensions()?,
        &training_root_key(),
    )
}

/// What a slot attestation certificate states about the key.
pub struct SlotFacts<'a> {
    /// Slot id (0x9a, 0x9c, 0x82, ...).
    pub slot: u8,
    /// PIV algorithm id of the key.
    pub algorithm: u8,
    /// Public key as a SEC1 uncompressed point.
    pub point: &'a [u8],
    /// Firmware major, minor, patch.
    pub firmware: [u8; 3],
    /// Card serial.
    pub serial: u32,
    /// PIN policy byte (1 never, 2 once, 3 always).
    pub pin_policy: u8,
    /// Touch policy byte (1 never, 2 always, 3 cached).
    pub touch_policy: u8,
}

/// Issues the attestation certificate for one slot key, signed by the f9 device key.
pub fn slot_certificate(
    facts: &SlotFacts<'_>,
    device_key: &SigningKey,
) -> Result<Vec<u8>, AttestationError> {
    let serial_der = der::asn1::Uint::new(&facts.serial.to_be_bytes())?.to_der()?;
    let extensions = vec![
        raw_extension(OID_FIRMWARE, false, facts.firmware.to_vec())?,
        raw_extension(OID_SERIAL, false, serial_der)?,
        raw_extension(
            OID_POLICY,
            false,
            vec![facts.pin_policy, facts.touch_policy],
        )?,
        raw_extension(OID_FORM_FACTOR, false, vec![FORM_FACTOR_USB_A_KEYCHAIN])?,
    ];
    let mut cert_serial = [0u8; 16];
    crate::model::random_bytes(&mut cert_serial);
    // A positive INTEGER without a leading zero: clear the top bit, force a nonzero byte.
    cert_serial[0] = (cert_serial[0] & 0x7F) | 0x01;
    issue(
        name(DEVICE_SUBJECT)?,
        name(&format!("CN=YubiKey PIV Attestation {:02x}", facts.slot))?,
        &cert_serial,
        spki_from_point(facts.algorithm, facts.point)?,
        extensions,
        device_key,
    )
}
