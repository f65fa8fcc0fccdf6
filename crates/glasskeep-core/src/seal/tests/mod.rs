//! Round trips and refusals through the public API, with a software card.

mod vectors;

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use age_core::format::Stanza;
use age_core::secrecy::ExposeSecret;
use p256::SecretKey;

use super::*;
use crate::piv::{Algorithm, PinPolicy, TouchPolicy, Version};

/// A card double: ECDH with a software P-256 key; every other operation fails. It
/// insists on the card's calling convention (65-byte uncompressed peer point) so the
/// tests catch a caller that passes the compressed form.
pub(super) struct SoftToken {
    pub secret: SecretKey,
    pub serial: u32,
    pub slot: Slot,
    /// Counts ECDH calls, to prove refused files never reach the card.
    pub ecdh_calls: Rc<Cell<u32>>,
    /// Makes ECDH fail with this status word (e.g. 6982: PIN not verified).
    pub fail_sw: Option<u16>,
    /// Makes ECDH answer this many bytes instead of 32.
    pub answer_len: usize,
}

impl SoftToken {
    pub fn new(secret: SecretKey, serial: u32) -> Self {
        Self {
            secret,
            serial,
            slot: Slot::RETIRED1,
            ecdh_calls: Rc::new(Cell::new(0)),
            fail_sw: None,
            answer_len: 32,
        }
    }

    pub fn recipient(&self) -> PivP256Recipient {
        PivP256Recipient::from_point(self.secret.public_key())
    }
}

/// What the software card reports, standing in for a real card's error type.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(super) enum SoftCardError {
    #[error("card refused {operation} (status {sw:04x})")]
    Card { operation: &'static str, sw: u16 },
    #[error("slot {0} holds no key")]
    SlotEmpty(Slot),
    #[error("malformed {0}")]
    Malformed(String),
}

impl KeyAgreement for SoftToken {
    fn serial(&self) -> u32 {
        self.serial
    }
    fn public_key(&mut self, slot: Slot) -> Result<Option<(Algorithm, Vec<u8>)>, CardError> {
        use p256::elliptic_curve::sec1::ToSec1Point;
        Ok((slot == self.slot).then(|| {
            (
                Algorithm::P256,
                self.secret
                    .public_key()
                    .to_sec1_point(false)
                    .as_bytes()
                    .to_vec(),
            )
        }))
    }
    fn ecdh(&mut self, slot: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
        self.ecdh_calls.set(self.ecdh_calls.get() + 1);
        if let Some(sw) = self.fail_sw {
            return Err(CardError::new(SoftCardError::Card {
                operation: "ECDH",
                sw,
            }));
        }
        if slot != self.slot {
            return Err(CardError::new(SoftCardError::SlotEmpty(slot)));
        }
        if peer.len() != 65 || peer[0] != 0x04 {
            return Err(CardError::new(SoftCardError::Malformed(format!(
                "peer point of {} bytes, not uncompressed",
                peer.len()
            ))));
        }
        let point = p256::PublicKey::from_sec1_bytes(peer).map_err(|_| {
            CardError::new(SoftCardError::Card {
                operation: "ECDH",
                sw: 0x6a80,
            })
        })?;
        let shared = self.secret.diffie_hellman(&point);
        let mut x = shared.raw_secret_bytes().to_vec();
        x.resize(self.answer_len, 0);
        Ok(Zeroizing::new(x))
    }
}

pub(super) fn test_key(label: &str) -> SecretKey {
    use sha2::{Digest, Sha256};
    SecretKey::from_slice(&Sha256::digest(label.as_bytes())).unwrap()
}

fn card(label: &str, serial: u32) -> SoftToken {
    SoftToken::new(test_key(label), serial)
}

#[test]
fn round_trip_at_chunk_boundaries() {
    let mut token = card("alice", 1001);
    let recipient = token.recipient();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient.clone()).unwrap();
    for len in [0, 1, 1000, 65535, 65536, 65537, 3 * 65536, 200_000] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let sealed = seal(&plaintext, &recipient).unwrap();
        assert_eq!(*unseal(&sealed, &identity).unwrap(), plaintext, "len {len}");
    }
}

#[test]
fn sealed_file_has_exactly_one_piv_p256_stanza() {
    let recipient = card("alice", 1001).recipient();
    let sealed = seal(b"share", &recipient).unwrap();
    let text = String::from_utf8_lossy(&sealed);
    assert!(sealed.starts_with(b"age-encryption.org/v1\n-> piv-p256 "));
    assert_eq!(text.matches("\n-> ").count(), 1);
    assert_eq!(stanza_target(&sealed).unwrap(), recipient.tag());
}

#[test]
fn two_seals_differ() {
    // Fresh file key, ephemeral key and nonce each time: equal shares must not produce
    // linkable envelopes.
    let recipient = card("alice", 1001).recipient();
    assert_ne!(
        seal(b"same", &recipient).unwrap(),
        seal(b"same", &recipient).unwrap()
    );
}

#[test]
fn age_decryptor_accepts_our_files_through_the_identity_trait() {
    let mut token = card("alice", 1001);
    let recipient = token.recipient();
    let sealed = seal(b"through age", &recipient).unwrap();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
    let decryptor = age::Decryptor::new_buffered(&sealed[..]).unwrap();
    let mut out = vec![];
    decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, b"through age");
}

fn encrypt_with_age_crate(recipient: &PivP256Recipient, plaintext: &[u8]) -> Vec<u8> {
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient)).unwrap();
    let mut out = vec![];
    let mut w = encryptor.wrap_output(&mut out).unwrap();
    std::io::Write::write_all(&mut w, plaintext).unwrap();
    w.finish().unwrap();
    out
}

#[test]
fn recipient_trait_works_with_age_encryptor_but_unseal_refuses_its_grease() {
    let mut token = card("alice", 1001);
    let recipient = token.recipient();
    let file = encrypt_with_age_crate(&recipient, b"from age::Encryptor");
    let calls = token.ecdh_calls.clone();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
    // age's own decryptor finds our stanza among the grease.
    let mut out = vec![];
    age::Decryptor::new_buffered(&file[..])
        .unwrap()
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, b"from age::Encryptor");
    assert_eq!(calls.get(), 1);
    // glasskeep's policy refuses a second stanza before touching the card.
    assert!(matches!(
        unseal(&file, &identity),
        Err(UnsealError::StanzaCount { found: 2 })
    ));
    assert_eq!(calls.get(), 1);
}

#[test]
fn wrong_card_names_both_keys_and_never_asks_the_card() {
    let alice = card("alice", 1001).recipient();
    let sealed = seal(b"for alice", &alice).unwrap();
    let mut bob = card("bob", 2002);
    let calls = bob.ecdh_calls.clone();
    let bob_recipient = bob.recipient();
    let identity = PivP256Identity::new(&mut bob, Slot::RETIRED1, bob_recipient.clone()).unwrap();
    let err = unseal(&sealed, &identity).unwrap_err();
    match &err {
        UnsealError::WrongRecipient {
            file_tag,
            card_tag,
            serial,
            slot,
        } => {
            assert_eq!(*file_tag, alice.tag());
            assert_eq!(*card_tag, bob_recipient.tag());
            assert_eq!((*serial, *slot), (2002, Slot::RETIRED1));
        }
        other => panic!("expected WrongRecipient, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("2002") && message.contains(&alice.tag().to_hex()));
    assert_eq!(calls.get(), 0);
}

#[test]
fn card_errors_pass_through() {
    let mut token = card("alice", 1001);
    token.fail_sw = Some(0x6982);
    let recipient = token.recipient();
    let sealed = seal(b"x", &recipient).unwrap();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
    assert!(matches!(
        unseal(&sealed, &identity),
        Err(UnsealError::Card(e)) if matches!(e.downcast_ref::<SoftCardError>(), Some(SoftCardError::Card { sw: 0x6982, .. }))
    ));
}

#[test]
fn short_card_answer_is_refused() {
    let mut token = card("alice", 1001);
    token.answer_len = 31;
    let recipient = token.recipient();
    let sealed = seal(b"x", &recipient).unwrap();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
    assert!(matches!(
        unseal(&sealed, &identity),
        Err(UnsealError::CardAnswer {
            serial: 1001,
            found: 31
        })
    ));
}

#[test]
fn identity_from_card_reads_the_public_key() {
    let mut token = card("alice", 1001);
    let recipient = token.recipient();
    let identity = PivP256Identity::from_card(&mut token, Slot::RETIRED1).unwrap();
    assert_eq!(identity.recipient(), &recipient);
    let stub = identity.stub();
    assert_eq!(
        (stub.serial, stub.slot, stub.tag),
        (1001, Slot::RETIRED1, recipient.tag())
    );
    assert_eq!(stub.to_string().parse::<IdentityStub>().unwrap(), stub);
}

#[test]
fn identity_refuses_empty_and_non_retired_slots() {
    let mut token = card("alice", 1001);
    assert!(matches!(
        PivP256Identity::from_card(&mut token, Slot::new(0x83).unwrap()),
        Err(IdentityError::SlotEmpty {
            serial: 1001,
            slot
        }) if slot.id() == 0x83
    ));
    assert!(matches!(
        PivP256Identity::from_card(&mut token, Slot::SIGNATURE),
        Err(IdentityError::NotRetiredSlot { .. })
    ));
    let recipient = token.recipient();
    assert!(matches!(
        PivP256Identity::new(&mut token, Slot::KEY_MANAGEMENT, recipient),
        Err(IdentityError::NotRetiredSlot { .. })
    ));
}

#[test]
fn identity_trait_ignores_other_stanzas_and_other_keys() {
    let mut token = card("alice", 1001);
    let recipient = token.recipient();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
    let x25519 = Stanza {
        tag: "X25519".into(),
        args: vec!["AAAA".into()],
        body: vec![0; 32],
    };
    assert!(age::Identity::unwrap_stanza(&identity, &x25519).is_none());
    let other = card("bob", 2).recipient();
    let stanza = other
        .wrap_with_ephemeral(&[7; 16], &test_key("e"))
        .to_stanza();
    assert!(age::Identity::unwrap_stanza(&identity, &stanza).is_none());
    let malformed = Stanza {
        tag: STANZA_TYPE.into(),
        args: vec![],
        body: vec![0; 32],
    };
    assert!(matches!(
        age::Identity::unwrap_stanza(&identity, &malformed),
        Some(Err(age::DecryptError::InvalidHeader))
    ));
}

#[test]
fn unwrap_returns_the_wrapped_file_key() {
    let mut token = card("alice", 1001);
    let recipient = token.recipient();
    let stanza = recipient
        .wrap_with_ephemeral(&[9; 16], &test_key("eph"))
        .to_stanza();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
    assert_eq!(identity.unwrap(&stanza).unwrap().expose_secret(), &[9; 16]);
}

#[test]
fn recipient_text_and_bytes_round_trip() {
    let key = test_key("alice");
    let recipient = PivP256Recipient::from_point(key.public_key());
    let text = recipient.to_string();
    assert!(text.starts_with("age1yubikey1"));
    assert_eq!(text.parse::<PivP256Recipient>().unwrap(), recipient);
    assert_eq!(
        PivP256Recipient::from_compressed(&recipient.to_compressed()).unwrap(),
        recipient
    );
    let uncompressed = identity_uncompressed(&key);
    assert_eq!(
        PivP256Recipient::from_sec1(&uncompressed).unwrap(),
        recipient
    );
    assert_eq!(
        PivP256Recipient::from_compressed(&uncompressed),
        Err(RecipientError::WrongLength { found: 65 })
    );
}

fn identity_uncompressed(key: &SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    key.public_key().to_sec1_point(false).as_bytes().to_vec()
}

#[test]
fn debug_output_reveals_no_secret() {
    let mut token = card("alice", 1001);
    let recipient = token.recipient();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient.clone()).unwrap();
    let debug = format!("{identity:?}");
    assert!(debug.contains("1001") && debug.contains(&recipient.to_string()));
    let secret_hex = crate::hex::encode(&test_key("alice").to_bytes());
    assert!(!debug.contains(&secret_hex));
}

#[test]
fn stanza_target_does_not_need_a_card() {
    let alice = card("alice", 1001).recipient();
    let bob = card("bob", 2002).recipient();
    let for_bob = seal(b"share", &bob).unwrap();
    let tag = stanza_target(&for_bob).unwrap();
    assert_eq!(tag, bob.tag());
    assert_ne!(tag, alice.tag());
}

/// A malicious writer: every single-byte change and every truncation of a sealed file is
/// refused (never a panic, never a plaintext), and header damage is caught before the
/// payload is read.
#[test]
fn every_byte_flip_and_truncation_is_refused() {
    let mut token = card("alice", 1001);
    let recipient = token.recipient();
    let sealed = seal(b"short share record", &recipient).unwrap();
    let identity = PivP256Identity::new(&mut token, Slot::RETIRED1, recipient).unwrap();
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        assert!(
            unseal(&bad, &identity).is_err(),
            "flip at byte {i} accepted"
        );
        assert!(
            unseal(&sealed[..i], &identity).is_err(),
            "truncation to {i} bytes accepted"
        );
    }
    let mut extended = sealed.clone();
    extended.push(0);
    assert!(matches!(
        unseal(&extended, &identity),
        Err(UnsealError::Payload)
    ));
    assert_eq!(*unseal(&sealed, &identity).unwrap(), b"short share record");
}

fn record(name: &str, serial: u32, key: &SecretKey) -> crate::custodian::CustodianRecord {
    crate::custodian::CustodianRecord {
        name: name.into(),
        serial,
        firmware: Version {
            major: 5,
            minor: 7,
            patch: 1,
        },
        seal_slot: Slot::RETIRED1,
        seal_public_key: PivP256Recipient::from_point(key.public_key()).to_compressed(),
        seal_pin_policy: PinPolicy::Once,
        seal_touch_policy: TouchPolicy::Always,
        sign_public_key: PivP256Recipient::from_point(test_key("sign").public_key())
            .to_compressed(),
        sign_pin_policy: PinPolicy::Always,
        sign_touch_policy: TouchPolicy::Always,
        device_attestation: vec![],
        seal_attestation: vec![],
        sign_attestation: vec![],
    }
}

#[test]
fn custodian_for_names_whose_card_a_share_needs() {
    let custodians = [
        record("alice", 1001, &test_key("alice")),
        record("bob", 2002, &test_key("bob")),
    ];
    let for_bob = seal(
        b"x",
        &PivP256Recipient::for_custodian(&custodians[1]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        custodian_for(&for_bob, &custodians)
            .unwrap()
            .map(|c| c.name.as_str()),
        Some("bob")
    );
    let stranger = seal(b"x", &card("carol", 3003).recipient()).unwrap();
    assert!(custodian_for(&stranger, &custodians).unwrap().is_none());
    assert!(matches!(
        custodian_for(b"not age", &custodians),
        Err(TargetError::NotAgeFile { .. })
    ));
    let stub = IdentityStub::for_custodian(&custodians[1]).unwrap();
    assert_eq!((stub.serial, stub.slot), (2002, Slot::RETIRED1));
    assert_eq!(
        stub.tag,
        PivP256Recipient::for_custodian(&custodians[1])
            .unwrap()
            .tag()
    );
}

#[test]
fn identity_for_custodian_refuses_another_card() {
    let alice = record("alice", 1001, &test_key("alice"));
    let mut bobs_card = card("bob", 2002);
    match PivP256Identity::for_custodian(&mut bobs_card, &alice) {
        Err(
            e @ IdentityError::WrongCard {
                expected: 1001,
                found: 2002,
                ..
            },
        ) => assert!(e.to_string().contains("insert alice's YubiKey")),
        other => panic!("expected WrongCard, got {other:?}"),
    }
    let mut alices_card = card("alice", 1001);
    let identity = PivP256Identity::for_custodian(&mut alices_card, &alice).unwrap();
    let sealed = seal(b"for alice", identity.recipient()).unwrap();
    assert_eq!(*unseal(&sealed, &identity).unwrap(), b"for alice");
}
