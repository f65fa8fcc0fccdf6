use std::fs;
use std::path::Path;

use super::host::{self, DefaultRoute, UpInterface};
use super::*;
use glasskeep_card::Tries;

const T: u64 = 1_800_000_000;

const ROUTE: &str = "\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
";

const IPV6_ROUTE: &str = "\
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 wlan0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo
";

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn iface(sys: &Path, name: &str, flags: &str, operstate: &str) {
    let d = sys.join("class/net").join(name);
    write(&d.join("flags"), flags);
    write(&d.join("operstate"), operstate);
}

fn up(name: &str) -> UpInterface {
    UpInterface {
        name: name.into(),
        operstate: "up".into(),
    }
}

/// A fake host: `/proc` with the given processes and route tables, `/sys` with the
/// given interfaces.
fn fake_host(
    procs: &[(u32, &str)],
    ifaces: &[(&str, &str, &str)],
    route: &str,
) -> (tempfile::TempDir, Host) {
    let t = tempfile::tempdir().unwrap();
    let host = Host {
        proc: t.path().join("proc"),
        sys: t.path().join("sys"),
    };
    for (pid, comm) in procs {
        write(
            &host.proc.join(pid.to_string()).join("comm"),
            &format!("{comm}\n"),
        );
    }
    write(&host.proc.join("net/route"), route);
    for (name, flags, state) in ifaces {
        iface(&host.sys, name, flags, state);
    }
    (t, host)
}

#[test]
fn the_ipv4_default_route_is_found_and_other_routes_are_not() {
    let routes = host::parse_route(ROUTE);
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].iface, "eth0");
    #[cfg(target_endian = "little")]
    assert_eq!(routes[0].gateway.as_deref(), Some("192.0.2.1"));
    // A default route that is not up, a header only, and garbage lines route nothing.
    assert!(host::parse_route(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
         eth1\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n\
         eth2\tnothex\n\
         \n"
    )
    .is_empty());
    assert!(host::parse_route("").is_empty());
}

#[test]
fn the_ipv6_default_route_is_found_but_not_the_unreachable_one_on_loopback() {
    let routes = host::parse_ipv6_route(IPV6_ROUTE);
    assert_eq!(
        routes,
        vec![DefaultRoute {
            iface: "wlan0".into(),
            gateway: Some("fe80::1".into()),
        }]
    );
    assert!(host::parse_ipv6_route("0000 00 short line").is_empty());
}

#[test]
fn interfaces_up_leave_out_loopback_and_those_down() {
    let (_t, host) = fake_host(
        &[],
        &[
            ("lo", "0x9", "unknown"),
            ("eth0", "0x1003", "up"),
            ("ifb0", "0x82", "down"),
            ("wlan0", "0x1003", "down"),
            ("odd0", "zz", "up"),
        ],
        "",
    );
    let up = host::up_interfaces(&host.sys);
    let names: Vec<(&str, &str)> = up
        .iter()
        .map(|i| (i.name.as_str(), i.operstate.as_str()))
        .collect();
    // An unreadable flags file counts as up: the check must not pass by not looking.
    assert_eq!(names, [("eth0", "up"), ("odd0", "up"), ("wlan0", "down")]);
    assert!(host::up_interfaces(Path::new("/nonexistent-sys")).is_empty());
}

#[test]
fn reader_grabbing_processes_are_found_by_command_name() {
    let (t, host) = fake_host(
        &[
            (4242, "scdaemon"),
            (17, "bash"),
            (311, "ykman"),
            (900, "scdaemon-notreally"),
            (12, "age-plugin-yubi"),
        ],
        &[],
        "",
    );
    // Not a process, and a process that exited before its comm was read.
    fs::create_dir_all(host.proc.join("self")).unwrap();
    fs::create_dir_all(host.proc.join("555")).unwrap();
    let g = host::grabbers(&host.proc);
    let found: Vec<(u32, &str)> = g.iter().map(|g| (g.pid, g.comm.as_str())).collect();
    assert_eq!(
        found,
        [(12, "age-plugin-yubi"), (311, "ykman"), (4242, "scdaemon")]
    );
    assert!(g[2].advice.contains("gpgconf --kill scdaemon"));
    drop(t);
}

#[test]
fn a_network_fails_a_production_custody_and_warns_otherwise() {
    let routes = vec![DefaultRoute {
        iface: "eth0".into(),
        gateway: Some("192.0.2.1".into()),
    }];
    for (training, want) in [
        (Some(false), Severity::Fail),
        (Some(true), Severity::Warn),
        (None, Severity::Warn),
    ] {
        let f = network_findings(&[up("eth0")], &routes, training);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].check, f[0].severity), (Check::Network, want));
        assert_eq!(
            f[0].message,
            "network interface eth0 is up, link up; default route via 192.0.2.1"
        );
        assert_eq!(
            f[0].action.as_deref(),
            Some("air-gapped machine expected: bring down eth0 (`sudo ip link set eth0 down`)")
        );
    }
    // A route through an interface /sys did not show still counts.
    let f = network_findings(&[], &routes, Some(false));
    assert_eq!(f[0].severity, Severity::Fail);
    assert_eq!(f[0].message, "a default route leaves through eth0");
    let f = network_findings(&[], &[], Some(false));
    assert_eq!((f.len(), f[0].severity), (1, Severity::Ok));
}

#[test]
fn a_hostile_interface_or_process_name_is_escaped() {
    let evil = UpInterface {
        name: "e\u{1b}[2Kth0".into(),
        operstate: "up\u{202e}".into(),
    };
    let f = network_findings(&[evil], &[], None);
    assert!(
        !f[0].message.chars().any(crate::text::forbidden),
        "{:?}",
        f[0]
    );
    assert!(
        f[0].message.contains("e\\u{001B}[2Kth0"),
        "{}",
        f[0].message
    );
    let (_t, host) = fake_host(&[(7, "ykman")], &[], "");
    let probe = Ok(vec![ReaderProbe {
        reader: "Reader\u{1b}]0;x\u{7}".into(),
        state: ProbeState::Busy,
    }]);
    let r = examine(None, &probe, &host, T);
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(r.readers[0].reader.starts_with("Reader\\u{001B}"));
}

#[test]
fn the_clock_behind_the_log_is_a_warning_that_says_what_happens() {
    let f = clock_finding(T - 3600, T);
    assert_eq!((f.check, f.severity), (Check::Clock, Severity::Warn));
    assert!(
        f.message.contains("behind the log's last entry"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("will record the last entry's time"),
        "{}",
        f.message
    );
    assert!(f.action.unwrap().contains("set the clock"));
    assert_eq!(clock_finding(T, T).severity, Severity::Ok);
    assert_eq!(clock_finding(T + 1, T).severity, Severity::Ok);
}

#[test]
fn pcscd_down_is_a_card_failure_that_stops_a_ceremony() {
    let (_t, host) = fake_host(&[], &[], "");
    let r = examine(None, &Err(TokenError::PcscUnavailable), &host, T);
    let f = &r.findings[0];
    assert_eq!((f.check, f.severity), (Check::Pcscd, Severity::Fail));
    assert_eq!(f.message, "pcscd is not running: no YubiKey can be reached");
    assert!(f
        .action
        .as_deref()
        .unwrap()
        .contains("sudo systemctl start pcscd"));
    assert_eq!(outcome(&r.findings), Outcome::CardFailure);
    assert_eq!(
        blocker(&r.findings, true).map(|f| f.check),
        Some(Check::Pcscd)
    );
    assert!(r.readers.is_empty());
}

#[test]
fn a_busy_reader_names_the_grabbers_and_fails_doctor_but_does_not_stop_a_ceremony() {
    let (_t, host) = fake_host(&[(4242, "scdaemon")], &[], "");
    let probe = Ok(vec![
        ReaderProbe {
            reader: "Virtual PCD 00 00".into(),
            state: ProbeState::Busy,
        },
        ReaderProbe {
            reader: "Virtual PCD 00 01".into(),
            state: ProbeState::Empty,
        },
    ]);
    let r = examine(None, &probe, &host, T);
    let busy = r
        .findings
        .iter()
        .find(|f| f.check == Check::Reader)
        .unwrap();
    assert_eq!(busy.severity, Severity::Fail);
    assert_eq!(
        busy.message,
        "reader Virtual PCD 00 00 is held by another process (sharing violation); running now: scdaemon (pid 4242)"
    );
    assert!(busy
        .action
        .as_deref()
        .unwrap()
        .contains("gpgconf --kill scdaemon"));
    let process = r
        .findings
        .iter()
        .find(|f| f.check == Check::Process)
        .unwrap();
    assert_eq!(process.severity, Severity::Warn);
    assert_eq!(outcome(&r.findings), Outcome::CardFailure);
    assert_eq!(blocker(&r.findings, false), None);
    assert_eq!(
        r.readers.iter().map(|l| l.state).collect::<Vec<_>>(),
        ["busy", "empty"]
    );
}

fn card(serial: u32, pin_left: u8, puk_left: u8) -> ReaderProbe {
    ReaderProbe {
        reader: format!("Reader {serial}"),
        state: ProbeState::Card(CardFacts {
            serial,
            firmware: "5.7.1".into(),
            pin: Some(Tries {
                left: pin_left,
                total: Some(3),
            }),
            puk: Some(Tries {
                left: puk_left,
                total: Some(3),
            }),
            pin_default: Some(false),
            puk_default: Some(false),
        }),
    }
}

#[test]
fn pin_and_puk_counters_are_classified() {
    let (_t, host) = fake_host(&[], &[], "");
    let probe = Ok(vec![card(1001, 3, 3), card(1002, 2, 3), card(1003, 0, 0)]);
    let r = examine(None, &probe, &host, T);
    let cards: Vec<(Severity, &str)> = r
        .findings
        .iter()
        .filter(|f| f.check == Check::Card)
        .map(|f| (f.severity, f.message.as_str()))
        .collect();
    assert_eq!(
        cards,
        [
            (Severity::Ok, "YubiKey 1001: 3 PIN tries left"),
            (Severity::Warn, "YubiKey 1002: 2 PIN tries left"),
            (Severity::Fail, "YubiKey 1003: the PIN is blocked"),
            (Severity::Warn, "YubiKey 1003: the PUK is blocked"),
        ]
    );
    assert_eq!(outcome(&r.findings), Outcome::CardFailure);
    let ok = r
        .findings
        .iter()
        .find(|f| f.check == Check::Reader)
        .unwrap();
    assert_eq!(
        (ok.severity, ok.message.as_str()),
        (
            Severity::Ok,
            "3 reader(s), 3 YubiKey(s), none held by another process"
        )
    );
}

#[test]
fn a_production_custody_on_a_network_is_refused_unless_allowed() {
    let d = tempfile::tempdir().unwrap();
    crate::ceremony::init(
        d.path(),
        "Example Corp",
        false,
        2,
        crate::log::body::DEFAULT_TERM,
        T,
    )
    .unwrap();
    let state = crate::ceremony::read_state(d.path()).unwrap();
    let (_t, host) = fake_host(&[], &[("eth0", "0x1003", "up")], ROUTE);
    let probe = Ok(vec![card(1001, 3, 3)]);
    // The clock is an hour behind genesis.
    let r = examine(Some(&state), &probe, &host, T - 3600);
    let net = r
        .findings
        .iter()
        .find(|f| f.check == Check::Network)
        .unwrap();
    assert_eq!(net.severity, Severity::Fail);
    assert_eq!(outcome(&r.findings), Outcome::Failure);
    assert_eq!(
        blocker(&r.findings, false).map(|f| f.check),
        Some(Check::Network)
    );
    assert_eq!(blocker(&r.findings, true), None);
    let clock = r.findings.iter().find(|f| f.check == Check::Clock).unwrap();
    assert_eq!(clock.severity, Severity::Warn);
    let c = r.custody.as_ref().unwrap();
    assert_eq!(
        (c.org.as_str(), c.training, c.entries),
        ("Example Corp", false, 1)
    );
    // The card is not enrolled here: nobody's, and nobody enrolled is missing.
    assert_eq!(r.readers[0].custodian, None);
    assert!(r.absent.is_empty());

    // The same machine with a training custody only warns.
    let d = tempfile::tempdir().unwrap();
    crate::ceremony::init(
        d.path(),
        "Example Corp",
        true,
        2,
        crate::log::body::DEFAULT_TERM,
        T,
    )
    .unwrap();
    let state = crate::ceremony::read_state(d.path()).unwrap();
    let r = examine(Some(&state), &probe, &host, T);
    let net = r
        .findings
        .iter()
        .find(|f| f.check == Check::Network)
        .unwrap();
    assert_eq!(net.severity, Severity::Warn);
    assert_eq!(outcome(&r.findings), Outcome::Clean);
    assert_eq!(blocker(&r.findings, false), None);
}

#[test]
fn outcome_ranks_card_failures_first() {
    let f = |check, severity| Finding {
        check,
        severity,
        message: String::new(),
        action: None,
    };
    assert_eq!(outcome(&[]), Outcome::Clean);
    assert_eq!(
        outcome(&[
            f(Check::Card, Severity::Warn),
            f(Check::Network, Severity::Warn)
        ]),
        Outcome::Clean
    );
    assert_eq!(
        outcome(&[f(Check::Network, Severity::Fail)]),
        Outcome::Failure
    );
    assert_eq!(
        outcome(&[
            f(Check::Network, Severity::Fail),
            f(Check::Reader, Severity::Fail)
        ]),
        Outcome::CardFailure
    );
}
