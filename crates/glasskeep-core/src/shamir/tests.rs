#![allow(clippy::needless_range_loop)] // index loops read closer to the statistics they compute
use super::*;
use rand::rand_core::{Infallible, SeedableRng, TryCryptoRng, TryRng};
use rand::{Rng, RngExt};
use rand_chacha::ChaCha20Rng;

fn secret(b: &[u8]) -> SecretBytes {
    SecretBytes::from_slice(b)
}

fn seeded(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

fn make(t: usize, n: usize, seed: u8) -> ShareSet {
    split_with_rng(
        &secret(b"correct horse battery staple"),
        "aws-root",
        t,
        n,
        SetId([seed; 16]),
        &mut seeded(seed),
    )
    .unwrap()
}

/// Calls `f` with every ordered arrangement of every k-subset of `items`.
fn for_each_arrangement(items: &[usize], k: usize, f: &mut impl FnMut(&[usize])) {
    fn go(
        items: &[usize],
        k: usize,
        used: &mut Vec<bool>,
        cur: &mut Vec<usize>,
        f: &mut impl FnMut(&[usize]),
    ) {
        if cur.len() == k {
            f(cur);
            return;
        }
        for i in 0..items.len() {
            if !used[i] {
                used[i] = true;
                cur.push(items[i]);
                go(items, k, used, cur, f);
                cur.pop();
                used[i] = false;
            }
        }
    }
    go(items, k, &mut vec![false; items.len()], &mut Vec::new(), f);
}

#[test]
fn every_subset_in_every_order_reconstructs_for_n_up_to_7() {
    let mut checked = 0usize;
    for n in 2..=7usize {
        for t in 2..=n {
            let set = make(t, n, (t * 10 + n) as u8);
            let all: Vec<usize> = (0..n).collect();
            for k in 1..=n {
                for_each_arrangement(&all, k, &mut |idx| {
                    let chosen: Vec<&Share> = idx.iter().map(|&i| &set.shares[i]).collect();
                    let r = combine(&chosen, &set.payload);
                    if k < t {
                        assert_eq!(
                            r.unwrap_err(),
                            CombineError::NotEnoughShares { have: k, need: t }
                        );
                    } else {
                        assert_eq!(r.unwrap().expose(), b"correct horse battery staple");
                    }
                    checked += 1;
                });
            }
        }
    }
    // Sum over n, t of the ordered arrangements: a fixed number, so a loop that
    // silently skipped cases would fail here.
    assert_eq!(checked, 93_500);
}

#[test]
fn ten_thousand_random_subsets_of_255_shares_reconstruct() {
    let mut rng = seeded(99);
    let mut done = 0;
    for (t, rounds) in [
        (2usize, 4000usize),
        (3, 3000),
        (5, 2000),
        (17, 800),
        (128, 150),
        (255, 50),
    ] {
        let set = make(t, 255, t as u8);
        for _ in 0..rounds {
            // A random t-subset in random order (partial Fisher-Yates).
            let mut idx: Vec<usize> = (0..255).collect();
            for i in 0..t {
                let j = rng.random_range(i..255);
                idx.swap(i, j);
            }
            let chosen: Vec<&Share> = idx[..t].iter().map(|&i| &set.shares[i]).collect();
            assert_eq!(
                combine(&chosen, &set.payload).unwrap().expose(),
                b"correct horse battery staple"
            );
            done += 1;
        }
    }
    assert_eq!(done, 10_000);
}

/// Feeds vsss-rs chosen coefficients: each `next_u32` returns the next queued value.
struct ScriptedRng(std::collections::VecDeque<u32>);

impl TryRng for ScriptedRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.pop_front().expect("scripted generator ran dry"))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(u64::from(self.try_next_u32()?))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for b in dst {
            *b = self.try_next_u32()? as u8;
        }
        Ok(())
    }
}
impl TryCryptoRng for ScriptedRng {}

#[test]
fn one_share_of_a_2_of_n_split_is_exactly_uniform_whatever_the_secret() {
    // Exact enumeration: for t = 2 the only coefficient is one byte; running vsss-rs
    // with each of the 256 values, every share position must take every byte value
    // exactly once, for secret 0x00 and for 0xFF alike. One share reveals nothing.
    for s in [0x00u8, 0xff] {
        let mut seen = vec![[0u16; 256]; 255];
        for a in 0..=255u32 {
            let mut rng = ScriptedRng([a].into_iter().collect());
            let shares = Gf256::split_bytes(2, 255, [s], &mut rng).unwrap();
            for (pos, sh) in shares.iter().enumerate() {
                assert_eq!(usize::from(sh[0]), pos + 1);
                seen[pos][usize::from(sh[1])] += 1;
            }
        }
        for hist in &seen {
            assert!(
                hist.iter().all(|&c| c == 1),
                "share value not uniform for secret {s:#04x}"
            );
        }
    }
}

#[test]
fn t_minus_one_shares_are_distributed_alike_for_opposite_secrets() {
    // 10^5 splits (3-of-5, 4-byte secrets) of all-0x00 and all-0xFF; for each of the
    // t-1 = 2 shares and each byte, a two-sample chi-squared test over 256 bins.
    // 8 tests at alpha 0.001 with Bonferroni: per-test alpha 1.25e-4, df = 255,
    // critical value 346.15 (Wilson-Hilferty with z = 3.6623).
    const SPLITS: usize = 100_000;
    const CRITICAL: f64 = 346.15;
    let mut hists = [[[[0u32; 256]; 4]; 2]; 2];
    for (si, secret) in [[0x00u8; 4], [0xffu8; 4]].iter().enumerate() {
        let mut rng = seeded(7 + si as u8);
        for _ in 0..SPLITS {
            let shares = Gf256::split_bytes(3, 5, secret, &mut rng).unwrap();
            for sh in 0..2 {
                for byte in 0..4 {
                    hists[si][sh][byte][usize::from(shares[sh][1 + byte])] += 1;
                }
            }
        }
    }
    let mut worst: f64 = 0.0;
    for sh in 0..2 {
        for byte in 0..4 {
            let (a, b) = (&hists[0][sh][byte], &hists[1][sh][byte]);
            // Equal sample sizes: chi2 = sum (a-b)^2 / (a+b).
            let chi2: f64 = a
                .iter()
                .zip(b)
                .filter(|(x, y)| **x + **y > 0)
                .map(|(&x, &y)| {
                    let d = f64::from(x) - f64::from(y);
                    d * d / f64::from(x + y)
                })
                .sum();
            worst = worst.max(chi2);
            assert!(
                chi2 < CRITICAL,
                "share {sh} byte {byte}: chi2 {chi2:.1} >= {CRITICAL}"
            );
        }
    }
    // The test can fail: a biased splitter (e.g. coefficients from 1..=255, as in
    // RUSTSEC-2024-0398) shifts the histograms; see the test below.
    assert!(worst > 150.0, "implausibly uniform: {worst}");
}

#[test]
fn the_chi_squared_test_detects_a_biased_coefficient_source() {
    // The same statistic on a deliberately broken splitter (coefficient never 0) must
    // exceed the critical value, so the test above is able to fail.
    let mut rng = seeded(3);
    let mut h = [[0u32; 256]; 2];
    for (si, s) in [0x00u8, 0xff].iter().enumerate() {
        for _ in 0..100_000 {
            let a = 1 + (rng.next_u32() % 255) as u8;
            // y = s + a*1 in GF(256) at x = 1.
            h[si][usize::from(s ^ a)] += 1;
        }
    }
    let chi2: f64 = h[0]
        .iter()
        .zip(&h[1])
        .filter(|(x, y)| **x + **y > 0)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d / f64::from(x + y)
        })
        .sum();
    assert!(chi2 > 346.15, "bias not detected: {chi2}");
}

#[test]
fn split_refuses_bad_parameters() {
    let s = secret(b"x");
    let mut r = seeded(1);
    let id = SetId([0; 16]);
    assert_eq!(
        split_with_rng(&s, "l", 1, 3, id, &mut r).unwrap_err(),
        SplitError::ThresholdBelowTwo { threshold: 1 }
    );
    assert_eq!(
        split_with_rng(&s, "l", 0, 3, id, &mut r).unwrap_err(),
        SplitError::ThresholdBelowTwo { threshold: 0 }
    );
    assert_eq!(
        split_with_rng(&s, "l", 4, 3, id, &mut r).unwrap_err(),
        SplitError::ThresholdAboveCount {
            threshold: 4,
            count: 3
        }
    );
    assert_eq!(
        split_with_rng(&s, "l", 2, 256, id, &mut r).unwrap_err(),
        SplitError::CountAbove255 { count: 256 }
    );
    assert_eq!(
        split_with_rng(&secret(b""), "l", 2, 3, id, &mut r).unwrap_err(),
        SplitError::EmptySecret
    );
    let big = secret(&vec![1u8; MAX_SECRET_LEN + 1]);
    assert_eq!(
        split_with_rng(&big, "l", 2, 3, id, &mut r).unwrap_err(),
        SplitError::SecretTooLong {
            len: MAX_SECRET_LEN + 1,
            max: MAX_SECRET_LEN
        }
    );
    assert_eq!(
        split_with_rng(&s, "", 2, 3, id, &mut r).unwrap_err(),
        SplitError::BadLabel
    );
    assert_eq!(
        split_with_rng(&s, "a\nb", 2, 3, id, &mut r).unwrap_err(),
        SplitError::BadLabel
    );
    let long = "x".repeat(MAX_LABEL_LEN + 1);
    assert_eq!(
        split_with_rng(&s, &long, 2, 3, id, &mut r).unwrap_err(),
        SplitError::BadLabel
    );
}

#[test]
fn limits_are_inclusive() {
    let mut r = seeded(2);
    let max = secret(&vec![0xabu8; MAX_SECRET_LEN]);
    let set = split_with_rng(&max, "big", 2, 2, SetId([1; 16]), &mut r).unwrap();
    let all: Vec<&Share> = set.shares.iter().collect();
    assert_eq!(combine(&all, &set.payload).unwrap().len(), MAX_SECRET_LEN);
    assert_eq!(set.payload.secret_len(), MAX_SECRET_LEN);
    let one = split_with_rng(&secret(b"z"), "one", 255, 255, SetId([2; 16]), &mut r).unwrap();
    assert_eq!(one.shares.len(), 255);
    assert_eq!(one.shares[254].index, 255);
    let all: Vec<&Share> = one.shares.iter().collect();
    assert_eq!(combine(&all, &one.payload).unwrap().expose(), b"z");
}

#[test]
fn duplicate_share_is_refused() {
    let set = make(2, 3, 1);
    let r = combine(&[&set.shares[0], &set.shares[0]], &set.payload);
    assert_eq!(r.unwrap_err(), CombineError::DuplicateIndex { index: 1 });
}

#[test]
fn shares_of_another_set_are_refused_before_combining() {
    let a = make(2, 3, 1);
    let b = make(2, 3, 2);
    assert_eq!(
        combine(&[&a.shares[0], &b.shares[1]], &a.payload).unwrap_err(),
        CombineError::DifferentSets {
            index: 2,
            expected: a.payload.set_id,
            found: b.payload.set_id
        }
    );
    // A share of the same set id but another payload (re-sealed, forged) is caught by
    // its payload digest.
    let mut forged = Share::decode(&b.shares[1].encode()).unwrap();
    forged.set_id = a.payload.set_id;
    assert_eq!(
        combine(&[&a.shares[0], &forged], &a.payload).unwrap_err(),
        CombineError::InconsistentShare { index: 2 }
    );
}

#[test]
fn not_enough_shares_says_have_and_need() {
    let set = make(3, 5, 4);
    assert_eq!(
        combine(&[&set.shares[0], &set.shares[1]], &set.payload).unwrap_err(),
        CombineError::NotEnoughShares { have: 2, need: 3 }
    );
    assert_eq!(
        combine(&[], &set.payload).unwrap_err(),
        CombineError::NotEnoughShares { have: 0, need: 3 }
    );
}

fn corrupt(s: &Share) -> Share {
    let mut c = Share::decode(&s.encode()).unwrap();
    // A different error per share: equal errors can cancel in the interpolation.
    c.value[5] ^= 0x40 ^ s.index;
    c
}

#[test]
fn a_wrong_share_among_exactly_t_fails_authentication() {
    let set = make(2, 3, 5);
    let bad = corrupt(&set.shares[1]);
    assert_eq!(
        combine(&[&set.shares[0], &bad], &set.payload).unwrap_err(),
        CombineError::ReconstructionFailed
    );
}

#[test]
fn with_more_than_t_shares_the_bad_one_is_named() {
    let set = make(2, 4, 6);
    for bad_pos in 0..4 {
        let bad = corrupt(&set.shares[bad_pos]);
        let chosen: Vec<&Share> = (0..4)
            .map(|i| if i == bad_pos { &bad } else { &set.shares[i] })
            .collect();
        assert_eq!(
            combine(&chosen, &set.payload).unwrap_err(),
            CombineError::BadShares {
                indices: vec![bad_pos as u8 + 1]
            }
        );
    }
    // Two bad among seven with t = 3 (honest shares a clear majority): both named.
    let set = make(3, 7, 7);
    let b1 = corrupt(&set.shares[0]);
    let b2 = corrupt(&set.shares[3]);
    let chosen = [
        &b1,
        &set.shares[1],
        &set.shares[2],
        &b2,
        &set.shares[4],
        &set.shares[5],
        &set.shares[6],
    ];
    assert_eq!(
        combine(&chosen, &set.payload).unwrap_err(),
        CombineError::BadShares {
            indices: vec![1, 4]
        }
    );
}

#[test]
fn a_tampered_payload_fails_authentication() {
    let set = make(2, 2, 8);
    let mut bytes = set.payload.encode();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let tampered = Payload::decode(&bytes).unwrap();
    let chosen: Vec<&Share> = set.shares.iter().collect();
    // The shares name the original payload's digest, so they are refused as
    // inconsistent; with the digest patched, the AEAD still refuses.
    assert_eq!(
        combine(&chosen, &tampered).unwrap_err(),
        CombineError::InconsistentShare { index: 1 }
    );
    let d = tampered.digest();
    let patched: Vec<Share> = set
        .shares
        .iter()
        .map(|s| {
            let mut c = Share::decode(&s.encode()).unwrap();
            c.payload_digest = d;
            c
        })
        .collect();
    let chosen: Vec<&Share> = patched.iter().collect();
    assert_eq!(
        combine(&chosen, &tampered).unwrap_err(),
        CombineError::ReconstructionFailed
    );
}

#[test]
fn index_out_of_range_is_refused() {
    let set = make(2, 3, 9);
    let mut s = Share::decode(&set.shares[0].encode()).unwrap();
    s.index = 0;
    assert_eq!(
        combine(&[&s, &set.shares[1]], &set.payload).unwrap_err(),
        CombineError::IndexOutOfRange { index: 0, count: 3 }
    );
}

#[test]
fn records_round_trip_byte_for_byte() {
    let set = make(3, 5, 10);
    let p = set.payload.encode();
    assert_eq!(Payload::decode(&p).unwrap().encode(), p);
    for s in &set.shares {
        let b = s.encode();
        assert_eq!(*Share::decode(&b).unwrap().encode(), *b);
    }
}

#[test]
fn debug_of_a_share_never_shows_its_value() {
    let set = make(2, 2, 11);
    let s = &set.shares[0];
    let dbg = format!("{s:?}{set:?}");
    assert!(dbg.contains("[redacted]"));
    let hex = crate::hex::encode(s.value.as_ref());
    assert!(!dbg.contains(&hex));
    assert!(!dbg.contains(&format!("{:?}", &s.value[..4])));
}

#[test]
fn split_with_os_randomness_works_and_differs_each_time() {
    let s = secret(b"pw");
    let a = split(&s, "l", 2, 3).unwrap();
    let b = split(&s, "l", 2, 3).unwrap();
    assert_ne!(a.payload.set_id, b.payload.set_id);
    assert_ne!(a.payload.encode(), b.payload.encode());
    let chosen = [&a.shares[2], &a.shares[0]];
    assert_eq!(combine(&chosen, &a.payload).unwrap().expose(), b"pw");
}

#[test]
fn a_share_claiming_another_threshold_or_count_is_named_itself() {
    // Each field alone: the share that differs is the one named, whichever comes first.
    let set = make(2, 3, 10);
    for field in 0..2 {
        let mut s = Share::decode(&set.shares[0].encode()).unwrap();
        if field == 0 {
            s.threshold = 3;
        } else {
            s.count = 4;
        }
        assert_eq!(
            combine(&[&s, &set.shares[1]], &set.payload).unwrap_err(),
            CombineError::InconsistentShare { index: 1 },
            "field {field}"
        );
    }
}

#[test]
fn an_index_above_the_count_is_refused() {
    let set = make(2, 3, 11);
    let mut s = Share::decode(&set.shares[0].encode()).unwrap();
    s.index = 4;
    assert_eq!(
        combine(&[&s, &set.shares[1]], &set.payload).unwrap_err(),
        CombineError::IndexOutOfRange { index: 4, count: 3 }
    );
}

fn subsets_tried() -> usize {
    super::SUBSETS_TRIED.with(|c| c.get())
}

#[test]
fn the_search_stops_at_the_first_subset_a_clear_majority_agrees_with() {
    // Shares 2..=7 honest, share 1 bad, t = 3: the 15 subsets {1,x,y} fail to
    // authenticate; the 16th in order, {2,3,4}, does, six of seven agree with it (more
    // than (7+2)/2), and the search stops there, having passed over 15.
    let set = make(3, 7, 12);
    let bad = corrupt(&set.shares[0]);
    let mut chosen: Vec<&Share> = set.shares.iter().collect();
    chosen[0] = &bad;
    assert_eq!(
        combine(&chosen, &set.payload).unwrap_err(),
        CombineError::BadShares { indices: vec![1] }
    );
    assert_eq!(subsets_tried(), 15);
    // Honest shares 5 of 7 are still more than (7+2)/2: the search stops at {3,4,5},
    // after the 25 subsets holding share 1 or 2. Honest shares 4 or 3 of 7 are not, so
    // a subset they agree on does not end the search: all 35 subsets are tried, and the
    // bad ones are still named.
    for (bad_count, tried) in [(2usize, 25), (3, 35), (4, 35)] {
        let bad: Vec<Share> = set.shares[..bad_count].iter().map(corrupt).collect();
        let chosen: Vec<&Share> = bad.iter().chain(&set.shares[bad_count..]).collect();
        assert_eq!(
            combine(&chosen, &set.payload).unwrap_err(),
            CombineError::BadShares {
                indices: (1..=bad_count as u8).collect()
            }
        );
        assert_eq!(subsets_tried(), tried, "{bad_count} bad");
    }
}

#[test]
fn with_no_subset_authenticating_the_search_gives_up_after_its_limit() {
    // 255 shares, all corrupted, t = 3: C(255, 3) = 2 731 135 subsets, of which the
    // search tries MAX_SUBSETS_TRIED and then gives up.
    let set = make(3, 255, 13);
    let bad: Vec<Share> = set.shares.iter().map(corrupt).collect();
    let chosen: Vec<&Share> = bad.iter().collect();
    assert_eq!(
        combine(&chosen, &set.payload).unwrap_err(),
        CombineError::ReconstructionFailed
    );
    assert_eq!(subsets_tried(), super::MAX_SUBSETS_TRIED);
    // Fewer subsets than the limit: every one is tried, then none authenticated.
    let set = make(2, 4, 14);
    let bad: Vec<Share> = set.shares.iter().map(corrupt).collect();
    let chosen: Vec<&Share> = bad.iter().collect();
    assert_eq!(
        combine(&chosen, &set.payload).unwrap_err(),
        CombineError::ReconstructionFailed
    );
    assert_eq!(subsets_tried(), 6);
}

#[test]
fn next_combination_walks_every_subset_once_in_lexicographic_order() {
    for (n, k) in [(1, 1), (4, 1), (4, 4), (6, 3), (7, 2)] {
        let mut c: Vec<usize> = (0..k).collect();
        let mut seen = vec![c.clone()];
        while super::next_combination(&mut c, n) {
            seen.push(c.clone());
        }
        // Every k-subset of 0..n, each sorted, in lexicographic order, once.
        let mut all: Vec<Vec<usize>> = (0u32..1 << n)
            .filter(|m| m.count_ones() as usize == k)
            .map(|m| (0..n).filter(|i| m >> i & 1 == 1).collect())
            .collect();
        all.sort();
        assert_eq!(seen, all, "n = {n}, k = {k}");
    }
}

#[test]
fn set_ids_print_as_lowercase_hex() {
    let mut b = [0u8; 16];
    b[0] = 0x0a;
    b[15] = 0xf1;
    let id = SetId(b);
    let hex = "0a0000000000000000000000000000f1";
    assert_eq!(id.to_hex(), hex);
    assert_eq!(id.to_string(), hex);
    assert_eq!(format!("{id:?}"), format!("SetId({hex})"));
}

#[test]
fn shares_that_do_not_fit_are_listed_in_the_message() {
    let e = CombineError::BadShares {
        indices: vec![1, 4, 12],
    };
    assert_eq!(
        e.to_string(),
        "share(s) 1, 4, 12 do not fit the others: set those envelopes aside and open with the rest"
    );
}

#[test]
fn the_payload_is_bound_to_its_set_threshold_count_and_label() {
    // The associated data as docs/FORMAT.md gives it.
    let mut want = b"glasskeep/v1/payload\0".to_vec();
    want.extend_from_slice(&[7; 16]);
    want.extend_from_slice(&[2, 3]);
    want.extend_from_slice("aws-root".as_bytes());
    assert_eq!(aad(&SetId([7; 16]), "aws-root", 2, 3), want);
    // A payload relabelled, or claiming another threshold, count or set, does not
    // open, even with shares that name its new digest.
    let set = make(2, 3, 15);
    let tweaks: [fn(&mut Payload); 4] = [
        |p| p.label = "aws-root-2".into(),
        |p| p.threshold = 3,
        |p| p.count = 4,
        |p| p.set_id = SetId([16; 16]),
    ];
    for tweak in tweaks {
        let mut p = set.payload.clone();
        tweak(&mut p);
        let shares: Vec<Share> = set
            .shares
            .iter()
            .map(|s| {
                let mut c = Share::decode(&s.encode()).unwrap();
                (c.set_id, c.threshold, c.count) = (p.set_id, p.threshold, p.count);
                c.payload_digest = p.digest();
                c
            })
            .collect();
        let chosen: Vec<&Share> = shares.iter().take(usize::from(p.threshold)).collect();
        assert_eq!(
            combine(&chosen, &p).unwrap_err(),
            CombineError::ReconstructionFailed,
            "{p:?}"
        );
    }
    // Unchanged, the same path opens.
    let chosen: Vec<&Share> = set.shares.iter().take(2).collect();
    assert_eq!(
        combine(&chosen, &set.payload).unwrap().expose(),
        b"correct horse battery staple"
    );
}

#[test]
fn a_payloads_ciphertext_holds_one_to_max_secret_bytes_and_its_tag() {
    let with_len = |len: usize| Payload {
        set_id: SetId([1; 16]),
        label: "l".into(),
        threshold: 2,
        count: 2,
        nonce: [0; NONCE_LEN],
        ciphertext: vec![0; len],
    };
    for len in [TAG_LEN + 1, MAX_SECRET_LEN + TAG_LEN] {
        let p = with_len(len);
        assert_eq!(Payload::decode(&p.encode()).unwrap(), p);
    }
    for len in [0, TAG_LEN, MAX_SECRET_LEN + TAG_LEN + 1] {
        assert!(
            matches!(
                Payload::decode(&with_len(len).encode()),
                Err(FormatError::Cbor(CborError::OutOfRange {
                    field: "ciphertext",
                    ..
                }))
            ),
            "{len}"
        );
    }
}
