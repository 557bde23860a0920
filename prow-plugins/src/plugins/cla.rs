//! cla: keeps `cncf-cla: yes` / `cncf-cla: no` on pull requests in step with the CLA status
//! context, on status events and on `/check-cla` (upstream `pkg/plugins/cla`).
//!
//! Upstream watches the `EasyCLA` context; older Prow watched `cla/linuxfoundation`. Both are
//! watched by default; [`Cla::with_contexts`] picks others. A pending status changes nothing.
//! When GitHub's search does not know the commit yet, upstream searches again for up to 50
//! seconds; here hook searches once more after [`SEARCH_AGAIN_AFTER`] through an
//! [`Action::Recheck`], holding no worker while it waits.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;
use prow_github::types::{Label, StatusState};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label of a signed CLA.
pub const CLA_YES: &str = "cncf-cla: yes";
/// The label of a missing CLA.
pub const CLA_NO: &str = "cncf-cla: no";
/// How long to wait before searching again for the pull requests of a commit.
pub const SEARCH_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_secs(10);
/// The contexts watched by default: upstream's and the Linux Foundation's older one.
pub const DEFAULT_CONTEXTS: [&str; 2] = ["EasyCLA", "cla/linuxfoundation"];

/// `/check-cla` (upstream `checkCLARe`).
pub static CHECK_CLA_RE: GoRegex = GoRegex::new("pkg/plugins/cla/cla.go", r"(?mi)^/check-cla\s*$");

/// Whether `body` asks for `/check-cla`.
pub fn requested(body: &str) -> bool {
    CHECK_CLA_RE.is_match(body)
}

/// The label changes that make `labels` agree with a CLA status in `state`, as Prow does:
/// success gives `cncf-cla: yes`, failure (and, for status events, error) `cncf-cla: no`.
/// `error_is_failure` is true for status events, false for `/check-cla` (upstream's
/// asymmetry).
pub fn label_changes(
    labels: &[Label],
    state: StatusState,
    error_is_failure: bool,
) -> (Vec<&'static str>, Vec<&'static str>) {
    let has = |name: &str| labels.iter().any(|l| l.name == name);
    let failed = state == StatusState::Failure || (error_is_failure && state == StatusState::Error);
    let (want, other) = match state {
        StatusState::Success => (CLA_YES, CLA_NO),
        _ if failed => (CLA_NO, CLA_YES),
        _ => return (Vec::new(), Vec::new()),
    };
    let remove = if has(other) { vec![other] } else { Vec::new() };
    let add = if has(want) { Vec::new() } else { vec![want] };
    (add, remove)
}

/// The actions for `changes` on `org/repo#number`.
fn actions(
    org: &str,
    repo: &str,
    number: u64,
    (add, remove): (Vec<&'static str>, Vec<&'static str>),
) -> Vec<Action> {
    let mut out: Vec<Action> = remove
        .into_iter()
        .map(|label| Action::RemoveLabel {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            label: label.to_owned(),
        })
        .collect();
    if !add.is_empty() {
        out.push(Action::AddLabels {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            labels: add.into_iter().map(str::to_owned).collect(),
        });
    }
    out
}

/// The cla plugin.
#[derive(Debug, Clone)]
pub struct Cla {
    contexts: Vec<String>,
}

impl Default for Cla {
    fn default() -> Self {
        Cla::with_contexts(&DEFAULT_CONTEXTS)
    }
}

impl Cla {
    /// The plugin watching these status contexts.
    pub fn with_contexts(contexts: &[&str]) -> Self {
        Cla {
            contexts: contexts.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    fn watches(&self, context: &str) -> bool {
        self.contexts.iter().any(|c| c == context)
    }
}

fn state_of(text: &str) -> Option<StatusState> {
    match text {
        "pending" => Some(StatusState::Pending),
        "success" => Some(StatusState::Success),
        "failure" => Some(StatusState::Failure),
        "error" => Some(StatusState::Error),
        _ => None,
    }
}

#[async_trait]
impl Plugin for Cla {
    fn name(&self) -> &'static str {
        "cla"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            format!(
                "The cla plugin manages the application and removal of the 'cncf-cla' prefixed labels on pull requests as a reaction to the {} github status context. It is also responsible for warning unauthorized PR authors that they need to sign the CNCF CLA before their PR will be merged.",
                self.contexts.join(" or ")
            ),
            &["status", "issue_comment"],
        )
        .command(
            "/check-cla",
            "Forces rechecking of the CLA status.",
            "Anyone",
            &["/check-cla"],
        );
        for c in &mut help.commands {
            c.featured = true;
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        if let Event::Status(se) = event {
            if !self.watches(&se.context) {
                return Ok(Vec::new());
            }
            let Some(state) = state_of(&se.state) else {
                return Err(PluginError::Other(format!(
                    "status event for {} has an unknown state {:?}",
                    se.context, se.state
                )));
            };
            if state == StatusState::Pending {
                return Ok(Vec::new());
            }
            let (org, repo) = (se.repository.org(), se.repository.name.as_str());
            let query = format!("{} repo:{org}/{repo} type:pr state:open", se.sha);
            let issues = ctx
                .github
                .search_issues(&query)
                .await
                .map_err(PluginError::github(format!("search {query:?}")))?;
            if issues.is_empty() && !ctx.recheck {
                return Ok(vec![Action::Recheck {
                    after: SEARCH_AGAIN_AFTER,
                    plugin: self.name().to_owned(),
                    event: Box::new(event.clone()),
                }]);
            }
            let mut out = Vec::new();
            for issue in issues {
                let (add, remove) = label_changes(&issue.labels, state, true);
                if add.is_empty() && remove.is_empty() {
                    continue;
                }
                // The search matches any commit of the PR; only its head counts.
                let pr = ctx.pull_request(org, repo, issue.number).await?;
                if pr.head.sha != se.sha {
                    continue;
                }
                out.extend(actions(org, repo, issue.number, (add, remove)));
            }
            return Ok(out);
        }
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if !gc.is_new_on_open() || !requested(ctx.commands) {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        let labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let pr = ctx.pull_request(org, repo, number).await?;
        let combined = ctx.combined_status(org, repo, &pr.head.sha).await?;
        let Some(status) = combined.statuses.iter().find(|s| self.watches(&s.context)) else {
            return Ok(Vec::new());
        };
        Ok(actions(
            org,
            repo,
            number,
            label_changes(&labels, status.state, false),
        ))
    }
}
