//! prow-cli: Prow's command-line tools, each a page long over the library crates.
//!
//! Owns argument parsing with Prow's flag names, exit codes, terminal output and progress. The
//! only crate that prints or uses `anyhow`.
//!
//! Must never know about: logic another crate could reuse. Anything more than parsing flags,
//! calling a library function and printing its result belongs in a library crate.

use std::io::Read;
use std::path::Path;

pub mod branchprotector;
pub mod controllers;
pub mod demo;
pub mod exit;
pub mod logging;

use anyhow::Context;

/// Reads a file, or standard input when `path` is `-`.
pub fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("failed to read standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
    }
}

/// Reads a pod utility's options from its JSON environment variable, if set, like Prow's
/// pod utilities (which then ignore their flags).
pub fn options_from_env<T: serde::de::DeserializeOwned>(var: &str) -> anyhow::Result<Option<T>> {
    match std::env::var(var) {
        Ok(json) => serde_json::from_str(&json)
            .map(Some)
            .with_context(|| format!("could not load config from JSON var {var}")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(err) => Err(err).with_context(|| format!("could not read {var}")),
    }
}

/// An exit code from a pod utility's code, wrapping like Go's `os.Exit` (1130 → 106).
pub fn exit_code(code: i32) -> std::process::ExitCode {
    std::process::ExitCode::from(code.rem_euclid(256) as u8)
}

/// Sends SIGINT and SIGTERM received by this process into a channel, for the utilities that
/// must react to them (entrypoint, sidecar). Call inside a tokio runtime.
pub fn forward_interrupts() -> tokio::sync::mpsc::UnboundedReceiver<prow_jobs::entrypoint::Interrupt>
{
    use prow_jobs::entrypoint::Interrupt;
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for (kind, interrupt) in [
        (SignalKind::interrupt(), Interrupt::Interrupt),
        (SignalKind::terminate(), Interrupt::Terminate),
    ] {
        let tx = tx.clone();
        if let Ok(mut stream) = signal(kind) {
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    if tx.send(interrupt).is_err() {
                        return;
                    }
                }
            });
        }
    }
    rx
}

/// gcsupload's flags (shared by initupload and sidecar), with Prow's names and defaults.
#[derive(Debug, clap::Args)]
pub struct GcsUploadFlags {
    /// Optional sub-directory of the job's path to upload into.
    #[arg(long, default_value = "")]
    pub sub_dir: String,
    /// How to encode org and repo into paths: legacy, single or explicit.
    #[arg(long, default_value = "explicit")]
    pub path_strategy: String,
    /// Default org for path encoding.
    #[arg(long, default_value = "")]
    pub default_org: String,
    /// Default repo for path encoding.
    #[arg(long, default_value = "")]
    pub default_repo: String,
    /// Bucket and path to upload into (`gs://bucket/path`, `s3://...`, `file:///dir`).
    #[arg(long, default_value = "")]
    pub gcs_path: String,
    /// Do not upload, only say what would be uploaded.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub dry_run: bool,
    /// Extension media types, `ext:type` (repeatable).
    #[arg(long = "media-type")]
    pub media_types: Vec<String>,
    /// Copy files to this directory instead of uploading.
    #[arg(long, default_value = "")]
    pub local_output_dir: String,
    /// GCS credentials file.
    #[arg(long, default_value = "")]
    pub gcs_credentials_file: String,
    /// S3 credentials file.
    #[arg(long, default_value = "")]
    pub s3_credentials_file: String,
}

impl GcsUploadFlags {
    /// The options these flags describe, uploading `items`.
    pub fn into_options(
        self,
        items: Vec<String>,
    ) -> anyhow::Result<prow_jobs::podutils::GcsUploadOptions> {
        let path_strategy =
            serde_json::from_value(serde_json::Value::String(self.path_strategy.clone()))
                .with_context(|| format!("invalid --path-strategy {:?}", self.path_strategy))?;
        let mut media_types = std::collections::BTreeMap::new();
        for entry in &self.media_types {
            let (ext, kind) = entry.split_once(':').with_context(|| {
                format!("invalid extension media type {entry:?}: missing colon delimiter")
            })?;
            media_types.insert(ext.to_owned(), kind.to_owned());
        }
        let (bucket, path_prefix) = match self.gcs_path.split_once("://") {
            Some((scheme, rest)) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                (format!("{scheme}://{bucket}"), prefix.to_owned())
            }
            None => (String::new(), String::new()),
        };
        Ok(prow_jobs::podutils::GcsUploadOptions {
            items,
            sub_dir: self.sub_dir,
            gcs_configuration: Some(prow_core::GcsConfiguration {
                bucket,
                path_prefix,
                path_strategy: Some(path_strategy),
                default_org: self.default_org,
                default_repo: self.default_repo,
                media_types,
                local_output_dir: self.local_output_dir,
                ..prow_core::GcsConfiguration::default()
            }),
            storage_client_options: prow_jobs::podutils::StorageClientOptions {
                gcs_credentials_file: self.gcs_credentials_file,
                s3_credentials_file: self.s3_credentials_file,
            },
            dry_run: self.dry_run,
        })
    }
}

/// A single-threaded tokio runtime for a utility's `main`.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}
