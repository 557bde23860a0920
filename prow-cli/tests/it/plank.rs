//! `prow plank` as a real process on the embedded default: kill -9 it while jobs run, kill -9
//! one pod as well, start it again, and every ProwJob finishes exactly once, the dead pod
//! revived.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prow_core::{ProwJob, ProwJobState};
use prow_jobs::store::{JobStore, SqliteStore};
use serde_json::json;

fn start_plank(data: &Path, config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_prow"))
        .args(["plank", "--runtime", "host", "--resync-period", "100ms"])
        .arg("--config-path")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prow plank starts")
}

/// A triggered job whose command records its start and pid, waits for `release`, then
/// records its end.
fn job(name: &str, dir: &Path) -> ProwJob {
    let script = "echo $JOB_NAME >> \"$LEDGER.started\"; echo $$ > \"$PIDS/$JOB_NAME\"; \
                  while [ ! -e \"$RELEASE\" ]; do sleep 0.05; done; echo $JOB_NAME >> \"$LEDGER\"";
    let env = |k: &str, v: PathBuf| json!({"name": k, "value": v.display().to_string()});
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": name},
        "spec": {
            "type": "periodic",
            "agent": "kubernetes",
            "job": name,
            "pod_spec": {"containers": [{
                "image": "alpine",
                "command": ["sh", "-c", script],
                "env": [env("LEDGER", dir.join("ledger")), env("PIDS", dir.join("pids")), env("RELEASE", dir.join("release"))],
            }]},
        },
        "status": {"state": "triggered", "startTime": "2026-11-23T12:00:00Z"},
    }))
    .expect("prowjob")
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Polls until `done` holds, failing after a minute.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill_group(pid: &str) {
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", pid.trim())])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -9 -{pid}");
}

#[test]
fn a_killed_plank_loses_and_duplicates_nothing_and_a_killed_pod_is_revived() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("pids")).unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(&config, "plank:\n  max_concurrency: 3\n").unwrap();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt
        .block_on(SqliteStore::open(data.join("prow.db")))
        .unwrap();
    let names: Vec<String> = (1..=6).map(|i| format!("job-{i}")).collect();
    for name in &names {
        rt.block_on(store.create(job(name, dir))).unwrap();
    }
    let list = || rt.block_on(store.list(&Default::default())).unwrap();

    let mut plank = start_plank(&data, &config);
    wait_for("three jobs to start", || {
        lines(&dir.join("ledger.started")).len() == 3
    });
    let before: BTreeMap<String, ProwJob> = list()
        .into_iter()
        .map(|j| (j.name().to_owned(), j))
        .collect();
    plank.kill().unwrap();
    plank.wait().unwrap();

    // One running pod dies with plank: its supervisor and its command, both killed outright.
    let victim = lines(&dir.join("ledger.started"))[0].clone();
    let supervisor =
        std::fs::read_to_string(data.join("pods").join(&victim).join("supervisor")).unwrap();
    kill_group(supervisor.split_whitespace().next().unwrap());
    kill_group(&std::fs::read_to_string(dir.join("pids").join(&victim)).unwrap());

    let mut plank = start_plank(&data, &config);
    std::fs::write(dir.join("release"), "").unwrap();
    wait_for("every job to finish", || {
        list().iter().all(ProwJob::is_complete)
    });
    plank.kill().unwrap();
    plank.wait().unwrap();

    let after = list();
    let after_names: Vec<&str> = after.iter().map(ProwJob::name).collect();
    assert_eq!(after_names, names, "no ProwJob lost or added");
    for job in &after {
        let status = job.status.as_ref().unwrap();
        assert_eq!(
            status.state,
            ProwJobState::Success,
            "{}: {}",
            job.name(),
            status.description
        );
        let earlier = before[job.name()].status.as_ref().unwrap();
        if job.name() == victim {
            assert_eq!(status.pod_revival_count, 1, "the dead pod was revived once");
            assert_ne!(
                status.build_id, earlier.build_id,
                "the revived pod is a new build"
            );
        } else {
            assert_eq!(status.pod_revival_count, 0, "{}", job.name());
            if earlier.state == ProwJobState::Pending {
                assert_eq!(
                    status.build_id,
                    earlier.build_id,
                    "{} was adopted, not restarted",
                    job.name()
                );
            }
        }
    }
    let mut finished = lines(&dir.join("ledger"));
    finished.sort();
    assert_eq!(finished, names, "each job's command finished exactly once");
}
