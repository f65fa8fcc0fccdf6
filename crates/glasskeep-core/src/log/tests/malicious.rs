//! The malicious writer: each kind of corruption, and the class and seq `verify` must
//! name for it.

use crate::log::body::Body;
use crate::log::entry::{labelled_hash, Entry};
use crate::log::frame::write_frame;
use crate::log::testutil::*;
use crate::log::verify::{verify, FailureClass, PolicyClass, VerifyOptions, VerifyReport};
use crate::log::{Kind, CHECKPOINT_LABEL, ENTRY_LABEL};

fn run(bytes: &[u8], opts: &VerifyOptions) -> VerifyReport {
    verify(bytes, &FakeAttestation(None), opts)
}

#[track_caller]
fn rejects(bytes: &[u8], class: FailureClass, seq: u64) {
    rejects_with(bytes, &VerifyOptions::default(), class, seq);
}

#[track_caller]
fn rejects_with(bytes: &[u8], opts: &VerifyOptions, class: FailureClass, seq: u64) {
    let r = run(bytes, opts);
    assert!(!r.ok, "accepted a corrupted log");
    let f = r.failure.expect("a failure is named");
    assert_eq!((f.class, f.seq), (class, Some(seq)), "{}", f.detail);
}

fn base() -> Vec<Entry> {
    scenario(CUSTODY).entries
}

/// Index of the first entry of `kind` at or after `from`.
fn find(entries: &[Entry], kind: Kind, from: usize) -> usize {
    (from..entries.len())
        .find(|&i| entries[i].body.kind() == kind)
        .expect("scenario has it")
}

/// Frame boundaries: offset of each frame, and the file length.
fn offsets(entries: &[Entry]) -> Vec<usize> {
    let mut v = vec![0];
    for e in entries {
        v.push(v.last().unwrap() + 8 + e.to_bytes().len() + 32);
    }
    v
}

#[test]
fn the_scenario_verifies_clean() {
    let b = scenario(CUSTODY);
    assert_eq!(b.entries.len(), 94);
    let opts = VerifyOptions {
        anchor: Some(b.state.head()),
        now: Some(b.time),
        lenient: false,
        ..Default::default()
    };
    let r = run(&b.bytes(), &opts);
    assert!(r.ok, "{r}");
    assert!(r.violations.is_empty(), "{r}");
    assert_eq!((r.entries, r.checkpoints, r.signatures), (94, 38, 64));
    assert_eq!(r.anchor_seq, Some(93));
    assert_eq!(r.training, Some(false));
}

#[test]
fn bit_flip_at_rest_is_framing() {
    let e = base();
    let open = find(&e, Kind::Open, 0);
    let mut bytes = frame_all(&e);
    bytes[offsets(&e)[open] + 20] ^= 0x10;
    rejects(&bytes, FailureClass::Framing, open as u64);
    // The trailer itself, and the magic.
    let mut bytes = frame_all(&e);
    bytes[offsets(&e)[open + 1] - 1] ^= 1;
    rejects(&bytes, FailureClass::Framing, open as u64);
    let mut bytes = frame_all(&e);
    bytes[offsets(&e)[open]] ^= 1;
    rejects(&bytes, FailureClass::Framing, open as u64);
}

#[test]
fn edited_fields_with_recomputed_frames() {
    let e = base();
    let k = find(&e, Kind::Open, 0);
    let edit = |f: &dyn Fn(&mut Entry)| {
        let mut v = e.clone();
        f(&mut v[k]);
        frame_all(&v)
    };
    rejects(&edit(&|x| x.seq += 1), FailureClass::Sequence, k as u64);
    rejects(&edit(&|x| x.prev[7] ^= 4), FailureClass::HashLink, k as u64);
    rejects(
        &edit(&|x| x.time += 1),
        FailureClass::HashLink,
        k as u64 + 1,
    );
    let reason = |x: &mut Entry| {
        if let Body::Open { reason, .. } = &mut x.body {
            reason.push('!');
        }
    };
    rejects(&edit(&reason), FailureClass::HashLink, k as u64 + 1);
    let custodians = |x: &mut Entry| {
        if let Body::Open { custodians, .. } = &mut x.body {
            custodians.swap(0, 1);
        }
    };
    rejects(&edit(&custodians), FailureClass::HashLink, k as u64 + 1);
}

/// Rewrites one entry's CBOR byte and frames it with a correct trailer.
fn patch_cbor(e: &[Entry], k: usize, at: usize, value: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, x) in e.iter().enumerate() {
        let mut cbor = x.to_bytes();
        if i == k {
            cbor[at] = value;
        }
        write_frame(&mut out, &cbor, &labelled_hash(ENTRY_LABEL, &cbor));
    }
    out
}

#[test]
fn kind_and_version_bytes_are_decode_failures() {
    let e = base();
    let k = find(&e, Kind::Open, 0);
    // Map head, key 1, version 2: byte 2 is the version.
    rejects(&patch_cbor(&e, k, 2, 0x01), FailureClass::Decode, k as u64);
    rejects(&patch_cbor(&e, k, 2, 0x03), FailureClass::Decode, k as u64);
    let cbor = e[k].to_bytes();
    // The kind sits right after key 5 (0x05) which follows the time.
    let kind_at = cbor.windows(2).position(|w| w == [0x05, 0x03]).unwrap() + 1;
    rejects(
        &patch_cbor(&e, k, kind_at, 0x04),
        FailureClass::Decode,
        k as u64,
    );
    rejects(
        &patch_cbor(&e, k, kind_at, 0x17),
        FailureClass::Decode,
        k as u64,
    );
}

#[test]
fn deleted_duplicated_swapped_entries() {
    let e = base();
    let k = 12;
    let mut v = e.clone();
    v.remove(k);
    rejects(&frame_all(&v), FailureClass::Sequence, k as u64);
    let mut v = e.clone();
    v.insert(k, e[k].clone());
    rejects(&frame_all(&v), FailureClass::Sequence, k as u64 + 1);
    let mut v = e.clone();
    v.swap(k, k + 1);
    rejects(&frame_all(&v), FailureClass::Sequence, k as u64);
}

#[test]
fn truncated_file_is_a_torn_tail() {
    let e = base();
    let bytes = frame_all(&e);
    for cut in [1, 7, 9, 40, 33] {
        rejects(&bytes[..bytes.len() - cut], FailureClass::TornTail, 93);
    }
    // Cut inside the header.
    let at = offsets(&e)[93] + 3;
    rejects(&bytes[..at], FailureClass::TornTail, 93);
}

#[test]
fn forged_appended_entries() {
    let b = scenario(CUSTODY);
    let mut v = b.entries.clone();
    // A legal-looking opening appended by someone with file access and no keys.
    v.push(Entry {
        seq: 94,
        prev: b.state.head(),
        time: b.time,
        body: Body::Open {
            set: set(5),
            reason: "forged".into(),
            incident: String::new(),
            custodians: vec!["alice".into(), "bob".into()],
            envelopes: vec![envelope(set(5), 0), envelope(set(5), 1)],
        },
    });
    let forged_open = frame_all(&v);
    // Its review and rotation are still within their windows: pending, not the
    // failure. Nobody signed it: that is.
    rejects(
        &forged_open,
        FailureClass::Policy(PolicyClass::UncheckpointedTail),
        94,
    );
    let lenient = VerifyOptions {
        lenient: true,
        ..Default::default()
    };
    let r = run(&forged_open, &lenient);
    let kinds: Vec<String> = r.violations.iter().map(|f| f.kind.to_string()).collect();
    assert_eq!(kinds, ["policy/uncheckpointed-tail"], "{r}");
    let kinds: Vec<String> = r.pending.iter().map(|f| f.kind.to_string()).collect();
    assert_eq!(kinds, ["pending/review", "pending/rotate"], "{r}");
    assert!(r.ok);
    // ...followed by a checkpoint "signed" by the attacker under two names.
    v.push(Entry {
        seq: 95,
        prev: v[94].hash(),
        time: b.time,
        body: Body::Checkpoint {
            head: v[94].hash(),
            signatures: vec![],
            clock: 0,
            plan: None,
            build: None,
            allowed: Default::default(),
        },
    });
    let m = key("mallory");
    resign(&mut v, 95, &CUSTODY, &[("alice", &m), ("bob", &m)]);
    rejects(&frame_all(&v), FailureClass::Signature, 95);
}

#[test]
fn reordered_and_relinked() {
    let e = base();
    // The review moved before its opening: the chain is redone, replay refuses it.
    let open = find(&e, Kind::Open, 0);
    let review = find(&e, Kind::Review, 0);
    let mut v = e.clone();
    let r = v.remove(review);
    v.insert(open, r);
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::Replay, open as u64);
    // Two harmless entries swapped (two destructions): the next checkpoint no longer
    // signs this history.
    let mut v = e.clone();
    let d = find(&e, Kind::EnvelopeDestroyed, review);
    v.swap(d, d + 1);
    // Keep the claimed times in order so only the checkpoint can tell.
    let t = v[d].time;
    v[d].time = v[d + 1].time;
    v[d + 1].time = t;
    relink(&mut v);
    let cp = find(&v, Kind::Checkpoint, d);
    rejects(&frame_all(&v), FailureClass::Signature, cp as u64);
}

#[test]
fn signatures_replaced_wrong_key_unknown_signer() {
    let e = base();
    let cp = find(&e, Kind::Checkpoint, find(&e, Kind::Open, 0));
    let first_cp = find(&e, Kind::Checkpoint, 0);
    // Alice's valid signature from another checkpoint: bound to another position.
    let mut v = e.clone();
    let (
        Body::Checkpoint {
            signatures: old, ..
        },
        Body::Checkpoint {
            signatures: new, ..
        },
    ) = (e[first_cp].body.clone(), &mut v[cp].body)
    else {
        panic!("not checkpoints")
    };
    new[0] = old[0].clone();
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::Signature, cp as u64);
    // A signature by another key under alice's name.
    let mut v = e.clone();
    resign(
        &mut v,
        cp,
        &CUSTODY,
        &[("alice", &key("mallory")), ("bob", &key("bob"))],
    );
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::Signature, cp as u64);
    // Bob's key signing as alice (a real custodian, the wrong one).
    let mut v = e.clone();
    resign(
        &mut v,
        cp,
        &CUSTODY,
        &[("alice", &key("bob")), ("bob", &key("bob"))],
    );
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::Signature, cp as u64);
    // A signer who was never enrolled.
    let mut v = e.clone();
    resign(
        &mut v,
        cp,
        &CUSTODY,
        &[("alice", &key("alice")), ("mallory", &key("mallory"))],
    );
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::UnknownSigner, cp as u64);
    // No signature at all.
    let mut v = e.clone();
    resign(&mut v, cp, &CUSTODY, &[]);
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::Replay, cp as u64);
}

#[test]
fn high_s_spelling_of_a_valid_signature_is_refused() {
    let e = base();
    let cp = find(&e, Kind::Checkpoint, 0);
    let mut v = e.clone();
    if let Body::Checkpoint { signatures, .. } = &mut v[cp].body {
        let sig = p256::ecdsa::Signature::from_slice(&signatures[0].signature).unwrap();
        let (r, s) = sig.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        signatures[0].signature.copy_from_slice(&high.to_bytes());
    }
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::Signature, cp as u64);
}

#[test]
fn wrong_domain_labels() {
    let e = base();
    // Entries hashed under the checkpoint label (links consistent with that label).
    let mut out = Vec::new();
    for x in &e {
        let cbor = x.to_bytes();
        write_frame(&mut out, &cbor, &labelled_hash(CHECKPOINT_LABEL, &cbor));
    }
    rejects(&out, FailureClass::DomainLabel, 0);
    // A checkpoint signed over the head hashed under the entry label instead of the
    // checkpoint signature input.
    let cp = find(&e, Kind::Checkpoint, 0);
    let mut v = e.clone();
    if let Body::Checkpoint {
        head, signatures, ..
    } = &mut v[cp].body
    {
        let digest = labelled_hash(ENTRY_LABEL, head);
        for s in signatures.iter_mut() {
            s.signature = raw_sign(&key(&s.custodian), &digest);
        }
    }
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::Signature, cp as u64);
}

#[test]
fn rolled_back_file_fails_the_anchor() {
    let b = scenario(CUSTODY);
    let full = b.bytes();
    let anchor = VerifyOptions {
        anchor: Some(b.state.head()),
        ..Default::default()
    };
    let cut = offsets(&b.entries)[32];
    rejects_with(&full[..cut], &anchor, FailureClass::Anchor, 31);
    // An older anchor inside a longer file is fine: the file grew since.
    let older = VerifyOptions {
        anchor: Some(b.entries[31].hash()),
        ..Default::default()
    };
    assert_eq!(run(&full, &older).anchor_seq, Some(31));
    // A rewritten history with a valid chain does not contain the anchor either.
    let mut v = b.entries.clone();
    v.truncate(50);
    rejects_with(&frame_all(&v), &anchor, FailureClass::Anchor, 49);
}

#[test]
fn entries_from_another_custody() {
    let e = base();
    let other = scenario([0x77; 16]).entries;
    let mut v = e.clone();
    v[12] = other[12].clone();
    rejects(&frame_all(&v), FailureClass::HashLink, 12);
    // The whole history transplanted under another custody id, relinked: every
    // checkpoint signature was bound to the original custody.
    let mut v = e.clone();
    v[0] = other[0].clone();
    relink(&mut v);
    rejects(&frame_all(&v), FailureClass::Signature, 6);
}

#[test]
fn attestation_refused() {
    let b = scenario(CUSTODY);
    let r = verify(
        &b.bytes(),
        &FakeAttestation(Some("bob")),
        &VerifyOptions::default(),
    );
    let f = r.failure.unwrap();
    assert_eq!((f.class, f.seq), (FailureClass::Attestation, Some(2)));
}
