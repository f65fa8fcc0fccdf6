//! Enrolling a custodian: keys generated and attested on their YubiKey, the enroll entry
//! and a checkpoint signed with the new sign key.

use std::path::Path;

use glasskeep_card::enroll::EnrollOptions;
use glasskeep_card::TokenError;

use crate::attestation::Trust;
use crate::custodian::CustodianRecord;
use crate::log::{Body, Store};
use crate::piv::Slot;

use super::cosign::Room;
use super::{Cards, CeremonyError, Operator};

/// Who to enroll, and on which card.
#[derive(Debug, Clone)]
pub struct EnrollRequest {
    /// The custodian's name.
    pub name: String,
    /// The card's serial; `None` when exactly one card is inserted.
    pub serial: Option<u32>,
    /// Retired slot for the seal key.
    pub seal_slot: Slot,
    /// Replace keys already in the slots.
    pub overwrite: bool,
}

/// Enrolls a custodian: generates the seal and sign keys on their YubiKey, verifies the
/// attestation chain under the custody's trust (Yubico's roots, or the simulator's for
/// a training custody), and appends the enroll entry plus a checkpoint signed with the
/// new sign key — which proves, in the log itself, that the key works and was touched.
pub fn enroll(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    req: &EnrollRequest,
    time: u64,
) -> Result<CustodianRecord, CeremonyError> {
    let mut store = Store::open(dir)?;
    let state = store.state();
    let custody = state.custody().ok_or_else(|| CeremonyError::NoCustody {
        dir: dir.to_path_buf(),
    })?;
    let trust = if custody.training {
        Trust::Training
    } else {
        Trust::Production
    };
    if state.custodian(&req.name).is_some() {
        return Err(CeremonyError::Refused(format!(
            "{} is already enrolled: choose another name",
            req.name
        )));
    }
    let serial = match req.serial {
        Some(s) => s,
        None => {
            let present = cards.present().map_err(CeremonyError::Cards)?;
            match present.as_slice() {
                [one] => one.serial,
                [] => return Err(CeremonyError::Cards(TokenError::NoCard)),
                many => {
                    return Err(CeremonyError::Cards(TokenError::SeveralCards {
                        serials: many.iter().map(|c| c.serial).collect(),
                    }))
                }
            }
        }
    };
    if let Some(other) = state.custodian_by_serial(serial) {
        return Err(CeremonyError::Refused(format!(
            "YubiKey {serial} is already enrolled for {}: each custodian needs their own YubiKey",
            other.record.name
        )));
    }
    let mut token = cards
        .open_for(serial, &req.name)
        .map_err(|source| CeremonyError::Card {
            custodian: req.name.clone(),
            serial,
            source,
        })?;
    let pin = op.pin(&req.name, serial)?;
    token
        .verify_pin(&pin)
        .map_err(|source| CeremonyError::Card {
            custodian: req.name.clone(),
            serial,
            source,
        })?;
    op.notice(&format!(
        "{}: generating the seal key (slot {}) and the sign key (slot 9c) on YubiKey {serial}",
        req.name, req.seal_slot
    ));
    let mut opts = EnrollOptions::new(req.name.clone(), trust);
    opts.seal_slot = req.seal_slot;
    opts.overwrite = req.overwrite;
    let record = glasskeep_card::enroll::enroll(token.as_mut(), &pin, &opts)
        .map_err(|e| CeremonyError::Enrollment {
            name: req.name.clone(),
            reason: e.to_string(),
        })?
        .record;
    // A sealed share names its key only by a 4-byte tag: two custodians sharing one
    // would make a share's owner ambiguous (odds about n^2 / 2^33, but checked).
    let tag = |r: &CustodianRecord| crate::seal::RecipientTag::of(&r.seal_public_key);
    if let Some(other) = store
        .state()
        .custodians()
        .iter()
        .find(|c| tag(&c.record) == tag(&record))
    {
        return Err(CeremonyError::Refused(format!(
            "the new seal key's recipient tag equals {}'s: enroll again with --force-overwrite to generate another key",
            other.record.name
        )));
    }
    let mut room = Room::default();
    room.admit(record.clone(), token, pin);
    let mut tx = store.begin();
    tx.append(
        time,
        Body::Enroll {
            record: Box::new(record.clone()),
        },
    )?;
    room.cosign(&mut tx, op, time)?;
    tx.commit()?;
    Ok(record)
}
