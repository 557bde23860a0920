//! `/metrics` of the real `prow serve` on the demo: it parses as the text format and its
//! families move as a signed `/test all` arrives and its jobs run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prow_server::metrics::{Samples, parse_text};

/// The demo's files.
pub(crate) fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prow")
}

/// A generous backstop: the jobs are quick local commands, but two cores are shared.
const TIMEOUT: Duration = Duration::from_secs(90);

/// Polls `done` until it holds, failing after [`TIMEOUT`].
pub(crate) fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `prow serve` on the files under `files` (laid out like `examples/prow`), running until
/// dropped or stopped.
pub(crate) struct Serve {
    pub(crate) port: u16,
    pub(crate) files: PathBuf,
    child: Child,
    rt: tokio::runtime::Runtime,
}

impl Serve {
    pub(crate) fn start(files: &Path, data: &Path) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_prow"))
            .arg("serve")
            .arg("--config-path")
            .arg(files.join("config.yaml"))
            .arg("--job-config-path")
            .arg(files.join("jobs"))
            .arg("--plugin-config")
            .arg(files.join("plugins.yaml"))
            .arg("--hmac-secret-file")
            .arg(files.join("hmac"))
            .arg("--github-fake")
            .arg(files.join("github-fake.yaml"))
            .arg("--data-dir")
            .arg(data)
            .args(["--port", &port.to_string(), "--runtime", "host"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let serve = Serve {
            port,
            files: files.to_owned(),
            child,
            rt,
        };
        wait_for("serve to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        serve
    }

    /// Scrapes `/metrics`, failing unless it parses.
    pub(crate) fn scrape(&self) -> Samples {
        let text = self
            .rt
            .block_on(async {
                reqwest::get(format!("http://127.0.0.1:{}/metrics", self.port))
                    .await?
                    .error_for_status()?
                    .text()
                    .await
            })
            .unwrap();
        parse_text(&text).unwrap_or_else(|e| panic!("/metrics does not parse: {e}\n{text}"))
    }

    /// Sends the demo's comment, saying `body`, signed, with phony.
    pub(crate) fn comment(&self, body: &str) {
        let mut payload: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(demo().join("payloads/test-comment.json")).unwrap(),
        )
        .unwrap();
        payload["comment"]["body"] = body.into();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), serde_json::to_vec(&payload).unwrap()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_phony"))
            .args([
                "--address",
                &format!("http://127.0.0.1:{}/hook", self.port),
                "--hmac",
                "demo-secret-change-me",
                "--event",
                "issue_comment",
                "--payload",
            ])
            .arg(file.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops it with SIGTERM and returns its stderr.
    pub(crate) fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        assert!(exit.success(), "{stderr}");
        stderr
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn prow_serve_metrics_move_with_a_webhook_and_its_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let serve = Serve::start(&demo(), &tmp.path().join("data"));

    let before = serve.scrape();
    assert_eq!(before.types["prowjobs"], "gauge");
    assert_eq!(before.value("prowjobs", &[]), 0.0);
    assert_eq!(
        before.value(
            "prow_webhook_counter_total",
            &[("event_type", "issue_comment")]
        ),
        0.0
    );
    assert_eq!(before.value("prow_config_last_reload_successful", &[]), 1.0);

    serve.comment("/test all");
    wait_for("the jobs to pass", || {
        serve
            .scrape()
            .value("prowjobs", &[("state", "success"), ("type", "presubmit")])
            == 2.0
    });
    let after = serve.scrape();
    assert_eq!(
        after.value(
            "prow_webhook_counter_total",
            &[("event_type", "issue_comment")]
        ),
        1.0
    );
    assert_eq!(
        after.value(
            "prow_plugin_handled_total",
            &[("plugin", "trigger"), ("outcome", "ok")]
        ),
        1.0
    );
    assert_eq!(
        after.value(
            "prowjobs",
            &[
                ("job_name", "pull-hello-unit"),
                ("org", "prow-demo"),
                ("repo", "hello"),
                ("state", "success"),
            ]
        ),
        1.0
    );
    assert_eq!(after.value("prowjobs", &[]), 2.0);
    assert_eq!(after.value("plank_queue_depth", &[]), 0.0);
    serve.stop();
}
