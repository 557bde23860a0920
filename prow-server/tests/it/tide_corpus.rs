//! The tide controller over kubernetes/test-infra's real configuration (queries, context
//! options, batch size limits, thousands of presubmits), with the fake GitHub.

use std::sync::Arc;

use prow_core::ProwJobType;
use prow_github::fake::FakeGitHub;
use prow_github::types::{PullRequest, Status};
use prow_jobs::store::{JobStore, ListParams, SqliteStore};
use prow_server::tide::Controller;
use serde_json::json;

use super::support::corpus;
use super::tide::Stopped;

const ORG: &str = "kubernetes";
const REPO: &str = "kubernetes";
const BRANCH: &str = "release-1.36";

#[tokio::test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
async fn kubernetes_test_infra_config_batches_a_release_branch() {
    let dir = corpus();
    let root = dir.join("k8s-test-infra/config");
    let cfg = prow_config::load(&prow_config::LoadOptions::new(
        root.join("prow/config.yaml"),
        Some(root.join("jobs")),
    ))
    .unwrap_or_else(|e| panic!("k8s config: {e}"));
    // The contexts a PR to the release branch needs: always-run, reported, non-optional jobs.
    let mut required: Vec<String> = cfg.jobs.presubmits[&format!("{ORG}/{REPO}")]
        .iter()
        .filter(|j| j.always_run && j.context_required() && j.could_run(BRANCH))
        .map(|j| j.context.clone())
        .collect();
    required.sort();
    required.dedup();
    assert!(!required.is_empty());

    let github = Arc::new(FakeGitHub::new("k8s-ci-robot"));
    for n in [101, 102] {
        let pr: PullRequest = serde_json::from_value(json!({
            "id": n, "number": n, "title": format!("Backport {n}"), "state": "open",
            "user": {"login": "alice"}, "mergeable": true,
            "labels": [{"name": "lgtm"}, {"name": "approved"}, {"name": "cncf-cla: yes"}],
            "head": {"ref": format!("backport-{n}"), "sha": format!("sha-{n}")},
            "base": {"ref": BRANCH, "sha": "base-0"},
        }))
        .unwrap();
        github.add_pull_request(ORG, REPO, pr);
        let mut state = github.state();
        let statuses = state
            .statuses
            .entry((ORG.into(), REPO.into(), format!("sha-{n}")))
            .or_default();
        for context in &required {
            statuses.push(
                serde_json::from_value::<Status>(json!({"context": context, "state": "success"}))
                    .unwrap(),
            );
        }
    }
    github
        .state()
        .branches
        .insert((ORG.into(), REPO.into(), BRANCH.into()), "base-0".into());
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let cfg = Arc::new(cfg);
    let queries = cfg.prow.tide.queries.len() as u64;
    let tide = Controller::new(
        github.clone(),
        store.clone(),
        prow_jobs::config::ConfigHandle::fixed(prow_config::ConfigSnapshot::from_shared(
            cfg,
            Default::default(),
        )),
        Arc::new(Stopped),
    );
    tide.sync_once().await.unwrap();
    // One search per query, plus one for the blocker label.
    assert_eq!(github.state().calls["search_issues"], queries + 1);
    let pools = tide.pools().pools;
    assert_eq!(pools.len(), 1, "{pools:?}");
    assert_eq!(pools[0].action, "TRIGGER_BATCH", "{pools:?}");
    let jobs = store.list(&ListParams::default()).await.unwrap();
    let mut contexts: Vec<String> = jobs.iter().map(|j| j.spec.context.clone()).collect();
    contexts.sort();
    assert_eq!(contexts, required, "one batch job per required context");
    for job in &jobs {
        assert_eq!(job.spec.job_type, ProwJobType::Batch);
        let refs = job.spec.refs.as_ref().unwrap();
        assert_eq!(refs.base_ref, BRANCH);
        assert_eq!(refs.pulls.len(), 2);
    }
}
