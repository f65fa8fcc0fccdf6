//! Ceremony sheets from real ceremonies, through pcscd and simulated YubiKeys: `init`
//! and `seal` with `--sheet` print what the log recorded (read back with `pdftotext`
//! and `zbarimg`), and a ceremony the people present do not confirm writes no sheet
//! and leaves the log byte-identical.

mod common;

use std::path::Path;
use std::process::Command;

use common::custody::{self, enroll_three, p, Custody};

fn pdftotext(pdf: &Path) -> String {
    let o = Command::new("pdftotext")
        .args(["-layout", p(pdf), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is needed");
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_sealing_prints_its_sheet_and_a_declined_one_prints_none() {
    let _lab = custody::lab();
    let c = Custody::new();
    let out = tempfile::tempdir().unwrap();

    // init: the genesis alone, TRAINING on the page.
    let genesis = out.path().join("init.pdf");
    c.ok(
        &[
            "init",
            "--org",
            "Example Corp",
            "--training",
            "--sheet",
            p(&genesis),
        ],
        b"",
    );
    let t = pdftotext(&genesis);
    assert!(t.contains("TRAINING — NOT A PRODUCTION CUSTODY"), "{t}");
    assert!(t.contains("Ceremony: genesis"), "{t}");
    assert!(t.contains("No share set is live."), "{t}");
    assert!(t.contains(&c.head()), "{t}");

    enroll_three(&c);

    let seal = |sheet: &Path| -> Vec<String> {
        [
            "seal",
            "--label",
            "aws-root",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
            "--cosigners",
            "alice,bob",
            "--sheet",
            p(sheet),
            "--paper",
            "letter",
            "--witness",
            "Dana Auditor",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };

    // Declined by the people present: nothing recorded, no sheet.
    let before = c.log();
    let declined = out.path().join("declined.pdf");
    let args = seal(&declined);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = c.run_unconfirmed(&args, b"hunter2\n");
    assert_eq!(
        o.status.code(),
        Some(9),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!declined.exists(), "a declined ceremony writes no sheet");
    assert_eq!(c.log(), before, "the log is byte-identical");

    // Confirmed: the sheet records the seal entry, its checkpoint and the new set.
    let sheet = out.path().join("seal.pdf");
    let args = seal(&sheet);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let printed = c.ok(&args, b"hunter2\n");
    assert!(printed.contains("ceremony sheet of entries"), "{printed}");
    let t = pdftotext(&sheet);
    let head = c.head();
    for want in [
        "Ceremony: seal",
        "Example Corp (TRAINING custody, quorum 2)",
        "aws-root — sealed — 2 of 3",
        "alice (custodian, signed the checkpoint)",
        "bob (custodian, signed the checkpoint)",
        "Dana Auditor (witness)",
        head.as_str(),
    ] {
        assert!(t.contains(want), "{want:?} missing from:\n{t}");
    }
    assert!(!t.contains("carol (custodian"), "carol did not sign: {t}");
    let envelopes = c.envelopes("aws-root");
    assert_eq!(envelopes.len(), 3);
    for e in &envelopes {
        let fp = glasskeep_core::envelope::Fingerprint::of_bytes(&std::fs::read(e).unwrap());
        assert!(t.contains(&fp.to_hex()), "{} missing:\n{t}", fp.to_hex());
    }
    let info = Command::new("pdfinfo").arg(p(&sheet)).output().unwrap();
    assert!(String::from_utf8_lossy(&info.stdout).contains("612 x 792 pts (letter)"));

    // The printed code anchors the log.
    let prefix = out.path().join("page");
    let r = Command::new("pdftoppm")
        .args(["-r", "300", "-png", p(&sheet), p(&prefix)])
        .status()
        .unwrap();
    assert!(r.success());
    let png = out.path().join("page-1.png");
    let z = Command::new("zbarimg")
        .args(["--raw", "-q", p(&png)])
        .output()
        .unwrap();
    let code = String::from_utf8(z.stdout).unwrap();
    assert!(
        code.trim().ends_with(&head.to_ascii_uppercase()),
        "{code} / {head}"
    );
    let o = c.run(
        &["log", "verify", "--training", "--anchor", code.trim()],
        b"",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("is the head of the log"));

    // An opening's sheet: standard output still carries the secret alone.
    let opened = out.path().join("open.pdf");
    let secret = c.ok(
        &[
            "open",
            "--label",
            "aws-root",
            "--reason",
            "SSO outage",
            "--envelope",
            p(&envelopes[0]),
            "--envelope",
            p(&envelopes[1]),
            "--sheet",
            p(&opened),
        ],
        b"",
    );
    assert_eq!(secret, "hunter2");
    let t = pdftotext(&opened);
    assert!(t.contains("Ceremony: open"), "{t}");
    assert!(t.contains("aws-root — OPENED — 2 of 3"), "{t}");
    assert!(t.contains("OPENED set"), "{t}");

    // The same path again is refused before any card is asked, and the log stays.
    let before = c.log();
    let o = c.run(&args, b"hunter2\n");
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    assert_eq!(c.log(), before);
}
