//! issue-management: commands for managing issues (upstream `pkg/plugins/issue-management`).
//!
//! - `/link-issue <issue(s)>` and `/unlink-issue <issue(s)>` edit the `Fixes` line of a pull
//!   request's body, for org members ([`link_issue`]);
//! - `/pin-issue` and `/unpin-issue` pin an issue to its repository, for the approvers of the
//!   repository's top-level OWNERS file ([`pin_issue`]);
//! - `/transfer[-issue] <repo>` moves an issue to another repository of the same org, for org
//!   members ([`transfer_issue`]).
//!
//! One comment runs one command family, in upstream's order: link and unlink first, then pin,
//! then unpin, then transfer.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;

use crate::commands::GoRegex;
use crate::owners_loader::OwnersLoader;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

pub mod link_issue;
pub mod pin_issue;
pub mod transfer_issue;

/// The plugin's name in `plugins.yaml`.
pub const NAME: &str = "issue-management";

const SOURCE: &str = "pkg/plugins/issue-management/issue_management.go";

/// `/link-issue <issue(s)>` (upstream `linkIssueRegex`).
pub static LINK_ISSUE_RE: GoRegex = GoRegex::new(SOURCE, r"(?mi)^/link-issue\s+(.+)$");
/// `/unlink-issue <issue(s)>` (upstream `unlinkIssueRegex`).
pub static UNLINK_ISSUE_RE: GoRegex = GoRegex::new(SOURCE, r"(?mi)^/unlink-issue\s+(.+)$");
/// `/pin-issue` (upstream `pinRegex`).
pub static PIN_RE: GoRegex = GoRegex::new(SOURCE, r"(?mi)^/pin-issue\s*$");
/// `/unpin-issue` (upstream `unpinRegex`).
pub static UNPIN_RE: GoRegex = GoRegex::new(SOURCE, r"(?mi)^/unpin-issue\s*$");
/// `/transfer[-issue] <repo>` (upstream `transferRegex`).
pub static TRANSFER_RE: GoRegex = GoRegex::new(SOURCE, r"(?mi)^/transfer(?:-issue)?(?: +(.*))?$");

/// The command family a comment asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Link and unlink these issue references (as written).
    Link {
        /// The references after every `/link-issue`.
        link: Vec<String>,
        /// The references after every `/unlink-issue`.
        unlink: Vec<String>,
    },
    /// Pin (`true`) or unpin the issue.
    Pin(bool),
    /// Transfer the issue (the destination is read by [`transfer_issue::destination`]).
    Transfer,
}

/// The command family `body` asks for, in upstream's order, or `None`.
pub fn command(body: &str) -> Option<Command> {
    let (link, unlink) = link_issue::references(body);
    if !link.is_empty() || !unlink.is_empty() {
        return Some(Command::Link { link, unlink });
    }
    if PIN_RE.is_match(body) {
        return Some(Command::Pin(true));
    }
    if UNPIN_RE.is_match(body) {
        return Some(Command::Pin(false));
    }
    TRANSFER_RE.is_match(body).then_some(Command::Transfer)
}

/// The issue-management plugin.
#[derive(Debug, Default)]
pub struct IssueManagement {
    loader: OwnersLoader,
}

#[async_trait]
impl Plugin for IssueManagement {
    fn name(&self) -> &'static str {
        NAME
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The issue management plugin provides commands for managing issues in a repository.",
            &[
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
        .command(
            "/link-issue <issue(s)>",
            "Links issue(s) to a PR in the same or different repo.",
            "Org members",
            &["/link-issue 1234", "/link-issue org/repo#789"],
        )
        .command(
            "/unlink-issue <issue(s)>",
            "Unlinks issue(s) from a PR in the same or different repo.",
            "Org members",
            &["/unlink-issue 1234", "/unlink-issue org/repo#789"],
        )
        .command(
            "/pin-issue",
            "Pins an issue to the repository",
            "Approvers from the top-level OWNERS file",
            &["/pin-issue"],
        )
        .command(
            "/unpin-issue",
            "Unpins an issue from the repository",
            "Approvers from the top-level OWNERS file",
            &["/unpin-issue"],
        )
        .command(
            "/transfer[-issue] <destination repo in same org>",
            "Transfers an issue to a different repo in the same org.",
            "Org members.",
            &["/transfer-issue kubectl", "/transfer test-infra"],
        )
        .featured()
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        match command(ctx.commands) {
            None => Ok(Vec::new()),
            Some(Command::Link { link, unlink }) => {
                link_issue::handle(ctx, gc, &link, &unlink).await
            }
            Some(Command::Pin(pin)) => pin_issue::handle(ctx, &self.loader, gc, pin).await,
            Some(Command::Transfer) => transfer_issue::handle(ctx, gc).await,
        }
    }
}

/// Whether `user` belongs to `org` (link and transfer are for org members).
async fn is_member(ctx: &Context<'_>, org: &str, user: &str) -> Result<bool, PluginError> {
    ctx.github
        .is_org_member(org, user)
        .await
        .map_err(PluginError::github(format!(
            "unable to fetch if {user} is an org member of {org}"
        )))
}
