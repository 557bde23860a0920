//! sinker's decisions: old finished ProwJobs go, the newest run of each configured periodic
//! stays, pods go when aged, past their TTL or orphaned, never while their job runs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use prow_core::k8s_openapi::jiff::Timestamp;
use prow_jobs::sinker::{PodInfo, PodReason, Policy, pod_verdict, prowjobs_to_delete};

use crate::support::run_of;

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

const HOUR: Duration = Duration::from_secs(3600);

fn policy() -> Policy {
    Policy {
        max_prowjob_age: 48 * HOUR,
        max_pod_age: 12 * HOUR,
        terminated_pod_ttl: 2 * HOUR,
    }
}

#[test]
fn old_finished_jobs_go_and_the_newest_run_of_each_configured_periodic_stays() {
    let jobs = vec![
        run_of(
            "presubmit",
            "unit",
            "old-pr",
            "2026-11-01T00:00:00Z",
            Some("2026-11-01T01:00:00Z"),
        ),
        run_of(
            "presubmit",
            "unit",
            "new-pr",
            "2026-11-22T00:00:00Z",
            Some("2026-11-22T01:00:00Z"),
        ),
        run_of(
            "presubmit",
            "unit",
            "old-running",
            "2026-11-01T00:00:00Z",
            None,
        ),
        run_of(
            "periodic",
            "nightly",
            "nightly-1",
            "2026-11-01T00:00:00Z",
            Some("2026-11-01T01:00:00Z"),
        ),
        run_of(
            "periodic",
            "nightly",
            "nightly-2",
            "2026-11-02T00:00:00Z",
            Some("2026-11-02T01:00:00Z"),
        ),
        run_of(
            "periodic",
            "removed",
            "removed-1",
            "2026-11-02T00:00:00Z",
            Some("2026-11-02T01:00:00Z"),
        ),
    ];
    let active = BTreeSet::from(["nightly"]);
    let deleted: Vec<&str> =
        prowjobs_to_delete(&jobs, &active, &policy(), at("2026-11-23T00:00:00Z"))
            .into_iter()
            .map(|j| j.metadata.name.as_deref().unwrap_or_default())
            .collect();
    // nightly-2 is the newest run of a configured periodic; removed-1's periodic is gone.
    assert_eq!(deleted, ["old-pr", "nightly-1", "removed-1"]);
}

#[test]
fn pod_table() {
    let jobs = [
        run_of(
            "presubmit",
            "unit",
            "done",
            "2026-11-23T00:00:00Z",
            Some("2026-11-23T01:00:00Z"),
        ),
        run_of("presubmit", "unit", "running", "2026-11-22T00:00:00Z", None),
    ];
    let by_name: BTreeMap<&str, &prow_core::ProwJob> = jobs
        .iter()
        .map(|j| (j.metadata.name.as_deref().unwrap_or_default(), j))
        .collect();
    let pod = |job: &str, created: &str| PodInfo {
        name: format!("{job}-pod"),
        prowjob: job.to_owned(),
        created: at(created),
        started: Some(at(created)),
    };
    for (pod, now, expected) in [
        // Finished 1h ago: within the 2h TTL.
        (
            pod("done", "2026-11-23T00:00:00Z"),
            "2026-11-23T02:00:00Z",
            None,
        ),
        (
            pod("done", "2026-11-23T00:00:00Z"),
            "2026-11-23T03:00:01Z",
            Some(PodReason::Ttled),
        ),
        // Running for 30h: past max_pod_age, but its job has not finished.
        (
            pod("running", "2026-11-22T00:00:00Z"),
            "2026-11-23T06:00:00Z",
            None,
        ),
        // No ProwJob: orphaned once older than 30 s.
        (
            pod("gone", "2026-11-23T00:00:00Z"),
            "2026-11-23T00:00:20Z",
            None,
        ),
        (
            pod("gone", "2026-11-23T00:00:00Z"),
            "2026-11-23T00:00:31Z",
            Some(PodReason::Orphaned),
        ),
    ] {
        assert_eq!(
            pod_verdict(&pod, &by_name, &policy(), at(now)),
            expected,
            "{} at {now}",
            pod.name
        );
    }
    let aged = PodInfo {
        started: Some(at("2026-11-22T12:00:00Z")),
        ..pod("done", "2026-11-22T12:00:00Z")
    };
    assert_eq!(
        pod_verdict(&aged, &by_name, &policy(), at("2026-11-23T01:30:00Z")),
        Some(PodReason::Aged)
    );
    assert_eq!(PodReason::Ttled.as_str(), "ttled");
}

#[test]
fn policy_defaults_follow_prow() {
    let defaults = Policy::of(&prow_config::prow::Sinker::default());
    assert_eq!(
        defaults,
        Policy {
            max_prowjob_age: 168 * HOUR,
            max_pod_age: 24 * HOUR,
            terminated_pod_ttl: 24 * HOUR
        }
    );
}

// The pass and the loop, over a real store and a fake build cluster.

mod clean {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;
    use prow_config::Periodic;
    use prow_core::ProwJob;
    use prow_core::k8s_openapi::jiff::Timestamp;
    use prow_jobs::clock::{Clock, TokioClock};
    use prow_jobs::config::ConfigHandle;
    use prow_jobs::controller::{ControllerMetrics, drive};
    use prow_jobs::runner::{PodPhase, PodStatus, Runner, RunnerError};
    use prow_jobs::sinker::{
        CleanReport, Cluster, JobReason, PodReason, Settings, Sinker, sync_once,
    };
    use prow_jobs::store::{JobStore, ListParams, SqliteStore, StoreError, WatchEvent};
    use tokio::sync::{broadcast, mpsc, oneshot};

    use crate::support::run_of;

    const NOW: &str = "2026-11-23T12:00:00Z";

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    /// A build cluster in memory: pods by name.
    #[derive(Default)]
    struct FakeRunner {
        pods: Mutex<BTreeMap<String, PodStatus>>,
    }

    impl FakeRunner {
        fn add(&self, name: &str, prowjob: &str, created: Timestamp) {
            let mut pod = PodStatus::new(name, prowjob, "", PodPhase::Succeeded, created);
            pod.started = Some(created);
            self.pods.lock().unwrap().insert(name.to_owned(), pod);
        }

        fn names(&self) -> Vec<String> {
            self.pods.lock().unwrap().keys().cloned().collect()
        }
    }

    #[async_trait]
    impl Runner for FakeRunner {
        async fn create(&self, job: &ProwJob) -> Result<PodStatus, RunnerError> {
            Err(RunnerError::Unprocessable(format!(
                "sinker never creates pods (asked for {:?})",
                job.metadata.name
            )))
        }

        async fn get(&self, name: &str) -> Result<Option<PodStatus>, RunnerError> {
            Ok(self.pods.lock().unwrap().get(name).cloned())
        }

        async fn delete(&self, name: &str) -> Result<(), RunnerError> {
            self.pods.lock().unwrap().remove(name);
            Ok(())
        }

        async fn list(&self) -> Result<Vec<PodStatus>, RunnerError> {
            Ok(self.pods.lock().unwrap().values().cloned().collect())
        }
    }

    fn settings(yaml: &str) -> Settings {
        let section: prow_config::prow::Sinker = serde_yaml::from_str(yaml).expect("sinker");
        Settings::of(&section)
    }

    fn nightly() -> Vec<Periodic> {
        let config: prow_config::JobConfig =
            serde_yaml::from_str("periodics:\n- name: nightly\n  cron: '0 0 * * *'\n")
                .expect("periodics");
        config.periodics
    }

    async fn names(store: &dyn JobStore) -> Vec<String> {
        store
            .list(&ListParams::default())
            .await
            .expect("list")
            .into_iter()
            .filter_map(|j| j.metadata.name)
            .collect()
    }

    fn done(job_type: &str, job: &str, name: &str, day: u32) -> ProwJob {
        let start = format!("2026-11-{day:02}T00:00:00Z");
        let end = format!("2026-11-{day:02}T01:00:00Z");
        run_of(job_type, job, name, &start, Some(&end))
    }

    #[tokio::test(start_paused = true)]
    async fn old_jobs_go_the_newest_periodic_run_stays_and_pods_follow_their_jobs() {
        let store = SqliteStore::in_memory().expect("store");
        for job in [
            done("presubmit", "unit", "old-pr", 10),
            done("presubmit", "unit", "new-pr", 22),
            run_of(
                "presubmit",
                "unit",
                "old-running",
                "2026-11-10T00:00:00Z",
                None,
            ),
            done("periodic", "nightly", "nightly-1", 10),
            done("periodic", "nightly", "nightly-2", 11),
        ] {
            store.create(job).await.expect("create");
        }
        let clock = TokioClock::starting_at(at(NOW));
        let now = clock.now();
        let ago = |secs: i64| {
            now.checked_sub(prow_core::k8s_openapi::jiff::SignedDuration::from_secs(
                secs,
            ))
            .expect("time")
        };
        let cluster = FakeRunner::default();
        cluster.add("old-pr", "old-pr", at("2026-11-10T00:00:00Z"));
        cluster.add("new-pr", "new-pr", at("2026-11-22T00:00:00Z"));
        cluster.add("old-running", "old-running", at("2026-11-10T00:00:00Z"));
        cluster.add("just-made", "not-in-store-yet", ago(20));
        cluster.add("orphan", "long-gone", ago(31));
        let other = FakeRunner::default();
        other.add("elsewhere", "long-gone", ago(3600));
        let clusters = [
            Cluster::new("default", &cluster),
            Cluster::new("excluded", &other),
        ];
        let settings = settings("max_prowjob_age: 48h\nexclude_clusters: [excluded]\n");

        let report = sync_once(&store, &clusters, &nightly(), &settings, &clock)
            .await
            .expect("pass");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // nightly-2 is the newest run of a configured periodic; old-running has not finished.
        assert_eq!(names(&store).await, ["new-pr", "nightly-2", "old-running"]);
        assert_eq!(
            report.prowjobs_cleaned,
            BTreeMap::from([(JobReason::Aged, 1), (JobReason::AgedPeriodic, 1)])
        );
        assert_eq!(report.prowjobs_existing, 5);
        // old-pr's pod lost its job in this very pass; new-pr's pod started 36 h ago, past the
        // default 24 h max_pod_age; old-running's job still runs; the 20 s old pod without a
        // job and the excluded cluster's pods stay.
        assert_eq!(cluster.names(), ["just-made", "old-running"]);
        assert_eq!(other.names(), ["elsewhere"]);
        assert_eq!(
            report.pods_removed,
            BTreeMap::from([(PodReason::Aged, 1), (PodReason::Orphaned, 2)])
        );
        assert_eq!(report.pods_existing, 5);
    }

    #[tokio::test(start_paused = true)]
    async fn an_orphaned_pod_goes_once_it_is_30_seconds_old() {
        let store = SqliteStore::in_memory().expect("store");
        let clock = TokioClock::starting_at(at(NOW));
        let cluster = FakeRunner::default();
        cluster.add("ghost", "ghost", clock.now());
        let clusters = [Cluster::new("default", &cluster)];
        let settings = settings("{}");
        let pass = || async {
            sync_once(&store, &clusters, &[], &settings, &clock)
                .await
                .expect("pass")
        };
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(pass().await.pods_removed.is_empty());
        assert_eq!(cluster.names(), ["ghost"]);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            pass().await.pods_removed,
            BTreeMap::from([(PodReason::Orphaned, 1)])
        );
        assert!(cluster.names().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_pod_whose_job_appears_after_the_listing_is_not_an_orphan() {
        // The store lists no jobs, then the job shows up before sinker looks it up.
        let store = LateJob {
            inner: SqliteStore::in_memory().expect("store"),
            late: Mutex::new(Some(done("presubmit", "unit", "late", 23))),
        };
        let clock = TokioClock::starting_at(at(NOW));
        let cluster = FakeRunner::default();
        cluster.add("late", "late", at("2026-11-23T00:00:00Z"));
        let clusters = [Cluster::new("default", &cluster)];
        let report = sync_once(&store, &clusters, &[], &settings("{}"), &clock)
            .await
            .expect("pass");
        assert!(report.pods_removed.is_empty(), "{:?}", report.pods_removed);
        assert_eq!(cluster.names(), ["late"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_changed_between_listing_and_deletion_is_kept() {
        let store = Meddling {
            inner: SqliteStore::in_memory().expect("store"),
        };
        store
            .create(done("presubmit", "unit", "old-pr", 10))
            .await
            .expect("create");
        let clock = TokioClock::starting_at(at(NOW));
        let report = sync_once(&store, &[], &[], &settings("{}"), &clock)
            .await
            .expect("pass");
        assert_eq!(names(&store).await, ["old-pr"]);
        assert!(report.prowjobs_cleaned.is_empty());
        assert_eq!(
            report.prowjob_cleaning_errors,
            BTreeMap::from([("Conflict", 1)])
        );
        let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors, ["delete prowjob old-pr"]);
        assert!(matches!(
            std::error::Error::source(&report.errors[0])
                .and_then(|s| s.downcast_ref::<StoreError>()),
            Some(StoreError::Conflict { .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_cleans_every_resync_period() {
        let store = Arc::new(SqliteStore::in_memory().expect("store"));
        let mut watch = store.watch();
        store
            .create(done("presubmit", "unit", "week-old", 16))
            .await
            .expect("create");
        // Started 2026-11-16T00:00, so older than the 7-day default from 2026-11-23T00:00.
        let clock = TokioClock::starting_at(at("2026-11-22T23:30:00Z"));
        let (stop, stopped) = oneshot::channel::<()>();
        let (reports, mut passes) = mpsc::unbounded_channel::<CleanReport>();
        let task = tokio::spawn({
            let store: Arc<dyn JobStore> = store.clone();
            let clock: Arc<dyn Clock> = Arc::new(clock);
            async move {
                let cluster: Arc<dyn Runner> = Arc::new(FakeRunner::default());
                let sinker = Sinker::new(store, vec![("default".to_owned(), cluster)], clock)
                    .with_reports(reports);
                let section: prow_config::prow::Sinker =
                    serde_yaml::from_str("resync_period: 20m\n").expect("sinker");
                let config = ConfigHandle::fixed(crate::support::snapshot_with(|c| {
                    c.prow.sinker = section;
                }));
                let shutdown = async {
                    let _ = stopped.await;
                };
                drive(&sinker, config, shutdown, &ControllerMetrics::default()).await;
            }
        });
        let mut deleted_at = None;
        let mut times = Vec::new();
        while deleted_at.is_none() {
            let report = passes.recv().await.expect("loop runs");
            let now = clock.now();
            times.push(now.to_string());
            if report.prowjobs_cleaned.get(&JobReason::Aged) == Some(&1) {
                deleted_at = Some(now);
            }
        }
        let _ = stop.send(());
        task.await.expect("loop ends");
        assert_eq!(
            times,
            [
                "2026-11-22T23:30:00Z",
                "2026-11-22T23:50:00Z",
                "2026-11-23T00:10:00Z"
            ]
        );
        let deletions: Vec<String> = std::iter::from_fn(|| watch.try_recv().ok())
            .filter_map(|e| match e {
                WatchEvent::Deleted(job) => job.metadata.name,
                _ => None,
            })
            .collect();
        assert_eq!(deletions, ["week-old"]);
    }

    /// A store where someone updates each job just before sinker's delete reaches it.
    struct Meddling {
        inner: SqliteStore,
    }

    /// A store whose listing misses one job that exists by the time it is read.
    struct LateJob {
        inner: SqliteStore,
        late: Mutex<Option<ProwJob>>,
    }

    #[async_trait]
    impl JobStore for Meddling {
        fn namespace(&self) -> &str {
            self.inner.namespace()
        }
        async fn create(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
            self.inner.create(job).await
        }
        async fn get(&self, name: &str) -> Result<Option<ProwJob>, StoreError> {
            self.inner.get(name).await
        }
        async fn list(&self, params: &ListParams) -> Result<Vec<ProwJob>, StoreError> {
            self.inner.list(params).await
        }
        async fn update(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
            self.inner.update(job).await
        }
        async fn delete(
            &self,
            name: &str,
            resource_version: Option<&str>,
        ) -> Result<ProwJob, StoreError> {
            if let Some(mut job) = self.inner.get(name).await? {
                job.metadata
                    .labels
                    .get_or_insert_default()
                    .insert("touched".to_owned(), "yes".to_owned());
                self.inner.update(job).await?;
            }
            self.inner.delete(name, resource_version).await
        }
        fn watch(&self) -> broadcast::Receiver<WatchEvent> {
            self.inner.watch()
        }
        async fn ready(&self) -> Result<(), StoreError> {
            self.inner.ready().await
        }
    }

    #[async_trait]
    impl JobStore for LateJob {
        fn namespace(&self) -> &str {
            self.inner.namespace()
        }
        async fn create(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
            self.inner.create(job).await
        }
        async fn get(&self, name: &str) -> Result<Option<ProwJob>, StoreError> {
            self.inner.get(name).await
        }
        async fn list(&self, params: &ListParams) -> Result<Vec<ProwJob>, StoreError> {
            let listed = self.inner.list(params).await?;
            let late = self.late.lock().unwrap().take();
            if let Some(job) = late {
                self.inner.create(job).await?;
            }
            Ok(listed)
        }
        async fn update(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
            self.inner.update(job).await
        }
        async fn delete(
            &self,
            name: &str,
            resource_version: Option<&str>,
        ) -> Result<ProwJob, StoreError> {
            self.inner.delete(name, resource_version).await
        }
        fn watch(&self) -> broadcast::Receiver<WatchEvent> {
            self.inner.watch()
        }
        async fn ready(&self) -> Result<(), StoreError> {
            self.inner.ready().await
        }
    }
}
