//! The GitHub client over octocrab: a token (`--github-token-path`) or any configured
//! `Octocrab` (GitHub App installations included), against github.com or an Enterprise endpoint.
//!
//! octocrab is used as an authenticated transport: every call reads the raw response, so the
//! status and rate-limit headers become this crate's typed errors, and listings follow the
//! `Link: rel="next"` pages themselves. Clients built here keep an ETag cache, as ghproxy
//! does: a repeated GET carries `If-None-Match`, and GitHub's `304 Not Modified` answer (which
//! costs no rate limit) is served from the cache; identical concurrent GETs share one request;
//! the rate limit of every answer is kept, and requests are spread when it runs low.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use octocrab::Octocrab;
use octocrab::service::middleware::cache::{CacheKey, CacheStorage, CacheWriter, CachedResponse};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{GitHubClient, NewPullRequest, Result};
use crate::error::Error;
use crate::etag_cache::BoundedCache;
use crate::throttle::{self, Throttle};
use crate::types::{
    BranchHead, BranchProtection, BranchProtectionRequest, CheckRun, CombinedStatus, Comment,
    CommitInfo, Issue, Label, MergeRequest, Milestone, Permission, PullRequest, PullRequestFile,
    PullRequestReviews, PushRestrictions, RateLimit, Repo, RequiredStatusChecks, Review,
    ReviewAllowances, Status, User,
};
// Classic projects (project, project-manager).
use crate::types::{CardContent, Project, ProjectCard, ProjectColumn};

/// GitHub's public API.
pub const DEFAULT_ENDPOINT: &str = "https://api.github.com";

/// Items per page asked for in listings (GitHub's maximum).
const PER_PAGE: u32 = 100;

/// The GitHub client over octocrab.
#[derive(Debug, Clone)]
pub struct OctocrabClient {
    octocrab: Octocrab,
    counters: Arc<Counters>,
    identity: Arc<Identity>,
    /// The git host with the token (`https://x-access-token:TOKEN@github.com`), when built
    /// with a token; git pushes through it.
    git_base: Option<GitBase>,
}

/// A git base address carrying a token: kept out of `Debug` output.
#[derive(Clone)]
struct GitBase(Arc<str>);

impl std::fmt::Debug for GitBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GitBase(<redacted>)")
    }
}

/// Requests sent and answered from the ETag cache, shared by the clones of a client and by
/// the installations of one App (they share its cache).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    cache_hits: AtomicU64,
}

/// What belongs to one identity (a token, an App, one installation): its rate limit and its
/// GETs on their way. Two installations never share answers or budgets.
#[derive(Debug, Default)]
struct Identity {
    last_limit: std::sync::Mutex<Option<RateLimit>>,
    /// GETs on their way, by URI: identical concurrent GETs share one request.
    in_flight: std::sync::Mutex<HashMap<String, Arc<InFlight>>>,
}

impl Identity {
    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<InFlight>>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The shared answer of a GET on its way; `None` when it failed (each waiter then asks itself).
type InFlight = tokio::sync::OnceCell<Option<Response>>;

/// How many requests a client sent, and how many of them GitHub answered `304 Not Modified`
/// (served from the cache, free of rate limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Requests sent to GitHub.
    pub requests: u64,
    /// Requests answered from the ETag cache.
    pub cache_hits: u64,
}

/// The bounded ETag cache, counting the answers it serves.
struct CountingCache {
    inner: BoundedCache,
    counters: Arc<Counters>,
}

impl CacheStorage for CountingCache {
    fn try_hit(&self, uri: &http::Uri) -> Option<CacheKey> {
        self.inner.try_hit(uri)
    }

    /// Called only when GitHub answered 304, so each call is one request that cost nothing.
    fn load(&self, uri: &http::Uri) -> Option<CachedResponse> {
        self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
        self.inner.load(uri)
    }

    fn writer(
        &self,
        uri: &http::Uri,
        key: CacheKey,
        headers: http::HeaderMap,
    ) -> Box<dyn CacheWriter> {
        self.inner.writer(uri, key, headers)
    }
}

/// A response read whole.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    next: Option<String>,
    pub(crate) body: Vec<u8>,
}

#[derive(Clone, Copy)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// Percent-encodes one path segment (label names hold `/` and spaces).
/// `query` as a search URL's `q` value: spaces as `+`, the rest percent-encoded.
fn search_query(query: &str) -> String {
    let mut q = String::new();
    for byte in query.bytes() {
        match byte {
            b' ' => q.push('+'),
            b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => q.push(char::from(b)),
            b => q.push_str(&format!("%{b:02X}")),
        }
    }
    q
}

fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `rel="next"` target of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == r#"rel="next""#)
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

fn message_of(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Message {
        message: String,
    }
    serde_json::from_slice::<Message>(body)
        .map(|m| m.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The rate-limit headers of an answer.
#[derive(Default)]
struct Limits {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
    retry_after: Option<u64>,
}

/// The typed error for a non-success answer.
fn error_for(what: &str, status: u16, limits: &Limits, body: &[u8]) -> Error {
    let what = what.to_owned();
    let message = message_of(body);
    match status {
        404 => Error::NotFound { what },
        403 | 429 if limits.remaining == Some(0) => Error::RateLimited {
            what,
            reset: limits.reset.unwrap_or_default(),
        },
        403 | 429 if limits.retry_after.is_some() => Error::RateLimited {
            what,
            reset: now_unix() + limits.retry_after.unwrap_or_default(),
        },
        401 | 403 => Error::Forbidden { what, message },
        422 => Error::Validation { what, message },
        _ => Error::Api {
            what,
            status,
            message,
        },
    }
}

pub(crate) fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::Transport {
        what: format!("read the answer to {what}"),
        source: Box::new(e),
    })
}

/// A commit as the pull request commits listing returns it.
#[derive(Deserialize)]
struct WireCommit {
    sha: String,
    commit: WireCommitDetail,
    author: Option<User>,
    #[serde(default)]
    parents: Vec<WireSha>,
}

#[derive(Deserialize)]
struct WireCommitDetail {
    message: String,
    tree: WireSha,
}

#[derive(Deserialize)]
struct WireSha {
    sha: String,
}

impl OctocrabClient {
    /// A client acting with `token` against `endpoint` (such as [`DEFAULT_ENDPOINT`], an
    /// Enterprise `https://host/api/v3`, or a fake).
    pub fn with_token(endpoint: &str, token: &str) -> Result<Self> {
        Self::with_token_counting(endpoint, token, Arc::default())
    }

    /// [`OctocrabClient::with_token`] counting its requests in `counters` (an App's
    /// installations count together).
    pub(crate) fn with_token_counting(
        endpoint: &str,
        token: &str,
        counters: Arc<Counters>,
    ) -> Result<Self> {
        let octocrab = Octocrab::builder()
            .cache(counting_cache(&counters))
            .base_uri(endpoint)
            .and_then(|b| b.personal_token(token.to_owned()).build())
            .map_err(|e| Error::Transport {
                what: format!("set up a github client for {endpoint}"),
                source: Box::new(e),
            })?;
        Ok(OctocrabClient {
            octocrab,
            counters,
            identity: Arc::default(),
            git_base: git_host(endpoint)
                .map(|host| GitBase(format!("https://x-access-token:{token}@{host}").into())),
        })
    }

    /// A client acting with the token in `path` (Prow's `--github-token-path`; surrounding
    /// whitespace is ignored, as Prow's secret agent does).
    pub fn with_token_file(endpoint: &str, path: &std::path::Path) -> Result<Self> {
        let token = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        Self::with_token(endpoint, token.trim())
    }

    /// A client acting as installation `installation_id` of GitHub App `app_id`, signing its
    /// JWTs with `private_key_pem` (the App's RSA key); octocrab mints installation tokens and
    /// mints a fresh one when the current one has less than 30 seconds left.
    pub fn with_app(
        endpoint: &str,
        app_id: u64,
        private_key_pem: &[u8],
        installation_id: u64,
    ) -> Result<Self> {
        let app = Self::app(endpoint, app_id, private_key_pem)?;
        app.installation(app_id, installation_id)
    }

    /// A client acting as the installation of GitHub App `app_id` in organisation `org` (the
    /// installation is looked up with the App's JWT), as Prow uses one App across orgs.
    pub async fn with_app_for_org(
        endpoint: &str,
        app_id: u64,
        private_key_pem: &[u8],
        org: &str,
    ) -> Result<Self> {
        #[derive(Deserialize)]
        struct Installation {
            id: u64,
        }
        let app = Self::app(endpoint, app_id, private_key_pem)?;
        let what = format!("installation of github app {app_id} in {org}");
        let found: Installation = app
            .get(&what, &format!("/orgs/{}/installation", segment(org)))
            .await?;
        app.installation(app_id, found.id)
    }

    /// A client acting as GitHub App `app_id` itself (JWT auth), with an ETag cache.
    pub(crate) fn app(endpoint: &str, app_id: u64, private_key_pem: &[u8]) -> Result<Self> {
        let setup = |e: octocrab::Error| Error::Transport {
            what: format!("set up github app {app_id} for {endpoint}"),
            source: Box::new(e),
        };
        let key =
            octocrab::EncodingKey::from_rsa_pem(private_key_pem).map_err(|e| Error::Transport {
                what: format!("read the private key of github app {app_id}"),
                source: Box::new(e),
            })?;
        let counters = Arc::default();
        let octocrab = Octocrab::builder()
            .cache(counting_cache(&counters))
            .base_uri(endpoint)
            .map_err(setup)?
            .app(octocrab::models::AppId(app_id), key)
            .build()
            .map_err(setup)?;
        Ok(OctocrabClient {
            octocrab,
            counters,
            identity: Arc::default(),
            git_base: None,
        })
    }

    /// The client of one installation of the App this client acts as; it shares the App's
    /// cache and counters, not its rate limit.
    fn installation(&self, app_id: u64, installation_id: u64) -> Result<Self> {
        let octocrab = self
            .octocrab
            .installation(octocrab::models::InstallationId(installation_id))
            .map_err(|e| Error::Transport {
                what: format!("use installation {installation_id} of github app {app_id}"),
                source: Box::new(e),
            })?;
        Ok(OctocrabClient {
            octocrab,
            counters: Arc::clone(&self.counters),
            identity: Arc::default(),
            git_base: None,
        })
    }

    /// A client over an already configured octocrab; it caches only if that octocrab was built
    /// with a cache, and then [`RequestStats::cache_hits`] stays 0.
    pub fn from_octocrab(octocrab: Octocrab) -> Self {
        OctocrabClient {
            octocrab,
            counters: Arc::default(),
            identity: Arc::default(),
            git_base: None,
        }
    }

    /// The counters this client shares with its clones.
    pub(crate) fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// The requests sent so far, and how many the cache answered.
    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            cache_hits: self.counters.cache_hits.load(Ordering::Relaxed),
        }
    }

    /// The rate limit GitHub reported with its last answer, if it reported one.
    pub fn rate_limit_seen(&self) -> Option<RateLimit> {
        *self
            .identity
            .last_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Sends a request and reads the answer; non-success statuses are typed errors. A GET
    /// identical to one on its way waits for that one's answer instead of asking again (as
    /// ghproxy coalesces); if that one fails, it asks itself.
    pub(crate) async fn send(
        &self,
        method: Method,
        what: &str,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<Response> {
        if !matches!(method, Method::Get) {
            return self.send_alone(method, what, uri, body).await;
        }
        let cell = Arc::clone(self.identity.in_flight().entry(uri.to_owned()).or_default());
        let mut own_error = None;
        let shared = cell
            .get_or_init(|| async {
                let result = self.send_alone(method, what, uri, body).await;
                let mut in_flight = self.identity.in_flight();
                if in_flight.get(uri).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                    in_flight.remove(uri);
                }
                match result {
                    Ok(response) => Some(response),
                    Err(e) => {
                        own_error = Some(e);
                        None
                    }
                }
            })
            .await;
        match (shared, own_error) {
            (Some(response), _) => Ok(response.clone()),
            (None, Some(e)) => Err(e),
            (None, None) => self.send_alone(method, what, uri, body).await,
        }
    }

    /// Sends a request and reads the answer; non-success statuses are typed errors. Waits
    /// first when the budget is nearly spent ([`throttle::decide`]), and retries once after a
    /// secondary limit's `Retry-After` when that is short.
    async fn send_alone(
        &self,
        method: Method,
        what: &str,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<Response> {
        let mut retried = false;
        loop {
            if let Some(limit) = self.rate_limit_seen() {
                match throttle::decide(&limit, now_unix()) {
                    Throttle::Go => {}
                    Throttle::Wait(wait) => {
                        tracing::info!(
                            remaining = limit.remaining,
                            reset = limit.reset,
                            "github: {} of {} requests left; waiting {wait:?} before {what}",
                            limit.remaining,
                            limit.limit
                        );
                        tokio::time::sleep(wait).await;
                    }
                    Throttle::GiveUp { reset } => {
                        tracing::warn!(
                            reset,
                            "github: rate limit spent until {reset}; not sending {what}"
                        );
                        return Err(Error::RateLimited {
                            what: what.to_owned(),
                            reset,
                        });
                    }
                }
            }
            let (status, next, limits, answer) = self.send_once(method, what, uri, body).await?;
            if let (Some(limit), Some(remaining), Some(reset)) =
                (limits.limit, limits.remaining, limits.reset)
            {
                *self
                    .identity
                    .last_limit
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(RateLimit {
                    limit,
                    remaining,
                    reset,
                });
            }
            if (200..300).contains(&status) {
                return Ok(Response {
                    status,
                    next,
                    body: answer,
                });
            }
            let retry_after = limits.retry_after.map(Duration::from_secs);
            match retry_after {
                Some(wait)
                    if matches!(status, 403 | 429) && !retried && wait <= throttle::MAX_WAIT =>
                {
                    retried = true;
                    tracing::warn!(
                        status,
                        "github: secondary rate limit on {what}; retrying after {wait:?}"
                    );
                    tokio::time::sleep(wait).await;
                }
                _ => return Err(error_for(what, status, &limits, &answer)),
            }
        }
    }

    /// One request: the status, the next page, the rate-limit headers and the body.
    async fn send_once(
        &self,
        method: Method,
        what: &str,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Option<String>, Limits, Vec<u8>)> {
        let transport = |e: octocrab::Error| Error::Transport {
            what: what.to_owned(),
            source: Box::new(e),
        };
        let o = &self.octocrab;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let response = match method {
            Method::Get => o._get(uri).await,
            Method::Post => o._post(uri, body).await,
            Method::Put => o._put(uri, body).await,
            Method::Patch => o._patch(uri, body).await,
            Method::Delete => o._delete(uri, body).await,
        }
        .map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let number = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
        let next = header("link").and_then(next_link);
        let limits = Limits {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
            retry_after: number("retry-after"),
        };
        let answer = o
            .body_to_string(response)
            .await
            .map_err(transport)?
            .into_bytes();
        Ok((status, next, limits, answer))
    }

    async fn get<T: DeserializeOwned>(&self, what: &str, uri: &str) -> Result<T> {
        let response = self.send(Method::Get, what, uri, None).await?;
        decode(what, &response.body)
    }

    /// Every page of a listing; `field` names the array inside wrapped answers (search).
    pub(crate) async fn all_pages<T: DeserializeOwned>(
        &self,
        what: &str,
        uri: &str,
        field: Option<&str>,
    ) -> Result<Vec<T>> {
        let separator = if uri.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{uri}{separator}per_page={PER_PAGE}"));
        let mut items = Vec::new();
        while let Some(uri) = next {
            let response = self.send(Method::Get, what, &uri, None).await?;
            let page: Vec<T> = match field {
                None => decode(what, &response.body)?,
                Some(field) => {
                    let mut wrapped: Value = decode(what, &response.body)?;
                    // An answer of another shape (an array, say) is an error, not a panic.
                    let inner = wrapped
                        .get_mut(field)
                        .map(Value::take)
                        .unwrap_or(Value::Null);
                    serde_json::from_value(inner).map_err(|e| Error::Transport {
                        what: format!("read the answer to {what}"),
                        source: Box::new(e),
                    })?
                }
            };
            items.extend(page);
            next = response.next;
        }
        Ok(items)
    }

    async fn write(&self, method: Method, what: &str, uri: &str, body: &Value) -> Result<Response> {
        self.send(method, what, uri, Some(body)).await
    }

    /// Sends a GraphQL query or mutation and answers its `data`; GraphQL's own errors (sent
    /// with status 200) fail with the first one's message.
    async fn graphql(&self, what: &str, query: &str, variables: Value) -> Result<Value> {
        #[derive(Deserialize)]
        struct Answer {
            data: Option<Value>,
            #[serde(default)]
            errors: Vec<GraphQlError>,
        }
        #[derive(Deserialize)]
        struct GraphQlError {
            message: String,
        }
        let body = json!({"query": query, "variables": variables});
        let response = self.write(Method::Post, what, "/graphql", &body).await?;
        let answer: Answer = decode(what, &response.body)?;
        if let Some(first) = answer.errors.first() {
            return Err(Error::Validation {
                what: what.to_owned(),
                message: first.message.clone(),
            });
        }
        Ok(answer.data.unwrap_or(Value::Null))
    }
}

fn counting_cache(counters: &Arc<Counters>) -> CountingCache {
    CountingCache {
        inner: BoundedCache::default(),
        counters: Arc::clone(counters),
    }
}

/// The git host of an API endpoint: github.com for api.github.com, the host of an Enterprise
/// `https://host/api/v3`; none for anything else.
fn git_host(endpoint: &str) -> Option<String> {
    let rest = endpoint.strip_prefix("https://")?.trim_end_matches('/');
    if rest == "api.github.com" {
        return Some("github.com".to_owned());
    }
    rest.strip_suffix("/api/v3").map(str::to_owned)
}

fn repo_path(org: &str, repo: &str) -> String {
    format!("/repos/{}/{}", segment(org), segment(repo))
}

/// The protection address of a branch (branch names may hold `/`, sent encoded).
fn protection_path(org: &str, repo: &str, branch: &str) -> String {
    format!(
        "{}/branches/{}/protection",
        repo_path(org, repo),
        segment(branch)
    )
}

/// A branch in GitHub's listing.
#[derive(Deserialize)]
struct WireBranch {
    name: String,
    commit: WireSha,
    #[serde(default)]
    protected: bool,
}

impl WireBranch {
    fn head(self) -> BranchHead {
        BranchHead {
            name: self.name,
            sha: self.commit.sha,
            protected: self.protected,
        }
    }
}

/// `{"enabled": bool}`, as GitHub reports a protection switch.
#[derive(Deserialize, Default)]
struct Enabled {
    #[serde(default)]
    enabled: bool,
}

/// A login or a slug inside a protection answer.
#[derive(Deserialize)]
struct Named {
    #[serde(default)]
    login: String,
    #[serde(default)]
    slug: String,
}

/// Users, teams and apps inside a protection answer.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WireNamed {
    users: Vec<Named>,
    teams: Vec<Named>,
    apps: Vec<Named>,
}

impl WireNamed {
    fn logins(list: Vec<Named>) -> Vec<String> {
        list.into_iter().map(|n| n.login).collect()
    }
    fn slugs(list: Vec<Named>) -> Vec<String> {
        list.into_iter().map(|n| n.slug).collect()
    }
    fn allowances(self) -> ReviewAllowances {
        ReviewAllowances {
            users: Self::logins(self.users),
            teams: Self::slugs(self.teams),
        }
    }
}

/// Review requirements as GitHub reports them.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WireReviews {
    dismissal_restrictions: Option<WireNamed>,
    dismiss_stale_reviews: bool,
    require_code_owner_reviews: bool,
    required_approving_review_count: u32,
    bypass_pull_request_allowances: Option<WireNamed>,
}

/// `GET .../branches/{branch}/protection` as GitHub answers it.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WireProtection {
    required_status_checks: Option<RequiredStatusChecks>,
    enforce_admins: Option<Enabled>,
    required_pull_request_reviews: Option<WireReviews>,
    restrictions: Option<WireNamed>,
    required_linear_history: Option<Enabled>,
    allow_force_pushes: Option<Enabled>,
    allow_deletions: Option<Enabled>,
    required_signatures: Option<Enabled>,
}

impl From<WireProtection> for BranchProtection {
    fn from(p: WireProtection) -> Self {
        let on = |e: Option<Enabled>| e.is_some_and(|e| e.enabled);
        BranchProtection {
            required_status_checks: p.required_status_checks,
            enforce_admins: on(p.enforce_admins),
            required_pull_request_reviews: p.required_pull_request_reviews.map(|r| {
                PullRequestReviews {
                    dismissal_restrictions: r.dismissal_restrictions.map(WireNamed::allowances),
                    dismiss_stale_reviews: r.dismiss_stale_reviews,
                    require_code_owner_reviews: r.require_code_owner_reviews,
                    required_approving_review_count: r.required_approving_review_count,
                    bypass_pull_request_allowances: r
                        .bypass_pull_request_allowances
                        .map(WireNamed::allowances),
                }
            }),
            restrictions: p.restrictions.map(|r| PushRestrictions {
                apps: WireNamed::slugs(r.apps),
                users: WireNamed::logins(r.users),
                teams: WireNamed::slugs(r.teams),
            }),
            required_linear_history: on(p.required_linear_history),
            allow_force_pushes: on(p.allow_force_pushes),
            allow_deletions: on(p.allow_deletions),
            required_signatures: on(p.required_signatures),
        }
    }
}

#[async_trait]
impl GitHubClient for OctocrabClient {
    async fn bot_user(&self) -> Result<User> {
        self.get("get the authenticated user", "/user").await
    }

    async fn pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest> {
        let what = format!("pull request {org}/{repo}#{number}");
        self.get(&what, &format!("{}/pulls/{number}", repo_path(org, repo)))
            .await
    }

    async fn pull_request_files(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestFile>> {
        let what = format!("files of {org}/{repo}#{number}");
        self.all_pages(
            &what,
            &format!("{}/pulls/{number}/files", repo_path(org, repo)),
            None,
        )
        .await
    }

    async fn pull_request_commits(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<CommitInfo>> {
        let what = format!("commits of {org}/{repo}#{number}");
        let commits: Vec<WireCommit> = self
            .all_pages(
                &what,
                &format!("{}/pulls/{number}/commits", repo_path(org, repo)),
                None,
            )
            .await?;
        Ok(commits
            .into_iter()
            .map(|c| CommitInfo {
                sha: c.sha,
                message: c.commit.message,
                tree_sha: c.commit.tree.sha,
                author_login: c.author.map(|a| a.login),
                parents: c.parents.into_iter().map(|p| p.sha).collect(),
            })
            .collect())
    }

    async fn reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>> {
        let what = format!("reviews of {org}/{repo}#{number}");
        self.all_pages(
            &what,
            &format!("{}/pulls/{number}/reviews", repo_path(org, repo)),
            None,
        )
        .await
    }

    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let what = format!("request reviews on {org}/{repo}#{number}");
        let uri = format!(
            "{}/pulls/{number}/requested_reviewers",
            repo_path(org, repo)
        );
        self.write(Method::Post, &what, &uri, &json!({ "reviewers": logins }))
            .await?;
        Ok(())
    }

    async fn unrequest_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let what = format!("withdraw review requests on {org}/{repo}#{number}");
        let uri = format!(
            "{}/pulls/{number}/requested_reviewers",
            repo_path(org, repo)
        );
        self.write(Method::Delete, &what, &uri, &json!({ "reviewers": logins }))
            .await?;
        Ok(())
    }

    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        not_planned: bool,
    ) -> Result<()> {
        let what = format!("close {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}", repo_path(org, repo));
        let body = if not_planned {
            json!({ "state": "closed", "state_reason": "not_planned" })
        } else {
            json!({ "state": "closed" })
        };
        self.write(Method::Patch, &what, &uri, &body).await?;
        Ok(())
    }

    async fn create_comment_reaction(
        &self,
        org: &str,
        repo: &str,
        comment_id: u64,
        reaction: &str,
    ) -> Result<()> {
        let what = format!("react {reaction:?} to comment {comment_id} in {org}/{repo}");
        let uri = format!(
            "{}/issues/comments/{comment_id}/reactions",
            repo_path(org, repo)
        );
        self.write(Method::Post, &what, &uri, &json!({ "content": reaction }))
            .await?;
        Ok(())
    }

    async fn create_issue_reaction(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        reaction: &str,
    ) -> Result<()> {
        let what = format!("react {reaction:?} to {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}/reactions", repo_path(org, repo));
        self.write(Method::Post, &what, &uri, &json!({ "content": reaction }))
            .await?;
        Ok(())
    }

    async fn milestones(&self, org: &str, repo: &str) -> Result<Vec<Milestone>> {
        let what = format!("milestones of {org}/{repo}");
        let uri = format!("{}/milestones?state=all", repo_path(org, repo));
        self.all_pages(&what, &uri, None).await
    }

    async fn set_milestone(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        milestone: Option<u64>,
    ) -> Result<()> {
        let what = format!("set the milestone of {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}", repo_path(org, repo));
        self.write(
            Method::Patch,
            &what,
            &uri,
            &json!({ "milestone": milestone }),
        )
        .await?;
        Ok(())
    }

    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()> {
        let what = format!("reopen {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}", repo_path(org, repo));
        self.write(Method::Patch, &what, &uri, &json!({ "state": "open" }))
            .await?;
        Ok(())
    }

    async fn edit_issue_body(&self, org: &str, repo: &str, number: u64, body: &str) -> Result<()> {
        let what = format!("edit the body of {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}", repo_path(org, repo));
        self.write(Method::Patch, &what, &uri, &json!({ "body": body }))
            .await?;
        Ok(())
    }

    async fn edit_issue_title(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        title: &str,
    ) -> Result<()> {
        let what = format!("edit the title of {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}", repo_path(org, repo));
        self.write(Method::Patch, &what, &uri, &json!({ "title": title }))
            .await?;
        Ok(())
    }

    async fn merge(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        request: &MergeRequest,
    ) -> Result<()> {
        let what = format!("{org}/{repo}#{number}");
        let uri = format!("{}/pulls/{number}/merge", repo_path(org, repo));
        let mut body = json!({ "merge_method": request.method });
        for (key, value) in [
            ("sha", &request.sha),
            ("commit_title", &request.commit_title),
            ("commit_message", &request.commit_message),
        ] {
            if let Some(value) = value {
                body[key] = json!(value);
            }
        }
        match self.write(Method::Put, &what, &uri, &body).await {
            Ok(_) => Ok(()),
            // 405: GitHub will not merge (conflict, protection, closed); 409: the head moved.
            Err(Error::Api {
                status: 405,
                message,
                ..
            }) => Err(Error::NotMergeable {
                what,
                reason: message,
            }),
            Err(Error::Api { status: 409, .. }) => {
                let actual = match self.pull_request(org, repo, number).await {
                    Ok(pr) => pr.head.sha,
                    Err(_) => "unknown".to_owned(),
                };
                Err(Error::HeadChanged {
                    what,
                    expected: request.sha.clone().unwrap_or_default(),
                    actual,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn combined_status(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> Result<CombinedStatus> {
        let what = format!("combined status of {org}/{repo}@{git_ref}");
        let uri = format!(
            "{}/commits/{}/status?per_page={PER_PAGE}",
            repo_path(org, repo),
            segment(git_ref)
        );
        self.get(&what, &uri).await
    }

    async fn check_runs(&self, org: &str, repo: &str, git_ref: &str) -> Result<Vec<CheckRun>> {
        let what = format!("check runs of {org}/{repo}@{git_ref}");
        let uri = format!(
            "{}/commits/{}/check-runs",
            repo_path(org, repo),
            segment(git_ref)
        );
        self.all_pages(&what, &uri, Some("check_runs")).await
    }

    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()> {
        let what = format!("set status {} on {org}/{repo}@{sha}", status.context);
        let mut body = json!({ "state": status.state, "context": status.context });
        if let Some(url) = &status.target_url {
            body["target_url"] = json!(url);
        }
        if let Some(description) = &status.description {
            body["description"] = json!(description);
        }
        let uri = format!("{}/statuses/{}", repo_path(org, repo), segment(sha));
        self.write(Method::Post, &what, &uri, &body).await?;
        Ok(())
    }

    async fn issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>> {
        let what = format!("labels of {org}/{repo}#{number}");
        self.all_pages(
            &what,
            &format!("{}/issues/{number}/labels", repo_path(org, repo)),
            None,
        )
        .await
    }

    async fn add_labels(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<()> {
        let what = format!("add labels to {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}/labels", repo_path(org, repo));
        self.write(Method::Post, &what, &uri, &json!({ "labels": labels }))
            .await?;
        Ok(())
    }

    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()> {
        let what = format!("label {label:?} on {org}/{repo}#{number}");
        let uri = format!(
            "{}/issues/{number}/labels/{}",
            repo_path(org, repo),
            segment(label)
        );
        self.send(Method::Delete, &what, &uri, None).await?;
        Ok(())
    }

    async fn repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>> {
        let what = format!("labels of {org}/{repo}");
        self.all_pages(&what, &format!("{}/labels", repo_path(org, repo)), None)
            .await
    }

    async fn create_repo_label(&self, org: &str, repo: &str, label: &Label) -> Result<()> {
        let what = format!("create label {:?} in {org}/{repo}", label.name);
        let body =
            json!({ "name": label.name, "color": label.color, "description": label.description });
        self.write(
            Method::Post,
            &what,
            &format!("{}/labels", repo_path(org, repo)),
            &body,
        )
        .await?;
        Ok(())
    }

    async fn update_repo_label(
        &self,
        org: &str,
        repo: &str,
        name: &str,
        label: &Label,
    ) -> Result<()> {
        let what = format!("label {name:?} in {org}/{repo}");
        let body = json!({ "new_name": label.name, "color": label.color, "description": label.description });
        let uri = format!("{}/labels/{}", repo_path(org, repo), segment(name));
        self.write(Method::Patch, &what, &uri, &body).await?;
        Ok(())
    }

    async fn issue_comments(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Comment>> {
        let what = format!("comments of {org}/{repo}#{number}");
        self.all_pages(
            &what,
            &format!("{}/issues/{number}/comments", repo_path(org, repo)),
            None,
        )
        .await
    }

    async fn git_remote(&self, org: &str, repo: &str) -> Result<String> {
        let base = self
            .git_base
            .as_ref()
            .map_or("https://github.com", |b| &*b.0);
        Ok(format!("{base}/{org}/{repo}.git"))
    }

    async fn ensure_fork(&self, user: &str, org: &str, repo: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Fork {
            name: String,
        }
        let what = format!("fork {org}/{repo} for {user}");
        match self.get::<Fork>(&what, &repo_path(user, repo)).await {
            Ok(fork) => return Ok(fork.name),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        let response = self
            .write(
                Method::Post,
                &what,
                &format!("{}/forks", repo_path(org, repo)),
                &json!({}),
            )
            .await?;
        Ok(decode::<Fork>(&what, &response.body)?.name)
    }

    async fn create_pull_request(
        &self,
        org: &str,
        repo: &str,
        new: &NewPullRequest,
    ) -> Result<u64> {
        let what = format!(
            "open a pull request from {} into {org}/{repo}:{}",
            new.head, new.base
        );
        let response = self
            .write(
                Method::Post,
                &what,
                &format!("{}/pulls", repo_path(org, repo)),
                &json!({
                    "title": new.title,
                    "body": new.body,
                    "head": new.head,
                    "base": new.base,
                    "maintainer_can_modify": new.maintainer_can_modify,
                }),
            )
            .await?;
        Ok(decode::<PullRequest>(&what, &response.body)?.number)
    }

    async fn pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>> {
        let what = format!("pull requests of {org}/{repo}");
        self.all_pages(
            &what,
            &format!("{}/pulls?state=open", repo_path(org, repo)),
            None,
        )
        .await
    }

    async fn org_members(&self, org: &str) -> Result<Vec<String>> {
        let what = format!("members of {org}");
        let members: Vec<User> = self
            .all_pages(
                &what,
                &format!("/orgs/{}/members?role=all", segment(org)),
                None,
            )
            .await?;
        Ok(members.into_iter().map(|u| u.login).collect())
    }

    async fn create_issue(
        &self,
        org: &str,
        repo: &str,
        title: &str,
        body: &str,
        assignees: &[String],
    ) -> Result<u64> {
        let what = format!("open an issue in {org}/{repo}");
        let response = self
            .write(
                Method::Post,
                &what,
                &format!("{}/issues", repo_path(org, repo)),
                &json!({ "title": title, "body": body, "assignees": assignees }),
            )
            .await?;
        Ok(decode::<Issue>(&what, &response.body)?.number)
    }

    async fn create_comment(&self, org: &str, repo: &str, number: u64, body: &str) -> Result<u64> {
        let what = format!("comment on {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}/comments", repo_path(org, repo));
        let response = self
            .write(Method::Post, &what, &uri, &json!({ "body": body }))
            .await?;
        Ok(decode::<Comment>(&what, &response.body)?.id)
    }

    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()> {
        let what = format!("comment {id} in {org}/{repo}");
        let uri = format!("{}/issues/comments/{id}", repo_path(org, repo));
        self.write(Method::Patch, &what, &uri, &json!({ "body": body }))
            .await?;
        Ok(())
    }

    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()> {
        let what = format!("ref {git_ref} of {org}/{repo}");
        let uri = format!("{}/git/refs/{git_ref}", repo_path(org, repo));
        self.send(Method::Delete, &what, &uri, None).await?;
        Ok(())
    }

    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()> {
        let what = format!("comment {id} in {org}/{repo}");
        let uri = format!("{}/issues/comments/{id}", repo_path(org, repo));
        self.send(Method::Delete, &what, &uri, None).await?;
        Ok(())
    }

    async fn add_assignees(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let what = format!("assign {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}/assignees", repo_path(org, repo));
        self.write(Method::Post, &what, &uri, &json!({ "assignees": logins }))
            .await?;
        Ok(())
    }

    async fn remove_assignees(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let what = format!("unassign {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}/assignees", repo_path(org, repo));
        self.write(Method::Delete, &what, &uri, &json!({ "assignees": logins }))
            .await?;
        Ok(())
    }

    async fn collaborator_permission(
        &self,
        org: &str,
        repo: &str,
        user: &str,
    ) -> Result<Permission> {
        #[derive(Deserialize)]
        struct Answer {
            permission: Permission,
            /// `maintain` and `triage` only show here; `permission` folds them into write/read.
            role_name: Option<String>,
        }
        let what = format!("permission of {user} on {org}/{repo}");
        let uri = format!(
            "{}/collaborators/{}/permission",
            repo_path(org, repo),
            segment(user)
        );
        let answer: Answer = self.get(&what, &uri).await?;
        Ok(match answer.role_name.as_deref() {
            Some("maintain") => Permission::Maintain,
            Some("triage") => Permission::Triage,
            _ => answer.permission,
        })
    }

    async fn is_org_member(&self, org: &str, user: &str) -> Result<bool> {
        let what = format!("membership of {user} in {org}");
        let uri = format!("/orgs/{}/members/{}", segment(org), segment(user));
        match self.send(Method::Get, &what, &uri, None).await {
            Ok(response) => Ok(response.status == 204),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn is_team_member(&self, org: &str, team_slug: &str, user: &str) -> Result<bool> {
        #[derive(Deserialize)]
        struct Membership {
            state: String,
        }
        let what = format!("membership of {user} in {org}/{team_slug}");
        let uri = format!(
            "/orgs/{}/teams/{}/memberships/{}",
            segment(org),
            segment(team_slug),
            segment(user)
        );
        match self.get::<Membership>(&what, &uri).await {
            Ok(m) => Ok(m.state == "active"),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn search_issues(&self, query: &str) -> Result<Vec<Issue>> {
        let what = format!("search {query:?}");
        self.all_pages(
            &what,
            &format!("/search/issues?q={}", search_query(query)),
            Some("items"),
        )
        .await
    }

    async fn label_added_by(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        label: &str,
    ) -> Result<Option<String>> {
        #[derive(Deserialize)]
        struct IssueEvent {
            #[serde(default)]
            event: String,
            #[serde(default)]
            actor: Option<User>,
            #[serde(default)]
            label: Option<Label>,
        }
        let what = format!("events of {org}/{repo}#{number}");
        let events: Vec<IssueEvent> = self
            .all_pages(
                &what,
                &format!("{}/issues/{number}/events", repo_path(org, repo)),
                None,
            )
            .await?;
        Ok(events
            .into_iter()
            .rfind(|e| e.event == "labeled" && e.label.as_ref().is_some_and(|l| l.name == label))
            .and_then(|e| e.actor)
            .map(|a| a.login)
            .filter(|login| !login.is_empty()))
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<String>> {
        let what = format!("search users with email {email}");
        let uri = format!(
            "/search/users?q={}&per_page=5",
            search_query(&format!("{email} in:email"))
        );
        let mut found: Value = self.get(&what, &uri).await?;
        let users: Vec<User> =
            serde_json::from_value(found["items"].take()).map_err(|e| Error::Transport {
                what: format!("read the answer to {what}"),
                source: Box::new(e),
            })?;
        Ok(users.into_iter().map(|u| u.login).collect())
    }

    // Classic projects (project, project-manager).

    async fn repo_projects(&self, org: &str, repo: &str) -> Result<Vec<Project>> {
        let what = format!("projects of {org}/{repo}");
        self.all_pages(&what, &format!("{}/projects", repo_path(org, repo)), None)
            .await
    }

    async fn org_projects(&self, org: &str) -> Result<Vec<Project>> {
        let what = format!("projects of {org}");
        self.all_pages(&what, &format!("/orgs/{}/projects", segment(org)), None)
            .await
    }

    async fn project_columns(&self, org: &str, project_id: u64) -> Result<Vec<ProjectColumn>> {
        let what = format!("columns of project {project_id} in {org}");
        self.all_pages(&what, &format!("/projects/{project_id}/columns"), None)
            .await
    }

    async fn column_cards(&self, org: &str, column_id: u64) -> Result<Vec<ProjectCard>> {
        let what = format!("cards of project column {column_id} in {org}");
        self.all_pages(&what, &format!("/projects/columns/{column_id}/cards"), None)
            .await
    }

    async fn create_project_card(
        &self,
        org: &str,
        column_id: u64,
        content: CardContent,
    ) -> Result<ProjectCard> {
        let what = format!("add a card to project column {column_id} in {org}");
        let body = serde_json::to_value(content).map_err(|e| Error::Transport {
            what: what.clone(),
            source: Box::new(e),
        })?;
        let response = self
            .write(
                Method::Post,
                &what,
                &format!("/projects/columns/{column_id}/cards"),
                &body,
            )
            .await?;
        decode(&what, &response.body)
    }

    async fn move_project_card(&self, org: &str, card_id: u64, column_id: u64) -> Result<()> {
        let what = format!("move project card {card_id} to column {column_id} in {org}");
        self.write(
            Method::Post,
            &what,
            &format!("/projects/columns/cards/{card_id}/moves"),
            &json!({ "position": "top", "column_id": column_id }),
        )
        .await?;
        Ok(())
    }

    async fn delete_project_card(&self, org: &str, card_id: u64) -> Result<()> {
        let what = format!("delete project card {card_id} in {org}");
        // Upstream's path has a stray `:` before the ID; this is GitHub's documented one.
        self.send(
            Method::Delete,
            &what,
            &format!("/projects/columns/cards/{card_id}"),
            None,
        )
        .await?;
        Ok(())
    }

    async fn team_has_member(&self, org: &str, team_id: u64, user: &str) -> Result<bool> {
        let what = format!("members of team {team_id} of {org}");
        let members: Vec<User> = self
            .all_pages(&what, &format!("/teams/{team_id}/members?role=all"), None)
            .await?;
        Ok(members.iter().any(|m| m.login.eq_ignore_ascii_case(user)))
    }

    async fn file_contents(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>> {
        #[derive(Deserialize)]
        struct Contents {
            content: String,
        }
        let what = format!("{path} in {org}/{repo}@{git_ref}");
        let path: Vec<String> = path.split('/').map(segment).collect();
        let uri = format!(
            "{}/contents/{}?ref={}",
            repo_path(org, repo),
            path.join("/"),
            segment(git_ref)
        );
        let contents: Contents = match self.get(&what, &uri).await {
            Ok(contents) => contents,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let encoded: String = contents.content.split_ascii_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map(Some)
            .map_err(|e| Error::Transport {
                what: format!("decode {what}"),
                source: Box::new(e),
            })
    }

    async fn ref_sha(&self, org: &str, repo: &str, git_ref: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Ref {
            object: WireSha,
        }
        if git_ref.len() == 40 && git_ref.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(git_ref.to_owned());
        }
        let full = if git_ref.starts_with("heads/") || git_ref.starts_with("tags/") {
            git_ref.to_owned()
        } else {
            format!("heads/{git_ref}")
        };
        let what = format!("ref {full} of {org}/{repo}");
        let path: Vec<String> = full.split('/').map(segment).collect();
        let uri = format!("{}/git/ref/{}", repo_path(org, repo), path.join("/"));
        Ok(self.get::<Ref>(&what, &uri).await?.object.sha)
    }

    async fn branches(&self, org: &str, repo: &str) -> Result<Vec<BranchHead>> {
        let what = format!("branches of {org}/{repo}");
        let branches: Vec<WireBranch> = self
            .all_pages(&what, &format!("{}/branches", repo_path(org, repo)), None)
            .await?;
        Ok(branches.into_iter().map(WireBranch::head).collect())
    }

    async fn branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<BranchProtection>> {
        let what = format!("protection of {org}/{repo}:{branch}");
        match self
            .get::<WireProtection>(&what, &protection_path(org, repo, branch))
            .await
        {
            Ok(p) => Ok(Some(p.into())),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn update_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        request: &BranchProtectionRequest,
    ) -> Result<()> {
        let what = format!("update the protection of {org}/{repo}={branch}");
        let body = serde_json::to_value(request).map_err(|e| Error::Validation {
            what: what.clone(),
            message: e.to_string(),
        })?;
        self.write(
            Method::Put,
            &what,
            &protection_path(org, repo, branch),
            &body,
        )
        .await?;
        Ok(())
    }

    async fn remove_branch_protection(&self, org: &str, repo: &str, branch: &str) -> Result<()> {
        let what = format!("remove the protection of {org}/{repo}={branch}");
        self.send(
            Method::Delete,
            &what,
            &protection_path(org, repo, branch),
            None,
        )
        .await?;
        Ok(())
    }

    async fn set_required_signatures(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        required: bool,
    ) -> Result<()> {
        let what = format!("change commit signature protection of {org}/{repo}={branch}");
        let uri = format!("{}/required_signatures", protection_path(org, repo, branch));
        let method = if required {
            Method::Post
        } else {
            Method::Delete
        };
        self.send(method, &what, &uri, None).await?;
        Ok(())
    }

    async fn branches_by_protection(
        &self,
        org: &str,
        repo: &str,
        protected: bool,
    ) -> Result<Vec<BranchHead>> {
        let what = format!("branches of {org}/{repo} (protected={protected})");
        let uri = format!("{}/branches?protected={protected}", repo_path(org, repo));
        let branches: Vec<WireBranch> = self.all_pages(&what, &uri, None).await?;
        Ok(branches.into_iter().map(WireBranch::head).collect())
    }

    async fn repository(&self, org: &str, repo: &str) -> Result<Repo> {
        let what = format!("repository {org}/{repo}");
        self.get(&what, &repo_path(org, repo)).await
    }

    async fn org_repos(&self, org: &str) -> Result<Vec<Repo>> {
        let what = format!("repositories of {org}");
        self.all_pages(&what, &format!("/orgs/{}/repos", segment(org)), None)
            .await
    }

    async fn rate_limit(&self) -> Result<RateLimit> {
        #[derive(Deserialize)]
        struct Answer {
            resources: Resources,
        }
        #[derive(Deserialize)]
        struct Resources {
            core: RateLimit,
        }
        Ok(self
            .get::<Answer>("get the rate limit", "/rate_limit")
            .await?
            .resources
            .core)
    }

    async fn blame(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
        path: &str,
    ) -> Result<Vec<crate::types::BlameRange>> {
        #[derive(Deserialize, Default)]
        #[serde(default, rename_all = "camelCase")]
        struct Range {
            starting_line: u64,
            ending_line: u64,
            commit: RangeCommit,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct RangeCommit {
            author: RangeAuthor,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct RangeAuthor {
            user: Option<RangeUser>,
            date: String,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct RangeUser {
            login: String,
        }
        const QUERY: &str = "query($owner: String!, $name: String!, $ref: String!, $path: String!) { repository(owner: $owner, name: $name) { object(expression: $ref) { ... on Commit { blame(path: $path) { ranges { startingLine endingLine commit { author { user { login } date } } } } } } } }";
        let what = format!("graphql blame query for {path}");
        let variables = json!({"owner": org, "name": repo, "ref": git_ref, "path": path});
        let data = self.graphql(&what, QUERY, variables).await?;
        let ranges = data
            .pointer("/repository/object/blame/ranges")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        let ranges: Vec<Range> = serde_json::from_value(ranges).map_err(|e| Error::Validation {
            what: what.clone(),
            message: e.to_string(),
        })?;
        Ok(ranges
            .into_iter()
            .map(|r| {
                let login = r.commit.author.user.map(|u| u.login.to_lowercase());
                crate::types::BlameRange::new(
                    r.starting_line,
                    r.ending_line,
                    &login.unwrap_or_default(),
                    &r.commit.author.date,
                )
            })
            .collect())
    }

    async fn merge_base(&self, org: &str, repo: &str, base: &str, head: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            merge_base_commit: Option<WireSha>,
        }
        let what = format!("compare {base}...{head} in {org}/{repo}");
        let uri = format!(
            "{}/compare/{}...{}",
            repo_path(org, repo),
            segment(base),
            segment(head)
        );
        let sha = self
            .get::<Answer>(&what, &uri)
            .await?
            .merge_base_commit
            .map(|c| c.sha)
            .unwrap_or_default();
        if sha.is_empty() {
            return Err(Error::Validation {
                what,
                message: format!("no merge base found for {base}...{head}"),
            });
        }
        Ok(sha)
    }

    async fn commit_tree(&self, org: &str, repo: &str, sha: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Answer {
            commit: Commit,
        }
        #[derive(Deserialize)]
        struct Commit {
            tree: WireSha,
        }
        let what = format!("commit {org}/{repo}@{sha}");
        let uri = format!("{}/commits/{}", repo_path(org, repo), segment(sha));
        Ok(self.get::<Answer>(&what, &uri).await?.commit.tree.sha)
    }

    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &crate::client::DraftReview,
    ) -> Result<()> {
        let what = format!("create a review on {org}/{repo}#{number}");
        let body = serde_json::to_value(review).map_err(|e| Error::Validation {
            what: what.clone(),
            message: e.to_string(),
        })?;
        let uri = format!("{}/pulls/{number}/reviews", repo_path(org, repo));
        self.write(Method::Post, &what, &uri, &body).await?;
        Ok(())
    }

    // issue-management: transfer, pin.

    async fn issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue> {
        let what = format!("issue {org}/{repo}#{number}");
        let uri = format!("{}/issues/{number}", repo_path(org, repo));
        self.get(&what, &uri).await
    }

    async fn pin_issue(&self, org: &str, issue_id: &str) -> Result<()> {
        const MUTATION: &str =
            "mutation($input: PinIssueInput!) { pinIssue(input: $input) { issue { id } } }";
        let what = format!("pin issue {issue_id} in {org}");
        self.graphql(&what, MUTATION, json!({"input": {"issueId": issue_id}}))
            .await?;
        Ok(())
    }

    async fn unpin_issue(&self, org: &str, issue_id: &str) -> Result<()> {
        const MUTATION: &str =
            "mutation($input: UnpinIssueInput!) { unpinIssue(input: $input) { issue { id } } }";
        let what = format!("unpin issue {issue_id} in {org}");
        self.graphql(&what, MUTATION, json!({"input": {"issueId": issue_id}}))
            .await?;
        Ok(())
    }

    async fn transfer_issue(&self, org: &str, issue_id: &str, repo_id: &str) -> Result<String> {
        const MUTATION: &str = "mutation($input: TransferIssueInput!) { transferIssue(input: $input) { issue { url } } }";
        let what = format!("transfer issue {issue_id} to repository {repo_id} in {org}");
        let data = self
            .graphql(
                &what,
                MUTATION,
                json!({"input": {"issueId": issue_id, "repositoryId": repo_id}}),
            )
            .await?;
        Ok(data
            .pointer("/transferIssue/issue/url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    fn api_usage(&self) -> Option<crate::client::ApiUsage> {
        let stats = self.stats();
        Some(crate::client::ApiUsage {
            requests: stats.requests,
            cache_hits: stats.cache_hits,
            rate_limit: self.rate_limit_seen(),
        })
    }
}
