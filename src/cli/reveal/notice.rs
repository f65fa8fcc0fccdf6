//! The alarm notice of an opening and the incident notice of a refused envelope: what
//! they say, wrapped to a width, and the compact forms their QR codes carry. Pure
//! functions of the facts, so each rendering is tested byte for byte.

use glasskeep_core::text::escape;

use super::term::{char_width, str_width, MIN_WIDTH};

/// Width of the field-name column.
const KEY: usize = 12;

/// A notice: a title, named facts, what to do, and its QR payloads (richest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The headline.
    pub title: String,
    /// (name, value) pairs, values already escaped.
    pub fields: Vec<(&'static str, String)>,
    /// Paragraphs of what to do.
    pub advice: Vec<String>,
    /// What the QR code may carry, richest first; the last one always fits.
    pub qr_forms: Vec<String>,
}

/// Renders `n` with every line at most `width` columns (never less than
/// [`MIN_WIDTH`]).
pub fn render(n: &Notice, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let rule = "=".repeat(width);
    let mut out = String::new();
    out.push_str(&rule);
    out.push('\n');
    for line in wrap(&n.title, width) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&rule);
    out.push('\n');
    for (name, value) in &n.fields {
        let lines = wrap(value, width - KEY);
        for (i, line) in lines.iter().enumerate() {
            let key = if i == 0 { *name } else { "" };
            let pad = KEY - str_width(key).min(KEY);
            out.push_str(key);
            out.push_str(&" ".repeat(pad));
            out.push_str(line);
            out.push('\n');
        }
    }
    for para in &n.advice {
        out.push('\n');
        for line in wrap(para, width) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out.push_str(&rule);
    out.push('\n');
    out
}

/// Greedy word wrap to `width` columns; a word longer than a line (a hash) is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split_whitespace() {
        let w = str_width(word);
        if used > 0 && used + 1 + w <= width {
            line.push(' ');
            line.push_str(word);
            used += 1 + w;
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if w <= width {
            line.push_str(word);
            used = w;
            continue;
        }
        for c in word.chars() {
            let cw = char_width(c);
            if used + cw > width {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    if used > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// RFC 3339, UTC, to the second.
pub fn rfc3339(t: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))
        .to_string()
}

/// The custody's id as shown: its first 16 hex digits.
pub fn short_id(id: &[u8; 16]) -> String {
    glasskeep_core::hex::encode(&id[..8])
}

#[cfg(feature = "card")]
/// What an opening's alarm says.
#[derive(Debug, Clone)]
pub struct AlarmFacts {
    /// The custody's organisation.
    pub org: String,
    /// The custody's id.
    pub custody_id: [u8; 16],
    /// A training custody.
    pub training: bool,
    /// The credential's label.
    pub label: String,
    /// The custodians present, in share order.
    pub custodians: Vec<String>,
    /// Why it was opened.
    pub reason: String,
    /// Incident or ticket id; empty if none.
    pub incident: String,
    /// The open entry's claimed time.
    pub time: u64,
    /// The open entry's seq.
    pub seq: u64,
    /// The open entry's hash.
    pub entry_hash: [u8; 32],
    /// The rotation deadline.
    pub deadline: u64,
}

#[cfg(feature = "card")]
/// The alarm notice of an opening.
pub fn alarm(f: &AlarmFacts) -> Notice {
    let id = short_id(&f.custody_id);
    let hash = glasskeep_core::hex::encode(&f.entry_hash);
    let incident = if f.incident.is_empty() {
        "none given".to_string()
    } else {
        escape(&f.incident).into_owned()
    };
    let deadline = rfc3339(f.deadline);
    let training = if f.training { "TRAINING " } else { "" };
    let label = escape(&f.label).into_owned();
    let mut fields = vec![
        ("custody", format!("{} (id {id})", escape(&f.org))),
        ("credential", label.clone()),
        (
            "custodians",
            f.custodians
                .iter()
                .map(|c| escape(c).into_owned())
                .collect::<Vec<_>>()
                .join(" + "),
        ),
        ("reason", escape(&f.reason).into_owned()),
        ("incident", incident),
        ("opened at", rfc3339(f.time)),
        ("log entry", format!("{} (open)", f.seq)),
        ("entry hash", hash.clone()),
        ("rotate by", deadline.clone()),
    ];
    if f.training {
        fields.insert(
            0,
            ("TRAINING", "simulated YubiKeys; no real credential".into()),
        );
    }
    let advice = vec![
        "SEND THIS NOW to the out-of-band alarm channel the runbook names (section 4, step 4), \
         as text or as a photo of this screen or its QR code: the people watching the credential \
         must know it is exposed."
            .to_string(),
        format!(
            "Then rotate the credential before {deadline} (`glasskeep rotate --label {label}`) and have \
             a custodian who took no part review the opening (`glasskeep review --open {}`).",
            f.seq
        ),
    ];
    let upper = hash.to_ascii_uppercase();
    let short = format!(
        "GLASSKEEP {training}OPEN ID {} SEQ {} ENTRY {} ROTATE BY {deadline}",
        id.to_ascii_uppercase(),
        f.seq,
        &upper[..32]
    );
    let full = format!(
        "GLASSKEEP {training}OPEN\ncustody {} {id}\nlabel {}\nby {}\nreason {}\nincident {}\nat {}\nentry {} {hash}\nrotate by {deadline}",
        f.org,
        f.label,
        f.custodians.join(" + "),
        f.reason,
        f.incident,
        rfc3339(f.time),
        f.seq,
    );
    let with_label = format!(
        "GLASSKEEP {training}OPEN ID {} SEQ {} ENTRY {upper} ROTATE BY {deadline}\n{}",
        id.to_ascii_uppercase(),
        f.seq,
        f.label
    );
    let short_label = format!("{short}\n{}", f.label);
    Notice {
        title: format!(
            "{training}ALARM: BREAK-GLASS OPENING of {label} - the credential is exposed"
        ),
        fields,
        advice,
        qr_forms: vec![full, with_label, short_label, short],
    }
}

/// What the log says of an envelope that was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Recorded as destroyed at this entry.
    Destroyed {
        /// The destruction entry.
        seq: u64,
    },
    /// From a set that was rotated away.
    Superseded {
        /// The set's id.
        set: String,
        /// Its label.
        label: String,
    },
    /// Never recorded by this custody.
    NeverRecorded,
    /// Another credential's.
    OtherCredential {
        /// Its label.
        label: String,
        /// The label being opened.
        wanted: String,
    },
    /// Anything else, as the ceremony said it.
    Other(String),
}

/// What an incident notice says.
#[derive(Debug, Clone)]
pub struct IncidentFacts {
    /// (organisation, id) of the custody, when its log could be read.
    pub custody: Option<(String, [u8; 16])>,
    /// The envelope's full fingerprint (hex), when the incident names one.
    pub fingerprint: Option<String>,
    /// What the log says.
    pub finding: Finding,
    /// When it was refused (this machine's clock).
    pub time: u64,
}

/// The incident notice of a refused envelope.
pub fn incident(f: &IncidentFacts) -> Notice {
    let (custody, id) = match &f.custody {
        Some((org, id)) => (
            format!("{} (id {})", escape(org), short_id(id)),
            short_id(id).to_ascii_uppercase(),
        ),
        None => (
            "unknown: the folder's log could not be read".to_string(),
            "UNKNOWN".to_string(),
        ),
    };
    let (says, code) = match &f.finding {
        Finding::Destroyed { seq } => (
            format!("recorded as DESTROYED at entry {seq}, yet here it is: a copy survived"),
            format!("DESTROYED AT {seq}"),
        ),
        Finding::Superseded { set, label } => (
            format!(
                "belongs to set {} of {}, which was rotated away: it should have been destroyed",
                escape(set),
                escape(label)
            ),
            format!("SUPERSEDED SET {}", set.to_ascii_uppercase()),
        ),
        Finding::NeverRecorded => (
            "NEVER RECORDED: glasskeep did not seal it in this custody, or it was altered".into(),
            "NEVER RECORDED".into(),
        ),
        Finding::OtherCredential { label, wanted } => (
            format!(
                "belongs to {}, not to {}, the credential being opened",
                escape(label),
                escape(wanted)
            ),
            "OTHER CREDENTIAL".into(),
        ),
        Finding::Other(text) => (escape(text).into_owned(), "REFUSED".into()),
    };
    let mut fields = vec![("custody", custody)];
    if let Some(fp) = &f.fingerprint {
        fields.push(("envelope", fp.get(..16).unwrap_or(fp).to_string()));
        fields.push(("fingerprint", fp.clone()));
    }
    fields.push(("the log", says));
    fields.push(("refused at", rfc3339(f.time)));
    let advice = vec![
        "Nothing was opened and nothing was recorded. Do not use this envelope again: keep it \
         apart as evidence."
            .to_string(),
        "REPORT THIS NOW to the out-of-band alarm channel the runbook names, with this notice or \
         a photo of it, then to whoever handles security incidents; run `glasskeep log verify` \
         and `glasskeep status` for the record."
            .to_string(),
    ];
    let fp = f
        .fingerprint
        .as_deref()
        .map(str::to_ascii_uppercase)
        .unwrap_or_default();
    let at = rfc3339(f.time);
    let full = format!("GLASSKEEP INCIDENT ID {id} ENVELOPE {fp} {code} AT {at}");
    let short = format!(
        "GLASSKEEP INCIDENT ID {id} ENVELOPE {} {code} AT {at}",
        fp.get(..16).unwrap_or(&fp)
    );
    let bare = format!("GLASSKEEP INCIDENT ID {id} AT {at}");
    Notice {
        title: "INCIDENT - report this now: an envelope the log does not vouch for".into(),
        fields,
        advice,
        qr_forms: vec![full, short, bare],
    }
}

#[cfg(all(test, feature = "card"))]
mod tests {
    use super::super::qr;
    use super::*;

    pub(crate) fn facts() -> AlarmFacts {
        AlarmFacts {
            org: "Example Corp".into(),
            custody_id: [
                0x3f, 0x2a, 0x9c, 0x1d, 0x0b, 0x7e, 0x4a, 0x55, 1, 2, 3, 4, 5, 6, 7, 8,
            ],
            training: false,
            label: "aws-root".into(),
            custodians: vec!["carol".into(), "alice".into()],
            reason: "SSO outage: the identity provider is down and nobody can reach the console"
                .into(),
            incident: "INC-7".into(),
            time: 1_764_417_600,
            seq: 12,
            entry_hash: core::array::from_fn(|i| (i as u8).wrapping_mul(37)),
            deadline: 1_764_504_000,
        }
    }

    #[test]
    fn alarm_notice_at_80_columns_is_the_golden_text() {
        let text = render(&alarm(&facts()), 80);
        assert_eq!(text, include_str!("testdata/alarm-80.txt"));
    }

    #[test]
    fn every_line_fits_the_width() {
        let mut long = facts();
        long.reason = "r".repeat(300) + " and a few more words " + &"東京".repeat(40);
        long.org = "Ö".repeat(120);
        long.custodians = (0..10).map(|i| format!("custodian-{i}")).collect();
        let incident = incident(&IncidentFacts {
            custody: Some(("Example Corp".into(), [7; 16])),
            fingerprint: Some("ab".repeat(32)),
            finding: Finding::Superseded {
                set: "0123456789abcdef".into(),
                label: "aws-root".into(),
            },
            time: 1_764_417_600,
        });
        for n in [alarm(&facts()), alarm(&long), incident] {
            for width in [80, 40, 20] {
                let text = render(&n, width);
                for line in text.lines() {
                    assert!(str_width(line) <= width, "{width}: {line:?}");
                }
                // Nothing is lost: every word is still there.
                let flat: String = text.split_whitespace().collect();
                for (_, v) in &n.fields {
                    let v: String = v.split_whitespace().collect();
                    assert!(flat.contains(&v), "{width}: {v}");
                }
            }
        }
    }

    #[test]
    fn hostile_text_is_escaped_in_the_notice() {
        let mut f = facts();
        f.reason = "ok\u{1b}[2J\u{202E}".into();
        f.label = "x\ny".into();
        let text = render(&alarm(&f), 80);
        assert!(!text
            .chars()
            .any(|c| c != '\n' && glasskeep_core::text::forbidden(c)));
        assert!(text.contains("ok\\u{001B}[2J\\u{202E}"), "{text}");
    }

    #[test]
    fn alarm_qr_fits_41_by_21_and_decodes_to_a_form_with_the_entry() {
        let mut long = facts();
        long.reason = "a long reason ".repeat(30);
        long.label = "a-label-of-sixty-four-characters-".repeat(2);
        for (f, want) in [(facts(), 2), (long, 3)] {
            let n = alarm(&f);
            let (i, code) = qr::fit_notice(&n.qr_forms).unwrap();
            assert_eq!(i, want);
            let text = qr::render(&code);
            let (cols, rows) = qr::rendered_size(&code);
            assert!(cols <= 41 && rows <= 21, "{cols}x{rows}");
            assert_eq!(text.lines().count(), rows);
            let (side, m) = qr::tests::parse(&text);
            let decoded = qr::tests::decode(side, &m);
            assert_eq!(decoded, n.qr_forms[i]);
            assert!(
                decoded
                    .contains("ID 3F2A9C1D0B7E4A55 SEQ 12 ENTRY 00254A6F94B9DE03284D7297BCE1062B "),
                "{decoded}"
            );
            assert!(
                decoded.contains("ROTATE BY 2025-11-30T12:00:00Z"),
                "{decoded}"
            );
        }
    }

    #[test]
    fn incident_notice_says_what_the_log_says() {
        let base = IncidentFacts {
            custody: Some(("Example Corp".into(), facts().custody_id)),
            fingerprint: Some("c0ffee".repeat(10) + "c0ff"),
            finding: Finding::Destroyed { seq: 9 },
            time: 1_764_417_600,
        };
        let text = render(&incident(&base), 80);
        assert!(text.contains("INCIDENT - report this now"), "{text}");
        assert!(
            text.contains("Example Corp (id 3f2a9c1d0b7e4a55)"),
            "{text}"
        );
        assert!(text.contains("envelope    c0ffeec0ffeec0ff\n"), "{text}");
        assert!(text.contains("recorded as DESTROYED at entry 9"), "{text}");
        let n = incident(&base);
        let (i, code) = qr::fit_notice(&n.qr_forms).unwrap();
        assert_eq!(i, 0);
        let (side, m) = qr::tests::parse(&qr::render(&code));
        assert!(qr::tests::decode(side, &m).contains("DESTROYED AT 9"));

        let unknown = IncidentFacts {
            custody: None,
            fingerprint: None,
            finding: Finding::NeverRecorded,
            ..base
        };
        let text = render(&incident(&unknown), 40);
        assert!(text.contains("NEVER RECORDED"), "{text}");
        assert!(text.contains("unknown: the folder's log"), "{text}");
    }

    /// Every INCIDENT notice, as the people at the safe read it at 80 columns.
    #[test]
    fn incident_notices_are_golden() {
        let fp = Some("c0ffee".repeat(10) + "c0ff");
        let custody = Some(("Example Corp".to_string(), facts().custody_id));
        let mut out = String::new();
        for finding in [
            Finding::Destroyed { seq: 9 },
            Finding::Superseded {
                set: "29ea7888bd0c61d3e42c5950167dd300".into(),
                label: "aws-root".into(),
            },
            Finding::NeverRecorded,
            Finding::OtherCredential {
                label: "gcp-root".into(),
                wanted: "aws-root".into(),
            },
            Finding::Other("bob's envelope is not what the log recorded".into()),
        ] {
            let f = IncidentFacts {
                custody: custody.clone(),
                fingerprint: fp.clone(),
                finding,
                time: 1_764_417_600,
            };
            out.push_str(&render(&incident(&f), 80));
            out.push_str("-----\n");
        }
        insta::assert_snapshot!(out);
    }
}
