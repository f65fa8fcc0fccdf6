//! The receiving half: the `AGE-PLUGIN-YUBIKEY-1…` identity stub (which card and slot
//! hold the key), and [`PivP256Identity`], which unwraps piv-p256 stanzas with the
//! card's ECDH so the private key never leaves the YubiKey.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use age_core::format::{FileKey, Stanza};
use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

use super::recipient::{PivP256Recipient, RecipientError, RecipientTag};
use super::stanza::{self, PivP256Stanza, StanzaError, STANZA_TYPE};
use super::{CardError, KeyAgreement};
use crate::piv::{Algorithm, Slot};

/// Human-readable part of the identity stub, fixed by age-plugin-yubikey.
pub const STUB_HRP: &str = "age-plugin-yubikey-";

/// Which card and slot hold a custodian's seal key: serial (u32 little-endian) || slot ||
/// recipient tag, printed as uppercase Bech32. It holds no secret: it tells
/// age-plugin-yubikey (or glasskeep) which YubiKey to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdentityStub {
    /// The YubiKey's serial number.
    pub serial: u32,
    /// The retired slot (82..=95) holding the key.
    pub slot: Slot,
    /// The tag of the key's recipient.
    pub tag: RecipientTag,
}

/// Why an identity stub string was refused.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StubError {
    /// Not valid Bech32 (bad characters, mixed case or bad checksum).
    #[error("not a valid AGE-PLUGIN-YUBIKEY-1… identity (Bech32 checksum or characters wrong): copy it again from `glasskeep custodian show`")]
    NotBech32,
    /// Bech32, but not an age-plugin-yubikey identity.
    #[error("expected an identity starting with AGE-PLUGIN-YUBIKEY-1, found prefix {found:?}")]
    WrongHrp {
        /// The human-readable part found (uppercased).
        found: String,
    },
    /// Not 9 data bytes.
    #[error("the identity holds {found} bytes, not 9 (serial, slot, tag)")]
    WrongLength {
        /// The length found.
        found: usize,
    },
    /// The slot byte is not a retired slot (82..=95), where age-plugin-yubikey keys live.
    #[error("the identity names slot {slot:02x}, which is not a retired slot (82..95)")]
    NotRetiredSlot {
        /// The slot byte found.
        slot: u8,
    },
    /// Decodes, but is not the canonical uppercase spelling.
    #[error("the identity is not in canonical form (uppercase Bech32): copy it again from `glasskeep custodian show`")]
    NotCanonical,
}

impl fmt::Display for IdentityStub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut data = [0u8; 9];
        data[..4].copy_from_slice(&self.serial.to_le_bytes());
        data[4] = self.slot.id();
        data[5..].copy_from_slice(&self.tag.0);
        // 19 + 1 + 15 + 6 characters: under Bech32's 90-character limit, cannot fail.
        let s = bech32::encode_upper::<Bech32>(Hrp::parse_unchecked(STUB_HRP), &data)
            .expect("a 9-byte stub fits in a Bech32 string");
        f.write_str(&s)
    }
}

impl FromStr for IdentityStub {
    type Err = StubError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let checked = CheckedHrpstring::new::<Bech32>(s).map_err(|_| StubError::NotBech32)?;
        let hrp = checked.hrp().to_lowercase();
        if hrp != STUB_HRP {
            return Err(StubError::WrongHrp {
                found: hrp.to_uppercase(),
            });
        }
        let data: Vec<u8> = checked.byte_iter().collect();
        let data: [u8; 9] = data
            .as_slice()
            .try_into()
            .map_err(|_| StubError::WrongLength { found: data.len() })?;
        let slot = Slot::retired(data[4]).ok_or(StubError::NotRetiredSlot { slot: data[4] })?;
        let mut serial = [0u8; 4];
        serial.copy_from_slice(&data[..4]);
        let mut tag = [0u8; 4];
        tag.copy_from_slice(&data[5..]);
        let stub = IdentityStub {
            serial: u32::from_le_bytes(serial),
            slot,
            tag: RecipientTag(tag),
        };
        // One stub, one string (identity files are compared and grepped as text).
        if stub.to_string() != s {
            return Err(StubError::NotCanonical);
        }
        Ok(stub)
    }
}

/// Why a [`PivP256Identity`] could not be set up from a card.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The slot is not a retired slot (82..=95).
    #[error("slot {slot} is not a retired slot (82..95): glasskeep seal keys live in a retired slot (default 82)")]
    NotRetiredSlot {
        /// The slot given.
        slot: Slot,
    },
    /// The slot holds no key.
    #[error("YubiKey {serial} has no key in slot {slot}: is this the custodian's card? (`glasskeep token list`)")]
    SlotEmpty {
        /// The card's serial.
        serial: u32,
        /// The slot.
        slot: Slot,
    },
    /// The slot's key is not P-256.
    #[error("the key in slot {slot} of YubiKey {serial} is not P-256, so it is not a glasskeep seal key")]
    NotP256 {
        /// The card's serial.
        serial: u32,
        /// The slot.
        slot: Slot,
    },
    /// The card reported a public key that is not a P-256 point.
    #[error("YubiKey {serial} reported an invalid public key for slot {slot}: {source}")]
    PublicKey {
        /// The card's serial.
        serial: u32,
        /// The slot.
        slot: Slot,
        /// Why it was refused.
        source: RecipientError,
    },
    /// The card present is not the custodian's.
    #[error("wrong YubiKey: this is {who}'s seal key, on the YubiKey with serial {expected}, but the card present has serial {found}: insert {who}'s YubiKey")]
    WrongCard {
        /// The custodian's card.
        expected: u32,
        /// The custodian's name.
        who: String,
        /// The card present.
        found: u32,
    },
    /// The card failed.
    #[error(transparent)]
    Card(#[from] CardError),
}

/// Why one stanza could not be unwrapped. Checked in this order.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum UnwrapError {
    /// The stanza is malformed.
    #[error(transparent)]
    Malformed(#[from] StanzaError),
    /// The stanza is sealed to another key.
    #[error("this file is sealed to the key with tag {file_tag}, but YubiKey {serial} slot {slot} holds the key with tag {card_tag}: insert the YubiKey of the custodian this envelope belongs to")]
    WrongRecipient {
        /// The tag in the stanza.
        file_tag: RecipientTag,
        /// The tag of this identity's key.
        card_tag: RecipientTag,
        /// This identity's card.
        serial: u32,
        /// This identity's slot.
        slot: Slot,
    },
    /// The card's ECDH failed (PIN not verified, touch timeout, card removed, …).
    #[error(transparent)]
    Card(CardError),
    /// The card's ECDH answer is not a 32-byte x-coordinate.
    #[error("YubiKey {serial} answered the key agreement with {found} bytes instead of 32: the card or its driver is misbehaving")]
    CardAnswer {
        /// The card's serial.
        serial: u32,
        /// The length received.
        found: usize,
    },
    /// The stanza body did not decrypt under the derived key: the body or ephemeral key
    /// was altered, or the tag collides with another key.
    #[error("the sealed share does not open with YubiKey {serial} slot {slot} (authentication failed): the envelope is damaged or forged")]
    KeyUnwrapFailed {
        /// This identity's card.
        serial: u32,
        /// This identity's slot.
        slot: Slot,
    },
}

/// A custodian's seal key on a card, usable as an [`age::Identity`].
///
/// The caller verifies the PIN on the token before unsealing (glasskeep prompts for it
/// once per ceremony); if it has not, the card refuses the ECDH and the card error is
/// passed through. A key with touch policy "always" blocks in ECDH until touched: print
/// "touch your YubiKey now" before calling [`crate::seal::unseal`].
pub struct PivP256Identity<'t> {
    // `age::Identity::unwrap_stanza` takes `&self`, but the card needs `&mut`: the
    // RefCell is borrowed only for the length of one ECDH call (see `card_ecdh`).
    token: RefCell<&'t mut dyn KeyAgreement>,
    serial: u32,
    slot: Slot,
    recipient: PivP256Recipient,
}

impl fmt::Debug for PivP256Identity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PivP256Identity")
            .field("serial", &self.serial)
            .field("slot", &self.slot)
            .field("recipient", &self.recipient)
            .finish_non_exhaustive()
    }
}

impl<'t> PivP256Identity<'t> {
    /// The key in `slot` of `token`, whose public key the caller already knows (from the
    /// custodian's enrollment in the log): no card round trip.
    pub fn new(
        token: &'t mut dyn KeyAgreement,
        slot: Slot,
        recipient: PivP256Recipient,
    ) -> Result<Self, IdentityError> {
        if Slot::retired(slot.id()).is_none() {
            return Err(IdentityError::NotRetiredSlot { slot });
        }
        let serial = token.serial();
        Ok(Self {
            token: RefCell::new(token),
            serial,
            slot,
            recipient,
        })
    }

    /// The key in `slot` of `token`, reading its public key from the card's metadata.
    pub fn from_card(token: &'t mut dyn KeyAgreement, slot: Slot) -> Result<Self, IdentityError> {
        if Slot::retired(slot.id()).is_none() {
            return Err(IdentityError::NotRetiredSlot { slot });
        }
        let serial = token.serial();
        let (algorithm, public_key) = token
            .public_key(slot)?
            .ok_or(IdentityError::SlotEmpty { serial, slot })?;
        if algorithm != Algorithm::P256 {
            return Err(IdentityError::NotP256 { serial, slot });
        }
        let recipient = PivP256Recipient::from_sec1(&public_key).map_err(|source| {
            IdentityError::PublicKey {
                serial,
                slot,
                source,
            }
        })?;
        Self::new(token, slot, recipient)
    }

    /// The card's serial number.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// The slot holding the key.
    pub fn slot(&self) -> Slot {
        self.slot
    }

    /// The matching recipient.
    pub fn recipient(&self) -> &PivP256Recipient {
        &self.recipient
    }

    /// The identity stub age-plugin-yubikey needs to find this key.
    pub fn stub(&self) -> IdentityStub {
        IdentityStub {
            serial: self.serial,
            slot: self.slot,
            tag: self.recipient.tag(),
        }
    }

    /// Unwraps one stanza, saying exactly why when it cannot.
    pub fn unwrap(&self, stanza: &Stanza) -> Result<FileKey, UnwrapError> {
        let parsed = PivP256Stanza::parse(stanza)?;
        let card_tag = self.recipient.tag();
        if !bool::from(parsed.tag.ct_eq(&card_tag)) {
            return Err(UnwrapError::WrongRecipient {
                file_tag: parsed.tag,
                card_tag,
                serial: self.serial,
                slot: self.slot,
            });
        }
        let shared_x = self.card_ecdh(&parsed.ephemeral_uncompressed())?;
        let key = stanza::derive_wrap_key(
            &shared_x,
            &parsed.ephemeral,
            &self.recipient.to_compressed(),
        );
        let file_key =
            stanza::unwrap_file_key(&key, &parsed.body).ok_or(UnwrapError::KeyUnwrapFailed {
                serial: self.serial,
                slot: self.slot,
            })?;
        Ok(FileKey::init_with_mut(|k| {
            k.copy_from_slice(file_key.as_ref())
        }))
    }

    fn card_ecdh(&self, peer: &[u8]) -> Result<Zeroizing<[u8; 32]>, UnwrapError> {
        // The borrow lives only inside this statement and nothing it calls can reach
        // back into this identity, so it cannot already be borrowed (RefCell is !Sync:
        // no other thread can hold it either).
        let answer = self
            .token
            .borrow_mut()
            .ecdh(self.slot, peer)
            .map_err(UnwrapError::Card)?;
        if answer.len() != 32 {
            return Err(UnwrapError::CardAnswer {
                serial: self.serial,
                found: answer.len(),
            });
        }
        let mut x = Zeroizing::new([0u8; 32]);
        x.copy_from_slice(&answer);
        Ok(x)
    }
}

impl age::Identity for PivP256Identity<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != STANZA_TYPE {
            return None;
        }
        match self.unwrap(stanza) {
            Ok(file_key) => Some(Ok(file_key)),
            // age's contract: `None` means "not for this identity", so another identity
            // (or another stanza) may still match.
            Err(UnwrapError::WrongRecipient { .. }) => None,
            Err(UnwrapError::Malformed(_)) => Some(Err(age::DecryptError::InvalidHeader)),
            Err(_) => Some(Err(age::DecryptError::KeyDecryptionFailed)),
        }
    }
}
