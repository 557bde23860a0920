//! cherrypicker through the real hook in external-plugin mode, with real git: the repository and the bot's fork are
//! bare repositories in a temp dir that the fake GitHub hands out as their clone and push
//! addresses (`FakeState::git_root`).

use std::path::Path;

use git2::{Oid, Repository};
use prow_github::types::CommitInfo;
use prow_server::hook::Options;
use serde_json::Value;

use crate::support::{self, Server, comment, comments, commit, github};
use prow_plugins::plugins::cherrypicker as cp;

const BRANCH: &str = "cherry-pick-2-to-release-1.0";

/// The repository `Codertocat/Hello-World` (master, release-1.0 differing in README, and pull
/// request #2 adding `feature.txt` as `refs/pull/2/head`) and the bot's empty fork; answers
/// the pull request's commit.
fn repositories(root: &Path, pr_files: &[(&str, &str)]) -> Oid {
    let origin = Repository::init_bare(root.join("Codertocat/Hello-World.git")).unwrap();
    Repository::init_bare(root.join("ci-robot/Hello-World.git")).unwrap();
    let base = commit(&origin, None, &[("README", "hello\n")], "Initial commit");
    let release = commit(
        &origin,
        Some(base),
        &[("README", "hello 1.0\n")],
        "Release 1.0",
    );
    let change = commit(&origin, Some(base), pr_files, "Add a feature");
    origin
        .reference("refs/heads/master", change, true, "")
        .unwrap();
    origin
        .reference("refs/heads/release-1.0", release, true, "")
        .unwrap();
    origin
        .reference("refs/pull/2/head", change, true, "")
        .unwrap();
    change
}

/// The fake GitHub with PR #2 merged into master, its commit, and git under `root`.
fn merged_github(root: &Path, change: Oid) -> std::sync::Arc<prow_github::fake::FakeGitHub> {
    let github = github("author");
    let mut state = github.state();
    state.git_root = Some(root.to_owned());
    let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
    let pr = state.pulls.get_mut(&key).unwrap();
    pr.state = "closed".to_owned();
    pr.merged = Some(true);
    pr.merge_commit_sha = Some(change.to_string());
    pr.body = Some("Adds a feature.\n\n```release-note\nA feature.\n```\n".to_owned());
    state.issues.get_mut(&key).unwrap().state = "closed".to_owned();
    state.pull_commits.insert(
        key,
        vec![CommitInfo {
            sha: change.to_string(),
            parents: vec!["base".to_owned()],
            ..CommitInfo::default()
        }],
    );
    drop(state);
    github
}

fn closed_comment(body: &str, user: &str) -> Value {
    let mut payload = comment(body, user, "author");
    payload["issue"]["state"] = "closed".into();
    payload
}

/// The cherrypicker as upstream deploys it: `prow external-plugin cherrypicker`, which takes
/// the deliveries a hook forwards (signed with the same secret) whatever its own
/// `plugins.yaml` enables.
async fn start(github: std::sync::Arc<prow_github::fake::FakeGitHub>) -> Server {
    let mut options = Options::default();
    options.external_plugin = Some(cp::NAME.to_owned());
    Server::start_with(
        github,
        options,
        support::hook_config(support::CONFIG, "plugins: {}\n"),
    )
    .await
}

async fn deliver(server: &Server, n: u64, event: &str, payload: &Value) {
    let (status, _) = server.send(event, payload).await;
    assert_eq!(status, 200);
    server.metrics.wait_processed(n).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cherrypick_pushes_a_branch_to_the_fork_and_opens_a_pull_request() {
    let root = tempfile::tempdir().unwrap();
    let change = repositories(root.path(), &[("feature.txt", "new\n")]);
    let github = merged_github(root.path(), change);
    let server = start(github.clone()).await;

    // A stranger is told only members may ask, and nothing is pushed.
    deliver(
        &server,
        1,
        "issue_comment",
        &closed_comment("/cherrypick release-1.0", "stranger"),
    )
    .await;
    assert_eq!(comments(&github).len(), 1);
    assert!(
        comments(&github)[0].starts_with(&format!(
            "@stranger: {}",
            cp::not_org_member("Codertocat", "stranger")
        )),
        "{}",
        comments(&github)[0]
    );
    let fork = Repository::open_bare(root.path().join("ci-robot/Hello-World.git")).unwrap();
    assert!(
        fork.find_reference(&format!("refs/heads/{BRANCH}"))
            .is_err()
    );

    // A member gets the cherry-pick: a branch on the fork, on top of release-1.0.
    deliver(
        &server,
        2,
        "issue_comment",
        &closed_comment("/cherrypick release-1.0", "member"),
    )
    .await;
    let head = fork
        .find_reference(&format!("refs/heads/{BRANCH}"))
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let origin = Repository::open_bare(root.path().join("Codertocat/Hello-World.git")).unwrap();
    let release = origin.refname_to_id("refs/heads/release-1.0").unwrap();
    assert_eq!(head.parent_id(0).unwrap(), release);
    assert_eq!(head.message_bytes(), b"Add a feature");
    assert_eq!(head.author().name_bytes(), b"Author");
    assert_eq!(head.committer().name_bytes(), b"ci-robot");
    let tree = head.tree().unwrap();
    let text = |path: &str| {
        let blob = tree
            .get_path(Path::new(path))
            .unwrap()
            .to_object(&fork)
            .unwrap();
        String::from_utf8(blob.as_blob().unwrap().content().to_vec()).unwrap()
    };
    assert_eq!(text("feature.txt"), "new\n");
    assert_eq!(text("README"), "hello 1.0\n");

    // ... and a pull request from the fork, assigned to the requester, with the release note.
    {
        let state = github.state();
        let key = (support::ORG.to_owned(), support::REPO.to_owned(), 3);
        let pr = &state.pulls[&key];
        assert_eq!(
            pr.title,
            "[release-1.0] Update the README with new information."
        );
        assert_eq!(pr.head.label, format!("ci-robot:{BRANCH}"));
        assert_eq!(pr.base.git_ref, "release-1.0");
        assert_eq!(
            pr.body.as_deref(),
            Some(
                "This is an automated cherry-pick of #2\n\n/assign member\n\n```release-note\nA feature.\n```"
            )
        );
        let assignees: Vec<&str> = state.issues[&key]
            .assignees
            .iter()
            .map(|u| u.login.as_str())
            .collect();
        assert_eq!(assignees, ["member"]);
        assert!(state.forks.contains_key(&(
            "ci-robot".to_owned(),
            "Codertocat".to_owned(),
            "Hello-World".to_owned()
        )));
    }
    assert!(
        comments(&github)[1].starts_with("@member: new pull request created: #3"),
        "{}",
        comments(&github)[1]
    );

    // Asking again finds the open cherry-pick instead of making another.
    deliver(
        &server,
        3,
        "issue_comment",
        &closed_comment("/cherry-pick release-1.0", "member"),
    )
    .await;
    assert!(comments(&github)[2].starts_with("@member: Looks like #2 has already been cherry picked in https://github.com/Codertocat/Hello-World/pull/3"), "{}", comments(&github)[2]);
    assert!(!github.state().pulls.contains_key(&(
        support::ORG.to_owned(),
        support::REPO.to_owned(),
        4
    )));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cherrypick_that_conflicts_says_so_and_pushes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let change = repositories(root.path(), &[("README", "hello world\n")]);
    let github = merged_github(root.path(), change);
    let server = start(github.clone()).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &closed_comment("/cherrypick release-1.0", "member"),
    )
    .await;
    let said = comments(&github);
    assert_eq!(said.len(), 1);
    assert!(said[0].starts_with("@member: #2 failed to apply on top of branch \"release-1.0\":\n```\nApplying: Add a feature\nPatch failed: conflict in README\n```"), "{}", said[0]);
    let fork = Repository::open_bare(root.path().join("ci-robot/Hello-World.git")).unwrap();
    assert!(
        fork.find_reference(&format!("refs/heads/{BRANCH}"))
            .is_err()
    );
    assert!(!github.state().pulls.contains_key(&(
        support::ORG.to_owned(),
        support::REPO.to_owned(),
        3
    )));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cherrypick_on_an_open_pull_request_promises_and_picks_on_merge() {
    let root = tempfile::tempdir().unwrap();
    let change = repositories(root.path(), &[("feature.txt", "new\n")]);
    let github = merged_github(root.path(), change);
    let server = start(github.clone()).await;
    // While open: a promise for members, a refusal for strangers.
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/cherrypick release-1.0", "member", "author"),
    )
    .await;
    deliver(
        &server,
        2,
        "issue_comment",
        &comment("/cherrypick release-2.0", "stranger", "author"),
    )
    .await;
    let said = comments(&github);
    assert!(said[0].starts_with("@member: once the present PR merges, I will cherry-pick it on top of `release-1.0` in a new PR and assign it to you."), "{}", said[0]);
    assert!(
        said[1].starts_with("@stranger: only [Codertocat]"),
        "{}",
        said[1]
    );
    // The comments as GitHub keeps them, then the merge: only the member's request is carried out.
    let mut merged = support::opened("author");
    merged["action"] = "closed".into();
    merged["pull_request"]["number"] = 2.into();
    merged["pull_request"]["merged"] = true.into();
    merged["pull_request"]["merge_commit_sha"] = change.to_string().into();
    merged["pull_request"]["base"]["ref"] = "master".into();
    merged["pull_request"]["body"] = "".into();
    {
        let mut state = github.state();
        let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
        for (user, body) in [
            ("member", "/cherrypick release-1.0"),
            ("stranger", "/cherrypick release-2.0"),
        ] {
            state
                .comments
                .entry(key.clone())
                .or_default()
                .push(prow_github::types::Comment {
                    id: 100,
                    body: Some(body.to_owned()),
                    user: prow_github::types::User {
                        login: user.to_owned(),
                        ..Default::default()
                    },
                    ..Default::default()
                });
        }
    }
    deliver(&server, 3, "pull_request", &merged).await;
    {
        let state = github.state();
        let pr = &state.pulls[&(support::ORG.to_owned(), support::REPO.to_owned(), 3)];
        assert_eq!(pr.base.git_ref, "release-1.0");
        assert!(
            !state
                .pulls
                .contains_key(&(support::ORG.to_owned(), support::REPO.to_owned(), 4))
        );
    }
    assert!(
        comments(&github)
            .last()
            .unwrap()
            .starts_with("@member: new pull request created: #3")
    );
    server.shutdown().await;
}
