//! Recovery without glasskeep rests on age-plugin-yubikey accepting the seal key's slot
//! certificate (the key's attestation certificate): after enrollment the plugin must
//! list the seal key among compatible keys (`--list-all`; plain `--list` shows only
//! keys the plugin generated itself) with the policies it reads from the card, print
//! its identity stub for `--identity --slot 1`, and decrypt with standard `age` a file
//! sealed to the recipient. Needs `age` (Debian's 1.1.1) and script(1) too. Needs `age-plugin-yubikey` 0.5.1 on PATH or in
//! ~/.cargo/bin (`cargo install age-plugin-yubikey --version 0.5.1 --locked`).

use std::path::PathBuf;
use std::process::Command;

use bech32::{Bech32, Hrp};
use glasskeep_card::enroll::{enroll, EnrollOptions};
use glasskeep_card::open;
use glasskeep_core::attestation::Trust;
use glasskeep_core::secret::Pin;
use glasskeep_piv_sim::harness::{CardSpec, PcscLab};

fn plugin() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join("age-plugin-yubikey"))
        .find(|p| p.is_file());
    let in_cargo = std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cargo/bin/age-plugin-yubikey"))
        .filter(|p| p.is_file());
    on_path.or(in_cargo).expect(
        "age-plugin-yubikey is needed: cargo install age-plugin-yubikey --version 0.5.1 --locked",
    )
}

#[test]
fn age_and_its_yubikey_plugin_decrypt_with_the_enrolled_seal_key() {
    let _lab = PcscLab::start(&[CardSpec::new(8001)]).expect("pcscd lab starts");
    let mut token = open(None).unwrap();
    let record = enroll(
        &mut *token,
        &Pin::new(b"123456").unwrap(),
        &EnrollOptions::new("alice", Trust::Training),
    )
    .unwrap()
    .record;
    // The plugin opens the card itself: release it first.
    drop(token);

    let run = |args: &[&str]| {
        let out = Command::new(plugin()).args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let stdout = run(&["--list-all"]);
    let hrp = Hrp::parse("age1yubikey").unwrap();
    let recipient = bech32::encode::<Bech32>(hrp, &record.seal_public_key).unwrap();
    assert!(
        stdout.contains(&recipient),
        "seal key {recipient} not listed:\n{stdout}"
    );
    assert!(stdout.contains("Serial: 8001, Slot: 1"), "{stdout}");
    assert!(stdout.contains("Touch policy: Always"), "{stdout}");
    assert!(stdout.contains("PIN policy: Once"), "{stdout}");
    let identity = run(&["--identity", "--slot", "1"]);
    assert!(identity.contains("AGE-PLUGIN-YUBIKEY-1"), "{identity}");
    assert!(identity.contains(&recipient), "{identity}");

    // Standard age + the plugin decrypt a file sealed to the recipient, with the PIN
    // typed on a terminal (script(1) gives age the tty it insists on).
    let dir = tempfile::tempdir().unwrap();
    let plugin_dir = plugin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        plugin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::fs::write(dir.path().join("identity.txt"), &identity).unwrap();
    std::fs::write(dir.path().join("plain.txt"), b"break glass\n").unwrap();
    let enc = Command::new("age")
        .env("PATH", &path)
        .current_dir(dir.path())
        .args(["-r", &recipient, "-o", "sealed.age", "plain.txt"])
        .output()
        .unwrap();
    assert!(
        enc.status.success(),
        "{}",
        String::from_utf8_lossy(&enc.stderr)
    );
    let mut dec = Command::new("script")
        .env("PATH", &path)
        .current_dir(dir.path())
        .args([
            "-qec",
            "age -d -i identity.txt -o out.txt sealed.age",
            "/dev/null",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // age reads the PIN once it has asked for it; the pty buffers it until then. Keep
    // stdin open until age is done: end-of-file on the pty would abort the prompt.
    let mut stdin = dec.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, b"123456\n").unwrap();
    let dec = dec.wait_with_output().unwrap();
    drop(stdin);
    let transcript = String::from_utf8_lossy(&dec.stdout);
    assert!(
        dec.status.success(),
        "{transcript}\n{}",
        String::from_utf8_lossy(&dec.stderr)
    );
    assert_eq!(
        std::fs::read(dir.path().join("out.txt")).unwrap(),
        b"break glass\n",
        "{transcript}"
    );
}
