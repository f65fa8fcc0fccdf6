use super::*;
use crate::log::body::Body;
use crate::log::testutil::{set, Builder};

const EXAMPLE: &str = include_str!("../../../../ceremony/plans/example.toml");

/// A plan for `Builder::new([7; 16])` on 2026-12-01 with `acts` (TOML text).
fn plan_text(custodians: &str, acts: &str) -> String {
    format!(
        "version = 1\nceremony = \"test\"\ndate = 2026-12-01\n\n[custody]\nid = \"{}\"\norg = \"Example Org\"\n\n[roles]\nadministrator = \"erin\"\ncustodians = [{custodians}]\n\n{acts}",
        crate::hex::encode(&[7u8; 16])
    )
}

fn day() -> i64 {
    days_from_civil(2026, 12, 1).unwrap()
}

/// alice, bob, carol live; dave retired; "root" sealed 2 of alice, bob.
fn log() -> Builder {
    let mut b = Builder::new([7; 16]);
    for (i, n) in ["alice", "bob", "carol", "dave"].iter().enumerate() {
        b.enroll(n, 1001 + i as u32);
    }
    b.checkpoint(&["alice", "bob", "carol", "dave"]);
    b.push(Body::Retire {
        custodian: "dave".into(),
        reason: "left".into(),
    });
    b.checkpoint(&["alice", "bob"]);
    b.seal(set(1), "root", 2, &["alice", "bob"]);
    b.checkpoint(&["alice", "bob"]);
    b
}

fn refusal(custodians: &str, acts: &str) -> Refusal {
    let p = Plan::decode(plan_text(custodians, acts).as_bytes()).expect("decodes");
    check(&p, &log().state, day()).expect_err("refused")
}

const SEAL: &str = "[[act]]\nkind = \"seal\"\nlabel = \"new\"\nthreshold = 2\ncustodians = [\"alice\", \"bob\", \"carol\"]\nsecret_kind = \"password\"\ncosigners = [\"alice\", \"bob\"]\n";

#[test]
fn the_example_plan_decodes() {
    let p = Plan::decode(EXAMPLE.as_bytes()).unwrap();
    assert_eq!(p.acts.len(), 3);
    assert_eq!(p.date_text, "2026-12-01");
    assert_eq!(p.window_days, 2);
    assert_eq!(p.org, "Training Org");
    assert_eq!(p.acts[0].kind, Some(ActKind::Seal));
    assert_eq!(
        p.sha256,
        <[u8; 32]>::from(Sha256::digest(EXAMPLE.as_bytes()))
    );
}

#[test]
fn a_good_plan_passes_and_its_runbook_names_each_command() {
    let text = plan_text("\"alice\", \"bob\", \"carol\"", SEAL);
    let p = Plan::decode(text.as_bytes()).unwrap();
    check(&p, &log().state, day()).unwrap();
    let r = runbook(&p, "plans/p.toml", false);
    assert!(r.contains("  1. Check the machine"), "{r}");
    assert!(r.contains("  2. seal \"new\":\n       glasskeep seal --label new --threshold 2 --custodians alice,bob,carol --kind password --cosigners alice,bob --plan plans/p.toml --dry-run\n"), "{r}");
    assert!(r.contains("  3. Write the head hash"), "{r}");
}

#[test]
fn decoding_refuses_what_it_does_not_fully_understand() {
    let c = "\"alice\", \"bob\", \"carol\"";
    let cases: Vec<(String, &str)> = vec![
        (
            plan_text(c, &format!("{SEAL}colour = \"red\"\n")),
            "unknown field `colour`",
        ),
        (
            plan_text(c, "").replace("ceremony =", "extra = 1\nceremony ="),
            "unknown field `extra`",
        ),
        (
            plan_text(c, &format!("{SEAL}{SEAL}")),
            "act 2: repeats act 1 (seal \"new\")",
        ),
        (
            plan_text(c, SEAL).replace("2026-12-01", "2026-02-30"),
            "date:",
        ),
        (
            plan_text(c, SEAL).replace("2026-12-01", "\"2026-12-01\""),
            "invalid type",
        ),
        (
            plan_text(c, SEAL).replace("2026-12-01", "2026-12-01T10:00:00Z"),
            "date:",
        ),
        (
            plan_text(c, SEAL).replace("\"test\"", "\"te\\u001bst\""),
            "ceremony: the control or formatting character U+001B",
        ),
        (
            plan_text(c, SEAL).replace(
                "ceremony = \"test\"",
                "# a \u{202e}comment\nceremony = \"test\"",
            ),
            "line 2: the control or formatting character U+202E",
        ),
        (
            plan_text(c, SEAL).replace("threshold = 2", "threshold = 1"),
            "act 1 (seal): threshold",
        ),
        (
            plan_text(c, SEAL).replace("kind = \"seal\"", "kind = \"burn\""),
            "act 1: kind",
        ),
        (
            plan_text(c, SEAL).replace("secret_kind = \"password\"\n", ""),
            "act 1 (seal): secret_kind: missing",
        ),
        (
            plan_text(c, &format!("{SEAL}reason = \"x\"\n")),
            "a seal act takes no reason",
        ),
        (
            plan_text(c, SEAL).replace("\"alice\", \"bob\"]\n", "\"alice\", \"mallory\"]\n"),
            "mallory is not among roles.custodians",
        ),
        (
            plan_text(c, SEAL).replace("version = 1", "version = 2"),
            "version:",
        ),
        (
            plan_text(c, SEAL).replace("version = 1", "version = 1\nversion = 1"),
            "duplicate field `version`",
        ),
        (plan_text(c, ""), "act: a plan holds at least one"),
        (
            plan_text("\"alice\", \"alice\"", SEAL),
            "roles.custodians: alice is named twice",
        ),
    ];
    for (text, want) in cases {
        let e = Plan::decode(text.as_bytes()).expect_err(want).to_string();
        assert!(e.contains(want), "wanted {want:?}, got {e:?}");
    }
    // The parser names the table and the line of an unknown key.
    let e =
        Plan::decode(plan_text(c, &format!("{SEAL}colour = \"red\"\n")).as_bytes()).unwrap_err();
    assert!(e.to_string().contains("for key `act` at line 13"), "{e}");
    let big = format!("{}# {}\n", plan_text(c, SEAL), "x".repeat(MAX_PLAN));
    assert_eq!(
        Plan::decode(big.as_bytes()),
        Err(PlanError::TooLarge { len: big.len() })
    );
    assert!(matches!(
        Plan::decode(b"version = 1\n\xff"),
        Err(PlanError::NotText { line: 2 })
    ));
}

#[test]
fn check_refuses_each_plan_the_log_cannot_carry_out() {
    let all = "\"alice\", \"bob\", \"carol\"";
    let cases: Vec<(Refusal, RefusalClass, &str)> = vec![
        (
            refusal(all, &SEAL.replace("threshold = 2", "threshold = 4")),
            RefusalClass::Quorum,
            "act 1: threshold 4 with 3 custodian(s) named: the set could never be opened",
        ),
        (
            refusal(all, &SEAL.replace("[\"alice\", \"bob\"]\n", "[\"alice\"]\n")),
            RefusalClass::Quorum,
            "act 1: 2 of the new set's custodians",
        ),
        (
            refusal(all, &SEAL.replace("\"new\"", "\"root\"")),
            RefusalClass::Rule,
            "act 1: \"root\" is already sealed and live",
        ),
        (
            refusal("\"alice\", \"bob\", \"dave\"", &SEAL.replace("\"carol\"", "\"dave\"")),
            RefusalClass::Rule,
            "roles.custodians: dave is retired",
        ),
        (
            refusal("\"alice\", \"bob\", \"zoe\"", &SEAL.replace("\"carol\"", "\"zoe\"")),
            RefusalClass::Rule,
            "roles.custodians: zoe is not an enrolled custodian",
        ),
        (
            refusal(all, "[[act]]\nkind = \"rotate\"\nlabel = \"gone\"\ncosigners = [\"alice\", \"bob\"]\n"),
            RefusalClass::Rule,
            "act 1: no live credential is labelled \"gone\": there is nothing to rotate",
        ),
        (
            refusal(all, "[[act]]\nkind = \"open\"\nlabel = \"gone\"\ncustodians = [\"alice\", \"bob\"]\nreason = \"x\"\n"),
            RefusalClass::Rule,
            "act 1: no live credential is labelled \"gone\"",
        ),
        (
            refusal(all, "[[act]]\nkind = \"open\"\nlabel = \"root\"\ncustodians = [\"alice\"]\nreason = \"x\"\n"),
            RefusalClass::Quorum,
            "act 1: \"root\" needs 2 custodians' envelopes; the act names 1 (alice)",
        ),
        (
            refusal(all, "[[act]]\nkind = \"drill\"\nlabel = \"root\"\ncustodians = [\"alice\", \"carol\"]\n"),
            RefusalClass::Rule,
            "carol holds no envelope of \"root\"",
        ),
        (
            refusal(all, "[[act]]\nkind = \"destroyed\"\nfingerprint = \"00000000000000000000\"\nwitnesses = [\"alice\", \"bob\"]\n"),
            RefusalClass::Rule,
            "0 envelope(s) recorded in the log match",
        ),
        (
            refusal(all, "[[act]]\nkind = \"retire\"\nname = \"carol\"\nreason = \"x\"\ncosigners = [\"carol\", \"alice\"]\n"),
            RefusalClass::Quorum,
            "retiring carol needs 2 other live custodians",
        ),
        (
            refusal(all, "[[act]]\nkind = \"checkpoint\"\ncosigners = [\"alice\"]\n"),
            RefusalClass::Quorum,
            "custody quorum of 2",
        ),
        (
            refusal(all, "[[act]]\nkind = \"activate\"\nlabel = \"root\"\ncosigners = [\"alice\", \"bob\"]\n"),
            RefusalClass::Rule,
            "has no pending rotation",
        ),
    ];
    for (r, class, want) in cases {
        assert_eq!(r.class, class, "{r}");
        assert!(r.to_string().contains(want), "wanted {want:?}, got {r}");
    }
    // A rotation planned before its activation passes; a seal opened later in the same
    // plan passes.
    let p = Plan::decode(
        plan_text(
            all,
            &format!("{SEAL}[[act]]\nkind = \"open\"\nlabel = \"new\"\ncustodians = [\"alice\", \"carol\"]\nreason = \"x\"\n[[act]]\nkind = \"rotate\"\nlabel = \"root\"\ncustodians = [\"alice\", \"carol\"]\ncosigners = [\"alice\", \"bob\", \"carol\"]\n[[act]]\nkind = \"activate\"\nlabel = \"root\"\ncosigners = [\"alice\", \"bob\"]\n"),
        )
        .as_bytes(),
    )
    .unwrap();
    check(&p, &log().state, day()).unwrap();
}

#[test]
fn the_plan_applies_only_to_its_custody_and_day() {
    let p = Plan::decode(
        plan_text(
            "\"alice\"",
            "[[act]]\nkind = \"checkpoint\"\ncosigners = [\"alice\"]\n",
        )
        .as_bytes(),
    )
    .unwrap();
    assert!(p.applies(&[7; 16], "Example Org", day()).is_ok());
    let e = p.applies(&[8; 16], "Example Org", day()).unwrap_err();
    assert!(e.contains("the wrong plan or the wrong folder"), "{e}");
    assert!(p.applies(&[7; 16], "Other", day()).is_err());
    let e = p.applies(&[7; 16], "Example Org", day() + 1).unwrap_err();
    assert!(
        e.contains("on 2026-12-01 (UTC); today is 2026-12-02"),
        "{e}"
    );
    let e = check(&p, &log().state, day() + 1).unwrap_err();
    assert_eq!(e.class, RefusalClass::Custody);
    // A window of two days.
    let p = Plan::decode(
        plan_text(
            "\"alice\"",
            "[[act]]\nkind = \"checkpoint\"\ncosigners = [\"alice\"]\n",
        )
        .replace("date = 2026-12-01", "date = 2026-12-01\nwindow_days = 2")
        .as_bytes(),
    )
    .unwrap();
    assert!(p.applies(&[7; 16], "Example Org", day() + 2).is_ok());
    assert!(p.applies(&[7; 16], "Example Org", day() + 3).is_err());
    assert!(p.applies(&[7; 16], "Example Org", day() - 1).is_err());
}

#[test]
fn a_command_is_matched_to_its_act_or_told_which_field_differs() {
    let text = plan_text("\"alice\", \"bob\", \"carol\"", SEAL);
    let p = Plan::decode(text.as_bytes()).unwrap();
    let mut typed = p.acts[0].clone();
    typed.cosigners = Some(vec!["bob".into(), "alice".into()]);
    assert_eq!(p.find_act(&typed), Ok(0));
    typed.threshold = Some(3);
    let e = p.find_act(&typed).unwrap_err();
    assert_eq!(e, "the command does not match act 1 of the plan (seal \"new\"): --threshold is 3, the plan says threshold = 2");
    typed.threshold = Some(2);
    typed.custodians = Some(vec!["bob".into(), "alice".into(), "carol".into()]);
    let e = p.find_act(&typed).unwrap_err();
    assert!(
        e.contains("--custodians is bob,alice,carol, the plan says custodians = alice,bob,carol"),
        "{e}"
    );
    let other = Act {
        kind: Some(ActKind::Drill),
        label: Some("root".into()),
        custodians: Some(vec!["alice".into(), "bob".into()]),
        ..Act::default()
    };
    assert_eq!(
        p.find_act(&other).unwrap_err(),
        "the plan has no drill act; it plans: seal \"new\""
    );
}

#[test]
fn days_round_trip() {
    for d in [-1, 0, 1, 10_957, 20_000, 20_423, 2_932_896] {
        assert_eq!(
            parse_date(&civil_from_days(d)),
            Some(d).filter(|_| d >= 10_957)
        );
    }
    assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
    assert_eq!(days_from_civil(2023, 2, 29), None);
    assert_eq!(days_from_civil(2026, 13, 1), None);
}

#[test]
fn the_plan_decoder_survives_mutated_inputs() {
    // The fuzz target's seed corpus decodes, every kind of act included.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/plan");
    let mut seeds = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        Plan::decode(&bytes).expect("a seed plan decodes");
        seeds.push(bytes);
    }
    assert!(seeds.len() >= 2);
    let kinds: BTreeSet<ActKind> = seeds
        .iter()
        .flat_map(|s| Plan::decode(s).unwrap().acts)
        .filter_map(|a| a.kind)
        .collect();
    assert_eq!(kinds.len(), ActKind::ALL.len());
    crate::fuzzing::smoke::run(crate::fuzzing::plan, &seeds, 1_000);
}

#[test]
fn nesting_deeper_than_the_limit_is_refused_before_the_parser_recurses() {
    // Found by reading the parser: toml 0.5 recursed once per `[`, and 20 000 of them
    // (20 KB, well within MAX_PLAN) overflowed the stack and aborted the process.
    // 10 000 levels of each form stay within MAX_PLAN.
    for open in ["[", "{x = ", "[{a = "] {
        let deep = format!("version = 1\nx = {}", open.repeat(10_000));
        assert!(
            matches!(
                Plan::decode(deep.as_bytes()),
                Err(PlanError::TooDeep { line: 2 })
            ),
            "{open}"
        );
    }
    // Brackets in strings and comments do not count; the limit itself passes the
    // count (and fails later as the plan it is not).
    let quoted = format!(
        "version = 1\n# {c}\nx = \"{c}\"\ny = '{c}'\nz = \"\"\"\n{c}\"\"\"\nw = [{d}{e}]",
        c = "[".repeat(100),
        d = "[".repeat(MAX_NESTING - 1),
        e = "]".repeat(MAX_NESTING - 1)
    );
    assert!(!matches!(
        Plan::decode(quoted.as_bytes()),
        Err(PlanError::TooDeep { .. })
    ));
    // The parser recursed once per part of a dotted key too.
    for dotted in [
        format!("version = 1\n{} = 1", vec!["a"; 20_000].join(".")),
        format!("version = 1\n[{}]", vec!["a"; 20_000].join(".")),
        format!("version = 1\nx = {{ {} = 1 }}", vec!["a"; 20_000].join(".")),
    ] {
        assert!(matches!(
            Plan::decode(dotted.as_bytes()),
            Err(PlanError::TooDeep { line: 2 })
        ));
    }
    // The line named counts lines ended by a backslash inside a multi-line string.
    let after_continuation = format!(
        "version = 1\nnote = \"\"\"\\\n  two \\\n  three\"\"\"\nx = {}",
        "[".repeat(MAX_NESTING + 1)
    );
    assert!(matches!(
        Plan::decode(after_continuation.as_bytes()),
        Err(PlanError::TooDeep { line: 5 })
    ));
    let fifteen = format!("version = 1\n{} = 1.5", vec!["a"; MAX_NESTING].join("."));
    assert!(!matches!(
        Plan::decode(fifteen.as_bytes()),
        Err(PlanError::TooDeep { .. })
    ));
}
