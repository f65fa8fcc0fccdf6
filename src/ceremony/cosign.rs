//! The custodians present in a ceremony, one at a time: each custodian's card is waited
//! for (any reader), opened once, their PIN asked until it is right (never spending the
//! last try the card has reported unasked), and every card operation of their turn
//! retried after a missed touch or a pulled key, so that nobody redoes what they, or
//! anyone before them, already did.
//!
//! Card round trips are kept to what the keys' policies force: the PIN is verified once
//! when the custodian joins (which serves a seal key of PIN policy "once" for the whole
//! turn) and again only right before a key of policy "always" is used; the policies
//! come from the custodian's attested enrollment record, not from the card.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::custodian::CustodianRecord;
use crate::piv::{PinPolicy, Slot};
use crate::secret::Pin;
use glasskeep_card::{Token, TokenError};

use super::{Cards, CeremonyError, Operator};

/// How often the readers are looked at while waiting for a YubiKey.
const POLL: Duration = Duration::from_millis(250);

/// How many times one card operation is tried again (touch missed, key pulled) before
/// the ceremony gives up.
const MAX_ATTEMPTS: u32 = 5;

/// What a ceremony's card work needs besides the card: the way to the people and to
/// the readers, how long to wait for a key, and whose key each enrolled serial is.
pub struct Turns<'a> {
    pub(crate) cards: &'a mut dyn Cards,
    pub(crate) op: &'a mut dyn Operator,
    pub(crate) wait: Duration,
    pub(crate) owners: BTreeMap<u32, String>,
}

impl Turns<'_> {
    /// The people at the safe.
    pub fn op(&mut self) -> &mut dyn Operator {
        &mut *self.op
    }

    /// Says who owns the serials in `found`, for "in the reader now: 1002 (bob)".
    fn describe(&self, found: &[u32]) -> String {
        if found.is_empty() {
            return "no YubiKey".into();
        }
        found
            .iter()
            .map(|s| match self.owners.get(s) {
                Some(n) => format!("YubiKey {s} ({n}'s)"),
                None => format!("YubiKey {s} (not enrolled here)"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Waits until `name`'s YubiKey (this serial) is in some reader, then opens it.
    /// Says which key is wanted and, whenever it changes, which keys are in. Gives up
    /// after the wait limit with the last thing seen.
    pub(crate) fn wait_for(
        &mut self,
        name: &str,
        serial: u32,
    ) -> Result<Box<dyn Token>, CeremonyError> {
        let deadline = Instant::now() + self.wait;
        let mut seen: Option<Option<super::Readers>> = None;
        let mut said: Option<String> = None;
        loop {
            // Only (re)try opening when the readers changed: no APDUs to other
            // custodians' keys while waiting.
            let now_seen = self
                .cards
                .presence()
                .map_err(|source| CeremonyError::Card {
                    custodian: name.to_owned(),
                    serial,
                    source,
                })?;
            let changed = match (&seen, &now_seen) {
                (Some(Some(a)), Some(b)) => a != b,
                _ => true,
            };
            if changed {
                seen = Some(now_seen);
                let err = match self.cards.open_for(serial, name) {
                    Ok(t) => return Ok(t),
                    Err(e) => e,
                };
                let status = match &err {
                    TokenError::NoCard | TokenError::NoReader => format!(
                        "{name}: insert YubiKey {serial} into any reader (waiting; no YubiKey is in now)"
                    ),
                    TokenError::WrongCard { found, .. } => format!(
                        "{name}: insert YubiKey {serial} (waiting; in now: {})",
                        self.describe(found)
                    ),
                    _ => {
                        return Err(CeremonyError::Card {
                            custodian: name.to_owned(),
                            serial,
                            source: err,
                        })
                    }
                };
                if said.as_deref() != Some(status.as_str()) {
                    self.op.notice(&status);
                    said = Some(status);
                }
            }
            if Instant::now() >= deadline {
                return Err(CeremonyError::NoKey {
                    custodian: name.to_owned(),
                    serial,
                    waited: self.wait.as_secs(),
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

/// One present custodian: their card, opened, and their PIN, held in locked memory for
/// the ceremony so it is typed once even when the card is used twice (unseal + sign).
pub struct Present {
    pub(crate) name: String,
    pub(crate) serial: u32,
    pub(crate) record: CustodianRecord,
    /// `None` only while a pulled key is waited for: the old handle is closed first,
    /// since closing it resets the card, which would spoil a new handle.
    token: Option<Box<dyn Token>>,
    pin: Pin,
    /// The card took the PIN on this handle (enough for keys of PIN policy "once").
    pin_verified: bool,
}

/// Why a card operation failed, as far as retrying goes.
enum Failure {
    /// Nobody touched the key in time.
    Touch,
    /// The card wanted the PIN (a session lost since it was verified).
    Pin,
    /// The key was pulled, or the reader or card reset.
    Gone,
    /// Anything else: no retry.
    Other,
}

fn failure(e: &CeremonyError) -> Failure {
    let token = match e {
        CeremonyError::Card { source, .. } => Some(source),
        CeremonyError::Unseal {
            source: crate::seal::UnsealError::Card(c),
            ..
        } => glasskeep_card::token_error(c),
        _ => None,
    };
    match token {
        Some(TokenError::TouchTimeout) => Failure::Touch,
        Some(TokenError::PinNotVerified) => Failure::Pin,
        Some(
            TokenError::NoCard
            | TokenError::NoReader
            | TokenError::Pcsc(_)
            | TokenError::Failed { .. },
        ) => Failure::Gone,
        _ => Failure::Other,
    }
}

impl Present {
    /// Verifies the PIN right before a key operation: the sign key's PIN policy is
    /// "always", so the card wants a VERIFY immediately before each signature.
    pub(crate) fn unlock(&mut self) -> Result<(), CeremonyError> {
        let r = match self.token.as_mut() {
            Some(t) => t.verify_pin(&self.pin),
            None => Err(TokenError::NoCard),
        };
        self.pin_verified = r.is_ok();
        r.map_err(|source| self.card_err(source))
    }

    /// Whether a key of PIN policy `pin` needs a VERIFY before its next use.
    fn needs_pin(&self, pin: PinPolicy) -> bool {
        match pin {
            PinPolicy::Never => false,
            PinPolicy::Once => !self.pin_verified,
            PinPolicy::Always => true,
        }
    }

    /// The custodian's open card.
    pub(crate) fn token(&mut self) -> Result<&mut Box<dyn Token>, CeremonyError> {
        match self.token.as_mut() {
            Some(t) => Ok(t),
            None => Err(CeremonyError::Card {
                custodian: self.name.clone(),
                serial: self.serial,
                source: TokenError::NoCard,
            }),
        }
    }

    pub(crate) fn card_err(&self, source: TokenError) -> CeremonyError {
        CeremonyError::Card {
            custodian: self.name.clone(),
            serial: self.serial,
            source,
        }
    }

    /// Runs one operation with a key of PIN policy `pin` that may need a touch: the PIN
    /// verified right before it when the policy wants it (always; once, if not yet on
    /// this handle), "touch now" said, and on a missed touch ("touch again?") or a
    /// pulled key ("insert it again") tried again with the PIN already typed.
    pub(crate) fn key_operation<T>(
        &mut self,
        turns: &mut Turns<'_>,
        touch: &str,
        pin: PinPolicy,
        mut f: impl FnMut(&mut Present) -> Result<T, CeremonyError>,
    ) -> Result<T, CeremonyError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let verify = self.needs_pin(pin);
            let r = if verify { self.unlock() } else { Ok(()) }.and_then(|()| {
                turns.op.notice(touch);
                f(self)
            });
            let e = match r {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if attempts >= MAX_ATTEMPTS {
                return Err(e);
            }
            match failure(&e) {
                Failure::Touch if turns.op.interactive() => {
                    let again = turns.op.ask(
                        &format!(
                            "{}: YubiKey {} was not touched in time. Touch again? [Y/n] ",
                            self.name, self.serial
                        ),
                        true,
                    )?;
                    if !again {
                        return Err(e);
                    }
                }
                // The card lost the session the PIN was verified in (another program
                // reset it): verify again, with the PIN already typed.
                Failure::Pin if !verify => self.pin_verified = false,
                Failure::Gone => {
                    turns.op.notice(&format!(
                        "{}: YubiKey {} stopped answering (pulled out?): insert it again; your PIN is kept",
                        self.name, self.serial
                    ));
                    if let Some(t) = self.token.take() {
                        t.abandon();
                    }
                    self.pin_verified = false;
                    let mut token = turns.wait_for(&self.name, self.serial)?;
                    assume_policies(&mut *token, &self.record);
                    self.token = Some(token);
                }
                _ => return Err(e),
            }
        }
    }

    /// Signs a checkpoint digest with the sign key (slot 9c: PIN always, touch always),
    /// returning the card's DER signature.
    pub(crate) fn sign(
        &mut self,
        turns: &mut Turns<'_>,
        digest: &[u8; 32],
    ) -> Result<Vec<u8>, CeremonyError> {
        let touch = if self.record.sign_touch_policy == crate::piv::TouchPolicy::Never {
            format!("{}: signing the log checkpoint", self.name)
        } else {
            format!(
                "{}: touch YubiKey {} now to sign the log checkpoint",
                self.name, self.serial
            )
        };
        let pin = self.record.sign_pin_policy;
        self.key_operation(turns, &touch, pin, |p| {
            let r = p.token()?.sign(Slot::SIGNATURE, digest);
            r.map_err(|source| p.card_err(source))
        })
    }
}

/// The custodians present, by name (ascending, as checkpoints list them).
#[derive(Default)]
pub(crate) struct Room {
    pub(crate) present: BTreeMap<String, Present>,
}

impl Room {
    /// Brings `name` into the room: waits for their enrolled card and asks their PIN
    /// until the card takes it, so a wrong PIN is caught before any work is done.
    pub(crate) fn join(
        &mut self,
        record: &CustodianRecord,
        turns: &mut Turns<'_>,
    ) -> Result<&mut Present, CeremonyError> {
        let name = record.name.as_str();
        if !self.present.contains_key(name) {
            let serial = record.serial;
            let mut opened = turns.wait_for(name, serial)?;
            assume_policies(&mut *opened, record);
            let mut token = Some(opened);
            turns.op.notice(&format!("{name}: YubiKey {serial} is in"));
            let pin = ask_pin(turns, &mut token, name, serial)?;
            let p = Present {
                name: name.to_owned(),
                serial,
                record: record.clone(),
                token,
                pin,
                pin_verified: true,
            };
            self.present.insert(name.to_owned(), p);
        }
        // The entry exists: it was found or inserted just above.
        Ok(self.present.get_mut(name).expect("custodian just joined"))
    }

    /// Brings in a custodian whose card is already open and whose PIN was checked (one
    /// being enrolled, who is not in the log yet).
    pub(crate) fn admit(&mut self, present: Present) {
        self.present.insert(present.name.clone(), present);
    }

    /// Every enrolled custodian whose card is inserted now, by name.
    pub(crate) fn detect(
        state: &crate::log::State,
        cards: &mut dyn Cards,
    ) -> Result<Vec<String>, CeremonyError> {
        let present = cards.present().map_err(CeremonyError::Cards)?;
        let mut names: Vec<String> = present
            .iter()
            .filter_map(|c| {
                state
                    .custodian_by_serial(c.serial)
                    .filter(|x| x.is_live())
                    .map(|x| x.record.name.clone())
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// The key policies `record` holds (attested at enrollment, in the signed log), so the
/// card is not asked for them before each use.
fn assume_policies(token: &mut dyn Token, record: &CustodianRecord) {
    token.assume_policy(
        record.seal_slot,
        record.seal_pin_policy,
        record.seal_touch_policy,
    );
    token.assume_policy(
        Slot::SIGNATURE,
        record.sign_pin_policy,
        record.sign_touch_policy,
    );
}

/// Asks `name`'s PIN until the card takes it: each wrong PIN says how many tries are
/// left, from the card's answer to it; the last try is only spent after an explicit
/// yes; a blocked PIN ends the ceremony with what to do. When nobody can answer (PINs
/// from a file), the first wrong PIN ends it. A key pulled meanwhile is waited for
/// again.
///
/// When people type the PINs, the counter is read before the first one (an empty
/// VERIFY, which spends nothing): a card already down to its last try must not have it
/// spent by a slip unasked. Scripted runs (PINs from a file, where a wrong PIN ends the
/// ceremony at once) skip that round trip; the card's refusal carries the tries left.
pub(crate) fn ask_pin(
    turns: &mut Turns<'_>,
    token: &mut Option<Box<dyn Token>>,
    name: &str,
    serial: u32,
) -> Result<Pin, CeremonyError> {
    let card_err = |source| CeremonyError::Card {
        custodian: name.to_owned(),
        serial,
        source,
    };
    if token.is_none() {
        *token = Some(turns.wait_for(name, serial)?);
    }
    // The prompt names the tries left only below 3.
    let mut left = if turns.op.interactive() {
        match token.as_mut().map(|t| t.pin_retries()) {
            Some(Ok(n)) => n,
            Some(Err(TokenError::PinBlocked)) => return Err(card_err(TokenError::PinBlocked)),
            // Not every card reports it without a PIN; the first VERIFY will tell.
            _ => 3,
        }
    } else {
        3
    };
    let mut pending: Option<Pin> = None;
    let mut attempts = 0;
    loop {
        if left == 0 {
            return Err(card_err(TokenError::PinBlocked));
        }
        let pin = match pending.take() {
            Some(p) => p,
            None => {
                if left == 1 {
                    turns.op.notice(&format!(
                        "{name}: YubiKey {serial} has 1 PIN try left: a wrong PIN now blocks it (the PUK unblocks it)"
                    ));
                    let sure = turns.op.interactive()
                        && turns.op.ask(
                            &format!("{name}: type yes to use the last PIN try: "),
                            false,
                        )?;
                    if !sure {
                        return Err(CeremonyError::LastPinTry {
                            custodian: name.to_owned(),
                            serial,
                        });
                    }
                }
                turns.op.pin(name, serial, left)?
            }
        };
        let verified = match token.as_mut() {
            Some(t) => t.verify_pin(&pin),
            None => Err(TokenError::NoCard),
        };
        match verified {
            Ok(()) => return Ok(pin),
            Err(TokenError::WrongPin { retries_left }) => {
                turns.op.notice(&format!(
                    "{name}: wrong PIN for YubiKey {serial}: {retries_left} tr{} left",
                    if retries_left == 1 { "y" } else { "ies" }
                ));
                if !turns.op.interactive() {
                    return Err(card_err(TokenError::WrongPin { retries_left }));
                }
                left = retries_left;
            }
            Err(TokenError::NoCard | TokenError::NoReader | TokenError::Pcsc(_))
                if attempts < MAX_ATTEMPTS =>
            {
                attempts += 1;
                turns.op.notice(&format!(
                    "{name}: YubiKey {serial} stopped answering (pulled out?): insert it again"
                ));
                if let Some(t) = token.take() {
                    t.abandon();
                }
                *token = Some(turns.wait_for(name, serial)?);
                pending = Some(pin);
            }
            Err(e) => return Err(card_err(e)),
        }
    }
}

impl Present {
    /// A custodian being enrolled: their card is open and their PIN verified.
    pub(crate) fn new(record: CustodianRecord, token: Box<dyn Token>, pin: Pin) -> Self {
        let mut token = token;
        assume_policies(&mut *token, &record);
        Present {
            name: record.name.clone(),
            serial: record.serial,
            record,
            token: Some(token),
            pin,
            // Enrollment's own card work ran since the PIN was checked: verify again
            // before the first key operation rather than trust the session.
            pin_verified: false,
        }
    }
}
