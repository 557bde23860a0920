//! `started.json` and `finished.json`: the job metadata that deck and testgrid read.

use std::collections::BTreeMap;

use prow_core::Refs;
use serde::{Deserialize, Serialize};

use crate::clonerefs::CloneRecord;
use crate::downwardapi::JobSpec;

/// `started.json` (testgrid's `metadata.Started`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Started {
    /// Unix seconds when the job started.
    pub timestamp: i64,
    /// The machine that ran the job (deprecated).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// The pull request number of the main refs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pull: String,
    /// `org/repo` → `PULL_REFS` form of every repository checked out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub repos: BTreeMap<String, String>,
    /// The commit under test.
    #[serde(
        rename = "repo-commit",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub repo_commit: String,
    /// Free-form metadata (deprecated here; use finished.json).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Deprecated job version.
    #[serde(
        rename = "job-version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub job_version: String,
    /// Deprecated copy of `repo-commit`.
    #[serde(
        rename = "repo-version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub repo_version: String,
}

/// `finished.json` (testgrid's `metadata.Finished`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    /// Unix seconds when the job finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Whether the job passed.
    pub passed: Option<bool>,
    /// Metadata the job wrote, merged from every container.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// `SUCCESS`, `FAILURE` or `ABORTED`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub result: String,
    /// Deprecated job version.
    #[serde(
        rename = "job-version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub job_version: String,
    /// Deprecated revision: the main refs' pull SHA, base SHA or base ref.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub revision: String,
}

/// The refs that identify the job: `refs`, else the first non-auxiliary extra ref.
pub fn main_refs(spec: &JobSpec) -> Option<&Refs> {
    spec.refs
        .as_ref()
        .or_else(|| spec.extra_refs.iter().find(|r| !r.auxiliary))
}

/// The revision of the main refs: first pull's SHA, else base SHA, else base ref.
pub fn revision(spec: &JobSpec) -> String {
    main_refs(spec)
        .map(|r| {
            r.pulls
                .first()
                .map(|p| p.sha.clone())
                .filter(|s| !s.is_empty())
                .or_else(|| (!r.base_sha.is_empty()).then(|| r.base_sha.clone()))
                .unwrap_or_else(|| r.base_ref.clone())
        })
        .unwrap_or_default()
}

/// `started.json` for a job, preferring the SHA clonerefs actually checked out.
pub fn started(spec: &JobSpec, clone_records: &[CloneRecord], now: i64) -> Started {
    let cloned = main_refs(spec).and_then(|refs| {
        clone_records
            .iter()
            .find(|r| r.refs == *refs)
            .map(|r| r.final_sha.clone())
            .filter(|s| !s.is_empty())
    });
    let version = cloned.unwrap_or_else(|| revision(spec));
    let mut repos = BTreeMap::new();
    for refs in spec.refs.iter().chain(&spec.extra_refs) {
        repos.insert(format!("{}/{}", refs.org, refs.repo), refs.pull_refs());
    }
    Started {
        timestamp: now,
        pull: spec
            .refs
            .as_ref()
            .and_then(|r| r.pulls.first())
            .map(|p| p.number.to_string())
            .unwrap_or_default(),
        repos,
        repo_commit: version.clone(),
        repo_version: version,
        ..Started::default()
    }
}
