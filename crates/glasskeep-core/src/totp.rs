//! The current code of a TOTP seed (RFC 6238 over RFC 4226), so the people at the safe
//! can log in without copying the seed into a phone first. Only HMAC-SHA1 is computed,
//! what nearly every service issues; a URI asking for another algorithm gets no code.

use hmac::{Hmac, KeyInit, Mac};
use zeroize::Zeroizing;

/// A decoded seed and its parameters.
pub struct Seed {
    key: Zeroizing<Vec<u8>>,
    /// Digits per code (6 unless an `otpauth://` URI says 7 or 8).
    pub digits: u32,
    /// The time step in seconds (30 unless the URI says otherwise).
    pub period: u64,
}

/// Why no code can be computed; the seed itself is still shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedError {
    /// Not base32 (RFC 4648), even ignoring case, spaces, dashes and padding.
    NotBase32,
    /// An `otpauth://` URI without a `secret=` parameter.
    NoSecret,
    /// The URI asks for a parameter this code does not compute.
    Unsupported(&'static str),
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedError::NotBase32 => f.write_str("the seed does not decode as base32"),
            SeedError::NoSecret => f.write_str("the otpauth URI has no secret= parameter"),
            SeedError::Unsupported(what) => write!(f, "the otpauth URI asks for {what}"),
        }
    }
}

/// Reads a seed: base32 text, or an `otpauth://totp/…?secret=…` URI.
pub fn parse(text: &str) -> Result<Seed, SeedError> {
    let text = text.trim();
    let mut seed = Seed {
        key: Zeroizing::new(Vec::new()),
        digits: 6,
        period: 30,
    };
    let b32 = if text
        .get(..10)
        .is_some_and(|p| p.eq_ignore_ascii_case("otpauth://"))
    {
        let query = text.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let mut secret = None;
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k.to_ascii_lowercase().as_str() {
                "secret" => secret = Some(v),
                "algorithm" if !v.eq_ignore_ascii_case("sha1") => {
                    return Err(SeedError::Unsupported("an algorithm other than SHA1"))
                }
                "digits" => match v {
                    "6" | "7" | "8" => seed.digits = u32::from(v.as_bytes()[0] - b'0'),
                    _ => {
                        return Err(SeedError::Unsupported(
                            "a number of digits other than 6 to 8",
                        ))
                    }
                },
                "period" => match v.parse::<u64>() {
                    Ok(p) if (1..=3600).contains(&p) => seed.period = p,
                    _ => {
                        return Err(SeedError::Unsupported(
                            "a period that is not 1 to 3600 seconds",
                        ))
                    }
                },
                _ => {}
            }
        }
        secret.ok_or(SeedError::NoSecret)?
    } else {
        text
    };
    // Seeds are printed in groups, lower case, with or without padding (and padding
    // may come URL-encoded).
    let mut norm = Zeroizing::new(String::with_capacity(b32.len()));
    for c in b32.chars() {
        match c {
            ' ' | '-' | '\t' => {}
            c => norm.push(c.to_ascii_uppercase()),
        }
    }
    while norm.ends_with('=') || norm.ends_with("%3D") {
        let cut = if norm.ends_with('=') { 1 } else { 3 };
        let len = norm.len() - cut;
        norm.truncate(len);
    }
    let key = data_encoding::BASE32_NOPAD
        .decode(norm.as_bytes())
        .map_err(|_| SeedError::NotBase32)?;
    if key.is_empty() {
        return Err(SeedError::NotBase32);
    }
    seed.key = Zeroizing::new(key);
    Ok(seed)
}

/// RFC 4226's HOTP value of `key` at `counter`, `digits` long.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC accepts keys of any length; this cannot fail.
    let Ok(mut mac) = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let digest = Zeroizing::new(mac.finalize().into_bytes().to_vec());
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    bin % 10u32.pow(digits)
}

impl Seed {
    /// The code at unix time `now`, zero-padded, and the seconds it stays valid.
    pub fn code(&self, now: u64) -> (Zeroizing<String>, u64) {
        let value = hotp(&self.key, now / self.period, self.digits);
        let width = self.digits as usize;
        let code = Zeroizing::new(format!("{value:0width$}"));
        (code, self.period - now % self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 seed "12345678901234567890": (time, 8-digit TOTP).
    const VECTORS: [(u64, u32); 6] = [
        (59, 94287082),
        (1111111109, 7081804),
        (1111111111, 14050471),
        (1234567890, 89005924),
        (2000000000, 69279037),
        (20000000000, 65353130),
    ];
    const KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors() {
        for (t, expect) in VECTORS {
            assert_eq!(hotp(KEY, t / 30, 8), expect, "T={t}");
            assert_eq!(hotp(KEY, t / 30, 6), expect % 1_000_000, "T={t}");
        }
    }

    #[test]
    fn six_digit_code_and_seconds_left_from_a_base32_seed() {
        let b32 = data_encoding::BASE32.encode(KEY);
        for text in [
            b32.clone(),
            b32.to_lowercase(),
            b32.trim_end_matches('=').to_string(),
            format!("otpauth://totp/Example:root?issuer=Example&secret={b32}&period=30"),
        ] {
            let seed = parse(&text).unwrap();
            let (code, left) = seed.code(59);
            assert_eq!(code.as_str(), "287082", "{text}");
            assert_eq!(left, 1);
            let (code, left) = seed.code(1111111109);
            assert_eq!((code.as_str(), left), ("081804", 1));
        }
        let seed = parse(&format!("otpauth://totp/x?secret={b32}&digits=8")).unwrap();
        assert_eq!(seed.code(59).0.as_str(), "94287082");
    }

    #[test]
    fn seeds_that_give_no_code_say_why() {
        for (text, e) in [
            ("not base32 at all!", SeedError::NotBase32),
            ("", SeedError::NotBase32),
            ("JBSWY3DPEHPK3PX1", SeedError::NotBase32),
            ("otpauth://totp/x?issuer=y", SeedError::NoSecret),
            (
                "otpauth://totp/x?secret=JBSWY3DP&algorithm=SHA256",
                SeedError::Unsupported("an algorithm other than SHA1"),
            ),
            (
                "otpauth://totp/x?secret=JBSWY3DP&digits=10",
                SeedError::Unsupported("a number of digits other than 6 to 8"),
            ),
            (
                "otpauth://totp/x?secret=JBSWY3DP&period=0",
                SeedError::Unsupported("a period that is not 1 to 3600 seconds"),
            ),
        ] {
            assert_eq!(parse(text).err(), Some(e), "{text:?}");
        }
    }
}
