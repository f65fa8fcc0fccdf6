use super::*;
use crate::log::testutil::{scenario, Builder, CUSTODY};

fn entries() -> Vec<Entry> {
    scenario(CUSTODY).entries
}

/// Every text drawn on the sheet's pages, one per line (the PDF itself is read with
/// pdftotext by the integration tests).
fn shown(s: &Sheet, paper: Paper) -> String {
    let mut out = String::new();
    for page in layout::pages(s, paper) {
        for item in page.items {
            if let Item::Text { text, .. } = item {
                out.push_str(&text);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn the_last_ceremony_runs_from_after_the_checkpoint_before_the_last() {
    let e = entries();
    let n = e.len() as u64;
    // The scenario ends with three destructions and their checkpoint.
    assert_eq!(last_ceremony_start(&e), n - 4);
    assert_eq!(last_ceremony_start(&e[..1]), 0);
    assert_eq!(last_ceremony_start(&[]), 0);
}

#[test]
fn a_sheet_lists_the_ceremony_its_entries_head_sets_and_signers() {
    let e = entries();
    let to = e.len() as u64 - 1;
    let s = Sheet::new(&e, to - 3, to, &["Grace Auditor".into()]).unwrap();
    assert_eq!(s.ceremony, "envelope-destroyed");
    assert_eq!(s.entries.len(), 4);
    assert_eq!(s.head.seq, to);
    assert_eq!(s.head.head, e[to as usize].hash());
    assert_eq!(s.head.custody_id, CUSTODY);
    assert_eq!(s.signers, ["dave", "erin"]);
    assert!(s.plans.is_empty());
    // aws-root's fifth set and gcp-root are live; every older set was superseded.
    let labels: Vec<&str> = s.sets.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["gcp-root", "aws-root"]);
    assert_eq!(s.sets[1].envelopes.len(), 3);
    assert!(!s.training);

    let pdf = s.to_pdf(Paper::A4);
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(pdf, s.to_pdf(Paper::A4), "the same sheet renders the same");
    let text = shown(&s, Paper::A4);
    assert!(text.contains(TITLE_CHECK));
    assert!(text.contains(&hex::encode(&s.head.head)));
    assert!(text.contains(&s.head.to_text()));
    assert!(text.contains(&hex::encode(&s.sets[1].envelopes[2].2)));
    assert!(text.contains("dave (custodian, signed the checkpoint)"));
    assert!(text.contains("Grace Auditor (witness)"));
    assert!(!text.contains("TRAINING"));
    assert_ne!(pdf, s.to_pdf(Paper::Letter));
}

const TITLE_CHECK: &str = layout::TITLE;

#[test]
fn a_training_sheet_says_training_on_every_page() {
    let mut b2 = Builder::new([3; 16]);
    if let Body::Genesis { training, .. } = &mut b2.entries[0].body {
        *training = true;
    }
    b2.state = State::new();
    b2.state.apply(&b2.entries[0]).unwrap();
    for (i, n) in ["alice", "bob", "carol"].iter().enumerate() {
        b2.enroll(n, 1001 + i as u32);
    }
    b2.checkpoint(&["alice", "bob", "carol"]);
    for i in 0..60u8 {
        b2.seal(
            crate::log::testutil::set(i + 1),
            &format!("label-{i}"),
            2,
            &["alice", "bob"],
        );
    }
    b2.checkpoint(&["alice", "bob"]);
    let e = b2.entries;
    let to = e.len() as u64 - 1;
    let s = Sheet::new(&e, last_ceremony_start(&e), to, &[]).unwrap();
    assert!(s.training);
    assert_eq!(s.ceremony, "seal");
    let pages = layout::pages(&s, Paper::Letter);
    assert!(pages.len() > 2, "{} pages", pages.len());
    for (n, page) in pages.iter().enumerate() {
        let banners = page
            .items
            .iter()
            .filter(|i| matches!(i, Item::Text { text, .. } if text == layout::TRAINING_BANNER))
            .count();
        assert_eq!(banners, 2, "page {}", n + 1);
    }
}

use crate::envelope::render::Item;

#[test]
fn ranges_outside_the_log_and_bad_witness_names_are_refused() {
    let e = entries();
    let last = e.len() as u64 - 1;
    assert_eq!(
        Sheet::new(&e, 3, last + 1, &[]),
        Err(SheetError::Range {
            from: 3,
            to: last + 1,
            last
        })
    );
    assert!(matches!(
        Sheet::new(&e, 5, 4, &[]),
        Err(SheetError::Range { .. })
    ));
    assert!(matches!(
        Sheet::new(&[], 0, 0, &[]),
        Err(SheetError::Range { .. })
    ));
    for bad in [
        "",
        "   ",
        "eve\u{1b}[2J",
        "mal\u{202e}lory",
        "a\nb",
        &"x".repeat(65),
    ] {
        assert!(
            matches!(
                Sheet::new(&e, 0, last, &[bad.to_owned()]),
                Err(SheetError::Witness { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(check_witness(&"x".repeat(64)).is_ok());
    assert!(check_witness("Zoë Notary").is_ok());
    let many = vec!["w".to_owned(); MAX_WITNESSES + 1];
    assert!(matches!(
        Sheet::new(&e, 0, last, &many),
        Err(SheetError::Witness { .. })
    ));
}

#[test]
fn a_checkpoint_plan_hash_is_printed() {
    let mut b = scenario(CUSTODY);
    let last = b.entries.len() - 1;
    if let Body::Checkpoint { plan, .. } = &mut b.entries[last].body {
        *plan = Some([0x77; 32]);
    }
    // The edited checkpoint no longer verifies, but the sheet reads, never judges,
    // signatures; replay does not check them either.
    let e = b.entries;
    let s = Sheet::new(&e, last as u64 - 3, last as u64, &[]).unwrap();
    assert_eq!(s.plans, vec![[0x77; 32]]);
    assert!(shown(&s, Paper::A4).contains(&"77".repeat(32)));
}
