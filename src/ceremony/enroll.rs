//! Enrolling custodians: keys generated and attested on each new custodian's YubiKey,
//! the card checked for factory credentials and risky firmware, and the enroll entries
//! cosigned by the new cards and — once the custody has its first quorum — by the
//! custody quorum of earlier custodians.

use std::path::Path;

use zeroize::Zeroizing;

use glasskeep_card::enroll::EnrollOptions;
use glasskeep_card::TokenError;

use crate::attestation::Trust;
use crate::custodian::CustodianRecord;
use crate::log::Body;
use crate::piv::Slot;

use super::cosign::Present;
use super::engine::{Engine, SignOnly, StartOptions};
use super::{Cards, CeremonyError, Operator};

/// One custodian to enroll, and their card.
#[derive(Debug, Clone)]
pub struct NewCustodian {
    /// The custodian's name.
    pub name: String,
    /// The card's serial; `None` when exactly one card is inserted.
    pub serial: Option<u32>,
    /// Retired slot for the seal key.
    pub seal_slot: Slot,
    /// Replace keys already in the slots.
    pub overwrite: bool,
    /// The card's management key, typed by the custodian (hex); `None` for a
    /// PIN-protected key (as `ykman … --protect` leaves it) or, in training, the default.
    pub management_key: Option<Zeroizing<Vec<u8>>>,
}

/// Who to enroll in one ceremony.
#[derive(Debug, Clone)]
pub struct EnrollRequest {
    /// The new custodians, enrolled in this order (the first ones of a custody enroll
    /// together: at least the custody quorum).
    pub custodians: Vec<NewCustodian>,
    /// Earlier custodians who cosign (default: those whose YubiKeys are inserted).
    pub cosigners: Vec<String>,
    /// Accept sign keys on firmware before 5.7.0 (Yubico YSA-2024-03); recorded.
    pub accept_firmware_risk: bool,
}

/// Enrolls the new custodians: the quorum is checked before any card is used; then each
/// new card in turn has its keys generated and attested under the custody's trust
/// (Yubico's roots, or the simulator's for a training custody); the enroll entries and a
/// checkpoint signed by every new card and the earlier cosigners are committed together.
pub fn enroll(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    req: &EnrollRequest,
    now: u64,
) -> Result<Vec<CustodianRecord>, CeremonyError> {
    let mut engine = Engine::start(dir, cards, op, opts, now)?;
    let state = engine.state();
    let training = state.custody().is_some_and(|c| c.training);
    let names: Vec<String> = req.custodians.iter().map(|c| c.name.clone()).collect();
    for (i, name) in names.iter().enumerate() {
        crate::text::check("custodian name", name, 1, crate::log::record::MAX_NAME_LEN)?;
        if state.custodian(name).is_some() {
            return Err(CeremonyError::AlreadyEnrolled(format!(
                "a custodian named {name} is already enrolled: choose another name"
            )));
        }
        if names[..i].contains(name) {
            return Err(CeremonyError::NamedTwice { name: name.clone() });
        }
    }
    let mut serials = Vec::with_capacity(req.custodians.len());
    for c in &req.custodians {
        let serial = match c.serial {
            Some(s) => s,
            None if req.custodians.len() == 1 => {
                let present = engine.cards().present().map_err(CeremonyError::Cards)?;
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
            None => {
                return Err(CeremonyError::AlreadyEnrolled(format!(
                    "several custodians are enrolled together: give each one's YubiKey serial (--serial, in the order of --name); {} has none",
                    c.name
                )))
            }
        };
        if let Some(other) = engine.state().custodian_by_serial(serial) {
            return Err(CeremonyError::AlreadyEnrolled(format!(
                "YubiKey {serial} is already enrolled for {}: each custodian needs their own YubiKey",
                other.record.name
            )));
        }
        if serials.contains(&serial) {
            return Err(CeremonyError::AlreadyEnrolled(format!(
                "YubiKey {serial} is named for two custodians: each needs their own YubiKey"
            )));
        }
        serials.push(serial);
    }
    // Earlier custodians who cosign, then the whole quorum — before any card is used.
    let earlier = if req.cosigners.is_empty() {
        let present = engine.present(None)?;
        present.into_iter().filter(|n| !names.contains(n)).collect()
    } else {
        req.cosigners.clone()
    };
    let mut signers: Vec<String> = names.clone();
    signers.extend(earlier.iter().cloned());
    let refs: Vec<&str> = signers.iter().map(String::as_str).collect();
    if let Some((_, kind, need)) = engine.state().enrollment_shortfall(&names, &refs) {
        return Err(CeremonyError::Quorum {
            kind,
            need,
            signers,
        });
    }
    for name in &earlier {
        if !engine.state().custodian(name).is_some_and(|c| c.is_live()) {
            return Err(CeremonyError::NotEnrolled { name: name.clone() });
        }
    }

    if engine.dry_run() {
        // The enroll entries hold keys the cards have not generated yet: say what each
        // visit will do instead.
        let mut summary = format!("ENROLL {}\nThe log would record:\n", names.join(", "));
        for (c, serial) in req.custodians.iter().zip(&serials) {
            summary.push_str(&format!(
                "  enroll    {} with YubiKey {serial}: seal key (slot {}) and sign key (slot 9c) generated and attested on the card\n",
                c.name, c.seal_slot
            ));
        }
        summary.push_str(&format!("  checkpoint, signed by {}\n", signers.join(", ")));
        if let Some(p) = opts.plan {
            summary.push_str(&format!(
                "  under the ceremony plan with SHA-256 {}\n",
                crate::hex::encode(&p)
            ));
        }
        summary.push_str("Plan, one custodian at a time, at any reader:\n");
        let mut i = 0;
        for (c, serial) in req.custodians.iter().zip(&serials) {
            i += 1;
            summary.push_str(&format!(
                "  {i}. {} with YubiKey {serial}: PIN once, {}keys generated, attested; later the checkpoint signature (touch by the new key's policy)\n",
                c.name,
                if c.management_key.is_some() { "management key typed, " } else { "" }
            ));
        }
        for name in &earlier {
            i += 1;
            let Some(c) = engine.state().custodian(name) else {
                continue;
            };
            let touch = if c.record.sign_touch_policy == crate::piv::TouchPolicy::Never {
                "no touch"
            } else {
                "touch once"
            };
            summary.push_str(&format!(
                "  {i}. {name} with YubiKey {}: PIN once, {touch} (sign the checkpoint)\n",
                c.record.serial
            ));
        }
        return Err(CeremonyError::DryRun { summary });
    }
    let trust = if training {
        Trust::Training
    } else {
        Trust::Production
    };
    let mut bodies = Vec::with_capacity(req.custodians.len());
    let mut records: Vec<CustodianRecord> = Vec::new();
    for (c, serial) in req.custodians.iter().zip(serials) {
        let mut turns = engine.turns();
        let mut slot = Some(turns.wait_for(&c.name, serial)?);
        let pin = super::cosign::ask_pin(&mut turns, &mut slot, &c.name, serial)?;
        let Some(mut token) = slot else {
            return Err(CeremonyError::NoKey {
                custodian: c.name.clone(),
                serial,
                waited: 0,
            });
        };
        let op = turns.op();
        op.notice(&format!(
            "{}: checking the card, then generating the seal key (slot {}) and the sign key (slot 9c) on YubiKey {serial}",
            c.name, c.seal_slot
        ));
        let mut o = EnrollOptions::new(c.name.clone(), trust);
        o.seal_slot = c.seal_slot;
        o.overwrite = c.overwrite;
        o.accept_firmware_risk = req.accept_firmware_risk;
        o.management_key = c.management_key.clone();
        let enrolled = glasskeep_card::enroll::enroll(token.as_mut(), &pin, &o).map_err(|e| {
            CeremonyError::Enrollment {
                name: c.name.clone(),
                reason: e.to_string(),
            }
        })?;
        for w in &enrolled.warnings {
            op.notice(&format!("{}: warning: {w}", c.name));
        }
        let record = enrolled.record;
        // A sealed share names its key only by a 4-byte tag: two custodians sharing one
        // would make a share's owner ambiguous (odds about n^2 / 2^33, but checked).
        let tag = |r: &CustodianRecord| crate::seal::RecipientTag::of(&r.seal_public_key);
        let clash = engine
            .state()
            .custodians()
            .iter()
            .map(|x| &x.record)
            .chain(records.iter())
            .find(|x| tag(x) == tag(&record))
            .map(|x| x.name.clone());
        if let Some(other) = clash {
            return Err(CeremonyError::AlreadyEnrolled(format!(
                "the new seal key's recipient tag equals {other}'s: enroll {} again with --force-overwrite to generate another key",
                record.name
            )));
        }
        bodies.push(Body::Enroll {
            record: Box::new(record.clone()),
            firmware_risk_accepted: enrolled.firmware_risk_accepted,
        });
        engine.admit(Present::new(record.clone(), token, pin));
        records.push(record);
    }
    let title = format!("ENROLL {}", names.join(", "));
    engine.finish(&title, bodies, signers, &mut SignOnly)?;
    Ok(records)
}
