//! project: reading `/project` as upstream does, the maintainers team and default columns of
//! `project_config`, the column chosen, the card change and the replies (through the real
//! hook: prow-server's `plugins_project`).

use prow_github::types::{CardContent, CardContentType, ProjectColumn};
use prow_plugins::plugins::project::{self, ExistingCard, ProjectCommand};
use prow_plugins::{Action, CardChange, Request};

use proptest::prelude::*;

use crate::bugzilla::config;

/// Upstream's `TestProjectCommand` configuration, with the `TestGetProjectConfigs` orgs.
const CONFIG: &str = r#"
project_config:
  project_org_configs:
    kubernetes:
      org_maintainers_team_id: 11
      org_default_column_map:
        "0.0.0": Backlog
      project_repo_configs:
        kubernetes:
          repo_maintainers_team_id: 42
          repo_default_column_map:
            "0.1.0": To do
        community:
          repo_default_column_map:
            "0.1.0": does not exist column
    kubernetes-sigs:
      org_maintainers_team_id: 10
      project_repo_configs:
        kind:
          repo_maintainers_team_id: -1
"#;

fn command(project: &str, column: &str, clear: bool) -> Option<ProjectCommand> {
    Some(ProjectCommand {
        project: project.to_owned(),
        column: column.to_owned(),
        clear,
    })
}

#[test]
fn commands_read_as_upstreams_process_command() {
    // Upstream's `TestParseCommand`, and the quirks of its reading.
    let cases = [
        ("/project 0.0.0 To do", command("0.0.0", "To do", false)),
        ("/project 0.0.0 Backlog", command("0.0.0", "Backlog", false)),
        ("/project clear 0.0.0", command("0.0.0", "", true)),
        (
            "/project clear 0.0.0 Backlog",
            command("0.0.0", "Backlog", true),
        ),
        ("/project clear", None),
        ("/project 0.0.0", command("0.0.0", "", false)),
        ("/project '0.0.0'", command("0.0.0", "", false)),
        ("/project \"0.0.0\"", command("0.0.0", "", false)),
        ("/project '0.0.0' To do", command("0.0.0", "To do", false)),
        (
            "/project '0.0.0' \"To do\"",
            command("0.0.0", "To do", false),
        ),
        (
            "/project 'something 0.0.0' \"To do\"",
            command("something 0.0.0", "To do", false),
        ),
        (
            "/project clear '0.0.0' \"To do\"",
            command("0.0.0", "To do", true),
        ),
        (
            "/project clear 'something 0.0.0' \"To do\"",
            command("something 0.0.0", "To do", true),
        ),
        // Three quoted names are too many; a `clear` glued to the name still clears.
        ("/project 'a' 'b' 'c'", None),
        ("/project clearance", command("ance", "", true)),
        (
            "/project 0.0.0  In  progress ",
            command("0.0.0", "In  progress", false),
        ),
        ("/project 0.0.0\r", command("0.0.0", "", false)),
    ];
    for (body, want) in cases {
        let args = project::requested(body).unwrap_or_else(|| panic!("{body:?} is a command"));
        assert_eq!(project::parse(&args), want, "{body:?}");
    }
    for body in [
        "/project",
        "random comment",
        " /project 0.0.0",
        "/PROJECT 0.0.0",
    ] {
        assert_eq!(project::requested(body), None, "{body:?}");
    }
}

#[test]
fn the_maintainers_team_and_default_columns_come_from_the_repo_then_the_org() {
    let c = config(CONFIG);
    let p = &c.project;
    // Upstream's `TestGetProjectConfigs`, plus an unconfigured org and a negative ID.
    let teams = [
        ("kubernetes", "kubernetes", Some(42)),
        ("kubernetes", "community", Some(0)),
        ("kubernetes", "other", Some(11)),
        ("kubernetes-sigs", "kubespray", Some(10)),
        ("kubernetes-sigs", "kind", None),
        ("elsewhere", "repo", None),
    ];
    for (org, repo, want) in teams {
        assert_eq!(project::maintainer_team(p, org, repo), want, "{org}/{repo}");
    }
    let defaults = [
        ("kubernetes", "kubernetes", "0.1.0", Some("To do")),
        // The repository's map first, then the org's for boards it does not name.
        ("kubernetes", "kubernetes", "0.0.0", Some("Backlog")),
        (
            "kubernetes",
            "community",
            "0.1.0",
            Some("does not exist column"),
        ),
        ("kubernetes", "other", "0.0.0", Some("Backlog")),
        ("kubernetes", "other", "0.1.0", None),
        ("elsewhere", "repo", "0.0.0", None),
    ];
    for (org, repo, board, want) in defaults {
        assert_eq!(
            project::default_column(p, org, repo, board),
            want,
            "{org}/{repo} {board}"
        );
    }
}

/// Board columns from `(id, name)` pairs.
pub(crate) fn board(list: &[(u64, &str)]) -> Vec<ProjectColumn> {
    list.iter()
        .map(|(id, name)| ProjectColumn {
            id: *id,
            name: (*name).to_owned(),
        })
        .collect()
}

fn columns() -> Vec<ProjectColumn> {
    board(&[(2, "To do"), (3, "Backlog")])
}

#[test]
fn the_column_is_the_named_one_else_the_default_when_the_board_has_it() {
    let cols = columns();
    let pick = |body: &str, default: Option<&str>| {
        let cmd = project::parse(&project::requested(body).unwrap()).unwrap();
        project::target_column(&cmd, &cols, default).map(|c| c.map(|c| c.id))
    };
    assert_eq!(pick("/project 0.1.0 Backlog", Some("To do")), Ok(Some(3)));
    assert_eq!(pick("/project 0.1.0", Some("To do")), Ok(Some(2)));
    assert_eq!(pick("/project clear 0.1.0", None), Ok(None));
    assert_eq!(pick("/project clear 0.1.0 Nope", None), Ok(None));
    // A named column that is missing never falls back to the default.
    let invalid = "A column is not provided or it's not valid for the project 0.1.0. Please provide one of the following columns in the command:\n[To do Backlog]";
    assert_eq!(
        pick("/project 0.1.0 Random 2", Some("To do")),
        Err(invalid.to_owned())
    );
    assert_eq!(
        pick("/project 0.1.0", Some("does not exist column")),
        Err(invalid.to_owned())
    );
    assert_eq!(pick("/project 0.1.0", None), Err(invalid.to_owned()));
}

fn request() -> Request<'static> {
    Request {
        org: "kubernetes",
        repo: "kubernetes",
        number: 1,
        user: "sig-lead",
        body: "/project 0.0.0 To do",
        url: "https://github.com/kubernetes/kubernetes/issues/1#issuecomment-1",
    }
}

/// The card change an action list makes, and the text of the reply made after it (or the
/// reply alone).
fn outcome(actions: &[Action]) -> Option<(Option<CardChange>, String)> {
    let reply = |a: &Action| match a {
        Action::Comment { body, .. } => body.clone(),
        other => panic!("not a reply: {other:?}"),
    };
    match actions {
        [] => None,
        [Action::ProjectCard { org, change, then }] => {
            assert_eq!(org, "kubernetes");
            Some((
                Some(*change),
                reply(then.as_deref().expect("a reply after")),
            ))
        }
        [one] => Some((None, reply(one))),
        more => panic!("too many actions: {more:?}"),
    }
}

#[test]
fn decisions_create_move_clear_or_leave_the_card_and_say_so() {
    let cols = columns();
    let (todo, backlog) = (Some(&cols[0]), Some(&cols[1]));
    let content = Some(CardContent::of(99, false));
    let card_in = |column_id| {
        Some(ExistingCard {
            card_id: 7,
            column_id,
        })
    };
    let set = command("0.0.0", "To do", false).unwrap();
    let clear = command("0.0.0", "", true).unwrap();
    let r = request();
    let said = |text: &str| prow_plugins::respond::format_response_raw(r.body, r.url, r.user, text);
    let created = project::decide(&r, &set, todo, None, content);
    assert_eq!(
        outcome(&created),
        Some((
            Some(CardChange::Create {
                column_id: 2,
                content: CardContent {
                    content_id: 99,
                    content_type: CardContentType::Issue
                }
            }),
            said(
                "You have successfully created a project card for this issue. It's been added to project 0.0.0 column To do (ID 2)."
            )
        ))
    );
    assert_eq!(
        outcome(&project::decide(&r, &set, todo, card_in(3), None)),
        Some((
            Some(CardChange::Move {
                card_id: 7,
                column_id: 2
            }),
            said(
                "You have successfully moved the project card for this issue to column To do (ID 2)."
            )
        ))
    );
    // Already there: nothing, not even a reply.
    assert_eq!(
        outcome(&project::decide(&r, &set, todo, card_in(2), None)),
        None
    );
    assert_eq!(
        outcome(&project::decide(&r, &clear, None, card_in(3), None)),
        Some((
            Some(CardChange::Delete { card_id: 7 }),
            said("You have successfully removed this issue/PR from project 0.0.0.")
        ))
    );
    // Upstream's quirk: clearing while naming the column the card is in does nothing.
    let clear_backlog = command("0.0.0", "Backlog", true).unwrap();
    assert_eq!(
        outcome(&project::decide(
            &r,
            &clear_backlog,
            backlog,
            card_in(3),
            None
        )),
        None
    );
    assert_eq!(
        outcome(&project::decide(&r, &clear, None, None, None)),
        Some((
            None,
            said(
                "The project \"0.0.0\" is not valid for the issue/PR 1. Please provide a valid project to which this issue belongs."
            )
        ))
    );
}

#[test]
fn replies_keep_upstreams_words() {
    assert_eq!(
        project::not_a_member("kubernetes", "kubernetes"),
        "You must be a member of the [kubernetes/kubernetes](https://github.com/orgs/kubernetes/teams/kubernetes/members) github team to set the project and column."
    );
    let known = [("0.1.0".to_owned(), 8), ("0.0.0".to_owned(), 0)]
        .into_iter()
        .collect();
    assert_eq!(
        project::invalid_project(&known),
        "The provided project is not valid for this organization. Projects in Kubernetes orgs and repositories: [`0.0.0`, `0.1.0`]."
    );
    assert_eq!(
        project::NOT_TEAM_CONFIG,
        "There is no maintainer team for this repo or org."
    );
}

#[test]
fn help_describes_each_configured_org_and_repo() {
    let plugins = prow_plugins::builtin();
    let help = plugins["project"].help(&config(CONFIG));
    assert_eq!(
        help.config["kubernetes/kubernetes"],
        "An issue/PR with unspecified column will be added to one of the following columns: map[0.1.0:To do]."
    );
    assert_eq!(
        help.config["kubernetes-sigs"],
        "The project maintainers team is the github team with ID: 10."
    );
    assert_eq!(help.commands[0].examples.len(), 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text after `/project ` reads without panicking, and a plain board name followed by
    /// a column reads back as those two.
    #[test]
    fn proptest_project_arguments_round_trip(
        board in "[a-z0-9.]{1,8}",
        column in "[A-Za-z][A-Za-z ]{0,10}[A-Za-z]",
        noise in "\\PC{0,40}",
    ) {
        let _ = project::parse(&noise);
        prop_assume!(!board.starts_with("clear"));
        let body = format!("/project {board} {column}");
        let args = project::requested(&body).expect("a command");
        prop_assert_eq!(project::parse(&args), command(&board, &column, false));
        let cleared = format!("/project clear '{board}' \"{column}\"");
        let args = project::requested(&cleared).expect("a command");
        prop_assert_eq!(project::parse(&args), command(&board, &column, true));
    }
}
