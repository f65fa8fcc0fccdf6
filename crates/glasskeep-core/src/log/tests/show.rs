//! The transcript and the verify report's renderings.

use crate::log::show::{render, Format};
use crate::log::testutil::*;
use crate::log::verify::{read_log_entries, verify, VerifyOptions};

#[test]
fn transcript_in_three_formats() {
    let b = scenario(CUSTODY);
    let entries = read_log_entries(&b.bytes()).unwrap();
    assert_eq!(entries, b.entries);
    let text = render(&entries, Format::Text);
    assert_eq!(text.lines().count(), 70);
    let open = text.lines().nth(14).unwrap();
    assert!(open.contains("2023-11-14T22:27:20Z"), "{open}");
    assert!(
        open.contains("open") && open.contains("alice,bob"),
        "{open}"
    );
    assert!(open.contains(
        "OPENED set 01010101010101010101010101010101: SSO outage round 1 (incident INC-1)"
    ));

    let md = render(&entries, Format::Markdown);
    assert!(md.starts_with("| seq | time | kind | who | what |\n"));
    assert_eq!(md.lines().count(), 72);

    let json: serde_json::Value = serde_json::from_str(&render(&entries, Format::Json)).unwrap();
    assert_eq!(json["custody"], "production");
    let rows = json["entries"].as_array().unwrap();
    assert_eq!(rows.len(), 70);
    assert_eq!(rows[6]["kind"], "checkpoint");
    assert_eq!(rows[6]["who"].as_array().unwrap().len(), 5);
    assert_eq!(rows[0]["seq"], 0);
}

#[test]
fn free_text_cannot_break_the_transcript() {
    let mut b = Builder::new(CUSTODY);
    b.enroll("alice", 1);
    b.enroll("bob", 2);
    b.seal(set(1), "root", 2, &["alice", "bob"]);
    b.push(crate::log::Body::Open {
        set: set(1),
        reason: "a | b\n| forged | row |\x1b[2J".into(),
        incident: String::new(),
        custodians: vec!["alice".into(), "bob".into()],
        envelopes: vec![envelope(set(1), 0), envelope(set(1), 1)],
    });
    let md = render(&b.entries, Format::Markdown);
    assert_eq!(md.lines().count(), 2 + 5);
    assert!(
        md.contains("a \\| b \\| forged \\| row \\|\\u{001B}[2J"),
        "{md}"
    );
    let text = render(&b.entries, Format::Text);
    assert_eq!(text.lines().count(), 5);
    assert!(!text.contains('\x1b'));
}

#[test]
fn report_as_text_and_json() {
    let b = scenario(CUSTODY);
    let ok = verify(
        &b.bytes(),
        &FakeAttestation(None),
        &VerifyOptions::default(),
    );
    let text = ok.to_string();
    assert!(!text.contains("TRAINING"), "{text}");
    assert!(text.contains("70 entries, 26 checkpoints, 52 signatures verified"));
    let verdict = text.lines().last().unwrap();
    assert!(verdict == "OK" || verdict.starts_with("OK, "), "{text}");
    let bytes = b.bytes();
    let bad = verify(
        &bytes[..bytes.len() - 1],
        &FakeAttestation(None),
        &VerifyOptions::default(),
    );
    assert!(bad.to_string().contains("FAILED at entry 69"), "{bad}");
    let json = serde_json::to_value(&bad).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["failure"]["class"], "torn-tail");
    assert_eq!(json["failure"]["seq"], 69);
    let lenient = VerifyOptions {
        lenient: true,
        ..Default::default()
    };
    let tail = verify(
        &crate::log::testutil::frame_all(&b.entries[..52]),
        &FakeAttestation(None),
        &lenient,
    );
    assert!(tail.ok);
    let json = serde_json::to_value(&tail).unwrap();
    let classes: Vec<&str> = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        classes.contains(&"policy/uncheckpointed-tail"),
        "{classes:?}"
    );
    assert!(
        tail.to_string().contains(
            "violations (warnings: --policy lenient):\n  entry 51: policy/uncheckpointed-tail"
        ),
        "{tail}"
    );
}

#[test]
fn a_training_transcript_says_so_first_in_every_format() {
    let mut b = Builder::new(CUSTODY);
    if let crate::log::Body::Genesis { training, .. } = &mut b.entries[0].body {
        *training = true;
    }
    let text = render(&b.entries, Format::Text);
    assert!(text.starts_with("TRAINING"), "{text}");
    let md = render(&b.entries, Format::Markdown);
    assert!(md.starts_with("**TRAINING"), "{md}");
    let json = render(&b.entries, Format::Json);
    assert!(
        json.trim_start()
            .starts_with("{\n  \"custody\": \"TRAINING\""),
        "{json}"
    );
}

#[test]
fn extreme_times_render() {
    let mut e = Builder::new(CUSTODY).entries.remove(0);
    e.time = 0;
    assert_eq!(crate::log::show::line(&e).time, "1970-01-01T00:00:00Z");
    e.time = crate::log::entry::MAX_TIME;
    assert_eq!(crate::log::show::line(&e).time, "9999-12-31T23:59:59Z");
}
