//! Character widths for setting text: Helvetica's and Helvetica-Bold's advance widths
//! (thousandths of the font size, from the fonts' published metrics) for printable
//! ASCII; Courier is 0.6 throughout. Other characters are measured as wide as an M, so
//! a line never runs past the margin.

use super::Style;

const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0..?
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // P.._
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // `..o
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // p..~
];

/// Width of `c` at size 1 in `style`.
fn advance(c: char, style: Style) -> f32 {
    let table = match style {
        Style::Code => return 0.6,
        Style::Bold => &HELVETICA_BOLD,
        Style::Plain => &HELVETICA,
    };
    match c {
        ' '..='~' => f32::from(table[c as usize - 0x20]) / 1000.0,
        // Latin-1 letters, dashes, quotes, bullets: none wider than an M.
        _ => 0.889,
    }
}

/// Width of `text` in points at `size`.
pub(crate) fn width(text: &str, style: Style, size: f32) -> f32 {
    text.chars().map(|c| advance(c, style)).sum::<f32>() * size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_font() {
        assert_eq!(HELVETICA[b'A' as usize - 0x20], 667);
        assert_eq!(HELVETICA[b'~' as usize - 0x20], 584);
        assert!((width("iiii", Style::Plain, 10.0) - 8.88).abs() < 0.01);
        assert!((width("iiii", Style::Code, 10.0) - 24.0).abs() < 0.01);
        assert_eq!(HELVETICA_BOLD[b'm' as usize - 0x20], 889);
        assert!(width("tri", Style::Bold, 10.0) > width("tri", Style::Plain, 10.0));
        // The one glyph where bold is the narrower, as the fonts have it.
        assert!(width("@", Style::Bold, 10.0) < width("@", Style::Plain, 10.0));
    }
}
