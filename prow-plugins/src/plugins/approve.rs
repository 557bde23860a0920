//! approve: `/approve`, `/approve no-issue`, `/approve cancel` (and `/remove-approve`), `/lgtm`
//! acting as approval when `lgtm_acts_as_approve`, and GitHub review approvals unless
//! `ignore_review_state`; manages the `approved` label and the `[APPROVALNOTIFIER]` comment
//! (upstream `pkg/plugins/approve`).
//!
//! Anyone may write `/approve`; an approval counts only for the files whose OWNERS list the
//! approver (directly, through an alias, or in a parent directory unless `no_parent_owners`).
//! The whole pull request is re-evaluated from its comments and reviews on each event.

use crate::commands::GoRegex;
use crate::owners_loader::OwnersLoader;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};
use async_trait::async_trait;
use prow_config::owners::{Approvals, RepoOwners};
use prow_config::plugins::{Approve as ApproveConfig, PluginConfig};
use prow_github::events::{CommentAction, Event};
use prow_github::types::PullRequest;

/// The label.
pub const APPROVED_LABEL: &str = "approved";
/// The notification's marker (Prow's `ApprovalNotifier`, upper-cased in the comment).
pub const NOTIFIER: &str = "[APPROVALNOTIFIER]";
/// Where Prow's notification links to when `github.link_url` is not set.
pub const DEFAULT_LINK_URL: &str = "https://github.com";
const MANUAL: &str = "Approval requirements bypassed by manually added approval.";

/// Any command with its arguments (upstream `commandRegex`); approve picks `/approve`,
/// `/remove-approve` and `/lgtm` out of them, in any case.
pub static COMMAND_RE: GoRegex = GoRegex::new(
    "pkg/plugins/approve/approve.go",
    r"(?m)^/([^\s]+)[\t ]*([^\n\r]*)",
);

/// Whether `body` holds a command approve acts on (`/approve`, `/remove-approve`, and `/lgtm`
/// when it acts as approval).
pub fn is_approval_command(body: &str, lgtm_acts_as_approve: bool) -> bool {
    COMMAND_RE.captures_iter(body).any(|c| {
        let cmd = c[1].to_uppercase();
        cmd == "APPROVE" || cmd == "REMOVE-APPROVE" || (cmd == "LGTM" && lgtm_acts_as_approve)
    })
}

/// Whether a review in `state` counts, given `consider_review_state`.
pub fn is_approval_state(state: &str, consider_review_state: bool) -> bool {
    consider_review_state
        && matches!(
            state.to_ascii_uppercase().as_str(),
            "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED"
        )
}

/// Whether authors approve their own pull requests implicitly (`require_self_approval` unset
/// or false).
pub fn has_self_approval(c: &ApproveConfig) -> bool {
    !c.require_self_approval.unwrap_or(false)
}

/// Whether review states count (`ignore_review_state` unset or false).
pub fn considers_review_state(c: &ApproveConfig) -> bool {
    !c.ignore_review_state.unwrap_or(false)
}

/// The issue a pull request body references (`#123` or a link to an issue of `org`).
pub fn associated_issue(body: &str, org: &str) -> Option<u64> {
    let re =
        prow_config::goregex::shared(&format!(r"(?:{}/[^/]+/issues/|#)(\d+)", regex::escape(org)))
            .ok()?;
    re.captures(body)?.get(1)?.as_str().parse().ok()
}

/// A comment or review, as approve reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Note {
    /// Its id.
    pub id: u64,
    /// Its author.
    pub author: String,
    /// Its text.
    pub body: String,
    /// Its link.
    pub url: String,
    /// When it was made (RFC 3339, so it sorts as text).
    pub created_at: String,
    /// A review's state; empty for comments.
    pub review_state: String,
    /// The author is the bot or a GitHub App.
    pub by_bot: bool,
}

impl Note {
    /// A note by `author` saying `body`.
    pub fn new(id: u64, author: &str, body: &str, created_at: &str) -> Self {
        Note {
            id,
            author: author.to_owned(),
            body: body.to_owned(),
            url: format!("https://example.invalid/comment/{id}"),
            created_at: created_at.to_owned(),
            ..Note::default()
        }
    }
}

/// Records the approvals in `notes` (oldest first) as Prow's `addApprovers` does.
pub fn apply(
    approvals: &mut Approvals<'_>,
    notes: &[Note],
    author: &str,
    settings: &ApproveConfig,
) {
    let consider = considers_review_state(settings);
    for n in notes {
        if n.author.is_empty() || n.by_bot {
            continue;
        }
        let counts = is_approval_command(&n.body, settings.lgtm_acts_as_approve)
            || is_approval_state(&n.review_state, consider);
        if !counts {
            continue;
        }
        let state = n.review_state.to_ascii_uppercase();
        if consider && state == "APPROVED" {
            approvals.add_approver(&n.author, &n.url, false);
        }
        if consider && state == "CHANGES_REQUESTED" {
            approvals.remove_approver(&n.author);
        }
        for c in COMMAND_RE.captures_iter(&n.body) {
            let name = c[1].to_uppercase();
            if name == "REMOVE-APPROVE" {
                approvals.remove_approver(&n.author);
                continue;
            }
            if name != "APPROVE" && name != "LGTM" {
                continue;
            }
            let args = c[2].trim().to_lowercase();
            if args.contains("cancel") {
                approvals.remove_approver(&n.author);
                continue;
            }
            let no_issue = args == "no-issue";
            if n.author == author {
                approvals.add_author_self_approver(&n.author, &n.url, no_issue);
            }
            if name == "APPROVE" {
                approvals.add_approver(&n.author, &n.url, no_issue);
            } else {
                approvals.add_lgtmer(&n.author, &n.url, no_issue);
            }
        }
    }
}

/// Where the notification links to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Links {
    /// GitHub's web address (`https://github.com`).
    pub base_url: String,
    /// `commandHelpLink`.
    pub command_help_link: String,
    /// `pr_process_link`.
    pub pr_process_link: String,
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The base branch.
    pub branch: String,
    /// The name of OWNERS files.
    pub owners_filename: String,
}

/// Links for `org/repo` on `branch`, with Prow's default help and process pages.
pub fn links_for(org: &str, repo: &str, branch: &str, owners_filename: &str) -> Links {
    Links {
        base_url: DEFAULT_LINK_URL.to_owned(),
        command_help_link: "https://go.k8s.io/bot-commands".to_owned(),
        pr_process_link:
            "https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process"
                .to_owned(),
        org: org.to_owned(),
        repo: repo.to_owned(),
        branch: branch.to_owned(),
        owners_filename: owners_filename.to_owned(),
    }
}

fn people(list: &[String]) -> String {
    list.iter()
        .map(|c| format!("[{c}](https://github.com/{c})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn approvals_list(list: &[&prow_config::owners::Approval]) -> String {
    list.iter()
        .enumerate()
        .map(|(i, a)| format!("{}{a}", if i == 0 { " " } else { ", " }))
        .collect()
}

/// The notification comment, in Prow's words and layout.
pub fn notification(ap: &Approvals<'_>, links: &Links) -> String {
    let files_approved = ap.files_approved();
    let manual = ap.manually_approved;
    let mut m = String::new();
    if !ap.requirements_met() && manual {
        m.push_str(&format!("\n{MANUAL}\n\n"));
    }
    m.push_str("This pull-request has been approved by:");
    m.push_str(&approvals_list(&ap.approvals()));
    if !files_approved && !manual {
        m.push('\n');
        let suggested = ap.suggested_ccs();
        let assigned = ap.assigned_ccs();
        let process = format!(
            "For more information see [the Code Review Process]({}).",
            links.pr_process_link
        );
        let lead = "**Once this PR has been reviewed and has the lgtm label**";
        if !suggested.is_empty() {
            if !assigned.is_empty() {
                m.push_str(&format!(
                    "{lead}, please ask for approval from {} and additionally assign {} for approval. {process}",
                    people(&assigned),
                    people(&suggested)
                ));
            } else {
                m.push_str(&format!(
                    "{lead}, please assign {} for approval. {process}",
                    people(&suggested)
                ));
            }
        } else if !assigned.is_empty() {
            m.push_str(&format!(
                "{lead}, please ask for approval from {}. {process}",
                people(&assigned)
            ));
        }
    }
    m.push_str("\n\n");
    if ap.require_issue {
        let no_issue = ap.no_issue_approvals();
        if let Some(issue) = ap.associated_issue {
            m.push_str(&format!("Associated issue: *#{issue}*\n\n"));
        } else if !no_issue.is_empty() {
            m.push_str(&format!(
                "Associated issue requirement bypassed by:{}\n\n",
                approvals_list(&no_issue)
            ));
        } else if manual {
            m.push_str(
                "*No associated issue*. Requirement bypassed by manually added approval.\n\n",
            );
        } else {
            m.push_str("*No associated issue*. Update pull-request body to add a reference to an issue, or get approval with `/approve no-issue`\n\n");
        }
    }
    m.push_str(&format!(
        "The full list of commands accepted by this bot can be found [here]({}?repo={}%2F{}).\n\n",
        links.command_help_link, links.org, links.repo
    ));
    if files_approved || manual {
        m.push_str(&format!(
            "The pull request process is described [here]({})\n\n",
            links.pr_process_link
        ));
    }
    let open = if !files_approved && !manual {
        "open"
    } else {
        ""
    };
    m.push_str(&format!(
        "<details {open}>\nNeeds approval from an approver in each of these files:\n\n"
    ));
    let base = format!("{}/{}/{}", links.base_url, links.org, links.repo);
    for (dir, approved, who) in ap.dir_status() {
        let path = if dir.is_empty() {
            links.owners_filename.clone()
        } else if dir.ends_with(".md") {
            dir.clone()
        } else {
            format!("{dir}/{}", links.owners_filename)
        };
        let link = format!("{base}/blob/{}/{path}", links.branch);
        if approved {
            m.push_str(&format!("- ~~[{path}]({link})~~ [{}]\n", who.join(",")));
        } else if !who.is_empty() {
            m.push_str(&format!(
                "- **[{path}]({link})** [{}]\n  > Need more approvers for rest parts.\n",
                who.join(",")
            ));
        } else {
            m.push_str(&format!("- **[{path}]({link})**\n"));
        }
    }
    m.push_str("\nApprovers can indicate their approval by writing `/approve` in a comment\nApprovers can cancel approval by writing `/approve cancel` in a comment\n</details>");
    let ccs =
        serde_json::to_string(&serde_json::json!({ "approvers": ap.ccs() })).unwrap_or_default();
    m.push_str(&format!("\n<!-- META={ccs} -->"));
    let title = if ap.is_approved() {
        "This PR is **APPROVED**"
    } else {
        "This PR is **NOT APPROVED**"
    };
    format!("{NOTIFIER} {title}\n\n{}", m.trim())
}

/// Whether `body` is one of approve's notifications.
pub fn is_notification(body: &str) -> bool {
    body.get(..NOTIFIER.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(NOTIFIER))
}

/// What is known about the pull request when deciding.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Facts {
    /// The pull request number.
    pub number: u64,
    /// Its author.
    pub author: String,
    /// Its body.
    pub body: String,
    /// Its link.
    pub html_url: String,
    /// Its assignees.
    pub assignees: Vec<String>,
    /// The changed files.
    pub files: Vec<String>,
    /// It has the `approved` label now.
    pub has_approved_label: bool,
    /// Comments and reviews, any order.
    pub notes: Vec<Note>,
}

/// Whether the `approved` label was added by hand. Prow asks the issue's event history; we
/// infer it from our own last notification: the label is present while we last said
/// NOT APPROVED (or said it was bypassed by hand), or before we ever said anything.
pub fn manually_approved(has_label: bool, last_notification: Option<&str>) -> bool {
    if !has_label {
        return false;
    }
    match last_notification {
        None => true,
        Some(body) => body.contains("**NOT APPROVED**") || body.contains(MANUAL),
    }
}

/// The approvals of a pull request, from its notes, under `settings`.
pub fn approvals<'a>(
    owners: &'a RepoOwners,
    facts: &Facts,
    settings: &ApproveConfig,
    org: &str,
    manual: bool,
) -> Approvals<'a> {
    let mut ap = Approvals::new(owners, facts.files.clone());
    ap.associated_issue = associated_issue(&facts.body, org);
    ap.require_issue = settings.issue_required;
    ap.manually_approved = manual;
    ap.seed = facts.number;
    if has_self_approval(settings) {
        ap.add_author_self_approver(&facts.author, &format!("{}#", facts.html_url), false);
    }
    let mut notes = facts.notes.clone();
    notes.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    apply(&mut ap, &notes, &facts.author, settings);
    ap.add_assignees(facts.assignees.iter().map(String::as_str));
    ap
}

/// The actions: the notification created, or edited in place (older duplicates deleted), and
/// the label added or removed.
pub fn decide(
    owners: &RepoOwners,
    facts: &Facts,
    settings: &ApproveConfig,
    links: &Links,
) -> Vec<Action> {
    let mut notifications: Vec<&Note> = facts
        .notes
        .iter()
        .filter(|n| n.by_bot && n.review_state.is_empty() && is_notification(&n.body))
        .collect();
    notifications.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    let latest = notifications.last().copied();
    let manual = manually_approved(facts.has_approved_label, latest.map(|n| n.body.as_str()));
    let ap = approvals(owners, facts, settings, &links.org, manual);
    let message = notification(&ap, links);
    let (org, repo, number) = (links.org.clone(), links.repo.clone(), facts.number);
    let mut actions = Vec::new();
    match latest {
        Some(n) if n.body == message => {}
        Some(n) => actions.push(Action::EditComment {
            org: org.clone(),
            repo: repo.clone(),
            id: n.id,
            body: message,
        }),
        None => actions.push(Action::Comment {
            org: org.clone(),
            repo: repo.clone(),
            number,
            body: message,
        }),
    }
    for old in &notifications[..notifications.len().saturating_sub(1)] {
        actions.push(Action::DeleteComment {
            org: org.clone(),
            repo: repo.clone(),
            id: old.id,
        });
    }
    let approved = ap.is_approved();
    if approved && !facts.has_approved_label {
        actions.push(Action::AddLabels {
            org,
            repo,
            number,
            labels: vec![APPROVED_LABEL.to_owned()],
        });
    } else if !approved && facts.has_approved_label {
        actions.push(Action::RemoveLabel {
            org,
            repo,
            number,
            label: APPROVED_LABEL.to_owned(),
        });
    }
    actions
}

/// The approve plugin.
#[derive(Debug, Default)]
pub struct Approve {
    loader: OwnersLoader,
}

#[async_trait]
impl Plugin for Approve {
    fn name(&self) -> &'static str {
        "approve"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The approve plugin implements a pull request approval process that manages the 'approved' label and an approval notification comment. Approval is achieved when the set of users that have approved the PR is capable of approving every file changed by the PR. A user is able to approve a file if their username or an alias they belong to is listed in the 'approvers' section of an OWNERS file in the directory of the file or higher in the directory tree.\n<br>\n<br>Per-repo configuration may be used to require that PRs link to an associated issue before approval is granted. It may also be used to specify that the PR authors implicitly approve their own PRs.\n<br>For more information see <a href=\"https://docs.prow.k8s.io/docs/components/plugins/approve/approvers/\">here</a>.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment", "pull_request"],
        )
        .command(
            "/[remove-]approve [no-issue|cancel]",
            "Approves a pull request",
            "Users listed as 'approvers' in appropriate OWNERS files.",
            &["/approve", "/approve no-issue", "/remove-approve"],
        );
        if let Some(c) = help.commands.last_mut() {
            c.featured = true;
        }
        let not = |b: bool| if b { "" } else { "do not " };
        let will = |b: bool| if b { "will " } else { "will not " };
        for entry in &plugins.approve {
            let text = format!(
                "Pull requests {}require an associated issue.<br>Pull request authors {}implicitly approve their own PRs.<br>The /lgtm [cancel] command(s) {}act as approval.<br>A GitHub approved or changes requested review {}act as approval or cancel respectively.",
                not(entry.issue_required),
                not(has_self_approval(entry)),
                will(entry.lgtm_acts_as_approve),
                will(considers_review_state(entry)),
            );
            for repo in &entry.repos {
                help.config.insert(repo.clone(), text.clone());
            }
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let is_bot = |login: &str| login.eq_ignore_ascii_case(ctx.bot);
        match event {
            Event::PullRequest(pe) => {
                let org = pe.repository.org();
                let repo = &pe.repository.name;
                let relevant = match pe.action.as_str() {
                    "opened" | "reopened" | "synchronize" => true,
                    "labeled" => {
                        pe.label.as_ref().is_some_and(|l| l.name == APPROVED_LABEL)
                            && !is_bot(&pe.sender.login)
                            && pe.pull_request.state != "closed"
                    }
                    _ => false,
                };
                if !relevant {
                    return Ok(Vec::new());
                }
                self.act(ctx, org, repo, &pe.pull_request).await
            }
            Event::PullRequestReview(re) => {
                let org = re.repository.org();
                let repo = &re.repository.name;
                if re.action != "submitted" && re.action != "dismissed" {
                    return Ok(Vec::new());
                }
                let user = &re.review.user;
                if is_bot(&user.login) || user.kind == "Bot" {
                    return Ok(Vec::new());
                }
                let settings = ctx.plugins.approve_for(org, repo);
                let body = re.review.body.as_deref().unwrap_or_default();
                if !is_approval_command(body, settings.lgtm_acts_as_approve)
                    && !is_approval_state(&re.review.state, considers_review_state(&settings))
                {
                    return Ok(Vec::new());
                }
                self.act(ctx, org, repo, &re.pull_request).await
            }
            _ => {
                let Some(gc) = ctx.comment else {
                    return Ok(Vec::new());
                };
                if gc.action != CommentAction::Created
                    || !gc.is_pr
                    || gc.issue_state == "closed"
                    || is_bot(&gc.user.login)
                {
                    return Ok(Vec::new());
                }
                let (org, repo) = (gc.repo.org(), gc.repo.name.as_str());
                let settings = ctx.plugins.approve_for(org, repo);
                if !is_approval_command(ctx.commands, settings.lgtm_acts_as_approve) {
                    return Ok(Vec::new());
                }
                let pr = ctx.pull_request_of(gc).await?;
                self.act(ctx, org, repo, &pr).await
            }
        }
    }
}

impl Approve {
    async fn act(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        pr: &PullRequest,
    ) -> Result<Vec<Action>, PluginError> {
        let number = pr.number;
        let what = |w: &str| PluginError::github(format!("read the {w} of {org}/{repo}#{number}"));
        let gh = ctx.github;
        let files: Vec<String> = gh
            .pull_request_files(org, repo, number)
            .await
            .map_err(what("files"))?
            .into_iter()
            .map(|f| f.filename)
            .collect();
        let labels = gh
            .issue_labels(org, repo, number)
            .await
            .map_err(what("labels"))?;
        let comments = gh
            .issue_comments(org, repo, number)
            .await
            .map_err(what("comments"))?;
        let reviews = gh
            .reviews(org, repo, number)
            .await
            .map_err(what("reviews"))?;
        let bot = |login: &str| login.eq_ignore_ascii_case(ctx.bot);
        let mut notes: Vec<Note> = comments
            .into_iter()
            .map(|c| Note {
                id: c.id,
                by_bot: bot(&c.user.login),
                author: c.user.login,
                body: c.body.unwrap_or_default(),
                url: c.html_url,
                created_at: c.created_at,
                review_state: String::new(),
            })
            .collect();
        notes.extend(reviews.into_iter().map(|r| Note {
            id: r.id,
            by_bot: bot(&r.user.login) || r.user.kind == "Bot",
            author: r.user.login,
            body: r.body.unwrap_or_default(),
            url: r.html_url,
            created_at: r.submitted_at.unwrap_or_default(),
            review_state: r.state,
        }));
        let owners = self
            .loader
            .load_at_base(ctx, org, repo, &pr.base, &files)
            .await?;
        let settings = ctx.plugins.approve_for(org, repo);
        let facts = Facts {
            number,
            author: pr.user.login.clone(),
            body: pr.body.clone().unwrap_or_default(),
            html_url: pr.html_url.clone(),
            assignees: pr.assignees.iter().map(|u| u.login.clone()).collect(),
            files,
            has_approved_label: labels.iter().any(|l| l.name == APPROVED_LABEL),
            notes,
        };
        let links = Links {
            base_url: DEFAULT_LINK_URL.to_owned(),
            command_help_link: settings.command_help_link.clone(),
            pr_process_link: settings.pr_process_link.clone(),
            org: org.to_owned(),
            repo: repo.to_owned(),
            branch: pr.base.git_ref.clone(),
            owners_filename: ctx.plugins.owners_filenames(org, repo).owners,
        };
        Ok(decide(&owners, &facts, &settings, &links))
    }
}
