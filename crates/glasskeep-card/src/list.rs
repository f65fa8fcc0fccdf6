//! `token list`: what is plugged in, gathered here and rendered as text; the CLI only
//! prints [`render_token_list`]'s output (or serialises the reports for `--json`).

use std::fmt::Write as _;

use serde::Serialize;

use super::{Algorithm, KeyOrigin, PinPolicy, Slot, SlotMetadata, Token, TokenError, TouchPolicy};

/// One PC/SC reader and what sits in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReaderReport {
    /// The reader's name as pcscd gives it.
    pub reader: String,
    /// What the reader holds.
    pub state: ReaderState,
}

/// What a reader holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ReaderState {
    /// No card.
    Empty,
    /// A card that could not be used as a YubiKey PIV card.
    Unusable {
        /// Why, in words.
        reason: String,
    },
    /// A YubiKey PIV card.
    Card(CardReport),
}

/// A YubiKey and its keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CardReport {
    /// Serial number.
    pub serial: u32,
    /// Firmware, "5.7.4".
    pub firmware: String,
    /// Whether the slot list below comes from GET METADATA (firmware 5.3+); if not, it
    /// lists only slots that hold a certificate.
    pub metadata_supported: bool,
    /// Slots that hold a key (or, without metadata, a certificate).
    pub slots: Vec<SlotReport>,
}

/// One occupied slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlotReport {
    /// The slot, "9c" or "82".
    pub slot: String,
    /// "P-256", "P-384", "alg 07"; `None` when the firmware cannot tell.
    pub algorithm: Option<String>,
    /// "never", "once", "always".
    pub pin_policy: Option<String>,
    /// "never", "always", "cached".
    pub touch_policy: Option<String>,
    /// "generated" (on the card) or "imported".
    pub origin: Option<String>,
    /// Whether a certificate is stored for the slot.
    pub certificate: bool,
}

fn algorithm_name(a: Algorithm) -> String {
    match a {
        Algorithm::P256 => "P-256".into(),
        Algorithm::P384 => "P-384".into(),
        Algorithm::Other(id) => format!("alg {id:02x}"),
    }
}

pub(crate) fn pin_name(p: PinPolicy) -> &'static str {
    match p {
        PinPolicy::Never => "never",
        PinPolicy::Once => "once",
        PinPolicy::Always => "always",
    }
}

pub(crate) fn touch_name(t: TouchPolicy) -> &'static str {
    match t {
        TouchPolicy::Never => "never",
        TouchPolicy::Always => "always",
        TouchPolicy::Cached => "cached",
    }
}

fn slot_report(slot: Slot, meta: Option<&SlotMetadata>, certificate: bool) -> SlotReport {
    SlotReport {
        slot: slot.to_string(),
        algorithm: meta.map(|m| algorithm_name(m.algorithm)),
        pin_policy: meta.map(|m| pin_name(m.pin_policy).into()),
        touch_policy: meta.map(|m| touch_name(m.touch_policy).into()),
        origin: meta.map(|m| {
            match m.origin {
                KeyOrigin::Generated => "generated",
                KeyOrigin::Imported => "imported",
            }
            .into()
        }),
        certificate,
    }
}

/// Reads serial, firmware and every key slot of an opened card. Needs no PIN.
pub fn card_report(token: &mut dyn Token) -> Result<CardReport, TokenError> {
    let mut slots = Vec::new();
    let mut metadata_supported = true;
    for slot in Slot::key_slots() {
        let meta = match token.metadata(slot) {
            Ok(m) => m,
            Err(TokenError::Unsupported { .. }) => {
                metadata_supported = false;
                None
            }
            Err(e) => return Err(e),
        };
        let certificate = token.read_certificate(slot)?.is_some();
        if meta.is_some() || (!metadata_supported && certificate) {
            slots.push(slot_report(slot, meta.as_ref(), certificate));
        }
    }
    Ok(CardReport {
        serial: token.serial(),
        firmware: token.version().to_string(),
        metadata_supported,
        slots,
    })
}

/// The text `glasskeep token list` prints: one block per reader, one line per key.
pub fn render_token_list(readers: &[ReaderReport]) -> String {
    if readers.is_empty() {
        return "no smart-card reader found: plug in a YubiKey\n".into();
    }
    let mut out = String::new();
    for r in readers {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "reader {}", r.reader);
        match &r.state {
            ReaderState::Empty => out.push_str("  (no card)\n"),
            ReaderState::Unusable { reason } => {
                let _ = writeln!(out, "  unusable card: {reason}");
            }
            ReaderState::Card(c) => {
                let _ = writeln!(
                    out,
                    "  YubiKey serial {}, firmware {}",
                    c.serial, c.firmware
                );
                if c.slots.is_empty() {
                    out.push_str("  no keys\n");
                }
                for s in &c.slots {
                    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
                    let _ = writeln!(
                        out,
                        "  slot {}: {} pin={} touch={} {}{}",
                        s.slot,
                        opt(&s.algorithm),
                        opt(&s.pin_policy),
                        opt(&s.touch_policy),
                        opt(&s.origin),
                        if s.certificate { ", certificate" } else { "" }
                    );
                }
                if !c.metadata_supported {
                    out.push_str(
                        "  (firmware before 5.3: only slots with a certificate are listed)\n",
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_reader_state() {
        let readers = vec![
            ReaderReport {
                reader: "Virtual PCD 00 00".into(),
                state: ReaderState::Card(CardReport {
                    serial: 1001,
                    firmware: "5.7.4".into(),
                    metadata_supported: true,
                    slots: vec![SlotReport {
                        slot: "82".into(),
                        algorithm: Some("P-256".into()),
                        pin_policy: Some("once".into()),
                        touch_policy: Some("always".into()),
                        origin: Some("generated".into()),
                        certificate: true,
                    }],
                }),
            },
            ReaderReport {
                reader: "Virtual PCD 00 01".into(),
                state: ReaderState::Empty,
            },
            ReaderReport {
                reader: "Other".into(),
                state: ReaderState::Unusable {
                    reason: "not a PIV card".into(),
                },
            },
        ];
        assert_eq!(
            render_token_list(&readers),
            "reader Virtual PCD 00 00\n  YubiKey serial 1001, firmware 5.7.4\n  \
             slot 82: P-256 pin=once touch=always generated, certificate\n\
             reader Virtual PCD 00 01\n  (no card)\n\
             reader Other\n  unusable card: not a PIV card\n"
        );
        assert_eq!(
            render_token_list(&[]),
            "no smart-card reader found: plug in a YubiKey\n"
        );
    }
}
