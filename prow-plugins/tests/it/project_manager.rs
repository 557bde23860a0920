//! project-manager: which configured columns want an issue or pull request, the column its
//! card goes in once the board is read, and the events it acts on (through the real hook:
//! prow-server's `plugins_project`).

use prow_config::plugins::PluginConfig;
use prow_github::events::Event;
use prow_github::types::{CardContent, ProjectColumn};
use prow_plugins::plugins::project_manager::{self as pm, Board, Item};
use prow_plugins::{Action, CardChange};

use crate::bugzilla::config;
use crate::project::board;

/// Upstream's test shapes: a repository board whose columns want different label sets, an
/// org board, and a column configured by ID.
const CONFIG: &str = r#"
project_manager:
  orgsRepos:
    testOrg/testRepo:
      projects:
        testProject:
          columns:
          - name: testColumn
            state: open
            org: otherOrg
            labels: [label1, label2]
          - name: testColumn2
            state: open
            org: otherOrg
            labels: [label1]
        closedOnes:
          columns:
          - id: 77
            state: closed
            org: otherOrg
            labels: [label1]
    otherOrg:
      projects:
        orgBoard:
          columns:
          - name: Triage
            org: otherOrg
            labels: [LABEL1]
        elsewhere:
          columns:
          - name: Triage
            org: thirdOrg
            labels: [label1]
"#;

fn item(state: &str, labels: &[&str]) -> Item {
    Item {
        org: "otherOrg".to_owned(),
        repo: "someRepo".to_owned(),
        number: 1,
        id: 2,
        is_pr: true,
        state: state.to_owned(),
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
    }
}

fn matched(c: &PluginConfig, it: &Item) -> Vec<(String, String, String)> {
    pm::matches(&c.project_manager, it)
        .iter()
        .map(|m| {
            let column = if m.column.name.is_empty() {
                format!("#{}", m.column.id.unwrap_or_default())
            } else {
                m.column.name.clone()
            };
            (m.owner.to_owned(), m.project.to_owned(), column)
        })
        .collect()
}

fn triple(owner: &str, project: &str, column: &str) -> (String, String, String) {
    (owner.to_owned(), project.to_owned(), column.to_owned())
}

#[test]
fn each_project_takes_the_first_column_whose_org_state_and_labels_match() {
    let c = config(CONFIG);
    // Both columns of testProject want it: only the first counts. Labels compare without case.
    assert_eq!(
        matched(&c, &item("open", &["label2", "label1"])),
        vec![
            triple("otherOrg", "orgBoard", "Triage"),
            triple("testOrg/testRepo", "testProject", "testColumn"),
        ]
    );
    assert_eq!(
        matched(&c, &item("open", &["label1"])),
        vec![
            triple("otherOrg", "orgBoard", "Triage"),
            triple("testOrg/testRepo", "testProject", "testColumn2"),
        ]
    );
    // State: an empty one takes any; `closed` only closed ones.
    assert_eq!(
        matched(&c, &item("closed", &["label1"])),
        vec![
            triple("otherOrg", "orgBoard", "Triage"),
            triple("testOrg/testRepo", "closedOnes", "#77"),
        ]
    );
    assert!(matched(&c, &item("open", &["label2"])).is_empty());
    assert!(matched(&c, &item("open", &[])).is_empty());
    let mut other = item("open", &["label1"]);
    other.org = "thirdOrg".to_owned();
    assert_eq!(
        matched(&c, &other),
        vec![triple("otherOrg", "elsewhere", "Triage")]
    );
}

fn cols() -> Vec<ProjectColumn> {
    board(&[(1, "testColumn"), (2, "testColumn2")])
}

#[test]
fn the_card_goes_in_the_named_or_numbered_column_unless_already_on_the_board() {
    let c = config(CONFIG);
    let it = item("open", &["label1", "label2"]);
    let all = pm::matches(&c.project_manager, &it);
    let by_name = &all[1];
    let found = |has_card| Board::Found {
        columns: cols(),
        has_card,
    };
    assert_eq!(pm::column_for(by_name, &found(false)), Ok(1));
    assert_eq!(
        pm::column_for(by_name, &found(true)),
        Err("the issue/PR is already on project testProject".to_owned())
    );
    assert_eq!(
        pm::column_for(by_name, &Board::Missing),
        Err("could not find project testProject in org/repo testOrg/testRepo".to_owned())
    );
    let renamed = Board::Found {
        columns: board(&[(5, "Other")]),
        has_card: false,
    };
    assert_eq!(
        pm::column_for(by_name, &renamed),
        Err("could not find column testColumn in project testProject".to_owned())
    );
    // A column configured by ID needs no board, but is never added twice to one it finds.
    let closed = item("closed", &["label1"]);
    let all = pm::matches(&c.project_manager, &closed);
    let by_id = &all[1];
    assert_eq!(pm::column_for(by_id, &Board::Missing), Ok(77));
    assert_eq!(pm::column_for(by_id, &found(false)), Ok(77));
    assert!(pm::column_for(by_id, &found(true)).is_err());
    assert_eq!(
        pm::add(&it, 1),
        Action::ProjectCard {
            org: "otherOrg".to_owned(),
            change: CardChange::Create {
                column_id: 1,
                content: CardContent::of(2, true),
            },
            then: None,
        }
    );
}

#[test]
fn it_acts_on_opened_reopened_labeled_and_unlabeled_issues_and_pull_requests() {
    let event = |name: &str, action: &str| {
        let payload = if name == "issues" {
            serde_json::json!({
                "action": action,
                "issue": {"id": 10, "number": 3, "state": "open", "labels": [{"name": "a"}]},
                "repository": {"name": "r", "full_name": "o/r", "owner": {"login": "o"}},
            })
        } else {
            serde_json::json!({
                "action": action,
                "number": 4,
                "pull_request": {"id": 20, "number": 4, "state": "open", "labels": []},
                "repository": {"name": "r", "full_name": "o/r", "owner": {"login": "o"}},
            })
        };
        Event::parse(name, payload.to_string().as_bytes()).expect("an event")
    };
    for action in ["opened", "reopened", "labeled", "unlabeled"] {
        let issue = Item::of(&event("issues", action)).expect(action);
        assert_eq!(
            (issue.id, issue.number, issue.is_pr, issue.labels),
            (10, 3, false, vec!["a".to_owned()])
        );
        let pr = Item::of(&event("pull_request", action)).expect(action);
        assert_eq!((pr.id, pr.number, pr.is_pr), (20, 4, true));
    }
    for action in ["closed", "edited", "assigned", "synchronize"] {
        assert_eq!(Item::of(&event("issues", action)), None, "{action}");
        assert_eq!(Item::of(&event("pull_request", action)), None, "{action}");
    }
}

#[test]
fn help_lists_what_each_org_or_repo_adds() {
    let plugins = prow_plugins::builtin();
    let help = plugins["project-manager"].help(&config(CONFIG));
    assert!(
        help.config["otherOrg"].contains(
            "Issue/PRs org: otherOrg, with matching labels: [LABEL1] and state:  will be added to the project: orgBoard"
        ),
        "{}",
        help.config["otherOrg"]
    );
    assert!(
        plugins["project-manager"]
            .help(&PluginConfig::default())
            .config
            .is_empty()
    );
}
