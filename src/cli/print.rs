//! What the commands print. Results go to stdout; notices, banners and the alarm go to
//! stderr so that `open`'s stdout carries the secret alone.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

#[cfg(feature = "card")]
use glasskeep::ceremony::SealReport;
use glasskeep::ceremony::{self, StatusReport};
use glasskeep_core::custodian::CustodianRecord;
use glasskeep_core::envelope::render::{self as env_render, Format, Paper};
use glasskeep_core::log;
use glasskeep_core::seal::{IdentityStub, PivP256Recipient};

use super::args::{PaperSize, RenderFormat, ShowFormat};
use super::{exit, CliError};

const TRAINING: &str =
    "*** TRAINING custody: simulated YubiKeys only; never seal a real credential here ***";

/// Says TRAINING on stderr when the custody in `dir` is a training one. Reads the log
/// without locking it (a read-only glance; the command itself locks it).
pub fn training_banner(dir: &Path) {
    if ceremony::read_state(dir).is_ok_and(|s| s.custody().is_some_and(|c| c.training)) {
        eprintln!("{TRAINING}");
    }
}

#[cfg(feature = "card")]
/// The head hash, as text and as a terminal QR code, to write on paper.
pub fn anchor(head: &log::Hash) {
    let hex = glasskeep_core::hex::encode(head);
    println!("log head (write this down and keep it with the envelopes): {hex}");
    if let Ok(code) = qrcode::QrCode::new(hex.to_ascii_uppercase().as_bytes()) {
        let art = code
            .render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build();
        eprintln!("{art}");
    }
}

#[cfg(feature = "card")]
/// After a share check: whether it acknowledged a pending set, and whether that set is
/// now active (the old envelopes to be destroyed) or still waits for others.
pub fn acknowledgement(dir: &Path, envelope: &log::Hash, seq: u64) -> Result<(), CliError> {
    let state = ceremony::read_state(dir)?;
    let Some(set) = state.envelope(envelope).and_then(|e| state.set(&e.set)) else {
        return Ok(());
    };
    let label = esc(&set.label);
    let old = set.predecessor.and_then(|o| state.set(&o));
    match (&set.status, old) {
        (log::replay::SetStatus::Pending { .. }, _) => {
            let waiting = set.unacknowledged();
            let verb = if waiting.len() == 1 { "has" } else { "have" };
            println!(
                "acknowledged the new set {} of {label}; it stays pending until {} {verb} acknowledged too (or a quorum runs `glasskeep activate --label {label}`): keep the old envelopes",
                set.id,
                esc(&waiting.join(", "))
            );
        }
        (_, Some(o)) if o.status == (log::replay::SetStatus::Superseded { seq }) => println!(
            "every custodian has acknowledged the new set {} of {label}: it is active, and set {} is superseded. Destroy the old envelopes before two witnesses and record each with `glasskeep envelope destroyed`",
            set.id, o.id
        ),
        _ => {}
    }
    Ok(())
}

#[cfg(feature = "card")]
/// The current head of the log in `dir`.
pub fn head(dir: &Path) -> Result<log::Hash, CliError> {
    Ok(ceremony::read_state(dir)?.head())
}

#[cfg(feature = "card")]
/// `token list`.
pub fn token_list() -> Result<(), CliError> {
    let reports =
        glasskeep_card::list_readers().map_err(|e| CliError::new(exit::CARD, e.to_string()))?;
    print!("{}", glasskeep_card::render_token_list(&reports));
    Ok(())
}

/// One custodian's public facts, the recipient and the identity stub.
pub fn custodian(r: &CustodianRecord) {
    println!("custodian {}", r.name);
    println!("  YubiKey serial {}  firmware {}", r.serial, r.firmware);
    println!(
        "  seal key: slot {} (PIN {:?}, touch {:?})",
        r.seal_slot, r.seal_pin_policy, r.seal_touch_policy
    );
    println!(
        "  sign key: slot 9c (PIN {:?}, touch {:?})",
        r.sign_pin_policy, r.sign_touch_policy
    );
    if let Ok(rcp) = PivP256Recipient::from_compressed(&r.seal_public_key) {
        println!("  age recipient: {rcp}");
        if let Ok(stub) = IdentityStub::for_custodian(r) {
            println!("  identity stub: {stub}");
        }
    }
}

/// `custodian show NAME`.
pub fn custodian_by_name(dir: &Path, name: &str) -> Result<(), CliError> {
    let state = ceremony::read_state(dir)?;
    let c = state.custodian(name).ok_or_else(|| {
        CliError::new(
            exit::REFUSED,
            format!("{name} is not enrolled: see `glasskeep custodian list`"),
        )
    })?;
    custodian(&c.record);
    Ok(())
}

#[cfg(feature = "card")]
/// After seal / rotate.
pub fn sealed(r: &SealReport) {
    println!(
        "sealed set {} ({}-of-{})",
        r.set_id,
        r.threshold,
        r.envelopes.len()
    );
    for e in &r.envelopes {
        println!(
            "  share {} -> {:<16} {}  {}",
            e.index,
            e.custodian,
            e.fingerprint.short(),
            e.path.display()
        );
    }
    println!("cosigned by {}", r.cosigners.join(", "));
    println!("print each envelope (`glasskeep envelope render FILE --format pdf`) and put it in its custodian's safe");
    anchor(&r.head);
}

/// `envelope render`.
pub fn render(
    file: &Path,
    format: RenderFormat,
    paper: PaperSize,
    output: Option<&Path>,
) -> Result<(), CliError> {
    let e = ceremony::load_envelope(file)?;
    let (fmt, ext) = match format {
        RenderFormat::Pdf => (Format::Pdf, "pdf"),
        RenderFormat::Png => (Format::Png, "png"),
        RenderFormat::Svg => (Format::Svg, "svg"),
        RenderFormat::Txt => (Format::Txt, "txt"),
    };
    let paper = match paper {
        PaperSize::A4 => Paper::A4,
        PaperSize::Letter => Paper::Letter,
    };
    let bytes = env_render::render(&e.envelope, fmt, paper)
        .map_err(|err| CliError::new(exit::INPUT, format!("{}: {err}", file.display())))?;
    let out = output
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.with_extension(ext));
    std::fs::write(&out, bytes)
        .map_err(|err| CliError::new(exit::INPUT, format!("{}: {err}", out.display())))?;
    println!("{}", out.display());
    Ok(())
}

/// `envelope read`: the text fallback from a text file (typed, copied or OCR
/// output), its corrections listed, the record written to a new file if asked.
pub fn read_text(file: &Path, output: Option<&Path>) -> Result<(), CliError> {
    let text = glasskeep::input::read_at_most(file, glasskeep::input::MAX_TEXT_FILE)
        .and_then(|b| String::from_utf8(b).map_err(|_| std::io::Error::other("not UTF-8 text")))
        .map_err(|err| CliError::new(exit::INPUT, format!("{}: {err}", file.display())))?;
    let reading = glasskeep_core::envelope::ocr::decode_ocr(&text)
        .map_err(|err| CliError::new(exit::INPUT, format!("{}: {err}", file.display())))?;
    let e = reading
        .envelope()
        .map_err(|err| CliError::new(exit::INPUT, format!("{}: {err}", file.display())))?;
    for c in &reading.corrections {
        match c.printed {
            Some(p) => println!(
                "line {}, character {}: read {:?}, the line check says {p:?}",
                c.line, c.column, c.read
            ),
            None => println!(
                "line {}, character {}: {:?} was added by the reader and is dropped",
                c.line, c.column, c.read
            ),
        }
    }
    if e.training {
        println!("TRAINING envelope: not a real credential");
    }
    println!(
        "{} | {} | share {} of {} | any {} open it",
        esc(&e.label),
        esc(&e.custodian),
        e.index,
        e.count,
        e.threshold
    );
    println!(
        "fingerprint {}",
        glasskeep_core::envelope::Fingerprint::of_bytes(&reading.bytes).to_hex()
    );
    if let Some(out) = output {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(out)
            .and_then(|mut f| f.write_all(&reading.bytes))
            .map_err(|err| CliError::new(exit::INPUT, format!("{}: {err}", out.display())))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}

/// `status`: the report as text or JSON; exit 1 on a violation, and with `strict`
/// [`exit::PENDING`] while anything is left to do.
pub fn status_command(
    dir: &Path,
    now: u64,
    json: bool,
    strict: bool,
) -> Result<ExitCode, CliError> {
    let s = ceremony::status(dir, now)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
    } else {
        status(&s, strict, Paint::detect());
    }
    Ok(exit_for(s.outcome(strict)))
}

fn exit_for(outcome: log::Outcome) -> ExitCode {
    match outcome {
        log::Outcome::Ok => ExitCode::SUCCESS,
        log::Outcome::Pending => ExitCode::from(exit::PENDING),
        _ => ExitCode::from(exit::REFUSED),
    }
}

/// `status` as text.
fn status(s: &StatusReport, strict: bool, paint: Paint) {
    let t = |secs: u64| {
        humantime::format_rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .to_string()
    };
    if s.training {
        println!("TRAINING custody: simulated YubiKeys only");
    }
    println!("custody of {}", esc(&s.org));
    println!(
        "  id {}  entries {}  quorum {}  head {}",
        s.custody_id, s.entries, s.quorum, s.head
    );
    if s.uncheckpointed > 0 {
        println!(
            "  {} entr(y/ies) after the last checkpoint: run `glasskeep log checkpoint`",
            s.uncheckpointed
        );
    }
    println!("custodians:");
    for c in &s.custodians {
        let mut notes = String::new();
        if c.firmware_risk_accepted {
            notes.push_str(&format!(
                "  FIRMWARE RISK ACCEPTED ({}, Yubico YSA-2024-03)",
                c.firmware
            ));
        }
        if let Some(seq) = c.retired {
            notes.push_str(&format!("  RETIRED at entry {seq}"));
        }
        println!("  {:<20} YubiKey {}{notes}", esc(&c.name), c.serial);
    }
    println!("credentials:");
    for set in &s.sets {
        println!(
            "  {:<20} {:<10} {}-of-{} ({})  set {}",
            esc(&set.label),
            set.status.to_uppercase(),
            set.threshold,
            set.custodians.len(),
            esc(&set.custodians.join(", ")),
            set.set_id
        );
    }
    for p in &s.pending_sets {
        let line = format!(
            "PENDING ROTATION: {} set {} (rotated at entry {}) waits for {}; set {} stays live until then",
            esc(&p.label),
            p.set_id,
            p.rotate_seq,
            esc(&p.waiting_for.join(", ")),
            p.replaces
        );
        println!("{}", paint.line(Some(Tone::Pending), &line));
    }
    if !s.must_act.is_empty() {
        println!("who must act:");
        for m in &s.must_act {
            let by = m.by.map_or_else(
                || "as soon as possible".to_owned(),
                |b| format!("by {}", t(b)),
            );
            println!(
                "  {:<20} {:<12} {by}: {}",
                esc(&m.custodian),
                m.act,
                esc(&m.what)
            );
        }
    }
    for o in &s.open {
        let line = format!(
            "OPEN: {} opened at entry {}; rotate by {}{}",
            esc(&o.label),
            o.opened_seq,
            t(o.deadline),
            if o.overdue { " — OVERDUE" } else { "" }
        );
        let tone = if o.overdue { Tone::Bad } else { Tone::Pending };
        println!("{}", paint.line(Some(tone), &line));
    }
    let mut text = String::new();
    obligations(&mut text, "violations:", &s.violations);
    obligations(&mut text, "pending:", &s.pending);
    let outcome = s.outcome(strict);
    let (n, v) = (s.pending.len(), s.violations.len());
    let verdict = match outcome {
        log::Outcome::Ok if n == 0 => "OK".to_string(),
        log::Outcome::Ok => format!("OK, {n} pending"),
        log::Outcome::Pending => format!("PENDING: {n} pending (--strict)"),
        _ => format!("FAILED: {v} violation(s), {n} pending"),
    };
    let training = if s.training {
        " (TRAINING custody)"
    } else {
        ""
    };
    text.push_str(&format!("{verdict}{training}\n"));
    print!("{}", paint.report(&text));
}

/// A titled list of pending items or violations, one per line.
fn obligations(out: &mut String, title: &str, list: &[log::Obligation]) {
    if list.is_empty() {
        return;
    }
    out.push_str(title);
    out.push('\n');
    for o in list {
        out.push_str(&format!("  {o}\n"));
    }
}

/// How a line of a report reads at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tone {
    /// A violation or failure.
    Bad,
    /// Work within its window.
    Pending,
    /// Verified, nothing wrong.
    Good,
}

/// Whether to colour stdout: only a terminal that shows colour, and never when the
/// user set `NO_COLOR`. Colour wraps whole lines, so the text without it is the same.
#[derive(Clone, Copy, Debug)]
struct Paint(bool);

impl Paint {
    fn detect() -> Self {
        use std::io::IsTerminal;
        Paint(colour_wanted(
            std::io::stdout().is_terminal(),
            std::env::var_os("TERM").as_deref(),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
    }

    fn line(self, tone: Option<Tone>, text: &str) -> String {
        let code = match (self.0, tone) {
            (true, Some(Tone::Bad)) => "31",
            (true, Some(Tone::Pending)) => "33",
            (true, Some(Tone::Good)) => "32",
            _ => return text.to_string(),
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// A whole report, every line escaped (it quotes the log), each section in its
    /// tone: the violations red, the pending items yellow, the verdict by its word.
    fn report(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut section = None;
        for raw in text.lines() {
            let line = esc(raw);
            let tone = if raw.starts_with("violations") {
                section = Some(Tone::Bad);
                section
            } else if raw == "pending:" {
                section = Some(Tone::Pending);
                section
            } else if raw.starts_with("  ") {
                section
            } else {
                section = None;
                verdict_tone(raw)
            };
            out.push_str(&self.line(tone, &line));
            out.push('\n');
        }
        out
    }
}

fn verdict_tone(line: &str) -> Option<Tone> {
    if line.starts_with("FAILED") {
        Some(Tone::Bad)
    } else if line.starts_with("PENDING") {
        Some(Tone::Pending)
    } else if line == "OK" || line.starts_with("OK,") || line.starts_with("OK (") {
        Some(Tone::Good)
    } else {
        None
    }
}

fn colour_wanted(
    tty: bool,
    term: Option<&std::ffi::OsStr>,
    no_color: Option<&std::ffi::OsStr>,
) -> bool {
    // NO_COLOR (no-color.org): any non-empty value turns colour off.
    let refused = no_color.is_some_and(|v| !v.is_empty());
    let term_ok = term.is_some_and(|t| !t.is_empty() && t != "dumb");
    tty && term_ok && !refused
}

/// Text from the log, with anything that could rewrite the terminal escaped.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    glasskeep_core::text::escape(s)
}

/// How `log verify` judges.
pub struct VerifyFlags {
    /// Violations as warnings.
    pub lenient: bool,
    /// Pending items exit with [`exit::PENDING`] instead of 0.
    pub strict: bool,
    /// Accept a training custody.
    pub training: bool,
    /// "Now" for overdue verdicts.
    pub now: u64,
    /// Whether `now` was given (`--now`) rather than read from this machine.
    pub now_given: bool,
}

pub fn verify(
    dir: &Path,
    anchor: Option<&str>,
    json: bool,
    flags: VerifyFlags,
) -> Result<ExitCode, CliError> {
    let anchor = anchor.map(super::sheet::anchor).transpose()?;
    let opts = log::VerifyOptions {
        anchor: anchor.as_ref().map(super::sheet::Anchor::hash),
        now: Some(flags.now),
        lenient: flags.lenient,
        strict: flags.strict,
        training: flags.training,
        now_given: flags.now_given,
    };
    let mut report = ceremony::verify_log(dir, &opts)?;
    let sheet_note = anchor
        .as_ref()
        .and_then(|a| super::sheet::judge(&mut report, a));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{}", Paint::detect().report(&report.to_string()));
        if let Some(note) = sheet_note {
            println!("{note}");
        }
    }
    Ok(exit_for(report.outcome()))
}

/// `log show`: the transcript, or the postmortem report (verified with `opts`), to
/// standard output or a new file.
pub fn show(
    dir: &Path,
    format: ShowFormat,
    opts: &log::VerifyOptions,
    output: Option<&Path>,
) -> Result<(), CliError> {
    let text = match format {
        ShowFormat::Text => ceremony::transcript(dir, log::show::Format::Text)?,
        ShowFormat::Md => ceremony::transcript(dir, log::show::Format::Markdown)?,
        ShowFormat::Json => ceremony::transcript(dir, log::show::Format::Json)?,
        ShowFormat::Html => ceremony::postmortem_html(dir, opts)?,
    };
    match output {
        None => print!("{text}"),
        Some(out) => {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(out)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(|err| CliError::new(exit::INPUT, format!("{}: {err}", out.display())))?;
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}

/// `man`.
pub fn man() -> Result<(), CliError> {
    let cmd = <super::args::Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| CliError::new(exit::INPUT, format!("cannot render the man page: {e}")))?;
    out.extend_from_slice(SHEETS_ROFF.as_bytes());
    out.extend_from_slice(exit_status_roff().as_bytes());
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| CliError::new(exit::INPUT, format!("cannot write: {e}")))
}

/// The man page's section on ceremony sheets: the options every ceremony shares are not
/// in the top-level synopsis, so they are described here.
const SHEETS_ROFF: &str = r#".SH "CEREMONY SHEETS"
Every ceremony, and \fBinit\fR, takes \fB\-\-sheet\fR \fIFILE.pdf\fR (with \fB\-\-paper\fR a4|letter and a \fB\-\-witness\fR \fINAME\fR for each person present who does not sign the log).
Once the ceremony is recorded, and only then, it writes its sheet: the custody, the ceremony, the plan hash, the time, the entries written, the new head as hex and as a QR code, the live share sets with their envelope fingerprints, and a signature line for each custodian who signed and each witness.
A sheet file that already exists is refused before anything else.
\fBglasskeep log sheet\fR \fIFILE.pdf\fR [\fB\-\-from\fR \fISEQ\fR] prints the sheet of the last ceremony from the log.
.PP
The QR code holds \fBGKHEAD1:\fR\fIcustody\-id\fR\fB:\fR\fIseq\fR\fB:\fR\fIhead\fR.
\fBglasskeep log verify \-\-anchor\fR takes the head's 64 hex digits, that text, or a PNG or JPEG scan of the sheet (rasterise a PDF with \fBpdftoppm \-r 300 \-png\fR); with a head code the log must also be that custody's and the head that entry.
"#;

/// The man page's EXIT STATUS section, from the one table `--help` shows.
fn exit_status_roff() -> String {
    let mut out = String::from(".SH \"EXIT STATUS\"\n");
    for line in super::args::EXIT_CODES.lines().skip(1) {
        let t = line.trim_start();
        match t.split_once("  ") {
            Some((code, text)) if code.chars().all(|c| c.is_ascii_digit()) => {
                out.push_str(&format!(".TP\n{code}\n{}\n", text.trim()));
            }
            _ => {
                // A continuation line of the previous code's text.
                out.push_str(t);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn colour_only_on_a_terminal_that_shows_it_and_never_with_no_color() {
        let xterm = Some(OsStr::new("xterm-256color"));
        assert!(colour_wanted(true, xterm, None));
        assert!(colour_wanted(true, xterm, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, xterm, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, xterm, None));
        assert!(!colour_wanted(true, Some(OsStr::new("dumb")), None));
        assert!(!colour_wanted(true, None, None));
    }

    #[test]
    fn colour_wraps_whole_lines_and_leaves_the_text_alone() {
        let text = "head abc\nviolations:\n  entry 3: policy/review-overdue: x\npending:\n  entry 4: pending/rotate: y\nFAILED at entry 3: z\n";
        assert_eq!(Paint(false).report(text), text);
        let coloured = Paint(true).report(text);
        let lines: Vec<&str> = coloured.lines().collect();
        assert_eq!(lines[0], "head abc");
        assert_eq!(
            lines[2],
            "\x1b[31m  entry 3: policy/review-overdue: x\x1b[0m"
        );
        assert_eq!(lines[4], "\x1b[33m  entry 4: pending/rotate: y\x1b[0m");
        assert_eq!(lines[5], "\x1b[31mFAILED at entry 3: z\x1b[0m");
        let plain: String = coloured
            .replace("\x1b[31m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[0m", "");
        assert_eq!(plain, text);
        assert_eq!(
            Paint(true).report("OK, 2 pending\n"),
            "\x1b[32mOK, 2 pending\x1b[0m\n"
        );
    }

    #[test]
    fn a_report_line_cannot_carry_a_terminal_escape() {
        assert_eq!(Paint(false).report("org \u{1b}[2J\n"), "org \\u{001B}[2J\n");
    }
}
