//! Figures for `scripts/bench.sh` that criterion does not give: a generated training
//! log for timing `glasskeep status` as a whole process, the paper density of envelopes
//! per secret size, and `log verify` of large logs next to the raw primitives.
//!
//! ```sh
//! cargo run --release --example bench_data -- log 10000 DIR      # writes DIR/ceremony.log
//! cargo run --release --example bench_data -- paper              # one DENSITY line per size
//! cargo run --release --example bench_data -- verify 10000 100000 # RAW, then one VERIFY line per size
//! ```
//!
//! Large logs are timed here rather than by criterion, whose ten samples at least
//! would take ten minutes for 100,000 entries on a slow machine: a few runs each, the
//! median reported, with the bound's primitives timed in the same process.
//!
//! The log comes from the benchmarks' generator (benches/support/trainlog.rs): software
//! sign keys and placeholder attestations. `status` replays the log without checking
//! signatures or attestations, so it reads such a log as it reads a real one.

use std::hint::black_box;
use std::time::{Duration, Instant};

use glasskeep_core::envelope::qr::{
    envelope_to_parts, BYTES_PER_PART, MAX_CHARS_PER_CODE, QR_VERSION,
};
use glasskeep_core::envelope::render::{render, Format, Paper};
use glasskeep_core::envelope::text::envelope_to_lines;
use glasskeep_core::envelope::Envelope;
use glasskeep_core::log::checkpoint::signature_valid;
use glasskeep_core::log::{verify, Hash, VerifyOptions};
use glasskeep_core::seal::{self, PivP256Recipient};
use glasskeep_core::secret::SecretBytes;
use glasskeep_core::shamir;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::Signature;
use p256::elliptic_curve::sec1::ToSec1Point;
use sha2::{Digest, Sha256};

#[path = "../benches/support/trainlog.rs"]
mod trainlog;

/// Secret sizes the issue asks about: a key, a recovery-code sheet, a key file, and the
/// largest payload an envelope takes.
const SIZES: [usize; 4] = [32, 256, 4 * 1024, 64 * 1024];

/// ISO/IEC 18004 capacity of a version-20 symbol at level M: alphanumeric characters
/// and 8-bit bytes (the standard's table; glasskeep's codes use alphanumeric mode).
const STANDARD_ALNUM_20M: usize = 970;
const STANDARD_BYTES_20M: usize = 666;

fn usage() -> ! {
    eprintln!(
        "usage: bench_data log ENTRIES DIR | bench_data paper | bench_data verify ENTRIES..."
    );
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["log", n, dir] => {
            let n: usize = n.parse().unwrap_or_else(|_| usage());
            let (bytes, entries) = trainlog::training_log(n);
            let path = std::path::Path::new(dir).join("ceremony.log");
            std::fs::write(&path, &bytes).expect("write the generated log");
            println!("LOG entries={entries} bytes={}", bytes.len());
        }
        ["paper"] => paper(),
        ["verify", sizes @ ..] if !sizes.is_empty() => {
            let sizes: Vec<usize> = sizes
                .iter()
                .map(|n| n.parse().unwrap_or_else(|_| usage()))
                .collect();
            verify_speed(&sizes);
        }
        _ => usage(),
    }
}

fn recipient() -> PivP256Recipient {
    let seed: [u8; 32] = Sha256::digest(b"glasskeep-bench/paper").into();
    let key = p256::SecretKey::from_slice(&seed).expect("a valid scalar");
    let point = key.public_key().to_sec1_point(true);
    PivP256Recipient::from_compressed(point.as_bytes()).expect("a valid point")
}

/// One envelope per size, made the way `seal` makes them (split 2-of-3, the first
/// share sealed to a P-256 recipient), measured on paper.
fn paper() {
    assert_eq!(MAX_CHARS_PER_CODE, STANDARD_ALNUM_20M, "QR capacity table");
    let to = recipient();
    for size in SIZES {
        let secret = SecretBytes::from_slice(&vec![0x5a; size]);
        let set = shamir::split(&secret, "aws-root", 2, 3).expect("split");
        let share = &set.shares[0];
        let envelope = Envelope {
            set_id: set.payload.set_id,
            label: "aws-root".into(),
            organisation: "Example Corp".into(),
            custodian: "alice".into(),
            serial: 1001,
            index: share.index,
            threshold: share.threshold,
            count: share.count,
            created: 1_795_000_000,
            training: true,
            sealed_share: seal::seal(&share.encode(), &to).expect("seal"),
            seal_slot: Some(glasskeep_core::piv::Slot::RETIRED1),
            payload: set.payload.encode(),
        };
        let bytes = envelope.encode().expect("encode").len();
        let parts = envelope_to_parts(&envelope).expect("qr parts");
        let fullest = parts.iter().map(String::len).max().unwrap_or(0);
        // The numbered lines someone types; the END line after them is not counted.
        let lines = envelope_to_lines(&envelope).expect("text lines").len() - 1;
        let pdf = render(&envelope, Format::Pdf, Paper::A4).expect("pdf");
        println!(
            "DENSITY secret={size} envelope_bytes={bytes} qr_version={QR_VERSION} ec=M qr_codes={} \
             fullest_code_chars={fullest} bytes_per_full_code={BYTES_PER_PART} standard_alnum={STANDARD_ALNUM_20M} standard_bytes={STANDARD_BYTES_20M} \
             pages={} text_lines={lines}",
            parts.len(),
            pdf_pages(&pdf)
        );
    }
}

/// Pages in a PDF: its `/Type /Page` objects (the page tree is `/Type /Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count()
}

/// Runs per large log; the median is reported.
const VERIFY_RUNS: usize = 3;
/// Batches timed for each raw primitive around every run; the median batch is reported.
const RAW_BATCHES: usize = 3;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The times of `batches` batches of `per_batch` calls of `op`, each divided by
/// `per_batch`.
fn per_op(batches: usize, per_batch: u32, mut op: impl FnMut()) -> Vec<Duration> {
    (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                op();
            }
            t.elapsed() / per_batch
        })
        .collect()
}

/// `log verify` of generated logs of each size (`training`, lenient: the generated
/// deadlines are long past) and the raw P-256 verification and SHA-256 of a 200-byte
/// entry, all in this one process. The raw batches are timed right before each run and
/// after the last, so a machine that speeds up or slows down under other people's work
/// moves the bound with the runs it is compared to. Every run must verify.
fn verify_speed(sizes: &[usize]) {
    let key = trainlog::key("alice");
    let digest: Hash = Sha256::digest(b"glasskeep-bench/digest").into();
    let sig: Signature = key.sign_prehash(&digest).expect("sign");
    // r || s, low s, as a checkpoint stores it; checked the way `log verify` checks it.
    let sig: [u8; 64] = sig.normalize_s().to_bytes().into();
    let vk = *key.verifying_key();
    let entry = [0xa5u8; 200];
    let mut ecdsa = Vec::new();
    let mut sha = Vec::new();
    let raw = |ecdsa: &mut Vec<Duration>, sha: &mut Vec<Duration>| {
        ecdsa.extend(per_op(RAW_BATCHES, 100, || {
            black_box(signature_valid(&vk, black_box(&digest), &sig));
        }));
        sha.extend(per_op(RAW_BATCHES, 10_000, || {
            black_box(Sha256::digest(black_box(&entry)));
        }));
    };
    let opts = VerifyOptions {
        training: true,
        lenient: true,
        ..VerifyOptions::default()
    };
    let checker = trainlog::attestation();
    for &size in sizes {
        let (bytes, entries) = trainlog::training_log(size);
        let mut signatures = 0;
        let (mut size_ecdsa, mut size_sha) = (Vec::new(), Vec::new());
        let mut runs = Vec::new();
        for _ in 0..VERIFY_RUNS {
            raw(&mut size_ecdsa, &mut size_sha);
            let t = Instant::now();
            let report = verify(black_box(&bytes), &checker, &opts);
            runs.push(t.elapsed());
            assert!(report.ok, "the generated log verifies: {report}");
            signatures = report.signatures;
        }
        raw(&mut size_ecdsa, &mut size_sha);
        ecdsa.extend(&size_ecdsa);
        sha.extend(&size_sha);
        println!(
            "VERIFY entries={entries} signatures={signatures} runs={VERIFY_RUNS} median_ns={} p256_verify_ns={} sha256_200B_ns={}",
            median(runs).as_nanos(),
            median(size_ecdsa).as_nanos(),
            median(size_sha).as_nanos()
        );
    }
    println!(
        "RAW p256_verify_ns={} sha256_200B_ns={}",
        median(ecdsa).as_nanos(),
        median(sha).as_nanos()
    );
}
