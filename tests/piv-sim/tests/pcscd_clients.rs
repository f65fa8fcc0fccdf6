//! Fidelity: PIV clients written elsewhere (Debian's yubico-piv-tool, yubikey-manager)
//! read the simulated card through the real pcscd. Needs root (pcscd) and the packages
//! from scripts/install-deps.sh.

use std::process::{Command, Output};

use glasskeep_piv_sim::harness::{CardSpec, LabOptions, PcscLab};

fn lab(specs: &[CardSpec]) -> PcscLab {
    let options = LabOptions {
        sim_bin: Some(env!("CARGO_BIN_EXE_glasskeep-piv-sim").into()),
        ..LabOptions::default()
    };
    PcscLab::start_with(specs, options).expect("pcscd lab starts (root, pcscd, vsmartcard-vpcd)")
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} not runnable ({e}); run scripts/install-deps.sh"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn yubico_piv_tool_reads_status() {
    let lab = lab(&[CardSpec::new(1001)]);
    let reader = lab.reader_name(1001).unwrap();
    let o = run("yubico-piv-tool", &["-r", &reader, "-a", "status"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("Version:\t5.7.1"), "{t}");
    assert!(t.contains("Serial Number:\t1001"), "{t}");
    assert!(t.contains("PIN tries left:\t3"), "{t}");
}

#[test]
fn yubico_piv_tool_verifies_pin_and_counts_failures() {
    let lab = lab(&[CardSpec::new(1002)]);
    let reader = lab.reader_name(1002).unwrap();
    let o = run(
        "yubico-piv-tool",
        &["-r", &reader, "-a", "verify-pin", "-P", "123456"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        "yubico-piv-tool",
        &["-r", &reader, "-a", "verify-pin", "-P", "999999"],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("2 tries left"), "{}", text(&o));
    let o = run("yubico-piv-tool", &["-r", &reader, "-a", "status"]);
    assert!(text(&o).contains("PIN tries left:\t2"), "{}", text(&o));
}

#[test]
fn yubico_piv_tool_generates_and_attests_on_3des_card() {
    // Debian's yubico-piv-tool 2.2.0 speaks only 3DES management keys, so, as with real
    // hardware, it can administer a pre-5.7 card but not a 5.7 one (next test).
    let mut spec = CardSpec::new(1003);
    spec.firmware = [5, 4, 3];
    let lab = lab(&[spec]);
    let reader = lab.reader_name(1003).unwrap();
    let o = run(
        "yubico-piv-tool",
        &[
            "-r",
            &reader,
            "-a",
            "generate",
            "-s",
            "9a",
            "-A",
            "ECCP256",
            "--pin-policy=once",
            "--touch-policy=never",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("BEGIN PUBLIC KEY"), "{}", text(&o));
    let o = run(
        "yubico-piv-tool",
        &["-r", &reader, "-a", "attest", "-s", "9a"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("BEGIN CERTIFICATE"), "{}", text(&o));
    let o = run(
        "yubico-piv-tool",
        &["-r", &reader, "-a", "read-certificate", "-s", "f9"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("BEGIN CERTIFICATE"), "{}", text(&o));
}

#[test]
fn yubico_piv_tool_2_2_cannot_authenticate_to_aes_card() {
    let lab = lab(&[CardSpec::new(1006)]);
    let reader = lab.reader_name(1006).unwrap();
    let o = run(
        "yubico-piv-tool",
        &["-r", &reader, "-a", "generate", "-s", "9a", "-A", "ECCP256"],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("Failed authentication"), "{}", text(&o));
}

#[test]
fn ykman_reads_piv_info() {
    let lab = lab(&[CardSpec::new(1004)]);
    let reader = lab.reader_name(1004).unwrap();
    // ykman only enumerates USB YubiKeys unless told which PC/SC reader to use.
    let o = run("ykman", &["--reader", &reader, "piv", "info"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("PIV version: 5.7.1"), "{t}");
    assert!(t.contains("PIN tries remaining: 3/3"), "{t}");
    assert!(t.contains("Management key algorithm: AES192"), "{t}");
}

#[test]
fn ykman_sees_3des_on_older_firmware() {
    let mut spec = CardSpec::new(1005);
    spec.firmware = [5, 4, 3];
    let lab = lab(&[spec]);
    let reader = lab.reader_name(1005).unwrap();
    let o = run("ykman", &["--reader", &reader, "piv", "info"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("PIV version: 5.4.3"), "{t}");
    assert!(t.contains("Management key algorithm: TDES"), "{t}");
}

#[test]
fn ykman_generates_attests_and_self_signs_with_aes_key() {
    let lab = lab(&[CardSpec::new(1007)]);
    let reader = lab.reader_name(1007).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("pub.pem");
    let attestation = dir.path().join("att.pem");
    let public = public.to_str().unwrap();
    let attestation = attestation.to_str().unwrap();
    let key = "010203040506070801020304050607080102030405060708";
    let r = reader.as_str();
    // Management key mutual authentication with AES-192, by a client written elsewhere.
    let o = run(
        "ykman",
        &[
            "--reader",
            r,
            "piv",
            "keys",
            "generate",
            "-a",
            "ECCP256",
            "--pin-policy",
            "ONCE",
            "--touch-policy",
            "ALWAYS",
            "-m",
            key,
            "9a",
            public,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        "ykman",
        &["--reader", r, "piv", "keys", "attest", "9a", attestation],
    );
    assert!(o.status.success(), "{}", text(&o));
    let pem = std::fs::read_to_string(attestation).unwrap();
    assert!(pem.contains("BEGIN CERTIFICATE"), "{pem}");
    // Self-signing uses the new key: PIN once, touch always (auto touch in the lab).
    let o = run(
        "ykman",
        &[
            "--reader",
            r,
            "piv",
            "certificates",
            "generate",
            "-s",
            "CN=drill",
            "-m",
            key,
            "-P",
            "123456",
            "9a",
            public,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run("ykman", &["--reader", r, "piv", "info"]);
    assert!(text(&o).contains("Subject DN:\tCN=drill"), "{}", text(&o));
}

#[test]
fn ykman_sees_defaults_then_changes_pin_puk_and_protects_the_management_key() {
    let lab = lab(&[CardSpec::new(1008)]);
    let reader = lab.reader_name(1008).unwrap();
    let r = reader.as_str();
    let o = run("ykman", &["--reader", r, "piv", "info"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("WARNING: Using default PIN!"), "{t}");
    assert!(t.contains("WARNING: Using default Management key!"), "{t}");

    let access = |args: &[&str]| {
        let mut all = vec!["--reader", r, "piv", "access"];
        all.extend_from_slice(args);
        let o = run("ykman", &all);
        assert!(o.status.success(), "ykman {args:?}: {}", text(&o));
    };
    access(&["change-pin", "-P", "123456", "-n", "24681357"]);
    access(&["change-puk", "-p", "12345678", "-n", "87654321"]);
    access(&[
        "change-management-key",
        "-m",
        "010203040506070801020304050607080102030405060708",
        "-P",
        "24681357",
        "--generate",
        "--protect",
        "-f",
    ]);

    let o = run("ykman", &["--reader", r, "piv", "info"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(!t.contains("WARNING"), "{t}");
    assert!(
        t.contains("Management key is stored on the YubiKey, protected by PIN."),
        "{t}"
    );
    let state = glasskeep_piv_sim::state::CardState::load(&lab.state_dir(1008).unwrap()).unwrap();
    assert!(!state.pin_default && !state.puk_default && !state.mgm_default);
    // ykman 4.0.9 writes a 3DES key unless told otherwise, as on real hardware.
    assert_eq!(state.mgm_algorithm, 0x03);
    assert_eq!(
        state.objects.get("5fff00").map(String::as_str),
        Some("8003810102"),
        "ADMIN DATA: 80 {{ 81 01 02 }}"
    );
    let printed = state.objects.get("5fc109").expect("PRINTED holds the key");
    assert_eq!(*printed, format!("881a8918{}", state.mgm_key));

    // ykman finds the stored key with the PIN alone and administers the card with it.
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("pub.pem");
    let o = run(
        "ykman",
        &[
            "--reader",
            r,
            "piv",
            "keys",
            "generate",
            "-a",
            "ECCP256",
            "-P",
            "24681357",
            "9a",
            public.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
}
