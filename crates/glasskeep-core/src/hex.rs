//! Lowercase hex, the one spelling of bytes in transcripts, messages, envelopes and the
//! paper anchor; and its strict parser for what people type back from paper.

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Exactly `N` bytes from `2N` hex digits (either case; surrounding spaces ignored);
/// `None` for any other length or character.
pub fn decode_fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    let t = text.trim().as_bytes();
    if t.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(t.chunks_exact(2)) {
        *o = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// Bytes from an even number of hex digits (either case); `None` for anything else.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    t.chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_lowercase_and_round_trips() {
        assert_eq!(encode(&[]), "");
        assert_eq!(encode(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        let all: Vec<u8> = (0..=255).collect();
        let mut fixed = [0u8; 256];
        fixed.copy_from_slice(&all);
        assert_eq!(decode_fixed::<256>(&encode(&all)), Some(fixed));
        assert_eq!(decode(&encode(&all)), Some(all));
        assert_eq!(decode(""), Some(vec![]));
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("zz"), None);
    }

    #[test]
    fn decode_refuses_wrong_length_and_non_hex() {
        assert_eq!(decode_fixed::<2>(" A5ff "), Some([0xa5, 0xff]));
        assert_eq!(decode_fixed::<2>("a5f"), None);
        assert_eq!(decode_fixed::<2>("a5fff"), None);
        assert_eq!(decode_fixed::<2>("a5fg"), None);
        assert_eq!(decode_fixed::<2>("+5ff"), None);
        // Multi-byte characters must not be sliced.
        assert_eq!(decode_fixed::<2>("é5f"), None);
    }
}
