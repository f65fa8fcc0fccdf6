//! SVG output: one drawing, units in points, several pages laid out in a grid as in
//! the PNG output.

use std::fmt::Write;

use super::{grid_columns, Face, Item, Page, Paper};

/// Gap between stacked pages, in points.
const PAGE_GAP: f32 = 12.0;

fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '&' => "&amp;".chars().collect::<Vec<_>>(),
            '<' => "&lt;".chars().collect(),
            '>' => "&gt;".chars().collect(),
            '"' => "&quot;".chars().collect(),
            c => vec![c],
        })
        .collect()
}

pub(crate) fn render(pages: &[Page], paper: Paper) -> String {
    let (w, h) = paper.size_pt();
    let cols = grid_columns(pages.len().max(1));
    let rows = pages.len().max(1).div_ceil(cols);
    let total_w = cols as f32 * (w + PAGE_GAP) - PAGE_GAP;
    let total_h = rows as f32 * (h + PAGE_GAP) - PAGE_GAP;
    let mut s = String::new();
    // write! into a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}pt" height="{total_h}pt" viewBox="0 0 {total_w} {total_h}">"##
    );
    let _ = writeln!(
        s,
        r##"<rect width="{total_w}" height="{total_h}" fill="#888"/>"##
    );
    for (n, page) in pages.iter().enumerate() {
        let x = (n % cols) as f32 * (w + PAGE_GAP);
        let y = (n / cols) as f32 * (h + PAGE_GAP);
        let _ = writeln!(s, r##"<g transform="translate({x} {y})">"##);
        let _ = writeln!(s, r##"<rect width="{w}" height="{h}" fill="#fff"/>"##);
        for item in &page.items {
            draw(&mut s, item);
        }
        let _ = writeln!(s, "</g>");
    }
    s.push_str("</svg>\n");
    s
}

fn draw(s: &mut String, item: &Item) {
    match item {
        Item::Text {
            x,
            y,
            size,
            face,
            white,
            text,
        } => {
            let (family, weight) = match face {
                Face::Sans => ("OCR-B, OCRB, monospace", "normal"),
                Face::SansBold => ("OCR-B, OCRB, monospace", "bold"),
                Face::Mono => ("OCR-B, OCRB, monospace", "normal"),
                Face::MonoBold => ("OCR-B, OCRB, monospace", "bold"),
            };
            let fill = if *white { "#fff" } else { "#000" };
            let _ = writeln!(
                s,
                r##"<text x="{x}" y="{y}" font-family="{family}" font-weight="{weight}" font-size="{size}" fill="{fill}" xml:space="preserve">{}</text>"##,
                escape(text)
            );
        }
        Item::Fill { x, y, w, h } => {
            let _ = writeln!(
                s,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#000"/>"##
            );
        }
        Item::Rule { x, y, w } => {
            let _ = writeln!(
                s,
                r##"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="#000" stroke-width="0.6"/>"##,
                x + w
            );
        }
        Item::Qr {
            x,
            y,
            module,
            width,
            dark,
        } => {
            let _ = write!(
                s,
                r##"<path fill="#000" shape-rendering="crispEdges" transform="translate({x} {y}) scale({module})" d=""##
            );
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
                    let _ = write!(s, "M{start} {row}h{}v1h-{}z", col - start, col - start);
                }
            }
            let _ = writeln!(s, r##""/>"##);
        }
    }
}
