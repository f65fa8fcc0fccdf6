//! The piv-p256 recipient stanza: its strict decoder, its encoder, and the key
//! derivation both halves share (docs/FORMAT.md, "Sealed share").

use age_core::format::Stanza;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use data_encoding::BASE64_NOPAD;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::PublicKey;
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

use super::recipient::{RecipientTag, COMPRESSED_LEN};

/// The stanza type name, fixed by age-plugin-yubikey.
pub const STANZA_TYPE: &str = "piv-p256";

/// HKDF info string of the wrap key.
const HKDF_INFO: &[u8] = b"piv-p256";

/// Length of the stanza body: the 16-byte file key plus the 16-byte Poly1305 tag.
pub const BODY_LEN: usize = 32;

/// Why a stanza is not a well-formed piv-p256 stanza. Checked in this order.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StanzaError {
    /// The stanza is of another type (X25519, scrypt, another plugin).
    #[error("the stanza is of type {found:?}, not piv-p256: this file was not sealed to a YubiKey by glasskeep or age-plugin-yubikey")]
    NotPivP256 {
        /// The type found (cut to 32 characters).
        found: String,
    },
    /// Not exactly two arguments (tag, ephemeral point).
    #[error("the piv-p256 stanza has {found} argument(s), not 2: the file is damaged")]
    ArgumentCount {
        /// The number found.
        found: usize,
    },
    /// The tag argument is not canonical unpadded base64.
    #[error("the piv-p256 stanza's tag is not canonical base64: the file is damaged")]
    TagEncoding,
    /// The tag is not 4 bytes.
    #[error("the piv-p256 stanza's tag is {found} bytes, not 4: the file is damaged")]
    TagLength {
        /// The length found.
        found: usize,
    },
    /// The ephemeral-point argument is not canonical unpadded base64.
    #[error("the piv-p256 stanza's ephemeral key is not canonical base64: the file is damaged")]
    EphemeralEncoding,
    /// The ephemeral point is the point at infinity (SEC1 `00`).
    #[error(
        "the piv-p256 stanza's ephemeral key is the identity point: the file is forged or damaged"
    )]
    EphemeralIdentity,
    /// The ephemeral point is in the 65-byte uncompressed form; the format has only the
    /// compressed one.
    #[error("the piv-p256 stanza's ephemeral key is uncompressed (65 bytes); the format requires the 33-byte compressed form: the file is forged or damaged")]
    EphemeralUncompressed,
    /// The ephemeral point has another length.
    #[error("the piv-p256 stanza's ephemeral key is {found} bytes, not 33: the file is damaged")]
    EphemeralLength {
        /// The length found.
        found: usize,
    },
    /// 33 bytes that are not a compressed point on P-256.
    #[error("the piv-p256 stanza's ephemeral key is not a point on P-256: the file is forged or damaged")]
    EphemeralInvalidPoint,
    /// The body is not 32 bytes.
    #[error("the piv-p256 stanza's body is {found} bytes, not 32: the file is damaged")]
    BodyLength {
        /// The length found.
        found: usize,
    },
}

/// A decoded piv-p256 stanza. Nothing in it is secret: the body is the wrapped file key.
/// Only [`PivP256Stanza::parse`] and the sealing code build one, so its ephemeral key is
/// always a valid point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PivP256Stanza {
    pub(crate) tag: RecipientTag,
    pub(crate) ephemeral: [u8; COMPRESSED_LEN],
    pub(crate) body: [u8; BODY_LEN],
}

impl PivP256Stanza {
    /// Tag of the recipient it was sealed to.
    pub fn tag(&self) -> RecipientTag {
        self.tag
    }

    /// The ephemeral public key, SEC1 compressed.
    pub fn ephemeral(&self) -> &[u8; COMPRESSED_LEN] {
        &self.ephemeral
    }

    /// The wrapped file key: ChaCha20-Poly1305 ciphertext and tag.
    pub fn body(&self) -> &[u8; BODY_LEN] {
        &self.body
    }

    /// Decodes a stanza, refusing every encoding but the one age-plugin-yubikey writes.
    pub fn parse(stanza: &Stanza) -> Result<Self, StanzaError> {
        if stanza.tag != STANZA_TYPE {
            return Err(StanzaError::NotPivP256 {
                found: stanza.tag.chars().take(32).collect(),
            });
        }
        let [tag_b64, ephemeral_b64] = stanza.args.as_slice() else {
            return Err(StanzaError::ArgumentCount {
                found: stanza.args.len(),
            });
        };
        // data-encoding's BASE64_NOPAD refuses padding and non-zero trailing bits, so
        // each value has exactly one accepted spelling (age's own rule for stanza bodies).
        let tag = BASE64_NOPAD
            .decode(tag_b64.as_bytes())
            .map_err(|_| StanzaError::TagEncoding)?;
        let tag: [u8; 4] = tag
            .as_slice()
            .try_into()
            .map_err(|_| StanzaError::TagLength { found: tag.len() })?;
        let ephemeral = BASE64_NOPAD
            .decode(ephemeral_b64.as_bytes())
            .map_err(|_| StanzaError::EphemeralEncoding)?;
        let ephemeral = check_ephemeral(&ephemeral)?;
        let body: [u8; BODY_LEN] =
            stanza
                .body
                .as_slice()
                .try_into()
                .map_err(|_| StanzaError::BodyLength {
                    found: stanza.body.len(),
                })?;
        Ok(Self {
            tag: RecipientTag(tag),
            ephemeral,
            body,
        })
    }

    /// Encodes the stanza as age-plugin-yubikey does.
    pub fn to_stanza(&self) -> Stanza {
        Stanza {
            tag: STANZA_TYPE.to_owned(),
            args: vec![
                BASE64_NOPAD.encode(&self.tag.0),
                BASE64_NOPAD.encode(&self.ephemeral),
            ],
            body: self.body.to_vec(),
        }
    }

    /// The ephemeral point, SEC1 uncompressed (65 bytes): the form the card's ECDH takes.
    pub fn ephemeral_uncompressed(&self) -> Vec<u8> {
        self.ephemeral_point()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }

    pub(crate) fn ephemeral_point(&self) -> PublicKey {
        // The fields are private and `parse` and the wrapping code only ever store a point
        // that decoded, so decoding it again cannot fail.
        PublicKey::from_sec1_bytes(&self.ephemeral).expect("checked when the stanza was built")
    }
}

fn check_ephemeral(bytes: &[u8]) -> Result<[u8; COMPRESSED_LEN], StanzaError> {
    match bytes.len() {
        1 if bytes[0] == 0x00 => return Err(StanzaError::EphemeralIdentity),
        65 => return Err(StanzaError::EphemeralUncompressed),
        COMPRESSED_LEN => {}
        found => return Err(StanzaError::EphemeralLength { found }),
    }
    // p256 also accepts uncompressed and hybrid encodings; only 02/03 are compressed.
    if bytes[0] != 0x02 && bytes[0] != 0x03 {
        return Err(StanzaError::EphemeralInvalidPoint);
    }
    PublicKey::from_sec1_bytes(bytes).map_err(|_| StanzaError::EphemeralInvalidPoint)?;
    let mut out = [0u8; COMPRESSED_LEN];
    out.copy_from_slice(bytes);
    Ok(out)
}

/// HKDF-SHA256(salt = ephemeral || recipient, ikm = shared x, info = "piv-p256").
pub(crate) fn derive_wrap_key(
    shared_x: &[u8; 32],
    ephemeral: &[u8; COMPRESSED_LEN],
    recipient: &[u8; COMPRESSED_LEN],
) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 2 * COMPRESSED_LEN];
    salt[..COMPRESSED_LEN].copy_from_slice(ephemeral);
    salt[COMPRESSED_LEN..].copy_from_slice(recipient);
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 255 * 32 byte output limit: cannot fail.
    Hkdf::<Sha256>::new(Some(&salt), shared_x)
        .expand(HKDF_INFO, key.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

fn cipher(key: &[u8; 32]) -> ChaCha20Poly1305 {
    // From the slice, not a by-value array, to leave no unwiped copy of the key behind;
    // a 32-byte slice is always a valid ChaCha20-Poly1305 key.
    ChaCha20Poly1305::new_from_slice(key).expect("ChaCha20-Poly1305 keys are 32 bytes")
}

/// ChaCha20-Poly1305 with an all-zero nonce: safe because every wrap key is used once
/// (a fresh ephemeral key per stanza).
pub(crate) fn wrap_file_key(key: &[u8; 32], file_key: &[u8; 16]) -> [u8; BODY_LEN] {
    let mut body = [0u8; BODY_LEN];
    body[..16].copy_from_slice(file_key);
    let aead = cipher(key);
    // ChaCha20-Poly1305 only fails on messages over 256 GiB; this one is 16 bytes.
    let tag = aead
        .encrypt_inout_detached(&Nonce::default(), &[], (&mut body[..16]).into())
        .expect("a 16-byte message is within ChaCha20-Poly1305 limits");
    body[16..].copy_from_slice(&tag);
    body
}

/// Opens a stanza body; `None` if the Poly1305 tag does not verify (wrong key or a
/// tampered body: the two are indistinguishable by design).
pub(crate) fn unwrap_file_key(
    key: &[u8; 32],
    body: &[u8; BODY_LEN],
) -> Option<Zeroizing<[u8; 16]>> {
    let mut file_key = Zeroizing::new([0u8; 16]);
    file_key.copy_from_slice(&body[..16]);
    let tag = Tag::try_from(&body[16..]).ok()?;
    let aead = cipher(key);
    aead.decrypt_inout_detached(&Nonce::default(), &[], (&mut file_key[..]).into(), &tag)
        .ok()?;
    Some(file_key)
}
