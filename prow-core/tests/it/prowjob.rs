//! ProwJob documents: lossless round trips of upstream fixtures and located errors.

use prow_core::validate::ValidationContext;
use prow_core::{Error, ProwJob, ProwJobAgent, ProwJobType};

use crate::corpus::{corpus, fixture};

const UPSTREAM: [&str; 3] = [
    "valid_prowjob.yaml",
    "valid_bare_prowjob.yaml",
    "invalid_prowjob.yaml",
];

/// Reads `text` as a ProwJob and writes it back; the values (not the strings) must be equal.
fn check_round_trip(name: &str, text: &str) -> ProwJob {
    let original: serde_json::Value = serde_yaml::from_str(text).unwrap();
    let loaded =
        prow_core::prowjob_from_yaml(text).unwrap_or_else(|e| panic!("{name} should read: {e}"));
    assert_eq!(loaded.unknown_fields, Vec::<String>::new(), "{name}");
    let written = serde_json::to_value(&loaded.value).unwrap();
    assert_eq!(written, original, "{name} lost or changed a field");
    // And through our own YAML writer too.
    let yaml = prow_core::prowjob_to_yaml(&loaded.value).unwrap();
    let reread = prow_core::prowjob_from_yaml(&yaml).unwrap().value;
    assert_eq!(reread, loaded.value, "{name} YAML round trip");
    loaded.value
}

#[test]
fn committed_upstream_fixtures_round_trip() {
    for name in UPSTREAM {
        let (_, text) = fixture(&format!("prowjob/upstream/{name}"));
        check_round_trip(name, &text);
    }
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn corpus_fixtures_round_trip() {
    let corpus = corpus();
    let dir = corpus.join("prow-testdata/test/integration/test/testdata");
    for name in UPSTREAM {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        check_round_trip(name, &text);
    }
}

#[test]
fn fields_are_read_with_their_meaning() {
    let (_, text) = fixture("prowjob/upstream/valid_prowjob.yaml");
    let job = check_round_trip("valid_prowjob.yaml", &text);
    assert_eq!(job.name(), "test-job2");
    assert_eq!(job.spec.job_type, ProwJobType::Periodic);
    assert_eq!(job.spec.agent, ProwJobAgent::TektonPipeline);
    assert_eq!(job.cluster_alias(), "k8s-infra-prow-build");
    let decoration = job.spec.decoration_config.as_ref().unwrap();
    assert_eq!(decoration.timeout.unwrap().as_secs(), 2 * 3600);
    assert_eq!(decoration.grace_period.unwrap().to_string(), "15m0s");
    assert_eq!(
        decoration.gcs_configuration.as_ref().unwrap().path_strategy,
        Some(prow_core::PathStrategy::Legacy)
    );
    assert_eq!(decoration.validate(), Ok(()));
    assert_eq!(
        job.spec.main_refs().unwrap().org_repo(),
        "kubernetes/test-infra"
    );
    assert_eq!(
        job.spec.prowjob_defaults.as_ref().unwrap().tenant_id,
        prow_core::reporting::DEFAULT_TENANT_ID
    );
}

/// The upstream admission webhook rejects `invalid_prowjob.yaml` because it asks the kubernetes
/// agent for a build cluster that does not exist, and accepts the tekton variant.
#[test]
fn invalid_prowjob_names_the_bad_field() {
    let context = ValidationContext::with_clusters(["default"]);
    let (_, text) = fixture("prowjob/upstream/invalid_prowjob.yaml");
    let job = prow_core::prowjob_from_yaml(&text).unwrap().value;
    let err = job.validate(&context).unwrap_err();
    insta::assert_snapshot!(err.to_string(), @r#"invalid ProwJob "test-job": spec.cluster: unknown build cluster "k8s-infra-prow-build" for a kubernetes agent job (known clusters: default)"#);
    for name in ["valid_prowjob.yaml", "valid_bare_prowjob.yaml"] {
        let (_, text) = fixture(&format!("prowjob/upstream/{name}"));
        let job = prow_core::prowjob_from_yaml(&text).unwrap().value;
        assert_eq!(job.problems(&context), vec![], "{name}");
    }
}

#[test]
fn parse_errors_name_field_and_line() {
    let (_, text) = fixture("prowjob/bad-timeout.yaml");
    let err = prow_core::prowjob_from_yaml(&text).unwrap_err();
    let Error::Parse { problem } = &err else {
        panic!("expected a parse error, got {err:?}")
    };
    assert_eq!(problem.field, "spec.decoration_config.timeout");
    assert_eq!(problem.line, Some(10));
    insta::assert_snapshot!(err.to_string(), @r#"read ProwJob: line 10: spec.decoration_config.timeout: unknown unit " hours" in duration "2 hours""#);
}

#[test]
fn wrong_kind_or_version_is_rejected() {
    let err = prow_core::prowjob_from_yaml("apiVersion: v1\nkind: Pod\n").unwrap_err();
    insta::assert_snapshot!(err.to_string(), @r#"read ProwJob: apiVersion: expected "prow.k8s.io/v1", found "v1""#);
    let err = prow_core::prowjob_from_yaml("apiVersion: prow.k8s.io/v1\nkind: Job\n").unwrap_err();
    insta::assert_snapshot!(err.to_string(), @r#"read ProwJob: kind: expected "ProwJob", found "Job""#);
    let err = prow_core::prowjob_from_yaml(
        "apiVersion: prow.k8s.io/v1\nkind: ProwJob\nspec:\n  type: nightly\n  job: x\n",
    )
    .unwrap_err();
    insta::assert_snapshot!(err.to_string(), @"read ProwJob: line 4: spec.type: unknown variant `nightly`, expected one of `presubmit`, `postsubmit`, `periodic`, `batch`");
}

#[test]
fn every_problem_is_listed_and_unknown_fields_warned() {
    let (_, text) = fixture("prowjob/many-problems.yaml");
    let loaded = prow_core::prowjob_from_yaml(&text).unwrap();
    insta::assert_debug_snapshot!(loaded.unknown_fields, @r#"
    [
        "spec.unknown_setting",
        "status.surprise",
    ]
    "#);
    let problems: Vec<String> = loaded
        .value
        .problems(&ValidationContext::with_clusters(["default", "build-us"]))
        .iter()
        .map(ToString::to_string)
        .collect();
    insta::assert_snapshot!(problems.join("\n"), @r#"
    spec.cluster: unknown build cluster "build-eu" for a kubernetes agent job (known clusters: build-us, default)
    spec.pod_spec: must be set for the kubernetes agent
    spec.refs: must be set for presubmit jobs
    spec.extra_refs[0].repo: must be set
    spec.max_concurrency: must not be negative
    spec.decoration_config: the following utility images are not specified: ["initupload" "entrypoint" "sidecar"]
    spec.rerun_auth_config: allow anyone is set to true and permitted users or groups are specified
    "#);
}

#[test]
fn jenkins_jobs_may_not_name_a_cluster() {
    let text = "apiVersion: prow.k8s.io/v1\nkind: ProwJob\nmetadata: {name: j}\nspec:\n  type: periodic\n  agent: jenkins\n  cluster: other\n  job: x\n";
    let job = prow_core::prowjob_from_yaml(text).unwrap().value;
    let problems: Vec<String> = job
        .problems(&ValidationContext::default())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        ["spec.cluster: cannot set cluster field if agent is jenkins"]
    );
}

#[test]
fn unknown_agents_survive_a_round_trip() {
    let text = "apiVersion: prow.k8s.io/v1\nkind: ProwJob\nmetadata: {name: j}\nspec:\n  type: periodic\n  agent: my-controller\n  job: x\n";
    let job = check_round_trip("custom agent", text);
    assert_eq!(job.spec.agent, ProwJobAgent::Other("my-controller".into()));
}

#[test]
fn durations_read_integer_nanoseconds_and_write_strings() {
    let text = "apiVersion: prow.k8s.io/v1\nkind: ProwJob\nmetadata: {name: j}\nspec:\n  type: periodic\n  job: x\n  decoration_config:\n    timeout: 7200000000000\n    grace_period: 15s\n";
    let job = prow_core::prowjob_from_yaml(text).unwrap().value;
    let yaml = prow_core::prowjob_to_yaml(&job).unwrap();
    assert!(yaml.contains("timeout: 2h0m0s"), "{yaml}");
    assert!(yaml.contains("grace_period: 15s"), "{yaml}");
}
