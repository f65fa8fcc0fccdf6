//! `rotate` keeps the credential's kind (a TOTP seed stays a TOTP seed) unless `--kind`
//! changes it explicitly; through the real pcscd and simulated YubiKeys.

mod common;

use common::custody::{self, Custody};

fn live_kind(c: &Custody, label: &str) -> String {
    let s = c.status();
    let sets = s["sets"].as_array().expect("status lists sets");
    let live: Vec<&serde_json::Value> = sets
        .iter()
        .filter(|x| x["label"] == label && x["status"] != "superseded")
        .collect();
    assert_eq!(live.len(), 1, "{s}");
    live[0]["kind"].as_str().unwrap().to_owned()
}

#[test]
fn rotate_keeps_the_kind_unless_told() {
    let _lab = custody::lab();
    let c = Custody::new();
    custody::enrolled(&c);
    let all = ["--cosigners", "alice,bob,carol"];
    let mut seal = vec![
        "seal",
        "--label",
        "mfa",
        "--threshold",
        "2",
        "--custodians",
        "alice,bob,carol",
        "--kind",
        "totp",
    ];
    seal.extend(all);
    c.ok(&seal, b"JBSWY3DPEHPK3PXP\n");
    assert_eq!(live_kind(&c, "mfa"), "totp");

    let mut rotate = vec!["rotate", "--label", "mfa"];
    rotate.extend(all);
    c.ok(&rotate, b"KRSXG5CTMVRXEZLU\n");
    assert_eq!(live_kind(&c, "mfa"), "totp", "rotation kept the kind");

    let mut change = rotate.clone();
    change.extend(["--kind", "recovery-codes"]);
    c.ok(&change, b"1111-2222 3333-4444\n");
    assert_eq!(live_kind(&c, "mfa"), "recovery-codes", "--kind changed it");
}
