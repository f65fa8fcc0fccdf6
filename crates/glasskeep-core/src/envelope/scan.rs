//! Reading an envelope back: from its bytes, its typed text, its QR payload strings,
//! or a photo or scan of the printed page.

use thiserror::Error;

use super::format::{Envelope, EnvelopeError};
use super::qr::{self, QrError};
use super::text::{self, TextError};

/// Why an envelope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The image could not be decoded as PNG or JPEG.
    #[error("cannot read the image: {reason} — scan or photograph the page as PNG or JPEG")]
    Image {
        /// The decoder's message.
        reason: String,
    },
    /// The image holds no readable QR code.
    #[error("no QR code could be read in the image — rescan flatter and brighter, at 150 dpi or more, or type the text fallback")]
    NoQrCodes,
    /// A PDF was given; its pages must be rasterised first.
    #[error(
        "this is a PDF: render its pages first (pdftoppm -r 150 -png FILE page) and scan the PNGs"
    )]
    Pdf,
    /// A file that is neither an envelope, an image, nor UTF-8 text.
    #[error("the file is not an envelope, an image, or text")]
    Unrecognised,
    /// The QR codes do not reassemble.
    #[error(transparent)]
    Qr(#[from] QrError),
    /// The typed text does not decode.
    #[error(transparent)]
    Text(#[from] TextError),
    /// The bytes are not a valid envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

/// Every QR payload readable in the images (the pages of one envelope), identical
/// payloads once. Non-glasskeep codes are included; the reassembler refuses them.
pub fn qr_payloads_in_images(images: &[image::GrayImage]) -> Vec<String> {
    super::detect::payloads(images)
}

/// Every QR payload readable in one image; see [`qr_payloads_in_images`].
pub fn qr_payloads_in_image(image: image::GrayImage) -> Vec<String> {
    super::detect::payloads(&[image])
}

/// Reads an envelope from a PNG or JPEG photo or scan: every QR code on the page is
/// found and the parts reassembled.
pub fn decode_image(bytes: &[u8]) -> Result<Envelope, ScanError> {
    decode_images(&[bytes])
}

/// The largest scan or photo read, in pixels: an A4 page at 600 dpi is 35 million, a US
/// legal page 43 million, a phone photo 12 to 48 million. An image's header states its
/// size before any pixel is decoded; a larger one is refused then, so a small file
/// claiming a huge image costs nothing.
pub const MAX_PIXELS: u64 = 64_000_000;
/// The longest side read, in pixels.
pub const MAX_SIDE: u32 = 16_384;

/// Decodes a PNG or JPEG into grey levels, refusing before decoding an image larger than
/// [`MAX_PIXELS`] or [`MAX_SIDE`], and any decoder allocation above 512 MiB.
pub(crate) fn load_grey(bytes: &[u8]) -> Result<image::GrayImage, String> {
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())
    };
    let (w, h) = reader()?.into_dimensions().map_err(|e| e.to_string())?;
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "the image is {w} x {h} pixels, larger than glasskeep reads ({} million pixels, \
             {MAX_SIDE} a side): scan at 300 to 600 dpi",
            MAX_PIXELS / 1_000_000
        ));
    }
    let mut r = reader()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 << 20);
    r.limits(limits);
    Ok(r.decode().map_err(|e| e.to_string())?.to_luma8())
}

/// Reads an envelope from photos or scans of its pages (PNG or JPEG, any order).
pub fn decode_images(files: &[&[u8]]) -> Result<Envelope, ScanError> {
    let images = files
        .iter()
        .map(|bytes| load_grey(bytes).map_err(|reason| ScanError::Image { reason }))
        .collect::<Result<Vec<_>, _>>()?;
    let payloads = qr_payloads_in_images(&images);
    let ours: Vec<&String> = payloads.iter().filter(|p| p.starts_with("GK")).collect();
    if ours.is_empty() {
        return Err(ScanError::NoQrCodes);
    }
    Ok(qr::decode_parts(&ours)?)
}

/// Reads an envelope from QR payload strings (one per code, any order).
pub fn decode_qr_payloads<S: AsRef<str>>(payloads: &[S]) -> Result<Envelope, ScanError> {
    Ok(qr::decode_parts(payloads)?)
}

/// Reads an envelope from typed text (the text fallback; a whole text rendering may
/// be pasted).
pub fn decode_text(typed: &str) -> Result<Envelope, ScanError> {
    Ok(text::decode_text(typed)?)
}

/// Reads an envelope from a file's bytes, whatever it holds: the binary envelope
/// record, a PNG or JPEG image of the page, QR payload strings one per line (as
/// `zbarimg --raw` prints them), or the typed-text fallback.
pub fn decode_file(bytes: &[u8]) -> Result<Envelope, ScanError> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    const JPEG: &[u8] = b"\xff\xd8\xff";
    if bytes.starts_with(PNG) || bytes.starts_with(JPEG) {
        return decode_image(bytes);
    }
    if bytes.starts_with(b"%PDF") {
        return Err(ScanError::Pdf);
    }
    // An envelope record is a CBOR map (major type 5); no text or image starts so.
    if bytes.first().is_some_and(|b| b >> 5 == 5) {
        return Ok(Envelope::decode(bytes)?);
    }
    let s = std::str::from_utf8(bytes).map_err(|_| ScanError::Unrecognised)?;
    let payloads: Vec<&str> = s
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("GK"))
        .collect();
    if !payloads.is_empty() {
        return decode_qr_payloads(&payloads);
    }
    decode_text(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of a few dozen bytes whose header claims `w` x `h` grey pixels.
    fn png_claiming(w: u32, h: u32) -> Vec<u8> {
        fn crc(bytes: &[u8]) -> u32 {
            let mut c = !0u32;
            for &b in bytes {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        0xedb8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc(&ihdr).to_be_bytes());
        // An empty zlib stream: the header is read up to the first image data.
        let mut idat = b"IDAT".to_vec();
        idat.extend_from_slice(&[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        png.extend_from_slice(&8u32.to_be_bytes());
        png.extend_from_slice(&idat);
        png.extend_from_slice(&crc(&idat).to_be_bytes());
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IEND");
        png.extend_from_slice(&crc(b"IEND").to_be_bytes());
        png
    }

    fn png(img: &image::GrayImage) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn the_codes_on_a_page_are_found_and_the_envelope_read_back() {
        use crate::envelope::detect::tests::{draw, white};
        let e = crate::envelope::format::tests::sample();
        let parts = qr::envelope_to_parts(&e).unwrap();
        let mut page = white(80 + 340 * parts.len() as u32, 400);
        for (k, p) in parts.iter().enumerate() {
            draw(&mut page, p, (40 + 340 * k as u32, 40), 3);
        }
        assert_eq!(qr_payloads_in_image(page.clone()), parts);
        assert_eq!(qr_payloads_in_images(&[page.clone()]), parts);
        let bytes = png(&page);
        assert_eq!(decode_image(&bytes).unwrap(), e);
        assert_eq!(decode_images(&[&bytes]).unwrap(), e);
        assert_eq!(decode_file(&bytes).unwrap(), e);
        // The other things a file may hold: the record itself, the codes' payloads a
        // line each, the typed text; a PDF and bytes that are none of these are refused.
        let record = e.encode().unwrap();
        assert_eq!(decode_file(&record).unwrap(), e);
        let lines = format!("\n{}\n", parts.join("\n  "));
        assert_eq!(decode_file(lines.as_bytes()).unwrap(), e);
        let typed = text::encode_lines(&record).join("\n");
        assert_eq!(decode_file(typed.as_bytes()).unwrap(), e);
        assert_eq!(decode_file(b"%PDF-1.7\n"), Err(ScanError::Pdf));
        assert_eq!(decode_file(b"\xff\xfe\x00"), Err(ScanError::Unrecognised));
        // A page with no code, or only codes that are not glasskeep's.
        let mut other = white(400, 400);
        draw(&mut other, "HTTPS://EXAMPLE.ORG", (40, 40), 3);
        assert_eq!(qr_payloads_in_image(other.clone()), ["HTTPS://EXAMPLE.ORG"]);
        for page in [white(400, 400), other] {
            assert_eq!(decode_image(&png(&page)), Err(ScanError::NoQrCodes));
        }
    }

    #[test]
    fn an_image_claiming_more_pixels_than_a_scan_is_refused_before_decoding() {
        // A file of 77 bytes claiming 400 million pixels: refused by its header, not
        // by running out of memory.
        // Over the limits; the last three go one past each limit alone.
        for (w, h) in [
            (20_000, 20_000),
            (16_384, 4_000),
            (100_000, 1),
            (16_385, 1),
            (1, 16_385),
            (8_000, 8_001),
        ] {
            let png = png_claiming(w, h);
            assert!(png.len() < 80);
            let err = load_grey(&png).unwrap_err();
            assert!(err.contains(&format!("{w} x {h} pixels")), "{err}");
            assert!(matches!(decode_image(&png), Err(ScanError::Image { .. })));
            assert!(crate::sheet::HeadCode::from_image(&png).is_err());
        }
        // Within the limits, and at each of them, the header passes, and the missing
        // pixels are what fails.
        for (w, h) in [(100, 100), (16_384, 1), (1, 16_384), (8_000, 8_000)] {
            let err = load_grey(&png_claiming(w, h)).unwrap_err();
            assert!(!err.contains("pixels, larger"), "{w} x {h}: {err}");
        }
    }
}
