//! The label plugin: commands read as Prow reads them, who may set what, the replies, and one
//! comment end to end.

use std::collections::BTreeMap;

use prow_config::plugins::RestrictedLabel;
use prow_github::types::Label;
use prow_plugins::plugins::label;
use prow_server::hook::Options;

use crate::plugins_common::{plugin_config, summary};
use crate::support::{self, Server, comment, comments, github, labels, opened};

const RESTRICTED: &str = r#"
label:
  additional_labels: [api-review, community/discussion]
  restricted_labels:
    "*":
    - label: restricted-label
      allowed_teams: [authorized-team]
      allowed_users: [alice, bob]
      assign_on: [{label: other-label}]
    o/r:
    - label: only-carol
      allowed_users: [carol]
"#;

fn restricted() -> BTreeMap<String, RestrictedLabel> {
    plugin_config(RESTRICTED).restricted_labels_for("o", "r")
}

fn additional() -> Vec<String> {
    plugin_config(RESTRICTED).label.additional_labels
}

/// A comment and the labels it adds, removes and names unknown.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

#[test]
fn commands_name_labels_as_prow_reads_them() {
    let r = restricted();
    let a = additional();
    let cases: &[Case] = &[
        ("/kind bug", &["kind/bug"], &[], &[]),
        ("/kind bug flake", &["kind/bug", "kind/flake"], &[], &[]),
        ("/sig Testing", &["sig/testing"], &[], &[]),
        ("/remove-area prow", &[], &["area/prow"], &[]),
        (
            "/priority critical-urgent\n/triage accepted\n/wg x\n/committee y\n/language zh",
            &[
                "priority/critical-urgent",
                "triage/accepted",
                "wg/x",
                "committee/y",
                "language/zh",
            ],
            &[],
            &[],
        ),
        ("/label api-review", &["api-review"], &[], &[]),
        ("/label Restricted-Label", &["restricted-label"], &[], &[]),
        (
            "/remove-label community/discussion",
            &[],
            &["community/discussion"],
            &[],
        ),
        ("/label nope", &[], &[], &["/label nope"]),
        ("/label a b", &[], &[], &[]),
        ("/kind", &[], &[], &[]),
        ("/KIND bug", &[], &[], &[]),
        ("please /kind bug", &[], &[], &[]),
        ("<!-- /kind bug -->", &[], &[], &[]),
        (
            "/kind bug\r\n/area x\r\n",
            &["kind/bug", "area/x"],
            &[],
            &[],
        ),
    ];
    for (body, add, remove, unknown) in cases {
        let got = label::requested(body, &a, &r);
        assert_eq!(got.add, *add, "{body:?}");
        assert_eq!(got.remove, *remove, "{body:?}");
        assert_eq!(got.unknown, *unknown, "{body:?}");
    }
}

fn request(body: &str) -> label::Request<'_> {
    label::Request {
        org: "o",
        repo: "r",
        number: 1,
        user: "dave",
        body,
        url: "https://x",
    }
}

fn facts(repo: &[&str], issue: &[&str], member: bool, may_set: &[&str]) -> label::Facts {
    let mut f = label::Facts::default();
    f.repo_labels = repo.iter().map(|s| (*s).to_owned()).collect();
    f.issue_labels = issue.iter().map(|s| (*s).to_owned()).collect();
    f.is_member = member;
    f.may_set = may_set.iter().map(|s| (*s).to_owned()).collect();
    f
}

fn run(body: &str, f: &label::Facts) -> Vec<String> {
    let (a, r) = (additional(), restricted());
    let want = label::requested(body, &a, &r);
    summary(&label::decide(&request(body), &want, f, &a, &r))
}

#[test]
fn labels_must_exist_and_restricted_ones_need_permission() {
    let repo = [
        "kind/bug",
        "kind/flake",
        "Language/Go",
        "area/prow",
        "triage/accepted",
        "restricted-label",
        "only-carol",
        "needs-kind",
        "needs-sig",
        "sig/testing",
        "api-review",
    ];
    let none = facts(&repo, &[], false, &[]);
    let cases: Vec<(&str, label::Facts, Vec<&str>)> = vec![
        ("/kind bug", none.clone(), vec!["add kind/bug"]),
        // GitHub's spelling of the label is kept.
        ("/language go", none.clone(), vec!["add Language/Go"]),
        ("/kind bug\n/kind bug", none.clone(), vec!["add kind/bug"]),
        ("/kind bug", facts(&repo, &["kind/bug"], false, &[]), vec![]),
        (
            "/kind nope",
            none.clone(),
            vec![
                "say @dave: The label(s) `kind/nope` cannot be applied, because the repository doesn't have them.",
            ],
        ),
        (
            "/kind bug\n/area nope",
            none.clone(),
            vec![
                "add kind/bug",
                "say @dave: The label(s) `area/nope` cannot be applied, because the repository doesn't have them.",
            ],
        ),
        (
            "/triage accepted",
            none.clone(),
            vec![
                "say @dave: The label `triage/accepted` cannot be applied. Only GitHub organization members can add the label.",
            ],
        ),
        (
            "/triage accepted",
            facts(&repo, &[], true, &[]),
            vec!["add triage/accepted"],
        ),
        (
            "/label restricted-label",
            none.clone(),
            vec![
                "say @dave: The label(s) `restricted-label` cannot be applied or removed, because you are not in one of the allowed teams and are not an allowed user. Must be a member of one of these teams: authorized-team",
            ],
        ),
        (
            "/label only-carol",
            none.clone(),
            vec![
                "say @dave: The label(s) `only-carol` cannot be applied or removed, because you are not in one of the allowed teams and are not an allowed user. Consider assigning one of the following members: carol",
            ],
        ),
        (
            "/label restricted-label",
            facts(&repo, &[], false, &["restricted-label"]),
            vec!["add restricted-label"],
        ),
        (
            "/remove-label restricted-label",
            facts(&repo, &["restricted-label"], false, &[]),
            vec![
                "say @dave: The label(s) `restricted-label` cannot be applied or removed, because you are not in one of the allowed teams and are not an allowed user. Must be a member of one of these teams: authorized-team",
            ],
        ),
        (
            "/label nope",
            none.clone(),
            vec![
                "say @dave: The label(s) `/label nope` cannot be applied. These labels are supported: `api-review, community/discussion, only-carol, restricted-label`. Is this label configured under `labels -> additional_labels` or `labels -> restricted_labels` in `plugin.yaml`?",
            ],
        ),
        // As in Prow, removing a kind the issue lacks still counts as removing every kind.
        (
            "/remove-kind bug",
            none.clone(),
            vec![
                "add needs-kind",
                "say @dave: Those labels are not set on the issue: `kind/bug`",
            ],
        ),
        (
            "/remove-area prow",
            none.clone(),
            vec!["say @dave: Those labels are not set on the issue: `area/prow`"],
        ),
        // Removing the last kind brings back needs-kind; another kind left keeps it away.
        (
            "/remove-kind bug",
            facts(&repo, &["kind/bug"], false, &[]),
            vec!["add needs-kind", "remove kind/bug"],
        ),
        (
            "/remove-kind bug",
            facts(&repo, &["kind/bug", "kind/flake"], false, &[]),
            vec!["remove kind/bug"],
        ),
        (
            "/remove-sig testing\n/sig testing",
            facts(&repo, &["sig/testing"], false, &[]),
            vec!["remove sig/testing"],
        ),
        // A priority with no needs-priority label in the repo adds nothing back.
        (
            "/remove-area prow",
            facts(&repo, &["area/prow"], false, &[]),
            vec!["remove area/prow"],
        ),
    ];
    for (body, f, want) in cases {
        assert_eq!(run(body, &f), want, "{body:?}");
    }
}

#[test]
fn a_label_named_in_assign_on_assigns_the_allowed_users() {
    let r = restricted();
    assert_eq!(
        summary(&label::assign_on("o", "r", 3, "Other-Label", &r)),
        ["assign alice,bob"]
    );
    assert!(label::assign_on("o", "r", 3, "kind/bug", &r).is_empty());
}

#[test]
fn help_lists_the_configured_label_kinds() {
    use prow_plugins::Plugin;
    let help = label::LabelPlugin.help(&plugin_config(RESTRICTED));
    assert_eq!(
        help.config[""],
        "The label plugin will work on \"kind/*\", \"priority/*\", \"area/*\", \"api-review/*\" and \"community/discussion/*\" labels."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_commands_end_to_end() {
    let gh = github(support::ORG);
    {
        let mut state = gh.state();
        let defined = state
            .repo_labels
            .entry((support::ORG.to_owned(), support::REPO.to_owned()))
            .or_default();
        for name in ["kind/bug", "restricted-label", "triage/accepted"] {
            defined.push(Label {
                name: name.to_owned(),
                ..Label::default()
            });
        }
        state
            .team_members
            .entry((support::ORG.to_owned(), "authorized-team".to_owned()))
            .or_default()
            .insert("reviewer".to_owned());
    }
    let plugins =
        format!("plugins:\n  Codertocat/Hello-World:\n    plugins: [label]\n{RESTRICTED}");
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, &plugins),
    )
    .await;
    server
        .send(
            "issue_comment",
            &comment("/kind bug\n/kind nope", "stranger", support::ORG),
        )
        .await;
    server
        .send(
            "issue_comment",
            &comment("/label restricted-label", "stranger", support::ORG),
        )
        .await;
    server
        .send(
            "issue_comment",
            &comment("/triage accepted", "stranger", support::ORG),
        )
        .await;
    server.metrics.wait_processed(3).await;
    assert_eq!(labels(&server.github), ["kind/bug"]);
    let replies = comments(&server.github);
    assert_eq!(replies.len(), 3, "{replies:#?}");
    assert!(replies[0].starts_with("@stranger: The label(s) `kind/nope` cannot be applied, because the repository doesn't have them."), "{}", replies[0]);
    assert!(
        replies[1]
            .starts_with("@stranger: The label(s) `restricted-label` cannot be applied or removed"),
        "{}",
        replies[1]
    );
    assert!(replies[2].starts_with("@stranger: The label `triage/accepted` cannot be applied. Only GitHub organization members"), "{}", replies[2]);

    server
        .send(
            "issue_comment",
            &comment("/label restricted-label", "reviewer", support::ORG),
        )
        .await;
    server
        .send(
            "issue_comment",
            &comment("/triage accepted", "member", support::ORG),
        )
        .await;
    server.metrics.wait_processed(5).await;
    assert_eq!(
        labels(&server.github),
        ["kind/bug", "restricted-label", "triage/accepted"]
    );
    assert_eq!(comments(&server.github).len(), 3);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_command_in_a_new_pull_requests_description_applies() {
    let gh = github(support::ORG);
    gh.state()
        .repo_labels
        .entry((support::ORG.to_owned(), support::REPO.to_owned()))
        .or_default()
        .push(Label {
            name: "kind/bug".to_owned(),
            ..Label::default()
        });
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(
            support::CONFIG,
            "plugins:\n  Codertocat/Hello-World:\n    plugins: [label]\n",
        ),
    )
    .await;
    let mut pr = opened("stranger");
    pr["pull_request"]["body"] = "Fixes the thing.\n/kind bug\n".into();
    server.send("pull_request", &pr).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), ["kind/bug"]);
    server.shutdown().await;
}
