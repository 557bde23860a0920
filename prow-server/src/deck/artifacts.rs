//! Where a job's build log and artifacts are on disk, and paths that cannot leave the
//! artifacts directory.
//!
//! The local runner uploads a decorated job's results to `<artifacts>/<job path>/` (the path
//! Prow's gcsupload gives the job, `pr-logs/pull/...` or `logs/...`), with `build-log.txt` at
//! its top; while the job runs, or when it is not decorated, its log is in the pod directory
//! (`<pods>/<prowjob name>/`).

use std::path::{Component, Path, PathBuf};

use prow_core::ProwJob;

/// The largest log or artifact deck sends, when the configuration gives no
/// `deck.spyglass.size_limit`.
pub const DEFAULT_SIZE_LIMIT: u64 = 100_000_000;

/// Why a requested artifact path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path has a `..`, is absolute, or is empty.
    #[error("artifact path {0:?} is not a plain relative path")]
    NotRelative(String),
    /// The path resolves (through a symbolic link) outside the artifacts directory.
    #[error("artifact path {0:?} leads outside the artifacts directory")]
    Escapes(String),
}

/// `relative` under `root`, refused unless every component is a plain name: no `..`, no
/// root, no drive prefix (pure check; see [`resolve`] for symbolic links).
pub fn join_relative(root: &Path, relative: &str) -> Result<PathBuf, PathError> {
    let refused = || PathError::NotRelative(relative.to_owned());
    let trimmed = relative.trim_start_matches('/');
    if trimmed.is_empty() || relative.contains('\0') || relative.contains('\\') {
        return Err(refused());
    }
    let mut out = root.to_path_buf();
    for component in Path::new(trimmed).components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(refused());
            }
        }
    }
    Ok(out)
}

/// `relative` under `root` as an existing file or directory whose real path (symbolic links
/// followed) is still under `root`'s real path. `Ok(None)` when nothing is there.
pub fn resolve(root: &Path, relative: &str) -> Result<Option<PathBuf>, PathError> {
    let joined = join_relative(root, relative)?;
    let (Ok(real_root), Ok(real)) = (root.canonicalize(), joined.canonicalize()) else {
        return Ok(None);
    };
    if !real.starts_with(&real_root) {
        return Err(PathError::Escapes(relative.to_owned()));
    }
    Ok(Some(real))
}

/// The job's folder under the artifacts directory, relative to it: the storage path Prow's
/// gcsupload gives the job. `None` for jobs that are not decorated.
pub fn job_path(job: &ProwJob) -> Option<String> {
    let decoration = job.spec.decoration_config.as_ref()?;
    let gcs = decoration.gcs_configuration.clone().unwrap_or_default();
    let build_id = job.status.as_ref().map_or("", |s| s.build_id.as_str());
    let spec = prow_jobs::JobSpec::new(&job.spec, build_id, job.name());
    let inner = prow_jobs::gcsupload::path_for_spec(&spec, &gcs);
    let path = [gcs.path_prefix.as_str(), inner.as_str()]
        .iter()
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    (!path.is_empty()).then_some(path)
}

/// The files under `dir`, as paths relative to `dir` with `/` separators, sorted; at most
/// `limit` of them. Symbolic links are listed, not followed.
pub fn list_files(dir: &Path, limit: usize) -> Vec<String> {
    prow_jobs::storage::list_files(dir, limit)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// Where the job's build log may be, best first: the uploaded `build-log.txt`, then the pod's
/// own log files.
pub fn log_candidates(
    job: &ProwJob,
    artifacts: Option<&Path>,
    pods: Option<&Path>,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let (Some(root), Some(path)) = (artifacts, job_path(job))
        && let Ok(dir) = join_relative(root, &path)
    {
        out.push(dir.join("build-log.txt"));
    }
    if let Some(pods) = pods
        && let Ok(dir) = join_relative(pods, job.name())
    {
        out.push(dir.join(prow_jobs::runner::BUILD_LOG_FILE));
        out.push(dir.join("vol/logs/process-log.txt"));
        out.push(dir.join("vol/logs/build-log.txt"));
    }
    out
}

/// Reads at most `limit` bytes from the end of `path` (the tail is what matters in a log),
/// lossily as UTF-8.
pub fn read_tail(path: &Path, limit: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len > limit {
        file.seek(SeekFrom::Start(len - limit))?;
    }
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
