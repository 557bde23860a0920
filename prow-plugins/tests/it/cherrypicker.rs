//! cherrypicker's decisions, table by table (through the real hook with real git: prow-server's
//! `plugins_cherrypicker`).

use prow_plugins::plugins::cherrypicker::{self as cp, PullFacts};
use prow_plugins::{Action, Reply};

/// A target and its chained branches.
type Wanted<'a> = (&'a str, &'a [&'a str]);

/// Body, issue state, merged, allowed; the replies and how many cherry-picks.
type CommentCase<'a> = (&'a str, &'a str, bool, bool, &'a [&'a str], usize);

fn quote(user: &str, body: &str) -> Reply {
    Reply::Quote {
        body: body.to_owned(),
        url: "https://x/1".to_owned(),
        user: user.to_owned(),
    }
}

fn pull(state: &str, merged: bool) -> PullFacts {
    let mut facts = PullFacts::default();
    facts.base = "main".to_owned();
    facts.title = "Fix it".to_owned();
    facts.state = state.to_owned();
    facts.merged = merged;
    facts
}

/// The replies' messages (between `@user: ` and the details).
fn replies(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Comment { body, .. } => Some(
                body.split_once(": ")
                    .map_or(body.as_str(), |(_, rest)| rest)
                    .split("\n\n<details>")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            _ => None,
        })
        .collect()
}

#[test]
fn parse_reads_targets_and_chains_as_upstream() {
    let cases: [(&str, &[Wanted<'_>]); 7] = [
        ("/cherrypick release-1.0", &[("release-1.0", &[])]),
        ("/cherry-pick release-1.0", &[("release-1.0", &[])]),
        (
            "/cherrypick release-1.6 release-1.5 release-1.4",
            &[("release-1.6", &["release-1.5", "release-1.4"])],
        ),
        ("/cherrypick", &[]),
        (" /cherrypick release-1.0", &[]),
        ("/CHERRYPICK release-1.0", &[]),
        ("/cherrypick a\r\n/cherrypick b", &[("a", &[]), ("b", &[])]),
    ];
    for (body, want) in cases {
        let got = cp::parse(body);
        let want: Vec<(String, Vec<String>)> = want
            .iter()
            .map(|(t, c)| ((*t).to_owned(), c.iter().map(|s| (*s).to_owned()).collect()))
            .collect();
        assert_eq!(got.into_iter().collect::<Vec<_>>(), want, "{body:?}");
    }
}

#[test]
fn comment_decisions_follow_upstreams_order() {
    let member = "once the present PR merges, I will cherry-pick it on top of `release-1.0` in a new PR and assign it to you.";
    let cases: [CommentCase<'_>; 8] = [
        // body, state, merged, allowed, replies, picks
        ("/cherrypick release-1.0", "open", false, true, &[member], 0),
        (
            "/cherrypick release-1.0",
            "open",
            false,
            false,
            &["only [o](https://github.com/orgs/o/people) org members may request cherry picks."],
            0,
        ),
        (
            "/cherrypick main",
            "open",
            false,
            true,
            &["I cannot cherry-pick the present PR on top of its base branch (`main`)."],
            0,
        ),
        (
            "/cherrypick main",
            "closed",
            true,
            false,
            &["I cannot cherry-pick the present PR on top of its base branch (`main`)."],
            0,
        ),
        (
            "/cherrypick release-1.0",
            "closed",
            false,
            true,
            &["cannot cherry-pick an unmerged PR"],
            0,
        ),
        (
            "/cherrypick release-1.0",
            "closed",
            true,
            false,
            &["only [o](https://github.com/orgs/o/people) org members may request cherry picks."],
            0,
        ),
        ("/cherrypick release-1.0", "closed", true, true, &[], 1),
        (
            "/cherrypick main\n/cherrypick release-1.0\n/cherrypick release-2.0",
            "closed",
            true,
            true,
            &["I cannot cherry-pick the present PR on top of its base branch (`main`)."],
            2,
        ),
    ];
    for (body, state, merged, allowed, want, picks) in cases {
        let d = cp::decide_comment(
            ("o", "r", 1),
            "alice",
            &quote("alice", body),
            body,
            &pull(state, merged),
            allowed,
        );
        let got = replies(&d.actions);
        assert_eq!(got.len(), want.len(), "{body:?} {state}: {got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(g.starts_with(w), "{body:?} {state}: {g:?}");
        }
        assert_eq!(d.picks.len(), picks, "{body:?} {state}");
    }
    let several = cp::decide_comment(
        ("o", "r", 1),
        "alice",
        &quote("alice", ""),
        "/cherrypick release-2.0\n/cherrypick main\n/cherrypick release-1.0",
        &pull("open", false),
        true,
    );
    assert_eq!(
        replies(&several.actions),
        [
            "once the present PR merges, I will cherry-pick it on top of `release-1.0`, `release-2.0` in new PRs and assign them to you. I cannot cherry-pick it on top of `main` because that is already its base branch."
        ]
    );
    assert!(
        cp::not_org_member("o", "alice").contains("https://github.com/orgs/o/people?query=alice")
    );
}

#[test]
fn titles_bodies_and_release_notes_are_upstreams() {
    assert_eq!(
        cp::title("Fix it", "main", "release-1.0"),
        "[release-1.0] Fix it"
    );
    assert_eq!(
        cp::title("[release-9.9] Hello world", "release-9.9", "release-9.8"),
        "[release-9.8] Hello world"
    );
    assert_eq!(
        cp::branch_name(7, "release-1.0"),
        "cherry-pick-7-to-release-1.0"
    );
    let note =
        cp::release_note("Text\n\n**Release note**:\n<!-- say it -->\n```\nFixed a bug.\n```\n");
    assert_eq!(note, "```release-note\nFixed a bug.\n```");
    assert_eq!(
        cp::release_note("```release-note\n  NONE \n```"),
        "```release-note\nNONE\n```"
    );
    assert_eq!(cp::release_note("no note"), "");
    assert_eq!(
        cp::body(
            7,
            "alice",
            &note,
            &["release-1.5".to_owned(), "release-1.4".to_owned()],
            &cp::kinds(&[
                "kind/bug".to_owned(),
                "lgtm".to_owned(),
                "kind/".to_owned(),
                "kind/api-change".to_owned()
            ])
        ),
        "This is an automated cherry-pick of #7\n\n/assign alice\n\n```release-note\nFixed a bug.\n```\n\n/cherrypick release-1.5 release-1.4\n\n/kind api-change\n/kind bug"
    );
    assert_eq!(
        cp::body(7, "", "", &[], &[]),
        "This is an automated cherry-pick of #7"
    );
}

#[test]
fn requests_on_merge_gather_comments_description_and_labels() {
    let comments = vec![
        (
            "bob".to_owned(),
            "/cherrypick release-1.6 release-1.5".to_owned(),
            "u1".to_owned(),
        ),
        (
            "carol".to_owned(),
            "/cherrypick release-1.6".to_owned(),
            "u2".to_owned(),
        ),
    ];
    let found = cp::requests_on_merge(
        "alice",
        "/cherrypick release-2.0",
        "u0",
        &comments,
        &["cherrypick/release-3.0".to_owned(), "lgtm".to_owned()],
        cp::DEFAULT_LABEL_PREFIX,
    );
    let got: Vec<(&str, &str, Vec<String>, bool)> = found
        .iter()
        .map(|f| {
            (
                f.requester.as_str(),
                f.target.as_str(),
                f.chain.clone(),
                matches!(f.reply, Reply::Prefix(_)),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("alice", "release-2.0", vec![], false),
            ("alice", "release-3.0", vec![], true),
            ("bob", "release-1.6", vec!["release-1.5".to_owned()], false),
            (
                "carol",
                "release-1.6",
                vec!["release-1.5".to_owned()],
                false
            ),
        ]
    );
    assert_eq!(
        cp::label_reply().wrap("x"),
        "In response to a cherrypick label: x"
    );
}
