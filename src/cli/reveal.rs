//! What `open` shows, and where; and the incident notice of a refused envelope.
//!
//! An opening first puts the alarm notice on a screen of its own (stderr), with a QR
//! code of its compact form, and on a terminal waits until the people present say it was
//! sent. Then the secret goes to exactly one place, chosen before the ceremony runs so
//! a wrong flag never costs an opening:
//!
//! - a terminal's alternate screen, cleared and left when Enter is pressed, so the
//!   secret never reaches the scrollback (the default; `--qr` adds a QR code);
//! - `--output FILE`: a new file, mode 0600, the exact bytes;
//! - `--stdout`: the exact bytes to standard output, even a pipe. Without it a pipe or
//!   a redirect is refused, so a secret never lands in one by accident.

mod notice;
mod qr;
mod term;
#[cfg(feature = "card")]
mod view;

use std::io::{IsTerminal, Write};
use std::path::Path;
#[cfg(feature = "card")]
use std::path::PathBuf;

#[cfg(feature = "card")]
use glasskeep::ceremony::OpenReport;
use glasskeep::ceremony::{self, EnvelopeIncident};
#[cfg(feature = "card")]
use glasskeep::input;
#[cfg(feature = "card")]
use glasskeep_core::secret::SecretBytes;
#[cfg(feature = "card")]
use glasskeep_core::text::escape;

#[cfg(feature = "card")]
use super::exit;
#[cfg(feature = "card")]
use super::CliError;

#[cfg(feature = "card")]
/// Where `open` was asked to put the secret (its flags).
#[derive(Debug, Clone, Copy)]
pub(super) struct Wanted<'a> {
    /// `--output FILE`.
    pub output: Option<&'a Path>,
    /// `--stdout`.
    pub stdout: bool,
    /// `--qr`.
    pub qr: bool,
    /// `--alarm-file F`.
    pub alarm_file: Option<&'a Path>,
    /// `--yes`: no waiting for the alarm to be confirmed sent.
    pub yes: bool,
}

#[cfg(feature = "card")]
#[derive(Debug, Clone, PartialEq, Eq)]
enum Destination {
    Screen { qr: bool },
    File(PathBuf),
    Stdout,
}

#[cfg(feature = "card")]
/// Where the secret and the alarm go, checked before the ceremony.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    dest: Destination,
    alarm_text: Option<PathBuf>,
    alarm_png: Option<PathBuf>,
    yes: bool,
}

#[cfg(feature = "card")]
fn shown_path(p: &Path) -> String {
    escape(&p.display().to_string()).into_owned()
}

#[cfg(feature = "card")]
/// A file that will be created after the opening: its folder exists and is writable,
/// and nothing is at its name yet (not even a dangling link).
fn check_new_file(p: &Path, what: &str) -> Result<(), CliError> {
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(CliError::new(
            exit::INPUT,
            format!(
                "{what} {}: the folder {} does not exist. Nothing was done",
                shown_path(p),
                shown_path(parent)
            ),
        ));
    }
    if std::fs::symlink_metadata(p).is_ok() {
        return Err(CliError::new(
            exit::INPUT,
            format!(
                "{what} {} already exists: glasskeep never writes a secret or a notice over a file. Name a new file. Nothing was done",
                shown_path(p)
            ),
        ));
    }
    if rustix::fs::access(
        parent,
        rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
    )
    .is_err()
    {
        return Err(CliError::new(
            exit::INPUT,
            format!(
                "{what} {}: the folder {} is not writable. Nothing was done",
                shown_path(p),
                shown_path(parent)
            ),
        ));
    }
    Ok(())
}

#[cfg(feature = "card")]
/// Where `--alarm-file F` writes: F itself when it ends in .txt or .png, else F.txt
/// and F.png.
fn alarm_targets(f: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
    let ext = f
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt") => (Some(f.to_path_buf()), None),
        Some("png") => (None, Some(f.to_path_buf())),
        _ => {
            let mut txt = f.as_os_str().to_owned();
            txt.push(".txt");
            let mut png = f.as_os_str().to_owned();
            png.push(".png");
            (Some(txt.into()), Some(png.into()))
        }
    }
}

#[cfg(feature = "card")]
/// Checks every flag against where stdout goes, before any ceremony: a refused request
/// costs nothing.
pub(super) fn plan(w: Wanted<'_>, stdout_is_terminal: bool) -> Result<Plan, CliError> {
    let dest = match (w.output, w.stdout) {
        (Some(p), _) => {
            check_new_file(p, "--output")?;
            Destination::File(p.to_path_buf())
        }
        (None, true) => Destination::Stdout,
        (None, false) if stdout_is_terminal => Destination::Screen { qr: w.qr },
        (None, false) => {
            return Err(CliError::new(
                exit::USAGE,
                "standard output is not a terminal: `open` does not send a secret into a pipe or a file by accident. \
                 Use --output FILE (a new file, mode 0600), or --stdout to write the exact bytes to this pipe. \
                 Nothing was done",
            ))
        }
    };
    if matches!(dest, Destination::Screen { .. })
        && std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_err()
    {
        return Err(CliError::new(
            exit::USAGE,
            "there is no terminal (/dev/tty) to wait on before the secret is cleared from the screen: \
             use --output FILE or --stdout. Nothing was done",
        ));
    }
    let (alarm_text, alarm_png) = match w.alarm_file {
        Some(f) => alarm_targets(f),
        None => (None, None),
    };
    for p in alarm_text.iter().chain(alarm_png.iter()) {
        check_new_file(p, "--alarm-file")?;
    }
    if let (Some(a), Destination::File(o)) =
        (alarm_text.iter().chain(alarm_png.iter()).next(), &dest)
    {
        if a == o {
            return Err(CliError::new(
                exit::USAGE,
                "--alarm-file and --output name the same file",
            ));
        }
    }
    Ok(Plan {
        dest,
        alarm_text,
        alarm_png,
        yes: w.yes,
    })
}

#[cfg(feature = "card")]
/// A new file, readable by its owner only, with `bytes`.
fn write_new(p: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |e: std::io::Error| {
        CliError::new(exit::INPUT, format!("cannot write {}: {e}", shown_path(p)))
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(p)
        .map_err(fail)?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(fail)
}

#[cfg(feature = "card")]
fn alarm_facts(r: &OpenReport) -> notice::AlarmFacts {
    notice::AlarmFacts {
        org: r.org.clone(),
        custody_id: r.custody_id,
        training: r.training,
        label: r.set_label.clone(),
        custodians: r.custodians.clone(),
        reason: r.reason.clone(),
        incident: r.incident.clone(),
        time: r.time,
        seq: r.seq,
        entry_hash: r.entry_hash,
        deadline: r.deadline,
    }
}

/// A notice for stderr: its text wrapped to the terminal, and, on a terminal, its QR
/// code (with the line that introduces it) as a second part.
fn notice_parts(n: &notice::Notice) -> (String, Option<String>) {
    let err = std::io::stderr();
    let tty = err.is_terminal();
    let width = if tty { term::width(&err) } else { 80 };
    let text = notice::render(n, width);
    if !tty {
        return (text, None);
    }
    let code = match qr::fit_notice(&n.qr_forms) {
        Some((i, code)) if qr::rendered_size(&code).0 <= width => {
            let mut q = String::from(if i == 0 {
                "The same, as a QR code:\n"
            } else {
                "In short, as a QR code:\n"
            });
            q.push_str(&qr::render(&code));
            Some(q)
        }
        Some(_) => Some("(the terminal is too narrow for the QR code: 41 columns)\n".into()),
        None => None,
    };
    (text, code)
}

fn put(s: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(s.as_bytes());
    let _ = e.flush();
}

/// Writes a notice to stderr: wrapped to the terminal with its QR code, or at 80
/// columns without one when stderr is not a terminal.
fn print_notice(n: &notice::Notice, clear: bool) {
    let (text, code) = notice_parts(n);
    let mut out = String::new();
    if clear && std::io::stderr().is_terminal() {
        out.push_str(term::CLEAR);
    }
    out.push_str(&text);
    out.push_str(code.as_deref().unwrap_or_default());
    put(&out);
}

#[cfg(feature = "card")]
/// Shows the alarm on a terminal until the people present say it was sent: on one
/// screen when the text and its QR code fit the terminal's height, else the text and
/// the QR code as two screens, Enter going from one to the other — so nothing of it
/// has scrolled away while they copy or photograph it.
fn alarm_on_terminal(n: &notice::Notice) -> Result<(), CliError> {
    let (text, code) = notice_parts(n);
    let rows = term::height(std::io::stderr());
    let code = code.unwrap_or_default();
    let one_screen = text.lines().count() + code.lines().count() < rows;
    let mut page = 0;
    loop {
        let (body, prompt) = if one_screen {
            (
                format!("{text}{code}"),
                "Sent to the alarm channel? Type yes once it is sent: ",
            )
        } else if page == 0 {
            (
                text.clone(),
                "Sent to the alarm channel? Type yes once it is sent (Enter: show the QR code): ",
            )
        } else {
            (
                code.clone(),
                "Sent to the alarm channel? Type yes once it is sent (Enter: show the text): ",
            )
        };
        put(&format!("{}{body}", term::CLEAR));
        match input::ask_line(prompt)? {
            Some(a) if a.trim().eq_ignore_ascii_case("yes") => {
                // The text stays on the screen (and in the scrollback) for the record.
                if !one_screen && page != 0 {
                    put(&format!("{}{text}", term::CLEAR));
                }
                return Ok(());
            }
            Some(a) if a.trim().is_empty() => page = 1 - page,
            Some(_) => put("  > send the notice first: the secret is shown after that\n"),
            None => return Ok(()),
        }
    }
}

#[cfg(feature = "card")]
/// The alarm notice: written to the `--alarm-file` targets, shown on stderr on a screen
/// of its own, and on a terminal (without `--yes`) confirmed sent before the secret.
pub(super) fn alarm(plan: &Plan, r: &OpenReport) -> Result<(), CliError> {
    let n = notice::alarm(&alarm_facts(r));
    if let Some(p) = &plan.alarm_text {
        write_new(p, notice::render(&n, 80).as_bytes())?;
    }
    if let Some(p) = &plan.alarm_png {
        let png = qr::fit_notice(&n.qr_forms)
            .and_then(|(_, code)| qr::png(&code, 8).ok())
            .ok_or_else(|| {
                CliError::new(exit::INPUT, "the alarm notice's QR code could not be drawn")
            })?;
        write_new(p, &png)?;
    }
    let files: Vec<String> = plan
        .alarm_text
        .iter()
        .chain(plan.alarm_png.iter())
        .map(|p| format!("the alarm notice is also in {}\n", shown_path(p)))
        .collect();
    if plan.yes || !std::io::stderr().is_terminal() || !input::has_terminal() {
        print_notice(&n, true);
        put(&files.concat());
        return Ok(());
    }
    alarm_on_terminal(&n)?;
    put(&files.concat());
    Ok(())
}

#[cfg(feature = "card")]
/// The secret, to the one place the plan chose.
pub(super) fn secret(plan: &Plan, r: &OpenReport, secret: &SecretBytes) -> Result<(), CliError> {
    let bytes = secret.expose();
    let io = |e: std::io::Error| CliError::new(exit::INPUT, format!("cannot show the secret: {e}"));
    match &plan.dest {
        Destination::File(p) => {
            write_new(p, bytes)?;
            eprintln!(
                "the secret ({} bytes, exactly as sealed) is in {} (mode 0600): delete it as soon as the credential is in use",
                bytes.len(),
                shown_path(p)
            );
        }
        Destination::Stdout => {
            let out = std::io::stdout();
            let tty = out.is_terminal();
            let mut out = out.lock();
            let plain = std::str::from_utf8(bytes).is_ok_and(|s| {
                !s.chars()
                    .any(|c| c != '\n' && glasskeep_core::text::forbidden(c))
            });
            if !tty {
                out.write_all(bytes).and_then(|_| out.flush()).map_err(io)?;
            } else if plain {
                out.write_all(bytes).map_err(io)?;
                if !bytes.ends_with(b"\n") {
                    out.write_all(b"\n").map_err(io)?;
                }
                out.flush().map_err(io)?;
            } else {
                // --stdout asked for bytes, but a terminal would act on these.
                let layout = view::Layout {
                    width: term::width(std::io::stdout()),
                    qr: false,
                    now: ceremony::now(),
                };
                let shown = view::screen(&r.set_label, r.kind, bytes, layout);
                out.write_all(shown.as_bytes())
                    .and_then(|_| out.flush())
                    .map_err(io)?;
            }
        }
        Destination::Screen { qr } => {
            let stdout = std::io::stdout();
            let layout = view::Layout {
                width: term::width(&stdout),
                qr: *qr,
                now: ceremony::now(),
            };
            let shown = view::screen(&r.set_label, r.kind, bytes, layout);
            {
                let mut screen = term::AlternateScreen::enter(stdout.lock()).map_err(io)?;
                screen
                    .out()
                    .write_all(shown.as_bytes())
                    .and_then(|_| screen.out().write_all(b"\n"))
                    .and_then(|_| screen.out().flush())
                    .map_err(io)?;
                input::ask_line("Press Enter to clear the secret from the screen: ")?;
            }
            eprintln!(
                "the secret was shown and cleared from the screen; rotate {} by {}",
                escape(&r.set_label),
                notice::rfc3339(r.deadline)
            );
        }
    }
    Ok(())
}

/// What the incident says, for the notice.
fn finding(i: &EnvelopeIncident) -> (Option<String>, notice::Finding) {
    use notice::Finding;
    match i {
        EnvelopeIncident::NotLogged { fingerprint, .. } => {
            (Some(fingerprint.clone()), Finding::NeverRecorded)
        }
        EnvelopeIncident::Destroyed {
            fingerprint, seq, ..
        } => (Some(fingerprint.clone()), Finding::Destroyed { seq: *seq }),
        EnvelopeIncident::Superseded {
            fingerprint,
            set,
            label,
            ..
        } => (
            Some(fingerprint.clone()),
            Finding::Superseded {
                set: set.clone(),
                label: label.clone(),
            },
        ),
        EnvelopeIncident::OtherCredential {
            fingerprint,
            label,
            wanted,
            ..
        } => (
            Some(fingerprint.clone()),
            Finding::OtherCredential {
                label: label.clone(),
                wanted: wanted.clone(),
            },
        ),
        other => (None, Finding::Other(other.to_string())),
    }
}

/// The INCIDENT notice on stderr (with its QR code on a terminal), for an envelope the
/// log does not vouch for. The custody is read from `dir` without locking it.
pub(super) fn incident(dir: &Path, i: &EnvelopeIncident) {
    let custody = ceremony::read_state(dir)
        .ok()
        .and_then(|s| s.custody().map(|c| (c.org.clone(), c.custody_id)));
    let (fingerprint, finding) = finding(i);
    let n = notice::incident(&notice::IncidentFacts {
        custody,
        fingerprint,
        finding,
        time: ceremony::now(),
    });
    print_notice(&n, false);
}

#[cfg(all(test, feature = "card"))]
mod tests {
    use super::*;

    fn wanted() -> Wanted<'static> {
        Wanted {
            output: None,
            stdout: false,
            qr: false,
            alarm_file: None,
            yes: true,
        }
    }

    #[test]
    fn a_pipe_without_stdout_or_output_is_refused() {
        let e = plan(wanted(), false).unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        assert!(e.to_string().contains("--stdout"), "{e}");
        let e = plan(
            Wanted {
                qr: true,
                ..wanted()
            },
            false,
        )
        .unwrap_err();
        assert_eq!(e.code, exit::USAGE);
        let p = plan(
            Wanted {
                stdout: true,
                ..wanted()
            },
            false,
        )
        .unwrap();
        assert_eq!(p.dest, Destination::Stdout);
    }

    #[test]
    fn output_refuses_an_existing_file_and_a_missing_folder() {
        let d = tempfile::tempdir().unwrap();
        let existing = d.path().join("taken");
        std::fs::write(&existing, b"old").unwrap();
        let e = plan(
            Wanted {
                output: Some(&existing),
                ..wanted()
            },
            false,
        )
        .unwrap_err();
        assert_eq!(e.code, exit::INPUT);
        assert!(e.to_string().contains("already exists"), "{e}");
        assert_eq!(std::fs::read(&existing).unwrap(), b"old");

        let dangling = d.path().join("link");
        std::os::unix::fs::symlink(d.path().join("nowhere"), &dangling).unwrap();
        let e = plan(
            Wanted {
                output: Some(&dangling),
                ..wanted()
            },
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");

        let missing = d.path().join("no-such-dir").join("secret");
        let e = plan(
            Wanted {
                output: Some(&missing),
                ..wanted()
            },
            false,
        )
        .unwrap_err();
        assert_eq!(e.code, exit::INPUT);
        assert!(e.to_string().contains("does not exist"), "{e}");

        let fresh = d.path().join("fresh");
        let notice = d.path().join("alarm.txt");
        std::fs::write(&notice, b"an earlier notice").unwrap();
        let e = plan(
            Wanted {
                output: Some(&fresh),
                alarm_file: Some(&notice),
                ..wanted()
            },
            false,
        )
        .unwrap_err();
        assert_eq!(e.code, exit::INPUT);
        assert!(e.to_string().contains("--alarm-file"), "{e}");
        let p = plan(
            Wanted {
                output: Some(&fresh),
                alarm_file: Some(&d.path().join("new-alarm")),
                ..wanted()
            },
            false,
        )
        .unwrap();
        assert_eq!(p.dest, Destination::File(fresh.clone()));
        assert!(p.alarm_text.is_some() && p.alarm_png.is_some());
        assert!(!fresh.exists(), "nothing is created before the opening");
    }

    #[test]
    fn output_is_a_new_file_readable_by_its_owner_only_with_the_exact_bytes() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("secret");
        write_new(&p, b"exact\x00bytes").unwrap();
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"exact\x00bytes");
        let e = write_new(&p, b"again").unwrap_err();
        assert_eq!(e.code, exit::INPUT);
        assert_eq!(std::fs::read(&p).unwrap(), b"exact\x00bytes");
    }

    #[test]
    fn alarm_file_names() {
        let (t, p) = alarm_targets(Path::new("/x/alarm.txt"));
        assert_eq!((t.as_deref(), p), (Some(Path::new("/x/alarm.txt")), None));
        let (t, p) = alarm_targets(Path::new("/x/alarm.PNG"));
        assert_eq!((t, p.as_deref()), (None, Some(Path::new("/x/alarm.PNG"))));
        let (t, p) = alarm_targets(Path::new("/x/alarm"));
        assert_eq!(t.as_deref(), Some(Path::new("/x/alarm.txt")));
        assert_eq!(p.as_deref(), Some(Path::new("/x/alarm.png")));
    }
}
