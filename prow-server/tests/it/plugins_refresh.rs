//! refresh through the real hook in external-plugin mode (`prow external-plugin refresh`):
//! `/refresh` sets the statuses of the pull request's latest presubmits again.

use prow_server::hook::Options;
use serde_json::json;

use crate::support::{self, HEAD, Server, comment, github};

fn job(name: &str, job: &str, sha: &str, state: &str, start: &str) -> prow_core::ProwJob {
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": name, "labels": {
            "prow.k8s.io/type": "presubmit", "prow.k8s.io/refs.org": support::ORG,
            "prow.k8s.io/refs.repo": support::REPO, "prow.k8s.io/refs.pull": "2"}},
        "spec": {"type": "presubmit", "job": job, "report": true, "context": job,
                 "refs": {"org": support::ORG, "repo": support::REPO, "base_ref": "master", "base_sha": "base",
                          "pulls": [{"number": 2, "author": "author", "sha": sha}]}},
        "status": {"state": state, "startTime": start, "description": "Job succeeded.", "url": format!("https://prow/{name}")},
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_sets_the_statuses_of_the_latest_presubmits_again() {
    let github = github("author");
    let mut options = Options::default();
    options.external_plugin = Some("refresh".to_owned());
    let server = Server::start_with(
        github.clone(),
        options,
        support::hook_config(support::CONFIG, "plugins: {}\n"),
    )
    .await;
    for j in [
        job("u1", "unit", HEAD, "failure", "2026-01-01T10:00:00Z"),
        job("u2", "unit", HEAD, "success", "2026-01-01T11:00:00Z"),
        job("old", "lint", "0ld", "failure", "2026-01-01T11:00:00Z"),
    ] {
        server.store.create(j).await.unwrap();
    }
    let statuses = |github: &prow_github::fake::FakeGitHub| {
        github
            .state()
            .statuses
            .get(&(
                support::ORG.to_owned(),
                support::REPO.to_owned(),
                HEAD.to_owned(),
            ))
            .map(|s| {
                s.iter()
                    .map(|s| (s.context.clone(), s.target_url.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    // Not a command: nothing set.
    let (status, _) = server
        .send(
            "issue_comment",
            &comment("please /refresh", "stranger", "author"),
        )
        .await;
    assert_eq!(status, 200);
    server.metrics.wait_processed(1).await;
    assert!(statuses(&github).is_empty());
    // Anyone may ask.
    let (status, _) = server
        .send("issue_comment", &comment("/refresh", "stranger", "author"))
        .await;
    assert_eq!(status, 200);
    server.metrics.wait_processed(2).await;
    assert_eq!(
        statuses(&github),
        [("unit".to_owned(), Some("https://prow/u2".to_owned()))]
    );
    server.shutdown().await;
}
