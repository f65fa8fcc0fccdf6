//! The Markdown subset glasskeep's printed documents are written in: `#`/`##`/`###`
//! headings, paragraphs, `-`/`*` and `1.` lists (nested by indentation, with paragraphs
//! and fenced code inside items), fenced code blocks, pipe tables, `<!-- page break -->`
//! and inline `**bold**` and `` `code` ``. Other HTML comments are dropped. Anything
//! else is kept as paragraph text, so nothing written is ever lost from the page.
//!
//! The input is the project's own documents (embedded at build time), never a file a
//! custodian hands over; still, parsing is one pass over the lines, linear in the input.

use super::{Block, Span, Style};

/// Splits inline text into runs: `**bold**` and `` `code` `` change the style; every
/// other character is kept as written. An unclosed marker is kept as literal text.
pub fn inline(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut push = |style: Style, s: &str| {
        if s.is_empty() {
            return;
        }
        match spans.last_mut() {
            Some(last) if last.style == style => last.text.push_str(s),
            _ => spans.push(Span {
                style,
                text: s.to_owned(),
            }),
        }
    };
    let mut rest = text;
    while !rest.is_empty() {
        let code = rest.find('`');
        let bold = rest.find("**");
        match (code, bold) {
            (Some(c), b) if b.is_none_or(|b| c < b) => {
                if let Some(len) = rest[c + 1..].find('`') {
                    push(Style::Plain, &rest[..c]);
                    push(Style::Code, &rest[c + 1..c + 1 + len]);
                    rest = &rest[c + 2 + len..];
                } else {
                    push(Style::Plain, rest);
                    rest = "";
                }
            }
            (_, Some(b)) => {
                if let Some(len) = rest[b + 2..].find("**") {
                    push(Style::Plain, &rest[..b]);
                    // Code inside bold keeps the code style: it is typed as written.
                    for s in inline(&rest[b + 2..b + 2 + len]) {
                        let style = if s.style == Style::Code {
                            Style::Code
                        } else {
                            Style::Bold
                        };
                        push(style, &s.text);
                    }
                    rest = &rest[b + 4 + len..];
                } else {
                    push(Style::Plain, rest);
                    rest = "";
                }
            }
            _ => {
                push(Style::Plain, rest);
                rest = "";
            }
        }
    }
    spans
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `- x`, `* x` or `12. x`: the marker and where the item's text starts.
fn list_marker(line: &str) -> Option<(String, usize)> {
    let indent = indent_of(line);
    let rest = &line[indent..];
    if let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("* ")) {
        let text_col = line.len() - r.trim_start().len();
        return Some(("\u{2022}".into(), text_col));
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) && rest[digits..].starts_with(". ") {
        let r = &rest[digits + 2..];
        let text_col = line.len() - r.trim_start().len();
        return Some((rest[..=digits].to_owned(), text_col));
    }
    None
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    if (1..=3).contains(&hashes) && line[hashes..].starts_with(' ') {
        Some((hashes as u8, line[hashes..].trim()))
    } else {
        None
    }
}

fn table_cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(|c| c.trim().to_owned()).collect()
}

fn table_row(line: &str) -> Vec<Vec<Span>> {
    table_cells(line).iter().map(|c| inline(c)).collect()
}

fn is_table_rule(line: &str) -> bool {
    let cells = table_cells(line);
    !cells.is_empty()
        && cells.iter().all(|c| {
            !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')) && c.contains('-')
        })
}

/// Parses `source` into blocks.
pub fn parse(source: &str) -> Vec<Block> {
    let lines: Vec<&str> = source.lines().collect();
    let mut blocks = Vec::new();
    // Text columns of the open list items, outermost first.
    let mut items: Vec<usize> = Vec::new();
    let mut i = 0;
    // The paragraph or item being gathered: (depth, marker, text).
    let mut open: Option<(usize, Option<String>, String)> = None;

    fn flush(blocks: &mut Vec<Block>, open: &mut Option<(usize, Option<String>, String)>) {
        if let Some((depth, marker, text)) = open.take() {
            let spans = inline(&text);
            blocks.push(match marker {
                Some(marker) => Block::Item {
                    depth,
                    marker,
                    spans,
                },
                None => Block::Paragraph { depth, spans },
            });
        }
    }
    // How many open items a line indented by `indent` sits inside.
    fn depth_at(items: &mut Vec<usize>, indent: usize) -> usize {
        while items.last().is_some_and(|&col| indent < col) {
            items.pop();
        }
        items.len()
    }

    while i < lines.len() {
        let line = lines[i].trim_end();
        let indent = indent_of(line);
        let body = line.trim_start();
        if body.is_empty() {
            flush(&mut blocks, &mut open);
            i += 1;
            continue;
        }
        if body.starts_with("<!--") {
            flush(&mut blocks, &mut open);
            let mut comment = String::new();
            while i < lines.len() {
                comment.push_str(lines[i]);
                i += 1;
                if comment.contains("-->") {
                    break;
                }
            }
            let inner = comment
                .trim()
                .trim_start_matches("<!--")
                .trim_end_matches("-->")
                .trim()
                .to_ascii_lowercase();
            if inner == "page break" {
                blocks.push(Block::PageBreak);
            }
            continue;
        }
        if body.starts_with("```") {
            flush(&mut blocks, &mut open);
            let depth = depth_at(&mut items, indent);
            let mut code = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                let l = lines[i].trim_end();
                let strip = indent_of(l).min(indent);
                code.push(l[strip..].to_owned());
                i += 1;
            }
            i += 1; // the closing fence (or the end of the text)
            blocks.push(Block::Code { depth, lines: code });
            continue;
        }
        if let Some((level, text)) = heading(body).filter(|_| indent == 0) {
            flush(&mut blocks, &mut open);
            items.clear();
            blocks.push(Block::Heading {
                level,
                spans: inline(text),
            });
            i += 1;
            continue;
        }
        if body.starts_with('|') && lines.get(i + 1).is_some_and(|l| is_table_rule(l)) {
            flush(&mut blocks, &mut open);
            let depth = depth_at(&mut items, indent);
            let header = table_row(body);
            let mut rows = Vec::new();
            i += 2;
            while i < lines.len() && lines[i].trim_start().starts_with('|') {
                rows.push(table_row(lines[i]));
                i += 1;
            }
            blocks.push(Block::Table {
                depth,
                header,
                rows,
            });
            continue;
        }
        if let Some((marker, text_col)) = list_marker(line) {
            flush(&mut blocks, &mut open);
            let depth = depth_at(&mut items, indent);
            items.push(text_col);
            open = Some((depth, Some(marker), line[text_col..].to_owned()));
            i += 1;
            continue;
        }
        match &mut open {
            // A continuation line: joined to the text being gathered.
            Some((_, _, text)) => {
                text.push(' ');
                text.push_str(body);
            }
            None => {
                let depth = depth_at(&mut items, indent);
                open = Some((depth, None, body.to_owned()));
            }
        }
        i += 1;
    }
    flush(&mut blocks, &mut open);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spans: &[Span]) -> String {
        spans.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn inline_bold_and_code() {
        let s = inline("Run `glasskeep status` and **write it down** now");
        let styles: Vec<Style> = s.iter().map(|s| s.style).collect();
        assert_eq!(
            styles,
            [
                Style::Plain,
                Style::Code,
                Style::Plain,
                Style::Bold,
                Style::Plain
            ]
        );
        assert_eq!(text(&s), "Run glasskeep status and write it down now");
        // Unclosed markers stay literal.
        assert_eq!(text(&inline("a ` b ** c")), "a ` b ** c");
        assert_eq!(inline("**`x`**")[0].style, Style::Code);
    }

    #[test]
    fn blocks_lists_code_tables_and_breaks() {
        let md = "# Title\n\nOne\nparagraph.\n\n1. First\n   continued.\n\n   ```sh\n   glasskeep status\n     indented\n   ```\n\n   Inside the item.\n2. Second\n   - nested\n\nOutside.\n\n<!-- BEGIN x -->\n<!-- page break -->\n| a | b |\n|---|:-:|\n| 1 | 2 |\n";
        let b = parse(md);
        assert!(matches!(&b[0], Block::Heading { level: 1, .. }));
        match &b[1] {
            Block::Paragraph { depth: 0, spans } => assert_eq!(text(spans), "One paragraph."),
            other => panic!("{other:?}"),
        }
        match &b[2] {
            Block::Item {
                depth: 0,
                marker,
                spans,
            } => {
                assert_eq!(marker, "1.");
                assert_eq!(text(spans), "First continued.");
            }
            other => panic!("{other:?}"),
        }
        match &b[3] {
            Block::Code { depth: 1, lines } => {
                assert_eq!(lines, &["glasskeep status", "  indented"])
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&b[4], Block::Paragraph { depth: 1, .. }));
        assert!(matches!(&b[5], Block::Item { depth: 0, .. }));
        assert!(matches!(&b[6], Block::Item { depth: 1, marker, .. } if marker == "\u{2022}"));
        assert!(matches!(&b[7], Block::Paragraph { depth: 0, .. }));
        assert!(matches!(&b[8], Block::PageBreak));
        match &b[9] {
            Block::Table { header, rows, .. } => {
                assert_eq!(header, &[vec![Span::plain("a")], vec![Span::plain("b")]]);
                assert_eq!(
                    rows,
                    &[vec![vec![Span::plain("1")], vec![Span::plain("2")]]]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(b.len(), 10);
    }

    #[test]
    fn an_unclosed_fence_keeps_its_lines() {
        let b = parse("```\nlast line");
        assert!(matches!(&b[0], Block::Code { lines, .. } if lines == &["last line"]));
        assert!(parse("").is_empty());
        // A pipe line without a rule under it is text, not a table.
        assert!(matches!(
            &parse("| just text |")[0],
            Block::Paragraph { .. }
        ));
    }
}
