//! The assembled process on real files and a real port: a store that fills up fails readiness
//! and counts the webhook it could not honour, `/healthz` answers while a large job file
//! reloads, and a stop is bounded by the grace period however slowly a client sends.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use prow_config::ConfigPaths;
use prow_jobs::runner::{LocalOptions, LocalRunner, Runner};
use prow_jobs::store::{JobStore, SqliteOptions, SqliteStore, StoreError};
use prow_server::metrics::parse_text;
use prow_server::process::{Backend, BackendOptions, GitHubOptions, Part, Process, ProcessOptions};
use tokio::io::AsyncWriteExt;

use crate::support::{self, comment, github};

/// A backstop for waits on events that should come soon.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `config.yaml`, `jobs/` and `plugins.yaml` and the HMAC file in `dir`.
fn files(dir: &Path) -> (ConfigPaths, std::path::PathBuf) {
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::write(dir.join("config.yaml"), support::CONFIG).unwrap();
    std::fs::write(dir.join("plugins.yaml"), support::PLUGINS).unwrap();
    std::fs::write(dir.join("hmac"), support::SECRET).unwrap();
    let paths = ConfigPaths::new(dir.join("config.yaml"), Some(dir.join("jobs")))
        .with_plugin_config(dir.join("plugins.yaml"));
    (paths, dir.join("hmac"))
}

/// Options for `parts` on an ephemeral loopback port with the fake GitHub.
fn options(dir: &Path, parts: Vec<Part>) -> ProcessOptions {
    let (paths, hmac) = files(dir);
    let mut options = ProcessOptions::new(paths, parts);
    options.backend = BackendOptions::embedded(dir.join("data"));
    options.listen = Some(([127, 0, 0, 1], 0).into());
    options.hmac_secret_file = Some(hmac);
    options.github = GitHubOptions::Client(github(support::ORG), "ci-robot".to_owned());
    options.grace_period = Duration::from_secs(5);
    options
}

/// A job store capped at a few pages, and a job to fill it with.
async fn small_store(dir: &Path) -> Arc<SqliteStore> {
    let options = SqliteOptions::default().max_pages(24);
    Arc::new(
        SqliteStore::open_with(dir.join("prow.db"), options)
            .await
            .unwrap(),
    )
}

fn filler(n: usize) -> prow_core::ProwJob {
    let mut job: prow_core::ProwJob = serde_json::from_value(serde_json::json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": format!("filler-{n}")},
        "spec": {"type": "periodic", "job": "filler", "agent": "kubernetes"},
    }))
    .unwrap();
    // A large description fills the pages quickly.
    job.status = Some(prow_core::ProwJobStatus {
        description: "x".repeat(3000),
        ..Default::default()
    });
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_fails_readiness_and_counts_the_webhook_it_could_not_honour() {
    let tmp = tempfile::tempdir().unwrap();
    let store = small_store(tmp.path()).await;
    let mut created = Vec::new();
    for n in 0.. {
        match store.create(filler(n)).await {
            Ok(job) => created.push(job.metadata.name.unwrap()),
            Err(StoreError::Full { .. }) => break,
            Err(e) => panic!("unexpected store error: {e}"),
        }
    }
    let runner: Arc<dyn Runner> =
        Arc::new(LocalRunner::new(LocalOptions::new(tmp.path().join("pods"))).unwrap());
    let backend = Backend::custom(store.clone(), runner);
    let process = Process::build_with_backend(
        options(tmp.path(), vec![Part::Hook, Part::Metrics]),
        backend,
    )
    .await
    .unwrap();
    let base = format!("http://{}", process.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let ready = |client: reqwest::Client, base: String| async move {
        client
            .get(format!("{base}/healthz/ready"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        ready(client.clone(), base.clone()).await,
        503,
        "a full store is not ready"
    );

    // `/test all` by a member: accepted (200), but its jobs cannot be stored.
    let payload = serde_json::to_vec(&comment("/test all", "member", support::ORG)).unwrap();
    let reply = prow_github::phony::deliver(
        &client,
        &format!("{base}/hook"),
        "issue_comment",
        &payload,
        support::SECRET,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let dropped = tokio::time::timeout(TIMEOUT, async {
        loop {
            let text = client
                .get(format!("{base}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let samples = parse_text(&text).unwrap();
            let dropped = samples.value("prow_webhook_dropped_total", &[("reason", "store")]);
            if dropped > 0.0 {
                return dropped;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the dropped webhook is counted");
    assert_eq!(dropped, 1.0, "one delivery, counted once");
    let names: Vec<String> = store
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.metadata.name.unwrap())
        .collect();
    assert_eq!(
        names.len(),
        created.len(),
        "nothing half-written: {names:?}"
    );

    // Room again: the next write succeeds and readiness recovers.
    for name in created.iter().take(created.len() / 2) {
        store.delete(name, None).await.unwrap();
    }
    assert_eq!(ready(client.clone(), base.clone()).await, 200);

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}

/// A job file of `repos` repositories with `jobs` presubmits each.
fn big_job_file(repos: usize, jobs: usize) -> String {
    let mut text = String::from("presubmits:\n");
    for r in 0..repos {
        text.push_str(&format!("  org-{r}/repo:\n"));
        for j in 0..jobs {
            text.push_str(&format!(
                "  - name: job-{r}-{j}\n    always_run: true\n    spec: {{containers: [{{image: alpine, command: [\"true\"]}}]}}\n"
            ));
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_a_large_job_file_reloads() {
    let tmp = tempfile::tempdir().unwrap();
    let process = Process::build(options(tmp.path(), vec![])).await.unwrap();
    let base = format!("http://{}", process.local_addr().unwrap());
    let agent = process.config_agent();
    let mut status = agent.subscribe_status();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));
    let text = big_job_file(800, 60);
    assert!(text.len() > 4 << 20, "{} bytes", text.len());
    // The agent reloads on its own from the file event; meanwhile `/healthz` is asked.
    std::fs::write(tmp.path().join("jobs/big.yaml"), &text).unwrap();
    let client = reqwest::Client::new();
    let mut answered_during_reload = 0;
    tokio::time::timeout(TIMEOUT, async {
        loop {
            tokio::select! {
                biased;
                changed = status.changed() => {
                    changed.unwrap();
                    return;
                }
                answer = client.get(format!("{base}/healthz")).send() => {
                    assert_eq!(answer.unwrap().status(), 200);
                    if agent.status().reloads == 0 {
                        answered_during_reload += 1;
                    }
                }
            }
        }
    })
    .await
    .expect("the large file reloads");
    assert_eq!(agent.status().reloads, 1, "{:?}", agent.status().errors);
    assert!(
        answered_during_reload > 0,
        "/healthz answered while the configuration loaded"
    );
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_is_bounded_by_the_grace_period_whatever_a_client_trickles() {
    let tmp = tempfile::tempdir().unwrap();
    let mut options = options(tmp.path(), vec![Part::Hook]);
    options.grace_period = Duration::from_millis(300);
    let process = Process::build(options).await.unwrap();
    let address = process.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));
    // A client that promises a body and sends it a byte at a time, never finishing.
    let mut slow = tokio::net::TcpStream::connect(address).await.unwrap();
    slow.write_all(
        b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: ping\r\nX-GitHub-Delivery: 1\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: 100000\r\n\r\n{",
    )
    .await
    .unwrap();
    let trickle = tokio::spawn(async move {
        while slow.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    stop.send(()).unwrap();
    let stopped = tokio::time::timeout(TIMEOUT, running).await;
    trickle.abort();
    stopped
        .expect("the process stops despite the trickling client")
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crier_in_the_process_posts_to_slack_and_uploads_prowjob_json_without_github() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, mut messages) = prow_jobs::crier::fake_slack::serve(r#"{"ok":true}"#).await;
    let mut options = options(tmp.path(), vec![Part::Crier]);
    options.github = GitHubOptions::None;
    let config = format!(
        "{}\nslack_reporter_configs:\n  '*':\n    job_types_to_report: [periodic]\n    job_states_to_report: [failure]\n    channel: ci-alerts\n",
        support::CONFIG
    );
    std::fs::write(tmp.path().join("config.yaml"), config).unwrap();
    std::fs::write(tmp.path().join("slack-token"), "xoxb-1").unwrap();
    options.crier.slack_token_file = Some(tmp.path().join("slack-token"));
    options.crier.slack_api_url = Some(api);
    options.crier.blob_storage = true;
    let process = Process::build(options).await.unwrap();
    let store = process.backend().store.clone();
    let mut changes = store.watch();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));

    let bucket = format!("file://{}", tmp.path().join("bucket").display());
    let job: prow_core::ProwJob = serde_json::from_value(serde_json::json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": "nightly-1"},
        "spec": {"type": "periodic", "job": "nightly", "agent": "kubernetes", "report": true,
                 "decoration_config": {"gcs_configuration": {"bucket": bucket, "path_strategy": "explicit"}}},
        "status": {"startTime": "2026-11-23T10:00:00Z", "state": "failure", "build_id": "42"},
    }))
    .unwrap();
    store.create(job).await.unwrap();

    let message = tokio::time::timeout(TIMEOUT, messages.recv())
        .await
        .expect("slack hears of the failure")
        .unwrap();
    assert_eq!(message.form["channel"], "ci-alerts");
    assert_eq!(message.form["token"], "xoxb-1");
    assert_eq!(
        message.form["text"],
        "Job nightly of type periodic ended with state failure. <|View logs>"
    );
    // Both reporters record the state they reported.
    let reported = tokio::time::timeout(TIMEOUT, async {
        loop {
            if let Ok(prow_jobs::store::WatchEvent::Modified(job)) = changes.recv().await {
                let states = &job.status.as_ref().unwrap().prev_report_states;
                if states.contains_key("slackreporter") && states.contains_key("gcsreporter") {
                    return job;
                }
            }
        }
    })
    .await
    .expect("both reporters record the state");
    assert_eq!(reported.name(), "nightly-1");
    let written = tmp.path().join("bucket/logs/nightly/42/prowjob.json");
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(text.contains("\"nightly-1\""), "{text}");
    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reconciler_in_the_process_runs_a_presubmit_added_while_it_was_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let status_path = tmp.path().join("status-reconciler.json");
    let mut options = options(tmp.path(), vec![Part::StatusReconciler]);
    let fake = github("member");
    fake.state().branches.insert(
        (support::ORG.into(), support::REPO.into(), "master".into()),
        "master-head".into(),
    );
    options.github = GitHubOptions::Client(fake.clone(), "ci-robot".to_owned());
    options.status_reconciler = prow_server::statusreconciler::Options::default()
        .with_status_path(Some(status_path.clone()));
    // An earlier run reconciled the configuration as it was...
    let before = support::hook_config(support::CONFIG, support::PLUGINS);
    let earlier = prow_server::statusreconciler::StatusReconciler::new(
        fake.clone(),
        Arc::new(SqliteStore::in_memory().unwrap()),
        "ci-robot",
        Arc::new(prow_jobs::clock::SystemClock),
        options.status_reconciler.clone(),
    );
    prow_jobs::controller::Controller::reconcile(
        &earlier,
        &before,
        prow_jobs::controller::Wake::Start,
    )
    .await
    .unwrap();
    assert!(status_path.exists());
    // ... and a required presubmit was added before this one started.
    let added = support::CONFIG.replace(
        "  Codertocat/Hello-World:\n  - name: unit\n",
        "  Codertocat/Hello-World:\n  - name: extra\n    always_run: true\n    spec: {containers: [{image: alpine}]}\n  - name: unit\n",
    );
    assert_ne!(added, support::CONFIG);
    std::fs::write(tmp.path().join("config.yaml"), added).unwrap();

    let process = Process::build(options).await.unwrap();
    let store = process.backend().store.clone();
    let mut changes = store.watch();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));
    let created = tokio::time::timeout(TIMEOUT, async {
        loop {
            if let Ok(prow_jobs::store::WatchEvent::Added(job)) = changes.recv().await {
                return job;
            }
        }
    })
    .await
    .expect("status-reconciler creates the added presubmit");
    assert_eq!(created.spec.job, "extra");
    let refs = created.spec.refs.as_ref().unwrap();
    assert_eq!(
        (refs.base_sha.as_str(), refs.pulls[0].number),
        ("master-head", 2)
    );
    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        support::job_names(store.as_ref()).await,
        ["extra"],
        "only the added job runs"
    );
}

/// A GitHub API on 127.0.0.1 for App 42 installed in `acme` only; answers the requests'
/// `METHOD path` in order.
async fn fake_app_api() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::routing::{get, post};
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = |seen: &Arc<std::sync::Mutex<Vec<String>>>, line: &str| {
        seen.lock().unwrap().push(line.to_owned());
    };
    let (a, b, c) = (seen.clone(), seen.clone(), seen.clone());
    let app = axum::Router::new()
        .route(
            "/app/installations",
            get(move || async move {
                log(&a, "GET /app/installations");
                axum::Json(serde_json::json!([{"id": 1, "account": {"login": "acme"}}]))
            }),
        )
        .route(
            "/app/installations/{id}/access_tokens",
            post(move |axum::extract::Path(id): axum::extract::Path<u64>| async move {
                log(&b, &format!("POST /app/installations/{id}/access_tokens"));
                (
                    axum::http::StatusCode::CREATED,
                    axum::Json(serde_json::json!({"token": "acme-token", "expires_at": "2999-01-01T00:00:00Z"})),
                )
            }),
        )
        .route(
            "/app",
            get(move || async move {
                log(&c, "GET /app");
                axum::Json(serde_json::json!({"slug": "prow-app"}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_app_acts_per_org_and_a_missing_installation_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let key =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../prow-github/tests/data/keys/test-app.pem");
    let (endpoint, seen) = fake_app_api().await;
    let app = |org: &str| GitHubOptions::App {
        endpoint: endpoint.clone(),
        app_id: 42,
        private_key_path: key.clone(),
        org: Some(org.to_owned()),
        bot: String::new(),
    };
    let mut options = options(tmp.path(), vec![Part::StatusReconciler]);
    options.listen = None;
    options.github = app("elsewhere");
    let err = Process::build(options.clone()).await.unwrap_err();
    assert_eq!(
        prow_jobs::controller::error_chain(&err),
        "act as the GitHub App: the github app 42 is not installed in organization elsewhere"
    );
    options.github = app("acme");
    Process::build(options).await.unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "GET /app/installations",
            "GET /app/installations",
            "POST /app/installations/1/access_tokens",
            "GET /app",
        ]
    );
}
