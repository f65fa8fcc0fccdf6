//! The X.509 work behind attestation: parsing, one link's signature, the Yubico
//! extensions, and building the path from a device certificate up to an anchor.
//!
//! Only what PIV attestation needs is implemented, on purpose: a general path validator
//! would accept far more than the few shapes Yubico's and the simulator's CAs produce.

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode, Reader, SliceReader};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use sha2::Digest;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

use super::LinkFault;

pub(super) const OID_RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const OID_SHA256_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const OID_SHA384_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const OID_SHA512_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const OID_ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const OID_ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
pub(super) const OID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub(super) const OID_P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub(super) const OID_P384: Oid = Oid::new_unwrap("1.3.132.0.34");

const OID_BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
const OID_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
const OID_SKI: Oid = Oid::new_unwrap("2.5.29.14");
const OID_AKI: Oid = Oid::new_unwrap("2.5.29.35");
/// Yubico's arc for PIV attestation extensions.
const YUBICO_PIV_ARC: &str = "1.3.6.1.4.1.41482.3.";
/// Firmware version, three raw bytes.
pub(super) const OID_YK_FIRMWARE: Oid = Oid::new_unwrap("1.3.6.1.4.1.41482.3.3");
/// Serial number, a DER INTEGER.
pub(super) const OID_YK_SERIAL: Oid = Oid::new_unwrap("1.3.6.1.4.1.41482.3.7");
/// [PIN policy, touch policy], two raw bytes.
pub(super) const OID_YK_POLICY: Oid = Oid::new_unwrap("1.3.6.1.4.1.41482.3.8");
/// Form factor, one raw byte.
pub(super) const OID_YK_FORM_FACTOR: Oid = Oid::new_unwrap("1.3.6.1.4.1.41482.3.9");

/// Longest path from a device certificate to an anchor: f9 -> PIV CA -> intermediate ->
/// root is the deepest Yubico publishes; one spare level, no more, so a loop of
/// cross-signed certificates cannot run away.
const MAX_DEPTH: usize = 4;

/// A parsed certificate and the exact bytes its signature covers.
pub(super) struct Cert {
    pub(super) cert: Certificate,
    tbs: Vec<u8>,
}

impl Cert {
    /// Parses `der`; the reason is for the error, never shown with certificate bytes.
    pub(super) fn parse(der: &[u8]) -> Result<Cert, String> {
        let cert = Certificate::from_der(der).map_err(|e| format!("not a DER certificate: {e}"))?;
        // The signature covers the TBS bytes as they were transmitted, not a re-encoding
        // of what was parsed: take them straight from the outer SEQUENCE.
        let tbs = raw_tbs(der).map_err(|e| format!("not a DER certificate: {e}"))?;
        Ok(Cert { cert, tbs })
    }

    pub(super) fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    pub(super) fn issuer(&self) -> String {
        self.cert.tbs_certificate().issuer().to_string()
    }

    pub(super) fn spki(&self) -> &SubjectPublicKeyInfoOwned {
        self.cert.tbs_certificate().subject_public_key_info()
    }

    /// The raw bytes inside the extension `oid`'s OCTET STRING, if present.
    pub(super) fn extension(&self, oid: &Oid) -> Option<&[u8]> {
        self.cert
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| &e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    }

    fn not_before_secs(&self) -> u64 {
        self.cert
            .tbs_certificate()
            .validity()
            .not_before
            .to_unix_duration()
            .as_secs()
    }

    fn basic_constraints(&self) -> Result<Option<BasicConstraints>, LinkFault> {
        match self.extension(&OID_BASIC_CONSTRAINTS) {
            None => Ok(None),
            Some(v) => {
                BasicConstraints::from_der(v)
                    .map(Some)
                    .map_err(|_| LinkFault::BadExtension {
                        oid: OID_BASIC_CONSTRAINTS.to_string(),
                    })
            }
        }
    }

    pub(crate) fn critical_extensions(&self) -> Vec<String> {
        self.cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .filter(|e| e.critical)
            .map(|e| e.extn_id.to_string())
            .collect()
    }

    /// Refuses a critical extension this verifier does not understand (RFC 5280 4.2).
    pub(super) fn check_critical(&self) -> Result<(), LinkFault> {
        let known = [
            OID_BASIC_CONSTRAINTS,
            OID_KEY_USAGE,
            OID_EXT_KEY_USAGE,
            OID_SKI,
            OID_AKI,
        ];
        for ext in self
            .cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
        {
            let id = ext.extn_id.to_string();
            if ext.critical && !known.contains(&ext.extn_id) && !id.starts_with(YUBICO_PIV_ARC) {
                return Err(LinkFault::UnknownCriticalExtension { oid: id });
            }
        }
        Ok(())
    }
}

fn raw_tbs(der: &[u8]) -> der::Result<Vec<u8>> {
    let mut reader = SliceReader::new(der)?;
    let outer = der::Header::decode(&mut reader)?;
    outer.tag().assert_eq(der::Tag::Sequence)?;
    Ok(reader.tlv_bytes()?.to_vec())
}

/// The hash a signature algorithm names, and the key family it needs.
#[derive(Clone, Copy)]
enum SigAlg {
    Rsa(Hash),
    Ecdsa(Hash),
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

fn signature_algorithm(cert: &Certificate) -> Result<SigAlg, LinkFault> {
    let outer = cert.signature_algorithm();
    // RFC 5280 4.1.1.2: the algorithm outside the TBS must equal the one inside, or an
    // attacker could make the verifier read the signature under a different algorithm.
    if outer != cert.tbs_certificate().signature() {
        return Err(LinkFault::AlgorithmMismatch);
    }
    let unsupported = || LinkFault::UnsupportedAlgorithm {
        oid: outer.oid.to_string(),
    };
    let alg = match outer.oid {
        OID_SHA256_RSA => SigAlg::Rsa(Hash::Sha256),
        OID_SHA384_RSA => SigAlg::Rsa(Hash::Sha384),
        OID_SHA512_RSA => SigAlg::Rsa(Hash::Sha512),
        OID_ECDSA_SHA256 => SigAlg::Ecdsa(Hash::Sha256),
        OID_ECDSA_SHA384 => SigAlg::Ecdsa(Hash::Sha384),
        OID_ECDSA_SHA512 => SigAlg::Ecdsa(Hash::Sha512),
        _ => return Err(unsupported()),
    };
    let params_ok = match (&alg, &outer.parameters) {
        // RFC 4055 2.1: NULL or absent for the sha*WithRSAEncryption family; "Yubico PIV
        // Attestation B2 1" is signed with the parameter absent.
        (SigAlg::Rsa(_), None) => true,
        (SigAlg::Rsa(_), Some(p)) => p.to_ref().is_null(),
        // RFC 5758 3.2: ECDSA algorithm identifiers carry no parameters at all.
        (SigAlg::Ecdsa(_), p) => p.is_none(),
    };
    if !params_ok {
        return Err(unsupported());
    }
    Ok(alg)
}

fn digest(hash: Hash, data: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

/// Verifies `child`'s signature with `issuer`'s public key.
pub(super) fn verify_signature(child: &Cert, issuer: &Cert) -> Result<(), LinkFault> {
    let alg = signature_algorithm(&child.cert)?;
    let sig = child
        .cert
        .signature()
        .as_bytes()
        .ok_or(LinkFault::BadSignature)?;
    let spki = issuer.spki();
    let key_der = spki.to_der().map_err(|_| LinkFault::BadIssuerKey)?;
    let ok = match alg {
        SigAlg::Rsa(hash) => {
            if spki.algorithm.oid != OID_RSA_ENCRYPTION {
                return Err(LinkFault::KeyAlgorithmMismatch);
            }
            let key = rsa::RsaPublicKey::from_public_key_der(&key_der)
                .map_err(|_| LinkFault::BadIssuerKey)?;
            // Yubico's CAs are RSA-2048; anything shorter is not one of them.
            if rsa::traits::PublicKeyParts::size(&key) < 256 {
                return Err(LinkFault::BadIssuerKey);
            }
            let sig =
                rsa::pkcs1v15::Signature::try_from(sig).map_err(|_| LinkFault::BadSignature)?;
            match hash {
                Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
                    .verify(&child.tbs, &sig)
                    .is_ok(),
                Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key)
                    .verify(&child.tbs, &sig)
                    .is_ok(),
                Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key)
                    .verify(&child.tbs, &sig)
                    .is_ok(),
            }
        }
        SigAlg::Ecdsa(hash) => {
            if spki.algorithm.oid != OID_EC_PUBLIC_KEY {
                return Err(LinkFault::KeyAlgorithmMismatch);
            }
            let prehash = digest(hash, &child.tbs);
            let point = spki
                .subject_public_key
                .as_bytes()
                .ok_or(LinkFault::BadIssuerKey)?;
            match curve_of(spki) {
                Some(OID_P256) => {
                    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map_err(|_| LinkFault::BadIssuerKey)?;
                    let sig = p256::ecdsa::Signature::from_der(sig)
                        .map_err(|_| LinkFault::BadSignature)?;
                    key.verify_prehash(&prehash, &sig).is_ok()
                }
                Some(OID_P384) => {
                    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                        .map_err(|_| LinkFault::BadIssuerKey)?;
                    let sig = p384::ecdsa::Signature::from_der(sig)
                        .map_err(|_| LinkFault::BadSignature)?;
                    key.verify_prehash(&prehash, &sig).is_ok()
                }
                _ => return Err(LinkFault::BadIssuerKey),
            }
        }
    };
    if ok {
        Ok(())
    } else {
        Err(LinkFault::BadSignature)
    }
}

/// The named curve of an EC public key, if it is one.
pub(super) fn curve_of(spki: &SubjectPublicKeyInfoOwned) -> Option<Oid> {
    if spki.algorithm.oid != OID_EC_PUBLIC_KEY {
        return None;
    }
    spki.algorithm.parameters.as_ref()?.decode_as::<Oid>().ok()
}

/// One link child <- issuer: names, signature, time order. CA-ness of the issuer is
/// checked by the caller, which knows where in the path the issuer sits.
pub(super) fn check_link(child: &Cert, issuer: &Cert) -> Result<(), LinkFault> {
    if child.cert.tbs_certificate().issuer() != issuer.cert.tbs_certificate().subject() {
        return Err(LinkFault::IssuerNameMismatch {
            expected: child.issuer(),
            found: issuer.subject(),
        });
    }
    child.check_critical()?;
    verify_signature(child, issuer)?;
    // The laptop's clock is not trusted (air-gapped, often never set), so expiry is not
    // checked against "now". What can be checked without a clock: a certificate cannot
    // have been issued before its issuer existed.
    if child.not_before_secs() < issuer.not_before_secs() {
        return Err(LinkFault::NotBeforeIssuer);
    }
    Ok(())
}

/// Checks that `ca` may issue a path with `below` CA certificates under it.
fn check_ca(ca: &Cert, below: usize) -> Result<(), LinkFault> {
    let bc = ca.basic_constraints()?.ok_or(LinkFault::NotCa)?;
    if !bc.ca {
        return Err(LinkFault::NotCa);
    }
    if let Some(limit) = bc.path_len_constraint {
        if below > usize::from(limit) {
            return Err(LinkFault::PathLenExceeded { limit });
        }
    }
    if let Some(ku) = ca.extension(&OID_KEY_USAGE) {
        let ku = KeyUsage::from_der(ku).map_err(|_| LinkFault::BadExtension {
            oid: OID_KEY_USAGE.to_string(),
        })?;
        if !ku.key_cert_sign() {
            return Err(LinkFault::NotCa);
        }
    }
    Ok(())
}

/// The device attestation certificate issues slot certificates: a CA in all but name on
/// some firmware. A certificate that says outright it is no CA is refused; one without
/// basic constraints is tolerated, as old attestation certificates are issued that way.
pub(super) fn check_device_may_issue(device: &Cert) -> Result<(), LinkFault> {
    match device.basic_constraints()? {
        Some(bc) if !bc.ca => Err(LinkFault::NotCa),
        _ => Ok(()),
    }
}

/// Why no path was found from a device certificate to an anchor.
pub(super) enum PathError {
    /// No anchor or intermediate carries the issuer's name.
    UnknownIssuer {
        /// The name that was looked for.
        issuer: String,
    },
    /// A certificate with the right name was found, but the link does not hold.
    Link {
        /// The child's subject.
        child: String,
        /// The issuer's subject.
        issuer: String,
        /// Why.
        fault: LinkFault,
    },
}

/// Finds a path device -> intermediates* -> anchor; returns the anchor's subject.
pub(super) fn build_path(
    device: &Cert,
    anchors: &[Cert],
    intermediates: &[Cert],
) -> Result<String, PathError> {
    let mut current = device;
    // CA certificates between the current issuer and the slot certificate: the device
    // certificate counts, as it issues the slot certificate (why Yubico reissued the
    // legacy root with pathLen 1).
    let mut below = 1usize;
    for _ in 0..MAX_DEPTH {
        let wanted = current.cert.tbs_certificate().issuer();
        let link_err = |issuer: &Cert, fault| PathError::Link {
            child: current.subject(),
            issuer: issuer.subject(),
            fault,
        };
        let mut first_fault = None;
        for anchor in anchors
            .iter()
            .filter(|a| a.cert.tbs_certificate().subject() == wanted)
        {
            match check_link(current, anchor).and_then(|()| check_ca(anchor, below)) {
                Ok(()) => return Ok(anchor.subject()),
                Err(f) => {
                    first_fault.get_or_insert(link_err(anchor, f));
                }
            }
        }
        let next = intermediates.iter().find_map(|i| {
            if i.cert.tbs_certificate().subject() != wanted {
                return None;
            }
            match check_link(current, i).and_then(|()| check_ca(i, below)) {
                Ok(()) => Some(Ok(i)),
                Err(f) => Some(Err(link_err(i, f))),
            }
        });
        match next {
            Some(Ok(i)) => {
                current = i;
                below += 1;
            }
            Some(Err(e)) => return Err(first_fault.unwrap_or(e)),
            None => {
                return Err(first_fault.unwrap_or(PathError::UnknownIssuer {
                    issuer: wanted.to_string(),
                }))
            }
        }
    }
    Err(PathError::Link {
        child: current.subject(),
        issuer: current.issuer(),
        fault: LinkFault::PathTooLong,
    })
}

/// Splits a PEM bundle into DER certificates; lines outside the armour are comments.
pub(super) fn pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        match (line, body.as_mut()) {
            ("-----BEGIN CERTIFICATE-----", None) => body = Some(String::new()),
            ("-----END CERTIFICATE-----", Some(b)) => {
                let der = data_encoding::BASE64
                    .decode(b.as_bytes())
                    .map_err(|e| format!("bad base64 in PEM: {e}"))?;
                out.push(der);
                body = None;
            }
            (l, Some(b)) => b.push_str(l),
            (l, None) if l.starts_with("-----") => return Err(format!("unexpected PEM line {l}")),
            _ => {}
        }
    }
    if body.is_some() {
        return Err("unterminated PEM certificate".into());
    }
    Ok(out)
}
