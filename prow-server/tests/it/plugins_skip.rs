//! The skip plugin: which failed statuses become "Skipped", and `/skip` end to end.

use prow_github::types::{CombinedStatus, Status, StatusState};
use prow_plugins::plugins::skip;
use prow_server::hook::Options;

use crate::support::{self, HEAD, Server, comment, github};

fn status(context: &str, state: StatusState) -> Status {
    Status {
        state,
        context: context.to_owned(),
        target_url: None,
        description: None,
    }
}

fn job(context: &str, required: bool, triggered: bool) -> skip::Job {
    skip::Job {
        context: context.to_owned(),
        required,
        triggered,
    }
}

#[test]
fn only_optional_failed_contexts_are_skipped() {
    let combined = CombinedStatus {
        sha: "abc".into(),
        state: StatusState::Failure,
        statuses: vec![
            status("unit", StatusState::Failure),
            status("lint", StatusState::Failure),
            status("docs", StatusState::Success),
            status("e2e", StatusState::Pending),
            status("flaky", StatusState::Error),
        ],
    };
    let jobs = [
        job("unit", true, false),
        job("lint", false, false),
        job("docs", false, false),
        job("e2e", false, false),
        job("flaky", false, true),
        job("absent", false, false),
    ];
    let contexts: Vec<(String, String)> = skip::decide("o", "r", "abc", &jobs, &combined)
        .into_iter()
        .map(|a| match a {
            prow_plugins::Action::Status { sha, status, .. } => {
                assert_eq!(status.state, StatusState::Success);
                assert_eq!(status.description.as_deref(), Some("Skipped"));
                (sha, status.context)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        contexts,
        [("abc".into(), "lint".into()), ("abc".into(), "e2e".into())]
    );
    let all_green = CombinedStatus {
        state: StatusState::Success,
        ..combined
    };
    assert!(skip::decide("o", "r", "abc", &jobs, &all_green).is_empty());
    assert!(skip::requested("/skip") && skip::requested("/SKIP ") && !skip::requested("/skip it"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_end_to_end() {
    let gh = github(support::ORG);
    {
        let mut state = gh.state();
        let statuses = state
            .statuses
            .entry((
                support::ORG.to_owned(),
                support::REPO.to_owned(),
                HEAD.to_owned(),
            ))
            .or_default();
        statuses.push(status("unit", StatusState::Failure));
        statuses.push(status("lint", StatusState::Failure));
    }
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [skip]\n";
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server
        .send("issue_comment", &comment("/skip", "stranger", support::ORG))
        .await;
    server.metrics.wait_processed(1).await;
    let combined = {
        use prow_github::GitHubClient;
        server
            .github
            .combined_status(support::ORG, support::REPO, HEAD)
            .await
            .unwrap()
    };
    let states: Vec<(String, StatusState, Option<String>)> = combined
        .statuses
        .into_iter()
        .map(|s| (s.context, s.state, s.description))
        .collect();
    assert_eq!(
        states,
        [
            (
                "lint".to_owned(),
                StatusState::Success,
                Some("Skipped".to_owned())
            ),
            ("unit".to_owned(), StatusState::Failure, None),
        ]
    );
    server.shutdown().await;
}
