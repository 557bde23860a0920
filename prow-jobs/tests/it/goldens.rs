//! Decoration against upstream Prow's 18 goldens, with the inputs of upstream's podspec_test.go.

use std::collections::BTreeMap;

use prow_core::DecorationConfig;
use prow_core::k8s_openapi::api::core::v1::{PodSpec, VolumeMount};
use prow_jobs::decorate::SidecarSpec;
use prow_jobs::podutils::{GcsUploadOptions, WrapperOptions};
use prow_jobs::{decorate_pod_spec, prow_job_to_pod, sidecar};
use serde_json::{Value, json};

use crate::support::{check_against_yaml, corpus, data_dir, merged, prowjob, read};

const CORPUS_GOLDENS: &str = "prow-testdata/pkg/pod-utils/decorate/testdata";
const COMMITTED_GOLDENS: &str = "decorate/upstream";

/// An upstream golden's file name and how to produce our version of it.
type Case = (&'static str, fn() -> Value);

/// Every upstream golden.
const CASES: [Case; 18] = [
    ("TestProwJobToPod_0.yaml", || to_pod_case(0)),
    ("TestProwJobToPod_1.yaml", || to_pod_case(1)),
    ("TestProwJobToPod_2.yaml", || to_pod_case(2)),
    ("TestProwJobToPod_3.yaml", || to_pod_case(3)),
    ("TestProwJobToPod_4.yaml", || to_pod_case(4)),
    ("TestProwJobToPod_5.yaml", || to_pod_case(5)),
    ("TestProwJobToPod_6.yaml", || to_pod_case(6)),
    ("TestProwJobToPod_7.yaml", || to_pod_case(7)),
    ("TestProwJobToPod_8.yaml", || to_pod_case(8)),
    ("TestProwJobToPod_9.yaml", || to_pod_case(9)),
    ("TestProwJobToPod_10.yaml", || to_pod_case(10)),
    ("zz_fixture_TestDecorate_basic_happy_case.yaml", || {
        decorate_case("basic happy case")
    }),
    (
        "zz_fixture_TestDecorate_enforcing_memory_limit.yaml",
        || decorate_case("enforcing memory limit"),
    ),
    (
        "zz_fixture_TestDecorate_default_memory_request.yaml",
        || decorate_case("default memory request"),
    ),
    (
        "zz_fixture_TestDecorate_censor_secrets_in_sidecar.yaml",
        || decorate_case("censor secrets in sidecar"),
    ),
    (
        "zz_fixture_TestDecorate_ignore_interrupts_in_sidecar.yaml",
        || decorate_case("ignore interrupts in sidecar"),
    ),
    ("zz_fixture_TestSidecar_basic_case.yaml", || {
        sidecar_case(false)
    }),
    ("zz_fixture_TestSidecar_with_secrets.yaml", || {
        sidecar_case(true)
    }),
];

/// Checks every case whose golden is in `dir`; returns how many were found, failing with
/// every mismatch at once.
fn check_goldens_in(dir: &std::path::Path) -> usize {
    let mut found = 0;
    let mut failures = Vec::new();
    for (file, build) in CASES {
        let path = dir.join(file);
        if !path.exists() {
            continue;
        }
        found += 1;
        if let Err(diff) = check_against_yaml(&read(&path), build()) {
            failures.push(format!("{file}: {diff}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {found} goldens differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    found
}

#[test]
fn upstream_goldens_committed() {
    let found = check_goldens_in(&data_dir(COMMITTED_GOLDENS));
    assert_eq!(found, 7, "expected 7 committed goldens");
}

/// Checks one golden: the committed copy when there is one, else the corpus's (the tests of
/// goldens that are not committed are ignored when the corpus is absent).
fn check_golden(index: usize) {
    let (file, build) = CASES[index];
    let committed = data_dir(COMMITTED_GOLDENS).join(file);
    let path = if committed.exists() {
        committed
    } else {
        let corpus = corpus();
        corpus.join(CORPUS_GOLDENS).join(file)
    };
    if let Err(diff) = check_against_yaml(&read(&path), build()) {
        panic!("{file} differs: {diff}");
    }
}

/// One named test per upstream golden.
macro_rules! golden_tests {
    ($($(#[$attr:meta])* $name:ident => $index:expr),* $(,)?) => {
        $(
            #[test]
            $(#[$attr])*
            fn $name() {
                check_golden($index);
            }
        )*
    };
}

golden_tests! {
    golden_to_pod_0_undecorated => 0,
    golden_to_pod_1_decorated_presubmit => 1,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_to_pod_2_cookiefile_without_key => 2,
    golden_to_pod_3_ssh_keys_and_fingerprints => 3,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_to_pod_4_ssh_keys => 4,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_to_pod_5_periodic => 5,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_to_pod_6_skip_cloning => 6,
    golden_to_pod_7_two_test_containers => 7,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_to_pod_8_default_service_account => 8,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_to_pod_9_run_as_user_group_fs_group => 9,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_to_pod_10_scheduling_options => 10,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_decorate_basic_happy_case => 11,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_decorate_enforcing_memory_limit => 12,
    golden_decorate_default_memory_request => 13,
    golden_decorate_censor_secrets_in_sidecar => 14,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_decorate_ignore_interrupts_in_sidecar => 15,
    #[cfg_attr(no_corpus, ignore = "corpus absent")]
    golden_sidecar_basic_case => 16,
    golden_sidecar_with_secrets => 17,
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn every_upstream_golden_has_a_case() {
    let corpus = corpus();
    let mut files: Vec<String> = std::fs::read_dir(corpus.join(CORPUS_GOLDENS))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut cases: Vec<String> = CASES.iter().map(|(f, _)| (*f).to_owned()).collect();
    cases.sort();
    assert_eq!(files, cases);
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn committed_goldens_match_corpus() {
    let corpus = corpus();
    let committed = data_dir(COMMITTED_GOLDENS);
    for (file, _) in CASES {
        let ours = committed.join(file);
        if ours.exists() {
            let upstream = read(&corpus.join(CORPUS_GOLDENS).join(file));
            assert!(
                read(&ours) == upstream,
                "{file} differs from the corpus copy"
            );
        }
    }
}

// ---- TestProwJobToPod -------------------------------------------------------------------

fn utility_images() -> Value {
    json!({
        "clonerefs": "clonerefs:tag",
        "initupload": "initupload:tag",
        "entrypoint": "entrypoint:tag",
        "sidecar": "sidecar:tag",
    })
}

fn gcs_configuration(media_types: bool) -> Value {
    let mut gcs = json!({
        "bucket": "my-bucket",
        "path_strategy": "legacy",
        "default_org": "kubernetes",
        "default_repo": "kubernetes",
    });
    if media_types {
        gcs["mediaTypes"] = json!({"log": "text/plain"});
    }
    gcs
}

/// The decoration config most cases share: 2h timeout, 10s grace, GCS with a secret.
fn base_decoration(media_types: bool) -> Value {
    json!({
        "timeout": "2h",
        "grace_period": "10s",
        "utility_images": utility_images(),
        "gcs_configuration": gcs_configuration(media_types),
        "gcs_credentials_secret": "secret-name",
    })
}

fn refs(head_ref: &str, path_alias: bool) -> Value {
    let mut refs = json!({
        "org": "org-name",
        "repo": "repo-name",
        "base_ref": "base-ref",
        "base_sha": "base-sha",
        "pulls": [{
            "number": 1,
            "author": "author-name",
            "sha": "pull-sha",
            "head_ref": head_ref,
            "title": "pull-title",
        }],
    });
    if path_alias {
        refs["path_alias"] = json!("somewhere/else");
    }
    refs
}

fn tester() -> Value {
    json!({
        "image": "tester",
        "command": ["/bin/thing"],
        "args": ["some", "args"],
        "env": [{"name": "MY_ENV", "value": "rocks"}],
    })
}

fn presubmit(decoration: Option<Value>, refs: Value, containers: Value) -> Value {
    let mut spec = json!({
        "type": "presubmit",
        "job": "job-name",
        "context": "job-context",
        "agent": "kubernetes",
        "refs": refs,
        "pod_spec": {"containers": containers},
    });
    if let Some(decoration) = decoration {
        spec["decoration_config"] = decoration;
    }
    spec
}

fn extra_refs() -> Value {
    json!([{"org": "extra-org", "repo": "extra-repo"}])
}

fn to_pod_case(index: usize) -> Value {
    let ssh = json!({"ssh_key_secrets": ["ssh-1", "ssh-2"]});
    let service_account = json!({
        "gcs_credentials_secret": null,
        "default_service_account_name": "default-SA",
        "cookiefile_secret": "yummy/.gitcookies",
    });
    let run_as = json!({"run_as_user": 1000, "run_as_group": 1000, "fs_group": 2000});
    let spec = match index {
        0 => presubmit(
            None,
            refs("pull-branch-name", false),
            json!([{"image": "tester", "env": [{"name": "MY_ENV", "value": "rocks"}]}]),
        ),
        1 => presubmit(
            Some(merged(
                &base_decoration(true),
                json!({"cookiefile_secret": "yummy/.gitcookies"}),
            )),
            refs("my-big-change", true),
            json!([tester()]),
        ),
        2 => presubmit(
            Some(merged(
                &base_decoration(false),
                json!({"cookiefile_secret": "yummy"}),
            )),
            refs("fix-typos-99", true),
            json!([tester()]),
        ),
        3 => presubmit(
            Some(merged(
                &base_decoration(false),
                json!({"ssh_key_secrets": ["ssh-1", "ssh-2"], "ssh_host_fingerprints": ["hello", "world"]}),
            )),
            refs("fixes-fixes-fixes", true),
            json!([merged(
                &tester(),
                json!({"terminationMessagePolicy": "File"})
            )]),
        ),
        4 => presubmit(
            Some(merged(&base_decoration(false), ssh.clone())),
            refs("fixes-9", true),
            json!([tester()]),
        ),
        5 => json!({
            "type": "periodic",
            "job": "job-name",
            "context": "job-context",
            "agent": "kubernetes",
            "decoration_config": merged(&base_decoration(false), ssh.clone()),
            "pod_spec": {"containers": [tester()]},
        }),
        6 => {
            let mut spec = presubmit(
                Some(merged(
                    &base_decoration(false),
                    json!({"ssh_key_secrets": ["ssh-1", "ssh-2"], "skip_cloning": true}),
                )),
                refs("best-branch-name", true),
                json!([tester()]),
            );
            spec["extra_refs"] = extra_refs();
            spec
        }
        7 => {
            let mut spec = presubmit(
                Some(merged(
                    &base_decoration(false),
                    json!({"ssh_key_secrets": ["ssh-1", "ssh-2"], "cookiefile_secret": "yummy"}),
                )),
                refs("pr-head-ref-11", true),
                json!([
                    merged(&tester(), json!({"name": "test-0"})),
                    {
                        "name": "test-1",
                        "image": "othertester",
                        "command": ["/bin/otherthing"],
                        "args": ["other", "args"],
                        "env": [{"name": "MY_ENV", "value": "stones"}],
                    },
                ]),
            );
            spec["extra_refs"] = extra_refs();
            spec
        }
        8 => presubmit(
            Some(without_nulls(merged(
                &base_decoration(true),
                service_account,
            ))),
            refs("orig-branch-name", true),
            json!([tester()]),
        ),
        9 => presubmit(
            Some(without_nulls(merged(
                &merged(&base_decoration(true), service_account),
                run_as,
            ))),
            refs("orig-branch-name", true),
            json!([tester()]),
        ),
        10 => {
            let mut refs = refs("orig-branch-name", true);
            refs["pulls"][0]
                .as_object_mut()
                .expect("pull")
                .remove("title");
            let scheduling = json!({"scheduling_options": {
                "tolerations": [{
                    "key": "prow.k8s.io/schedulable",
                    "effect": "NoSchedule",
                    "operator": "Exists",
                }],
                "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                    "weight": 10,
                    "preference": {"matchExpressions": [{
                        "key": "node-type",
                        "values": ["prowjobs"],
                        "operator": "In",
                    }]},
                }]}},
            }});
            presubmit(
                Some(without_nulls(merged(
                    &merged(&merged(&base_decoration(true), service_account), run_as),
                    scheduling,
                ))),
                refs,
                json!([tester()]),
            )
        }
        other => panic!("no TestProwJobToPod case {other}"),
    };
    let pj = prowjob("pod", json!({"needstobe": "inherited"}), spec);
    let pod = prow_job_to_pod(&pj, "blabla").expect("decorates");
    let mut value = serde_json::to_value(&pod).expect("serialises");
    // Go's typed Pod carries no type metadata in these goldens.
    let object = value.as_object_mut().expect("object");
    object.remove("apiVersion");
    object.remove("kind");
    value
}

fn without_nulls(mut value: Value) -> Value {
    value
        .as_object_mut()
        .expect("object")
        .retain(|_, v| !v.is_null());
    value
}

// ---- TestDecorate ------------------------------------------------------------------------

fn zero_resources() -> Value {
    json!({"limits": {"cpu": "0"}, "requests": {"memory": "0"}})
}

fn decorate_case(name: &str) -> Value {
    let mut decoration = json!({
        "timeout": "1m",
        "grace_period": "1h",
        "utility_images": {
            "clonerefs": "cloneimage",
            "initupload": "initimage",
            "entrypoint": "entrypointimage",
            "sidecar": "sidecarimage",
        },
        "resources": {
            "clonerefs": zero_resources(),
            "initupload": zero_resources(),
            "place_entrypoint": zero_resources(),
            "sidecar": zero_resources(),
        },
        "gcs_configuration": {
            "bucket": "bucket",
            "path_strategy": "single",
            "default_org": "org",
            "default_repo": "repo",
        },
        "gcs_credentials_secret": "gcs-secret",
        "default_service_account_name": "default-sa",
    });
    let with_secret = json!({
        "volumes": [{"name": "secret", "secret": {"secretName": "secretname"}}],
        "containers": [{
            "name": "test",
            "command": ["/bin/ls"],
            "args": ["-l", "-a"],
            "volumeMounts": [{"name": "secret", "mountPath": "/secret"}],
        }],
        "serviceAccountName": "tester",
    });
    let big_memory = json!({
        "name": "test",
        "command": ["/bin/ls"],
        "args": ["-l", "-a"],
        "resources": {"requests": {"memory": "8Gi"}, "limits": {"memory": "100Gi"}},
    });
    let pod_spec = match name {
        "basic happy case" => with_secret,
        "enforcing memory limit" => {
            decoration["set_limit_equals_memory_request"] = json!(true);
            json!({"containers": [big_memory], "serviceAccountName": "tester"})
        }
        "default memory request" => {
            decoration["set_limit_equals_memory_request"] = json!(true);
            decoration["default_memory_request"] = json!("4Gi");
            json!({
                "containers": [
                    big_memory,
                    {"name": "test2", "command": ["/bin/ls"], "args": ["-l", "-a"]},
                ],
                "serviceAccountName": "tester",
            })
        }
        "censor secrets in sidecar" => {
            decoration["censor_secrets"] = json!(true);
            with_secret
        }
        "ignore interrupts in sidecar" => {
            decoration["upload_ignores_interrupts"] = json!(true);
            with_secret
        }
        other => panic!("no TestDecorate case {other:?}"),
    };
    // Upstream's input has no job type; decorating a bare pod spec never reads it.
    let pj = prowjob(
        "",
        json!({}),
        json!({
            "type": "presubmit",
            "job": "",
            "decoration_config": decoration,
            "refs": {
                "org": "org", "repo": "repo", "base_ref": "main", "base_sha": "abcd1234",
                "pulls": [{"number": 1, "sha": "aksdjhfkds"}],
            },
            "extra_refs": [{"org": "other", "repo": "something", "base_ref": "release", "base_sha": "sldijfsd"}],
        }),
    );
    let mut spec: PodSpec = serde_json::from_value(pod_spec).expect("pod spec");
    let mut raw_env = BTreeMap::from([("custom".to_owned(), "env".to_owned())]);
    decorate_pod_spec(&mut spec, &pj, &mut raw_env, None).expect("decorates");
    serde_json::to_value(&spec).expect("serialises")
}

// ---- TestSidecar -------------------------------------------------------------------------

fn sidecar_case(with_secrets: bool) -> Value {
    let config: DecorationConfig =
        serde_json::from_value(json!({"utility_images": {"sidecar": "sidecar-image"}}))
            .expect("decoration config");
    let gcs_options: GcsUploadOptions = serde_json::from_value(json!({
        "items": ["first", "second"],
        "bucket": "bucket",
    }))
    .expect("gcs options");
    let mount = |name: &str, path: &str| VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        ..VolumeMount::default()
    };
    let secrets = if with_secrets {
        vec![
            mount("very", "/very"),
            mount("secret", "/secret"),
            mount("stuff", "/stuff"),
        ]
    } else {
        Vec::new()
    };
    let container = sidecar(
        &config,
        SidecarSpec {
            gcs_options,
            blob_storage_mounts: &[mount("blob", "/blob")],
            log_mount: mount("logs", "/logs"),
            output_mount: Some(&mount("outputs", "/outputs")),
            encoded_job_spec: "spec",
            require_passing_entries: true,
            ignore_interrupts: true,
            secret_volume_mounts: &secrets,
            entries: vec![WrapperOptions {
                args: vec!["yes".to_owned()],
                ..WrapperOptions::default()
            }],
        },
    )
    .expect("sidecar");
    serde_json::to_value(&container).expect("serialises")
}
