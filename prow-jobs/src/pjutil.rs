//! ProwJobs from configured jobs, as Prow's `pjutil` makes them: specs per job type, refs
//! completed from the job's clone settings, labels and annotations, a random name, `triggered`.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use prow_config::{Periodic, Postsubmit, Presubmit};
use prow_core::labels::{EVENT_GUID, IS_OPTIONAL};
use prow_core::{
    DecorationConfig, ProwJob, ProwJobAgent, ProwJobSpec, ProwJobState, ProwJobStatus, ProwJobType,
    Refs, k8s_openapi,
};

use crate::error::Error;
use crate::labels::{Metadata, labels_and_annotations_for_spec};

/// The spec fields every job kind shares (Prow's `specFromJobBase`).
macro_rules! spec_from_base {
    ($job:expr, $job_type:expr) => {{
        let job = $job;
        Ok::<ProwJobSpec, Error>(ProwJobSpec {
            job_type: $job_type,
            agent: ProwJobAgent::from_name(&job.agent),
            cluster: job.cluster.clone(),
            namespace: job.namespace.clone().unwrap_or_default(),
            job: job.name.clone(),
            refs: None,
            extra_refs: decorate_extra_refs(&job.extra_refs, job.decoration_config.as_deref()),
            report: false,
            context: String::new(),
            rerun_command: String::new(),
            max_concurrency: job.max_concurrency,
            error_on_eviction: job.error_on_eviction,
            // The presets are merged here, when the ProwJob is made.
            pod_spec: job.effective_spec().map(|spec| Arc::new(spec.into_owned())),
            jenkins_spec: None,
            pipeline_run_spec: yaml_to_json(job.pipeline_run_spec.as_deref())?,
            tekton_pipeline_run_spec: yaml_to_json(job.tekton_pipeline_run_spec.as_deref())?
                .map(serde_json::from_value)
                .transpose()
                .map_err(|source| Error::Encode {
                    what: "tekton_pipeline_run_spec",
                    source,
                })?
                .map(Arc::new),
            decoration_config: job.decoration_config.clone(),
            reporter_config: job.reporter_config.as_deref().cloned().map(Arc::new),
            rerun_auth_config: job.rerun_auth_config.as_deref().cloned().map(Arc::new),
            hidden: job.hidden,
            prowjob_defaults: job.prowjob_defaults.clone(),
            job_queue_name: job.job_queue_name.clone(),
        })
    }};
}

/// The job's clone settings applied to its primary refs (Prow's `completePrimaryRefs`).
macro_rules! complete_primary_refs {
    ($refs:expr, $job:expr) => {{
        let mut refs: Refs = $refs;
        let job = $job;
        if !job.path_alias.is_empty() {
            refs.path_alias.clone_from(&job.path_alias);
        }
        if !job.clone_uri.is_empty() {
            refs.clone_uri.clone_from(&job.clone_uri);
        }
        refs.skip_submodules = job.skip_submodules;
        if job.clone_depth > 0 {
            refs.clone_depth = job.clone_depth;
        }
        refs.skip_fetch_head = job.skip_fetch_head;
        if let Some(dc) = &job.decoration_config {
            if dc.blobless_fetch.is_some() {
                refs.blobless_fetch = dc.blobless_fetch;
            }
            if !dc.sparse_checkout_files.is_empty() {
                refs.sparse_checkout_files
                    .clone_from(&dc.sparse_checkout_files);
            }
        }
        refs
    }};
}

fn yaml_to_json(value: Option<&serde_yaml::Value>) -> Result<Option<serde_json::Value>, Error> {
    value
        .map(serde_json::to_value)
        .transpose()
        .map_err(|source| Error::Encode {
            what: "pipeline run spec",
            source,
        })
}

/// Extra refs carry the decoration's blobless setting, as Prow's `DecorateExtraRefs` does.
fn decorate_extra_refs(refs: &[Refs], decoration: Option<&DecorationConfig>) -> Vec<Refs> {
    refs.iter()
        .cloned()
        .map(|mut r| {
            if let Some(blobless) = decoration.and_then(|d| d.blobless_fetch) {
                r.blobless_fetch = Some(blobless);
            }
            r
        })
        .collect()
}

/// The spec of a presubmit run for `refs` (which must name the pull requests).
pub fn presubmit_spec(job: &Presubmit, refs: Refs) -> Result<ProwJobSpec, Error> {
    let mut spec = spec_from_base!(job, ProwJobType::Presubmit)?;
    spec.context.clone_from(&job.context);
    spec.report = !job.skip_report;
    spec.rerun_command.clone_from(&job.rerun_command);
    spec.refs = Some(complete_primary_refs!(refs, job));
    Ok(spec)
}

/// The spec of a batch run (tide) of a presubmit over several pull requests.
pub fn batch_spec(job: &Presubmit, refs: Refs) -> Result<ProwJobSpec, Error> {
    let mut spec = spec_from_base!(job, ProwJobType::Batch)?;
    spec.context.clone_from(&job.context);
    spec.refs = Some(complete_primary_refs!(refs, job));
    Ok(spec)
}

/// The spec of a postsubmit run for `refs` (a pushed branch).
pub fn postsubmit_spec(job: &Postsubmit, refs: Refs) -> Result<ProwJobSpec, Error> {
    let mut spec = spec_from_base!(job, ProwJobType::Postsubmit)?;
    spec.context.clone_from(&job.context);
    spec.report = !job.skip_report;
    spec.refs = Some(complete_primary_refs!(refs, job));
    Ok(spec)
}

/// The spec of a periodic run.
pub fn periodic_spec(job: &Periodic) -> Result<ProwJobSpec, Error> {
    let mut spec = spec_from_base!(job, ProwJobType::Periodic)?;
    spec.report = true;
    Ok(spec)
}

/// A new ProwJob for `spec`: `labels` and `annotations` (the job's own, plus any extra) over
/// Prow's, a random UUID name, `triggered` since `now`.
pub fn new_prowjob(
    spec: ProwJobSpec,
    labels: &Metadata,
    annotations: &Metadata,
    now: Time,
) -> ProwJob {
    let (labels, annotations) = labels_and_annotations_for_spec(&spec, labels, annotations);
    let mut job = ProwJob::new(&uuid::Uuid::new_v4().to_string(), spec);
    job.metadata = ObjectMeta {
        name: job.metadata.name.take(),
        labels: Some(labels),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    };
    job.status = Some(ProwJobStatus {
        start_time: Some(now),
        state: ProwJobState::Triggered,
        ..ProwJobStatus::default()
    });
    job
}

/// The labels a presubmit ProwJob gets beyond the job's: the webhook delivery it came from
/// and whether it is optional (Prow's `NewPresubmit`).
pub fn presubmit_labels(job: &Presubmit, event_guid: &str, extra: &Metadata) -> Metadata {
    let mut labels: Metadata = job.labels.clone();
    labels.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    if !event_guid.is_empty() {
        labels.insert(EVENT_GUID.to_owned(), event_guid.to_owned());
    }
    labels.insert(IS_OPTIONAL.to_owned(), job.optional.to_string());
    labels
}

/// Refs for one pull request of `org/repo` on GitHub, with Prow's links.
pub fn pull_refs(
    org: &str,
    repo: &str,
    base_ref: &str,
    base_sha: &str,
    pull: prow_core::Pull,
) -> Refs {
    let repo_link = format!("https://github.com/{org}/{repo}");
    let mut pull = pull;
    if pull.link.is_empty() {
        pull.link = format!("{repo_link}/pull/{}", pull.number);
    }
    if pull.commit_link.is_empty() {
        pull.commit_link = format!("{repo_link}/pull/{}/commits/{}", pull.number, pull.sha);
    }
    if pull.author_link.is_empty() {
        pull.author_link = format!("https://github.com/{}", pull.author);
    }
    Refs {
        org: org.to_owned(),
        repo: repo.to_owned(),
        base_link: format!("{repo_link}/commit/{base_sha}"),
        repo_link,
        base_ref: base_ref.to_owned(),
        base_sha: base_sha.to_owned(),
        pulls: vec![pull],
        ..Refs::default()
    }
}

/// Refs for a branch of `org/repo` on GitHub at `base_sha`, with Prow's links.
pub fn branch_refs(org: &str, repo: &str, base_ref: &str, base_sha: &str) -> Refs {
    let repo_link = format!("https://github.com/{org}/{repo}");
    Refs {
        org: org.to_owned(),
        repo: repo.to_owned(),
        base_link: format!("{repo_link}/commit/{base_sha}"),
        repo_link,
        base_ref: base_ref.to_owned(),
        base_sha: base_sha.to_owned(),
        ..Refs::default()
    }
}

/// A configured job found by name, with the `org/repo` it belongs to.
#[derive(Debug, Clone, Copy)]
pub enum FoundJob<'a> {
    /// A presubmit of `org/repo`.
    Presubmit(&'a str, &'a Presubmit),
    /// A postsubmit of `org/repo`.
    Postsubmit(&'a str, &'a Postsubmit),
    /// A periodic.
    Periodic(&'a Periodic),
}

/// Looks a job up by name in presubmits, then postsubmits, then periodics, like mkpj.
pub fn find_job<'a>(jobs: &'a prow_config::JobConfig, name: &str) -> Option<FoundJob<'a>> {
    let presubmit = jobs.presubmits.iter().find_map(|(repo, list)| {
        list.iter()
            .find(|j| j.name == name)
            .map(|j| FoundJob::Presubmit(repo.as_str(), j))
    });
    let postsubmit = || {
        jobs.postsubmits.iter().find_map(|(repo, list)| {
            list.iter()
                .find(|j| j.name == name)
                .map(|j| FoundJob::Postsubmit(repo.as_str(), j))
        })
    };
    let periodic = || {
        jobs.periodics
            .iter()
            .find(|j| j.name == name)
            .map(FoundJob::Periodic)
    };
    presubmit.or_else(postsubmit).or_else(periodic)
}

/// What mkpj knows of a pull request before asking GitHub; empty fields are looked up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullQuery {
    /// The base branch.
    pub base_ref: String,
    /// The base commit.
    pub base_sha: String,
    /// The pull request (its number must be set).
    pub pull: prow_core::Pull,
}

/// Fills what `query` leaves empty from GitHub, as mkpj does: the pull request's author, head
/// SHA, head ref, title and base branch, and the base branch's head commit.
pub async fn complete_pull(
    github: &dyn prow_github::GitHubClient,
    org: &str,
    repo: &str,
    mut query: PullQuery,
) -> Result<PullQuery, prow_github::Error> {
    let needs_pr =
        query.pull.author.is_empty() || query.pull.sha.is_empty() || query.base_ref.is_empty();
    if needs_pr {
        let pr = github.pull_request(org, repo, query.pull.number).await?;
        let fill = |field: &mut String, value: &str| {
            if field.is_empty() {
                *field = value.to_owned();
            }
        };
        fill(&mut query.pull.author, &pr.user.login);
        fill(&mut query.pull.sha, &pr.head.sha);
        fill(&mut query.pull.head_ref, &pr.head.git_ref);
        fill(&mut query.pull.title, &pr.title);
        fill(&mut query.base_ref, &pr.base.git_ref);
    }
    if query.base_sha.is_empty() {
        query.base_sha = github
            .ref_sha(org, repo, &format!("heads/{}", query.base_ref))
            .await?;
    }
    Ok(query)
}

/// The head commit of `branch`, for a postsubmit whose base SHA was not given.
pub async fn branch_sha(
    github: &dyn prow_github::GitHubClient,
    org: &str,
    repo: &str,
    branch: &str,
) -> Result<String, prow_github::Error> {
    github.ref_sha(org, repo, &format!("heads/{branch}")).await
}
