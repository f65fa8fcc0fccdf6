//! Card hygiene at enrollment through the real `yubikey` crate and pcscd, on a
//! simulated card that a custodian fixes step by step with Debian's ykman, exactly as
//! the refusals tell them to. Needs root, ykman and the simulator binary
//! (`cargo build -p glasskeep-piv-sim`).

use std::process::Command;

use glasskeep_card::enroll::{enroll, EnrollError, EnrollOptions, FactoryDefaults};
use glasskeep_card::{open, Credential, Token};
use glasskeep_core::attestation::{self, AttestationError, Trust};
use glasskeep_core::piv::Slot;
use glasskeep_core::secret::Pin;
use glasskeep_piv_sim::harness::{CardSpec, PcscLab};
use zeroize::Zeroizing;

const NEW_PIN: &str = "24681357";

fn ykman(reader: &str, args: &[&str]) {
    let mut all = vec!["--reader", reader, "piv", "access"];
    all.extend_from_slice(args);
    let o = Command::new("ykman")
        .args(&all)
        .output()
        .expect("Debian's ykman is needed: run scripts/install-deps.sh");
    assert!(
        o.status.success(),
        "ykman {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Production enrollment with a wrong PIN: hygiene must refuse before the PIN is tried.
fn refused_defaults(token: &mut dyn Token) -> FactoryDefaults {
    let before = token.credential_metadata(Credential::Pin).unwrap();
    let err = enroll(
        token,
        &Pin::new(b"000000").unwrap(),
        &EnrollOptions::new("erin", Trust::Production),
    )
    .unwrap_err();
    let after = token.credential_metadata(Credential::Pin).unwrap();
    assert_eq!(after.retries, before.retries, "a PIN try was spent");
    assert_eq!(token.metadata(Slot::RETIRED1).unwrap(), None);
    match err {
        EnrollError::FactoryDefaults { defaults } => defaults,
        other => panic!("expected a hygiene refusal, got {other:?}"),
    }
}

#[test]
fn a_card_fixed_with_ykman_protect_passes_hygiene_and_enrolls() {
    let lab = PcscLab::start(&[CardSpec::new(7001)]).expect("pcscd lab starts");
    let reader = lab.reader_name(7001).unwrap();
    let all = FactoryDefaults {
        pin: true,
        puk: true,
        management_key: true,
    };

    let mut token = open(None).unwrap();
    assert_eq!(refused_defaults(&mut *token), all);
    drop(token);

    ykman(&reader, &["change-pin", "-P", "123456", "-n", NEW_PIN]);
    let mut token = open(None).unwrap();
    assert_eq!(
        refused_defaults(&mut *token),
        FactoryDefaults { pin: false, ..all }
    );
    drop(token);

    ykman(&reader, &["change-puk", "-p", "12345678", "-n", "87654321"]);
    let mut token = open(None).unwrap();
    assert_eq!(
        refused_defaults(&mut *token),
        FactoryDefaults {
            management_key: true,
            ..FactoryDefaults::default()
        }
    );
    drop(token);

    ykman(
        &reader,
        &[
            "change-management-key",
            "-m",
            "010203040506070801020304050607080102030405060708",
            "-P",
            NEW_PIN,
            "--generate",
            "--protect",
            "-f",
        ],
    );
    let pin = Pin::new(NEW_PIN.as_bytes()).unwrap();
    let mut token = open(None).unwrap();
    let tries = token.credential_metadata(Credential::Pin).unwrap().retries;

    // A typed key that is not the card's is refused, not silently replaced by the
    // stored one.
    let typed = EnrollOptions {
        management_key: Some(Zeroizing::new(vec![0x11; 24])),
        ..EnrollOptions::new("erin", Trust::Production)
    };
    let err = enroll(&mut *token, &pin, &typed).unwrap_err();
    assert!(
        matches!(err, EnrollError::TypedManagementKeyRefused),
        "{err:?}"
    );

    // Hygiene passes, the PIN-protected key authenticates, and production stops only
    // at the simulator's attestation root, with no key made.
    let err = enroll(
        &mut *token,
        &pin,
        &EnrollOptions::new("erin", Trust::Production),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Attestation(AttestationError::TrainingCardInProduction)
        ),
        "{err:?}"
    );
    assert_eq!(token.metadata(Slot::RETIRED1).unwrap(), None);
    assert_eq!(token.metadata(Slot::SIGNATURE).unwrap(), None);
    assert_eq!(
        token.credential_metadata(Credential::Pin).unwrap().retries,
        tries
    );

    // A training custody enrolls the card for real with the stored key, no warning.
    let done = enroll(
        &mut *token,
        &pin,
        &EnrollOptions::new("erin", Trust::Training),
    )
    .unwrap();
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    assert!(!done.firmware_risk_accepted);
    attestation::verify_record(&done.record, Trust::Training).unwrap();
}
