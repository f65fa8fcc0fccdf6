//! Touch policies and modes, data objects with chaining both ways, and persistence.

mod common;

use std::time::{Duration, Instant};

use common::*;
use glasskeep_piv_sim::apdu::tlv;
use glasskeep_piv_sim::model::ALG_P256;
use glasskeep_piv_sim::{SimCard, StateError, TouchMode};

fn signing_card(touch: TouchMode, touch_policy: u8) -> SimCard {
    let mut c = card(touch);
    assert_eq!(mgm_auth(&mut c), 0x9000);
    assert_eq!(generate(&mut c, 0x9E, ALG_P256, 1, touch_policy).1, 0x9000);
    c
}

#[test]
fn touch_never_times_out_with_security_status() {
    let mut c = signing_card(TouchMode::Never, 2);
    let t = Instant::now();
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x6982);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "waited the touch timeout"
    );
}

#[test]
fn touch_policy_never_does_not_wait_even_on_never_card() {
    let mut c = signing_card(TouchMode::Never, 1);
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x9000);
}

#[test]
fn touch_auto_succeeds_after_a_delay() {
    let mut c = signing_card(TouchMode::Auto, 2);
    let t = Instant::now();
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x9000);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[test]
fn touch_signal_waits_for_the_handle() {
    let mut c = signing_card(TouchMode::Signal, 2);
    // No touch: times out.
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x6982);
    let handle = c.touch_handle();
    let toucher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        handle.touch();
    });
    let t = Instant::now();
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x9000);
    assert!(t.elapsed() >= Duration::from_millis(90));
    toucher.join().unwrap();
    // The touch was used up: the next operation waits again.
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x6982);
}

#[test]
fn touch_cached_is_remembered() {
    let mut c = signing_card(TouchMode::Signal, 3);
    c.touch_handle().touch();
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x9000);
    // Within 15 s no new touch is needed.
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x9000);
}

#[test]
fn pin_is_checked_before_touch() {
    let mut c = card(TouchMode::Signal);
    mgm_auth(&mut c);
    generate(&mut c, 0x9C, ALG_P256, 3, 2);
    c.touch_handle().touch();
    assert_eq!(sign(&mut c, 0x9C, ALG_P256, &[1u8; 32]).1, 0x6982);
    verify(&mut c, b"123456");
    // The touch given earlier was not consumed by the refused attempt.
    assert_eq!(sign(&mut c, 0x9C, ALG_P256, &[1u8; 32]).1, 0x9000);
}

fn get_data_cmd(id: &[u8]) -> Vec<u8> {
    tlv(&[0x5C], id)
}

fn put_data_cmd(id: &[u8], value: &[u8]) -> Vec<u8> {
    [tlv(&[0x5C], id), tlv(&[0x53], value)].concat()
}

#[test]
fn missing_object_is_not_found() {
    let mut c = card(TouchMode::Auto);
    let cmd = get_data_cmd(&[0x5F, 0xC1, 0x02]);
    assert_eq!(tx(&mut c, &apdu(0, 0xCB, 0x3F, 0xFF, &cmd)).1, 0x6A82);
}

#[test]
fn get_data_refuses_bad_parameters() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(
        tx(&mut c, &apdu(0, 0xCB, 0x3F, 0x00, &get_data_cmd(&[0x7E]))).1,
        0x6A86
    );
    assert_eq!(
        tx(&mut c, &apdu(0, 0xCB, 0x3F, 0xFF, &[0x5C, 0x05, 1])).1,
        0x6A80
    );
}

#[test]
fn discovery_object_is_always_there() {
    let mut c = card(TouchMode::Auto);
    let (d, sw) = tx(&mut c, &apdu(0, 0xCB, 0x3F, 0xFF, &get_data_cmd(&[0x7E])));
    assert_eq!(sw, 0x9000);
    assert_eq!(&d[..2], &[0x7E, 0x12]);
}

#[test]
fn put_data_needs_management_key() {
    let mut c = card(TouchMode::Auto);
    let cmd = put_data_cmd(&[0x5F, 0xC1, 0x02], &[1, 2, 3]);
    assert_eq!(tx(&mut c, &apdu(0, 0xDB, 0x3F, 0xFF, &cmd)).1, 0x6982);
}

#[test]
fn large_object_round_trips_with_chaining_both_ways() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let value: Vec<u8> = (0..1500u32).map(|i| (i % 251) as u8).collect();
    let cmd = put_data_cmd(&[0x5F, 0xC1, 0x0A], &value);
    assert!(cmd.len() > 255);
    assert_eq!(tx_long(&mut c, 0xDB, 0x3F, 0xFF, &cmd).1, 0x9000);
    // First answer is 256 bytes and 61xx.
    let (first, sw) = tx(
        &mut c,
        &apdu(0, 0xCB, 0x3F, 0xFF, &get_data_cmd(&[0x5F, 0xC1, 0x0A])),
    );
    assert_eq!(first.len(), 256);
    assert_eq!(sw, 0x6100);
    let (d, sw) = tx_long(&mut c, 0xCB, 0x3F, 0xFF, &get_data_cmd(&[0x5F, 0xC1, 0x0A]));
    assert_eq!(sw, 0x9000);
    assert_eq!(d, tlv(&[0x53], &value));
}

#[test]
fn last_response_chunk_announces_its_exact_length() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let value = vec![9u8; 300];
    tx_long(
        &mut c,
        0xDB,
        0x3F,
        0xFF,
        &put_data_cmd(&[0x5F, 0xC1, 0x05], &value),
    );
    let (_, sw) = tx(
        &mut c,
        &apdu(0, 0xCB, 0x3F, 0xFF, &get_data_cmd(&[0x5F, 0xC1, 0x05])),
    );
    // 53 82 01 2C + 300 bytes = 304; 256 sent, 48 left.
    assert_eq!(sw, 0x6130);
    let (d, sw) = tx(&mut c, &[0, 0xC0, 0, 0, 0x30]);
    assert_eq!((d.len(), sw), (48, 0x9000));
}

#[test]
fn get_response_without_pending_data_is_refused() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(tx(&mut c, &[0, 0xC0, 0, 0, 0]).1, 0x6985);
}

#[test]
fn interrupted_chain_is_discarded() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    // A chained PUT DATA part, then an unrelated command, then a final part alone.
    tx(&mut c, &apdu(0x10, 0xDB, 0x3F, 0xFF, &[0x5C, 0x03, 0x5F]));
    assert_eq!(tx(&mut c, &[0, 0xFD, 0, 0]).1, 0x9000);
    assert_eq!(
        tx(
            &mut c,
            &apdu(0, 0xDB, 0x3F, 0xFF, &[0xC1, 0x02, 0x53, 0x01, 0x01])
        )
        .1,
        0x6A80
    );
}

#[test]
fn empty_put_deletes_object() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let id = [0x5F, 0xC1, 0x02];
    assert_eq!(
        tx(&mut c, &apdu(0, 0xDB, 0x3F, 0xFF, &put_data_cmd(&id, &[1]))).1,
        0x9000
    );
    assert_eq!(
        tx(&mut c, &apdu(0, 0xDB, 0x3F, 0xFF, &put_data_cmd(&id, &[]))).1,
        0x9000
    );
    assert_eq!(
        tx(&mut c, &apdu(0, 0xCB, 0x3F, 0xFF, &get_data_cmd(&id))).1,
        0x6A82
    );
}

#[test]
fn printed_object_needs_pin() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let id = [0x5F, 0xC1, 0x09];
    tx(
        &mut c,
        &apdu(0, 0xDB, 0x3F, 0xFF, &put_data_cmd(&id, &[0x88, 0x00])),
    );
    assert_eq!(
        tx(&mut c, &apdu(0, 0xCB, 0x3F, 0xFF, &get_data_cmd(&id))).1,
        0x6982
    );
    verify(&mut c, b"123456");
    assert_eq!(
        tx(&mut c, &apdu(0, 0xCB, 0x3F, 0xFF, &get_data_cmd(&id))).1,
        0x9000
    );
}

#[test]
fn state_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card");
    let point = {
        let mut c = SimCard::create(&state, config(TouchMode::Auto)).unwrap();
        tx(&mut c, SELECT);
        mgm_auth(&mut c);
        let (point, _) = generate(&mut c, 0x9A, ALG_P256, 1, 1);
        assert_eq!(verify(&mut c, b"000000"), 0x63C2);
        let value = vec![5u8; 400];
        tx_long(
            &mut c,
            0xDB,
            0x3F,
            0xFF,
            &put_data_cmd(&[0x5F, 0xC1, 0x05], &value),
        );
        point
    };
    let mut c = SimCard::open(&state).unwrap();
    assert_eq!(c.serial(), 12_345_678);
    tx(&mut c, SELECT);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80]).1, 0x63C2);
    let (d, sw) = tx(&mut c, &[0, 0xF7, 0, 0x9A]);
    assert_eq!(sw, 0x9000);
    assert!(d.ends_with(&point));
    let (d, sw) = tx_long(&mut c, 0xCB, 0x3F, 0xFF, &get_data_cmd(&[0x5F, 0xC1, 0x05]));
    assert_eq!((d.len(), sw), (404, 0x9000));
    // The session did not survive: the management key must be proved again.
    assert_eq!(generate(&mut c, 0x9A, ALG_P256, 1, 1).1, 0x6982);
}

#[test]
fn create_refuses_existing_card_and_open_refuses_missing() {
    let dir = tempfile::tempdir().unwrap();
    SimCard::create(dir.path(), config(TouchMode::Auto)).unwrap();
    assert!(matches!(
        SimCard::create(dir.path(), config(TouchMode::Auto)),
        Err(StateError::AlreadyExists(_))
    ));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        SimCard::open(empty.path()),
        Err(StateError::Io { .. })
    ));
}

#[test]
fn corrupt_or_future_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("state.json"), b"{not json").unwrap();
    assert!(matches!(
        SimCard::open(dir.path()),
        Err(StateError::Corrupt { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    SimCard::create(dir.path(), config(TouchMode::Auto)).unwrap();
    let f = dir.path().join("state.json");
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replacen("\"version\": 1", "\"version\": 2", 1);
    std::fs::write(&f, text).unwrap();
    assert!(matches!(
        SimCard::open(dir.path()),
        Err(StateError::Corrupt { .. })
    ));
}

#[test]
fn touch_file_counts_as_touch_for_persisted_card() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = SimCard::create(dir.path(), config(TouchMode::Signal)).unwrap();
    tx(&mut c, SELECT);
    mgm_auth(&mut c);
    generate(&mut c, 0x9E, ALG_P256, 1, 2);
    std::fs::write(dir.path().join("touch"), b"").unwrap();
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[1u8; 32]).1, 0x9000);
    assert!(!dir.path().join("touch").exists());
}
