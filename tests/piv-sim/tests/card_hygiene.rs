//! What a host needs to judge a card's hygiene before enrolling it: GET METADATA for
//! PIN, PUK and management key (default flag, retries) without spending a try, changes
//! of all three, and the PIN-protected management key as ykman stores it.

mod common;

use common::*;
use glasskeep_piv_sim::apdu::{find, parse_tlvs, tlv};
use glasskeep_piv_sim::model::{
    ALG_3DES, ALG_AES128, ALG_AES192, ALG_AES256, DEFAULT_MGM_KEY, DEFAULT_PIN, DEFAULT_PUK,
};
use glasskeep_piv_sim::{SimCard, SimConfig, TouchMode};

/// (default flag, [total, remaining]) from GET METADATA on a PIN or PUK.
fn pin_meta(c: &mut SimCard, reference: u8) -> (u8, Vec<u8>) {
    let (d, sw) = tx(c, &[0, 0xF7, 0, reference]);
    assert_eq!(sw, 0x9000);
    let t = parse_tlvs(&d).unwrap();
    assert_eq!(find(&t, &[0x01]), Some(&[0xFF][..]), "PIN/PUK algorithm");
    (
        find(&t, &[0x05]).unwrap()[0],
        find(&t, &[0x06]).unwrap().to_vec(),
    )
}

/// (algorithm, default flag, touch policy) of the management key.
fn mgm_meta(c: &mut SimCard) -> (u8, u8, u8) {
    let (d, sw) = tx(c, &[0, 0xF7, 0, 0x9B]);
    assert_eq!(sw, 0x9000);
    let t = parse_tlvs(&d).unwrap();
    let policy = find(&t, &[0x02]).unwrap();
    (
        find(&t, &[0x01]).unwrap()[0],
        find(&t, &[0x05]).unwrap()[0],
        policy[1],
    )
}

fn change(c: &mut SimCard, reference: u8, old: &[u8], new: &[u8]) -> u16 {
    let data = [pin_block(old), pin_block(new)].concat();
    tx(c, &apdu(0, 0x24, 0, reference, &data)).1
}

fn selected(config: SimConfig) -> SimCard {
    let mut c = SimCard::in_memory(config);
    assert_eq!(tx(&mut c, SELECT).1, 0x9000);
    c
}

#[test]
fn factory_card_reports_defaults_without_spending_tries() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(pin_meta(&mut c, 0x80), (1, vec![3, 3]));
    assert_eq!(pin_meta(&mut c, 0x81), (1, vec![3, 3]));
    assert_eq!(mgm_meta(&mut c), (ALG_AES192, 1, 1));
    // A wrong PIN shows up in the remaining count, and reading it costs nothing.
    assert_eq!(verify(&mut c, b"999999"), 0x63C2);
    assert_eq!(pin_meta(&mut c, 0x80), (1, vec![3, 2]));
    assert_eq!(pin_meta(&mut c, 0x80), (1, vec![3, 2]));
}

#[test]
fn changing_pin_and_puk_clears_their_default_flags() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(change(&mut c, 0x80, DEFAULT_PIN, b"24681357"), 0x9000);
    assert_eq!(pin_meta(&mut c, 0x80).0, 0);
    assert_eq!(pin_meta(&mut c, 0x81).0, 1);
    assert_eq!(change(&mut c, 0x81, DEFAULT_PUK, b"87654321"), 0x9000);
    assert_eq!(pin_meta(&mut c, 0x81).0, 0);
    assert_eq!(verify(&mut c, b"24681357"), 0x9000);
}

#[test]
fn set_management_key_takes_every_aes_size_and_touch() {
    for (alg, len) in [(ALG_AES128, 16), (ALG_AES256, 32), (ALG_3DES, 24)] {
        let mut c = card(TouchMode::Auto);
        assert_eq!(mgm_auth(&mut c), 0x9000);
        let key = vec![0x42u8; len];
        let data = [&[alg, 0x9B, len as u8][..], &key].concat();
        assert_eq!(tx(&mut c, &apdu(0, 0xFF, 0xFF, 0xFE, &data)).1, 0x9000);
        assert_eq!(mgm_meta(&mut c), (alg, 0, 2), "touch required now");
        assert_eq!(mgm_auth_with(&mut c, alg, &key), 0x9000);
    }
    let mut c = card(TouchMode::Auto);
    assert_eq!(mgm_auth(&mut c), 0x9000);
    let data = [&[ALG_AES128, 0x9B, 24][..], &[1u8; 24]].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0xFF, 0xFF, 0xFF, &data)).1, 0x6A80);
    let data = [&[ALG_AES192, 0x9B, 24][..], &[1u8; 24]].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0xFF, 0x00, 0xFF, &data)).1, 0x6A86);
}

#[test]
fn touch_required_management_key_waits_for_the_touch() {
    let mut c = card(TouchMode::Never);
    assert_eq!(mgm_auth(&mut c), 0x9000);
    let data = [&[ALG_AES192, 0x9B, 24][..], &[9u8; 24]].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0xFF, 0xFF, 0xFE, &data)).1, 0x9000);
    assert_eq!(mgm_auth_with(&mut c, ALG_AES192, &[9u8; 24]), 0x6982);
}

#[test]
fn configured_credentials_are_not_default() {
    let mut c = selected(SimConfig {
        pin: b"11223344".to_vec(),
        puk: b"55667788".to_vec(),
        management_key: Some((ALG_AES256, vec![0x33; 32])),
        ..config(TouchMode::Auto)
    });
    assert_eq!(pin_meta(&mut c, 0x80).0, 0);
    assert_eq!(pin_meta(&mut c, 0x81).0, 0);
    assert_eq!(mgm_meta(&mut c), (ALG_AES256, 0, 1));
    assert_eq!(verify(&mut c, DEFAULT_PIN), 0x63C2);
    assert_eq!(verify(&mut c, b"11223344"), 0x9000);
    assert_eq!(mgm_auth_with(&mut c, ALG_AES256, &[0x33; 32]), 0x9000);
    // Each piece can also be changed alone.
    let mut c = selected(SimConfig {
        pin: b"11223344".to_vec(),
        ..config(TouchMode::Auto)
    });
    assert_eq!(pin_meta(&mut c, 0x80).0, 0);
    assert_eq!(pin_meta(&mut c, 0x81).0, 1);
    assert_eq!(mgm_meta(&mut c).1, 1);
}

#[test]
fn impossible_configurations_are_refused() {
    let bad = |config| SimCard::create(&tempfile::tempdir().unwrap().path().join("c"), config);
    assert!(bad(SimConfig {
        pin: b"123".to_vec(),
        ..SimConfig::default()
    })
    .is_err());
    assert!(bad(SimConfig {
        management_key: Some((ALG_AES128, vec![1; 24])),
        ..SimConfig::default()
    })
    .is_err());
    assert!(bad(SimConfig {
        firmware: [5, 2, 7],
        management_key: Some((ALG_AES192, vec![1; 24])),
        ..SimConfig::default()
    })
    .is_err());
}

#[test]
fn protected_management_key_sits_in_printed_behind_the_pin() {
    let key = vec![0x5Cu8; 24];
    let mut c = selected(SimConfig {
        pin: b"24681357".to_vec(),
        management_key: Some((ALG_AES192, key.clone())),
        protect_management_key: true,
        ..config(TouchMode::Auto)
    });
    // ADMIN DATA is public: 80 { 81 <flags> }, 0x02 = stored PIN-protected.
    let (d, sw) = tx(
        &mut c,
        &apdu(0, 0xCB, 0x3F, 0xFF, &[0x5C, 0x03, 0x5F, 0xFF, 0x00]),
    );
    assert_eq!(sw, 0x9000);
    assert_eq!(d, tlv(&[0x53], &tlv(&[0x80], &tlv(&[0x81], &[0x02]))));
    let printed = [0x5C, 0x03, 0x5F, 0xC1, 0x09];
    assert_eq!(tx(&mut c, &apdu(0, 0xCB, 0x3F, 0xFF, &printed)).1, 0x6982);
    assert_eq!(verify(&mut c, b"24681357"), 0x9000);
    let (d, sw) = tx(&mut c, &apdu(0, 0xCB, 0x3F, 0xFF, &printed));
    assert_eq!(sw, 0x9000);
    assert_eq!(d, tlv(&[0x53], &tlv(&[0x88], &tlv(&[0x89], &key))));
    assert_eq!(mgm_auth_with(&mut c, ALG_AES192, &key), 0x9000);
    assert_eq!(mgm_auth_with(&mut c, ALG_AES192, &DEFAULT_MGM_KEY), 0x6982);
}

#[test]
fn changed_credentials_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card");
    let mut c = SimCard::create(&state, config(TouchMode::Auto)).unwrap();
    tx(&mut c, SELECT);
    assert_eq!(change(&mut c, 0x80, DEFAULT_PIN, b"24681357"), 0x9000);
    assert_eq!(mgm_auth(&mut c), 0x9000);
    let data = [&[ALG_AES128, 0x9B, 16][..], &[4u8; 16]].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0xFF, 0xFF, 0xFE, &data)).1, 0x9000);
    drop(c);
    let mut c = SimCard::open(&state).unwrap();
    tx(&mut c, SELECT);
    assert_eq!(pin_meta(&mut c, 0x80).0, 0);
    assert_eq!(mgm_meta(&mut c), (ALG_AES128, 0, 2));
}
