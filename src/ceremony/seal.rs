//! Sealing a secret to custodians, rotating it, and the ceremonies that only add an act
//! and a checkpoint (review, envelope destroyed, retirement, checkpoint). All of them go
//! through the [`Engine`].

use std::path::{Path, PathBuf};

use crate::custodian::CustodianRecord;
use crate::envelope::{Envelope, Fingerprint};
use crate::log::replay::Custody;
use crate::log::{Body, Hash, SecretKind, State, Verdict};
use crate::seal::PivP256Recipient;
use crate::secret::SecretBytes;
use crate::shamir::{self, SetId};

use super::engine::{Engine, SignOnly, StartOptions};
use super::{Cards, CeremonyError, FingerprintError, Operator};

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
    /// Review deadline after an opening, in seconds (recorded in the seal entry).
    pub review_within: u64,
    /// Who cosigns (default: the set's custodians whose YubiKeys are inserted).
    pub cosigners: Vec<String>,
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
    /// A new kind for the credential (default: the one it has).
    pub kind: Option<SecretKind>,
    /// A new review window after an opening, in seconds (default: the old set's).
    pub review_within: Option<u64>,
    /// Who cosigns (default: the old and new sets' custodians whose YubiKeys are
    /// inserted).
    pub cosigners: Vec<String>,
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

/// What a ceremony that only appends an act did.
#[derive(Debug, Clone)]
pub struct CeremonyReport {
    /// Seq of the act's entry (of the checkpoint, for `log checkpoint`).
    pub seq: u64,
    /// The log's new head (write it on paper).
    pub head: Hash,
    /// Who cosigned.
    pub cosigners: Vec<String>,
}

/// A seal or rotation whose request passed every check, quorum included; the secret is
/// typed next, then [`SealCeremony::seal`].
pub struct SealCeremony<'a> {
    engine: Engine<'a>,
    dir: PathBuf,
    req: SealRequest,
    custody: Custody,
    records: Vec<CustodianRecord>,
    supersedes: Option<SetId>,
    signers: Vec<String>,
    /// The entries as checked before the secret is typed (placeholder fingerprints):
    /// what a dry run shows.
    provisional: Vec<Body>,
}

/// Starts a seal: the log verified, the request checked against it, the cosigners
/// checked against the quorum — all before the secret is typed.
pub fn begin_seal<'a>(
    dir: &Path,
    cards: &'a mut dyn Cards,
    op: &'a mut dyn Operator,
    opts: &StartOptions,
    req: &SealRequest,
    now: u64,
) -> Result<SealCeremony<'a>, CeremonyError> {
    let engine = Engine::start(dir, cards, op, opts, now)?;
    prepared(engine, dir, req.clone(), None)
}

/// Starts a rotation of the live set labelled `rot.label`: a new set (same custodians,
/// threshold and kind unless changed) and a rotate entry superseding the old one.
pub fn begin_rotate<'a>(
    dir: &Path,
    cards: &'a mut dyn Cards,
    op: &'a mut dyn Operator,
    opts: &StartOptions,
    rot: &RotateRequest,
    now: u64,
) -> Result<SealCeremony<'a>, CeremonyError> {
    let engine = Engine::start(dir, cards, op, opts, now)?;
    let old = engine
        .state()
        .live_set_by_label(&rot.label)
        .ok_or_else(|| CeremonyError::UnknownLabel {
            label: rot.label.clone(),
        })?
        .clone();
    if let Some(pending) = engine.state().pending_set_by_label(&rot.label) {
        return Err(CeremonyError::RotationPending {
            label: rot.label.clone(),
            set: pending.id.to_string(),
            waiting_for: pending.unacknowledged(),
        });
    }
    let req = SealRequest {
        label: rot.label.clone(),
        threshold: rot.threshold.unwrap_or(usize::from(old.threshold)),
        custodians: rot
            .custodians
            .clone()
            .unwrap_or_else(|| old.custodians.clone()),
        kind: rot.kind.unwrap_or(old.secret_kind),
        rotate_within: old.rotate_within,
        review_within: rot.review_within.unwrap_or(old.review_within),
        cosigners: rot.cosigners.clone(),
    };
    let mut among = req.custodians.clone();
    among.extend(old.custodians.iter().cloned());
    let mut s = prepared(engine, dir, req, Some((old.id, among)))?;
    s.supersedes = Some(old.id);
    Ok(s)
}

fn prepared<'a>(
    mut engine: Engine<'a>,
    dir: &Path,
    req: SealRequest,
    rotation: Option<(SetId, Vec<String>)>,
) -> Result<SealCeremony<'a>, CeremonyError> {
    crate::text::check("label", &req.label, 1, shamir::MAX_LABEL_LEN)?;
    let (custody, records) = check_request(dir, engine.state(), &req, rotation.is_none())?;
    let among = rotation
        .as_ref()
        .map_or_else(|| req.custodians.clone(), |(_, a)| a.clone());
    let signers = if req.cosigners.is_empty() {
        engine.present(Some(&among))?
    } else {
        req.cosigners.clone()
    };
    // The same replay and quorum rules as the real entries, on a provisional seal whose
    // fingerprints are placeholders: refused now, before anyone types the secret.
    let provisional = SetId::random().map_err(|_| CeremonyError::Randomness)?;
    let mut bodies = vec![Body::Seal {
        set: provisional,
        label: req.label.clone(),
        secret_kind: req.kind,
        threshold: req.threshold as u8,
        shares: req.custodians.len() as u8,
        custodians: req.custodians.clone(),
        envelopes: (0..req.custodians.len())
            .map(|i| placeholder_fingerprint(&provisional, i))
            .collect(),
        payload_digest: [0; 32],
        rotate_within: req.rotate_within,
        review_within: req.review_within,
    }];
    if let Some((old, _)) = rotation {
        bodies.push(Body::Rotate {
            old,
            new: provisional,
        });
    }
    engine.precheck(&bodies, &signers)?;
    Ok(SealCeremony {
        engine,
        dir: dir.to_path_buf(),
        req,
        custody,
        records,
        supersedes: None,
        signers,
        provisional: bodies,
    })
}

fn placeholder_fingerprint(set: &SetId, i: usize) -> Hash {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(b"glasskeep/v1/placeholder\0")
        .chain_update(set.0)
        .chain_update((i as u64).to_be_bytes())
        .finalize()
        .into()
}

impl SealCeremony<'_> {
    /// What the secret is (a file is read verbatim).
    pub fn kind(&self) -> SecretKind {
        self.req.kind
    }

    /// `--dry-run`: what the ceremony would write and whose cards it would ask for, with
    /// the set id and envelope fingerprints still placeholders (they are made from the
    /// secret). Always ends in [`CeremonyError::DryRun`] (or an earlier refusal); no
    /// secret is read, no envelope written, no card used.
    pub fn dry_run(self) -> Result<(), CeremonyError> {
        let title = match self.supersedes {
            Some(_) => format!(
                "ROTATE {:?}: a new secret, sealed to {} (dry run: set id and envelope fingerprints are placeholders)",
                self.req.label,
                self.req.custodians.join(", ")
            ),
            None => format!(
                "SEAL {:?} to {} (dry run: set id and envelope fingerprints are placeholders)",
                self.req.label,
                self.req.custodians.join(", ")
            ),
        };
        self.engine
            .finish(&title, self.provisional, self.signers, &mut SignOnly)
            .map(|_| ())
    }

    /// Splits `secret`, seals one share to each custodian, writes the envelopes under
    /// `dir/envelopes/`, and commits the seal entry (and, for a rotation, the rotate
    /// entry) with a checkpoint cosigned by the quorum. If anything fails, the envelope
    /// files are removed again: an envelope the log does not record must not survive.
    pub fn seal(self, secret: &SecretBytes) -> Result<SealReport, CeremonyError> {
        let SealCeremony {
            engine,
            dir,
            req,
            custody,
            records,
            supersedes,
            signers,
            provisional: _,
        } = self;
        let time = engine.time();
        let (envelopes, body, written) = seal_into(&dir, &req, &custody, &records, secret, time)?;
        let Body::Seal { set, .. } = &body else {
            unreachable!("seal_into returns a seal body")
        };
        let set_id = *set;
        let mut bodies = vec![body];
        if let Some(old) = supersedes {
            bodies.push(Body::Rotate { old, new: set_id });
        }
        let title = match supersedes {
            Some(_) => format!(
                "ROTATE {:?}: a new secret, sealed to {}",
                req.label,
                req.custodians.join(", ")
            ),
            None => format!("SEAL {:?} to {}", req.label, req.custodians.join(", ")),
        };
        match engine.finish(&title, bodies, signers, &mut SignOnly) {
            Ok(done) => Ok(SealReport {
                set_id,
                threshold: req.threshold,
                envelopes,
                head: done.head,
                cosigners: done.cosigners,
            }),
            Err(e) => {
                remove_all(&written);
                Err(e)
            }
        }
    }
}

/// The custody and the custodians' records for `req`, or why it cannot be sealed: the
/// label already sealed (when `new_label`; a rotation replaces it), a custodian named
/// twice, not enrolled or retired, or a threshold outside 2..=custodians.
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
        return Err(CeremonyError::LabelTaken {
            label: req.label.clone(),
        });
    }
    let mut records = Vec::new();
    for (i, name) in req.custodians.iter().enumerate() {
        if req.custodians[..i].contains(name) {
            return Err(CeremonyError::NamedTwice { name: name.clone() });
        }
        let c = state
            .custodian(name)
            .filter(|c| c.is_live())
            .ok_or_else(|| CeremonyError::NotEnrolled { name: name.clone() })?;
        records.push(c.record.clone());
    }
    if req.threshold < 2 || req.threshold > req.custodians.len() || req.custodians.len() > 255 {
        return Err(CeremonyError::Threshold {
            threshold: req.threshold,
            custodians: req.custodians.len(),
        });
    }
    Ok((custody, records))
}

/// Checks a seal request against the log without a ceremony (no lock, no cards): what
/// the command line can say before it starts one.
pub fn precheck_seal(dir: &Path, req: &SealRequest) -> Result<(), CeremonyError> {
    crate::text::check("label", &req.label, 1, shamir::MAX_LABEL_LEN)?;
    check_request(dir, &super::read_state(dir)?, req, true).map(|_| ())
}

/// Splits, seals and writes the envelope files; returns the envelopes, the seal entry's
/// body and the files written (removed by the caller if the ceremony fails).
fn seal_into(
    dir: &Path,
    req: &SealRequest,
    custody: &Custody,
    records: &[CustodianRecord],
    secret: &SecretBytes,
    time: u64,
) -> Result<(Vec<SealedEnvelope>, Body, Vec<PathBuf>), CeremonyError> {
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
                    CeremonyError::Enrollment {
                        name: record.name.clone(),
                        reason: format!("the recorded seal key is unusable: {e}"),
                    }
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
                seal_slot: Some(record.seal_slot),
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
        Ok(Body::Seal {
            set: set.payload.set_id,
            label: req.label.clone(),
            secret_kind: req.kind,
            threshold: set.payload.threshold,
            shares: set.payload.count,
            custodians: req.custodians.clone(),
            envelopes: envs.iter().map(|e| e.fingerprint.0).collect(),
            payload_digest: set.payload.digest(),
            rotate_within: req.rotate_within,
            review_within: req.review_within,
        })
    })();
    match r {
        Ok(body) => Ok((envs, body, written)),
        Err(e) => {
            remove_all(&written);
            Err(e)
        }
    }
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

/// Closes an opening with a verdict, cosigned by at least one custodian who did not
/// take part in it.
pub fn review(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    review: &Review,
    cosigners: &[String],
    now: u64,
) -> Result<CeremonyReport, CeremonyError> {
    crate::text::check("notes", &review.notes, 0, crate::log::body::MAX_REASON)?;
    let body = Body::Review {
        open_seq: review.open_seq,
        verdict: review.verdict,
        notes: review.notes.clone(),
    };
    let title = format!(
        "REVIEW of opening {}: {}",
        review.open_seq,
        review.verdict.name()
    );
    act(dir, cards, op, opts, &title, body, cosigners, now)
}

/// Records that an envelope was destroyed, witnessed — and cosigned — by exactly the
/// custodians named as witnesses (at least two).
pub fn destroyed(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    fingerprint: &str,
    witnesses: &[String],
    now: u64,
) -> Result<CeremonyReport, CeremonyError> {
    let fp = resolve_fingerprint(&super::read_state(dir)?, fingerprint)?;
    let mut witnesses = witnesses.to_vec();
    witnesses.sort();
    let body = Body::EnvelopeDestroyed {
        envelope: fp,
        witnesses: witnesses.clone(),
    };
    let title = format!(
        "ENVELOPE DESTROYED: {}, witnessed by {}",
        crate::hex::encode(&fp[..8]),
        witnesses.join(", ")
    );
    act(dir, cards, op, opts, &title, body, &witnesses, now)
}

/// Activates the pending set of `label` (made by a rotation) before every custodian has
/// acknowledged their new envelope: the old set is superseded, and the log records who
/// had not acknowledged. Cosigned by at least the old set's threshold of its custodians;
/// replay refuses it unless the set's threshold of acknowledgements is in.
pub fn activate(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    label: &str,
    cosigners: &[String],
    now: u64,
) -> Result<CeremonyReport, CeremonyError> {
    let state = super::read_state(dir)?;
    let set = state
        .pending_set_by_label(label)
        .ok_or_else(|| CeremonyError::NothingPending {
            label: label.to_owned(),
        })?;
    let missing = set.unacknowledged();
    let acknowledged = set.custodians.len() - missing.len();
    if acknowledged < usize::from(set.threshold) {
        return Err(CeremonyError::ActivateUnproven {
            label: label.to_owned(),
            set: set.id.to_string(),
            acknowledged,
            threshold: set.threshold,
        });
    }
    let body = Body::Activate {
        set: set.id,
        missing: missing.clone(),
    };
    let title = format!(
        "ACTIVATE {label:?} (set {}) without the acknowledgement of {}",
        set.id,
        missing.join(", ")
    );
    act(dir, cards, op, opts, &title, body, cosigners, now)
}

#[allow(clippy::too_many_arguments)] // the ceremony's whole context, passed through once
/// Retires a custodian: their key signs nothing more; every live set that includes
/// them must then be rotated. Needs the custody quorum of other custodians.
pub fn retire(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    name: &str,
    reason: &str,
    cosigners: &[String],
    now: u64,
) -> Result<CeremonyReport, CeremonyError> {
    crate::text::check("reason", reason, 1, crate::log::body::MAX_REASON)?;
    let body = Body::Retire {
        custodian: name.to_owned(),
        reason: reason.to_owned(),
    };
    let others: Vec<String> = cosigners.iter().filter(|c| *c != name).cloned().collect();
    let title = format!("RETIRE {name}: {reason}");
    act_excluding(dir, cards, op, opts, &title, body, &others, Some(name), now)
}

/// Covers the entries after the last checkpoint (shown first) with a checkpoint signed
/// by the custody quorum; with no such entries, re-signs the head.
pub fn checkpoint(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    cosigners: &[String],
    now: u64,
) -> Result<CeremonyReport, CeremonyError> {
    let opts = StartOptions {
        covering: true,
        ..opts.clone()
    };
    let mut engine = Engine::start(dir, cards, op, &opts, now)?;
    let signers = if cosigners.is_empty() {
        engine.present(None)?
    } else {
        cosigners.to_vec()
    };
    let state = engine.state();
    let from = state.last_checkpoint().map_or(1, |c| c + 1);
    let to = state.next_seq();
    let mut title = String::from("CHECKPOINT");
    if from < to {
        let entries = crate::log::read_log_entries(
            &std::fs::read(dir.join(crate::log::store::LOG_FILE))
                .map_err(|e| CeremonyError::io(dir, e))?,
        )
        .map_err(|f| CeremonyError::Unverified {
            seq: f.seq,
            class: f.class.to_string(),
            detail: f.detail,
        })?;
        title.push_str(": these entries were appended without a checkpoint; sign only if every one of them happened as shown:\n");
        for e in entries.iter().filter(|e| e.seq >= from) {
            let l = crate::log::show::line(e);
            title.push_str(&format!(
                "  entry {:>4}  {:<18}  {:<20}  {}\n",
                l.seq,
                l.kind,
                crate::text::escape(&l.who.join(",")),
                crate::text::escape(&l.what)
            ));
        }
    }
    let done = engine.finish(&title, Vec::new(), signers, &mut SignOnly)?;
    Ok(CeremonyReport {
        seq: done.checkpoint,
        head: done.head,
        cosigners: done.cosigners,
    })
}

/// One act entry and its checkpoint, through the engine. `cosigners` empty: the
/// enrolled custodians whose YubiKeys are inserted.
#[allow(clippy::too_many_arguments)] // the ceremony's whole context, passed through once
fn act(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    title: &str,
    body: Body,
    cosigners: &[String],
    now: u64,
) -> Result<CeremonyReport, CeremonyError> {
    act_excluding(dir, cards, op, opts, title, body, cosigners, None, now)
}

/// [`act`], where the custodians detected as present leave out `exclude` (the one being
/// retired, who signs nothing more).
#[allow(clippy::too_many_arguments)] // the ceremony's whole context, passed through once
fn act_excluding(
    dir: &Path,
    cards: &mut dyn Cards,
    op: &mut dyn Operator,
    opts: &StartOptions,
    title: &str,
    body: Body,
    cosigners: &[String],
    exclude: Option<&str>,
    now: u64,
) -> Result<CeremonyReport, CeremonyError> {
    let mut engine = Engine::start(dir, cards, op, opts, now)?;
    let signers = if cosigners.is_empty() {
        let mut present = engine.present(None)?;
        present.retain(|n| Some(n.as_str()) != exclude);
        present
    } else {
        cosigners.to_vec()
    };
    engine.precheck(std::slice::from_ref(&body), &signers)?;
    let done = engine.finish(title, vec![body], signers, &mut SignOnly)?;
    Ok(CeremonyReport {
        seq: done.seqs[0],
        head: done.head,
        cosigners: done.cosigners,
    })
}

/// A full fingerprint, or a unique prefix of one the log records (the short form
/// printed on envelopes, spaces and dashes ignored).
pub(crate) fn resolve_fingerprint(state: &State, text: &str) -> Result<Hash, CeremonyError> {
    let clean: String = text
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    if clean.len() < 16 {
        return Err(CeremonyError::Fingerprint(FingerprintError::TooShort));
    }
    let mut hits = Vec::new();
    for set in state.sets() {
        for fp in &set.envelopes {
            if crate::hex::encode(fp).starts_with(&clean) {
                hits.push(*fp);
            }
        }
    }
    let shown = crate::text::escape(text).into_owned();
    match hits.len() {
        1 => Ok(hits[0]),
        0 => Err(CeremonyError::Fingerprint(FingerprintError::Unknown(shown))),
        n => Err(CeremonyError::Fingerprint(FingerprintError::Ambiguous(
            shown, n,
        ))),
    }
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
