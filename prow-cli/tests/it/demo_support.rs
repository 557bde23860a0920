//! The demo's files and the steps the tests of `prow hook`, `prow serve` and deck share: start
//! a command on the demo, send the signed `/test all` with `phony`, read `/prowjobs.js`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `examples/prow/`.
pub(crate) fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prow")
}

/// `prow COMMAND` on the demo's files, the fake GitHub, `data` and `port`.
pub(crate) fn on_the_demo(command: &str, data: &Path, port: u16) -> Command {
    let mut prow = Command::new(env!("CARGO_BIN_EXE_prow"));
    prow.arg(command)
        .arg("--config-path")
        .arg(demo().join("config.yaml"))
        .arg("--job-config-path")
        .arg(demo().join("jobs"))
        .arg("--plugin-config")
        .arg(demo().join("plugins.yaml"))
        .arg("--hmac-secret-file")
        .arg(demo().join("hmac"))
        .arg("--github-fake")
        .arg(demo().join("github-fake.yaml"))
        .arg("--data-dir")
        .arg(data)
        .args(["--port", &port.to_string()]);
    prow
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `done` until it holds; `timeout` is a backstop, not a schedule.
pub(crate) fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until something listens on `port`, then has `phony` deliver the demo's signed
/// `/test all` comment to its `/hook`.
pub(crate) fn send_test_all(port: u16) {
    wait_for("the server to listen", Duration::from_secs(60), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let out = Command::new(env!("CARGO_BIN_EXE_phony"))
        .args([
            "--address",
            &format!("http://127.0.0.1:{port}/hook"),
            "--hmac",
            "demo-secret-change-me",
            "--event",
            "issue_comment",
            "--payload",
        ])
        .arg(demo().join("payloads/test-comment.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One ProwJob as `/prowjobs.js` lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Listed {
    pub job: String,
    pub state: String,
    pub name: String,
}

/// The ProwJobs `/prowjobs.js` on `port` lists, sorted by job; `None` while it cannot answer.
pub(crate) fn prowjobs(rt: &tokio::runtime::Runtime, port: u16) -> Option<Vec<Listed>> {
    let text = rt
        .block_on(async {
            reqwest::get(format!("http://127.0.0.1:{port}/prowjobs.js"))
                .await?
                .text()
                .await
        })
        .ok()?;
    let body: serde_json::Value = serde_json::from_str(&text).ok()?;
    let field = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut jobs: Vec<Listed> = body["items"]
        .as_array()?
        .iter()
        .map(|j| Listed {
            job: field(&j["spec"]["job"]),
            state: field(&j["status"]["state"]),
            name: field(&j["metadata"]["name"]),
        })
        .collect();
    jobs.sort();
    Some(jobs)
}
