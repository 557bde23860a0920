//! The issue trackers hook's jira and bugzilla plugins talk to, from upstream's flags
//! (`pkg/flagutil/jira.go`, `pkg/flagutil/bugzilla.go`): checked as upstream checks them, then
//! handed to the plugins in place of the tracker-less ones the registry holds.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use prow_plugins::Plugin;
use prow_plugins::plugins::bugzilla::{BugzillaAuth, BugzillaClient, BugzillaPlugin};
use prow_plugins::plugins::jira::{Jira, JiraAuth, JiraClient};

use super::ProcessError;

/// Upstream's `--jira-*` and `--bugzilla-*` flags.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TrackerOptions {
    /// `--jira-endpoint`: the Jira the jira plugin links to; none leaves it idle.
    pub jira_endpoint: Option<String>,
    /// `--jira-username`, for basic auth with `--jira-password-file`.
    pub jira_username: Option<String>,
    /// `--jira-password-file`.
    pub jira_password_file: Option<PathBuf>,
    /// `--jira-bearer-token-file`.
    pub jira_bearer_token_file: Option<PathBuf>,
    /// `--bugzilla-endpoint`: the Bugzilla the bugzilla plugin checks bugs in; none leaves it
    /// idle.
    pub bugzilla_endpoint: Option<String>,
    /// `--bugzilla-api-key-path`; none is anonymous.
    pub bugzilla_api_key_path: Option<PathBuf>,
    /// `--bugzilla-auth-method`: `bearer`, `query`, `x-bugzilla-api-key`, or empty for both
    /// header and query.
    pub bugzilla_auth_method: String,
    /// `--bugzilla-github-external-tracker-id` (0: name GitHub's tracker by URL).
    pub bugzilla_github_external_tracker_id: u64,
}

fn valid_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| u.has_host())
}

fn readable(flag: &str, path: &std::path::Path) -> Result<(), ProcessError> {
    std::fs::metadata(path).map(|_| ()).map_err(|e| {
        ProcessError::Options(format!("failed to get {flag}: {}: {e}", path.display()))
    })
}

impl TrackerOptions {
    /// The Jira client the flags ask for, checked as upstream's `JiraOptions.Validate`.
    pub fn jira(&self) -> Result<Option<JiraClient>, ProcessError> {
        let Some(endpoint) = self.jira_endpoint.as_deref().filter(|e| !e.is_empty()) else {
            return Ok(None);
        };
        if !valid_url(endpoint) {
            return Err(ProcessError::Options(format!(
                "--jira-endpoint {endpoint:?} is invalid"
            )));
        }
        let auth = match (
            &self.jira_username,
            &self.jira_password_file,
            &self.jira_bearer_token_file,
        ) {
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(ProcessError::Options(
                    "--jira-username and --jira-password-file must be specified together".into(),
                ));
            }
            (Some(_), Some(_), Some(_)) => {
                return Err(ProcessError::Options(
                    "--jira-bearer-token-file and --jira-username are mutually exclusive".into(),
                ));
            }
            (Some(username), Some(password_file), None) => {
                readable("--jira-password-file", password_file)?;
                JiraAuth::Basic {
                    username: username.clone(),
                    password_file: password_file.clone(),
                }
            }
            (None, None, Some(token_file)) => {
                readable("--jira-bearer-token-file", token_file)?;
                JiraAuth::Bearer {
                    token_file: token_file.clone(),
                }
            }
            (None, None, None) => JiraAuth::Anonymous,
        };
        Ok(Some(JiraClient::new(endpoint, auth)))
    }

    /// The Bugzilla client the flags ask for, checked as upstream's `BugzillaOptions.Validate`.
    pub fn bugzilla(&self) -> Result<Option<BugzillaClient>, ProcessError> {
        let Some(endpoint) = self.bugzilla_endpoint.as_deref().filter(|e| !e.is_empty()) else {
            return Ok(None);
        };
        if !valid_url(endpoint) {
            return Err(ProcessError::Options(format!(
                "invalid -bugzilla-endpoint URI: {endpoint:?}"
            )));
        }
        let auth =
            BugzillaAuth::parse(&self.bugzilla_auth_method).map_err(ProcessError::Options)?;
        if let Some(path) = &self.bugzilla_api_key_path {
            readable("--bugzilla-api-key-path", path)?;
        } else {
            tracing::info!("empty --bugzilla-api-key-path, will use anonymous Bugzilla client");
        }
        Ok(Some(
            BugzillaClient::new(endpoint, self.bugzilla_api_key_path.clone(), auth)
                .with_github_tracker_id(self.bugzilla_github_external_tracker_id),
        ))
    }

    /// `plugins` with jira and bugzilla talking to the trackers the flags name.
    pub fn plugins(
        &self,
        mut plugins: BTreeMap<&'static str, Arc<dyn Plugin>>,
    ) -> Result<BTreeMap<&'static str, Arc<dyn Plugin>>, ProcessError> {
        if let Some(client) = self.jira()? {
            tracing::info!(
                endpoint = client.url(),
                "the jira plugin links to this Jira"
            );
            let jira: Arc<dyn Plugin> = Arc::new(Jira::new(Some(client)));
            plugins.insert(jira.name(), jira);
        }
        if let Some(client) = self.bugzilla()? {
            tracing::info!(
                endpoint = client.endpoint(),
                "the bugzilla plugin checks bugs in this Bugzilla"
            );
            let bugzilla: Arc<dyn Plugin> = Arc::new(BugzillaPlugin::new(Some(client)));
            plugins.insert(bugzilla.name(), bugzilla);
        }
        Ok(plugins)
    }
}
