//! `DecorationConfig`: how the pod utilities wrap a job, and how defaults merge into it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, ResourceRequirements, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::duration::{Duration, MetaDuration};

/// How a job's pod is decorated with Prow's pod utilities (clonerefs, initupload, entrypoint,
/// sidecar) and where its logs and artifacts go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecorationConfig {
    /// How long the test container may run before it is interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// How long to wait after SIGINT before SIGKILL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<Duration>,
    /// The images of the four pod utilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utility_images: Option<UtilityImages>,
    /// Resource requirements of the utility containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Where and how logs and artifacts are uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs_configuration: Option<GcsConfiguration>,
    /// Secret holding GCS credentials (`service-account.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs_credentials_secret: Option<String>,
    /// Secret holding S3 credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_credentials_secret: Option<String>,
    /// Service account for the pod when the job names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_service_account_name: Option<String>,
    /// Secrets with SSH keys for cloning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssh_key_secrets: Vec<String>,
    /// Known SSH host fingerprints for cloning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssh_host_fingerprints: Vec<String>,
    /// Whether clonerefs fetches without blobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobless_fetch: Option<bool>,
    /// Paths for a sparse checkout.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparse_checkout_files: Vec<String>,
    /// Whether to skip cloning altogether.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_cloning: Option<bool>,
    /// Secret with a git cookie file, as `name` or `name/key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookiefile_secret: Option<String>,
    /// Secret with an OAuth token for cloning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_token_secret: Option<SecretKeyRef>,
    /// GitHub API endpoints clonerefs uses with GitHub App credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub github_api_endpoints: Vec<String>,
    /// GitHub App ID clonerefs authenticates as.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub github_app_id: String,
    /// Secret with the GitHub App's private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_app_private_key_secret: Option<SecretKeyRef>,
    /// Whether sidecar censors the values of mounted secrets in uploaded logs and artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censor_secrets: Option<bool>,
    /// How censoring runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_options: Option<CensoringOptions>,
    /// Whether sidecar keeps uploading when interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_ignores_interrupts: Option<bool>,
    /// Whether test containers' memory limit is set to their memory request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_limit_equals_memory_request: Option<bool>,
    /// Memory request for test containers that set none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_memory_request: Option<Quantity>,
    /// Affinity and tolerations for the pod when it sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_options: Option<SchedulingOptions>,
    /// How long a pod may stay pending before it is given up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_pending_timeout: Option<MetaDuration>,
    /// How long a pod may run before it is given up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_running_timeout: Option<MetaDuration>,
    /// How long a pod may stay unscheduled before it is given up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_unscheduled_timeout: Option<MetaDuration>,
    /// User ID the pod runs as, when the pod sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_user: Option<i64>,
    /// Group ID the pod runs as, when the pod sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as_group: Option<i64>,
    /// Filesystem group of the pod's volumes, when the pod sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs_group: Option<i64>,
}

/// The images of the pod utilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UtilityImages {
    /// The clonerefs image.
    #[serde(
        default,
        rename = "clonerefs",
        skip_serializing_if = "String::is_empty"
    )]
    pub clone_refs: String,
    /// The initupload image.
    #[serde(
        default,
        rename = "initupload",
        skip_serializing_if = "String::is_empty"
    )]
    pub init_upload: String,
    /// The entrypoint image.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub entrypoint: String,
    /// The sidecar image.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sidecar: String,
}

/// Resource requirements of the utility containers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Resources {
    /// Resources of the clonerefs init container.
    #[serde(default, rename = "clonerefs", skip_serializing_if = "Option::is_none")]
    pub clone_refs: Option<ResourceRequirements>,
    /// Resources of the initupload init container.
    #[serde(
        default,
        rename = "initupload",
        skip_serializing_if = "Option::is_none"
    )]
    pub init_upload: Option<ResourceRequirements>,
    /// Resources of the place-entrypoint init container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_entrypoint: Option<ResourceRequirements>,
    /// Resources of the sidecar container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<ResourceRequirements>,
}

/// How job results are laid out in a bucket (`path_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PathStrategy {
    /// `pr-logs/pull/<org>_<repo>/...`, except `default_org/default_repo` which omit the org.
    Legacy,
    /// Like legacy, but only `default_org/default_repo` is shortened.
    Single,
    /// Always `<org>_<repo>`.
    Explicit,
}

impl PathStrategy {
    /// The name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            PathStrategy::Legacy => "legacy",
            PathStrategy::Single => "single",
            PathStrategy::Explicit => "explicit",
        }
    }
}

/// Where and how logs and artifacts are uploaded (GCS, S3 or a local directory).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GcsConfiguration {
    /// The bucket: `name[/path]` (GCS) or `<provider>://name[/path]`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    /// A prefix for every upload path in the bucket.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path_prefix: String,
    /// How job paths are built; validation requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_strategy: Option<PathStrategy>,
    /// Org left out of paths by the legacy and single strategies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_org: String,
    /// Repo left out of paths by the legacy and single strategies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub default_repo: String,
    /// Content types by file extension, for uploads.
    #[serde(
        default,
        rename = "mediaTypes",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub media_types: BTreeMap<String, String>,
    /// Prefix of the job's URL in the status context links.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub job_url_prefix: String,
    /// A local directory to copy results to instead of uploading.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub local_output_dir: String,
    /// File extensions to gzip before upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compress_file_types: Option<Vec<String>>,
}

/// A key in a Kubernetes secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeyRef {
    /// The secret's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The key within the secret.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
}

/// How sidecar censors secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CensoringOptions {
    /// Files censored in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_concurrency: Option<i64>,
    /// Buffer size for streaming censoring, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub censoring_buffer_size: Option<i64>,
    /// Globs of artifact directories to censor (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_directories: Option<Vec<String>>,
    /// Globs of artifact directories not to censor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_directories: Option<Vec<String>>,
    /// Shortest secret value that is censored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_secret_length: Option<i64>,
}

/// Affinity and tolerations applied to pods that set none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchedulingOptions {
    /// Pod affinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Pod tolerations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
}

/// Fills each unset field of `value` from `default`; `value`'s own settings win.
fn or_default<T: Clone>(value: &mut Option<T>, default: &Option<T>) {
    if value.is_none() {
        value.clone_from(default);
    }
}

/// Like [`or_default`] for Go's "empty means unset" fields (strings, lists).
fn or_default_empty<T: Clone + Default + PartialEq>(value: &mut T, default: &T) {
    if *value == T::default() {
        value.clone_from(default);
    }
}

/// Merges `value` over `default` with `merge` when both are set, else takes whichever is.
fn merge_nested<T: Clone>(value: &mut Option<T>, default: &Option<T>, merge: impl Fn(&mut T, &T)) {
    match (value.as_mut(), default) {
        (Some(v), Some(d)) => merge(v, d),
        (None, Some(_)) => value.clone_from(default),
        _ => {}
    }
}

impl UtilityImages {
    /// Fills unset images from `default`.
    pub fn apply_default(&mut self, default: &UtilityImages) {
        or_default_empty(&mut self.clone_refs, &default.clone_refs);
        or_default_empty(&mut self.init_upload, &default.init_upload);
        or_default_empty(&mut self.entrypoint, &default.entrypoint);
        or_default_empty(&mut self.sidecar, &default.sidecar);
    }
}

impl Resources {
    /// Fills unset resources from `default`.
    pub fn apply_default(&mut self, default: &Resources) {
        or_default(&mut self.clone_refs, &default.clone_refs);
        or_default(&mut self.init_upload, &default.init_upload);
        or_default(&mut self.place_entrypoint, &default.place_entrypoint);
        or_default(&mut self.sidecar, &default.sidecar);
    }
}

impl GcsConfiguration {
    /// Fills unset fields from `default`; media types are merged, `default` winning per
    /// extension as in Prow.
    pub fn apply_default(&mut self, default: &GcsConfiguration) {
        or_default_empty(&mut self.bucket, &default.bucket);
        or_default_empty(&mut self.path_prefix, &default.path_prefix);
        or_default(&mut self.path_strategy, &default.path_strategy);
        or_default_empty(&mut self.default_org, &default.default_org);
        or_default_empty(&mut self.default_repo, &default.default_repo);
        // Prow copies the default's media types over the job's (maps.Copy), so the default wins
        // on a clash. Surprising, but users' configs were written against it.
        self.media_types.extend(
            default
                .media_types
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        or_default_empty(&mut self.job_url_prefix, &default.job_url_prefix);
        or_default_empty(&mut self.local_output_dir, &default.local_output_dir);
        or_default(&mut self.compress_file_types, &default.compress_file_types);
    }

    /// Checks the bucket, media types, path strategy and default org/repo like Prow.
    pub fn validate(&self) -> Result<(), String> {
        parse_bucket(&self.bucket)?;
        for media_type in self.media_types.values() {
            if !is_valid_media_type(media_type) {
                return Err(format!("invalid extension media type {media_type:?}"));
            }
        }
        let Some(strategy) = self.path_strategy else {
            return Err(
                r#"gcs_path_strategy must be one of "legacy", "explicit", or "single""#.to_owned(),
            );
        };
        if strategy != PathStrategy::Explicit
            && (self.default_org.is_empty() || self.default_repo.is_empty())
        {
            return Err(format!(
                "default org and repo must be provided for GCS strategy {:?}",
                strategy.as_str()
            ));
        }
        Ok(())
    }
}

/// A storage location: `gs://bucket/path` for a bare `bucket/path`, else `<provider>://...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoragePath {
    /// The storage provider: `gs`, `s3`, `file`, ...
    pub provider: String,
    /// The bucket name.
    pub bucket: String,
    /// The path inside the bucket, with its leading `/` (may be empty).
    pub path: String,
}

/// Reads a bucket setting the way Prow's `ParsePath` does.
pub fn parse_bucket(bucket: &str) -> Result<StoragePath, String> {
    let with_scheme;
    let full = if bucket.contains("://") {
        bucket
    } else {
        with_scheme = format!("gs://{bucket}");
        &with_scheme
    };
    let invalid = || {
        format!(
            "path {full:?} has invalid format, expected either <bucket-name>[/<path>] or <storage-provider>://<bucket-name>[/<path>]"
        )
    };
    let (provider, rest) = full.split_once("://").ok_or_else(invalid)?;
    let scheme_ok = provider
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && provider
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.chars().any(|c| c.is_control() || c == ' ') {
        return Err(invalid());
    }
    let (bucket, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    Ok(StoragePath {
        provider: provider.to_owned(),
        bucket: bucket.to_owned(),
        path: path.to_owned(),
    })
}

/// RFC 2045 media type syntax, as Go's `mime.ParseMediaType` accepts it: `type/subtype` followed
/// by `; name=value` parameters.
fn is_valid_media_type(text: &str) -> bool {
    fn is_token(s: &str) -> bool {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c))
    }
    let mut parts = text.split(';');
    let media = parts.next().unwrap_or_default().trim();
    let (main, sub) = match media.split_once('/') {
        Some((main, sub)) => (main, sub),
        None => (media, ""),
    };
    // Go accepts a bare token (no subtype) too.
    if !is_token(main) || (media.contains('/') && !is_token(sub)) {
        return false;
    }
    parts.all(|param| {
        let param = param.trim();
        if param.is_empty() {
            return true;
        }
        match param.split_once('=') {
            Some((name, value)) => {
                let value = value.trim();
                is_token(name.trim())
                    && (is_token(value)
                        || (value.len() >= 2 && value.starts_with('"') && value.ends_with('"')))
            }
            None => false,
        }
    })
}

impl CensoringOptions {
    /// Fills unset options from `default`.
    pub fn apply_default(&mut self, default: &CensoringOptions) {
        or_default(
            &mut self.censoring_concurrency,
            &default.censoring_concurrency,
        );
        or_default(
            &mut self.censoring_buffer_size,
            &default.censoring_buffer_size,
        );
        or_default(&mut self.include_directories, &default.include_directories);
        or_default(&mut self.exclude_directories, &default.exclude_directories);
        or_default(
            &mut self.minimum_secret_length,
            &default.minimum_secret_length,
        );
    }
}

impl SchedulingOptions {
    /// Fills unset options from `default`.
    pub fn apply_default(&mut self, default: &SchedulingOptions) {
        or_default(&mut self.affinity, &default.affinity);
        or_default(&mut self.tolerations, &default.tolerations);
    }
}

impl DecorationConfig {
    /// Returns this configuration with every unset field taken from `default`, the way Prow
    /// layers `plank.default_decoration_configs` under a job's own `decoration_config`.
    pub fn apply_default(&self, default: &DecorationConfig) -> DecorationConfig {
        let mut merged = self.clone();
        merged.merge_from(default);
        merged
    }

    fn merge_from(&mut self, d: &DecorationConfig) {
        merge_nested(
            &mut self.utility_images,
            &d.utility_images,
            UtilityImages::apply_default,
        );
        merge_nested(&mut self.resources, &d.resources, Resources::apply_default);
        merge_nested(
            &mut self.gcs_configuration,
            &d.gcs_configuration,
            GcsConfiguration::apply_default,
        );
        merge_nested(
            &mut self.censoring_options,
            &d.censoring_options,
            CensoringOptions::apply_default,
        );
        merge_nested(
            &mut self.scheduling_options,
            &d.scheduling_options,
            SchedulingOptions::apply_default,
        );
        or_default(&mut self.timeout, &d.timeout);
        or_default(&mut self.grace_period, &d.grace_period);
        or_default(&mut self.gcs_credentials_secret, &d.gcs_credentials_secret);
        or_default(&mut self.s3_credentials_secret, &d.s3_credentials_secret);
        or_default(
            &mut self.default_service_account_name,
            &d.default_service_account_name,
        );
        or_default_empty(&mut self.ssh_key_secrets, &d.ssh_key_secrets);
        or_default_empty(&mut self.ssh_host_fingerprints, &d.ssh_host_fingerprints);
        or_default(&mut self.skip_cloning, &d.skip_cloning);
        or_default(&mut self.cookiefile_secret, &d.cookiefile_secret);
        or_default(&mut self.oauth_token_secret, &d.oauth_token_secret);
        or_default_empty(&mut self.github_api_endpoints, &d.github_api_endpoints);
        or_default_empty(&mut self.github_app_id, &d.github_app_id);
        or_default(
            &mut self.github_app_private_key_secret,
            &d.github_app_private_key_secret,
        );
        or_default(&mut self.censor_secrets, &d.censor_secrets);
        or_default(
            &mut self.upload_ignores_interrupts,
            &d.upload_ignores_interrupts,
        );
        or_default(
            &mut self.set_limit_equals_memory_request,
            &d.set_limit_equals_memory_request,
        );
        or_default(&mut self.default_memory_request, &d.default_memory_request);
        or_default(&mut self.pod_pending_timeout, &d.pod_pending_timeout);
        or_default(&mut self.pod_running_timeout, &d.pod_running_timeout);
        or_default(
            &mut self.pod_unscheduled_timeout,
            &d.pod_unscheduled_timeout,
        );
        or_default(&mut self.run_as_user, &d.run_as_user);
        or_default(&mut self.run_as_group, &d.run_as_group);
        or_default(&mut self.fs_group, &d.fs_group);
        or_default(&mut self.blobless_fetch, &d.blobless_fetch);
        or_default_empty(&mut self.sparse_checkout_files, &d.sparse_checkout_files);
    }

    /// Checks what decoration needs, with Prow's messages; the first problem found is returned,
    /// as in Prow, because later checks depend on earlier ones.
    pub fn validate(&self) -> Result<(), String> {
        let Some(images) = &self.utility_images else {
            return Err("utility image config is not specified".to_owned());
        };
        let missing: Vec<&str> = [
            ("clonerefs", &images.clone_refs),
            ("initupload", &images.init_upload),
            ("entrypoint", &images.entrypoint),
            ("sidecar", &images.sidecar),
        ]
        .into_iter()
        .filter(|(_, image)| image.is_empty())
        .map(|(name, _)| name)
        .collect();
        if !missing.is_empty() {
            let quoted: Vec<String> = missing.iter().map(|m| format!("{m:?}")).collect();
            return Err(format!(
                "the following utility images are not specified: [{}]",
                quoted.join(" ")
            ));
        }
        let Some(gcs) = &self.gcs_configuration else {
            return Err("GCS upload configuration is not specified".to_owned());
        };
        gcs.validate()
            .map_err(|e| format!("GCS configuration is invalid: {e}"))?;
        if self.oauth_token_secret.is_some() && !self.ssh_key_secrets.is_empty() {
            return Err("both OAuth token and SSH key secrets are specified".to_owned());
        }
        Ok(())
    }

    /// Whether clonerefs is skipped.
    pub fn skips_cloning(&self) -> bool {
        self.skip_cloning.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> DecorationConfig {
        DecorationConfig {
            utility_images: Some(UtilityImages {
                clone_refs: "c".into(),
                init_upload: "i".into(),
                entrypoint: "e".into(),
                sidecar: "s".into(),
            }),
            gcs_configuration: Some(GcsConfiguration {
                bucket: "bucket".into(),
                path_strategy: Some(PathStrategy::Explicit),
                ..GcsConfiguration::default()
            }),
            ..DecorationConfig::default()
        }
    }

    fn check(config: DecorationConfig, expected: Result<(), &str>) {
        assert_eq!(config.validate(), expected.map_err(str::to_owned));
    }

    #[test]
    fn validation_messages_match_prow() {
        check(complete(), Ok(()));
        check(
            DecorationConfig::default(),
            Err("utility image config is not specified"),
        );
        let mut c = complete();
        c.utility_images.as_mut().unwrap().clone_refs.clear();
        c.utility_images.as_mut().unwrap().sidecar.clear();
        check(
            c,
            Err(r#"the following utility images are not specified: ["clonerefs" "sidecar"]"#),
        );
        let mut c = complete();
        c.gcs_configuration = None;
        check(c, Err("GCS upload configuration is not specified"));
        let mut c = complete();
        c.gcs_configuration.as_mut().unwrap().path_strategy = None;
        check(
            c,
            Err(
                r#"GCS configuration is invalid: gcs_path_strategy must be one of "legacy", "explicit", or "single""#,
            ),
        );
        let mut c = complete();
        c.gcs_configuration.as_mut().unwrap().path_strategy = Some(PathStrategy::Legacy);
        check(
            c,
            Err(
                r#"GCS configuration is invalid: default org and repo must be provided for GCS strategy "legacy""#,
            ),
        );
        let mut c = complete();
        c.gcs_configuration
            .as_mut()
            .unwrap()
            .media_types
            .insert("log".into(), "text/plain; charset".into());
        check(
            c,
            Err(
                r#"GCS configuration is invalid: invalid extension media type "text/plain; charset""#,
            ),
        );
        let mut c = complete();
        c.oauth_token_secret = Some(SecretKeyRef::default());
        c.ssh_key_secrets = vec!["ssh".into()];
        check(c, Err("both OAuth token and SSH key secrets are specified"));
    }

    #[test]
    fn job_settings_win_over_defaults_field_by_field() {
        let job = DecorationConfig {
            timeout: Some(Duration::from_hours(1)),
            utility_images: Some(UtilityImages {
                clone_refs: "job-clonerefs".into(),
                ..UtilityImages::default()
            }),
            gcs_configuration: Some(GcsConfiguration {
                media_types: [("log".to_owned(), "text/job".to_owned())].into(),
                ..GcsConfiguration::default()
            }),
            ..DecorationConfig::default()
        };
        let mut default = complete();
        default.timeout = Some(Duration::from_hours(2));
        default.grace_period = Some(Duration::from_secs(15));
        default.gcs_configuration.as_mut().unwrap().media_types = [
            ("log".to_owned(), "text/default".to_owned()),
            ("txt".to_owned(), "text/plain".to_owned()),
        ]
        .into();
        let merged = job.apply_default(&default);
        assert_eq!(merged.timeout, Some(Duration::from_hours(1)));
        assert_eq!(merged.grace_period, Some(Duration::from_secs(15)));
        let images = merged.utility_images.unwrap();
        assert_eq!(images.clone_refs, "job-clonerefs");
        assert_eq!(images.sidecar, "s");
        let gcs = merged.gcs_configuration.unwrap();
        assert_eq!(gcs.bucket, "bucket");
        assert_eq!(gcs.media_types["log"], "text/default");
        assert_eq!(gcs.media_types["txt"], "text/plain");
    }

    #[test]
    fn buckets_parse_like_prow() {
        let p = parse_bucket("my-bucket/some/path").unwrap();
        assert_eq!(
            (p.provider.as_str(), p.bucket.as_str(), p.path.as_str()),
            ("gs", "my-bucket", "/some/path")
        );
        let p = parse_bucket("s3://b").unwrap();
        assert_eq!(
            (p.provider.as_str(), p.bucket.as_str(), p.path.as_str()),
            ("s3", "b", "")
        );
        assert!(parse_bucket("1s3://b").is_err());
        assert!(parse_bucket("gs://b\n").is_err());
    }
}
