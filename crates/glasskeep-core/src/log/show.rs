//! `log show`: the transcript of a custody for the postmortem, as text, Markdown or
//! JSON. The log holds no secret, so every field may be shown.

use serde::Serialize;

use crate::hex;
use crate::log::body::Body;
use crate::log::entry::Entry;

/// Output format of the transcript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Plain text, one line per entry.
    Text,
    /// A Markdown table.
    Markdown,
    /// A JSON array.
    Json,
}

/// One transcript line: who did what, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// Seq.
    pub seq: u64,
    /// Claimed time, RFC 3339 UTC.
    pub time: String,
    /// Kind name.
    pub kind: &'static str,
    /// Custodians involved.
    pub who: Vec<String>,
    /// What happened.
    pub what: String,
    /// For a checkpoint whose ceremony ran under a published plan: the plan's SHA-256,
    /// hex (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

fn list(h: &[[u8; 32]]) -> String {
    h.iter().map(short).collect::<Vec<_>>().join(", ")
}

/// A duration in whole days (and seconds left over, if any).
fn days(secs: u64) -> String {
    match (secs / 86_400, secs % 86_400) {
        (d, 0) => format!("{d} days"),
        (d, r) => format!("{d} days {r}s"),
    }
}

fn short(h: &[u8; 32]) -> String {
    hex::encode(&h[..8])
}

/// The transcript line of one entry.
pub fn line(entry: &Entry) -> Line {
    let (who, what) = match &entry.body {
        Body::Genesis {
            org,
            training,
            custody_id,
            tool_version,
            binary_sha256,
            quorum,
            term,
        } => (
            vec![],
            format!(
                "{}custody {} of {org} created by glasskeep {tool_version} (binary {}), quorum {quorum}, custodian term {}",
                if *training { "TRAINING " } else { "" },
                hex::encode(custody_id),
                short(binary_sha256),
                days(*term)
            ),
        ),
        Body::Enroll {
            record,
            firmware_risk_accepted,
        } => (
            vec![record.name.clone()],
            format!(
                "enrolled YubiKey {} (firmware {}), seal slot {}{}",
                record.serial,
                record.firmware,
                record.seal_slot,
                if *firmware_risk_accepted {
                    "; FIRMWARE RISK ACCEPTED (YSA-2024-03)"
                } else {
                    ""
                }
            ),
        ),
        Body::Seal {
            set,
            label,
            secret_kind,
            threshold,
            shares,
            custodians,
            envelopes,
            rotate_within,
            review_within,
            ..
        } => (
            custodians.clone(),
            format!(
                "sealed \"{label}\" ({}) as set {set}, {threshold} of {shares}, rotate within {}s, review within {}s; envelopes {}",
                secret_kind.name(),
                rotate_within,
                review_within,
                list(envelopes)
            ),
        ),
        Body::Open {
            set,
            reason,
            incident,
            custodians,
            envelopes,
        } => (
            custodians.clone(),
            format!(
                "OPENED set {set}: {reason}{}; envelopes {}",
                if incident.is_empty() {
                    String::new()
                } else {
                    format!(" (incident {incident})")
                },
                list(envelopes)
            ),
        ),
        Body::Drill {
            set,
            custodians,
            envelopes,
        } => (
            custodians.clone(),
            format!("drill on set {set}; envelopes {}", list(envelopes)),
        ),
        Body::ShareCheck {
            set,
            custodian,
            envelope,
        } => (
            vec![custodian.clone()],
            format!("share check on set {set}, envelope {}", short(envelope)),
        ),
        Body::Rotate { old, new } => (
            vec![],
            format!("set {old} to be superseded by set {new}, pending until its custodians acknowledge"),
        ),
        Body::Activate { set, missing } => (
            vec![],
            format!(
                "set {set} activated without the acknowledgement of {}",
                missing.join(", ")
            ),
        ),
        Body::EnvelopeDestroyed {
            envelope,
            witnesses,
        } => (
            witnesses.clone(),
            format!("envelope {} destroyed", hex::encode(envelope)),
        ),
        Body::Review {
            open_seq,
            verdict,
            notes,
        } => (
            vec![],
            format!("review of opening {open_seq}: {}: {notes}", verdict.name()),
        ),
        Body::Checkpoint {
            head,
            signatures,
            clock,
            plan,
            build,
            allowed,
        } => (
            signatures.iter().map(|s| s.custodian.clone()).collect(),
            format!(
                "checkpoint over head {}{}{}{}{}",
                hex::encode(head),
                match plan {
                    Some(p) => format!("; under plan {}", hex::encode(p)),
                    None => String::new(),
                },
                match build {
                    Some(b) => format!("; by build {}", hex::encode(b)),
                    None => String::new(),
                },
                if allowed.is_empty() {
                    String::new()
                } else {
                    format!("; with {}", allowed.flags().join(" and "))
                },
                if *clock < entry.time {
                    format!(
                        "; the machine clock was {}s behind the log",
                        entry.time - clock
                    )
                } else {
                    String::new()
                }
            ),
        ),
        Body::Retire { custodian, reason } => (
            vec![custodian.clone()],
            format!("RETIRED {custodian}: {reason}"),
        ),
    };
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(entry.time);
    Line {
        seq: entry.seq,
        time: humantime::format_rfc3339_seconds(t).to_string(),
        kind: entry.body.kind().name(),
        who,
        what,
        plan: match &entry.body {
            Body::Checkpoint { plan: Some(p), .. } => Some(hex::encode(p)),
            _ => None,
        },
    }
}

/// Text read from a file must not rewrite the reader's terminal or reorder what it
/// shows: control and bidi characters are escaped visibly (an old log, or a hostile
/// one, may hold them even though no decoder accepts them now).
fn no_controls(s: &str) -> String {
    crate::text::escape(s).into_owned()
}

/// Markdown table cells cannot hold `|` or line breaks; free text is escaped.
fn md_cell(s: &str) -> String {
    // Escape first, so the backslash of `\|` is not itself escaped.
    no_controls(&s.replace(['\n', '\r'], " ")).replace('|', "\\|")
}

/// Renders the transcript of `entries`.
pub fn render<'a>(entries: impl IntoIterator<Item = &'a Entry>, format: Format) -> String {
    let entries: Vec<&Entry> = entries.into_iter().collect();
    let training = matches!(
        entries.first().map(|e| &e.body),
        Some(Body::Genesis { training: true, .. })
    );
    let lines: Vec<Line> = entries.iter().copied().map(line).collect();
    // A training custody says so before anything else, in every format.
    let banner =
        "TRAINING custody: simulated YubiKeys only; nothing here protected a real credential";
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Transcript<'l> {
                custody: &'static str,
                entries: &'l [Line],
            }
            let t = Transcript {
                custody: if training { "TRAINING" } else { "production" },
                entries: &lines,
            };
            // Serialising plain strings and integers cannot fail.
            serde_json::to_string_pretty(&t).expect("transcript lines serialise")
        }
        Format::Text => {
            (if training {
                format!("{banner}\n")
            } else {
                String::new()
            }) + &lines
                .iter()
                .map(|l| {
                    format!(
                        "{:>6}  {}  {:<18}  {:<20}  {}\n",
                        l.seq,
                        l.time,
                        l.kind,
                        no_controls(&l.who.join(",")),
                        no_controls(&l.what)
                    )
                })
                .collect::<String>()
        }
        Format::Markdown => {
            let mut s = if training {
                format!("**{banner}**\n\n")
            } else {
                String::new()
            };
            s.push_str("| seq | time | kind | who | what |\n|---:|---|---|---|---|\n");
            for l in &lines {
                s.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    l.seq,
                    l.time,
                    l.kind,
                    md_cell(&l.who.join(", ")),
                    md_cell(&l.what)
                ));
            }
            s
        }
    }
}
