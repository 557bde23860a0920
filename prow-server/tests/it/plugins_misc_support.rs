//! A hook driven in process (its axum router called directly, no socket) with chosen plugin
//! instances, for the plugins whose settings are not in plugins.yaml (slackevents, golint,
//! config-updater) and for tests on tokio's paused clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::Request;
use prow_config::ConfigSnapshot;
use prow_github::fake::FakeGitHub;
use prow_jobs::store::{JobStore, SqliteStore};
use prow_plugins::Plugin;
use prow_server::hook::{Deps, Hook, Metrics, Options};
use serde_json::Value;
use tower::ServiceExt;

use crate::support::SECRET;

pub(crate) struct InProcess {
    pub(crate) hook: Hook,
    pub(crate) github: Arc<FakeGitHub>,
    pub(crate) store: Arc<dyn JobStore>,
    pub(crate) metrics: Arc<Metrics>,
    next: AtomicU64,
}

impl InProcess {
    /// A hook over `github` with the built-in plugins, `extra` replacing those of the same
    /// name.
    pub(crate) fn start(
        github: Arc<FakeGitHub>,
        config: ConfigSnapshot,
        options: Options,
        extra: Vec<Arc<dyn Plugin>>,
    ) -> Self {
        let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
        let deps = Deps::new(
            github.clone(),
            store.clone(),
            "ci-robot",
            prow_github::HmacSecrets::parse(SECRET),
            config,
        );
        let mut plugins: BTreeMap<&'static str, Arc<dyn Plugin>> = prow_plugins::builtin();
        for plugin in extra {
            plugins.insert(plugin.name(), plugin);
        }
        let hook = Hook::start_with_plugins(options, deps, plugins);
        let metrics = hook.metrics();
        InProcess {
            hook,
            github,
            store,
            metrics,
            next: AtomicU64::new(1),
        }
    }

    /// Delivers a signed `event`; returns the status code.
    pub(crate) async fn send(&self, event: &str, payload: &Value) -> u16 {
        let body = serde_json::to_vec(payload).unwrap();
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let request = Request::post("/hook")
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", format!("delivery-{n}"))
            .header("X-Hub-Signature-256", prow_github::sign(&body, SECRET))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        self.hook
            .router()
            .oneshot(request)
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Delivers `event` and waits until it and everything before it is processed.
    pub(crate) async fn deliver(&self, event: &str, payload: &Value) {
        let before = self.metrics.snapshot().processed;
        assert_eq!(self.send(event, payload).await, 200);
        self.metrics.wait_processed(before + 1).await;
    }

    pub(crate) async fn shutdown(self) {
        self.hook.drain().await;
    }
}

/// The repository object of GitHub's example payloads.
pub(crate) fn repository() -> Value {
    let payload: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::data("webhooks/issue_comment.created.json"))
            .unwrap(),
    )
    .unwrap();
    payload["repository"].clone()
}

/// A `status` event for `sha`.
pub(crate) fn status_event(sha: &str, context: &str, state: &str) -> Value {
    serde_json::json!({
        "sha": sha,
        "context": context,
        "state": state,
        "repository": repository(),
        "sender": {"login": "linux-foundation-easycla[bot]"},
    })
}
