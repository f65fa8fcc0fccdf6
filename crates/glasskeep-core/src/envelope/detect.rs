//! Finding every QR code in a photo or scan of envelope pages, with rqrr.
//!
//! rqrr (a quirc port) reads crisp renders well but misses some symbols when many
//! sit side by side, when their edges are anti-aliased (a PDF rasteriser's output),
//! or when the image is large (its cost grows faster than the area). So clean
//! images are first cut along their blank bands into single symbols, large ones are
//! read in overlapping tiles, and passes that look differently are tried in turn
//! until the codes found reassemble.

use crate::envelope::qr;

/// Images larger than this many pixels are read in overlapping tiles: the QR
/// detector's cost grows faster than the image, and a many-page render is ~35 Mpx.
const TILE_ABOVE: u64 = 6_000_000;
/// Tile side and overlap, in pixels. The overlap exceeds a version-20 symbol at five
/// pixels per module (485 px), so every such symbol lies whole inside some tile.
const TILE: u32 = 1800;
const OVERLAP: u32 = 600;

fn detect(img: image::GrayImage, out: &mut Vec<String>) {
    let mut prepared = rqrr::PreparedImage::prepare(img);
    for grid in prepared.detect_grids() {
        if let Ok((_, content)) = grid.decode() {
            if !out.contains(&content) {
                out.push(content);
            }
        }
    }
}

fn detect_tiled(img: &image::GrayImage, out: &mut Vec<String>) {
    let (w, h) = img.dimensions();
    if u64::from(w) * u64::from(h) <= TILE_ABOVE {
        detect(img.clone(), out);
        return;
    }
    let starts = |len: u32| {
        let mut v = Vec::new();
        let mut s = 0;
        loop {
            v.push(s);
            if s + TILE >= len {
                break;
            }
            s += TILE - OVERLAP;
        }
        v
    };
    for y in starts(h) {
        for x in starts(w) {
            let tile = image::imageops::crop_imm(img, x, y, TILE.min(w - x), TILE.min(h - y));
            detect(tile.to_image(), out);
        }
    }
}

/// A rectangle of the image: x, y, width, height.
type Region = (u32, u32, u32, u32);

/// Blank bands narrower than this (in pixels) do not separate content: text line
/// spacing stays inside a block, while page gutters and the quiet zones between QR
/// codes (8 modules) are wider.
const MIN_GAP: u32 = 10;
/// Regions smaller than a version-1 symbol at three pixels per module are skipped.
const MIN_SIDE: u32 = 60;
/// Blank margin kept around each region, standing in for the quiet zone.
const PAD: u32 = 32;

/// Runs of content along one axis of `r`, separated by uniform bands of at least
/// MIN_GAP lines. `uniform(i)` tells whether line `i` holds a single grey value.
fn runs(len: u32, uniform: impl Fn(u32) -> bool) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let (mut start, mut blank) = (None, 0u32);
    for i in 0..len {
        if uniform(i) {
            blank += 1;
            if blank == MIN_GAP {
                if let Some(s) = start.take() {
                    out.push((s, i + 1 - MIN_GAP));
                }
            }
        } else {
            if start.is_none() {
                start = Some(i);
            }
            blank = 0;
        }
    }
    if let Some(s) = start {
        out.push((s, len - blank));
    }
    out
}

/// Splits a clean render or flatbed scan along its blank bands (page gutters,
/// margins, quiet zones) until each QR code stands alone, so the detector sees one
/// symbol at a time. A photo has no perfectly uniform bands and stays whole.
fn segment(img: &image::GrayImage, r: Region, depth: u32, out: &mut Vec<Region>) {
    let (x0, y0, w, h) = r;
    let row_uniform = |y: u32| {
        let first = img.get_pixel(x0, y0 + y).0[0];
        (x0..x0 + w).all(|x| img.get_pixel(x, y0 + y).0[0] == first)
    };
    let rows = runs(h, row_uniform);
    let mut cells = Vec::new();
    for (a, b) in rows {
        let band = (x0, y0 + a, w, b - a);
        let cols = {
            let (bx, by, bw, bh) = band;
            runs(bw, |x| {
                let first = img.get_pixel(bx + x, by).0[0];
                (by..by + bh).all(|y| img.get_pixel(bx + x, y).0[0] == first)
            })
        };
        for (c, d) in cols {
            cells.push((x0 + c, y0 + a, d - c, b - a));
        }
    }
    if depth >= 6 || cells.len() <= 1 {
        let cell = cells.first().copied().unwrap_or(r);
        if cell.2 >= MIN_SIDE && cell.3 >= MIN_SIDE {
            out.push(cell);
        }
        return;
    }
    for cell in cells {
        if cell.2 >= MIN_SIDE && cell.3 >= MIN_SIDE {
            segment(img, cell, depth + 1, out);
        }
    }
}

/// Black and white at the threshold that best separates the histogram's two
/// populations (Otsu's method). Anti-aliased module edges, as a PDF rasteriser draws
/// them, can defeat the detector's local threshold; a global one restores them.
fn binarise(img: &image::GrayImage) -> image::GrayImage {
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[usize::from(p.0[0])] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &n)| i as f64 * n as f64)
        .sum();
    let (mut best, mut best_var, mut w0, mut sum0) = (128u8, 0f64, 0u64, 0f64);
    for (t, &n) in hist.iter().enumerate() {
        w0 += n;
        sum0 += t as f64 * n as f64;
        let w1 = total - w0;
        if w0 == 0 || w1 == 0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0 as f64, (sum_all - sum0) / w1 as f64);
        let var = w0 as f64 * w1 as f64 * (m0 - m1) * (m0 - m1);
        if var > best_var {
            best_var = var;
            best = t as u8;
        }
    }
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0[0] = if p.0[0] <= best { 0 } else { 255 };
    }
    out
}

/// How a reading pass looks at the image.
#[derive(Clone, Copy)]
enum Pass {
    /// Each blank-separated region alone.
    Regions,
    /// Each region, enlarged twice: anti-aliased edges of small modules then cover a
    /// smaller share of each module.
    RegionsEnlarged,
    /// The whole image (in tiles if large).
    Whole,
    /// A large image shrunk to the tiling threshold and read whole: a phone photo's
    /// symbols are larger than the tile overlap, but their modules are big enough to
    /// survive the shrinking.
    Shrunk,
}

fn detect_pass(img: &image::GrayImage, pass: Pass, out: &mut Vec<String>) {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return;
    }
    match pass {
        Pass::Whole => return detect_tiled(img, out),
        Pass::Shrunk => {
            let area = u64::from(w) * u64::from(h);
            if area > TILE_ABOVE {
                let f = (TILE_ABOVE as f64 / area as f64).sqrt();
                let (sw, sh) = ((f64::from(w) * f).max(1.0), (f64::from(h) * f).max(1.0));
                let small = image::imageops::resize(
                    img,
                    sw as u32,
                    sh as u32,
                    image::imageops::FilterType::Triangle,
                );
                detect(small, out);
            }
            return;
        }
        Pass::Regions | Pass::RegionsEnlarged => {}
    }
    let mut regions = Vec::new();
    segment(img, (0, 0, w, h), 0, &mut regions);
    for (x, y, rw, rh) in regions {
        let (x0, y0) = (x.saturating_sub(PAD), y.saturating_sub(PAD));
        let (x1, y1) = ((x + rw + PAD).min(w), (y + rh + PAD).min(h));
        let crop = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
        match pass {
            Pass::RegionsEnlarged
                if u64::from(crop.width()) * u64::from(crop.height()) <= 2_000_000 =>
            {
                let big = image::imageops::resize(
                    &crop,
                    crop.width() * 2,
                    crop.height() * 2,
                    image::imageops::FilterType::Triangle,
                );
                detect(big, out);
            }
            _ => detect_tiled(&crop, out),
        }
    }
}

fn assembles(payloads: &[String]) -> bool {
    let ours: Vec<&String> = payloads.iter().filter(|p| p.starts_with("GK")).collect();
    !ours.is_empty() && qr::assemble(&ours).is_ok()
}

/// Every QR payload readable in the images (the pages of one envelope), in detection
/// order, identical payloads once (a detector may report one symbol twice). Passes
/// run region by region, shrunk (large images only), regions enlarged, whole (tiled
/// if large), then all four on a binarised copy, stopping as soon as the glasskeep
/// codes found reassemble.
pub(crate) fn payloads(images: &[image::GrayImage]) -> Vec<String> {
    let mut out = Vec::new();
    let mut binarised: Vec<image::GrayImage> = Vec::new();
    for round in 0..2 {
        for pass in [
            Pass::Regions,
            Pass::Shrunk,
            Pass::RegionsEnlarged,
            Pass::Whole,
        ] {
            for (i, img) in images.iter().enumerate() {
                if round == 0 {
                    detect_pass(img, pass, &mut out);
                } else {
                    if binarised.len() <= i {
                        binarised.push(binarise(img));
                    }
                    detect_pass(&binarised[i], pass, &mut out);
                }
            }
            if assembles(&out) {
                return out;
            }
        }
    }
    out
}
