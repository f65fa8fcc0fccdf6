//! PIV vocabulary, in one place: slots, key algorithms, PIN and touch policies and their
//! byte codes, firmware versions, and the rule each glasskeep key role's policies follow.
//! Pure data: the card itself is reached only through `glasskeep-card`.

pub mod tlv;

use std::fmt;

/// A PIV key slot.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot(u8);

impl Slot {
    /// 9a, PIV authentication.
    pub const AUTHENTICATION: Slot = Slot(0x9a);
    /// 9c, digital signature: glasskeep's *sign* key (PIN always, touch always).
    pub const SIGNATURE: Slot = Slot(0x9c);
    /// 9d, key management.
    pub const KEY_MANAGEMENT: Slot = Slot(0x9d);
    /// 9e, card authentication.
    pub const CARD_AUTHENTICATION: Slot = Slot(0x9e);
    /// 82, the first retired slot: glasskeep's default *seal* key.
    pub const RETIRED1: Slot = Slot(0x82);
    /// f9, the device attestation key and certificate.
    pub const ATTESTATION: Slot = Slot(0xf9);

    /// A slot id, if it is one a PIV card has.
    pub fn new(id: u8) -> Option<Slot> {
        match id {
            0x9a | 0x9c | 0x9d | 0x9e | 0x82..=0x95 | 0xf9 => Some(Slot(id)),
            _ => None,
        }
    }

    /// A retired key-management slot (82..=95), where age-plugin-yubikey keeps keys.
    pub fn retired(id: u8) -> Option<Slot> {
        (0x82..=0x95).contains(&id).then_some(Slot(id))
    }

    /// The slot id byte.
    pub fn id(self) -> u8 {
        self.0
    }

    /// Every slot that can hold a private key: 9a, 9c, 9d, 9e, then 82..=95.
    pub fn key_slots() -> impl Iterator<Item = Slot> {
        [0x9a, 0x9c, 0x9d, 0x9e]
            .into_iter()
            .chain(0x82..=0x95)
            .map(Slot)
    }

    /// The PIV data object holding this slot's certificate (SP 800-73-4 part 1,
    /// table 3; Yubico's retired slots 5fc10d..5fc120, attestation 5fff01).
    pub fn object_id(self) -> u32 {
        match self.0 {
            0x9a => 0x5f_c105,
            0x9c => 0x5f_c10a,
            0x9d => 0x5f_c10b,
            0x9e => 0x5f_c101,
            0xf9 => 0x5f_ff01,
            r => 0x5f_c10d + u32::from(r - 0x82),
        }
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Slot({:02x})", self.0)
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}", self.0)
    }
}

/// Key algorithms glasskeep generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
    /// A key type glasskeep does not use (RSA, Ed25519, X25519), by its PIV algorithm
    /// id; reported by `token list`, never generated.
    Other(u8),
}

/// When the card asks for the PIN before using a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinPolicy {
    /// Never.
    Never,
    /// Once per session.
    Once,
    /// Before every operation.
    Always,
}

/// When the card asks for a physical touch before using a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TouchPolicy {
    /// Never.
    Never,
    /// Before every operation.
    Always,
    /// At most every 15 seconds.
    Cached,
}

/// Firmware version of a card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Patch.
    pub patch: u8,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The PIV byte code of a PIN policy, as Yubico writes it in attestations, metadata
/// and GENERATE (and as the log records it, so the log reads like the attestation).
pub fn pin_policy_code(p: PinPolicy) -> u8 {
    match p {
        PinPolicy::Never => 1,
        PinPolicy::Once => 2,
        PinPolicy::Always => 3,
    }
}

/// The PIN policy for a PIV byte code; `None` for codes glasskeep does not know (0 is
/// "default", which a card never reports for a generated key).
pub fn pin_policy_from_code(b: u8) -> Option<PinPolicy> {
    match b {
        1 => Some(PinPolicy::Never),
        2 => Some(PinPolicy::Once),
        3 => Some(PinPolicy::Always),
        _ => None,
    }
}

/// The PIV byte code of a touch policy.
pub fn touch_policy_code(t: TouchPolicy) -> u8 {
    match t {
        TouchPolicy::Never => 1,
        TouchPolicy::Always => 2,
        TouchPolicy::Cached => 3,
    }
}

/// The touch policy for a PIV byte code.
pub fn touch_policy_from_code(b: u8) -> Option<TouchPolicy> {
    match b {
        1 => Some(TouchPolicy::Never),
        2 => Some(TouchPolicy::Always),
        3 => Some(TouchPolicy::Cached),
        _ => None,
    }
}

/// The two keys glasskeep keeps on each custodian's YubiKey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyRole {
    /// The seal key (ECDH, retired slot): PIN once or always, touch always.
    Seal,
    /// The sign key (ECDSA, slot 9c): PIN always, touch always.
    Sign,
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyRole::Seal => "seal",
            KeyRole::Sign => "sign",
        })
    }
}

impl KeyRole {
    /// The policies generated for this role at enrollment (the strongest the rule
    /// allows that age-plugin-yubikey still opens: PIN once for the seal key).
    pub fn generated_policy(self) -> (PinPolicy, TouchPolicy) {
        match self {
            KeyRole::Seal => (PinPolicy::Once, TouchPolicy::Always),
            KeyRole::Sign => (PinPolicy::Always, TouchPolicy::Always),
        }
    }

    /// The one rule for a role's policies, used by enrollment (on the attestation), by
    /// replay and by `log verify` (on the recorded policies): touch always for both keys,
    /// since presence is the point of a break-glass custody; PIN once or always for the
    /// seal key, always for the sign key (each checkpoint signature is a deliberate act).
    pub fn policy_allowed(self, pin: PinPolicy, touch: TouchPolicy) -> bool {
        let pin_ok = match self {
            KeyRole::Seal => matches!(pin, PinPolicy::Once | PinPolicy::Always),
            KeyRole::Sign => pin == PinPolicy::Always,
        };
        pin_ok && touch == TouchPolicy::Always
    }

    /// The rule in words, for error messages.
    pub fn policy_required(self) -> &'static str {
        match self {
            KeyRole::Seal => "PIN once or always, touch always",
            KeyRole::Sign => "PIN always, touch always",
        }
    }
}

/// Where a slot's key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Generated on the card (never left it).
    Generated,
    /// Imported from outside.
    Imported,
}

/// What GET METADATA tells about a slot's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotMetadata {
    /// The key algorithm.
    pub algorithm: Algorithm,
    /// The PIN policy.
    pub pin_policy: PinPolicy,
    /// The touch policy.
    pub touch_policy: TouchPolicy,
    /// Generated or imported.
    pub origin: KeyOrigin,
    /// The public key, SEC1 uncompressed (65 bytes for P-256).
    pub public_key: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_objects_follow_the_piv_table() {
        assert_eq!(Slot::SIGNATURE.object_id(), 0x5f_c10a);
        assert_eq!(Slot::RETIRED1.object_id(), 0x5f_c10d);
        assert_eq!(Slot::retired(0x95).unwrap().object_id(), 0x5f_c120);
        assert_eq!(Slot::ATTESTATION.object_id(), 0x5f_ff01);
        assert_eq!(Slot::key_slots().count(), 24);
        assert_eq!(Slot::new(0x81), None);
        assert_eq!(Slot::retired(0x9c), None);
    }

    #[test]
    fn policy_codes_round_trip_and_refuse_unknown_bytes() {
        for p in [PinPolicy::Never, PinPolicy::Once, PinPolicy::Always] {
            assert_eq!(pin_policy_from_code(pin_policy_code(p)), Some(p));
        }
        for t in [TouchPolicy::Never, TouchPolicy::Always, TouchPolicy::Cached] {
            assert_eq!(touch_policy_from_code(touch_policy_code(t)), Some(t));
        }
        for b in [0u8, 4, 0x80, 0xff] {
            assert_eq!(pin_policy_from_code(b), None);
            assert_eq!(touch_policy_from_code(b), None);
        }
    }

    #[test]
    fn one_policy_rule_per_role() {
        use PinPolicy as P;
        use TouchPolicy as T;
        let seal_ok = [(P::Once, T::Always), (P::Always, T::Always)];
        let sign_ok = [(P::Always, T::Always)];
        for pin in [P::Never, P::Once, P::Always] {
            for touch in [T::Never, T::Always, T::Cached] {
                assert_eq!(
                    KeyRole::Seal.policy_allowed(pin, touch),
                    seal_ok.contains(&(pin, touch)),
                    "seal {pin:?} {touch:?}"
                );
                assert_eq!(
                    KeyRole::Sign.policy_allowed(pin, touch),
                    sign_ok.contains(&(pin, touch)),
                    "sign {pin:?} {touch:?}"
                );
            }
        }
        for role in [KeyRole::Seal, KeyRole::Sign] {
            let (pin, touch) = role.generated_policy();
            assert!(role.policy_allowed(pin, touch));
        }
    }
}
