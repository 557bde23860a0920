//! Which jobs deck shows: hidden jobs, the job list's filters and `/prowjobs.js`'s `omit`.

use std::collections::BTreeMap;

use prow_core::k8s_openapi::api::core::v1::{Container, PodSpec};
use prow_core::{ProwJob, Refs};

/// The job list's filters, from the query string of `/` (every one optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobFilter {
    /// `org/repo` of the job's main refs (or first extra refs).
    pub repo: Option<String>,
    /// A glob over the job name (`pull-*`).
    pub job: Option<String>,
    /// `presubmit`, `postsubmit`, `periodic` or `batch`.
    pub job_type: Option<String>,
    /// The job's state.
    pub state: Option<String>,
    /// The author of one of the job's pull requests (case-insensitive).
    pub author: Option<String>,
    /// One of the job's pull request numbers.
    pub pull: Option<u64>,
}

impl JobFilter {
    /// The filter from query parameters `repo`, `job`, `type`, `state`, `author` and `pull`;
    /// empty values filter nothing. A `pull` that is not a number matches no job.
    pub fn from_query(query: &BTreeMap<String, String>) -> JobFilter {
        let get = |key: &str| query.get(key).filter(|v| !v.is_empty()).cloned();
        JobFilter {
            repo: get("repo"),
            job: get("job"),
            job_type: get("type"),
            state: get("state"),
            author: get("author"),
            pull: get("pull").map(|p| p.parse().unwrap_or(0)),
        }
    }

    /// Whether `job` passes every filter.
    pub fn matches(&self, job: &ProwJob) -> bool {
        let refs = main_refs(job);
        if let Some(repo) = &self.repo
            && refs.map(|r| format!("{}/{}", r.org, r.repo)).as_deref() != Some(repo.as_str())
        {
            return false;
        }
        if let Some(pattern) = &self.job {
            let matched = globset::Glob::new(pattern)
                .map(|g| g.compile_matcher().is_match(&job.spec.job))
                .unwrap_or(false);
            if !matched {
                return false;
            }
        }
        if let Some(kind) = &self.job_type
            && job.spec.job_type.as_str() != kind
        {
            return false;
        }
        if let Some(state) = &self.state
            && state_of(job) != state
        {
            return false;
        }
        let pulls = job.spec.refs.as_ref().map_or(&[][..], |r| &r.pulls[..]);
        if let Some(author) = &self.author
            && !pulls.iter().any(|p| p.author.eq_ignore_ascii_case(author))
        {
            return false;
        }
        if let Some(pull) = self.pull
            && !pulls.iter().any(|p| p.number == pull)
        {
            return false;
        }
        true
    }
}

/// The refs deck shows a job under: its own, else its first extra refs.
pub fn main_refs(job: &ProwJob) -> Option<&Refs> {
    job.spec.refs.as_ref().or(job.spec.extra_refs.first())
}

/// The job's state as Prow writes it (`triggered` when it has no status yet).
pub fn state_of(job: &ProwJob) -> &'static str {
    job.status
        .as_ref()
        .map_or("triggered", |s| s.state.as_str())
}

/// Whether deck hides the job: `hidden: true`, or its refs' org or org/repo is listed in
/// `deck.hidden_repos` (Prow's default deck, which shows no hidden jobs).
pub fn is_hidden(job: &ProwJob, hidden_repos: &[String]) -> bool {
    if job.spec.hidden {
        return true;
    }
    let refs = job.spec.refs.iter().chain(job.spec.extra_refs.iter());
    refs.into_iter().any(|r| {
        // `org/repo` compared piece by piece: deck runs this for every job on every list.
        let is_org_repo = |h: &str| {
            h.strip_prefix(r.org.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|repo| repo == r.repo)
        };
        hidden_repos.iter().any(|h| *h == r.org || is_org_repo(h))
    })
}

/// The fields `/prowjobs.js?omit=` may strip (Prow's names).
pub const OMITTABLE: [&str; 4] = ["annotations", "labels", "decoration_config", "pod_spec"];

/// Strips the fields named in the comma-separated `omit` from `job`, as Prow's
/// `/prowjobs.js`: a stripped pod spec keeps one empty container per container so that the
/// page can still count them. Managed fields are always dropped.
pub fn omit_fields(job: &mut ProwJob, omit: &str) {
    let omit: Vec<&str> = omit.split(',').collect();
    job.metadata.managed_fields = None;
    if omit.contains(&"annotations") {
        job.metadata.annotations = None;
    }
    if omit.contains(&"labels") {
        job.metadata.labels = None;
    }
    if omit.contains(&"decoration_config") {
        job.spec.decoration_config = None;
    }
    if omit.contains(&"pod_spec")
        && let Some(spec) = &job.spec.pod_spec
    {
        job.spec.pod_spec = Some(std::sync::Arc::new(PodSpec {
            // Go writes an empty container as `{"name":"","resources":{}}`.
            containers: vec![
                Container {
                    resources: Some(Default::default()),
                    ..Container::default()
                };
                spec.containers.len()
            ],
            ..PodSpec::default()
        }));
    }
}

/// The filters of Prow's `/prowjobs.js`: `org` and `repo` (exact, against the main refs or
/// else any extra refs) and `owner` (a pull request author, exact).
pub fn matches_api_query(job: &ProwJob, org: &str, repo: &str, owner: &str) -> bool {
    fn org_of(r: &Refs) -> &str {
        &r.org
    }
    fn repo_of(r: &Refs) -> &str {
        &r.repo
    }
    let refs_match = |field: fn(&Refs) -> &str, value: &str| match &job.spec.refs {
        Some(refs) => field(refs) == value,
        None => job.spec.extra_refs.iter().any(|r| field(r) == value),
    };
    if !org.is_empty() && !refs_match(org_of, org) {
        return false;
    }
    if !repo.is_empty() && !refs_match(repo_of, repo) {
        return false;
    }
    if !owner.is_empty() {
        let Some(refs) = &job.spec.refs else {
            return false;
        };
        if !refs.pulls.iter().any(|p| p.author == owner) {
            return false;
        }
    }
    true
}

/// Newest first by start time, then by name, as deck's list shows them.
pub fn sort_newest_first<J: std::borrow::Borrow<ProwJob>>(jobs: &mut [J]) {
    jobs.sort_by(|a, b| {
        let (a, b) = (a.borrow(), b.borrow());
        let start = |j: &ProwJob| j.status.as_ref().and_then(|s| s.start_time.clone());
        start(b)
            .cmp(&start(a))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}
