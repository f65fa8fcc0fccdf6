//! QR payloads: an envelope as one or more QR alphanumeric-mode strings.
//!
//! Each part is `GK1:iii/kkk:FFFFFFFFFFFFFFFF:` followed by Base45 (RFC 9285) of one
//! slice of the encoded envelope, where `iii` is the part number (1-based), `kkk` the
//! number of parts, both three decimal digits, and the sixteen hex digits are the
//! envelope's short fingerprint. Every character is in QR alphanumeric mode, so any
//! reader returns the text unchanged. The fingerprint in every header lets parts be
//! read in any order and refuses parts of another envelope; after reassembly the
//! envelope's own SHA-256 must match it, so a wrong slice cannot slip through.
//!
//! Symbol size: version 20 (97x97 modules), error correction M (~15% of the symbol
//! may be lost), at most [`MAX_CHARS_PER_CODE`] characters. Printed at 0.6 mm per
//! module that is a 58 mm square plus quiet zone: large enough for phone cameras and
//! flatbed scans at 150 dpi, small enough for nine per page.

use std::collections::BTreeMap;

use thiserror::Error;

use super::base45::{self, Base45Error};
use super::format::{Envelope, EnvelopeError, Fingerprint, MAX_ENCODED_LEN};

/// The QR version every glasskeep code uses (97x97 modules).
pub const QR_VERSION: i16 = 20;
/// Alphanumeric characters a version-20, level-M symbol holds.
pub const MAX_CHARS_PER_CODE: usize = 970;
/// Header length: `GK1:iii/kkk:` plus 16 hex digits and a colon.
pub const HEADER_LEN: usize = 29;
/// Envelope bytes per part: whole Base45 triplets that fit after the header.
pub const BYTES_PER_PART: usize = (MAX_CHARS_PER_CODE - HEADER_LEN) / 3 * 2;
/// Most parts one envelope is split into (114): the largest envelope record in
/// [`BYTES_PER_PART`] slices. The header has room for 999, but a part claiming more
/// than this is refused before anything is allocated or listed for the claim.
pub const MAX_PARTS: usize = MAX_ENCODED_LEN.div_ceil(BYTES_PER_PART);
/// Part numbers an error names at most; the rest are counted, so no message grows
/// with a claimed count.
pub const NAMED_PARTS: usize = 10;

const MAGIC: &str = "GK";
const VERSION_CHAR: char = '1';

/// Why QR payloads do not reassemble into an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QrError {
    /// No QR payload was given or found.
    #[error("no glasskeep QR code found — scan the envelope's QR codes or type the text fallback")]
    NoParts,
    /// A payload does not start with `GK`: not a glasskeep code.
    #[error("QR code {position} is not a glasskeep envelope code (it starts {start:?}) — scan only the envelope's codes")]
    NotGlasskeep {
        /// Which payload (1-based, in the order given).
        position: usize,
        /// Its first characters.
        start: String,
    },
    /// A glasskeep code of a format version this build does not read.
    #[error("QR code {position} uses envelope QR format {version:?}; this build reads 1 — use the glasskeep release that made it")]
    UnsupportedVersion {
        /// Which payload (1-based).
        position: usize,
        /// The version character found.
        version: char,
    },
    /// The header is malformed.
    #[error("QR code {position} has a malformed header — rescan it")]
    BadHeader {
        /// Which payload (1-based).
        position: usize,
    },
    /// A part claims more parts than any envelope has.
    #[error("QR code {position} claims {of} parts, but no envelope has more than {max} — it was misread or altered; rescan it")]
    TooManyParts {
        /// Which payload (1-based).
        position: usize,
        /// The part count it claims.
        of: usize,
        /// [`MAX_PARTS`].
        max: usize,
    },
    /// Part number is 0 or larger than the part count, or the count is 0.
    #[error("QR code says part {part} of {of}, which is impossible — rescan it")]
    PartNumberOutOfRange {
        /// Part number found.
        part: usize,
        /// Part count found.
        of: usize,
    },
    /// Parts disagree about how many parts the envelope has.
    #[error(
        "part {part} says the envelope has {of} parts, another part says {expected} — rescan both"
    )]
    PartCountMismatch {
        /// The part that disagrees.
        part: usize,
        /// The count it claims.
        of: usize,
        /// The count the other parts claim.
        expected: usize,
    },
    /// The same part was given twice with different content.
    #[error("part {part} was scanned twice with different contents — rescan it")]
    DuplicatePart {
        /// The part number.
        part: usize,
    },
    /// A part's fingerprint prefix differs from the envelope being reassembled.
    #[error("part {part} belongs to envelope {fingerprint}, not {expected} — keep each envelope's codes apart")]
    ForeignPart {
        /// The foreign part's number.
        part: usize,
        /// Its envelope's fingerprint prefix (16 hex digits).
        fingerprint: String,
        /// The prefix of the envelope being reassembled.
        expected: String,
    },
    /// Equal numbers of parts from several envelopes: no majority to reassemble.
    #[error("codes of {} different envelopes were mixed ({}) — scan one envelope at a time", fingerprints.len(), fingerprints.join(", "))]
    MixedEnvelopes {
        /// The fingerprint prefixes found.
        fingerprints: Vec<String>,
    },
    /// Parts are missing.
    #[error("missing part(s) {}{} of {of} — scan those QR codes", missing.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "), if *more == 0 { String::new() } else { format!(" and {more} more") })]
    MissingParts {
        /// The first missing part numbers (at most [`NAMED_PARTS`]), ascending.
        missing: Vec<usize>,
        /// How many more parts are missing beyond those named.
        more: usize,
        /// The part count.
        of: usize,
    },
    /// A part's Base45 text is invalid.
    #[error("part {part}: {source}")]
    Base45 {
        /// The part number.
        part: usize,
        /// What is wrong with its Base45.
        #[source]
        source: Base45Error,
    },
    /// The reassembled bytes do not hash to the fingerprint the parts carry.
    #[error("reassembled envelope has fingerprint {found}, the codes say {expected} — a code was misread or altered; rescan all of them")]
    FingerprintMismatch {
        /// The prefix the parts carry.
        expected: String,
        /// The prefix of the reassembled bytes.
        found: String,
    },
    /// The reassembled bytes are not a valid envelope.
    #[error("the QR codes reassemble, but {0}")]
    Envelope(#[from] EnvelopeError),
    /// The envelope is too large for [`MAX_PARTS`] codes.
    #[error("envelope of {len} bytes needs more than {MAX_PARTS} QR codes")]
    TooLarge {
        /// Encoded envelope length.
        len: usize,
    },
}

/// Splits an encoded envelope into QR payload strings, in part order.
pub fn encode_parts(encoded: &[u8]) -> Result<Vec<String>, QrError> {
    let fp = Fingerprint::of_bytes(encoded).prefix_upper();
    let chunks: Vec<&[u8]> = encoded.chunks(BYTES_PER_PART).collect();
    let k = chunks.len();
    if k == 0 || k > MAX_PARTS {
        return Err(QrError::TooLarge { len: encoded.len() });
    }
    Ok(chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "{MAGIC}{VERSION_CHAR}:{:03}/{k:03}:{fp}:{}",
                i + 1,
                base45::encode(c)
            )
        })
        .collect())
}

/// The QR payloads of an envelope.
pub fn envelope_to_parts(envelope: &Envelope) -> Result<Vec<String>, QrError> {
    encode_parts(&envelope.encode()?)
}

/// The QR symbol of one payload: its width in modules and its modules row by row
/// (`true` = dark). The payload goes in as a single alphanumeric-mode segment at
/// version 20, level M; `None` if it does not fit (never for [`encode_parts`] output).
pub fn symbol(payload: &str) -> Option<(usize, Vec<bool>)> {
    use qrcode::{bits::Bits, EcLevel, Version};
    // One alphanumeric segment: the encoder's own segment optimiser may switch to
    // numeric mode for digit runs, and each switch costs header bits the capacity
    // calculation above does not budget for.
    let mut bits = Bits::new(Version::Normal(QR_VERSION));
    bits.push_alphanumeric_data(payload.as_bytes()).ok()?;
    bits.push_terminator(EcLevel::M).ok()?;
    let code = qrcode::QrCode::with_bits(bits, EcLevel::M).ok()?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((code.width(), dark))
}

/// One parsed QR payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Part number, 1-based.
    pub number: usize,
    /// Number of parts.
    pub of: usize,
    /// Envelope fingerprint prefix, 16 uppercase hex digits.
    pub fingerprint: String,
    /// This part's slice of the encoded envelope.
    pub data: Vec<u8>,
}

fn parse_number(s: &str) -> Option<usize> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses one payload string; `position` (1-based) names it in errors.
pub fn parse_part(payload: &str, position: usize) -> Result<Part, QrError> {
    // Readers may append a newline; nothing else is trimmed.
    let payload = payload.trim_end_matches(['\r', '\n']);
    if !payload.starts_with(MAGIC) {
        return Err(QrError::NotGlasskeep {
            position,
            start: payload.chars().take(8).collect(),
        });
    }
    let version = payload[MAGIC.len()..].chars().next();
    match version {
        Some(VERSION_CHAR) => {}
        Some(v) => {
            return Err(QrError::UnsupportedVersion {
                position,
                version: v,
            })
        }
        None => return Err(QrError::BadHeader { position }),
    }
    let bad = || QrError::BadHeader { position };
    let header = payload.get(..HEADER_LEN).ok_or_else(bad)?;
    // Byte positions below are character positions only for ASCII.
    if !header.is_ascii() {
        return Err(bad());
    }
    let b = header.as_bytes();
    if b[3] != b':' || b[7] != b'/' || b[11] != b':' || b[28] != b':' {
        return Err(bad());
    }
    let number = parse_number(&header[4..7]).ok_or_else(bad)?;
    let of = parse_number(&header[8..11]).ok_or_else(bad)?;
    let fingerprint = &header[12..28];
    if !fingerprint
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
    {
        return Err(bad());
    }
    // The count is a claim: check it against the format's limit before the data is
    // decoded or anything is sized by it.
    if of > MAX_PARTS {
        return Err(QrError::TooManyParts {
            position,
            of,
            max: MAX_PARTS,
        });
    }
    if number == 0 || of == 0 || number > of {
        return Err(QrError::PartNumberOutOfRange { part: number, of });
    }
    let data = base45::decode(&payload[HEADER_LEN..]).map_err(|source| QrError::Base45 {
        part: number,
        source,
    })?;
    Ok(Part {
        number,
        of,
        fingerprint: fingerprint.to_owned(),
        data,
    })
}

/// Reassembles payload strings (any order) into the encoded envelope bytes, checked
/// against the fingerprint the parts carry. Missing, duplicated and foreign parts are
/// reported by number.
pub fn assemble<S: AsRef<str>>(payloads: &[S]) -> Result<Vec<u8>, QrError> {
    if payloads.is_empty() {
        return Err(QrError::NoParts);
    }
    let parts = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| parse_part(p.as_ref(), i + 1))
        .collect::<Result<Vec<_>, _>>()?;

    // The envelope with the most parts is the one being read; every other part is
    // foreign. A tie has no majority and is reported as a mix.
    let mut by_fp: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &parts {
        *by_fp.entry(&p.fingerprint).or_default() += 1;
    }
    let most = by_fp.values().copied().max().unwrap_or(0);
    let leaders: Vec<&str> = by_fp
        .iter()
        .filter(|(_, &n)| n == most)
        .map(|(f, _)| *f)
        .collect();
    if leaders.len() > 1 {
        return Err(QrError::MixedEnvelopes {
            fingerprints: by_fp.keys().map(|f| f.to_string()).collect(),
        });
    }
    // `parts` is not empty, so neither is `by_fp` nor its leaders.
    let expected_fp = leaders[0].to_owned();
    if let Some(p) = parts.iter().find(|p| p.fingerprint != expected_fp) {
        return Err(QrError::ForeignPart {
            part: p.number,
            fingerprint: p.fingerprint.clone(),
            expected: expected_fp,
        });
    }

    // Counts: the first part sets the expectation, like the first page of a stack.
    // `parse_part` bounded it by MAX_PARTS, so the slots below are small.
    let of = parts[0].of;
    let mut slots: Vec<Option<&Part>> = vec![None; of];
    for p in &parts {
        if p.of != of {
            return Err(QrError::PartCountMismatch {
                part: p.number,
                of: p.of,
                expected: of,
            });
        }
        let slot = &mut slots[p.number - 1];
        if let Some(prev) = slot {
            if prev.data != p.data {
                return Err(QrError::DuplicatePart { part: p.number });
            }
            // The same symbol read twice (a detector seeing one code twice) is harmless.
        }
        *slot = Some(p);
    }
    let absent = slots.iter().filter(|s| s.is_none()).count();
    if absent > 0 {
        let missing: Vec<usize> = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_none())
            .map(|(i, _)| i + 1)
            .take(NAMED_PARTS)
            .collect();
        let more = absent - missing.len();
        return Err(QrError::MissingParts { missing, more, of });
    }
    let bytes: Vec<u8> = slots
        .iter()
        .flatten()
        .flat_map(|p| p.data.iter().copied())
        .collect();
    let found = Fingerprint::of_bytes(&bytes).prefix_upper();
    if found != expected_fp {
        return Err(QrError::FingerprintMismatch {
            expected: expected_fp,
            found,
        });
    }
    Ok(bytes)
}

/// Reassembles and decodes an envelope from its QR payloads (any order).
pub fn decode_parts<S: AsRef<str>>(payloads: &[S]) -> Result<Envelope, QrError> {
    Ok(Envelope::decode(&assemble(payloads)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_part_fits_the_chosen_symbol() {
        let data: Vec<u8> = (0..BYTES_PER_PART * 3)
            .map(|i| (i * 151 + 3) as u8)
            .collect();
        let parts = encode_parts(&data).unwrap();
        assert_eq!(parts.len(), 3);
        for p in &parts {
            assert_eq!(
                p.len(),
                MAX_CHARS_PER_CODE - (MAX_CHARS_PER_CODE - HEADER_LEN) % 3
            );
            assert!(p.bytes().all(|b| base45::ALPHABET.contains(&b)));
            let (width, dark) = symbol(p).unwrap();
            assert_eq!(width, 97);
            assert_eq!(dark.len(), 97 * 97);
            // `true` is dark: the top-left finder pattern's outer ring is dark, the
            // separator beside it light.
            assert!(dark[0] && dark[6] && dark[6 * 97], "finder corner");
            assert!(!dark[7] && !dark[7 * 97], "separator");
        }
        let too_long = "A".repeat(MAX_CHARS_PER_CODE + 1);
        assert!(symbol(&too_long).is_none());
    }

    #[test]
    fn parts_reassemble_in_any_order_and_duplicates_are_harmless() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
        let mut parts = encode_parts(&data).unwrap();
        assert_eq!(parts.len(), 5);
        parts.reverse();
        parts.push(parts[1].clone());
        assert_eq!(assemble(&parts).unwrap(), data);
    }

    #[test]
    fn non_ascii_headers_are_refused_not_sliced() {
        for bad in [
            "GK1:é01/001:0123456789ABCDEF:00",
            "GK1:001/001:0123456789ABCDEé:00",
        ] {
            assert!(matches!(
                parse_part(bad, 1),
                Err(QrError::BadHeader { position: 1 })
            ));
        }
        assert!(matches!(
            parse_part("GK1:001/001:0123456789ABCDEF:é", 1),
            Err(QrError::Base45 { part: 1, .. })
        ));
    }

    /// A well-formed part `number` of `of` whose slice is two bytes.
    fn part(number: usize, of: usize) -> String {
        format!(
            "GK1:{number:03}/{of:03}:0123456789ABCDEF:{}",
            base45::encode(b"gk")
        )
    }

    #[test]
    fn limits_follow_the_largest_envelope() {
        // docs/FORMAT.md ("QR payload") states this number.
        assert_eq!(MAX_PARTS, 114);
        let parts = encode_parts(&vec![0xa5; MAX_ENCODED_LEN]).unwrap();
        assert_eq!(parts.len(), MAX_PARTS);
        assert!(encode_parts(&vec![0xa5; MAX_PARTS * BYTES_PER_PART + 1]).is_err());
    }

    #[test]
    fn a_part_claiming_999_parts_is_refused_before_its_data_is_read() {
        // Invalid Base45 after the header: the count is refused first, so nothing
        // about the part was decoded or sized by the claim.
        let payload = "GK1:001/999:0123456789ABCDEF:bad";
        let e = assemble(&[payload]).unwrap_err();
        assert_eq!(
            e,
            QrError::TooManyParts {
                position: 1,
                of: 999,
                max: MAX_PARTS
            }
        );
        assert!(e.to_string().len() < 300, "{e}");
    }

    #[test]
    fn a_part_claiming_one_above_the_maximum_is_refused() {
        let e = assemble(&[part(1, MAX_PARTS + 1)]).unwrap_err();
        assert!(
            matches!(e, QrError::TooManyParts { position: 1, of, .. } if of == MAX_PARTS + 1),
            "{e:?}"
        );
        assert!(e.to_string().len() < 300, "{e}");
    }

    #[test]
    fn a_part_claiming_the_maximum_names_ten_missing_parts_and_counts_the_rest() {
        let e = assemble(&[part(1, MAX_PARTS)]).unwrap_err();
        assert_eq!(
            e,
            QrError::MissingParts {
                missing: (2..2 + NAMED_PARTS).collect(),
                more: MAX_PARTS - 1 - NAMED_PARTS,
                of: MAX_PARTS
            }
        );
        assert!(e.to_string().len() < 300, "{e}");
        assert!(e.to_string().contains("and 103 more of 114"), "{e}");
    }

    #[test]
    fn missing_and_foreign_parts_are_named() {
        let a: Vec<u8> = vec![1; 2000];
        let b: Vec<u8> = vec![2; 2000];
        let pa = encode_parts(&a).unwrap();
        let pb = encode_parts(&b).unwrap();
        assert_eq!(
            assemble(&[&pa[0], &pa[3]]),
            Err(QrError::MissingParts {
                missing: vec![2, 3],
                more: 0,
                of: 4
            })
        );
        let err = assemble(&[&pa[0], &pa[1], &pa[2], &pb[3]]).unwrap_err();
        assert!(matches!(err, QrError::ForeignPart { part: 4, .. }), "{err}");
        let err = assemble(&[&pa[0], &pb[1]]).unwrap_err();
        assert!(matches!(err, QrError::MixedEnvelopes { .. }), "{err}");
    }

    fn header_of(number: &str, of: &str, fp: &str) -> String {
        format!("GK1:{number}/{of}:{fp}:{}", base45::encode(b"gk"))
    }

    #[test]
    fn headers_are_read_strictly() {
        let good = part(1, 1);
        assert_eq!(
            parse_part(&good, 1).unwrap(),
            Part {
                number: 1,
                of: 1,
                fingerprint: "0123456789ABCDEF".into(),
                data: b"gk".to_vec()
            }
        );
        // A reader's line ending is dropped, nothing else is.
        assert_eq!(parse_part(&format!("{good}\r\n"), 1).unwrap().data, b"gk");
        assert!(parse_part(&format!(" {good}"), 1).is_err());
        assert_eq!(
            parse_part("HELLO WORLD", 3),
            Err(QrError::NotGlasskeep {
                position: 3,
                start: "HELLO WO".into()
            })
        );
        assert_eq!(
            parse_part(&good.replacen("GK1", "GK2", 1), 2),
            Err(QrError::UnsupportedVersion {
                position: 2,
                version: '2'
            })
        );
        assert_eq!(parse_part("GK", 4), Err(QrError::BadHeader { position: 4 }));
        // Every separator, short headers, and anything but three digits or
        // sixteen upper-case hex digits where they belong.
        let mut bad = vec![good[..HEADER_LEN - 1].to_string()];
        for at in [3, 7, 11, 28] {
            let mut b = good.clone().into_bytes();
            b[at] = b'-';
            bad.push(String::from_utf8(b).unwrap());
        }
        for (number, of, fp) in [
            ("0A1", "001", "0123456789ABCDEF"),
            // Rust's integer parser takes a sign; a part number does not.
            ("+01", "001", "0123456789ABCDEF"),
            ("001", "+01", "0123456789ABCDEF"),
            ("001", "0 1", "0123456789ABCDEF"),
            ("001", "001", "0123456789abcdef"),
            ("001", "001", "0123456789ABCDEG"),
            ("001", "001", "0123456789ABCDE@"),
            ("001", "001", "0123456789ABCDE/"),
            ("001", "001", "0123456789ABCDE:"),
        ] {
            bad.push(header_of(number, of, fp));
        }
        for b in bad {
            assert_eq!(
                parse_part(&b, 5),
                Err(QrError::BadHeader { position: 5 }),
                "{b}"
            );
        }
        for fp in ["0000000000000000", "9999999999999999", "AFAFAFAFAFAFAFAF"] {
            assert_eq!(
                parse_part(&header_of("001", "001", fp), 1)
                    .unwrap()
                    .fingerprint,
                fp
            );
        }
    }

    #[test]
    fn part_numbers_must_lie_within_the_count() {
        for (number, of) in [(0, 1), (1, 0), (2, 1), (0, 0)] {
            assert_eq!(
                parse_part(&part(number, of), 1),
                Err(QrError::PartNumberOutOfRange { part: number, of })
            );
        }
        for (number, of) in [(1, 1), (1, MAX_PARTS), (MAX_PARTS, MAX_PARTS)] {
            let p = parse_part(&part(number, of), 1).unwrap();
            assert_eq!((p.number, p.of), (number, of));
        }
    }

    #[test]
    fn the_payload_at_fault_is_named_by_its_position() {
        let good = part(1, 1);
        assert_eq!(
            assemble(&[good.as_str(), "GK"]),
            Err(QrError::BadHeader { position: 2 })
        );
        assert_eq!(assemble::<&str>(&[]), Err(QrError::NoParts));
        assert_eq!(
            assemble(&["GK1:002/003:0123456789ABCDEF:::"]),
            Err(QrError::Base45 {
                part: 2,
                source: Base45Error::PairOutOfRange {
                    position: 0,
                    value: 2024
                }
            })
        );
    }

    #[test]
    fn parts_must_agree_on_their_count_and_contents() {
        let data: Vec<u8> = (0..1500u32).map(|i| (i * 13) as u8).collect();
        let parts = encode_parts(&data).unwrap();
        assert_eq!(parts.len(), 3);
        let recount = parts[1].replacen("/003:", "/004:", 1);
        assert_eq!(
            assemble(&[&parts[0], &recount, &parts[2]]),
            Err(QrError::PartCountMismatch {
                part: 2,
                of: 4,
                expected: 3
            })
        );
        // Part 2 read twice, once altered (a valid Base45 triplet changed).
        let altered = format!("{}{}", &parts[1][..HEADER_LEN], base45::encode(&[9; 2]))
            + &parts[1][HEADER_LEN + 3..];
        assert_eq!(
            assemble(&[&parts[0], &parts[1], &altered, &parts[2]]),
            Err(QrError::DuplicatePart { part: 2 })
        );
        // Read once, altered: every header agrees, the reassembled hash does not.
        let e = assemble(&[&parts[0], &altered, &parts[2]]).unwrap_err();
        let expected = Fingerprint::of_bytes(&data).prefix_upper();
        assert!(
            matches!(&e, QrError::FingerprintMismatch { expected: x, found } if *x == expected && *found != expected),
            "{e:?}"
        );
        // Nothing is missing: every part there, the bytes come back.
        assert_eq!(assemble(&[&parts[2], &parts[0], &parts[1]]).unwrap(), data);
    }

    #[test]
    fn the_envelope_with_most_parts_is_read_and_the_others_are_foreign() {
        let a: Vec<u8> = vec![1; 2000];
        let b: Vec<u8> = vec![2; 2000];
        let (pa, pb) = (encode_parts(&a).unwrap(), encode_parts(&b).unwrap());
        let (fa, fb) = (
            Fingerprint::of_bytes(&a).prefix_upper(),
            Fingerprint::of_bytes(&b).prefix_upper(),
        );
        assert_eq!(
            assemble(&[&pb[2], &pa[0], &pa[1]]),
            Err(QrError::ForeignPart {
                part: 3,
                fingerprint: fb.clone(),
                expected: fa.clone()
            })
        );
        let e = assemble(&[&pa[0], &pb[1], &pb[2], &pa[3]]).unwrap_err();
        let mut both = vec![fa, fb];
        both.sort();
        assert_eq!(e, QrError::MixedEnvelopes { fingerprints: both });
        assert!(
            e.to_string().starts_with("codes of 2 different envelopes"),
            "{e}"
        );
    }

    #[test]
    fn an_envelope_round_trips_and_other_bytes_are_named_as_not_an_envelope() {
        let e = crate::envelope::format::tests::sample();
        let parts = envelope_to_parts(&e).unwrap();
        assert_eq!(decode_parts(&parts).unwrap(), e);
        let junk = encode_parts(b"not an envelope").unwrap();
        assert!(
            matches!(decode_parts(&junk), Err(QrError::Envelope(_))),
            "{:?}",
            decode_parts(&junk)
        );
        assert_eq!(encode_parts(&[]), Err(QrError::TooLarge { len: 0 }));
    }

    #[test]
    fn missing_parts_are_listed_in_words() {
        let e = assemble(&[part(1, 4)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "missing part(s) 2, 3, 4 of 4 — scan those QR codes"
        );
    }
}
