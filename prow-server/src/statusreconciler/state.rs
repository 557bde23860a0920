//! The presubmits last reconciled, kept in a file (`--status-path`) so that a reconciler
//! started after a configuration change still sees the change. Upstream keeps the whole
//! configuration there; the reconciler reads only these fields of each presubmit.

use std::collections::BTreeMap;
use std::path::Path;

use prow_config::Presubmit;
use serde::{Deserialize, Serialize};

use super::diff::Presubmits;

/// The layout written; a file of another version is not read.
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    version: u32,
    presubmits: BTreeMap<String, Vec<StoredJob>>,
}

/// What the reconciler reads of a presubmit.
#[derive(Debug, Serialize, Deserialize)]
struct StoredJob {
    name: String,
    context: String,
    #[serde(default)]
    always_run: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    skip_report: bool,
    #[serde(default)]
    run_if_changed: String,
    #[serde(default)]
    skip_if_only_changed: String,
    #[serde(default)]
    branches: Vec<String>,
    #[serde(default)]
    skip_branches: Vec<String>,
}

impl From<&Presubmit> for StoredJob {
    fn from(job: &Presubmit) -> Self {
        StoredJob {
            name: job.name.clone(),
            context: job.context.clone(),
            always_run: job.always_run,
            optional: job.optional,
            skip_report: job.skip_report,
            run_if_changed: job.run_if_changed.clone(),
            skip_if_only_changed: job.skip_if_only_changed.clone(),
            branches: job.branches.clone(),
            skip_branches: job.skip_branches.clone(),
        }
    }
}

impl From<StoredJob> for Presubmit {
    fn from(job: StoredJob) -> Self {
        let mut out = Presubmit::default();
        out.name = job.name;
        out.context = job.context;
        out.always_run = job.always_run;
        out.optional = job.optional;
        out.skip_report = job.skip_report;
        out.run_if_changed = job.run_if_changed;
        out.skip_if_only_changed = job.skip_if_only_changed;
        out.branches = job.branches;
        out.skip_branches = job.skip_branches;
        out
    }
}

/// The presubmits saved at `path`; none when the file does not exist yet.
pub(super) fn load(path: &Path) -> Result<Option<Presubmits>, String> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("read {}: {e}", path.display())),
    };
    let stored: Stored = serde_json::from_slice(&text)
        .map_err(|e| format!("read {}: line {}: {e}", path.display(), e.line()))?;
    if stored.version != VERSION {
        return Err(format!(
            "read {}: version {} is not {VERSION}",
            path.display(),
            stored.version
        ));
    }
    Ok(Some(
        stored
            .presubmits
            .into_iter()
            .map(|(repo, jobs)| (repo, jobs.into_iter().map(Presubmit::from).collect()))
            .collect(),
    ))
}

/// Saves `presubmits` at `path`, replacing the file in one step.
pub(super) fn save(path: &Path, presubmits: &Presubmits) -> Result<(), String> {
    let stored = Stored {
        version: VERSION,
        presubmits: presubmits
            .iter()
            .map(|(repo, jobs)| (repo.clone(), jobs.iter().map(StoredJob::from).collect()))
            .collect(),
    };
    let text = serde_json::to_vec(&stored).map_err(|e| format!("encode the state: {e}"))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, &text)
        .map_err(|e| format!("write {}: {e}", path.display()))?;
    file.persist(path)
        .map_err(|e| format!("write {}: {}", path.display(), e.error))?;
    Ok(())
}
