//! One log entry, its canonical bytes and its hash (FORMAT.md, "Entries").

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::cbor::{CborError, Decoder, Encoder};
use crate::log::body::Body;
use crate::log::ENTRY_LABEL;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The entry format version (entry map key 1). Any other value is refused: a future
/// format is never guessed at.
pub const ENTRY_VERSION: u64 = 2;

/// The latest claimed time accepted, 9999-12-31T23:59:59Z: RFC 3339 has four-digit
/// years, and every transcript prints the time.
pub const MAX_TIME: u64 = 253_402_300_799;

/// The `prev` of genesis: there is no entry before it.
pub const ZERO_HASH: Hash = [0; 32];

/// One entry of the ceremony log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log, genesis is 0, each next one adds 1.
    pub seq: u64,
    /// The hash of the previous entry ([`ZERO_HASH`] for genesis).
    pub prev: Hash,
    /// The time the writer claimed, seconds since the Unix epoch (UTC). Claimed, not
    /// proved: the laptop's clock is not trusted, but it may not run backwards.
    pub time: u64,
    /// What happened.
    pub body: Body,
}

/// Why bytes are not an entry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Not the canonical CBOR of an entry.
    #[error("not a canonical entry: {0}")]
    Cbor(#[from] CborError),
    /// The entry declares a format version this glasskeep does not speak.
    #[error("entry format version {found} is not supported (this glasskeep reads version 2)")]
    UnknownVersion {
        /// The declared version.
        found: u64,
    },
    /// The entry's kind number is unknown.
    #[error("unknown entry kind {code}")]
    UnknownKind {
        /// The kind number.
        code: u64,
    },
}

impl Entry {
    /// The canonical CBOR bytes (FORMAT.md): the bytes that are framed and hashed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map(6).key(1).uint(ENTRY_VERSION).key(2).uint(self.seq);
        e.key(3).bytes(&self.prev).key(4).uint(self.time);
        e.key(5).uint(self.body.kind() as u64).key(6);
        self.body.encode(&mut e);
        e.into_bytes()
    }

    /// Parses canonical entry bytes; anything else (another spelling, trailing bytes,
    /// unknown version or kind) is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Entry, EntryError> {
        let mut d = Decoder::new(bytes);
        d.map_len(6)?;
        d.key(1)?;
        let version = d.uint()?;
        if version != ENTRY_VERSION {
            return Err(EntryError::UnknownVersion { found: version });
        }
        d.key(2)?;
        let seq = d.uint()?;
        d.key(3)?;
        let prev = d.bytes_fixed::<32>("prev")?;
        d.key(4)?;
        let time = d.uint_in("time", 0, MAX_TIME)?;
        d.key(5)?;
        let code = d.uint()?;
        d.key(6)?;
        let body = Body::decode(code, &mut d)?.ok_or(EntryError::UnknownKind { code })?;
        d.finish()?;
        Ok(Entry {
            seq,
            prev,
            time,
            body,
        })
    }

    /// This entry's hash.
    pub fn hash(&self) -> Hash {
        entry_hash(&self.to_bytes())
    }
}

/// SHA-256 over [`ENTRY_LABEL`] and an entry's canonical bytes.
pub fn entry_hash(canonical: &[u8]) -> Hash {
    labelled_hash(ENTRY_LABEL, canonical)
}

/// SHA-256 over a label and bytes.
pub(crate) fn labelled_hash(label: &[u8], bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(label);
    h.update(bytes);
    h.finalize().into()
}
