//! The plugins added to upstream's 31: mergecommitblocker, retitle, milestonestatus, blockade,
//! cherry-pick-unapproved and needs-rebase, decision by decision (each plugin through the real
//! hook is in prow-server's `plugins_added`).

use prow_config::plugins::{Blockade, Milestone};
use prow_github::events::{CommentAction, GenericCommentEvent, PullRequestEvent};
use prow_github::types::{CommitInfo, Label, PullRequestFile};
use prow_plugins::plugins::{
    blockade, cherry_pick_unapproved as cpu, mergecommitblocker as mcb, milestonestatus as ms,
    needs_rebase as nr, retitle,
};
use prow_plugins::{Action, Request};
use regex::Regex;

/// Each action in words, as hook logs it.
pub(crate) fn said(actions: &[Action]) -> Vec<String> {
    actions.iter().map(Action::describe).collect()
}

pub(crate) fn bodies(actions: &[Action]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Comment { body, .. } => Some(body.as_str()),
            _ => None,
        })
        .collect()
}

fn bot_comments(marker: &str) -> Vec<(u64, String)> {
    vec![
        (7, format!("earlier:\n{marker}\nthanks")),
        (8, "something else the bot said".to_owned()),
    ]
}

#[test]
fn mergecommitblocker_labels_merge_commits_and_prunes_when_gone() {
    let commit = |parents: usize| CommitInfo {
        parents: (0..parents).map(|i| format!("p{i}")).collect(),
        ..CommitInfo::default()
    };
    assert!(!mcb::has_merge_commits(&[commit(1), commit(1)]));
    assert!(mcb::has_merge_commits(&[commit(1), commit(2)]));
    assert!(!mcb::has_merge_commits(&[]));
    let comments = bot_comments(mcb::COMMENT);
    let cases: [(bool, bool, &[&str]); 4] = [
        (
            true,
            false,
            &[
                "add labels [\"do-not-merge/contains-merge-commits\"] to o/r#1",
                "comment on o/r#1",
            ],
        ),
        (true, true, &[]),
        (false, false, &[]),
        (
            false,
            true,
            &[
                "remove label \"do-not-merge/contains-merge-commits\" from o/r#1",
                "delete comment 7 in o/r",
            ],
        ),
    ];
    for (merges, has_label, want) in cases {
        let actions = mcb::decide("o", "r", 1, merges, has_label, &comments);
        assert_eq!(said(&actions), want, "merges {merges} label {has_label}");
    }
    let added = mcb::decide("o", "r", 1, true, false, &[]);
    let body = bodies(&added)[0];
    assert!(body.starts_with("Adding label `do-not-merge/contains-merge-commits` because PR contains merge commits, which are not allowed in this repository.\nUse `git rebase`"), "{body}");
    assert!(body.ends_with("</details>"), "{body}");
}

#[test]
fn retitle_renames_for_trusted_users_only() {
    let cases: [(&str, bool, &str); 8] = [
        ("/retitle New title", true, "edit the title of o/r#1"),
        ("/RETITLE   Spaced out  ", true, "edit the title of o/r#1"),
        ("/retitle", true, retitle::EMPTY),
        ("/retitle    ", true, retitle::EMPTY),
        ("/retitle Fixes #12", true, retitle::CLOSES_ISSUES),
        (
            "/retitle resolves org/repo#3 now",
            true,
            retitle::CLOSES_ISSUES,
        ),
        ("/retitle New title", false, retitle::NOT_TRUSTED),
        ("please /retitle x", true, ""),
    ];
    for (body, trusted, want) in cases {
        let gc = comment(body, "open", CommentAction::Created);
        let actions = retitle::decide(&Request::of(&gc), trusted);
        match want {
            "" => assert!(actions.is_empty(), "{body:?}"),
            "edit the title of o/r#1" => assert_eq!(said(&actions), [want], "{body:?}"),
            reply => {
                let got = bodies(&actions);
                assert_eq!(got.len(), 1, "{body:?}");
                assert!(
                    got[0].starts_with(&format!("@u: {reply}")),
                    "{body:?}: {}",
                    got[0]
                );
            }
        }
    }
    let gc = comment("/retitle   A b c  ", "open", CommentAction::Created);
    let Action::EditTitle { title, .. } = &retitle::decide(&Request::of(&gc), true)[0] else {
        panic!("no title edit");
    };
    assert_eq!(title, "A b c");
    // Without a space the rest of the line still counts, as upstream's `\s*` reads it.
    assert_eq!(retitle::requested("/retitlex"), Some("x".to_owned()));
    assert_eq!(
        retitle::requested("text\n/retitle T\nmore"),
        Some("T".to_owned())
    );
}

pub(crate) fn comment(body: &str, state: &str, action: CommentAction) -> GenericCommentEvent {
    let mut repo = prow_github::types::Repo {
        name: "r".to_owned(),
        ..Default::default()
    };
    repo.owner.login = "o".to_owned();
    let user = prow_github::types::User {
        login: "u".to_owned(),
        ..Default::default()
    };
    GenericCommentEvent {
        action,
        is_pr: true,
        body: body.to_owned(),
        html_url: "https://x".to_owned(),
        number: 1,
        repo,
        user: user.clone(),
        issue_author: user,
        assignees: Vec::new(),
        issue_state: state.to_owned(),
        issue_title: String::new(),
        issue_body: String::new(),
        issue_html_url: String::new(),
        node_id: String::new(),
    }
}

#[test]
fn retitle_looks_at_new_comments_on_open_issues_unless_configured() {
    let open = comment("/retitle x", "open", CommentAction::Created);
    let closed = comment("/retitle x", "closed", CommentAction::Created);
    let edited = comment("/retitle x", "open", CommentAction::Edited);
    assert!(retitle::applies(&open, false));
    assert!(!retitle::applies(&closed, false));
    assert!(retitle::applies(&closed, true));
    assert!(!retitle::applies(&edited, true));
}

#[test]
fn milestonestatus_labels_for_the_team_and_refuses_others() {
    assert_eq!(
        ms::requested("/status in-review\n/status bogus\n/status approved-for-milestone"),
        ["status/in-review", "status/approved-for-milestone"]
    );
    assert!(ms::requested("/STATUS in-review").is_empty());
    assert!(ms::requested("/status").is_empty());
    let mut team = Milestone::default();
    team.maintainers_team = "release-team".to_owned();
    team.maintainers_friendly_name = "release leads".to_owned();
    let gc = comment("/status in-progress", "open", CommentAction::Created);
    assert_eq!(
        said(&ms::decide(&gc, &team, true)),
        ["add labels [\"status/in-progress\"] to o/r#1"]
    );
    let refused = ms::decide(&gc, &team, false);
    assert_eq!(
        bodies(&refused),
        [
            "You must be a member of the [o/release-team](https://github.com/orgs/o/teams/release-team/members) GitHub team to add status labels. If you believe you should be able to issue the /status command, please contact your release leads and have them propose you as an additional delegate for this responsibility."
        ]
    );
    // Edits and unknown statuses do nothing; a non-member asking for an unknown status is
    // still told, as upstream checks membership first.
    let edited = comment("/status in-progress", "open", CommentAction::Edited);
    assert!(ms::decide(&edited, &team, true).is_empty());
    let unknown = comment("/status done", "open", CommentAction::Created);
    assert!(ms::decide(&unknown, &team, true).is_empty());
    assert_eq!(ms::decide(&unknown, &team, false).len(), 1);
}

fn blockade_config(
    repos: &[&str],
    branch: Option<&str>,
    block: &[&str],
    except: &[&str],
    why: &str,
) -> Blockade {
    let mut b = Blockade::default();
    b.repos = repos.iter().map(|s| (*s).to_owned()).collect();
    b.branchregexp = branch.map(str::to_owned);
    b.blockregexps = block.iter().map(|s| (*s).to_owned()).collect();
    b.exceptionregexps = except.iter().map(|s| (*s).to_owned()).collect();
    b.explanation = why.to_owned();
    b
}

fn file(name: &str) -> PullRequestFile {
    PullRequestFile {
        filename: name.to_owned(),
        blob_url: format!("https://github.com/o/r/blob/sha/{name}"),
        ..PullRequestFile::default()
    }
}

#[test]
fn blockade_blocks_matching_files_except_the_exceptions() {
    let config = [
        blockade_config(&["o"], None, &["^docs/"], &["^docs/keep/"], "docs moved"),
        blockade_config(&["o/r"], Some("^release-"), &["^vendor/"], &[], ""),
        blockade_config(&["other"], None, &[".*"], &[], "elsewhere"),
        blockade_config(&["o"], None, &["("], &[], "broken regexp is dropped"),
    ];
    assert_eq!(blockade::applicable(&config, "o", "r", "master").len(), 1);
    assert_eq!(
        blockade::applicable(&config, "o", "r", "release-1.0").len(),
        2
    );
    assert_eq!(
        blockade::applicable(&config, "o", "x", "release-1.0").len(),
        1
    );
    assert!(blockade::applicable(&config, "z", "r", "master").is_empty());
    let files = [
        file("docs/a.md"),
        file("docs/keep/b.md"),
        file("vendor/c.go"),
        file("main.go"),
    ];
    let on_release = blockade::applicable(&config, "o", "r", "release-1.0");
    let summary = blockade::blocked(&files, &on_release);
    let names: Vec<(&str, Vec<&str>)> = summary
        .iter()
        .map(|(why, fs)| {
            (
                why.as_str(),
                fs.iter().map(|f| f.filename.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("Files are protected", vec!["vendor/c.go"]),
            ("docs moved", vec!["docs/a.md"]),
        ]
    );
    assert_eq!(
        blockade::summary_text(&summary),
        "#### Reasons for blocking this PR:\n[Files are protected]\n- [vendor/c.go](https://github.com/o/r/blob/sha/vendor/c.go)\n\n[docs moved]\n- [docs/a.md](https://github.com/o/r/blob/sha/docs/a.md)\n\n"
    );
    let comment = blockade::comment("author", &summary);
    assert!(
        comment.starts_with(&format!("@author: {}", blockade::MESSAGE)),
        "{comment}"
    );
    let on_master = blockade::applicable(&config, "o", "r", "master");
    assert!(blockade::blocked(&[file("docs/keep/x"), file("main.go")], &on_master).is_empty());
}

fn pr_event(action: &str, base: &str, label: Option<&str>, from: Option<&str>) -> PullRequestEvent {
    let mut pe = PullRequestEvent {
        action: action.to_owned(),
        ..Default::default()
    };
    pe.pull_request.base.git_ref = base.to_owned();
    pe.label = label.map(|l| Label {
        name: l.to_owned(),
        ..Label::default()
    });
    pe.changes =
        from.map(|f| serde_json::json!({"base": {"ref": {"from": f}, "sha": {"from": "abc"}}}));
    pe
}

#[test]
fn cherry_pick_unapproved_steps_follow_upstreams_events() {
    let re = Regex::new("^release-.*$").unwrap();
    let cases = [
        (
            pr_event("opened", "release-1.0", None, None),
            cpu::Step::Ensure,
        ),
        (
            pr_event("reopened", "release-1.0", None, None),
            cpu::Step::Ensure,
        ),
        (pr_event("opened", "master", None, None), cpu::Step::None),
        (
            pr_event("labeled", "release-1.0", Some(cpu::APPROVED), None),
            cpu::Step::Ensure,
        ),
        (
            pr_event("unlabeled", "release-1.0", Some(cpu::UNAPPROVED), None),
            cpu::Step::Ensure,
        ),
        (
            pr_event("labeled", "release-1.0", Some("kind/bug"), None),
            cpu::Step::None,
        ),
        (
            pr_event("labeled", "master", Some(cpu::APPROVED), None),
            cpu::Step::None,
        ),
        (
            pr_event("edited", "release-1.0", None, Some("master")),
            cpu::Step::Ensure,
        ),
        (
            pr_event("edited", "master", None, Some("release-1.0")),
            cpu::Step::Prune,
        ),
        (
            pr_event("edited", "release-1.1", None, Some("release-1.0")),
            cpu::Step::None,
        ),
        (
            pr_event("edited", "release-1.0", None, None),
            cpu::Step::None,
        ),
        (
            pr_event("synchronize", "release-1.0", None, None),
            cpu::Step::None,
        ),
    ];
    for (event, want) in cases {
        assert_eq!(
            cpu::step(&event, &re),
            want,
            "{} {}",
            event.action,
            event.pull_request.base.git_ref
        );
    }
}

#[test]
fn cherry_pick_unapproved_labels_until_approved() {
    let note =
        "This PR is not for the master branch but does not have the `cherry-pick-approved`  label.";
    let comments = bot_comments(note);
    let at = ("o", "r", 1);
    let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        said(&cpu::decide(
            cpu::Step::Ensure,
            at,
            &labels(&[]),
            note,
            &comments
        )),
        [
            "add labels [\"do-not-merge/cherry-pick-not-approved\"] to o/r#1",
            "comment on o/r#1"
        ]
    );
    assert!(
        cpu::decide(
            cpu::Step::Ensure,
            at,
            &labels(&[cpu::UNAPPROVED]),
            note,
            &comments
        )
        .is_empty()
    );
    assert_eq!(
        said(&cpu::decide(
            cpu::Step::Ensure,
            at,
            &labels(&[cpu::APPROVED, cpu::UNAPPROVED]),
            note,
            &comments
        )),
        [
            "remove label \"do-not-merge/cherry-pick-not-approved\" from o/r#1",
            "delete comment 7 in o/r"
        ]
    );
    assert_eq!(
        said(&cpu::decide(
            cpu::Step::Ensure,
            at,
            &labels(&[cpu::APPROVED]),
            note,
            &comments
        )),
        ["delete comment 7 in o/r"]
    );
    assert_eq!(
        said(&cpu::decide(
            cpu::Step::Prune,
            at,
            &labels(&[cpu::APPROVED, cpu::UNAPPROVED]),
            note,
            &comments
        )),
        [
            "remove label \"cherry-pick-approved\" from o/r#1",
            "remove label \"do-not-merge/cherry-pick-not-approved\" from o/r#1",
            "delete comment 7 in o/r"
        ]
    );
    let added = cpu::decide(cpu::Step::Ensure, at, &labels(&[]), note, &[]);
    assert!(bodies(&added)[0].starts_with(note));
}

#[test]
fn needs_rebase_follows_mergeability() {
    let comments = bot_comments(nr::MESSAGE);
    let at = ("o", "r", 1);
    assert_eq!(
        said(&nr::decide(at, "author", false, false, &comments)),
        ["add labels [\"needs-rebase\"] to o/r#1", "comment on o/r#1"]
    );
    assert!(nr::decide(at, "author", false, true, &comments).is_empty());
    assert!(nr::decide(at, "author", true, false, &comments).is_empty());
    assert_eq!(
        said(&nr::decide(at, "author", true, true, &comments)),
        [
            "remove label \"needs-rebase\" from o/r#1",
            "delete comment 7 in o/r"
        ]
    );
    let human = nr::decide(at, "author", false, false, &[]);
    assert!(bodies(&human)[0].starts_with("PR needs rebase.\n\n<details>"));
    let bot = nr::decide(at, nr::DEPENDABOT, false, false, &[]);
    assert!(bodies(&bot)[0].starts_with("rebase\n\n<details>"));
}
