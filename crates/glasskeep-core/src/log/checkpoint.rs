//! Checkpoints: the present custodians' YubiKeys sign the head of the log.
//!
//! The signature input binds the custody id and the checkpoint's position as well as the
//! head, under its own domain label, so a signature lifted from one custody or one
//! position is worthless anywhere else (FORMAT.md, "Checkpoint signature input").

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::custodian::CustodianRecord;
use crate::log::body::{Allowances, Body, CheckpointSignature};
use crate::log::entry::{Entry, Hash};
use crate::log::replay::State;
use crate::log::CHECKPOINT_LABEL;

/// Signs checkpoint digests with one custodian's sign key. The ceremony implements it
/// over the custodian's YubiKey (slot 9c); tests use a software key.
pub trait CheckpointSigner {
    /// The enrolled custodian this signer speaks for.
    fn custodian(&self) -> &str;
    /// ECDSA P-256 over the 32-byte prehashed `digest`; a DER signature, as cards return.
    fn sign_digest(&mut self, digest: &Hash) -> Result<Vec<u8>, SignError>;
}

/// Why a signer could not sign. The log knows no card: the signer's own error rides
/// along, and whoever supplied the signer reads it back with [`SignError::downcast_ref`].
#[derive(Debug, Error)]
#[error(transparent)]
pub struct SignError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl SignError {
    /// Wraps the signer's error.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }

    /// The signer's error, if it is a `T`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }

    /// The signer's error, if it is a `T`; otherwise `self` back.
    pub fn downcast<T: std::error::Error + 'static>(self) -> Result<T, Self> {
        self.0.downcast::<T>().map(|b| *b).map_err(Self)
    }
}

/// Checks a custodian's attestation chain. The real checker lives with the token code;
/// `log verify` takes one as a parameter so tests can use a fake.
pub trait AttestationCheck {
    /// `Ok` if `record`'s certificates chain to the roots a custody of this kind trusts
    /// (the simulator's root when `training`, Yubico's otherwise); `Err` says why not.
    fn check(&self, record: &CustodianRecord, training: bool) -> Result<(), String>;
}

/// Why a checkpoint could not be made.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// No signer was given: a checkpoint nobody signed proves nothing.
    #[error("a checkpoint needs at least one custodian's signature")]
    NoSigners,
    /// A signer of the prepared checkpoint gave no signature.
    #[error("{name} has not signed the checkpoint")]
    Missing {
        /// Who.
        name: String,
    },
    /// More signers than a checkpoint can list.
    #[error("{count} signers: a checkpoint lists at most 255")]
    TooManySigners {
        /// How many were given.
        count: usize,
    },
    /// The log has no genesis yet.
    #[error("the log has no genesis: run `glasskeep init` first")]
    NoCustody,
    /// A signer names someone who is not enrolled.
    #[error("{name} is not an enrolled custodian")]
    NotEnrolled {
        /// The name.
        name: String,
    },
    /// The same custodian was given twice.
    #[error("{name} was given twice: each custodian signs a checkpoint once")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// The signer failed or refused.
    #[error("{name}'s YubiKey could not sign: {source}")]
    Signer {
        /// Whose signer.
        name: String,
        /// The signer's error.
        source: SignError,
    },
    /// The card returned a signature that does not verify with the enrolled sign key:
    /// the wrong YubiKey, or a sign key replaced since enrollment.
    #[error("the signature from {name}'s YubiKey does not match their enrolled sign key: is it their card (serial {serial})?")]
    WrongKey {
        /// Whose card.
        name: String,
        /// The serial enrolled for them.
        serial: u32,
    },
}

/// The optional fields of a checkpoint (keys 4, 5 and 6), all covered by its signatures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signed {
    /// SHA-256 of the ceremony plan the ceremony ran under (`--plan`).
    pub plan: Option<Hash>,
    /// SHA-256 of the glasskeep binary that made the checkpoint.
    pub build: Option<Hash>,
    /// What the people present allowed (`--allow-network`, `--allow-scripted-pins`).
    pub allowed: Allowances,
}

impl Signed {
    /// The optional fields of a checkpoint body (all empty for other kinds).
    pub fn of(body: &Body) -> Signed {
        match body {
            Body::Checkpoint {
                plan,
                build,
                allowed,
                ..
            } => Signed {
                plan: *plan,
                build: *build,
                allowed: *allowed,
            },
            _ => Signed::default(),
        }
    }
}

/// The digest a checkpoint signature covers: SHA-256 of [`CHECKPOINT_LABEL`] ||
/// custody id (16 bytes) || seq of the checkpoint entry (u64 big-endian) || head ||
/// the checkpoint's claimed time (u64 big-endian) || the number of signers (one byte) ||
/// each signer's name, in the entry's (ascending) order, as one length byte and its
/// UTF-8 || the optional fields: the plan's SHA-256 as it is (32 bytes), the build's
/// as the byte 5 and its 32 bytes, the allowances as the byte 6 and their one-byte
/// value. Every field of the checkpoint but the signatures themselves and the machine
/// clock is covered, so neither its time, who signed it, the plan it claims, the binary
/// that made it nor what was allowed can be changed afterwards. The signer list is
/// length-prefixed and each combination of optional fields adds a different number of
/// bytes (0, 2, 32, 33, 34, 35, 65 or 67), so no two combinations share an input.
pub fn signature_input<S: AsRef<str>>(
    custody_id: &[u8; 16],
    seq: u64,
    head: &Hash,
    time: u64,
    signers: &[S],
    signed: &Signed,
) -> Hash {
    let mut h = Sha256::new();
    h.update(CHECKPOINT_LABEL);
    h.update(custody_id);
    h.update(seq.to_be_bytes());
    h.update(head);
    h.update(time.to_be_bytes());
    // At most 255 signers and names of at most 64 bytes: the decoder enforces both, and
    // `make_checkpoint` refuses more signers before it gets here.
    h.update([signers.len() as u8]);
    for s in signers {
        let name = s.as_ref().as_bytes();
        h.update([name.len() as u8]);
        h.update(name);
    }
    // The plan hash keeps the untagged spelling checkpoints had before keys 5 and 6.
    if let Some(p) = &signed.plan {
        h.update(p);
    }
    if let Some(b) = &signed.build {
        h.update([5]);
        h.update(b);
    }
    if !signed.allowed.is_empty() {
        // from_bits admits 1..=3 only.
        h.update([6, signed.allowed.bits() as u8]);
    }
    h.finalize().into()
}

/// Whether `signature` (r || s, low s) is `key`'s signature over `digest`. High-s
/// spellings are refused: each signature has exactly one accepted encoding.
pub fn signature_valid(key: &VerifyingKey, digest: &Hash, signature: &[u8; 64]) -> bool {
    let Ok(sig) = Signature::from_slice(signature) else {
        return false;
    };
    if sig.normalize_s() != sig {
        return false;
    }
    key.verify_prehash(digest, &sig).is_ok()
}

/// A checkpoint fixed before any card signs it: where it goes, who signs, and the
/// digest each of them signs. The ceremonies prepare it once the act entries are staged,
/// so every custodian's card signs in one visit, in any order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCheckpoint {
    /// Its seq.
    pub seq: u64,
    /// The head it covers.
    pub head: Hash,
    /// Its claimed time.
    pub time: u64,
    /// The machine clock's reading (recorded, not signed).
    pub clock: u64,
    /// The signers, ascending, as the entry lists them.
    pub signers: Vec<String>,
    /// The plan, build and allowances it records.
    pub signed: Signed,
    /// What each signer's sign key signs.
    pub digest: Hash,
}

/// Fixes the checkpoint that would follow `state`, to be signed by `signers` (any order;
/// each enrolled and named once).
pub fn prepare_checkpoint(
    state: &State,
    signers: &[String],
    time: u64,
    clock: u64,
    signed: Signed,
) -> Result<PendingCheckpoint, CheckpointError> {
    if signers.is_empty() {
        return Err(CheckpointError::NoSigners);
    }
    if signers.len() > 255 {
        return Err(CheckpointError::TooManySigners {
            count: signers.len(),
        });
    }
    let custody = state.custody().ok_or(CheckpointError::NoCustody)?;
    let mut names = signers.to_vec();
    names.sort();
    for (i, name) in names.iter().enumerate() {
        if state.custodian(name).is_none() {
            return Err(CheckpointError::NotEnrolled { name: name.clone() });
        }
        if i > 0 && names[i - 1] == *name {
            return Err(CheckpointError::Duplicate { name: name.clone() });
        }
    }
    let seq = state.next_seq();
    let head = state.head();
    let digest = signature_input(&custody.custody_id, seq, &head, time, &names, &signed);
    Ok(PendingCheckpoint {
        seq,
        head,
        time,
        clock,
        signers: names,
        signed,
        digest,
    })
}

/// The checkpoint entry from the signers' DER signatures over `pending.digest`. Each is
/// checked against the custodian's enrolled sign key, so a wrong card is caught at the
/// safe, not by the auditor.
pub fn finish_checkpoint(
    state: &State,
    pending: &PendingCheckpoint,
    der_signatures: &[(String, Vec<u8>)],
) -> Result<Entry, CheckpointError> {
    let mut signatures = Vec::with_capacity(pending.signers.len());
    for name in &pending.signers {
        let custodian = state
            .custodian(name)
            .ok_or_else(|| CheckpointError::NotEnrolled { name: name.clone() })?;
        let wrong = || CheckpointError::WrongKey {
            name: name.clone(),
            serial: custodian.record.serial,
        };
        let der = der_signatures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d)
            .ok_or_else(|| CheckpointError::Missing { name: name.clone() })?;
        // Cards do not normalise s; the log stores the low-s spelling only.
        let sig = Signature::from_der(der).map_err(|_| wrong())?.normalize_s();
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(&sig.to_bytes());
        if !signature_valid(&custodian.key, &pending.digest, &bytes) {
            return Err(wrong());
        }
        signatures.push(CheckpointSignature {
            custodian: name.clone(),
            signature: bytes,
        });
    }
    Ok(Entry {
        seq: pending.seq,
        prev: pending.head,
        time: pending.time,
        body: Body::Checkpoint {
            head: pending.head,
            signatures,
            clock: pending.clock,
            plan: pending.signed.plan,
            build: pending.signed.build,
            allowed: pending.signed.allowed,
        },
    })
}

/// Makes the checkpoint entry that would follow `state`, signed by every signer in turn
/// ([`prepare_checkpoint`], each signer, then [`finish_checkpoint`]).
pub fn make_checkpoint(
    state: &State,
    signers: &mut [&mut dyn CheckpointSigner],
    time: u64,
    clock: u64,
) -> Result<Entry, CheckpointError> {
    let names: Vec<String> = signers.iter().map(|s| s.custodian().to_owned()).collect();
    let pending = prepare_checkpoint(state, &names, time, clock, Signed::default())?;
    let mut der = Vec::with_capacity(signers.len());
    for signer in signers.iter_mut() {
        let name = signer.custodian().to_owned();
        let sig =
            signer
                .sign_digest(&pending.digest)
                .map_err(|source| CheckpointError::Signer {
                    name: name.clone(),
                    source,
                })?;
        der.push((name, sig));
    }
    finish_checkpoint(state, &pending, &der)
}

/// A checkpoint signature that does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadSignature {
    /// Whose signature.
    pub custodian: String,
    /// The custodian is not enrolled at all.
    pub unknown: bool,
}

/// Checks every signature of a checkpoint entry against the enrolled sign keys in
/// `state`; returns how many were checked (0 for other kinds, or before genesis).
pub fn check_signatures(state: &State, entry: &Entry) -> Result<usize, BadSignature> {
    let (
        Body::Checkpoint {
            head, signatures, ..
        },
        Some(custody),
    ) = (&entry.body, state.custody())
    else {
        return Ok(0);
    };
    let names: Vec<&str> = signatures.iter().map(|s| s.custodian.as_str()).collect();
    let digest = signature_input(
        &custody.custody_id,
        entry.seq,
        head,
        entry.time,
        &names,
        &Signed::of(&entry.body),
    );
    for s in signatures {
        let Some(c) = state.custodian(&s.custodian) else {
            return Err(BadSignature {
                custodian: s.custodian.clone(),
                unknown: true,
            });
        };
        if !signature_valid(&c.key, &digest, &s.signature) {
            return Err(BadSignature {
                custodian: s.custodian.clone(),
                unknown: false,
            });
        }
    }
    Ok(signatures.len())
}
