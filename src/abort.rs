//! What an interrupted ceremony has done so far: the phase a Ctrl-C (or the terminal
//! going away) finds the process in, so the command line can say what was and was not
//! recorded, and never a half-written log. The signal handling itself, the terminal's
//! restoration and the message's printing are the command line's (`src/cli/interrupt.rs`).
//!
//! A ceremony writes the log once, at the end, in one append. Until then, ending the
//! process leaves the log byte-identical, so an interrupt simply ends it. While that
//! append runs, the interrupt waits for it to finish ([`committing`]), then ends the
//! process saying what was recorded.

use std::sync::{Mutex, MutexGuard};

/// The message when nothing was recorded.
pub const NOTHING_RECORDED: &str = "aborted: nothing was recorded and the secret was not revealed";

/// How far the process is, for the message an interrupt prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Nothing written: the log is as it was.
    Before,
    /// The log records `what` (e.g. "the opening, as entry 12"); no secret shown.
    Recorded {
        /// What was recorded, in words.
        what: String,
    },
    /// A secret is on the terminal's alternate screen: an interrupt clears it first.
    Showing {
        /// What was recorded, in words.
        what: String,
    },
}

static PHASE: Mutex<Phase> = Mutex::new(Phase::Before);

fn phase() -> MutexGuard<'static, Phase> {
    PHASE.lock().unwrap_or_else(|p| p.into_inner())
}

/// The phase, held: while held no log write can start, and one in progress is waited
/// for. What an interrupt handler takes before it ends the process.
pub fn hold() -> MutexGuard<'static, Phase> {
    phase()
}

/// Sets the phase (the message an interrupt prints from now on).
pub fn set(p: Phase) {
    *phase() = p;
}

/// The current phase.
pub fn current() -> Phase {
    phase().clone()
}

/// Held while the log is written: an interrupt waits until it is dropped. Call
/// [`Committing::recorded`] once the write succeeded.
pub struct Committing(MutexGuard<'static, Phase>);

/// Starts the uninterruptible part of a ceremony: the one write of the log.
pub fn committing() -> Committing {
    Committing(phase())
}

impl Committing {
    /// The write succeeded and recorded `what`.
    pub fn recorded(mut self, what: impl Into<String>) {
        *self.0 = Phase::Recorded { what: what.into() };
    }
}

/// The message for an interrupt in phase `p`.
pub fn message(p: &Phase) -> String {
    match p {
        Phase::Before => NOTHING_RECORDED.to_string(),
        Phase::Recorded { what } => {
            format!("aborted: {what} is recorded in the log; the secret was not revealed")
        }
        Phase::Showing { what } => {
            format!(
                "aborted: {what} is recorded in the log; the secret was cleared from the screen"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_was_recorded() {
        assert_eq!(message(&Phase::Before), NOTHING_RECORDED);
        let m = message(&Phase::Recorded {
            what: "the opening, as entry 12".into(),
        });
        assert!(m.contains("entry 12 is recorded"), "{m}");
        assert!(m.contains("not revealed"), "{m}");
        let m = message(&Phase::Showing {
            what: "the opening".into(),
        });
        assert!(m.contains("cleared"), "{m}");
    }

    #[test]
    fn a_commit_sets_the_phase_only_when_it_succeeded() {
        set(Phase::Before);
        drop(committing());
        assert_eq!(current(), Phase::Before);
        committing().recorded("the drill, as entry 3");
        assert_eq!(
            current(),
            Phase::Recorded {
                what: "the drill, as entry 3".into()
            }
        );
        set(Phase::Before);
    }
}
