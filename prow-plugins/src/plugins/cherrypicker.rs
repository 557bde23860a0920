//! cherrypicker: `/cherrypick <branch>` (or `/cherry-pick`) on a pull request, or a
//! `cherrypick/<branch>` label, opens a pull request with its commits on `<branch>` once it has
//! merged (upstream `cmd/external-plugins/cherrypicker`). It runs built in
//! (`plugins: [cherrypicker]`) or as the external plugin server
//! `prow external-plugin cherrypicker`.
//!
//! The work is real git ([`crate::git`]): a clone of the repository, a new branch
//! `cherry-pick-<N>-to-<branch>` off the target branch, the pull request's commits applied on
//! it, a push to the bot's fork (or to the repository itself when forking is forbidden), and a
//! pull request ([`Action::OpenPullRequest`]). Upstream applies GitHub's `.patch` of the pull
//! request with `git am`; here the pull request's commits (fetched as `refs/pull/N/head`) are
//! cherry-picked one by one, which gives the same commits. The push happens while the plugin
//! decides (the branch lives on the bot's fork); opening the pull request and every reply are
//! actions, so hook's dry run only logs them.
//!
//! Trust as upstream: unless `allow_all`, only members of the organisation may ask (the
//! commenter for commands, the pull request's author for labels, and on merge every requester
//! is checked against the organisation's member list).

use std::collections::BTreeMap;

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::client::NewPullRequest;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::git::{GitError, WorkingCopy, remote_has_branch};
use crate::{Action, Announce, Context, Plugin, PluginError, PluginHelp, Reply};

/// The plugin's name in `plugins.yaml` and `external_plugins:`.
pub const NAME: &str = "cherrypicker";
/// Upstream's default label prefix (`--label-prefix`).
pub const DEFAULT_LABEL_PREFIX: &str = "cherrypick/";

/// `/cherrypick <branch> [<branch>...]` (upstream `cherryPickRe`).
pub static CHERRY_PICK_RE: GoRegex = GoRegex::new(
    "cmd/external-plugins/cherrypicker/server.go",
    r"(?m)^(?:/cherrypick|/cherry-pick)\s+(.+)$",
);

/// A release note in a pull request's description (upstream `releaseNoteRe`).
pub static RELEASE_NOTE_RE: GoRegex = GoRegex::new(
    "cmd/external-plugins/cherrypicker/server.go",
    "(?s)(?:Release note\\*\\*:\\s*(?:<!--[^<>]*-->\\s*)?```(?:release-note)?|```release-note)(.+?)```",
);

/// How the cherrypicker behaves (upstream's flags of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Labels for every cherry-pick pull request (`--labels`).
    pub labels: Vec<String>,
    /// Assign the cherry-pick to the requester with `/assign` and directly
    /// (`--use-prow-assignments`, default on).
    pub prow_assignments: bool,
    /// Anyone may ask, not only organisation members (`--allow-all`).
    pub allow_all: bool,
    /// Open an issue for the requester when the commits do not apply
    /// (`--create-issue-on-conflict`).
    pub issue_on_conflict: bool,
    /// The prefix of labels asking for a cherry-pick (`--label-prefix`).
    pub label_prefix: String,
    /// The committer's e-mail (upstream's bot e-mail); empty gives `<bot>@users.noreply.github.com`.
    pub email: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            labels: Vec::new(),
            prow_assignments: true,
            allow_all: false,
            issue_on_conflict: false,
            label_prefix: DEFAULT_LABEL_PREFIX.to_owned(),
            email: String::new(),
        }
    }
}

/// Target branch to the branches chained after it (`/cherrypick a b c` asks for `a` now and
/// `/cherrypick b c` in the new pull request), as upstream's `parseComment`.
pub fn parse(body: &str) -> BTreeMap<String, Vec<String>> {
    let mut commands = BTreeMap::new();
    for captures in CHERRY_PICK_RE.captures_iter(body) {
        let mut branches = captures[1].split_whitespace().map(str::to_owned);
        if let Some(target) = branches.next() {
            commands.insert(target, branches.collect());
        }
    }
    commands
}

/// The reply to a non-member (upstream `notOrgMemberMessageTemplate`).
pub fn not_org_member(org: &str, user: &str) -> String {
    format!(
        "only [{org}](https://github.com/orgs/{org}/people) org members may request cherry picks. If you are already part of the org, make sure to [change](https://github.com/orgs/{org}/people?query={user}) your membership to public. Otherwise you can still do the cherry-pick manually. "
    )
}

/// The reply to a cherry-pick onto the pull request's own base branch.
pub fn onto_base(base: &str) -> String {
    format!("I cannot cherry-pick the present PR on top of its base branch (`{base}`).")
}

/// The reply to a label naming the base branch.
pub fn label_onto_base(base: &str, target: &str) -> String {
    format!("base branch ({base}) needs to differ from target branch ({target})")
}

/// The cherry-pick's branch (upstream `cherryPickBranchFmt`).
pub fn branch_name(number: u64, target: &str) -> String {
    format!("cherry-pick-{number}-to-{target}")
}

/// The cherry-pick's title: `[target] ` before the title, without a `[base] ` a backport of a
/// backport carried (upstream `omitBaseBranchFromTitle`).
pub fn title(original: &str, base: &str, target: &str) -> String {
    let trimmed = if base.is_empty() {
        original.to_owned()
    } else {
        original.replacen(&format!("[{base}] "), "", 1)
    };
    format!("[{target}] {trimmed}")
}

/// The release note of a description, as a `release-note` block (upstream
/// `releaseNoteFromParentPR`); empty without one.
pub fn release_note(body: &str) -> String {
    RELEASE_NOTE_RE
        .captures(body)
        .map(|c| format!("```release-note\n{}\n```", c[1].trim()))
        .unwrap_or_default()
}

/// The cherry-pick's description (upstream `CreateCherrypickBody`).
pub fn body(
    number: u64,
    requester: &str,
    note: &str,
    chain: &[String],
    kinds: &[String],
) -> String {
    let mut body = format!("This is an automated cherry-pick of #{number}");
    if !requester.is_empty() {
        body.push_str(&format!("\n\n/assign {requester}"));
    }
    if !note.is_empty() {
        body.push_str(&format!("\n\n{note}"));
    }
    if !chain.is_empty() {
        body.push_str(&format!("\n\n/cherrypick {}", chain.join(" ")));
    }
    let mut kinds = kinds.to_vec();
    kinds.sort();
    kinds.dedup();
    if !kinds.is_empty() {
        let lines: Vec<String> = kinds.iter().map(|k| format!("/kind {k}")).collect();
        body.push_str(&format!("\n\n{}", lines.join("\n")));
    }
    body
}

/// The `kind/*` labels' kinds, sorted and without repeats.
pub fn kinds(labels: &[String]) -> Vec<String> {
    let mut kinds: Vec<String> = labels
        .iter()
        .filter_map(|l| l.strip_prefix("kind/"))
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// One cherry-pick to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The merged pull request.
    pub number: u64,
    /// Who asked.
    pub requester: String,
    /// How replies are worded: quoting the command, or after a label's prefix.
    pub reply: Reply,
    /// The branch to cherry-pick onto.
    pub target: String,
    /// The pull request's base branch.
    pub base: String,
    /// Branches to ask for in the new pull request.
    pub chain: Vec<String>,
    /// The pull request's title.
    pub title: String,
    /// The pull request's description.
    pub body: String,
}

impl Pick {
    fn comment(&self, text: &str) -> Action {
        Action::Comment {
            org: self.org.clone(),
            repo: self.repo.clone(),
            number: self.number,
            body: self.reply.wrap(text),
        }
    }
}

/// How replies to a label are prefixed.
pub fn label_reply() -> Reply {
    Reply::Prefix("In response to a cherrypick label: ".to_owned())
}

/// What a command comment leads to: replies now and cherry-picks to carry out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Replies and other actions to take at once.
    pub actions: Vec<Action>,
    /// Cherry-picks to carry out.
    pub picks: Vec<Pick>,
}

/// What is known about a commented pull request, for [`decide_comment`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullFacts {
    /// Its base branch.
    pub base: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub body: String,
    /// Its state (`open`, `closed`).
    pub state: String,
    /// Whether it merged.
    pub merged: bool,
}

/// What to do about a new comment `commands` by `user` (quoted in `reply`) on pull request
/// `org/repo#number`, given the pull request and whether the user may ask (`allowed`: a
/// member, or anyone with `allow_all`). Upstream `handleIssueComment`.
#[allow(clippy::too_many_arguments)]
pub fn decide_comment(
    (org, repo, number): (&str, &str, u64),
    user: &str,
    reply: &Reply,
    commands: &str,
    pull: &PullFacts,
    allowed: bool,
) -> Decision {
    let mut wanted = parse(commands);
    let mut decision = Decision::default();
    if wanted.is_empty() {
        return decision;
    }
    let say = |text: &str| Action::Comment {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        body: reply.wrap(text),
    };
    let onto_base_asked = wanted.remove(&pull.base).is_some();
    if wanted.is_empty() {
        decision.actions.push(say(&onto_base(&pull.base)));
        return decision;
    }
    if pull.state != "closed" {
        if !allowed {
            decision.actions.push(say(&not_org_member(org, user)));
            return decision;
        }
        let names: Vec<String> = wanted.keys().map(|b| format!("`{b}`")).collect();
        let mut text = if names.len() == 1 {
            format!(
                "once the present PR merges, I will cherry-pick it on top of {} in a new PR and assign it to you.",
                names[0]
            )
        } else {
            format!(
                "once the present PR merges, I will cherry-pick it on top of {} in new PRs and assign them to you.",
                names.join(", ")
            )
        };
        if onto_base_asked {
            text.push_str(&format!(
                " I cannot cherry-pick it on top of `{}` because that is already its base branch.",
                pull.base
            ));
        }
        decision.actions.push(say(&text));
        return decision;
    }
    if !pull.merged {
        decision
            .actions
            .push(say("cannot cherry-pick an unmerged PR"));
        return decision;
    }
    if !allowed {
        decision.actions.push(say(&not_org_member(org, user)));
        return decision;
    }
    if onto_base_asked {
        decision.actions.push(say(&onto_base(&pull.base)));
    }
    decision.picks = wanted
        .into_iter()
        .map(|(target, chain)| Pick {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            requester: user.to_owned(),
            reply: reply.clone(),
            target,
            base: pull.base.clone(),
            chain,
            title: pull.title.clone(),
            body: pull.body.clone(),
        })
        .collect();
    decision
}

/// A request found on a merged pull request: who asked, for which branch, how to reply, and
/// the chained branches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Who asked (a comment's author, or the pull request's author for a label).
    pub requester: String,
    /// The branch.
    pub target: String,
    /// How to reply.
    pub reply: Reply,
    /// Branches chained after it.
    pub chain: Vec<String>,
}

/// The requests on a pull request that just merged: commands in its description (by its
/// author) and comments (`(author, text, link)`, oldest first), and labels with `prefix`
/// (asked by its author). Upstream `handlePullRequestClosed`, before the membership filter.
pub fn requests_on_merge(
    author: &str,
    description: &str,
    description_url: &str,
    comments: &[(String, String, String)],
    labels: &[String],
    prefix: &str,
) -> Vec<Found> {
    // requester -> target -> reply; chains by target, later ones winning as upstream.
    let mut by_requester: BTreeMap<String, BTreeMap<String, Reply>> = BTreeMap::new();
    let mut chains: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let texts = std::iter::once((
        author.to_owned(),
        description.to_owned(),
        description_url.to_owned(),
    ))
    .chain(comments.iter().cloned());
    for (user, text, url) in texts {
        for (target, chain) in parse(&text) {
            by_requester.entry(user.clone()).or_default().insert(
                target.clone(),
                Reply::Quote {
                    body: text.clone(),
                    url: url.clone(),
                    user: user.clone(),
                },
            );
            if !chain.is_empty() {
                chains.insert(target, chain);
            }
        }
    }
    for label in labels {
        if let Some(target) = label.strip_prefix(prefix) {
            by_requester
                .entry(author.to_owned())
                .or_default()
                .insert(target.to_owned(), label_reply());
        }
    }
    by_requester
        .into_iter()
        .flat_map(|(requester, targets)| {
            let chains = &chains;
            targets.into_iter().map(move |(target, reply)| Found {
                chain: chains.get(&target).cloned().unwrap_or_default(),
                requester: requester.clone(),
                target,
                reply,
            })
        })
        .collect()
}

/// The cherrypicker plugin.
#[derive(Debug, Clone, Default)]
pub struct CherryPicker {
    options: Options,
}

impl CherryPicker {
    /// The plugin behaving as `options` say.
    pub fn new(options: Options) -> Self {
        CherryPicker { options }
    }

    async fn allowed(&self, ctx: &Context<'_>, org: &str, user: &str) -> Result<bool, PluginError> {
        if self.options.allow_all {
            return Ok(true);
        }
        ctx.github
            .is_org_member(org, user)
            .await
            .map_err(PluginError::github(format!(
                "check whether {user} is a member of {org}"
            )))
    }

    async fn on_comment(
        &self,
        ctx: &Context<'_>,
        gc: &prow_github::events::GenericCommentEvent,
    ) -> Result<Vec<Action>, PluginError> {
        if !gc.is_pr || gc.action != CommentAction::Created || parse(ctx.commands).is_empty() {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        let pr = ctx.pull_request_of(gc).await?;
        let facts = PullFacts {
            base: pr.base.git_ref.clone(),
            title: pr.title.clone(),
            body: pr.body.clone().unwrap_or_default(),
            state: gc.issue_state.clone(),
            merged: pr.merged.unwrap_or(false),
        };
        let allowed = self.allowed(ctx, org, &gc.user.login).await?;
        let reply = Reply::Quote {
            body: gc.body.clone(),
            url: gc.html_url.clone(),
            user: gc.user.login.clone(),
        };
        let decision = decide_comment(
            (org, repo, number),
            &gc.user.login,
            &reply,
            ctx.commands,
            &facts,
            allowed,
        );
        let mut actions = decision.actions;
        for pick in decision.picks {
            actions.extend(self.carry_out(ctx, &pick).await?);
        }
        Ok(actions)
    }

    async fn on_labeled(
        &self,
        ctx: &Context<'_>,
        pe: &prow_github::events::PullRequestEvent,
    ) -> Result<Vec<Action>, PluginError> {
        let Some(target) = pe
            .label
            .as_ref()
            .and_then(|l| l.name.strip_prefix(self.options.label_prefix.as_str()))
        else {
            return Ok(Vec::new());
        };
        let pr = &pe.pull_request;
        let (org, repo, number) = (pe.repository.org(), pe.repository.name.as_str(), pr.number);
        let author = pr.user.login.as_str();
        let say = |text: &str| Action::Comment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            body: label_reply().wrap(text),
        };
        if !self.allowed(ctx, org, author).await? {
            return Ok(vec![say(&not_org_member(org, author))]);
        }
        if target == pr.base.git_ref {
            return Ok(vec![say(&label_onto_base(&pr.base.git_ref, target))]);
        }
        if !pr.merged.unwrap_or(false) {
            return Ok(vec![say(&format!(
                "@{author} once the present PR merges, I will cherry-pick it on top of `{target}` in a new PR and assign it to you."
            ))]);
        }
        let pick = Pick {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            requester: author.to_owned(),
            reply: label_reply(),
            target: target.to_owned(),
            base: pr.base.git_ref.clone(),
            chain: Vec::new(),
            title: pr.title.clone(),
            body: pr.body.clone().unwrap_or_default(),
        };
        self.carry_out(ctx, &pick).await
    }

    async fn on_merged(
        &self,
        ctx: &Context<'_>,
        pe: &prow_github::events::PullRequestEvent,
    ) -> Result<Vec<Action>, PluginError> {
        let pr = &pe.pull_request;
        if !pr.merged.unwrap_or(false) || pr.merge_commit_sha.is_none() {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (pe.repository.org(), pe.repository.name.as_str(), pr.number);
        let comments: Vec<(String, String, String)> = ctx
            .issue_comments(org, repo, number)
            .await?
            .into_iter()
            .map(|c| (c.user.login, c.body.unwrap_or_default(), c.html_url))
            .collect();
        let labels = ctx.labels(org, repo, number).await?;
        let mut found = requests_on_merge(
            &pr.user.login,
            pr.body.as_deref().unwrap_or_default(),
            &pr.html_url,
            &comments,
            &labels,
            &self.options.label_prefix,
        );
        if found.is_empty() {
            return Ok(Vec::new());
        }
        if !self.options.allow_all {
            let members = ctx
                .github
                .org_members(org)
                .await
                .map_err(PluginError::github(format!("list the members of {org}")))?;
            found.retain(|f| members.contains(&f.requester));
        }
        let mut handled = std::collections::BTreeSet::new();
        let mut actions = Vec::new();
        for f in found {
            if handled.contains(&f.target) {
                continue;
            }
            let pick = Pick {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                requester: f.requester,
                reply: f.reply,
                target: f.target,
                base: pr.base.git_ref.clone(),
                chain: f.chain,
                title: pr.title.clone(),
                body: pr.body.clone().unwrap_or_default(),
            };
            if pick.target == pick.base {
                actions.push(pick.comment(&label_onto_base(&pick.base, &pick.target)));
                continue;
            }
            handled.insert(pick.target.clone());
            actions.extend(self.carry_out(ctx, &pick).await?);
        }
        Ok(actions)
    }

    /// Carries out one cherry-pick (upstream `handle`): fork, clone, branch, apply, push; the
    /// pull request and the replies as actions.
    pub async fn carry_out(
        &self,
        ctx: &Context<'_>,
        pick: &Pick,
    ) -> Result<Vec<Action>, PluginError> {
        let (org, repo, number) = (pick.org.as_str(), pick.repo.as_str(), pick.number);
        let bot = ctx.bot.to_owned();
        // Where to push: the bot's fork, or the repository itself when forking is forbidden.
        let (push_owner, push_repo) = match ctx.github.ensure_fork(&bot, org, repo).await {
            Ok(name) => (bot.clone(), name),
            Err(prow_github::Error::Forbidden { .. }) => {
                tracing::warn!(
                    plugin = NAME,
                    org,
                    repo,
                    "forking is forbidden, pushing the cherry-pick branch into the repository itself"
                );
                (org.to_owned(), repo.to_owned())
            }
            Err(e) => {
                return Ok(vec![pick.comment(&format!(
                    "cannot decide how to push into {org}/{repo}: failed to ensure fork exists: {e}"
                ))]);
            }
        };
        let origin = ctx
            .github
            .git_remote(org, repo)
            .await
            .map_err(PluginError::github(format!(
                "find where to clone {org}/{repo}"
            )))?;
        let push_to = ctx
            .github
            .git_remote(&push_owner, &push_repo)
            .await
            .map_err(PluginError::github(format!(
                "find where to push {push_owner}/{push_repo}"
            )))?;
        let commits: Vec<String> = ctx
            .pull_request_commits(org, repo, number)
            .await?
            .into_iter()
            .map(|c| c.sha)
            .collect();
        let new_branch = branch_name(number, &pick.target);
        let email = if self.options.email.is_empty() {
            format!("{bot}@users.noreply.github.com")
        } else {
            self.options.email.clone()
        };
        let work = Work {
            origin,
            push_to,
            target: pick.target.clone(),
            number,
            new_branch: new_branch.clone(),
            commits,
            bot: bot.clone(),
            email,
        };
        let outcome = tokio::task::spawn_blocking(move || work.run())
            .await
            .map_err(|e| PluginError::Other(format!("cherry-pick task: {e}")))?;
        let title = title(&pick.title, &pick.base, &pick.target);
        match outcome {
            Outcome::Checkout(e) => {
                Ok(vec![pick.comment(&format!(
                    "cannot checkout `{}`: {e}",
                    pick.target
                ))])
            }
            Outcome::Exists => {
                let head = format!("{push_owner}:{new_branch}");
                let open =
                    ctx.github
                        .pull_requests(org, repo)
                        .await
                        .map_err(PluginError::github(format!(
                            "list the pull requests of {org}/{repo}"
                        )))?;
                match open
                    .iter()
                    .find(|p| p.head.label == head || p.head.git_ref == new_branch)
                {
                    Some(existing) => Ok(vec![pick.comment(&format!(
                        "Looks like #{number} has already been cherry picked in {}",
                        existing.html_url
                    ))]),
                    None => Ok(self
                        .open(ctx, pick, title, &push_owner, &new_branch)
                        .await?),
                }
            }
            Outcome::Conflict(e) => {
                let text = format!(
                    "#{number} failed to apply on top of branch {:?}:\n```\n{e}\n```",
                    pick.target
                );
                let mut actions = vec![pick.comment(&text)];
                if self.options.issue_on_conflict {
                    actions.push(Action::OpenIssue {
                        org: org.to_owned(),
                        repo: repo.to_owned(),
                        title,
                        body: format!("Manual cherrypick required.\n\n{text}"),
                        assignees: vec![pick.requester.clone()],
                        announce: Announce {
                            org: org.to_owned(),
                            repo: repo.to_owned(),
                            number,
                            reply: pick.reply.clone(),
                            created: "new issue created for failed cherrypick: #".to_owned(),
                            failed: "new issue could not be created for failed cherrypick: "
                                .to_owned(),
                        },
                    });
                }
                Ok(actions)
            }
            Outcome::Push(e) => Ok(vec![pick.comment(&format!(
                "failed to push cherry-picked changes in GitHub: {e}"
            ))]),
            Outcome::Other(e) => Err(PluginError::Other(format!(
                "cherry-pick {org}/{repo}#{number} onto {}: {e}",
                pick.target
            ))),
            Outcome::Pushed => Ok(self
                .open(ctx, pick, title, &push_owner, &new_branch)
                .await?),
        }
    }

    async fn open(
        &self,
        ctx: &Context<'_>,
        pick: &Pick,
        title: String,
        push_owner: &str,
        new_branch: &str,
    ) -> Result<Vec<Action>, PluginError> {
        let (org, repo, number) = (pick.org.as_str(), pick.repo.as_str(), pick.number);
        let kinds = match ctx.labels(org, repo, number).await {
            Ok(labels) => kinds(&labels),
            Err(e) => {
                tracing::debug!(plugin = NAME, error = %e, "no labels, so no /kind commands in the cherry-pick");
                Vec::new()
            }
        };
        let requester = if self.options.prow_assignments {
            pick.requester.as_str()
        } else {
            ""
        };
        let description = body(
            number,
            requester,
            &release_note(&pick.body),
            &pick.chain,
            &kinds,
        );
        let head = if push_owner == org {
            new_branch.to_owned()
        } else {
            format!("{push_owner}:{new_branch}")
        };
        Ok(vec![Action::OpenPullRequest {
            org: org.to_owned(),
            repo: repo.to_owned(),
            pull: NewPullRequest::new(&title, &description, &head, &pick.target),
            labels: self.options.labels.clone(),
            assignees: if self.options.prow_assignments {
                vec![pick.requester.clone()]
            } else {
                Vec::new()
            },
            announce: Announce {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                reply: pick.reply.clone(),
                created: "new pull request created: #".to_owned(),
                failed: "new pull request could not be created: ".to_owned(),
            },
        }])
    }
}

/// The git part of a cherry-pick, run off the async workers.
struct Work {
    origin: String,
    push_to: String,
    target: String,
    number: u64,
    new_branch: String,
    commits: Vec<String>,
    bot: String,
    email: String,
}

/// How the git part ended.
enum Outcome {
    Pushed,
    Exists,
    Checkout(GitError),
    Conflict(GitError),
    Push(GitError),
    Other(GitError),
}

impl Work {
    fn run(self) -> Outcome {
        let copy = match WorkingCopy::clone(&self.origin) {
            Ok(copy) => copy,
            Err(e) => return Outcome::Other(GitError(format!("clone: {e}"))),
        };
        if let Err(e) = copy.checkout(&self.target) {
            return Outcome::Checkout(e);
        }
        if let Err(e) = copy.fetch(&format!("refs/pull/{}/head", self.number)) {
            return Outcome::Other(GitError(format!("fetch the pull request: {e}")));
        }
        match remote_has_branch(&self.push_to, &self.new_branch) {
            Ok(true) => return Outcome::Exists,
            Ok(false) => {}
            Err(e) => return Outcome::Push(e),
        }
        if let Err(e) = copy.checkout_new_branch(&self.new_branch) {
            return Outcome::Other(e);
        }
        let commits: Result<Vec<git2::Oid>, _> = self
            .commits
            .iter()
            .map(|s| git2::Oid::from_str(s))
            .collect();
        let commits = match commits {
            Ok(c) => c,
            Err(e) => return Outcome::Other(GitError(e.message().to_owned())),
        };
        let committer = match git2::Signature::now(&self.bot, &self.email) {
            Ok(s) => s,
            Err(e) => return Outcome::Other(GitError(e.message().to_owned())),
        };
        if let Err(e) = copy.cherry_pick(&commits, &committer) {
            return Outcome::Conflict(e);
        }
        match copy.push(&self.push_to, &self.new_branch, true) {
            Ok(()) => Outcome::Pushed,
            Err(e) => Outcome::Push(e),
        }
    }
}

#[async_trait]
impl Plugin for CherryPicker {
    fn name(&self) -> &'static str {
        NAME
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The cherrypick plugin is used for cherrypicking PRs across branches. For every successful cherrypick invocation a new PR is opened against the target branch and assigned to the requester. If the parent PR contains a release note, it is copied to the cherrypick PR. Kind labels (e.g. kind/bug, kind/cleanup) from the original PR are copied into the cherry-pick PR description as /kind commands so the bot can re-apply them.",
            &["issue_comment", "pull_request"],
        )
        .command(
            "/cherrypick [branch]",
            "Cherrypick a PR to a different branch. This command works both in merged PRs (the cherrypick PR is opened immediately) and open PRs (the cherrypick PR opens as soon as the original PR merges). If multiple branches are specified, separated by a space, a cherrypick for the first branch will be created with a comment to cherrypick the remaining branches after the first merges.",
            "Members of the trusted organization for the repo.",
            &[
                "/cherrypick release-3.9",
                "/cherry-pick release-1.15",
                "/cherrypick release-1.6 release-1.5 release-1.4",
            ],
        )
        .featured()
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        match event {
            Event::IssueComment(_) => match ctx.comment {
                Some(gc) => self.on_comment(ctx, gc).await,
                None => Ok(Vec::new()),
            },
            Event::PullRequest(pe) if pe.action == "labeled" => self.on_labeled(ctx, pe).await,
            Event::PullRequest(pe) if pe.action == "closed" => self.on_merged(ctx, pe).await,
            _ => Ok(Vec::new()),
        }
    }
}
