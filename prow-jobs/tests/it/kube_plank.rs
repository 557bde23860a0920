//! plank's `Controller` over `KubeStore` and `KubeRunner` against the fake API server, the
//! test playing the kubelet: pods that fail, succeed, get evicted or never get scheduled, a job
//! aborted mid-run, a write that loses a race, and the corpus ProwJob picked up on the build
//! cluster it names, its Pod the decoration golden's.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJob, ProwJobState};
use prow_jobs::clock::{Clock, SystemClock, TokioClock};
use prow_jobs::kube::fake::{FakeApiServer, Resource};
use prow_jobs::kube::{BuildClusters, KubeRunner, KubeStore, PLANK_VERSION_VALUE};
use prow_jobs::plank::SyncReport;

use crate::support::TestPlank;
use prow_jobs::runner::Runner;
use prow_jobs::store::{JobStore, WatchEvent};
use serde_json::{Value, json};

use crate::support::prowjob;

const JOBS: &str = "prow";
const PODS: &str = "test-pods";

struct Env {
    fake: FakeApiServer,
    store: Arc<KubeStore>,
    plank: TestPlank,
}

fn plank_config(yaml: &str) -> Arc<prow_config::prow::Plank> {
    Arc::new(serde_yaml::from_str(yaml).expect("plank parses"))
}

fn env_with(config: &str, clock: Arc<dyn Clock>) -> Env {
    let fake = FakeApiServer::start().expect("fake API server");
    let store = Arc::new(KubeStore::new(fake.client(), JOBS));
    let runner: Arc<dyn Runner> = Arc::new(KubeRunner::new(fake.client(), PODS, "default"));
    let config = plank_config(config);
    let plank = TestPlank::new(store.clone(), runner, config, clock);
    Env { fake, store, plank }
}

fn env() -> Env {
    env_with("{}", Arc::new(SystemClock))
}

fn triggered(name: &str, extra: Value) -> ProwJob {
    let mut spec = json!({
        "type": "periodic",
        "agent": "kubernetes",
        "job": "unit",
        "pod_spec": {"containers": [{"image": "alpine", "command": ["make", "test"]}]},
    });
    for (k, v) in extra.as_object().expect("object") {
        spec[k] = v.clone();
    }
    let mut pj = prowjob(name, json!({}), spec);
    pj.status = Some(prow_core::ProwJobStatus {
        state: ProwJobState::Triggered,
        start_time: Some(Time(Timestamp::now())),
        ..Default::default()
    });
    pj
}

impl Env {
    async fn sync(&self) -> SyncReport {
        self.plank.sync_once().await.expect("plank lists prowjobs")
    }

    async fn job(&self, name: &str) -> ProwJob {
        self.store
            .get(name)
            .await
            .expect("get")
            .expect("the job exists")
    }

    /// Plays the kubelet: sets the pod's `status`.
    fn kubelet(&self, name: &str, status: Value) {
        self.fake
            .modify(Resource::Pods, PODS, name, |pod| pod["status"] = status)
            .unwrap_or_else(|| panic!("pod {name} exists"));
    }

    fn pod_uid(&self, name: &str) -> Option<String> {
        self.fake
            .get(Resource::Pods, PODS, name)
            .map(|p| p["metadata"]["uid"].as_str().unwrap_or_default().to_owned())
    }

    /// Creates the triggered job and runs one pass: it is pending with its pod created.
    async fn started(&self, job: ProwJob) -> ProwJob {
        let name = job.name().to_owned();
        self.store.create(job).await.expect("create");
        let report = self.sync().await;
        assert_eq!(report.started, 1, "{report:?}");
        let job = self.job(&name).await;
        assert_eq!(job.state(), Some(ProwJobState::Pending));
        assert!(self.pod_uid(&name).is_some(), "pod {name} created");
        job
    }
}

fn description(job: &ProwJob) -> &str {
    job.status.as_ref().map_or("", |s| s.description.as_str())
}

fn terminated(name: &str, reason: &str, exit_code: i32) -> Value {
    json!({"name": name, "image": "x", "imageID": "", "ready": false, "restartCount": 0,
           "state": {"terminated": {"reason": reason, "exitCode": exit_code, "finishedAt": "2026-01-01T00:10:00Z"}}})
}

#[tokio::test]
async fn a_pod_that_fails_fails_the_job_and_one_that_succeeds_succeeds_it() {
    let env = env();
    env.started(triggered("fails", json!({}))).await;
    env.started(triggered("passes", json!({}))).await;
    env.kubelet(
        "fails",
        json!({"phase": "Running", "startTime": Timestamp::now().to_string()}),
    );
    assert_eq!(
        env.sync().await.completed,
        0,
        "a running pod: nothing to do"
    );
    assert_eq!(description(&env.job("fails").await), "Job triggered.");

    env.kubelet(
        "fails",
        json!({"phase": "Failed", "containerStatuses": [terminated("test", "Error", 1)]}),
    );
    env.kubelet(
        "passes",
        json!({"phase": "Succeeded", "containerStatuses": [terminated("test", "Completed", 0)]}),
    );
    let report = env.sync().await;
    assert_eq!(report.completed, 2, "{report:?}");
    let failed = env.job("fails").await;
    assert_eq!(
        (failed.state(), description(&failed)),
        (Some(ProwJobState::Failure), "Job failed.")
    );
    assert!(failed.status.as_ref().unwrap().completion_time.is_some());
    let passed = env.job("passes").await;
    assert_eq!(
        (passed.state(), description(&passed)),
        (Some(ProwJobState::Success), "Job succeeded.")
    );
    // Finished pods stay for sinker.
    assert!(env.pod_uid("fails").is_some() && env.pod_uid("passes").is_some());
}

#[tokio::test]
async fn an_evicted_pod_is_revived_unless_the_job_errors_on_eviction() {
    let env = env();
    env.started(triggered("revived", json!({}))).await;
    env.started(triggered("strict", json!({"error_on_eviction": true})))
        .await;
    let first = env.pod_uid("revived").unwrap();
    let evicted = json!({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."});
    env.kubelet("revived", evicted.clone());
    env.kubelet("strict", evicted);

    let report = env.sync().await;
    assert_eq!((report.revived, report.completed), (1, 1), "{report:?}");
    let revived = env.job("revived").await;
    assert_eq!(revived.state(), Some(ProwJobState::Pending));
    assert_eq!(revived.status.as_ref().unwrap().pod_revival_count, 1);
    assert_eq!(env.pod_uid("revived"), None, "the evicted pod is deleted");
    let strict = env.job("strict").await;
    assert_eq!(
        (strict.state(), description(&strict)),
        (
            Some(ProwJobState::Error),
            "Job pod was evicted by the cluster."
        )
    );

    // The next pass finds the pod missing and starts a new one.
    let report = env.sync().await;
    assert_eq!(report.started, 1, "{report:?}");
    let second = env.pod_uid("revived").expect("a new pod");
    assert_ne!(first, second);
    assert_eq!(
        env.job("revived").await.state(),
        Some(ProwJobState::Pending)
    );
}

#[tokio::test]
async fn an_oom_killed_pod_errors_the_job() {
    let env = env();
    env.started(triggered("oom", json!({}))).await;
    env.kubelet(
        "oom",
        json!({"phase": "Running", "containerStatuses": [terminated("test", "OOMKilled", 137)]}),
    );
    env.sync().await;
    let job = env.job("oom").await;
    assert_eq!(
        (job.state(), description(&job)),
        (
            Some(ProwJobState::Error),
            "Job pod was OOM killed by the cluster."
        )
    );
}

#[tokio::test(start_paused = true)]
async fn a_pod_never_scheduled_times_out_and_is_deleted() {
    let t0: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
    let env = env_with(
        "{pod_unscheduled_timeout: 5m}",
        Arc::new(TokioClock::starting_at(t0)),
    );
    env.fake.set_now(t0);
    env.started(triggered("stuck", json!({}))).await;

    tokio::time::advance(Duration::from_secs(5 * 60 - 1)).await;
    assert_eq!(env.sync().await.completed, 0);
    assert_eq!(env.job("stuck").await.state(), Some(ProwJobState::Pending));

    tokio::time::advance(Duration::from_secs(1)).await;
    let report = env.sync().await;
    assert_eq!(report.completed, 1, "{report:?}");
    let job = env.job("stuck").await;
    assert_eq!(
        (job.state(), description(&job)),
        (Some(ProwJobState::Error), "Pod scheduling timeout.")
    );
    assert_eq!(
        job.status.as_ref().unwrap().completion_time,
        Some(Time(t0.checked_add(Duration::from_secs(300)).unwrap()))
    );
    assert_eq!(env.pod_uid("stuck"), None, "the unscheduled pod is deleted");
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_pod_pending_too_long_times_out() {
    let t0: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
    let env = env_with(
        "{pod_pending_timeout: 10m}",
        Arc::new(TokioClock::starting_at(t0)),
    );
    env.fake.set_now(t0);
    env.started(triggered("pulling", json!({}))).await;
    // Scheduled two minutes in, then stuck pulling its image.
    env.kubelet(
        "pulling",
        json!({"phase": "Pending", "startTime": "2026-03-01T12:02:00Z"}),
    );
    tokio::time::advance(Duration::from_secs(11 * 60)).await;
    assert_eq!(
        env.sync().await.completed,
        0,
        "ten minutes since scheduling have not passed"
    );
    tokio::time::advance(Duration::from_secs(60)).await;
    env.sync().await;
    let job = env.job("pulling").await;
    assert_eq!(
        (job.state(), description(&job)),
        (Some(ProwJobState::Error), "Pod pending timeout.")
    );
    assert_eq!(env.pod_uid("pulling"), None);
}

#[tokio::test]
async fn a_job_aborted_mid_run_has_its_pod_deleted() {
    let env = env();
    let job = env.started(triggered("aborted", json!({}))).await;
    env.kubelet(
        "aborted",
        json!({"phase": "Running", "startTime": Timestamp::now().to_string()}),
    );
    // Someone (deck, `prow abort`) aborts the job.
    let mut abort = job.clone();
    abort.status.as_mut().unwrap().state = ProwJobState::Aborted;
    env.store.update(abort).await.expect("abort");

    let report = env.sync().await;
    assert_eq!(report.completed, 1, "{report:?}");
    assert_eq!(env.pod_uid("aborted"), None, "the running pod is deleted");
    let job = env.job("aborted").await;
    assert_eq!(job.state(), Some(ProwJobState::Aborted));
    assert!(job.status.as_ref().unwrap().completion_time.is_some());
    assert!(
        env.fake
            .requests()
            .contains(&format!("DELETE pods {PODS}/aborted"))
    );
}

#[tokio::test]
async fn a_status_write_that_loses_a_race_is_retried_on_the_next_pass() {
    let env = env();
    env.store
        .create(triggered("raced", json!({})))
        .await
        .unwrap();
    env.fake.race_next_write(Resource::ProwJobs, "raced");
    let report = env.sync().await;
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(
        report.errors[0].contains("prowjob raced")
            && report.errors[0].contains("has been modified"),
        "{}",
        report.errors[0]
    );
    assert_eq!(
        env.job("raced").await.state(),
        Some(ProwJobState::Triggered)
    );
    let pod = env
        .pod_uid("raced")
        .expect("the pod was created before the write failed");

    // The next pass adopts the pod instead of making another, and records it.
    let report = env.sync().await;
    assert!(report.errors.is_empty(), "{report:?}");
    let job = env.job("raced").await;
    assert_eq!(job.state(), Some(ProwJobState::Pending));
    assert_eq!(env.pod_uid("raced"), Some(pod));
    let annotations = job.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations
            .get("fake.prow-rs.dev/concurrent-writer")
            .map(String::as_str),
        Some("was here"),
        "the other writer's change is kept"
    );
}

#[tokio::test]
async fn the_controller_loop_follows_pods_through_watches() {
    let env = env();
    let mut events = env.store.watch();
    env.store.watching().await;
    let Env { fake, store, plank } = env;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // A resync far beyond the test's length: only watch events can move the job.
    let task = tokio::spawn(async move {
        plank
            .run(Duration::from_secs(3600), async {
                let _ = stopped.await;
            })
            .await;
    });
    store.create(triggered("watched", json!({}))).await.unwrap();
    until(&mut events, ProwJobState::Pending).await;
    fake.modify(Resource::Pods, PODS, "watched", |p| p["status"] = json!({"phase": "Succeeded", "containerStatuses": [terminated("test", "Completed", 0)]}))
        .expect("pod created");
    let done = until(&mut events, ProwJobState::Success).await;
    assert_eq!(description(&done), "Job succeeded.");
    stop.send(()).unwrap();
    task.await.unwrap();
}

async fn until(
    events: &mut tokio::sync::broadcast::Receiver<WatchEvent>,
    want: ProwJobState,
) -> ProwJob {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("an event within 30s")
            .expect("the watch is open");
        if let WatchEvent::Modified(job) = event
            && job.state() == Some(want)
        {
            return *job;
        }
    }
}

fn corpus_job() -> PathBuf {
    let path = crate::support::corpus_path()
        .join("prow-testdata/test/integration/test/testdata/valid_prowjob.yaml");
    if path.is_file() {
        path
    } else {
        eprintln!(
            "notice: corpus not found at {}; using the committed copy",
            path.display()
        );
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kube/valid_prowjob.yaml")
    }
}

#[tokio::test]
async fn the_corpus_prowjob_runs_on_its_build_cluster_with_the_golden_pod() {
    let text = std::fs::read_to_string(corpus_job()).expect("read valid_prowjob.yaml");
    let committed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kube/valid_prowjob.yaml"),
    )
    .unwrap();
    assert_eq!(text, committed, "the committed copy is the corpus file");
    let loaded = prow_core::prowjob_from_yaml(&text)
        .expect("the corpus ProwJob loads")
        .value;

    // The prowjob cluster and the two build clusters, each its own API server.
    let infra = FakeApiServer::start().unwrap();
    let default_cluster = FakeApiServer::start().unwrap();
    let build = FakeApiServer::start().unwrap();
    let store = Arc::new(KubeStore::new(infra.client(), "default"));
    let clusters = BuildClusters::new([
        KubeRunner::new(default_cluster.client(), PODS, "default"),
        KubeRunner::new(build.client(), PODS, "k8s-infra-prow-build"),
    ]);
    assert_eq!(clusters.aliases(), ["default", "k8s-infra-prow-build"]);
    let config = plank_config("{}");
    let plank = TestPlank::new(
        store.clone(),
        Arc::new(clusters),
        config,
        Arc::new(SystemClock),
    );

    // As a real Prow's object: written to the API server as it is, minus what the server sets.
    let mut as_stored: Value = serde_yaml::from_str(&text).unwrap();
    for field in ["resourceVersion", "uid", "creationTimestamp", "generation"] {
        as_stored["metadata"].as_object_mut().unwrap().remove(field);
    }
    let created = store
        .create(serde_json::from_value(as_stored).unwrap())
        .await
        .expect("create the corpus job");
    assert_eq!(
        created.spec, loaded.spec,
        "the spec round-trips through the API server"
    );
    assert_eq!(created.metadata.labels, loaded.metadata.labels);
    assert_eq!(created.metadata.annotations, loaded.metadata.annotations);

    // As in upstream, plank leaves a tekton-pipeline job without a state alone.
    let report = plank.sync_once().await.unwrap();
    assert_eq!(report, SyncReport::default());

    // The same job for plank's agent, triggered as mkpj makes it: picked up.
    let mut ours = store.get("test-job2").await.unwrap().unwrap();
    ours.spec.agent = prow_core::ProwJobAgent::Kubernetes;
    ours.status = Some(prow_core::ProwJobStatus {
        state: ProwJobState::Triggered,
        start_time: Some(Time(Timestamp::now())),
        ..Default::default()
    });
    store.update(ours).await.unwrap();
    let report = plank.sync_once().await.unwrap();
    assert_eq!(report.started, 1, "{report:?}");

    let job = store.get("test-job2").await.unwrap().unwrap();
    assert_eq!(job.state(), Some(ProwJobState::Pending));
    let build_id = job.status.as_ref().unwrap().build_id.clone();
    assert!(!build_id.is_empty());
    assert!(
        default_cluster.names(Resource::Pods, PODS).is_empty(),
        "not on the default cluster"
    );
    let pod = build
        .get(Resource::Pods, PODS, "test-job2")
        .expect("the pod is on k8s-infra-prow-build");

    let mut golden =
        serde_json::to_value(prow_jobs::prow_job_to_pod(&job, &build_id).expect("decorate"))
            .unwrap();
    golden["metadata"]["namespace"] = json!(PODS);
    golden["metadata"]["labels"]["prow.k8s.io/plank-version"] = json!(PLANK_VERSION_VALUE);
    assert_eq!(
        pod["spec"], golden["spec"],
        "the pod spec is the decoration golden's"
    );
    assert_eq!(pod["metadata"]["labels"], golden["metadata"]["labels"]);
    assert_eq!(
        pod["metadata"]["annotations"],
        golden["metadata"]["annotations"]
    );
    assert_eq!(
        pod["metadata"]["namespace"],
        golden["metadata"]["namespace"]
    );
    let containers: Vec<&str> = pod["spec"]["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(pod["spec"]["containers"].as_array().unwrap())
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        containers,
        [
            "clonerefs",
            "initupload",
            "place-entrypoint",
            "test",
            "sidecar"
        ]
    );
}
