//! Classic projects (project, project-manager): the octocrab client's requests against a fake
//! GitHub on 127.0.0.1, and the in-memory fake's boards, seeded from YAML, as GitHub keeps
//! them (cards listed top first, one card per issue per board).

use prow_github::fake::FakeGitHub;
use prow_github::types::{CardContent, Issue, ProjectCard};
use prow_github::{Error, GitHubClient};

use crate::octo::{client, fake_github, ok};

#[tokio::test]
async fn project_requests_use_githubs_paths_methods_and_bodies() {
    let (endpoint, log) = fake_github(|seen, base| {
        match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/repos/o/r/projects?per_page=100") => (
                200,
                vec![(
                    "link".into(),
                    format!(r#"<{base}/repos/o/r/projects?per_page=100&page=2>; rel="next""#),
                )],
                r#"[{"id": 1, "name": "0.5.0", "body": "x"}]"#.into(),
            ),
            ("GET", "/repos/o/r/projects?per_page=100&page=2") => {
                ok(r#"[{"id": 2, "name": "1.0"}]"#)
            }
            ("GET", "/orgs/o/projects?per_page=100") => ok(r#"[{"id": 3, "name": "Roadmap"}]"#),
            ("GET", "/projects/1/columns?per_page=100") => {
                ok(r#"[{"id": 11, "name": "To do"}, {"id": 12, "name": "Done"}]"#)
            }
            ("GET", "/projects/columns/11/cards?per_page=100") => ok(
                r#"[{"id": 111, "note": null, "content_url": "https://api.github.com/repos/O/R/issues/7"}]"#,
            ),
            ("GET", "/teams/42/members?role=all&per_page=100") => {
                ok(r#"[{"login": "Alice"}, {"login": "bob"}]"#)
            }
            ("POST", "/projects/columns/12/cards") => (
                201,
                Vec::new(),
                r#"{"id": 112, "content_url": "https://api.github.com/repos/o/r/issues/8"}"#.into(),
            ),
            ("POST", _) => (201, Vec::new(), "{}".into()),
            ("DELETE", _) => (204, Vec::new(), String::new()),
            _ => (404, Vec::new(), r#"{"message": "Not Found"}"#.into()),
        }
    });
    let github = client(&endpoint);
    let names = |projects: Vec<prow_github::types::Project>| -> Vec<(u64, String)> {
        projects.into_iter().map(|p| (p.id, p.name)).collect()
    };
    assert_eq!(
        names(github.repo_projects("o", "r").await.unwrap()),
        [(1, "0.5.0".to_owned()), (2, "1.0".to_owned())]
    );
    assert_eq!(
        names(github.org_projects("o").await.unwrap()),
        [(3, "Roadmap".to_owned())]
    );
    let columns = github.project_columns("o", 1).await.unwrap();
    assert_eq!(columns[1].name, "Done");
    let cards = github.column_cards("o", 11).await.unwrap();
    assert!(cards[0].is_for("o", "r", 7), "{cards:?}");
    assert!(!cards[0].is_for("o", "r", 70));
    assert!(github.team_has_member("o", 42, "alice").await.unwrap());
    assert!(!github.team_has_member("o", 42, "carol").await.unwrap());
    let card = github
        .create_project_card("o", 12, CardContent::of(900, true))
        .await
        .unwrap();
    assert_eq!(card.id, 112);
    github.move_project_card("o", 111, 12).await.unwrap();
    github.delete_project_card("o", 111).await.unwrap();
    let writes: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.method != "GET")
        .map(|s| {
            format!("{} {} {}", s.method, s.path, s.body)
                .trim_end()
                .to_owned()
        })
        .collect();
    insta::assert_snapshot!(writes.join("\n"), @r#"
    POST /projects/columns/12/cards {"content_id":900,"content_type":"PullRequest"}
    POST /projects/columns/cards/111/moves {"column_id":12,"position":"top"}
    DELETE /projects/columns/cards/111
    "#);
    let err = github.project_columns("o", 404).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

const SEED: &str = r#"
orgs:
  o:
    teams: {release: {id: 42, members: [alice]}}
    projects:
    - {id: 7, name: Roadmap, columns: [{id: 71, name: Backlog}, {id: 72, name: Next}]}
repos:
  o/r:
    projects:
    - {id: 1, name: "0.5.0", columns: [{id: 11, name: To do}, {id: 12, name: Done}]}
"#;

fn seeded() -> FakeGitHub {
    let github = FakeGitHub::from_seed_yaml(SEED).unwrap();
    for (number, id) in [(3, 300), (4, 400)] {
        github.add_issue(
            "o",
            "r",
            Issue {
                id,
                number,
                state: "open".to_owned(),
                ..Issue::default()
            },
        );
    }
    github
}

#[tokio::test]
async fn the_fake_keeps_boards_columns_and_cards_as_github_does() {
    let github = seeded();
    let names = |p: Vec<prow_github::types::Project>| -> Vec<String> {
        p.into_iter().map(|p| p.name).collect()
    };
    assert_eq!(
        names(github.repo_projects("o", "r").await.unwrap()),
        ["0.5.0"]
    );
    assert_eq!(names(github.org_projects("o").await.unwrap()), ["Roadmap"]);
    assert!(github.team_has_member("o", 42, "Alice").await.unwrap());
    assert!(!github.team_has_member("o", 42, "bob").await.unwrap());
    assert!(matches!(
        github.team_has_member("o", 9, "alice").await,
        Err(Error::NotFound { .. })
    ));

    let card: ProjectCard = github
        .create_project_card("o", 11, CardContent::of(300, false))
        .await
        .unwrap();
    assert_eq!(
        card.content_url,
        "https://api.github.com/repos/o/r/issues/3"
    );
    github
        .create_project_card("o", 11, CardContent::of(400, false))
        .await
        .unwrap();
    // Top first; the same issue twice on one board is refused, on another board it is not.
    let top: Vec<bool> = github
        .column_cards("o", 11)
        .await
        .unwrap()
        .iter()
        .map(|c| c.is_for("o", "r", 4))
        .collect();
    assert_eq!(top, [true, false]);
    let twice = github
        .create_project_card("o", 12, CardContent::of(300, false))
        .await
        .unwrap_err();
    assert_eq!(
        twice.to_string(),
        "add a card to project column 12 in o: invalid request: Project already has the associated issue"
    );
    github
        .create_project_card("o", 71, CardContent::of(300, false))
        .await
        .unwrap();
    assert!(matches!(
        github
            .create_project_card("o", 11, CardContent::of(999, false))
            .await,
        Err(Error::Validation { .. })
    ));

    github.move_project_card("o", card.id, 12).await.unwrap();
    // A card moves only within its board. Boards are listed as seeded: the org's first.
    assert!(github.move_project_card("o", card.id, 72).await.is_err());
    assert_eq!(
        github.cards_of("o", "r", 3),
        [
            ("Roadmap".to_owned(), "Backlog".to_owned()),
            ("0.5.0".to_owned(), "Done".to_owned())
        ]
    );
    github.delete_project_card("o", card.id).await.unwrap();
    assert_eq!(
        github.cards_of("o", "r", 3),
        [("Roadmap".to_owned(), "Backlog".to_owned())]
    );
    assert!(matches!(
        github.delete_project_card("o", card.id).await,
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn a_seed_with_an_unknown_project_key_is_refused() {
    let err = FakeGitHub::from_seed_yaml(
        "orgs:\n  o:\n    projects:\n    - {id: 1, name: x, colums: []}\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `colums`"), "{err}");
}
