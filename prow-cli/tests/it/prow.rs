//! The `prow` binary: `prow crd` and `prow check-prowjob`.

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
