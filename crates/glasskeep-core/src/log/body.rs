//! Entry bodies: one variant per kind, each a CBOR map with its own small-uint keys
//! (FORMAT.md, "Entry bodies").

use crate::cbor::{CborError, Decoder, Encoder};
use crate::custodian::CustodianRecord;
use crate::log::record::{decode_record, encode_record, valid_name};
use crate::log::Hash;
use crate::shamir::SetId;

pub use crate::log::kinds::{Kind, SecretKind, Verdict};

/// Free text (reasons, notes, labels) is bounded so a hostile file cannot make the
/// verifier hold arbitrarily large strings; real notes are a few lines.
const MAX_TEXT: usize = 4096;
/// The most custodians (and envelopes) a set can name: shares are indexed by one byte.
const MAX_SHARES: u64 = 255;
/// Longest organisation name.
pub const MAX_ORG: usize = 256;
/// Longest incident id.
pub const MAX_INCIDENT: usize = 256;
/// Longest reason or notes.
pub const MAX_REASON: usize = MAX_TEXT;
/// Shortest custodian term a genesis may record: one day.
pub const MIN_TERM: u64 = 86_400;
/// Longest custodian term: ten years of 365 days.
pub const MAX_TERM: u64 = 3_650 * 86_400;
/// The term `init` records when none is given: twelve months (365 days).
pub const DEFAULT_TERM: u64 = 365 * 86_400;

/// One custodian's signature in a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointSignature {
    /// The enrolled custodian whose sign key made it.
    pub custodian: String,
    /// ECDSA P-256 `r || s`, 32 bytes each, `s` in the lower half of the group order:
    /// one spelling per signature, so a signature cannot be re-spelled into another
    /// valid entry with another hash.
    pub signature: [u8; 64],
}

/// What the people present allowed a ceremony on a production custody that glasskeep
/// otherwise refuses, recorded (signed) in the ceremony's checkpoint, key 6.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allowances {
    /// `--allow-network`: the machine had a network interface up or a default route.
    pub network: bool,
    /// `--allow-scripted-pins`: the custodians' PINs were read from a file or a file
    /// descriptor, not typed.
    pub scripted_pins: bool,
}

impl Allowances {
    /// Key 6's bit for `network`.
    pub const NETWORK: u64 = 1;
    /// Key 6's bit for `scripted_pins`.
    pub const SCRIPTED_PINS: u64 = 2;

    /// Nothing allowed: the checkpoint has no key 6.
    pub fn is_empty(self) -> bool {
        !self.network && !self.scripted_pins
    }

    /// Key 6's value.
    pub fn bits(self) -> u64 {
        (u64::from(self.network) * Self::NETWORK)
            | (u64::from(self.scripted_pins) * Self::SCRIPTED_PINS)
    }

    /// From key 6's value: 1..=3 (0 is spelled by leaving the key out; other bits are
    /// unknown and refused).
    pub fn from_bits(bits: u64) -> Option<Self> {
        (1..=3).contains(&bits).then_some(Allowances {
            network: bits & Self::NETWORK != 0,
            scripted_pins: bits & Self::SCRIPTED_PINS != 0,
        })
    }

    /// The flags, as typed (`--allow-network`, `--allow-scripted-pins`).
    pub fn flags(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.network {
            v.push("--allow-network");
        }
        if self.scripted_pins {
            v.push("--allow-scripted-pins");
        }
        v
    }
}

/// The body of an entry; its variant is the entry's kind.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// Creates the custody.
    Genesis {
        /// The organisation's name.
        org: String,
        /// A training custody trusts the simulator's attestation root.
        training: bool,
        /// Random id that every later entry binds through the hash chain.
        custody_id: [u8; 16],
        /// The glasskeep version that wrote genesis.
        tool_version: String,
        /// SHA-256 of the running glasskeep binary.
        binary_sha256: Hash,
        /// The custody quorum q (at least 2): how many custodians acts that concern
        /// the whole custody need (enrollment after the first q, retirement, a bare
        /// checkpoint).
        quorum: u8,
        /// The custodians' term, seconds: each must prove within it, by a share check,
        /// a drill or an opening, that their YubiKey and PIN still open their share.
        term: u64,
    },
    /// Enrolls a custodian.
    Enroll {
        /// The full record, attestation certificates included.
        record: Box<CustodianRecord>,
        /// The sign key is on firmware with Yubico advisory YSA-2024-03 (before 5.7.0)
        /// and the people present accepted that risk (`--accept-firmware-risk`).
        firmware_risk_accepted: bool,
    },
    /// Seals a share set.
    Seal {
        /// The set.
        set: SetId,
        /// Human label (what the secret is).
        label: String,
        /// What the secret is.
        secret_kind: SecretKind,
        /// Threshold (>= 2).
        threshold: u8,
        /// Share count.
        shares: u8,
        /// Custodians in share-index order (index i + 1).
        custodians: Vec<String>,
        /// Envelope fingerprints, same order.
        envelopes: Vec<Hash>,
        /// SHA-256 of the payload ciphertext.
        payload_digest: Hash,
        /// Seconds from an opening by which the set must be rotated.
        rotate_within: u64,
        /// Seconds from an opening by which someone who did not take part must review
        /// it.
        review_within: u64,
    },
    /// Opens a set.
    Open {
        /// The set.
        set: SetId,
        /// Why.
        reason: String,
        /// Incident id, empty if none.
        incident: String,
        /// Custodians present, ascending share index.
        custodians: Vec<String>,
        /// Envelopes used, same order.
        envelopes: Vec<Hash>,
    },
    /// A drill on a set.
    Drill {
        /// The set.
        set: SetId,
        /// Custodians present.
        custodians: Vec<String>,
        /// Envelopes used.
        envelopes: Vec<Hash>,
    },
    /// One custodian checked their share.
    ShareCheck {
        /// The set.
        set: SetId,
        /// The custodian.
        custodian: String,
        /// Their envelope.
        envelope: Hash,
    },
    /// Supersedes a set by another, already sealed one.
    Rotate {
        /// The set superseded.
        old: SetId,
        /// The set replacing it.
        new: SetId,
    },
    /// Records that a paper envelope was destroyed.
    EnvelopeDestroyed {
        /// Its fingerprint.
        envelope: Hash,
        /// Who saw it destroyed.
        witnesses: Vec<String>,
    },
    /// Reviews an opening.
    Review {
        /// Sequence number of the open entry.
        open_seq: u64,
        /// The verdict.
        verdict: Verdict,
        /// Notes.
        notes: String,
    },
    /// Signs the head.
    Checkpoint {
        /// The hash of the previous entry.
        head: Hash,
        /// Signatures, custodian names strictly ascending (so each signs once).
        signatures: Vec<CheckpointSignature>,
        /// What the machine's clock read when the ceremony started. Less than the
        /// entry's time when the clock was behind the log and the previous entry's time
        /// was used instead.
        clock: u64,
        /// SHA-256 of the ceremony plan the ceremony ran under, when it had one (signed
        /// with the checkpoint).
        plan: Option<Hash>,
        /// SHA-256 of the glasskeep binary that made the checkpoint (signed with it);
        /// absent in checkpoints written before glasskeep recorded it.
        build: Option<Hash>,
        /// What the people present allowed (signed); empty for most ceremonies.
        allowed: Allowances,
    },
    /// A custodian leaves the custody: their key signs nothing more, and every live set
    /// that includes them must be rotated.
    Retire {
        /// The custodian retired.
        custodian: String,
        /// Why.
        reason: String,
    },
    /// A quorum activates a pending set (made by a rotation) before every one of its
    /// custodians has acknowledged their new envelope; the old set is superseded.
    Activate {
        /// The pending set.
        set: SetId,
        /// Its custodians who had not acknowledged, in share-index order.
        missing: Vec<String>,
    },
}

impl Body {
    /// The entry kind of this body.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Genesis { .. } => Kind::Genesis,
            Body::Enroll { .. } => Kind::Enroll,
            Body::Seal { .. } => Kind::Seal,
            Body::Open { .. } => Kind::Open,
            Body::Drill { .. } => Kind::Drill,
            Body::ShareCheck { .. } => Kind::ShareCheck,
            Body::Rotate { .. } => Kind::Rotate,
            Body::EnvelopeDestroyed { .. } => Kind::EnvelopeDestroyed,
            Body::Review { .. } => Kind::Review,
            Body::Checkpoint { .. } => Kind::Checkpoint,
            Body::Retire { .. } => Kind::Retire,
            Body::Activate { .. } => Kind::Activate,
        }
    }

    /// Writes the body map.
    pub fn encode(&self, e: &mut Encoder) {
        match self {
            Body::Genesis {
                org,
                training,
                custody_id,
                tool_version,
                binary_sha256,
                quorum,
                term,
            } => {
                e.map(7).key(1).text(org).key(2).bool(*training);
                e.key(3).bytes(custody_id).key(4).text(tool_version);
                e.key(5)
                    .bytes(binary_sha256)
                    .key(6)
                    .uint(u64::from(*quorum));
                e.key(7).uint(*term);
            }
            Body::Enroll {
                record,
                firmware_risk_accepted,
            } => {
                e.map(2).key(1);
                encode_record(e, record);
                e.key(2).bool(*firmware_risk_accepted);
            }
            Body::Seal {
                set,
                label,
                secret_kind,
                threshold,
                shares,
                custodians,
                envelopes,
                payload_digest,
                rotate_within,
                review_within,
            } => {
                e.map(10).key(1).bytes(&set.0).key(2).text(label);
                e.key(3).uint(*secret_kind as u64);
                e.key(4).uint(u64::from(*threshold));
                e.key(5).uint(u64::from(*shares));
                e.key(6);
                names(e, custodians);
                e.key(7);
                hashes(e, envelopes);
                e.key(8).bytes(payload_digest).key(9).uint(*rotate_within);
                e.key(10).uint(*review_within);
            }
            Body::Open {
                set,
                reason,
                incident,
                custodians,
                envelopes,
            } => {
                e.map(5).key(1).bytes(&set.0).key(2).text(reason);
                e.key(3).text(incident).key(4);
                names(e, custodians);
                e.key(5);
                hashes(e, envelopes);
            }
            Body::Drill {
                set,
                custodians,
                envelopes,
            } => {
                e.map(3).key(1).bytes(&set.0).key(2);
                names(e, custodians);
                e.key(3);
                hashes(e, envelopes);
            }
            Body::ShareCheck {
                set,
                custodian,
                envelope,
            } => {
                e.map(3).key(1).bytes(&set.0).key(2).text(custodian);
                e.key(3).bytes(envelope);
            }
            Body::Rotate { old, new } => {
                e.map(2).key(1).bytes(&old.0).key(2).bytes(&new.0);
            }
            Body::EnvelopeDestroyed {
                envelope,
                witnesses,
            } => {
                e.map(2).key(1).bytes(envelope).key(2);
                names(e, witnesses);
            }
            Body::Review {
                open_seq,
                verdict,
                notes,
            } => {
                e.map(3).key(1).uint(*open_seq).key(2).uint(*verdict as u64);
                e.key(3).text(notes);
            }
            Body::Checkpoint {
                head,
                signatures,
                clock,
                plan,
                build,
                allowed,
            } => {
                let optional = usize::from(plan.is_some())
                    + usize::from(build.is_some())
                    + usize::from(!allowed.is_empty());
                e.map(3 + optional);
                e.key(1).bytes(head).key(2).array(signatures.len());
                for s in signatures {
                    e.map(2)
                        .key(1)
                        .text(&s.custodian)
                        .key(2)
                        .bytes(&s.signature);
                }
                e.key(3).uint(*clock);
                if let Some(p) = plan {
                    e.key(4).bytes(p);
                }
                if let Some(b) = build {
                    e.key(5).bytes(b);
                }
                if !allowed.is_empty() {
                    e.key(6).uint(allowed.bits());
                }
            }
            Body::Retire { custodian, reason } => {
                e.map(2).key(1).text(custodian).key(2).text(reason);
            }
            Body::Activate { set, missing } => {
                e.map(2).key(1).bytes(&set.0).key(2);
                names(e, missing);
            }
        }
    }

    /// Reads the body map of an entry of kind `code`; `None` for an unknown kind.
    pub fn decode(code: u64, d: &mut Decoder<'_>) -> Result<Option<Body>, CborError> {
        let Some(kind) = Kind::from_code(code) else {
            return Ok(None);
        };
        let body = match kind {
            Kind::Genesis => {
                d.map_len(7)?;
                d.key(1)?;
                let org = text(d, "org", 1, MAX_ORG)?;
                d.key(2)?;
                let training = d.bool()?;
                d.key(3)?;
                let custody_id = d.bytes_fixed::<16>("custody id")?;
                d.key(4)?;
                let tool_version = text(d, "tool version", 1, 64)?;
                d.key(5)?;
                let binary_sha256 = d.bytes_fixed::<32>("binary sha256")?;
                d.key(6)?;
                let quorum = d.uint_in("quorum", 2, MAX_SHARES)? as u8;
                d.key(7)?;
                let term = d.uint_in("term", MIN_TERM, MAX_TERM)?;
                Body::Genesis {
                    org,
                    training,
                    custody_id,
                    tool_version,
                    binary_sha256,
                    quorum,
                    term,
                }
            }
            Kind::Enroll => {
                d.map_len(2)?;
                d.key(1)?;
                let record = Box::new(decode_record(d)?);
                d.key(2)?;
                let firmware_risk_accepted = d.bool()?;
                Body::Enroll {
                    record,
                    firmware_risk_accepted,
                }
            }
            Kind::Seal => {
                d.map_len(10)?;
                d.key(1)?;
                let set = set_id(d)?;
                d.key(2)?;
                let label = text(d, "label", 1, crate::shamir::MAX_LABEL_LEN)?;
                d.key(3)?;
                let secret_kind = match d.uint_in("secret kind", 0, 3)? {
                    0 => SecretKind::Password,
                    1 => SecretKind::Totp,
                    2 => SecretKind::RecoveryCodes,
                    _ => SecretKind::File,
                };
                d.key(4)?;
                let threshold = d.uint_in("threshold", 0, MAX_SHARES)? as u8;
                d.key(5)?;
                let shares = d.uint_in("shares", 0, MAX_SHARES)? as u8;
                d.key(6)?;
                let custodians = read_names(d)?;
                d.key(7)?;
                let envelopes = read_hashes(d)?;
                d.key(8)?;
                let payload_digest = d.bytes_fixed::<32>("payload digest")?;
                d.key(9)?;
                let rotate_within = d.uint()?;
                d.key(10)?;
                let review_within = d.uint()?;
                Body::Seal {
                    set,
                    label,
                    secret_kind,
                    threshold,
                    shares,
                    custodians,
                    envelopes,
                    payload_digest,
                    rotate_within,
                    review_within,
                }
            }
            Kind::Open => {
                d.map_len(5)?;
                d.key(1)?;
                let set = set_id(d)?;
                d.key(2)?;
                let reason = text(d, "reason", 1, MAX_TEXT)?;
                d.key(3)?;
                let incident = text(d, "incident", 0, MAX_INCIDENT)?;
                d.key(4)?;
                let custodians = read_names(d)?;
                d.key(5)?;
                let envelopes = read_hashes(d)?;
                Body::Open {
                    set,
                    reason,
                    incident,
                    custodians,
                    envelopes,
                }
            }
            Kind::Drill => {
                d.map_len(3)?;
                d.key(1)?;
                let set = set_id(d)?;
                d.key(2)?;
                let custodians = read_names(d)?;
                d.key(3)?;
                let envelopes = read_hashes(d)?;
                Body::Drill {
                    set,
                    custodians,
                    envelopes,
                }
            }
            Kind::ShareCheck => {
                d.map_len(3)?;
                d.key(1)?;
                let set = set_id(d)?;
                d.key(2)?;
                let custodian = name(d)?;
                d.key(3)?;
                let envelope = d.bytes_fixed::<32>("envelope")?;
                Body::ShareCheck {
                    set,
                    custodian,
                    envelope,
                }
            }
            Kind::Rotate => {
                d.map_len(2)?;
                d.key(1)?;
                let old = set_id(d)?;
                d.key(2)?;
                let new = set_id(d)?;
                Body::Rotate { old, new }
            }
            Kind::EnvelopeDestroyed => {
                d.map_len(2)?;
                d.key(1)?;
                let envelope = d.bytes_fixed::<32>("envelope")?;
                d.key(2)?;
                let witnesses = read_names(d)?;
                Body::EnvelopeDestroyed {
                    envelope,
                    witnesses,
                }
            }
            Kind::Review => {
                d.map_len(3)?;
                d.key(1)?;
                let open_seq = d.uint()?;
                d.key(2)?;
                let verdict = match d.uint_in("verdict", 0, 1)? {
                    0 => Verdict::Justified,
                    _ => Verdict::Unjustified,
                };
                d.key(3)?;
                let notes = text(d, "notes", 0, MAX_TEXT)?;
                Body::Review {
                    open_seq,
                    verdict,
                    notes,
                }
            }
            Kind::Checkpoint => {
                let pairs = d.map()?;
                if !(3..=6).contains(&pairs) {
                    return Err(CborError::OutOfRange {
                        offset: d.position(),
                        field: "checkpoint map",
                    });
                }
                d.key(1)?;
                let head = d.bytes_fixed::<32>("head")?;
                d.key(2)?;
                let n = d.array()?;
                if n > MAX_SHARES {
                    return Err(CborError::OutOfRange {
                        offset: d.position(),
                        field: "signatures",
                    });
                }
                let mut signatures = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    d.map_len(2)?;
                    d.key(1)?;
                    let custodian = name(d)?;
                    d.key(2)?;
                    let signature = d.bytes_fixed::<64>("signature")?;
                    signatures.push(CheckpointSignature {
                        custodian,
                        signature,
                    });
                }
                d.key(3)?;
                let clock = d.uint_in("clock", 0, crate::log::entry::MAX_TIME)?;
                // Keys 4 (plan), 5 (build) and 6 (allowed) are each optional, in
                // ascending order.
                let (mut plan, mut build, mut allowed) = (None, None, Allowances::default());
                let mut last = 3;
                for _ in 3..pairs {
                    let at = d.position();
                    let key = d.uint()?;
                    if key <= last || key > 6 {
                        return Err(CborError::OutOfRange {
                            offset: at,
                            field: "checkpoint key",
                        });
                    }
                    last = key;
                    match key {
                        4 => plan = Some(d.bytes_fixed::<32>("plan")?),
                        5 => build = Some(d.bytes_fixed::<32>("build")?),
                        _ => {
                            let at = d.position();
                            allowed =
                                Allowances::from_bits(d.uint()?).ok_or(CborError::OutOfRange {
                                    offset: at,
                                    field: "allowed",
                                })?;
                        }
                    }
                }
                Body::Checkpoint {
                    head,
                    signatures,
                    clock,
                    plan,
                    build,
                    allowed,
                }
            }
            Kind::Retire => {
                d.map_len(2)?;
                d.key(1)?;
                let custodian = name(d)?;
                d.key(2)?;
                let reason = text(d, "reason", 1, MAX_TEXT)?;
                Body::Retire { custodian, reason }
            }
            Kind::Activate => {
                d.map_len(2)?;
                d.key(1)?;
                let set = set_id(d)?;
                d.key(2)?;
                let missing = read_names(d)?;
                if missing.is_empty() {
                    return Err(CborError::OutOfRange {
                        offset: d.position(),
                        field: "missing custodians",
                    });
                }
                Body::Activate { set, missing }
            }
        };
        Ok(Some(body))
    }
}

fn names(e: &mut Encoder, list: &[String]) {
    e.array(list.len());
    for n in list {
        e.text(n);
    }
}

fn hashes(e: &mut Encoder, list: &[Hash]) {
    e.array(list.len());
    for h in list {
        e.bytes(h);
    }
}

/// A text field: its length in bounds and no control or bidi character
/// ([`crate::text::check`]), else a decode error naming the field.
fn text(
    d: &mut Decoder<'_>,
    field: &'static str,
    min: usize,
    max: usize,
) -> Result<String, CborError> {
    let offset = d.position();
    let s = d.text()?;
    crate::text::check(field, s, min, max).map_err(|_| CborError::OutOfRange { offset, field })?;
    Ok(s.to_owned())
}

fn set_id(d: &mut Decoder<'_>) -> Result<SetId, CborError> {
    Ok(SetId(d.bytes_fixed::<16>("set id")?))
}

fn name(d: &mut Decoder<'_>) -> Result<String, CborError> {
    let off = d.position();
    let n = d.text()?;
    if !valid_name(n) {
        return Err(CborError::OutOfRange {
            offset: off,
            field: "custodian name",
        });
    }
    Ok(n.to_owned())
}

fn read_names(d: &mut Decoder<'_>) -> Result<Vec<String>, CborError> {
    let off = d.position();
    let n = d.array()?;
    if n > MAX_SHARES {
        return Err(CborError::OutOfRange {
            offset: off,
            field: "custodian list",
        });
    }
    (0..n).map(|_| name(d)).collect()
}

fn read_hashes(d: &mut Decoder<'_>) -> Result<Vec<Hash>, CborError> {
    let off = d.position();
    let n = d.array()?;
    if n > MAX_SHARES {
        return Err(CborError::OutOfRange {
            offset: off,
            field: "envelope list",
        });
    }
    (0..n).map(|_| d.bytes_fixed::<32>("envelope")).collect()
}
