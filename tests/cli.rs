//! The command line without cards: exit codes and messages of the documented failure
//! classes, and that no command takes a secret or PIN from argv.

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_glasskeep");

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn read_only_commands_without_a_log_exit_5_and_say_what_to_do() {
    let d = tempfile::tempdir().unwrap();
    for args in [
        &["status"][..],
        &["log", "verify"],
        &["log", "show"],
        &["custodian", "list"],
    ] {
        let o = run(d.path(), args);
        assert_eq!(o.status.code(), Some(5), "{args:?}: {}", stderr(&o));
        // One message, whichever command looked: the folder it looked in, and --dir.
        let e = stderr(&o);
        assert!(
            e.contains(&format!("no custody in {}", d.path().display())) && e.contains("--dir"),
            "{e}"
        );
        // Reading a custody that is not there is no reason to start a new one.
        assert!(!e.contains("init"), "{e}");
    }
}

#[test]
fn init_twice_is_refused_and_the_log_is_untouched() {
    let d = tempfile::tempdir().unwrap();
    let o = run(d.path(), &["init", "--org", "Example", "--training"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("TRAINING"));
    let before = std::fs::read(d.path().join("ceremony.log")).unwrap();
    let o = run(d.path(), &["init", "--org", "Other"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(d.path().join("ceremony.log")).unwrap(),
        before
    );

    // A fresh training custody fails verification as production, saying TRAINING
    // first; with --training it verifies.
    let o = run(d.path(), &["log", "verify"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.starts_with("TRAINING"), "{out}");
    assert!(out.contains("training"), "{out}");
    let o = run(d.path(), &["log", "verify", "--training"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(out.starts_with("TRAINING"), "{out}");
    let o = run(d.path(), &["log", "verify", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["failure"]["class"], "training", "{json}");
    assert_eq!(json["training"], true, "{json}");
}

#[test]
fn sealing_to_someone_not_enrolled_is_refused_before_reading_any_secret() {
    // A ceremony first checks that pcscd answers (no cards are needed to get past it).
    let _lab = glasskeep_piv_sim::harness::PcscLab::start(&[]).expect("pcscd lab starts");
    let d = tempfile::tempdir().unwrap();
    assert!(run(d.path(), &["init", "--org", "Example"])
        .status
        .success());
    let before = std::fs::read(d.path().join("ceremony.log")).unwrap();
    let status = run(d.path(), &["status", "--json"]);
    let head = serde_json::from_slice::<serde_json::Value>(&status.stdout).unwrap()["head"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = Command::new(BIN)
        .arg("--dir")
        .arg(d.path())
        .args([
            "seal",
            "--label",
            "k",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob",
            "--anchor",
            &head[..16],
            // This machine may be on a network, which a production custody refuses first.
            "--allow-network",
        ])
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("alice is not an enrolled custodian"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(d.path().join("ceremony.log")).unwrap(),
        before
    );
    assert!(
        !d.path().join("envelopes").exists()
            || std::fs::read_dir(d.path().join("envelopes"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn unreadable_envelopes_exit_4() {
    let d = tempfile::tempdir().unwrap();
    let junk = d.path().join("junk.gkenv");
    std::fs::write(&junk, b"\xa1\x00\x00").unwrap();
    let o = run(
        d.path(),
        &["envelope", "export-age", junk.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let o = run(
        d.path(),
        &[
            "envelope",
            "render",
            "/nonexistent.gkenv",
            "--format",
            "pdf",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
}

#[test]
fn files_larger_than_any_envelope_scan_or_text_are_refused_unread() {
    // Sparse files: their size is claimed, not written.
    let d = tempfile::tempdir().unwrap();
    let big = |name: &str, len: u64| {
        let p = d.path().join(name);
        std::fs::File::create(&p).unwrap().set_len(len).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let envelope = big("big.gkenv", (64 << 20) + 1);
    let o = run(
        d.path(),
        &["envelope", "render", &envelope, "--format", "txt"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("larger than 65536 KiB"),
        "{}",
        stderr(&o)
    );
    let text = big("big.txt", (1 << 20) + 1);
    let o = run(d.path(), &["envelope", "read", &text]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("larger than 1024 KiB"),
        "{}",
        stderr(&o)
    );
    let scan = big("big.png", (64 << 20) + 1);
    let o = run(d.path(), &["log", "verify", "--anchor", &scan]);
    assert!(
        stderr(&o).contains("larger than 65536 KiB"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn secrets_and_pins_have_no_command_line_flag() {
    let d = tempfile::tempdir().unwrap();
    for args in [
        &[
            "seal",
            "--label",
            "k",
            "--threshold",
            "2",
            "--custodians",
            "a,b",
            "--secret",
            "x",
        ][..],
        &["status", "--pin", "123456"],
        &[
            "open",
            "--label",
            "k",
            "--reason",
            "r",
            "--envelope",
            "e",
            "--pin",
            "123456",
        ],
    ] {
        let o = run(d.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(!stderr(&o).contains("123456") || stderr(&o).contains("unexpected argument"));
    }
    // --pin-file and --pin-fd name where PINs are, and exclude each other.
    let o = run(
        d.path(),
        &[
            "drill",
            "--label",
            "x",
            "--envelope",
            "e",
            "--pin-file",
            "p",
            "--pin-fd",
            "3",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

#[test]
fn pin_options_only_on_commands_that_use_a_card() {
    let d = tempfile::tempdir().unwrap();
    for args in [
        &["status", "--pin-file", "p"][..],
        &["log", "verify", "--pin-fd", "3"],
        &["--pin-file", "p", "status"],
        &["custodian", "list", "--pin-file", "p"],
    ] {
        let o = run(d.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    for cmd in [
        &["status"][..],
        &["log", "verify"],
        &["envelope", "render"],
        &["init"],
    ] {
        let mut a = cmd.to_vec();
        a.push("--help");
        let o = run(d.path(), &a);
        let help = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "{a:?}");
        assert!(
            !help.contains("--pin-file"),
            "{a:?} offers --pin-file:\n{help}"
        );
    }
    for cmd in [
        &["open"][..],
        &["drill"],
        &["check-share"],
        &["seal"],
        &["rotate"],
        &["review"],
        &["custodian", "enroll"],
        &["custodian", "retire"],
        &["envelope", "destroyed"],
        &["log", "checkpoint"],
    ] {
        let mut a = cmd.to_vec();
        a.push("--help");
        let o = run(d.path(), &a);
        let help = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            help.contains("--pin-file") && help.contains("--pin-fd"),
            "{a:?} lacks --pin-file:\n{help}"
        );
    }
}

#[test]
fn man_page_documents_exit_status_and_completions_print() {
    let d = tempfile::tempdir().unwrap();
    let o = run(d.path(), &["man"]);
    assert!(o.status.success());
    let man = String::from_utf8_lossy(&o.stdout);
    assert!(
        man.contains("EXIT STATUS") && man.contains("pcscd"),
        "{man}"
    );
    let o = run(d.path(), &["completions", "bash"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("glasskeep"));
}

#[test]
fn open_into_a_pipe_without_stdout_is_refused_before_anything_else() {
    // No custody and no envelope file: the refusal must come first, before either is
    // looked at (exit 2, documented in `open --help`).
    let d = tempfile::tempdir().unwrap();
    let o = run(
        d.path(),
        &[
            "open",
            "--label",
            "k",
            "--reason",
            "r",
            "--envelope",
            "missing.gkenv",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.starts_with("glasskeep: standard output is not a terminal"),
        "{e}"
    );
    assert!(e.contains("--stdout") && e.contains("--output"), "{e}");
    assert!(o.stdout.is_empty());

    // With --stdout the request goes on, and fails where it should: the envelope.
    let o = run(
        d.path(),
        &[
            "open",
            "--label",
            "k",
            "--reason",
            "r",
            "--envelope",
            "missing.gkenv",
            "--stdout",
        ],
    );
    // (It then stops at the machine's preflight or at the envelope, whichever this
    // machine reaches: pcscd may or may not be running here.)
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("standard output is not a terminal"),
        "{}",
        stderr(&o)
    );

    // An existing --output file is refused before anything else too, and left alone.
    let taken = d.path().join("secret.txt");
    std::fs::write(&taken, b"keep me").unwrap();
    let o = run(
        d.path(),
        &[
            "open",
            "--label",
            "k",
            "--reason",
            "r",
            "--envelope",
            "missing.gkenv",
            "--output",
            taken.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&taken).unwrap(), b"keep me");
}

#[test]
fn open_help_says_where_the_secret_goes() {
    let d = tempfile::tempdir().unwrap();
    let o = run(d.path(), &["open", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for word in [
        "alternate screen",
        "--output",
        "--stdout",
        "--qr",
        "0600",
        "--alarm-file",
    ] {
        assert!(help.contains(word), "{word}: {help}");
    }
}

/// One table of exit codes: `--help` gives it, and README.md and the man page list the
/// same codes.
#[test]
fn exit_codes_are_one_table_in_help_readme_and_man_page() {
    let d = tempfile::tempdir().unwrap();
    let help = String::from_utf8(run(d.path(), &["--help"]).stdout).unwrap();
    let table = help
        .split("Exit codes:")
        .nth(1)
        .expect("--help lists exit codes");
    let codes: Vec<u32> = table
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert!(codes.len() >= 11, "{codes:?}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let man = String::from_utf8(run(d.path(), &["man"]).stdout).unwrap();
    for c in &codes {
        assert!(
            readme.contains(&format!("| {c} |")),
            "README.md lacks exit code {c}"
        );
        let man_table = man
            .split("Exit codes:")
            .nth(1)
            .expect("the man page lists exit codes");
        assert!(
            man_table
                .lines()
                .any(|l| l.split_whitespace().next() == Some(&c.to_string())),
            "the man page lacks exit code {c}"
        );
    }
}

#[test]
fn version_prints_the_sha256_of_the_running_binary() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = glasskeep_core::hex::encode(&sha2::Sha256::digest(std::fs::read(BIN).unwrap()));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        format!(
            "glasskeep {}\nbinary sha256 {expected}\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn scripted_pins_are_refused_on_a_production_custody_before_anything_else() {
    let d = tempfile::tempdir().unwrap();
    assert!(run(d.path(), &["init", "--org", "Example"])
        .status
        .success());
    let before = std::fs::read(d.path().join("ceremony.log")).unwrap();
    let pins = d.path().join("pins");
    std::fs::write(&pins, "123456\n").unwrap();
    let pins = pins.to_str().unwrap();
    let scripted: [&[&str]; 3] = [
        &[
            "check-share",
            "--envelope",
            "nowhere.gkenv",
            "--pin-file",
            pins,
        ],
        &[
            "log",
            "checkpoint",
            "--custodians",
            "alice,bob",
            "--pin-fd",
            "0",
        ],
        &[
            "custodian",
            "retire",
            "alice",
            "--reason",
            "left",
            "--cosigners",
            "bob,carol",
            "--pin-file",
            pins,
        ],
    ];
    for args in scripted {
        let o = run(d.path(), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("production custody") && err.contains("--allow-scripted-pins"),
            "{err}"
        );
        // Before the machine checks: no pcscd or network finding was even looked for.
        assert!(!err.contains("pcscd") && !err.contains("network"), "{err}");
        assert_eq!(
            std::fs::read(d.path().join("ceremony.log")).unwrap(),
            before
        );
    }
    // The people present may accept it: then the ceremony goes on to its next check.
    let o = run(
        d.path(),
        &[
            "check-share",
            "--envelope",
            "nowhere.gkenv",
            "--pin-file",
            pins,
            "--allow-scripted-pins",
        ],
    );
    assert!(
        !stderr(&o).contains("--allow-scripted-pins"),
        "{}",
        stderr(&o)
    );

    // A training custody's drills take PIN files without being told.
    let t = tempfile::tempdir().unwrap();
    assert!(run(t.path(), &["init", "--org", "Example", "--training"])
        .status
        .success());
    let o = run(
        t.path(),
        &[
            "check-share",
            "--envelope",
            "nowhere.gkenv",
            "--pin-file",
            pins,
        ],
    );
    assert!(
        !stderr(&o).contains("--allow-scripted-pins"),
        "{}",
        stderr(&o)
    );
}
