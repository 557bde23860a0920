//! crier's Slack reporter (upstream `pkg/crier/reporters/slack`, `pkg/slack`): which jobs are
//! reported (`slack_reporter_configs` by org/repo, org or `*`, overridden per job by
//! `reporter_config.slack`), the message (the Go `report_template`), and posting it to Slack's
//! `chat.postMessage` with the bot token read from a file.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use prow_config::prow::{ProwConfig, SlackReporter as SlackConfig};
use prow_core::reporting::SlackReporterConfig as JobSlackConfig;
use prow_core::{ProwJob, Refs};

use super::CrierError;
use super::reporter::JobReporter;

/// The reporter's name: its key in `status.prev_report_states`.
pub const SLACK_REPORTER_NAME: &str = "slackreporter";

/// Slack's Web API, where `chat.postMessage` lives.
pub const DEFAULT_SLACK_API: &str = "https://slack.com/api";

/// The name and icon Prow's messages carry.
const BOT_NAME: &str = "prow";
const BOT_ICON_EMOJI: &str = ":prow:";

/// A message to post.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlackMessage {
    /// The Slack workspace host (empty: the default token's).
    pub host: String,
    /// The channel.
    pub channel: String,
    /// The text.
    pub text: String,
}

impl SlackMessage {
    /// `text` for `channel` on the Slack `host` (empty: the default token's).
    pub fn new(host: &str, channel: &str, text: &str) -> Self {
        SlackMessage {
            host: host.to_owned(),
            channel: channel.to_owned(),
            text: text.to_owned(),
        }
    }
}

/// The settings in force for `job`: the global entry for its repository (`org/repo`, then
/// `org`, then `*`; the first of `extra_refs` when it has no `refs`) and its own
/// `reporter_config.slack`.
pub fn slack_settings<'a>(
    job: &'a ProwJob,
    configs: &'a BTreeMap<String, SlackConfig>,
) -> (Option<&'a SlackConfig>, Option<&'a JobSlackConfig>) {
    let refs: Option<&Refs> = job.spec.refs.as_ref().or(job.spec.extra_refs.first());
    let global = match refs {
        Some(r) => configs
            .get(&format!("{}/{}", r.org, r.repo))
            .or_else(|| configs.get(&r.org))
            .or_else(|| configs.get("*")),
        None => configs.get("*"),
    };
    let own = job
        .spec
        .reporter_config
        .as_ref()
        .and_then(|r| r.slack.as_ref());
    (global, own)
}

/// Whether the Slack reporter reports `job` now, as upstream's `ShouldReport`: its type is in
/// the global `job_types_to_report` or the job names a channel of its own, unless the job's
/// `report` says otherwise; and its state is in `job_states_to_report` (the job's list, else
/// the global one).
pub fn should_report_slack(job: &ProwJob, configs: &BTreeMap<String, SlackConfig>) -> bool {
    let (global, own) = slack_settings(job, configs);
    let type_reports = global.is_some_and(|g| {
        g.job_types_to_report
            .iter()
            .any(|t| t == job.spec.job_type.as_str())
    });
    // A channel on the job itself means it wants reporting whatever the types say.
    let job_reports = own.is_some_and(|o| !o.channel.is_empty());
    let mut reports = type_reports || job_reports;
    if let Some(report) = own.and_then(|o| o.report) {
        reports = report;
    }
    let Some(state) = job.state() else {
        return false;
    };
    let state_reports = match own.and_then(|o| o.job_states_to_report.as_ref()) {
        Some(states) => states.contains(&state),
        None => global
            .and_then(|g| g.job_states_to_report.as_ref())
            .is_some_and(|states| states.iter().any(|s| s == state.as_str())),
    };
    reports && state_reports
}

/// The message for `job`: channel and host from the job's own settings over the global ones,
/// and the job's `report_template` (else the global one) rendered over it.
pub fn slack_message(
    job: &ProwJob,
    configs: &BTreeMap<String, SlackConfig>,
) -> Result<SlackMessage, String> {
    let (global, own) = slack_settings(job, configs);
    if global.is_none() && own.is_none() {
        return Err("no slack reporter config for the job".to_owned());
    }
    let pick = |own: Option<&str>, global: Option<&str>| {
        own.filter(|s| !s.is_empty())
            .or(global)
            .unwrap_or_default()
            .to_owned()
    };
    let channel = pick(
        own.map(|o| o.channel.as_str()),
        global.map(|g| g.channel.as_str()),
    );
    let host = pick(
        own.map(|o| o.host.as_str()),
        global.map(|g| g.host.as_str()),
    );
    let template = pick(
        own.map(|o| o.report_template.as_str()),
        global.map(|g| g.report_template.as_str()),
    );
    if channel.is_empty() {
        return Err("no slack channel for the job".to_owned());
    }
    let text = crate::template::render("slack_report_template", &template, job)
        .map_err(|e| format!("failed to generate report: {e}"))?;
    Ok(SlackMessage {
        host,
        channel,
        text,
    })
}

/// Posts messages with `chat.postMessage`, one bot token per Slack host.
#[derive(Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    api: String,
    default_token: String,
    host_tokens: HashMap<String, String>,
}

impl std::fmt::Debug for SlackClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackClient")
            .field("api", &self.api)
            .field("hosts", &self.host_tokens.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl SlackClient {
    /// A client with the token `token` for every host, talking to `api` (Slack's is
    /// [`DEFAULT_SLACK_API`]).
    pub fn new(api: &str, token: &str) -> Self {
        SlackClient {
            http: reqwest::Client::new(),
            api: api.trim_end_matches('/').to_owned(),
            default_token: token.trim().to_owned(),
            host_tokens: HashMap::new(),
        }
    }

    /// A client whose token is read from `path` (upstream's `--slack-token-file`).
    pub fn from_token_file(api: &str, path: &Path) -> Result<Self, String> {
        let token = std::fs::read_to_string(path)
            .map_err(|e| format!("read slack token file {}: {e}", path.display()))?;
        if token.trim().is_empty() {
            return Err(format!("slack token file {} is empty", path.display()));
        }
        Ok(SlackClient::new(api, &token))
    }

    /// The same client with `token` for messages to the Slack `host`
    /// (upstream's `--additional-slack-token-files host=path`).
    pub fn with_host_token(mut self, host: &str, token: &str) -> Self {
        self.host_tokens
            .insert(host.to_owned(), token.trim().to_owned());
        self
    }

    /// Posts `message` as upstream's `WriteMessage`: a form with the bot's name and icon,
    /// the token, the channel and the text; Slack answers `{"ok": …, "error": …}`.
    pub async fn post(&self, message: &SlackMessage) -> Result<(), String> {
        let token = self
            .host_tokens
            .get(&message.host)
            .unwrap_or(&self.default_token);
        let form = form_encode(&[
            ("username", BOT_NAME),
            ("icon_emoji", BOT_ICON_EMOJI),
            ("token", token),
            ("channel", &message.channel),
            ("text", &message.text),
        ]);
        let fail =
            |reason: String| format!("failed to post message to {}: {reason}", message.channel);
        let response = self
            .http
            .post(format!("{}/chat.postMessage", self.api))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| fail(e.to_string()))?;
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(default)]
            ok: bool,
            #[serde(default)]
            error: String,
        }
        let answer: Answer = serde_json::from_str(&body)
            .map_err(|e| fail(format!("API returned invalid JSON ({body:?}): {e}")))?;
        if !status.is_success() || !answer.ok {
            return Err(fail(format!("request failed: {}", answer.error)));
        }
        Ok(())
    }
}

/// `application/x-www-form-urlencoded`, as Go's `url.Values.Encode` (spaces as `+`).
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(char::from(b));
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// crier's Slack reporter.
#[derive(Debug, Clone)]
pub struct SlackReporter {
    client: SlackClient,
}

impl SlackReporter {
    /// A reporter posting through `client`.
    pub fn new(client: SlackClient) -> Self {
        SlackReporter { client }
    }
}

#[async_trait::async_trait]
impl JobReporter for SlackReporter {
    fn name(&self) -> &'static str {
        SLACK_REPORTER_NAME
    }

    fn should_report(&self, job: &ProwJob, config: &ProwConfig) -> bool {
        should_report_slack(job, &config.slack_reporter_configs)
    }

    async fn report(&self, job: &ProwJob, config: &ProwConfig) -> Result<String, CrierError> {
        let slack_error = |reason| CrierError::Slack {
            job: job.name().to_owned(),
            reason,
        };
        let message = slack_message(job, &config.slack_reporter_configs).map_err(slack_error)?;
        self.client.post(&message).await.map_err(slack_error)?;
        Ok(format!("posted to slack channel {}", message.channel))
    }
}
