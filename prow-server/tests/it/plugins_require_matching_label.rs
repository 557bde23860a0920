//! The require-matching-label plugin: which rules apply, the label and comment kept in step,
//! and an issue end to end.

use prow_config::plugins::RequireMatchingLabel;
use prow_plugins::plugins::require_matching_label::{self as rml, Subject};
use prow_server::hook::Options;

use crate::plugins_common::{plugin_config, summary};
use crate::support::{self, Server, comment, comments, github, labels};

const RULES: &str = r#"
require_matching_label:
- org: o
  repo: r
  issues: true
  regexp: ^sig/
  missing_label: needs-sig
  missing_comment: Please add a sig label.
  grace_period: 0s
- org: o
  prs: true
  branch: main
  regexp: ^kind/
  missing_label: needs-kind
  grace_period: 5s
"#;

fn rules() -> Vec<RequireMatchingLabel> {
    plugin_config(RULES).require_matching_label
}

fn subject<'a>(repo: &'a str, branch: &'a str, label: &'a str) -> Subject<'a> {
    Subject {
        org: "o",
        repo,
        number: 1,
        branch,
        label,
    }
}

#[test]
fn rules_apply_by_kind_repo_branch_and_label() {
    let all = rules();
    let names = |s: Subject<'_>| -> Vec<String> {
        rml::matching(&s, &all)
            .iter()
            .map(|r| r.missing_label.clone())
            .collect()
    };
    assert_eq!(names(subject("r", "", "")), ["needs-sig"]);
    assert!(names(subject("other", "", "")).is_empty());
    assert_eq!(names(subject("r", "main", "")), ["needs-kind"]);
    assert_eq!(names(subject("other", "main", "")), ["needs-kind"]);
    assert!(names(subject("r", "dev", "")).is_empty());
    assert_eq!(names(subject("r", "", "sig/node")), ["needs-sig"]);
    assert!(names(subject("r", "", "kind/bug")).is_empty());
    let matched = rml::matching(&subject("r", "main", ""), &all);
    assert_eq!(rml::grace(&matched), std::time::Duration::from_secs(5));
    assert_eq!(
        rml::describe(&all[0]),
        "Applies the 'needs-sig' label and comments on Issues in the 'o/r' GitHub repo that have no labels matching the regular expression '^sig/'."
    );
}

#[test]
fn the_missing_label_comes_and_goes() {
    let all = rules();
    let s = subject("r", "", "");
    let rules = rml::matching(&s, &all);
    let strings = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        summary(&rml::decide(&s, &rules, &strings(&["bug"]), &[])),
        ["add needs-sig", "say Please add a sig label."]
    );
    assert!(rml::decide(&s, &rules, &strings(&["needs-sig"]), &[]).is_empty());
    assert!(rml::decide(&s, &rules, &strings(&["sig/node"]), &[]).is_empty());
    let bot = [
        (4, "Please add a sig label.\n\n<details>".to_owned()),
        (5, "other".to_owned()),
    ];
    assert_eq!(
        summary(&rml::decide(
            &s,
            &rules,
            &strings(&["sig/node", "needs-sig"]),
            &bot
        )),
        ["remove needs-sig", "delete 4"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_required_labels_end_to_end() {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [require-matching-label]\nrequire_matching_label:\n- org: Codertocat\n  prs: true\n  regexp: ^kind/\n  missing_label: needs-kind\n  missing_comment: Please add a kind.\n  grace_period: 0s\n";
    let server = Server::start_with(
        github(support::ORG),
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server
        .send(
            "issue_comment",
            &comment("/check-required-labels", "stranger", support::ORG),
        )
        .await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), ["needs-kind"]);
    assert_eq!(comments(&server.github).len(), 1);
    assert!(comments(&server.github)[0].starts_with("Please add a kind.\n\n<details>"));
    server.shutdown().await;
}
