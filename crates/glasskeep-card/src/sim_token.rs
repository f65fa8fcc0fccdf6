//! [`Token`] over the simulated card's in-process front, for fast unit tests anywhere
//! in the crate: a minimal PIV client that sends the same APDUs the `yubikey` crate
//! sends (NOTES-PIV.md), straight to `SimCard::transmit`, without pcscd.

use std::time::Duration;

use aes::cipher::{BlockCipherDecrypt, KeyInit};
use glasskeep_piv_sim::{SimCard, SimConfig, TouchHandle, TouchMode};
use zeroize::Zeroizing;

use super::credentials::{self, OBJ_ADMIN_DATA, OBJ_PRINTED};
use super::{
    security_status, tlv, Algorithm, Credential, CredentialMetadata, KeyOrigin,
    ManagementKeyAlgorithm, PinPolicy, Slot, SlotMetadata, Token, TokenError, TouchPolicy, Version,
};
use glasskeep_core::secret::Pin;

/// The factory PIN and management key of a simulated card.
pub(crate) const DEFAULT_PIN: &[u8] = b"123456";
const DEFAULT_MGM_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];

/// A simulated YubiKey driven in-process.
pub(crate) struct SimToken {
    card: SimCard,
    serial: u32,
    version: Version,
    pin_session: bool,
    pin_fresh: bool,
    mgm: Option<Zeroizing<Vec<u8>>>,
    known: Vec<(Slot, (PinPolicy, TouchPolicy))>,
}

impl SimToken {
    /// A fresh in-memory card with `serial`, firmware 5.7.1, touched automatically.
    pub(crate) fn new_in_memory(serial: u32) -> SimToken {
        SimToken::with_config(SimConfig {
            serial,
            ..SimConfig::default()
        })
    }

    /// A fresh in-memory card whose touch sensor never fires: every touch-policy
    /// operation fails after `timeout`, like an unattended YubiKey.
    pub(crate) fn never_touched(serial: u32, timeout: Duration) -> SimToken {
        SimToken::with_config(SimConfig {
            serial,
            touch: TouchMode::Never,
            touch_timeout: timeout,
            ..SimConfig::default()
        })
    }

    /// A fresh in-memory card from a full configuration.
    pub(crate) fn with_config(config: SimConfig) -> SimToken {
        let card = SimCard::in_memory(config);
        let f = card.firmware();
        let mut token = SimToken {
            serial: card.serial(),
            version: Version {
                major: f[0],
                minor: f[1],
                patch: f[2],
            },
            card,
            pin_session: false,
            pin_fresh: false,
            mgm: None,
            known: Vec::new(),
        };
        token.select();
        token
    }

    /// The touch sensor, for cards in signal mode.
    pub(crate) fn touch_handle(&self) -> TouchHandle {
        self.card.touch_handle()
    }

    fn select(&mut self) {
        // A simulated card always has the PIV application; the answer carries nothing
        // this client needs.
        let _ = self.send(0xa4, 0x04, 0x00, &[0xa0, 0x00, 0x00, 0x03, 0x08]);
        self.pin_session = false;
        self.pin_fresh = false;
    }

    /// One command, chained when longer than a short APDU, with 61xx answers fetched.
    fn send(&mut self, ins: u8, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        let mut chunks: Vec<&[u8]> = data.chunks(255).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let last = chunks.len() - 1;
        let mut resp = Vec::new();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let cla = if i < last { 0x10 } else { 0x00 };
            let mut apdu = vec![cla, ins, p1, p2];
            if !chunk.is_empty() {
                apdu.push(chunk.len() as u8); // chunks(255) bounds the length.
                apdu.extend_from_slice(chunk);
            }
            resp = self.card.transmit(&apdu);
        }
        let mut data = Vec::new();
        loop {
            let n = resp.len().saturating_sub(2);
            let sw = u16::from_be_bytes([resp[n], resp[n + 1]]);
            data.extend_from_slice(&resp[..n]);
            if sw & 0xff00 != 0x6100 {
                return (data, sw);
            }
            resp = self.card.transmit(&[0x00, 0xc0, 0x00, 0x00]);
        }
    }

    /// The management key's algorithm; `None` on cards without GET METADATA (3DES).
    fn mgm_algorithm(&mut self) -> Result<Option<ManagementKeyAlgorithm>, TokenError> {
        match self.credential_metadata(Credential::ManagementKey) {
            Ok(m) => Ok(m.algorithm),
            Err(TokenError::Unsupported { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn authenticate_default(&mut self) -> Result<(), TokenError> {
        match self.credential_metadata(Credential::ManagementKey) {
            Ok(m) if !m.is_default => return Err(TokenError::ManagementKey),
            Ok(CredentialMetadata {
                algorithm: Some(ManagementKeyAlgorithm::TripleDes | ManagementKeyAlgorithm::Aes192),
                ..
            })
            | Err(TokenError::Unsupported { .. }) => {}
            Ok(_) => return Err(TokenError::ManagementKey),
            Err(e) => return Err(e),
        }
        self.authenticate_with(&DEFAULT_MGM_KEY)
            .map_err(|e| match e {
                TokenError::ManagementKeyRefused => TokenError::ManagementKey,
                e => e,
            })
    }

    fn authenticate_with(&mut self, key: &[u8]) -> Result<(), TokenError> {
        let alg = credentials::key_algorithm(self.mgm_algorithm()?, key)?;
        let code = alg.code();
        let (r, sw) = self.send(0x87, code, 0x9b, &[0x7c, 0x02, 0x80, 0x00]);
        let witness = tlv::find(&r, 0x7c).and_then(|t| tlv::find(t, 0x80));
        let (Some(witness), 0x9000) = (witness, sw) else {
            return Err(card_err("management key authentication", sw));
        };
        let mut plain = Zeroizing::new(witness.to_vec());
        if !decrypt_block(alg, key, &mut plain) {
            return Err(malformed(
                "management key authentication",
                "witness of the wrong size",
            ));
        }
        // The card's answer to our challenge is not checked: this client only talks to
        // the simulator, in tests.
        let challenge = vec![0x5a; plain.len()];
        let body = [tlv::encode(0x80, &plain), tlv::encode(0x81, &challenge)].concat();
        match self.send(0x87, code, 0x9b, &tlv::encode(0x7c, &body)).1 {
            0x9000 => Ok(()),
            0x6982 => Err(TokenError::ManagementKeyRefused),
            sw => Err(card_err("management key authentication", sw)),
        }
    }

    /// Authenticates for an administrative command with the key accepted earlier, or
    /// the factory key.
    fn authenticate_admin(&mut self) -> Result<(), TokenError> {
        match self.mgm.clone() {
            Some(key) => self.authenticate_with(&key),
            None => self.authenticate_default(),
        }
    }

    /// GET DATA of a plain object: its contents inside tag 53, `None` if absent.
    fn read_object(
        &mut self,
        id: u32,
        operation: &'static str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, TokenError> {
        let id = id.to_be_bytes();
        let (r, sw) = self.send(0xcb, 0x3f, 0xff, &[0x5c, 0x03, id[1], id[2], id[3]]);
        let r = Zeroizing::new(r);
        match sw {
            0x9000 => tlv::find(&r, 0x53)
                .map(|v| Some(Zeroizing::new(v.to_vec())))
                .ok_or_else(|| malformed(operation, "no 53 tag")),
            0x6a82 => Ok(None),
            0x6982 => Err(TokenError::PinNotVerified),
            sw => Err(card_err(operation, sw)),
        }
    }

    fn policy_for_use(
        &mut self,
        slot: Slot,
    ) -> Result<Option<(PinPolicy, TouchPolicy)>, TokenError> {
        if let Some((_, p)) = self.known.iter().find(|(s, _)| *s == slot) {
            return Ok(Some(*p));
        }
        match self.metadata(slot) {
            Ok(Some(m)) => Ok(Some((m.pin_policy, m.touch_policy))),
            Ok(None) => Err(TokenError::SlotEmpty { slot }),
            Err(TokenError::Unsupported { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GENERAL AUTHENTICATE with a slot key: `tag` 81 signs, 85 derives.
    fn key_operation(
        &mut self,
        slot: Slot,
        tag: u16,
        input: &[u8],
        operation: &'static str,
    ) -> Result<Vec<u8>, TokenError> {
        let policy = self.policy_for_use(slot)?;
        let body = [tlv::encode(0x82, &[]), tlv::encode(tag, input)].concat();
        let (r, sw) = self.send(0x87, 0x11, slot.id(), &tlv::encode(0x7c, &body));
        // Judge a refusal by the PIN state the operation ran with, before it is used up.
        let refused = security_status(policy, self.pin_session, self.pin_fresh);
        if matches!(policy, Some((PinPolicy::Always, _))) {
            self.pin_fresh = false;
        }
        match sw {
            0x9000 => tlv::find(&r, 0x7c)
                .and_then(|t| tlv::find(t, 0x82))
                .map(<[u8]>::to_vec)
                .ok_or_else(|| malformed(operation, "no 7C/82 in the answer")),
            0x6982 => Err(refused),
            sw => Err(card_err(operation, sw)),
        }
    }
}

/// Decrypts one block with a management key; `false` if the block does not fit.
fn decrypt_block(alg: ManagementKeyAlgorithm, key: &[u8], block: &mut [u8]) -> bool {
    fn run<C: KeyInit + BlockCipherDecrypt>(key: &[u8], block: &mut [u8]) -> bool {
        match (C::new_from_slice(key), block.try_into()) {
            (Ok(c), Ok(b)) => {
                c.decrypt_block(b);
                true
            }
            _ => false,
        }
    }
    match alg {
        ManagementKeyAlgorithm::TripleDes => run::<des::TdesEde3>(key, block),
        ManagementKeyAlgorithm::Aes128 => run::<aes::Aes128>(key, block),
        ManagementKeyAlgorithm::Aes192 => run::<aes::Aes192>(key, block),
        ManagementKeyAlgorithm::Aes256 => run::<aes::Aes256>(key, block),
    }
}

fn card_err(operation: &'static str, sw: u16) -> TokenError {
    TokenError::Card { operation, sw }
}

fn malformed(operation: &'static str, reason: &str) -> TokenError {
    TokenError::Malformed {
        operation,
        reason: reason.into(),
    }
}

/// The EC point inside a public key template (86 tag), as GENERATE and METADATA give it.
fn point_in(template: &[u8]) -> Option<Vec<u8>> {
    tlv::find(template, 0x86).map(<[u8]>::to_vec)
}

fn object_tag(slot: Slot) -> [u8; 5] {
    let id = slot.object_id().to_be_bytes();
    [0x5c, 0x03, id[1], id[2], id[3]]
}

impl Token for SimToken {
    fn reader(&self) -> &str {
        "in-process simulator"
    }

    fn serial(&self) -> u32 {
        self.serial
    }

    fn version(&self) -> Version {
        self.version
    }

    fn verify_pin(&mut self, pin: &Pin) -> Result<(), TokenError> {
        let mut padded = Zeroizing::new([0xffu8; 8]);
        padded[..pin.expose().len()].copy_from_slice(pin.expose());
        match self.send(0x20, 0x00, 0x80, &padded[..]).1 {
            0x9000 => {
                self.pin_session = true;
                self.pin_fresh = true;
                Ok(())
            }
            0x6983 | 0x63c0 => Err(TokenError::PinBlocked),
            sw if sw & 0xfff0 == 0x63c0 => Err(TokenError::WrongPin {
                retries_left: (sw & 0x0f) as u8,
            }),
            sw => Err(card_err("verify the PIN", sw)),
        }
    }

    fn pin_retries(&mut self) -> Result<u8, TokenError> {
        // As the yubikey crate does: reselect (ending the PIN session), then an empty
        // VERIFY answers the counter.
        self.select();
        match self.send(0x20, 0x00, 0x80, &[]).1 {
            0x6983 => Ok(0),
            sw if sw & 0xfff0 == 0x63c0 => Ok((sw & 0x0f) as u8),
            sw => Err(card_err("read the PIN retry counter", sw)),
        }
    }

    fn credential_metadata(
        &mut self,
        credential: Credential,
    ) -> Result<CredentialMetadata, TokenError> {
        let (r, sw) = self.send(0xf7, 0x00, credential.reference(), &[]);
        match sw {
            0x9000 => credentials::parse_metadata(credential, &r),
            0x6d00 => Err(TokenError::Unsupported {
                what: "GET METADATA (firmware 5.3 or later)".into(),
            }),
            sw => Err(card_err("GET METADATA", sw)),
        }
    }

    fn authenticate_management_key(&mut self, key: &[u8]) -> Result<(), TokenError> {
        self.authenticate_with(key)?;
        self.mgm = Some(Zeroizing::new(key.to_vec()));
        Ok(())
    }

    fn authenticate_protected_management_key(&mut self) -> Result<bool, TokenError> {
        let Some(admin) = self.read_object(OBJ_ADMIN_DATA, "read ADMIN DATA")? else {
            return Ok(false);
        };
        if !credentials::admin_says_protected(&admin) {
            return Ok(false);
        }
        let printed = self
            .read_object(OBJ_PRINTED, "read the PIN-protected management key")?
            .ok_or(TokenError::ProtectedManagementKeyMissing)?;
        let key = credentials::protected_key(&printed)?;
        self.authenticate_with(&key)?;
        self.mgm = Some(key);
        Ok(true)
    }

    fn generate(
        &mut self,
        slot: Slot,
        algorithm: Algorithm,
        pin_policy: PinPolicy,
        touch_policy: TouchPolicy,
        overwrite: bool,
    ) -> Result<Vec<u8>, TokenError> {
        let alg = match algorithm {
            Algorithm::P256 => 0x11,
            Algorithm::P384 => 0x14,
            Algorithm::Other(id) => {
                return Err(TokenError::Unsupported {
                    what: format!("generating keys of PIV algorithm {id:02x}"),
                })
            }
        };
        if !overwrite && super::slot_occupied(self, slot)? {
            return Err(TokenError::SlotOccupied { slot });
        }
        self.authenticate_admin()?;
        let pin = match pin_policy {
            PinPolicy::Never => 1,
            PinPolicy::Once => 2,
            PinPolicy::Always => 3,
        };
        let touch = match touch_policy {
            TouchPolicy::Never => 1,
            TouchPolicy::Always => 2,
            TouchPolicy::Cached => 3,
        };
        let template = [0x80, 0x01, alg, 0xaa, 0x01, pin, 0xab, 0x01, touch];
        let (r, sw) = self.send(0x47, 0x00, slot.id(), &tlv::encode(0xac, &template));
        match sw {
            0x9000 => tlv::find(&r, 0x7f49)
                .and_then(point_in)
                .ok_or_else(|| malformed("GENERATE", "no public key in the answer")),
            0x6982 => Err(TokenError::ManagementKey),
            sw => Err(card_err("generate a key", sw)),
        }
    }

    fn ecdh(&mut self, slot: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        self.key_operation(slot, 0x85, peer, "run ECDH")
            .map(Zeroizing::new)
    }

    fn sign(&mut self, slot: Slot, digest: &[u8]) -> Result<Vec<u8>, TokenError> {
        self.key_operation(slot, 0x81, digest, "sign")
    }

    fn attest(&mut self, slot: Slot) -> Result<Vec<u8>, TokenError> {
        match self.send(0xf9, slot.id(), 0x00, &[]) {
            (der, 0x9000) => Ok(der),
            (_, 0x6a88) => Err(TokenError::SlotEmpty { slot }),
            (_, sw) => Err(card_err("attest the key", sw)),
        }
    }

    fn read_certificate(&mut self, slot: Slot) -> Result<Option<Vec<u8>>, TokenError> {
        match self.send(0xcb, 0x3f, 0xff, &object_tag(slot)) {
            (r, 0x9000) => Ok(tlv::find(&r, 0x53).and_then(tlv::certificate_from_object)),
            (_, 0x6a82) => Ok(None),
            (_, sw) => Err(card_err("read a certificate", sw)),
        }
    }

    fn write_certificate(&mut self, slot: Slot, der: &[u8]) -> Result<(), TokenError> {
        super::check_certificate_len(der)?;
        self.authenticate_admin()?;
        let data = [
            object_tag(slot).to_vec(),
            tlv::encode(0x53, &tlv::certificate_object(der)),
        ]
        .concat();
        match self.send(0xdb, 0x3f, 0xff, &data).1 {
            0x9000 => Ok(()),
            0x6982 => Err(TokenError::ManagementKey),
            sw => Err(card_err("store a certificate", sw)),
        }
    }

    fn assume_policy(&mut self, slot: Slot, pin: PinPolicy, touch: TouchPolicy) {
        self.known.retain(|(s, _)| *s != slot);
        self.known.push((slot, (pin, touch)));
    }

    fn metadata(&mut self, slot: Slot) -> Result<Option<SlotMetadata>, TokenError> {
        let (r, sw) = self.send(0xf7, 0x00, slot.id(), &[]);
        match sw {
            0x9000 => {}
            0x6a88 => return Ok(None),
            0x6d00 => {
                return Err(TokenError::Unsupported {
                    what: "GET METADATA (firmware 5.3 or later)".into(),
                })
            }
            sw => return Err(card_err("GET METADATA", sw)),
        }
        let bad = |why: &str| malformed("GET METADATA", why);
        let algorithm = match tlv::find(&r, 0x01) {
            Some([0x11]) => Algorithm::P256,
            Some([0x14]) => Algorithm::P384,
            Some([other]) => Algorithm::Other(*other),
            _ => return Err(bad("no algorithm")),
        };
        let (pin_policy, touch_policy) = match tlv::find(&r, 0x02) {
            Some([p, t]) => (
                glasskeep_core::piv::pin_policy_from_code(*p).ok_or_else(|| bad("PIN policy"))?,
                glasskeep_core::piv::touch_policy_from_code(*t)
                    .ok_or_else(|| bad("touch policy"))?,
            ),
            _ => return Err(bad("no policy")),
        };
        let origin = match tlv::find(&r, 0x03) {
            Some([1]) => KeyOrigin::Generated,
            Some([2]) => KeyOrigin::Imported,
            _ => return Err(bad("no origin")),
        };
        let public_key = tlv::find(&r, 0x04).and_then(point_in).unwrap_or_default();
        Ok(Some(SlotMetadata {
            algorithm,
            pin_policy,
            touch_policy,
            origin,
            public_key,
        }))
    }
}

#[cfg(test)]
mod tests;
