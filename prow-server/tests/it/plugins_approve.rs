//! The approve plugin: which comments and reviews count, the approval decision per OWNERS, the
//! notification comment (kept as one comment, edited in place) and the `approved` label, in
//! tables over the pure parts and end to end through hook with the fake GitHub.
//!
//! Also the OWNERS helpers the other OWNERS-based plugins' tests share.

use std::sync::Arc;

use prow_config::owners::{RepoOwners, parse_aliases, parse_owners};
use prow_config::plugins::Approve as ApproveConfig;
use prow_github::fake::FakeGitHub;
use prow_github::types::{Comment, PullRequestFile, Review, User};
use prow_plugins::plugins::approve::{self, Facts, Links, Note};
use prow_server::hook::Options;
use serde_json::{Value, json};

use crate::plugins_common::{plugin_config, summary};
use crate::support::{self, Server, comments, github, labels};

/// The base commit of PR #2 in the example payloads: OWNERS files are read there.
pub(crate) const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";

/// The example repository's OWNERS files.
pub(crate) const TREE: &[(&str, &str)] = &[
    (
        "OWNERS_ALIASES",
        "aliases:\n  core-team: [Core-Lead, core-second]\n",
    ),
    (
        "OWNERS",
        "approvers: [root-approver, core-team]\nreviewers: [root-reviewer]\nlabels: [area/root]\n",
    ),
    (
        "src/OWNERS",
        "approvers: [src-approver]\nreviewers: [src-reviewer, src-second]\nlabels: [area/src]\n",
    ),
    (
        "vendor/OWNERS",
        "options: {no_parent_owners: true}\napprovers: [vendor-approver]\nreviewers: [vendor-reviewer]\n",
    ),
];

/// [`TREE`] resolved, as the plugins' loader would.
pub(crate) fn owners() -> RepoOwners {
    let aliases = parse_aliases("OWNERS_ALIASES", TREE[0].1).unwrap();
    let mut o = RepoOwners::new(aliases);
    for (path, text) in &TREE[1..] {
        let dir = path.strip_suffix("OWNERS").unwrap().trim_end_matches('/');
        o.add(dir, &parse_owners(path, text).unwrap());
    }
    o
}

/// Puts `tree` in the fake at [`BASE`] and makes PR #2 change `files`.
pub(crate) fn seed(gh: &FakeGitHub, tree: &[(&str, &str)], files: &[&str]) {
    let mut state = gh.state();
    for (path, text) in tree {
        state.files.insert(
            (
                support::ORG.to_owned(),
                support::REPO.to_owned(),
                BASE.to_owned(),
                (*path).to_owned(),
            ),
            text.as_bytes().to_vec(),
        );
    }
    state.pull_files.insert(
        (support::ORG.to_owned(), support::REPO.to_owned(), 2),
        files
            .iter()
            .map(|f| PullRequestFile {
                filename: (*f).to_owned(),
                status: "modified".to_owned(),
                ..PullRequestFile::default()
            })
            .collect(),
    );
}

/// Records a comment by `user` on PR #2 in the fake (as GitHub would hold it) and returns its
/// webhook.
pub(crate) fn say(gh: &FakeGitHub, user: &str, body: &str) -> Value {
    let mut state = gh.state();
    let list = state
        .comments
        .entry((support::ORG.to_owned(), support::REPO.to_owned(), 2))
        .or_default();
    let n = list.len();
    list.push(Comment {
        id: 10_000 + n as u64,
        body: Some(body.to_owned()),
        user: User {
            login: user.to_owned(),
            ..User::default()
        },
        html_url: format!("https://github.com/Codertocat/Hello-World/pull/2#c{n}"),
        created_at: format!("2026-01-01T00:{:02}:00Z", n),
        ..Comment::default()
    });
    drop(state);
    let author = gh
        .state()
        .pulls
        .get(&(support::ORG.to_owned(), support::REPO.to_owned(), 2))
        .map(|p| p.user.login.clone())
        .unwrap_or_default();
    support::comment(body, user, &author)
}

/// A `pull_request_review` webhook for PR #2 (recorded in the fake too).
pub(crate) fn review(gh: &FakeGitHub, user: &str, state: &str, body: &str) -> Value {
    let n = {
        let mut s = gh.state();
        let list = s
            .reviews
            .entry((support::ORG.to_owned(), support::REPO.to_owned(), 2))
            .or_default();
        list.push(Review {
            id: 20_000 + list.len() as u64,
            user: User {
                login: user.to_owned(),
                ..User::default()
            },
            body: Some(body.to_owned()),
            state: state.to_uppercase(),
            html_url: "https://github.com/Codertocat/Hello-World/pull/2#review".to_owned(),
            submitted_at: Some(format!("2026-01-01T01:{:02}:00Z", list.len())),
        });
        list.len()
    };
    let mut payload = support::opened("Codertocat");
    let pr = payload["pull_request"].clone();
    payload = json!({
        "action": "submitted",
        "review": {"id": 20_000 + n, "user": {"login": user}, "body": body, "state": state,
                   "html_url": "https://github.com/Codertocat/Hello-World/pull/2#review"},
        "pull_request": pr,
        "repository": payload["repository"].clone(),
        "sender": {"login": user},
    });
    payload
}

#[test]
fn which_comments_count_as_approval_commands() {
    let cases: &[(&str, bool, bool)] = &[
        ("/approve", false, true),
        ("/APPROVE no-issue", false, true),
        ("/approve cancel", false, true),
        ("/remove-approve", false, true),
        ("/lgtm", false, false),
        ("/lgtm", true, true),
        ("please /approve", false, false),
        ("looks good\n/approve\n", false, true),
        ("/approved", false, false),
    ];
    for (body, lgtm_acts, want) in cases {
        assert_eq!(
            approve::is_approval_command(body, *lgtm_acts),
            *want,
            "{body:?} lgtm_acts_as_approve={lgtm_acts}"
        );
    }
    assert!(approve::is_approval_state("approved", true));
    assert!(approve::is_approval_state("CHANGES_REQUESTED", true));
    assert!(!approve::is_approval_state("commented", true));
    assert!(!approve::is_approval_state("approved", false));
    assert_eq!(approve::associated_issue("Fixes #12", "o"), Some(12));
    assert_eq!(
        approve::associated_issue("see https://github.com/o/r/issues/5", "o"),
        Some(5)
    );
    assert_eq!(approve::associated_issue("no issue", "o"), None);
}

fn links() -> Links {
    let c = plugin_config("").approve_for("o", "r");
    let mut l = approve::links_for("o", "r", "master", "OWNERS");
    l.command_help_link = c.command_help_link;
    l.pr_process_link = c.pr_process_link;
    l
}

fn facts(author: &str, files: &[&str], notes: Vec<Note>, has_label: bool) -> Facts {
    let mut f = Facts::default();
    f.number = 2;
    f.author = author.to_owned();
    f.html_url = "https://github.com/o/r/pull/2".to_owned();
    f.files = files.iter().map(|s| (*s).to_owned()).collect();
    f.notes = notes;
    f.has_approved_label = has_label;
    f
}

fn note(n: u64, user: &str, body: &str) -> Note {
    Note::new(n, user, body, &format!("2026-01-01T00:0{n}:00Z"))
}

fn reviewed(n: u64, user: &str, state: &str) -> Note {
    let mut note = note(n, user, "");
    note.review_state = state.to_owned();
    note
}

fn config(yaml: &str) -> ApproveConfig {
    plugin_config(&format!("approve:\n- repos: [o/r]\n{yaml}")).approve_for("o", "r")
}

/// Decides and summarises: the notification's title line (created or edited) and the label
/// change.
fn run(settings: &ApproveConfig, f: &Facts) -> Vec<String> {
    approve::decide(&owners(), f, settings, &links())
        .iter()
        .map(|a| match a {
            prow_plugins::Action::EditComment { body, .. } => {
                format!("say {}", body.lines().next().unwrap_or_default())
            }
            other => summary(std::slice::from_ref(other)).join(""),
        })
        .collect()
}

/// The bot's notification saying `title`.
fn notified(n: u64, title: &str) -> Note {
    let mut note = note(
        n,
        "ci-robot",
        &format!("[APPROVALNOTIFIER] This PR is **{title}**"),
    );
    note.by_bot = true;
    note
}

const NOT: &str = "say [APPROVALNOTIFIER] This PR is **NOT APPROVED**";
const YES: &str = "say [APPROVALNOTIFIER] This PR is **APPROVED**";

#[test]
fn approval_needs_an_owner_of_every_file() {
    let d = config("");
    let f = |notes, label| facts("author", &["src/a.go", "README.md"], notes, label);
    // Nobody approved: the notification, no label.
    assert_eq!(run(&d, &f(vec![], false)), [NOT]);
    // A stranger's /approve counts for nothing.
    assert_eq!(
        run(&d, &f(vec![note(1, "stranger", "/approve")], false)),
        [NOT]
    );
    // The src approver covers src/ only; the root approver covers everything.
    assert_eq!(
        run(&d, &f(vec![note(1, "src-approver", "/approve")], false)),
        [NOT]
    );
    assert_eq!(
        run(&d, &f(vec![note(1, "root-approver", "/approve")], false)),
        [YES, "add approved"]
    );
    // Through an alias, whatever the case.
    assert_eq!(
        run(&d, &f(vec![note(1, "core-lead", "/approve")], false)),
        [YES, "add approved"]
    );
    // Cancelled later: the label the bot added goes.
    for cancel in ["/approve cancel", "/remove-approve"] {
        assert_eq!(
            run(
                &d,
                &f(
                    vec![
                        note(1, "root-approver", "/approve"),
                        notified(2, "APPROVED"),
                        note(3, "root-approver", cancel)
                    ],
                    true
                )
            ),
            [NOT, "remove approved"],
            "{cancel}"
        );
    }
    // The bot's own comments never approve.
    let mut by_bot = note(1, "ci-robot", "/approve");
    by_bot.by_bot = true;
    assert_eq!(run(&d, &f(vec![by_bot], false)), [NOT]);
}

#[test]
fn no_parent_owners_shuts_out_parent_approvers() {
    let d = config("");
    let f = |user: &str| {
        facts(
            "author",
            &["vendor/lib.go"],
            vec![note(1, user, "/approve")],
            false,
        )
    };
    assert_eq!(run(&d, &f("root-approver")), [NOT]);
    assert_eq!(run(&d, &f("vendor-approver")), [YES, "add approved"]);
}

#[test]
fn lgtm_and_reviews_act_as_approval_when_configured() {
    let lgtm = |yaml: &str, label| {
        run(
            &config(yaml),
            &facts(
                "author",
                &["src/a.go"],
                vec![note(1, "src-approver", "/lgtm")],
                label,
            ),
        )
    };
    assert_eq!(lgtm("", false), [NOT]);
    // Upstream's `addApprovers` reads every command of a comment that counts: its
    // `/lgtm cancel` withdraws the approval even when `/lgtm` does not act as one.
    assert_eq!(
        run(
            &config(""),
            &facts(
                "author",
                &["src/a.go"],
                vec![note(1, "src-approver", "/approve\n/lgtm cancel")],
                false,
            ),
        ),
        [NOT]
    );
    assert_eq!(
        lgtm("  lgtm_acts_as_approve: true\n", false),
        [YES, "add approved"]
    );
    let rev = |yaml: &str, notes| run(&config(yaml), &facts("author", &["src/a.go"], notes, false));
    assert_eq!(
        rev("", vec![reviewed(1, "src-approver", "APPROVED")]),
        [YES, "add approved"]
    );
    assert_eq!(
        rev(
            "",
            vec![
                reviewed(1, "src-approver", "APPROVED"),
                reviewed(2, "src-approver", "CHANGES_REQUESTED")
            ]
        ),
        [NOT]
    );
    assert_eq!(
        rev(
            "  ignore_review_state: true\n",
            vec![reviewed(1, "src-approver", "APPROVED")]
        ),
        [NOT]
    );
}

#[test]
fn authors_approve_their_own_pull_requests_unless_self_approval_is_required() {
    let f = facts("src-approver", &["src/a.go"], vec![], false);
    assert_eq!(run(&config(""), &f), [YES, "add approved"]);
    assert_eq!(run(&config("  require_self_approval: true\n"), &f), [NOT]);
    let f = facts(
        "src-approver",
        &["src/a.go"],
        vec![note(1, "src-approver", "/approve")],
        false,
    );
    assert_eq!(
        run(&config("  require_self_approval: true\n"), &f),
        [YES, "add approved"]
    );
}

#[test]
fn issue_required_wants_an_issue_or_no_issue() {
    let c = config("  issue_required: true\n");
    let approved = |body: &str, pr_body: &str| {
        let mut f = facts(
            "author",
            &["src/a.go"],
            vec![note(1, "src-approver", body)],
            false,
        );
        f.body = pr_body.to_owned();
        run(&c, &f)
    };
    assert_eq!(approved("/approve", ""), [NOT]);
    assert_eq!(approved("/approve no-issue", ""), [YES, "add approved"]);
    assert_eq!(approved("/approve", "Fixes #3"), [YES, "add approved"]);
}

#[test]
fn the_notification_is_edited_in_place_and_duplicates_removed() {
    let d = config("");
    let mut first = note(
        1,
        "ci-robot",
        "[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\nold",
    );
    first.by_bot = true;
    let mut second = note(
        2,
        "ci-robot",
        "[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\nolder",
    );
    second.by_bot = true;
    let f = facts(
        "author",
        &["src/a.go"],
        vec![first, second, note(3, "src-approver", "/approve")],
        false,
    );
    let actions = approve::decide(&owners(), &f, &d, &links());
    let got: Vec<String> = actions
        .iter()
        .map(|a| match a {
            prow_plugins::Action::EditComment { id, body, .. } => {
                format!("edit {id}: {}", body.lines().next().unwrap_or_default())
            }
            other => summary(std::slice::from_ref(other)).join(""),
        })
        .collect();
    assert_eq!(
        got,
        [
            "edit 2: [APPROVALNOTIFIER] This PR is **APPROVED**",
            "delete 1",
            "add approved"
        ]
    );
    // Unchanged: nothing to do.
    let current = approve::decide(&owners(), &f, &d, &links());
    let text = match &current[0] {
        prow_plugins::Action::EditComment { body, .. } => body.clone(),
        other => panic!("{other:?}"),
    };
    let mut same = note(4, "ci-robot", &text);
    same.by_bot = true;
    let f = facts(
        "author",
        &["src/a.go"],
        vec![note(3, "src-approver", "/approve"), same],
        true,
    );
    assert!(approve::decide(&owners(), &f, &d, &links()).is_empty());
}

#[test]
fn a_hand_added_label_is_kept() {
    assert!(approve::manually_approved(true, None));
    assert!(approve::manually_approved(
        true,
        Some("[APPROVALNOTIFIER] This PR is **NOT APPROVED**")
    ));
    assert!(!approve::manually_approved(
        true,
        Some("[APPROVALNOTIFIER] This PR is **APPROVED**")
    ));
    assert!(!approve::manually_approved(false, None));
    let f = facts("author", &["src/a.go"], vec![], true);
    let got = run(&config(""), &f);
    assert_eq!(got, [YES]);
}

fn notification_text(f: &Facts, c: &ApproveConfig) -> String {
    let actions = approve::decide(&owners(), f, c, &links());
    match &actions[0] {
        prow_plugins::Action::Comment { body, .. } => body.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn notification_texts() {
    let d = config("");
    insta::assert_snapshot!(
        "not_approved",
        notification_text(
            &facts(
                "author",
                &["src/a.go", "README.md", "vendor/x.go"],
                vec![note(1, "src-approver", "/approve")],
                false
            ),
            &d
        )
    );
    insta::assert_snapshot!(
        "approved",
        notification_text(
            &facts(
                "author",
                &["src/a.go"],
                vec![note(1, "src-approver", "/approve")],
                false
            ),
            &d
        )
    );
    let mut f = facts("author", &["src/a.go"], vec![], false);
    f.assignees = vec!["src-approver".to_owned()];
    insta::assert_snapshot!(
        "issue_required_with_assignee",
        notification_text(&f, &config("  issue_required: true\n"))
    );
}

#[test]
fn help_describes_each_repo() {
    let plugins = plugin_config(
        "approve:\n- repos: [o/r]\n  issue_required: true\n  lgtm_acts_as_approve: true\n",
    );
    let help = prow_plugins::builtin()["approve"].help(&plugins);
    assert_eq!(
        help.commands[0].usage,
        "/[remove-]approve [no-issue|cancel]"
    );
    assert_eq!(
        help.config["o/r"],
        "Pull requests require an associated issue.<br>Pull request authors implicitly approve their own PRs.<br>The /lgtm [cancel] command(s) will act as approval.<br>A GitHub approved or changes requested review will act as approval or cancel respectively."
    );
}

async fn start(gh: Arc<FakeGitHub>, extra: &str) -> Server {
    let plugins = format!("plugins:\n  Codertocat/Hello-World:\n    plugins: [approve]\n{extra}");
    Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, &plugins),
    )
    .await
}

fn notifications(gh: &FakeGitHub) -> Vec<String> {
    comments(gh)
        .into_iter()
        .filter(|c| c.starts_with("[APPROVALNOTIFIER]"))
        .map(|c| c.lines().next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_end_to_end() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &["src/main.go"]);
    let server = start(gh.clone(), "").await;
    let mut sent = 0;
    let mut send = |payload: Value| {
        sent += 1;
        let n = sent;
        let server = &server;
        async move {
            server.send("issue_comment", &payload).await;
            server.metrics.wait_processed(n).await;
        }
    };
    // Anyone may write /approve, but a stranger owns nothing: NOT APPROVED, no label.
    send(say(&gh, "stranger", "/approve")).await;
    assert_eq!(
        notifications(&gh),
        ["[APPROVALNOTIFIER] This PR is **NOT APPROVED**"]
    );
    assert!(
        comments(&gh)
            .iter()
            .any(|c| c.contains("title=\"Approved\">stranger</a>"))
    );
    assert_eq!(labels(&gh), Vec::<String>::new());
    // The owner approves: the same comment now says APPROVED; the label is added.
    send(say(&gh, "src-approver", "/approve")).await;
    assert_eq!(
        notifications(&gh),
        ["[APPROVALNOTIFIER] This PR is **APPROVED**"]
    );
    assert_eq!(labels(&gh), ["approved"]);
    assert_eq!(gh.state().calls.get("edit_comment"), Some(&1));
    // Cancelled: back to NOT APPROVED, label removed, still one notification.
    send(say(&gh, "src-approver", "/approve cancel")).await;
    assert_eq!(
        notifications(&gh),
        ["[APPROVALNOTIFIER] This PR is **NOT APPROVED**"]
    );
    assert_eq!(labels(&gh), Vec::<String>::new());
    // Comments that are not approval commands leave everything alone.
    let before = gh.state().calls.clone();
    send(say(&gh, "src-approver", "nice work")).await;
    assert_eq!(
        gh.state().calls.get("pull_request_files"),
        before.get("pull_request_files")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_by_review_and_by_lgtm_end_to_end() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &["src/main.go"]);
    let server = start(
        gh.clone(),
        "approve:\n- repos: [Codertocat/Hello-World]\n  lgtm_acts_as_approve: true\n",
    )
    .await;
    server
        .send(
            "pull_request_review",
            &review(&gh, "src-approver", "approved", ""),
        )
        .await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&gh), ["approved"]);
    server
        .send(
            "pull_request_review",
            &review(&gh, "src-approver", "changes_requested", ""),
        )
        .await;
    server.metrics.wait_processed(2).await;
    assert_eq!(labels(&gh), Vec::<String>::new());
    server
        .send("issue_comment", &say(&gh, "core-second", "/lgtm"))
        .await;
    server.metrics.wait_processed(3).await;
    assert_eq!(labels(&gh), ["approved"]);
    assert_eq!(notifications(&gh).len(), 1);
    // OWNERS were read once per file at the base commit, then served from the cache.
    let reads = gh
        .state()
        .calls
        .get("file_contents")
        .copied()
        .unwrap_or_default();
    assert_eq!(reads, 3, "OWNERS_ALIASES, OWNERS, src/OWNERS");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_pull_request_posts_the_notification() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &["src/main.go"]);
    let server = start(gh.clone(), "").await;
    server
        .send("pull_request", &support::opened("Codertocat"))
        .await;
    server.metrics.wait_processed(1).await;
    assert_eq!(
        notifications(&gh),
        ["[APPROVALNOTIFIER] This PR is **NOT APPROVED**"]
    );
    let text = comments(&gh).remove(0);
    assert!(
        text.contains("please assign [src-approver](https://github.com/src-approver) for approval"),
        "{text}"
    );
    server.shutdown().await;
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Reading commands and issue references never panics, and a line starting `/approve`
    /// always counts.
    #[test]
    fn proptest_command_reading_is_total(body in ".{0,80}", org in "[a-zA-Z.*+]{0,6}") {
        let _ = approve::is_approval_command(&body, true);
        let _ = approve::associated_issue(&body, &org);
        let with = format!("{body}\n/approve");
        proptest::prop_assert!(approve::is_approval_command(&with, false));
    }

    /// Whatever the notes say, the decision is one notification and at most one label change,
    /// and the label follows the title.
    #[test]
    fn proptest_decisions_are_consistent(
        notes in proptest::collection::vec(
            (
                proptest::sample::select(vec!["stranger", "src-approver", "root-approver", "core-second", "author"]),
                proptest::sample::select(vec!["/approve", "/approve cancel", "/lgtm", "/approve no-issue", "/remove-approve", "hi"]),
            ),
            0..6,
        ),
        files in proptest::collection::vec(
            proptest::sample::select(vec!["src/a.go", "README.md", "vendor/x.go", "docs/y.md"]),
            1..4,
        ),
        lgtm_acts in proptest::bool::ANY,
    ) {
        let notes = notes
            .iter()
            .enumerate()
            .map(|(i, (u, b))| note(i as u64, u, b))
            .collect();
        let c = config(if lgtm_acts { "  lgtm_acts_as_approve: true\n" } else { "" });
        let got = run(&c, &facts("author", &files, notes, false));
        proptest::prop_assert!(got[0] == NOT || got[0] == YES, "{got:?}");
        let approved = got[0] == YES;
        proptest::prop_assert_eq!(got.len(), if approved { 2 } else { 1 });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_parent_owners_and_closed_pull_requests_end_to_end() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &["vendor/lib/x.go"]);
    let server = start(gh.clone(), "").await;
    // The loader reads vendor/lib, vendor and the root; vendor's OWNERS cuts the root off.
    server
        .send("issue_comment", &say(&gh, "root-approver", "/approve"))
        .await;
    server.metrics.wait_processed(1).await;
    assert_eq!(
        notifications(&gh),
        ["[APPROVALNOTIFIER] This PR is **NOT APPROVED**"]
    );
    server
        .send("issue_comment", &say(&gh, "vendor-approver", "/approve"))
        .await;
    server.metrics.wait_processed(2).await;
    assert_eq!(labels(&gh), ["approved"]);
    // The bot's own comments and comments on closed pull requests are ignored.
    let calls = gh.state().calls.get("pull_request_files").copied();
    server
        .send("issue_comment", &say(&gh, "ci-robot", "/approve cancel"))
        .await;
    let mut closed = say(&gh, "vendor-approver", "/approve cancel");
    closed["issue"]["state"] = "closed".into();
    server.send("issue_comment", &closed).await;
    server.metrics.wait_processed(4).await;
    assert_eq!(gh.state().calls.get("pull_request_files").copied(), calls);
    assert_eq!(labels(&gh), ["approved"]);
    server.shutdown().await;
}
