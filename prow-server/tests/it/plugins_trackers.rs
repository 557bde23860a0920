//! The issue-tracker plugins through the real hook: jira against a stand-in Jira and bugzilla
//! against a stand-in Bugzilla, both on 127.0.0.1; and the process's tracker flags.

use std::sync::Arc;

use prow_github::GitHubClient;
use prow_github::fake::FakeGitHub;
use prow_plugins::plugins::bugzilla::fake::FakeBugzilla;
use prow_plugins::plugins::bugzilla::{Bug, BugzillaAuth, BugzillaClient, BugzillaPlugin};
use prow_plugins::plugins::jira::fake::FakeJira;
use prow_plugins::plugins::jira::{Jira, JiraAuth, JiraClient};
use prow_server::hook::Options;
use prow_server::process::TrackerOptions;
use serde_json::{Value, json};

use crate::plugins_misc_support::InProcess;
use crate::support::{self, ORG, REPO, comment, comments, github, labels, opened};

const COMMENT_ID: u64 = 492700400;

/// The fake GitHub with the comment of [`comment`]'s payload on PR #2, saying `body`.
fn github_with_comment(body: &str) -> Arc<FakeGitHub> {
    let github = github("author");
    let stored: prow_github::types::Comment = serde_json::from_value(json!({
        "id": COMMENT_ID, "body": body, "user": {"login": "alice"},
        "html_url": "https://github.com/Codertocat/Hello-World/pull/2#issuecomment-492700400",
    }))
    .unwrap();
    github
        .state()
        .comments
        .entry((ORG.to_owned(), REPO.to_owned(), 2))
        .or_default()
        .push(stored);
    github
}

fn jira_comment(body: &str) -> Value {
    let mut payload = comment(body, "alice", "author");
    payload["issue"]["title"] = "Fix the README".into();
    payload["comment"]["html_url"] =
        "https://github.com/Codertocat/Hello-World/pull/2#issuecomment-492700400".into();
    payload
}

const JIRA_PLUGINS: &str = "plugins:\n  Codertocat/Hello-World:\n    plugins: [jira]\njira:\n  disabled_jira_projects: [dis]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_links_the_comment_and_the_issue_back_once() {
    let jira = FakeJira::start(&["ABC", "DIS"], &["ABC-123", "DIS-5"]).await;
    let body = "Fixes ABC-123 but not NOPE-1 nor DIS-5 and ABC-999 does not exist.";
    let github = github_with_comment(body);
    let hook = InProcess::start(
        github.clone(),
        support::hook_config(support::CONFIG, JIRA_PLUGINS),
        Options::default(),
        vec![Arc::new(Jira::new(Some(JiraClient::new(
            &jira.url,
            JiraAuth::Anonymous,
        ))))],
    );
    hook.deliver("issue_comment", &jira_comment(body)).await;
    let link = format!("[ABC-123]({}/browse/ABC-123)", jira.url);
    assert_eq!(
        comments(&github),
        [format!(
            "Fixes {link} but not NOPE-1 nor DIS-5 and ABC-999 does not exist."
        )]
    );
    let links = jira.links("ABC-123");
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].object.url,
        "https://github.com/Codertocat/Hello-World/pull/2"
    );
    assert_eq!(
        links[0].object.title,
        "Codertocat/Hello-World#2: Fix the README"
    );
    // Projects were listed once; the disabled and unknown projects were never looked up.
    assert_eq!(
        jira.calls(),
        [
            "GET /rest/api/2/project",
            "GET /rest/api/2/issue/ABC-123",
            "GET /rest/api/2/issue/ABC-999",
            "GET /rest/api/2/issue/ABC-123/remotelink",
            "POST /rest/api/2/issue/ABC-123/remotelink",
        ]
    );
    // The same text again (now linked): the remote link is already there, nothing is edited.
    let linked = comments(&github).remove(0);
    hook.deliver("issue_comment", &jira_comment(&linked)).await;
    assert_eq!(jira.links("ABC-123").len(), 1);
    assert_eq!(comments(&github), [linked]);
    assert_eq!(
        jira.calls()[5..],
        [
            "GET /rest/api/2/issue/ABC-123",
            "GET /rest/api/2/issue/ABC-999",
            "GET /rest/api/2/issue/ABC-123/remotelink",
        ]
    );
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_links_a_new_pull_requests_body_and_retitles_its_link() {
    let jira = FakeJira::start(&["ABC"], &["ABC-7"]).await;
    let github = github("author");
    let hook = InProcess::start(
        github.clone(),
        support::hook_config(support::CONFIG, JIRA_PLUGINS),
        Options::default(),
        vec![Arc::new(Jira::new(Some(JiraClient::new(
            &jira.url,
            JiraAuth::Anonymous,
        ))))],
    );
    let mut payload = opened("author");
    payload["pull_request"]["title"] = "ABC-7: speed up".into();
    payload["pull_request"]["body"] = "Part of ABC-7.\n\n```\nABC-7\n```".into();
    hook.deliver("pull_request", &payload).await;
    let body = github.state().pulls[&(ORG.to_owned(), REPO.to_owned(), 2)]
        .body
        .clone()
        .unwrap_or_default();
    // `ABC-7.` is not a key (a key ends at a space, `:`, `]`, `)`), but the title names it, and
    // every linkable mention in the body is linked; the fenced one is not.
    assert_eq!(
        body,
        format!(
            "Part of [ABC-7]({}/browse/ABC-7).\n\n```\nABC-7\n```",
            jira.url
        )
    );
    assert_eq!(
        jira.links("ABC-7")[0].object.title,
        "Codertocat/Hello-World#2: ABC-7: speed up"
    );
    // A new title: the same link, retitled.
    payload["action"] = "edited".into();
    payload["pull_request"]["title"] = "ABC-7: speed up more".into();
    hook.deliver("pull_request", &payload).await;
    let links = jira.links("ABC-7");
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].object.title,
        "Codertocat/Hello-World#2: ABC-7: speed up more"
    );
    assert!(jira.calls().contains(&format!(
        "PUT /rest/api/2/issue/ABC-7/remotelink/{}",
        links[0].id.unwrap()
    )));
    hook.shutdown().await;
}

fn bug(id: u64, status: &str) -> Bug {
    serde_json::from_value(json!({
        "id": id, "status": status, "resolution": "", "is_open": true,
        "target_release": ["4.0"], "severity": "high",
        "qa_contact_detail": {"name": "qa", "email": "qa@example.com", "real_name": "Q. A."},
    }))
    .unwrap()
}

const BUGZILLA_PLUGINS: &str = r#"
plugins:
  Codertocat/Hello-World:
    plugins: [bugzilla]
bugzilla:
  default:
    "*":
      is_open: true
      target_release: "4.0"
      valid_states: [{status: NEW}, {status: ASSIGNED}]
      state_after_validation: {status: POST}
      add_external_link: true
      state_after_merge: {status: MODIFIED}
"#;

/// A hook running bugzilla against a Bugzilla with bugs 123 (NEW) and 124 (VERIFIED), over the
/// fake GitHub whose PR #2 is titled `title`.
async fn bugzilla_hook(title: &str) -> (Arc<FakeGitHub>, InProcess, FakeBugzilla) {
    let github = github("author");
    github
        .state()
        .pulls
        .get_mut(&(ORG.to_owned(), REPO.to_owned(), 2))
        .unwrap()
        .title = title.to_owned();
    let bugzilla = FakeBugzilla::start(vec![bug(123, "NEW"), bug(124, "VERIFIED")]).await;
    let client = BugzillaClient::new(&bugzilla.url, None, BugzillaAuth::default());
    let hook = InProcess::start(
        github.clone(),
        support::hook_config(support::CONFIG, BUGZILLA_PLUGINS),
        Options::default(),
        vec![Arc::new(BugzillaPlugin::new(Some(client)))],
    );
    (github, hook, bugzilla)
}

fn titled(action: &str, title: &str) -> Value {
    let mut payload = opened("author");
    payload["action"] = action.into();
    payload["pull_request"]["title"] = title.into();
    payload
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bugzilla_validates_moves_and_links_the_bug_of_a_new_pull_request() {
    let (github, hook, bugzilla) = bugzilla_hook("Bug 123: fix it").await;
    github
        .state()
        .user_emails
        .insert("qa@example.com".to_owned(), vec!["qa-person".to_owned()]);
    hook.deliver("pull_request", &titled("opened", "Bug 123: fix it"))
        .await;
    assert_eq!(
        labels(&github),
        ["bugzilla/severity-high", "bugzilla/valid-bug"]
    );
    assert_eq!(bugzilla.bug(123).unwrap().status, "POST");
    assert_eq!(
        bugzilla.state().external[&123],
        ["Codertocat/Hello-World/pull/2"]
    );
    let said = comments(&github);
    assert_eq!(said.len(), 1);
    let ep = &bugzilla.url;
    assert!(
        said[0].starts_with(&format!(
            "@author: This pull request references [Bugzilla bug 123]({ep}/show_bug.cgi?id=123), which is valid. The bug has been moved to the POST state. The bug has been updated to refer to the pull request using the external bug tracker.\n\n<details><summary>3 validation(s) were run on this bug</summary>\n\n* bug is open, matching expected state (open)\n* bug target release (4.0) matches configured target release for branch (4.0)\n* bug is in the state NEW, which is one of the valid states (NEW, ASSIGNED, POST)</details>\n\nRequesting review from QA contact:\n/cc @qa-person\n\n<details>"
        )),
        "{}",
        said[0]
    );
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bugzilla_labels_an_invalid_bug_and_refreshes_on_request() {
    let (github, hook, bugzilla) = bugzilla_hook("Bug 124: fix it").await;
    hook.deliver("pull_request", &titled("opened", "Bug 124: fix it"))
        .await;
    assert_eq!(
        labels(&github),
        ["bugzilla/invalid-bug", "bugzilla/severity-high"]
    );
    let ep = bugzilla.url.clone();
    assert!(comments(&github)[0].starts_with(&format!(
        "@author: This pull request references [Bugzilla bug 124]({ep}/show_bug.cgi?id=124), which is invalid:\n - expected the bug to be in one of the following states: NEW, ASSIGNED, POST, but it is VERIFIED instead\n\nComment <code>/bugzilla refresh</code> to re-evaluate validity if changes to the Bugzilla bug are made, or edit the title of this pull request to link to a different bug."
    )));
    // Someone fixes the bug in Bugzilla and asks again.
    bugzilla.state().bugs.get_mut(&124).unwrap().status = "ASSIGNED".to_owned();
    hook.deliver(
        "issue_comment",
        &comment("/bugzilla refresh", "alice", "author"),
    )
    .await;
    assert_eq!(
        labels(&github),
        ["bugzilla/severity-high", "bugzilla/valid-bug"]
    );
    let said = comments(&github);
    assert_eq!(said.len(), 2);
    assert!(said[1].starts_with("@alice: This pull request references [Bugzilla bug 124]"));
    // The QA contact has no GitHub user with that email.
    assert!(said[1].contains("No GitHub users were found matching the public email listed for the QA contact in Bugzilla (qa@example.com), skipping review request."));
    assert!(said[1].contains("In response to [this]("));
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bugzilla_keeps_a_valid_label_a_person_added_and_ignores_titles_without_bugs() {
    let (github, hook, bugzilla) = bugzilla_hook("Update the README with new information.").await;
    // No bug and no validate_by_default: nothing happens.
    hook.deliver("pull_request", &titled("opened", "Fix it"))
        .await;
    assert!(comments(&github).is_empty());
    assert!(bugzilla.calls().is_empty());
    // A person labels it valid; the refresh finds no bug but keeps their label.
    github
        .add_labels(ORG, REPO, 2, &["bugzilla/valid-bug".to_owned()])
        .await
        .unwrap();
    github
        .state()
        .label_events
        .get_mut(&(ORG.to_owned(), REPO.to_owned(), 2))
        .unwrap()
        .push(("bugzilla/valid-bug".to_owned(), "alice".to_owned()));
    hook.deliver(
        "issue_comment",
        &comment("/bugzilla refresh", "alice", "author"),
    )
    .await;
    assert_eq!(labels(&github), ["bugzilla/valid-bug"]);
    let said = comments(&github);
    assert!(said[0].starts_with("@alice: No Bugzilla bug is referenced in the title of this pull request.\nTo reference a bug, add 'Bug XXX:' to the title of this pull request and request another bug refresh with <code>/bugzilla refresh</code>.\n\nRetaining the bugzilla/valid-bug label as it was manually added."));
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bugzilla_moves_the_bug_when_its_last_pull_request_merges() {
    let (github, hook, bugzilla) = bugzilla_hook("Update the README with new information.").await;
    bugzilla.state().bugs.get_mut(&123).unwrap().status = "POST".to_owned();
    bugzilla.link(123, ORG, REPO, 2);
    bugzilla.link(123, ORG, REPO, 3);
    // #3 is open: the bug stays.
    let mut other = github.state().pulls[&(ORG.to_owned(), REPO.to_owned(), 2)].clone();
    other.number = 3;
    github.add_pull_request(ORG, REPO, other);
    let mut merged = titled("closed", "Bug 123: fix it");
    merged["pull_request"]["merged"] = true.into();
    merged["pull_request"]["state"] = "closed".into();
    hook.deliver("pull_request", &merged).await;
    assert_eq!(bugzilla.bug(123).unwrap().status, "POST");
    let ep = bugzilla.url.clone();
    assert!(comments(&github)[0].starts_with(&format!(
        "@author: Some pull requests linked via external trackers have merged:\n * [Codertocat/Hello-World#2](https://github.com/Codertocat/Hello-World/pull/2)\n\nThe following pull requests linked via external trackers have not merged:\n * [Codertocat/Hello-World#3](https://github.com/Codertocat/Hello-World/pull/3) is open\n\nThese pull request must merge or be unlinked from the Bugzilla bug in order for it to move to the next state. Once unlinked, request a bug refresh with <code>/bugzilla refresh</code>.\n\n[Bugzilla bug 123]({ep}/show_bug.cgi?id=123) has not been moved to the MODIFIED state."
    )));
    // #3 merged too: the bug moves.
    {
        let mut state = github.state();
        let pr = state
            .pulls
            .get_mut(&(ORG.to_owned(), REPO.to_owned(), 3))
            .unwrap();
        pr.merged = Some(true);
        pr.state = "closed".to_owned();
    }
    hook.deliver("pull_request", &merged).await;
    assert_eq!(bugzilla.bug(123).unwrap().status, "MODIFIED");
    assert!(comments(&github)[1].starts_with(&format!(
        "@author: All pull requests linked via external trackers have merged:\n * [Codertocat/Hello-World#2](https://github.com/Codertocat/Hello-World/pull/2)\n * [Codertocat/Hello-World#3](https://github.com/Codertocat/Hello-World/pull/3)\n\n[Bugzilla bug 123]({ep}/show_bug.cgi?id=123) has been moved to the MODIFIED state."
    )));
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bugzilla_commands_on_issues_and_a_missing_bug_get_upstreams_replies() {
    let (github, hook, bugzilla) = bugzilla_hook("Bug 999: gone").await;
    hook.deliver(
        "issue_comment",
        &comment("/bugzilla cc-qa", "alice", "author"),
    )
    .await;
    let ep = bugzilla.url.clone();
    assert!(comments(&github)[0].starts_with(&format!(
        "@alice: No Bugzilla bug with ID 999 exists in the tracker at {ep}.\nOnce a valid bug is referenced in the title of this pull request, request a bug refresh with <code>/bugzilla refresh</code>."
    )));
    let mut on_issue = comment("/bugzilla refresh", "alice", "author");
    payload_as_issue(&mut on_issue);
    hook.deliver("issue_comment", &on_issue).await;
    assert!(comments(&github)[1].starts_with(
        "@alice: Bugzilla bug referencing is only supported for Pull Requests, not issues."
    ));
    hook.shutdown().await;
}

fn payload_as_issue(payload: &mut Value) {
    payload["issue"]
        .as_object_mut()
        .unwrap()
        .remove("pull_request");
}

#[test]
fn tracker_flags_are_checked_as_upstreams() {
    let check = |options: TrackerOptions, want: &str| {
        let got = options
            .jira()
            .map(|_| ())
            .and_then(|()| options.bugzilla().map(|_| ()));
        assert_eq!(
            got.map_err(|e| e.to_string()).err().unwrap_or_default(),
            want
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "x").unwrap();
    let base = || {
        let mut o = TrackerOptions::default();
        o.jira_endpoint = Some("https://jira.example.com".to_owned());
        o
    };
    check(TrackerOptions::default(), "");
    check(base(), "");
    let mut o = base();
    o.jira_endpoint = Some("not a url".to_owned());
    check(o, "--jira-endpoint \"not a url\" is invalid");
    let mut o = base();
    o.jira_username = Some("bot".to_owned());
    check(
        o,
        "--jira-username and --jira-password-file must be specified together",
    );
    let mut o = base();
    o.jira_username = Some("bot".to_owned());
    o.jira_password_file = Some(file.clone());
    o.jira_bearer_token_file = Some(file.clone());
    check(
        o,
        "--jira-bearer-token-file and --jira-username are mutually exclusive",
    );
    let mut o = base();
    o.jira_bearer_token_file = Some(dir.path().join("missing"));
    let got = o.jira().unwrap_err().to_string();
    assert!(
        got.contains("failed to get --jira-bearer-token-file"),
        "{got}"
    );
    let mut o = TrackerOptions::default();
    o.bugzilla_endpoint = Some("bugzilla".to_owned());
    check(o, "invalid -bugzilla-endpoint URI: \"bugzilla\"");
    let mut o = TrackerOptions::default();
    o.bugzilla_endpoint = Some("https://bz.example.com".to_owned());
    o.bugzilla_auth_method = "basic".to_owned();
    check(
        o,
        "invalid --auth-method basic. Valid values are bearer,query or x-bugzilla-api-key",
    );
    // Both given: the registry's tracker-less plugins are replaced.
    let mut o = base();
    o.bugzilla_endpoint = Some("https://bz.example.com".to_owned());
    o.bugzilla_api_key_path = Some(file);
    let plugins = o.plugins(prow_plugins::builtin()).unwrap();
    assert!(plugins.contains_key("jira") && plugins.contains_key("bugzilla"));
}
