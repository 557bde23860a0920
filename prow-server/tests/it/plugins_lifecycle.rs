//! The lifecycle plugin: `/close`, `/reopen`, `/[remove-]lifecycle`, who may close and reopen,
//! and the commands end to end.

use prow_plugins::plugins::lifecycle;
use prow_server::hook::Options;

use crate::plugins_common::{request, summary};
use crate::support::{self, Server, comment, comments, github, labels};

fn facts(
    author: bool,
    collaborator: bool,
    pr: bool,
    state: &str,
    labels: &[&str],
) -> lifecycle::Facts {
    let mut f = lifecycle::Facts::default();
    f.is_author = author;
    f.collaborator = collaborator;
    f.is_pr = pr;
    f.state = state.to_owned();
    f.labels = labels.iter().map(|s| (*s).to_owned()).collect();
    f
}

fn run(body: &str, f: &lifecycle::Facts) -> Vec<String> {
    summary(&lifecycle::decide(
        &request(body),
        &lifecycle::requested(body),
        f,
    ))
}

#[test]
fn who_may_close_and_reopen() {
    let cases: Vec<(&str, lifecycle::Facts, Vec<&str>)> = vec![
        (
            "/close",
            facts(true, false, false, "open", &[]),
            vec!["close", "say @u: Closing this issue."],
        ),
        (
            "/close",
            facts(false, true, true, "open", &[]),
            vec!["close", "say @u: Closed this PR."],
        ),
        (
            "/close not-planned",
            facts(true, false, false, "open", &[]),
            vec![
                "close not-planned",
                "say @u: Closing this issue, marking it as \"Not Planned\".",
            ],
        ),
        (
            "/close not-planned",
            facts(true, false, true, "open", &[]),
            vec!["say @u: PRs cannot be closed as Not Planned."],
        ),
        (
            "/close",
            facts(false, false, false, "open", &[]),
            vec![
                "say @u: You can't close an active issue/PR unless you authored it or you are a collaborator.",
            ],
        ),
        // Anyone may close what is stale or rotten.
        (
            "/close",
            facts(false, false, false, "open", &["lifecycle/rotten"]),
            vec!["close", "say @u: Closing this issue."],
        ),
        ("/close", facts(true, false, false, "closed", &[]), vec![]),
        (
            "/reopen",
            facts(true, false, false, "closed", &[]),
            vec!["reopen", "say @u: Reopened this issue."],
        ),
        (
            "/reopen",
            facts(false, true, true, "closed", &[]),
            vec!["reopen", "say @u: Reopened this PR."],
        ),
        (
            "/reopen",
            facts(false, false, false, "closed", &[]),
            vec![
                "say @u: You can't reopen an issue/PR unless you authored it or you are a collaborator.",
            ],
        ),
        ("/reopen", facts(true, false, false, "open", &[]), vec![]),
        (
            "/close please",
            facts(true, false, false, "open", &[]),
            vec![],
        ),
    ];
    for (body, f, want) in cases {
        assert_eq!(run(body, &f), want, "{body:?} {f:?}");
    }
}

#[test]
fn lifecycle_labels_replace_each_other() {
    let cases: Vec<(&str, lifecycle::Facts, Vec<&str>)> = vec![
        (
            "/lifecycle frozen",
            facts(false, false, false, "open", &[]),
            vec!["add lifecycle/frozen"],
        ),
        (
            "/lifecycle stale",
            facts(false, false, false, "open", &["lifecycle/frozen", "bug"]),
            vec!["remove lifecycle/frozen", "add lifecycle/stale"],
        ),
        (
            "/lifecycle stale",
            facts(false, false, false, "open", &["lifecycle/stale"]),
            vec![],
        ),
        (
            "/remove-lifecycle stale",
            facts(false, false, false, "open", &["lifecycle/stale"]),
            vec!["remove lifecycle/stale"],
        ),
        (
            "/remove-lifecycle stale",
            facts(false, false, false, "open", &[]),
            vec![],
        ),
        (
            "/lifecycle frozen",
            facts(false, false, true, "open", &[]),
            vec!["say @u: The `lifecycle/frozen` label cannot be applied to Pull Requests."],
        ),
        // The label is named as written (GitHub applies the existing label whatever the
        // case), and upstream's frozen check compares exactly, so `Frozen` is not refused.
        (
            "/LIFECYCLE Rotten",
            facts(false, false, true, "open", &[]),
            vec!["add lifecycle/Rotten"],
        ),
        (
            "/lifecycle Frozen",
            facts(false, false, true, "open", &[]),
            vec!["add lifecycle/Frozen"],
        ),
        (
            "/lifecycle dead",
            facts(false, false, false, "open", &[]),
            vec![],
        ),
    ];
    for (body, f, want) in cases {
        assert_eq!(run(body, &f), want, "{body:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_and_reopen_end_to_end() {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [lifecycle]\n";
    let server = Server::start_with(
        github(support::ORG),
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    let state = |server: &Server| {
        server.github.state().pulls[&(support::ORG.to_owned(), support::REPO.to_owned(), 2)]
            .state
            .clone()
    };
    server
        .send(
            "issue_comment",
            &comment("/close", "stranger", support::ORG),
        )
        .await;
    server
        .send(
            "issue_comment",
            &comment("/lifecycle stale", "stranger", support::ORG),
        )
        .await;
    server.metrics.wait_processed(2).await;
    assert_eq!(state(&server), "open");
    assert_eq!(labels(&server.github), ["lifecycle/stale"]);
    assert!(
        comments(&server.github)[0].starts_with("@stranger: You can't close an active issue/PR")
    );

    server
        .send(
            "issue_comment",
            &comment("/close", "reviewer", support::ORG),
        )
        .await;
    server.metrics.wait_processed(3).await;
    assert_eq!(state(&server), "closed");
    assert!(comments(&server.github)[1].starts_with("@reviewer: Closed this PR."));

    let mut reopen = comment("/reopen", support::ORG, support::ORG);
    reopen["issue"]["state"] = "closed".into();
    server.send("issue_comment", &reopen).await;
    server.metrics.wait_processed(4).await;
    assert_eq!(state(&server), "open");
    assert!(comments(&server.github)[2].starts_with("@Codertocat: Reopened this PR."));
    server.shutdown().await;
}
