//! Pod decoration: a ProwJob becomes the Kubernetes pod that runs it, wrapped in Prow's pod
//! utilities (clonerefs, initupload, entrypoint, sidecar) when the job is decorated.

use std::collections::{BTreeMap, BTreeSet};

use prow_core::k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, HostPathVolumeSource, KeyToPath, Pod, PodSecurityContext,
    PodSpec, SecretVolumeSource, Volume, VolumeMount,
};
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prow_core::{DecorationConfig, Duration, ProwJob, Refs};

use crate::Error;
use crate::downwardapi::{self, JOB_SPEC, JobSpec, kube_env};
use crate::labels::labels_and_annotations_for_job;
use crate::paths;
use crate::podutils::{
    CLONEREFS_OPTIONS, ClonerefsOptions, DEFAULT_GIT_USER_EMAIL, DEFAULT_GIT_USER_NAME,
    DEFAULT_GITHUB_API_ENDPOINT, ENTRYPOINT_OPTIONS, EntrypointOptions, GcsUploadOptions,
    INITUPLOAD_OPTIONS, InitUploadOptions, SIDECAR_OPTIONS, SidecarCensoringOptions,
    SidecarOptions, StorageClientOptions, WrapperOptions,
};

/// Name of the single test container of a pod.
pub const TEST_CONTAINER_NAME: &str = "test";
/// Name of the init container that clones the refs.
pub const CLONEREFS_NAME: &str = "clonerefs";
/// Name of the init container that uploads `started.json` and the clone log.
pub const INITUPLOAD_NAME: &str = "initupload";
/// Name of the init container that copies entrypoint into the tools volume.
pub const PLACE_ENTRYPOINT_NAME: &str = "place-entrypoint";
/// Name of the container that uploads results when the tests end.
pub const SIDECAR_NAME: &str = "sidecar";

/// Volume shared by all containers for logs, markers and artifacts.
pub const LOG_MOUNT_NAME: &str = "logs";
/// Where the log volume is mounted.
pub const LOG_MOUNT_PATH: &str = "/logs";
/// Where test containers write artifacts (`$ARTIFACTS`).
pub const ARTIFACTS_PATH: &str = "/logs/artifacts";
/// Volume holding the cloned code.
pub const CODE_MOUNT_NAME: &str = "code";
/// Where the code volume is mounted (`$GOPATH`).
pub const CODE_MOUNT_PATH: &str = "/home/prow/go";
/// Volume holding the entrypoint binary.
pub const TOOLS_MOUNT_NAME: &str = "tools";
/// Where the tools volume is mounted.
pub const TOOLS_MOUNT_PATH: &str = "/tools";
/// Volume with the GCS credentials secret.
pub const GCS_CREDENTIALS_MOUNT_NAME: &str = "gcs-credentials";
/// Where the GCS credentials are mounted.
pub const GCS_CREDENTIALS_MOUNT_PATH: &str = "/secrets/gcs";
/// Volume with the S3 credentials secret.
pub const S3_CREDENTIALS_MOUNT_NAME: &str = "s3-credentials";
/// Where the S3 credentials are mounted.
pub const S3_CREDENTIALS_MOUNT_PATH: &str = "/secrets/s3-storage";
/// Host-path volume that local runs copy results to instead of uploading.
pub const OUTPUT_MOUNT_NAME: &str = "output";
/// Where the output volume is mounted.
pub const OUTPUT_MOUNT_PATH: &str = "/output";

const ARTIFACTS_ENV: &str = "ARTIFACTS";
const GOPATH_ENV: &str = "GOPATH";
const CLONE_LOG_FILE: &str = "clone.json";
const FALLBACK_TO_LOGS_ON_ERROR: &str = "FallbackToLogsOnError";
/// `u+r`: secrets with keys and cookies are readable by their owner only.
const SECRET_FILE_MODE: i32 = 0o400;

/// The pod that runs `pj`'s build `build_id`, uploading results to object storage.
pub fn prow_job_to_pod(pj: &ProwJob, build_id: &str) -> Result<Pod, Error> {
    build_pod(pj, build_id, None)
}

/// Like [`prow_job_to_pod`], but decorated pods copy their results into `output_dir` on the
/// node (a host-path volume) instead of uploading them.
pub fn prow_job_to_pod_local(pj: &ProwJob, build_id: &str, output_dir: &str) -> Result<Pod, Error> {
    build_pod(pj, build_id, (!output_dir.is_empty()).then_some(output_dir))
}

fn build_pod(pj: &ProwJob, build_id: &str, output_dir: Option<&str>) -> Result<Pod, Error> {
    let mut spec = pj
        .spec
        .pod_spec
        .as_deref()
        .cloned()
        .ok_or_else(|| Error::MissingPodSpec {
            name: pj.name().to_owned(),
        })?;
    let mut raw_env = downwardapi::env_for_spec(&JobSpec::new(&pj.spec, build_id, pj.name()))?;

    spec.restart_policy = Some("Never".to_owned());
    if let [only] = spec.containers.as_mut_slice() {
        only.name = TEST_CONTAINER_NAME.to_owned();
    }
    // Kubernetes mounts the default service account's token unless told otherwise; a job gets
    // it only when it asks for it or names a service account of its own.
    if spec.automount_service_account_token.is_none() && is_empty(&spec.service_account_name) {
        spec.automount_service_account_token = Some(false);
    }

    match &pj.spec.decoration_config {
        None => {
            let env = kube_env(&raw_env);
            for container in &mut spec.containers {
                container
                    .env
                    .get_or_insert_default()
                    .extend(env.iter().cloned());
            }
        }
        Some(_) => decorate_pod_spec(&mut spec, pj, &mut raw_env, output_dir)?,
    }

    // Keep the end of the log in the pod status, so a failure can be read after the logs
    // are gone. Containers that chose a policy keep it.
    let containers = spec.init_containers.iter_mut().flatten();
    for container in containers.chain(spec.containers.iter_mut()) {
        if is_empty(&container.termination_message_policy) {
            container.termination_message_policy = Some(FALLBACK_TO_LOGS_ON_ERROR.to_owned());
        }
    }

    let (labels, annotations) = labels_and_annotations_for_job(pj, build_id);
    Ok(Pod {
        metadata: ObjectMeta {
            name: pj.metadata.name.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    })
}

fn is_empty(value: &Option<String>) -> bool {
    value.as_deref().unwrap_or_default().is_empty()
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        ..VolumeMount::default()
    }
}

fn read_only_mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        read_only: Some(true),
        ..mount(name, path)
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.to_owned(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

fn secret_volume(name: &str, secret: SecretVolumeSource) -> Volume {
    Volume {
        name: name.to_owned(),
        secret: Some(secret),
        ..Volume::default()
    }
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// A secret mounted read-only with one key as `./<key>`, for the OAuth token and the GitHub
/// App key.
fn single_key_secret(secret: &str, key: &str, path: &str) -> (Volume, VolumeMount) {
    let volume = secret_volume(
        secret,
        SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            items: Some(vec![KeyToPath {
                key: key.to_owned(),
                path: format!("./{key}"),
                mode: None,
            }]),
            ..SecretVolumeSource::default()
        },
    );
    (volume, read_only_mount(secret, path))
}

/// A secret holding SSH keys, mounted read-only at `/secrets/ssh/<secret>`.
fn ssh_volume(secret: &str) -> (Volume, VolumeMount) {
    let name = format!("ssh-keys-{secret}");
    let volume = secret_volume(
        &name,
        SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            default_mode: Some(SECRET_FILE_MODE),
            ..SecretVolumeSource::default()
        },
    );
    let path = paths::join(&["/secrets/ssh", secret]);
    (volume, read_only_mount(&name, &path))
}

/// A secret with a git cookie file, given as `secret/key` or just `secret` (the key then
/// being the secret's name); also returns the cookie file's path.
fn cookiefile_volume(secret: &str) -> (Volume, VolumeMount, String) {
    let (name, key) = secret.split_once('/').unwrap_or((secret, secret));
    let volume = secret_volume(
        "cookiefile",
        SecretVolumeSource {
            secret_name: Some(name.to_owned()),
            default_mode: Some(SECRET_FILE_MODE),
            ..SecretVolumeSource::default()
        },
    );
    let mount = read_only_mount("cookiefile", "/secrets/cookiefile");
    let path = paths::join(&[&mount.mount_path, key]);
    (volume, mount, path)
}

/// What cloning adds to a pod: the clonerefs container, the refs it clones and its volumes.
struct Cloning {
    container: Container,
    refs: Vec<Refs>,
    volumes: Vec<Volume>,
}

/// The clonerefs init container, or `None` when there is nothing to clone or cloning is
/// skipped.
fn clone_refs(
    pj: &ProwJob,
    dc: &DecorationConfig,
    clonerefs_image: &str,
    code_mount: &VolumeMount,
    log_mount: &VolumeMount,
) -> Result<Option<Cloning>, Error> {
    if dc.skip_cloning == Some(true) {
        return Ok(None);
    }
    let refs: Vec<Refs> = pj
        .spec
        .refs
        .iter()
        .chain(&pj.spec.extra_refs)
        .cloned()
        .collect();
    if refs.is_empty() {
        return Ok(None);
    }

    let mut mounts = vec![log_mount.clone(), code_mount.clone()];
    let mut volumes = Vec::new();
    let mut key_files = Vec::new();
    for secret in &dc.ssh_key_secrets {
        let (volume, mount) = ssh_volume(secret);
        key_files.push(mount.mount_path.clone());
        mounts.push(mount);
        volumes.push(volume);
    }

    let mut oauth_token_file = String::new();
    if let Some(secret) = &dc.oauth_token_secret {
        let (volume, mount) = single_key_secret(&secret.name, &secret.key, "/secrets/oauth");
        oauth_token_file = paths::join(&[&mount.mount_path, &secret.key]);
        mounts.push(mount);
        volumes.push(volume);
    }

    let github_api_endpoints = if dc.github_api_endpoints.is_empty() {
        vec![DEFAULT_GITHUB_API_ENDPOINT.to_owned()]
    } else {
        dc.github_api_endpoints.clone()
    };

    let mut github_app_private_key_file = String::new();
    if let Some(secret) = &dc.github_app_private_key_secret {
        let (volume, mount) = single_key_secret(&secret.name, &secret.key, "/secrets/github-app");
        github_app_private_key_file = paths::join(&[&mount.mount_path, &secret.key]);
        mounts.push(mount);
        volumes.push(volume);
    }

    // clonerefs keeps known_hosts and similar scratch files in /tmp.
    mounts.push(mount("clonerefs-tmp", "/tmp"));
    volumes.push(empty_dir("clonerefs-tmp"));

    let mut args = Vec::new();
    let mut cookie_path = String::new();
    if let Some(secret) = dc.cookiefile_secret.as_deref().filter(|s| !s.is_empty()) {
        let (volume, mount, path) = cookiefile_volume(secret);
        mounts.push(mount);
        volumes.push(volume);
        args.push(format!("--cookiefile={path}"));
        cookie_path = path;
    }

    let options = ClonerefsOptions {
        src_root: code_mount.mount_path.clone(),
        log: clone_log_path(log_mount),
        git_user_name: DEFAULT_GIT_USER_NAME.to_owned(),
        git_user_email: DEFAULT_GIT_USER_EMAIL.to_owned(),
        git_refs: refs.clone(),
        key_files,
        oauth_token_file,
        host_fingerprints: dc.ssh_host_fingerprints.clone(),
        cookie_path,
        github_api_endpoints,
        github_app_id: dc.github_app_id.clone(),
        github_app_private_key_file,
        ..ClonerefsOptions::default()
    };
    let env = BTreeMap::from([(CLONEREFS_OPTIONS.to_owned(), options.encode()?)]);

    let container = Container {
        name: CLONEREFS_NAME.to_owned(),
        image: Some(clonerefs_image.to_owned()),
        args: non_empty(args),
        env: Some(kube_env(&env)),
        volume_mounts: Some(mounts),
        resources: dc.resources.as_ref().and_then(|r| r.clone_refs.clone()),
        ..Container::default()
    };
    Ok(Some(Cloning {
        container,
        refs,
        volumes,
    }))
}

fn clone_log_path(log_mount: &VolumeMount) -> String {
    paths::join(&[&log_mount.mount_path, CLONE_LOG_FILE])
}

fn artifacts_dir(log_mount: &VolumeMount) -> String {
    paths::join(&[&log_mount.mount_path, "artifacts"])
}

/// The process log, marker file and metadata file of a test container; `prefix` is the
/// container's name when the pod has several, empty when it has one.
fn wrapper_paths(log_mount: &VolumeMount, prefix: &str) -> (String, String, String) {
    let log = &log_mount.mount_path;
    let artifacts = artifacts_dir(log_mount);
    if prefix.is_empty() {
        (
            paths::join(&[log, "process-log.txt"]),
            paths::join(&[log, "marker-file.txt"]),
            paths::join(&[&artifacts, "metadata.json"]),
        )
    } else {
        (
            paths::join(&[log, &format!("{prefix}-log.txt")]),
            paths::join(&[log, &format!("{prefix}-marker.txt")]),
            paths::join(&[&artifacts, &format!("{prefix}-metadata.json")]),
        )
    }
}

/// Makes entrypoint (from the tools volume) run `container`'s command, and returns what it
/// was told to run.
fn inject_entrypoint(
    container: &mut Container,
    timeout: Duration,
    grace_period: Duration,
    prefix: &str,
    log_mount: &VolumeMount,
    tools_mount: &VolumeMount,
) -> Result<WrapperOptions, Error> {
    let (process_log, marker_file, metadata_file) = wrapper_paths(log_mount, prefix);
    let wrapper = WrapperOptions {
        args: container
            .command
            .iter()
            .flatten()
            .chain(container.args.iter().flatten())
            .cloned()
            .collect(),
        container_name: container.name.clone(),
        process_log,
        marker_file,
        metadata_file,
    };
    let options = EntrypointOptions {
        timeout,
        grace_period,
        artifact_dir: artifacts_dir(log_mount),
        wrapper: wrapper.clone(),
        ..EntrypointOptions::default()
    };
    let env = BTreeMap::from([(ENTRYPOINT_OPTIONS.to_owned(), options.encode()?)]);

    container.command = Some(vec![paths::join(&[&tools_mount.mount_path, "entrypoint"])]);
    container.args = None;
    container.env.get_or_insert_default().extend(kube_env(&env));
    container
        .volume_mounts
        .get_or_insert_default()
        .extend([log_mount.clone(), tools_mount.clone()]);
    Ok(wrapper)
}

/// The init container that copies entrypoint into the tools volume.
fn place_entrypoint(dc: &DecorationConfig, image: &str, tools_mount: &VolumeMount) -> Container {
    Container {
        name: PLACE_ENTRYPOINT_NAME.to_owned(),
        image: Some(image.to_owned()),
        args: Some(vec!["--copy-mode-only".to_owned()]),
        volume_mounts: Some(vec![tools_mount.clone()]),
        resources: dc
            .resources
            .as_ref()
            .and_then(|r| r.place_entrypoint.clone()),
        ..Container::default()
    }
}

/// Upload settings and the credential volumes and mounts they need; local runs copy to the
/// output volume and need no credentials.
fn blob_storage_options(
    dc: &DecorationConfig,
    local: bool,
) -> (Vec<Volume>, Vec<VolumeMount>, GcsUploadOptions) {
    let mut options = GcsUploadOptions {
        gcs_configuration: dc.gcs_configuration.clone(),
        dry_run: false,
        ..GcsUploadOptions::default()
    };
    if local {
        options
            .gcs_configuration
            .get_or_insert_default()
            .local_output_dir = OUTPUT_MOUNT_PATH.to_owned();
        return (Vec::new(), Vec::new(), options);
    }

    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    let mut add = |secret: &Option<String>, name: &str, path: &str| -> Option<String> {
        let secret = secret.as_deref().filter(|s| !s.is_empty())?;
        volumes.push(secret_volume(
            name,
            SecretVolumeSource {
                secret_name: Some(secret.to_owned()),
                ..SecretVolumeSource::default()
            },
        ));
        mounts.push(mount(name, path));
        Some(format!("{path}/service-account.json"))
    };
    let gcs = add(
        &dc.gcs_credentials_secret,
        GCS_CREDENTIALS_MOUNT_NAME,
        GCS_CREDENTIALS_MOUNT_PATH,
    );
    let s3 = add(
        &dc.s3_credentials_secret,
        S3_CREDENTIALS_MOUNT_NAME,
        S3_CREDENTIALS_MOUNT_PATH,
    );
    options.storage_client_options = StorageClientOptions {
        gcs_credentials_file: gcs.unwrap_or_default(),
        s3_credentials_file: s3.unwrap_or_default(),
    };
    (volumes, mounts, options)
}

/// The init container that uploads `started.json` and, when code was cloned, the clone log.
fn init_upload(
    dc: &DecorationConfig,
    image: &str,
    gcs_options: GcsUploadOptions,
    blob_storage_mounts: &[VolumeMount],
    clone_log_mount: Option<&VolumeMount>,
    output_mount: Option<&VolumeMount>,
    encoded_job_spec: &str,
) -> Result<Container, Error> {
    let mut mounts = Vec::new();
    let mut log = String::new();
    if let Some(clone_log_mount) = clone_log_mount {
        log = clone_log_path(clone_log_mount);
        mounts.push(clone_log_mount.clone());
    }
    mounts.extend_from_slice(blob_storage_mounts);
    mounts.extend(output_mount.cloned());
    let options = InitUploadOptions { gcs_options, log };
    let env = BTreeMap::from([
        (JOB_SPEC.to_owned(), encoded_job_spec.to_owned()),
        (INITUPLOAD_OPTIONS.to_owned(), options.encode()?),
    ]);
    Ok(Container {
        name: INITUPLOAD_NAME.to_owned(),
        image: Some(image.to_owned()),
        env: Some(kube_env(&env)),
        volume_mounts: non_empty(mounts),
        resources: dc.resources.as_ref().and_then(|r| r.init_upload.clone()),
        ..Container::default()
    })
}

/// What the sidecar container is built from.
#[derive(Debug, Clone, Default)]
pub struct SidecarSpec<'a> {
    /// Upload settings; the artifacts directory is added to its items.
    pub gcs_options: GcsUploadOptions,
    /// Mounts of the storage credentials.
    pub blob_storage_mounts: &'a [VolumeMount],
    /// The log volume's mount.
    pub log_mount: VolumeMount,
    /// The output volume's mount, for local runs.
    pub output_mount: Option<&'a VolumeMount>,
    /// The `JOB_SPEC` value.
    pub encoded_job_spec: &'a str,
    /// Whether sidecar fails when a test container failed.
    pub require_passing_entries: bool,
    /// Whether sidecar keeps uploading when interrupted.
    pub ignore_interrupts: bool,
    /// Mounts of secrets whose values are censored from uploads.
    pub secret_volume_mounts: &'a [VolumeMount],
    /// The wrapped test processes to wait for.
    pub entries: Vec<WrapperOptions>,
}

/// The sidecar container, which waits for the test containers and uploads their results.
pub fn sidecar(dc: &DecorationConfig, spec: SidecarSpec<'_>) -> Result<Container, Error> {
    let mut gcs_options = spec.gcs_options;
    gcs_options.items.push(artifacts_dir(&spec.log_mount));
    let mut censoring = SidecarCensoringOptions {
        secret_directories: spec
            .secret_volume_mounts
            .iter()
            .map(|m| m.mount_path.clone())
            .collect(),
        ..SidecarCensoringOptions::default()
    };
    if let Some(options) = &dc.censoring_options {
        censoring.censoring_concurrency = options.censoring_concurrency;
        censoring.censoring_buffer_size = options.censoring_buffer_size;
        censoring.include_directories = options.include_directories.clone().unwrap_or_default();
        censoring.exclude_directories = options.exclude_directories.clone().unwrap_or_default();
        censoring.minimum_secret_length = options.minimum_secret_length;
    }
    let options = SidecarOptions {
        gcs_options: Some(gcs_options),
        entries: spec.entries,
        entry_error: spec.require_passing_entries,
        ignore_interrupts: spec.ignore_interrupts,
        censoring_options: Some(censoring),
        ..SidecarOptions::default()
    };
    let env = BTreeMap::from([
        (SIDECAR_OPTIONS.to_owned(), options.encode()?),
        (JOB_SPEC.to_owned(), spec.encoded_job_spec.to_owned()),
    ]);

    let mut mounts = vec![spec.log_mount];
    mounts.extend_from_slice(spec.blob_storage_mounts);
    mounts.extend_from_slice(spec.secret_volume_mounts);
    mounts.extend(spec.output_mount.cloned());
    let image = dc
        .utility_images
        .as_ref()
        .map(|i| i.sidecar.clone())
        .unwrap_or_default();
    Ok(Container {
        name: SIDECAR_NAME.to_owned(),
        image: Some(image),
        env: Some(kube_env(&env)),
        volume_mounts: Some(mounts),
        termination_message_policy: Some(FALLBACK_TO_LOGS_ON_ERROR.to_owned()),
        resources: dc.resources.as_ref().and_then(|r| r.sidecar.clone()),
        ..Container::default()
    })
}

/// The working directory of test containers: the clone of the first refs marked `workdir`,
/// else of the first refs.
pub fn determine_work_dir(base_dir: &str, refs: &[Refs]) -> Option<String> {
    refs.iter()
        .find(|r| r.work_dir)
        .or_else(|| refs.first())
        .map(|r| path_for_refs(base_dir, r))
}

/// Where clonerefs clones `refs` under `base_dir`: `src/` then `path_alias`, else the
/// repository link without its scheme, else `github.com/org/repo`.
pub fn path_for_refs(base_dir: &str, refs: &Refs) -> String {
    let clone_path = if !refs.path_alias.is_empty() {
        refs.path_alias.clone()
    } else if !refs.repo_link.is_empty() {
        refs.repo_link
            .rsplit("://")
            .next()
            .unwrap_or_default()
            .to_owned()
    } else {
        format!("{}/{}/{}", downwardapi::DEFAULT_HOST, refs.org, refs.repo)
    };
    paths::join(&[base_dir, "src", &clone_path])
}

/// Decorates `spec` for `pj` in place: adds the pod utilities, volumes and `raw_env` (which
/// gains `ARTIFACTS` and `GOPATH`), and wraps every test container with entrypoint.
///
/// The job's `JOB_SPEC` is taken from `raw_env`. `output_dir`, when given, is a node
/// directory results are copied to instead of being uploaded. Jobs without a decoration
/// config are left alone.
pub fn decorate_pod_spec(
    spec: &mut PodSpec,
    pj: &ProwJob,
    raw_env: &mut BTreeMap<String, String>,
    output_dir: Option<&str>,
) -> Result<(), Error> {
    let Some(dc) = &pj.spec.decoration_config else {
        return Ok(());
    };
    let images = dc
        .utility_images
        .as_ref()
        .ok_or_else(|| Error::MissingUtilityImages {
            job: pj.spec.job.clone(),
        })?;

    raw_env.insert(ARTIFACTS_ENV.to_owned(), ARTIFACTS_PATH.to_owned());
    // Kept for jobs from before Go modules, which expect their code under $GOPATH.
    raw_env.insert(GOPATH_ENV.to_owned(), CODE_MOUNT_PATH.to_owned());
    let log_mount = mount(LOG_MOUNT_NAME, LOG_MOUNT_PATH);
    let code_mount = mount(CODE_MOUNT_NAME, CODE_MOUNT_PATH);
    let tools_mount = mount(TOOLS_MOUNT_NAME, TOOLS_MOUNT_PATH);

    let output = output_dir.map(|dir| {
        let volume = Volume {
            name: OUTPUT_MOUNT_NAME.to_owned(),
            host_path: Some(HostPathVolumeSource {
                path: dir.to_owned(),
                type_: None,
            }),
            ..Volume::default()
        };
        (volume, mount(OUTPUT_MOUNT_NAME, OUTPUT_MOUNT_PATH))
    });
    let output_mount = output.as_ref().map(|(_, m)| m);

    let (blob_volumes, blob_mounts, blob_options) = blob_storage_options(dc, output.is_some());

    let clone = clone_refs(pj, dc, &images.clone_refs, &code_mount, &log_mount)?;
    let init_containers = spec.init_containers.get_or_insert_default();
    if let Some(clone) = &clone {
        init_containers.insert(0, clone.container.clone());
    }

    let encoded_job_spec = raw_env.get(JOB_SPEC).cloned().unwrap_or_default();
    init_containers.push(init_upload(
        dc,
        &images.init_upload,
        blob_options.clone(),
        &blob_mounts,
        clone.as_ref().map(|_| &log_mount),
        output_mount,
        &encoded_job_spec,
    )?);
    init_containers.push(place_entrypoint(dc, &images.entrypoint, &tools_mount));

    let env = kube_env(raw_env);
    for container in &mut spec.containers {
        container
            .env
            .get_or_insert_default()
            .extend(env.iter().cloned());
    }

    // Secrets the job mounts itself; with censor_secrets their values are kept out of uploads.
    let censor = dc.censor_secrets == Some(true);
    let secret_volumes: BTreeSet<&str> = spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| v.secret.is_some())
        .map(|v| v.name.as_str())
        .collect();
    let timeout = dc.timeout.unwrap_or(Duration::ZERO);
    let grace_period = dc.grace_period.unwrap_or(Duration::ZERO);
    let single = spec.containers.len() == 1;
    let mut secret_volume_mounts = Vec::new();
    let mut entries = Vec::new();
    for container in &mut spec.containers {
        let prefix = if single {
            String::new()
        } else {
            container.name.clone()
        };
        let wrapper = inject_entrypoint(
            container,
            timeout,
            grace_period,
            &prefix,
            &log_mount,
            &tools_mount,
        )?;
        if censor {
            secret_volume_mounts.extend(
                container
                    .volume_mounts
                    .iter()
                    .flatten()
                    .filter(|m| secret_volumes.contains(m.name.as_str()))
                    .cloned(),
            );
        }
        entries.push(wrapper);
    }

    let sidecar = sidecar(
        dc,
        SidecarSpec {
            gcs_options: blob_options,
            blob_storage_mounts: &blob_mounts,
            log_mount: log_mount.clone(),
            output_mount,
            encoded_job_spec: &encoded_job_spec,
            require_passing_entries: false,
            ignore_interrupts: dc.upload_ignores_interrupts == Some(true),
            secret_volume_mounts: &secret_volume_mounts,
            entries,
        },
    )?;

    let volumes = spec.volumes.get_or_insert_default();
    volumes.extend([empty_dir(LOG_MOUNT_NAME), empty_dir(TOOLS_MOUNT_NAME)]);
    volumes.extend(blob_volumes);
    volumes.extend(output.map(|(v, _)| v));

    if let Some(clone) = clone {
        let work_dir = determine_work_dir(&code_mount.mount_path, &clone.refs);
        for container in &mut spec.containers {
            container.working_dir.clone_from(&work_dir);
            container
                .volume_mounts
                .get_or_insert_default()
                .push(code_mount.clone());
        }
        volumes.extend(clone.volumes);
        volumes.push(empty_dir(CODE_MOUNT_NAME));
    }

    if let Some(default) = &dc.default_memory_request {
        for container in &mut spec.containers {
            let requests = container
                .resources
                .get_or_insert_default()
                .requests
                .get_or_insert_default();
            requests
                .entry("memory".to_owned())
                .or_insert_with(|| default.clone());
        }
    }

    let security = spec
        .security_context
        .get_or_insert_with(PodSecurityContext::default);
    if security.run_as_user.is_none() {
        security.run_as_user = dc.run_as_user;
    }
    if security.run_as_group.is_none() {
        security.run_as_group = dc.run_as_group;
    }
    if security.fs_group.is_none() {
        security.fs_group = dc.fs_group;
    }

    if let Some(scheduling) = &dc.scheduling_options {
        if spec.affinity.is_none() {
            spec.affinity.clone_from(&scheduling.affinity);
        }
        if spec.tolerations.is_none() {
            spec.tolerations.clone_from(&scheduling.tolerations);
        }
    }

    if dc.set_limit_equals_memory_request == Some(true) {
        for container in &mut spec.containers {
            let Some(resources) = &mut container.resources else {
                continue;
            };
            let Some(request) = resources.requests.as_ref().and_then(|r| r.get("memory")) else {
                continue;
            };
            let request = request.clone();
            resources
                .limits
                .get_or_insert_default()
                .insert("memory".to_owned(), request);
        }
    }

    spec.containers.push(sidecar);

    if spec.termination_grace_period_seconds.is_none()
        && let Some(grace) = dc.grace_period
    {
        // The pod's grace period must cover both the test's own grace period and sidecar's
        // upload afterwards; Prow assumes an 80/20 split.
        spec.termination_grace_period_seconds = Some(grace.as_secs() * 5 / 4);
    }

    if is_empty(&spec.service_account_name)
        && let Some(name) = dc
            .default_service_account_name
            .as_deref()
            .filter(|n| !n.is_empty())
    {
        spec.service_account_name = Some(name.to_owned());
    }
    Ok(())
}
