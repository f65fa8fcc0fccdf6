//! Sealing shares to custodians' YubiKeys: age files with exactly one `piv-p256`
//! stanza, byte compatible with age-plugin-yubikey (docs/FORMAT.md, "Sealed share").
//!
//! [`seal`] needs only the custodian's public key ([`PivP256Recipient`]); [`unseal`]
//! needs the custodian's card ([`PivP256Identity`], ECDH inside the YubiKey). Before
//! asking for a card, [`stanza_target`] tells which key a file is sealed to.
//!
//! Reading checks, in this order: age header syntax, exactly one stanza, stanza type
//! piv-p256, stanza syntax, recipient tag, card ECDH, stanza body authentication,
//! header MAC, payload authentication. The first failure is reported.

mod agefile;
mod binding;
mod identity;
mod recipient;
mod stanza;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::io::Read;

use age_core::format::{FileKey, Stanza};
use thiserror::Error;
use zeroize::Zeroizing;

pub use binding::custodian_for;
pub use identity::{
    IdentityError, IdentityStub, PivP256Identity, StubError, UnwrapError, STUB_HRP,
};
pub use recipient::{
    PivP256Recipient, RecipientError, RecipientTag, COMPRESSED_LEN, RECIPIENT_HRP,
};
pub use stanza::{PivP256Stanza, StanzaError, BODY_LEN, STANZA_TYPE};

use crate::piv::{Algorithm, Slot};

/// A card's failure, carried in its own words: the core names no card errors, so the
/// caller that supplied the card reads its error back with [`CardError::downcast_ref`].
#[derive(Debug, Error)]
#[error(transparent)]
pub struct CardError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl CardError {
    /// Wraps a card implementation's error.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }

    /// The card implementation's error, if it is a `T`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }
}

/// What unsealing asks of a card: which card it is, the public key in a slot, and ECDH
/// with that key inside the card. `glasskeep-card` implements it for its tokens; the
/// private key never crosses this trait.
pub trait KeyAgreement {
    /// The card's serial number.
    fn serial(&self) -> u32;
    /// The algorithm and public key (SEC1 uncompressed) of the key in `slot`; `None` if
    /// the slot is empty.
    fn public_key(&mut self, slot: Slot) -> Result<Option<(Algorithm, Vec<u8>)>, CardError>;
    /// ECDH with the P-256 key in `slot`: `peer` is a SEC1 uncompressed point (65
    /// bytes); returns the shared x-coordinate (32 bytes).
    fn ecdh(&mut self, slot: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError>;
}

/// Why sealing failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SealError {
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed ({reason}): nothing was sealed; check the machine before any ceremony")]
    Random {
        /// What the OS reported.
        reason: String,
    },
}

/// Why [`stanza_target`] could not name the key a file is sealed to.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not a binary age v1 file (armored, truncated, another version, not age at all).
    #[error("not a sealed share: {reason}")]
    NotAgeFile {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// glasskeep writes exactly one stanza; this file has another number.
    #[error("the age file has {found} recipient stanzas; a glasskeep sealed share has exactly one: it was not written by glasskeep or was altered")]
    StanzaCount {
        /// The number of stanzas.
        found: usize,
    },
    /// The only stanza is not piv-p256.
    #[error("the age file is sealed with a {found:?} stanza, not piv-p256: it is not sealed to a YubiKey")]
    ForeignStanza {
        /// The stanza type (cut to 32 characters).
        found: String,
    },
    /// The piv-p256 stanza is malformed.
    #[error(transparent)]
    MalformedStanza(StanzaError),
}

/// Why [`unseal`] failed. Variants are in the order the checks run.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum UnsealError {
    /// Not a binary age v1 file.
    #[error("not a sealed share: {reason}")]
    NotAgeFile {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Not exactly one stanza.
    #[error("the age file has {found} recipient stanzas; a glasskeep sealed share has exactly one: it was not written by glasskeep or was altered")]
    StanzaCount {
        /// The number of stanzas.
        found: usize,
    },
    /// The only stanza is not piv-p256.
    #[error("the age file is sealed with a {found:?} stanza, not piv-p256: it is not sealed to a YubiKey")]
    ForeignStanza {
        /// The stanza type (cut to 32 characters).
        found: String,
    },
    /// The piv-p256 stanza is malformed.
    #[error(transparent)]
    MalformedStanza(StanzaError),
    /// The file is sealed to another key than the card's.
    #[error("this share is sealed to the key with tag {file_tag}, but YubiKey {serial} slot {slot} holds the key with tag {card_tag}: insert the YubiKey of the custodian this envelope belongs to (`glasskeep custodian list` shows each key's tag)")]
    WrongRecipient {
        /// The tag in the file (first 4 bytes of SHA-256 of the recipient point).
        file_tag: RecipientTag,
        /// The tag of the card's key.
        card_tag: RecipientTag,
        /// The card tried.
        serial: u32,
        /// The slot tried.
        slot: Slot,
    },
    /// The card failed (PIN not verified, touch timeout, card removed, …).
    #[error(transparent)]
    Card(CardError),
    /// The card's ECDH answer is not 32 bytes.
    #[error("YubiKey {serial} answered the key agreement with {found} bytes instead of 32: the card or its driver is misbehaving")]
    CardAnswer {
        /// The card.
        serial: u32,
        /// The length received.
        found: usize,
    },
    /// The stanza body did not authenticate: altered body or ephemeral key.
    #[error("the sealed share does not open with YubiKey {serial} slot {slot} (authentication failed): the envelope is damaged or forged")]
    KeyUnwrapFailed {
        /// The card.
        serial: u32,
        /// The slot.
        slot: Slot,
    },
    /// The file key opened but the header MAC is wrong: the header was altered.
    #[error("the sealed share's header MAC is wrong: the envelope is damaged or forged")]
    HeaderMac,
    /// The payload did not authenticate (altered, truncated or extended).
    #[error("the sealed share's contents fail authentication (altered or truncated): the envelope is damaged or forged")]
    Payload,
}

impl From<TargetError> for UnsealError {
    fn from(e: TargetError) -> Self {
        match e {
            TargetError::NotAgeFile { reason } => UnsealError::NotAgeFile { reason },
            TargetError::StanzaCount { found } => UnsealError::StanzaCount { found },
            TargetError::ForeignStanza { found } => UnsealError::ForeignStanza { found },
            TargetError::MalformedStanza(e) => UnsealError::MalformedStanza(e),
        }
    }
}

impl From<UnwrapError> for UnsealError {
    fn from(e: UnwrapError) -> Self {
        match e {
            UnwrapError::Malformed(e) => UnsealError::MalformedStanza(e),
            UnwrapError::WrongRecipient {
                file_tag,
                card_tag,
                serial,
                slot,
            } => UnsealError::WrongRecipient {
                file_tag,
                card_tag,
                serial,
                slot,
            },
            UnwrapError::Card(e) => UnsealError::Card(e),
            UnwrapError::CardAnswer { serial, found } => UnsealError::CardAnswer { serial, found },
            UnwrapError::KeyUnwrapFailed { serial, slot } => {
                UnsealError::KeyUnwrapFailed { serial, slot }
            }
        }
    }
}

/// Seals `plaintext` to `recipient`: a binary age v1 file with one piv-p256 stanza.
pub fn seal(plaintext: &[u8], recipient: &PivP256Recipient) -> Result<Vec<u8>, SealError> {
    let random = |e: getrandom::Error| SealError::Random {
        reason: e.to_string(),
    };
    let mut file_key = Zeroizing::new([0u8; 16]);
    getrandom::fill(file_key.as_mut()).map_err(random)?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(random)?;
    let ephemeral = recipient::fresh_ephemeral().map_err(random)?;
    let stanza = recipient
        .wrap_with_ephemeral(&file_key, &ephemeral)
        .to_stanza();
    Ok(agefile::write(&stanza, &file_key, &nonce, plaintext))
}

/// The tag of the key `age_file` is sealed to, read without a card: compare it with
/// each custodian's [`PivP256Recipient::tag`] to know whose YubiKey to ask for.
pub fn stanza_target(age_file: &[u8]) -> Result<RecipientTag, TargetError> {
    let probe = Gate {
        identity: None,
        outcome: RefCell::new(None),
    };
    let decryptor = open_header(age_file)?;
    // The probe never returns a file key, so age stops after handing it the stanzas.
    let _ = decryptor.decrypt(std::iter::once(&probe as &dyn age::Identity));
    match probe.outcome.into_inner() {
        Some(Outcome::Target(tag)) => Ok(tag),
        Some(Outcome::Refused(UnsealError::NotAgeFile { reason })) => {
            Err(TargetError::NotAgeFile { reason })
        }
        Some(Outcome::Refused(UnsealError::StanzaCount { found })) => {
            Err(TargetError::StanzaCount { found })
        }
        Some(Outcome::Refused(UnsealError::ForeignStanza { found })) => {
            Err(TargetError::ForeignStanza { found })
        }
        Some(Outcome::Refused(UnsealError::MalformedStanza(e))) => {
            Err(TargetError::MalformedStanza(e))
        }
        _ => Err(TargetError::NotAgeFile {
            reason: "the header has no recipient stanza",
        }),
    }
}

/// Opens a sealed share with the custodian's card. The PIN must already be verified on
/// the identity's token; the card may wait for a touch.
pub fn unseal(
    age_file: &[u8],
    identity: &PivP256Identity<'_>,
) -> Result<Zeroizing<Vec<u8>>, UnsealError> {
    let gate = Gate {
        identity: Some(identity),
        outcome: RefCell::new(None),
    };
    let decryptor = open_header(age_file)?;
    let result = decryptor.decrypt(std::iter::once(&gate as &dyn age::Identity));
    if let Some(Outcome::Refused(e)) = gate.outcome.take() {
        return Err(e);
    }
    let mut reader = match result {
        Ok(reader) => reader,
        Err(age::DecryptError::InvalidMac) => return Err(UnsealError::HeaderMac),
        // The gate records every refusal it makes and age fails after a file key only
        // on the MAC, so this arm is defensive.
        Err(_) => {
            return Err(UnsealError::NotAgeFile {
                reason: "its age header is malformed",
            })
        }
    };
    // The plaintext is shorter than the file: reserving that much up front means the
    // buffer never reallocates, so no unwiped copy of the plaintext is left behind.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(age_file.len()));
    reader
        .read_to_end(&mut plaintext)
        .map_err(|_| UnsealError::Payload)?;
    Ok(plaintext)
}

fn open_header(age_file: &[u8]) -> Result<age::Decryptor<&[u8]>, TargetError> {
    age::Decryptor::new_buffered(age_file).map_err(|e| TargetError::NotAgeFile {
        // Named from the bytes rather than from age's error, which reports a v1 header
        // it cannot parse (e.g. with no stanza) as an unknown version.
        reason: if matches!(e, age::DecryptError::Io(_)) {
            "the file ends inside the age header (truncated)"
        } else if age_file.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
            "it is ASCII-armored; glasskeep reads binary age files (use `glasskeep envelope export-age` output as is)"
        } else if age_file.starts_with(agefile::VERSION_LINE) {
            "its age header is malformed"
        } else if age_file.starts_with(b"age-encryption.org/") {
            "it is an age file of an unknown version; this glasskeep reads age v1 only"
        } else {
            "it is not an age file"
        },
    })
}

/// What the gate saw: the stanza's target, or the first refusal.
enum Outcome {
    Target(RecipientTag),
    Refused(UnsealError),
}

/// Runs glasskeep's header policy inside age's decryptor (which hands every identity the
/// whole stanza list) and keeps the exact reason for a refusal, which age's own error
/// type cannot carry. Without an identity it only records the target tag.
struct Gate<'i, 't> {
    identity: Option<&'i PivP256Identity<'t>>,
    outcome: RefCell<Option<Outcome>>,
}

impl Gate<'_, '_> {
    fn check(stanzas: &[Stanza]) -> Result<&Stanza, TargetError> {
        let [stanza] = stanzas else {
            return Err(TargetError::StanzaCount {
                found: stanzas.len(),
            });
        };
        if stanza.tag != STANZA_TYPE {
            return Err(TargetError::ForeignStanza {
                found: stanza.tag.chars().take(32).collect(),
            });
        }
        Ok(stanza)
    }

    fn run(&self, stanzas: &[Stanza]) -> Result<Option<FileKey>, UnsealError> {
        let stanza = Self::check(stanzas)?;
        let parsed = PivP256Stanza::parse(stanza).map_err(TargetError::MalformedStanza)?;
        match self.identity {
            None => {
                *self.outcome.borrow_mut() = Some(Outcome::Target(parsed.tag));
                Ok(None)
            }
            Some(identity) => Ok(Some(identity.unwrap(stanza)?)),
        }
    }
}

impl age::Identity for Gate<'_, '_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        match self.run(stanzas) {
            Ok(Some(file_key)) => Some(Ok(file_key)),
            Ok(None) => None,
            Err(e) => {
                *self.outcome.borrow_mut() = Some(Outcome::Refused(e));
                Some(Err(age::DecryptError::NoMatchingKeys))
            }
        }
    }
}
