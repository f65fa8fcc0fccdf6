//! [`Token`] for real YubiKeys over PC/SC, on the `yubikey` crate. This file and the
//! in-process simulator front are the only places that know about APDUs or the crate.

use ::yubikey as yk;
use yk::piv::{self, AlgorithmId, ManagementSlotId, SlotAlgorithmId, SlotId};
use yk::{MgmAlgorithmId, MgmKey, YubiKey};
use zeroize::Zeroizing;

use super::credentials::{self, OBJ_ADMIN_DATA, OBJ_PRINTED};
use super::list::{card_report, ReaderReport, ReaderState};
use super::probe::{card_facts, CardFacts, ProbeState, ReaderProbe};
use super::{
    tlv, Algorithm, CardInfo, Credential, CredentialMetadata, KeyOrigin, ManagementKeyAlgorithm,
    PinPolicy, Retries, Slot, SlotMetadata, Token, TokenError, TouchPolicy, Version,
};
use glasskeep_core::secret::Pin;

/// The factory management key, the same bytes for 3DES (before 5.7) and AES-192 (5.7+).
const DEFAULT_MGM_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];

/// Maps the crate's errors that mean the same thing whatever the operation.
fn map_err(operation: &'static str, e: yk::Error) -> TokenError {
    match e {
        yk::Error::PcscError { inner: Some(p) } => match p {
            pcsc::Error::NoService | pcsc::Error::ServiceStopped => TokenError::PcscUnavailable,
            pcsc::Error::NoReadersAvailable | pcsc::Error::UnknownReader => TokenError::NoReader,
            pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => TokenError::NoCard,
            other => TokenError::Pcsc(other.to_string()),
        },
        yk::Error::PcscError { inner: None } => TokenError::Pcsc(format!("{operation} failed")),
        // 63C0 and 6983 both come back as zero tries left: the PIN is blocked either way.
        yk::Error::WrongPin { tries: 0 } | yk::Error::PinLocked => TokenError::PinBlocked,
        yk::Error::WrongPin { tries } => TokenError::WrongPin {
            retries_left: tries,
        },
        yk::Error::NotSupported => TokenError::Unsupported {
            what: operation.to_string(),
        },
        other => TokenError::Failed {
            operation,
            reason: other.to_string(),
        },
    }
}

fn context() -> Result<yk::reader::Context, TokenError> {
    yk::reader::Context::open().map_err(|e| map_err("connect to pcscd", e))
}

/// Every card that answers as a YubiKey PIV application, with its reader.
pub fn list_cards() -> Result<Vec<CardInfo>, TokenError> {
    let mut ctx = context()?;
    let readers = ctx.iter().map_err(|e| map_err("list readers", e))?;
    if readers.len() == 0 {
        return Err(TokenError::NoReader);
    }
    let mut cards = Vec::new();
    for reader in readers {
        // A reader that is empty or holds some other card is simply not a candidate.
        if let Ok(key) = reader.open() {
            cards.push(CardInfo {
                reader: key.name().to_string(),
                serial: key.serial().0,
                version: version_of(&key),
            });
            leave(key);
        }
    }
    Ok(cards)
}

/// Every reader pcscd lists, with the ATR of the card in it (empty when it is empty),
/// read from pcscd's reader states without connecting to any card: cheap enough to poll
/// while waiting for a custodian's key, and silent towards the cards.
pub fn reader_presence() -> Result<Vec<(String, Vec<u8>)>, TokenError> {
    let pcsc_err = |e: pcsc::Error| match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TokenError::PcscUnavailable,
        pcsc::Error::NoReadersAvailable => TokenError::NoReader,
        other => TokenError::Pcsc(other.to_string()),
    };
    let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(pcsc_err)?;
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(pcsc_err(e)),
    };
    let mut states: Vec<pcsc::ReaderState> = names
        .iter()
        .map(|n| pcsc::ReaderState::new(n.as_c_str(), pcsc::State::UNAWARE))
        .collect();
    ctx.get_status_change(std::time::Duration::ZERO, &mut states)
        .map_err(pcsc_err)?;
    Ok(states
        .iter()
        .map(|s| {
            let present = s.event_state().contains(pcsc::State::PRESENT);
            (
                s.name().to_string_lossy().into_owned(),
                if present {
                    s.atr().to_vec()
                } else {
                    Vec::new()
                },
            )
        })
        .collect())
}

/// Opens the card with `serial`, or the only card present when `serial` is `None`.
pub fn open(serial: Option<u32>) -> Result<Box<dyn Token>, TokenError> {
    open_trying_last(serial, &[])
}

/// [`open`], trying the readers named in `last` after the others. Each reader is
/// connected to at most once and the card that matches is the handle returned, so the
/// card answers SELECT, GET VERSION and GET SERIAL once (the `yubikey` crate sends all
/// three when it connects); every other card reached on the way costs those three too,
/// which is why a caller that knows where the other custodians' keys sit names them in
/// `last`. The order never changes the outcome, only the cost.
pub fn open_trying_last(
    serial: Option<u32>,
    last: &[String],
) -> Result<Box<dyn Token>, TokenError> {
    let mut ctx = context()?;
    let readers = ctx.iter().map_err(|e| map_err("list readers", e))?;
    let mut readers: Vec<_> = readers.collect();
    if readers.is_empty() {
        return Err(TokenError::NoReader);
    }
    // Stable: pcscd's order is kept within each group.
    readers.sort_by_key(|r| last.iter().any(|l| l.as_str() == r.name()));
    let mut found = Vec::new();
    let mut only: Option<YubiKey> = None;
    for reader in readers {
        // A reader that is empty or holds some other card is simply not a candidate.
        let Ok(key) = reader.open() else { continue };
        found.push(key.serial().0);
        match serial {
            Some(want) if key.serial().0 == want => {
                return Ok(Box::new(YubiKeyToken::new(key)));
            }
            Some(_) => leave(key),
            None if only.is_none() => only = Some(key),
            None => leave(key),
        }
    }
    match (serial, only) {
        (Some(_), _) | (None, None) if found.is_empty() => Err(TokenError::NoCard),
        (Some(expected), _) => Err(TokenError::WrongCard {
            expected,
            who: None,
            found,
        }),
        (None, Some(key)) if found.len() == 1 => Ok(Box::new(YubiKeyToken::new(key))),
        (None, only) => {
            if let Some(key) = only {
                leave(key);
            }
            Err(TokenError::SeveralCards { serials: found })
        }
    }
}

/// Opens the YubiKey of custodian `who`, whose serial is `serial`; a wrong card is
/// reported with the custodian's name ("insert the YubiKey with serial 1001 (alice)").
/// Readers in `last` (holding other custodians' keys, as far as the caller knows) are
/// tried after the others: see [`open_trying_last`].
pub fn open_custodian(
    serial: u32,
    who: &str,
    last: &[String],
) -> Result<Box<dyn Token>, TokenError> {
    open_trying_last(Some(serial), last).map_err(|e| match e {
        TokenError::WrongCard {
            expected, found, ..
        } => TokenError::WrongCard {
            expected,
            who: Some(who.to_string()),
            found,
        },
        e => e,
    })
}

/// Every reader pcscd knows, and for each card its serial, firmware and keys.
pub fn list_readers() -> Result<Vec<ReaderReport>, TokenError> {
    let mut ctx = context()?;
    let readers = ctx.iter().map_err(|e| map_err("list readers", e))?;
    let mut out = Vec::new();
    for reader in readers {
        let name = reader.name().to_string();
        let state = match reader.open() {
            Ok(key) => {
                let mut token = YubiKeyToken::new(key);
                match card_report(&mut token) {
                    Ok(report) => ReaderState::Card(report),
                    Err(e) => ReaderState::Unusable {
                        reason: e.to_string(),
                    },
                }
            }
            Err(e) => match map_err("open", e) {
                TokenError::NoCard => ReaderState::Empty,
                TokenError::PcscUnavailable => return Err(TokenError::PcscUnavailable),
                other => ReaderState::Unusable {
                    reason: format!("not a usable YubiKey PIV card ({other})"),
                },
            },
        };
        out.push(ReaderReport {
            reader: name,
            state,
        });
    }
    Ok(out)
}

/// Every reader pcscd knows and what it holds, for `doctor`. With `facts`, each
/// YubiKey's serial, firmware and PIN/PUK counters are read (spending no try);
/// without, a reader is only connected to and left, which is enough to tell empty,
/// busy and present apart and sends the cards nothing (no APDU: a ceremony's preflight
/// must not cost the custodians' keys a round trip, nor touch keys of people who take
/// no part).
pub fn probe_readers(facts: bool) -> Result<Vec<ReaderProbe>, TokenError> {
    if !facts {
        return connect_readers();
    }
    let mut ctx = context()?;
    let readers = match ctx.iter() {
        Ok(r) => r,
        Err(e) => match map_err("list readers", e) {
            TokenError::NoReader => return Ok(Vec::new()),
            e => return Err(e),
        },
    };
    let mut out = Vec::new();
    for reader in readers {
        let name = reader.name().to_string();
        let state = match reader.open() {
            Ok(key) if !facts => {
                let state = ProbeState::Card(CardFacts {
                    serial: key.serial().0,
                    firmware: version_of(&key).to_string(),
                    pin: None,
                    puk: None,
                    pin_default: None,
                    puk_default: None,
                });
                leave(key);
                state
            }
            Ok(key) => {
                let mut token = YubiKeyToken::new(key);
                let state = match card_facts(&mut token) {
                    Ok(f) => ProbeState::Card(f),
                    Err(e) => ProbeState::Unusable {
                        reason: e.to_string(),
                    },
                };
                leave(token.key);
                state
            }
            // Another process connected exclusively (gpg's scdaemon does by default).
            Err(yk::Error::PcscError {
                inner: Some(pcsc::Error::SharingViolation),
            }) => ProbeState::Busy,
            Err(e) => match map_err("open", e) {
                TokenError::NoCard => ProbeState::Empty,
                TokenError::PcscUnavailable => return Err(TokenError::PcscUnavailable),
                other => ProbeState::Unusable {
                    reason: format!("not a usable YubiKey PIV card ({other})"),
                },
            },
        };
        out.push(ReaderProbe {
            reader: name,
            state,
        });
    }
    Ok(out)
}

/// [`probe_readers`] without facts: a shared PC/SC connection to each reader, left at
/// once. Connecting sends no APDU (pcscd read the ATR when the card came in).
fn connect_readers() -> Result<Vec<ReaderProbe>, TokenError> {
    let pcsc_err = |e: pcsc::Error| match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TokenError::PcscUnavailable,
        other => TokenError::Pcsc(other.to_string()),
    };
    let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(pcsc_err)?;
    let names = match ctx.list_readers_owned() {
        Ok(n) => n,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(pcsc_err(e)),
    };
    let mut out = Vec::new();
    for name in names {
        let state = match ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
            Ok(card) => {
                // Failing to disconnect politely only means the card is reset on drop.
                let _ = card.disconnect(pcsc::Disposition::LeaveCard);
                ProbeState::Present
            }
            Err(pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard) => ProbeState::Empty,
            // Another process connected exclusively (gpg's scdaemon does by default).
            Err(pcsc::Error::SharingViolation) => ProbeState::Busy,
            Err(pcsc::Error::NoService | pcsc::Error::ServiceStopped) => {
                return Err(TokenError::PcscUnavailable)
            }
            Err(e) => ProbeState::Unusable {
                reason: format!("the reader could not be connected to ({e})"),
            },
        };
        out.push(ReaderProbe {
            reader: name.to_string_lossy().into_owned(),
            state,
        });
    }
    Ok(out)
}

fn version_of(key: &YubiKey) -> Version {
    let v = key.version();
    Version {
        major: v.major,
        minor: v.minor,
        patch: v.patch,
    }
}

/// Disconnects without resetting: a listing must not log out another session.
fn leave(key: YubiKey) {
    // Failing to disconnect politely only means the card is reset on drop instead.
    let _ = key.disconnect(pcsc::Disposition::LeaveCard);
}

fn slot_id(slot: Slot) -> Result<SlotId, TokenError> {
    SlotId::try_from(slot.id()).map_err(|_| TokenError::Unsupported {
        what: format!("slot {slot}"),
    })
}

/// An opened YubiKey.
pub(crate) struct YubiKeyToken {
    key: YubiKey,
    reader: String,
    version: Version,
    /// The PIN was verified in this session (enough for PIN policy "once").
    pin_session: bool,
    /// No PIN-always operation ran since the PIN was last verified.
    pin_fresh: bool,
    /// The management key to administer the card with, once one was accepted; `None`
    /// means the factory key.
    mgm: Option<Zeroizing<Vec<u8>>>,
    /// Slot policies known without asking the card (attested at enrollment).
    known: Vec<(Slot, (PinPolicy, TouchPolicy))>,
}

fn to_yk_mgm(alg: ManagementKeyAlgorithm) -> MgmAlgorithmId {
    match alg {
        ManagementKeyAlgorithm::TripleDes => MgmAlgorithmId::ThreeDes,
        ManagementKeyAlgorithm::Aes128 => MgmAlgorithmId::Aes128,
        ManagementKeyAlgorithm::Aes192 => MgmAlgorithmId::Aes192,
        ManagementKeyAlgorithm::Aes256 => MgmAlgorithmId::Aes256,
    }
}

fn from_yk_mgm(alg: MgmAlgorithmId) -> ManagementKeyAlgorithm {
    match alg {
        MgmAlgorithmId::ThreeDes => ManagementKeyAlgorithm::TripleDes,
        MgmAlgorithmId::Aes128 => ManagementKeyAlgorithm::Aes128,
        MgmAlgorithmId::Aes192 => ManagementKeyAlgorithm::Aes192,
        MgmAlgorithmId::Aes256 => ManagementKeyAlgorithm::Aes256,
    }
}

impl YubiKeyToken {
    fn new(key: YubiKey) -> Self {
        YubiKeyToken {
            reader: key.name().to_string(),
            version: version_of(&key),
            key,
            pin_session: false,
            pin_fresh: false,
            mgm: None,
            known: Vec::new(),
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

    fn authenticate_with(&mut self, key: &[u8]) -> Result<(), TokenError> {
        let card = self.mgm_algorithm()?;
        let alg = credentials::key_algorithm(card, key)?;
        let mgm = MgmKey::from_bytes(key, Some(to_yk_mgm(alg))).map_err(|_| {
            TokenError::ManagementKeyLength {
                algorithm: alg,
                found: key.len(),
            }
        })?;
        self.key.authenticate(&mgm).map_err(|e| match e {
            yk::Error::AuthenticationError => TokenError::ManagementKeyRefused,
            e => map_err("authenticate with the management key", e),
        })
    }

    /// Authenticates for an administrative command with the key accepted earlier, or
    /// the factory key.
    fn authenticate_admin(&mut self) -> Result<(), TokenError> {
        match self.mgm.clone() {
            Some(key) => self.authenticate_with(&key),
            None => self.authenticate_default(),
        }
    }

    /// Authenticates with the factory management key, choosing its algorithm from GET
    /// METADATA 9B: AES-192 on firmware 5.7+, 3DES before (where 9B has no metadata).
    fn authenticate_default(&mut self) -> Result<(), TokenError> {
        let mgm = SlotId::Management(ManagementSlotId::Management);
        let alg = match piv::metadata(&mut self.key, mgm) {
            Ok(m) => {
                if m.default == Some(false) {
                    return Err(TokenError::ManagementKey);
                }
                match m.algorithm {
                    SlotAlgorithmId::Management(alg) => alg,
                    _ => {
                        return Err(TokenError::Malformed {
                            operation: "GET METADATA 9B",
                            reason: "not a management key algorithm".into(),
                        })
                    }
                }
            }
            Err(yk::Error::NotSupported) => MgmAlgorithmId::ThreeDes,
            Err(e) => return Err(map_err("read the management key's metadata", e)),
        };
        if !matches!(alg, MgmAlgorithmId::ThreeDes | MgmAlgorithmId::Aes192) {
            // The factory key is 3DES or AES-192; any other algorithm was set by someone.
            return Err(TokenError::ManagementKey);
        }
        let key = MgmKey::from_bytes(DEFAULT_MGM_KEY, Some(alg))
            .map_err(|e| map_err("load the default management key", e))?;
        self.key.authenticate(&key).map_err(|e| match e {
            yk::Error::AuthenticationError => TokenError::ManagementKey,
            e => map_err("authenticate with the management key", e),
        })
    }

    fn security_status(&self, policy: Option<(PinPolicy, TouchPolicy)>) -> TokenError {
        super::security_status(policy, self.pin_session, self.pin_fresh)
    }

    /// The slot's policy: the one given by [`Token::assume_policy`], else what GET
    /// METADATA says (if the firmware tells), failing early on an empty slot.
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

    fn after_use(&mut self, policy: Option<(PinPolicy, TouchPolicy)>) {
        if !matches!(policy, Some((PinPolicy::Never | PinPolicy::Once, _))) {
            self.pin_fresh = false;
        }
    }
}

fn to_yk_pin(p: PinPolicy) -> yk::PinPolicy {
    match p {
        PinPolicy::Never => yk::PinPolicy::Never,
        PinPolicy::Once => yk::PinPolicy::Once,
        PinPolicy::Always => yk::PinPolicy::Always,
    }
}

fn to_yk_touch(t: TouchPolicy) -> yk::TouchPolicy {
    match t {
        TouchPolicy::Never => yk::TouchPolicy::Never,
        TouchPolicy::Always => yk::TouchPolicy::Always,
        TouchPolicy::Cached => yk::TouchPolicy::Cached,
    }
}

fn point_of(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> Result<Vec<u8>, TokenError> {
    spki.subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or(TokenError::Malformed {
            operation: "GENERATE",
            reason: "public key is not a whole number of bytes".into(),
        })
}

impl Token for YubiKeyToken {
    fn abandon(self: Box<Self>) {
        leave(self.key);
    }

    fn reader(&self) -> &str {
        &self.reader
    }

    fn serial(&self) -> u32 {
        self.key.serial().0
    }

    fn version(&self) -> Version {
        self.version
    }

    fn verify_pin(&mut self, pin: &Pin) -> Result<(), TokenError> {
        // Known gap: the yubikey crate keeps its own copy of the PIN (a plain Vec, for
        // reconnects) until the YubiKey is dropped, and does not wipe it; the public API
        // offers no other way to send VERIFY. Keep tokens short-lived.
        self.key
            .verify_pin(pin.expose())
            .map_err(|e| map_err("verify the PIN", e))?;
        self.pin_session = true;
        self.pin_fresh = true;
        Ok(())
    }

    fn pin_retries(&mut self) -> Result<u8, TokenError> {
        // The crate re-selects the PIV application to read the counter, which ends the
        // PIN session (SP 800-73: a verified VERIFY answers 9000, not the count).
        self.pin_session = false;
        self.pin_fresh = false;
        self.key
            .get_pin_retries()
            .map_err(|e| map_err("read the PIN retry counter", e))
    }

    fn credential_metadata(
        &mut self,
        credential: Credential,
    ) -> Result<CredentialMetadata, TokenError> {
        let id = SlotId::Management(match credential {
            Credential::Pin => ManagementSlotId::Pin,
            Credential::Puk => ManagementSlotId::Puk,
            Credential::ManagementKey => ManagementSlotId::Management,
        });
        let m = piv::metadata(&mut self.key, id)
            .map_err(|e| map_err("GET METADATA (firmware 5.3 or later)", e))?;
        let is_default = m.default.ok_or_else(|| TokenError::Malformed {
            operation: "GET METADATA",
            reason: format!("{credential}: no default-value flag"),
        })?;
        let algorithm = match (credential, m.algorithm) {
            (Credential::ManagementKey, SlotAlgorithmId::Management(alg)) => Some(from_yk_mgm(alg)),
            (Credential::ManagementKey, _) => {
                return Err(TokenError::Malformed {
                    operation: "GET METADATA 9B",
                    reason: "not a management key algorithm".into(),
                })
            }
            _ => None,
        };
        Ok(CredentialMetadata {
            is_default,
            retries: m.retries.map(|r| Retries {
                total: r.retry_count,
                remaining: r.remaining_count,
            }),
            algorithm,
        })
    }

    fn authenticate_management_key(&mut self, key: &[u8]) -> Result<(), TokenError> {
        self.authenticate_with(key)?;
        self.mgm = Some(Zeroizing::new(key.to_vec()));
        Ok(())
    }

    fn authenticate_protected_management_key(&mut self) -> Result<bool, TokenError> {
        let admin = match self.key.fetch_object(OBJ_ADMIN_DATA) {
            Ok(admin) => admin,
            Err(yk::Error::NotFound) => return Ok(false),
            Err(e) => return Err(map_err("read ADMIN DATA", e)),
        };
        if !credentials::admin_says_protected(&admin) {
            return Ok(false);
        }
        let printed = match self.key.fetch_object(OBJ_PRINTED) {
            Ok(printed) => printed,
            Err(yk::Error::NotFound) => return Err(TokenError::ProtectedManagementKeyMissing),
            // The card answers 6982 until the PIN is verified; the crate says only
            // "generic error", so judge by what this session did.
            Err(yk::Error::GenericError) if !self.pin_session => {
                return Err(TokenError::PinNotVerified)
            }
            Err(e) => return Err(map_err("read the PIN-protected management key", e)),
        };
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
            Algorithm::P256 => AlgorithmId::EccP256,
            Algorithm::P384 => AlgorithmId::EccP384,
            Algorithm::Other(id) => {
                return Err(TokenError::Unsupported {
                    what: format!("generating keys of PIV algorithm {id:02x}"),
                })
            }
        };
        if !overwrite && super::slot_occupied(self, slot)? {
            return Err(TokenError::SlotOccupied { slot });
        }
        let id = slot_id(slot)?;
        self.authenticate_admin()?;
        let spki = piv::generate(
            &mut self.key,
            id,
            alg,
            to_yk_pin(pin_policy),
            to_yk_touch(touch_policy),
        )
        .map_err(|e| match e {
            yk::Error::AuthenticationError => TokenError::ManagementKey,
            yk::Error::AlgorithmError => TokenError::Unsupported {
                what: format!("{algorithm:?} with PIN {pin_policy:?} / touch {touch_policy:?}"),
            },
            e => map_err("generate a key", e),
        })?;
        point_of(&spki)
    }

    fn ecdh(&mut self, slot: Slot, peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        let policy = self.policy_for_use(slot)?;
        let id = slot_id(slot)?;
        let out = piv::decrypt_data(&mut self.key, peer, AlgorithmId::EccP256, id);
        // Judge a refusal by the PIN state the operation ran with, before it is used up.
        let refused = self.security_status(policy);
        self.after_use(policy);
        match out {
            Ok(x) => Ok(Zeroizing::new(x.to_vec())),
            Err(yk::Error::AuthenticationError) => Err(refused),
            Err(yk::Error::SizeError) => Err(TokenError::Malformed {
                operation: "ECDH",
                reason: "the peer point is not a 65-byte uncompressed P-256 point".into(),
            }),
            Err(e) => Err(map_err("run ECDH", e)),
        }
    }

    fn sign(&mut self, slot: Slot, digest: &[u8]) -> Result<Vec<u8>, TokenError> {
        let policy = self.policy_for_use(slot)?;
        let id = slot_id(slot)?;
        let out = piv::sign_data(&mut self.key, digest, AlgorithmId::EccP256, id);
        // Judge a refusal by the PIN state the operation ran with, before it is used up.
        let refused = self.security_status(policy);
        self.after_use(policy);
        match out {
            Ok(sig) => Ok(sig.to_vec()),
            Err(yk::Error::AuthenticationError) => Err(refused),
            Err(e) => Err(map_err("sign", e)),
        }
    }

    fn attest(&mut self, slot: Slot) -> Result<Vec<u8>, TokenError> {
        let id = slot_id(slot)?;
        match piv::attest(&mut self.key, id) {
            Ok(der) => Ok(der.to_vec()),
            // The card refuses to attest an empty slot or an imported key alike.
            Err(yk::Error::GenericError) => match self.metadata(slot) {
                Ok(None) => Err(TokenError::SlotEmpty { slot }),
                _ => Err(TokenError::Failed {
                    operation: "attest the key",
                    reason: "the card refused (imported keys cannot be attested)".into(),
                }),
            },
            Err(e) => Err(map_err("attest the key (firmware 4.3 or later)", e)),
        }
    }

    fn read_certificate(&mut self, slot: Slot) -> Result<Option<Vec<u8>>, TokenError> {
        match self.key.fetch_object(slot.object_id()) {
            Ok(obj) => Ok(tlv::certificate_from_object(&obj)),
            Err(yk::Error::NotFound) => Ok(None),
            Err(e) => Err(map_err("read a certificate", e)),
        }
    }

    fn write_certificate(&mut self, slot: Slot, der: &[u8]) -> Result<(), TokenError> {
        super::check_certificate_len(der)?;
        self.authenticate_admin()?;
        let mut obj = tlv::certificate_object(der);
        self.key
            .save_object(slot.object_id(), &mut obj)
            .map_err(|e| match e {
                yk::Error::AuthenticationError => TokenError::ManagementKey,
                e => map_err("store a certificate", e),
            })
    }

    fn assume_policy(&mut self, slot: Slot, pin: PinPolicy, touch: TouchPolicy) {
        self.known.retain(|(s, _)| *s != slot);
        self.known.push((slot, (pin, touch)));
    }

    fn metadata(&mut self, slot: Slot) -> Result<Option<SlotMetadata>, TokenError> {
        let id = slot_id(slot)?;
        let m = match piv::metadata(&mut self.key, id) {
            Ok(m) => m,
            Err(yk::Error::NotFound) => return Ok(None),
            Err(e) => return Err(map_err("GET METADATA (firmware 5.3 or later)", e)),
        };
        let bad = |reason: &str| TokenError::Malformed {
            operation: "GET METADATA",
            reason: reason.into(),
        };
        let algorithm = match m.algorithm {
            SlotAlgorithmId::Asymmetric(AlgorithmId::EccP256) => Algorithm::P256,
            SlotAlgorithmId::Asymmetric(AlgorithmId::EccP384) => Algorithm::P384,
            SlotAlgorithmId::Asymmetric(other) => Algorithm::Other(other.into()),
            _ => return Err(bad("not a key slot")),
        };
        let (pin, touch) = m.policy.ok_or_else(|| bad("no policy"))?;
        let pin_policy = glasskeep_core::piv::pin_policy_from_code(pin.into())
            .ok_or_else(|| bad("PIN policy"))?;
        let touch_policy = glasskeep_core::piv::touch_policy_from_code(touch.into())
            .ok_or_else(|| bad("touch policy"))?;
        let origin = match m.origin {
            Some(piv::Origin::Generated) => KeyOrigin::Generated,
            Some(piv::Origin::Imported) => KeyOrigin::Imported,
            None => return Err(bad("no origin")),
        };
        let public_key = match &m.public {
            Some(spki) => point_of(spki)?,
            None => Vec::new(),
        };
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
mod tests {
    use super::*;

    fn pcsc(e: pcsc::Error) -> TokenError {
        map_err("test", yk::Error::PcscError { inner: Some(e) })
    }

    #[test]
    fn pcsc_errors_map_to_what_the_user_must_do() {
        assert!(matches!(
            pcsc(pcsc::Error::NoService),
            TokenError::PcscUnavailable
        ));
        assert!(matches!(
            pcsc(pcsc::Error::ServiceStopped),
            TokenError::PcscUnavailable
        ));
        assert!(matches!(
            pcsc(pcsc::Error::NoReadersAvailable),
            TokenError::NoReader
        ));
        assert!(matches!(pcsc(pcsc::Error::NoSmartcard), TokenError::NoCard));
        assert!(matches!(pcsc(pcsc::Error::RemovedCard), TokenError::NoCard));
        assert!(matches!(
            pcsc(pcsc::Error::SharingViolation),
            TokenError::Pcsc(_)
        ));
    }

    #[test]
    fn pin_errors_map_to_retries_or_blocked() {
        let m = |e| map_err("verify the PIN", e);
        assert!(matches!(
            m(yk::Error::WrongPin { tries: 2 }),
            TokenError::WrongPin { retries_left: 2 }
        ));
        assert!(matches!(
            m(yk::Error::WrongPin { tries: 0 }),
            TokenError::PinBlocked
        ));
        assert!(matches!(m(yk::Error::PinLocked), TokenError::PinBlocked));
        assert!(matches!(
            m(yk::Error::NotSupported),
            TokenError::Unsupported { .. }
        ));
        assert!(matches!(
            m(yk::Error::GenericError),
            TokenError::Failed { .. }
        ));
    }
}
