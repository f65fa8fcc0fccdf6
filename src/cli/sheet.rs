//! Ceremony sheets on the command line: `--sheet` on every ceremony, `log sheet` after
//! the fact, and a sheet's head (hex, head code, or a scan) as `log verify --anchor`.

use std::io::Write;
use std::path::Path;

use glasskeep::ceremony;
use glasskeep_core::envelope::render::Paper;
use glasskeep_core::log;
use glasskeep_core::sheet::{self, HeadCode, Sheet};

use super::args::PaperSize;
#[cfg(feature = "card")]
use super::args::SheetArgs;
use super::{exit, reveal, CliError};

fn paper(p: PaperSize) -> Paper {
    match p {
        PaperSize::A4 => Paper::A4,
        PaperSize::Letter => Paper::Letter,
    }
}

fn shown(p: &Path) -> String {
    glasskeep_core::text::escape(&p.display().to_string()).into_owned()
}

/// Witness names and the sheet's file, checked before anything else.
fn precheck_parts(file: Option<&Path>, witnesses: &[String]) -> Result<(), CliError> {
    for w in witnesses {
        sheet::check_witness(w)
            .map_err(|e| CliError::new(exit::USAGE, format!("--witness: {e}. Nothing was done")))?;
    }
    if witnesses.len() > sheet::MAX_WITNESSES {
        return Err(CliError::new(
            exit::USAGE,
            "--witness: at most 16 witnesses on one sheet. Nothing was done",
        ));
    }
    if let Some(p) = file {
        reveal::check_new_file(p, "--sheet")?;
    }
    Ok(())
}

#[cfg(feature = "card")]
/// Before a ceremony touches a card: the sheet's file must be new and its folder
/// writable, and the witness names fit for paper.
pub(super) fn precheck(a: &SheetArgs) -> Result<(), CliError> {
    if a.sheet.is_none() {
        return Ok(());
    }
    precheck_parts(a.sheet.as_deref(), &a.sheet_witnesses)
}

#[cfg(feature = "card")]
/// The seq the ceremony's first entry will get (0 before genesis).
pub(super) fn next_seq(dir: &Path) -> u64 {
    ceremony::read_state(dir).map_or(0, |s| s.next_seq())
}

#[cfg(feature = "card")]
/// After the ceremony committed: its sheet, entries `from` to the head. `stdout_secret`:
/// standard output carries an opened secret, so the note goes to standard error.
pub(super) fn after(
    dir: &Path,
    a: &SheetArgs,
    from: u64,
    stdout_secret: bool,
) -> Result<(), CliError> {
    let Some(file) = &a.sheet else {
        return Ok(());
    };
    match write(dir, file, Some(from), a.sheet_paper, &a.sheet_witnesses, stdout_secret) {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::new(
            e.code,
            format!(
                "{e}\nThe ceremony is recorded; only its sheet is missing: print it with `glasskeep log sheet FILE.pdf --from {from}`"
            ),
        )),
    }
}

/// Draws the sheet of entries `from` (default: the last ceremony's first) to the head
/// and writes it to the new file `file`.
fn write(
    dir: &Path,
    file: &Path,
    from: Option<u64>,
    size: PaperSize,
    witnesses: &[String],
    note_on_stderr: bool,
) -> Result<Sheet, CliError> {
    let entries = ceremony::log_entries(dir)?;
    let from = from.unwrap_or_else(|| sheet::last_ceremony_start(&entries));
    let to = (entries.len() as u64).saturating_sub(1);
    let s = Sheet::new(&entries, from, to, witnesses)
        .map_err(|e| CliError::new(exit::REFUSED, e.to_string()))?;
    let pdf = s.to_pdf(paper(size));
    let fail = |e: std::io::Error| {
        CliError::new(
            exit::INPUT,
            format!("the sheet {} could not be written: {e}", shown(file)),
        )
    };
    // create_new: a file that appeared since the check is not overwritten either.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(fail)?;
    f.write_all(&pdf).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    let note = format!(
        "ceremony sheet of entries {from} to {to} written to {} — print it and have it signed",
        shown(file)
    );
    if note_on_stderr {
        eprintln!("{note}");
    } else {
        println!("{note}");
    }
    Ok(s)
}

/// `log sheet FILE.pdf [--from SEQ]`: only for a log whose chain and signatures
/// verify (a sheet vouches for its head).
pub(super) fn log_sheet(
    dir: &Path,
    file: &Path,
    from: Option<u64>,
    size: PaperSize,
    witnesses: &[String],
) -> Result<(), CliError> {
    precheck_parts(Some(file), witnesses)?;
    let opts = log::VerifyOptions {
        anchor: None,
        now: None,
        lenient: true,
        strict: false,
        training: true,
        now_given: false,
    };
    let report = ceremony::verify_log(dir, &opts)?;
    if let Some(f) = report
        .failure
        .filter(|f| !matches!(f.class, log::FailureClass::Policy(_)))
    {
        return Err(CliError::new(
            exit::UNVERIFIED,
            format!(
                "the log does not verify ({}: {}): no sheet vouches for it. Run `glasskeep log verify` and report it",
                f.class, f.detail
            ),
        ));
    }
    write(dir, file, from, size, witnesses, false).map(|_| ())
}

/// What `log verify --anchor` was given.
pub(super) enum Anchor {
    /// A bare head hash.
    Hash(log::Hash),
    /// A sheet's head code (typed, or read from a scan).
    Code(HeadCode),
}

impl Anchor {
    /// The hash to find in the log.
    pub(super) fn hash(&self) -> log::Hash {
        match self {
            Anchor::Hash(h) => *h,
            Anchor::Code(c) => c.head,
        }
    }
}

const ANCHOR_FORMS: &str = "--anchor takes the 64 hex digits of the head hash, the head code of a ceremony sheet (GKHEAD1:…), or a scan of the sheet's first page (PNG or JPEG)";

/// Reads `--anchor`: 64 hex digits, a head code, or a file holding a scan of the sheet
/// (or a head code as `zbarimg --raw` prints it).
pub(super) fn anchor(arg: &str) -> Result<Anchor, CliError> {
    if let Some(h) = log::parse_hash_hex(arg) {
        return Ok(Anchor::Hash(h));
    }
    let code_err = |e: sheet::HeadCodeError| CliError::new(exit::USAGE, format!("--anchor: {e}"));
    if arg.starts_with("GKHEAD") {
        return HeadCode::parse(arg).map(Anchor::Code).map_err(code_err);
    }
    let path = Path::new(arg);
    if !path.is_file() {
        let hexlike = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_hexdigit());
        let what = if hexlike {
            format!("{} hex digits are not a head hash", arg.len())
        } else {
            format!("{} is not a file", shown(path))
        };
        return Err(CliError::new(
            exit::USAGE,
            format!("{ANCHOR_FORMS}: {what}"),
        ));
    }
    let bytes = glasskeep::input::read_at_most(path, glasskeep::input::MAX_INPUT_FILE)
        .map_err(|e| CliError::new(exit::INPUT, format!("--anchor {}: {e}", shown(path))))?;
    if let Some(text) = std::str::from_utf8(&bytes)
        .ok()
        .map(str::trim)
        .filter(|t| t.starts_with("GKHEAD"))
    {
        return HeadCode::parse(text).map(Anchor::Code).map_err(code_err);
    }
    HeadCode::from_image(&bytes)
        .map(Anchor::Code)
        .map_err(|e| CliError::new(exit::INPUT, format!("--anchor {}: {e}", shown(path))))
}

/// After `log verify` with a head code: the custody and the entry must be the code's;
/// an anchor that is a past head is said so, with how many entries came after it.
pub(super) fn judge(report: &mut log::VerifyReport, anchor: &Anchor) -> Option<String> {
    let Anchor::Code(code) = anchor else {
        return None;
    };
    sheet::check_anchor(report, code);
    if report.failure.is_some() {
        return None;
    }
    let last = report.entries.checked_sub(1)?;
    Some(if code.seq == last {
        format!(
            "the sheet's head (entry {}) is the head of the log",
            code.seq
        )
    } else {
        format!(
            "the sheet's head is entry {}, a past head: {} entr{} came after it (see `glasskeep log show`)",
            code.seq,
            last - code.seq,
            if last - code.seq == 1 { "y" } else { "ies" }
        )
    })
}
