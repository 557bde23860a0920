//! deck over real HTTP on 127.0.0.1: the JSON API, the pages, logs and artifacts, and reruns
//! and aborts with and without authorisation, over a SQLite store seeded with jobs.

use std::path::PathBuf;
use std::sync::Arc;

use prow_core::ProwJob;
use prow_github::fake::FakeGitHub;
use prow_jobs::store::{JobStore, SqliteStore};
use prow_server::deck::{Deck, artifacts, auth};
use serde_json::{Value, json};

use crate::support;

/// deck's configuration for these tests: who may rerun, a hidden repo, and the jobs
/// `mode=latest` looks up.
const CONFIG: &str = r#"
prowjob_namespace: default
deck:
  hidden_repos: [acme/private]
  rerun_auth_configs:
    acme/widgets:
      github_users: [alice]
      github_orgs: [acme-org]
      github_team_slugs: [{org: acme-org, slug: admins}]
presubmits:
  acme/widgets:
  - name: pull-unit
    always_run: true
    spec: {containers: [{image: golang, command: [make, test-latest]}]}
periodics:
- name: ci-nightly
  interval: 24h
  spec: {containers: [{image: alpine, command: ["true"]}]}
"#;

const PLUGINS: &str = r#"
plugins:
  acme/widgets:
    plugins: [trigger, lgtm, hold]
  acme:
    plugins: [cat]
"#;

fn decorated() -> Value {
    json!({"gcs_configuration": {"bucket": "local", "path_strategy": "explicit"}})
}

fn pod_spec(command: &str) -> Value {
    json!({"containers": [{"image": "golang", "command": ["sh", "-c", command]}]})
}

fn pull(number: u64, author: &str) -> Value {
    json!({"org": "acme", "repo": "widgets", "base_ref": "main", "base_sha": "b0b0b0b",
           "pulls": [{"number": number, "author": author, "sha": format!("5ha{number}")}]})
}

/// The seeded jobs: name, spec, status.
fn seeds() -> Vec<(&'static str, Value, Value)> {
    let status = |state: &str, start: &str, build: &str| json!({"state": state, "startTime": start, "build_id": build});
    vec![
        (
            "pull-unit-1",
            json!({"type": "presubmit", "job": "pull-unit", "refs": pull(7, "alice"),
                   "decoration_config": decorated(), "pod_spec": pod_spec("make test"),
                   "report": true, "context": "pull-unit"}),
            status("success", "2026-01-01T10:00:00Z", "100"),
        ),
        (
            "pull-unit-2",
            json!({"type": "presubmit", "job": "pull-unit", "refs": pull(8, "bob"),
                   "decoration_config": decorated(), "pod_spec": pod_spec("make test")}),
            status("failure", "2026-01-01T11:00:00Z", "101"),
        ),
        (
            "pull-lint-1",
            json!({"type": "presubmit", "job": "pull-lint", "refs": pull(7, "alice"),
                   "pod_spec": pod_spec("make lint")}),
            status("pending", "2026-01-01T10:30:00Z", "102"),
        ),
        (
            "post-build-1",
            json!({"type": "postsubmit", "job": "post-build",
                   "refs": {"org": "acme", "repo": "widgets", "base_ref": "main", "base_sha": "c0ffee"},
                   "pod_spec": pod_spec("make")}),
            status("success", "2026-01-01T09:00:00Z", "103"),
        ),
        (
            "ci-nightly-1",
            json!({"type": "periodic", "job": "ci-nightly", "pod_spec": pod_spec("true"),
                   "rerun_auth_config": {"allow_anyone": true}}),
            status("failure", "2026-01-01T08:00:00Z", "104"),
        ),
        (
            "secret-1",
            json!({"type": "periodic", "job": "secret-job", "hidden": true}),
            status("success", "2026-01-01T07:00:00Z", "105"),
        ),
        (
            "private-1",
            json!({"type": "presubmit", "job": "pull-private",
                   "refs": {"org": "acme", "repo": "private", "base_ref": "main",
                            "pulls": [{"number": 1, "author": "alice", "sha": "abc"}]}}),
            status("success", "2026-01-01T07:30:00Z", "106"),
        ),
    ]
}

pub(crate) struct DeckServer {
    pub(crate) url: String,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) github: Arc<FakeGitHub>,
    pub(crate) dir: tempfile::TempDir,
    http: reqwest::Client,
}

/// The body of a GET of `url`, as text.
async fn get_text(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// Serves `deck` on a free port of 127.0.0.1; answers its address.
async fn serve(deck: Deck) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, deck.router()).await });
    url
}

impl DeckServer {
    /// deck behind a trusted proxy that sets [`auth::DEFAULT_USER_HEADER`].
    async fn start() -> DeckServer {
        DeckServer::start_with(Some(auth::DEFAULT_USER_HEADER)).await
    }

    /// deck trusting the user header `header`, or none.
    async fn start_with(header: Option<&str>) -> DeckServer {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        for (name, spec, status) in seeds() {
            let job: ProwJob = serde_json::from_value(json!({
                "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
                "metadata": {"name": name, "labels": {"created-by-prow": "true"},
                             "annotations": {"prow.k8s.io/job": spec["job"]}},
                "spec": spec, "status": status,
            }))
            .unwrap();
            store.create(job).await.unwrap();
        }
        let github = Arc::new(FakeGitHub::new("ci-robot"));
        {
            let mut state = github.state();
            state
                .org_members
                .entry("acme-org".to_owned())
                .or_default()
                .insert("carol".to_owned());
            state
                .team_members
                .entry(("acme-org".to_owned(), "admins".to_owned()))
                .or_default()
                .insert("dave".to_owned());
        }
        let deck = Deck::new(store.clone(), support::hook_config(CONFIG, PLUGINS))
            .artifacts_dir(dir.path().join("artifacts"))
            .pods_dir(dir.path().join("pods"))
            .github(github.clone())
            .trusted_proxy_header(header.map(str::to_owned));
        let url = serve(deck).await;
        let server = DeckServer {
            url,
            store,
            github,
            dir,
            http: reqwest::Client::new(),
        };
        server.write_results().await;
        server
    }

    /// pull-unit-1's uploaded log and artifacts, pull-lint-1's pod log.
    async fn write_results(&self) {
        let job = self.store.get("pull-unit-1").await.unwrap().unwrap();
        let path = artifacts::job_path(&job).unwrap();
        let root = self.artifacts().join(path);
        std::fs::create_dir_all(root.join("artifacts")).unwrap();
        let mut log = String::new();
        for i in 1..=20 {
            log.push_str(&format!("step {i} ok\n"));
        }
        log.push_str("--- FAIL: TestSubtests (0.00s)\n");
        for i in 21..=40 {
            log.push_str(&format!("step {i} ok\n"));
        }
        std::fs::write(root.join("build-log.txt"), log).unwrap();
        std::fs::copy(
            support::data("deck/junit_go-subtests.xml"),
            root.join("artifacts/junit_go-subtests.xml"),
        )
        .unwrap();
        std::fs::write(root.join("artifacts/notes.txt"), "<b>not markup</b>").unwrap();
        let pod = self.dir.path().join("pods/pull-lint-1");
        std::fs::create_dir_all(&pod).unwrap();
        std::fs::write(pod.join("build-log.txt"), "linting...\nstill running\n").unwrap();
    }

    fn artifacts(&self) -> PathBuf {
        self.dir.path().join("artifacts")
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let mut request = self.http.post(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn job_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .store
            .list(&Default::default())
            .await
            .unwrap()
            .into_iter()
            .map(|j| j.name().to_owned())
            .collect();
        names.sort();
        names
    }
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The store's own fields (uid, times, versions) replaced so snapshots are stable.
fn redact(mut value: Value) -> Value {
    if let Some(items) = value["items"].as_array_mut() {
        for item in items {
            let metadata = &mut item["metadata"];
            for key in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
                if metadata.get(key).is_some() {
                    metadata[key] = json!("[redacted]");
                }
            }
        }
    }
    value
}

#[tokio::test]
async fn prowjobs_js_serves_prows_shape_without_hidden_jobs_and_honours_omit() {
    let deck = DeckServer::start().await;
    let all = deck.get_json("/prowjobs.js").await;
    let mut listed = names(&all);
    listed.sort();
    assert_eq!(
        listed,
        [
            "ci-nightly-1",
            "post-build-1",
            "pull-lint-1",
            "pull-unit-1",
            "pull-unit-2"
        ]
    );
    let full = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["metadata"]["name"] == "pull-unit-1")
        .unwrap();
    assert_eq!(full["metadata"]["labels"]["created-by-prow"], "true");
    assert_eq!(full["spec"]["pod_spec"]["containers"][0]["image"], "golang");
    assert!(full["spec"]["decoration_config"].is_object());

    let omitted = deck
        .get_json("/prowjobs.js?omit=annotations,labels,decoration_config,pod_spec&repo=widgets&owner=alice")
        .await;
    insta::assert_json_snapshot!("prowjobs_js_omit", redact(omitted));
}

#[tokio::test]
async fn prowjobs_js_filters_by_org_repo_and_owner_as_prow() {
    let deck = DeckServer::start().await;
    let check = |query: &'static str, expected: &'static [&'static str]| {
        let deck = &deck;
        async move {
            let mut got = names(&deck.get_json(&format!("/prowjobs.js?{query}")).await);
            got.sort();
            assert_eq!(got, expected, "/prowjobs.js?{query}");
        }
    };
    check(
        "org=acme",
        &["post-build-1", "pull-lint-1", "pull-unit-1", "pull-unit-2"],
    )
    .await;
    check("org=other", &[]).await;
    check("repo=widgets&owner=bob", &["pull-unit-2"]).await;
    check("owner=alice", &["pull-lint-1", "pull-unit-1"]).await;
    // Prow's owner match is exact.
    check("owner=Alice", &[]).await;
}

#[tokio::test]
async fn job_list_filters_like_decks_query_parameters() {
    let deck = DeckServer::start().await;
    let cases: &[(&str, &[&str])] = &[
        // Newest first.
        (
            "",
            &[
                "pull-unit-2",
                "pull-lint-1",
                "pull-unit-1",
                "post-build-1",
                "ci-nightly-1",
            ],
        ),
        (
            "repo=acme/widgets",
            &["pull-unit-2", "pull-lint-1", "pull-unit-1", "post-build-1"],
        ),
        ("repo=acme/private", &[]),
        ("job=pull-unit", &["pull-unit-2", "pull-unit-1"]),
        ("job=pull-*", &["pull-unit-2", "pull-lint-1", "pull-unit-1"]),
        ("type=periodic", &["ci-nightly-1"]),
        ("type=postsubmit", &["post-build-1"]),
        ("state=failure", &["pull-unit-2", "ci-nightly-1"]),
        ("state=pending", &["pull-lint-1"]),
        ("author=ALICE", &["pull-lint-1", "pull-unit-1"]),
        ("pull=8", &["pull-unit-2"]),
        ("pull=x", &[]),
        (
            "job=pull-*&state=success&author=alice&pull=7",
            &["pull-unit-1"],
        ),
        (
            "type=&state=",
            &[
                "pull-unit-2",
                "pull-lint-1",
                "pull-unit-1",
                "post-build-1",
                "ci-nightly-1",
            ],
        ),
    ];
    for (query, expected) in cases {
        let list = deck.get_json(&format!("/deck/jobs.json?{query}")).await;
        assert_eq!(names(&list), *expected, "/deck/jobs.json?{query}");
    }
    let list = deck.get_json("/deck/jobs.json").await;
    assert_eq!(list["repos"], json!(["acme/widgets"]));
    assert_eq!(
        list["jobs"],
        json!(["ci-nightly", "post-build", "pull-lint", "pull-unit"])
    );
}

#[tokio::test]
async fn badge_shows_the_latest_run_of_each_matching_job() {
    let deck = DeckServer::start().await;
    let (status, failing) = deck.get("/badge.svg?jobs=pull-*").await;
    assert_eq!(status, 200);
    insta::assert_snapshot!("badge_failing", failing);
    let (_, passing) = deck.get("/badge.svg?jobs=post-*,pull-lint").await;
    assert!(passing.contains(">passing<"), "{passing}");
    assert!(passing.contains("#4c1"), "{passing}");
    let (_, none) = deck.get("/badge.svg?jobs=nothing-*").await;
    insta::assert_snapshot!("badge_no_results", none);
    // Hidden jobs count for nothing.
    let (_, hidden) = deck.get("/badge.svg?jobs=secret-job").await;
    assert!(hidden.contains("no results"), "{hidden}");
    assert_eq!(
        deck.get("/badge.svg").await,
        (400, "missing jobs query parameter".to_owned())
    );
}

#[tokio::test]
async fn log_serves_the_uploaded_log_or_the_pods_own() {
    let deck = DeckServer::start().await;
    let (status, log) = deck.get("/log?job=pull-unit&id=100").await;
    assert_eq!(status, 200);
    assert!(log.starts_with("step 1 ok\n"), "{log}");
    assert!(log.contains("--- FAIL: TestSubtests"), "{log}");
    let (status, log) = deck.get("/log?prowjob=pull-lint-1").await;
    assert_eq!((status, log.as_str()), (200, "linting...\nstill running\n"));
    let (status, body) = deck.get("/log?job=pull-unit&id=999").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = deck.get("/log?prowjob=post-build-1").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no build log yet"), "{body}");
    // Hidden jobs' logs are not served.
    let (status, _) = deck.get("/log?prowjob=secret-1").await;
    assert_eq!(status, 404);
    let (status, _) = deck.get("/log").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn artifacts_are_served_as_text_and_never_outside_the_artifacts_dir() {
    let deck = DeckServer::start().await;
    let job = deck.store.get("pull-unit-1").await.unwrap().unwrap();
    let path = artifacts::job_path(&job).unwrap();
    assert_eq!(path, "pr-logs/pull/acme_widgets/7/pull-unit/100");
    let response = reqwest::get(format!("{}/artifacts/{path}/artifacts/notes.txt", deck.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.text().await.unwrap(), "<b>not markup</b>");

    // A secret next to the artifacts directory, and a link inside it pointing there.
    std::fs::write(deck.dir.path().join("secret.txt"), "s3cret").unwrap();
    std::os::unix::fs::symlink(
        deck.dir.path().join("secret.txt"),
        deck.artifacts().join("link.txt"),
    )
    .unwrap();
    for raw in [
        "/artifacts/../secret.txt",
        "/artifacts/%2e%2e/secret.txt",
        "/artifacts/pr-logs/../../secret.txt",
        "/artifacts/pr-logs/%2E%2E/%2E%2E/secret.txt",
        "/artifacts//etc/passwd",
        "/artifacts/link.txt",
    ] {
        let (status, body) = raw_get(&deck.url, raw).await;
        assert!(
            status == 400 || status == 404,
            "{raw} answered {status}: {body}"
        );
        assert!(!body.contains("s3cret"), "{raw} leaked: {body}");
        assert!(!body.contains("root:"), "{raw} leaked: {body}");
    }
    let (status, body) = raw_get(&deck.url, "/artifacts/link.txt").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("leads outside the artifacts directory"),
        "{body}"
    );
    let (status, body) = raw_get(&deck.url, "/artifacts/%2e%2e/secret.txt").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("is not a plain relative path"), "{body}");
    let (status, _) = deck.get("/artifacts/missing.txt").await;
    assert_eq!(status, 404);
}

/// A GET with the path sent exactly as written (HTTP clients normalise `..` away).
async fn raw_get(url: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

#[tokio::test]
async fn job_page_data_has_the_lenses_and_the_artifacts() {
    let deck = DeckServer::start().await;
    let detail = deck.get_json("/deck/job.json?prowjob=pull-unit-1").await;
    assert_eq!(detail["state"], "success");
    assert_eq!(detail["log_url"], "/log?prowjob=pull-unit-1");
    let artifacts: Vec<&str> = detail["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        artifacts,
        [
            "artifacts/junit_go-subtests.xml",
            "artifacts/notes.txt",
            "build-log.txt"
        ]
    );
    let junit = &detail["junit"][0];
    assert_eq!(junit["name"], "artifacts/junit_go-subtests.xml");
    assert_eq!(
        (
            &junit["results"]["failed"],
            &junit["results"]["skipped"],
            &junit["results"]["passed"]
        ),
        (&json!(4), &json!(1), &json!(6))
    );
    // The build-log lens: 41 lines, the FAIL line with five neighbours each side shown.
    let groups = detail["build_log"].as_array().unwrap();
    let shape: Vec<(bool, usize, usize)> = groups
        .iter()
        .map(|g| {
            let lines = g["lines"].as_array().unwrap();
            (
                g["skip"].as_bool().unwrap(),
                lines[0]["number"].as_u64().unwrap() as usize,
                lines.len(),
            )
        })
        .collect();
    assert_eq!(shape, [(true, 1, 15), (false, 16, 11), (true, 27, 15)]);
    assert_eq!(groups[1]["lines"][5]["highlighted"], true);
    assert_eq!(
        groups[1]["lines"][5]["text"],
        "--- FAIL: TestSubtests (0.00s)"
    );
    let yaml: Value = serde_yaml::from_str(detail["rerun_yaml"].as_str().unwrap()).unwrap();
    assert_eq!(yaml["spec"]["job"], "pull-unit");
    assert_eq!(yaml["status"]["state"], "triggered");

    let (status, _) = deck.get("/deck/job.json?prowjob=secret-1").await;
    assert_eq!(status, 404);
    let (status, _) = deck.get("/deck/job.json").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn pages_and_static_files_are_served() {
    let deck = DeckServer::start().await;
    for (path, page) in [
        ("/", "index"),
        ("/job?prowjob=pull-unit-1", "job"),
        ("/pr?org=acme&repo=widgets&pr=7", "pr"),
        ("/tide", "tide"),
        ("/command-help", "help"),
    ] {
        let (status, html) = deck.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains(&format!("data-page=\"{page}\"")),
            "{path}: {html}"
        );
        assert!(html.contains("/static/deck.js"), "{path}");
    }
    let response = reqwest::get(format!("{}/static/deck.js", deck.url))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/javascript");
    assert!(response.text().await.unwrap().contains("function jobPage"));
    let (status, css) = deck.get("/static/deck.css").await;
    assert_eq!(status, 200);
    assert!(css.contains(".state-success"));
}

#[tokio::test]
async fn plugin_help_js_lists_plugins_and_where_they_are_enabled() {
    let deck = DeckServer::start().await;
    let help = deck.get_json("/plugin-help.js").await;
    let plugins: Vec<&String> = help["PluginHelp"].as_object().unwrap().keys().collect();
    assert!(plugins.iter().any(|p| *p == "trigger"), "{plugins:?}");
    for name in ["project", "project-manager"] {
        assert!(plugins.iter().any(|p| *p == name), "{name}: {plugins:?}");
    }
    assert!(
        help["PluginHelp"]["hold"]["Commands"][0]["Examples"]
            .as_array()
            .unwrap()
            .contains(&json!("/hold")),
        "{}",
        help["PluginHelp"]["hold"]
    );
    insta::assert_json_snapshot!(
        "plugin_help_repos",
        json!({
            "AllRepos": help["AllRepos"],
            "RepoPlugins": help["RepoPlugins"],
            "RepoExternalPlugins": help["RepoExternalPlugins"],
        })
    );
}

/// Upstream's registered plugin names (kubernetes-sigs/prow `pkg/plugins/*`, with
/// reward-owners, which upstream's hook does not import) and its external plugins
/// (`cmd/external-plugins`).
const UPSTREAM_PLUGINS: [&str; 53] = [
    "approve",
    "assign",
    "blockade",
    "blunderbuss",
    "branchcleaner",
    "bugzilla",
    "buildifier",
    "cat",
    "cherry-pick-approved",
    "cherry-pick-unapproved",
    "cla",
    "config-updater",
    "dco",
    "dog",
    "golint",
    "goose",
    "heart",
    "help",
    "hold",
    "invalidcommitmsg",
    "issue-management",
    "jira",
    "label",
    "lgtm",
    "lifecycle",
    "merge-method-comment",
    "mergecommitblocker",
    "milestone",
    "milestoneapplier",
    "milestonestatus",
    "override",
    "owners-label",
    "pony",
    "project",
    "project-manager",
    "release-note",
    "require-matching-label",
    "retitle",
    "reward-owners",
    "rifle",
    "shrug",
    "sigmention",
    "size",
    "skip",
    "slackevents",
    "stage",
    "testfreeze",
    "trick-or-treat",
    "trigger",
    "verify-owners",
    "welcome",
    "wip",
    "yuks",
];
const UPSTREAM_EXTERNAL_PLUGINS: [&str; 3] = ["cherrypicker", "needs-rebase", "refresh"];

/// Every upstream plugin in `PluginHelp`, and the three external plugins' help asked of their
/// own servers (`prow external-plugin NAME`, `POST /help`), as Prow's hook asks them; an
/// external plugin that does not answer is left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_help_js_lists_every_upstream_plugin_and_asks_the_external_ones() {
    let mut externals = Vec::new();
    let mut config = String::from("external_plugins:\n  acme/widgets:\n");
    for name in UPSTREAM_EXTERNAL_PLUGINS {
        let mut options = prow_server::hook::Options::default();
        options.external_plugin = Some(name.to_owned());
        let server = support::Server::start_with(
            Arc::new(FakeGitHub::new("ci-robot")),
            options,
            support::hook_config(CONFIG, "plugins: {}\n"),
        )
        .await;
        // Listed as deployments list them: the server's root, where it also takes deliveries.
        let root = server.url.trim_end_matches("/hook").to_owned();
        config.push_str(&format!(
            "  - name: {name}\n    endpoint: {root}\n    events: [issue_comment]\n"
        ));
        externals.push(server);
    }
    // Nothing listens on a port just released: its help is left out.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    config.push_str(&format!("  - name: gone\n    endpoint: {closed_url}\n"));
    config.push_str("plugins:\n  acme/widgets:\n    plugins: [trigger]\n");

    let store = Arc::new(SqliteStore::in_memory().unwrap());
    // Generous, so a loaded machine does not drop an answer; the closed port fails at once.
    let deck = Deck::new(store, support::hook_config(CONFIG, &config))
        .external_help_deadline(std::time::Duration::from_secs(60));
    let url = serve(deck).await;
    let body = reqwest::get(format!("{url}/plugin-help.js"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let help: Value = serde_json::from_slice(&body).unwrap();

    let listed: Vec<&str> = help["PluginHelp"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let missing: Vec<&&str> = UPSTREAM_PLUGINS
        .iter()
        .filter(|name| !listed.contains(name))
        .collect();
    assert!(missing.is_empty(), "missing from PluginHelp: {missing:?}");
    for name in UPSTREAM_PLUGINS {
        assert!(
            help["PluginHelp"][name]["Description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name} has no description"
        );
    }
    assert_eq!(
        prow_config::plugins::KNOWN_PLUGINS,
        UPSTREAM_PLUGINS,
        "checkconfig's known names"
    );
    // Prow lists every plugin under the empty key.
    assert_eq!(
        help["RepoPlugins"][""].as_array().unwrap().len(),
        listed.len()
    );

    let external = help["ExternalPluginHelp"].as_object().unwrap();
    assert_eq!(
        external.keys().map(String::as_str).collect::<Vec<_>>(),
        UPSTREAM_EXTERNAL_PLUGINS,
        "the unreachable one is left out"
    );
    let builtin = prow_plugins::builtin();
    let plugins_yaml = support::hook_config(CONFIG, "plugins: {}\n");
    for name in UPSTREAM_EXTERNAL_PLUGINS {
        let own = builtin[name].help(&plugins_yaml.plugins);
        assert_eq!(
            external[name]["Description"],
            json!(own.description),
            "{name}"
        );
        assert_eq!(external[name]["Events"], json!(["issue_comment"]), "{name}");
    }
    assert_eq!(
        help["RepoExternalPlugins"]["acme/widgets"],
        json!(["cherrypicker", "needs-rebase", "refresh", "gone"])
    );
    for server in externals {
        server.shutdown().await;
    }
}

#[tokio::test]
async fn rerun_get_shows_the_new_job_and_creates_nothing() {
    let deck = DeckServer::start().await;
    let before = deck.job_names().await;
    let (status, yaml) = deck.get("/rerun?prowjob=pull-unit-1").await;
    assert_eq!(status, 200, "{yaml}");
    let mut job: Value = serde_yaml::from_str(&yaml).unwrap();
    assert_ne!(job["metadata"]["name"], "pull-unit-1");
    job["metadata"]["name"] = json!("[new name]");
    job["status"]["startTime"] = json!("[now]");
    insta::assert_yaml_snapshot!("rerun_get_pull_unit_1", job);
    assert_eq!(deck.job_names().await, before);

    let (status, latest) = deck.get("/rerun?prowjob=pull-unit-1&mode=latest").await;
    assert_eq!(status, 200, "{latest}");
    let latest: Value = serde_yaml::from_str(&latest).unwrap();
    assert_eq!(
        latest["spec"]["pod_spec"]["containers"][0]["command"],
        json!(["make", "test-latest"])
    );
    assert_eq!(latest["spec"]["refs"]["pulls"][0]["number"], 7);

    let (status, body) = deck.get("/rerun?prowjob=post-build-1&mode=latest").await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "Could not create new prowjob: Failed getting prowjob spec: failed to find job \
             \"post-build\" for orgRepo \"acme/widgets\""
        )
    );
    let (status, body) = deck.get("/rerun?prowjob=nope").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.starts_with("ProwJob not found: "), "{body}");
    let (status, body) = deck.get("/rerun").await;
    assert_eq!(
        (status, body.as_str()),
        (400, "request did not provide the 'prowjob' query parameter")
    );
}

#[tokio::test]
async fn rerun_post_needs_an_allowed_user() {
    let deck = DeckServer::start().await;
    let before = deck.job_names().await;
    let refused: &[(&str, &[(&str, &str)])] = &[
        ("no user", &[]),
        ("unlisted user", &[("X-Forwarded-User", "mallory")]),
        ("the wrong header", &[("X-User", "alice")]),
        (
            "another site",
            &[
                ("X-Forwarded-User", "alice"),
                ("Origin", "https://evil.example"),
            ],
        ),
    ];
    for (why, headers) in refused {
        let (status, body) = deck.post("/rerun?prowjob=pull-unit-1", headers).await;
        assert_eq!(status, 403, "{why}: {body}");
        assert!(
            body.starts_with("You don't have permission to rerun that job.")
                || body.starts_with("cross-origin request"),
            "{why}: {body}"
        );
    }
    assert_eq!(
        deck.job_names().await,
        before,
        "a refused rerun created a job"
    );

    let allowed = [
        ("alice", "listed in github_users"),
        ("carol", "member of github_orgs"),
        ("dave", "member of a github_team_slugs team"),
    ];
    for (user, why) in allowed {
        let (status, body) = deck
            .post(
                "/rerun?prowjob=pull-unit-1",
                &[("X-Forwarded-User", user), ("Origin", deck.url.as_str())],
            )
            .await;
        assert_eq!(
            (status, body.as_str()),
            (
                200,
                "Job successfully triggered. Wait 30 seconds and refresh the page for the job to show up."
            ),
            "{user} ({why})"
        );
    }
    let created: Vec<ProwJob> = deck
        .store
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|j| !before.contains(&j.name().to_owned()))
        .collect();
    let mut descriptions: Vec<&str> = created
        .iter()
        .map(|j| j.status.as_ref().unwrap().description.as_str())
        .collect();
    descriptions.sort_unstable();
    assert_eq!(
        descriptions,
        [
            "alice successfully reran pull-unit-1.",
            "carol successfully reran pull-unit-1.",
            "dave successfully reran pull-unit-1."
        ]
    );
    for job in &created {
        assert_eq!(job.spec.job, "pull-unit");
        assert_eq!(job.status.as_ref().unwrap().state.as_str(), "triggered");
    }
}

#[tokio::test]
async fn rerun_post_without_a_user_works_only_with_allow_anyone() {
    let deck = DeckServer::start().await;
    // ci-nightly-1 carries `allow_anyone: true` in its own rerun_auth_config.
    let (status, body) = deck.post("/rerun?prowjob=ci-nightly-1", &[]).await;
    assert_eq!(status, 200, "{body}");
    let reruns = deck
        .store
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.spec.job == "ci-nightly" && j.name() != "ci-nightly-1")
        .count();
    assert_eq!(reruns, 1);
}

#[tokio::test]
async fn rerun_trusts_the_user_header_only_behind_a_trusted_proxy() {
    // alice is in github_users; without a trusted proxy her header is anyone's claim.
    let claim = [("X-Forwarded-User", "alice")];
    let deck = DeckServer::start_with(None).await;
    let before = deck.job_names().await;
    let (status, body) = deck.post("/rerun?prowjob=pull-unit-1", &claim).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.starts_with("You don't have permission to rerun that job."),
        "{body}"
    );
    let (status, body) = deck.post("/abort?prowjob=pull-lint-1", &claim).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        deck.job_names().await,
        before,
        "a refused rerun created a job"
    );
    let lint = deck.store.get("pull-lint-1").await.unwrap().unwrap();
    assert_eq!(lint.status.unwrap().state.as_str(), "pending");
    // allow_anyone still works without a user.
    let (status, body) = deck.post("/rerun?prowjob=ci-nightly-1", &claim).await;
    assert_eq!(status, 200, "{body}");

    let trusted = DeckServer::start_with(Some("X-Forwarded-User")).await;
    let (status, body) = trusted.post("/rerun?prowjob=pull-unit-1", &claim).await;
    assert_eq!(status, 200, "{body}");
    // The operator's header, not the usual one, is the one trusted.
    let other = DeckServer::start_with(Some("X-Auth-Request-User")).await;
    let (status, _) = other.post("/rerun?prowjob=pull-unit-1", &claim).await;
    assert_eq!(status, 403);
    let (status, body) = other
        .post(
            "/rerun?prowjob=pull-unit-1",
            &[("X-Auth-Request-User", "alice")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn rerun_reports_github_failures() {
    let deck = DeckServer::start().await;
    deck.github.fail_next(
        "is_org_member",
        prow_github::Error::Api {
            what: "is org member".into(),
            status: 502,
            message: "Bad Gateway".into(),
        },
    );
    let (status, body) = deck
        .post(
            "/rerun?prowjob=pull-unit-1",
            &[("X-Forwarded-User", "carol")],
        )
        .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body.starts_with(
            "Could not verify if allowed to rerun: GitHub failed to fetch members of org acme-org"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn writes_need_post() {
    let deck = DeckServer::start().await;
    let (status, _) = deck.get("/abort?prowjob=pull-lint-1").await;
    assert_eq!(status, 405);
    let response = reqwest::Client::new()
        .put(format!("{}/rerun?prowjob=pull-unit-1", deck.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn abort_sets_aborted_for_allowed_users_on_running_jobs() {
    let deck = DeckServer::start().await;
    let (status, body) = deck.post("/abort?prowjob=pull-lint-1", &[]).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.starts_with("You don't have permission to abort this job."),
        "{body}"
    );
    let (status, body) = deck
        .post(
            "/abort?prowjob=pull-lint-1",
            &[("X-Forwarded-User", "mallory")],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let state = |deck: &DeckServer| {
        let store = deck.store.clone();
        async move {
            let job = store.get("pull-lint-1").await.unwrap().unwrap();
            let status = job.status.unwrap();
            (status.state.as_str(), status.description)
        }
    };
    assert_eq!(state(&deck).await.0, "pending");

    let (status, body) = deck
        .post(
            "/abort?prowjob=pull-lint-1",
            &[("X-Forwarded-User", "alice")],
        )
        .await;
    assert_eq!((status, body.as_str()), (200, "Job successfully aborted."));
    assert_eq!(
        state(&deck).await,
        (
            "aborted",
            "alice successfully aborted pull-lint-1.".to_owned()
        )
    );

    let (status, body) = deck
        .post(
            "/abort?prowjob=pull-unit-1",
            &[("X-Forwarded-User", "alice")],
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (400, "Cannot abort job with state: \"success\".")
    );
    let (status, body) = deck.post("/abort", &[]).await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "Request did not provide the 'prowjob' query parameter."
        )
    );
}

#[tokio::test]
async fn tide_contributes_its_json_next_to_the_tide_page() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let config = support::hook_config(CONFIG, PLUGINS);
    let pools = json!({"Pools": [{"Org": "acme", "Repo": "widgets", "Branch": "main",
        "SuccessPRs": [{"Number": 7}], "PendingPRs": [], "MissingPRs": [], "BatchPending": [],
        "Action": "MERGE", "Target": [{"Number": 7}]}]});
    let served = pools.clone();
    let tide = axum::Router::new().route(
        "/tide.js",
        axum::routing::get(move || {
            let served = served.clone();
            async move { axum::Json(served) }
        }),
    );
    let deck = Deck::new(store, config).tide_routes(tide);
    let url = serve(deck).await;
    let tide_js = reqwest::get(format!("{url}/tide.js"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tide_js: Value = serde_json::from_str(&tide_js).unwrap();
    assert_eq!(tide_js, pools);
    let page = reqwest::get(format!("{url}/tide")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("data-page=\"tide\""));
    // Without tide, the page is there and its JSON is not.
    let status = reqwest::get(format!("{url}/tide-history.js"))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
}

#[test]
fn command_help_keeps_formatting_and_links_and_drops_anything_that_runs() {
    let help = json!({
        "AllRepos": ["org"],
        "PluginHelp": {
            "lgtm": {
                "Description": "Adds <code>lgtm</code>.<br>See <a href=\"https://example.com/docs\">the docs</a>.<script>alert(1)</script>",
                "Config": {"org": "<p onclick=\"steal()\">Reviewers</p><img src=x onerror=alert(2)>"},
                "Events": ["issue_comment"],
                "Commands": [{
                    "Usage": "/lgtm <b>[cancel]</b>",
                    "Description": "<a href=\"javascript:alert(3)\">approve</a>",
                    "WhoCanUse": "Collaborators<style>body{display:none}</style>",
                    "Examples": ["/lgtm", "<a href=\"https://help.github.com/\">'Approve'</a>"]
                }]
            }
        },
        "ExternalPluginHelp": {
            "cherrypicker": {"Description": "<iframe src=\"https://evil\"></iframe>Picks."}
        }
    });
    let clean = prow_server::deck::helphtml::sanitised(help);
    let lgtm = &clean["PluginHelp"]["lgtm"];
    assert_eq!(
        lgtm["Description"],
        "Adds <code>lgtm</code>.<br>See <a href=\"https://example.com/docs\" rel=\"noopener noreferrer\">the docs</a>."
    );
    assert_eq!(lgtm["Config"]["org"], "<p>Reviewers</p><img src=\"x\">");
    let command = &lgtm["Commands"][0];
    // Usages are text, shown as typed.
    assert_eq!(command["Usage"], "/lgtm <b>[cancel]</b>");
    assert_eq!(
        command["Description"],
        "<a rel=\"noopener noreferrer\">approve</a>"
    );
    assert_eq!(command["WhoCanUse"], "Collaborators");
    assert_eq!(
        command["Examples"],
        json!([
            "/lgtm",
            "<a href=\"https://help.github.com/\" rel=\"noopener noreferrer\">'Approve'</a>"
        ])
    );
    assert_eq!(
        clean["ExternalPluginHelp"]["cherrypicker"]["Description"],
        "Picks."
    );
    assert_eq!(clean["AllRepos"], json!(["org"]));
}

/// A store that counts its lists, and may hide its version (as a store that cannot tell it).
struct CountingStore {
    inner: SqliteStore,
    lists: std::sync::atomic::AtomicUsize,
    versioned: bool,
}

#[async_trait::async_trait]
impl JobStore for CountingStore {
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }
    async fn create(&self, job: ProwJob) -> Result<ProwJob, prow_jobs::store::StoreError> {
        self.inner.create(job).await
    }
    async fn get(&self, name: &str) -> Result<Option<ProwJob>, prow_jobs::store::StoreError> {
        self.inner.get(name).await
    }
    async fn list(
        &self,
        params: &prow_jobs::store::ListParams,
    ) -> Result<Vec<ProwJob>, prow_jobs::store::StoreError> {
        self.lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.list(params).await
    }
    async fn update(&self, job: ProwJob) -> Result<ProwJob, prow_jobs::store::StoreError> {
        self.inner.update(job).await
    }
    async fn delete(
        &self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<ProwJob, prow_jobs::store::StoreError> {
        self.inner.delete(name, resource_version).await
    }
    fn watch(&self) -> tokio::sync::broadcast::Receiver<prow_jobs::store::WatchEvent> {
        self.inner.watch()
    }
    async fn ready(&self) -> Result<(), prow_jobs::store::StoreError> {
        self.inner.ready().await
    }
    async fn version(&self) -> Result<Option<u64>, prow_jobs::store::StoreError> {
        if self.versioned {
            self.inner.version().await
        } else {
            Ok(None)
        }
    }
}

fn simple_job(name: &str, org: &str) -> ProwJob {
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": name},
        "spec": {"type": "periodic", "job": name, "agent": "kubernetes",
                 "extra_refs": [{"org": org, "repo": "widgets", "base_ref": "main"}]},
        "status": {"state": "triggered"},
    }))
    .unwrap()
}

#[tokio::test]
async fn prowjobs_js_is_built_once_per_store_change_from_any_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prow.db");
    let counting = Arc::new(CountingStore {
        inner: SqliteStore::open(&path).await.unwrap(),
        lists: Default::default(),
        versioned: true,
    });
    counting.create(simple_job("first", "acme")).await.unwrap();
    // Another process writing the same file.
    let other = SqliteStore::open(&path).await.unwrap();
    let deck = Deck::new(counting.clone(), support::hook_config(CONFIG, PLUGINS));
    let url = serve(deck).await;
    let http = reqwest::Client::new();
    let get = |query: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let body = get_text(&http, &format!("{url}/prowjobs.js{query}")).await;
            let mut got = names(&serde_json::from_str(&body).unwrap());
            got.sort();
            got
        }
    };
    let lists = || counting.lists.load(std::sync::atomic::Ordering::SeqCst);

    assert_eq!(get("").await, ["first"]);
    assert_eq!(get("").await, ["first"]);
    assert_eq!(
        lists(),
        1,
        "the second request is served from the kept body"
    );

    other.create(simple_job("second", "acme")).await.unwrap();
    assert_eq!(get("").await, ["first", "second"]);
    assert_eq!(lists(), 2);
    // Each filter has its body.
    other.create(simple_job("third", "other")).await.unwrap();
    assert_eq!(get("?org=other").await, ["third"]);
    assert_eq!(get("?org=other").await, ["third"]);
    assert_eq!(get("").await, ["first", "second", "third"]);
    assert_eq!(lists(), 4);
    // A deletion is a change too.
    counting.delete("first", None).await.unwrap();
    assert_eq!(get("").await, ["second", "third"]);
    assert_eq!(lists(), 5);

    // A store that cannot tell its version is listed on every request.
    let unversioned = Arc::new(CountingStore {
        inner: SqliteStore::in_memory().unwrap(),
        lists: Default::default(),
        versioned: false,
    });
    unversioned
        .create(simple_job("only", "acme"))
        .await
        .unwrap();
    let deck = Deck::new(unversioned.clone(), support::hook_config(CONFIG, PLUGINS));
    let url = serve(deck).await;
    for _ in 0..2 {
        let body = get_text(&http, &format!("{url}/prowjobs.js")).await;
        assert_eq!(names(&serde_json::from_str(&body).unwrap()), ["only"]);
    }
    assert_eq!(
        unversioned.lists.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[tokio::test]
async fn a_prowjobs_js_body_of_many_pieces_streams_whole() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    // Enough jobs for a body of several of the pieces it is streamed in.
    let writes = (0..2000)
        .map(|i| prow_jobs::store::Write::Create(simple_job(&format!("job-{i:04}"), "acme")))
        .collect();
    for result in store.write_all(writes).await {
        result.unwrap();
    }
    let deck = Deck::new(store.clone(), support::hook_config(CONFIG, PLUGINS));
    let url = serve(deck).await;
    let http = reqwest::Client::new();
    let mut bodies = Vec::new();
    for _ in 0..2 {
        bodies.push(get_text(&http, &format!("{url}/prowjobs.js")).await);
    }
    assert!(
        bodies[0].len() > 2 * 256 * 1024,
        "{} bytes",
        bodies[0].len()
    );
    assert_eq!(bodies[0], bodies[1], "the second answer is the first");
    // The kept body is sent in the pieces it was built in, its length told up front.
    let kept = http.get(format!("{url}/prowjobs.js")).send().await.unwrap();
    assert_eq!(kept.content_length(), Some(bodies[0].len() as u64));
    assert_eq!(kept.text().await.unwrap(), bodies[0]);
    let listed: Value = serde_json::from_str(&bodies[0]).unwrap();
    let got = names(&listed);
    let expected: Vec<String> = (0..2000).map(|i| format!("job-{i:04}")).collect();
    assert_eq!(got, expected);
}
