//! In-repo job configuration: a repository's `.prow/` directory or `.prow.yaml` file.
//!
//! Jobs there are lists without the `org/repo` key. They are defaulted with the global presets
//! followed by the repository's own, and validated together with the central jobs of the same
//! repository, so a job defined in both places is reported.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Finding};
use crate::files::{Ignore, read_maybe_gzip};
use crate::jobs::{JobConfig, Postsubmit, Preset, Presubmit, nullable};
use crate::load::Config;
use crate::locate::{FieldSegment, parse_field_path};
use crate::parse::parse;

/// The in-repo config file at a repository's root.
pub const PROW_YAML_FILE: &str = ".prow.yaml";
/// The in-repo config directory at a repository's root; it wins over [`PROW_YAML_FILE`].
pub const PROW_YAML_DIR: &str = ".prow";

/// A repository's in-repo configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ProwYaml {
    /// Presets that apply to this repository's in-repo jobs only.
    #[serde(default, deserialize_with = "nullable")]
    pub presets: Vec<Preset>,
    /// Presubmits of the repository.
    #[serde(default, deserialize_with = "nullable")]
    pub presubmits: Vec<Presubmit>,
    /// Postsubmits of the repository.
    #[serde(default, deserialize_with = "nullable")]
    pub postsubmits: Vec<Postsubmit>,
    /// Anything, ignored; lets YAML anchors live in the file.
    #[serde(default)]
    pub prow_ignored: Option<serde_yaml::Value>,
    /// Problems that do not stop Prow (unknown fields and the like).
    #[serde(skip)]
    pub warnings: Vec<Finding>,
}

impl ProwYaml {
    /// Appends another file's presets and jobs.
    fn merge(&mut self, other: ProwYaml) {
        self.presets.extend(other.presets);
        self.presubmits.extend(other.presubmits);
        self.postsubmits.extend(other.postsubmits);
        self.warnings.extend(other.warnings);
    }
}

/// Reads, defaults and validates the in-repo configuration of `repo` (`org/repo`) checked out
/// at `dir`, as Prow does before running its jobs. No `.prow/` and no `.prow.yaml` is an empty
/// configuration.
pub fn load_prow_yaml(config: &Config, repo: &str, dir: &Path) -> Result<ProwYaml, Error> {
    let (mut prow_yaml, errors) = read_prow_yaml(dir)?;
    if !errors.is_empty() {
        return Err(Error::Invalid { errors });
    }
    let errors = default_and_validate(config, repo, &mut prow_yaml);
    if errors.is_empty() {
        Ok(prow_yaml)
    } else {
        Err(Error::Invalid { errors })
    }
}

/// Reads the in-repo configuration at `dir` without defaulting it: every `*.yaml`/`*.yml`
/// under `.prow/` (honouring `.prowignore` files), or else `.prow.yaml`. Returns it with its
/// parse errors.
pub fn read_prow_yaml(dir: &Path) -> Result<(ProwYaml, Vec<Finding>), Error> {
    let prow_dir = dir.join(PROW_YAML_DIR);
    if prow_dir.is_dir() {
        let mut files = Vec::new();
        let mut ignores: Vec<(PathBuf, Ignore)> = Vec::new();
        if dir.join(".prowignore").is_file() {
            ignores.push((dir.to_owned(), crate::files::prowignore(dir)?));
        }
        crate::files::walk(&prow_dir, &mut ignores, &mut files)?;
        let mut merged = ProwYaml::default();
        let mut errors = Vec::new();
        for file in files {
            let (part, found) = read_prow_yaml_file(&file)?;
            merged.merge(part);
            errors.extend(found);
        }
        return Ok((merged, errors));
    }
    let file = dir.join(PROW_YAML_FILE);
    if file.is_file() {
        return read_prow_yaml_file(&file);
    }
    Ok((ProwYaml::default(), Vec::new()))
}

/// Reads one in-repo config file; returns what it holds and its errors.
pub fn read_prow_yaml_file(file: &Path) -> Result<(ProwYaml, Vec<Finding>), Error> {
    let text = read_maybe_gzip(file)?;
    match parse::<ProwYaml>(&text, file) {
        Ok((mut prow_yaml, unknown)) => {
            let source = file.display().to_string();
            for (i, job) in prow_yaml.presubmits.iter_mut().enumerate() {
                job.source_path.clone_from(&source);
                job.source_index = i;
            }
            for (i, job) in prow_yaml.postsubmits.iter_mut().enumerate() {
                job.source_path.clone_from(&source);
                job.source_index = i;
            }
            prow_yaml.warnings = unknown;
            crate::locate::fill_lines(&mut prow_yaml.warnings);
            Ok((prow_yaml, Vec::new()))
        }
        Err(mut finding) => {
            let top = finding.field.split(['.', '[']).next().unwrap_or_default();
            if (top == "presubmits" || top == "postsubmits")
                && !finding.field.contains('[')
                && finding.message.contains("expected a sequence")
            {
                finding.message.push_str(
                    "; in-repo config lists jobs directly, without the \"org/repo\" key of central job config",
                );
            }
            Ok((ProwYaml::default(), vec![finding]))
        }
    }
}

/// Defaults the in-repo jobs of `repo` with the global and in-repo presets and validates them
/// together with the repository's central jobs; returns every error (Prow's
/// `DefaultAndValidateProwYAML`).
pub fn default_and_validate(config: &Config, repo: &str, prow_yaml: &mut ProwYaml) -> Vec<Finding> {
    let mut jobs = JobConfig {
        presubmits: [(repo.to_owned(), std::mem::take(&mut prow_yaml.presubmits))].into(),
        postsubmits: [(repo.to_owned(), std::mem::take(&mut prow_yaml.postsubmits))].into(),
        decorate_all_jobs: config.jobs.decorate_all_jobs,
        ..JobConfig::default()
    };
    let mut presets = config.jobs.presets.clone();
    presets.extend(prow_yaml.presets.iter().cloned());
    let mut errors = crate::defaults::default_jobs(&config.prow, &mut jobs, presets.into());

    // Central jobs first, so a repeated job is reported where it is repeated: in the repo.
    let mut together = JobConfig::default();
    let in_repo_pre = jobs.presubmits.remove(repo).unwrap_or_default();
    let in_repo_post = jobs.postsubmits.remove(repo).unwrap_or_default();
    let mut pre = config
        .jobs
        .presubmits
        .get(repo)
        .cloned()
        .unwrap_or_default();
    pre.extend(in_repo_pre.iter().cloned());
    let mut post = config
        .jobs
        .postsubmits
        .get(repo)
        .cloned()
        .unwrap_or_default();
    post.extend(in_repo_post.iter().cloned());
    together.presubmits.insert(repo.to_owned(), pre);
    together.postsubmits.insert(repo.to_owned(), post);
    // The central jobs loaded without an error, so a problem found now comes from the in-repo
    // jobs; Prow reports a clash from both jobs, and the in-repo side is the one to fix.
    let in_repo_sources: std::collections::BTreeSet<&str> = in_repo_pre
        .iter()
        .map(|j| j.source_path.as_str())
        .chain(in_repo_post.iter().map(|j| j.source_path.as_str()))
        .collect();
    errors.extend(
        crate::validate::validate_jobs(Some(&config.prow), &together)
            .into_iter()
            .filter(|f| {
                f.file
                    .as_ref()
                    .is_none_or(|file| in_repo_sources.contains(file.to_string_lossy().as_ref()))
            }),
    );

    for (kind, clusters) in [
        (
            "presubmits",
            in_repo_pre
                .iter()
                .map(|j| (&j.cluster, &j.source_path, j.source_index, &j.name))
                .collect::<Vec<_>>(),
        ),
        (
            "postsubmits",
            in_repo_post
                .iter()
                .map(|j| (&j.cluster, &j.source_path, j.source_index, &j.name))
                .collect(),
        ),
    ] {
        for (cluster, file, index, name) in clusters {
            if !allows_cluster(config, cluster, repo) {
                errors.push(
                    Finding::error(format!(
                        "cluster {cluster:?} is not allowed for repository {repo:?}"
                    ))
                    .in_file(file)
                    .at(format!("{kind}[{index}].cluster"))
                    .for_job(name.clone()),
                );
            }
        }
    }
    prow_yaml.presubmits = in_repo_pre;
    prow_yaml.postsubmits = in_repo_post;

    // In-repo files have no `org/repo` level: drop it from their field paths.
    let in_repo_files: Vec<String> = prow_yaml
        .presubmits
        .iter()
        .map(|j| j.source_path.clone())
        .chain(prow_yaml.postsubmits.iter().map(|j| j.source_path.clone()))
        .collect();
    for finding in &mut errors {
        let in_repo = finding
            .file
            .as_ref()
            .is_some_and(|f| in_repo_files.iter().any(|s| Path::new(s) == f));
        if in_repo {
            let mut segments = parse_field_path(&finding.field);
            if segments.len() >= 2
                && matches!(&segments[0], FieldSegment::Key(k) if k == "presubmits" || k == "postsubmits")
                && segments[1] == FieldSegment::Key(repo.to_owned())
            {
                segments.remove(1);
                finding.field = crate::locate::render_field_path(&segments);
            }
        }
    }
    crate::locate::fill_lines(&mut errors);
    errors
}

/// The keys that configure `repo`, narrowest first: `org/repo`, `org`, `*`.
fn keys_for(repo: &str) -> Vec<String> {
    let repo = repo
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let mut keys = vec![repo.to_owned()];
    if let Some((org, _)) = repo.split_once('/') {
        keys.push(org.to_owned());
    }
    keys.push("*".to_owned());
    keys
}

/// Whether in-repo config is enabled for `repo`; the narrowest key that is set decides.
pub fn in_repo_config_enabled(config: &Config, repo: &str) -> bool {
    let enabled = &config.prow.in_repo_config.enabled;
    keys_for(repo)
        .iter()
        .find_map(|k| enabled.get(k).copied().flatten())
        .unwrap_or(false)
}

/// Whether in-repo jobs of `repo` may run on `cluster`: any matching key of
/// `in_repo_config.allowed_clusters` lists it; without a `*` key, `*` allows `default`.
pub fn allows_cluster(config: &Config, cluster: &str, repo: &str) -> bool {
    let allowed = &config.prow.in_repo_config.allowed_clusters;
    keys_for(repo).iter().any(|k| match allowed.get(k) {
        Some(list) => list.iter().any(|c| c == cluster),
        None => k == "*" && cluster == "default",
    })
}
