//! glasskeep's core: everything that is bytes and rules, with no card and no terminal.
//!
//! The formats (docs/FORMAT.md), the Shamir split and payload, the age `piv-p256`
//! sealing, the paper envelopes (format, QR and text codecs, renderers, scanning), the
//! PIV vocabulary and attestation checking, and the ceremony log (entries, store,
//! replay, verify, show). A card is reached only through the small traits defined here
//! ([`seal::KeyAgreement`] for unsealing, [`log::CheckpointSigner`] for signing), which
//! `glasskeep-card` implements. This crate builds for `wasm32-unknown-unknown` without
//! its default features, so an auditor's verifier needs nothing else.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod attestation;
pub mod cbor;
pub mod custodian;
pub mod document;
pub mod envelope;
#[doc(hidden)]
pub mod fuzzing;
pub mod hex;
pub mod log;
pub mod piv;
pub mod plan;
#[cfg(all(test, feature = "store"))]
mod properties;
pub mod report;
pub mod seal;
pub mod secret;
pub mod shamir;
pub mod sheet;
pub mod text;
pub mod totp;
