//! GitHub cost of tide syncs, counted at the HTTP level: `OctocrabClient` against a small fake
//! GitHub on 127.0.0.1 that answers search, pulls, refs, statuses and check runs with ETags
//! (and `304 Not Modified` to a matching `If-None-Match`), for 200 open PRs in 10 repos: a cold
//! sync, a sync with nothing changed, and a busy sync after a push to one PR in ten.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use prow_github::octo::OctocrabClient;
use prow_jobs::store::SqliteStore;
use prow_server::tide::Controller;
use serde_json::{Value, json};

use super::tide::Stopped;

const REPOS: u64 = 10;
const PRS_PER_REPO: u64 = 20;

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    not_modified: AtomicU64,
}

struct Hub {
    base: String,
    counts: Counts,
    /// PRs numbered up to this in every repo were pushed to (new head, new `updated_at`).
    pushed: AtomicU64,
}

/// The head SHA and `updated_at` of PR `n` now.
fn version(hub: &Hub, n: u64) -> (&'static str, &'static str) {
    if n <= hub.pushed.load(Ordering::Relaxed) {
        ("pushed", "2026-01-02T00:00:00Z")
    } else {
        ("first", "2026-01-01T00:00:00Z")
    }
}

fn issue(hub: &Hub, repo: u64, n: u64) -> Value {
    let (_, updated_at) = version(hub, n);
    json!({
        "id": repo * 1000 + n, "number": n, "title": format!("Change {n}"), "state": "open",
        "user": {"login": "alice"}, "labels": [{"name": "lgtm"}], "pull_request": {},
        "html_url": format!("https://github.com/org/repo-{repo}/pull/{n}"),
        "repository_url": format!("https://api.github.com/repos/org/repo-{repo}"),
        "updated_at": updated_at,
    })
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// The answer to a GET, and its `Link: rel="next"` when there are more pages.
fn answer(hub: &Hub, uri: &Uri) -> Option<(Value, Option<String>)> {
    let path = uri.path();
    let query = uri.query().unwrap_or_default();
    if path == "/search/issues" {
        let per_page: u64 = query_param(query, "per_page")?.parse().ok()?;
        let page: u64 = query_param(query, "page").map_or(Some(1), |p| p.parse().ok())?;
        let all: Vec<Value> = (0..REPOS)
            .flat_map(|r| (1..=PRS_PER_REPO).map(move |n| issue(hub, r, n)))
            .collect();
        let start = ((page - 1) * per_page) as usize;
        let items: Vec<Value> = all
            .iter()
            .skip(start)
            .take(per_page as usize)
            .cloned()
            .collect();
        let next = (start + items.len() < all.len()).then(|| {
            let q = query_param(query, "q").unwrap_or_default();
            format!(
                "<{}/search/issues?q={q}&per_page={per_page}&page={}>; rel=\"next\"",
                hub.base,
                page + 1
            )
        });
        let body = json!({"total_count": all.len(), "incomplete_results": false, "items": items});
        return Some((body, next));
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let repo: u64 = parts.get(2)?.strip_prefix("repo-")?.parse().ok()?;
    match parts.as_slice() {
        ["repos", "org", _, "pulls", n] => {
            let n: u64 = n.parse().ok()?;
            let (head, _) = version(hub, n);
            Some((
                json!({
                    "id": repo * 1000 + n, "number": n, "title": format!("Change {n}"),
                    "state": "open", "user": {"login": "alice"}, "mergeable": true,
                    "head": {"ref": format!("change-{n}"), "sha": format!("sha-{repo}-{n}-{head}")},
                    "base": {"ref": "main", "sha": format!("base-{repo}")},
                }),
                None,
            ))
        }
        ["repos", "org", _, "git", "ref", "heads", "main"] => Some((
            json!({"ref": "refs/heads/main", "object": {"sha": format!("base-{repo}")}}),
            None,
        )),
        ["repos", "org", _, "commits", sha, "status"] => Some((
            json!({"sha": sha, "state": "success", "statuses": [
                {"context": "unit", "state": "success", "description": "Job succeeded."},
                {"context": "e2e", "state": "success", "description": "Job succeeded."},
            ]}),
            None,
        )),
        ["repos", "org", _, "commits", _, "check-runs"] => {
            Some((json!({"total_count": 0, "check_runs": []}), None))
        }
        _ => None,
    }
}

async fn serve(State(hub): State<Arc<Hub>>, uri: Uri, headers: HeaderMap) -> Response {
    hub.counts.requests.fetch_add(1, Ordering::Relaxed);
    let Some((body, next)) = answer(&hub, &uri) else {
        return (StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#).into_response();
    };
    let text = body.to_string();
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    let etag = format!("\"{:x}\"", hasher.finish());
    let mut response = if headers
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        hub.counts.not_modified.fetch_add(1, Ordering::Relaxed);
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([("content-type", "application/json")], text).into_response()
    };
    let h = response.headers_mut();
    h.insert("etag", etag.parse().unwrap());
    if let Some(next) = next {
        h.insert("link", next.parse().unwrap());
    }
    response
}

async fn start_hub() -> Arc<Hub> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hub = Arc::new(Hub {
        base,
        counts: Counts::default(),
        pushed: AtomicU64::new(0),
    });
    let app = Router::new().fallback(serve).with_state(hub.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    hub
}

/// Requests of one sync: all, and how many of them were answered `304 Not Modified` (free of
/// rate limit on GitHub).
#[derive(Debug, serde::Serialize, PartialEq, Eq, Clone, Copy)]
struct Cost {
    requests: u64,
    not_modified: u64,
    charged: u64,
}

fn tide_config() -> Arc<prow_config::Config> {
    let repos: Vec<String> = (0..REPOS).map(|r| format!("org/repo-{r}")).collect();
    let jobs: String = repos
        .iter()
        .map(|r| {
            format!(
                "  {r}:\n  - name: unit\n    always_run: true\n    spec:\n      containers:\n      - image: alpine\n"
            )
        })
        .collect();
    let text = format!(
        "tide:\n  queries:\n  - repos: [{}]\n    labels: [lgtm]\npresubmits:\n{jobs}",
        repos.join(", ")
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("config.yaml"), text).unwrap();
    Arc::new(
        prow_config::load(&prow_config::LoadOptions::new(
            tmp.path().join("config.yaml"),
            None,
        ))
        .unwrap_or_else(|e| panic!("config: {e}")),
    )
}

/// The cost of a cold first sync, of a second sync with nothing changed, and of a third after
/// a push to one PR in ten.
async fn syncs(etag_cache: bool, reuse: bool) -> [Cost; 3] {
    let hub = start_hub().await;
    let github: Arc<dyn prow_github::GitHubClient> = if etag_cache {
        Arc::new(OctocrabClient::with_token(&hub.base, "token").unwrap())
    } else {
        let octocrab = octocrab::Octocrab::builder()
            .base_uri(hub.base.as_str())
            .unwrap()
            .personal_token("token".to_owned())
            .build()
            .unwrap();
        Arc::new(OctocrabClient::from_octocrab(octocrab))
    };
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let cfg = tide_config();
    let tide = Controller::new(
        github,
        store,
        prow_jobs::config::ConfigHandle::fixed(prow_config::ConfigSnapshot::from_shared(
            cfg,
            Default::default(),
        )),
        Arc::new(Stopped),
    )
    .with_pr_reuse(reuse);
    let mut costs = Vec::new();
    for sync in 0..3 {
        if sync == 2 {
            hub.pushed.store(PRS_PER_REPO / 10, Ordering::Relaxed);
        }
        let (r0, n0) = (
            hub.counts.requests.load(Ordering::Relaxed),
            hub.counts.not_modified.load(Ordering::Relaxed),
        );
        tide.sync_once().await.unwrap();
        let requests = hub.counts.requests.load(Ordering::Relaxed) - r0;
        let not_modified = hub.counts.not_modified.load(Ordering::Relaxed) - n0;
        costs.push(Cost {
            requests,
            not_modified,
            charged: requests - not_modified,
        });
    }
    let stats = tide.stats();
    assert_eq!(stats.pools.len(), REPOS as usize);
    assert!(
        stats.pools.values().all(|p| p.prs == PRS_PER_REPO as usize),
        "{stats:?}"
    );
    [costs[0], costs[1], costs[2]]
}

#[tokio::test]
async fn github_cost_per_sync_for_200_prs_in_10_repos() {
    let [cold, cached, busy] = syncs(true, true).await;
    let [_, etag_only, busy_etag_only] = syncs(true, false).await;
    let [_, reuse_only, busy_reuse_only] = syncs(false, true).await;
    let [_, uncached, busy_uncached] = syncs(false, false).await;
    let report = json!({
        "first_sync": cold,
        "second_sync_etag_cache_and_pr_reuse": cached,
        "second_sync_etag_cache_only": etag_only,
        "second_sync_pr_reuse_only": reuse_only,
        "second_sync_no_caching": uncached,
        "busy_sync_etag_cache_and_pr_reuse": busy,
        "busy_sync_etag_cache_only": busy_etag_only,
        "busy_sync_pr_reuse_only": busy_reuse_only,
        "busy_sync_no_caching": busy_uncached,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
    insta::assert_json_snapshot!("tide_github_cost", report);
    // A sync with nothing changed costs a small fraction of an uncached one.
    assert!(cached.requests * 10 < uncached.requests, "{report}");
    assert_eq!(cached.charged, 0, "every repeated answer is a 304");
    assert_eq!(etag_only.charged, 0);
    assert_eq!(uncached.requests, cold.requests);
    // With one PR in ten pushed to, the caches still save at least five times the requests
    // (and the rate limit charged) of a sync without them.
    assert!(busy.requests * 5 <= busy_uncached.requests, "{report}");
    assert!(
        busy_etag_only.charged * 5 <= busy_uncached.charged,
        "{report}"
    );
}
