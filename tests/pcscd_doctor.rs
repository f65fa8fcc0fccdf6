//! `glasskeep doctor` and the ceremonies' preflight through the real pcscd with
//! simulated cards: the YubiKeys present and whose they are, a reader held by another
//! process, and pcscd stopped. Needs root and the simulator binary
//! (`cargo build -p glasskeep-piv-sim`).

mod common;

use std::ffi::CString;
use std::process::{Command, Output, Stdio};

use common::custody::{enrolled, lab, Custody, BIN};
use glasskeep_piv_sim::harness::{CardSpec, PcscLab};

const CARD: i32 = 3;

fn doctor(dir: &std::path::Path, json: bool) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--dir").arg(dir).arg("doctor");
    if json {
        c.arg("--json");
    }
    c.stdin(Stdio::null()).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn doctor_outside_a_custody_lists_both_cards_a_held_reader_and_pcscd_stopped() {
    let mut lab =
        PcscLab::start(&[CardSpec::new(2101), CardSpec::new(2102)]).expect("pcscd lab starts");
    let empty = tempfile::tempdir().unwrap();

    let o = doctor(empty.path(), false);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    // On a networked test machine that is only a warning outside a custody.
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for serial in [2101, 2102] {
        let reader = lab.reader_name(serial).unwrap();
        assert!(
            out.contains(&format!(
                "  {reader}: YubiKey {serial}, firmware 5.7.1, PIN 3/3 tries left, PUK 3/3 tries left"
            )),
            "{out}"
        );
    }
    assert!(out.contains("custody: none in this folder"), "{out}");
    assert!(out.contains("[ok]   pcscd answers"), "{out}");

    let o = doctor(empty.path(), true);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("doctor --json");
    let cards: Vec<(u64, &str, u64)> = report["readers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "card")
        .map(|r| {
            let c = &r["card"];
            (
                c["serial"].as_u64().unwrap(),
                c["firmware"].as_str().unwrap(),
                c["pin"]["left"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(cards, [(2101, "5.7.1", 3), (2102, "5.7.1", 3)]);

    // Another process holds 2102's reader exclusively, as gpg's scdaemon does.
    let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
    let name = CString::new(lab.reader_name(2102).unwrap()).unwrap();
    let held = ctx
        .connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
        .unwrap();
    let o = doctor(empty.path(), false);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(CARD), "{}", text(&o));
    assert!(
        out.contains(&format!(
            "[FAIL] reader {} is held by another process",
            lab.reader_name(2102).unwrap()
        )),
        "{out}"
    );
    assert!(out.contains("gpgconf --kill scdaemon"), "{out}");
    assert!(out.contains("YubiKey 2101"), "{out}");
    drop(held);
    drop(ctx);

    lab.stop_pcscd();
    let o = doctor(empty.path(), false);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(CARD), "{}", text(&o));
    assert!(
        out.contains("[FAIL] pcscd is not running: no YubiKey can be reached"),
        "{out}"
    );
    assert!(out.contains("sudo systemctl start pcscd"), "{out}");
}

#[test]
fn doctor_names_each_custodian_and_a_ceremony_stops_before_asking_when_pcscd_is_down() {
    let mut lab = lab();
    let c = Custody::new();
    enrolled(&c);
    // carol takes her YubiKey home.
    lab.stop_card(1003).unwrap();

    let o = doctor(c.path(), false);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.contains("custody: Example Corp (TRAINING)"), "{out}");
    for (serial, name) in [(1001, "alice"), (1002, "bob")] {
        assert!(
            out.contains(&format!(
                "YubiKey {serial} ({name}), firmware 5.7.1, PIN 3/3 tries left"
            )),
            "{out}"
        );
    }
    assert!(
        out.contains("enrolled custodians whose YubiKey is not inserted: carol (1003)"),
        "{out}"
    );
    let report: serde_json::Value = serde_json::from_slice(&doctor(c.path(), true).stdout).unwrap();
    let names: Vec<&str> = report["readers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["custodian"].as_str())
        .collect();
    assert_eq!(names, ["alice", "bob"]);

    // With pcscd down a ceremony ends before it asks for anything, and records nothing.
    lab.stop_pcscd();
    let before = c.log();
    let o = c.run(&["log", "checkpoint", "--custodians", "alice,bob"], b"");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(CARD), "{}", text(&o));
    assert!(err.contains("pcscd is not running"), "{err}");
    assert!(err.contains("Nothing was done"), "{err}");
    assert!(!err.contains("Head hash") && !err.contains("PIN"), "{err}");
    assert_eq!(c.log(), before);
}
