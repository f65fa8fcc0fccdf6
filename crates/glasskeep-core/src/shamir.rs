//! t-of-n share sets: the secret is encrypted once under a random 32-byte data key
//! (ChaCha20-Poly1305), and the data key — never the secret itself — is split t-of-n
//! over GF(256) with `vsss-rs` (constant-time arithmetic, uniform coefficients).
//!
//! Why split a key and not the secret: every share is then exactly 32 bytes whatever the
//! secret's size, the payload AEAD authenticates the reconstruction (a wrong share can
//! never produce a plausible wrong secret), and the payload can be printed once per
//! envelope without weakening anything.
//!
//! Byte formats: docs/FORMAT.md, sections "Payload" and "Share record".

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload as AeadPayload};
use chacha20poly1305::ChaCha20Poly1305;
use rand::rand_core::{CryptoRng, UnwrapErr};
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;
use vsss_rs::Gf256;
use zeroize::Zeroizing;

use crate::cbor::{CborError, Decoder, Encoder};
use crate::secret::{SecretBytes, MAX_SECRET_LEN};

/// Format version of the payload and share records.
pub const FORMAT_VERSION: u64 = 1;
/// Domain label of the payload AEAD's associated data.
pub const PAYLOAD_AAD_LABEL: &[u8] = b"glasskeep/v1/payload\0";
/// Domain label of the payload digest that share records and the log carry.
pub const PAYLOAD_DIGEST_LABEL: &[u8] = b"glasskeep/v1/payload-digest\0";
/// Longest label, in bytes (it is printed on every envelope).
pub const MAX_LABEL_LEN: usize = 128;
/// Most share subsets tried when looking for the bad share among more than t.
const MAX_SUBSETS_TRIED: usize = 20_000;

#[cfg(test)]
thread_local! {
    /// How many t-subsets the last [`combine`] of more than t shares on this thread
    /// interpolated: the tests count the search's work.
    static SUBSETS_TRIED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// A share set's random 16-byte identifier; every envelope, share record and log entry
/// of the set carries it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetId(pub [u8; 16]);

impl SetId {
    /// A fresh random id from the operating system.
    pub fn random() -> Result<Self, SplitError> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|_| SplitError::Randomness)?;
        Ok(SetId(b))
    }

    /// Lowercase hex, as printed on envelopes and in the log transcript.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Debug for SetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SetId({})", self.to_hex())
    }
}

impl fmt::Display for SetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The encrypted secret, identical on every envelope of a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The set this payload belongs to.
    pub set_id: SetId,
    /// The human label ("aws-root", "hsm-wrap-key").
    pub label: String,
    /// Shares needed.
    pub threshold: u8,
    /// Shares made.
    pub count: u8,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

/// One custodian's share of the data key. Its value never prints.
pub struct Share {
    /// The set this share belongs to.
    pub set_id: SetId,
    /// The share's x-coordinate, 1..=count.
    pub index: u8,
    /// Shares needed.
    pub threshold: u8,
    /// Shares made.
    pub count: u8,
    value: Zeroizing<[u8; KEY_LEN]>,
    /// Digest of the encoded payload this share opens (see [`Payload::digest`]).
    pub payload_digest: [u8; 32],
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("set_id", &self.set_id)
            .field("index", &self.index)
            .field("threshold", &self.threshold)
            .field("count", &self.count)
            .field("value", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// A freshly split secret: one payload and `count` shares (index i at position i-1).
#[derive(Debug)]
pub struct ShareSet {
    /// The encrypted secret.
    pub payload: Payload,
    /// The shares, in index order.
    pub shares: Vec<Share>,
}

/// Why a secret could not be split.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SplitError {
    /// t = 1 would let one custodian open the credential alone.
    #[error("threshold {threshold} is below 2: one custodian alone must never open a credential")]
    ThresholdBelowTwo {
        /// The threshold asked for.
        threshold: usize,
    },
    /// More shares needed than made: the set could never open.
    #[error(
        "threshold {threshold} is above the share count {count}: the set could never be opened"
    )]
    ThresholdAboveCount {
        /// The threshold asked for.
        threshold: usize,
        /// The count asked for.
        count: usize,
    },
    /// GF(256) has 255 non-zero x-coordinates.
    #[error("{count} shares asked for: at most 255 are possible")]
    CountAbove255 {
        /// The count asked for.
        count: usize,
    },
    /// Nothing to split.
    #[error("the secret is empty")]
    EmptySecret,
    /// Larger than glasskeep's limit.
    #[error("the secret is {len} bytes, above the {max}-byte limit")]
    SecretTooLong {
        /// The secret's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The label is empty, too long or holds control characters.
    #[error("the label must be 1 to {MAX_LABEL_LEN} bytes of printable text")]
    BadLabel,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: nothing was split")]
    Randomness,
}

/// Why shares did not give back the secret. No variant carries key or secret bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CombineError {
    /// Fewer shares than the threshold.
    #[error("{have} share(s) given, {need} needed: bring more custodians")]
    NotEnoughShares {
        /// Shares given.
        have: usize,
        /// The threshold.
        need: usize,
    },
    /// The same share was given twice.
    #[error("share {index} was given twice: each custodian's envelope counts once")]
    DuplicateIndex {
        /// The repeated index.
        index: u8,
    },
    /// Shares (or the payload) belong to different share sets.
    #[error("share {index} belongs to another share set ({found}, expected {expected}): use envelopes of one set only")]
    DifferentSets {
        /// The offending share's index.
        index: u8,
        /// The set of the first share / the payload.
        expected: SetId,
        /// The set found.
        found: SetId,
    },
    /// Shares agree on the set id but not on its parameters or payload.
    #[error("share {index} disagrees with the others on the set's parameters or payload: it was altered or comes from another sealing")]
    InconsistentShare {
        /// The offending share's index.
        index: u8,
    },
    /// A share's index is outside 1..=count.
    #[error("share index {index} is outside 1..={count}")]
    IndexOutOfRange {
        /// The index.
        index: u8,
        /// The set's count.
        count: u8,
    },
    /// The combined key does not authenticate the payload.
    #[error("the shares do not reconstruct this payload's key: at least one share is wrong or from another sealing")]
    ReconstructionFailed,
    /// With more than t shares, these did not fit the others.
    #[error("share(s) {} do not fit the others: set those envelopes aside and open with the rest", fmt_indices(.indices))]
    BadShares {
        /// Indices of the shares that are off the polynomial.
        indices: Vec<u8>,
    },
}

fn fmt_indices(i: &[u8]) -> String {
    i.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

/// Why a payload or share record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The bytes are not the strict CBOR the format requires.
    #[error("malformed record: {0}")]
    Cbor(#[from] CborError),
    /// A version this build does not know.
    #[error("record format version {found} is not supported (this glasskeep reads version {FORMAT_VERSION}): use the glasskeep release that wrote it")]
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
    /// Fields are individually valid but contradict each other.
    #[error("inconsistent record: {reason}")]
    Inconsistent {
        /// What does not fit.
        reason: &'static str,
    },
}

fn label_ok(label: &str) -> bool {
    !label.is_empty() && label.len() <= MAX_LABEL_LEN && !label.chars().any(char::is_control)
}

fn check_params(threshold: usize, count: usize) -> Result<(), SplitError> {
    if threshold < 2 {
        return Err(SplitError::ThresholdBelowTwo { threshold });
    }
    if count > 255 {
        return Err(SplitError::CountAbove255 { count });
    }
    if threshold > count {
        return Err(SplitError::ThresholdAboveCount { threshold, count });
    }
    Ok(())
}

fn aad(set_id: &SetId, label: &str, threshold: u8, count: u8) -> Vec<u8> {
    let mut a = Vec::with_capacity(PAYLOAD_AAD_LABEL.len() + 18 + label.len());
    a.extend_from_slice(PAYLOAD_AAD_LABEL);
    a.extend_from_slice(&set_id.0);
    a.push(threshold);
    a.push(count);
    a.extend_from_slice(label.as_bytes());
    a
}

/// Splits `secret` t-of-n with fresh OS randomness.
pub fn split(
    secret: &SecretBytes,
    label: &str,
    threshold: usize,
    count: usize,
) -> Result<ShareSet, SplitError> {
    let set_id = SetId::random()?;
    // SysRng reads getrandom directly; UnwrapErr turns a (never observed on Linux)
    // failure into a panic that carries no secret, rather than a weak coefficient.
    split_with_rng(
        secret,
        label,
        threshold,
        count,
        set_id,
        &mut UnwrapErr(SysRng),
    )
}

/// Splits with a caller-supplied generator: deterministic for known-answer vectors and
/// statistical tests. Production code calls [`split`].
pub fn split_with_rng<R: CryptoRng>(
    secret: &SecretBytes,
    label: &str,
    threshold: usize,
    count: usize,
    set_id: SetId,
    rng: &mut R,
) -> Result<ShareSet, SplitError> {
    check_params(threshold, count)?;
    if secret.is_empty() {
        return Err(SplitError::EmptySecret);
    }
    if secret.len() > MAX_SECRET_LEN {
        return Err(SplitError::SecretTooLong {
            len: secret.len(),
            max: MAX_SECRET_LEN,
        });
    }
    if !label_ok(label) {
        return Err(SplitError::BadLabel);
    }
    let (t, n) = (threshold as u8, count as u8);

    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    rng.fill_bytes(key.as_mut_slice());
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);

    let cipher = ChaCha20Poly1305::new((&*key).into());
    let ciphertext = cipher
        .encrypt(
            (&nonce).into(),
            AeadPayload {
                msg: secret.expose(),
                aad: &aad(&set_id, label, t, n),
            },
        )
        // Encryption fails only for messages longer than 2^38 bytes; ours are <= 64 KiB.
        .map_err(|_| SplitError::SecretTooLong {
            len: secret.len(),
            max: MAX_SECRET_LEN,
        })?;
    let payload = Payload {
        set_id,
        label: label.to_owned(),
        threshold: t,
        count: n,
        nonce,
        ciphertext,
    };
    let digest = payload.digest();

    let raw = Gf256::split_bytes(threshold, count, key.as_slice(), &mut *rng)
        .map_err(|_| SplitError::Randomness)?;
    let mut shares = Vec::with_capacity(count);
    for (i, mut r) in raw.into_iter().enumerate() {
        let r_z = Zeroizing::new(std::mem::take(&mut r));
        let mut value = Zeroizing::new([0u8; KEY_LEN]);
        value.copy_from_slice(&r_z[1..]);
        // vsss-rs numbers participants 1..=n in order; the envelope index is the
        // x-coordinate, so the two must agree.
        debug_assert_eq!(usize::from(r_z[0]), i + 1);
        shares.push(Share {
            set_id,
            index: r_z[0],
            threshold: t,
            count: n,
            value,
            payload_digest: digest,
        });
    }
    Ok(ShareSet { payload, shares })
}

/// Reconstructs the secret from at least `threshold` shares of one set and its payload.
///
/// With exactly t shares a wrong share gives [`CombineError::ReconstructionFailed`].
/// With more than t, the shares that do not lie on the same polynomial as the others
/// are named ([`CombineError::BadShares`]), and nothing is returned: an envelope that
/// does not fit is evidence of tampering and must be looked at before the secret is.
pub fn combine(shares: &[&Share], payload: &Payload) -> Result<SecretBytes, CombineError> {
    let first = shares.first().ok_or(CombineError::NotEnoughShares {
        have: 0,
        need: usize::from(payload.threshold),
    })?;
    let digest = payload.digest();
    let mut seen = [false; 256];
    for s in shares {
        if s.set_id != payload.set_id {
            return Err(CombineError::DifferentSets {
                index: s.index,
                expected: payload.set_id,
                found: s.set_id,
            });
        }
        if s.threshold != payload.threshold
            || s.count != payload.count
            || s.threshold != first.threshold
            || !bool::from(s.payload_digest.ct_eq(&digest))
        {
            return Err(CombineError::InconsistentShare { index: s.index });
        }
        if s.index == 0 || s.index > s.count {
            return Err(CombineError::IndexOutOfRange {
                index: s.index,
                count: s.count,
            });
        }
        if std::mem::replace(&mut seen[usize::from(s.index)], true) {
            return Err(CombineError::DuplicateIndex { index: s.index });
        }
    }
    let t = usize::from(payload.threshold);
    if shares.len() < t {
        return Err(CombineError::NotEnoughShares {
            have: shares.len(),
            need: t,
        });
    }
    if shares.len() == t {
        let key = interpolate(shares)?;
        return payload.decrypt(&key);
    }

    // More than t: look for the t-subset that authenticates and that the most other
    // shares agree with (swapping a share in must give the same key). Two different
    // polynomials of degree t-1 share at most t-1 points, so once the agreement exceeds
    // (given + t - 1) / 2 no other candidate can match it and the search stops. Errors
    // are identifiable only while honest shares are such a majority (the Reed-Solomon
    // bound); below it, the best candidate is still the one reported.
    let unique_above = (shares.len() + t - 1) / 2;
    let mut subset: Vec<usize> = (0..t).collect();
    let mut best: Option<(usize, Vec<u8>, SecretBytes)> = None;
    let mut tried = 0usize;
    loop {
        let chosen: Vec<&Share> = subset.iter().map(|&i| shares[i]).collect();
        let key = interpolate(&chosen)?;
        if let Ok(secret) = payload.decrypt(&key) {
            let mut bad = Vec::new();
            for (j, s) in shares.iter().enumerate() {
                if subset.contains(&j) {
                    continue;
                }
                let mut swapped = chosen.clone();
                swapped[0] = s;
                let other = interpolate(&swapped)?;
                if !bool::from(other.ct_eq(&*key)) {
                    bad.push(s.index);
                }
            }
            let agree = shares.len() - bad.len();
            if best.as_ref().is_none_or(|(a, _, _)| agree > *a) {
                best = Some((agree, bad, secret));
            }
            if best.as_ref().is_some_and(|(a, _, _)| *a > unique_above) {
                break;
            }
        }
        tried += 1;
        if tried >= MAX_SUBSETS_TRIED || !next_combination(&mut subset, shares.len()) {
            break;
        }
    }
    #[cfg(test)]
    SUBSETS_TRIED.with(|c| c.set(tried));
    match best {
        None => Err(CombineError::ReconstructionFailed),
        Some((_, bad, secret)) if bad.is_empty() => Ok(secret),
        Some((_, mut bad, _)) => {
            bad.sort_unstable();
            Err(CombineError::BadShares { indices: bad })
        }
    }
}

/// Advances `c` (sorted indices into 0..n) to the next combination in lexicographic order.
fn next_combination(c: &mut [usize], n: usize) -> bool {
    let k = c.len();
    let mut i = k;
    while i > 0 {
        i -= 1;
        if c[i] < n - k + i {
            c[i] += 1;
            for j in i + 1..k {
                c[j] = c[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

fn interpolate(shares: &[&Share]) -> Result<Zeroizing<[u8; KEY_LEN]>, CombineError> {
    // vsss-rs takes `Vec<Vec<u8>>`; the wrapper wipes every copy when it goes.
    let raw: Zeroizing<Vec<Vec<u8>>> = Zeroizing::new(
        shares
            .iter()
            .map(|s| {
                let mut v = Vec::with_capacity(KEY_LEN + 1);
                v.push(s.index);
                v.extend_from_slice(s.value.as_slice());
                v
            })
            .collect(),
    );
    let out = Zeroizing::new(
        Gf256::combine_bytes(&*raw).map_err(|_| CombineError::ReconstructionFailed)?,
    );
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    if out.len() != KEY_LEN {
        return Err(CombineError::ReconstructionFailed);
    }
    key.copy_from_slice(&out);
    Ok(key)
}

impl Payload {
    /// SHA-256 over the domain label and the encoded payload: what share records and the
    /// log's seal entry name.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(PAYLOAD_DIGEST_LABEL);
        h.update(self.encode());
        h.finalize().into()
    }

    fn decrypt(&self, key: &[u8; KEY_LEN]) -> Result<SecretBytes, CombineError> {
        let cipher = ChaCha20Poly1305::new(key.into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    (&self.nonce).into(),
                    AeadPayload {
                        msg: &self.ciphertext,
                        aad: &aad(&self.set_id, &self.label, self.threshold, self.count),
                    },
                )
                .map_err(|_| CombineError::ReconstructionFailed)?,
        );
        Ok(SecretBytes::from_slice(&plain))
    }

    /// Length of the encrypted secret (not secret).
    pub fn secret_len(&self) -> usize {
        self.ciphertext.len() - TAG_LEN
    }

    /// The deterministic CBOR encoding (docs/FORMAT.md, "Payload").
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map(7)
            .key(0)
            .uint(FORMAT_VERSION)
            .key(1)
            .bytes(&self.set_id.0)
            .key(2)
            .text(&self.label)
            .key(3)
            .uint(u64::from(self.threshold))
            .key(4)
            .uint(u64::from(self.count))
            .key(5)
            .bytes(&self.nonce)
            .key(6)
            .bytes(&self.ciphertext);
        e.into_bytes()
    }

    /// Decodes a payload, refusing anything but the exact canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        let mut d = Decoder::new(bytes);
        d.map_len(7)?;
        d.key(0)?;
        let version = d.uint()?;
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion { found: version });
        }
        d.key(1)?;
        let set_id = SetId(d.bytes_fixed::<16>("set id")?);
        d.key(2)?;
        let label = d.text_in("label", 1, MAX_LABEL_LEN)?.to_owned();
        if !label_ok(&label) {
            return Err(FormatError::Inconsistent {
                reason: "the label holds control characters",
            });
        }
        d.key(3)?;
        let threshold = d.uint_in("threshold", 2, 255)? as u8;
        d.key(4)?;
        let count = d.uint_in("count", 2, 255)? as u8;
        if threshold > count {
            return Err(FormatError::Inconsistent {
                reason: "threshold above count",
            });
        }
        d.key(5)?;
        let nonce = d.bytes_fixed::<NONCE_LEN>("nonce")?;
        d.key(6)?;
        let ciphertext = d
            .bytes_in("ciphertext", TAG_LEN + 1, MAX_SECRET_LEN + TAG_LEN)?
            .to_vec();
        d.finish()?;
        Ok(Self {
            set_id,
            label,
            threshold,
            count,
            nonce,
            ciphertext,
        })
    }
}

impl Share {
    /// The deterministic CBOR encoding (docs/FORMAT.md, "Share record"), in a wiped
    /// buffer: it holds the share value.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut e = Encoder::new();
        e.map(7)
            .key(0)
            .uint(FORMAT_VERSION)
            .key(1)
            .bytes(&self.set_id.0)
            .key(2)
            .uint(u64::from(self.index))
            .key(3)
            .uint(u64::from(self.threshold))
            .key(4)
            .uint(u64::from(self.count))
            .key(5)
            .bytes(self.value.as_slice())
            .key(6)
            .bytes(&self.payload_digest);
        Zeroizing::new(e.into_bytes())
    }

    /// Decodes a share record, refusing anything but the exact canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, FormatError> {
        let mut d = Decoder::new(bytes);
        d.map_len(7)?;
        d.key(0)?;
        let version = d.uint()?;
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion { found: version });
        }
        d.key(1)?;
        let set_id = SetId(d.bytes_fixed::<16>("set id")?);
        d.key(2)?;
        let index = d.uint_in("index", 1, 255)? as u8;
        d.key(3)?;
        let threshold = d.uint_in("threshold", 2, 255)? as u8;
        d.key(4)?;
        let count = d.uint_in("count", 2, 255)? as u8;
        if threshold > count {
            return Err(FormatError::Inconsistent {
                reason: "threshold above count",
            });
        }
        if index > count {
            return Err(FormatError::Inconsistent {
                reason: "index above count",
            });
        }
        d.key(5)?;
        let value = Zeroizing::new(d.bytes_fixed::<KEY_LEN>("share value")?);
        d.key(6)?;
        let payload_digest = d.bytes_fixed::<32>("payload digest")?;
        d.finish()?;
        Ok(Self {
            set_id,
            index,
            threshold,
            count,
            value,
            payload_digest,
        })
    }
}

#[cfg(test)]
mod tests;
