//! deck's HTTP handlers: thin glue between requests and the pure modules.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJob, ProwJobState};
use serde::Serialize;

use super::{Deck, artifacts, auth, badge, buildlog, jobs, junit, rerun};

type Params = Query<BTreeMap<String, String>>;

const INDEX: &str = include_str!("static/index.html");
const JOB: &str = include_str!("static/job.html");
const PR: &str = include_str!("static/pr.html");
const TIDE: &str = include_str!("static/tide.html");
const COMMAND_HELP: &str = include_str!("static/command-help.html");
const SCRIPT: &str = include_str!("static/deck.js");
const STYLE: &str = include_str!("static/deck.css");
/// How many artifact files the job page lists at most.
const ARTIFACT_LIST_LIMIT: usize = 1000;

pub(super) fn routes(deck: Arc<Deck>) -> Router {
    Router::new()
        .route("/", get(|| page(INDEX)))
        .route("/job", get(|| page(JOB)))
        .route("/pr", get(|| page(PR)))
        .route("/tide", get(|| page(TIDE)))
        .route("/tide-history", get(|| page(TIDE)))
        .route("/command-help", get(|| page(COMMAND_HELP)))
        .route("/plugins", get(|| page(COMMAND_HELP)))
        .route(
            "/static/deck.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], SCRIPT) }),
        )
        .route(
            "/static/deck.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], STYLE) }),
        )
        .route("/prowjobs.js", get(prowjobs))
        .route("/deck/jobs.json", get(job_list))
        .route("/deck/job.json", get(job_detail))
        .route("/plugin-help.js", get(plugin_help))
        .route("/deck/command-help.json", get(command_help))
        .route("/badge.svg", get(badge_svg))
        .route("/log", get(log))
        .route("/artifacts/{*path}", get(artifact))
        .route("/rerun", get(rerun_show).post(rerun_create))
        .route("/abort", post(abort))
        .with_state(deck)
}

pub(super) async fn page(html: &'static str) -> Response {
    no_cache(Html(html).into_response())
}

pub(super) fn no_cache(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    response
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

/// Every job deck may show (hidden ones left out), shared with the store's cache.
async fn visible_jobs(deck: &Deck) -> Result<Vec<Arc<ProwJob>>, Response> {
    let config = deck.config.current();
    let hidden = &config.config.prow.deck.hidden_repos;
    let all = deck
        .store
        .list_shared(&Default::default())
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, format!("list jobs: {e}")))?;
    Ok(all
        .into_iter()
        .filter(|j| !jobs::is_hidden(j, hidden))
        .collect())
}

/// The job `name`, unless it is missing or hidden.
async fn visible_job(deck: &Deck, name: &str) -> Result<ProwJob, Response> {
    let found = deck
        .store
        .get(name)
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, format!("get job: {e}")))?;
    let config = deck.config.current();
    match found {
        Some(job) if !jobs::is_hidden(&job, &config.config.prow.deck.hidden_repos) => Ok(job),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            format!("ProwJob not found: prowjobs.prow.k8s.io {name:?} not found"),
        )),
    }
}

pub(super) fn json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => no_cache(([(header::CONTENT_TYPE, "application/json")], body).into_response()),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encode JSON: {e}"),
        ),
    }
}

/// `/prowjobs.js`: built once per store version and request (filters, omitted fields and
/// hidden repos), then served from [`Deck::prowjobs_bodies`] until the store changes. A store
/// that cannot tell its version gets a fresh body every time.
///
/// The request that builds a body streams it as it is written, so its answer starts at once
/// however many jobs there are; requests for the same body meanwhile wait for it to be kept.
async fn prowjobs(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let param = |k: &str| query.get(k).cloned().unwrap_or_default();
    let hidden = deck.config.current().config.prow.deck.hidden_repos.clone();
    let filter = [param("org"), param("repo"), param("owner"), param("omit")];
    let key = format!("{:?}", (&filter, &hidden));
    let version = deck.store.version().await.ok().flatten();
    if let Some(body) = version.and_then(|v| deck.prowjobs_bodies.get(v, &key)) {
        return json_body(body.into_body());
    }
    let (start, started) = tokio::sync::oneshot::channel();
    tokio::spawn(build_prowjobs(deck, key, version, filter, start));
    match started.await {
        Ok(Start::Kept(body)) => json_body(body.into_body()),
        Ok(Start::Refused(response)) => response,
        Ok(Start::Streaming(chunks)) => {
            let stream = futures::stream::unfold(chunks, |mut chunks| async move {
                chunks
                    .recv()
                    .await
                    .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), chunks))
            });
            json_body(axum::body::Body::from_stream(stream))
        }
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the job list could not be built",
        ),
    }
}

/// How a `/prowjobs.js` answer starts.
enum Start {
    /// Another request built the body meanwhile.
    Kept(super::listing::Kept),
    /// The jobs could not be listed.
    Refused(Response),
    /// The body, in pieces as they are written.
    Streaming(tokio::sync::mpsc::Receiver<axum::body::Bytes>),
}

/// How much of a `/prowjobs.js` body is sent at a time.
const PROWJOBS_CHUNK: usize = 256 * 1024;

/// Builds one `/prowjobs.js` body (one build at a time), streams it to `start`'s request, and
/// keeps it for `key` at `version`. Keeps going when the request goes away, so that the body
/// the build was for is kept for the next one.
async fn build_prowjobs(
    deck: Arc<Deck>,
    key: String,
    version: Option<u64>,
    [org, repo, owner, omit]: [String; 4],
    start: tokio::sync::oneshot::Sender<Start>,
) {
    let cache = &deck.prowjobs_bodies;
    let _building = cache.building.lock().await;
    if let Some(body) = version.and_then(|v| cache.get(v, &key)) {
        let _ = start.send(Start::Kept(body));
        return;
    }
    let all = match visible_jobs(&deck).await {
        Ok(all) => all,
        Err(response) => {
            let _ = start.send(Start::Refused(response));
            return;
        }
    };
    let (chunks, streamed) = tokio::sync::mpsc::channel(4);
    let _ = start.send(Start::Streaming(streamed));
    let written = tokio::task::spawn_blocking(move || {
        let items = all
            .iter()
            .filter(|j| jobs::matches_api_query(j, &org, &repo, &owner));
        let mut parts = Vec::new();
        let written = prowjobs_body(items, &omit, |part| {
            // A request that went away stops the stream, not the build.
            let _ = chunks.blocking_send(part.clone());
            parts.push(part);
        });
        written.map(|()| parts)
    })
    .await;
    match written {
        Ok(Ok(parts)) => {
            if let Some(version) = version {
                cache.put(version, key, super::listing::Kept::new(parts));
            }
        }
        Ok(Err(e)) => tracing::error!(target: "deck", error = %e, "encoding /prowjobs.js failed"),
        Err(e) => tracing::error!(target: "deck", error = %e, "building /prowjobs.js failed"),
    }
}

/// `{"items":[...]}` of `jobs`, each with the `omit` fields stripped, handed to `part` in
/// pieces of about [`PROWJOBS_CHUNK`] bytes as it is written. A job is copied only when
/// something must be stripped from it.
fn prowjobs_body<'a>(
    jobs: impl Iterator<Item = &'a Arc<ProwJob>>,
    omit: &str,
    mut part: impl FnMut(axum::body::Bytes),
) -> serde_json::Result<()> {
    let mut body = Vec::with_capacity(PROWJOBS_CHUNK + 64 * 1024);
    body.extend_from_slice(b"{\"items\":[");
    for (i, job) in jobs.enumerate() {
        if i > 0 {
            body.push(b',');
        }
        if omit.is_empty() && job.metadata.managed_fields.is_none() {
            serde_json::to_writer(&mut body, &**job)?;
        } else {
            let mut copy = ProwJob::clone(job);
            jobs::omit_fields(&mut copy, omit);
            serde_json::to_writer(&mut body, &copy)?;
        }
        if body.len() >= PROWJOBS_CHUNK {
            let mut full =
                std::mem::replace(&mut body, Vec::with_capacity(PROWJOBS_CHUNK + 64 * 1024));
            // Kept as it is; the room left over would be kept with it.
            full.shrink_to_fit();
            part(full.into());
        }
    }
    body.extend_from_slice(b"]}");
    body.shrink_to_fit();
    part(body.into());
    Ok(())
}

fn json_body(body: axum::body::Body) -> Response {
    no_cache(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn job_list(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let mut all = match visible_jobs(&deck).await {
        Ok(all) => all,
        Err(response) => return response,
    };
    jobs::sort_newest_first(&mut all);
    let filter = jobs::JobFilter::from_query(&query);
    let mut repos = std::collections::BTreeSet::new();
    let mut names = std::collections::BTreeSet::new();
    for job in &all {
        if let Some(refs) = jobs::main_refs(job) {
            repos.insert(format!("{}/{}", refs.org, refs.repo));
        }
        names.insert(job.spec.job.clone());
    }
    let items: Vec<ProwJob> = all
        .iter()
        .filter(|j| filter.matches(j))
        .map(|j| {
            let mut j = ProwJob::clone(j);
            jobs::omit_fields(&mut j, "annotations,decoration_config,pod_spec");
            j
        })
        .collect();
    json(&serde_json::json!({ "items": items, "repos": repos, "jobs": names }))
}

/// What the job page shows beyond the job itself.
#[derive(Serialize)]
struct Detail {
    job: ProwJob,
    state: &'static str,
    log_url: String,
    /// `/artifacts/...` links, relative to the job's folder.
    artifacts: Vec<Artifact>,
    junit: Vec<JunitFile>,
    build_log: Vec<buildlog::Group>,
    rerun_yaml: String,
}

#[derive(Serialize)]
struct Artifact {
    name: String,
    url: String,
}

#[derive(Serialize)]
struct JunitFile {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<junit::Results>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub(super) fn size_limit(deck: &Deck) -> u64 {
    let configured = deck.config.current().config.prow.deck.spyglass.size_limit;
    u64::try_from(configured)
        .ok()
        .filter(|l| *l > 0)
        .unwrap_or(artifacts::DEFAULT_SIZE_LIMIT)
}

async fn job_detail(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let Some(name) = query.get("prowjob") else {
        return error(
            StatusCode::BAD_REQUEST,
            "request did not provide the 'prowjob' query parameter",
        );
    };
    let job = match visible_job(&deck, name).await {
        Ok(job) => job,
        Err(response) => return response,
    };
    let limit = size_limit(&deck);
    let deck2 = deck.clone();
    let job2 = job.clone();
    let found = tokio::task::spawn_blocking(move || read_results(&deck2, &job2, limit)).await;
    let (artifact_list, junit, build_log) = found.unwrap_or_default();
    let config = deck.config.current();
    let lens_regexes = highlight_regexes(&config.config.prow.deck.spyglass);
    let highlight = buildlog::highlighter(&lens_regexes);
    let build_log = build_log
        .map(|log| buildlog::groups(&log, &highlight))
        .unwrap_or_default();
    let mut preview = rerun::rerun_same(&job, now());
    preview.metadata.name = None;
    Detail {
        state: jobs::state_of(&job),
        log_url: format!("/log?prowjob={}", super::oauth::escape(name)),
        rerun_yaml: prow_core::prowjob_to_yaml(&preview).unwrap_or_default(),
        artifacts: artifact_list,
        junit,
        build_log,
        job,
    }
    .json()
}

impl Detail {
    fn json(&self) -> Response {
        json(self)
    }
}

/// The buildlog lens's `highlight_regexes` from the spyglass configuration, if any.
fn highlight_regexes(spyglass: &prow_config::prow::Spyglass) -> Vec<String> {
    spyglass
        .lenses
        .iter()
        .filter(|l| l.lens.name == "buildlog")
        .filter_map(|l| l.lens.config.as_ref())
        .filter_map(|c| c.get("highlight_regexes"))
        .filter_map(|r| r.as_sequence())
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect()
}

type Results = (Vec<Artifact>, Vec<JunitFile>, Option<String>);

/// Reads the job's artifact list, its JUnit files and its build log from disk.
fn read_results(deck: &Deck, job: &ProwJob, limit: u64) -> Results {
    let mut listed = Vec::new();
    let mut junit_files = Vec::new();
    if let (Some(root), Some(path)) = (&deck.artifacts, artifacts::job_path(job))
        && let Ok(Some(dir)) = artifacts::resolve(root, &path)
    {
        for name in artifacts::list_files(&dir, ARTIFACT_LIST_LIMIT) {
            let url = format!("/artifacts/{}/{}", path, name);
            if junit::is_junit(&name) {
                let parsed = artifacts::read_tail(&dir.join(&name), limit)
                    .map_err(|e| e.to_string())
                    .and_then(|xml| junit::parse(&xml).map_err(|e| e.to_string()));
                let (results, error) = match parsed {
                    Ok(results) => (Some(results), None),
                    Err(e) => (None, Some(e)),
                };
                junit_files.push(JunitFile {
                    name: name.clone(),
                    results,
                    error,
                });
            }
            listed.push(Artifact { name, url });
        }
    }
    let log = read_log(deck, job, limit);
    (listed, junit_files, log)
}

fn read_log(deck: &Deck, job: &ProwJob, limit: u64) -> Option<String> {
    artifacts::log_candidates(job, deck.artifacts.as_deref(), deck.pods.as_deref())
        .into_iter()
        .find_map(|path| artifacts::read_tail(&path, limit).ok())
}

fn now() -> Time {
    Time(Timestamp::now())
}

async fn plugin_help(State(deck): State<Arc<Deck>>) -> Response {
    let config = deck.config.current();
    json(
        &prow_plugins::help_document(
            &deck.plugins,
            &config.plugins,
            &deck.http,
            deck.external_help_deadline,
        )
        .await,
    )
}

/// The plugin help with its HTML sanitised, for the command help page.
async fn command_help(State(deck): State<Arc<Deck>>) -> Response {
    let config = deck.config.current();
    let help = prow_plugins::help_document(
        &deck.plugins,
        &config.plugins,
        &deck.http,
        deck.external_help_deadline,
    )
    .await;
    json(&super::helphtml::sanitised(help))
}

async fn badge_svg(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let Some(wanted) = query.get("jobs").filter(|j| !j.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "missing jobs query parameter");
    };
    let all = match visible_jobs(&deck).await {
        Ok(all) => all,
        Err(response) => return response,
    };
    let latest = badge::pick_latest(&all, wanted);
    let shown = badge::badge(&latest);
    let svg = badge::shield("build", &shown.status, shown.color);
    no_cache(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

async fn log(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let job = if let Some(name) = query.get("prowjob") {
        match visible_job(&deck, name).await {
            Ok(job) => job,
            Err(response) => return response,
        }
    } else {
        let (Some(name), Some(id)) = (query.get("job"), query.get("id")) else {
            return error(
                StatusCode::BAD_REQUEST,
                "missing job query parameter, id query parameter or prowjob query parameter",
            );
        };
        let all = match visible_jobs(&deck).await {
            Ok(all) => all,
            Err(response) => return response,
        };
        let found = all
            .into_iter()
            .find(|j| j.spec.job == *name && j.status.as_ref().is_some_and(|s| s.build_id == *id));
        match found {
            Some(job) => Arc::unwrap_or_clone(job),
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("Log not found: no job {name:?} with build id {id:?}"),
                );
            }
        }
    };
    let limit = size_limit(&deck);
    let deck2 = deck.clone();
    let name = job.name().to_owned();
    let found = tokio::task::spawn_blocking(move || read_log(&deck2, &job, limit))
        .await
        .ok()
        .flatten();
    match found {
        Some(text) => {
            no_cache(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
        }
        None => error(
            StatusCode::NOT_FOUND,
            format!("Log not found: job {name:?} has no build log yet"),
        ),
    }
}

async fn artifact(State(deck): State<Arc<Deck>>, Path(path): Path<String>) -> Response {
    let Some(root) = &deck.artifacts else {
        return error(StatusCode::NOT_FOUND, "deck serves no artifacts");
    };
    let resolved = match artifacts::resolve(root, &path) {
        Ok(Some(found)) if found.is_file() => found,
        Ok(_) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("artifact {path:?} not found"),
            );
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let limit = size_limit(&deck);
    match tokio::fs::metadata(&resolved).await {
        Ok(meta) if meta.len() > limit => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("artifact {path:?} is larger than the size limit of {limit} bytes"),
            );
        }
        Ok(_) => {}
        Err(e) => return error(StatusCode::NOT_FOUND, format!("artifact {path:?}: {e}")),
    }
    match tokio::fs::read(&resolved).await {
        Ok(bytes) => artifact_response(bytes),
        Err(e) => error(StatusCode::NOT_FOUND, format!("artifact {path:?}: {e}")),
    }
}

/// An artifact's bytes as a response: shown as text or downloaded, never run as a page of
/// deck's origin.
pub(super) fn artifact_response(bytes: Vec<u8>) -> Response {
    let kind = if std::str::from_utf8(&bytes).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    let mut response = ([(header::CONTENT_TYPE, kind)], bytes).into_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    response
}

/// The new job a rerun request asks for (same spec, or `mode=latest`).
async fn rerun_job(deck: &Deck, query: &BTreeMap<String, String>) -> Result<ProwJob, Response> {
    let Some(name) = query.get("prowjob").filter(|n| !n.is_empty()) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "request did not provide the 'prowjob' query parameter",
        ));
    };
    let old = visible_job(deck, name).await?;
    if query.get("mode").map(String::as_str) == Some("latest") {
        let config = deck.config.current();
        rerun::rerun_latest(&old, &config.config.jobs, now()).map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                format!("Could not create new prowjob: Failed getting prowjob spec: {e}"),
            )
        })
    } else {
        Ok(rerun::rerun_same(&old, now()))
    }
}

async fn rerun_show(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let job = match rerun_job(&deck, &query).await {
        Ok(job) => job,
        Err(response) => return response,
    };
    match prow_core::prowjob_to_yaml(&job) {
        Ok(yaml) => {
            no_cache(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], yaml).into_response())
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encode job: {e}"),
        ),
    }
}

/// Refuses a write whose `Origin` is not deck's own host, so that another site cannot make
/// a logged-in user's browser rerun or abort jobs.
fn cross_origin(headers: &HeaderMap) -> Option<Response> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    (origin_host != host).then(|| {
        error(
            StatusCode::FORBIDDEN,
            format!("cross-origin request from {origin} refused"),
        )
    })
}

/// Whether the user behind `headers` may act on `job`: the login in the user header, if
/// allowed, else the refusal to send.
async fn authorise(
    deck: &Deck,
    headers: &HeaderMap,
    job: &ProwJob,
    verb: &str,
) -> Result<Option<String>, Response> {
    if let Some(refused) = cross_origin(headers) {
        return Err(refused);
    }
    let config = deck.config.current();
    let session = deck.session(headers);
    if let (Some(login), Some(session)) = (&deck.login, &session) {
        // A logged-in browser sends its cookie to any site's form: the token proves the
        // request came from deck's own page.
        let token = headers
            .get(super::oauth::CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !login.csrf_ok(session, token) {
            return Err(error(
                StatusCode::FORBIDDEN,
                format!(
                    "missing or wrong {} header: reload the page and try again",
                    super::oauth::CSRF_HEADER
                ),
            ));
        }
    }
    let header_user = deck
        .user_header
        .as_deref()
        .and_then(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let user = session
        .as_ref()
        .map(|s| s.login.as_str())
        .or(header_user)
        .or(deck.acting_user.as_deref());
    let decision = auth::decide(
        auth::config_for(&config.config.prow.deck, &job.spec),
        job.spec.rerun_auth_config.as_deref(),
        user,
        deck.user_header.as_deref(),
    );
    let decision = match decision {
        auth::Decision::Denied { .. } if user.is_none() && deck.login.is_some() => {
            auth::Decision::Denied {
                reason: "log in with GitHub to act on jobs unless 'allow_anyone: true' is \
                         specified"
                    .to_owned(),
            }
        }
        other => other,
    };
    let decision = auth::resolve(decision, deck.github.as_deref())
        .await
        .map_err(|e| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Could not verify if allowed to {verb}: {e}."),
            )
        })?;
    match decision {
        auth::Decision::Allowed { user } => Ok(user),
        auth::Decision::Denied { reason } => {
            let what = if verb == "abort" {
                "abort this job"
            } else {
                "rerun that job"
            };
            tracing::info!(job = job.name(), verb, %reason, "refused");
            Err(error(
                StatusCode::FORBIDDEN,
                format!("You don't have permission to {what}. ({reason})"),
            ))
        }
        auth::Decision::AskGitHub { .. } => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Could not verify if allowed to {verb}."),
        )),
    }
}

async fn rerun_create(
    State(deck): State<Arc<Deck>>,
    Query(query): Params,
    headers: HeaderMap,
) -> Response {
    let mut job = match rerun_job(&deck, &query).await {
        Ok(job) => job,
        Err(response) => return response,
    };
    let name = query.get("prowjob").cloned().unwrap_or_default();
    let user = match authorise(&deck, &headers, &job, "rerun").await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let description = match &user {
        Some(user) => format!("{user} successfully reran {name}."),
        None => format!("Successfully reran {name}."),
    };
    if let Some(status) = job.status.as_mut() {
        status.description = description.clone();
    }
    match deck.store.create(job).await {
        Ok(created) => {
            tracing::info!(old = %name, new = created.name(), ?user, "{description}");
            (
                StatusCode::OK,
                "Job successfully triggered. Wait 30 seconds and refresh the page for the job to show up.",
            )
                .into_response()
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Error creating job: {e}"),
        ),
    }
}

async fn abort(
    State(deck): State<Arc<Deck>>,
    Query(query): Params,
    headers: HeaderMap,
) -> Response {
    let Some(name) = query.get("prowjob").filter(|n| !n.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Request did not provide the 'prowjob' query parameter.",
        );
    };
    let job = match visible_job(&deck, name).await {
        Ok(job) => job,
        Err(response) => return response,
    };
    let state = job
        .status
        .as_ref()
        .map_or(ProwJobState::Triggered, |s| s.state);
    if !matches!(state, ProwJobState::Triggered | ProwJobState::Pending) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("Cannot abort job with state: {:?}.", state.as_str()),
        );
    }
    let user = match authorise(&deck, &headers, &job, "abort").await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let description = match &user {
        Some(user) => format!("{user} successfully aborted {name}."),
        None => format!("Successfully aborted {name}."),
    };
    let options = prow_jobs::abort::AbortOptions::describe(&description);
    match prow_jobs::abort::abort(deck.store.as_ref(), name, options).await {
        Ok(_) => (StatusCode::OK, "Job successfully aborted.").into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Could not patch aborted job: {e}."),
        ),
    }
}
