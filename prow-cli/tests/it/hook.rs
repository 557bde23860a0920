//! `prow hook` as a real process on the demo's files: a signed `/test all` from `phony`
//! creates the demo's presubmits in the store, and SIGTERM stops it gracefully.

use std::process::{Command, Stdio};
use std::time::Duration;

use prow_jobs::store::{JobStore, SqliteStore};

use crate::demo_support::{demo, free_port, on_the_demo, prowjobs, send_test_all, wait_for};

#[test]
fn phony_test_all_through_prow_hook_creates_the_demo_presubmits() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let mut hook = on_the_demo("hook", &data, port)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    send_test_all(port);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = rt
        .block_on(SqliteStore::open(data.join("prow.db")))
        .unwrap();
    let names = || {
        let mut names: Vec<String> = rt
            .block_on(store.list(&Default::default()))
            .unwrap()
            .into_iter()
            .map(|j| j.spec.job)
            .collect();
        names.sort();
        names
    };
    wait_for("the presubmits", Duration::from_secs(60), || {
        names().len() == 2
    });
    assert_eq!(names(), ["pull-hello-lint", "pull-hello-unit"]);

    let status = Command::new("kill")
        .args(["-TERM", &hook.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = hook.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(hook.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(exit.success(), "{stderr}");
    assert!(stderr.contains("finishing accepted webhooks"), "{stderr}");
}

#[test]
fn prow_serve_runs_the_demo_from_webhook_to_finished_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut serve = on_the_demo("serve", &tmp.path().join("data"), port)
        .args(["--runtime", "host"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    send_test_all(port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let states = || -> Vec<(String, String)> {
        prowjobs(&rt, port)
            .unwrap_or_default()
            .into_iter()
            .map(|j| (j.job, j.state))
            .collect()
    };
    wait_for("both jobs to pass", Duration::from_secs(60), || {
        states().iter().filter(|(_, s)| s == "success").count() == 2
    });
    assert_eq!(
        states(),
        [
            ("pull-hello-lint".to_owned(), "success".to_owned()),
            ("pull-hello-unit".to_owned(), "success".to_owned())
        ]
    );
    let healthz = rt.block_on(async {
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(healthz.as_u16(), 200);

    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    let exit = serve.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(serve.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(exit.success(), "{stderr}");
}

#[test]
fn prow_demo_once_runs_the_demo_jobs_and_exits_with_their_result() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prow"))
        .current_dir(demo().join("../.."))
        .args(["demo", "--once", "--port", &free_port().to_string()])
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        ["pull-hello-lint: success", "pull-hello-unit: success"]
    );
    // Its jobs stay in the data directory for the next `prow serve`.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let jobs = rt.block_on(async {
        let store = SqliteStore::open(&tmp.path().join("data/prow.db"))
            .await
            .unwrap();
        store.list(&Default::default()).await.unwrap()
    });
    assert_eq!(jobs.len(), 2);

    // `prow deck` alone shows them from the same data directory.
    let port = free_port();
    let mut deck = Command::new(env!("CARGO_BIN_EXE_prow"))
        .arg("deck")
        .arg("--config-path")
        .arg(demo().join("config.yaml"))
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let listed = || prowjobs(&rt, port);
    wait_for("prow deck to answer", Duration::from_secs(60), || {
        listed().is_some()
    });
    let states: Vec<(String, String)> = listed()
        .unwrap()
        .into_iter()
        .map(|j| (j.job, j.state))
        .collect();
    let _ = deck.kill();
    let _ = deck.wait();
    assert_eq!(
        states,
        [
            ("pull-hello-lint".to_owned(), "success".to_owned()),
            ("pull-hello-unit".to_owned(), "success".to_owned())
        ]
    );
}

#[test]
fn prow_demo_outside_a_checkout_says_where_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prow"))
        .current_dir(tmp.path())
        .args(["demo", "--once", "--port", &free_port().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("examples/prow/config.yaml not found"),
        "{stderr}"
    );
}

#[test]
fn prow_serve_without_parts_leaves_their_routes_out() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut serve = on_the_demo("serve", &tmp.path().join("data"), port)
        .args([
            "--runtime",
            "host",
            "--without",
            "hook",
            "--without",
            "metrics",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = |method: reqwest::Method, path: &str| {
        rt.block_on(async {
            reqwest::Client::new()
                .request(method, format!("http://127.0.0.1:{port}{path}"))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .ok()
        })
    };
    wait_for("prow serve to be ready", Duration::from_secs(60), || {
        status(reqwest::Method::GET, "/healthz/ready") == Some(200)
    });
    assert_eq!(status(reqwest::Method::POST, "/hook"), Some(404));
    assert_eq!(status(reqwest::Method::GET, "/metrics"), Some(404));
    assert_eq!(status(reqwest::Method::GET, "/prowjobs.js"), Some(200));
    let _ = serve.kill();
    let _ = serve.wait();
}
