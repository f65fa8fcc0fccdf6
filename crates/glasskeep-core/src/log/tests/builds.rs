//! What a checkpoint records about the ceremony besides its signers: the glasskeep build
//! that made it and what the people present allowed. `log verify` lists both, and a
//! folder writer can change neither without every signature of that checkpoint failing.

use crate::log::body::{Allowances, Body};
use crate::log::checkpoint::Signed;
use crate::log::testutil::*;
use crate::log::verify::{verify, FailureClass, VerifyOptions};

const A: [u8; 32] = [0xa1; 32];
const B: [u8; 32] = [0xb2; 32];

/// Genesis by build 0xb1 (the builder's), then checkpoints by A, A, none, B (with
/// --allow-network), A (with both flags).
fn custody() -> Builder {
    let mut b = Builder::new([0x42; 16]);
    b.enroll("alice", 1001);
    b.enroll("bob", 1002);
    let by = |build, allowed| Signed {
        plan: None,
        build: Some(build),
        allowed,
    };
    b.checkpoint_signed(&["alice", "bob"], by(A, Allowances::default()));
    b.enroll("carol", 1003);
    b.checkpoint_signed(&["alice", "bob", "carol"], by(A, Allowances::default()));
    b.checkpoint(&["alice", "bob"]);
    let network = Allowances {
        network: true,
        scripted_pins: false,
    };
    b.checkpoint_signed(&["alice", "carol"], by(B, network));
    let both = Allowances {
        network: true,
        scripted_pins: true,
    };
    b.checkpoint_signed(&["bob", "carol"], by(A, both));
    b
}

fn report(bytes: &[u8]) -> crate::log::verify::VerifyReport {
    verify(bytes, &FakeAttestation(None), &VerifyOptions::default())
}

#[test]
fn verify_lists_every_build_with_the_entries_it_wrote() {
    let b = custody();
    let r = report(&b.bytes());
    assert!(r.ok, "{r}");
    let builds: Vec<(String, u64, u64, u64, bool)> = r
        .builds
        .iter()
        .map(|m| {
            (
                m.sha256[..4].to_string(),
                m.first,
                m.last,
                m.checkpoints,
                m.genesis,
            )
        })
        .collect();
    assert_eq!(
        builds,
        [
            ("b1b1".to_string(), 0, 0, 0, true),
            ("a1a1".to_string(), 3, 8, 3, false),
            ("b2b2".to_string(), 7, 7, 1, false),
        ]
    );
    assert_eq!(r.checkpoints_without_build, 1);
    let allowed: Vec<(u64, Vec<&str>)> = r
        .allowed
        .iter()
        .map(|a| (a.checkpoint, a.flags.clone()))
        .collect();
    assert_eq!(
        allowed,
        [
            (7, vec!["--allow-network"]),
            (8, vec!["--allow-network", "--allow-scripted-pins"]),
        ]
    );
    let text = r.to_string();
    assert!(
        text.contains(&format!(
            "build {} wrote the genesis (entry 0)",
            "b1".repeat(32)
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "build {} wrote 3 checkpoint(s) (entries 3-8)",
            "a1".repeat(32)
        )),
        "{text}"
    );
    assert!(text.contains("1 checkpoint(s) record no build"), "{text}");
    assert!(
        text.contains("checkpoint 8 ran with --allow-network and --allow-scripted-pins"),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["builds"][1]["checkpoints"], 3);
    assert_eq!(json["allowed"][0]["flags"][0], "--allow-network");
}

#[test]
fn a_folder_writer_cannot_change_drop_or_add_a_build_or_an_allowance() {
    let b = custody();
    type Edit = fn(&mut Body);
    let edits: [(&str, u64, Edit); 5] = [
        ("build changed", 3, |body| {
            set(body, |_, build, _| *build = Some(B))
        }),
        ("build dropped", 5, |body| {
            set(body, |_, build, _| *build = None)
        }),
        ("build added", 6, |body| {
            set(body, |_, build, _| *build = Some(A))
        }),
        ("allowance dropped", 7, |body| {
            set(body, |_, _, allowed| *allowed = Allowances::default())
        }),
        ("allowance added", 5, |body| {
            set(body, |_, _, allowed| allowed.scripted_pins = true)
        }),
    ];
    for (name, at, edit) in edits {
        let mut v = b.entries.clone();
        edit(&mut v[at as usize].body);
        relink(&mut v);
        let r = report(&frame_all(&v));
        let f = r.failure.unwrap_or_else(|| panic!("{name}: accepted"));
        assert_eq!(
            (f.class, f.seq),
            (FailureClass::Signature, Some(at)),
            "{name}"
        );
    }
}

fn set(
    body: &mut Body,
    f: impl FnOnce(&mut Option<[u8; 32]>, &mut Option<[u8; 32]>, &mut Allowances),
) {
    let Body::Checkpoint {
        plan,
        build,
        allowed,
        ..
    } = body
    else {
        panic!("not a checkpoint")
    };
    f(plan, build, allowed);
}

#[test]
fn checkpoints_with_build_and_allowances_re_encode_byte_identical() {
    for e in custody().entries {
        let bytes = e.to_bytes();
        assert_eq!(crate::log::Entry::from_bytes(&bytes).unwrap(), e);
    }
}
