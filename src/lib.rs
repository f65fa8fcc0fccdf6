//! glasskeep: offline break-glass custody of root credentials.
//!
//! A root credential is split t-of-n (t >= 2), each share sealed to one custodian's
//! YubiKey (age `piv-p256`), printed as a paper QR envelope, and every act is appended
//! to a hash-chained ceremony log whose checkpoints the present custodians' YubiKeys
//! sign. This package holds the ceremonies and the command line; the formats, the log
//! and every rule live in `glasskeep-core`, the YubiKey driver in `glasskeep-card`
//! (docs/ARCHITECTURE.md).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod abort;
pub mod ceremony;
pub mod documents;
pub mod input;

// The core's modules under their own names, so the ceremonies read `crate::log::…`.
#[cfg(feature = "card")]
pub(crate) use glasskeep_core::hex;
#[cfg(feature = "card")]
pub(crate) use glasskeep_core::piv;
pub(crate) use glasskeep_core::{
    attestation, custodian, envelope, log, seal, secret, shamir, text,
};
