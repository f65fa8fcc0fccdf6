//! Plain-text output: everything on the paper except the QR codes, for printers or
//! archives that take only text.

use super::layout::{Sheet, BAG_LINES, TITLE, TRAINING_BANNER};

pub(crate) fn render(sheet: &Sheet) -> String {
    let mut out = Vec::new();
    let banner = format!("*** {TRAINING_BANNER} ***");
    if sheet.training {
        out.push(banner.clone());
        out.push(String::new());
    }
    out.push(TITLE.to_owned());
    out.push(String::new());
    for (name, value) in &sheet.facts {
        out.push(format!("{name}: {value}"));
    }
    out.push(String::new());
    out.push(sheet.share_line.to_uppercase());
    out.push(String::new());
    out.push(format!("Fingerprint: {}", sheet.fingerprint.short()));
    out.push(format!("             {}", sheet.fingerprint.to_hex()));
    out.push(String::new());
    out.push("Opening this envelope".into());
    out.extend(sheet.instructions.iter().cloned());
    out.push(String::new());
    for label in BAG_LINES {
        out.push(format!("{label}: ______________________________________"));
    }
    out.push(String::new());
    if sheet.training {
        out.push(banner.clone());
        out.push(String::new());
    }
    out.push("Typed-text fallback — type every line and the END line".into());
    out.push(String::new());
    out.extend(sheet.text_lines.iter().cloned());
    if sheet.training {
        out.push(String::new());
        out.push(banner);
    }
    out.push(String::new());
    out.join("\n")
}
