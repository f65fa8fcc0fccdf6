//! Paper renderings of an envelope: PDF, PNG, SVG and plain text.
//!
//! PDF, PNG and SVG are drawn from one page model (module `layout`), so the three
//! show the same thing in the same place; only the drawing differs. Text is set in
//! OCR-B (module `font`: a vendored font file, embedded in the PDF and rasterised for
//! PNG; the SVG names the family), so that OCR can read the typed-text fallback back.
//! Nothing is fetched. QR modules are drawn as filled squares by each backend.

mod font;
mod layout;
pub(crate) mod pdf;
mod png;
mod svg;
mod txt;

use thiserror::Error;

use super::format::{Envelope, EnvelopeError};
use super::qr::QrError;

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A PDF document, one or more pages.
    Pdf,
    /// A PNG image at [`PNG_DPI`]; several pages are laid out in a grid. Meant for
    /// envelopes of a few pages: a 64 KiB secret makes a 93-megapixel image that
    /// ImageMagick-based readers (zbarimg) refuse; use PDF for those.
    Png,
    /// An SVG image (units: points); several pages are laid out in a grid.
    Svg,
    /// Plain UTF-8 text: the facts, the instructions and the typed-text fallback.
    Txt,
}

/// Paper size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Paper {
    /// ISO A4, 210 x 297 mm.
    A4,
    /// US Letter, 8.5 x 11 in.
    Letter,
}

impl Paper {
    /// Width and height in PostScript points (1/72 in).
    pub fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }
}

/// A format or paper name that [`Format`] or [`Paper`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameError {
    /// Not one of `pdf`, `png`, `svg`, `txt`.
    #[error("unknown format {name:?}: use pdf, png, svg or txt")]
    UnknownFormat {
        /// The name given.
        name: String,
    },
    /// Not one of `a4`, `letter`.
    #[error("unknown paper size {name:?}: use a4 or letter")]
    UnknownPaper {
        /// The name given.
        name: String,
    },
}

impl std::str::FromStr for Format {
    type Err = NameError;

    /// `pdf`, `png`, `svg` or `txt`, any case (the CLI's `--format`).
    fn from_str(s: &str) -> Result<Self, NameError> {
        match s.to_ascii_lowercase().as_str() {
            "pdf" => Ok(Format::Pdf),
            "png" => Ok(Format::Png),
            "svg" => Ok(Format::Svg),
            "txt" | "text" => Ok(Format::Txt),
            _ => Err(NameError::UnknownFormat { name: s.to_owned() }),
        }
    }
}

impl std::str::FromStr for Paper {
    type Err = NameError;

    /// `a4` or `letter`, any case (the CLI's `--paper`).
    fn from_str(s: &str) -> Result<Self, NameError> {
        match s.to_ascii_lowercase().as_str() {
            "a4" => Ok(Paper::A4),
            "letter" => Ok(Paper::Letter),
            _ => Err(NameError::UnknownPaper { name: s.to_owned() }),
        }
    }
}

/// Resolution of PNG output: enough for every QR module to span 3.5 pixels, which
/// both zbar and our own decoder read reliably.
pub const PNG_DPI: f32 = 150.0;

/// Why an envelope could not be rendered.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The envelope violates the format's ranges and cannot be encoded.
    #[error("cannot render: {0}")]
    Envelope(#[from] EnvelopeError),
    /// The envelope does not fit the QR part limit.
    #[error("cannot render: {0}")]
    Qr(#[from] QrError),
    /// The PNG encoder failed (out of memory for a very large envelope).
    #[error("PNG encoding failed: {reason} — try --format pdf")]
    Png {
        /// The encoder's message.
        reason: String,
    },
}

/// Renders an envelope to `format` on `paper`. The same envelope always renders to
/// the same bytes.
pub fn render(envelope: &Envelope, format: Format, paper: Paper) -> Result<Vec<u8>, RenderError> {
    let sheet = layout::Sheet::new(envelope)?;
    match format {
        Format::Txt => Ok(txt::render(&sheet).into_bytes()),
        Format::Pdf => Ok(pdf::render(&layout::pages(&sheet, paper), paper)),
        Format::Svg => Ok(svg::render(&layout::pages(&sheet, paper), paper).into_bytes()),
        Format::Png => png::render(&layout::pages(&sheet, paper), paper),
    }
}

/// Pages of the page model as a PDF in the base-14 faces: ceremony sheets
/// (crate::sheet) are drawn by the same backend as envelopes, their text in Helvetica.
pub(crate) fn pdf_of_pages(pages: &[Page], paper: Paper) -> Vec<u8> {
    pdf::render_base14(pages, paper)
}

/// A typeface of the page model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Sans,
    SansBold,
    Mono,
    MonoBold,
}

/// One thing drawn on a page. Coordinates are points from the page's top-left
/// corner; `y` of text is its baseline.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        white: bool,
        text: String,
    },
    /// A filled black rectangle.
    Fill { x: f32, y: f32, w: f32, h: f32 },
    /// A horizontal rule, for writing on.
    Rule { x: f32, y: f32, w: f32 },
    /// A QR symbol without its quiet zone (the layout leaves that blank).
    Qr {
        x: f32,
        y: f32,
        module: f32,
        width: usize,
        dark: Vec<bool>,
    },
}

/// A page: what to draw on it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Page {
    pub items: Vec<Item>,
}

/// Advance of one character, as a fraction of the font size, for layout: OCR-B is
/// monospaced, so one number serves every character.
pub(crate) fn advance() -> f32 {
    font::advance()
}

/// Columns of the grid in which PNG and SVG lay out several pages: about square, so
/// neither side of a 150 dpi image passes the 16k-pixel limit common image tools
/// (ImageMagick, hence zbarimg) enforce, until some 80 pages.
pub(crate) fn grid_columns(pages: usize) -> usize {
    let mut cols = 1;
    while cols * cols < pages {
        cols += 1;
    }
    cols
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_for_the_command_line() {
        assert_eq!("PDF".parse::<Format>(), Ok(Format::Pdf));
        assert_eq!("txt".parse::<Format>(), Ok(Format::Txt));
        assert_eq!("Letter".parse::<Paper>(), Ok(Paper::Letter));
        assert!(matches!(
            "jpeg".parse::<Format>(),
            Err(NameError::UnknownFormat { .. })
        ));
        assert!(matches!(
            "a5".parse::<Paper>(),
            Err(NameError::UnknownPaper { .. })
        ));
        assert_eq!(grid_columns(1), 1);
        assert_eq!(grid_columns(2), 2);
        assert_eq!(grid_columns(13), 4);
    }
}
