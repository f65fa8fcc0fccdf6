//! How secrets and PINs enter the process: stdin, a no-echo prompt, or a file / file
//! descriptor named on the command line — never argv or the environment, which other
//! local users and crash reporters can read. And the process hardening (no core dumps)
//! that runs before any of them is read.

use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

use zeroize::Zeroizing;

use glasskeep_core::secret::{Pin, SecretBytes, SecretInputError, MAX_SECRET_LEN};

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

/// The largest envelope file, scan or photo, or `--anchor` scan glasskeep reads: 64 MiB.
/// A 600 dpi PNG of a page is a few megabytes; anything larger is not one.
pub const MAX_INPUT_FILE: u64 = 64 << 20;
/// The largest text file (`envelope read` OCR output) glasskeep reads: 1 MiB, several
/// times the longest envelope text.
pub const MAX_TEXT_FILE: u64 = 1 << 20;

/// Reads a file handed to glasskeep, refusing one larger than `max` bytes without ever
/// holding more than `max` + 1 of it.
pub fn read_at_most(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!(
            "larger than {} KiB, more than glasskeep reads from such a file",
            max >> 10
        )));
    }
    Ok(bytes)
}

/// Whether this process has a controlling terminal to ask the people present on.
pub fn has_terminal() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// Asks a question on the controlling terminal (not stdin, which may carry a secret)
/// and reads one line, with echo; `None` when there is no terminal. For confirmations and
/// the head hash from paper, never for secrets.
pub fn ask_line(prompt: &str) -> Result<Option<String>, SecretInputError> {
    use std::io::Write;
    let Ok(tty) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    else {
        return Ok(None);
    };
    let mut out = &tty;
    let io = |e: std::io::Error| SecretInputError::Io {
        what: "the terminal".into(),
        reason: e.kind().to_string(),
    };
    out.write_all(prompt.as_bytes()).map_err(io)?;
    out.flush().map_err(io)?;
    let mut line = String::new();
    // A confirmation or a hash fits in a line; bound what a stuck key can feed in.
    std::io::BufReader::new(&tty)
        .take(4096)
        .read_line(&mut line)
        .map_err(io)?;
    Ok(Some(line.trim_end_matches(['\n', '\r']).to_owned()))
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

#[cfg(test)]
mod tests {
    use super::*;

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
