//! The typed-text fallback read by machines: OCR-B on the page, tesseract reading a
//! 300 dpi rendering of the PDF, and the per-line checksums correcting what it misreads;
//! and text copied out of the PDF keeping each line whole.

use std::path::{Path, PathBuf};
use std::process::Command;

use glasskeep_core::envelope::render::{render, Format, Paper};
use glasskeep_core::envelope::Envelope;
use glasskeep_core::envelope::{ocr, text};
use glasskeep_core::shamir::SetId;

fn envelope(payload_len: usize, training: bool) -> Envelope {
    Envelope {
        set_id: SetId([0x5c; 16]),
        label: "aws-root".into(),
        organisation: "Example Org".into(),
        custodian: "alice".into(),
        serial: 1_001,
        index: 1,
        threshold: 2,
        count: 3,
        created: 1_795_000_000,
        training,
        sealed_share: (0..300u32).map(|i| (i * 37 + 11) as u8).collect(),
        seal_slot: Some(glasskeep_core::piv::Slot::RETIRED1),
        payload: (0..payload_len as u32)
            .map(|i| (i * 29 + i / 253) as u8)
            .collect(),
    }
}

fn pdf_to_png_pages(pdf: &[u8], dir: &Path, dpi: &str) -> Vec<PathBuf> {
    let file = dir.join("env.pdf");
    std::fs::write(&file, pdf).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-r", dpi, "-gray", "-png"])
        .arg(&file)
        .arg(dir.join("page"))
        .status()
        .expect("pdftoppm is installed (scripts/install-deps.sh)");
    assert!(status.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .collect();
    pages.sort();
    pages
}

fn tesseract(page: &Path) -> String {
    let out = Command::new("tesseract")
        .arg(page)
        .args(["-", "--psm", "6"])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .expect("tesseract is installed (apt tesseract-ocr, scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_4kib_envelope_pdf_read_by_tesseract_at_300_dpi_decodes_to_the_same_bytes() {
    let e = envelope(4096, false);
    let encoded = e.encode().unwrap();
    let pdf = render(&e, Format::Pdf, Paper::A4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut ocr = String::new();
    for page in pdf_to_png_pages(&pdf, dir.path(), "300") {
        ocr.push_str(&tesseract(&page));
        ocr.push('\n');
    }
    // The OCR does misread OCR-B (5 as S, 9 as Y, as I or as two glyphs): the plain typed-text
    // decoder refuses it, and the OCR reader corrects it by the line checks.
    assert!(text::decode_bytes(&ocr).is_err());
    let reading = ocr::decode_ocr(&ocr).unwrap_or_else(|e| panic!("{e}\n{ocr}"));
    assert_eq!(reading.bytes, encoded);
    assert_eq!(reading.envelope().unwrap(), e);
}

#[test]
fn pdftotext_keeps_every_line_with_its_check_characters() {
    let e = envelope(4096, true);
    let encoded = e.encode().unwrap();
    let pdf = render(&e, Format::Pdf, Paper::Letter).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext is installed (scripts/install-deps.sh)");
    assert!(out.status.success());
    let copied = String::from_utf8(out.stdout).unwrap();
    let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let copied_lines: Vec<String> = copied.lines().map(squeeze).collect();
    for line in text::encode_lines(&encoded) {
        let line = squeeze(&line);
        assert!(
            copied_lines.iter().any(|l| l.contains(&line)),
            "{line:?} is not whole on one line of the copied text"
        );
    }
    // The text as copied (two columns side by side) decodes as it is, without a
    // single correction, and the page says TRAINING in text a machine can read.
    let reading = ocr::decode_ocr(&copied).unwrap();
    assert_eq!(reading.bytes, encoded);
    assert!(reading.corrections.is_empty(), "{:?}", reading.corrections);
    assert!(copied.contains("TRAINING - NOT A REAL CREDENTIAL"));
    // The seal slot and where the recovery kit is, as printed.
    let flat = squeeze(&copied);
    assert!(
        flat.contains("YubiKey serial: 1001 (seal key: PIV slot 82)"),
        "{flat}"
    );
    assert!(
        flat.contains("age-plugin-yubikey --identity --serial 1001 --slot 1"),
        "{flat}"
    );
    assert!(flat.contains(
        "Recovery kit: in the safe beside this envelope (RECOVERY.pdf, recover.py, live-sets sheet)."
    ));
    assert!(copied.contains(&e.fingerprint().unwrap().to_hex()));
}

#[test]
fn envelope_read_writes_the_record_and_refuses_a_line_it_cannot_correct() {
    let e = envelope(600, false);
    let encoded = e.encode().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut lines = text::encode_lines(&encoded);
    // An OCR-like misread: every 5 on the first line read as S.
    lines[0] = format!("{}{}", &lines[0][..6], lines[0][6..].replace('5', "S"));
    std::fs::write(dir.path().join("ocr.txt"), lines.join("\n")).unwrap();
    let gk = env!("CARGO_BIN_EXE_glasskeep");
    let out = Command::new(gk)
        .args(["envelope", "read", "ocr.txt", "--output", "a.gkenv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(dir.path().join("a.gkenv")).unwrap(), encoded);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(&e.fingerprint().unwrap().to_hex()),
        "{stdout}"
    );

    // A line no look-alike explains: exit 4, the line named, nothing written.
    let mut bad = text::encode_lines(&encoded);
    bad[1] = format!("{}KKKKK{}", &bad[1][..6], &bad[1][11..]);
    std::fs::write(dir.path().join("bad.txt"), bad.join("\n")).unwrap();
    let out = Command::new(gk)
        .args(["envelope", "read", "bad.txt", "--output", "b.gkenv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2:"), "{stderr}");
    assert!(!dir.path().join("b.gkenv").exists());
}
