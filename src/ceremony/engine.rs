//! The ceremony engine: the one path every ceremony takes.
//!
//! 1. Open the store (writer lock, framing, links, replay) and verify the whole log with
//!    the same code as `log verify` — every signature and every attestation — so a log
//!    edited by someone without the custodians' YubiKeys is refused before anything
//!    else happens.
//! 2. Refuse to sign blind: entries after the last checkpoint must first be shown and
//!    covered by `log checkpoint`.
//! 3. Confirm continuity with the last paper record: the head hash from the last
//!    ceremony sheet (production; a training custody may skip it with a warning).
//! 4. Decide the claimed time: the machine clock, or the last entry's time when the
//!    clock is behind the log (said up front, and recorded in the checkpoint).
//! 5. Stage the act's entries through replay and check that the custodians who will
//!    cosign are the quorum the act needs — before any secret is typed (see
//!    [`Engine::precheck`]) and before any card is used.
//! 6. Show the entries and the checkpoint to the people present and get a confirmation.
//! 7. Visit each custodian's card once: PIN, any card work of the act (unsealing a
//!    share), the checkpoint signature.
//! 8. Commit the entries and the checkpoint in one write; only then may a secret be
//!    shown.

use std::path::Path;

use crate::piv::Slot;

use crate::log::show;
use crate::log::{
    finish_checkpoint, prepare_checkpoint, verify, Allowances, Body, Entry, Hash, Signed, State,
    Store, StoreError, VerifyOptions,
};

use super::cosign::{Present, Room, Turns};
use super::{AttestationChecker, Cards, CeremonyError, Operator};

/// How a ceremony starts.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// The head hash from the last ceremony sheet (`--anchor`); asked for when absent.
    pub anchor: Option<String>,
    /// `log checkpoint` covers entries after the last checkpoint; every other ceremony
    /// refuses to start while there are any.
    pub covering: bool,
    /// How long to wait for each custodian's YubiKey to be inserted.
    pub wait: std::time::Duration,
    /// SHA-256 of the ceremony plan (`--plan`), recorded in the checkpoint.
    pub plan: Option<Hash>,
    /// What the people present allowed that a production custody otherwise refuses
    /// (`--allow-network` with a network up, `--allow-scripted-pins` with PINs read
    /// from a file), recorded in the checkpoint. A training custody needs neither flag,
    /// but records them too when they were given and in effect.
    pub allowed: Allowances,
    /// `--dry-run`: stop where the people present would be asked to confirm, with what
    /// they would have been shown ([`CeremonyError::DryRun`]); no card is used and
    /// nothing is written.
    pub dry_run: bool,
}

/// One card operation of a custodian's turn, for the plan said at the start.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// What it does, in words ("open your share").
    pub what: &'static str,
    /// The slot it uses (its touch policy says whether a touch is needed).
    pub slot: Slot,
}

/// Card work done during each custodian's visit, besides signing the checkpoint.
pub trait Visit {
    /// The card operations `custodian`'s turn holds before the signature.
    fn steps(&self, _custodian: &str) -> Vec<Step> {
        Vec::new()
    }
    /// Called with each present custodian's unlocked card, before it signs; returns
    /// what went well, for "alice: share OK, signature OK".
    fn visit(
        &mut self,
        _present: &mut Present,
        _turns: &mut Turns<'_>,
    ) -> Result<Vec<String>, CeremonyError> {
        Ok(Vec::new())
    }
    /// Called once every card was visited, before anything is written.
    fn done(&mut self) -> Result<(), CeremonyError> {
        Ok(())
    }
}

/// No card work but the signature.
pub struct SignOnly;

impl Visit for SignOnly {}

/// What a finished ceremony wrote.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The seqs of the act entries, in order.
    pub seqs: Vec<u64>,
    /// The hashes of the act entries, same order (what an alarm notice quotes, so the
    /// entry can be found and checked in any copy of the log).
    pub entry_hashes: Vec<Hash>,
    /// The checkpoint's seq.
    pub checkpoint: u64,
    /// The new head (for the paper record).
    pub head: Hash,
    /// Who cosigned, ascending.
    pub cosigners: Vec<String>,
}

/// A ceremony in progress: the log is open, locked and verified.
pub struct Engine<'a> {
    store: Store,
    cards: &'a mut dyn Cards,
    op: &'a mut dyn Operator,
    time: u64,
    clock: u64,
    wait: std::time::Duration,
    room: Room,
    plan: Option<Hash>,
    allowed: Allowances,
    /// The running binary's SHA-256, for the checkpoint: hashed on another thread while
    /// the people present read and their cards are found.
    build: std::thread::JoinHandle<Result<Hash, CeremonyError>>,
    dry_run: bool,
}

impl<'a> Engine<'a> {
    /// Steps 1 to 4: opens and verifies the log in `dir`, checks it is covered and is the
    /// one the last ceremony left, and fixes the claimed time.
    pub fn start(
        dir: &Path,
        cards: &'a mut dyn Cards,
        op: &'a mut dyn Operator,
        opts: &StartOptions,
        now: u64,
    ) -> Result<Self, CeremonyError> {
        let store = Store::open(dir)?;
        verify_whole(&store)?;
        let state = store.state();
        let custody = state
            .custody()
            .ok_or_else(|| CeremonyError::NoCustody {
                dir: dir.to_path_buf(),
            })?
            .clone();
        let last = state.next_seq().saturating_sub(1);
        if !opts.covering {
            let covered = match state.last_checkpoint() {
                Some(c) => c == last,
                None => last == 0,
            };
            if !covered {
                return Err(CeremonyError::Uncovered {
                    from: state.last_checkpoint().map_or(1, |c| c + 1),
                    to: last,
                });
            }
        }
        confirm_anchor(state, custody.training, opts.anchor.as_deref(), op)?;
        let time = if now < state.last_time() {
            op.notice(&format!(
                "this machine's clock ({}) is behind the log's last entry ({}): the ceremony uses the last entry's time and records the clock's reading; set the clock after the ceremony",
                rfc3339(now),
                rfc3339(state.last_time())
            ));
            state.last_time()
        } else {
            now
        };
        if custody.training {
            op.notice("TRAINING custody: simulated YubiKeys only; nothing here protects a real credential");
        }
        Ok(Engine {
            store,
            cards,
            op,
            time,
            clock: now,
            wait: opts.wait,
            room: Room::default(),
            plan: opts.plan,
            allowed: opts.allowed,
            build: std::thread::spawn(super::init::binary_digest),
            dry_run: opts.dry_run,
        })
    }

    /// Whether this is a dry run: nothing may be written and no card used.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// The verified state the ceremony builds on.
    pub fn state(&self) -> &State {
        self.store.state()
    }

    /// The claimed time of the ceremony's entries.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// The folder's cards, to detect who is present or (enrollment) to open a new card.
    pub fn cards(&mut self) -> &mut dyn Cards {
        &mut *self.cards
    }

    /// The people at the safe.
    pub fn op(&mut self) -> &mut dyn Operator {
        &mut *self.op
    }

    /// The cards and the people, for card work outside the signing turns (enrollment
    /// opens each new custodian's key and asks their PIN before anything is staged).
    pub(crate) fn turns(&mut self) -> Turns<'_> {
        let owners = owners(self.store.state());
        Turns {
            cards: &mut *self.cards,
            op: &mut *self.op,
            wait: self.wait,
            owners,
        }
    }

    /// A custodian whose card is already open and unlocked (one being enrolled).
    pub(crate) fn admit(&mut self, present: Present) {
        self.room.admit(present);
    }

    /// The enrolled custodians whose YubiKeys are inserted now (listing readers uses no
    /// key), among `among` when given.
    pub fn present(&mut self, among: Option<&[String]>) -> Result<Vec<String>, CeremonyError> {
        let found = Room::detect(self.store.state(), &mut *self.cards)?;
        Ok(match among {
            Some(names) => found.into_iter().filter(|n| names.contains(n)).collect(),
            None => found,
        })
    }

    /// Step 5 without writing: stages `bodies` through replay and checks that `signers`
    /// are the quorum they need. Run before a secret is typed and before any card is
    /// used; the staged entries are dropped.
    pub fn precheck(&mut self, bodies: &[Body], signers: &[String]) -> Result<(), CeremonyError> {
        let time = self.time;
        let mut tx = self.store.begin();
        for b in bodies {
            tx.append(time, b.clone())?;
        }
        check_signers(tx.state(), signers)
    }

    /// Steps 5 to 8: stages `bodies`, checks the quorum, shows everything for
    /// confirmation, visits each signer's card in the order given (PIN once, `work`,
    /// signature), and commits. On any error nothing is written.
    pub fn finish(
        self,
        title: &str,
        bodies: Vec<Body>,
        signers: Vec<String>,
        work: &mut dyn Visit,
    ) -> Result<Committed, CeremonyError> {
        let Engine {
            mut store,
            cards,
            op,
            time,
            clock,
            wait,
            mut room,
            plan: plan_hash,
            allowed,
            build,
            dry_run,
        } = self;
        let build = build.join().map_err(|_| {
            CeremonyError::io(
                "the running binary",
                std::io::Error::other("hashing it failed"),
            )
        })??;
        let owners = owners(store.state());
        let mut tx = store.begin();
        let mut staged = Vec::with_capacity(bodies.len());
        let mut entry_hashes = Vec::with_capacity(bodies.len());
        for body in bodies {
            let seq = tx.append(time, body.clone())?;
            // Right after an append, the staged head is that entry's hash.
            entry_hashes.push(tx.state().head());
            staged.push(Entry {
                seq,
                prev: [0; 32],
                time,
                body,
            });
        }
        check_signers(tx.state(), &signers)?;
        let signed = Signed {
            plan: plan_hash,
            build: Some(build),
            allowed,
        };
        let pending = prepare_checkpoint(tx.state(), &signers, time, clock, signed)
            .map_err(StoreError::Checkpoint)?;
        // Every custodian's record, fixed now: the one the log vouches for, or the one
        // being enrolled.
        let mut records = Vec::with_capacity(signers.len());
        for name in &signers {
            let record = match room.present.get(name) {
                Some(p) => p.record.clone(),
                None => tx
                    .state()
                    .custodian(name)
                    .filter(|c| c.is_live())
                    .map(|c| c.record.clone())
                    .ok_or_else(|| CeremonyError::NotEnrolled { name: name.clone() })?,
            };
            records.push(record);
        }
        let mut summary = format!(
            "{title}\nThe log {} record:\n",
            if dry_run { "would" } else { "will" }
        );
        for e in &staged {
            let l = show::line(e);
            summary.push_str(&format!(
                "  entry {:>4}  {:<18}  {:<20}  {}\n",
                l.seq,
                l.kind,
                crate::text::escape(&l.who.join(",")),
                crate::text::escape(&l.what)
            ));
        }
        summary.push_str(&format!(
            "  entry {:>4}  checkpoint, signed by {} over head {}\n",
            pending.seq,
            pending.signers.join(", "),
            crate::hex::encode(&pending.head)
        ));
        if let Some(p) = plan_hash {
            summary.push_str(&format!(
                "  under the ceremony plan with SHA-256 {}\n",
                crate::hex::encode(&p)
            ));
        }
        summary.push_str(&format!(
            "  made by the glasskeep binary with SHA-256 {}\n",
            crate::hex::encode(&build)
        ));
        if allowed.network {
            summary.push_str("  on a machine with a network up, allowed by --allow-network\n");
        }
        if allowed.scripted_pins {
            summary.push_str(
                "  with PINs read from a file, not typed, allowed by --allow-scripted-pins\n",
            );
        }
        summary.push_str(&plan(&records, &room, work));
        if dry_run {
            return Err(CeremonyError::DryRun { summary });
        }
        if !op.confirm(&summary)? {
            return Err(CeremonyError::Declined);
        }
        let mut turns = Turns {
            cards,
            op,
            wait,
            owners,
        };
        let mut signatures = Vec::with_capacity(signers.len());
        for (i, record) in records.iter().enumerate() {
            let name = &record.name;
            let p = room.join(record, &mut turns)?;
            let mut done = work.visit(p, &mut turns)?;
            let der = p.sign(&mut turns, &pending.digest)?;
            done.push("signature OK".into());
            let next = match records.get(i + 1) {
                Some(n) => format!(
                    "; remove YubiKey {} and hand over to {}",
                    record.serial, n.name
                ),
                None => format!("; YubiKey {} may be removed", record.serial),
            };
            turns
                .op
                .notice(&format!("{name}: {}{next}", done.join(", ")));
            signatures.push((name.clone(), der));
        }
        work.done()?;
        let entry =
            finish_checkpoint(tx.state(), &pending, &signatures).map_err(StoreError::Checkpoint)?;
        tx.append_entry(entry)?;
        // An interrupt from here waits for the write, then says what it recorded.
        let guard = crate::abort::committing();
        let head = tx.commit()?;
        let first = staged.first().map_or(pending.seq, |e| e.seq);
        guard.recorded(if first == pending.seq {
            format!("checkpoint {first}")
        } else {
            format!(
                "{} (entries {first} to {})",
                title.lines().next().unwrap_or(title),
                pending.seq
            )
        });
        Ok(Committed {
            seqs: staged.iter().map(|e| e.seq).collect(),
            entry_hashes,
            checkpoint: pending.seq,
            head,
            cosigners: pending.signers,
        })
    }
}

/// Whose key each enrolled serial is, for "in now: YubiKey 1002 (bob's)".
fn owners(state: &State) -> std::collections::BTreeMap<u32, String> {
    state
        .custodians()
        .iter()
        .map(|c| (c.record.serial, c.record.name.clone()))
        .collect()
}

/// The plan said before anything is confirmed: who comes in which order, and what each
/// does with their key (PIN once, touches by the keys' policies, then hand over).
fn plan(records: &[crate::custodian::CustodianRecord], room: &Room, work: &dyn Visit) -> String {
    use crate::piv::TouchPolicy;
    let mut s = String::from("Plan, one custodian at a time, at any reader:\n");
    for (i, r) in records.iter().enumerate() {
        let mut steps: Vec<Step> = work.steps(&r.name);
        steps.push(Step {
            what: "sign the checkpoint",
            slot: Slot::SIGNATURE,
        });
        let touches = steps
            .iter()
            .filter(|st| {
                let policy = if st.slot == Slot::SIGNATURE {
                    r.sign_touch_policy
                } else {
                    r.seal_touch_policy
                };
                policy != TouchPolicy::Never
            })
            .count();
        let pin = if room.present.contains_key(&r.name) {
            "PIN already given"
        } else {
            "PIN once"
        };
        let touch = match touches {
            0 => "no touch".to_string(),
            1 => "touch once".to_string(),
            2 => "touch twice".to_string(),
            n => format!("touch {n} times"),
        };
        let what: Vec<&str> = steps.iter().map(|st| st.what).collect();
        let after = if i + 1 < records.len() {
            "then hand over"
        } else {
            "done"
        };
        s.push_str(&format!(
            "  {}. {} with YubiKey {}: {pin}, {touch} ({}), {after}\n",
            i + 1,
            r.name,
            r.serial,
            what.join("; ")
        ));
    }
    s
}

/// The whole log, verified as `log verify` does (policy findings such as an overdue
/// rotation do not stop a ceremony: a rotation is how they are cured).
fn verify_whole(store: &Store) -> Result<(), CeremonyError> {
    let bytes = std::fs::read(store.path()).map_err(|e| CeremonyError::io(store.path(), e))?;
    let opts = VerifyOptions {
        lenient: true,
        training: true,
        ..Default::default()
    };
    let report = verify(&bytes, &AttestationChecker, &opts);
    match (report.ok, report.failure) {
        (true, _) => Ok(()),
        (false, Some(f)) => Err(CeremonyError::Unverified {
            seq: f.seq,
            class: f.class.to_string(),
            detail: f.detail,
        }),
        (false, None) => Err(CeremonyError::Unverified {
            seq: None,
            class: "unknown".into(),
            detail: "verification failed".into(),
        }),
    }
}

/// Every signer is an enrolled, live custodian named once, and together they are the
/// quorum the staged acts need (the rule replay applies to the checkpoint).
fn check_signers(state: &State, signers: &[String]) -> Result<(), CeremonyError> {
    for (i, name) in signers.iter().enumerate() {
        match state.custodian(name) {
            Some(c) if c.is_live() => {}
            _ => return Err(CeremonyError::NotEnrolled { name: name.clone() }),
        }
        if signers[..i].contains(name) {
            return Err(CeremonyError::NamedTwice { name: name.clone() });
        }
    }
    let refs: Vec<&str> = signers.iter().map(String::as_str).collect();
    match state.quorum_shortfall(&refs) {
        None => Ok(()),
        Some((_, kind, need)) => Err(CeremonyError::Quorum {
            kind,
            need,
            signers: signers.to_vec(),
        }),
    }
}

/// Step 3: the head on the last ceremony sheet must begin the log's head.
fn confirm_anchor(
    state: &State,
    training: bool,
    given: Option<&str>,
    op: &mut dyn Operator,
) -> Result<(), CeremonyError> {
    let typed = match given {
        Some(a) => Some(a.to_owned()),
        None => op.anchor()?,
    };
    let head = crate::hex::encode(&state.head());
    match typed {
        None if training => {
            op.notice("TRAINING: no head hash from the last ceremony sheet was given; continuity with it is not checked");
            Ok(())
        }
        None => Err(CeremonyError::AnchorNeeded),
        Some(t) => {
            let digits: String = t
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-' && *c != ':')
                .collect::<String>()
                .to_ascii_lowercase();
            if !digits.chars().all(|c| c.is_ascii_hexdigit()) || digits.len() > 64 {
                return Err(CeremonyError::AnchorMismatch {
                    given: crate::text::escape(&t).into_owned(),
                    head,
                });
            }
            if digits.len() < 16 {
                return Err(CeremonyError::AnchorTooShort {
                    digits: digits.len(),
                });
            }
            if !head.starts_with(&digits) {
                return Err(CeremonyError::AnchorMismatch {
                    given: digits,
                    head,
                });
            }
            Ok(())
        }
    }
}

fn rfc3339(t: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t);
    humantime::format_rfc3339_seconds(t).to_string()
}
