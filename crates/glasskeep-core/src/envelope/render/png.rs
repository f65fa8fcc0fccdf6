//! PNG output: the page model rasterised in greyscale at [`PNG_DPI`]. Several pages
//! are laid out as a grid (left to right, then down) with grey gutters: a single tall
//! strip would pass the 16k-pixel side limit common image tools (ImageMagick, hence
//! zbarimg) enforce after a dozen pages.

use ab_glyph::{point, Font, FontRef, PxScale};
use image::{GrayImage, ImageEncoder, Luma};

use super::font::{glyph, ocrb};
use super::{advance, grid_columns, Face, Item, Page, Paper, RenderError, PNG_DPI};

const GAP_PX: u32 = 16;

struct Canvas {
    img: GrayImage,
    font: FontRef<'static>,
    scale: f32,
    left: u32,
    top: u32,
}

impl Canvas {
    fn px(&self, v: f32) -> i64 {
        (v * self.scale).round() as i64
    }

    /// Fills pixels [x0, x1) x [y0, y1) of the current page, clipped to the image.
    fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, value: u8) {
        let (w, h) = (i64::from(self.img.width()), i64::from(self.img.height()));
        let (left, top) = (i64::from(self.left), i64::from(self.top));
        for y in (y0 + top).max(0)..(y1 + top).min(h) {
            for x in (x0 + left).max(0)..(x1 + left).min(w) {
                // Both coordinates were clipped to the image just above.
                self.img.put_pixel(x as u32, y as u32, Luma([value]));
            }
        }
    }

    /// Blends `value` into one pixel of the current page by `coverage` (0..=1),
    /// clipped to the image: antialiased glyph edges, as a printer's toner would be.
    fn blend(&mut self, x: i64, y: i64, value: u8, coverage: f32) {
        let (x, y) = (x + i64::from(self.left), y + i64::from(self.top));
        if x < 0 || y < 0 || x >= i64::from(self.img.width()) || y >= i64::from(self.img.height()) {
            return;
        }
        // Both coordinates were clipped to the image just above.
        let p = self.img.get_pixel_mut(x as u32, y as u32);
        let old = f32::from(p.0[0]);
        let new = old + (f32::from(value) - old) * coverage.clamp(0.0, 1.0);
        p.0[0] = new.round() as u8;
    }

    fn text(&mut self, x: f32, y: f32, size: f32, face: Face, white: bool, text: &str) {
        let font = self.font.clone();
        let em_px = size * self.scale;
        let upem = font.units_per_em().unwrap_or(1000.0);
        // PxScale counts ascent minus descent, not the em square.
        let scale = PxScale::from(em_px * font.height_unscaled() / upem);
        let value = if white { 255 } else { 0 };
        // OCR-B has one weight; bold is the same outline drawn twice, a little apart.
        let strikes: &[f32] = match face {
            Face::SansBold | Face::MonoBold => &[0.0, 0.045],
            Face::Sans | Face::Mono => &[0.0],
        };
        let step = advance() * size;
        for (i, c) in text.chars().enumerate() {
            let (_, id) = glyph(&font, c);
            for &offset in strikes {
                let gx = (x + i as f32 * step + offset * size) * self.scale;
                let g = id.with_scale_and_position(scale, point(gx, y * self.scale));
                if let Some(outline) = font.outline_glyph(g) {
                    let min = outline.px_bounds().min;
                    let (ox, oy) = (min.x.floor() as i64, min.y.floor() as i64);
                    let mut cells = Vec::new();
                    outline.draw(|px, py, cov| cells.push((px, py, cov)));
                    for (px, py, cov) in cells {
                        self.blend(ox + i64::from(px), oy + i64::from(py), value, cov);
                    }
                }
            }
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Text {
                x,
                y,
                size,
                face,
                white,
                text,
            } => self.text(*x, *y, *size, *face, *white, text),
            Item::Fill { x, y, w, h } => {
                let (x0, y0) = (self.px(*x), self.px(*y));
                let (x1, y1) = (self.px(x + w), self.px(y + h));
                self.fill(x0, y0, x1, y1, 0);
            }
            Item::Rule { x, y, w } => {
                let (x0, y0, x1) = (self.px(*x), self.px(*y), self.px(x + w));
                self.fill(x0, y0, x1, y0 + 1, 0);
            }
            Item::Qr {
                x,
                y,
                module,
                width,
                dark,
            } => {
                // Whole pixels per module (uneven modules make scanners work harder),
                // rounded down so the symbol never grows into its quiet zone; the
                // slack is split evenly around it.
                let m = (module * self.scale).floor().max(1.0) as i64;
                let slack = (self.px(module * *width as f32) - m * *width as i64) / 2;
                let (x0, y0) = (self.px(*x) + slack, self.px(*y) + slack);
                for (i, d) in dark.iter().enumerate() {
                    if *d {
                        let (r, c) = ((i / width) as i64, (i % width) as i64);
                        let (px, py) = (x0 + c * m, y0 + r * m);
                        self.fill(px, py, px + m, py + m, 0);
                    }
                }
            }
        }
    }
}

pub(crate) fn render(pages: &[Page], paper: Paper) -> Result<Vec<u8>, RenderError> {
    let scale = PNG_DPI / 72.0;
    let (w, h) = paper.size_pt();
    let (pw, ph) = ((w * scale).round() as u32, (h * scale).round() as u32);
    let n = pages.len().max(1) as u32;
    let cols = grid_columns(n as usize) as u32;
    let rows = n.div_ceil(cols);
    let (total_w, total_h) = (cols * (pw + GAP_PX) - GAP_PX, rows * (ph + GAP_PX) - GAP_PX);
    let mut c = Canvas {
        img: GrayImage::from_pixel(total_w, total_h, Luma([160])),
        font: ocrb(),
        scale,
        left: 0,
        top: 0,
    };
    for (i, page) in pages.iter().enumerate() {
        let i = i as u32;
        c.left = (i % cols) * (pw + GAP_PX);
        c.top = (i / cols) * (ph + GAP_PX);
        c.fill(0, 0, i64::from(pw), i64::from(ph), 255);
        for item in &page.items {
            c.item(item);
        }
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            c.img.as_raw(),
            total_w,
            total_h,
            image::ExtendedColorType::L8,
        )
        .map_err(|e| RenderError::Png {
            reason: e.to_string(),
        })?;
    Ok(out)
}
