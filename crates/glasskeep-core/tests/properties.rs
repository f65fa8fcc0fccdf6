//! Property tests: split/combine over random thresholds, counts, secrets and share
//! orders; encode -> decode -> encode byte-identical for payloads, shares and Base45.

use glasskeep_core::envelope::base45;
use glasskeep_core::secret::SecretBytes;
use glasskeep_core::shamir::{self, CombineError, Payload, Share};
use proptest::prelude::*;

/// A threshold, a count and a permutation-and-subset of the share indexes to combine.
fn params() -> impl Strategy<Value = (usize, usize, Vec<usize>)> {
    (2usize..=12)
        .prop_flat_map(|t| (Just(t), t..=16))
        .prop_flat_map(|(t, n)| {
            let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
            (Just(t), Just(n), order)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_threshold_of_shares_in_any_order_opens_and_fewer_never_do(
        (t, n, order) in params(),
        secret in proptest::collection::vec(any::<u8>(), 1..512),
        extra in 0usize..4,
    ) {
        let set = shamir::split(&SecretBytes::from_slice(&secret), "prop", t, n).unwrap();
        prop_assert_eq!(set.shares.len(), n);
        let take = (t + extra).min(n);
        let chosen: Vec<&Share> = order[..take].iter().map(|&i| &set.shares[i]).collect();
        let opened = shamir::combine(&chosen, &set.payload).unwrap();
        prop_assert_eq!(opened.expose(), &secret[..]);

        let short: Vec<&Share> = order[..t - 1].iter().map(|&i| &set.shares[i]).collect();
        prop_assert_eq!(
            shamir::combine(&short, &set.payload).unwrap_err(),
            CombineError::NotEnoughShares { have: t - 1, need: t }
        );

        // A share given twice counts once, and says which.
        let mut doubled = chosen[..t - 1].to_vec();
        doubled.push(chosen[0]);
        prop_assert_eq!(
            shamir::combine(&doubled, &set.payload).unwrap_err(),
            CombineError::DuplicateIndex { index: chosen[0].index }
        );
    }

    #[test]
    fn payload_and_share_records_re_encode_byte_identical(
        (t, n, _order) in params(),
        secret in proptest::collection::vec(any::<u8>(), 1..256),
        label in "[a-z][a-z0-9-]{0,30}",
    ) {
        let set = shamir::split(&SecretBytes::from_slice(&secret), &label, t, n).unwrap();
        let p = set.payload.encode();
        prop_assert_eq!(Payload::decode(&p).unwrap().encode(), p);
        for share in &set.shares {
            let s = share.encode();
            let decoded = Share::decode(&s).unwrap();
            prop_assert_eq!(&*decoded.encode(), &*s);
            prop_assert_eq!(decoded.index, share.index);
        }
    }

    #[test]
    fn base45_round_trips_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = base45::encode(&data);
        let decoded = base45::decode(&text).unwrap();
        prop_assert_eq!(&decoded, &data);
        prop_assert_eq!(base45::encode(&decoded), text);
    }
}
