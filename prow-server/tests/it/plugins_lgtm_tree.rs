//! lgtm's `store_tree_hash`: the tree recorded when `lgtm` is added, and pushes that keep or
//! drop the label.

use prow_plugins::plugins::lgtm::{self, PushVerdict, REMOVED_BY_PUSH};
use prow_server::hook::Options;

use crate::plugins_misc_support::InProcess;
use crate::support::{self, HEAD, ORG, REPO, comment, comments, github, labels};

#[test]
fn pushes_keep_lgtm_only_for_the_same_tree() {
    use PushVerdict::*;
    let check = |has: bool, store: bool, recorded: Option<&str>, head: Option<&str>, expected| {
        assert_eq!(lgtm::on_push(has, store, recorded, head), expected);
    };
    check(false, true, Some("t"), Some("t"), Keep);
    check(true, true, Some("t"), Some("t"), Keep);
    check(true, true, Some("t"), Some("u"), Remove);
    check(true, true, None, Some("t"), Remove);
    check(true, false, Some("t"), Some("t"), Remove);
    check(true, true, Some(""), Some(""), Remove);
}

#[test]
fn the_recorded_tree_reads_back() {
    let body = lgtm::added_notification("abc123");
    assert_eq!(
        body,
        "LGTM label has been added.  <details>Git tree hash: abc123</details>"
    );
    assert_eq!(lgtm::recorded_tree(&body), Some("abc123"));
    assert_eq!(lgtm::recorded_tree("LGTM label has been added."), None);
    assert_eq!(lgtm::recorded_tree(REMOVED_BY_PUSH), None);
}

const TREE: &str = "1d5f0000000000000000000000000000000000aa";
const NEW_HEAD: &str = "2222222222222222222222222222222222222222";

fn plugins(store_tree_hash: bool) -> String {
    format!(
        "plugins:\n  Codertocat/Hello-World:\n    plugins: [lgtm]\nlgtm:\n- repos: [Codertocat/Hello-World]\n  store_tree_hash: {store_tree_hash}\n"
    )
}

fn hook(store_tree_hash: bool) -> InProcess {
    let github = github("author");
    {
        let mut state = github.state();
        state.commit_trees.insert(
            (ORG.to_owned(), REPO.to_owned(), HEAD.to_owned()),
            TREE.to_owned(),
        );
    }
    InProcess::start(
        github,
        support::hook_config(support::CONFIG, &plugins(store_tree_hash)),
        Options::default(),
        Vec::new(),
    )
}

fn synchronize(head: &str) -> serde_json::Value {
    let mut event = support::opened("author");
    event["action"] = "synchronize".into();
    event["pull_request"]["head"]["sha"] = head.into();
    event
}

fn bot_said(hook: &InProcess) -> Vec<String> {
    comments(&hook.github)
        .into_iter()
        .filter(|c| !c.contains("In response to"))
        .collect()
}

#[tokio::test]
async fn lgtm_records_the_tree_and_a_push_of_the_same_tree_keeps_it() {
    let hook = hook(true);
    hook.deliver("issue_comment", &comment("/lgtm", "reviewer", "author"))
        .await;
    assert_eq!(labels(&hook.github), ["lgtm"]);
    assert_eq!(bot_said(&hook), [lgtm::added_notification(TREE)]);
    // A rebase without changes: new head, same tree.
    hook.github.state().commit_trees.insert(
        (ORG.to_owned(), REPO.to_owned(), NEW_HEAD.to_owned()),
        TREE.to_owned(),
    );
    hook.deliver("pull_request", &synchronize(NEW_HEAD)).await;
    assert_eq!(labels(&hook.github), ["lgtm"]);
    // Real changes: another tree.
    let changed = "3333333333333333333333333333333333333333";
    hook.github.state().commit_trees.insert(
        (ORG.to_owned(), REPO.to_owned(), changed.to_owned()),
        "other-tree".to_owned(),
    );
    hook.deliver("pull_request", &synchronize(changed)).await;
    assert!(labels(&hook.github).is_empty());
    assert_eq!(bot_said(&hook).last().unwrap(), REMOVED_BY_PUSH);
    hook.shutdown().await;
}

#[tokio::test]
async fn without_store_tree_hash_every_push_removes_lgtm() {
    let hook = hook(false);
    hook.deliver("issue_comment", &comment("/lgtm", "reviewer", "author"))
        .await;
    assert_eq!(labels(&hook.github), ["lgtm"]);
    assert!(bot_said(&hook).is_empty());
    hook.deliver("pull_request", &synchronize(HEAD)).await;
    assert!(labels(&hook.github).is_empty());
    assert_eq!(bot_said(&hook), [REMOVED_BY_PUSH]);
    // Without the label a push says nothing.
    hook.deliver("pull_request", &synchronize(NEW_HEAD)).await;
    assert_eq!(bot_said(&hook).len(), 1);
    hook.shutdown().await;
}

#[tokio::test]
async fn a_comment_recording_the_tree_from_someone_else_does_not_count() {
    let hook = hook(true);
    hook.deliver("issue_comment", &comment("/lgtm", "reviewer", "author"))
        .await;
    // The fake records comments as the bot; pretend a user copied the text instead.
    for c in hook.github.state().comments.values_mut().flatten() {
        c.user.login = "mallory".to_owned();
    }
    hook.github.state().commit_trees.insert(
        (ORG.to_owned(), REPO.to_owned(), NEW_HEAD.to_owned()),
        TREE.to_owned(),
    );
    hook.deliver("pull_request", &synchronize(NEW_HEAD)).await;
    assert!(labels(&hook.github).is_empty());
    hook.shutdown().await;
}

#[tokio::test]
async fn authors_in_the_sticky_team_keep_lgtm_across_pushes() {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [lgtm]\nlgtm:\n- repos: [Codertocat/Hello-World]\n  trusted_team_for_sticky_lgtm: trusted\n";
    let github = github("author");
    let hook = InProcess::start(
        github,
        support::hook_config(support::CONFIG, plugins),
        Options::default(),
        Vec::new(),
    );
    hook.deliver("issue_comment", &comment("/lgtm", "reviewer", "author"))
        .await;
    hook.github
        .state()
        .team_members
        .entry((ORG.to_owned(), "trusted".to_owned()))
        .or_default()
        .insert("author".to_owned());
    hook.deliver("pull_request", &synchronize(NEW_HEAD)).await;
    assert_eq!(labels(&hook.github), ["lgtm"]);
    hook.github.state().team_members.clear();
    hook.deliver("pull_request", &synchronize(NEW_HEAD)).await;
    assert!(labels(&hook.github).is_empty());
    hook.shutdown().await;
}
