//! `glasskeep-piv-sim`: a simulated YubiKey PIV card behind vpcd (TRAINING ONLY).

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use glasskeep_piv_sim::state::CardState;
use glasskeep_piv_sim::touch::TOUCH_FILE;
use glasskeep_piv_sim::{vpcd, SimCard, SimConfig, TouchMode};
use nix::sys::signal::{SigSet, Signal};

/// A simulated YubiKey PIV card that appears in pcscd through vpcd. TRAINING ONLY:
/// its keys sit in clear in the state folder and its attestation root is public.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// vpcd port (35963 is "Virtual PCD 00 00", 35964 "Virtual PCD 00 01").
    #[arg(long, default_value_t = 35963)]
    port: u16,
    /// vpcd host.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// State folder: created on first run, reopened after.
    #[arg(long, required_unless_present = "print_training_root")]
    state: Option<PathBuf>,
    /// Print the TRAINING attestation root certificate (PEM) and exit.
    #[arg(long)]
    print_training_root: bool,
    /// Serial number of a new card (checked against an existing one).
    #[arg(long)]
    serial: Option<u32>,
    /// Touch sensor: auto, never, signal (create the file STATE/touch to touch) or immediate.
    #[arg(long, default_value = "auto")]
    touch: TouchMode,
    /// Milliseconds a touch-policy operation waits before failing with 6982.
    #[arg(long, default_value_t = 15_000)]
    touch_timeout_ms: u64,
    /// Firmware version of a new card, e.g. 5.7.1 (AES-192 management key) or 5.4.3 (3DES).
    #[arg(long, value_parser = parse_firmware)]
    firmware: Option<[u8; 3]>,
    /// PIN of a new card (factory: 123456).
    #[arg(long)]
    pin: Option<String>,
    /// PUK of a new card (factory: 12345678).
    #[arg(long)]
    puk: Option<String>,
    /// Management key of a new card as ALG:HEX, ALG one of 3des, aes128, aes192, aes256.
    #[arg(long, value_parser = parse_mgm_key)]
    management_key: Option<(u8, Vec<u8>)>,
    /// Store the new card's management key PIN-protected, as `ykman piv access
    /// change-management-key --protect` does.
    #[arg(long)]
    protect_management_key: bool,
    /// Print every APDU (PINs hidden) to stderr.
    #[arg(long)]
    trace: bool,
}

fn parse_firmware(s: &str) -> Result<[u8; 3], String> {
    let parts: Vec<&str> = s.split('.').collect();
    let nums: Result<Vec<u8>, _> = parts.iter().map(|p| p.parse::<u8>()).collect();
    match nums {
        Ok(n) if n.len() == 3 => Ok([n[0], n[1], n[2]]),
        _ => Err(format!("firmware {s:?} is not MAJOR.MINOR.PATCH")),
    }
}

fn parse_mgm_key(s: &str) -> Result<(u8, Vec<u8>), String> {
    let (alg, key) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not ALG:HEX"))?;
    let alg = match alg {
        "3des" => 0x03,
        "aes128" => 0x08,
        "aes192" => 0x0A,
        "aes256" => 0x0C,
        other => return Err(format!("unknown management key algorithm {other:?}")),
    };
    let key = hex::decode(key).map_err(|e| format!("management key: {e}"))?;
    Ok((alg, key))
}

fn open_or_create(args: &Args, state: &Path) -> Result<SimCard, String> {
    let timeout = Duration::from_millis(args.touch_timeout_ms);
    if CardState::exists(state) {
        let card = SimCard::open_with(state, args.touch, timeout).map_err(|e| e.to_string())?;
        if let Some(s) = args.serial.filter(|s| *s != card.serial()) {
            return Err(format!(
                "{} holds card {}, not {s}; use another --state folder",
                state.display(),
                card.serial()
            ));
        }
        Ok(card)
    } else {
        let defaults = SimConfig::default();
        let config = SimConfig {
            serial: args.serial.unwrap_or(defaults.serial),
            firmware: args.firmware.unwrap_or(defaults.firmware),
            touch: args.touch,
            touch_timeout: timeout,
            pin: args
                .pin
                .as_ref()
                .map_or(defaults.pin, |p| p.as_bytes().to_vec()),
            puk: args
                .puk
                .as_ref()
                .map_or(defaults.puk, |p| p.as_bytes().to_vec()),
            management_key: args.management_key.clone(),
            protect_management_key: args.protect_management_key,
        };
        SimCard::create(state, config).map_err(|e| e.to_string())
    }
}

fn training_root_pem() -> String {
    use p256::pkcs8::der::{pem::LineEnding, EncodePem};
    use x509_cert::der::Decode;
    let der = glasskeep_piv_sim::training_root_certificate_der();
    // The root is built by this crate from fixed inputs and always parses and encodes.
    x509_cert::Certificate::from_der(&der)
        .and_then(|c| c.to_pem(LineEnding::LF))
        .expect("the training root is a valid certificate")
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_training_root {
        print!("{}", training_root_pem());
        return ExitCode::SUCCESS;
    }
    let Some(state) = args.state.clone() else {
        eprintln!("glasskeep-piv-sim: --state DIR is required");
        return ExitCode::from(2);
    };
    // Block the stop signals before any thread starts so every thread inherits the mask
    // and only the waiting thread below receives them: no handler, no unsafe.
    let mut stop_signals = SigSet::empty();
    stop_signals.add(Signal::SIGTERM);
    stop_signals.add(Signal::SIGINT);
    if let Err(e) = stop_signals.thread_block() {
        eprintln!("glasskeep-piv-sim: cannot block signals: {e}");
        return ExitCode::FAILURE;
    }
    let card = match open_or_create(&args, &state) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("glasskeep-piv-sim: {e}");
            return ExitCode::from(2);
        }
    };
    // A touch file left from an earlier run must not count as a touch now.
    let _ = std::fs::remove_file(state.join(TOUCH_FILE));
    let [a, b, c] = card.firmware();
    eprintln!(
        "glasskeep-piv-sim: TRAINING card serial {} firmware {a}.{b}.{c}, touch {}, state {}",
        card.serial(),
        args.touch,
        state.display()
    );
    let card = Arc::new(Mutex::new(card));
    {
        let card = Arc::clone(&card);
        std::thread::spawn(move || {
            let sig = stop_signals.wait();
            // Taking the card lock waits for any command in progress to finish and
            // persist, so the process never stops halfway through a state write.
            let _held = card.lock().unwrap_or_else(|p| p.into_inner());
            eprintln!("glasskeep-piv-sim: {sig:?}, stopping");
            std::process::exit(0);
        });
    }
    let addr = format!("{}:{}", args.host, args.port);
    vpcd::run(&addr, card, args.trace)
}
