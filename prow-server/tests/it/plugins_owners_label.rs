//! owners-label: labels from OWNERS `labels:` for the changed files, only those the repository
//! defines; end to end on a pull request being opened.

use std::collections::BTreeSet;

use prow_github::types::Label;
use prow_plugins::plugins::owners_label;
use prow_server::hook::Options;

use crate::plugins_approve::{TREE, owners, seed};
use crate::support::{self, Server, github, labels};

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The labels added and the ones missing from the repository, for `files`.
fn check(files: &[&str], repo: &[&str], current: &[&str], add: &[&str], missing: &[&str]) {
    let files: Vec<String> = files.iter().map(|s| (*s).to_owned()).collect();
    let (a, m) = owners_label::decide(&owners(), &files, &set(repo), &set(current));
    assert_eq!((a, m), (to_vec(add), to_vec(missing)), "{files:?}");
}

fn to_vec(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn labels_come_from_every_owners_file_up_the_tree() {
    let all = &["area/root", "area/src"];
    check(&["README.md"], all, &[], &["area/root"], &[]);
    check(&["src/a.go"], all, &[], &["area/root", "area/src"], &[]);
    check(&["src/a.go"], all, &["area/src"], &["area/root"], &[]);
    // vendor/ stops at its own OWNERS (no_parent_owners) only once it found labels; it has
    // none, so the root's apply.
    check(&["vendor/x.go"], all, &[], &["area/root"], &[]);
    // Labels the repository does not define are not added.
    check(
        &["src/a.go"],
        &["area/root"],
        &[],
        &["area/root"],
        &["area/src"],
    );
    check(&[], all, &[], &[], &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_labels_are_added_when_a_pull_request_opens() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &["src/main.go", "docs/x.md"]);
    gh.state()
        .repo_labels
        .entry((support::ORG.to_owned(), support::REPO.to_owned()))
        .or_default()
        .extend(["area/root", "area/src"].map(|n| Label {
            name: n.to_owned(),
            ..Label::default()
        }));
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [owners-label]\n";
    let server = Server::start_with(
        gh.clone(),
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server
        .send("pull_request", &support::opened("Codertocat"))
        .await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&gh), ["area/root", "area/src"]);
    // A comment is not an event owners-label handles.
    server
        .send(
            "issue_comment",
            &support::comment("/approve", "x", "Codertocat"),
        )
        .await;
    server.metrics.wait_processed(2).await;
    assert_eq!(gh.state().calls.get("pull_request_files"), Some(&1));
    server.shutdown().await;
}
