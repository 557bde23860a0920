//! verify-owners: which OWNERS changes are invalid and why, who is untrusted, the label and
//! comments, and `/verify-owners` end to end.

use std::collections::BTreeSet;

use prow_config::owners::parse_aliases;
use prow_github::types::PullRequestFile;
use prow_plugins::plugins::verify_owners::{self, Findings, Target, Untrusted};
use prow_server::hook::Options;

use crate::plugins_approve::{BASE, TREE, say, seed};
use crate::plugins_common::summary;
use crate::support::{self, HEAD, Server, comments, github, labels};

fn denied() -> Vec<String> {
    vec!["approved".to_owned(), "lgtm".to_owned()]
}

/// Checks `text` as the new `path`, with `base` its old text.
fn check(path: &str, text: &str, base: Option<&str>, expected: Result<&[&str], &str>) {
    let got = verify_owners::check_owners_file(path, text, base, &denied(), "OWNERS");
    match (got, expected) {
        (Ok(added), Ok(want)) => {
            let want: BTreeSet<String> = want.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(added, want, "{path}: {text:?}");
        }
        (Err(why), Err(want)) => assert!(why.starts_with(want), "{path}: {why}"),
        (got, want) => panic!("{path}: {text:?}: got {got:?}, want {want:?}"),
    }
}

#[test]
fn owners_files_are_checked_as_prow_checks_them() {
    check(
        "pkg/OWNERS",
        "approvers: [a]\nreviewers: [b]\n",
        None,
        Ok(&["a", "b"]),
    );
    // Only logins the change adds are checked.
    check(
        "pkg/OWNERS",
        "approvers: [a, c]\n",
        Some("approvers: [A]\n"),
        Ok(&["c"]),
    );
    check(
        "pkg/OWNERS",
        "filters:\n  '.*':\n    approvers: [x]\n",
        None,
        Ok(&["x"]),
    );
    check(
        "pkg/OWNERS",
        "approvers: [a\n",
        None,
        Err("Cannot parse file: "),
    );
    check(
        "pkg/OWNERS",
        "approvers: [a]\nlabels: [lgtm, approved, sig/x]\n",
        None,
        Err("File contains banned labels: [approved lgtm]."),
    );
    check(
        "OWNERS",
        "reviewers: [a]\n",
        None,
        Err("No approvers defined in this root directory OWNERS file."),
    );
    check("OWNERS", "approvers: [a]\n", None, Ok(&["a"]));
}

#[test]
fn new_alias_members_are_those_the_change_adds() {
    let before = parse_aliases("A", "aliases:\n  t: [a, b]\n").unwrap();
    let after = parse_aliases("A", "aliases:\n  t: [a, b, c]\n  u: [d]\n").unwrap();
    let got: Vec<String> = verify_owners::new_alias_members(&after, Some(&before))
        .into_iter()
        .collect();
    assert_eq!(got, ["c", "d"]);
}

fn target() -> Target<'static> {
    Target {
        org: "o",
        repo: "r",
        number: 2,
        author: "author",
        body: "body",
        url: "https://x",
        owners_filename: "OWNERS",
        aliases_filename: "OWNERS_ALIASES",
        join_org_url: "https://github.com/orgs/o/people",
    }
}

#[test]
fn the_label_and_comments_follow_the_findings() {
    let run = |f: &Findings| summary(&verify_owners::decide(&target(), f));
    let mut f = Findings::default();
    assert!(run(&f).is_empty(), "clean and no label: nothing");
    f.has_label = true;
    f.stale_comments = vec![9];
    assert_eq!(
        run(&f),
        ["remove do-not-merge/invalid-owners-file", "delete 9"]
    );
    let mut f = Findings::default();
    f.invalid
        .insert("pkg/OWNERS".to_owned(), "Cannot parse file: x.".to_owned());
    assert_eq!(
        run(&f),
        [
            "add do-not-merge/invalid-owners-file",
            "say @author: 1 invalid OWNERS file:"
        ]
    );
    let mut f = Findings::default();
    f.untrusted.insert(
        "eve".to_owned(),
        Untrusted {
            reason: "not a member of the org, not a collaborator".to_owned(),
            files: vec!["pkg/OWNERS".to_owned()],
        },
    );
    f.stale_comments = vec![4];
    let actions = verify_owners::decide(&target(), &f);
    assert_eq!(
        summary(&actions)[..2],
        ["add do-not-merge/invalid-owners-file", "delete 4"]
    );
    let text = match &actions[2] {
        prow_plugins::Action::Comment { body, .. } => body.clone(),
        other => panic!("{other:?}"),
    };
    insta::assert_snapshot!("untrusted_comment", text);
    let mut f = Findings::default();
    f.aliases_invalid = true;
    assert_eq!(
        run(&f),
        [
            "add do-not-merge/invalid-owners-file",
            "say The content of OWNERS_ALIASES is invalid."
        ]
    );
}

fn change(gh: &prow_github::fake::FakeGitHub, path: &str, text: &str) {
    let mut state = gh.state();
    state.files.insert(
        (
            support::ORG.to_owned(),
            support::REPO.to_owned(),
            HEAD.to_owned(),
            path.to_owned(),
        ),
        text.as_bytes().to_vec(),
    );
    state
        .pull_files
        .entry((support::ORG.to_owned(), support::REPO.to_owned(), 2))
        .or_default()
        .push(PullRequestFile {
            filename: path.to_owned(),
            status: "modified".to_owned(),
            ..PullRequestFile::default()
        });
}

async fn start(gh: std::sync::Arc<prow_github::fake::FakeGitHub>) -> Server {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [verify-owners]\n";
    Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_users_and_broken_files_are_flagged_then_cleared() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &[]);
    // The change adds `member` (an org member) and `eve` (nobody) to src/OWNERS.
    change(
        &gh,
        "src/OWNERS",
        "approvers: [src-approver, member, eve]\nreviewers: [src-reviewer]\n",
    );
    let server = start(gh.clone()).await;
    server
        .send("pull_request", &support::opened("Codertocat"))
        .await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&gh), ["do-not-merge/invalid-owners-file"]);
    let said = comments(&gh);
    assert_eq!(said.len(), 1, "{said:#?}");
    assert!(
        said[0]
            .contains("\n- eve\n  - not a member of the org, not a collaborator\n  - src/OWNERS"),
        "{}",
        said[0]
    );
    assert!(!said[0].contains("- member"), "{}", said[0]);
    assert!(
        !said[0].contains("src-approver"),
        "existing owners are not checked: {}",
        said[0]
    );

    // eve joins the org; anyone may ask for another look with /verify-owners.
    gh.state()
        .org_members
        .entry(support::ORG.to_owned())
        .or_default()
        .insert("eve".to_owned());
    server
        .send("issue_comment", &say(&gh, "stranger", "/verify-owners"))
        .await;
    server.metrics.wait_processed(2).await;
    assert_eq!(labels(&gh), Vec::<String>::new());
    let said = comments(&gh);
    assert_eq!(said, ["/verify-owners"], "the stale comment is gone");

    // A broken file: the label comes back with a comment naming the file.
    change(&gh, "docs/OWNERS", "approvers: [a\n");
    server
        .send("issue_comment", &say(&gh, "stranger", "/verify-owners"))
        .await;
    server.metrics.wait_processed(3).await;
    assert_eq!(labels(&gh), ["do-not-merge/invalid-owners-file"]);
    let last = comments(&gh).pop().unwrap();
    assert!(
        last.starts_with(
            "@Codertocat: 1 invalid OWNERS file:\n\n- `docs/OWNERS`: Cannot parse file: "
        ),
        "{last}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrelated_pull_requests_are_left_alone() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &["src/main.go"]);
    let server = start(gh.clone()).await;
    server
        .send("pull_request", &support::opened("Codertocat"))
        .await;
    server.metrics.wait_processed(1).await;
    assert!(labels(&gh).is_empty());
    assert!(comments(&gh).is_empty());
    assert_eq!(gh.state().calls.get("file_contents"), None);
    let _ = BASE;
    server.shutdown().await;
}
