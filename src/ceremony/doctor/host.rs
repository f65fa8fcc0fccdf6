//! What `doctor` reads about the machine itself, from files only (no socket is ever
//! opened): network interfaces from `/sys/class/net`, default routes from
//! `/proc/net/route` and `/proc/net/ipv6_route`, and processes known to grab smart-card
//! readers from `/proc/<pid>/comm`. Every function takes the root folder, so tests run
//! them on a fake tree.

use std::path::Path;

/// `IFF_UP`: the interface is administratively up.
const IFF_UP: u32 = 0x1;
/// `IFF_LOOPBACK`.
const IFF_LOOPBACK: u32 = 0x8;
/// `RTF_UP` in both route tables.
const RTF_UP: u32 = 0x1;
/// `RTF_REJECT`: the kernel lists an unreachable `::/0` on `lo`, which routes nothing.
const RTF_REJECT: u32 = 0x200;

/// A network interface other than loopback that is administratively up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpInterface {
    /// Its name (as the kernel gives it; escape before showing).
    pub name: String,
    /// `operstate`: "up" when it has a link, "down" when it has none yet (a Wi-Fi card
    /// that is up but not associated can connect at any moment).
    pub operstate: String,
}

/// Interfaces under `sys/class/net` that are up, loopback left out, sorted by name. An
/// unreadable `flags` file counts as up: the check must not pass by not looking.
pub fn up_interfaces(sys: &Path) -> Vec<UpInterface> {
    let Ok(entries) = std::fs::read_dir(sys.join("class/net")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let dir = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let flags = std::fs::read_to_string(dir.join("flags"))
            .ok()
            .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok());
        let operstate = std::fs::read_to_string(dir.join("operstate"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        let up = match flags {
            Some(f) if f & IFF_LOOPBACK != 0 => false,
            Some(f) => f & IFF_UP != 0,
            None => name != "lo",
        };
        if up {
            out.push(UpInterface { name, operstate });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A default route: an interface that reaches beyond this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultRoute {
    /// The interface it leaves through.
    pub iface: String,
    /// The gateway, when there is one ("192.0.2.1", "fe80::1").
    pub gateway: Option<String>,
}

/// The default routes in `proc/net/route` (IPv4) and `proc/net/ipv6_route`.
pub fn default_routes(proc: &Path) -> Vec<DefaultRoute> {
    let mut out = std::fs::read_to_string(proc.join("net/route"))
        .map(|t| parse_route(&t))
        .unwrap_or_default();
    out.extend(
        std::fs::read_to_string(proc.join("net/ipv6_route"))
            .map(|t| parse_ipv6_route(&t))
            .unwrap_or_default(),
    );
    out
}

/// Default routes in the text of `/proc/net/route`: a header line, then `Iface
/// Destination Gateway Flags RefCnt Use Metric Mask ...` with addresses as the kernel's
/// in-memory (network order) u32 printed in hex.
pub fn parse_route(text: &str) -> Vec<DefaultRoute> {
    let hex = |s: &str| u32::from_str_radix(s, 16).ok();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (iface, dest, gw, flags, mask) =
                (f.first()?, *f.get(1)?, *f.get(2)?, *f.get(3)?, *f.get(7)?);
            if hex(dest)? != 0 || hex(mask)? != 0 || hex(flags)? & RTF_UP == 0 {
                return None;
            }
            let gw = hex(gw)?;
            Some(DefaultRoute {
                iface: (*iface).to_owned(),
                gateway: (gw != 0).then(|| std::net::Ipv4Addr::from(gw.to_ne_bytes()).to_string()),
            })
        })
        .collect()
}

/// Default routes in the text of `/proc/net/ipv6_route`: `dest prefixlen src
/// prefixlen nexthop metric refcnt use flags device`, addresses as 32 hex digits.
pub fn parse_ipv6_route(text: &str) -> Vec<DefaultRoute> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                return None;
            }
            let zero = |s: &str| s.bytes().all(|b| b == b'0');
            let flags = u32::from_str_radix(f[8], 16).ok()?;
            if !zero(f[0]) || !zero(f[1]) || flags & RTF_UP == 0 || flags & RTF_REJECT != 0 {
                return None;
            }
            if f[9] == "lo" {
                return None;
            }
            let gateway = u128::from_str_radix(f[4], 16)
                .ok()
                .filter(|g| *g != 0)
                .map(|g| std::net::Ipv6Addr::from(g).to_string());
            Some(DefaultRoute {
                iface: f[9].to_owned(),
                gateway,
            })
        })
        .collect()
}

/// A running process known to take smart-card readers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grabber {
    /// Its pid.
    pub pid: u32,
    /// Its command name as `/proc/<pid>/comm` gives it.
    pub comm: String,
    /// What it is and what to do about it.
    pub advice: &'static str,
}

/// Command names (as the kernel keeps them: at most 15 bytes) of programs that open
/// YubiKey readers and may keep them, and what to do about each. gpg's scdaemon
/// connects exclusively by default and stays; the others hold a reader while they run.
const GRABBERS: &[(&str, &str)] = &[
    (
        "scdaemon",
        "gpg's scdaemon holds readers exclusively: run `gpgconf --kill scdaemon`",
    ),
    ("ykman", "close ykman (YubiKey Manager)"),
    ("ykman-gui", "close the YubiKey Manager window"),
    ("yubico-piv-tool", "let yubico-piv-tool finish, or stop it"),
    ("pcsc_scan", "stop pcsc_scan (Ctrl-C in its terminal)"),
    (
        "opensc-tool",
        "let the OpenSC tool (opensc-tool) finish, or stop it",
    ),
    ("opensc-explorer", "close opensc-explorer"),
    (
        "pkcs11-tool",
        "let the OpenSC tool (pkcs11-tool) finish, or stop it",
    ),
    (
        "pkcs15-tool",
        "let the OpenSC tool (pkcs15-tool) finish, or stop it",
    ),
    (
        "piv-tool",
        "let the OpenSC tool (piv-tool) finish, or stop it",
    ),
    (
        "yubikey-agent",
        "stop yubikey-agent (it keeps the YubiKey open)",
    ),
    // age-plugin-yubikey, cut to 15 bytes by the kernel.
    (
        "age-plugin-yubi",
        "let age-plugin-yubikey finish, or stop it",
    ),
];

/// Processes under `proc` whose command name is one of [`GRABBERS`], by pid.
pub fn grabbers(proc: &Path) -> Vec<Grabber> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut out: Vec<Grabber> = entries
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            // A process may exit between the listing and the read.
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            let comm = comm.strip_suffix('\n').unwrap_or(&comm);
            let (_, advice) = GRABBERS.iter().find(|(name, _)| *name == comm)?;
            Some(Grabber {
                pid,
                comm: comm.to_owned(),
                advice,
            })
        })
        .collect();
    out.sort_by_key(|g| g.pid);
    out
}
