//! The token layer end to end: the real `yubikey` crate, the real pcscd, simulated
//! cards behind vpcd. Every test takes the lab's machine-wide lock (only one pcscd can
//! run). Needs root and the simulator binary: `cargo build -p glasskeep-piv-sim`.

use std::time::Duration;

use glasskeep_card::enroll::{enroll, EnrollError, EnrollOptions, FactoryDefaults};
use glasskeep_card::{list_cards, list_readers, open, render_token_list, ReaderState, TokenError};
use glasskeep_core::attestation::{self, Trust};
use glasskeep_core::piv::{Slot, Version};
use glasskeep_core::secret::Pin;
use glasskeep_piv_sim::harness::{CardSpec, LabOptions, PcscLab};
use glasskeep_piv_sim::TouchMode;
use p256::ecdsa::signature::hazmat::PrehashVerifier;

const PIN: &[u8] = b"123456";

fn pin() -> Pin {
    Pin::new(PIN).unwrap()
}

fn lab(serials: &[u32]) -> PcscLab {
    let cards: Vec<CardSpec> = serials.iter().map(|s| CardSpec::new(*s)).collect();
    PcscLab::start(&cards).expect("pcscd lab starts")
}

#[test]
fn lists_cards_and_opens_by_serial() {
    let lab = lab(&[2001]);
    let cards = list_cards().unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].serial, 2001);
    assert_eq!(
        cards[0].version,
        Version {
            major: 5,
            minor: 7,
            patch: 1
        }
    );
    assert_eq!(cards[0].reader, lab.reader_name(2001).unwrap());

    assert_eq!(open(None).unwrap().serial(), 2001);
    let token = open(Some(2001)).unwrap();
    assert_eq!(token.reader(), lab.reader_name(2001).unwrap());
    drop(token);
    match glasskeep_card::open_custodian(9999, "alice", &[]) {
        Err(e @ TokenError::WrongCard { .. }) => assert_eq!(
            e.to_string(),
            "wrong YubiKey: expected serial 9999 (alice), found 2001"
        ),
        other => panic!("expected WrongCard, got {:?}", other.err()),
    }
    match open(Some(9999)) {
        Err(TokenError::WrongCard {
            expected: 9999,
            found,
            ..
        }) => assert_eq!(found, [2001]),
        other => panic!("expected WrongCard, got {:?}", other.err()),
    }
}

#[test]
fn two_cards_present_need_a_serial_and_3des_cards_enroll() {
    // The second card predates AES management keys: enrollment must fall back to 3DES.
    let old = CardSpec {
        firmware: [5, 4, 3],
        ..CardSpec::new(3002)
    };
    let _lab = PcscLab::start(&[CardSpec::new(3001), old]).expect("pcscd lab starts");
    match open(None) {
        Err(e @ TokenError::SeveralCards { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("3001") && msg.contains("3002"), "{msg}");
        }
        other => panic!("expected SeveralCards, got {:?}", other.err()),
    }
    let mut token = open(Some(3002)).unwrap();
    assert_eq!(
        token.version(),
        Version {
            major: 5,
            minor: 4,
            patch: 3
        }
    );
    let record = enroll(
        &mut *token,
        &pin(),
        &EnrollOptions::new("dan", Trust::Training),
    )
    .unwrap()
    .record;
    assert_eq!((record.serial, record.firmware.minor), (3002, 4));
}

#[test]
fn training_enrollment_through_the_real_driver() {
    let _lab = lab(&[4001]);
    let mut token = open(Some(4001)).unwrap();
    let record = enroll(
        &mut *token,
        &pin(),
        &EnrollOptions::new("alice", Trust::Training),
    )
    .unwrap()
    .record;
    assert_eq!(record.serial, 4001);
    attestation::verify_record(&record, Trust::Training).unwrap();

    // The keys work through the real driver: ECDH (PIN once) and signing (PIN always).
    let eph = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
    let seal = p256::PublicKey::from_sec1_bytes(&record.seal_public_key).unwrap();
    let x = token
        .ecdh(Slot::RETIRED1, &eph.public_key().to_sec1_bytes())
        .unwrap();
    let expected = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), seal.as_affine());
    assert_eq!(&x[..], &expected.raw_secret_bytes()[..]);
    let digest = [0x42u8; 32];
    token.verify_pin(&pin()).unwrap();
    let sig = token.sign(Slot::SIGNATURE, &digest).unwrap();
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&record.sign_public_key).unwrap();
    vk.verify_prehash(&digest, &p256::ecdsa::Signature::from_der(&sig).unwrap())
        .unwrap();
    assert!(matches!(
        token.sign(Slot::SIGNATURE, &digest),
        Err(TokenError::PinNotVerified)
    ));

    // Enrolling again without the overwrite flag leaves the keys alone.
    let again = enroll(
        &mut *token,
        &pin(),
        &EnrollOptions::new("alice", Trust::Training),
    );
    assert!(matches!(
        again,
        Err(EnrollError::Token(TokenError::SlotOccupied { .. }))
    ));
    drop(token);

    // token list sees both keys with their policies.
    let readers = list_readers().unwrap();
    let card = readers
        .iter()
        .find_map(|r| match &r.state {
            ReaderState::Card(c) if c.serial == 4001 => Some(c),
            _ => None,
        })
        .expect("the card is listed");
    let slots: Vec<_> = card.slots.iter().map(|s| s.slot.as_str()).collect();
    assert_eq!(slots, ["9c", "82"]);
    let text = render_token_list(&readers);
    assert!(
        text.contains("slot 82: P-256 pin=once touch=always generated, certificate"),
        "{text}"
    );
    assert!(
        text.contains("slot 9c: P-256 pin=always touch=always generated, certificate"),
        "{text}"
    );
}

#[test]
fn production_enrollment_of_a_factory_fresh_card_is_refused_first_for_hygiene() {
    let _lab = lab(&[5001]);
    let mut token = open(None).unwrap();
    let err = enroll(
        &mut *token,
        &Pin::new(b"999999").unwrap(),
        &EnrollOptions::new("bob", Trust::Production),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::FactoryDefaults {
                defaults: FactoryDefaults {
                    pin: true,
                    puk: true,
                    management_key: true
                }
            }
        ),
        "{err:?}"
    );
    // Refused before the (wrong) PIN was tried: no try spent, no slot touched.
    assert_eq!(token.pin_retries().unwrap(), 3);
    assert_eq!(token.metadata(Slot::RETIRED1).unwrap(), None);
}

#[test]
fn wrong_pin_and_touch_timeout_through_the_real_driver() {
    let spec = CardSpec {
        touch: TouchMode::Never,
        ..CardSpec::new(6001)
    };
    let options = LabOptions {
        touch_timeout: Duration::from_millis(500),
        ..LabOptions::default()
    };
    let _lab = PcscLab::start_with(&[spec], options).expect("pcscd lab starts");
    let mut token = open(None).unwrap();
    assert!(matches!(
        token.verify_pin(&Pin::new(b"000000").unwrap()),
        Err(TokenError::WrongPin { retries_left: 2 })
    ));
    assert_eq!(token.pin_retries().unwrap(), 2);
    // Enrollment needs no touch, so it succeeds on a card nobody touches...
    let record = enroll(
        &mut *token,
        &pin(),
        &EnrollOptions::new("carol", Trust::Training),
    )
    .unwrap()
    .record;
    // ...but using the seal key does.
    let eph = p256::SecretKey::from_slice(&[7u8; 32])
        .unwrap()
        .public_key();
    assert!(matches!(
        token.ecdh(Slot::RETIRED1, &eph.to_sec1_bytes()),
        Err(TokenError::TouchTimeout)
    ));
    assert_eq!(record.serial, 6001);
}

#[test]
fn no_card_then_pcscd_stopped_are_reported() {
    let mut lab = lab(&[7001]);
    // Readers without a card first.
    lab.stop_card(7001).expect("card removed");
    assert!(matches!(open(None), Err(TokenError::NoCard)));
    assert!(matches!(open(Some(7001)), Err(TokenError::NoCard)));
    let readers = list_readers().unwrap();
    assert!(!readers.is_empty());
    assert!(readers.iter().all(|r| r.state == ReaderState::Empty));
    assert!(render_token_list(&readers).contains("(no card)"));

    lab.stop_pcscd();
    assert!(matches!(list_cards(), Err(TokenError::PcscUnavailable)));
    let err = open(None).err().expect("no pcscd, no card");
    assert!(matches!(err, TokenError::PcscUnavailable));
    assert!(err.to_string().contains("pcscd"), "{err}");
    assert!(matches!(list_readers(), Err(TokenError::PcscUnavailable)));
}
