//! Attested enrollment: make a custodian's two keys on their YubiKey, prove with the
//! card's attestation that they were born there with the policies glasskeep needs, and
//! return the [`CustodianRecord`] the ceremony writes to the log.
//!
//! Order, chosen so that a refusal costs as little as possible: name and slot checks;
//! PIN; both slots free (unless overwriting); the device attestation certificate (f9)
//! against the custody's roots — before any key is generated, so a simulated card
//! offered to a production custody, or a card of unknown origin, is refused with its
//! slots untouched; then per key: generate, attest, verify the chain, serial, public key
//! and policy; then store the slot certificates; last, re-verify the record as an
//! auditor would. Nothing here uses a key, so enrollment needs the PIN but no touch.
//!
//! # Slot certificates
//!
//! Each slot gets its own *attestation certificate* as its certificate. age-plugin-
//! yubikey 0.5.1 needs a certificate that holds the slot's public key and has no
//! critical extension other than 1.3.6.1.4.1.41482.3.8; the attestation certificate
//! is exactly that (checked before writing, see [`EnrollError::PluginIncompatible`]),
//! and, as its subject is not `O=age-plugin-yubikey`, the plugin reads the policies
//! through ATTEST, i.e. from the card itself rather than from bytes anyone could write.
//! The alternative, a self-signed certificate like the plugin makes, would need the
//! key to sign — a PIN and a touch per key, during a ceremony — and would prove
//! nothing; the attestation certificate costs nothing and lets anyone holding the card
//! re-verify where its keys came from. The one difference users see: the plugin's plain
//! `--list` and `--identity` show only keys whose subject is `O=age-plugin-yubikey`, so
//! the seal key appears under `--list-all` and `--identity --slot N` (decryption is
//! unaffected); tests/pcscd_token_age.rs checks this against the real plugin.

use p256::elliptic_curve::sec1::ToSec1Point;
use thiserror::Error;

use super::{slot_occupied, Algorithm, PinPolicy, Slot, Token, TokenError, TouchPolicy};
use glasskeep_core::attestation::{self, AttestationError, AttestedKey, Trust};
use glasskeep_core::custodian::CustodianRecord;
use glasskeep_core::piv::KeyRole;
use glasskeep_core::secret::Pin;

/// What to enroll.
#[derive(Clone, Debug)]
pub struct EnrollOptions {
    /// The custodian's name (1..=64 bytes of UTF-8, no control characters).
    pub name: String,
    /// The retired slot for the seal key (default 0x82).
    pub seal_slot: Slot,
    /// Replace keys already in the seal slot or 9c. Destroys them: only for a card
    /// whose old keys no envelope depends on.
    pub overwrite: bool,
    /// Which roots the custody trusts.
    pub trust: Trust,
}

impl EnrollOptions {
    /// Defaults: seal key in 82, never overwrite.
    pub fn new(name: impl Into<String>, trust: Trust) -> Self {
        EnrollOptions {
            name: name.into(),
            seal_slot: Slot::RETIRED1,
            overwrite: false,
            trust,
        }
    }
}

/// Why an enrollment was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnrollError {
    /// The name is not usable.
    #[error("custodian name refused: {reason}")]
    BadName {
        /// Why.
        reason: &'static str,
    },
    /// The seal key must live in a retired slot (82..95), where age-plugin-yubikey
    /// looks for keys.
    #[error("slot {slot} is not a retired slot: choose one of 82..95 for the seal key")]
    SealSlotNotRetired {
        /// The slot asked for.
        slot: Slot,
    },
    /// The card has no device attestation certificate in f9.
    #[error("this YubiKey has no device attestation certificate (slot f9): it cannot prove where its keys come from, so it cannot be enrolled")]
    NoDeviceAttestation,
    /// A slot certificate that age-plugin-yubikey would refuse.
    #[error("the attestation certificate for slot {slot} has a critical extension {oid}, which age-plugin-yubikey refuses: this card cannot be used for recovery with standard tools")]
    PluginIncompatible {
        /// The slot.
        slot: Slot,
        /// The extension.
        oid: String,
    },
    /// A card operation failed (PIN, slot occupied, touch, management key...).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The attestation was refused (wrong root, broken chain, weak policy...).
    #[error(transparent)]
    Attestation(#[from] AttestationError),
}

/// The policy OID age-plugin-yubikey tolerates as critical.
const OID_YUBICO_POLICY: &str = "1.3.6.1.4.1.41482.3.8";

fn check_name(name: &str) -> Result<(), EnrollError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.len() > 64 {
        "it is longer than 64 bytes"
    } else if name.chars().any(char::is_control) {
        "it contains control characters"
    } else if name.trim() != name {
        "it starts or ends with white space"
    } else {
        return Ok(());
    };
    Err(EnrollError::BadName { reason })
}

/// Generates, attests and verifies one key; returns its public key and attested facts.
fn make_key(
    token: &mut dyn Token,
    role: KeyRole,
    slot: Slot,
    pin: PinPolicy,
    device: &[u8],
    opts: &EnrollOptions,
) -> Result<(Vec<u8>, Vec<u8>, AttestedKey), EnrollError> {
    let public = token.generate(
        slot,
        Algorithm::P256,
        pin,
        TouchPolicy::Always,
        opts.overwrite,
    )?;
    let cert = token.attest(slot)?;
    let key = attestation::verify_key_attestation(role, &cert, device, opts.trust)?;
    attestation::check_attested_key(role, &key, token.serial(), &public)?;
    if let Some(oid) = attestation::critical_extensions(&cert)
        .into_iter()
        .find(|o| o != OID_YUBICO_POLICY)
    {
        return Err(EnrollError::PluginIncompatible { slot, oid });
    }
    Ok((public, cert, key))
}

fn compressed(role: KeyRole, point: &[u8]) -> Result<[u8; 33], AttestationError> {
    // `make_key` already proved the point a valid P-256 key equal to the attested one;
    // the error is for the record's sake only.
    let pk = p256::PublicKey::from_sec1_bytes(point)
        .map_err(|_| AttestationError::KeyMismatch { role })?;
    let mut out = [0u8; 33];
    out.copy_from_slice(pk.to_sec1_point(true).as_bytes());
    Ok(out)
}

/// Enrolls the custodian whose YubiKey `token` is. Generates the seal key (PIN once,
/// touch always) and the sign key in 9c (PIN always, touch always), verifies both
/// attestations under `opts.trust`, stores each attestation certificate as its slot's
/// certificate, and returns the record for the log.
pub fn enroll(
    token: &mut dyn Token,
    pin: &Pin,
    opts: &EnrollOptions,
) -> Result<CustodianRecord, EnrollError> {
    check_name(&opts.name)?;
    if Slot::retired(opts.seal_slot.id()).is_none() {
        return Err(EnrollError::SealSlotNotRetired {
            slot: opts.seal_slot,
        });
    }
    token.verify_pin(pin)?;
    if !opts.overwrite {
        for slot in [opts.seal_slot, Slot::SIGNATURE] {
            if slot_occupied(token, slot)? {
                return Err(TokenError::SlotOccupied { slot }.into());
            }
        }
    }
    let device = token
        .read_certificate(Slot::ATTESTATION)?
        .ok_or(EnrollError::NoDeviceAttestation)?;
    attestation::verify_device_certificate(&device, opts.trust)?;

    let (seal_pub, seal_cert, seal) = make_key(
        token,
        KeyRole::Seal,
        opts.seal_slot,
        PinPolicy::Once,
        &device,
        opts,
    )?;
    let (sign_pub, sign_cert, sign) = make_key(
        token,
        KeyRole::Sign,
        Slot::SIGNATURE,
        PinPolicy::Always,
        &device,
        opts,
    )?;
    token.write_certificate(opts.seal_slot, &seal_cert)?;
    token.write_certificate(Slot::SIGNATURE, &sign_cert)?;

    let record = CustodianRecord {
        name: opts.name.clone(),
        serial: token.serial(),
        firmware: seal.firmware,
        seal_slot: opts.seal_slot,
        seal_public_key: compressed(KeyRole::Seal, &seal_pub)?,
        seal_pin_policy: seal.pin_policy,
        seal_touch_policy: seal.touch_policy,
        sign_public_key: compressed(KeyRole::Sign, &sign_pub)?,
        sign_pin_policy: sign.pin_policy,
        sign_touch_policy: sign.touch_policy,
        device_attestation: device,
        seal_attestation: seal_cert,
        sign_attestation: sign_cert,
    };
    // What auditors will run on the log entry; it must pass here first.
    attestation::verify_record(&record, opts.trust)?;
    Ok(record)
}

#[cfg(test)]
mod tests;
