//! Attested enrollment: make a custodian's two keys on their YubiKey, prove with the
//! card's attestation that they were born there with the policies glasskeep needs, and
//! return the [`CustodianRecord`] the ceremony writes to the log.
//!
//! Order, chosen so that a refusal costs as little as possible: name and slot checks;
//! card hygiene — factory PIN, PUK or management key, then firmware below 5.7.0 for
//! the sign key — read with GET METADATA, which spends no PIN try, so a card refused
//! for hygiene leaves with its counters as they were; PIN; the management key (typed,
//! else PIN-protected on the card, else the factory one); both slots free (unless
//! overwriting); the device attestation certificate (f9)
//! against the custody's roots — before any key is generated, so a simulated card
//! offered to a production custody, or a card of unknown origin, is refused with its
//! slots untouched; then per key: generate, attest, verify the chain, serial, public key
//! and policy; then store the slot certificates; last, re-verify the record as an
//! auditor would. Nothing here uses a key, so enrollment needs the PIN but no touch.
//!
//! # Slot certificates
//!
//! Each slot gets its own *attestation certificate* as its certificate. age-plugin-
//! yubikey 0.5.1 needs a certificate that holds the slot's public key and has no
//! critical extension other than 1.3.6.1.4.1.41482.3.8; the attestation certificate
//! is exactly that (checked before writing, see [`EnrollError::PluginIncompatible`]),
//! and, as its subject is not `O=age-plugin-yubikey`, the plugin reads the policies
//! through ATTEST, i.e. from the card itself rather than from bytes anyone could write.
//! The alternative, a self-signed certificate like the plugin makes, would need the
//! key to sign — a PIN and a touch per key, during a ceremony — and would prove
//! nothing; the attestation certificate costs nothing and lets anyone holding the card
//! re-verify where its keys came from. The one difference users see: the plugin's plain
//! `--list` and `--identity` show only keys whose subject is `O=age-plugin-yubikey`, so
//! the seal key appears under `--list-all` and `--identity --slot N` (decryption is
//! unaffected); tests/pcscd_token_age.rs checks this against the real plugin.

use std::fmt;

use p256::elliptic_curve::sec1::ToSec1Point;
use thiserror::Error;
use zeroize::Zeroizing;

use super::{
    slot_occupied, Algorithm, Credential, PinPolicy, Slot, Token, TokenError, TouchPolicy, Version,
};
use glasskeep_core::attestation::{self, AttestationError, AttestedKey, Trust};
use glasskeep_core::custodian::CustodianRecord;
use glasskeep_core::piv::KeyRole;
use glasskeep_core::secret::Pin;

/// The first firmware whose ECDSA keys Yubico does not consider cloneable (YSA-2024-03:
/// on YubiKey 5 before 5.7.0, a side channel in the ECDSA implementation lets someone
/// with the card and lab equipment recover the private key).
pub const SIGN_KEY_MIN_FIRMWARE: Version = Version {
    major: 5,
    minor: 7,
    patch: 0,
};

/// The commands that replace each factory credential, in the order a custodian runs
/// them (the management key last: ykman's `--protect` asks for the new PIN).
const CHANGE_PIN: &str = "ykman piv access change-pin";
const CHANGE_PUK: &str = "ykman piv access change-puk";
const CHANGE_MGM: &str = "ykman piv access change-management-key --generate --protect";

/// What to enroll.
#[derive(Clone)]
pub struct EnrollOptions {
    /// The custodian's name (1..=64 bytes of UTF-8, no control characters).
    pub name: String,
    /// The retired slot for the seal key (default 0x82).
    pub seal_slot: Slot,
    /// Replace keys already in the seal slot or 9c. Destroys them: only for a card
    /// whose old keys no envelope depends on.
    pub overwrite: bool,
    /// Which roots the custody trusts; production also decides whether card hygiene
    /// refuses or only warns.
    pub trust: Trust,
    /// Enroll a sign key on firmware below [`SIGN_KEY_MIN_FIRMWARE`] in a production
    /// custody anyway (YSA-2024-03); the result says so, for the log to record.
    pub accept_firmware_risk: bool,
    /// The card's management key as the custodian typed it (16, 24 or 32 bytes; see
    /// [`management_key_from_hex`]). `None`: the PIN-protected key on the card, else
    /// the factory key.
    pub management_key: Option<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for EnrollOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollOptions")
            .field("name", &self.name)
            .field("seal_slot", &self.seal_slot)
            .field("overwrite", &self.overwrite)
            .field("trust", &self.trust)
            .field("accept_firmware_risk", &self.accept_firmware_risk)
            .field(
                "management_key",
                &self.management_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Parses a management key typed in hex (spaces and colons allowed between digits):
/// 32, 48 or 64 digits for AES-128, 3DES / AES-192, AES-256. The error never repeats
/// what was typed.
pub fn management_key_from_hex(text: &str) -> Result<Zeroizing<Vec<u8>>, EnrollError> {
    let digits: Zeroizing<Vec<u8>> = Zeroizing::new(
        text.bytes()
            .filter(|b| !matches!(b, b' ' | b':' | b'\t'))
            .collect(),
    );
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    if digits.iter().any(|b| nibble(*b).is_none()) {
        return Err(EnrollError::BadManagementKey {
            reason: "it contains characters that are not hex digits",
        });
    }
    if !matches!(digits.len(), 32 | 48 | 64) {
        return Err(EnrollError::BadManagementKey {
            reason: "it is not 32, 48 or 64 hex digits long",
        });
    }
    let mut key = Zeroizing::new(Vec::with_capacity(digits.len() / 2));
    for pair in digits.chunks(2) {
        // Every byte was checked above.
        let (hi, lo) = (nibble(pair[0]).unwrap_or(0), nibble(pair[1]).unwrap_or(0));
        key.push(hi << 4 | lo);
    }
    Ok(key)
}

/// A successful enrollment.
#[derive(Debug)]
#[non_exhaustive]
pub struct Enrolled {
    /// The record for the log.
    pub record: CustodianRecord,
    /// What a training custody let pass and a production one would have refused, and
    /// the firmware risk when it was accepted; for the operator to read.
    pub warnings: Vec<String>,
    /// The sign key sits on firmware below [`SIGN_KEY_MIN_FIRMWARE`] and
    /// `accept_firmware_risk` allowed it: the enroll entry records this, and `status`
    /// shows it.
    pub firmware_risk_accepted: bool,
}

/// Which of the card's credentials still have their factory values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FactoryDefaults {
    /// The PIN is 123456.
    pub pin: bool,
    /// The PUK is 12345678.
    pub puk: bool,
    /// The management key is 010203040506070801020304050607080102030405060708.
    pub management_key: bool,
}

impl FactoryDefaults {
    fn any(self) -> bool {
        self.pin || self.puk || self.management_key
    }

    fn names(self) -> String {
        let names: Vec<&str> = [
            (self.pin, "PIN"),
            (self.puk, "PUK"),
            (self.management_key, "management key"),
        ]
        .into_iter()
        .filter_map(|(on, n)| on.then_some(n))
        .collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }

    fn pronoun(self) -> &'static str {
        if u8::from(self.pin) + u8::from(self.puk) + u8::from(self.management_key) > 1 {
            "them"
        } else {
            "it"
        }
    }

    fn commands(self) -> String {
        [
            (self.pin, CHANGE_PIN),
            (self.puk, CHANGE_PUK),
            (self.management_key, CHANGE_MGM),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, c)| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", then ")
    }
}

impl EnrollOptions {
    /// Defaults: seal key in 82, never overwrite.
    pub fn new(name: impl Into<String>, trust: Trust) -> Self {
        EnrollOptions {
            name: name.into(),
            seal_slot: Slot::RETIRED1,
            overwrite: false,
            trust,
            accept_firmware_risk: false,
            management_key: None,
        }
    }
}

/// Why an enrollment was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EnrollError {
    /// The name is not usable.
    #[error("custodian name refused: {reason}")]
    BadName {
        /// Why.
        reason: &'static str,
    },
    /// The seal key must live in a retired slot (82..95), where age-plugin-yubikey
    /// looks for keys.
    #[error("slot {slot} is not a retired slot: choose one of 82..95 for the seal key")]
    SealSlotNotRetired {
        /// The slot asked for.
        slot: Slot,
    },
    /// A production custody refuses a card that still has factory credentials: anyone
    /// who finds it could use the PIN, or replace its keys with the management key.
    #[error("this YubiKey still has the factory {}: change {} before enrolling it ({}), then enroll again", .defaults.names(), .defaults.pronoun(), .defaults.commands())]
    FactoryDefaults {
        /// Which credentials are still the factory ones.
        defaults: FactoryDefaults,
    },
    /// The card's firmware is too old to report its credentials (GET METADATA came
    /// with 5.3), so a production custody cannot tell whether they are the factory ones
    /// without spending tries.
    #[error("this YubiKey (firmware {version}) cannot report whether its PIN, PUK and management key are the factory ones: use a YubiKey with firmware 5.7 or later")]
    HygieneUnknown {
        /// The card's firmware.
        version: Version,
    },
    /// The sign key would sit on firmware affected by YSA-2024-03.
    #[error("this YubiKey's firmware {version} is below 5.7.0: its ECDSA keys can be cloned by someone holding it with lab equipment (Yubico advisory YSA-2024-03); use a YubiKey with firmware 5.7 or later, or pass --accept-firmware-risk to enroll it anyway (the log records that)")]
    FirmwareRisk {
        /// The card's firmware.
        version: Version,
    },
    /// The typed management key is not hex of a usable length.
    #[error("management key refused: {reason}; type it as hex, 48 digits for a 3DES or AES-192 key (32 for AES-128, 64 for AES-256)")]
    BadManagementKey {
        /// Why.
        reason: &'static str,
    },
    /// The card refused the management key typed by the custodian.
    #[error("the YubiKey refused the management key you typed: check it and try again (or store one PIN-protected with `ykman piv access change-management-key --generate --protect`)")]
    TypedManagementKeyRefused,
    /// The card refused the PIN-protected management key it stores itself.
    #[error("the YubiKey refused the PIN-protected management key it stores: set a new one with `ykman piv access change-management-key --generate --protect`")]
    ProtectedManagementKeyRefused,
    /// The management key is not the factory one, none was typed and the card stores
    /// none PIN-protected.
    #[error("this YubiKey's management key is not the factory one and is not stored on the card: type it when asked, or store it PIN-protected with `ykman piv access change-management-key --generate --protect`")]
    ManagementKeyNeeded,
    /// The card has no device attestation certificate in f9.
    #[error("this YubiKey has no device attestation certificate (slot f9): it cannot prove where its keys come from, so it cannot be enrolled")]
    NoDeviceAttestation,
    /// A slot certificate that age-plugin-yubikey would refuse.
    #[error("the attestation certificate for slot {slot} has a critical extension {oid}, which age-plugin-yubikey refuses: this card cannot be used for recovery with standard tools")]
    PluginIncompatible {
        /// The slot.
        slot: Slot,
        /// The extension.
        oid: String,
    },
    /// A card operation failed (PIN, slot occupied, touch, management key...).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The attestation was refused (wrong root, broken chain, weak policy...).
    #[error(transparent)]
    Attestation(#[from] AttestationError),
}

/// The policy OID age-plugin-yubikey tolerates as critical.
const OID_YUBICO_POLICY: &str = "1.3.6.1.4.1.41482.3.8";

fn check_name(name: &str) -> Result<(), EnrollError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.len() > 64 {
        "it is longer than 64 bytes"
    } else if name.chars().any(char::is_control) {
        "it contains control characters"
    } else if name.trim() != name {
        "it starts or ends with white space"
    } else {
        return Ok(());
    };
    Err(EnrollError::BadName { reason })
}

/// Generates, attests and verifies one key; returns its public key and attested facts.
fn make_key(
    token: &mut dyn Token,
    role: KeyRole,
    slot: Slot,
    pin: PinPolicy,
    device: &[u8],
    opts: &EnrollOptions,
) -> Result<(Vec<u8>, Vec<u8>, AttestedKey), EnrollError> {
    let public = token.generate(
        slot,
        Algorithm::P256,
        pin,
        TouchPolicy::Always,
        opts.overwrite,
    )?;
    let cert = token.attest(slot)?;
    let key = attestation::verify_key_attestation(role, &cert, device, opts.trust)?;
    attestation::check_attested_key(role, &key, token.serial(), &public)?;
    if let Some(oid) = attestation::critical_extensions(&cert)
        .into_iter()
        .find(|o| o != OID_YUBICO_POLICY)
    {
        return Err(EnrollError::PluginIncompatible { slot, oid });
    }
    Ok((public, cert, key))
}

fn compressed(role: KeyRole, point: &[u8]) -> Result<[u8; 33], AttestationError> {
    // `make_key` already proved the point a valid P-256 key equal to the attested one;
    // the error is for the record's sake only.
    let pk = p256::PublicKey::from_sec1_bytes(point)
        .map_err(|_| AttestationError::KeyMismatch { role })?;
    let mut out = [0u8; 33];
    out.copy_from_slice(pk.to_sec1_point(true).as_bytes());
    Ok(out)
}

/// Card hygiene, read without spending a try: factory credentials and old firmware.
/// Refuses for a production custody; returns the warnings a training one shows.
fn check_hygiene(token: &mut dyn Token, opts: &EnrollOptions) -> Result<Vec<String>, EnrollError> {
    let production = opts.trust == Trust::Production;
    let mut warnings = Vec::new();
    let mut defaults = FactoryDefaults::default();
    for credential in [Credential::Pin, Credential::Puk, Credential::ManagementKey] {
        let is_default = match token.credential_metadata(credential) {
            Ok(m) => m.is_default,
            Err(TokenError::Unsupported { .. }) if production => {
                return Err(EnrollError::HygieneUnknown {
                    version: token.version(),
                })
            }
            Err(TokenError::Unsupported { .. }) => {
                warnings.push(format!(
                    "firmware {} cannot report whether the PIN, PUK and management key are the factory ones",
                    token.version()
                ));
                break;
            }
            Err(e) => return Err(e.into()),
        };
        match credential {
            Credential::Pin => defaults.pin = is_default,
            Credential::Puk => defaults.puk = is_default,
            Credential::ManagementKey => defaults.management_key = is_default,
        }
    }
    if defaults.any() {
        if production {
            return Err(EnrollError::FactoryDefaults { defaults });
        }
        warnings.push(format!(
            "this YubiKey still has the factory {} (a production custody refuses it; change with {})",
            defaults.names(),
            defaults.commands()
        ));
    }
    if token.version() < SIGN_KEY_MIN_FIRMWARE {
        if production && !opts.accept_firmware_risk {
            return Err(EnrollError::FirmwareRisk {
                version: token.version(),
            });
        }
        warnings.push(format!(
            "firmware {} is below 5.7.0: the sign key could be cloned by someone holding this YubiKey with lab equipment (YSA-2024-03){}",
            token.version(),
            if opts.accept_firmware_risk { "; risk accepted" } else { "" }
        ));
    }
    Ok(warnings)
}

/// Authenticates with the management key enrollment will use: the typed one, else the
/// PIN-protected one on the card, else the factory one (which a production custody
/// never reaches: it refused a factory management key already).
fn authenticate_management(token: &mut dyn Token, opts: &EnrollOptions) -> Result<(), EnrollError> {
    if let Some(key) = &opts.management_key {
        return token.authenticate_management_key(key).map_err(|e| match e {
            TokenError::ManagementKeyRefused => EnrollError::TypedManagementKeyRefused,
            e => e.into(),
        });
    }
    match token.authenticate_protected_management_key() {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(TokenError::ManagementKeyRefused | TokenError::ManagementKeyLength { .. }) => {
            return Err(EnrollError::ProtectedManagementKeyRefused)
        }
        Err(e) => return Err(e.into()),
    }
    match token.credential_metadata(Credential::ManagementKey) {
        Ok(m) if !m.is_default => Err(EnrollError::ManagementKeyNeeded),
        // Generating authenticates with the factory key; nothing to check earlier.
        _ => Ok(()),
    }
}

/// Enrolls the custodian whose YubiKey `token` is. Checks the card's hygiene first
/// (factory credentials, firmware for the sign key: refused in a production custody,
/// warnings in a training one), then authenticates with the management key, generates
/// the seal key (PIN once, touch always) and the sign key in 9c (PIN always, touch
/// always), verifies both attestations under `opts.trust`, stores each attestation
/// certificate as its slot's certificate, and returns the record for the log.
pub fn enroll(
    token: &mut dyn Token,
    pin: &Pin,
    opts: &EnrollOptions,
) -> Result<Enrolled, EnrollError> {
    check_name(&opts.name)?;
    if Slot::retired(opts.seal_slot.id()).is_none() {
        return Err(EnrollError::SealSlotNotRetired {
            slot: opts.seal_slot,
        });
    }
    let warnings = check_hygiene(token, opts)?;
    let firmware_risk_accepted =
        token.version() < SIGN_KEY_MIN_FIRMWARE && opts.accept_firmware_risk;
    token.verify_pin(pin)?;
    authenticate_management(token, opts)?;
    if !opts.overwrite {
        for slot in [opts.seal_slot, Slot::SIGNATURE] {
            if slot_occupied(token, slot)? {
                return Err(TokenError::SlotOccupied { slot }.into());
            }
        }
    }
    let device = token
        .read_certificate(Slot::ATTESTATION)?
        .ok_or(EnrollError::NoDeviceAttestation)?;
    attestation::verify_device_certificate(&device, opts.trust)?;

    let (seal_pub, seal_cert, seal) = make_key(
        token,
        KeyRole::Seal,
        opts.seal_slot,
        PinPolicy::Once,
        &device,
        opts,
    )?;
    let (sign_pub, sign_cert, sign) = make_key(
        token,
        KeyRole::Sign,
        Slot::SIGNATURE,
        PinPolicy::Always,
        &device,
        opts,
    )?;
    token.write_certificate(opts.seal_slot, &seal_cert)?;
    token.write_certificate(Slot::SIGNATURE, &sign_cert)?;

    let record = CustodianRecord {
        name: opts.name.clone(),
        serial: token.serial(),
        firmware: seal.firmware,
        seal_slot: opts.seal_slot,
        seal_public_key: compressed(KeyRole::Seal, &seal_pub)?,
        seal_pin_policy: seal.pin_policy,
        seal_touch_policy: seal.touch_policy,
        sign_public_key: compressed(KeyRole::Sign, &sign_pub)?,
        sign_pin_policy: sign.pin_policy,
        sign_touch_policy: sign.touch_policy,
        device_attestation: device,
        seal_attestation: seal_cert,
        sign_attestation: sign_cert,
    };
    // What auditors will run on the log entry; it must pass here first.
    attestation::verify_record(&record, opts.trust)?;
    Ok(Enrolled {
        record,
        warnings,
        firmware_risk_accepted,
    })
}

#[cfg(test)]
mod tests;
