//! Ctrl-C, SIGTERM, SIGHUP and SIGQUIT during a ceremony: the terminal put back as it
//! was (echo on, the alternate screen cleared and left), a message saying what was and
//! was not recorded (`glasskeep::abort`), and exit 130. A write of the log in progress
//! is waited for first.

use glasskeep::abort::{self, Phase};

/// Exit code of a ceremony ended by an interrupt (128 + SIGINT, as shells report it).
pub const EXIT_ABORTED: u8 = 130;

/// Installs the interrupt handling: SIGINT, SIGTERM, SIGHUP and SIGQUIT end the process
/// with [`abort::message`] and [`EXIT_ABORTED`], after restoring the terminal. Call once, before
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
                let p = abort::hold();
                terminal::restore(saved.as_ref(), matches!(*p, Phase::Showing { .. }));
                eprintln!("\n{}", abort::message(&p));
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
