//! Leak canaries: a random secret sealed and opened with a random PIN through the real
//! pcscd and simulated YubiKeys, while every glasskeep process is watched from outside.
//! Neither canary may appear in a process's command line or environment, in the custody
//! folder (log, envelopes, their renderings), in any stderr, or in the stdout of any
//! command but the one that reveals the secret. While a secret is held in locked memory
//! the process must have core dumps off; where locking is impossible it must say so.
//! Needs root, ykman and the simulator binary (`cargo build -p glasskeep-piv-sim`).

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::custody::{is_ceremony, lab, p, Custody, BIN};

/// What was read from one glasskeep process while it ran.
#[derive(Debug)]
struct Sample {
    cmdline: Vec<u8>,
    environ: Vec<u8>,
    /// `Max core file size` soft and hard limits, as /proc/<pid>/limits prints them.
    core_limit: String,
    /// Locked memory (`VmLck`) in kB.
    locked_kb: u64,
}

/// One finished command: its arguments, output and what was sampled while it ran.
struct Run {
    args: Vec<String>,
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    samples: Vec<Sample>,
}

/// The canaries and every form in which a careless program might write them.
struct Canaries {
    secret: Vec<u8>,
    pin: String,
}

impl Canaries {
    fn new() -> Canaries {
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw).unwrap();
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let pin: String = raw[..8]
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        let secret = format!("canary-{}", glasskeep_core::hex::encode(&raw[8..])).into_bytes();
        Canaries { secret, pin }
    }

    /// The byte strings that must not appear: each canary raw, in hex and in base64.
    fn needles(&self) -> Vec<(String, Vec<u8>)> {
        let mut v = Vec::new();
        for (name, bytes) in [("secret", &self.secret[..]), ("PIN", self.pin.as_bytes())] {
            v.push((format!("the {name}"), bytes.to_vec()));
            v.push((
                format!("the {name} in hex"),
                glasskeep_core::hex::encode(bytes).into_bytes(),
            ));
            v.push((
                format!("the {name} in base64"),
                data_encoding::BASE64.encode(bytes).into_bytes(),
            ));
        }
        v
    }

    /// Which canary form `haystack` holds, if any.
    fn found_in(&self, haystack: &[u8]) -> Option<String> {
        self.needles()
            .into_iter()
            .find(|(_, n)| haystack.windows(n.len()).any(|w| w == n.as_slice()))
            .map(|(name, _)| name)
    }
}

fn glasskeep_pids(bin: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == bin))
        .collect()
}

fn sample(pid: u32) -> Option<Sample> {
    let read = |f: &str| std::fs::read(format!("/proc/{pid}/{f}")).ok();
    let cmdline = read("cmdline")?;
    let environ = read("environ")?;
    let limits = String::from_utf8(read("limits")?).ok()?;
    let status = String::from_utf8(read("status")?).ok()?;
    let core_limit = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))?
        .split_whitespace()
        .skip(4)
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let locked_kb = status
        .lines()
        .find(|l| l.starts_with("VmLck:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(Sample {
        cmdline,
        environ,
        core_limit,
        locked_kb,
    })
}

/// Runs glasskeep as the custody harness does (PIN file, `--yes`, `--stdout` for
/// `open`), under `wrapper` if given, sampling /proc every millisecond until it exits.
fn watched(c: &Custody, pins: &Path, args: &[&str], stdin: &[u8], wrapper: &[&str]) -> Run {
    let bin = std::fs::canonicalize(BIN).unwrap();
    let mut full: Vec<String> = vec!["--dir".into(), p(c.path()).into()];
    full.extend(args.iter().map(|a| a.to_string()));
    if is_ceremony(args) {
        full.extend([
            "--pin-file".into(),
            p(pins).into(),
            "--wait".into(),
            "20s".into(),
        ]);
        full.push("--yes".into());
    }
    if args.first() == Some(&"open") {
        full.push("--stdout".into());
    }
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut cmd = Command::new(program);
            cmd.args(rest).arg(&bin);
            cmd
        }
        None => Command::new(&bin),
    };
    let mut child = cmd
        .args(&full)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let mut samples = Vec::new();
    let status = loop {
        // Every glasskeep process on the machine, not only the child: a helper it
        // started would be one too.
        samples.extend(glasskeep_pids(&bin).into_iter().filter_map(sample));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    Run {
        args: full,
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        samples,
    }
}

fn ok(run: Run) -> Run {
    assert_eq!(
        run.code,
        Some(0),
        "glasskeep {:?}:\n{}\n{}",
        run.args,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

fn ykman_change_pin(reader: &str, new_pin: &str) {
    let o = Command::new("ykman")
        .args(["--reader", reader, "piv", "access", "change-pin"])
        .args(["-P", "123456", "-n", new_pin])
        .output()
        .expect("Debian's ykman is needed: run scripts/install-deps.sh");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            v.extend(files_under(&path));
        } else {
            v.push(path);
        }
    }
    v
}

#[test]
fn a_canary_secret_and_pin_never_leak_outside_the_opening() {
    let lab = lab();
    let canaries = Canaries::new();
    for serial in [1001, 1002, 1003] {
        ykman_change_pin(&lab.reader_name(serial).unwrap(), &canaries.pin);
    }
    // The PIN file sits outside the custody folder, which is searched whole below.
    let pin_dir = tempfile::tempdir().unwrap();
    let pins = pin_dir.path().join("pins");
    std::fs::write(&pins, format!("{}\n", canaries.pin).repeat(16)).unwrap();
    let c = Custody::new();
    let mut runs = vec![ok(watched(
        &c,
        &pins,
        &["init", "--org", "Example Corp", "--training"],
        b"",
        &[],
    ))];
    let ceremonies: [&[&str]; 2] = [
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
    ];
    for args in ceremonies {
        runs.push(ok(watched(&c, &pins, args, b"", &[])));
    }
    let mut stdin = canaries.secret.clone();
    stdin.push(b'\n');
    runs.push(ok(watched(
        &c,
        &pins,
        &[
            "seal",
            "--label",
            "canary",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
        ],
        &stdin,
        &[],
    )));
    let envs = c.envelopes("canary");
    assert_eq!(envs.len(), 3);
    runs.push(ok(watched(
        &c,
        &pins,
        &["check-share", "--envelope", p(&envs[2])],
        b"",
        &[],
    )));
    runs.push(ok(watched(
        &c,
        &pins,
        &[
            "drill",
            "--label",
            "canary",
            "--envelope",
            p(&envs[1]),
            "--envelope",
            p(&envs[2]),
        ],
        b"",
        &[],
    )));
    let renders = c.path().join("renderings");
    std::fs::create_dir(&renders).unwrap();
    for (i, env) in envs.iter().enumerate() {
        for format in ["pdf", "png", "svg", "txt"] {
            let out = renders.join(format!("{i}.{format}"));
            runs.push(ok(watched(
                &c,
                &pins,
                &[
                    "envelope",
                    "render",
                    p(env),
                    "--format",
                    format,
                    "-o",
                    p(&out),
                ],
                b"",
                &[],
            )));
        }
    }
    let opened = ok(watched(
        &c,
        &pins,
        &[
            "open",
            "--label",
            "canary",
            "--reason",
            "leak canary",
            "--incident",
            "INC-1",
            "--envelope",
            p(&envs[0]),
            "--envelope",
            p(&envs[1]),
        ],
        b"",
        &[],
    ));
    // The one place the secret may appear, exactly: this also shows the search finds it.
    assert_eq!(opened.stdout, canaries.secret);
    assert_eq!(
        canaries.found_in(&opened.stdout).as_deref(),
        Some("the secret")
    );
    for args in [
        &["status", "--json"][..],
        &["log", "show"],
        &["log", "verify", "--training"],
    ] {
        runs.push(watched(&c, &pins, args, b"", &[]));
    }

    for run in runs.iter().chain([&opened]) {
        assert!(!run.samples.is_empty(), "{:?} was never sampled", run.args);
        if let Some(what) = canaries.found_in(&run.stderr) {
            panic!("{what} is in the stderr of {:?}", run.args);
        }
        for s in &run.samples {
            if let Some(what) = canaries.found_in(&s.cmdline) {
                panic!("{what} is in the command line of {:?}", run.args);
            }
            if let Some(what) = canaries.found_in(&s.environ) {
                panic!("{what} is in the environment of {:?}", run.args);
            }
            // Locked memory holds a secret or PIN: by then core dumps must be off.
            if s.locked_kb > 0 {
                assert_eq!(s.core_limit, "0 0", "{:?}: {s:?}", run.args);
            }
        }
    }
    for run in &runs {
        if let Some(what) = canaries.found_in(&run.stdout) {
            panic!("{what} is in the stdout of {:?}", run.args);
        }
    }
    // Locking applied: some process was seen holding locked pages.
    assert!(
        runs.iter()
            .chain([&opened])
            .flat_map(|r| &r.samples)
            .any(|s| s.locked_kb > 0),
        "no glasskeep process was ever seen with locked memory"
    );
    let files = files_under(c.path());
    assert!(files.iter().any(|f| f.ends_with("ceremony.log")));
    assert_eq!(files.iter().filter(|f| f.starts_with(&renders)).count(), 12);
    for file in files {
        if file == c.path().join("pins") {
            continue; // the harness's own PIN file, with the factory PIN only
        }
        if let Some(what) = canaries.found_in(&std::fs::read(&file).unwrap()) {
            panic!("{what} is in {}", file.display());
        }
    }

    // Where memory cannot be locked (no CAP_IPC_LOCK, `ulimit -l 0`), a ceremony that
    // holds a secret says so instead of letting it reach swap silently.
    let unlocked = watched(
        &c,
        &pins,
        &["check-share", "--envelope", p(&envs[0])],
        b"",
        &[
            "setpriv",
            "--bounding-set",
            "-ipc_lock",
            "prlimit",
            "--memlock=0:0",
            "--",
        ],
    );
    let err = String::from_utf8_lossy(&unlocked.stderr);
    assert_eq!(unlocked.code, Some(0), "{err}");
    assert!(err.contains("secret memory could not be locked"), "{err}");
    assert!(canaries.found_in(&unlocked.stderr).is_none());
}
