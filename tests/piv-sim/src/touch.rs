//! Simulated touch sensor.

use std::fs;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long `auto` mode waits before "touching": long enough that a client sees the
/// operation block, short enough for tests.
pub const AUTO_TOUCH_DELAY: Duration = Duration::from_millis(200);

/// How often the vpcd front looks for the `touch` control file while waiting.
const FILE_POLL: Duration = Duration::from_millis(25);

/// Name of the control file in the state folder that the vpcd front consumes as a touch.
pub const TOUCH_FILE: &str = "touch";

/// How the simulated sensor behaves when an operation needs a touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TouchMode {
    /// Touched automatically after [`AUTO_TOUCH_DELAY`].
    Auto,
    /// Never touched: the operation fails after the touch timeout, as a real card does.
    Never,
    /// Waits for [`TouchHandle::touch`] or the `touch` control file.
    Signal,
    /// Touched at once: for generating large training logs, where thousands of
    /// signatures would otherwise wait [`AUTO_TOUCH_DELAY`] each.
    Immediate,
}

impl FromStr for TouchMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(TouchMode::Auto),
            "never" => Ok(TouchMode::Never),
            "signal" => Ok(TouchMode::Signal),
            "immediate" => Ok(TouchMode::Immediate),
            other => Err(format!(
                "unknown touch mode {other:?}: use auto, never, signal or immediate"
            )),
        }
    }
}

impl std::fmt::Display for TouchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TouchMode::Auto => "auto",
            TouchMode::Never => "never",
            TouchMode::Signal => "signal",
            TouchMode::Immediate => "immediate",
        })
    }
}

/// A cloneable handle that "touches" the card from another thread.
///
/// Touches latch: one given before the card asks is used by the next operation that
/// needs it. A real sensor only counts while blinking, but latching keeps tests free of
/// races between the touching thread and the transmitting one.
#[derive(Debug, Clone, Default)]
pub struct TouchHandle {
    inner: Arc<(Mutex<u32>, Condvar)>,
}

impl TouchHandle {
    /// Presses the sensor once.
    pub fn touch(&self) {
        let (lock, cvar) = &*self.inner;
        let mut pending = lock.lock().unwrap_or_else(|p| p.into_inner());
        *pending += 1;
        cvar.notify_all();
    }

    /// Waits up to `timeout` for a touch from the handle or, when given, the control file
    /// (consumed when seen). Returns whether a touch arrived.
    pub(crate) fn wait(&self, timeout: Duration, file: Option<&Path>) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.inner;
        let mut pending = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if *pending > 0 {
                *pending -= 1;
                return true;
            }
            if let Some(f) = file {
                if fs::remove_file(f).is_ok() {
                    return true;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let step = (deadline - now).min(FILE_POLL);
            pending = cvar
                .wait_timeout(pending, step)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latched_touch_is_used_once() {
        let h = TouchHandle::default();
        h.touch();
        assert!(h.wait(Duration::from_millis(10), None));
        assert!(!h.wait(Duration::from_millis(10), None));
    }

    #[test]
    fn control_file_is_consumed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(TOUCH_FILE);
        fs::write(&f, b"").unwrap();
        assert!(TouchHandle::default().wait(Duration::from_millis(100), Some(&f)));
        assert!(!f.exists());
    }

    #[test]
    fn modes_parse() {
        assert_eq!("signal".parse::<TouchMode>(), Ok(TouchMode::Signal));
        assert_eq!("immediate".parse::<TouchMode>(), Ok(TouchMode::Immediate));
        assert!("sometimes".parse::<TouchMode>().is_err());
    }
}
