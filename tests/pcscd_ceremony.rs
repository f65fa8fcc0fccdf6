//! Whole ceremonies through the real binary, the real `yubikey` crate and the real
//! pcscd, with simulated YubiKeys behind vpcd: what a custodian does at the safe, and
//! what an auditor then verifies. Needs root and `cargo build -p glasskeep-piv-sim`.

use std::path::PathBuf;
use std::process::Command;

use glasskeep_piv_sim::harness::CardSpec;

mod common;

use common::custody::{enrolled, lab, p, Custody};

#[test]
fn full_ceremony_opens_reviews_rotates_and_verifies() {
    let _lab = lab();
    let c = Custody::new();
    enrolled(&c);
    c.ok(
        &[
            "seal",
            "--label",
            "aws-root",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
        ],
        b"correct horse battery staple\n",
    );
    let envs = c.envelopes("aws-root");
    assert_eq!(envs.len(), 3);

    // Open with carol and alice, in that order: the secret comes back on stdout exactly
    // as sealed (seal took one trailing newline off the typed line).
    let out = c.ok(
        &[
            "open",
            "--label",
            "aws-root",
            "--reason",
            "SSO outage",
            "--incident",
            "INC-7",
            "--envelope",
            p(&envs[2]),
            "--envelope",
            p(&envs[0]),
        ],
        b"",
    );
    assert_eq!(out, "correct horse battery staple");

    let s = c.status();
    assert_eq!(s["open"].as_array().unwrap().len(), 1);
    let open_seq = s["unreviewed"][0].as_u64().unwrap();
    a_fresh_opening_is_pending_not_failing(&c, open_seq);

    c.ok(
        &[
            "review",
            "--open",
            &open_seq.to_string(),
            "--verdict",
            "justified",
            "--notes",
            "outage",
        ],
        b"",
    );
    c.ok(&["rotate", "--label", "aws-root"], b"new password\n");
    for e in &envs {
        let fp = sha256_hex(&std::fs::read(e).unwrap());
        c.ok(
            &[
                "envelope",
                "destroyed",
                "--fingerprint",
                &fp,
                "--witnesses",
                "alice,bob",
            ],
            b"",
        );
    }
    let s = c.status();
    assert!(s["open"].as_array().unwrap().is_empty());
    assert!(s["unreviewed"].as_array().unwrap().is_empty());
    let head = s["head"].as_str().unwrap().to_string();
    let verified = c.ok(
        &["log", "verify", "--training", "--anchor", &head, "--json"],
        b"",
    );
    let report: serde_json::Value = serde_json::from_str(&verified).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert!(report["signatures"].as_u64().unwrap() >= 8);

    // The rotated set opens with the new secret; the old envelopes are refused.
    let new_envs = c.envelopes("aws-root");
    let new_envs: Vec<&PathBuf> = new_envs.iter().filter(|p| !envs.contains(p)).collect();
    assert_eq!(new_envs.len(), 3);
    let old = c.run(
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            p(&envs[0]),
            "--envelope",
            p(&envs[1]),
        ],
        b"",
    );
    // They were recorded destroyed: presenting one is an incident, not a chore.
    assert_eq!(
        old.status.code(),
        Some(10),
        "{}",
        String::from_utf8_lossy(&old.stderr)
    );
    assert!(
        String::from_utf8_lossy(&old.stderr).contains("INCIDENT")
            && String::from_utf8_lossy(&old.stderr).contains("recorded as destroyed"),
        "{}",
        String::from_utf8_lossy(&old.stderr)
    );
    c.ok(
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            p(new_envs[0]),
            "--envelope",
            p(new_envs[1]),
        ],
        b"",
    );
}

#[test]
fn a_failed_ceremony_leaves_the_log_byte_for_byte_as_it_was() {
    let _lab = lab();
    let c = Custody::new();
    enrolled(&c);
    c.ok(
        &[
            "seal",
            "--label",
            "db-root",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
        ],
        b"pw\n",
    );
    let envs = c.envelopes("db-root");
    let before = c.log();
    let wrong = c.path().join("wrong-pins");
    std::fs::write(&wrong, "000000\n".repeat(8)).unwrap();
    let out = c.run_with_pins(
        &[
            "open",
            "--label",
            "db-root",
            "--reason",
            "r",
            "--envelope",
            p(&envs[0]),
            "--envelope",
            p(&envs[1]),
        ],
        b"",
        &wrong,
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong PIN"));
    assert!(out.stdout.is_empty(), "nothing may be revealed");
    assert_eq!(c.log(), before);

    // Not enough envelopes: refused before any card is touched.
    let out = c.run(
        &[
            "open",
            "--label",
            "db-root",
            "--reason",
            "r",
            "--envelope",
            p(&envs[0]),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(c.log(), before);

    // A second seal of a live label is refused; nothing written, no envelope left.
    let out = c.run(
        &[
            "seal",
            "--label",
            "db-root",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob",
        ],
        b"x\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(c.log(), before);
    assert_eq!(c.envelopes("db-root").len(), 3);

    // A file secret comes back byte for byte: no newline stripped on the way in, none
    // added on the way out.
    let blob: &[u8] = b"\x00\xffkey material\n\n";
    c.ok(
        &[
            "seal",
            "--label",
            "blob",
            "--kind",
            "file",
            "--threshold",
            "2",
            "--custodians",
            "bob,carol",
        ],
        blob,
    );
    let files = c.envelopes("blob");
    let out = c.run(
        &[
            "open",
            "--label",
            "blob",
            "--reason",
            "r",
            "--envelope",
            p(&files[0]),
            "--envelope",
            p(&files[1]),
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, blob);
}

#[test]
fn no_touch_at_the_checkpoint_leaves_neither_log_entries_nor_envelopes() {
    let mut lab = lab();
    let c = Custody::new();
    enrolled(&c);
    let before = c.log();
    // Bob's card comes back with its keys but a touch sensor nobody presses: the seal
    // is split, sealed and its envelopes written before the checkpoint times out.
    let state = lab.state_dir(1002).unwrap();
    lab.stop_card(1002).unwrap();
    lab.start_card(CardSpec {
        touch: glasskeep_piv_sim::TouchMode::Never,
        state_dir: Some(state),
        ..CardSpec::new(1002)
    })
    .unwrap();
    let out = c.run(
        &[
            "seal",
            "--label",
            "untouched",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
        ],
        b"never stored\n",
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not touched in time"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(c.log(), before);
    assert!(c.envelopes("untouched").is_empty());
    let leftovers: Vec<_> = std::fs::read_dir(c.path().join("envelopes"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_envelope_the_log_does_not_record_is_refused_before_any_card_is_used() {
    let _lab = lab();
    let a = Custody::new();
    enrolled(&a);
    a.ok(
        &[
            "seal",
            "--label",
            "k",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob",
        ],
        b"one\n",
    );
    // A second custody with the same cards seals another secret: its envelopes are
    // well-formed and open on the same YubiKeys, but custody A never recorded them.
    let b = Custody::new();
    b.ok(&["init", "--org", "Other", "--training"], b"");
    // The same cards again: enrollment must overwrite their keys, so only custody B's
    // envelopes are openable afterwards; custody A must still refuse B's.
    b.ok(
        &[
            "custodian",
            "enroll",
            "--name",
            "alice",
            "--serial",
            "1001",
            "--name",
            "bob",
            "--serial",
            "1002",
            "--force-overwrite",
        ],
        b"",
    );
    b.ok(
        &[
            "seal",
            "--label",
            "k",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob",
        ],
        b"two\n",
    );
    let foreign = b.envelopes("k");
    let before = a.log();
    let out = a.run(
        &[
            "open",
            "--label",
            "k",
            "--reason",
            "r",
            "--envelope",
            p(&foreign[0]),
            "--envelope",
            p(&foreign[1]),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("INCIDENT"), "{err}");
    assert!(err.contains("not recorded in this custody's log"), "{err}");
    // The incident notice comes first, saying what the log says of the envelope.
    let notice = err
        .find("INCIDENT - report this now")
        .expect("an incident notice");
    assert!(notice < err.find("glasskeep: INCIDENT").unwrap(), "{err}");
    assert!(err.contains("NEVER RECORDED"), "{err}");
    assert!(!err.contains("touch"), "no card may be used: {err}");
    assert_eq!(a.log(), before);
}

#[test]
fn a_production_custody_refuses_a_simulated_yubikey() {
    let _lab = lab();
    let c = Custody::new();
    c.ok(&["init", "--org", "Example Corp"], b"");
    let before = c.log();
    let head = c.status()["head"].as_str().unwrap().to_string();
    let out = c.run(
        &[
            "custodian",
            "enroll",
            "--name",
            "alice",
            "--serial",
            "1001",
            "--name",
            "bob",
            "--serial",
            "1002",
            "--anchor",
            &head[..16],
            // The test machine may be on a network; a production custody refuses that
            // first unless the people present allow it.
            "--allow-network",
            // The harness reads the PINs from a file, which a production custody refuses
            // unless the people present allow it.
            "--allow-scripted-pins",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // A factory-fresh card is refused for its factory credentials before its
    // attestation is even read (tests/pcscd_enroll_hygiene.rs reaches the root check).
    assert!(
        err.contains("still has the factory PIN, PUK and management key"),
        "{err}"
    );
    assert_eq!(c.log(), before);
}

#[test]
fn the_auditor_catches_a_rewritten_log_and_a_rolled_back_one() {
    let _lab = lab();
    let c = Custody::new();
    enrolled(&c);
    c.ok(
        &[
            "seal",
            "--label",
            "k",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
        ],
        b"s\n",
    );
    let head = c.status()["head"].as_str().unwrap().to_string();
    c.ok(&["log", "verify", "--training", "--anchor", &head], b"");
    let good = c.log();

    // Roll back: drop the last ceremony (seal + checkpoint) and verify against the paper.
    let frames = frame_offsets(&good);
    let cut = frames[frames.len() - 2];
    std::fs::write(c.path().join("ceremony.log"), &good[..cut]).unwrap();
    let out = c.run(
        &["log", "verify", "--training", "--anchor", &head, "--json"],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["failure"]["class"], "anchor", "{r}");

    // Flip one byte in the middle of the file.
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x20;
    std::fs::write(c.path().join("ceremony.log"), &bad).unwrap();
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["failure"]["seq"].is_u64(), "{r}");
}

#[test]
fn a_printed_envelope_opens_with_standard_tools_alone() {
    // Dependency independence: glasskeep seals and prints, then is set aside. The PDF is
    // rasterised by pdftoppm, read by zbarimg, unpacked by the script in
    // docs/RECOVERY.md, each share opened by Debian's age with age-plugin-yubikey on the
    // custodian's (simulated) YubiKey through pcscd, and the script combines them.
    let _lab = lab();
    let c = Custody::new();
    enrolled(&c);
    c.ok(
        &[
            "seal",
            "--label",
            "paper",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
        ],
        b"recovered from paper\n",
    );
    let envs = c.envelopes("paper");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut shares = Vec::new();
    for (index, serial) in [(3usize, "1003"), (1, "1001")] {
        let pdf = w.join(format!("envelope-{index}.pdf"));
        c.ok(
            &[
                "envelope",
                "render",
                p(&envs[index - 1]),
                "--format",
                "pdf",
                "-o",
                p(&pdf),
            ],
            b"",
        );
        let prefix = w.join(format!("page-{index}"));
        let st = Command::new("pdftoppm")
            .args(["-r", "150", "-png"])
            .arg(&pdf)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(st.success());
        let mut pages: Vec<PathBuf> = std::fs::read_dir(w)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|f| {
                f.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("page-{index}-"))
            })
            .collect();
        pages.sort();
        let scan = Command::new("zbarimg")
            .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
            .args(&pages)
            .output()
            .unwrap();
        // zbarimg exits non-zero when any page has no code (page 2 holds only text), so
        // judge by what it read.
        assert!(
            String::from_utf8_lossy(&scan.stdout).starts_with("GK1:"),
            "zbarimg read no glasskeep QR code from {pages:?}"
        );
        let qr = w.join(format!("envelope-{index}.qr"));
        std::fs::write(&qr, &scan.stdout).unwrap();
        let out = common::python(w, &["unpack", p(&qr)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        // The identity stub is made on the spot by the plugin, as RECOVERY.md says.
        let ident = Command::new(common::plugin_dir().join("age-plugin-yubikey"))
            .args(["--identity", "--serial", serial, "--slot", "1"])
            .output()
            .unwrap();
        let stub = String::from_utf8_lossy(&ident.stdout)
            .lines()
            .find(|l| l.starts_with("AGE-PLUGIN-YUBIKEY-1"))
            .unwrap_or_else(|| {
                panic!(
                    "no identity from the plugin: {}",
                    String::from_utf8_lossy(&ident.stderr)
                )
            })
            .to_string();
        let sealed = std::fs::read(w.join(format!("share-{index}.age"))).unwrap();
        // `envelope export-age` gives the same standard age file, and `custodian show`
        // prints the same identity stub the plugin makes.
        let exported = w.join(format!("exported-{index}.age"));
        c.ok(
            &[
                "envelope",
                "export-age",
                p(&envs[index - 1]),
                "-o",
                p(&exported),
            ],
            b"",
        );
        assert_eq!(std::fs::read(&exported).unwrap(), sealed);
        let name = ["alice", "bob", "carol"][index - 1];
        let shown = c.ok(&["custodian", "show", name], b"");
        assert!(shown.contains(&stub), "{shown} lacks {stub}");
        let record = common::age_decrypt_with_stub(w, &stub, &sealed, b"123456");
        let share = format!("share-{index}.cbor");
        std::fs::write(w.join(&share), record).unwrap();
        shares.push(share);
    }
    let out = common::python(
        w,
        &[
            "combine",
            "payload.cbor",
            &shares[0],
            &shares[1],
            "-o",
            "secret.bin",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(w.join("secret.bin")).unwrap(),
        b"recovered from paper"
    );
}

/// Byte offsets of each frame ("GKL1" || u32be length || entry || 32-byte hash).
fn frame_offsets(log: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut i = 0;
    while i < log.len() {
        v.push(i);
        let len = u32::from_be_bytes(log[i + 4..i + 8].try_into().unwrap()) as usize;
        i += 8 + len + 32;
    }
    v
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[test]
fn a_retired_custodian_signs_nothing_more_and_their_sets_must_rotate() {
    let mut lab = lab();
    let c = Custody::new();
    enrolled(&c);
    c.ok(
        &[
            "seal",
            "--label",
            "k",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
        ],
        b"s\n",
    );
    // Carol leaves: alice and bob retire her (carol's own card is not needed, and does
    // not count).
    let carol_card = lab.state_dir(1003).unwrap();
    lab.stop_card(1003).unwrap();
    c.ok(
        &[
            "custodian",
            "retire",
            "carol",
            "--reason",
            "left the company",
        ],
        b"",
    );
    let s = c.status();
    assert_eq!(s["must_rotate"][0], "k", "{s}");
    // The set must be rotated within its window (24 hours) from the retirement: until
    // then pending, after it a violation.
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{r}");
    assert_eq!(
        r["pending"][0]["kind"], "pending/rotate-after-retirement",
        "{r}"
    );
    c.clock.set(Some("+2 days"));
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    c.clock.set(None);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{r}");
    assert_eq!(r["failure"]["class"], "policy/must-rotate", "{r}");
    // She can no longer cosign anything, even with her card back.
    lab.start_card(CardSpec {
        state_dir: Some(carol_card),
        ..CardSpec::new(1003)
    })
    .unwrap();
    let before = c.log();
    let out = c.run(&["log", "checkpoint", "--custodians", "alice,carol"], b"");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(c.log(), before);
    // Rotating the set to the custodians who remain clears the finding.
    c.ok(
        &[
            "rotate",
            "--label",
            "k",
            "--custodians",
            "alice,bob",
            "--cosigners",
            "alice,bob",
        ],
        b"t\n",
    );
    assert!(c.status()["must_rotate"].as_array().unwrap().is_empty());
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["ok"], true, "{r}");
    let kinds: Vec<&str> = ["violations", "pending"]
        .iter()
        .flat_map(|l| r[l].as_array().unwrap())
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    // What remains is the old set's envelopes, within their grace period.
    assert!(
        kinds.iter().all(|k| *k == "pending/destroy-envelope"),
        "{r}"
    );
}

/// Right after a legitimate opening: `log verify` and `status` pass and list the review
/// and the rotation as pending; `--strict` exits 11; past the rotation deadline (the
/// machine clock moved on two days) it is a violation and both fail.
fn a_fresh_opening_is_pending_not_failing(c: &Custody, open_seq: u64) {
    let kinds = |list: &serde_json::Value| -> Vec<(String, u64)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap().to_string(),
                    o["seq"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let fresh = vec![
        ("pending/review".to_string(), open_seq),
        ("pending/rotate".to_string(), open_seq),
    ];
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{r}");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(kinds(&r["pending"]), fresh, "{r}");
    assert!(r["violations"].as_array().unwrap().is_empty(), "{r}");
    // The review window recorded at seal: 7 days from the opening by default.
    let due = |kind: &str| {
        r["pending"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == kind)
            .unwrap()["due"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(due("pending/review") - due("pending/rotate"), 6 * 86_400);

    // As text, piped: the pending section, the verdict saying TRAINING, no colour even
    // with a colour terminal named.
    let out = c.run(&["log", "verify", "--training"], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("pending:\n  entry {open_seq}: pending/review: ")),
        "{text}"
    );
    assert!(
        text.ends_with("OK, 2 pending (TRAINING custody)\n"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "{text}");
    let strict = c.run(&["log", "verify", "--training", "--strict"], b"");
    assert_eq!(strict.status.code(), Some(11));
    let strict_text = String::from_utf8(strict.stdout).unwrap();
    assert!(strict_text.contains("PENDING: "), "{strict_text}");

    // status agrees, with the same items.
    let out = c.run(&["status", "--json"], b"");
    assert_eq!(out.status.code(), Some(0));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(kinds(&s["pending"]), fresh, "{s}");
    assert!(s["violations"].as_array().unwrap().is_empty(), "{s}");
    assert!(s["pending"][0]["subject"]
        .as_str()
        .unwrap()
        .contains("aws-root"));
    let out = c.run(&["status", "--strict"], b"");
    assert_eq!(out.status.code(), Some(11));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("pending:\n"), "{text}");
    assert!(!text.contains('\x1b'), "{text}");

    // On a terminal: coloured, unless NO_COLOR says no.
    let on_tty = |no_color: Option<&str>| {
        let line = format!(
            "{} --dir {} log verify --training",
            common::custody::BIN,
            c.path().display()
        );
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().expect("script runs");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_tty(None);
    assert!(
        coloured.contains("\x1b[33m  entry ") && coloured.contains("\x1b[32mOK, 2 pending"),
        "{coloured:?}"
    );
    assert!(!on_tty(Some("1")).contains('\x1b'));

    // Two days on, the rotation deadline has passed: a violation.
    c.clock.set(Some("+2 days"));
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{r}");
    assert_eq!(r["failure"]["class"], "policy/rotation-overdue", "{r}");
    assert_eq!(r["failure"]["seq"], open_seq, "{r}");
    assert_eq!(
        kinds(&r["pending"]),
        [("pending/review".to_string(), open_seq)]
    );
    let out = c.run(&["status", "--json"], b"");
    assert_eq!(out.status.code(), Some(1));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["violations"][0]["kind"], "policy/rotation-overdue", "{s}");
    c.clock.set(None);
}
