//! What a job-configuration change means for open pull requests, decided from the old and new
//! presubmits alone (upstream's `addedBlockingPresubmits`, `removedPresubmits` and
//! `migratedBlockingPresubmits`). Jobs are followed between versions by name.

use std::collections::BTreeMap;

use prow_config::Presubmit;

/// Presubmits by `org/repo`, as `presubmits:` in the job configuration.
pub type Presubmits = BTreeMap<String, Vec<Presubmit>>;

/// A presubmit whose context changed between two versions (same name, other context).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Migration<'a> {
    /// The job as it was.
    pub from: &'a Presubmit,
    /// The job as it is now.
    pub to: &'a Presubmit,
}

/// Everything a change of presubmits asks of the reconciler, by `org/repo`.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Delta<'a> {
    /// New blocking presubmits to run on open pull requests: brand-new required jobs that run
    /// without being asked, jobs that started reporting, and jobs whose change rule changed.
    pub added: BTreeMap<&'a str, Vec<&'a Presubmit>>,
    /// Presubmits that are gone, whose contexts are retired.
    pub removed: BTreeMap<&'a str, Vec<&'a Presubmit>>,
    /// Required presubmits whose context was renamed.
    pub migrated: BTreeMap<&'a str, Vec<Migration<'a>>>,
}

impl Delta<'_> {
    /// Whether the change asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.added.values().all(Vec::is_empty)
            && self.removed.values().all(Vec::is_empty)
            && self.migrated.values().all(Vec::is_empty)
    }

    /// How many presubmits were added, removed and migrated.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.added.values().map(Vec::len).sum(),
            self.removed.values().map(Vec::len).sum(),
            self.migrated.values().map(Vec::len).sum(),
        )
    }
}

/// Why a change is not reconciled at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// Every presubmit vanished: more likely a broken configuration than a real change.
    #[error("refusing to reconcile config update because all presubmits disappeared")]
    AllPresubmitsDisappeared,
}

/// The delta from `old` to `new`. As upstream, only repositories that had presubmits before
/// are looked at (a repository's first presubmits come with its first pull requests' events),
/// and a change that drops every presubmit is refused.
pub fn delta<'a>(old: &'a Presubmits, new: &'a Presubmits) -> Result<Delta<'a>, Refused> {
    if count(old) > 0 && count(new) == 0 {
        return Err(Refused::AllPresubmitsDisappeared);
    }
    let mut delta = Delta::default();
    for (repo, before) in old {
        let after = new.get(repo).map_or(&[][..], Vec::as_slice);
        delta.added.insert(repo, added(before, after));
        delta.removed.insert(repo, removed(before, after));
        delta.migrated.insert(repo, migrated(before, after));
    }
    Ok(delta)
}

fn count(presubmits: &Presubmits) -> usize {
    presubmits.values().map(Vec::len).sum()
}

/// Upstream's `addedBlockingPresubmits` for one repository. A job both newly reporting and
/// with a new change rule is listed twice there; here once.
fn added<'a>(before: &'a [Presubmit], after: &'a [Presubmit]) -> Vec<&'a Presubmit> {
    after
        .iter()
        .filter(|job| job.context_required() && !job.needs_explicit_trigger())
        .filter(|job| match before.iter().find(|old| old.name == job.name) {
            None => true,
            Some(old) => {
                (old.skip_report && !job.skip_report)
                    || old.run_if_changed != job.run_if_changed
                    || old.skip_if_only_changed != job.skip_if_only_changed
            }
        })
        .collect()
}

/// Upstream's `removedPresubmits` for one repository.
fn removed<'a>(before: &'a [Presubmit], after: &[Presubmit]) -> Vec<&'a Presubmit> {
    before
        .iter()
        .filter(|old| !after.iter().any(|job| job.name == old.name))
        .collect()
}

/// Upstream's `migratedBlockingPresubmits` for one repository.
fn migrated<'a>(before: &'a [Presubmit], after: &'a [Presubmit]) -> Vec<Migration<'a>> {
    let mut out = Vec::new();
    for job in after.iter().filter(|job| job.context_required()) {
        for old in before
            .iter()
            .filter(|old| old.name == job.name && old.context != job.context)
        {
            out.push(Migration { from: old, to: job });
        }
    }
    out
}
