//! The head code of a ceremony sheet: the text its QR code holds, and reading it back
//! from the code's text or from a scan of the sheet.
//!
//! `GKHEAD1:<custody id>:<seq>:<head>` — the custody id as 32 and the head hash as 64
//! uppercase hex digits, the seq of the head entry in decimal without leading zeros
//! (docs/FORMAT.md, "Head code"). Every character is in QR alphanumeric mode, so any
//! reader returns the text unchanged. The parser takes exactly this spelling and
//! nothing else: what it accepts prints back to the same text.

use thiserror::Error;

use crate::envelope::scan;
use crate::log::Hash;

/// What every head code starts with: magic and format version.
pub const PREFIX: &str = "GKHEAD1:";
/// The longest head code: prefix, 32 + 20 + 64 characters and two colons.
pub const MAX_LEN: usize = PREFIX.len() + 32 + 1 + 20 + 1 + 64;

/// The head a ceremony sheet records: whose log, which entry, its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadCode {
    /// The custody id from genesis.
    pub custody_id: [u8; 16],
    /// The seq of the head entry.
    pub seq: u64,
    /// The hash of the head entry.
    pub head: Hash,
}

/// Why a text is not a head code.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HeadCodeError {
    /// Longer than any head code.
    #[error("the code holds {len} characters, more than a head code ({MAX_LEN}) — scan the head code of a ceremony sheet")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Does not start with `GKHEAD`.
    #[error("not a glasskeep head code (it does not start with GKHEAD1:) — scan the code next to the head hash on the ceremony sheet")]
    NotHeadCode,
    /// A head code of another format version.
    #[error("a head code of a format this build does not read (it starts {start:?}; this build reads GKHEAD1:) — use the glasskeep release that printed the sheet")]
    UnsupportedVersion {
        /// Its first characters, escaped.
        start: String,
    },
    /// A field is missing, has the wrong length, or holds a character it may not.
    #[error(
        "the head code's {field} is malformed — rescan the code, or type the head hash in hex"
    )]
    Field {
        /// Which field: "custody id", "seq" or "head".
        field: &'static str,
    },
}

/// Why no head code could be read from a file.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HeadScanError {
    /// A PDF: it must be rasterised first.
    #[error("this is a PDF: rasterise the sheet first (pdftoppm -r 300 -png SHEET.pdf sheet) and pass the PNG of its first page (sheet-1.png)")]
    Pdf,
    /// Neither PNG nor JPEG.
    #[error("not an image (PNG or JPEG) — scan or photograph the ceremony sheet")]
    NotImage,
    /// The image does not decode.
    #[error("cannot read the image: {reason} — scan or photograph the sheet as PNG or JPEG")]
    Image {
        /// The decoder's message.
        reason: String,
    },
    /// No head code in the image.
    #[error("no head code could be read in the image — rescan the sheet's first page flatter and brighter, at 300 dpi, or type the head hash in hex")]
    NoCode,
    /// Several different head codes.
    #[error("the image holds {count} different head codes — scan one sheet at a time")]
    Several {
        /// How many.
        count: usize,
    },
    /// The code is not a valid head code.
    #[error(transparent)]
    Code(#[from] HeadCodeError),
}

fn upper_hex(bytes: &[u8]) -> String {
    crate::hex::encode(bytes).to_ascii_uppercase()
}

/// Exactly `N` bytes from `2N` uppercase hex digits.
fn upper_fixed<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')) {
        return None;
    }
    crate::hex::decode_fixed(s)
}

impl HeadCode {
    /// The code's text, as the QR code holds it.
    pub fn to_text(&self) -> String {
        format!(
            "{PREFIX}{}:{}:{}",
            upper_hex(&self.custody_id),
            self.seq,
            upper_hex(&self.head)
        )
    }

    /// Parses exactly the spelling [`HeadCode::to_text`] writes: no spaces, no
    /// lowercase, no leading zeros, nothing after the head.
    pub fn parse(text: &str) -> Result<HeadCode, HeadCodeError> {
        if text.len() > MAX_LEN {
            return Err(HeadCodeError::TooLong { len: text.len() });
        }
        let Some(rest) = text.strip_prefix(PREFIX) else {
            if text.starts_with("GKHEAD") {
                let start: String = text.chars().take(PREFIX.len()).collect();
                return Err(HeadCodeError::UnsupportedVersion {
                    start: crate::text::escape(&start).into_owned(),
                });
            }
            return Err(HeadCodeError::NotHeadCode);
        };
        let mut fields = rest.split(':');
        let (Some(id), Some(seq), Some(head), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(HeadCodeError::Field { field: "layout" });
        };
        let custody_id = upper_fixed::<16>(id).ok_or(HeadCodeError::Field {
            field: "custody id",
        })?;
        let seq_ok = !seq.is_empty()
            && seq.len() <= 20
            && seq.bytes().all(|b| b.is_ascii_digit())
            && (seq == "0" || !seq.starts_with('0'));
        let seq = seq
            .parse::<u64>()
            .ok()
            .filter(|_| seq_ok)
            .ok_or(HeadCodeError::Field { field: "seq" })?;
        let head = upper_fixed::<32>(head).ok_or(HeadCodeError::Field { field: "head" })?;
        Ok(HeadCode {
            custody_id,
            seq,
            head,
        })
    }

    /// Reads the head code from a scan or photo of a ceremony sheet (PNG or JPEG).
    /// A PDF is refused with the command that rasterises it.
    pub fn from_image(bytes: &[u8]) -> Result<HeadCode, HeadScanError> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        const JPEG: &[u8] = b"\xff\xd8\xff";
        if bytes.starts_with(b"%PDF") {
            return Err(HeadScanError::Pdf);
        }
        if !bytes.starts_with(PNG) && !bytes.starts_with(JPEG) {
            return Err(HeadScanError::NotImage);
        }
        let image = crate::envelope::scan::load_grey(bytes)
            .map_err(|reason| HeadScanError::Image { reason })?;
        let mut codes = head_codes(image);
        codes.sort();
        codes.dedup();
        match codes.as_slice() {
            [] => Err(HeadScanError::NoCode),
            [one] => Ok(HeadCode::parse(one)?),
            more => Err(HeadScanError::Several { count: more.len() }),
        }
    }
}

/// The head codes in a scan. The sheet holds one large symbol, so a copy of the page at
/// most [`QUICK_SIDE`] pixels on its longer side is read first (a 300 dpi A4 scan is
/// 8.7 Mpx, slow for the detector); only when that finds none does the envelope
/// scanner's full search run.
fn head_codes(image: image::GrayImage) -> Vec<String> {
    let ours = |found: Vec<String>| -> Vec<String> {
        found
            .into_iter()
            .filter(|p| p.starts_with("GKHEAD"))
            .collect()
    };
    let (w, h) = image.dimensions();
    let long = w.max(h);
    if long > QUICK_SIDE {
        let scale = QUICK_SIDE as f32 / long as f32;
        let small = image::imageops::resize(
            &image,
            ((w as f32 * scale) as u32).max(1),
            ((h as f32 * scale) as u32).max(1),
            image::imageops::FilterType::Triangle,
        );
        let mut found = Vec::new();
        let mut prepared = rqrr::PreparedImage::prepare(small);
        for grid in prepared.detect_grids() {
            if let Ok((_, content)) = grid.decode() {
                found.push(content);
            }
        }
        let found = ours(found);
        if !found.is_empty() {
            return found;
        }
    }
    ours(scan::qr_payloads_in_image(image))
}

/// Longer side of the quick first look at a scan: a 300 dpi page shrunk to this keeps
/// four pixels per module of the sheet's head code.
const QUICK_SIDE: u32 = 1600;

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> HeadCode {
        HeadCode {
            custody_id: *b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
            seq: 42,
            head: [0xab; 32],
        }
    }

    const TEXT: &str = "GKHEAD1:000102030405060708090A0B0C0D0E0F:42:ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB";

    #[test]
    fn prints_the_documented_spelling_and_reads_it_back() {
        assert_eq!(code().to_text(), TEXT);
        assert_eq!(HeadCode::parse(TEXT), Ok(code()));
        let zero = HeadCode { seq: 0, ..code() };
        assert_eq!(HeadCode::parse(&zero.to_text()), Ok(zero));
        let max = HeadCode {
            seq: u64::MAX,
            ..code()
        };
        assert_eq!(max.to_text().len(), MAX_LEN);
        assert_eq!(HeadCode::parse(&max.to_text()), Ok(max));
    }

    #[test]
    fn refuses_every_other_spelling() {
        let field = |f| Err(HeadCodeError::Field { field: f });
        let cases: Vec<(String, Result<HeadCode, HeadCodeError>)> = vec![
            (String::new(), Err(HeadCodeError::NotHeadCode)),
            ("GK1:001/001:".into(), Err(HeadCodeError::NotHeadCode)),
            (TEXT.to_lowercase(), Err(HeadCodeError::NotHeadCode)),
            (
                TEXT.replace("GKHEAD1", "GKHEAD2"),
                Err(HeadCodeError::UnsupportedVersion {
                    start: "GKHEAD2:".into(),
                }),
            ),
            (format!(" {TEXT}"), Err(HeadCodeError::NotHeadCode)),
            (format!("{TEXT}\n"), field("head")),
            (format!("{TEXT}:"), field("layout")),
            (TEXT.replace(":42:", ":042:"), field("seq")),
            (TEXT.replace(":42:", ":+42:"), field("seq")),
            (TEXT.replace(":42:", "::"), field("seq")),
            (TEXT.replace(":42:", ":4 2:"), field("seq")),
            (TEXT.replace(":42:", ":18446744073709551616:"), field("seq")),
            (TEXT.replace("0A0B", "0a0b"), field("custody id")),
            (TEXT.replace("0E0F:", "0E:"), field("custody id")),
            (TEXT.replace("0E0F:", "0E0F00:"), field("custody id")),
            (TEXT.replacen("ABAB", "abab", 1), field("head")),
            (format!("{TEXT}AB"), field("head")),
            (TEXT.replacen("AB", "AG", 1), field("head")),
            (TEXT.replacen("AB", "Aé", 1), field("head")),
            (
                format!("{TEXT}{}", "A".repeat(40)),
                Err(HeadCodeError::TooLong {
                    len: TEXT.len() + 40,
                }),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(HeadCode::parse(&text), want, "{text:?}");
        }
    }

    #[test]
    fn files_that_are_not_images_are_refused_with_what_to_do() {
        assert_eq!(HeadCode::from_image(b"%PDF-1.7\n"), Err(HeadScanError::Pdf));
        assert!(HeadScanError::Pdf
            .to_string()
            .contains("pdftoppm -r 300 -png"));
        assert_eq!(
            HeadCode::from_image(TEXT.as_bytes()),
            Err(HeadScanError::NotImage)
        );
        assert!(matches!(
            HeadCode::from_image(b"\x89PNG\r\n\x1a\nbroken"),
            Err(HeadScanError::Image { .. })
        ));
    }
}
