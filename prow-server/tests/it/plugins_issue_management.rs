//! issue-management through the real hook (signed deliveries over HTTP, the fake GitHub): each
//! command family for someone allowed and someone who is not.

use prow_github::fake::FakeGitHub;
use prow_github::types::{Issue, Repo};
use prow_plugins::plugins::issue_management::{link_issue, pin_issue, transfer_issue};
use serde_json::Value;

use crate::plugins_added::{deliver, enabled, start};
use crate::support::{self, ORG, REPO, comment, github};

/// The node ID of issue #1 in GitHub's `issue_comment` example payload.
const ISSUE_NODE_ID: &str = "MDU6SXNzdWU0NDQ1MDAwNDE=";

/// A comment `body` by `user` on issue #1 (not a pull request), from GitHub's example.
fn on_issue(body: &str, user: &str) -> Value {
    let mut payload = comment(body, user, "author");
    payload["issue"]["number"] = 1.into();
    payload["issue"]
        .as_object_mut()
        .unwrap()
        .remove("pull_request");
    payload
}

/// The fake of `support::github` with issue #1 open, as the example payload has it.
fn with_issue() -> std::sync::Arc<FakeGitHub> {
    let github = github("author");
    github.add_issue(
        ORG,
        REPO,
        Issue {
            number: 1,
            state: "open".to_owned(),
            node_id: ISSUE_NODE_ID.to_owned(),
            ..Issue::default()
        },
    );
    github
}

/// The comments on `Codertocat/Hello-World#number`.
fn said(github: &FakeGitHub, number: u64) -> Vec<String> {
    github
        .state()
        .comments
        .get(&(ORG.to_owned(), REPO.to_owned(), number))
        .map(|cs| cs.iter().filter_map(|c| c.body.clone()).collect())
        .unwrap_or_default()
}

/// Whether `text` is the bot's reply to `user` saying `reply`.
fn replies(text: &str, user: &str, reply: &str) -> bool {
    text.starts_with(&format!("@{user}: {reply}\n\n<details>"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_issue_edits_the_fixes_line_for_org_members_only() {
    let github = with_issue();
    let server = start(github.clone(), &enabled("issue-management", "")).await;
    let body = |github: &FakeGitHub| {
        github.state().pulls[&(ORG.to_owned(), REPO.to_owned(), 2)]
            .body
            .clone()
            .unwrap_or_default()
    };
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/link-issue 1", "stranger", "author"),
    )
    .await;
    assert_eq!(body(&github), "");
    assert!(replies(
        &said(&github, 2)[0],
        "stranger",
        link_issue::NOT_MEMBER
    ));

    deliver(
        &server,
        2,
        "issue_comment",
        &comment("/link-issue 1 7", "member", "author"),
    )
    .await;
    assert_eq!(body(&github), "\nFixes #1");
    let reply = &said(&github, 2)[1];
    let head = format!(
        "@member: {}\n\nHowever, {}",
        link_issue::UPDATED,
        link_issue::ERRORS
    );
    assert!(reply.starts_with(&head), "{reply}");
    assert!(
        reply.contains("* Issue **#7** in repository **Codertocat/Hello-World** does not exist."),
        "{reply}"
    );

    deliver(
        &server,
        3,
        "issue_comment",
        &comment("/unlink-issue 1", "member", "author"),
    )
    .await;
    assert_eq!(body(&github), "");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_issue_pins_for_top_level_approvers_only() {
    let github = with_issue();
    {
        let mut state = github.state();
        state
            .branches
            .insert((ORG.into(), REPO.into(), "master".into()), "tip".into());
        state.files.insert(
            (ORG.into(), REPO.into(), "tip".into(), "OWNERS".into()),
            b"approvers:\n- Octocat\nreviewers:\n- member\n".to_vec(),
        );
    }
    let server = start(github.clone(), &enabled("issue-management", "")).await;
    let key = (ORG.to_owned(), REPO.to_owned(), 1);
    deliver(
        &server,
        1,
        "issue_comment",
        &on_issue("/pin-issue", "member"),
    )
    .await;
    assert!(github.state().pinned.is_empty());
    assert!(replies(
        &said(&github, 1)[0],
        "member",
        pin_issue::NOT_APPROVER
    ));

    deliver(
        &server,
        2,
        "issue_comment",
        &on_issue("/pin-issue", "octocat"),
    )
    .await;
    assert!(github.state().pinned.contains(&key));
    assert!(replies(
        &said(&github, 1)[1],
        "octocat",
        &pin_issue::done(1, true)
    ));

    deliver(
        &server,
        3,
        "issue_comment",
        &on_issue("/unpin-issue", "octocat"),
    )
    .await;
    assert!(github.state().pinned.is_empty());
    assert!(replies(
        &said(&github, 1)[2],
        "octocat",
        &pin_issue::done(1, false)
    ));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_issue_moves_an_issue_for_org_members_only() {
    let github = with_issue();
    github.state().repos.insert(
        (ORG.into(), "Spoon-Knife".into()),
        Repo {
            name: "Spoon-Knife".to_owned(),
            full_name: format!("{ORG}/Spoon-Knife"),
            ..Repo::default()
        },
    );
    let server = start(github.clone(), &enabled("issue-management", "")).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &on_issue("/transfer Spoon-Knife", "stranger"),
    )
    .await;
    assert!(github.state().transfers.is_empty());
    assert!(replies(
        &said(&github, 1)[0],
        "stranger",
        transfer_issue::NOT_MEMBER
    ));

    deliver(
        &server,
        2,
        "issue_comment",
        &on_issue("/transfer-issue Spoon-Knife", "member"),
    )
    .await;
    assert_eq!(
        github.state().transfers,
        [(
            (ORG.to_owned(), REPO.to_owned(), 1),
            (ORG.to_owned(), "Spoon-Knife".to_owned(), 1)
        )]
    );
    // The earlier reply went with the issue.
    assert!(said(&github, 1).is_empty());
    assert_eq!(support::comments(&github), Vec::<String>::new());
    server.shutdown().await;
}
