//! The plugins added after the first batch, decision by decision: invalidcommitmsg,
//! merge-method-comment, branchcleaner, cherry-pick-approved, sigmention and stage (each through
//! the real hook is in prow-server's `plugins_remaining`).

use prow_config::plugins::{BranchCleaner, CherryPickApproved, InvalidCommitMsg, LenientMap};
use prow_config::prow::Tide;
use prow_github::events::{CommentAction, PullRequestEvent};
use prow_github::types::{CommitInfo, StatusState};
use prow_plugins::Request;
use prow_plugins::plugins::{
    branchcleaner, cherry_pick_approved as cpa, invalidcommitmsg as icm,
    merge_method_comment as mmc, sigmention, stage,
};

use crate::added::{bodies, comment, said};

fn commit(sha: &str, message: &str) -> CommitInfo {
    CommitInfo {
        sha: sha.to_owned(),
        message: message.to_owned(),
        ..CommitInfo::default()
    }
}

#[test]
fn invalidcommitmsg_finds_closing_keywords_and_temporary_commits() {
    let all = InvalidCommitMsg::default();
    let commits = [
        commit("1111111aaaa", "Fixes #12\n\nthe body"),
        commit("2222222bbbb", "fixup! add the thing"),
        commit("3333333cccc", "add the thing\n\nsee org/repo#4 for why"),
        commit("4444444dddd", "squash it\n\nsquash! not the subject"),
        commit("5555555eeee", "close: org/repo#3"),
    ];
    let found = icm::check(&all, &commits, "A title");
    let shas = |c: &[CommitInfo]| c.iter().map(|c| c.sha.clone()).collect::<Vec<_>>();
    assert_eq!(shas(&found.closing), ["1111111aaaa", "5555555eeee"]);
    assert_eq!(shas(&found.fixups), ["2222222bbbb"]);
    assert!(!found.title);
    assert!(icm::check(&all, &[], "Resolves #9").title);
    assert!(!icm::check(&all, &[], "Resolve the #9 problem").title);
    // Each check may be turned off.
    let settings: InvalidCommitMsg = serde_yaml::from_str(
        "repos: [o]\nchecks:\n- name: fixupPrefix\n  disabled: true\n- name: issueClosingKeywords\n  disabled: false\n",
    )
    .unwrap();
    let found = icm::check(&settings, &commits, "Fixes #1");
    assert!(found.fixups.is_empty());
    assert_eq!(found.closing.len(), 2);
    assert!(found.title);
    let settings: InvalidCommitMsg =
        serde_yaml::from_str("checks:\n- name: issueClosingKeywords\n  disabled: true\n").unwrap();
    let found = icm::check(&settings, &commits, "Fixes #1");
    assert!(found.closing.is_empty() && !found.title);
    assert_eq!(found.fixups.len(), 1);
}

#[test]
fn invalidcommitmsg_keeps_label_and_one_fresh_comment_in_step() {
    let bad = icm::Findings {
        fixups: vec![commit("2222222bbbb", "fixup! x")],
        title: true,
        ..icm::Findings::default()
    };
    let good = icm::Findings::default();
    let ours = vec![
        (7, format!("{}\n\nold text", icm::MARKER)),
        (
            8,
            "**The list of commits with invalid commit messages**:\n...".to_owned(),
        ),
        (9, "an unrelated bot comment".to_owned()),
    ];
    type Case<'a> = (&'a icm::Findings, bool, &'a [(u64, String)], &'a [&'a str]);
    let cases: [Case<'_>; 5] = [
        (
            &bad,
            false,
            &[],
            &[
                "add labels [\"do-not-merge/invalid-commit-message\"] to o/r#1",
                "comment on o/r#1",
            ],
        ),
        (
            &bad,
            true,
            &ours,
            &[
                "delete comment 7 in o/r",
                "delete comment 8 in o/r",
                "comment on o/r#1",
            ],
        ),
        (
            &good,
            true,
            &ours,
            &[
                "remove label \"do-not-merge/invalid-commit-message\" from o/r#1",
                "delete comment 7 in o/r",
                "delete comment 8 in o/r",
            ],
        ),
        (&good, false, &[], &[]),
        (&good, false, &ours[2..], &[]),
    ];
    for (findings, has_label, comments, want) in cases {
        let actions = icm::decide("o", "r", 1, findings, has_label, comments);
        assert_eq!(said(&actions), want, "label {has_label}");
    }
    let body = icm::comment("o", "r", &bad);
    assert!(body.starts_with("<!-- [prow:invalid-commit-message] -->\n\nInvalid commit message issues detected\n\n### Fixup/amend/squash commits\n\nTemporary commits like fixup!, amend!, or squash! are not allowed."), "{body}");
    assert!(body.contains("- [2222222](https://github.com/o/r/commits/2222222bbbb) fixup! x"));
    assert!(body.contains("### Invalid PR title\n\n[Keywords](https://help.github.com/articles/closing-issues-using-keywords) are not allowed in PR titles.\n\nUse `/retitle <new-title>` to fix it."));
    assert!(!body.contains("### Invalid commit messages"));
    for action in ["opened", "reopened", "synchronize", "edited"] {
        assert!(icm::changes(action), "{action}");
    }
    for action in ["closed", "labeled", "assigned"] {
        assert!(!icm::changes(action), "{action}");
    }
}

#[test]
fn merge_method_comment_says_how_to_ask_for_the_other_method() {
    let tide = |yaml: &str| -> Tide { serde_yaml::from_str(yaml).unwrap() };
    let cases = [
        ("{}", 1, None),
        ("{}", 0, None),
        (
            "{}",
            2,
            Some(
                "This PR has multiple commits, and the default merge method is: merge.\nCommits will be merged, as no squash labels are defined",
            ),
        ),
        (
            "squash_label: tide/merge-method-squash",
            3,
            Some(
                "This PR has multiple commits, and the default merge method is: merge.\nYou can request commits to be squashed using the label: tide/merge-method-squash",
            ),
        ),
        (
            "merge_method: {o/r: squash}",
            2,
            Some(
                "This PR has multiple commits, and the default merge method is: squash.\nCommits will be squashed, as no merge labels are defined",
            ),
        ),
        (
            "merge_method: {o: squash}\nmerge_label: tide/merge-method-merge",
            2,
            Some(
                "This PR has multiple commits, and the default merge method is: squash.\nYou can request commits to be merged using the label: tide/merge-method-merge",
            ),
        ),
        (
            "merge_method: {o/r: rebase}",
            2,
            Some("This PR has multiple commits, and the default merge method is: rebase.\n"),
        ),
    ];
    for (yaml, commits, want) in cases {
        assert_eq!(
            mmc::text(&tide(yaml), "o", "r", commits).as_deref(),
            want,
            "{yaml} {commits}"
        );
    }
    let text = mmc::text(&tide("{}"), "o", "r", 2).unwrap();
    let actions = mmc::decide("o", "r", 1, &text, &[]);
    assert_eq!(said(&actions), ["comment on o/r#1"]);
    assert!(bodies(&actions)[0].starts_with(&text));
    assert!(bodies(&actions)[0].ends_with("</details>"));
    // Said once: the bot's earlier comment with the same text stops a second.
    let earlier = [(5, bodies(&actions)[0].to_owned())];
    assert!(mmc::decide("o", "r", 1, &text, &earlier).is_empty());
}

fn merged(action: &str, merged: bool, head_repo: &str, branch: &str) -> PullRequestEvent {
    let mut pe = PullRequestEvent {
        action: action.to_owned(),
        ..Default::default()
    };
    pe.repository.name = "r".to_owned();
    pe.repository.owner.login = "o".to_owned();
    pe.pull_request.merged = Some(merged);
    pe.pull_request.head.git_ref = branch.to_owned();
    let repo = |full: &str| prow_github::types::Repo {
        full_name: full.to_owned(),
        ..Default::default()
    };
    pe.pull_request.base.repo = Some(repo("o/r"));
    pe.pull_request.head.repo = Some(repo(head_repo));
    pe
}

#[test]
fn branchcleaner_deletes_merged_same_repository_branches_unless_preserved() {
    let mut config = BranchCleaner::default();
    config.preserved_branches = LenientMap(
        [
            ("o/r".to_owned(), vec!["keep-me".to_owned()]),
            ("o".to_owned(), vec!["^release-.*$".to_owned()]),
        ]
        .into_iter()
        .collect(),
    );
    let cases = [
        (
            merged("closed", true, "o/r", "feature"),
            Some("delete ref heads/feature of o/r"),
        ),
        (merged("closed", false, "o/r", "feature"), None),
        (merged("opened", true, "o/r", "feature"), None),
        (merged("closed", true, "fork/r", "feature"), None),
        (merged("closed", true, "o/r", "keep-me"), None),
        (merged("closed", true, "o/r", "release-1.2"), None),
        (
            merged("closed", true, "o/r", "my-release-1.2"),
            Some("delete ref heads/my-release-1.2 of o/r"),
        ),
    ];
    for (pe, want) in cases {
        let got = branchcleaner::decide(&config, &pe).map(|a| a.describe());
        assert_eq!(
            got.as_deref(),
            want,
            "{} {}",
            pe.action,
            pe.pull_request.head.git_ref
        );
    }
    assert!(branchcleaner::is_preserved(
        &config,
        "o",
        "other",
        "release-9"
    ));
    assert!(!branchcleaner::is_preserved(
        &config, "o", "other", "keep-me"
    ));
}

#[test]
fn cherry_pick_approved_needs_a_listed_approver_lgtm_approved_and_nothing_blocking() {
    let settings: CherryPickApproved =
        serde_yaml::from_str("org: o\nrepo: r\napprovers: [rm]\n").unwrap();
    assert!(cpa::applies(&settings, "release-1.0", "rm"));
    assert!(!cpa::applies(&settings, "master", "rm"));
    assert!(!cpa::applies(&settings, "release-1.0", "stranger"));
    let none: CherryPickApproved = serde_yaml::from_str("org: o\nrepo: r\n").unwrap();
    assert!(!cpa::applies(&none, "release-1.0", "rm"));
    let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let ok = labels(&["lgtm", "approved", "do-not-merge/cherry-pick-not-approved"]);
    assert_eq!(
        said(&cpa::decide(
            &settings,
            "o",
            "r",
            1,
            &ok,
            &[StatusState::Success, StatusState::Pending]
        )),
        [
            "add labels [\"cherry-pick-approved\"] to o/r#1",
            "remove label \"do-not-merge/cherry-pick-not-approved\" from o/r#1"
        ]
    );
    let cases: [(&[&str], &[StatusState]); 5] = [
        (&["lgtm", "approved"], &[StatusState::Failure]),
        (&["lgtm", "approved"], &[StatusState::Error]),
        (&["lgtm"], &[]),
        (&["approved"], &[]),
        (&["lgtm", "approved", "do-not-merge/hold"], &[]),
    ];
    for (l, states) in cases {
        assert!(
            cpa::decide(&settings, "o", "r", 1, &labels(l), states).is_empty(),
            "{l:?} {states:?}"
        );
    }
    assert!(
        cpa::decide(
            &settings,
            "o",
            "r",
            1,
            &labels(&["lgtm", "approved", "cherry-pick-approved"]),
            &[]
        )
        .is_empty()
    );
    let lenient: CherryPickApproved = serde_yaml::from_str(
        "org: o\nrepo: r\napprovers: [rm]\nallow_missing_lgtm_label: true\nallow_missing_approved_label: true\nbranchregexp: '^v\\d'\n",
    )
    .unwrap();
    assert_eq!(
        said(&cpa::decide(&lenient, "o", "r", 1, &[], &[])),
        ["add labels [\"cherry-pick-approved\"] to o/r#1"]
    );
    assert!(cpa::applies(&lenient, "v1.2", "rm") && !cpa::applies(&lenient, "release-1.2", "rm"));
    // The last entry for the repository wins, as upstream.
    let all = [none.clone(), settings.clone()];
    assert_eq!(cpa::settings_for(&all, "o", "r"), Some(&settings));
    assert_eq!(cpa::settings_for(&all, "o", "x"), None);
}

#[test]
fn sigmention_labels_known_sigs_and_repeats_for_non_members() {
    let re = sigmention::regexp(&Default::default()).unwrap();
    let gc = comment(
        "cc @kubernetes/sig-testing-bugs and @kubernetes/sig-node-misc, also @kubernetes/sig-nope-bugs",
        "open",
        CommentAction::Created,
    );
    let request = Request::of(&gc);
    let facts = sigmention::Facts {
        labels: vec!["sig/node".to_owned()],
        repo_labels: vec![
            "SIG/Testing".to_owned(),
            "sig/node".to_owned(),
            "kind/bug".to_owned(),
        ],
        member: false,
    };
    let actions = sigmention::decide(&re, &request, &facts);
    assert_eq!(
        said(&actions),
        [
            "add labels [\"SIG/Testing\", \"kind/bug\"] to o/r#1",
            "comment on o/r#1"
        ]
    );
    assert!(bodies(&actions)[0].starts_with("@u: Reiterating the mentions to trigger a notification: \n@kubernetes/sig-testing-bugs, @kubernetes/sig-node-misc\n"), "{}", bodies(&actions)[0]);
    // Members' mentions notify by themselves.
    let member = sigmention::Facts {
        member: true,
        ..facts.clone()
    };
    assert_eq!(
        said(&sigmention::decide(&re, &request, &member)),
        ["add labels [\"SIG/Testing\", \"kind/bug\"] to o/r#1"]
    );
    // A sig the repository has no label for is neither labelled nor repeated.
    let gc = comment("@kubernetes/sig-nope-bugs", "open", CommentAction::Created);
    assert!(sigmention::decide(&re, &Request::of(&gc), &facts).is_empty());
    assert_eq!(
        sigmention::kind_label("api-reviews"),
        Some("kind/api-change")
    );
    assert_eq!(sigmention::kind_label("pr-reviews"), None);
}

#[test]
fn stage_replaces_the_stage_label_and_removes_on_request() {
    let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let cases: [(&str, &[&str], &[&str]); 7] = [
        (
            "/stage alpha",
            &[],
            &["add labels [\"stage/alpha\"] to o/r#1"],
        ),
        ("/stage alpha", &["stage/alpha"], &[]),
        (
            "/stage beta",
            &["stage/alpha", "stage/stable"],
            &[
                "remove label \"stage/alpha\" from o/r#1",
                "remove label \"stage/stable\" from o/r#1",
                "add labels [\"stage/beta\"] to o/r#1",
            ],
        ),
        (
            "/remove-stage beta",
            &["stage/beta"],
            &["remove label \"stage/beta\" from o/r#1"],
        ),
        ("/remove-stage beta", &["stage/alpha"], &[]),
        (
            "/stage alpha\n/stage beta",
            &[],
            &[
                "add labels [\"stage/alpha\"] to o/r#1",
                "remove label \"stage/alpha\" from o/r#1",
                "add labels [\"stage/beta\"] to o/r#1",
            ],
        ),
        ("/stage gamma", &[], &[]),
    ];
    for (body, have, want) in cases {
        assert_eq!(
            said(&stage::decide("o", "r", 1, body, &labels(have))),
            want,
            "{body:?} {have:?}"
        );
    }
    assert_eq!(
        stage::requested("/STAGE Beta"),
        [(false, "Beta".to_owned())]
    );
}

#[test]
fn goose_asks_the_configured_endpoint_with_the_key_or_stays_offline() {
    use prow_plugins::plugins::{goose, trick_or_treat};
    let settings =
        |yaml: &str| -> prow_config::plugins::Goose { serde_yaml::from_str(yaml).unwrap() };
    let key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key.path(), " k&y \n").unwrap();
    let key_path = key.path().display().to_string();
    let cases = [
        ("{}".to_owned(), None),
        (
            format!("key_path: {key_path}"),
            Some("https://api.unsplash.com/photos/random?query=goose&client_id=k%26y"),
        ),
        (
            "endpoint: http://127.0.0.1:9/r".to_owned(),
            Some("http://127.0.0.1:9/r"),
        ),
        (
            format!("endpoint: http://127.0.0.1:9/r?a=b\nkey_path: {key_path}"),
            Some("http://127.0.0.1:9/r?a=b&client_id=k%26y"),
        ),
        // A key that cannot be read is no key.
        ("key_path: /nonexistent/key".to_owned(), None),
    ];
    for (yaml, want) in cases {
        assert_eq!(goose::endpoint(&settings(&yaml)).as_deref(), want, "{yaml}");
    }
    assert_eq!(
        goose::reply_text(Some("https://g/x.jpg")),
        "\n![goose image](https://g/x.jpg)"
    );
    assert_eq!(goose::reply_text(None), goose::NO_GOOSE);
    assert!(
        goose::requested("/honk") && goose::requested("/Honk  ") && !goose::requested("/honk!")
    );
    assert!(trick_or_treat::requested("/trick-or-treat"));
    assert!(trick_or_treat::requested("/trickor-treat please"));
    assert!(!trick_or_treat::requested("/treat"));
    assert_eq!(
        trick_or_treat::reply_text("https://c/y.jpg"),
        "![candy image](https://c/y.jpg)"
    );
}
