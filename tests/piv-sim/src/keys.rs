//! Asymmetric slot keys: GENERATE, sign and ECDH (GENERAL AUTHENTICATE), GET METADATA
//! and ATTEST.

use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::elliptic_curve::sec1::ToSec1Point;

use crate::apdu::{find, parse_tlvs, sw, tlv, Command, Reply};
use crate::attestation::{self, SlotFacts};
use crate::model::{Card, ALG_P256, ALG_P384};
use crate::state::SlotKey;

/// Resolved policy bytes as the card reports them.
pub const PIN_NEVER: u8 = 1;
/// PIN once per session.
pub const PIN_ONCE: u8 = 2;
/// PIN before every use.
pub const PIN_ALWAYS: u8 = 3;
/// No touch.
pub const TOUCH_NEVER: u8 = 1;
/// Touch before every use.
pub const TOUCH_ALWAYS: u8 = 2;
/// Touch, remembered for 15 seconds.
pub const TOUCH_CACHED: u8 = 3;

const ORIGIN_GENERATED: u8 = 1;

/// Slots that hold asymmetric keys: 9A, 9C, 9D, 9E and the retired 82..95.
pub fn is_key_slot(slot: u8) -> bool {
    matches!(slot, 0x9A | 0x9C | 0x9D | 0x9E | 0x82..=0x95)
}

/// The data object holding a slot's certificate.
pub fn cert_object_id(slot: u8) -> Option<u32> {
    match slot {
        0x9A => Some(0x5FC105),
        0x9C => Some(0x5FC10A),
        0x9D => Some(0x5FC10B),
        0x9E => Some(0x5FC101),
        0x82..=0x95 => Some(0x5FC10D + u32::from(slot - 0x82)),
        0xF9 => Some(0x5FFF01),
        _ => None,
    }
}

enum Secret {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
}

impl Secret {
    fn load(key: &SlotKey) -> Option<Secret> {
        let bytes = hex::decode(&key.secret).ok()?;
        match key.algorithm {
            ALG_P256 => p256::SecretKey::from_slice(&bytes).ok().map(Secret::P256),
            ALG_P384 => p384::SecretKey::from_slice(&bytes).ok().map(Secret::P384),
            _ => None,
        }
    }

    fn generate(algorithm: u8) -> Option<Secret> {
        let len = if algorithm == ALG_P256 { 32 } else { 48 };
        for _ in 0..16 {
            let mut buf = vec![0u8; len];
            crate::model::random_bytes(&mut buf);
            let s = match algorithm {
                ALG_P256 => p256::SecretKey::from_slice(&buf).ok().map(Secret::P256),
                ALG_P384 => p384::SecretKey::from_slice(&buf).ok().map(Secret::P384),
                _ => return None,
            };
            if s.is_some() {
                return s;
            }
        }
        None
    }

    fn to_hex(&self) -> String {
        match self {
            Secret::P256(s) => hex::encode(s.to_bytes()),
            Secret::P384(s) => hex::encode(s.to_bytes()),
        }
    }

    fn point(&self) -> Vec<u8> {
        match self {
            Secret::P256(s) => s.public_key().to_sec1_point(false).as_bytes().to_vec(),
            Secret::P384(s) => s.public_key().to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    fn field_len(&self) -> usize {
        match self {
            Secret::P256(_) => 32,
            Secret::P384(_) => 48,
        }
    }

    /// ECDSA over a digest the host computed. Like the card, the input is fitted to the
    /// field size (left-padded or truncated) rather than refused.
    fn sign(&self, digest: &[u8]) -> Option<Vec<u8>> {
        let n = self.field_len();
        let mut e = vec![0u8; n];
        if digest.len() >= n {
            e.copy_from_slice(&digest[..n]);
        } else {
            e[n - digest.len()..].copy_from_slice(digest);
        }
        match self {
            Secret::P256(s) => {
                let k = p256::ecdsa::SigningKey::from(s);
                let sig: p256::ecdsa::DerSignature = k.sign_prehash(&e).ok()?;
                Some(sig.as_bytes().to_vec())
            }
            Secret::P384(s) => {
                let k = p384::ecdsa::SigningKey::from(s);
                let sig: p384::ecdsa::DerSignature = k.sign_prehash(&e).ok()?;
                Some(sig.as_bytes().to_vec())
            }
        }
    }

    /// ECDH with an uncompressed peer point; returns the shared x-coordinate.
    fn ecdh(&self, peer: &[u8]) -> Option<Vec<u8>> {
        // Only uncompressed points, as the card requires.
        if peer.first() != Some(&0x04) {
            return None;
        }
        match self {
            Secret::P256(s) => {
                let pk = p256::PublicKey::from_sec1_bytes(peer).ok()?;
                let shared = p256::ecdh::diffie_hellman(s.to_nonzero_scalar(), pk.as_affine());
                Some(shared.raw_secret_bytes().to_vec())
            }
            Secret::P384(s) => {
                let pk = p384::PublicKey::from_sec1_bytes(peer).ok()?;
                let shared = p384::ecdh::diffie_hellman(s.to_nonzero_scalar(), pk.as_affine());
                Some(shared.raw_secret_bytes().to_vec())
            }
        }
    }
}

fn public_key_template(point: &[u8]) -> Vec<u8> {
    tlv(&[0x86], point)
}

impl Card {
    pub(crate) fn generate(&mut self, cmd: &Command) -> Reply {
        if cmd.p1 != 0x00 || !is_key_slot(cmd.p2) {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        if !self.session.mgm_authenticated {
            return Reply::status(sw::SECURITY_STATUS);
        }
        let Some(outer) = parse_tlvs(&cmd.data) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        let Some(template) = find(&outer, &[0xAC]).and_then(parse_tlvs) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        let algorithm = match find(&template, &[0x80]) {
            Some([a @ (ALG_P256 | ALG_P384)]) => *a,
            _ => return Reply::status(sw::INCORRECT_DATA),
        };
        let pin_policy = match find(&template, &[0xAA]) {
            None | Some([0]) => {
                // YubiKey defaults: 9C signature always, 9E card authentication never.
                match cmd.p2 {
                    0x9C => PIN_ALWAYS,
                    0x9E => PIN_NEVER,
                    _ => PIN_ONCE,
                }
            }
            Some([p @ 1..=3]) => *p,
            _ => return Reply::status(sw::INCORRECT_DATA),
        };
        let touch_policy = match find(&template, &[0xAB]) {
            None | Some([0]) => TOUCH_NEVER,
            Some([t @ 1..=3]) => *t,
            _ => return Reply::status(sw::INCORRECT_DATA),
        };
        let Some(secret) = Secret::generate(algorithm) else {
            return Reply::status(0x6581);
        };
        let point = secret.point();
        self.state.keys.insert(
            format!("{:02x}", cmd.p2),
            SlotKey {
                algorithm,
                secret: secret.to_hex(),
                pin_policy,
                touch_policy,
                origin: ORIGIN_GENERATED,
            },
        );
        if let Err(r) = self.persist() {
            return r;
        }
        Reply::ok(tlv(&[0x7F, 0x49], &public_key_template(&point)))
    }

    /// Sign (tag 81) or ECDH (tag 85) with a slot key, enforcing PIN then touch policy.
    pub(crate) fn key_operation(&mut self, cmd: &Command) -> Reply {
        if !is_key_slot(cmd.p2) {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        let Some(key) = self.state.keys.get(&format!("{:02x}", cmd.p2)).cloned() else {
            return Reply::status(sw::REF_NOT_FOUND);
        };
        if cmd.p1 != key.algorithm {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        let Some(outer) = parse_tlvs(&cmd.data) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        let Some(inner) = find(&outer, &[0x7C]).and_then(parse_tlvs) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        if find(&inner, &[0x82]) != Some(&[]) {
            return Reply::status(sw::INCORRECT_DATA);
        }
        let digest = find(&inner, &[0x81]);
        let peer = find(&inner, &[0x85]);
        if digest.is_some() == peer.is_some() {
            return Reply::status(sw::INCORRECT_DATA);
        }
        let pin_ok = match key.pin_policy {
            PIN_NEVER => true,
            PIN_ALWAYS => self.session.pin_fresh,
            _ => self.session.pin_verified,
        };
        if !pin_ok {
            return Reply::status(sw::SECURITY_STATUS);
        }
        if key.pin_policy == PIN_ALWAYS {
            self.session.pin_fresh = false;
        }
        if key.touch_policy != TOUCH_NEVER
            && !self.wait_for_touch(cmd.p2, key.touch_policy == TOUCH_CACHED)
        {
            return Reply::status(sw::SECURITY_STATUS);
        }
        let Some(secret) = Secret::load(&key) else {
            return Reply::status(0x6581);
        };
        let result = match (digest, peer) {
            (Some(d), _) => secret.sign(d),
            (_, Some(p)) => secret.ecdh(p),
            _ => None,
        };
        match result {
            Some(out) => Reply::ok(tlv(&[0x7C], &tlv(&[0x82], &out))),
            None => Reply::status(sw::INCORRECT_DATA),
        }
    }

    pub(crate) fn metadata(&mut self, cmd: &Command) -> Reply {
        // GET METADATA arrived with firmware 5.3; older cards do not know the instruction.
        if self.state.firmware < [5, 3, 0] {
            return Reply::status(sw::INS_NOT_SUPPORTED);
        }
        if cmd.p1 != 0x00 {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        let s = &self.state;
        let body = match cmd.p2 {
            0x80 | 0x81 => {
                let (default, max, left) = if cmd.p2 == 0x80 {
                    (s.pin_default, s.pin_max_retries, s.pin_retries)
                } else {
                    (s.puk_default, s.puk_max_retries, s.puk_retries)
                };
                [
                    tlv(&[0x01], &[0xFF]),
                    tlv(&[0x05], &[u8::from(default)]),
                    tlv(&[0x06], &[max, left]),
                ]
                .concat()
            }
            0x9B => [
                tlv(&[0x01], &[s.mgm_algorithm]),
                tlv(
                    &[0x02],
                    &[
                        0x00,
                        if s.mgm_touch {
                            TOUCH_ALWAYS
                        } else {
                            TOUCH_NEVER
                        },
                    ],
                ),
                tlv(&[0x05], &[u8::from(s.mgm_default)]),
            ]
            .concat(),
            slot if is_key_slot(slot) => {
                let Some(key) = s.keys.get(&format!("{slot:02x}")) else {
                    return Reply::status(sw::REF_NOT_FOUND);
                };
                let Some(secret) = Secret::load(key) else {
                    return Reply::status(0x6581);
                };
                [
                    tlv(&[0x01], &[key.algorithm]),
                    tlv(&[0x02], &[key.pin_policy, key.touch_policy]),
                    tlv(&[0x03], &[key.origin]),
                    tlv(&[0x04], &public_key_template(&secret.point())),
                ]
                .concat()
            }
            _ => return Reply::status(sw::REF_NOT_FOUND),
        };
        Reply::ok(body)
    }

    pub(crate) fn attest(&mut self, cmd: &Command) -> Reply {
        if cmd.p2 != 0x00 || !is_key_slot(cmd.p1) {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        let Some(key) = self.state.keys.get(&format!("{:02x}", cmd.p1)) else {
            return Reply::status(sw::REF_NOT_FOUND);
        };
        if key.origin != ORIGIN_GENERATED {
            // Imported keys cannot be attested: nothing proves where they came from.
            return Reply::status(sw::INCORRECT_DATA);
        }
        let Some(secret) = Secret::load(key) else {
            return Reply::status(0x6581);
        };
        let device = hex::decode(&self.state.attestation_key)
            .ok()
            .and_then(|b| p256::ecdsa::SigningKey::from_slice(&b).ok());
        let Some(device) = device else {
            return Reply::status(0x6581);
        };
        let point = secret.point();
        let facts = SlotFacts {
            slot: cmd.p1,
            algorithm: key.algorithm,
            point: &point,
            firmware: self.state.firmware,
            serial: self.state.serial,
            pin_policy: key.pin_policy,
            touch_policy: key.touch_policy,
        };
        match attestation::slot_certificate(&facts, &device) {
            Ok(cert) => Reply::ok(cert),
            Err(_) => Reply::status(0x6581),
        }
    }
}
