//! Ceremony sheets without cards: `log sheet` on a TRAINING log written from FORMAT.md
//! by the independent verifier's generator, read back with poppler (`pdftotext`,
//! `pdftoppm`) and zbar (`zbarimg`), and its head code used as `log verify --anchor`
//! against the same log, a longer one, a truncated one and a fork.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_glasskeep");
/// A "now" at which the generator's log has nothing overdue.
const NOW: &str = "2024-01-02T00:00:00Z";

fn generate(dir: &Path) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    let status = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/independent-verifier/make_training_log.py"
        ))
        .arg(dir.join("ceremony.log"))
        .status()
        .expect("python3 runs");
    assert!(status.success());
    std::fs::read(dir.join("ceremony.log")).unwrap()
}

/// The frames of a log file: `GKL1`, a 4-byte length, the entry, its 32-byte hash.
fn frames(log: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = log;
    while !rest.is_empty() {
        assert_eq!(&rest[..4], b"GKL1");
        let len = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
        let (frame, tail) = rest.split_at(8 + len + 32);
        out.push(frame);
        rest = tail;
    }
    out
}

fn head_hex(frame: &[u8]) -> String {
    glasskeep_core::hex::encode(&frame[frame.len() - 32..])
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}[exit {:?}]",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        o.status.code()
    )
}

fn tool(name: &str, args: &[&str]) -> String {
    let o = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed (poppler-utils, zbar-tools): {e}"));
    assert!(o.status.success(), "{name} {args:?}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_sheet_shows_the_custody_entries_head_sets_signatures_and_training() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("custody");
    let log = generate(&dir);
    let frames = frames(&log);
    let sheet = tmp.path().join("sheet.pdf");
    let o = run(
        &dir,
        &["log", "sheet", p(&sheet), "--witness", "Dana Auditor"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("entries 20 to 22"), "{}", text(&o));

    let t = tool("pdftotext", &["-layout", p(&sheet), "-"]);
    let state = glasskeep_core::log::replay_bytes(&log).unwrap();
    let live = state.live_set_by_label("root").unwrap();
    for want in [
        "GLASSKEEP CEREMONY SHEET",
        "TRAINING — NOT A PRODUCTION CUSTODY",
        "Training Org (TRAINING custody, quorum 2)",
        "000102030405060708090a0b0c0d0e0f",
        "Ceremony: envelope-destroyed",
        "Entries: 20 to 22 (3 written)",
        "Plan hash: none",
        "#20",
        "#21",
        "#22",
        "checkpoint over head",
        &head_hex(frames[22]),
        "root — sealed — 2 of 2 — set 02020202020202020202020202020202",
        &glasskeep_core::hex::encode(&live.envelopes[0]),
        &glasskeep_core::hex::encode(&live.envelopes[1]),
        "alice (custodian, signed the checkpoint)",
        "bob (custodian, signed the checkpoint)",
        "Dana Auditor (witness)",
        "signature",
        "page 1 of 1",
    ] {
        assert!(t.contains(want), "{want:?} missing from:\n{t}");
    }
    // Entries before the ceremony are not on its sheet.
    assert!(!t.contains("#19"), "{t}");
    assert!(!t.contains("carol (custodian"), "{t}");

    // --from widens it; Letter paper is Letter.
    let wide = tmp.path().join("wide.pdf");
    let o = run(
        &dir,
        &["log", "sheet", p(&wide), "--from", "0", "--paper", "letter"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let t = tool("pdftotext", &["-layout", p(&wide), "-"]);
    assert!(t.contains("Entries: 0 to 22 (23 written)"), "{t}");
    assert!(
        t.contains("carol (custodian, signed the checkpoint)"),
        "{t}"
    );
    assert!(t.contains("genesis"), "{t}");
    let info = tool("pdfinfo", &[p(&wide)]);
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");
}

#[test]
fn the_head_code_scans_and_anchors_the_log_its_successors_but_not_a_fork() {
    let tmp = tempfile::tempdir().unwrap();
    let full_dir = tmp.path().join("full");
    let log = generate(&full_dir);
    let frames = frames(&log);
    // The custody as it was after the ceremony that ended with checkpoint 19.
    let then = tmp.path().join("then");
    std::fs::create_dir_all(&then).unwrap();
    std::fs::write(then.join("ceremony.log"), frames[..20].concat()).unwrap();
    let sheet = tmp.path().join("sheet.pdf");
    let o = run(&then, &["log", "sheet", p(&sheet)]);
    assert!(o.status.success(), "{}", text(&o));

    // zbar reads the code off a 300 dpi rendering, and it says custody, seq and head.
    let prefix = tmp.path().join("page");
    tool("pdftoppm", &["-r", "300", "-png", p(&sheet), p(&prefix)]);
    let png = tmp.path().join("page-1.png");
    let code = tool("zbarimg", &["--raw", "-q", p(&png)]);
    let want = format!(
        "GKHEAD1:000102030405060708090A0B0C0D0E0F:19:{}",
        head_hex(frames[19]).to_ascii_uppercase()
    );
    assert_eq!(code.trim(), want);

    // The scan anchors the log it was printed from...
    let verify = |dir: &Path, anchor: &str| {
        run(
            dir,
            &[
                "log",
                "verify",
                "--training",
                "--now",
                NOW,
                "--anchor",
                anchor,
            ],
        )
    };
    let o = verify(&then, p(&png));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("anchor matches entry 19"), "{}", text(&o));
    assert!(text(&o).contains("the sheet's head (entry 19) is the head of the log"));
    // ...and the same log three entries later, where it is a past head.
    let o = verify(&full_dir, p(&png));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("anchor matches entry 19"), "{}", text(&o));
    assert!(
        text(&o).contains("the sheet's head is entry 19, a past head: 3 entries came after it"),
        "{}",
        text(&o)
    );
    // The code's text works as well as the scan, typed or in a file.
    let o = verify(&full_dir, &want);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let code_file = tmp.path().join("code.txt");
    std::fs::write(&code_file, &code).unwrap();
    let o = verify(&full_dir, p(&code_file));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // A log rolled back before the sheet's head fails.
    let short = tmp.path().join("short");
    std::fs::create_dir_all(&short).unwrap();
    std::fs::write(short.join("ceremony.log"), frames[..15].concat()).unwrap();
    let o = verify(&short, &want);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("anchor") && text(&o).contains("neither the head nor any entry"),
        "{}",
        text(&o)
    );
    // A fork (same custody, the same acts, other signatures from the first checkpoint
    // on) fails too.
    let fork = tmp.path().join("fork");
    let forked = generate(&fork);
    assert_ne!(forked, log);
    let o = verify(&fork, &want);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("neither the head nor any entry"),
        "{}",
        text(&o)
    );
    // A code that names another entry than the one its hash is: altered.
    let wrong_seq = want.replace(":19:", ":18:");
    let o = verify(&full_dir, &wrong_seq);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("names entry 18, but its hash is entry 19"),
        "{}",
        text(&o)
    );
    // Another custody's code.
    let other = want.replace("000102030405060708090A0B0C0D0E0F", &"AB".repeat(16));
    let o = verify(&full_dir, &other);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("is of custody abab"), "{}", text(&o));
}

#[test]
fn anchors_that_are_not_a_head_are_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("custody");
    generate(&dir);
    let sheet = tmp.path().join("sheet.pdf");
    assert!(run(&dir, &["log", "sheet", p(&sheet)]).status.success());
    let cases: [(&str, i32, &str); 5] = [
        (p(&sheet), 4, "pdftoppm -r 300 -png"),
        ("GKHEAD1:00:1:00", 2, "custody id is malformed"),
        ("GKHEAD9:x", 2, "format this build does not read"),
        ("abcdef", 2, "6 hex digits are not a head hash"),
        ("/nonexistent.png", 2, "is not a file"),
    ];
    for (anchor, code, says) in cases {
        let o = run(&dir, &["log", "verify", "--training", "--anchor", anchor]);
        assert_eq!(o.status.code(), Some(code), "{anchor}: {}", text(&o));
        assert!(text(&o).contains(says), "{anchor}: {}", text(&o));
    }
    let not_image = tmp.path().join("notes.txt");
    std::fs::write(&not_image, "hello").unwrap();
    let o = run(&dir, &["log", "verify", "--anchor", p(&not_image)]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("not an image"), "{}", text(&o));
}

#[test]
fn a_sheet_is_never_written_over_a_file_nor_with_a_bad_witness_or_range() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("custody");
    let log = generate(&dir);
    let existing = tmp.path().join("existing.pdf");
    std::fs::write(&existing, b"keep me").unwrap();
    let o = run(&dir, &["log", "sheet", p(&existing)]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    let new = tmp.path().join("new.pdf");
    for witness in ["eve\u{1b}[2J", "", &"w".repeat(65), "bidi\u{202e}name"] {
        let o = run(&dir, &["log", "sheet", p(&new), "--witness", witness]);
        assert_eq!(o.status.code(), Some(2), "{witness:?}: {}", text(&o));
        assert!(text(&o).contains("--witness"), "{}", text(&o));
        assert!(!text(&o).contains('\u{1b}'), "escaped: {}", text(&o));
    }
    let o = run(&dir, &["log", "sheet", p(&new), "--from", "23"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("pick --from within the log"),
        "{}",
        text(&o)
    );
    assert!(!new.exists());

    // A ceremony with --sheet at an existing file is refused before anything else: no
    // pcscd is asked, and the log is byte-identical.
    let o = run(
        &dir,
        &[
            "check-share",
            "--envelope",
            "/nonexistent.gkenv",
            "--sheet",
            p(&existing),
            "--yes",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("--sheet"), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read(dir.join("ceremony.log")).unwrap(), log);
    // --paper and --witness mean nothing without --sheet.
    let o = run(
        &dir,
        &["check-share", "--envelope", "x.gkenv", "--paper", "letter"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // A broken log gets no sheet.
    let mut broken = log.clone();
    let n = broken.len();
    broken[n - 40] ^= 1;
    std::fs::write(dir.join("ceremony.log"), &broken).unwrap();
    let o = run(&dir, &["log", "sheet", p(&new)]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    assert!(text(&o).contains("does not verify"), "{}", text(&o));
    assert!(!new.exists());
}

#[test]
fn the_man_page_and_readme_describe_sheets() {
    let man = Command::new(BIN).arg("man").output().unwrap();
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(man.contains(".SH \"CEREMONY SHEETS\""), "{man}");
    assert!(man.contains("GKHEAD1:"), "{man}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for want in [
        "--sheet FILE.pdf",
        "log sheet",
        "--anchor sheet-1.png",
        "GKHEAD1:",
    ] {
        assert!(readme.contains(want), "README lacks {want}");
    }
}
