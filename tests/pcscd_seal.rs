//! Sealed shares against the real stack: pcscd, a simulated YubiKey behind vpcd, the
//! `yubikey` crate, Debian's `age` 1.1.1 and `age-plugin-yubikey` 0.5.1. This is the
//! promise that custodians can recover with standard tools if glasskeep is lost, and
//! that glasskeep opens what those tools wrote.
//!
//! Needs root (the lab runs pcscd), `age`, script(1) and the plugin
//! (scripts/install-deps.sh), and the simulator binary
//! (`cargo build -p glasskeep-piv-sim`).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use glasskeep_card::enroll::{enroll, EnrollOptions};
use glasskeep_card::{open, Token, TokenError};
use glasskeep_core::attestation::Trust;
use glasskeep_core::custodian::CustodianRecord;
use glasskeep_core::seal::{self, IdentityStub, PivP256Identity, PivP256Recipient, UnsealError};
use glasskeep_core::secret::Pin;
use glasskeep_piv_sim::harness::{CardSpec, PcscLab};

mod common;

/// The simulator's factory PIN: a test-only value, typed into the plugin's prompt below.
const PIN: &[u8] = b"123456";

fn enroll_card(token: &mut dyn Token, name: &str) -> CustodianRecord {
    enroll(
        token,
        &Pin::new(PIN).unwrap(),
        &EnrollOptions::new(name, Trust::Training),
    )
    .unwrap()
    .record
}

/// `age -r <recipient>`: the plugin wraps the file key (no card needed to encrypt).
fn age_encrypt(recipient: &PivP256Recipient, plaintext: &[u8]) -> Vec<u8> {
    let mut child = Command::new("age")
        .env("PATH", common::path_with_plugin())
        .args(["-r", &recipient.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Debian's age is needed: run scripts/install-deps.sh");
    child.stdin.take().unwrap().write_all(plaintext).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "age -r: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn age_decrypt_with_stub(dir: &Path, stub: &IdentityStub, sealed: &[u8]) -> Vec<u8> {
    common::age_decrypt_with_stub(dir, &stub.to_string(), sealed, PIN)
}

#[test]
fn glasskeep_and_age_plugin_yubikey_open_each_others_files_through_pcscd() {
    let _lab = PcscLab::start(&[CardSpec::new(8301)]).expect("pcscd lab starts");
    let mut token = open(Some(8301)).unwrap();
    let record = enroll_card(&mut *token, "alice");
    let recipient = PivP256Recipient::from_compressed(&record.seal_public_key).unwrap();

    // glasskeep reads the same key from the card that enrollment recorded.
    let identity = PivP256Identity::from_card(&mut token, record.seal_slot).unwrap();
    assert_eq!(identity.recipient(), &recipient);
    let stub = identity.stub();
    assert_eq!((stub.serial, stub.slot), (8301, record.seal_slot));

    // (b) age -r age1yubikey1… wrote it; glasskeep opens it with the card's ECDH.
    let from_age = age_encrypt(&recipient, b"written by age -r\n");
    assert_eq!(seal::stanza_target(&from_age).unwrap(), recipient.tag());
    token.verify_pin(&Pin::new(PIN).unwrap()).unwrap();
    let identity = PivP256Identity::from_card(&mut token, record.seal_slot).unwrap();
    assert_eq!(
        *seal::unseal(&from_age, &identity).unwrap(),
        b"written by age -r\n"
    );
    // And glasskeep's own files, through the same card.
    let sealed = seal::seal(b"glasskeep share record\n", &recipient).unwrap();
    assert_eq!(
        *seal::unseal(&sealed, &identity).unwrap(),
        b"glasskeep share record\n"
    );
    // The plugin opens the card itself: release it first.
    drop(token);

    // The plugin derives the same stub from the card as glasskeep prints.
    let listed = Command::new(common::plugin_dir().join("age-plugin-yubikey"))
        .args(["--identity", "--serial", "8301", "--slot", "1"])
        .output()
        .unwrap();
    let listed_text = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success(), "{listed_text}");
    assert!(
        listed_text.contains(&stub.to_string()) && listed_text.contains(&recipient.to_string()),
        "plugin printed:\n{listed_text}\nglasskeep: {stub} {recipient}"
    );

    // (a) standard age + the plugin open what glasskeep sealed, given glasskeep's stub.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        age_decrypt_with_stub(dir.path(), &stub, &sealed),
        b"glasskeep share record\n"
    );
}

#[test]
fn card_refusals_reach_the_caller_through_pcscd() {
    let _lab =
        PcscLab::start(&[CardSpec::new(8311), CardSpec::new(8312)]).expect("pcscd lab starts");
    let mut alice = open(Some(8311)).unwrap();
    let alice_record = enroll_card(&mut *alice, "alice");
    let mut bob = open(Some(8312)).unwrap();
    let bob_record = enroll_card(&mut *bob, "bob");
    let alice_recipient = PivP256Recipient::from_compressed(&alice_record.seal_public_key).unwrap();
    let sealed = seal::seal(b"for alice", &alice_recipient).unwrap();

    // Bob's card is refused by tag, before any card operation.
    let bob_identity = PivP256Identity::from_card(&mut bob, bob_record.seal_slot).unwrap();
    match seal::unseal(&sealed, &bob_identity) {
        Err(UnsealError::WrongRecipient {
            file_tag,
            serial: 8312,
            ..
        }) => assert_eq!(file_tag, alice_recipient.tag()),
        other => panic!("expected WrongRecipient for bob's card, got {other:?}"),
    }

    // Alice's card in a fresh session without the PIN: the card refuses the ECDH and
    // unseal passes the card's error through.
    drop(alice);
    let mut alice = open(Some(8311)).unwrap();
    let identity = PivP256Identity::from_card(&mut alice, alice_record.seal_slot).unwrap();
    assert!(
        matches!(
            seal::unseal(&sealed, &identity),
            Err(UnsealError::Card(e))
                if matches!(glasskeep_card::token_error(&e), Some(TokenError::PinNotVerified))
        ),
        "the card must refuse the key agreement without the PIN"
    );
    alice.verify_pin(&Pin::new(PIN).unwrap()).unwrap();
    let identity = PivP256Identity::from_card(&mut alice, alice_record.seal_slot).unwrap();
    assert_eq!(*seal::unseal(&sealed, &identity).unwrap(), b"for alice");
}
