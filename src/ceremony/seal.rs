//! Sealing a secret to custodians, rotating it, and the small ceremonies that only add
//! an entry and a checkpoint (review, envelope destroyed, checkpoint).

use std::path::{Path, PathBuf};

use crate::custodian::CustodianRecord;
use crate::envelope::{Envelope, Fingerprint};
use crate::log::replay::Custody;
use crate::log::{Body, Hash, SecretKind, State, Store, Transaction, Verdict};
use crate::seal::PivP256Recipient;
use crate::secret::SecretBytes;
use crate::shamir::{self, SetId};

use super::cosign::Room;
use super::{Cards, CeremonyError, Operator};

/// What to seal.
#[derive(Debug, Clone)]
pub struct SealRequest {
    /// The credential's label.
    pub label: String,
    /// Custodians needed to open.
    pub threshold: usize,
    /// Custodians, one share each, in share-index order.
    pub custodians: Vec<String>,
    /// What the secret is.
    pub kind: SecretKind,
    /// Rotation deadline after an opening, in seconds.
    pub rotate_within: u64,
}

/// One envelope written by a seal or rotation.
#[derive(Debug, Clone)]
pub struct SealedEnvelope {
    /// The custodian it is sealed to.
    pub custodian: String,
    /// Their share index.
    pub index: u8,
    /// The envelope's fingerprint (recorded in the log).
    pub fingerprint: Fingerprint,
    /// Where the envelope file was written.
    pub path: PathBuf,
}

/// What a seal (or rotation) did.
#[derive(Debug, Clone)]
pub struct SealReport {
    /// The new set.
    pub set_id: SetId,
    /// Shares needed to open it.
    pub threshold: usize,
    /// The envelopes, in index order.
    pub envelopes: Vec<SealedEnvelope>,
    /// The log's new head (write it on paper).
    pub head: Hash,
    /// Who cosigned.
    pub cosigners: Vec<String>,
}

/// What a ceremony that only appends entries did.
#[derive(Debug, Clone)]
pub struct CeremonyReport {
    /// Seq of the main entry.
    pub seq: u64,
    /// The log's new head (write it on paper).
    pub head: Hash,
    /// Who cosigned.
    pub cosigners: Vec<String>,
}

/// Splits `secret` and seals one share to each custodian; writes the envelopes under
/// `dir/envelopes/` and appends the seal entry plus a checkpoint cosigned by the
/// custodians whose YubiKeys are present (`cosigners`, or all inserted ones if empty).
pub fn seal(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    req: &SealRequest,
    secret: &SecretBytes,
    cosigners: &[String],
    time: u64,
) -> Result<SealReport, CeremonyError> {
    let store = Store::open(dir)?;
    sealing(store, dir, cards, op, req, secret, cosigners, time, None)
}

/// Checks a seal request against the log before anyone types the secret: a custody
/// exists, the label is not already sealed, the custodians are enrolled and distinct,
/// and 2 <= threshold <= custodians. `seal` checks all of it again under the lock.
pub fn precheck_seal(dir: &Path, req: &SealRequest) -> Result<(), CeremonyError> {
    check_request(dir, &super::read_state(dir)?, req, true).map(|_| ())
}

/// The custody and the custodians' records for `req`, or why it cannot be sealed: no
/// custody, the label already sealed (when `new_label`; a rotation replaces it), a
/// custodian named twice or not enrolled, or a threshold outside 2..=custodians.
fn check_request(
    dir: &Path,
    state: &State,
    req: &SealRequest,
    new_label: bool,
) -> Result<(Custody, Vec<CustodianRecord>), CeremonyError> {
    let custody = state
        .custody()
        .ok_or_else(|| CeremonyError::NoCustody {
            dir: dir.to_path_buf(),
        })?
        .clone();
    if new_label && state.live_set_by_label(&req.label).is_some() {
        return Err(CeremonyError::Refused(format!(
            "{:?} is already sealed: use `glasskeep rotate --label {}` to replace its secret",
            req.label, req.label
        )));
    }
    let mut records = Vec::new();
    for (i, name) in req.custodians.iter().enumerate() {
        if req.custodians[..i].contains(name) {
            return Err(CeremonyError::Refused(format!(
                "{name} is named twice: each custodian holds one share"
            )));
        }
        let c = state.custodian(name).ok_or_else(|| {
            CeremonyError::Refused(format!(
                "{name} is not an enrolled custodian: enroll them first (`glasskeep custodian enroll --name {name}`)"
            ))
        })?;
        records.push(c.record.clone());
    }
    if req.threshold < 2 || req.threshold > req.custodians.len() {
        return Err(CeremonyError::Refused(format!(
            "threshold {} with {} custodian(s): it must be at least 2 and at most the number of custodians",
            req.threshold,
            req.custodians.len()
        )));
    }
    Ok((custody, records))
}

/// What to rotate.
#[derive(Debug, Clone)]
pub struct RotateRequest {
    /// The credential's label.
    pub label: String,
    /// New custodians (default: the same, same order).
    pub custodians: Option<Vec<String>>,
    /// New threshold (default: the same).
    pub threshold: Option<usize>,
}

/// Replaces the live set labelled `label` with a new secret: a new seal entry, a
/// rotate entry superseding the old set, and a checkpoint, in one transaction. The old
/// set's envelopes must then be destroyed (`glasskeep envelope destroyed`).
pub fn rotate(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    rot: &RotateRequest,
    secret: &SecretBytes,
    cosigners: &[String],
    time: u64,
) -> Result<SealReport, CeremonyError> {
    let store = Store::open(dir)?;
    let old = store
        .state()
        .live_set_by_label(&rot.label)
        .ok_or_else(|| unknown_label(&rot.label))?
        .clone();
    let req = SealRequest {
        label: rot.label.clone(),
        threshold: rot.threshold.unwrap_or(usize::from(old.threshold)),
        custodians: rot
            .custodians
            .clone()
            .unwrap_or_else(|| old.custodians.clone()),
        kind: old.secret_kind,
        rotate_within: old.rotate_within,
    };
    sealing(
        store,
        dir,
        cards,
        op,
        &req,
        secret,
        cosigners,
        time,
        Some(old.id),
    )
}

/// The seal ceremony proper, shared by seal and rotate: the cosigners join (PINs are
/// checked before anything is split), the set is sealed and its envelopes written, the
/// seal entry — and, for a rotation, the rotate entry superseding `supersedes` — and a
/// checkpoint are committed in one transaction. If anything fails, the envelope files
/// are removed again: an envelope the log does not record must not survive.
#[allow(clippy::too_many_arguments)] // one private seam for two public ceremonies
fn sealing(
    mut store: Store,
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    req: &SealRequest,
    secret: &SecretBytes,
    cosigners: &[String],
    time: u64,
    supersedes: Option<SetId>,
) -> Result<SealReport, CeremonyError> {
    let (custody, records) = check_request(dir, store.state(), req, supersedes.is_none())?;
    let names = who_cosigns(store.state(), cards, cosigners)?;
    let mut room = Room::default();
    for n in &names {
        room.join(store.state(), cards, op, n)?;
    }
    let mut tx = store.begin();
    let (envelopes, set_id, written) =
        seal_into(&mut tx, dir, req, &custody, &records, secret, time)?;
    let result = (|| {
        if let Some(old) = supersedes {
            tx.append(time, Body::Rotate { old, new: set_id })?;
        }
        room.cosign(&mut tx, op, time)?;
        Ok::<_, CeremonyError>(tx.commit()?)
    })();
    match result {
        Ok(head) => Ok(SealReport {
            set_id,
            threshold: req.threshold,
            envelopes,
            head,
            cosigners: names,
        }),
        Err(e) => {
            remove_all(&written);
            Err(e)
        }
    }
}

/// Splits, seals, writes envelope files and stages the seal entry. Returns the
/// envelopes and the files written (removed by the caller if the ceremony fails).
fn seal_into(
    tx: &mut Transaction<'_>,
    dir: &Path,
    req: &SealRequest,
    custody: &Custody,
    records: &[CustodianRecord],
    secret: &SecretBytes,
    time: u64,
) -> Result<(Vec<SealedEnvelope>, SetId, Vec<PathBuf>), CeremonyError> {
    let set = shamir::split(secret, &req.label, req.threshold, req.custodians.len())?;
    let payload = set.payload.encode();
    let folder = dir.join("envelopes").join(format!(
        "{}-{}",
        file_safe(&req.label),
        &set.payload.set_id.to_hex()[..8]
    ));
    std::fs::create_dir_all(&folder).map_err(|e| CeremonyError::io(&folder, e))?;

    let mut envs = Vec::new();
    let mut written = Vec::new();
    let r = (|| {
        for (share, record) in set.shares.iter().zip(records) {
            let recipient =
                PivP256Recipient::from_compressed(&record.seal_public_key).map_err(|e| {
                    CeremonyError::Refused(format!("{}'s seal key is unusable: {e}", record.name))
                })?;
            let sealed = crate::seal::seal(&share.encode(), &recipient)?;
            let envelope = Envelope {
                set_id: set.payload.set_id,
                label: req.label.clone(),
                organisation: custody.org.clone(),
                custodian: record.name.clone(),
                serial: record.serial,
                index: share.index,
                threshold: share.threshold,
                count: share.count,
                created: time,
                training: custody.training,
                sealed_share: sealed,
                payload: payload.clone(),
            };
            let bytes = envelope.encode().map_err(|e| CeremonyError::Envelope {
                path: folder.clone(),
                source: e.into(),
            })?;
            let fingerprint = Fingerprint::of_bytes(&bytes);
            let path = folder.join(format!("{}-{}.gkenv", share.index, file_safe(&record.name)));
            write_new(&path, &bytes)?;
            written.push(path.clone());
            envs.push(SealedEnvelope {
                custodian: record.name.clone(),
                index: share.index,
                fingerprint,
                path,
            });
        }
        tx.append(
            time,
            Body::Seal {
                set: set.payload.set_id,
                label: req.label.clone(),
                secret_kind: req.kind,
                threshold: set.payload.threshold,
                shares: set.payload.count,
                custodians: req.custodians.clone(),
                envelopes: envs.iter().map(|e| e.fingerprint.0).collect(),
                payload_digest: set.payload.digest(),
                rotate_within: req.rotate_within,
            },
        )?;
        Ok(())
    })();
    match r {
        Ok(()) => Ok((envs, set.payload.set_id, written)),
        Err(e) => {
            remove_all(&written);
            Err(e)
        }
    }
}

/// Closes an opening with a verdict.
pub fn review(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    review: &Review,
    cosigners: &[String],
    time: u64,
) -> Result<CeremonyReport, CeremonyError> {
    simple(
        dir,
        cards,
        op,
        cosigners,
        time,
        Body::Review {
            open_seq: review.open_seq,
            verdict: review.verdict,
            notes: review.notes.clone(),
        },
    )
}

/// A review of one opening.
#[derive(Debug, Clone)]
pub struct Review {
    /// Seq of the open entry.
    pub open_seq: u64,
    /// The verdict.
    pub verdict: Verdict,
    /// Notes for the record.
    pub notes: String,
}

/// Records that an envelope was destroyed, witnessed by `witnesses`.
pub fn destroyed(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    fingerprint: &str,
    witnesses: &[String],
    cosigners: &[String],
    time: u64,
) -> Result<CeremonyReport, CeremonyError> {
    let store = Store::open(dir)?;
    let fp = resolve_fingerprint(store.state(), fingerprint)?;
    drop(store);
    simple(
        dir,
        cards,
        op,
        cosigners,
        time,
        Body::EnvelopeDestroyed {
            envelope: fp,
            witnesses: witnesses.to_vec(),
        },
    )
}

/// Cosigns the current head with the named custodians.
pub fn checkpoint(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    cosigners: &[String],
    time: u64,
) -> Result<CeremonyReport, CeremonyError> {
    let mut store = Store::open(dir)?;
    let mut room = Room::default();
    let names = who_cosigns(store.state(), cards, cosigners)?;
    for n in &names {
        room.join(store.state(), cards, op, n)?;
    }
    let mut tx = store.begin();
    let seq = room.cosign(&mut tx, op, time)?;
    let head = tx.commit()?;
    Ok(CeremonyReport {
        seq,
        head,
        cosigners: names,
    })
}

fn simple(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    cosigners: &[String],
    time: u64,
    body: Body,
) -> Result<CeremonyReport, CeremonyError> {
    let mut store = Store::open(dir)?;
    let names = who_cosigns(store.state(), cards, cosigners)?;
    // Validate before anyone types a PIN: replay refuses what the log may not hold.
    store.state().clone().apply(&crate::log::Entry {
        seq: store.state().next_seq(),
        prev: store.state().head(),
        time,
        body: body.clone(),
    })?;
    let mut room = Room::default();
    for n in &names {
        room.join(store.state(), cards, op, n)?;
    }
    let mut tx = store.begin();
    let seq = tx.append(time, body)?;
    room.cosign(&mut tx, op, time)?;
    let head = tx.commit()?;
    Ok(CeremonyReport {
        seq,
        head,
        cosigners: names,
    })
}

/// The cosigners: those named, or every enrolled custodian whose card is inserted.
pub(crate) fn who_cosigns(
    state: &State,
    cards: &mut dyn Cards,
    named: &[String],
) -> Result<Vec<String>, CeremonyError> {
    if !named.is_empty() {
        let mut v = named.to_vec();
        v.sort();
        v.dedup();
        return Ok(v);
    }
    let found = Room::detect(state, cards)?;
    if found.is_empty() {
        return Err(CeremonyError::Refused(
            "no enrolled custodian's YubiKey is inserted: every ceremony ends with a checkpoint cosigned by the custodians present".into(),
        ));
    }
    Ok(found)
}

/// A full fingerprint, or a unique prefix of one the log records (the short form
/// printed on envelopes, spaces and dashes ignored).
pub(crate) fn resolve_fingerprint(state: &State, text: &str) -> Result<Hash, CeremonyError> {
    let clean: String = text
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    if clean.len() < 8 {
        return Err(CeremonyError::Refused(
            "give at least the 16-digit short fingerprint printed on the envelope".into(),
        ));
    }
    let mut hits = Vec::new();
    for set in state.sets() {
        for fp in &set.envelopes {
            if glasskeep_core::hex::encode(fp).starts_with(&clean) {
                hits.push(*fp);
            }
        }
    }
    match hits.len() {
        1 => Ok(hits[0]),
        0 => Err(CeremonyError::Refused(format!(
            "no envelope with fingerprint {text} is recorded in this custody's log"
        ))),
        n => Err(CeremonyError::Refused(format!(
            "{n} envelopes match {text}: give more digits of the fingerprint"
        ))),
    }
}

pub(crate) fn unknown_label(label: &str) -> CeremonyError {
    CeremonyError::Refused(format!(
        "no sealed credential is labelled {label:?}: see `glasskeep status`"
    ))
}

/// Labels and names in file names: letters, digits, '-', '_' and '.'; anything else
/// becomes '_'.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes a new file (never overwrites), fsynced: envelopes are written once.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), CeremonyError> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| CeremonyError::io(path, e))?;
    f.write_all(bytes).map_err(|e| CeremonyError::io(path, e))?;
    f.sync_all().map_err(|e| CeremonyError::io(path, e))
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
    if let Some(parent) = paths.first().and_then(|p| p.parent()) {
        let _ = std::fs::remove_dir(parent);
    }
}
