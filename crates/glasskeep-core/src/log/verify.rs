//! `log verify`: the auditor's check of a whole ceremony log, in the fixed order of
//! FORMAT.md ("Verification order").
//!
//! Stage 1 reads every frame once (framing, torn tail, frame hash, decoding, sequence,
//! hash link) and keeps the decoded entries; stage 2 replays them (legality, attestation
//! chains, checkpoint signatures) while recording what policy needs; stage 3 checks the
//! paper anchor; stage 4 the policy. The first failure of stages 1-3 ends verification
//! and is reported with its entry's seq and class. Nothing is parsed twice and replay is
//! linear, so a large log costs about one signature check per checkpoint signature.

use std::fmt;

use serde::Serialize;

use crate::hex;
use crate::log::checkpoint::{check_signatures, AttestationCheck};
use crate::log::entry::{Entry, Hash, ZERO_HASH};
use crate::log::frame::{frames, FrameFault};
pub use crate::log::policy::PolicyClass;
use crate::log::policy::{assess, rfc3339, ItemClass, Obligation};
use crate::log::replay::{ReplayError, State};
use crate::log::{hash_eq, Body};

/// What kind of failure a verification found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureClass {
    /// A frame has no magic, an impossible length, or bytes changed at rest.
    Framing,
    /// The file ends in an incomplete frame.
    TornTail,
    /// An entry does not link to the hash of the one before it.
    HashLink,
    /// An entry's seq is not the next one.
    Sequence,
    /// An entry was hashed under another domain label.
    DomainLabel,
    /// An entry is not the canonical encoding of a known version and kind.
    Decode,
    /// A checkpoint signature does not verify.
    Signature,
    /// A checkpoint is signed by someone not enrolled.
    UnknownSigner,
    /// An enrolled key's attestation chain is refused.
    Attestation,
    /// An entry breaks the custody's rules.
    Replay,
    /// An act is not cosigned by the custodians its kind requires (reported at the
    /// act's seq).
    Quorum,
    /// A training custody, verified without `--training`: it proves nothing about real
    /// YubiKeys, so it never passes as a production log.
    Training,
    /// A policy requirement is not met.
    Policy(PolicyClass),
    /// The paper anchor is not in the file: rolled back or rewritten.
    Anchor,
}

/// One problem, located.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The entry at fault (`None` when the file has no decodable entry there).
    pub seq: Option<u64>,
    /// Byte offset of its frame, for framing faults.
    pub offset: Option<u64>,
    /// The class.
    pub class: FailureClass,
    /// What is wrong, in words.
    pub detail: String,
}

/// A checkpoint that records the ceremony plan it ran under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanMark {
    /// The checkpoint's seq.
    pub checkpoint: u64,
    /// The plan file's SHA-256, hex.
    pub sha256: String,
}

/// One glasskeep binary that wrote to the custody: the genesis (`init`) or checkpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuildMark {
    /// The binary's SHA-256, hex (`glasskeep --version` prints it).
    pub sha256: String,
    /// The first entry it wrote that records it (the genesis or a checkpoint).
    pub first: u64,
    /// The last such entry.
    pub last: u64,
    /// How many checkpoints it signed for (the genesis not counted).
    pub checkpoints: u64,
    /// Whether it wrote the genesis.
    pub genesis: bool,
}

/// A checkpoint whose ceremony the people present allowed something glasskeep
/// otherwise refuses on a production custody.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllowMark {
    /// The checkpoint's seq.
    pub checkpoint: u64,
    /// The flags, as typed: `--allow-network`, `--allow-scripted-pins`.
    pub flags: Vec<&'static str>,
}

/// How to verify.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The head hash kept on paper: it must be the file's head or one of its entries.
    pub anchor: Option<Hash>,
    /// "Now" (Unix seconds) for deadlines; `None` judges nothing overdue.
    pub now: Option<u64>,
    /// Report violations as warnings instead of failures.
    pub lenient: bool,
    /// Pending items count too: the verdict is "pending", not "ok", while anything is
    /// left to do (`--strict`).
    pub strict: bool,
    /// Accept a training custody (`--training`); without it a training log fails.
    pub training: bool,
    /// Whether `now` was given by the auditor (`--now`) rather than read from this
    /// machine's clock; the report says which.
    pub now_given: bool,
}

/// The outcome, printed by the CLI as text (`Display`) or JSON (serde).
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// "TRAINING" for a training custody, first in every rendering; "production"
    /// otherwise; absent when the genesis could not be read.
    pub custody: Option<&'static str>,
    /// Whether the log passed: chain, signatures and rules verify and no violation
    /// (pending items do not fail it).
    pub ok: bool,
    /// The first failure, if any.
    pub failure: Option<Finding>,
    /// Requirements whose window closed with the work undone (warnings when lenient,
    /// otherwise failures).
    pub violations: Vec<Obligation>,
    /// Work still within its window: not a failure.
    pub pending: Vec<Obligation>,
    /// Whether violations were treated as warnings.
    pub lenient: bool,
    /// Whether pending items make the verdict "pending" (`--strict`).
    pub strict: bool,
    /// The organisation.
    pub org: Option<String>,
    /// Whether this is a training custody.
    pub training: Option<bool>,
    /// Custody id, hex.
    pub custody_id: Option<String>,
    /// Entries read intact.
    pub entries: u64,
    /// Checkpoints verified.
    pub checkpoints: u64,
    /// Signatures verified.
    pub signatures: u64,
    /// Head hash, hex.
    pub head: Option<String>,
    /// The seq the anchor matched, if an anchor was given and found.
    pub anchor_seq: Option<u64>,
    /// Checkpoints whose ceremony ran on a machine clock behind the log: (seq, seconds
    /// behind). Not a failure: the tool used the previous entry's time and said so.
    pub clock_behind: Vec<(u64, u64)>,
    /// Checkpoints whose ceremony ran under a published plan, with the plan's SHA-256
    /// (signed with the checkpoint): hold each plan file against it.
    pub plans: Vec<PlanMark>,
    /// The glasskeep binaries that wrote the genesis and the checkpoints, in the order
    /// first seen, each with the entries it wrote: hold each against a published
    /// release.
    pub builds: Vec<BuildMark>,
    /// Checkpoints that record no build: written before glasskeep recorded one.
    pub checkpoints_without_build: u64,
    /// Checkpoints whose ceremony ran with `--allow-network` or `--allow-scripted-pins`
    /// in effect (signed with the checkpoint).
    pub allowed: Vec<AllowMark>,
    /// The "now" overdue verdicts used (Unix seconds), if any.
    pub now: Option<u64>,
    /// Where `now` came from: "given" (`--now`) or "machine" (this machine's clock).
    pub clock: Option<&'static str>,
}

fn fail(seq: Option<u64>, offset: Option<u64>, class: FailureClass, detail: String) -> Finding {
    Finding {
        seq,
        offset,
        class,
        detail,
    }
}

/// What stage 1 read: the intact prefix, and the failure that ended it.
struct Read {
    entries: Vec<Entry>,
    hashes: Vec<Hash>,
    failure: Option<Finding>,
}

/// Stage 1: every frame, decoded, in sequence, linked.
fn read_entries(data: &[u8]) -> Read {
    let mut entries: Vec<Entry> = Vec::new();
    let mut hashes: Vec<Hash> = Vec::new();
    for frame in frames(data) {
        let next = entries.len() as u64;
        let frame = match frame {
            Ok(f) => f,
            Err((offset, fault)) => {
                let (class, detail) = match fault {
                    FrameFault::Torn { need, have } => (
                        FailureClass::TornTail,
                        format!("the last frame is incomplete ({have} of {need} bytes): an append was interrupted; the log is intact up to byte {offset}"),
                    ),
                    FrameFault::Checksum { other_label: true } => (
                        FailureClass::DomainLabel,
                        "the frame hash was computed under another domain label".into(),
                    ),
                    FrameFault::Checksum { other_label: false } => (
                        FailureClass::Framing,
                        "the frame hash does not match its bytes: the entry was changed".into(),
                    ),
                    FrameFault::BadMagic => (FailureClass::Framing, "no frame magic".into()),
                    FrameFault::TooLong { len } => {
                        (FailureClass::Framing, format!("frame length {len} is impossible"))
                    }
                };
                return Read {
                    entries,
                    hashes,
                    failure: Some(fail(Some(next), Some(offset), class, detail)),
                };
            }
        };
        let entry = match Entry::from_bytes(frame.cbor) {
            Ok(e) => e,
            Err(e) => {
                let f = fail(
                    Some(next),
                    Some(frame.offset),
                    FailureClass::Decode,
                    e.to_string(),
                );
                return Read {
                    entries,
                    hashes,
                    failure: Some(f),
                };
            }
        };
        if entry.seq != next {
            let detail = format!("entry at this position has seq {}", entry.seq);
            let f = fail(
                Some(next),
                Some(frame.offset),
                FailureClass::Sequence,
                detail,
            );
            return Read {
                entries,
                hashes,
                failure: Some(f),
            };
        }
        let prev = hashes.last().unwrap_or(&ZERO_HASH);
        let head_ok = match &entry.body {
            Body::Checkpoint { head, .. } => hash_eq(head, prev),
            _ => true,
        };
        if !hash_eq(&entry.prev, prev) || !head_ok {
            let detail = "does not link to the hash of the previous entry".to_string();
            let f = fail(
                Some(next),
                Some(frame.offset),
                FailureClass::HashLink,
                detail,
            );
            return Read {
                entries,
                hashes,
                failure: Some(f),
            };
        }
        hashes.push(frame.hash);
        entries.push(entry);
    }
    Read {
        entries,
        hashes,
        failure: None,
    }
}

/// Reads every entry of a log image, checking framing, encoding, sequence and links
/// (stage 1 of verification) but no signature: what `log show` needs.
pub fn read_log_entries(data: &[u8]) -> Result<Vec<Entry>, Finding> {
    let read = read_entries(data);
    match read.failure {
        Some(f) => Err(f),
        None => Ok(read.entries),
    }
}

/// Verifies a whole log image. `checker` verifies attestation chains.
pub fn verify(data: &[u8], checker: &dyn AttestationCheck, opts: &VerifyOptions) -> VerifyReport {
    let mut report = VerifyReport {
        custody: None,
        ok: false,
        failure: None,
        violations: Vec::new(),
        pending: Vec::new(),
        lenient: opts.lenient,
        strict: opts.strict,
        org: None,
        training: None,
        custody_id: None,
        entries: 0,
        checkpoints: 0,
        signatures: 0,
        head: None,
        anchor_seq: None,
        clock_behind: Vec::new(),
        plans: Vec::new(),
        builds: Vec::new(),
        checkpoints_without_build: 0,
        allowed: Vec::new(),
        now: opts.now,
        clock: opts
            .now
            .map(|_| if opts.now_given { "given" } else { "machine" }),
    };
    let Read {
        entries,
        hashes,
        failure,
    } = read_entries(data);
    report.entries = entries.len() as u64;
    report.head = hashes.last().map(|h| hex::encode(h));
    if failure.is_some() {
        report.failure = failure;
        return report;
    }
    if entries.is_empty() {
        report.failure = Some(fail(
            None,
            Some(0),
            FailureClass::Framing,
            "the log is empty".into(),
        ));
        return report;
    }

    // A training custody passes only when the auditor said it is one: it proves nothing
    // about real YubiKeys. Known from genesis, so reported before anything else is judged.
    if let Some(Entry {
        body: Body::Genesis { training, .. },
        ..
    }) = entries.first()
    {
        report.custody = Some(if *training { "TRAINING" } else { "production" });
    }
    if let Some(Entry {
        body: Body::Genesis { training: true, .. },
        ..
    }) = entries.first()
    {
        report.training = Some(true);
        if !opts.training {
            report.failure = Some(fail(
                Some(0),
                None,
                FailureClass::Training,
                "this is a TRAINING custody (simulated YubiKeys): it proves nothing about real keys; verify it with --training to check it as training".into(),
            ));
            return report;
        }
    }

    // Stage 2: replay, attestations, signatures; remember what policy needs.
    let mut state = State::new();
    for (entry, hash) in entries.iter().zip(&hashes) {
        let seq = Some(entry.seq);
        if let Err(e) = state.apply_hashed(entry, hash) {
            let (class, at) = match (&e, &entry.body) {
                (ReplayError::UnknownCustodian { .. }, Body::Checkpoint { .. }) => {
                    (FailureClass::UnknownSigner, seq)
                }
                // The quorum is judged after the checkpoint's signatures (FORMAT.md,
                // "Verification order"): a forged signature is reported as such first.
                // Every signer is enrolled here: replay refuses an unknown one (the arm
                // above) before it judges the quorum.
                (ReplayError::Quorum { seq: act, .. }, _) => {
                    match check_signatures(&state, entry) {
                        Err(bad) => {
                            let detail = format!("{}'s signature does not verify", bad.custodian);
                            report.failure = Some(fail(seq, None, FailureClass::Signature, detail));
                            return report;
                        }
                        _ => (FailureClass::Quorum, Some(*act)),
                    }
                }
                _ => (FailureClass::Replay, seq),
            };
            report.failure = Some(fail(at, None, class, e.to_string()));
            return report;
        }
        match &entry.body {
            Body::Genesis { binary_sha256, .. } => {
                report.saw_build(binary_sha256, entry.seq, true);
                // apply() of a genesis always sets the custody.
                let c = state.custody().expect("genesis was just applied");
                report.org = Some(c.org.clone());
                report.training = Some(c.training);
                report.custody_id = Some(hex::encode(&c.custody_id));
            }
            Body::Enroll { record, .. } => {
                let training = state.custody().is_some_and(|c| c.training);
                if let Err(why) = checker.check(record, training) {
                    let detail = format!("{}'s attestation is refused: {why}", record.name);
                    report.failure = Some(fail(seq, None, FailureClass::Attestation, detail));
                    return report;
                }
            }
            Body::Checkpoint {
                clock,
                plan,
                build,
                allowed,
                ..
            } => {
                match check_signatures(&state, entry) {
                    Ok(n) => report.signatures += n as u64,
                    Err(bad) => {
                        let detail = format!("{}'s signature does not verify", bad.custodian);
                        report.failure = Some(fail(seq, None, FailureClass::Signature, detail));
                        return report;
                    }
                }
                // What a checkpoint records is reported once its signatures verify.
                if *clock < entry.time {
                    report.clock_behind.push((entry.seq, entry.time - clock));
                }
                if let Some(p) = plan {
                    report.plans.push(PlanMark {
                        checkpoint: entry.seq,
                        sha256: hex::encode(p),
                    });
                }
                match build {
                    Some(b) => report.saw_build(b, entry.seq, false),
                    None => report.checkpoints_without_build += 1,
                }
                if !allowed.is_empty() {
                    report.allowed.push(AllowMark {
                        checkpoint: entry.seq,
                        flags: allowed.flags(),
                    });
                }
                report.checkpoints += 1;
            }
            _ => {}
        }
    }

    // Stage 3: the paper anchor.
    if let Some(anchor) = &opts.anchor {
        match hashes.iter().rposition(|h| hash_eq(h, anchor)) {
            Some(i) => report.anchor_seq = Some(i as u64),
            None => {
                let last = entries.len() as u64 - 1;
                let detail = format!("anchor {} is neither the head nor any entry of this file: the log was rolled back or rewritten", hex::encode(anchor));
                report.failure = Some(fail(Some(last), None, FailureClass::Anchor, detail));
                return report;
            }
        }
    }

    // Stage 4: policy.
    let judged = assess(&state, opts.now);
    report.violations = judged.violations;
    report.pending = judged.pending;
    report.ok = opts.lenient || report.violations.is_empty();
    if !report.ok {
        report.failure = report.violations.first().and_then(|v| match v.kind {
            ItemClass::Violation(class) => Some(fail(
                v.seq,
                None,
                FailureClass::Policy(class),
                format!("{}: {}", v.subject, v.detail),
            )),
            ItemClass::Pending(_) => None,
        });
    }
    report
}

/// What a verification concluded, for the verdict line and the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything verifies and nothing is left to do (or only pending items, without
    /// `strict`).
    Ok,
    /// Everything verifies, and with `strict` there is work left to do.
    Pending,
    /// A failure: the log does not verify, or a violation.
    Failed,
}

impl VerifyReport {
    /// Counts entry `seq` for the build `sha256`.
    fn saw_build(&mut self, sha256: &Hash, seq: u64, genesis: bool) {
        let hex = hex::encode(sha256);
        match self.builds.iter_mut().find(|b| b.sha256 == hex) {
            Some(b) => {
                b.last = seq;
                b.checkpoints += u64::from(!genesis);
            }
            None => self.builds.push(BuildMark {
                sha256: hex,
                first: seq,
                last: seq,
                checkpoints: u64::from(!genesis),
                genesis,
            }),
        }
    }

    /// The verdict: failed, pending (strict only), or ok.
    pub fn outcome(&self) -> Outcome {
        let left = !self.pending.is_empty() || (self.lenient && !self.violations.is_empty());
        match (self.ok, self.strict && left) {
            (false, _) => Outcome::Failed,
            (true, true) => Outcome::Pending,
            (true, false) => Outcome::Ok,
        }
    }
}

impl fmt::Display for FailureClass {
    /// One kebab-case name per class, policy classes as `policy/NAME`; the JSON report
    /// uses the same strings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            FailureClass::Framing => "framing",
            FailureClass::TornTail => "torn-tail",
            FailureClass::HashLink => "hash-link",
            FailureClass::Sequence => "sequence",
            FailureClass::DomainLabel => "domain-label",
            FailureClass::Decode => "decode",
            FailureClass::Signature => "signature",
            FailureClass::UnknownSigner => "unknown-signer",
            FailureClass::Attestation => "attestation",
            FailureClass::Replay => "replay",
            FailureClass::Quorum => "quorum",
            FailureClass::Training => "training",
            FailureClass::Anchor => "anchor",
            FailureClass::Policy(p) => return write!(f, "policy/{}", p.name()),
        };
        f.write_str(name)
    }
}

impl Serialize for FailureClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.training == Some(true) {
            writeln!(f, "TRAINING custody (simulated YubiKeys only)")?;
        }
        match (self.now, self.clock) {
            (Some(now), Some("given")) => writeln!(
                f,
                "overdue verdicts as of {} (given with --now)",
                rfc3339(now)
            )?,
            (Some(now), _) => writeln!(
                f,
                "overdue verdicts as of {}, this machine's clock (pass --now to reproduce them)",
                rfc3339(now)
            )?,
            (None, _) => writeln!(f, "no clock: overdue rotations are not judged")?,
        }
        if let Some(org) = &self.org {
            writeln!(
                f,
                "custody of {org} ({})",
                self.custody_id.as_deref().unwrap_or("?")
            )?;
        }
        writeln!(
            f,
            "{} entries, {} checkpoints, {} signatures verified",
            self.entries, self.checkpoints, self.signatures
        )?;
        if let Some(h) = &self.head {
            writeln!(f, "head {h}")?;
        }
        if let Some(a) = self.anchor_seq {
            writeln!(f, "anchor matches entry {a}")?;
        }
        for p in &self.plans {
            writeln!(
                f,
                "checkpoint {} ran under the ceremony plan with SHA-256 {}",
                p.checkpoint, p.sha256
            )?;
        }
        for b in &self.builds {
            let what = match (b.genesis, b.checkpoints) {
                (true, 0) => "the genesis".to_string(),
                (true, n) => format!("the genesis and {n} checkpoint(s)"),
                (false, n) => format!("{n} checkpoint(s)"),
            };
            let span = if b.first == b.last {
                format!("entry {}", b.first)
            } else {
                format!("entries {}-{}", b.first, b.last)
            };
            writeln!(f, "build {} wrote {what} ({span})", b.sha256)?;
        }
        if self.checkpoints_without_build > 0 {
            writeln!(
                f,
                "{} checkpoint(s) record no build (written before glasskeep recorded it)",
                self.checkpoints_without_build
            )?;
        }
        for a in &self.allowed {
            writeln!(
                f,
                "checkpoint {} ran with {} (allowed by the people present)",
                a.checkpoint,
                a.flags.join(" and ")
            )?;
        }
        for (seq, behind) in &self.clock_behind {
            writeln!(
                f,
                "note: entry {seq}: the machine clock was {behind}s behind the log; the previous entry's time was used"
            )?;
        }
        if !self.violations.is_empty() {
            let head = if self.lenient {
                "violations (warnings: --policy lenient):"
            } else {
                "violations:"
            };
            writeln!(f, "{head}")?;
            for v in &self.violations {
                writeln!(f, "  {v}")?;
            }
        }
        if !self.pending.is_empty() {
            writeln!(f, "pending:")?;
            for p in &self.pending {
                writeln!(f, "  {p}")?;
            }
        }
        let training = if self.training == Some(true) {
            " (TRAINING custody)"
        } else {
            ""
        };
        let pending = self.pending.len();
        match (self.outcome(), &self.failure) {
            (Outcome::Failed, Some(x)) => {
                let at = x
                    .seq
                    .map_or("the file".to_string(), |s| format!("entry {s}"));
                let off = x.offset.map(|o| format!(" (byte {o})")).unwrap_or_default();
                writeln!(
                    f,
                    "FAILED at {at}{off}: {}: {}{training}",
                    x.class, x.detail
                )
            }
            (Outcome::Failed, None) => writeln!(f, "FAILED{training}"),
            (Outcome::Pending, _) => writeln!(
                f,
                "PENDING: verified, {pending} pending and {} violation(s) as warnings (--strict){training}",
                if self.lenient { self.violations.len() } else { 0 }
            ),
            (Outcome::Ok, _) if pending > 0 => {
                writeln!(f, "OK, {pending} pending{training}")
            }
            (Outcome::Ok, _) => writeln!(f, "OK{training}"),
        }
    }
}
