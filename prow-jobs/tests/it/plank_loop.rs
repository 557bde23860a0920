//! plank's controller over a real store and runner: jobs run to success and failure, a burst of
//! 200 jobs on the local runner never exceeds the limits, pods that die are revived and then
//! failed, timeouts under a paused clock, superseded presubmits aborted, pods adopted after a
//! crash between creating them and recording it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJob, ProwJobState};
use prow_jobs::clock::{Clock, SystemClock, TokioClock};
use prow_jobs::plank::{PendingAction, Timeouts, pending_action};
use prow_jobs::runner::{PodPhase, PodStatus, Runner, RunnerError, StopCause};
use prow_jobs::store::{JobStore, SqliteStore, WatchEvent};
use serde_json::json;

use crate::runner::runner as local_runner;
use crate::support::{TestPlank, prowjob};

fn plank(yaml: &str) -> Arc<prow_config::prow::Plank> {
    Arc::new(serde_yaml::from_str(yaml).expect("plank parses"))
}

fn controller(
    store: Arc<dyn JobStore>,
    runner: Arc<dyn Runner>,
    config: Arc<prow_config::prow::Plank>,
    clock: Arc<dyn Clock>,
) -> TestPlank {
    TestPlank::new(store, runner, config, clock)
}

/// A triggered job `name` of `job` running `script`, created now.
fn triggered(name: &str, job: &str, script: &str, extra: serde_json::Value) -> ProwJob {
    let mut spec = json!({
        "type": "periodic",
        "agent": "kubernetes",
        "job": job,
        "pod_spec": {"containers": [{"image": "alpine", "command": ["sh", "-c", script]}]},
    });
    for (k, v) in extra.as_object().expect("object") {
        spec[k] = v.clone();
    }
    let mut pj = prowjob(name, json!({}), spec);
    pj.status = Some(prow_core::ProwJobStatus {
        state: ProwJobState::Triggered,
        start_time: Some(
            prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::now()),
        ),
        ..Default::default()
    });
    pj
}

fn state(job: &ProwJob) -> ProwJobState {
    job.state().expect("has a state")
}

/// Runs the controller until every job in the store is complete, watching the store.
async fn run_to_completion(
    store: Arc<dyn JobStore>,
    plank: TestPlank,
    mut check: impl FnMut(&WatchEvent),
) {
    let mut events = store.watch();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        plank
            .run(Duration::from_millis(200), async {
                let _ = stopped.await;
            })
            .await;
    });
    let wait = async {
        loop {
            let jobs = store.list(&Default::default()).await.expect("list");
            if jobs.iter().all(ProwJob::is_complete) {
                return;
            }
            match events.recv().await {
                Ok(event) => check(&event),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    panic!("the test fell {n} events behind")
                }
                Err(e) => panic!("watch: {e}"),
            }
            while let Ok(event) = events.try_recv() {
                check(&event);
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .is_err()
    {
        let jobs = store.list(&Default::default()).await.expect("list");
        let mut states = BTreeMap::<String, usize>::new();
        for job in &jobs {
            *states
                .entry(format!("{:?} complete={}", state(job), job.is_complete()))
                .or_default() += 1;
        }
        panic!("not every job completed within two minutes: {states:?}");
    }
    let _ = stop.send(());
    task.await.expect("plank stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_from_triggered_to_success_and_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let runner = Arc::new(local_runner(tmp.path()));
    store
        .create(triggered("passes", "ok", "echo fine", json!({})))
        .await
        .unwrap();
    store
        .create(triggered("fails", "bad", "exit 1", json!({})))
        .await
        .unwrap();
    let mut seen = BTreeMap::<String, Vec<ProwJobState>>::new();
    run_to_completion(
        store.clone(),
        controller(
            store.clone(),
            runner.clone(),
            plank("{}"),
            Arc::new(SystemClock),
        ),
        |event| {
            let job = event.job();
            let states = seen.entry(job.name().to_owned()).or_default();
            if states.last() != Some(&state(job)) {
                states.push(state(job));
            }
        },
    )
    .await;
    let passes = store.get("passes").await.unwrap().unwrap();
    let status = passes.status.as_ref().unwrap();
    assert_eq!(status.state, ProwJobState::Success);
    assert_eq!(status.description, "Job succeeded.");
    assert!(!status.build_id.is_empty());
    assert_eq!(status.pod_name, "passes");
    assert!(status.pending_time.is_some() && status.completion_time.is_some());
    let fails = store.get("fails").await.unwrap().unwrap();
    assert_eq!(state(&fails), ProwJobState::Failure);
    assert_eq!(fails.status.as_ref().unwrap().description, "Job failed.");
    for states in seen.values() {
        assert_eq!(states.first(), Some(&ProwJobState::Pending), "{seen:?}");
    }
    assert_ne!(
        fails.status.as_ref().unwrap().build_id,
        status.build_id,
        "build IDs are unique"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_200_jobs_on_the_local_runner_never_exceeds_the_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let runner = Arc::new(local_runner(tmp.path()));
    let config = plank("max_concurrency: 8\njob_queue_capacities: {gpu: 3}\n");
    let kinds = [
        ("a", json!({"max_concurrency": 2})),
        ("b", json!({})),
        ("c", json!({"job_queue_name": "gpu"})),
        ("d", json!({"job_queue_name": "gpu"})),
    ];
    for i in 0..200 {
        let (job, extra) = &kinds[i % kinds.len()];
        store
            .create(triggered(
                &format!("{job}-{i:03}"),
                job,
                "sleep 0.02",
                extra.clone(),
            ))
            .await
            .unwrap();
    }
    let mut running: BTreeMap<String, ProwJob> = BTreeMap::new();
    let mut peak = (0, 0, 0);
    run_to_completion(
        store.clone(),
        controller(store.clone(), runner, config, Arc::new(SystemClock)),
        |event| {
            let job = event.job();
            if state(job) == ProwJobState::Pending && !job.is_complete() {
                running.insert(job.name().to_owned(), job.clone());
            } else {
                running.remove(job.name());
            }
            let count = |f: &dyn Fn(&ProwJob) -> bool| running.values().filter(|j| f(j)).count();
            let all = running.len();
            let a = count(&|j| j.spec.job == "a");
            let gpu = count(&|j| j.spec.job_queue_name == "gpu");
            assert!(all <= 8, "{all} running at once");
            assert!(a <= 2, "{a} runs of job a at once");
            assert!(gpu <= 3, "{gpu} jobs of queue gpu at once");
            peak = (peak.0.max(all), peak.1.max(a), peak.2.max(gpu));
        },
    )
    .await;
    let jobs = store.list(&Default::default()).await.unwrap();
    assert_eq!(jobs.len(), 200);
    assert!(
        jobs.iter().all(|j| state(j) == ProwJobState::Success),
        "every job passed"
    );
    // The limits were reached, not merely respected by running one job at a time.
    assert_eq!(peak, (8, 2, 3));
}

/// Pods that stay in the phase they are created in (or are put in) until deleted.
struct FakeRunner {
    clock: Arc<dyn Clock>,
    pods: Mutex<BTreeMap<String, PodStatus>>,
    /// The phase and cause new pods get.
    new_pods: Mutex<Option<(PodPhase, Option<StopCause>)>>,
    created: Mutex<Vec<String>>,
    deleted: Mutex<Vec<String>>,
}

#[async_trait]
impl Runner for FakeRunner {
    async fn create(&self, job: &ProwJob) -> Result<PodStatus, RunnerError> {
        let mut pods = self.pods.lock().unwrap();
        if pods.contains_key(job.name()) {
            return Err(RunnerError::AlreadyExists {
                name: job.name().to_owned(),
            });
        }
        let (phase, stop_cause) = self
            .new_pods
            .lock()
            .unwrap()
            .unwrap_or((PodPhase::Pending, None));
        let mut pod = PodStatus::new(
            job.name(),
            job.name(),
            &job.status.as_ref().unwrap().build_id,
            phase,
            self.clock.now(),
        );
        pod.stop_cause = stop_cause;
        if phase == PodPhase::Running {
            pod.started = Some(self.clock.now());
            pod.place = "on a fake".to_owned();
        }
        pods.insert(job.name().to_owned(), pod.clone());
        self.created.lock().unwrap().push(job.name().to_owned());
        Ok(pod)
    }

    async fn get(&self, name: &str) -> Result<Option<PodStatus>, RunnerError> {
        Ok(self.pods.lock().unwrap().get(name).cloned())
    }

    async fn delete(&self, name: &str) -> Result<(), RunnerError> {
        self.pods.lock().unwrap().remove(name);
        self.deleted.lock().unwrap().push(name.to_owned());
        Ok(())
    }

    async fn list(&self) -> Result<Vec<PodStatus>, RunnerError> {
        Ok(self.pods.lock().unwrap().values().cloned().collect())
    }
}

impl FakeRunner {
    fn new(clock: Arc<dyn Clock>, phase: PodPhase, stop_cause: Option<StopCause>) -> Arc<Self> {
        Arc::new(FakeRunner {
            clock,
            pods: Mutex::default(),
            new_pods: Mutex::new(Some((phase, stop_cause))),
            created: Mutex::default(),
            deleted: Mutex::default(),
        })
    }
}

async fn store_with(jobs: Vec<ProwJob>) -> Arc<dyn JobStore> {
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
    for job in jobs {
        store.create(job).await.unwrap();
    }
    store
}

async fn status_of(store: &Arc<dyn JobStore>, name: &str) -> prow_core::ProwJobStatus {
    store.get(name).await.unwrap().unwrap().status.unwrap()
}

#[tokio::test]
async fn a_pod_that_keeps_dying_is_revived_up_to_max_revivals_then_errors() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let runner = FakeRunner::new(clock.clone(), PodPhase::Unknown, Some(StopCause::Unknown));
    let store = store_with(vec![triggered("flaky-node", "j", "true", json!({}))]).await;
    let plank = controller(
        store.clone(),
        runner.clone(),
        plank("max_revivals: 2\n"),
        clock,
    );
    let mut descriptions = Vec::new();
    for _ in 0..10 {
        let report = plank.sync_once().await.unwrap();
        assert!(report.errors.is_empty(), "{report:?}");
        let status = status_of(&store, "flaky-node").await;
        descriptions.push((status.pod_revival_count, status.description.clone()));
        if status.completion_time.is_some() {
            break;
        }
    }
    let status = status_of(&store, "flaky-node").await;
    assert_eq!(status.state, ProwJobState::Error);
    assert_eq!(
        status.description,
        "Job pod reached max revivals (2) after being stopped unexpectedly (unknown)"
    );
    assert_eq!(status.pod_revival_count, 2);
    assert_eq!(
        runner.created.lock().unwrap().len(),
        3,
        "the first pod and two revivals"
    );
    assert_eq!(runner.deleted.lock().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn timeouts_follow_the_paused_clock() {
    let start: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(start));
    let config = plank("pod_running_timeout: 1h\n");

    let unscheduled = FakeRunner::new(clock.clone(), PodPhase::Pending, None);
    let store = store_with(vec![triggered("stuck", "j", "true", json!({}))]).await;
    let plank_a = controller(
        store.clone(),
        unscheduled.clone(),
        config.clone(),
        clock.clone(),
    );
    plank_a.sync_once().await.unwrap();
    plank_a.sync_once().await.unwrap();
    assert_eq!(
        status_of(&store, "stuck").await.state,
        ProwJobState::Pending
    );
    tokio::time::advance(Duration::from_secs(4 * 60 + 59)).await;
    plank_a.sync_once().await.unwrap();
    assert_eq!(
        status_of(&store, "stuck").await.state,
        ProwJobState::Pending
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    plank_a.sync_once().await.unwrap();
    let status = status_of(&store, "stuck").await;
    assert_eq!(
        (status.state, status.description.as_str()),
        (ProwJobState::Error, "Pod scheduling timeout.")
    );
    assert_eq!(
        status.completion_time.unwrap().0,
        start.checked_add(jiff_secs(300)).unwrap()
    );
    assert_eq!(*unscheduled.deleted.lock().unwrap(), ["stuck"]);

    let running = FakeRunner::new(clock.clone(), PodPhase::Running, None);
    let store = store_with(vec![triggered("slow", "j", "true", json!({}))]).await;
    let plank_b = controller(store.clone(), running.clone(), config, clock);
    plank_b.sync_once().await.unwrap();
    plank_b.sync_once().await.unwrap();
    let status = status_of(&store, "slow").await;
    assert_eq!(status.description, "Job running on a fake.");
    tokio::time::advance(Duration::from_secs(3600)).await;
    plank_b.sync_once().await.unwrap();
    let status = status_of(&store, "slow").await;
    assert_eq!(
        (status.state, status.description.as_str()),
        (ProwJobState::Aborted, "Pod running timeout.")
    );
    assert!(status.completion_time.is_some());
    assert_eq!(*running.deleted.lock().unwrap(), ["slow"]);
}

fn jiff_secs(secs: i64) -> prow_core::k8s_openapi::jiff::SignedDuration {
    prow_core::k8s_openapi::jiff::SignedDuration::from_secs(secs)
}

fn presubmit_run(name: &str, sha: &str, start: &str) -> ProwJob {
    let mut job = triggered(
        name,
        "unit",
        "true",
        json!({"type": "presubmit", "refs": {"org": "o", "repo": "r", "base_ref": "main", "pulls": [{"number": 1, "author": "a", "sha": sha}]}}),
    );
    job.status.as_mut().unwrap().start_time = Some(
        prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(start.parse().unwrap()),
    );
    job
}

#[tokio::test]
async fn a_newer_push_aborts_the_older_run_and_deletes_its_pod() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let runner = FakeRunner::new(clock.clone(), PodPhase::Running, None);
    let store = store_with(vec![presubmit_run("old", "aaa", "2026-11-23T10:00:00Z")]).await;
    let plank = controller(store.clone(), runner.clone(), plank("{}"), clock);
    plank.sync_once().await.unwrap();
    assert_eq!(status_of(&store, "old").await.state, ProwJobState::Pending);
    store
        .create(presubmit_run("new", "bbb", "2026-11-23T10:05:00Z"))
        .await
        .unwrap();
    let report = plank.sync_once().await.unwrap();
    assert_eq!((report.superseded, report.started), (1, 1), "{report:?}");
    let old = status_of(&store, "old").await;
    assert_eq!(old.state, ProwJobState::Aborted);
    assert!(old.completion_time.is_some());
    assert_eq!(
        old.prev_report_states.get("github-reporter"),
        Some(&ProwJobState::Aborted)
    );
    assert_eq!(*runner.deleted.lock().unwrap(), ["old"]);
    assert_eq!(status_of(&store, "new").await.state, ProwJobState::Pending);
}

#[tokio::test]
async fn a_pod_created_before_a_crash_is_adopted_not_duplicated() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let runner = FakeRunner::new(clock.clone(), PodPhase::Running, None);
    let mut earlier = triggered("adopt-me", "j", "true", json!({}));
    earlier.status.as_mut().unwrap().build_id = "777".to_owned();
    runner.create(&earlier).await.unwrap();
    let store = store_with(vec![triggered("adopt-me", "j", "true", json!({}))]).await;
    let plank = controller(
        store.clone(),
        runner.clone(),
        plank("max_concurrency: 1\n"),
        clock,
    );
    let report = plank.sync_once().await.unwrap();
    assert_eq!(report.started, 0);
    let status = status_of(&store, "adopt-me").await;
    assert_eq!(
        (status.state, status.build_id.as_str()),
        (ProwJobState::Pending, "777")
    );
    assert_eq!(runner.created.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_job_that_cannot_become_a_pod_errors_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let mut job = triggered("no-spec", "j", "true", json!({}));
    job.spec.pod_spec = None;
    let store = store_with(vec![job]).await;
    let plank = controller(
        store.clone(),
        Arc::new(local_runner(tmp.path())),
        plank("{}"),
        Arc::new(SystemClock),
    );
    plank.sync_once().await.unwrap();
    let status = status_of(&store, "no-spec").await;
    assert_eq!(status.state, ProwJobState::Error);
    assert_eq!(
        status.description,
        "Pod can not be created: build pod for prowjob \"no-spec\": it lacks a pod spec"
    );
}

#[test]
fn pending_jobs_follow_prows_rules_for_their_pods() {
    let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
    let timeouts = Timeouts::of(&triggered("x", "j", "true", json!({})), &plank("{}"));
    let pod = |phase, cause: Option<StopCause>| {
        let mut pod = PodStatus::new("x", "x", "1", phase, now);
        pod.stop_cause = cause;
        pod.started = Some(now);
        pod
    };
    let job = |extra| triggered("x", "j", "true", extra);
    let decide =
        |job: &ProwJob, pod: Option<&PodStatus>| pending_action(job, pod, &timeouts, 3, now);
    let error = |text: &str| PendingAction::Complete {
        state: ProwJobState::Error,
        description: text.to_owned(),
        delete_pod: false,
    };

    assert_eq!(decide(&job(json!({})), None), PendingAction::StartPod);
    assert_eq!(
        decide(&job(json!({})), Some(&pod(PodPhase::Failed, None))),
        PendingAction::Complete {
            state: ProwJobState::Failure,
            description: "Job failed.".into(),
            delete_pod: false
        }
    );
    let mut passed = pod(PodPhase::Succeeded, None);
    assert_eq!(
        decide(&job(json!({})), Some(&passed)),
        error("Pod was in succeeded phase but some containers didn't finish")
    );
    passed.all_containers_finished = true;
    assert_eq!(
        decide(&job(json!({})), Some(&passed)),
        PendingAction::Complete {
            state: ProwJobState::Success,
            description: "Job succeeded.".into(),
            delete_pod: false
        }
    );
    assert_eq!(
        decide(
            &job(json!({})),
            Some(&pod(PodPhase::Running, Some(StopCause::OomKilled)))
        ),
        error("Job pod was OOM killed by the cluster.")
    );
    assert_eq!(
        decide(
            &job(json!({"error_on_eviction": true})),
            Some(&pod(PodPhase::Failed, Some(StopCause::Evicted)))
        ),
        error("Job pod was evicted by the cluster.")
    );
    assert_eq!(
        decide(
            &job(json!({})),
            Some(&pod(PodPhase::Failed, Some(StopCause::Evicted)))
        ),
        PendingAction::Revive
    );
    let mut deleted = pod(PodPhase::Pending, None);
    deleted.deleting = true;
    assert_eq!(
        decide(&job(json!({})), Some(&deleted)),
        error("Pod got deleted unexpectedly")
    );
    // A job's own decoration timeouts win over plank's.
    let own = job(
        json!({"decoration_config": {"pod_pending_timeout": "1s", "pod_unscheduled_timeout": "2s", "pod_running_timeout": "3s"}}),
    );
    assert_eq!(
        Timeouts::of(&own, &plank("pod_pending_timeout: 1h\n")),
        Timeouts {
            pending: Duration::from_secs(1),
            unscheduled: Duration::from_secs(2),
            running: Duration::from_secs(3)
        }
    );
}

#[allow(dead_code)]
fn _unused(_: BTreeSet<()>) {}
