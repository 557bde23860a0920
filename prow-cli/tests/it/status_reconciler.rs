//! `prow status-reconciler` as a deployment runs it: upstream's flags, the fake GitHub, a
//! state file from an earlier run, and the job store on disk.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use prow_jobs::store::{JobStore, SqliteStore};

/// A backstop for waits on events that should come soon.
const TIMEOUT: Duration = Duration::from_secs(60);

const SEED: &str = r#"
bot: prow-bot
orgs:
  acme:
    members: [alice]
repos:
  acme/widgets:
    branches: {main: 1111111111111111111111111111111111111111}
pulls:
- repo: acme/widgets
  number: 7
  title: Trusted change
  author: alice
  head: {ref: change, sha: 2222222222222222222222222222222222222222}
  base: main
- repo: acme/widgets
  number: 8
  title: Untrusted change
  author: mallory
  head: {ref: other, sha: 3333333333333333333333333333333333333333}
  base: main
"#;

const CONFIG: &str = r#"
presubmits:
  acme/widgets:
  - name: unit
    always_run: true
    spec: {containers: [{image: alpine}]}
  - name: e2e
    always_run: true
    spec: {containers: [{image: alpine}]}
"#;

/// What an earlier run saved: only `unit` existed then.
const STATE: &str = r#"{"version": 1, "presubmits": {"acme/widgets": [{"name": "unit", "context": "unit", "always_run": true}]}}"#;

fn files(dir: &std::path::Path) {
    std::fs::write(dir.join("seed.yaml"), SEED).unwrap();
    std::fs::write(dir.join("config.yaml"), CONFIG).unwrap();
    std::fs::write(dir.join("plugins.yaml"), "plugins: {}\n").unwrap();
    std::fs::write(dir.join("state.json"), STATE).unwrap();
}

fn status_reconciler(dir: &std::path::Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_prow"));
    command
        .current_dir(dir)
        .args([
            "status-reconciler",
            "--config-path",
            "config.yaml",
            "--plugin-config",
            "plugins.yaml",
            "--github-fake",
            "seed.yaml",
            "--data-dir",
            "data",
        ])
        .args(extra);
    command
}

/// Runs the command until a log line contains `wanted`, then stops it with SIGTERM; answers
/// whether the line came.
fn run_until_logged(mut command: Command, wanted: &str) -> bool {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, heard) = mpsc::channel();
    let wanted = wanted.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(&wanted) {
                let _ = found.send(());
            }
        }
    });
    let came = heard.recv_timeout(TIMEOUT).is_ok();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(status.success() || !came, "{status}");
    came
}

fn stored_jobs(dir: &std::path::Path) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(dir.join("data/prow.db")).await.unwrap();
        let mut jobs: Vec<String> = store
            .list(&Default::default())
            .await
            .unwrap()
            .into_iter()
            .map(|j| {
                let pull = j.spec.refs.as_ref().unwrap().pulls[0].number;
                format!("{} #{pull}", j.spec.job)
            })
            .collect();
        jobs.sort();
        jobs
    })
}

#[test]
fn a_presubmit_added_since_the_last_run_runs_on_trusted_pull_requests() {
    let tmp = tempfile::tempdir().unwrap();
    files(tmp.path());
    let command = status_reconciler(
        tmp.path(),
        &["--status-path", "state.json", "--dry-run=false"],
    );
    assert!(run_until_logged(command, "created a ProwJob"));
    assert_eq!(stored_jobs(tmp.path()), ["e2e #7"]);
    // The state now holds both jobs.
    let state = std::fs::read_to_string(tmp.path().join("state.json")).unwrap();
    assert!(state.contains("\"e2e\""), "{state}");
}

#[test]
fn it_only_logs_unless_dry_run_is_false() {
    let tmp = tempfile::tempdir().unwrap();
    files(tmp.path());
    let command = status_reconciler(tmp.path(), &["--status-path", "state.json"]);
    assert!(run_until_logged(command, "dry run: would create a ProwJob"));
    assert_eq!(stored_jobs(tmp.path()), Vec::<String>::new());
}

#[test]
fn object_storage_status_paths_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    files(tmp.path());
    let out = status_reconciler(tmp.path(), &["--status-path", "gs://bucket/state"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--status-path gs://bucket/state: only a local file is supported"),
        "{stderr}"
    );
}
