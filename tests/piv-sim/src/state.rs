//! The card's persistent state: what a real card keeps across power cycles.
//!
//! Stored as `state.json` in the state folder, written to a temporary file and renamed
//! so a crash never leaves half a card. It holds private keys in clear: this is a
//! TRAINING simulator and protects nothing.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The state file's format version; other versions are refused, never guessed.
pub const STATE_VERSION: u32 = 1;

const STATE_FILE: &str = "state.json";

/// Failure to load or store a card's state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The folder or file could not be read or written.
    #[error("card state in {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid state file.
    #[error("card state in {path} is corrupt: {reason}")]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The card's f9 device certificate could not be issued (a bug, not bad input).
    #[error("cannot issue the device attestation certificate: {0}")]
    Attestation(String),
    /// The configuration of a new card is impossible (a key of the wrong length...).
    #[error("cannot create the simulated card: {0}")]
    Config(String),
    /// A card already exists there (on create).
    #[error("a simulated card already exists in {0}; open it instead")]
    AlreadyExists(PathBuf),
}

/// A generated key in a slot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SlotKey {
    /// PIV algorithm id: 0x11 P-256, 0x14 P-384.
    pub algorithm: u8,
    /// Private scalar, hex (simulator only).
    pub secret: String,
    /// Resolved PIN policy: 1 never, 2 once, 3 always.
    pub pin_policy: u8,
    /// Resolved touch policy: 1 never, 2 always, 3 cached.
    pub touch_policy: u8,
    /// 1 generated on the card, 2 imported.
    pub origin: u8,
}

/// Everything a card remembers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CardState {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// Serial number (GET SERIAL, attestation extension .3.7).
    pub serial: u32,
    /// Firmware version major, minor, patch.
    pub firmware: [u8; 3],
    /// PIN bytes (6..8), hex.
    pub pin: String,
    /// PIN tries left.
    pub pin_retries: u8,
    /// PIN retry limit.
    pub pin_max_retries: u8,
    /// Whether the PIN is still the factory default.
    pub pin_default: bool,
    /// PUK bytes (6..8), hex.
    pub puk: String,
    /// PUK tries left.
    pub puk_retries: u8,
    /// PUK retry limit.
    pub puk_max_retries: u8,
    /// Whether the PUK is still the factory default.
    pub puk_default: bool,
    /// Management key algorithm: 0x03 3DES, 0x08 AES-128, 0x0A AES-192, 0x0C AES-256.
    pub mgm_algorithm: u8,
    /// Management key, hex.
    pub mgm_key: String,
    /// Whether the management key is still the factory default.
    pub mgm_default: bool,
    /// Whether authenticating with the management key needs a touch (SET MANAGEMENT
    /// KEY with P2 = FE). Absent in state files written before it existed.
    #[serde(default)]
    pub mgm_touch: bool,
    /// Keys by slot id (two hex digits).
    pub keys: BTreeMap<String, SlotKey>,
    /// Data objects by object id (hex), value = the contents of the 53 tag, hex.
    pub objects: BTreeMap<String, String>,
    /// The device attestation (f9) private key, hex; its certificate is object 5fff01.
    pub attestation_key: String,
}

impl CardState {
    /// Path of the state file inside `dir`.
    pub fn file(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    /// Whether `dir` already holds a card.
    pub fn exists(dir: &Path) -> bool {
        Self::file(dir).is_file()
    }

    /// Loads the card in `dir`.
    pub fn load(dir: &Path) -> Result<CardState, StateError> {
        let path = Self::file(dir);
        let bytes = fs::read(&path).map_err(|source| StateError::Io {
            path: path.clone(),
            source,
        })?;
        let state: CardState = serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if state.version != STATE_VERSION {
            return Err(StateError::Corrupt {
                path,
                reason: format!("unknown state version {}", state.version),
            });
        }
        Ok(state)
    }

    /// Stores the card in `dir` atomically (write, fsync, rename).
    pub fn save(&self, dir: &Path) -> Result<(), StateError> {
        let path = Self::file(dir);
        let io = |source| StateError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(dir).map_err(io)?;
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(self).map_err(|e| StateError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(&json).map_err(io)?;
        f.sync_all().map_err(io)?;
        fs::rename(&tmp, &path).map_err(io)?;
        Ok(())
    }
}
