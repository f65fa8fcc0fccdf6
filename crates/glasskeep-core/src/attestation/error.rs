//! The attestation verifier's errors: which certificate, which link, and why.

use std::fmt;

use thiserror::Error;

use super::{KeyRole, Trust};
use crate::piv::{PinPolicy, Slot, TouchPolicy, Version};

/// Which certificate of an attestation something is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertRole {
    /// The slot attestation certificate of the seal or sign key.
    Slot(KeyRole),
    /// The device attestation certificate (slot f9).
    Device,
}

impl fmt::Display for CertRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertRole::Slot(r) => write!(f, "the {r} key's attestation certificate"),
            CertRole::Device => f.write_str("the device attestation certificate (f9)"),
        }
    }
}

/// Why one link of a chain does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkFault {
    /// The signature does not verify under the issuer's key.
    BadSignature,
    /// The child names a different issuer.
    IssuerNameMismatch {
        /// The issuer named by the child.
        expected: String,
        /// The subject of the certificate offered as issuer.
        found: String,
    },
    /// The signature algorithm is not one glasskeep accepts.
    UnsupportedAlgorithm {
        /// Its OID.
        oid: String,
    },
    /// The signature algorithm inside and outside the signed part differ.
    AlgorithmMismatch,
    /// The signature algorithm does not fit the issuer's key type.
    KeyAlgorithmMismatch,
    /// The issuer's public key is unusable.
    BadIssuerKey,
    /// The issuer is not a CA.
    NotCa,
    /// The issuer's path length constraint is exceeded.
    PathLenExceeded {
        /// The constraint.
        limit: u8,
    },
    /// The child's notBefore is earlier than the issuer's.
    NotBeforeIssuer,
    /// A critical extension glasskeep does not understand.
    UnknownCriticalExtension {
        /// Its OID.
        oid: String,
    },
    /// An extension could not be parsed.
    BadExtension {
        /// Its OID.
        oid: String,
    },
    /// More intermediates than any Yubico path has.
    PathTooLong,
}

impl fmt::Display for LinkFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkFault::BadSignature => f.write_str("the signature does not verify"),
            LinkFault::IssuerNameMismatch { expected, found } => {
                write!(f, "issued by \"{expected}\", not by \"{found}\"")
            }
            LinkFault::UnsupportedAlgorithm { oid } => {
                write!(f, "signature algorithm {oid} is not accepted")
            }
            LinkFault::AlgorithmMismatch => {
                f.write_str("the signature algorithm differs inside and outside the signed part")
            }
            LinkFault::KeyAlgorithmMismatch => {
                f.write_str("the signature algorithm does not match the issuer's key type")
            }
            LinkFault::BadIssuerKey => f.write_str("the issuer's public key is unusable"),
            LinkFault::NotCa => f.write_str("the issuer is not a certificate authority"),
            LinkFault::PathLenExceeded { limit } => {
                write!(f, "the issuer allows at most {limit} CA(s) below it")
            }
            LinkFault::NotBeforeIssuer => f.write_str("it claims to predate its issuer"),
            LinkFault::UnknownCriticalExtension { oid } => {
                write!(f, "it has an unknown critical extension {oid}")
            }
            LinkFault::BadExtension { oid } => write!(f, "extension {oid} is malformed"),
            LinkFault::PathTooLong => f.write_str("the chain is longer than any Yubico chain"),
        }
    }
}

/// Why an attestation was refused. Checked in the order the variants are listed.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationError {
    /// A certificate could not be parsed.
    #[error(
        "{cert} is not a valid certificate ({reason}): re-run the enrollment with the YubiKey"
    )]
    Malformed {
        /// Which certificate.
        cert: CertRole,
        /// Why.
        reason: String,
    },
    /// One link of the chain does not hold.
    #[error("attestation chain invalid: \"{child}\" <- \"{issuer}\": {fault}; this key cannot be trusted")]
    ChainInvalid {
        /// The subject of the certificate whose link failed.
        child: String,
        /// The subject of its issuer.
        issuer: String,
        /// Why.
        fault: LinkFault,
    },
    /// A simulated (training) card offered to a production custody.
    #[error("this key was not attested by Yubico: a training (simulated) YubiKey cannot join a production custody")]
    TrainingCardInProduction,
    /// A real YubiKey offered to a training custody.
    #[error("this key was attested by Yubico: a training custody accepts only simulated YubiKeys; enroll real YubiKeys in a production custody")]
    RealCardInTraining,
    /// The chain ends at a CA the custody does not trust at all.
    #[error("the device attestation certificate was issued by \"{issuer}\", which this {trust} custody does not trust: this is not a genuine {}", if *.trust == Trust::Production { "YubiKey" } else { "simulated YubiKey" })]
    UntrustedIssuer {
        /// The issuer's name.
        issuer: String,
        /// The custody's trust.
        trust: Trust,
    },
    /// The slot certificate does not hold a P-256 key.
    #[error("{cert} does not hold a P-256 public key")]
    NotP256 {
        /// Which certificate.
        cert: CertRole,
    },
    /// A Yubico attestation extension is missing or malformed.
    #[error("{cert} lacks a valid Yubico extension {oid}")]
    BadYubicoExtension {
        /// Which certificate.
        cert: CertRole,
        /// The extension's OID.
        oid: String,
    },
    /// The attested key is not the key that was generated or recorded.
    #[error("the {role} key's attestation is for a different public key: the card did not attest this key")]
    KeyMismatch {
        /// Which key.
        role: KeyRole,
    },
    /// The attestation names a different YubiKey.
    #[error("the attestation is for YubiKey serial {attested}, not {expected}: it belongs to another card")]
    SerialMismatch {
        /// The serial in the attestation.
        attested: u32,
        /// The serial expected.
        expected: u32,
    },
    /// The attestation is for another slot than the record says.
    #[error(
        "the {role} key's attestation is for slot {attested}, but the record says slot {recorded}"
    )]
    SlotMismatch {
        /// Which key.
        role: KeyRole,
        /// The slot named by the attestation.
        attested: Slot,
        /// The slot in the record.
        recorded: Slot,
    },
    /// The record's firmware differs from the attested one.
    #[error("the record says firmware {recorded}, the attestation says {attested}")]
    FirmwareMismatch {
        /// Recorded.
        recorded: Version,
        /// Attested.
        attested: Version,
    },
    /// The record's policies differ from the attested ones.
    #[error("the record's policies for the {role} key differ from the attested ones")]
    PolicyMismatch {
        /// Which key.
        role: KeyRole,
    },
    /// The attested policy is weaker than glasskeep requires.
    #[error("the {role} key's policy is too weak (PIN {pin:?}, touch {touch:?}; required: {required}): regenerate it with glasskeep")]
    PolicyTooWeak {
        /// Which key.
        role: KeyRole,
        /// The attested PIN policy.
        pin: PinPolicy,
        /// The attested touch policy.
        touch: TouchPolicy,
        /// What is required, in words.
        required: &'static str,
    },
}
