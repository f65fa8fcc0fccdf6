//! The pcscd lab itself: four cards at once, removal and reinsertion, pcscd stopped.
//! Needs root (pcscd).

use glasskeep_piv_sim::harness::{CardSpec, LabError, LabOptions, PcscLab, READER_NAMES};
use yubikey::piv::{self, AlgorithmId, SlotId};
use yubikey::{MgmKey, PinPolicy, Serial, TouchPolicy, YubiKey};

fn options() -> LabOptions {
    LabOptions {
        sim_bin: Some(env!("CARGO_BIN_EXE_glasskeep-piv-sim").into()),
        ..LabOptions::default()
    }
}

#[test]
fn four_cards_in_four_readers() {
    let specs: Vec<CardSpec> = (3001..=3004).map(CardSpec::new).collect();
    let lab = PcscLab::start_with(&specs, options()).unwrap();
    assert_eq!(lab.reader_names(), READER_NAMES.to_vec());
    for serial in 3001..=3004 {
        let yk = YubiKey::open_by_serial(Serial(serial)).unwrap();
        assert_eq!(yk.name(), lab.reader_name(serial).unwrap());
    }
}

#[test]
fn five_cards_are_refused() {
    let specs: Vec<CardSpec> = (3011..=3015).map(CardSpec::new).collect();
    assert!(matches!(
        PcscLab::start_with(&specs, options()),
        Err(LabError::BadSpec(_))
    ));
}

#[test]
fn removed_card_keeps_its_keys_when_reinserted() {
    let mut lab = PcscLab::start_with(&[CardSpec::new(3021)], options()).unwrap();
    let spki = {
        let mut yk = YubiKey::open_by_serial(Serial(3021)).unwrap();
        yk.authenticate(&MgmKey::get_default(&yk).unwrap()).unwrap();
        assert!(matches!(
            yk.verify_pin(b"999999"),
            Err(yubikey::Error::WrongPin { tries: 2 })
        ));
        piv::generate(
            &mut yk,
            SlotId::KeyManagement,
            AlgorithmId::EccP256,
            PinPolicy::Once,
            TouchPolicy::Never,
        )
        .unwrap()
    };
    lab.stop_card(3021).unwrap();
    assert!(lab.reader_names().is_empty());
    assert!(YubiKey::open_by_serial(Serial(3021)).is_err());
    lab.start_card(CardSpec::new(3021)).unwrap();
    let mut yk = YubiKey::open_by_serial(Serial(3021)).unwrap();
    assert_eq!(yk.get_pin_retries().unwrap(), 2);
    let meta = piv::metadata(&mut yk, SlotId::KeyManagement).unwrap();
    assert_eq!(meta.public, Some(spki));
}

#[test]
fn explicit_state_dir_survives_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = CardSpec::new(3031);
    spec.state_dir = Some(dir.path().join("card"));
    {
        let _lab = PcscLab::start_with(std::slice::from_ref(&spec), options()).unwrap();
        let mut yk = YubiKey::open_by_serial(Serial(3031)).unwrap();
        yk.change_pin(b"123456", b"777777").unwrap();
    }
    let _lab = PcscLab::start_with(&[spec], options()).unwrap();
    let mut yk = YubiKey::open_by_serial(Serial(3031)).unwrap();
    yk.verify_pin(b"777777").unwrap();
}

#[test]
fn stopped_pcscd_is_visible_and_restartable() {
    let mut lab = PcscLab::start_with(&[CardSpec::new(3041)], options()).unwrap();
    lab.stop_pcscd();
    assert!(YubiKey::open_by_serial(Serial(3041)).is_err());
    let ctx = pcsc::Context::establish(pcsc::Scope::System);
    assert!(
        matches!(ctx, Err(pcsc::Error::NoService)) || ctx.unwrap().list_readers_owned().is_err()
    );
    lab.start_pcscd().unwrap();
    YubiKey::open_by_serial(Serial(3041)).unwrap();
}

#[test]
fn touch_of_unknown_card_is_an_error() {
    let lab = PcscLab::start_with(&[CardSpec::new(3051)], options()).unwrap();
    assert!(matches!(
        lab.touch(9999),
        Err(LabError::UnknownSerial(9999))
    ));
}

#[test]
fn missing_simulator_is_named() {
    let options = LabOptions {
        sim_bin: Some("/nonexistent/glasskeep-piv-sim".into()),
        ..LabOptions::default()
    };
    let err = PcscLab::start_with(&[CardSpec::new(3061)], options)
        .err()
        .unwrap();
    assert!(matches!(err, LabError::SimulatorMissing(ref p) if p.ends_with("glasskeep-piv-sim")));
}

#[test]
fn same_serial_twice_is_refused() {
    let err = PcscLab::start_with(&[CardSpec::new(3071), CardSpec::new(3071)], options())
        .err()
        .unwrap();
    assert!(matches!(err, LabError::BadSpec(ref m) if m.contains("3071")));
}

/// A lab stops leftover simulators on its own ports, but a simulator on another port
/// belongs to a test of the binary running beside the lab, and lives on.
#[test]
fn a_lab_stops_strays_on_its_ports_only() {
    let dir = tempfile::tempdir().unwrap();
    let spawn = |port: &str, state: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_glasskeep-piv-sim"))
            .args(["--port", port, "--state"])
            .arg(dir.path().join(state))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut stray = spawn("35965", "stray");
    let mut other = spawn("1", "other");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let lab = PcscLab::start_with(&[CardSpec::new(3081)], options()).unwrap();
    let stray_status = stray.try_wait().unwrap();
    let other_status = other.try_wait().unwrap();
    let _ = other.kill();
    let _ = other.wait();
    drop(lab);
    assert!(
        stray_status.is_some(),
        "the stray on the lab's port still runs"
    );
    assert_eq!(
        other_status, None,
        "the simulator on another port was stopped"
    );
}
