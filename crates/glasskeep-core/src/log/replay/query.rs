//! What the ceremony layer and `status` ask of the replayed state.

use super::{Custodian, Custody, EnvelopeState, Opening, SealedSet, SetStatus, State};
use crate::log::entry::Hash;
use crate::shamir::SetId;

/// An opened credential awaiting rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenCredential {
    /// The set.
    pub set: SetId,
    /// Its label.
    pub label: String,
    /// The first unrotated opening.
    pub opened_seq: u64,
    /// When the set must be rotated by.
    pub deadline: u64,
}

impl State {
    /// The custody, once genesis is applied.
    pub fn custody(&self) -> Option<&Custody> {
        self.custody.as_ref()
    }

    /// The seq the next entry must have.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The hash of the last entry (what the next entry's `prev` must be).
    pub fn head(&self) -> Hash {
        self.head
    }

    /// The claimed time of the last entry.
    pub fn last_time(&self) -> u64 {
        self.last_time
    }

    /// Seq of the last checkpoint.
    pub fn last_checkpoint(&self) -> Option<u64> {
        self.last_checkpoint
    }

    /// The custodian named `name`.
    pub fn custodian(&self, name: &str) -> Option<&Custodian> {
        self.by_name.get(name).map(|&i| &self.custodians[i])
    }

    /// The custodian whose YubiKey has `serial`.
    pub fn custodian_by_serial(&self, serial: u32) -> Option<&Custodian> {
        self.by_serial.get(&serial).map(|&i| &self.custodians[i])
    }

    /// Every custodian, in enrollment order.
    pub fn custodians(&self) -> &[Custodian] {
        &self.custodians
    }

    /// A share set by id.
    pub fn set(&self, id: &SetId) -> Option<&SealedSet> {
        self.sets.get(id)
    }

    /// Every share set, in seal order.
    pub fn sets(&self) -> impl Iterator<Item = &SealedSet> {
        self.set_order.iter().filter_map(|id| self.sets.get(id))
    }

    /// The live set sealed under `label` (not superseded, not pending: the one that
    /// opens).
    pub fn live_set_by_label(&self, label: &str) -> Option<&SealedSet> {
        self.set_order
            .iter()
            .rev()
            .filter_map(|id| self.sets.get(id))
            .find(|s| s.label == label && s.is_live())
    }

    /// The set a rotation of `label` made and that waits for acknowledgements.
    pub fn pending_set_by_label(&self, label: &str) -> Option<&SealedSet> {
        self.sets()
            .find(|s| s.label == label && matches!(s.status, SetStatus::Pending { .. }))
    }

    /// Sets made by a rotation and waiting for acknowledgements, in seal order.
    pub fn pending_sets(&self) -> impl Iterator<Item = &SealedSet> {
        self.sets()
            .filter(|s| matches!(s.status, SetStatus::Pending { .. }))
    }

    /// The opening at `seq`.
    pub fn opening(&self, seq: u64) -> Option<&Opening> {
        self.openings.get(&seq)
    }

    /// Every opening, in log order.
    pub fn openings(&self) -> impl Iterator<Item = &Opening> {
        self.openings.values()
    }

    /// Openings without a review.
    pub fn unreviewed_openings(&self) -> impl Iterator<Item = &Opening> {
        self.openings.values().filter(|o| o.review.is_none())
    }

    /// Sets opened and not yet rotated, with their deadlines, in seal order.
    pub fn open_credentials(&self) -> Vec<OpenCredential> {
        self.sets()
            .filter(|s| s.status == SetStatus::Opened)
            .filter_map(|s| {
                // Windows are per set, so the first unrotated opening has the earliest
                // deadline; a set rotated but not yet activated has none.
                let first = s
                    .openings
                    .iter()
                    .filter_map(|o| self.openings.get(o))
                    .find(|o| o.rotated.is_none())?;
                Some(OpenCredential {
                    set: s.id,
                    label: s.label.clone(),
                    opened_seq: first.seq,
                    deadline: first.deadline,
                })
            })
            .collect()
    }

    /// The envelope with this fingerprint.
    pub fn envelope(&self, fingerprint: &Hash) -> Option<&EnvelopeState> {
        self.envelopes.get(fingerprint)
    }

    /// Envelopes not yet destroyed, in seal order: (fingerprint, envelope).
    pub fn envelopes_not_destroyed(&self) -> Vec<(Hash, &EnvelopeState)> {
        self.sets()
            .flat_map(|s| s.envelopes.iter())
            .filter_map(|fp| {
                let e = self.envelopes.get(fp)?;
                e.destroyed.is_none().then_some((*fp, e))
            })
            .collect()
    }
}
