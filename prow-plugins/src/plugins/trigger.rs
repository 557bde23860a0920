//! trigger: starts presubmits on pull requests and postsubmits on pushes, guarding CI against
//! untrusted code (upstream `pkg/plugins/trigger`).
//!
//! - A trusted author's new pull request runs every automatic presubmit; an untrusted
//!   author's gets a welcome comment and `needs-ok-to-test` until a trusted user says
//!   `/ok-to-test` (drafts run nothing until they are ready).
//! - `/test <job>`, `/test all`, `/retest`, `/retest-required`, `/test-manual-required` and
//!   `/ok-to-test` comments run the jobs Prow's filters select; `/test ?` and unknown names
//!   get the help comment, and a `/test` or `/retest` removes earlier help comments.
//! - Commands are upstream's regexes (`prow_config::filter`), at the start of a line only and
//!   case-sensitive; as upstream, fenced code blocks are dropped before deciding whether a
//!   comment concerns trigger at all (`/ok-to-test` in a code block does nothing), while the
//!   job filter reads the whole comment.
//! - Commands in a new pull request's description act as a comment would (Prow's hook turns
//!   the description into a generic comment), without running a job twice.
//! - New pushes to a pull request abort its running presubmits; closing it aborts them too.
//! - A push to a branch runs the postsubmits whose branches and changes match.
//! - Where `in_repo_config.enabled` applies and hook has an in-repo cache
//!   ([`Context::inrepo`]), the jobs are the central ones plus the repository's `.prow.yaml` /
//!   `.prow/` at the pull request's base merged with its head (at the pushed commit for
//!   postsubmits); a broken in-repo config falls back to the central jobs, as upstream.

use std::borrow::Cow;

use async_trait::async_trait;
use prow_config::filter::{OK_TO_TEST_CANCEL_RE, OK_TO_TEST_RE, RETEST_RE, RETEST_REQUIRED_RE};
use prow_config::plugins::PluginConfig;
use prow_config::{Contexts, Postsubmit, Presubmit, PresubmitFilter};
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJob, Pull};
use prow_github::events::{Event, GenericCommentEvent, PullRequestEvent, PushEvent};
use prow_github::types::{Label, PullRequest, StatusState};
use prow_jobs::labels::Metadata;
use prow_jobs::pjutil;
use prow_jobs::store::ListParams;

use crate::respond::format_response_raw;
use crate::trust::{self, NEEDS_OK_TO_TEST, OK_TO_TEST};
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label Prow puts on jobs started by `/retest` or `/retest-required`.
pub const RETEST_LABEL: &str = "prow.k8s.io/retest";
/// The description of a job aborted because its pull request moved on.
pub const ABORTED_DESCRIPTION: &str = "Aborted by trigger plugin.";
/// The reply to an untrusted user's test request on an untrusted pull request.
pub const CANNOT_TRIGGER: &str = "Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message.";
/// The same reply when `/ok-to-test` is ignored in the repository.
pub const CANNOT_TRIGGER_IGNORE_OK_TO_TEST: &str = "PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test`.";
/// The reply to an untrusted `/ok-to-test cancel`.
pub const ONLY_TRUSTED_CANCEL: &str = "Only trusted users can revoke `/ok-to-test`.";
/// The comment on a draft pull request opened by a trusted author.
pub const DRAFT_MESSAGE: &str = "Skipping CI for Draft Pull Request.\nIf you want CI signal for your change, please convert it to an actual PR.\nYou can still manually trigger a test run with `/test all`";

/// The trigger plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trigger;

#[async_trait]
impl Plugin for Trigger {
    fn name(&self) -> &'static str {
        "trigger"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The trigger plugin starts tests in reaction to commands and pull request events. It is responsible for ensuring that test jobs are only run on trusted PRs. A PR is considered trusted if the author is a member of the 'trusted organization' for the repository or if such a member has left an '/ok-to-test' command on the PR.\n<br>Trigger starts jobs automatically when a new trusted PR is created or when an untrusted PR becomes trusted, but it can also be used to start jobs manually via the '/test' command.\n<br>The '/retest' command can be used to rerun jobs that have reported failure.",
            &["issue_comment", "pull_request", "push"],
        )
        .command(
            "/ok-to-test",
            "Marks a PR as 'trusted' and starts tests.",
            "Members of the trusted organization for the repo.",
            &["/ok-to-test"],
        )
        .command(
            "/test (<job name>|all)",
            "Manually starts a/all automatically configured test job(s). Lists all possible job(s) when no jobs/an invalid job are specified.",
            "Anyone can trigger this command on a trusted PR.",
            &["/test all", "/test pull-bazel-test"],
        )
        .command(
            "/retest",
            "Rerun test jobs that have failed.",
            "Anyone can trigger this command on a trusted PR.",
            &["/retest"],
        )
        .command(
            "/retest-required",
            "Rerun non-optional test jobs that have failed. Optional jobs will not be rerun.",
            "Anyone can trigger this command on a trusted PR.",
            &["/retest-required"],
        );
        for entry in &plugins.triggers {
            let mut text = format!(
                "The trusted GitHub organization for this repository is \"{}\".",
                entry.trusted_org
            );
            if entry.only_org_members {
                text.push_str(" Only org members are trusted; collaborators are not.");
            }
            for repo in &entry.repos {
                help.config.insert(repo.clone(), text.clone());
            }
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        match event {
            Event::PullRequest(pr) => {
                // Like Prow's hook, a pull request's description at opening is also read as a
                // comment, so `/test foo` in it runs foo.
                let mut actions = pull_request(ctx, pr).await?;
                if let Some(comment) = ctx.comment {
                    let from_body = generic_comment(ctx, comment).await?;
                    actions.extend(without_duplicate_jobs(&actions, from_body));
                }
                Ok(actions)
            }
            Event::Push(push) => {
                let postsubmits = push_postsubmits(ctx, push).await;
                Ok(push_jobs(ctx, push, &postsubmits, Timestamp::now()))
            }
            _ => match ctx.comment {
                Some(comment) => generic_comment(ctx, comment).await,
                None => Ok(Vec::new()),
            },
        }
    }
}

/// `more` without the ProwJobs for jobs `already` creates on the same commit: a presubmit
/// asked for in the description of a pull request that runs it anyway runs once.
pub fn without_duplicate_jobs(already: &[Action], more: Vec<Action>) -> Vec<Action> {
    let created = |a: &Action| match a {
        Action::CreateProwJob(job) => Some((
            job.spec.job.clone(),
            job.spec
                .refs
                .as_ref()
                .and_then(|r| r.pulls.first())
                .map(|p| p.sha.clone()),
        )),
        _ => None,
    };
    let seen: Vec<_> = already.iter().filter_map(created).collect();
    more.into_iter()
        .filter(|a| created(a).is_none_or(|k| !seen.contains(&k)))
        .collect()
}

fn has_label(labels: &[Label], name: &str) -> bool {
    labels.iter().any(|l| l.name.eq_ignore_ascii_case(name))
}

fn presubmits<'a>(ctx: &'a Context<'_>, org: &str, repo: &str) -> &'a [Presubmit] {
    ctx.config
        .jobs
        .presubmits
        .get(&format!("{org}/{repo}"))
        .map_or(&[], Vec::as_slice)
}

/// Whether `org/repo`'s jobs may come from its in-repo configuration too.
fn reads_in_repo(ctx: &Context<'_>, org: &str, repo: &str) -> bool {
    ctx.inrepo.is_some() && ctx.config.prow.in_repo_config.enabled_for(org, repo)
}

/// The presubmits of `org/repo` for `pr`: the central ones and, where in-repo config is
/// enabled, those of `.prow.yaml`/`.prow/` at its base merged with its head. As upstream's
/// `getPresubmits`, a broken in-repo config falls back to the central jobs (so a presubmit that
/// checks `.prow.yaml` can still run; tide refuses to merge such a PR).
async fn pr_presubmits<'a>(
    ctx: &'a Context<'_>,
    org: &str,
    repo: &str,
    pr: &PullRequest,
) -> Cow<'a, [Presubmit]> {
    let central = presubmits(ctx, org, repo);
    let Some(cache) = ctx.inrepo.filter(|_| reads_in_repo(ctx, org, repo)) else {
        return Cow::Borrowed(central);
    };
    match cache
        .presubmits(
            ctx.config,
            ctx.github,
            (org, repo),
            &pr.base.sha,
            &[pr.head.sha.as_str()],
        )
        .await
    {
        Ok(jobs) => Cow::Owned(jobs),
        Err(e) => {
            tracing::warn!(target: "trigger", org, repo, pr = pr.number, error = %e, "in-repo presubmits unavailable; using the central ones");
            Cow::Borrowed(central)
        }
    }
}

/// The ProwJob for presubmit `job` on pull request `pr` at `base_sha`, as Prow's
/// `NewPresubmit` builds it.
pub fn presubmit_job(
    (org, repo): (&str, &str),
    pr: &PullRequest,
    base_sha: &str,
    job: &Presubmit,
    delivery: &str,
    extra_labels: &Metadata,
    now: Timestamp,
) -> Result<ProwJob, PluginError> {
    let pull = Pull {
        number: pr.number,
        author: pr.user.login.clone(),
        sha: pr.head.sha.clone(),
        title: pr.title.clone(),
        head_ref: pr.head.git_ref.clone(),
        link: pr.html_url.clone(),
        ..Pull::default()
    };
    let refs = pjutil::pull_refs(org, repo, &pr.base.git_ref, base_sha, pull);
    let spec = pjutil::presubmit_spec(job, refs)
        .map_err(|e| PluginError::Other(format!("presubmit {}: {e}", job.name)))?;
    let labels = pjutil::presubmit_labels(job, delivery, extra_labels);
    Ok(pjutil::new_prowjob(
        spec,
        &labels,
        &job.annotations,
        Time(now),
    ))
}

async fn changed_files(
    ctx: &Context<'_>,
    org: &str,
    repo: &str,
    number: u64,
    jobs: &[Presubmit],
) -> Result<Vec<String>, PluginError> {
    let needed = jobs
        .iter()
        .any(|j| !j.run_if_changed.is_empty() || !j.skip_if_only_changed.is_empty());
    if !needed {
        return Ok(Vec::new());
    }
    let files = ctx
        .github
        .pull_request_files(org, repo, number)
        .await
        .map_err(PluginError::github(format!(
            "list the files of {org}/{repo}#{number}"
        )))?;
    Ok(files.into_iter().map(|f| f.filename).collect())
}

/// Runs the presubmits `filter` selects on `pr`: one [`Action::CreateProwJob`] each.
async fn run_selected(
    ctx: &Context<'_>,
    org: &str,
    repo: &str,
    pr: &PullRequest,
    filter: &PresubmitFilter,
    extra_labels: &Metadata,
    jobs: &[Presubmit],
) -> Result<Vec<Action>, PluginError> {
    if pr.mergeable == Some(false) {
        // Prow runs nothing on a pull request GitHub cannot merge.
        return Ok(Vec::new());
    }
    let files = changed_files(ctx, org, repo, pr.number, jobs).await?;
    let selected = prow_config::filter_presubmits(filter, &files, &pr.base.git_ref, jobs)
        .map_err(|e| PluginError::Other(format!("match presubmits of {org}/{repo}: {e}")))?;
    let now = Timestamp::now();
    let mut actions = Vec::new();
    for job in selected {
        let pj = presubmit_job(
            (org, repo),
            pr,
            &pr.base.sha,
            job,
            ctx.delivery,
            extra_labels,
            now,
        )?;
        actions.push(Action::CreateProwJob(Box::new(pj)));
    }
    Ok(actions)
}

async fn generic_comment(
    ctx: &Context<'_>,
    gc: &GenericCommentEvent,
) -> Result<Vec<Action>, PluginError> {
    let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
    if !gc.is_new_on_open_pull_request() {
        return Ok(Vec::new());
    }
    if gc.user.login.eq_ignore_ascii_case(ctx.bot) {
        return Ok(Vec::new());
    }
    // Upstream's `textToCheck`: without fenced code blocks, it decides whether the comment
    // concerns trigger, `/ok-to-test`, the help reply and the retest label; the job filter
    // reads the whole comment.
    let text = prow_config::drop_code_block(&gc.body);
    // In-repo jobs need the pull request's base and head; central ones do not.
    let early_pr = if reads_in_repo(ctx, org, repo) {
        Some(ctx.pull_request(org, repo, number).await?)
    } else {
        None
    };
    let jobs = match &early_pr {
        Some(pr) => pr_presubmits(ctx, org, repo, pr).await,
        None => Cow::Borrowed(presubmits(ctx, org, repo)),
    };
    if !prow_config::comment_matches_trigger(&text, &jobs) {
        return Ok(Vec::new());
    }
    let trigger = ctx.plugins.trigger_for(org, repo);
    let reply = |text: &str| Action::Comment {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        body: format_response_raw(&gc.body, &gc.html_url, &gc.user.login, text),
    };
    let commenter_trusted =
        trust::trusted_user(ctx.github, &trigger, ctx.bot, &gc.user.login, org, repo).await?;
    let labels = ctx
        .github
        .issue_labels(org, repo, number)
        .await
        .map_err(PluginError::github(format!(
            "read the labels of {org}/{repo}#{number}"
        )))?;
    if !commenter_trusted {
        let pr_trusted = has_label(&labels, OK_TO_TEST)
            || trust::trusted_user(
                ctx.github,
                &trigger,
                ctx.bot,
                &gc.issue_author.login,
                org,
                repo,
            )
            .await?;
        if !pr_trusted {
            let text = if trigger.ignore_ok_to_test {
                CANNOT_TRIGGER_IGNORE_OK_TO_TEST
            } else {
                CANNOT_TRIGGER
            };
            return Ok(vec![reply(text)]);
        }
    }
    let honor_ok_to_test = !trigger.ignore_ok_to_test;
    let ok_to_test = honor_ok_to_test && OK_TO_TEST_RE.is_match(&text);
    let ok_to_test_cancel = honor_ok_to_test && OK_TO_TEST_CANCEL_RE.is_match(&text);
    let mut actions = Vec::new();
    let label = |name: &str, add: bool| Action::label(org, repo, number, name, add);

    if ok_to_test && !has_label(&labels, OK_TO_TEST) {
        actions.push(label(OK_TO_TEST, true));
    }
    if (ok_to_test || has_label(&labels, OK_TO_TEST)) && has_label(&labels, NEEDS_OK_TO_TEST) {
        actions.push(label(NEEDS_OK_TO_TEST, false));
    }
    if ok_to_test_cancel {
        if !commenter_trusted {
            return Ok(vec![reply(ONLY_TRUSTED_CANCEL)]);
        }
        if has_label(&labels, OK_TO_TEST) {
            actions.push(label(OK_TO_TEST, false));
        }
        if !has_label(&labels, NEEDS_OK_TO_TEST) {
            actions.push(label(NEEDS_OK_TO_TEST, true));
        }
        return Ok(actions);
    }

    let pr = match early_pr {
        Some(pr) => pr,
        None => ctx.pull_request(org, repo, number).await?,
    };
    let contexts = if needs_contexts(&gc.body) {
        let combined = ctx.combined_status(org, repo, &pr.head.sha).await?;
        let mut contexts = Contexts::default();
        for status in combined.statuses {
            if matches!(status.state, StatusState::Failure | StatusState::Error) {
                contexts.failed.insert(status.context.clone());
            }
            contexts.all.insert(status.context);
        }
        contexts
    } else {
        Contexts::default()
    };
    let mut extra = Metadata::new();
    if RETEST_RE.is_match(&text) || RETEST_REQUIRED_RE.is_match(&text) {
        extra.insert(RETEST_LABEL.to_owned(), "true".to_owned());
    }
    // One decision for the whole comment, shared with `prow triggers`.
    let files = changed_files(ctx, org, repo, number, &jobs).await?;
    let decision = prow_config::decide_comment(
        &gc.body,
        honor_ok_to_test,
        contexts,
        &files,
        &pr.base.git_ref,
        &jobs,
    )
    .map_err(|e| PluginError::Other(format!("match presubmits of {org}/{repo}: {e}")))?;
    if let Some(note) = &decision.help {
        let available = prow_config::available_presubmits(&files, &pr.base.git_ref, &jobs)
            .map_err(|e| PluginError::Other(format!("match presubmits of {org}/{repo}: {e}")))?;
        let message = prow_config::help_message(org, repo, &pr.base.git_ref, note, &available);
        actions.push(reply(&message));
        return Ok(actions);
    }
    if prow_config::prunes_help(&text) {
        // A `/test` or `/retest` (not `/ok-to-test`) retires the earlier help replies.
        actions.extend(prune_help_comments(ctx, org, repo, number).await?);
    }
    let mut runs = Vec::new();
    if pr.mergeable != Some(false) {
        // Prow runs nothing on a pull request GitHub cannot merge.
        let now = Timestamp::now();
        let chosen: Vec<&str> = decision.runs().collect();
        for job in jobs.iter().filter(|j| chosen.contains(&j.name.as_str())) {
            let pj = presubmit_job(
                (org, repo),
                &pr,
                &pr.base.sha,
                job,
                ctx.delivery,
                &extra,
                now,
            )?;
            runs.push(Action::CreateProwJob(Box::new(pj)));
        }
    }
    actions.extend(runs);
    Ok(actions)
}

/// Whether the filter built from `body` asks for the statuses: Prow's `PresubmitFilter` reads
/// them for `/retest` and `/retest-required` only.
fn needs_contexts(body: &str) -> bool {
    RETEST_RE.is_match(body) || RETEST_REQUIRED_RE.is_match(body)
}

/// Deletes the bot's earlier `/test` help replies on the pull request (upstream prunes them
/// with `IsHelpComment`).
async fn prune_help_comments(
    ctx: &Context<'_>,
    org: &str,
    repo: &str,
    number: u64,
) -> Result<Vec<Action>, PluginError> {
    Ok(ctx
        .bot_comments(org, repo, number)
        .await?
        .into_iter()
        .filter(|(_, body)| prow_config::is_help_comment(body))
        .map(|(id, _)| Action::DeleteComment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            id,
        })
        .collect())
}

/// The welcome comment for an untrusted author's new pull request (Prow's `welcomeMsg`).
pub fn welcome_message(
    author: &str,
    org: &str,
    repo_full_name: &str,
    trigger: &prow_config::plugins::Trigger,
) -> String {
    let encoded = repo_full_name.replace('/', "%2F");
    let about = crate::respond::ABOUT_THIS_BOT;
    if trigger.ignore_ok_to_test {
        return format!(
            "Hi @{author}. Thanks for your PR.\n\nPRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test all`.\n\nI understand the commands that are listed [here](https://go.k8s.io/bot-commands?repo={encoded}).\n\n<details>\n\n{about}\n</details>\n"
        );
    }
    let more = if !trigger.trusted_org.is_empty() && trigger.trusted_org != org {
        format!(
            "or [{0}](https://github.com/orgs/{0}/people) ",
            trigger.trusted_org
        )
    } else {
        String::new()
    };
    let join = if trigger.join_org_url.is_empty() {
        format!("https://github.com/orgs/{org}/people")
    } else {
        trigger.join_org_url.clone()
    };
    let guidance = format!("Regular contributors should [join the org]({join}) to skip this step.");
    format!(
        "Hi @{author}. Thanks for your PR.\n\nI'm waiting for a [{org}](https://github.com/orgs/{org}/people) {more}member to verify that this patch is reasonable to test. If it is, they should reply with `/ok-to-test` on its own line. Until that is done, I will not automatically test new commits in this PR, but the usual testing commands by org members will still work.\n\n{guidance}\n\nOnce the patch is verified, the new status will be reflected by the `{OK_TO_TEST}` label.\n\nI understand the commands that are listed [here](https://go.k8s.io/bot-commands?repo={encoded}).\n\n<details>\n\n{about}\n</details>\n"
    )
}

async fn pull_request(
    ctx: &Context<'_>,
    ev: &PullRequestEvent,
) -> Result<Vec<Action>, PluginError> {
    let org = ev.repository.org();
    let repo = ev.repository.name.as_str();
    let pr = &ev.pull_request;
    let number = pr.number;
    let jobs = pr_presubmits(ctx, org, repo, pr).await;
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let jobs = &*jobs;
    let trigger = ctx.plugins.trigger_for(org, repo);
    let author = pr.user.login.as_str();
    let draft = pr.draft == Some(true);
    let build_all = |pr: &PullRequest| {
        let pr = pr.clone();
        async move {
            if pr.draft == Some(true) {
                return Ok(Vec::new());
            }
            run_selected(
                ctx,
                org,
                repo,
                &pr,
                &PresubmitFilter::test_all(),
                &Metadata::new(),
                jobs,
            )
            .await
        }
    };
    let trusted_author = || trust::trusted_user(ctx.github, &trigger, ctx.bot, author, org, repo);
    let labels = || async {
        ctx.github
            .issue_labels(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "read the labels of {org}/{repo}#{number}"
            )))
    };
    let trusted_pr = || async {
        Ok::<bool, PluginError>(trusted_author().await? || has_label(&labels().await?, OK_TO_TEST))
    };
    match ev.action.as_str() {
        "opened" => {
            if trusted_author().await? {
                if draft {
                    return Ok(vec![Action::Comment {
                        org: org.to_owned(),
                        repo: repo.to_owned(),
                        number,
                        body: DRAFT_MESSAGE.to_owned(),
                    }]);
                }
                return build_all(pr).await;
            }
            let mut actions = Vec::new();
            if !trigger.ignore_ok_to_test && !has_label(&labels().await?, OK_TO_TEST) {
                actions.push(Action::AddLabels {
                    org: org.to_owned(),
                    repo: repo.to_owned(),
                    number,
                    labels: vec![NEEDS_OK_TO_TEST.to_owned()],
                });
            }
            actions.push(Action::Comment {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                body: welcome_message(author, org, &ev.repository.full_name, &trigger),
            });
            Ok(actions)
        }
        "reopened" | "ready_for_review" => {
            if trusted_pr().await? {
                build_all(pr).await
            } else {
                Ok(Vec::new())
            }
        }
        "edited" => {
            let base_changed = ev.changes.as_ref().is_some_and(|c| {
                c.pointer("/base/ref/from").is_some() || c.pointer("/base/sha/from").is_some()
            });
            if base_changed && trusted_pr().await? {
                build_all(pr).await
            } else {
                Ok(Vec::new())
            }
        }
        "synchronize" => {
            let mut actions = abort_all(ctx, org, repo, number).await?;
            if trusted_pr().await? {
                actions.extend(build_all(pr).await?);
            }
            Ok(actions)
        }
        "labeled" => {
            let label = ev
                .label
                .as_ref()
                .map(|l| l.name.as_str())
                .unwrap_or_default();
            if label == "lgtm" && !trusted_pr().await? {
                return build_all(pr).await;
            }
            if label == OK_TO_TEST && !ev.sender.login.eq_ignore_ascii_case(ctx.bot) {
                return build_all(pr).await;
            }
            Ok(Vec::new())
        }
        "closed" | "converted_to_draft" => abort_all(ctx, org, repo, number).await,
        _ => Ok(Vec::new()),
    }
}

/// Aborts the unfinished presubmits of `org/repo#number` (Prow's `abortAllJobs`).
async fn abort_all(
    ctx: &Context<'_>,
    org: &str,
    repo: &str,
    number: u64,
) -> Result<Vec<Action>, PluginError> {
    let selector = format!(
        "prow.k8s.io/type=presubmit,prow.k8s.io/refs.org={org},prow.k8s.io/refs.repo={repo},prow.k8s.io/refs.pull={number}"
    );
    let params = ListParams::parse_labels(&selector)
        .map_err(|e| PluginError::Other(format!("selector {selector}: {e}")))?;
    let jobs = ctx
        .store
        .list(&params)
        .await
        .map_err(|source| PluginError::Store {
            what: format!("list the presubmits of {org}/{repo}#{number}"),
            source,
        })?;
    Ok(jobs
        .iter()
        .filter(|j| !j.is_complete())
        .map(|j| Action::AbortProwJob {
            name: j.name().to_owned(),
        })
        .collect())
}

/// The postsubmits of the pushed repository: the central ones and, where in-repo config is
/// enabled, those at the pushed commit (falling back to the central ones, as upstream's
/// `getPostsubmits`).
async fn push_postsubmits<'a>(ctx: &'a Context<'_>, push: &PushEvent) -> Cow<'a, [Postsubmit]> {
    let org = push.repository.org();
    let repo = push.repository.name.as_str();
    let central = ctx
        .config
        .jobs
        .postsubmits
        .get(&format!("{org}/{repo}"))
        .map_or(&[][..], Vec::as_slice);
    let gone = push.deleted || push.after.chars().all(|c| c == '0');
    let Some(cache) = ctx
        .inrepo
        .filter(|_| !gone && reads_in_repo(ctx, org, repo))
    else {
        return Cow::Borrowed(central);
    };
    match cache
        .postsubmits(ctx.config, ctx.github, (org, repo), &push.after)
        .await
    {
        Ok(jobs) => Cow::Owned(jobs),
        Err(e) => {
            tracing::warn!(target: "trigger", org, repo, sha = %push.after, error = %e, "in-repo postsubmits unavailable; using the central ones");
            Cow::Borrowed(central)
        }
    }
}

/// The `postsubmits` a push starts (Prow's `handlePE`), created at `now`.
pub fn push_jobs(
    ctx: &Context<'_>,
    push: &PushEvent,
    postsubmits: &[Postsubmit],
    now: Timestamp,
) -> Vec<Action> {
    if push.deleted || push.after.chars().all(|c| c == '0') {
        return Vec::new();
    }
    let org = push.repository.org();
    let repo = push.repository.name.as_str();
    let branch = push.branch();
    let changes: Vec<String> = push
        .changed_files()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut actions = Vec::new();
    for job in postsubmits {
        match job.should_run(branch, &changes) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(target: "trigger", "postsubmit {}: {e}", job.name);
                continue;
            }
        }
        let mut refs = pjutil::branch_refs(org, repo, branch, &push.after);
        refs.base_link.clone_from(&push.compare);
        let Ok(spec) = pjutil::postsubmit_spec(job, refs) else {
            continue;
        };
        let mut labels = job.labels.clone();
        labels.insert(
            prow_core::labels::EVENT_GUID.to_owned(),
            ctx.delivery.to_owned(),
        );
        let pj = pjutil::new_prowjob(spec, &labels, &job.annotations, Time(now));
        actions.push(Action::CreateProwJob(Box::new(pj)));
    }
    actions
}
