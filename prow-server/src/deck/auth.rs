//! Who may rerun and abort jobs from deck: Prow's `rerun_auth_configs`, with the user named by
//! a header that a trusted authenticating proxy in front of deck sets.
//!
//! Deck trusts no user header by default: anyone reaching its port could send one. An
//! operator who runs deck behind a proxy (oauth2-proxy, an ingress with GitHub login, ...)
//! that authenticates the user, drops the client's own header and passes the GitHub login in
//! its place names that header with `Deck::trusted_proxy_header` ([`DEFAULT_USER_HEADER`] is
//! the usual one). Without it only jobs whose configuration says `allow_anyone: true` can be
//! rerun or aborted.

use prow_config::prow::Deck;
use prow_core::{ProwJobSpec, RerunAuthConfig};
use prow_github::client::GitHubClient;

/// The header oauth2-proxy passes the user's GitHub login in: the usual value for
/// `Deck::trusted_proxy_header` (deck reads no header unless told to).
pub const DEFAULT_USER_HEADER: &str = "X-Forwarded-User";

/// The rerun authorisation deck's configuration gives a job: the last of
/// `default_rerun_auth_configs` (the older `rerun_auth_configs` map is turned into those at
/// load) that matches the job's org/repo and cluster (Prow's `GetRerunAuthConfig`).
pub fn config_for<'a>(deck: &'a Deck, spec: &ProwJobSpec) -> Option<&'a RerunAuthConfig> {
    let org_repo = spec
        .refs
        .as_ref()
        .or(spec.extra_refs.first())
        .map(|r| format!("{}/{}", r.org, r.repo))
        .unwrap_or_default();
    let mut found = None;
    let entries: Vec<(&str, &str, Option<&RerunAuthConfig>)> =
        if deck.default_rerun_auth_configs.is_empty() {
            // A config built in code (not loaded) may still use the map form only.
            deck.rerun_auth_configs
                .iter()
                .map(|(k, v)| (k.as_str(), "", Some(v)))
                .collect()
        } else {
            deck.default_rerun_auth_configs
                .iter()
                .map(|e| (e.org_repo.as_str(), e.cluster.as_str(), e.config.as_ref()))
                .collect()
        };
    let mut entries = entries;
    if deck.default_rerun_auth_configs.is_empty() {
        // The map form applies `*`, then orgs, then repos.
        entries.sort_by_key(|(key, _, _)| match *key {
            "*" | "" => 0,
            k if !k.contains('/') => 1,
            _ => 2,
        });
    }
    for (repo, cluster, config) in entries {
        if entry_matches(repo, cluster, &org_repo, &spec.cluster) {
            found = config;
        }
    }
    found
}

/// Whether an entry for `given_repo` and `given_cluster` applies to a job of `repo` (org/repo)
/// on `cluster`.
fn entry_matches(given_repo: &str, given_cluster: &str, repo: &str, cluster: &str) -> bool {
    if !given_cluster.is_empty() && given_cluster != "*" && given_cluster != cluster {
        return false;
    }
    given_repo.is_empty()
        || given_repo == "*"
        || given_repo == repo
        || repo.split('/').next() == Some(given_repo)
}

/// What deck decides before asking GitHub anything.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Allowed; `user` is who asked when known.
    Allowed {
        /// The user's login, when the request carried one.
        user: Option<String>,
    },
    /// Refused, with why (shown after Prow's "You don't have permission" text).
    Denied {
        /// Why, in words.
        reason: String,
    },
    /// Allowed only if `user` belongs to one of these orgs or teams.
    AskGitHub {
        /// The user's login.
        user: String,
        /// Orgs whose members may act.
        orgs: Vec<String>,
        /// Teams (org, slug) whose members may act.
        teams: Vec<(String, String)>,
    },
}

/// Decides from the configuration alone whether `user` may rerun or abort a job whose spec
/// carries `job_config` and to which deck's configuration gives `deck_config` (Prow's
/// `isAllowedToRerun` without the pull request author fallback).
pub fn decide(
    deck_config: Option<&RerunAuthConfig>,
    job_config: Option<&RerunAuthConfig>,
    user: Option<&str>,
    header: Option<&str>,
) -> Decision {
    let configs: Vec<&RerunAuthConfig> = deck_config.into_iter().chain(job_config).collect();
    if configs.iter().any(|c| c.allow_anyone) {
        return Decision::Allowed {
            user: user.map(str::to_owned),
        };
    }
    let Some(user) = user.filter(|u| !u.is_empty()) else {
        let reason = match header {
            Some(header) => format!(
                "no GitHub login in the {header} header: deck needs an authenticating proxy \
                 to act on jobs unless 'allow_anyone: true' is specified"
            ),
            None => "deck knows no user: it has neither GitHub login nor a trusted proxy \
                     header, so only jobs with 'allow_anyone: true' can be acted on"
                .to_owned(),
        };
        return Decision::Denied { reason };
    };
    if configs.iter().any(|c| c.allows_user(user)) {
        return Decision::Allowed {
            user: Some(user.to_owned()),
        };
    }
    let orgs: Vec<String> = configs
        .iter()
        .flat_map(|c| c.github_orgs.iter().cloned())
        .collect();
    let teams: Vec<(String, String)> = configs
        .iter()
        .flat_map(|c| {
            c.github_team_slugs
                .iter()
                .map(|t| (t.org.clone(), t.slug.clone()))
        })
        .collect();
    if orgs.is_empty() && teams.is_empty() {
        return Decision::Denied {
            reason: format!("{user} is not allowed by the rerun_auth_config"),
        };
    }
    Decision::AskGitHub {
        user: user.to_owned(),
        orgs,
        teams,
    }
}

/// Carries a [`Decision::AskGitHub`] out against GitHub: allowed when the user is a member of
/// one of the orgs or teams. Without a GitHub client, membership cannot be checked and the
/// answer is no.
pub async fn resolve(
    decision: Decision,
    github: Option<&dyn GitHubClient>,
) -> Result<Decision, String> {
    let Decision::AskGitHub { user, orgs, teams } = decision else {
        return Ok(decision);
    };
    let Some(github) = github else {
        return Ok(Decision::Denied {
            reason: "no GitHub client to check org and team membership".to_owned(),
        });
    };
    for org in &orgs {
        let member = github
            .is_org_member(org, &user)
            .await
            .map_err(|e| format!("GitHub failed to fetch members of org {org}: {e}"))?;
        if member {
            return Ok(Decision::Allowed { user: Some(user) });
        }
    }
    for (org, slug) in &teams {
        let member = github.is_team_member(org, slug, &user).await.map_err(|e| {
            format!("GitHub failed to check if team with slug {slug} has member {user}: {e}")
        })?;
        if member {
            return Ok(Decision::Allowed { user: Some(user) });
        }
    }
    Ok(Decision::Denied {
        reason: format!("{user} is in none of the allowed orgs and teams"),
    })
}
