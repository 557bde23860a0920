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
use prow_jobs::plank::{Controller, PendingAction, Timeouts, pending_action};
use prow_jobs::runner::{PodPhase, PodStatus, Runner, RunnerError, StopCause};
use prow_jobs::store::{JobStore, SqliteStore, WatchEvent};
use serde_json::json;

use crate::runner::runner as local_runner;
use crate::support::prowjob;

fn plank(yaml: &str) -> Arc<prow_config::prow::Plank> {
    Arc::new(serde_yaml::from_str(yaml).expect("plank parses"))
}

fn controller(
    store: Arc<dyn JobStore>,
    runner: Arc<dyn Runner>,
    config: Arc<prow_config::prow::Plank>,
    clock: Arc<dyn Clock>,
) -> Controller {
    Controller::new(store, runner, Arc::new(move || config.clone()), clock)
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
        start_time: Some(prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            Timestamp::now(),
        )),
        ..Default::default()
    });
    pj
}

fn state(job: &ProwJob) -> ProwJobState {
    job.state().expect("has a state")
}

/// Runs the controller until every job in the store is complete, watching the store.
async fn run_to_completion(store: Arc<dyn JobStore>, plank: Controller, mut check: impl FnMut(&WatchEvent)) {
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
    tokio::time::timeout(Duration::from_secs(120), wait)
        .await
        .expect("every job completes within two minutes");
    let _ = stop.send(());
    task.await.expect("plank stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_from_triggered_to_success_and_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().await.unwrap());
    let runner = Arc::new(local_runner(tmp.path()));
    store.create(triggered("passes", "ok", "echo fine", json!({}))).await.unwrap();
    store.create(triggered("fails", "bad", "exit 1", json!({}))).await.unwrap();
    let mut seen = BTreeMap::<String, Vec<ProwJobState>>::new();
    run_to_completion(
        store.clone(),
        controller(store.clone(), runner.clone(), plank("{}"), Arc::new(SystemClock)),
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
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().await.unwrap());
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
            .create(triggered(&format!("{job}-{i:03}"), job, "sleep 0.02", extra.clone()))
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
    assert!(jobs.iter().all(|j| state(j) == ProwJobState::Success), "every job passed");
    // The limits were reached, not merely respected by running one job at a time.
    assert_eq!(peak, (8, 2, 3));
}

/// Pods whose every run dies at once, or that stay where they are put.
#[derive(Default)]
struct FakeRunner {
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
            return Err(RunnerError::AlreadyExists { name: job.name().to_owned() });
        }
        let (phase, stop_cause) = self.new_pods.lock().unwrap().unwrap_or((PodPhase::Pending, None));
        let pod = fake_pod(job.name(), &job.status.as_ref().unwrap().build_id, phase, stop_cause);
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

fn fake_pod(name: &str, build_id: &str, phase: PodPhase, stop_cause: Option<StopCause>) -> PodStatus {
    let mut pod = PodStatus::new(name, name, build_id, phase, Timestamp::now());
    pod.stop_cause = stop_cause;
    pod
}
