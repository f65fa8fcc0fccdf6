//! PIV attestation: proof that a key was generated inside a genuine YubiKey (or, for a
//! training custody, inside the simulator) with the PIN and touch policies it claims.
//!
//! The chain checked is: slot attestation certificate <- device attestation
//! certificate (slot f9, on the card) <- [Yubico intermediates] <- a trusted root. The
//! steps run in a fixed order, and the first failure is reported with the link and the
//! reason: parse, path (names, signatures, CA constraints, time order), the slot
//! certificate's public key, its Yubico extensions, then the custody's policy.
//!
//! Validity periods are *not* checked against the current time: glasskeep runs on an
//! air-gapped laptop whose clock nobody maintains, and an attestation is a statement
//! about how a key was born, which does not expire. The one time check that needs no
//! clock is kept: no certificate may predate its issuer (`notBefore`).

mod error;
mod x509;

pub use self::error::{AttestationError, CertRole, LinkFault};

use std::fmt;

use sha2::{Digest, Sha256};

use self::x509::{Cert, PathError};
use crate::custodian::CustodianRecord;
use crate::piv::{KeyRole, PinPolicy, Slot, TouchPolicy, Version};

/// Yubico's PIV attestation CAs (roots and intermediates), as published by Yubico; each
/// one is pinned by fingerprint below, and a test fails if the file changes.
pub const YUBICO_ATTESTATION_CAS_PEM: &str = include_str!("attestation/yubico-attestation-cas.pem");

/// SHA-256 of the DER of the anchors glasskeep trusts in production: "Yubico PIV Root CA
/// Serial 263751" as re-issued in 2018 (pathLen 1; the original issue has pathLen 0 and
/// cannot validate root -> f9 -> slot) and "Yubico Attestation Root 1".
const YUBICO_ANCHORS: [&str; 2] = [
    "63ECE914E54DD87915F34033C85AF4C0696BA1512F8ADD66CED738331207B546",
    "62760C6A6EF91679F454C8902B80FD009825B3F25DA90F1FBACE2EC6586CD5A8",
];

/// SHA-256 of the DER of the intermediates, used as path material only (firmware
/// 5.7.4 and later does not carry them): "Yubico Attestation Intermediate {A,B} 1" and
/// "Yubico PIV Attestation {A,B,B2} 1".
const YUBICO_INTERMEDIATES: [&str; 5] = [
    "4698A1D3389C3EC60016C216250F1D0439922832D65142327436376DC2942B55",
    "D4CC3F456FDAF4E7812A21AAB1DFE9D8E27D24E2FD2D6F21C9940109F0DAA754",
    "6DE693F05376F5D8CA29069261E1C8626C75D503BD2EDBFD75354CAD1F722870",
    "2D55B7998F4E42569D6D8FA382B6DC77D1DACF07358B19701163892922B17052",
    "0C90B7D184A36EDF50A35F9BE935F0C5689BFDCFE5BDD073366CAFB49061A440",
];

/// The simulator's TRAINING root CA (DER), the only anchor of a training custody. A test
/// keeps it equal to what `glasskeep-piv-sim` signs with.
pub const SIM_TRAINING_ROOT_DER: &[u8] = include_bytes!("attestation/sim-training-root.der");

/// Which roots a custody trusts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Yubico's PIV attestation roots only.
    Production,
    /// The simulator's training root only.
    Training,
}

impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Trust::Production => "production",
            Trust::Training => "TRAINING",
        })
    }
}

/// What a verified slot attestation says about one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestedKey {
    /// The YubiKey's serial number.
    pub serial: u32,
    /// The YubiKey's firmware version.
    pub firmware: Version,
    /// The slot, if the subject names it as YubiKeys do ("YubiKey PIV Attestation 9c").
    pub slot: Option<Slot>,
    /// PIN policy of the key.
    pub pin_policy: PinPolicy,
    /// Touch policy of the key.
    pub touch_policy: TouchPolicy,
    /// Form factor byte (Yubico extension .3.9), if present.
    pub form_factor: Option<u8>,
    /// The attested public key, SEC1 uncompressed P-256 (65 bytes).
    pub public_key: Vec<u8>,
    /// The subject of the root the chain ends at.
    pub root: String,
}

/// What a verified custodian record proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestedFacts {
    /// The YubiKey's serial number.
    pub serial: u32,
    /// The YubiKey's firmware version.
    pub firmware: Version,
    /// The seal key's attestation.
    pub seal: AttestedKey,
    /// The sign key's attestation.
    pub sign: AttestedKey,
    /// The subject of the root the chain ends at.
    pub root: String,
}

/// Anchors and path material for one kind of custody.
pub(crate) struct TrustStore {
    anchors: Vec<Cert>,
    intermediates: Vec<Cert>,
}

/// The SHA-256 fingerprint of `der`, upper-case hex (the form Yubico and the notes use).
pub fn fingerprint(der: &[u8]) -> String {
    data_encoding::HEXUPPER.encode(&Sha256::digest(der))
}

impl TrustStore {
    pub(crate) fn new(anchors: &[&[u8]], intermediates: &[&[u8]]) -> TrustStore {
        // The stores are built from certificates shipped in the crate and pinned by
        // tests; one that does not parse is left out, so its chains fail as untrusted.
        let parse = |ders: &[&[u8]]| ders.iter().filter_map(|d| Cert::parse(d).ok()).collect();
        TrustStore {
            anchors: parse(anchors),
            intermediates: parse(intermediates),
        }
    }

    pub(crate) fn for_trust(trust: Trust) -> TrustStore {
        match trust {
            Trust::Training => TrustStore::new(&[SIM_TRAINING_ROOT_DER], &[]),
            Trust::Production => {
                let all = x509::pem_certificates(YUBICO_ATTESTATION_CAS_PEM).unwrap_or_default();
                let pick = |pins: &[&str]| -> Vec<Vec<u8>> {
                    all.iter()
                        .filter(|d| pins.contains(&fingerprint(d).as_str()))
                        .cloned()
                        .collect()
                };
                let (a, i) = (pick(&YUBICO_ANCHORS), pick(&YUBICO_INTERMEDIATES));
                TrustStore::new(&refs(&a), &refs(&i))
            }
        }
    }
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

/// Verifies one key's attestation under the custody's trust. It does not yet judge the
/// policies (see [`check_policy`]) nor compare the key with anything.
pub fn verify_key_attestation(
    role: KeyRole,
    slot_cert: &[u8],
    device_cert: &[u8],
    trust: Trust,
) -> Result<AttestedKey, AttestationError> {
    verify_with_store(
        role,
        slot_cert,
        device_cert,
        trust,
        &TrustStore::for_trust(trust),
    )
}

pub(crate) fn verify_with_store(
    role: KeyRole,
    slot_der: &[u8],
    device_der: &[u8],
    trust: Trust,
    store: &TrustStore,
) -> Result<AttestedKey, AttestationError> {
    let slot_role = CertRole::Slot(role);
    let slot = Cert::parse(slot_der).map_err(|reason| AttestationError::Malformed {
        cert: slot_role.clone(),
        reason,
    })?;
    let device = Cert::parse(device_der).map_err(|reason| AttestationError::Malformed {
        cert: CertRole::Device,
        reason,
    })?;
    let chain_err = |child: &Cert, issuer: &Cert, fault| AttestationError::ChainInvalid {
        child: child.subject(),
        issuer: issuer.subject(),
        fault,
    };
    x509::check_link(&slot, &device).map_err(|f| chain_err(&slot, &device, f))?;
    x509::check_device_may_issue(&device).map_err(|f| chain_err(&slot, &device, f))?;
    let root = match x509::build_path(&device, &store.anchors, &store.intermediates) {
        Ok(root) => root,
        Err(PathError::Link {
            child,
            issuer,
            fault,
        }) => {
            return Err(AttestationError::ChainInvalid {
                child,
                issuer,
                fault,
            })
        }
        Err(PathError::UnknownIssuer { issuer }) => {
            return Err(classify_foreign(&device, issuer, trust))
        }
    };
    read_slot_facts(role, &slot, root)
}

/// Checks the device attestation certificate (slot f9) alone against the custody's
/// roots and returns the root's subject: enrollment asks this before generating any
/// key, so a card from the wrong world is refused without touching its slots.
pub fn verify_device_certificate(
    device_cert: &[u8],
    trust: Trust,
) -> Result<String, AttestationError> {
    let device = Cert::parse(device_cert).map_err(|reason| AttestationError::Malformed {
        cert: CertRole::Device,
        reason,
    })?;
    let store = TrustStore::for_trust(trust);
    match x509::build_path(&device, &store.anchors, &store.intermediates) {
        Ok(root) => Ok(root),
        Err(PathError::Link {
            child,
            issuer,
            fault,
        }) => Err(AttestationError::ChainInvalid {
            child,
            issuer,
            fault,
        }),
        Err(PathError::UnknownIssuer { issuer }) => Err(classify_foreign(&device, issuer, trust)),
    }
}

/// The OIDs of a certificate's critical extensions (empty if it does not parse).
pub fn critical_extensions(der: &[u8]) -> Vec<String> {
    Cert::parse(der)
        .map(|c| c.critical_extensions())
        .unwrap_or_default()
}

/// A device certificate that no anchor of this custody issued: say plainly when it is the
/// other kind of card, as that is the mistake people make.
fn classify_foreign(device: &Cert, issuer: String, trust: Trust) -> AttestationError {
    let other = match trust {
        Trust::Production => Trust::Training,
        Trust::Training => Trust::Production,
    };
    let store = TrustStore::for_trust(other);
    if x509::build_path(device, &store.anchors, &store.intermediates).is_ok() {
        return match trust {
            Trust::Production => AttestationError::TrainingCardInProduction,
            Trust::Training => AttestationError::RealCardInTraining,
        };
    }
    AttestationError::UntrustedIssuer { issuer, trust }
}

fn read_slot_facts(
    role: KeyRole,
    slot: &Cert,
    root: String,
) -> Result<AttestedKey, AttestationError> {
    let cert = CertRole::Slot(role);
    let spki = slot.spki();
    let point = spki
        .subject_public_key
        .as_bytes()
        .filter(|p| p.len() == 65 && p256::PublicKey::from_sec1_bytes(p).is_ok());
    let point = match (x509::curve_of(spki), point) {
        (Some(x509::OID_P256), Some(p)) => p.to_vec(),
        _ => return Err(AttestationError::NotP256 { cert }),
    };
    let f = yubico_facts(slot, role)?;
    Ok(AttestedKey {
        serial: f.serial,
        firmware: f.firmware,
        slot: f.slot,
        pin_policy: f.pin_policy,
        touch_policy: f.touch_policy,
        form_factor: f.form_factor,
        public_key: point,
        root,
    })
}

/// What Yubico's extensions and subject say in a slot attestation certificate.
#[derive(Debug, PartialEq, Eq)]
struct YubicoFacts {
    serial: u32,
    firmware: Version,
    slot: Option<Slot>,
    pin_policy: PinPolicy,
    touch_policy: TouchPolicy,
    form_factor: Option<u8>,
}

fn yubico_facts(slot: &Cert, role: KeyRole) -> Result<YubicoFacts, AttestationError> {
    let bad = |oid: &der::asn1::ObjectIdentifier| AttestationError::BadYubicoExtension {
        cert: CertRole::Slot(role),
        oid: oid.to_string(),
    };
    let firmware = match slot.extension(&x509::OID_YK_FIRMWARE) {
        Some([major, minor, patch]) => Version {
            major: *major,
            minor: *minor,
            patch: *patch,
        },
        _ => return Err(bad(&x509::OID_YK_FIRMWARE)),
    };
    // A DER INTEGER inside the extension's OCTET STRING, unlike its raw-byte siblings.
    let serial = slot
        .extension(&x509::OID_YK_SERIAL)
        .and_then(|v| <u32 as der::Decode>::from_der(v).ok())
        .ok_or_else(|| bad(&x509::OID_YK_SERIAL))?;
    let (pin_policy, touch_policy) = match slot.extension(&x509::OID_YK_POLICY) {
        Some([pin, touch]) => (
            crate::piv::pin_policy_from_code(*pin).ok_or_else(|| bad(&x509::OID_YK_POLICY))?,
            crate::piv::touch_policy_from_code(*touch).ok_or_else(|| bad(&x509::OID_YK_POLICY))?,
        ),
        _ => return Err(bad(&x509::OID_YK_POLICY)),
    };
    let form_factor = match slot.extension(&x509::OID_YK_FORM_FACTOR) {
        None => None,
        Some([b]) => Some(*b),
        Some(_) => return Err(bad(&x509::OID_YK_FORM_FACTOR)),
    };
    Ok(YubicoFacts {
        serial,
        firmware,
        slot: slot_in_subject(&slot.subject()),
        pin_policy,
        touch_policy,
        form_factor,
    })
}

/// YubiKeys name the slot in the subject, "CN=YubiKey PIV Attestation 9c". Informative
/// only: a different wording is not an error, the key itself is what is checked.
fn slot_in_subject(subject: &str) -> Option<Slot> {
    let hex = subject.strip_prefix("CN=YubiKey PIV Attestation ")?;
    u8::from_str_radix(hex, 16).ok().and_then(Slot::new)
}

/// Refuses a key whose attested policy is weaker than its role requires: touch always
/// for both (presence is the point of a break-glass custody); PIN once or always for the
/// seal key (age-plugin-yubikey's default), always for the sign key (each checkpoint
/// signature is a deliberate act).
pub fn check_policy(role: KeyRole, key: &AttestedKey) -> Result<(), AttestationError> {
    if role.policy_allowed(key.pin_policy, key.touch_policy) {
        return Ok(());
    }
    Err(AttestationError::PolicyTooWeak {
        role,
        pin: key.pin_policy,
        touch: key.touch_policy,
        required: role.policy_required(),
    })
}

/// Checks one attested key against what the caller expects: the card's serial and the
/// public key (any SEC1 encoding of the P-256 point), then the role's policy.
pub fn check_attested_key(
    role: KeyRole,
    key: &AttestedKey,
    expected_serial: u32,
    expected_public_key: &[u8],
) -> Result<(), AttestationError> {
    if key.serial != expected_serial {
        return Err(AttestationError::SerialMismatch {
            attested: key.serial,
            expected: expected_serial,
        });
    }
    let same = match (
        p256::PublicKey::from_sec1_bytes(&key.public_key),
        p256::PublicKey::from_sec1_bytes(expected_public_key),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same {
        return Err(AttestationError::KeyMismatch { role });
    }
    check_policy(role, key)
}

/// Re-verifies an enrolled custodian from the record alone (what auditors do from the
/// log): both chains under `trust`, both keys and the serial against the attestations,
/// the recorded firmware and policies against the attested ones, and the policy rules.
pub fn verify_record(
    record: &CustodianRecord,
    trust: Trust,
) -> Result<AttestedFacts, AttestationError> {
    verify_record_with(record, trust, &TrustStore::for_trust(trust))
}

pub(crate) fn verify_record_with(
    record: &CustodianRecord,
    trust: Trust,
    store: &TrustStore,
) -> Result<AttestedFacts, AttestationError> {
    let dev = &record.device_attestation;
    let seal = verify_with_store(KeyRole::Seal, &record.seal_attestation, dev, trust, store)?;
    let sign = verify_with_store(KeyRole::Sign, &record.sign_attestation, dev, trust, store)?;
    for (role, key, public, pin, touch) in [
        (
            KeyRole::Seal,
            &seal,
            &record.seal_public_key,
            record.seal_pin_policy,
            record.seal_touch_policy,
        ),
        (
            KeyRole::Sign,
            &sign,
            &record.sign_public_key,
            record.sign_pin_policy,
            record.sign_touch_policy,
        ),
    ] {
        check_attested_key(role, key, record.serial, public)?;
        let recorded = match role {
            KeyRole::Seal => record.seal_slot,
            KeyRole::Sign => Slot::SIGNATURE,
        };
        if let Some(attested) = key.slot.filter(|s| *s != recorded) {
            return Err(AttestationError::SlotMismatch {
                role,
                attested,
                recorded,
            });
        }
        if key.firmware != record.firmware {
            return Err(AttestationError::FirmwareMismatch {
                recorded: record.firmware,
                attested: key.firmware,
            });
        }
        if (key.pin_policy, key.touch_policy) != (pin, touch) {
            return Err(AttestationError::PolicyMismatch { role });
        }
    }
    Ok(AttestedFacts {
        serial: record.serial,
        firmware: record.firmware,
        root: seal.root.clone(),
        seal,
        sign,
    })
}

#[cfg(test)]
mod tests;
