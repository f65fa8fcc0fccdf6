//! Paper envelopes: the envelope record, its QR and typed-text encodings, the
//! PDF/PNG/SVG/text renderings, and decoding back from text, QR payloads or a photo.
//!
//! Byte formats are specified in docs/FORMAT.md ("Envelope"); recovering without
//! glasskeep is described in docs/RECOVERY.md.
//!
//! What the commands use:
//!
//! - [`Envelope::encode`] / [`Envelope::decode`] and [`Envelope::fingerprint`]
//!   ([`Fingerprint::to_hex`] for the log, [`Fingerprint::short`] for eyes);
//! - [`render::render`] with [`render::Format`] and [`render::Paper`] (both parse from
//!   the command line's names) for `envelope render`;
//! - [`scan::decode_file`] for `--envelope FILE`, whatever the file holds (binary
//!   record, PNG/JPEG photo or scan, QR payload lines, typed text), or the specific
//!   [`scan::decode_images`], [`scan::decode_qr_payloads`], [`scan::decode_text`];
//! - `envelope.sealed_share` as is for `envelope export-age`.

pub mod base45;
mod detect;
mod error;
pub mod format;
pub mod ocr;
pub mod qr;
pub mod render;
pub mod scan;
pub mod text;

pub use format::{Envelope, EnvelopeError, Fingerprint};
