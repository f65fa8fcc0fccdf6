//! Helpers shared by the in-process card tests: APDU building and the host halves of
//! the PIN and management-key protocols.

#![allow(dead_code)]

use std::time::Duration;

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use glasskeep_piv_sim::apdu::tlv;
use glasskeep_piv_sim::model::{ALG_3DES, ALG_AES128, ALG_AES192, ALG_AES256, DEFAULT_MGM_KEY};
use glasskeep_piv_sim::{SimCard, SimConfig, TouchMode};

pub const SELECT: &[u8] = &[0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08];

pub fn config(touch: TouchMode) -> SimConfig {
    SimConfig {
        serial: 12_345_678,
        firmware: [5, 7, 1],
        touch,
        touch_timeout: Duration::from_millis(300),
        ..SimConfig::default()
    }
}

/// A selected in-memory card.
pub fn card(touch: TouchMode) -> SimCard {
    let mut c = SimCard::in_memory(config(touch));
    assert_eq!(tx(&mut c, SELECT).1, 0x9000);
    c
}

pub fn apdu(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![cla, ins, p1, p2];
    if !data.is_empty() {
        assert!(data.len() <= 255);
        v.push(data.len() as u8);
        v.extend_from_slice(data);
    }
    v
}

/// Transmits and splits the answer into data and status word.
pub fn tx(card: &mut SimCard, apdu: &[u8]) -> (Vec<u8>, u16) {
    let mut r = card.transmit(apdu);
    assert!(r.len() >= 2, "response shorter than a status word");
    let sw = u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    r.truncate(r.len() - 2);
    (r, sw)
}

/// Sends a command of any length with CLA 0x10 chaining and collects a response of any
/// length with GET RESPONSE, as the yubikey crate does.
pub fn tx_long(card: &mut SimCard, ins: u8, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
    let mut chunks: Vec<&[u8]> = data.chunks(255).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    let mut out = Vec::new();
    let mut sw = 0;
    for (i, c) in chunks.iter().enumerate() {
        let cla = if i == last { 0x00 } else { 0x10 };
        let (d, s) = tx(card, &apdu(cla, ins, p1, p2, c));
        out.extend(d);
        sw = s;
        if i != last {
            assert_eq!(sw, 0x9000, "chained part {i} refused");
        }
    }
    while sw & 0xFF00 == 0x6100 {
        let (d, s) = tx(card, &[0x00, 0xC0, 0x00, 0x00, 0x00]);
        out.extend(d);
        sw = s;
    }
    (out, sw)
}

pub fn pin_block(pin: &[u8]) -> Vec<u8> {
    let mut b = pin.to_vec();
    b.resize(8, 0xFF);
    b
}

pub fn verify(card: &mut SimCard, pin: &[u8]) -> u16 {
    tx(card, &apdu(0, 0x20, 0, 0x80, &pin_block(pin))).1
}

fn crypt(alg: u8, key: &[u8], block: &mut [u8], encrypt: bool) {
    match alg {
        ALG_AES128 => {
            let c = aes::Aes128::new_from_slice(key).unwrap();
            let b = block.try_into().unwrap();
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
        }
        ALG_AES256 => {
            let c = aes::Aes256::new_from_slice(key).unwrap();
            let b = block.try_into().unwrap();
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
        }
        ALG_AES192 => {
            let c = aes::Aes192::new_from_slice(key).unwrap();
            let b = block.try_into().unwrap();
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
        }
        ALG_3DES => {
            let c = des::TdesEde3::new_from_slice(key).unwrap();
            let b = block.try_into().unwrap();
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
        }
        _ => panic!("unknown management key algorithm"),
    }
}

/// The host side of mutual authentication; returns the final status word.
pub fn mgm_auth_with(card: &mut SimCard, alg: u8, key: &[u8]) -> u16 {
    let (d, sw) = tx(card, &apdu(0, 0x87, alg, 0x9B, &[0x7C, 0x02, 0x80, 0x00]));
    if sw != 0x9000 {
        return sw;
    }
    let bs = if alg == ALG_3DES { 8 } else { 16 };
    assert_eq!(&d[..4], &[0x7C, (bs + 2) as u8, 0x80, bs as u8]);
    let mut witness = d[4..].to_vec();
    crypt(alg, key, &mut witness, false);
    let challenge = vec![0x5Au8; bs];
    let body = [tlv(&[0x80], &witness), tlv(&[0x81], &challenge)].concat();
    let (d, sw) = tx(card, &apdu(0, 0x87, alg, 0x9B, &tlv(&[0x7C], &body)));
    if sw == 0x9000 {
        let mut expect = challenge.clone();
        crypt(alg, key, &mut expect, true);
        assert_eq!(&d[4..], &expect[..], "card proved a different key");
    }
    sw
}

pub fn mgm_auth(card: &mut SimCard) -> u16 {
    mgm_auth_with(card, ALG_AES192, &DEFAULT_MGM_KEY)
}

/// GENERATE; returns the uncompressed public point.
pub fn generate(card: &mut SimCard, slot: u8, alg: u8, pin: u8, touch: u8) -> (Vec<u8>, u16) {
    let mut t = tlv(&[0x80], &[alg]);
    if pin != 0 {
        t.extend(tlv(&[0xAA], &[pin]));
    }
    if touch != 0 {
        t.extend(tlv(&[0xAB], &[touch]));
    }
    let (d, sw) = tx(card, &apdu(0, 0x47, 0, slot, &tlv(&[0xAC], &t)));
    if sw != 0x9000 {
        return (d, sw);
    }
    assert_eq!(&d[..2], &[0x7F, 0x49]);
    let len = d[2] as usize;
    assert_eq!(d[3], 0x86);
    (d[5..3 + len].to_vec(), sw)
}

/// GENERAL AUTHENTICATE sign; returns the DER signature.
pub fn sign(card: &mut SimCard, slot: u8, alg: u8, digest: &[u8]) -> (Vec<u8>, u16) {
    let body = [tlv(&[0x82], &[]), tlv(&[0x81], digest)].concat();
    let (d, sw) = tx(card, &apdu(0, 0x87, alg, slot, &tlv(&[0x7C], &body)));
    (if sw == 0x9000 { unwrap_82(&d) } else { d }, sw)
}

/// GENERAL AUTHENTICATE ECDH; returns the shared x-coordinate.
pub fn ecdh(card: &mut SimCard, slot: u8, alg: u8, point: &[u8]) -> (Vec<u8>, u16) {
    let body = [tlv(&[0x82], &[]), tlv(&[0x85], point)].concat();
    let (d, sw) = tx(card, &apdu(0, 0x87, alg, slot, &tlv(&[0x7C], &body)));
    (if sw == 0x9000 { unwrap_82(&d) } else { d }, sw)
}

fn unwrap_82(d: &[u8]) -> Vec<u8> {
    let tlvs = glasskeep_piv_sim::apdu::parse_tlvs(d).unwrap();
    let inner = glasskeep_piv_sim::apdu::parse_tlvs(tlvs[0].value).unwrap();
    assert_eq!(inner[0].tag, &[0x82]);
    inner[0].value.to_vec()
}
