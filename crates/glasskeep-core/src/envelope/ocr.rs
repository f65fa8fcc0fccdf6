//! Reading the typed-text fallback back from OCR output (`glasskeep envelope read`).
//!
//! OCR engines do not type like people: they misread one glyph as another of similar
//! shape (0 as D or Q, 5 as S, 8 as B, 2 as Z), print an `@` for a zero, scatter
//! punctuation where a stroke is faint, and read two columns as one line. This reader
//! takes every numbered line wherever it starts on a physical line, drops what is not
//! a letter, digit or colon, and where a line's check fails tries every single
//! substitution of a look-alike character until the check passes.
//!
//! Why a single substitution can be trusted: the line check (docs/FORMAT.md, "Text
//! fallback") detects every error touching at most two symbols, so its codewords are
//! at least three substitutions apart. A line read with one misread has exactly one
//! codeword one substitution away: the printed line. A line with two or more misreads
//! may find none (refused) or, rarely, a wrong one; more than one candidate is refused
//! as well, and the envelope's fingerprint on the END line (64 bits) checks the whole
//! at the end, so a wrong correction cannot pass unnoticed.

use super::format::{Envelope, EnvelopeError};
use super::text::{
    assemble, check_keyed, column_coefficient, compact, gf_mul, line_key, look_alike_digits,
    parse_end, symbol, End, Lines, Named, TextError, ALPHABET, SYMBOLS_PER_LINE,
};

/// Misreads of OCR-B that tesseract makes, as (printed, read): a symbol may be
/// corrected from what was read to what was printed. Measured on 300 dpi renderings
/// of envelope PDFs; O, I, L and U are already read as 0, 1, 1 and V (so a 9 read as
/// an I, its bowl lost, is the pair ('9', '1')). The first four are by far the most
/// common and cost [`COMMON`]; the others [`RARE`].
const MISREADS: [(char, char); 20] = [
    ('5', 'S'),
    ('S', '5'),
    ('9', 'Y'),
    ('9', '0'),
    ('0', 'D'),
    ('0', 'Q'),
    ('Q', '0'),
    ('D', '0'),
    ('8', 'B'),
    ('B', '8'),
    ('S', '8'),
    ('2', 'Z'),
    ('Z', '2'),
    ('6', 'G'),
    ('G', '6'),
    ('1', 'J'),
    ('J', '1'),
    ('J', 'D'),
    ('9', '1'),
    ('Q', 'A'),
];

/// One printed 9 that tesseract reads as two glyphs.
const SPLIT_NINES: [(char, char); 7] = [
    ('1', '0'),
    ('Y', '0'),
    ('9', '0'),
    ('1', '9'),
    ('D', 'Y'),
    ('Q', 'Y'),
    ('9', 'Y'),
];

/// The cost of a common misread (the first four of [`MISREADS`]) or of joining a
/// split 9.
const COMMON: usize = 1;
/// The cost of any other misread, or of dropping a character the OCR added.
const RARE: usize = 2;
/// Most combinations of tied line readings tried against the fingerprint.
const MAX_COMBINATIONS: usize = 256;
/// The cost of putting back a character the OCR lost (one of 32, so dearer).
const LOST: usize = 3;
/// Most cost the reader spends on one line. The cheapest reading the check accepts
/// wins; a tie is refused. Cheap changes are the likely ones, so the true line is
/// almost always the cheapest; should a wrong line pass its check instead, the
/// envelope's fingerprint on the END line refuses the whole.
const MAX_COST: usize = 5;
/// Most readings the search of one line goes over. A line with one misread takes about
/// a thousand, with three some forty thousand; a line of nothing but look-alikes could
/// take millions. A line the search gives up on is refused like one nothing explains.
const LINE_READINGS: usize = 200_000;
/// Most readings the search of a whole text goes over: this many, and
/// [`READINGS_PER_LINE`] more for each line read, so the work follows the text's size.
/// Lines searched after it is spent are refused.
const TEXT_READINGS: usize = 500_000;
const READINGS_PER_LINE: usize = 2_000;

/// One correction [`decode_ocr`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The line number.
    pub line: usize,
    /// The symbol's position on the line, from 1 (the check symbols are the last two).
    pub column: usize,
    /// What the OCR read.
    pub read: char,
    /// What the line check says was printed there; `None` when the OCR added the
    /// character and it was dropped.
    pub printed: Option<char>,
}

/// What OCR output decoded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrReading {
    /// The envelope's encoded record.
    pub bytes: Vec<u8>,
    /// The substitutions made, in line order.
    pub corrections: Vec<Correction>,
}

impl OcrReading {
    /// The envelope the bytes encode.
    pub fn envelope(&self) -> Result<Envelope, EnvelopeError> {
        Envelope::decode(&self.bytes)
    }
}

fn char_of(symbol: u8) -> char {
    char::from(ALPHABET[usize::from(symbol & 31)])
}

/// A character as OCR engines print it, mapped to what it stands for on the page.
fn normalise(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut prev = ' ';
    let chars: Vec<char> = line.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // The page prints capitals only. A lowercase letter beside the same capital
        // (`Ww`, `wW`) is the one glyph read twice: tesseract's ghost of it.
        if c.is_ascii_lowercase() {
            let upper = c.to_ascii_uppercase();
            if prev == upper || chars.get(i + 1) == Some(&upper) {
                continue;
            }
        }
        let c = match c.to_ascii_uppercase() {
            // OCR-B's Q has a tail that tesseract reads as a second glyph.
            '@' if prev == 'Q' => continue,
            '@' => '0',
            '£' => 'E',
            ';' => ':',
            'U' => 'V',
            c => c,
        };
        out.push(c);
        prev = c;
    }
    out
}

/// Digits of a line number as read: every look-alike of a digit is that digit (a line
/// number holds nothing else).
fn number_of(token: &str) -> Option<usize> {
    let digits: String = look_alike_digits(token)
        .chars()
        .map(|c| match c {
            'D' | 'Q' => '0',
            'J' | 'T' => '1',
            'Z' => '2',
            'S' => '5',
            'G' => '6',
            'B' => '8',
            c => c,
        })
        .collect();
    // Printed numbers have at least four digits; a time such as 11:06:40 does not.
    if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A numbered line as read: its groups of characters, as the OCR spaced them.
type ReadLine = (usize, Vec<String>);

/// Numbered lines and the END line, wherever they start on a physical line.
fn read_lines(text: &str) -> Result<(Vec<ReadLine>, Option<End>), TextError> {
    let mut lines = Vec::new();
    let mut end = None;
    for raw in text.lines() {
        let norm = normalise(raw);
        let mut current: Option<ReadLine> = None;
        let tokens: Vec<&str> = norm.split_whitespace().collect();
        for (i, token) in tokens.iter().enumerate() {
            // The END line may share a physical line with the other column's last line.
            if token.starts_with("END") {
                let rest: String = compact(&tokens[i..].concat())
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect();
                if rest.contains("LINES") {
                    end = Some(parse_end(&rest)?);
                    break;
                }
            }
            let token: String = token
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == ':')
                .collect();
            if let Some((number, rest)) = token.split_once(':') {
                if let Some(n) = number_of(number) {
                    lines.extend(current.take());
                    let rest: String = rest.chars().filter(|c| *c != ':').collect();
                    current = Some((
                        n,
                        vec![rest].into_iter().filter(|g| !g.is_empty()).collect(),
                    ));
                    continue;
                }
            }
            if let Some((_, groups)) = current.as_mut() {
                let g: String = token.chars().filter(|c| *c != ':').collect();
                if !g.is_empty() {
                    groups.push(g);
                }
            }
        }
        lines.extend(current);
    }
    Ok((lines, end))
}

/// A candidate reading of one line: its symbols and the corrections that made it.
type Candidate = (Vec<u8>, Vec<Correction>);

#[cfg(test)]
thread_local! {
    /// The readings the searches on this thread went over, for tests.
    static VISITS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether a reading passes its line's check, `key` being the line's [`line_key`].
fn passes(key: (u8, u8), syms: &[u8]) -> bool {
    syms.len() >= 3 && {
        let (data, given) = syms.split_at(syms.len() - 2);
        check_keyed(key, data) == [given[0], given[1]]
    }
}

/// What the search carries along one line: the reading, where characters may be
/// dropped, the line's number and printed length, the reading being built with its
/// check so far, and the candidates found.
struct Search<'a> {
    n: usize,
    read: &'a [u8],
    droppable: &'a [bool],
    /// Where a character the OCR lost may be put back (before position i; the last
    /// entry is the end of the line): inside a group shorter than printed.
    insertable: &'a [bool],
    /// The printed lengths possible: exactly 32 symbols, or 3 to 32 on the last line
    /// (1 to 30 data symbols and the check). A reading that can no longer end within
    /// them is abandoned, so the search is bounded on every line, the last included.
    printed: std::ops::RangeInclusive<usize>,
    /// The reading so far, and the corrections it took.
    out: Vec<u8>,
    fixes: Vec<Correction>,
    /// `checks[i]` is the check of `out[..i]` as data: built a symbol at a time, so a
    /// finished reading is checked without going over it again.
    checks: Vec<[u8; 2]>,
    /// What the search may spend on corrections in the current pass.
    budget: usize,
    /// The readings gone over so far, how many it may, and whether it stopped there.
    visits: usize,
    max_visits: usize,
    gave_up: bool,
    found: Vec<(usize, Candidate)>,
}

impl Search<'_> {
    fn push(&mut self, s: u8) {
        let i = self.out.len();
        let [c0, c1] = self.checks[i];
        self.checks
            .push([c0 ^ s, c1 ^ gf_mul(column_coefficient(i), s)]);
        self.out.push(s);
    }

    fn pop(&mut self) {
        self.out.pop();
        self.checks.pop();
    }

    /// Whether the reading built so far passes the line's check.
    fn passes(&self) -> bool {
        let len = self.out.len();
        len >= 3 && self.checks[len - 2] == [self.out[len - 2], self.out[len - 1]]
    }

    fn walk(&mut self, pos: usize, left: usize) {
        if self.insertable[pos] && LOST <= left {
            for s in 0..32u8 {
                self.push(s);
                self.fixes.push(Correction {
                    line: self.n,
                    column: pos + 1,
                    read: ' ',
                    printed: Some(char_of(s)),
                });
                self.walk_from(pos, left - LOST);
                self.fixes.pop();
                self.pop();
            }
        }
        self.walk_from(pos, left);
    }

    fn walk_from(&mut self, pos: usize, left: usize) {
        if self.visits == self.max_visits {
            self.gave_up = true;
            return;
        }
        self.visits += 1;
        let remaining = self.read.len() - pos;
        let len = self.out.len();
        // At most one lost character is put back per group: fewer than the shortest
        // printed line cannot grow into one, and each dropped character costs at least
        // one, so more than the longest plus what is left to spend cannot shrink into one.
        if len + remaining + usize::from(self.insertable[pos..].iter().any(|&b| b))
            < *self.printed.start()
            || len + remaining > self.printed.end() + left
        {
            return;
        }
        if pos == self.read.len() {
            if self.printed.contains(&len) && self.passes() {
                self.found
                    .push((self.budget - left, (self.out.clone(), self.fixes.clone())));
            }
            return;
        }
        let c = char_of(self.read[pos]);
        self.push(self.read[pos]);
        self.walk(pos + 1, left);
        self.pop();
        if left == 0 {
            return;
        }
        let column = pos + 1;
        for (k, &(printed, read)) in MISREADS.iter().enumerate() {
            let cost = if k < 4 { COMMON } else { RARE };
            if read == c && cost <= left {
                if let Some(s) = symbol(printed) {
                    self.push(s);
                    self.fixes.push(Correction {
                        line: self.n,
                        column,
                        read: c,
                        printed: Some(printed),
                    });
                    self.walk(pos + 1, left - cost);
                    self.fixes.pop();
                    self.pop();
                }
            }
        }
        if self.droppable[pos] && RARE <= left {
            self.fixes.push(Correction {
                line: self.n,
                column,
                read: c,
                printed: None,
            });
            self.walk(pos + 1, left - RARE);
            self.fixes.pop();
        }
        if let Some(&next) = self.read.get(pos + 1) {
            if SPLIT_NINES.contains(&(c, char_of(next))) {
                self.push(9);
                self.fixes.push(Correction {
                    line: self.n,
                    column,
                    read: c,
                    printed: Some('9'),
                });
                self.fixes.push(Correction {
                    line: self.n,
                    column: column + 1,
                    read: char_of(next),
                    printed: None,
                });
                self.walk(pos + 2, left - COMMON);
                self.fixes.truncate(self.fixes.len() - 2);
                self.pop();
            }
        }
    }
}

/// The readings of line `n` that pass its check at the lowest cost (at most
/// [`MAX_COST`]): one as a rule, none when nothing explains the line, several on a
/// tie (the envelope's fingerprint then chooses).
fn correct_line(
    n: usize,
    groups: &[String],
    last: bool,
    allowance: &mut usize,
) -> Result<Vec<Candidate>, TextError> {
    // Printed groups hold 5 symbols and the check group 2: when the OCR kept seven
    // groups, an added character sits in a group that is too long.
    let grouped = groups.len() == 7;
    let mut syms = Vec::new();
    let mut droppable = Vec::new();
    let mut short_spans = Vec::new();
    for (k, g) in groups.iter().enumerate() {
        let printed = if k == 6 { 2 } else { 5 };
        if grouped && g.len() < printed {
            short_spans.push(syms.len()..=syms.len() + g.len());
        }
        for c in g.chars() {
            syms.push(symbol(c).ok_or(TextError::InvalidCharacter {
                line: n,
                character: c,
            })?);
            droppable.push(!grouped || g.len() > printed);
        }
    }
    let insertable: Vec<bool> = (0..=syms.len())
        .map(|i| short_spans.iter().any(|r| r.contains(&i)))
        .collect();
    let key = line_key(n);
    if (last || syms.len() == SYMBOLS_PER_LINE + 2) && passes(key, &syms) {
        return Ok(vec![(syms, Vec::new())]);
    }
    let mut search = Search {
        n,
        read: &syms,
        droppable: &droppable,
        insertable: &insertable,
        printed: if last { 3 } else { SYMBOLS_PER_LINE + 2 }..=SYMBOLS_PER_LINE + 2,
        out: Vec::new(),
        fixes: Vec::new(),
        checks: vec![check_keyed(key, &[])],
        budget: 0,
        visits: 0,
        max_visits: LINE_READINGS.min(*allowance),
        gave_up: false,
        found: Vec::new(),
    };
    // Cheapest first: a line with one misread is found after spending 1 or 2, without
    // going over the far more numerous readings that would cost 5.
    for budget in 1..=MAX_COST {
        search.budget = budget;
        search.walk(0, budget);
        if !search.found.is_empty() || search.gave_up {
            break;
        }
    }
    *allowance -= search.visits;
    #[cfg(test)]
    VISITS.with(|v| v.set(v.get() + search.visits));
    if search.gave_up {
        // A pass cut short may have missed a reading as cheap as those it found.
        return Ok(Vec::new());
    }
    let mut found = search.found;
    let Some(fewest) = found.iter().map(|(k, _)| *k).min() else {
        return Ok(Vec::new());
    };
    found.retain(|(k, _)| *k == fewest);
    found.sort_by(|a, b| a.1 .0.cmp(&b.1 .0));
    found.dedup_by(|a, b| a.1 .0 == b.1 .0);
    Ok(found.into_iter().map(|(_, c)| c).collect())
}

/// Fingerprint prefixes that differ only where OCR confuses hex digits.
fn same_but_for_look_alikes(read: &str, actual: &str) -> bool {
    read.len() == actual.len()
        && read.chars().zip(actual.chars()).all(|(r, a)| {
            r == a
                || matches!(
                    (r, a),
                    ('D' | 'Q', '0')
                        | ('S', '5')
                        | ('B', '8')
                        | ('Z', '2')
                        | ('G', '6')
                        | ('8', 'B')
                        | ('0', 'D')
                        | ('F', 'E')
                        | ('E', 'F')
                        | ('4', 'A')
                        | ('A', '4')
                )
        })
}

/// Decodes OCR output of an envelope's text fallback, correcting single look-alike
/// misreads by each line's check. Refuses, naming them, lines no single look-alike
/// substitution explains; every other failure is the typed-text decoder's.
pub fn decode_ocr(text: &str) -> Result<OcrReading, TextError> {
    let (read, end) = read_lines(text)?;
    if read.is_empty() {
        return Err(TextError::NoLines);
    }
    // Which line is the last (the only one that may be short) comes from END.
    let end = end.ok_or(TextError::MissingEnd)?;
    let last_line = Some(end.count);
    // Lines past the END count, or read twice, are refused before any is corrected: the
    // correction's work then follows the lines an envelope can have, not the text.
    let mut seen = std::collections::BTreeSet::new();
    for (n, _) in &read {
        if *n > end.count {
            return Err(TextError::LineBeyondEnd {
                line: *n,
                count: end.count,
            });
        }
        if !seen.insert(*n) {
            return Err(TextError::DuplicateLine { line: *n });
        }
    }
    let mut lines: Vec<(usize, Vec<Candidate>)> = Vec::with_capacity(read.len());
    let mut bad = Vec::new();
    let mut allowance = TEXT_READINGS + READINGS_PER_LINE * read.len();
    for (n, groups) in read {
        let found = correct_line(n, &groups, Some(n) == last_line, &mut allowance)?;
        if found.is_empty() {
            bad.push(n);
        }
        lines.push((n, found));
    }
    // Ties are settled by the envelope's fingerprint: every combination of the tied
    // readings is tried, as long as there are few.
    let combinations = lines
        .iter()
        .try_fold(1usize, |acc, (_, c)| acc.checked_mul(c.len().max(1)))
        .filter(|&k| k <= MAX_COMBINATIONS);
    if combinations.is_none() {
        bad.extend(lines.iter().filter(|(_, c)| c.len() > 1).map(|(n, _)| *n));
    }
    if !bad.is_empty() {
        // Columns are read side by side: name the lines in ascending order.
        bad.sort_unstable();
        let mut named = Named::default();
        for n in bad {
            named.push(n);
        }
        return Err(TextError::Uncorrectable {
            lines: named.lines,
            more: named.more,
        });
    }
    let mut first_error = None;
    for k in 0..combinations.unwrap_or(1) {
        let mut rest = k;
        let mut chosen: Lines = Vec::with_capacity(lines.len());
        let mut corrections = Vec::new();
        for (n, found) in &lines {
            let (syms, fixes) = &found[rest % found.len()];
            rest /= found.len();
            chosen.push((*n, syms.clone()));
            corrections.extend(fixes.iter().cloned());
        }
        let end = End {
            count: end.count,
            fingerprint: end.fingerprint.clone(),
        };
        match assemble(chosen, Ok(end)) {
            Ok((bytes, (expected, found))) => {
                if same_but_for_look_alikes(&expected, &found) {
                    corrections.sort_by_key(|c| (c.line, c.column));
                    return Ok(OcrReading { bytes, corrections });
                }
                // With corrections made, the likeliest cause is a corrected line that
                // passed its check wrongly: name those lines, not the END line.
                let mut corrected: Vec<usize> = corrections.iter().map(|c| c.line).collect();
                corrected.sort_unstable();
                corrected.dedup();
                first_error.get_or_insert(if corrected.is_empty() {
                    TextError::FingerprintMismatch { expected, found }
                } else {
                    let mut named = Named::default();
                    for n in corrected {
                        named.push(n);
                    }
                    TextError::Uncorrectable {
                        lines: named.lines,
                        more: named.more,
                    }
                });
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(TextError::NoLines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::text::encode_lines;

    #[test]
    fn a_long_last_line_is_refused_without_trying_every_reading() {
        // Found by reading the search: the last line had no length bound, so a last
        // line of 300 look-alikes made it try some 10^10 readings before refusing.
        let text = format!(
            "0001: {}\nEND 1 LINES FINGERPRINT 0000 0000 0000 0000",
            "S".repeat(300)
        );
        assert!(matches!(
            decode_ocr(&text),
            Err(TextError::Uncorrectable { .. })
        ));
    }

    #[test]
    fn lines_past_the_end_or_read_twice_are_refused_before_any_is_corrected() {
        let line = format!("0001: {}", "S".repeat(40));
        let text = format!("{line}\n{line}\nEND 1 LINES FINGERPRINT 0000 0000 0000 0000");
        assert_eq!(decode_ocr(&text), Err(TextError::DuplicateLine { line: 1 }));
        let text = format!("{line}\n0002: SSSSS\nEND 1 LINES FINGERPRINT 0000 0000 0000 0000");
        assert_eq!(
            decode_ocr(&text),
            Err(TextError::LineBeyondEnd { line: 2, count: 1 })
        );
    }

    #[test]
    fn lines_of_look_alikes_are_given_up_on_after_a_bounded_search() {
        // Found by timing the fuzz corpus: a line of look-alikes, or of pairs a split 9
        // could explain, took up to 7 million readings to refuse (0.2 s each, and a text
        // holds thousands of lines).
        let bad = ["S5Y0S 5Y0S5 Y0S5Y 0S5Y0 S5Y0S 5Y0S  Y0 Q", &"10".repeat(17)];
        for line in &bad {
            VISITS.with(|v| v.set(0));
            let text = format!("0001: {line}\nEND 1 LINES FINGERPRINT 0000 0000 0000 0000");
            assert!(matches!(
                decode_ocr(&text),
                Err(TextError::Uncorrectable { .. })
            ));
            assert_eq!(VISITS.with(|v| v.get()), LINE_READINGS, "{line}");
        }
        // A hundred such lines spend what the whole text is allowed; those past it are
        // refused unsearched (one of the hundred happens to pass its check after a few
        // corrections, the fingerprint refusing it then).
        let mut text: Vec<String> = (1..=100)
            .map(|n| format!("{n:04}: {}", bad[n % 2]))
            .collect();
        text.push("END 100 LINES FINGERPRINT 0000 0000 0000 0000".into());
        VISITS.with(|v| v.set(0));
        match decode_ocr(&text.join("\n")) {
            Err(TextError::Uncorrectable { lines, more }) => {
                assert_eq!(lines.len() + more, 99)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            VISITS.with(|v| v.get()),
            TEXT_READINGS + 100 * READINGS_PER_LINE
        );
    }

    #[test]
    fn three_misreads_on_one_line_are_corrected_within_the_line_budget() {
        let (data, lines) = sample();
        let body: String = lines[3]
            .split_once(": ")
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let spots: Vec<(usize, char)> = body
            .chars()
            .enumerate()
            .take(32)
            .filter_map(|(k, c)| MISREADS.iter().find(|(p, _)| *p == c).map(|&(_, r)| (k, r)))
            .collect();
        assert!(spots.len() >= 3, "{body}");
        let mut read = lines.clone();
        for &(k, r) in [spots[0], spots[spots.len() / 2], spots[spots.len() - 1]].iter() {
            read = with_char(&read, 3, k, r);
        }
        VISITS.with(|v| v.set(0));
        let r = decode_ocr(&read.join("\n")).unwrap();
        assert_eq!((r.bytes, r.corrections.len()), (data, 3));
        assert!(VISITS.with(|v| v.get()) < LINE_READINGS / 2);
    }

    fn sample() -> (Vec<u8>, Vec<String>) {
        let data: Vec<u8> = (0..400u32).map(|i| (i * 7 + 3) as u8).collect();
        let lines = encode_lines(&data);
        (data, lines)
    }

    /// Line `i` (0-based) with its `k`-th data character replaced by `c`.
    fn with_char(lines: &[String], i: usize, k: usize, c: char) -> Vec<String> {
        let mut out = lines.to_vec();
        let (number, body) = out[i].split_once(": ").unwrap();
        let mut chars: Vec<char> = body.chars().collect();
        let pos = chars
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_whitespace())
            .nth(k)
            .unwrap()
            .0;
        chars[pos] = c;
        out[i] = format!("{number}: {}", chars.into_iter().collect::<String>());
        out
    }

    /// `lines` joined, with line `i`'s groups as `edit` leaves them.
    fn regrouped(lines: &[String], i: usize, edit: impl FnOnce(&mut Vec<String>)) -> String {
        let mut out = lines.to_vec();
        let (number, body) = out[i].split_once(": ").unwrap();
        let mut groups: Vec<String> = body.split_whitespace().map(String::from).collect();
        edit(&mut groups);
        out[i] = format!("{number}: {}", groups.join(" "));
        out.join("\n")
    }

    #[test]
    fn a_character_added_to_a_group_or_lost_from_one_is_dropped_or_put_back() {
        let (data, lines) = sample();
        let i = 2;
        let groups: Vec<String> = lines[i][6..].split_whitespace().map(String::from).collect();
        let read = |text: String| {
            VISITS.with(|v| v.set(0));
            let r = decode_ocr(&text).unwrap();
            assert_eq!(r.bytes, data);
            (r.corrections, VISITS.with(|v| v.get()))
        };
        let mut work = Vec::new();
        // Lost: the last symbol of the first group, the first of the third.
        for (g, k) in [(0, 4), (2, 0)] {
            let printed = char::from(groups[g].as_bytes()[k]);
            let (fixes, visits) = read(regrouped(&lines, i, |gs| {
                gs[g].remove(k);
            }));
            let column = g * 5 + k + 1;
            assert_eq!(
                fixes,
                [Correction {
                    line: 3,
                    column,
                    read: ' ',
                    printed: Some(printed)
                }]
            );
            work.push(visits);
        }
        // Added: a W inside the second group.
        let added = Correction {
            line: 3,
            column: 8,
            read: 'W',
            printed: None,
        };
        let (fixes, visits) = read(regrouped(&lines, i, |gs| gs[1].insert(2, 'W')));
        assert_eq!(fixes, std::slice::from_ref(&added));
        work.push(visits);
        // With the groups run together, any character may be dropped, none put back.
        let joined = |gs: &mut Vec<String>| *gs = vec![gs.concat()];
        let (fixes, visits) = read(regrouped(&lines, i, |gs| {
            gs[1].insert(2, 'W');
            joined(gs);
        }));
        assert_eq!(fixes, [added]);
        work.push(visits);
        let lost = regrouped(&lines, i, |gs| {
            gs[0].remove(4);
            joined(gs);
        });
        assert_eq!(
            decode_ocr(&lost),
            Err(TextError::Uncorrectable {
                lines: vec![3],
                more: 0
            })
        );
        // The readings each search went over. Which positions may take a lost
        // character or lose an added one, and the bounds that cut a search short, all
        // show here first: the counts change only when the search does.
        assert_eq!(work, [4830, 3370, 278, 686]);
    }

    /// Full lines of `lines` that, with one character lost, have more than one
    /// cheapest reading: for each, the line's index, its groups so damaged, and where
    /// the printed reading stands among the tied ones (they are in symbol order).
    fn ties(lines: &[String]) -> Vec<(usize, Vec<String>, usize)> {
        let mut out = Vec::new();
        for (i, line) in lines[..lines.len() - 2].iter().enumerate() {
            let groups: Vec<String> = line[6..].split_whitespace().map(String::from).collect();
            let printed: Vec<u8> = groups
                .concat()
                .chars()
                .map(|c| symbol(c).unwrap())
                .collect();
            let tie = (0..30).find_map(|p| {
                let mut damaged = groups.clone();
                damaged[p / 5].remove(p % 5);
                let mut allowance = usize::MAX;
                let found = correct_line(i + 1, &damaged, false, &mut allowance).unwrap();
                let at = found.iter().position(|(syms, _)| *syms == printed)?;
                (found.len() > 1).then_some((i, damaged, at))
            });
            out.extend(tie);
        }
        out
    }

    #[test]
    fn tied_readings_are_settled_by_the_fingerprint_and_too_many_are_refused() {
        let (data, lines) = sample();
        let ties = ties(&lines);
        // Two tied lines, the first read as its first reading and the second as a
        // later one: only going over every combination finds the printed pair.
        let first = ties.iter().find(|t| t.2 == 0).unwrap();
        let second = ties.iter().find(|t| t.0 > first.0 && t.2 > 0).unwrap();
        let mut text = lines.clone();
        for (i, groups, _) in [first, second] {
            text[*i] = format!("{}: {}", &lines[*i][..4], groups.join(" "));
        }
        let r = decode_ocr(&text.join("\n")).unwrap();
        assert_eq!(r.bytes, data);
        assert_eq!(
            r.corrections.iter().map(|c| c.line).collect::<Vec<_>>(),
            [first.0 + 1, second.0 + 1]
        );
        // Nine lines tied two ways or more: over 256 combinations, so the tied lines
        // are named and none is guessed at; a line read one way only is not, though
        // it too was corrected.
        assert!(ties.len() >= 9, "{}", ties.len());
        let mut text = lines.clone();
        for (i, groups, _) in &ties[..9] {
            text[*i] = format!("{}: {}", &lines[*i][..4], groups.join(" "));
        }
        let untied = (0..lines.len() - 1)
            .find(|i| !ties[..9].iter().any(|t| t.0 == *i) && lines[*i][6..].contains('5'))
            .unwrap();
        text[untied] = format!(
            "{}{}",
            &lines[untied][..6],
            lines[untied][6..].replacen('5', "S", 1)
        );
        let named: Vec<usize> = ties[..9].iter().map(|t| t.0 + 1).collect();
        assert_eq!(
            decode_ocr(&text.join("\n")),
            Err(TextError::Uncorrectable {
                lines: named,
                more: 0
            })
        );
    }

    #[test]
    fn each_kind_of_misread_is_corrected_at_its_cost() {
        let (data, lines) = sample();
        let read = |text: String| {
            VISITS.with(|v| v.set(0));
            let r = decode_ocr(&text).unwrap();
            assert_eq!(r.bytes, data);
            (r.corrections, VISITS.with(|v| v.get()))
        };
        let fix = |line: usize, column: usize, read: char, printed: Option<char>| Correction {
            line: line + 1,
            column,
            read,
            printed,
        };
        // The column of the byte offset `k` on line `i`: its symbol's place, from 1.
        let column = |i: usize, k: usize| {
            lines[i][6..k]
                .chars()
                .filter(|c| !c.is_whitespace())
                .count()
                + 1
        };
        let mut work = Vec::new();
        // A common misread (a 5 read as S) and a rarer one (a 0 read as D).
        for (printed, as_read) in [('5', "S"), ('0', "D")] {
            let (i, k) = first_holding(&lines, printed);
            let (fixes, visits) = read(spliced(&lines, i, k..k + 1, as_read));
            let c = as_read.chars().next().unwrap();
            assert_eq!(fixes, [fix(i, column(i, k), c, Some(printed))]);
            work.push(visits);
        }
        // A 9 read as two glyphs, 1 and 0: one correction each.
        let (i, k) = first_holding(&lines, '9');
        let (fixes, visits) = read(spliced(&lines, i, k..k + 1, "10"));
        let nine = [
            fix(i, column(i, k), '1', Some('9')),
            fix(i, column(i, k) + 1, '0', None),
        ];
        assert_eq!(fixes, nine);
        work.push(visits);
        // The same, with a 5 further on the line read as S: the corrections made on
        // the way to other readings leave none behind.
        let five = k + lines[i][k..].find('5').unwrap();
        let mut text = lines.clone();
        text[i].replace_range(five..five + 1, "S");
        let (fixes, visits) = read(spliced(&text, i, k..k + 1, "10"));
        let mut three = nine.to_vec();
        // Its column is one further on: the 9 before it was read as two glyphs.
        three.push(fix(i, column(i, five) + 1, 'S', Some('5')));
        assert_eq!(fixes, three);
        work.push(visits);
        // The readings each search went over: the costs of the corrections decide in
        // which pass a reading is found, and so show here first.
        assert_eq!(work, [168, 835, 60, 521]);
    }

    #[test]
    fn clean_text_reads_without_corrections() {
        let (data, lines) = sample();
        VISITS.with(|v| v.set(0));
        let r = decode_ocr(&lines.join("\n")).unwrap();
        assert_eq!((r.bytes, r.corrections), (data, vec![]));
        // Every line passes its check as read: none is searched.
        assert_eq!(VISITS.with(|v| v.get()), 0);
    }

    /// The first `c` in the groups with neither neighbour the same: its line's index and
    /// its byte offset.
    fn first_holding(lines: &[String], c: char) -> (usize, usize) {
        lines[..lines.len() - 1]
            .iter()
            .enumerate()
            .find_map(|(i, l)| {
                let b = l.as_bytes();
                (6..b.len() - 1)
                    .find(|&k| b[k] == c as u8 && b[k - 1] != b[k] && b[k + 1] != b[k])
                    .map(|k| (i, k))
            })
            .unwrap()
    }

    /// Asserts that `text` decodes to `data` with no correction made.
    fn reads_without_corrections(text: &str, data: &[u8]) {
        let r = decode_ocr(text).unwrap();
        assert_eq!(
            (&r.bytes[..], &r.corrections[..]),
            (data, &[][..]),
            "{text}"
        );
    }

    /// `lines` with line `i`'s byte range `at` replaced by `with`.
    fn spliced(lines: &[String], i: usize, at: std::ops::Range<usize>, with: &str) -> String {
        let mut out = lines.to_vec();
        out[i].replace_range(at, with);
        out.join("\n")
    }

    #[test]
    fn lowercase_letters_read_as_capitals_and_a_ghost_before_its_capital_is_dropped() {
        let (data, lines) = sample();
        let clean = |text: &str| reads_without_corrections(text, &data);
        let (i, k) = first_holding(&lines, 'W');
        // A lowercase letter alone stands for its capital.
        clean(&spliced(&lines, i, k..k + 1, "w"));
        // The ghost before the capital (`wW`), as after it (`Ww`), is one glyph.
        clean(&spliced(&lines, i, k..k + 1, "wW"));
        clean(&spliced(&lines, i, k..k + 1, "Ww"));
    }

    #[test]
    fn an_at_sign_is_a_zero_and_after_a_q_its_tail() {
        let (data, lines) = sample();
        let clean = |text: &str| reads_without_corrections(text, &data);
        let (i, k) = first_holding(&lines, '0');
        assert_ne!(lines[i].as_bytes()[k - 1], b'Q');
        clean(&spliced(&lines, i, k..k + 1, "@"));
        let (i, k) = first_holding(&lines, 'Q');
        clean(&spliced(&lines, i, k..k + 1, "Q@"));
    }

    #[test]
    fn a_line_number_glued_to_its_first_group_is_read() {
        let (data, lines) = sample();
        for glue in [":", "::"] {
            let glued: Vec<String> = lines.iter().map(|l| l.replacen(": ", glue, 1)).collect();
            let r = decode_ocr(&glued.join("\n")).unwrap();
            assert_eq!((r.bytes, r.corrections), (data.clone(), vec![]), "{glue}");
        }
    }

    #[test]
    fn a_five_read_as_s_is_corrected_and_reported() {
        let (data, lines) = sample();
        // Find a line holding a 5 and read it as S.
        let (i, k) = lines[..lines.len() - 1]
            .iter()
            .enumerate()
            .find_map(|(i, l)| {
                let body: String = l.split_once(": ").unwrap().1.split_whitespace().collect();
                body.find('5').map(|k| (i, k))
            })
            .unwrap();
        let r = decode_ocr(&with_char(&lines, i, k, 'S').join("\n")).unwrap();
        assert_eq!(r.bytes, data);
        assert_eq!(
            r.corrections,
            vec![Correction {
                line: i + 1,
                column: k + 1,
                read: 'S',
                printed: Some('5')
            }]
        );
        // The plain decoder, for typed text, names the line instead.
        assert!(matches!(
            crate::envelope::text::decode_bytes(&with_char(&lines, i, k, 'S').join("\n")),
            Err(TextError::ChecksumMismatch { .. })
        ));
    }

    #[test]
    fn a_q_tail_an_at_sign_and_a_split_nine_are_read_back() {
        let (data, lines) = sample();
        let damaged: Vec<String> = lines
            .iter()
            .map(|l| {
                if l.starts_with("END") {
                    l.clone()
                } else {
                    l.replacen('Q', "Q@", 1)
                }
            })
            .collect();
        assert_eq!(decode_ocr(&damaged.join("\n")).unwrap().bytes, data);
        let nine = lines
            .iter()
            .position(|l| !l.starts_with("END") && l[6..].contains('9'));
        if let Some(i) = nine {
            let mut split = lines.clone();
            split[i] = format!("{}{}", &lines[i][..6], lines[i][6..].replacen('9', "10", 1));
            assert_eq!(decode_ocr(&split.join("\n")).unwrap().bytes, data);
        }
    }

    #[test]
    fn a_ghost_lowercase_letter_and_a_nine_read_as_qy_are_read_back() {
        let (data, lines) = sample();
        // A capital read twice, once in lowercase (`Ww`), is one glyph.
        let (i, w) = lines[..lines.len() - 1]
            .iter()
            .enumerate()
            .find_map(|(i, l)| {
                l[6..]
                    .find(|c: char| c.is_ascii_uppercase())
                    .map(|k| (i, 6 + k))
            })
            .unwrap();
        let mut ghost = lines.clone();
        let c = lines[i].as_bytes()[w] as char;
        ghost[i] = format!(
            "{}{}{}",
            &lines[i][..=w],
            c.to_ascii_lowercase(),
            &lines[i][w + 1..]
        );
        let r = decode_ocr(&ghost.join("\n")).unwrap();
        assert_eq!((r.bytes, r.corrections), (data.clone(), vec![]));
        // A 9 whose bowl reads as Q and whose stem reads as Y.
        let nine = lines[..lines.len() - 1]
            .iter()
            .position(|l| l[6..].contains('9'))
            .unwrap();
        let mut split = lines.clone();
        split[nine] = format!(
            "{}{}",
            &lines[nine][..6],
            lines[nine][6..].replacen('9', "QY", 1)
        );
        assert_eq!(decode_ocr(&split.join("\n")).unwrap().bytes, data);
    }

    #[test]
    fn a_nine_read_as_i_is_corrected_and_reported() {
        let (data, lines) = sample();
        let (i, k) = lines[..lines.len() - 1]
            .iter()
            .enumerate()
            .find_map(|(i, l)| {
                let body: String = l.split_once(": ").unwrap().1.split_whitespace().collect();
                body.find('9').map(|k| (i, k))
            })
            .unwrap();
        let r = decode_ocr(&with_char(&lines, i, k, 'I').join("\n")).unwrap();
        assert_eq!(r.bytes, data);
        assert_eq!(
            r.corrections,
            vec![Correction {
                line: i + 1,
                column: k + 1,
                read: '1',
                printed: Some('9')
            }]
        );
    }

    #[test]
    fn two_columns_on_one_physical_line_are_two_lines() {
        let (data, lines) = sample();
        let (numbered, end) = lines.split_at(lines.len() - 1);
        let half = numbered.len().div_ceil(2);
        let mut text = String::new();
        for r in 0..half {
            text.push_str(&numbered[r]);
            if let Some(right) = numbered.get(r + half) {
                text.push_str("      ");
                text.push_str(right);
            }
            text.push('\n');
        }
        text.push_str(&end[0]);
        assert_eq!(decode_ocr(&text).unwrap().bytes, data);
    }

    #[test]
    fn a_line_with_letters_that_are_not_look_alikes_is_refused_by_number() {
        let (_, lines) = sample();
        // K and W are never confused with anything in the table, twice on one line.
        let bad = with_char(&with_char(&lines, 2, 3, 'K'), 2, 9, 'W');
        let bad = if bad == lines {
            with_char(&lines, 2, 3, 'X')
        } else {
            bad
        };
        match decode_ocr(&bad.join("\n")) {
            Err(TextError::Uncorrectable { lines, more }) => {
                assert_eq!((lines, more), (vec![3], 0))
            }
            Err(TextError::FingerprintMismatch { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn structure_errors_are_the_typed_decoders() {
        let (_, lines) = sample();
        let no_end = lines[..lines.len() - 1].join("\n");
        assert_eq!(decode_ocr(&no_end), Err(TextError::MissingEnd));
        let mut missing = lines.clone();
        missing.remove(1);
        assert!(matches!(
            decode_ocr(&missing.join("\n")),
            Err(TextError::MissingLines { .. })
        ));
        let mut wrong_fp = lines.clone();
        let last = wrong_fp.len() - 1;
        wrong_fp[last] = format!("{}7777", &lines[last][..lines[last].len() - 4]);
        assert!(matches!(
            decode_ocr(&wrong_fp.join("\n")),
            Err(TextError::FingerprintMismatch { .. })
        ));
        assert_eq!(
            decode_ocr("nothing here\n11:06:40 UTC"),
            Err(TextError::NoLines)
        );
        assert!(decode_ocr("").is_err());
    }
}
