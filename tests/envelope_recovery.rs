//! The recovery script (docs/recover.py, shown in docs/RECOVERY.md) works on what
//! glasskeep prints: it is run against a rendered envelope scanned by
//! zbarimg, and its combine step against share and payload records built here from
//! docs/FORMAT.md's rules.

use std::path::Path;
use std::process::{Command, Output};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use glasskeep_core::cbor::Encoder;
use glasskeep_core::envelope::render::{render, Format, Paper};
use glasskeep_core::envelope::{qr, Envelope};
use glasskeep_core::shamir::SetId;
use sha2::{Digest, Sha256};

mod common;

fn python(dir: &Path, args: &[&str]) -> Output {
    common::python(dir, args)
}

fn envelope(payload: Vec<u8>) -> Envelope {
    Envelope {
        set_id: SetId([9; 16]),
        label: "aws-root".into(),
        organisation: "Example Org".into(),
        custodian: "alice".into(),
        serial: 1001,
        index: 2,
        threshold: 2,
        count: 3,
        created: 1_795_000_000,
        training: true,
        sealed_share: b"age-encryption.org/v1\n-> piv-p256 stand-in\n".repeat(6),
        seal_slot: Some(glasskeep_core::piv::Slot::RETIRED1),
        payload,
    }
}

#[test]
fn script_unpacks_an_envelope_scanned_by_zbarimg() {
    let e = envelope((0..3000u32).map(|i| (i * 29) as u8).collect());
    assert!(qr::envelope_to_parts(&e).unwrap().len() >= 5);
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("alice.png");
    std::fs::write(&png, render(&e, Format::Png, Paper::A4).unwrap()).unwrap();
    let scanned = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(&png)
        .output()
        .unwrap();
    std::fs::write(dir.path().join("alice.qr"), &scanned.stdout).unwrap();

    let out = python(dir.path(), &["unpack", "alice.qr"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&e.fingerprint().unwrap().to_hex()),
        "{stdout}"
    );
    assert!(stdout.contains("2 of 3, any 2 open it"), "{stdout}");
    assert!(stdout.contains("NOT A REAL CREDENTIAL"), "{stdout}");
    assert_eq!(
        std::fs::read(dir.path().join("share-2.age")).unwrap(),
        e.sealed_share
    );
    assert_eq!(
        std::fs::read(dir.path().join("payload.cbor")).unwrap(),
        e.payload
    );

    // A dropped code is named; a code of another envelope is refused.
    let lines: Vec<String> = String::from_utf8(scanned.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("GK1:002/"))
        .map(str::to_owned)
        .collect();
    std::fs::write(dir.path().join("short.qr"), lines.join("\n")).unwrap();
    let out = python(dir.path(), &["unpack", "short.qr"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing part(s) 2 of"));

    let mut other = envelope(vec![1; 3000]);
    other.custodian = "bob".into();
    let mut mixed = lines.clone();
    mixed.push(qr::envelope_to_parts(&other).unwrap()[1].clone());
    std::fs::write(dir.path().join("mixed.qr"), mixed.join("\n")).unwrap();
    let out = python(dir.path(), &["unpack", "mixed.qr"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("belongs to envelope"));
}

// GF(2^8), AES polynomial: only to build test shares the way docs/FORMAT.md says.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut r = 0;
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    r
}

fn record(fields: &[&dyn Fn(&mut Encoder)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(fields.len());
    for (k, f) in fields.iter().enumerate() {
        e.key(k as u64);
        f(&mut e);
    }
    e.into_bytes()
}

/// A payload record and its three share records (t = 2), built from docs/FORMAT.md's
/// rules, and the secret they hold.
fn sealing() -> (Vec<u8>, Vec<Vec<u8>>, Vec<u8>) {
    let set_id = [7u8; 16];
    let (t, n, label) = (2u8, 3u8, "aws-root");
    let key: [u8; 32] = std::array::from_fn(|i| (i * 37 + 11) as u8);
    let slope: [u8; 32] = std::array::from_fn(|i| (i * 101 + 3) as u8);
    let nonce = [5u8; 12];
    let secret = b"correct horse battery staple\n".to_vec();
    let mut aad = b"glasskeep/v1/payload\0".to_vec();
    aad.extend_from_slice(&set_id);
    aad.extend_from_slice(&[t, n]);
    aad.extend_from_slice(label.as_bytes());
    let ct = ChaCha20Poly1305::new(&key.into())
        .encrypt(
            &nonce.into(),
            Payload {
                msg: &secret,
                aad: &aad,
            },
        )
        .unwrap();
    let payload = record(&[
        &|e| {
            e.uint(1);
        },
        &|e| {
            e.bytes(&set_id);
        },
        &|e| {
            e.text(label);
        },
        &|e| {
            e.uint(t.into());
        },
        &|e| {
            e.uint(n.into());
        },
        &|e| {
            e.bytes(&nonce);
        },
        &|e| {
            e.bytes(&ct);
        },
    ]);
    let mut h = Sha256::new();
    h.update(b"glasskeep/v1/payload-digest\0");
    h.update(&payload);
    let digest: [u8; 32] = h.finalize().into();
    let share = |x: u8| {
        // Degree t-1 = 1: y = key + slope * x.
        let y: Vec<u8> = (0..32).map(|b| key[b] ^ gf_mul(slope[b], x)).collect();
        record(&[
            &|e| {
                e.uint(1);
            },
            &|e| {
                e.bytes(&set_id);
            },
            &|e| {
                e.uint(x.into());
            },
            &|e| {
                e.uint(t.into());
            },
            &|e| {
                e.uint(n.into());
            },
            &|e| {
                e.bytes(&y);
            },
            &|e| {
                e.bytes(&digest);
            },
        ])
    };
    (payload, (1..=3).map(share).collect(), secret)
}

#[test]
fn script_combines_shares_and_decrypts_the_payload() {
    let (payload, shares, secret) = sealing();
    let share = |x: u8| shares[usize::from(x) - 1].clone();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("payload.cbor"), &payload).unwrap();
    for x in 1..=3 {
        std::fs::write(p.join(format!("share-{x}.cbor")), share(x)).unwrap();
    }
    for pair in [
        ["share-1.cbor", "share-3.cbor"],
        ["share-3.cbor", "share-2.cbor"],
    ] {
        let out = python(
            p,
            &[
                "combine",
                "payload.cbor",
                pair[0],
                pair[1],
                "-o",
                "secret.bin",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(p.join("secret.bin")).unwrap(), secret);
    }

    // A share with one flipped byte fails the AEAD; a repeated index is refused.
    let mut bad = share(2);
    let at = bad.len() - 40;
    bad[at] ^= 1;
    std::fs::write(p.join("bad.cbor"), bad).unwrap();
    let out = python(p, &["combine", "payload.cbor", "share-1.cbor", "bad.cbor"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("do not open this payload"));
    let out = python(
        p,
        &["combine", "payload.cbor", "share-1.cbor", "share-1.cbor"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("given twice"));
    let out = python(p, &["combine", "payload.cbor", "share-1.cbor"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 share(s) given, 2 needed"));
}

#[test]
fn whole_recovery_with_zbarimg_age_and_the_script() {
    // The sealed shares here are age files to X25519 keys: the same file format and
    // the same `age -d` step as with age-plugin-yubikey, without a card.
    let (payload, shares, secret) = sealing();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for x in [1u8, 3] {
        let key = p.join(format!("custodian-{x}.key"));
        let out = Command::new("age-keygen")
            .arg("-o")
            .arg(&key)
            .output()
            .unwrap();
        assert!(out.status.success());
        let recipient = String::from_utf8(out.stderr)
            .unwrap()
            .trim()
            .trim_start_matches("Public key: ")
            .to_owned();
        let record = p.join("record.tmp");
        std::fs::write(&record, &shares[usize::from(x) - 1]).unwrap();
        let sealed = Command::new("age")
            .args(["-r", &recipient])
            .arg(&record)
            .output()
            .unwrap();
        assert!(sealed.status.success());
        std::fs::remove_file(&record).unwrap();

        let mut e = envelope(payload.clone());
        e.index = x;
        e.training = false;
        e.sealed_share = sealed.stdout;
        let png = p.join(format!("envelope-{x}.png"));
        std::fs::write(&png, render(&e, Format::Png, Paper::Letter).unwrap()).unwrap();
        let scanned = Command::new("zbarimg")
            .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
            .arg(&png)
            .output()
            .unwrap();
        std::fs::write(p.join(format!("envelope-{x}.qr")), &scanned.stdout).unwrap();
        let out = python(p, &["unpack", &format!("envelope-{x}.qr")]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let opened = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&key)
            .arg("-o")
            .arg(p.join(format!("share-{x}.cbor")))
            .arg(p.join(format!("share-{x}.age")))
            .status()
            .unwrap();
        assert!(opened.success());
    }
    let out = python(
        p,
        &[
            "combine",
            "payload.cbor",
            "share-3.cbor",
            "share-1.cbor",
            "-o",
            "secret.bin",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(p.join("secret.bin")).unwrap(), secret);
}

#[test]
fn script_unpacks_the_typed_text_and_names_a_typing_error() {
    let e = envelope((0..2000u32).map(|i| (i * 3) as u8).collect());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let txt = String::from_utf8(render(&e, Format::Txt, Paper::A4).unwrap()).unwrap();
    // Typed by hand: lowercase, O for 0, the whole page pasted.
    std::fs::write(p.join("alice.txt"), txt.to_lowercase().replace('0', "o")).unwrap();
    let out = python(p, &["unpack", "alice.txt"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&e.fingerprint().unwrap().to_hex()));
    assert_eq!(
        std::fs::read(p.join("share-2.age")).unwrap(),
        e.sealed_share
    );
    assert_eq!(std::fs::read(p.join("payload.cbor")).unwrap(), e.payload);

    // One wrong character on line 7.
    let mut lines: Vec<String> = txt.lines().map(str::to_owned).collect();
    let i = lines.iter().position(|l| l.starts_with("0007:")).unwrap();
    let mut b = lines[i].clone().into_bytes();
    b[8] = if b[8] == b'X' { b'Y' } else { b'X' };
    lines[i] = String::from_utf8(b).unwrap();
    std::fs::write(p.join("typo.txt"), lines.join("\n")).unwrap();
    let out = python(p, &["unpack", "typo.txt"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 7: checksum mismatch"));
}
