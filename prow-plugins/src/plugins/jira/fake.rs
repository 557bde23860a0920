//! A stand-in Jira for tests (feature `test-util`): the REST v2 calls the jira plugin makes,
//! answered on 127.0.0.1 from an in-memory state as Jira answers them, every request recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::MutexGuard;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::stand_in::{Shared, serve};

use super::client::RemoteLink;

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Recorded {
    /// `GET`, `POST`, `PUT`.
    pub method: String,
    /// The path.
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The JSON body, `null` without one.
    pub body: Value,
}

/// What the fake Jira holds.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct JiraState {
    /// Project keys.
    pub projects: Vec<String>,
    /// Issue keys that exist.
    pub issues: BTreeSet<String>,
    /// Issue keys whose reads fail with a 500.
    pub broken: BTreeSet<String>,
    /// Remote links by issue key.
    pub links: BTreeMap<String, Vec<RemoteLink>>,
    /// Every request, in order.
    pub requests: Vec<Recorded>,
    next_id: u64,
}

/// A fake Jira server, serving until the test's runtime ends.
#[derive(Debug, Clone)]
pub struct FakeJira {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    state: Shared<JiraState>,
}

impl FakeJira {
    /// Starts a Jira with `projects` and the issues `issues`.
    pub async fn start(projects: &[&str], issues: &[&str]) -> Self {
        let state = Shared::new(JiraState {
            projects: projects.iter().map(|p| (*p).to_owned()).collect(),
            issues: issues.iter().map(|i| (*i).to_owned()).collect(),
            next_id: 10000,
            ..JiraState::default()
        });
        let url = serve(state.clone(), answer).await;
        FakeJira { url, state }
    }

    /// The state, to read or change.
    pub fn state(&self) -> MutexGuard<'_, JiraState> {
        self.state.lock()
    }

    /// The requests so far, as `METHOD path`.
    pub fn calls(&self) -> Vec<String> {
        self.state()
            .requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// The remote links of `issue`.
    pub fn links(&self, issue: &str) -> Vec<RemoteLink> {
        self.state().links.get(issue).cloned().unwrap_or_default()
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"errorMessages": ["Issue Does Not Exist"], "errors": {}})),
    )
        .into_response()
}

async fn answer(
    State(state): State<Shared<JiraState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock();
    let path = uri.path().to_owned();
    state.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let segments: Vec<&str> = path.trim_start_matches("/rest/api/2/").split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["project"]) => {
            let projects: Vec<Value> = state
                .projects
                .iter()
                .enumerate()
                .map(|(i, key)| json!({"id": (i + 1).to_string(), "key": key, "name": key}))
                .collect();
            axum::Json(projects).into_response()
        }
        (_, ["issue", key, ..]) if state.broken.contains(*key) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "jira is having a bad day",
        )
            .into_response(),
        (_, ["issue", key, ..]) if !state.issues.contains(*key) => not_found(),
        ("GET", ["issue", key]) => {
            axum::Json(json!({"id": "1", "key": key, "fields": {}})).into_response()
        }
        ("GET", ["issue", key, "remotelink"]) => {
            axum::Json(state.links.get(*key).cloned().unwrap_or_default()).into_response()
        }
        ("POST", ["issue", key, "remotelink"]) => {
            let Ok(mut link) = serde_json::from_slice::<RemoteLink>(&body) else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            state.next_id += 1;
            let id = state.next_id;
            link.id = Some(id);
            link.self_url = Some(format!("/rest/api/2/issue/{key}/remotelink/{id}"));
            state.links.entry((*key).to_owned()).or_default().push(link);
            (StatusCode::CREATED, axum::Json(json!({"id": id}))).into_response()
        }
        ("PUT", ["issue", key, "remotelink", id]) => {
            let Ok(link) = serde_json::from_slice::<RemoteLink>(&body) else {
                return StatusCode::BAD_REQUEST.into_response();
            };
            let id: u64 = id.parse().unwrap_or_default();
            let links = state.links.entry((*key).to_owned()).or_default();
            match links.iter_mut().find(|l| l.id == Some(id)) {
                Some(existing) => {
                    existing.object = link.object;
                    StatusCode::NO_CONTENT.into_response()
                }
                None => not_found(),
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
