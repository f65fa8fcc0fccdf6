//! OCR-B, the typeface of every envelope page: vendored (crates/glasskeep-core/fonts,
//! public domain / unrestricted, see the README there), embedded whole in PDFs and
//! rasterised with `ab_glyph` for PNG. It is monospaced, so the layout's one advance
//! holds for every character.

use ab_glyph::{Font, FontRef, GlyphId};

/// The font file, from Debian's `fonts-ocr-b`.
pub(crate) const OCRB: &[u8] = include_bytes!("../../../fonts/OCRB.otf");

/// The PostScript name the PDF gives the embedded font.
pub(crate) const POSTSCRIPT_NAME: &[u8] = b"OCRB";

/// The parsed font.
pub(crate) fn ocrb() -> FontRef<'static> {
    // The bytes are the vendored file, fixed at build time; the unit test
    // `the_vendored_font_parses_and_covers_the_page` parses them, so this cannot fail.
    FontRef::try_from_slice(OCRB).expect("the vendored OCR-B font parses")
}

/// The glyph that shows `c`, and the character it is. OCR-B has no em dash (a hyphen
/// stands in), and a name may hold letters beyond its Latin-1: '?' marks the loss
/// visibly, as the base-14 WinAnsi encoding did before.
pub(crate) fn glyph(font: &FontRef<'_>, c: char) -> (char, GlyphId) {
    let c = match c {
        '—' | '–' => '-',
        c => c,
    };
    match font.glyph_id(c) {
        GlyphId(0) => ('?', font.glyph_id('?')),
        g => (c, g),
    }
}

/// Advance of one character as a fraction of the font size.
pub(crate) fn advance() -> f32 {
    let f = ocrb();
    f.h_advance_unscaled(f.glyph_id('0')) / f.units_per_em().unwrap_or(1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_font_parses_and_covers_the_page() {
        let f = FontRef::try_from_slice(OCRB).unwrap();
        // Every character an envelope's own text uses (names may hold others).
        for c in
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 :|-./,()'+=?_".chars()
        {
            assert_ne!(f.glyph_id(c), GlyphId(0), "{c:?}");
        }
        // Monospaced: the layout's single advance is right for every glyph.
        let a = f.h_advance_unscaled(f.glyph_id('0'));
        for c in ['W', 'i', ' ', ':', 'M'] {
            assert_eq!(f.h_advance_unscaled(f.glyph_id(c)), a, "{c:?}");
        }
        assert!((0.5..=0.75).contains(&advance()), "{}", advance());
        assert_eq!(glyph(&f, '—'), ('-', f.glyph_id('-')));
        assert_eq!(glyph(&f, '\u{4e2d}'), ('?', f.glyph_id('?')));
        // This build of OCR-B is ASCII only: accented letters show as '?' too.
        assert_eq!(glyph(&f, 'é').0, '?');
    }
}
