//! The postmortem report (`log show --format html`): one self-contained HTML file an
//! auditor can open on an offline machine and print.
//!
//! It is built only from the transcript lines (`log::show::line`) and the verification
//! report (`log::verify`), so a kind of entry added to the log appears here with its
//! transcript text, without a change in this module. The file holds no script, no
//! link, no URL and no external resource: opening it fetches nothing, and a log
//! written by someone hostile cannot make it do so (every field is escaped).

use std::fmt::Write as _;

use crate::log::show::Line;
use crate::log::{Finding, Kind, VerifyReport};

/// The text of a log field, safe inside an HTML element or a quoted attribute: control
/// and bidi characters escaped visibly first (as on a terminal), then HTML's own.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::text::escape(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A kind name as a CSS class: only `a-z`, digits and `-` survive, whatever a future
/// kind is called.
fn class_of(kind: &str) -> String {
    kind.chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect()
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#111}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.5em}\
.training{background:#c00;color:#fff;font-weight:bold;font-size:1.5em;padding:.5em;text-align:center;border:4px dashed #000}\
.ok{background:#dfd;border:2px solid #070;padding:.5em}\
.failed{background:#fdd;border:2px solid #a00;padding:.5em}\
pre{white-space:pre-wrap;font-size:.9em}\
table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #999;padding:.25em .4em;vertical-align:top;text-align:left;font-size:.9em}\
th{background:#eee}\
tr.k-open td,tr.k-retire td{background:#fff1e0}\
tr.finding td{background:#fdd}\
.late{color:#a00;font-weight:bold}.pending{color:#850}.met{color:#070}\
.unsigned{color:#a00;font-weight:bold}";

/// The page may load nothing and run nothing: no script, image, font, frame or
/// connection; only the inline style sheet above applies.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// The signers of each entry: the custodians of the first checkpoint at or after it
/// (a checkpoint covers every entry before it), `None` for entries no checkpoint
/// covers yet.
fn signers(lines: &[Line]) -> Vec<Option<&[String]>> {
    let checkpoint = Kind::Checkpoint.name();
    let mut out = vec![None; lines.len()];
    let mut current: Option<&[String]> = None;
    for (i, l) in lines.iter().enumerate().rev() {
        if l.kind == checkpoint {
            current = Some(&l.who);
        }
        out[i] = current;
    }
    out
}

/// The report, as one HTML document.
pub fn html(lines: &[Line], verify: &VerifyReport) -> String {
    let training = verify.training.unwrap_or_else(|| {
        lines
            .first()
            .is_some_and(|l| l.what.starts_with("TRAINING"))
    });
    let org = verify.org.as_deref().unwrap_or("(unknown organisation)");
    let mut h = String::new();
    // Writing to a String cannot fail: the results of write! are ignored below.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <title>{}glasskeep postmortem: {}</title><style>{STYLE}</style></head><body>\n",
        if training { "TRAINING - " } else { "" },
        esc(org)
    );
    let banner = "<p class=\"training\">TRAINING custody: simulated YubiKeys only; \
                  nothing here protected a real credential</p>\n";
    if training {
        h.push_str(banner);
    }
    let _ = writeln!(h, "<h1>Postmortem report: custody of {}</h1>", esc(org));

    // Verification first: nothing below counts for more than this box says.
    let _ = write!(
        h,
        "<h2>Verification</h2>\n<div class=\"{}\"><p><strong>{}</strong></p><pre>{}</pre></div>\n",
        if verify.ok { "ok" } else { "failed" },
        if verify.ok {
            "The log verifies: every frame, link, signature, attestation and rule."
        } else {
            "THE LOG DOES NOT VERIFY: read what follows as a claim, not a record."
        },
        // Line by line: each line's control characters are escaped, the breaks kept.
        verify
            .to_string()
            .lines()
            .map(esc)
            .collect::<Vec<_>>()
            .join("\n")
    );

    // (seq, class, detail, late): the failure, the violations, then what is pending.
    let findings: Vec<(Option<u64>, String, &str, bool)> = verify
        .failure
        .iter()
        .map(|f: &Finding| (f.seq, f.class.to_string(), f.detail.as_str(), true))
        .chain(
            verify
                .violations
                .iter()
                .map(|o| (o.seq, o.kind.to_string(), o.detail.as_str(), true)),
        )
        .chain(
            verify
                .pending
                .iter()
                .map(|o| (o.seq, o.kind.to_string(), o.detail.as_str(), false)),
        )
        .collect();
    let signed = signers(lines);
    let checkpoint = Kind::Checkpoint.name();
    let open = Kind::Open.name();
    h.push_str(
        "<h2>Timeline</h2>\n<p>Every act in order, with the custodians whose checkpoint \
         signatures cover it. Findings of the verification appear at their entry.</p>\n\
         <table><thead><tr><th>seq</th><th>time (UTC)</th><th>act</th><th>custodians</th>\
         <th>what</th><th>signed by</th></tr></thead><tbody>\n",
    );
    for (l, by) in lines.iter().zip(&signed) {
        if l.kind == checkpoint {
            continue;
        }
        let here: Vec<_> = findings.iter().filter(|f| f.0 == Some(l.seq)).collect();
        let mut what = esc(&l.what);
        for (_, class, detail, late) in &here {
            let _ = write!(
                what,
                "<br><span class=\"{}\">{}: {}</span>",
                if *late { "late" } else { "pending" },
                esc(class),
                esc(detail)
            );
        }
        if l.kind == open && here.is_empty() && verify.ok {
            what.push_str("<br><span class=\"met\">rotation deadline: met, or not yet due</span>");
        }
        let by = match by {
            Some(names) => esc(&names.join(", ")),
            None => "<span class=\"unsigned\">not yet signed</span>".to_string(),
        };
        let _ = writeln!(
            h,
            "<tr class=\"k-{}{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{what}</td><td>{by}</td></tr>",
            class_of(l.kind),
            if here.is_empty() { "" } else { " finding" },
            l.seq,
            esc(&l.time),
            esc(l.kind),
            esc(&l.who.join(", ")),
        );
    }
    h.push_str("</tbody></table>\n");

    h.push_str(
        "<h2>Checkpoints</h2>\n<table><thead><tr><th>seq</th><th>time (UTC)</th>\
         <th>signed by</th><th>what</th></tr></thead><tbody>\n",
    );
    for l in lines.iter().filter(|l| l.kind == checkpoint) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            l.seq,
            esc(&l.time),
            esc(&l.who.join(", ")),
            esc(&l.what)
        );
    }
    h.push_str("</tbody></table>\n");
    if training {
        h.push_str(banner);
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests;
