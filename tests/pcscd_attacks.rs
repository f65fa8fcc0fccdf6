//! The insider's and the folder-writer's attacks, end to end through the real binary, the
//! real pcscd and simulated YubiKeys. Each is refused before any secret is read or any
//! card is used, leaves `ceremony.log` byte for byte as it was, and exits with its
//! documented code (`glasskeep --help`).

use glasskeep_core::log::frame::write_frame;
use glasskeep_core::log::{read_log_entries, Body, Entry};

mod common;

use common::custody::{enrolled, lab, p, Custody};

/// Exit codes, as documented.
const REFUSED: i32 = 1;
const UNVERIFIED: i32 = 6;
const QUORUM: i32 = 7;
const ANCHOR: i32 = 8;

/// Runs an attack and checks the refusal: its exit code, a phrase of its message,
/// the log unchanged, no secret read and no card used.
#[track_caller]
fn refused(c: &Custody, args: &[&str], stdin: &[u8], code: i32, says: &str) {
    let before = c.log();
    let out = c.run(args, stdin);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: expected {says:?} in: {err}");
    for card_use in ["touch YubiKey", "insert YubiKey", "PIN for"] {
        assert!(!err.contains(card_use), "{args:?} used a card: {err}");
    }
    assert!(out.stdout.is_empty(), "{args:?} printed: {:?}", out.stdout);
    assert_eq!(c.log(), before, "{args:?} changed the log");
}

/// The demo's custody: alice and bob enrolled together, carol with both cosigning,
/// `aws-root` sealed 2-of-3, opened by alice and bob (not yet reviewed).
fn demo_custody(c: &Custody) -> u64 {
    enrolled(c);
    c.ok(
        &[
            "seal",
            "--label",
            "aws-root",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
            "--cosigners",
            "alice,bob,carol",
        ],
        b"the real root password\n",
    );
    let envs = c.all_envelopes();
    c.ok(
        &[
            "open",
            "--label",
            "aws-root",
            "--reason",
            "IdP down",
            "--envelope",
            p(&envs[0]),
            "--envelope",
            p(&envs[1]),
        ],
        b"",
    );
    c.status()["unreviewed"][0].as_u64().unwrap()
}

/// Rewrites the log file from entries, every link and checkpoint head recomputed as
/// someone with write access but no YubiKey would.
fn rewrite(c: &Custody, mut entries: Vec<Entry>) {
    let mut prev = [0u8; 32];
    let mut out = Vec::new();
    for (i, e) in entries.iter_mut().enumerate() {
        e.seq = i as u64;
        e.prev = prev;
        if let Body::Checkpoint { head, .. } = &mut e.body {
            *head = prev;
        }
        let cbor = e.to_bytes();
        let hash = e.hash();
        write_frame(&mut out, &cbor, &hash);
        prev = hash;
    }
    std::fs::write(c.path().join("ceremony.log"), out).unwrap();
}

#[test]
fn one_custodian_alone_can_neither_rotate_destroy_enroll_nor_review_her_own_opening() {
    let mut lab = lab();
    let c = Custody::new();
    let open_seq = demo_custody(&c);
    // Only alice's YubiKey is at the safe.
    lab.stop_card(1002).unwrap();
    lab.stop_card(1003).unwrap();
    let anchor = c.head();
    let a = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(["--anchor".into(), anchor.clone()]);
        v
    };
    let run = |args: Vec<String>, stdin: &[u8], code, says| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&c, &refs, stdin, code, says);
    };
    // A value of her choosing as the new root credential: refused before it is read.
    run(
        a(&["rotate", "--label", "aws-root"]),
        b"value-of-my-choice\n",
        QUORUM,
        "2 of alice, bob, carol to cosign (1 do)",
    );
    // Naming herself alone as the cosigner: the same.
    run(
        a(&["rotate", "--label", "aws-root", "--cosigners", "alice"]),
        b"value-of-my-choice\n",
        QUORUM,
        "2 of alice, bob, carol to cosign",
    );
    let fp = glasskeep_core::hex::encode(&{
        use sha2::Digest;
        let d: [u8; 32] =
            sha2::Sha256::digest(std::fs::read(&c.all_envelopes()[2]).unwrap()).into();
        d
    });
    run(
        a(&[
            "envelope",
            "destroyed",
            "--fingerprint",
            &fp,
            "--witnesses",
            "alice",
        ]),
        b"",
        QUORUM,
        "at least two witnesses",
    );
    run(
        a(&[
            "custodian",
            "enroll",
            "--name",
            "mallory",
            "--serial",
            "1004",
            "--cosigners",
            "alice",
        ]),
        b"",
        QUORUM,
        "2 custodians enrolled earlier to cosign",
    );
    run(
        a(&[
            "review",
            "--open",
            &open_seq.to_string(),
            "--verdict",
            "justified",
            "--notes",
            "fine",
            "--cosigners",
            "alice",
        ]),
        b"",
        QUORUM,
        "did not take part in the opening",
    );
    // And the auditor still sees the opening unreviewed (within its window: pending).
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let review = r["pending"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "pending/review");
    assert_eq!(review.unwrap()["seq"], open_seq, "{r}");
}

#[test]
fn an_entry_appended_without_cards_stops_every_ceremony_until_shown_and_covered() {
    let _lab = lab();
    let c = Custody::new();
    let open_seq = demo_custody(&c);
    // Someone with write access appends a review closing the opening, without cards.
    let mut entries = read_log_entries(&c.log()).unwrap();
    let last = entries.last().unwrap().clone();
    entries.push(Entry {
        seq: last.seq + 1,
        prev: last.hash(),
        time: last.time,
        body: Body::Review {
            open_seq,
            verdict: glasskeep_core::log::Verdict::Justified,
            notes: "nothing to see here".into(),
        },
    });
    rewrite(&c, entries);
    let anchor = c.head();
    refused(
        &c,
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            p(&c.all_envelopes()[0]),
            "--envelope",
            p(&c.all_envelopes()[2]),
            "--anchor",
            &anchor,
        ],
        b"",
        REFUSED,
        "not covered by a signed checkpoint: run `glasskeep log checkpoint` first",
    );
    // `log checkpoint` shows the people present exactly what they would cover; with a
    // refusal to confirm nothing is signed.
    let before = c.log();
    let out = c.run_unconfirmed(
        &[
            "log",
            "checkpoint",
            "--custodians",
            "alice,carol",
            "--anchor",
            &anchor,
        ],
        b"",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{err}");
    assert!(err.contains("appended without a checkpoint"), "{err}");
    assert!(err.contains("nothing to see here"), "{err}");
    assert_eq!(c.log(), before);
}

#[test]
fn a_swapped_seal_key_rechained_is_refused_before_the_next_rotation() {
    let _lab = lab();
    let c = Custody::new();
    demo_custody(&c);
    // Carol's enrolled seal key replaced by the attacker's, every hash recomputed: the
    // next rotation would seal carol's new share to the attacker.
    let mut entries = read_log_entries(&c.log()).unwrap();
    for e in &mut entries {
        if let Body::Enroll { record, .. } = &mut e.body {
            if record.name == "carol" {
                use p256::elliptic_curve::sec1::ToSec1Point;
                let attacker = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
                record.seal_public_key = attacker
                    .public_key()
                    .to_sec1_point(true)
                    .as_bytes()
                    .try_into()
                    .unwrap();
            }
        }
    }
    rewrite(&c, entries);
    let anchor = c.head();
    refused(
        &c,
        &["rotate", "--label", "aws-root", "--anchor", &anchor],
        b"new secret\n",
        UNVERIFIED,
        "the ceremony log does not verify",
    );
}

#[test]
fn a_rollback_to_an_earlier_checkpoint_is_caught_by_the_anchor() {
    let _lab = lab();
    let c = Custody::new();
    demo_custody(&c);
    let paper = c.head();
    // Roll the file back to before the opening (a whole ceremony removed, every
    // remaining signature still valid).
    let mut entries = read_log_entries(&c.log()).unwrap();
    let open = entries
        .iter()
        .position(|e| matches!(e.body, Body::Open { .. }))
        .unwrap();
    entries.truncate(open);
    rewrite(&c, entries);
    refused(
        &c,
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            p(&c.all_envelopes()[0]),
            "--envelope",
            p(&c.all_envelopes()[1]),
            "--anchor",
            &paper[..20],
        ],
        b"",
        ANCHOR,
        "not the log the last ceremony left",
    );
    refused(
        &c,
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            p(&c.all_envelopes()[0]),
            "--envelope",
            p(&c.all_envelopes()[1]),
            "--anchor",
            "0123",
        ],
        b"",
        ANCHOR,
        "at least 16",
    );
}

#[test]
fn a_training_log_is_not_a_production_log_and_an_escape_in_the_org_is_refused() {
    let c = Custody::new();
    // An organisation name that would erase the TRAINING line from an auditor's screen.
    let out = c.run(
        &[
            "init",
            "--training",
            "--org",
            "Example\u{1b}[1A\u{1b}[2K Corp",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(REFUSED));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("U+001B"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!c.path().join("ceremony.log").exists());
    let out = c.run(&["init", "--training", "--org", "evil\u{202e}txt"], b"");
    assert_eq!(out.status.code(), Some(REFUSED));
    assert!(!c.path().join("ceremony.log").exists());

    c.ok(&["init", "--training", "--org", "Example Corp"], b"");
    let out = c.run(&["log", "verify"], b"");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("TRAINING"), "{text}");
    assert!(c
        .run(&["log", "verify", "--training"], b"")
        .status
        .success());
}

#[test]
fn a_clock_behind_the_log_is_said_up_front_and_never_fails_a_ceremony_after_cards_were_used() {
    let _lab = lab();
    let c = Custody::new();
    // Every ceremony so far ran on a machine whose clock was two days ahead...
    c.clock.set(Some("+2 days"));
    demo_custody(&c);
    // ...and tonight's laptop has the right time, which is behind the log.
    c.clock.set(None);
    let envs = c.all_envelopes();
    let out = c.run(
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            p(&envs[1]),
            "--envelope",
            p(&envs[2]),
        ],
        b"",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // Said before any card was asked for.
    let said = err.find("is behind the log's last entry").expect("{err}");
    let first_card = err.find("insert YubiKey").unwrap_or(err.len());
    assert!(said < first_card, "{err}");
    // Recorded: the checkpoint carries the machine's reading, and the auditor sees it.
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let behind = r["clock_behind"].as_array().unwrap();
    assert_eq!(behind.len(), 1, "{r}");
    assert!(behind[0][1].as_u64().unwrap() > 86_400, "{r}");
    let show = c.run(&["log", "show"], b"");
    assert!(String::from_utf8_lossy(&show.stdout).contains("behind the log"));
}
