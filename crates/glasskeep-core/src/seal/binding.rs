//! Links between sealed shares and enrolled custodians: which custodian's YubiKey a
//! share needs, and the identity and stub for a custodian's recorded seal key.

use super::identity::{IdentityError, IdentityStub, PivP256Identity};
use super::recipient::{PivP256Recipient, RecipientError};
use super::KeyAgreement;
use super::{stanza_target, TargetError};
use crate::custodian::CustodianRecord;

impl PivP256Recipient {
    /// The recipient of a custodian's recorded seal key.
    pub fn for_custodian(record: &CustodianRecord) -> Result<Self, RecipientError> {
        Self::from_compressed(&record.seal_public_key)
    }
}

impl IdentityStub {
    /// The stub age-plugin-yubikey needs for a custodian's seal key (printed by
    /// `custodian show` and in the recovery instructions).
    pub fn for_custodian(record: &CustodianRecord) -> Result<Self, RecipientError> {
        Ok(IdentityStub {
            serial: record.serial,
            slot: record.seal_slot,
            tag: PivP256Recipient::for_custodian(record)?.tag(),
        })
    }
}

impl<'t> PivP256Identity<'t> {
    /// The custodian's seal key on `token`, trusting the key recorded at enrollment (in
    /// the signed log) rather than what the card reports now. Refuses another card.
    pub fn for_custodian(
        token: &'t mut dyn KeyAgreement,
        record: &CustodianRecord,
    ) -> Result<Self, IdentityError> {
        if token.serial() != record.serial {
            return Err(IdentityError::WrongCard {
                expected: record.serial,
                who: record.name.clone(),
                found: token.serial(),
            });
        }
        let recipient =
            PivP256Recipient::for_custodian(record).map_err(|source| IdentityError::PublicKey {
                serial: record.serial,
                slot: record.seal_slot,
                source,
            })?;
        Self::new(token, record.seal_slot, recipient)
    }
}

/// The custodian whose seal key `age_file` is sealed to, found by the stanza tag without
/// touching a card; `Ok(None)` if it is none of `custodians`. Tags are 4 bytes, so two
/// custodians' keys can share one (odds about n²/2³³); the first match is returned and,
/// if it is the wrong one, unsealing fails with `KeyUnwrapFailed`.
pub fn custodian_for<'c>(
    age_file: &[u8],
    custodians: &'c [CustodianRecord],
) -> Result<Option<&'c CustodianRecord>, TargetError> {
    let tag = stanza_target(age_file)?;
    Ok(custodians.iter().find(|c| {
        PivP256Recipient::for_custodian(c)
            .is_ok_and(|r| bool::from(subtle::ConstantTimeEq::ct_eq(&r.tag(), &tag)))
    }))
}
