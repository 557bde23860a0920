//! Runs every example's body, so that `cargo test --workspace` keeps the examples working:
//! each example file is compiled here as a module too and its function called on the
//! repository's example files.

#[path = "../../decide_triggers.rs"]
#[allow(dead_code, unreachable_pub)]
mod decide_triggers;
#[path = "../../decorate_job.rs"]
#[allow(dead_code, unreachable_pub)]
mod decorate_job;
#[path = "../../validate_config.rs"]
#[allow(dead_code, unreachable_pub)]
mod validate_config;
#[path = "../../webhook_app.rs"]
#[allow(dead_code, unreachable_pub)]
mod webhook_app;

use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

#[test]
fn validate_config_accepts_the_example_config() {
    let report = validate_config::check(&examples().join("config"));
    assert_eq!(report.errors, Vec::<String>::new());
    assert!(report.jobs > 0);
}

#[test]
fn validate_config_lists_every_problem_with_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("jobs")).unwrap();
    std::fs::write(tmp.path().join("config.yaml"), "prowjob_namespace: prow\n").unwrap();
    std::fs::write(
        tmp.path().join("jobs/bad.yaml"),
        "presubmits:\n  o/r:\n  - name: a\n    spec: {containers: [{image: x}]}\n  - name: a\n    spec: {containers: [{image: x}]}\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("plugins.yaml"),
        "plugins: {o: {plugins: [no-such-plugin]}}\n",
    )
    .unwrap();
    let report = validate_config::check(tmp.path());
    let listing = report
        .errors
        .join("\n")
        .replace(&tmp.path().display().to_string(), "<dir>");
    insta::assert_snapshot!("validate_config_errors", listing);
}

/// Which of the example presubmits run for a change to `branch` touching `files`.
fn check(branch: &str, files: &[&str], expected: &[&str]) {
    let decided = decide_triggers::decide(
        &examples().join("config"),
        "example-org/example-repo",
        branch,
        files,
    )
    .unwrap();
    let runs: Vec<&str> = decided
        .iter()
        .filter(|(_, runs, _)| *runs)
        .map(|(name, _, _)| name.as_str())
        .collect();
    assert_eq!(runs, expected, "{branch} {files:?}: {decided:#?}");
}

#[test]
fn decide_triggers_follows_branches_and_changed_files() {
    // pull-example-e2e has neither always_run nor run_if_changed: it runs only on request.
    check(
        "main",
        &["docs/intro.md", "main.go"],
        &[
            "pull-example-unit",
            "pull-example-docs",
            "pull-example-lint",
        ],
    );
    check("main", &["README.md"], &["pull-example-unit"]);
    check(
        "release-1.0",
        &["docs/a.md"],
        &["pull-example-unit", "pull-example-docs"],
    );
    check("main", &[], &["pull-example-unit"]);
}

#[test]
fn decorate_job_wraps_the_test_container_in_the_pod_utilities() {
    let pod = decorate_job::pod_for(&examples().join("config"), "pull-example-unit", "1").unwrap();
    insta::assert_yaml_snapshot!("decorated_pod", pod);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_app_answers_hello_through_its_own_plugin() {
    let comments = webhook_app::run(&examples().join("prow")).await.unwrap();
    assert_eq!(comments, ["Hello, @demo-admin!"]);
}
