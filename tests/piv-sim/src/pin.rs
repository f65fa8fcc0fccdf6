//! PIN and PUK: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER.

use crate::apdu::{sw, Command, Reply};
use crate::model::Card;

const PIN_REF: u8 = 0x80;
const PUK_REF: u8 = 0x81;

/// PIV pads PINs to 8 bytes with 0xFF; the stored PIN is unpadded.
fn unpad(block: &[u8]) -> &[u8] {
    let end = block.iter().position(|&b| b == 0xFF).unwrap_or(block.len());
    &block[..end]
}

/// Constant-time comparison: a simulator need not resist timing attacks, but it should
/// not teach the habit of comparing secrets with `==`.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn valid_new(value: &[u8]) -> bool {
    (6..=8).contains(&value.len())
}

fn retries_sw(left: u8) -> u16 {
    if left == 0 {
        sw::AUTH_BLOCKED
    } else {
        sw::VERIFY_FAIL | u16::from(left)
    }
}

impl Card {
    fn check_reference(&mut self, reference: u8, given: &[u8]) -> Result<(), Reply> {
        let (stored, left) = match reference {
            PIN_REF => (&self.state.pin, self.state.pin_retries),
            _ => (&self.state.puk, self.state.puk_retries),
        };
        if left == 0 {
            return Err(Reply::status(sw::AUTH_BLOCKED));
        }
        let stored = hex::decode(stored).map_err(|_| Reply::status(0x6581))?;
        let ok = same(&stored, unpad(given));
        let (counter, max) = match reference {
            PIN_REF => (&mut self.state.pin_retries, self.state.pin_max_retries),
            _ => (&mut self.state.puk_retries, self.state.puk_max_retries),
        };
        *counter = if ok { max } else { left - 1 };
        let now = *counter;
        self.persist()?;
        if ok {
            Ok(())
        } else {
            if reference == PIN_REF {
                self.session.pin_verified = false;
                self.session.pin_fresh = false;
            }
            Err(Reply::status(retries_sw(now)))
        }
    }

    pub(crate) fn verify(&mut self, cmd: &Command) -> Reply {
        if cmd.p2 != PIN_REF {
            return Reply::status(sw::REF_NOT_FOUND);
        }
        if cmd.p1 == 0xFF {
            // Clear the verification state (SP 800-73-4 3.2.1, P1 = FF).
            self.session.pin_verified = false;
            self.session.pin_fresh = false;
            return Reply::status(sw::OK);
        }
        if cmd.p1 != 0x00 {
            return Reply::status(sw::INCORRECT_P1P2);
        }
        if cmd.data.is_empty() {
            return if self.session.pin_verified {
                Reply::status(sw::OK)
            } else {
                Reply::status(retries_sw(self.state.pin_retries))
            };
        }
        if cmd.data.len() != 8 {
            return Reply::status(sw::INCORRECT_DATA);
        }
        match self.check_reference(PIN_REF, &cmd.data) {
            Ok(()) => {
                self.session.pin_verified = true;
                self.session.pin_fresh = true;
                Reply::status(sw::OK)
            }
            Err(r) => r,
        }
    }

    pub(crate) fn change_reference(&mut self, cmd: &Command) -> Reply {
        if cmd.p2 != PIN_REF && cmd.p2 != PUK_REF {
            return Reply::status(sw::REF_NOT_FOUND);
        }
        if cmd.data.len() != 16 {
            return Reply::status(sw::INCORRECT_DATA);
        }
        let new = unpad(&cmd.data[8..]).to_vec();
        if !valid_new(&new) {
            return Reply::status(sw::INCORRECT_DATA);
        }
        if let Err(r) = self.check_reference(cmd.p2, &cmd.data[..8]) {
            return r;
        }
        if cmd.p2 == PIN_REF {
            self.state.pin = hex::encode(&new);
            self.state.pin_default = false;
        } else {
            self.state.puk = hex::encode(&new);
            self.state.puk_default = false;
        }
        match self.persist() {
            Ok(()) => Reply::status(sw::OK),
            Err(r) => r,
        }
    }

    pub(crate) fn reset_retry(&mut self, cmd: &Command) -> Reply {
        if cmd.p2 != PIN_REF {
            return Reply::status(sw::REF_NOT_FOUND);
        }
        if cmd.data.len() != 16 {
            return Reply::status(sw::INCORRECT_DATA);
        }
        let new = unpad(&cmd.data[8..]).to_vec();
        if !valid_new(&new) {
            return Reply::status(sw::INCORRECT_DATA);
        }
        if let Err(r) = self.check_reference(PUK_REF, &cmd.data[..8]) {
            return r;
        }
        self.state.pin = hex::encode(&new);
        self.state.pin_retries = self.state.pin_max_retries;
        self.state.pin_default = false;
        match self.persist() {
            Ok(()) => Reply::status(sw::OK),
            Err(r) => r,
        }
    }
}
