//! In-repo config: `.prow/` and `.prow.yaml` read, defaulted and validated together with the
//! central jobs of the repository.

use std::path::{Path, PathBuf};

use prow_config::inrepo::{
    ProwYaml, allows_cluster, in_repo_config_enabled, load_prow_yaml, read_prow_yaml,
};
use prow_config::{Config, Error, Finding, LoadOptions, load};
use prow_core::k8s_openapi::api::core::v1::PodSpec;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inrepo")
}

use crate::corpus::corpus;

/// The central config of `tests/data/inrepo/config.yaml`.
fn central() -> Config {
    load(&LoadOptions::new(data().join("config.yaml"), None)).unwrap_or_else(|e| panic!("{e}"))
}

/// Findings as text, with `root` dropped from paths.
fn listing(findings: &[Finding], root: &Path) -> String {
    findings
        .iter()
        .map(|f| f.to_string().replace(&format!("{}/", root.display()), ""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Places `source` (a `.prow.yaml` file or a `.prow/` directory) at the root of a fresh
/// checkout and loads it for `repo`.
fn load_as_checkout(
    config: &Config,
    repo: &str,
    source: &Path,
) -> (Result<ProwYaml, Error>, tempfile::TempDir) {
    let checkout = tempfile::tempdir().expect("temp dir");
    if source.is_dir() {
        let target = checkout.path().join(".prow");
        std::fs::create_dir(&target).expect("mkdir .prow");
        for entry in std::fs::read_dir(source).expect("read .prow dir") {
            let path = entry.expect("entry").path();
            std::fs::copy(&path, target.join(path.file_name().expect("name"))).expect("copy");
        }
    } else {
        std::fs::copy(source, checkout.path().join(".prow.yaml")).expect("copy");
    }
    (load_prow_yaml(config, repo, checkout.path()), checkout)
}

/// Loads each `(file, repo, presubmits, postsubmits)` under `root` and checks the counts.
fn check_counts(root: &Path, cases: &[(&str, &str, usize, usize)]) {
    let config = central();
    for (name, repo, pre, post) in cases {
        let (loaded, _dir) = load_as_checkout(&config, repo, &root.join(name));
        let loaded = match loaded {
            Ok(l) => l,
            Err(Error::Invalid { errors }) => {
                panic!("{name}: {}", listing(&errors, Path::new("/")))
            }
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(
            (loaded.presubmits.len(), loaded.postsubmits.len()),
            (*pre, *post),
            "{name}"
        );
        for job in &loaded.presubmits {
            assert_eq!(
                job.context, job.name,
                "{name}: context defaults to the name"
            );
            assert!(
                !job.rerun_command.is_empty(),
                "{name}: rerun command defaulted"
            );
            assert_eq!(job.agent, "kubernetes");
        }
    }
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn corpus_in_repo_configs_load_with_their_job_counts() {
    let root = corpus();
    check_counts(
        &root.join("inrepo"),
        &[
            ("kcp-dev-kcp.prow.yaml", "kcp-dev/kcp", 12, 0),
            ("kcp-dev-infra.prow.yaml", "kcp-dev/infra", 4, 0),
            (
                "GoogleCloudPlatform-testgrid.prow.yaml",
                "GoogleCloudPlatform/testgrid",
                1,
                0,
            ),
            (
                "GoogleCloudPlatform-container-engine-accelerators.prow.yaml",
                "GoogleCloudPlatform/container-engine-accelerators",
                2,
                0,
            ),
            ("feast-dev-feast.prow.yaml", "feast-dev/feast", 0, 1),
            ("istio-test-infra.prow.yaml", "istio/test-infra", 1, 0),
            ("kubermatic-kubeone.prow.yaml", "kubermatic/kubeone", 54, 4),
            (
                "kubermatic-machine-controller.prow.yaml",
                "kubermatic/machine-controller",
                40,
                2,
            ),
            (
                "kubermatic-dashboard.prow.yaml",
                "kubermatic/dashboard",
                10,
                0,
            ),
            (
                "kubermatic-machine-controller.prow",
                "kubermatic/machine-controller",
                40,
                3,
            ),
            ("kubermatic-dashboard.prow", "kubermatic/dashboard", 15, 0),
        ],
    );
}

#[test]
fn committed_in_repo_configs_load_with_their_job_counts() {
    check_counts(
        &data().join("corpus"),
        &[
            (
                "GoogleCloudPlatform-testgrid.prow.yaml",
                "GoogleCloudPlatform/testgrid",
                1,
                0,
            ),
            ("feast-dev-feast.prow.yaml", "feast-dev/feast", 0, 1),
            ("istio-test-infra.prow.yaml", "istio/test-infra", 1, 0),
            ("kubermatic-dashboard.prow", "kubermatic/dashboard", 15, 0),
        ],
    );
}

/// The upstream file that does not parse fails with its name, line and reason.
fn broken(source: &Path) -> String {
    let (loaded, dir) =
        load_as_checkout(&central(), "google/exposure-notifications-server", source);
    match loaded {
        Err(Error::Invalid { errors }) => listing(&errors, dir.path()),
        other => panic!("expected errors, got {other:?}"),
    }
}

#[test]
fn broken_prow_yaml_names_file_line_and_reason() {
    let committed = broken(&data().join("corpus/google-exposure-notifications-server.prow.yaml"));
    insta::assert_snapshot!(committed, @".prow.yaml:12: did not find expected key, while parsing a block mapping");
    if cfg!(not(no_corpus)) {
        let shared =
            broken(&corpus().join("inrepo/google-exposure-notifications-server.prow.yaml"));
        assert_eq!(shared, committed);
    }
}

#[test]
fn central_map_form_is_explained() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join(".prow.yaml"),
        "presubmits:\n  org/repo:\n  - name: unit\n",
    )
    .expect("write");
    let errors = match load_prow_yaml(&central(), "org/repo", dir.path()) {
        Err(Error::Invalid { errors }) => errors,
        other => panic!("expected errors, got {other:?}"),
    };
    insta::assert_snapshot!(listing(&errors, dir.path()), @r#".prow.yaml:2: presubmits: invalid type: map, expected a sequence; in-repo config lists jobs directly, without the "org/repo" key of central job config"#);
}

#[test]
fn prow_dir_wins_honours_prowignore_and_applies_both_preset_sets() {
    let root = data().join("repo-dir");
    let loaded = load_prow_yaml(&central(), "org/repo", &root).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<_> = loaded.presubmits.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["unit", "e2e"]);
    assert_eq!(loaded.postsubmits.len(), 1);
    assert_eq!(loaded.presets.len(), 1);
    // The job holds its spec as written; the presets come in with the effective spec.
    let names = |spec: Option<&PodSpec>| -> Vec<String> {
        spec.and_then(|s| s.containers[0].env.as_ref())
            .map(|env| env.iter().map(|e| e.name.clone()).collect())
            .unwrap_or_default()
    };
    let job = &loaded.presubmits[0];
    assert_eq!(
        names(job.effective_spec().as_deref()),
        ["GOCACHE", "REPO_ONLY"]
    );
    assert!(names(job.spec.as_ref()).is_empty());
    assert!(loaded.presubmits[1].source_path.ends_with("sub/more.yml"));
    let (raw, errors) = read_prow_yaml(&root).expect("read");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        raw.presubmits[0].context, "",
        "reading alone does not default"
    );
}

#[test]
fn no_in_repo_config_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let loaded = load_prow_yaml(&central(), "org/repo", dir.path()).expect("empty");
    assert_eq!(loaded, ProwYaml::default());
}

#[test]
fn in_repo_jobs_are_validated_with_the_central_ones() {
    let root = data().join("repo-bad");
    let findings = match load_prow_yaml(&central(), "org/repo", &root) {
        Err(Error::Invalid { errors }) => errors,
        other => panic!("expected errors, got {other:?}"),
    };
    insta::assert_snapshot!(listing(&findings, &root));
    let (raw, _) = read_prow_yaml(&root).expect("read");
    insta::assert_snapshot!(listing(&raw.warnings, &root), @".prow.yaml:16: presubmits[1].optinal: unknown field");
}

#[test]
fn enabled_and_allowed_clusters_use_the_narrowest_key() {
    let config = central();
    let enabled = |repo: &str| in_repo_config_enabled(&config, repo);
    assert!(enabled("org/repo"));
    assert!(!enabled("org/disabled"));
    assert!(enabled("other/x"));
    let allows = |cluster: &str, repo: &str| allows_cluster(&config, cluster, repo);
    assert!(allows("default", "org/repo"));
    assert!(allows("trusted", "org/repo"));
    assert!(!allows("trusted", "other/repo"));
    assert!(allows(
        "build-prow-hosted-runner",
        "GoogleCloudPlatform/container-engine-accelerators"
    ));
    assert!(!allows("gpu", "org/repo"));

    let empty = Config::default();
    assert!(!in_repo_config_enabled(&empty, "org/repo"));
    assert!(
        allows_cluster(&empty, "default", "org/repo"),
        "\"*\" allows default unless set"
    );
    assert!(!allows_cluster(&empty, "other", "org/repo"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Whatever the layout, a job's validation error carries the line of the offending field.
    #[test]
    fn proptest_job_errors_carry_the_jobs_line(
        blank in proptest::collection::vec(0usize..3, 1..6),
        bad in 0usize..6,
        inline in proptest::bool::ANY,
    ) {
        let bad = bad % blank.len();
        let mut text = String::from("# generated\npresubmits:\n");
        let mut expected = 0;
        for (i, blanks) in blank.iter().enumerate() {
            text.push_str(&"\n".repeat(*blanks));
            let concurrency = if i == bad { -1 } else { 0 };
            if i == bad {
                // The error points at `max_concurrency`: on the job's line when inline, the
                // line below `- name:` otherwise.
                expected = text.lines().count() + if inline { 1 } else { 2 };
            }
            if inline {
                text.push_str(&format!("- {{name: job-{i}, max_concurrency: {concurrency}, spec: {{containers: [{{image: x, command: [y]}}]}}}}\n"));
            } else {
                text.push_str(&format!("- name: job-{i}\n  max_concurrency: {concurrency}\n  spec:\n    containers:\n    - image: x\n      command: [y]\n"));
            }
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".prow.yaml"), &text).expect("write");
        let errors = match load_prow_yaml(&Config::default(), "o/r", dir.path()) {
            Err(Error::Invalid { errors }) => errors,
            other => panic!("expected errors, got {other:?}"),
        };
        proptest::prop_assert_eq!(errors.len(), 1, "{:?}", errors);
        proptest::prop_assert_eq!(errors[0].line, Some(expected), "{}", text);
        proptest::prop_assert_eq!(&errors[0].field, &format!("presubmits[{bad}].max_concurrency"));
    }
}
