//! issue-management, table by table: its parsers (commands, issue references, the `Fixes`
//! line, the transfer destination), then each command family run by the plugin over the fake
//! GitHub and carried out, with what members, approvers and everyone else get. Through the
//! real hook: prow-server's `plugins_issue_management`.

use std::sync::Arc;

use proptest::prelude::*;
use prow_config::plugins::PluginConfig;
use prow_github::client::GitHubClient;
use prow_github::events::{CommentAction, Event, GenericCommentEvent};
use prow_github::fake::{FakeGitHub, issue_node_id};
use prow_github::types::{Issue, PullRequest, Repo};
use prow_jobs::store::SqliteStore;
use prow_plugins::plugins::issue_management::{
    self as im, Command, IssueManagement, link_issue, pin_issue, transfer_issue,
};
use prow_plugins::respond::format_response_raw;
use prow_plugins::{Action, Context, Plugin, commands, execute};

use crate::added::comment;

#[test]
fn one_command_family_per_comment_in_upstreams_order() {
    let link = |l: &[&str], u: &[&str]| {
        Some(Command::Link {
            link: l.iter().map(|s| (*s).to_owned()).collect(),
            unlink: u.iter().map(|s| (*s).to_owned()).collect(),
        })
    };
    let cases: &[(&str, Option<Command>)] = &[
        ("/link-issue 123", link(&["123"], &[])),
        ("/unlink-issue 456", link(&[], &["456"])),
        (
            "/link-issue 1 o/r#2\n/unlink-issue 3\n/link-issue 4",
            link(&["1", "o/r#2", "4"], &["3"]),
        ),
        // `\s+` reaches over the line end, as in Go.
        ("/link-issue\n12", link(&["12"], &[])),
        ("/link-issue", None),
        ("/link-issue 1\n/pin-issue", link(&["1"], &[])),
        ("/pin-issue", Some(Command::Pin(true))),
        ("/PIN-ISSUE", Some(Command::Pin(true))),
        ("/pin-issue  \r", Some(Command::Pin(true))),
        ("/pin-issue now", None),
        ("/unpin-issue", Some(Command::Pin(false))),
        ("/pin-issue\n/unpin-issue", Some(Command::Pin(true))),
        ("/transfer-issue test-repo", Some(Command::Transfer)),
        ("/transfer another-repo", Some(Command::Transfer)),
        ("/transfer", Some(Command::Transfer)),
        ("/transferred", None),
        ("Just a regular comment", None),
        ("  /pin-issue", None),
    ];
    for (body, want) in cases {
        assert_eq!(&im::command(body), want, "{body:?}");
        // What hook hands the plugin finds the same.
        assert_eq!(
            &im::command(&commands::command_lines(body)),
            want,
            "{body:?}"
        );
    }
}

#[test]
fn issue_references_read_as_upstreams_parse_issue_ref() {
    let r = |org: &str, repo: &str, number: i64| {
        Some(link_issue::IssueRef {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
        })
    };
    let cases = [
        ("123", r("o", "r", 123)),
        ("+7", r("o", "r", 7)),
        ("-3", r("o", "r", -3)),
        (
            "kubernetes/test-infra#456",
            r("kubernetes", "test-infra", 456),
        ),
        ("o/r#9", r("o", "r", 9)),
        ("org/#1", r("org", "", 1)),
        ("#12", None),
        ("abc", None),
        ("a/b/c#1", None),
        ("a/b#1#2", None),
        ("a/b#x", None),
        ("a/b", None),
    ];
    for (text, want) in cases {
        assert_eq!(
            link_issue::parse_issue_ref(text, "o", "r"),
            want,
            "{text:?}"
        );
    }
    let here = r("o", "r", 5).unwrap();
    assert_eq!(here.format("o", "r"), "#5");
    assert_eq!(here.format("o", "other"), "o/r#5");
}

#[test]
fn the_fixes_line_is_replaced_appended_or_dropped_as_upstream_does() {
    let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let cases: &[(&str, &[&str], &[&str], &str)] = &[
        ("Initial body", &["#10"], &[], "Initial body\n\nFixes #10"),
        ("Initial body\n", &["#10"], &[], "Initial body\n\nFixes #10"),
        ("", &["#1"], &[], "\nFixes #1"),
        ("Fixes #11", &[], &["#11"], ""),
        ("a\nFixes #11\nb", &[], &["#11"], "a\nb"),
        (
            "a\nfixes  #2 #11\nb",
            &["#1"],
            &["#11"],
            "a\nFixes #1 #2\nb",
        ),
        ("Fixes #12", &["#12"], &[], "Fixes #12"),
        (
            "Fixes #3\nFixes #4",
            &["o/x#1"],
            &[],
            "Fixes #3 o/x#1\nFixes #4",
        ),
        ("Fixes", &["#1"], &[], "Fixes\n\nFixes #1"),
        ("Fixes #11 garbage", &[], &["garbage"], "Fixes #11"),
        ("no line", &[], &["#1"], "no line"),
    ];
    for (body, add, remove, want) in cases {
        assert_eq!(
            link_issue::update_fixes_line(body, &v(add), &v(remove)),
            *want,
            "{body:?} + {add:?} - {remove:?}"
        );
    }
}

#[test]
fn transfer_destinations_read_as_upstreams_parse_transfer_command() {
    use transfer_issue::Destination::{self, None as Nothing, Refuse, Repo as To};
    let to = |r: &str| To(r.to_owned());
    let cases: [(&str, bool, bool, Destination); 9] = [
        ("/transfer-issue test-infra", false, true, to("test-infra")),
        (
            "/transfer-issue test-infra\r",
            false,
            true,
            to("test-infra"),
        ),
        (
            "x\n/transfer  kubectl  \nthanks",
            false,
            true,
            to("kubectl"),
        ),
        (
            "/transfer-issue test-repo",
            true,
            true,
            Refuse(transfer_issue::ONLY_ISSUES),
        ),
        (
            "/transfer-issue test-repo",
            true,
            false,
            Refuse(transfer_issue::ONLY_ISSUES),
        ),
        ("/transfer-issue test-repo", false, false, Nothing),
        ("/transfer", false, true, Refuse(transfer_issue::ONCE)),
        (
            "/transfer-issue repo1\n/transfer repo2",
            false,
            true,
            Refuse(transfer_issue::ONCE),
        ),
        ("no command", false, true, Nothing),
    ];
    for (body, is_pr, created, want) in cases {
        assert_eq!(
            transfer_issue::destination(body, is_pr, created),
            want,
            "{body:?}"
        );
    }
}

#[test]
fn help_lists_five_commands_and_features_transfer() {
    let help = IssueManagement::default().help(&PluginConfig::default());
    let usages: Vec<&str> = help.commands.iter().map(|c| c.usage.as_str()).collect();
    assert_eq!(
        usages,
        [
            "/link-issue <issue(s)>",
            "/unlink-issue <issue(s)>",
            "/pin-issue",
            "/unpin-issue",
            "/transfer[-issue] <destination repo in same org>"
        ]
    );
    let featured: Vec<bool> = help.commands.iter().map(|c| c.featured).collect();
    assert_eq!(featured, [false, false, false, false, true]);
    assert_eq!(
        help.commands[2].who_can_use,
        "Approvers from the top-level OWNERS file"
    );
    assert!(prow_plugins::builtin().contains_key("issue-management"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proptest_issue_refs_round_trip(
        org in "[a-z][a-z-]{0,7}",
        repo in "[a-z][a-z.-]{0,7}",
        number in 0i64..1_000_000,
        here in any::<bool>(),
    ) {
        let r = link_issue::IssueRef { org: org.clone(), repo: repo.clone(), number };
        // `#N` is how the line writes an issue of the pull request's own repository; upstream
        // reads such an issue from its bare number (and `#N` only passes through unlinking).
        let (dorg, drepo) = if here { (org.as_str(), repo.as_str()) } else { ("d", "e") };
        let text = r.format(dorg, drepo);
        let read = text.strip_prefix('#').unwrap_or(&text);
        prop_assert_eq!(here, read != text);
        prop_assert_eq!(link_issue::parse_issue_ref(read, dorg, drepo), Some(r));
    }

    #[test]
    fn proptest_linking_lists_each_issue_once_and_is_idempotent(
        lines in proptest::collection::vec("[a-z ]{0,12}", 0..5),
        refs in proptest::collection::btree_set("#[1-9][0-9]{0,3}", 1..5),
    ) {
        let body = lines.join("\n");
        let add: Vec<String> = refs.iter().cloned().collect();
        let once = link_issue::update_fixes_line(&body, &add, &[]);
        prop_assert_eq!(&link_issue::update_fixes_line(&once, &add, &[]), &once);
        let fixes: Vec<&str> = once.lines().filter(|l| l.starts_with("Fixes ")).collect();
        prop_assert_eq!(fixes, vec![format!("Fixes {}", add.join(" "))]);
        // Unlinking them all drops the line and leaves the text as it was.
        let gone = link_issue::update_fixes_line(&once, &[], &add);
        prop_assert_eq!(gone.trim_end_matches('\n'), body.trim_end_matches('\n'));
    }
}

/// The fake GitHub of these tests: org `o` with member `member`; in `o/r` pull request #1
/// (`Initial body`), issues #10, #11, #12 and #20, pull request #13, and top-level OWNERS
/// approvers `Approver` and alias `leads` (`lead`) on `main`; `o/other` with issue #5.
fn github() -> Arc<FakeGitHub> {
    let github = Arc::new(FakeGitHub::new("ci-robot"));
    let pull = |number: u64, body: &str| PullRequest {
        number,
        body: Some(body.to_owned()),
        state: "open".to_owned(),
        ..PullRequest::default()
    };
    github.add_pull_request("o", "r", pull(1, "Initial body"));
    github.add_pull_request("o", "r", pull(13, ""));
    for (repo, number) in [("r", 10), ("r", 11), ("r", 12), ("r", 20), ("other", 5)] {
        github.add_issue(
            "o",
            repo,
            Issue {
                number,
                state: "open".to_owned(),
                html_url: format!("https://github.com/o/{repo}/issues/{number}"),
                ..Issue::default()
            },
        );
    }
    let mut state = github.state();
    state
        .org_members
        .entry("o".to_owned())
        .or_default()
        .insert("member".to_owned());
    for repo in ["r", "other"] {
        let found = Repo {
            name: repo.to_owned(),
            full_name: format!("o/{repo}"),
            default_branch: "main".to_owned(),
            ..Repo::default()
        };
        state.repos.insert(("o".to_owned(), repo.to_owned()), found);
    }
    state
        .branches
        .insert(("o".into(), "r".into(), "main".into()), "sha1".into());
    let file = |path: &str, text: &str| {
        (
            (
                "o".to_owned(),
                "r".to_owned(),
                "sha1".to_owned(),
                path.to_owned(),
            ),
            text.as_bytes().to_vec(),
        )
    };
    state.files.extend([
        file(
            "OWNERS",
            "approvers:\n- Approver\n- leads\nreviewers:\n- reviewer\n",
        ),
        file("OWNERS_ALIASES", "aliases:\n  leads:\n  - lead\n"),
        file("sub/OWNERS", "approvers:\n- subonly\n"),
    ]);
    drop(state);
    github
}

/// A comment `body` by `user` on `o/r#number` (a pull request when `is_pr`).
fn on(number: u64, is_pr: bool, body: &str, user: &str) -> GenericCommentEvent {
    let mut gc = comment(body, "open", CommentAction::Created);
    gc.number = number;
    gc.is_pr = is_pr;
    gc.user.login = user.to_owned();
    gc.repo.default_branch = "main".to_owned();
    gc.node_id = issue_node_id("o", "r", number);
    gc
}

/// What the plugin decides about `gc`, and what carrying it out says (errors in words).
async fn run(
    plugin: &IssueManagement,
    github: &FakeGitHub,
    gc: &GenericCommentEvent,
) -> (Vec<String>, Vec<String>) {
    let plugins = PluginConfig::default();
    let config = prow_config::Config::default();
    let store = SqliteStore::in_memory().unwrap();
    let commands = commands::command_lines(&gc.body);
    let ctx = Context::new(github, &plugins, &config, &store, "ci-robot", "d1")
        .with_comment(Some(gc), &commands);
    let event = Event::Other {
        name: "issue_comment".to_owned(),
        payload: serde_json::Value::Null,
    };
    let actions = plugin.handle(&ctx, &event).await.unwrap();
    let mut failures = Vec::new();
    for action in &actions {
        if let Err(e) = execute(action, github, &store).await {
            failures.push(e.to_string());
        }
    }
    (actions.iter().map(Action::describe).collect(), failures)
}

/// The comments on `o/<repo>#number`.
fn said(github: &FakeGitHub, repo: &str, number: u64) -> Vec<String> {
    github
        .state()
        .comments
        .get(&("o".to_owned(), repo.to_owned(), number))
        .map(|cs| cs.iter().filter_map(|c| c.body.clone()).collect())
        .unwrap_or_default()
}

/// The reply to `gc` saying `text`, as Prow words it.
fn reply(gc: &GenericCommentEvent, text: &str) -> String {
    format_response_raw(&gc.body, &gc.html_url, &gc.user.login, text)
}

fn pr_body(github: &FakeGitHub) -> String {
    github.state().pulls[&("o".to_owned(), "r".to_owned(), 1)]
        .body
        .clone()
        .unwrap_or_default()
}

#[tokio::test]
async fn link_and_unlink_edit_the_fixes_line_for_members_only() {
    let errors = |items: &[String]| {
        let mut out = link_issue::ERRORS.to_owned();
        for i in items {
            out.push_str(&format!("* {i}\n"));
        }
        out
    };
    let upd = link_issue::UPDATED;
    let but = |items: &[String]| format!("{upd}\n\nHowever, {}", errors(items));
    // (comment, user, body before, body after, reply)
    let cases: Vec<(&str, &str, &str, &str, String)> = vec![
        (
            "/link-issue 10",
            "member",
            "Initial body",
            "Initial body\n\nFixes #10",
            upd.to_owned(),
        ),
        (
            "/link-issue 10 o/other#5\n/link-issue 11",
            "member",
            "Initial body",
            "Initial body\n\nFixes #10 #11 o/other#5",
            upd.to_owned(),
        ),
        (
            "/unlink-issue 11",
            "member",
            "Fixes #11",
            "",
            upd.to_owned(),
        ),
        (
            "/unlink-issue 11\n/link-issue 12",
            "member",
            "x\nFixes #11",
            "x\nFixes #12",
            upd.to_owned(),
        ),
        (
            "/unlink-issue garbage",
            "member",
            "Fixes #11 garbage",
            "Fixes #11",
            upd.to_owned(),
        ),
        (
            "/unlink-issue o/r#11",
            "member",
            "Fixes #11",
            "",
            upd.to_owned(),
        ),
        (
            "/link-issue 12",
            "member",
            "Fixes #12",
            "Fixes #12",
            link_issue::UP_TO_DATE.to_owned(),
        ),
        (
            "/link-issue 99",
            "member",
            "b",
            "b",
            errors(&[link_issue::no_issue(99, "o", "r")]),
        ),
        (
            "/link-issue -1",
            "member",
            "b",
            "b",
            errors(&[link_issue::no_issue(-1, "o", "r")]),
        ),
        (
            "/link-issue nope/x#1",
            "member",
            "b",
            "b",
            errors(&[link_issue::no_repository("nope", "x")]),
        ),
        (
            "/link-issue o/other#6",
            "member",
            "b",
            "b",
            errors(&[link_issue::no_issue(6, "o", "other")]),
        ),
        (
            "/link-issue 13",
            "member",
            "b",
            "b",
            errors(&[link_issue::is_pull_request(13, "o", "r")]),
        ),
        (
            "/link-issue abc",
            "member",
            "b",
            "b",
            errors(&[link_issue::invalid_format("abc")]),
        ),
        (
            "/link-issue 10 abc 13",
            "member",
            "b",
            "b\n\nFixes #10",
            but(&[
                link_issue::invalid_format("abc"),
                link_issue::is_pull_request(13, "o", "r"),
            ]),
        ),
        // Everyone else is told no, and nothing is looked up or changed.
        (
            "/link-issue 10",
            "stranger",
            "b",
            "b",
            link_issue::NOT_MEMBER.to_owned(),
        ),
        (
            "/unlink-issue 11",
            "stranger",
            "Fixes #11",
            "Fixes #11",
            link_issue::NOT_MEMBER.to_owned(),
        ),
    ];
    for (body, user, before, after, want) in cases {
        let github = github();
        github.edit_issue_body("o", "r", 1, before).await.unwrap();
        let gc = on(1, true, body, user);
        let (_, failures) = run(&IssueManagement::default(), &github, &gc).await;
        assert!(failures.is_empty(), "{body:?}: {failures:?}");
        assert_eq!(pr_body(&github), after, "{body:?} by {user}");
        assert_eq!(
            said(&github, "r", 1),
            [reply(&gc, &want)],
            "{body:?} by {user}"
        );
    }
}

#[tokio::test]
async fn link_is_only_for_new_comments_on_pull_requests() {
    let github = github();
    let on_issue = on(10, false, "/link-issue 11", "member");
    run(&IssueManagement::default(), &github, &on_issue).await;
    assert_eq!(
        said(&github, "r", 10),
        [reply(&on_issue, link_issue::ONLY_PULL_REQUESTS)]
    );
    let mut edited = on(1, true, "/link-issue 10", "member");
    edited.action = CommentAction::Edited;
    let (actions, _) = run(&IssueManagement::default(), &github, &edited).await;
    assert!(actions.is_empty());
    assert_eq!(pr_body(&github), "Initial body");
}

#[tokio::test]
async fn pin_and_unpin_are_for_top_level_approvers() {
    let plugin = IssueManagement::default();
    let github = github();
    let key = ("o".to_owned(), "r".to_owned(), 20);
    // (comment, user, pinned after, reply)
    let cases: &[(&str, &str, bool, String)] = &[
        (
            "/pin-issue",
            "member",
            false,
            pin_issue::NOT_APPROVER.to_owned(),
        ),
        (
            "/pin-issue",
            "reviewer",
            false,
            pin_issue::NOT_APPROVER.to_owned(),
        ),
        (
            "/pin-issue",
            "subonly",
            false,
            pin_issue::NOT_APPROVER.to_owned(),
        ),
        ("/pin-issue", "approver", true, pin_issue::done(20, true)),
        (
            "/unpin-issue",
            "stranger",
            true,
            pin_issue::NOT_APPROVER.to_owned(),
        ),
        (
            "/unpin-issue",
            "APPROVER",
            false,
            pin_issue::done(20, false),
        ),
        ("/PIN-ISSUE", "lead", true, pin_issue::done(20, true)),
    ];
    for (body, user, pinned, want) in cases {
        let before = said(&github, "r", 20).len();
        let gc = on(20, false, body, user);
        let (_, failures) = run(&plugin, &github, &gc).await;
        assert!(failures.is_empty(), "{body:?}: {failures:?}");
        assert_eq!(
            github.state().pinned.contains(&key),
            *pinned,
            "{body:?} by {user}"
        );
        assert_eq!(
            said(&github, "r", 20)[before..],
            [reply(&gc, want)],
            "{body:?} by {user}"
        );
    }
}

#[tokio::test]
async fn pin_refusals_and_failures_are_said_on_the_issue() {
    let plugin = IssueManagement::default();
    let github = github();
    // On a pull request, even an approver is told it is for issues.
    let on_pr = on(1, true, "/pin-issue", "approver");
    run(&plugin, &github, &on_pr).await;
    assert_eq!(
        said(&github, "r", 1),
        [reply(&on_pr, pin_issue::ONLY_ISSUES)]
    );
    // An edited comment does nothing.
    let mut edited = on(20, false, "/pin-issue", "approver");
    edited.action = CommentAction::Edited;
    let (actions, _) = run(&plugin, &github, &edited).await;
    assert!(actions.is_empty());
    // GitHub refuses the mutation: the issue hears so and the action fails.
    github.fail_next(
        "pin_issue",
        prow_github::Error::Validation {
            what: "pin".to_owned(),
            message: "nope".to_owned(),
        },
    );
    let gc = on(20, false, "/pin-issue", "approver");
    let (_, failures) = run(&plugin, &github, &gc).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with("pin issue o/r#20: "),
        "{failures:?}"
    );
    assert_eq!(
        said(&github, "r", 20),
        [reply(&gc, &pin_issue::failed(20, true))]
    );
    assert!(github.state().pinned.is_empty());
    // A repository pins at most three issues.
    for n in [10, 11, 12] {
        run(&plugin, &github, &on(n, false, "/pin-issue", "approver")).await;
    }
    let fourth = on(20, false, "/pin-issue", "approver");
    let (_, failures) = run(&plugin, &github, &fourth).await;
    assert_eq!(failures.len(), 1);
    assert_eq!(
        said(&github, "r", 20).last().unwrap(),
        &reply(&fourth, &pin_issue::failed(20, true))
    );
    // OWNERS cannot be read: the user hears that it could not be decided.
    github.fail_next(
        "ref_sha",
        prow_github::Error::NotFound {
            what: "ref".to_owned(),
        },
    );
    let unknown = on(20, false, "/unpin-issue", "approver");
    run(&plugin, &github, &unknown).await;
    assert_eq!(
        said(&github, "r", 20).last().unwrap(),
        &reply(&unknown, &pin_issue::owners_unknown("approver", "o", "r"))
    );
}

#[tokio::test]
async fn transfer_moves_an_issue_for_org_members() {
    let plugin = IssueManagement::default();
    let moved = |github: &FakeGitHub| github.state().transfers.clone();
    let key = |repo: &str, n: u64| ("o".to_owned(), repo.to_owned(), n);

    for body in [
        "/transfer other",
        "/transfer-issue other\r",
        "This belongs elsewhere\n/transfer-issue other\nThanks!",
    ] {
        let github = github();
        let gc = on(20, false, body, "member");
        let (actions, failures) = run(&plugin, &github, &gc).await;
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(actions, ["transfer issue o/r#20 to o/other"], "{body:?}");
        assert_eq!(
            moved(&github),
            [(key("r", 20), key("other", 6))],
            "{body:?}"
        );
        assert!(github.state().issues.contains_key(&key("other", 6)));
        assert!(said(&github, "r", 20).is_empty() && said(&github, "other", 6).is_empty());
    }

    // (comment, user, reply); nothing moves.
    let cases = [
        (
            "/transfer other",
            "stranger",
            transfer_issue::NOT_MEMBER.to_owned(),
        ),
        // The destination is looked up first, as upstream does.
        (
            "/transfer nowhere",
            "stranger",
            transfer_issue::no_destination("o", "nowhere"),
        ),
        (
            "/transfer nowhere",
            "member",
            transfer_issue::no_destination("o", "nowhere"),
        ),
        ("/transfer", "member", transfer_issue::ONCE.to_owned()),
        (
            "/transfer-issue a\n/transfer b",
            "member",
            transfer_issue::ONCE.to_owned(),
        ),
    ];
    for (body, user, want) in cases {
        let github = github();
        let gc = on(20, false, body, user);
        run(&plugin, &github, &gc).await;
        assert!(moved(&github).is_empty(), "{body:?}");
        assert_eq!(
            said(&github, "r", 20),
            [reply(&gc, &want)],
            "{body:?} by {user}"
        );
    }

    let github = github();
    let on_pr = on(1, true, "/transfer other", "member");
    run(&plugin, &github, &on_pr).await;
    assert_eq!(
        said(&github, "r", 1),
        [reply(&on_pr, transfer_issue::ONLY_ISSUES)]
    );
    let mut edited = on(20, false, "/transfer other", "member");
    edited.action = CommentAction::Deleted;
    let (actions, _) = run(&plugin, &github, &edited).await;
    assert!(actions.is_empty());
    assert!(moved(&github).is_empty());
}
