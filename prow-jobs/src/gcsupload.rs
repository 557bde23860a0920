//! gcsupload: where a job's results go in a bucket, and uploading them (Prow's `gcsupload`).
//!
//! Paths follow Prow's layout so that deck, spyglass and testgrid find them:
//! `logs/<job>/<build>` for periodics and postsubmits, `pr-logs/pull/<org_repo>/<pr>/<job>/<build>`
//! for presubmits (the org/repo segment shaped by the path strategy), `pr-logs/pull/batch/...`
//! for batches, plus `latest-build.txt` markers and the presubmit `directory` alias.
//!
//! What a job leaves in its artifact directory is untrusted: the walk follows no link, so
//! nothing outside the directory is read and link loops cannot multiply files (see
//! [`GcsUploadOptions::gather`]).

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
    /// A file on disk, read when uploaded (a missing file uploads a note saying so). A link at
    /// that path is not followed, and only a regular file is read: otherwise the note says
    /// why.
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
    /// What [`gather`](Self::gather) skipped is logged.
    pub fn targets(&self, spec: &JobSpec, extra: Targets) -> Targets {
        self.gather(spec, extra).targets
    }

    /// Where `name`, a path relative to the job's results, is uploaded for `spec`.
    pub fn destination(&self, spec: &JobSpec, name: &str) -> String {
        join(&[&self.base(spec), name])
    }

    /// The job's results directory in the store: the job's path and `sub_dir` in a bucket,
    /// the top of a local output directory (which mirrors only the job's own files).
    fn base(&self, spec: &JobSpec) -> String {
        let config = self.config();
        if config.local_output_dir.is_empty() {
            join(&[
                &config.path_prefix,
                &path_for_spec(spec, &config),
                &self.sub_dir,
            ])
        } else {
            String::new()
        }
    }

    /// The targets as [`targets`](Self::targets) finds them, and a line for the upload log
    /// about every entry of an item directory that was left out.
    ///
    /// Item directories are walked without following links, so nothing outside them is read
    /// and a link loop cannot multiply files: a link to a directory is skipped, and so is a
    /// link to a file outside its item directory, a dangling link and anything that is not a
    /// regular file. A link to a regular file inside the item directory is uploaded once,
    /// under the link's own name, with the content of the file it points to.
    pub fn gather(&self, spec: &JobSpec, extra: Targets) -> Gathered {
        let config = self.config();
        let config = config.as_ref();
        let job_path = join(&[&config.path_prefix, &path_for_spec(spec, config)]);
        let base = self.base(spec);
        let mut gathered = Gathered::default();
        let targets = &mut gathered.targets;
        if config.local_output_dir.is_empty() {
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
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_dir() {
                let base = join(&[&base, &name]);
                for found in walk_contained(path, &name, &mut gathered.skipped) {
                    let (dir, file) = found
                        .relative
                        .rsplit_once('/')
                        .unwrap_or(("", &found.relative));
                    let dest = join(&[&base, dir, strip_gzip_suffix(file)]).replace('#', "%23");
                    targets.entry(dest).or_insert(Source::File(found.path));
                }
            } else if path.is_file() {
                // Items are the job's configuration, not the job's doing: a link is resolved
                // here so that reading it later need not follow one.
                let file = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
                targets
                    .entry(join(&[&base, strip_gzip_suffix(&name)]))
                    .or_insert(Source::File(file));
            }
        }
        for (dest, source) in extra {
            targets.insert(join(&[&base, &dest]), source);
        }
        for line in &gathered.skipped {
            tracing::warn!(job = %spec.job, build = %spec.build_id, "{line}");
        }
        gathered
    }
}

/// What [`GcsUploadOptions::gather`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Gathered {
    /// Destination → source, as [`GcsUploadOptions::targets`] returns them.
    pub targets: Targets,
    /// One line for the upload log per entry of an item directory left out, naming it and
    /// saying why.
    pub skipped: Vec<String>,
}

/// A regular file found under an item directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// Its path below the directory, `/`-separated (a link's own path for a link).
    pub(crate) relative: String,
    /// Where to read it: the file, or for a link the file it points to, with no link left
    /// in the path.
    pub(crate) path: PathBuf,
}

/// The regular files under `root`, sorted, found without following any link; links to
/// regular files inside `root` are included at their targets. Every other entry left out
/// (links to directories, to anything outside `root` or to nothing, sockets, pipes,
/// devices) gets a line in `skipped` naming it as `label/relative`.
pub(crate) fn walk_contained(root: &Path, label: &str, skipped: &mut Vec<String>) -> Vec<Found> {
    let mut found = Vec::new();
    let root = match std::fs::canonicalize(root) {
        Ok(root) => root,
        Err(e) => {
            skipped.push(format!(
                "skipped {label}: cannot resolve the directory: {e}"
            ));
            return found;
        }
    };
    walk_dir(&root, &root, "", label, &mut found, skipped);
    found.sort_by(|a, b| a.relative.cmp(&b.relative));
    found
}

fn walk_dir(
    root: &Path,
    dir: &Path,
    prefix: &str,
    label: &str,
    found: &mut Vec<Found>,
    skipped: &mut Vec<String>,
) {
    let mut skip = |relative: &str, reason: String| {
        skipped.push(format!("skipped {}: {reason}", join(&[label, relative])));
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return skip(prefix, format!("cannot read the directory: {e}")),
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    let mut dirs = Vec::new();
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = join(&[prefix, &name]);
        let path = entry.path();
        // `DirEntry::file_type` describes the entry itself: a link is a link.
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => dirs.push((path, relative)),
            Ok(kind) if kind.is_file() => found.push(Found { relative, path }),
            Ok(kind) if kind.is_symlink() => match link_target(root, &path) {
                Ok(path) => found.push(Found { relative, path }),
                Err(reason) => skip(&relative, reason),
            },
            Ok(_) => skip(&relative, "not a regular file".to_owned()),
            Err(e) => skip(&relative, format!("cannot read its type: {e}")),
        }
    }
    for (path, relative) in dirs {
        walk_dir(root, &path, &relative, label, found, skipped);
    }
}

/// The regular file inside `root` the link at `link` points to, with no link left in its
/// path; why it is skipped otherwise.
fn link_target(root: &Path, link: &Path) -> Result<PathBuf, String> {
    let shown = std::fs::read_link(link)
        .map(|t| t.display().to_string())
        .unwrap_or_default();
    let target = std::fs::canonicalize(link)
        .map_err(|e| format!("symbolic link to {shown:?} cannot be resolved: {e}"))?;
    let metadata = std::fs::metadata(&target)
        .map_err(|e| format!("symbolic link to {shown:?} cannot be read: {e}"))?;
    if metadata.is_dir() {
        return Err(format!(
            "symbolic link to {shown:?} is a directory; links to directories are not followed"
        ));
    }
    if !target.starts_with(root) {
        return Err(format!(
            "symbolic link to {shown:?} points outside the artifact directory"
        ));
    }
    if !metadata.is_file() {
        return Err(format!("symbolic link to {shown:?} is not a regular file"));
    }
    Ok(target)
}

/// Reads a file the way the pod utilities read what a job left: a link at `path` itself is
/// not followed, and only a regular file is read (a pipe would block forever).
pub(crate) fn read_no_follow(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut file = open_no_follow(path, std::fs::OpenOptions::new().read(true))?;
    let mut data = Vec::new();
    file.read_to_end(&mut data)?;
    Ok(data)
}

/// Replaces the content of the regular file at `path`, not following a link there.
pub(crate) fn write_no_follow(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = open_no_follow(path, std::fs::OpenOptions::new().write(true))?;
    file.set_len(0)?;
    file.write_all(data)
}

fn open_no_follow(
    path: &Path,
    options: &mut std::fs::OpenOptions,
) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = options
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
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
            Source::File(file) => read_no_follow(file).unwrap_or_else(|e| {
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
