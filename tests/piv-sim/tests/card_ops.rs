//! Every card operation and its error paths on the in-process front, each asserting the
//! exact status word.

mod common;

use common::*;
use glasskeep_piv_sim::apdu::tlv;
use glasskeep_piv_sim::model::{ALG_3DES, ALG_AES192, ALG_P256, ALG_P384, DEFAULT_MGM_KEY};
use glasskeep_piv_sim::{SimCard, SimConfig, TouchMode};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::elliptic_curve::sec1::ToSec1Point;

#[test]
fn commands_before_select_are_refused() {
    let mut c = SimCard::in_memory(config(TouchMode::Auto));
    assert_eq!(tx(&mut c, &[0x00, 0xFD, 0x00, 0x00]).1, 0x6D00);
}

#[test]
fn select_unknown_application_is_not_found() {
    let mut c = SimCard::in_memory(config(TouchMode::Auto));
    let sel = [0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x05, 0x27];
    assert_eq!(tx(&mut c, &sel).1, 0x6A82);
}

#[test]
fn select_answers_application_template() {
    let mut c = SimCard::in_memory(config(TouchMode::Auto));
    let (d, sw) = tx(&mut c, SELECT);
    assert_eq!(sw, 0x9000);
    assert_eq!(d[0], 0x61);
}

#[test]
fn version_and_serial() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(tx(&mut c, &[0, 0xFD, 0, 0]), (vec![5, 7, 1], 0x9000));
    let serial = 12_345_678u32.to_be_bytes().to_vec();
    assert_eq!(tx(&mut c, &[0, 0xF8, 0, 0, 0]), (serial, 0x9000));
}

#[test]
fn malformed_apdu_is_wrong_length() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(tx(&mut c, &[0, 0x20, 0]).1, 0x6700);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80, 5, 1]).1, 0x6700);
}

#[test]
fn unknown_instruction_and_class() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(tx(&mut c, &[0, 0x12, 0, 0]).1, 0x6D00);
    assert_eq!(tx(&mut c, &[0x80, 0xFD, 0, 0]).1, 0x6E00);
}

#[test]
fn pin_verify_success_and_status_query() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80]).1, 0x63C3);
    assert_eq!(verify(&mut c, b"123456"), 0x9000);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80]).1, 0x9000);
    // P1 = FF drops the verification.
    assert_eq!(tx(&mut c, &[0, 0x20, 0xFF, 0x80]).1, 0x9000);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80]).1, 0x63C3);
}

#[test]
fn wrong_pin_counts_down_then_blocks() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(verify(&mut c, b"000000"), 0x63C2);
    assert_eq!(verify(&mut c, b"000000"), 0x63C1);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80]).1, 0x63C1);
    assert_eq!(verify(&mut c, b"000000"), 0x6983);
    // Blocked: even the right PIN is refused, and the query says blocked.
    assert_eq!(verify(&mut c, b"123456"), 0x6983);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80]).1, 0x6983);
}

#[test]
fn right_pin_resets_the_counter() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(verify(&mut c, b"000000"), 0x63C2);
    assert_eq!(verify(&mut c, b"123456"), 0x9000);
    assert_eq!(tx(&mut c, &[0, 0x20, 0xFF, 0x80]).1, 0x9000);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80]).1, 0x63C3);
}

#[test]
fn verify_refuses_bad_reference_and_length() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(
        tx(&mut c, &apdu(0, 0x20, 0, 0x81, &pin_block(b"12345678"))).1,
        0x6A88
    );
    assert_eq!(tx(&mut c, &apdu(0, 0x20, 0, 0x80, b"123456")).1, 0x6A80);
}

#[test]
fn change_pin_and_wrong_old_pin() {
    let mut c = card(TouchMode::Auto);
    let body = [pin_block(b"000000"), pin_block(b"654321")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x24, 0, 0x80, &body)).1, 0x63C2);
    let body = [pin_block(b"123456"), pin_block(b"654321")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x24, 0, 0x80, &body)).1, 0x9000);
    assert_eq!(verify(&mut c, b"123456"), 0x63C2);
    assert_eq!(verify(&mut c, b"654321"), 0x9000);
}

#[test]
fn change_pin_refuses_short_new_pin() {
    let mut c = card(TouchMode::Auto);
    let body = [pin_block(b"123456"), pin_block(b"12345")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x24, 0, 0x80, &body)).1, 0x6A80);
}

#[test]
fn change_puk() {
    let mut c = card(TouchMode::Auto);
    let body = [pin_block(b"12345678"), pin_block(b"87654321")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x24, 0, 0x81, &body)).1, 0x9000);
    let body = [pin_block(b"12345678"), pin_block(b"11112222")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x24, 0, 0x81, &body)).1, 0x63C2);
}

#[test]
fn puk_unblocks_pin() {
    let mut c = card(TouchMode::Auto);
    for _ in 0..3 {
        verify(&mut c, b"000000");
    }
    assert_eq!(verify(&mut c, b"123456"), 0x6983);
    let wrong = [pin_block(b"00000000"), pin_block(b"222222")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x2C, 0, 0x80, &wrong)).1, 0x63C2);
    let body = [pin_block(b"12345678"), pin_block(b"222222")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x2C, 0, 0x80, &body)).1, 0x9000);
    assert_eq!(tx(&mut c, &[0, 0x20, 0, 0x80]).1, 0x63C3);
    assert_eq!(verify(&mut c, b"222222"), 0x9000);
}

#[test]
fn blocked_puk_refuses_unblock() {
    let mut c = card(TouchMode::Auto);
    let wrong = [pin_block(b"00000000"), pin_block(b"222222")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x2C, 0, 0x80, &wrong)).1, 0x63C2);
    assert_eq!(tx(&mut c, &apdu(0, 0x2C, 0, 0x80, &wrong)).1, 0x63C1);
    assert_eq!(tx(&mut c, &apdu(0, 0x2C, 0, 0x80, &wrong)).1, 0x6983);
    let right = [pin_block(b"12345678"), pin_block(b"222222")].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0x2C, 0, 0x80, &right)).1, 0x6983);
}

#[test]
fn reset_needs_pin_and_puk_blocked() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(tx(&mut c, &[0, 0xFB, 0, 0]).1, 0x6985);
    for _ in 0..3 {
        verify(&mut c, b"000000");
        let wrong = [pin_block(b"00000000"), pin_block(b"222222")].concat();
        tx(&mut c, &apdu(0, 0x2C, 0, 0x80, &wrong));
    }
    assert_eq!(tx(&mut c, &[0, 0xFB, 0, 0]).1, 0x9000);
    assert_eq!(verify(&mut c, b"123456"), 0x9000);
}

#[test]
fn aes_management_key_default_authenticates() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(mgm_auth(&mut c), 0x9000);
}

#[test]
fn wrong_management_key_is_refused() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(mgm_auth_with(&mut c, ALG_AES192, &[9u8; 24]), 0x6982);
    // And nothing that needs it works.
    assert_eq!(generate(&mut c, 0x9A, ALG_P256, 0, 0).1, 0x6982);
}

#[test]
fn management_key_algorithm_mismatch() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(mgm_auth_with(&mut c, ALG_3DES, &DEFAULT_MGM_KEY), 0x6A86);
}

#[test]
fn management_response_without_witness_request_is_refused() {
    let mut c = card(TouchMode::Auto);
    let body = [tlv(&[0x80], &[0u8; 16]), tlv(&[0x81], &[0u8; 16])].concat();
    assert_eq!(
        tx(
            &mut c,
            &apdu(0, 0x87, ALG_AES192, 0x9B, &tlv(&[0x7C], &body))
        )
        .1,
        0x6982
    );
    assert_eq!(
        tx(&mut c, &apdu(0, 0x87, ALG_AES192, 0x9B, &[0x7C, 0x00])).1,
        0x6A80
    );
}

#[test]
fn old_firmware_uses_3des_default() {
    let mut c = SimCard::in_memory(SimConfig {
        firmware: [5, 4, 3],
        ..config(TouchMode::Auto)
    });
    tx(&mut c, SELECT);
    assert_eq!(mgm_auth_with(&mut c, ALG_AES192, &DEFAULT_MGM_KEY), 0x6A86);
    assert_eq!(mgm_auth_with(&mut c, ALG_3DES, &DEFAULT_MGM_KEY), 0x9000);
    let (d, sw) = tx(&mut c, &[0, 0xF7, 0, 0x9B]);
    assert_eq!(sw, 0x9000);
    assert_eq!(&d[..3], &[0x01, 0x01, ALG_3DES]);
}

#[test]
fn metadata_absent_before_firmware_5_3() {
    let mut c = SimCard::in_memory(SimConfig {
        firmware: [5, 2, 7],
        ..config(TouchMode::Auto)
    });
    tx(&mut c, SELECT);
    assert_eq!(tx(&mut c, &[0, 0xF7, 0, 0x9B]).1, 0x6D00);
}

#[test]
fn set_management_key() {
    let mut c = card(TouchMode::Auto);
    let new = [7u8; 24];
    let data = [&[ALG_AES192, 0x9B, 24][..], &new].concat();
    assert_eq!(tx(&mut c, &apdu(0, 0xFF, 0xFF, 0xFF, &data)).1, 0x6982);
    assert_eq!(mgm_auth(&mut c), 0x9000);
    assert_eq!(tx(&mut c, &apdu(0, 0xFF, 0xFF, 0xFF, &data)).1, 0x9000);
    assert_eq!(mgm_auth(&mut c), 0x6982);
    assert_eq!(mgm_auth_with(&mut c, ALG_AES192, &new), 0x9000);
    let (d, _) = tx(&mut c, &[0, 0xF7, 0, 0x9B]);
    assert!(
        d.ends_with(&[0x05, 0x01, 0x00]),
        "no longer the default key"
    );
}

#[test]
fn generate_without_management_key_is_refused() {
    let mut c = card(TouchMode::Auto);
    assert_eq!(generate(&mut c, 0x9C, ALG_P256, 0, 0).1, 0x6982);
}

#[test]
fn generate_refuses_rsa_bad_policy_and_bad_slot() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    assert_eq!(generate(&mut c, 0x9A, 0x07, 0, 0).1, 0x6A80);
    assert_eq!(generate(&mut c, 0x9A, ALG_P256, 4, 0).1, 0x6A80);
    assert_eq!(generate(&mut c, 0x9A, ALG_P256, 0, 9).1, 0x6A80);
    assert_eq!(generate(&mut c, 0x9B, ALG_P256, 0, 0).1, 0x6A86);
    assert_eq!(generate(&mut c, 0x96, ALG_P256, 0, 0).1, 0x6A86);
}

#[test]
fn sign_p256_verifies() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let (point, sw) = generate(&mut c, 0x9A, ALG_P256, 1, 1);
    assert_eq!(sw, 0x9000);
    let digest = [0x42u8; 32];
    let (sig, sw) = sign(&mut c, 0x9A, ALG_P256, &digest);
    assert_eq!(sw, 0x9000);
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
    let sig = p256::ecdsa::DerSignature::from_bytes(&sig).unwrap();
    let sig = p256::ecdsa::Signature::try_from(sig).unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
}

#[test]
fn sign_p384_verifies() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let (point, sw) = generate(&mut c, 0x9D, ALG_P384, 1, 1);
    assert_eq!(sw, 0x9000);
    let digest = [0x17u8; 48];
    let (sig, sw) = sign(&mut c, 0x9D, ALG_P384, &digest);
    assert_eq!(sw, 0x9000);
    let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
    let sig = p384::ecdsa::DerSignature::from_bytes(&sig).unwrap();
    let sig = p384::ecdsa::Signature::try_from(sig).unwrap();
    vk.verify_prehash(&digest, &sig).unwrap();
}

#[test]
fn sign_wrong_algorithm_or_empty_slot() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    generate(&mut c, 0x9A, ALG_P256, 1, 1);
    assert_eq!(sign(&mut c, 0x9A, ALG_P384, &[0u8; 48]).1, 0x6A86);
    assert_eq!(sign(&mut c, 0x9E, ALG_P256, &[0u8; 32]).1, 0x6A88);
}

#[test]
fn ecdh_matches_software() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let (point, _) = generate(&mut c, 0x82, ALG_P256, 1, 1);
    let eph = p256::SecretKey::from_slice(&[3u8; 32]).unwrap();
    let card_pk = p256::PublicKey::from_sec1_bytes(&point).unwrap();
    let expected = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), card_pk.as_affine());
    let eph_point = eph.public_key().to_sec1_point(false);
    let (x, sw) = ecdh(&mut c, 0x82, ALG_P256, eph_point.as_bytes());
    assert_eq!(sw, 0x9000);
    assert_eq!(&x[..], &expected.raw_secret_bytes()[..]);
}

#[test]
fn ecdh_refuses_compressed_or_invalid_point() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let (point, _) = generate(&mut c, 0x82, ALG_P256, 1, 1);
    let pk = p256::PublicKey::from_sec1_bytes(&point).unwrap();
    let compressed = pk.to_sec1_point(true);
    assert_eq!(
        ecdh(&mut c, 0x82, ALG_P256, compressed.as_bytes()).1,
        0x6A80
    );
    let mut bad = point.clone();
    bad[64] ^= 1;
    assert_eq!(ecdh(&mut c, 0x82, ALG_P256, &bad).1, 0x6A80);
}

#[test]
fn pin_policy_always_needs_fresh_pin_each_time() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    generate(&mut c, 0x9C, ALG_P256, 3, 1);
    assert_eq!(sign(&mut c, 0x9C, ALG_P256, &[1u8; 32]).1, 0x6982);
    assert_eq!(verify(&mut c, b"123456"), 0x9000);
    assert_eq!(sign(&mut c, 0x9C, ALG_P256, &[1u8; 32]).1, 0x9000);
    assert_eq!(sign(&mut c, 0x9C, ALG_P256, &[1u8; 32]).1, 0x6982);
}

#[test]
fn pin_policy_once_needs_pin_per_session() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    generate(&mut c, 0x9A, ALG_P256, 2, 1);
    assert_eq!(sign(&mut c, 0x9A, ALG_P256, &[1u8; 32]).1, 0x6982);
    verify(&mut c, b"123456");
    assert_eq!(sign(&mut c, 0x9A, ALG_P256, &[1u8; 32]).1, 0x9000);
    assert_eq!(sign(&mut c, 0x9A, ALG_P256, &[1u8; 32]).1, 0x9000);
    c.power_cycle();
    tx(&mut c, SELECT);
    assert_eq!(sign(&mut c, 0x9A, ALG_P256, &[1u8; 32]).1, 0x6982);
}

#[test]
fn default_policies_per_slot() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    for (slot, pin) in [(0x9A, 2), (0x9C, 3), (0x9D, 2), (0x9E, 1), (0x82, 2)] {
        generate(&mut c, slot, ALG_P256, 0, 0);
        let (d, sw) = tx(&mut c, &[0, 0xF7, 0, slot]);
        assert_eq!(sw, 0x9000);
        assert_eq!(&d[3..7], &[0x02, 0x02, pin, 0x01], "slot {slot:02x}");
    }
}

#[test]
fn slot_metadata_reports_key() {
    let mut c = card(TouchMode::Auto);
    mgm_auth(&mut c);
    let (point, _) = generate(&mut c, 0x82, ALG_P256, 2, 3);
    let (d, sw) = tx(&mut c, &[0, 0xF7, 0, 0x82]);
    assert_eq!(sw, 0x9000);
    let expected = [
        tlv(&[0x01], &[ALG_P256]),
        tlv(&[0x02], &[2, 3]),
        tlv(&[0x03], &[1]),
        tlv(&[0x04], &tlv(&[0x86], &point)),
    ]
    .concat();
    assert_eq!(d, expected);
    assert_eq!(tx(&mut c, &[0, 0xF7, 0, 0x83]).1, 0x6A88);
}

#[test]
fn pin_puk_metadata() {
    let mut c = card(TouchMode::Auto);
    verify(&mut c, b"000000");
    let (d, sw) = tx(&mut c, &[0, 0xF7, 0, 0x80]);
    assert_eq!(sw, 0x9000);
    assert_eq!(
        d,
        vec![0x01, 0x01, 0xFF, 0x05, 0x01, 0x01, 0x06, 0x02, 3, 2]
    );
    let (d, _) = tx(&mut c, &[0, 0xF7, 0, 0x81]);
    assert_eq!(
        d,
        vec![0x01, 0x01, 0xFF, 0x05, 0x01, 0x01, 0x06, 0x02, 3, 3]
    );
    assert_eq!(tx(&mut c, &[0, 0xF7, 0, 0x77]).1, 0x6A88);
}

#[test]
fn management_metadata_is_aes192_default() {
    let mut c = card(TouchMode::Auto);
    let (d, sw) = tx(&mut c, &[0, 0xF7, 0, 0x9B]);
    assert_eq!(sw, 0x9000);
    assert_eq!(
        d,
        vec![0x01, 0x01, ALG_AES192, 0x02, 0x02, 0x00, 0x01, 0x05, 0x01, 0x01]
    );
}
