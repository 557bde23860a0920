//! deck's storage pages in a real headless browser: a failing build is uploaded by initupload
//! and sidecar to fake-gcs-server (the local artifacts folder when the emulator is not set
//! up, outside CI), the job sits in the fake Kubernetes API server, and Debian's Chromium
//! renders its spyglass page, the job history, the PR history and the configured jobs; then
//! it logs in through the fake GitHub's OAuth pages and shows the user's PR dashboard.
//!
//! Without Chromium the test prints a notice and passes, except under `CI=true`, where a
//! missing browser fails it. The screenshot of the spyglass page is kept as
//! `target/browser-artifacts/deck-spyglass.png`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use prow_jobs::store::JobStore;

use crate::deck_storage::{Bucket, Run, config_yaml, presubmit, serve, upload};
use crate::support;

/// How much virtual time Chromium gives the page's scripts to fetch and render.
const VIRTUAL_TIME_MS: &str = "10000";

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Chromium, headless, on `url` with its own profile in `profile`.
fn headless(browser: &Path, profile: &Path, url: &str, extra: &[String]) -> (String, String) {
    let out = Command::new(browser)
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
        .expect("chromium starts");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn dump(browser: &Path, profile: &Path, url: String) -> String {
    let (browser, profile) = (browser.to_owned(), profile.to_owned());
    let (dom, stderr) = tokio::task::spawn_blocking(move || {
        headless(&browser, &profile, &url, &["--dump-dom".to_owned()])
    })
    .await
    .unwrap();
    assert!(!dom.is_empty(), "chromium printed no DOM: {stderr}");
    dom
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_spyglass_job_history_pr_history_configured_jobs_and_login() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is missing and CI=true: install it (apt-get install -y chromium)"
        );
        eprintln!("notice: chromium not found; skipping the headless-browser test");
        return;
    };
    let config = config_yaml();
    let bucket = match Bucket::emulator("gs").await {
        Some(bucket) => bucket,
        None => Bucket::local(),
    };
    let mut log = String::new();
    for i in 1..=40 {
        log.push_str(&format!("=== RUN   TestWidget/case_{i}\n"));
    }
    log.push_str("--- FAIL: TestSubtests (0.00s)\n    widget_test.go:12: want 3, got 4\n");
    for i in 41..=80 {
        log.push_str(&format!("=== RUN   TestWidget/case_{i}\n"));
    }
    let hook = support::hook_config(&config, "");
    let junit = support::data("deck/junit_go-subtests.xml");
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let mut names = Vec::new();
    for (build, sha, code) in [("4001", "5ha1", 0), ("4002", "5ha2", 1)] {
        let mut job = presubmit(
            &format!("pull-unit-{build}"),
            "pull-unit",
            build,
            sha,
            &bucket.job_bucket,
        );
        let status = job.status.as_mut().unwrap();
        status.state = if code == 0 {
            prow_core::ProwJobState::Success
        } else {
            prow_core::ProwJobState::Failure
        };
        let url = prow_jobs::plank::job_url(&hook.config.prow.plank, &job);
        job.status.as_mut().unwrap().url = url;
        upload(
            &bucket,
            &job,
            &Run {
                // Sidecar stamps the real end, so the start is real too: minutes ago.
                started: now - 900 + i64::from(code) * 600,
                log: if code == 0 {
                    "all tests passed\n"
                } else {
                    &log
                },
                code,
                junit: (code != 0).then_some(junit.as_path()),
                link: None,
            },
        )
        .await;
        names.push(job);
    }
    let fake = prow_jobs::kube::fake::FakeApiServer::start().expect("fake API server");
    let store = Arc::new(prow_jobs::kube::KubeStore::new(fake.client(), "default"));
    let failing = names.pop().unwrap();
    let view_path = failing.status.as_ref().unwrap().url.clone();
    for job in names.into_iter().chain([failing]) {
        store.create(job).await.unwrap();
    }
    let base = serve(bucket.deck(store, &config)).await;
    let view = format!(
        "{base}{}",
        view_path.strip_prefix("https://prow.example.com").unwrap()
    );
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("chromium");

    let dom = dump(&browser, &profile, view.clone()).await;
    for wanted in [
        r#"id="lens-metadata""#,
        r#"id="result">FAILURE<"#,
        r#"id="lens-buildlog""#,
        "--- FAIL: TestSubtests (0.00s)",
        r#"id="lens-junit""#,
        "Artifacts are kept for 90 days.",
        r#"id="job-history-link""#,
    ] {
        assert!(
            dom.contains(wanted),
            "spyglass page lacks {wanted:?}:\n{dom}"
        );
    }
    // Lines far from the failure stay folded.
    assert!(
        dom.contains("Show 35 hidden lines") && dom.contains("Show 36 hidden lines"),
        "{dom}"
    );

    let history = format!(
        "{base}/job-history/{}/pr-logs/directory/pull-unit",
        bucket.view_prefix()
    );
    let dom = dump(&browser, &profile, history).await;
    assert!(
        dom.contains(r#"data-build="4002" data-result="FAILURE""#)
            && dom.contains(r#"data-build="4001" data-result="SUCCESS""#),
        "job history:\n{dom}"
    );

    // The PR history reads the repo's default bucket; in local mode every bucket is the
    // artifacts folder, on the emulator the jobs' bucket is not the default one.
    if bucket.job_bucket == "gs://prow-artifacts" {
        let dom = dump(
            &browser,
            &profile,
            format!("{base}/pr-history?org=acme&repo=widgets&pr=7"),
        )
        .await;
        assert!(
            dom.contains(r#"data-commit="5ha2""#) && dom.contains(r#"data-commit="5ha1""#),
            "pr history:\n{dom}"
        );
    }

    let dom = dump(
        &browser,
        &profile,
        format!("{base}/configured-jobs/acme/widgets"),
    )
    .await;
    assert!(
        dom.contains(r#"data-job="pull-e2e""#) && dom.contains("runs if changed: ^e2e/"),
        "configured jobs:\n{dom}"
    );

    // GitHub login in the browser: through the fake GitHub's OAuth pages and back, the PR
    // dashboard shows the logged-in user and their pull requests.
    let login = crate::deck_oauth::start().await;
    login.hub.lock().unwrap().signed_in = "alice".to_owned();
    let dom = dump(
        &browser,
        &tmp.path().join("chromium-login"),
        format!("{}/github-login?dest=/pr", login.deck),
    )
    .await;
    assert!(
        dom.contains(r#"class="user">alice<"#) && dom.contains(r#"data-pr="acme/widgets#7""#),
        "PR dashboard after login:\n{dom}"
    );

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.canonicalize().unwrap().join("deck-spyglass.png");
    let _ = std::fs::remove_file(&shot);
    let (browser2, profile2, shot2) = (browser.clone(), profile.clone(), shot.clone());
    let (_, stderr) = tokio::task::spawn_blocking(move || {
        headless(
            &browser2,
            &profile2,
            &view,
            &[
                format!("--screenshot={}", shot2.display()),
                "--window-size=1280,1400".to_owned(),
            ],
        )
    })
    .await
    .unwrap();
    assert!(
        shot.metadata().is_ok_and(|m| m.len() > 0),
        "no screenshot at {}: {stderr}",
        shot.display()
    );
    eprintln!("screenshot of the spyglass page: {}", shot.display());
}
