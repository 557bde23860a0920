//! Presubmits indexed by repository, with every change rule of a repository in one
//! [`RegexSet`], so a decision reads each changed file once instead of once per job.
//!
//! The index is built on first use and cached in the [`JobConfig`]; it gives the same answers
//! as [`crate::filter_presubmits`] over the repository's jobs (a proptest holds them equal).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use regex::RegexSet;

use crate::filter::PresubmitFilter;
use crate::jobs::{JobConfig, Presubmit};
use crate::matching::{ChangeRule, ChangedFiles, ChangesError};

/// One repository's change rules.
#[derive(Debug)]
struct RepoIndex {
    /// How many presubmits the index was built from; a different count means the job list
    /// was edited since, and the plain path is used.
    len: usize,
    /// Distinct change-rule patterns of the repository's jobs.
    set: RegexSet,
    /// For each job, its pattern's slot in `set` and its rule.
    slots: Vec<Option<(usize, ChangeRule)>>,
}

impl RepoIndex {
    fn build(jobs: &[Presubmit]) -> Option<Self> {
        let mut patterns: Vec<&str> = Vec::new();
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let mut slots = Vec::with_capacity(jobs.len());
        for job in jobs {
            let slot = match job.change_matcher() {
                Ok(m) => m.rule().map(|(rule, re)| {
                    let pattern = re.as_str();
                    let slot = *slot_of.entry(pattern).or_insert_with(|| {
                        patterns.push(pattern);
                        patterns.len() - 1
                    });
                    (slot, rule)
                }),
                Err(_) => None,
            };
            slots.push(slot);
        }
        let set = RegexSet::new(&patterns).ok()?;
        Some(Self {
            len: jobs.len(),
            set,
            slots,
        })
    }
}

/// Presubmits by repository, with their change rules compiled together.
#[derive(Debug, Default)]
pub struct PresubmitIndex {
    repos: HashMap<String, Option<RepoIndex>>,
}

impl PresubmitIndex {
    /// Indexes every repository's presubmits, compiling their regexes.
    pub fn new(config: &JobConfig) -> Self {
        let repos = config
            .presubmits
            .iter()
            .map(|(repo, jobs)| {
                jobs.iter().for_each(Presubmit::compile_matchers);
                (repo.clone(), RepoIndex::build(jobs))
            })
            .collect();
        Self { repos }
    }

    fn repo(&self, repo: &str, jobs: &[Presubmit]) -> Option<&RepoIndex> {
        self.repos
            .get(repo)?
            .as_ref()
            .filter(|r| r.len == jobs.len())
    }
}

/// The cached index of a [`JobConfig`]. It is a cache: it takes no part in equality.
#[derive(Clone, Default)]
pub(crate) struct IndexCache(OnceLock<Arc<PresubmitIndex>>);

impl PartialEq for IndexCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for IndexCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Indexed"
        } else {
            "NotIndexed"
        })
    }
}

impl JobConfig {
    /// The presubmit index, built on first use.
    pub fn presubmit_index(&self) -> &PresubmitIndex {
        self.index
            .0
            .get_or_init(|| Arc::new(PresubmitIndex::new(self)))
    }

    /// Drops the cached index and compiled regexes' owner index; call after editing
    /// `presubmits` in place.
    pub fn reindex(&mut self) {
        self.index = IndexCache::default();
    }

    /// The static presubmits of `org/repo`.
    pub fn presubmits_for(&self, repo: &str) -> &[Presubmit] {
        self.presubmits
            .get(repo)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The presubmits of `repo` to start for a change to `branch`: [`crate::filter_presubmits`]
    /// over the repository's jobs, reading each changed file once for all change rules.
    pub fn filter_presubmits(
        &self,
        repo: &str,
        filter: &PresubmitFilter,
        branch: &str,
        changes: &(impl ChangedFiles + ?Sized),
    ) -> Result<Vec<&Presubmit>, ChangesError> {
        let jobs = self.presubmits_for(repo);
        let Some(index) = self.presubmit_index().repo(repo, jobs) else {
            return crate::filter::filter_presubmits(filter, changes, branch, jobs);
        };
        let mut runs = vec![false; jobs.len()];
        // Jobs a change rule decides: (job, slot, rule, defaults).
        let mut pending: Vec<(usize, usize, ChangeRule, bool)> = Vec::new();
        for (i, job) in jobs.iter().enumerate() {
            let Ok(selected) = filter.select(job) else {
                continue;
            };
            let (Ok(brancher), Ok(_)) = (job.brancher(), job.change_matcher()) else {
                continue;
            };
            if !brancher.should_run(branch) {
                continue;
            }
            if job.always_run || selected.forced() {
                runs[i] = true;
            } else if let Some((slot, rule)) = index.slots[i] {
                pending.push((i, slot, rule, selected.defaults()));
            } else {
                runs[i] = selected.defaults();
            }
        }
        if !pending.is_empty() {
            let files = changes.changed_files()?;
            let mut open: Vec<(usize, usize, ChangeRule, bool)> = Vec::with_capacity(pending.len());
            for &(i, slot, rule, defaults) in &pending {
                if defaults {
                    runs[i] = true;
                } else {
                    open.push((i, slot, rule, defaults));
                }
            }
            for file in files {
                if open.is_empty() {
                    break;
                }
                let hits = index.set.matches(file);
                open.retain(|&(i, slot, rule, _)| {
                    let decided = match rule {
                        ChangeRule::RunIfChanged => hits.matched(slot),
                        ChangeRule::SkipIfOnlyChanged => !hits.matched(slot),
                    };
                    if decided {
                        runs[i] = true;
                    }
                    !decided
                });
            }
        }
        Ok(jobs
            .iter()
            .zip(runs)
            .filter_map(|(job, run)| run.then_some(job))
            .collect())
    }
}
