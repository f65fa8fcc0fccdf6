//! `recovery-kit` on a TRAINING custody through the real pcscd and simulated YubiKeys:
//! the kit lists exactly the live envelopes (and the superseded ones as to destroy),
//! says TRAINING on every page, refuses to overwrite itself, and its recover.py,
//! used the way RECOVERY.md says (zbarimg, age-plugin-yubikey, age, python3), gives
//! back the secret.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::custody::{acknowledge, enrolled, lab, p, Custody};

fn text_of(pdf: &Path) -> String {
    let o = Command::new("pdftotext")
        .arg("-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

fn page_count(pdf: &Path) -> usize {
    let o = Command::new("pdfinfo").arg(pdf).output().unwrap();
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The envelope files of the set whose id starts `id8`, in index order.
fn set_envelopes(c: &Custody, label: &str, id8: &str) -> Vec<PathBuf> {
    let folder = c.path().join("envelopes").join(format!("{label}-{id8}"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.extension().is_some_and(|e| e == "gkenv"))
        .collect();
    v.sort();
    v
}

/// Runs the kit's own recover.py in `work`.
fn recover(kit: &Path, work: &Path, args: &[&str]) -> std::process::Output {
    Command::new("python3")
        .arg(kit.join("recover.py"))
        .args(args)
        .current_dir(work)
        .output()
        .expect("python3 is installed")
}

/// `recover.py unpack` on the envelope's QR codes as zbarimg reads them from a PNG
/// rendering; returns the full fingerprint it printed.
fn unpack(c: &Custody, kit: &Path, work: &Path, envelope: &Path, name: &str) -> String {
    let png = work.join(format!("{name}.png"));
    c.ok(
        &[
            "envelope",
            "render",
            p(envelope),
            "--format",
            "png",
            "-o",
            p(&png),
        ],
        b"",
    );
    let scan = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(&png)
        .output()
        .unwrap();
    let qr = work.join(format!("{name}.qr"));
    std::fs::write(&qr, &scan.stdout).unwrap();
    let out = recover(kit, work, &["unpack", p(&qr)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("fingerprint:"))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn the_kit_lists_the_live_envelopes_and_its_script_recovers_the_secret() {
    let _lab = lab();
    let c = Custody::new();
    enrolled(&c);
    let cosign = ["--cosigners", "alice,bob,carol"];
    let mut seal = vec![
        "seal",
        "--label",
        "kit-root",
        "--threshold",
        "2",
        "--custodians",
        "alice,bob,carol",
    ];
    seal.extend(cosign);
    c.ok(&seal, b"first secret\n");
    let mut rotate = vec!["rotate", "--label", "kit-root"];
    rotate.extend(cosign);
    c.ok(&rotate, b"the rotated secret\n");
    // Two-phase rotation: each new custodian acknowledges, which supersedes the old set.
    acknowledge(&c, "kit-root");

    let s = c.status();
    let sets = s["sets"].as_array().unwrap();
    let id8 = |live: bool| {
        sets.iter()
            .find(|x| (x["status"] != "superseded") == live)
            .unwrap()["set_id"]
            .as_str()
            .unwrap()[..8]
            .to_owned()
    };
    let live = set_envelopes(&c, "kit-root", &id8(true));
    let old = set_envelopes(&c, "kit-root", &id8(false));
    assert_eq!((live.len(), old.len()), (3, 3));

    let kit = c.path().join("kit");
    std::fs::create_dir(&kit).unwrap(); // DIR may exist
    let said = c.ok(&["recovery-kit", p(&kit)], b"");
    assert!(said.contains("TRAINING"), "{said}");
    for f in [
        "RECOVERY.pdf",
        "recover.py",
        "live-sets.pdf",
        "live-sets.txt",
    ] {
        assert!(said.contains(p(&kit.join(f))), "{f} not named:\n{said}");
    }
    assert_eq!(
        std::fs::read_to_string(kit.join("recover.py")).unwrap(),
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/recover.py")).unwrap()
    );

    // TRAINING on every page of both PDFs, and page numbers.
    for pdf in ["RECOVERY.pdf", "live-sets.pdf"] {
        let path = kit.join(pdf);
        let n = page_count(&path);
        let text = text_of(&path);
        let pages: Vec<&str> = text.split('\u{c}').take(n).collect();
        assert_eq!(pages.len(), n);
        for (i, page) in pages.iter().enumerate() {
            assert!(page.contains("TRAINING"), "{pdf} page {}:\n{page}", i + 1);
            assert!(page.contains(&format!("page {} of {n}", i + 1)), "{page}");
        }
    }
    let recovery = text_of(&kit.join("RECOVERY.pdf"));
    for needle in [
        "Recovering a secret without glasskeep",
        "Step by step",
        "def combine(",
    ] {
        assert!(recovery.contains(needle), "{needle} missing");
    }
    assert!(
        recovery.find("Step by step").unwrap() < recovery.find("def combine(").unwrap(),
        "RECOVERY.pdf is out of order"
    );

    // The sheet: every live fingerprint in full; the superseded ones only as to destroy.
    let sheet_txt = std::fs::read_to_string(kit.join("live-sets.txt")).unwrap();
    let sheet_pdf = text_of(&kit.join("live-sets.pdf"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(sheet_txt.starts_with("TRAINING"), "{sheet_txt}");
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let old_dir = w.join("old");
    std::fs::create_dir(&old_dir).unwrap();
    let destroy_at = sheet_txt
        .find("Envelopes to destroy")
        .expect("a destroy section");
    for (i, e) in old.iter().enumerate() {
        let fp = unpack(&c, &kit, &old_dir, e, &format!("old-{i}"));
        assert!(!sheet_txt.contains(&fp), "superseded {fp} listed in full");
        let short = format!("{} {} {} {}", &fp[0..4], &fp[4..8], &fp[8..12], &fp[12..16]);
        let at = sheet_txt
            .find(&short)
            .expect("superseded envelope listed to destroy");
        assert!(at > destroy_at, "{short} listed as live");
    }
    let mut shares = Vec::new();
    for (index, serial) in [(3usize, "1003"), (1, "1001")] {
        let fp = unpack(&c, &kit, w, &live[index - 1], &format!("live-{index}"));
        let at = sheet_txt
            .find(&fp)
            .unwrap_or_else(|| panic!("{fp} not on the sheet"));
        assert!(at < destroy_at);
        assert!(sheet_pdf.contains(&fp), "{fp} not in live-sets.pdf");

        // The custodian makes the identity stub on the spot (RECOVERY.md, step 3) and
        // opens their share with age and their YubiKey.
        let ident = Command::new(common::plugin_dir().join("age-plugin-yubikey"))
            .args(["--identity", "--serial", serial, "--slot", "1"])
            .output()
            .unwrap();
        let stub = String::from_utf8_lossy(&ident.stdout)
            .lines()
            .find(|l| l.starts_with("AGE-PLUGIN-YUBIKEY-1"))
            .expect("the plugin prints an identity")
            .to_owned();
        let sealed = std::fs::read(w.join(format!("share-{index}.age"))).unwrap();
        let record = common::age_decrypt_with_stub(w, &stub, &sealed, b"123456");
        let share = format!("share-{index}.cbor");
        std::fs::write(w.join(&share), record).unwrap();
        shares.push(share);
    }
    let out = recover(
        &kit,
        w,
        &[
            "combine",
            "payload.cbor",
            &shares[0],
            &shares[1],
            "-o",
            "secret.bin",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(w.join("secret.bin")).unwrap(),
        b"the rotated secret"
    );

    // A second kit into the same folder is refused, and the first is left as it was.
    let before = std::fs::read(kit.join("live-sets.txt")).unwrap();
    let again = c.run(&["recovery-kit", p(&kit)], b"");
    assert_eq!(again.status.code(), Some(4));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("already exists") && err.contains("never overwrites"),
        "{err}"
    );
    assert_eq!(std::fs::read(kit.join("live-sets.txt")).unwrap(), before);
}
