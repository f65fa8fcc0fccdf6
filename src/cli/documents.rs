//! `runbook` and `recovery-kit`: printing the documents embedded in the binary.

use std::io::{IsTerminal, Write};
use std::path::Path;

use glasskeep::ceremony;
use glasskeep::documents::{self, RUNBOOKS};
use glasskeep_core::document::{self, Options};
use glasskeep_core::envelope::render::Paper;

use super::args::{DocumentFormat, PaperSize};
use super::{exit, CliError};

fn paper(p: PaperSize) -> Paper {
    match p {
        PaperSize::A4 => Paper::A4,
        PaperSize::Letter => Paper::Letter,
    }
}

/// `runbook [NAME]`: the list, or one runbook as Markdown or PDF.
pub fn runbook(
    name: Option<&str>,
    format: DocumentFormat,
    size: PaperSize,
    output: Option<&Path>,
) -> Result<(), CliError> {
    let Some(name) = name else {
        let mut out = String::from("Runbooks (glasskeep runbook NAME [--format pdf -o FILE]):\n");
        for r in &RUNBOOKS {
            out.push_str(&format!("  {:<12} {}\n", r.name, r.title()));
        }
        return emit(None, out.as_bytes());
    };
    let book = documents::runbook(name).ok_or_else(|| {
        CliError::new(
            exit::USAGE,
            format!("no runbook named {name:?}: `glasskeep runbook` lists them"),
        )
    })?;
    let bytes = match format {
        DocumentFormat::Md => book.markdown.as_bytes().to_vec(),
        DocumentFormat::Pdf => {
            if output.is_none() && std::io::stdout().is_terminal() {
                return Err(CliError::new(
                    exit::USAGE,
                    "a PDF is not for the terminal: add -o FILE, or redirect standard output to a file",
                ));
            }
            document::markdown_to_pdf(
                book.markdown,
                &Options {
                    paper: paper(size),
                    title: format!("glasskeep runbook: {}", book.name),
                    training: false,
                },
            )
        }
    };
    emit(output, &bytes)
}

/// Standard output, or a new file (an existing one is refused).
fn emit(output: Option<&Path>, bytes: &[u8]) -> Result<(), CliError> {
    match output {
        Some(p) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(p)
                .map_err(|e| {
                    CliError::new(
                        exit::INPUT,
                        format!("{}: {e}: give a new file name", p.display()),
                    )
                })?;
            f.write_all(bytes)
                .map_err(|e| CliError::new(exit::INPUT, format!("{}: {e}", p.display())))?;
            eprintln!("wrote {}", p.display());
            Ok(())
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                // A closed pipe (`| head`) is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(CliError::new(
                    exit::INPUT,
                    format!("cannot write to standard output: {e}"),
                )),
            }
        }
    }
}

/// `recovery-kit DIR`: verify the log, write the kit, say where each file is.
pub fn recovery_kit(dir: &Path, folder: &Path, size: PaperSize, now: u64) -> Result<(), CliError> {
    let kit = ceremony::recovery_kit(dir, folder, paper(size), now)?;
    if kit.training {
        println!("TRAINING custody: every page of the kit says TRAINING.");
    }
    println!(
        "The log verified (head {}). Recovery kit, {} live set(s):",
        kit.head, kit.live_sets
    );
    let what = [
        "how to recover a secret without glasskeep: print it",
        "the recovery script RECOVERY.pdf walks through: keep a copy on the kit's medium",
        "the live sets and their envelope fingerprints: print it",
        "the same sheet as plain text",
    ];
    for (path, what) in kit.files.iter().zip(what) {
        println!("  {}  ({what})", path.display());
    }
    println!("Put the printed pages into the safe beside the envelopes; write a new kit after every seal, rotation or destruction.");
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The runbooks name commands people will type at 3am: every one of them is held to
    //! the real command line, as are the examples in `--help`.

    use glasskeep::documents::{RECOVERY_MD, RUNBOOKS};
    use glasskeep_core::document::markdown::parse;
    use glasskeep_core::document::{unprintable, Block, Span, Style};

    use crate::cli::args::Cli;
    use clap::{CommandFactory, Parser};

    /// Shell words of one command line: double and single quotes, nothing else.
    fn words(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut quote = None;
        let mut started = false;
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => cur.push(c),
                (None, '"' | '\'') => {
                    quote = Some(c);
                    started = true;
                }
                (None, c) if c.is_whitespace() => {
                    if started || !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                    started = false;
                }
                (None, c) => cur.push(c),
            }
        }
        assert!(quote.is_none(), "unbalanced quotes in {line:?}");
        if started || !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    fn code_spans(spans: &[Span], out: &mut Vec<String>) {
        out.extend(
            spans
                .iter()
                .filter(|s| s.style == Style::Code)
                .map(|s| s.text.clone()),
        );
    }

    /// Every `glasskeep …` a document names, in code blocks and inline code.
    fn commands(markdown: &str) -> Vec<String> {
        let mut found = Vec::new();
        for block in parse(markdown) {
            match block {
                Block::Heading { spans, .. }
                | Block::Paragraph { spans, .. }
                | Block::Item { spans, .. } => code_spans(&spans, &mut found),
                Block::Table { header, rows, .. } => {
                    for cell in header.iter().chain(rows.iter().flatten()) {
                        code_spans(cell, &mut found);
                    }
                }
                Block::Code { lines, .. } => {
                    let mut joined = String::new();
                    for l in lines {
                        match l.trim_end().strip_suffix('\\') {
                            Some(head) => joined.push_str(head),
                            None => {
                                joined.push_str(&l);
                                found.push(std::mem::take(&mut joined));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        found
            .into_iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| c.starts_with("glasskeep "))
            .collect()
    }

    fn check(source: &str, command: &str, failures: &mut Vec<String>) {
        // Output redirections are the shell's, not glasskeep's.
        let command = command.split(" > ").next().unwrap_or(command);
        let argv = words(command);
        match Cli::try_parse_from(&argv) {
            Ok(_) => {}
            Err(e) => {
                // `--help` and `--version` "fail" by printing: they are fine.
                if !matches!(
                    e.kind(),
                    clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
                ) {
                    failures.push(format!("{source}: `{command}`: {}", e.render()));
                }
            }
        }
    }

    #[test]
    fn every_command_in_the_runbooks_parses() {
        let mut failures = Vec::new();
        let mut seen = 0;
        for r in &RUNBOOKS {
            for c in commands(r.markdown) {
                seen += 1;
                check(r.file, &c, &mut failures);
            }
        }
        for c in commands(RECOVERY_MD) {
            check("docs/RECOVERY.md", &c, &mut failures);
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(
            seen > 40,
            "only {seen} commands found: is the extraction broken?"
        );
    }

    #[test]
    fn the_rotation_runbook_is_two_phase() {
        let rotation = glasskeep::documents::runbook("rotation").unwrap().markdown;
        let cmds = commands(rotation);
        assert!(cmds.iter().any(|c| c.contains(" activate --label ")));
        assert!(cmds.iter().any(|c| c.contains(" check-share ")));
        // The new custodians acknowledge, and only after activation are the old
        // envelopes destroyed.
        let check = rotation.find(" check-share ").unwrap();
        let activate = rotation.find(" activate --label ").unwrap();
        assert!(check < activate);
        let destroyed = rotation.find("envelope destroyed --fingerprint").unwrap();
        assert!(activate < destroyed);
    }

    #[test]
    fn every_help_example_parses() {
        fn walk(cmd: &clap::Command, failures: &mut Vec<String>, seen: &mut usize) {
            if let Some(help) = cmd.get_after_help() {
                let help = help.to_string();
                if let Some((_, examples)) = help.split_once("Example:\n") {
                    let mut joined = String::new();
                    for l in examples.lines() {
                        let t = l.trim();
                        if joined.is_empty() && !t.starts_with("glasskeep ") {
                            continue;
                        }
                        match t.strip_suffix('\\') {
                            Some(head) => {
                                joined.push_str(head);
                                joined.push(' ');
                            }
                            None => {
                                joined.push_str(t);
                                *seen += 1;
                                check(cmd.get_name(), &joined, failures);
                                joined.clear();
                            }
                        }
                    }
                }
            }
            for s in cmd.get_subcommands() {
                walk(s, failures, seen);
            }
        }
        let mut failures = Vec::new();
        let mut seen = 0;
        walk(&Cli::command(), &mut failures, &mut seen);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(seen > 20, "only {seen} examples found");
    }

    #[test]
    fn every_document_prints_without_a_missing_glyph() {
        for r in &RUNBOOKS {
            assert_eq!(unprintable(r.markdown), Vec::<char>::new(), "{}", r.file);
        }
        assert_eq!(unprintable(RECOVERY_MD), Vec::<char>::new(), "RECOVERY.md");
    }

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            words(r#"glasskeep init --org "Example Corp" --x 'a b' """#),
            [
                "glasskeep",
                "init",
                "--org",
                "Example Corp",
                "--x",
                "a b",
                ""
            ]
        );
    }
}
