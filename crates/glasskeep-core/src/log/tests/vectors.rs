//! Known-answer vectors in tests/vectors/log/: entries, checkpoint signatures and whole
//! logs, positive and (mostly) negative. One test checks the files against the format
//! rules on their own; another pins them to what this code writes (set
//! `GLASSKEEP_WRITE_VECTORS=1` to rewrite them after a deliberate format change).

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::hex;
use crate::log::body::Allowances;
use crate::log::body::{Body, Kind, Verdict};
use crate::log::checkpoint::{signature_input, signature_valid, Signed};
use crate::log::entry::{Entry, EntryError};
use crate::log::frame::write_frame;
use crate::log::testutil::*;
use crate::log::verify::{verify, VerifyOptions};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/log")
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// A small custody touching every kind: 15 entries.
fn small() -> Builder {
    let mut b = Builder::new([0x11; 16]);
    // 1-4: the first custodians enroll together, each cosigning.
    b.enroll("alice", 1);
    b.enroll("bob", 2);
    b.enroll("carol", 3);
    b.checkpoint(&["alice", "bob", "carol"]);
    // 5-6: sealed and cosigned by its threshold of holders.
    b.seal(set(1), "root", 2, &["alice", "bob"]);
    b.checkpoint(&["alice", "bob"]);
    // 7-8: a share check, cosigned by its custodian alone.
    b.push(Body::ShareCheck {
        set: set(1),
        custodian: "bob".into(),
        envelope: envelope(set(1), 1),
    });
    b.checkpoint(&["bob"]);
    let both = |s| {
        (
            vec!["alice".into(), "bob".into()],
            vec![envelope(s, 0), envelope(s, 1)],
        )
    };
    // 9-12: a drill and an opening, each cosigned by exactly its custodians.
    let (custodians, envelopes) = both(set(1));
    b.push(Body::Drill {
        set: set(1),
        custodians,
        envelopes,
    });
    b.checkpoint(&["alice", "bob"]);
    let (custodians, envelopes) = both(set(1));
    let open = b.push(Body::Open {
        set: set(1),
        reason: "IdP down".into(),
        incident: "INC-7".into(),
        custodians,
        envelopes,
    });
    b.checkpoint(&["alice", "bob"]);
    // 13-14: reviewed by someone who did not take part.
    b.push(Body::Review {
        open_seq: open,
        verdict: Verdict::Justified,
        notes: "confirmed".into(),
    });
    b.checkpoint(&["carol"]);
    // 15-17: rotated by the old set's threshold.
    b.seal(set(2), "root", 2, &["alice", "bob"]);
    b.push(Body::Rotate {
        old: set(1),
        new: set(2),
    });
    b.checkpoint(&["alice", "bob"]);
    // 18-20: destruction, cosigned by exactly its two witnesses.
    for i in 0..2 {
        b.push(Body::EnvelopeDestroyed {
            envelope: envelope(set(1), i),
            witnesses: vec!["alice".into(), "carol".into()],
        });
    }
    b.checkpoint(&["alice", "carol"]);
    // 21-22: a later custodian, with the custody quorum of earlier ones.
    b.enroll("dave", 4);
    b.checkpoint(&["alice", "bob", "dave"]);
    // 23-24: a retirement, by the custody quorum of others.
    b.push(Body::Retire {
        custodian: "carol".into(),
        reason: "left the company".into(),
    });
    b.checkpoint(&["alice", "bob"]);
    // 25-28: root's pending set 2 acknowledged by each of its custodians; the last
    // share check activates it and supersedes set 1.
    for (i, who) in ["alice", "bob"].iter().enumerate() {
        b.push(Body::ShareCheck {
            set: set(2),
            custodian: (*who).into(),
            envelope: envelope(set(2), i),
        });
        b.checkpoint(&[who]);
    }
    // 29-30: another credential, 2 of 3.
    let trio = ["alice", "bob", "dave"];
    b.seal(set(3), "db", 2, &trio);
    b.checkpoint(&["alice", "bob"]);
    // 31-33: rotated; 34-37: two of its three custodians acknowledge.
    b.seal(set(4), "db", 2, &trio);
    b.push(Body::Rotate {
        old: set(3),
        new: set(4),
    });
    b.checkpoint(&["alice", "bob"]);
    for (i, who) in ["alice", "bob"].iter().enumerate() {
        b.push(Body::ShareCheck {
            set: set(4),
            custodian: (*who).into(),
            envelope: envelope(set(4), i),
        });
        b.checkpoint(&[who]);
    }
    // 38-39: the old set's threshold activates it without dave's acknowledgement.
    b.push(Body::Activate {
        set: set(4),
        missing: vec!["dave".into()],
    });
    b.checkpoint(&["alice", "bob"]);
    b
}

/// The error's variant path, e.g. `Cbor/NonCanonical` or `UnknownVersion`.
fn error_name(e: &EntryError) -> String {
    let name = |d: String| d.split([' ', '(', '{']).next().unwrap_or("").to_string();
    match e {
        EntryError::Cbor(c) => format!("Cbor/{}", name(format!("{c:?}"))),
        other => name(format!("{other:?}")),
    }
}

/// Replaces the first occurrence of `from` at or after byte 49 (the body) by `to`.
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = 49
        + bytes[49..]
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern in body");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

fn generate() -> (Value, Value, Value, Value) {
    let b = small();
    let e = &b.entries;
    let first = |k: Kind| e.iter().find(|x| x.body.kind() == k).unwrap().to_bytes();
    let mut entries: Vec<Value> = [0usize, 1, 4, 5, 7, 9, 11, 13, 16, 18, 23, 38]
        .iter()
        .map(|&i| {
            json!({"kind": e[i].body.kind().name(), "seq": e[i].seq,
                   "cbor": hex::encode(&e[i].to_bytes()), "hash": hex::encode(&e[i].hash())})
        })
        .collect();

    // A checkpoint with every optional key: plan (4), build (5), allowances (6, both).
    let full_cp = {
        let i = e
            .iter()
            .position(|x| x.body.kind() == Kind::Checkpoint)
            .unwrap();
        let mut x = e[i].clone();
        if let Body::Checkpoint {
            plan,
            build,
            allowed,
            ..
        } = &mut x.body
        {
            *plan = Some([0x77; 32]);
            *build = Some([0xb2; 32]);
            allowed.network = true;
            allowed.scripted_pins = true;
        }
        x
    };
    entries.push(json!({"kind": "checkpoint", "seq": full_cp.seq,
        "cbor": hex::encode(&full_cp.to_bytes()), "hash": hex::encode(&full_cp.hash())}));
    let full_cp = full_cp.to_bytes();
    assert_eq!(&full_cp[full_cp.len() - 2..], &[0x06, 0x03]);

    let open = first(Kind::Open);
    let genesis = first(Kind::Genesis);
    let enroll = first(Kind::Enroll);
    let seal = first(Kind::Seal);
    let review = first(Kind::Review);
    let cp = first(Kind::Checkpoint);
    let set_at = |b: &[u8], i: usize, v: u8| {
        let mut c = b.to_vec();
        c[i] = v;
        c
    };
    let mut trailing = open.clone();
    trailing.push(0);
    let long_seq = [&open[..4], &[0x18, open[4]], &open[5..]].concat();
    let short_prev = [&open[..7], &[0x1f], &open[8..39], &open[40..]].concat();
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("version 1 (before quorums)", set_at(&open, 2, 0x01)),
        ("version 3", set_at(&open, 2, 0x03)),
        ("version 0", set_at(&open, 2, 0x00)),
        ("unknown kind 12", set_at(&open, 47, 0x0c)),
        (
            "kind says activate, body is an opening",
            set_at(&open, 47, 0x0b),
        ),
        (
            "kind says seal, body is an opening",
            set_at(&open, 47, 0x02),
        ),
        ("trailing byte", trailing),
        ("truncated", open[..open.len() - 1].to_vec()),
        ("seq not in shortest form", long_seq),
        ("seven pairs in the entry map", set_at(&open, 0, 0xa7)),
        ("indefinite-length map", set_at(&open, 0, 0xbf)),
        ("keys out of order", set_at(&open, 1, 0x02)),
        ("prev of 31 bytes", short_prev),
        ("time as a negative integer", set_at(&open, 41, 0x3a)),
        ("time as a float", set_at(&open, 41, 0xfa)),
        ("time after 9999-12-31", {
            let mut c = open[..41].to_vec();
            c.extend_from_slice(&[0x1b, 0, 0, 0, 0x3b, 0, 0, 0, 0]);
            c.extend_from_slice(&open[46..]);
            c
        }),
        ("tagged body", [&open[..49], &[0xc0], &open[49..]].concat()),
        (
            "training flag as an integer",
            patch(&genesis, &[0x02, 0xf4], &[0x02, 0x01]),
        ),
        ("genesis without a custodian term (a map of 6)", {
            let c = patch(&genesis, &[0xa7, 0x01], &[0xa6, 0x01]);
            // The term is the last pair: key 7, 31 536 000 seconds.
            assert_eq!(&c[c.len() - 6..], &[0x07, 0x1a, 0x01, 0xe1, 0x33, 0x80]);
            c[..c.len() - 6].to_vec()
        }),
        ("custodian term of one second", {
            let mut c = genesis[..genesis.len() - 5].to_vec();
            c.push(0x01);
            c
        }),
        ("checkpoint build hash as an integer", {
            let mut c = patch(&cp, &[0xa3, 0x01, 0x58], &[0xa5, 0x01, 0x58]);
            c.extend_from_slice(&[0x04, 0x58, 0x20]);
            c.extend_from_slice(&[0x77; 32]);
            c.extend_from_slice(&[0x05, 0x00]);
            c
        }),
        ("checkpoint plan hash of 31 bytes", {
            let mut c = patch(&cp, &[0xa3, 0x01, 0x58], &[0xa4, 0x01, 0x58]);
            c.extend_from_slice(&[0x04, 0x58, 0x1f]);
            c.extend_from_slice(&[0x77; 31]);
            c
        }),
        ("checkpoint allowances 0", {
            let mut c = patch(&cp, &[0xa3, 0x01, 0x58], &[0xa4, 0x01, 0x58]);
            c.extend_from_slice(&[0x06, 0x00]);
            c
        }),
        ("checkpoint allowances 4 (an unknown bit)", {
            let mut c = patch(&cp, &[0xa3, 0x01, 0x58], &[0xa4, 0x01, 0x58]);
            c.extend_from_slice(&[0x06, 0x04]);
            c
        }),
        ("checkpoint with an unknown key 7", {
            let mut c = patch(&cp, &[0xa3, 0x01, 0x58], &[0xa4, 0x01, 0x58]);
            c.extend_from_slice(&[0x07, 0x01]);
            c
        }),
        ("checkpoint keys 5 then 4", {
            let mut c = patch(&cp, &[0xa3, 0x01, 0x58], &[0xa5, 0x01, 0x58]);
            c.extend_from_slice(&[0x05, 0x58, 0x20]);
            c.extend_from_slice(&[0xb2; 32]);
            c.extend_from_slice(&[0x04, 0x58, 0x20]);
            c.extend_from_slice(&[0x77; 32]);
            c
        }),
        ("checkpoint key 5 twice", {
            let mut c = patch(&cp, &[0xa3, 0x01, 0x58], &[0xa5, 0x01, 0x58]);
            for _ in 0..2 {
                c.extend_from_slice(&[0x05, 0x58, 0x20]);
                c.extend_from_slice(&[0xb2; 32]);
            }
            c
        }),
        ("checkpoint map of 7 pairs", {
            let mut c = patch(&full_cp, &[0xa6, 0x01, 0x58], &[0xa7, 0x01, 0x58]);
            c.extend_from_slice(&[0x07, 0x01]);
            c
        }),
        ("activation listing nobody missing", {
            let act = first(Kind::Activate);
            let at = act.len() - 6;
            assert_eq!(&act[at..], &[0x81, 0x64, b'd', b'a', b'v', b'e']);
            [&act[..at], &[0x80][..]].concat()
        }),
        (
            "quorum 1 in genesis",
            patch(&genesis, &[0x06, 0x02], &[0x06, 0x01]),
        ),
        (
            "bidi override in a reason",
            patch(&open, b"IdP", b"\xe2\x80\xae"),
        ),
        (
            "escape character in notes",
            patch(&review, b"conf", b"\x1b[1A"),
        ),
        (
            "control character in a name",
            patch(&enroll, b"alice", b"al\x07ce"),
        ),
        (
            "threshold 256",
            patch(&seal, &[0x04, 0x02, 0x05], &[0x04, 0x19, 0x01, 0x00, 0x05]),
        ),
        ("seal without its review window (a map of 9)", {
            let c = patch(&seal, &[0xaa, 0x01, 0x50], &[0xa9, 0x01, 0x50]);
            // The review window is the last pair: key 10, 604 800 seconds.
            assert_eq!(&c[c.len() - 6..], &[0x0a, 0x1a, 0x00, 0x09, 0x3a, 0x80]);
            c[..c.len() - 6].to_vec()
        }),
        ("seal with an unknown key 11", {
            let mut c = patch(&seal, &[0xaa, 0x01, 0x50], &[0xab, 0x01, 0x50]);
            c.extend_from_slice(&[0x0b, 0x00]);
            c
        }),
        ("review window as a negative integer", {
            let mut c = seal[..seal.len() - 5].to_vec();
            c.extend_from_slice(&[0x3a, 0x00, 0x09, 0x3a, 0x7f]);
            c
        }),
        (
            "secret kind 4",
            patch(&seal, &[0x03, 0x00, 0x04], &[0x03, 0x04, 0x04]),
        ),
        (
            "verdict 2",
            patch(&review, &[0x02, 0x00, 0x03], &[0x02, 0x02, 0x03]),
        ),
        ("signature of 63 bytes", {
            let c = patch(&cp, &[0x58, 0x40], &[0x58, 0x3f]);
            [&c[..c.len() - 1]].concat()
        }),
    ];
    let invalid: Vec<Value> = bad
        .iter()
        .map(|(name, c)| {
            let err = Entry::from_bytes(c).expect_err(name);
            json!({"name": name, "cbor": hex::encode(c), "error": error_name(&err)})
        })
        .collect();

    // Checkpoint signature input and signatures with alice's fixed key.
    let cid = [0x11u8; 16];
    let head = e[6].hash();
    let time = T0 + 420;
    let signers = ["alice", "bob"];
    let none = Signed::default();
    let digest = signature_input(&cid, 7, &head, time, &signers, &none);
    let plan = [0x77u8; 32];
    let planned = Signed {
        plan: Some(plan),
        ..none
    };
    let planned_sig = raw_sign(
        &key("alice"),
        &signature_input(&cid, 7, &head, time, &signers, &planned),
    );
    // A checkpoint as glasskeep writes them now: the build that made it, and a
    // ceremony run with --allow-network.
    let built = Signed {
        plan: Some(plan),
        build: Some([0xb2; 32]),
        allowed: Allowances {
            network: true,
            scripted_pins: false,
        },
    };
    let built_sig = raw_sign(
        &key("alice"),
        &signature_input(&cid, 7, &head, time, &signers, &built),
    );
    let build_dropped = Signed {
        build: None,
        ..built
    };
    let other_build = Signed {
        build: Some([0xb3; 32]),
        ..built
    };
    let allowance_dropped = Signed {
        allowed: Allowances::default(),
        ..built
    };
    let allowance_added = Signed {
        allowed: Allowances {
            network: true,
            scripted_pins: true,
        },
        ..built
    };
    let k = key("alice");
    let sig = raw_sign(&k, &digest);
    let ck = |name: &str,
              cid: [u8; 16],
              seq: u64,
              head: [u8; 32],
              time: u64,
              signers: &[&str],
              pk: [u8; 33],
              sig: [u8; 64],
              signed: Signed| {
        let d = signature_input(&cid, seq, &head, time, signers, &signed);
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
        json!({"name": name, "custody_id": hex::encode(&cid), "seq": seq, "head": hex::encode(&head),
               "time": time, "signers": signers, "plan": signed.plan.map(|p| hex::encode(&p)),
               "build": signed.build.map(|b| hex::encode(&b)), "allowed": signed.allowed.bits(),
               "digest": hex::encode(&d), "public_key": hex::encode(&pk), "signature": hex::encode(&sig),
               "valid": signature_valid(&vk, &d, &sig)})
    };
    let mut high = sig;
    {
        let s = p256::ecdsa::Signature::from_slice(&sig).unwrap();
        let (r, s) = s.split_scalars();
        let h = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        high.copy_from_slice(&h.to_bytes());
    }
    let mut other_head = head;
    other_head[0] ^= 1;
    let checkpoints = json!([
        {"private_key": hex::encode(&k.to_bytes()), "vector": ck("valid", cid, 7, head, time, &signers, public("alice"), sig, none)},
        {"vector": ck("other custody", [0x12; 16], 7, head, time, &signers, public("alice"), sig, none)},
        {"vector": ck("other position", cid, 8, head, time, &signers, public("alice"), sig, none)},
        {"vector": ck("other head", cid, 7, other_head, time, &signers, public("alice"), sig, none)},
        {"vector": ck("other time", cid, 7, head, time + 1, &signers, public("alice"), sig, none)},
        {"vector": ck("signer dropped", cid, 7, head, time, &["alice"], public("alice"), sig, none)},
        {"vector": ck("signer added", cid, 7, head, time, &["alice", "bob", "carol"], public("alice"), sig, none)},
        {"vector": ck("signers reordered", cid, 7, head, time, &["bob", "alice"], public("alice"), sig, none)},
        {"vector": ck("other key", cid, 7, head, time, &signers, public("bob"), sig, none)},
        {"vector": ck("high s", cid, 7, head, time, &signers, public("alice"), high, none)},
        {"vector": ck("under a plan", cid, 7, head, time, &signers, public("alice"), planned_sig, planned)},
        {"vector": ck("plan hash dropped", cid, 7, head, time, &signers, public("alice"), planned_sig, none)},
        {"vector": ck("plan hash added", cid, 7, head, time, &signers, public("alice"), sig, planned)},
        {"vector": ck("zero signature", cid, 7, head, time, &signers, public("alice"), [0; 64], none)},
        {"vector": ck("with build and allowances", cid, 7, head, time, &signers, public("alice"), built_sig, built)},
        {"vector": ck("build hash dropped", cid, 7, head, time, &signers, public("alice"), built_sig, build_dropped)},
        {"vector": ck("other build", cid, 7, head, time, &signers, public("alice"), built_sig, other_build)},
        {"vector": ck("allowance dropped", cid, 7, head, time, &signers, public("alice"), built_sig, allowance_dropped)},
        {"vector": ck("allowance added", cid, 7, head, time, &signers, public("alice"), built_sig, allowance_added)},
    ]);

    // Whole logs.
    let log = |v: &[Entry]| hex::encode(&frame_all(v));
    let mut logs = vec![json!({"name": "valid", "log": log(e), "expect": "ok"})];
    let mut neg = |name: &str, bytes: Vec<u8>| {
        let r = verify(&bytes, &FakeAttestation(None), &VerifyOptions::default());
        let f = r.failure.expect(name);
        logs.push(json!({"name": name, "log": hex::encode(&bytes),
                         "expect": f.class.to_string(), "seq": f.seq}));
    };
    let full = frame_all(e);
    let mut x = full.clone();
    x[100] ^= 4;
    neg("bit flip at rest", x);
    neg("torn tail", full[..full.len() - 10].to_vec());
    let mut v = e.clone();
    v.remove(5);
    neg("deleted entry", frame_all(&v));
    let mut v = e.clone();
    v.insert(5, e[5].clone());
    neg("duplicated entry", frame_all(&v));
    let mut v = e.clone();
    v.swap(4, 5);
    neg("swapped entries", frame_all(&v));
    let mut v = e.clone();
    v[6].time += 1;
    neg("edited time, frame recomputed", frame_all(&v));
    let mut v = e.clone();
    resign(
        &mut v,
        10,
        &[0x11; 16],
        &[("alice", &key("mallory")), ("bob", &key("bob"))],
    );
    relink(&mut v);
    neg("wrong key, chain recomputed", frame_all(&v));
    let mut v = e.clone();
    resign(
        &mut v,
        10,
        &[0x11; 16],
        &[("alice", &key("alice")), ("mallory", &key("mallory"))],
    );
    relink(&mut v);
    neg("unknown signer", frame_all(&v));
    // Each act with the right custodians' real signatures, but not the quorum its kind
    // needs: the checkpoint is re-signed by fewer or other custodians.
    let signed = |who: &[&str]| -> Vec<(String, p256::ecdsa::SigningKey)> {
        who.iter().map(|n| (n.to_string(), key(n))).collect()
    };
    for (name, cp, who) in [
        ("bootstrap enrolled alone", 4, &["alice"][..]),
        ("sealed by one holder", 6, &["alice"][..]),
        ("opening cosigned by another", 12, &["alice", "carol"][..]),
        ("self-review", 14, &["alice"][..]),
        ("rotation by one", 17, &["alice"][..]),
        ("one-card destroy", 20, &["alice"][..]),
        ("enrolled without the quorum", 22, &["dave"][..]),
        ("retirement by one", 24, &["alice"][..]),
    ] {
        let mut v = e.clone();
        let keys = signed(who);
        let pairs: Vec<(&str, &p256::ecdsa::SigningKey)> =
            keys.iter().map(|(n, k)| (n.as_str(), k)).collect();
        relink(&mut v);
        resign(&mut v, cp, &[0x11; 16], &pairs);
        relink(&mut v);
        // Re-sign every later checkpoint too, so only the quorum is wrong.
        for later in (cp + 1)..v.len() {
            if let Body::Checkpoint { signatures, .. } = &v[later].body {
                let names: Vec<String> = signatures.iter().map(|s| s.custodian.clone()).collect();
                let keys = signed(&names.iter().map(String::as_str).collect::<Vec<_>>());
                let pairs: Vec<(&str, &p256::ecdsa::SigningKey)> =
                    keys.iter().map(|(n, k)| (n.as_str(), k)).collect();
                resign(&mut v, later, &[0x11; 16], &pairs);
                relink(&mut v);
            }
        }
        neg(name, frame_all(&v));
    }
    let mut v = e.clone();
    v[0] = Builder::new([0x12; 16]).entries[0].clone();
    relink(&mut v);
    neg("history moved to another custody", frame_all(&v));
    let mut v = e.clone();
    let r = v.remove(13);
    v.insert(9, r);
    relink(&mut v);
    neg("review before its opening", frame_all(&v));
    let mut out = Vec::new();
    for x in e {
        let c = x.to_bytes();
        write_frame(
            &mut out,
            &c,
            &crate::log::entry::labelled_hash(crate::log::CHECKPOINT_LABEL, &c),
        );
    }
    neg("hashed under the checkpoint label", out);
    neg("uncheckpointed tail", frame_all(&e[..14]));
    neg("empty file", Vec::new());
    neg("not a log", b"GKL0not a log at all, just text".to_vec());
    (json!(entries), json!(invalid), checkpoints, json!(logs))
}

const FILES: [&str; 4] = [
    "entries.json",
    "entries-invalid.json",
    "checkpoints.json",
    "logs.json",
];

#[test]
fn vectors_are_what_this_code_writes() {
    let (a, b, c, d) = generate();
    for (name, v) in FILES.iter().zip([a, b, c, d]) {
        let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
        let path = dir().join(name);
        if std::env::var_os("GLASSKEEP_WRITE_VECTORS").is_some() {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert!(on_disk == text, "{name} differs from what this code writes");
    }
}

fn hash32(v: &Value) -> Option<[u8; 32]> {
    v.as_str().map(|p| <[u8; 32]>::try_from(unhex(p)).unwrap())
}

fn load(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn vectors_hold_on_their_own() {
    let mut positive = 0;
    let mut negative = 0;
    for v in load("entries.json") {
        let cbor = unhex(v["cbor"].as_str().unwrap());
        let e = Entry::from_bytes(&cbor).unwrap();
        assert_eq!(
            e.to_bytes(),
            cbor,
            "parse -> serialize gives the same bytes"
        );
        assert_eq!(hex::encode(&e.hash()), v["hash"].as_str().unwrap());
        assert_eq!(e.body.kind().name(), v["kind"].as_str().unwrap());
        positive += 1;
    }
    for v in load("entries-invalid.json") {
        let err = Entry::from_bytes(&unhex(v["cbor"].as_str().unwrap())).unwrap_err();
        assert_eq!(
            error_name(&err),
            v["error"].as_str().unwrap(),
            "{}",
            v["name"]
        );
        negative += 1;
    }
    for v in load("checkpoints.json") {
        let c = &v["vector"];
        let h = |k: &str| unhex(c[k].as_str().unwrap());
        let signers: Vec<&str> = c["signers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let digest = signature_input(
            &h("custody_id").try_into().unwrap(),
            c["seq"].as_u64().unwrap(),
            &h("head").try_into().unwrap(),
            c["time"].as_u64().unwrap(),
            &signers,
            &Signed {
                plan: hash32(&c["plan"]),
                build: hash32(&c["build"]),
                allowed: Allowances::from_bits(c["allowed"].as_u64().unwrap()).unwrap_or_default(),
            },
        );
        assert_eq!(digest.to_vec(), h("digest"));
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&h("public_key")).unwrap();
        let valid = signature_valid(&vk, &digest, &h("signature").try_into().unwrap());
        assert_eq!(valid, c["valid"].as_bool().unwrap(), "{}", c["name"]);
        if let Some(sk) = v["private_key"].as_str() {
            // RFC 6979: the same key and digest always give the same signature.
            let k = p256::ecdsa::SigningKey::from_slice(&unhex(sk)).unwrap();
            assert_eq!(raw_sign(&k, &digest).to_vec(), h("signature"));
        }
        if valid {
            positive += 1;
        } else {
            negative += 1;
        }
    }
    for v in load("logs.json") {
        let r = verify(
            &unhex(v["log"].as_str().unwrap()),
            &FakeAttestation(None),
            &VerifyOptions::default(),
        );
        if v["expect"] == "ok" {
            assert!(r.ok, "{}", v["name"]);
            positive += 1;
        } else {
            let f = r.failure.unwrap();
            assert_eq!(
                f.class.to_string(),
                v["expect"].as_str().unwrap(),
                "{}",
                v["name"]
            );
            assert_eq!(f.seq, v["seq"].as_u64(), "{}", v["name"]);
            negative += 1;
        }
    }
    println!("log vectors: {positive} positive, {negative} negative");
    assert!(negative > positive);
}
