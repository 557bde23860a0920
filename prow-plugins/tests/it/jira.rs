//! jira: which keys a text mentions, how links are written into it, which remote link changes
//! are made, and the client against a stand-in Jira on 127.0.0.1 (through the real hook:
//! prow-server's `plugins_trackers`).

use std::collections::BTreeSet;

use proptest::prelude::*;
use prow_plugins::plugins::jira::fake::FakeJira;
use prow_plugins::plugins::jira::{
    self, JiraAuth, JiraClient, LinkChange, RemoteLink, candidates, enabled, insert_links,
    link_change,
};

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

#[test]
fn keys_are_found_as_upstreams_regex_finds_them() {
    let check = |text: &str, want: &[&str]| assert_eq!(candidates(text), want, "{text:?}");
    check("Fixes ABC-123", &["ABC-123"]);
    check("ABC-123: the bug", &["ABC-123"]);
    check("see (ABC-1) and [DEF-22]", &["ABC-1", "DEF-22"]);
    check("abc-7\nXYZ-8 done", &["abc-7", "XYZ-8"]);
    // A key must end at a space, `:`, `]`, `)` or the end of the text.
    check("ABC-123.", &[]);
    check("ABC-123x", &[]);
    check("ABC-123,DEF-1", &["DEF-1"]);
    // `\b` before it: letters right before make the key longer, digits do not match at all.
    check("xABC-4 here", &["xABC-4"]);
    check("9ABC-4 here", &[]);
    check("a-b-3 c", &["b-3"]);
    check("no keys here", &[]);
}

#[test]
fn disabled_projects_are_a_case_insensitive_prefix() {
    let keys = vec![
        "ABC-1".to_owned(),
        "enterprise-4".to_owned(),
        "ENTERPRISE-5".to_owned(),
        "ABC-1".to_owned(),
        "DEF-2".to_owned(),
    ];
    assert_eq!(
        enabled(keys.clone(), &["Enterprise".to_owned()]),
        set(&["ABC-1", "DEF-2"])
    );
    assert_eq!(
        enabled(keys, &[]),
        set(&["ABC-1", "DEF-2", "ENTERPRISE-5", "enterprise-4"])
    );
    assert_eq!(jira::project_of("Abc-12"), "abc");
}

#[test]
fn links_go_where_upstream_puts_them() {
    let jira = "https://issues.example.com/";
    let check = |body: &str, keys: &[&str], want: &str| {
        assert_eq!(insert_links(body, &set(keys), jira), want, "{body:?}");
    };
    let link = |k: &str| format!("[{k}](https://issues.example.com/browse/{k})");
    check(
        "Fixes ABC-1",
        &["ABC-1"],
        &format!("Fixes {}", link("ABC-1")),
    );
    check(
        "ABC-1 and ABC-1",
        &["ABC-1"],
        &format!("{0} and {0}", link("ABC-1")),
    );
    // Already linked, part of a link, inline code, after a dash: left alone.
    check(&link("ABC-1"), &["ABC-1"], &link("ABC-1"));
    check("`ABC-1`", &["ABC-1"], "`ABC-1`");
    check("x-ABC-1", &["ABC-1"], "x-ABC-1");
    // A shorter key inside a longer one, either side.
    check("ABC-123 AC-1234", &["BC-123", "AC-1"], "ABC-123 AC-1234");
    check(
        "ABC-123 BC-123",
        &["ABC-123", "BC-123"],
        &format!("{} {}", link("ABC-123"), link("BC-123")),
    );
    // Fenced and indented code blocks keep their text; the fence lines themselves too.
    check(
        "ABC-1\n```\nABC-1\n```\n    ABC-1\nend ABC-1",
        &["ABC-1"],
        &format!("{0}\n```\nABC-1\n```\n    ABC-1\nend {0}", link("ABC-1")),
    );
    check("nothing", &["ABC-1"], "nothing");
}

#[test]
fn remote_links_are_added_once_and_retitled_in_place() {
    let url = "https://github.com/o/r/pull/1";
    assert_eq!(
        link_change(&[], url, "o/r#1: Fix"),
        Some(LinkChange::Add(RemoteLink::to_github(url, "o/r#1: Fix")))
    );
    let mut existing = RemoteLink::to_github(url, "o/r#1: Fix");
    existing.id = Some(7);
    let other = RemoteLink::to_github("https://github.com/o/r/pull/2", "o/r#2: Other");
    assert_eq!(
        link_change(&[other.clone(), existing.clone()], url, "o/r#1: Fix"),
        None
    );
    let Some(LinkChange::Update(updated)) = link_change(&[other, existing], url, "o/r#1: Better")
    else {
        panic!("an update");
    };
    assert_eq!(updated.id, Some(7));
    assert_eq!(updated.object.title, "o/r#1: Better");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proptest_linking_twice_is_linking_once(
        words in prop::collection::vec(
            prop_oneof![
                Just("ABC-1".to_owned()),
                Just("ABC-12".to_owned()),
                Just("`ABC-1`".to_owned()),
                Just("(ABC-1)".to_owned()),
                Just("```".to_owned()),
                Just("\n".to_owned()),
                Just("\n    ".to_owned()),
                "[a-z]{1,5}",
            ],
            0..20,
        )
    ) {
        let body = words.join(" ");
        let keys = set(&["ABC-1", "ABC-12"]);
        let once = insert_links(&body, &keys, "https://j");
        prop_assert_eq!(insert_links(&once, &keys, "https://j"), once.clone());
        // Removing the links gives the text back.
        let unlinked = once
            .replace("](https://j/browse/ABC-12)", "")
            .replace("](https://j/browse/ABC-1)", "")
            .replace("[ABC-1", "ABC-1");
        prop_assert_eq!(unlinked, body);
    }
}

#[tokio::test]
async fn the_client_speaks_jiras_rest_api() {
    let fake = FakeJira::start(&["ABC", "DEF"], &["ABC-1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, "hunter2\n").unwrap();
    let client = JiraClient::new(
        &format!("{}/", fake.url),
        JiraAuth::Basic {
            username: "bot".to_owned(),
            password_file: password,
        },
    );
    assert_eq!(client.url(), fake.url);
    assert_eq!(client.project_keys().await.unwrap(), ["ABC", "DEF"]);
    assert!(client.issue_exists("ABC-1").await.unwrap());
    assert!(!client.issue_exists("ABC-2").await.unwrap());
    fake.state().broken.insert("ABC-1".to_owned());
    let err = client.issue_exists("ABC-1").await.unwrap_err();
    assert!(!err.is_not_found());
    assert_eq!(
        err.to_string(),
        "get jira issue ABC-1: jira answered 500: jira is having a bad day"
    );
    fake.state().broken.clear();

    let link = RemoteLink::to_github("https://github.com/o/r/pull/1", "o/r#1: Fix");
    client.add_remote_link("ABC-1", &link).await.unwrap();
    let mut stored = client.remote_links("ABC-1").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].id.is_some());
    stored[0].object.title = "o/r#1: Better".to_owned();
    client
        .update_remote_link("ABC-1", &stored[0])
        .await
        .unwrap();
    assert_eq!(fake.links("ABC-1")[0].object.title, "o/r#1: Better");

    let state = fake.state();
    // Basic auth on every request: bot:hunter2.
    assert!(
        state
            .requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Basic Ym90Omh1bnRlcjI="))
    );
    let added = state.requests.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(added.path, "/rest/api/2/issue/ABC-1/remotelink");
    assert_eq!(
        added.body,
        serde_json::json!({"object": {"url": "https://github.com/o/r/pull/1", "title": "o/r#1: Fix",
            "icon": {"url16x16": "https://github.com/favicon.ico", "title": "GitHub"}}})
    );
}

#[tokio::test]
async fn a_bearer_token_is_read_on_every_request() {
    let fake = FakeJira::start(&["ABC"], &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "one").unwrap();
    let client = JiraClient::new(
        &fake.url,
        JiraAuth::Bearer {
            token_file: token.clone(),
        },
    );
    client.project_keys().await.unwrap();
    std::fs::write(&token, "two").unwrap();
    client.project_keys().await.unwrap();
    let seen: Vec<Option<String>> = fake
        .state()
        .requests
        .iter()
        .map(|r| r.authorization.clone())
        .collect();
    assert_eq!(
        seen,
        [Some("Bearer one".to_owned()), Some("Bearer two".to_owned())]
    );
}
