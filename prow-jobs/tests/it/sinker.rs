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
