//! The pools and history as Prow's tide serves them to deck (`/tide.js`, `/tide-history.js`),
//! with upstream's field names.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prow_core::Pull;
use serde::{Serialize, Serializer};

use super::Controller;

/// How many history records each pool keeps (older ones are dropped).
pub const HISTORY_PER_POOL: usize = 1000;

/// Go marshals an empty (nil) slice as `null`; so do these fields.
fn nil_if_empty<T: Serialize, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        v.serialize(s)
    }
}

/// A PR as deck shows it (upstream `CodeReviewForDeck`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PrView {
    /// The title.
    #[serde(rename = "Title")]
    pub title: String,
    /// The PR number.
    #[serde(rename = "Number")]
    pub number: u64,
    /// The head SHA.
    #[serde(rename = "HeadRefOID")]
    pub head_ref_oid: String,
    /// `MERGEABLE`, `CONFLICTING` or `UNKNOWN`.
    #[serde(rename = "Mergeable")]
    pub mergeable: String,
}

impl PrView {
    pub(crate) fn of(pr: &prow_core::tide::PullRequest) -> Self {
        use prow_core::tide::Mergeable;
        PrView {
            title: pr.title.clone(),
            number: pr.number,
            head_ref_oid: pr.head_sha.clone(),
            mergeable: match pr.mergeable {
                Mergeable::Mergeable => "MERGEABLE",
                Mergeable::Conflicting => "CONFLICTING",
                _ => "UNKNOWN",
            }
            .to_owned(),
        }
    }
}

/// A blocking issue as deck shows it (upstream `blockers.Blocker`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BlockerView {
    /// The issue number.
    #[serde(rename = "Number")]
    pub number: u64,
    /// Its title.
    #[serde(rename = "Title")]
    pub title: String,
    /// Its URL.
    #[serde(rename = "URL")]
    pub url: String,
}

/// One subpool after a sync (upstream `PoolForDeck`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[non_exhaustive]
pub struct PoolView {
    /// The organisation.
    #[serde(rename = "Org")]
    pub org: String,
    /// The repository.
    #[serde(rename = "Repo")]
    pub repo: String,
    /// The base branch.
    #[serde(rename = "Branch")]
    pub branch: String,
    /// PRs whose required jobs passed on the current base.
    #[serde(rename = "SuccessPRs", serialize_with = "nil_if_empty")]
    pub success_prs: Vec<PrView>,
    /// PRs with jobs running.
    #[serde(rename = "PendingPRs", serialize_with = "nil_if_empty")]
    pub pending_prs: Vec<PrView>,
    /// PRs with jobs missing or failed.
    #[serde(rename = "MissingPRs", serialize_with = "nil_if_empty")]
    pub missing_prs: Vec<PrView>,
    /// The PRs of the batch under test, if any.
    #[serde(rename = "BatchPending", serialize_with = "nil_if_empty")]
    pub batch_pending: Vec<PrView>,
    /// The action of the last sync (`WAIT`, `MERGE`, `TRIGGER_BATCH`, ...).
    #[serde(rename = "Action")]
    pub action: String,
    /// The PRs the action was about.
    #[serde(rename = "Target", serialize_with = "nil_if_empty")]
    pub target: Vec<PrView>,
    /// Issues blocking merges.
    #[serde(rename = "Blockers", serialize_with = "nil_if_empty")]
    pub blockers: Vec<BlockerView>,
    /// What went wrong acting on the pool, if anything.
    #[serde(rename = "Error")]
    pub error: String,
    /// Tenant IDs of the pool's jobs.
    #[serde(rename = "TenantIDs", serialize_with = "nil_if_empty")]
    pub tenant_ids: Vec<String>,
}

/// One action tide took on a pool (upstream `history.Record`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Record {
    /// When (RFC 3339).
    pub time: String,
    /// The action.
    pub action: String,
    /// The base SHA it acted on.
    #[serde(rename = "baseSHA", skip_serializing_if = "String::is_empty")]
    pub base_sha: String,
    /// The PRs it acted on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target: Vec<Pull>,
    /// What failed, if anything.
    #[serde(rename = "err", skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Tenant IDs (always a list).
    #[serde(rename = "tenantids")]
    pub tenant_ids: Vec<String>,
}

/// History records per pool key (`org/repo:branch`), oldest first, bounded per pool.
#[derive(Debug, Clone, Default)]
pub struct History {
    logs: BTreeMap<String, VecDeque<Record>>,
    limit: usize,
}

impl History {
    /// An empty history keeping at most `limit` records per pool.
    pub fn new(limit: usize) -> Self {
        History {
            logs: BTreeMap::new(),
            limit: limit.max(1),
        }
    }

    /// Adds a record to a pool's log, dropping the oldest beyond the limit.
    pub fn record(&mut self, pool: &str, record: Record) {
        let log = self.logs.entry(pool.to_owned()).or_default();
        log.push_back(record);
        while log.len() > self.limit {
            log.pop_front();
        }
    }

    /// Every pool's records, newest first (as upstream's `AllRecords` sorts them).
    pub fn all(&self) -> BTreeMap<String, Vec<Record>> {
        self.logs
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().rev().cloned().collect()))
            .collect()
    }
}

/// The body of `/tide.js`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TidePools {
    /// The GitHub search string of every query.
    #[serde(rename = "Queries")]
    pub queries: Vec<String>,
    /// The queries as configured.
    #[serde(rename = "TideQueries")]
    pub tide_queries: Vec<prow_config::prow::TideQuery>,
    /// The pools of the last sync.
    #[serde(rename = "Pools")]
    pub pools: Vec<PoolView>,
}

/// The body of `/tide-history.js`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TideHistory {
    /// Records by pool key, newest first.
    #[serde(rename = "History")]
    pub history: BTreeMap<String, Vec<Record>>,
}

fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => ([("content-type", "application/json")], body).into_response(),
        Err(e) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("encode tide state: {e}"),
        )
            .into_response(),
    }
}

async fn pools(State(c): State<Arc<Controller>>) -> Response {
    json(&c.pools())
}

async fn history(State(c): State<Arc<Controller>>) -> Response {
    json(&c.history())
}

/// `/tide.js` and `/tide-history.js` over a controller.
pub fn router(controller: Arc<Controller>) -> Router {
    Router::new()
        .route("/tide.js", get(pools))
        .route("/tide-history.js", get(history))
        .with_state(controller)
}
