//! project and project-manager through the real hook (signed deliveries over HTTP, the fake
//! GitHub's classic project boards): `/project` creating, moving and clearing a card for a
//! maintainer and refusing others, project-manager adding a labelled pull request to its
//! column once, and both plugins' help in `/plugin-help`.

use prow_github::fake::FakeGitHub;

use crate::plugins_added::{PR, deliver, enabled, start};
use crate::support::{self, comment, comments, github, opened};

const MAINTAINERS: u64 = 42;

/// The fake with a maintainers team, a repository board and an org board.
fn boards(github: &FakeGitHub) {
    github.add_team(support::ORG, "release-team", MAINTAINERS, &["lead"]);
    github.add_project(
        &format!("{}/{}", support::ORG, support::REPO),
        10,
        "0.5.0",
        &[(101, "To do"), (102, "In progress"), (103, "Done")],
    );
    github.add_project(
        support::ORG,
        20,
        "Roadmap",
        &[(201, "Backlog"), (202, "Next")],
    );
}

fn project_config() -> String {
    enabled(
        "project",
        "project_config:\n  project_org_configs:\n    Codertocat:\n      org_maintainers_team_id: 42\n      org_default_column_map:\n        Roadmap: Next\n",
    )
}

fn cards(github: &FakeGitHub) -> Vec<(String, String)> {
    github.cards_of(PR.0, PR.1, PR.2)
}

fn pair(project: &str, column: &str) -> (String, String) {
    (project.to_owned(), column.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_creates_moves_and_clears_the_card_for_maintainers_only() {
    let github = github("author");
    boards(&github);
    let server = start(github.clone(), &project_config()).await;
    let say = |body: &str, user: &str| comment(body, user, "author");

    // Outside the team: refused with upstream's words, nothing on the board.
    deliver(
        &server,
        1,
        "issue_comment",
        &say("/project 0.5.0 To do", "stranger"),
    )
    .await;
    assert!(cards(&github).is_empty());
    let said = comments(&github);
    assert!(
        said[0].starts_with("@stranger: You must be a member of the [Codertocat/Hello-World](https://github.com/orgs/Codertocat/teams/Hello-World/members) github team to set the project and column."),
        "{}",
        said[0]
    );

    // A maintainer: a card in the named column of the repository's board.
    deliver(
        &server,
        2,
        "issue_comment",
        &say("/project 0.5.0 To do", "lead"),
    )
    .await;
    assert_eq!(cards(&github), vec![pair("0.5.0", "To do")]);
    assert!(
        comments(&github)[1].contains("It's been added to project 0.5.0 column To do (ID 101).")
    );

    // Another column: the card moves, never doubles.
    deliver(
        &server,
        3,
        "issue_comment",
        &say("/project \"0.5.0\" 'In progress'", "lead"),
    )
    .await;
    assert_eq!(cards(&github), vec![pair("0.5.0", "In progress")]);
    assert!(
        comments(&github)[2]
            .contains("moved the project card for this issue to column In progress (ID 102).")
    );

    // The same column again: nothing happens, nothing is said.
    deliver(
        &server,
        4,
        "issue_comment",
        &say("/project 0.5.0 In progress", "lead"),
    )
    .await;
    assert_eq!(comments(&github).len(), 3);

    // The org board with no column: its configured default.
    deliver(
        &server,
        5,
        "issue_comment",
        &say("/project Roadmap", "lead"),
    )
    .await;
    assert_eq!(
        cards(&github),
        vec![pair("0.5.0", "In progress"), pair("Roadmap", "Next")]
    );

    // Unknown board and column: the replies list what there is.
    deliver(&server, 6, "issue_comment", &say("/project 9.9.9", "lead")).await;
    assert!(
        comments(&github)[4]
            .contains("Projects in Kubernetes orgs and repositories: [`0.5.0`, `Roadmap`].")
    );
    deliver(
        &server,
        7,
        "issue_comment",
        &say("/project 0.5.0 Someday", "lead"),
    )
    .await;
    assert!(comments(&github)[5].contains(
        "Please provide one of the following columns in the command:\n[To do In progress Done]"
    ));

    // Clearing takes the card off that board only; clearing again says it is not there.
    deliver(
        &server,
        8,
        "issue_comment",
        &say("/project clear 0.5.0", "lead"),
    )
    .await;
    assert_eq!(cards(&github), vec![pair("Roadmap", "Next")]);
    assert!(
        comments(&github)[6].contains("successfully removed this issue/PR from project 0.5.0.")
    );
    deliver(
        &server,
        9,
        "issue_comment",
        &say("/project clear 0.5.0", "lead"),
    )
    .await;
    assert!(
        comments(&github)[7].contains("The project \"0.5.0\" is not valid for the issue/PR 2.")
    );

    // Usage text for a bare `clear`.
    deliver(&server, 10, "issue_comment", &say("/project clear", "lead")).await;
    assert!(comments(&github)[8].contains("Please provide 1 or more arguments."));
    assert_eq!(github.state().calls.get("create_project_card"), Some(&2));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_without_a_team_for_the_org_says_so() {
    let github = github("author");
    boards(&github);
    let server = start(github.clone(), &enabled("project", "")).await;
    deliver(
        &server,
        1,
        "issue_comment",
        &comment("/project 0.5.0", "lead", "author"),
    )
    .await;
    assert!(comments(&github)[0].contains("There is no maintainer team for this repo or org."));
    assert!(cards(&github).is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_manager_adds_a_labelled_pull_request_to_its_column_once() {
    let github = github("author");
    boards(&github);
    github
        .state()
        .issues
        .get_mut(&crate::plugins_added::key())
        .expect("the pull request")
        .labels = ["area/docs", "kind/bug"]
        .iter()
        .map(|name| prow_github::types::Label {
            name: (*name).to_owned(),
            ..Default::default()
        })
        .collect();
    let plugins = enabled(
        "project-manager",
        "project_manager:\n  orgsRepos:\n    Codertocat/Hello-World:\n      projects:\n        \"0.5.0\":\n          columns:\n          - name: Done\n            org: Codertocat\n            labels: [area/ci]\n          - name: To do\n            state: open\n            org: Codertocat\n            labels: [area/docs]\n    Codertocat:\n      projects:\n        Roadmap:\n          columns:\n          - id: 201\n            org: Codertocat\n            labels: [kind/bug, area/docs]\n",
    );
    let server = start(github.clone(), &plugins).await;
    // A payload without labels: the plugin reads them from GitHub.
    let mut event = opened("author");
    event["pull_request"]["id"] = 1.into();
    event["pull_request"]["labels"] = serde_json::json!([]);
    deliver(&server, 1, "pull_request", &event).await;
    assert_eq!(
        cards(&github),
        vec![pair("0.5.0", "To do"), pair("Roadmap", "Backlog")]
    );
    // Labelled again: already on both boards, nothing is added.
    event["action"] = "labeled".into();
    deliver(&server, 2, "pull_request", &event).await;
    assert_eq!(cards(&github).len(), 2);
    assert_eq!(github.state().calls.get("create_project_card"), Some(&2));
    // Closed pull requests are not acted on.
    event["action"] = "closed".into();
    deliver(&server, 3, "pull_request", &event).await;
    assert_eq!(github.state().calls.get("create_project_card"), Some(&2));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_manager_adds_a_labelled_issue_from_its_issues_event() {
    let github = github("author");
    boards(&github);
    let issue: prow_github::types::Issue = serde_json::from_value(serde_json::json!({
        "id": 500, "number": 5, "state": "open", "labels": [{"name": "area/docs"}],
    }))
    .unwrap();
    github.add_issue(support::ORG, support::REPO, issue.clone());
    let plugins = enabled(
        "project-manager",
        "project_manager:\n  orgsRepos:\n    Codertocat:\n      projects:\n        Roadmap:\n          columns:\n          - name: Next\n            org: Codertocat\n            labels: [area/docs]\n",
    );
    let server = start(github.clone(), &plugins).await;
    let event = serde_json::json!({
        "action": "labeled",
        "issue": issue,
        "label": {"name": "area/docs"},
        "repository": {"name": support::REPO, "full_name": "Codertocat/Hello-World", "owner": {"login": support::ORG}},
        "sender": {"login": "author"},
    });
    deliver(&server, 1, "issues", &event).await;
    assert_eq!(
        github.cards_of(support::ORG, support::REPO, 5),
        vec![pair("Roadmap", "Next")]
    );
    // The labels came with the event: none were read.
    assert_eq!(github.state().calls.get("issue_labels"), None);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_help_has_both_project_plugins() {
    let github = github("author");
    let server = start(github, &project_config()).await;
    let url = server.url.replace("/hook", "/plugin-help");
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let served: serde_json::Value = serde_json::from_str(&text).unwrap();
    let help = &served["PluginHelp"];
    assert_eq!(
        help["project"]["Commands"][0]["Usage"],
        "/project <board>, /project <board> <column>, or /project clear <board>"
    );
    assert_eq!(
        help["project"]["Config"]["Codertocat"],
        "An issue/PR with unspecified column will be added to one of the following columns: map[Roadmap:Next]."
    );
    assert!(
        help["project-manager"]["Description"]
            .as_str()
            .is_some_and(|d| d.starts_with("The project-manager plugin automatically adds")),
        "{help}"
    );
    assert_eq!(
        served["RepoPlugins"]["Codertocat/Hello-World"],
        serde_json::json!(["project"])
    );
    server.shutdown().await;
}
