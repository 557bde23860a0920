//! Prow's defaults and load-time rules for the component configuration (`parseProwConfig`,
//! `validateComponentConfig`), reporting every problem with its field path.

use std::collections::BTreeMap;
use std::path::Path;

use prow_core::{Duration, MetaDuration};

use super::tide::parse_merge_method;
use super::{DefaultRerunAuthConfigEntry, LensConfig, LensFileConfig, ProwConfig, PubSubTrigger};
use crate::error::Finding;
use crate::locate::{Anchor, Lines, parse_field_path};

/// Slack's report template when a reporter sets none.
const SLACK_REPORT_TEMPLATE: &str = "Job {{.Spec.Job}} of type {{.Spec.Type}} ended with state {{.Status.State}}. <{{.Status.URL}}|View logs>";

/// Validates `prow` as read from `file` (whose YAML is `text`), then applies Prow's defaults;
/// returns the errors, each with the line of its field when it can be found.
pub fn check(prow: &mut ProwConfig, file: &Path, text: &str) -> Vec<Finding> {
    let lines = Lines::new(text);
    let errors = prow
        .validate()
        .into_iter()
        .map(|mut f| {
            f.line = lines.line_of(&parse_field_path(&f.field), Anchor::Key);
            f.in_file(file)
        })
        .collect();
    prow.apply_defaults();
    errors
}

fn minutes(n: i64) -> Option<MetaDuration> {
    Some(MetaDuration(Duration::from_mins(n)))
}

/// Renders a map key in a field path: `.name` when plain, else `["key"]`.
fn key(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!(".{key}")
    } else {
        format!("[{key:?}]")
    }
}

impl ProwConfig {
    /// Fills in Prow's defaults (`parseProwConfig` and `loadConfig`). Older forms are moved
    /// into their newer form (`tide.target_url` into `tide.target_urls["*"]`,
    /// `pubsub_subscriptions` into `pubsub_triggers`, ...), so applying defaults twice changes
    /// nothing and a defaulted config still validates.
    pub fn apply_defaults(&mut self) {
        let plank = &mut self.plank;
        plank.pod_pending_timeout = plank.pod_pending_timeout.or_else(|| minutes(10));
        plank.pod_running_timeout = plank.pod_running_timeout.or_else(|| minutes(48 * 60));
        plank.pod_unscheduled_timeout = plank.pod_unscheduled_timeout.or_else(|| minutes(5));
        plank.max_revivals = plank.max_revivals.or(Some(3));
        if plank.max_goroutines == 0 {
            plank.max_goroutines = 20;
        }
        move_default(&mut plank.report_template, &mut plank.report_templates);
        for op in &mut self.jenkins_operators {
            if op.max_goroutines == 0 {
                op.max_goroutines = 20;
            }
            move_default(&mut op.report_template, &mut op.report_templates);
        }

        let gerrit = &mut self.gerrit;
        gerrit.tick_interval = gerrit.tick_interval.or_else(|| minutes(1));
        if gerrit.rate_limit == 0 {
            gerrit.rate_limit = 5;
        }
        if let Some(g) = &mut self.tide.gerrit
            && g.rate_limit == 0
        {
            g.rate_limit = 5;
        }
        if self.github_reporter.job_types_to_report.is_empty() {
            self.github_reporter.job_types_to_report =
                vec!["presubmit".to_owned(), "postsubmit".to_owned()];
        }

        let deck = &mut self.deck;
        deck.tide_update_period = deck
            .tide_update_period
            .or(Some(MetaDuration(Duration::from_secs(10))));
        let spyglass = &mut deck.spyglass;
        if spyglass.size_limit == 0 {
            spyglass.size_limit = 100_000_000;
        }
        let mut old_lenses: Vec<LensFileConfig> = spyglass
            .viewers
            .iter()
            .flat_map(|(regex, viewers)| {
                viewers.iter().map(move |viewer| LensFileConfig {
                    required_files: vec![regex.clone()],
                    lens: LensConfig {
                        name: viewer.clone(),
                        ..LensConfig::default()
                    },
                    ..LensFileConfig::default()
                })
            })
            .collect();
        old_lenses.sort_by(|a, b| a.lens.name.cmp(&b.lens.name));
        for lens in old_lenses {
            if !spyglass.lenses.contains(&lens) {
                spyglass.lenses.push(lens);
            }
        }
        for viewers in spyglass.viewers.values_mut() {
            for viewer in viewers {
                let renamed = match viewer.as_str() {
                    "build-log-viewer" => "buildlog",
                    "metadata-viewer" => "metadata",
                    "junit-viewer" => "junit",
                    _ => continue,
                };
                *viewer = renamed.to_owned();
            }
        }
        let prefix = std::mem::take(&mut spyglass.gcs_browser_prefix);
        for map in [
            &mut spyglass.gcs_browser_prefixes,
            &mut spyglass.gcs_browser_prefixes_by_bucket,
        ] {
            map.entry("*".to_owned()).or_insert_with(|| prefix.clone());
        }
        if !deck.rerun_auth_configs.is_empty() && deck.default_rerun_auth_configs.is_empty() {
            deck.default_rerun_auth_configs = rerun_auth_entries(&deck.rerun_auth_configs);
            deck.rerun_auth_configs.clear();
        }

        self.push_gateway.interval = self.push_gateway.interval.or_else(|| minutes(1));
        let sinker = &mut self.sinker;
        sinker.resync_period = sinker.resync_period.or_else(|| minutes(60));
        sinker.max_prowjob_age = sinker.max_prowjob_age.or_else(|| minutes(7 * 24 * 60));
        sinker.max_pod_age = sinker.max_pod_age.or_else(|| minutes(24 * 60));
        sinker.terminated_pod_ttl = sinker.terminated_pod_ttl.or(sinker.max_pod_age);

        let tide = &mut self.tide;
        tide.sync_period = tide.sync_period.or_else(|| minutes(1));
        tide.status_update_period = tide.status_update_period.or(tide.sync_period);
        if tide.max_goroutines == 0 {
            tide.max_goroutines = 20;
        }
        move_default(&mut tide.target_url, &mut tide.target_urls);
        self.tide.queries = self.deduplicated_tide_queries();
        let tide = &mut self.tide;
        move_default(&mut tide.pr_status_base_url, &mut tide.pr_status_base_urls);

        for namespace in [&mut self.prowjob_namespace, &mut self.pod_namespace] {
            if namespace.is_empty() {
                "default".clone_into(namespace);
            }
        }
        if self.github.link_url.is_empty() {
            self.github.link_url = "https://github.com".to_owned();
        }
        if self.status_error_link.is_empty() {
            self.status_error_link = "https://github.com/kubernetes/test-infra/issues".to_owned();
        }
        if self.log_level.is_empty() {
            self.log_level = "info".to_owned();
        }
        self.default_job_timeout = self.default_job_timeout.or_else(|| minutes(24 * 60));
        self.moonraker.client_timeout = self.moonraker.client_timeout.or_else(|| minutes(10));
        // `"*": []` is kept: it disables the default cluster.
        self.in_repo_config
            .allowed_clusters
            .entry("*".to_owned())
            .or_insert_with(|| vec!["default".to_owned()]);
        for (project, topics) in std::mem::take(&mut self.pubsub_subscriptions) {
            self.pubsub_triggers.push(PubSubTrigger {
                project,
                topics,
                allowed_clusters: vec!["*".to_owned()],
                max_outstanding_messages: 0,
            });
        }
        for trigger in &mut self.pubsub_triggers {
            if trigger.max_outstanding_messages == 0 {
                trigger.max_outstanding_messages = 10;
            }
        }
        for slack in self.slack_reporter_configs.values_mut() {
            if slack.report_template.is_empty() {
                slack.report_template = SLACK_REPORT_TEMPLATE.to_owned();
            }
        }
    }

    /// Checks the component configuration like Prow's `parseProwConfig` and
    /// `validateComponentConfig`, with Prow's messages; every problem is reported, each with
    /// its field path.
    pub fn validate(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut err = |at: String, message: String| out.push(Finding::error(message).at(at));

        controller(
            "plank",
            "validating plank config",
            &self.plank.job_url_template,
            &self.plank.report_template,
            &self.plank.report_templates,
            self.plank.max_concurrency,
            self.plank.max_goroutines,
            &mut err,
        );
        if let Err(e) = super::compile_regex(&self.gerrit.allowed_presubmit_trigger_re) {
            err(
                "gerrit.allowed_presubmit_trigger_re".into(),
                format!(
                    "validating gerrit config: failed to compile regex for allowed presubmit triggers: {e}"
                ),
            );
        }
        for (i, t) in self.github_reporter.job_types_to_report.iter().enumerate() {
            if t != "presubmit" && t != "postsubmit" {
                err(
                    format!("github_reporter.job_types_to_report[{i}]"),
                    format!("invalid job_types_to_report: {t}"),
                );
            }
        }
        let operators = self.jenkins_operators.len();
        for (i, op) in self.jenkins_operators.iter().enumerate() {
            let at = format!("jenkins_operators[{i}]");
            controller(
                &at,
                "validating jenkins_operators config",
                &op.job_url_template,
                &op.report_template,
                &op.report_templates,
                op.max_concurrency,
                op.max_goroutines,
                &mut err,
            );
            if operators > 1 && op.label_selector.is_empty() {
                err(
                    format!("{at}.label_selector"),
                    "selector overlap: cannot use an empty label_selector with multiple selectors"
                        .into(),
                );
            }
            if operators == 1 && !op.label_selector.is_empty() {
                err(
                    format!("{at}.label_selector"),
                    "label_selector is invalid when used for a single jenkins-operator".into(),
                );
            }
        }
        self.validate_deck(&mut err);
        self.validate_tide(&mut err);

        for (k, v) in &self.plank.job_url_prefix_config {
            if let Err(e) = parse_url(v) {
                err(
                    format!("plank.job_url_prefix_config{}", key(k)),
                    format!("invalid value for Planks job_url_prefix_config[\"{k}\"]: {e}"),
                );
            }
        }
        if !self.gerrit.deck_url.is_empty()
            && let Err(e) = parse_url(&self.gerrit.deck_url)
        {
            err(
                "gerrit.deck_url".into(),
                format!("invalid value for gerrit.deck_url: {e}"),
            );
        }
        if let Err(e) = parse_url(&self.github.link_url) {
            err(
                "github.link_url".into(),
                format!("unable to parse github.link_url, might not be a valid url: {e}"),
            );
        }
        if !self.log_level.is_empty()
            && !LOG_LEVELS.contains(&self.log_level.to_lowercase().as_str())
        {
            err(
                "log_level".into(),
                format!("not a valid logrus Level: {:?}", self.log_level),
            );
        }
        let bp = &self.branch_protection;
        if !bp.include.is_empty() && !bp.exclude.is_empty() {
            err(
                "branch-protection".into(),
                "Forbidden to set both Policy.Include and Policy.Exclude, Please use either Include or Exclude!".into(),
            );
        }
        if !self.pubsub_subscriptions.is_empty() && !self.pubsub_triggers.is_empty() {
            err(
                "pubsub_triggers".into(),
                "pubsub_subscriptions and pubsub_triggers are mutually exclusive".into(),
            );
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        for (repo, info) in &self.managed_webhooks.org_repo_config {
            let at = format!(
                "managed_webhooks.org_repo_config{}.token_created_after",
                key(repo)
            );
            match rfc3339_seconds(&info.token_created_after) {
                None => err(
                    at,
                    format!(
                        "parsing time {:?}: not an RFC 3339 time",
                        info.token_created_after
                    ),
                ),
                Some(t) if t > now => err(
                    at,
                    format!(
                        "token_created_after {} can be no later than current time for repo/org {repo}",
                        info.token_created_after
                    ),
                ),
                Some(_) => {}
            }
        }
        for (k, slack) in &self.slack_reporter_configs {
            let at = format!("slack_reporter_configs{}", key(k));
            if slack.channel.is_empty() {
                err(
                    format!("{at}.channel"),
                    "failed to validate slackreporter config: channel must be set".into(),
                );
            }
            if let Err(e) = go_template("", &slack.report_template) {
                err(
                    format!("{at}.report_template"),
                    format!(
                        "failed to validate slackreporter config: failed to parse template: {e}"
                    ),
                );
            }
        }
        self.validate_gangway(&mut err);
        out
    }

    fn validate_deck(&self, err: &mut impl FnMut(String, String)) {
        let deck = &self.deck;
        for (i, log) in deck.external_agent_logs.iter().enumerate() {
            if let Err(e) = go_template(&log.agent, &log.url_template) {
                err(
                    format!("deck.external_agent_logs[{i}].url_template"),
                    format!("parsing template for agent {:?}: {e}", log.agent),
                );
            }
        }
        let spyglass = &deck.spyglass;
        if spyglass.size_limit < 0 {
            err(
                "deck.spyglass.size_limit".into(),
                "invalid value for deck.spyglass.size_limit, must be >=0".into(),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        let lens_files =
            spyglass.lenses.iter().enumerate().flat_map(|(i, lens)| {
                let optional = lens.optional_files.iter().enumerate().map(move |(j, f)| {
                    (format!("deck.spyglass.lenses[{i}].optional_files[{j}]"), f)
                });
                let required = lens.required_files.iter().enumerate().map(move |(j, f)| {
                    (format!("deck.spyglass.lenses[{i}].required_files[{j}]"), f)
                });
                optional.chain(required)
            });
        let viewers = spyglass
            .viewers
            .keys()
            .map(|k| (format!("deck.spyglass.viewers{}", key(k)), k));
        for (at, pattern) in lens_files.chain(viewers) {
            if !seen.insert(pattern.as_str()) {
                continue;
            }
            if let Err(e) = super::compile_regex(pattern) {
                err(at, format!("cannot compile regexp {pattern:?}, err: {e}"));
            }
        }
        if !spyglass.gcs_browser_prefix.is_empty() {
            for (field, name) in [
                (&spyglass.gcs_browser_prefixes, "gcs_browser_prefixes"),
                (
                    &spyglass.gcs_browser_prefixes_by_bucket,
                    "gcs_browser_prefixes_by_bucket",
                ),
            ] {
                if field.contains_key("*") {
                    err(
                        format!("deck.spyglass.{name}"),
                        format!("both gcs_browser_prefix and {name}['*'] are specified."),
                    );
                }
            }
        }
        if !deck.rerun_auth_configs.is_empty() && !deck.default_rerun_auth_configs.is_empty() {
            err(
                "deck.default_rerun_auth_configs".into(),
                "deck.rerun_auth_configs and deck.default_rerun_auth_configs are mutually exclusive, please use one or the other".into(),
            );
        }
        if !deck.additional_allowed_buckets.is_empty()
            && deck.skip_storage_path_validation != Some(false)
        {
            err(
                "deck.additional_allowed_buckets".into(),
                format!(
                    "deck.skip_storage_path_validation is enabled despite deck.additional_allowed_buckets being configured: [{}]",
                    deck.additional_allowed_buckets.join(" ")
                ),
            );
        }
        for (i, entry) in deck.default_rerun_auth_configs.iter().enumerate() {
            if let Some(Err(e)) = entry.config.as_ref().map(|c| c.validate()) {
                err(
                    format!("deck.default_rerun_auth_configs[{i}]"),
                    format!("default_rerun_auth_configs[{i}]: {e}"),
                );
            }
        }
        for (k, config) in &deck.rerun_auth_configs {
            if let Err(e) = config.validate() {
                err(format!("deck.rerun_auth_configs{}", key(k)), e);
            }
        }
    }

    fn validate_tide(&self, err: &mut impl FnMut(String, String)) {
        let tide = &self.tide;
        if tide.max_goroutines < 0 {
            err(
                "tide.max_goroutines".into(),
                format!(
                    "tide has invalid max_goroutines ({}), it needs to be a positive number",
                    tide.max_goroutines
                ),
            );
        }
        if !tide.target_urls.is_empty() && !tide.target_url.is_empty() {
            err(
                "tide.target_urls".into(),
                "tide.target_url and tide.target_urls are mutually exclusive".into(),
            );
        }
        if !tide.pr_status_base_url.is_empty() && !tide.pr_status_base_urls.is_empty() {
            err(
                "tide.pr_status_base_urls".into(),
                "both pr_status_base_url and pr_status_base_urls are defined".into(),
            );
        } else if !tide.pr_status_base_urls.is_empty()
            && !tide.pr_status_base_urls.contains_key("*")
        {
            err(
                "tide.pr_status_base_urls".into(),
                "pr_status_base_urls is defined but the default value ('*') is missing".into(),
            );
        }
        let valid = |m: &str| parse_merge_method(m).is_some();
        for (org, org_config) in &tide.merge_method {
            let at = format!("tide.merge_method{}", key(org));
            if !org_config.merge_type.is_empty() && !valid(&org_config.merge_type) {
                err(
                    at.clone(),
                    format!(
                        "tide merge type: merge type {:?} for {org} is not a valid type",
                        org_config.merge_type
                    ),
                );
            }
            for (repo, repo_config) in &org_config.repos {
                let at = format!("{at}{}", key(repo));
                if !repo_config.merge_type.is_empty() && !valid(&repo_config.merge_type) {
                    err(
                        at.clone(),
                        format!(
                            "tide merge type: merge type {:?} for {org}/{repo} is not a valid type",
                            repo_config.merge_type
                        ),
                    );
                }
                for (branch, method) in &repo_config.branches {
                    let at = format!("{at}{}", key(branch));
                    if regex::Regex::new(branch).is_err() {
                        err(
                            at.clone(),
                            format!("tide merge type: regex {branch:?} is not valid"),
                        );
                    }
                    if !valid(&method.merge_type) {
                        err(
                            at,
                            format!(
                                "tide merge type: merge type {:?} for {org}/{repo}@{branch} is not a valid type",
                                method.merge_type
                            ),
                        );
                    }
                }
            }
        }
        for (name, template) in &tide.merge_commit_template {
            let at = format!("tide.merge_commit_template{}", key(name));
            if let Err(e) = go_template("CommitTitle", &template.title) {
                err(
                    format!("{at}.title"),
                    format!("parsing template for commit title: {e}"),
                );
            }
            if let Err(e) = go_template("CommitBody", &template.body) {
                err(
                    format!("{at}.body"),
                    format!("parsing template for commit body: {e}"),
                );
            }
        }
        for (i, query) in tide.queries.iter().enumerate() {
            if let Err((field, message)) = query.validate() {
                err(
                    format!("tide.queries[{i}].{field}"),
                    format!("tide query (index {i}) is invalid: {message}"),
                );
            }
        }
        for (k, policy) in &tide.github_merge_blocks_policy {
            if super::GitHubMergeBlocksPolicy::parse(policy).is_none() {
                err(
                    format!("tide.github_merge_blocks_policy{}", key(k)),
                    format!(
                        "tide.github_merge_blocks_policy[{k:?}] has invalid value {policy:?}, must be one of: ignore, permit, block"
                    ),
                );
            }
        }
    }

    fn validate_gangway(&self, err: &mut impl FnMut(String, String)) {
        let mut declared = std::collections::BTreeSet::new();
        for (i, client) in self.gangway.allowed_api_clients.iter().enumerate() {
            let at = format!("gangway.allowed_api_clients[{i}]");
            let Some(gcp) = &client.gcp else {
                err(
                    at,
                    "allowedApiClient did not have a cloud vendor set".into(),
                );
                continue;
            };
            if gcp.endpoint_api_consumer_type != "PROJECT" {
                err(
                    format!("{at}.gcp.endpoint_api_consumer_type"),
                    format!(
                        "unsupported GCP API consumer type: {:?}",
                        gcp.endpoint_api_consumer_type
                    ),
                );
            }
            let number = &gcp.endpoint_api_consumer_number;
            if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
                err(
                    format!("{at}.gcp.endpoint_api_consumer_number"),
                    format!("invalid EndpointApiConsumerNumber: {number:?}"),
                );
            } else if !declared.insert(number.clone()) {
                err(
                    format!("{at}.gcp"),
                    format!("AllowedApiClient {number:?} declared multiple times"),
                );
            }
            if client.allowed_jobs_filters.is_empty() {
                err(
                    format!("{at}.allowed_jobs_filters"),
                    "allowed_jobs_filters field cannot be empty".into(),
                );
            }
            for (j, filter) in client.allowed_jobs_filters.iter().enumerate() {
                if filter.tenant_id.is_empty() {
                    err(
                        format!("{at}.allowed_jobs_filters[{j}].tenant_id"),
                        "AllowedJobsFilters entry has an empty tenant_id".into(),
                    );
                }
            }
        }
    }
}

/// Levels logrus accepts (case-insensitive).
const LOG_LEVELS: &[&str] = &[
    "panic", "fatal", "error", "warn", "warning", "info", "debug", "trace",
];

/// Moves an older single value into the `*` key of its newer map form, unless the map is
/// already set (validation reports having both).
fn move_default(single: &mut String, map: &mut BTreeMap<String, String>) {
    if !single.is_empty() && map.is_empty() {
        map.insert("*".to_owned(), std::mem::take(single));
    }
}

/// Prow's `defaultRerunAuthMapToSlice`: `""`, `*`, then orgs, then repos.
fn rerun_auth_entries(
    map: &BTreeMap<String, prow_core::RerunAuthConfig>,
) -> Vec<DefaultRerunAuthConfigEntry> {
    let rank = |k: &str| match k {
        "" => 0,
        "*" => 1,
        k if !k.contains('/') => 2,
        _ => 3,
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| rank(k));
    keys.into_iter()
        .map(|k| DefaultRerunAuthConfigEntry {
            org_repo: k.clone(),
            cluster: String::new(),
            config: map.get(k).cloned(),
        })
        .collect()
}

/// Prow's `ValidateController` for plank and each Jenkins operator.
#[allow(clippy::too_many_arguments)]
fn controller(
    at: &str,
    context: &str,
    job_url_template: &str,
    report_template: &str,
    report_templates: &BTreeMap<String, String>,
    max_concurrency: i64,
    max_goroutines: i64,
    err: &mut impl FnMut(String, String),
) {
    if let Err(e) = go_template("JobURL", job_url_template) {
        err(
            format!("{at}.job_url_template"),
            format!("{context}: parsing template: {e}"),
        );
    }
    if !report_template.is_empty() && !report_templates.is_empty() {
        err(
            format!("{at}.report_templates"),
            format!("{context}: both report_template and report_templates are specified"),
        );
    }
    if let Err(e) = go_template("Report", report_template) {
        err(
            format!("{at}.report_template"),
            format!("{context}: error while parsing template for *: {e}"),
        );
    }
    for (k, v) in report_templates {
        if let Err(e) = go_template("Report", v) {
            err(
                format!("{at}.report_templates{}", key(k)),
                format!("{context}: error while parsing template for {k}: {e}"),
            );
        }
    }
    if max_concurrency < 0 {
        err(
            format!("{at}.max_concurrency"),
            format!(
                "{context}: controller has invalid max_concurrency ({max_concurrency}), it needs to be a non-negative number"
            ),
        );
    }
    if max_goroutines < 0 {
        err(
            format!("{at}.max_goroutines"),
            format!(
                "{context}: controller has invalid max_goroutines ({max_goroutines}), it needs to be a positive number"
            ),
        );
    }
}

/// The structural checks of Go's `text/template` parser: every action is closed and every
/// `if`/`range`/`with`/`define`/`block` has its `end`. Messages follow Go's
/// (`template: NAME:LINE: unclosed action`). Functions and fields are not checked.
pub(crate) fn go_template(name: &str, text: &str) -> Result<(), String> {
    let mut open_blocks: Vec<usize> = Vec::new();
    let mut rest = text;
    let mut line = 1;
    while let Some(start) = rest.find("{{") {
        line += rest[..start].matches('\n').count();
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("template: {name}:{line}: unclosed action"));
        };
        let action = after[..end]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let word = action.split_whitespace().next().unwrap_or("");
        if !action.starts_with("/*") {
            match word {
                "if" | "range" | "with" | "define" | "block" => open_blocks.push(line),
                "end" if open_blocks.pop().is_none() => {
                    return Err(format!("template: {name}:{line}: unexpected {{{{end}}}}"));
                }
                "" => {
                    return Err(format!(
                        "template: {name}:{line}: missing value for command"
                    ));
                }
                _ => {}
            }
        }
        line += after[..end].matches('\n').count();
        rest = &after[end + 2..];
    }
    if !open_blocks.is_empty() {
        return Err(format!("template: {name}:{line}: unexpected EOF"));
    }
    Ok(())
}

/// The failures of Go's `url.Parse` that real input hits: control characters, a bad `%`
/// escape, an empty scheme, and a colon in a first path segment.
pub(crate) fn parse_url(text: &str) -> Result<(), String> {
    let fail = |why: String| Err(format!("parse {text:?}: {why}"));
    if text.chars().any(|c| (c as u32) < 0x20 || c as u32 == 0x7f) {
        return fail("net/url: invalid control character in URL".into());
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
            if hex.is_none() {
                let bad: String = text[i..].chars().take(3).collect();
                return fail(format!("invalid URL escape {bad:?}"));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut has_scheme = false;
    for (i, c) in text.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return fail("missing protocol scheme".into()),
            ':' => {
                has_scheme = true;
                break;
            }
            _ => break,
        }
    }
    if !has_scheme && !text.starts_with('/') {
        let first = text.split(['/', '?', '#']).next().unwrap_or("");
        if first.contains(':') {
            return fail("first path segment in URL cannot contain colon".into());
        }
    }
    Ok(())
}

/// Seconds since the Unix epoch of an RFC 3339 time (`2006-01-02T15:04:05Z07:00`).
pub(crate) fn rfc3339_seconds(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}
