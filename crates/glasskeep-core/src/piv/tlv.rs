//! The BER-TLV subset PIV data objects use (one- or two-byte tags, lengths up to
//! 0xffff), for the certificate objects the `yubikey` crate hands back unparsed.

/// Splits the first TLV off `input`: (tag, value, rest). Tags 0x5f.. and 0x7f.. take two
/// bytes, as in PIV.
pub fn split(input: &[u8]) -> Option<(u16, &[u8], &[u8])> {
    let (tag, rest) = match input {
        [t @ (0x5f | 0x7f), t2, rest @ ..] => ((u16::from(*t) << 8) | u16::from(*t2), rest),
        [t, rest @ ..] => (u16::from(*t), rest),
        [] => return None,
    };
    let (len, rest) = match rest {
        [l, rest @ ..] if *l < 0x80 => (usize::from(*l), rest),
        [0x81, l, rest @ ..] => (usize::from(*l), rest),
        [0x82, hi, lo, rest @ ..] => ((usize::from(*hi) << 8) | usize::from(*lo), rest),
        _ => return None,
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The value of the first TLV with `tag` among a sequence of TLVs.
pub fn find(mut input: &[u8], tag: u16) -> Option<&[u8]> {
    while let Some((t, v, rest)) = split(input) {
        if t == tag {
            return Some(v);
        }
        input = rest;
    }
    None
}

/// The largest certificate glasskeep stores in a slot: a YubiKey data object holds a
/// little over 3 KB, and attestation certificates are under 1 KB.
pub const MAX_CERTIFICATE_LEN: usize = 3000;

/// Encodes one TLV with a one- or two-byte tag. Values are at most 0xffff bytes: every
/// caller passes a PIV command body or an object bounded by [`MAX_CERTIFICATE_LEN`].
pub fn encode(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 5);
    if tag > 0xff {
        out.extend_from_slice(&tag.to_be_bytes());
    } else {
        out.push(tag as u8);
    }
    match value.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n <= 0xff => out.extend_from_slice(&[0x81, n as u8]),
        // PIV objects are at most a few kilobytes; the `as` casts are range-checked above.
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// The certificate object stored for a slot: cert (70), uncompressed (71 = 0), LRC (fe).
pub fn certificate_object(der: &[u8]) -> Vec<u8> {
    let mut out = encode(0x70, der);
    out.extend_from_slice(&[0x71, 0x01, 0x00, 0xfe, 0x00]);
    out
}

/// The certificate inside a slot's certificate object; `None` if the object is empty
/// (the slot has no certificate) or holds no 70 tag.
pub fn certificate_from_object(object: &[u8]) -> Option<Vec<u8>> {
    find(object, 0x70)
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length_form() {
        for n in [0usize, 1, 0x7f, 0x80, 0xff, 0x100, 0x1234] {
            let v = vec![0xab; n];
            let enc = encode(0x70, &v);
            assert_eq!(split(&enc), Some((0x70, &v[..], &[][..])));
            let enc = encode(0x7f49, &v);
            assert_eq!(split(&enc), Some((0x7f49, &v[..], &[][..])));
        }
    }

    #[test]
    fn refuses_truncated_and_unsupported_lengths() {
        assert_eq!(split(&[0x70, 0x05, 1, 2]), None);
        assert_eq!(split(&[0x70, 0x83, 0, 0, 1]), None);
        assert_eq!(split(&[0x70]), None);
        assert_eq!(split(&[]), None);
    }

    #[test]
    fn certificate_objects() {
        let obj = certificate_object(&[0x30, 0x00]);
        assert_eq!(certificate_from_object(&obj), Some(vec![0x30, 0x00]));
        assert_eq!(certificate_from_object(&[]), None);
        assert_eq!(
            certificate_from_object(&[0x70, 0x00, 0x71, 0x01, 0x00]),
            None
        );
    }
}
