//! The custodians present in a ceremony: their cards, opened once, their PINs, asked
//! once, and the checkpoint they cosign at the end.

use std::collections::BTreeMap;

use crate::custodian::CustodianRecord;
use crate::log::checkpoint::CheckpointError;
use crate::log::{CheckpointSigner, SignError, State, StoreError, Transaction};
use crate::piv::Slot;
use crate::secret::Pin;
use glasskeep_card::{Token, TokenError};

use super::{Cards, CeremonyError, Operator};

/// One present custodian: their card, opened, and their PIN, held in locked memory for
/// the ceremony so it is typed once even when the card is used twice (unseal + sign).
pub(crate) struct Present {
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
            let c = state.custodian(name).ok_or_else(|| {
                CeremonyError::Refused(format!(
                    "{name} is not an enrolled custodian: see `glasskeep custodian list`"
                ))
            })?;
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

    /// Brings in a custodian whose card is already open and whose PIN was checked (the
    /// one being enrolled, who is not in the log yet).
    pub(crate) fn admit(&mut self, record: CustodianRecord, token: Box<dyn Token>, pin: Pin) {
        self.present.insert(
            record.name.clone(),
            Present {
                name: record.name.clone(),
                serial: record.serial,
                record,
                token,
                pin,
            },
        );
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
                    .map(|x| x.record.name.clone())
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Stages a checkpoint over the transaction's head, signed by everyone present
    /// (each card: VERIFY, then a touch, then the signature).
    pub(crate) fn cosign(
        &mut self,
        tx: &mut Transaction<'_>,
        op: &dyn Operator,
        time: u64,
    ) -> Result<u64, CeremonyError> {
        if self.present.is_empty() {
            return Err(CeremonyError::Refused(
                "no custodian is present to cosign: insert at least one enrolled custodian's YubiKey".into(),
            ));
        }
        let serials: BTreeMap<String, u32> = self
            .present
            .values()
            .map(|p| (p.name.clone(), p.serial))
            .collect();
        let mut signers: Vec<CardSigner<'_>> = self
            .present
            .values_mut()
            .map(|p| CardSigner { p, op })
            .collect();
        let mut refs: Vec<&mut dyn CheckpointSigner> = signers
            .iter_mut()
            .map(|s| s as &mut dyn CheckpointSigner)
            .collect();
        tx.checkpoint(&mut refs, time).map_err(|e| match e {
            // A card that failed while signing is a card problem, named like any other.
            StoreError::Checkpoint(CheckpointError::Signer { name, source }) => {
                match source.downcast::<TokenError>() {
                    Ok(source) => CeremonyError::Card {
                        serial: serials.get(&name).copied().unwrap_or_default(),
                        custodian: name,
                        source,
                    },
                    // Only cards sign here, so this arm is never taken; it keeps the
                    // signer's words if that ever changes.
                    Err(source) => {
                        StoreError::Checkpoint(CheckpointError::Signer { name, source }).into()
                    }
                }
            }
            e => e.into(),
        })
    }
}

struct CardSigner<'a> {
    p: &'a mut Present,
    op: &'a dyn Operator,
}

impl CheckpointSigner for CardSigner<'_> {
    fn custodian(&self) -> &str {
        &self.p.name
    }

    fn sign_digest(&mut self, digest: &[u8; 32]) -> Result<Vec<u8>, SignError> {
        self.p
            .token
            .verify_pin(&self.p.pin)
            .map_err(SignError::new)?;
        self.op.notice(&format!(
            "{}: touch YubiKey {} now to sign the log checkpoint",
            self.p.name, self.p.serial
        ));
        self.p
            .token
            .sign(Slot::SIGNATURE, digest)
            .map_err(SignError::new)
    }
}
