//! What an envelope page says, and where: one page model for PDF, PNG and SVG.
//!
//! Order on paper: the facts a custodian checks (who, what, which share, the
//! fingerprint), the opening instructions, the bag and witness lines, then every QR
//! code (nine to a page), then the typed-text fallback in two columns. Every page
//! repeats the label, custodian, share number, fingerprint and page number, and a
//! training envelope carries a TRAINING banner at the top and bottom of every page.

use std::time::{Duration, UNIX_EPOCH};

use super::{advance, Face, Item, Page, Paper, RenderError};
use crate::envelope::format::{Envelope, Fingerprint};
use crate::envelope::qr;
use crate::envelope::text;

/// The content of an envelope's printout, independent of the output format.
pub(crate) struct Sheet {
    pub training: bool,
    pub fingerprint: Fingerprint,
    pub share_line: String,
    pub facts: Vec<(&'static str, String)>,
    pub header: String,
    pub instructions: Vec<String>,
    pub qr_parts: Vec<String>,
    pub text_lines: Vec<String>,
}

pub(crate) const TITLE: &str = "GLASSKEEP BREAK-GLASS ENVELOPE";
pub(crate) const TRAINING_BANNER: &str = "TRAINING — NOT A REAL CREDENTIAL";
/// Where the recovery kit is kept: the same sentence on every envelope.
pub(crate) const RECOVERY_KIT: &str =
    "Recovery kit: in the safe beside this envelope (RECOVERY.pdf, recover.py, live-sets sheet).";
pub(crate) const BAG_LINES: [&str; 4] = [
    "Tamper-evident bag number",
    "Sealed by (name, signature, date)",
    "Witness 1 (name, signature, date)",
    "Witness 2 (name, signature, date)",
];

fn created_text(unix: u64) -> String {
    match UNIX_EPOCH.checked_add(Duration::from_secs(unix)) {
        Some(t) => {
            // humantime prints 2026-11-24T15:26:08Z; the paper spells it out.
            let s = humantime::format_rfc3339_seconds(t).to_string();
            format!("{} UTC", s.trim_end_matches('Z').replacen('T', " ", 1))
        }
        None => format!("unix time {unix}"),
    }
}

/// A name cut to fit the one-line header of continuation pages (the first page
/// prints it whole).
fn clip(s: &str) -> String {
    const MAX: usize = 20;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(MAX - 3).collect();
        c.push_str("...");
        c
    }
}

impl Sheet {
    pub(crate) fn new(e: &Envelope) -> Result<Self, RenderError> {
        let encoded = e.encode()?;
        let fingerprint = Fingerprint::of_bytes(&encoded);
        let qr_parts = qr::encode_parts(&encoded)?;
        let text_lines = text::encode_lines(&encoded);
        let share_line = format!(
            "Share {} of {} — any {} open it",
            e.index, e.count, e.threshold
        );
        let facts = vec![
            ("Organisation", e.organisation.clone()),
            ("Label", e.label.clone()),
            ("Custodian", e.custodian.clone()),
            (
                "YubiKey serial",
                match e.seal_slot {
                    Some(s) => format!("{} (seal key: PIV slot {:02x})", e.serial, s.id()),
                    None => e.serial.to_string(),
                },
            ),
            ("Set id", e.set_id.to_hex()),
            ("Created", created_text(e.created)),
        ];
        let header = format!(
            "{} | {} | share {} of {} | {}",
            clip(&e.label),
            clip(&e.custodian),
            e.index,
            e.count,
            fingerprint.short()
        );
        let instructions = vec![
            format!(
                "1. Opening needs {} custodians, each with their own envelope and YubiKey (PIN + touch).",
                e.threshold
            ),
            "2. Compare the fingerprint above with the ceremony log before use; refuse a mismatch.".into(),
            format!(
                "3. With glasskeep: scan this page (all {} QR code{}) and run: glasskeep open --label {} --envelope FILE",
                qr_parts.len(),
                if qr_parts.len() == 1 { "" } else { "s" },
                e.label
            ),
            match e.seal_slot {
                // age-plugin-yubikey numbers the retired slots 82..95 as 1..20.
                Some(s) => format!(
                    "4. Without glasskeep: RECOVERY.pdf; this key is age-plugin-yubikey --identity --serial {} --slot {}",
                    e.serial,
                    s.id() - 0x81
                ),
                None => "4. Without glasskeep: follow RECOVERY.pdf (any QR reader, age, age-plugin-yubikey, python3).".into(),
            },
            format!("   {RECOVERY_KIT}"),
            "5. No QR reader? Type the text block (every line and the END line) into glasskeep.".into(),
            "6. Keep this envelope sealed in its bag; report any damaged or opened bag at once.".into(),
        ];
        Ok(Sheet {
            training: e.training,
            fingerprint,
            share_line,
            facts,
            header,
            instructions,
            qr_parts,
            text_lines,
        })
    }
}

const MARGIN: f32 = 28.0;
/// 0.6 mm per module: see the QR module docs for why.
pub(crate) const MODULE: f32 = 1.7;
const QUIET: f32 = 4.0 * MODULE;
const BANNER_H: f32 = 30.0;
const FOOTER_H: f32 = 14.0;
/// Height of the header band on every page after the first. Fixed, not derived from
/// the header's type size: the codes below it keep their place on the page when the
/// text changes. The 150 dpi scan of the largest envelope is sensitive to where a
/// module edge falls between pixels (1.7 pt is 3.54 pixels there), and a 0.3 pt shift
/// of the header once made zbarimg miss one code of 106.
const HEADER_H: f32 = 14.4;
/// Largest size of the text fallback; smaller when a line would not leave
/// [`TEXT_GUTTER`] between the columns (OCR engines read columns that nearly touch
/// as one line and merge a check symbol into the next line's number).
const TEXT_SIZE: f32 = 8.5;
const TEXT_GUTTER: f32 = 24.0;
const TEXT_LEADING: f32 = 11.0;
/// Distance between the bag and witness lines: room to write, less a quarter of one
/// instruction line each, so the recovery-kit sentence added to the instructions left
/// every code below where it was (the photo and 150 dpi scanning tests are sensitive
/// to where module edges fall).
const BAG_PITCH: f32 = 22.0 - 8.5 * 1.3 / 4.0;
/// Where the writing rule of a bag or witness line starts, right of its label.
const RULE_X: f32 = 200.0;

struct Flow {
    w: f32,
    h: f32,
    training: bool,
    header: String,
    pages: Vec<Page>,
    y: f32,
}

impl Flow {
    fn top(&self) -> f32 {
        MARGIN + if self.training { BANNER_H + 6.0 } else { 0.0 }
    }

    fn bottom(&self) -> f32 {
        self.h - MARGIN - FOOTER_H - if self.training { BANNER_H + 6.0 } else { 0.0 }
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = self.top();
        if self.pages.len() > 1 {
            let header = self.header.clone();
            self.text(MARGIN, 7.0, Face::Sans, &header);
            self.y = self.top() + HEADER_H;
        }
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > self.bottom() {
            self.new_page();
        }
    }

    fn push(&mut self, item: Item) {
        // new_page() runs before any push, so there is always a last page.
        if let Some(p) = self.pages.last_mut() {
            p.items.push(item);
        }
    }

    /// One line of text at the flow position, advancing by its size.
    fn text(&mut self, x: f32, size: f32, face: Face, s: &str) {
        self.ensure(size * 1.3);
        self.y += size;
        self.push(Item::Text {
            x,
            y: self.y,
            size,
            face,
            white: false,
            text: s.to_owned(),
        });
        self.y += size * 0.3;
    }

    /// Text wrapped at word boundaries to the usable width; a word longer than a
    /// line (a 128-byte label without spaces) is cut.
    fn para(&mut self, size: f32, face: Face, s: &str) {
        let max = (((self.w - 2.0 * MARGIN) / (size * advance())) as usize).max(8);
        let mut words: Vec<String> = Vec::new();
        for word in s.split(' ') {
            let chars: Vec<char> = word.chars().collect();
            for piece in chars.chunks(max - 4) {
                words.push(piece.iter().collect());
            }
        }
        let mut line = String::new();
        for word in words {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
                self.text(MARGIN, size, face, &line);
                line = String::from("   ");
            }
            if !line.trim().is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        self.text(MARGIN, size, face, &line);
    }
}

fn qr_modules(payload: &str) -> (usize, Vec<bool>) {
    // encode_parts keeps every payload within a version-20 level-M symbol (a unit
    // test in qr.rs proves the largest part fits), so this cannot fail.
    qr::symbol(payload).expect("a glasskeep QR part always fits a version-20 level-M symbol")
}

/// Lays the sheet out on pages of `paper`.
pub(crate) fn pages(sheet: &Sheet, paper: Paper) -> Vec<Page> {
    let (w, h) = paper.size_pt();
    let mut f = Flow {
        w,
        h,
        training: sheet.training,
        header: format!("GLASSKEEP | {}", sheet.header),
        pages: Vec::new(),
        y: 0.0,
    };
    f.new_page();

    f.text(MARGIN, 18.0, Face::SansBold, TITLE);
    f.y += 4.0;
    for (name, value) in &sheet.facts {
        let face = if *name == "Set id" {
            Face::Mono
        } else {
            Face::Sans
        };
        f.para(11.0, face, &format!("{name}: {value}"));
    }
    f.y += 4.0;
    f.text(MARGIN, 16.0, Face::SansBold, &sheet.share_line);
    f.y += 4.0;
    f.text(
        MARGIN,
        10.0,
        Face::Sans,
        "Fingerprint (check against the ceremony log):",
    );
    f.text(MARGIN, 24.0, Face::MonoBold, &sheet.fingerprint.short());
    f.text(MARGIN, 7.5, Face::Mono, &sheet.fingerprint.to_hex());
    f.y += 8.0;

    f.text(MARGIN, 11.0, Face::SansBold, "Opening this envelope");
    for line in &sheet.instructions {
        f.para(8.5, Face::Sans, line);
    }
    f.y += 8.0;
    for label in BAG_LINES {
        f.ensure(26.0);
        f.y += BAG_PITCH;
        f.push(Item::Rule {
            x: MARGIN + RULE_X,
            y: f.y,
            w: w - 2.0 * MARGIN - RULE_X,
        });
        f.push(Item::Text {
            x: MARGIN,
            y: f.y - 2.0,
            size: 8.0,
            face: Face::Sans,
            white: false,
            text: format!("{label}:"),
        });
    }
    f.y += 10.0;

    // QR codes in rows of three; each cell is the symbol plus its quiet zone.
    let k = sheet.qr_parts.len();
    f.text(
        MARGIN,
        11.0,
        Face::SansBold,
        &format!("QR codes: {k} — scan all of them, in any order"),
    );
    let mut row_y = None;
    for (i, part) in sheet.qr_parts.iter().enumerate() {
        let (width, dark) = qr_modules(part);
        let side = width as f32 * MODULE + 2.0 * QUIET;
        let col = i % 3;
        if col == 0 {
            f.ensure(side + 12.0);
            row_y = Some(f.y);
            f.y += side + 12.0;
        }
        let top = row_y.unwrap_or(f.y);
        let x = MARGIN + col as f32 * side;
        f.push(Item::Qr {
            x: x + QUIET,
            y: top + QUIET,
            module: MODULE,
            width,
            dark,
        });
        f.push(Item::Text {
            x: x + QUIET,
            y: top + side + 6.0,
            size: 8.0,
            face: Face::Sans,
            white: false,
            text: format!("part {} of {k}", i + 1),
        });
    }
    f.y += 6.0;

    // The text fallback, two columns, column-major on each page. A block that does not
    // fit below the codes starts on a page of its own: tesseract misreads many more
    // lines on a page it shares with dense QR codes, and text-only pages can be copied
    // or scanned apart from the codes.
    let rows = sheet.text_lines.len().div_ceil(2) as f32;
    if f.y + 11.0 * 1.3 + 4.0 + TEXT_LEADING * rows + 4.0 > f.bottom() {
        f.new_page();
    }
    f.ensure(60.0);
    f.text(
        MARGIN,
        11.0,
        Face::SansBold,
        "Typed-text fallback — type every line and the END line",
    );
    f.y += 4.0;
    let col_w = (w - 2.0 * MARGIN) / 2.0;
    let longest = sheet
        .text_lines
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1) as f32;
    let text_size = TEXT_SIZE.min((col_w - TEXT_GUTTER) / (longest * advance()));
    let mut rest: &[String] = &sheet.text_lines;
    while !rest.is_empty() {
        let room = ((f.bottom() - f.y) / TEXT_LEADING).floor() as usize;
        if room < 3 {
            f.new_page();
            continue;
        }
        let take = rest.len().min(room * 2);
        let per_col = take.div_ceil(2).min(room);
        for (i, line) in rest[..take].iter().enumerate() {
            let (col, row) = (i / per_col, i % per_col);
            f.push(Item::Text {
                x: MARGIN + col as f32 * col_w,
                y: f.y + TEXT_LEADING * (row as f32 + 1.0),
                size: text_size,
                face: Face::Mono,
                white: false,
                text: line.clone(),
            });
        }
        f.y += TEXT_LEADING * per_col as f32 + 4.0;
        rest = &rest[take..];
    }

    let total = f.pages.len();
    let footer_y = h - MARGIN - if sheet.training { BANNER_H + 6.0 } else { 0.0 };
    for (n, page) in f.pages.iter_mut().enumerate() {
        page.items.push(Item::Text {
            x: MARGIN,
            y: footer_y,
            size: 8.0,
            face: Face::Sans,
            white: false,
            text: format!(
                "page {} of {total} | fingerprint {}{}",
                n + 1,
                sheet.fingerprint.short(),
                if sheet.training { " | TRAINING" } else { "" }
            ),
        });
        if sheet.training {
            for y in [MARGIN, h - MARGIN - BANNER_H] {
                page.items.push(Item::Fill {
                    x: MARGIN,
                    y,
                    w: w - 2.0 * MARGIN,
                    h: BANNER_H,
                });
                page.items.push(Item::Text {
                    x: MARGIN + 12.0,
                    y: y + BANNER_H - 8.0,
                    size: 20.0,
                    face: Face::SansBold,
                    white: true,
                    text: TRAINING_BANNER.into(),
                });
            }
        }
    }
    f.pages
}
