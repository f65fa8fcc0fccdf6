//! The store: locking, whole appends, transactions, torn tails.

use std::fs;
use std::path::Path;

use crate::log::body::{Body, CheckpointSignature};
use crate::log::checkpoint::CheckpointSigner;
use crate::log::replay::ReplayError;
use crate::log::store::{Store, StoreError, LOCK_FILE, LOG_FILE};
use crate::log::testutil::*;
use crate::log::verify::{verify, VerifyOptions};

fn genesis() -> crate::log::Entry {
    Builder::new(CUSTODY).entries[0].clone()
}

fn enroll(name: &str, serial: u32) -> Body {
    Body::Enroll {
        record: Box::new(record(name, serial)),
        firmware_risk_accepted: false,
    }
}

fn file(dir: &Path) -> Vec<u8> {
    fs::read(dir.join(LOG_FILE)).unwrap()
}

/// A custody with alice and bob enrolled and checkpointed.
fn custody(dir: &Path) -> Store {
    let mut s = Store::init(dir, &genesis()).unwrap();
    let mut tx = s.begin();
    tx.append(T0 + 1, enroll("alice", 1)).unwrap();
    tx.append(T0 + 2, enroll("bob", 2)).unwrap();
    let mut a = SoftSigner::new("alice");
    let mut b = SoftSigner::new("bob");
    tx.checkpoint(&mut [&mut a, &mut b], T0 + 3, T0 + 3)
        .unwrap();
    tx.commit().unwrap();
    s
}

#[test]
fn init_append_reopen_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let s = custody(dir.path());
    let head = s.state().head();
    assert_eq!(s.state().next_seq(), 4);
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.state().head(), head);
    let r = verify(
        &file(dir.path()),
        &FakeAttestation(None),
        &VerifyOptions {
            anchor: Some(head),
            ..Default::default()
        },
    );
    assert!(r.ok, "{r}");
    assert!(matches!(
        Store::init(dir.path(), &genesis()),
        Err(StoreError::Locked { .. })
    ));
    drop(s);
    assert!(matches!(
        Store::init(dir.path(), &genesis()),
        Err(StoreError::AlreadyExists { .. })
    ));
}

#[test]
fn a_refused_genesis_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = genesis();
    if let Body::Genesis { org, .. } = &mut g.body {
        *org = String::new();
    }
    assert!(matches!(
        Store::init(dir.path(), &g),
        Err(StoreError::Unencodable { seq: 0, .. })
    ));
    let mut g = genesis();
    g.seq = 1;
    assert!(matches!(
        Store::init(dir.path(), &g),
        Err(StoreError::Rejected { seq: 1, .. })
    ));
    assert!(!dir.path().join(LOG_FILE).exists());
}

#[test]
fn opening_a_folder_without_a_custody() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::NoCustody { .. }), "{err:?}");
    assert!(err.to_string().contains("glasskeep init"));
}

#[test]
fn a_second_writer_is_refused_naming_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let first = custody(dir.path());
    let err = Store::open(dir.path()).unwrap_err();
    match &err {
        StoreError::Locked { path } => assert_eq!(path, &dir.path().join(LOCK_FILE)),
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(err.to_string().contains("ceremony.log.lock"));
    drop(first);
    Store::open(dir.path()).unwrap();
}

#[test]
fn dropped_transaction_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = custody(dir.path());
    let before = file(dir.path());
    {
        let mut tx = s.begin();
        tx.append(T0 + 10, enroll("carol", 3)).unwrap();
        assert_eq!(tx.staged(), 1);
        assert!(tx.state().custodian("carol").is_some());
    }
    assert_eq!(file(dir.path()), before);
    assert!(s.state().custodian("carol").is_none());
}

#[test]
fn refused_entry_stages_nothing_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = custody(dir.path());
    let before = file(dir.path());
    let mut tx = s.begin();
    tx.append(T0 + 10, enroll("carol", 3)).unwrap();
    let err = tx.append(T0 + 11, enroll("alice", 9)).unwrap_err();
    assert!(matches!(
        err,
        StoreError::Rejected {
            seq: 5,
            source: ReplayError::NameTaken { .. }
        }
    ));
    assert_eq!(tx.staged(), 1);
    drop(tx);
    assert_eq!(file(dir.path()), before);
}

#[test]
fn failed_commit_leaves_the_file_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = custody(dir.path());
    let before = file(dir.path());
    let head = s.state().head();
    s.fail_next_sync = true;
    let mut tx = s.begin();
    tx.append(T0 + 10, enroll("carol", 3)).unwrap();
    tx.append(T0 + 11, enroll("dave", 4)).unwrap();
    assert!(matches!(tx.commit(), Err(StoreError::Io { .. })));
    assert_eq!(file(dir.path()), before);
    assert_eq!(s.state().head(), head);
    // The store is still usable and the retry lands exactly once.
    let mut tx = s.begin();
    tx.append(T0 + 10, enroll("carol", 3)).unwrap();
    tx.commit().unwrap();
    drop(s);
    assert_eq!(Store::open(dir.path()).unwrap().state().next_seq(), 5);
}

#[test]
fn torn_tail_is_reported_with_its_offset_not_built_upon() {
    let dir = tempfile::tempdir().unwrap();
    let s = custody(dir.path());
    let len = s.len();
    let mut tx_bytes = file(dir.path());
    drop(s);
    // A crash mid-append: half a frame after the last good one.
    let mut s = Store::open(dir.path()).unwrap();
    let mut tx = s.begin();
    tx.append(T0 + 10, enroll("carol", 3)).unwrap();
    tx.commit().unwrap();
    let full = file(dir.path());
    drop(s);
    tx_bytes.extend_from_slice(&full[len as usize..len as usize + 20]);
    fs::write(dir.path().join(LOG_FILE), &tx_bytes).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    match err {
        StoreError::TornTail { offset, len: l } => {
            assert_eq!((offset, l), (len, len + 20));
        }
        other => panic!("expected TornTail, got {other:?}"),
    }
    assert!(Store::open(dir.path())
        .unwrap_err()
        .to_string()
        .contains(&format!("truncate -s {len}")));
    assert_eq!(fs::read(dir.path().join(LOG_FILE)).unwrap(), tx_bytes);
}

#[test]
fn damaged_and_edited_files_are_refused_on_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(custody(dir.path()));
    let good = file(dir.path());
    let mut bad = good.clone();
    bad[30] ^= 1;
    fs::write(dir.path().join(LOG_FILE), &bad).unwrap();
    assert!(matches!(
        Store::open(dir.path()),
        Err(StoreError::Corrupt { offset: 0, .. })
    ));
    fs::write(dir.path().join(LOG_FILE), b"").unwrap();
    assert!(matches!(Store::open(dir.path()), Err(StoreError::Empty)));
}

#[test]
fn file_changed_behind_the_lock_is_not_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = custody(dir.path());
    let mut grown = file(dir.path());
    grown.extend_from_slice(b"junk");
    fs::write(dir.path().join(LOG_FILE), &grown).unwrap();
    let mut tx = s.begin();
    tx.append(T0 + 10, enroll("carol", 3)).unwrap();
    assert!(matches!(
        tx.commit(),
        Err(StoreError::ChangedUnderneath { .. })
    ));
    assert_eq!(file(dir.path()), grown);
}

#[test]
fn staged_checkpoints_must_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = custody(dir.path());
    let mut tx = s.begin();
    // A card that is not alice's.
    let mut wrong = SoftSigner {
        name: "alice".into(),
        key: key("mallory"),
    };
    let err = tx.checkpoint(
        &mut [&mut wrong as &mut dyn CheckpointSigner],
        T0 + 9,
        T0 + 9,
    );
    assert!(matches!(
        err,
        Err(StoreError::Checkpoint(
            crate::log::CheckpointError::WrongKey { serial: 1, .. }
        ))
    ));
    let mut a = SoftSigner::new("alice");
    let mut a2 = SoftSigner::new("alice");
    assert!(matches!(
        tx.checkpoint(&mut [&mut a, &mut a2], T0 + 9, T0 + 9),
        Err(StoreError::Checkpoint(
            crate::log::CheckpointError::Duplicate { .. }
        ))
    ));
    assert!(matches!(
        tx.checkpoint(&mut [], T0 + 9, T0 + 9),
        Err(StoreError::Checkpoint(
            crate::log::CheckpointError::NoSigners
        ))
    ));
    // A hand-made checkpoint with a bad signature is refused at staging.
    let forged = crate::log::Entry {
        seq: tx.state().next_seq(),
        prev: tx.state().head(),
        time: T0 + 9,
        body: Body::Checkpoint {
            head: tx.state().head(),
            signatures: vec![CheckpointSignature {
                custodian: "alice".into(),
                signature: [7; 64],
            }],
            clock: T0 + 9,
            plan: None,
            build: None,
            allowed: Default::default(),
        },
    };
    assert!(matches!(
        tx.append_entry(forged),
        Err(StoreError::BadSignature { seq: 4, .. })
    ));
    assert_eq!(tx.staged(), 0);
}

#[test]
fn entries_outside_the_format_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = custody(dir.path());
    let before = file(dir.path());
    let mut tx = s.begin();
    let long_label = seal_body(set(1), &"x".repeat(300), 2, &["alice", "bob"]);
    assert!(matches!(
        tx.append(T0 + 10, long_label),
        Err(StoreError::Unencodable { seq: 4, .. })
    ));
    let far_future = seal_body(set(1), "root", 2, &["alice", "bob"]);
    assert!(matches!(
        tx.append(crate::log::entry::MAX_TIME + 1, far_future),
        Err(StoreError::Unencodable { seq: 4, .. })
    ));
    let mut bad_name = record("eve\u{1b}", 7);
    bad_name.serial = 7;
    assert!(matches!(
        tx.append(
            T0 + 10,
            Body::Enroll {
                record: Box::new(bad_name),
                firmware_risk_accepted: false,
            }
        ),
        Err(StoreError::Unencodable { .. })
    ));
    assert_eq!(tx.staged(), 0);
    drop(tx);
    assert_eq!(file(dir.path()), before);
}
