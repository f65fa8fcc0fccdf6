//! Golden outputs of what auditors and custodians read: `log verify` and `status` on a
//! TRAINING log written from FORMAT.md by the independent verifier's generator (real
//! attestation chains under the simulator's published root), valid and broken. The
//! generator's ECDSA signatures are randomised, so hashes are masked; everything else
//! is compared with the reviewed snapshot.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_glasskeep");

fn training_custody(dir: &Path, variant: &str) {
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

/// Runs glasskeep (under faketime when `at` is given) and returns what it printed and
/// its exit code, hashes masked.
fn run(dir: &Path, at: Option<&str>, args: &[&str]) -> String {
    let mut cmd = match at {
        Some(t) => {
            let mut c = Command::new("faketime");
            c.arg(t).arg(BIN);
            c
        }
        None => Command::new(BIN),
    };
    let o = cmd
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = format!(
        "$ glasskeep {}\n{}{}[exit {}]\n",
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        o.status.code().unwrap_or(-1)
    );
    mask_hashes(&text)
}

/// Replaces every run of 32 or more hex digits (hashes, signatures) by `<hex>`.
fn mask_hashes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 32 {
            out.push_str("<hex>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[test]
fn log_verify_and_status_read_as_reviewed() {
    let mut out = String::new();
    for variant in ["valid", "bad-signature", "stranger", "bad-serial"] {
        let d = tempfile::tempdir().unwrap();
        training_custody(d.path(), variant);
        out.push_str(&format!("===== {variant} training log\n"));
        out.push_str(&run(
            d.path(),
            None,
            &[
                "log",
                "verify",
                "--training",
                "--now",
                "2024-03-01T00:00:00Z",
            ],
        ));
        if variant == "valid" {
            // Treated as production, a training log is refused.
            out.push_str(&run(
                d.path(),
                None,
                &["log", "verify", "--now", "2024-03-01T00:00:00Z"],
            ));
            out.push_str(&run(d.path(), Some("2024-03-01 00:00:00"), &["status"]));
            out.push_str(&run(
                d.path(),
                Some("2024-03-01 00:00:00"),
                &["custodian", "list"],
            ));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn masking_keeps_short_numbers() {
    assert_eq!(
        mask_hashes(&format!("entry 12 head {} ok", "ab".repeat(32))),
        "entry 12 head <hex> ok"
    );
}
