//! The merge-queue strategies in the real tide controller, end to end over the fake GitHub and
//! the SQLite job store: PRs arrive in waves, two are broken, one run flakes, and a simulated
//! CI finishes the ProwJobs tide creates. Every merge is checked against the runs in the store:
//! a passing run must have tested exactly the merged PR, with exactly the PRs merged just
//! before it, on the base the chain of merges started from.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use prow_config::Config;
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::{ProwJob, ProwJobState};
use prow_github::fake::FakeGitHub;
use prow_jobs::clock::Clock;
use prow_jobs::store::{JobStore, SqliteStore};
use prow_server::tide::{Controller, RUN_ANNOTATION};

use super::tide::{
    ORG, REPO, Stopped, add_pr, comments_on, config, jobs, merges, pulls, set_base, state, status,
};

const LABEL: &str = "do-not-merge/tide-ejected";
/// Syncs a scenario may take before it counts as stuck.
const MAX_SYNCS: usize = 120;

fn queue_config(strategy: &str) -> Arc<Config> {
    config(&format!(
        "  batch_size_limit: {{\"*\": 5}}\n  merge_queue:\n    strategy: {{\"*\": {strategy}}}\n    flake_retries: {{\"*\": 1}}\n    ci_capacity: {{\"*\": 6}}"
    ))
}

fn controller(github: &Arc<FakeGitHub>, store: &Arc<SqliteStore>, cfg: &Arc<Config>) -> Controller {
    Controller::new(
        github.clone(),
        store.clone(),
        prow_jobs::config::ConfigHandle::fixed(prow_config::ConfigSnapshot::from_shared(
            cfg.clone(),
            Default::default(),
        )),
        Arc::new(Stopped),
    )
}

/// A CI that runs each job for two syncs: a job fails when it tests a broken PR (they break
/// `e2e`), and the first `unit` job testing `flaky` fails once.
struct Ci {
    bad: BTreeSet<u64>,
    flaky: u64,
    flaked: Option<String>,
    started: BTreeMap<String, usize>,
}

impl Ci {
    fn new(bad: &[u64], flaky: u64) -> Self {
        Ci {
            bad: bad.iter().copied().collect(),
            flaky,
            flaked: None,
            started: BTreeMap::new(),
        }
    }

    /// Ends every job that has run for two syncs; returns how many it ended.
    async fn tick(&mut self, store: &dyn JobStore, round: usize) -> usize {
        let mut ended = 0;
        for mut job in jobs(store).await {
            if !matches!(state(&job), ProwJobState::Triggered | ProwJobState::Pending) {
                continue;
            }
            let name = job.metadata.name.clone().unwrap_or_default();
            let since = *self.started.entry(name.clone()).or_insert(round);
            if round < since + 2 {
                continue;
            }
            let tested = pulls(&job);
            let broken = job.spec.job == "e2e" && tested.iter().any(|p| self.bad.contains(p));
            let flake =
                job.spec.job == "unit" && self.flaked.is_none() && tested.contains(&self.flaky);
            if flake {
                self.flaked = Some(name.clone());
            }
            let status = job.status.get_or_insert_with(Default::default);
            status.state = if broken || flake {
                ProwJobState::Failure
            } else {
                ProwJobState::Success
            };
            status.completion_time = Some(Time(Stopped.now()));
            status.url = format!("https://prow.example/view/{name}");
            store.update(job).await.unwrap();
            ended += 1;
        }
        ended
    }
}

/// One queue run as the store holds it.
#[derive(Debug)]
struct StoredRun {
    base: String,
    pulls: Vec<(u64, String)>,
    jobs: BTreeSet<String>,
    passed: bool,
}

fn stored_runs(all: &[ProwJob]) -> Vec<StoredRun> {
    let mut runs: BTreeMap<String, StoredRun> = BTreeMap::new();
    for job in all {
        let Some(run) = job
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(RUN_ANNOTATION))
        else {
            continue;
        };
        let refs = job.spec.refs.as_ref().unwrap();
        let entry = runs.entry(run.clone()).or_insert_with(|| StoredRun {
            base: refs.base_sha.clone(),
            pulls: refs
                .pulls
                .iter()
                .map(|p| (p.number, p.sha.clone()))
                .collect(),
            jobs: BTreeSet::new(),
            passed: true,
        });
        entry.jobs.insert(job.spec.job.clone());
        entry.passed &= state(job) == ProwJobState::Success;
    }
    runs.into_values().collect()
}

/// Checks every merge against the runs in the store: returns the merges no passing run tested
/// exactly on their landing base, and the bases runs were started on.
async fn untested_merges(
    github: &FakeGitHub,
    store: &dyn JobStore,
) -> (Vec<String>, BTreeSet<String>) {
    let merged = merges(github);
    let runs = stored_runs(&jobs(store).await);
    // The fake names the commit a merge makes after the PR and its head.
    let landing = |i: usize| -> String {
        if i == 0 {
            "base-0".to_owned()
        } else {
            format!("merge-{}-{}", merged[i - 1].0, merged[i - 1].1)
        }
    };
    let mut untested = Vec::new();
    for (i, (n, sha)) in merged.iter().enumerate() {
        let tested = runs.iter().any(|r| {
            let Some(at) = r.pulls.iter().position(|(p, s)| p == n && s == sha) else {
                return false;
            };
            r.passed
                && r.jobs.contains("unit")
                && r.jobs.contains("e2e")
                && at <= i
                && merged[i - at..i]
                    .iter()
                    .zip(&r.pulls[..at])
                    .all(|((mn, ms), (pn, ps))| mn == pn && ms == ps)
                && landing(i - at) == r.base
        });
        if !tested {
            untested.push(format!("#{n} onto {}", landing(i)));
        }
    }
    (untested, runs.into_iter().map(|r| r.base).collect())
}

fn labels_of(github: &FakeGitHub, n: u64) -> Vec<String> {
    github
        .state()
        .issues
        .get(&(ORG.into(), REPO.into(), n))
        .map(|i| i.labels.iter().map(|l| l.name.clone()).collect())
        .unwrap_or_default()
}

/// Lets CI and tide take turns until `done` holds; returns the next round.
async fn sync_until(
    tide: &Controller,
    ci: &mut Ci,
    store: &dyn JobStore,
    mut round: usize,
    what: &str,
    done: impl Fn() -> bool,
) -> usize {
    while !done() {
        ci.tick(store, round).await;
        tide.sync_once().await.unwrap();
        round += 1;
        assert!(round < MAX_SYNCS, "{what} never happened");
    }
    round
}

/// What a scenario did.
struct Outcome {
    merged: Vec<u64>,
    untested: Vec<String>,
    /// The controller's own count of untested merges.
    flagged: u64,
    syncs: usize,
    runs: usize,
    bases: BTreeSet<String>,
    adopted: u64,
    stale: u64,
    flaked: Option<String>,
}

/// Twenty PRs arrive in four waves; #7 and #14 are broken; the first `unit` job testing #3
/// flakes. The controller is replaced by a new one (same store, same GitHub) after
/// `restart_at` syncs.
async fn scenario(strategy: &str, restart_at: usize) -> Outcome {
    let github = Arc::new(FakeGitHub::new("tide-bot"));
    set_base(&github, "base-0");
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let cfg = queue_config(strategy);
    let mut tide = controller(&github, &store, &cfg);
    let mut ci = Ci::new(&[7, 14], 3);
    let mut adopted = 0;
    let mut stale = 0;
    let mut arrived = 0;
    let mut flagged = 0;
    let mut syncs = 0;
    for round in 0..MAX_SYNCS {
        if round % 3 == 0 && arrived < 20 {
            for n in arrived + 1..=arrived + 5 {
                add_pr(&github, n, &["lgtm"]);
            }
            arrived += 5;
        }
        ci.tick(store.as_ref(), round).await;
        if round == restart_at {
            stale += tide.stats().stale_results;
            flagged += tide.stats().untested_merges;
            tide = controller(&github, &store, &cfg);
        }
        tide.sync_once().await.unwrap();
        syncs += 1;
        adopted = adopted.max(tide.stats().runs_adopted);
        let done = merges(&github).len() == 18
            && [7, 14]
                .iter()
                .all(|n| labels_of(&github, *n).contains(&LABEL.to_owned()));
        if done {
            break;
        }
    }
    stale += tide.stats().stale_results;
    flagged += tide.stats().untested_merges;
    let (untested, bases) = untested_merges(&github, store.as_ref()).await;
    Outcome {
        merged: merges(&github).into_iter().map(|(n, _)| n).collect(),
        untested,
        flagged,
        syncs,
        runs: stored_runs(&jobs(store.as_ref()).await).len(),
        bases,
        adopted,
        stale,
        flaked: ci.flaked,
    }
}

fn check_outcome(out: &Outcome, strategy: &str) {
    let mut merged = out.merged.clone();
    merged.sort_unstable();
    let good: Vec<u64> = (1..=20).filter(|n| *n != 7 && *n != 14).collect();
    assert_eq!(
        merged, good,
        "{strategy}: every good PR merges once, no bad one"
    );
    assert_eq!(out.untested, Vec::<String>::new(), "{strategy}");
    assert_eq!(out.flagged, 0, "{strategy}");
    println!(
        "{strategy}: {} merged in {} syncs, {} runs, {} adopted after the restart, {} stale passes retested",
        out.merged.len(),
        out.syncs,
        out.runs,
        out.adopted,
        out.stale
    );
    assert!(out.flaked.is_some(), "{strategy}: the flake never happened");
    // Runs after the queue's own merges were started on the bases those merges made.
    assert!(
        out.bases.iter().any(|b| b.starts_with("merge-")),
        "{strategy}: {:?}",
        out.bases
    );
    assert!(out.adopted > 0, "{strategy}: nothing adopted");
}

#[tokio::test(start_paused = true)]
async fn speculative_queue_merges_every_good_pr_tested_on_its_landing_base_across_a_restart() {
    let out = scenario("speculative", 7).await;
    check_outcome(&out, "speculative");
}

#[tokio::test(start_paused = true)]
async fn bisect_queue_merges_every_good_pr_tested_on_its_landing_base_across_a_restart() {
    let out = scenario("bisect", 7).await;
    check_outcome(&out, "bisect");
    // Parts tested side by side: once one merged, the others' passes were stale and were
    // tested again on the new base.
    assert!(out.stale > 0);
}

#[tokio::test(start_paused = true)]
async fn serial_queue_merges_every_good_pr_tested_on_its_landing_base_across_a_restart() {
    let out = scenario("serial", 7).await;
    check_outcome(&out, "serial");
}

/// Restarting keeps the runs in flight (none is started twice), and an ejected PR stays out
/// with its label across a restart until its head changes.
#[tokio::test(start_paused = true)]
async fn restart_adopts_runs_in_flight_and_keeps_the_ejected_pr_out_until_it_changes() {
    let github = Arc::new(FakeGitHub::new("tide-bot"));
    set_base(&github, "base-0");
    for n in 1..=6 {
        add_pr(&github, n, &["lgtm"]);
    }
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let cfg = queue_config("speculative");
    let tide = controller(&github, &store, &cfg);
    tide.sync_once().await.unwrap();
    let before = jobs(store.as_ref()).await.len();
    assert!(before > 0);

    let tide = controller(&github, &store, &cfg);
    tide.sync_once().await.unwrap();
    assert_eq!(
        jobs(store.as_ref()).await.len(),
        before,
        "the restarted controller starts nothing the old one had running"
    );
    assert!(tide.stats().runs_adopted > 0);

    // #4 is broken: run until it is ejected, then restart again.
    let mut ci = Ci::new(&[4], 0);
    let mut round = sync_until(&tide, &mut ci, store.as_ref(), 1, "#4 ejected", || {
        labels_of(&github, 4).contains(&LABEL.to_owned())
    })
    .await;
    let comments = comments_on(&github, 4);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].contains("Failing jobs: e2e."),
        "{}",
        comments[0]
    );
    assert!(
        comments[0].contains("`e2e` failure: https://prow.example/view/"),
        "the comment links the failed job: {}",
        comments[0]
    );
    assert!(comments[0].contains(LABEL));
    round = sync_until(
        &tide,
        &mut ci,
        store.as_ref(),
        round,
        "good PRs merged",
        || merges(&github).len() == 5,
    )
    .await;
    let tide = controller(&github, &store, &cfg);
    for _ in 0..3 {
        ci.tick(store.as_ref(), round).await;
        tide.sync_once().await.unwrap();
        round += 1;
    }
    let runs_with_4 = |all: &[ProwJob], sha: &str| {
        all.iter()
            .filter(|j| {
                j.spec
                    .refs
                    .as_ref()
                    .is_some_and(|r| r.pulls.iter().any(|p| p.number == 4 && p.sha == sha))
            })
            .count()
    };
    let tested_before = runs_with_4(&jobs(store.as_ref()).await, "sha-4");
    for _ in 0..3 {
        ci.tick(store.as_ref(), round).await;
        tide.sync_once().await.unwrap();
        round += 1;
    }
    assert_eq!(
        runs_with_4(&jobs(store.as_ref()).await, "sha-4"),
        tested_before,
        "the ejected head is not tested again after the restart"
    );
    assert!(labels_of(&github, 4).contains(&LABEL.to_owned()));

    // The author pushes a fix: the label goes, the new head is tested and merges.
    {
        let mut st = github.state();
        st.pulls
            .get_mut(&(ORG.into(), REPO.into(), 4))
            .unwrap()
            .head
            .sha = "sha-4-fixed".into();
        st.statuses
            .entry((ORG.into(), REPO.into(), "sha-4-fixed".into()))
            .or_default()
            .extend([status("unit", "success"), status("e2e", "success")]);
    }
    ci.bad.clear();
    sync_until(
        &tide,
        &mut ci,
        store.as_ref(),
        round,
        "the fixed #4 merged",
        || merges(&github).iter().any(|(n, _)| *n == 4),
    )
    .await;
    assert!(!labels_of(&github, 4).contains(&LABEL.to_owned()));
    assert!(merges(&github).contains(&(4, "sha-4-fixed".into())));
    let (untested, _) = untested_merges(&github, store.as_ref()).await;
    assert_eq!(untested, Vec::<String>::new());
}

/// The check above has teeth: `unsafe-bisect` merges parts that passed side by side after the
/// base moved, and both the check and the controller's own audit catch it.
#[tokio::test(start_paused = true)]
async fn unsafe_bisect_merges_untested_sets_and_is_caught() {
    let out = scenario("unsafe-bisect", usize::MAX).await;
    assert!(!out.untested.is_empty(), "no untested merge to catch");
    assert!(out.flagged > 0, "the controller's audit missed them");
}
