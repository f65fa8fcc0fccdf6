//! The typed-text fallback: an envelope as numbered lines of Crockford base32, for when
//! no QR reader works and someone must type the envelope in by hand.
//!
//! Line format (docs/FORMAT.md, "Text fallback"):
//!
//! ```text
//! 0001: ABCDE FGHJK MNPQR STVWX YZ012 34567  C9
//! ...
//! END 0123 LINES FINGERPRINT 1A2B 3C4D 5E6F 7A8B
//! ```
//!
//! Each line holds 30 symbols of the envelope's base32 stream (the last line fewer)
//! and two check symbols. The check is a parity code over GF(32) whose parity-check
//! matrix has pairwise independent columns, so *every* error touching at most two
//! symbols of a line — any single substitution, any swap of two neighbours — changes
//! the check and is reported with the line number. (A truncated hash would miss about
//! one substitution in a thousand; a custodian typing a thousand lines would meet it.)
//! The check is offset by a hash of the line number, so a line typed under the wrong
//! number fails too. The END line carries the line count and the envelope's short
//! fingerprint: the whole-envelope check.

use sha2::{Digest, Sha256};
use thiserror::Error;

use super::format::{Envelope, EnvelopeError, Fingerprint, MAX_ENCODED_LEN};

/// Crockford's base32 alphabet: digits and letters without I, L, O, U.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Data symbols per full line.
pub const SYMBOLS_PER_LINE: usize = 30;
/// Symbols per group as printed.
pub const GROUP: usize = 5;
/// Most data symbols any envelope's text holds: the longest record's bits, five per
/// symbol.
pub const MAX_SYMBOLS: usize = (MAX_ENCODED_LEN * 8).div_ceil(5);
/// Most numbered lines any envelope's text has (3 793). An END line claiming more is
/// refused before anything else is done with the count, so a typed number can never
/// make the decoder loop or allocate beyond what a real envelope needs.
pub const MAX_LINES: usize = MAX_SYMBOLS.div_ceil(SYMBOLS_PER_LINE);
/// Line numbers an error names at most; the rest are counted, so no message grows
/// with a claimed count.
pub const NAMED_LINES: usize = 10;

const LINE_KEY_LABEL: &[u8] = b"glasskeep/v1/envelope-text-line\0";

/// Why typed text does not decode to an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TextError {
    /// No numbered lines were found.
    #[error("no envelope text lines found — type the numbered lines and the END line")]
    NoLines,
    /// A character outside Crockford base32 on a numbered line.
    #[error("line {line}: character {character:?} is not used in envelope text — check the characters on that line")]
    InvalidCharacter {
        /// The line number as typed.
        line: usize,
        /// The offending character.
        character: char,
    },
    /// A line's check symbols do not match its content.
    #[error("{}: checksum mismatch — check the characters on {}", lines_list(lines, *more), if lines.len() + more == 1 { "that line" } else { "those lines" })]
    ChecksumMismatch {
        /// The first lines whose check failed (at most [`NAMED_LINES`]), ascending.
        lines: Vec<usize>,
        /// How many more lines failed beyond those named.
        more: usize,
    },
    /// A line has the wrong number of symbols (all but the last hold 30).
    #[error("line {line}: {found} characters where {expected} belong — a character was dropped or added on that line")]
    LineLength {
        /// The line number.
        line: usize,
        /// Data symbols found.
        found: usize,
        /// Data symbols expected.
        expected: usize,
    },
    /// Lines are missing.
    #[error("{} missing — type {}", lines_list(lines, *more), if lines.len() + more == 1 { "it" } else if *more == 0 { "them" } else { "them, or correct the count on the END line" })]
    MissingLines {
        /// The first missing line numbers (at most [`NAMED_LINES`]), ascending.
        lines: Vec<usize>,
        /// How many more lines are missing beyond those named.
        more: usize,
    },
    /// The END line claims more lines than any envelope has.
    #[error("the END line claims {count} lines, but no envelope has more than {max} — correct the count on the END line")]
    TooManyLines {
        /// The count on the END line (saturated at `u64::MAX` if longer still).
        count: u64,
        /// [`MAX_LINES`].
        max: usize,
    },
    /// A line number was typed twice.
    #[error("line {line} appears twice — keep one copy")]
    DuplicateLine {
        /// The repeated line number.
        line: usize,
    },
    /// The END line is absent.
    #[error("the END line is missing — type the last line of the text block too (it checks the whole envelope)")]
    MissingEnd,
    /// The END line is not `END <count> LINES FINGERPRINT <16 hex digits>`.
    #[error("the END line is malformed — it reads END, the line count, LINES, FINGERPRINT and 16 hex digits")]
    BadEndLine,
    /// Lines exist beyond the count the END line states.
    #[error("line {line} is past the {count} lines the END line states — check the END line")]
    LineBeyondEnd {
        /// The line number.
        line: usize,
        /// The count on the END line.
        count: usize,
    },
    /// The symbol count is not one that base32 of whole bytes produces.
    #[error("the text holds {symbols} symbols, which no envelope produces — the last line is probably incomplete")]
    BadSymbolCount {
        /// Total data symbols.
        symbols: usize,
    },
    /// Every line checks, but the whole does not hash to the END line's fingerprint.
    #[error("every line checks, but the envelope's fingerprint is {found}, not {expected} — the END line or the line order is wrong")]
    FingerprintMismatch {
        /// From the END line.
        expected: String,
        /// Of the decoded bytes.
        found: String,
    },
    /// OCR output (`envelope read`): these lines fail their check, and no single
    /// misread between look-alike characters makes them pass (or more than one does).
    #[error("{}: the check fails and no single misread of look-alike characters explains it — compare {} with the paper and correct {} by hand", lines_list(lines, *more), if lines.len() + more == 1 { "that line" } else { "those lines" }, if lines.len() + more == 1 { "it" } else { "them" })]
    Uncorrectable {
        /// The first such lines (at most [`NAMED_LINES`]), ascending.
        lines: Vec<usize>,
        /// How many more beyond those named.
        more: usize,
    },
    /// The text decodes, but not to a valid envelope.
    #[error("the text decodes, but {0}")]
    Envelope(#[from] EnvelopeError),
}

fn lines_list(lines: &[usize], more: usize) -> String {
    let nums: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    format!(
        "line{} {}{}",
        if lines.len() + more == 1 { "" } else { "s" },
        nums.join(", "),
        if more == 0 {
            String::new()
        } else {
            format!(" and {more} more")
        }
    )
}

/// Keeps the first [`NAMED_LINES`] of an ascending stream of line numbers and counts
/// the rest, so an error's size does not follow the number of lines at fault.
#[derive(Default)]
pub(super) struct Named {
    pub(super) lines: Vec<usize>,
    pub(super) more: usize,
}

impl Named {
    pub(super) fn push(&mut self, line: usize) {
        if self.lines.len() < NAMED_LINES {
            self.lines.push(line);
        } else {
            self.more += 1;
        }
    }
}

/// The first missing numbers of `1..=count` and how many more are missing, given the
/// `present` numbers (ascending, distinct, all within `1..=count`). It walks the
/// present numbers and stops once enough gaps are named: the work follows the input,
/// not the claimed count, whatever that count is.
fn missing_lines(present: &[usize], count: usize) -> Named {
    let mut named = Named {
        lines: Vec::new(),
        more: count.saturating_sub(present.len()),
    };
    let mut rest = present;
    let mut candidate = 1usize;
    while named.lines.len() < NAMED_LINES && candidate <= count {
        match rest.split_first() {
            Some((&p, tail)) if p <= candidate => {
                rest = tail;
                if p < candidate {
                    // Not possible for checked input; skip it rather than stall.
                    continue;
                }
            }
            _ => {
                named.lines.push(candidate);
                named.more = named.more.saturating_sub(1);
            }
        }
        let Some(next) = candidate.checked_add(1) else {
            break;
        };
        candidate = next;
    }
    named
}

// GF(32) with the primitive polynomial x^5 + x^2 + 1; alpha = 2.
pub(super) fn gf_mul(a: u8, b: u8) -> u8 {
    let (mut a, mut b, mut r) = (a, b, 0u8);
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0x20 != 0 {
            a ^= 0x25;
        }
    }
    r
}

/// Line `line`'s key: the check symbols of a line with no data.
pub(super) fn line_key(line: usize) -> (u8, u8) {
    let mut h = Sha256::new();
    h.update(LINE_KEY_LABEL);
    h.update((line as u64).to_be_bytes());
    let d = h.finalize();
    (d[0] & 31, d[1] & 31)
}

/// The two check symbols of a line's data symbols (values 0..32), keyed by its number.
pub(super) fn check(line: usize, data: &[u8]) -> [u8; 2] {
    check_keyed(line_key(line), data)
}

/// [`check`] with the line's key already computed (a search tries many readings of one
/// line).
pub(super) fn check_keyed(key: (u8, u8), data: &[u8]) -> [u8; 2] {
    let (mut c0, mut c1) = key;
    for (j, &d) in data.iter().enumerate() {
        c0 ^= d;
        c1 ^= gf_mul(column_coefficient(j), d);
    }
    [c0, c1]
}

/// The second check's coefficient for data column `j`: alpha^(j+1) in GF(32), alpha
/// being 2. Column j is (1, alpha^(j+1)): distinct and non-zero for j < 31, so any two
/// columns, and the check symbols' own (1,0) and (0,1), are independent.
pub(super) fn column_coefficient(j: usize) -> u8 {
    const POWERS: [u8; 31] = {
        let mut p = [1u8; 31];
        let mut i = 1;
        while i < 31 {
            // Multiplying by alpha: a shift, reduced by x^5 + x^2 + 1.
            let x = p[i - 1] << 1;
            p[i] = if x & 0x20 != 0 { x ^ 0x25 } else { x };
            i += 1;
        }
        p
    };
    // alpha has order 31: its powers repeat after 31 columns.
    POWERS[(j + 1) % 31]
}

fn symbols_of(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(((acc >> bits) & 31) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(((acc << (5 - bits)) & 31) as u8);
    }
    out
}

fn bytes_of(symbols: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(symbols.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &s in symbols {
        acc = (acc << 5) | u32::from(s);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A whole-byte stream leaves fewer than 5 padding bits, all zero.
    (bits < 5 && acc == 0).then_some(out)
}

pub(super) fn symbol(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .map(|v| v as u8)
}

/// The text fallback of encoded envelope bytes: numbered lines, then the END line.
pub fn encode_lines(encoded: &[u8]) -> Vec<String> {
    let syms = symbols_of(encoded);
    let chunks: Vec<&[u8]> = syms.chunks(SYMBOLS_PER_LINE).collect();
    let width = chunks.len().to_string().len().max(4);
    let mut lines = Vec::with_capacity(chunks.len() + 1);
    for (i, chunk) in chunks.iter().enumerate() {
        let n = i + 1;
        let groups: Vec<String> = chunk
            .chunks(GROUP)
            .map(|g| {
                g.iter()
                    .map(|&s| char::from(ALPHABET[s as usize]))
                    .collect()
            })
            .collect();
        let c = check(n, chunk);
        lines.push(format!(
            "{n:0width$}: {}  {}{}",
            groups.join(" "),
            char::from(ALPHABET[c[0] as usize]),
            char::from(ALPHABET[c[1] as usize])
        ));
    }
    let fp = Fingerprint::of_bytes(encoded).prefix_upper();
    let fp_groups: Vec<&str> = (0..4).map(|i| &fp[i * 4..i * 4 + 4]).collect();
    lines.push(format!(
        "END {:0width$} LINES FINGERPRINT {}",
        chunks.len(),
        fp_groups.join(" ")
    ));
    lines
}

/// The text fallback of an envelope.
pub fn envelope_to_lines(envelope: &Envelope) -> Result<Vec<String>, EnvelopeError> {
    Ok(encode_lines(&envelope.encode()?))
}

pub(super) struct End {
    /// At most [`MAX_LINES`]: `parse_end` refuses larger claims.
    pub(super) count: usize,
    pub(super) fingerprint: String,
}

pub(super) fn parse_end(compact: &str) -> Result<End, TextError> {
    let rest = compact.strip_prefix("END").ok_or(TextError::BadEndLine)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(TextError::BadEndLine);
    }
    // Only digits were taken, so parsing fails only on overflow: a count that large
    // is refused as too many lines, like any other count above the maximum.
    let claimed: u64 = rest[..digits].parse().unwrap_or(u64::MAX);
    let rest = rest[digits..]
        .strip_prefix("LINES")
        .and_then(|r| r.strip_prefix("FINGERPRINT"))
        .ok_or(TextError::BadEndLine)?;
    // The same look-alikes as the data lines: O for 0, I or L for 1.
    let fingerprint: String = rest
        .chars()
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    if fingerprint.len() != 16 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TextError::BadEndLine);
    }
    // The claim is checked here, before any line is compared, counted or listed
    // against it; every later step then works on at most MAX_LINES.
    let count = usize::try_from(claimed)
        .ok()
        .filter(|&c| c <= MAX_LINES)
        .ok_or(TextError::TooManyLines {
            count: claimed,
            max: MAX_LINES,
        })?;
    Ok(End { count, fingerprint })
}

pub(super) type Lines = Vec<(usize, Vec<u8>)>;

pub(super) fn look_alike_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

/// A typed line number: digits only (look-alikes allowed), no sign, no other mark, and
/// small enough to be one.
fn line_number(typed: &str) -> Option<usize> {
    let digits = look_alike_digits(typed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn symbols(line: usize, body: &str) -> Result<Vec<u8>, TextError> {
    body.chars()
        .map(|c| symbol(c).ok_or(TextError::InvalidCharacter { line, character: c }))
        .collect()
}

pub(super) fn compact(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Reads numbered lines as typed, one per physical line.
fn physical_lines(text: &str) -> Result<(Lines, Option<End>), TextError> {
    let mut lines = Vec::new();
    let mut end = None;
    for raw in text.lines() {
        let compact = compact(raw);
        if compact.starts_with("END") {
            end = Some(parse_end(&compact)?);
            continue;
        }
        // A numbered line is digits (look-alikes allowed) then a colon.
        let Some((number, body)) = compact.split_once(':') else {
            continue;
        };
        let Some(line) = line_number(number) else {
            continue;
        };
        lines.push((line, symbols(line, body)?));
    }
    Ok((lines, end))
}

/// Reads the block as one stream, for text whose line breaks moved (a line wrapped
/// by an editor, or typed without breaks): from the first numbered line to END,
/// every colon ends a line number as wide as the first one.
fn stream_lines(text: &str) -> Result<(Lines, Option<End>), TextError> {
    let start = text
        .lines()
        .position(|l| {
            let c = compact(l);
            c.split_once(':')
                .is_some_and(|(n, _)| line_number(n).is_some())
        })
        .ok_or(TextError::NoLines)?;
    let block: String = text.lines().skip(start).map(compact).collect();
    let (block, end) = match block.find("END") {
        Some(i) => (block[..i].to_owned(), Some(parse_end(&block[i..])?)),
        None => (block, None),
    };
    let pieces: Vec<&str> = block.split(':').collect();
    let width = pieces[0].len();
    let mut lines = Vec::new();
    let mut number = pieces[0];
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        let line = line_number(number).ok_or(TextError::NoLines)?;
        if i + 1 == pieces.len() {
            lines.push((line, symbols(line, piece)?));
        } else {
            let cut = piece
                .len()
                .checked_sub(width)
                .filter(|&c| piece.is_char_boundary(c))
                .ok_or(TextError::NoLines)?;
            let (body, next) = piece.split_at(cut);
            lines.push((line, symbols(line, body)?));
            number = next;
        }
    }
    Ok((lines, end))
}

/// Decodes the text fallback back to encoded envelope bytes. Whitespace, line breaks,
/// case and the look-alikes O (for 0) and I, L (for 1) are tolerated; lines that are
/// neither numbered (`123:`) nor the END line are ignored, so a whole page of text
/// can be pasted. Every bad line is reported by number. If the lines as typed do not
/// decode, the block is read once more as a stream (see `stream_lines`) and that
/// reading is used if it decodes; otherwise the first reading's error is reported,
/// since it names lines as the custodian sees them.
pub fn decode_bytes(text: &str) -> Result<Vec<u8>, TextError> {
    let first = physical_lines(text).and_then(|(l, e)| check_lines(l, e));
    match first {
        Ok(bytes) => Ok(bytes),
        Err(e) => match stream_lines(text).and_then(|(l, e)| check_lines(l, e)) {
            Ok(bytes) => Ok(bytes),
            Err(_) => Err(e),
        },
    }
}

fn check_lines(lines: Lines, end: Option<End>) -> Result<Vec<u8>, TextError> {
    let (bytes, (expected, found)) = assemble(lines, end.ok_or(TextError::MissingEnd))?;
    if expected != found {
        return Err(TextError::FingerprintMismatch { expected, found });
    }
    Ok(bytes)
}

/// Checks the lines against the END line (numbering, count, every line's check and
/// length) and joins them: the bytes, and the fingerprint prefix the END line states
/// beside the one the bytes have. The caller compares the two.
pub(super) fn assemble(
    mut lines: Lines,
    end: Result<End, TextError>,
) -> Result<(Vec<u8>, (String, String)), TextError> {
    if lines.is_empty() {
        return Err(TextError::NoLines);
    }
    let end = end?;
    lines.sort_by_key(|(n, _)| *n);
    if let Some(w) = lines.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(TextError::DuplicateLine { line: w[0].0 });
    }
    if let Some((n, _)) = lines.iter().find(|(n, _)| *n == 0 || *n > end.count) {
        return Err(TextError::LineBeyondEnd {
            line: *n,
            count: end.count,
        });
    }
    // Every line is now distinct and within 1..=count, so the lines given are at most
    // the count; fewer means lines are missing.
    if lines.len() < end.count {
        let present: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
        let Named { lines, more } = missing_lines(&present, end.count);
        return Err(TextError::MissingLines { lines, more });
    }

    let mut bad = Named::default();
    let mut stream = Vec::with_capacity(lines.len() * SYMBOLS_PER_LINE);
    for (n, syms) in &lines {
        if syms.len() < 3 {
            return Err(TextError::LineLength {
                line: *n,
                found: syms.len().saturating_sub(2),
                expected: SYMBOLS_PER_LINE,
            });
        }
        let (data, given) = syms.split_at(syms.len() - 2);
        if check(*n, data) != [given[0], given[1]] {
            bad.push(*n);
            continue;
        }
        // Only the last line may be short; a short line elsewhere lost characters.
        if *n != end.count && data.len() != SYMBOLS_PER_LINE || data.len() > SYMBOLS_PER_LINE {
            return Err(TextError::LineLength {
                line: *n,
                found: data.len(),
                expected: SYMBOLS_PER_LINE,
            });
        }
        stream.extend_from_slice(data);
    }
    if !bad.lines.is_empty() {
        return Err(TextError::ChecksumMismatch {
            lines: bad.lines,
            more: bad.more,
        });
    }
    let bytes = bytes_of(&stream).ok_or(TextError::BadSymbolCount {
        symbols: stream.len(),
    })?;
    let found = Fingerprint::of_bytes(&bytes).prefix_upper();
    Ok((bytes, (end.fingerprint, found)))
}

/// Decodes the text fallback to an envelope.
pub fn decode_text(text: &str) -> Result<Envelope, TextError> {
    Ok(Envelope::decode(&decode_bytes(text)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_coefficients_are_the_powers_of_alpha() {
        let mut power = 1u8;
        for j in 0..100 {
            power = gf_mul(power, 2);
            assert_eq!(column_coefficient(j), power, "column {j}");
        }
        // Distinct and non-zero across a line's 32 data columns but the last, which
        // repeats the first (alpha^32 = alpha).
        let first: std::collections::BTreeSet<u8> = (0..31).map(column_coefficient).collect();
        assert_eq!(first.len(), 31);
        assert!(!first.contains(&0));
    }

    #[test]
    fn base32_round_trips_every_length() {
        for len in 0..50usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 91 + 3) as u8).collect();
            assert_eq!(bytes_of(&symbols_of(&data)).unwrap(), data);
        }
    }

    #[test]
    fn text_round_trips_with_noise() {
        let data: Vec<u8> = (0..500u32).map(|i| (i * 13) as u8).collect();
        let lines = encode_lines(&data);
        let noisy = lines
            .iter()
            .map(|l| {
                if l.starts_with("END") {
                    l.to_lowercase()
                } else {
                    l.to_lowercase().replace('0', "o").replace('1', "l")
                }
            })
            .collect::<Vec<_>>()
            .join("\r\n\n   ");
        assert_eq!(decode_bytes(&noisy).unwrap(), data);
    }

    #[test]
    fn non_ascii_text_is_refused_not_sliced() {
        for bad in [
            "0001: ABCDé\n0002: é\nEND 0002 LINES FINGERPRINT 0000 0000 0000 0000",
            "0001:é0002:AB\nEND",
            "é1: AB\nEND 0001 LINES FINGERPRINT ÉÉÉÉ",
            "0001:ééééé:ée",
        ] {
            assert!(decode_bytes(bad).is_err());
        }
    }

    /// Text whose END line claims `count` lines, with the lines of a small envelope.
    fn claiming(count: &str) -> String {
        let mut lines = encode_lines(&[7u8; 40]);
        let end = lines.pop().unwrap();
        let fingerprint = end.split_once("FINGERPRINT").unwrap().1;
        lines.push(format!("END {count} LINES FINGERPRINT{fingerprint}"));
        lines.join("\n")
    }

    fn assert_short(e: &TextError) {
        let message = e.to_string();
        assert!(message.len() < 300, "{} bytes: {message}", message.len());
    }

    #[test]
    fn limits_follow_the_largest_envelope() {
        // docs/FORMAT.md ("Text fallback") states these numbers.
        assert_eq!(MAX_SYMBOLS, 113_776);
        assert_eq!(MAX_LINES, 3_793);
        let lines = encode_lines(&vec![0xa5; MAX_ENCODED_LEN]);
        assert_eq!(lines.len(), MAX_LINES + 1);
        assert_eq!(
            decode_bytes(&lines.join("\n")).unwrap().len(),
            MAX_ENCODED_LEN
        );
    }

    #[test]
    fn end_claiming_4294967295_lines_is_refused_before_any_work() {
        // The bug: this kept check-share busy for over a minute at full memory,
        // building a list of some four billion missing line numbers.
        let e = decode_bytes(&claiming("4294967295")).unwrap_err();
        assert_eq!(
            e,
            TextError::TooManyLines {
                count: 4_294_967_295,
                max: MAX_LINES
            }
        );
        assert_short(&e);
    }

    #[test]
    fn end_claiming_9999_lines_is_refused_not_listed() {
        // The bug: this printed an error naming 9 974 missing line numbers.
        let e = decode_bytes(&claiming("9999")).unwrap_err();
        assert_eq!(
            e,
            TextError::TooManyLines {
                count: 9999,
                max: MAX_LINES
            }
        );
        assert_short(&e);
    }

    #[test]
    fn end_claiming_one_line_above_the_maximum_is_refused() {
        let e = decode_bytes(&claiming(&(MAX_LINES + 1).to_string())).unwrap_err();
        assert!(
            matches!(e, TextError::TooManyLines { count, max: MAX_LINES } if count == MAX_LINES as u64 + 1),
            "{e:?}"
        );
        assert_short(&e);
        // Beyond u64 too: a count is a claim, never parsed into a panic or a wrap.
        let e = decode_bytes(&claiming(&"9".repeat(40))).unwrap_err();
        assert!(
            matches!(
                e,
                TextError::TooManyLines {
                    count: u64::MAX,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_short(&e);
    }

    #[test]
    fn end_claiming_the_maximum_names_ten_missing_lines_and_counts_the_rest() {
        // Three lines given (40 bytes are 64 symbols), 3 793 claimed: the error
        // names ten of the 3 790 missing and counts the rest.
        let e = decode_bytes(&claiming(&MAX_LINES.to_string())).unwrap_err();
        let TextError::MissingLines { lines, more } = &e else {
            panic!("{e:?}");
        };
        assert_eq!(lines, &(4..4 + NAMED_LINES).collect::<Vec<_>>());
        assert_eq!(*more, MAX_LINES - 3 - NAMED_LINES);
        assert_short(&e);
        assert!(e.to_string().contains("and 3780 more missing"), "{e}");
    }

    #[test]
    fn missing_lines_work_follows_the_input_not_the_claim() {
        // Called with a claim no checked input reaches: were the walk proportional to
        // the claim, this would not finish; it visits the three present numbers and
        // names ten gaps.
        let named = missing_lines(&[1, 2, 5], usize::MAX);
        assert_eq!(named.lines, vec![3, 4, 6, 7, 8, 9, 10, 11, 12, 13]);
        assert_eq!(named.more, usize::MAX - 3 - NAMED_LINES);
        let named = missing_lines(&[1, 3], 3);
        assert_eq!((named.lines, named.more), (vec![2], 0));
        let named = missing_lines(&[1, 2, 3], 3);
        assert_eq!((named.lines, named.more), (vec![], 0));
        // A repeated number (which checked input never holds) is skipped, not taken
        // as covering the next one.
        let named = missing_lines(&[1, 1, 3], 3);
        assert_eq!((named.lines, named.more), (vec![2], 0));
    }

    #[test]
    fn many_checksum_failures_are_named_ten_and_counted() {
        let data = vec![3u8; 1000];
        let lines: Vec<String> = encode_lines(&data)
            .into_iter()
            .map(|l| {
                if l.starts_with("END") {
                    l
                } else {
                    // Change the last check symbol of every line.
                    let last = l.chars().last().unwrap();
                    let other = if last == '0' { '1' } else { '0' };
                    format!("{}{other}", &l[..l.len() - 1])
                }
            })
            .collect();
        let total = lines.len() - 1;
        let e = decode_bytes(&lines.join("\n")).unwrap_err();
        assert_eq!(
            e,
            TextError::ChecksumMismatch {
                lines: (1..=NAMED_LINES).collect(),
                more: total - NAMED_LINES
            }
        );
        assert_short(&e);
    }

    #[test]
    fn a_swapped_line_number_is_caught() {
        let data = vec![9u8; 100];
        let mut lines = encode_lines(&data);
        let (a, b) = (lines[0].clone(), lines[1].clone());
        lines[0] = format!("0002{}", &a[4..]);
        lines[1] = format!("0001{}", &b[4..]);
        assert!(matches!(
            decode_bytes(&lines.join("\n")),
            Err(TextError::ChecksumMismatch { .. })
        ));
    }

    /// A numbered line with these data symbols and its right check.
    fn line(n: usize, data: &[u8]) -> String {
        let c = check(n, data);
        let body: String = data
            .iter()
            .chain(&c)
            .map(|&s| char::from(ALPHABET[usize::from(s)]))
            .collect();
        format!("{n:04}: {body}")
    }

    /// An END line claiming `count` lines and the fingerprint of `bytes`.
    fn end_line(count: usize, bytes: &[u8]) -> String {
        let fp = Fingerprint::of_bytes(bytes).prefix_upper();
        format!("END {count:04} LINES FINGERPRINT {fp}")
    }

    fn refused(text: &str) -> TextError {
        decode_bytes(text).expect_err("bad text was accepted")
    }

    #[test]
    fn the_end_line_is_read_strictly_with_look_alikes_in_its_fingerprint() {
        let good = parse_end("END0002LINESFINGERPRINT0123456789ABCDEF").unwrap();
        assert_eq!(
            (good.count, good.fingerprint.as_str()),
            (2, "0123456789ABCDEF")
        );
        let alike = parse_end("END0002LINESFINGERPRINTOI23456789ABCDEL").unwrap();
        assert_eq!(alike.fingerprint, "0123456789ABCDE1");
        let max = parse_end(&format!("END{MAX_LINES}LINESFINGERPRINT0123456789ABCDEF"));
        assert_eq!(max.unwrap().count, MAX_LINES);
        for bad in [
            "END",
            "ENDLINESFINGERPRINT0123456789ABCDEF",
            "END0002FINGERPRINT0123456789ABCDEF",
            "END0002LINES0123456789ABCDEF",
            "END0002LINESFINGERPRINT0123456789ABCDE",
            "END0002LINESFINGERPRINT0123456789ABCDEF0",
            "END0002LINESFINGERPRINT0123456789ABCDEG",
            "ND0002LINESFINGERPRINT0123456789ABCDEF",
        ] {
            assert!(
                matches!(parse_end(bad), Err(TextError::BadEndLine)),
                "{bad}"
            );
        }
    }

    #[test]
    fn symbols_tolerate_case_and_look_alikes_only() {
        assert_eq!(symbol('a'), Some(10));
        assert_eq!(symbol('o'), Some(0));
        assert_eq!(symbol('O'), Some(0));
        assert_eq!(symbol('i'), Some(1));
        assert_eq!(symbol('L'), Some(1));
        assert_eq!(symbol('Z'), Some(31));
        assert_eq!(symbol('U'), None);
        assert_eq!(symbol('-'), None);
        assert_eq!(compact(" ab-c\td "), "ABCD");
        assert_eq!(look_alike_digits("O1IL2"), "01112");
    }

    #[test]
    fn each_fault_of_the_lines_is_named() {
        let bytes = vec![0x5a; 40]; // 64 symbols: lines of 30, 30 and 4
        let lines = encode_lines(&bytes);
        assert_eq!(lines.len(), 4);
        let end = &lines[3];
        let join = |ls: &[&str]| ls.join("\n");
        assert_eq!(refused(&join(&["hello", end])), TextError::NoLines);
        assert_eq!(
            refused(&join(&[&lines[0], &lines[1], &lines[2]])),
            TextError::MissingEnd
        );
        assert_eq!(
            refused(&join(&[&lines[0], &lines[0], &lines[1], &lines[2], end])),
            TextError::DuplicateLine { line: 1 }
        );
        let zero = line(0, &[1, 2, 3]);
        assert_eq!(
            refused(&join(&[&zero, &lines[0], &lines[1], &lines[2], end])),
            TextError::LineBeyondEnd { line: 0, count: 3 }
        );
        let four = line(4, &[1, 2, 3]);
        assert_eq!(
            refused(&join(&[&lines[0], &lines[1], &lines[2], &four, end])),
            TextError::LineBeyondEnd { line: 4, count: 3 }
        );
        let typo = lines[1].replacen(": ", ": U", 1);
        assert_eq!(
            refused(&join(&[&lines[0], &typo, &lines[2], end])),
            TextError::InvalidCharacter {
                line: 2,
                character: 'U'
            }
        );
        assert_eq!(
            refused(&join(&[&lines[0], &lines[2], end])),
            TextError::MissingLines {
                lines: vec![2],
                more: 0
            }
        );
    }

    #[test]
    fn a_line_number_is_digits_only() {
        // Rust's integer parser takes a sign; a typed line number does not, so the
        // line is not a numbered line and line 2 is missing.
        let lines = encode_lines(&[0x5a; 40]);
        let signed = lines[1].replacen("0002", "+002", 1);
        assert_eq!(
            refused(
                &[&lines[0], &signed, &lines[2], &lines[3]]
                    .map(String::as_str)
                    .join("\n")
            ),
            TextError::MissingLines {
                lines: vec![2],
                more: 0
            }
        );
    }

    #[test]
    fn line_lengths_are_checked_after_the_check_symbols() {
        let bytes = vec![0x5a; 40];
        let syms = symbols_of(&bytes);
        let (l1, l2, l3) = (&syms[..30], &syms[30..60], &syms[60..]);
        let end = end_line(3, &bytes);
        let text = |a: String, b: String, c: String| [a, b, c, end.clone()].join("\n");
        // A middle line one symbol short, its check recomputed.
        assert_eq!(
            refused(&text(line(1, l1), line(2, &l2[1..]), line(3, l3))),
            TextError::LineLength {
                line: 2,
                found: 29,
                expected: 30
            }
        );
        // The last line may be short, but never longer than a full line.
        let long: Vec<u8> = l3.iter().copied().cycle().take(31).collect();
        assert_eq!(
            refused(&text(line(1, l1), line(2, l2), line(3, &long))),
            TextError::LineLength {
                line: 3,
                found: 31,
                expected: 30
            }
        );
        // A line of two symbols has no room for data and check.
        assert_eq!(
            refused(&[line(1, l1), line(2, l2), "0003: AB".into(), end.clone()].join("\n")),
            TextError::LineLength {
                line: 3,
                found: 0,
                expected: 30
            }
        );
        // A last line of two data symbols: 62 symbols leave six bits over.
        let two = [line(1, l1), line(2, l2), line(3, &l3[..2]), end.clone()].join("\n");
        assert_eq!(refused(&two), TextError::BadSymbolCount { symbols: 62 });
    }

    #[test]
    fn the_symbols_must_be_whole_bytes_with_zero_padding() {
        // One symbol is five bits: no whole byte.
        let one = [line(1, &[4]), end_line(1, &[])].join("\n");
        assert_eq!(refused(&one), TextError::BadSymbolCount { symbols: 1 });
        // Two symbols are one byte and two padding bits, which must be zero.
        assert_eq!(symbols_of(&[0x21]), [4, 4]);
        let ok = [line(1, &[4, 4]), end_line(1, &[0x21])].join("\n");
        assert_eq!(decode_bytes(&ok).unwrap(), [0x21]);
        let padded = [line(1, &[4, 5]), end_line(1, &[0x21])].join("\n");
        assert_eq!(refused(&padded), TextError::BadSymbolCount { symbols: 2 });
        assert_eq!(bytes_of(&[4, 5]), None);
        // Five bits over are a symbol too many, even when they are zero.
        assert_eq!(bytes_of(&[0]), None);
        assert_eq!(bytes_of(&[0; 9]), None);
        assert_eq!(bytes_of(&[0; 8]), Some(vec![0; 5]));
        assert_eq!(bytes_of(&[4, 4]), Some(vec![0x21]));
    }

    #[test]
    fn a_wrong_fingerprint_on_the_end_line_is_named_with_both() {
        let bytes = vec![0x5a; 40];
        let mut lines = encode_lines(&bytes);
        lines[3] = end_line(3, b"other");
        let e = refused(&lines.join("\n"));
        assert_eq!(
            e,
            TextError::FingerprintMismatch {
                expected: Fingerprint::of_bytes(b"other").prefix_upper(),
                found: Fingerprint::of_bytes(&bytes).prefix_upper(),
            }
        );
        let junk = encode_lines(b"not an envelope").join("\n");
        assert!(
            matches!(decode_text(&junk), Err(TextError::Envelope(_))),
            "{:?}",
            decode_text(&junk)
        );
        let e = crate::envelope::format::tests::sample();
        let typed = envelope_to_lines(&e).unwrap().join("\n");
        assert_eq!(decode_text(&typed).unwrap(), e);
    }

    #[test]
    fn wrapped_lines_are_read_as_one_stream() {
        let bytes: Vec<u8> = (0..200u32).map(|i| (i * 29) as u8).collect();
        let lines = encode_lines(&bytes);
        // Typed without line breaks, then wrapped at an arbitrary column.
        let flat = lines.join(" ");
        let wrapped: Vec<String> = flat
            .as_bytes()
            .chunks(23)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        assert_eq!(decode_bytes(&wrapped.join("\n")).unwrap(), bytes);
        assert_eq!(decode_bytes(&flat).unwrap(), bytes);
        // A note before the block, with a colon of its own, is not a line number.
        let noted = format!("Note: wrapped by the mail client\n{}", wrapped.join("\n"));
        assert_eq!(decode_bytes(&noted).unwrap(), bytes);
        // A stream with a number of the wrong width is not read.
        let short = flat.replacen("0002:", "2:", 1);
        assert!(decode_bytes(&short).is_err());
    }

    #[test]
    fn messages_name_one_line_or_several() {
        let one = TextError::ChecksumMismatch {
            lines: vec![3],
            more: 0,
        };
        assert_eq!(
            one.to_string(),
            "line 3: checksum mismatch — check the characters on that line"
        );
        let many = TextError::ChecksumMismatch {
            lines: vec![3, 5],
            more: 2,
        };
        assert_eq!(
            many.to_string(),
            "lines 3, 5 and 2 more: checksum mismatch — check the characters on those lines"
        );
        let missing = |lines: Vec<usize>, more| TextError::MissingLines { lines, more }.to_string();
        assert_eq!(missing(vec![2], 0), "line 2 missing — type it");
        assert_eq!(missing(vec![2, 4], 0), "lines 2, 4 missing — type them");
        assert_eq!(
            missing(vec![2], 1),
            "lines 2 and 1 more missing — type them, or correct the count on the END line"
        );
        let unread = TextError::Uncorrectable {
            lines: vec![7],
            more: 0,
        };
        assert!(
            unread.to_string().starts_with("line 7: the check fails")
                && unread
                    .to_string()
                    .ends_with("compare that line with the paper and correct it by hand"),
            "{unread}"
        );
    }

    #[test]
    fn a_line_key_and_check_follow_the_line_number() {
        assert_ne!(line_key(1), line_key(2));
        assert_eq!(check(5, &[]), [line_key(5).0, line_key(5).1]);
        // A single changed symbol, and a swap of two neighbours, change the check.
        let data: Vec<u8> = (0..30).map(|i| (i * 7 % 32) as u8).collect();
        for j in 0..30 {
            let mut d = data.clone();
            d[j] ^= 1;
            assert_ne!(check(9, &d), check(9, &data), "column {j}");
        }
        for j in 0..29 {
            let mut d = data.clone();
            d.swap(j, j + 1);
            if d != data {
                assert_ne!(check(9, &d), check(9, &data), "swap {j}");
            }
        }
        assert_eq!(gf_mul(0x10, 2), 0x05);
        assert_eq!(gf_mul(3, 7), 9);
    }
}
