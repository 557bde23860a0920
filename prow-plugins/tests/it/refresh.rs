//! refresh's choice of statuses (through the real hook: prow-server's `plugins_refresh`).

use prow_core::ProwJob;
use prow_github::types::StatusState;
use prow_plugins::Action;
use prow_plugins::plugins::refresh;
use serde_json::json;

/// A presubmit `job` run `name` of PR `number` at `sha`, in `state`, started at `start`.
fn job(name: &str, job: &str, number: u64, sha: &str, state: &str, start: &str) -> ProwJob {
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": name},
        "spec": {"type": "presubmit", "job": job, "report": true, "context": job,
                 "refs": {"org": "o", "repo": "r", "base_ref": "main", "base_sha": "base",
                          "pulls": [{"number": number, "author": "a", "sha": sha}]}},
        "status": {"state": state, "startTime": start, "description": format!("Job {state}."), "url": format!("https://prow/{name}")},
    }))
    .unwrap()
}

#[test]
fn refresh_sets_the_latest_status_of_each_job_at_the_head() {
    assert!(refresh::requested("/refresh"));
    assert!(refresh::requested("/REFRESH  "));
    assert!(!refresh::requested("/refresh now"));
    assert!(!refresh::requested(" /refresh"));
    let mut unreported = job(
        "u",
        "unit-silent",
        1,
        "head",
        "success",
        "2026-01-01T10:00:00Z",
    );
    unreported.spec.report = false;
    let jobs = vec![
        job("a1", "unit", 1, "head", "failure", "2026-01-01T10:00:00Z"),
        job("a2", "unit", 1, "head", "success", "2026-01-01T11:00:00Z"),
        job("b1", "e2e", 1, "head", "pending", "2026-01-01T10:00:00Z"),
        job("c1", "lint", 1, "old", "failure", "2026-01-01T12:00:00Z"),
        job(
            "d1",
            "other-pr",
            2,
            "head",
            "failure",
            "2026-01-01T12:00:00Z",
        ),
        unreported,
    ];
    let got: Vec<(String, StatusState, Option<String>)> =
        refresh::statuses(&jobs, 1, "head", &Default::default())
            .into_iter()
            .map(|a| match a {
                Action::Status { sha, status, .. } => {
                    assert_eq!(sha, "head");
                    (status.context, status.state, status.target_url)
                }
                other => panic!("{other:?}"),
            })
            .collect();
    assert_eq!(
        got,
        [
            (
                "e2e".to_owned(),
                StatusState::Pending,
                Some("https://prow/b1".to_owned())
            ),
            (
                "unit".to_owned(),
                StatusState::Success,
                Some("https://prow/a2".to_owned())
            ),
        ]
    );
}
