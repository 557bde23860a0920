//! The plugins added to the first 31, each through the real hook (signed deliveries over HTTP,
//! the fake GitHub): mergecommitblocker, retitle, milestonestatus, blockade,
//! cherry-pick-unapproved and needs-rebase.

use std::time::Duration;

use prow_github::types::{CommitInfo, PullRequestFile};
use prow_server::hook::Options;
use serde_json::Value;

use crate::support::{self, Server, comment, comments, github, labels, opened};
use prow_plugins::plugins::needs_rebase as nr;

pub(crate) const PR: (&str, &str, u64) = (support::ORG, support::REPO, 2);

pub(crate) fn key() -> (String, String, u64) {
    (PR.0.to_owned(), PR.1.to_owned(), PR.2)
}

pub(crate) fn enabled(plugins: &str, extra: &str) -> String {
    format!("plugins:\n  Codertocat/Hello-World:\n    plugins: [{plugins}]\n{extra}")
}

pub(crate) async fn start(
    github: std::sync::Arc<prow_github::fake::FakeGitHub>,
    plugins: &str,
) -> Server {
    Server::start_with(
        github,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await
}

pub(crate) async fn deliver(server: &Server, n: u64, event: &str, payload: &Value) {
    let (status, _) = server.send(event, payload).await;
    assert_eq!(status, 200);
    server.metrics.wait_processed(n).await;
}

fn title(github: &prow_github::fake::FakeGitHub) -> String {
    github.state().pulls[&key()].title.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mergecommitblocker_labels_a_pull_request_with_a_merge_commit() {
    let github = github("author");
    let commit = |sha: &str, parents: &[&str]| CommitInfo {
        sha: sha.to_owned(),
        parents: parents.iter().map(|p| (*p).to_owned()).collect(),
        ..CommitInfo::default()
    };
    github.state().pull_commits.insert(
        key(),
        vec![commit("a", &["base"]), commit("b", &["a", "main"])],
    );
    let server = start(github.clone(), &enabled("mergecommitblocker", "")).await;
    deliver(&server, 1, "pull_request", &opened("author")).await;
    assert_eq!(labels(&github), ["do-not-merge/contains-merge-commits"]);
    assert!(comments(&github)[0].starts_with("Adding label `do-not-merge/contains-merge-commits`"));
    // A rebase drops the merge commit: the label and the comment go.
    github
        .state()
        .pull_commits
        .insert(key(), vec![commit("c", &["base"])]);
    let mut pushed = opened("author");
    pushed["action"] = "synchronize".into();
    deliver(&server, 2, "pull_request", &pushed).await;
    assert!(labels(&github).is_empty());
    assert!(comments(&github).is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retitle_renames_for_members_and_tells_strangers_no() {
    let github = github("author");
    let server = start(github.clone(), &enabled("retitle", "")).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/retitle A better title", "stranger", "author"),
    )
    .await;
    assert_eq!(title(&github), "Update the README with new information.");
    let said = comments(&github);
    assert_eq!(said.len(), 1);
    assert!(said[0].starts_with("@stranger: Re-titling can only be requested by trusted users, like repository collaborators."), "{}", said[0]);
    deliver(
        &server,
        2,
        "issue_comment",
        &comment("/retitle A better title", "member", "author"),
    )
    .await;
    assert_eq!(title(&github), "A better title");
    deliver(
        &server,
        3,
        "issue_comment",
        &comment("/retitle Fixes #3", "member", "author"),
    )
    .await;
    assert_eq!(title(&github), "A better title");
    assert!(comments(&github)[1].contains("Titles may not contain [keywords]"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn milestonestatus_labels_only_for_the_maintainers_team() {
    let github = github("author");
    github
        .state()
        .team_members
        .entry((support::ORG.to_owned(), "release-team".to_owned()))
        .or_default()
        .insert("lead".to_owned());
    let config = "repo_milestone:\n  '':\n    maintainers_team: release-team\n";
    let server = start(github.clone(), &enabled("milestonestatus", config)).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/status in-review", "member", "author"),
    )
    .await;
    assert!(labels(&github).is_empty());
    assert!(comments(&github)[0].starts_with("You must be a member of the [Codertocat/release-team](https://github.com/orgs/Codertocat/teams/release-team/members) GitHub team"), "{}", comments(&github)[0]);
    assert!(comments(&github)[0].contains("contact your SIG Chairs/TLs"));
    deliver(
        &server,
        2,
        "issue_comment",
        &comment("/status in-review", "lead", "author"),
    )
    .await;
    assert_eq!(labels(&github), ["status/in-review"]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blockade_blocks_a_protected_path_and_unblocks_when_it_is_gone() {
    let github = github("author");
    let file = |name: &str| PullRequestFile {
        filename: name.to_owned(),
        blob_url: format!("https://github.com/Codertocat/Hello-World/blob/x/{name}"),
        ..PullRequestFile::default()
    };
    github
        .state()
        .pull_files
        .insert(key(), vec![file("README.md"), file("vendor/lib.go")]);
    let config = "blockades:\n- repos: [Codertocat]\n  blockregexps: ['^vendor/']\n  explanation: vendor is managed by a bot\n";
    let server = start(github.clone(), &enabled("blockade", config)).await;
    deliver(&server, 1, "pull_request", &opened("author")).await;
    assert_eq!(labels(&github), ["do-not-merge/blocked-paths"]);
    let said = comments(&github);
    assert!(said[0].starts_with("@author: Adding label: `do-not-merge/blocked-paths` because PR changes a protected file."), "{}", said[0]);
    assert!(said[0].contains("[vendor is managed by a bot]\n- [vendor/lib.go](https://github.com/Codertocat/Hello-World/blob/x/vendor/lib.go)"));
    github
        .state()
        .pull_files
        .insert(key(), vec![file("README.md")]);
    let mut pushed = opened("author");
    pushed["action"] = "synchronize".into();
    deliver(&server, 2, "pull_request", &pushed).await;
    assert!(labels(&github).is_empty());
    assert!(comments(&github).is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cherry_pick_unapproved_labels_release_pull_requests_until_approved() {
    let github = github("author");
    let server = start(github.clone(), &enabled("cherry-pick-unapproved", "")).await;
    let mut release = opened("author");
    release["pull_request"]["base"]["ref"] = "release-1.0".into();
    deliver(&server, 1, "pull_request", &release).await;
    assert_eq!(labels(&github), ["do-not-merge/cherry-pick-not-approved"]);
    assert!(comments(&github)[0].starts_with(
        "This PR is not for the master branch but does not have the `cherry-pick-approved`  label."
    ));
    github
        .state()
        .issues
        .get_mut(&key())
        .unwrap()
        .labels
        .push(prow_github::types::Label {
            name: "cherry-pick-approved".to_owned(),
            ..Default::default()
        });
    let mut approved = release.clone();
    approved["action"] = "labeled".into();
    approved["label"] = serde_json::json!({"name": "cherry-pick-approved"});
    deliver(&server, 2, "pull_request", &approved).await;
    assert_eq!(labels(&github), ["cherry-pick-approved"]);
    assert!(comments(&github).is_empty());
    // A pull request on master is none of its business.
    let mut master = opened("author");
    master["pull_request"]["number"] = 3.into();
    deliver(&server, 3, "pull_request", &master).await;
    server.shutdown().await;
}

/// needs-rebase as upstream deploys it: an external plugin server the hook forwards
/// deliveries to (headers and raw payload, signed with the same secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needs_rebase_serves_as_an_external_plugin() {
    let github = github("author");
    github.state().pulls.get_mut(&key()).unwrap().mergeable = Some(false);
    let mut options = Options::default();
    options.external_plugin = Some("needs-rebase".to_owned());
    // No grace period, so that the test waits on nothing but the deliveries.
    let plugin: std::sync::Arc<dyn prow_plugins::Plugin> =
        std::sync::Arc::new(nr::NeedsRebase::with_grace(Duration::ZERO));
    let mut plugins = prow_plugins::builtin();
    plugins.insert("needs-rebase", plugin);
    // The external server's own plugins.yaml enables nothing: the forwarding hook decides.
    let external = Server::start_with_plugins(
        github.clone(),
        options,
        support::hook_config(support::CONFIG, "plugins: {}\n"),
        plugins,
    )
    .await;
    let config = format!(
        "plugins:\n  Codertocat/Hello-World:\n    plugins: [hold]\nexternal_plugins:\n  Codertocat/Hello-World:\n  - name: needs-rebase\n    endpoint: {}\n    events: [pull_request, issue_comment]\n",
        external.url
    );
    let hook = start(github.clone(), &config).await;
    deliver(&hook, 1, "pull_request", &opened("author")).await;
    // Forwarded once processed by hook; the external server's own queue then runs the plugin
    // and its re-check.
    external.metrics.wait_processed(1).await;
    // The label comes first, then the comment: wait for the last of the plugin's actions.
    github
        .wait_until(|s| s.comments.get(&key()).is_some_and(|c| !c.is_empty()))
        .await;
    assert_eq!(labels(&github), ["needs-rebase"]);
    assert!(comments(&github)[0].starts_with("PR needs rebase."));
    github.state().pulls.get_mut(&key()).unwrap().mergeable = Some(true);
    deliver(
        &hook,
        2,
        "issue_comment",
        &comment("rebased", "author", "author"),
    )
    .await;
    external.metrics.wait_processed(2).await;
    // The label goes first, then the comment: wait for the last of the plugin's actions.
    github
        .wait_until(|s| {
            s.comments.get(&key()).is_none_or(|c| {
                c.iter()
                    .all(|c| !c.body.as_deref().unwrap_or_default().contains(nr::MESSAGE))
            })
        })
        .await;
    assert!(labels(&github).is_empty());
    // hold runs in hook only; the external server runs only needs-rebase.
    deliver(
        &hook,
        3,
        "issue_comment",
        &comment("/hold", "author", "author"),
    )
    .await;
    external.metrics.wait_processed(3).await;
    assert_eq!(labels(&github), ["do-not-merge/hold"]);
    hook.shutdown().await;
    external.shutdown().await;
}
