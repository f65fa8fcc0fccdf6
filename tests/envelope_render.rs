//! Every rendering round-trips: through zbarimg and pdftoppm, and through glasskeep's
//! own image decoder.

use std::path::Path;
use std::process::Command;

use glasskeep::envelope::render::{render, Format, Paper};
use glasskeep::envelope::{qr, scan, Envelope};
use glasskeep::shamir::SetId;

fn envelope(payload_len: usize, training: bool) -> Envelope {
    Envelope {
        set_id: SetId([0x42; 16]),
        label: "aws-root".into(),
        organisation: "Example Org".into(),
        custodian: "alice".into(),
        serial: 1_001,
        index: 2,
        threshold: 2,
        count: 3,
        created: 1_795_000_000,
        training,
        sealed_share: (0..320u32).map(|i| (i * 31 + 7) as u8).collect(),
        payload: (0..payload_len as u32)
            .map(|i| (i * 17 + i / 251) as u8)
            .collect(),
    }
}

fn zbar(path: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .expect("zbarimg is installed (scripts/install-deps.sh)");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn pdf_pages(pdf: &[u8], dir: &Path) -> Vec<std::path::PathBuf> {
    let file = dir.join("env.pdf");
    std::fs::write(&file, pdf).unwrap();
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-png"])
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

fn check_png(e: &Envelope, paper: Paper) {
    let png = render(e, Format::Png, paper).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env.png");
    std::fs::write(&file, &png).unwrap();
    let payloads = zbar(&file);
    assert_eq!(scan::decode_qr_payloads(&payloads).unwrap(), *e);
    assert_eq!(scan::decode_image(&png).unwrap(), *e);
}

fn check_pdf(e: &Envelope, paper: Paper) {
    let pdf = render(e, Format::Pdf, paper).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pages = pdf_pages(&pdf, dir.path());
    let zbar_payloads: Vec<String> = pages.iter().flat_map(|p| zbar(p)).collect();
    assert_eq!(scan::decode_qr_payloads(&zbar_payloads).unwrap(), *e);
    let files: Vec<Vec<u8>> = pages.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let files: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    assert_eq!(scan::decode_images(&files).unwrap(), *e);
}

#[test]
fn small_envelope_png_round_trips() {
    let e = envelope(200, false);
    assert_eq!(qr::envelope_to_parts(&e).unwrap().len(), 1);
    check_png(&e, Paper::A4);
}

#[test]
fn small_training_envelope_pdf_round_trips_on_letter() {
    check_pdf(&envelope(200, true), Paper::Letter);
}

#[test]
fn multi_part_envelope_png_round_trips() {
    let e = envelope(20 * 1024, false);
    assert!(qr::envelope_to_parts(&e).unwrap().len() > 30);
    check_png(&e, Paper::Letter);
}

#[test]
fn multi_part_training_envelope_pdf_round_trips_on_a4() {
    check_pdf(&envelope(20 * 1024, true), Paper::A4);
}

#[test]
fn small_envelope_pdf_round_trips_on_a4() {
    check_pdf(&envelope(200, false), Paper::A4);
}
