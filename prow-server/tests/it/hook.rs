//! hook end to end over HTTP: signed deliveries built on GitHub's own example payloads go
//! through the real server to the plugins, the fake GitHub and the job store.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use prow_github::events::Event;
use prow_plugins::{Action, Context, Plugin, PluginError, PluginHelp};
use prow_server::hook::{Options, PluginOutcome};
use serde_json::json;

use crate::support::{self, Server, comment, comments, github, job_names, labels, opened};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lgtm_and_hold_change_labels_and_answer_who_may_not() {
    let server = Server::start(github(support::ORG), Options::default()).await;
    assert_eq!(
        server
            .send("issue_comment", &comment("/lgtm", "reviewer", support::ORG))
            .await,
        (200, "Event received. Have a nice day.".to_owned())
    );
    server
        .send("issue_comment", &comment("/hold", "stranger", support::ORG))
        .await;
    server
        .send(
            "issue_comment",
            &comment("/lgtm", support::ORG, support::ORG),
        )
        .await;
    server
        .send(
            "issue_comment",
            &comment("looks fine\n/lgtm", "stranger", support::ORG),
        )
        .await;
    server.metrics.wait_processed(4).await;
    assert_eq!(labels(&server.github), ["do-not-merge/hold", "lgtm"]);
    let replies = comments(&server.github);
    assert_eq!(replies.len(), 2, "{replies:#?}");
    assert!(
        replies
            .iter()
            .any(|c| c.starts_with("@Codertocat: you cannot LGTM your own PR."))
    );
    assert!(replies.iter().any(|c| {
        c.starts_with("@stranger: changing LGTM is restricted to collaborators")
            && c.contains(">looks fine\n>/lgtm")
    }));
    let assignees = server.github.state().issues
        [&(support::ORG.to_owned(), support::REPO.to_owned(), 2)]
        .assignees
        .iter()
        .map(|u| u.login.clone())
        .collect::<Vec<_>>();
    assert_eq!(
        assignees,
        ["reviewer"],
        "the reviewer was assigned as Prow does"
    );

    server
        .send(
            "issue_comment",
            &comment("/hold cancel", "stranger", support::ORG),
        )
        .await;
    server
        .send(
            "issue_comment",
            &comment("/lgtm cancel", support::ORG, support::ORG),
        )
        .await;
    server.metrics.wait_processed(6).await;
    assert!(
        labels(&server.github).is_empty(),
        "{:?}",
        labels(&server.github)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_all_creates_the_right_prowjobs_and_untrusted_authors_get_needs_ok_to_test() {
    let server = Server::start(github("outsider"), Options::default()).await;
    server.send("pull_request", &opened("outsider")).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), ["needs-ok-to-test"]);
    let welcome = comments(&server.github);
    assert_eq!(welcome.len(), 1);
    assert!(welcome[0].starts_with("Hi @outsider. Thanks for your PR.\n\nI'm waiting for a [Codertocat](https://github.com/orgs/Codertocat/people) member"), "{}", welcome[0]);
    assert!(
        job_names(server.store.as_ref()).await.is_empty(),
        "no jobs for an untrusted PR"
    );

    // The author cannot start tests; a member can, and /ok-to-test trusts the PR.
    server
        .send(
            "issue_comment",
            &comment("/test all", "outsider", "outsider"),
        )
        .await;
    server.metrics.wait_processed(2).await;
    assert!(job_names(server.store.as_ref()).await.is_empty());
    assert!(comments(&server.github)[1].starts_with("@outsider: Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message."));

    server
        .send(
            "issue_comment",
            &comment("/ok-to-test", "member", "outsider"),
        )
        .await;
    server.metrics.wait_processed(3).await;
    assert_eq!(labels(&server.github), ["ok-to-test"]);
    assert_eq!(job_names(server.store.as_ref()).await, ["lint", "unit"]);

    server
        .send(
            "issue_comment",
            &comment("/test e2e", "outsider", "outsider"),
        )
        .await;
    server.metrics.wait_processed(4).await;
    assert_eq!(
        job_names(server.store.as_ref()).await,
        ["e2e", "lint", "unit"],
        "a trusted PR lets anyone /test"
    );
    let jobs = server.store.list(&Default::default()).await.unwrap();
    let e2e = jobs.iter().find(|j| j.spec.job == "e2e").unwrap();
    let refs = e2e.spec.refs.as_ref().unwrap();
    assert_eq!(
        (
            refs.org.as_str(),
            refs.repo.as_str(),
            refs.base_ref.as_str()
        ),
        ("Codertocat", "Hello-World", "master")
    );
    assert_eq!(refs.pulls[0].number, 2);
    assert_eq!(refs.pulls[0].sha, support::HEAD);
    let labels = e2e.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["prow.k8s.io/refs.pull"], "2");
    assert_eq!(labels["prow.k8s.io/type"], "presubmit");
    assert!(labels.contains_key("event-GUID"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_authors_new_pull_request_runs_every_automatic_presubmit() {
    let server = Server::start(github("member"), Options::default()).await;
    server.send("pull_request", &opened("member")).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(job_names(server.store.as_ref()).await, ["lint", "unit"]);
    assert!(labels(&server.github).is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn deliveries_are_checked_in_prows_order_with_prows_answers() {
    let server = Server::start(github("member"), Options::default()).await;
    let client = reqwest::Client::new();
    let body = serde_json::to_vec(&comment("/lgtm", "reviewer", "member")).unwrap();
    let post = |event: Option<&str>, signature: Option<String>| {
        let mut request = client
            .post(&server.url)
            .header("content-type", "application/json")
            .header("X-GitHub-Delivery", "d-1");
        if let Some(event) = event {
            request = request.header("X-GitHub-Event", event);
        }
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        request.body(body.clone()).send()
    };
    let answer =
        |r: reqwest::Response| async move { (r.status().as_u16(), r.text().await.unwrap()) };
    assert_eq!(
        answer(
            post(None, Some(prow_github::sign(&body, support::SECRET)))
                .await
                .unwrap()
        )
        .await,
        (
            400,
            "400 Bad Request: Missing X-GitHub-Event Header".to_owned()
        )
    );
    assert_eq!(
        answer(post(Some("issue_comment"), None).await.unwrap()).await,
        (403, "403 Forbidden: Missing X-Hub-Signature-256".to_owned())
    );
    let (status, text) = answer(
        post(
            Some("issue_comment"),
            Some(prow_github::sign(&body, b"wrong")),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        text.starts_with("403 Forbidden: Invalid X-Hub-Signature-256"),
        "{text}"
    );
    let get = client.get(&server.url).send().await.unwrap();
    assert_eq!(get.status().as_u16(), 405);
    assert_eq!(server.metrics.snapshot().accepted, 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_event_is_processed_once() {
    let server = Server::start(github("member"), Options::default()).await;
    let body = serde_json::to_vec(&comment("/test e2e", "member", "member")).unwrap();
    for _ in 0..3 {
        let reply = reqwest::Client::new()
            .post(&server.url)
            .header("X-GitHub-Event", "issue_comment")
            .header("X-GitHub-Delivery", "same-delivery")
            .header(
                "X-Hub-Signature-256",
                prow_github::sign(&body, support::SECRET),
            )
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 200);
    }
    server.shutdown_after(1).await;
}

impl Server {
    async fn shutdown_after(self, processed: u64) {
        self.metrics.wait_processed(processed).await;
        let store = self.store.clone();
        let metrics = self.metrics.clone();
        self.shutdown().await;
        assert_eq!(job_names(store.as_ref()).await, ["e2e"]);
        let snapshot = metrics.snapshot();
        assert_eq!(
            (snapshot.accepted, snapshot.duplicates, snapshot.processed),
            (1, 2, 1)
        );
    }
}

/// A plugin that panics on `/panic` and counts what it saw otherwise.
struct Panicky(Arc<std::sync::atomic::AtomicU64>);

#[async_trait]
impl Plugin for Panicky {
    fn name(&self) -> &'static str {
        "hold"
    }
    fn help(&self, _: &prow_config::plugins::PluginConfig) -> PluginHelp {
        PluginHelp::new("panics on demand", &["issue_comment"])
    }
    async fn handle(&self, _: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        if let Some(gc) = event.generic_comment() {
            assert!(!gc.body.contains("/panic"), "asked to panic");
        }
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Vec::new())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_plugin_is_contained_and_counted() {
    let seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut plugins: BTreeMap<&'static str, Arc<dyn Plugin>> = prow_plugins::builtin();
    plugins.insert("hold", Arc::new(Panicky(seen.clone())));
    let github = github("member");
    let store: Arc<dyn prow_jobs::store::JobStore> =
        Arc::new(prow_jobs::store::SqliteStore::in_memory().unwrap());
    let deps = prow_server::hook::Deps::new(
        github.clone(),
        store,
        "ci-robot",
        prow_github::HmacSecrets::parse(support::SECRET),
        support::hook_config(support::CONFIG, support::PLUGINS),
    );
    let hook = prow_server::hook::Hook::start_with_plugins(Options::default(), deps, plugins);
    let metrics = hook.metrics();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let router = hook.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    for body in ["/panic", "/lgtm", "/panic"] {
        let payload = serde_json::to_vec(&comment(body, "reviewer", "member")).unwrap();
        let reply = prow_github::phony::deliver(
            &reqwest::Client::new(),
            &url,
            "issue_comment",
            &payload,
            support::SECRET,
        )
        .await
        .unwrap();
        assert_eq!(reply.status, 200);
    }
    metrics.wait_processed(3).await;
    let snapshot = metrics.snapshot();
    assert_eq!(
        snapshot
            .plugins
            .get(&("hold".to_owned(), PluginOutcome::Panic)),
        Some(&2)
    );
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(labels(&github), ["lgtm"], "the other plugins still ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_queue_gets_503s_and_every_accepted_event_is_processed_once() {
    let mut options = Options::default();
    options.queue_capacity = 4;
    options.workers = 1;
    options.queue_wait = std::time::Duration::ZERO;
    burst_of_20(options).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_queues_byte_budget_gets_503s_too() {
    let mut options = Options::default();
    options.queue_capacity = 1000;
    options.workers = 1;
    // Room for about four of the burst's deliveries.
    let one = serde_json::to_vec(&comment("just a comment 10", "reviewer", "member"))
        .unwrap()
        .len();
    options.queue_bytes = 4 * one + one / 2;
    options.queue_wait = std::time::Duration::ZERO;
    burst_of_20(options).await;
}

/// With a wait allowed, deliveries beyond a full queue wait for room instead of being refused:
/// five sent at once to a queue of two behind one held worker (one processing, two queued, two
/// waiting: as many may wait as the queue holds) are all answered 200 once the worker is
/// released, and all processed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_queue_waits_for_room_when_a_wait_is_allowed() {
    let mut options = Options::default();
    options.queue_capacity = 2;
    options.workers = 1;
    // Long enough never to run out in this test: the deliveries wait for the release.
    options.queue_wait = std::time::Duration::from_secs(60);
    let (server, release, received) = behind_a_held_external_plugin(options).await;
    let send = |i: usize| {
        let url = server.url.clone();
        async move {
            let body = format!("waiting {i}");
            signed_comment(&url, &body, &format!("wait-{i}"))
                .await
                .status()
                .as_u16()
        }
    };
    // The first delivery goes alone, so that the worker holds it before the others come.
    let mut statuses = vec![send(0).await];
    while received.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let sends: Vec<_> = (1..5).map(|i| tokio::spawn(send(i))).collect();
    // The worker holds one delivery, two are queued and two wait for room; only then is the
    // worker let go.
    let mut waiting = server.metrics.subscribe_waiting();
    let _ = waiting.wait_for(|n| *n >= 2).await;
    assert_eq!(server.metrics.snapshot().overloaded, 0);
    let _ = release.send(true);
    for send in sends {
        statuses.push(send.await.unwrap());
    }
    assert_eq!(statuses, [200; 5], "every delivery waited and was taken");
    server.metrics.wait_processed(5).await;
    let snapshot = server.metrics.snapshot();
    assert_eq!((snapshot.accepted, snapshot.overloaded), (5, 0));
    assert!(snapshot.waited >= 2, "{snapshot:?}");
    assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 5);
    assert_eq!(*server.metrics.subscribe_waiting().borrow(), 0);
    server.shutdown().await;
}

/// `body` commented by a member, delivered to `url` signed, as delivery `delivery`.
async fn signed_comment(url: &str, body: &str, delivery: &str) -> reqwest::Response {
    let payload = serde_json::to_vec(&comment(body, "reviewer", "member")).unwrap();
    reqwest::Client::new()
        .post(url)
        .header("X-GitHub-Event", "issue_comment")
        .header("X-GitHub-Delivery", delivery)
        .header(
            "X-Hub-Signature-256",
            prow_github::sign(&payload, support::SECRET),
        )
        .header("content-type", "application/json")
        .body(payload)
        .send()
        .await
        .unwrap()
}

/// hook with `options`, forwarding every delivery to [`held_external_plugin`]: the server, the
/// release and how many deliveries the plugin received.
async fn behind_a_held_external_plugin(
    options: Options,
) -> (
    Server,
    tokio::sync::watch::Sender<bool>,
    Arc<std::sync::atomic::AtomicU64>,
) {
    let (endpoint, release, received) = held_external_plugin().await;
    let plugins = format!(
        "{}\nexternal_plugins:\n  Codertocat/Hello-World:\n  - name: slow\n    endpoint: {endpoint}\n",
        support::PLUGINS
    );
    let server = Server::start_with(
        github("member"),
        options,
        support::hook_config(support::CONFIG, &plugins),
    )
    .await;
    (server, release, received)
}

/// An external plugin that holds each delivery until released: its address, the release and
/// how many deliveries it received.
async fn held_external_plugin() -> (
    String,
    tokio::sync::watch::Sender<bool>,
    Arc<std::sync::atomic::AtomicU64>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/", listener.local_addr().unwrap());
    let (release, released) = tokio::sync::watch::channel(false);
    let received = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let external = {
        let received = received.clone();
        axum::Router::new().route(
            "/",
            axum::routing::post(move || {
                let mut released = released.clone();
                let received = received.clone();
                async move {
                    received.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ = released.wait_for(|r| *r).await;
                    "ok"
                }
            }),
        )
    };
    tokio::spawn(async move { axum::serve(listener, external).await.unwrap() });
    (endpoint, release, received)
}

/// Twenty deliveries while the one worker is held by a slow external plugin: most are refused
/// with 503 and `Retry-After`, and once released every accepted one is processed exactly once.
async fn burst_of_20(options: Options) {
    // An external plugin that holds each delivery until released keeps the one worker busy.
    let (server, release, received) = behind_a_held_external_plugin(options).await;
    let mut statuses = Vec::new();
    for i in 0..20 {
        let reply = signed_comment(
            &server.url,
            &format!("just a comment {i}"),
            &format!("burst-{i}"),
        )
        .await;
        let status = reply.status().as_u16();
        if status == 503 {
            assert_eq!(
                reply.headers()["retry-after"],
                "5",
                "a refusal says when to come back"
            );
        }
        statuses.push(status);
    }
    let accepted = statuses.iter().filter(|s| **s == 200).count() as u64;
    let refused = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(accepted as usize + refused, 20, "{statuses:?}");
    assert!(
        refused >= 10,
        "a queue with room for 4 and one busy worker refuse most of 20: {statuses:?}"
    );
    assert!(accepted >= 4, "{statuses:?}");
    let _ = release.send(true);
    server.metrics.wait_processed(accepted).await;
    let snapshot = server.metrics.snapshot();
    assert_eq!(snapshot.overloaded as usize, refused);
    assert_eq!(snapshot.processed, accepted);
    assert_eq!(
        received.load(std::sync::atomic::Ordering::SeqCst),
        accepted,
        "each accepted event reached the external plugin once"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
async fn every_corpus_webhook_is_accepted_or_refused_cleanly() {
    let corpus = support::corpus();
    let mut options = Options::default();
    options.queue_capacity = 10_000;
    let server = Server::start(github("member"), options).await;
    let mut sent = 0;
    for dir in std::fs::read_dir(corpus.join("webhooks"))
        .unwrap()
        .flatten()
    {
        let event = dir.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let payload: serde_json::Value =
                serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
            let (status, body) = server.send(&event, &payload).await;
            assert!(
                status == 200 || status == 400,
                "{}: {status} {body}",
                file.path().display()
            );
            sent += u64::from(status == 200);
        }
    }
    server.metrics.wait_processed(sent).await;
    let snapshot = server.metrics.snapshot();
    assert!(sent > 50, "{sent}");
    assert!(
        snapshot
            .plugins
            .keys()
            .all(|(_, outcome)| *outcome != PluginOutcome::Panic),
        "{snapshot:?}"
    );
    let _ = json!({});
    server.shutdown().await;
}

#[tokio::test]
async fn plugin_help_lists_every_plugin_and_where_it_is_enabled_as_deck_does() {
    let server = Server::start(github(support::ORG), Options::default()).await;
    let url = server.url.replace("/hook", "/plugin-help");
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let served: serde_json::Value = serde_json::from_str(&text).unwrap();
    let config = support::hook_config(support::CONFIG, support::PLUGINS);
    let builtin = prow_plugins::builtin();
    assert_eq!(
        served,
        prow_plugins::help_document(
            &builtin,
            &config.plugins,
            &reqwest::Client::new(),
            prow_plugins::EXTERNAL_HELP_DEADLINE
        )
        .await
    );
    let help = served["PluginHelp"].as_object().unwrap();
    assert_eq!(help.len(), builtin.len());
    assert!(
        help["lgtm"]["Description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{help:?}"
    );
    let enabled = served["RepoPlugins"].as_object().unwrap();
    assert!(!enabled.is_empty());
    // Every plugin under Prow's empty key, and each configured org or repository.
    assert_eq!(enabled[""].as_array().unwrap().len(), builtin.len());
    assert_eq!(
        served["AllRepos"].as_array().unwrap().len(),
        enabled.len() - 1
    );
    server.shutdown().await;
}

/// Every plugin the real deployments' plugins.yaml enable is one this hook has: none is
/// skipped. kyma's `transfer-issue` is the exception upstream makes too (it folded the plugin
/// into issue-management; checkconfig refuses the name). External plugins are services of
/// their own that hook forwards to; the upstream ones are also built in (see
/// `plugin_help_js_lists_every_upstream_plugin_and_asks_the_external_ones`).
#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn the_corpus_plugins_yaml_enable_only_plugins_hook_has() {
    let root = support::corpus();
    let builtin = prow_plugins::builtin();
    for (file, expected) in [
        ("k8s-test-infra/config/prow/plugins.yaml", vec![]),
        ("knative-infra/prow/plugins.yaml", vec![]),
        ("jetstack-testing/config/plugins.yaml", vec![]),
        (
            "prow-testdata/test/integration/config/prow/plugins.yaml",
            vec![],
        ),
        (
            "kyma-project-test-infra/prow/plugins.yaml",
            vec!["transfer-issue", "transfer-issue"],
        ),
    ] {
        let mut options = prow_config::plugins::PluginLoadOptions::new(root.join(file));
        // As hook loads it: unknown names are hook's to skip, not the loader's to refuse.
        options.check_unknown_plugins = false;
        let (config, _) =
            prow_config::plugins::load_plugins(&options).unwrap_or_else(|e| panic!("{file}: {e}"));
        let enabled: usize = config.plugins.values().map(|e| e.plugins.len()).sum();
        assert!(enabled > 0, "{file} enables nothing");
        let skipped: Vec<String> = prow_server::hook::unregistered_plugins(&config, &builtin)
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        assert_eq!(skipped, expected, "{file}");
    }
}

/// A store that records the size of each batch and counts single creates.
struct Batches {
    inner: prow_jobs::store::SqliteStore,
    batches: std::sync::Mutex<Vec<usize>>,
    creates: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl prow_jobs::store::JobStore for Batches {
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }
    async fn create(
        &self,
        job: prow_core::ProwJob,
    ) -> Result<prow_core::ProwJob, prow_jobs::store::StoreError> {
        self.creates
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.create(job).await
    }
    async fn get(
        &self,
        name: &str,
    ) -> Result<Option<prow_core::ProwJob>, prow_jobs::store::StoreError> {
        self.inner.get(name).await
    }
    async fn list(
        &self,
        params: &prow_jobs::store::ListParams,
    ) -> Result<Vec<prow_core::ProwJob>, prow_jobs::store::StoreError> {
        self.inner.list(params).await
    }
    async fn update(
        &self,
        job: prow_core::ProwJob,
    ) -> Result<prow_core::ProwJob, prow_jobs::store::StoreError> {
        self.inner.update(job).await
    }
    async fn delete(
        &self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<prow_core::ProwJob, prow_jobs::store::StoreError> {
        self.inner.delete(name, resource_version).await
    }
    async fn write_all(
        &self,
        writes: Vec<prow_jobs::store::Write>,
    ) -> Vec<Result<prow_core::ProwJob, prow_jobs::store::StoreError>> {
        self.batches.lock().unwrap().push(writes.len());
        self.inner.write_all(writes).await
    }
    fn watch(&self) -> tokio::sync::broadcast::Receiver<prow_jobs::store::WatchEvent> {
        self.inner.watch()
    }
    async fn ready(&self) -> Result<(), prow_jobs::store::StoreError> {
        self.inner.ready().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_trigger_starts_for_one_event_are_stored_in_one_batch() {
    let store = Arc::new(Batches {
        inner: prow_jobs::store::SqliteStore::in_memory().unwrap(),
        batches: Default::default(),
        creates: Default::default(),
    });
    let deps = prow_server::hook::Deps::new(
        github("member"),
        store.clone(),
        "ci-robot",
        prow_github::HmacSecrets::parse(support::SECRET),
        support::hook_config(support::CONFIG, support::PLUGINS),
    );
    let hook = prow_server::hook::Hook::start(Options::default(), deps);
    let metrics = hook.metrics();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let router = hook.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let payload = serde_json::to_vec(&opened("member")).unwrap();
    let reply = prow_github::phony::deliver(
        &reqwest::Client::new(),
        &url,
        "pull_request",
        &payload,
        support::SECRET,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 200);
    metrics.wait_processed(1).await;
    assert_eq!(job_names(&store.inner).await, ["lint", "unit"]);
    assert_eq!(*store.batches.lock().unwrap(), [2]);
    assert_eq!(store.creates.load(std::sync::atomic::Ordering::SeqCst), 0);
}
