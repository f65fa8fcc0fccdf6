//! What mutation testing of the log's verify, checkpoint and quorum code found no test
//! for (docs/ASSURANCE.md, "Mutation testing"): each test here fails when the check it
//! names is removed or inverted.

use crate::log::body::Body;
use crate::log::checkpoint::{
    make_checkpoint, prepare_checkpoint, CheckpointError, CheckpointSigner, SignError, Signed,
};
use crate::log::entry::Entry;
use crate::log::testutil::*;
use crate::log::verify::{verify, FailureClass, VerifyOptions, VerifyReport};
use crate::log::Kind;
use crate::log::State;

fn run(bytes: &[u8], opts: &VerifyOptions) -> VerifyReport {
    verify(bytes, &FakeAttestation(None), opts)
}

/// A small custody whose genesis says TRAINING.
fn training_log() -> Builder {
    let mut b = Builder::with_genesis(CUSTODY, true);
    for (i, n) in ["alice", "bob"].iter().enumerate() {
        b.enroll(n, 2001 + i as u32);
    }
    b.checkpoint(&["alice", "bob"]);
    b
}

#[test]
fn a_training_custody_verifies_only_as_training_and_says_so() {
    let b = training_log();
    let r = run(&b.bytes(), &VerifyOptions::default());
    assert!(!r.ok);
    let f = r.failure.as_ref().expect("a failure is named");
    assert_eq!((f.class, f.seq), (FailureClass::Training, Some(0)), "{r}");
    assert_eq!(r.custody, Some("TRAINING"));

    let opts = VerifyOptions {
        training: true,
        ..Default::default()
    };
    let r = run(&b.bytes(), &opts);
    assert!(r.ok, "{r}");
    assert_eq!((r.training, r.custody), (Some(true), Some("TRAINING")));
    assert!(r.to_string().starts_with("TRAINING custody"), "{r}");
}

#[test]
fn a_checkpoint_whose_head_is_not_the_previous_entry_is_a_broken_link() {
    // The checkpoint's own prev is right, its head is not, and it is signed as it
    // stands by the custodians it names: only the head-to-prev check can refuse it.
    let mut entries: Vec<Entry> = scenario(CUSTODY).entries;
    let i = (1..entries.len())
        .find(|&i| entries[i].body.kind() == Kind::Checkpoint)
        .expect("a checkpoint");
    entries.truncate(i + 1);
    let Body::Checkpoint {
        head, signatures, ..
    } = &mut entries[i].body
    else {
        unreachable!()
    };
    head[0] ^= 1;
    let names: Vec<String> = signatures.iter().map(|s| s.custodian.clone()).collect();
    let keys: Vec<_> = names.iter().map(|n| key(n)).collect();
    let who: Vec<(&str, &_)> = names.iter().map(|n| n.as_str()).zip(keys.iter()).collect();
    resign(&mut entries, i, &CUSTODY, &who);
    let r = run(&frame_all(&entries), &VerifyOptions::default());
    assert!(
        !r.ok,
        "accepted a checkpoint whose head is not its predecessor"
    );
    let f = r.failure.expect("a failure is named");
    assert_eq!(
        (f.class, f.seq),
        (FailureClass::HashLink, Some(i as u64)),
        "{}",
        f.detail
    );
}

/// A signer whose card fails with its own error type.
struct Failing;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("card removed")]
struct CardRemoved(u8);

impl CheckpointSigner for Failing {
    fn custodian(&self) -> &str {
        "alice"
    }
    fn sign_digest(&mut self, _: &crate::log::entry::Hash) -> Result<Vec<u8>, SignError> {
        Err(SignError::new(CardRemoved(7)))
    }
}

#[test]
fn a_signers_own_error_comes_back_out_of_the_checkpoint_error() {
    let b = scenario(CUSTODY);
    let mut failing = Failing;
    let mut signers: Vec<&mut dyn CheckpointSigner> = vec![&mut failing];
    let err = make_checkpoint(&b.state, &mut signers, b.time, b.time).unwrap_err();
    let CheckpointError::Signer { name, source } = err else {
        panic!("{err:?}")
    };
    assert_eq!(name, "alice");
    assert_eq!(source.downcast_ref::<CardRemoved>(), Some(&CardRemoved(7)));
    assert!(source.downcast_ref::<std::io::Error>().is_none());
    let source = source.downcast::<std::io::Error>().unwrap_err();
    assert_eq!(source.downcast::<CardRemoved>().unwrap(), CardRemoved(7));
}

#[test]
fn a_forged_signature_is_named_before_the_quorum_it_also_lacks() {
    // The drill's checkpoint, cut down to alice alone with a signature she never made:
    // it lacks the drill's quorum and its one signature is forged. FORMAT.md
    // ("Verification order") names the forgery.
    let mut entries: Vec<Entry> = scenario(CUSTODY).entries;
    let drill = (0..entries.len())
        .find(|&i| entries[i].body.kind() == Kind::Drill)
        .expect("a drill");
    let i = drill + 1;
    entries.truncate(i + 1);
    let Body::Checkpoint { signatures, .. } = &mut entries[i].body else {
        panic!("the drill is not followed by its checkpoint")
    };
    signatures.retain(|s| s.custodian == "alice");
    signatures[0].signature[10] ^= 1;
    let r = run(&frame_all(&entries), &VerifyOptions::default());
    let f = r.failure.expect("a failure is named");
    assert_eq!(
        (f.class, f.seq),
        (FailureClass::Signature, Some(i as u64)),
        "{}",
        f.detail
    );
    assert_eq!(f.detail, "alice's signature does not verify");
    // With her real signature over what the entry now says, the quorum is what fails,
    // named at the drill.
    resign(&mut entries, i, &CUSTODY, &[("alice", &key("alice"))]);
    let f = run(&frame_all(&entries), &VerifyOptions::default())
        .failure
        .expect("a failure is named");
    assert_eq!(
        (f.class, f.seq),
        (FailureClass::Quorum, Some(drill as u64)),
        "{}",
        f.detail
    );
}

#[test]
fn checkpoints_whose_clock_is_behind_their_time_are_listed_with_the_gap() {
    let mut b = training_log();
    let both = ["alice", "bob"];
    let behind = b.checkpoint_at_clock(&both, Signed::default(), b.time - 90);
    b.checkpoint_at_clock(&both, Signed::default(), b.time);
    b.checkpoint_at_clock(&both, Signed::default(), b.time + 30);
    let opts = VerifyOptions {
        training: true,
        ..Default::default()
    };
    let r = run(&b.bytes(), &opts);
    assert!(r.ok, "{r}");
    assert_eq!(r.clock_behind, vec![(behind, 90)]);
}

#[test]
fn nothing_left_is_ok_even_lenient_and_strict_and_recorded_builds_are_not_called_missing() {
    use crate::log::verify::Outcome;
    let opts = VerifyOptions {
        training: true,
        lenient: true,
        strict: true,
        ..Default::default()
    };
    // The standard scenario leaves nothing to do: with --lenient and --strict it is ok.
    let b = scenario(CUSTODY);
    let strict = VerifyOptions {
        now: Some(b.time),
        lenient: true,
        strict: true,
        ..Default::default()
    };
    let r = run(&b.bytes(), &strict);
    assert!(r.pending.is_empty() && r.violations.is_empty(), "{r}");
    assert_eq!(r.outcome(), Outcome::Ok, "{r}");
    assert!(r.to_string().ends_with("\nOK\n"), "{r}");
    // The training log's one checkpoint records no build; nothing is sealed yet, which
    // is pending, not a failure, without --strict.
    let r = run(
        &training_log().bytes(),
        &VerifyOptions {
            training: true,
            ..Default::default()
        },
    );
    assert_eq!(r.outcome(), Outcome::Ok, "{r}");
    assert!(r.to_string().contains("\nOK, 1 pending"), "{r}");
    assert_eq!(r.checkpoints_without_build, 1);
    assert!(
        r.to_string().contains("1 checkpoint(s) record no build"),
        "{r}"
    );
    // The same custody, its checkpoint recording the build.
    let mut b = training_log();
    b.entries.pop();
    b.state = State::new();
    for e in &b.entries {
        b.state.apply(e).unwrap();
    }
    b.checkpoint_signed(
        &["alice", "bob"],
        Signed {
            build: Some([0xb1; 32]),
            ..Default::default()
        },
    );
    let r = run(&b.bytes(), &opts);
    assert!(r.ok, "{r}");
    assert_eq!(r.checkpoints_without_build, 0);
    assert!(!r.to_string().contains("record no build"), "{r}");
}

#[test]
fn a_checkpoint_lists_at_most_255_signers() {
    let b = scenario(CUSTODY);
    let names = |n: usize| -> Vec<String> { (0..n).map(|i| format!("c{i:03}")).collect() };
    let err = prepare_checkpoint(&b.state, &names(256), b.time, b.time, Signed::default())
        .expect_err("256 signers");
    assert!(
        matches!(err, CheckpointError::TooManySigners { count: 256 }),
        "{err:?}"
    );
    // 255 is a length the format holds: those are refused only as not enrolled.
    let err = prepare_checkpoint(&b.state, &names(255), b.time, b.time, Signed::default())
        .expect_err("255 strangers");
    assert!(
        matches!(err, CheckpointError::NotEnrolled { ref name } if name == "c000"),
        "{err:?}"
    );
}
