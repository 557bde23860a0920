//! The release-note plugin: the label from the description's block, `/release-note-none` and
//! who may use it, and a pull request end to end.

use prow_plugins::plugins::release_note::{self as rn, CommentFacts, PrFacts};
use prow_server::hook::Options;

use crate::plugins_common::{request, summary};
use crate::support::{self, Server, comment, comments, github, labels, opened};

fn strings(l: &[&str]) -> Vec<String> {
    l.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_block_decides_the_label() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("", &[], rn::NEEDED),
        ("no block here", &[], rn::NEEDED),
        ("```release-note\nAdds a flag.\n```", &[], rn::NOTE),
        ("**Release note**:\n```\nAdds a flag.\n```", &[], rn::NOTE),
        (
            "**Release note**: <!-- write it --> ```release-note\nAdds a flag.\n```",
            &[],
            rn::NOTE,
        ),
        ("```release-note\nNONE\n```", &[], rn::NONE),
        ("```release-note\n- no.\n```", &[], rn::NONE),
        (
            "```release-note\nACTION REQUIRED: rename the flag\n```",
            &[],
            rn::ACTION_REQUIRED,
        ),
        ("```release-note\n\n```", &["release-note-none"], rn::NONE),
        (
            "```release-note\nnone\n```",
            &["kind/deprecation"],
            rn::NEEDED,
        ),
        ("", &["kind/deprecation"], rn::NEEDED),
    ];
    for (body, labels, want) in cases {
        assert_eq!(
            rn::label_for(body, &strings(labels)),
            *want,
            "{body:?} {labels:?}"
        );
    }
}

#[test]
fn pull_requests_get_one_label_and_a_request_when_needed() {
    let facts = |body: &str, labels: &[&str], none_commented: bool, bot: &[(u64, String)]| {
        let mut f = PrFacts::default();
        f.body = body.to_owned();
        f.labels = strings(labels);
        f.none_commented = none_commented;
        f.bot_comments = bot.to_vec();
        f
    };
    let run = |f: &PrFacts| summary(&rn::decide_pr("o", "r", 1, f, "https://guide"));
    assert_eq!(
        run(&facts("", &[], false, &[])),
        [
            "say Adding the \"do-not-merge/release-note-label-needed\" label because no release-note block was detected, please follow our [release note process](https://guide) to remove it.",
            "add do-not-merge/release-note-label-needed",
        ]
    );
    assert!(run(&facts("", &[rn::NEEDED], false, &[])).is_empty());
    assert_eq!(run(&facts("", &[], true, &[])), ["add release-note-none"]);
    let stale = vec![(
        5,
        format!("{}\n\n<details>", rn::needed_message("https://guide")),
    )];
    assert_eq!(
        run(&facts(
            "```release-note\nAdds a flag.\n```",
            &[rn::NEEDED],
            false,
            &stale
        )),
        [
            "add release-note",
            "remove do-not-merge/release-note-label-needed",
            "delete 5"
        ]
    );
    assert_eq!(
        run(&facts("", &["kind/deprecation", rn::NONE], false, &[])),
        [
            "say Adding the \"do-not-merge/release-note-label-needed\" label and removing any existing \"release-note-none\" label because there is a \"kind/deprecation\" label on the PR.",
            "add do-not-merge/release-note-label-needed",
            "remove release-note-none",
        ]
    );
    let mut merged = facts("", &[], false, &[]);
    merged.merged = true;
    assert!(run(&merged).is_empty());
}

#[test]
fn release_note_none_is_for_authors_and_members() {
    let run = |body: &str, member: bool, author: bool, pr_body: &str, labels: &[&str]| {
        let mut f = CommentFacts::default();
        f.is_member = member;
        f.is_author = author;
        f.pr_body = pr_body.to_owned();
        f.labels = strings(labels);
        summary(&rn::decide_comment(&request(body), &f))
    };
    assert_eq!(
        run("/release-note-none", false, true, "", &[rn::NEEDED]),
        [
            "add release-note-none",
            "remove do-not-merge/release-note-label-needed"
        ]
    );
    assert_eq!(
        run("/release-note-none", true, false, "", &[]),
        ["add release-note-none"]
    );
    assert_eq!(
        run("/release-note-none", false, false, "", &[]),
        [
            "say @u: you can only set the release note label to release-note-none if you are the PR author or an org member."
        ]
    );
    assert_eq!(
        run(
            "/release-note-none",
            true,
            false,
            "```release-note\nAdds a flag.\n```",
            &[]
        ),
        [
            "say @u: you can only set the release note label to release-note-none if the release-note block in the PR body text is empty or \"none\"."
        ]
    );
    assert_eq!(
        run("/release-note-none", true, false, "", &["kind/deprecation"]),
        [
            "say @u: you can not set the release note label to \"release-note-none\" because the PR has the label \"kind/deprecation\"."
        ]
    );
    assert_eq!(
        run("/release-note", true, false, "", &[]),
        [
            "say @u: the `/release-note` and `/release-note-action-required` commands have been deprecated."
        ]
    );
    assert!(run("/release-note-nothing", true, true, "", &[]).is_empty());
}

/// hook with release-note enabled and `settings` added to plugins.yaml.
async fn server(settings: &str) -> Server {
    let plugins =
        format!("plugins:\n  Codertocat/Hello-World:\n    plugins: [release-note]\n{settings}");
    Server::start_with(
        github(support::ORG),
        Options::default(),
        support::hook_config(support::CONFIG, &plugins),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_note_end_to_end() {
    let server = server("release_note:\n  guidelines_url: https://guide\n").await;
    server.send("pull_request", &opened(support::ORG)).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), [rn::NEEDED]);
    assert!(
        comments(&server.github)[0]
            .starts_with("Adding the \"do-not-merge/release-note-label-needed\" label")
    );

    server
        .send(
            "issue_comment",
            &comment("/release-note-none", "stranger", support::ORG),
        )
        .await;
    server
        .send(
            "issue_comment",
            &comment("/release-note-none", support::ORG, support::ORG),
        )
        .await;
    server.metrics.wait_processed(3).await;
    assert_eq!(labels(&server.github), [rn::NONE]);
    assert!(comments(&server.github)[1].starts_with("@stranger: you can only set the release note label to release-note-none if you are the PR author or an org member."));
    server.shutdown().await;
}

#[test]
fn release_note_edit_is_for_members_and_replaces_the_block() {
    let pr_body = "Fixes the flag.\r\n\r\n```release-note\r\nNONE\r\n```\r\nThanks.";
    let run = |body: &str, member: bool, pr_body: &str| {
        let mut f = CommentFacts::default();
        f.is_member = member;
        f.pr_body = pr_body.to_owned();
        f.issue_url = "https://pr".to_owned();
        rn::decide_comment(&request(body), &f)
    };
    let edit = "/release-note-edit\r\n```release-note\r\n  Renames the flag.  \r\n```";
    // Upstream splices the new note, trimmed, between `\r\n`s into the description's block.
    assert_eq!(
        summary(&run(edit, true, pr_body)),
        [
            "EditBody { org: \"o\", repo: \"r\", number: 1, body: \"Fixes the flag.\\r\\n\\r\\n```release-note\\r\\nRenames the flag.\\r\\n```\\r\\nThanks.\" }"
        ]
    );
    let replies = |actions: Vec<prow_plugins::Action>| -> Vec<String> {
        actions
            .into_iter()
            .map(|a| match a {
                prow_plugins::Action::Comment { body, .. } => body,
                other => format!("{other:?}"),
            })
            .collect()
    };
    // A non-member is answered with a link to the pull request, as upstream does.
    let refused = replies(run(edit, false, pr_body));
    assert!(
        refused[0].starts_with(&format!("@u: {}", rn::EDIT_NOT_MEMBER))
            && refused[0].contains("In response to [this](https://pr)"),
        "{refused:?}"
    );
    let no_block = replies(run("/release-note-edit", true, pr_body));
    assert!(no_block[0].starts_with(&format!("@u: {}", rn::EDIT_NEEDS_BLOCK)));
    let no_target = replies(run(edit, true, "No block here."));
    assert!(no_target[0].starts_with(&format!("@u: {}", rn::EDIT_NEEDS_SINGLE_BLOCK)));
    // The first command upstream finds decides: edit before the others.
    assert_eq!(
        summary(&run(&format!("/release-note\n{edit}"), true, pr_body)).len(),
        1
    );
    assert!(matches!(
        run(&format!("/release-note\n{edit}"), true, pr_body)[0],
        prow_plugins::Action::EditBody { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_note_edit_rewrites_the_description() {
    let server = server("").await;
    let mut payload = comment(
        "/release-note-edit\n```release-note\nRenames the flag.\n```",
        "member",
        support::ORG,
    );
    payload["issue"]["body"] = "Fixes it.\n```release-note\nNONE\n```\n".into();
    server.send("issue_comment", &payload).await;
    server.metrics.wait_processed(1).await;
    let body = |state: &prow_github::fake::FakeState| {
        let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
        (
            state.issues[&key].body.clone(),
            state.pulls[&key].body.clone(),
        )
    };
    let want = "Fixes it.\n```release-note\r\nRenames the flag.\r\n```\n".to_owned();
    assert_eq!(
        body(&server.github.state()),
        (Some(want.clone()), Some(want))
    );
    assert!(comments(&server.github).is_empty());
    server.shutdown().await;
}
