//! project-manager: puts issues and pull requests whose labels (and state) match a configured
//! column on that column of a classic project board, never twice on one board
//! (`project_manager.orgsRepos` in plugins.yaml; upstream `pkg/plugins/projectmanager`).
//!
//! It acts when an issue or pull request is opened, reopened, labeled or unlabeled. Upstream
//! listens to `issues` events only; GitHub reports a pull request's label changes as
//! `pull_request` events, so those are read too. In each configured project only the first
//! matching column counts. Before adding a card the board is read: an issue already on it
//! (in any column) is left where it is. Upstream skips that check for a column configured by
//! `id`; here it is made whenever the board is found by its name.

use async_trait::async_trait;
use prow_config::plugins::{ManagedColumn, PluginConfig, ProjectManager};
use prow_github::events::Event;
use prow_github::types::{CardContent, ProjectColumn};

use crate::{Action, CardChange, Context, Plugin, PluginError, PluginHelp};

/// The event actions the plugin acts on (upstream `handleIssueActions`).
pub const ACTIONS: [&str; 4] = ["opened", "reopened", "labeled", "unlabeled"];

/// The issue or pull request an event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The issue or pull request number.
    pub number: u64,
    /// Its numeric ID (what a card stands for).
    pub id: u64,
    /// Whether it is a pull request.
    pub is_pr: bool,
    /// `open` or `closed`.
    pub state: String,
    /// Its labels.
    pub labels: Vec<String>,
}

impl Item {
    /// The item an `issues` or `pull_request` event with one of [`ACTIONS`] is about.
    pub fn of(event: &Event) -> Option<Item> {
        let names = |labels: &[prow_github::types::Label]| {
            labels.iter().map(|l| l.name.clone()).collect::<Vec<_>>()
        };
        let (action, item) = match event {
            Event::Issues(e) => (
                &e.action,
                Item {
                    org: e.repository.org().to_owned(),
                    repo: e.repository.name.clone(),
                    number: e.issue.number,
                    id: e.issue.id,
                    is_pr: e.issue.is_pull_request(),
                    state: e.issue.state.clone(),
                    labels: names(&e.issue.labels),
                },
            ),
            Event::PullRequest(e) => (
                &e.action,
                Item {
                    org: e.repository.org().to_owned(),
                    repo: e.repository.name.clone(),
                    number: e.pull_request.number,
                    id: e.pull_request.id,
                    is_pr: true,
                    state: e.pull_request.state.clone(),
                    labels: names(&e.pull_request.labels),
                },
            ),
            _ => return None,
        };
        ACTIONS.contains(&action.as_str()).then_some(item)
    }
}

/// A configured column an item belongs in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match<'a> {
    /// The `org` or `org/repo` owning the board.
    pub owner: &'a str,
    /// The board's name.
    pub project: &'a str,
    /// The column.
    pub column: &'a ManagedColumn,
}

/// Whether `column` wants `item`: the column's org is the item's, its state (when set) is
/// the item's, and the item has every one of its labels (without case, as GitHub compares).
pub fn wants(column: &ManagedColumn, item: &Item) -> bool {
    !column.org.is_empty()
        && column.org == item.org
        && (column.state.is_empty() || column.state == item.state)
        && column
            .labels
            .iter()
            .all(|l| item.labels.iter().any(|have| have.eq_ignore_ascii_case(l)))
}

/// The columns `item` belongs in: in each configured project, the first column that wants it.
pub fn matches<'a>(config: &'a ProjectManager, item: &Item) -> Vec<Match<'a>> {
    let mut found = Vec::new();
    for (owner, managed) in config.org_repos.iter() {
        for (project, p) in managed.projects.iter() {
            if let Some(column) = p.columns.iter().find(|c| wants(c, item)) {
                found.push(Match {
                    owner,
                    project,
                    column,
                });
            } else {
                tracing::debug!(owner = %owner, project = %project, number = item.number, "project-manager: no column wants it");
            }
        }
    }
    found
}

/// What the board of a match looks like, as read from GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Board {
    /// The board was not found under its owner.
    Missing,
    /// The board, with its columns, and whether the item already has a card on it.
    Found {
        /// Its columns.
        columns: Vec<ProjectColumn>,
        /// The item is on the board already.
        has_card: bool,
    },
}

/// The column a matched item's card goes in, or why none: `Err` with the reason to log.
pub fn column_for(m: &Match<'_>, board: &Board) -> Result<u64, String> {
    let by_id = m.column.id.and_then(|id| u64::try_from(id).ok());
    match board {
        Board::Found { has_card: true, .. } => {
            Err(format!("the issue/PR is already on project {}", m.project))
        }
        Board::Found { columns, .. } => by_id
            .or_else(|| {
                columns
                    .iter()
                    .find(|c| c.name == m.column.name)
                    .map(|c| c.id)
            })
            .ok_or_else(|| {
                format!(
                    "could not find column {} in project {}",
                    m.column.name, m.project
                )
            }),
        // With an ID the card can go in without the board (upstream never reads it then).
        Board::Missing => by_id.ok_or_else(|| {
            format!(
                "could not find project {} in org/repo {}",
                m.project, m.owner
            )
        }),
    }
}

/// The action adding `item` to column `column_id`.
pub fn add(item: &Item, column_id: u64) -> Action {
    Action::ProjectCard {
        org: item.org.clone(),
        change: CardChange::Create {
            column_id,
            content: CardContent::of(item.id, item.is_pr),
        },
        then: None,
    }
}

/// The project-manager plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectManagerPlugin;

/// The board of `m` and whether `item` is on it.
async fn read_board(ctx: &Context<'_>, m: &Match<'_>, item: &Item) -> Result<Board, PluginError> {
    let owner = m.owner;
    let (org, projects) = match owner.split_once('/') {
        Some((org, repo)) => (org, ctx.github.repo_projects(org, repo).await),
        None => (owner, ctx.github.org_projects(owner).await),
    };
    let projects =
        projects.map_err(PluginError::github(format!("list the projects of {owner}")))?;
    let Some(project) = projects.into_iter().find(|p| p.name == m.project) else {
        return Ok(Board::Missing);
    };
    let columns = super::project::columns_of(ctx, org, project.id).await?;
    let item = (item.org.as_str(), item.repo.as_str(), item.number);
    let has_card = super::project::find_card(ctx, org, item, &columns)
        .await?
        .is_some();
    Ok(Board::Found { columns, has_card })
}

#[async_trait]
impl Plugin for ProjectManagerPlugin {
    fn name(&self) -> &'static str {
        "project-manager"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The project-manager plugin automatically adds Pull Requests to specified GitHub Project Columns, if the label on the PR matches with configured project and the column.",
            &["issues", "pull_request"],
        );
        for (owner, managed) in plugins.project_manager.org_repos.iter() {
            let mut text = String::new();
            for (project, p) in managed.projects.iter() {
                for c in &p.columns {
                    text.push_str(&format!(
                        "\nIssue/PRs org: {}, with matching labels: [{}] and state: {} will be added to the project: {project}\n",
                        c.org,
                        c.labels.join(" "),
                        c.state
                    ));
                }
            }
            help.config.insert(owner.clone(), text);
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(mut item) = Item::of(event) else {
            return Ok(Vec::new());
        };
        let config = &ctx.plugins.project_manager;
        if config.org_repos.is_empty() {
            return Ok(Vec::new());
        }
        if item.labels.is_empty() {
            // As upstream: read them only when the event has none, and go on without them.
            match ctx.labels(&item.org, &item.repo, item.number).await {
                Ok(labels) => item.labels = labels,
                Err(e) => {
                    tracing::info!(number = item.number, error = %e, "project-manager: cannot read the labels")
                }
            }
        }
        let mut actions = Vec::new();
        for m in matches(config, &item) {
            let board = read_board(ctx, &m, &item).await?;
            match column_for(&m, &board) {
                Ok(column_id) => {
                    tracing::info!(
                        org = %item.org,
                        repo = %item.repo,
                        number = item.number,
                        project = m.project,
                        column_id,
                        "project-manager: adding a card"
                    );
                    actions.push(add(&item, column_id));
                }
                Err(reason) => tracing::info!(
                    org = %item.org,
                    repo = %item.repo,
                    number = item.number,
                    project = m.project,
                    "project-manager: not adding a card: {reason}"
                ),
            }
        }
        Ok(actions)
    }
}
