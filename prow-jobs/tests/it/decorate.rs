//! Decoration features the upstream goldens do not cover: credentials, local mode, working
//! directories, pod-level defaults and errors.

use prow_core::k8s_openapi::api::core::v1::{Container, Pod};
use prow_jobs::{prow_job_to_pod, prow_job_to_pod_local};
use serde_json::{Value, json};

use crate::support::{merged, prowjob};

fn decoration(extra: Value) -> Value {
    merged(
        &json!({
            "timeout": "1h",
            "grace_period": "20s",
            "utility_images": {
                "clonerefs": "c", "initupload": "i", "entrypoint": "e", "sidecar": "s",
            },
            "gcs_configuration": {"bucket": "b", "path_strategy": "explicit"},
        }),
        extra,
    )
}

fn postsubmit(decoration: Value, pod_spec: Value) -> Value {
    json!({
        "type": "postsubmit",
        "job": "post",
        "agent": "kubernetes",
        "refs": {"org": "o", "repo": "r", "base_ref": "main", "base_sha": "abc"},
        "decoration_config": decoration,
        "pod_spec": pod_spec,
    })
}

fn simple_pod() -> Value {
    json!({"containers": [{"image": "img", "command": ["make"]}]})
}

fn pod(spec: Value) -> Pod {
    prow_job_to_pod(&prowjob("pj", json!({}), spec), "42").expect("decorates")
}

fn container<'a>(pod: &'a Pod, name: &str) -> &'a Container {
    let spec = pod.spec.as_ref().expect("spec");
    spec.init_containers
        .iter()
        .flatten()
        .chain(&spec.containers)
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn env<'a>(container: &'a Container, name: &str) -> &'a str {
    container
        .env
        .iter()
        .flatten()
        .find(|e| e.name == name)
        .and_then(|e| e.value.as_deref())
        .unwrap_or_else(|| panic!("no env {name} in {}", container.name))
}

fn names<T>(items: &Option<Vec<T>>, name: impl Fn(&T) -> String) -> Vec<String> {
    items.iter().flatten().map(name).collect()
}

/// Checks one JSON-valued field of a decorated pod against the expected text.
fn check(pod: &Pod, what: &str, expected: &str) {
    let spec = pod.spec.as_ref().expect("spec");
    let actual = match what.split_once(':') {
        Some(("env", rest)) => {
            let (c, var) = rest.split_once('.').expect("container.VAR");
            env(container(pod, c), var).to_owned()
        }
        Some(("mounts", c)) => names(&container(pod, c).volume_mounts, |m| {
            format!(
                "{}={}{}",
                m.name,
                m.mount_path,
                if m.read_only == Some(true) { " ro" } else { "" }
            )
        })
        .join(" "),
        _ if what == "volumes" => serde_json::to_string(&spec.volumes).expect("json"),
        _ if what == "init" => names(&spec.init_containers, |c| c.name.clone()).join(" "),
        _ => panic!("unknown field {what}"),
    };
    assert_eq!(actual, expected, "{what}");
}

#[test]
fn clone_credentials() {
    let pod = pod(postsubmit(
        decoration(json!({
            "ssh_key_secrets": ["deploy-key"],
            "oauth_token_secret": {"name": "oauth", "key": "token"},
            "github_app_id": "123",
            "github_app_private_key_secret": {"name": "app", "key": "cert"},
            "github_api_endpoints": ["http://ghproxy", "https://api.github.com"],
            "s3_credentials_secret": "s3",
        })),
        simple_pod(),
    ));
    check(
        &pod,
        "env:clonerefs.CLONEREFS_OPTIONS",
        r#"{"src_root":"/home/prow/go","log":"/logs/clone.json","git_user_name":"ci-robot","git_user_email":"ci-robot@k8s.io","refs":[{"org":"o","repo":"r","base_ref":"main","base_sha":"abc"}],"key_files":["/secrets/ssh/deploy-key"],"oauth_token_file":"/secrets/oauth/token","github_api_endpoints":["http://ghproxy","https://api.github.com"],"github_app_id":"123","github_app_private_key_file":"/secrets/github-app/cert"}"#,
    );
    check(
        &pod,
        "mounts:clonerefs",
        "logs=/logs code=/home/prow/go ssh-keys-deploy-key=/secrets/ssh/deploy-key ro \
         oauth=/secrets/oauth ro app=/secrets/github-app ro clonerefs-tmp=/tmp",
    );
    check(
        &pod,
        "env:initupload.INITUPLOAD_OPTIONS",
        r#"{"bucket":"b","path_strategy":"explicit","s3_credentials_file":"/secrets/s3-storage/service-account.json","dry_run":false,"log":"/logs/clone.json"}"#,
    );
    check(
        &pod,
        "mounts:sidecar",
        "logs=/logs s3-credentials=/secrets/s3-storage",
    );
    check(
        &pod,
        "volumes",
        r#"[{"emptyDir":{},"name":"logs"},{"emptyDir":{},"name":"tools"},{"name":"s3-credentials","secret":{"secretName":"s3"}},{"name":"ssh-keys-deploy-key","secret":{"defaultMode":256,"secretName":"deploy-key"}},{"name":"oauth","secret":{"items":[{"key":"token","path":"./token"}],"secretName":"oauth"}},{"name":"app","secret":{"items":[{"key":"cert","path":"./cert"}],"secretName":"app"}},{"emptyDir":{},"name":"clonerefs-tmp"},{"emptyDir":{},"name":"code"}]"#,
    );
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.termination_grace_period_seconds, Some(25));
    assert_eq!(
        spec.containers[0].working_dir.as_deref(),
        Some("/home/prow/go/src/github.com/o/r")
    );
}

#[test]
fn local_mode_copies_to_the_output_volume() {
    let pj = prowjob(
        "pj",
        json!({}),
        postsubmit(
            decoration(json!({"gcs_credentials_secret": "ignored-locally"})),
            simple_pod(),
        ),
    );
    let pod = prow_job_to_pod_local(&pj, "42", "/var/prow/out").expect("decorates");
    check(
        &pod,
        "env:sidecar.SIDECAR_OPTIONS",
        r#"{"gcs_options":{"items":["/logs/artifacts"],"bucket":"b","path_strategy":"explicit","local_output_dir":"/output","dry_run":false},"entries":[{"args":["make"],"container_name":"test","process_log":"/logs/process-log.txt","marker_file":"/logs/marker-file.txt","metadata_file":"/logs/artifacts/metadata.json"}],"censoring_options":{}}"#,
    );
    check(&pod, "mounts:initupload", "logs=/logs output=/output");
    check(&pod, "mounts:sidecar", "logs=/logs output=/output");
    check(
        &pod,
        "volumes",
        r#"[{"emptyDir":{},"name":"logs"},{"emptyDir":{},"name":"tools"},{"hostPath":{"path":"/var/prow/out"},"name":"output"},{"emptyDir":{},"name":"clonerefs-tmp"},{"emptyDir":{},"name":"code"}]"#,
    );
}

#[test]
fn working_directory_follows_the_workdir_refs() {
    let mut spec = postsubmit(decoration(json!({})), simple_pod());
    spec["extra_refs"] = json!([
        {"org": "x", "repo": "y"},
        {"org": "gl", "repo": "z", "repo_link": "https://gitlab.com/gl/z", "workdir": true},
    ]);
    let pod = pod(spec);
    let test = container(&pod, "test");
    assert_eq!(
        test.working_dir.as_deref(),
        Some("/home/prow/go/src/gitlab.com/gl/z")
    );
}

#[test]
fn censoring_options_and_user_choices_are_kept() {
    let pod_spec = json!({
        "serviceAccountName": "mine",
        "terminationGracePeriodSeconds": 3,
        "securityContext": {"runAsUser": 7},
        "containers": [{"name": "c", "image": "img", "args": ["x"], "terminationMessagePolicy": "File"}],
    });
    let pod = pod(postsubmit(
        decoration(json!({
            "default_service_account_name": "default",
            "run_as_user": 1000,
            "censoring_options": {"censoring_concurrency": 2, "include_directories": ["a/**"], "minimum_secret_length": 5},
        })),
        pod_spec,
    ));
    let spec = pod.spec.as_ref().unwrap();
    assert_eq!(spec.service_account_name.as_deref(), Some("mine"));
    assert_eq!(spec.automount_service_account_token, None);
    assert_eq!(spec.termination_grace_period_seconds, Some(3));
    assert_eq!(spec.security_context.as_ref().unwrap().run_as_user, Some(7));
    let test = container(&pod, "test");
    assert_eq!(test.termination_message_policy.as_deref(), Some("File"));
    let sidecar = env(container(&pod, "sidecar"), "SIDECAR_OPTIONS");
    assert!(
        sidecar.ends_with(
            r#""censoring_options":{"censoring_concurrency":2,"include_directories":["a/**"],"minimum_secret_length":5}}"#
        ),
        "{sidecar}"
    );
    check(&pod, "init", "clonerefs initupload place-entrypoint");
}

#[test]
fn user_init_containers_sit_between_clonerefs_and_initupload() {
    let pod_spec = json!({
        "initContainers": [{"name": "setup", "image": "busybox"}],
        "containers": [{"image": "img"}],
    });
    let pod = pod(postsubmit(decoration(json!({})), pod_spec));
    check(&pod, "init", "clonerefs setup initupload place-entrypoint");
    // Wrapping a container without command or args leaves the wrapper's args unset.
    let entrypoint = env(container(&pod, "test"), "ENTRYPOINT_OPTIONS");
    assert_eq!(
        entrypoint,
        r#"{"timeout":3600000000000,"grace_period":20000000000,"artifact_dir":"/logs/artifacts","container_name":"test","process_log":"/logs/process-log.txt","marker_file":"/logs/marker-file.txt","metadata_file":"/logs/artifacts/metadata.json"}"#
    );
}

#[test]
fn grace_period_is_not_set_without_one_in_the_decoration_config() {
    let mut dc = decoration(json!({}));
    dc.as_object_mut().unwrap().remove("grace_period");
    let pod = pod(postsubmit(dc, simple_pod()));
    assert_eq!(pod.spec.unwrap().termination_grace_period_seconds, None);
}

#[test]
fn errors() {
    let check_error = |spec: Value, expected: &str| {
        let err = prow_job_to_pod(&prowjob("pj", json!({}), spec), "1").unwrap_err();
        assert_eq!(err.to_string(), expected);
    };
    let mut no_pod = postsubmit(decoration(json!({})), json!(null));
    no_pod.as_object_mut().unwrap().remove("pod_spec");
    check_error(no_pod, "build pod for prowjob \"pj\": it lacks a pod spec");
    let mut no_images = decoration(json!({}));
    no_images.as_object_mut().unwrap().remove("utility_images");
    check_error(
        postsubmit(no_images, simple_pod()),
        "decorate job \"post\": decoration config has no utility_images",
    );
}
