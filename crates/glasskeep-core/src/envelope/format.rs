//! The envelope record: one custodian's sealed share plus the set's payload, as the
//! strict CBOR map specified in docs/FORMAT.md ("Envelope record").
//!
//! The encoded bytes are what the log's seal entry fingerprints, so decoding accepts
//! exactly one spelling per envelope: re-encoding a decoded envelope gives back the
//! bytes it came from, and anything else (unknown version, unknown or missing key,
//! trailing bytes, non-shortest integers, out-of-range counts) is refused with the
//! reason, never repaired.

use crate::cbor::{Decoder, Encoder};
use crate::piv::Slot;
use crate::shamir::SetId;
use sha2::{Digest, Sha256};

pub use super::error::EnvelopeError;

/// The envelope format version this build writes: version 2 adds the seal slot (key 13).
pub const FORMAT_VERSION: u64 = 2;
/// The first version, without the seal slot: still read, and written back unchanged
/// (an envelope read from version 1 bytes keeps its fingerprint).
pub const FORMAT_VERSION_1: u64 = 1;

/// Longest organisation or custodian name on an envelope, in bytes of UTF-8. Labels are
/// bounded by [`crate::shamir::MAX_LABEL_LEN`], the one label limit of every format
/// (the same number, checked by a test).
pub const MAX_TEXT_LEN: usize = 128;
/// Largest sealed share (a binary age file with one `piv-p256` stanza is ~300 bytes;
/// the slack covers larger share records without letting a file claim megabytes).
pub const MAX_SEALED_SHARE_LEN: usize = 4096;
/// Largest payload ciphertext record: a 64 KiB secret plus nonce, tag and header.
pub const MAX_PAYLOAD_LEN: usize = 64 * 1024 + 1024;

/// Bytes of a shortest-form CBOR head whose argument is `n`.
const fn cbor_head_len(n: u64) -> usize {
    match n {
        0..=23 => 1,
        24..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Longest encoded envelope record: every field at its largest (map head, fourteen
/// one-byte keys, then each value with its head). The QR and text decoders derive
/// their part and line limits from it, so a count claimed by a header or an END line
/// can be refused before any work proportional to it.
pub const MAX_ENCODED_LEN: usize = cbor_head_len(KEY_COUNT_TOTAL)
    + KEY_COUNT_TOTAL as usize
    + cbor_head_len(FORMAT_VERSION)
    + cbor_head_len(16)
    + 16
    + 3 * (cbor_head_len(MAX_TEXT_LEN as u64) + MAX_TEXT_LEN)
    + cbor_head_len(u32::MAX as u64)
    + 3 * cbor_head_len(u8::MAX as u64)
    + cbor_head_len(u64::MAX)
    + 1
    + cbor_head_len(MAX_SEALED_SHARE_LEN as u64)
    + MAX_SEALED_SHARE_LEN
    + cbor_head_len(MAX_PAYLOAD_LEN as u64)
    + MAX_PAYLOAD_LEN
    + cbor_head_len(u8::MAX as u64);

// Map keys, ascending from 0 as in every glasskeep record (key 0 is the version).
// docs/FORMAT.md names each one.
const KEY_VERSION: u64 = 0;
const KEY_SET_ID: u64 = 1;
const KEY_LABEL: u64 = 2;
const KEY_ORGANISATION: u64 = 3;
const KEY_CUSTODIAN: u64 = 4;
const KEY_SERIAL: u64 = 5;
const KEY_INDEX: u64 = 6;
const KEY_THRESHOLD: u64 = 7;
const KEY_COUNT: u64 = 8;
const KEY_CREATED: u64 = 9;
const KEY_TRAINING: u64 = 10;
const KEY_SEALED_SHARE: u64 = 11;
const KEY_PAYLOAD: u64 = 12;
/// Version 2 only.
const KEY_SEAL_SLOT: u64 = 13;
const KEY_COUNT_TOTAL: u64 = 14;

const FIELD_NAMES: [&str; KEY_COUNT_TOTAL as usize] = [
    "version",
    "set id",
    "label",
    "organisation",
    "custodian",
    "serial",
    "index",
    "threshold",
    "count",
    "created",
    "training",
    "sealed share",
    "payload",
    "seal slot",
];

fn field_name(key: u64) -> &'static str {
    usize::try_from(key)
        .ok()
        .and_then(|i| FIELD_NAMES.get(i))
        .copied()
        .unwrap_or("unknown")
}

/// One custodian's paper envelope, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The share set this envelope belongs to.
    pub set_id: SetId,
    /// The secret's label (what it opens), 1..=128 bytes, no control characters.
    pub label: String,
    /// The organisation holding the custody, 1..=128 bytes, no control characters.
    pub organisation: String,
    /// The custodian's name, 1..=128 bytes, no control characters.
    pub custodian: String,
    /// The serial number of the custodian's YubiKey.
    pub serial: u32,
    /// This share's index, 1..=count.
    pub index: u8,
    /// Shares needed to open the secret, 2..=count.
    pub threshold: u8,
    /// Shares in the set, threshold..=255.
    pub count: u8,
    /// Creation time, unix seconds (the sealing laptop's claim; the log is authoritative).
    pub created: u64,
    /// A training custody (simulated keys): every rendering says TRAINING.
    pub training: bool,
    /// The sealed share: a binary age file with one `piv-p256` stanza.
    pub sealed_share: Vec<u8>,
    /// The encoded payload ciphertext record, the same on every envelope of the set.
    pub payload: Vec<u8>,
    /// The retired PIV slot (82..=95) of the custodian's YubiKey that holds the seal
    /// key: what `age-plugin-yubikey --identity --serial N --slot S` needs. `None` only
    /// for an envelope read from version 1 bytes, which did not record it.
    pub seal_slot: Option<Slot>,
}

impl std::fmt::Debug for Envelope {
    // The share and payload are ciphertexts, but a Debug dump of 64 KiB helps nobody.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("set_id", &self.set_id)
            .field("label", &self.label)
            .field("organisation", &self.organisation)
            .field("custodian", &self.custodian)
            .field("serial", &self.serial)
            .field("index", &self.index)
            .field("threshold", &self.threshold)
            .field("count", &self.count)
            .field("created", &self.created)
            .field("training", &self.training)
            .field("seal_slot", &self.seal_slot)
            .field("sealed_share_len", &self.sealed_share.len())
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// SHA-256 of an encoded envelope: what the log records and the paper shows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of already-encoded envelope bytes.
    pub fn of_bytes(encoded: &[u8]) -> Self {
        Fingerprint(Sha256::digest(encoded).into())
    }

    /// All 32 bytes, lowercase hex.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    /// The first 8 bytes as four groups of four hex digits (`1a2b 3c4d 5e6f 7a8b`):
    /// what a custodian compares by eye against the log's transcript.
    pub fn short(&self) -> String {
        let h = crate::hex::encode(&self.0[..8]);
        let groups: Vec<&str> = (0..4).map(|i| &h[i * 4..i * 4 + 4]).collect();
        groups.join(" ")
    }

    /// The first 8 bytes, uppercase hex without spaces, as carried in QR part headers
    /// and the text fallback's END line.
    pub fn prefix_upper(&self) -> String {
        crate::hex::encode(&self.0[..8]).to_ascii_uppercase()
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

fn valid_text(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_TEXT_LEN && !s.chars().any(char::is_control)
}

impl Envelope {
    /// The canonical encoding (docs/FORMAT.md). Fails only if a field violates the
    /// ranges `decode` enforces, so nothing is ever written that cannot be read back.
    pub fn encode(&self) -> Result<Vec<u8>, EnvelopeError> {
        self.validate()?;
        let mut e = Encoder::new();
        match self.seal_slot {
            Some(_) => e
                .map(FIELD_NAMES.len())
                .key(KEY_VERSION)
                .uint(FORMAT_VERSION),
            None => e
                .map(FIELD_NAMES.len() - 1)
                .key(KEY_VERSION)
                .uint(FORMAT_VERSION_1),
        };
        e.key(KEY_SET_ID).bytes(&self.set_id.0);
        e.key(KEY_LABEL).text(&self.label);
        e.key(KEY_ORGANISATION).text(&self.organisation);
        e.key(KEY_CUSTODIAN).text(&self.custodian);
        e.key(KEY_SERIAL).uint(u64::from(self.serial));
        e.key(KEY_INDEX).uint(u64::from(self.index));
        e.key(KEY_THRESHOLD).uint(u64::from(self.threshold));
        e.key(KEY_COUNT).uint(u64::from(self.count));
        e.key(KEY_CREATED).uint(self.created);
        e.key(KEY_TRAINING).bool(self.training);
        e.key(KEY_SEALED_SHARE).bytes(&self.sealed_share);
        e.key(KEY_PAYLOAD).bytes(&self.payload);
        if let Some(slot) = self.seal_slot {
            e.key(KEY_SEAL_SLOT).uint(u64::from(slot.id()));
        }
        Ok(e.into_bytes())
    }

    /// The fingerprint of the canonical encoding.
    pub fn fingerprint(&self) -> Result<Fingerprint, EnvelopeError> {
        Ok(Fingerprint::of_bytes(&self.encode()?))
    }

    fn validate(&self) -> Result<(), EnvelopeError> {
        for (field, s) in [
            ("label", &self.label),
            ("organisation", &self.organisation),
            ("custodian", &self.custodian),
        ] {
            if !valid_text(s) {
                return Err(EnvelopeError::BadText {
                    field,
                    max: MAX_TEXT_LEN,
                });
            }
        }
        check_counts(
            u64::from(self.index),
            u64::from(self.threshold),
            u64::from(self.count),
        )?;
        check_len(
            "sealed share",
            self.sealed_share.len(),
            MAX_SEALED_SHARE_LEN,
        )?;
        check_len("payload", self.payload.len(), MAX_PAYLOAD_LEN)?;
        Ok(())
    }

    /// Decodes one envelope record, refusing every non-canonical or out-of-range input
    /// with the reason. Checks run in key order, so the first fault is the one named.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        let mut d = Decoder::new(bytes);
        let pairs = d.map().map_err(|e| EnvelopeError::from_cbor(e, "record"))?;
        let mut r = Reader {
            d,
            pairs_left: pairs,
            last_key: None,
        };

        r.next_key(KEY_VERSION)?;
        let version = r.uint(KEY_VERSION)?;
        if version != FORMAT_VERSION && version != FORMAT_VERSION_1 {
            return Err(EnvelopeError::UnsupportedVersion { version });
        }
        r.next_key(KEY_SET_ID)?;
        let set_id = r.bytes(KEY_SET_ID, 16, 16)?;
        let mut id = [0u8; 16];
        id.copy_from_slice(set_id);
        r.next_key(KEY_LABEL)?;
        let label = r.text(KEY_LABEL)?;
        r.next_key(KEY_ORGANISATION)?;
        let organisation = r.text(KEY_ORGANISATION)?;
        r.next_key(KEY_CUSTODIAN)?;
        let custodian = r.text(KEY_CUSTODIAN)?;
        r.next_key(KEY_SERIAL)?;
        let serial = r.uint(KEY_SERIAL)?;
        let serial =
            u32::try_from(serial).map_err(|_| EnvelopeError::SerialOutOfRange { serial })?;
        r.next_key(KEY_INDEX)?;
        let index = r.uint(KEY_INDEX)?;
        r.next_key(KEY_THRESHOLD)?;
        let threshold = r.uint(KEY_THRESHOLD)?;
        r.next_key(KEY_COUNT)?;
        let count = r.uint(KEY_COUNT)?;
        check_counts(index, threshold, count)?;
        r.next_key(KEY_CREATED)?;
        let created = r.uint(KEY_CREATED)?;
        r.next_key(KEY_TRAINING)?;
        let training =
            r.d.bool()
                .map_err(|e| EnvelopeError::from_cbor(e, field_name(KEY_TRAINING)))?;
        r.next_key(KEY_SEALED_SHARE)?;
        let sealed_share = r.bytes(KEY_SEALED_SHARE, 1, MAX_SEALED_SHARE_LEN)?.to_vec();
        r.next_key(KEY_PAYLOAD)?;
        let payload = r.bytes(KEY_PAYLOAD, 1, MAX_PAYLOAD_LEN)?.to_vec();
        let seal_slot = if version == FORMAT_VERSION {
            r.next_key(KEY_SEAL_SLOT)?;
            let id = r.uint(KEY_SEAL_SLOT)?;
            let slot = u8::try_from(id).ok().and_then(Slot::retired);
            Some(slot.ok_or(EnvelopeError::BadSealSlot { slot: id })?)
        } else {
            None
        };
        r.end()?;

        // check_counts proved each of these is <= 255.
        Ok(Envelope {
            set_id: SetId(id),
            label,
            organisation,
            custodian,
            serial,
            index: index as u8,
            threshold: threshold as u8,
            count: count as u8,
            created,
            training,
            sealed_share,
            payload,
            seal_slot,
        })
    }
}

fn check_len(field: &'static str, len: usize, max: usize) -> Result<(), EnvelopeError> {
    if len == 0 || len > max {
        return Err(EnvelopeError::BadLength {
            field,
            len,
            min: 1,
            max,
        });
    }
    Ok(())
}

fn check_counts(index: u64, threshold: u64, count: u64) -> Result<(), EnvelopeError> {
    if !(2..=255).contains(&count) {
        return Err(EnvelopeError::CountOutOfRange { count });
    }
    if !(2..=count).contains(&threshold) {
        return Err(EnvelopeError::ThresholdOutOfRange { threshold, count });
    }
    if !(1..=count).contains(&index) {
        return Err(EnvelopeError::IndexOutOfRange { index, count });
    }
    Ok(())
}

/// Walks the map's keys, telling an unknown key from a missing one from a repeat.
struct Reader<'a> {
    d: Decoder<'a>,
    pairs_left: u64,
    last_key: Option<u64>,
}

impl<'a> Reader<'a> {
    fn next_key(&mut self, expected: u64) -> Result<(), EnvelopeError> {
        if self.pairs_left == 0 {
            return Err(EnvelopeError::MissingKey {
                key: expected,
                field: field_name(expected),
            });
        }
        let offset = self.d.position();
        let key = self
            .d
            .uint()
            .map_err(|e| EnvelopeError::from_cbor(e, "map key"))?;
        if self.last_key.is_some_and(|last| key <= last) {
            return Err(EnvelopeError::KeyOrder { key, offset });
        }
        if key >= KEY_COUNT_TOTAL {
            return Err(EnvelopeError::UnknownKey { key });
        }
        if key != expected {
            return Err(EnvelopeError::MissingKey {
                key: expected,
                field: field_name(expected),
            });
        }
        self.last_key = Some(key);
        self.pairs_left -= 1;
        Ok(())
    }

    fn end(&mut self) -> Result<(), EnvelopeError> {
        if self.pairs_left > 0 {
            let offset = self.d.position();
            let key = self
                .d
                .uint()
                .map_err(|e| EnvelopeError::from_cbor(e, "map key"))?;
            if self.last_key.is_some_and(|last| key <= last) {
                return Err(EnvelopeError::KeyOrder { key, offset });
            }
            return Err(EnvelopeError::UnknownKey { key });
        }
        self.d
            .finish()
            .map_err(|e| EnvelopeError::from_cbor(e, "record"))
    }

    fn uint(&mut self, key: u64) -> Result<u64, EnvelopeError> {
        self.d
            .uint()
            .map_err(|e| EnvelopeError::from_cbor(e, field_name(key)))
    }

    fn bytes(&mut self, key: u64, min: usize, max: usize) -> Result<&'a [u8], EnvelopeError> {
        let field = field_name(key);
        let b = self
            .d
            .bytes()
            .map_err(|e| EnvelopeError::from_cbor(e, field))?;
        if b.len() < min || b.len() > max {
            return Err(EnvelopeError::BadLength {
                field,
                len: b.len(),
                min,
                max,
            });
        }
        Ok(b)
    }

    fn text(&mut self, key: u64) -> Result<String, EnvelopeError> {
        let field = field_name(key);
        let t = self
            .d
            .text()
            .map_err(|e| EnvelopeError::from_cbor(e, field))?;
        if !valid_text(t) {
            return Err(EnvelopeError::BadText {
                field,
                max: MAX_TEXT_LEN,
            });
        }
        Ok(t.to_owned())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Envelope {
        Envelope {
            set_id: SetId([7; 16]),
            label: "aws-root".into(),
            organisation: "Example Org".into(),
            custodian: "alice".into(),
            serial: 1001,
            index: 2,
            threshold: 2,
            count: 3,
            created: 1_790_000_000,
            training: false,
            sealed_share: vec![0xa5; 300],
            seal_slot: Some(crate::piv::Slot::RETIRED1),
            payload: vec![0x5a; 120],
        }
    }

    #[test]
    fn the_largest_envelope_is_exactly_max_encoded_len() {
        // The decoders' line and part limits rest on this number (docs/FORMAT.md
        // states 71 110): it must be what the largest valid envelope really encodes to.
        let largest = Envelope {
            label: "l".repeat(MAX_TEXT_LEN),
            organisation: "o".repeat(MAX_TEXT_LEN),
            custodian: "c".repeat(MAX_TEXT_LEN),
            serial: u32::MAX,
            index: u8::MAX,
            threshold: u8::MAX,
            count: u8::MAX,
            created: u64::MAX,
            training: true,
            sealed_share: vec![0xa5; MAX_SEALED_SHARE_LEN],
            seal_slot: Some(crate::piv::Slot::RETIRED1),
            payload: vec![0x5a; MAX_PAYLOAD_LEN],
            ..sample()
        };
        let bytes = largest.encode().unwrap();
        assert_eq!(bytes.len(), MAX_ENCODED_LEN);
        assert_eq!(MAX_ENCODED_LEN, 71_110);
        assert_eq!(Envelope::decode(&bytes).unwrap(), largest);
    }

    #[test]
    fn the_label_limit_is_the_one_of_every_format() {
        assert_eq!(MAX_TEXT_LEN, crate::shamir::MAX_LABEL_LEN);
    }

    #[test]
    fn encode_decode_encode_is_identity() {
        let e = sample();
        let b = e.encode().unwrap();
        let d = Envelope::decode(&b).unwrap();
        assert_eq!(d, e);
        assert_eq!(d.encode().unwrap(), b);
    }

    #[test]
    fn fingerprint_short_form_is_four_groups() {
        let fp = sample().fingerprint().unwrap();
        let s = fp.short();
        assert_eq!(s.len(), 19);
        assert_eq!(s.split(' ').count(), 4);
        assert!(fp.to_hex().starts_with(&s.replace(' ', "")));
    }

    #[test]
    fn encode_refuses_what_decode_would_refuse() {
        let mut e = sample();
        e.threshold = 1;
        assert!(matches!(
            e.encode(),
            Err(EnvelopeError::ThresholdOutOfRange {
                threshold: 1,
                count: 3
            })
        ));
        let mut e = sample();
        e.label = "a\nb".into();
        assert!(matches!(
            e.encode(),
            Err(EnvelopeError::BadText { field: "label", .. })
        ));
        let mut e = sample();
        e.index = 4;
        assert!(matches!(
            e.encode(),
            Err(EnvelopeError::IndexOutOfRange { index: 4, count: 3 })
        ));
        let mut e = sample();
        e.sealed_share.clear();
        assert_eq!(
            e.encode(),
            Err(EnvelopeError::BadLength {
                field: "sealed share",
                len: 0,
                min: 1,
                max: MAX_SEALED_SHARE_LEN
            })
        );
        let mut e = sample();
        e.payload = vec![1; MAX_PAYLOAD_LEN + 1];
        assert_eq!(
            e.encode(),
            Err(EnvelopeError::BadLength {
                field: "payload",
                len: MAX_PAYLOAD_LEN + 1,
                min: 1,
                max: MAX_PAYLOAD_LEN
            })
        );
    }

    /// One value of a hand-built record.
    #[derive(Clone)]
    enum V {
        U(u64),
        B(Vec<u8>),
        T(String),
        Bool(bool),
    }

    /// The fields of `e`, which has a seal slot, in canonical order, as `encode` writes
    /// them (version 2).
    fn fields(e: &Envelope) -> Vec<(u64, V)> {
        let mut f = vec![
            (KEY_VERSION, V::U(FORMAT_VERSION)),
            (KEY_SET_ID, V::B(e.set_id.0.to_vec())),
            (KEY_LABEL, V::T(e.label.clone())),
            (KEY_ORGANISATION, V::T(e.organisation.clone())),
            (KEY_CUSTODIAN, V::T(e.custodian.clone())),
            (KEY_SERIAL, V::U(u64::from(e.serial))),
            (KEY_INDEX, V::U(u64::from(e.index))),
            (KEY_THRESHOLD, V::U(u64::from(e.threshold))),
            (KEY_COUNT, V::U(u64::from(e.count))),
            (KEY_CREATED, V::U(e.created)),
            (KEY_TRAINING, V::Bool(e.training)),
            (KEY_SEALED_SHARE, V::B(e.sealed_share.clone())),
            (KEY_PAYLOAD, V::B(e.payload.clone())),
        ];
        if let Some(slot) = e.seal_slot {
            f.push((KEY_SEAL_SLOT, V::U(u64::from(slot.id()))));
        }
        f
    }

    /// A map of exactly these pairs, in this order.
    fn record(pairs: &[(u64, V)]) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map(pairs.len());
        for (k, v) in pairs {
            e.key(*k);
            match v {
                V::U(n) => e.uint(*n),
                V::B(b) => e.bytes(b),
                V::T(t) => e.text(t),
                V::Bool(b) => e.bool(*b),
            };
        }
        e.into_bytes()
    }

    /// The sample's record with field `key` set to `v`.
    fn with(key: u64, v: V) -> Vec<u8> {
        let mut f = fields(&sample());
        f.iter_mut().find(|(k, _)| *k == key).unwrap().1 = v;
        record(&f)
    }

    fn refused(bytes: &[u8]) -> EnvelopeError {
        Envelope::decode(bytes).expect_err("an invalid envelope was accepted")
    }

    #[test]
    fn the_hand_built_record_is_the_canonical_one() {
        assert_eq!(record(&fields(&sample())), sample().encode().unwrap());
    }

    #[test]
    fn a_version_1_envelope_is_read_without_a_slot_and_written_back_unchanged() {
        let mut f = fields(&sample());
        f.pop();
        f[0].1 = V::U(FORMAT_VERSION_1);
        let v1 = record(&f);
        let e = Envelope::decode(&v1).unwrap();
        assert_eq!(e.seal_slot, None);
        assert_eq!(e.custodian, "alice");
        assert_eq!(e.encode().unwrap(), v1);
        // Version 1 has no key 13, version 2 requires it.
        let mut f1 = fields(&sample());
        f1[0].1 = V::U(FORMAT_VERSION_1);
        assert_eq!(refused(&record(&f1)), EnvelopeError::UnknownKey { key: 13 });
        let mut f2 = fields(&sample());
        f2.pop();
        assert_eq!(
            refused(&record(&f2)),
            EnvelopeError::MissingKey {
                key: 13,
                field: "seal slot"
            }
        );
    }

    #[test]
    fn other_versions_are_refused() {
        for version in [0, 3, u64::MAX] {
            assert_eq!(
                refused(&with(KEY_VERSION, V::U(version))),
                EnvelopeError::UnsupportedVersion { version }
            );
        }
    }

    #[test]
    fn the_seal_slot_must_be_a_retired_slot() {
        for ok in [0x82, 0x95] {
            let e = Envelope::decode(&with(KEY_SEAL_SLOT, V::U(ok))).unwrap();
            assert_eq!(e.seal_slot.map(Slot::id), Some(ok as u8));
        }
        for slot in [0x81, 0x96, 0x9c, 0x182] {
            assert_eq!(
                refused(&with(KEY_SEAL_SLOT, V::U(slot))),
                EnvelopeError::BadSealSlot { slot }
            );
        }
    }

    #[test]
    fn the_serial_must_fit_32_bits() {
        let max = u64::from(u32::MAX);
        assert_eq!(
            Envelope::decode(&with(KEY_SERIAL, V::U(max)))
                .unwrap()
                .serial,
            u32::MAX
        );
        assert_eq!(
            refused(&with(KEY_SERIAL, V::U(max + 1))),
            EnvelopeError::SerialOutOfRange { serial: max + 1 }
        );
    }

    #[test]
    fn keys_must_all_be_present_once_in_order_and_known() {
        let f = fields(&sample());
        // A missing key is named by the one expected.
        let mut missing = f.clone();
        missing.remove(3);
        assert_eq!(
            refused(&record(&missing)),
            EnvelopeError::MissingKey {
                key: 3,
                field: "organisation"
            }
        );
        // A map that ends early: its head says three pairs.
        assert_eq!(
            refused(&record(&f[..3])),
            EnvelopeError::MissingKey {
                key: 3,
                field: "organisation"
            }
        );
        // A repeated key, at the offset of the repeat.
        let mut repeated = f.clone();
        repeated.insert(3, f[2].clone());
        let bytes = record(&repeated);
        let offset = record(&f[..3]).len();
        assert_eq!(refused(&bytes), EnvelopeError::KeyOrder { key: 2, offset });
        // Two keys swapped.
        let mut swapped = f.clone();
        swapped.swap(3, 4);
        assert_eq!(
            refused(&record(&swapped)),
            EnvelopeError::MissingKey {
                key: 3,
                field: "organisation"
            }
        );
        // An unknown key in the middle, and one after the last.
        let mut middle = f.clone();
        middle.insert(3, (99, V::U(0)));
        assert_eq!(
            refused(&record(&middle)),
            EnvelopeError::UnknownKey { key: 99 }
        );
        let mut extra = f.clone();
        extra.push((KEY_COUNT_TOTAL, V::U(0)));
        assert_eq!(
            refused(&record(&extra)),
            EnvelopeError::UnknownKey { key: 14 }
        );
        // A repeat after the last key is out of order, not unknown.
        let mut again = f.clone();
        again.push((KEY_SEAL_SLOT, V::U(0x82)));
        // The map head stays one byte (14 -> 15 pairs): the repeat starts where the
        // canonical record ends.
        assert_eq!(
            refused(&record(&again)),
            EnvelopeError::KeyOrder {
                key: 13,
                offset: record(&f).len()
            }
        );
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut b = sample().encode().unwrap();
        b.extend_from_slice(&[0, 0]);
        assert_eq!(refused(&b), EnvelopeError::TrailingBytes { count: 2 });
    }

    #[test]
    fn byte_fields_are_held_to_their_lengths() {
        for len in [15, 17] {
            assert_eq!(
                refused(&with(KEY_SET_ID, V::B(vec![7; len]))),
                EnvelopeError::BadLength {
                    field: "set id",
                    len,
                    min: 16,
                    max: 16
                }
            );
        }
        for (key, field, max) in [
            (KEY_SEALED_SHARE, "sealed share", MAX_SEALED_SHARE_LEN),
            (KEY_PAYLOAD, "payload", MAX_PAYLOAD_LEN),
        ] {
            for len in [0, max + 1] {
                assert_eq!(
                    refused(&with(key, V::B(vec![1; len]))),
                    EnvelopeError::BadLength {
                        field,
                        len,
                        min: 1,
                        max
                    }
                );
            }
            for len in [1, max] {
                Envelope::decode(&with(key, V::B(vec![1; len]))).unwrap();
            }
        }
    }

    #[test]
    fn text_fields_are_held_to_their_rules() {
        for (key, field) in [
            (KEY_LABEL, "label"),
            (KEY_ORGANISATION, "organisation"),
            (KEY_CUSTODIAN, "custodian"),
        ] {
            for t in [
                String::new(),
                "x".repeat(MAX_TEXT_LEN + 1),
                "a\u{7}b".into(),
            ] {
                assert_eq!(
                    refused(&with(key, V::T(t))),
                    EnvelopeError::BadText {
                        field,
                        max: MAX_TEXT_LEN
                    }
                );
            }
            let longest = "é".repeat(MAX_TEXT_LEN / 2);
            assert_eq!(
                Envelope::decode(&with(key, V::T(longest.clone())))
                    .unwrap()
                    .encode()
                    .unwrap(),
                with(key, V::T(longest))
            );
        }
    }

    #[test]
    fn counts_are_held_to_their_ranges() {
        let counts = |index: u64, threshold: u64, count: u64| {
            let mut f = fields(&sample());
            f[6].1 = V::U(index);
            f[7].1 = V::U(threshold);
            f[8].1 = V::U(count);
            Envelope::decode(&record(&f))
        };
        for (i, t, c) in [(1, 2, 2), (2, 2, 2), (255, 255, 255), (1, 2, 255)] {
            let e = counts(i, t, c).unwrap();
            assert_eq!(
                (
                    u64::from(e.index),
                    u64::from(e.threshold),
                    u64::from(e.count)
                ),
                (i, t, c)
            );
        }
        for count in [0, 1, 256] {
            assert_eq!(
                counts(1, 2, count).unwrap_err(),
                EnvelopeError::CountOutOfRange { count }
            );
        }
        for threshold in [0, 1, 4] {
            assert_eq!(
                counts(1, threshold, 3).unwrap_err(),
                EnvelopeError::ThresholdOutOfRange {
                    threshold,
                    count: 3
                }
            );
        }
        for index in [0, 4] {
            assert_eq!(
                counts(index, 2, 3).unwrap_err(),
                EnvelopeError::IndexOutOfRange { index, count: 3 }
            );
        }
    }

    #[test]
    fn the_training_flag_must_be_a_boolean() {
        assert!(matches!(
            refused(&with(KEY_TRAINING, V::U(1))),
            EnvelopeError::WrongType {
                field: "training",
                ..
            }
        ));
        assert!(
            Envelope::decode(&with(KEY_TRAINING, V::Bool(true)))
                .unwrap()
                .training
        );
    }

    #[test]
    fn fingerprints_are_written_the_ways_people_compare_them() {
        let fp = Fingerprint::of_bytes(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(fp.to_hex(), hex);
        assert_eq!(fp.to_string(), hex);
        assert_eq!(format!("{fp:?}"), format!("Fingerprint({hex})"));
        assert_eq!(fp.short(), "ba78 16bf 8f01 cfea");
        assert_eq!(fp.prefix_upper(), "BA7816BF8F01CFEA");
        assert_eq!(
            sample().fingerprint().unwrap(),
            Fingerprint::of_bytes(&sample().encode().unwrap())
        );
    }

    #[test]
    fn debug_output_gives_ciphertext_lengths_not_contents() {
        let d = format!("{:?}", sample());
        assert!(d.contains("custodian: \"alice\""), "{d}");
        assert!(d.contains("sealed_share_len: 300"), "{d}");
        assert!(d.contains("payload_len: 120"), "{d}");
        assert!(!d.contains("165"), "{d}");
    }
}
