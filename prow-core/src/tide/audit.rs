//! An outside check of the merge queue's safety rule: it watches the runs a queue starts, their
//! results and the merges, keeps its own history of the base, and counts every merge that no
//! passing run tested exactly, on exactly the base the merge lands on.
//!
//! The simulator and the property tests feed it the same events they feed the queue; it shares
//! nothing with the queue's own bookkeeping but the base history type.

use std::collections::BTreeMap;

use super::base::BaseLog;
use super::strategy::{PrNumber, QueueAction, RunId};

#[derive(Debug, Clone)]
struct AuditedRun {
    base_at: u64,
    tested: Vec<PrNumber>,
    passed: Option<bool>,
}

/// What the audit found so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AuditStats {
    /// Merges checked.
    pub merges: u64,
    /// Merges no passing run tested exactly on their landing base.
    pub untested_merges: u64,
    /// Merges that landed only in part (the rest was refused), so what landed was never tested
    /// alone; counted apart because no queue can prevent a refused merge.
    pub partial_merges: u64,
}

/// Checks merges against the runs that justify them; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct MergeAudit {
    base: BaseLog,
    runs: BTreeMap<RunId, AuditedRun>,
    stats: AuditStats,
}

impl MergeAudit {
    /// An audit of a queue that has not started anything yet, on a base nothing merged onto.
    pub fn new() -> Self {
        MergeAudit::default()
    }

    /// What the audit found so far.
    pub fn stats(&self) -> AuditStats {
        self.stats
    }

    /// A run testing `tested` (in order) on the base as it is now started.
    pub fn run_started(&mut self, run: RunId, tested: &[PrNumber]) {
        let base_at = self.base.position();
        self.runs.insert(
            run,
            AuditedRun {
                base_at,
                tested: tested.to_vec(),
                passed: None,
            },
        );
    }

    /// A run ended.
    pub fn run_finished(&mut self, run: RunId, passed: bool) {
        if let Some(r) = self.runs.get_mut(&run) {
            r.passed = Some(passed);
        }
    }

    /// A run was aborted before it ended.
    pub fn run_cancelled(&mut self, run: RunId) {
        self.runs.remove(&run);
    }

    /// The base moved by someone else's push.
    pub fn base_moved(&mut self) {
        self.base.moved();
    }

    /// `prs` merged, in order, onto the base as it is now; returns whether a passing run tested
    /// exactly that (every PR merged since its base, then `prs`).
    pub fn merged(&mut self, prs: &[PrNumber]) -> bool {
        self.stats.merges += 1;
        let tested = self.runs.values().any(|r| {
            r.passed == Some(true)
                && self.base.since(r.base_at).is_some_and(|mut landed| {
                    landed.extend_from_slice(prs);
                    landed == r.tested
                })
        });
        if !tested {
            self.stats.untested_merges += 1;
        }
        for &pr in prs {
            self.base.merged(pr);
        }
        self.forget_hopeless();
        tested
    }

    /// Only `landed` of a merge landed (the rest was refused): the base is now one no run
    /// tested.
    pub fn merged_in_part(&mut self, landed: &[PrNumber]) {
        self.stats.partial_merges += 1;
        if !landed.is_empty() {
            self.base.moved();
        }
    }

    /// Feeds the audit one of the queue's actions (runs started and cancelled, merges, taken as
    /// carried out in full); returns `false` for an untested merge.
    pub fn observe(&mut self, action: &QueueAction) -> bool {
        match action {
            QueueAction::StartRun { run, tested, .. } => {
                self.run_started(*run, tested);
                true
            }
            QueueAction::CancelRun { run } => {
                self.run_cancelled(*run);
                true
            }
            QueueAction::Merge { prs } => self.merged(prs),
            _ => true,
        }
    }

    /// Drops runs that can no longer justify any merge: more PRs merged since they started than
    /// they tested, or the base moved otherwise.
    fn forget_hopeless(&mut self) {
        let base = &self.base;
        self.runs.retain(|_, r| {
            base.since(r.base_at)
                .is_some_and(|landed| landed.len() < r.tested.len())
        });
    }
}
