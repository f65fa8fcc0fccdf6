//! The card's own secrets — PIN, PUK, management key — as GET METADATA reports them,
//! and the PIN-protected management key as ykman stores it. Shared by the YubiKey
//! driver and the in-process simulator front so both read the same bytes the same way.

use std::fmt;

use zeroize::Zeroizing;

use super::{tlv, TokenError};

/// One of the three secrets a PIV card keeps besides its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Credential {
    /// The PIN (key reference 80).
    Pin,
    /// The PUK (key reference 81).
    Puk,
    /// The management key (key reference 9B).
    ManagementKey,
}

impl Credential {
    /// The PIV key reference GET METADATA takes as P2.
    pub fn reference(self) -> u8 {
        match self {
            Credential::Pin => 0x80,
            Credential::Puk => 0x81,
            Credential::ManagementKey => 0x9B,
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::Pin => "PIN",
            Credential::Puk => "PUK",
            Credential::ManagementKey => "management key",
        })
    }
}

/// The algorithm of a management key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ManagementKeyAlgorithm {
    /// Triple DES (the factory algorithm before firmware 5.7).
    TripleDes,
    /// AES-128.
    Aes128,
    /// AES-192 (the factory algorithm from firmware 5.7).
    Aes192,
    /// AES-256.
    Aes256,
}

impl ManagementKeyAlgorithm {
    /// The algorithm for a PIV algorithm id (03, 08, 0A, 0C).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x03 => Some(Self::TripleDes),
            0x08 => Some(Self::Aes128),
            0x0A => Some(Self::Aes192),
            0x0C => Some(Self::Aes256),
            _ => None,
        }
    }

    /// The PIV algorithm id.
    pub fn code(self) -> u8 {
        match self {
            Self::TripleDes => 0x03,
            Self::Aes128 => 0x08,
            Self::Aes192 => 0x0A,
            Self::Aes256 => 0x0C,
        }
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::TripleDes | Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }
}

impl fmt::Display for ManagementKeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TripleDes => "3DES",
            Self::Aes128 => "AES-128",
            Self::Aes192 => "AES-192",
            Self::Aes256 => "AES-256",
        })
    }
}

/// Tries allowed and left, for the PIN or PUK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retries {
    /// The retry limit.
    pub total: u8,
    /// Tries left before the PIN or PUK blocks.
    pub remaining: u8,
}

/// What GET METADATA says about the PIN, PUK or management key (firmware 5.3+). Reading
/// it spends no try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialMetadata {
    /// Still the factory value.
    pub is_default: bool,
    /// PIN and PUK only.
    pub retries: Option<Retries>,
    /// Management key only.
    pub algorithm: Option<ManagementKeyAlgorithm>,
}

/// Parses a GET METADATA answer for `credential`. Only the in-process front needs it:
/// the YubiKey driver gets the same fields parsed by the `yubikey` crate.
#[cfg(any(test, feature = "sim"))]
pub(crate) fn parse_metadata(
    credential: Credential,
    data: &[u8],
) -> Result<CredentialMetadata, TokenError> {
    let bad = |reason: &str| TokenError::Malformed {
        operation: "GET METADATA",
        reason: format!("{credential}: {reason}"),
    };
    let is_default = match tlv::find(data, 0x05) {
        Some([0]) => false,
        Some([1]) => true,
        _ => return Err(bad("no default-value flag")),
    };
    let (retries, algorithm) = match credential {
        Credential::Pin | Credential::Puk => match tlv::find(data, 0x06) {
            Some([total, remaining]) => (
                Some(Retries {
                    total: *total,
                    remaining: *remaining,
                }),
                None,
            ),
            _ => return Err(bad("no retry counter")),
        },
        Credential::ManagementKey => match tlv::find(data, 0x01) {
            Some([code]) => (
                None,
                Some(
                    ManagementKeyAlgorithm::from_code(*code)
                        .ok_or_else(|| bad("unknown algorithm"))?,
                ),
            ),
            _ => return Err(bad("no algorithm")),
        },
    };
    Ok(CredentialMetadata {
        is_default,
        retries,
        algorithm,
    })
}

/// The algorithm to use `key` with: the card's, when GET METADATA told it (the length
/// must then fit), else 3DES, the only algorithm of cards without GET METADATA.
pub(crate) fn key_algorithm(
    card: Option<ManagementKeyAlgorithm>,
    key: &[u8],
) -> Result<ManagementKeyAlgorithm, TokenError> {
    let algorithm = card.unwrap_or(ManagementKeyAlgorithm::TripleDes);
    if key.len() != algorithm.key_len() {
        return Err(TokenError::ManagementKeyLength {
            algorithm,
            found: key.len(),
        });
    }
    Ok(algorithm)
}

/// ADMIN DATA (5FFF00), where ykman and yubico-piv-tool keep their flags.
pub(crate) const OBJ_ADMIN_DATA: u32 = 0x005F_FF00;
/// PRINTED (5FC109), readable only after VERIFY PIN; holds the protected key.
pub(crate) const OBJ_PRINTED: u32 = 0x005F_C109;
/// ADMIN DATA flag (tag 81): the management key is stored in PRINTED. (0x01, the
/// other flag ykman writes, means the PUK is blocked.)
const FLAG_MGM_PROTECTED: u8 = 0x02;

/// Whether ADMIN DATA (`80 { 81 <flags> ... }`) says the management key is stored
/// PIN-protected. Unparsable contents count as "no": nothing then claims a stored key.
pub(crate) fn admin_says_protected(admin: &[u8]) -> bool {
    tlv::find(admin, 0x80)
        .and_then(|inner| tlv::find(inner, 0x81))
        .and_then(|flags| flags.first())
        .is_some_and(|f| f & FLAG_MGM_PROTECTED != 0)
}

/// The key inside PRINTED (`88 { 89 <key> }`), copied into a wiped buffer.
pub(crate) fn protected_key(printed: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
    tlv::find(printed, 0x88)
        .and_then(|inner| tlv::find(inner, 0x89))
        .filter(|k| !k.is_empty())
        .map(|k| Zeroizing::new(k.to_vec()))
        .ok_or(TokenError::ProtectedManagementKeyMissing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_of_each_credential() {
        let pin = [0x01, 0x01, 0xFF, 0x05, 0x01, 0x01, 0x06, 0x02, 0x03, 0x02];
        assert_eq!(
            parse_metadata(Credential::Pin, &pin).unwrap(),
            CredentialMetadata {
                is_default: true,
                retries: Some(Retries {
                    total: 3,
                    remaining: 2
                }),
                algorithm: None
            }
        );
        let mgm = [0x01, 0x01, 0x0C, 0x02, 0x02, 0x00, 0x01, 0x05, 0x01, 0x00];
        assert_eq!(
            parse_metadata(Credential::ManagementKey, &mgm).unwrap(),
            CredentialMetadata {
                is_default: false,
                retries: None,
                algorithm: Some(ManagementKeyAlgorithm::Aes256)
            }
        );
        assert!(parse_metadata(Credential::Puk, &[0x05, 0x01, 0x01]).is_err());
        assert!(parse_metadata(Credential::Pin, &[0x06, 0x02, 3, 3]).is_err());
    }

    #[test]
    fn key_length_must_match_the_card() {
        use ManagementKeyAlgorithm::*;
        assert_eq!(key_algorithm(Some(Aes128), &[0; 16]).unwrap(), Aes128);
        assert_eq!(key_algorithm(None, &[0; 24]).unwrap(), TripleDes);
        let e = key_algorithm(Some(Aes192), &[0; 16]).unwrap_err();
        assert!(matches!(
            e,
            TokenError::ManagementKeyLength {
                algorithm: Aes192,
                found: 16
            }
        ));
        assert!(e.to_string().contains("48 hex digits"), "{e}");
    }

    #[test]
    fn protected_key_objects_as_ykman_writes_them() {
        assert!(admin_says_protected(&[0x80, 0x03, 0x81, 0x01, 0x02]));
        assert!(admin_says_protected(&[0x80, 0x03, 0x81, 0x01, 0x03]));
        assert!(!admin_says_protected(&[0x80, 0x03, 0x81, 0x01, 0x01]));
        assert!(!admin_says_protected(&[0x80, 0x00]));
        assert!(!admin_says_protected(&[0x81, 0x01, 0x02]));
        let printed = [0x88, 0x04, 0x89, 0x02, 0xAB, 0xCD];
        assert_eq!(&protected_key(&printed).unwrap()[..], &[0xAB, 0xCD]);
        assert!(matches!(
            protected_key(&[0x88, 0x00]),
            Err(TokenError::ProtectedManagementKeyMissing)
        ));
    }
}
