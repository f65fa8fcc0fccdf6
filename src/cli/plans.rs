//! `plan check`, and reading the plan a ceremony runs under (`--plan FILE`). Card-free:
//! the auditor's build checks plans too.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use glasskeep::ceremony;
use glasskeep_core::plan::{self, Plan, RefusalClass};
use glasskeep_core::text;

use super::{exit, CliError};

/// Reads and decodes a plan file (at most [`plan::MAX_PLAN`] bytes are read).
pub fn load(path: &Path) -> Result<Plan, CliError> {
    let shown = text::escape(&path.display().to_string()).into_owned();
    let io = |e: std::io::Error| CliError::new(exit::INPUT, format!("{shown}: {e}"));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(plan::MAX_PLAN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Plan::decode(&bytes).map_err(|e| {
        CliError::new(
            exit::INPUT,
            format!("{shown}: {e}. Correct the plan (docs/FORMAT.md, \"Ceremony plan\")"),
        )
    })
}

/// Today, in days since 1970-01-01 (UTC).
pub fn today(now: u64) -> i64 {
    i64::try_from(now / 86_400).unwrap_or(i64::MAX)
}

/// `plan check FILE`: the plan held against the log, then its runbook.
pub fn check(dir: &Path, file: &Path, now: u64) -> Result<ExitCode, CliError> {
    let p = load(file)?;
    let state = ceremony::read_state(dir)?;
    let shown = text::escape(&file.display().to_string()).into_owned();
    plan::check(&p, &state, today(now)).map_err(|r| {
        let code = match r.class {
            RefusalClass::Quorum => exit::QUORUM,
            _ => exit::REFUSED,
        };
        CliError::new(
            code,
            format!("{shown}: {r}. This plan cannot be carried out on this log: correct it and check it again"),
        )
    })?;
    let training = state.custody().is_some_and(|c| c.training);
    print!("{}", plan::runbook(&p, &shown, training));
    if today(now) < p.date {
        println!(
            "\nThe plan is for {} (UTC): its commands refuse to run before that day.",
            p.date_text
        );
    }
    Ok(ExitCode::SUCCESS)
}
