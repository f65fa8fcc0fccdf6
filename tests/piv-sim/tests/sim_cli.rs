//! The simulator binary without pcscd: state creation, serial checks, clean SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use glasskeep_piv_sim::SimCard;

const BIN: &str = env!("CARGO_BIN_EXE_glasskeep-piv-sim");

/// A port nothing listens on, so the simulator sits in its reconnect loop. Never one of
/// the lab's vpcd ports: a lab starting beside this test stops any simulator on those.
fn closed_port() -> String {
    use glasskeep_piv_sim::harness::{BASE_PORT, MAX_CARDS};
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if !(BASE_PORT..BASE_PORT + MAX_CARDS as u16).contains(&port) {
            return port.to_string();
        }
    }
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "simulator did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn creates_state_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card");
    let port = closed_port();
    let mut child = Command::new(BIN)
        .args([
            "--port",
            &port,
            "--serial",
            "4242",
            "--firmware",
            "5.4.3",
            "--state",
        ])
        .arg(&state)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !state.join("state.json").exists() {
        assert!(Instant::now() < deadline, "state not created");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert_eq!(wait_exit(&mut child).code(), Some(0));
    let card = SimCard::open(&state).unwrap();
    assert_eq!((card.serial(), card.firmware()), (4242, [5, 4, 3]));
}

#[test]
fn refuses_state_of_another_serial() {
    let dir = tempfile::tempdir().unwrap();
    SimCard::create(dir.path(), glasskeep_piv_sim::SimConfig::default()).unwrap();
    let o = Command::new(BIN)
        .args(["--port", &closed_port(), "--serial", "7", "--state"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not 7"));
}

#[test]
fn refuses_bad_firmware_and_touch_mode() {
    for bad in [["--firmware", "5.7"], ["--touch", "sometimes"]] {
        let o = Command::new(BIN)
            .args(["--state", "/nonexistent/x"])
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
    }
}

#[test]
fn state_is_required() {
    let o = Command::new(BIN).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}
