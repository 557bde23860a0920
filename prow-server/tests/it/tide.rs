//! The tide controller against the in-memory fake GitHub and a SQLite job store; the tests
//! finish ProwJobs in the store the way a runner would.

use std::sync::Arc;

use prow_config::Config;
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::tide::status::{QueryRequirements, StatusInput, StatusState, expected_status};
use prow_core::tide::{Context, ContextPolicy, ContextState};
use prow_core::{ProwJob, ProwJobState, ProwJobType};
use prow_github::fake::FakeGitHub;
use prow_github::types::{PullRequest, Status};
use prow_jobs::clock::Clock;
use prow_jobs::store::{JobStore, ListParams, SqliteStore};
use prow_server::tide::Controller;
use serde_json::json;

pub(crate) const ORG: &str = "acme";
pub(crate) const REPO: &str = "widgets";

/// A clock stopped at one instant, so history times are stable.
#[derive(Debug)]
pub(crate) struct Stopped;

impl Clock for Stopped {
    fn now(&self) -> Timestamp {
        Timestamp::from_second(1_767_323_045).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// config.yaml with one tide query (label `lgtm`), two always-run presubmits (`unit`, `e2e`)
/// and `extra` appended under `tide:`.
pub(crate) fn config(extra_tide: &str) -> Arc<Config> {
    let text = format!(
        r#"
tide:
  queries:
  - repos: [{ORG}/{REPO}]
    labels: [lgtm]
    missingLabels: [do-not-merge/hold]
{extra_tide}
presubmits:
  {ORG}/{REPO}:
  - name: unit
    context: unit
    always_run: true
    spec:
      containers:
      - image: alpine
  - name: e2e
    context: e2e
    always_run: true
    spec:
      containers:
      - image: alpine
"#
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("config.yaml"), text).unwrap();
    let loaded = prow_config::load(&prow_config::LoadOptions::new(
        tmp.path().join("config.yaml"),
        None,
    ))
    .unwrap_or_else(|e| panic!("config: {e}"));
    Arc::new(loaded)
}

pub(crate) fn status(context: &str, state: &str) -> Status {
    serde_json::from_value(
        json!({"context": context, "state": state, "description": "Job succeeded."}),
    )
    .unwrap()
}

/// Adds open PR `n` (head `sha-n`, base `main`) with `labels`, and passing `unit` and `e2e`
/// statuses from an earlier run on its head.
pub(crate) fn add_pr(github: &FakeGitHub, n: u64, labels: &[&str]) {
    let labels: Vec<_> = labels.iter().map(|l| json!({"name": l})).collect();
    let pr: PullRequest = serde_json::from_value(json!({
        "id": n, "number": n, "title": format!("Change {n}"), "state": "open",
        "user": {"login": "alice"}, "labels": labels, "mergeable": true,
        "html_url": format!("https://github.com/{ORG}/{REPO}/pull/{n}"),
        "head": {"ref": format!("change-{n}"), "sha": format!("sha-{n}")},
        "base": {"ref": "main", "sha": "base-0"},
    }))
    .unwrap();
    github.add_pull_request(ORG, REPO, pr);
    let mut state = github.state();
    let statuses = state
        .statuses
        .entry((ORG.into(), REPO.into(), format!("sha-{n}")))
        .or_default();
    statuses.push(status("unit", "success"));
    statuses.push(status("e2e", "success"));
}

pub(crate) struct Setup {
    pub(crate) github: Arc<FakeGitHub>,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) tide: Arc<Controller>,
}

/// A fake GitHub with PRs `prs` (all labelled `lgtm`) and `main` at `base-0`, and a controller.
pub(crate) fn setup(prs: &[u64], extra_tide: &str) -> Setup {
    let github = Arc::new(FakeGitHub::new("tide-bot"));
    for n in prs {
        add_pr(&github, *n, &["lgtm"]);
    }
    set_base(&github, "base-0");
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let cfg = config(extra_tide);
    let tide = Arc::new(Controller::new(
        github.clone(),
        store.clone(),
        prow_jobs::config::ConfigHandle::fixed(prow_config::ConfigSnapshot::from_shared(
            cfg,
            Default::default(),
        )),
        Arc::new(Stopped),
    ));
    Setup {
        github,
        store,
        tide,
    }
}

pub(crate) fn set_base(github: &FakeGitHub, sha: &str) {
    github
        .state()
        .branches
        .insert((ORG.into(), REPO.into(), "main".into()), sha.into());
}

pub(crate) async fn jobs(store: &dyn JobStore) -> Vec<ProwJob> {
    let mut jobs = store.list(&ListParams::default()).await.unwrap();
    jobs.sort_by_key(|j| (j.spec.job.clone(), pulls(j)));
    jobs
}

pub(crate) fn pulls(job: &ProwJob) -> Vec<u64> {
    job.spec
        .refs
        .as_ref()
        .map(|r| r.pulls.iter().map(|p| p.number).collect())
        .unwrap_or_default()
}

pub(crate) fn state(job: &ProwJob) -> ProwJobState {
    job.status.as_ref().map(|s| s.state).unwrap_or_default()
}

/// Finishes every unfinished job testing exactly `prs` (and named `name`, when given) with
/// `to`; returns how many it finished.
pub(crate) async fn finish(
    store: &dyn JobStore,
    prs: &[u64],
    name: Option<&str>,
    to: ProwJobState,
) -> usize {
    let mut n = 0;
    for mut job in jobs(store).await {
        let running = matches!(state(&job), ProwJobState::Triggered | ProwJobState::Pending);
        if !running || pulls(&job) != prs || name.is_some_and(|x| x != job.spec.job) {
            continue;
        }
        let status = job.status.get_or_insert_with(Default::default);
        status.state = to;
        status.completion_time = Some(Time(Stopped.now()));
        store.update(job).await.unwrap();
        n += 1;
    }
    n
}

/// `(number, sha)` of every merge, in order.
pub(crate) fn merges(github: &FakeGitHub) -> Vec<(u64, String)> {
    github
        .state()
        .merges
        .iter()
        .map(|((_, _, n), r)| (*n, r.sha.clone().unwrap_or_default()))
        .collect()
}

pub(crate) fn comments_on(github: &FakeGitHub, n: u64) -> Vec<String> {
    github
        .state()
        .comments
        .get(&(ORG.into(), REPO.into(), n))
        .into_iter()
        .flatten()
        .filter_map(|c| c.body.clone())
        .collect()
}

#[tokio::test]
async fn passing_batch_merges_every_pr_in_order_guarded_by_head_sha() {
    let s = setup(&[1, 2, 3], "");
    s.tide.sync_once().await.unwrap();
    let started = jobs(s.store.as_ref()).await;
    assert_eq!(started.len(), 2, "one batch job per required presubmit");
    for job in &started {
        assert_eq!(job.spec.job_type, ProwJobType::Batch);
        assert_eq!(pulls(job), vec![1, 2, 3]);
        let refs = job.spec.refs.as_ref().unwrap();
        assert_eq!(refs.base_sha, "base-0");
        assert_eq!(refs.pulls[1].sha, "sha-2");
    }
    assert!(
        merges(&s.github).is_empty(),
        "nothing merges before the batch passes"
    );
    assert_eq!(s.tide.stats().batches_started, 1);

    // While the batch runs, Prow's tide also retests the first PR on its own (upstream
    // `takeAction`: no serial job pending or passed, so it triggers one).
    s.tide.sync_once().await.unwrap();
    let all = jobs(s.store.as_ref()).await;
    assert_eq!(all.len(), 4);
    let serial: Vec<&ProwJob> = all
        .iter()
        .filter(|j| j.spec.job_type == ProwJobType::Presubmit)
        .collect();
    assert_eq!(serial.len(), 2);
    assert!(serial.iter().all(|j| pulls(j) == vec![1]));
    // Both running: nothing new, nothing merged.
    s.tide.sync_once().await.unwrap();
    assert_eq!(jobs(s.store.as_ref()).await.len(), 4);
    assert!(merges(&s.github).is_empty());

    assert_eq!(
        finish(s.store.as_ref(), &[1, 2, 3], None, ProwJobState::Success).await,
        2
    );
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        merges(&s.github),
        vec![
            (1, "sha-1".into()),
            (2, "sha-2".into()),
            (3, "sha-3".into())
        ]
    );
    let stats = s.tide.stats();
    assert_eq!(stats.merges_total, 3);
    assert_eq!(stats.batches_passed, 1);
}

#[tokio::test]
async fn head_pushed_during_a_batch_merge_stops_the_batch_and_the_rest_is_retested() {
    let s = setup(&[1, 2, 3], "");
    s.tide.sync_once().await.unwrap();
    finish(s.store.as_ref(), &[1, 2, 3], None, ProwJobState::Success).await;
    // Someone pushes to #2 while tide merges #1.
    s.github.state().pushes_on_merge.push((
        (ORG.into(), REPO.into(), 1),
        (ORG.into(), REPO.into(), 2),
        "sha-2-new".into(),
    ));
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        merges(&s.github),
        vec![(1, "sha-1".into())],
        "#2 is refused with its tested SHA, and #3 was tested on top of #2: it waits too"
    );
    let stats = s.tide.stats();
    assert_eq!(stats.merges_head_changed, 1);
    let pool = &s.tide.pools().pools[0];
    assert!(pool.error.contains("#2: head moved"), "{}", pool.error);
    assert!(
        pool.error
            .contains("#3 not merged: tested on top of a PR that did not land"),
        "{}",
        pool.error
    );

    // #2 is not blamed: its new head is tested with #3 on the new base, then both merge.
    s.github
        .state()
        .statuses
        .entry((ORG.into(), REPO.into(), "sha-2-new".into()))
        .or_default()
        .extend([status("unit", "success"), status("e2e", "success")]);
    s.tide.sync_once().await.unwrap();
    let retest: Vec<ProwJob> = jobs(s.store.as_ref())
        .await
        .into_iter()
        .filter(|j| j.spec.refs.as_ref().unwrap().base_sha == "merge-1-sha-1")
        .collect();
    assert_eq!(retest.len(), 2);
    let refs = retest[0].spec.refs.as_ref().unwrap();
    assert_eq!(pulls(&retest[0]), vec![2, 3]);
    assert_eq!(refs.pulls[0].sha, "sha-2-new");
    assert!(comments_on(&s.github, 2).is_empty());
    finish(s.store.as_ref(), &[2, 3], None, ProwJobState::Success).await;
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        merges(&s.github),
        vec![
            (1, "sha-1".into()),
            (2, "sha-2-new".into()),
            (3, "sha-3".into())
        ]
    );
}

#[tokio::test]
async fn base_moving_reruns_tests_on_the_new_base_and_ignores_stale_results() {
    let s = setup(&[1, 2], "");
    s.tide.sync_once().await.unwrap();
    // main moves (someone else merged), then the batch on the old base passes.
    set_base(&s.github, "base-1");
    finish(s.store.as_ref(), &[1, 2], None, ProwJobState::Success).await;
    s.tide.sync_once().await.unwrap();
    assert!(
        merges(&s.github).is_empty(),
        "results for base-0 must not merge onto base-1"
    );
    let fresh: Vec<ProwJob> = jobs(s.store.as_ref())
        .await
        .into_iter()
        .filter(|j| j.spec.refs.as_ref().unwrap().base_sha == "base-1")
        .collect();
    assert_eq!(fresh.len(), 2, "the batch reruns on the new base");
    assert!(fresh.iter().all(|j| pulls(j) == vec![1, 2]));
    finish(s.store.as_ref(), &[1, 2], None, ProwJobState::Success).await;
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        merges(&s.github),
        vec![(1, "sha-1".into()), (2, "sha-2".into())]
    );
}

const BISECT: &str = "  merge_queue:\n    strategy: {\"*\": bisect}\n    ci_capacity: {\"*\": 2}";

#[tokio::test]
async fn failing_batch_is_bisected_and_only_the_culprit_ejected() {
    let s = setup(&[1, 2, 3, 4], BISECT);
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        finish(
            s.store.as_ref(),
            &[1, 2, 3, 4],
            Some("e2e"),
            ProwJobState::Failure
        )
        .await,
        1
    );
    finish(s.store.as_ref(), &[1, 2, 3, 4], None, ProwJobState::Success).await;

    // The failed batch splits into halves tested in parallel.
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        finish(s.store.as_ref(), &[1, 2], None, ProwJobState::Success).await,
        2
    );
    finish(
        s.store.as_ref(),
        &[3, 4],
        Some("e2e"),
        ProwJobState::Failure,
    )
    .await;
    finish(s.store.as_ref(), &[3, 4], None, ProwJobState::Success).await;

    // The passing half merges; the failing half splits again, on the new base.
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        merges(&s.github),
        vec![(1, "sha-1".into()), (2, "sha-2".into())]
    );
    let singles: Vec<ProwJob> = jobs(s.store.as_ref())
        .await
        .into_iter()
        .filter(|j| j.spec.job_type == ProwJobType::Presubmit)
        .collect();
    assert_eq!(singles.len(), 4, "#3 and #4 each run both jobs alone");
    assert!(
        singles
            .iter()
            .all(|j| j.spec.refs.as_ref().unwrap().base_sha == "merge-2-sha-2")
    );
    finish(s.store.as_ref(), &[3], Some("e2e"), ProwJobState::Failure).await;
    finish(s.store.as_ref(), &[3], None, ProwJobState::Success).await;
    finish(s.store.as_ref(), &[4], None, ProwJobState::Success).await;

    s.tide.sync_once().await.unwrap();
    assert_eq!(
        merges(&s.github),
        vec![
            (1, "sha-1".into()),
            (2, "sha-2".into()),
            (4, "sha-4".into())
        ]
    );
    let comments = comments_on(&s.github, 3);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].contains("Failing jobs: e2e."),
        "{}",
        comments[0]
    );
    let labels: Vec<String> = s.github.state().issues[&(ORG.to_owned(), REPO.to_owned(), 3)]
        .labels
        .iter()
        .map(|l| l.name.clone())
        .collect();
    assert!(
        labels.contains(&prow_config::prow::DEFAULT_EJECT_LABEL.to_owned()),
        "{labels:?}"
    );
    for n in [1, 2, 4] {
        assert!(comments_on(&s.github, n).is_empty());
    }
    let stats = s.tide.stats();
    assert_eq!(stats.ejections, 1);
    assert_eq!(stats.batches_started, 3);
    assert_eq!(stats.batches_failed, 2);
    assert_eq!(stats.batches_passed, 1);

    // #3 stays out until its author pushes.
    s.tide.sync_once().await.unwrap();
    let started = jobs(s.store.as_ref()).await.len();
    s.tide.sync_once().await.unwrap();
    assert_eq!(jobs(s.store.as_ref()).await.len(), started);

    snapshot_views(&s).await;
}

/// `/tide.js` and `/tide-history.js` over real HTTP, after the bisect scenario.
async fn snapshot_views(s: &Setup) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = prow_server::tide::router(s.tide.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let get = |path: &str| {
        let url = format!("http://{addr}{path}");
        async move {
            let response = reqwest::get(url).await.unwrap();
            assert_eq!(response.status(), 200);
            serde_json::from_str::<serde_json::Value>(&response.text().await.unwrap()).unwrap()
        }
    };
    insta::assert_json_snapshot!("tide_js", get("/tide.js").await);
    insta::assert_json_snapshot!("tide_history_js", get("/tide-history.js").await);
    server.abort();
}

#[tokio::test]
async fn flaky_job_is_retried_not_blamed() {
    let extra = "  merge_queue:\n    strategy: {\"*\": bisect}\n    flake_retries: {\"*\": 1}";
    let s = setup(&[1], extra);
    s.tide.sync_once().await.unwrap();
    finish(s.store.as_ref(), &[1], Some("unit"), ProwJobState::Failure).await;
    finish(s.store.as_ref(), &[1], None, ProwJobState::Success).await;

    s.tide.sync_once().await.unwrap();
    assert!(merges(&s.github).is_empty());
    assert!(
        comments_on(&s.github, 1).is_empty(),
        "a first failure blames nobody"
    );
    let running = finish(s.store.as_ref(), &[1], None, ProwJobState::Success).await;
    assert_eq!(running, 2, "the PR's jobs run again");

    s.tide.sync_once().await.unwrap();
    assert_eq!(merges(&s.github), vec![(1, "sha-1".into())]);
    assert!(comments_on(&s.github, 1).is_empty());
    let stats = s.tide.stats();
    assert_eq!(stats.flakes_retried, 1);
    assert_eq!(stats.ejections, 0);
}

#[tokio::test]
async fn status_descriptions_match_the_engine_and_are_written_once() {
    let s = setup(&[1], "");
    add_pr(&s.github, 2, &[]);
    add_pr(&s.github, 3, &["lgtm", "do-not-merge/hold"]);
    s.tide.sync_once().await.unwrap();
    s.tide.status_once().await.unwrap();

    let tide_status = |n: u64| -> (String, String) {
        let state = s.github.state();
        let all = &state.statuses[&(ORG.to_string(), REPO.to_string(), format!("sha-{n}"))];
        let last = all.iter().rev().find(|st| st.context == "tide").unwrap();
        (
            serde_json::to_value(last.state)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
            last.description.clone().unwrap_or_default(),
        )
    };
    // What prow-core's engine expects for each PR.
    let mut policy = ContextPolicy::default();
    policy.required = vec!["e2e".into(), "unit".into()];
    let mut query = QueryRequirements::default();
    query.labels = vec!["lgtm".into()];
    query.missing_labels = vec!["do-not-merge/hold".into()];
    let queries = [query];
    let pr = |n: u64, labels: &[&str]| {
        let mut pr = prow_core::tide::PullRequest::new(ORG, REPO, n);
        pr.base_ref = "main".into();
        pr.head_sha = format!("sha-{n}");
        pr.labels = labels.iter().map(|l| l.to_string()).collect();
        pr.contexts = vec![
            Context::new("unit", ContextState::Success),
            Context::new("e2e", ContextState::Success),
        ];
        pr
    };
    let expect = |pr: &prow_core::tide::PullRequest, in_pool: bool| {
        let mut input = StatusInput::new(pr, &policy);
        input.in_pool = in_pool;
        input.queries = &queries;
        let (state, desc) = expected_status(&input);
        (state.as_str().to_owned(), desc)
    };
    let (p1, p2, p3) = (
        pr(1, &["lgtm"]),
        pr(2, &[]),
        pr(3, &["lgtm", "do-not-merge/hold"]),
    );
    assert_eq!(tide_status(1), expect(&p1, true));
    assert_eq!(tide_status(2), expect(&p2, false));
    assert_eq!(tide_status(3), expect(&p3, false));
    // And Prow's words.
    assert_eq!(
        tide_status(1),
        (
            "pending".into(),
            "Not mergeable. Retesting: e2e unit".into()
        )
    );
    assert_eq!(
        tide_status(2),
        ("pending".into(), "Not mergeable. Needs lgtm label.".into())
    );
    assert_eq!(
        tide_status(3),
        (
            "pending".into(),
            "Not mergeable. Should not have do-not-merge/hold label.".into()
        )
    );
    assert_eq!(StatusState::Pending.as_str(), "pending");

    // Nothing changed: nothing is written again.
    let writes = s.github.state().calls.get("create_status").copied();
    s.tide.status_once().await.unwrap();
    assert_eq!(s.github.state().calls.get("create_status").copied(), writes);
    assert_eq!(s.tide.stats().statuses_written, 3);

    // #1's jobs pass on the current base; its merge is refused this once, so it stays in
    // the pool and the status says so.
    finish(s.store.as_ref(), &[1], None, ProwJobState::Success).await;
    s.github.fail_next(
        "merge",
        prow_github::Error::NotMergeable {
            what: "acme/widgets#1".into(),
            reason: "Base branch was modified".into(),
        },
    );
    s.tide.sync_once().await.unwrap();
    assert!(merges(&s.github).is_empty());
    s.tide.status_once().await.unwrap();
    let mut passing = p1.clone();
    passing.labels = vec!["lgtm".into()];
    let mut input = StatusInput::new(&passing, &policy);
    input.in_pool = true;
    input.queries = &queries;
    let ok = ["e2e".to_string(), "unit".to_string()];
    input.passing_up_to_date = &ok;
    let (state, desc) = expected_status(&input);
    assert_eq!(tide_status(1), (state.as_str().to_owned(), desc));
    assert_eq!(tide_status(1), ("success".into(), "In merge pool.".into()));
    assert_eq!(s.tide.stats().statuses_written, 4);
}

#[tokio::test]
async fn queue_restarts_its_runs_when_someone_else_moves_the_base() {
    let s = setup(&[1, 2], BISECT);
    s.tide.sync_once().await.unwrap();
    set_base(&s.github, "base-1");
    // The batch on base-0 passes, but the base is gone: its result must not merge anything.
    finish(s.store.as_ref(), &[1, 2], None, ProwJobState::Success).await;
    s.tide.sync_once().await.unwrap();
    assert!(merges(&s.github).is_empty());
    let all = jobs(s.store.as_ref()).await;
    let on_new: Vec<&ProwJob> = all
        .iter()
        .filter(|j| j.spec.refs.as_ref().unwrap().base_sha == "base-1")
        .collect();
    assert_eq!(on_new.len(), 2, "the batch reruns on base-1");
    assert!(on_new.iter().all(|j| state(j) == ProwJobState::Triggered));
    let history = s.tide.history().history;
    let actions: Vec<&str> = history["acme/widgets:main"]
        .iter()
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(
        actions,
        vec!["TRIGGER_BATCH", "RETEST_ON_NEW_BASE", "TRIGGER_BATCH"]
    );
    finish(s.store.as_ref(), &[1, 2], None, ProwJobState::Success).await;
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        merges(&s.github),
        vec![(1, "sha-1".into()), (2, "sha-2".into())]
    );
}

#[tokio::test]
async fn run_syncs_and_sets_statuses_until_told_to_stop() {
    let s = setup(&[1, 2], "  sync_period: 1h\n  status_update_period: 1h");
    let mut events = s.store.watch();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let tide = s.tide.clone();
    let task = tokio::spawn(async move {
        let metrics = prow_jobs::controller::ControllerMetrics::default();
        let config = tide.config();
        let sync = prow_server::tide::SyncController(tide.clone());
        let status = prow_server::tide::StatusController(tide);
        let stop = async move {
            let _ = stopped.await;
        };
        let stop = futures::FutureExt::shared(stop);
        tokio::join!(
            prow_jobs::controller::drive(&sync, config.clone(), stop.clone(), &metrics),
            prow_jobs::controller::drive(&status, config, stop, &metrics),
        );
    });
    // The first sync starts the batch; wait for its jobs to appear.
    let mut added = 0;
    while added < 2 {
        if let prow_jobs::store::WatchEvent::Added(job) = events.recv().await.unwrap() {
            assert_eq!(job.spec.job_type, ProwJobType::Batch);
            added += 1;
        }
    }
    stop.send(()).unwrap();
    task.await.unwrap();
    assert!(s.tide.stats().syncs >= 1);
    assert_eq!(s.tide.pools().pools[0].action, "TRIGGER_BATCH");
}

#[tokio::test]
async fn blocking_issue_stops_merges_until_it_closes() {
    let s = setup(&[1, 2], "  blocker_label: merge-blocker");
    let issue: prow_github::types::Issue = serde_json::from_value(json!({
        "id": 90, "number": 90, "title": "Release freeze branch:main", "state": "open",
        "user": {"login": "bob"}, "labels": [{"name": "merge-blocker"}],
        "html_url": format!("https://github.com/{ORG}/{REPO}/issues/90"),
    }))
    .unwrap();
    s.github.add_issue(ORG, REPO, issue);
    s.tide.sync_once().await.unwrap();
    let pool = &s.tide.pools().pools[0];
    assert_eq!(pool.action, "BLOCKED");
    assert_eq!(pool.blockers.len(), 1);
    assert_eq!(pool.blockers[0].number, 90);
    assert!(
        jobs(s.store.as_ref()).await.is_empty(),
        "nothing starts while blocked"
    );

    // A PR outside the pool is told which issue blocks merging.
    add_pr(&s.github, 3, &[]);
    s.tide.sync_once().await.unwrap();
    s.tide.status_once().await.unwrap();
    let desc = |n: u64| {
        s.github.state().statuses[&(ORG.to_string(), REPO.to_string(), format!("sha-{n}"))]
            .iter()
            .rev()
            .find(|st| st.context == "tide")
            .and_then(|st| st.description.clone())
            .unwrap_or_default()
    };
    assert_eq!(desc(3), "Not mergeable. Merging is blocked by issue 90.");

    s.github
        .state()
        .issues
        .get_mut(&(ORG.into(), REPO.into(), 90))
        .unwrap()
        .state = "closed".into();
    s.tide.sync_once().await.unwrap();
    assert_eq!(s.tide.pools().pools[0].action, "TRIGGER_BATCH");
}

#[tokio::test]
async fn speculative_tests_cumulative_prefixes_in_parallel() {
    let extra = "  batch_size_limit: {\"*\": 1}\n  merge_queue:\n    strategy: {\"*\": speculative}\n    ci_capacity: {\"*\": 2}";
    let s = setup(&[1, 2], extra);
    s.tide.sync_once().await.unwrap();
    let all = jobs(s.store.as_ref()).await;
    let mut runs: Vec<(ProwJobType, Vec<u64>)> =
        all.iter().map(|j| (j.spec.job_type, pulls(j))).collect();
    runs.sort_by_key(|(_, p)| p.clone());
    runs.dedup();
    assert_eq!(
        runs,
        vec![
            (ProwJobType::Presubmit, vec![1]),
            (ProwJobType::Batch, vec![1, 2])
        ],
        "#1 alone and #2 on top of #1, at once"
    );
    finish(s.store.as_ref(), &[1], None, ProwJobState::Success).await;
    finish(s.store.as_ref(), &[1, 2], None, ProwJobState::Success).await;
    s.tide.sync_once().await.unwrap();
    assert_eq!(
        merges(&s.github),
        vec![(1, "sha-1".into()), (2, "sha-2".into())]
    );
}
