//! A hook on 127.0.0.1 over the fake GitHub and an in-memory job store, with the example repo
//! `Codertocat/Hello-World` of GitHub's own webhook payloads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use prow_config::ConfigSnapshot;
use prow_github::fake::FakeGitHub;
use prow_github::types::{Permission, PullRequest};
use prow_jobs::store::{JobStore, SqliteStore};
use prow_server::hook::{Deps, Hook, Options};
use serde_json::{Value, json};

pub(crate) const SECRET: &[u8] = b"abcde12345";
pub(crate) const ORG: &str = "Codertocat";
pub(crate) const REPO: &str = "Hello-World";
pub(crate) const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

pub(crate) const CONFIG: &str = r#"
prowjob_namespace: default
presubmits:
  Codertocat/Hello-World:
  - name: unit
    always_run: true
    spec: {containers: [{image: alpine, command: ["true"]}]}
  - name: lint
    always_run: true
    optional: true
    spec: {containers: [{image: alpine, command: ["true"]}]}
  - name: e2e
    always_run: false
    spec: {containers: [{image: alpine, command: ["true"]}]}
postsubmits:
  Codertocat/Hello-World:
  - name: post-build
    branches: ['^master$']
    spec: {containers: [{image: alpine, command: ["true"]}]}
"#;

pub(crate) const PLUGINS: &str = r#"
plugins:
  Codertocat/Hello-World:
    plugins: [trigger, lgtm, hold]
"#;

pub(crate) fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

include!("../../../build-support/corpus.rs");

/// Loads config.yaml and plugins.yaml text as hook would from files.
pub(crate) fn hook_config(config: &str, plugins: &str) -> ConfigSnapshot {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("config.yaml"), config).unwrap();
    std::fs::write(tmp.path().join("plugins.yaml"), plugins).unwrap();
    let paths = prow_config::ConfigPaths::new(tmp.path().join("config.yaml"), None)
        .with_plugin_config(tmp.path().join("plugins.yaml"));
    prow_config::load_snapshot(&paths)
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

/// The fake GitHub with PR #2 by `author` open on master, `member` in the org and
/// `reviewer` a collaborator.
pub(crate) fn github(author: &str) -> Arc<FakeGitHub> {
    let github = Arc::new(FakeGitHub::new("ci-robot"));
    let pr: PullRequest = serde_json::from_value(json!({
        "id": 1, "number": 2, "title": "Update the README with new information.", "state": "open",
        "user": {"login": author}, "html_url": "https://github.com/Codertocat/Hello-World/pull/2",
        "head": {"ref": "changes", "sha": HEAD}, "base": {"ref": "master", "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"},
    }))
    .unwrap();
    github.add_pull_request(ORG, REPO, pr);
    let mut state = github.state();
    state
        .org_members
        .entry(ORG.to_owned())
        .or_default()
        .insert("member".to_owned());
    state
        .org_members
        .entry(ORG.to_owned())
        .or_default()
        .insert(ORG.to_owned());
    state.collaborators.insert(
        (ORG.to_owned(), REPO.to_owned(), "reviewer".to_owned()),
        Permission::Write,
    );
    state.collaborators.insert(
        (ORG.to_owned(), REPO.to_owned(), "member".to_owned()),
        Permission::Write,
    );
    drop(state);
    github
}

pub(crate) struct Server {
    pub(crate) url: String,
    pub(crate) github: Arc<FakeGitHub>,
    pub(crate) store: Arc<dyn JobStore>,
    pub(crate) metrics: Arc<prow_server::hook::Metrics>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    pub(crate) async fn start(github: Arc<FakeGitHub>, options: Options) -> Server {
        Self::start_with(github, options, hook_config(CONFIG, PLUGINS)).await
    }

    pub(crate) async fn start_with(
        github: Arc<FakeGitHub>,
        options: Options,
        config: ConfigSnapshot,
    ) -> Server {
        Self::start_with_plugins(github, options, config, prow_plugins::builtin()).await
    }

    /// A hook running `plugins` (by name).
    pub(crate) async fn start_with_plugins(
        github: Arc<FakeGitHub>,
        options: Options,
        config: ConfigSnapshot,
        plugins: std::collections::BTreeMap<&'static str, Arc<dyn prow_plugins::Plugin>>,
    ) -> Server {
        Self::start_full(github, options, config, plugins, None).await
    }

    /// A hook running `plugins`, reading in-repo configuration through `inrepo` when given.
    pub(crate) async fn start_full(
        github: Arc<FakeGitHub>,
        options: Options,
        config: ConfigSnapshot,
        plugins: std::collections::BTreeMap<&'static str, Arc<dyn prow_plugins::Plugin>>,
        inrepo: Option<Arc<prow_jobs::inrepo::InRepoConfigCache>>,
    ) -> Server {
        let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
        let mut deps = Deps::new(
            github.clone(),
            store.clone(),
            "ci-robot",
            prow_github::HmacSecrets::parse(SECRET),
            config,
        );
        if let Some(cache) = inrepo {
            deps = deps.with_inrepo(cache);
        }
        let hook = Hook::start_with_plugins(options, deps, plugins);
        let metrics = hook.metrics();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = hook.router();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            hook.drain().await;
        });
        Server {
            url,
            github,
            store,
            metrics,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Posts a signed delivery; returns status and body.
    pub(crate) async fn send(&self, event: &str, payload: &Value) -> (u16, String) {
        let body = serde_json::to_vec(payload).unwrap();
        let reply =
            prow_github::phony::deliver(&reqwest::Client::new(), &self.url, event, &body, SECRET)
                .await
                .unwrap();
        (reply.status, reply.body)
    }

    /// Stops accepting, then waits until every accepted delivery is processed.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// GitHub's `issue_comment` example turned into a comment `body` by `user` on PR #2 by
/// `author`.
pub(crate) fn comment(body: &str, user: &str, author: &str) -> Value {
    let mut payload: Value = serde_json::from_str(
        &std::fs::read_to_string(data("webhooks/issue_comment.created.json")).unwrap(),
    )
    .unwrap();
    payload["issue"]["number"] = 2.into();
    payload["issue"]["pull_request"] =
        json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2"});
    payload["issue"]["user"]["login"] = author.into();
    payload["comment"]["body"] = body.into();
    payload["comment"]["user"]["login"] = user.into();
    payload
}

/// GitHub's `pull_request` `opened` example by `author`.
pub(crate) fn opened(author: &str) -> Value {
    let mut payload: Value = serde_json::from_str(
        &std::fs::read_to_string(data("webhooks/pull_request.opened.json")).unwrap(),
    )
    .unwrap();
    payload["pull_request"]["user"]["login"] = author.into();
    payload
}

pub(crate) fn labels(github: &FakeGitHub) -> Vec<String> {
    let state = github.state();
    let mut labels: Vec<String> = state
        .issues
        .get(&(ORG.to_owned(), REPO.to_owned(), 2))
        .map(|i| i.labels.iter().map(|l| l.name.clone()).collect())
        .unwrap_or_default();
    labels.sort();
    labels
}

pub(crate) fn comments(github: &FakeGitHub) -> Vec<String> {
    let state = github.state();
    state
        .comments
        .get(&(ORG.to_owned(), REPO.to_owned(), 2))
        .map(|c| {
            c.iter()
                .map(|c| c.body.clone().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn job_names(store: &dyn JobStore) -> Vec<String> {
    let mut names: Vec<String> = store
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.spec.job)
        .collect();
    names.sort();
    names
}

/// Commits `files` on top of `parent` (none: a root commit) in `repo`, by `who`.
pub(crate) fn commit(
    repo: &git2::Repository,
    parent: Option<git2::Oid>,
    files: &[(&str, &str)],
    message: &str,
) -> git2::Oid {
    let mut tree = match parent {
        Some(p) => repo
            .treebuilder(Some(&repo.find_commit(p).unwrap().tree().unwrap()))
            .unwrap(),
        None => repo.treebuilder(None).unwrap(),
    };
    for (path, text) in files {
        let blob = repo.blob(text.as_bytes()).unwrap();
        tree.insert(path, blob, 0o100644).unwrap();
    }
    let tree = repo.find_tree(tree.write().unwrap()).unwrap();
    let who = git2::Signature::now("Author", "author@example.com").unwrap();
    let parents: Vec<git2::Commit<'_>> = parent
        .map(|p| repo.find_commit(p).unwrap())
        .into_iter()
        .collect();
    let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(None, &who, &who, message, &tree, &refs)
        .unwrap()
}
