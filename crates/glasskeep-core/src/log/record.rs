//! The canonical CBOR encoding of a [`CustodianRecord`], as carried in enroll entries.
//!
//! The log holds the whole record, certificates included, so that an auditor years later
//! re-verifies every attestation chain from the file alone.

use crate::cbor::{CborError, Decoder, Encoder};
use crate::custodian::CustodianRecord;
use crate::piv::{self, PinPolicy, Slot, TouchPolicy, Version};

/// Upper bound of one attestation certificate: real ones are under 1 KiB; anything
/// larger is not a certificate a card produced.
pub const MAX_CERT_LEN: usize = 4096;

fn pin_code(p: PinPolicy) -> u64 {
    // The PIV policy byte values, so the log reads like the attestation extension.
    u64::from(piv::pin_policy_code(p))
}

fn touch_code(t: TouchPolicy) -> u64 {
    u64::from(piv::touch_policy_code(t))
}

fn pin_from(d: &mut Decoder<'_>, field: &'static str) -> Result<PinPolicy, CborError> {
    let off = d.position();
    let code = d.uint_in(field, 1, 3)? as u8;
    piv::pin_policy_from_code(code).ok_or(CborError::OutOfRange { offset: off, field })
}

fn touch_from(d: &mut Decoder<'_>, field: &'static str) -> Result<TouchPolicy, CborError> {
    let off = d.position();
    let code = d.uint_in(field, 1, 3)? as u8;
    piv::touch_policy_from_code(code).ok_or(CborError::OutOfRange { offset: off, field })
}

/// Whether a custodian name is acceptable: 1..=64 bytes, no control characters (names
/// are printed in transcripts and on envelopes, where a control character could hide
/// or fake text).
pub fn valid_name(name: &str) -> bool {
    crate::text::check("custodian name", name, 1, MAX_NAME_LEN).is_ok()
}

/// Longest custodian name, in bytes of UTF-8.
pub const MAX_NAME_LEN: usize = 64;

/// Writes the record (map of 13 keys, see FORMAT.md).
pub fn encode_record(e: &mut Encoder, r: &CustodianRecord) {
    e.map(13);
    e.key(1).text(&r.name);
    e.key(2).uint(u64::from(r.serial));
    e.key(3).array(3);
    e.uint(u64::from(r.firmware.major))
        .uint(u64::from(r.firmware.minor))
        .uint(u64::from(r.firmware.patch));
    e.key(4).uint(u64::from(r.seal_slot.id()));
    e.key(5).bytes(&r.seal_public_key);
    e.key(6).uint(pin_code(r.seal_pin_policy));
    e.key(7).uint(touch_code(r.seal_touch_policy));
    e.key(8).bytes(&r.sign_public_key);
    e.key(9).uint(pin_code(r.sign_pin_policy));
    e.key(10).uint(touch_code(r.sign_touch_policy));
    e.key(11).bytes(&r.device_attestation);
    e.key(12).bytes(&r.seal_attestation);
    e.key(13).bytes(&r.sign_attestation);
}

/// Reads a record written by [`encode_record`], refusing anything else.
pub fn decode_record(d: &mut Decoder<'_>) -> Result<CustodianRecord, CborError> {
    d.map_len(13)?;
    d.key(1)?;
    let off = d.position();
    let name = d.text()?;
    if !valid_name(name) {
        return Err(CborError::OutOfRange {
            offset: off,
            field: "custodian name",
        });
    }
    d.key(2)?;
    let serial = d.uint_in("serial", 0, u64::from(u32::MAX))? as u32;
    d.key(3)?;
    d.array_len(3)?;
    let firmware = Version {
        major: d.uint_in("firmware", 0, 255)? as u8,
        minor: d.uint_in("firmware", 0, 255)? as u8,
        patch: d.uint_in("firmware", 0, 255)? as u8,
    };
    d.key(4)?;
    let off = d.position();
    let seal_slot =
        Slot::retired(d.uint_in("seal slot", 0, 255)? as u8).ok_or(CborError::OutOfRange {
            offset: off,
            field: "seal slot",
        })?;
    d.key(5)?;
    let seal_public_key = d.bytes_fixed::<33>("seal public key")?;
    d.key(6)?;
    let seal_pin_policy = pin_from(d, "seal pin policy")?;
    d.key(7)?;
    let seal_touch_policy = touch_from(d, "seal touch policy")?;
    d.key(8)?;
    let sign_public_key = d.bytes_fixed::<33>("sign public key")?;
    d.key(9)?;
    let sign_pin_policy = pin_from(d, "sign pin policy")?;
    d.key(10)?;
    let sign_touch_policy = touch_from(d, "sign touch policy")?;
    d.key(11)?;
    let device_attestation = d.bytes_in("device attestation", 1, MAX_CERT_LEN)?.to_vec();
    d.key(12)?;
    let seal_attestation = d.bytes_in("seal attestation", 1, MAX_CERT_LEN)?.to_vec();
    d.key(13)?;
    let sign_attestation = d.bytes_in("sign attestation", 1, MAX_CERT_LEN)?.to_vec();
    Ok(CustodianRecord {
        name: name.to_owned(),
        serial,
        firmware,
        seal_slot,
        seal_public_key,
        seal_pin_policy,
        seal_touch_policy,
        sign_public_key,
        sign_pin_policy,
        sign_touch_policy,
        device_attestation,
        seal_attestation,
        sign_attestation,
    })
}
