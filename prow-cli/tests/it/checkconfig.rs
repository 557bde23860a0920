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
