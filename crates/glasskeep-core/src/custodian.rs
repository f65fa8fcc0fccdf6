//! A custodian as enrollment records them and the log replays them.

use crate::piv::{PinPolicy, Slot, TouchPolicy, Version};

/// Everything the log keeps about one enrolled custodian and their YubiKey. Public data
/// only: auditors re-verify the attestation chain from these certificates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustodianRecord {
    /// The custodian's name, unique in the custody (1..=64 bytes of UTF-8, no control
    /// characters).
    pub name: String,
    /// The YubiKey's serial number.
    pub serial: u32,
    /// The YubiKey's firmware version (from the attestation).
    pub firmware: Version,
    /// The retired slot holding the seal key (0x82..=0x95).
    pub seal_slot: Slot,
    /// The seal key, SEC1 compressed P-256 point (33 bytes).
    pub seal_public_key: [u8; 33],
    /// The seal key's attested PIN policy.
    pub seal_pin_policy: PinPolicy,
    /// The seal key's attested touch policy.
    pub seal_touch_policy: TouchPolicy,
    /// The sign key (slot 9c), SEC1 compressed P-256 point (33 bytes).
    pub sign_public_key: [u8; 33],
    /// The sign key's attested PIN policy.
    pub sign_pin_policy: PinPolicy,
    /// The sign key's attested touch policy.
    pub sign_touch_policy: TouchPolicy,
    /// The device attestation certificate from slot f9 (DER).
    pub device_attestation: Vec<u8>,
    /// The attestation certificate for the seal key (DER), signed by the f9 key.
    pub seal_attestation: Vec<u8>,
    /// The attestation certificate for the sign key (DER), signed by the f9 key.
    pub sign_attestation: Vec<u8>,
}
