//! Pending items and violations: what is left to do within its window passes, what
//! missed its window fails, at exactly the seq and deadline FORMAT.md gives.

use crate::log::body::{Body, Verdict};
use crate::log::policy::{assess, DESTRUCTION_GRACE, TERM_GRACE};
use crate::log::replay::SetStatus;
use crate::log::testutil::*;
use crate::log::verify::{verify, FailureClass, Outcome, PolicyClass, VerifyOptions, VerifyReport};

const DAY: u64 = 86_400;
/// The windows `seal_body` records.
const ROTATE: u64 = DAY;
const REVIEW: u64 = 7 * DAY;

fn at(b: &Builder, now: u64) -> VerifyReport {
    verify(
        &b.bytes(),
        &FakeAttestation(None),
        &VerifyOptions {
            now: Some(now),
            ..Default::default()
        },
    )
}

/// (kind, seq, due) of each item.
fn items(list: &[crate::log::Obligation]) -> Vec<(String, Option<u64>, Option<u64>)> {
    list.iter()
        .map(|o| (o.kind.to_string(), o.seq, o.due))
        .collect()
}

fn item(kind: &str, seq: u64, due: u64) -> (String, Option<u64>, Option<u64>) {
    (kind.to_string(), Some(seq), Some(due))
}

/// alice, bob, carol; "root" sealed 2-of-3 to all three.
fn sealed() -> Builder {
    let mut b = Builder::new(CUSTODY);
    for (i, n) in ["alice", "bob", "carol"].iter().enumerate() {
        b.enroll(n, 10 + i as u32);
    }
    b.checkpoint(&["alice", "bob", "carol"]);
    b.seal(set(1), "root", 2, &["alice", "bob", "carol"]);
    b.checkpoint(&["alice", "bob"]);
    b
}

/// [`sealed`], then opened by alice and bob, cosigned: (builder, open seq, open time).
fn opened() -> (Builder, u64, u64) {
    let mut b = sealed();
    let time = b.time;
    let open = b.push(Body::Open {
        set: set(1),
        reason: "outage".into(),
        incident: String::new(),
        custodians: vec!["alice".into(), "bob".into()],
        envelopes: vec![envelope(set(1), 0), envelope(set(1), 1)],
    });
    b.checkpoint(&["alice", "bob"]);
    (b, open, time)
}

#[test]
fn an_opening_just_made_is_pending_and_passes() {
    let (b, open, t) = opened();
    let r = at(&b, b.time);
    assert!(r.ok, "{r}");
    assert_eq!(r.outcome(), Outcome::Ok);
    assert!(r.failure.is_none() && r.violations.is_empty(), "{r}");
    assert_eq!(
        items(&r.pending),
        [
            item("pending/review", open, t + REVIEW),
            item("pending/rotate", open, t + ROTATE)
        ]
    );
    let text = r.to_string();
    assert!(text.contains("\npending:\n  entry "), "{text}");
    assert!(text.ends_with("OK, 2 pending\n"), "{text}");
    // --strict: still verified, but the verdict is "pending".
    let strict = verify(
        &b.bytes(),
        &FakeAttestation(None),
        &VerifyOptions {
            now: Some(b.time),
            strict: true,
            ..Default::default()
        },
    );
    assert!(strict.ok);
    assert_eq!(strict.outcome(), Outcome::Pending);
    assert!(strict.to_string().contains("PENDING: "), "{strict}");
}

#[test]
fn the_rotation_deadline_is_the_last_pending_second() {
    let (b, open, t) = opened();
    let r = at(&b, t + ROTATE);
    assert!(r.ok, "{r}");
    let r = at(&b, t + ROTATE + 1);
    assert!(!r.ok);
    assert_eq!(r.outcome(), Outcome::Failed);
    assert_eq!(
        items(&r.violations),
        [item("policy/rotation-overdue", open, t + ROTATE)]
    );
    assert_eq!(
        items(&r.pending),
        [item("pending/review", open, t + REVIEW)]
    );
    let f = r.failure.unwrap();
    assert_eq!(
        (f.class, f.seq),
        (
            FailureClass::Policy(PolicyClass::RotationOverdue),
            Some(open)
        )
    );
}

#[test]
fn a_review_window_passed_is_a_violation_until_reviewed() {
    let (mut b, open, t) = opened();
    // Rotated in time, so only the review is judged.
    b.seal(set(2), "root", 2, &["alice", "bob", "carol"]);
    let rot = b.push(Body::Rotate {
        old: set(1),
        new: set(2),
    });
    b.checkpoint(&["alice", "bob"]);
    let rot_time = b.entries[rot as usize].time;
    b.acknowledge(set(2), &["alice", "bob", "carol"]);
    // The last acknowledgement activates the new set: the grace period runs from there.
    let old = b.state.set(&set(1)).unwrap();
    let (activated, act_seq) = match old.status {
        SetStatus::Superseded { seq } => (old.superseded_time.unwrap(), seq),
        other => panic!("set 1 is {other:?} after every acknowledgement"),
    };
    assert!(activated > rot_time && act_seq > rot);
    let r = at(&b, t + REVIEW);
    assert!(r.ok, "{r}");
    let r = at(&b, t + REVIEW + 1);
    assert_eq!(
        items(&r.violations),
        [item("policy/review-overdue", open, t + REVIEW)],
        "{r}"
    );
    let f = r.failure.unwrap();
    assert_eq!(
        (f.class, f.seq),
        (FailureClass::Policy(PolicyClass::ReviewOverdue), Some(open))
    );
    // Reviewed (late, but reviewed): nothing about the opening remains.
    b.push(Body::Review {
        open_seq: open,
        verdict: Verdict::Justified,
        notes: String::new(),
    });
    b.checkpoint(&["carol"]);
    let r = at(&b, t + REVIEW + 1);
    assert!(r.ok, "{r}");
    assert!(r.violations.is_empty(), "{r}");
    // The old envelopes are still to be destroyed, within their grace period.
    assert_eq!(
        items(&r.pending),
        (0..3)
            .map(|_| item(
                "pending/destroy-envelope",
                act_seq,
                activated + DESTRUCTION_GRACE
            ))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_late_rotation_stays_a_violation() {
    let (mut b, open, t) = opened();
    b.push(Body::Review {
        open_seq: open,
        verdict: Verdict::Justified,
        notes: String::new(),
    });
    b.checkpoint(&["carol"]);
    b.time = t + ROTATE + 1;
    b.seal(set(2), "root", 2, &["alice", "bob", "carol"]);
    b.push(Body::Rotate {
        old: set(1),
        new: set(2),
    });
    b.checkpoint(&["alice", "bob"]);
    let r = at(&b, b.time);
    assert_eq!(
        items(&r.violations),
        [item("policy/rotated-late", open, t + ROTATE)],
        "{r}"
    );
    // Proved by the log alone: judged without a clock too.
    let r = verify(
        &b.bytes(),
        &FakeAttestation(None),
        &VerifyOptions::default(),
    );
    assert_eq!(
        r.failure.map(|f| f.class),
        Some(FailureClass::Policy(PolicyClass::RotatedLate))
    );
}

#[test]
fn undestroyed_envelopes_are_pending_within_the_grace_period_then_violations() {
    let mut b = sealed();
    b.seal(set(2), "root", 2, &["alice", "bob", "carol"]);
    b.push(Body::Rotate {
        old: set(1),
        new: set(2),
    });
    b.checkpoint(&["alice", "bob"]);
    // Until every new envelope is acknowledged the old set is live: nothing to destroy.
    let r = at(&b, b.time + 300 * DAY);
    assert!(
        r.pending
            .iter()
            .all(|o| o.kind.to_string() == "pending/acknowledge"),
        "{r}"
    );
    assert_eq!(r.pending.len(), 3, "{r}");
    b.acknowledge(set(2), &["alice", "bob", "carol"]);
    let rot = b.entries.len() as u64 - 2;
    let due = b.entries[rot as usize].time + DESTRUCTION_GRACE;
    b.push(Body::EnvelopeDestroyed {
        envelope: envelope(set(1), 1),
        witnesses: vec!["alice".into(), "carol".into()],
    });
    b.checkpoint(&["alice", "carol"]);
    let r = at(&b, due);
    assert!(r.ok, "{r}");
    let pending = item("pending/destroy-envelope", rot, due);
    assert_eq!(items(&r.pending), [pending.clone(), pending]);
    let r = at(&b, due + 1);
    assert!(!r.ok);
    assert!(r.pending.is_empty(), "{r}");
    let late = item("policy/envelope-not-destroyed", rot, due);
    assert_eq!(items(&r.violations), [late.clone(), late]);
    // In share-index order: envelopes 0 and 2 (1 was destroyed).
    assert!(r.violations[0]
        .subject
        .contains(&crate::hex::encode(&envelope(set(1), 0))));
    assert!(r.violations[1]
        .subject
        .contains(&crate::hex::encode(&envelope(set(1), 2))));
    for i in [0, 2] {
        b.push(Body::EnvelopeDestroyed {
            envelope: envelope(set(1), i),
            witnesses: vec!["alice".into(), "carol".into()],
        });
        b.checkpoint(&["alice", "carol"]);
    }
    let r = at(&b, due + 1);
    assert!(
        r.ok && r.violations.is_empty() && r.pending.is_empty(),
        "{r}"
    );
}

#[test]
fn a_retirement_leaves_its_sets_to_rotate_within_their_window() {
    let mut b = sealed();
    b.enroll("dave", 20);
    b.checkpoint(&["alice", "bob", "dave"]);
    let retire = b.push(Body::Retire {
        custodian: "carol".into(),
        reason: "left".into(),
    });
    b.checkpoint(&["alice", "bob"]);
    let due = b.entries[retire as usize].time + ROTATE;
    let r = at(&b, due);
    assert!(r.ok, "{r}");
    assert_eq!(
        items(&r.pending),
        [item("pending/rotate-after-retirement", retire, due)]
    );
    // "root" is 2-of-3 and alice and bob remain: exactly its threshold, not fewer.
    assert!(!r.pending[0].detail.contains("fewer than"), "{r}");
    let retire_due = due;
    let r = at(&b, due + 1);
    assert_eq!(
        items(&r.violations),
        [item("policy/must-rotate", retire, due)],
        "{r}"
    );
    assert_eq!(
        r.failure.map(|f| (f.class, f.seq)),
        Some((FailureClass::Policy(PolicyClass::MustRotate), Some(retire)))
    );
    // Rotated to live custodians: the obligation is met (the old envelopes remain).
    b.seal(set(2), "root", 2, &["alice", "bob", "dave"]);
    b.push(Body::Rotate {
        old: set(1),
        new: set(2),
    });
    b.checkpoint(&["alice", "bob", "dave"]);
    // Pending: the old set, carol's included, is still the live one.
    let r = at(&b, retire_due + 1);
    assert!(!r.ok, "{r}");
    // Acknowledged by all three: the obligation is met.
    b.acknowledge(set(2), &["alice", "bob", "dave"]);
    let r = at(&b, retire_due + 1);
    assert!(r.ok, "{r}");
    assert!(r
        .pending
        .iter()
        .all(|o| o.kind.to_string() == "pending/destroy-envelope"));
}

#[test]
fn a_retirement_below_a_sets_threshold_says_so() {
    let mut b = Builder::new(CUSTODY);
    for (i, n) in ["alice", "bob", "carol"].iter().enumerate() {
        b.enroll(n, 10 + i as u32);
    }
    b.checkpoint(&["alice", "bob", "carol"]);
    b.seal(set(1), "pair", 2, &["alice", "carol"]);
    b.checkpoint(&["alice", "carol"]);
    let retire = b.push(Body::Retire {
        custodian: "carol".into(),
        reason: "left".into(),
    });
    b.checkpoint(&["alice", "bob"]);
    let r = at(&b, b.time);
    assert_eq!(r.pending.len(), 1, "{r}");
    assert_eq!(r.pending[0].seq, Some(retire));
    assert!(
        r.pending[0].detail.contains("fewer than its threshold 2"),
        "{r}"
    );
}

#[test]
fn a_new_custody_has_work_pending_not_failures() {
    let b = Builder::new(CUSTODY);
    let r = at(&b, b.time);
    assert!(r.ok, "{r}");
    let kinds: Vec<String> = r.pending.iter().map(|o| o.kind.to_string()).collect();
    assert_eq!(kinds, ["pending/enroll", "pending/seal"]);
    assert!(r.pending.iter().all(|o| o.seq.is_none() && o.due.is_none()));
    let mut b = Builder::new(CUSTODY);
    b.enroll("alice", 1);
    b.enroll("bob", 2);
    b.checkpoint(&["alice", "bob"]);
    let r = at(&b, b.time);
    assert!(r.ok, "{r}");
    let kinds: Vec<String> = r.pending.iter().map(|o| o.kind.to_string()).collect();
    assert_eq!(kinds, ["pending/seal"]);
}

#[test]
fn without_a_clock_nothing_is_overdue() {
    let (b, _, _) = opened();
    let a = assess(&b.state, None);
    assert!(a.violations.is_empty(), "{a:?}");
    assert_eq!(a.pending.len(), 2);
    let a = assess(&b.state, Some(u64::MAX));
    // The opening's review and rotation, and the three custodians' terms.
    let kinds: Vec<String> = a.violations.iter().map(|o| o.kind.to_string()).collect();
    assert_eq!(
        kinds,
        [
            "policy/term-lapsed",
            "policy/review-overdue",
            "policy/rotation-overdue",
            "policy/term-lapsed",
            "policy/term-lapsed"
        ],
        "{a:?}"
    );
    assert!(a.pending.is_empty());
}

#[test]
fn lenient_turns_violations_into_warnings_and_strict_still_flags_them() {
    let (b, _, t) = opened();
    let opts = |strict| VerifyOptions {
        now: Some(t + REVIEW + 1),
        lenient: true,
        strict,
        ..Default::default()
    };
    let r = verify(&b.bytes(), &FakeAttestation(None), &opts(false));
    assert!(r.ok && r.failure.is_none(), "{r}");
    assert_eq!(r.violations.len(), 2);
    assert_eq!(r.outcome(), Outcome::Ok);
    let r = verify(&b.bytes(), &FakeAttestation(None), &opts(true));
    assert_eq!(r.outcome(), Outcome::Pending);
}

#[test]
fn a_custodian_term_is_pending_after_it_runs_out_then_a_violation() {
    let mut b = sealed();
    let term = crate::log::body::DEFAULT_TERM;
    // carol was last affirmed by her enrollment (seq 3); alice and bob by the drill.
    let drill = b.push(Body::Drill {
        set: set(1),
        custodians: vec!["alice".into(), "bob".into()],
        envelopes: vec![envelope(set(1), 0), envelope(set(1), 1)],
    });
    b.checkpoint(&["alice", "bob"]);
    let carol_since = b.entries[3].time;
    let drill_time = b.entries[drill as usize].time;
    let r = at(&b, carol_since + term);
    assert!(r.ok && r.pending.is_empty(), "{r}");
    let r = at(&b, carol_since + term + 1);
    assert!(r.ok, "{r}");
    assert_eq!(
        items(&r.pending),
        [item("pending/reaffirm", 3, carol_since + term + TERM_GRACE)]
    );
    let r = at(&b, carol_since + term + TERM_GRACE + 1);
    assert_eq!(
        r.failure.map(|f| (f.class, f.seq)),
        Some((FailureClass::Policy(PolicyClass::TermLapsed), Some(3)))
    );
    // A share check renews carol's term from its own time.
    b.time = carol_since + term + 10 * DAY;
    let check = b.push(Body::ShareCheck {
        set: set(1),
        custodian: "carol".into(),
        envelope: envelope(set(1), 2),
    });
    b.checkpoint(&["carol"]);
    let r = at(&b, carol_since + term + TERM_GRACE + 1);
    assert!(r.ok, "{r}");
    // alice's and bob's terms (from the drill, minutes later) have run out by now too.
    let subjects: Vec<&str> = r.pending.iter().map(|o| o.subject.as_str()).collect();
    assert_eq!(subjects, ["custodian alice", "custodian bob"], "{r}");
    let terms = crate::log::policy::terms(&b.state);
    let carol = terms.iter().find(|t| t.custodian == "carol").unwrap();
    assert_eq!(carol.affirmed_seq, check);
    let alice = terms.iter().find(|t| t.custodian == "alice").unwrap();
    assert_eq!((alice.affirmed_seq, alice.ends), (drill, drill_time + term));
}

#[test]
fn a_pending_set_lists_who_has_not_acknowledged() {
    let mut b = sealed();
    b.seal(set(2), "root", 2, &["alice", "bob", "carol"]);
    let rot = b.push(Body::Rotate {
        old: set(1),
        new: set(2),
    });
    b.checkpoint(&["alice", "bob"]);
    b.acknowledge(set(2), &["bob"]);
    let a = assess(&b.state, Some(b.time));
    let who: Vec<(Option<u64>, String)> = a
        .pending
        .iter()
        .map(|o| (o.seq, o.detail.split(' ').next().unwrap().to_owned()))
        .collect();
    assert_eq!(
        who,
        [
            (Some(rot), "alice".to_owned()),
            (Some(rot), "carol".to_owned())
        ]
    );
    assert_eq!(
        b.state.set(&set(2)).unwrap().unacknowledged(),
        ["alice", "carol"]
    );
}

#[test]
fn the_fixed_windows_are_the_ones_format_md_gives() {
    // Every verifier must reach the same verdict, so these are part of the format
    // (FORMAT.md): 30 days to destroy superseded envelopes, 30 days' grace after a
    // term, a 7-day review window when seal or rotate is given none.
    use crate::log::policy::DEFAULT_REVIEW_WITHIN;
    assert_eq!(DESTRUCTION_GRACE, 2_592_000);
    assert_eq!(TERM_GRACE, 2_592_000);
    assert_eq!(DEFAULT_REVIEW_WITHIN, 604_800);
}

#[test]
fn a_rotation_at_its_deadline_is_on_time() {
    let (mut b, open, t) = opened();
    b.push(Body::Review {
        open_seq: open,
        verdict: Verdict::Justified,
        notes: String::new(),
    });
    b.checkpoint(&["carol"]);
    b.time = t + ROTATE;
    b.seal(set(2), "root", 2, &["alice", "bob", "carol"]);
    b.time = t + ROTATE;
    b.push(Body::Rotate {
        old: set(1),
        new: set(2),
    });
    b.checkpoint(&["alice", "bob"]);
    let r = at(&b, b.time);
    assert!(r.violations.is_empty(), "{r}");
}

#[test]
fn times_are_written_as_rfc_3339_in_utc() {
    use crate::log::policy::rfc3339;
    assert_eq!(rfc3339(T0), "2023-11-14T22:13:20Z");
    assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
}
