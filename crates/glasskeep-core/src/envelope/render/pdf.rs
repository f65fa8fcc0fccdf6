//! PDF output with pdf-writer, QR modules as filled rectangles, one page object per
//! model page. Two typefaces:
//! - envelopes ([`render`]): OCR-B, embedded whole (a CID-keyed Type 0 font over the
//!   OpenType file, with a ToUnicode map so that text copied out of the PDF is the text
//!   printed), so that the typed-text fallback can be read back by OCR;
//! - ceremony sheets and printed documents ([`render_base14`]): the base-14 Helvetica
//!   and Courier faces, nothing embedded; their layout uses Helvetica's widths.

use std::collections::BTreeMap;

use ab_glyph::{Font, GlyphId};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

use super::font::{glyph, ocrb, OCRB, POSTSCRIPT_NAME};
use super::{Face, Item, Page, Paper};

const FONT: Name<'static> = Name(b"F1");

fn identity() -> SystemInfo<'static> {
    SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    }
}

/// A string as the two-byte glyph ids Identity-H expects, and the characters each
/// id stands for (collected for the ToUnicode map).
fn glyph_codes(text: &str, used: &mut BTreeMap<u16, char>) -> Vec<u8> {
    let font = ocrb();
    let mut out = Vec::with_capacity(text.len() * 2);
    for c in text.chars() {
        let (shown, GlyphId(id)) = glyph(&font, c);
        used.insert(id, shown);
        out.extend_from_slice(&id.to_be_bytes());
    }
    out
}

/// Pages in OCR-B (envelopes).
pub(crate) fn render(pages: &[Page], paper: Paper) -> Vec<u8> {
    let (w, h) = paper.size_pt();
    let mut pdf = Pdf::new();
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let type0_id = Ref::new(3);
    let cid_id = Ref::new(4);
    let descriptor_id = Ref::new(5);
    let file_id = Ref::new(6);
    let cmap_id = Ref::new(7);
    let first_page = 8;
    let page_ids: Vec<Ref> = (0..pages.len() as i32)
        .map(|i| Ref::new(first_page + 2 * i))
        .collect();

    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);

    let mut used = BTreeMap::new();
    for (page, &page_id) in pages.iter().zip(&page_ids) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut p = pdf.page(page_id);
        p.media_box(Rect::new(0.0, 0.0, w, h))
            .parent(tree_id)
            .contents(content_id);
        p.resources().fonts().pair(FONT, type0_id);
        drop(p);

        let mut c = Content::new();
        for item in &page.items {
            draw(&mut c, item, h, &mut used);
        }
        pdf.stream(content_id, &c.finish());
    }

    let font = ocrb();
    let per_unit = 1000.0 / font.units_per_em().unwrap_or(1000.0);
    let advance = font.h_advance_unscaled(font.glyph_id('0')) * per_unit;
    let (mut x0, mut y0, mut x1, mut y1) = (0f32, 0f32, 0f32, 0f32);
    for id in 0..font.glyph_count() {
        if let Some(o) = font.outline(GlyphId(id as u16)) {
            x0 = x0.min(o.bounds.min.x);
            y0 = y0.min(o.bounds.min.y);
            x1 = x1.max(o.bounds.max.x);
            y1 = y1.max(o.bounds.max.y);
        }
    }
    pdf.type0_font(type0_id)
        .base_font(Name(POSTSCRIPT_NAME))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);
    pdf.cid_font(cid_id)
        .subtype(CidFontType::Type0)
        .base_font(Name(POSTSCRIPT_NAME))
        .system_info(identity())
        .font_descriptor(descriptor_id)
        .default_width(advance);
    pdf.font_descriptor(descriptor_id)
        .name(Name(POSTSCRIPT_NAME))
        .flags(FontFlags::FIXED_PITCH | FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            x0 * per_unit,
            y0 * per_unit,
            x1 * per_unit,
            y1 * per_unit,
        ))
        .italic_angle(0.0)
        .ascent(font.ascent_unscaled() * per_unit)
        .descent(font.descent_unscaled() * per_unit)
        .cap_height(font.ascent_unscaled() * per_unit)
        .stem_v(80.0)
        .font_file3(file_id);
    pdf.stream(file_id, OCRB)
        .pair(Name(b"Subtype"), Name(b"OpenType"));
    let mut cmap = UnicodeCmap::new(Name(b"OCRB-UTF16"), identity());
    for (&id, &c) in &used {
        cmap.pair(id, c);
    }
    pdf.cmap(cmap_id, &cmap.finish());
    pdf.finish()
}

fn draw(c: &mut Content, item: &Item, h: f32, used: &mut BTreeMap<u16, char>) {
    let Item::Text {
        x,
        y,
        size,
        face,
        white,
        text,
    } = item
    else {
        return draw_shape(c, item, h);
    };
    let gray = if *white { 1.0 } else { 0.0 };
    c.set_fill_gray(gray);
    c.begin_text();
    c.set_font(FONT, *size);
    // OCR-B has one weight: bold is the outline filled and stroked.
    if matches!(face, Face::SansBold | Face::MonoBold) {
        c.set_stroke_gray(gray);
        c.set_line_width(*size * 0.04);
        c.set_text_rendering_mode(TextRenderingMode::FillStroke);
    } else {
        c.set_text_rendering_mode(TextRenderingMode::Fill);
    }
    c.next_line(*x, h - *y);
    c.show(Str(&glyph_codes(text, used)));
    c.end_text();
    c.set_fill_gray(0.0);
    c.set_stroke_gray(0.0);
}

const BASE14: [(&[u8], &[u8]); 4] = [
    (b"F1", b"Helvetica"),
    (b"F2", b"Helvetica-Bold"),
    (b"F3", b"Courier"),
    (b"F4", b"Courier-Bold"),
];

fn font_name(face: Face) -> Name<'static> {
    Name(match face {
        Face::Sans => BASE14[0].0,
        Face::SansBold => BASE14[1].0,
        Face::Mono => BASE14[2].0,
        Face::MonoBold => BASE14[3].0,
    })
}

/// One character in WinAnsiEncoding, the base-14 fonts' encoding: Latin-1 maps to
/// itself, the typographic dashes, quotes, bullet and ellipsis to their WinAnsi codes;
/// `None` for anything else.
pub(crate) fn win_ansi_char(c: char) -> Option<u8> {
    Some(match c {
        '\u{2014}' => 0x97,
        '\u{2013}' => 0x96,
        '\u{2022}' => 0x95,
        '\u{2026}' => 0x85,
        '\u{2018}' => 0x91,
        '\u{2019}' => 0x92,
        '\u{201C}' => 0x93,
        '\u{201D}' => 0x94,
        c if (c as u32) < 0x7f && c >= ' ' => c as u8,
        c if (0xa0..=0xff).contains(&(c as u32)) => c as u32 as u8,
        _ => return None,
    })
}

/// Text in WinAnsiEncoding; anything outside it becomes '?'.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| win_ansi_char(c).unwrap_or(b'?'))
        .collect()
}

/// Pages in the base-14 faces (ceremony sheets, printed documents).
pub(crate) fn render_base14(pages: &[Page], paper: Paper) -> Vec<u8> {
    let (w, h) = paper.size_pt();
    let mut pdf = Pdf::new();
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let font_ids: Vec<Ref> = (0..BASE14.len() as i32).map(|i| Ref::new(3 + i)).collect();
    let first_page = 3 + BASE14.len() as i32;
    let page_ids: Vec<Ref> = (0..pages.len() as i32)
        .map(|i| Ref::new(first_page + 2 * i))
        .collect();

    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    for ((_, base), id) in BASE14.iter().zip(&font_ids) {
        pdf.type1_font(*id)
            .base_font(Name(base))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    for (page, &page_id) in pages.iter().zip(&page_ids) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut p = pdf.page(page_id);
        p.media_box(Rect::new(0.0, 0.0, w, h))
            .parent(tree_id)
            .contents(content_id);
        {
            let mut res = p.resources();
            let mut fonts = res.fonts();
            for ((name, _), id) in BASE14.iter().zip(&font_ids) {
                fonts.pair(Name(name), *id);
            }
        }
        drop(p);

        let mut c = Content::new();
        for item in &page.items {
            draw_base14(&mut c, item, h);
        }
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

fn draw_base14(c: &mut Content, item: &Item, h: f32) {
    let Item::Text {
        x,
        y,
        size,
        face,
        white,
        text,
    } = item
    else {
        return draw_shape(c, item, h);
    };
    c.set_fill_gray(if *white { 1.0 } else { 0.0 });
    c.begin_text();
    c.set_font(font_name(*face), *size);
    c.next_line(*x, h - *y);
    c.show(Str(&win_ansi(text)));
    c.end_text();
    c.set_fill_gray(0.0);
}

/// Everything but text, the same in both typefaces.
fn draw_shape(c: &mut Content, item: &Item, h: f32) {
    match item {
        Item::Text { .. } => {}
        Item::Fill { x, y, w, h: rh } => {
            c.set_fill_gray(0.0);
            c.rect(*x, h - *y - *rh, *w, *rh);
            c.fill_nonzero();
        }
        Item::Rule { x, y, w } => {
            c.set_line_width(0.6);
            c.move_to(*x, h - *y);
            c.line_to(*x + *w, h - *y);
            c.stroke();
        }
        Item::Qr {
            x,
            y,
            module,
            width,
            dark,
        } => {
            c.set_fill_gray(0.0);
            // One rectangle per horizontal run of dark modules keeps the page small;
            // runs abut exactly, so scanners see solid modules.
            for (row, line) in dark.chunks(*width).enumerate() {
                let mut col = 0;
                while col < *width {
                    if !line[col] {
                        col += 1;
                        continue;
                    }
                    let start = col;
                    while col < *width && line[col] {
                        col += 1;
                    }
                    let top = *y + row as f32 * module;
                    c.rect(
                        *x + start as f32 * module,
                        h - top - module,
                        (col - start) as f32 * module,
                        *module,
                    );
                }
            }
            c.fill_nonzero();
        }
    }
}
