//! `glasskeep log verify` against an independent verifier written from docs/FORMAT.md
//! alone (tests/independent-verifier/verify_log.py): on every vector log, and on
//! mutations of the valid one, both must reach the same verdict, class and seq. A
//! disagreement is a bug in the code, in the spec, or in the outsider's reading of it.
//!
//! Needs `python3` with the `cryptography` module (Debian: python3-cryptography). When
//! it is missing the test says so and passes, unless GLASSKEEP_REQUIRE_PY_VERIFIER is
//! set (CI sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_glasskeep");
/// The entry format this build writes and reads; the verifier is told to read the same.
const FORMAT_VERSION: u64 = glasskeep_core::log::entry::ENTRY_VERSION;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("GLASSKEEP_REQUIRE_PY_VERIFIER").is_none(),
            "python3 with the cryptography module is required"
        );
        eprintln!("SKIPPED: python3 with the cryptography module is not available");
    }
    ok
}

/// ok, class, seq and the exit status of one verifier.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    ok: bool,
    class: Option<String>,
    seq: Option<u64>,
    exit: i32,
}

fn run(cmd: &mut Command, pick: impl Fn(&Value) -> (Option<String>, Option<u64>)) -> Verdict {
    let out = cmd.output().expect("verifier runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let (class, seq) = pick(&v);
    Verdict {
        ok: v["ok"].as_bool().expect("ok is a bool"),
        class,
        seq,
        exit: out.status.code().unwrap_or(-1),
    }
}

/// Both verifiers on `bytes`; `extra` are flags both understand (`--training`, `--anchor`).
fn both(dir: &Path, bytes: &[u8], extra: &[&str]) -> (Verdict, Verdict) {
    std::fs::write(dir.join("ceremony.log"), bytes).unwrap();
    let mut cli = Command::new(BIN);
    cli.arg("--dir")
        .arg(dir)
        .args(["log", "verify", "--json"])
        .args(extra);
    let cli = run(&mut cli, |v| {
        let f = &v["failure"];
        (f["class"].as_str().map(str::to_owned), f["seq"].as_u64())
    });
    let mut py = Command::new("python3");
    py.arg(root().join("tests/independent-verifier/verify_log.py"))
        .arg(dir.join("ceremony.log"))
        .arg(format!("--format-version={FORMAT_VERSION}"))
        .args(extra);
    let py = run(&mut py, |v| {
        (v["class"].as_str().map(str::to_owned), v["seq"].as_u64())
    });
    (cli, py)
}

fn vector_logs() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(root().join("tests/vectors/log/logs.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let name = l["name"].as_str().unwrap().to_owned();
            let hex = l["log"].as_str().unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (name, bytes)
        })
        .collect()
}

/// The flag sets each log is verified under: version 2 fails a training custody unless
/// `--training` is given, so both ways are compared; version 1 has no such flag.
fn flag_sets() -> Vec<Vec<&'static str>> {
    if FORMAT_VERSION >= 2 {
        vec![vec!["--training"], vec![]]
    } else {
        vec![vec![]]
    }
}

/// Frames of a log image: (offset, CBOR length).
fn frames(log: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= log.len() {
        let len = u32::from_be_bytes(log[at + 4..at + 8].try_into().unwrap()) as usize;
        if at + 8 + len + 32 > log.len() {
            break;
        }
        out.push((at, len));
        at += 8 + len + 32;
    }
    out
}

/// Mutations of a valid log: bits flipped at rest, bytes edited by a writer who
/// recomputes the frame hash, truncations and appended bytes.
fn mutations(log: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let step = (log.len() / 60).max(1);
    for at in (0..log.len())
        .step_by(step)
        .chain([1, 3, 4, 7, 8, 9, 10, 11, log.len() - 1])
    {
        let mut m = log.to_vec();
        m[at] ^= 0x10;
        out.push((format!("bit 4 of byte {at} flipped"), m));
    }
    for (i, &(off, len)) in frames(log).iter().enumerate() {
        for rel in [0, 1, 2, 11, 40, 46, 47, 48, len / 2, len.saturating_sub(1)] {
            if rel >= len {
                continue;
            }
            let mut m = log.to_vec();
            m[off + 8 + rel] ^= 0x01;
            let cbor = m[off + 8..off + 8 + len].to_vec();
            let mut h = Sha256::new();
            h.update(b"glasskeep/v1/entry\0");
            h.update(&cbor);
            m[off + 8 + len..off + 8 + len + 32].copy_from_slice(&h.finalize());
            out.push((format!("entry {i}, byte {rel} edited, frame recomputed"), m));
        }
    }
    for cut in [1, 5, 8, 31, 32, 33, 40, log.len() / 2, log.len() - 4] {
        out.push((format!("first {cut} bytes"), log[..cut].to_vec()));
    }
    for tail in [
        &b"G"[..],
        b"GKL1",
        b"GKL1\0\0",
        b"XXXXXXXXXX",
        &[0u8; 48][..],
    ] {
        out.push((
            format!("{} bytes appended", tail.len()),
            [log, tail].concat(),
        ));
    }
    out
}

#[test]
fn both_verifiers_agree_on_every_vector_log_and_mutation() {
    if !python_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let logs = vector_logs();
    let valid = logs
        .iter()
        .find(|(n, _)| n == "valid")
        .expect("a valid vector log")
        .1
        .clone();
    let mut cases: Vec<(String, Vec<u8>)> = logs;
    cases.extend(mutations(&valid));
    let mut disagreements = Vec::new();
    let mut count = 0;
    for flags in flag_sets() {
        for (name, bytes) in &cases {
            let (cli, py) = both(tmp.path(), bytes, &flags);
            count += 1;
            if cli != py {
                disagreements.push(format!("{name} {flags:?}:\n  cli {cli:?}\n  py  {py:?}"));
            }
        }
    }
    println!(
        "{count} verifications compared, {} disagreements",
        disagreements.len()
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn both_verifiers_agree_on_the_anchor() {
    if !python_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let logs = vector_logs();
    let valid = &logs.iter().find(|(n, _)| n == "valid").unwrap().1;
    let fr = frames(valid);
    let trailer = |i: usize| {
        let (off, len) = fr[i];
        valid[off + 8 + len..off + 8 + len + 32]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let flags = flag_sets().remove(0);
    for anchor in [trailer(fr.len() - 1), trailer(2), "00".repeat(32)] {
        let mut args = flags.clone();
        args.extend(["--anchor", anchor.as_str()]);
        let (cli, py) = both(tmp.path(), valid, &args);
        assert_eq!(cli, py, "anchor {anchor}");
    }
}

/// A training log with real attestation chains under the simulator's root, written by
/// tests/independent-verifier/make_training_log.py from FORMAT.md.
fn training_log(dir: &Path, variant: &str) -> Vec<u8> {
    let out = dir.join(format!("{variant}.log"));
    let status = Command::new("python3")
        .arg(root().join("tests/independent-verifier/make_training_log.py"))
        .arg(&out)
        .arg(format!("--format-version={FORMAT_VERSION}"))
        .arg(format!("--variant={variant}"))
        .status()
        .expect("python3 runs");
    assert!(status.success(), "make_training_log.py {variant}");
    std::fs::read(out).unwrap()
}

#[test]
fn both_verifiers_agree_past_the_attestations() {
    if !python_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let valid = training_log(tmp.path(), "valid");
    let mut cases = vec![("valid".to_string(), valid.clone())];
    for variant in ["bad-serial", "stranger", "bad-signature"] {
        cases.push((variant.to_string(), training_log(tmp.path(), variant)));
    }
    // Every prefix ending at a frame boundary is a log of its own: each has another
    // tail, another set of open obligations, another first policy finding.
    for (i, &(off, len)) in frames(&valid).iter().enumerate() {
        cases.push((
            format!("first {} entries", i + 1),
            valid[..off + 8 + len + 32].to_vec(),
        ));
    }
    cases.extend(mutations(&valid));
    let mut disagreements = Vec::new();
    let mut passed = 0;
    for flags in flag_sets() {
        for (name, bytes) in &cases {
            let (cli, py) = both(tmp.path(), bytes, &flags);
            passed += usize::from(cli.ok);
            if cli != py {
                disagreements.push(format!("{name} {flags:?}:\n  cli {cli:?}\n  py  {py:?}"));
            }
        }
    }
    println!("{} cases, {passed} verified ok by both", cases.len());
    assert!(passed > 0, "the valid training log must verify");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
