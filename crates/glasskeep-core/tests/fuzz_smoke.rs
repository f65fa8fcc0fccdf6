//! The fuzz smoke: every fuzz target of `fuzz/` runs here on every `cargo test`, without
//! libFuzzer (whose build takes too long for CI): first on each hand-written seed
//! (`fuzz/seeds/<target>/`) and each input a libFuzzer campaign kept
//! (`fuzz/corpus/<target>/`, minimized and committed), then on mutations of them until
//! its time is up (`GLASSKEEP_FUZZ_SMOKE_SECS`, 20 seconds by default). An input that
//! panics is saved under `target/fuzz-smoke/<target>/` and named in the failure.

use std::path::{Path, PathBuf};
use std::time::Duration;

use glasskeep_core::fuzzing::{smoke, TARGETS};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files of `dir`, in name order (none when it does not exist).
fn inputs(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn budget() -> Duration {
    let secs = std::env::var("GLASSKEEP_FUZZ_SMOKE_SECS")
        .ok()
        .map(|s| s.parse().expect("GLASSKEEP_FUZZ_SMOKE_SECS: whole seconds"))
        .unwrap_or(20);
    Duration::from_secs(secs)
}

fn smoke(name: &str) {
    let (_, target) = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fuzz target {name}"));
    let mut all = inputs(&root().join("fuzz/seeds").join(name));
    all.extend(inputs(&root().join("fuzz/corpus").join(name)));
    let save = root().join("target/fuzz-smoke").join(name);
    let runs = smoke::run_for(*target, &all, budget(), &save);
    eprintln!("{name}: {} stored inputs, {runs} runs", all.len());
    assert!(runs >= all.len() as u64);
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                smoke(stringify!($name));
            }
        )*

        #[test]
        fn every_fuzz_target_runs_here() {
            let here = [$(stringify!($name)),*];
            let listed: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
            assert_eq!(here.as_slice(), listed.as_slice());
            let mut files: Vec<String> = std::fs::read_dir(root().join("fuzz/fuzz_targets"))
                .unwrap()
                .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
                .collect();
            files.sort();
            assert_eq!(files, listed, "fuzz/fuzz_targets/ and fuzzing::TARGETS differ");
        }
    };
}

targets!(
    anchor,
    attestation,
    base45,
    card_tlv,
    cbor,
    document,
    envelope,
    log_entry,
    log_file,
    ocr_text,
    payload,
    plan,
    qr_parts,
    recipient_and_stub,
    scan_image,
    sealed_share,
    share,
    text_fallback,
);
