//! Property tests that need the crate's test-only helpers (`log::testutil`): random
//! ceremony sequences written to disk and replayed, and encode -> decode -> encode
//! byte-identity for the envelope record, its typed text and QR parts, log entries,
//! custodian records and the CBOR subset. (The ones that need only the public API are
//! in `tests/properties.rs`.)

use proptest::prelude::*;

use crate::cbor::{Decoder, Encoder};
use crate::envelope::{qr, text, Envelope};
use crate::log::body::Body;
use crate::log::record::{decode_record, encode_record};
use crate::log::testutil::{envelope, record, set, Builder};
use crate::log::{replay_bytes, Entry, State, Store, Verdict};
use crate::shamir::SetId;

const NAMES: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];

/// One act of a random ceremony sequence; the indexes are reduced modulo what exists.
#[derive(Debug, Clone)]
enum Act {
    Seal { threshold: usize, custodians: usize },
    ShareCheck { set: usize, who: usize },
    Drill { set: usize },
    OpenAndReview { set: usize },
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        (0usize..8, 0usize..8).prop_map(|(threshold, custodians)| Act::Seal {
            threshold,
            custodians
        }),
        (0usize..8, 0usize..8).prop_map(|(set, who)| Act::ShareCheck { set, who }),
        (0usize..8).prop_map(|set| Act::Drill { set }),
        (0usize..8).prop_map(|set| Act::OpenAndReview { set }),
    ]
}

/// Builds a legal log from `acts`, each ceremony closed by a checkpoint its quorum signs.
fn ceremonies(enrolled: usize, acts: &[Act]) -> Builder {
    let mut b = Builder::new([0x42; 16]);
    let names = &NAMES[..enrolled];
    for (i, n) in names.iter().enumerate() {
        b.enroll(n, 1001 + i as u32);
    }
    b.checkpoint(names);
    // Sealed sets: (id, threshold, custodians).
    let mut sets: Vec<(SetId, usize, Vec<&str>)> = Vec::new();
    for a in acts {
        match *a {
            Act::Seal {
                threshold,
                custodians,
            } => {
                let n = 2 + custodians % (enrolled - 1);
                let t = 2 + threshold % (n - 1);
                let who = names[..n].to_vec();
                let id = set(sets.len() as u8 + 1);
                b.seal(id, &format!("cred-{}", sets.len()), t as u8, &who);
                b.checkpoint(&who);
                sets.push((id, t, who));
            }
            _ if sets.is_empty() => {}
            Act::ShareCheck { set: s, who } => {
                let (id, _, custodians) = &sets[s % sets.len()];
                let i = who % custodians.len();
                b.push(Body::ShareCheck {
                    set: *id,
                    custodian: custodians[i].into(),
                    envelope: envelope(*id, i),
                });
                b.checkpoint(&[custodians[i]]);
            }
            Act::Drill { set: s } => {
                let (id, t, custodians) = &sets[s % sets.len()];
                b.push(Body::Drill {
                    set: *id,
                    custodians: custodians[..*t].iter().map(|c| c.to_string()).collect(),
                    envelopes: (0..*t).map(|i| envelope(*id, i)).collect(),
                });
                b.checkpoint(&custodians[..*t]);
            }
            Act::OpenAndReview { set: s } => {
                let (id, t, custodians) = &sets[s % sets.len()];
                // The reviewer took no part in the opening.
                let Some(reviewer) = names.iter().find(|n| !custodians[..*t].contains(n)) else {
                    continue;
                };
                let open_seq = b.push(Body::Open {
                    set: *id,
                    reason: "property test".into(),
                    incident: "INC-1".into(),
                    custodians: custodians[..*t].iter().map(|c| c.to_string()).collect(),
                    envelopes: (0..*t).map(|i| envelope(*id, i)).collect(),
                });
                b.checkpoint(&custodians[..*t]);
                b.push(Body::Review {
                    open_seq,
                    verdict: Verdict::Justified,
                    notes: "confirmed".into(),
                });
                b.checkpoint(&[reviewer]);
            }
        }
    }
    b
}

/// Everything a state answers, in an order that does not depend on hash-map iteration.
fn view(s: &State) -> String {
    fn sorted<T: std::fmt::Debug>(items: impl IntoIterator<Item = T>) -> Vec<String> {
        let mut v: Vec<String> = items.into_iter().map(|i| format!("{i:?}")).collect();
        v.sort();
        v
    }
    format!(
        "{:?}\n{} {:?} {} {:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        s.custody(),
        s.next_seq(),
        s.head(),
        s.last_time(),
        s.last_checkpoint(),
        s.custodians(),
        sorted(s.sets()),
        sorted(s.openings()),
        sorted(s.unreviewed_openings()),
        sorted(s.open_credentials()),
        sorted(s.envelopes_not_destroyed()),
    )
}

fn envelope_record() -> impl Strategy<Value = Envelope> {
    (
        any::<[u8; 16]>(),
        "[a-z][a-z0-9-]{0,40}",
        "[A-Za-z][A-Za-z ]{0,40}",
        "[a-z]{1,16}",
        any::<u32>(),
        (2u8..=20).prop_flat_map(|t| (Just(t), t..=40)),
        any::<u64>(),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 1..600),
        proptest::collection::vec(any::<u8>(), 1..400),
    )
        .prop_flat_map(
            |(
                set_id,
                label,
                organisation,
                custodian,
                serial,
                (t, n),
                created,
                training,
                share,
                payload,
            )| {
                (1..=n).prop_map(move |index| Envelope {
                    set_id: SetId(set_id),
                    label: label.clone(),
                    organisation: organisation.clone(),
                    custodian: custodian.clone(),
                    serial,
                    index,
                    threshold: t,
                    count: n,
                    created,
                    training,
                    sealed_share: share.clone(),
                    payload: payload.clone(),
                    // Every retired slot, and now and then a version 1 record (no slot).
                    seal_slot: (index % 7 != 0)
                        .then(|| crate::piv::Slot::retired(0x82 + index % 20))
                        .flatten(),
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn replay_of_the_log_equals_replay_of_the_file_read_back(
        enrolled in 2usize..=6,
        acts in proptest::collection::vec(act(), 0..12),
    ) {
        let b = ceremonies(enrolled, &acts);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::log::store::LOG_FILE);
        std::fs::write(&path, b.bytes()).unwrap();
        let read = std::fs::read(&path).unwrap();
        prop_assert_eq!(&read, &b.bytes());
        let replayed = replay_bytes(&read).unwrap();
        prop_assert_eq!(replayed.head(), b.state.head());
        prop_assert_eq!(view(&replayed), view(&b.state));
        // The writer's store reaches the same state from the same file.
        let store = Store::open(dir.path()).unwrap();
        prop_assert_eq!(view(store.state()), view(&b.state));
        // Every entry re-encodes to the bytes that were framed.
        for e in &b.entries {
            let bytes = e.to_bytes();
            prop_assert_eq!(Entry::from_bytes(&bytes).unwrap().to_bytes(), bytes);
        }
    }

    #[test]
    fn envelope_record_text_and_qr_parts_re_encode_byte_identical(e in envelope_record()) {
        let bytes = e.encode().unwrap();
        let decoded = Envelope::decode(&bytes).unwrap();
        prop_assert_eq!(&decoded, &e);
        prop_assert_eq!(decoded.encode().unwrap(), bytes.clone());

        let lines = text::encode_lines(&bytes);
        let from_text = text::decode_bytes(&lines.join("\n")).unwrap();
        prop_assert_eq!(&from_text, &bytes);
        prop_assert_eq!(text::encode_lines(&from_text), lines);

        let mut parts = qr::encode_parts(&bytes).unwrap();
        parts.reverse(); // scanned in any order
        let from_qr = qr::assemble(&parts).unwrap();
        prop_assert_eq!(&from_qr, &bytes);
        parts.reverse();
        prop_assert_eq!(qr::encode_parts(&from_qr).unwrap(), parts);
    }

    #[test]
    fn custodian_records_re_encode_byte_identical(i in 0usize..6, serial in any::<u32>()) {
        let r = record(NAMES[i], serial);
        let mut e = Encoder::new();
        encode_record(&mut e, &r);
        let bytes = e.into_bytes();
        let mut d = Decoder::new(&bytes);
        let back = decode_record(&mut d).unwrap();
        d.finish().unwrap();
        let mut again = Encoder::new();
        encode_record(&mut again, &back);
        prop_assert_eq!(again.into_bytes(), bytes);
    }

    #[test]
    fn cbor_items_decode_to_the_bytes_encoded(
        items in proptest::collection::vec(
            prop_oneof![
                any::<u64>().prop_map(|v| (0u8, v, Vec::new(), String::new())),
                proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| (1u8, 0, b, String::new())),
                "\\PC{0,60}".prop_map(|s| (2u8, 0, Vec::new(), s)),
                any::<bool>().prop_map(|b| (3u8, u64::from(b), Vec::new(), String::new())),
            ],
            0..20,
        )
    ) {
        let mut e = Encoder::new();
        e.array(items.len());
        for (kind, n, b, s) in &items {
            match kind {
                0 => { e.uint(*n); }
                1 => { e.bytes(b); }
                2 => { e.text(s); }
                _ => { e.bool(*n == 1); }
            }
        }
        let bytes = e.into_bytes();
        let mut d = Decoder::new(&bytes);
        prop_assert_eq!(d.raw_item().unwrap(), &bytes[..]);
        d.finish().unwrap();
        // And field by field, each item comes back as written.
        let mut d = Decoder::new(&bytes);
        prop_assert_eq!(d.array().unwrap(), items.len() as u64);
        for (kind, n, b, s) in &items {
            match kind {
                0 => prop_assert_eq!(d.uint().unwrap(), *n),
                1 => prop_assert_eq!(d.bytes().unwrap(), &b[..]),
                2 => prop_assert_eq!(d.text().unwrap(), &s[..]),
                _ => prop_assert_eq!(d.bool().unwrap(), *n == 1),
            }
        }
        d.finish().unwrap();
    }
}
