//! Secret material: buffers that wipe themselves, never print, and stay out of swap and
//! core dumps. How secrets and PINs enter the process (a no-echo prompt, a PIN file) is
//! the binary's business (`glasskeep::input`); this module only holds them.

use std::fmt;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// Largest secret glasskeep will split (a PEM file or a page of recovery codes fits).
pub const MAX_SECRET_LEN: usize = 64 * 1024;

static LOCK_FAILED: AtomicBool = AtomicBool::new(false);

/// Bytes that must never leave the process: wiped on drop, locked in RAM where the OS
/// allows, `[redacted]` in every `Debug`/`Display`. Deliberately not `Clone`: a copy is
/// made only through [`SecretBytes::duplicate`], which is easy to find in review.
pub struct SecretBytes {
    // Field order matters: `bytes` is wiped in `Drop::drop`, then `_lock` unlocks the
    // (already zeroed) pages when the fields drop.
    bytes: Box<[u8]>,
    _lock: Option<PageLock>,
}

// Pages are locked where the platform has mlock; a WebAssembly build (the verifier page)
// never holds a secret and has nothing to lock.
#[cfg(not(target_family = "wasm"))]
type PageLock = region::LockGuard;
#[cfg(target_family = "wasm")]
type PageLock = ();

#[cfg(not(target_family = "wasm"))]
fn lock_pages(bytes: &[u8]) -> Option<PageLock> {
    match region::lock(bytes.as_ptr(), bytes.len()) {
        Ok(g) => Some(g),
        Err(_) => {
            LOCK_FAILED.store(true, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(target_family = "wasm")]
fn lock_pages(_bytes: &[u8]) -> Option<PageLock> {
    None
}

impl SecretBytes {
    /// Takes ownership of `bytes`, wiping the source buffer.
    pub fn new(mut bytes: Vec<u8>) -> Self {
        let out = Self::from_slice(&bytes);
        bytes.zeroize();
        out
    }

    /// Copies `bytes` into a fresh locked buffer (the caller wipes its own copy).
    pub fn from_slice(bytes: &[u8]) -> Self {
        // Allocate exactly once, so the locked pages are the pages that hold the secret
        // for its whole life (a growing Vec would leave unlocked copies behind).
        let boxed: Box<[u8]> = bytes.to_vec().into_boxed_slice();
        let lock = if boxed.is_empty() {
            None
        } else {
            lock_pages(&boxed)
        };
        Self {
            bytes: boxed,
            _lock: lock,
        }
    }

    /// The secret bytes. Callers keep any derived copy in a `Zeroizing` buffer.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// An explicit second copy, also locked and wiped.
    pub fn duplicate(&self) -> Self {
        Self::from_slice(&self.bytes)
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes([redacted])")
    }
}

impl fmt::Display for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A YubiKey PIV PIN (6 to 8 bytes, as the PIV application requires).
pub struct Pin(SecretBytes);

impl Pin {
    /// Checks the PIV length rule; the PIN's bytes never appear in the error.
    pub fn new(pin: &[u8]) -> Result<Self, SecretInputError> {
        if !(6..=8).contains(&pin.len()) {
            return Err(SecretInputError::PinLength { len: pin.len() });
        }
        if !pin.iter().all(|b| b.is_ascii_graphic()) {
            return Err(SecretInputError::PinCharacters);
        }
        Ok(Self(SecretBytes::from_slice(pin)))
    }

    /// The PIN bytes, for the card layer only.
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([redacted])")
    }
}

/// Why a secret or PIN could not be read. Never carries secret bytes.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SecretInputError {
    /// Nothing was entered.
    #[error("the secret is empty: enter at least one byte")]
    Empty,
    /// More bytes than glasskeep splits.
    #[error("the secret is longer than {max} bytes: store a larger file encrypted elsewhere and split its key instead")]
    TooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// The confirmation did not match the first entry.
    #[error("the two entries differ: nothing was stored, type the secret again")]
    Mismatch,
    /// A PIN must be 6 to 8 characters.
    #[error("a YubiKey PIN is 6 to 8 characters, this one has {len}")]
    PinLength {
        /// Length entered.
        len: usize,
    },
    /// A PIN must be printable ASCII.
    #[error("a YubiKey PIN is printable ASCII without spaces")]
    PinCharacters,
    /// No terminal to prompt on, and no file named.
    #[error("no terminal to prompt on: pipe the secret on stdin, or name a PIN file with --pin-file / --pin-fd")]
    NoTerminal,
    /// Reading failed.
    #[error("could not read {what}: {reason}")]
    Io {
        /// What was being read ("stdin", "the PIN file", ...).
        what: String,
        /// The operating system's reason.
        reason: String,
    },
}

/// Reads a secret from `reader` until end of input (what `seal` does when stdin is not a
/// terminal). A single trailing newline is removed, so `echo secret |` and a file that
/// ends in a newline give the same secret; use `--kind file` semantics upstream to keep
/// bytes verbatim.
pub fn read_secret(
    mut reader: impl Read,
    strip_one_newline: bool,
) -> Result<SecretBytes, SecretInputError> {
    let mut buf = Zeroizing::new(Vec::with_capacity(MAX_SECRET_LEN + 2));
    // Read at most one byte past the limit, so an oversized input is refused without
    // buffering all of it.
    let limit = (MAX_SECRET_LEN + 2) as u64;
    reader
        .by_ref()
        .take(limit)
        .read_to_end(&mut buf)
        .map_err(|e| SecretInputError::Io {
            what: "the secret".into(),
            reason: e.kind().to_string(),
        })?;
    if strip_one_newline {
        let len = buf.len();
        if buf.ends_with(b"\r\n") {
            buf.truncate(len - 2);
        } else if buf.ends_with(b"\n") {
            buf.truncate(len - 1);
        }
    }
    if buf.is_empty() {
        return Err(SecretInputError::Empty);
    }
    if buf.len() > MAX_SECRET_LEN {
        return Err(SecretInputError::TooLong {
            max: MAX_SECRET_LEN,
        });
    }
    Ok(SecretBytes::from_slice(&buf))
}

/// Whether locking any secret page in memory failed so far (then the secret may reach
/// swap; the CLI prints a warning saying so and how to raise `ulimit -l`).
pub fn memory_lock_failed() -> bool {
    LOCK_FAILED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_bytes() {
        let s = SecretBytes::from_slice(b"hunter2-SECRET");
        assert_eq!(format!("{s:?}"), "SecretBytes([redacted])");
        assert_eq!(format!("{s}"), "[redacted]");
        assert!(!format!("{s:?}{s:#?}{s}").contains("hunter2"));
        let p = Pin::new(b"123456").unwrap();
        assert!(!format!("{p:?}").contains("123456"));
    }

    #[test]
    fn secret_bytes_are_exposed_only_on_request_and_duplicate_is_equal() {
        let s = SecretBytes::new(b"abc".to_vec());
        assert_eq!(s.expose(), b"abc");
        assert_eq!(s.duplicate().expose(), b"abc");
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn read_secret_strips_one_newline_and_enforces_limits() {
        assert_eq!(read_secret(&b"pw\n"[..], true).unwrap().expose(), b"pw");
        assert_eq!(read_secret(&b"pw\r\n"[..], true).unwrap().expose(), b"pw");
        assert_eq!(read_secret(&b"pw\n\n"[..], true).unwrap().expose(), b"pw\n");
        assert_eq!(read_secret(&b"pw\n"[..], false).unwrap().expose(), b"pw\n");
        assert!(matches!(
            read_secret(&b"\n"[..], true),
            Err(SecretInputError::Empty)
        ));
        assert!(matches!(
            read_secret(&b""[..], false),
            Err(SecretInputError::Empty)
        ));
        let max = vec![7u8; MAX_SECRET_LEN];
        assert_eq!(read_secret(&max[..], false).unwrap().len(), MAX_SECRET_LEN);
        let big = vec![7u8; MAX_SECRET_LEN + 1];
        assert!(matches!(
            read_secret(&big[..], false),
            Err(SecretInputError::TooLong {
                max: MAX_SECRET_LEN
            })
        ));
    }

    #[test]
    fn pin_rules_and_errors_do_not_leak_the_pin() {
        assert!(Pin::new(b"123456").is_ok());
        assert!(Pin::new(b"12345678").is_ok());
        let e = Pin::new(b"12345").unwrap_err();
        assert!(matches!(e, SecretInputError::PinLength { len: 5 }));
        assert!(!e.to_string().contains("12345"));
        assert!(matches!(
            Pin::new(b"123456789"),
            Err(SecretInputError::PinLength { len: 9 })
        ));
        assert!(matches!(
            Pin::new(b"1234 56"),
            Err(SecretInputError::PinCharacters)
        ));
    }
}
