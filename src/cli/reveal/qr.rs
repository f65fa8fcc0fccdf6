//! QR codes on the terminal and in a PNG: half blocks (two module rows per text row)
//! in explicit black on white, so a dark terminal theme does not invert the code.

use qrcode::{Color, EcLevel, QrCode, Version};
use zeroize::Zeroizing;

/// Light modules around the code. The standard asks for four; two are enough for phone
/// scanners when the colours are explicit, and keep a version 5 code within 41 columns.
pub const QUIET: usize = 2;
/// The largest version a notice's code may use: 37 modules, with the quiet zone 41
/// columns by 21 rows, which fits an 80×24 terminal.
pub const MAX_NOTICE_VERSION: i16 = 5;
/// Black text on a white background.
const COLOURS: &str = "\x1b[30;47m";
const RESET: &str = "\x1b[0m";

/// The first of `forms` (richest first) that fits a code of at most version
/// [`MAX_NOTICE_VERSION`], at error correction M if possible, else L; with its index.
pub fn fit_notice(forms: &[String]) -> Option<(usize, QrCode)> {
    forms.iter().enumerate().find_map(|(i, form)| {
        [EcLevel::M, EcLevel::L].into_iter().find_map(|ec| {
            let code = QrCode::with_error_correction_level(form.as_bytes(), ec).ok()?;
            match code.version() {
                Version::Normal(v) if v <= MAX_NOTICE_VERSION => Some((i, code)),
                _ => None,
            }
        })
    })
}

/// The code's modules, row by row (`true` is dark), inside a quiet zone of [`QUIET`].
/// Returns the side length and the matrix; wiped on drop, since a secret's code is the
/// secret.
pub fn modules(code: &QrCode) -> (usize, Zeroizing<Vec<bool>>) {
    let w = code.width();
    let side = w + 2 * QUIET;
    let colors = code.to_colors();
    let mut m = Zeroizing::new(vec![false; side * side]);
    for (i, c) in colors.iter().enumerate() {
        m[(i / w + QUIET) * side + i % w + QUIET] = *c == Color::Dark;
    }
    (side, m)
}

/// Appends the rendering of a `side`×`side` module matrix to `out`: one line per two
/// module rows, each wrapped in black-on-white colours and reset at its end.
pub fn half_blocks_into(out: &mut String, side: usize, m: &[bool]) {
    let at = |x: usize, y: usize| y < side && m[y * side + x];
    for y in (0..side).step_by(2) {
        out.push_str(COLOURS);
        for x in 0..side {
            out.push(match (at(x, y), at(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push_str(RESET);
        out.push('\n');
    }
}

/// A code's terminal rendering, as lines.
pub fn render(code: &QrCode) -> String {
    let (side, m) = modules(code);
    let mut out = String::new();
    half_blocks_into(&mut out, side, &m);
    out
}

/// Columns and text rows the rendering of `code` takes.
pub fn rendered_size(code: &QrCode) -> (usize, usize) {
    let side = code.width() + 2 * QUIET;
    (side, side.div_ceil(2))
}

#[cfg(feature = "card")]
/// A greyscale PNG of `code`, `scale` pixels per module, with a four-module quiet zone
/// (paper and screens have room for the standard one).
pub fn png(code: &QrCode, scale: u32) -> Result<Vec<u8>, image::ImageError> {
    let w = code.width();
    let quiet = 4;
    let side = u32::try_from(w + 2 * quiet).unwrap_or(u32::MAX / 2);
    let colors = code.to_colors();
    let px = side.saturating_mul(scale);
    let img = image::GrayImage::from_fn(px, px, |x, y| {
        let (mx, my) = ((x / scale) as usize, (y / scale) as usize);
        let dark = mx >= quiet
            && my >= quiet
            && mx - quiet < w
            && my - quiet < w
            && colors[(my - quiet) * w + mx - quiet] == Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )?;
    Ok(bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads a rendering back into its module matrix: the inverse of the half blocks.
    pub(crate) fn parse(rendered: &str) -> (usize, Vec<bool>) {
        let rows: Vec<Vec<char>> = rendered
            .lines()
            .map(|l| {
                let l = l.strip_prefix(COLOURS).expect("colour prefix");
                let l = l.strip_suffix(RESET).expect("reset suffix");
                l.chars().collect()
            })
            .collect();
        let side = rows[0].len();
        let mut m = vec![false; side * side];
        for (r, row) in rows.iter().enumerate() {
            assert_eq!(row.len(), side);
            for (x, c) in row.iter().enumerate() {
                let (top, bottom) = match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected {other:?}"),
                };
                m[2 * r * side + x] = top;
                if 2 * r + 1 < side {
                    m[(2 * r + 1) * side + x] = bottom;
                } else {
                    assert!(!bottom, "the row past the code must be light");
                }
            }
        }
        (side, m)
    }

    /// Decodes a module matrix (with its quiet zone) with an independent decoder.
    pub(crate) fn decode(side: usize, m: &[bool]) -> String {
        let inner = side - 2 * QUIET;
        for i in 0..side {
            for q in (0..QUIET).chain(side - QUIET..side) {
                assert!(!m[q * side + i] && !m[i * side + q], "quiet zone is light");
            }
        }
        let grid = rqrr::SimpleGrid::from_func(inner, |x, y| m[(y + QUIET) * side + x + QUIET]);
        rqrr::Grid::new(grid).decode().expect("decodes").1
    }

    #[test]
    fn rendering_decodes_back_to_the_payload() {
        let code = QrCode::new(b"GLASSKEEP TEST 0123456789").unwrap();
        let text = render(&code);
        let (side, m) = parse(&text);
        assert_eq!(side, code.width() + 2 * QUIET);
        assert_eq!(decode(side, &m), "GLASSKEEP TEST 0123456789");
        assert_eq!(text.lines().count(), rendered_size(&code).1);
    }

    #[test]
    fn fit_takes_the_richest_form_that_fits_version_5() {
        let long = "x".repeat(400);
        let forms = vec![long.clone(), "GLASSKEEP SHORT".to_string()];
        let (i, code) = fit_notice(&forms).unwrap();
        assert_eq!(i, 1);
        assert_eq!(code.error_correction_level(), EcLevel::M);
        assert!(fit_notice(&[long]).is_none());
        // 100 bytes fit version 5 only at level L.
        let (_, code) = fit_notice(&["y".repeat(100)]).unwrap();
        assert_eq!(code.error_correction_level(), EcLevel::L);
        assert_eq!(code.version(), Version::Normal(5));
        assert_eq!(rendered_size(&code), (41, 21));
    }

    #[cfg(feature = "card")]
    #[test]
    fn png_decodes_back_to_the_payload() {
        let code = QrCode::new(b"GLASSKEEP PNG").unwrap();
        let bytes = png(&code, 6).unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        assert_eq!(grids[0].decode().unwrap().1, "GLASSKEEP PNG");
    }
}
