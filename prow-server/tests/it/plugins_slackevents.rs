//! The slackevents plugin: merge warnings and SIG mentions, posted with `chat.postMessage` to a
//! stand-in for Slack's Web API on 127.0.0.1.

use std::sync::Arc;

use prow_config::plugins::Slack;
use prow_github::events::PushEvent;
use prow_jobs::crier::{SlackClient, fake_slack};
use prow_plugins::plugins::slackevents::{self, Message, SlackEvents};
use prow_server::hook::Options;
use serde_json::{Value, json};

use crate::plugins_common::plugin_config;
use crate::plugins_misc_support::{InProcess, repository};
use crate::support::{self, comment, github};

const SLACK: &str = r#"
slack:
  mentionchannels: [sig-testing]
  mergewarnings:
  - repos: [Codertocat]
    channels: [org-alerts]
    exempt_users: [org-bot]
  - repos: [Codertocat/Hello-World]
    channels: [alerts, more-alerts]
    exempt_users: [merge-bot]
    exempt_branches:
      release: [release-manager]
"#;

fn slack() -> Slack {
    plugin_config(SLACK).slack
}

fn push(user: &str, branch: &str, how: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{branch}"),
        "before": "a".repeat(40),
        "after": "b".repeat(40),
        "created": how == "created",
        "deleted": how == "deleted",
        "forced": how == "forced",
        "compare": "https://github.com/Codertocat/Hello-World/compare/a...b",
        "commits": [{"id": "b".repeat(40), "message": "one"}, {"id": "c".repeat(40), "message": "two"}],
        "repository": repository(),
        "sender": {"login": user},
    })
}

fn texts(user: &str, branch: &str, how: &str) -> Vec<String> {
    let event: PushEvent = serde_json::from_value(push(user, branch, how)).unwrap();
    slackevents::push_messages(&slack(), &event)
        .into_iter()
        .map(|m| format!("{}: {}", m.channel, m.text))
        .collect()
}

#[test]
fn pushes_by_users_not_exempted_warn_every_channel_of_the_rule() {
    let compare = "https://github.com/Codertocat/Hello-World/compare/a...b";
    assert_eq!(
        texts("alice", "master", "merged"),
        [
            format!(
                "alerts: *Warning:* alice (<@alice>) manually merged 2 commit(s) into master: {compare}"
            ),
            format!(
                "more-alerts: *Warning:* alice (<@alice>) manually merged 2 commit(s) into master: {compare}"
            ),
        ]
    );
    assert_eq!(
        texts("alice", "master", "forced")[0],
        format!(
            "alerts: *Warning:* alice (<@alice>) *force* merged 2 commit(s) into master: {compare}"
        )
    );
    assert_eq!(
        texts("alice", "topic", "created")[0],
        format!("alerts: *Warning:* alice (<@alice>) pushed a new branch (topic): {compare}")
    );
    assert_eq!(
        texts("alice", "topic", "deleted")[0],
        format!("alerts: *Warning:* alice (<@alice>) deleted a branch (topic): {compare}")
    );
    // Exempt everywhere, exempt on this branch only, and the repo rule winning over the org's.
    assert!(texts("Merge-Bot", "master", "merged").is_empty());
    assert!(texts("release-manager", "release", "merged").is_empty());
    assert_eq!(texts("release-manager", "master", "merged").len(), 2);
    assert_eq!(texts("org-bot", "master", "merged").len(), 2);
}

#[test]
fn sig_mentions_are_repeated_in_configured_channels_only() {
    let gc = |body: &str, user: &str| {
        prow_github::Event::parse(
            "issue_comment",
            &serde_json::to_vec(&comment(body, user, "author")).unwrap(),
        )
        .unwrap()
        .generic_comment()
        .unwrap()
    };
    let messages = |body: &str, user: &str| {
        slackevents::mention_messages(&slack(), &gc(body, user), "ci-robot")
    };
    let found = messages(
        "cc @kubernetes/sig-testing-bugs and @kubernetes/sig-node-bugs",
        "alice",
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].channel, "sig-testing");
    assert!(
        found[0]
            .text
            .starts_with("sig-testing was mentioned by alice (<@alice>) on GitHub. (")
    );
    assert!(
        found[0]
            .text
            .ends_with(")\n>>>cc @kubernetes/sig-testing-bugs and @kubernetes/sig-node-bugs")
    );
    assert!(messages("@kubernetes/sig-testing-bugs", "ci-robot").is_empty());
    assert!(messages("@kubernetes/sig-testing", "alice").is_empty());
}

/// The plugin posting to the Slack API at `api` with a test token.
fn plugin(api: &str) -> Arc<SlackEvents> {
    Arc::new(SlackEvents::new(Some(SlackClient::new(api, "xoxb-test"))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_merge_reaches_slack() {
    let (url, mut posted) = fake_slack::serve(r#"{"ok":true}"#).await;
    let plugins =
        format!("plugins:\n  Codertocat/Hello-World:\n    plugins: [slackevents]\n{SLACK}");
    let hook = InProcess::start(
        github("author"),
        support::hook_config(support::CONFIG, &plugins),
        Options::default(),
        vec![plugin(&url)],
    );
    hook.deliver("push", &push("merge-bot", "master", "merged"))
        .await;
    hook.deliver("push", &push("alice", "master", "merged"))
        .await;
    let mut got = [
        posted.recv().await.unwrap().form,
        posted.recv().await.unwrap().form,
    ];
    got.sort_by_key(|form| form["channel"].clone());
    assert_eq!(got[0]["channel"], "alerts");
    assert_eq!(got[0]["token"], "xoxb-test");
    assert_eq!(got[1]["channel"], "more-alerts");
    assert!(
        got[0]["text"]
            .starts_with("*Warning:* alice (<@alice>) manually merged 2 commit(s) into master")
    );
    // merge-bot's push posted nothing: only alice's two messages arrived.
    assert!(posted.try_recv().is_err());
    let snapshot = hook.metrics.snapshot();
    assert_eq!(
        snapshot.plugins.get(&(
            "slackevents".to_owned(),
            prow_server::hook::PluginOutcome::Ok
        )),
        Some(&2)
    );
    hook.shutdown().await;
}

#[tokio::test]
async fn slack_refusing_is_an_error_of_the_plugin() {
    // Nothing listens on this port once the listener is dropped.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let plugins =
        format!("plugins:\n  Codertocat/Hello-World:\n    plugins: [slackevents]\n{SLACK}");
    let hook = InProcess::start(
        github("author"),
        support::hook_config(support::CONFIG, &plugins),
        Options::default(),
        vec![plugin(&url)],
    );
    hook.deliver("push", &push("alice", "master", "merged"))
        .await;
    let snapshot = hook.metrics.snapshot();
    assert_eq!(
        snapshot.plugins.get(&(
            "slackevents".to_owned(),
            prow_server::hook::PluginOutcome::Error
        )),
        Some(&1)
    );
    hook.shutdown().await;
}

#[test]
fn messages_serialize_as_slack_expects() {
    let message: Vec<Message> = slackevents::push_messages(
        &slack(),
        &serde_json::from_value(push("alice", "master", "merged")).unwrap(),
    );
    let json = serde_json::to_value(&message[0]).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 2);
    assert_eq!(json["channel"], "alerts");
}
