//! Ceremonies under a published plan, through the real pcscd and simulated YubiKeys: a
//! `seal --plan` records the plan's SHA-256 in its checkpoint (signed with it), and
//! `log verify --json` and `log show` show it; a command that is not an act of the plan
//! is refused before any card with the log byte-identical; `--dry-run` of open, drill,
//! check-share and review (which need real envelopes and an opening) shows the visits
//! and entries and writes nothing, and a dry-run activate refused by the log's rules
//! writes nothing either.

mod common;

use std::path::PathBuf;
use std::process::Output;

use common::custody::{self, p, Custody};
use sha2::{Digest, Sha256};

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn today() -> String {
    let o = std::process::Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// A plan for this custody, today, with these acts; its path and SHA-256 (hex).
fn plan(c: &Custody, acts: &str) -> (PathBuf, String) {
    let v: serde_json::Value = serde_json::from_slice(
        &c.run(&["log", "verify", "--json", "--training"], b"")
            .stdout,
    )
    .unwrap();
    let id = v["custody_id"].as_str().unwrap();
    let text = format!(
        "version = 1\nceremony = \"aws-root under a plan\"\ndate = {}\n\n[custody]\nid = \"{id}\"\norg = \"Example Corp\"\n\n[roles]\nadministrator = \"erin\"\ncustodians = [\"alice\", \"bob\", \"carol\"]\nwitnesses = [\"frank\"]\n\n{acts}",
        today()
    );
    let path = c.path().join("plan.toml");
    std::fs::write(&path, &text).unwrap();
    let sha = glasskeep_core::hex::encode(&Sha256::digest(text.as_bytes()));
    (path, sha)
}

const ACTS: &str = r#"[[act]]
kind = "seal"
label = "aws-root"
threshold = 2
custodians = ["alice", "bob", "carol"]
secret_kind = "password"
cosigners = ["alice", "bob", "carol"]

[[act]]
kind = "open"
label = "aws-root"
custodians = ["alice", "bob"]
reason = "planned exercise"
incident = "CHG-7"

[[act]]
kind = "drill"
label = "aws-root"
custodians = ["bob", "carol"]

[[act]]
kind = "check-share"
label = "aws-root"
custodians = ["carol"]

[[act]]
kind = "rotate"
label = "aws-root"
cosigners = ["alice", "bob", "carol"]

[[act]]
kind = "activate"
label = "aws-root"
cosigners = ["alice", "bob"]
"#;

/// Runs a dry run: exit 0, the log unchanged, the output holding each of `wants`.
fn dry(c: &Custody, args: &[&str], wants: &[&str]) {
    let before = c.log();
    let mut a = args.to_vec();
    a.push("--dry-run");
    let o = c.run(&a, b"");
    let text = out(&o);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {text}");
    assert!(
        text.contains("dry run: nothing was written and no card was used"),
        "{text}"
    );
    for w in wants {
        assert!(text.contains(w), "{args:?}: wanted {w:?} in:\n{text}");
    }
    assert_eq!(c.log(), before, "{args:?} wrote to the log");
}

fn last_of(c: &Custody, kind: &str) -> serde_json::Value {
    let o = c.run(&["log", "show", "--format", "json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} entry"))
}

#[test]
fn a_planned_seal_records_the_plan_and_an_unplanned_command_is_refused() {
    let _lab = custody::lab();
    let c = Custody::new();
    custody::enrolled(&c);
    let (file, sha) = plan(&c, ACTS);
    let file = p(&file);

    // Not the plan's act: refused before any card, the log untouched, the field named.
    let before = c.log();
    let seal = [
        "seal",
        "--label",
        "aws-root",
        "--threshold",
        "2",
        "--custodians",
        "alice,bob,carol",
        "--plan",
        file,
    ];
    for (change, want) in [
        (("2", "3"), "--threshold is 3, the plan says threshold = 2"),
        (
            ("alice,bob,carol", "alice,carol,bob"),
            "--custodians is alice,carol,bob, the plan says custodians = alice,bob,carol",
        ),
    ] {
        let args: Vec<&str> = seal
            .iter()
            .map(|a| if *a == change.0 { change.1 } else { a })
            .collect();
        let o = c.run(&args, b"never read\n");
        assert_eq!(o.status.code(), Some(1), "{}", out(&o));
        assert!(out(&o).contains(want), "{}", out(&o));
        assert!(!out(&o).contains("PIN"), "{}", out(&o));
        assert_eq!(c.log(), before);
    }
    // The custodians present must be the plan's.
    let mut fewer = seal.to_vec();
    fewer.extend(["--cosigners", "alice,bob"]);
    let o = c.run(&fewer, b"never read\n");
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("--cosigners is alice,bob, the plan says cosigners = alice,bob,carol"),
        "{}",
        out(&o)
    );
    assert_eq!(c.log(), before);

    // The plan's act, its cosigners taken from the plan.
    c.ok(&seal, b"hunter2 but longer\n");
    let cp = last_of(&c, "checkpoint");
    assert_eq!(cp["plan"], sha.as_str(), "{cp}");
    assert!(cp["what"]
        .as_str()
        .unwrap()
        .contains(&format!("under plan {sha}")));
    assert_eq!(cp["who"], serde_json::json!(["alice", "bob", "carol"]));
    let text = c.ok(&["log", "show"], b"");
    assert!(text.contains(&format!("under plan {sha}")), "{text}");
    let o = c.run(&["log", "verify", "--json", "--training"], b"");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["plans"],
        serde_json::json!([{"checkpoint": cp["seq"], "sha256": sha}]),
        "{v}"
    );
    let o = c.run(&["log", "verify", "--training"], b"");
    assert!(
        out(&o).contains(&format!(
            "checkpoint {} ran under the ceremony plan with SHA-256 {sha}",
            cp["seq"]
        )),
        "{}",
        out(&o)
    );

    // Dry runs that need the envelopes just written.
    let env = c.envelopes("aws-root");
    assert_eq!(env.len(), 3);
    let (alice, bob, carol) = (p(&env[0]), p(&env[1]), p(&env[2]));
    dry(
        &c,
        &[
            "open", "--label", "aws-root", "--reason", "planned exercise", "--incident", "CHG-7",
            "--envelope", alice, "--envelope", bob, "--plan", file,
        ],
        &[
            "OPEN \"aws-root\": planned exercise (incident CHG-7)",
            "  open ",
            &format!("under the ceremony plan with SHA-256 {sha}"),
            "1. alice with YubiKey 1001: PIN once, touch twice (open your share; sign the checkpoint), then hand over",
            "2. bob with YubiKey 1002: PIN once, touch twice",
        ],
    );
    dry(
        &c,
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            bob,
            "--envelope",
            carol,
            "--plan",
            file,
        ],
        &["  drill ", "carol with YubiKey 1003: PIN once"],
    );
    dry(
        &c,
        &["check-share", "--envelope", carol, "--plan", file],
        &["  share-check ", "1. carol with YubiKey 1003: PIN once"],
    );
    // Not the plan's drill: other envelopes.
    let before = c.log();
    let o = c.run(
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            alice,
            "--envelope",
            carol,
            "--plan",
            file,
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains(
            "the envelopes' custodians is alice,carol, the plan says custodians = bob,carol"
        ),
        "{}",
        out(&o)
    );
    assert_eq!(c.log(), before);

    // A real opening under the plan, then a dry-run review of it.
    c.ok(
        &[
            "open",
            "--label",
            "aws-root",
            "--reason",
            "planned exercise",
            "--incident",
            "CHG-7",
            "--envelope",
            alice,
            "--envelope",
            bob,
            "--plan",
            file,
        ],
        b"",
    );
    let open = last_of(&c, "open")["seq"].as_u64().unwrap().to_string();
    dry(
        &c,
        &[
            "review",
            "--open",
            &open,
            "--verdict",
            "justified",
            "--notes",
            "as planned",
            "--cosigners",
            "carol",
        ],
        &["  review ", "carol with YubiKey 1003: PIN once, touch once"],
    );

    // A real rotation under the plan, then a dry-run activation of it.
    c.ok(
        &["rotate", "--label", "aws-root", "--plan", file],
        b"a new secret\n",
    );
    assert_eq!(last_of(&c, "checkpoint")["plan"], sha.as_str());
    // Activation needs the new set's threshold of acknowledgements, which it has not:
    // the dry run goes as far as the log's rules and stops there, writing nothing.
    let before = c.log();
    let o = c.run(
        &[
            "activate",
            "--label",
            "aws-root",
            "--plan",
            file,
            "--dry-run",
        ],
        b"",
    );
    assert!(!o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("fewer than its threshold"), "{}", out(&o));
    assert!(
        !out(&o).contains("dry run: nothing was written"),
        "{}",
        out(&o)
    );
    assert_eq!(c.log(), before);
    let o = c.run(&["log", "verify", "--training"], b"");
    assert!(
        o.status.success() || o.status.code() == Some(11),
        "{}",
        out(&o)
    );
}
