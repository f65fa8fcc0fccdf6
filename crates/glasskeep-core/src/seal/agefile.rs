//! The writing half of the age v1 file format (age-encryption.org/v1), for exactly one
//! stanza.
//!
//! Why not `age::Encryptor`: it always adds a random "grease" stanza next to the real
//! ones, and glasskeep's sealed shares must hold exactly one piv-p256 stanza (so that a
//! reader can refuse anything else). Reading still goes through `age::Decryptor`, so
//! every file written here is checked by an independent parser in the tests.

use age_core::format::Stanza;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use data_encoding::BASE64_NOPAD;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// First line of every age v1 file.
pub(crate) const VERSION_LINE: &[u8] = b"age-encryption.org/v1\n";

/// Plaintext bytes per STREAM chunk (age v1).
const CHUNK_LEN: usize = 64 * 1024;

/// An age v1 file holding `plaintext`, with `stanza` (which wraps `file_key`) as its only
/// recipient stanza. `payload_nonce` is the 16-byte nonce the payload key is derived
/// with; callers draw it from the OS generator.
pub(crate) fn write(
    stanza: &Stanza,
    file_key: &[u8; 16],
    payload_nonce: &[u8; 16],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(256 + plaintext.len() + 16 * (plaintext.len() / CHUNK_LEN + 1));
    out.extend_from_slice(VERSION_LINE);
    out.extend_from_slice(b"-> ");
    out.extend_from_slice(stanza.tag.as_bytes());
    for arg in &stanza.args {
        out.push(b' ');
        out.extend_from_slice(arg.as_bytes());
    }
    out.push(b'\n');
    // The body is canonical base64 wrapped at 64 columns; the last line is always short
    // (empty if the encoding is a multiple of 64), which is how a reader knows it ended.
    let body = BASE64_NOPAD.encode(&stanza.body);
    let mut rest = body.as_bytes();
    while rest.len() >= 64 {
        out.extend_from_slice(&rest[..64]);
        out.push(b'\n');
        rest = &rest[64..];
    }
    out.extend_from_slice(rest);
    out.push(b'\n');
    // The MAC covers the header up to and including "---" (age v1 spec).
    out.extend_from_slice(b"---");
    let mac_key = hkdf(&[], file_key, b"header");
    // HKDF-Extract(salt, ikm) is defined as HMAC-SHA256(key = salt, message = ikm)
    // (RFC 5869 section 2.2), so this is the header HMAC without another dependency.
    let (mac, _) = Hkdf::<Sha256>::extract(Some(mac_key.as_ref()), &out);
    out.push(b' ');
    out.extend_from_slice(BASE64_NOPAD.encode(&mac).as_bytes());
    out.push(b'\n');

    out.extend_from_slice(payload_nonce);
    let payload_key = hkdf(payload_nonce, file_key, b"payload");
    write_stream(&payload_key, plaintext, &mut out);
    out
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is within HKDF-SHA256's output limit: cannot fail.
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, key.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

/// age's STREAM: 64 KiB chunks, nonce = 11-byte big-endian counter || last-chunk flag.
/// An empty plaintext is one empty final chunk; otherwise no chunk is empty.
fn write_stream(key: &[u8; 32], plaintext: &[u8], out: &mut Vec<u8>) {
    // A 32-byte slice is always a valid key.
    let aead = ChaCha20Poly1305::new_from_slice(key).expect("ChaCha20-Poly1305 keys are 32 bytes");
    let chunks: Vec<&[u8]> = if plaintext.is_empty() {
        vec![&[]]
    } else {
        plaintext.chunks(CHUNK_LEN).collect()
    };
    let last = chunks.len() - 1;
    let mut buf = Zeroizing::new(Vec::with_capacity(CHUNK_LEN));
    for (counter, chunk) in chunks.into_iter().enumerate() {
        let mut nonce = Nonce::default();
        nonce[3..11].copy_from_slice(&(counter as u64).to_be_bytes());
        nonce[11] = u8::from(counter == last);
        buf.clear();
        buf.extend_from_slice(chunk);
        // Chunks are 64 KiB, far under ChaCha20-Poly1305's 256 GiB limit: cannot fail.
        let tag = aead
            .encrypt_inout_detached(&nonce, &[], buf.as_mut_slice().into())
            .expect("a 64 KiB chunk is within ChaCha20-Poly1305 limits");
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
    }
}
