//! The plugins added after the first batch, each through the real hook (signed deliveries over
//! HTTP, the fake GitHub): invalidcommitmsg, merge-method-comment, branchcleaner,
//! cherry-pick-approved, sigmention and stage.

use prow_github::types::{CommitInfo, Label};

use crate::plugins_added::{deliver, enabled, key, start};
use crate::plugins_approve::review;
use crate::support::{self, comment, comments, github, labels, opened};

fn commit(sha: &str, message: &str) -> CommitInfo {
    CommitInfo {
        sha: sha.to_owned(),
        message: message.to_owned(),
        parents: vec!["base".to_owned()],
        ..CommitInfo::default()
    }
}

fn label(github: &prow_github::fake::FakeGitHub, name: &str) {
    github
        .state()
        .issues
        .get_mut(&key())
        .unwrap()
        .labels
        .push(Label {
            name: name.to_owned(),
            ..Label::default()
        });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidcommitmsg_labels_fixup_commits_and_clears_after_a_rebase() {
    let github = github("author");
    github.state().pull_commits.insert(
        key(),
        vec![
            commit("1234567890", "add it"),
            commit("abcdef0123", "fixup! add it"),
        ],
    );
    let server = start(github.clone(), &enabled("invalidcommitmsg", "")).await;
    deliver(&server, 1, "pull_request", &opened("author")).await;
    assert_eq!(labels(&github), ["do-not-merge/invalid-commit-message"]);
    let said = comments(&github);
    assert_eq!(said.len(), 1);
    assert!(
        said[0].starts_with(
            "<!-- [prow:invalid-commit-message] -->\n\nInvalid commit message issues detected"
        ),
        "{}",
        said[0]
    );
    assert!(said[0].contains(
        "- [abcdef0](https://github.com/Codertocat/Hello-World/commits/abcdef0123) fixup! add it"
    ));
    // The author squashes the fixup away: the label and the explanation go.
    github
        .state()
        .pull_commits
        .insert(key(), vec![commit("1234567890", "add it")]);
    let mut pushed = opened("author");
    pushed["action"] = "synchronize".into();
    deliver(&server, 2, "pull_request", &pushed).await;
    assert!(labels(&github).is_empty());
    assert!(comments(&github).is_empty());
    // A title that closes an issue is as wrong as a commit message.
    let mut edited = opened("author");
    edited["action"] = "edited".into();
    edited["pull_request"]["title"] = "Fixes #1".into();
    deliver(&server, 3, "pull_request", &edited).await;
    assert_eq!(labels(&github), ["do-not-merge/invalid-commit-message"]);
    assert!(comments(&github)[0].contains("### Invalid PR title"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_method_comment_explains_once_on_multi_commit_pull_requests() {
    let github = github("author");
    let server = start(github.clone(), &enabled("merge-method-comment", "")).await;
    // One commit: nothing to say.
    deliver(&server, 1, "pull_request", &opened("author")).await;
    assert!(comments(&github).is_empty());
    let mut pushed = opened("author");
    pushed["action"] = "synchronize".into();
    pushed["pull_request"]["commits"] = 3.into();
    deliver(&server, 2, "pull_request", &pushed).await;
    let said = comments(&github);
    assert_eq!(said.len(), 1);
    assert!(said[0].starts_with("This PR has multiple commits, and the default merge method is: merge.\nCommits will be merged, as no squash labels are defined"), "{}", said[0]);
    deliver(&server, 3, "pull_request", &pushed).await;
    assert_eq!(comments(&github).len(), 1, "said once");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branchcleaner_deletes_the_merged_branch_but_not_a_preserved_one() {
    let github = github("author");
    let branch = |name: &str| {
        (
            support::ORG.to_owned(),
            support::REPO.to_owned(),
            name.to_owned(),
        )
    };
    github
        .state()
        .branches
        .insert(branch("changes"), "sha1".to_owned());
    github
        .state()
        .branches
        .insert(branch("release-1.0"), "sha2".to_owned());
    let config =
        "branch_cleaner:\n  preserved_branches:\n    Codertocat/Hello-World: ['^release-']\n";
    let server = start(github.clone(), &enabled("branchcleaner", config)).await;
    let mut closed = opened("author");
    closed["action"] = "closed".into();
    // Closed without merging: the branch stays.
    deliver(&server, 1, "pull_request", &closed).await;
    assert!(github.state().branches.contains_key(&branch("changes")));
    closed["pull_request"]["merged"] = true.into();
    deliver(&server, 2, "pull_request", &closed).await;
    assert!(!github.state().branches.contains_key(&branch("changes")));
    closed["pull_request"]["head"]["ref"] = "release-1.0".into();
    deliver(&server, 3, "pull_request", &closed).await;
    assert!(github.state().branches.contains_key(&branch("release-1.0")));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cherry_pick_approved_listens_to_the_listed_approvers_only() {
    let github = github("author");
    label(&github, "lgtm");
    label(&github, "approved");
    label(&github, "do-not-merge/cherry-pick-not-approved");
    let config = "cherry_pick_approved:\n- org: Codertocat\n  repo: Hello-World\n  approvers: [release-manager]\n";
    let server = start(github.clone(), &enabled("cherry-pick-approved", config)).await;
    let on_release = |user: &str| {
        let mut payload = review(&github, user, "approved", "");
        payload["pull_request"]["base"]["ref"] = "release-1.0".into();
        payload
    };
    // An approval from somebody not listed (an org member even) changes nothing and says nothing.
    deliver(&server, 1, "pull_request_review", &on_release("member")).await;
    assert_eq!(
        labels(&github),
        ["approved", "do-not-merge/cherry-pick-not-approved", "lgtm"]
    );
    assert!(comments(&github).is_empty());
    deliver(
        &server,
        2,
        "pull_request_review",
        &on_release("release-manager"),
    )
    .await;
    assert_eq!(
        labels(&github),
        ["approved", "cherry-pick-approved", "lgtm"]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigmention_labels_and_repeats_a_strangers_mention() {
    let github = github("author");
    github.state().repo_labels.insert(
        (support::ORG.to_owned(), support::REPO.to_owned()),
        ["sig/testing", "kind/bug"]
            .iter()
            .map(|n| Label {
                name: (*n).to_owned(),
                ..Label::default()
            })
            .collect(),
    );
    let server = start(github.clone(), &enabled("sigmention", "")).await;
    let text = "This breaks CI, cc @kubernetes/sig-testing-bugs";
    deliver(
        &server,
        1,
        "issue_comment",
        &comment(text, "stranger", "author"),
    )
    .await;
    assert_eq!(labels(&github), ["kind/bug", "sig/testing"]);
    let said = comments(&github);
    assert_eq!(said.len(), 1);
    assert!(said[0].starts_with("@stranger: Reiterating the mentions to trigger a notification: \n@kubernetes/sig-testing-bugs\n"), "{}", said[0]);
    // A member's mention notifies by itself.
    deliver(
        &server,
        2,
        "issue_comment",
        &comment(text, "member", "author"),
    )
    .await;
    assert_eq!(comments(&github).len(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stage_labels_for_anyone() {
    let github = github("author");
    let server = start(github.clone(), &enabled("stage", "")).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/stage alpha", "stranger", "author"),
    )
    .await;
    assert_eq!(labels(&github), ["stage/alpha"]);
    deliver(
        &server,
        2,
        "issue_comment",
        &comment("/stage beta", "stranger", "author"),
    )
    .await;
    assert_eq!(labels(&github), ["stage/beta"]);
    deliver(
        &server,
        3,
        "issue_comment",
        &comment("/remove-stage beta", "stranger", "author"),
    )
    .await;
    assert!(labels(&github).is_empty());
    server.shutdown().await;
}

/// An image endpoint on 127.0.0.1 answering unsplash.com's random-photo JSON with `image`, or
/// failing with 500 when `image` is empty; the queries it was asked with go to the channel.
async fn image_endpoint(
    image: &'static str,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use axum::extract::RawQuery;
    use axum::http::StatusCode;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/random",
        axum::routing::get(move |RawQuery(query): RawQuery| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(query.unwrap_or_default());
                if image.is_empty() {
                    return (StatusCode::INTERNAL_SERVER_ERROR, String::new());
                }
                (
                    StatusCode::OK,
                    serde_json::json!({"id": "x", "urls": {"small": image}}).to_string(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/random", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goose_honks_from_the_endpoint_with_the_key_and_falls_back_offline() {
    let github = github("author");
    let (url, mut asked) = image_endpoint("https://img.example/goose.jpg").await;
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), "s3cret\n").unwrap();
    let config = format!(
        "goose:\n  endpoint: {url}?query=goose\n  key_path: {}\n",
        key.path().display()
    );
    let server = start(github.clone(), &enabled("goose", &config)).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/honk", "stranger", "author"),
    )
    .await;
    assert_eq!(asked.recv().await.unwrap(), "query=goose&client_id=s3cret");
    let said = comments(&github);
    assert!(
        said[0].starts_with("@stranger: \n![goose image](https://img.example/goose.jpg)"),
        "{}",
        said[0]
    );
    server.shutdown().await;
    // The endpoint fails: a built-in goose, still an answer.
    let github = support::github("author");
    let (url, mut asked) = image_endpoint("").await;
    let server = start(
        github.clone(),
        &enabled("goose", &format!("goose:\n  endpoint: {url}\n")),
    )
    .await;
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/HONK", "stranger", "author"),
    )
    .await;
    assert_eq!(asked.recv().await.unwrap(), "");
    let said = comments(&github);
    let built_in = prow_plugins::plugins::goose::GEESE;
    assert!(
        built_in
            .iter()
            .any(|g| said[0].contains(&format!("![goose image]({g})"))),
        "{}",
        said[0]
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trick_or_treat_gives_candy_from_the_endpoint_or_the_built_in_list() {
    let github = github("author");
    let server = start(github.clone(), &enabled("trick-or-treat", "")).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/trickortreat", "stranger", "author"),
    )
    .await;
    let said = comments(&github);
    let built_in = prow_plugins::plugins::trick_or_treat::CANDIES;
    assert!(
        built_in
            .iter()
            .any(|c| said[0].starts_with(&format!("@stranger: ![candy image]({c})"))),
        "{}",
        said[0]
    );
    server.shutdown().await;
    let github = support::github("author");
    let (url, mut asked) = image_endpoint("https://img.example/candy.jpg").await;
    let config = format!("trick_or_treat:\n  endpoint: {url}\n");
    let server = start(github.clone(), &enabled("trick-or-treat", &config)).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/trick-or-treat", "stranger", "author"),
    )
    .await;
    asked.recv().await.unwrap();
    assert!(
        comments(&github)[0]
            .starts_with("@stranger: ![candy image](https://img.example/candy.jpg)")
    );
    server.shutdown().await;
}
