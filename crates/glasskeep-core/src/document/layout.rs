//! Blocks onto pages: greedy line filling with Helvetica's widths, a heading never
//! left alone at the foot of a page, code lines wrapped with a mark in the margin,
//! tables with wrapped cells; then the running header (title, TRAINING) and the
//! "page i of n" footer once the number of pages is known.

use crate::envelope::render::{Face, Item, Page};

use super::metrics::width;
use super::{substitute, Block, Options, Span, Style, TRAINING_BANNER};

const MARGIN: f32 = 56.0;
/// Top of the text area (the header sits above it).
const TOP: f32 = 66.0;
/// Bottom margin, holding the footer.
const BOTTOM: f32 = 56.0;
const BODY: f32 = 10.0;
const LEADING: f32 = 13.5;
const CODE: f32 = 8.5;
const CODE_LEADING: f32 = 10.5;
const CELL: f32 = 9.0;
const CELL_LEADING: f32 = 11.5;
const CELL_PAD: f32 = 4.0;
const INDENT: f32 = 20.0;

/// Text as the fonts can print it.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match substitute(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
        }
    }
    out
}

fn face(style: Style, bold: bool) -> Face {
    match (style, bold) {
        (Style::Code, false) => Face::Mono,
        (Style::Code, true) => Face::MonoBold,
        (Style::Plain, false) => Face::Sans,
        (Style::Bold, _) | (Style::Plain, true) => Face::SansBold,
    }
}

fn measure_style(style: Style, bold: bool) -> Style {
    match (style, bold) {
        (Style::Code, _) => Style::Code,
        (_, true) | (Style::Bold, _) => Style::Bold,
        _ => Style::Plain,
    }
}

/// A word: pieces of text with no space between them.
type Word = Vec<Span>;

fn words(spans: &[Span]) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut glued = false;
    for span in spans {
        let text = printable(&span.text);
        for (k, part) in text.split(' ').enumerate() {
            if k > 0 {
                glued = false;
            }
            if part.is_empty() {
                continue;
            }
            let piece = Span {
                style: span.style,
                text: part.to_owned(),
            };
            match out.last_mut() {
                Some(w) if glued => w.push(piece),
                _ => out.push(vec![piece]),
            }
            glued = true;
        }
    }
    out
}

fn word_width(w: &Word, size: f32, bold: bool) -> f32 {
    w.iter()
        .map(|p| width(&p.text, measure_style(p.style, bold), size))
        .sum()
}

/// Splits a word wider than a whole line into pieces that fit.
fn hard_break(w: Word, max: f32, size: f32, bold: bool) -> Vec<Word> {
    let mut out = Vec::new();
    let mut cur: Word = Vec::new();
    let mut used = 0.0;
    for piece in w {
        let style = measure_style(piece.style, bold);
        let mut text = String::new();
        for c in piece.text.chars() {
            let cw = width(c.encode_utf8(&mut [0; 4]), style, size);
            if used + cw > max && (used > 0.0) {
                if !text.is_empty() {
                    cur.push(Span {
                        style: piece.style,
                        text: std::mem::take(&mut text),
                    });
                }
                out.push(std::mem::take(&mut cur));
                used = 0.0;
            }
            text.push(c);
            used += cw;
        }
        if !text.is_empty() {
            cur.push(Span {
                style: piece.style,
                text,
            });
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Greedy filling: the lines of `spans` within `max` points.
fn wrap(spans: &[Span], max: f32, size: f32, bold: bool) -> Vec<Vec<Word>> {
    let space = width(" ", Style::Plain, size);
    let mut lines: Vec<Vec<Word>> = Vec::new();
    let mut line: Vec<Word> = Vec::new();
    let mut used = 0.0;
    for w in words(spans) {
        let ww = word_width(&w, size, bold);
        let pieces = if ww > max {
            hard_break(w, max, size, bold)
        } else {
            vec![w]
        };
        for w in pieces {
            let ww = word_width(&w, size, bold);
            let need = if line.is_empty() {
                ww
            } else {
                used + space + ww
            };
            if need > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                used = ww;
            } else {
                used = need;
            }
            line.push(w);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

struct Writer<'a> {
    options: &'a Options,
    pages: Vec<Page>,
    width: f32,
    height: f32,
    /// Baseline of the last line set on the current page.
    y: f32,
}

impl Writer<'_> {
    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = TOP;
    }

    fn at_top(&self) -> bool {
        self.y <= TOP
    }

    /// Starts a new page unless `need` more points fit on this one.
    fn room(&mut self, need: f32) {
        if self.y + need > self.height - BOTTOM && !self.at_top() {
            self.new_page();
        }
    }

    fn item(&mut self, item: Item) {
        if let Some(page) = self.pages.last_mut() {
            page.items.push(item);
        }
    }

    fn text(&mut self, x: f32, size: f32, face: Face, text: &str) {
        self.item(Item::Text {
            x,
            y: self.y,
            size,
            face,
            white: false,
            text: text.to_owned(),
        });
    }

    fn line_of_words(&mut self, x: f32, line: &[Word], size: f32, bold: bool) {
        let space = width(" ", Style::Plain, size);
        let mut cx = x;
        for (i, w) in line.iter().enumerate() {
            if i > 0 {
                cx += space;
            }
            for piece in w {
                self.text(cx, size, face(piece.style, bold), &piece.text);
                cx += width(&piece.text, measure_style(piece.style, bold), size);
            }
        }
    }

    fn right(&self) -> f32 {
        self.width - MARGIN
    }

    fn lines(&mut self, x: f32, spans: &[Span], size: f32, leading: f32, bold: bool) {
        for line in wrap(spans, self.right() - x, size, bold) {
            self.room(leading);
            self.y += leading;
            self.line_of_words(x, &line, size, bold);
        }
    }

    fn block(&mut self, block: &Block, next: Option<&Block>) {
        match block {
            Block::Heading { level, spans } => {
                let (size, before) = match level {
                    1 => (16.0, 12.0),
                    2 => (13.0, 12.0),
                    _ => (11.0, 8.0),
                };
                // A heading stays with at least three lines of what follows it.
                let keep = if next.is_some() { 3.0 * LEADING } else { 0.0 };
                self.room(before + size * 1.3 + keep);
                if !self.at_top() {
                    self.y += before;
                }
                self.lines(MARGIN, spans, size, size * 1.3, true);
                self.y += 3.0;
            }
            Block::Paragraph { depth, spans } => {
                let x = MARGIN + *depth as f32 * INDENT;
                self.lines(x, spans, BODY, LEADING, false);
                self.y += 4.0;
            }
            Block::Item {
                depth,
                marker,
                spans,
            } => {
                let x = MARGIN + *depth as f32 * INDENT;
                self.room(LEADING);
                let first_baseline = self.y + LEADING;
                let page = self.pages.len();
                self.lines(x + INDENT, spans, BODY, LEADING, false);
                // The marker goes beside the item's first line, on whichever page that
                // line landed.
                if let Some(p) = self.pages.get_mut(page - 1) {
                    let y = if p.items.is_empty() {
                        TOP + LEADING
                    } else {
                        first_baseline
                    };
                    let face = if marker.ends_with('.') {
                        Face::SansBold
                    } else {
                        Face::Sans
                    };
                    p.items.push(Item::Text {
                        x,
                        y,
                        size: BODY,
                        face,
                        white: false,
                        text: printable(marker),
                    });
                }
                self.y += 3.0;
            }
            Block::Code { depth, lines } => {
                let x = MARGIN + *depth as f32 * INDENT + 8.0;
                let per_line = (((self.right() - x) / (0.6 * CODE)) as usize).max(20);
                self.y += 2.0;
                for line in lines {
                    let chars: Vec<char> = printable(line).chars().collect();
                    if chars.is_empty() {
                        self.room(CODE_LEADING);
                        self.y += CODE_LEADING;
                        continue;
                    }
                    for (k, chunk) in code_chunks(&chars, per_line).into_iter().enumerate() {
                        self.room(CODE_LEADING);
                        self.y += CODE_LEADING;
                        if k > 0 {
                            // The line goes on: marked in the margin, never in the text.
                            self.text(x - 8.0, CODE, Face::Mono, "\u{bb}");
                        }
                        self.text(x, CODE, Face::Mono, &chunk);
                    }
                }
                self.y += 6.0;
            }
            Block::Table {
                depth,
                header,
                rows,
            } => self.table(*depth, header, rows),
            Block::PageBreak => {
                if !self.at_top() {
                    self.new_page();
                }
            }
        }
    }

    fn table(&mut self, depth: usize, header: &[Vec<Span>], rows: &[Vec<Vec<Span>>]) {
        let x0 = MARGIN + depth as f32 * INDENT;
        let avail = self.right() - x0;
        let n = header
            .len()
            .max(rows.iter().map(Vec::len).max().unwrap_or(0));
        if n == 0 {
            return;
        }
        let mut natural = vec![2.0 * CELL_PAD; n];
        let mut measure = |row: &[Vec<Span>], bold: bool| {
            for (c, cell) in row.iter().enumerate() {
                let w: f32 = words(cell)
                    .iter()
                    .map(|w| word_width(w, CELL, bold) + width(" ", Style::Plain, CELL))
                    .sum();
                natural[c] = natural[c].max(w + 2.0 * CELL_PAD);
            }
        };
        measure(header, true);
        for r in rows {
            measure(r, false);
        }
        let total: f32 = natural.iter().sum();
        let widths: Vec<f32> = if total <= avail {
            natural
        } else {
            let fair = avail / n as f32;
            let small: f32 = natural.iter().filter(|&&w| w <= fair).sum();
            let big: f32 = natural.iter().filter(|&&w| w > fair).sum();
            natural
                .iter()
                .map(|&w| {
                    if w <= fair {
                        w
                    } else {
                        (avail - small) * w / big
                    }
                })
                .collect()
        };
        let table_w: f32 = widths.iter().sum();
        self.room(CELL_LEADING * 3.0);
        self.y += 4.0;
        self.rule(x0, table_w);
        self.row(x0, &widths, header, true);
        self.rule(x0, table_w);
        for r in rows {
            self.row(x0, &widths, r, false);
            self.rule(x0, table_w);
        }
        self.y += 8.0;
    }

    fn rule(&mut self, x: f32, w: f32) {
        self.item(Item::Rule {
            x,
            y: self.y + 3.5,
            w,
        });
    }

    fn row(&mut self, x0: f32, widths: &[f32], cells: &[Vec<Span>], bold: bool) {
        let wrapped: Vec<Vec<Vec<Word>>> = widths
            .iter()
            .enumerate()
            .map(|(c, w)| match cells.get(c) {
                Some(cell) => wrap(cell, w - 2.0 * CELL_PAD, CELL, bold),
                None => Vec::new(),
            })
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(0).max(1);
        if self.y + height as f32 * CELL_LEADING + 4.0 > self.height - BOTTOM && !self.at_top() {
            self.new_page();
            self.y += 4.0;
        }
        let top = self.y;
        for k in 0..height {
            self.y = top + (k + 1) as f32 * CELL_LEADING;
            let mut x = x0;
            for (c, w) in widths.iter().enumerate() {
                if let Some(line) = wrapped[c].get(k) {
                    self.line_of_words(x + CELL_PAD, line, CELL, bold);
                }
                x += w;
            }
        }
        self.y = top + height as f32 * CELL_LEADING + 3.0;
    }
}

/// An over-long code line in pieces of at most `per_line` characters, broken after a
/// space when there is one in the second half of the piece, so a command's words stay
/// whole; the spaces stay with the piece they end, and nothing is lost.
fn code_chunks(chars: &[char], per_line: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = chars;
    while rest.len() > per_line {
        let cut = rest[per_line / 2..per_line]
            .iter()
            .rposition(|&c| c == ' ')
            .map_or(per_line, |i| per_line / 2 + i + 1);
        out.push(rest[..cut].iter().collect());
        rest = &rest[cut..];
    }
    out.push(rest.iter().collect());
    out
}

/// Lays `blocks` out on pages of `options.paper`, header and footer included.
pub(crate) fn pages(blocks: &[Block], options: &Options) -> Vec<Page> {
    let (width, height) = options.paper.size_pt();
    let mut w = Writer {
        options,
        pages: Vec::new(),
        width,
        height,
        y: TOP,
    };
    w.new_page();
    for (i, b) in blocks.iter().enumerate() {
        w.block(b, blocks.get(i + 1));
    }
    // A page break at the very end leaves nothing behind it.
    if w.pages.len() > 1 && w.pages.last().is_some_and(|p| p.items.is_empty()) {
        w.pages.pop();
    }
    let total = w.pages.len();
    let title = printable(&w.options.title);
    let training = w.options.training;
    for (i, page) in w.pages.iter_mut().enumerate() {
        let mut head = Vec::new();
        if training {
            head.push(Item::Text {
                x: MARGIN,
                y: 34.0,
                size: 11.0,
                face: Face::SansBold,
                white: false,
                text: TRAINING_BANNER.into(),
            });
        }
        let tw = width_of(&title, 8.0);
        head.push(Item::Text {
            x: width - MARGIN - tw,
            y: 46.0,
            size: 8.0,
            face: Face::Sans,
            white: false,
            text: title.clone(),
        });
        head.push(Item::Rule {
            x: MARGIN,
            y: 50.0,
            w: width - 2.0 * MARGIN,
        });
        let foot = format!("page {} of {total}", i + 1);
        head.push(Item::Text {
            x: width - MARGIN - width_of(&foot, 8.0),
            y: height - 30.0,
            size: 8.0,
            face: Face::Sans,
            white: false,
            text: foot,
        });
        if training {
            head.push(Item::Text {
                x: MARGIN,
                y: height - 30.0,
                size: 8.0,
                face: Face::SansBold,
                white: false,
                text: "TRAINING".into(),
            });
        }
        // The header first, so text extraction reads it before the page's body.
        head.append(&mut page.items);
        page.items = head;
    }
    w.pages
}

fn width_of(s: &str, size: f32) -> f32 {
    width(s, Style::Plain, size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::render::Paper;

    fn options() -> Options {
        Options {
            paper: Paper::A4,
            title: "test".into(),
            training: false,
        }
    }

    fn texts(page: &Page) -> Vec<(f32, f32, String)> {
        page.items
            .iter()
            .filter_map(|i| match i {
                Item::Text { x, y, text, .. } => Some((*x, *y, text.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn long_paragraphs_wrap_inside_the_margins_and_run_onto_pages() {
        let word = Span::plain("custodian ".repeat(2000));
        let pages = pages(
            &[Block::Paragraph {
                depth: 0,
                spans: vec![word],
            }],
            &options(),
        );
        assert!(pages.len() > 3, "{}", pages.len());
        let (w, h) = Paper::A4.size_pt();
        for p in &pages {
            for item in &p.items {
                if let Item::Text {
                    x, y, size, text, ..
                } = item
                {
                    assert!(*x >= MARGIN - 0.01 && *y <= h - 20.0, "{x} {y} {text}");
                    let right = x + width(text, Style::Plain, *size);
                    assert!(right <= w - MARGIN + 0.5, "{right} {text}");
                }
            }
        }
        let last = texts(pages.last().unwrap());
        assert!(last
            .iter()
            .any(|(_, _, t)| t == &format!("page {} of {}", pages.len(), pages.len())));
    }

    #[test]
    fn long_code_lines_continue_with_a_mark_and_lose_nothing() {
        let line = "x".repeat(300);
        let pages = pages(
            &[Block::Code {
                depth: 0,
                lines: vec![line.clone()],
            }],
            &options(),
        );
        let t = texts(&pages[0]);
        let code: String = t
            .iter()
            .filter(|(_, _, s)| s.starts_with('x'))
            .map(|(_, _, s)| s.as_str())
            .collect();
        assert_eq!(code, line);
        assert!(t.iter().any(|(_, _, s)| s == "\u{bb}"));
    }

    #[test]
    fn training_is_on_every_page_and_page_breaks_start_pages() {
        let mut o = options();
        o.training = true;
        let blocks = [
            Block::Paragraph {
                depth: 0,
                spans: vec![Span::plain("one")],
            },
            Block::PageBreak,
            Block::PageBreak,
            Block::Paragraph {
                depth: 0,
                spans: vec![Span::plain("two")],
            },
            Block::PageBreak,
        ];
        let pages = pages(&blocks, &o);
        assert_eq!(pages.len(), 2);
        for p in &pages {
            assert!(texts(p).iter().any(|(_, _, t)| t == TRAINING_BANNER));
        }
    }

    #[test]
    fn code_lines_break_after_a_space_when_they_can() {
        let line: Vec<char> =
            "glasskeep envelope destroyed --fingerprint 3f9a --witnesses alice,bob"
                .chars()
                .collect();
        let chunks = code_chunks(&line, 50);
        assert_eq!(
            chunks,
            [
                "glasskeep envelope destroyed --fingerprint 3f9a ",
                "--witnesses alice,bob"
            ]
        );
        let solid: Vec<char> = "x".repeat(120).chars().collect();
        assert_eq!(code_chunks(&solid, 50).concat(), "x".repeat(120));
        assert_eq!(code_chunks(&solid, 50).len(), 3);
    }

    #[test]
    fn a_word_wider_than_the_line_is_broken_not_lost() {
        let lines = wrap(&[Span::code("a".repeat(500))], 100.0, 10.0, false);
        assert!(lines.len() > 10);
        let joined: String = lines
            .iter()
            .flat_map(|l| l.iter().flat_map(|w| w.iter().map(|p| p.text.clone())))
            .collect();
        assert_eq!(joined, "a".repeat(500));
    }
}
