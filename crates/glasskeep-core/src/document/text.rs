//! The same blocks as plain text, for a file that any machine can show and print: the
//! words exactly as in the PDF, wrapped at 78 columns, code and tables as written.

use super::{Block, Span};

const COLUMNS: usize = 78;

fn joined(spans: &[Span]) -> String {
    spans.iter().map(|s| s.text.as_str()).collect()
}

fn wrap(text: &str, first: &str, rest: &str, out: &mut String) {
    let mut line = String::from(first);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > COLUMNS {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// `blocks` as plain text. A table is set as columns padded to their widest cell.
pub fn to_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading { level, spans } => {
                let t = joined(spans);
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&t);
                out.push('\n');
                let under = if *level == 1 { '=' } else { '-' };
                out.extend(std::iter::repeat_n(under, t.chars().count()));
                out.push_str("\n\n");
            }
            Block::Paragraph { depth, spans } => {
                let pad = "  ".repeat(*depth * 2);
                wrap(&joined(spans), &pad, &pad, &mut out);
                out.push('\n');
            }
            Block::Item {
                depth,
                marker,
                spans,
            } => {
                let pad = "  ".repeat(*depth * 2);
                let marker = if marker == "\u{2022}" { "-" } else { marker };
                let first = format!("{pad}{marker:<3} ");
                let rest = " ".repeat(first.chars().count());
                wrap(&joined(spans), &first, &rest, &mut out);
            }
            Block::Code { depth, lines } => {
                let pad = "  ".repeat(*depth * 2 + 2);
                for l in lines {
                    out.push_str(format!("{pad}{l}").trim_end());
                    out.push('\n');
                }
                out.push('\n');
            }
            Block::Table {
                depth,
                header,
                rows,
            } => {
                let pad = "  ".repeat(*depth * 2);
                let cells = |r: &[Vec<Span>]| r.iter().map(|c| joined(c)).collect::<Vec<_>>();
                let all: Vec<Vec<String>> = std::iter::once(cells(header))
                    .chain(rows.iter().map(|r| cells(r)))
                    .collect();
                let n = all.iter().map(Vec::len).max().unwrap_or(0);
                let widths: Vec<usize> = (0..n)
                    .map(|c| {
                        all.iter()
                            .filter_map(|r| r.get(c))
                            .map(|s| s.chars().count())
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                for (i, r) in all.iter().enumerate() {
                    let mut line = pad.clone();
                    for (c, w) in widths.iter().enumerate() {
                        let cell = r.get(c).map(String::as_str).unwrap_or("");
                        line.push_str(&format!("{cell:<w$}  "));
                    }
                    out.push_str(line.trim_end());
                    out.push('\n');
                    if i == 0 {
                        let total: usize = widths.iter().sum::<usize>() + 2 * n.saturating_sub(1);
                        out.push_str(&pad);
                        out.extend(std::iter::repeat_n('-', total));
                        out.push('\n');
                    }
                }
                out.push('\n');
            }
            Block::PageBreak => out.push('\u{c}'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::markdown::parse;

    #[test]
    fn text_keeps_every_word_and_lines_stay_short() {
        let md = "# Live sets\n\nA paragraph that is long enough to wrap once it passes the seventy-eighth column of the page, as this one does.\n\n1. first\n- bullet\n\n```\ncode  kept\n```\n\n| label | fingerprint |\n|---|---|\n| aws-root | 0123 4567 |\n";
        let t = to_text(&parse(md));
        assert!(t.starts_with("Live sets\n=========\n"), "{t}");
        assert!(t.lines().all(|l| l.chars().count() <= COLUMNS), "{t}");
        assert!(t.contains("1.  first\n-   bullet\n"), "{t}");
        assert!(t.contains("    code  kept\n"), "{t}");
        assert!(t.contains("label     fingerprint\n---"), "{t}");
        assert!(t.contains("aws-root  0123 4567\n"), "{t}");
    }
}
