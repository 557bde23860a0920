//! A GitHub App installed in many organisations, as upstream's App auth round tripper: one
//! installation token per organisation, looked up with the App's JWT (`GET
//! /app/installations`), minted on first use (`POST /app/installations/{id}/access_tokens`),
//! replaced a minute before it expires, and chosen by the organisation each call names.
//! A call for an organisation the App is not installed in fails naming it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::Deserialize;

use crate::client::{ApiUsage, DraftReview, GitHubClient, NewPullRequest, Result};
use crate::error::Error;
use crate::octo::{Method, OctocrabClient};
use crate::query::split_query;
use crate::types::{
    BranchHead, BranchProtection, BranchProtectionRequest, CheckRun, CombinedStatus, Comment,
    CommitInfo, Issue, Label, MergeRequest, Milestone, Permission, PullRequest, PullRequestFile,
    RateLimit, Repo, Review, Status, User,
};

/// How long before it expires an installation token is replaced (upstream: one minute).
pub const REFRESH_BEFORE: Duration = Duration::from_secs(60);

/// The wall clock installation tokens' expiry is compared with.
pub trait WallClock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemWallClock;

impl WallClock for SystemWallClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// One organisation's installation: its client (with the current token) and when the
/// token expires.
#[derive(Debug, Clone)]
struct Minted {
    client: OctocrabClient,
    expires_at: SystemTime,
}

/// A GitHub App acting through its installation in the organisation each call names.
#[derive(Debug)]
pub struct AppClient {
    endpoint: String,
    app_id: u64,
    /// The App itself (JWT auth): installations and tokens.
    app: OctocrabClient,
    clock: Arc<dyn WallClock>,
    /// Installation IDs by organisation login (lowercase), from the last listing.
    installations: Mutex<BTreeMap<String, u64>>,
    /// Each installation's current token and client.
    minted: Mutex<HashMap<u64, Minted>>,
    /// Held while listing installations or minting a token, so concurrent calls for one
    /// organisation mint one token.
    minting: tokio::sync::Mutex<()>,
}

/// An installation as `GET /app/installations` lists it.
#[derive(Debug, Deserialize)]
struct Installation {
    id: u64,
    account: Account,
}

#[derive(Debug, Deserialize)]
struct Account {
    login: String,
}

/// A minted token as GitHub answers it.
#[derive(Debug, Deserialize)]
struct Token {
    token: String,
    expires_at: String,
}

impl AppClient {
    /// The App `app_id` at `endpoint`, signing its JWTs with `private_key_pem` (its RSA key).
    /// Nothing is asked of GitHub until the first call.
    pub fn new(endpoint: &str, app_id: u64, private_key_pem: &[u8]) -> Result<Self> {
        Ok(AppClient {
            endpoint: endpoint.to_owned(),
            app_id,
            app: OctocrabClient::app(endpoint, app_id, private_key_pem)?,
            clock: Arc::new(SystemWallClock),
            installations: Mutex::default(),
            minted: Mutex::default(),
            minting: tokio::sync::Mutex::new(()),
        })
    }

    /// The same App comparing token expiry with `clock` (tests).
    pub fn with_clock(mut self, clock: Arc<dyn WallClock>) -> Self {
        self.clock = clock;
        self
    }

    /// The client acting as the App's installation in `org`, with a token valid for at
    /// least [`REFRESH_BEFORE`].
    pub async fn client_for(&self, org: &str) -> Result<OctocrabClient> {
        let key = org.to_lowercase();
        if let Some(client) = self.fresh(&key) {
            return Ok(client);
        }
        let _minting = self.minting.lock().await;
        // Another call may have minted it while this one waited.
        if let Some(client) = self.fresh(&key) {
            return Ok(client);
        }
        let id = self.installation_id(org, &key).await?;
        let what = format!(
            "mint a token for installation {id} of github app {} in {org}",
            self.app_id
        );
        let response = self
            .app
            .send(
                Method::Post,
                &what,
                &format!("/app/installations/{id}/access_tokens"),
                None,
            )
            .await?;
        let token: Token = crate::octo::decode(&what, &response.body)?;
        let expires_at = parse_time(&token.expires_at).map_err(|message| Error::Api {
            what: what.clone(),
            status: response.status,
            message,
        })?;
        let client =
            OctocrabClient::with_token_counting(&self.endpoint, &token.token, self.app.counters())?;
        tracing::info!(
            org,
            installation = id,
            "minted a github app installation token"
        );
        self.minted_map().insert(
            id,
            Minted {
                client: client.clone(),
                expires_at,
            },
        );
        Ok(client)
    }

    /// The organisations the App is installed in (asked of GitHub).
    pub async fn installed_orgs(&self) -> Result<Vec<String>> {
        let _minting = self.minting.lock().await;
        self.list_installations().await?;
        Ok(self.installations_map().keys().cloned().collect())
    }

    fn installations_map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.installations.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn minted_map(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Minted>> {
        self.minted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The installation client of `key` (a lowercase login) if its token is still fresh.
    fn fresh(&self, key: &str) -> Option<OctocrabClient> {
        let id = *self.installations_map().get(key)?;
        let minted = self.minted_map();
        let minted = minted.get(&id)?;
        let deadline = minted.expires_at.checked_sub(REFRESH_BEFORE)?;
        (self.clock.now() < deadline).then(|| minted.client.clone())
    }

    /// The installation of `org`, listing the App's installations again when it is unknown.
    async fn installation_id(&self, org: &str, key: &str) -> Result<u64> {
        if let Some(id) = self.installations_map().get(key) {
            return Ok(*id);
        }
        self.list_installations().await?;
        self.installations_map()
            .get(key)
            .copied()
            .ok_or_else(|| Error::NotInstalled {
                app_id: self.app_id,
                org: org.to_owned(),
            })
    }

    async fn list_installations(&self) -> Result<()> {
        let what = format!("list the installations of github app {}", self.app_id);
        let found: Vec<Installation> = self
            .app
            .all_pages(&what, "/app/installations", None)
            .await?;
        let map: BTreeMap<String, u64> = found
            .into_iter()
            .map(|i| (i.account.login.to_lowercase(), i.id))
            .collect();
        tracing::debug!(orgs = ?map.keys().collect::<Vec<_>>(), "github app installations");
        *self.installations_map() = map;
        Ok(())
    }

    /// Every installed organisation's client (for calls that name none).
    async fn every_installation(&self) -> Result<Vec<OctocrabClient>> {
        let mut clients = Vec::new();
        for org in self.installed_orgs().await? {
            clients.push(self.client_for(&org).await?);
        }
        Ok(clients)
    }
}

/// An RFC 3339 time such as GitHub's `2016-07-11T22:14:10Z`.
fn parse_time(text: &str) -> std::result::Result<SystemTime, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(SystemTime::from)
        .map_err(|e| format!("expires_at {text:?}: {e}"))
}

/// Implements [`GitHubClient`] for [`AppClient`]: the methods in `by_org` go to the
/// installation of the organisation named by their `org` argument; the rest are written out.
macro_rules! app_client_impl {
    (
        by_org {
            $( fn $name:ident(&self, $org:ident: &str $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )*
        }
        $($rest:tt)*
    ) => {
        #[async_trait]
        impl GitHubClient for AppClient {
            $(
                async fn $name(&self, $org: &str $(, $arg: $ty)*) -> Result<$ret> {
                    self.client_for($org).await?.$name($org $(, $arg)*).await
                }
            )*
            $($rest)*
        }
    };
}

app_client_impl! {
    by_org {
        fn pull_request(&self, org: &str, repo: &str, number: u64) -> PullRequest;
        fn pull_request_files(&self, org: &str, repo: &str, number: u64) -> Vec<PullRequestFile>;
        fn pull_request_commits(&self, org: &str, repo: &str, number: u64) -> Vec<CommitInfo>;
        fn reviews(&self, org: &str, repo: &str, number: u64) -> Vec<Review>;
        fn request_review(&self, org: &str, repo: &str, number: u64, logins: &[String]) -> ();
        fn unrequest_review(&self, org: &str, repo: &str, number: u64, logins: &[String]) -> ();
        fn create_comment_reaction(&self, org: &str, repo: &str, comment_id: u64, reaction: &str) -> ();
        fn create_issue_reaction(&self, org: &str, repo: &str, number: u64, reaction: &str) -> ();
        fn milestones(&self, org: &str, repo: &str) -> Vec<Milestone>;
        fn set_milestone(&self, org: &str, repo: &str, number: u64, milestone: Option<u64>) -> ();
        fn close_issue(&self, org: &str, repo: &str, number: u64, not_planned: bool) -> ();
        fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> ();
        fn edit_issue_body(&self, org: &str, repo: &str, number: u64, body: &str) -> ();
        fn edit_issue_title(&self, org: &str, repo: &str, number: u64, title: &str) -> ();
        fn merge(&self, org: &str, repo: &str, number: u64, request: &MergeRequest) -> ();
        fn combined_status(&self, org: &str, repo: &str, git_ref: &str) -> CombinedStatus;
        fn check_runs(&self, org: &str, repo: &str, git_ref: &str) -> Vec<CheckRun>;
        fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> ();
        fn issue_labels(&self, org: &str, repo: &str, number: u64) -> Vec<Label>;
        fn add_labels(&self, org: &str, repo: &str, number: u64, labels: &[String]) -> ();
        fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> ();
        fn repo_labels(&self, org: &str, repo: &str) -> Vec<Label>;
        fn create_repo_label(&self, org: &str, repo: &str, label: &Label) -> ();
        fn update_repo_label(&self, org: &str, repo: &str, name: &str, label: &Label) -> ();
        fn issue_comments(&self, org: &str, repo: &str, number: u64) -> Vec<Comment>;
        fn create_comment(&self, org: &str, repo: &str, number: u64, body: &str) -> u64;
        fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> ();
        fn delete_comment(&self, org: &str, repo: &str, id: u64) -> ();
        fn add_assignees(&self, org: &str, repo: &str, number: u64, logins: &[String]) -> ();
        fn remove_assignees(&self, org: &str, repo: &str, number: u64, logins: &[String]) -> ();
        fn collaborator_permission(&self, org: &str, repo: &str, user: &str) -> Permission;
        fn is_org_member(&self, org: &str, user: &str) -> bool;
        fn is_team_member(&self, org: &str, team_slug: &str, user: &str) -> bool;
        fn file_contents(&self, org: &str, repo: &str, path: &str, git_ref: &str) -> Option<Vec<u8>>;
        fn ref_sha(&self, org: &str, repo: &str, git_ref: &str) -> String;
        fn branches(&self, org: &str, repo: &str) -> Vec<BranchHead>;
        fn branch_protection(&self, org: &str, repo: &str, branch: &str) -> Option<BranchProtection>;
        fn commit_tree(&self, org: &str, repo: &str, sha: &str) -> String;
        fn create_review(&self, org: &str, repo: &str, number: u64, review: &DraftReview) -> ();
        fn git_remote(&self, org: &str, repo: &str) -> String;
        fn create_pull_request(&self, org: &str, repo: &str, new: &NewPullRequest) -> u64;
        fn pull_requests(&self, org: &str, repo: &str) -> Vec<PullRequest>;
        fn org_members(&self, org: &str) -> Vec<String>;
        fn create_issue(&self, org: &str, repo: &str, title: &str, body: &str, assignees: &[String]) -> u64;
        fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> ();
        fn update_branch_protection(&self, org: &str, repo: &str, branch: &str, request: &BranchProtectionRequest) -> ();
        fn remove_branch_protection(&self, org: &str, repo: &str, branch: &str) -> ();
        fn set_required_signatures(&self, org: &str, repo: &str, branch: &str, required: bool) -> ();
        fn branches_by_protection(&self, org: &str, repo: &str, protected: bool) -> Vec<BranchHead>;
        fn repository(&self, org: &str, repo: &str) -> Repo;
        fn org_repos(&self, org: &str) -> Vec<Repo>;
        fn blame(&self, org: &str, repo: &str, git_ref: &str, path: &str) -> Vec<crate::types::BlameRange>;
        fn merge_base(&self, org: &str, repo: &str, base: &str, head: &str) -> String;
        fn label_added_by(&self, org: &str, repo: &str, number: u64, label: &str) -> Option<String>;
        // Classic projects (project, project-manager).
        fn repo_projects(&self, org: &str, repo: &str) -> Vec<crate::types::Project>;
        fn org_projects(&self, org: &str) -> Vec<crate::types::Project>;
        fn project_columns(&self, org: &str, project_id: u64) -> Vec<crate::types::ProjectColumn>;
        fn column_cards(&self, org: &str, column_id: u64) -> Vec<crate::types::ProjectCard>;
        fn create_project_card(&self, org: &str, column_id: u64, content: crate::types::CardContent) -> crate::types::ProjectCard;
        fn move_project_card(&self, org: &str, card_id: u64, column_id: u64) -> ();
        fn delete_project_card(&self, org: &str, card_id: u64) -> ();
        fn team_has_member(&self, org: &str, team_id: u64, user: &str) -> bool;
        // issue-management: transfer, pin.
        fn issue(&self, org: &str, repo: &str, number: u64) -> Issue;
        fn pin_issue(&self, org: &str, issue_id: &str) -> ();
        fn unpin_issue(&self, org: &str, issue_id: &str) -> ();
        fn transfer_issue(&self, org: &str, issue_id: &str, repo_id: &str) -> String;
    }

    /// Users are global: any installation may search them.
    async fn users_by_email(&self, email: &str) -> Result<Vec<String>> {
        let installations = self.every_installation().await?;
        match installations.first() {
            Some(client) => client.users_by_email(email).await,
            None => Err(Error::NotFound {
                what: format!("an installation of github app {}", self.app_id),
            }),
        }
    }

    /// The App's bot account, `<slug>[bot]` (an installation token may not read `/user`).
    async fn bot_user(&self) -> Result<User> {
        #[derive(Deserialize)]
        struct App {
            slug: String,
        }
        let what = format!("get github app {}", self.app_id);
        let response = self.app.send(Method::Get, &what, "/app", None).await?;
        let app: App = crate::octo::decode(&what, &response.body)?;
        Ok(User {
            login: format!("{}[bot]", app.slug),
            kind: "Bot".to_owned(),
            ..User::default()
        })
    }

    /// A fork lives with the user, but the installation acting is the one of `org`.
    async fn ensure_fork(&self, user: &str, org: &str, repo: &str) -> Result<String> {
        self.client_for(org).await?.ensure_fork(user, org, repo).await
    }

    /// Each organisation a query names is searched with its own installation (upstream's
    /// `OrgQueries`); a query naming none searches every installation.
    async fn search_issues(&self, query: &str) -> Result<Vec<Issue>> {
        let (by_org, rest) = split_query(query);
        let mut found = Vec::new();
        if by_org.is_empty() {
            for client in self.every_installation().await? {
                found.extend(client.search_issues(query).await?);
            }
            let mut seen = std::collections::BTreeSet::new();
            found.retain(|i: &Issue| seen.insert((i.repository_url.clone(), i.number)));
            return Ok(found);
        }
        for (org, terms) in by_org {
            let mut scoped = rest.clone();
            scoped.extend(terms);
            found.extend(self.client_for(&org).await?.search_issues(&scoped.join(" ")).await?);
        }
        Ok(found)
    }

    /// The lowest remaining budget among the installations (each has its own).
    async fn rate_limit(&self) -> Result<RateLimit> {
        let mut lowest: Option<RateLimit> = None;
        for client in self.every_installation().await? {
            let limit = client.rate_limit().await?;
            if lowest.as_ref().is_none_or(|l| limit.remaining < l.remaining) {
                lowest = Some(limit);
            }
        }
        lowest.ok_or_else(|| Error::NotFound {
            what: format!("an installation of github app {}", self.app_id),
        })
    }

    /// Requests and cache hits of the App and every installation, and the lowest budget
    /// any installation last reported.
    fn api_usage(&self) -> Option<ApiUsage> {
        let stats = self.app.stats();
        let rate_limit = self
            .minted_map()
            .values()
            .filter_map(|m| m.client.rate_limit_seen())
            .min_by_key(|l| l.remaining);
        Some(ApiUsage {
            requests: stats.requests,
            cache_hits: stats.cache_hits,
            rate_limit,
        })
    }
}

#[cfg(test)]
mod tests {
    /// Every trait method that names an organisation is routed to that organisation's
    /// installation: a method with a default body left out of `by_org` would quietly answer
    /// "unsupported" for Apps.
    #[test]
    fn every_org_method_of_the_trait_is_routed_by_org() {
        let trait_source = include_str!("client.rs");
        let trait_body = &trait_source[trait_source
            .find("pub trait GitHubClient")
            .expect("the trait")..];
        let app_source = include_str!("app.rs");
        let routed = &app_source[app_source.find("    by_org {").expect("by_org")..];
        let mut missing = Vec::new();
        for line in trait_body.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("async fn ") else {
                continue;
            };
            let name = rest.split('(').next().unwrap_or_default();
            let names_org = trait_body
                .split(&format!("async fn {name}("))
                .nth(1)
                .is_some_and(|after| {
                    after
                        .split(')')
                        .next()
                        .is_some_and(|args| args.contains("org: &str"))
                });
            let elsewhere = ["bot_user", "ensure_fork", "search_issues", "rate_limit"];
            if names_org
                && !elsewhere.contains(&name)
                && !routed.contains(&format!("fn {name}(&self, org: &str"))
            {
                missing.push(name.to_owned());
            }
        }
        assert!(missing.is_empty(), "not routed by org: {missing:?}");
    }
}
