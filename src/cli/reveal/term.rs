//! The terminal: its width, how wide a character is drawn, and the alternate screen.

#[cfg(feature = "card")]
use std::io::Write;
use std::os::fd::AsFd;

/// The narrowest width anything is wrapped to: below it a notice is unreadable anyway.
pub const MIN_WIDTH: usize = 20;
/// The widest: longer lines are harder to read and to copy by hand.
pub const MAX_WIDTH: usize = 100;

/// The width of the terminal behind `fd` (TIOCGWINSZ), else `$COLUMNS`, else 80;
/// clamped to [`MIN_WIDTH`]..=[`MAX_WIDTH`].
pub fn width(fd: impl AsFd) -> usize {
    let cols = rustix::termios::tcgetwinsize(fd)
        .ok()
        .map(|w| usize::from(w.ws_col))
        .filter(|&c| c > 0)
        .or_else(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse::<usize>().ok())
        })
        .unwrap_or(80);
    cols.clamp(MIN_WIDTH, MAX_WIDTH)
}

#[cfg(feature = "card")]
/// The height of the terminal behind `fd` in rows (TIOCGWINSZ), else `$LINES`, else 24.
pub fn height(fd: impl AsFd) -> usize {
    rustix::termios::tcgetwinsize(fd)
        .ok()
        .map(|w| usize::from(w.ws_row))
        .filter(|&r| r > 0)
        .or_else(|| {
            std::env::var("LINES")
                .ok()
                .and_then(|c| c.trim().parse::<usize>().ok())
        })
        .unwrap_or(24)
}

/// How many columns `c` takes on a terminal: two for the wide East Asian scripts and
/// the emoji blocks, one otherwise. Approximate (no combining marks), and errs on the
/// wide side where it matters: a line measured too wide only wraps earlier.
pub fn char_width(c: char) -> usize {
    let wide = matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

/// The columns `s` takes (no control characters expected: text is escaped first).
pub fn str_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

#[cfg(feature = "card")]
/// Switch to the terminal's alternate screen.
pub const ENTER_ALTERNATE: &str = "\x1b[?1049h\x1b[H\x1b[2J";
#[cfg(feature = "card")]
/// Clear it and return to the normal screen: what was shown there never reaches the
/// scrollback.
pub const LEAVE_ALTERNATE: &str = "\x1b[H\x1b[2J\x1b[?1049l";
/// Clear the normal screen (the alarm notice starts on a screen of its own).
pub const CLEAR: &str = "\x1b[H\x1b[2J";

#[cfg(feature = "card")]
/// While alive, the terminal shows the alternate screen; dropping it clears that screen
/// and leaves it, also when the secret's display fails half-way.
pub struct AlternateScreen<W: Write> {
    out: W,
}

#[cfg(feature = "card")]
impl<W: Write> AlternateScreen<W> {
    /// Enters the alternate screen on `out`.
    pub fn enter(mut out: W) -> std::io::Result<Self> {
        // An interrupt from now on clears this screen before the process ends.
        if let glasskeep::abort::Phase::Recorded { what } = glasskeep::abort::current() {
            glasskeep::abort::set(glasskeep::abort::Phase::Showing { what });
        }
        out.write_all(ENTER_ALTERNATE.as_bytes())?;
        out.flush()?;
        Ok(Self { out })
    }

    /// Where to write what the alternate screen shows.
    pub fn out(&mut self) -> &mut W {
        &mut self.out
    }
}

#[cfg(feature = "card")]
impl<W: Write> Drop for AlternateScreen<W> {
    fn drop(&mut self) {
        // Nothing more can be done if the terminal is gone; the secret was never in
        // its scrollback.
        let _ = self.out.write_all(LEAVE_ALTERNATE.as_bytes());
        let _ = self.out.flush();
        if let glasskeep::abort::Phase::Showing { what } = glasskeep::abort::current() {
            glasskeep::abort::set(glasskeep::abort::Phase::Recorded { what });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_scripts_take_two_columns() {
        assert_eq!(str_width("aws-root"), 8);
        assert_eq!(str_width("東京"), 4);
        assert_eq!(str_width("Grüße"), 5);
    }

    #[cfg(feature = "card")]
    #[test]
    fn the_alternate_screen_is_left_and_cleared_on_drop() {
        let mut buf = Vec::new();
        {
            let mut screen = AlternateScreen::enter(&mut buf).unwrap();
            screen.out().write_all(b"hunter2").unwrap();
        }
        let s = String::from_utf8(buf).unwrap();
        assert!(s.starts_with("\x1b[?1049h"), "{s:?}");
        assert!(s.ends_with("\x1b[2J\x1b[?1049l"), "{s:?}");
    }
}
