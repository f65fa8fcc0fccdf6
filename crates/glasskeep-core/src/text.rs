//! Text hygiene: what people type (organisation, labels, names, reasons, incidents,
//! notes, witnesses) ends up in the log and on an auditor's terminal years later. A
//! control character there could erase a line (`ESC [ 1 A`), and a bidi control could
//! make a name read backwards, so both are refused wherever text enters a format, and
//! escaped wherever old text is shown.

use std::borrow::Cow;
use std::fmt::Write as _;

use thiserror::Error;

/// Whether `c` may never appear in glasskeep text: Unicode control characters (`Cc`),
/// and the invisible format characters that reorder or hide text: the bidi marks,
/// embeddings, overrides and isolates (U+061C, U+200E–U+200F, U+202A–U+202E,
/// U+2066–U+2069), zero-width characters (U+200B–U+200D, U+2060–U+2065, U+FEFF), and the
/// line and paragraph separators (U+2028, U+2029).
pub fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Why a text field was refused. The messages name the field and the offending code
/// point, never echo the text itself (it may be what an attacker wants printed).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TextError {
    /// Shorter than the field allows.
    #[error("the {field} must not be empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// Longer than the field allows.
    #[error("the {field} is longer than {max} bytes: shorten it")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The limit in bytes of UTF-8.
        max: usize,
    },
    /// A control or invisible formatting character.
    #[error("the {field} contains the control or formatting character U+{code:04X} at character {position}: type it again without it")]
    Forbidden {
        /// The field.
        field: &'static str,
        /// The code point.
        code: u32,
        /// Its position, counting characters from 1.
        position: usize,
    },
}

/// Checks one text field: `min..=max` bytes of UTF-8, no [`forbidden`] character.
pub fn check(field: &'static str, s: &str, min: usize, max: usize) -> Result<(), TextError> {
    if s.len() < min {
        return Err(TextError::Empty { field });
    }
    if s.len() > max {
        return Err(TextError::TooLong { field, max });
    }
    if let Some((i, c)) = s.chars().enumerate().find(|&(_, c)| forbidden(c)) {
        return Err(TextError::Forbidden {
            field,
            code: u32::from(c),
            position: i + 1,
        });
    }
    Ok(())
}

/// `s` with every [`forbidden`] character (and the backslash that would make an escape
/// ambiguous) written as `\u{XXXX}`, for showing text read from an old or hostile file.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| forbidden(c) || c == '\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if forbidden(c) || c == '\\' {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:04X}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_controls_and_bidi_and_names_the_code_point() {
        for bad in [
            "\u{1b}[1A\u{1b}[2K",
            "a\nb",
            "a\rb",
            "a\u{7f}",
            "a\u{85}b",
            "evil\u{202E}txt.exe",
            "\u{2066}x\u{2069}",
            "a\u{200B}b",
            "a\u{FEFF}",
            "a\u{2028}b",
            "\u{061C}",
        ] {
            let e = check("org", bad, 1, 128).unwrap_err();
            assert!(
                matches!(e, TextError::Forbidden { field: "org", .. }),
                "{bad:?}"
            );
            assert!(
                !e.to_string().contains(bad),
                "the message must not echo the text"
            );
        }
        assert_eq!(
            check("label", "ab\u{1b}c", 1, 128),
            Err(TextError::Forbidden {
                field: "label",
                code: 0x1b,
                position: 3
            })
        );
    }

    #[test]
    fn accepts_ordinary_text_in_any_script_and_enforces_lengths() {
        for ok in ["aws-root", "Grüße AG", "東京", "O'Brien & Söhne", "x y"] {
            assert_eq!(check("name", ok, 1, 64), Ok(()));
        }
        assert_eq!(
            check("name", "", 1, 64),
            Err(TextError::Empty { field: "name" })
        );
        assert_eq!(check("incident", "", 0, 64), Ok(()));
        assert_eq!(
            check("name", &"n".repeat(65), 1, 64),
            Err(TextError::TooLong {
                field: "name",
                max: 64
            })
        );
    }

    #[test]
    fn escape_makes_every_forbidden_character_visible() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a\u{1b}[2Kb"), "a\\u{001B}[2Kb");
        assert_eq!(escape("x\u{202E}y"), "x\\u{202E}y");
        assert_eq!(escape("back\\slash"), "back\\u{005C}slash");
        for c in ['\u{0}', '\u{9}', '\u{9b}', '\u{2067}'] {
            assert!(!escape(&format!("a{c}b")).chars().any(forbidden));
        }
    }
}
