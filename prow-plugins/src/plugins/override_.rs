//! override: `/override <context>...` and `/override-sticky <context>...` force failed status
//! contexts of a pull request to success (upstream `pkg/plugins/override`).
//!
//! - Repo admins may use them, and with `override.allow_top_level_owners` the approvers of the
//!   root OWNERS file on the base branch, and the members of `override.allowed_github_teams`
//!   for the org or repo. Anyone else gets upstream's "unauthorized" reply.
//! - A context may be named by itself or by the name of the presubmit reporting it; the
//!   contexts that may be overridden are the failed ones and those branch protection requires.
//!   Unknown names get upstream's reply listing the contexts that could be overridden.
//! - For a Prow presubmit, a succeeded ProwJob is recorded as upstream does, so that a retest
//!   or tide sees the override; the status description names who overrode it and the base
//!   SHA. `/override-sticky` marks the description so retests keep it.
//!
//! - `/override-cancel [context]...` sets overridden contexts (all of them without arguments)
//!   back to failure.
//!
//! Not built: overriding check runs (GitHub App credentials).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use prow_config::plugins::{Override, PluginConfig};
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJobState, ProwJobStatus};
use prow_github::events::{Event, GenericCommentEvent};
use prow_github::types::{Permission, Status, StatusState};
use regex::Regex;

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// What every override's status description starts with.
pub const DESCRIPTION_PREFIX: &str = "Overridden by";
/// Marks a description that retests keep (Prow's `SkipRetestSentinel`).
pub const SKIP_RETEST_SENTINEL: &str = "[prow:skip-retest]";

const OVERRIDE_GO: &str = "pkg/plugins/override/override.go";
/// `/override <context> ...` (upstream `overrideRe`).
pub static OVERRIDE_RE: GoRegex =
    GoRegex::new(OVERRIDE_GO, r"(?mi)^/override( ([^\r\n]+))?[\r\n]?$");
/// `/override-cancel [<context> ...]` (upstream `overrideCancelRe`).
pub static OVERRIDE_CANCEL_RE: GoRegex =
    GoRegex::new(OVERRIDE_GO, r"(?mi)^/override-cancel( ([^\r\n]+))?[\r\n]?$");
/// `/override-sticky <context> ...` (upstream `overrideStickyRe`).
pub static OVERRIDE_STICKY_RE: GoRegex =
    GoRegex::new(OVERRIDE_GO, r"(?mi)^/override-sticky( ([^\r\n]+))?[\r\n]?$");

/// The status description of an override by `user`.
pub fn description(user: &str, sticky: bool) -> String {
    if sticky {
        format!("{DESCRIPTION_PREFIX} {user} {SKIP_RETEST_SENTINEL}")
    } else {
        format!("{DESCRIPTION_PREFIX} {user}")
    }
}

/// The arguments of an override (upstream `parseOverrideInput`): split at spaces, except
/// inside double quotes, which are removed (`"test / Unit Tests"` is one context). As
/// upstream, a lone `""` names the empty context.
pub fn parse_contexts(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in args.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == ' ' && !quoted {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.into_iter()
        .map(|s| s.trim().trim_matches('"').to_owned())
        .collect()
}

/// What a comment asks with one of the two commands: `None` when it does not use it,
/// `Some(None)` when it uses it without contexts, else the contexts.
pub fn requested(body: &str, sticky: bool) -> Option<Option<BTreeSet<String>>> {
    contexts_asked(
        if sticky {
            &OVERRIDE_STICKY_RE
        } else {
            &OVERRIDE_RE
        },
        body,
    )
}

/// What a comment asks of `/override-cancel`: `None` when it does not use it, `Some(None)`
/// to cancel every override, else the contexts.
pub fn cancel_requested(body: &str) -> Option<Option<BTreeSet<String>>> {
    contexts_asked(&OVERRIDE_CANCEL_RE, body)
}

/// The contexts the command `re` matches in `body` name: `None` without the command,
/// `Some(None)` when it names none, else the union of those it names.
fn contexts_asked(re: &Regex, body: &str) -> Option<Option<BTreeSet<String>>> {
    let mut found = false;
    let mut contexts = BTreeSet::new();
    for m in re.captures_iter(body) {
        found = true;
        match m.get(2) {
            Some(args) => contexts.extend(parse_contexts(args.as_str())),
            None => return Some(None),
        }
    }
    found.then_some(Some(contexts))
}

/// The overridden statuses among `statuses` that `cancel` names (all with `None`).
pub fn to_cancel(statuses: &[Status], cancel: Option<&BTreeSet<String>>) -> Vec<Status> {
    statuses
        .iter()
        .filter(|s| {
            s.description
                .as_deref()
                .is_some_and(|d| d.contains(DESCRIPTION_PREFIX))
        })
        .filter(|s| cancel.is_none_or(|c| c.contains(&s.context)))
        .cloned()
        .collect()
}

/// Who may override in `org/repo` (upstream's `whoCanUse`; empty `org` and `repo` for the
/// help page list every team).
pub fn who_can_use(config: &Override, org: &str, repo: &str) -> String {
    let mut text = "Repo administrators".to_owned();
    if config.allow_top_level_owners {
        text.push_str(", approvers in top level OWNERS file");
    }
    if !config.allowed_github_teams.is_empty() {
        let full = format!("{org}/{repo}");
        let mut teams: Vec<String> = config
            .allowed_github_teams
            .iter()
            .filter(|(key, _)| full == "/" || **key == full || *key == org)
            .map(|(key, slugs)| format!("{key}: {}", slugs.join(" ")))
            .collect();
        teams.sort();
        text.push_str(", and the following github teams:");
        text.push_str(&teams.join(", "));
    }
    text.push('.');
    text
}

/// One context to force to success.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// The status context.
    pub context: String,
    /// The presubmit reporting it, if a Prow job does.
    pub job: Option<String>,
    /// Its current status (for its link), if it has one.
    pub status: Status,
}

/// Why an override cannot be carried out: names that are no overridable context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// The names given that match nothing.
    pub unknown: Vec<String>,
    /// The contexts (and job names) that could be overridden.
    pub expected: Vec<String>,
}

/// Which contexts `overrides` names, given the head's `statuses`, the presubmits'
/// `(name, context)` and the `required` contexts of branch protection (Prow's rules: only
/// failed or missing contexts, by context or job name).
pub fn plan(
    overrides: &BTreeSet<String>,
    statuses: &[Status],
    presubmits: &[(String, String)],
    required: &[String],
) -> Result<Vec<Target>, Unknown> {
    let job_for = |context: &str| {
        presubmits
            .iter()
            .find(|(_, c)| c == context)
            .map(|(name, _)| name.clone())
    };
    let mut statuses: Vec<Status> = statuses.to_vec();
    let mut known = BTreeSet::new();
    for status in &statuses {
        if status.state == StatusState::Success {
            continue;
        }
        known.insert(status.context.clone());
        if let Some(job) = job_for(&status.context) {
            known.insert(job);
        }
    }
    for context in required {
        if !known.contains(context) {
            known.insert(context.clone());
            statuses.push(Status {
                context: context.clone(),
                ..Status::default()
            });
        }
    }
    let unknown: Vec<String> = overrides.difference(&known).cloned().collect();
    if !unknown.is_empty() {
        return Err(Unknown {
            unknown,
            expected: known.into_iter().collect(),
        });
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for status in statuses {
        if status.state == StatusState::Success || seen.contains(&status.context) {
            continue;
        }
        let job = job_for(&status.context);
        let named = overrides.contains(&status.context)
            || job.as_ref().is_some_and(|j| overrides.contains(j));
        if !named {
            continue;
        }
        seen.insert(status.context.clone());
        out.push(Target {
            context: status.context.clone(),
            job,
            status,
        });
    }
    Ok(out)
}

fn format_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!(" - `{i}`"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Upstream's reply to names that match no overridable context.
pub fn unknown_reply(command: &str, unknown: &Unknown) -> String {
    format!(
        "{command} requires failed status contexts, check run or a prowjob name to operate on.\nThe following unknown contexts/checkruns were given:\n{}\nOnly the following failed contexts/checkruns were expected:\n{}\nIf you are trying to override a checkrun that has a space in it, you must put a double quote on the context.\n",
        format_list(&unknown.unknown),
        format_list(&unknown.expected)
    )
}

/// Upstream's reply to an override without contexts.
pub fn no_contexts_reply(command: &str) -> String {
    format!("{command} requires failed status contexts to operate on, but none was given")
}

/// Upstream's reply to someone who may not override.
pub fn unauthorized_reply(user: &str, command: &str, who: &str) -> String {
    format!("{user} unauthorized: {command} is restricted to {who}")
}

/// Upstream's reply once contexts are overridden.
pub fn success_reply(user: &str, done: &BTreeSet<String>, sticky: bool) -> String {
    let list: Vec<&str> = done.iter().map(String::as_str).collect();
    let mut text = format!("Overrode contexts on behalf of {user}: {}", list.join(", "));
    if sticky {
        text.push_str("\n\nThese overrides will persist across retests on the current HEAD SHA. Pushing a new commit will clear them. Use `/override-cancel` to remove them.");
    }
    text
}

/// The approvers of an OWNERS file, with OWNERS_ALIASES expanded, lower-cased.
pub fn top_level_approvers(owners: &str, aliases: Option<&str>) -> BTreeSet<String> {
    #[derive(serde::Deserialize, Default)]
    struct Owners {
        #[serde(default)]
        approvers: Vec<String>,
    }
    #[derive(serde::Deserialize, Default)]
    struct Aliases {
        #[serde(default)]
        aliases: BTreeMap<String, Vec<String>>,
    }
    let owners: Owners = serde_yaml::from_str(owners).unwrap_or_default();
    let aliases: Aliases = aliases
        .and_then(|a| serde_yaml::from_str(a).ok())
        .unwrap_or_default();
    let mut out = BTreeSet::new();
    for approver in owners.approvers {
        match aliases.aliases.get(&approver) {
            Some(members) => out.extend(members.iter().map(|m| m.to_ascii_lowercase())),
            None => {
                out.insert(approver.to_ascii_lowercase());
            }
        }
    }
    out
}

/// The override plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct OverridePlugin;

#[async_trait]
impl Plugin for OverridePlugin {
    fn name(&self) -> &'static str {
        "override"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let who = who_can_use(&plugins.override_, "", "");
        PluginHelp::new(
            "The override plugin allows repo admins to force a github status context to pass",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/override [context1] [context2]",
            "Forces github status contexts to green (multiple can be given). If the desired context has spaces, it must be quoted. Overrides expire when the base branch moves.",
            &who,
            &["/override pull-repo-whatever", "/override \"test / Unit Tests\"", "/override ci/circleci", "/override deleted-job other-job"],
        )
        .command(
            "/override-sticky [context1] [context2]",
            "Like /override, but the override persists across retests on the current HEAD SHA even when the base branch moves. Pushing a new commit clears them. Use /override-cancel to remove.",
            &who,
            &["/override-sticky pull-repo-whatever", "/override-sticky \"test / Unit Tests\""],
        )
        .command(
            "/override-cancel [context]",
            "Removes overrides by setting the status back to failure. Works on both regular and sticky overrides. If a context is given, only that override is removed. If no context is given, all overrides on the PR are removed.",
            &who,
            &["/override-cancel pull-repo-whatever", "/override-cancel"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if !gc.is_new_on_open_pull_request() {
            return Ok(Vec::new());
        }
        let mut actions = Vec::new();
        if let Some(cancel) = cancel_requested(ctx.commands) {
            actions.extend(cancel_overrides(ctx, gc, cancel).await?);
        }
        for sticky in [true, false] {
            if let Some(request) = requested(ctx.commands, sticky) {
                actions.extend(override_contexts(ctx, gc, request, sticky).await?);
            }
        }
        Ok(actions)
    }
}

async fn authorized(
    ctx: &Context<'_>,
    (org, repo, user): (&str, &str, &str),
    base: &str,
) -> Result<bool, PluginError> {
    let permission = ctx
        .github
        .collaborator_permission(org, repo, user)
        .await
        .map_err(PluginError::github(format!(
            "check whether {user} administers {org}/{repo}"
        )))?;
    if permission == Permission::Admin {
        return Ok(true);
    }
    let config = &ctx.plugins.override_;
    let mut teams: Vec<String> = Vec::new();
    for key in [format!("{org}/{repo}"), org.to_owned()] {
        if let Some(slugs) = config.allowed_github_teams.get(&key) {
            teams.extend(slugs.iter().cloned());
        }
    }
    for team in &teams {
        let member =
            ctx.github
                .is_team_member(org, team, user)
                .await
                .map_err(PluginError::github(format!(
                    "check whether {user} is in team {org}/{team}"
                )))?;
        if member {
            return Ok(true);
        }
    }
    if config.allow_top_level_owners
        && let Some(owners) = read_file(ctx, (org, repo), "OWNERS", base).await?
    {
        let aliases = read_file(ctx, (org, repo), "OWNERS_ALIASES", base).await?;
        let approvers = top_level_approvers(
            &String::from_utf8_lossy(&owners),
            aliases.as_deref().map(String::from_utf8_lossy).as_deref(),
        );
        return Ok(approvers.contains(&user.to_ascii_lowercase()));
    }
    Ok(false)
}

async fn read_file(
    ctx: &Context<'_>,
    (org, repo): (&str, &str),
    path: &str,
    base: &str,
) -> Result<Option<Vec<u8>>, PluginError> {
    ctx.github
        .file_contents(org, repo, path, base)
        .await
        .map_err(PluginError::github(format!(
            "read {path} of {org}/{repo}@{base}"
        )))
}

async fn cancel_overrides(
    ctx: &Context<'_>,
    gc: &GenericCommentEvent,
    cancel: Option<BTreeSet<String>>,
) -> Result<Vec<Action>, PluginError> {
    let (org, repo, number, user) = (
        gc.repo.org(),
        gc.repo.name.as_str(),
        gc.number,
        gc.user.login.as_str(),
    );
    let reply = |text: &str| Action::Comment {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        body: format_response_raw(&gc.body, &gc.html_url, user, text),
    };
    let pr = ctx.pull_request(org, repo, number).await?;
    if !authorized(ctx, (org, repo, user), &pr.base.git_ref).await? {
        let who = who_can_use(&ctx.plugins.override_, org, repo);
        return Ok(vec![reply(&unauthorized_reply(
            user,
            "/override-cancel",
            &who,
        ))]);
    }
    let sha = pr.head.sha;
    let statuses = ctx.combined_status(org, repo, &sha).await?.statuses;
    let cancelled = to_cancel(&statuses, cancel.as_ref());
    if cancelled.is_empty() {
        return Ok(vec![reply("No overrides found to cancel")]);
    }
    let mut actions = Vec::new();
    let mut names = BTreeSet::new();
    for status in cancelled {
        names.insert(status.context.clone());
        actions.push(Action::Status {
            org: org.to_owned(),
            repo: repo.to_owned(),
            sha: sha.clone(),
            status: Status {
                state: StatusState::Failure,
                description: Some(format!("Override cancelled by {user}")),
                ..status
            },
        });
    }
    let list: Vec<&str> = names.iter().map(String::as_str).collect();
    actions.push(reply(&format!(
        "Cancelled overrides on behalf of {user}: {}",
        list.join(", ")
    )));
    Ok(actions)
}

async fn override_contexts(
    ctx: &Context<'_>,
    gc: &GenericCommentEvent,
    request: Option<BTreeSet<String>>,
    sticky: bool,
) -> Result<Vec<Action>, PluginError> {
    let (org, repo, number, user) = (
        gc.repo.org(),
        gc.repo.name.as_str(),
        gc.number,
        gc.user.login.as_str(),
    );
    let command = if sticky {
        "/override-sticky"
    } else {
        "/override"
    };
    let reply = |text: &str| Action::Comment {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        body: format_response_raw(&gc.body, &gc.html_url, user, text),
    };
    let Some(overrides) = request else {
        return Ok(vec![reply(&no_contexts_reply(command))]);
    };
    let pr = ctx.pull_request(org, repo, number).await?;
    if !authorized(ctx, (org, repo, user), &pr.base.git_ref).await? {
        let who = who_can_use(&ctx.plugins.override_, org, repo);
        return Ok(vec![reply(&unauthorized_reply(user, command, &who))]);
    }
    let sha = pr.head.sha.clone();
    let statuses = ctx.combined_status(org, repo, &sha).await?.statuses;
    let presubmits = ctx
        .config
        .jobs
        .presubmits
        .get(&format!("{org}/{repo}"))
        .map_or(&[][..], Vec::as_slice);
    let named: Vec<(String, String)> = presubmits
        .iter()
        .map(|p| {
            let context = if p.context.is_empty() {
                p.name.clone()
            } else {
                p.context.clone()
            };
            (p.name.clone(), context)
        })
        .collect();
    let required = ctx
        .github
        .branch_protection(org, repo, &pr.base.git_ref)
        .await
        .map_err(PluginError::github(format!(
            "read the protection of {org}/{repo}:{}",
            pr.base.git_ref
        )))?
        .and_then(|p| p.required_status_checks)
        .map(|c| c.contexts)
        .unwrap_or_default();
    let targets = match plan(&overrides, &statuses, &named, &required) {
        Ok(targets) => targets,
        Err(unknown) => return Ok(vec![reply(&unknown_reply(command, &unknown))]),
    };
    let base_sha = ctx
        .github
        .ref_sha(org, repo, &pr.base.git_ref)
        .await
        .map_err(PluginError::github(format!(
            "read {org}/{repo}:{}",
            pr.base.git_ref
        )))?;
    let described = description(user, sticky);
    let now = Timestamp::now();
    let mut actions = Vec::new();
    let mut done = BTreeSet::new();
    for target in targets {
        if let Some(job) = target
            .job
            .as_deref()
            .and_then(|name| presubmits.iter().find(|p| p.name == name))
        {
            let mut pj = crate::plugins::trigger::presubmit_job(
                (org, repo),
                &pr,
                &base_sha,
                job,
                ctx.delivery,
                &Default::default(),
                now,
            )?;
            pj.status = Some(ProwJobStatus {
                start_time: Some(Time(now)),
                completion_time: Some(Time(now)),
                state: ProwJobState::Success,
                description: described.clone(),
                url: gc.html_url.clone(),
                ..ProwJobStatus::default()
            });
            actions.push(Action::CreateProwJob(Box::new(pj)));
        }
        actions.push(Action::Status {
            org: org.to_owned(),
            repo: repo.to_owned(),
            sha: sha.clone(),
            status: Status {
                state: StatusState::Success,
                description: Some(prow_jobs::crier::description_with_base_sha(
                    &described, &base_sha,
                )),
                ..target.status
            },
        });
        done.insert(target.context);
    }
    if !done.is_empty() {
        actions.push(reply(&success_reply(user, &done, sticky)));
    }
    Ok(actions)
}
