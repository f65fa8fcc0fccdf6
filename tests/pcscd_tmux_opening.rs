//! At the safe, as people do it: the real binary in a real terminal (tmux, 80×24), no
//! PIN file, no --yes, custodians taking turns at ONE reader through the real pcscd,
//! with a wrong PIN, a missed touch, a pulled key and Ctrl-C along the way. What the
//! terminal shows is read back from tmux, scrollback included.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::custody::{self, Custody, BIN};
use glasskeep_piv_sim::harness::{CardSpec, LabOptions, PcscLab};
use glasskeep_piv_sim::touch::TouchMode;

const SECRET: &str = "canary-Vx7q-secret-never-in-scrollback";

/// A tmux server of the test's own (its own socket), killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Starts `script` in a detached 80×24 session.
    fn start(dir: &Path, script: &str) -> Tmux {
        Tmux::start_named(dir, "gk", script)
    }

    /// Starts `script` in a session of its own (its own socket and script file).
    fn start_named(dir: &Path, name: &str, script: &str) -> Tmux {
        let socket = dir.join(format!("{name}.sock"));
        let run = dir.join(format!("{name}.sh"));
        std::fs::write(
            &run,
            format!(
                // The shell outlives a Ctrl-C meant for glasskeep, to report its exit.
                "trap : INT\n{script}\necho \"EXIT=$?\"\nsleep 3600\n"
            ),
        )
        .unwrap();
        let t = Tmux { socket };
        let st = t
            .cmd()
            .args(["new-session", "-d", "-s", "gk", "-x", "80", "-y", "24"])
            .arg(format!("sh {}", run.display()))
            .status()
            .unwrap();
        assert!(st.success(), "tmux starts");
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).arg("-f").arg("/dev/null");
        c
    }

    /// The screen now (the alternate screen when one is shown).
    fn screen(&self) -> String {
        let o = self
            .cmd()
            .args(["capture-pane", "-p", "-J", "-t", "gk"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Everything the main screen holds, scrollback included.
    fn history(&self) -> String {
        let o = self
            .cmd()
            .args(["capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "gk"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Waits until the screen or the scrollback shows `needle` `times` times.
    fn wait_for_n(&self, needle: &str, times: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (history, screen) = (self.history(), self.screen());
            let seen = history
                .matches(needle)
                .count()
                .max(screen.matches(needle).count());
            let h = format!("{history}\n--- screen ---\n{screen}");
            if seen >= times {
                return h;
            }
            assert!(
                Instant::now() < deadline,
                "the terminal never showed {needle:?} ({times}x); it shows:\n{h}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_for_n(needle, 1)
    }

    /// Types `text` and Enter.
    fn type_line(&self, text: &str) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", "gk", "-l", text])
            .status()
            .unwrap();
        assert!(st.success());
        self.key("Enter");
    }

    fn key(&self, key: &str) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", "gk", key])
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn signal_card(serial: u32) -> CardSpec {
    let mut s = CardSpec::new(serial);
    s.touch = TouchMode::Signal;
    s
}

/// A training custody with alice, bob and carol enrolled and `aws-root` sealed 2-of-3,
/// then every key pulled out: the readers are empty when the test begins.
fn sealed_custody() -> (PcscLab, Custody, Vec<PathBuf>) {
    let mut lab = PcscLab::start_with(
        &[
            CardSpec::new(1001),
            CardSpec::new(1002),
            CardSpec::new(1003),
        ],
        LabOptions {
            // Long enough that a key is pulled before its wait ends on a busy machine.
            touch_timeout: Duration::from_secs(10),
            ..Default::default()
        },
    )
    .expect("pcscd lab starts");
    let c = Custody::new();
    custody::enrolled(&c);
    c.ok(
        &[
            "seal",
            "--label",
            "aws-root",
            "--threshold",
            "2",
            "--custodians",
            "alice,bob,carol",
            "--cosigners",
            "alice,bob,carol",
            "--anchor",
            &c.head(),
        ],
        SECRET.as_bytes(),
    );
    for s in [1001, 1002, 1003] {
        lab.stop_card(s).unwrap();
    }
    let envelopes = c.envelopes("aws-root");
    (lab, c, envelopes)
}

fn command(c: &Custody, args: &[String]) -> String {
    let mut s = format!("{BIN} --dir {}", c.path().display());
    for a in args {
        s.push_str(&format!(" '{a}'"));
    }
    s
}

#[test]
fn two_custodians_open_at_one_reader_through_a_wrong_pin_and_a_missed_touch() {
    let (mut lab, c, env) = sealed_custody();
    let before = c.log();
    let args: Vec<String> = [
        "open",
        "--label",
        "aws-root",
        "--reason",
        "SSO down",
        "--incident",
        "INC-1",
        "--anchor",
        &c.head(),
        "--envelope",
        custody::p(&env[0]),
        "--envelope",
        custody::p(&env[1]),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let t = Tmux::start(c.path(), &command(&c, &args));

    // The plan first, then the confirmation before anything irreversible.
    let shown = t.wait_for("Type yes to record this and sign it");
    assert!(shown.contains("1. alice with YubiKey 1001: PIN once, touch twice (open your share; sign the checkpoint), then hand over"), "{shown}");
    assert!(
        shown.contains("2. bob with YubiKey 1002: PIN once, touch twice"),
        "{shown}"
    );
    t.type_line("yes");

    // Nobody's key is in: the tool waits and says whose is wanted.
    t.wait_for("alice: insert YubiKey 1001 into any reader (waiting; no YubiKey is in now)");
    // Bob is first at the reader: the tool says whose key is in, and keeps waiting.
    lab.start_card_in_reader(signal_card(1002), 0).unwrap();
    t.wait_for("alice: insert YubiKey 1001 (waiting; in now: YubiKey 1002 (bob's))");
    lab.stop_card(1002).unwrap();
    lab.start_card_in_reader(signal_card(1001), 0).unwrap();

    // A wrong PIN: asked again, with the tries left.
    t.wait_for("PIN for alice (YubiKey 1001)");
    t.type_line("000000");
    t.wait_for("alice: wrong PIN for YubiKey 1001: 2 tries left");
    t.wait_for("PIN for alice (YubiKey 1001, 2 tries left)");
    t.type_line("123456");

    t.wait_for("alice: touch YubiKey 1001 now to open your share");
    lab.touch(1001).unwrap();
    // The signature's touch is missed: the card gives up, the tool asks again.
    t.wait_for("alice: touch YubiKey 1001 now to sign the log checkpoint");
    t.wait_for("alice: YubiKey 1001 was not touched in time. Touch again?");
    lab.touch(1001).unwrap();
    t.type_line("y");
    t.wait_for("alice: share OK, signature OK; remove YubiKey 1001 and hand over to bob");

    // Turn-taking at the one reader: alice's key out, bob's in.
    lab.stop_card(1001).unwrap();
    t.wait_for("bob: insert YubiKey 1002");
    lab.start_card_in_reader(signal_card(1002), 0).unwrap();
    t.wait_for("PIN for bob (YubiKey 1002)");
    t.type_line("123456");
    t.wait_for("bob: touch YubiKey 1002 now to open your share");
    lab.touch(1002).unwrap();
    t.wait_for("bob: touch YubiKey 1002 now to sign the log checkpoint");
    lab.touch(1002).unwrap();
    t.wait_for("bob: share OK, signature OK; YubiKey 1002 may be removed");

    reveal_and_clear(&t);
    let h = t.wait_for("EXIT=0");

    // Each typed their PIN once (alice once more after the wrong one).
    assert_eq!(h.matches("PIN for alice").count(), 2, "{h}");
    assert_eq!(h.matches("PIN for bob").count(), 1, "{h}");
    // Nothing secret stays in the terminal.
    for s in [SECRET, "123456", "000000"] {
        assert!(!h.contains(s), "{s:?} is in the scrollback:\n{h}");
    }
    let after = c.log();
    assert!(after.len() > before.len() && after.starts_with(&before));
    let v = c.run(&["log", "verify", "--training"], b"");
    assert!(
        v.status.success(),
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
}

/// The alarm screen is confirmed as sent, the secret is shown on the alternate screen
/// and cleared with Enter.
fn reveal_and_clear(t: &Tmux) {
    // At 80×24 the notice and its QR code are two screens: nothing scrolls away.
    let first = t.wait_for("Type yes once it is sent (Enter: show the QR code)");
    assert!(
        first.contains("ALARM") && first.contains("aws-root"),
        "{first}"
    );
    t.key("Enter");
    let qr = t.wait_for("(Enter: show the text)");
    assert!(qr.contains("as a QR code"), "{qr}");
    t.type_line("yes");
    t.wait_for(SECRET);
    t.key("Enter");
}

#[test]
fn a_pulled_key_is_asked_back_and_ctrl_c_records_nothing() {
    let (mut lab, c, env) = sealed_custody();
    let before = c.log();
    let args: Vec<String> = [
        "drill",
        "--label",
        "aws-root",
        "--anchor",
        &c.head(),
        "--envelope",
        custody::p(&env[0]),
        "--envelope",
        custody::p(&env[2]),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    lab.start_card_in_reader(signal_card(1001), 0).unwrap();
    let t = Tmux::start(c.path(), &command(&c, &args));
    t.wait_for("Type yes to record this and sign it");
    t.type_line("yes");
    t.wait_for("PIN for alice (YubiKey 1001)");
    t.type_line("123456");
    // The key is pulled while it waits for the touch.
    t.wait_for("alice: touch YubiKey 1001 now to open your share");
    lab.stop_card(1001).unwrap();
    t.wait_for(
        "alice: YubiKey 1001 stopped answering (pulled out?): insert it again; your PIN is kept",
    );
    if let Err(e) = lab.start_card_in_reader(signal_card(1001), 0) {
        let log = std::fs::read_to_string(lab.dir().join("pcscd.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        panic!(
            "{e}\npcscd.log:\n{}\nscreen:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            t.history()
        );
    }
    t.wait_for_n("alice: touch YubiKey 1001 now to open your share", 2);
    lab.touch(1001).unwrap();
    t.wait_for("alice: touch YubiKey 1001 now to sign the log checkpoint");
    lab.touch(1001).unwrap();
    t.wait_for("alice: share OK, signature OK; remove YubiKey 1001 and hand over to carol");
    lab.stop_card(1001).unwrap();
    lab.start_card_in_reader(signal_card(1003), 0).unwrap();
    // Carol has second thoughts at her PIN prompt.
    t.wait_for("PIN for carol (YubiKey 1003)");
    t.key("C-c");
    let h = t.wait_for("EXIT=130");
    assert!(
        h.contains("aborted: nothing was recorded and the secret was not revealed"),
        "{h}"
    );
    assert_eq!(
        c.log(),
        before,
        "an aborted ceremony leaves the log byte-identical"
    );
    // The terminal echoes again after the interrupted no-echo prompt.
    t.type_line("echo-is-back");
    t.wait_for("echo-is-back");
    drop(t);

    // Carol proves her envelope alone, and mistypes twice: the last try is not spent
    // unless she says so, and she does not.
    let check: Vec<String> = [
        "check-share",
        "--anchor",
        &c.head(),
        "--envelope",
        custody::p(&env[2]),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let t = Tmux::start_named(c.path(), "check1", &command(&c, &check));
    t.wait_for("Type yes to record this and sign it");
    t.type_line("yes");
    t.wait_for("PIN for carol (YubiKey 1003)");
    t.type_line("999999");
    t.wait_for("PIN for carol (YubiKey 1003, 2 tries left)");
    t.type_line("999998");
    t.wait_for("carol: YubiKey 1003 has 1 PIN try left");
    t.wait_for("carol: type yes to use the last PIN try:");
    t.type_line("no");
    let h = t.wait_for("EXIT=3");
    assert!(
        h.contains("has one PIN try left and spending it was not confirmed"),
        "{h}"
    );
    assert!(h.contains("aborted: nothing was recorded"), "{h}");
    assert_eq!(c.log(), before);
    drop(t);

    // Again, sure of it this time; then Ctrl-C while the key waits for her touch.
    let t = Tmux::start_named(c.path(), "check2", &command(&c, &check));
    t.wait_for("Type yes to record this and sign it");
    t.type_line("yes");
    t.wait_for("carol: type yes to use the last PIN try:");
    t.type_line("yes");
    t.wait_for("PIN for carol (YubiKey 1003, 1 try left)");
    t.type_line("123456");
    t.wait_for("carol: touch YubiKey 1003 now to open your share");
    t.key("C-c");
    let h = t.wait_for("EXIT=130");
    assert!(
        h.contains("aborted: nothing was recorded and the secret was not revealed"),
        "{h}"
    );
    assert_eq!(c.log(), before, "the log is byte-identical");
}
