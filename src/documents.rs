//! The printed documents, embedded when glasskeep is built from their one source in the
//! repository: the runbooks under `ceremony/`, docs/RECOVERY.md and docs/recover.py. A
//! `glasskeep` at the safe prints the documents of its own version, even offline.

/// One ceremony's runbook.
#[derive(Debug, Clone, Copy)]
pub struct Runbook {
    /// The name `glasskeep runbook NAME` takes.
    pub name: &'static str,
    /// The file under `ceremony/`.
    pub file: &'static str,
    /// The Markdown text.
    pub markdown: &'static str,
}

impl Runbook {
    /// The title: the text of the first `# ` heading.
    pub fn title(&self) -> &'static str {
        self.markdown
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or(self.name)
            .trim()
    }
}

macro_rules! runbook {
    ($name:literal, $file:literal) => {
        Runbook {
            name: $name,
            file: concat!("ceremony/", $file),
            markdown: include_str!(concat!("../ceremony/", $file)),
        }
    };
}

/// Every runbook, in the order a custody meets them.
pub const RUNBOOKS: [Runbook; 9] = [
    runbook!("overview", "RUNBOOK.md"),
    runbook!("setup", "setup.md"),
    runbook!("enrollment", "enrollment.md"),
    runbook!("sealing", "sealing.md"),
    runbook!("opening", "opening.md"),
    runbook!("rotation", "rotation.md"),
    runbook!("drill", "drill.md"),
    runbook!("retirement", "retirement.md"),
    runbook!("audit", "audit.md"),
];

/// The runbooks' names, for the command line's list of possible values.
pub const RUNBOOK_NAMES: [&str; 9] = {
    let mut names = [""; 9];
    let mut i = 0;
    while i < RUNBOOKS.len() {
        names[i] = RUNBOOKS[i].name;
        i += 1;
    }
    names
};

/// The runbook called `name`.
pub fn runbook(name: &str) -> Option<&'static Runbook> {
    RUNBOOKS.iter().find(|r| r.name == name)
}

/// docs/RECOVERY.md: recovering a secret without glasskeep.
pub const RECOVERY_MD: &str = include_str!("../docs/RECOVERY.md");

/// docs/recover.py: the script RECOVERY.md walks through.
pub const RECOVER_PY: &str = include_str!("../docs/recover.py");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runbook_has_a_title_and_a_unique_name() {
        for (i, r) in RUNBOOKS.iter().enumerate() {
            assert_ne!(r.title(), r.name, "{} has no # heading", r.file);
            assert!(RUNBOOKS[i + 1..].iter().all(|o| o.name != r.name));
            assert_eq!(RUNBOOK_NAMES[i], r.name);
        }
        assert!(runbook("rotation").is_some());
        assert!(runbook("nonsense").is_none());
    }

    /// RECOVERY.md shows the script inline for readers of the page; docs/recover.py is
    /// the file the kit writes and the tests run. They must be the same text.
    #[test]
    fn recovery_md_embeds_exactly_docs_recover_py() {
        let start = RECOVERY_MD
            .find("<!-- BEGIN recover.py -->")
            .expect("RECOVERY.md marks the script's start");
        let end = RECOVERY_MD
            .find("<!-- END recover.py -->")
            .expect("RECOVERY.md marks the script's end");
        let block = &RECOVERY_MD[start..end];
        let body = &block[block.find("```python\n").expect("a python fence") + 10
            ..block.rfind("```").expect("a closing fence")];
        assert!(
            body == RECOVER_PY,
            "the script in docs/RECOVERY.md differs from docs/recover.py: change both together"
        );
    }
}
