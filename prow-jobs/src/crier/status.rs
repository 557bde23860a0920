//! Which ProwJobs crier's GitHub reporter handles, and the commit status it sets for one (upstream
//! `pkg/crier/reporters/github` and `pkg/github/report`), as pure code.

use prow_config::prow::GitHubReporter as ReporterConfig;
use prow_core::{ProwJob, ProwJobState, ProwJobType, labels};
use prow_github::types::{Status, StatusState};

/// The reporter's name: its key in `status.prev_report_states`.
pub const REPORTER_NAME: &str = "github-reporter";

/// GitHub's limit on a status description, in bytes.
pub const DESCRIPTION_MAX_LEN: usize = 140;

/// What separates a description from the base SHA appended to it; tide reads the SHA back.
pub const BASE_SHA_DELIMITER: &str = " BaseSHA:";

/// What replaces the middle of a description that is too long.
const ELIDE: &str = " ... ";

/// Pads the base SHA to the right edge of GitHub's status list. It is U+2001 (EM QUAD), not a
/// space: GitHub's web page collapses runs of ordinary spaces.
const PAD: char = '\u{2001}';

/// The job types reported when `job_types_to_report` is empty, as Prow defaults it.
pub const DEFAULT_JOB_TYPES: [ProwJobType; 2] = [ProwJobType::Presubmit, ProwJobType::Postsubmit];

/// Whether `job_type` is among the configured `job_types_to_report` (Prow's default when the
/// list is empty).
pub fn reports_type(config: &ReporterConfig, job_type: ProwJobType) -> bool {
    if config.job_types_to_report.is_empty() {
        return DEFAULT_JOB_TYPES.contains(&job_type);
    }
    config
        .job_types_to_report
        .iter()
        .any(|t| t == job_type.as_str())
}

/// Whether the reporter should report `job` now: it asks to be reported (`report`, that is not
/// `skip_report`), it is not Gerrit's, it is a presubmit or postsubmit whose type is in
/// `job_types_to_report`, it names a repository, its state means something on GitHub, and that
/// state has not been reported yet.
pub fn should_report(job: &ProwJob, config: &ReporterConfig) -> bool {
    let spec = &job.spec;
    if !spec.report {
        return false;
    }
    let gerrit = job
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(labels::GERRIT_REPORT_LABEL))
        .is_some_and(|v| !v.is_empty());
    if gerrit {
        return false;
    }
    // Prow's GitHub reporter handles these two types only, whatever the configuration lists.
    if !matches!(
        spec.job_type,
        ProwJobType::Presubmit | ProwJobType::Postsubmit
    ) || !reports_type(config, spec.job_type)
    {
        return false;
    }
    if spec.refs.is_none() {
        return false;
    }
    let Some(status) = &job.status else {
        return false;
    };
    if github_state(status.state).is_none() {
        return false;
    }
    status.prev_report_states.get(REPORTER_NAME) != Some(&status.state)
}

/// The GitHub status state of a job state; `None` for `scheduling`, which GitHub is not told.
pub fn github_state(state: ProwJobState) -> Option<StatusState> {
    match state {
        ProwJobState::Triggered | ProwJobState::Pending => Some(StatusState::Pending),
        ProwJobState::Success => Some(StatusState::Success),
        ProwJobState::Failure | ProwJobState::Aborted => Some(StatusState::Failure),
        ProwJobState::Error => Some(StatusState::Error),
        ProwJobState::Scheduling => None,
    }
}

/// A commit status to set and where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusUpdate {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The commit: the pull request's head, or the base for postsubmits.
    pub sha: String,
    /// The status.
    pub status: Status,
}

/// The status to set for `job`, or `None` when it gets none: it does not report, its type is
/// not in `job_types_to_report`, it has no refs, it tests several pull requests together
/// (batches are not reported), or its state means nothing on GitHub.
pub fn status_update(job: &ProwJob, config: &ReporterConfig) -> Option<StatusUpdate> {
    let spec = &job.spec;
    if !spec.report || !reports_type(config, spec.job_type) {
        return None;
    }
    let refs = spec.refs.as_ref()?;
    if refs.pulls.len() > 1 {
        return None;
    }
    let status = job.status.as_ref()?;
    let state = github_state(status.state)?;
    let sha = refs
        .pulls
        .first()
        .map_or(refs.base_sha.as_str(), |p| p.sha.as_str());
    let description = description_with_base_sha(&status.description, &refs.base_sha);
    Some(StatusUpdate {
        org: refs.org.clone(),
        repo: refs.repo.clone(),
        sha: sha.to_owned(),
        status: Status {
            state,
            target_url: non_empty(&status.url),
            description: non_empty(&description),
            context: spec.context.clone(),
        },
    })
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The status description Prow writes: the job's description, shortened to fit, followed by the
/// base SHA (when there is one) pushed to the right edge with padding, so tide can read back
/// which base a result was for.
pub fn description_with_base_sha(description: &str, base_sha: &str) -> String {
    let mut suffix = String::new();
    if !base_sha.is_empty() {
        suffix = format!("{BASE_SHA_DELIMITER}{base_sha}");
        // The padding is counted in bytes, and the loop bound is re-evaluated after every
        // three-byte pad, exactly as Prow counts it, so both write the same string.
        let mut i = 0;
        while description.len() + suffix.len() < DESCRIPTION_MAX_LEN
            && i < DESCRIPTION_MAX_LEN - (description.len() + suffix.len())
        {
            suffix.insert(0, PAD);
            i += 1;
        }
    }
    let room = DESCRIPTION_MAX_LEN.saturating_sub(suffix.len());
    format!("{}{suffix}", truncate(description, room))
}

/// Shortens `text` to about `max_len` bytes by cutting out its middle: `"really ... messages"`.
pub fn truncate(text: &str, max_len: usize) -> String {
    if text.len() <= max_len {
        return text.to_owned();
    }
    let half = max_len.saturating_sub(ELIDE.len()) / 2;
    // Cut on character boundaries, never inside one, keeping at most `half` bytes each side.
    let mut head = half;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - half;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{}{ELIDE}{}", &text[..head], &text[tail..])
}
