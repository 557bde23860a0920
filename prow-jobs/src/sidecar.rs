//! sidecar: waits for the test containers to finish, then uploads their logs, artifacts and
//! `finished.json` (Prow's sidecar).
//!
//! It reads every entry's marker file (written by entrypoint), censors secret values out of the
//! logs and artifacts when asked, merges each container's `metadata.json` into
//! `finished.json`, and uploads. A signal makes it do a best-effort upload at once (unless it
//! ignores interrupts), then keep waiting for the markers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use prow_core::labels::files;
use tokio::sync::mpsc;

use crate::downwardapi::JobSpec;
use crate::entrypoint::{ABORTED_ERROR_CODE, Interrupt, PREVIOUS_ERROR_CODE, WrapperOptions};
use crate::error::Error;
use crate::gcsupload::{self, GcsUploadOptions, Source, Targets};
use crate::metadata::{self, Finished};
use crate::storage::ArtifactStore;

pub use crate::podutils::{SIDECAR_OPTIONS, SidecarCensoringOptions, SidecarOptions};

/// The name of sidecar's own log in the upload.
pub const LOG_FILE_NAME: &str = "sidecar-logs.json";

impl SidecarOptions {
    /// Every entry, the deprecated single one first.
    pub fn all_entries(&self) -> Vec<WrapperOptions> {
        self.wrapper_options
            .iter()
            .chain(&self.entries)
            .cloned()
            .collect()
    }

    /// The upload options (empty when the options carry none).
    pub fn gcs(&self) -> std::borrow::Cow<'_, GcsUploadOptions> {
        match &self.gcs_options {
            Some(gcs) => std::borrow::Cow::Borrowed(gcs),
            None => std::borrow::Cow::Owned(GcsUploadOptions::default()),
        }
    }

    /// Reads options from their JSON form (`SIDECAR_OPTIONS`).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::InvalidOptions {
            utility: "sidecar",
            reason: e.to_string(),
        })
    }

    /// Checks the options like Prow, folding the deprecated censoring fields in.
    pub fn validate(&mut self) -> Result<(), Error> {
        let invalid = |reason: String| Error::InvalidOptions {
            utility: "sidecar",
            reason,
        };
        let deprecated = self.secret_directories.is_some()
            || self.censoring_concurrency.is_some()
            || self.censoring_buffer_size.is_some();
        if deprecated {
            if self.censoring_options.is_some() {
                return Err(invalid("cannot use deprecated options (secret_directories, censoring_{concurrency,buffer_size}) and new options (censoring_options) at the same time".into()));
            }
            self.censoring_options = Some(SidecarCensoringOptions {
                secret_directories: self.secret_directories.clone().unwrap_or_default(),
                censoring_concurrency: self.censoring_concurrency,
                censoring_buffer_size: self.censoring_buffer_size,
                ..SidecarCensoringOptions::default()
            });
        }
        let entries = self.all_entries();
        if entries.is_empty() {
            return Err(invalid("no wrapper.Option entries".into()));
        }
        for (i, entry) in entries.iter().enumerate() {
            if entry.process_log.is_empty() {
                return Err(invalid(format!(
                    "entry {i}: no log file specified with --process-log"
                )));
            }
            if entry.marker_file.is_empty() {
                return Err(invalid(format!(
                    "entry {i}: no marker file specified with --marker-file"
                )));
            }
        }
        self.gcs().validate().map_err(invalid)
    }
}

/// How the test containers ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Every container exited zero.
    pub passed: bool,
    /// Some container was aborted (exit 130).
    pub aborted: bool,
    /// Containers that failed, not counting those skipped after an earlier failure.
    pub failures: usize,
}

/// Reads a marker file's code; `Err` when it exists but is unreadable or not a number.
fn read_marker(path: &Path) -> Option<Result<i32, String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(
            text.trim()
                .parse()
                .map_err(|e| format!("invalid return code: {e}")),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(Err(format!("bad read: {e}"))),
    }
}

/// The outcome of a set of marker results.
fn outcome(results: &[Result<i32, String>]) -> Outcome {
    let mut out = Outcome {
        passed: true,
        aborted: false,
        failures: 0,
    };
    for result in results {
        let code = result.as_ref().copied().unwrap_or(-1);
        out.passed &= code == 0;
        out.aborted |= code == ABORTED_ERROR_CODE;
        if code != 0 && code != PREVIOUS_ERROR_CODE {
            out.failures += 1;
        }
    }
    out
}

/// Runs sidecar: waits, censors, uploads. `interrupts` delivers signals; `poll` is how often
/// marker files are checked. Returns the outcome and the destinations uploaded.
pub async fn run(
    options: &SidecarOptions,
    spec: &JobSpec,
    interrupts: mpsc::UnboundedReceiver<Interrupt>,
    poll: StdDuration,
) -> Result<(Outcome, Vec<String>), Error> {
    let store = options.gcs().store()?;
    run_to(store.as_deref(), options, spec, interrupts, poll).await
}

/// [`run`] against a given store (`None`: dry run).
pub async fn run_to(
    store: Option<&dyn ArtifactStore>,
    options: &SidecarOptions,
    spec: &JobSpec,
    mut interrupts: mpsc::UnboundedReceiver<Interrupt>,
    poll: StdDuration,
) -> Result<(Outcome, Vec<String>), Error> {
    let entries = options.all_entries();
    let mut log = vec![format!(
        "waiting for {} container(s) to finish",
        entries.len()
    )];
    let mut results: Vec<Option<Result<i32, String>>> = vec![None; entries.len()];
    loop {
        for (entry, result) in entries.iter().zip(results.iter_mut()) {
            if result.is_none() {
                *result = read_marker(Path::new(&entry.marker_file));
            }
        }
        if results.iter().all(Option::is_some) {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(poll) => {}
            Some(signal) = interrupts.recv() => {
                if options.ignore_interrupts {
                    log.push(format!("received an interrupt: {signal:?}, ignoring"));
                } else {
                    log.push(format!("received an interrupt: {signal:?}, uploading what there is"));
                    let interim = Outcome { passed: false, aborted: true, failures: 0 };
                    if let Err(err) = upload(store, options, spec, &entries, interim, &mut log).await {
                        log.push(format!("best-effort upload failed: {err}"));
                    }
                }
            }
        }
    }
    let results: Vec<Result<i32, String>> = results.into_iter().flatten().collect();
    let outcome = outcome(&results);
    log.push(format!(
        "containers finished: passed={} aborted={} failures={}",
        outcome.passed, outcome.aborted, outcome.failures
    ));
    let uploaded = upload(store, options, spec, &entries, outcome, &mut log).await?;
    Ok((outcome, uploaded))
}

async fn upload(
    store: Option<&dyn ArtifactStore>,
    options: &SidecarOptions,
    spec: &JobSpec,
    entries: &[WrapperOptions],
    outcome: Outcome,
    log: &mut Vec<String>,
) -> Result<Vec<String>, Error> {
    if let Some(censoring) = &options.censoring_options {
        match censor(censoring, entries, &options.gcs().items) {
            Ok(count) => log.push(format!("censored {count} files")),
            Err(err) => log.push(format!("failed to censor data: {err}")),
        }
    }
    let mut extra = Targets::new();
    for entry in entries {
        let name = if entries.len() > 1 {
            format!("{}-build-log.txt", entry.container_name)
        } else {
            "build-log.txt".to_owned()
        };
        extra.insert(name, Source::File(PathBuf::from(&entry.process_log)));
    }
    let metadata = combine_metadata(entries);
    let finished = Finished {
        timestamp: Some(now_unix()),
        passed: Some(outcome.passed),
        result: if outcome.passed {
            "SUCCESS"
        } else if outcome.aborted {
            "ABORTED"
        } else {
            "FAILURE"
        }
        .into(),
        metadata,
        revision: metadata::revision(spec),
        ..Finished::default()
    };
    extra.insert(
        files::FINISHED.into(),
        Source::Data(serde_json::to_vec(&finished).unwrap_or_default()),
    );
    let gcs = options.gcs();
    let mut gathered = gcs.gather(spec, extra);
    for line in gathered.skipped {
        // A best-effort upload before the final one has logged the same entries already.
        if !log.contains(&line) {
            log.push(line);
        }
    }
    let lines: Vec<serde_json::Value> = log
        .iter()
        .map(|m| serde_json::json!({"component": "sidecar", "msg": m}))
        .collect();
    let log_text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    gathered.targets.insert(
        gcs.destination(spec, LOG_FILE_NAME),
        Source::Data(log_text.into_bytes()),
    );
    gcsupload::upload(store, &gcs, &gathered.targets).await
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Merges every entry's `metadata.json` (a JSON object); problems go under `sidecar-errors`.
fn combine_metadata(entries: &[WrapperOptions]) -> BTreeMap<String, serde_json::Value> {
    let mut merged = BTreeMap::new();
    let mut errors = serde_json::Map::new();
    for (i, entry) in entries.iter().enumerate() {
        let name = format!("entry {i}: {}", entry.args.join(" "));
        // In the artifact directory, so the job's to shape: a link there is not followed.
        let text = match gcsupload::read_no_follow(Path::new(&entry.metadata_file)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                errors.insert(name, e.to_string().into());
                continue;
            }
        };
        match serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(&text) {
            Ok(piece) => merged.extend(piece),
            Err(e) => {
                errors.insert(name, e.to_string().into());
            }
        }
    }
    if !errors.is_empty() {
        merged.insert("sidecar-errors".into(), errors.into());
    }
    merged
}

/// Replaces every secret value (and its base64 form) in the process logs and artifact files
/// with asterisks of the same length; returns how many files changed.
fn censor(
    options: &SidecarCensoringOptions,
    entries: &[WrapperOptions],
    items: &[String],
) -> Result<usize, String> {
    let min = usize::try_from(options.minimum_secret_length.unwrap_or(0)).unwrap_or(0);
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for dir in &options.secret_directories {
        collect_secrets(Path::new(dir), &options.ini_filenames, &mut secrets)?;
    }
    let mut all: Vec<Vec<u8>> = Vec::new();
    for secret in secrets {
        let trimmed = trim(&secret).to_vec();
        for value in [secret, trimmed] {
            if value.len() >= min.max(1) {
                all.push(BASE64_STANDARD.encode(&value).into_bytes());
                all.push(value);
            }
        }
    }
    // Longest first, so a secret containing another is censored whole.
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    all.dedup();
    let mut files: Vec<PathBuf> = entries
        .iter()
        .map(|e| PathBuf::from(&e.process_log))
        .collect();
    for item in items {
        let path = Path::new(item);
        if path.is_dir() {
            // What the upload leaves out needs no censoring; its log says so already.
            for found in gcsupload::walk_contained(path, item, &mut Vec::new()) {
                if censored_path(options, &found.relative) && !files.contains(&found.path) {
                    files.push(found.path);
                }
            }
        } else if path.is_file() && censored_path(options, "") {
            // An item is configuration, not the job's doing: its own link is resolved.
            files.push(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()));
        }
    }
    let mut changed = 0;
    for file in files {
        // Reads and writes follow no link, so a job cannot point them outside its directories.
        let Ok(mut data) = gcsupload::read_no_follow(&file) else {
            continue;
        };
        if censor_bytes(&mut data, &all) {
            gcsupload::write_no_follow(&file, &data)
                .map_err(|e| format!("write {}: {e}", file.display()))?;
            changed += 1;
        }
    }
    Ok(changed)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

fn censor_bytes(data: &mut [u8], secrets: &[Vec<u8>]) -> bool {
    let mut changed = false;
    for secret in secrets {
        let mut i = 0;
        while i + secret.len() <= data.len() {
            if data[i..i + secret.len()] == secret[..] {
                data[i..i + secret.len()].fill(b'*');
                changed = true;
                i += secret.len();
            } else {
                i += 1;
            }
        }
    }
    changed
}

fn collect_secrets(dir: &Path, ini_files: &[String], out: &mut Vec<Vec<u8>>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("read secret directory {}: {e}", dir.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Kubernetes mounts secrets through `..data` symlinks; read the real files once.
        if name.starts_with("..") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect_secrets(&path, ini_files, out)?;
        } else if let Ok(data) = std::fs::read(&path) {
            if ini_files.contains(&name) {
                let text = String::from_utf8_lossy(&data);
                for line in text.lines() {
                    if let Some((_, value)) = line.split_once('=') {
                        out.push(value.trim().as_bytes().to_vec());
                    }
                }
            } else {
                out.push(data);
            }
        }
    }
    Ok(())
}

/// Whether a file at `relative` (to its item) is censored under the include and exclude
/// globs.
fn censored_path(options: &SidecarCensoringOptions, relative: &str) -> bool {
    let included = options.include_directories.is_empty()
        || options
            .include_directories
            .iter()
            .any(|g| glob_match(g, relative));
    let excluded = options
        .exclude_directories
        .iter()
        .any(|g| glob_match(g, relative));
    included && !excluded
}

fn glob_match(pattern: &str, text: &str) -> bool {
    globset::Glob::new(pattern).is_ok_and(|g| g.compile_matcher().is_match(text))
}
