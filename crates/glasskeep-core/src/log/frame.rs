//! Framing of `ceremony.log` (FORMAT.md, "Framing").
//!
//! frame = magic "GKL1" || u32 big-endian length L || L bytes of entry CBOR || the
//! 32-byte entry hash. The length lets a reader find the next frame without trusting
//! the CBOR; the trailing hash tells a frame damaged at rest (bytes changed) from a
//! frame cut short by a crash (bytes missing), and is the hash the next entry links to.

use crate::log::entry::{entry_hash, labelled_hash, Hash};
use crate::log::{hash_eq, CHECKPOINT_LABEL};

/// Frame magic: identifies a glasskeep log frame, format version 1.
pub const MAGIC: [u8; 4] = *b"GKL1";
/// Bytes before the CBOR: magic and length.
pub const HEADER_LEN: usize = 8;
/// Bytes after the CBOR: the entry hash.
pub const TRAILER_LEN: usize = 32;
/// Largest accepted entry: an enrollment with three certificates is under 16 KiB.
pub const MAX_ENTRY_LEN: usize = 1 << 20;

/// One intact frame.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Byte offset of the frame in the file.
    pub offset: u64,
    /// The entry's canonical CBOR.
    pub cbor: &'a [u8],
    /// The entry hash (computed, and equal to the trailer).
    pub hash: Hash,
}

/// Why the bytes at `offset` are not an intact frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameFault {
    /// No frame magic.
    BadMagic,
    /// A declared length larger than any entry.
    TooLong {
        /// The declared length.
        len: u64,
    },
    /// The file ends inside the frame: an append was cut short.
    Torn {
        /// Bytes the frame needs.
        need: u64,
        /// Bytes present.
        have: u64,
    },
    /// The trailer is not the entry hash of the CBOR.
    Checksum {
        /// The trailer matches the hash under another label (a writer used the wrong
        /// domain label), not random damage.
        other_label: bool,
    },
}

impl std::fmt::Display for FrameFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameFault::BadMagic => f.write_str("no frame magic"),
            FrameFault::TooLong { len } => write!(f, "frame length {len} is impossible"),
            FrameFault::Torn { need, have } => {
                write!(f, "incomplete frame ({have} of {need} bytes)")
            }
            FrameFault::Checksum { other_label: true } => {
                f.write_str("frame hash computed under another domain label")
            }
            FrameFault::Checksum { other_label: false } => {
                f.write_str("frame hash does not match its bytes")
            }
        }
    }
}

/// Frames the canonical bytes of an entry, appending to `out`.
pub fn write_frame(out: &mut Vec<u8>, cbor: &[u8], hash: &Hash) {
    out.extend_from_slice(&MAGIC);
    // Entries are bounded far below 4 GiB by construction (MAX_ENTRY_LEN is checked
    // when staging), so the length always fits.
    out.extend_from_slice(&(cbor.len() as u32).to_be_bytes());
    out.extend_from_slice(cbor);
    out.extend_from_slice(hash);
}

/// Labels a confused writer might have hashed with instead of the entry label.
fn hashed_with_other_label(cbor: &[u8], trailer: &Hash) -> bool {
    [
        &b""[..],
        CHECKPOINT_LABEL,
        // The checkpoint label of log format 1, retired with it.
        b"glasskeep/v1/checkpoint\0",
        b"glasskeep/v0/entry\0",
        b"glasskeep/v2/entry\0",
        b"glasskeep/v1/entry",
    ]
    .iter()
    .any(|l| hash_eq(&labelled_hash(l, cbor), trailer))
}

/// Iterates over the frames of a file image, stopping after the first fault.
pub struct Frames<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

/// The frames of `data`.
pub fn frames(data: &[u8]) -> Frames<'_> {
    Frames {
        data,
        pos: 0,
        done: false,
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, (u64, FrameFault)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos == self.data.len() {
            return None;
        }
        let offset = self.pos as u64;
        let rest = &self.data[self.pos..];
        let fail = |s: &mut Self, f| {
            s.done = true;
            Some(Err((offset, f)))
        };
        if rest.len() < HEADER_LEN {
            // A header cut short by a crash starts like one: say torn only then.
            let is_prefix = MAGIC.starts_with(&rest[..rest.len().min(4)]);
            let fault = if is_prefix {
                FrameFault::Torn {
                    need: HEADER_LEN as u64,
                    have: rest.len() as u64,
                }
            } else {
                FrameFault::BadMagic
            };
            return fail(self, fault);
        }
        if rest[..4] != MAGIC {
            return fail(self, FrameFault::BadMagic);
        }
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        if len > MAX_ENTRY_LEN {
            return fail(self, FrameFault::TooLong { len: len as u64 });
        }
        let need = HEADER_LEN + len + TRAILER_LEN;
        if rest.len() < need {
            let fault = FrameFault::Torn {
                need: need as u64,
                have: rest.len() as u64,
            };
            return fail(self, fault);
        }
        let cbor = &rest[HEADER_LEN..HEADER_LEN + len];
        let mut trailer = [0u8; 32];
        trailer.copy_from_slice(&rest[HEADER_LEN + len..need]);
        let hash = entry_hash(cbor);
        if !hash_eq(&hash, &trailer) {
            let other_label = hashed_with_other_label(cbor, &trailer);
            return fail(self, FrameFault::Checksum { other_label });
        }
        self.pos += need;
        Some(Ok(Frame { offset, cbor, hash }))
    }
}
