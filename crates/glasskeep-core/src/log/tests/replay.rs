//! Replay: each state transition, legal and illegal, with the exact error.

use crate::log::body::{Body, Kind, Verdict};
use crate::log::entry::{Entry, ZERO_HASH};
use crate::log::replay::{ReplayError, SetStatus, State};
use crate::log::testutil::*;
use crate::piv::{PinPolicy, TouchPolicy};

/// Three custodians enrolled together (checkpoint at seq 4), one 2-of-3 set `set(1)`
/// sealed at seq 5 and cosigned by all three at seq 6.
fn three() -> Builder {
    let mut b = Builder::new(CUSTODY);
    for (i, n) in ["alice", "bob", "carol"].iter().enumerate() {
        b.enroll(n, 10 + i as u32);
    }
    b.checkpoint(&["alice", "bob", "carol"]);
    b.seal(set(1), "root", 2, &["alice", "bob", "carol"]);
    b.checkpoint(&["alice", "bob", "carol"]);
    b
}

/// The error replay gives for `body` as the next entry; the state must not change.
#[track_caller]
fn refused(b: &Builder, body: Body) -> ReplayError {
    let mut s = b.state.clone();
    let e = Entry {
        seq: s.next_seq(),
        prev: s.head(),
        time: b.time,
        body,
    };
    let err = s.apply(&e).expect_err("replay accepted an illegal entry");
    assert_eq!(s.next_seq(), b.state.next_seq());
    assert_eq!(s.head(), b.state.head());
    err
}

fn open(set_: u8, who: &[(&str, usize)]) -> Body {
    Body::Open {
        set: set(set_),
        reason: "outage".into(),
        incident: "INC-1".into(),
        custodians: who.iter().map(|(n, _)| n.to_string()).collect(),
        envelopes: who.iter().map(|(_, i)| envelope(set(set_), *i)).collect(),
    }
}

#[test]
fn genesis_must_be_first_and_only() {
    let mut s = State::new();
    let e = Entry {
        seq: 0,
        prev: ZERO_HASH,
        time: T0,
        body: Body::Enroll {
            record: Box::new(record("alice", 1)),
            firmware_risk_accepted: false,
        },
    };
    assert_eq!(
        s.apply(&e),
        Err(ReplayError::GenesisNotFirst { kind: Kind::Enroll })
    );
    let b = three();
    let again = b.entries[0].body.clone();
    assert_eq!(refused(&b, again), ReplayError::SecondGenesis { seq: 7 });
    assert_eq!(b.state.custody().unwrap().org, "Example Org");
    assert!(!b.state.custody().unwrap().training);
    assert_eq!(b.state.custody().unwrap().quorum, 2);
}

#[test]
fn sequence_link_and_time() {
    let b = three();
    let mut s = b.state.clone();
    let mut e = Entry {
        seq: 6,
        prev: s.head(),
        time: b.time,
        body: open(1, &[("alice", 0), ("bob", 1)]),
    };
    assert_eq!(
        s.apply(&e),
        Err(ReplayError::Sequence {
            expected: 7,
            found: 6
        })
    );
    e.seq = 7;
    e.prev[0] ^= 1;
    assert_eq!(s.apply(&e), Err(ReplayError::PrevMismatch { seq: 7 }));
    e.prev = s.head();
    e.time = T0 - 1;
    assert!(matches!(
        s.apply(&e),
        Err(ReplayError::TimeWentBackwards { seq: 7, .. })
    ));
}

#[test]
fn enroll_names_and_serials_once() {
    let b = three();
    let dup_name = Body::Enroll {
        record: Box::new(record("alice", 99)),
        firmware_risk_accepted: false,
    };
    assert_eq!(
        refused(&b, dup_name),
        ReplayError::NameTaken {
            name: "alice".into()
        }
    );
    let dup_serial = Body::Enroll {
        record: Box::new(record("dave", 11)),
        firmware_risk_accepted: false,
    };
    assert_eq!(
        refused(&b, dup_serial),
        ReplayError::SerialTaken {
            serial: 11,
            name: "bob".into()
        }
    );
    let mut bad = record("dave", 13);
    bad.sign_public_key = [2; 33];
    bad.sign_public_key[1..].fill(0xff);
    assert_eq!(
        refused(
            &b,
            Body::Enroll {
                record: Box::new(bad),
                firmware_risk_accepted: false,
            }
        ),
        ReplayError::BadSignKey {
            name: "dave".into()
        }
    );
    type Weaken = fn(&mut crate::custodian::CustodianRecord);
    let weakenings: [Weaken; 3] = [
        |r| r.sign_touch_policy = TouchPolicy::Cached,
        |r| r.sign_pin_policy = PinPolicy::Once,
        |r| r.seal_touch_policy = TouchPolicy::Never,
    ];
    for weaken in weakenings {
        let mut weak = record("dave", 14);
        weaken(&mut weak);
        assert_eq!(
            refused(
                &b,
                Body::Enroll {
                    record: Box::new(weak),
                    firmware_risk_accepted: false,
                }
            ),
            ReplayError::WeakKeyPolicy {
                name: "dave".into()
            }
        );
    }
    assert_eq!(
        b.state.custodian_by_serial(12).unwrap().record.name,
        "carol"
    );
    assert_eq!(b.state.custodians().len(), 3);
}

#[test]
fn seal_rules() {
    let mut b = three();
    let seal = |t: u8, names: &[&str], s: u8| seal_body(set(s), "x", t, names);
    assert_eq!(
        refused(&b, seal(1, &["alice", "bob"], 2)),
        ReplayError::ThresholdTooLow { threshold: 1 }
    );
    assert!(matches!(
        refused(&b, seal(3, &["alice", "bob"], 2)),
        ReplayError::SetShape {
            threshold: 3,
            shares: 2,
            ..
        }
    ));
    // The right custodians but one envelope short, or one custodian short.
    for (kept_custodians, kept_envelopes) in [(2, 1), (1, 2)] {
        let mut short = seal(2, &["alice", "bob"], 2);
        if let Body::Seal {
            custodians,
            envelopes,
            ..
        } = &mut short
        {
            custodians.truncate(kept_custodians);
            envelopes.truncate(kept_envelopes);
        }
        assert_eq!(
            refused(&b, short),
            ReplayError::SetShape {
                threshold: 2,
                shares: 2,
                custodians: kept_custodians,
                envelopes: kept_envelopes
            }
        );
    }
    assert_eq!(
        refused(&b, seal(2, &["alice", "mallory"], 2)),
        ReplayError::UnknownCustodian {
            name: "mallory".into()
        }
    );
    assert_eq!(
        refused(&b, seal(2, &["alice", "alice"], 2)),
        ReplayError::DuplicateCustodian {
            name: "alice".into()
        }
    );
    assert_eq!(
        refused(&b, seal(2, &["alice", "bob"], 1)),
        ReplayError::DuplicateSet { set: set(1) }
    );
    // Same fingerprints as set 1's envelopes: an envelope belongs to one set.
    let mut reuse = seal(2, &["alice", "bob"], 2);
    if let Body::Seal { envelopes, .. } = &mut reuse {
        envelopes[1] = envelope(set(1), 0);
    }
    assert!(matches!(
        refused(&b, reuse),
        ReplayError::DuplicateEnvelope { .. }
    ));
    b.seal(set(2), "other", 2, &["bob", "carol"]);
    let s = b.state.set(&set(2)).unwrap();
    assert_eq!((s.threshold, s.shares, s.status), (2, 2, SetStatus::Sealed));
    assert_eq!(b.state.live_set_by_label("other").unwrap().id, set(2));
    assert_eq!(b.state.envelopes_not_destroyed().len(), 5);
}

#[test]
fn open_rules_and_state() {
    let mut b = three();
    assert_eq!(
        refused(&b, open(9, &[("alice", 0), ("bob", 1)])),
        ReplayError::UnknownSet { set: set(9) }
    );
    assert_eq!(
        refused(&b, open(1, &[("alice", 0)])),
        ReplayError::BelowThreshold {
            set: set(1),
            needed: 2,
            got: 1
        }
    );
    // Bob presenting alice's envelope.
    assert!(matches!(
        refused(&b, open(1, &[("alice", 0), ("bob", 0)])),
        ReplayError::NotInSet { ref name, .. } if name == "bob"
    ));
    assert_eq!(
        refused(&b, open(1, &[("bob", 1), ("alice", 0)])),
        ReplayError::ShareOrder { set: set(1) }
    );
    let mut short = open(1, &[("alice", 0), ("bob", 1)]);
    if let Body::Open { envelopes, .. } = &mut short {
        envelopes.pop();
    }
    assert_eq!(
        refused(&b, short),
        ReplayError::ListMismatch {
            custodians: 2,
            envelopes: 1
        }
    );
    assert_eq!(
        refused(&b, open(1, &[("alice", 0), ("alice", 0)])),
        ReplayError::DuplicateCustodian {
            name: "alice".into()
        }
    );
    let t = b.time;
    let seq = b.push(open(1, &[("alice", 0), ("bob", 1)]));
    assert_eq!(b.state.set(&set(1)).unwrap().status, SetStatus::Opened);
    let creds = b.state.open_credentials();
    assert_eq!(creds.len(), 1);
    assert_eq!((creds[0].opened_seq, creds[0].deadline), (seq, t + 86_400));
    assert_eq!(b.state.unreviewed_openings().count(), 1);
    // A second opening before rotation is allowed and keeps the first deadline.
    b.push(open(1, &[("bob", 1), ("carol", 2)]));
    assert_eq!(b.state.open_credentials()[0].opened_seq, seq);
}

#[test]
fn drill_and_share_check_rules() {
    let mut b = three();
    assert_eq!(
        refused(
            &b,
            Body::Drill {
                set: set(1),
                custodians: vec!["alice".into()],
                envelopes: vec![envelope(set(1), 0)],
            }
        ),
        ReplayError::BelowThreshold {
            set: set(1),
            needed: 2,
            got: 1
        }
    );
    assert!(matches!(
        refused(
            &b,
            Body::ShareCheck {
                set: set(1),
                custodian: "carol".into(),
                envelope: envelope(set(1), 1),
            }
        ),
        ReplayError::NotInSet { .. }
    ));
    b.push(Body::ShareCheck {
        set: set(1),
        custodian: "carol".into(),
        envelope: envelope(set(1), 2),
    });
    assert_eq!(b.state.set(&set(1)).unwrap().status, SetStatus::Sealed);
}

#[test]
fn rotation_rules_and_superseded_sets() {
    let mut b = three();
    let o = b.push(open(1, &[("alice", 0), ("bob", 1)]));
    let rot = |old, new| Body::Rotate {
        old: set(old),
        new: set(new),
    };
    assert_eq!(
        refused(&b, rot(1, 2)),
        ReplayError::UnknownSet { set: set(2) }
    );
    assert_eq!(
        refused(&b, rot(7, 1)),
        ReplayError::UnknownSet { set: set(7) }
    );
    assert_eq!(
        refused(&b, rot(1, 1)),
        ReplayError::BadRotation {
            old: set(1),
            new: set(1)
        }
    );
    b.seal(set(2), "root", 2, &["alice", "bob", "carol"]);
    let rotate = b.push(rot(1, 2));
    b.checkpoint(&["alice", "bob"]);
    // Two-phase: set 1 stays live (its opening's exposure ended with the rotate), set 2
    // is pending and opens for nobody.
    assert_eq!(b.state.set(&set(1)).unwrap().status, SetStatus::Opened);
    assert_eq!(
        b.state.set(&set(2)).unwrap().status,
        SetStatus::Pending { rotate_seq: rotate }
    );
    assert_eq!(b.state.opening(o).unwrap().rotated.unwrap().0, rotate);
    assert_eq!(b.state.live_set_by_label("root").unwrap().id, set(1));
    assert_eq!(b.state.pending_set_by_label("root").unwrap().id, set(2));
    assert!(b.state.pending_set_by_label("other").is_none());
    assert_eq!(
        refused(&b, open(2, &[("alice", 0), ("bob", 1)])),
        ReplayError::SetPending {
            set: set(2),
            rotate_seq: rotate
        }
    );
    b.seal(set(9), "spare", 2, &["alice", "bob"]);
    assert_eq!(
        refused(&b, rot(1, 9)),
        ReplayError::RotationPending {
            set: set(1),
            pending: set(2),
            rotate_seq: rotate
        }
    );
    b.checkpoint(&["alice", "bob"]);
    let activate = |missing: &[&str]| Body::Activate {
        set: set(2),
        missing: missing.iter().map(|m| m.to_string()).collect(),
    };
    assert_eq!(
        refused(&b, activate(&["alice", "bob", "carol"])),
        ReplayError::ActivateUnproven {
            set: set(2),
            acknowledged: 0,
            threshold: 2
        }
    );
    assert_eq!(
        refused(&b, activate(&["carol"])),
        ReplayError::ActivateMissing {
            set: set(2),
            expected: vec!["alice".into(), "bob".into(), "carol".into()]
        }
    );
    // The old set still opens while the new one waits.
    b.push(Body::Drill {
        set: set(1),
        custodians: vec!["alice".into(), "bob".into()],
        envelopes: vec![envelope(set(1), 0), envelope(set(1), 1)],
    });
    b.checkpoint(&["alice", "bob"]);
    b.acknowledge(set(2), &["alice", "bob"]);
    assert_eq!(
        refused(&b, activate(&["alice"])),
        ReplayError::ActivateMissing {
            set: set(2),
            expected: vec!["carol".into()]
        }
    );
    b.acknowledge(set(2), &["carol"]);
    let r = b.entries.len() as u64 - 2;
    assert_eq!(
        refused(&b, activate(&["carol"])),
        ReplayError::NotPending { set: set(2) }
    );
    let s1 = b.state.set(&set(1)).unwrap();
    assert_eq!(s1.status, SetStatus::Superseded { seq: r });
    assert_eq!(s1.superseded_by, Some(set(2)));
    assert_eq!(b.state.opening(o).unwrap().rotated.unwrap().0, rotate);
    assert!(b.state.open_credentials().is_empty());
    assert_eq!(b.state.live_set_by_label("root").unwrap().id, set(2));
    // Opening a superseded set.
    assert_eq!(
        refused(&b, open(1, &[("alice", 0), ("bob", 1)])),
        ReplayError::SetSuperseded {
            set: set(1),
            seq: r
        }
    );
    assert_eq!(
        refused(&b, rot(1, 2)),
        ReplayError::SetSuperseded {
            set: set(1),
            seq: r
        }
    );
    // Rotating to a set that was already opened is not a fresh set.
    b.seal(set(3), "x", 2, &["alice", "bob"]);
    b.push(open(3, &[("alice", 0), ("bob", 1)]));
    assert_eq!(
        refused(&b, rot(2, 3)),
        ReplayError::BadRotation {
            old: set(2),
            new: set(3)
        }
    );
}

#[test]
fn envelope_destruction_rules() {
    let mut b = three();
    let destroy = |fp, w: &[&str]| Body::EnvelopeDestroyed {
        envelope: fp,
        witnesses: w.iter().map(|s| s.to_string()).collect(),
    };
    assert!(matches!(
        refused(&b, destroy([9; 32], &["alice", "bob"])),
        ReplayError::UnknownEnvelope { .. }
    ));
    assert_eq!(
        refused(&b, destroy(envelope(set(1), 0), &[])),
        ReplayError::NoWitness
    );
    // Witnesses are enrolled custodians, who cosign with their own YubiKeys.
    assert_eq!(
        refused(&b, destroy(envelope(set(1), 0), &["dave"])),
        ReplayError::UnknownCustodian {
            name: "dave".into()
        }
    );
    let d = b.push(destroy(envelope(set(1), 0), &["alice", "bob"]));
    assert_eq!(
        refused(&b, destroy(envelope(set(1), 0), &["alice", "bob"])),
        ReplayError::AlreadyDestroyed {
            fingerprint: crate::hex::encode(&envelope(set(1), 0)),
            seq: d
        }
    );
    assert_eq!(b.state.envelopes_not_destroyed().len(), 2);
}

#[test]
fn review_rules() {
    let mut b = three();
    let o = b.push(open(1, &[("alice", 0), ("bob", 1)]));
    let review = |seq| Body::Review {
        open_seq: seq,
        verdict: Verdict::Justified,
        notes: "ok".into(),
    };
    // The seal entry is not an opening; nor is a seq beyond the log.
    assert_eq!(refused(&b, review(5)), ReplayError::NotAnOpening { seq: 5 });
    assert_eq!(
        refused(&b, review(500)),
        ReplayError::NotAnOpening { seq: 500 }
    );
    let r = b.push(review(o));
    assert_eq!(
        b.state.opening(o).unwrap().review,
        Some((r, Verdict::Justified))
    );
    assert_eq!(b.state.unreviewed_openings().count(), 0);
    // Reviewing twice, and reviewing a review.
    assert_eq!(
        refused(&b, review(o)),
        ReplayError::AlreadyReviewed {
            open_seq: o,
            review_seq: r
        }
    );
    assert_eq!(refused(&b, review(r)), ReplayError::NotAnOpening { seq: r });
}

#[test]
fn checkpoint_rules() {
    let mut b = three();
    let cp = b.checkpoint(&["carol", "alice"]);
    assert_eq!(b.state.last_checkpoint(), Some(cp));
    let Body::Checkpoint { signatures, .. } = &b.entries[cp as usize].body else {
        panic!("not a checkpoint")
    };
    // Sorted by name whatever order the custodians signed in.
    assert_eq!(signatures[0].custodian, "alice");
    let wrong_head = Body::Checkpoint {
        head: [1; 32],
        signatures: signatures.clone(),
        clock: 0,
        plan: None,
        build: None,
        allowed: Default::default(),
    };
    assert_eq!(
        refused(&b, wrong_head),
        ReplayError::CheckpointHead { seq: cp + 1 }
    );
    let mut unsorted = signatures.clone();
    unsorted.reverse();
    let body = Body::Checkpoint {
        head: b.state.head(),
        signatures: unsorted,
        clock: 0,
        plan: None,
        build: None,
        allowed: Default::default(),
    };
    assert_eq!(
        refused(&b, body),
        ReplayError::CheckpointSigners { seq: cp + 1 }
    );
}

#[test]
fn a_custodian_enrolled_just_before_the_last_checkpoint_counts_as_earlier() {
    // alice and bob enrolled together (checkpoint at seq 3); carol enrolls next and
    // needs the custody quorum of two earlier custodians besides herself. bob's
    // enrollment is the entry right before that checkpoint: the batch starts after
    // the checkpoint, not before bob.
    let mut b = Builder::new(CUSTODY);
    b.enroll("alice", 10);
    b.enroll("bob", 11);
    b.checkpoint(&["alice", "bob"]);
    b.enroll("carol", 12);
    let (seq, kind, need) = b
        .state
        .quorum_shortfall(&["alice", "carol"])
        .expect("one earlier custodian is not the quorum");
    assert_eq!((seq, kind), (Some(4), "enroll"));
    assert_eq!(
        need,
        "2 custodians enrolled earlier to cosign besides the new one (1 do)"
    );
    assert_eq!(b.state.quorum_shortfall(&["alice", "bob", "carol"]), None);
}

#[test]
fn a_checkpoint_covering_no_act_needs_the_custody_quorum() {
    let b = three();
    let (seq, kind, need) = b
        .state
        .quorum_shortfall(&["alice"])
        .expect("one custodian is not the quorum");
    assert_eq!((seq, kind), (None, "checkpoint"));
    assert_eq!(need, "the custody quorum of 2 custodians to cosign");
    assert_eq!(b.state.quorum_shortfall(&["alice", "bob"]), None);
    assert_eq!(b.state.quorum_shortfall(&["alice", "bob", "carol"]), None);
}

#[test]
fn a_custodian_retired_in_this_ceremony_still_counts_among_the_earlier_ones() {
    // alice and bob are the custody. In one batch, carol is enrolled and bob retired:
    // alice and carol alone must not manage it. Were bob, live when the batch began,
    // left out of the earlier custodians, alice would be the only one and the batch
    // would pass as the custody's first enrollment: one custodian, with a newcomer of
    // her choosing, enrolling and retiring.
    let mut b = Builder::new(CUSTODY);
    b.enroll("alice", 10);
    b.enroll("bob", 11);
    b.checkpoint(&["alice", "bob"]);
    b.enroll("carol", 12);
    b.push(Body::Retire {
        custodian: "bob".into(),
        reason: "left the company".into(),
    });
    let (seq, kind, need) = b
        .state
        .quorum_shortfall(&["alice", "carol"])
        .expect("alice alone is not the quorum");
    assert_eq!((seq, kind), (Some(4), "enroll"));
    assert_eq!(
        need,
        "2 custodians enrolled earlier to cosign besides the new one (1 do)"
    );
}

#[test]
fn a_destruction_needs_two_distinct_witnesses_and_exactly_them() {
    let destroy = |w: &[&str]| Body::EnvelopeDestroyed {
        envelope: envelope(set(1), 0),
        witnesses: w.iter().map(|s| s.to_string()).collect(),
    };
    let mut b = three();
    let d = b.push(destroy(&["alice"]));
    assert_eq!(
        b.state.quorum_shortfall(&["alice"]),
        Some((
            Some(d),
            "envelope-destroyed",
            "at least two witnesses, each cosigning with their own YubiKey".to_string()
        ))
    );
    let mut b = three();
    let d = b.push(destroy(&["alice", "bob", "carol"]));
    assert_eq!(b.state.quorum_shortfall(&["alice", "bob", "carol"]), None);
    assert_eq!(
        b.state.quorum_shortfall(&["alice", "bob"]),
        Some((
            Some(d),
            "envelope-destroyed",
            "exactly the witnesses named in the entry to cosign: alice, bob, carol".to_string()
        ))
    );
}

#[test]
fn enrollment_shortfall_asks_replays_question_before_the_keys_exist() {
    // The custody's first enrollment: the quorum of custodians together.
    let b = Builder::new(CUSTODY);
    let next = b.state.next_seq();
    assert_eq!(
        b.state.enrollment_shortfall(&["alice".into()], &["alice"]),
        Some((
            Some(next),
            "enroll",
            "the first 2 custodians enrolled together in one ceremony, each cosigning (this one enrolls 1 after 0 earlier)"
                .to_string()
        ))
    );
    assert_eq!(
        b.state
            .enrollment_shortfall(&["alice".into(), "bob".into()], &["alice", "bob"]),
        None
    );
    // Later: each newcomer cosigns, with the quorum of earlier custodians.
    let b = three();
    let next = b.state.next_seq();
    let new = ["dave".to_string(), "erin".to_string()];
    assert_eq!(
        b.state
            .enrollment_shortfall(&new, &["alice", "bob", "dave", "erin"]),
        None
    );
    assert_eq!(
        b.state
            .enrollment_shortfall(&new, &["alice", "bob", "dave"]),
        Some((
            Some(next + 1),
            "enroll",
            "the new custodian erin to cosign with their own YubiKey".to_string()
        ))
    );
    assert_eq!(
        b.state
            .enrollment_shortfall(&new, &["alice", "dave", "erin"]),
        Some((
            Some(next),
            "enroll",
            "2 custodians enrolled earlier to cosign besides the new one (1 do)".to_string()
        ))
    );
    // Asking changes nothing.
    assert_eq!(b.state.next_seq(), next);
}

#[test]
fn a_retirement_may_leave_the_quorum_but_not_fewer() {
    let retire = |name: &str| Body::Retire {
        custodian: name.into(),
        reason: "left the company".into(),
    };
    let mut b = three();
    // Three live custodians, quorum two: one may go, leaving exactly the quorum.
    b.push(retire("carol"));
    b.checkpoint(&["alice", "bob"]);
    assert_eq!(b.state.live_custodians().count(), 2);
    assert_eq!(
        refused(&b, retire("bob")),
        ReplayError::RetireBelowQuorum {
            name: "bob".into(),
            left: 1,
            quorum: 2
        }
    );
}

#[test]
fn a_second_live_set_under_a_label_is_refused_when_its_ceremony_closes() {
    let mut b = three();
    b.push(seal_body(set(2), "root", 2, &["alice", "bob"]));
    let close = b.checkpoint_entry(&["alice", "bob", "carol"]);
    let mut s = b.state.clone();
    assert_eq!(
        s.apply(&close).unwrap_err(),
        ReplayError::LabelTaken {
            label: "root".into()
        }
    );
}

#[test]
fn the_state_answers_where_the_log_ends() {
    let b = three();
    let last = b.entries.last().unwrap();
    assert_eq!(b.state.last_time(), last.time);
    assert_ne!(last.time, 0);
    assert_eq!(b.state.next_seq(), last.seq + 1);
    assert_eq!(b.state.head(), last.hash());
    assert_eq!(b.state.last_checkpoint(), Some(last.seq));
}

#[test]
fn a_quorum_error_names_who_signed_or_nobody() {
    let quorum = |signers: &[&str]| ReplayError::Quorum {
        seq: 5,
        kind: "seal",
        need: "2 live custodians".into(),
        checkpoint: 6,
        signers: signers.iter().map(|s| s.to_string()).collect(),
    };
    assert_eq!(
        quorum(&["alice"]).to_string(),
        "entry 5 (seal) lacks its quorum: it needs 2 live custodians; the checkpoint at \
         entry 6 is signed by alice"
    );
    assert!(quorum(&["alice", "bob"])
        .to_string()
        .ends_with("signed by alice, bob"));
    assert!(quorum(&[]).to_string().ends_with("signed by nobody"));
}
