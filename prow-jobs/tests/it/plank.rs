//! plank's scheduling decisions: concurrency limits held under a burst of 200 triggered jobs,
//! queue capacities, and older presubmit runs superseded by newer ones.

use proptest::prelude::*;
use prow_core::{ProwJob, ProwJobState};
use prow_jobs::plank::{can_start, superseded};
use serde_json::json;

/// A triggered kubernetes-agent job `job` named `name`, created `created` seconds into the day.
fn triggered(name: &str, job: &str, max: i64, queue: &str, created: u32) -> ProwJob {
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": name, "creationTimestamp": format!("2026-11-23T{:02}:{:02}:{:02}Z", created / 3600, created / 60 % 60, created % 60)},
        "spec": {"type": "periodic", "job": job, "agent": "kubernetes", "max_concurrency": max, "job_queue_name": queue},
        "status": {"state": "triggered", "startTime": "2026-11-23T00:00:00Z"},
    }))
    .expect("prowjob")
}

fn plank(yaml: &str) -> prow_config::prow::Plank {
    serde_yaml::from_str(yaml).expect("plank parses")
}

fn set_state(job: &mut ProwJob, state: ProwJobState) {
    if let Some(status) = job.status.as_mut() {
        status.state = state;
    }
}

fn pending(jobs: &[ProwJob], keep: impl Fn(&ProwJob) -> bool) -> usize {
    jobs.iter()
        .filter(|j| j.status.as_ref().map(|s| s.state) == Some(ProwJobState::Pending) && keep(j))
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// 200 triggered jobs over five job names (two with their own limit, two in a queue); plank
    /// passes over them in a random order while random running jobs finish. Never more run
    /// than allowed, and every job eventually runs. (Creation order is a priority, as in Prow, not
    /// a strict order: a newer job may start while fewer than its limit are ahead of it.)
    #[test]
    fn proptest_a_burst_of_200_never_exceeds_the_limits(seed in any::<u64>()) {
        let config = plank("max_concurrency: 10\njob_queue_capacities: {gpu: 4, stopped: 0}\n");
        let specs = [("a", 3, ""), ("b", 0, ""), ("c", 2, ""), ("d", 0, "gpu"), ("e", 0, "gpu")];
        let mut jobs: Vec<ProwJob> = (0..200u32)
            .map(|i| {
                let (job, max, queue) = specs[i as usize % specs.len()];
                triggered(&format!("{job}-{i:03}"), job, max, queue, i)
            })
            .collect();
        let mut rng = seed;
        let mut next = move |n: usize| {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (rng >> 33) as usize % n.max(1)
        };
        let mut started: Vec<String> = Vec::new();
        for _round in 0..10_000 {
            if started.len() == jobs.len() && pending(&jobs, |_| true) == 0 {
                break;
            }
            // Some running jobs finish.
            for job in &mut jobs {
                if job.status.as_ref().map(|s| s.state) == Some(ProwJobState::Pending) && next(3) == 0 {
                    set_state(job, ProwJobState::Success);
                }
            }
            // plank looks at the triggered jobs in some order.
            let mut order: Vec<usize> = (0..jobs.len()).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, next(i + 1));
            }
            for i in order {
                if jobs[i].status.as_ref().map(|s| s.state) != Some(ProwJobState::Triggered) {
                    continue;
                }
                if can_start(&jobs[i], &jobs, &config).expect("known queue") {
                    set_state(&mut jobs[i], ProwJobState::Pending);
                    started.push(jobs[i].metadata.name.clone().unwrap_or_default());
                    prop_assert!(pending(&jobs, |_| true) <= 10);
                    prop_assert!(pending(&jobs, |j| j.spec.job == "a") <= 3);
                    prop_assert!(pending(&jobs, |j| j.spec.job == "c") <= 2);
                    prop_assert!(pending(&jobs, |j| j.spec.job_queue_name == "gpu") <= 4);
                }
            }
        }
        prop_assert_eq!(started.len(), 200, "every job ran");
    }
}

#[test]
fn queues_stop_limit_or_are_unknown() {
    let config = plank("job_queue_capacities: {stopped: 0, open: -1}\n");
    let job = |queue| triggered("x", "x", 0, queue, 0);
    assert_eq!(can_start(&job("stopped"), &[], &config), Ok(false));
    assert_eq!(can_start(&job("open"), &[], &config), Ok(true));
    assert_eq!(
        can_start(&job("missing"), &[], &config),
        Err("failed to match queue name 'missing' with Plank configuration".to_owned())
    );
}

fn presubmit(name: &str, job: &str, pull: u64, sha: &str, start: &str, done: bool) -> ProwJob {
    let mut status = json!({"state": "pending", "startTime": start});
    if done {
        status["state"] = "success".into();
        status["completionTime"] = start.into();
    }
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": name},
        "spec": {"type": "presubmit", "job": job, "refs": {"org": "o", "repo": "r", "base_ref": "main", "pulls": [{"number": pull, "author": "a", "sha": sha}]}},
        "status": status,
    }))
    .expect("prowjob")
}

#[test]
fn a_newer_push_supersedes_older_runs_of_the_same_job_on_the_same_pull() {
    let jobs = [
        presubmit("old", "unit", 1, "aaa", "2026-11-23T10:00:00Z", false),
        presubmit("new", "unit", 1, "bbb", "2026-11-23T10:05:00Z", false),
        presubmit(
            "other-pull",
            "unit",
            2,
            "ccc",
            "2026-11-23T09:00:00Z",
            false,
        ),
        presubmit("other-job", "lint", 1, "aaa", "2026-11-23T09:00:00Z", false),
        presubmit("finished", "unit", 1, "000", "2026-11-23T08:00:00Z", true),
    ];
    let cancelled: Vec<&str> = superseded(&jobs)
        .iter()
        .map(|j| j.metadata.name.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(cancelled, ["old"]);
}
