//! Paper envelopes: the envelope record, its QR and typed-text encodings, the
//! PDF/PNG/SVG/text renderings, and decoding back from text, QR payloads or a photo.
//!
//! Byte formats are specified in docs/FORMAT.md ("Envelope"); recovering without
//! glasskeep is described in docs/RECOVERY.md.

pub mod base45;
mod detect;
mod error;
pub mod format;
pub mod qr;
pub mod render;
pub mod scan;
pub mod text;

pub use format::{Envelope, EnvelopeError, Fingerprint};
