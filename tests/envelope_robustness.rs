//! The text and QR decoders refuse mangled input without panicking, and whatever they
//! accept round-trips (the property the fuzz targets check, run here on every build).

use glasskeep_core::envelope::{qr, text};
use rand_chacha::rand_core::{Rng, SeedableRng};

const NOISE: &[char] = &[
    '0', 'O', 'l', 'U', ':', ' ', '\n', 'é', '—', 'G', 'K', '/', 'E', 'N', 'D', '1', '€',
];

fn mutate(rng: &mut rand_chacha::ChaCha8Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..1 + rng.next_u32() % 4 {
        if chars.is_empty() {
            break;
        }
        let at = rng.next_u32() as usize % chars.len();
        let c = NOISE[rng.next_u32() as usize % NOISE.len()];
        match rng.next_u32() % 3 {
            0 => chars[at] = c,
            1 => chars.insert(at, c),
            _ => {
                chars.remove(at);
            }
        }
    }
    chars.into_iter().collect()
}

fn sample() -> Vec<u8> {
    (0..1500u32).map(|i| (i * 7 + i / 3) as u8).collect()
}

#[test]
fn mangled_text_is_refused_or_round_trips() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let good = text::encode_lines(&sample()).join("\n");
    for _ in 0..3_000 {
        let bad = mutate(&mut rng, &good);
        if let Ok(bytes) = text::decode_bytes(&bad) {
            let again = text::encode_lines(&bytes).join("\n");
            assert_eq!(text::decode_bytes(&again).unwrap(), bytes);
        }
    }
}

#[test]
fn mangled_qr_parts_are_refused_or_round_trip() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let good = qr::encode_parts(&sample()).unwrap().join("\n");
    for _ in 0..3_000 {
        let bad = mutate(&mut rng, &good);
        let parts: Vec<&str> = bad.lines().collect();
        if let Ok(bytes) = qr::assemble(&parts) {
            assert_eq!(bytes, sample(), "a mangled set reassembled to other bytes");
        }
    }
}
