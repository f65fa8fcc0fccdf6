//! Ending a ceremony when the people at the safe press Ctrl-C (or the terminal goes
//! away): a clear message that says what was and was not recorded, the terminal put
//! back as it was (echo on, main screen), and never a half-written log.
//!
//! A ceremony writes the log once, at the end, in one append. Until then, ending the
//! process leaves the log byte-identical, so an interrupt simply ends it. While that
//! append runs, the interrupt waits for it to finish ([`committing`]), then ends the
//! process saying what was recorded.

use std::sync::{Mutex, MutexGuard};

/// Exit code of a ceremony ended by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_ABORTED: u8 = 130;

/// The message when nothing was recorded.
pub const NOTHING_RECORDED: &str = "aborted: nothing was recorded and the secret was not revealed";

/// How far the process is, for the message an interrupt prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Nothing written: the log is as it was.
    Before,
    /// The log records `what` (e.g. "the opening, as entry 12"); no secret shown.
    Recorded {
        /// What was recorded, in words.
        what: String,
    },
    /// A secret is on the terminal's alternate screen: an interrupt clears it first.
    Showing {
        /// What was recorded, in words.
        what: String,
    },
}

static PHASE: Mutex<Phase> = Mutex::new(Phase::Before);

fn phase() -> MutexGuard<'static, Phase> {
    PHASE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets the phase (the message an interrupt prints from now on).
pub fn set(p: Phase) {
    *phase() = p;
}

/// The current phase.
pub fn current() -> Phase {
    phase().clone()
}

/// Held while the log is written: an interrupt waits until it is dropped. Call
/// [`Committing::recorded`] once the write succeeded.
pub struct Committing(MutexGuard<'static, Phase>);

/// Starts the uninterruptible part of a ceremony: the one write of the log.
pub fn committing() -> Committing {
    Committing(phase())
}

impl Committing {
    /// The write succeeded and recorded `what`.
    pub fn recorded(mut self, what: impl Into<String>) {
        *self.0 = Phase::Recorded { what: what.into() };
    }
}

/// The message for an interrupt in phase `p`.
pub fn message(p: &Phase) -> String {
    match p {
        Phase::Before => NOTHING_RECORDED.to_string(),
        Phase::Recorded { what } => {
            format!("aborted: {what} is recorded in the log; the secret was not revealed")
        }
        Phase::Showing { what } => {
            format!(
                "aborted: {what} is recorded in the log; the secret was cleared from the screen"
            )
        }
    }
}

/// Installs the interrupt handling: SIGINT, SIGTERM, SIGHUP and SIGQUIT end the process
/// with [`message`] and [`EXIT_ABORTED`], after restoring the terminal. Call once, before
/// anything is asked.
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let saved = terminal::save();
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])?;
    std::thread::Builder::new()
        .name("interrupt".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                // Waits here while the log is being written.
                let p = phase();
                terminal::restore(saved.as_ref(), matches!(*p, Phase::Showing { .. }));
                eprintln!("\n{}", message(&p));
                std::process::exit(i32::from(EXIT_ABORTED));
            }
        })?;
    Ok(())
}

/// The controlling terminal's settings, saved before any prompt turns echo off.
mod terminal {
    use nix::sys::termios::{self, SetArg, Termios};
    use std::io::Write;

    fn tty() -> Option<std::fs::File> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()
    }

    pub(super) fn save() -> Option<Termios> {
        tty().and_then(|t| termios::tcgetattr(&t).ok())
    }

    /// Echo back on; with `clear`, the alternate screen wiped and left.
    pub(super) fn restore(saved: Option<&Termios>, clear: bool) {
        let Some(mut t) = tty() else { return };
        if let Some(s) = saved {
            let _ = termios::tcsetattr(&t, SetArg::TCSANOW, s);
        }
        if clear {
            let _ = t.write_all(b"\x1b[2J\x1b[3J\x1b[H\x1b[?1049l");
            let _ = t.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_was_recorded() {
        assert_eq!(message(&Phase::Before), NOTHING_RECORDED);
        let m = message(&Phase::Recorded {
            what: "the opening, as entry 12".into(),
        });
        assert!(m.contains("entry 12 is recorded"), "{m}");
        assert!(m.contains("not revealed"), "{m}");
        let m = message(&Phase::Showing {
            what: "the opening".into(),
        });
        assert!(m.contains("cleared"), "{m}");
    }

    #[test]
    fn a_commit_sets_the_phase_only_when_it_succeeded() {
        set(Phase::Before);
        drop(committing());
        assert_eq!(current(), Phase::Before);
        committing().recorded("the drill, as entry 3");
        assert_eq!(
            current(),
            Phase::Recorded {
                what: "the drill, as entry 3".into()
            }
        );
        set(Phase::Before);
    }
}
