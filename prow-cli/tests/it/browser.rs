//! deck in a real headless browser: `prow serve` runs the demo, phony sends the signed
//! `/test all`, and Debian's Chromium renders the job list and the job page with its log.
//!
//! Without Chromium the test prints a notice and passes, except under `CI=true`, where a
//! missing browser fails it (`.ci/run` installs it). The screenshot of the job page is kept
//! under `target/browser-artifacts/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::demo_support::{free_port, on_the_demo, prowjobs, send_test_all, wait_for};

/// How long the demo's job may take to pass; a backstop, not a schedule.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);
/// How much virtual time Chromium gives the page's scripts to fetch and render.
const VIRTUAL_TIME_MS: &str = "15000";

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Kills `prow serve` when the test ends, passed or not.
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Chromium, headless, on `url` with its own profile in `profile`.
fn headless(browser: &Path, profile: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_MS}"))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("chromium starts")
}

#[test]
fn chromium_shows_the_demo_job_and_its_log() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is missing and CI=true: install it (apt-get install -y chromium)"
        );
        eprintln!("notice: chromium not found; skipping the headless-browser test");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _serve = Serve(
        on_the_demo("serve", &tmp.path().join("data"), port)
            .args(["--runtime", "host"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    send_test_all(port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let unit = || {
        prowjobs(&rt, port)?
            .into_iter()
            .find(|j| j.job == "pull-hello-unit")
            .map(|j| (j.name, j.state))
    };
    wait_for("pull-hello-unit to pass", JOB_TIMEOUT, || {
        unit().is_some_and(|(_, state)| state == "success")
    });
    let (name, _) = unit().unwrap();

    let profile = tmp.path().join("chromium");
    let list = headless(&browser, &profile, &format!("{base}/"), &["--dump-dom"]);
    let dom = String::from_utf8_lossy(&list.stdout);
    assert!(
        dom.contains(r#"data-job="pull-hello-unit" data-state="success""#),
        "the job list does not show pull-hello-unit as success:\n{dom}\n{}",
        String::from_utf8_lossy(&list.stderr)
    );
    assert!(dom.contains(&format!("/job?prowjob={name}")), "{dom}");

    let page = format!("{base}/job?prowjob={name}");
    let job = headless(&browser, &profile, &page, &["--dump-dom"]);
    let dom = String::from_utf8_lossy(&job.stdout);
    assert!(
        dom.contains("unit tests of PR 1 at"),
        "the job page does not show the build log:\n{dom}\n{}",
        String::from_utf8_lossy(&job.stderr)
    );
    assert!(dom.contains("state-success"), "{dom}");

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    let shots = shots.canonicalize().unwrap();
    for (file, url) in [
        ("deck-job-list.png", format!("{base}/")),
        ("deck-job-page.png", page),
    ] {
        let shot = shots.join(file);
        let _ = std::fs::remove_file(&shot);
        let taken = headless(
            &browser,
            &profile,
            &url,
            &[
                &format!("--screenshot={}", shot.display()),
                "--window-size=1280,1000",
            ],
        );
        assert!(
            shot.metadata().is_ok_and(|m| m.len() > 0),
            "no screenshot at {}: {}",
            shot.display(),
            String::from_utf8_lossy(&taken.stderr)
        );
        eprintln!("screenshot of {url}: {}", shot.display());
    }
}
