//! The air-gap guard, on the real machine interfaces of a fresh network namespace: seal,
//! open, rotate, drill and check-share of a production custody stop before anything is
//! asked while an interface other than loopback is up, go on with `--allow-network`
//! (saying it was allowed), and go on unwarned on loopback alone; a training custody
//! only warns. What the people present allowed is signed into the ceremony's checkpoint,
//! beside the binary's SHA-256, and `log verify` lists both. Needs root, `unshare` (util-linux) and `ip` (iproute2). pcscd runs, so the
//! preflight's first check passes and the network is what decides.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::custody::{enrolled, lab, p, Custody, BIN};

/// The network a command runs in: a new namespace holding loopback (up) and, with
/// `Veth`, one veth pair whose first end is up.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Net {
    LoopbackOnly,
    Veth,
}

/// Runs glasskeep in a new network namespace, with /sys remounted so that
/// /sys/class/net shows that namespace's interfaces (as `ip netns exec` does).
fn in_namespace(net: Net, dir: &Path, args: &[&str]) -> Output {
    let setup = match net {
        Net::LoopbackOnly => "ip link set lo up",
        Net::Veth => {
            "ip link set lo up && ip link add veth0 type veth peer name veth1 && ip link set veth0 up"
        }
    };
    let script = format!("mount -t sysfs sysfs /sys && {setup} && exec \"$0\" \"$@\"");
    Command::new("unshare")
        .args(["--net", "--mount", "sh", "-c", &script, BIN, "--dir"])
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux) is needed")
}

fn init(training: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--dir",
        d.path().to_str().unwrap(),
        "init",
        "--org",
        "Example",
    ];
    if training {
        args.push("--training");
    }
    let o = Command::new(BIN).args(&args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    d
}

/// The ceremonies that touch a sealed credential, with arguments that parse.
const CEREMONIES: [&[&str]; 6] = [
    &[
        "seal",
        "--label",
        "k",
        "--threshold",
        "2",
        "--custodians",
        "alice,bob",
    ],
    &[
        "open",
        "--label",
        "k",
        "--reason",
        "r",
        "--incident",
        "I-1",
        "--envelope",
        "a.gkenv",
        "--envelope",
        "b.gkenv",
        "--stdout",
    ],
    &["rotate", "--label", "k"],
    &["activate", "--label", "k"],
    &[
        "drill",
        "--label",
        "k",
        "--envelope",
        "a.gkenv",
        "--envelope",
        "b.gkenv",
    ],
    &["check-share", "--envelope", "a.gkenv"],
];

const REFUSAL: &str = "network interface veth0 is up";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_production_custody_refuses_every_ceremony_while_an_interface_is_up() {
    let _lab = glasskeep_piv_sim::harness::PcscLab::start(&[]).expect("pcscd lab starts");
    let d = init(false);
    let log = || std::fs::read(d.path().join("ceremony.log")).unwrap();
    let before = log();
    for args in CEREMONIES {
        let o = in_namespace(Net::Veth, d.path(), args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(REFUSAL), "{args:?}: {err}");
        assert!(err.contains("--allow-network"), "{args:?}: {err}");
        assert!(err.contains("Nothing was done"), "{args:?}: {err}");

        // The people present may accept the network: the preflight lets the ceremony
        // go on (to its own checks, which fail here for want of custodians), saying so.
        let mut allowed = args.to_vec();
        allowed.push("--allow-network");
        let o = in_namespace(Net::Veth, d.path(), &allowed);
        let err = stderr(&o);
        assert!(
            err.contains("(allowed by --allow-network)"),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("Nothing was done (`glasskeep doctor`"),
            "{args:?}: {err}"
        );

        // Loopback alone is an air-gapped machine: no network finding at all.
        let o = in_namespace(Net::LoopbackOnly, d.path(), args);
        let err = stderr(&o);
        assert!(!err.contains("network interface"), "{args:?}: {err}");
        assert!(!err.contains("default route"), "{args:?}: {err}");
    }
    assert_eq!(log(), before, "a refused ceremony wrote to the log");
}

#[test]
fn a_training_custody_only_warns_about_an_interface_that_is_up() {
    let _lab = glasskeep_piv_sim::harness::PcscLab::start(&[]).expect("pcscd lab starts");
    let d = init(true);
    for args in CEREMONIES {
        let o = in_namespace(Net::Veth, d.path(), args);
        let err = stderr(&o);
        assert!(
            err.contains(&format!("warning: {REFUSAL}")),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("Nothing was done (`glasskeep doctor`"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn doctor_in_a_namespace_sees_exactly_its_interfaces() {
    let _lab = glasskeep_piv_sim::harness::PcscLab::start(&[]).expect("pcscd lab starts");
    let d = init(false);
    let o = in_namespace(Net::Veth, d.path(), &["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(
        out.contains("[FAIL] network interface veth0 is up"),
        "{out}"
    );
    assert!(!out.contains("interface lo "), "{out}");
    let o = in_namespace(Net::LoopbackOnly, d.path(), &["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("[ok]   no network interface but loopback is up, and no default route"),
        "{out}"
    );
    assert!(!out.contains("veth0"), "{out}");
}

/// `log verify --json` of a training custody.
fn verified(c: &Custody) -> serde_json::Value {
    let o = c.run(&["log", "verify", "--json", "--training"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_checkpoint_records_what_was_allowed_and_the_build_that_made_it() {
    let _lab = lab();
    let c = Custody::new();
    enrolled(&c);
    let pins = c.path().join("pins");
    let checkpoint = |net: Net, allow: &[&str]| {
        let mut args = vec![
            "log",
            "checkpoint",
            "--custodians",
            "alice,bob",
            "--pin-file",
            p(&pins),
            "--yes",
            "--wait",
            "20s",
        ];
        args.extend_from_slice(allow);
        let o = in_namespace(net, c.path(), &args);
        assert!(o.status.success(), "{allow:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o)
    };
    // On a network, with PINs from a file, both allowed: both recorded, and shown to the
    // people present before they sign.
    let shown = checkpoint(Net::Veth, &["--allow-network", "--allow-scripted-pins"]);
    assert!(
        shown.contains("on a machine with a network up, allowed by --allow-network"),
        "{shown}"
    );
    assert!(
        shown.contains("allowed by --allow-scripted-pins"),
        "{shown}"
    );
    // Flags with nothing to allow (loopback only; PINs typed) are not recorded.
    checkpoint(Net::LoopbackOnly, &["--allow-network"]);
    let v = verified(&c);
    let allowed = v["allowed"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "{v}");
    assert_eq!(
        allowed[0]["flags"],
        serde_json::json!(["--allow-network", "--allow-scripted-pins"])
    );
    let first = allowed[0]["checkpoint"].as_u64().unwrap();

    // Every entry that records a build names this binary, the one `--version` prints:
    // the genesis and every checkpoint.
    let version = Command::new(BIN).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    let digest = version
        .lines()
        .find_map(|l| l.strip_prefix("binary sha256 "))
        .expect("--version prints the digest")
        .to_owned();
    let builds = v["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 1, "{v}");
    assert_eq!(builds[0]["sha256"], digest.as_str());
    assert_eq!(builds[0]["genesis"], true);
    assert_eq!(builds[0]["first"], 0);
    assert_eq!(builds[0]["checkpoints"], v["checkpoints"]);
    assert_eq!(builds[0]["last"], first + 1);
    assert_eq!(v["checkpoints_without_build"], 0);
    let text = c.ok(&["log", "verify", "--training"], b"");
    assert!(
        text.contains(&format!(
            "checkpoint {first} ran with --allow-network and --allow-scripted-pins"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("build {digest} wrote the genesis and")),
        "{text}"
    );
}
