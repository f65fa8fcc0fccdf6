use super::*;
use crate::log::testutil::{envelope, scenario, set, FakeAttestation, CUSTODY};
use crate::log::{show, verify, Body, VerifyOptions};

fn report_of(b: &crate::log::testutil::Builder, opts: &VerifyOptions) -> String {
    let lines: Vec<Line> = b.entries.iter().map(show::line).collect();
    html(&lines, &verify(&b.bytes(), &FakeAttestation(None), opts))
}

/// Nothing in the file can fetch, run or link to anything, and a strict
/// Content-Security-Policy in the head says so to the browser as well.
fn assert_inert(h: &str) {
    let csp = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">");
    assert_eq!(h.matches(&csp).count(), 1);
    assert!(h.find(&csp) < h.find("<title>"));
    assert!(CSP.starts_with("default-src 'none';"));
    let lower = h.replacen(&csp, "", 1).to_ascii_lowercase();
    for bad in [
        "<script", "http", "url(", "src=", "href=", "<link", "<iframe", "@import",
    ] {
        assert!(!lower.contains(bad), "{bad} in the report");
    }
}

#[test]
fn the_scenario_report_is_inert_verified_and_shows_every_act_with_its_signers() {
    let b = scenario(CUSTODY);
    let h = report_of(&b, &VerifyOptions::default());
    assert_inert(&h);
    assert!(h.contains("class=\"ok\""));
    assert!(h.contains("The log verifies"));
    assert!(!h.contains("TRAINING"));
    // The verification report keeps its lines: breaks are not escaped as characters.
    assert!(
        !h.contains("\\u{000A}"),
        "escaped line breaks in the report"
    );
    // Verification comes before the timeline.
    assert!(h.find("Verification").unwrap() < h.find("Timeline").unwrap());
    for e in &b.entries {
        let row = format!("<td>{}</td>", e.seq);
        assert!(h.contains(&row), "entry {} missing", e.seq);
    }
    // The drill of round one is covered by the checkpoint alice and bob signed.
    let drill = h.lines().find(|l| l.contains("k-drill")).unwrap();
    assert!(drill.ends_with("<td>alice, bob</td></tr>"), "{drill}");
    // Destructions are signed by their witnesses' checkpoint.
    let destroyed = h
        .lines()
        .find(|l| l.contains("k-envelope-destroyed"))
        .unwrap();
    assert!(
        destroyed.ends_with("<td>dave, erin</td></tr>"),
        "{destroyed}"
    );
    assert!(h.contains("rotation deadline: met, or not yet due"));
    assert!(!h.contains("not yet signed"));
}

#[test]
fn a_missed_deadline_and_an_unsigned_tail_are_marked_at_their_entry() {
    let mut b = scenario(CUSTODY);
    let open = b.push(Body::Open {
        set: set(5),
        reason: "late one".into(),
        incident: String::new(),
        custodians: vec!["alice".into(), "bob".into()],
        envelopes: vec![envelope(set(5), 0), envelope(set(5), 1)],
    });
    let opts = VerifyOptions {
        now: Some(4_000_000_000),
        ..VerifyOptions::default()
    };
    let h = report_of(&b, &opts);
    assert_inert(&h);
    assert!(h.contains("class=\"failed\""));
    assert!(h.contains("THE LOG DOES NOT VERIFY"));
    let row = h
        .lines()
        .find(|l| l.contains(&format!("<td>{open}</td>")))
        .unwrap();
    assert!(row.contains("finding"), "{row}");
    assert!(row.contains("policy/rotation-overdue"), "{row}");
    assert!(row.contains("not yet signed"), "{row}");
    assert!(!row.contains("deadline: met"), "{row}");
}

#[test]
fn hostile_text_in_the_log_stays_text() {
    let b = scenario(CUSTODY);
    let mut lines: Vec<Line> = b.entries.iter().map(show::line).collect();
    // A log from an older build, or a hostile one, may hold what no decoder accepts now.
    let last = lines.len() - 1;
    lines[last].what = "<script>alert(1)</script><img src=x onerror=y>\u{1b}[2J\u{202e}'\"&".into();
    lines[last].who = vec!["<b>mallory</b>".into()];
    let r = verify(
        &b.bytes(),
        &FakeAttestation(None),
        &VerifyOptions::default(),
    );
    let h = html(&lines, &r);
    // The words stay (as text); no element of theirs does.
    for tag in ["<script", "<img", "<b>"] {
        assert!(!h.contains(tag), "{tag} in the report");
    }
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img"));
    assert!(h.contains("\\u{001B}[2J\\u{202E}&#39;&quot;&amp;"));
    assert!(h.contains("&lt;b&gt;mallory&lt;/b&gt;"));
    assert!(!h.contains('\u{1b}') && !h.contains('\u{202e}'));
}

#[test]
fn a_kind_this_module_does_not_know_appears_with_its_transcript_text() {
    let b = scenario(CUSTODY);
    let mut lines: Vec<Line> = b.entries.iter().map(show::line).collect();
    lines[3].kind = "set-activated";
    lines[3].what = "pending set 7 activated".into();
    let r = verify(
        &b.bytes(),
        &FakeAttestation(None),
        &VerifyOptions::default(),
    );
    let h = html(&lines, &r);
    let row = h.lines().find(|l| l.contains("k-set-activated")).unwrap();
    assert!(row.contains("<td>set-activated</td>") && row.contains("pending set 7 activated"));
}

#[test]
fn training_is_said_first_and_last_and_in_the_title() {
    let b = scenario(CUSTODY);
    let lines: Vec<Line> = b.entries.iter().map(show::line).collect();
    let mut r = verify(
        &b.bytes(),
        &FakeAttestation(None),
        &VerifyOptions::default(),
    );
    r.training = Some(true);
    let h = html(&lines, &r);
    assert!(h.contains("<title>TRAINING - "));
    assert_eq!(h.matches("class=\"training\"").count(), 2);
    let first_banner = h.find("class=\"training\"").unwrap();
    assert!(first_banner < h.find("<h1>").unwrap());
    assert!(h.rfind("class=\"training\"").unwrap() > h.rfind("</table>").unwrap());
}

/// The report as a browser shows it: headless Chromium renders the file (offline,
/// nothing to fetch), and OCR of the screenshot finds the banner and the timeline.
#[test]
fn headless_chromium_renders_the_timeline_and_the_training_banner() {
    use std::process::Command;
    let b = scenario(CUSTODY);
    let lines: Vec<Line> = b.entries.iter().map(show::line).collect();
    let mut r = verify(
        &b.bytes(),
        &FakeAttestation(None),
        &VerifyOptions::default(),
    );
    r.training = Some(true);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, html(&lines, &r)).unwrap();
    let shot = dir.path().join("out.png");
    let status = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,1600")
        .arg(&file)
        .status()
        .expect("chromium is installed (scripts/install-deps.sh)");
    assert!(status.success());
    let out = Command::new("tesseract")
        .arg(&shot)
        .arg("-")
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .expect("tesseract is installed (scripts/install-deps.sh)");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Timeline"), "{text}");
    assert!(text.contains("TRAINING"), "{text}");
    assert!(text.contains("The log verifies"), "{text}");
}
