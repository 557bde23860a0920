//! size: keeps one `size/*` label on each pull request, from the lines it adds and deletes
//! (upstream `pkg/plugins/size`).
//!
//! Prow also leaves out files named in the repository's `.generated_files` and files marked
//! `linguist-generated` in `.gitattributes`; reading those needs the base tree's files and is
//! not done here: every changed file counts.

use async_trait::async_trait;
use prow_config::plugins::{PluginConfig, Size};
use prow_github::events::Event;

use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// What every size label starts with.
pub const PREFIX: &str = "size/";

/// The thresholds, each the first line count of its size: `size/S` from `s` lines and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// First count of `size/S`.
    pub s: u64,
    /// First count of `size/M`.
    pub m: u64,
    /// First count of `size/L`.
    pub l: u64,
    /// First count of `size/XL`.
    pub xl: u64,
    /// First count of `size/XXL`.
    pub xxl: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            s: 10,
            m: 30,
            l: 100,
            xl: 500,
            xxl: 1000,
        }
    }
}

impl Thresholds {
    /// The configured thresholds, each unset (zero or negative) one Prow's default.
    pub fn from_config(size: &Size) -> Self {
        let d = Thresholds::default();
        let or = |v: i64, default: u64| u64::try_from(v).ok().filter(|v| *v > 0).unwrap_or(default);
        Thresholds {
            s: or(size.s, d.s),
            m: or(size.m, d.m),
            l: or(size.l, d.l),
            xl: or(size.xl, d.xl),
            xxl: or(size.xxl, d.xxl),
        }
    }

    /// The label for `lines` changed lines.
    pub fn label(&self, lines: u64) -> &'static str {
        if lines < self.s {
            "size/XS"
        } else if lines < self.m {
            "size/S"
        } else if lines < self.l {
            "size/M"
        } else if lines < self.xl {
            "size/L"
        } else if lines < self.xxl {
            "size/XL"
        } else {
            "size/XXL"
        }
    }
}

/// The actions that leave `org/repo#number` with exactly the size label for `lines`, given its
/// `labels` now.
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    lines: u64,
    thresholds: &Thresholds,
    labels: &[String],
) -> Vec<Action> {
    let want = thresholds.label(lines);
    let mut actions: Vec<Action> = labels
        .iter()
        .filter(|l| l.starts_with(PREFIX) && *l != want)
        .map(|l| Action::RemoveLabel {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            label: l.clone(),
        })
        .collect();
    if !labels.iter().any(|l| l == want) {
        actions.push(Action::AddLabels {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            labels: vec![want.to_owned()],
        });
    }
    actions
}

/// The size plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct SizePlugin;

#[async_trait]
impl Plugin for SizePlugin {
    fn name(&self) -> &'static str {
        "size"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let t = Thresholds::from_config(&plugins.size);
        let mut help = PluginHelp::new(
            "The size plugin manages the 'size/*' labels, maintaining the appropriate label on each pull request as it is updated. Generated files identified by the config file '.generated_files' at the repo root are ignored. Labels are applied based on the total number of lines of changes (additions and deletions).",
            &["pull_request"],
        );
        help.config.insert(
            String::new(),
            format!(
                "The plugin has the following thresholds:<ul>\n<li>size/XS:  0-{}</li>\n<li>size/S:   {}-{}</li>\n<li>size/M:   {}-{}</li>\n<li>size/L:   {}-{}</li>\n<li>size/XL:  {}-{}</li>\n<li>size/XXL: {}+</li>\n</ul>",
                t.s.saturating_sub(1),
                t.s,
                t.m.saturating_sub(1),
                t.m,
                t.l.saturating_sub(1),
                t.l,
                t.xl.saturating_sub(1),
                t.xl,
                t.xxl.saturating_sub(1),
                t.xxl
            ),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        if !matches!(
            pe.action.as_str(),
            "opened" | "reopened" | "synchronize" | "edited"
        ) {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (
            pe.repository.org(),
            pe.repository.name.as_str(),
            pe.pull_request.number,
        );
        let files = ctx
            .github
            .pull_request_files(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "read the changes of {org}/{repo}#{number}"
            )))?;
        let lines = files.iter().map(|f| f.additions + f.deletions).sum();
        let labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let labels: Vec<String> = labels.into_iter().map(|l| l.name).collect();
        Ok(decide(
            org,
            repo,
            number,
            lines,
            &Thresholds::from_config(&ctx.plugins.size),
            &labels,
        ))
    }
}
