//! Management key mutual authentication (GENERAL AUTHENTICATE on key reference 9B).
//!
//! Step one: the host sends `7C 02 80 00`; the card answers with an encrypted random
//! witness. Step two: the host sends the decrypted witness (80) and its own challenge
//! (81); the card checks the witness and answers the encrypted challenge (82).

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

use crate::apdu::{find, parse_tlvs, sw, tlv, Command, Reply};
use crate::model::{random_bytes, Card, ALG_3DES, ALG_AES128, ALG_AES192, ALG_AES256};

fn block_size(alg: u8) -> usize {
    if alg == ALG_3DES {
        8
    } else {
        16
    }
}

/// Encrypts (or decrypts) one block in place with the management key.
pub(crate) fn crypt_block(alg: u8, key: &[u8], block: &mut [u8], encrypt: bool) -> Option<()> {
    match alg {
        ALG_3DES => {
            let c = des::TdesEde3::new_from_slice(key).ok()?;
            let b = block.try_into().ok()?;
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
        }
        ALG_AES128 => {
            let c = aes::Aes128::new_from_slice(key).ok()?;
            let b = block.try_into().ok()?;
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
        }
        ALG_AES192 => {
            let c = aes::Aes192::new_from_slice(key).ok()?;
            let b = block.try_into().ok()?;
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
        }
        ALG_AES256 => {
            let c = aes::Aes256::new_from_slice(key).ok()?;
            let b = block.try_into().ok()?;
            if encrypt {
                c.encrypt_block(b)
            } else {
                c.decrypt_block(b)
            }
        }
        _ => return None,
    }
    Some(())
}

impl Card {
    pub(crate) fn mgm_authenticate(&mut self, cmd: &Command) -> Reply {
        let alg = self.state.mgm_algorithm;
        if cmd.p1 != alg {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        let Ok(key) = hex::decode(&self.state.mgm_key) else {
            return Reply::status(0x6581);
        };
        let bs = block_size(alg);
        let Some(outer) = parse_tlvs(&cmd.data) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        let Some(template) = find(&outer, &[0x7C]) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        let Some(inner) = parse_tlvs(template) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        let witness = find(&inner, &[0x80]);
        let challenge = find(&inner, &[0x81]);
        match (witness, challenge) {
            (Some([]), None) => {
                // Step one: a fresh authentication attempt drops any earlier one.
                self.session.mgm_authenticated = false;
                let mut plain = vec![0u8; bs];
                random_bytes(&mut plain);
                let mut enc = plain.clone();
                if crypt_block(alg, &key, &mut enc, true).is_none() {
                    return Reply::status(0x6581);
                }
                self.session.mgm_witness = Some(plain);
                Reply::ok(tlv(&[0x7C], &tlv(&[0x80], &enc)))
            }
            (Some(w), Some(c)) if w.len() == bs && c.len() == bs => {
                let expected = self.session.mgm_witness.take();
                let ok = expected
                    .is_some_and(|e| e.iter().zip(w).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0);
                if !ok {
                    self.session.mgm_authenticated = false;
                    return Reply::status(sw::SECURITY_STATUS);
                }
                // A key set with "touch required" authenticates only once touched.
                if self.state.mgm_touch && !self.wait_for_touch(0x9B, false) {
                    return Reply::status(sw::SECURITY_STATUS);
                }
                let mut resp = c.to_vec();
                if crypt_block(alg, &key, &mut resp, true).is_none() {
                    return Reply::status(0x6581);
                }
                self.session.mgm_authenticated = true;
                Reply::ok(tlv(&[0x7C], &tlv(&[0x82], &resp)))
            }
            _ => Reply::status(sw::INCORRECT_DATA),
        }
    }
}
