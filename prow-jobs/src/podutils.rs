//! The JSON options of the pod utilities (clonerefs, initupload, entrypoint, sidecar).
//!
//! Decoration hands each utility its settings as one JSON env var. The structs here write
//! exactly the bytes Prow's Go structs write: same field names, same order, Go's `omitempty`,
//! Go's embedded structs flattened in place, and Go `time.Duration`s as integer nanoseconds.

use std::collections::BTreeMap;

use prow_core::{Duration, GcsConfiguration, MergeMethod, Refs};

use serde::{Deserialize, Serialize};

use crate::{Error, gojson};

/// Env var holding [`ClonerefsOptions`].
pub const CLONEREFS_OPTIONS: &str = "CLONEREFS_OPTIONS";
/// Env var holding [`InitUploadOptions`].
pub const INITUPLOAD_OPTIONS: &str = "INITUPLOAD_OPTIONS";
/// Env var holding [`EntrypointOptions`].
pub const ENTRYPOINT_OPTIONS: &str = "ENTRYPOINT_OPTIONS";
/// Env var holding [`SidecarOptions`].
pub const SIDECAR_OPTIONS: &str = "SIDECAR_OPTIONS";
/// Env var holding [`GcsUploadOptions`] for the standalone uploader.
pub const GCSUPLOAD_OPTIONS: &str = "GCSUPLOAD_OPTIONS";

/// clonerefs' default `git config user.name`.
pub const DEFAULT_GIT_USER_NAME: &str = "ci-robot";
/// clonerefs' default `git config user.email`.
pub const DEFAULT_GIT_USER_EMAIL: &str = "ci-robot@k8s.io";
/// The GitHub API endpoint clonerefs uses when the decoration config names none.
pub const DEFAULT_GITHUB_API_ENDPOINT: &str = "https://api.github.com";

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// How the process under test is wrapped and where its results land (Prow's
/// `wrapper.Options`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrapperOptions {
    /// The command and arguments to run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The container the process runs in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container_name: String,
    /// Where the process's output is written.
    #[serde(default)]
    pub process_log: String,
    /// Where the process's exit code is written.
    #[serde(default)]
    pub marker_file: String,
    /// Where the job may write metadata for `finished.json`.
    #[serde(default)]
    pub metadata_file: String,
}

/// entrypoint's settings (`ENTRYPOINT_OPTIONS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrypointOptions {
    /// How long the process may run before it is interrupted.
    #[serde(with = "gojson::nanos")]
    pub timeout: Duration,
    /// How long to wait after the interrupt before killing the process.
    #[serde(with = "gojson::nanos")]
    pub grace_period: Duration,
    /// The directory created for the job's artifacts.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub artifact_dir: String,
    /// A marker file to wait for; the process only runs if it holds `0`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub previous_marker: String,
    /// Whether entrypoint exits zero whatever the process did.
    #[serde(default, skip_serializing_if = "is_false")]
    pub always_zero: bool,
    /// Whether entrypoint exits with the process's own exit code.
    #[serde(default, skip_serializing_if = "is_false")]
    pub propagate_error_code: bool,
    /// Whether entrypoint only copies itself to `copy_dst`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub copy_mode_only: bool,
    /// Where entrypoint copies itself in copy mode.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub copy_dst: String,
    /// The wrapped process (Go embeds these fields).
    #[serde(flatten)]
    pub wrapper: WrapperOptions,
}

/// Credential files for object storage (Prow's `flagutil.StorageClientOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageClientOptions {
    /// GCS service-account key file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gcs_credentials_file: String,
    /// S3 credentials file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub s3_credentials_file: String,
}

/// What to upload and where (Prow's `gcsupload.Options`); embedded by initupload and sidecar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcsUploadOptions {
    /// Files or directories to upload.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// A sub-directory appended to the upload path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub_dir: String,
    /// The bucket and path layout (Go embeds these fields; absent when unset).
    #[serde(flatten)]
    pub gcs_configuration: Option<GcsConfiguration>,
    /// Credential files (Go embeds these fields).
    #[serde(flatten)]
    pub storage_client_options: StorageClientOptions,
    /// Whether to only log what would be uploaded.
    #[serde(default)]
    pub dry_run: bool,
}

/// initupload's settings (`INITUPLOAD_OPTIONS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitUploadOptions {
    /// Where and how to upload (Go embeds these fields).
    #[serde(flatten)]
    pub gcs_options: GcsUploadOptions,
    /// clonerefs' log to upload; empty when nothing was cloned.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub log: String,
}

/// What sidecar censors before upload (Prow's `sidecar.CensoringOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidecarCensoringOptions {
    /// Directories of mounted secrets whose values are censored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_directories: Vec<String>,
    /// Files censored in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_concurrency: Option<i64>,
    /// Buffer size for streaming censoring, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_buffer_size: Option<i64>,
    /// Globs of artifact directories to censor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_directories: Vec<String>,
    /// Globs of artifact directories not to censor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_directories: Vec<String>,
    /// Secret files read as INI, each value censored too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ini_filenames: Vec<String>,
    /// Shortest secret value that is censored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_secret_length: Option<i64>,
}

/// sidecar's settings (`SIDECAR_OPTIONS`).
///
/// Prow's deprecated top-level `wrapper_options`, `secret_directories`,
/// `censoring_concurrency` and `censoring_buffer_size` are never written by decoration and
/// are not modelled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidecarOptions {
    /// Where and how to upload; written as `null` when unset, like Go.
    pub gcs_options: Option<GcsUploadOptions>,
    /// The single entry of ProwJobs decorated before `entries` existed (read, never written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapper_options: Option<WrapperOptions>,
    /// The wrapped processes to wait for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<WrapperOptions>,
    /// Whether sidecar fails when any entry failed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub entry_error: bool,
    /// Whether sidecar keeps uploading when interrupted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ignore_interrupts: bool,
    /// Whether sidecar writes memory profiles while it runs.
    #[serde(default, skip_serializing_if = "is_false")]
    pub write_memory_profile: bool,
    /// What to censor before upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_options: Option<SidecarCensoringOptions>,
    /// Deprecated form of `censoring_options.secret_directories`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_directories: Option<Vec<String>>,
    /// Deprecated form of `censoring_options.censoring_concurrency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_concurrency: Option<i64>,
    /// Deprecated form of `censoring_options.censoring_buffer_size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_buffer_size: Option<i64>,
}

/// clonerefs' settings (`CLONEREFS_OPTIONS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClonerefsOptions {
    /// Root under which repositories are cloned (`<src_root>/src/<path>`).
    #[serde(default)]
    pub src_root: String,
    /// Where the clone records are written.
    #[serde(default)]
    pub log: String,
    /// `git config user.name`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub git_user_name: String,
    /// `git config user.email`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub git_user_email: String,
    /// The repositories to clone; written as `null` when empty, like Go's nil slice.
    #[serde(default, rename = "refs", serialize_with = "null_if_empty")]
    pub git_refs: Vec<Refs>,
    /// SSH key files added to the agent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_files: Vec<String>,
    /// File holding an OAuth token for HTTPS cloning.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub oauth_token_file: String,
    /// `known_hosts` lines for SSH cloning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_fingerprints: Vec<String>,
    /// How many repositories are cloned at once (0: no limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_parallel_workers: i64,
    /// Whether clonerefs exits non-zero when a clone fails.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fail: bool,
    /// A git cookie file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cookie_path: String,
    /// GitHub API endpoints, used with GitHub App credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub github_api_endpoints: Vec<String>,
    /// The GitHub App ID.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub github_app_id: String,
    /// The GitHub App's private key file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub github_app_private_key_file: String,
    /// How pulls are merged per `org/repo` (default `merge`, as Prow's clonerefs always does);
    /// set so a batch is tested as tide will merge it. A prow-rs extension Prow's clonerefs
    /// ignores.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub merge_methods: BTreeMap<String, MergeMethod>,
}

fn null_if_empty<S: serde::Serializer>(refs: &[Refs], s: S) -> Result<S::Ok, S::Error> {
    if refs.is_empty() {
        s.serialize_none()
    } else {
        s.collect_seq(refs)
    }
}

macro_rules! encode_as {
    ($ty:ty, $var:expr) => {
        impl $ty {
            /// These options as the JSON the utility reads from its env var, byte-for-byte
            /// what Prow writes.
            pub fn encode(&self) -> Result<String, Error> {
                gojson::to_string(self, $var)
            }
        }
    };
}

encode_as!(ClonerefsOptions, CLONEREFS_OPTIONS);
encode_as!(InitUploadOptions, INITUPLOAD_OPTIONS);
encode_as!(EntrypointOptions, ENTRYPOINT_OPTIONS);
encode_as!(SidecarOptions, SIDECAR_OPTIONS);
encode_as!(GcsUploadOptions, GCSUPLOAD_OPTIONS);
