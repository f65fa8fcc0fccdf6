//! Where a ceremony sheet's content goes on paper, in the envelope renderer's page
//! model (so the same PDF backend draws it).
//!
//! Order: the custody and the ceremony, the new head (hex and QR code), the entries
//! written, the live sets with their envelope fingerprints, then the signature lines.
//! Every page repeats a header (after the first), a footer with the page number and the
//! head, and for a training custody a TRAINING band at its top and bottom.

use crate::envelope::render::{Face, Item, Page, Paper};

/// Advance of one character, as a fraction of the font size, for wrapping: the sheet is
/// set in the base-14 faces, where Courier is 0.6 and Helvetica narrower, so 0.6 never
/// overflows.
const ADVANCE: f32 = 0.6;
use crate::hex;

use super::Sheet;

const MARGIN: f32 = 36.0;
const BANNER_H: f32 = 28.0;
const FOOTER_H: f32 = 16.0;
/// A QR module of 2.2 pt is 9 pixels at 300 dpi and 0.78 mm on paper: a phone or a
/// flatbed reads it easily.
const MODULE: f32 = 2.2;
const QUIET: usize = 4;
pub(crate) const TITLE: &str = "GLASSKEEP CEREMONY SHEET";
pub(crate) const TRAINING_BANNER: &str = "TRAINING — NOT A PRODUCTION CUSTODY";

struct Flow {
    w: f32,
    h: f32,
    training: bool,
    header: String,
    pages: Vec<Page>,
    y: f32,
}

impl Flow {
    fn band(&self) -> f32 {
        if self.training {
            BANNER_H + 8.0
        } else {
            0.0
        }
    }

    fn bottom(&self) -> f32 {
        self.h - MARGIN - FOOTER_H - self.band()
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = MARGIN + self.band();
        if self.pages.len() > 1 {
            let header = self.header.clone();
            self.text(MARGIN, 8.0, Face::Sans, &header);
            self.y += 6.0;
        }
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > self.bottom() {
            self.new_page();
        }
    }

    fn push(&mut self, item: Item) {
        if let Some(p) = self.pages.last_mut() {
            p.items.push(item);
        }
    }

    fn text(&mut self, x: f32, size: f32, face: Face, s: &str) {
        self.ensure(size * 1.35);
        self.y += size;
        self.push(Item::Text {
            x,
            y: self.y,
            size,
            face,
            white: false,
            text: s.to_owned(),
        });
        self.y += size * 0.35;
    }

    /// Text wrapped to the width left of `x`, continuation lines indented; words
    /// longer than a line are cut.
    fn para(&mut self, x: f32, size: f32, face: Face, s: &str) {
        let max = (((self.w - MARGIN - x) / (size * ADVANCE)) as usize).max(12);
        let mut line = String::new();
        for word in s.split(' ') {
            let chars: Vec<char> = word.chars().collect();
            for piece in chars.chunks(max - 4) {
                let piece: String = piece.iter().collect();
                if !line.trim().is_empty() && line.chars().count() + 1 + piece.chars().count() > max
                {
                    self.text(x, size, face, &line);
                    line = String::from("   ");
                }
                if !line.trim().is_empty() {
                    line.push(' ');
                }
                line.push_str(&piece);
            }
        }
        self.text(x, size, face, &line);
    }

    fn heading(&mut self, s: &str) {
        self.ensure(40.0);
        self.y += 8.0;
        self.text(MARGIN, 12.0, Face::SansBold, s);
        self.y += 2.0;
    }
}

/// The head code's QR symbol: level Q (a quarter of it may be smudged), the smallest
/// version that holds it; every character is alphanumeric.
fn head_symbol(text: &str) -> (usize, Vec<bool>) {
    use qrcode::{EcLevel, QrCode};
    match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q) {
        Ok(code) => {
            let dark = code
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect();
            (code.width(), dark)
        }
        // At most 126 alphanumeric characters: version 7 at level Q holds 122, a
        // version-40 symbol thousands; no head code is refused.
        Err(_) => (0, Vec::new()),
    }
}

pub(crate) fn pages(sheet: &Sheet, paper: Paper) -> Vec<Page> {
    let (w, h) = paper.size_pt();
    let first = sheet.entries.first().map_or(0, |e| e.seq);
    let mut f = Flow {
        w,
        h,
        training: sheet.training,
        header: format!(
            "{TITLE} | {} | entries {first} to {}",
            clip(&sheet.org),
            sheet.head.seq
        ),
        pages: Vec::new(),
        y: 0.0,
    };
    f.new_page();
    f.text(MARGIN, 18.0, Face::SansBold, TITLE);
    f.y += 4.0;
    let kind = if sheet.training {
        "TRAINING custody"
    } else {
        "production custody"
    };
    let plans = if sheet.plans.is_empty() {
        "none (the ceremony ran without a plan file)".to_owned()
    } else {
        sheet
            .plans
            .iter()
            .map(|p| hex::encode(p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let time = if sheet.time.0 == sheet.time.1 {
        sheet.time.1.clone()
    } else {
        format!("{} to {}", sheet.time.0, sheet.time.1)
    };
    let facts = [
        (
            "Custody",
            format!("{} ({kind}, quorum {})", sheet.org, sheet.quorum),
        ),
        ("Custody id", sheet.custody_id_hex()),
        ("Ceremony", sheet.ceremony.clone()),
        (
            "Entries",
            format!(
                "{first} to {} ({} written)",
                sheet.head.seq,
                sheet.entries.len()
            ),
        ),
        ("Time", time),
        ("Plan hash", plans),
    ];
    for (name, value) in facts {
        f.para(MARGIN, 10.0, Face::Sans, &format!("{name}: {value}"));
    }

    f.heading("New head of the log (the anchor of the next ceremony)");
    let head_hex = hex::encode(&sheet.head.head);
    f.text(MARGIN, 9.5, Face::MonoBold, &head_hex);
    let code = sheet.head.to_text();
    let (width, dark) = head_symbol(&code);
    let side = (width + 2 * QUIET) as f32 * MODULE;
    f.ensure(side + 30.0);
    let top = f.y + 4.0;
    f.push(Item::Qr {
        x: MARGIN + QUIET as f32 * MODULE,
        y: top + QUIET as f32 * MODULE,
        module: MODULE,
        width,
        dark,
    });
    let note_x = MARGIN + side + 12.0;
    let notes = [
        format!("Head entry: {}", sheet.head.seq),
        "Keep this sheet with the envelopes. The next ceremony asks".to_owned(),
        "for this head; an auditor checks the log against it with".to_owned(),
        "glasskeep log verify --anchor (the hex, or a scan of the code).".to_owned(),
    ];
    let mut ny = top + 14.0;
    for n in notes {
        f.push(Item::Text {
            x: note_x,
            y: ny,
            size: 9.0,
            face: Face::Sans,
            white: false,
            text: n,
        });
        ny += 13.0;
    }
    f.y = top + side;
    f.para(MARGIN, 6.5, Face::Mono, &format!("code: {code}"));

    f.heading("Entries written");
    for e in &sheet.entries {
        f.ensure(24.0);
        f.text(
            MARGIN,
            9.0,
            Face::MonoBold,
            &format!("#{:<5} {:<19} {}", e.seq, e.kind, e.time),
        );
        f.para(MARGIN + 16.0, 8.0, Face::Sans, &e.summary);
        f.y += 2.0;
    }

    f.heading("Live share sets and their envelopes");
    if sheet.sets.is_empty() {
        f.text(MARGIN, 9.0, Face::Sans, "No share set is live.");
    }
    for s in &sheet.sets {
        f.ensure(30.0);
        f.para(
            MARGIN,
            9.5,
            Face::SansBold,
            &format!(
                "{} — {} — {} of {} — set {}",
                s.label,
                s.status,
                s.threshold,
                s.envelopes.len(),
                s.set_id
            ),
        );
        for (i, who, fp) in &s.envelopes {
            f.para(
                MARGIN + 12.0,
                7.5,
                Face::Mono,
                &format!("share {i:<3} {:<20} {}", who, hex::encode(fp)),
            );
        }
        f.y += 3.0;
    }

    f.heading("Signatures of the people present");
    let mut lines: Vec<String> = sheet
        .signers
        .iter()
        .map(|s| format!("{s} (custodian, signed the checkpoint)"))
        .collect();
    lines.extend(sheet.witnesses.iter().map(|s| format!("{s} (witness)")));
    if lines.is_empty() {
        f.text(
            MARGIN,
            9.0,
            Face::Sans,
            "No custodian signed these entries and no witness was named.",
        );
    }
    for line in lines {
        f.ensure(40.0);
        f.text(MARGIN, 9.5, Face::Sans, &line);
        f.y += 22.0;
        f.push(Item::Rule {
            x: MARGIN,
            y: f.y,
            w: (w - 2.0 * MARGIN) * 0.62,
        });
        f.push(Item::Rule {
            x: MARGIN + (w - 2.0 * MARGIN) * 0.7,
            y: f.y,
            w: (w - 2.0 * MARGIN) * 0.3,
        });
        f.y += 9.0;
        f.push(Item::Text {
            x: MARGIN,
            y: f.y,
            size: 7.0,
            face: Face::Sans,
            white: false,
            text: "signature".into(),
        });
        f.push(Item::Text {
            x: MARGIN + (w - 2.0 * MARGIN) * 0.7,
            y: f.y,
            size: 7.0,
            face: Face::Sans,
            white: false,
            text: "date".into(),
        });
        f.y += 4.0;
    }

    let total = f.pages.len();
    let band = f.band();
    let footer_y = h - MARGIN - band;
    for (n, page) in f.pages.iter_mut().enumerate() {
        page.items.push(Item::Text {
            x: MARGIN,
            y: footer_y,
            size: 8.0,
            face: Face::Sans,
            white: false,
            text: format!(
                "page {} of {total} | custody {} | head entry {} {}{}",
                n + 1,
                &sheet.custody_id_hex()[..16],
                sheet.head.seq,
                &head_hex[..16],
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
                    size: 18.0,
                    face: Face::SansBold,
                    white: true,
                    text: TRAINING_BANNER.into(),
                });
            }
        }
    }
    f.pages
}

/// The organisation cut to fit the continuation pages' header.
fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(MAX - 3).collect();
        c.push_str("...");
        c
    }
}
