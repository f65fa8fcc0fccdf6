//! The custody harness of the end-to-end ceremony tests: the real binary, a PIN file
//! for the simulated cards, scripted confirmations, and a machine clock that can be set
//! wrong.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use glasskeep_piv_sim::harness::{CardSpec, PcscLab};

/// The binary under test (set by cargo for the integration test that includes this).
pub const BIN: &str = env!("CARGO_BIN_EXE_glasskeep");

/// A custody folder with a PIN file for the simulated cards (default PIN 123456).
pub struct Custody {
    dir: tempfile::TempDir,
    pins: PathBuf,
    /// Runs glasskeep under libfaketime with this offset (a machine clock that is wrong).
    pub clock: std::cell::Cell<Option<&'static str>>,
}

impl Custody {
    /// A fresh folder.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pins = dir.path().join("pins");
        std::fs::write(&pins, "123456\n".repeat(64)).unwrap();
        Custody {
            dir,
            pins,
            clock: std::cell::Cell::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs glasskeep with `stdin` piped in; returns the whole output.
    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.run_with_pins(args, stdin, &self.pins)
    }

    pub fn run_with_pins(&self, args: &[&str], stdin: &[u8], pins: &Path) -> Output {
        self.spawn(args, stdin, pins, true)
    }

    /// Runs a ceremony nobody confirms (no terminal, no --yes).
    pub fn run_unconfirmed(&self, args: &[&str], stdin: &[u8]) -> Output {
        self.spawn(args, stdin, &self.pins, false)
    }

    fn spawn(&self, args: &[&str], stdin: &[u8], pins: &Path, confirm: bool) -> Output {
        use std::io::Write;
        // Ceremonies ask the people present to confirm what they sign; a scripted run
        // confirms with --yes (the entries are still printed).
        let yes: &[&str] = if confirm && is_ceremony(args) {
            &["--yes"]
        } else {
            &[]
        };
        // PINs are a ceremony's option: only the commands that use a card take them.
        let pin_file: Vec<&std::ffi::OsStr> = if is_ceremony(args) {
            // A key that is not in the lab is not coming: wait a little, not ten minutes.
            vec![
                "--pin-file".as_ref(),
                pins.as_os_str(),
                "--wait".as_ref(),
                "20s".as_ref(),
            ]
        } else {
            Vec::new()
        };
        // `open` refuses to put a secret into a pipe unless told to: these tests read it
        // from the pipe.
        let to_pipe: &[&str] = if args.first() == Some(&"open") {
            &["--stdout"]
        } else {
            &[]
        };
        let mut cmd = match self.clock.get() {
            Some(offset) => {
                let mut c = Command::new("faketime");
                c.arg(offset).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        let mut child = cmd
            .arg("--dir")
            .arg(self.path())
            .args(args)
            .args(pin_file)
            .args(yes)
            .args(to_pipe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A refused ceremony may exit before reading its input: that is the point.
        let _ = child.stdin.take().unwrap().write_all(stdin);
        child.wait_with_output().unwrap()
    }

    /// Runs and insists on success.
    pub fn ok(&self, args: &[&str], stdin: &[u8]) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "glasskeep {args:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn log(&self) -> Vec<u8> {
        std::fs::read(self.path().join("ceremony.log")).unwrap()
    }

    pub fn status(&self) -> serde_json::Value {
        let out = self.run(&["status", "--json"], b"");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn envelopes(&self, label: &str) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.path().join("envelopes"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("{label}-"))
            })
            .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
            .filter(|p| p.extension().is_some_and(|e| e == "gkenv"))
            .collect();
        v.sort();
        v
    }
    /// The head hash, as the last ceremony printed it.
    pub fn head(&self) -> String {
        self.status()["head"].as_str().unwrap().to_owned()
    }

    /// Every envelope file of the custody.
    pub fn all_envelopes(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.path().join("envelopes"))
            .unwrap()
            .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "gkenv"))
            .collect();
        v.sort();
        v
    }
}

/// The commands that run through the ceremony engine.
pub fn is_ceremony(args: &[&str]) -> bool {
    matches!(
        args,
        [
            "seal" | "open" | "drill" | "check-share" | "rotate" | "activate" | "review",
            ..
        ] | ["custodian", "enroll" | "retire", ..]
            | ["envelope", "destroyed", ..]
            | ["log", "checkpoint", ..]
    )
}

pub fn lab() -> PcscLab {
    PcscLab::start(&[
        CardSpec::new(1001),
        CardSpec::new(1002),
        CardSpec::new(1003),
    ])
    .expect("pcscd lab starts")
}

/// A training custody with quorum 2: alice and bob enroll together, then carol with
/// both of them cosigning.
pub fn enrolled(c: &Custody) {
    c.ok(&["init", "--org", "Example Corp", "--training"], b"");
    enroll_three(c);
}

/// In a custody just made: alice and bob enroll together (YubiKeys 1001, 1002), then
/// carol (1003) with both of them cosigning.
pub fn enroll_three(c: &Custody) {
    c.ok(
        &[
            "custodian",
            "enroll",
            "--name",
            "alice",
            "--serial",
            "1001",
            "--name",
            "bob",
            "--serial",
            "1002",
        ],
        b"",
    );
    c.ok(
        &[
            "custodian",
            "enroll",
            "--name",
            "carol",
            "--serial",
            "1003",
            "--cosigners",
            "alice,bob",
        ],
        b"",
    );
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The envelope files of one set (its folder is named after the label and the set id's
/// first 8 hex digits).
pub fn set_envelopes(c: &Custody, label: &str, set_id: &str) -> Vec<PathBuf> {
    let folder = c
        .path()
        .join("envelopes")
        .join(format!("{label}-{}", &set_id[..8]));
    let mut v: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gkenv"))
        .collect();
    v.sort();
    v
}

/// The pending set of `label` (made by a rotation): its id, hex.
pub fn pending_set(c: &Custody, label: &str) -> String {
    let s = c.status();
    let p = s["pending_sets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["label"] == label)
        .unwrap_or_else(|| panic!("no pending rotation of {label}: {s}"));
    p["set_id"].as_str().unwrap().to_owned()
}

/// Each custodian of the pending set of `label` checks their new envelope: the last
/// check activates it and supersedes the old set.
pub fn acknowledge(c: &Custody, label: &str) {
    let set = pending_set(c, label);
    for e in set_envelopes(c, label, &set) {
        c.ok(&["check-share", "--envelope", p(&e)], b"");
    }
    assert!(
        c.status()["pending_sets"].as_array().unwrap().is_empty(),
        "every acknowledgement is in"
    );
}
