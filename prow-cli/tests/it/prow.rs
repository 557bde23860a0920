//! The `prow` binary: `prow crd`, `prow check-prowjob` and `prow triggers`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn prow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_prow"))
}

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../prow-core/tests/data/prowjob")
        .join(relative)
}

#[test]
fn crd_prints_the_prowjob_crd() {
    let out = prow().arg("crd").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crd: serde_json::Value = serde_yaml::from_slice(&out.stdout).unwrap();
    assert_eq!(crd["apiVersion"], "apiextensions.k8s.io/v1");
    assert_eq!(crd["kind"], "CustomResourceDefinition");
    assert_eq!(crd["metadata"]["name"], "prowjobs.prow.k8s.io");
    assert_eq!(crd["spec"]["names"]["listKind"], "ProwJobList");
    assert_eq!(
        crd["spec"]["versions"][0]["subresources"],
        serde_json::json!({})
    );
}

#[test]
fn check_prowjob_reports_every_problem_and_fails() {
    let out = prow()
        .arg("check-prowjob")
        .args(["--cluster", "default"])
        .arg(fixture("upstream/valid_prowjob.yaml"))
        .arg(fixture("upstream/invalid_prowjob.yaml"))
        .arg(fixture("bad-timeout.yaml"))
        .current_dir(fixture(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let base = fixture("").display().to_string();
    insta::assert_snapshot!(stdout.replace(&base, "[DATA]"), @r#"
    [DATA]upstream/valid_prowjob.yaml: ok: periodic job ci-k8s-infra-build-cluster-prow-build kubernetes/test-infra PULL_REFS=master
    [DATA]upstream/invalid_prowjob.yaml: spec.cluster: unknown build cluster "k8s-infra-prow-build" for a kubernetes agent job (known clusters: default)
    [DATA]bad-timeout.yaml: read ProwJob: line 10: spec.decoration_config.timeout: unknown unit " hours" in duration "2 hours"
    "#);
}

#[test]
fn check_prowjob_reads_standard_input() {
    use std::io::Write;
    let mut child = prow()
        .args(["check-prowjob", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read(fixture("upstream/valid_bare_prowjob.yaml")).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("-: ok: periodic job"));
}

/// `prow triggers` over the example configuration's example repository.
fn triggers_command() -> Command {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/config");
    let mut command = prow();
    command
        .arg("triggers")
        .arg("--config-path")
        .arg(root.join("config.yaml"))
        .arg("--job-config-path")
        .arg(root.join("jobs"))
        .args(["--repo", "example-org/example-repo"]);
    command
}

/// `prow triggers ... --output json`, parsed.
fn triggers(args: &[&str]) -> serde_json::Value {
    let out = crate::stdout_of(triggers_command().args(["--output", "json"]).args(args));
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn triggers_explains_every_job_of_the_repo() {
    let new_pr = triggers(&["--base-ref", "main", "--changed-file", "docs/intro.md"]);
    let comment = triggers(&[
        "--base-ref",
        "release-1.0",
        "--changed-file",
        "main.go",
        "--comment",
        "/test pull-example-docs\n/test pull-example-e2e",
    ]);
    let retest = triggers(&[
        "--changed-file",
        "README.md",
        "--comment",
        "/retest",
        "--failed-context",
        "pull-example-unit",
    ]);
    let push = triggers(&[
        "--event",
        "push",
        "--base-ref",
        "main-2",
        "--changed-files-from",
        "-",
    ]);
    insta::assert_json_snapshot!(serde_json::json!({
        "new pull request touching docs": new_pr,
        "/test on a release branch": comment,
        "/retest with a failed context": retest,
        "push to main-2 with no files": push,
    }));
}

#[test]
fn triggers_text_lists_running_jobs_first_and_the_help_reply() {
    let out = crate::stdout_of(triggers_command().args(["--comment", "/test nope"]));
    insta::assert_snapshot!(String::from_utf8_lossy(&out));
}

#[test]
fn triggers_include_in_repo_jobs_from_a_prow_yaml_file_or_a_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    let prow_yaml = "presubmits:\n- name: pull-in-repo-lint\n  always_run: true\n  spec:\n    containers:\n    - image: alpine\n      command: [\"true\"]\n";
    std::fs::write(tmp.path().join(".prow.yaml"), prow_yaml).unwrap();
    let in_repo = |rows: &serde_json::Value| -> Vec<(String, bool)> {
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["name"] == "pull-in-repo-lint")
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["runs"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let file = tmp.path().join(".prow.yaml");
    for path in [file.as_path(), tmp.path()] {
        let rows = triggers(&["--prow-yaml-path", path.to_str().unwrap()]);
        assert_eq!(
            in_repo(&rows),
            [("pull-in-repo-lint".to_owned(), true)],
            "{path:?}"
        );
    }
    // Without it, the central jobs only.
    assert!(in_repo(&triggers(&[])).is_empty());

    // A broken one is refused with its file and line.
    std::fs::write(&file, "presubmits:\n- name: pull-in-repo-lint\n  always_run: true\n  cluster: secret\n  spec:\n    containers:\n    - image: alpine\n      command: [\"true\"]\n").unwrap();
    let out = triggers_command()
        .args(["--prow-yaml-path", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".prow.yaml:4: presubmits[0].cluster")
            && err.contains("is not allowed for repository"),
        "{err}"
    );
}
