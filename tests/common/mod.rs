//! Helpers shared by the integration tests that run tools nobody here wrote: Debian's
//! `age` with `age-plugin-yubikey`, and the recovery script docs/recover.py.
#![allow(dead_code)] // each test binary uses its own subset

pub mod custody;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The folder holding `age-plugin-yubikey` (on PATH, or where `cargo install` puts it).
pub fn plugin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("age-plugin-yubikey").is_file());
    let in_cargo = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cargo/bin"))
        .filter(|d| d.join("age-plugin-yubikey").is_file());
    on_path
        .or(in_cargo)
        .expect("age-plugin-yubikey 0.5.1 is needed: run scripts/install-deps.sh")
}

/// PATH with the plugin's folder first, so `age` finds it.
pub fn path_with_plugin() -> String {
    format!(
        "{}:{}",
        plugin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `age -d -i identity.txt` with the plugin, the PIN typed on a terminal: age insists
/// on a tty for secrets, and script(1) gives it one. `stub` is the
/// `AGE-PLUGIN-YUBIKEY-1…` identity; returns the plaintext.
pub fn age_decrypt_with_stub(dir: &Path, stub: &str, sealed: &[u8], pin: &[u8]) -> Vec<u8> {
    std::fs::write(dir.join("identity.txt"), format!("{stub}\n")).unwrap();
    std::fs::write(dir.join("sealed.age"), sealed).unwrap();
    let mut child = Command::new("script")
        .env("PATH", path_with_plugin())
        .current_dir(dir)
        .args([
            "-qec",
            "age -d -i identity.txt -o out.bin sealed.age",
            "/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) is needed (util-linux)");
    // The pty buffers the PIN until the plugin's prompt reads it; stdin stays open until
    // age exits, since end-of-file on the pty would abort the prompt.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(pin).unwrap();
    stdin.write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert!(
        out.status.success(),
        "age -d with the plugin failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = std::fs::read(dir.join("out.bin")).unwrap();
    std::fs::remove_file(dir.join("out.bin")).unwrap();
    plain
}

/// Writes docs/recover.py, the script docs/RECOVERY.md shows and the recovery kit
/// carries (a unit test holds the two texts equal), into `dir`.
pub fn recovery_script(dir: &Path) -> PathBuf {
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/recover.py")).unwrap();
    let path = dir.join("recover.py");
    std::fs::write(&path, script).unwrap();
    path
}

/// Runs the recovery script in `dir` with `args`.
pub fn python(dir: &Path, args: &[&str]) -> Output {
    Command::new("python3")
        .arg(recovery_script(dir))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("python3 is installed")
}
