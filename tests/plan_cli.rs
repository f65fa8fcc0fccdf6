//! Ceremony plans without cards: `plan check` on the TRAINING log the independent
//! verifier's generator writes (alice, bob and carol enrolled; "root" sealed 2 of alice
//! and bob), its refusals with their exit codes, `--plan` refusals, and `--dry-run` on
//! the ceremony commands that log allows — with no pcscd to talk to, so that a dry run
//! that reached for a reader would fail, and the log byte-identical after each.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_glasskeep");
const EXAMPLE: &str = include_str!("../ceremony/plans/example.toml");

fn training_log(dir: &Path) {
    let ok = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/independent-verifier/make_training_log.py"
        ))
        .arg(dir.join("ceremony.log"))
        .status()
        .expect("python3 runs")
        .success();
    assert!(ok, "make_training_log.py");
}

/// Runs glasskeep with no pcscd reachable.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env("PCSCLITE_CSOCK_NAME", dir.join("no-pcscd-here"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn today() -> String {
    let o = Command::new("date").args(["-u", "+%F"]).output().unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// The example plan for today, with `edit` applied.
fn example_today(edit: impl Fn(String) -> String) -> String {
    edit(EXAMPLE.replace("date = 2026-12-01", &format!("date = {}", today())))
}

fn write(dir: &Path, name: &str, plan: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, plan).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn a_good_plan_prints_a_numbered_runbook_of_exact_commands() {
    let d = tempfile::tempdir().unwrap();
    training_log(d.path());
    let plan = write(d.path(), "plan.toml", &example_today(|s| s));
    let o = run(d.path(), &["plan", "check", &plan]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let sha = sha256(plan.as_ref());
    for want in [
        "TRAINING custody".to_string(),
        "Runbook: Seal gcp-root; drill root".into(),
        format!("plan SHA-256 {sha}"),
        "  1. Check the machine".into(),
        format!("  2. seal \"gcp-root\":\n       glasskeep seal --label gcp-root --threshold 2 --custodians alice,bob,carol --kind password --cosigners alice,bob,carol --plan {plan} --dry-run\n       glasskeep seal --label gcp-root --threshold 2 --custodians alice,bob,carol --kind password --cosigners alice,bob,carol --plan {plan}\n"),
        format!("  3. drill \"root\":\n       glasskeep drill --label root --envelope <alice's envelope of root> --envelope <bob's envelope of root> --plan {plan} --dry-run"),
        format!("  4. checkpoint:\n       glasskeep log checkpoint --custodians alice,carol --plan {plan} --dry-run"),
        "  5. Write the head hash".into(),
    ] {
        assert!(out.contains(&want), "wanted {want:?} in:\n{out}");
    }
}

fn sha256(path: &Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(o.stdout).unwrap()[..64].to_owned()
}

#[test]
fn plan_check_refuses_what_the_log_cannot_carry_out_with_its_exit_code() {
    let d = tempfile::tempdir().unwrap();
    training_log(d.path());
    let before = std::fs::read(d.path().join("ceremony.log")).unwrap();
    let open =
        "[[act]]\nkind = \"open\"\nlabel = \"root\"\ncustodians = [\"alice\"]\nreason = \"x\"\n";
    let cases: Vec<(String, i32, &str)> = vec![
        (
            example_today(|s| s.replacen("threshold = 2", "threshold = 4", 1)),
            7,
            "act 1: threshold 4 with 3 custodian(s) named: the set could never be opened",
        ),
        (
            example_today(|s| s + open),
            7,
            "act 4: \"root\" needs 2 custodians' envelopes; the act names 1 (alice)",
        ),
        (
            example_today(|s| s.replace("label = \"gcp-root\"", "label = \"root\"")),
            1,
            "act 1: \"root\" is already sealed and live",
        ),
        (
            example_today(|s| {
                s.replace("kind = \"drill\"", "kind = \"activate\"")
                    .replace(
                        "custodians = [\"alice\", \"bob\"]\n\n[[act]]\nkind = \"checkpoint\"",
                        "cosigners = [\"alice\", \"bob\"]\n\n[[act]]\nkind = \"checkpoint\"",
                    )
            }),
            1,
            "act 2: \"root\" has no pending rotation to activate",
        ),
        (
            example_today(|s| {
                s + "[[act]]\nkind = \"rotate\"\nlabel = \"nothing-here\"\ncosigners = [\"alice\", \"bob\"]\n"
            }),
            1,
            "act 4: no live credential is labelled \"nothing-here\"",
        ),
        (
            example_today(|s| {
                s.replace(
                    "[\"alice\", \"bob\", \"carol\"]\nwitnesses",
                    "[\"alice\", \"bob\", \"carol\", \"mallory\"]\nwitnesses",
                )
            }),
            1,
            "roles.custodians: mallory is not an enrolled custodian",
        ),
        (
            example_today(|s| {
                s.replace(
                    "000102030405060708090a0b0c0d0e0f",
                    "ffff02030405060708090a0b0c0d0e0f",
                )
            }),
            1,
            "the wrong plan or the wrong folder",
        ),
        (
            EXAMPLE.replace("date = 2026-12-01", "date = 2025-01-01"),
            1,
            "the plan's day 2025-01-01 (UTC) has passed",
        ),
        (
            example_today(|s| s.replace("window_days = 2", "window_days = 2\nwindow = 3")),
            4,
            "unknown field `window`",
        ),
    ];
    for (plan, code, want) in cases {
        let p = write(d.path(), "bad.toml", &plan);
        let o = run(d.path(), &["plan", "check", &p]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(code), "{want}: {out}");
        assert!(out.contains(want), "wanted {want:?} in:\n{out}");
        assert!(!out.contains("Runbook"), "{out}");
    }
    assert_eq!(
        std::fs::read(d.path().join("ceremony.log")).unwrap(),
        before
    );
}

#[test]
fn a_command_that_is_not_an_act_of_its_plan_is_refused_and_the_log_is_untouched() {
    let d = tempfile::tempdir().unwrap();
    training_log(d.path());
    let before = std::fs::read(d.path().join("ceremony.log")).unwrap();
    let plan = write(d.path(), "plan.toml", &example_today(|s| s));
    let seal = |extra: &[&str]| {
        let mut a = vec![
            "seal",
            "--label",
            "gcp-root",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
            "--kind",
            "password",
            "--plan",
            &plan,
            "--yes",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            seal(&[]).into_iter().map(|a| if a == "2" { "3".into() } else { a }).collect(),
            "the command does not match act 1 of the plan (seal \"gcp-root\"): --threshold is 3, the plan says threshold = 2",
        ),
        (
            seal(&["--cosigners", "alice,bob"]),
            "--cosigners is alice,bob, the plan says cosigners = alice,bob,carol",
        ),
        (
            seal(&[]).into_iter().map(|a| if a == "password" { "totp".into() } else { a }).collect(),
            "--kind is totp, the plan says secret_kind = password",
        ),
        (
            vec!["rotate".into(), "--label".into(), "root".into(), "--cosigners".into(), "alice,bob".into(), "--plan".into(), plan.clone()],
            "the plan has no rotate act",
        ),
        (
            vec!["log".into(), "checkpoint".into(), "--custodians".into(), "alice,bob".into(), "--plan".into(), plan.clone()],
            "--custodians is alice,bob, the plan says cosigners = alice,carol",
        ),
    ];
    for (args, want) in cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(d.path(), &refs);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(out.contains(&format!("--plan {plan}: ")), "{out}");
        assert!(out.contains(want), "wanted {want:?} in:\n{out}");
        assert!(out.contains("Nothing was done"), "{out}");
        assert_eq!(
            std::fs::read(d.path().join("ceremony.log")).unwrap(),
            before
        );
    }
    // A plan for another day.
    let other = write(
        d.path(),
        "tomorrow.toml",
        &EXAMPLE
            .replace("date = 2026-12-01", "date = 2099-01-01")
            .replace("window_days = 2", "window_days = 0"),
    );
    let mut args = seal(&[]);
    let i = args.iter().position(|a| *a == plan).unwrap();
    args[i] = other.clone();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(d.path(), &refs);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("the plan is for a ceremony on 2099-01-01 (UTC); today is"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read(d.path().join("ceremony.log")).unwrap(),
        before
    );
}

#[test]
fn dry_run_shows_visits_and_entries_and_writes_nothing_without_any_reader() {
    let d = tempfile::tempdir().unwrap();
    training_log(d.path());
    let before = std::fs::read(d.path().join("ceremony.log")).unwrap();
    let plan = write(d.path(), "plan.toml", &example_today(|s| s));
    let sha = sha256(plan.as_ref());
    let destroy = "714657917d7ac1beabf78bdd7966fa62ba9d379d4681a172351a451594d4802f";
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (
            // Under the plan, the cosigners come from its act.
            vec!["seal", "--label", "gcp-root", "--threshold", "2", "--custodians", "alice,bob,carol", "--plan", &plan],
            vec![
                "SEAL \"gcp-root\" to alice, bob, carol".into(),
                "  entry   23  seal ".into(),
                "  entry   24  checkpoint, signed by alice, bob, carol".into(),
                format!("under the ceremony plan with SHA-256 {sha}"),
                "  1. alice with YubiKey 1001: PIN once, touch once (sign the checkpoint), then hand over".into(),
                "  3. carol with YubiKey 1003: PIN once, touch once (sign the checkpoint), done".into(),
            ],
        ),
        (
            vec!["rotate", "--label", "root", "--custodians", "alice,carol", "--cosigners", "alice,bob,carol"],
            vec![
                "ROTATE \"root\"".into(),
                "  entry   24  rotate ".into(),
                "  entry   25  checkpoint, signed by alice, bob, carol".into(),
            ],
        ),
        (
            vec!["custodian", "retire", "carol", "--reason", "moves on", "--cosigners", "alice,bob"],
            vec!["  entry   23  retire ".into(), "RETIRED carol: moves on".into()],
        ),
        (
            vec!["custodian", "enroll", "--name", "dave", "--serial", "1004", "--cosigners", "alice,bob"],
            vec![
                "enroll    dave with YubiKey 1004".into(),
                "  1. dave with YubiKey 1004: PIN once".into(),
                "  2. alice with YubiKey 1001: PIN once, touch once".into(),
            ],
        ),
        (
            vec!["log", "checkpoint", "--custodians", "alice,carol", "--plan", &plan],
            vec![
                "  entry   23  checkpoint, signed by alice, carol".into(),
                format!("under the ceremony plan with SHA-256 {sha}"),
            ],
        ),
        (
            vec!["envelope", "destroyed", "--fingerprint", destroy, "--witnesses", "alice,bob"],
            vec![format!("  entry   23  envelope-destroyed  alice,bob             envelope {destroy} destroyed")],
        ),
    ];
    for (mut args, wants) in cases {
        args.push("--dry-run");
        let o = run(d.path(), &args);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {out}");
        assert!(
            out.contains("DRY RUN: nothing is written and no card is used"),
            "{out}"
        );
        assert!(
            out.contains("dry run: nothing was written and no card was used"),
            "{out}"
        );
        for w in wants {
            assert!(out.contains(&w), "{args:?}: wanted {w:?} in:\n{out}");
        }
        assert_eq!(
            std::fs::read(d.path().join("ceremony.log")).unwrap(),
            before,
            "{args:?}"
        );
        assert!(!d.path().join("envelopes").exists(), "{args:?}");
    }
    // A dry run cannot see whose YubiKeys are inserted: it wants them named.
    let o = run(d.path(), &["log", "checkpoint", "--dry-run"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("name the cosigners"), "{}", text(&o));
}

#[test]
fn the_man_page_and_completions_know_plans_and_dry_runs() {
    let d = tempfile::tempdir().unwrap();
    let man = run(d.path(), &["man"]);
    assert!(String::from_utf8_lossy(&man.stdout).contains("glasskeep\\-plan(1)"));
    let comp = run(d.path(), &["completions", "bash"]);
    let comp = String::from_utf8_lossy(&comp.stdout);
    assert!(comp.contains("--plan") && comp.contains("--dry-run") && comp.contains("check"));
}
