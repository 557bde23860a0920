//! bugzilla: the layered options, the title, the validation and its words, the labels, the
//! help, and the client against a stand-in Bugzilla on 127.0.0.1 (through the real hook:
//! prow-server's `plugins_trackers`).

use prow_config::plugins::{BugzillaBugState, PluginConfig, parse_plugin_config};
use prow_plugins::Action;
use prow_plugins::plugins::bugzilla::fake::FakeBugzilla;
use prow_plugins::plugins::bugzilla::{
    self, Bug, BugEvent, BugUpdate, BugzillaAuth, BugzillaClient, as_bug_update, bug_id_from_title,
    label_actions, validate_bug,
};

/// `plugins.yaml` text parsed as written (the project plugins' tests use it too).
pub(crate) fn config(yaml: &str) -> PluginConfig {
    parse_plugin_config(yaml, std::path::Path::new("plugins.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

const LAYERED: &str = r#"
bugzilla:
  default:
    "*":
      is_open: true
      target_release: "4.0"
      statuses: [NEW, MODIFIED]
      state_after_merge: {status: MODIFIED}
    release-3.11:
      target_release: "3.11"
  orgs:
    o:
      default:
        "*":
          valid_states: [{status: VERIFIED, resolution: ERRATA}]
          statuses: [ON_QA]
          dependent_bug_target_release: "4.1"
          allowed_groups: [team]
      repos:
        r:
          branches:
            main:
              exclude_defaults: true
              status_after_validation: POST
            old:
              add_external_link: true
              allowed_groups: [other]
"#;

fn states(list: &[(&str, &str)]) -> Option<Vec<BugzillaBugState>> {
    Some(
        list.iter()
            .map(|(s, r)| BugzillaBugState::new(s, r))
            .collect(),
    )
}

#[test]
fn options_resolve_from_global_to_branch_as_upstreams() {
    let c = config(LAYERED).bugzilla;
    // Global only: statuses become states; status fields are folded away.
    let global = c.options_for_branch("other", "x", "main");
    assert_eq!(global.is_open, Some(true));
    assert_eq!(global.target_release.as_deref(), Some("4.0"));
    assert_eq!(
        global.valid_states,
        states(&[("MODIFIED", ""), ("NEW", "")])
    );
    assert_eq!(global.statuses, None);
    assert_eq!(
        global.state_after_merge,
        Some(BugzillaBugState::of_status("MODIFIED"))
    );
    assert_eq!(
        c.options_for_branch("other", "x", "release-3.11")
            .target_release
            .as_deref(),
        Some("3.11")
    );
    // The org level: its statuses replace the states above unless it also lists states;
    // the deprecated single dependent release becomes the list.
    let org = c.options_for_branch("o", "x", "main");
    assert_eq!(
        org.valid_states,
        states(&[("ON_QA", ""), ("VERIFIED", "ERRATA")])
    );
    assert_eq!(
        org.dependent_bug_target_releases,
        Some(vec!["4.1".to_owned()])
    );
    assert_eq!(org.target_release.as_deref(), Some("4.0"));
    assert_eq!(org.allowed_groups, ["team"]);
    // exclude_defaults drops everything inherited.
    let main = c.options_for_branch("o", "r", "main");
    assert_eq!(main.is_open, None);
    assert_eq!(main.valid_states, None);
    assert_eq!(main.state_after_merge, None);
    assert_eq!(main.exclude_defaults, Some(true));
    assert_eq!(
        main.state_after_validation,
        Some(BugzillaBugState::of_status("POST"))
    );
    // Groups add up.
    let old = c.options_for_branch("o", "r", "old");
    assert_eq!(old.allowed_groups, ["other", "team"]);
    assert_eq!(old.add_external_link, Some(true));
    // Per repo, branches whose rules are the wildcard's are left out.
    let branches: Vec<String> = c.options_for_repo("o", "r").into_keys().collect();
    assert_eq!(branches, ["*", "main", "old", "release-3.11"]);
    let branches: Vec<String> = c.options_for_repo("o", "x").into_keys().collect();
    assert_eq!(branches, ["*", "release-3.11"]);
}

#[test]
fn titles_reference_bugs_as_upstreams_regex_reads_them() {
    let check = |title: &str, want: Option<u64>| {
        assert_eq!(bug_id_from_title(title).unwrap(), want, "{title:?}");
    };
    check("Bug 123: fix it", Some(123));
    check("[release-4.1] bug   7: backport", Some(7));
    check("Fix Bug 5: and Bug 6: too", Some(5));
    check("Bug 123 fix it", None);
    check("Bug: 123", None);
    check("Bugs 12: no", None);
    check("Fix things", None);
}

fn bug(id: u64, status: &str, resolution: &str) -> Bug {
    serde_json::from_value(serde_json::json!({
        "id": id, "status": status, "resolution": resolution, "is_open": resolution.is_empty(),
        "target_release": ["4.0"], "severity": "high",
    }))
    .unwrap()
}

const EP: &str = "https://bz.example.com";

#[test]
fn validation_says_what_passed_and_what_failed_in_upstreams_words() {
    let c = config(
        r#"
bugzilla:
  default:
    "*":
      is_open: true
      target_release: "4.0"
      valid_states: [{status: NEW}]
      state_after_validation: {status: POST}
      dependent_bug_states: [{status: MODIFIED}]
      dependent_bug_target_releases: ["4.1"]
"#,
    )
    .bugzilla
    .options_for_branch("o", "r", "main");
    let mut dependent = bug(2, "MODIFIED", "");
    dependent.target_release = vec!["4.1".to_owned()];
    let good = validate_bug(&bug(1, "POST", ""), &[dependent.clone()], &c, EP);
    assert!(good.valid, "{good:?}");
    assert!(good.errors.is_empty());
    assert_eq!(
        good.passed,
        [
            "bug is open, matching expected state (open)",
            "bug target release (4.0) matches configured target release for branch (4.0)",
            "bug is in the state POST, which is one of the valid states (NEW, POST)",
            "dependent bug [Bugzilla bug 2](https://bz.example.com/show_bug.cgi?id=2) is in the state MODIFIED, which is one of the valid states (MODIFIED)",
            "dependent [Bugzilla bug 2](https://bz.example.com/show_bug.cgi?id=2) targets the \"4.1\" release, which is one of the valid target releases: 4.1",
            "bug has dependents",
        ]
    );
    let mut closed = bug(1, "CLOSED", "ERRATA");
    closed.target_release = vec!["3.11".to_owned()];
    let bad = validate_bug(&closed, &[], &c, EP);
    assert!(!bad.valid);
    assert_eq!(
        bad.errors,
        [
            "expected the bug to be open, but it isn't",
            "expected the bug to target the \"4.0\" release, but it targets \"3.11\" instead",
            "expected the bug to be in one of the following states: NEW, POST, but it is CLOSED (ERRATA) instead",
            "expected [Bugzilla bug 1](https://bz.example.com/show_bug.cgi?id=1) to depend on a bug targeting a release in 4.1 and in one of the following states: MODIFIED, but no dependents were found",
        ]
    );
    // No rules: valid, nothing checked.
    let none = validate_bug(&closed, &[], &Default::default(), EP);
    assert!(none.valid && none.passed.is_empty() && none.errors.is_empty());
}

#[test]
fn bug_updates_set_only_what_differs() {
    let post = BugzillaBugState::of_status("POST");
    let done = BugzillaBugState::new("CLOSED", "ERRATA");
    assert_eq!(as_bug_update(None, None), None);
    assert_eq!(as_bug_update(Some(&post), Some(&bug(1, "POST", ""))), None);
    let mut want = BugUpdate::default();
    want.status = "CLOSED".to_owned();
    assert_eq!(
        as_bug_update(Some(&done), Some(&bug(1, "MODIFIED", "ERRATA"))),
        Some(want.clone())
    );
    want.resolution = "ERRATA".to_owned();
    assert_eq!(as_bug_update(Some(&done), None), Some(want));
    assert_eq!(
        BugzillaBugState::new("", "WONTFIX").pretty(),
        "any status with resolution WONTFIX"
    );
}

fn event() -> BugEvent {
    let mut e = BugEvent::default();
    e.org = "o".to_owned();
    e.repo = "r".to_owned();
    e.number = 3;
    e
}

fn described(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::AddLabels { labels, .. } => format!("+{}", labels.join(",")),
            Action::RemoveLabel { label, .. } => format!("-{label}"),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn labels_follow_validity_and_severity() {
    let check = |current: &[&str], valid: bool, invalid: bool, sev: Option<&str>, want: &[&str]| {
        let current: Vec<String> = current.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            described(&label_actions(&event(), &current, valid, invalid, sev)),
            want,
            "{current:?}"
        );
    };
    check(
        &[],
        true,
        false,
        Some("bugzilla/severity-high"),
        &["+bugzilla/severity-high", "+bugzilla/valid-bug"],
    );
    check(
        &["bugzilla/valid-bug", "bugzilla/severity-low"],
        false,
        true,
        Some("bugzilla/severity-high"),
        &[
            "-bugzilla/severity-low",
            "+bugzilla/severity-high",
            "-bugzilla/valid-bug",
            "+bugzilla/invalid-bug",
        ],
    );
    // No bug: both validity labels go, a severity label stays unless another is wanted.
    check(
        &["bugzilla/invalid-bug", "bugzilla/severity-low"],
        false,
        false,
        None,
        &["-bugzilla/severity-low", "-bugzilla/invalid-bug"],
    );
    check(&["bugzilla/valid-bug"], true, false, None, &[]);
}

#[test]
fn replies_use_upstreams_words() {
    insta::assert_snapshot!(bugzilla::format_error("searching", EP, 12, &"code 102: You are not authorized"), @r"
    An error was encountered searching for bug 12 on the Bugzilla server at https://bz.example.com. No known errors were detected, please see the full error message for details.

    <details><summary>Full error message.</summary>

    <code>
    code 102: You are not authorized
    </code>

    </details>

    Please contact an administrator to resolve this issue, then request a bug refresh with <code>/bugzilla refresh</code>.
    ");
    assert!(
        bugzilla::format_error("x", EP, 1, &"There was an error reported for a GitHub REST call")
            .contains("We were able to detect the following conditions from the error:\n\n- The Bugzilla server failed to load data from GitHub")
    );
    assert_eq!(
        bugzilla::qa_contact_message(&["qa".to_owned()], "qa@example.com"),
        "Requesting review from QA contact:\n/cc @qa"
    );
    assert_eq!(
        bugzilla::qa_contact_message(&[], "qa@example.com"),
        "No GitHub users were found matching the public email listed for the QA contact in Bugzilla (qa@example.com), skipping review request."
    );
    assert_eq!(
        bugzilla::qa_contact_message(&["a".to_owned(), "b".to_owned()], "qa@example.com"),
        "Multiple GitHub users were found matching the public email listed for the QA contact in Bugzilla (qa@example.com), skipping review request. List of users with matching email:\n\t- a\n\t- b"
    );
}

#[test]
fn help_describes_each_enabled_repos_rules() {
    let mut yaml = LAYERED.to_owned();
    yaml.push_str("plugins:\n  o/r:\n    plugins: [bugzilla]\n  elsewhere:\n    plugins: [lgtm]\n");
    let help = prow_plugins::Plugin::help(&bugzilla::BugzillaPlugin::default(), &config(&yaml));
    assert_eq!(help.config.keys().collect::<Vec<_>>(), ["o/r"]);
    insta::assert_snapshot!(help.config["o/r"], @r#"
    The plugin has the following configuration:<ul>
    <li>by default, valid bugs must be open, target the "4.0" release, be in one of the following states: ON_QA, VERIFIED (ERRATA), depend on at least one other bug, and have all dependent bugs in one of the following target releases: 4.1. After being linked to a pull request, bugs will be moved to the MODIFIED state when all linked pull requests are merged.</li>
    <li>on the "main" branch, valid bugs must exist. After being linked to a pull request, bugs will be moved to the POST state.</li>
    <li>on the "old" branch, valid bugs must be open, target the "4.0" release, be in one of the following states: ON_QA, VERIFIED (ERRATA), depend on at least one other bug, and have all dependent bugs in one of the following target releases: 4.1. After being linked to a pull request, bugs will be updated to refer to the pull request using the external bug tracker and moved to the MODIFIED state when all linked pull requests are merged.</li>
    <li>on the "release-3.11" branch, valid bugs must be open, target the "3.11" release, be in one of the following states: ON_QA, VERIFIED (ERRATA), depend on at least one other bug, and have all dependent bugs in one of the following target releases: 4.1. After being linked to a pull request, bugs will be moved to the MODIFIED state when all linked pull requests are merged.</li>
    </ul>
    "#);
    assert_eq!(help.commands.len(), 3);
}

#[tokio::test]
async fn the_client_speaks_bugzillas_rest_and_json_rpc() {
    let fake = FakeBugzilla::start(vec![bug(1, "NEW", "")]).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "sekrit\n").unwrap();
    let client = BugzillaClient::new(&fake.url, Some(key), BugzillaAuth::default());
    assert_eq!(client.bug(1).await.unwrap().status, "NEW");
    let missing = client.bug(9).await.unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(missing.to_string(), "code 101: Bug #9 does not exist.");

    let mut update = BugUpdate::default();
    update.status = "POST".to_owned();
    client.update_bug(1, &update).await.unwrap();
    assert_eq!(fake.bug(1).unwrap().status, "POST");

    assert!(client.add_pull_request(1, "o", "r", 3).await.unwrap());
    assert!(!client.add_pull_request(1, "o", "r", 3).await.unwrap());
    fake.state()
        .external
        .get_mut(&1)
        .unwrap()
        .push("o/r/issues/4".to_owned());
    let pulls = client.external_pulls(1).await.unwrap();
    assert_eq!(pulls.len(), 1);
    assert_eq!((pulls[0].org.as_str(), pulls[0].number), ("o", 3));
    assert!(client.remove_pull_request(1, "o", "r", 3).await.unwrap());
    assert!(!client.remove_pull_request(1, "o", "r", 3).await.unwrap());
    assert_eq!(client.create_comment(1, "moved", true).await.unwrap(), 1);
    assert_eq!(fake.state().comments, [(1, "moved".to_owned(), true)]);

    // The default auth sends the key as a header and in the query.
    let state = fake.state();
    assert!(state.requests.iter().all(|r| {
        r.api_key_header.as_deref() == Some("sekrit") && r.query.contains("api_key=sekrit")
    }));
    assert_eq!(
        state.requests[0].query,
        "include_fields=_default&include_fields=flags&api_key=sekrit"
    );
    let rpc = state
        .requests
        .iter()
        .find(|r| r.path == "/jsonrpc.cgi")
        .unwrap();
    assert_eq!(
        rpc.body,
        serde_json::json!({"jsonrpc": "1.0", "method": "ExternalBugs.add_external_bug", "id": "identifier",
            "params": [{"bug_ids": [1], "external_bugs": [{"ext_type_url": "https://github.com/", "ext_bz_bug_id": "o/r/pull/3"}]}]})
    );
}

#[test]
fn pull_identifiers_read_as_upstream_reads_them() {
    use bugzilla::client::pull_from_identifier;
    let pull = pull_from_identifier("o/r/pull/12/files/").unwrap().unwrap();
    assert_eq!(
        (pull.org.as_str(), pull.repo.as_str(), pull.number),
        ("o", "r", 12)
    );
    assert!(pull_from_identifier("o/r/issues/12").unwrap().is_none());
    assert_eq!(
        pull_from_identifier("o/r/pull/12/x").unwrap_err(),
        "invalid pull identifier with 5 parts: \"o/r/pull/12/x\""
    );
    assert!(pull_from_identifier("o/r/pull/x").is_err());
    assert_eq!(
        BugzillaAuth::parse("basic").unwrap_err(),
        "invalid --auth-method basic. Valid values are bearer,query or x-bugzilla-api-key"
    );
}
