//! The assign plugin: `/assign`, `/unassign`, `/cc`, `/uncc`, who GitHub accepts, the refusals
//! and a comment end to end.

use std::collections::BTreeSet;

use prow_plugins::plugins::assign;
use prow_server::hook::Options;

use crate::plugins_common::summary;
use crate::support::{self, Server, comment, comments, github};

#[test]
fn commands_name_users_or_the_commenter() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("/assign", &["me"], &[]),
        ("/ASSIGN", &["me"], &[]),
        ("/unassign", &[], &["me"]),
        ("/assign @alice bob", &["alice", "bob"], &[]),
        ("/assign @alice\n/unassign alice", &[], &["alice"]),
        ("/assign @alice\n/unassign @bob", &["alice"], &["bob"]),
        ("/assign  alice", &[], &[]),
        ("/assignee", &[], &[]),
        ("please /assign", &[], &[]),
        ("  /assign", &[], &[]),
        // Upstream reads the comment as it is: a fenced command counts.
        ("```\n/assign\n```", &["me"], &[]),
        // Upstream compares the prefix with "un" exactly, so `/UNASSIGN` assigns.
        ("/UNASSIGN", &["me"], &[]),
    ];
    for (body, add, remove) in cases {
        let got = assign::assignees(body, "me");
        assert_eq!(got.add, *add, "{body:?}");
        assert_eq!(got.remove, *remove, "{body:?}");
    }
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("/cc", &["me"], &[]),
        (
            "/cc @alice  @kubernetes/sig-testing",
            &["alice", "kubernetes/sig-testing"],
            &[],
        ),
        ("/uncc @alice", &[], &["alice"]),
        ("/assign @alice", &[], &[]),
    ];
    for (body, add, remove) in cases {
        let got = assign::reviewers(body, "me");
        assert_eq!(got.add, *add, "{body:?}");
        assert_eq!(got.remove, *remove, "{body:?}");
    }
}

#[test]
fn users_github_refuses_get_prows_reply() {
    let set = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    let mut facts = assign::Facts::default();
    facts.assignable = set(&["alice", "bob"]);
    facts.reviewable = set(&["alice"]);
    let run = |body: &str, is_pr: bool| {
        let request = assign::Request {
            org: "o",
            repo: "r",
            number: 1,
            user: "me",
            body,
            url: "https://x",
            is_pr,
        };
        summary(&assign::decide(
            &request,
            &assign::assignees(body, "me"),
            &if is_pr {
                assign::reviewers(body, "me")
            } else {
                Default::default()
            },
            &facts,
        ))
    };
    assert_eq!(run("/assign @Alice bob", true), ["assign Alice,bob"]);
    assert_eq!(run("/unassign @carol", false), ["unassign carol"]);
    assert_eq!(
        run("/assign alice carol", false),
        [
            "assign alice",
            "say @me: GitHub didn't allow me to assign the following users: carol."
        ]
    );
    assert_eq!(
        run("/cc alice bob\n/uncc dan", true),
        [
            "unrequest dan",
            "request alice",
            "say @me: GitHub didn't allow me to request PR reviews from the following users: bob."
        ]
    );
    // Issues have no reviewers.
    assert!(run("/cc alice", false).is_empty());
    let refusal = assign::assign_refused("o", &["carol".to_owned()]);
    assert!(refusal.contains("only [o members](https://github.com/orgs/o/people) with read permissions, repo collaborators and people who have commented on this issue/PR can be assigned."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assign_and_cc_end_to_end() {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [assign]\n";
    let server = Server::start_with(
        github("outsider"),
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server
        .send(
            "issue_comment",
            &comment(
                "/assign @member stranger\n/cc reviewer outsider",
                "outsider",
                "outsider",
            ),
        )
        .await;
    server.metrics.wait_processed(1).await;
    {
        let state = server.github.state();
        let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
        let assignees: Vec<&str> = state.issues[&key]
            .assignees
            .iter()
            .map(|u| u.login.as_str())
            .collect();
        assert_eq!(assignees, ["member"]);
        assert_eq!(state.review_requests[&key], ["reviewer"]);
    }
    let replies = comments(&server.github);
    assert_eq!(replies.len(), 2, "{replies:#?}");
    assert!(
        replies[0].starts_with(
            "@outsider: GitHub didn't allow me to assign the following users: stranger."
        )
    );
    assert!(replies[1].starts_with("@outsider: GitHub didn't allow me to request PR reviews from the following users: outsider."));

    server
        .send(
            "issue_comment",
            &comment(
                "/unassign member\n/uncc reviewer\n/assign",
                "outsider",
                "outsider",
            ),
        )
        .await;
    server.metrics.wait_processed(2).await;
    {
        let state = server.github.state();
        let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
        let assignees: Vec<&str> = state.issues[&key]
            .assignees
            .iter()
            .map(|u| u.login.as_str())
            .collect();
        assert_eq!(assignees, ["outsider"], "the author may be assigned");
        assert!(state.review_requests[&key].is_empty());
    }
    server.shutdown().await;
}
