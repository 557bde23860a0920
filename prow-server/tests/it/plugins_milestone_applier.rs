//! The milestoneapplier plugin: when the configured milestone applies, and merges end to end.

use prow_github::types::Milestone;
use prow_plugins::plugins::milestoneapplier as applier;
use prow_server::hook::Options;

use crate::plugins_common::{plugin_config, summary};
use crate::support::{self, Server, github, opened};

fn milestones() -> Vec<Milestone> {
    vec![Milestone {
        number: 7,
        title: "v1.19".to_owned(),
        state: "open".to_owned(),
    }]
}

#[test]
fn merges_and_openings_against_other_branches_get_the_milestone() {
    // (action, merged, base, default) -> applies
    let cases = [
        ("closed", true, "master", "master", true),
        ("closed", false, "master", "master", false),
        ("opened", false, "master", "master", false),
        ("opened", false, "release-1.19", "master", true),
        ("synchronize", false, "release-1.19", "master", false),
        ("closed", true, "release-1.19", "master", true),
    ];
    for (action, merged, base, default, want) in cases {
        assert_eq!(
            applier::applies(action, merged, base, default),
            want,
            "{action} {merged} {base}"
        );
    }
    let config = plugin_config("milestone_applier:\n  o/r:\n    release-1.19: v1.19\n");
    assert_eq!(
        applier::configured(&config, "o", "r", "release-1.19"),
        Some("v1.19")
    );
    assert_eq!(applier::configured(&config, "o", "r", "master"), None);
    assert_eq!(
        summary(&[applier::decide("o", "r", 1, "release-1.19", "v1.19", &milestones()).unwrap()]),
        ["milestone 7"]
    );
    assert_eq!(
        applier::decide("o", "r", 1, "release-1.19", "v2", &milestones()).unwrap_err(),
        "The configured milestone v2 for release-1.19 branch does not exist in the o/r repo"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_sets_the_milestone_end_to_end() {
    let gh = github(support::ORG);
    gh.state().milestones.insert(
        (support::ORG.to_owned(), support::REPO.to_owned()),
        milestones(),
    );
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [milestoneapplier]\nmilestone_applier:\n  Codertocat/Hello-World:\n    master: v1.19\n";
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
    let mut payload = opened(support::ORG);
    server.send("pull_request", &payload).await;
    server.metrics.wait_processed(1).await;
    assert!(!server.github.state().issue_milestones.contains_key(&key));
    payload["action"] = "closed".into();
    payload["pull_request"]["merged"] = true.into();
    server.send("pull_request", &payload).await;
    server.metrics.wait_processed(2).await;
    assert_eq!(server.github.state().issue_milestones.get(&key), Some(&7));
    server.shutdown().await;
}
