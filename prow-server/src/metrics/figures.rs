//! Tide's figures: a plain record the tide controller fills and metrics read at scrape time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One tide pool (an org/repo/branch) as tide last saw it, with its running totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolFigures {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The base branch.
    pub branch: String,
    /// PRs in the pool at the last sync.
    pub prs: u64,
    /// Merges done so far (a batch merge counts once).
    pub merges: u64,
    /// PRs merged so far.
    pub merged_prs: u64,
    /// Batches finished so far, by outcome (`success`, `failure`, ...).
    pub batches: BTreeMap<String, u64>,
    /// Syncs of this pool that failed so far.
    pub errors: u64,
}

impl PoolFigures {
    /// An empty record for one pool.
    pub fn new(org: &str, repo: &str, branch: &str) -> Self {
        PoolFigures {
            org: org.to_owned(),
            repo: repo.to_owned(),
            branch: branch.to_owned(),
            ..PoolFigures::default()
        }
    }
}

/// Everything tide reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TideFigures {
    /// The pools, by org, repo and branch.
    pub pools: BTreeMap<(String, String, String), PoolFigures>,
    /// Syncs done so far.
    pub syncs: u64,
}

impl TideFigures {
    /// The record of one pool, created empty when new.
    pub fn pool(&mut self, org: &str, repo: &str, branch: &str) -> &mut PoolFigures {
        self.pools
            .entry((org.to_owned(), repo.to_owned(), branch.to_owned()))
            .or_insert_with(|| PoolFigures::new(org, repo, branch))
    }
}

/// Tide's figures shared between tide (which writes) and metrics (which reads); clones share.
#[derive(Debug, Clone, Default)]
pub struct TideFiguresCell(Arc<Mutex<TideFigures>>);

impl TideFiguresCell {
    /// Changes the figures in place.
    pub fn update(&self, change: impl FnOnce(&mut TideFigures)) {
        change(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A copy of the figures now.
    pub fn get(&self) -> TideFigures {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
