//! horologium's decision table: interval, minimum_interval, cron and descriptors, first runs,
//! unfinished runs, and no second start after a restart.

use prow_config::{JobConfig, Periodic};
use prow_core::ProwJob;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::labels::RE_RUN;
use prow_jobs::horologium::{Retry, Schedule, Verdict, decide, retry_attempt};

fn periodic(yaml: &str) -> Periodic {
    let config: JobConfig = serde_yaml::from_str(&format!(
        "periodics:\n- name: p\n  {}",
        yaml.replace('\n', "\n  ")
    ))
    .expect("periodic parses");
    config.periodics[0].clone()
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

/// A run of periodic `p` that started at `start` and, when given, completed at `end`.
fn run(start: &str, end: Option<&str>) -> ProwJob {
    crate::support::run_of("periodic", "p", "x", start, end)
}

#[test]
fn decision_table() {
    use Verdict::*;
    let seen = "2026-11-23T10:30:00Z";
    let done = |s, e| Some(run(s, Some(e)));
    let cases: Vec<(&str, Option<ProwJob>, &str, Verdict)> = vec![
        // interval: the first run starts at once; then interval after the last start.
        ("interval: 1h", None, "2026-11-23T10:30:00Z", FirstRun),
        (
            "interval: 1h",
            Some(run("2026-11-23T10:00:00Z", None)),
            "2026-11-23T12:00:00Z",
            StillRunning,
        ),
        (
            "interval: 1h",
            done("2026-11-23T10:00:00Z", "2026-11-23T10:50:00Z"),
            "2026-11-23T10:59:00Z",
            NotDue,
        ),
        (
            "interval: 1h",
            done("2026-11-23T10:00:00Z", "2026-11-23T10:50:00Z"),
            "2026-11-23T11:00:01Z",
            IntervalElapsed,
        ),
        // minimum_interval counts from the completion.
        (
            "minimum_interval: 1h",
            None,
            "2026-11-23T10:30:00Z",
            FirstRun,
        ),
        (
            "minimum_interval: 1h",
            done("2026-11-23T10:00:00Z", "2026-11-23T10:50:00Z"),
            "2026-11-23T11:30:00Z",
            NotDue,
        ),
        (
            "minimum_interval: 1h",
            done("2026-11-23T10:00:00Z", "2026-11-23T10:50:00Z"),
            "2026-11-23T11:50:01Z",
            IntervalElapsed,
        ),
        // cron: the next tick after the last start (or after first seen), in UTC.
        ("cron: '0 * * * *'", None, "2026-11-23T10:45:00Z", NotDue),
        ("cron: '0 * * * *'", None, "2026-11-23T11:00:00Z", CronTick),
        (
            "cron: '0 * * * *'",
            done("2026-11-23T10:00:05Z", "2026-11-23T10:20:00Z"),
            "2026-11-23T10:59:59Z",
            NotDue,
        ),
        (
            "cron: '0 * * * *'",
            done("2026-11-23T10:00:05Z", "2026-11-23T10:20:00Z"),
            "2026-11-23T11:00:00Z",
            CronTick,
        ),
        (
            "cron: '0 * * * *'",
            Some(run("2026-11-23T10:00:05Z", None)),
            "2026-11-23T11:00:00Z",
            StillRunning,
        ),
        // A tick that came while the run went on is dropped: the next one starts it.
        (
            "cron: '0 * * * *'",
            done("2026-11-23T10:00:05Z", "2026-11-23T11:20:00Z"),
            "2026-11-23T11:30:00Z",
            NotDue,
        ),
        (
            "cron: '0 * * * *'",
            done("2026-11-23T10:00:05Z", "2026-11-23T11:20:00Z"),
            "2026-11-23T12:00:00Z",
            CronTick,
        ),
        // A tick missed while horologium was down still fires once it is back.
        (
            "cron: '0 * * * *'",
            done("2026-11-23T07:00:05Z", "2026-11-23T07:20:00Z"),
            "2026-11-23T10:40:00Z",
            CronTick,
        ),
        // robfig/cron drops empty list items: hours 10 and 13, a tick at 13:00.
        (
            "cron: '0 10,,13, * * *'",
            done("2026-11-23T10:00:05Z", "2026-11-23T10:20:00Z"),
            "2026-11-23T12:59:00Z",
            NotDue,
        ),
        (
            "cron: '0 10,,13, * * *'",
            done("2026-11-23T10:00:05Z", "2026-11-23T10:20:00Z"),
            "2026-11-23T13:00:00Z",
            CronTick,
        ),
        // Descriptors.
        (
            "cron: '@hourly'",
            done("2026-11-23T10:00:05Z", "2026-11-23T10:20:00Z"),
            "2026-11-23T11:00:00Z",
            CronTick,
        ),
        (
            "cron: '@daily'",
            done("2026-11-23T00:00:05Z", "2026-11-23T00:20:00Z"),
            "2026-11-23T23:59:00Z",
            NotDue,
        ),
        (
            "cron: '@daily'",
            done("2026-11-23T00:00:05Z", "2026-11-23T00:20:00Z"),
            "2026-11-24T00:00:00Z",
            CronTick,
        ),
        ("cron: '@every 2h'", None, "2026-11-23T10:30:00Z", FirstRun),
        (
            "cron: '@every 2h'",
            done("2026-11-23T09:00:00Z", "2026-11-23T09:10:00Z"),
            "2026-11-23T10:30:00Z",
            NotDue,
        ),
    ];
    for (yaml, latest, now, expected) in cases {
        let schedule = Schedule::of(&periodic(yaml)).expect("schedule");
        let got = decide(&schedule, latest.as_ref(), at(seen), at(now));
        assert_eq!(
            got,
            expected,
            "{yaml} at {now} with {:?}",
            latest.as_ref().and_then(|j| j.status.as_ref())
        );
        assert_eq!(
            got.fires(),
            matches!(expected, FirstRun | IntervalElapsed | CronTick)
        );
    }
}

#[test]
fn a_restart_right_after_a_tick_does_not_start_a_second_run() {
    let schedule = Schedule::of(&periodic("cron: '0 * * * *'")).expect("schedule");
    // The 11:00 tick started a run at 11:00:02 that finished at 11:10; horologium restarts
    // at 11:30 and first sees the periodic then.
    let latest = run("2026-11-23T11:00:02Z", Some("2026-11-23T11:10:00Z"));
    let restarted = at("2026-11-23T11:30:00Z");
    assert_eq!(
        decide(&schedule, Some(&latest), restarted, restarted),
        Verdict::NotDue
    );
    assert_eq!(
        decide(
            &schedule,
            Some(&latest),
            restarted,
            at("2026-11-23T12:00:00Z")
        ),
        Verdict::CronTick
    );
}

#[test]
fn schedules_without_a_valid_rule_say_why() {
    for (yaml, expected) in [
        (
            "tags: [x]",
            "at least one of cron, interval, or minimum_interval must be set in periodic p",
        ),
        (
            "interval: soon",
            "cannot parse duration \"soon\" of periodic p",
        ),
    ] {
        assert_eq!(
            Schedule::of(&periodic(yaml)).expect_err("no schedule"),
            expected
        );
    }
    let err = Schedule::of(&periodic("cron: '61 * * * *'")).expect_err("bad cron");
    assert!(
        err.starts_with("invalid cron string 61 * * * * in periodic p"),
        "{err}"
    );
}

/// A run of `p` from 10:00 in `state`, finished at 10:05 unless `pending`, with `re_run`.
fn attempt(state: &str, re_run: Option<&str>) -> ProwJob {
    let end = (state != "pending").then_some("2026-11-23T10:05:00Z");
    let mut job = run("2026-11-23T10:00:00Z", end);
    if let Some(status) = job.status.as_mut() {
        status.state = serde_json::from_value(state.into()).expect("state");
    }
    if let Some(n) = re_run {
        job.metadata.labels = Some([(RE_RUN.to_owned(), n.to_owned())].into());
    }
    job
}

#[test]
fn retry_table() {
    let retry = |yaml: &str| {
        Retry::of(&periodic(&format!("interval: 24h\nretry: {yaml}")))
            .expect("retry parses")
            .expect("retry is set")
    };
    let cases: Vec<(&str, ProwJob, &str, Option<u32>)> = vec![
        // The first re-run, once the interval has passed since the failed run started.
        (
            "{attempts: 2, interval: 10m}",
            attempt("failure", None),
            "10:10:00",
            None,
        ),
        (
            "{attempts: 2, interval: 10m}",
            attempt("failure", None),
            "10:10:01",
            Some(1),
        ),
        (
            "{attempts: 2, interval: 10m}",
            attempt("error", Some("1")),
            "10:11:00",
            Some(2),
        ),
        (
            "{attempts: 2, interval: 10m}",
            attempt("aborted", Some("2")),
            "11:00:00",
            None,
        ),
        // A label that is not a number stops the retries.
        (
            "{attempts: 2, interval: 10m}",
            attempt("failure", Some("x")),
            "11:00:00",
            None,
        ),
        // Success ends the retries, unless run_all.
        (
            "{attempts: 2, interval: 10m}",
            attempt("success", None),
            "11:00:00",
            None,
        ),
        (
            "{attempts: 2, interval: 10m, run_all: true}",
            attempt("success", None),
            "11:00:00",
            Some(1),
        ),
        // run_all does not wait for the run to end; otherwise a running run is left alone.
        (
            "{attempts: 2, interval: 10m}",
            attempt("pending", None),
            "11:00:00",
            None,
        ),
        (
            "{attempts: 2, interval: 10m, run_all: true}",
            attempt("pending", Some("1")),
            "11:00:00",
            Some(2),
        ),
        // At most ten re-runs, whatever attempts says.
        (
            "{attempts: 50, interval: 1m}",
            attempt("failure", Some("9")),
            "11:00:00",
            Some(10),
        ),
        (
            "{attempts: 50, interval: 1m}",
            attempt("failure", Some("10")),
            "11:00:00",
            None,
        ),
        // No attempts, no retries.
        ("{interval: 1m}", attempt("failure", None), "11:00:00", None),
    ];
    for (yaml, latest, now, expected) in cases {
        let now = at(&format!("2026-11-23T{now}Z"));
        let labels = latest.metadata.labels.clone();
        assert_eq!(
            retry_attempt(&retry(yaml), &latest, now),
            expected,
            "{yaml} at {now} with {:?} and {labels:?}",
            latest.status.as_ref().map(|s| s.state)
        );
    }
}

#[test]
fn retry_blocks_say_what_is_wrong() {
    assert_eq!(Retry::of(&periodic("interval: 1h")), Ok(None));
    for (yaml, expected) in [
        (
            "retry: {attempts: 2}",
            "cannot parse Retry duration for p: time: invalid duration \"\"",
        ),
        (
            "retry: {attempts: many, interval: 1m}",
            "retry.attempts of periodic p is not an integer",
        ),
    ] {
        assert_eq!(
            Retry::of(&periodic(&format!("interval: 1h\n{yaml}"))),
            Err(expected.to_owned())
        );
    }
}

// The loop, over a real store under tokio's paused clock.

mod sync {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    use std::time::Duration;

    use prow_config::{JobConfig, Periodic};
    use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use prow_core::k8s_openapi::jiff::Timestamp;
    use prow_core::labels::{PROW_JOB_NAME, PROW_JOB_TYPE, RE_RUN};
    use prow_core::{ProwJob, ProwJobState};
    use prow_jobs::clock::{Clock, TokioClock};
    use prow_jobs::config::ConfigHandle;
    use prow_jobs::controller::{ControllerMetrics, drive};
    use prow_jobs::horologium::{FirstSeen, Horologium, SyncReport, Trigger, Verdict, sync_once};
    use prow_jobs::store::{JobStore, ListParams, SqliteStore, WatchEvent};
    use tokio::sync::{broadcast, mpsc, oneshot};
    use tokio::task::JoinHandle;

    const START: &str = "2026-11-23T10:30:00Z";
    const MINUTE: Duration = Duration::from_secs(60);

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn periodics(yaml: &str) -> Vec<Periodic> {
        let config: JobConfig = serde_yaml::from_str(yaml).expect("periodics parse");
        config.periodics
    }

    fn hourly() -> Vec<Periodic> {
        periodics(
            "periodics:
- name: interval-hourly
  interval: 1h
  labels: {team: infra}
  spec: {containers: [{image: alpine}]}
- name: cron-hourly
  cron: '0 * * * *'
  spec: {containers: [{image: alpine}]}
",
        )
    }

    /// Plays plank: every job not finished yet ends now in `state`.
    async fn finish_all(store: &dyn JobStore, clock: &dyn Clock, state: ProwJobState) {
        for mut job in store.list(&ListParams::default()).await.expect("list") {
            let status = job.status.get_or_insert_default();
            if status.completion_time.is_none() {
                status.completion_time = Some(Time(clock.now()));
                status.state = state;
                store.update(job).await.expect("update");
            }
        }
    }

    /// The jobs created since the last call, as the store's watch reported them.
    fn added(watch: &mut broadcast::Receiver<WatchEvent>) -> Vec<ProwJob> {
        let mut jobs = Vec::new();
        while let Ok(event) = watch.try_recv() {
            if let WatchEvent::Added(job) = event {
                jobs.push(*job);
            }
        }
        jobs
    }

    struct Loop {
        stop: oneshot::Sender<()>,
        passes: mpsc::UnboundedReceiver<SyncReport>,
        task: JoinHandle<()>,
    }

    impl Loop {
        fn start(store: Arc<SqliteStore>, clock: TokioClock, periodics: Vec<Periodic>) -> Self {
            let (stop, stopped) = oneshot::channel::<()>();
            let (sender, passes) = mpsc::unbounded_channel();
            let task = tokio::spawn(async move {
                let store: Arc<dyn JobStore> = store;
                let horologium = Horologium::new(store, Arc::new(clock)).with_reports(sender);
                let config = ConfigHandle::fixed(crate::support::snapshot_with(|c| {
                    c.jobs.periodics = periodics
                }));
                let shutdown = async {
                    let _ = stopped.await;
                };
                drive(&horologium, config, shutdown, &ControllerMetrics::default()).await;
            });
            Loop { stop, passes, task }
        }

        async fn next_pass(&mut self) -> SyncReport {
            let pass = self.passes.recv().await.expect("the loop is running");
            assert!(pass.errors.is_empty(), "{:?}", pass.errors);
            pass
        }

        async fn stop(self) {
            let _ = self.stop.send(());
            self.task.await.expect("the loop ends cleanly");
        }
    }

    /// Runs passes until the one at `until`, finishing every run as soon as it is created;
    /// returns each creation as (periodic, time) and checks the watch saw the same ones.
    async fn passes_until(
        lp: &mut Loop,
        store: &dyn JobStore,
        watch: &mut broadcast::Receiver<WatchEvent>,
        clock: &dyn Clock,
        until: &str,
    ) -> Vec<(String, String)> {
        let mut created = Vec::new();
        loop {
            let pass = lp.next_pass().await;
            let now = pass.now;
            let seen: Vec<String> = added(watch).iter().map(|j| j.spec.job.clone()).collect();
            let reported: Vec<String> = pass.created.iter().map(|c| c.periodic.clone()).collect();
            assert_eq!(seen, reported, "watch and report disagree at {now}");
            created.extend(seen.into_iter().map(|p| (p, now.to_string())));
            finish_all(store, clock, ProwJobState::Success).await;
            if now >= at(until) {
                return created;
            }
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_periodic_fires_on_schedule_and_not_twice_after_a_restart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("prow.db");
        let clock = TokioClock::starting_at(at(START));
        let store = Arc::new(SqliteStore::open(&path).await.expect("open store"));
        let mut watch = store.watch();
        let mut first = Loop::start(store.clone(), clock, hourly());

        // The interval periodic starts at once; the cron one waits for its tick.
        let pass = first.next_pass().await;
        assert_eq!(pass.now, at(START));
        let created = added(&mut watch);
        assert_eq!(created.len(), 1, "{created:?}");
        let job = &created[0];
        assert_eq!(job.spec.job, "interval-hourly");
        assert_eq!(
            pass.created[0].trigger,
            Trigger::Scheduled(Verdict::FirstRun)
        );
        assert_eq!(pass.created[0].prowjob, job.metadata.name.clone().unwrap());
        let labels = job.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels[PROW_JOB_NAME], "interval-hourly");
        assert_eq!(labels[PROW_JOB_TYPE], "periodic");
        assert_eq!(labels["team"], "infra");
        let status = job.status.clone().unwrap_or_default();
        assert_eq!(status.state, ProwJobState::Triggered);
        assert_eq!(status.start_time.map(|t| t.0), Some(at(START)));
        finish_all(&*store, &clock, ProwJobState::Success).await;

        // Minute by minute up to the 11:00 tick: only the cron periodic fires, at its tick.
        let created = passes_until(
            &mut first,
            &*store,
            &mut watch,
            &clock,
            "2026-11-23T11:00:00Z",
        )
        .await;
        assert_eq!(created, pairs(&[("cron-hourly", "2026-11-23T11:00:00Z")]));

        // Restart: a new loop (nothing kept in memory) on a new handle of the same file, in
        // the same minute. It sees both runs in the store and starts nothing.
        first.stop().await;
        drop(store);
        let store = Arc::new(SqliteStore::open(&path).await.expect("reopen store"));
        let mut watch = store.watch();
        let mut second = Loop::start(store.clone(), clock, hourly());
        let pass = second.next_pass().await;
        assert_eq!(pass.now, at("2026-11-23T11:00:00Z"));
        assert!(pass.created.is_empty(), "{:?}", pass.created);
        assert!(added(&mut watch).is_empty());

        // Then each periodic fires once more, on its own schedule.
        let created = passes_until(
            &mut second,
            &*store,
            &mut watch,
            &clock,
            "2026-11-23T12:00:00Z",
        )
        .await;
        assert_eq!(
            created,
            pairs(&[
                ("interval-hourly", "2026-11-23T11:31:00Z"),
                ("cron-hourly", "2026-11-23T12:00:00Z"),
            ])
        );
        second.stop().await;

        let names: BTreeSet<String> = store
            .list(&ListParams::default())
            .await
            .expect("list")
            .into_iter()
            .filter_map(|j| j.metadata.name)
            .collect();
        assert_eq!(names.len(), 4, "every run has its own name: {names:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_run_horologium_creates_is_prows_periodic_prowjob() {
        let store = SqliteStore::in_memory().expect("store");
        let clock = TokioClock::starting_at(at(START));
        let periodics = periodics(
            "periodics:
- name: ci-nightly-build
  interval: 24h
  cluster: build01
  labels: {team: infra}
  annotations: {testgrid-dashboards: sig-testing}
  extra_refs:
  - {org: kubernetes, repo: test-infra, base_ref: master}
  spec:
    containers: [{image: 'gcr.io/k8s/builder:v1', command: [make]}]
",
        );
        let mut watch = store.watch();
        pass(&store, &periodics, &mut FirstSeen::new(), &clock).await;
        let created = added(&mut watch);
        assert_eq!(created.len(), 1);
        let name = created[0].metadata.name.clone().unwrap_or_default();
        assert!(
            uuid::Uuid::parse_str(&name).is_ok(),
            "{name} is a UUID, as pjutil names jobs"
        );
        insta::assert_yaml_snapshot!(created[0], {
            ".metadata.name" => "[uuid]",
            ".metadata.uid" => "[uid]",
            ".metadata.creationTimestamp" => "[created]",
        });
    }

    /// One pass at the clock's time; the periodics each started run, in order.
    async fn pass(
        store: &dyn JobStore,
        periodics: &[Periodic],
        first_seen: &mut FirstSeen,
        clock: &dyn Clock,
    ) -> Vec<(String, Trigger)> {
        let report = sync_once(store, periodics, first_seen, clock)
            .await
            .expect("pass");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        report
            .created
            .into_iter()
            .map(|c| (c.periodic, c.trigger))
            .collect()
    }

    fn started(periodic: &str, verdict: Verdict) -> Vec<(String, Trigger)> {
        vec![(periodic.to_owned(), Trigger::Scheduled(verdict))]
    }

    #[tokio::test(start_paused = true)]
    async fn minimum_interval_waits_for_the_run_to_finish() {
        let store = SqliteStore::in_memory().expect("store");
        let clock = TokioClock::starting_at(at(START));
        let periodics = periodics("periodics:\n- name: gap\n  minimum_interval: 10m\n");
        let mut seen = FirstSeen::new();
        assert_eq!(
            pass(&store, &periodics, &mut seen, &clock).await,
            started("gap", Verdict::FirstRun)
        );
        tokio::time::advance(30 * MINUTE).await;
        assert_eq!(pass(&store, &periodics, &mut seen, &clock).await, []);
        finish_all(&store, &clock, ProwJobState::Success).await;
        tokio::time::advance(10 * MINUTE).await;
        assert_eq!(pass(&store, &periodics, &mut seen, &clock).await, []);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            pass(&store, &periodics, &mut seen, &clock).await,
            started("gap", Verdict::IntervalElapsed)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_running_job_blocks_the_next_run() {
        let store = SqliteStore::in_memory().expect("store");
        let clock = TokioClock::starting_at(at(START));
        let periodics = periodics(
            "periodics:\n- name: hourly\n  interval: 1h\n- name: ticking\n  cron: '@hourly'\n",
        );
        let mut seen = FirstSeen::new();
        assert_eq!(
            pass(&store, &periodics, &mut seen, &clock).await,
            started("hourly", Verdict::FirstRun)
        );
        tokio::time::advance(30 * MINUTE).await;
        assert_eq!(
            pass(&store, &periodics, &mut seen, &clock).await,
            started("ticking", Verdict::CronTick)
        );
        // Three hours and three ticks later, both runs still going: nothing starts.
        tokio::time::advance(180 * MINUTE).await;
        assert_eq!(pass(&store, &periodics, &mut seen, &clock).await, []);
        // Once they end, the interval periodic starts at once; the cron one dropped the ticks
        // that came during its run and waits for the next.
        finish_all(&store, &clock, ProwJobState::Failure).await;
        tokio::time::advance(MINUTE).await;
        assert_eq!(
            pass(&store, &periodics, &mut seen, &clock).await,
            started("hourly", Verdict::IntervalElapsed)
        );
        tokio::time::advance(58 * MINUTE).await;
        assert_eq!(pass(&store, &periodics, &mut seen, &clock).await, []);
        tokio::time::advance(MINUTE).await;
        assert_eq!(clock.now(), at("2026-11-23T15:00:00Z"));
        assert_eq!(
            pass(&store, &periodics, &mut seen, &clock).await,
            started("ticking", Verdict::CronTick)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_changed_cron_string_waits_for_a_tick_of_the_new_schedule() {
        let store = SqliteStore::in_memory().expect("store");
        let clock = TokioClock::starting_at(at(START));
        let daily = periodics("periodics:\n- name: c\n  cron: '0 0 * * *'\n");
        let at_40 = periodics("periodics:\n- name: c\n  cron: '40 * * * *'\n");
        let mut seen = FirstSeen::new();
        assert_eq!(pass(&store, &daily, &mut seen, &clock).await, []);
        // Changed at 10:45: the 10:40 tick came before the new schedule existed.
        tokio::time::advance(15 * MINUTE).await;
        assert_eq!(pass(&store, &at_40, &mut seen, &clock).await, []);
        assert_eq!(seen.get("c"), Some(at("2026-11-23T10:45:00Z")));
        tokio::time::advance(54 * MINUTE).await;
        assert_eq!(pass(&store, &at_40, &mut seen, &clock).await, []);
        tokio::time::advance(MINUTE).await;
        assert_eq!(
            pass(&store, &at_40, &mut seen, &clock).await,
            started("c", Verdict::CronTick)
        );
        // A periodic dropped from the configuration is forgotten.
        assert_eq!(pass(&store, &[], &mut seen, &clock).await, []);
        assert_eq!(seen.get("c"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_broken_periodic_is_reported_by_name_and_the_others_still_start() {
        let store = SqliteStore::in_memory().expect("store");
        let clock = TokioClock::starting_at(at(START));
        let periodics = periodics(
            "periodics:
- name: bad-cron
  cron: '61 * * * *'
- name: no-schedule
- name: good
  interval: 1h
",
        );
        let report = sync_once(&store, &periodics, &mut FirstSeen::new(), &clock)
            .await
            .expect("pass");
        let created: Vec<&str> = report.created.iter().map(|c| c.periodic.as_str()).collect();
        assert_eq!(created, ["good"]);
        let errors: Vec<(Option<&str>, String)> = report
            .errors
            .iter()
            .map(|e| (e.job(), e.to_string()))
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].0, Some("bad-cron"));
        assert!(
            errors[0]
                .1
                .starts_with("invalid cron string 61 * * * * in periodic bad-cron"),
            "{}",
            errors[0].1
        );
        assert_eq!(
            errors[1],
            (
                Some("no-schedule"),
                "at least one of cron, interval, or minimum_interval must be set in periodic \
                 no-schedule"
                    .to_owned()
            )
        );
    }

    /// The `prow.k8s.io/re-run` label of every run of `periodic`, oldest first.
    async fn re_runs(store: &dyn JobStore) -> Vec<Option<String>> {
        let mut jobs = store.list(&ListParams::default()).await.expect("list");
        jobs.sort_by_key(|j| {
            j.status
                .as_ref()
                .and_then(|s| s.start_time.clone())
                .map(|t| t.0)
        });
        jobs.iter()
            .map(|j| {
                j.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(RE_RUN).cloned())
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_run_is_retried_up_to_the_attempts_then_waits_for_its_schedule() {
        let store = SqliteStore::in_memory().expect("store");
        let clock = TokioClock::starting_at(at(START));
        let periodics = periodics(
            "periodics:
- name: flaky
  interval: 24h
  retry: {attempts: 2, interval: 10m}
",
        );
        let mut seen = FirstSeen::new();
        assert_eq!(
            pass(&store, &periodics, &mut seen, &clock).await,
            started("flaky", Verdict::FirstRun)
        );
        let mut triggers = Vec::new();
        for _ in 0..6 {
            finish_all(&store, &clock, ProwJobState::Failure).await;
            tokio::time::advance(6 * MINUTE).await;
            triggers.extend(
                pass(&store, &periodics, &mut seen, &clock)
                    .await
                    .into_iter()
                    .map(|(_, t)| (clock.now().to_string(), t)),
            );
        }
        // Retries start more than 10 minutes after the failed run started, twice, no more.
        assert_eq!(
            triggers,
            [
                ("2026-11-23T10:42:00Z".to_owned(), Trigger::Retry(1)),
                ("2026-11-23T10:54:00Z".to_owned(), Trigger::Retry(2)),
            ]
        );
        assert_eq!(
            re_runs(&store).await,
            [None, Some("1".to_owned()), Some("2".to_owned())]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_successful_run_is_not_retried() {
        let store = SqliteStore::in_memory().expect("store");
        let clock = TokioClock::starting_at(at(START));
        let periodics = periodics(
            "periodics:\n- name: fine\n  interval: 24h\n  retry: {attempts: 3, interval: 1m}\n",
        );
        let mut seen = FirstSeen::new();
        pass(&store, &periodics, &mut seen, &clock).await;
        finish_all(&store, &clock, ProwJobState::Success).await;
        tokio::time::advance(30 * MINUTE).await;
        assert_eq!(pass(&store, &periodics, &mut seen, &clock).await, []);
    }
}
