//! The card layer: everything glasskeep asks of a YubiKey sits behind [`Token`], so the
//! rest of the code never sees APDUs or the `yubikey` crate's types.
//!
//! Implementations: the real YubiKey over PC/SC (`yubikey.rs`), and — in unit tests
//! only — the simulated card's in-process front.

pub mod attestation;
pub mod enroll;
pub mod list;
#[cfg(test)]
pub(crate) mod sim_token;
mod tlv;
mod yubikey;

pub use self::list::{render_token_list, CardReport, ReaderReport, ReaderState, SlotReport};
pub use self::yubikey::{list_cards, list_readers, open, open_custodian};

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::secret::Pin;

/// A PIV key slot.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot(u8);

impl Slot {
    /// 9a, PIV authentication.
    pub const AUTHENTICATION: Slot = Slot(0x9a);
    /// 9c, digital signature: glasskeep's *sign* key (PIN always, touch always).
    pub const SIGNATURE: Slot = Slot(0x9c);
    /// 9d, key management.
    pub const KEY_MANAGEMENT: Slot = Slot(0x9d);
    /// 9e, card authentication.
    pub const CARD_AUTHENTICATION: Slot = Slot(0x9e);
    /// 82, the first retired slot: glasskeep's default *seal* key.
    pub const RETIRED1: Slot = Slot(0x82);
    /// f9, the device attestation key and certificate.
    pub const ATTESTATION: Slot = Slot(0xf9);

    /// A slot id, if it is one a PIV card has.
    pub fn new(id: u8) -> Option<Slot> {
        match id {
            0x9a | 0x9c | 0x9d | 0x9e | 0x82..=0x95 | 0xf9 => Some(Slot(id)),
            _ => None,
        }
    }

    /// A retired key-management slot (82..=95), where age-plugin-yubikey keeps keys.
    pub fn retired(id: u8) -> Option<Slot> {
        (0x82..=0x95).contains(&id).then_some(Slot(id))
    }

    /// The slot id byte.
    pub fn id(self) -> u8 {
        self.0
    }

    /// Every slot that can hold a private key: 9a, 9c, 9d, 9e, then 82..=95.
    pub fn key_slots() -> impl Iterator<Item = Slot> {
        [0x9a, 0x9c, 0x9d, 0x9e]
            .into_iter()
            .chain(0x82..=0x95)
            .map(Slot)
    }

    /// The PIV data object holding this slot's certificate (SP 800-73-4 part 1,
    /// table 3; Yubico's retired slots 5fc10d..5fc120, attestation 5fff01).
    pub(crate) fn object_id(self) -> u32 {
        match self.0 {
            0x9a => 0x5f_c105,
            0x9c => 0x5f_c10a,
            0x9d => 0x5f_c10b,
            0x9e => 0x5f_c101,
            0xf9 => 0x5f_ff01,
            r => 0x5f_c10d + u32::from(r - 0x82),
        }
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slot({:02x})", self.0)
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}", self.0)
    }
}

/// Key algorithms glasskeep generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
    /// A key type glasskeep does not use (RSA, Ed25519, X25519), by its PIV algorithm
    /// id; reported by `token list`, never generated.
    Other(u8),
}

/// When the card asks for the PIN before using a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinPolicy {
    /// Never.
    Never,
    /// Once per session.
    Once,
    /// Before every operation.
    Always,
}

/// When the card asks for a physical touch before using a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TouchPolicy {
    /// Never.
    Never,
    /// Before every operation.
    Always,
    /// At most every 15 seconds.
    Cached,
}

/// Firmware version of a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Patch.
    pub patch: u8,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A card seen in a reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardInfo {
    /// The PC/SC reader name.
    pub reader: String,
    /// The card's serial number.
    pub serial: u32,
    /// The card's firmware.
    pub version: Version,
}

/// Where a slot's key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Generated on the card (never left it).
    Generated,
    /// Imported from outside.
    Imported,
}

/// What GET METADATA tells about a slot's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotMetadata {
    /// The key algorithm.
    pub algorithm: Algorithm,
    /// The PIN policy.
    pub pin_policy: PinPolicy,
    /// The touch policy.
    pub touch_policy: TouchPolicy,
    /// Generated or imported.
    pub origin: KeyOrigin,
    /// The public key, SEC1 uncompressed (65 bytes for P-256).
    pub public_key: Vec<u8>,
}

/// Why a card operation failed. Each message says what to do next.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The PC/SC daemon is not reachable.
    #[error("cannot reach the smart-card service (pcscd): start it with `sudo systemctl start pcscd` or `sudo pcscd`")]
    PcscUnavailable,
    /// pcscd runs but lists no reader.
    #[error("no smart-card reader found: plug in the YubiKey")]
    NoReader,
    /// Readers exist but none holds a PIV card.
    #[error("no YubiKey found in any reader: insert the custodian's YubiKey")]
    NoCard,
    /// Several cards are present and the command needs exactly one.
    #[error("{} YubiKeys are present (serials {}): remove all but one, or name one with --serial", .serials.len(), fmt_serials(.serials))]
    SeveralCards {
        /// The serials found.
        serials: Vec<u32>,
    },
    /// The card present is not the one expected.
    #[error("wrong YubiKey: expected serial {expected}{}, found {}", .who.as_deref().map(|w| format!(" ({w})")).unwrap_or_default(), fmt_serials(.found))]
    WrongCard {
        /// The serial needed.
        expected: u32,
        /// Whose card that is, if known.
        who: Option<String>,
        /// The serials present.
        found: Vec<u32>,
    },
    /// The PIN was refused.
    #[error("wrong PIN: {retries_left} attempt(s) left before the PIN is blocked")]
    WrongPin {
        /// Attempts left.
        retries_left: u8,
    },
    /// A key needs the PIN and it was not verified (for PIN policy "always": not
    /// verified immediately before this operation).
    #[error("the PIN must be entered before using this key: enter it and try again")]
    PinNotVerified,
    /// The PIN is blocked.
    #[error("the PIN is blocked: unblock it with the PUK (`ykman piv access unblock-pin`), then try again")]
    PinBlocked,
    /// The operation needed a touch and none came in time (the card answers 6982,
    /// "security status not satisfied", once its touch timer of about 15 s runs out).
    #[error("the YubiKey was not touched in time: try again and touch it when it blinks")]
    TouchTimeout,
    /// The slot already holds a key and overwriting was not requested.
    #[error("slot {slot} already holds a key: refusing to overwrite it (pass --force-overwrite only if that key is no longer needed)")]
    SlotOccupied {
        /// The slot.
        slot: Slot,
    },
    /// The slot holds no key.
    #[error("slot {slot} holds no key")]
    SlotEmpty {
        /// The slot.
        slot: Slot,
    },
    /// The management key was refused (it is not the factory default).
    #[error("the YubiKey's management key is not the default: reset the PIV application or enroll with a card whose management key is default")]
    ManagementKey,
    /// The card does not support the operation (firmware too old, algorithm).
    #[error("this YubiKey does not support {what}")]
    Unsupported {
        /// What is missing.
        what: String,
    },
    /// The card answered with an unexpected status word.
    #[error("the YubiKey refused {operation} (status {sw:04x})")]
    Card {
        /// What was being done.
        operation: &'static str,
        /// The status word.
        sw: u16,
    },
    /// The card answered something glasskeep cannot parse.
    #[error("the YubiKey's answer to {operation} is malformed: {reason}")]
    Malformed {
        /// What was being done.
        operation: &'static str,
        /// Why it is unusable.
        reason: String,
    },
    /// The card or driver failed in a way no other variant describes.
    #[error("the YubiKey could not {operation}: {reason}")]
    Failed {
        /// What was being done.
        operation: &'static str,
        /// What the driver said.
        reason: String,
    },
    /// PC/SC failed in some other way.
    #[error("smart-card error: {0}")]
    Pcsc(String),
}

fn fmt_serials(s: &[u32]) -> String {
    if s.is_empty() {
        return "none".into();
    }
    s.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// Whether `slot` holds a key. GET METADATA says so directly (firmware 5.3+); before
/// that, a stored certificate is the only hint, so an occupied slot without certificate
/// goes unnoticed there (glasskeep always stores one after generating).
pub(crate) fn slot_occupied(token: &mut dyn Token, slot: Slot) -> Result<bool, TokenError> {
    match token.metadata(slot) {
        Ok(m) => Ok(m.is_some()),
        Err(TokenError::Unsupported { .. }) => Ok(token.read_certificate(slot)?.is_some()),
        Err(e) => Err(e),
    }
}

/// Cards answer 6982 ("security status not satisfied") both for a missing PIN and for
/// a touch that did not come in time (about 15 s on a YubiKey; the simulator answers
/// the same), and the `yubikey` crate reports both as one error. Tell them apart from
/// the slot's policy and whether the PIN was verified as that policy needs:
/// `pin_session` (verified in this session, enough for "once") and `pin_fresh` (no
/// PIN-always operation since, needed for "always").
pub(crate) fn security_status(
    policy: Option<(PinPolicy, TouchPolicy)>,
    pin_session: bool,
    pin_fresh: bool,
) -> TokenError {
    let pin_ok = |pin| match pin {
        PinPolicy::Never => true,
        PinPolicy::Once => pin_session,
        PinPolicy::Always => pin_fresh,
    };
    match policy {
        Some((pin, _)) if !pin_ok(pin) => TokenError::PinNotVerified,
        Some((_, TouchPolicy::Never)) => TokenError::Card {
            operation: "use the key",
            sw: 0x6982,
        },
        Some(_) => TokenError::TouchTimeout,
        None if !pin_session => TokenError::PinNotVerified,
        None => TokenError::TouchTimeout,
    }
}

/// One opened card. Methods that use a key with touch policy "always" block until the
/// card is touched: callers print "touch your YubiKey now" before calling them.
pub trait Token {
    /// The reader the card sits in.
    fn reader(&self) -> &str;
    /// The card's serial number.
    fn serial(&self) -> u32;
    /// The card's firmware version.
    fn version(&self) -> Version;
    /// Verifies the PIN for this session.
    fn verify_pin(&mut self, pin: &Pin) -> Result<(), TokenError>;
    /// PIN attempts left (without spending one).
    fn pin_retries(&mut self) -> Result<u8, TokenError>;
    /// Generates a key in `slot` (authenticating with the default management key) and
    /// returns its public key, SEC1 uncompressed. Refuses an occupied slot unless
    /// `overwrite`.
    fn generate(
        &mut self,
        slot: Slot,
        algorithm: Algorithm,
        pin_policy: PinPolicy,
        touch_policy: TouchPolicy,
        overwrite: bool,
    ) -> Result<Vec<u8>, TokenError>;
    /// ECDH with the P-256 key in `slot`: `peer` is a SEC1 uncompressed point (65 bytes);
    /// returns the shared x-coordinate (32 bytes).
    fn ecdh(&mut self, slot: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError>;
    /// ECDSA over a prehashed `digest` with the key in `slot`; returns a DER signature.
    fn sign(&mut self, slot: Slot, digest: &[u8]) -> Result<Vec<u8>, TokenError>;
    /// The card's attestation certificate (DER) for the key in `slot`.
    fn attest(&mut self, slot: Slot) -> Result<Vec<u8>, TokenError>;
    /// The certificate stored for `slot` (DER), if any; `Slot::ATTESTATION` gives f9.
    fn read_certificate(&mut self, slot: Slot) -> Result<Option<Vec<u8>>, TokenError>;
    /// Stores a certificate (DER) for `slot` (authenticating with the management key).
    fn write_certificate(&mut self, slot: Slot, der: &[u8]) -> Result<(), TokenError>;
    /// GET METADATA for `slot`; `None` if the slot is empty.
    fn metadata(&mut self, slot: Slot) -> Result<Option<SlotMetadata>, TokenError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_status_tells_pin_from_touch() {
        use PinPolicy::*;
        use TouchPolicy::Always as Touch;
        let cases = [
            (Some((Once, Touch)), false, false, "pin"),
            (Some((Once, Touch)), true, false, "touch"),
            (Some((Always, Touch)), true, false, "pin"),
            (Some((Always, Touch)), true, true, "touch"),
            (Some((Never, Touch)), false, false, "touch"),
            (Some((Never, TouchPolicy::Never)), false, false, "card"),
            (None, false, false, "pin"),
            (None, true, false, "touch"),
        ];
        for (policy, session, fresh, want) in cases {
            let got = match security_status(policy, session, fresh) {
                TokenError::PinNotVerified => "pin",
                TokenError::TouchTimeout => "touch",
                TokenError::Card { sw: 0x6982, .. } => "card",
                other => panic!("{other:?}"),
            };
            assert_eq!(got, want, "{policy:?} session={session} fresh={fresh}");
        }
    }

    #[test]
    fn messages_say_what_to_do_next() {
        let msg = |e: TokenError| e.to_string();
        assert!(msg(TokenError::PcscUnavailable).contains("sudo pcscd"));
        assert_eq!(
            msg(TokenError::SeveralCards { serials: vec![1001, 1002] }),
            "2 YubiKeys are present (serials 1001, 1002): remove all but one, or name one with --serial"
        );
        assert_eq!(
            msg(TokenError::WrongCard {
                expected: 1001,
                who: Some("alice".into()),
                found: vec![1002]
            }),
            "wrong YubiKey: expected serial 1001 (alice), found 1002"
        );
        assert_eq!(
            msg(TokenError::WrongPin { retries_left: 2 }),
            "wrong PIN: 2 attempt(s) left before the PIN is blocked"
        );
        assert!(msg(TokenError::PinBlocked).contains("PUK"));
        assert!(msg(TokenError::TouchTimeout).contains("touch"));
        assert!(msg(TokenError::SlotOccupied {
            slot: Slot::RETIRED1
        })
        .contains("slot 82"));
    }

    #[test]
    fn slot_objects_follow_the_piv_table() {
        assert_eq!(Slot::SIGNATURE.object_id(), 0x5f_c10a);
        assert_eq!(Slot::RETIRED1.object_id(), 0x5f_c10d);
        assert_eq!(Slot::retired(0x95).unwrap().object_id(), 0x5f_c120);
        assert_eq!(Slot::ATTESTATION.object_id(), 0x5f_ff01);
        assert_eq!(Slot::key_slots().count(), 24);
        assert_eq!(Slot::new(0x81), None);
        assert_eq!(Slot::retired(0x9c), None);
    }
}
