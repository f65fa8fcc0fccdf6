//! Interop without a card: Debian's `age` CLI with `age-plugin-yubikey` 0.5.1 encrypts to
//! a glasskeep recipient, and glasskeep unseals the file (ECDH by a software key standing
//! in for the card). Needs `age` and `age-plugin-yubikey` (scripts/install-deps.sh); no
//! pcscd, but it lives with the other seal interop tests.

use std::io::Write;
use std::process::{Command, Stdio};

use glasskeep_core::piv::{Algorithm, Slot};
use glasskeep_core::seal::{
    self, CardError, KeyAgreement, PivP256Identity, PivP256Recipient, UnsealError,
};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::SecretKey;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

mod common;

/// ECDH with a software key; the only operation unseal needs.
struct SoftCard(SecretKey);

impl KeyAgreement for SoftCard {
    fn serial(&self) -> u32 {
        4242
    }
    fn public_key(&mut self, _: Slot) -> Result<Option<(Algorithm, Vec<u8>)>, CardError> {
        Ok(Some((
            Algorithm::P256,
            self.0.public_key().to_sec1_point(false).as_bytes().to_vec(),
        )))
    }
    fn ecdh(&mut self, _: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
        // The card takes the uncompressed point: refuse anything else, like a YubiKey.
        assert_eq!(peer.len(), 65, "ECDH peer must be uncompressed");
        let point = p256::PublicKey::from_sec1_bytes(peer).unwrap();
        Ok(Zeroizing::new(
            self.0.diffie_hellman(&point).raw_secret_bytes().to_vec(),
        ))
    }
}

fn key(label: &str) -> SecretKey {
    SecretKey::from_slice(&Sha256::digest(label.as_bytes())).unwrap()
}

fn recipient_of(key: &SecretKey) -> PivP256Recipient {
    PivP256Recipient::from_sec1(key.public_key().to_sec1_point(true).as_bytes()).unwrap()
}

/// `age` with the plugin's folder first on PATH, so it finds the plugin.
fn age() -> Command {
    let dir = common::plugin_dir();
    let version = Command::new(dir.join("age-plugin-yubikey"))
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    assert_eq!(
        version.as_deref().ok(),
        Some("age-plugin-yubikey 0.5.1"),
        "age-plugin-yubikey 0.5.1 is needed: run scripts/install-deps.sh"
    );
    let mut cmd = Command::new("age");
    cmd.env(
        "PATH",
        format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    cmd
}

/// `age -r <recipient>` (binary output), through the installed plugin.
fn age_encrypt(recipient: &PivP256Recipient, plaintext: &[u8]) -> Vec<u8> {
    let mut child = age()
        .arg("-r")
        .arg(recipient.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Debian's age must be installed: run scripts/install-deps.sh");
    child.stdin.take().unwrap().write_all(plaintext).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "age -r failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn glasskeep_unseals_what_age_cli_and_plugin_encrypted() {
    let secret = key("interop custodian");
    let recipient = recipient_of(&secret);
    let plaintext = b"share record written by age -r age1yubikey1...\n";
    let file = age_encrypt(&recipient, plaintext);

    // The plugin writes the same single piv-p256 stanza glasskeep writes.
    assert!(file.starts_with(b"age-encryption.org/v1\n-> piv-p256 "));
    assert_eq!(seal::stanza_target(&file).unwrap(), recipient.tag());

    let mut card = SoftCard(secret);
    let identity = PivP256Identity::new(&mut card, Slot::RETIRED1, recipient).unwrap();
    assert_eq!(*seal::unseal(&file, &identity).unwrap(), plaintext);
}

#[test]
fn age_cli_file_for_another_key_is_refused_before_the_card() {
    let alice = recipient_of(&key("alice"));
    let file = age_encrypt(&alice, b"for alice");
    let bob = key("bob");
    let bob_recipient = recipient_of(&bob);
    let mut card = SoftCard(bob);
    let identity = PivP256Identity::new(&mut card, Slot::RETIRED1, bob_recipient).unwrap();
    match seal::unseal(&file, &identity) {
        Err(UnsealError::WrongRecipient { file_tag, .. }) => assert_eq!(file_tag, alice.tag()),
        other => panic!("expected WrongRecipient, got {other:?}"),
    }
}

#[test]
fn age_cli_multi_recipient_file_is_refused() {
    // age -r A -r B writes two stanzas; a glasskeep share never has more than one.
    let a = recipient_of(&key("a"));
    let b = recipient_of(&key("b"));
    let out = age()
        .args(["-r", &a.to_string(), "-r", &b.to_string()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let secret = key("a");
    let mut card = SoftCard(secret);
    let identity = PivP256Identity::new(&mut card, Slot::RETIRED1, a).unwrap();
    assert!(matches!(
        seal::unseal(&out.stdout, &identity),
        Err(UnsealError::StanzaCount { found: 2 })
    ));
}
