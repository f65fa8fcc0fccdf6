//! Printed documents: the runbooks, RECOVERY and the recovery kit's sheet of live sets.
//!
//! A document is a list of [`Block`]s, parsed from a small Markdown subset
//! ([`markdown::parse`]) or built directly (so text from the log is never read as
//! markup). [`to_pdf`] lays the blocks out on A4 or Letter pages with a running header,
//! TRAINING on every page of a training custody, and "page i of n" in the footer, and
//! writes them with the envelopes' PDF writer (base-14 fonts, nothing embedded).
//! [`to_text`] writes the same blocks as plain text.

mod layout;
pub mod markdown;
mod metrics;
mod text;

pub use text::to_text;

use crate::envelope::render::Paper;

/// How a run of text is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Style {
    /// Helvetica.
    Plain,
    /// Helvetica-Bold.
    Bold,
    /// Courier: commands, hashes, anything typed as written.
    Code,
}

/// A run of text in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The style.
    pub style: Style,
    /// The text.
    pub text: String,
}

impl Span {
    /// A run of plain text.
    pub fn plain(text: impl Into<String>) -> Self {
        Span {
            style: Style::Plain,
            text: text.into(),
        }
    }

    /// A run of bold text.
    pub fn bold(text: impl Into<String>) -> Self {
        Span {
            style: Style::Bold,
            text: text.into(),
        }
    }

    /// A run of code.
    pub fn code(text: impl Into<String>) -> Self {
        Span {
            style: Style::Code,
            text: text.into(),
        }
    }
}

/// One block of a document. `depth` is how many list items it is nested in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Block {
    /// A heading, level 1 to 3.
    Heading {
        /// 1, 2 or 3.
        level: u8,
        /// The text.
        spans: Vec<Span>,
    },
    /// A paragraph.
    Paragraph {
        /// Nesting.
        depth: usize,
        /// The text.
        spans: Vec<Span>,
    },
    /// A list item: its marker ("3.", or a bullet) and its first paragraph.
    Item {
        /// Nesting of the list.
        depth: usize,
        /// "1.", "2.", … or "•".
        marker: String,
        /// The text.
        spans: Vec<Span>,
    },
    /// Lines set in Courier, as written; an over-long line continues on the next line
    /// with a mark in the margin.
    Code {
        /// Nesting.
        depth: usize,
        /// The lines.
        lines: Vec<String>,
    },
    /// A table with a header row.
    Table {
        /// Nesting.
        depth: usize,
        /// The header cells.
        header: Vec<Vec<Span>>,
        /// The rows, cell by cell.
        rows: Vec<Vec<Vec<Span>>>,
    },
    /// The next block starts a new page.
    PageBreak,
}

/// What goes around the text of every page.
#[derive(Debug, Clone)]
pub struct Options {
    /// Paper size.
    pub paper: Paper,
    /// The running header, left (the document's name).
    pub title: String,
    /// A training custody: every page says TRAINING, in the header.
    pub training: bool,
}

/// The document as a PDF. The same blocks and options always give the same bytes.
pub fn to_pdf(blocks: &[Block], options: &Options) -> Vec<u8> {
    let pages = layout::pages(blocks, options);
    crate::envelope::render::pdf::render_base14(&pages, options.paper)
}

/// Markdown source as a PDF: [`markdown::parse`], then [`to_pdf`].
pub fn markdown_to_pdf(source: &str, options: &Options) -> Vec<u8> {
    to_pdf(&markdown::parse(source), options)
}

/// The banner a training custody's documents carry on every page.
pub const TRAINING_BANNER: &str = "TRAINING \u{2014} simulated YubiKeys, not a real custody";

/// Characters the base-14 fonts cannot show, each with what is printed instead.
/// Everything else outside WinAnsi prints as `?`; [`unprintable`] finds those.
pub(crate) fn substitute(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2192}' => "->",
        '\u{2190}' => "<-",
        '\u{2265}' => ">=",
        '\u{2264}' => "<=",
        '\u{2260}' => "!=",
        '\u{2070}' => "^0",
        '\u{2074}' => "^4",
        '\u{2075}' => "^5",
        '\u{2076}' => "^6",
        '\u{2077}' => "^7",
        '\u{2078}' => "^8",
        '\u{2079}' => "^9",
        '\u{2212}' => "-",
        _ => return None,
    })
}

/// Whether the PDF fonts print `c` (WinAnsi), possibly through [`substitute`].
pub fn printable(c: char) -> bool {
    crate::envelope::render::pdf::win_ansi_char(c).is_some() || substitute(c).is_some()
}

/// The characters of `source` that a PDF would print as `?`, for tests that hold the
/// documents to what paper shows.
pub fn unprintable(source: &str) -> Vec<char> {
    let mut out: Vec<char> = source
        .chars()
        .filter(|&c| !matches!(c, '\n' | '\r') && !printable(c))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}
