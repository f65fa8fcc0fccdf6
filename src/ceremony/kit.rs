//! `recovery-kit DIR`: what goes into the safe beside the envelopes, so that the secret
//! can be recovered and a stale envelope recognised without glasskeep: RECOVERY.pdf
//! (docs/RECOVERY.md), recover.py (docs/recover.py), and the live sets with their
//! envelope fingerprints as live-sets.pdf and live-sets.txt. Reads the log, changes
//! nothing in it, and needs no card; the log must verify first, since a sheet of
//! fingerprints drawn from a forged log would vouch for forged envelopes.

use std::io::Write;
use std::path::{Path, PathBuf};

use glasskeep_core::document::{self, Block, Options, Span};
use glasskeep_core::envelope::render::Paper;
use glasskeep_core::envelope::Fingerprint;
use glasskeep_core::hex;
use glasskeep_core::text::escape;

use crate::documents::{RECOVERY_MD, RECOVER_PY};
use crate::log::replay::{SealedSet, SetStatus};
use crate::log::{verify, State, VerifyOptions};

use super::{AttestationChecker, CeremonyError};

/// The files of a kit, in the order they are written.
pub const KIT_FILES: [&str; 4] = [
    "RECOVERY.pdf",
    "recover.py",
    "live-sets.pdf",
    "live-sets.txt",
];

/// What `recovery_kit` wrote.
#[derive(Debug, Clone)]
pub struct KitReport {
    /// A training custody: every page says TRAINING.
    pub training: bool,
    /// The files written, in [`KIT_FILES`] order.
    pub files: Vec<PathBuf>,
    /// Live sets listed.
    pub live_sets: usize,
    /// The log's head hash, hex, as the sheet prints it.
    pub head: String,
}

/// Verifies the log in `dir`, then writes the kit into `out` (created if missing; no
/// file in it is overwritten: any one of the kit's files already there refuses the
/// whole kit before anything is written).
pub fn recovery_kit(
    dir: &Path,
    out: &Path,
    paper: Paper,
    now: u64,
) -> Result<KitReport, CeremonyError> {
    let bytes = super::read::log_bytes(dir)?;
    let report = verify(
        &bytes,
        &AttestationChecker,
        &VerifyOptions {
            // Overdue work does not make the list of live envelopes wrong; a broken
            // chain, signature or attestation does.
            lenient: true,
            training: true,
            ..Default::default()
        },
    );
    if !report.ok {
        return Err(match report.failure {
            Some(f) => CeremonyError::Unverified {
                seq: f.seq,
                class: f.class.to_string(),
                detail: f.detail,
            },
            None => CeremonyError::Unverified {
                seq: None,
                class: "unknown".into(),
                detail: "verification failed".into(),
            },
        });
    }
    let state = super::read_state(dir)?;
    let custody = state.custody().ok_or_else(|| CeremonyError::NoCustody {
        dir: dir.to_owned(),
    })?;
    // Entries no custodian has signed could name envelopes nobody vouched for.
    let last = state.next_seq().saturating_sub(1);
    match state.last_checkpoint() {
        Some(c) if c == last => {}
        Some(c) => {
            return Err(CeremonyError::Uncovered {
                from: c + 1,
                to: last,
            })
        }
        None => return Err(CeremonyError::Uncovered { from: 0, to: last }),
    }
    let training = custody.training;

    let targets: Vec<PathBuf> = KIT_FILES.iter().map(|f| out.join(f)).collect();
    if let Some(existing) = targets.iter().find(|p| p.exists()) {
        return Err(CeremonyError::Io {
            path: existing.clone(),
            reason: "already exists: the kit never overwrites a file; give an empty folder or move the old kit away first".into(),
        });
    }
    std::fs::create_dir_all(out).map_err(|e| CeremonyError::io(out.to_path_buf(), e))?;

    let sheet = live_sets(&state, now);
    let live_sets = state.sets().filter(|s| is_live(s.status)).count();
    let title = |t: &str| Options {
        paper,
        title: format!("{t} \u{2014} {}", escape(&custody.org)),
        training,
    };
    let recovery = document::markdown_to_pdf(RECOVERY_MD, &title("glasskeep recovery"));
    let sheet_pdf = document::to_pdf(&sheet, &title("glasskeep live sets"));
    let mut sheet_txt = String::new();
    if training {
        sheet_txt.push_str(&format!("{}\n\n", document::TRAINING_BANNER));
    }
    sheet_txt.push_str(&document::to_text(&sheet));
    if training {
        sheet_txt.push_str(&format!("{}\n", document::TRAINING_BANNER));
    }
    let contents: [(&[u8], u32); 4] = [
        (&recovery, 0o644),
        (RECOVER_PY.as_bytes(), 0o755),
        (&sheet_pdf, 0o644),
        (sheet_txt.as_bytes(), 0o644),
    ];
    for (path, (data, mode)) in targets.iter().zip(contents) {
        write_new(path, data, mode)?;
    }
    Ok(KitReport {
        training,
        files: targets,
        live_sets,
        head: hex::encode(&state.head()),
    })
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), CeremonyError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| CeremonyError::io(path.to_path_buf(), e))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|e| CeremonyError::io(path.to_path_buf(), e))
}

fn is_live(status: SetStatus) -> bool {
    matches!(status, SetStatus::Sealed | SetStatus::Opened)
}

fn date(unix: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The sheet: every live set with its custodians and envelope fingerprints, then the
/// envelopes of superseded sets not yet recorded as destroyed.
fn live_sets(state: &State, now: u64) -> Vec<Block> {
    let mut b = Vec::new();
    let (org, id) = state
        .custody()
        .map(|c| (escape(&c.org).into_owned(), hex::encode(&c.custody_id)))
        .unwrap_or_default();
    b.push(Block::Heading {
        level: 1,
        spans: vec![Span::plain(format!("Live share sets of {org}"))],
    });
    b.push(Block::Paragraph {
        depth: 0,
        spans: vec![
            Span::plain("Custody "),
            Span::code(id),
            Span::plain(format!(
                ". Written {} from the ceremony log, which verified: {} entries, head ",
                date(now),
                state.next_seq()
            )),
            Span::code(hex::encode(&state.head())),
            Span::plain("."),
        ],
    });
    b.push(Block::Paragraph {
        depth: 0,
        spans: vec![
            Span::bold("Use only an envelope listed here."),
            Span::plain(
                " Compare the fingerprint printed on the envelope (four groups of four hex digits, and the full 64 below it) with its line: an envelope that is not listed was superseded by a rotation, destroyed, or never recorded, and opens nothing you should trust. Report it. This sheet is only as current as the date above: after every seal, rotation or destruction write a new kit and destroy this one.",
            ),
        ],
    });
    let mut any = false;
    for set in state.sets().filter(|s| is_live(s.status)) {
        any = true;
        let status = if matches!(set.status, SetStatus::Opened) {
            "opened (rotate it)"
        } else {
            "sealed"
        };
        set_section(
            &mut b,
            state,
            set,
            "",
            format!(
                ", sealed at entry {}; any {} of its {} envelopes open it; {status}.",
                set.sealed_seq, set.threshold, set.shares
            ),
        );
    }
    for set in state
        .sets()
        .filter(|s| matches!(s.status, SetStatus::Pending { .. }))
    {
        set_section(
            &mut b,
            state,
            set,
            ": PENDING, not yet valid",
            format!(
                ", sealed by a rotation at entry {}; it opens nothing until its custodians have acknowledged it with check-share (still to acknowledge: {}) or a quorum activates it. Until then the set it replaces, listed above, stays the one to use; keep both.",
                set.sealed_seq,
                escape(&set.unacknowledged().join(", "))
            ),
        );
    }
    if !any {
        b.push(Block::Paragraph {
            depth: 0,
            spans: vec![Span::bold(
                "No live set: no envelope of this custody may be used.",
            )],
        });
    }
    let stale: Vec<_> = state
        .envelopes_not_destroyed()
        .into_iter()
        .filter(|(_, e)| {
            state
                .set(&e.set)
                .is_some_and(|s| matches!(s.status, SetStatus::Superseded { .. }))
        })
        .collect();
    if !stale.is_empty() {
        b.push(Block::Heading {
            level: 2,
            spans: vec![Span::plain("Envelopes to destroy (superseded, not valid)")],
        });
        b.push(Block::Paragraph {
            depth: 0,
            spans: vec![
                Span::plain("These belong to sets a rotation replaced. Never use them; destroy each before two custodians and record it with "),
                Span::code("glasskeep envelope destroyed --fingerprint FP --witnesses A,B"),
                Span::plain("."),
            ],
        });
        let mut rows = Vec::new();
        for (fp, e) in &stale {
            let label = state
                .set(&e.set)
                .map(|s| escape(&s.label).into_owned())
                .unwrap_or_default();
            rows.push(vec![
                vec![Span::plain(label)],
                vec![Span::plain(escape(&e.custodian).into_owned())],
                vec![Span::code(Fingerprint(*fp).short())],
            ]);
        }
        b.push(Block::Table {
            depth: 0,
            header: vec![
                vec![Span::plain("Label")],
                vec![Span::plain("Custodian")],
                vec![Span::plain("Fingerprint")],
            ],
            rows,
        });
    }
    b.push(Block::Paragraph {
        depth: 0,
        spans: vec![Span::plain(
            "Checked by (name, signature, date): ______________________________________",
        )],
    });
    b
}

/// One set on the live-sets sheet: a heading (the label, its kind, then `tag`), the set
/// id followed by `about`, and its envelopes in short and in full.
fn set_section(b: &mut Vec<Block>, state: &State, set: &SealedSet, tag: &str, about: String) {
    b.push(Block::Heading {
        level: 2,
        spans: vec![Span::plain(format!(
            "{} ({}){tag}",
            escape(&set.label),
            set.secret_kind.name()
        ))],
    });
    b.push(Block::Paragraph {
        depth: 0,
        spans: vec![
            Span::plain("Set "),
            Span::code(set.id.to_hex()),
            Span::plain(about),
        ],
    });
    b.push(envelope_table(state, &set.custodians, &set.envelopes));
    b.push(full_fingerprints(&set.custodians, &set.envelopes));
}

fn envelope_table(state: &State, custodians: &[String], envelopes: &[[u8; 32]]) -> Block {
    let rows = custodians
        .iter()
        .zip(envelopes)
        .enumerate()
        .map(|(i, (name, fp))| {
            let serial = state
                .custodian(name)
                .map(|c| c.record.serial.to_string())
                .unwrap_or_default();
            vec![
                vec![Span::plain(format!("{}", i + 1))],
                vec![Span::plain(escape(name).into_owned())],
                vec![Span::plain(serial)],
                vec![Span::code(Fingerprint(*fp).short())],
            ]
        })
        .collect();
    Block::Table {
        depth: 0,
        header: vec![
            vec![Span::plain("Share")],
            vec![Span::plain("Custodian")],
            vec![Span::plain("YubiKey")],
            vec![Span::plain("Fingerprint")],
        ],
        rows,
    }
}

fn full_fingerprints(custodians: &[String], envelopes: &[[u8; 32]]) -> Block {
    Block::Code {
        depth: 0,
        lines: custodians
            .iter()
            .zip(envelopes)
            .enumerate()
            .map(|(i, (name, fp))| format!("{:>3} {:<12} {}", i + 1, escape(name), hex::encode(fp)))
            .collect(),
    }
}
