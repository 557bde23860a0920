//! The GitHub reporter: sets a job's commit status and keeps the failed-tests comment, through
//! [`GitHubClient`].

use std::sync::Arc;

use prow_config::prow::{GitHubReporter as ReporterConfig, Plank};
use prow_core::ProwJob;
use prow_github::{Error as GitHubError, GitHubClient};
use tokio::sync::OnceCell;

use super::CrierError;
use super::comment::{CommentPlan, CommentWrite, plan_comment, summary_jobs};
use super::status::{StatusUpdate, reports_type, status_update};

/// GitHub's answer when a context has too many statuses on one commit; nothing will fix it.
const TOO_MANY_STATUSES: &str = "This SHA and context has reached the maximum number of statuses";

/// GitHub's answer when the commit is gone (force-pushed away).
const NO_COMMIT: &str = "No commit found for SHA";

/// What [`GitHubReporter::report`] did for a job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportOutcome {
    /// The status set, if one was.
    pub status: Option<StatusUpdate>,
    /// Why GitHub would not take the status, when that can never change (the commit is gone,
    /// or the context has too many statuses); the job counts as reported.
    pub status_refused: Option<String>,
    /// What was done with the failed-tests comment.
    pub comment: CommentPlan,
}

/// Crier's GitHub reporter.
#[derive(Clone)]
pub struct GitHubReporter {
    client: Arc<dyn GitHubClient>,
    bot: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for GitHubReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubReporter")
            .field("bot", &self.bot.get())
            .finish_non_exhaustive()
    }
}

impl GitHubReporter {
    /// A reporter acting through `client`.
    pub fn new(client: Arc<dyn GitHubClient>) -> Self {
        GitHubReporter {
            client,
            bot: Arc::new(OnceCell::new()),
        }
    }

    /// Reports `job` to GitHub, unless it does not report or its type is not in
    /// `job_types_to_report`: sets its status, then (for a completed job on one pull request,
    /// unless its repository is in `no_comment_repos`) updates the failed-tests comment. For
    /// repositories in `summary_comment_repos` the comment summarises the newest run of every
    /// job on the pull request, taken from `jobs` (the stored jobs; unused otherwise), once all
    /// have finished. A failed-tests comment carries the repository's report template from
    /// `plank` (`report_templates`), rendered over `job`; a template that fails to render is
    /// logged and left out. Does not check [`should_report`](super::should_report): the caller
    /// decides.
    pub async fn report<J: std::borrow::Borrow<ProwJob> + Sync>(
        &self,
        job: &ProwJob,
        config: &ReporterConfig,
        plank: &Plank,
        jobs: &[J],
    ) -> Result<ReportOutcome, CrierError> {
        let mut outcome = ReportOutcome::default();
        if !job.spec.report || !reports_type(config, job.spec.job_type) {
            return Ok(outcome);
        }
        if let Some(update) = status_update(job, config) {
            let set = self
                .client
                .create_status(&update.org, &update.repo, &update.sha, &update.status)
                .await;
            match set {
                Ok(()) => outcome.status = Some(update),
                Err(e) if is_permanent(&e) => {
                    // Prow stops here too: neither a retry nor a comment can help.
                    outcome.status_refused = Some(e.to_string());
                    return Ok(outcome);
                }
                Err(source) => return Err(github_error(job, "set status", source)),
            }
        }
        if in_repos(job, &config.no_comment_repos) {
            return Ok(outcome);
        }
        let Some(refs) = &job.spec.refs else {
            return Ok(outcome);
        };
        let [pull] = refs.pulls.as_slice() else {
            return Ok(outcome);
        };
        if !job.is_complete() {
            return Ok(outcome);
        }
        let comments = self
            .client
            .issue_comments(&refs.org, &refs.repo, pull.number)
            .await
            .map_err(|e| github_error(job, "list comments", e))?;
        let bot = self.bot_login(job).await?;
        let report = report_text(job, plank, &refs.org, &refs.repo);
        let report = report.as_deref();
        let plan = if in_repos(job, &config.summary_comment_repos) {
            let reported: Vec<&ProwJob> = summary_jobs(job, jobs)
                .into_iter()
                .filter(|j| reports_type(config, j.spec.job_type))
                .collect();
            plan_comment(&reported, bot, &comments, true, report)
        } else {
            plan_comment(&[job], bot, &comments, false, report)
        };
        for &id in &plan.delete {
            self.client
                .delete_comment(&refs.org, &refs.repo, id)
                .await
                .map_err(|e| github_error(job, "delete comment", e))?;
        }
        match &plan.write {
            Some(CommentWrite::Create { body }) => {
                self.client
                    .create_comment(&refs.org, &refs.repo, pull.number, body)
                    .await
                    .map_err(|e| github_error(job, "create comment", e))?;
            }
            Some(CommentWrite::Edit { id, body }) => {
                self.client
                    .edit_comment(&refs.org, &refs.repo, *id, body)
                    .await
                    .map_err(|e| github_error(job, "edit comment", e))?;
            }
            None => {}
        }
        outcome.comment = plan;
        Ok(outcome)
    }

    /// The bot's login, asked once.
    async fn bot_login(&self, job: &ProwJob) -> Result<&str, CrierError> {
        let login = self
            .bot
            .get_or_try_init(|| async {
                self.client
                    .bot_user()
                    .await
                    .map(|u| u.login)
                    .map_err(|e| github_error(job, "get the bot's login", e))
            })
            .await?;
        Ok(login.as_str())
    }
}

/// The repository's report template rendered over `job`, if it has one and it renders.
fn report_text(job: &ProwJob, plank: &Plank, org: &str, repo: &str) -> Option<String> {
    let text = plank.report_template_for(org, repo)?;
    match crate::template::render("report_template", text, job) {
        Ok(rendered) => Some(rendered),
        Err(error) => {
            tracing::error!(prowjob = %job.name(), %error, "failed to render the report template");
            None
        }
    }
}

/// Whether the job's org or org/repo is in `repos` (`no_comment_repos`,
/// `summary_comment_repos`).
pub(crate) fn in_repos(job: &ProwJob, repos: &[String]) -> bool {
    let Some(refs) = &job.spec.refs else {
        return false;
    };
    let full = format!("{}/{}", refs.org, refs.repo);
    repos
        .iter()
        .any(|ident| *ident == refs.org || *ident == full)
}

/// Whether GitHub refused a status for good, so that retrying is pointless.
fn is_permanent(error: &GitHubError) -> bool {
    if matches!(error, GitHubError::NotFound { .. }) {
        return true;
    }
    let text = error.to_string();
    text.contains(TOO_MANY_STATUSES) || text.contains(NO_COMMIT)
}

fn github_error(job: &ProwJob, action: &'static str, source: GitHubError) -> CrierError {
    CrierError::GitHub {
        job: job.name().to_owned(),
        action,
        source,
    }
}
