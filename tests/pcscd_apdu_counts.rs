//! Card round trips and human actions per custodian, counted through the real pcscd:
//! each simulated card traces every APDU it answers, and a ceremony's share of them is
//! what its log grew by during the run. Counts are deterministic, so a regression (a
//! second SELECT, a metadata read, one VERIFY too many) fails here. The floor for one
//! share is SELECT, GET SERIAL, VERIFY, GENERAL AUTHENTICATE; the `yubikey` crate adds
//! GET VERSION when it connects. Needs root, `cargo build -p glasskeep-piv-sim`, and
//! `age` with `age-plugin-yubikey` 0.5.1 for the comparison.

use std::collections::BTreeMap;
use std::path::Path;

use glasskeep_piv_sim::harness::{CardSpec, LabOptions, PcscLab};
use glasskeep_piv_sim::touch::AUTO_TOUCH_DELAY;

mod common;

use common::custody::{enrolled, p, Custody};

const SERIALS: [u32; 3] = [1001, 1002, 1003];

fn traced_lab() -> PcscLab {
    let cards: Vec<CardSpec> = SERIALS.iter().map(|s| CardSpec::new(*s)).collect();
    PcscLab::start_with(
        &cards,
        LabOptions {
            trace: true,
            ..LabOptions::default()
        },
    )
    .expect("pcscd lab starts")
}

/// What one traced command APDU is, by its instruction byte.
fn name(apdu: &str) -> &'static str {
    match apdu.get(2..4) {
        Some("A4") => "SELECT",
        Some("FD") => "GET VERSION",
        Some("F8") => "GET SERIAL",
        Some("20") if apdu.len() <= 8 => "VERIFY (empty)",
        Some("20") => "VERIFY",
        Some("F7") => "GET METADATA",
        Some("87") => "GENERAL AUTHENTICATE",
        Some("CB") => "GET DATA",
        Some("C0") => "GET RESPONSE",
        Some("F9") => "ATTEST",
        _ => "OTHER",
    }
}

/// The APDUs each card answered during `run`, by name.
fn during(lab: &PcscLab, run: impl FnOnce()) -> BTreeMap<u32, Vec<&'static str>> {
    let before: Vec<usize> = SERIALS
        .iter()
        .map(|s| lab.apdus(*s).unwrap().len())
        .collect();
    run();
    SERIALS
        .iter()
        .zip(before)
        .map(|(s, n)| {
            (
                *s,
                lab.apdus(*s).unwrap()[n..]
                    .iter()
                    .map(|a| name(a))
                    .collect(),
            )
        })
        .collect()
}

/// A PIN file holding `n` PINs: a ceremony that asks for one more fails, so a run that
/// succeeds asked for at most `n`.
fn pins(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join(format!("pins-{n}"));
    std::fs::write(&path, "123456\n".repeat(n)).unwrap();
    path
}

fn ok(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn touches(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains("touch YubiKey"))
        .count()
}

/// One custodian's whole card session when they unseal and cosign: the card opened
/// once (the crate's three), the PIN verified once for the seal key (policy "once"),
/// ECDH, then VERIFY again right before the signature (sign key policy "always").
const SESSION: [&str; 7] = [
    "SELECT",
    "GET VERSION",
    "GET SERIAL",
    "VERIFY",
    "GENERAL AUTHENTICATE",
    "VERIFY",
    "GENERAL AUTHENTICATE",
];

/// The part of a session up to and including the first key operation (the unseal).
fn unseal_part(session: &[&'static str]) -> usize {
    session
        .iter()
        .position(|a| *a == "GENERAL AUTHENTICATE")
        .map_or(session.len(), |i| i + 1)
}

#[test]
fn card_round_trips_and_human_actions_stay_at_the_floor() {
    let lab = traced_lab();
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
        b"pw\n",
    );
    let envs = c.envelopes("aws-root");

    // check-share: alice alone, one PIN in the file, so a second PIN prompt would fail.
    let mut stderr = String::new();
    // Wall times are printed for scripts/bench.sh, never asserted (a shared machine).
    let started = std::time::Instant::now();
    let check = during(&lab, || {
        let out = c.run_with_pins(
            &["check-share", "--envelope", p(&envs[0])],
            b"",
            &pins(c.path(), 1),
        );
        stderr = ok(&out);
    });
    let check_time = started.elapsed();
    assert_eq!(check[&1001], SESSION, "check-share on alice's card");
    assert!(
        unseal_part(&check[&1001]) <= 5,
        "unseal: floor 4, target floor + 1"
    );
    assert!(check[&1001].len() <= 7, "unseal + cosign: target 7");
    // The preflight connects to every reader but sends no card anything, and nobody
    // else's key is opened.
    assert!(check[&1002].is_empty(), "{check:?}");
    assert!(check[&1003].is_empty(), "{check:?}");
    // Touches: one for the seal key and one for the sign key, both "always".
    assert_eq!(touches(&stderr), 2, "{stderr}");
    let check_touch_wait = AUTO_TOUCH_DELAY * 2;

    // An opening with alice and bob, both keys in their readers from the start: each
    // card sees exactly its own session; two PINs in the file for two custodians.
    let mut open_time = std::time::Duration::ZERO;
    let opening = during(&lab, || {
        let started = std::time::Instant::now();
        let out = c.run_with_pins(
            &[
                "open",
                "--label",
                "aws-root",
                "--reason",
                "drill",
                "--envelope",
                p(&envs[0]),
                "--envelope",
                p(&envs[1]),
            ],
            b"",
            &pins(c.path(), 2),
        );
        open_time = started.elapsed();
        stderr = ok(&out);
    });
    assert_eq!(opening[&1001], SESSION, "alice's card during the opening");
    assert_eq!(opening[&1002], SESSION, "bob's card during the opening");
    assert!(opening[&1003].is_empty(), "{opening:?}");
    assert_eq!(touches(&stderr), 4, "{stderr}");
    // Each automatic touch is the simulator sleeping AUTO_TOUCH_DELAY: the person's
    // time, not the tool's, so it is taken out of the tool's time below.
    let touch_wait = AUTO_TOUCH_DELAY * touches(&stderr) as u32;

    // The same share through standard age and age-plugin-yubikey, on the same card.
    let shown = c.ok(&["custodian", "show", "alice"], b"");
    let stub = shown
        .split_whitespace()
        .find(|w| w.starts_with("AGE-PLUGIN-YUBIKEY-1"))
        .expect("custodian show prints the identity stub")
        .to_owned();
    let w = tempfile::tempdir().unwrap();
    let exported = w.path().join("alice.age");
    c.ok(
        &["envelope", "export-age", p(&envs[0]), "-o", p(&exported)],
        b"",
    );
    let sealed = std::fs::read(&exported).unwrap();
    let started = std::time::Instant::now();
    let plugin = during(&lab, || {
        common::age_decrypt_with_stub(w.path(), &stub, &sealed, b"123456");
    });
    let plugin_time = started.elapsed();
    let ours = unseal_part(&opening[&1001]);
    assert!(
        ours < plugin[&1001].len(),
        "glasskeep unseals in {ours} APDUs, age-plugin-yubikey in {}: {:?}",
        plugin[&1001].len(),
        plugin[&1001]
    );
    // Machine-readable for scripts/bench.sh, which writes docs/BENCHMARKS.md from it.
    println!(
        "APDUS unseal={ours} check_share={} open_alice={} open_bob={} plugin={} plugin_sequence={}",
        check[&1001].len(),
        opening[&1001].len(),
        opening[&1002].len(),
        plugin[&1001].len(),
        plugin[&1001].join(",").replace(' ', "_")
    );
    println!(
        "WALL check_share_ms={} check_share_tool_ms={} age_plugin_decrypt_ms={} age_plugin_tool_ms={} open_ms={} open_touch_wait_ms={} open_tool_ms={}",
        check_time.as_millis(),
        check_time.saturating_sub(check_touch_wait).as_millis(),
        plugin_time.as_millis(),
        // One touch: the seal key's policy is "always" for the plugin too.
        plugin_time.saturating_sub(AUTO_TOUCH_DELAY).as_millis(),
        open_time.as_millis(),
        touch_wait.as_millis(),
        open_time.saturating_sub(touch_wait).as_millis()
    );
    println!(
        "ACTIONS check_share_pins=1 check_share_touches=2 open_pins_per_custodian=1 open_touches_per_custodian={}",
        touches(&stderr) / 2
    );
}
