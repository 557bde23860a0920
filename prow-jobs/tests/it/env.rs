//! The downward API: env vars and `JOB_SPEC` per job type.

use prow_core::{ProwJobSpec, ProwJobType};
use prow_jobs::downwardapi::{JobSpec, env_for_spec, env_for_type};
use serde_json::{Value, json};

fn job_spec(spec: Value) -> JobSpec {
    let spec: ProwJobSpec = serde_json::from_value(spec).expect("spec");
    JobSpec::new(&spec, "1234", "uuid")
}

/// The environment of `spec`, as `NAME=value` lines except `JOB_SPEC`, or the error.
fn check(spec: Value, expected: &str) {
    let actual = match env_for_spec(&job_spec(spec)) {
        Ok(env) => env
            .iter()
            .filter(|(k, _)| *k != "JOB_SPEC")
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect::<String>(),
        Err(e) => format!("error: {e}\n"),
    };
    assert_eq!(actual, expected);
}

#[test]
fn env_table() {
    check(
        json!({"type": "periodic", "job": "nightly", "agent": "kubernetes"}),
        "BUILD_ID=1234\nBUILD_NUMBER=1234\nCI=true\nJOB_NAME=nightly\nJOB_TYPE=periodic\nPROW_JOB_ID=uuid\n",
    );
    // BUILD_NUMBER is only for Prow's own agent.
    check(
        json!({"type": "periodic", "job": "nightly", "agent": "jenkins"}),
        "BUILD_ID=1234\nCI=true\nJOB_NAME=nightly\nJOB_TYPE=periodic\nPROW_JOB_ID=uuid\n",
    );
    // Host and base from the repository link, without its scheme.
    check(
        json!({"type": "postsubmit", "job": "post", "refs": {
            "org": "group", "repo": "repo", "base_ref": "main", "base_sha": "abc",
            "repo_link": "https://gitlab.example.com/group/sub/repo",
        }}),
        "BUILD_ID=1234\nCI=true\nJOB_NAME=post\nJOB_TYPE=postsubmit\nPROW_JOB_ID=uuid\n\
         PULL_BASE_REF=main\nPULL_BASE_SHA=abc\nPULL_REFS=main:abc\nREPO_NAME=repo\n\
         REPO_OWNER=group\nSRC_BASE=group/sub/repo\nSRC_HOST=gitlab.example.com\n",
    );
    // A path alias without a slash is only a host.
    check(
        json!({"type": "batch", "job": "b", "refs": {
            "org": "kubernetes", "repo": "test-infra", "base_ref": "master", "path_alias": "k8s.io",
            "pulls": [{"number": 1, "author": "a", "sha": "s1"}, {"number": 2, "author": "b", "sha": "s2", "ref": "refs/x"}],
        }}),
        "BUILD_ID=1234\nCI=true\nJOB_NAME=b\nJOB_TYPE=batch\nPROW_JOB_ID=uuid\n\
         PULL_BASE_REF=master\nPULL_BASE_SHA=\nPULL_REFS=master,1:s1,2:s2:refs/x\n\
         REPO_NAME=test-infra\nREPO_OWNER=kubernetes\nSRC_BASE=kubernetes/test-infra\nSRC_HOST=k8s.io\n",
    );
    check(
        json!({"type": "presubmit", "job": "pull-x"}),
        "error: build environment for presubmit job \"pull-x\": it has no refs\n",
    );
    check(
        json!({"type": "presubmit", "job": "pull-x", "refs": {"org": "o", "repo": "r"}}),
        "error: build environment for presubmit job \"pull-x\": its refs have no pulls\n",
    );
}

#[test]
fn job_spec_is_marshalled_like_go() {
    let spec = job_spec(json!({
        "type": "presubmit",
        "job": "pull-x",
        "agent": "kubernetes",
        "refs": {"org": "o", "repo": "r", "base_ref": "main", "pulls": [
            {"number": 7, "author": "me", "sha": "abc", "title": "Fix <b> & \"quotes\""},
        ]},
        "extra_refs": [{"org": "o", "repo": "other", "workdir": true}],
        "decoration_config": {"timeout": "90m", "skip_cloning": false},
    }));
    assert_eq!(
        spec.to_json().unwrap(),
        r#"{"type":"presubmit","job":"pull-x","buildid":"1234","prowjobid":"uuid","refs":{"org":"o","repo":"r","base_ref":"main","pulls":[{"number":7,"author":"me","sha":"abc","title":"Fix \u003cb\u003e \u0026 \"quotes\""}]},"extra_refs":[{"org":"o","repo":"other","workdir":true}],"decoration_config":{"timeout":"1h30m0s","skip_cloning":false}}"#
    );
    let env = env_for_spec(&spec).unwrap();
    assert_eq!(env["PULL_TITLE"], "Fix <b> & \"quotes\"");
    assert_eq!(env["PULL_NUMBER"], "7");
}

#[test]
fn reserved_names_per_type() {
    assert_eq!(env_for_type(ProwJobType::Periodic).len(), 7);
    assert_eq!(env_for_type(ProwJobType::Postsubmit).len(), 14);
    assert_eq!(env_for_type(ProwJobType::Batch).len(), 14);
    let presubmit = env_for_type(ProwJobType::Presubmit);
    assert_eq!(presubmit.len(), 18);
    assert!(presubmit.contains(&"PULL_TITLE") && presubmit.contains(&"SRC_HOST"));
}

#[test]
fn job_spec_writes_kubernetes_parts_like_go() {
    let spec = job_spec(json!({
        "type": "periodic",
        "job": "p",
        "decoration_config": {
            "resources": {"sidecar": {
                "requests": {"memory": "1024Mi", "cpu": "0.5"},
                "limits": {"cpu": "2000m"},
            }},
            "default_memory_request": "2048Mi",
            "scheduling_options": {"tolerations": [
                {"effect": "NoExecute", "tolerationSeconds": 5, "value": "v", "operator": "Equal", "key": "k"},
            ]},
        },
    }));
    // Go declares limits before requests, key before operator; quantities are canonical.
    assert_eq!(
        spec.to_json().unwrap(),
        r#"{"type":"periodic","job":"p","buildid":"1234","prowjobid":"uuid","decoration_config":{"resources":{"sidecar":{"limits":{"cpu":"2"},"requests":{"cpu":"500m","memory":"1Gi"}}},"default_memory_request":"2Gi","scheduling_options":{"tolerations":[{"key":"k","operator":"Equal","value":"v","effect":"NoExecute","tolerationSeconds":5}]}}}"#
    );
}
