//! Every rendering round-trips: through zbarimg and pdftoppm, and through glasskeep's
//! own image decoder.

use std::path::Path;
use std::process::Command;

use glasskeep_core::envelope::render::{render, Format, Paper};
use glasskeep_core::envelope::{qr, scan, Envelope};
use glasskeep_core::shamir::SetId;

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
        seal_slot: Some(glasskeep_core::piv::Slot::RETIRED1),
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

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext is installed (scripts/install-deps.sh)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
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

fn check_svg(e: &Envelope, paper: Paper) {
    let svg = render(e, Format::Svg, paper).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env.svg");
    std::fs::write(&file, &svg).unwrap();
    let png = dir.path().join("env.png");
    // 200 dpi, a screen-to-print middle: at 150 dpi a 1.7 pt module is 3.54 pixels,
    // which crisp edges round to 3 or 4, and zbarimg missed one code of 34. A printer
    // draws the vectors themselves.
    let status = Command::new("rsvg-convert")
        .args(["-d", "200", "-p", "200", "-b", "white", "-o"])
        .arg(&png)
        .arg(&file)
        .status()
        .expect("rsvg-convert is installed (scripts/install-deps.sh)");
    assert!(status.success());
    assert_eq!(scan::decode_qr_payloads(&zbar(&png)).unwrap(), *e);
    assert_eq!(
        scan::decode_image(&std::fs::read(&png).unwrap()).unwrap(),
        *e
    );
}

#[test]
fn small_envelope_svg_round_trips() {
    check_svg(&envelope(200, true), Paper::A4);
}

#[test]
fn multi_part_envelope_svg_round_trips() {
    check_svg(&envelope(20 * 1024, false), Paper::Letter);
}

#[test]
fn text_rendering_round_trips_and_files_of_every_kind_decode() {
    for len in [200, 20 * 1024] {
        let e = envelope(len, len > 1000);
        let txt = render(&e, Format::Txt, Paper::A4).unwrap();
        assert_eq!(
            scan::decode_text(std::str::from_utf8(&txt).unwrap()).unwrap(),
            e
        );
        assert_eq!(scan::decode_file(&txt).unwrap(), e);
        assert_eq!(scan::decode_file(&e.encode().unwrap()).unwrap(), e);
        let qr_lines = qr::envelope_to_parts(&e).unwrap().join("\n");
        assert_eq!(scan::decode_file(qr_lines.as_bytes()).unwrap(), e);
    }
    let png = render(&envelope(200, false), Format::Png, Paper::A4).unwrap();
    assert_eq!(scan::decode_file(&png).unwrap(), envelope(200, false));
    let pdf = render(&envelope(200, false), Format::Pdf, Paper::A4).unwrap();
    assert_eq!(scan::decode_file(&pdf), Err(scan::ScanError::Pdf));
}

#[test]
fn training_envelopes_say_so_on_every_page_and_others_never() {
    let count = |hay: &[u8], needle: &str| String::from_utf8_lossy(hay).matches(needle).count();
    for len in [200, 20 * 1024] {
        let training = envelope(len, true);
        let svg = render(&training, Format::Svg, Paper::A4).unwrap();
        let pages = count(&svg, "<g transform");
        assert!(count(&svg, "TRAINING — NOT A REAL CREDENTIAL") >= 2 * pages);
        let txt = render(&training, Format::Txt, Paper::A4).unwrap();
        assert!(count(&txt, "TRAINING — NOT A REAL CREDENTIAL") >= 2);
        let pdf = render(&training, Format::Pdf, Paper::A4).unwrap();
        // The PDF's text is glyph ids in the embedded OCR-B: read it back as a reader
        // would, through the font's ToUnicode map (OCR-B has no em dash: a hyphen).
        let text = pdftotext(&pdf);
        let pdf_pages = text.matches('\u{c}').count().max(1);
        assert!(count(text.as_bytes(), "TRAINING - NOT A REAL CREDENTIAL") >= 2 * pdf_pages);

        let real = envelope(len, false);
        for f in [Format::Svg, Format::Txt] {
            assert_eq!(count(&render(&real, f, Paper::A4).unwrap(), "TRAINING"), 0);
        }
        let real_pdf = render(&real, Format::Pdf, Paper::A4).unwrap();
        assert_eq!(count(pdftotext(&real_pdf).as_bytes(), "TRAINING"), 0);
    }
}

#[test]
fn renderings_are_deterministic_and_carry_the_facts() {
    let e = envelope(200, false);
    let fp = e.fingerprint().unwrap();
    for f in [Format::Pdf, Format::Png, Format::Svg, Format::Txt] {
        assert_eq!(
            render(&e, f, Paper::A4).unwrap(),
            render(&e, f, Paper::A4).unwrap()
        );
    }
    let svg = String::from_utf8(render(&e, Format::Svg, Paper::Letter).unwrap()).unwrap();
    for needle in [
        "Example Org",
        "aws-root",
        "alice",
        "1001",
        "Share 2 of 3 — any 2 open it",
        &e.set_id.to_hex(),
        &fp.short(),
        &fp.to_hex(),
        "Tamper-evident bag number",
        "Witness 2",
        "part 1 of 1",
        "END 0",
    ] {
        assert!(svg.contains(needle), "SVG lacks {needle}");
    }
}

#[test]
fn longest_names_stay_on_the_page() {
    let mut e = envelope(200, false);
    e.label = "L".repeat(128);
    e.organisation = "organisation ".repeat(9).trim().to_owned();
    e.custodian = "C".repeat(128);
    for paper in [Paper::A4, Paper::Letter] {
        let (w, _) = paper.size_pt();
        let svg = String::from_utf8(render(&e, Format::Svg, paper).unwrap()).unwrap();
        let mut page_x = 0.0f32;
        for line in svg.lines() {
            if let Some(rest) = line.strip_prefix("<g transform=\"translate(") {
                page_x = rest.split(' ').next().unwrap().parse().unwrap();
            }
            // Every text line must end inside the page at OCR-B's advance (0.723 em;
            // the font is monospaced).
            if let Some(rest) = line.strip_prefix("<text x=\"") {
                let x: f32 = rest.split('"').next().unwrap().parse().unwrap();
                let size: f32 = rest
                    .split("font-size=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                let text = &rest[rest.find('>').unwrap() + 1..rest.rfind("</text>").unwrap()];
                let width = text.chars().count() as f32 * 0.723 * size;
                assert!(x + width <= w, "{text:?} overflows ({} > {w})", x + width);
                let _ = page_x;
            }
        }
    }
    let png = render(&e, Format::Png, Paper::A4).unwrap();
    assert_eq!(scan::decode_image(&png).unwrap(), e);
}

#[test]
fn a_phone_photo_like_jpeg_of_the_first_page_decodes() {
    let e = envelope(700, false);
    assert_eq!(qr::envelope_to_parts(&e).unwrap().len(), 2);
    let png = render(&e, Format::Png, Paper::A4).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    // The first page only (both codes are on it), scaled by 1.3 as by a closer
    // camera, blurred and JPEG-compressed: no perfectly uniform bands survive, so the
    // detector's whole-image passes do the work.
    let page = image::imageops::crop_imm(&img, 0, 0, 1240, 1754).to_image();
    let big = image::imageops::resize(&page, 1612, 2280, image::imageops::FilterType::Triangle);
    let blurred = image::imageops::blur(&big, 0.8);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&blurred)
        .unwrap();
    assert_eq!(scan::decode_image(&jpeg).unwrap(), e);
}

#[test]
fn largest_envelope_pdf_scans_with_zbarimg() {
    // A 64 KiB secret: payload record = secret + 16-byte tag + nonce, label, header.
    let e = envelope(64 * 1024 + 60, false);
    let parts = qr::envelope_to_parts(&e).unwrap();
    assert!(parts.len() > 100 && parts.len() < 999, "{}", parts.len());
    let pdf = render(&e, Format::Pdf, Paper::A4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pages = pdf_pages(&pdf, dir.path());
    let zbar_payloads: Vec<String> = pages.iter().flat_map(|p| zbar(p)).collect();
    assert_eq!(scan::decode_qr_payloads(&zbar_payloads).unwrap(), e);
    let txt = render(&e, Format::Txt, Paper::A4).unwrap();
    assert_eq!(
        scan::decode_text(std::str::from_utf8(&txt).unwrap()).unwrap(),
        e
    );
}

#[test]
fn a_twelve_megapixel_photo_decodes() {
    // A phone camera filling the frame with the page: symbols of ~1100 pixels, larger
    // than any tile overlap, read from the shrunk image.
    let e = envelope(200, false);
    let png = render(&e, Format::Png, Paper::A4).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let page = image::imageops::crop_imm(&img, 0, 0, 1240, 1754).to_image();
    let photo = image::imageops::resize(&page, 2900, 4100, image::imageops::FilterType::Triangle);
    let mut photo = image::imageops::blur(&photo, 1.5);
    // Sensor noise: no perfectly uniform band survives, as in a real photo.
    for (i, p) in photo.pixels_mut().enumerate() {
        let n = (i.wrapping_mul(2_654_435_761) >> 13) % 9;
        p.0[0] = p.0[0].saturating_sub(4).saturating_add(n as u8);
    }
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&photo)
        .unwrap();
    assert_eq!(scan::decode_image(&jpeg).unwrap(), e);
}
