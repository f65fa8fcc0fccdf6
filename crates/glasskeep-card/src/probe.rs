//! `doctor`'s card facts: for every reader, whether it is empty, held by another
//! process, or holds a YubiKey — and then its serial, firmware and the PIN and PUK tries
//! left. Nothing here spends a try or needs a PIN: the counters come from GET METADATA
//! (firmware 5.3+) or, for the PIN on older cards, from an empty VERIFY, which answers
//! `63Cx` without counting as an attempt.

use serde::Serialize;

use super::{Credential, Retries, Token, TokenError};

/// One PC/SC reader as `doctor` found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReaderProbe {
    /// The reader's name as pcscd gives it (not yet escaped for a terminal).
    pub reader: String,
    /// What the reader holds, or why it could not be looked into.
    pub state: ProbeState,
}

/// What a reader holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ProbeState {
    /// No card.
    Empty,
    /// Another process holds the reader exclusively (PC/SC sharing violation): no
    /// ceremony can use the card in it until that process lets go.
    Busy,
    /// A card that could not be used as a YubiKey PIV card.
    Unusable {
        /// Why, in words.
        reason: String,
    },
    /// A YubiKey PIV card.
    Card(CardFacts),
    /// A card, connected to but not spoken to (a ceremony's preflight): whether it is a
    /// YubiKey, and whose, is left to the ceremony, which opens only its custodians'.
    Present,
}

/// What `doctor` reports about a YubiKey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CardFacts {
    /// Serial number.
    pub serial: u32,
    /// Firmware, "5.7.1".
    pub firmware: String,
    /// PIN tries left (and the limit, when GET METADATA gives it); `None` when the card
    /// would not say.
    pub pin: Option<Tries>,
    /// PUK tries left and the limit; `None` before firmware 5.3, where only spending a
    /// PUK try would tell.
    pub puk: Option<Tries>,
    /// The PIN is still the factory value (firmware 5.3+ only).
    pub pin_default: Option<bool>,
    /// The PUK is still the factory value (firmware 5.3+ only).
    pub puk_default: Option<bool>,
}

/// Tries left of a PIN or PUK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Tries {
    /// Tries left before it blocks.
    pub left: u8,
    /// The retry limit, when the card says it.
    pub total: Option<u8>,
}

impl From<Retries> for Tries {
    fn from(r: Retries) -> Self {
        Tries {
            left: r.remaining,
            total: Some(r.total),
        }
    }
}

/// Reads serial, firmware and the PIN and PUK counters of an opened card, spending
/// no try.
pub fn card_facts(token: &mut dyn Token) -> Result<CardFacts, TokenError> {
    let mut facts = CardFacts {
        serial: token.serial(),
        firmware: token.version().to_string(),
        pin: None,
        puk: None,
        pin_default: None,
        puk_default: None,
    };
    match token.credential_metadata(Credential::Pin) {
        Ok(m) => {
            facts.pin = m.retries.map(Tries::from);
            facts.pin_default = Some(m.is_default);
            let puk = token.credential_metadata(Credential::Puk)?;
            facts.puk = puk.retries.map(Tries::from);
            facts.puk_default = Some(puk.is_default);
        }
        Err(TokenError::Unsupported { .. }) => {}
        Err(e) => return Err(e),
    }
    if facts.pin.is_none() {
        facts.pin = Some(Tries {
            left: token.pin_retries()?,
            total: None,
        });
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim_token::SimToken;
    use glasskeep_core::secret::Pin;
    use glasskeep_piv_sim::SimConfig;

    #[test]
    fn a_new_card_has_every_try_and_reading_them_spends_none() {
        let mut t = SimToken::new_in_memory(1001);
        for _ in 0..4 {
            let f = card_facts(&mut t).unwrap();
            assert_eq!(f.serial, 1001);
            assert_eq!(f.firmware, "5.7.1");
            assert_eq!(
                f.pin,
                Some(Tries {
                    left: 3,
                    total: Some(3)
                })
            );
            assert_eq!(
                f.puk,
                Some(Tries {
                    left: 3,
                    total: Some(3)
                })
            );
            assert_eq!((f.pin_default, f.puk_default), (Some(true), Some(true)));
        }
    }

    #[test]
    fn a_wrong_pin_shows_as_one_try_less() {
        let mut t = SimToken::new_in_memory(1002);
        let wrong = Pin::new(b"999999").unwrap();
        assert!(matches!(
            t.verify_pin(&wrong),
            Err(TokenError::WrongPin { retries_left: 2 })
        ));
        let f = card_facts(&mut t).unwrap();
        assert_eq!(f.pin.map(|p| p.left), Some(2));
        assert_eq!(f.puk.map(|p| p.left), Some(3));
    }

    #[test]
    fn before_firmware_5_3_the_pin_counter_comes_from_an_empty_verify() {
        let mut t = SimToken::with_config(SimConfig {
            serial: 1003,
            firmware: [5, 2, 7],
            ..SimConfig::default()
        });
        let wrong = Pin::new(b"999999").unwrap();
        assert!(t.verify_pin(&wrong).is_err());
        let f = card_facts(&mut t).unwrap();
        assert_eq!(f.firmware, "5.2.7");
        assert_eq!(
            f.pin,
            Some(Tries {
                left: 2,
                total: None
            })
        );
        assert_eq!((f.puk, f.pin_default, f.puk_default), (None, None, None));
        // Asking again spends nothing.
        assert_eq!(card_facts(&mut t).unwrap().pin.map(|p| p.left), Some(2));
    }
}
