//! What the secret's screen shows, by kind. Every string built here holds the secret
//! and is wiped on drop. The secret is shown as typed unless it holds control or
//! invisible formatting characters: then a notice says so and the escaped form is
//! shown (`--output` and `--stdout` keep the exact bytes).

use std::fmt::Write as _;

use glasskeep_core::log::SecretKind;
use glasskeep_core::text::{escape, forbidden};
use zeroize::Zeroizing;

use super::notice::wrap;
use super::qr;
use glasskeep_core::totp;

/// How the secret screen is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Terminal columns.
    pub width: usize,
    /// Add the secret as a QR code.
    pub qr: bool,
    /// Unix time, for a TOTP code.
    pub now: u64,
}

fn line(out: &mut String, s: &str) {
    out.push_str(s);
    out.push('\n');
}

fn para(out: &mut String, s: &str, width: usize) {
    for l in wrap(s, width) {
        line(out, &l);
    }
}

/// A notice before a secret that holds characters a terminal would act on (it is then
/// shown escaped).
fn warn_if_controls(out: &mut String, s: &str, width: usize) {
    if s.chars().any(forbidden) {
        para(
            out,
            "(the secret contains control or invisible formatting characters: they are shown \
             as \\u{XXXX} below; --output FILE or --stdout give the exact bytes)",
            width,
        );
    }
}

/// The secret's screen: heading, the secret in its kind's form, optionally its QR code,
/// and the line about clearing it.
pub fn screen(label: &str, kind: SecretKind, secret: &[u8], l: Layout) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    let kind_name = match kind {
        SecretKind::Password => "password",
        SecretKind::Totp => "TOTP seed",
        SecretKind::RecoveryCodes => "recovery codes",
        SecretKind::File => "file",
    };
    para(
        &mut out,
        &format!("SECRET of {} ({kind_name}):", escape(label)),
        l.width,
    );
    line(&mut out, "");
    match std::str::from_utf8(secret) {
        Err(_) => {
            para(
                &mut out,
                &format!(
                    "(not UTF-8 text: {} bytes shown as hex; --output FILE writes the exact bytes)",
                    secret.len()
                ),
                l.width,
            );
            for chunk in secret.chunks(16) {
                let mut hex = Zeroizing::new(String::with_capacity(40));
                for pair in chunk.chunks(2) {
                    for b in pair {
                        // Writing to a String cannot fail.
                        let _ = write!(hex, "{b:02x}");
                    }
                    hex.push(' ');
                }
                line(&mut out, hex.trim_end());
            }
        }
        Ok(text) => match kind {
            SecretKind::RecoveryCodes => {
                let codes: Vec<&str> = text
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|c| !c.is_empty())
                    .collect();
                warn_if_controls(&mut out, &Zeroizing::new(codes.concat()), l.width);
                for (i, code) in codes.iter().enumerate() {
                    let code = Zeroizing::new(escape(code).into_owned());
                    let s = Zeroizing::new(format!("{:>3}. {}", i + 1, code.as_str()));
                    line(&mut out, &s);
                }
            }
            SecretKind::File => {
                warn_if_controls(&mut out, &Zeroizing::new(text.replace('\n', "")), l.width);
                for l in text.lines() {
                    line(&mut out, &Zeroizing::new(escape(l).into_owned()));
                }
            }
            _ => {
                warn_if_controls(&mut out, text, l.width);
                line(&mut out, &Zeroizing::new(escape(text).into_owned()));
            }
        },
    }
    if kind == SecretKind::Totp {
        line(&mut out, "");
        match std::str::from_utf8(secret)
            .map_err(|_| totp::SeedError::NotBase32)
            .and_then(totp::parse)
        {
            Ok(seed) => {
                let (code, left) = seed.code(l.now);
                let s = Zeroizing::new(format!(
                    "code now: {} (valid {left} more second{}; this screen does not refresh)",
                    code.as_str(),
                    if left == 1 { "" } else { "s" }
                ));
                // Not wrapped: the wrapped copies would not be wiped.
                line(&mut out, &s);
            }
            Err(e) => para(
                &mut out,
                &format!("no code: {e}; the seed is shown above as sealed"),
                l.width,
            ),
        }
    }
    if l.qr {
        line(&mut out, "");
        match qrcode::QrCode::with_error_correction_level(secret, qrcode::EcLevel::M) {
            Ok(code) => {
                let (cols, _) = qr::rendered_size(&code);
                if cols <= l.width {
                    let (side, m) = qr::modules(&code);
                    qr::half_blocks_into(&mut out, side, &m);
                } else {
                    para(
                        &mut out,
                        &format!(
                            "(the QR code needs {cols} columns; this terminal has {})",
                            l.width
                        ),
                        l.width,
                    );
                }
            }
            Err(_) => para(&mut out, "(the secret is too long for a QR code)", l.width),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            width: 80,
            qr: false,
            now: 59,
        }
    }

    #[test]
    fn a_password_is_shown_as_typed() {
        let s = screen("aws-root", SecretKind::Password, b"hunter2 x", layout());
        assert_eq!(s.as_str(), "SECRET of aws-root (password):\n\nhunter2 x\n");
    }

    #[test]
    fn control_characters_in_the_secret_are_escaped_with_a_notice() {
        let s = screen("k", SecretKind::Password, b"pw\x1b[2Jx", layout());
        assert!(s.contains("pw\\u{001B}[2Jx\n"), "{}", s.as_str());
        assert!(s.contains("control or invisible"), "{}", s.as_str());
        assert!(!s.contains('\u{1b}'));
    }

    #[test]
    fn recovery_codes_are_numbered_one_per_line() {
        let s = screen(
            "gh",
            SecretKind::RecoveryCodes,
            b"aaaa-1111, bbbb-2222\ncccc-3333  dddd-4444\n",
            layout(),
        );
        assert!(
            s.ends_with("  1. aaaa-1111\n  2. bbbb-2222\n  3. cccc-3333\n  4. dddd-4444\n"),
            "{}",
            s.as_str()
        );
        assert!(!s.contains("control or invisible"));
    }

    #[test]
    fn totp_shows_the_seed_and_the_current_code() {
        let seed = data_encoding::BASE32.encode(b"12345678901234567890");
        let s = screen("mfa", SecretKind::Totp, seed.as_bytes(), layout());
        assert!(s.contains(&format!("\n{seed}\n")), "{}", s.as_str());
        assert!(
            s.contains("code now: 287082 (valid 1 more second;"),
            "{}",
            s.as_str()
        );
        let s = screen("mfa", SecretKind::Totp, b"not a seed!", layout());
        assert!(s.contains("\nnot a seed!\n"), "{}", s.as_str());
        assert!(
            s.contains("no code: the seed does not decode as base32"),
            "{}",
            s.as_str()
        );
    }

    #[test]
    fn binary_files_are_shown_as_hex_and_text_files_line_by_line() {
        let s = screen("key", SecretKind::File, &[0xff, 0x00, 0x10, 0x20], layout());
        assert!(s.contains("(not UTF-8 text: 4 bytes"), "{}", s.as_str());
        assert!(s.ends_with("ff00 1020\n"), "{}", s.as_str());
        let s = screen("cfg", SecretKind::File, b"a=1\nb=2\n", layout());
        assert!(s.ends_with("\n\na=1\nb=2\n"), "{}", s.as_str());
    }

    #[test]
    fn the_secret_qr_decodes_back_to_the_secret() {
        let l = Layout {
            qr: true,
            ..layout()
        };
        let s = screen("aws-root", SecretKind::Password, b"hunter2", l);
        let art: String = s
            .lines()
            .filter(|l| l.starts_with('\u{1b}'))
            .map(|l| format!("{l}\n"))
            .collect();
        let (side, m) = qr::tests::parse(&art);
        assert_eq!(qr::tests::decode(side, &m), "hunter2");
        let narrow = Layout { width: 24, ..l };
        let s = screen("aws-root", SecretKind::Password, b"hunter2", narrow);
        assert!(
            s.contains("(the QR code needs 25") && !s.contains('\u{1b}'),
            "{}",
            s.as_str()
        );
    }
}
