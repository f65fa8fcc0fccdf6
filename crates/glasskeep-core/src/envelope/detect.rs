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

#[cfg(test)]
thread_local! {
    /// The sizes of the images the detector was run on, on this thread, for tests.
    static DETECTED: std::cell::RefCell<Vec<(u32, u32)>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn detect(img: image::GrayImage, out: &mut Vec<String>) {
    #[cfg(test)]
    DETECTED.with(|d| d.borrow_mut().push(img.dimensions()));
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
    for y in tile_starts(h) {
        for x in tile_starts(w) {
            // crop_imm clamps a tile that runs past the image's edge to it.
            let tile = image::imageops::crop_imm(img, x, y, TILE, TILE);
            detect(tile.to_image(), out);
        }
    }
}

/// Where the tiles along a side of `len` pixels start: every TILE - OVERLAP pixels,
/// until a tile reaches the end.
fn tile_starts(len: u32) -> Vec<u32> {
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

/// Most times a part of a region is split again; what is still in parts then is read
/// whole.
const MAX_DEPTH: u32 = 6;

/// Splits a clean render or flatbed scan along its blank bands (page gutters,
/// margins, quiet zones) until each QR code stands alone, so the detector sees one
/// symbol at a time. A photo has no perfectly uniform bands and stays whole, as does
/// a region still in parts at the greatest depth.
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
    if depth >= MAX_DEPTH || cells.len() <= 1 {
        let cell = if cells.len() == 1 { cells[0] } else { r };
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    /// The sizes of the images the detector ran on since the last call, on this thread.
    fn detections() -> Vec<(u32, u32)> {
        DETECTED.with(|d| d.take())
    }

    /// Draws `payload`'s symbol black on the image, `scale` pixels a module, its top
    /// left corner at (x, y); returns its side in pixels.
    pub(crate) fn draw(img: &mut GrayImage, payload: &str, (x, y): (u32, u32), scale: u32) -> u32 {
        let (w, dark) = qr::symbol(payload).unwrap();
        for (i, _) in dark.iter().enumerate().filter(|(_, &d)| d) {
            let (mx, my) = ((i % w) as u32 * scale, (i / w) as u32 * scale);
            for dy in 0..scale {
                for dx in 0..scale {
                    img.put_pixel(x + mx + dx, y + my + dy, Luma([0]));
                }
            }
        }
        w as u32 * scale
    }

    /// The QR payloads of `n` parts of made-up envelope bytes.
    fn parts(n: usize) -> Vec<String> {
        let bytes: Vec<u8> = (0..qr::BYTES_PER_PART * n)
            .map(|i| (i * 31) as u8)
            .collect();
        let parts = qr::encode_parts(&bytes).unwrap();
        assert_eq!(parts.len(), n);
        parts
    }

    pub(crate) fn white(w: u32, h: u32) -> GrayImage {
        GrayImage::from_pixel(w, h, Luma([255]))
    }

    #[test]
    fn tiles_start_a_tile_less_its_overlap_apart_until_one_reaches_the_end() {
        assert_eq!(tile_starts(1), [0]);
        assert_eq!(tile_starts(TILE), [0]);
        assert_eq!(tile_starts(TILE + 1), [0, 1200]);
        assert_eq!(tile_starts(3000), [0, 1200]);
        assert_eq!(tile_starts(3001), [0, 1200, 2400]);
    }

    #[test]
    fn runs_are_split_by_blank_bands_of_at_least_min_gap_lines() {
        // Content 3..8, 10 blank lines, content 18..20, 9 blank lines (too few to
        // split), content 29..31, 5 blank lines to the end.
        let content =
            |i: u32| (3..8).contains(&i) || (18..20).contains(&i) || (29..31).contains(&i);
        assert_eq!(runs(36, |i| !content(i)), [(3, 8), (18, 31)]);
        // Content to the last line; no content; no blank line.
        assert_eq!(runs(12, |i| i < 2), [(2, 12)]);
        assert_eq!(runs(40, |_| true), []);
        assert_eq!(runs(7, |_| false), [(0, 7)]);
    }

    #[test]
    fn segments_are_the_blocks_between_blank_bands_less_the_too_small() {
        let mut img = white(400, 300);
        checker(&mut img, (20, 20, 100, 100));
        checker(&mut img, (200, 20, 100, 80));
        checker(&mut img, (20, 200, 70, 70));
        // Narrower than a version-1 symbol at three pixels a module: left out.
        checker(&mut img, (300, 250, 30, 30));
        let mut out = Vec::new();
        segment(&img, (0, 0, 400, 300), 0, &mut out);
        assert_eq!(
            out,
            [(20, 20, 100, 100), (200, 20, 100, 80), (20, 200, 70, 70)]
        );
        // A region that is one block is itself; one too narrow, nothing.
        let mut out = Vec::new();
        segment(&img, (20, 20, 100, 100), 0, &mut out);
        assert_eq!(out, [(20, 20, 100, 100)]);
        let mut narrow = white(200, 200);
        checker(&mut narrow, (50, 20, 30, 150));
        let mut out = Vec::new();
        segment(&narrow, (0, 0, 200, 200), 0, &mut out);
        assert_eq!(out, []);
    }

    /// Fills a region with a fine checkerboard: no line across it holds a single grey.
    fn checker(img: &mut GrayImage, (x, y, w, h): Region) {
        for py in y..y + h {
            for px in x..x + w {
                img.put_pixel(px, py, Luma([if (px + py) % 2 == 0 { 0 } else { 255 }]));
            }
        }
    }

    /// Draws a figure that needs `level` splits inside a part to take apart: the figure
    /// one level down, a wide block under it and a tall block beside both. Returns its
    /// size; `blocks` gets every block drawn.
    fn nested(
        img: &mut GrayImage,
        (x, y): (u32, u32),
        level: u32,
        blocks: &mut Vec<Region>,
    ) -> (u32, u32) {
        let (w, h) = if level == 0 {
            (0, 0)
        } else {
            nested(img, (x, y), level - 1, blocks)
        };
        let new = if level == 0 {
            vec![(x, y, 60, 60)]
        } else {
            vec![(x, y + h + 20, w, 60), (x + w + 20, y, 60, h + 80)]
        };
        for b in new {
            checker(img, b);
            blocks.push(b);
        }
        if level == 0 {
            (60, 60)
        } else {
            (w + 80, h + 80)
        }
    }

    #[test]
    fn splitting_stops_at_the_greatest_depth_and_keeps_the_rest_whole() {
        let mut img = white(800, 800);
        let mut blocks = Vec::new();
        assert_eq!(
            nested(&mut img, (40, 40), MAX_DEPTH + 2, &mut blocks),
            (700, 700)
        );
        let mut out = Vec::new();
        segment(&img, (0, 0, 800, 800), 0, &mut out);
        let inside = |r: &Region, b: &Region| {
            b.0 >= r.0 && b.1 >= r.1 && b.0 + b.2 <= r.0 + r.2 && b.1 + b.3 <= r.1 + r.3
        };
        let held: Vec<usize> = out
            .iter()
            .map(|r| blocks.iter().filter(|b| inside(r, b)).count())
            .collect();
        // Every block is in a region. Down to the greatest depth the blocks stand
        // alone, a region each; what is left there, six blocks, stays one region.
        assert_eq!(held.iter().sum::<usize>(), blocks.len());
        let mut want = vec![6];
        want.extend([1; 11]);
        assert_eq!(held, want);
    }

    #[test]
    fn binarising_splits_the_histogram_between_its_populations() {
        let image_of =
            |vals: &[u8]| GrayImage::from_raw(vals.len() as u32, 1, vals.to_vec()).unwrap();
        // Populations of grey levels, as (level, pixels), and the last level made
        // black. The threshold follows the image, not the middle of the scale, and a
        // middle population goes to whichever side gives the larger between-class
        // variance.
        let cases: [(&[(u8, usize)], u8); 4] = [
            (&[(150, 60), (200, 60)], 150),
            (&[(160, 60), (200, 30), (250, 60)], 200),
            (&[(160, 60), (215, 30), (250, 60)], 160),
            // A small population far below the rest does not draw the threshold to it.
            (&[(100, 10), (200, 100), (250, 100)], 200),
        ];
        for (pops, black_to) in cases {
            let vals: Vec<u8> = pops.iter().flat_map(|&(v, n)| vec![v; n]).collect();
            let out = binarise(&image_of(&vals)).into_raw();
            let want: Vec<u8> = vals
                .iter()
                .map(|&v| if v <= black_to { 0 } else { 255 })
                .collect();
            assert_eq!(out, want, "{pops:?}");
        }
    }

    #[test]
    fn a_clean_render_is_read_a_symbol_at_a_time_and_reading_stops_once_it_assembles() {
        let parts = parts(3);
        let mut img = white(1400, 420);
        let mut x = 40;
        for p in &parts {
            x += draw(&mut img, p, (x, 40), 3) + 40;
        }
        // A code that is not glasskeep's is read, and left to the reassembler.
        draw(&mut img, "HTTPS://EXAMPLE.ORG", (1100, 40), 2);
        detections();
        let found = payloads(&[img]);
        assert_eq!(found.len(), 4, "{found:?}");
        for p in &parts {
            assert!(found.contains(p));
        }
        assert!(found.contains(&"HTTPS://EXAMPLE.ORG".to_string()));
        // The first pass, one region at a time, is enough.
        assert_eq!(detections().len(), 4);
    }

    #[test]
    fn a_symbol_the_image_as_it_is_does_not_give_is_read_from_its_binarised_copy() {
        // A symbol whose light modules are grey (140), on white: the detector's own
        // threshold misses it in every pass over the image as it is, and one threshold
        // for the whole image restores it, in the first pass over the binarised copy.
        let part = &parts(1)[0];
        let mut img = white(400, 400);
        for y in 40..331 {
            for x in 40..331 {
                img.put_pixel(x, y, Luma([140]));
            }
        }
        draw(&mut img, part, (40, 40), 3);
        detections();
        assert_eq!(payloads(&[img]), std::slice::from_ref(part));
        let raw = [(355, 355), (710, 710), (400, 400)];
        assert_eq!(detections(), [&raw[..], &[(355, 355)]].concat());
    }

    #[test]
    fn what_does_not_assemble_is_looked_at_every_way_twice() {
        // One part of two: the codes never reassemble, so every pass runs, on the
        // image and on its binarised copy.
        let parts = parts(2);
        let mut img = white(400, 400);
        draw(&mut img, &parts[0], (40, 40), 3);
        detections();
        assert_eq!(payloads(&[img.clone()]), [parts[0].clone()]);
        // The symbol's region with a margin of PAD (291 + 2 x 32 pixels), shrunk
        // (none: the image is small), the region enlarged twice, the whole; on the
        // image, then on its binarised copy.
        let ways = [(355, 355), (710, 710), (400, 400)];
        assert_eq!(detections(), [ways, ways].concat());
        // A blank page is one region, its margin cut at the edges: looked at the same
        // ways, to find nothing. An image with no pixels is not looked at.
        assert!(payloads(&[white(400, 400)]).is_empty());
        let ways = [(400, 400), (800, 800), (400, 400)];
        assert_eq!(detections(), [ways, ways].concat());
        assert!(payloads(&[white(0, 400), white(400, 0)]).is_empty());
        assert_eq!(detections(), []);
        // Both parts, on two pages: read from the pages in turn.
        let mut second = white(400, 400);
        draw(&mut second, &parts[1], (40, 40), 3);
        let found = payloads(&[second, img]);
        assert_eq!(found, [parts[1].clone(), parts[0].clone()]);
        assert_eq!(detections(), [(355, 355), (355, 355)]);
    }

    #[test]
    fn a_photo_whose_symbol_outgrows_the_tiles_is_read_shrunk() {
        // 4000 x 1600 pixels of faint noise, as a photo has no blank band, and one
        // symbol 1455 pixels wide across the tiles' seams: wider than their overlap,
        // so no tile holds it whole, while shrunk to the tiling threshold its modules
        // stay 14 pixels.
        let part = &parts(1)[0];
        let mut img = white(4000, 1600);
        let mut state = 1u32;
        for p in img.pixels_mut() {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            p.0[0] = 230 + (state >> 28) as u8;
        }
        draw(&mut img, part, (1000, 70), 15);
        detections();
        assert_eq!(payloads(&[img]), std::slice::from_ref(part));
        // The regions pass (one region: the whole, in three tiles), then the whole
        // shrunk to the tiling threshold's area.
        assert_eq!(
            detections(),
            [(1800, 1600), (1800, 1600), (1600, 1600), (3872, 1549)]
        );
    }

    #[test]
    fn a_region_of_over_two_million_pixels_is_not_enlarged() {
        // A code that is not glasskeep's, so every pass runs: its region with the
        // margin is 1519 pixels a side, 2.3 million pixels, read as it is in the pass
        // that enlarges smaller ones.
        let mut img = white(1600, 1600);
        assert_eq!(draw(&mut img, "HTTPS://EXAMPLE.ORG", (40, 40), 15), 1455);
        assert_eq!(payloads(&[img]), ["HTTPS://EXAMPLE.ORG"]);
        let ways = [(1519, 1519), (1519, 1519), (1600, 1600)];
        assert_eq!(detections(), [ways, ways].concat());
    }

    #[test]
    fn a_large_image_is_read_in_overlapping_tiles() {
        // 3100 x 2000 pixels: above the tiling threshold, so three tiles across and
        // two down; the symbol lies whole only in the last column of tiles.
        let part = &parts(1)[0];
        let mut img = white(3100, 2000);
        draw(&mut img, part, (2700, 1500), 3);
        let mut out = Vec::new();
        detections();
        detect_tiled(&img, &mut out);
        assert_eq!(out, std::slice::from_ref(part));
        let tiles = [
            (1800, 1800),
            (1800, 1800),
            (700, 1800),
            (1800, 800),
            (1800, 800),
            (700, 800),
        ];
        assert_eq!(detections(), tiles);
        // At or below the threshold, the image is read whole.
        let mut out = Vec::new();
        detect_tiled(&white(3000, 2000), &mut out);
        assert_eq!((out.len(), detections()), (0, vec![(3000, 2000)]));
        // Nor is it shrunk: the pass that shrinks large images leaves it alone.
        detect_pass(&white(3000, 2000), Pass::Shrunk, &mut out);
        assert_eq!(detections(), []);
    }
}
