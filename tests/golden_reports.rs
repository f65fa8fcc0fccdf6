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

/// `status --json` at a faked time.
fn status_json(dir: &Path, at: &str) -> (serde_json::Value, i32) {
    let o = Command::new("faketime")
        .arg(at)
        .arg(BIN)
        .arg("--dir")
        .arg(dir)
        .args(["status", "--json"])
        .output()
        .unwrap();
    (
        serde_json::from_slice(&o.stdout).unwrap(),
        o.status.code().unwrap_or(-1),
    )
}

/// Custodian terms (365 days in the training log, whose entries are of 2024-01-01): a
/// custodian whose last share check, drill or opening is older than the term is pending
/// (a share check or a drill is due within 30 days), then a violation; `status` (text
/// and JSON) and `doctor` say who must act and by when.
#[test]
fn custodian_terms_are_flagged_pending_then_violated() {
    let d = tempfile::tempdir().unwrap();
    training_custody(d.path(), "valid");
    let state = glasskeep::ceremony::read_state(d.path()).unwrap();
    let terms = glasskeep_core::log::policy::terms(&state);
    let names: Vec<&str> = terms.iter().map(|t| t.custodian.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    // carol's last proof is her enrollment; alice and bob acknowledged the rotation.
    assert!(terms[2].affirmed < terms[0].affirmed);
    for t in &terms {
        assert_eq!(t.ends, t.affirmed + 365 * 86_400);
        assert_eq!(t.due, t.ends + 30 * 86_400);
    }
    let doctor = |at: u64| glasskeep::ceremony::doctor::term_findings(&state, at);

    // Within the term: nothing to do, nothing flagged.
    let (s, code) = status_json(d.path(), "2024-06-01 00:00:00");
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["term"], 365 * 86_400, "{s}");
    assert!(s["must_act"].as_array().unwrap().is_empty(), "{s}");
    assert!(doctor(1_717_200_000).is_empty());

    // Past the term, within the grace period: pending, with the date it is due by.
    let (s, code) = status_json(d.path(), "2025-01-15 00:00:00");
    assert_eq!(code, 0, "pending is not a failure: {s}");
    assert!(s["violations"].as_array().unwrap().is_empty(), "{s}");
    let pending: Vec<(&str, &str)> = s["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["kind"].as_str().unwrap(), p["subject"].as_str().unwrap()))
        .collect();
    for name in ["alice", "bob", "carol"] {
        assert!(
            pending.contains(&("pending/reaffirm", &format!("custodian {name}"))),
            "{s}"
        );
    }
    let must: Vec<(&str, &str, u64)> = s["must_act"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["custodian"].as_str().unwrap(),
                m["act"].as_str().unwrap(),
                m["by"].as_u64().unwrap(),
            )
        })
        .collect();
    // Soonest first: carol's term ran out first.
    assert_eq!(
        must,
        [
            ("carol", "reaffirm", terms[2].due),
            ("alice", "reaffirm", terms[0].due),
            ("bob", "reaffirm", terms[1].due),
        ],
        "{s}"
    );
    let jan15 = 1_736_899_200;
    let found = doctor(jan15);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(
        |f| f.severity == glasskeep::ceremony::doctor::Severity::Warn
            && f.message.contains("due by")
    ));

    // Past the grace period: a violation, in status and in doctor.
    let (s, code) = status_json(d.path(), "2025-03-01 00:00:00");
    assert_eq!(code, 1, "{s}");
    let lapsed: Vec<&str> = s["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["kind"] == "policy/term-lapsed")
        .map(|v| v["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        lapsed,
        // Soonest due first.
        ["custodian carol", "custodian alice", "custodian bob"],
        "{s}"
    );
    let mar1 = 1_740_787_200;
    let found = doctor(mar1);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(
        |f| f.severity == glasskeep::ceremony::doctor::Severity::Fail
            && f.message.contains("a policy violation")
            && f.action
                .as_deref()
                .is_some_and(|a| a.contains("check-share"))
    ));

    // What a custodian reads, before and after the grace period.
    let mut out = String::new();
    for at in ["2025-01-15 00:00:00", "2025-03-01 00:00:00"] {
        out.push_str(&run(d.path(), Some(at), &["status"]));
    }
    insta::assert_snapshot!(out);
}
