//! The typed-text fallback catches every single-character substitution and every
//! swap of neighbouring characters, and names the line.

use glasskeep_core::envelope::text::{decode_bytes, encode_lines, TextError, ALPHABET};

fn sample() -> Vec<u8> {
    (0..400u32).map(|i| (i * 73 + i / 7) as u8).collect()
}

/// Positions (byte offsets in the line) of the symbols a custodian types: the data
/// groups and the two check characters, not the line number.
fn symbol_positions(line: &str) -> Vec<usize> {
    let colon = line.find(':').unwrap();
    line.char_indices()
        .filter(|&(i, c)| i > colon && c != ' ')
        .map(|(i, _)| i)
        .collect()
}

fn expect_line(text: &str, line: usize) {
    match decode_bytes(text) {
        Err(TextError::ChecksumMismatch { lines, more: 0 }) => assert_eq!(lines, vec![line]),
        other => panic!("line {line}: expected a checksum mismatch, got {other:?}"),
    }
}

#[test]
fn every_single_substitution_is_caught_and_located() {
    let data = sample();
    let lines = encode_lines(&data);
    assert_eq!(decode_bytes(&lines.join("\n")).unwrap(), data);
    let mut checked = 0;
    for (n, line) in lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.starts_with("END"))
    {
        for pos in symbol_positions(line) {
            let original = line.as_bytes()[pos];
            for &other in ALPHABET.iter().filter(|&&c| c != original) {
                let mut bad = lines.clone();
                let mut b = line.clone().into_bytes();
                b[pos] = other;
                bad[n] = String::from_utf8(b).unwrap();
                expect_line(&bad.join("\n"), n + 1);
                checked += 1;
            }
        }
    }
    // 22 lines of up to 32 symbols, 31 alternatives each.
    assert!(checked > 20_000, "{checked}");
}

#[test]
fn every_adjacent_transposition_is_caught_and_located() {
    let lines = encode_lines(&sample());
    let mut checked = 0;
    for (n, line) in lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.starts_with("END"))
    {
        let pos = symbol_positions(line);
        for w in pos.windows(2) {
            let mut b = line.clone().into_bytes();
            if b[w[0]] == b[w[1]] {
                continue;
            }
            b.swap(w[0], w[1]);
            let mut bad = lines.clone();
            bad[n] = String::from_utf8(b).unwrap();
            expect_line(&bad.join("\n"), n + 1);
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn whitespace_case_and_look_alikes_are_tolerated() {
    let data = sample();
    let lines = encode_lines(&data);
    let messy: String = lines
        .iter()
        .map(|l| {
            if l.starts_with("END") {
                format!("  {}\t", l.to_lowercase())
            } else {
                // Drop the group spaces, lowercase, and type O/I/L for 0/1.
                let (num, rest) = l.split_once(':').unwrap();
                let rest: String = rest
                    .chars()
                    .filter(|c| *c != ' ')
                    .map(|c| match c {
                        '0' => 'o',
                        '1' => 'I',
                        c => c.to_ascii_lowercase(),
                    })
                    .collect();
                format!("{num} :\n{rest}\r\n\n")
            }
        })
        .collect();
    // Each line broken after its number: read as one stream.
    assert_eq!(decode_bytes(&messy).unwrap(), data);
    let joined: String = messy.replace(" :\n", ":");
    assert_eq!(decode_bytes(&joined).unwrap(), data);
    // No line breaks at all.
    assert_eq!(decode_bytes(&lines.join(" ")).unwrap(), data);
    // Wrapped by an editor at 17 columns.
    let wrapped: String = lines
        .join("\n")
        .chars()
        .collect::<Vec<_>>()
        .chunks(17)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(decode_bytes(&wrapped).unwrap(), data);
}

#[test]
fn structural_faults_are_named() {
    let lines = encode_lines(&sample());
    let without = |i: usize| {
        let mut l = lines.clone();
        l.remove(i);
        l.join("\n")
    };
    assert_eq!(
        decode_bytes(&without(3)),
        Err(TextError::MissingLines {
            lines: vec![4],
            more: 0
        })
    );
    assert_eq!(
        decode_bytes(&without(lines.len() - 1)),
        Err(TextError::MissingEnd)
    );
    let mut dup = lines.clone();
    dup.insert(2, lines[2].clone());
    assert_eq!(
        decode_bytes(&dup.join("\n")),
        Err(TextError::DuplicateLine { line: 3 })
    );
    let mut bad = lines.clone();
    bad[1] = bad[1].replacen('A', "U", 1).replacen('B', "U", 1);
    if bad[1] != lines[1] {
        assert!(matches!(
            decode_bytes(&bad.join("\n")),
            Err(TextError::InvalidCharacter {
                line: 2,
                character: 'U'
            })
        ));
    }
    let mut short = lines.clone();
    let l = short[0].clone();
    // Remove one data character (the first of the second group) and fix nothing else.
    let pos = l.find(' ').unwrap() + 7;
    short[0] = format!("{}{}", &l[..pos], &l[pos + 1..]);
    assert!(matches!(
        decode_bytes(&short.join("\n")),
        Err(TextError::ChecksumMismatch { .. }) | Err(TextError::LineLength { line: 1, .. })
    ));
}
