//! The ceremony log: the single source of truth of a custody.
//!
//! `ceremony.log` is an append-only file of framed, deterministic-CBOR entries, each
//! naming the hash of the one before it, so that every entry transitively binds the
//! random custody id written in genesis. Checkpoints carry the present custodians'
//! YubiKey signatures over the head. All state (custodians, share sets, what is open,
//! overdue, unreviewed) is derived by [`replay`]; nothing else holds state.
//!
//! The byte formats are specified in docs/FORMAT.md ("Ceremony log").
//!
//! - [`entry`] / [`body`] / [`kinds`] / [`record`]: entries and their canonical encodings;
//! - [`checkpoint`]: signature input, signers, making and checking checkpoints;
//! - [`frame`]: the frame around each entry, and torn-tail detection;
//! - [`store`]: the writer lock, transactions, whole appends;
//! - [`replay`]: the state machine every entry passes before it is written;
//! - [`policy`]: pending items and violations, for `log verify` and `status`;
//! - [`mod@verify`]: the auditor's `log verify`;
//! - [`show`]: the postmortem transcript.
//!
//! Typical use by the ceremony layer: [`Store::open`], [`Store::begin`], then
//! [`Transaction::append`] for each act and [`Transaction::checkpoint`] with the present
//! custodians' [`CheckpointSigner`]s, then [`Transaction::commit`], which returns the head to
//! print as the paper anchor. Dropping the transaction instead writes nothing.

pub mod body;
pub mod checkpoint;
pub mod entry;
pub mod frame;
pub mod kinds;
pub mod policy;
pub mod record;
pub mod replay;
pub mod show;
pub mod store;
pub mod verify;

pub use body::{Allowances, Body, Kind, SecretKind, Verdict};
pub use checkpoint::{
    finish_checkpoint, make_checkpoint, prepare_checkpoint, AttestationCheck, CheckpointError,
    CheckpointSigner, PendingCheckpoint, SignError, Signed,
};
pub use entry::{Entry, Hash, ZERO_HASH};
pub use policy::{assess, Assessment, ItemClass, Obligation, PendingClass};
pub use replay::{OpenCredential, ReplayError, SetStatus, State};
pub use store::{replay_bytes, StoreError};
#[cfg(feature = "store")]
pub use store::{Store, Transaction};
pub use verify::{
    read_log_entries, verify, AllowMark, BuildMark, FailureClass, Finding, Outcome, PlanMark,
    PolicyClass, VerifyOptions, VerifyReport,
};

use subtle::ConstantTimeEq;

/// Domain label of entry hashes: a hash computed for another purpose or another format
/// version can never be taken for an entry hash.
pub const ENTRY_LABEL: &[u8] = b"glasskeep/v1/entry\0";

/// Domain label of checkpoint signature inputs, distinct from [`ENTRY_LABEL`] so that a
/// signature can never be presented as, or made from, an entry hash.
pub const CHECKPOINT_LABEL: &[u8] = b"glasskeep/v2/checkpoint\0";

/// Parses 64 hex digits (either case, surrounding spaces ignored) into a hash, as typed
/// from the paper anchor.
pub fn parse_hash_hex(text: &str) -> Option<Hash> {
    crate::hex::decode_fixed(text)
}

/// Constant-time equality of two hashes: the anchor and the links are compared without
/// leaking where they first differ.
pub(crate) fn hash_eq(a: &Hash, b: &Hash) -> bool {
    bool::from(a.ct_eq(b))
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests;
