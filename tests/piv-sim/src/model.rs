//! The card model: one PIV application with its persistent state and session state.
//! Both fronts (in-process and vpcd) drive this same model with whole commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use p256::ecdsa::SigningKey;

use crate::apdu::{find, parse_tlvs, sw, tlv, Command, Reply};
use crate::attestation;
use crate::state::{CardState, StateError, STATE_VERSION};
use crate::touch::{TouchHandle, TouchMode, AUTO_TOUCH_DELAY, TOUCH_FILE};

/// PIV algorithm id of ECC P-256.
pub const ALG_P256: u8 = 0x11;
/// PIV algorithm id of ECC P-384.
pub const ALG_P384: u8 = 0x14;
/// Management key algorithm id of 3DES.
pub const ALG_3DES: u8 = 0x03;
/// Management key algorithm id of AES-128.
pub const ALG_AES128: u8 = 0x08;
/// Management key algorithm id of AES-192.
pub const ALG_AES192: u8 = 0x0A;
/// Management key algorithm id of AES-256.
pub const ALG_AES256: u8 = 0x0C;

/// Object id of ADMIN DATA, where ykman and yubico-piv-tool keep their flags
/// (`80 { 81 <flags> }`: 0x01 PUK blocked, 0x02 management key stored PIN-protected).
pub const OBJ_ADMIN_DATA: &str = "5fff00";
/// Object id of PRINTED information, readable only after VERIFY PIN; ykman keeps a
/// PIN-protected management key there as `88 { 89 <key> }`.
pub const OBJ_PRINTED: &str = "5fc109";
/// ADMIN DATA flag: the management key is stored in PRINTED.
pub const ADMIN_FLAG_MGM_PROTECTED: u8 = 0x02;

/// The factory management key, the same 24 bytes for 3DES and AES-192.
pub const DEFAULT_MGM_KEY: [u8; 24] = [
    1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
/// The factory PIN.
pub const DEFAULT_PIN: &[u8] = b"123456";
/// The factory PUK.
pub const DEFAULT_PUK: &[u8] = b"12345678";

const PIV_AID: [u8; 5] = [0xA0, 0x00, 0x00, 0x03, 0x08];
const RETRIES: u8 = 3;
/// How long a "cached" touch stays valid (Yubico documents 15 seconds).
const TOUCH_CACHE: Duration = Duration::from_secs(15);

// Instructions (NIST SP 800-73-4 and Yubico's PIV extensions).
const INS_SELECT: u8 = 0xA4;
const INS_VERIFY: u8 = 0x20;
const INS_CHANGE_REFERENCE: u8 = 0x24;
const INS_RESET_RETRY: u8 = 0x2C;
const INS_GENERATE: u8 = 0x47;
const INS_AUTHENTICATE: u8 = 0x87;
const INS_GET_DATA: u8 = 0xCB;
const INS_PUT_DATA: u8 = 0xDB;
const INS_GET_METADATA: u8 = 0xF7;
const INS_GET_SERIAL: u8 = 0xF8;
const INS_ATTEST: u8 = 0xF9;
const INS_GET_VERSION: u8 = 0xFD;
const INS_SET_MGM_KEY: u8 = 0xFF;
const INS_RESET: u8 = 0xFB;

/// Configuration of a new card.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Serial number.
    pub serial: u32,
    /// Firmware major, minor, patch; 5.7.x and later default to an AES-192 management key.
    pub firmware: [u8; 3],
    /// Touch sensor behaviour.
    pub touch: TouchMode,
    /// How long a touch-policy operation waits before failing with `6982`. A real
    /// YubiKey waits about 15 seconds; tests use less.
    pub touch_timeout: Duration,
    /// PIN of the new card (6..=8 bytes); the factory value is [`DEFAULT_PIN`].
    pub pin: Vec<u8>,
    /// PUK of the new card (6..=8 bytes); the factory value is [`DEFAULT_PUK`].
    pub puk: Vec<u8>,
    /// Management key algorithm and bytes; `None` is the factory key with the
    /// firmware's default algorithm (AES-192 from 5.7, 3DES before).
    pub management_key: Option<(u8, Vec<u8>)>,
    /// Store the management key PIN-protected, as `ykman piv access
    /// change-management-key --protect` leaves a card (PRINTED and ADMIN DATA).
    pub protect_management_key: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            serial: 10_000_001,
            firmware: [5, 7, 1],
            touch: TouchMode::Auto,
            touch_timeout: Duration::from_secs(15),
            pin: DEFAULT_PIN.to_vec(),
            puk: DEFAULT_PUK.to_vec(),
            management_key: None,
            protect_management_key: false,
        }
    }
}

/// Whether `key` is a valid management key for algorithm `alg` on `firmware`
/// (AES arrived with 5.4).
pub(crate) fn valid_mgm_key(alg: u8, key: &[u8], firmware: [u8; 3]) -> bool {
    match alg {
        ALG_3DES => key.len() == 24,
        ALG_AES128 => key.len() == 16 && firmware >= [5, 4, 0],
        ALG_AES192 => key.len() == 24 && firmware >= [5, 4, 0],
        ALG_AES256 => key.len() == 32 && firmware >= [5, 4, 0],
        _ => false,
    }
}

/// ADMIN DATA and PRINTED as ykman writes them for a PIN-protected management key.
pub(crate) fn protected_mgm_objects(key: &[u8]) -> [(String, String); 2] {
    let admin = tlv(&[0x80], &tlv(&[0x81], &[ADMIN_FLAG_MGM_PROTECTED]));
    let printed = tlv(&[0x88], &tlv(&[0x89], key));
    [
        (OBJ_ADMIN_DATA.to_string(), hex::encode(admin)),
        (OBJ_PRINTED.to_string(), hex::encode(printed)),
    ]
}

/// Fills `buf` from the operating system's generator.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    // The OS generator failing means the machine cannot make keys at all; a simulated
    // card has nothing sensible to answer then.
    getrandom::fill(buf).expect("operating system randomness is available");
}

/// What the card forgets on power-off or reselect.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub(crate) selected: bool,
    pub(crate) pin_verified: bool,
    /// Set by VERIFY, consumed by one PIN-policy-always operation.
    pub(crate) pin_fresh: bool,
    pub(crate) mgm_authenticated: bool,
    /// Plain witness sent (encrypted) in step one of management key authentication.
    pub(crate) mgm_witness: Option<Vec<u8>>,
    pub(crate) last_touch: BTreeMap<u8, Instant>,
}

/// One simulated card.
pub struct Card {
    pub(crate) state: CardState,
    pub(crate) session: Session,
    dir: Option<PathBuf>,
    touch: TouchMode,
    pub(crate) touch_timeout: Duration,
    touch_handle: TouchHandle,
}

impl Card {
    /// A factory-fresh card; persisted in `dir` if given.
    pub fn create(config: &SimConfig, dir: Option<&Path>) -> Result<Card, StateError> {
        if let Some(d) = dir {
            if CardState::exists(d) {
                return Err(StateError::AlreadyExists(d.to_path_buf()));
            }
        }
        let device_key = loop {
            let mut s = [0u8; 32];
            random_bytes(&mut s);
            if let Ok(k) = SigningKey::from_slice(&s) {
                break k;
            }
        };
        let device_cert = attestation::device_certificate(&device_key, config.serial)
            .map_err(|e| StateError::Attestation(e.to_string()))?;
        let (mgm_algorithm, mgm_key) = match &config.management_key {
            Some((alg, key)) => {
                if !valid_mgm_key(*alg, key, config.firmware) {
                    return Err(StateError::Config(format!(
                        "management key algorithm {alg:02x} with {} bytes on firmware {:?}",
                        key.len(),
                        config.firmware
                    )));
                }
                (*alg, key.clone())
            }
            None if config.firmware >= [5, 7, 0] => (ALG_AES192, DEFAULT_MGM_KEY.to_vec()),
            None => (ALG_3DES, DEFAULT_MGM_KEY.to_vec()),
        };
        for (what, value) in [("PIN", &config.pin), ("PUK", &config.puk)] {
            if !(6..=8).contains(&value.len()) || value.contains(&0xFF) {
                return Err(StateError::Config(format!(
                    "the {what} must be 6 to 8 bytes without 0xFF"
                )));
            }
        }
        let mut objects = BTreeMap::new();
        objects.insert("5fff01".to_string(), hex::encode(cert_object(&device_cert)));
        if config.protect_management_key {
            objects.extend(protected_mgm_objects(&mgm_key));
        }
        let state = CardState {
            version: STATE_VERSION,
            serial: config.serial,
            firmware: config.firmware,
            pin: hex::encode(&config.pin),
            pin_retries: RETRIES,
            pin_max_retries: RETRIES,
            pin_default: config.pin == DEFAULT_PIN,
            puk: hex::encode(&config.puk),
            puk_retries: RETRIES,
            puk_max_retries: RETRIES,
            puk_default: config.puk == DEFAULT_PUK,
            mgm_algorithm,
            mgm_default: mgm_key == DEFAULT_MGM_KEY,
            mgm_key: hex::encode(&mgm_key),
            mgm_touch: false,
            keys: BTreeMap::new(),
            objects,
            attestation_key: hex::encode(device_key.to_bytes()),
        };
        if let Some(d) = dir {
            state.save(d)?;
        }
        Ok(Card::from_state(
            state,
            dir,
            config.touch,
            config.touch_timeout,
        ))
    }

    /// Reopens the card persisted in `dir`; touch behaviour is not part of the card.
    pub fn open(dir: &Path, touch: TouchMode, touch_timeout: Duration) -> Result<Card, StateError> {
        let state = CardState::load(dir)?;
        Ok(Card::from_state(state, Some(dir), touch, touch_timeout))
    }

    fn from_state(
        state: CardState,
        dir: Option<&Path>,
        touch: TouchMode,
        touch_timeout: Duration,
    ) -> Card {
        Card {
            state,
            session: Session::default(),
            dir: dir.map(Path::to_path_buf),
            touch,
            touch_timeout,
            touch_handle: TouchHandle::default(),
        }
    }

    /// The handle that presses this card's sensor in `signal` mode.
    pub fn touch_handle(&self) -> TouchHandle {
        self.touch_handle.clone()
    }

    /// The persisted state (read-only).
    pub fn state(&self) -> &CardState {
        &self.state
    }

    /// Forgets the session, as on power-off or reset.
    pub fn power_cycle(&mut self) {
        self.session = Session::default();
    }

    /// Persists the state; a failure is reported as a memory failure (`6581`), which is
    /// what a card with broken storage would answer.
    pub(crate) fn persist(&mut self) -> Result<(), Reply> {
        match &self.dir {
            Some(d) => self.state.save(d).map_err(|_| Reply::status(0x6581)),
            None => Ok(()),
        }
    }

    /// Blocks for a touch according to the configured mode; `false` on timeout.
    pub(crate) fn wait_for_touch(&mut self, slot: u8, cached: bool) -> bool {
        if cached {
            if let Some(t) = self.session.last_touch.get(&slot) {
                if t.elapsed() < TOUCH_CACHE {
                    return true;
                }
            }
        }
        let touched = match self.touch {
            TouchMode::Auto => {
                std::thread::sleep(AUTO_TOUCH_DELAY.min(self.touch_timeout));
                AUTO_TOUCH_DELAY <= self.touch_timeout
            }
            TouchMode::Never => {
                std::thread::sleep(self.touch_timeout);
                false
            }
            TouchMode::Immediate => true,
            TouchMode::Signal => {
                let file = self.dir.as_ref().map(|d| d.join(TOUCH_FILE));
                self.touch_handle.wait(self.touch_timeout, file.as_deref())
            }
        };
        if touched {
            self.session.last_touch.insert(slot, Instant::now());
        }
        touched
    }

    /// Executes one complete (already de-chained) command.
    pub fn execute(&mut self, cmd: &Command) -> Reply {
        if cmd.ins == INS_SELECT {
            return self.select(cmd);
        }
        if !self.session.selected {
            return Reply::status(sw::INS_NOT_SUPPORTED);
        }
        match cmd.ins {
            INS_GET_VERSION => Reply::ok(self.state.firmware.to_vec()),
            INS_GET_SERIAL => Reply::ok(self.state.serial.to_be_bytes().to_vec()),
            INS_VERIFY => self.verify(cmd),
            INS_CHANGE_REFERENCE => self.change_reference(cmd),
            INS_RESET_RETRY => self.reset_retry(cmd),
            INS_AUTHENTICATE if cmd.p2 == 0x9B => self.mgm_authenticate(cmd),
            INS_AUTHENTICATE => self.key_operation(cmd),
            INS_GENERATE => self.generate(cmd),
            INS_GET_DATA => self.get_data(cmd),
            INS_PUT_DATA => self.put_data(cmd),
            INS_GET_METADATA => self.metadata(cmd),
            INS_ATTEST => self.attest(cmd),
            INS_SET_MGM_KEY => self.set_mgm_key(cmd),
            INS_RESET => self.reset(),
            _ => Reply::status(sw::INS_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, cmd: &Command) -> Reply {
        if cmd.p1 != 0x04 || cmd.data.len() < PIV_AID.len() || cmd.data[..5] != PIV_AID {
            self.session = Session::default();
            return Reply::status(sw::NOT_FOUND);
        }
        self.session = Session {
            selected: true,
            ..Session::default()
        };
        // Application property template as SP 800-73-4 part 2 section 3.1.1 gives it.
        let aid = [
            0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
        ];
        let body = [
            tlv(&[0x4F], &aid[5..]),
            tlv(&[0x79], &tlv(&[0x4F], &PIV_AID)),
        ]
        .concat();
        Reply::ok(tlv(&[0x61], &body))
    }

    fn set_mgm_key(&mut self, cmd: &Command) -> Reply {
        // P1 FF; P2 FF sets a key usable without touch, FE one that needs a touch.
        if cmd.p1 != 0xFF || !matches!(cmd.p2, 0xFF | 0xFE) {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        if !self.session.mgm_authenticated {
            return Reply::status(sw::SECURITY_STATUS);
        }
        // Data: algorithm, 9B, length, key.
        let d = &cmd.data;
        if d.len() < 3 || d[1] != 0x9B || d.len() != 3 + d[2] as usize {
            return Reply::status(sw::INCORRECT_DATA);
        }
        if !valid_mgm_key(d[0], &d[3..], self.state.firmware) {
            return Reply::status(sw::INCORRECT_DATA);
        }
        self.state.mgm_algorithm = d[0];
        self.state.mgm_key = hex::encode(&d[3..]);
        self.state.mgm_default = d[3..] == DEFAULT_MGM_KEY;
        self.state.mgm_touch = cmd.p2 == 0xFE;
        match self.persist() {
            Ok(()) => Reply::status(sw::OK),
            Err(r) => r,
        }
    }

    /// Factory reset, allowed only once both PIN and PUK are blocked (as on a YubiKey).
    fn reset(&mut self) -> Reply {
        if self.state.pin_retries != 0 || self.state.puk_retries != 0 {
            return Reply::status(sw::CONDITIONS);
        }
        let config = SimConfig {
            serial: self.state.serial,
            firmware: self.state.firmware,
            touch: self.touch,
            touch_timeout: self.touch_timeout,
            ..SimConfig::default()
        };
        let device_key = self.state.attestation_key.clone();
        let device_object = self.state.objects.get("5fff01").cloned();
        match Card::create(&config, None) {
            Ok(fresh) => {
                self.state = fresh.state;
                // The device attestation identity survives a PIV reset on real cards.
                self.state.attestation_key = device_key;
                if let Some(o) = device_object {
                    self.state.objects.insert("5fff01".into(), o);
                }
                self.session = Session {
                    selected: true,
                    ..Session::default()
                };
                match self.persist() {
                    Ok(()) => Reply::status(sw::OK),
                    Err(r) => r,
                }
            }
            Err(_) => Reply::status(0x6581),
        }
    }

    pub(crate) fn get_data(&mut self, cmd: &Command) -> Reply {
        if cmd.p1 != 0x3F || cmd.p2 != 0xFF {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        let Some(tlvs) = parse_tlvs(&cmd.data) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        let Some(id) = find(&tlvs, &[0x5C]) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        if id == [0x7E] {
            // Discovery object: PIV AID and PIN usage policy (application PIN only).
            let aid = [
                0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00,
            ];
            let body = [tlv(&[0x4F], &aid), tlv(&[0x5F, 0x2F], &[0x40, 0x00])].concat();
            return Reply::ok(tlv(&[0x7E], &body));
        }
        // Printed information (5FC109) is PIN-protected, the rest readable by anyone.
        if id == [0x5F, 0xC1, 0x09] && !self.session.pin_verified {
            return Reply::status(sw::SECURITY_STATUS);
        }
        match self.state.objects.get(&hex::encode(id)) {
            Some(v) => match hex::decode(v) {
                Ok(v) => Reply::ok(tlv(&[0x53], &v)),
                Err(_) => Reply::status(0x6581),
            },
            None => Reply::status(sw::NOT_FOUND),
        }
    }

    fn put_data(&mut self, cmd: &Command) -> Reply {
        if cmd.p1 != 0x3F || cmd.p2 != 0xFF {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        if !self.session.mgm_authenticated {
            return Reply::status(sw::SECURITY_STATUS);
        }
        let Some(tlvs) = parse_tlvs(&cmd.data) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        let (Some(id), Some(value)) = (find(&tlvs, &[0x5C]), find(&tlvs, &[0x53])) else {
            return Reply::status(sw::INCORRECT_DATA);
        };
        if id.is_empty() || id.len() > 3 || id == [0x7E] {
            return Reply::status(sw::INCORRECT_DATA);
        }
        let key = hex::encode(id);
        if value.is_empty() {
            self.state.objects.remove(&key);
        } else {
            self.state.objects.insert(key, hex::encode(value));
        }
        match self.persist() {
            Ok(()) => Reply::status(sw::OK),
            Err(r) => r,
        }
    }
}

/// Wraps a certificate the way PIV stores it: 70 cert, 71 compression info, FE LRC.
pub(crate) fn cert_object(cert: &[u8]) -> Vec<u8> {
    [tlv(&[0x70], cert), tlv(&[0x71], &[0x00]), tlv(&[0xFE], &[])].concat()
}
