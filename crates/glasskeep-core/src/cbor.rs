//! A strict, deterministic subset of CBOR (RFC 8949) shared by every glasskeep format.
//!
//! Every record glasskeep writes (share records, envelopes, log entries) is a CBOR map
//! whose keys are small unsigned integers in ascending order, holding unsigned integers,
//! byte strings, text strings, booleans, arrays and nested maps. That subset is all this
//! module speaks. The decoder refuses everything else — negative integers, floats, tags,
//! indefinite lengths, non-shortest heads, unsorted or unknown keys, trailing bytes — so
//! that for every accepted input, re-encoding gives back the exact same bytes (RFC 8949
//! §4.2.1 "core deterministic encoding"). Hashes and signatures are computed over those
//! bytes; a second accepted spelling of the same record would let two different files
//! carry the same meaning and different hashes, or the reverse.
//!
//! The decoder never allocates on behalf of the input: lengths are checked against the
//! bytes actually present before anything is read.

use thiserror::Error;

/// Why a byte string is not acceptable CBOR for glasskeep.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CborError {
    /// The input ends before the item that starts at `offset` is complete.
    #[error("truncated CBOR at byte {offset}")]
    Truncated {
        /// Byte offset of the incomplete item.
        offset: usize,
    },
    /// An item has a different major type than the format requires.
    #[error("at byte {offset}: expected {expected}, found {found}")]
    UnexpectedType {
        /// Byte offset of the item.
        offset: usize,
        /// What the format requires there.
        expected: &'static str,
        /// What the input holds.
        found: &'static str,
    },
    /// A length or integer is not written in its shortest form, or uses an
    /// indefinite length: both have other spellings, so both are refused.
    #[error("non-canonical CBOR encoding at byte {offset}")]
    NonCanonical {
        /// Byte offset of the item.
        offset: usize,
    },
    /// Bytes remain after the top-level item.
    #[error("{count} trailing byte(s) after the record")]
    TrailingBytes {
        /// How many bytes are left over.
        count: usize,
    },
    /// A map key is not the one the format expects at this point (unknown, missing,
    /// duplicated or out of order).
    #[error("at byte {offset}: expected map key {expected}, found key {found}")]
    UnexpectedKey {
        /// Byte offset of the key.
        offset: usize,
        /// The key the format expects.
        expected: u64,
        /// The key present.
        found: u64,
    },
    /// A container has a different number of items than the format requires.
    #[error("at byte {offset}: expected {expected} item(s), found {found}")]
    WrongLength {
        /// Byte offset of the container head.
        offset: usize,
        /// Items required.
        expected: u64,
        /// Items present.
        found: u64,
    },
    /// A text string is not valid UTF-8.
    #[error("invalid UTF-8 in text string at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the string.
        offset: usize,
    },
    /// A value is outside the range the format allows.
    #[error("at byte {offset}: value out of range for {field}")]
    OutOfRange {
        /// Byte offset of the value.
        offset: usize,
        /// The field's name.
        field: &'static str,
    },
    /// Containers nest deeper than any glasskeep format does.
    #[error("CBOR nested too deeply at byte {offset}")]
    TooDeep {
        /// Byte offset of the container.
        offset: usize,
    },
}

const MAJOR_UINT: u8 = 0;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_SIMPLE: u8 = 7;
const SIMPLE_FALSE: u8 = 20;
const SIMPLE_TRUE: u8 = 21;

fn major_name(major: u8) -> &'static str {
    match major {
        0 => "unsigned integer",
        1 => "negative integer",
        2 => "byte string",
        3 => "text string",
        4 => "array",
        5 => "map",
        6 => "tag",
        _ => "simple value or float",
    }
}

/// Writes the deterministic encoding. Callers emit map keys in ascending order; the
/// decoder enforces it on the way back.
#[derive(Debug, Default, Clone)]
pub struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    fn head(&mut self, major: u8, value: u64) {
        let m = major << 5;
        if value < 24 {
            self.buf.push(m | value as u8);
        } else if value <= u64::from(u8::MAX) {
            self.buf.push(m | 24);
            self.buf.push(value as u8);
        } else if value <= u64::from(u16::MAX) {
            self.buf.push(m | 25);
            self.buf.extend_from_slice(&(value as u16).to_be_bytes());
        } else if value <= u64::from(u32::MAX) {
            self.buf.push(m | 26);
            self.buf.extend_from_slice(&(value as u32).to_be_bytes());
        } else {
            self.buf.push(m | 27);
            self.buf.extend_from_slice(&value.to_be_bytes());
        }
    }

    /// An unsigned integer.
    pub fn uint(&mut self, value: u64) -> &mut Self {
        self.head(MAJOR_UINT, value);
        self
    }

    /// A byte string.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.head(MAJOR_BYTES, value.len() as u64);
        self.buf.extend_from_slice(value);
        self
    }

    /// A UTF-8 text string.
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.head(MAJOR_TEXT, value.len() as u64);
        self.buf.extend_from_slice(value.as_bytes());
        self
    }

    /// A boolean.
    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.buf
            .push((MAJOR_SIMPLE << 5) | if value { SIMPLE_TRUE } else { SIMPLE_FALSE });
        self
    }

    /// The head of an array of `len` items; the items follow.
    pub fn array(&mut self, len: usize) -> &mut Self {
        self.head(MAJOR_ARRAY, len as u64);
        self
    }

    /// The head of a map of `len` pairs; the pairs follow, keys ascending.
    pub fn map(&mut self, len: usize) -> &mut Self {
        self.head(MAJOR_MAP, len as u64);
        self
    }

    /// A map key (an unsigned integer); callers write keys in ascending order.
    pub fn key(&mut self, key: u64) -> &mut Self {
        self.uint(key)
    }

    /// Appends bytes that are already a complete deterministic CBOR item.
    pub fn raw(&mut self, item: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(item);
        self
    }

    /// Bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The finished encoding.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads the strict subset back. Each method consumes one item of the named type or
/// fails with the offset and the reason; nothing is skipped silently.
#[derive(Debug, Clone)]
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Current byte offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether all bytes have been consumed.
    pub fn is_empty(&self) -> bool {
        self.pos == self.data.len()
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), CborError> {
        if self.pos == self.data.len() {
            Ok(())
        } else {
            Err(CborError::TrailingBytes {
                count: self.data.len() - self.pos,
            })
        }
    }

    fn take(&mut self, n: usize, start: usize) -> Result<&'a [u8], CborError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(CborError::Truncated { offset: start })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// Major type of the next item, without consuming it.
    pub fn peek_major(&self) -> Result<u8, CborError> {
        self.data
            .get(self.pos)
            .map(|b| b >> 5)
            .ok_or(CborError::Truncated { offset: self.pos })
    }

    /// Reads a head of the expected major type and returns its argument.
    fn head(&mut self, expected: u8) -> Result<u64, CborError> {
        let start = self.pos;
        let first = self.take(1, start)?[0];
        let major = first >> 5;
        let info = first & 0x1f;
        if major != expected {
            // Booleans share major type 7 with floats; name what the format wanted.
            return Err(CborError::UnexpectedType {
                offset: start,
                expected: major_name(expected),
                found: major_name(major),
            });
        }
        let value = match info {
            0..=23 => u64::from(info),
            24 => {
                let v = u64::from(self.take(1, start)?[0]);
                if v < 24 {
                    return Err(CborError::NonCanonical { offset: start });
                }
                v
            }
            25 => {
                let b = self.take(2, start)?;
                let v = u64::from(u16::from_be_bytes([b[0], b[1]]));
                if v <= u64::from(u8::MAX) {
                    return Err(CborError::NonCanonical { offset: start });
                }
                v
            }
            26 => {
                let b = self.take(4, start)?;
                let v = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                if v <= u64::from(u16::MAX) {
                    return Err(CborError::NonCanonical { offset: start });
                }
                v
            }
            27 => {
                let b = self.take(8, start)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let v = u64::from_be_bytes(a);
                if v <= u64::from(u32::MAX) {
                    return Err(CborError::NonCanonical { offset: start });
                }
                v
            }
            // 28..=30 are reserved; 31 is an indefinite length or "break".
            _ => return Err(CborError::NonCanonical { offset: start }),
        };
        Ok(value)
    }

    /// An unsigned integer.
    pub fn uint(&mut self) -> Result<u64, CborError> {
        self.head(MAJOR_UINT)
    }

    /// An unsigned integer that must fit the named field's range.
    pub fn uint_in(&mut self, field: &'static str, min: u64, max: u64) -> Result<u64, CborError> {
        let offset = self.pos;
        let v = self.uint()?;
        if v < min || v > max {
            return Err(CborError::OutOfRange { offset, field });
        }
        Ok(v)
    }

    /// A byte string, borrowed from the input.
    pub fn bytes(&mut self) -> Result<&'a [u8], CborError> {
        let start = self.pos;
        let len = self.head(MAJOR_BYTES)?;
        let len = usize::try_from(len).map_err(|_| CborError::Truncated { offset: start })?;
        self.take(len, start)
    }

    /// A byte string of exactly `N` bytes.
    pub fn bytes_fixed<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], CborError> {
        let offset = self.pos;
        let b = self.bytes()?;
        b.try_into()
            .map_err(|_| CborError::OutOfRange { offset, field })
    }

    /// A byte string whose length lies within `min..=max`.
    pub fn bytes_in(
        &mut self,
        field: &'static str,
        min: usize,
        max: usize,
    ) -> Result<&'a [u8], CborError> {
        let offset = self.pos;
        let b = self.bytes()?;
        if b.len() < min || b.len() > max {
            return Err(CborError::OutOfRange { offset, field });
        }
        Ok(b)
    }

    /// A text string, borrowed from the input.
    pub fn text(&mut self) -> Result<&'a str, CborError> {
        let start = self.pos;
        let len = self.head(MAJOR_TEXT)?;
        let len = usize::try_from(len).map_err(|_| CborError::Truncated { offset: start })?;
        let b = self.take(len, start)?;
        std::str::from_utf8(b).map_err(|_| CborError::InvalidUtf8 { offset: start })
    }

    /// A text string whose length in bytes lies within `min..=max`.
    pub fn text_in(
        &mut self,
        field: &'static str,
        min: usize,
        max: usize,
    ) -> Result<&'a str, CborError> {
        let offset = self.pos;
        let t = self.text()?;
        if t.len() < min || t.len() > max {
            return Err(CborError::OutOfRange { offset, field });
        }
        Ok(t)
    }

    /// A boolean.
    pub fn bool(&mut self) -> Result<bool, CborError> {
        let start = self.pos;
        let first = self.take(1, start)?[0];
        match first {
            b if b == (MAJOR_SIMPLE << 5) | SIMPLE_FALSE => Ok(false),
            b if b == (MAJOR_SIMPLE << 5) | SIMPLE_TRUE => Ok(true),
            b => Err(CborError::UnexpectedType {
                offset: start,
                expected: "boolean",
                found: major_name(b >> 5),
            }),
        }
    }

    /// An array head; returns the number of items that follow.
    pub fn array(&mut self) -> Result<u64, CborError> {
        let start = self.pos;
        let n = self.head(MAJOR_ARRAY)?;
        // Every item takes at least one byte: a larger count cannot be honest.
        if n > (self.data.len() - self.pos) as u64 {
            return Err(CborError::Truncated { offset: start });
        }
        Ok(n)
    }

    /// An array head with exactly `len` items.
    pub fn array_len(&mut self, len: u64) -> Result<(), CborError> {
        let offset = self.pos;
        let n = self.array()?;
        if n != len {
            return Err(CborError::WrongLength {
                offset,
                expected: len,
                found: n,
            });
        }
        Ok(())
    }

    /// A map head; returns the number of pairs that follow.
    pub fn map(&mut self) -> Result<u64, CborError> {
        let start = self.pos;
        let n = self.head(MAJOR_MAP)?;
        if n.saturating_mul(2) > (self.data.len() - self.pos) as u64 {
            return Err(CborError::Truncated { offset: start });
        }
        Ok(n)
    }

    /// A map head with exactly `len` pairs.
    pub fn map_len(&mut self, len: u64) -> Result<(), CborError> {
        let offset = self.pos;
        let n = self.map()?;
        if n != len {
            return Err(CborError::WrongLength {
                offset,
                expected: len,
                found: n,
            });
        }
        Ok(())
    }

    /// The next map key, which must equal `expected`.
    pub fn key(&mut self, expected: u64) -> Result<(), CborError> {
        let offset = self.pos;
        let found = self.uint()?;
        if found != expected {
            return Err(CborError::UnexpectedKey {
                offset,
                expected,
                found,
            });
        }
        Ok(())
    }

    /// Consumes one complete item of the subset and returns its raw bytes. Used where a
    /// format embeds a nested record that another module decodes.
    pub fn raw_item(&mut self) -> Result<&'a [u8], CborError> {
        let start = self.pos;
        self.skip(0)?;
        Ok(&self.data[start..self.pos])
    }

    fn skip(&mut self, depth: u32) -> Result<(), CborError> {
        const MAX_DEPTH: u32 = 16;
        let start = self.pos;
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep { offset: start });
        }
        match self.peek_major()? {
            MAJOR_UINT => {
                self.uint()?;
            }
            MAJOR_BYTES => {
                self.bytes()?;
            }
            MAJOR_TEXT => {
                self.text()?;
            }
            MAJOR_ARRAY => {
                let n = self.array()?;
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
            }
            MAJOR_MAP => {
                let n = self.map()?;
                let mut last: Option<u64> = None;
                for _ in 0..n {
                    let koff = self.pos;
                    let k = self.uint()?;
                    if let Some(prev) = last {
                        if k <= prev {
                            return Err(CborError::UnexpectedKey {
                                offset: koff,
                                // A key after u64::MAX cannot ascend: say so, not overflow.
                                expected: prev.saturating_add(1),
                                found: k,
                            });
                        }
                    }
                    last = Some(k);
                    self.skip(depth + 1)?;
                }
            }
            MAJOR_SIMPLE => {
                self.bool()?;
            }
            other => {
                return Err(CborError::UnexpectedType {
                    offset: start,
                    expected: "an item of glasskeep's CBOR subset",
                    found: major_name(other),
                })
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
        let mut e = Encoder::new();
        f(&mut e);
        e.into_bytes()
    }

    #[test]
    fn uint_heads_are_shortest_and_round_trip() {
        for v in [
            0u64,
            23,
            24,
            255,
            256,
            65535,
            65536,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::MAX,
        ] {
            let b = enc(|e| {
                e.uint(v);
            });
            let mut d = Decoder::new(&b);
            assert_eq!(d.uint().unwrap(), v);
            d.finish().unwrap();
        }
        assert_eq!(
            enc(|e| {
                e.uint(23);
            }),
            [0x17]
        );
        assert_eq!(
            enc(|e| {
                e.uint(24);
            }),
            [0x18, 24]
        );
        assert_eq!(
            enc(|e| {
                e.uint(500);
            }),
            [0x19, 0x01, 0xf4]
        );
    }

    #[test]
    fn non_shortest_heads_are_refused() {
        for bad in [
            &[0x18, 0x17][..],
            &[0x19, 0x00, 0xff],
            &[0x1a, 0x00, 0x00, 0xff, 0xff],
            &[0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
            &[0x1c],
            &[0x1f],
        ] {
            assert!(matches!(
                Decoder::new(bad).uint(),
                Err(CborError::NonCanonical { offset: 0 })
            ));
        }
    }

    #[test]
    fn indefinite_lengths_are_refused() {
        assert!(matches!(
            Decoder::new(&[0x5f, 0x41, 0x00, 0xff]).bytes(),
            Err(CborError::NonCanonical { .. })
        ));
        assert!(matches!(
            Decoder::new(&[0x9f, 0xff]).array(),
            Err(CborError::NonCanonical { .. })
        ));
    }

    #[test]
    fn wrong_types_name_what_was_expected() {
        let b = enc(|e| {
            e.text("x");
        });
        assert_eq!(
            Decoder::new(&b).bytes(),
            Err(CborError::UnexpectedType {
                offset: 0,
                expected: "byte string",
                found: "text string"
            })
        );
        assert!(matches!(
            Decoder::new(&[0x20]).uint(),
            Err(CborError::UnexpectedType {
                found: "negative integer",
                ..
            })
        ));
        assert!(matches!(
            Decoder::new(&[0xf9, 0, 0]).bool(),
            Err(CborError::UnexpectedType { .. })
        ));
        assert!(matches!(
            Decoder::new(&[0xc0, 0x00]).raw_item(),
            Err(CborError::UnexpectedType { found: "tag", .. })
        ));
    }

    #[test]
    fn truncation_is_detected_before_reading() {
        assert!(matches!(
            Decoder::new(&[0x5a, 0xff, 0xff, 0xff, 0xff]).bytes(),
            Err(CborError::Truncated { offset: 0 })
        ));
        assert!(matches!(
            Decoder::new(&[0x9a, 0xff, 0xff, 0xff, 0xff]).array(),
            Err(CborError::Truncated { offset: 0 })
        ));
        assert!(matches!(
            Decoder::new(&[]).uint(),
            Err(CborError::Truncated { offset: 0 })
        ));
    }

    #[test]
    fn trailing_bytes_and_keys_are_checked() {
        let b = enc(|e| {
            e.map(2).key(1).uint(5).key(2).text("a");
        });
        let mut d = Decoder::new(&b);
        d.map_len(2).unwrap();
        d.key(1).unwrap();
        assert_eq!(d.uint().unwrap(), 5);
        assert!(matches!(
            d.key(3),
            Err(CborError::UnexpectedKey {
                expected: 3,
                found: 2,
                ..
            })
        ));

        let mut with_tail = b.clone();
        with_tail.push(0);
        let mut d = Decoder::new(&with_tail);
        d.raw_item().unwrap();
        assert_eq!(d.finish(), Err(CborError::TrailingBytes { count: 1 }));
    }

    #[test]
    fn raw_item_refuses_unsorted_maps_and_deep_nesting() {
        let b = enc(|e| {
            e.map(2).key(2).uint(0).key(1).uint(0);
        });
        assert!(matches!(
            Decoder::new(&b).raw_item(),
            Err(CborError::UnexpectedKey { .. })
        ));
        let deep = vec![0x81u8; 40];
        assert!(matches!(
            Decoder::new(&deep).raw_item(),
            Err(CborError::TooDeep { .. }) | Err(CborError::Truncated { .. })
        ));
        let mut deep_ok = vec![0x81u8; 40];
        deep_ok.push(0);
        assert!(matches!(
            Decoder::new(&deep_ok).raw_item(),
            Err(CborError::TooDeep { .. })
        ));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(matches!(
            Decoder::new(&[0x62, 0xff, 0xfe]).text(),
            Err(CborError::InvalidUtf8 { offset: 0 })
        ));
    }

    #[test]
    fn range_checks_name_the_field() {
        let b = enc(|e| {
            e.uint(300);
        });
        assert_eq!(
            Decoder::new(&b).uint_in("threshold", 2, 255),
            Err(CborError::OutOfRange {
                offset: 0,
                field: "threshold"
            })
        );
        let b = enc(|e| {
            e.bytes(&[1, 2, 3]);
        });
        assert!(Decoder::new(&b).bytes_fixed::<4>("id").is_err());
        assert_eq!(Decoder::new(&b).bytes_fixed::<3>("id").unwrap(), [1, 2, 3]);
    }
}
