//! ISO 7816-4 command/response framing and the BER-TLV pieces PIV uses.

/// Status words the card answers with (ISO 7816-4 and NIST SP 800-73-4 section 3).
pub mod sw {
    /// Success.
    pub const OK: u16 = 0x9000;
    /// `63Cx`: verification failed, x tries left (the low nibble is added by the caller).
    pub const VERIFY_FAIL: u16 = 0x63C0;
    /// Wrong length (Lc or Le inconsistent with the command).
    pub const WRONG_LENGTH: u16 = 0x6700;
    /// Security status not satisfied: PIN or management key missing, and what a real
    /// YubiKey answers when a touch-policy operation times out without a touch.
    pub const SECURITY_STATUS: u16 = 0x6982;
    /// Authentication method blocked (PIN or PUK retries exhausted).
    pub const AUTH_BLOCKED: u16 = 0x6983;
    /// Conditions of use not satisfied.
    pub const CONDITIONS: u16 = 0x6985;
    /// Incorrect data field.
    pub const INCORRECT_DATA: u16 = 0x6A80;
    /// Function not supported.
    pub const FUNC_NOT_SUPPORTED: u16 = 0x6A81;
    /// File or application (data object) not found.
    pub const NOT_FOUND: u16 = 0x6A82;
    /// Incorrect P1 or P2.
    pub const INCORRECT_P1P2: u16 = 0x6A86;
    /// Referenced data (key, slot) not found.
    pub const REF_NOT_FOUND: u16 = 0x6A88;
    /// Instruction not supported.
    pub const INS_NOT_SUPPORTED: u16 = 0x6D00;
    /// Class not supported.
    pub const CLA_NOT_SUPPORTED: u16 = 0x6E00;
}

/// A parsed command APDU (short or extended length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte; bit 0x10 means "more chained commands follow".
    pub cla: u8,
    /// Instruction.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (Lc bytes).
    pub data: Vec<u8>,
}

impl Command {
    /// Parses the four ISO 7816-4 cases, short and extended. Le is accepted and ignored:
    /// the front always answers as much as fits in one short response.
    pub fn parse(apdu: &[u8]) -> Option<Command> {
        if apdu.len() < 4 {
            return None;
        }
        let (cla, ins, p1, p2) = (apdu[0], apdu[1], apdu[2], apdu[3]);
        let body = &apdu[4..];
        let data = match body.len() {
            0 | 1 => Vec::new(),
            _ if body[0] != 0 => {
                let lc = body[0] as usize;
                // Case 3 (no Le) or case 4 (one Le byte after the data).
                if body.len() != 1 + lc && body.len() != 2 + lc {
                    return None;
                }
                body[1..1 + lc].to_vec()
            }
            3 => Vec::new(), // extended case 2: 00 Le1 Le2
            _ => {
                let lc = u16::from_be_bytes([body[1], body[2]]) as usize;
                if body.len() != 3 + lc && body.len() != 5 + lc {
                    return None;
                }
                body[3..3 + lc].to_vec()
            }
        };
        Some(Command {
            cla,
            ins,
            p1,
            p2,
            data,
        })
    }

    /// Whether this is a non-final part of a command chain.
    pub fn chained(&self) -> bool {
        self.cla & 0x10 != 0
    }
}

/// A response before it is split for transport: data plus status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Response data.
    pub data: Vec<u8>,
    /// Status word.
    pub sw: u16,
}

impl Reply {
    /// `9000` with data.
    pub fn ok(data: Vec<u8>) -> Reply {
        Reply { data, sw: sw::OK }
    }

    /// A status word with no data.
    pub fn status(sw: u16) -> Reply {
        Reply {
            data: Vec::new(),
            sw,
        }
    }
}

/// Appends a BER length (definite form) to `out`.
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
}

/// Encodes one TLV; `tag` may be one or two bytes.
pub fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    push_len(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

/// One parsed TLV borrowing from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag, one or two bytes (two when the first byte's low five bits are all set).
    pub tag: &'a [u8],
    /// The value.
    pub value: &'a [u8],
}

/// Parses a sequence of BER-TLVs; `None` if any length runs past the end.
pub fn parse_tlvs(mut input: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let tag_len = if input[0] & 0x1F == 0x1F { 2 } else { 1 };
        if input.len() < tag_len + 1 {
            return None;
        }
        let tag = &input[..tag_len];
        let rest = &input[tag_len..];
        let (len, hdr) = match rest[0] {
            l if l < 0x80 => (l as usize, 1),
            0x81 if rest.len() >= 2 => (rest[1] as usize, 2),
            0x82 if rest.len() >= 3 => (u16::from_be_bytes([rest[1], rest[2]]) as usize, 3),
            _ => return None,
        };
        if rest.len() < hdr + len {
            return None;
        }
        out.push(Tlv {
            tag,
            value: &rest[hdr..hdr + len],
        });
        input = &rest[hdr + len..];
    }
    Some(out)
}

/// The value of the first TLV with this tag.
pub fn find<'a>(tlvs: &[Tlv<'a>], tag: &[u8]) -> Option<&'a [u8]> {
    tlvs.iter().find(|t| t.tag == tag).map(|t| t.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_short_cases() {
        let c1 = Command::parse(&[0, 0xFD, 0, 0]).unwrap();
        assert!(c1.data.is_empty());
        let c2 = Command::parse(&[0, 0xFD, 0, 0, 0]).unwrap();
        assert!(c2.data.is_empty());
        let c3 = Command::parse(&[0, 0x20, 0, 0x80, 2, 1, 2]).unwrap();
        assert_eq!(c3.data, vec![1, 2]);
        let c4 = Command::parse(&[0, 0x20, 0, 0x80, 2, 1, 2, 0]).unwrap();
        assert_eq!(c4.data, vec![1, 2]);
        assert_eq!(Command::parse(&[0, 0x20, 0, 0x80, 3, 1, 2]), None);
    }

    #[test]
    fn parses_extended_case() {
        let mut apdu = vec![0, 0xDB, 0x3F, 0xFF, 0, 0x01, 0x00];
        apdu.extend(vec![7u8; 256]);
        apdu.extend([0, 0]);
        let c = Command::parse(&apdu).unwrap();
        assert_eq!(c.data.len(), 256);
    }

    #[test]
    fn tlv_round_trip_long_lengths() {
        let big = vec![1u8; 300];
        let enc = [tlv(&[0x53], &big), tlv(&[0x5F, 0xC1], &[1])].concat();
        let parsed = parse_tlvs(&enc).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].value.len(), 300);
        assert_eq!(find(&parsed, &[0x5F, 0xC1]), Some(&[1u8][..]));
        assert_eq!(parse_tlvs(&[0x53, 0x05, 1]), None);
    }
}
