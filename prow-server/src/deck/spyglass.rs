//! Spyglass, the pure part: what a `/view/<storage>/<bucket>/<path>` address names, which
//! lenses the configuration (`deck.spyglass.lenses`) gives a build's artifacts, and the
//! metadata lens's reading of `started.json`, `finished.json` and `prowjob.json`.
//!
//! Upstream's lens order and matching are kept: a lens applies when each of its
//! `required_files` regexes (unanchored, as written) matches some artifact, and it is handed
//! those plus the artifacts its `optional_files` match.

use prow_config::prow::Spyglass;
use prow_jobs::metadata::{Finished, Started};
use regex::Regex;
use serde::Serialize;

/// Where a build's artifacts are: a storage provider (`gs`, `s3`), a bucket and the build's
/// folder in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Source {
    /// `gs` or `s3` (`gcs` in an address means `gs`).
    pub provider: String,
    /// The bucket's name.
    pub bucket: String,
    /// The build's folder in the bucket, without leading or trailing `/`.
    pub path: String,
}

/// Why a spyglass address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// Fewer than the three parts `<storage>/<bucket>/<path>`.
    #[error("spyglass address {0:?} is not <storage>/<bucket>/<path>")]
    Incomplete(String),
    /// A provider other than `gs`, `gcs` and `s3`.
    #[error("spyglass address {0:?} names an unknown storage provider (want gs or s3)")]
    UnknownProvider(String),
    /// A `..` or empty segment, which could name something outside the build.
    #[error("spyglass address {0:?} is not a plain path")]
    NotPlain(String),
}

impl Source {
    /// Parses `gs/bucket/logs/job/123` (what follows `/view/`).
    pub fn parse(src: &str) -> Result<Source, SourceError> {
        let trimmed = src.trim_matches('/');
        let mut parts = trimmed.splitn(3, '/');
        let (Some(provider), Some(bucket), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(SourceError::Incomplete(src.to_owned()));
        };
        let provider = match provider {
            "gs" | "gcs" => "gs",
            "s3" => "s3",
            _ => return Err(SourceError::UnknownProvider(src.to_owned())),
        };
        let path = path.trim_matches('/');
        if bucket.is_empty()
            || path.is_empty()
            || path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == ".." || s.contains('\\'))
        {
            return Err(SourceError::NotPlain(src.to_owned()));
        }
        Ok(Source {
            provider: provider.to_owned(),
            bucket: bucket.to_owned(),
            path: path.to_owned(),
        })
    }

    /// `gs/bucket/path`, as it follows `/view/`.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.provider, self.bucket, self.path)
    }

    /// The job's name and the build ID: the path's last two segments.
    pub fn job_and_build(&self) -> (&str, &str) {
        let mut parts = self.path.rsplitn(3, '/');
        let build = parts.next().unwrap_or("");
        let job = parts.next().unwrap_or("");
        (job, build)
    }

    /// The folder that holds all the job's builds (the path without the build ID).
    pub fn job_folder(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(dir, _)| dir)
    }

    /// The job history page of this build's job: presubmits' builds are listed under
    /// `pr-logs/directory/<job>` as upstream's job history expects.
    pub fn job_history_link(&self) -> String {
        let (job, _) = self.job_and_build();
        let folder = if self.path.starts_with("pr-logs/pull/") {
            let prefix = self.path.split("pr-logs/pull/").next().unwrap_or("");
            format!("{prefix}pr-logs/directory/{job}")
        } else {
            self.job_folder().to_owned()
        };
        format!("/job-history/{}/{}/{folder}", self.provider, self.bucket)
    }

    /// The PR a presubmit build tested, read from a `pr-logs/pull/<org_repo>/<pr>/<job>/<build>`
    /// path: (org, repo, number). `org_repo` is `org_repo`, or a bare repo of `default_org`.
    pub fn pull(&self, default_org: &str) -> Option<(String, String, String)> {
        let rest = self.path.split_once("pr-logs/pull/")?.1;
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() < 4 || parts[0] == "batch" {
            return None;
        }
        let (org, repo) = match parts[0].split_once('_') {
            Some((org, repo)) => (org.to_owned(), repo.to_owned()),
            None if !default_org.is_empty() => (default_org.to_owned(), parts[0].to_owned()),
            None => return None,
        };
        Some((org, repo, parts[1].to_owned()))
    }
}

/// A lens chosen for a build, with the artifacts it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Chosen {
    /// The lens name (`buildlog`, `junit`, `metadata`, ...).
    pub name: String,
    /// Its title on the page.
    pub title: String,
    /// The artifacts it is handed, relative to the build's folder.
    pub files: Vec<String>,
    /// Its `lens.config`, as JSON.
    pub config: serde_json::Value,
}

/// The lenses deck renders itself; others configured are listed as unsupported.
pub const LENSES: [&str; 8] = [
    "metadata", "buildlog", "junit", "podinfo", "links", "html", "markdown", "coverage",
];

/// A lens's title, as upstream shows it.
pub fn title(name: &str) -> &str {
    match name {
        "metadata" => "Metadata",
        "buildlog" => "Build Log",
        "junit" => "JUnit",
        "podinfo" => "Job Pod Info",
        "links" => "Links",
        "html" => "HTML",
        "markdown" => "Markdown",
        "coverage" => "Coverage",
        "restcoverage" => "REST API coverage report",
        other => other,
    }
}

/// The lenses of a deployment that configures none: metadata, the build log and JUnit, with
/// the file patterns every corpus deployment uses.
fn default_lenses() -> Vec<(String, Vec<String>, Vec<String>, serde_json::Value)> {
    let lens = |name: &str, required: &str, optional: &[&str]| {
        (
            name.to_owned(),
            vec![required.to_owned()],
            optional.iter().map(|o| (*o).to_owned()).collect(),
            serde_json::Value::Null,
        )
    };
    vec![
        lens(
            "metadata",
            r"^(?:started|finished)\.json$",
            &[r"^(?:podinfo|prowjob)\.json$"],
        ),
        lens("buildlog", r"^.*build-log\.txt$", &[]),
        lens("junit", r"^artifacts(/.*/|/)junit.*\.xml$", &[]),
    ]
}

/// The lenses for a build whose artifacts are `artifacts` (paths relative to the build's
/// folder), in configuration order. A regex that does not compile matches nothing (config
/// validation reports it).
pub fn choose(spyglass: &Spyglass, artifacts: &[String]) -> Vec<Chosen> {
    let configured: Vec<(String, Vec<String>, Vec<String>, serde_json::Value)> =
        if spyglass.lenses.is_empty() {
            default_lenses()
        } else {
            spyglass
                .lenses
                .iter()
                .map(|l| {
                    let config = l
                        .lens
                        .config
                        .as_ref()
                        .and_then(|c| serde_json::to_value(c).ok())
                        .unwrap_or(serde_json::Value::Null);
                    (
                        l.lens.name.clone(),
                        l.required_files.clone(),
                        l.optional_files.clone(),
                        config,
                    )
                })
                .collect()
        };
    let mut out = Vec::new();
    for (name, required, optional, config) in configured {
        let compile = |patterns: &[String]| -> Option<Vec<Regex>> {
            patterns.iter().map(|p| Regex::new(p).ok()).collect()
        };
        let (Some(required), Some(optional)) = (compile(&required), compile(&optional)) else {
            continue;
        };
        let mut files = Vec::new();
        let mut complete = true;
        for pattern in &required {
            let matched: Vec<&String> = artifacts.iter().filter(|a| pattern.is_match(a)).collect();
            if matched.is_empty() {
                complete = false;
                break;
            }
            files.extend(matched.into_iter().cloned());
        }
        if !complete {
            continue;
        }
        for pattern in &optional {
            files.extend(artifacts.iter().filter(|a| pattern.is_match(a)).cloned());
        }
        files.sort();
        files.dedup();
        out.push(Chosen {
            title: title(&name).to_owned(),
            name,
            files,
            config,
        });
    }
    out
}

/// What the metadata lens shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Metadata {
    /// `SUCCESS`, `FAILURE`, `ABORTED`, or `Pending` while there is no `finished.json`.
    pub result: String,
    /// Start, seconds since the epoch.
    pub started: Option<i64>,
    /// End, seconds since the epoch.
    pub finished: Option<i64>,
    /// Seconds between them.
    pub elapsed: Option<i64>,
    /// The node the pod ran on.
    pub node: String,
    /// The tested revision (`repo-commit`, else finished's `revision`).
    pub revision: String,
    /// Repositories and the refs tested, `org/repo` → `base:sha,pr:sha`.
    pub repos: std::collections::BTreeMap<String, String>,
    /// Both files' `metadata` maps merged (finished wins), for display.
    pub extra: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Reads `started.json` and `finished.json` (either may be missing); an unreadable one is
/// treated as missing and named in the returned problems.
pub fn metadata(started: Option<&str>, finished: Option<&str>) -> (Metadata, Vec<String>) {
    let mut problems = Vec::new();
    let started: Option<Started> = started.and_then(|s| {
        serde_json::from_str(s)
            .map_err(|e| problems.push(format!("started.json: {e}")))
            .ok()
    });
    let finished: Option<Finished> = finished.and_then(|s| {
        serde_json::from_str(s)
            .map_err(|e| problems.push(format!("finished.json: {e}")))
            .ok()
    });
    let mut out = Metadata {
        result: "Pending".to_owned(),
        ..Metadata::default()
    };
    if let Some(started) = &started {
        out.started = Some(started.timestamp);
        out.node = started.node.clone();
        out.revision = started.repo_commit.clone();
        out.repos = started.repos.clone();
        out.extra.extend(started.metadata.clone());
    }
    if let Some(finished) = &finished {
        out.finished = finished.timestamp;
        out.result = result_of(finished);
        if out.revision.is_empty() {
            out.revision = finished.revision.clone();
        }
        out.extra.extend(finished.metadata.clone());
    }
    if let (Some(start), Some(end)) = (out.started, out.finished) {
        out.elapsed = Some((end - start).max(0));
    }
    (out, problems)
}

/// A finished build's result as upstream spells it: `result`, else from `passed`.
pub fn result_of(finished: &Finished) -> String {
    if !finished.result.is_empty() {
        return finished.result.clone();
    }
    match finished.passed {
        Some(true) => "SUCCESS".to_owned(),
        Some(false) => "FAILURE".to_owned(),
        None => "Pending".to_owned(),
    }
}

/// The link to the bucket browser for this build, from `gcs_browser_prefixes_by_bucket`
/// (the bucket's, else `*`), empty when none is configured.
pub fn browser_link(spyglass: &Spyglass, source: &Source) -> String {
    let by_bucket = &spyglass.gcs_browser_prefixes_by_bucket;
    let prefix = by_bucket
        .get(&source.bucket)
        .or_else(|| by_bucket.get("*"))
        .filter(|p| !p.is_empty())
        .or_else(|| Some(&spyglass.gcs_browser_prefix).filter(|p| !p.is_empty()));
    match prefix {
        Some(prefix) => format!(
            "{}/{}/{}/",
            prefix.trim_end_matches('/'),
            source.bucket,
            source.path
        ),
        None => String::new(),
    }
}

/// What the coverage lens shows: statements covered per file of a Go coverage profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Coverage {
    /// Per file, sorted by name: (file, covered statements, statements).
    pub files: Vec<(String, u64, u64)>,
    /// Covered statements in all files.
    pub covered: u64,
    /// Statements in all files.
    pub total: u64,
}

/// Reads a Go coverage profile (`mode: ...`, then `file:start,end statements count` lines);
/// a block counted twice (profiles merged from several runs) counts once. Unreadable lines
/// are skipped and counted in the second value.
pub fn coverage(profile: &str) -> (Coverage, usize) {
    let mut blocks: std::collections::BTreeMap<(&str, &str), (u64, bool)> =
        std::collections::BTreeMap::new();
    let mut skipped = 0;
    for line in profile.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("mode:") {
            continue;
        }
        let parsed = line.rsplit_once(' ').and_then(|(rest, count)| {
            let (rest, statements) = rest.rsplit_once(' ')?;
            let (file, range) = rest.rsplit_once(':')?;
            Some((
                file,
                range,
                statements.parse::<u64>().ok()?,
                count.parse::<u64>().ok()?,
            ))
        });
        let Some((file, range, statements, count)) = parsed else {
            skipped += 1;
            continue;
        };
        let entry = blocks.entry((file, range)).or_insert((statements, false));
        entry.1 |= count > 0;
    }
    let mut per_file: std::collections::BTreeMap<&str, (u64, u64)> =
        std::collections::BTreeMap::new();
    for ((file, _), (statements, hit)) in blocks {
        let entry = per_file.entry(file).or_default();
        entry.1 += statements;
        if hit {
            entry.0 += statements;
        }
    }
    let mut out = Coverage::default();
    for (file, (covered, total)) in per_file {
        out.covered += covered;
        out.total += total;
        out.files.push((file.to_owned(), covered, total));
    }
    (out, skipped)
}
