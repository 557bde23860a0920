//! The downward API: what a running job learns about itself, as `JOB_SPEC` and env vars.

use std::collections::BTreeMap;

use prow_core::k8s_openapi::api::core::v1::EnvVar;
use prow_core::{DecorationConfig, ProwJobAgent, ProwJobSpec, ProwJobType, Refs};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::gojson::{self, Shape, shapes};

/// `CI`: always `true` in a job.
pub const CI: &str = "CI";
/// `JOB_SPEC`: the [`JobSpec`] as JSON.
pub const JOB_SPEC: &str = "JOB_SPEC";
/// `JOB_NAME`: the job's name.
pub const JOB_NAME: &str = "JOB_NAME";
/// `JOB_TYPE`: presubmit, postsubmit, periodic or batch.
pub const JOB_TYPE: &str = "JOB_TYPE";
/// `PROW_JOB_ID`: the ProwJob's name.
pub const PROW_JOB_ID: &str = "PROW_JOB_ID";
/// `BUILD_ID`: the build ID.
pub const BUILD_ID: &str = "BUILD_ID";
/// `BUILD_NUMBER`: the build ID again, for jobs run by the kubernetes agent (deprecated).
pub const BUILD_NUMBER: &str = "BUILD_NUMBER";
/// `REPO_OWNER`: the org of the refs.
pub const REPO_OWNER: &str = "REPO_OWNER";
/// `REPO_NAME`: the repo of the refs.
pub const REPO_NAME: &str = "REPO_NAME";
/// `SRC_BASE`: the repository's path under its host, such as `org/repo`.
pub const SRC_BASE: &str = "SRC_BASE";
/// `SRC_HOST`: the repository's host, such as `github.com`.
pub const SRC_HOST: &str = "SRC_HOST";
/// `PULL_BASE_REF`: the base branch.
pub const PULL_BASE_REF: &str = "PULL_BASE_REF";
/// `PULL_BASE_SHA`: the base commit.
pub const PULL_BASE_SHA: &str = "PULL_BASE_SHA";
/// `PULL_REFS`: the refs in `base_ref:base_sha,number:sha` form.
pub const PULL_REFS: &str = "PULL_REFS";
/// `PULL_NUMBER`: the first pull request's number.
pub const PULL_NUMBER: &str = "PULL_NUMBER";
/// `PULL_PULL_SHA`: the first pull request's head commit.
pub const PULL_PULL_SHA: &str = "PULL_PULL_SHA";
/// `PULL_HEAD_REF`: the first pull request's source branch.
pub const PULL_HEAD_REF: &str = "PULL_HEAD_REF";
/// `PULL_TITLE`: the first pull request's title.
pub const PULL_TITLE: &str = "PULL_TITLE";

/// The host assumed for repositories that say nothing else.
pub const DEFAULT_HOST: &str = "github.com";

/// What a job is told about itself in `JOB_SPEC`; field order and names are Prow's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The job's type.
    #[serde(rename = "type")]
    pub job_type: ProwJobType,
    /// The job's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub job: String,
    /// The build ID.
    #[serde(default, rename = "buildid", skip_serializing_if = "String::is_empty")]
    pub build_id: String,
    /// The ProwJob's name.
    #[serde(
        default,
        rename = "prowjobid",
        skip_serializing_if = "String::is_empty"
    )]
    pub prow_job_id: String,
    /// The refs under test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refs: Option<Refs>,
    /// Further repositories the job checks out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_refs: Vec<Refs>,
    /// The decoration config, when the job is decorated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoration_config: Option<DecorationConfig>,
    /// The agent, kept only to decide on `BUILD_NUMBER`; never written.
    #[serde(skip)]
    pub agent: ProwJobAgent,
}

impl JobSpec {
    /// The job spec of a ProwJob's `spec` for one build.
    pub fn new(spec: &ProwJobSpec, build_id: &str, prow_job_id: &str) -> Self {
        JobSpec {
            job_type: spec.job_type,
            job: spec.job.clone(),
            build_id: build_id.to_owned(),
            prow_job_id: prow_job_id.to_owned(),
            refs: spec.refs.clone(),
            extra_refs: spec.extra_refs.clone(),
            decoration_config: spec.decoration_config.as_deref().cloned(),
            agent: spec.agent.clone(),
        }
    }

    /// The `JOB_SPEC` value: this spec as Go would marshal it.
    pub fn to_json(&self) -> Result<String, Error> {
        const SHAPE: Shape = Shape::Within(&[("decoration_config", shapes::DECORATION_CONFIG)]);
        gojson::to_string_shaped(self, &SHAPE, JOB_SPEC)
    }
}

/// The environment a job of `spec` gets, by name (so in the order it is emitted).
pub fn env_for_spec(spec: &JobSpec) -> Result<BTreeMap<String, String>, Error> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    set(CI, "true".to_owned());
    set(JOB_NAME, spec.job.clone());
    set(BUILD_ID, spec.build_id.clone());
    set(PROW_JOB_ID, spec.prow_job_id.clone());
    set(JOB_TYPE, spec.job_type.as_str().to_owned());
    // Older jobs read the build ID from BUILD_NUMBER; Prow keeps it for its own agent only.
    if spec.agent == ProwJobAgent::Kubernetes {
        set(BUILD_NUMBER, spec.build_id.clone());
    }
    set(JOB_SPEC, spec.to_json()?);

    if spec.job_type == ProwJobType::Periodic {
        return Ok(env);
    }
    let refs = spec.refs.as_ref().ok_or_else(|| Error::MissingRefs {
        job_type: spec.job_type,
        job: spec.job.clone(),
    })?;
    set(REPO_OWNER, refs.org.clone());
    set(REPO_NAME, refs.repo.clone());
    let (host, base) = source_host_and_base(refs);
    set(SRC_HOST, host);
    set(SRC_BASE, base);
    set(PULL_BASE_REF, refs.base_ref.clone());
    set(PULL_BASE_SHA, refs.base_sha.clone());
    set(PULL_REFS, refs.pull_refs());

    if matches!(spec.job_type, ProwJobType::Postsubmit | ProwJobType::Batch) {
        return Ok(env);
    }
    let pull = refs.pulls.first().ok_or_else(|| Error::MissingPull {
        job: spec.job.clone(),
    })?;
    set(PULL_NUMBER, pull.number.to_string());
    set(PULL_PULL_SHA, pull.sha.clone());
    set(PULL_HEAD_REF, pull.head_ref.clone());
    set(PULL_TITLE, pull.title.clone());
    Ok(env)
}

/// `SRC_HOST` and `SRC_BASE`: from `path_alias` (`host/base`), else the repository link
/// without its scheme, else `github.com` and `org/repo` — the same choice clonerefs makes for
/// the clone path.
fn source_host_and_base(refs: &Refs) -> (String, String) {
    let split = |text: &str| match text.split_once('/') {
        Some((host, base)) => (host.to_owned(), base.to_owned()),
        None => (text.to_owned(), format!("{}/{}", refs.org, refs.repo)),
    };
    if !refs.path_alias.is_empty() {
        split(&refs.path_alias)
    } else if !refs.repo_link.is_empty() {
        let without_scheme = refs.repo_link.rsplit("://").next().unwrap_or_default();
        split(without_scheme)
    } else {
        (
            DEFAULT_HOST.to_owned(),
            format!("{}/{}", refs.org, refs.repo),
        )
    }
}

/// The variable names reserved for a job type; job configs may not set them.
pub fn env_for_type(job_type: ProwJobType) -> Vec<&'static str> {
    let base = [
        CI,
        JOB_NAME,
        JOB_SPEC,
        JOB_TYPE,
        PROW_JOB_ID,
        BUILD_ID,
        BUILD_NUMBER,
    ];
    let refs = [
        REPO_OWNER,
        REPO_NAME,
        SRC_BASE,
        SRC_HOST,
        PULL_BASE_REF,
        PULL_BASE_SHA,
        PULL_REFS,
    ];
    let pull = [PULL_NUMBER, PULL_PULL_SHA, PULL_HEAD_REF, PULL_TITLE];
    match job_type {
        ProwJobType::Periodic => base.to_vec(),
        ProwJobType::Postsubmit | ProwJobType::Batch => [&base[..], &refs[..]].concat(),
        ProwJobType::Presubmit => [&base[..], &refs[..], &pull[..]].concat(),
    }
}

/// Kubernetes env vars from a name → value map, sorted by name; empty values are left unset
/// as Go leaves them.
pub fn kube_env(env: &BTreeMap<String, String>) -> Vec<EnvVar> {
    env.iter()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            value: (!value.is_empty()).then(|| value.clone()),
            value_from: None,
        })
        .collect()
}

/// Reads the job spec from a `JOB_SPEC` value, as the pod utilities do at start.
pub fn resolve_spec(job_spec: Option<&str>) -> Result<JobSpec, Error> {
    let text = job_spec.ok_or_else(|| Error::InvalidOptions {
        utility: "job spec",
        reason: format!("${JOB_SPEC} unset"),
    })?;
    serde_json::from_str(text).map_err(|e| Error::InvalidOptions {
        utility: "job spec",
        reason: format!("malformed ${JOB_SPEC}: {e}"),
    })
}
