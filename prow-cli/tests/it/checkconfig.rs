//! The `checkconfig` binary: exit codes and located findings.

use std::path::{Path, PathBuf};
use std::process::Command;

fn checkconfig() -> Command {
    Command::new(env!("CARGO_BIN_EXE_checkconfig"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/config")
}

#[test]
fn checkconfig_passes_the_examples() {
    let out = checkconfig()
        .arg("--config-path")
        .arg(examples().join("config.yaml"))
        .arg("--job-config-path")
        .arg(examples().join("jobs"))
        .arg("--strict")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn checkconfig_lists_every_error_with_its_line_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yaml"), "").unwrap();
    let jobs = dir.path().join("jobs");
    std::fs::create_dir(&jobs).unwrap();
    std::fs::write(
        jobs.join("a.yaml"),
        "presubmits:\n  org/repo:\n  - name: a\n    always_run: maybe\n",
    )
    .unwrap();
    std::fs::write(jobs.join("b.yaml"), "periodics: [{name: p}]\n").unwrap();
    let out = checkconfig()
        .arg("--config-path")
        .arg(dir.path().join("config.yaml"))
        .arg("--job-config-path")
        .arg(&jobs)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("a.yaml:4: presubmits[\"org/repo\"][0].always_run"),
        "{stdout}"
    );
    assert!(
        stdout.contains("at least one of cron, interval, or minimum_interval"),
        "{stdout}"
    );
}

#[test]
fn checkconfig_bad_flags_exit_2() {
    let out = checkconfig().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// prow-config's test data.
fn config_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../prow-config/tests/data")
}

/// Runs checkconfig in `dir` with `args`; returns exit code, stdout and stderr.
fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = checkconfig().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn checkconfig_unknown_warning_is_a_bad_flag() {
    let (code, _, stderr) = run_in(
        &config_data(),
        &["--config-path=inrepo/config.yaml", "--warnings=nope"],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("no such warning \"nope\", valid warnings: [mismatched-tide "),
        "{stderr}"
    );
}

#[test]
fn checkconfig_prow_yaml_path_needs_a_repo_name() {
    let (code, _, stderr) = run_in(
        &config_data(),
        &[
            "--config-path=inrepo/config.yaml",
            "--prow-yaml-path=inrepo/repo-dir/.prow.yaml",
        ],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("requires --prow-yaml-repo-name"),
        "{stderr}"
    );
    let (code, _, _) = run_in(&config_data(), &["--strict"]);
    assert_eq!(code, Some(2), "--config-path is required");
}

#[test]
fn checkconfig_checks_in_repo_config_of_the_current_directory() {
    let dir = config_data().join("inrepo/repo-dir");
    let (code, stdout, stderr) = run_in(
        &dir,
        &[
            "--config-path=../config.yaml",
            "--prow-yaml-repo-name=org/repo",
            "--strict=true",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("checkconfig passes without any error!"));

    let (code, stdout, _) = run_in(
        &config_data().join("inrepo"),
        &[
            "--config-path=config.yaml",
            "--prow-yaml-repo-name=org/repo",
            "--prow-yaml-path=repo-bad/.prow.yaml",
        ],
    );
    assert_eq!(code, Some(1));
    insta::assert_snapshot!(stdout);
}

#[test]
fn checkconfig_json_lists_every_finding() {
    let (code, stdout, _) = run_in(
        &config_data().join("bad"),
        &[
            "--config-path=required-job-annotations.yaml",
            "--required-job-annotations=owner",
            "--output=json",
        ],
    );
    assert_eq!(code, Some(0), "warnings alone pass without --strict");
    let findings: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    insta::assert_json_snapshot!(findings);
    let (code, _, stderr) = run_in(
        &config_data().join("bad"),
        &[
            "--config-path=required-job-annotations.yaml",
            "--required-job-annotations=owner",
            "--strict",
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("Strict is set and there were warnings"),
        "{stderr}"
    );
}

#[test]
fn checkconfig_warnings_choose_the_checks() {
    let bad = config_data().join("bad");
    let only = |warning: &str| {
        run_in(
            &bad,
            &["--config-path=long-job-names.yaml", "--strict", warning],
        )
        .0
    };
    assert_eq!(only("--warnings=long-job-names"), Some(1));
    assert_eq!(only("--warnings=non-decorated-jobs"), Some(0));
    assert_eq!(only("--exclude-warning=long-job-names"), Some(0));
}

#[test]
fn checkconfig_merges_supplemental_prow_configs() {
    let root = config_data().join("bad/supplemental");
    let base = [
        "--config-path=config.yaml",
        "--supplemental-prow-config-dir=extra",
    ];
    let (code, stdout, stderr) = run_in(
        &root,
        &[
            &base[..],
            &[
                "--supplemental-prow-configs-filename=a_prowconfig.yaml",
                "--strict",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, stdout, _) = run_in(&root, &base);
    assert_eq!(code, Some(1));
    assert!(
        stdout
            .contains("extra/org/b_prowconfig.yaml:3: tide.sync_period: only 'branch-protection'"),
        "{stdout}"
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn checkconfig_passes_k8s_with_its_own_flags() {
    let root = crate::corpus().join("k8s-test-infra");
    // The flags of config/jobs/kubernetes/test-infra/test-infra-checkconfig.yaml.
    let (code, stdout, stderr) = run_in(
        &root,
        &[
            "--config-path=config/prow/config.yaml",
            "--job-config-path=config/jobs",
            "--plugin-config=config/prow/plugins.yaml",
            "--strict",
            "--warnings=mismatched-tide-lenient",
            "--warnings=tide-strict-branch",
            "--warnings=needs-ok-to-test",
            "--warnings=validate-owners",
            "--warnings=missing-trigger",
            "--warnings=validate-urls",
            "--warnings=unknown-fields",
            "--warnings=duplicate-job-refs",
            "--warnings=unknown-fields-all",
            "--warnings=non-decorated-jobs",
            "--warnings=valid-decoration-config",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}

#[test]
fn checkconfig_names_a_missing_file_and_why() {
    let (code, stdout, _) = run_in(&config_data(), &["--config-path=no-such-config.yaml"]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("error: read no-such-config.yaml: No such file or directory"),
        "{stdout}"
    );
}

#[test]
fn checkconfig_accepts_prows_github_and_storage_flags_and_single_dashes() {
    let (code, stdout, stderr) = run_in(
        &config_data(),
        &[
            "-config-path=inrepo/config.yaml",
            "--github-token-path=/etc/github/token",
            "--github-endpoint=http://ghproxy",
            "--github-endpoint=https://api.github.com",
            "--github-hourly-tokens=3000",
            "--gcs-credentials-file=/etc/gcs.json",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}
