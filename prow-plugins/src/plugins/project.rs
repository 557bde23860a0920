//! project: `/project <board> [column]` puts the issue or pull request on a classic project
//! board, in the named column or the board's default column from `project_config`; `/project
//! clear <board>` takes it off. Only members of the maintainers team configured for the
//! repository (or its org) may (upstream `pkg/plugins/project`).
//!
//! The board is looked for in the repository, then in every repository of the org, then in
//! the org itself, as upstream does; the names found are what the "not valid" reply lists.
//! Upstream keeps that name-to-ID map in a process-wide variable, so boards of other orgs
//! leak into its replies; here it is built afresh for each command.

use std::collections::BTreeMap;

use async_trait::async_trait;
use prow_config::plugins::{PluginConfig, ProjectConfig};
use prow_github::events::{CommentAction, Event};
use prow_github::types::{CardContent, ProjectColumn};

use crate::commands::GoRegex;
use crate::{Action, CardChange, Context, Plugin, PluginError, PluginHelp, Request};

/// `/project <args>` (upstream `projectRegex`; case-sensitive, one whitespace after the
/// command).
pub static PROJECT_RE: GoRegex =
    GoRegex::new("pkg/plugins/project/project.go", r"(?m)^/project\s(.*?)$");

/// The word that makes `/project` take the issue off the board.
pub const CLEAR: &str = "clear";

/// The reply when the repository and its org have no maintainers team configured.
pub const NOT_TEAM_CONFIG: &str = "There is no maintainer team for this repo or org.";

/// The reply when the command has no board, or too many arguments.
pub const INVALID_NUM_ARGS: &str = "Please provide 1 or more arguments. Example usage: /project 0.5.0, /project 0.5.0 To do, /project clear 0.4.0";

/// What a `/project` command asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectCommand {
    /// The board's name.
    pub project: String,
    /// The column's name; empty for the board's default column.
    pub column: String,
    /// Take the issue off the board instead.
    pub clear: bool,
}

/// The arguments of the first `/project` line of `text`, if there is one.
pub fn requested(text: &str) -> Option<String> {
    PROJECT_RE.captures(text).map(|c| c[1].to_owned())
}

/// Reads the arguments of `/project` as upstream's `processCommand` does: a leading `clear`
/// (even glued to the board's name), then either quoted names (`'a b' "To do"`) or the first
/// word as the board and the rest as the column. `None` when that leaves no board or more
/// than two names.
pub fn parse(args: &str) -> Option<ProjectCommand> {
    let mut content = args.trim();
    let clear = content.starts_with(CLEAR);
    if clear {
        content = content[CLEAR.len()..].trim();
    }
    let content = content.replace('"', "'");
    let parts: Vec<&str> = if content.contains('\'') {
        content.split('\'').collect()
    } else {
        content.splitn(2, ' ').collect()
    };
    let names: Vec<&str> = parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    match names[..] {
        [project] => Some(ProjectCommand {
            project: project.to_owned(),
            column: String::new(),
            clear,
        }),
        [project, column] => Some(ProjectCommand {
            project: project.to_owned(),
            column: column.to_owned(),
            clear,
        }),
        _ => None,
    }
}

/// The maintainers team of `org/repo`: the repository's entry when it has one, else the
/// org's; `None` when the org is not configured (upstream's `-1`) or the ID is negative.
pub fn maintainer_team(config: &ProjectConfig, org: &str, repo: &str) -> Option<u64> {
    let o = config.orgs.get(org)?;
    let id = o
        .repos
        .get(repo)
        .map_or(o.maintainer_team_id, |r| r.maintainer_team_id);
    u64::try_from(id).ok()
}

/// The default column of board `project` for `org/repo`: from the repository's map when the
/// repository is configured (else the org's), then from the org's map, as upstream looks.
pub fn default_column<'a>(
    config: &'a ProjectConfig,
    org: &str,
    repo: &str,
    project: &str,
) -> Option<&'a str> {
    let o = config.orgs.get(org)?;
    let first = match o.repos.get(repo) {
        Some(r) => &r.project_column_map,
        None => &o.project_column_map,
    };
    first
        .get(project)
        .or_else(|| o.project_column_map.get(project))
        .map(String::as_str)
}

/// The reply to a commenter outside the maintainers team. Upstream names the team after the
/// repository (`org/repo`), having only the team's ID; so does this.
pub fn not_a_member(org: &str, repo: &str) -> String {
    format!(
        "You must be a member of the [{org}/{repo}](https://github.com/orgs/{org}/teams/{repo}/members) github team to set the project and column."
    )
}

/// The reply naming the boards that were found, when the requested one was not.
pub fn invalid_project(known: &BTreeMap<String, u64>) -> String {
    let names: Vec<String> = known.keys().map(|k| format!("`{k}`")).collect();
    format!(
        "The provided project is not valid for this organization. Projects in Kubernetes orgs and repositories: [{}].",
        names.join(", ")
    )
}

/// The reply when no column was named (and the default is missing) or the named one is not
/// on the board; the columns are listed as Go prints a string slice.
pub fn invalid_column(project: &str, columns: &[ProjectColumn]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    format!(
        "A column is not provided or it's not valid for the project {project}. Please provide one of the following columns in the command:\n[{}]",
        names.join(" ")
    )
}

/// The column `command` puts the card in: the named one, else (with no name given) the
/// configured default when the board has it. `Ok(None)` for `clear` without a known column;
/// `Err` with the reply when there is no such column.
pub fn target_column<'a>(
    command: &ProjectCommand,
    columns: &'a [ProjectColumn],
    default: Option<&str>,
) -> Result<Option<&'a ProjectColumn>, String> {
    if let Some(c) = columns.iter().find(|c| c.name == command.column) {
        return Ok(Some(c));
    }
    if command.clear {
        return Ok(None);
    }
    let fallback = if command.column.is_empty() {
        default.and_then(|d| columns.iter().find(|c| c.name == d))
    } else {
        None
    };
    fallback
        .map(Some)
        .ok_or_else(|| invalid_column(&command.project, columns))
}

/// Where the issue's card already is on the board: the card and its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingCard {
    /// The card.
    pub card_id: u64,
    /// Its column.
    pub column_id: u64,
}

/// The actions for `command` from `request`, once the board and column are known: nothing
/// when the card is already in that column; for `clear`, delete the card (or say it is not
/// on the board); else move the card there, or create one for `content`. Each change is
/// reported by a reply made only once the change is done.
pub fn decide(
    request: &Request<'_>,
    command: &ProjectCommand,
    target: Option<&ProjectColumn>,
    existing: Option<ExistingCard>,
    content: Option<CardContent>,
) -> Vec<Action> {
    let card = |change: CardChange, text: String| {
        vec![Action::ProjectCard {
            org: request.org.to_owned(),
            change,
            then: Some(Box::new(request.reply(&text))),
        }]
    };
    if let (Some(e), Some(t)) = (existing, target)
        && e.column_id == t.id
    {
        return Vec::new();
    }
    let project = &command.project;
    if command.clear {
        return match existing {
            Some(e) => card(
                CardChange::Delete { card_id: e.card_id },
                format!("You have successfully removed this issue/PR from project {project}."),
            ),
            None => vec![request.reply(&format!(
                "The project {project:?} is not valid for the issue/PR {}. Please provide a valid project to which this issue belongs.",
                request.number
            ))],
        };
    }
    let Some(target) = target else {
        return Vec::new();
    };
    let (column, column_id) = (&target.name, target.id);
    match (existing, content) {
        (Some(e), _) => card(
            CardChange::Move {
                card_id: e.card_id,
                column_id,
            },
            format!(
                "You have successfully moved the project card for this issue to column {column} (ID {column_id})."
            ),
        ),
        // Upstream's text prints the ID with `%D`, which Go renders as `%!D(int=…)`; the ID
        // is meant.
        (None, Some(content)) => card(
            CardChange::Create { column_id, content },
            format!(
                "You have successfully created a project card for this issue. It's been added to project {project} column {column} (ID {column_id})."
            ),
        ),
        (None, None) => Vec::new(),
    }
}

/// The project plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectPlugin;

/// The boards of `org` named `name`'s ID, looking where upstream looks, and every board name
/// seen on the way (later listings win a name, as upstream's map does).
async fn find_project(
    ctx: &Context<'_>,
    org: &str,
    repo: &str,
    name: &str,
) -> Result<(Option<u64>, BTreeMap<String, u64>), PluginError> {
    let mut known = BTreeMap::new();
    // Upstream ignores a failure to list the repository's own boards.
    match ctx.github.repo_projects(org, repo).await {
        Ok(found) => known.extend(found.into_iter().map(|p| (p.name, p.id))),
        Err(e) => {
            tracing::debug!(org, repo, error = %e, "project: listing the repository's boards failed")
        }
    }
    if let Some(id) = known.get(name) {
        return Ok((Some(*id), known));
    }
    let repos = ctx
        .github
        .org_repos(org)
        .await
        .map_err(PluginError::github(format!(
            "list the repositories of {org}"
        )))?;
    for r in repos {
        let found = ctx
            .github
            .repo_projects(org, &r.name)
            .await
            .map_err(PluginError::github(format!(
                "list the projects of {org}/{}",
                r.name
            )))?;
        known.extend(found.into_iter().map(|p| (p.name, p.id)));
    }
    if let Some(id) = known.get(name) {
        return Ok((Some(*id), known));
    }
    let found = ctx
        .github
        .org_projects(org)
        .await
        .map_err(PluginError::github(format!("list the projects of {org}")))?;
    known.extend(found.into_iter().map(|p| (p.name, p.id)));
    Ok((known.get(name).copied(), known))
}

/// The columns of board `project_id`, read through the installation of `org`.
pub(crate) async fn columns_of(
    ctx: &Context<'_>,
    org: &str,
    project_id: u64,
) -> Result<Vec<ProjectColumn>, PluginError> {
    ctx.github
        .project_columns(org, project_id)
        .await
        .map_err(PluginError::github(format!(
            "list the columns of project {project_id} in {org}"
        )))
}

/// Where the card of `item` (its org, repo and number) is among `columns` of a board of
/// `org`, looking column by column.
pub(crate) async fn find_card(
    ctx: &Context<'_>,
    org: &str,
    item: (&str, &str, u64),
    columns: &[ProjectColumn],
) -> Result<Option<ExistingCard>, PluginError> {
    let (item_org, repo, number) = item;
    for column in columns {
        let cards = ctx
            .github
            .column_cards(org, column.id)
            .await
            .map_err(PluginError::github(format!(
                "list the cards of project column {} in {org}",
                column.id
            )))?;
        if let Some(card) = cards.iter().find(|c| c.is_for(item_org, repo, number)) {
            return Ok(Some(ExistingCard {
                card_id: card.id,
                column_id: column.id,
            }));
        }
    }
    Ok(None)
}

/// What a new card for the event's issue or pull request stands for. GitHub wants a pull
/// request's own ID, which a comment on it does not carry (upstream sends the issue's ID
/// there): it is read from GitHub.
async fn card_content(
    ctx: &Context<'_>,
    event: &Event,
    org: &str,
    repo: &str,
) -> Result<Option<CardContent>, PluginError> {
    Ok(Some(match event {
        Event::Issues(e) if !e.issue.is_pull_request() => CardContent::of(e.issue.id, false),
        Event::IssueComment(e) if !e.issue.is_pull_request() => CardContent::of(e.issue.id, false),
        Event::Issues(e) => {
            CardContent::of(ctx.pull_request(org, repo, e.issue.number).await?.id, true)
        }
        Event::IssueComment(e) => {
            CardContent::of(ctx.pull_request(org, repo, e.issue.number).await?.id, true)
        }
        Event::PullRequest(e) => CardContent::of(e.pull_request.id, true),
        Event::PullRequestReview(e) => CardContent::of(e.pull_request.id, true),
        Event::PullRequestReviewComment(e) => CardContent::of(e.pull_request.id, true),
        _ => return Ok(None),
    }))
}

#[async_trait]
impl Plugin for ProjectPlugin {
    fn name(&self) -> &'static str {
        "project"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The project plugin allows members of a GitHub team to set the project and column on an issue or pull request.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/project <board>, /project <board> <column>, or /project clear <board>",
            "Add an issue or PR to a project board and column",
            "Members of the project maintainer GitHub team can use the '/project' command.",
            &["/project 0.5.0", "/project 0.5.0 To do", "/project clear 0.4.0"],
        );
        let describe = |team: i64, columns: &BTreeMap<String, String>| {
            // As upstream: the default columns, when there are any, replace the team line.
            if columns.is_empty() {
                format!("The project maintainers team is the github team with ID: {team}.")
            } else {
                let pairs: Vec<String> = columns.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!(
                    "An issue/PR with unspecified column will be added to one of the following columns: map[{}].",
                    pairs.join(" ")
                )
            }
        };
        for (org, o) in plugins.project.orgs.iter() {
            help.config.insert(
                org.clone(),
                describe(o.maintainer_team_id, &o.project_column_map),
            );
            for (repo, r) in o.repos.iter() {
                help.config.insert(
                    format!("{org}/{repo}"),
                    describe(r.maintainer_team_id, &r.project_column_map),
                );
            }
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created || gc.user.login.eq_ignore_ascii_case(ctx.bot) {
            return Ok(Vec::new());
        }
        let Some(args) = requested(ctx.commands) else {
            return Ok(Vec::new());
        };
        let request = Request::of(gc);
        let (org, repo, user) = (request.org, request.repo, request.user);
        let Some(command) = parse(&args) else {
            return Ok(vec![request.reply(INVALID_NUM_ARGS)]);
        };
        let config = &ctx.plugins.project;
        let Some(team) = maintainer_team(config, org, repo) else {
            tracing::info!(org, repo, "project: no maintainers team configured");
            return Ok(vec![request.reply(NOT_TEAM_CONFIG)]);
        };
        let member =
            ctx.github
                .team_has_member(org, team, user)
                .await
                .map_err(PluginError::github(format!(
                    "check whether {user} belongs to team {team} of {org}"
                )))?;
        if !member {
            tracing::info!(
                org,
                repo,
                user,
                team,
                "project: commenter is not a maintainer"
            );
            return Ok(vec![request.reply(&not_a_member(org, repo))]);
        }
        let (project_id, known) = find_project(ctx, org, repo, &command.project).await?;
        let Some(project_id) = project_id else {
            return Ok(vec![request.reply(&invalid_project(&known))]);
        };
        let columns = columns_of(ctx, org, project_id).await?;
        let default = default_column(config, org, repo, &command.project);
        let target = match target_column(&command, &columns, default) {
            Ok(target) => target,
            Err(text) => return Ok(vec![request.reply(&text)]),
        };
        let existing = find_card(ctx, org, (org, repo, request.number), &columns).await?;
        let needs_content = existing.is_none() && !command.clear;
        let content = if needs_content {
            card_content(ctx, event, org, repo).await?
        } else {
            None
        };
        let actions = decide(&request, &command, target, existing, content);
        tracing::info!(
            org,
            repo,
            number = request.number,
            project = %command.project,
            column = target.map(|c| c.name.as_str()).unwrap_or_default(),
            clear = command.clear,
            actions = actions.len(),
            "project: decided"
        );
        Ok(actions)
    }
}
