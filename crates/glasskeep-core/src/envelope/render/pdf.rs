//! PDF output with pdf-writer: base-14 fonts (nothing embedded), QR modules as
//! filled rectangles, one page object per model page.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

use super::{Face, Item, Page, Paper};

const FONTS: [(&[u8], &[u8]); 4] = [
    (b"F1", b"Helvetica"),
    (b"F2", b"Helvetica-Bold"),
    (b"F3", b"Courier"),
    (b"F4", b"Courier-Bold"),
];

fn font_name(face: Face) -> Name<'static> {
    Name(match face {
        Face::Sans => FONTS[0].0,
        Face::SansBold => FONTS[1].0,
        Face::Mono => FONTS[2].0,
        Face::MonoBold => FONTS[3].0,
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

pub(crate) fn render(pages: &[Page], paper: Paper) -> Vec<u8> {
    let (w, h) = paper.size_pt();
    let mut pdf = Pdf::new();
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let font_ids: Vec<Ref> = (0..FONTS.len() as i32).map(|i| Ref::new(3 + i)).collect();
    let first_page = 3 + FONTS.len() as i32;
    let page_ids: Vec<Ref> = (0..pages.len() as i32)
        .map(|i| Ref::new(first_page + 2 * i))
        .collect();

    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    for ((_, base), id) in FONTS.iter().zip(&font_ids) {
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
            for ((name, _), id) in FONTS.iter().zip(&font_ids) {
                fonts.pair(Name(name), *id);
            }
        }
        drop(p);

        let mut c = Content::new();
        for item in &page.items {
            draw(&mut c, item, h);
        }
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

fn draw(c: &mut Content, item: &Item, h: f32) {
    match item {
        Item::Text {
            x,
            y,
            size,
            face,
            white,
            text,
        } => {
            c.set_fill_gray(if *white { 1.0 } else { 0.0 });
            c.begin_text();
            c.set_font(font_name(*face), *size);
            c.next_line(*x, h - *y);
            c.show(Str(&win_ansi(text)));
            c.end_text();
            c.set_fill_gray(0.0);
        }
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
