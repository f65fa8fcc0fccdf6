//! Two-phase rotation end to end, through the real binary, the real pcscd and simulated
//! YubiKeys: `rotate` makes the new set pending while the old one keeps opening; each
//! new custodian's `check-share` acknowledges it; the last acknowledgement (or a quorum's
//! `activate`, which the log records) supersedes the old set, whose envelopes are then
//! refused as an incident and listed to be destroyed.

use glasskeep_core::log::body::CheckpointSignature;
use glasskeep_core::log::frame::write_frame;
use glasskeep_core::log::{prepare_checkpoint, read_log_entries, replay_bytes, Body, Entry};
use p256::ecdsa::signature::hazmat::PrehashSigner;

mod common;

use common::custody::{enrolled, lab, p, pending_set, set_envelopes, Custody};

const REFUSED: i32 = 1;
const QUORUM: i32 = 7;
const INCIDENT: i32 = 10;

fn seal(c: &Custody, label: &str, secret: &[u8]) -> String {
    c.ok(
        &[
            "seal",
            "--label",
            label,
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
            "--cosigners",
            "alice,bob,carol",
        ],
        secret,
    );
    live_set(c, label)
}

/// The id of the set of `label` that opens.
fn live_set(c: &Custody, label: &str) -> String {
    let s = c.status();
    let live: Vec<&serde_json::Value> = s["sets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["label"] == label && (x["status"] == "sealed" || x["status"] == "opened"))
        .collect();
    assert_eq!(live.len(), 1, "{s}");
    live[0]["set_id"].as_str().unwrap().to_owned()
}

fn set_status(c: &Custody, set: &str) -> String {
    let s = c.status();
    s["sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["set_id"] == set)
        .unwrap_or_else(|| panic!("no set {set}: {s}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn waiting_for(c: &Custody) -> Vec<String> {
    let s = c.status();
    s["pending_sets"][0]["waiting_for"]
        .as_array()
        .unwrap_or_else(|| panic!("no pending set: {s}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn fingerprint(path: &std::path::Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[track_caller]
fn refused(c: &Custody, args: &[&str], code: i32, says: &str) -> String {
    let before = c.log();
    let out = c.run(args, b"");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: expected {says:?} in: {err}");
    assert_eq!(c.log(), before, "{args:?} changed the log");
    err
}

#[test]
fn the_old_set_opens_until_every_new_custodian_has_acknowledged() {
    let _lab = lab();
    let c = Custody::new();
    enrolled(&c);
    let old = seal(&c, "aws-root", b"old secret\n");
    let old_envs = set_envelopes(&c, "aws-root", &old);
    c.ok(
        &["rotate", "--label", "aws-root", "--cosigners", "alice,bob"],
        b"new secret\n",
    );
    let new = pending_set(&c, "aws-root");
    let new_envs = set_envelopes(&c, "aws-root", &new);
    assert_eq!(new_envs.len(), 3);
    assert_eq!(set_status(&c, &old), "sealed");
    assert_eq!(set_status(&c, &new), "pending");

    // status names who still has to acknowledge, in text and in JSON.
    let s = c.status();
    assert_eq!(s["pending_sets"][0]["replaces"], old.as_str(), "{s}");
    assert_eq!(waiting_for(&c), ["alice", "bob", "carol"]);
    let acts: Vec<(&str, &str)> = s["must_act"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["custodian"].as_str().unwrap(), m["act"].as_str().unwrap()))
        .collect();
    assert_eq!(
        acts,
        [
            ("alice", "acknowledge"),
            ("bob", "acknowledge"),
            ("carol", "acknowledge")
        ],
        "{s}"
    );
    assert!(s["envelopes_to_destroy"].as_array().unwrap().is_empty());
    let text = c.ok(&["status"], b"");
    assert!(
        text.contains("PENDING ROTATION: aws-root") && text.contains("waits for alice, bob, carol"),
        "{text}"
    );
    // A rotation already pending is not rotated again.
    refused(
        &c,
        &["rotate", "--label", "aws-root", "--cosigners", "alice,bob"],
        REFUSED,
        "already has a pending rotation",
    );

    // The old set still opens, with the old secret; the new one opens nothing yet.
    let out = c.ok(
        &[
            "open",
            "--label",
            "aws-root",
            "--reason",
            "IdP down",
            "--envelope",
            p(&old_envs[0]),
            "--envelope",
            p(&old_envs[1]),
        ],
        b"",
    );
    assert_eq!(out, "old secret");
    refused(
        &c,
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            p(&new_envs[0]),
            "--envelope",
            p(&new_envs[1]),
        ],
        REFUSED,
        "not yet active",
    );

    // alice acknowledges: the set stays pending for bob and carol.
    let out = c.ok(&["check-share", "--envelope", p(&new_envs[0])], b"");
    assert!(out.contains("stays pending until bob, carol"), "{out}");
    assert_eq!(waiting_for(&c), ["bob", "carol"]);
    assert_eq!(set_status(&c, &new), "pending");

    // Someone who can write the folder but holds no YubiKey appends the acknowledgements
    // of bob and carol, and a checkpoint "signed" by them: every reader rejects the log.
    let honest = c.log();
    // Without any checkpoint, nobody has signed them: a policy violation at once.
    forge_acknowledgements(&c, &new_envs[1..], false);
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{r}");
    assert_eq!(r["failure"]["class"], "policy/uncheckpointed-tail", "{r}");
    let out = c.run(&["status"], b"");
    assert_eq!(
        out.status.code(),
        Some(1),
        "status accepted unsigned entries"
    );
    std::fs::write(c.path().join("ceremony.log"), &honest).unwrap();
    // With a checkpoint whose signatures are the forger's own.
    forge_acknowledgements(&c, &new_envs[1..], true);
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{r}");
    assert_eq!(r["ok"], false, "{r}");
    assert!(r["failure"]["detail"].to_string().contains("bob"), "{r}");
    let out = c.run(&["status", "--json"], b"");
    assert_ne!(out.status.code(), Some(0), "status read a forged log");
    std::fs::write(c.path().join("ceremony.log"), &honest).unwrap();
    assert_eq!(waiting_for(&c), ["bob", "carol"]);

    // bob, then carol: the last acknowledgement activates the new set.
    c.ok(&["check-share", "--envelope", p(&new_envs[1])], b"");
    let out = c.ok(&["check-share", "--envelope", p(&new_envs[2])], b"");
    assert!(
        out.contains("it is active") && out.contains("Destroy the old envelopes"),
        "{out}"
    );
    assert_eq!(set_status(&c, &old), "superseded");
    assert_eq!(set_status(&c, &new), "sealed");
    let s = c.status();
    assert!(s["pending_sets"].as_array().unwrap().is_empty(), "{s}");
    let mut to_destroy: Vec<String> = s["envelopes_to_destroy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    to_destroy.sort();
    let mut old_fps: Vec<String> = old_envs.iter().map(|e| fingerprint(e)).collect();
    old_fps.sort();
    assert_eq!(to_destroy, old_fps, "{s}");

    // An old envelope is now an incident; the new set opens with the new secret.
    refused(
        &c,
        &[
            "drill",
            "--label",
            "aws-root",
            "--envelope",
            p(&old_envs[0]),
            "--envelope",
            p(&old_envs[2]),
        ],
        INCIDENT,
        "rotated away",
    );
    let out = c.ok(
        &[
            "open",
            "--label",
            "aws-root",
            "--reason",
            "IdP down again",
            "--envelope",
            p(&new_envs[1]),
            "--envelope",
            p(&new_envs[2]),
        ],
        b"",
    );
    assert_eq!(out, "new secret");
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["ok"], true, "{r}");
}

/// Appends share checks of `envelopes` by their custodians, and with `checkpoint` a
/// checkpoint over them, as someone with write access to the folder but none of the
/// YubiKeys would: its signatures are made with a key of their own.
fn forge_acknowledgements(c: &Custody, envelopes: &[std::path::PathBuf], checkpoint: bool) {
    let mut bytes = c.log();
    let mut state = replay_bytes(&bytes).unwrap();
    let entries = read_log_entries(&bytes).unwrap();
    let last = entries.last().unwrap();
    let set = state.pending_sets().next().unwrap().clone();
    let mut names = Vec::new();
    let mut time = last.time;
    for e in envelopes {
        let fp = glasskeep_core::log::parse_hash_hex(&fingerprint(e)).unwrap();
        let i = set.envelopes.iter().position(|x| *x == fp).unwrap();
        let custodian = set.custodians[i].clone();
        time += 1;
        let entry = Entry {
            seq: state.next_seq(),
            prev: state.head(),
            time,
            body: Body::ShareCheck {
                set: set.id,
                custodian: custodian.clone(),
                envelope: fp,
            },
        };
        state.apply(&entry).unwrap();
        write_frame(&mut bytes, &entry.to_bytes(), &entry.hash());
        names.push(custodian);
    }
    if !checkpoint {
        std::fs::write(c.path().join("ceremony.log"), bytes).unwrap();
        return;
    }
    time += 1;
    let pending = prepare_checkpoint(&state, &names, time, time, Default::default()).unwrap();
    let forger = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let signatures = names
        .iter()
        .map(|n| {
            let sig: p256::ecdsa::Signature = forger.sign_prehash(&pending.digest).unwrap();
            let sig = sig.normalize_s();
            CheckpointSignature {
                custodian: n.clone(),
                signature: sig.to_bytes().into(),
            }
        })
        .collect();
    let entry = Entry {
        seq: state.next_seq(),
        prev: state.head(),
        time,
        body: Body::Checkpoint {
            head: state.head(),
            signatures,
            clock: time,
            plan: None,
            build: None,
            allowed: Default::default(),
        },
    };
    write_frame(&mut bytes, &entry.to_bytes(), &entry.hash());
    std::fs::write(c.path().join("ceremony.log"), bytes).unwrap();
}

#[test]
fn a_quorum_activates_with_fewer_acknowledgements_and_the_log_records_who_was_missing() {
    let _lab = lab();
    let c = Custody::new();
    enrolled(&c);
    let old = seal(&c, "k", b"old\n");
    let old_envs = set_envelopes(&c, "k", &old);
    c.ok(
        &["rotate", "--label", "k", "--cosigners", "alice,bob"],
        b"new\n",
    );
    let new = pending_set(&c, "k");
    let new_envs = set_envelopes(&c, "k", &new);
    // One acknowledgement is fewer than the new set's threshold: nobody has shown that
    // it opens, so not even a quorum activates it.
    c.ok(&["check-share", "--envelope", p(&new_envs[0])], b"");
    refused(
        &c,
        &["activate", "--label", "k", "--cosigners", "alice,bob"],
        REFUSED,
        "fewer than its threshold 2",
    );
    c.ok(&["check-share", "--envelope", p(&new_envs[1])], b"");
    assert_eq!(waiting_for(&c), ["carol"]);
    // One custodian alone cannot activate.
    refused(
        &c,
        &["activate", "--label", "k", "--cosigners", "alice"],
        QUORUM,
        "",
    );
    assert_eq!(set_status(&c, &new), "pending");
    // alice and bob (the old set's threshold) activate without carol's acknowledgement.
    let out = c.ok(
        &["activate", "--label", "k", "--cosigners", "alice,bob"],
        b"",
    );
    assert!(out.contains("is active"), "{out}");
    assert_eq!(set_status(&c, &old), "superseded");
    assert_eq!(set_status(&c, &new), "sealed");
    let activations: Vec<Vec<String>> = read_log_entries(&c.log())
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.body {
            Body::Activate { missing, .. } => Some(missing),
            _ => None,
        })
        .collect();
    assert_eq!(activations, [vec!["carol".to_owned()]]);
    let shown = c.ok(&["log", "show"], b"");
    assert!(shown.contains("carol"), "{shown}");
    let s = c.status();
    assert_eq!(
        s["envelopes_to_destroy"].as_array().unwrap().len(),
        3,
        "{s}"
    );
    refused(
        &c,
        &[
            "drill",
            "--label",
            "k",
            "--envelope",
            p(&old_envs[1]),
            "--envelope",
            p(&old_envs[2]),
        ],
        INCIDENT,
        "rotated away",
    );
    // Nothing is pending any more: activate has nothing to do.
    refused(
        &c,
        &["activate", "--label", "k", "--cosigners", "alice,bob"],
        REFUSED,
        "no rotation waiting",
    );
    // carol's check of her new envelope later is an ordinary share check.
    c.ok(&["check-share", "--envelope", p(&new_envs[2])], b"");
    for e in &old_envs {
        c.ok(
            &[
                "envelope",
                "destroyed",
                "--fingerprint",
                &fingerprint(e),
                "--witnesses",
                "alice,bob",
            ],
            b"",
        );
    }
    let s = c.status();
    assert!(
        s["envelopes_to_destroy"].as_array().unwrap().is_empty(),
        "{s}"
    );
    let out = c.run(&["log", "verify", "--training", "--json"], b"");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["ok"], true, "{r}");
}
