//! glasskeep: offline break-glass custody of root credentials.
//!
//! A root credential is split t-of-n (t >= 2), each share sealed to one custodian's
//! YubiKey (age `piv-p256`), printed as a paper QR envelope, and every act is appended
//! to a hash-chained ceremony log whose checkpoints the present custodians' YubiKeys
//! sign. See docs/FORMAT.md for every byte format and DESIGN.md for the architecture.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cbor;
pub mod ceremony;
pub mod custodian;
pub mod envelope;
#[doc(hidden)]
pub mod fuzzing;
pub mod log;
pub mod seal;
pub mod secret;
pub mod shamir;
pub mod token;
