//! The `age1yubikey1…` recipient: a custodian's seal public key, and the sending half of
//! the piv-p256 stanza (byte compatible with age-plugin-yubikey; docs/FORMAT.md).

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret;
use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};
use thiserror::Error;
use zeroize::Zeroizing;

use super::stanza::{self, PivP256Stanza};

/// Human-readable part of the recipient string, fixed by age-plugin-yubikey.
pub const RECIPIENT_HRP: &str = "age1yubikey";

/// Length of a SEC1 compressed P-256 point.
pub const COMPRESSED_LEN: usize = 33;

/// First 4 bytes of SHA-256 of a recipient's compressed point: names the key a stanza
/// (or an identity stub) is for, without revealing anything secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecipientTag(pub [u8; 4]);

impl RecipientTag {
    /// The tag of a compressed point.
    pub fn of(compressed: &[u8; COMPRESSED_LEN]) -> Self {
        let digest = Sha256::digest(compressed);
        let mut tag = [0u8; 4];
        tag.copy_from_slice(&digest[..4]);
        RecipientTag(tag)
    }

    /// Lowercase hex, as printed in messages and `custodian show`.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl ConstantTimeEq for RecipientTag {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl fmt::Debug for RecipientTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecipientTag({})", self.to_hex())
    }
}

impl fmt::Display for RecipientTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Why a recipient (string or point bytes) was refused.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientError {
    /// Not a valid Bech32 string (bad characters, mixed case or bad checksum).
    #[error("not a valid age1yubikey1… recipient (Bech32 checksum or characters wrong): copy it again from `glasskeep custodian show`")]
    NotBech32,
    /// Bech32, but for another kind of key.
    #[error("expected a recipient starting with age1yubikey1, found one with prefix {found:?}")]
    WrongHrp {
        /// The human-readable part found.
        found: String,
    },
    /// Decodes, but is not the one canonical spelling (uppercase, non-zero padding bits).
    #[error("the recipient is not in canonical form (lowercase Bech32): copy it again from `glasskeep custodian show`")]
    NotCanonical,
    /// The key is not 33 bytes.
    #[error("the recipient holds {found} bytes, not a 33-byte compressed P-256 point")]
    WrongLength {
        /// The length found.
        found: usize,
    },
    /// 33 bytes that are not a compressed point on P-256.
    #[error("the recipient is not a valid compressed P-256 point: it was corrupted or is not a YubiKey seal key")]
    InvalidPoint,
}

/// A custodian's seal key: a P-256 point, printed as `age1yubikey1…`.
#[derive(Clone, PartialEq, Eq)]
pub struct PivP256Recipient {
    compressed: [u8; COMPRESSED_LEN],
    point: PublicKey,
}

impl PivP256Recipient {
    /// From a 33-byte SEC1 compressed point; refuses anything else (including the
    /// uncompressed form, so that one key has exactly one recipient string).
    pub fn from_compressed(bytes: &[u8]) -> Result<Self, RecipientError> {
        let compressed: [u8; COMPRESSED_LEN] = bytes
            .try_into()
            .map_err(|_| RecipientError::WrongLength { found: bytes.len() })?;
        if compressed[0] != 0x02 && compressed[0] != 0x03 {
            return Err(RecipientError::InvalidPoint);
        }
        let point =
            PublicKey::from_sec1_bytes(&compressed).map_err(|_| RecipientError::InvalidPoint)?;
        Ok(Self { compressed, point })
    }

    /// From any SEC1 encoding of the point; the card reports keys uncompressed (65 bytes).
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, RecipientError> {
        let point = PublicKey::from_sec1_bytes(bytes).map_err(|_| RecipientError::InvalidPoint)?;
        Ok(Self::from_point(point))
    }

    pub(crate) fn from_point(point: PublicKey) -> Self {
        Self {
            compressed: compress(&point),
            point,
        }
    }

    /// The 33-byte SEC1 compressed point.
    pub fn to_compressed(&self) -> [u8; COMPRESSED_LEN] {
        self.compressed
    }

    /// The tag that stanzas sealed to this key carry.
    pub fn tag(&self) -> RecipientTag {
        RecipientTag::of(&self.compressed)
    }

    /// Wraps `file_key` with a given ephemeral key. Separate from [`age::Recipient`] so the
    /// known-answer vectors can fix the ephemeral key; production always draws a fresh one.
    pub(crate) fn wrap_with_ephemeral(
        &self,
        file_key: &[u8; 16],
        ephemeral: &SecretKey,
    ) -> PivP256Stanza {
        let ephemeral_compressed = compress(&ephemeral.public_key());
        let shared = ephemeral.diffie_hellman(&self.point);
        let shared_x = Zeroizing::new(<[u8; 32]>::from(*shared.raw_secret_bytes()));
        let key = stanza::derive_wrap_key(&shared_x, &ephemeral_compressed, &self.compressed);
        PivP256Stanza {
            tag: self.tag(),
            ephemeral: ephemeral_compressed,
            body: stanza::wrap_file_key(&key, file_key),
        }
    }
}

pub(crate) fn compress(point: &PublicKey) -> [u8; COMPRESSED_LEN] {
    let encoded = point.to_sec1_point(true);
    let mut out = [0u8; COMPRESSED_LEN];
    // A compressed P-256 point is always 33 bytes, so the lengths match.
    out.copy_from_slice(encoded.as_bytes());
    out
}

/// A fresh ephemeral key from the OS generator (not a userspace RNG: this runs once per
/// seal, and the OS generator is the one thing the air-gapped laptop must get right).
pub(crate) fn fresh_ephemeral() -> Result<SecretKey, getrandom::Error> {
    loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut())?;
        // Rejection sampling: values that are zero or >= the group order (probability
        // about 2^-32) are redrawn instead of reduced, so the scalar stays uniform.
        if let Ok(key) = SecretKey::from_slice(bytes.as_ref()) {
            return Ok(key);
        }
    }
}

impl age::Recipient for PivP256Recipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let ephemeral = fresh_ephemeral().map_err(|e| {
            age::EncryptError::Io(std::io::Error::other(format!(
                "the operating system's random number generator failed: {e}"
            )))
        })?;
        let stanza = self.wrap_with_ephemeral(file_key.expose_secret(), &ephemeral);
        // No labels: a piv-p256 stanza may sit beside any other recipient in plain age;
        // glasskeep's own writer enforces "exactly one stanza" separately.
        Ok((vec![stanza.to_stanza()], HashSet::new()))
    }
}

impl fmt::Debug for PivP256Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PivP256Recipient({self})")
    }
}

impl fmt::Display for PivP256Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(RECIPIENT_HRP);
        // 12 + 1 + 53 + 6 characters: far under Bech32's 90-character limit, so encoding
        // cannot fail.
        let s = bech32::encode_lower::<Bech32>(hrp, &self.compressed)
            .expect("a 33-byte recipient fits in a Bech32 string");
        f.write_str(&s)
    }
}

impl FromStr for PivP256Recipient {
    type Err = RecipientError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let checked = CheckedHrpstring::new::<Bech32>(s).map_err(|_| RecipientError::NotBech32)?;
        let hrp = checked.hrp();
        if hrp.to_lowercase() != RECIPIENT_HRP {
            return Err(RecipientError::WrongHrp {
                found: hrp.to_lowercase(),
            });
        }
        let bytes: Vec<u8> = checked.byte_iter().collect();
        let recipient = Self::from_compressed(&bytes)?;
        // One key, one string: refuse uppercase and non-zero padding bits, which Bech32
        // itself tolerates, so that a recipient compares equal as text and as bytes.
        if recipient.to_string() != s {
            return Err(RecipientError::NotCanonical);
        }
        Ok(recipient)
    }
}
