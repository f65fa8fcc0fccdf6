//! `runbook` and `recovery-kit` without cards: the runbooks print as their Markdown
//! source and as PDFs that `pdftotext` and `pdfinfo` read back; the kit refuses what it
//! must refuse and writes nothing then.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_glasskeep");
const NAMES: [&str; 9] = [
    "overview",
    "setup",
    "enrollment",
    "sealing",
    "opening",
    "rotation",
    "drill",
    "retirement",
    "audit",
];

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn pdftotext(pdf: &Path) -> String {
    let o = Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn pdfinfo(pdf: &Path) -> String {
    let o = Command::new("pdfinfo").arg(pdf).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn pages(info: &str) -> usize {
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn runbook_lists_every_runbook_and_prints_each_source_exactly() {
    let d = tempfile::tempdir().unwrap();
    let o = run(d.path(), &["runbook"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list = String::from_utf8(o.stdout).unwrap();
    for name in NAMES {
        assert!(
            list.contains(&format!("  {name} ")),
            "{name} missing:\n{list}"
        );
    }
    assert!(list.contains("Runbook: rotation"), "{list}");
    for name in NAMES {
        let o = run(d.path(), &["runbook", name]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let file = if name == "overview" {
            "RUNBOOK.md".to_owned()
        } else {
            format!("{name}.md")
        };
        let source = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("ceremony")
                .join(file),
        )
        .unwrap();
        assert_eq!(o.stdout, source, "{name}");
    }
    let o = run(d.path(), &["runbook", "unrolling"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

#[test]
fn runbook_pdfs_hold_the_text_in_order_on_numbered_pages() {
    let d = tempfile::tempdir().unwrap();
    let pdf = d.path().join("rotation.pdf");
    let o = run(
        d.path(),
        &[
            "runbook",
            "rotation",
            "--format",
            "pdf",
            "-o",
            pdf.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let info = pdfinfo(&pdf);
    assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
    let n = pages(&info);
    assert!(n >= 2, "{info}");
    let text = pdftotext(&pdf);
    let pages_text: Vec<&str> = text.split('\u{c}').collect();
    for (i, p) in pages_text.iter().take(n).enumerate() {
        assert!(
            p.contains(&format!("page {} of {n}", i + 1)),
            "page {}:\n{p}",
            i + 1
        );
        assert!(p.contains("glasskeep runbook: rotation"), "{p}");
        assert!(!p.contains("TRAINING —"), "{p}");
    }
    // The steps in their order, the commands as typed, the sign-off at the end.
    // A code line too long for the page continues after a mark in the margin.
    let flat = text
        .split_whitespace()
        .filter(|w| *w != "\u{bb}")
        .collect::<Vec<_>>()
        .join(" ");
    let mut at = 0;
    for needle in [
        "Runbook: rotation",
        "Phase 1: seal the new set",
        "glasskeep --dir /media/custody rotate --label aws-root --cosigners alice,bob,carol",
        "Phase 2: each new custodian acknowledges their share",
        "glasskeep --dir /media/custody check-share --envelope",
        "glasskeep --dir /media/custody activate --label aws-root",
        "Phase 3: destroy the old envelopes",
        "envelope destroyed --fingerprint 3f9a1c0e5b7d2a44",
        "If a step fails",
        "Sign-off",
        "Witness:",
    ] {
        let found = flat[at..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing or out of order in:\n{flat}"));
        at += found + needle.len();
    }
    // The HTML comment marking the step for review is not printed.
    assert!(!flat.contains("CHECK two-phase"), "{flat}");

    // Letter paper, to standard output when it is not a terminal.
    let o = run(
        d.path(),
        &["runbook", "opening", "--format", "pdf", "--paper", "letter"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let letter = d.path().join("opening.pdf");
    std::fs::write(&letter, &o.stdout).unwrap();
    assert!(pdfinfo(&letter).contains("612 x 792 pts (letter)"));
    assert!(pdftotext(&letter).contains("Send the ALARM notice"));
}

#[test]
fn runbook_never_overwrites_a_file() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("audit.pdf");
    std::fs::write(&out, b"keep me").unwrap();
    let o = run(
        d.path(),
        &[
            "runbook",
            "audit",
            "--format",
            "pdf",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("give a new file name"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
}

#[test]
fn recovery_kit_refuses_a_folder_without_a_custody_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let kit = d.path().join("kit");
    let o = run(d.path(), &["recovery-kit", kit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("no custody in"), "{}", stderr(&o));
    assert!(!kit.exists());
}

#[test]
fn recovery_kit_refuses_a_log_that_does_not_verify_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    // A frame header that promises more than the file holds, then garbage.
    let mut log = b"GKL1\x00\x00\x00\x10".to_vec();
    log.extend_from_slice(&[0xa5; 48]);
    std::fs::write(d.path().join("ceremony.log"), &log).unwrap();
    let kit = d.path().join("kit");
    let o = run(d.path(), &["recovery-kit", kit.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        matches!(o.status.code(), Some(5 | 6)),
        "exit {:?}: {}",
        o.status.code(),
        stderr(&o)
    );
    assert!(
        !kit.exists(),
        "a kit was written from a log that does not verify"
    );
    assert_eq!(std::fs::read(d.path().join("ceremony.log")).unwrap(), log);
}

#[test]
fn the_man_page_lists_the_new_commands() {
    let d = tempfile::tempdir().unwrap();
    let o = run(d.path(), &["man"]);
    let man = String::from_utf8_lossy(&o.stdout);
    assert!(man.contains("glasskeep\\-recovery\\-kit(1)"), "{man}");
    assert!(man.contains("glasskeep\\-runbook(1)"), "{man}");
}

/// A TRAINING log written from FORMAT.md by the independent verifier's generator (no
/// card needed), valid or with one kind of damage.
fn generated_custody(dir: &Path, variant: &str) {
    let status = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/independent-verifier/make_training_log.py"
        ))
        .arg(dir.join("ceremony.log"))
        .arg(format!("--variant={variant}"))
        .status()
        .expect("python3 runs");
    assert!(status.success(), "make_training_log.py {variant}");
}

#[test]
fn recovery_kit_from_a_generated_training_log_lists_its_set() {
    let d = tempfile::tempdir().unwrap();
    generated_custody(d.path(), "valid");
    let kit = d.path().join("kit");
    let o = run(
        d.path(),
        &["recovery-kit", kit.to_str().unwrap(), "--paper", "letter"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8(o.stdout).unwrap();
    assert!(said.contains("1 live set(s)"), "{said}");
    let sheet = std::fs::read_to_string(kit.join("live-sets.txt")).unwrap();
    assert!(sheet.starts_with("TRAINING"), "{sheet}");
    assert!(sheet.contains("root (password)"), "{sheet}");
    assert!(sheet.contains("any 2 of its 2"), "{sheet}");
    for pdf in ["RECOVERY.pdf", "live-sets.pdf"] {
        let info = pdfinfo(&kit.join(pdf));
        assert!(info.contains("612 x 792 pts (letter)"), "{pdf}: {info}");
    }
    let text = pdftotext(&kit.join("live-sets.pdf"));
    assert!(text.contains("Live share sets of Training Org"), "{text}");
    // Every full fingerprint of the text sheet is in the PDF too.
    let fps: Vec<&str> = sheet
        .split_whitespace()
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    assert!(fps.len() >= 3, "{sheet}"); // the head and two envelopes
    for fp in fps {
        assert!(text.contains(fp), "{fp} missing from live-sets.pdf");
    }
}

#[test]
fn recovery_kit_refuses_a_log_with_a_forged_signature_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    generated_custody(d.path(), "bad-signature");
    let before = std::fs::read(d.path().join("ceremony.log")).unwrap();
    let kit = d.path().join("kit");
    let o = run(d.path(), &["recovery-kit", kit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("does not verify at entry") && e.contains("signature"),
        "{e}"
    );
    assert!(!kit.exists());
    assert_eq!(
        std::fs::read(d.path().join("ceremony.log")).unwrap(),
        before
    );
}
