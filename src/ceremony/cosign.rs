//! The custodians present in a ceremony: their cards, opened once, their PINs, asked
//! once, and the checkpoint they cosign at the end.

use std::collections::BTreeMap;

use crate::custodian::CustodianRecord;
use crate::log::State;
use crate::piv::Slot;
use crate::secret::Pin;
use glasskeep_card::{Token, TokenError};

use super::{Cards, CeremonyError, Operator};

/// One present custodian: their card, opened, and their PIN, held in locked memory for
/// the ceremony so it is typed once even when the card is used twice (unseal + sign).
pub struct Present {
    pub(crate) name: String,
    pub(crate) serial: u32,
    pub(crate) record: CustodianRecord,
    pub(crate) token: Box<dyn Token>,
    pin: Pin,
}

impl Present {
    /// Verifies the PIN right before a key operation: the sign key's PIN policy is
    /// "always", so the card wants a VERIFY immediately before each signature.
    pub(crate) fn unlock(&mut self) -> Result<(), CeremonyError> {
        let r = self.token.verify_pin(&self.pin);
        r.map_err(|source| self.card_err(source))
    }

    pub(crate) fn card_err(&self, source: TokenError) -> CeremonyError {
        CeremonyError::Card {
            custodian: self.name.clone(),
            serial: self.serial,
            source,
        }
    }

    /// Signs a checkpoint digest with the sign key (slot 9c: PIN always, touch always),
    /// returning the card's DER signature.
    pub(crate) fn sign(
        &mut self,
        digest: &[u8; 32],
        op: &dyn Operator,
    ) -> Result<Vec<u8>, CeremonyError> {
        self.unlock()?;
        op.notice(&format!(
            "{}: touch YubiKey {} now to sign the log checkpoint",
            self.name, self.serial
        ));
        let r = self.token.sign(Slot::SIGNATURE, digest);
        r.map_err(|source| self.card_err(source))
    }
}

/// The custodians present, by name (ascending, as checkpoints list them).
#[derive(Default)]
pub(crate) struct Room {
    pub(crate) present: BTreeMap<String, Present>,
}

impl Room {
    /// Brings `name` into the room: opens their enrolled card and asks their PIN once,
    /// checking it straight away so a wrong PIN is caught before any work is done.
    pub(crate) fn join(
        &mut self,
        state: &State,
        cards: &mut dyn Cards,
        op: &mut dyn Operator,
        name: &str,
    ) -> Result<&mut Present, CeremonyError> {
        if !self.present.contains_key(name) {
            let c = state
                .custodian(name)
                .filter(|c| c.is_live())
                .ok_or_else(|| CeremonyError::NotEnrolled { name: name.into() })?;
            let serial = c.record.serial;
            let record = c.record.clone();
            op.notice(&format!("{name}: insert YubiKey {serial}"));
            let token = cards
                .open_for(serial, name)
                .map_err(|source| CeremonyError::Card {
                    custodian: name.to_owned(),
                    serial,
                    source,
                })?;
            let pin = op.pin(name, serial)?;
            let mut p = Present {
                name: name.to_owned(),
                serial,
                record,
                token,
                pin,
            };
            p.unlock()?;
            self.present.insert(name.to_owned(), p);
        }
        // The entry exists: it was found or inserted just above.
        Ok(self.present.get_mut(name).expect("custodian just joined"))
    }

    /// Brings in a custodian whose card is already open and whose PIN was checked (one
    /// being enrolled, who is not in the log yet).
    pub(crate) fn admit(&mut self, present: Present) {
        self.present.insert(present.name.clone(), present);
    }

    /// Every enrolled custodian whose card is inserted now, by name.
    pub(crate) fn detect(
        state: &State,
        cards: &mut dyn Cards,
    ) -> Result<Vec<String>, CeremonyError> {
        let present = cards.present().map_err(CeremonyError::Cards)?;
        let mut names: Vec<String> = present
            .iter()
            .filter_map(|c| {
                state
                    .custodian_by_serial(c.serial)
                    .filter(|x| x.is_live())
                    .map(|x| x.record.name.clone())
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

impl Present {
    /// A custodian being enrolled: their card is open and their PIN verified.
    pub(crate) fn new(record: CustodianRecord, token: Box<dyn Token>, pin: Pin) -> Self {
        Present {
            name: record.name.clone(),
            serial: record.serial,
            record,
            token,
            pin,
        }
    }
}
