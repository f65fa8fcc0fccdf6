//! Makes every envelope vector: valid records and each corruption the decoders must
//! refuse, QR part sets, typed text and Base45 strings.

use std::fmt::Write as _;

use glasskeep_core::cbor::Encoder;
use glasskeep_core::envelope::format::MAX_SEALED_SHARE_LEN;
use glasskeep_core::envelope::{qr, text};

#[derive(Clone)]
enum V {
    U(u64),
    B(Vec<u8>),
    T(String),
    RawText(Vec<u8>),
    Bool(bool),
    Raw(Vec<u8>),
}

fn fields() -> Vec<(u64, V)> {
    vec![
        (0, V::U(1)),
        (1, V::B((0..16).collect())),
        (2, V::T("aws-root".into())),
        (3, V::T("Example Org".into())),
        (4, V::T("alice".into())),
        (5, V::U(1001)),
        (6, V::U(2)),
        (7, V::U(2)),
        (8, V::U(3)),
        (9, V::U(1_795_000_000)),
        (10, V::Bool(false)),
        (11, V::B((0..200u32).map(|i| (i * 7 + 1) as u8).collect())),
        (12, V::B((0..150u32).map(|i| (i * 11 + 5) as u8).collect())),
    ]
}

fn encode(fields: &[(u64, V)]) -> Vec<u8> {
    encode_with_len(fields, fields.len())
}

fn encode_with_len(fields: &[(u64, V)], len: usize) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(len);
    for (k, v) in fields {
        e.key(*k);
        match v {
            V::U(u) => e.uint(*u),
            V::B(b) => e.bytes(b),
            V::T(t) => e.text(t),
            V::RawText(b) => {
                // A text string head over arbitrary bytes (invalid UTF-8 vectors).
                let mut t = Encoder::new();
                t.bytes(b);
                let mut raw = t.into_bytes();
                raw[0] = (raw[0] & 0x1f) | 0x60;
                e.raw(&raw)
            }
            V::Bool(b) => e.bool(*b),
            V::Raw(r) => e.raw(r),
        };
    }
    e.into_bytes()
}

fn with(k: u64, v: V) -> Vec<u8> {
    let f: Vec<(u64, V)> = fields()
        .into_iter()
        .map(|(key, old)| {
            if key == k {
                (key, v.clone())
            } else {
                (key, old)
            }
        })
        .collect();
    encode(&f)
}

fn without(k: u64) -> Vec<u8> {
    let f: Vec<(u64, V)> = fields().into_iter().filter(|(key, _)| *key != k).collect();
    encode(&f)
}

fn valid() -> Vec<u8> {
    encode(&fields())
}

fn big_valid() -> Vec<u8> {
    let mut f = fields();
    f[12].1 = V::B((0..2500u32).map(|i| (i * 13 + i / 256) as u8).collect());
    encode(&f)
}

pub struct Vector {
    pub name: &'static str,
    pub kind: &'static str,
    pub content: Vec<u8>,
    pub expected: &'static str,
}

fn hex(b: &[u8]) -> Vec<u8> {
    let mut s = String::new();
    for (i, chunk) in b.chunks(32).enumerate() {
        if i > 0 {
            s.push('\n');
        }
        for x in chunk {
            let _ = write!(s, "{x:02x}");
        }
    }
    s.push('\n');
    s.into_bytes()
}

fn lines(v: &[String]) -> Vec<u8> {
    let mut s = v.join("\n");
    s.push('\n');
    s.into_bytes()
}

pub fn generate() -> Vec<Vector> {
    let mut out = Vec::new();
    let mut env = |name, bytes: Vec<u8>, expected| {
        out.push(Vector {
            name,
            kind: "envelope",
            content: hex(&bytes),
            expected,
        })
    };
    let good = valid();
    let mut training = fields();
    training[10].1 = V::Bool(true);
    env("ok_minimal", good.clone(), "ok");
    env("ok_training", encode(&training), "ok");
    env("ok_large_payload", big_valid(), "ok");
    env("empty", vec![], "Truncated");
    env("truncated_head_only", good[..1].to_vec(), "Truncated");
    env(
        "truncated_in_payload",
        good[..good.len() - 10].to_vec(),
        "Truncated",
    );
    env("truncated_in_label", good[..24].to_vec(), "Truncated");
    env(
        "version_0",
        with(0, V::U(0)),
        "UnsupportedVersion { version: 0 }",
    );
    env(
        "version_3",
        with(0, V::U(3)),
        "UnsupportedVersion { version: 3 }",
    );
    // Version 2 adds the seal slot, key 13 (a retired PIV slot, 82..95 hex); the
    // records above are version 1, which has no key 13 and stays readable.
    let v2 = |slot: V| {
        let mut f = fields();
        f[0].1 = V::U(2);
        f.push((13, slot));
        encode(&f)
    };
    env("ok_v2_slot_82", v2(V::U(0x82)), "ok");
    env("ok_v2_slot_95", v2(V::U(0x95)), "ok");
    env(
        "v2_slot_9a_not_retired",
        v2(V::U(0x9a)),
        "BadSealSlot { slot: 154 }",
    );
    env("v2_slot_96", v2(V::U(0x96)), "BadSealSlot { slot: 150 }");
    env("v2_slot_81", v2(V::U(0x81)), "BadSealSlot { slot: 129 }");
    env("v2_slot_300", v2(V::U(300)), "BadSealSlot { slot: 300 }");
    env(
        "v2_slot_noncanonical",
        v2(V::Raw(vec![0x19, 0x00, 0x82])),
        "NonCanonical",
    );
    env("v2_slot_as_bytes", v2(V::B(vec![0x82])), "WrongType");
    env(
        "v2_without_seal_slot",
        with(0, V::U(2)),
        "MissingKey { key: 13",
    );
    let mut f = fields();
    f[0].1 = V::U(2);
    f.push((13, V::U(0x82)));
    f.push((14, V::U(0)));
    env("v2_unknown_key_14", encode(&f), "UnknownKey { key: 14 }");
    let mut t = good.clone();
    t.push(0);
    env("trailing_byte", t, "TrailingBytes { count: 1 }");
    let mut t = good.clone();
    t.extend_from_slice(&good);
    env("two_records_joined", t, "TrailingBytes");
    env(
        "noncanonical_serial_u32",
        with(5, V::Raw(vec![0x1a, 0, 0, 0x03, 0xe9])),
        "NonCanonical",
    );
    env(
        "noncanonical_index_u8",
        with(6, V::Raw(vec![0x18, 0x02])),
        "NonCanonical",
    );
    let mut lbl = vec![0x78, 8];
    lbl.extend_from_slice(b"aws-root");
    env(
        "noncanonical_label_length",
        with(2, V::Raw(lbl)),
        "NonCanonical",
    );
    let mut indef = vec![0xbf];
    indef.extend_from_slice(&good[1..]);
    indef.push(0xff);
    env("indefinite_map", indef, "NonCanonical");
    let mut f = fields();
    f.push((13, V::U(0)));
    env("unknown_key_13", encode(&f), "UnknownKey { key: 13 }");
    let mut f = fields();
    f[12].0 = 99;
    env(
        "unknown_key_99_for_payload",
        encode(&f),
        "UnknownKey { key: 99 }",
    );
    env("missing_label", without(2), "MissingKey { key: 2");
    env("missing_payload", without(12), "MissingKey { key: 12");
    env("missing_version", without(0), "MissingKey { key: 0");
    let mut f = fields();
    f.swap(2, 3);
    env("keys_out_of_order", encode(&f), "MissingKey { key: 2");
    let mut f = fields();
    f.insert(2, (1, V::B((0..16).collect())));
    env("duplicate_key", encode(&f), "KeyOrder { key: 1");
    env(
        "map_claims_extra_pair",
        encode_with_len(&fields(), 14),
        "Truncated",
    );
    let mut arr = good.clone();
    arr[0] = 0x8d;
    env("array_not_map", arr, "WrongType");
    let mut tag = vec![0xc0];
    tag.extend_from_slice(&good);
    env("tagged_record", tag, "WrongType");
    env(
        "set_id_15_bytes",
        with(1, V::B(vec![1; 15])),
        "BadLength { field: \"set id\"",
    );
    env(
        "set_id_17_bytes",
        with(1, V::B(vec![1; 17])),
        "BadLength { field: \"set id\"",
    );
    env(
        "set_id_as_text",
        with(1, V::T("0123456789abcdef".into())),
        "WrongType",
    );
    env(
        "label_empty",
        with(2, V::T(String::new())),
        "BadText { field: \"label\"",
    );
    env(
        "label_newline",
        with(2, V::T("aws\nroot".into())),
        "BadText { field: \"label\"",
    );
    env(
        "label_129_bytes",
        with(2, V::T("x".repeat(129))),
        "BadText { field: \"label\"",
    );
    env(
        "organisation_invalid_utf8",
        with(3, V::RawText(vec![0xff, 0xfe])),
        "InvalidUtf8 { field: \"organisation\"",
    );
    env(
        "custodian_as_bytes",
        with(4, V::B(b"alice".to_vec())),
        "WrongType",
    );
    env(
        "serial_above_u32",
        with(5, V::U(1 << 32)),
        "SerialOutOfRange",
    );
    env("serial_negative", with(5, V::Raw(vec![0x20])), "WrongType");
    env("count_1", with(8, V::U(1)), "CountOutOfRange { count: 1 }");
    env(
        "count_256",
        with(8, V::U(256)),
        "CountOutOfRange { count: 256 }",
    );
    env(
        "threshold_1",
        with(7, V::U(1)),
        "ThresholdOutOfRange { threshold: 1",
    );
    env(
        "threshold_0",
        with(7, V::U(0)),
        "ThresholdOutOfRange { threshold: 0",
    );
    env(
        "threshold_above_count",
        with(7, V::U(4)),
        "ThresholdOutOfRange { threshold: 4",
    );
    env("index_0", with(6, V::U(0)), "IndexOutOfRange { index: 0");
    env(
        "index_above_count",
        with(6, V::U(4)),
        "IndexOutOfRange { index: 4",
    );
    env(
        "created_float",
        with(9, V::Raw(vec![0xf9, 0x3c, 0x00])),
        "WrongType",
    );
    env("training_as_uint", with(10, V::U(1)), "WrongType");
    env("training_null", with(10, V::Raw(vec![0xf6])), "WrongType");
    env(
        "sealed_share_empty",
        with(11, V::B(vec![])),
        "BadLength { field: \"sealed share\"",
    );
    env(
        "sealed_share_too_large",
        with(11, V::B(vec![1; MAX_SEALED_SHARE_LEN + 1])),
        "BadLength { field: \"sealed share\"",
    );
    env(
        "payload_empty",
        with(12, V::B(vec![])),
        "BadLength { field: \"payload\"",
    );

    // QR payload sets: one payload per line, in the order a reader might give them.
    let mut qrv = |name, payloads: Vec<String>, expected| {
        out.push(Vector {
            name,
            kind: "qr",
            content: lines(&payloads),
            expected,
        })
    };
    let big = qr::encode_parts(&big_valid()).unwrap();
    let small = qr::encode_parts(&good).unwrap();
    let mut other = fields();
    other[4].1 = V::T("bob".into());
    let other = qr::encode_parts(&big_valid_with(other)).unwrap();
    assert!(big.len() >= 4 && other.len() == big.len());
    qrv("qr_ok_single", small.clone(), "ok");
    qrv("qr_ok_reversed", big.iter().rev().cloned().collect(), "ok");
    qrv(
        "qr_ok_repeated_identical",
        [big.clone(), vec![big[1].clone()]].concat(),
        "ok",
    );
    qrv(
        "qr_missing_part_2",
        [vec![big[0].clone()], big[2..].to_vec()].concat(),
        "MissingParts { missing: [2]",
    );
    qrv("qr_only_part_1", vec![big[0].clone()], "MissingParts");
    let mut dup = big.clone();
    let mut altered = big[1].clone().into_bytes();
    let last = altered.len() - 3;
    altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
    dup.push(String::from_utf8(altered.clone()).unwrap());
    qrv(
        "qr_duplicate_part_conflicting",
        dup,
        "DuplicatePart { part: 2 }",
    );
    let mut foreign = big.clone();
    foreign[2] = other[2].clone();
    qrv("qr_foreign_part_3", foreign, "ForeignPart { part: 3");
    qrv(
        "qr_mixed_envelopes",
        [big[..2].to_vec(), other[2..4].to_vec()].concat(),
        "MixedEnvelopes",
    );
    let mut count = big.clone();
    count[1] = count[1].replacen(
        &format!("/{:03}:", big.len()),
        &format!("/{:03}:", big.len() + 1),
        1,
    );
    qrv(
        "qr_part_count_mismatch",
        count,
        "PartCountMismatch { part: 2",
    );
    qrv(
        "qr_part_zero",
        vec![small[0].replacen("001/001", "000/001", 1)],
        "PartNumberOutOfRange { part: 0",
    );
    qrv(
        "qr_part_beyond_count",
        vec![small[0].replacen("001/001", "002/001", 1)],
        "PartNumberOutOfRange { part: 2",
    );
    qrv(
        "qr_base45_lowercase",
        vec![format!("{}a", &small[0][..small[0].len() - 1])],
        "Base45 { part: 1, source: InvalidCharacter",
    );
    qrv(
        "qr_base45_triplet_overflow",
        vec![format!("{}GGW{}", &small[0][..29], &small[0][29..])],
        "Base45 { part: 1, source: TripletOutOfRange",
    );
    qrv(
        "qr_base45_dangling",
        vec![format!("{}00", small[0])],
        "Base45 { part: 1, source: DanglingCharacter",
    );
    qrv(
        "qr_not_glasskeep",
        vec!["HTTPS://EXAMPLE.ORG".into()],
        "NotGlasskeep",
    );
    qrv(
        "qr_version_2",
        vec![small[0].replacen("GK1", "GK2", 1)],
        "UnsupportedVersion",
    );
    qrv(
        "qr_bad_header",
        vec![small[0].replacen("001/001:", "001-001:", 1)],
        "BadHeader",
    );
    qrv(
        "qr_short_header",
        vec!["GK1:001/001:ABC".into()],
        "BadHeader",
    );
    qrv(
        "qr_data_altered",
        vec![String::from_utf8(altered)
            .unwrap()
            .replacen("002/", "001/", 1)
            .replacen(&format!("/{:03}", big.len()), "/001", 1)],
        "FingerprintMismatch",
    );
    qrv(
        "qr_not_an_envelope",
        qr::encode_parts(b"not an envelope").unwrap(),
        "Envelope(WrongType",
    );
    qrv(
        "qr_truncated_envelope",
        qr::encode_parts(&good[..100]).unwrap(),
        "Envelope(Truncated",
    );
    qrv("qr_no_parts", vec![], "NoParts");

    // Typed text.
    let mut txt = |name, l: Vec<String>, expected| {
        out.push(Vector {
            name,
            kind: "text",
            content: lines(&l),
            expected,
        })
    };
    let t = text::encode_lines(&good);
    txt("text_ok", t.clone(), "ok");
    txt(
        "text_ok_lowercase_lookalikes",
        t.iter()
            .map(|l| {
                if l.starts_with("END") {
                    l.clone()
                } else {
                    l.to_lowercase().replace('0', "o")
                }
            })
            .collect(),
        "ok",
    );
    let mut bad = t.clone();
    bad[2] = swap_char(&bad[2], 10);
    txt(
        "text_checksum_line_3",
        bad,
        "ChecksumMismatch { lines: [3], more: 0 }",
    );
    let mut bad = t.clone();
    bad[0] = swap_char(&bad[0], 8);
    bad[4] = swap_char(&bad[4], 20);
    txt(
        "text_checksum_lines_1_5",
        bad,
        "ChecksumMismatch { lines: [1, 5], more: 0 }",
    );
    let mut bad = t.clone();
    bad.remove(1);
    txt(
        "text_missing_line_2",
        bad,
        "MissingLines { lines: [2], more: 0 }",
    );
    let mut bad = t.clone();
    bad.insert(3, t[3].clone());
    txt("text_duplicate_line_4", bad, "DuplicateLine { line: 4 }");
    txt("text_missing_end", t[..t.len() - 1].to_vec(), "MissingEnd");
    let mut bad = t.clone();
    let n = bad.len() - 1;
    bad[n] = bad[n].replace("LINES", "ROWS");
    txt("text_bad_end", bad, "BadEndLine");
    let mut bad = t.clone();
    bad[n] = format!("{}0", &bad[n][..bad[n].len() - 1]).replace("FINGERPRINT ", "FINGERPRINT F");
    txt("text_end_fingerprint_wrong_length", bad, "BadEndLine");
    let mut bad = t.clone();
    let last = bad[n].pop().unwrap();
    bad[n].push(if last == '0' { '1' } else { '0' });
    txt("text_fingerprint_mismatch", bad, "FingerprintMismatch");
    let mut bad = t.clone();
    bad[1] = bad[1].replacen(' ', " U", 2).replacen(" U", " ", 1);
    txt(
        "text_invalid_character_u",
        bad,
        "InvalidCharacter { line: 2, character: 'U' }",
    );
    let mut bad = t.clone();
    bad.insert(n, format!("{:04}: 00000  00", n + 1));
    txt("text_line_beyond_end", bad, "LineBeyondEnd");
    txt("text_nothing", vec!["hello".into()], "NoLines");

    // Base45 strings.
    let mut b45 = |name, s: &str, expected| {
        out.push(Vector {
            name,
            kind: "base45",
            content: format!("{s}\n").into_bytes(),
            expected,
        })
    };
    b45("base45_rfc_ietf", "QED8WEX0", "ok");
    b45(
        "base45_rfc_ggw",
        "GGW",
        "TripletOutOfRange { position: 0, value: 65536 }",
    );
    b45("base45_colons", ":::", "TripletOutOfRange");
    b45(
        "base45_pair_overflow",
        "BB8::",
        "PairOutOfRange { position: 3, value: 2024 }",
    );
    b45("base45_dangling", "BB8B", "DanglingCharacter { len: 4 }");
    b45(
        "base45_lowercase",
        "bb8",
        "InvalidCharacter { character: 'b', position: 0 }",
    );
    b45(
        "base45_hash",
        "BB#",
        "InvalidCharacter { character: '#', position: 2 }",
    );
    out
}

fn big_valid_with(mut f: Vec<(u64, V)>) -> Vec<u8> {
    f[12].1 = V::B((0..2500u32).map(|i| (i * 13 + i / 256) as u8).collect());
    encode(&f)
}

/// Replaces the symbol at byte `pos` with a different one.
fn swap_char(line: &str, pos: usize) -> String {
    let mut b = line.as_bytes().to_vec();
    b[pos] = if b[pos] == b'X' { b'Y' } else { b'X' };
    String::from_utf8(b).unwrap()
}
