//! glasskeep-piv-sim: a simulated YubiKey PIV card, for tests and TRAINING only.
//!
//! One card model with two fronts: [`SimCard`] in-process, and the `glasskeep-piv-sim`
//! binary that connects to vpcd so the real pcscd and PIV clients see a card. The
//! [`harness`] module runs pcscd with simulated cards for integration tests.
//!
//! Nothing here is secure: private keys sit in the state file in clear and the
//! attestation root's key is derived from a published seed.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod apdu;
pub mod attestation;
mod card;
pub mod harness;
pub mod keys;
mod mgm;
pub mod model;
mod pin;
mod procs;
pub mod state;
pub mod touch;
pub mod vpcd;

pub use attestation::training_root_certificate_der;
pub use card::SimCard;
pub use model::SimConfig;
pub use state::StateError;
pub use touch::{TouchHandle, TouchMode};

/// ATR of a YubiKey 5 (USB, CCID): historical bytes spell "YubiKey".
pub const YUBIKEY5_ATR: [u8; 23] = [
    0x3B, 0xFD, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x15, 0x80, 0x73, 0xC0, 0x21, 0xC0, 0x57, 0x59,
    0x75, 0x62, 0x69, 0x4B, 0x65, 0x79, 0x40,
];
