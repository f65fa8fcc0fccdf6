//! Opening a credential, drilling a set, and checking one share. All three first prove
//! each envelope authentic from the log (its fingerprint is in the set's checkpointed
//! seal entry) before any card is touched: anyone can seal to a public key, so an
//! envelope the log does not vouch for is refused outright, as an incident.

use std::path::Path;

use crate::envelope::{Envelope, Fingerprint};
use crate::log::replay::SealedSet;
use crate::log::{Body, Hash, State};
use crate::seal::PivP256Identity;
use crate::secret::SecretBytes;
use crate::shamir::{self, Payload, Share};

use super::cosign::{Present, Turns};
use super::engine::{Engine, StartOptions, Step, Visit};
use super::envelopes::EnvelopeFile;
use super::{Cards, CeremonyError, EnvelopeIncident, Operator};

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
    /// The custody's organisation.
    pub org: String,
    /// The custody's id.
    pub custody_id: [u8; 16],
    /// Whether the custody is a training one.
    pub training: bool,
    /// The claimed time of the open entry (unix seconds).
    pub time: u64,
    /// The open entry's hash.
    pub entry_hash: Hash,
    /// Why the credential was opened (as recorded).
    pub reason: String,
    /// The incident or ticket id (as recorded; empty if none).
    pub incident: String,
}

/// Unseals each custodian's share during their card's visit, and combines the shares
/// once every card was visited.
struct Unseal<'e> {
    set: &'e SealedSet,
    envelopes: &'e [EnvelopeFile],
    payload: Payload,
    shares: Vec<Share>,
    secret: Option<SecretBytes>,
    combine: bool,
}

impl Unseal<'_> {
    fn envelope_of(&self, custodian: &str) -> Option<&EnvelopeFile> {
        let pos = self.set.custodians.iter().position(|c| c == custodian);
        self.envelopes
            .iter()
            .find(|e| Some(usize::from(e.envelope.index) - 1) == pos)
    }
}

impl Visit for Unseal<'_> {
    fn steps(&self, custodian: &str) -> Vec<Step> {
        match self.envelope_of(custodian) {
            Some(_) => vec![Step {
                what: "open your share",
                slot: crate::piv::Slot::KEY_MANAGEMENT,
            }],
            None => Vec::new(),
        }
    }

    fn visit(
        &mut self,
        p: &mut Present,
        turns: &mut Turns<'_>,
    ) -> Result<Vec<String>, CeremonyError> {
        let Some(e) = self.envelope_of(&p.name) else {
            return Ok(Vec::new());
        };
        let share = unseal_share(p, turns, &e.envelope)?;
        if share.set_id != self.set.id
            || share.index != e.envelope.index
            || share.payload_digest != self.payload.digest()
        {
            return Err(CeremonyError::Incident(EnvelopeIncident::Tampered {
                custodian: p.name.clone(),
                what: format!("the share inside does not belong to set {}", self.set.id),
            }));
        }
        self.shares.push(share);
        Ok(vec!["share OK".into()])
    }

    fn done(&mut self) -> Result<(), CeremonyError> {
        if self.combine {
            let refs: Vec<&Share> = self.shares.iter().collect();
            self.secret = Some(shamir::combine(&refs, &self.payload)?);
        }
        Ok(())
    }
}

/// The envelopes' custodians in share-index order, with their fingerprints.
fn used(set: &SealedSet, envelopes: &[EnvelopeFile]) -> (Vec<String>, Vec<Hash>) {
    let mut v: Vec<(u8, String, Hash)> = envelopes
        .iter()
        .map(|e| {
            let i = e.envelope.index;
            (
                i,
                set.custodians[usize::from(i) - 1].clone(),
                e.fingerprint.0,
            )
        })
        .collect();
    v.sort_by_key(|u| u.0);
    (
        v.iter().map(|u| u.1.clone()).collect(),
        v.iter().map(|u| u.2).collect(),
    )
}

/// Opens the credential: every envelope proved authentic from the log, then each
/// custodian's card in turn unseals their share and signs the checkpoint; the shares
/// are combined, the open entry and checkpoint committed, and only then is the secret
/// returned. If the log cannot be written, the secret is not returned.
pub fn open(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    req: &OpenRequest,
    envelopes: &[EnvelopeFile],
    now: u64,
) -> Result<(SecretBytes, OpenReport), CeremonyError> {
    crate::text::check("reason", &req.reason, 1, crate::log::body::MAX_REASON)?;
    crate::text::check("incident", &req.incident, 0, crate::log::body::MAX_INCIDENT)?;
    let engine = Engine::start(dir, cards, op, opts, now)?;
    let set = authentic_set(engine.state(), &req.label, envelopes)?;
    let payload = enough(&set, envelopes)?;
    let (custodians, fps) = used(&set, envelopes);
    let body = Body::Open {
        set: set.id,
        reason: req.reason.clone(),
        incident: req.incident.clone(),
        custodians: custodians.clone(),
        envelopes: fps,
    };
    let time = engine.time();
    let custody = engine
        .state()
        .custody()
        .cloned()
        .ok_or_else(|| CeremonyError::NoCustody {
            dir: dir.to_path_buf(),
        })?;
    let mut work = Unseal {
        set: &set,
        envelopes,
        payload,
        shares: Vec::new(),
        secret: None,
        combine: true,
    };
    let title = format!(
        "OPEN {:?}: {}{}",
        set.label,
        req.reason,
        if req.incident.is_empty() {
            String::new()
        } else {
            format!(" (incident {})", req.incident)
        }
    );
    let done = engine.finish(&title, vec![body], custodians.clone(), &mut work)?;
    let secret = work.secret.take().ok_or(CeremonyError::Combine(
        shamir::CombineError::NotEnoughShares {
            have: work.shares.len(),
            need: usize::from(set.threshold),
        },
    ))?;
    Ok((
        secret,
        OpenReport {
            seq: done.seqs[0],
            set_label: set.label.clone(),
            kind: set.secret_kind,
            deadline: time.saturating_add(set.rotate_within),
            custodians,
            head: done.head,
            org: custody.org,
            custody_id: custody.custody_id,
            training: custody.training,
            time,
            entry_hash: done.entry_hashes.first().copied().unwrap_or_default(),
            reason: req.reason.clone(),
            incident: req.incident.clone(),
        },
    ))
}

/// Proves the set reconstructs with these envelopes; the secret is wiped unseen.
pub fn drill(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    label: &str,
    envelopes: &[EnvelopeFile],
    now: u64,
) -> Result<super::CeremonyReport, CeremonyError> {
    let engine = Engine::start(dir, cards, op, opts, now)?;
    let set = authentic_set(engine.state(), label, envelopes)?;
    let payload = enough(&set, envelopes)?;
    let (custodians, fps) = used(&set, envelopes);
    let body = Body::Drill {
        set: set.id,
        custodians: custodians.clone(),
        envelopes: fps,
    };
    let mut work = Unseal {
        set: &set,
        envelopes,
        payload,
        shares: Vec::new(),
        secret: None,
        combine: true,
    };
    let title = format!("DRILL on {:?}: reconstructs, reveals nothing", set.label);
    let done = engine.finish(&title, vec![body], custodians, &mut work)?;
    drop(work.secret.take());
    Ok(super::CeremonyReport {
        seq: done.seqs[0],
        head: done.head,
        cosigners: done.cosigners,
    })
}

/// One custodian proves their envelope still opens on their YubiKey and holds a share
/// of the recorded set; nothing about the secret is revealed or reconstructed.
pub fn check_share(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    envelope: &EnvelopeFile,
    now: u64,
) -> Result<super::CeremonyReport, CeremonyError> {
    let engine = Engine::start(dir, cards, op, opts, now)?;
    let state = engine.state();
    let set = set_of(state, &envelope.fingerprint)?.clone();
    let set = authentic_set(state, &set.label, std::slice::from_ref(envelope))?;
    let payload = payload_of(&set, envelope)?;
    let name = set.custodians[usize::from(envelope.envelope.index) - 1].clone();
    let body = Body::ShareCheck {
        set: set.id,
        custodian: name.clone(),
        envelope: envelope.fingerprint.0,
    };
    let mut work = Unseal {
        set: &set,
        envelopes: std::slice::from_ref(envelope),
        payload,
        shares: Vec::new(),
        secret: None,
        combine: false,
    };
    let title = format!("SHARE CHECK: {name}'s envelope of {:?}", set.label);
    let done = engine.finish(&title, vec![body], vec![name], &mut work)?;
    Ok(super::CeremonyReport {
        seq: done.seqs[0],
        head: done.head,
        cosigners: done.cosigners,
    })
}

/// At least the threshold of envelopes, each holding the payload the log records.
fn enough(set: &SealedSet, envelopes: &[EnvelopeFile]) -> Result<Payload, CeremonyError> {
    if envelopes.len() < usize::from(set.threshold) {
        return Err(CeremonyError::Combine(
            shamir::CombineError::NotEnoughShares {
                have: envelopes.len(),
                need: usize::from(set.threshold),
            },
        ));
    }
    let payload = payload_of(set, &envelopes[0])?;
    for e in envelopes {
        payload_of(set, e)?;
    }
    Ok(payload)
}

fn set_of<'s>(state: &'s State, fp: &Fingerprint) -> Result<&'s SealedSet, CeremonyError> {
    let env = state.envelope(&fp.0).ok_or_else(|| not_logged(fp))?;
    state.set(&env.set).ok_or_else(|| not_logged(fp))
}

fn not_logged(fp: &Fingerprint) -> CeremonyError {
    CeremonyError::Incident(EnvelopeIncident::NotLogged {
        short: fp.short(),
        fingerprint: crate::hex::encode(&fp.0),
    })
}

/// Why an envelope is not one of `set`'s: from a set rotated away (to be destroyed), from
/// another credential, or unknown to this custody altogether.
fn not_in_set(state: &State, set: &SealedSet, fp: &Fingerprint) -> CeremonyError {
    let Some(recorded) = state.envelope(&fp.0) else {
        return not_logged(fp);
    };
    match state.set(&recorded.set) {
        Some(other) if other.superseded_by.is_some() => {
            CeremonyError::Incident(EnvelopeIncident::Superseded {
                short: fp.short(),
                fingerprint: crate::hex::encode(&fp.0),
                set: other.id.to_string(),
                label: other.label.clone(),
            })
        }
        Some(other) => CeremonyError::Incident(EnvelopeIncident::OtherCredential {
            short: fp.short(),
            fingerprint: crate::hex::encode(&fp.0),
            label: other.label.clone(),
            wanted: set.label.clone(),
        }),
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
    // A destroyed envelope is an incident whatever else is wrong with the request:
    // checked first, so it is never reported as a mere wrong label.
    for e in envelopes {
        if let Some(seq) = state.envelope(&e.fingerprint.0).and_then(|st| st.destroyed) {
            return Err(CeremonyError::Incident(EnvelopeIncident::Destroyed {
                short: e.fingerprint.short(),
                fingerprint: crate::hex::encode(&e.fingerprint.0),
                seq,
            }));
        }
    }
    let set = state
        .live_set_by_label(label)
        .ok_or_else(|| CeremonyError::UnknownLabel {
            label: label.to_owned(),
        })?
        .clone();
    let covered = state.last_checkpoint().is_some_and(|c| c > set.sealed_seq);
    if !covered {
        return Err(CeremonyError::Incident(EnvelopeIncident::SealNotCovered {
            label: label.to_owned(),
        }));
    }
    let mut seen = Vec::new();
    for e in envelopes {
        let pos = match set.envelopes.iter().position(|fp| fp == &e.fingerprint.0) {
            Some(pos) => pos,
            None => return Err(not_in_set(state, &set, &e.fingerprint)),
        };
        if usize::from(e.envelope.index) != pos + 1 || e.envelope.set_id != set.id {
            return Err(not_logged(&e.fingerprint));
        }
        if seen.contains(&pos) {
            return Err(CeremonyError::Incident(EnvelopeIncident::Twice {
                custodian: set.custodians[pos].clone(),
            }));
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
        return Err(CeremonyError::Incident(EnvelopeIncident::Tampered {
            custodian: name,
            what: "its payload differs from the one the log records".into(),
        }));
    }
    Ok(payload)
}

fn unseal_share(
    p: &mut Present,
    turns: &mut Turns<'_>,
    envelope: &Envelope,
) -> Result<Share, CeremonyError> {
    let touch = if p.record.seal_touch_policy == crate::piv::TouchPolicy::Never {
        format!("{}: opening your share", p.name)
    } else {
        format!(
            "{}: touch YubiKey {} now to open your share",
            p.name, p.serial
        )
    };
    let pin = p.record.seal_pin_policy;
    let plain = p.key_operation(turns, &touch, pin, |p| {
        let name = p.name.clone();
        let record = p.record.clone();
        let identity = PivP256Identity::for_custodian(p.token()?, &record).map_err(|e| {
            CeremonyError::Enrollment {
                name: name.clone(),
                reason: format!("the YubiKey has no usable seal key: {e}"),
            }
        })?;
        crate::seal::unseal(&envelope.sealed_share, &identity).map_err(|source| {
            CeremonyError::Unseal {
                custodian: name,
                source,
            }
        })
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
        return Err(CeremonyError::Incident(EnvelopeIncident::Tampered {
            custodian: p.name.clone(),
            what: format!(
                "it says share {} of set {}, but the sealed share inside is share {} of set {}",
                envelope.index, envelope.set_id, share.index, share.set_id
            ),
        }));
    }
    Ok(share)
}
