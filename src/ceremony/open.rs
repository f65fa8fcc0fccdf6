//! Opening a credential, drilling a set, and checking one share. All three first prove
//! each envelope authentic from the log (its fingerprint is in the set's checkpointed
//! seal entry) before any card is touched: anyone can seal to a public key, so an
//! envelope the log does not vouch for is refused outright.

use std::path::Path;

use crate::envelope::{Envelope, Fingerprint};
use crate::log::replay::SealedSet;
use crate::log::{Body, Hash, State, Store};
use crate::seal::PivP256Identity;
use crate::secret::SecretBytes;
use crate::shamir::{self, Payload, Share};

use super::cosign::{Present, Room};
use super::envelopes::EnvelopeFile;
use super::seal::unknown_label;
use super::{Cards, CeremonyError, Operator};

/// What to open.
#[derive(Debug, Clone)]
pub struct OpenRequest {
    /// The credential's label.
    pub label: String,
    /// Why (recorded).
    pub reason: String,
    /// Incident or ticket id (recorded; empty if none).
    pub incident: String,
}

/// What an opening did.
#[derive(Debug, Clone)]
pub struct OpenReport {
    /// Seq of the open entry (what `review --open` names).
    pub seq: u64,
    /// The set opened.
    pub set_label: String,
    /// What the secret is (a `file` is written back byte for byte).
    pub kind: crate::log::SecretKind,
    /// When the credential must be rotated by (claimed time, unix seconds).
    pub deadline: u64,
    /// Who was present.
    pub custodians: Vec<String>,
    /// The log's new head.
    pub head: Hash,
}

/// Opens the credential: unseals each envelope's share on its custodian's YubiKey,
/// reconstructs, and writes the open entry plus a checkpoint cosigned by every
/// custodian present **before** returning the secret. If the log cannot be written,
/// the secret is not returned.
pub fn open(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    req: &OpenRequest,
    envelopes: &[EnvelopeFile],
    time: u64,
) -> Result<(SecretBytes, OpenReport), CeremonyError> {
    let mut store = Store::open(dir)?;
    let set = authentic_set(store.state(), &req.label, envelopes)?;
    let (secret, room_names, mut room) = reconstruct(store.state(), cards, op, &set, envelopes)?;
    let mut tx = store.begin();
    let seq = tx.append(
        time,
        Body::Open {
            set: set.id,
            reason: req.reason.clone(),
            incident: req.incident.clone(),
            custodians: room_names.iter().map(|(_, n, _)| n.clone()).collect(),
            envelopes: room_names.iter().map(|(_, _, fp)| *fp).collect(),
        },
    )?;
    room.cosign(&mut tx, op, time)?;
    let head = tx.commit()?;
    Ok((
        secret,
        OpenReport {
            seq,
            set_label: set.label.clone(),
            kind: set.secret_kind,
            deadline: time.saturating_add(set.rotate_within),
            custodians: room_names.into_iter().map(|(_, n, _)| n).collect(),
            head,
        },
    ))
}

/// Proves the set reconstructs with these envelopes; the secret is wiped unseen.
pub fn drill(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    label: &str,
    envelopes: &[EnvelopeFile],
    time: u64,
) -> Result<super::CeremonyReport, CeremonyError> {
    let mut store = Store::open(dir)?;
    let set = authentic_set(store.state(), label, envelopes)?;
    let (secret, names, mut room) = reconstruct(store.state(), cards, op, &set, envelopes)?;
    drop(secret);
    let mut tx = store.begin();
    let seq = tx.append(
        time,
        Body::Drill {
            set: set.id,
            custodians: names.iter().map(|(_, n, _)| n.clone()).collect(),
            envelopes: names.iter().map(|(_, _, fp)| *fp).collect(),
        },
    )?;
    room.cosign(&mut tx, op, time)?;
    let head = tx.commit()?;
    Ok(super::CeremonyReport {
        seq,
        head,
        cosigners: names.into_iter().map(|(_, n, _)| n).collect(),
    })
}

/// One custodian proves their envelope still opens on their YubiKey and holds a share
/// of the recorded set; nothing about the secret is revealed or reconstructed.
pub fn check_share(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    envelope: &EnvelopeFile,
    time: u64,
) -> Result<super::CeremonyReport, CeremonyError> {
    let mut store = Store::open(dir)?;
    let state = store.state();
    let set = set_of(state, &envelope.fingerprint)?;
    let set = authentic_set(state, &set.label, std::slice::from_ref(envelope))?;
    let payload = payload_of(&set, envelope)?;
    let mut room = Room::default();
    let name = set.custodians[usize::from(envelope.envelope.index) - 1].clone();
    let p = room.join(state, cards, op, &name)?;
    let share = unseal_share(p, op, &envelope.envelope)?;
    if share.set_id != set.id
        || share.index != envelope.envelope.index
        || share.payload_digest != payload.digest()
    {
        return Err(CeremonyError::Refused(format!(
            "{name}'s envelope opened, but the share inside does not belong to set {}: report this envelope as tampered",
            set.id
        )));
    }
    drop(share);
    let mut tx = store.begin();
    let seq = tx.append(
        time,
        Body::ShareCheck {
            set: set.id,
            custodian: name.clone(),
            envelope: envelope.fingerprint.0,
        },
    )?;
    room.cosign(&mut tx, op, time)?;
    let head = tx.commit()?;
    Ok(super::CeremonyReport {
        seq,
        head,
        cosigners: vec![name],
    })
}

fn set_of<'s>(state: &'s State, fp: &Fingerprint) -> Result<&'s SealedSet, CeremonyError> {
    let env = state.envelope(&fp.0).ok_or_else(|| not_logged(fp))?;
    state.set(&env.set).ok_or_else(|| not_logged(fp))
}

fn not_logged(fp: &Fingerprint) -> CeremonyError {
    CeremonyError::Refused(format!(
        "envelope {} is not recorded in this custody's log: it is not one glasskeep sealed here (or it was altered); do not use it",
        fp.short()
    ))
}

/// Why an envelope is not one of `set`'s: from a set rotated away (to be destroyed), from
/// another credential, or unknown to this custody altogether.
fn not_in_set(state: &State, set: &SealedSet, fp: &Fingerprint) -> CeremonyError {
    let Some(recorded) = state.envelope(&fp.0) else {
        return not_logged(fp);
    };
    match state.set(&recorded.set) {
        Some(other) if other.superseded_by.is_some() => CeremonyError::Refused(format!(
            "envelope {} belongs to set {} of {:?}, which was rotated away: it no longer opens anything and must be destroyed (`glasskeep envelope destroyed`)",
            fp.short(),
            other.id,
            other.label
        )),
        Some(other) => CeremonyError::Refused(format!(
            "envelope {} belongs to {:?}, not to {:?}",
            fp.short(),
            other.label,
            set.label
        )),
        None => not_logged(fp),
    }
}

/// The live set labelled `label`, if every envelope is one of its recorded,
/// checkpointed, undestroyed envelopes, each of a distinct custodian.
fn authentic_set(
    state: &State,
    label: &str,
    envelopes: &[EnvelopeFile],
) -> Result<SealedSet, CeremonyError> {
    let set = state
        .live_set_by_label(label)
        .ok_or_else(|| unknown_label(label))?
        .clone();
    let covered = state.last_checkpoint().is_some_and(|c| c > set.sealed_seq);
    if !covered {
        return Err(CeremonyError::Refused(format!(
            "the seal of {label:?} is not covered by a signed checkpoint yet: run `glasskeep log checkpoint` with a custodian present first"
        )));
    }
    let mut seen = Vec::new();
    for e in envelopes {
        let pos = match set.envelopes.iter().position(|fp| fp == &e.fingerprint.0) {
            Some(pos) => pos,
            None => return Err(not_in_set(state, &set, &e.fingerprint)),
        };
        if let Some(st) = state.envelope(&e.fingerprint.0) {
            if let Some(seq) = st.destroyed {
                return Err(CeremonyError::Refused(format!(
                    "envelope {} was recorded as destroyed (entry {seq}): it must not be used",
                    e.fingerprint.short()
                )));
            }
        }
        if usize::from(e.envelope.index) != pos + 1 || e.envelope.set_id != set.id {
            return Err(not_logged(&e.fingerprint));
        }
        if seen.contains(&pos) {
            return Err(CeremonyError::Refused(format!(
                "the envelope of {} was given twice: each custodian's envelope counts once",
                set.custodians[pos]
            )));
        }
        seen.push(pos);
    }
    Ok(set)
}

fn payload_of(set: &SealedSet, e: &EnvelopeFile) -> Result<Payload, CeremonyError> {
    let name = set.custodians[usize::from(e.envelope.index) - 1].clone();
    let payload = Payload::decode(&e.envelope.payload).map_err(|source| CeremonyError::Record {
        custodian: name.clone(),
        source,
    })?;
    if payload.digest() != set.payload_digest {
        return Err(CeremonyError::Refused(format!(
            "the payload on {name}'s envelope differs from the one the log records"
        )));
    }
    Ok(payload)
}

type Used = (u8, String, Hash);

/// Unseals every envelope on its custodian's card and combines the shares.
fn reconstruct(
    state: &State,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    set: &SealedSet,
    envelopes: &[EnvelopeFile],
) -> Result<(SecretBytes, Vec<Used>, Room), CeremonyError> {
    if envelopes.len() < usize::from(set.threshold) {
        return Err(CeremonyError::Combine(
            shamir::CombineError::NotEnoughShares {
                have: envelopes.len(),
                need: usize::from(set.threshold),
            },
        ));
    }
    let payload = payload_of(set, &envelopes[0])?;
    let mut room = Room::default();
    let mut shares = Vec::new();
    let mut used: Vec<Used> = Vec::new();
    for e in envelopes {
        payload_of(set, e)?;
        let name = set.custodians[usize::from(e.envelope.index) - 1].clone();
        let p = room.join(state, cards, op, &name)?;
        shares.push(unseal_share(p, op, &e.envelope)?);
        used.push((e.envelope.index, name, e.fingerprint.0));
    }
    used.sort_by_key(|u| u.0);
    let refs: Vec<&Share> = shares.iter().collect();
    let secret = shamir::combine(&refs, &payload)?;
    Ok((secret, used, room))
}

fn unseal_share(
    p: &mut Present,
    op: &dyn Operator,
    envelope: &Envelope,
) -> Result<Share, CeremonyError> {
    p.unlock()?;
    let identity = PivP256Identity::for_custodian(&mut p.token, &p.record).map_err(|e| {
        CeremonyError::Refused(format!("{}'s YubiKey has no usable seal key: {e}", p.name))
    })?;
    op.notice(&format!(
        "{}: touch YubiKey {} now to open your share",
        p.name, p.serial
    ));
    let plain = crate::seal::unseal(&envelope.sealed_share, &identity).map_err(|source| {
        CeremonyError::Unseal {
            custodian: p.name.clone(),
            source,
        }
    })?;
    let share = Share::decode(&plain).map_err(|source| CeremonyError::Record {
        custodian: p.name.clone(),
        source,
    })?;
    // The envelope's outer fields are printed, not encrypted: the sealed record inside
    // must say the same, or the envelope was assembled from parts of others.
    if share.set_id != envelope.set_id
        || share.index != envelope.index
        || share.threshold != envelope.threshold
        || share.count != envelope.count
    {
        return Err(CeremonyError::Refused(format!(
            "{}'s envelope says share {} of set {}, but the sealed share inside is share {} of set {}: report this envelope as tampered",
            p.name, envelope.index, envelope.set_id, share.index, share.set_id
        )));
    }
    Ok(share)
}
