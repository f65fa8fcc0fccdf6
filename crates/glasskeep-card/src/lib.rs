//! The card layer: everything glasskeep asks of a YubiKey sits behind [`Token`], so the
//! rest of the code never sees APDUs or the `yubikey` crate's types.
//!
//! Implementations: the real YubiKey over PC/SC (`yubikey.rs`), and — in unit tests
//! only — the simulated card's in-process front (`sim_token.rs`). The PIV vocabulary
//! (slots, policies, versions) and attestation checking are pure data and live in
//! `glasskeep-core`; this crate adds what needs a card.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod credentials;
pub mod enroll;
pub mod list;
pub mod probe;
#[cfg(test)]
pub(crate) mod sim_token;
mod yubikey;

pub use self::credentials::{Credential, CredentialMetadata, ManagementKeyAlgorithm, Retries};
pub use self::list::{render_token_list, CardReport, ReaderReport, ReaderState, SlotReport};
pub use self::probe::{card_facts, CardFacts, ProbeState, ReaderProbe, Tries};
pub use self::yubikey::{
    list_cards, list_readers, open, open_custodian, open_trying_last, probe_readers,
    reader_presence,
};

use thiserror::Error;
use zeroize::Zeroizing;

use glasskeep_core::piv::tlv;
use glasskeep_core::piv::{
    Algorithm, KeyOrigin, PinPolicy, Slot, SlotMetadata, TouchPolicy, Version,
};
use glasskeep_core::seal::{CardError, KeyAgreement};
use glasskeep_core::secret::Pin;

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
    /// The factory management key was refused (someone changed it) and no other was
    /// given.
    #[error("the YubiKey's management key is not the factory default: type it when asked, or store it PIN-protected with `ykman piv access change-management-key --generate --protect`")]
    ManagementKey,
    /// The management key given (typed, or stored PIN-protected on the card) was
    /// refused by the card.
    #[error("the YubiKey refused the management key: it is not this card's key; check it, or set a new one with `ykman piv access change-management-key --generate --protect`")]
    ManagementKeyRefused,
    /// The management key given does not fit the card's algorithm.
    #[error("this YubiKey's management key is {algorithm} ({} bytes, {} hex digits), but the key given has {found} bytes", .algorithm.key_len(), .algorithm.key_len() * 2)]
    ManagementKeyLength {
        /// The card's management key algorithm.
        algorithm: ManagementKeyAlgorithm,
        /// Length of the key given.
        found: usize,
    },
    /// ADMIN DATA says the management key is stored PIN-protected but PRINTED holds
    /// none (a tool wrote half of it).
    #[error("the YubiKey claims a PIN-protected management key but holds none: set one again with `ykman piv access change-management-key --generate --protect`")]
    ProtectedManagementKeyMissing,
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

/// Refuses a certificate too large for a slot object, before anything is sent.
pub(crate) fn check_certificate_len(der: &[u8]) -> Result<(), TokenError> {
    if der.len() > tlv::MAX_CERTIFICATE_LEN {
        return Err(TokenError::Unsupported {
            what: format!(
                "certificates of {} bytes (at most {} fit in a slot)",
                der.len(),
                tlv::MAX_CERTIFICATE_LEN
            ),
        });
    }
    Ok(())
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
    /// Lets go of a card that stopped answering (pulled out mid-operation) without
    /// asking the reader to reset it: a reset sent to a card that is gone can leave the
    /// reader unable to see the card when it comes back. Dropping a token resets the
    /// card, which is right for a card that is still there (its PIN state is cleared).
    fn abandon(self: Box<Self>) {}
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
    /// What GET METADATA says about the PIN, PUK or management key (firmware 5.3+;
    /// `Unsupported` before). Spends no PIN or PUK try.
    fn credential_metadata(
        &mut self,
        credential: Credential,
    ) -> Result<CredentialMetadata, TokenError>;
    /// Authenticates with management key `key` (its algorithm as GET METADATA reports
    /// it; 3DES on cards without GET METADATA) and keeps using it for [`generate`] and
    /// [`write_certificate`]. A wrong key is `ManagementKeyRefused`.
    ///
    /// [`generate`]: Token::generate
    /// [`write_certificate`]: Token::write_certificate
    fn authenticate_management_key(&mut self, key: &[u8]) -> Result<(), TokenError>;
    /// If the card stores its management key PIN-protected (as `ykman piv access
    /// change-management-key --protect` leaves it), authenticates with that key and
    /// keeps using it as [`authenticate_management_key`] does; `Ok(false)` if the card
    /// stores none. The PIN must have been verified first. The key never leaves the
    /// token.
    ///
    /// [`authenticate_management_key`]: Token::authenticate_management_key
    fn authenticate_protected_management_key(&mut self) -> Result<bool, TokenError>;
    /// Generates a key in `slot` and returns its public key, SEC1 uncompressed.
    /// Authenticates with the management key given to
    /// [`authenticate_management_key`](Token::authenticate_management_key) (or the
    /// protected one), else the factory key. Refuses an occupied slot unless
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
    /// Stores a certificate (DER) for `slot` (authenticating with the management key, as
    /// [`generate`](Token::generate) does).
    fn write_certificate(&mut self, slot: Slot, der: &[u8]) -> Result<(), TokenError>;
    /// GET METADATA for `slot`; `None` if the slot is empty.
    fn metadata(&mut self, slot: Slot) -> Result<Option<SlotMetadata>, TokenError>;
    /// Takes `slot`'s PIN and touch policies as known (the custodian's attested
    /// enrollment record holds them), so that using the key need not read them from
    /// the card first. They only decide how a refusal is reported (PIN or touch); the
    /// card enforces its own policies whatever is assumed here. A token that never
    /// reads policies before using a key has nothing to save and ignores it.
    fn assume_policy(&mut self, slot: Slot, pin: PinPolicy, touch: TouchPolicy) {
        let _ = (slot, pin, touch);
    }
}

/// Unsealing reaches a card through the core's [`KeyAgreement`]; the card's own error
/// travels inside it and comes back out with `CardError::downcast_ref::<TokenError>()`.
impl KeyAgreement for Box<dyn Token> {
    fn serial(&self) -> u32 {
        Token::serial(self.as_ref())
    }

    fn public_key(&mut self, slot: Slot) -> Result<Option<(Algorithm, Vec<u8>)>, CardError> {
        let meta = self.metadata(slot).map_err(CardError::new)?;
        Ok(meta.map(|m| (m.algorithm, m.public_key)))
    }

    fn ecdh(&mut self, slot: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
        Token::ecdh(self.as_mut(), slot, peer).map_err(CardError::new)
    }
}

/// The card error inside a core error that carries one, if it is a [`TokenError`].
pub fn token_error(e: &CardError) -> Option<&TokenError> {
    e.downcast_ref::<TokenError>()
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
}
