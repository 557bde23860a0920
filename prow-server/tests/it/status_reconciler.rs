//! status-reconciler against the fake GitHub and a SQLite job store: configuration changes
//! published on the one handle, passes run by the controller driver or called directly.

use std::collections::BTreeMap;
use std::sync::Arc;

use prow_config::ConfigSnapshot;
use prow_core::ProwJob;
use prow_github::fake::FakeGitHub;
use prow_github::types::{PullRequest, Status, StatusState};
use prow_jobs::controller::{Controller, ControllerMetrics, Wake, drive};
use prow_jobs::store::{JobStore, ListParams, SqliteStore};
use prow_server::statusreconciler::migrator::{self, Mode};
use prow_server::statusreconciler::{Options, StatusReconciler, diff};
use serde_json::json;

use crate::tide::Stopped;

const ORG: &str = "acme";
const REPO: &str = "widgets";
const OTHER: &str = "gadgets";
const BASE_HEAD: &str = "base-head-sha";

const JOB_SPEC: &str = "spec: {containers: [{image: alpine}]}";

/// A snapshot whose presubmits for `acme/widgets` and `acme/gadgets` are `widgets` and
/// `gadgets` (YAML list items, indented under the repository).
fn snapshot(widgets: &str, gadgets: &str) -> ConfigSnapshot {
    let config = format!("presubmits:\n  {ORG}/{REPO}:\n{widgets}\n  {ORG}/{OTHER}:\n{gadgets}\n");
    crate::support::hook_config(&config, "plugins: {}\n")
}

fn job(name: &str, extra: &str) -> String {
    format!("  - name: {name}\n    {extra}\n    {JOB_SPEC}\n")
}

fn always(name: &str) -> String {
    job(name, "always_run: true")
}

/// Open PR `n` of `repo` by `author` with `labels`, head `head-n`, base `main`.
fn add_pr(
    github: &FakeGitHub,
    repo: &str,
    n: u64,
    author: &str,
    labels: &[&str],
    extra: serde_json::Value,
) {
    let labels: Vec<_> = labels.iter().map(|l| json!({"name": l})).collect();
    let mut pr = json!({
        "id": n, "number": n, "title": format!("Change {n}"), "state": "open",
        "user": {"login": author}, "labels": labels,
        "html_url": format!("https://github.com/{ORG}/{repo}/pull/{n}"),
        "head": {"ref": format!("change-{n}"), "sha": format!("head-{n}")},
        "base": {"ref": "main", "sha": "old-base"},
    });
    if let (Some(pr), Some(extra)) = (pr.as_object_mut(), extra.as_object()) {
        pr.extend(extra.clone());
    }
    let pr: PullRequest = serde_json::from_value(pr).unwrap();
    github.add_pull_request(ORG, repo, pr);
}

/// The fake GitHub: `member` in the org, `main` of both repositories at [`BASE_HEAD`].
fn github() -> Arc<FakeGitHub> {
    let github = Arc::new(FakeGitHub::new("ci-robot"));
    let mut state = github.state();
    state
        .org_members
        .entry(ORG.to_owned())
        .or_default()
        .insert("member".to_owned());
    for repo in [REPO, OTHER] {
        state
            .branches
            .insert((ORG.into(), repo.into(), "main".into()), BASE_HEAD.into());
    }
    drop(state);
    github
}

fn set_status(github: &FakeGitHub, repo: &str, sha: &str, context: &str, state: &str) {
    let status: Status = serde_json::from_value(
        json!({"context": context, "state": state, "description": "Job failed.", "target_url": "https://prow/view/1"}),
    )
    .unwrap();
    github
        .state()
        .statuses
        .entry((ORG.into(), repo.into(), sha.into()))
        .or_default()
        .push(status);
}

/// Every status set on `repo@sha`, oldest first, as `context state description`.
fn statuses(github: &FakeGitHub, repo: &str, sha: &str) -> Vec<String> {
    github
        .state()
        .statuses
        .get(&(ORG.into(), repo.into(), sha.into()))
        .into_iter()
        .flatten()
        .map(|s| {
            format!(
                "{} {:?} {}",
                s.context,
                s.state,
                s.description.as_deref().unwrap_or_default()
            )
        })
        .collect()
}

/// `job repo#pr` of every stored ProwJob, sorted.
async fn jobs(store: &dyn JobStore) -> Vec<String> {
    let mut out: Vec<String> = store
        .list(&ListParams::default())
        .await
        .unwrap()
        .iter()
        .map(describe)
        .collect();
    out.sort();
    out
}

fn describe(pj: &ProwJob) -> String {
    let refs = pj.spec.refs.as_ref().unwrap();
    let pull = &refs.pulls[0];
    format!(
        "{} {}#{} base={} head={}",
        pj.spec.job, refs.repo, pull.number, refs.base_sha, pull.sha
    )
}

struct Setup {
    github: Arc<FakeGitHub>,
    store: Arc<SqliteStore>,
    reconciler: StatusReconciler,
}

fn setup(options: Options) -> Setup {
    let github = github();
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let reconciler = StatusReconciler::new(
        github.clone(),
        store.clone(),
        "ci-robot",
        Arc::new(Stopped),
        options,
    );
    Setup {
        github,
        store,
        reconciler,
    }
}

impl Setup {
    /// One pass with `old` (recording it) and one with `new`; the problems of the second.
    async fn change(&self, old: &ConfigSnapshot, new: &ConfigSnapshot) -> Vec<String> {
        let first = self.reconciler.reconcile(old, Wake::Start).await.unwrap();
        assert_eq!(first.errors, Vec::<String>::new());
        self.reconciler
            .reconcile(new, Wake::Config)
            .await
            .unwrap()
            .errors
    }
}

#[tokio::test]
async fn added_always_run_presubmit_runs_on_trusted_prs_only() {
    let s = setup(Options::default());
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    add_pr(&s.github, REPO, 2, "stranger", &[], json!({}));
    add_pr(&s.github, REPO, 3, "stranger", &["ok-to-test"], json!({}));
    add_pr(
        &s.github,
        REPO,
        4,
        "member",
        &[],
        json!({"mergeable": false}),
    );
    let old = snapshot(&always("unit"), &always("build"));
    let new = snapshot(
        &format!("{}{}{}", always("unit"), always("e2e"), job("manual", "")),
        &always("build"),
    );
    assert_eq!(s.change(&old, &new).await, Vec::<String>::new());
    assert_eq!(
        jobs(s.store.as_ref()).await,
        [
            "e2e widgets#1 base=base-head-sha head=head-1",
            "e2e widgets#3 base=base-head-sha head=head-3",
        ]
    );
    let created = s.store.list(&ListParams::default()).await.unwrap();
    let labels = &created[0].metadata.labels.as_ref().unwrap();
    assert_eq!(labels["prow.k8s.io/type"], "presubmit");
    assert_eq!(labels["prow.k8s.io/job"], "e2e");
    assert_eq!(labels["event-GUID"], "none");
}

#[tokio::test]
async fn run_if_changed_presubmit_runs_where_its_files_changed() {
    let s = setup(Options::default());
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    add_pr(&s.github, REPO, 2, "member", &[], json!({}));
    {
        let mut state = s.github.state();
        for (n, file) in [(1, "docs/readme.md"), (2, "pkg/server.go")] {
            state.pull_files.insert(
                (ORG.into(), REPO.into(), n),
                vec![serde_json::from_value(json!({"filename": file})).unwrap()],
            );
        }
    }
    let old = snapshot(&always("unit"), &always("build"));
    let new = snapshot(
        &format!(
            "{}{}",
            always("unit"),
            job("go-test", "run_if_changed: '\\.go$'")
        ),
        &always("build"),
    );
    assert_eq!(s.change(&old, &new).await, Vec::<String>::new());
    assert_eq!(
        jobs(s.store.as_ref()).await,
        ["go-test widgets#2 base=base-head-sha head=head-2"]
    );
}

#[tokio::test]
async fn optional_or_skip_report_presubmits_are_not_run() {
    let s = setup(Options::default());
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    let old = snapshot(&always("unit"), &always("build"));
    let new = snapshot(
        &format!(
            "{}{}{}",
            always("unit"),
            job("opt", "always_run: true\n    optional: true"),
            job("quiet", "always_run: true\n    skip_report: true")
        ),
        &always("build"),
    );
    assert_eq!(s.change(&old, &new).await, Vec::<String>::new());
    assert_eq!(jobs(s.store.as_ref()).await, Vec::<String>::new());
}

#[tokio::test]
async fn removed_presubmit_retires_its_context_through_the_driver() {
    let s = setup(Options::default());
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    add_pr(&s.github, REPO, 2, "member", &[], json!({}));
    set_status(&s.github, REPO, "head-1", "lint", "failure");
    set_status(&s.github, REPO, "head-1", "unit", "success");
    let old = snapshot(
        &format!("{}{}", always("unit"), always("lint")),
        &always("build"),
    );
    let new = snapshot(&always("unit"), &always("build"));
    let (publish, receiver) = tokio::sync::watch::channel(Arc::new(old));
    let handle = prow_jobs::config::ConfigHandle::new(receiver);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = ControllerMetrics::default();
    let github = s.github.clone();
    let driver = drive(
        &s.reconciler,
        handle,
        async {
            let _ = stopped.await;
        },
        &metrics,
    );
    let test = async move {
        // The first pass records the configuration; reads nothing of GitHub.
        publish.send(Arc::new(new)).unwrap();
        github
            .wait_until(|state| {
                state
                    .statuses
                    .get(&(ORG.into(), REPO.into(), "head-1".into()))
                    .is_some_and(|s| s.len() == 3)
            })
            .await;
        let _ = stop.send(());
    };
    tokio::join!(driver, test);
    assert_eq!(
        statuses(&s.github, REPO, "head-1"),
        [
            "lint Failure Job failed.",
            "unit Success Job failed.",
            "lint Success Context retired without replacement.",
        ]
    );
    // PR 2 never had the context: nothing to retire there.
    assert_eq!(statuses(&s.github, REPO, "head-2"), Vec::<String>::new());
    let figures = metrics.snapshot()["status-reconciler"];
    assert_eq!(figures.passes_with_errors + figures.passes_failed, 0);
    assert!(figures.passes_ok >= 2, "{figures:?}");
}

#[tokio::test]
async fn retiring_follows_the_removed_jobs_branches() {
    let s = setup(Options::default());
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    add_pr(
        &s.github,
        REPO,
        2,
        "member",
        &[],
        json!({"base": {"ref": "release-1", "sha": "x"}}),
    );
    set_status(&s.github, REPO, "head-1", "rel", "failure");
    set_status(&s.github, REPO, "head-2", "rel", "failure");
    let old = snapshot(
        &format!(
            "{}{}",
            always("unit"),
            job("rel", "always_run: true\n    branches: ['^release-']")
        ),
        &always("build"),
    );
    let new = snapshot(&always("unit"), &always("build"));
    assert_eq!(s.change(&old, &new).await, Vec::<String>::new());
    assert_eq!(
        statuses(&s.github, REPO, "head-1"),
        ["rel Failure Job failed."]
    );
    assert_eq!(
        statuses(&s.github, REPO, "head-2"),
        [
            "rel Failure Job failed.",
            "rel Success Context retired without replacement."
        ]
    );
}

#[tokio::test]
async fn renamed_context_moves_its_status() {
    let s = setup(Options::default());
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    set_status(&s.github, REPO, "head-1", "unit", "failure");
    let old = snapshot(&always("unit"), &always("build"));
    let new = snapshot(
        &job("unit", "always_run: true\n    context: ci/unit"),
        &always("build"),
    );
    assert_eq!(s.change(&old, &new).await, Vec::<String>::new());
    assert_eq!(
        statuses(&s.github, REPO, "head-1"),
        [
            "unit Failure Job failed.",
            "ci/unit Failure Job failed.",
            "unit Success Context retired. Status moved to \"ci/unit\".",
        ]
    );
    let moved = &s.github.state().statuses[&(ORG.into(), REPO.into(), "head-1".into())][1];
    assert_eq!(moved.target_url.as_deref(), Some("https://prow/view/1"));
}

#[tokio::test]
async fn unchanged_config_does_nothing() {
    let s = setup(Options::default());
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    set_status(&s.github, REPO, "head-1", "unit", "failure");
    let text = format!("{}{}", always("unit"), always("lint"));
    // Loaded twice: equal content, distinct snapshots, as a reload of untouched files.
    let old = snapshot(&text, &always("build"));
    let new = snapshot(&text, &always("build"));
    assert_eq!(s.change(&old, &new).await, Vec::<String>::new());
    assert_eq!(
        s.reconciler
            .reconcile(&new, Wake::Resync)
            .await
            .unwrap()
            .errors,
        Vec::<String>::new()
    );
    assert_eq!(jobs(s.store.as_ref()).await, Vec::<String>::new());
    assert_eq!(
        statuses(&s.github, REPO, "head-1"),
        ["unit Failure Job failed."]
    );
    assert_eq!(
        s.github.state().calls,
        Default::default(),
        "no GitHub call at all"
    );
}

#[tokio::test]
async fn denylisted_repo_is_left_alone() {
    let options = Options::default().with_denylist([format!("{ORG}/{REPO}")]);
    let s = setup(options);
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    add_pr(&s.github, OTHER, 1, "member", &[], json!({}));
    let old = snapshot(&always("unit"), &always("build"));
    let new = snapshot(
        &format!("{}{}", always("unit"), always("e2e")),
        &format!("{}{}", always("build"), always("lint")),
    );
    assert_eq!(s.change(&old, &new).await, Vec::<String>::new());
    assert_eq!(
        jobs(s.store.as_ref()).await,
        ["lint gadgets#1 base=base-head-sha head=head-1"]
    );
}

/// Widgets before and after `lint` was removed and `e2e` added.
fn lint_removed_e2e_added() -> (ConfigSnapshot, ConfigSnapshot) {
    let old = snapshot(
        &format!("{}{}", always("unit"), always("lint")),
        &always("build"),
    );
    let new = snapshot(
        &format!("{}{}", always("unit"), always("e2e")),
        &always("build"),
    );
    (old, new)
}

/// Removes `lint` and adds `e2e` under `options`, checks that no job and no status came of
/// it, and answers how many times each GitHub method was called.
async fn change_touching_nothing(options: Options) -> BTreeMap<&'static str, u64> {
    let s = setup(options);
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    set_status(&s.github, REPO, "head-1", "lint", "failure");
    let (old, new) = lint_removed_e2e_added();
    assert_eq!(s.change(&old, &new).await, Vec::<String>::new());
    assert_eq!(jobs(s.store.as_ref()).await, Vec::<String>::new());
    assert_eq!(
        statuses(&s.github, REPO, "head-1"),
        ["lint Failure Job failed."]
    );
    s.github.state().calls.clone()
}

#[tokio::test]
async fn denylist_all_also_keeps_contexts() {
    let calls =
        change_touching_nothing(Options::default().with_denylist_all([ORG.to_owned()])).await;
    assert_eq!(calls.get("pull_requests"), None, "{calls:?}");
}

#[tokio::test]
async fn dry_run_creates_and_sets_nothing() {
    let calls = change_touching_nothing(Options::default().with_dry_run(true)).await;
    // It did look: the pull requests were listed and the statuses read.
    assert!(calls["combined_status"] >= 1, "{calls:?}");
}

#[tokio::test]
async fn continue_on_error_goes_on_after_a_failing_repository() {
    for continue_on_error in [false, true] {
        let options = Options::default().with_continue_on_error(continue_on_error);
        let s = setup(options);
        add_pr(&s.github, OTHER, 1, "member", &[], json!({}));
        let old = snapshot(&always("unit"), &always("build"));
        let new = snapshot(
            &format!("{}{}", always("unit"), always("e2e")),
            &format!("{}{}", always("build"), always("lint")),
        );
        s.reconciler.reconcile(&old, Wake::Start).await.unwrap();
        // gadgets sorts before widgets: its listing fails first.
        s.github.fail_next(
            "pull_requests",
            prow_github::Error::Api {
                what: "list".into(),
                status: 502,
                message: "bad gateway".into(),
            },
        );
        let errors = s
            .reconciler
            .reconcile(&new, Wake::Config)
            .await
            .unwrap()
            .errors;
        assert_eq!(
            errors,
            [
                "failed to list pull requests for acme/gadgets: list: github answered 502: bad gateway"
            ],
            "continue_on_error={continue_on_error}"
        );
        let listed = s.github.state().calls["pull_requests"];
        assert_eq!(listed, if continue_on_error { 2 } else { 1 });
    }
}

#[tokio::test]
async fn all_presubmits_disappearing_is_refused() {
    let s = setup(Options::default());
    add_pr(&s.github, REPO, 1, "member", &[], json!({}));
    set_status(&s.github, REPO, "head-1", "unit", "failure");
    let old = snapshot(&always("unit"), &always("build"));
    let new = crate::support::hook_config("presubmits: {}\n", "plugins: {}\n");
    s.reconciler.reconcile(&old, Wake::Start).await.unwrap();
    let error = s
        .reconciler
        .reconcile(&new, Wake::Config)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "refusing to reconcile config update because all presubmits disappeared"
    );
    assert_eq!(
        statuses(&s.github, REPO, "head-1"),
        ["unit Failure Job failed."]
    );
}

#[tokio::test]
async fn status_path_carries_the_last_configuration_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("status-reconciler.json");
    let options = Options::default().with_status_path(Some(path.clone()));
    let old = snapshot(&always("unit"), &always("build"));
    let new = snapshot(
        &format!("{}{}", always("unit"), always("e2e")),
        &always("build"),
    );
    let first = setup(options.clone());
    first.reconciler.reconcile(&old, Wake::Start).await.unwrap();
    assert!(path.exists());
    // A new process starts on the changed configuration.
    let second = setup(options);
    add_pr(&second.github, REPO, 1, "member", &[], json!({}));
    let pass = second
        .reconciler
        .reconcile(&new, Wake::Start)
        .await
        .unwrap();
    assert_eq!(pass.errors, Vec::<String>::new());
    assert_eq!(
        jobs(second.store.as_ref()).await,
        ["e2e widgets#1 base=base-head-sha head=head-1"]
    );
}

/// `diff::delta` from `old` to `new` (the widgets presubmits), as `added | removed | migrated`.
fn check(old: &str, new: &str, expected: &str) {
    let old = snapshot(old, &always("build"));
    let new = snapshot(new, &always("build"));
    let delta = diff::delta(&old.config.jobs.presubmits, &new.config.jobs.presubmits).unwrap();
    let key = format!("{ORG}/{REPO}");
    let names = |jobs: Option<&Vec<&prow_config::Presubmit>>| {
        jobs.into_iter()
            .flatten()
            .map(|j| j.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let migrated = delta
        .migrated
        .get(key.as_str())
        .into_iter()
        .flatten()
        .map(|m| format!("{}->{}", m.from.context, m.to.context))
        .collect::<Vec<_>>()
        .join(",");
    let got = format!(
        "{} | {} | {}",
        names(delta.added.get(key.as_str())),
        names(delta.removed.get(key.as_str())),
        migrated
    );
    assert_eq!(got, expected);
}

#[test]
fn delta_follows_upstream_rules() {
    // A new always_run job is added; a new job needing /test is not.
    check(
        &always("a"),
        &format!("{}{}{}", always("a"), always("b"), job("c", "")),
        "b |  | ",
    );
    // A job that starts reporting is added.
    check(
        &job("a", "always_run: true\n    skip_report: true"),
        &always("a"),
        "a |  | ",
    );
    // A changed change rule adds the job (once, though both rules changed).
    check(
        &job("a", "run_if_changed: x"),
        &job("a", "run_if_changed: y\n    skip_if_only_changed: ''"),
        "a |  | ",
    );
    // Optional jobs are never added; a job going optional is nothing.
    check(
        &always("a"),
        &job("a", "always_run: true\n    optional: true"),
        " |  | ",
    );
    // Removed, and renamed contexts.
    check(
        &format!("{}{}", always("a"), always("b")),
        &always("a"),
        " | b | ",
    );
    check(
        &always("a"),
        &job("a", "always_run: true\n    context: new-a"),
        " |  | a->new-a",
    );
}

#[test]
fn migrator_plans_as_upstream() {
    let status = |context: &str, state: &str| -> Status {
        serde_json::from_value(json!({"context": context, "state": state, "description": "d"}))
            .unwrap()
    };
    let retire = Mode::Retire {
        context: "old".into(),
    };
    assert!(migrator::plan(&retire, &[status("other", "failure")]).is_empty());
    let planned = migrator::plan(&retire, &[status("old", "failure")]);
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].state, StatusState::Success);
    assert_eq!(planned[0].description.as_deref(), Some(migrator::RETIRED));
    let moving = Mode::Move {
        from: "old".into(),
        to: "new".into(),
    };
    // The new context is there already: nothing moves.
    assert!(
        migrator::plan(
            &moving,
            &[status("old", "failure"), status("new", "pending")]
        )
        .is_empty()
    );
    let planned = migrator::plan(&moving, &[status("old", "pending")]);
    assert_eq!(
        planned
            .iter()
            .map(|s| (s.context.as_str(), s.state))
            .collect::<Vec<_>>(),
        [("new", StatusState::Pending), ("old", StatusState::Success)]
    );
}
