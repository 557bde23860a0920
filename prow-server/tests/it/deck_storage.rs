//! deck over artifact storage: real builds uploaded by initupload and sidecar to a local
//! folder, to fake-gcs-server and to moto's S3, then read through spyglass (`/view/`), the job
//! history, the PR history and the configured-jobs page over real HTTP on 127.0.0.1.
//!
//! The emulators' endpoints come from `PROW_TEST_GCS_ENDPOINT` and `PROW_TEST_S3_ENDPOINT`
//! (`.ci/run` starts them). Without one, its tests print a notice and pass, except under
//! `CI=true`, where a missing emulator fails them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use prow_core::ProwJob;
use prow_core::decoration::GcsConfiguration;
use prow_jobs::JobSpec;
use prow_jobs::entrypoint::WrapperOptions;
use prow_jobs::initupload;
use prow_jobs::podutils::{
    GcsUploadOptions, InitUploadOptions, SidecarOptions, StorageClientOptions,
};
use prow_jobs::sidecar;
use prow_jobs::storage::{ArtifactStore, ObjectInfo};
use prow_jobs::store::{JobStore, SqliteStore};
use prow_server::deck::Deck;
use serde_json::{Value, json};

use crate::support;

/// The job URL prefix of these tests' deck, as deployments set `job_url_prefix_config`.
pub(crate) const PREFIX: &str = "https://prow.example.com/view/";

/// deck's configuration: job URLs point at `/view/`, and the jobs `/configured-jobs/` lists.
pub(crate) fn config_yaml() -> String {
    format!(
        r#"
prowjob_namespace: default
plank:
  job_url_prefix_config:
    "*": {PREFIX}
  default_decoration_config_entries:
  - config:
      utility_images: {{clonerefs: c, initupload: i, entrypoint: e, sidecar: s}}
      gcs_configuration: {{bucket: gs://prow-artifacts, path_strategy: explicit}}
deck:
  spyglass:
    size_limit: 50000000
    announcement: "Artifacts are kept for 90 days."
    gcs_browser_prefix: https://gcsweb.example.com/gcs/
    lenses:
    - lens: {{name: metadata}}
      required_files: ['^(?:started|finished)\.json$']
      optional_files: ['^(?:podinfo|prowjob)\.json$']
    - lens:
        name: buildlog
        config:
          highlight_regexes: ['--- FAIL', 'panic:']
      required_files: ['^.*build-log\.txt$']
    - lens: {{name: junit}}
      required_files: ['^artifacts(/.*/|/)junit.*\.xml$']
    - lens: {{name: links}}
      required_files: ['artifacts/.*\.link\.txt']
    - lens: {{name: podinfo}}
      required_files: ['^podinfo\.json$']
presubmits:
  acme/widgets:
  - name: pull-unit
    always_run: true
    decorate: true
    spec: {{containers: [{{image: golang, command: [make, test]}}]}}
  - name: pull-e2e
    run_if_changed: '^e2e/'
    branches: [main]
    spec: {{containers: [{{image: golang, command: [make, e2e]}}]}}
  - name: pull-secret
    hidden: true
    spec: {{containers: [{{image: golang}}]}}
postsubmits:
  acme/widgets:
  - name: post-build
    spec: {{containers: [{{image: golang, command: [make]}}]}}
periodics:
- name: ci-nightly
  interval: 24h
  extra_refs: [{{org: acme, repo: widgets, base_ref: main}}]
  spec: {{containers: [{{image: alpine, command: ["true"]}}]}}
- name: ci-other
  interval: 1h
  spec: {{containers: [{{image: alpine}}]}}
"#
    )
}

/// Where builds are uploaded and read back: a local folder or an emulator's bucket.
pub(crate) struct Bucket {
    /// The bucket as jobs name it (`gs://name`, `s3://name`).
    pub(crate) job_bucket: String,
    /// The bucket as the uploaders open it (`file://...` for the local folder).
    pub(crate) upload_bucket: String,
    pub(crate) creds: StorageClientOptions,
    /// The local artifacts folder (local mode only).
    pub(crate) artifacts: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn unique(kind: &str) -> String {
    format!(
        "deck-{kind}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

impl Bucket {
    /// A local artifacts folder, as the local runner writes (the job's bucket is ignored).
    pub(crate) fn local() -> Bucket {
        let dir = tempfile::tempdir().unwrap();
        let artifacts = dir.path().join("artifacts");
        std::fs::create_dir_all(&artifacts).unwrap();
        Bucket {
            job_bucket: "gs://prow-artifacts".to_owned(),
            upload_bucket: format!("file://{}", artifacts.display()),
            creds: StorageClientOptions::default(),
            artifacts: Some(artifacts),
            _dir: dir,
        }
    }

    /// A fresh bucket on the emulator of `kind` (`gs` or `s3`), or `None` with a notice when
    /// it is not running (a failure under `CI=true`).
    pub(crate) async fn emulator(kind: &'static str) -> Option<Bucket> {
        let var = match kind {
            "gs" => "PROW_TEST_GCS_ENDPOINT",
            _ => "PROW_TEST_S3_ENDPOINT",
        };
        let Some(endpoint) = std::env::var(var).ok().filter(|e| !e.is_empty()) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{var} is not set and CI=true: .ci/run starts the {kind} emulator"
            );
            eprintln!("notice: {var} not set; skipping the {kind} emulator test");
            return None;
        };
        let mut endpoint = endpoint.trim_end_matches('/').to_owned();
        if kind == "gs" {
            endpoint = signed_put_shim(endpoint).await;
        }
        let name = unique(kind);
        let dir = tempfile::tempdir().unwrap();
        let http = reqwest::Client::new();
        let creds_file = dir.path().join("credentials.json");
        let creds = match kind {
            "gs" => {
                let created = http
                    .post(format!("{endpoint}/storage/v1/b?project=test"))
                    .header("content-type", "application/json")
                    .body(json!({"name": name}).to_string())
                    .send()
                    .await
                    .expect("fake-gcs-server answers");
                assert!(created.status().is_success(), "create bucket: {created:?}");
                std::fs::write(
                    &creds_file,
                    json!({"gcs_base_url": endpoint, "disable_oauth": true,
                           "client_email": "", "private_key": "", "private_key_id": ""})
                    .to_string(),
                )
                .unwrap();
                StorageClientOptions {
                    gcs_credentials_file: creds_file.display().to_string(),
                    ..StorageClientOptions::default()
                }
            }
            _ => {
                let created = http
                    .put(format!("{endpoint}/{name}"))
                    .send()
                    .await
                    .expect("moto answers");
                assert!(created.status().is_success(), "create bucket: {created:?}");
                std::fs::write(
                    &creds_file,
                    json!({"region": "us-east-1", "endpoint": endpoint, "insecure": true,
                           "s3_force_path_style": true, "access_key": "test",
                           "secret_key": "test"})
                    .to_string(),
                )
                .unwrap();
                StorageClientOptions {
                    s3_credentials_file: creds_file.display().to_string(),
                    ..StorageClientOptions::default()
                }
            }
        };
        let url = format!("{kind}://{name}");
        Some(Bucket {
            job_bucket: url.clone(),
            upload_bucket: url,
            creds,
            artifacts: None,
            _dir: dir,
        })
    }

    /// The bucket's `<provider>/<name>` as it follows `/view/`.
    pub(crate) fn view_prefix(&self) -> String {
        self.job_bucket.replacen("://", "/", 1)
    }

    /// deck reading this bucket: the local folder, or the emulator with its credentials.
    pub(crate) fn deck(&self, store: Arc<dyn JobStore>, config: &str) -> Deck {
        let deck = Deck::new(store, support::hook_config(config, ""));
        match &self.artifacts {
            Some(dir) => deck.artifacts_dir(dir),
            None => deck
                .gcs_credentials_file(self.creds.gcs_credentials_file.clone())
                .s3_credentials_file(self.creds.s3_credentials_file.clone()),
        }
    }

    /// A writer straight into the bucket (for builds made without the pod utilities).
    pub(crate) fn writer(&self) -> Box<dyn ArtifactStore> {
        prow_jobs::storage::open_bucket(
            &self.upload_bucket,
            &self.creds.gcs_credentials_file,
            &self.creds.s3_credentials_file,
        )
        .unwrap()
    }
}

/// A presubmit of acme/widgets#7 at `sha`, decorated to upload to `bucket`.
pub(crate) fn presubmit(name: &str, job: &str, build: &str, sha: &str, bucket: &str) -> ProwJob {
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": "presubmit", "job": job, "agent": "kubernetes",
                 "refs": {"org": "acme", "repo": "widgets", "base_ref": "main", "base_sha": "b0b0",
                          "pulls": [{"number": 7, "author": "alice", "sha": sha}]},
                 "decoration_config": {"gcs_configuration": {"bucket": bucket, "path_strategy": "explicit"}},
                 "pod_spec": {"containers": [{"image": "golang", "command": ["make", "test"]}]}},
        "status": {"state": "success", "startTime": "2026-01-01T10:00:00Z", "build_id": build},
    }))
    .unwrap()
}

/// What a build's test container did.
pub(crate) struct Run<'a> {
    pub(crate) started: i64,
    pub(crate) log: &'a str,
    pub(crate) code: i32,
    pub(crate) junit: Option<&'a Path>,
    pub(crate) link: Option<&'a str>,
}

/// Uploads one build of `job` as a decorated pod does: initupload at the start, then sidecar
/// with the container's log, marker and artifacts.
pub(crate) async fn upload(bucket: &Bucket, job: &ProwJob, run: &Run<'_>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut gcs: GcsConfiguration = job
        .spec
        .decoration_config
        .as_ref()
        .and_then(|c| c.gcs_configuration.clone())
        .unwrap_or_default();
    gcs.bucket = bucket.upload_bucket.clone();
    let build = job.status.as_ref().unwrap().build_id.clone();
    let spec = JobSpec::new(&job.spec, &build, job.name());
    let gcs_options = |items: Vec<String>| GcsUploadOptions {
        items,
        gcs_configuration: Some(gcs.clone()),
        storage_client_options: bucket.creds.clone(),
        ..GcsUploadOptions::default()
    };
    initupload::run(
        &InitUploadOptions {
            gcs_options: gcs_options(vec![]),
            log: String::new(),
        },
        &spec,
        run.started,
    )
    .await
    .unwrap();
    let artifacts = d.join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    if let Some(junit) = run.junit {
        std::fs::copy(junit, artifacts.join("junit_unit.xml")).unwrap();
    }
    if let Some(link) = run.link {
        std::fs::write(artifacts.join("dashboard.link.txt"), link).unwrap();
    }
    std::fs::write(d.join("test-log.txt"), run.log).unwrap();
    std::fs::write(d.join("test-marker.txt"), run.code.to_string()).unwrap();
    let entry = WrapperOptions {
        args: vec!["make".into(), "test".into()],
        container_name: "test".into(),
        process_log: d.join("test-log.txt").display().to_string(),
        marker_file: d.join("test-marker.txt").display().to_string(),
        metadata_file: artifacts.join("metadata.json").display().to_string(),
    };
    let options = SidecarOptions {
        gcs_options: Some(gcs_options(vec![artifacts.display().to_string()])),
        entries: vec![entry],
        ..SidecarOptions::default()
    };
    let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
    sidecar::run(&options, &spec, rx, Duration::from_millis(10))
        .await
        .unwrap();
}

/// A pass-through proxy on 127.0.0.1 in front of fake-gcs-server that marks each `PUT` as a
/// signed-URL upload: fake-gcs-server 1.54 takes XML-API object `PUT`s (what object_store,
/// hence sidecar, sends) only in that form, and then answers without an `ETag` header, which
/// the shim copies from the answer's JSON. Everything else goes through unchanged.
async fn signed_put_shim(endpoint: String) -> String {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::response::Response;
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |request: Request| {
        let http = http.clone();
        let endpoint = endpoint.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let mut url = format!(
                "{endpoint}{}",
                parts.uri.path_and_query().map_or("/", |p| p.as_str())
            );
            if parts.method == axum::http::Method::PUT {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str("X-Goog-Algorithm=GOOG4-RSA-SHA256");
            }
            let mut forward = http.request(parts.method.clone(), url).body(body);
            for (name, value) in &parts.headers {
                if name != "host" && name != "content-length" {
                    forward = forward.header(name, value);
                }
            }
            let answer = forward.send().await.unwrap();
            let mut response = Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                if name != "transfer-encoding" && name != "content-length" {
                    response = response.header(name, value);
                }
            }
            let has_etag = answer.headers().contains_key("etag");
            let bytes = answer.bytes().await.unwrap();
            // A signed upload answers with the object's JSON, its ETag only in the body.
            if parts.method == axum::http::Method::PUT && !has_etag {
                let object: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                if let Some(etag) = object["etag"].as_str() {
                    response = response.header("etag", format!("\"{etag}\""));
                }
            }
            response.body(Body::from(bytes)).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// deck served on 127.0.0.1; its base URL.
pub(crate) async fn serve(deck: Deck) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, deck.router()).await });
    url
}

pub(crate) async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

pub(crate) async fn get_json(url: &str) -> Value {
    let (status, body) = get(url).await;
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
}

/// The string fields `keys` of each item of a JSON list.
fn fields(list: &Value, keys: &[&str]) -> Vec<Vec<String>> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| {
            keys.iter()
                .map(|k| item[*k].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .collect()
}

fn failing_log() -> String {
    let mut log = String::new();
    for i in 1..=30 {
        log.push_str(&format!("step {i} ok\n"));
    }
    log.push_str("--- FAIL: TestSubtests (0.00s)\n");
    for i in 31..=60 {
        log.push_str(&format!("step {i} ok\n"));
    }
    log
}

fn lens<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["lenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no {name} lens in {view:#}"))
}

/// Checks the spyglass page of the failing build `job` uploaded to `bucket`, reached through
/// its job URL as deck lists it.
async fn check_spyglass(base: &str, bucket: &Bucket, name: &str) {
    let jobs = get_json(&format!("{base}/prowjobs.js")).await;
    let job = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {jobs:#}"));
    let url = job["status"]["url"].as_str().unwrap();
    let path = url.strip_prefix("https://prow.example.com").unwrap();
    assert!(
        path.starts_with(&format!(
            "/view/{}/pr-logs/pull/acme_widgets/7/pull-unit/",
            bucket.view_prefix()
        )),
        "{path}"
    );
    let (status, page) = get(&format!("{base}{path}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-page="view""#), "{page}");

    let src = path.strip_prefix("/view/").unwrap();
    let view = get_json(&format!("{base}/deck/view.json?src={src}")).await;
    let lenses: Vec<&str> = view["lenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        lenses,
        ["metadata", "buildlog", "junit", "links", "podinfo"],
        "{view:#}"
    );
    let pod = &lens(&view, "podinfo")["data"]["pod"];
    assert_eq!(
        (&pod["name"], &pod["node"], &pod["phase"]),
        (&json!("pull-unit-1"), &json!("node-7"), &json!("Failed"))
    );
    assert_eq!(
        pod["containers"],
        json!([{"name": "test", "image": "golang", "ready": false, "restarts": 0,
                "exit_code": 1, "reason": "Error"}])
    );
    assert_eq!(view["job"], "pull-unit");
    assert_eq!(view["finished"], true);

    let metadata = &lens(&view, "metadata")["data"]["metadata"];
    assert_eq!(metadata["result"], "FAILURE", "{metadata:#}");
    assert_eq!(metadata["started"], 1_767_261_600);
    assert_eq!(metadata["repos"]["acme/widgets"], "main:b0b0,7:5ha1");

    let buildlog = &lens(&view, "buildlog")["data"]["logs"][0];
    assert_eq!(buildlog["name"], "build-log.txt");
    let groups = buildlog["groups"].as_array().unwrap();
    let shown: Vec<(bool, usize)> = groups
        .iter()
        .map(|g| {
            (
                g["skip"].as_bool().unwrap(),
                g["lines"].as_array().unwrap().len(),
            )
        })
        .collect();
    // 61 lines; the failure at 31 shows 26..=36, the rest folded.
    assert_eq!(shown, [(true, 25), (false, 11), (true, 25)], "{groups:#?}");
    let highlighted: Vec<&Value> = groups[1]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["highlighted"] == true)
        .collect();
    assert_eq!(highlighted.len(), 1);
    assert_eq!(highlighted[0]["number"], 31);

    let junit = &lens(&view, "junit")["data"]["files"][0];
    assert_eq!(junit["name"], "artifacts/junit_unit.xml");
    assert!(
        junit["results"]["failed"].as_u64().unwrap() > 0,
        "{junit:#}"
    );
    let links = &lens(&view, "links")["data"]["links"];
    assert_eq!(
        links,
        &json!([{"title": "dashboard", "url": "https://dashboards.example.com/run/1"}])
    );
    assert_eq!(
        view["links"]["job_history"],
        format!(
            "/job-history/{}/pr-logs/directory/pull-unit",
            bucket.view_prefix()
        )
    );
    assert_eq!(
        view["links"]["pr_history"],
        "/pr-history?org=acme&repo=widgets&pr=7"
    );
    assert_eq!(view["announcement"], "Artifacts are kept for 90 days.");

    // Every listed artifact is served as text, never as a page of deck's origin.
    let artifacts = view["artifacts"].as_array().unwrap();
    let log = artifacts
        .iter()
        .find(|a| a["name"] == "build-log.txt")
        .unwrap();
    let response = reqwest::get(format!("{base}{}", log["url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("--- FAIL: TestSubtests")
    );
}

/// The failing build pull-unit-1 uploaded to `bucket`, with its job URL.
async fn failing_build(bucket: &Bucket, config: &str) -> ProwJob {
    let job = with_url(
        presubmit(
            "pull-unit-1",
            "pull-unit",
            "1001",
            "5ha1",
            &bucket.job_bucket,
        ),
        config,
    );
    upload_failing_build(bucket, &job).await;
    job
}

async fn upload_failing_build(bucket: &Bucket, job: &ProwJob) {
    // crier's storage reporter writes the pod next to the build's files.
    let pod = json!({"pod": {
        "metadata": {"name": "pull-unit-1", "namespace": "test-pods"},
        "spec": {"nodeName": "node-7"},
        "status": {"phase": "Failed", "containerStatuses": [{
            "name": "test", "image": "golang", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}});
    let path = prow_server::deck::artifacts::job_path(job).unwrap();
    bucket
        .writer()
        .put(
            &format!("{path}/podinfo.json"),
            pod.to_string().into_bytes(),
            &ObjectInfo::default(),
        )
        .await
        .unwrap();
    let log = failing_log();
    upload(
        bucket,
        job,
        &Run {
            started: 1_767_261_600,
            log: &log,
            code: 1,
            junit: Some(&support::data("deck/junit_go-subtests.xml")),
            link: Some("https://dashboards.example.com/run/1"),
        },
    )
    .await;
}

/// Gives `job` its status URL as plank would.
fn with_url(mut job: ProwJob, config: &str) -> ProwJob {
    let hook = support::hook_config(config, "");
    let url = prow_jobs::plank::job_url(&hook.config.prow.plank, &job);
    job.status.as_mut().unwrap().url = url;
    job.status.as_mut().unwrap().state = prow_core::ProwJobState::Failure;
    job
}

#[tokio::test]
async fn spyglass_shows_a_local_runs_build_log_metadata_and_junit() {
    let config = config_yaml();
    let bucket = Bucket::local();
    let job = failing_build(&bucket, &config).await;
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    store.create(job).await.unwrap();
    let base = serve(bucket.deck(store, &config)).await;
    check_spyglass(&base, &bucket, "pull-unit-1").await;
}

#[tokio::test]
async fn spyglass_reads_gcs_and_s3_emulators_for_jobs_in_kubernetes() {
    let config = config_yaml();
    for kind in ["gs", "s3"] {
        let Some(bucket) = Bucket::emulator(kind).await else {
            continue;
        };
        let job = failing_build(&bucket, &config).await;
        let fake = prow_jobs::kube::fake::FakeApiServer::start().expect("fake API server");
        let store = Arc::new(prow_jobs::kube::KubeStore::new(fake.client(), "default"));
        store.create(job).await.unwrap();
        let base = serve(bucket.deck(store, &config)).await;
        check_spyglass(&base, &bucket, "pull-unit-1").await;
    }
}

#[tokio::test]
async fn spyglass_refuses_addresses_outside_a_build() {
    let config = config_yaml();
    let bucket = Bucket::local();
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let base = serve(bucket.deck(store, &config)).await;
    for (src, status) in [
        ("gs/b/logs/../../etc/passwd", 400),
        ("ftp/b/logs/job/1", 400),
        ("gs/b", 400),
    ] {
        let (got, body) = get(&format!("{base}/deck/view.json?src={src}")).await;
        assert_eq!(got, status, "{src}: {body}");
    }
    let (got, _) = get(&format!("{base}/view-artifact/gs/b/logs/..%2F..%2Fsecret")).await;
    assert_eq!(got, 400);
    let (got, _) = get(&format!("{base}/view-artifact/gs/b/logs/job/1/missing.txt")).await;
    assert_eq!(got, 404);
}

/// Writes builds 100..100+count of the periodic `ci-nightly` straight into the bucket; every
/// third one failed. Returns the IDs.
async fn write_periodic_builds(bucket: &Bucket, count: u64) -> Vec<u64> {
    let writer = bucket.writer();
    let info = ObjectInfo::default();
    let mut ids = Vec::new();
    let puts = (0..count).map(|i| {
        let id = 100 + i;
        ids.push(id);
        let dir = format!("logs/ci-nightly/{id}");
        let started =
            json!({"timestamp": 1_700_000_000 + i * 3600, "repos": {"acme/widgets": "main"}});
        let finished = json!({"timestamp": 1_700_000_000 + i * 3600 + 90 + i,
                              "passed": i % 3 != 0,
                              "result": if i % 3 == 0 { "FAILURE" } else { "SUCCESS" }});
        let writer = &writer;
        let info = &info;
        async move {
            writer
                .put(
                    &format!("{dir}/started.json"),
                    started.to_string().into_bytes(),
                    info,
                )
                .await
                .unwrap();
            // The newest build is still running.
            if i + 1 < count {
                writer
                    .put(
                        &format!("{dir}/finished.json"),
                        finished.to_string().into_bytes(),
                        info,
                    )
                    .await
                    .unwrap();
            }
        }
    });
    futures::future::join_all(puts).await;
    writer
        .put(
            "logs/ci-nightly/latest-build.txt",
            (100 + count - 1).to_string().into_bytes(),
            &info,
        )
        .await
        .unwrap();
    ids
}

async fn check_job_history(bucket: &Bucket) {
    let config = config_yaml();
    let ids = write_periodic_builds(bucket, 55).await;
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let base = serve(bucket.deck(store, &config)).await;
    let src = format!("{}/logs/ci-nightly", bucket.view_prefix());
    let (status, page) = get(&format!("{base}/job-history/{src}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-page="jobHistory""#));

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut top = String::new();
    let mut newer_of_next = None;
    loop {
        let data = get_json(&format!(
            "{base}/deck/job-history.json?src={src}&buildId={top}"
        ))
        .await;
        pages += 1;
        assert_eq!(data["job"], "ci-nightly");
        assert_eq!(data["total"], 55);
        assert_eq!(data["latest_build"], "154");
        if let Some(expected) = newer_of_next.take() {
            assert_eq!(data["newer"], expected, "the newer link leads back");
        }
        let builds = data["builds"].as_array().unwrap();
        assert!(builds.len() <= 20);
        for b in builds {
            let id: u64 = b["id"].as_str().unwrap().parse().unwrap();
            let i = id - 100;
            let expected = if i == 54 {
                "Pending"
            } else if i.is_multiple_of(3) {
                "FAILURE"
            } else {
                "SUCCESS"
            };
            assert_eq!(b["result"], expected, "build {id}");
            if i != 54 {
                assert_eq!(b["duration"], 90 + i, "build {id}");
            }
            assert_eq!(
                b["link"],
                format!("/view/{}/logs/ci-nightly/{id}", bucket.view_prefix())
            );
            seen.push(id);
        }
        match data["older"].as_u64() {
            Some(older) => {
                newer_of_next = Some(builds[0]["id"].as_str().unwrap().parse::<u64>().unwrap());
                top = older.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected, "every build once, newest first");

    let (status, body) = get(&format!(
        "{base}/deck/job-history.json?src={src}&buildId=latest"
    ))
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn job_history_pages_through_55_builds_of_a_local_folder() {
    check_job_history(&Bucket::local()).await;
}

#[tokio::test]
async fn job_history_pages_through_55_builds_on_the_emulators() {
    for kind in ["gs", "s3"] {
        if let Some(bucket) = Bucket::emulator(kind).await {
            check_job_history(&bucket).await;
        }
    }
}

#[tokio::test]
async fn job_history_of_presubmits_follows_the_directory_links() {
    let config = config_yaml();
    let bucket = Bucket::local();
    for (build, sha) in [("2001", "5ha1"), ("2002", "5ha2")] {
        let job = presubmit(
            &format!("pull-unit-{build}"),
            "pull-unit",
            build,
            sha,
            &bucket.job_bucket,
        );
        upload(
            &bucket,
            &job,
            &Run {
                started: 1_767_261_600,
                log: "ok\n",
                code: 0,
                junit: None,
                link: None,
            },
        )
        .await;
    }
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let base = serve(bucket.deck(store, &config)).await;
    let src = format!("{}/pr-logs/directory/pull-unit", bucket.view_prefix());
    let data = get_json(&format!("{base}/deck/job-history.json?src={src}")).await;
    let builds = fields(&data["builds"], &["id", "result", "link"]);
    // The links name the local folder the local runner wrote (`file://...`), which deck in
    // local mode reads as its own artifacts.
    assert_eq!(builds.len(), 2, "{data:#}");
    assert_eq!(builds[0][..2], ["2002", "SUCCESS"]);
    assert!(
        builds[0][2].ends_with("/pr-logs/pull/acme_widgets/7/pull-unit/2002"),
        "{builds:?}"
    );
}

#[tokio::test]
async fn pr_history_groups_a_prs_runs_by_commit() {
    let config = config_yaml();
    let bucket = Bucket::local();
    let runs = [
        ("pull-unit", "3001", "5ha1", 1_767_261_600, 1),
        ("pull-e2e", "3002", "5ha1", 1_767_261_700, 0),
        ("pull-unit", "3003", "5ha2", 1_767_265_200, 0),
    ];
    for (job, build, sha, started, code) in runs {
        let pj = presubmit(
            &format!("{job}-{build}"),
            job,
            build,
            sha,
            &bucket.job_bucket,
        );
        upload(
            &bucket,
            &pj,
            &Run {
                started,
                log: "ok\n",
                code,
                junit: None,
                link: None,
            },
        )
        .await;
    }
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let base = serve(bucket.deck(store, &config)).await;
    let (status, page) = get(&format!("{base}/pr-history?org=acme&repo=widgets&pr=7")).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-page="prHistory""#));
    let data = get_json(&format!(
        "{base}/deck/pr-history.json?org=acme&repo=widgets&pr=7"
    ))
    .await;
    type Row = (String, String, String);
    let commits: Vec<(String, Vec<Row>)> = data["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut builds: Vec<Row> = c["builds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    (
                        b["job"].as_str().unwrap().to_owned(),
                        b["build"]["id"].as_str().unwrap().to_owned(),
                        b["build"]["result"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            builds.sort();
            (c["commit"].as_str().unwrap().to_owned(), builds)
        })
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        commits,
        [
            ("5ha2".to_owned(), vec![s("pull-unit", "3003", "SUCCESS")]),
            (
                "5ha1".to_owned(),
                vec![
                    s("pull-e2e", "3002", "SUCCESS"),
                    s("pull-unit", "3001", "FAILURE")
                ]
            ),
        ],
        "{data:#}"
    );
    let (status, body) = get(&format!(
        "{base}/deck/pr-history.json?org=acme&repo=widgets&pr=x"
    ))
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn configured_jobs_lists_the_jobs_that_apply_to_a_repo() {
    let config = config_yaml();
    let bucket = Bucket::local();
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let base = serve(bucket.deck(store, &config)).await;
    let (status, page) = get(&format!("{base}/configured-jobs/acme/widgets")).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-page="configuredJobs""#));
    let data = get_json(&format!(
        "{base}/deck/configured-jobs.json?org=acme&repo=widgets"
    ))
    .await;
    let jobs = fields(&data["jobs"], &["name", "type", "trigger"]);
    assert_eq!(
        jobs,
        [
            ["pull-unit", "presubmit", "always runs"],
            ["pull-e2e", "presubmit", "runs if changed: ^e2e/"],
            ["post-build", "postsubmit", "runs on every push"],
            ["ci-nightly", "periodic", "every 24h"],
        ]
    );
    let other = get_json(&format!(
        "{base}/deck/configured-jobs.json?org=acme&repo=other"
    ))
    .await;
    assert_eq!(other["jobs"], json!([]));
}

/// Uploads what initupload does when a build starts: started.json, no log, no
/// finished.json.
async fn start_build(bucket: &Bucket, job: &ProwJob) {
    let build = job.status.as_ref().unwrap().build_id.clone();
    let spec = JobSpec::new(&job.spec, &build, job.name());
    let mut gcs = job
        .spec
        .decoration_config
        .as_ref()
        .and_then(|c| c.gcs_configuration.clone())
        .unwrap();
    gcs.bucket = bucket.upload_bucket.clone();
    initupload::run(
        &InitUploadOptions {
            gcs_options: GcsUploadOptions {
                gcs_configuration: Some(gcs),
                storage_client_options: bucket.creds.clone(),
                ..GcsUploadOptions::default()
            },
            log: String::new(),
        },
        &spec,
        1_767_261_600,
    )
    .await
    .unwrap();
}

/// The live build-log lens of a running build's spyglass page: (line, highlighted).
fn live_lines(view: &Value) -> Vec<(String, bool)> {
    let live = &lens(view, "buildlog")["data"];
    assert_eq!(live["live"], true, "{view:#}");
    live["logs"][0]["groups"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["text"].as_str().unwrap().to_owned(),
                l["highlighted"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn spyglass_shows_a_running_kubernetes_jobs_pod_log() {
    let Some(bucket) = Bucket::emulator("s3").await else {
        return;
    };
    let config = config_yaml();
    let mut job = with_url(
        presubmit(
            "pull-unit-6",
            "pull-unit",
            "6001",
            "5ha1",
            &bucket.job_bucket,
        ),
        &config,
    );
    let status = job.status.as_mut().unwrap();
    status.state = prow_core::ProwJobState::Pending;
    status.pod_name = "pull-unit-6".to_owned();
    start_build(&bucket, &job).await;
    let fake = prow_jobs::kube::fake::FakeApiServer::start().expect("fake API server");
    let store = Arc::new(prow_jobs::kube::KubeStore::new(fake.client(), "default"));
    store.create(job.clone()).await.unwrap();
    let pods: kube::Api<prow_core::k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(fake.client(), "test-pods");
    let pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "pull-unit-6", "namespace": "test-pods"},
        "spec": {"containers": [{"name": "test", "image": "golang"}]},
    }))
    .unwrap();
    pods.create(&kube::api::PostParams::default(), &pod)
        .await
        .unwrap();
    fake.set_pod_log(
        "test-pods",
        "pull-unit-6",
        "test",
        "building...\npanic: boom\n",
    );
    let deck = bucket
        .deck(store, &config)
        .kube_pod_logs("default", fake.client(), "test-pods");
    let base = serve(deck).await;
    let src = job.status.as_ref().unwrap().url.replace(PREFIX, "");
    let view = get_json(&format!("{base}/deck/view.json?src={src}")).await;
    assert_eq!(view["finished"], false);
    assert_eq!(
        live_lines(&view),
        [
            ("building...".to_owned(), false),
            ("panic: boom".to_owned(), true)
        ]
    );
    assert!(
        fake.requests()
            .contains(&"LOG pods test-pods/pull-unit-6 container=test".to_owned()),
        "{:?}",
        fake.requests()
    );
}

#[tokio::test]
async fn spyglass_shows_a_running_builds_log_from_its_local_pod() {
    let config = config_yaml();
    let bucket = Bucket::local();
    let job = with_url(
        presubmit(
            "pull-unit-5",
            "pull-unit",
            "5001",
            "5ha1",
            &bucket.job_bucket,
        ),
        &config,
    );
    start_build(&bucket, &job).await;
    let pods = tempfile::tempdir().unwrap();
    let pod = pods.path().join("pull-unit-5");
    std::fs::create_dir_all(&pod).unwrap();
    std::fs::write(
        pod.join(prow_jobs::runner::BUILD_LOG_FILE),
        "compiling...\npanic: widget exploded\n",
    )
    .unwrap();
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    store.create(job.clone()).await.unwrap();
    let base = serve(bucket.deck(store, &config).pods_dir(pods.path())).await;
    let src = job.status.as_ref().unwrap().url.replace(PREFIX, "");
    let view = get_json(&format!("{base}/deck/view.json?src={src}")).await;
    assert_eq!(view["finished"], false);
    assert_eq!(
        lens(&view, "metadata")["data"]["metadata"]["result"],
        "Pending"
    );
    assert_eq!(
        live_lines(&view),
        [
            ("compiling...".to_owned(), false),
            ("panic: widget exploded".to_owned(), true)
        ]
    );
}

#[tokio::test]
async fn spyglass_shows_only_the_end_of_a_log_past_the_size_limit() {
    let config = config_yaml().replace("size_limit: 50000000", "size_limit: 200");
    let bucket = Bucket::local();
    let writer = bucket.writer();
    let info = ObjectInfo::default();
    let dir = "logs/ci-big/7";
    let log: String = (1..=100).map(|i| format!("line {i:03}\n")).collect();
    for (name, body) in [
        ("started.json", r#"{"timestamp": 1700000000}"#.to_owned()),
        (
            "finished.json",
            r#"{"timestamp": 1700000060, "passed": true}"#.to_owned(),
        ),
        ("build-log.txt", log),
    ] {
        writer
            .put(&format!("{dir}/{name}"), body.into_bytes(), &info)
            .await
            .unwrap();
    }
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let base = serve(bucket.deck(store, &config)).await;
    let src = format!("{}/{dir}", bucket.view_prefix());
    let view = get_json(&format!("{base}/deck/view.json?src={src}")).await;
    let shown = &lens(&view, "buildlog")["data"]["logs"][0];
    assert_eq!(shown["truncated"], true);
    let lines: Vec<String> = shown["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["lines"].as_array().unwrap().clone())
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect();
    // 200 bytes from the end of 100 lines of 9 bytes: the last 22 lines whole, after the
    // last character of line 78.
    assert_eq!(lines.len(), 23, "{lines:?}");
    assert_eq!(lines[..2], ["8", "line 079"]);
    assert_eq!(lines.last().map(String::as_str), Some("line 100"));
    let (status, body) = get(&format!("{base}{}", shown["url"].as_str().unwrap())).await;
    assert_eq!(status, 413, "{body}");
}
