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

/// Reads an envelope from photos or scans of its pages (PNG or JPEG, any order).
pub fn decode_images(files: &[&[u8]]) -> Result<Envelope, ScanError> {
    let images = files
        .iter()
        .map(|bytes| {
            image::load_from_memory(bytes)
                .map(|i| i.to_luma8())
                .map_err(|e| ScanError::Image {
                    reason: e.to_string(),
                })
        })
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
