//! Why bytes are not a valid envelope record (see [`super::format`]).

use thiserror::Error;

use crate::cbor::CborError;

/// Why bytes are not a valid envelope record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The record ends early.
    #[error("envelope truncated at byte {offset} — the scan or file is incomplete; rescan every QR code or check the copy")]
    Truncated {
        /// Byte offset of the incomplete item.
        offset: usize,
    },
    /// An integer or length is not in its shortest form, or uses indefinite length.
    #[error("non-canonical encoding at byte {offset} — this envelope was not written by glasskeep or was altered")]
    NonCanonical {
        /// Byte offset of the item.
        offset: usize,
    },
    /// Bytes follow the record.
    #[error(
        "{count} byte(s) after the envelope record — the file was altered or two files were joined"
    )]
    TrailingBytes {
        /// How many bytes follow.
        count: usize,
    },
    /// An item has the wrong CBOR type.
    #[error("field {field} at byte {offset}: expected {expected}, found {found} — not a glasskeep envelope")]
    WrongType {
        /// The field (or "record" for the top level).
        field: &'static str,
        /// Byte offset of the item.
        offset: usize,
        /// What the format requires.
        expected: &'static str,
        /// What the input holds.
        found: &'static str,
    },
    /// The format version is not one this build reads.
    #[error("envelope format version {version} is not supported (this build reads versions 1 and 2) — use the glasskeep release that made it")]
    UnsupportedVersion {
        /// The version found.
        version: u64,
    },
    /// The seal slot is not a retired PIV slot (82..=95 hex, 130..=149).
    #[error("seal slot {slot} is not a retired PIV slot (hex 82..95) — not a glasskeep envelope")]
    BadSealSlot {
        /// The value found.
        slot: u64,
    },
    /// A map key this version does not define.
    #[error("unknown key {key} in the envelope record — refused rather than ignored")]
    UnknownKey {
        /// The key found.
        key: u64,
    },
    /// A required key is absent.
    #[error("envelope record lacks key {key} ({field})")]
    MissingKey {
        /// The missing key.
        key: u64,
        /// Its field name.
        field: &'static str,
    },
    /// Keys are repeated or not in ascending order.
    #[error("key {key} at byte {offset} is repeated or out of order — not a canonical envelope")]
    KeyOrder {
        /// The offending key.
        key: u64,
        /// Byte offset of the key.
        offset: usize,
    },
    /// A text field is not valid UTF-8.
    #[error("field {field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// A text field is empty, too long, or contains control characters.
    #[error("field {field} is empty, longer than {max} bytes or holds control characters")]
    BadText {
        /// The field.
        field: &'static str,
        /// The longest allowed, in bytes.
        max: usize,
    },
    /// A byte-string field has a length outside its range.
    #[error("field {field} is {len} bytes; allowed {min}..={max}")]
    BadLength {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// Shortest allowed.
        min: usize,
        /// Longest allowed.
        max: usize,
    },
    /// The share count is outside 2..=255.
    #[error("share count {count} is outside 2..=255")]
    CountOutOfRange {
        /// The count found.
        count: u64,
    },
    /// The threshold is outside 2..=count.
    #[error(
        "threshold {threshold} is outside 2..={count} — a set always needs at least two custodians"
    )]
    ThresholdOutOfRange {
        /// The threshold found.
        threshold: u64,
        /// The set's share count.
        count: u64,
    },
    /// The share index is outside 1..=count.
    #[error("share index {index} is outside 1..={count}")]
    IndexOutOfRange {
        /// The index found.
        index: u64,
        /// The set's share count.
        count: u64,
    },
    /// The YubiKey serial does not fit 32 bits.
    #[error("YubiKey serial {serial} does not fit 32 bits")]
    SerialOutOfRange {
        /// The serial found.
        serial: u64,
    },
}

impl EnvelopeError {
    pub(crate) fn from_cbor(e: CborError, field: &'static str) -> Self {
        match e {
            CborError::Truncated { offset } => EnvelopeError::Truncated { offset },
            CborError::NonCanonical { offset } => EnvelopeError::NonCanonical { offset },
            CborError::TrailingBytes { count } => EnvelopeError::TrailingBytes { count },
            CborError::UnexpectedType {
                offset,
                expected,
                found,
            } => EnvelopeError::WrongType {
                field,
                offset,
                expected,
                found,
            },
            CborError::InvalidUtf8 { .. } => EnvelopeError::InvalidUtf8 { field },
            // The remaining CborError cases come from helpers this module does not call
            // (fixed-length maps, range helpers, nesting); name the field regardless.
            CborError::UnexpectedKey { found, offset, .. } => {
                EnvelopeError::KeyOrder { key: found, offset }
            }
            _ => EnvelopeError::WrongType {
                field,
                offset: 0,
                expected: "a glasskeep envelope item",
                found: "something else",
            },
        }
    }
}
