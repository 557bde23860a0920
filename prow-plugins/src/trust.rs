//! Who Prow trusts to run tests (trigger's `TrustedUser` and `TrustedPullRequest`).

use prow_config::plugins::Trigger;
use prow_github::client::GitHubClient;
use prow_github::types::Permission;

use super::PluginError;

/// The label that marks a pull request from an untrusted author as safe to test.
pub const OK_TO_TEST: &str = "ok-to-test";
/// The label trigger puts on pull requests waiting for `/ok-to-test`.
pub const NEEDS_OK_TO_TEST: &str = "needs-ok-to-test";

/// What is known about a user, for [`decide`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserFacts {
    /// The user is the bot.
    pub is_bot: bool,
    /// A member of the repository's organisation.
    pub org_member: bool,
    /// A collaborator of the repository (asked only when `only_org_members` is off).
    pub collaborator: bool,
    /// A GitHub App listed in `trusted_apps` (`<app>[bot]`).
    pub trusted_app: bool,
    /// A member of the deprecated `trusted_org`.
    pub trusted_org_member: bool,
}

/// Whether a user with `facts` is trusted under `trigger`, and if not, why (Prow's reasons).
pub fn decide(facts: &UserFacts, trigger: &Trigger) -> Result<(), String> {
    if facts.is_bot || facts.org_member || facts.trusted_app {
        return Ok(());
    }
    if !trigger.only_org_members && facts.collaborator {
        return Ok(());
    }
    if facts.trusted_org_member {
        return Ok(());
    }
    let mut reasons = vec!["not a member of the org".to_owned()];
    if !trigger.only_org_members {
        reasons.push("not a collaborator".to_owned());
    }
    if !trigger.trusted_org.is_empty() {
        reasons.push(format!(
            "not a member of the trusted org {}",
            trigger.trusted_org
        ));
    }
    Err(reasons.join(", "))
}

/// Asks GitHub what [`decide`] needs about `user` in `org/repo`, asking no more than needed.
pub async fn facts(
    github: &dyn GitHubClient,
    trigger: &Trigger,
    bot: &str,
    user: &str,
    org: &str,
    repo: &str,
) -> Result<UserFacts, PluginError> {
    let mut facts = UserFacts {
        is_bot: user.eq_ignore_ascii_case(bot),
        trusted_app: user
            .strip_suffix("[bot]")
            .is_some_and(|app| trigger.trusted_apps.iter().any(|a| a == app)),
        ..UserFacts::default()
    };
    if facts.is_bot || facts.trusted_app {
        return Ok(facts);
    }
    facts.org_member = github
        .is_org_member(org, user)
        .await
        .map_err(PluginError::github(format!(
            "check whether {user} is a member of {org}"
        )))?;
    if facts.org_member {
        return Ok(facts);
    }
    if !trigger.only_org_members {
        let permission = github
            .collaborator_permission(org, repo, user)
            .await
            .map_err(PluginError::github(format!(
                "check whether {user} collaborates on {org}/{repo}"
            )))?;
        facts.collaborator = permission != Permission::None;
        if facts.collaborator {
            return Ok(facts);
        }
    }
    if !trigger.trusted_org.is_empty() && trigger.trusted_org != org {
        facts.trusted_org_member = github
            .is_org_member(&trigger.trusted_org, user)
            .await
            .map_err(PluginError::github(format!(
                "check whether {user} is a member of {}",
                trigger.trusted_org
            )))?;
    }
    Ok(facts)
}

/// Whether `user` is trusted in `org/repo`.
pub async fn trusted_user(
    github: &dyn GitHubClient,
    trigger: &Trigger,
    bot: &str,
    user: &str,
    org: &str,
    repo: &str,
) -> Result<bool, PluginError> {
    let facts = facts(github, trigger, bot, user, org, repo).await?;
    Ok(decide(&facts, trigger).is_ok())
}
