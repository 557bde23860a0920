//! Per-job reporting, rerun permissions and ProwJob defaults.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::prowjob::ProwJobState;
use crate::serde_util::is_false;

/// Where a job reports besides GitHub.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReporterConfig {
    /// Slack reporting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<SlackReporterConfig>,
}

/// How a job reports to Slack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SlackReporterConfig {
    /// The Slack workspace host.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// The channel to post to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// The job states that are reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_states_to_report: Option<Vec<ProwJobState>>,
    /// A Go template for the message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub report_template: String,
    /// Whether to report at all; Prow sets it to false when `job_states_to_report` is an
    /// explicit empty list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<bool>,
}

impl SlackReporterConfig {
    /// Fills unset fields from `default`.
    pub fn apply_default(&mut self, default: &SlackReporterConfig) {
        if self.channel.is_empty() {
            self.channel.clone_from(&default.channel);
        }
        if self.host.is_empty() {
            self.host.clone_from(&default.host);
        }
        if self.job_states_to_report.is_none() {
            self.job_states_to_report
                .clone_from(&default.job_states_to_report);
        }
        if self.report_template.is_empty() {
            self.report_template.clone_from(&default.report_template);
        }
        if self.report.is_none() {
            self.report = default.report;
        }
    }
}

/// A GitHub team named by slug.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitHubTeamSlug {
    /// The team's slug.
    pub slug: String,
    /// The organisation the team belongs to.
    pub org: String,
}

/// Who may rerun a job from deck.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RerunAuthConfig {
    /// Anyone may rerun.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_anyone: bool,
    /// Members of these team IDs may rerun.
    #[serde(
        default,
        rename = "github_team_ids",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub github_team_ids: Vec<i64>,
    /// Members of these teams may rerun.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub github_team_slugs: Vec<GitHubTeamSlug>,
    /// These GitHub users may rerun.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub github_users: Vec<String>,
    /// Members of these organisations may rerun.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub github_orgs: Vec<String>,
}

impl RerunAuthConfig {
    /// Rejects `allow_anyone` together with an allow list, like Prow.
    pub fn validate(&self) -> Result<(), String> {
        let has_allow_list = !self.github_users.is_empty()
            || !self.github_team_ids.is_empty()
            || !self.github_team_slugs.is_empty()
            || !self.github_orgs.is_empty();
        if self.allow_anyone && has_allow_list {
            return Err(
                "allow anyone is set to true and permitted users or groups are specified"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Whether `user` is listed by login (case-insensitive, `@` ignored); org and team
    /// membership need GitHub and are checked by the caller.
    pub fn allows_user(&self, user: &str) -> bool {
        let norm = |login: &str| login.trim_start_matches('@').to_lowercase();
        self.allow_anyone || self.github_users.iter().any(|u| norm(u) == norm(user))
    }
}

/// Defaults stamped on ProwJobs (`prowjob_defaults` and `prowjob_default_entries`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProwJobDefault {
    /// Where ResultStore uploads go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resultstore_config: Option<ResultStoreConfig>,
    /// The tenant the job belongs to, for deck's multi-tenant views.
    #[serde(
        default,
        rename = "tenant_id",
        skip_serializing_if = "String::is_empty"
    )]
    pub tenant_id: String,
}

/// The tenant ID Prow gives jobs that name none.
pub const DEFAULT_TENANT_ID: &str = "GlobalDefaultID";

impl ProwJobDefault {
    /// Fills unset fields from `default`.
    pub fn apply_default(&mut self, default: &ProwJobDefault) {
        if self.resultstore_config.is_none() {
            self.resultstore_config
                .clone_from(&default.resultstore_config);
        }
        if self.tenant_id.is_empty() {
            self.tenant_id.clone_from(&default.tenant_id);
        }
    }
}

/// ResultStore settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResultStoreConfig {
    /// The GCP project that owns the results.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rerun_auth_rejects_anyone_with_allow_list() {
        let ok = RerunAuthConfig {
            allow_anyone: true,
            ..RerunAuthConfig::default()
        };
        assert_eq!(ok.validate(), Ok(()));
        assert!(ok.allows_user("anybody"));
        let bad = RerunAuthConfig {
            allow_anyone: true,
            github_users: vec!["alice".into()],
            ..RerunAuthConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err(),
            "allow anyone is set to true and permitted users or groups are specified"
        );
        let users = RerunAuthConfig {
            github_users: vec!["Alice".into()],
            ..RerunAuthConfig::default()
        };
        assert!(users.allows_user("@alice"));
        assert!(!users.allows_user("bob"));
    }

    #[test]
    fn slack_defaults_fill_only_unset_fields() {
        let mut job = SlackReporterConfig {
            channel: "job".into(),
            job_states_to_report: Some(vec![]),
            ..SlackReporterConfig::default()
        };
        job.apply_default(&SlackReporterConfig {
            channel: "default".into(),
            host: "h".into(),
            job_states_to_report: Some(vec![ProwJobState::Failure]),
            report: Some(true),
            ..SlackReporterConfig::default()
        });
        assert_eq!(job.channel, "job");
        assert_eq!(job.host, "h");
        assert_eq!(job.job_states_to_report, Some(vec![]));
        assert_eq!(job.report, Some(true));
    }
}
