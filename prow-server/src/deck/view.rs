//! deck's pages over artifact storage: spyglass (`/view/<storage>/<bucket>/<path>`), the job
//! history (`/job-history/<storage>/<bucket>/<job folder>`), the PR history (`/pr-history`)
//! and the configured jobs (`/configured-jobs/<org>/<repo>`), with their JSON under
//! `/deck/`. Storage is read through `prow_jobs::storage`'s [`ArtifactReader`]: the local
//! artifacts folder in local mode (the local runner writes every bucket there), else the
//! bucket itself with deck's GCS or S3 credentials.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prow_core::ProwJob;
use prow_jobs::storage::{self, ArtifactReader, LocalDirStore};
use serde::Serialize;
use serde_json::{Value, json};

use super::handlers::{error, json, page, size_limit};
use super::spyglass::{self, Source};
use super::{Deck, artifacts, buildlog, history, junit};

type Params = Query<BTreeMap<String, String>>;

const VIEW: &str = include_str!("static/view.html");
const JOB_HISTORY: &str = include_str!("static/job-history.html");
const PR_HISTORY: &str = include_str!("static/pr-history.html");
const CONFIGURED_JOBS: &str = include_str!("static/configured-jobs.html");
/// How many artifacts spyglass lists at most.
const ARTIFACT_LIMIT: usize = 1000;
/// The most of a build log the buildlog lens shows (its end), whatever `size_limit` is.
const BUILDLOG_MAX_BYTES: u64 = 5_000_000;
/// How many builds of each job the PR history reads.
const PR_HISTORY_BUILDS_PER_JOB: usize = 20;

pub(super) fn routes(deck: Arc<Deck>) -> Router {
    Router::new()
        .route("/view/{*src}", get(|| page(VIEW)))
        .route("/job-history/{*src}", get(|| page(JOB_HISTORY)))
        .route("/pr-history", get(|| page(PR_HISTORY)))
        .route(
            "/configured-jobs/{org}/{repo}",
            get(|| page(CONFIGURED_JOBS)),
        )
        .route("/deck/view.json", get(view_json))
        .route("/view-artifact/{*src}", get(view_artifact))
        .route("/deck/job-history.json", get(job_history_json))
        .route("/deck/pr-history.json", get(pr_history_json))
        .route("/deck/configured-jobs.json", get(configured_jobs_json))
        .with_state(deck)
}

/// The buckets deck may read when `deck.skip_storage_path_validation` is `false`: those the
/// decoration configs name and `additional_allowed_buckets`.
fn bucket_allowed(deck: &Deck, source: &Source) -> bool {
    let config = deck.config.current();
    let settings = &config.config.prow.deck;
    if settings.skip_storage_path_validation != Some(false) {
        return true;
    }
    let wanted = |bucket: &str| {
        let bucket = bucket.trim_end_matches('/');
        let (provider, name) = bucket.split_once("://").unwrap_or(("gs", bucket));
        let provider = if provider == "gcs" { "gs" } else { provider };
        let name = name.split('/').next().unwrap_or("");
        provider == source.provider && name == source.bucket
    };
    let plank = &config.config.prow.plank;
    let decorations = plank
        .default_decoration_config_entries
        .iter()
        .filter_map(|e| e.config.as_ref())
        .chain(plank.default_decoration_configs.values());
    let jobs = &config.config.jobs;
    let job_decorations = jobs
        .presubmits
        .values()
        .flatten()
        .filter_map(|j| j.decoration_config.as_deref())
        .chain(
            jobs.postsubmits
                .values()
                .flatten()
                .filter_map(|j| j.decoration_config.as_deref()),
        )
        .chain(
            jobs.periodics
                .iter()
                .filter_map(|j| j.decoration_config.as_deref()),
        );
    settings
        .additional_allowed_buckets
        .iter()
        .any(|b| wanted(b))
        || decorations
            .chain(job_decorations)
            .filter_map(|d| d.gcs_configuration.as_ref())
            .any(|g| wanted(&g.bucket))
}

impl Deck {
    /// The reader of `source`'s bucket: the local artifacts folder in local mode, else the
    /// bucket opened with deck's credentials (kept for later requests).
    pub(super) fn reader(&self, source: &Source) -> Result<Arc<dyn ArtifactReader>, Refused> {
        if let Some(dir) = &self.artifacts {
            return Ok(Arc::new(LocalDirStore::new(dir.clone())));
        }
        if !bucket_allowed(self, source) {
            return Err((
                StatusCode::FORBIDDEN,
                format!(
                    "bucket {}://{} is not in the decoration configs or deck.additional_allowed_buckets",
                    source.provider, source.bucket
                ),
            ));
        }
        let key = format!("{}://{}", source.provider, source.bucket);
        let mut readers = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(found) = readers.get(&key) {
            return Ok(found.clone());
        }
        let opened =
            storage::open_reader(&key, &self.gcs_credentials_file, &self.s3_credentials_file)
                .map_err(|e| (StatusCode::BAD_GATEWAY, format!("open {key}: {e}")))?;
        readers.insert(key, opened.clone());
        Ok(opened)
    }
}

/// A refusal: the status and the message sent.
pub(super) type Refused = (StatusCode, String);

/// The `src` query parameter's build and the reader of its bucket.
fn open_source(
    deck: &Deck,
    query: &BTreeMap<String, String>,
) -> Result<(Source, Arc<dyn ArtifactReader>), Refused> {
    let src = query.get("src").map_or("", String::as_str);
    let source = Source::parse(src).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
    let reader = deck.reader(&source)?;
    Ok((source, reader))
}

fn storage_error(e: prow_jobs::Error) -> Response {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    error(StatusCode::BAD_GATEWAY, text)
}

/// A file of the build as text, within the size limit; `None` when it is not there.
async fn text(
    reader: &dyn ArtifactReader,
    dir: &str,
    name: &str,
    limit: u64,
) -> Result<Option<(String, bool)>, prow_jobs::Error> {
    storage::read_text(reader, &format!("{dir}/{name}"), limit).await
}

#[derive(Serialize)]
struct ArtifactLink {
    name: String,
    size: u64,
    url: String,
}

#[derive(Serialize)]
struct LensView {
    name: String,
    title: String,
    files: Vec<String>,
    data: Value,
}

/// Everything the spyglass page shows of one build.
async fn view_json(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let (source, reader) = match open_source(&deck, &query) {
        Ok(opened) => opened,
        Err(refused) => return refused.into_response(),
    };
    let config = deck.config.current();
    let settings = &config.config.prow.deck;
    let limit = size_limit(&deck);
    let listed = match reader.list_tree(&source.path, ARTIFACT_LIMIT).await {
        Ok(listed) => listed,
        Err(e) => return storage_error(e),
    };
    let names: Vec<String> = listed.iter().map(|(n, _)| n.clone()).collect();
    let chosen = spyglass::choose(&settings.spyglass, &names);
    let finished = names.iter().any(|n| n == "finished.json");
    let mut lenses = Vec::new();
    for lens in chosen {
        let data = lens_data(&deck, reader.as_ref(), &source, &lens, limit).await;
        lenses.push(LensView {
            name: lens.name,
            title: lens.title,
            files: lens.files,
            data,
        });
    }
    // A running build has no uploaded log yet: show the pod's.
    if !finished
        && !lenses.iter().any(|l| l.name == "buildlog")
        && let Some(live) = live_log(&deck, &source, reader.as_ref(), limit).await
    {
        let highlight = buildlog::highlighter(&global_highlights(&settings.spyglass));
        lenses.push(LensView {
            name: "buildlog".to_owned(),
            title: spyglass::title("buildlog").to_owned(),
            files: vec!["(running pod)".to_owned()],
            data: json!({"logs": [{"name": "(running pod)", "truncated": false,
                                   "groups": buildlog::groups(&live, &highlight)}],
                         "live": true}),
        });
    }
    let (job, build) = source.job_and_build();
    let default_org = config
        .config
        .jobs
        .presubmits
        .values()
        .flatten()
        .filter_map(|p| p.decoration_config.as_deref())
        .filter_map(|d| d.gcs_configuration.as_ref())
        .map(|g| g.default_org.clone())
        .find(|o| !o.is_empty())
        .unwrap_or_default();
    let pr_history = if settings.spyglass.hide_pr_history_link {
        None
    } else {
        source
            .pull(&default_org)
            .map(|(org, repo, pr)| format!("/pr-history?org={org}&repo={repo}&pr={pr}"))
    };
    let key = source.key();
    json(&json!({
        "source": source,
        "job": job,
        "build": build,
        "finished": finished,
        "announcement": settings.spyglass.announcement,
        "links": {
            "job_history": source.job_history_link(),
            "pr_history": pr_history,
            "browser": spyglass::browser_link(&settings.spyglass, &source),
            "testgrid_root": settings.spyglass.testgrid_root,
        },
        "artifacts": listed.into_iter().map(|(name, size)| ArtifactLink {
            url: format!("/view-artifact/{key}/{name}"),
            name,
            size,
        }).collect::<Vec<_>>(),
        "lenses": lenses,
    }))
}

/// The buildlog lens's `highlight_regexes` of the first buildlog lens configured.
fn global_highlights(spyglass: &prow_config::prow::Spyglass) -> Vec<String> {
    spyglass
        .lenses
        .iter()
        .filter(|l| l.lens.name == "buildlog")
        .filter_map(|l| l.lens.config.as_ref())
        .filter_map(|c| serde_json::to_value(c).ok())
        .flat_map(|c| highlights_of(&c))
        .collect()
}

fn highlights_of(config: &Value) -> Vec<String> {
    config["highlight_regexes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect()
}

/// The running build's log from its pod: the job found by name and build ID in the store,
/// its log from the local runner's pod folder or from its Kubernetes pod.
async fn live_log(
    deck: &Deck,
    source: &Source,
    reader: &dyn ArtifactReader,
    limit: u64,
) -> Option<String> {
    let (job_name, build) = source.job_and_build();
    let from_file = text(reader, &source.path, "prowjob.json", limit)
        .await
        .ok()
        .flatten()
        .and_then(|(t, _)| serde_json::from_str::<ProwJob>(&t).ok());
    let job = match from_file {
        Some(job) => job,
        None => deck
            .store
            .list_shared(&Default::default())
            .await
            .ok()?
            .into_iter()
            .find(|j| {
                j.spec.job == job_name && j.status.as_ref().is_some_and(|s| s.build_id == build)
            })
            .map(std::sync::Arc::unwrap_or_clone)?,
    };
    if let Some(pods) = deck.pods.clone() {
        let local = job.clone();
        let found = tokio::task::spawn_blocking(move || {
            artifacts::log_candidates(&local, None, Some(&pods))
                .into_iter()
                .find_map(|path| artifacts::read_tail(&path, limit).ok())
        })
        .await
        .ok()
        .flatten();
        if found.is_some() {
            return found;
        }
    }
    kube_log(deck, &job, limit).await
}

/// The running job's test container log from its pod in the job's build cluster.
async fn kube_log(deck: &Deck, job: &ProwJob, limit: u64) -> Option<String> {
    use prow_core::k8s_openapi::api::core::v1::Pod;
    let alias = match job.spec.cluster.as_str() {
        "" => "default",
        alias => alias,
    };
    let (client, namespace) = deck.pod_logs.get(alias)?;
    let pod = job
        .status
        .as_ref()
        .map(|s| s.pod_name.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or(job.name());
    let params = kube::api::LogParams {
        container: Some(prow_jobs::decorate::TEST_CONTAINER_NAME.to_owned()),
        limit_bytes: i64::try_from(limit).ok(),
        ..kube::api::LogParams::default()
    };
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), namespace);
    match pods.logs(pod, &params).await {
        Ok(log) => Some(log),
        Err(e) => {
            tracing::debug!(pod, error = %e, "no pod log");
            None
        }
    }
}

/// What one lens shows, read from the build's files.
async fn lens_data(
    deck: &Deck,
    reader: &dyn ArtifactReader,
    source: &Source,
    lens: &spyglass::Chosen,
    limit: u64,
) -> Value {
    let dir = source.path.as_str();
    let mut read = BTreeMap::new();
    let mut problems = Vec::new();
    // The page holds every line of the log it shows: only its end, however large the limit.
    let limit = if lens.name == "buildlog" {
        limit.min(BUILDLOG_MAX_BYTES)
    } else {
        limit
    };
    for file in &lens.files {
        match text(reader, dir, file, limit).await {
            Ok(Some(found)) => {
                read.insert(file.clone(), found);
            }
            Ok(None) => problems.push(format!("{file}: not found")),
            Err(e) => problems.push(format!("{file}: {e}")),
        }
    }
    let body = |name: &str| read.get(name).map(|(t, _)| t.as_str());
    match lens.name.as_str() {
        "metadata" => {
            let (meta, mut more) = spyglass::metadata(body("started.json"), body("finished.json"));
            problems.append(&mut more);
            let prowjob = body("prowjob.json")
                .and_then(|t| serde_json::from_str::<ProwJob>(t).ok())
                .map(|j| {
                    let status = j.status.clone().unwrap_or_default();
                    json!({"name": j.name(), "state": status.state.as_str(),
                           "description": status.description, "url": status.url,
                           "pod_name": status.pod_name,
                           "job_page": format!("/job?prowjob={}", j.name())})
                });
            json!({"metadata": meta, "prowjob": prowjob, "problems": problems})
        }
        "buildlog" => {
            let mut patterns = highlights_of(&lens.config);
            if patterns.is_empty() {
                patterns = global_highlights(&deck.config.current().config.prow.deck.spyglass);
            }
            let highlight = buildlog::highlighter(&patterns);
            let logs: Vec<Value> = read
                .iter()
                .map(|(name, (log, truncated))| {
                    json!({"name": name, "truncated": truncated,
                           "url": format!("/view-artifact/{}/{name}", source.key()),
                           "groups": buildlog::groups(log, &highlight)})
                })
                .collect();
            json!({"logs": logs, "problems": problems})
        }
        "junit" => {
            let files: Vec<Value> = read
                .iter()
                .map(|(name, (xml, _))| match junit::parse(xml) {
                    Ok(results) => json!({"name": name, "results": results}),
                    Err(e) => json!({"name": name, "error": e.to_string()}),
                })
                .collect();
            json!({"files": files, "problems": problems})
        }
        "podinfo" => {
            let pod = body("podinfo.json")
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .map(|v| podinfo(&v));
            json!({"pod": pod, "problems": problems})
        }
        "links" => {
            let links: Vec<Value> = read
                .iter()
                .filter_map(|(name, (url, _))| {
                    let url = url.trim();
                    (url.starts_with("https://") || url.starts_with("http://")).then(|| {
                        let title = name
                            .rsplit('/')
                            .next()
                            .unwrap_or(name)
                            .trim_end_matches(".link.txt");
                        json!({"title": title, "url": url})
                    })
                })
                .collect();
            json!({"links": links, "problems": problems})
        }
        "html" | "markdown" => {
            let documents: Vec<Value> = read
                .iter()
                .map(|(name, (content, truncated))| {
                    json!({"name": name, "content": content, "truncated": truncated})
                })
                .collect();
            json!({"documents": documents, "problems": problems})
        }
        "coverage" => {
            let profiles: Vec<Value> = read
                .iter()
                .filter(|(name, _)| !name.ends_with(".html"))
                .map(|(name, (profile, truncated))| {
                    let (coverage, skipped) = spyglass::coverage(profile);
                    json!({"name": name, "coverage": coverage, "skipped_lines": skipped,
                           "truncated": truncated})
                })
                .collect();
            json!({"profiles": profiles, "problems": problems})
        }
        _ => json!({"unsupported": true, "problems": problems}),
    }
}

/// The parts of a pod (`podinfo.json`, upstream's `{"pod": ...}`) the podinfo lens shows.
fn podinfo(info: &Value) -> Value {
    let pod = if info.get("pod").is_some() {
        &info["pod"]
    } else {
        info
    };
    let containers: Vec<Value> = ["initContainerStatuses", "containerStatuses"]
        .iter()
        .flat_map(|k| pod["status"][*k].as_array().cloned().unwrap_or_default())
        .map(|c| {
            let terminated = &c["state"]["terminated"];
            json!({"name": c["name"], "image": c["image"], "ready": c["ready"],
                   "restarts": c["restartCount"], "exit_code": terminated["exitCode"],
                   "reason": terminated["reason"]})
        })
        .collect();
    json!({"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"],
           "node": pod["spec"]["nodeName"], "phase": pod["status"]["phase"],
           "reason": pod["status"]["reason"], "message": pod["status"]["message"],
           "containers": containers})
}

/// One artifact's bytes, within the size limit, as text or a download (never as a page of
/// deck's origin).
async fn view_artifact(State(deck): State<Arc<Deck>>, Path(src): Path<String>) -> Response {
    let source = match Source::parse(&src) {
        Ok(source) => source,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let reader = match deck.reader(&source) {
        Ok(reader) => reader,
        Err(refused) => return refused.into_response(),
    };
    let limit = size_limit(&deck);
    match reader.size(&source.path).await {
        Ok(Some(size)) if size > limit => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("artifact {src:?} is larger than the size limit of {limit} bytes",),
            );
        }
        Ok(Some(_)) => {}
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("artifact {src:?} not found")),
        Err(e) => return storage_error(e),
    }
    let bytes = match reader.read(&source.path, storage::ReadRange::All).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("artifact {src:?} not found")),
        Err(e) => return storage_error(e),
    };
    super::handlers::artifact_response(bytes)
}

/// Reads a build's `started.json` and `finished.json` as its history row.
async fn build_row(
    reader: &dyn ArtifactReader,
    id: u64,
    provider: &str,
    bucket: &str,
    dir: &str,
) -> history::Build {
    let limit = 1_000_000;
    let started = text(reader, dir, "started.json", limit)
        .await
        .ok()
        .flatten();
    let finished = text(reader, dir, "finished.json", limit)
        .await
        .ok()
        .flatten();
    history::build_row(
        id,
        format!("/view/{provider}/{bucket}/{dir}"),
        started.as_ref().map(|(t, _)| t.as_str()),
        finished.as_ref().map(|(t, _)| t.as_str()),
    )
}

/// A `file://<artifacts>/<path>` link the local runner wrote, as a place in the same bucket
/// (in local mode every bucket is the artifacts folder).
fn local_link(
    artifacts: Option<&std::path::Path>,
    source: &Source,
    link: &str,
) -> Option<(String, String, String)> {
    let path = link.trim().strip_prefix("file://")?;
    let root = artifacts?.to_str()?.trim_end_matches('/');
    let relative = path.strip_prefix(root)?.trim_matches('/');
    Some((
        source.provider.clone(),
        source.bucket.clone(),
        relative.to_owned(),
    ))
}

/// Where build `id` of a job folder is: its folder, or the place its link names.
async fn build_location(
    reader: &dyn ArtifactReader,
    artifacts: Option<&std::path::Path>,
    source: &Source,
    id: u64,
    at: &history::BuildAt,
) -> (String, String, String) {
    let own = || {
        (
            source.provider.clone(),
            source.bucket.clone(),
            format!("{}/{id}", source.path),
        )
    };
    match at {
        history::BuildAt::Folder => own(),
        history::BuildAt::Link => text(reader, &source.path, &format!("{id}.txt"), 4096)
            .await
            .ok()
            .flatten()
            .and_then(|(t, _)| {
                local_link(artifacts, source, &t).or_else(|| history::parse_link(&t))
            })
            .unwrap_or_else(own),
    }
}

/// A page of a job's builds, newest first.
async fn job_history_json(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let (source, reader) = match open_source(&deck, &query) {
        Ok(opened) => opened,
        Err(refused) => return refused.into_response(),
    };
    let top = match query.get("buildId").filter(|b| !b.is_empty()) {
        None => None,
        Some(id) => match id.parse::<u64>() {
            Ok(id) => Some(id),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("invalid value for buildId: {id:?} is not a build ID"),
                );
            }
        },
    };
    let listing = match reader.list_dir(&source.path).await {
        Ok(listing) => listing,
        Err(e) => return storage_error(e),
    };
    let latest = text(reader.as_ref(), &source.path, "latest-build.txt", 1024)
        .await
        .ok()
        .flatten()
        .map(|(t, _)| t.trim().to_owned());
    let all = history::builds(&listing);
    let ids: Vec<u64> = all.iter().map(|(id, _)| *id).collect();
    let page = history::page(&ids, top);
    let rows = page.ids.iter().map(|id| {
        let deck = deck.clone();
        let reader = reader.clone();
        let source = source.clone();
        let at = all
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, at)| at.clone())
            .unwrap_or(history::BuildAt::Folder);
        async move {
            // The other bucket a link names is read only when deck may read it.
            let (provider, bucket, dir) = build_location(
                reader.as_ref(),
                deck.artifacts.as_deref(),
                &source,
                *id,
                &at,
            )
            .await;
            let other = Source {
                provider: provider.clone(),
                bucket: bucket.clone(),
                path: dir.clone(),
            };
            let reader = if other.bucket == source.bucket && other.provider == source.provider {
                Ok(reader)
            } else {
                deck.reader(&other)
            };
            match reader {
                Ok(reader) => build_row(reader.as_ref(), *id, &provider, &bucket, &dir).await,
                Err(_) => {
                    history::build_row(*id, format!("/view/{provider}/{bucket}/{dir}"), None, None)
                }
            }
        }
    });
    let builds = futures::future::join_all(rows).await;
    let job = source.path.rsplit('/').next().unwrap_or("").to_owned();
    json(&json!({
        "job": job,
        "source": source,
        "latest_build": latest,
        "total": ids.len(),
        "builds": builds,
        "older": page.older,
        "newer": page.newer,
    }))
}

/// The storage location of a repo's PR results: bucket and the `pr-logs/pull/...` folder of
/// PR `pr`, from the repo's presubmits' decoration (else the defaults).
fn pr_folder(deck: &Deck, org: &str, repo: &str, pr: &str) -> Option<Source> {
    let config = deck.config.current();
    let org_repo = format!("{org}/{repo}");
    let from_jobs = config
        .config
        .jobs
        .presubmits
        .get(&org_repo)
        .into_iter()
        .flatten()
        .filter_map(|p| p.decoration_config.as_deref())
        .filter_map(|d| d.gcs_configuration.clone())
        .next();
    let plank = &config.config.prow.plank;
    let from_defaults = || {
        let matches = |key: &str| key.is_empty() || key == "*" || key == org || key == org_repo;
        plank
            .default_decoration_config_entries
            .iter()
            .filter(|e| matches(&e.org_repo))
            .filter_map(|e| e.config.as_ref())
            .filter_map(|d| d.gcs_configuration.clone())
            .next_back()
    };
    let gcs = from_jobs.or_else(from_defaults).unwrap_or_default();
    let segment = prow_jobs::gcsupload::repo_path_segment(&gcs, org, repo);
    let path = [gcs.path_prefix.as_str(), "pr-logs/pull", &segment, pr]
        .iter()
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    let bucket = if gcs.bucket.is_empty() {
        "local".to_owned()
    } else {
        gcs.bucket.clone()
    };
    let (provider, name) = bucket.split_once("://").unwrap_or(("gs", bucket.as_str()));
    let provider = if provider == "gcs" { "gs" } else { provider };
    Source::parse(&format!("{provider}/{}/{}", name.trim_matches('/'), path)).ok()
}

/// Every job run on a PR, grouped by the commit tested.
async fn pr_history_json(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let param = |k: &str| query.get(k).map_or("", String::as_str).trim().to_owned();
    let (org, repo, pr) = (param("org"), param("repo"), param("pr"));
    if org.is_empty() || repo.is_empty() || pr.parse::<u64>().is_err() {
        return error(
            StatusCode::BAD_REQUEST,
            "pr history needs the org, repo and pr (a number) query parameters",
        );
    }
    let Some(folder) = pr_folder(&deck, &org, &repo, &pr) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no storage location for {org}/{repo}"),
        );
    };
    let reader = match deck.reader(&folder) {
        Ok(reader) => reader,
        Err(refused) => return refused.into_response(),
    };
    let jobs = match reader.list_dir(&folder.path).await {
        Ok(listing) => listing.dirs,
        Err(e) => return storage_error(e),
    };
    let mut runs = Vec::new();
    for job in &jobs {
        let job_dir = format!("{}/{job}", folder.path);
        let Ok(listing) = reader.list_dir(&job_dir).await else {
            continue;
        };
        let builds = history::builds(&listing);
        let reads = builds
            .iter()
            .filter(|(_, at)| *at == history::BuildAt::Folder)
            .take(PR_HISTORY_BUILDS_PER_JOB)
            .map(|(id, _)| {
                let dir = format!("{job_dir}/{id}");
                let reader = reader.clone();
                let folder = folder.clone();
                async move {
                    build_row(reader.as_ref(), *id, &folder.provider, &folder.bucket, &dir).await
                }
            });
        for row in futures::future::join_all(reads).await {
            runs.push((job.clone(), row));
        }
    }
    let org_repo = format!("{org}/{repo}");
    let mut commits: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut first_seen: BTreeMap<String, i64> = BTreeMap::new();
    for (job, row) in runs {
        let commit = row
            .refs
            .get(&org_repo)
            .and_then(|refs| commit_of(refs, &pr))
            .unwrap_or_else(|| row.revision.clone());
        let commit = if commit.is_empty() {
            "unknown".to_owned()
        } else {
            commit
        };
        let started = row.started.unwrap_or(0);
        first_seen
            .entry(commit.clone())
            .and_modify(|t| *t = (*t).min(started))
            .or_insert(started);
        commits
            .entry(commit)
            .or_default()
            .push(json!({"job": job, "build": row}));
    }
    let mut ordered: Vec<(String, Vec<Value>)> = commits.into_iter().collect();
    ordered.sort_by_key(|(commit, _)| std::cmp::Reverse(first_seen.get(commit).copied()));
    let commits: Vec<Value> = ordered
        .into_iter()
        .map(|(commit, builds)| json!({"commit": commit, "builds": builds}))
        .collect();
    json(&json!({
        "org": org, "repo": repo, "pr": pr,
        "source": folder,
        "commits": commits,
    }))
}

/// The PR's head SHA in a `repos` value (`base:sha,123:sha`).
fn commit_of(refs: &str, pr: &str) -> Option<String> {
    refs.split(',').find_map(|part| {
        let (number, sha) = part.split_once(':')?;
        (number == pr && !sha.is_empty()).then(|| sha.to_owned())
    })
}

/// The jobs configured for a repository, with what triggers them.
async fn configured_jobs_json(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let org = query.get("org").cloned().unwrap_or_default();
    let repo = query.get("repo").cloned().unwrap_or_default();
    if org.is_empty() || repo.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "configured jobs need the org and repo query parameters",
        );
    }
    let config = deck.config.current();
    let jobs = &config.config.jobs;
    let org_repo = format!("{org}/{repo}");
    let hidden = config
        .config
        .prow
        .deck
        .hidden_repos
        .iter()
        .any(|h| *h == org || *h == org_repo);
    let mut out = Vec::new();
    if !hidden {
        for job in jobs.presubmits.get(&org_repo).into_iter().flatten() {
            if job.hidden {
                continue;
            }
            let trigger = if job.always_run {
                "always runs".to_owned()
            } else if !job.run_if_changed.is_empty() {
                format!("runs if changed: {}", job.run_if_changed)
            } else if !job.skip_if_only_changed.is_empty() {
                format!("skipped if only changed: {}", job.skip_if_only_changed)
            } else {
                "runs when asked".to_owned()
            };
            out.push(
                json!({"name": job.name, "type": "presubmit", "trigger": trigger,
                "command": job.rerun_command, "optional": job.optional,
                "context": job.context, "branches": job.branches,
                "skip_branches": job.skip_branches, "cluster": job.cluster}),
            );
        }
        for job in jobs.postsubmits.get(&org_repo).into_iter().flatten() {
            if job.hidden {
                continue;
            }
            let trigger = if !job.run_if_changed.is_empty() {
                format!("runs if changed: {}", job.run_if_changed)
            } else {
                "runs on every push".to_owned()
            };
            out.push(
                json!({"name": job.name, "type": "postsubmit", "trigger": trigger,
                "branches": job.branches, "skip_branches": job.skip_branches,
                "cluster": job.cluster}),
            );
        }
        for job in &jobs.periodics {
            if job.hidden
                || !job
                    .extra_refs
                    .iter()
                    .any(|r| r.org == org && r.repo == repo)
            {
                continue;
            }
            let trigger = if !job.cron.is_empty() {
                format!("cron {}", job.cron)
            } else {
                format!("every {}", job.interval)
            };
            out.push(
                json!({"name": job.name, "type": "periodic", "trigger": trigger,
                "cluster": job.cluster}),
            );
        }
    }
    json(&json!({"org": org, "repo": repo, "jobs": out}))
}
