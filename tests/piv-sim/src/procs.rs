//! Process and PC/SC plumbing for the harness.

use std::ffi::CString;
use std::fs;
use std::process::Child;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// Process names as /proc/PID/comm shows them (cut to 15 bytes).
const PCSCD: &str = "pcscd";
const SIMULATOR: &str = "glasskeep-piv-s";

/// The vpcd port a simulator's command line (NUL-separated, as /proc/PID/cmdline holds
/// it) connects to: its `--port`, or the default. `None` for a run that connects nowhere
/// (`--print-training-root`) or a port that does not parse.
fn simulator_port(cmdline: &[u8]) -> Option<u16> {
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    if args.iter().any(|a| *a == b"--print-training-root") {
        return None;
    }
    let mut port = Some(crate::harness::BASE_PORT);
    let parse = |v: Option<&[u8]>| {
        v.and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.parse().ok())
    };
    for (i, a) in args.iter().enumerate() {
        if *a == b"--port" {
            port = parse(args.get(i + 1).copied());
        } else if let Some(v) = a.strip_prefix(b"--port=") {
            port = parse(Some(v));
        }
    }
    port
}

fn lab_port(port: u16) -> bool {
    use crate::harness::{BASE_PORT, MAX_CARDS};
    (BASE_PORT..BASE_PORT + MAX_CARDS as u16).contains(&port)
}

/// Stops every pcscd on the machine, and every simulator that would answer on one of the
/// lab's vpcd ports. Called only with the lab lock held, when none of them can belong to a
/// running lab. A simulator on another port (a test of the binary itself, which runs
/// beside the labs without the lock) is not the lab's to stop.
pub(crate) fn stop_strays() {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    let mut victims = Vec::new();
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid as u32 == me {
            continue;
        }
        let comm = fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        let stray = match comm.trim_end() {
            PCSCD => true,
            SIMULATOR => fs::read(e.path().join("cmdline"))
                .ok()
                .and_then(|c| simulator_port(&c))
                .is_some_and(lab_port),
            _ => false,
        };
        if stray {
            victims.push(Pid::from_raw(pid));
        }
    }
    for &p in &victims {
        let _ = kill(p, Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while victims.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for &p in &victims {
        if alive(p) {
            let _ = kill(p, Signal::SIGKILL);
        }
    }
}

/// Removes the socket and pid file a killed pcscd leaves behind. A new pcscd refuses to
/// start while the pid file names a process that still answers `kill(pid, 0)`, which a
/// zombie does when nothing reaps it (containers often have no init that reaps).
pub(crate) fn clear_stale_pcscd_files() {
    for f in ["/run/pcscd/pcscd.comm", "/run/pcscd/pcscd.pid"] {
        let _ = fs::remove_file(f);
    }
}

fn alive(pid: Pid) -> bool {
    // A zombie still answers kill(0); its state letter in /proc says it is gone.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// SIGTERM, wait up to `grace`, then SIGKILL; always reaps.
pub(crate) fn stop_child(mut child: Child, grace: Duration) {
    let pid = Pid::from_raw(child.id() as i32);
    let _ = kill(pid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reader names PC/SC lists now.
pub(crate) fn readers() -> Result<Vec<String>, pcsc::Error> {
    let ctx = pcsc::Context::establish(pcsc::Scope::System)?;
    let names = ctx.list_readers_owned()?;
    Ok(names
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect())
}

/// Whether PC/SC reports a card in `reader`; `None` if it cannot tell.
pub(crate) fn card_present(reader: &str) -> Option<bool> {
    let ctx = pcsc::Context::establish(pcsc::Scope::System).ok()?;
    let name = CString::new(reader).ok()?;
    let mut states = [pcsc::ReaderState::new(name, pcsc::State::UNAWARE)];
    ctx.get_status_change(Duration::from_millis(0), &mut states)
        .ok()?;
    let s = states[0].event_state();
    if s.contains(pcsc::State::UNKNOWN) || s.contains(pcsc::State::UNAVAILABLE) {
        return None;
    }
    Some(s.contains(pcsc::State::PRESENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_simulators_on_the_lab_ports_are_strays() {
        let port = |c: &str| simulator_port(c.replace(' ', "\0").as_bytes());
        assert_eq!(port("glasskeep-piv-sim --state /s"), Some(35963));
        assert_eq!(
            port("glasskeep-piv-sim --port 35965 --state /s"),
            Some(35965)
        );
        assert_eq!(
            port("glasskeep-piv-sim --port=41000 --state /s"),
            Some(41000)
        );
        assert_eq!(port("glasskeep-piv-sim --port nope"), None);
        assert_eq!(port("glasskeep-piv-sim --print-training-root"), None);
        assert!(lab_port(35963) && lab_port(35966));
        assert!(!lab_port(35962) && !lab_port(35967) && !lab_port(41000));
    }
}
