//! require-matching-label: puts a `missing_label` on issues and/or pull requests that have no
//! label matching a rule's `regexp`, with an optional comment, and takes it off once one
//! matches; `/check-required-labels` checks again (upstream
//! `pkg/plugins/require-matching-label`).
//!
//! On opening (no label in the event) the plugin first waits the rules' longest
//! `grace_period`, so that other plugins can label first; it does so by asking hook for an
//! [`Action::Recheck`](crate::Action::Recheck), which holds no worker while it waits.

use async_trait::async_trait;
use prow_config::plugins::{PluginConfig, RequireMatchingLabel};
use prow_github::events::Event;
use regex::Regex;

use crate::commands::GoRegex;
use crate::respond::ABOUT_THIS_BOT;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// `/check-required-labels` (upstream `checkRequireLabelsRe`).
pub static CHECK_REQUIRED_LABELS_RE: GoRegex = GoRegex::new(
    "pkg/plugins/require-matching-label/require-matching-label.go",
    r"(?mi)^/check-required-labels\s*$",
);

/// What the event is about.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The repository.
    pub repo: &'a str,
    /// The issue or pull request.
    pub number: u64,
    /// The base branch of a pull request; empty for an issue.
    pub branch: &'a str,
    /// The label added or removed; empty when the event is not about a label.
    pub label: &'a str,
}

/// A rule's label regex, read as Go reads it and compiled once per process; an invalid
/// one matches nothing.
fn rule_re(rule: &RequireMatchingLabel) -> Option<std::sync::Arc<Regex>> {
    prow_config::goregex::shared(&rule.regexp).ok()
}

/// The rules of `all` that apply to `subject`.
pub fn matching<'a>(
    subject: &Subject<'_>,
    all: &'a [RequireMatchingLabel],
) -> Vec<&'a RequireMatchingLabel> {
    all.iter()
        .filter(|r| {
            if subject.branch.is_empty() && !r.issues || !subject.branch.is_empty() && !r.prs {
                return false;
            }
            if subject.org != r.org
                || (!r.repo.is_empty() && r.repo != subject.repo)
                || (!r.branch.is_empty()
                    && !subject.branch.is_empty()
                    && r.branch != subject.branch)
            {
                return false;
            }
            subject.label.is_empty() || rule_re(r).is_some_and(|re| re.is_match(subject.label))
        })
        .collect()
}

/// The longest grace period of `rules`.
pub fn grace(rules: &[&RequireMatchingLabel]) -> std::time::Duration {
    rules
        .iter()
        .filter_map(|r| prow_core::Duration::parse(&r.grace_period).ok())
        .filter_map(prow_core::Duration::to_std)
        .max()
        .unwrap_or_default()
}

/// The actions for `subject` with `labels` under `rules`; `bot_comments` (id, text) are the
/// bot's comments, pruned when the label goes.
pub fn decide(
    subject: &Subject<'_>,
    rules: &[&RequireMatchingLabel],
    labels: &[String],
    bot_comments: &[(u64, String)],
) -> Vec<Action> {
    let (org, repo, number) = (
        subject.org.to_owned(),
        subject.repo.to_owned(),
        subject.number,
    );
    let mut actions = Vec::new();
    for rule in rules {
        let re = rule_re(rule);
        let has_missing = labels.contains(&rule.missing_label);
        let has_match = labels
            .iter()
            .any(|l| re.as_ref().is_some_and(|re| re.is_match(l)));
        if has_match && has_missing {
            actions.push(Action::RemoveLabel {
                org: org.clone(),
                repo: repo.clone(),
                number,
                label: rule.missing_label.clone(),
            });
            if !rule.missing_comment.is_empty() {
                actions.extend(
                    bot_comments
                        .iter()
                        .filter(|(_, t)| t.contains(&rule.missing_comment))
                        .map(|(id, _)| Action::DeleteComment {
                            org: org.clone(),
                            repo: repo.clone(),
                            id: *id,
                        }),
                );
            }
        } else if !has_match && !has_missing {
            actions.push(Action::AddLabels {
                org: org.clone(),
                repo: repo.clone(),
                number,
                labels: vec![rule.missing_label.clone()],
            });
            if !rule.missing_comment.is_empty() {
                actions.push(Action::Comment {
                    org: org.clone(),
                    repo: repo.clone(),
                    number,
                    body: format!(
                        "{}\n\n<details>\n\n{ABOUT_THIS_BOT}\n</details>",
                        rule.missing_comment
                    ),
                });
            }
        }
    }
    actions
}

/// One rule in words (Prow's `Describe`).
pub fn describe(r: &RequireMatchingLabel) -> String {
    let mut s = format!("Applies the '{}' label ", r.missing_label);
    s.push_str(if r.missing_comment.is_empty() {
        "to "
    } else {
        "and comments on "
    });
    if r.issues {
        s.push_str("Issues ");
        if r.prs {
            s.push_str("and ");
        }
    }
    if r.prs {
        if !r.branch.is_empty() {
            s.push_str(&format!("'{}' branch ", r.branch));
        }
        s.push_str("PRs ");
    }
    if r.repo.is_empty() {
        s.push_str(&format!("in the '{}' GitHub org ", r.org));
    } else {
        s.push_str(&format!("in the '{}/{}' GitHub repo ", r.org, r.repo));
    }
    s.push_str(&format!(
        "that have no labels matching the regular expression '{}'.",
        r.regexp
    ));
    s
}

/// The require-matching-label plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequireMatchingLabelPlugin;

#[async_trait]
impl Plugin for RequireMatchingLabelPlugin {
    fn name(&self) -> &'static str {
        "require-matching-label"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let descs: Vec<String> = plugins
            .require_matching_label
            .iter()
            .map(describe)
            .collect();
        let mut help = PluginHelp::new(
            "The require-matching-label plugin is a configurable plugin that applies a label to issues and/or PRs that do not have any labels matching a regular expression. An example of this is applying a 'needs-sig' label to all issues that do not have a 'sig/*' label. This plugin can have multiple configurations to provide this kind of behavior for multiple different label sets. The configuration allows issue type, PR branch, and an optional explanation comment to be specified.",
            &["issues", "pull_request", "issue_comment"],
        )
        .command(
            "/check-required-labels",
            "Checks for required labels.",
            "Anyone",
            &["/check-required-labels"],
        );
        for c in &mut help.commands {
            c.featured = true;
        }
        help.config.insert(
            String::new(),
            format!(
                "The plugin has the following configurations:\n<ul><li>{}</li></ul>",
                descs.join("</li><li>")
            ),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let handled = ["opened", "reopened", "labeled", "unlabeled"];
        let (org, repo, number, branch, label) = match event {
            Event::Issues(ie) => {
                if !handled.contains(&ie.action.as_str()) {
                    return Ok(Vec::new());
                }
                (
                    ie.repository.org().to_owned(),
                    ie.repository.name.clone(),
                    ie.issue.number,
                    String::new(),
                    ie.label
                        .as_ref()
                        .map(|l| l.name.clone())
                        .unwrap_or_default(),
                )
            }
            Event::PullRequest(pe) => {
                if !handled.contains(&pe.action.as_str()) {
                    return Ok(Vec::new());
                }
                (
                    pe.repository.org().to_owned(),
                    pe.repository.name.clone(),
                    pe.pull_request.number,
                    pe.pull_request.base.git_ref.clone(),
                    pe.label
                        .as_ref()
                        .map(|l| l.name.clone())
                        .unwrap_or_default(),
                )
            }
            _ => {
                let Some(gc) = ctx.comment else {
                    return Ok(Vec::new());
                };
                if !gc.is_new_on_open() || !CHECK_REQUIRED_LABELS_RE.is_match(ctx.commands) {
                    return Ok(Vec::new());
                }
                let (org, repo) = (gc.repo.org().to_owned(), gc.repo.name.clone());
                let branch = if gc.is_pr {
                    ctx.pull_request(&org, &repo, gc.number).await?.base.git_ref
                } else {
                    String::new()
                };
                (org, repo, gc.number, branch, String::new())
            }
        };
        let subject = Subject {
            org: &org,
            repo: &repo,
            number,
            branch: &branch,
            label: &label,
        };
        let rules = matching(&subject, &ctx.plugins.require_matching_label);
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        // A new issue or PR gets its grace period to be labelled by hand (or by other
        // plugins) before the check; hook runs the check again later rather than holding a
        // worker while it waits.
        let wait = grace(&rules);
        if label.is_empty() && !ctx.recheck && !wait.is_zero() {
            return Ok(vec![Action::Recheck {
                after: wait,
                plugin: self.name().to_owned(),
                event: Box::new(event.clone()),
            }]);
        }
        let labels: Vec<String> = ctx
            .github
            .issue_labels(&org, &repo, number)
            .await
            .map_err(PluginError::github(format!(
                "read the labels of {org}/{repo}#{number}"
            )))?
            .into_iter()
            .map(|l| l.name)
            .collect();
        let bot_comments: Vec<(u64, String)> =
            if rules.iter().any(|r| !r.missing_comment.is_empty()) {
                ctx.bot_comments(&org, &repo, number).await?
            } else {
                Vec::new()
            };
        Ok(decide(&subject, &rules, &labels, &bot_comments))
    }
}
