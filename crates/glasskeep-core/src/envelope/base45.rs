//! Base45 (RFC 9285): bytes as QR alphanumeric-mode characters.
//!
//! QR alphanumeric mode packs two characters into 11 bits, so Base45 text costs
//! 16.5 bits per 2 bytes in the symbol — about 97% of byte mode — while staying
//! printable and readable by every QR scanner as plain text (byte mode invites
//! scanners to guess a character set and mangle binary). RFC 9285 §4 defines it;
//! this is written from the RFC.

use thiserror::Error;

/// The 45 characters, in value order (RFC 9285 §4.2, table 1).
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a string is not valid Base45.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Base45Error {
    /// A character outside the Base45 alphabet (lowercase letters included: QR
    /// alphanumeric mode has none, so a lowercase letter means the text was retyped
    /// or altered).
    #[error("character {character:?} at position {position} is not Base45 — rescan the QR code")]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its position (0-based, in characters).
        position: usize,
    },
    /// The length leaves a single dangling character (length mod 3 == 1).
    #[error("Base45 text of {len} characters cannot be complete (a final lone character) — rescan the QR code")]
    DanglingCharacter {
        /// The text's length in characters.
        len: usize,
    },
    /// A group of three characters encodes a value above 65535.
    #[error(
        "Base45 triplet at position {position} encodes {value}, above 65535 — rescan the QR code"
    )]
    TripletOutOfRange {
        /// Position of the triplet's first character.
        position: usize,
        /// The value it encodes.
        value: u32,
    },
    /// A final pair encodes a value above 255.
    #[error(
        "final Base45 pair at position {position} encodes {value}, above 255 — rescan the QR code"
    )]
    PairOutOfRange {
        /// Position of the pair's first character.
        position: usize,
        /// The value it encodes.
        value: u32,
    },
}

/// Encodes bytes as Base45 text.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(2) * 3);
    let ch = |v: u32| char::from(ALPHABET[v as usize]);
    for pair in data.chunks(2) {
        if let [a, b] = pair {
            let n = u32::from(*a) * 256 + u32::from(*b);
            out.push(ch(n % 45));
            out.push(ch(n / 45 % 45));
            out.push(ch(n / 2025));
        } else {
            let n = u32::from(pair[0]);
            out.push(ch(n % 45));
            out.push(ch(n / 45));
        }
    }
    out
}

fn value(c: char, position: usize) -> Result<u32, Base45Error> {
    u8::try_from(c)
        .ok()
        .and_then(|b| ALPHABET.iter().position(|&a| a == b))
        .map(|v| v as u32)
        .ok_or(Base45Error::InvalidCharacter {
            character: c,
            position,
        })
}

/// Decodes Base45 text, refusing anything RFC 9285 §6 says to refuse.
pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let chars: Vec<char> = text.chars().collect();
    let vals = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| value(c, i))
        .collect::<Result<Vec<u32>, _>>()?;
    if vals.len() % 3 == 1 {
        return Err(Base45Error::DanglingCharacter { len: vals.len() });
    }
    let mut out = Vec::with_capacity(vals.len() / 3 * 2 + 1);
    for (g, group) in vals.chunks(3).enumerate() {
        let position = g * 3;
        match group {
            [c, d, e] => {
                let n = c + d * 45 + e * 2025;
                if n > 0xffff {
                    return Err(Base45Error::TripletOutOfRange { position, value: n });
                }
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            [c, d] => {
                let n = c + d * 45;
                if n > 0xff {
                    return Err(Base45Error::PairOutOfRange { position, value: n });
                }
                out.push(n as u8);
            }
            // Lengths that leave one character were refused above.
            _ => return Err(Base45Error::DanglingCharacter { len: vals.len() }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 9285 §4.3 and §4.4 examples.
    #[test]
    fn rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(decode("BB8").unwrap(), b"AB");
        assert_eq!(decode("%69 VD92EX0").unwrap(), b"Hello!!");
        assert_eq!(decode("UJCLQE7W581").unwrap(), b"base-45");
        assert_eq!(encode(b"ietf!"), "QED8WEX0");
    }

    #[test]
    fn rfc_9285_rejections() {
        // §6: "GGW" is 65536, one past the largest two-byte value.
        assert_eq!(
            decode("GGW"),
            Err(Base45Error::TripletOutOfRange {
                position: 0,
                value: 65536
            })
        );
        assert!(matches!(
            decode(":::"),
            Err(Base45Error::TripletOutOfRange { .. })
        ));
        assert!(matches!(
            decode("BB8:::"),
            Err(Base45Error::TripletOutOfRange { position: 3, .. })
        ));
        assert!(matches!(
            decode("::"),
            Err(Base45Error::PairOutOfRange { value: 2024, .. })
        ));
        assert_eq!(
            decode("BB8B"),
            Err(Base45Error::DanglingCharacter { len: 4 })
        );
        // The length is judged before any triplet: a cut-off text is named as such,
        // even when an earlier triplet is also out of range.
        assert_eq!(
            decode(":::B"),
            Err(Base45Error::DanglingCharacter { len: 4 })
        );
        assert_eq!(
            decode("bb8"),
            Err(Base45Error::InvalidCharacter {
                character: 'b',
                position: 0
            })
        );
        assert!(matches!(
            decode("BB#"),
            Err(Base45Error::InvalidCharacter { position: 2, .. })
        ));
        assert!(matches!(
            decode("BBé"),
            Err(Base45Error::InvalidCharacter { position: 2, .. })
        ));
    }

    #[test]
    fn round_trips_every_length_and_edge_value() {
        assert_eq!(encode(b""), "");
        assert_eq!(decode("").unwrap(), b"");
        for len in 0..40usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 255) as u8).collect();
            assert_eq!(decode(&encode(&data)).unwrap(), data);
        }
        assert_eq!(decode(&encode(&[0xff, 0xff])).unwrap(), [0xff, 0xff]);
        assert_eq!(encode(&[0xff, 0xff]), "FGW");
        assert_eq!(decode(&encode(&[0xff])).unwrap(), [0xff]);
    }
}
