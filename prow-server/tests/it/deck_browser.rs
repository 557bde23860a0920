//! deck's storage pages in a real headless browser: a failing build is uploaded by initupload
//! and sidecar to fake-gcs-server (the local artifacts folder when the emulator is not set
//! up, outside CI), the job sits in the fake Kubernetes API server, and Debian's Chromium
//! renders its spyglass page, the job history, the PR history and the configured jobs; then
//! it logs in through the fake GitHub's OAuth pages and shows the user's PR dashboard.
//!
//! Without Chromium the test prints a notice and passes, except under `CI=true`, where a
//! missing browser fails it. The screenshot of the spyglass page is kept as
//! `target/browser-artifacts/deck-spyglass.png` (and refreshed in `docs/` with
//! `PROW_UPDATE_SCREENSHOTS=1`; see [`crate::chromium`]).

use std::sync::Arc;

use prow_jobs::store::JobStore;

use crate::chromium::Chromium;
use crate::deck_storage::{Bucket, Run, config_yaml, presubmit, serve, upload};
use crate::support;

/// The DOM of `url` in `chromium`, off the async workers.
async fn dump(chromium: &Arc<Chromium>, url: String) -> String {
    let chromium = chromium.clone();
    tokio::task::spawn_blocking(move || chromium.dom(&url))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_spyglass_job_history_pr_history_configured_jobs_and_login() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(chromium) = Chromium::find(&tmp.path().join("chromium")) else {
        return;
    };
    let chromium = Arc::new(chromium);
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

    let dom = dump(&chromium, view.clone()).await;
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
    let dom = dump(&chromium, history).await;
    assert!(
        dom.contains(r#"data-build="4002" data-result="FAILURE""#)
            && dom.contains(r#"data-build="4001" data-result="SUCCESS""#),
        "job history:\n{dom}"
    );

    // The PR history reads the repo's default bucket; in local mode every bucket is the
    // artifacts folder, on the emulator the jobs' bucket is not the default one.
    if bucket.job_bucket == "gs://prow-artifacts" {
        let dom = dump(
            &chromium,
            format!("{base}/pr-history?org=acme&repo=widgets&pr=7"),
        )
        .await;
        assert!(
            dom.contains(r#"data-commit="5ha2""#) && dom.contains(r#"data-commit="5ha1""#),
            "pr history:\n{dom}"
        );
    }

    let dom = dump(&chromium, format!("{base}/configured-jobs/acme/widgets")).await;
    assert!(
        dom.contains(r#"data-job="pull-e2e""#) && dom.contains("runs if changed: ^e2e/"),
        "configured jobs:\n{dom}"
    );

    // GitHub login in the browser: through the fake GitHub's OAuth pages and back, the PR
    // dashboard shows the logged-in user and their pull requests.
    let login = crate::deck_oauth::start().await;
    login.hub.lock().unwrap().signed_in = "alice".to_owned();
    let in_private = Arc::new(Chromium::find(&tmp.path().join("chromium-login")).unwrap());
    let dom = dump(&in_private, format!("{}/github-login?dest=/pr", login.deck)).await;
    assert!(
        dom.contains(r#"class="user">alice<"#) && dom.contains(r#"data-pr="acme/widgets#7""#),
        "PR dashboard after login:\n{dom}"
    );

    tokio::task::spawn_blocking(move || {
        chromium.screenshot(&view, "deck-spyglass.png", 1280, 1400);
    })
    .await
    .unwrap();
}
