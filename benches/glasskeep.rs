//! criterion benchmarks of the work glasskeep does besides waiting for people and
//! cards: split + seal per envelope, unseal per share, combine, log append, log verify
//! per entry next to its bound (raw P-256 ECDSA verifications and SHA-256 measured in
//! the same process), replay, envelope render and decode. `scripts/bench.sh` runs them
//! and writes docs/BENCHMARKS.md from criterion's estimates.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

use glasskeep_core::envelope::render::{render, Format, Paper};
use glasskeep_core::envelope::{scan, Envelope};
use glasskeep_core::log::{replay_bytes, verify, Hash, VerifyOptions};
use glasskeep_core::piv::{Algorithm, Slot};
use glasskeep_core::seal::{self, CardError, KeyAgreement, PivP256Identity, PivP256Recipient};
use glasskeep_core::secret::SecretBytes;
use glasskeep_core::shamir::{self, SetId, Share};
use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::Signature;
use p256::elliptic_curve::sec1::ToSec1Point;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

#[path = "support/trainlog.rs"]
mod trainlog;

/// A seal key held in software, answering as a card's ECDH would (the card's own time
/// is measured through pcscd by tests/pcscd_apdu_counts.rs and scripts/bench.sh).
struct SoftCard(p256::SecretKey);

impl KeyAgreement for SoftCard {
    fn serial(&self) -> u32 {
        1001
    }
    fn public_key(&mut self, _slot: Slot) -> Result<Option<(Algorithm, Vec<u8>)>, CardError> {
        let p = self.0.public_key().to_sec1_point(false);
        Ok(Some((Algorithm::P256, p.as_bytes().to_vec())))
    }
    fn ecdh(&mut self, _slot: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
        let peer = p256::PublicKey::from_sec1_bytes(peer).map_err(CardError::new)?;
        let shared = p256::ecdh::diffie_hellman(self.0.to_nonzero_scalar(), peer.as_affine());
        Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
    }
}

fn soft_card() -> SoftCard {
    let seed: [u8; 32] = Sha256::digest(b"glasskeep-bench/seal").into();
    SoftCard(p256::SecretKey::from_slice(&seed).expect("a valid scalar"))
}

fn recipient(card: &SoftCard) -> PivP256Recipient {
    let p = card.0.public_key().to_sec1_point(true);
    PivP256Recipient::from_compressed(p.as_bytes()).expect("a valid point")
}

fn shares_and_seal(c: &mut Criterion) {
    let card = soft_card();
    let to = recipient(&card);
    let secret = SecretBytes::from_slice(b"correct horse battery staple");
    c.bench_function("split_seal_per_envelope", |b| {
        b.iter(|| {
            let set = shamir::split(&secret, "aws-root", 2, 3).expect("split");
            for s in &set.shares {
                black_box(seal::seal(&s.encode(), &to).expect("seal"));
            }
        })
    });
    let set = shamir::split(&secret, "aws-root", 2, 3).expect("split");
    let sealed = seal::seal(&set.shares[0].encode(), &to).expect("seal");
    let mut card = card;
    c.bench_function("unseal_per_share", |b| {
        b.iter(|| {
            let id = PivP256Identity::new(&mut card, Slot::RETIRED1, to.clone()).expect("identity");
            black_box(seal::unseal(&sealed, &id).expect("unseal"))
        })
    });
    let two: Vec<&Share> = set.shares.iter().take(2).collect();
    c.bench_function("combine", |b| {
        b.iter(|| black_box(shamir::combine(&two, &set.payload).expect("combine")))
    });
}

fn log(c: &mut Criterion) {
    let (small, n) = trainlog::training_log(1_000);
    let opts = VerifyOptions {
        training: true,
        lenient: true,
        ..VerifyOptions::default()
    };
    let checker = trainlog::attestation();
    assert!(
        verify(&small, &checker, &opts).ok,
        "the generated log verifies"
    );
    let mut g = c.benchmark_group("log");
    // A verification of 1,000 entries takes a good part of a second.
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("verify_1000", |b| {
        b.iter(|| black_box(verify(&small, &checker, &opts)))
    });
    g.bench_function("replay_1000", |b| {
        b.iter(|| black_box(replay_bytes(&small)))
    });
    g.finish();
    let mut g = c.benchmark_group("log_append");
    g.throughput(Throughput::Elements(1));
    g.bench_function("frame_and_apply", |b| {
        b.iter_batched(
            || trainlog::training_log(40),
            |(bytes, _)| black_box(replay_bytes(&bytes)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
    // Logs of 10,000 and 100,000 entries take seconds per verification: they are timed
    // by examples/bench_data.rs (`verify`), a few runs each next to the raw primitives.
}

/// The bound log verification is compared with: the raw primitives it cannot avoid.
fn primitives(c: &mut Criterion) {
    let key = trainlog::key("alice");
    let digest: Hash = Sha256::digest(b"glasskeep-bench/digest").into();
    let sig: Signature = key.sign_prehash(&digest).expect("sign");
    let vk = *key.verifying_key();
    let entry = vec![0xa5u8; 200];
    let mut g = c.benchmark_group("raw");
    g.throughput(Throughput::Elements(1));
    g.bench_function("p256_verify", |b| {
        b.iter(|| black_box(vk.verify_prehash(black_box(&digest), &sig).is_ok()))
    });
    g.bench_function("sha256_200B", |b| {
        b.iter(|| black_box(Sha256::digest(black_box(&entry))))
    });
    g.finish();
}

fn envelope() -> Envelope {
    Envelope {
        set_id: SetId([0x42; 16]),
        label: "aws-root".into(),
        organisation: "Example Org".into(),
        custodian: "alice".into(),
        serial: 1_001,
        index: 1,
        threshold: 2,
        count: 3,
        created: 1_795_000_000,
        training: true,
        sealed_share: (0..320u32).map(|i| (i * 31 + 7) as u8).collect(),
        seal_slot: Some(glasskeep_core::piv::Slot::RETIRED1),
        payload: (0..64u32).map(|i| (i * 17) as u8).collect(),
    }
}

fn envelopes(c: &mut Criterion) {
    let env = envelope();
    let mut g = c.benchmark_group("envelope");
    g.sample_size(20);
    g.bench_function("render_pdf", |b| {
        b.iter(|| black_box(render(&env, Format::Pdf, Paper::A4).expect("pdf")))
    });
    g.bench_function("render_png", |b| {
        b.iter(|| black_box(render(&env, Format::Png, Paper::A4).expect("png")))
    });
    let png = render(&env, Format::Png, Paper::A4).expect("png");
    g.bench_function("decode_qr_image", |b| {
        b.iter(|| black_box(scan::decode_image(&png).expect("scan")))
    });
    let txt = String::from_utf8(render(&env, Format::Txt, Paper::A4).expect("txt")).expect("utf-8");
    g.bench_function("decode_text", |b| {
        b.iter(|| black_box(scan::decode_text(&txt).expect("text")))
    });
    g.finish();
}

criterion_group!(benches, shares_and_seal, log, primitives, envelopes);
criterion_main!(benches);
