//! The in-process front: whole APDUs in, whole responses out, with command chaining
//! (CLA 0x10) and response chaining (`61xx` + GET RESPONSE) handled as a card does.

use std::path::Path;
use std::time::Duration;

use crate::apdu::{sw, Command, Reply};
use crate::model::{Card, SimConfig};
use crate::state::StateError;
use crate::touch::{TouchHandle, TouchMode};

/// Largest data a single short response carries.
const MAX_RESPONSE_DATA: usize = 256;
const INS_GET_RESPONSE: u8 = 0xC0;

/// A simulated YubiKey PIV card driven in-process.
pub struct SimCard {
    card: Card,
    /// Data of a chained command so far, with the header it arrived under.
    chain: Option<(u8, u8, u8, Vec<u8>)>,
    /// Response data not yet fetched with GET RESPONSE.
    pending: Vec<u8>,
}

impl SimCard {
    /// Creates a new card persisted in `state_dir` (which must not already hold one).
    pub fn create(state_dir: &Path, config: SimConfig) -> Result<SimCard, StateError> {
        Ok(Self::wrap(Card::create(&config, Some(state_dir))?))
    }

    /// Reopens the card in `state_dir` with automatic touch and a 15-second timeout.
    pub fn open(state_dir: &Path) -> Result<SimCard, StateError> {
        Self::open_with(state_dir, TouchMode::Auto, Duration::from_secs(15))
    }

    /// Reopens the card in `state_dir` with the given touch behaviour.
    pub fn open_with(
        state_dir: &Path,
        touch: TouchMode,
        touch_timeout: Duration,
    ) -> Result<SimCard, StateError> {
        Ok(Self::wrap(Card::open(state_dir, touch, touch_timeout)?))
    }

    /// A card that lives only in memory.
    pub fn in_memory(config: SimConfig) -> SimCard {
        // Without a folder nothing is written; what remains is issuing the device
        // certificate from a fresh key and fixed names, which the attestation tests cover.
        Self::wrap(Card::create(&config, None).expect("an in-memory card cannot fail to persist"))
    }

    fn wrap(card: Card) -> SimCard {
        SimCard {
            card,
            chain: None,
            pending: Vec::new(),
        }
    }

    /// The handle that touches this card in `signal` mode (cloneable, usable from any
    /// thread while `transmit` blocks).
    pub fn touch_handle(&self) -> TouchHandle {
        self.card.touch_handle()
    }

    /// The card's serial number.
    pub fn serial(&self) -> u32 {
        self.card.state().serial
    }

    /// The card's firmware version.
    pub fn firmware(&self) -> [u8; 3] {
        self.card.state().firmware
    }

    /// Forgets the session (PIN and management key verification), like unplugging.
    pub fn power_cycle(&mut self) {
        self.chain = None;
        self.pending.clear();
        self.card.power_cycle();
    }

    /// Sends one APDU and returns the response APDU (data then SW1 SW2).
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some(cmd) = Command::parse(apdu) else {
            return encode(&Reply::status(sw::WRONG_LENGTH));
        };
        if cmd.cla & !0x10 != 0x00 {
            return encode(&Reply::status(sw::CLA_NOT_SUPPORTED));
        }
        if cmd.ins == INS_GET_RESPONSE {
            if self.pending.is_empty() {
                return encode(&Reply::status(sw::CONDITIONS));
            }
            let rest = std::mem::take(&mut self.pending);
            return self.split(rest, sw::OK);
        }
        self.pending.clear();
        let header = (cmd.ins, cmd.p1, cmd.p2);
        let mut data = match self.chain.take() {
            // A chain continues only under the same header; anything else starts afresh.
            Some((ins, p1, p2, so_far)) if (ins, p1, p2) == header => so_far,
            _ => Vec::new(),
        };
        data.extend_from_slice(&cmd.data);
        if cmd.chained() {
            self.chain = Some((cmd.ins, cmd.p1, cmd.p2, data));
            return encode(&Reply::status(sw::OK));
        }
        let full = Command {
            cla: 0x00,
            data,
            ..cmd
        };
        let reply = self.card.execute(&full);
        self.split(reply.data, reply.sw)
    }

    fn split(&mut self, mut data: Vec<u8>, status: u16) -> Vec<u8> {
        if data.len() <= MAX_RESPONSE_DATA {
            return encode(&Reply { data, sw: status });
        }
        self.pending = data.split_off(MAX_RESPONSE_DATA);
        // 61xx: xx more bytes, 00 meaning 256 or more.
        let more = self.pending.len().min(0x100) as u16 & 0xFF;
        encode(&Reply {
            data,
            sw: 0x6100 | more,
        })
    }
}

/// Serializes a reply as data followed by SW1 SW2.
pub fn encode(reply: &Reply) -> Vec<u8> {
    let mut out = reply.data.clone();
    out.extend_from_slice(&reply.sw.to_be_bytes());
    out
}
