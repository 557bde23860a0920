//! The cla plugin: labels from the CLA context's state, on status events and `/check-cla`.

use prow_github::types::{Label, Status, StatusState};
use prow_plugins::plugins::cla::{self, CLA_NO, CLA_YES};
use prow_server::hook::Options;

use crate::plugins_misc_support::{InProcess, status_event};
use crate::support::{self, HEAD, ORG, REPO, comment, comments, github, labels};

const PLUGINS: &str = "plugins:\n  Codertocat/Hello-World:\n    plugins: [cla]\n";

fn check(
    has: &[&str],
    state: StatusState,
    from_status_event: bool,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let labels: Vec<Label> = has
        .iter()
        .map(|n| Label {
            name: (*n).to_owned(),
            ..Label::default()
        })
        .collect();
    cla::label_changes(&labels, state, from_status_event)
}

#[test]
fn labels_follow_the_cla_state() {
    use StatusState::*;
    let none: Vec<&str> = Vec::new();
    assert_eq!(check(&[], Success, true), (vec![CLA_YES], none.clone()));
    assert_eq!(
        check(&[CLA_NO], Success, true),
        (vec![CLA_YES], vec![CLA_NO])
    );
    assert_eq!(
        check(&[CLA_YES], Success, true),
        (none.clone(), none.clone())
    );
    assert_eq!(
        check(&[CLA_YES], Failure, true),
        (vec![CLA_NO], vec![CLA_YES])
    );
    assert_eq!(check(&[], Error, true), (vec![CLA_NO], none.clone()));
    // `/check-cla` leaves an errored CLA check alone, as upstream does.
    assert_eq!(
        check(&[CLA_YES], Error, false),
        (none.clone(), none.clone())
    );
    assert_eq!(check(&[], Pending, true), (none.clone(), none.clone()));
    assert_eq!(check(&[CLA_NO], Failure, false), (none.clone(), none));
}

#[test]
fn only_the_command_on_its_own_line_counts() {
    assert!(cla::requested("/check-cla"));
    assert!(cla::requested("please\n/CHECK-CLA  \nthanks"));
    assert!(!cla::requested("/check-cla now"));
    assert!(!cla::requested("run /check-cla"));
    assert!(!cla::requested("    /check-cla"));
    assert!(!cla::requested("> /check-cla"));
    // Upstream reads the comment as it is: a fenced command at a line start counts.
    assert!(cla::requested("```\n/check-cla\n```"));
}

fn hook() -> InProcess {
    let github = github("author");
    InProcess::start(
        github,
        support::hook_config(support::CONFIG, PLUGINS),
        Options::default(),
        Vec::new(),
    )
}

#[tokio::test]
async fn status_events_set_the_labels_of_the_pull_request_at_that_head() {
    let hook = hook();
    hook.deliver("status", &status_event(HEAD, "EasyCLA", "failure"))
        .await;
    assert_eq!(labels(&hook.github), [CLA_NO]);
    // Older Prow's context counts too.
    hook.deliver(
        "status",
        &status_event(HEAD, "cla/linuxfoundation", "success"),
    )
    .await;
    assert_eq!(labels(&hook.github), [CLA_YES]);
    // Pending, other contexts and other commits change nothing.
    hook.deliver("status", &status_event(HEAD, "EasyCLA", "pending"))
        .await;
    hook.deliver("status", &status_event(HEAD, "unit", "failure"))
        .await;
    hook.deliver(
        "status",
        &status_event(
            "0000000000000000000000000000000000000000",
            "EasyCLA",
            "failure",
        ),
    )
    .await;
    assert_eq!(labels(&hook.github), [CLA_YES]);
    assert!(comments(&hook.github).is_empty());
    hook.shutdown().await;
}

#[tokio::test]
async fn anyone_may_ask_to_check_again() {
    let hook = hook();
    hook.github.state().statuses.insert(
        (ORG.to_owned(), REPO.to_owned(), HEAD.to_owned()),
        vec![Status {
            state: StatusState::Success,
            context: "EasyCLA".to_owned(),
            ..Status::default()
        }],
    );
    hook.deliver(
        "issue_comment",
        &comment("/check-cla", "stranger", "author"),
    )
    .await;
    assert_eq!(labels(&hook.github), [CLA_YES]);
    // A plain comment does nothing.
    hook.github.state().statuses.clear();
    hook.deliver(
        "issue_comment",
        &comment("check the cla", "stranger", "author"),
    )
    .await;
    assert_eq!(labels(&hook.github), [CLA_YES]);
    hook.shutdown().await;
}

#[test]
fn help_names_the_command_and_contexts() {
    let help = prow_plugins::Plugin::help(&cla::Cla::default(), &Default::default());
    assert_eq!(help.commands[0].usage, "/check-cla");
    assert_eq!(help.commands[0].who_can_use, "Anyone");
    assert!(help.description.contains("EasyCLA or cla/linuxfoundation"));
}

#[tokio::test(start_paused = true)]
async fn a_commit_search_does_not_know_yet_is_searched_again_later() {
    let hook = hook();
    // The pull request's head is not the commit yet: the search finds nothing.
    let new_head = "4444444444444444444444444444444444444444";
    hook.deliver("status", &status_event(new_head, "EasyCLA", "success"))
        .await;
    assert!(labels(&hook.github).is_empty());
    // GitHub catches up before the second search.
    hook.github
        .state()
        .pulls
        .get_mut(&(ORG.to_owned(), REPO.to_owned(), 2))
        .unwrap()
        .head
        .sha = new_head.to_owned();
    let start = tokio::time::Instant::now();
    let backstop = start + cla::SEARCH_AGAIN_AFTER * 10;
    while labels(&hook.github).is_empty() {
        assert!(
            tokio::time::Instant::now() < backstop,
            "never searched again"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    assert!(start.elapsed() >= cla::SEARCH_AGAIN_AFTER - std::time::Duration::from_secs(1));
    assert_eq!(labels(&hook.github), [CLA_YES]);
    // Searched twice in all: the delivery and the one re-check.
    assert_eq!(hook.github.state().calls.get("search_issues"), Some(&2));
    hook.shutdown().await;
}
