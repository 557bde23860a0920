//! Commands in the description of a new pull request act as a comment would, as Prow's hook
//! turns the description into a generic comment event.

use prow_plugins::Action;
use prow_plugins::plugins::lgtm::OWN_PR;
use prow_plugins::plugins::trigger::{CANNOT_TRIGGER, without_duplicate_jobs};
use prow_server::hook::Options;

use crate::plugins_misc_support::InProcess;
use crate::support::{self, comments, github, job_names, labels};

const PLUGINS: &str = "plugins:\n  Codertocat/Hello-World:\n    plugins: [trigger, lgtm, hold]\n";

fn hook() -> InProcess {
    InProcess::start(
        github("member"),
        support::hook_config(support::CONFIG, PLUGINS),
        Options::default(),
        Vec::new(),
    )
}

fn opened_with(author: &str, body: &str) -> serde_json::Value {
    let mut event = support::opened(author);
    event["pull_request"]["body"] = body.into();
    event
}

#[tokio::test]
async fn test_in_a_trusted_description_runs_the_job_once() {
    let hook = hook();
    hook.deliver(
        "pull_request",
        &opened_with(
            "member",
            "Fixes the README.\n\n/test e2e\n/test unit\n/hold",
        ),
    )
    .await;
    // unit and lint run anyway; e2e only because the description asks; unit only once.
    assert_eq!(
        job_names(hook.store.as_ref()).await,
        ["e2e", "lint", "unit"]
    );
    assert_eq!(labels(&hook.github), ["do-not-merge/hold"]);
    hook.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_description_runs_nothing() {
    let hook = hook();
    hook.deliver("pull_request", &opened_with("stranger", "/test e2e"))
        .await;
    assert!(job_names(hook.store.as_ref()).await.is_empty());
    let said = comments(&hook.github);
    assert!(said.iter().any(|c| c.contains(CANNOT_TRIGGER)), "{said:?}");
    assert_eq!(labels(&hook.github), ["needs-ok-to-test"]);
    hook.shutdown().await;
}

#[tokio::test]
async fn lgtm_in_the_description_is_the_authors_own() {
    let hook = hook();
    hook.deliver("pull_request", &opened_with("member", "/lgtm"))
        .await;
    assert!(!labels(&hook.github).contains(&"lgtm".to_owned()));
    let said = comments(&hook.github);
    assert!(said.iter().any(|c| c.contains(OWN_PR)), "{said:?}");
    hook.shutdown().await;
}

#[tokio::test]
async fn an_edited_description_is_not_a_new_command() {
    let hook = hook();
    let mut edited = opened_with("member", "/test e2e");
    edited["action"] = "edited".into();
    hook.deliver("pull_request", &edited).await;
    assert!(job_names(hook.store.as_ref()).await.is_empty());
    hook.shutdown().await;
}

#[test]
fn duplicates_are_dropped_by_job_and_commit_only() {
    let job = |name: &str, sha: &str| {
        let pj: prow_core::ProwJob = serde_json::from_value(serde_json::json!({
            "apiVersion": "prow.k8s.io/v1",
            "kind": "ProwJob",
            "metadata": {"name": format!("{name}-{sha}")},
            "spec": {
                "type": "presubmit",
                "job": name,
                "refs": {"org": "o", "repo": "r", "base_ref": "main", "pulls": [{"number": 1, "author": "a", "sha": sha}]},
            },
        }))
        .unwrap();
        Action::CreateProwJob(Box::new(pj))
    };
    let names = |actions: Vec<Action>| -> Vec<String> {
        actions
            .iter()
            .map(|a| match a {
                Action::CreateProwJob(j) => j.spec.job.clone(),
                other => other.describe(),
            })
            .collect()
    };
    let already = [job("unit", "a")];
    assert_eq!(
        names(without_duplicate_jobs(
            &already,
            vec![job("unit", "a"), job("unit", "b"), job("e2e", "a")]
        )),
        ["unit", "e2e"]
    );
}
