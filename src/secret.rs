//! Secret material: buffers that wipe themselves, never print, and stay out of swap and
//! core dumps; and the only ways a secret or a PIN may enter the process (stdin, a
//! no-echo prompt, or a file / file descriptor named on the command line — never argv or
//! the environment, which other local users and crash reporters can read).

use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;
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
    _lock: Option<region::LockGuard>,
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
            match region::lock(boxed.as_ptr(), boxed.len()) {
                Ok(g) => Some(g),
                Err(_) => {
                    LOCK_FAILED.store(true, Ordering::Relaxed);
                    None
                }
            }
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

/// Prompts on the terminal without echo; with `confirm`, asks twice and compares.
pub fn prompt_secret(prompt: &str, confirm: bool) -> Result<SecretBytes, SecretInputError> {
    let first = Zeroizing::new(read_no_echo(prompt)?);
    if first.is_empty() {
        return Err(SecretInputError::Empty);
    }
    if first.len() > MAX_SECRET_LEN {
        return Err(SecretInputError::TooLong {
            max: MAX_SECRET_LEN,
        });
    }
    if confirm {
        let second = Zeroizing::new(read_no_echo("Type it again to confirm: ")?);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            first.as_bytes(),
            second.as_bytes(),
        )) {
            return Err(SecretInputError::Mismatch);
        }
    }
    Ok(SecretBytes::from_slice(first.as_bytes()))
}

fn read_no_echo(prompt: &str) -> Result<String, SecretInputError> {
    rpassword::prompt_password(prompt).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(6) {
            SecretInputError::NoTerminal
        } else {
            SecretInputError::Io {
                what: "the terminal".into(),
                reason: e.kind().to_string(),
            }
        }
    })
}

/// Where a PIN comes from: a no-echo prompt (the default for people) or, for scripted
/// drills and tests, a file or an inherited file descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// Ask on the terminal.
    Prompt,
    /// Read lines from this file.
    File(std::path::PathBuf),
    /// Read lines from this already-open descriptor (Linux `/dev/fd/N`).
    Fd(u32),
}

/// Reads PINs in order from a [`PinSource`]: one per line for files and descriptors, so
/// a ceremony with several custodians can be scripted with one file, each line the PIN
/// of the next card used.
pub struct PinReader {
    source: PinSource,
    lines: Option<Vec<Zeroizing<String>>>,
    next: usize,
}

impl fmt::Debug for PinReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinReader")
            .field("source", &self.source)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl PinReader {
    /// A reader over `source`; files are read lazily on the first PIN.
    pub fn new(source: PinSource) -> Self {
        Self {
            source,
            lines: None,
            next: 0,
        }
    }

    /// The next PIN; `who` names the custodian and card in the prompt.
    pub fn next_pin(&mut self, who: &str) -> Result<Pin, SecretInputError> {
        match &self.source {
            PinSource::Prompt => {
                let s = Zeroizing::new(read_no_echo(&format!("PIN for {who}: "))?);
                Pin::new(s.as_bytes())
            }
            PinSource::File(path) => {
                let path = path.clone();
                self.next_line(|| std::fs::File::open(&path), "the PIN file")
            }
            PinSource::Fd(fd) => {
                let path = format!("/dev/fd/{fd}");
                self.next_line(
                    || std::fs::File::open(Path::new(&path)),
                    "the PIN descriptor",
                )
            }
        }
    }

    fn next_line(
        &mut self,
        open: impl FnOnce() -> std::io::Result<std::fs::File>,
        what: &str,
    ) -> Result<Pin, SecretInputError> {
        if self.lines.is_none() {
            let file = open().map_err(|e| SecretInputError::Io {
                what: what.into(),
                reason: e.kind().to_string(),
            })?;
            let mut lines = Vec::new();
            for line in std::io::BufReader::new(file).lines() {
                let line = Zeroizing::new(line.map_err(|e| SecretInputError::Io {
                    what: what.into(),
                    reason: e.kind().to_string(),
                })?);
                lines.push(line);
            }
            self.lines = Some(lines);
        }
        let lines = self.lines.as_deref().unwrap_or_default();
        let line = lines.get(self.next).ok_or_else(|| SecretInputError::Io {
            what: what.into(),
            reason: format!("it has {} line(s) and another PIN is needed", lines.len()),
        })?;
        self.next += 1;
        Pin::new(line.trim_end_matches('\r').as_bytes())
    }
}

/// What process hardening achieved; the CLI prints a warning for each `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardening {
    /// `RLIMIT_CORE` set to 0 (no core file can be written).
    pub core_limit_zero: bool,
    /// `PR_SET_DUMPABLE` cleared (no core dump, no ptrace attach by the same user).
    pub not_dumpable: bool,
}

/// Turns off core dumps before any secret is read. Failure is reported, not fatal: a
/// custodian at 3am must not be locked out by a kernel setting, but must be told.
pub fn harden_process() -> Hardening {
    use nix::sys::resource::{setrlimit, Resource};
    let core_limit_zero = setrlimit(Resource::RLIMIT_CORE, 0, 0).is_ok();
    let not_dumpable = nix::sys::prctl::set_dumpable(false).is_ok();
    Hardening {
        core_limit_zero,
        not_dumpable,
    }
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

    #[test]
    fn pin_file_gives_one_pin_per_line_then_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pins");
        std::fs::write(&path, "123456\r\n654321\n").unwrap();
        let mut r = PinReader::new(PinSource::File(path));
        assert_eq!(r.next_pin("alice").unwrap().expose(), b"123456");
        assert_eq!(r.next_pin("bob").unwrap().expose(), b"654321");
        let e = r.next_pin("carol").unwrap_err();
        assert!(e.to_string().contains("2 line(s)"), "{e}");
        assert!(!format!("{r:?}").contains("123456"));
    }

    #[test]
    fn hardening_turns_core_dumps_off() {
        let h = harden_process();
        assert!(h.core_limit_zero);
        assert!(h.not_dumpable);
        let (soft, hard) =
            nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE).unwrap();
        assert_eq!((soft, hard), (0, 0));
        assert!(!nix::sys::prctl::get_dumpable().unwrap());
    }
}
