//! crier's GitHub reporter: which jobs are reported, the statuses and failed-tests comment it
//! writes, and the loop that reports each state once, against the fake GitHub and a real store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use prow_config::prow::{GitHubReporter as ReporterConfig, Plank};
use prow_core::{ProwJob, ProwJobState, ProwJobType};
use prow_github::fake::FakeGitHub;
use prow_github::types::{Comment, PullRequest, Status, StatusState, User};
use prow_jobs::config::ConfigHandle;
use prow_jobs::controller::{ControllerMetrics, drive};
use prow_jobs::crier::comment::{
    ABOUT_THIS_BOT, COMMENT_TAG, comment_body, is_bot, summary_jobs, table_row,
};
use prow_jobs::crier::status::{github_state, truncate};
use prow_jobs::crier::{
    CommentPlan, CommentWrite, Crier, CrierError, GitHubReporter, REPORTER_NAME,
    description_with_base_sha, mark_reported, plan_comment, should_report, status_update,
    sync_once,
};
use prow_jobs::store::{JobStore, ListParams, SqliteStore, StoreError, WatchEvent};
use serde_json::json;
use tokio::sync::broadcast;

const ORG: &str = "kubernetes";
const REPO: &str = "test-infra";
const PR: u64 = 7;
const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";
const BASE: &str = "fedcba9876543210fedcba9876543210fedcba98";
const BOT: &str = "k8s-ci-robot";
const AUTHOR: &str = "alice";

/// How long a test waits for the loop before failing; only a backstop, on tokio's paused clock.
const BACKSTOP: Duration = Duration::from_secs(60);

/// A presubmit run `name` of the job `context` on pull request 7, in `state`.
fn presubmit(name: &str, context: &str, state: ProwJobState) -> ProwJob {
    let mut status = json!({
        "startTime": "2026-11-23T10:00:00Z",
        "state": state.as_str(),
        "description": format!("Job {}.", state.as_str()),
        "url": format!("https://prow.example.com/view/gs/logs/{name}"),
    });
    if state.is_final() {
        status["completionTime"] = json!("2026-11-23T10:30:00Z");
    }
    let doc = json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": name, "labels": {"prow.k8s.io/is-optional": "false"}},
        "spec": {
            "type": "presubmit",
            "job": context,
            "context": context,
            "rerun_command": format!("/test {context}"),
            "report": true,
            "refs": {
                "org": ORG, "repo": REPO, "base_ref": "master", "base_sha": BASE,
                "pulls": [{"number": PR, "author": AUTHOR, "sha": HEAD}],
            },
        },
        "status": status,
    });
    serde_json::from_value(doc).expect("a valid ProwJob")
}

/// `job` started at `start` (RFC 3339).
fn started_at(mut job: ProwJob, start: &str) -> ProwJob {
    let start = serde_json::from_value(json!(start)).expect("a time");
    job.status.get_or_insert_with(Default::default).start_time = Some(start);
    job
}

/// `job` moved to `state`, as plank would move it.
fn in_state(mut job: ProwJob, state: ProwJobState) -> ProwJob {
    let name = job.name().to_owned();
    let fresh = presubmit(&name, &job.spec.context.clone(), state);
    let status = job.status.get_or_insert_with(Default::default);
    let fresh = fresh.status.expect("status");
    status.state = fresh.state;
    status.description = fresh.description;
    status.completion_time = fresh.completion_time;
    job
}

fn reported_as(mut job: ProwJob, state: ProwJobState) -> ProwJob {
    job.status
        .get_or_insert_with(Default::default)
        .prev_report_states
        .insert(REPORTER_NAME.to_owned(), state);
    job
}

fn config() -> ReporterConfig {
    ReporterConfig::default()
}

fn config_with(edit: impl FnOnce(&mut ReporterConfig)) -> ReporterConfig {
    let mut c = ReporterConfig::default();
    edit(&mut c);
    c
}

// ---------------------------------------------------------------------------------------------
// Pure decisions

fn check_should_report(job: ProwJob, config: &ReporterConfig, expected: bool) {
    assert_eq!(
        should_report(&job, config),
        expected,
        "should_report for {} ({:?}, report={}, state={:?})",
        job.name(),
        job.spec.job_type,
        job.spec.report,
        job.state()
    );
}

#[test]
fn should_report_follows_the_report_flag_the_type_the_refs_and_the_last_reported_state() {
    let failed = || presubmit("pr-unit-1", "pull-unit", ProwJobState::Failure);
    let c = config();

    check_should_report(failed(), &c, true);
    // `skip_report: true` in the job config becomes `report: false` in the spec.
    let mut skipped = failed();
    skipped.spec.report = false;
    check_should_report(skipped, &c, false);
    // Already reported in this state; a different earlier state does not count.
    check_should_report(reported_as(failed(), ProwJobState::Failure), &c, false);
    check_should_report(reported_as(failed(), ProwJobState::Pending), &c, true);
    // No refs: nothing on GitHub to report to.
    let mut no_refs = failed();
    no_refs.spec.refs = None;
    check_should_report(no_refs, &c, false);
    // Gerrit's jobs belong to the Gerrit reporter.
    let mut gerrit = failed();
    gerrit
        .metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert("prow.k8s.io/gerrit-report-label".into(), "Verified".into());
    check_should_report(gerrit, &c, false);
    // `scheduling` means nothing on GitHub.
    check_should_report(
        presubmit("pr-unit-2", "pull-unit", ProwJobState::Scheduling),
        &c,
        false,
    );
    // No status at all yet.
    let mut fresh = failed();
    fresh.status = None;
    check_should_report(fresh, &c, false);
}

#[test]
fn should_report_only_the_configured_job_types() {
    let of_type = |t: ProwJobType| {
        let mut job = presubmit("run", "ctx", ProwJobState::Success);
        job.spec.job_type = t;
        job
    };
    // The default (an empty list, as before defaulting): presubmits and postsubmits.
    let c = config();
    check_should_report(of_type(ProwJobType::Presubmit), &c, true);
    check_should_report(of_type(ProwJobType::Postsubmit), &c, true);
    check_should_report(of_type(ProwJobType::Periodic), &c, false);
    check_should_report(of_type(ProwJobType::Batch), &c, false);

    let presubmits_only = config_with(|c| c.job_types_to_report = vec!["presubmit".into()]);
    check_should_report(of_type(ProwJobType::Presubmit), &presubmits_only, true);
    check_should_report(of_type(ProwJobType::Postsubmit), &presubmits_only, false);

    // Periodics never go to GitHub, even when listed (Prow's reporter takes the two types only).
    let with_periodics = config_with(|c| {
        c.job_types_to_report = vec!["presubmit".into(), "periodic".into()];
    });
    check_should_report(of_type(ProwJobType::Periodic), &with_periodics, false);
}

#[test]
fn job_states_map_to_github_states() {
    let table = [
        (ProwJobState::Triggered, Some(StatusState::Pending)),
        (ProwJobState::Pending, Some(StatusState::Pending)),
        (ProwJobState::Success, Some(StatusState::Success)),
        (ProwJobState::Failure, Some(StatusState::Failure)),
        (ProwJobState::Aborted, Some(StatusState::Failure)),
        (ProwJobState::Error, Some(StatusState::Error)),
        (ProwJobState::Scheduling, None),
    ];
    for (state, expected) in table {
        assert_eq!(github_state(state), expected, "{state}");
    }
}

#[test]
fn descriptions_carry_the_base_sha_at_the_right_edge_and_are_cut_in_the_middle() {
    // Padded with U+2001 (three bytes each) up to GitHub's 140 bytes, as Prow does.
    let short = description_with_base_sha("Job succeeded.", BASE);
    let suffix = format!(" BaseSHA:{BASE}");
    let padding = short
        .strip_prefix("Job succeeded.")
        .and_then(|rest| rest.strip_suffix(&suffix))
        .expect("description, padding, base SHA");
    assert!(padding.chars().all(|c| c == '\u{2001}'), "{padding:?}");
    // 140 - 14 - 49 = 77 bytes to fill; Prow's loop adds one pad while i < 77 - 3i: 20 pads.
    assert_eq!(padding.chars().count(), 20);

    // Without a base SHA, the text alone, cut to 140 bytes.
    assert_eq!(description_with_base_sha("Job failed.", ""), "Job failed.");
    let long = "x".repeat(200);
    let cut = description_with_base_sha(&long, "");
    assert_eq!(cut.len(), 139, "{cut}");
    assert_eq!(cut, format!("{} ... {}", "x".repeat(67), "x".repeat(67)));

    // A long description with a base SHA leaves room for the SHA and no padding.
    let cut = description_with_base_sha(&long, BASE);
    assert!(cut.ends_with(&suffix), "{cut}");
    // 140 - 49 = 91 bytes for the text: 43 each side of the elision.
    assert_eq!(
        cut,
        format!("{} ... {}{suffix}", "x".repeat(43), "x".repeat(43))
    );
    assert_eq!(cut.len(), 140);

    assert_eq!(truncate("really long messages", 15), "reall ... sages");
    assert_eq!(truncate("short", 15), "short");
    // Never inside a character: "é" is two bytes.
    assert_eq!(truncate("ééééééééééé", 15), "éé ... éé");
}

#[test]
fn status_goes_on_the_pull_head_with_context_description_and_link() {
    let job = presubmit("pr-unit-1", "pull-unit", ProwJobState::Failure);
    let update = status_update(&job, &config()).expect("a status");
    assert_eq!(
        (
            update.org.as_str(),
            update.repo.as_str(),
            update.sha.as_str()
        ),
        (ORG, REPO, HEAD)
    );
    assert_eq!(update.status.state, StatusState::Failure);
    assert_eq!(update.status.context, "pull-unit");
    assert_eq!(
        update.status.target_url.as_deref(),
        Some("https://prow.example.com/view/gs/logs/pr-unit-1")
    );
    assert_eq!(
        update.status.description,
        Some(description_with_base_sha("Job failure.", BASE))
    );

    // Postsubmits: on the base commit.
    let mut post = job.clone();
    post.spec.job_type = ProwJobType::Postsubmit;
    post.spec.refs.as_mut().expect("refs").pulls.clear();
    assert_eq!(status_update(&post, &config()).expect("a status").sha, BASE);

    // Several pulls (a batch): no status.
    let mut batch = job.clone();
    let refs = batch.spec.refs.as_mut().expect("refs");
    refs.pulls.push(refs.pulls[0].clone());
    assert_eq!(status_update(&batch, &config()), None);

    // Not reported, or a type left out of job_types_to_report: no status.
    let mut skipped = job.clone();
    skipped.spec.report = false;
    assert_eq!(status_update(&skipped, &config()), None);
    let postsubmits_only = config_with(|c| c.job_types_to_report = vec!["postsubmit".into()]);
    assert_eq!(status_update(&job, &postsubmits_only), None);
}

fn bot_comment(id: u64, body: &str) -> Comment {
    comment_by(id, BOT, body)
}

fn comment_by(id: u64, login: &str, body: &str) -> Comment {
    Comment {
        id,
        body: Some(body.to_owned()),
        user: User {
            login: login.to_owned(),
            ..User::default()
        },
        ..Comment::default()
    }
}

fn rows(jobs: &[&ProwJob]) -> Vec<String> {
    jobs.iter().map(|j| table_row(j)).collect()
}

/// Checks a comment plan against the expected deletions and write.
fn check_plan(jobs: &[&ProwJob], comments: &[Comment], expected: CommentPlan) {
    assert_eq!(plan_comment(jobs, BOT, comments, false, None), expected);
}

fn plan(delete: Vec<u64>, write: Option<CommentWrite>) -> CommentPlan {
    let mut p = CommentPlan::default();
    p.delete = delete;
    p.write = write;
    p
}

#[test]
fn comment_plans_add_update_and_remove_rows_in_place() {
    let unit_failed = presubmit("u1", "pull-unit", ProwJobState::Failure);
    let e2e_failed = presubmit("e1", "pull-e2e", ProwJobState::Failure);
    let unit_passed = presubmit("u2", "pull-unit", ProwJobState::Success);
    let unit_pending = presubmit("u3", "pull-unit", ProwJobState::Pending);
    let unit_errored = presubmit("u4", "pull-unit", ProwJobState::Error);
    let unit_only = comment_body(AUTHOR, &rows(&[&unit_failed]), None);
    let both = comment_body(AUTHOR, &rows(&[&unit_failed, &e2e_failed]), None);

    // First failure: a new comment.
    check_plan(
        &[&unit_failed],
        &[comment_by(1, AUTHOR, "please review")],
        plan(
            vec![],
            Some(CommentWrite::Create {
                body: unit_only.clone(),
            }),
        ),
    );
    // Another job fails: its row is added to the same comment.
    check_plan(
        &[&e2e_failed],
        &[bot_comment(5, &unit_only)],
        plan(
            vec![],
            Some(CommentWrite::Edit {
                id: 5,
                body: both.clone(),
            }),
        ),
    );
    // The first job passes: its row goes, the comment stays for the other.
    check_plan(
        &[&unit_passed],
        &[bot_comment(5, &both)],
        plan(
            vec![],
            Some(CommentWrite::Edit {
                id: 5,
                body: comment_body(AUTHOR, &rows(&[&e2e_failed]), None),
            }),
        ),
    );
    // The last row goes: so does the comment. An error removes the row too (as in Prow, only
    // failures get rows).
    check_plan(
        &[&unit_passed],
        &[bot_comment(5, &unit_only)],
        plan(vec![5], None),
    );
    check_plan(
        &[&unit_errored],
        &[bot_comment(5, &unit_only)],
        plan(vec![5], None),
    );
    // A failure again, on a new run: the row is updated where it stands, not duplicated.
    let unit_failed_again = presubmit("u5", "pull-unit", ProwJobState::Failure);
    check_plan(
        &[&unit_failed_again],
        &[bot_comment(5, &both)],
        plan(
            vec![],
            Some(CommentWrite::Edit {
                id: 5,
                body: comment_body(AUTHOR, &rows(&[&unit_failed_again, &e2e_failed]), None),
            }),
        ),
    );
    // The same failure reported twice: nothing to change.
    check_plan(
        &[&unit_failed],
        &[bot_comment(5, &unit_only)],
        plan(vec![], None),
    );
    // Unfinished jobs do not touch the comment; a pass with no comment needs nothing.
    check_plan(
        &[&unit_pending],
        &[bot_comment(5, &unit_only)],
        plan(vec![], None),
    );
    check_plan(&[&unit_passed], &[], plan(vec![], None));
}

#[test]
fn comment_plans_merge_duplicates_and_ignore_other_authors() {
    let unit_failed = presubmit("u1", "pull-unit", ProwJobState::Failure);
    let e2e_failed = presubmit("e1", "pull-e2e", ProwJobState::Failure);
    let lint_failed = presubmit("l1", "pull-lint", ProwJobState::Failure);
    let unit_only = comment_body(AUTHOR, &rows(&[&unit_failed]), None);
    let e2e_only = comment_body(AUTHOR, &rows(&[&e2e_failed]), None);

    // Two marked comments (left by Prow, which posts anew on every failure): the older is
    // deleted, its rows carried into the newer.
    check_plan(
        &[&lint_failed],
        &[bot_comment(3, &unit_only), bot_comment(4, &e2e_only)],
        plan(
            vec![3],
            Some(CommentWrite::Edit {
                id: 4,
                body: comment_body(
                    AUTHOR,
                    &rows(&[&unit_failed, &e2e_failed, &lint_failed]),
                    None,
                ),
            }),
        ),
    );
    // Someone quoting the marker is not the bot; a GitHub App bot is (`name[bot]`).
    check_plan(
        &[&e2e_failed],
        &[comment_by(3, AUTHOR, &unit_only)],
        plan(vec![], Some(CommentWrite::Create { body: e2e_only })),
    );
    assert!(is_bot("k8s-ci-robot", "k8s-ci-robot[bot]"));
    assert!(is_bot("k8s-ci-robot[bot]", "k8s-ci-robot"));
    assert!(!is_bot("k8s-ci-robot", "alice"));
    // The bot's own comments without the marker are left alone.
    check_plan(
        &[&unit_failed],
        &[bot_comment(9, "LGTM label has been added.")],
        plan(
            vec![],
            Some(CommentWrite::Create {
                body: unit_only.clone(),
            }),
        ),
    );
}

#[test]
fn comment_plans_for_summaries_write_all_passed_unless_aborted() {
    let unit_passed = presubmit("u2", "pull-unit", ProwJobState::Success);
    let unit_aborted = presubmit("u3", "pull-unit", ProwJobState::Aborted);
    assert_eq!(
        plan_comment(&[&unit_passed], BOT, &[], true, None),
        plan(
            vec![],
            Some(CommentWrite::Create {
                body: comment_body(AUTHOR, &[], None),
            })
        )
    );
    assert_eq!(
        plan_comment(&[&unit_aborted], BOT, &[], true, None),
        plan(vec![], None)
    );
}

#[test]
fn summaries_take_the_newest_run_of_each_job_on_the_pull_once_all_finished() {
    let names =
        |jobs: Vec<&ProwJob>| -> Vec<String> { jobs.iter().map(|j| j.name().to_owned()).collect() };
    let unit_old = started_at(
        presubmit("unit-a", "pull-unit", ProwJobState::Failure),
        "2026-11-23T09:00:00Z",
    );
    let unit_new = started_at(
        presubmit("unit-b", "pull-unit", ProwJobState::Success),
        "2026-11-23T11:00:00Z",
    );
    let e2e = presubmit("e2e-a", "pull-e2e", ProwJobState::Failure);
    let mut silent = presubmit("lint-a", "pull-lint", ProwJobState::Failure);
    silent.spec.job = "pull-lint".into();
    silent.spec.report = false;
    let mut elsewhere = presubmit("other-pr", "pull-docs", ProwJobState::Pending);
    elsewhere.spec.refs.as_mut().expect("refs").pulls[0].number = PR + 1;

    let all = [
        unit_new.clone(),
        e2e.clone(),
        unit_old.clone(),
        silent.clone(),
        elsewhere.clone(),
    ];
    // The newest unit run, e2e; not the silent job; the other pull request's running job does
    // not hold the summary back.
    assert_eq!(names(summary_jobs(&e2e, &all)), ["e2e-a", "unit-b"]);
    // Order in the listing does not matter.
    let reversed: Vec<ProwJob> = all.iter().rev().cloned().collect();
    assert_eq!(names(summary_jobs(&e2e, &reversed)), ["e2e-a", "unit-b"]);
    // A job of this pull request still running: no summary yet.
    let running = presubmit("e2e-b", "pull-e2e", ProwJobState::Pending);
    let with_running = [unit_new, e2e.clone(), running];
    assert_eq!(
        names(summary_jobs(&e2e, &with_running)),
        Vec::<String>::new()
    );
}

#[test]
fn table_rows_say_whether_the_job_is_required() {
    let mut job = presubmit("u1", "pull-unit", ProwJobState::Failure);
    insta::assert_snapshot!(table_row(&job), @"pull-unit | 0123456789abcdef0123456789abcdef01234567 | [link](https://prow.example.com/view/gs/logs/u1) | true | `/test pull-unit`");
    let optional = |job: &mut ProwJob, value: Option<&str>| {
        let labels = job.metadata.labels.get_or_insert_with(Default::default);
        match value {
            Some(v) => labels.insert("prow.k8s.io/is-optional".into(), v.into()),
            None => labels.remove("prow.k8s.io/is-optional"),
        };
        table_row(job).split(" | ").nth(3).map(str::to_owned)
    };
    assert_eq!(optional(&mut job, Some("true")).as_deref(), Some("false"));
    assert_eq!(optional(&mut job, Some("F")).as_deref(), Some("true"));
    assert_eq!(
        optional(&mut job, Some("maybe")).as_deref(),
        Some("unknown")
    );
    assert_eq!(optional(&mut job, None).as_deref(), Some("unknown"));
    job.spec.job_type = ProwJobType::Postsubmit;
    assert_eq!(
        optional(&mut job, Some("false")).as_deref(),
        Some("unknown")
    );
}

#[test]
fn failed_tests_comment_body() {
    let unit = presubmit("u1", "pull-unit", ProwJobState::Failure);
    let mut e2e = presubmit("e1", "pull-e2e", ProwJobState::Failure);
    e2e.metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert("prow.k8s.io/is-optional".into(), "true".into());
    insta::assert_snapshot!("one_failure", comment_body(AUTHOR, &rows(&[&unit]), None));
    insta::assert_snapshot!(
        "two_failures",
        comment_body(AUTHOR, &rows(&[&unit, &e2e]), None)
    );
    let body = comment_body(AUTHOR, &[], None);
    assert!(
        body.starts_with("@alice: all tests **passed!**\n"),
        "{body}"
    );
    assert!(body.ends_with(&format!("{ABOUT_THIS_BOT}\n</details>\n{COMMENT_TAG}")));
}

// ---------------------------------------------------------------------------------------------
// Against the fake GitHub and a real store

struct World {
    github: Arc<FakeGitHub>,
    store: Arc<SqliteStore>,
    reporter: GitHubReporter,
}

fn world() -> World {
    let github = Arc::new(FakeGitHub::new(BOT));
    github.add_pull_request(
        ORG,
        REPO,
        PullRequest {
            number: PR,
            user: User {
                login: AUTHOR.into(),
                ..User::default()
            },
            state: "open".into(),
            ..PullRequest::default()
        },
    );
    let reporter = GitHubReporter::new(github.clone());
    let store = Arc::new(SqliteStore::in_memory().expect("an in-memory store"));
    World {
        github,
        store,
        reporter,
    }
}

impl World {
    async fn sync(&self, config: &ReporterConfig) -> prow_jobs::crier::SyncReport {
        sync_once(
            self.store.as_ref(),
            &self.reporter,
            config,
            &Plank::default(),
        )
        .await
    }

    /// Syncs and expects no error; returns the names of the jobs reported.
    async fn sync_ok(&self, config: &ReporterConfig) -> Vec<(String, ProwJobState)> {
        let report = self.sync(config).await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        report
            .reported
            .into_iter()
            .map(|r| (r.job, r.state))
            .collect()
    }

    async fn create(&self, job: ProwJob) {
        self.store.create(job).await.expect("create");
    }

    /// Moves the stored job `name` to `state`.
    async fn transition(&self, name: &str, state: ProwJobState) {
        let job = self.store.get(name).await.expect("get").expect("the job");
        self.store
            .update(in_state(job, state))
            .await
            .expect("update");
    }

    async fn prev_state(&self, name: &str) -> Option<ProwJobState> {
        let job = self.store.get(name).await.expect("get").expect("the job");
        job.status?.prev_report_states.get(REPORTER_NAME).copied()
    }

    fn statuses(&self) -> Vec<Status> {
        self.github
            .state()
            .statuses
            .get(&(ORG.to_owned(), REPO.to_owned(), HEAD.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    fn comments(&self) -> Vec<Comment> {
        self.github
            .state()
            .comments
            .get(&(ORG.to_owned(), REPO.to_owned(), PR))
            .cloned()
            .unwrap_or_default()
    }

    fn calls(&self, method: &str) -> u64 {
        self.github
            .state()
            .calls
            .get(method)
            .copied()
            .unwrap_or_default()
    }
}

fn summary(statuses: &[Status]) -> Vec<(String, StatusState)> {
    statuses
        .iter()
        .map(|s| (s.context.clone(), s.state))
        .collect()
}

#[tokio::test]
async fn a_failing_then_passing_job_sets_statuses_and_its_comment_comes_and_goes() {
    let w = world();
    let c = config();
    w.create(presubmit("unit-1", "pull-unit", ProwJobState::Triggered))
        .await;
    assert_eq!(
        w.sync_ok(&c).await,
        [("unit-1".to_owned(), ProwJobState::Triggered)]
    );
    // pending after triggered maps to the same GitHub state, but is a new state to report.
    w.transition("unit-1", ProwJobState::Pending).await;
    w.sync_ok(&c).await;
    w.transition("unit-1", ProwJobState::Failure).await;
    w.sync_ok(&c).await;

    let statuses = w.statuses();
    assert_eq!(
        summary(&statuses),
        [
            ("pull-unit".to_owned(), StatusState::Pending),
            ("pull-unit".to_owned(), StatusState::Pending),
            ("pull-unit".to_owned(), StatusState::Failure),
        ]
    );
    let failure = &statuses[2];
    assert_eq!(
        failure.description,
        Some(description_with_base_sha("Job failure.", BASE))
    );
    assert_eq!(
        failure.target_url.as_deref(),
        Some("https://prow.example.com/view/gs/logs/unit-1")
    );
    let comments = w.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    let failed_job = w.store.get("unit-1").await.expect("get").expect("job");
    assert_eq!(
        comments[0].body.as_deref(),
        Some(comment_body(AUTHOR, &[table_row(&failed_job)], None).as_str())
    );
    assert_eq!(w.prev_state("unit-1").await, Some(ProwJobState::Failure));

    // `/retest`: a new run of the same job passes.
    w.create(presubmit("unit-2", "pull-unit", ProwJobState::Pending))
        .await;
    w.sync_ok(&c).await;
    w.transition("unit-2", ProwJobState::Success).await;
    assert_eq!(
        w.sync_ok(&c).await,
        [("unit-2".to_owned(), ProwJobState::Success)]
    );
    let statuses = w.statuses();
    assert_eq!(
        summary(&statuses[3..]),
        [
            ("pull-unit".to_owned(), StatusState::Pending),
            ("pull-unit".to_owned(), StatusState::Success),
        ]
    );
    assert_eq!(
        w.comments(),
        [],
        "the only row went, and the comment with it"
    );
    assert_eq!(w.calls("create_comment"), 1);
    assert_eq!(w.calls("delete_comment"), 1);
}

#[tokio::test]
async fn with_two_failed_jobs_a_pass_edits_the_comment_down_to_the_other() {
    let w = world();
    let c = config();
    w.create(presubmit("unit-1", "pull-unit", ProwJobState::Failure))
        .await;
    w.create(presubmit("e2e-1", "pull-e2e", ProwJobState::Failure))
        .await;
    w.sync_ok(&c).await;
    let comments = w.comments();
    assert_eq!(comments.len(), 1, "one comment for both: {comments:?}");
    let unit = w.store.get("unit-1").await.expect("get").expect("job");
    let e2e = w.store.get("e2e-1").await.expect("get").expect("job");
    // Listed by name: e2e-1 is reported first.
    assert_eq!(
        comments[0].body.as_deref(),
        Some(comment_body(AUTHOR, &[table_row(&e2e), table_row(&unit)], None).as_str())
    );
    let id = comments[0].id;

    w.create(presubmit("unit-2", "pull-unit", ProwJobState::Success))
        .await;
    w.sync_ok(&c).await;
    let comments = w.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].id, id, "edited in place");
    assert_eq!(
        comments[0].body.as_deref(),
        Some(comment_body(AUTHOR, &[table_row(&e2e)], None).as_str())
    );
    assert_eq!(w.calls("edit_comment"), 2);
    assert_eq!(w.calls("delete_comment"), 0);
}

#[tokio::test]
async fn each_state_is_reported_once() {
    let w = world();
    let c = config();
    w.create(presubmit("unit-1", "pull-unit", ProwJobState::Failure))
        .await;
    assert_eq!(w.sync_ok(&c).await.len(), 1);
    assert_eq!(w.sync_ok(&c).await, []);
    assert_eq!(w.calls("create_status"), 1);
    assert_eq!(w.calls("create_comment"), 1);
    assert_eq!(w.calls("issue_comments"), 1);
}

#[tokio::test]
async fn skipped_and_unlisted_jobs_are_not_reported() {
    let w = world();
    let mut skipped = presubmit("skip-1", "pull-skip", ProwJobState::Failure);
    skipped.spec.report = false;
    w.create(skipped).await;
    let mut periodic = presubmit("periodic-1", "ci-periodic", ProwJobState::Failure);
    periodic.spec.job_type = ProwJobType::Periodic;
    w.create(periodic).await;
    let mut postsubmit = presubmit("post-1", "post-build", ProwJobState::Success);
    postsubmit.spec.job_type = ProwJobType::Postsubmit;
    postsubmit.spec.refs.as_mut().expect("refs").pulls.clear();
    w.create(postsubmit).await;

    let presubmits_only = config_with(|c| c.job_types_to_report = vec!["presubmit".into()]);
    assert_eq!(w.sync_ok(&presubmits_only).await, []);
    assert_eq!(w.github.state().calls.len(), 0, "no GitHub call at all");
    for name in ["skip-1", "periodic-1", "post-1"] {
        assert_eq!(w.prev_state(name).await, None, "{name}");
    }

    // With the default types the postsubmit goes, on its base commit; the periodic never.
    assert_eq!(
        w.sync_ok(&config()).await,
        [("post-1".to_owned(), ProwJobState::Success)]
    );
    let statuses = w.github.state().statuses.clone();
    assert_eq!(
        statuses.keys().collect::<Vec<_>>(),
        [&(ORG.to_owned(), REPO.to_owned(), BASE.to_owned())]
    );
    assert_eq!(w.calls("create_comment"), 0, "postsubmits get no comment");
}

#[tokio::test]
async fn the_reporter_itself_leaves_unreported_types_alone() {
    let w = world();
    let job = presubmit("unit-1", "pull-unit", ProwJobState::Failure);
    let postsubmits_only = config_with(|c| c.job_types_to_report = vec!["postsubmit".into()]);
    let outcome = w
        .reporter
        .report(
            &job,
            &postsubmits_only,
            &Plank::default(),
            &[] as &[ProwJob],
        )
        .await
        .expect("nothing to do");
    assert_eq!(outcome, prow_jobs::crier::ReportOutcome::default());
    assert_eq!(w.github.state().calls.len(), 0);

    let outcome = w
        .reporter
        .report(&job, &config(), &Plank::default(), &[] as &[ProwJob])
        .await
        .expect("reported");
    assert_eq!(outcome.status.map(|s| s.sha), Some(HEAD.to_owned()));
    assert!(matches!(
        outcome.comment.write,
        Some(CommentWrite::Create { .. })
    ));
}

#[tokio::test]
async fn repos_in_no_comment_repos_get_statuses_but_no_comment() {
    for ident in [ORG.to_owned(), format!("{ORG}/{REPO}")] {
        let w = world();
        let c = config_with(|c| c.no_comment_repos = vec![ident.clone()]);
        w.create(presubmit("unit-1", "pull-unit", ProwJobState::Failure))
            .await;
        w.sync_ok(&c).await;
        assert_eq!(
            summary(&w.statuses()),
            [("pull-unit".to_owned(), StatusState::Failure)],
            "{ident}"
        );
        assert_eq!(w.comments(), [], "{ident}");
        assert_eq!(w.calls("issue_comments"), 0, "{ident}");
        assert_eq!(w.prev_state("unit-1").await, Some(ProwJobState::Failure));
    }
}

#[tokio::test]
async fn summary_repos_comment_once_every_job_of_the_pull_has_finished() {
    let w = world();
    let c = config_with(|c| c.summary_comment_repos = vec![format!("{ORG}/{REPO}")]);
    w.create(started_at(
        presubmit("unit-1", "pull-unit", ProwJobState::Failure),
        "2026-11-23T09:00:00Z",
    ))
    .await;
    w.create(presubmit("e2e-1", "pull-e2e", ProwJobState::Pending))
        .await;
    assert_eq!(w.sync_ok(&c).await.len(), 2);
    assert_eq!(w.calls("create_status"), 2);
    assert_eq!(w.comments(), [], "e2e still runs");

    w.transition("e2e-1", ProwJobState::Success).await;
    w.sync_ok(&c).await;
    let unit = w.store.get("unit-1").await.expect("get").expect("job");
    let comments = w.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(
        comments[0].body.as_deref(),
        Some(comment_body(AUTHOR, &[table_row(&unit)], None).as_str())
    );

    // The failed job passes on a rerun: the summary says all passed, in the same comment.
    w.create(started_at(
        presubmit("unit-2", "pull-unit", ProwJobState::Success),
        "2026-11-23T11:00:00Z",
    ))
    .await;
    w.sync_ok(&c).await;
    let after = w.comments();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, comments[0].id);
    assert_eq!(
        after[0].body.as_deref(),
        Some(comment_body(AUTHOR, &[], None).as_str())
    );
}

#[tokio::test]
async fn a_github_error_is_retried_on_the_next_sync() {
    let w = world();
    let c = config();
    w.create(presubmit("unit-1", "pull-unit", ProwJobState::Failure))
        .await;
    w.github.fail_next(
        "create_status",
        prow_github::Error::Api {
            what: "create status".into(),
            status: 502,
            message: "Bad Gateway".into(),
        },
    );
    let report = w.sync(&c).await;
    assert_eq!(report.reported, []);
    let [error] = report.errors.as_slice() else {
        panic!("one error expected: {:?}", report.errors);
    };
    assert_eq!(error.job(), "unit-1");
    assert_eq!(
        error.to_string(),
        "report prowjob \"unit-1\" to github: set status"
    );
    assert_eq!(w.prev_state("unit-1").await, None);

    // A failure while commenting is retried too: the status is set again, as Prow does.
    w.github.fail_next(
        "create_comment",
        prow_github::Error::Api {
            what: "create comment".into(),
            status: 500,
            message: "oops".into(),
        },
    );
    let report = w.sync(&c).await;
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(w.prev_state("unit-1").await, None);

    assert_eq!(
        w.sync_ok(&c).await,
        [("unit-1".to_owned(), ProwJobState::Failure)]
    );
    assert_eq!(w.prev_state("unit-1").await, Some(ProwJobState::Failure));
    assert_eq!(w.comments().len(), 1);
    assert_eq!(w.calls("create_status"), 3);
}

#[tokio::test]
async fn a_status_github_will_never_take_counts_as_reported() {
    let w = world();
    w.create(presubmit("unit-1", "pull-unit", ProwJobState::Failure))
        .await;
    w.github.fail_next(
        "create_status",
        prow_github::Error::Validation {
            what: "create status".into(),
            message: "This SHA and context has reached the maximum number of statuses.".into(),
        },
    );
    let report = w.sync(&config()).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let [reported] = report.reported.as_slice() else {
        panic!("one job reported: {:?}", report.reported);
    };
    assert!(reported.outcome.status_refused.is_some());
    assert_eq!(w.prev_state("unit-1").await, Some(ProwJobState::Failure));
    assert_eq!(w.calls("issue_comments"), 0, "Prow stops at the status");
}

/// A store where someone else changes a job just before each of crier's first `conflicts`
/// updates, so they conflict.
struct Contended {
    inner: SqliteStore,
    conflicts: AtomicUsize,
    updates: AtomicUsize,
}

#[async_trait]
impl JobStore for Contended {
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
        self.updates.fetch_add(1, Ordering::SeqCst);
        let left = self.conflicts.load(Ordering::SeqCst);
        if left > 0 {
            self.conflicts.store(left - 1, Ordering::SeqCst);
            let mut other = self.inner.get(job.name()).await?.expect("the job");
            other
                .metadata
                .labels
                .get_or_insert_with(Default::default)
                .insert("touched".into(), format!("{left}"));
            self.inner.update(other).await?;
        }
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

fn contended(conflicts: usize) -> Contended {
    Contended {
        inner: SqliteStore::in_memory().expect("store"),
        conflicts: AtomicUsize::new(conflicts),
        updates: AtomicUsize::new(0),
    }
}

#[tokio::test]
async fn a_conflict_on_recording_the_state_is_retried_on_the_latest_job() {
    let w = world();
    let store = contended(2);
    store
        .create(presubmit("unit-1", "pull-unit", ProwJobState::Failure))
        .await
        .expect("create");
    let report = sync_once(&store, &w.reporter, &config(), &Plank::default()).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.reported.len(), 1);
    assert_eq!(
        store.updates.load(Ordering::SeqCst),
        3,
        "two conflicts, then success"
    );
    let job = store.get("unit-1").await.expect("get").expect("job");
    // The other writer's change is kept: the state was written onto the latest version.
    assert_eq!(
        job.metadata.labels.as_ref().and_then(|l| l.get("touched")),
        Some(&"1".to_owned())
    );
    assert_eq!(
        job.status.expect("status").prev_report_states[REPORTER_NAME],
        ProwJobState::Failure
    );
    assert_eq!(w.calls("create_status"), 1);
}

#[tokio::test]
async fn endless_conflicts_give_up_with_the_job_name_and_nothing_is_recorded() {
    let store = contended(usize::MAX);
    store
        .create(presubmit("unit-1", "pull-unit", ProwJobState::Failure))
        .await
        .expect("create");
    let error = mark_reported(&store, "unit-1", ProwJobState::Failure)
        .await
        .expect_err("gives up");
    assert!(matches!(
        &error,
        CrierError::Store {
            source: StoreError::Conflict { .. },
            ..
        }
    ));
    assert_eq!(error.job(), "unit-1");
    assert_eq!(
        store.updates.load(Ordering::SeqCst),
        prow_jobs::crier::MAX_UPDATE_ATTEMPTS
    );
    let job = store.get("unit-1").await.expect("get").expect("job");
    assert!(job.status.expect("status").prev_report_states.is_empty());
}

#[tokio::test]
async fn marking_a_job_reported_already_in_that_state_writes_nothing() {
    let store = contended(0);
    store
        .create(reported_as(
            presubmit("unit-1", "pull-unit", ProwJobState::Failure),
            ProwJobState::Failure,
        ))
        .await
        .expect("create");
    mark_reported(&store, "unit-1", ProwJobState::Failure)
        .await
        .expect("nothing to do");
    mark_reported(&store, "gone", ProwJobState::Failure)
        .await
        .expect("a deleted job needs nothing");
    assert_eq!(store.updates.load(Ordering::SeqCst), 0);
}

/// Waits for the store to show `name` reported in `state`.
async fn reported(events: &mut broadcast::Receiver<WatchEvent>, name: &str, state: ProwJobState) {
    let wait = async {
        loop {
            let event = events.recv().await.expect("store events");
            let job = event.job();
            let prev = job
                .status
                .as_ref()
                .and_then(|s| s.prev_report_states.get(REPORTER_NAME));
            if job.name() == name && prev == Some(&state) {
                return;
            }
        }
    };
    tokio::time::timeout(BACKSTOP, wait)
        .await
        .unwrap_or_else(|_| panic!("{name} was not reported as {state}"));
}

/// A configuration whose `github_reporter` is `reporter`.
fn reporting(reporter: ReporterConfig) -> prow_config::ConfigSnapshot {
    crate::support::snapshot_with(|c| c.prow.github_reporter = reporter)
}

#[tokio::test(start_paused = true)]
async fn the_loop_reports_on_store_events_and_retries_failures_on_resync() {
    let w = world();
    let (config_tx, config_rx) = tokio::sync::watch::channel(Arc::new(reporting(config())));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut events = w.store.watch();
    let store: Arc<dyn JobStore> = w.store.clone();
    let (pass_tx, mut passes) = tokio::sync::mpsc::unbounded_channel();
    let crier = Crier::new(store, w.reporter.clone())
        .with_resync_period(Duration::from_secs(600))
        .with_reports(pass_tx);
    let task = tokio::spawn(async move {
        drive(
            &crier,
            ConfigHandle::new(config_rx),
            async {
                stop_rx.await.ok();
            },
            &ControllerMetrics::default(),
        )
        .await;
    });

    w.create(presubmit("unit-1", "pull-unit", ProwJobState::Pending))
        .await;
    reported(&mut events, "unit-1", ProwJobState::Pending).await;
    w.transition("unit-1", ProwJobState::Failure).await;
    reported(&mut events, "unit-1", ProwJobState::Failure).await;
    assert_eq!(
        summary(&w.statuses()),
        [
            ("pull-unit".to_owned(), StatusState::Pending),
            ("pull-unit".to_owned(), StatusState::Failure),
        ]
    );
    assert_eq!(w.comments().len(), 1);

    // A failed report is not recorded and is tried again; a configuration change is picked up.
    // GitHub stays down until the test says so: the configuration change and the creation may
    // wake one pass or two, and on the paused clock time may jump to the resync whenever the
    // runtime waits on the store's blocking pool, so how many attempts fail is not fixed.
    let mut changed = config();
    changed.no_comment_repos = vec![ORG.to_owned()];
    config_tx.send_replace(Arc::new(reporting(changed)));
    w.github
        .start_outage("create_status", || prow_github::Error::Api {
            what: "create status".into(),
            status: 502,
            message: "Bad Gateway".into(),
        });
    w.create(presubmit("e2e-1", "pull-e2e", ProwJobState::Failure))
        .await;
    let failed = tokio::time::timeout(BACKSTOP, async {
        loop {
            let pass = passes.recv().await.expect("passes");
            if let Some(e) = pass.errors.first() {
                return e.job().to_owned();
            }
        }
    })
    .await
    .expect("a failed pass");
    assert_eq!(failed, "e2e-1");
    assert_eq!(
        w.prev_state("e2e-1").await,
        None,
        "a failed report is not recorded"
    );
    assert!(w.calls("create_status") >= 3, "the failed attempt was made");
    assert_eq!(
        summary(&w.statuses()),
        [
            ("pull-unit".to_owned(), StatusState::Pending),
            ("pull-unit".to_owned(), StatusState::Failure),
        ],
        "nothing reached GitHub while it was down"
    );
    w.github.end_outage("create_status");
    tokio::time::advance(Duration::from_secs(600)).await;
    reported(&mut events, "e2e-1", ProwJobState::Failure).await;
    assert_eq!(
        summary(&w.statuses()),
        [
            ("pull-unit".to_owned(), StatusState::Pending),
            ("pull-unit".to_owned(), StatusState::Failure),
            ("pull-e2e".to_owned(), StatusState::Failure),
        ]
    );
    assert_eq!(
        w.comments().len(),
        1,
        "no comment for e2e in a no-comment org"
    );

    stop_tx.send(()).expect("the loop is running");
    tokio::time::timeout(BACKSTOP, task)
        .await
        .expect("the loop stops")
        .expect("the loop does not panic");
}

#[tokio::test(start_paused = true)]
async fn the_loop_writes_summaries_from_the_stored_jobs_of_the_pull() {
    let w = world();
    let c = config_with(|c| c.summary_comment_repos = vec![ORG.to_owned()]);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut events = w.store.watch();
    let store: Arc<dyn JobStore> = w.store.clone();
    let crier = Crier::new(store, w.reporter.clone());
    let task = tokio::spawn(async move {
        drive(
            &crier,
            ConfigHandle::fixed(reporting(c)),
            async {
                stop_rx.await.ok();
            },
            &ControllerMetrics::default(),
        )
        .await;
    });

    w.create(presubmit("e2e-1", "pull-e2e", ProwJobState::Pending))
        .await;
    reported(&mut events, "e2e-1", ProwJobState::Pending).await;
    w.create(presubmit("unit-1", "pull-unit", ProwJobState::Failure))
        .await;
    reported(&mut events, "unit-1", ProwJobState::Failure).await;
    assert_eq!(w.comments(), [], "no summary while e2e runs");
    w.transition("e2e-1", ProwJobState::Failure).await;
    reported(&mut events, "e2e-1", ProwJobState::Failure).await;

    let unit = w.store.get("unit-1").await.expect("get").expect("job");
    let e2e = w.store.get("e2e-1").await.expect("get").expect("job");
    let comments = w.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    // Summary rows come in job-name order.
    assert_eq!(
        comments[0].body.as_deref(),
        Some(comment_body(AUTHOR, &[table_row(&e2e), table_row(&unit)], None).as_str())
    );

    stop_tx.send(()).expect("the loop is running");
    tokio::time::timeout(BACKSTOP, task)
        .await
        .expect("the loop stops")
        .expect("the loop does not panic");
}
