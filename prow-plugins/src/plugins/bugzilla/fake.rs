//! A stand-in Bugzilla for tests (feature `test-util`): the REST calls and the ExternalBugs
//! JSON-RPC calls the bugzilla plugin makes, answered on 127.0.0.1 from an in-memory state as
//! Bugzilla answers them (errors included), every request recorded.

use std::collections::BTreeMap;
use std::sync::MutexGuard;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::stand_in::{Shared, serve};

use super::client::{Bug, identifier_for_pull};

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Recorded {
    /// `GET`, `PUT`, `POST`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The `X-BUGZILLA-API-KEY` header, if any.
    pub api_key_header: Option<String>,
    /// The JSON body, `null` without one.
    pub body: Value,
}

/// What the fake Bugzilla holds.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct BugzillaState {
    /// Bugs by id.
    pub bugs: BTreeMap<u64, Bug>,
    /// The external bugs (`org/repo/pull/N`) linked to each bug.
    pub external: BTreeMap<u64, Vec<String>>,
    /// Comments made: bug, text, private.
    pub comments: Vec<(u64, String, bool)>,
    /// Every request, in order.
    pub requests: Vec<Recorded>,
}

/// A fake Bugzilla server, serving until the test's runtime ends.
#[derive(Debug, Clone)]
pub struct FakeBugzilla {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    state: Shared<BugzillaState>,
}

impl FakeBugzilla {
    /// Starts a Bugzilla holding `bugs`.
    pub async fn start(bugs: Vec<Bug>) -> Self {
        let state = Shared::new(BugzillaState {
            bugs: bugs.into_iter().map(|b| (b.id, b)).collect(),
            ..BugzillaState::default()
        });
        let url = serve(state.clone(), answer).await;
        FakeBugzilla { url, state }
    }

    /// The state, to read or change.
    pub fn state(&self) -> MutexGuard<'_, BugzillaState> {
        self.state.lock()
    }

    /// Bug `id` as it is now.
    pub fn bug(&self, id: u64) -> Option<Bug> {
        self.state().bugs.get(&id).cloned()
    }

    /// Links pull request `org/repo#number` to bug `id`.
    pub fn link(&self, id: u64, org: &str, repo: &str, number: u64) {
        self.state()
            .external
            .entry(id)
            .or_default()
            .push(identifier_for_pull(org, repo, number));
    }

    /// The requests so far, as `METHOD path`.
    pub fn calls(&self) -> Vec<String> {
        self.state()
            .requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": true, "code": code, "message": message, "documentation": "https://bugzilla.readthedocs.org/en/latest/api/"})),
    )
        .into_response()
}

async fn answer(
    State(state): State<Shared<BugzillaState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock();
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        api_key_header: headers
            .get("x-bugzilla-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: body.clone(),
    });
    if path == "/jsonrpc.cgi" {
        return rpc(&mut state, &body);
    }
    let segments: Vec<&str> = path.trim_start_matches("/rest/").split('/').collect();
    let id = match segments.as_slice() {
        ["bug", id, ..] => id.parse::<u64>().unwrap_or_default(),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if !state.bugs.contains_key(&id) {
        return error(
            StatusCode::NOT_FOUND,
            101,
            &format!("Bug #{id} does not exist."),
        );
    }
    match (method.as_str(), segments.as_slice()) {
        ("GET", [_, _]) if query.contains("include_fields=external_bugs") => {
            let external: Vec<Value> = state
                .external
                .get(&id)
                .into_iter()
                .flatten()
                .map(|e| {
                    json!({"bug_id": id, "ext_bz_bug_id": e, "type": {"url": "https://github.com/"}, "ext_status": "open"})
                })
                .collect();
            axum::Json(json!({"bugs": [{"external_bugs": external}]})).into_response()
        }
        ("GET", [_, _]) => axum::Json(json!({"bugs": [state.bugs[&id]]})).into_response(),
        ("PUT", [_, _]) => {
            let bug = state.bugs.get_mut(&id).expect("checked above");
            if let Some(status) = body["status"].as_str() {
                bug.status = status.to_owned();
            }
            if let Some(resolution) = body["resolution"].as_str() {
                bug.resolution = resolution.to_owned();
            }
            axum::Json(json!({"bugs": [{"id": id, "changes": {}}]})).into_response()
        }
        ("POST", [_, _, "comment"]) => {
            let text = body["comment"].as_str().unwrap_or_default().to_owned();
            let private = body["is_private"].as_bool().unwrap_or(false);
            state.comments.push((id, text, private));
            let n = state.comments.len();
            (StatusCode::CREATED, axum::Json(json!({"id": n}))).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn rpc(state: &mut BugzillaState, body: &Value) -> Response {
    let params = &body["params"][0];
    let Some(id) = params["bug_ids"][0].as_u64() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let rpc_error = |code: i64, message: &str| {
        axum::Json(
            json!({"error": {"code": code, "message": message}, "id": body["id"], "result": null}),
        )
        .into_response()
    };
    match body["method"].as_str() {
        Some("ExternalBugs.add_external_bug") => {
            let ident = params["external_bugs"][0]["ext_bz_bug_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let linked = state.external.entry(id).or_default();
            if linked.contains(&ident) {
                return rpc_error(
                    100500,
                    r#"ERROR: duplicate key value violates unique constraint "ext_bz_bug_map_bug_id_idx""#,
                );
            }
            linked.push(ident.clone());
            axum::Json(json!({
                "error": null,
                "id": body["id"],
                "result": {"bugs": [{"id": id, "alias": [], "changes": {"ext_bz_bug_map.ext_bz_bug_id": {"added": ident, "removed": ""}}}]},
            }))
            .into_response()
        }
        Some("ExternalBugs.remove_external_bug") => {
            let ident = params["ext_bz_bug_id"].as_str().unwrap_or_default();
            let linked = state.external.entry(id).or_default();
            if !linked.iter().any(|l| l == ident) {
                return rpc_error(
                    1006,
                    "No external tracker bugs were found that matched your criteria",
                );
            }
            linked.retain(|l| l != ident);
            axum::Json(json!({
                "error": null,
                "id": body["id"],
                "result": {"external_bugs": [{"ext_type_url": "https://github.com/", "ext_bz_bug_id": ident}]},
            }))
            .into_response()
        }
        _ => rpc_error(32601, "method not found"),
    }
}
