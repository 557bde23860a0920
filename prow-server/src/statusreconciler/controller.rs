//! The status-reconciler controller: on every new job configuration it compares the
//! presubmits with those of the configuration it saw before ([`super::diff`]) and acts on the
//! open pull requests of the repositories concerned, as upstream's `statusreconciler`
//! `Controller.reconcile`: it runs newly required presubmits on trusted pull requests, retires
//! the contexts of removed presubmits and moves renamed ones.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prow_config::plugins::PluginConfig;
use prow_config::{ConfigSnapshot, Presubmit};
use prow_github::GitHubClient;
use prow_github::types::PullRequest;
use prow_jobs::clock::Clock;
use prow_jobs::controller::{Pass, PassError, Wake};
use prow_jobs::labels::Metadata;
use prow_jobs::store::JobStore;
use prow_plugins::plugins::trigger::presubmit_job;
use prow_plugins::trust::{self, OK_TO_TEST};

use super::diff::{self, Presubmits};
use super::migrator::{self, MigrateOptions, Mode};
use super::state;

/// How long between passes when no configuration arrives: a pass without a change does
/// nothing, so this only bounds how late a missed change notification is noticed.
const RESYNC: Duration = Duration::from_secs(3600);

/// The event GUID upstream gives the ProwJobs it starts.
const EVENT_GUID: &str = "none";

/// upstream's flags of `status-reconciler`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// Go on after a pull request or context fails (`--continue-on-error`).
    pub continue_on_error: bool,
    /// Orgs and `org/repo`s whose added presubmits are not run (`--denylist`).
    pub denylist: BTreeSet<String>,
    /// Orgs and `org/repo`s left entirely alone (`--denylist-all`).
    pub denylist_all: BTreeSet<String>,
    /// Log what would be done instead of creating ProwJobs and setting statuses (`--dry-run`).
    pub dry_run: bool,
    /// Where the presubmits last reconciled are kept across restarts (`--status-path`), so
    /// that a change made while the reconciler was down is reconciled when it starts.
    pub status_path: Option<PathBuf>,
}

impl Options {
    /// With `--continue-on-error` set to `on`.
    pub fn with_continue_on_error(mut self, on: bool) -> Self {
        self.continue_on_error = on;
        self
    }

    /// With these `--denylist` entries (orgs or `org/repo`s).
    pub fn with_denylist(mut self, entries: impl IntoIterator<Item = String>) -> Self {
        self.denylist.extend(entries);
        self
    }

    /// With these `--denylist-all` entries (orgs or `org/repo`s).
    pub fn with_denylist_all(mut self, entries: impl IntoIterator<Item = String>) -> Self {
        self.denylist_all.extend(entries);
        self
    }

    /// With `--dry-run` set to `on`.
    pub fn with_dry_run(mut self, on: bool) -> Self {
        self.dry_run = on;
        self
    }

    /// With the state kept at `path` (`--status-path`).
    pub fn with_status_path(mut self, path: Option<PathBuf>) -> Self {
        self.status_path = path;
        self
    }

    fn denied(list: &BTreeSet<String>, org: &str, org_repo: &str) -> bool {
        list.contains(org) || list.contains(org_repo)
    }
}

/// Reconciles open pull requests' statuses when the presubmits change.
pub struct StatusReconciler {
    github: Arc<dyn GitHubClient>,
    store: Arc<dyn JobStore>,
    bot: String,
    clock: Arc<dyn Clock>,
    options: Options,
    /// The presubmits the last pass saw.
    last: Mutex<Option<Baseline>>,
}

/// The presubmits a change is compared with.
#[derive(Debug, Clone)]
enum Baseline {
    /// Those of a configuration seen by a pass.
    Config(Arc<prow_config::Config>),
    /// Those saved at `--status-path` by an earlier run.
    Stored(Arc<Presubmits>),
}

impl Baseline {
    fn presubmits(&self) -> &Presubmits {
        match self {
            Baseline::Config(config) => &config.jobs.presubmits,
            Baseline::Stored(presubmits) => presubmits,
        }
    }
}

impl std::fmt::Debug for StatusReconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusReconciler")
            .field("bot", &self.bot)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl StatusReconciler {
    /// A reconciler acting on `github` as `bot`, creating ProwJobs in `store`.
    pub fn new(
        github: Arc<dyn GitHubClient>,
        store: Arc<dyn JobStore>,
        bot: &str,
        clock: Arc<dyn Clock>,
        options: Options,
    ) -> Self {
        StatusReconciler {
            github,
            store,
            bot: bot.to_owned(),
            clock,
            options,
            last: Mutex::new(None),
        }
    }

    /// Reconciles the change from the presubmits `old` to the configuration `new`.
    pub async fn reconcile_change(
        &self,
        old: &Presubmits,
        new: &ConfigSnapshot,
    ) -> Result<Pass, PassError> {
        let delta = diff::delta(old, &new.config.jobs.presubmits)?;
        let (added, removed, migrated) = delta.counts();
        tracing::info!(
            added,
            removed,
            migrated,
            "identified {added} added blocking presubmits, {removed} removed presubmits and {migrated} migrated blocking presubmits"
        );
        let mut errors = Vec::new();
        let stop = |errors: &Vec<String>| !errors.is_empty() && !self.options.continue_on_error;
        self.trigger_new(&delta.added, new, &mut errors).await;
        if stop(&errors) {
            return Ok(Pass::with_errors(errors));
        }
        let retire = delta.removed.iter().map(|(&org_repo, jobs)| {
            let modes = jobs.iter().map(|job| {
                let context = job.context.clone();
                (Mode::Retire { context }, *job)
            });
            (org_repo, modes.collect())
        });
        self.apply_modes(retire.collect(), &mut errors).await;
        if stop(&errors) {
            return Ok(Pass::with_errors(errors));
        }
        let moves = delta.migrated.iter().map(|(&org_repo, migrations)| {
            let modes = migrations.iter().map(|m| {
                let (from, to) = (m.from.context.clone(), m.to.context.clone());
                (Mode::Move { from, to }, m.from)
            });
            (org_repo, modes.collect())
        });
        self.apply_modes(moves.collect(), &mut errors).await;
        Ok(Pass::with_errors(errors))
    }

    fn migrate_options(&self) -> MigrateOptions {
        let mut options = MigrateOptions::default();
        options.continue_on_error = self.options.continue_on_error;
        options.dry_run = self.options.dry_run;
        options
    }

    async fn trigger_new(
        &self,
        added: &BTreeMap<&str, Vec<&Presubmit>>,
        config: &ConfigSnapshot,
        errors: &mut Vec<String>,
    ) {
        for (&org_repo, jobs) in added.iter().filter(|(_, jobs)| !jobs.is_empty()) {
            let Some((org, repo)) = org_repo.split_once('/') else {
                errors.push(format!(
                    "string {org_repo:?} can not be interpreted as org/repo"
                ));
                continue;
            };
            if Options::denied(&self.options.denylist, org, org_repo)
                || Options::denied(&self.options.denylist_all, org, org_repo)
            {
                tracing::info!(org, repo, "denylisted: not running the added presubmits");
                continue;
            }
            let prs = match self.github.pull_requests(org, repo).await {
                Ok(prs) => prs,
                Err(e) => {
                    errors.push(format!("failed to list pull requests for {org_repo}: {e}"));
                    if self.options.continue_on_error {
                        continue;
                    }
                    return;
                }
            };
            for pr in &prs {
                if let Err(e) = self.trigger_on(config, (org, repo), pr, jobs).await {
                    errors.push(format!(
                        "failed to trigger jobs for {org_repo}#{}: {e}",
                        pr.number
                    ));
                    if !self.options.continue_on_error {
                        return;
                    }
                }
            }
        }
    }

    /// Runs those of `jobs` that should run on `pr`, if it is trusted.
    async fn trigger_on(
        &self,
        config: &ConfigSnapshot,
        (org, repo): (&str, &str),
        pr: &PullRequest,
        jobs: &[&Presubmit],
    ) -> Result<(), String> {
        if pr.mergeable == Some(false) {
            // Jobs would fail at once on the conflict; the author's next push runs them.
            tracing::debug!(org, repo, pr = pr.number, "not mergeable: nothing to run");
            return Ok(());
        }
        let branch = pr.base.git_ref.as_str();
        let needs_files = jobs.iter().any(|j| j.has_change_rule());
        let files: Vec<String> = if needs_files {
            self.github
                .pull_request_files(org, repo, pr.number)
                .await
                .map_err(|e| format!("list the changed files: {e}"))?
                .into_iter()
                .map(|f| f.filename)
                .collect()
        } else {
            Vec::new()
        };
        let mut to_run = Vec::new();
        for job in jobs {
            // Not forced, and no default: a job whose change rule changed runs only where
            // the new rule matches.
            let runs = job
                .should_run(branch, files.as_slice(), false, false)
                .map_err(|e| format!("{}: should run: {e}", job.name))?;
            if runs {
                to_run.push(*job);
            }
        }
        if to_run.is_empty() {
            return Ok(());
        }
        if !self.trusted(config, (org, repo), pr).await.map_err(|e| {
            format!(
                "failed to determine if {org}/{repo}#{} is trusted: {e}",
                pr.number
            )
        })? {
            tracing::info!(
                org,
                repo,
                pr = pr.number,
                author = %pr.user.login,
                "not trusted and no ok-to-test label: not running the added presubmits"
            );
            return Ok(());
        }
        let names: Vec<&str> = to_run.iter().map(|j| j.name.as_str()).collect();
        tracing::info!(org, repo, pr = pr.number, to_trigger = ?names, "triggering new ProwJobs to create newly-required contexts");
        let base_sha = self
            .github
            .ref_sha(org, repo, &format!("heads/{branch}"))
            .await
            .map_err(|e| format!("failed to get baseSHA: {e}"))?;
        let now = self.clock.now();
        let mut failed = Vec::new();
        for job in to_run {
            let pj = presubmit_job(
                (org, repo),
                pr,
                &base_sha,
                job,
                EVENT_GUID,
                &Metadata::new(),
                now,
            )
            .map_err(|e| e.to_string())?;
            if self.options.dry_run {
                tracing::info!(org, repo, pr = pr.number, job = %job.name, "dry run: would create a ProwJob");
                continue;
            }
            match self.store.create(pj).await {
                Ok(created) => {
                    tracing::info!(org, repo, pr = pr.number, job = %job.name, prowjob = created.metadata.name.as_deref().unwrap_or_default(), "created a ProwJob");
                }
                Err(e) => failed.push(format!("create {}: {e}", job.name)),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join(", "))
        }
    }

    /// Upstream's `TrustedPullRequest`: a trusted author, or the `ok-to-test` label.
    async fn trusted(
        &self,
        config: &ConfigSnapshot,
        (org, repo): (&str, &str),
        pr: &PullRequest,
    ) -> Result<bool, String> {
        let trigger = trigger_for(&config.plugins, org, repo);
        let author = pr.user.login.as_str();
        let trusted =
            trust::trusted_user(self.github.as_ref(), &trigger, &self.bot, author, org, repo)
                .await
                .map_err(|e| e.to_string())?;
        if trusted {
            return Ok(true);
        }
        let labels = self
            .github
            .issue_labels(org, repo, pr.number)
            .await
            .map_err(|e| format!("read the labels: {e}"))?;
        Ok(labels
            .iter()
            .any(|l| l.name.eq_ignore_ascii_case(OK_TO_TEST)))
    }

    /// Applies `work`: per `org/repo`, each mode on the open pull requests whose base branch
    /// the job (as it was) runs on.
    async fn apply_modes(
        &self,
        work: Vec<(&str, Vec<(Mode, &Presubmit)>)>,
        errors: &mut Vec<String>,
    ) {
        for (org_repo, modes) in work.into_iter().filter(|(_, modes)| !modes.is_empty()) {
            let Some((org, repo)) = org_repo.split_once('/') else {
                errors.push(format!(
                    "string {org_repo:?} can not be interpreted as org/repo"
                ));
                continue;
            };
            if Options::denied(&self.options.denylist_all, org, org_repo) {
                tracing::info!(org, repo, "denylisted: not retiring or moving contexts");
                continue;
            }
            for (mode, job) in modes {
                match &mode {
                    Mode::Retire { context } => {
                        tracing::info!(org, repo, context = %context, "retiring context");
                    }
                    Mode::Move { from, to } => {
                        tracing::info!(org, repo, from = %from, to = %to, "migrating context");
                    }
                }
                let failed = migrator::migrate(
                    self.github.as_ref(),
                    (org, repo),
                    &mode,
                    |branch| job.could_run(branch),
                    self.migrate_options(),
                )
                .await;
                let stop = !failed.is_empty() && !self.options.continue_on_error;
                errors.extend(failed);
                if stop {
                    return;
                }
            }
        }
    }

    /// The presubmits to compare the first configuration with: those saved at
    /// `--status-path` by an earlier run, or none (then the first configuration is only
    /// recorded).
    fn baseline(&self) -> Option<Presubmits> {
        let path = self.options.status_path.as_ref()?;
        match state::load(path) {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the stored state; reconciling from the next change");
                None
            }
        }
    }

    fn save(&self, presubmits: &Presubmits) {
        let Some(path) = &self.options.status_path else {
            return;
        };
        match state::save(path, presubmits) {
            Ok(()) => tracing::debug!(path = %path.display(), "saved status state"),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot save the state"),
        }
    }
}

fn trigger_for(plugins: &PluginConfig, org: &str, repo: &str) -> prow_config::plugins::Trigger {
    plugins.trigger_for(org, repo)
}

#[async_trait::async_trait]
impl prow_jobs::controller::Controller for StatusReconciler {
    fn name(&self) -> &'static str {
        "status-reconciler"
    }

    fn resync_period(&self, _config: &ConfigSnapshot) -> Duration {
        RESYNC
    }

    async fn reconcile(&self, config: &ConfigSnapshot, wake: Wake) -> Result<Pass, PassError> {
        let current = Baseline::Config(config.config.clone());
        let previous = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            last.replace(current.clone())
        };
        let previous =
            match previous.or_else(|| self.baseline().map(|p| Baseline::Stored(Arc::new(p)))) {
                Some(previous) => previous,
                None => {
                    tracing::info!(
                        "recorded the presubmits in force; reconciling from the next change"
                    );
                    self.save(current.presubmits());
                    return Ok(Pass::default());
                }
            };
        let unchanged = match &previous {
            Baseline::Config(old) => Arc::ptr_eq(old, &config.config),
            Baseline::Stored(_) => false,
        } || previous.presubmits() == current.presubmits();
        if unchanged {
            tracing::debug!(?wake, "presubmits unchanged: nothing to reconcile");
            return Ok(Pass::default());
        }
        // As upstream, the new configuration is the baseline from now on whatever happens:
        // a pull request that failed is not retried at the next change.
        let outcome = self.reconcile_change(previous.presubmits(), config).await;
        self.save(current.presubmits());
        outcome
    }
}
