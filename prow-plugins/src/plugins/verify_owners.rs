//! verify-owners: checks the OWNERS and OWNERS_ALIASES files a pull request changes, on open,
//! reopen, new pushes and `/verify-owners` (upstream `pkg/plugins/verify-owners`).
//!
//! A file that does not parse, sets a denied label, or is the root OWNERS without approvers is
//! invalid; logins newly added (compared with the base commit, where Prow reads the patch) that
//! trigger would not trust are named. Either puts `do-not-merge/invalid-owners-file` on the pull
//! request with a comment; a clean pull request loses the label and the stale comment.
//!
//! Differences from Prow: files are read at the head commit through the API rather than from a
//! merge in a clone; invalid files are listed in one comment rather than a review with a
//! comment per file; the empty-aliases advice is given only when the aliases file changed.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use prow_config::owners::{self, Aliases, norm_login};
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;
use prow_github::types::PullRequest;

use crate::commands::GoRegex;
use crate::owners_loader::OwnersLoader;
use crate::{Action, Context, Plugin, PluginError, PluginHelp, respond, trust};

/// The label.
pub const INVALID_OWNERS: &str = "do-not-merge/invalid-owners-file";
/// How many users are checked at most per run, as in Prow.
pub const MAX_USERS_CHECKED: usize = 50;

/// `/verify-owners` (upstream `verifyOwnersRe`).
pub static VERIFY_OWNERS_RE: GoRegex = GoRegex::new(
    "pkg/plugins/verify-owners/verify-owners.go",
    r"(?mi)^/verify-owners\s*$",
);

/// Whether `body` asks for `/verify-owners`.
pub fn is_verify(body: &str) -> bool {
    VERIFY_OWNERS_RE.is_match(body)
}

/// The head of the untrusted-users comment (Prow's `untrustedResponseFormat`).
pub fn untrusted_header(owners_filename: &str, join_org_url: &str, org: &str) -> String {
    format!(
        "The OWNERS file contains untrusted users, which makes it INVALID. The following users are mentioned in {owners_filename} file(s) but are untrusted for the following reasons. One way to make the user trusted is to add them as [members]({join_org_url}) of the {org} org. You can then trigger verification by writing `/verify-owners` in a comment."
    )
}

/// Checks one changed OWNERS file at `path` with its new text (and its text at the base, if
/// it existed): the problem in Prow's words, or the logins the change adds.
pub fn check_owners_file(
    path: &str,
    text: &str,
    base_text: Option<&str>,
    denied_labels: &[String],
    owners_filename: &str,
) -> Result<BTreeSet<String>, String> {
    let file = owners::parse_owners(path, text).map_err(|e| match e {
        owners::OwnersError::Parse { reason, .. } => format!("Cannot parse file: {reason}."),
        other => format!("Cannot parse file: {other}."),
    })?;
    let banned: BTreeSet<String> = file
        .labels()
        .into_iter()
        .filter(|l| denied_labels.contains(l))
        .collect();
    if !banned.is_empty() {
        let list: Vec<String> = banned.into_iter().collect();
        return Err(format!(
            "File contains banned labels: [{}].",
            list.join(" ")
        ));
    }
    if owners::parent_dir(path).is_empty() && file.approvers().is_empty() {
        return Err(format!(
            "No approvers defined in this root directory {owners_filename} file."
        ));
    }
    let before: BTreeSet<String> = base_text
        .and_then(|t| owners::parse_owners(path, t).ok())
        .map(|f| f.logins().iter().map(|l| norm_login(l)).collect())
        .unwrap_or_default();
    Ok(file
        .logins()
        .into_iter()
        .filter(|l| !before.contains(&norm_login(l)))
        .collect())
}

/// Alias members added by a change of the aliases file.
pub fn new_alias_members(after: &Aliases, before: Option<&Aliases>) -> BTreeSet<String> {
    let old: BTreeSet<&String> = before
        .into_iter()
        .flat_map(|a| a.values().flatten())
        .collect();
    after
        .values()
        .flatten()
        .filter(|m| !old.contains(m))
        .cloned()
        .collect()
}

/// A user trigger does not trust, with why and where they were added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Untrusted {
    /// Trigger's reason.
    pub reason: String,
    /// The files that add them.
    pub files: Vec<String>,
}

/// What the checks found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Findings {
    /// The aliases file changed and does not parse.
    pub aliases_invalid: bool,
    /// The aliases file changed and has aliases without members.
    pub empty_aliases: bool,
    /// Invalid OWNERS files and why.
    pub invalid: BTreeMap<String, String>,
    /// Untrusted users by login as written.
    pub untrusted: BTreeMap<String, Untrusted>,
    /// The pull request has the label now.
    pub has_label: bool,
    /// The bot's earlier untrusted-users comments, to prune.
    pub stale_comments: Vec<u64>,
}

/// Where the comments go and what they say.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The repository.
    pub repo: &'a str,
    /// The pull request.
    pub number: u64,
    /// Its author.
    pub author: &'a str,
    /// Its body.
    pub body: &'a str,
    /// Its link.
    pub url: &'a str,
    /// The name of OWNERS files.
    pub owners_filename: &'a str,
    /// The name of the aliases file.
    pub aliases_filename: &'a str,
    /// Where to join the org.
    pub join_org_url: &'a str,
}

/// The actions for `findings`.
pub fn decide(t: &Target<'_>, f: &Findings) -> Vec<Action> {
    let comment = |body: String| Action::Comment {
        org: t.org.to_owned(),
        repo: t.repo.to_owned(),
        number: t.number,
        body,
    };
    let label = || Action::AddLabels {
        org: t.org.to_owned(),
        repo: t.repo.to_owned(),
        number: t.number,
        labels: vec![INVALID_OWNERS.to_owned()],
    };
    let prune = |actions: &mut Vec<Action>| {
        for id in &f.stale_comments {
            actions.push(Action::DeleteComment {
                org: t.org.to_owned(),
                repo: t.repo.to_owned(),
                id: *id,
            });
        }
    };
    let mut actions = Vec::new();
    if f.aliases_invalid {
        if !f.has_label {
            actions.push(label());
        }
        actions.push(comment(format!(
            "The content of {} is invalid.",
            t.aliases_filename
        )));
        return actions;
    }
    if f.empty_aliases {
        actions.push(comment(
            "There are empty aliases in OWNER_ALIASES, cleanup is advised.".to_owned(),
        ));
    }
    let mut labelled = f.has_label;
    if !f.invalid.is_empty() {
        if !labelled {
            actions.push(label());
            labelled = true;
        }
        let n = f.invalid.len();
        let s = if n == 1 { "" } else { "s" };
        let mut text = format!("{n} invalid {} file{s}:\n", t.owners_filename);
        for (file, why) in &f.invalid {
            text.push_str(&format!("\n- `{file}`: {why}"));
        }
        actions.push(comment(respond::format_response_raw(
            t.body, t.url, t.author, &text,
        )));
    }
    if !f.untrusted.is_empty() {
        if !labelled {
            actions.push(label());
        }
        prune(&mut actions);
        let mut lines = vec![untrusted_header(t.owners_filename, t.join_org_url, t.org)];
        for (user, why) in &f.untrusted {
            lines.push(format!("- {user}"));
            lines.push(format!("  - {}", why.reason));
            for file in &why.files {
                lines.push(format!("  - {file}"));
            }
        }
        actions.push(comment(lines.join("\n")));
    }
    if f.invalid.is_empty() && f.untrusted.is_empty() {
        if f.has_label {
            actions.push(Action::RemoveLabel {
                org: t.org.to_owned(),
                repo: t.repo.to_owned(),
                number: t.number,
                label: INVALID_OWNERS.to_owned(),
            });
        }
        prune(&mut actions);
    }
    actions
}

/// The verify-owners plugin.
#[derive(Debug, Default)]
pub struct VerifyOwners {
    loader: OwnersLoader,
}

fn denied_labels(plugins: &PluginConfig) -> Vec<String> {
    plugins
        .owners
        .labels_denylist
        .clone()
        .unwrap_or_else(|| vec!["approved".to_owned(), "lgtm".to_owned()])
}

#[async_trait]
impl Plugin for VerifyOwners {
    fn name(&self) -> &'static str {
        "verify-owners"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            format!("The verify-owners plugin validates OWNERS and OWNERS_ALIASES files (by default) and ensures that they always contain collaborators of the org, if they are modified in a PR. On validation failure it automatically adds the '{INVALID_OWNERS}' label to the PR, and a review comment on the incriminating file(s). Per-repo configuration for filenames is possible."),
            &["pull_request", "issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command("/verify-owners", INVALID_OWNERS, "Anyone", &["/verify-owners"]);
        let names = plugins.owners_filenames("", "");
        help.config.insert(
            "default".to_owned(),
            format!(
                "{} and {} files are validated. The verify-owners plugin will complain if {} files contain any of the following banned labels: {}.",
                names.owners,
                names.owners_aliases,
                names.owners,
                denied_labels(plugins).join(", ")
            ),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        match event {
            Event::PullRequest(pe) => {
                if !matches!(pe.action.as_str(), "opened" | "reopened" | "synchronize") {
                    return Ok(Vec::new());
                }
                self.act(
                    ctx,
                    pe.repository.org(),
                    &pe.repository.name,
                    &pe.pull_request,
                )
                .await
            }
            _ => {
                let Some(gc) = ctx.comment else {
                    return Ok(Vec::new());
                };
                if !gc.is_new_on_open_pull_request() || !is_verify(ctx.commands) {
                    return Ok(Vec::new());
                }
                let (org, repo) = (gc.repo.org(), gc.repo.name.as_str());
                let pr = ctx.pull_request_of(gc).await?;
                self.act(ctx, org, repo, &pr).await
            }
        }
    }
}

impl VerifyOwners {
    async fn act(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        pr: &PullRequest,
    ) -> Result<Vec<Action>, PluginError> {
        let number = pr.number;
        let gh = ctx.github;
        let what = |w: &str| PluginError::github(format!("read the {w} of {org}/{repo}#{number}"));
        let names = ctx.plugins.owners_filenames(org, repo);
        let changes = gh
            .pull_request_files(org, repo, number)
            .await
            .map_err(what("files"))?;
        let owners_files: Vec<String> = changes
            .iter()
            .filter(|c| {
                c.status != "removed"
                    && c.filename.rsplit('/').next() == Some(names.owners.as_str())
            })
            .map(|c| c.filename.clone())
            .collect();
        let aliases_changed = changes.iter().any(|c| c.filename == names.owners_aliases);
        let labels = gh
            .issue_labels(org, repo, number)
            .await
            .map_err(what("labels"))?;
        let has_label = labels.iter().any(|l| l.name == INVALID_OWNERS);
        if owners_files.is_empty() && !aliases_changed && !has_label {
            return Ok(Vec::new());
        }
        let (head, base) = (&pr.head.sha, &pr.base.sha);
        let skip_trust = ctx.plugins.skip_collaborators(org, repo);
        let trigger = ctx.plugins.trigger_for(org, repo);
        let mut findings = Findings {
            has_label,
            ..Findings::default()
        };
        let mut to_check: Vec<(String, String)> = Vec::new();
        let aliases = self
            .loader
            .aliases_file(gh, org, repo, head, &names.owners_aliases)
            .await?;
        let aliases: Aliases = match &*aliases {
            Some(Ok(a)) => a.clone(),
            Some(Err(_)) => {
                findings.aliases_invalid = true;
                let target = self.target(ctx, org, repo, pr, &names);
                return Ok(decide(&target.0.borrow(&target.1), &findings));
            }
            None => Aliases::new(),
        };
        if aliases_changed {
            findings.empty_aliases = aliases.values().any(BTreeSet::is_empty);
            let before = self
                .loader
                .aliases_file(gh, org, repo, base, &names.owners_aliases)
                .await?;
            let before = match &*before {
                Some(Ok(a)) => Some(a),
                _ => None,
            };
            for m in new_alias_members(&aliases, before) {
                to_check.push((m, names.owners_aliases.clone()));
            }
        }
        for path in &owners_files {
            let text = self
                .text(ctx, org, repo, path, head)
                .await?
                .unwrap_or_default();
            let base_text = self.text(ctx, org, repo, path, base).await?;
            match check_owners_file(
                path,
                &text,
                base_text.as_deref(),
                &denied_labels(ctx.plugins),
                &names.owners,
            ) {
                Err(why) => {
                    findings.invalid.insert(path.clone(), why);
                }
                Ok(added) => {
                    for login in added {
                        if !aliases.contains_key(&norm_login(&login)) {
                            to_check.push((login, path.clone()));
                        }
                    }
                }
            }
        }
        if !skip_trust {
            let mut trusted = BTreeSet::new();
            for (login, file) in to_check {
                if findings.untrusted.len() + trusted.len() > MAX_USERS_CHECKED {
                    break;
                }
                if let Some(u) = findings.untrusted.get_mut(&login) {
                    if !u.files.contains(&file) {
                        u.files.push(file);
                    }
                    continue;
                }
                if trusted.contains(&login) {
                    continue;
                }
                let facts = trust::facts(gh, &trigger, ctx.bot, &login, org, repo).await?;
                match trust::decide(&facts, &trigger) {
                    Ok(()) => {
                        trusted.insert(login);
                    }
                    Err(reason) => {
                        findings.untrusted.insert(
                            login,
                            Untrusted {
                                reason,
                                files: vec![file],
                            },
                        );
                    }
                }
            }
        }
        let join = join_org_url(&trigger.join_org_url, org);
        let header = untrusted_header(&names.owners, &join, org);
        let comments = gh
            .issue_comments(org, repo, number)
            .await
            .map_err(what("comments"))?;
        findings.stale_comments = comments
            .iter()
            .filter(|c| {
                c.user.login.eq_ignore_ascii_case(ctx.bot)
                    && c.body.as_deref().unwrap_or_default().contains(&header)
            })
            .map(|c| c.id)
            .collect();
        let target = self.target(ctx, org, repo, pr, &names);
        Ok(decide(&target.0.borrow(&target.1), &findings))
    }

    async fn text(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        path: &str,
        sha: &str,
    ) -> Result<Option<String>, PluginError> {
        let bytes = ctx
            .github
            .file_contents(org, repo, path, sha)
            .await
            .map_err(PluginError::github(format!(
                "read {path} of {org}/{repo} at {sha}"
            )))?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn target(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        pr: &PullRequest,
        names: &prow_config::plugins::OwnersFilenames,
    ) -> (OwnedTarget, String) {
        let trigger = ctx.plugins.trigger_for(org, repo);
        (
            OwnedTarget {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number: pr.number,
                author: pr.user.login.clone(),
                body: pr.body.clone().unwrap_or_default(),
                url: pr.html_url.clone(),
                owners_filename: names.owners.clone(),
                aliases_filename: names.owners_aliases.clone(),
            },
            join_org_url(&trigger.join_org_url, org),
        )
    }
}

/// Where to join `org`: the configured `join_org_url` or GitHub's people page.
pub fn join_org_url(configured: &str, org: &str) -> String {
    if configured.is_empty() {
        format!("https://github.com/orgs/{org}/people")
    } else {
        configured.to_owned()
    }
}

struct OwnedTarget {
    org: String,
    repo: String,
    number: u64,
    author: String,
    body: String,
    url: String,
    owners_filename: String,
    aliases_filename: String,
}

impl OwnedTarget {
    fn borrow<'a>(&'a self, join: &'a str) -> Target<'a> {
        Target {
            org: &self.org,
            repo: &self.repo,
            number: self.number,
            author: &self.author,
            body: &self.body,
            url: &self.url,
            owners_filename: &self.owners_filename,
            aliases_filename: &self.aliases_filename,
            join_org_url: join,
        }
    }
}
