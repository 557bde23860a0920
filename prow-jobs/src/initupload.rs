//! initupload: uploads `started.json` and the clone logs before the test starts.
//!
//! When clonerefs failed, it also uploads the clone log as `build-log.txt` and a failing
//! `finished.json`, and fails itself so the pod fails: clonerefs exits zero on purpose (unless
//! told `--fail`) so that this report always gets written.

use prow_core::labels::files;
use serde::Serialize;

use crate::clonerefs::CloneRecord;
use crate::downwardapi::JobSpec;
use crate::error::Error;
use crate::gcsupload::{self, Source, Targets};
use crate::metadata::{self, Finished};
use crate::storage::ArtifactStore;

pub use crate::podutils::{INITUPLOAD_OPTIONS, InitUploadOptions};

/// Prow's human-readable form of a clone record (`clone-log.txt`).
pub fn format_record(record: &CloneRecord) -> String {
    let mut out = String::new();
    if record.failed {
        out.push_str("# FAILED\n");
    }
    let refs = &record.refs;
    if refs.repo.is_empty() {
        out.push_str("Environment setup");
    } else {
        out.push_str(&format!(
            "# Cloning {}/{} at {}",
            refs.org, refs.repo, refs.base_ref
        ));
    }
    if !refs.base_sha.is_empty() {
        out.push_str(&format!("({})", refs.base_sha));
    }
    out.push('\n');
    if !refs.pulls.is_empty() {
        out.push_str("# Checking out pulls:\n");
        for pull in &refs.pulls {
            out.push_str(&format!("#\t{}", pull.number));
            if !pull.sha.is_empty() {
                out.push_str(&format!("({})", pull.sha));
            }
            out.push('\n');
        }
    }
    for command in &record.commands {
        let runtime = if command.duration == prow_core::Duration::ZERO {
            String::new()
        } else {
            format!(" (runtime: {})", command.duration)
        };
        out.push_str(&format!("$ {}{runtime}\n", command.command));
        out.push_str(&command.output);
        if !command.error.is_empty() {
            out.push_str(&format!("# Error: {}\n", command.error));
        }
    }
    out.push_str(&format!("# Final SHA: {}\n", record.final_sha));
    out.push_str(&format!("# Total runtime: {}\n", record.duration));
    out
}

/// Runs initupload for `spec` at Unix time `now` against the store its options name; returns
/// the uploaded destinations.
pub async fn run(
    options: &InitUploadOptions,
    spec: &JobSpec,
    now: i64,
) -> Result<Vec<String>, Error> {
    let store = options.gcs_options.store()?;
    run_to(store.as_deref(), options, spec, now).await
}

/// [`run`] against a given store (`None`: dry run).
pub async fn run_to(
    store: Option<&dyn ArtifactStore>,
    options: &InitUploadOptions,
    spec: &JobSpec,
    now: i64,
) -> Result<Vec<String>, Error> {
    let mut extra = Targets::new();
    let mut records = Vec::new();
    let mut failed = 0;
    if !options.log.is_empty() {
        let error = |reason: String| Error::CloneRecords {
            path: options.log.clone().into(),
            reason,
        };
        let data = std::fs::read(&options.log).map_err(|e| error(e.to_string()))?;
        records =
            serde_json::from_slice::<Vec<CloneRecord>>(&data).map_err(|e| error(e.to_string()))?;
        let log: String = records.iter().map(format_record).collect();
        failed = records.iter().filter(|r| r.failed).count();
        extra.insert(
            "clone-log.txt".into(),
            Source::Data(log.clone().into_bytes()),
        );
        extra.insert(
            files::CLONE_RECORDS.into(),
            Source::File(options.log.clone().into()),
        );
        if failed > 0 {
            extra.insert("build-log.txt".into(), Source::Data(log.into_bytes()));
            let finished = Finished {
                timestamp: Some(now),
                passed: Some(false),
                result: "FAILURE".into(),
                ..Finished::default()
            };
            extra.insert(files::FINISHED.into(), Source::Data(to_json(&finished)));
        }
    }
    let started = metadata::started(spec, &records, now);
    extra.insert(files::STARTED.into(), Source::Data(to_json(&started)));
    let gcs = &options.gcs_options;
    let uploaded = gcsupload::upload(store, gcs, &gcs.targets(spec, extra)).await?;
    if failed > 0 {
        return Err(Error::CloneFailed { failed });
    }
    Ok(uploaded)
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // These types hold only strings, numbers and maps of JSON values: serialising cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}
