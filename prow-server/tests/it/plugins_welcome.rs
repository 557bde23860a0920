//! The welcome plugin: templates, who is greeted, and a first pull request end to end.

use prow_github::types::PullRequest;
use prow_plugins::plugins::welcome;
use prow_server::hook::Options;
use serde_json::json;

use crate::plugins_common::plugin_config;
use crate::support::{self, Server, comments, github, opened};

#[test]
fn templates_fill_in_go_fields() {
    assert_eq!(
        welcome::render(welcome::DEFAULT_TEMPLATE, "o", "r", "newbie", "").unwrap(),
        "Welcome @newbie! It looks like this is your first PR to o/r 🎉"
    );
    assert_eq!(
        welcome::render(
            "Hi {{ .AuthorLogin }} <{{.AuthorName}}>",
            "o",
            "r",
            "a<b",
            "N&M"
        )
        .unwrap(),
        "Hi a&lt;b <N&amp;M>"
    );
    let err = welcome::render("Hi {{.Nope}}", "o", "r", "a", "").unwrap_err();
    assert!(err.contains(".Nope"), "{err}");
}

#[test]
fn the_first_entry_for_the_repo_then_the_org_wins() {
    let config = plugin_config(
        "welcome:\n- repos: [o]\n  message_template: org\n- repos: [o/r]\n  message_template: repo\n  always_post: true\n",
    );
    assert_eq!(
        welcome::options_for(&config, "o", "r").message_template,
        "repo"
    );
    assert!(welcome::options_for(&config, "o", "r").always_post);
    assert_eq!(
        welcome::options_for(&config, "o", "x").message_template,
        "org"
    );
    assert_eq!(
        welcome::template_of(&welcome::options_for(&config, "p", "x")),
        welcome::DEFAULT_TEMPLATE
    );
}

#[test]
fn only_first_timers_are_greeted() {
    // (is a user, trusted, always post, previous PRs, this PR) -> greet
    let cases: &[(bool, bool, bool, &[u64], bool)] = &[
        (true, false, false, &[], true),
        (true, false, false, &[2], true),
        (true, false, false, &[1], false),
        (true, false, false, &[1, 2], false),
        (true, true, false, &[], false),
        (true, true, true, &[1, 2], true),
        (false, false, true, &[], false),
    ];
    for (user, trusted, always, previous, want) in cases {
        assert_eq!(
            welcome::should_greet(*user, *trusted, *always, previous, 2),
            *want,
            "{user} {trusted} {always} {previous:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_pull_request_is_welcomed_and_a_second_is_not() {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [welcome]\nwelcome:\n- repos: [Codertocat]\n  message_template: \"Hello @{{.AuthorLogin}}, welcome to {{.Repo}}!\"\n";
    let gh = github("newbie");
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server.send("pull_request", &opened("newbie")).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(
        comments(&server.github),
        ["Hello @newbie, welcome to Hello-World!"]
    );

    // A second pull request by the same author: no greeting.
    let second: PullRequest = serde_json::from_value(json!({
        "id": 3, "number": 3, "title": "More", "state": "open",
        "user": {"login": "newbie"}, "head": {"ref": "more", "sha": "abc"}, "base": {"ref": "master", "sha": "def"},
    }))
    .unwrap();
    server
        .github
        .add_pull_request(support::ORG, support::REPO, second);
    let mut payload = opened("newbie");
    payload["number"] = 3.into();
    payload["pull_request"]["number"] = 3.into();
    server.send("pull_request", &payload).await;
    server.metrics.wait_processed(2).await;
    assert_eq!(comments(&server.github).len(), 1);
    assert!(
        server
            .github
            .state()
            .comments
            .get(&(support::ORG.to_owned(), support::REPO.to_owned(), 3))
            .is_none_or(Vec::is_empty)
    );
    server.shutdown().await;
}
