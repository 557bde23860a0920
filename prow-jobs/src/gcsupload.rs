//! gcsupload: where a job's results go in a bucket, and uploading them (Prow's `gcsupload`).
//!
//! Paths follow Prow's layout so that deck, spyglass and testgrid find them:
//! `logs/<job>/<build>` for periodics and postsubmits, `pr-logs/pull/<org_repo>/<pr>/<job>/<build>`
//! for presubmits (the org/repo segment shaped by the path strategy), `pr-logs/pull/batch/...`
//! for batches, plus `latest-build.txt` markers and the presubmit `directory` alias.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prow_core::{GcsConfiguration, PathStrategy, ProwJobType, Refs};

use crate::downwardapi::JobSpec;
use crate::error::Error;
use crate::paths::join;
use crate::storage::{self, ArtifactStore, LocalDirStore};

pub use crate::podutils::{GCSUPLOAD_OPTIONS, GcsUploadOptions};

impl GcsUploadOptions {
    /// The bucket configuration (empty when the options carry none).
    pub fn config(&self) -> Cow<'_, GcsConfiguration> {
        match &self.gcs_configuration {
            Some(config) => Cow::Borrowed(config),
            None => Cow::Owned(GcsConfiguration::default()),
        }
    }

    /// Checks the options like Prow: a local output directory needs nothing else.
    pub fn validate(&self) -> Result<(), String> {
        let config = self.config();
        if !config.local_output_dir.is_empty() {
            return Ok(());
        }
        if !self.dry_run && config.bucket.is_empty() {
            return Err("GCS upload was requested no GCS bucket was provided".into());
        }
        config.validate()
    }
}

/// Shapes the org/repo path segment of presubmit results.
pub fn repo_path_segment(config: &GcsConfiguration, org: &str, repo: &str) -> String {
    let explicit = || {
        let org = org.strip_prefix("https://").unwrap_or(org);
        format!("{org}_{}", repo.replace('/', "_"))
    };
    let (default_org, default_repo) = (&config.default_org, &config.default_repo);
    match config.path_strategy.unwrap_or(PathStrategy::Explicit) {
        PathStrategy::Explicit => explicit(),
        PathStrategy::Legacy if org == default_org && repo == default_repo => String::new(),
        PathStrategy::Legacy if org == default_org => repo.to_owned(),
        PathStrategy::Single if org == default_org && repo == default_repo => String::new(),
        PathStrategy::Legacy | PathStrategy::Single => explicit(),
    }
}

fn first_pull(refs: Option<&Refs>) -> String {
    refs.and_then(|r| r.pulls.first())
        .map(|p| p.number.to_string())
        .unwrap_or_default()
}

/// `pr-logs/pull/<org_repo>/<number>/<job>`: where a presubmit's builds live.
fn pull_job_dir(spec: &JobSpec, config: &GcsConfiguration) -> String {
    let refs = spec.refs.as_ref();
    let segment = refs
        .map(|r| repo_path_segment(config, &r.org, &r.repo))
        .unwrap_or_default();
    join(&["pr-logs", "pull", &segment, &first_pull(refs), &spec.job])
}

/// `<root>/<job>`: where builds of other job types (and the presubmit directory) live.
fn job_dir(spec: &JobSpec) -> String {
    match spec.job_type {
        ProwJobType::Periodic | ProwJobType::Postsubmit => join(&["logs", &spec.job]),
        ProwJobType::Presubmit | ProwJobType::Batch => join(&["pr-logs", "directory", &spec.job]),
    }
}

/// The job's directory in the bucket, before `path_prefix`.
pub fn path_for_spec(spec: &JobSpec, config: &GcsConfiguration) -> String {
    match spec.job_type {
        ProwJobType::Periodic | ProwJobType::Postsubmit => join(&[&job_dir(spec), &spec.build_id]),
        ProwJobType::Presubmit => join(&[&pull_job_dir(spec, config), &spec.build_id]),
        ProwJobType::Batch => join(&["pr-logs", "pull", "batch", &spec.job, &spec.build_id]),
    }
}

/// The `pr-logs/directory/<job>/<build>.txt` alias that points presubmit results back.
pub fn alias_for_spec(spec: &JobSpec) -> Option<String> {
    (spec.job_type == ProwJobType::Presubmit)
        .then(|| join(&[&job_dir(spec), &format!("{}.txt", spec.build_id)]))
}

/// The `latest-build.txt` files that name this build.
pub fn latest_build_for_spec(spec: &JobSpec, config: &GcsConfiguration) -> Vec<String> {
    let mut files = vec![join(&[&job_dir(spec), "latest-build.txt"])];
    if spec.job_type == ProwJobType::Presubmit {
        files.push(join(&[&pull_job_dir(spec, config), "latest-build.txt"]));
    }
    files
}

/// What an upload target holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file on disk, read when uploaded (a missing file uploads a note saying so).
    File(PathBuf),
    /// Bytes in memory.
    Data(Vec<u8>),
}

/// Upload targets: destination path (relative to the bucket) → source.
pub type Targets = BTreeMap<String, Source>;

/// `name.ext.gz` is stored as `name.ext` (gzip-encoded), as Prow does.
fn strip_gzip_suffix(name: &str) -> &str {
    for suffix in [".gz", ".gzip"] {
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return stem;
        }
    }
    name
}

impl GcsUploadOptions {
    /// The store this configuration uploads to; `None` for a dry run.
    pub fn store(&self) -> Result<Option<Box<dyn ArtifactStore>>, Error> {
        let config = self.config();
        if !config.local_output_dir.is_empty() {
            return Ok(Some(Box::new(LocalDirStore::new(&config.local_output_dir))));
        }
        if self.dry_run {
            return Ok(None);
        }
        Ok(Some(storage::open_bucket(
            &config.bucket,
            &self.storage_client_options.gcs_credentials_file,
            &self.storage_client_options.s3_credentials_file,
        )?))
    }

    /// The targets for `spec`: the items (directories walked), `extra` under the job's path,
    /// and, when uploading to a bucket, the latest-build markers and the presubmit alias.
    pub fn targets(&self, spec: &JobSpec, extra: Targets) -> Targets {
        let config = self.config();
        let config = config.as_ref();
        let job_path = join(&[&config.path_prefix, &path_for_spec(spec, config)]);
        let local = !config.local_output_dir.is_empty();
        // Local output mirrors only the job's own files, at the top of the directory.
        let base = if local {
            String::new()
        } else {
            join(&[&job_path, &self.sub_dir])
        };
        let mut targets = Targets::new();
        if !local {
            if let Some(alias) = alias_for_spec(spec) {
                let full = if config.bucket.contains("://") {
                    format!("{}/{job_path}", config.bucket)
                } else {
                    format!("gs://{}", join(&[&config.bucket, &job_path]))
                };
                targets.insert(alias, Source::Data(full.into_bytes()));
            }
            for latest in latest_build_for_spec(spec, config) {
                targets.insert(latest, Source::Data(spec.build_id.clone().into_bytes()));
            }
        }
        for item in &self.items {
            let path = Path::new(item);
            if path.is_dir() {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                gather(path, path, &join(&[&base, &name]), &mut targets);
            } else if path.is_file() {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                targets
                    .entry(join(&[&base, strip_gzip_suffix(&name)]))
                    .or_insert_with(|| Source::File(path.to_owned()));
            }
        }
        for (dest, source) in extra {
            targets.insert(join(&[&base, &dest]), source);
        }
        targets
    }
}

fn gather(root: &Path, dir: &Path, base: &str, targets: &mut Targets) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            gather(root, &path, base, targets);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let relative = relative.to_string_lossy();
            let (dir, file) = relative.rsplit_once('/').unwrap_or(("", &relative));
            let dest = join(&[base, dir, strip_gzip_suffix(file)]).replace('#', "%23");
            targets
                .entry(dest)
                .or_insert_with(|| Source::File(path.clone()));
        }
    }
}

/// Uploads every target to `store` (nothing for a dry run, `None`) with the media types and
/// compression of `options`; every target is attempted and the first error returned. Returns
/// the destinations.
pub async fn upload(
    store: Option<&dyn ArtifactStore>,
    options: &GcsUploadOptions,
    targets: &Targets,
) -> Result<Vec<String>, Error> {
    let names: Vec<String> = targets.keys().cloned().collect();
    let Some(store) = store else { return Ok(names) };
    let config = options.config();
    let local = !config.local_output_dir.is_empty();
    let compress = config.compress_file_types.clone().unwrap_or_default();
    let mut first_error = None;
    for (dest, source) in targets {
        let data = match source {
            Source::Data(bytes) => bytes.clone(),
            Source::File(file) => std::fs::read(file).unwrap_or_else(|e| {
                format!("Failed to open {}: {e}\n", file.display()).into_bytes()
            }),
        };
        let mut info = storage::object_info(dest, &config.media_types);
        let data = if local {
            data
        } else {
            storage::maybe_compress(dest, data, &compress, &mut info)
        };
        if let Err(e) = store.put(dest, data, &info).await
            && first_error.is_none()
        {
            first_error = Some(e);
        }
    }
    first_error.map_or(Ok(names), Err)
}
