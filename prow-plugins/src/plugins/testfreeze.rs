//! testfreeze: on pull requests opened (or reopened) against kubernetes/kubernetes `master`
//! during Code Freeze or Test Freeze, posts upstream's notice about the freeze (upstream
//! `pkg/plugins/testfreeze` and its `checker`).
//!
//! The freeze is read as upstream reads it, from three sources ([`Sources`], upstream's by
//! default):
//! - the branches and tags of the kubernetes repository (`git ls-remote`): the newest
//!   `release-X.Y` branch, and whether its `vX.Y.0` tag exists yet (no tag: Test Freeze);
//! - test-infra's `config.yaml`: a release branch in a kubernetes/kubernetes tide query's
//!   `excludedBranches` means Code Freeze;
//! - prow.k8s.io's `prowjobs.js`: when `ci-fast-forward` last succeeded.
//!
//! Upstream hard-codes the repository (kubernetes/kubernetes, branch `master`) and the three
//! addresses; so does the plugin, except that [`TestFreeze::new`] takes other addresses (a
//! local repository and server in tests). Times are written in UTC in Go's `time.UnixDate`
//! form (upstream writes the server's local time, UTC on its cluster).

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;

use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The plugin's name.
pub const PLUGIN_NAME: &str = "testfreeze";
/// The only organisation and repository the plugin comments in.
pub const KUBERNETES: &str = "kubernetes";
/// The only base branch whose pull requests get the notice.
pub const BRANCH: &str = "master";
/// The label that marks a bug fix.
pub const LABEL_KIND_BUG: &str = "kind/bug";
/// The job whose last success is the last fast forward.
pub const FAST_FORWARD_JOB: &str = "ci-fast-forward";
/// What the notice says when the last fast forward is not known.
pub const UNKNOWN_TIME: &str = "unknown";
/// Upstream's repository address.
pub const DEFAULT_REMOTE: &str = "https://github.com/kubernetes/kubernetes";
/// Upstream's address of test-infra's Prow configuration.
pub const DEFAULT_CONFIG_URL: &str =
    "https://raw.githubusercontent.com/kubernetes/test-infra/master/config/prow/config.yaml";
/// Upstream's address of prow.k8s.io's job list.
pub const DEFAULT_PROWJOBS_URL: &str =
    "https://prow.k8s.io/prowjobs.js?omit=annotations,labels,decoration_config,pod_spec";
/// How long one read of a source may take.
pub const SOURCE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where the freeze is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sources {
    /// The repository whose branches and tags are listed.
    pub remote: String,
    /// The Prow `config.yaml` whose tide queries tell Code Freeze.
    pub config_url: String,
    /// The `prowjobs.js` that tells the last fast forward.
    pub prowjobs_url: String,
}

impl Sources {
    /// Sources at these addresses.
    pub fn new(remote: &str, config_url: &str, prowjobs_url: &str) -> Self {
        Sources {
            remote: remote.to_owned(),
            config_url: config_url.to_owned(),
            prowjobs_url: prowjobs_url.to_owned(),
        }
    }
}

impl Default for Sources {
    fn default() -> Self {
        Sources::new(DEFAULT_REMOTE, DEFAULT_CONFIG_URL, DEFAULT_PROWJOBS_URL)
    }
}

/// What the checker found (upstream `checker.Result`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Freeze {
    /// In Code Freeze.
    pub in_code_freeze: bool,
    /// In Test Freeze.
    pub in_test_freeze: bool,
    /// The newest release branch (or the next one, in Code Freeze before it exists).
    pub branch: String,
    /// The minor release expected, `vX.Y.0`.
    pub tag: String,
    /// When the fast forward last succeeded (Test Freeze only).
    pub last_fast_forward: String,
}

/// The part of a Prow `config.yaml` the checker reads (upstream `checker.ProwConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct ProwConfig {
    /// `tide`.
    pub tide: TideSection,
}

/// `tide` of [`ProwConfig`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct TideSection {
    /// `tide.queries`.
    pub queries: Vec<TideQuery>,
}

/// One tide query, as far as the checker reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct TideQuery {
    /// `repos`.
    pub repos: Vec<String>,
    /// `excludedBranches`.
    #[serde(rename = "excludedBranches")]
    pub excluded_branches: Vec<String>,
}

/// Whether a tide query for kubernetes/kubernetes excludes `branch` (upstream
/// `branchExcludedFromTide`).
pub fn branch_excluded_from_tide(config: &ProwConfig, branch: &str) -> bool {
    config.tide.queries.iter().any(|q| {
        q.repos.iter().any(|r| r == "kubernetes/kubernetes")
            && q.excluded_branches.iter().any(|b| b == branch)
    })
}

/// A version as blang/semver reads one, as far as the checker compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    /// Has a pre-release part (`-rc.0`): never equal to a release.
    pre: bool,
}

fn numeric(part: &str) -> Option<u64> {
    let leading_zero = part.len() > 1 && part.starts_with('0');
    if part.is_empty() || leading_zero || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn identifiers_valid(part: &str, numeric_strict: bool) -> bool {
    part.split('.').all(|id| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && (!numeric_strict || !id.bytes().all(|b| b.is_ascii_digit()) || numeric(id).is_some())
    })
}

/// `s` read as blang/semver's `Parse` reads it (`MAJOR.MINOR.PATCH[-PRE][+BUILD]`).
fn parse_version(s: &str) -> Option<Version> {
    let (rest, build) = match s.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (s, None),
    };
    if build.is_some_and(|b| !identifiers_valid(b, false)) {
        return None;
    }
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    if pre.is_some_and(|p| !identifiers_valid(p, true)) {
        return None;
    }
    let mut parts = core.split('.');
    let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Version {
        major: numeric(major)?,
        minor: numeric(minor)?,
        patch: numeric(patch)?,
        pre: pre.is_some(),
    })
}

/// The newest release branch and whether its minor release is tagged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Latest {
    /// `release-X.Y`.
    pub branch: String,
    /// `(X, Y)`.
    pub minor: (u64, u64),
    /// The tag of `vX.Y.0` without its `v`, when it exists.
    pub tag: Option<String>,
}

/// The newest release branch among `refs` (full names, `refs/heads/…`, `refs/tags/…`) and
/// its tag (upstream `InTestFreeze`'s two passes over the references).
pub fn latest_release(refs: &[String]) -> Result<Latest, String> {
    let zero = Version {
        major: 0,
        minor: 0,
        patch: 0,
        pre: false,
    };
    let mut latest = (zero, String::new());
    for name in refs {
        let Some(branch) = name.strip_prefix("refs/heads/") else {
            continue;
        };
        let Some(minor) = branch.strip_prefix("release-") else {
            continue;
        };
        let Some(version) = parse_version(&format!("{minor}.0")) else {
            tracing::debug!(branch, "not a release version");
            continue;
        };
        if !version.pre && version > latest.0 {
            latest = (version, branch.to_owned());
        }
    }
    let (version, branch) = latest;
    if branch.is_empty() {
        return Err("no latest release branch found".to_owned());
    }
    let tag = refs
        .iter()
        .filter_map(|name| name.strip_prefix("refs/tags/"))
        .map(|tag| tag.strip_prefix('v').unwrap_or(tag))
        .find(|tag| parse_version(tag) == Some(version))
        .map(str::to_owned);
    Ok(Latest {
        branch,
        minor: (version.major, version.minor),
        tag,
    })
}

/// The freeze given the newest release, the Prow configuration (`None` when it could not be
/// read) and the last fast forward (read only in Test Freeze, so a function).
pub fn freeze(
    latest: &Latest,
    config: Option<&ProwConfig>,
    last_fast_forward: impl FnOnce() -> String,
) -> Freeze {
    let (major, minor) = latest.minor;
    let Some(tag) = &latest.tag else {
        return Freeze {
            in_code_freeze: config.is_some_and(|c| branch_excluded_from_tide(c, &latest.branch)),
            in_test_freeze: true,
            branch: latest.branch.clone(),
            tag: format!("v{major}.{minor}.0"),
            last_fast_forward: last_fast_forward(),
        };
    };
    let released = Freeze {
        branch: latest.branch.clone(),
        tag: format!("v{tag}"),
        ..Freeze::default()
    };
    let Some(config) = config else {
        return released;
    };
    if branch_excluded_from_tide(config, &latest.branch) {
        return Freeze {
            in_code_freeze: true,
            ..released
        };
    }
    // Between the start of Code Freeze and the next branch's creation, tide already excludes
    // the next branch.
    let next = format!("release-{major}.{}", minor + 1);
    if branch_excluded_from_tide(config, &next) {
        return Freeze {
            in_code_freeze: true,
            branch: next,
            tag: format!("v{major}.{}.0", minor + 1),
            ..Freeze::default()
        };
    }
    released
}

/// When `ci-fast-forward` last succeeded in a `prowjobs.js` answer: the first successful run
/// listed, its completion in `time.UnixDate` form (UTC).
pub fn last_fast_forward(prowjobs: &[u8]) -> Result<String, String> {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct List {
        items: Vec<Job>,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Job {
        spec: Spec,
        status: Status,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Spec {
        job: String,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Status {
        state: String,
        #[serde(rename = "completionTime")]
        completion_time: Option<String>,
    }
    let list: List =
        serde_json::from_slice(prowjobs).map_err(|e| format!("unmarshal prow jobs: {e}"))?;
    let job = list
        .items
        .into_iter()
        .find(|j| j.spec.job == FAST_FORWARD_JOB && j.status.state == "success")
        .ok_or("unable to find successful run")?;
    let time = job
        .status
        .completion_time
        .ok_or("the successful run has no completion time")?;
    let time = chrono::DateTime::parse_from_rfc3339(&time)
        .map_err(|e| format!("completion time {time:?}: {e}"))?;
    Ok(time
        .with_timezone(&chrono::Utc)
        .format("%a %b %e %H:%M:%S UTC %Y")
        .to_string())
}

/// `text` as Go's `html/template` writes a value into HTML text.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '+' => out.push_str("&#43;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The notice for `freeze` on a pull request that is a bug fix or not (upstream's template,
/// rendered as `html/template` renders it).
pub fn notice(freeze: &Freeze, is_bug_fix: bool) -> String {
    let tag = html_escape(&freeze.tag);
    let mut out = String::new();
    if freeze.in_code_freeze {
        out.push_str(&format!(
            "Please note that we're already in [Code Freeze](https://github.com/kubernetes/sig-release/blob/master/releases/release_phases.md#code-freeze) for the upcoming {tag} release.\n\n"
        ));
        if is_bug_fix {
            out.push_str(&format!(
                "This PR is labeled `kind/bug`, so it **may** be included in the {tag} release as a bug fix. Please make sure to:\n\
                 1. Technical review: get the PR reviewed and approved as usual (`/lgtm` and `/approve`)\n\
                 2. Release team awareness: tag `@kubernetes/sig-release-leads` on this PR so the release team is aware of the fix going in. You can also ping the [#sig-release Slack channel](https://kubernetes.slack.com/archives/C2C40FMNF) for time-sensitive cases.\n"
            ));
        } else {
            out.push_str(&format!(
                "**Adding the milestone to this PR is strictly prohibited without proper approval.** If this PR needs to be included in the {tag} release:\n\
                 1. Technical review: get the PR reviewed and approved as usual (`/lgtm` and `/approve`)\n\
                 2. Inclusion in release: tag `@kubernetes/sig-release-leads` on this PR and ping the [#sig-release Slack channel](https://kubernetes.slack.com/archives/C2C40FMNF) to request adding the `{tag}` milestone\n"
            ));
        }
    }
    out.push('\n');
    if freeze.in_test_freeze {
        let also = if freeze.in_code_freeze { " also" } else { "" };
        out.push_str(&format!(
            "\n---\n\nWe're{also} in [Test Freeze](https://github.com/kubernetes/sig-release/blob/master/releases/release_phases.md#test-freeze) for the `{}` branch. This means every merged PR will be automatically fast-forwarded via the periodic [ci-fast-forward](https://testgrid.k8s.io/sig-release-releng-blocking#git-repo-kubernetes-fast-forward) job to the release branch of the upcoming {tag} release.\n\n\
             Fast forwards are scheduled to happen every 6 hours, whereas the most recent run was: {}.\n",
            html_escape(&freeze.branch),
            html_escape(&freeze.last_fast_forward),
        ));
    }
    out
}

/// Whether the plugin looks at a pull request event at all: opened or reopened, in
/// kubernetes/kubernetes, against `master`.
pub fn applies(action: &str, org: &str, repo: &str, base: &str) -> bool {
    matches!(action, "opened" | "reopened")
        && org == KUBERNETES
        && repo == KUBERNETES
        && base == BRANCH
}

/// What to do about pull request `org/repo#number` with `labels` given `freeze`: the notice
/// in Code or Test Freeze, else nothing.
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    labels: &[String],
    freeze: &Freeze,
) -> Vec<Action> {
    if !freeze.in_code_freeze && !freeze.in_test_freeze {
        return Vec::new();
    }
    let is_bug_fix = labels.iter().any(|l| l == LABEL_KIND_BUG);
    vec![Action::Comment {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        body: notice(freeze, is_bug_fix),
    }]
}

/// The testfreeze plugin.
#[derive(Debug, Clone)]
pub struct TestFreeze {
    sources: Sources,
    http: reqwest::Client,
}

impl Default for TestFreeze {
    fn default() -> Self {
        TestFreeze::new(Sources::default())
    }
}

impl TestFreeze {
    /// The plugin reading the freeze from `sources`.
    pub fn new(sources: Sources) -> Self {
        TestFreeze {
            sources,
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let reply = self
            .http
            .get(url)
            .timeout(SOURCE_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("get {url}: {e}"))?;
        let status = reply.status();
        if !status.is_success() {
            return Err(format!("get {url}: {status}"));
        }
        reply
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| format!("read response body: {e}"))
    }

    async fn prow_config(&self) -> Result<ProwConfig, String> {
        let body = self
            .get(&self.sources.config_url)
            .await
            .map_err(|e| format!("get prow config: {e}"))?;
        serde_yaml::from_slice(&body).map_err(|e| format!("unmarshal prow config: {e}"))
    }

    /// Reads the freeze from the sources (upstream `InTestFreeze`).
    pub async fn check(&self) -> Result<Freeze, String> {
        let remote = self.sources.remote.clone();
        let refs = tokio::task::spawn_blocking(move || crate::git::list_refs(&remote))
            .await
            .map_err(|e| format!("list git remote: {e}"))?
            .map_err(|e| format!("list git remote: {e}"))?;
        let latest = latest_release(&refs)?;
        let config = match self.prow_config().await {
            Ok(config) => Some(config),
            Err(error) => {
                tracing::error!(plugin = PLUGIN_NAME, %error, "unable to fetch Prow config for Code Freeze check");
                None
            }
        };
        let last = if latest.tag.is_none() {
            match self.get(&self.sources.prowjobs_url).await {
                Ok(body) => last_fast_forward(&body),
                Err(e) => Err(format!("get prow jobs: {e}")),
            }
            .unwrap_or_else(|error| {
                tracing::error!(plugin = PLUGIN_NAME, %error, "unable to get last fast forward result");
                UNKNOWN_TIME.to_owned()
            })
        } else {
            String::new()
        };
        Ok(freeze(&latest, config.as_ref(), || last))
    }
}

#[async_trait]
impl Plugin for TestFreeze {
    fn name(&self) -> &'static str {
        PLUGIN_NAME
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The testfreeze plugin adds additional documentation about Code Freeze and Test Freeze periods, including milestone requirements and cherry-pick processes.",
            &["pull_request"],
        )
    }

    async fn handle(&self, _ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pr) = event else {
            return Ok(Vec::new());
        };
        let (org, repo) = (pr.repository.org(), pr.repository.name.as_str());
        if !applies(&pr.action, org, repo, &pr.pull_request.base.git_ref) {
            tracing::debug!(
                plugin = PLUGIN_NAME,
                org,
                repo,
                action = pr.action,
                "skipping: not a new k/k master pull request"
            );
            return Ok(Vec::new());
        }
        let freeze = match self.check().await {
            Ok(freeze) => freeze,
            Err(error) => {
                // Upstream logs and carries on: a source being down must not fail the event.
                tracing::error!(plugin = PLUGIN_NAME, org, repo, pr = pr.number, %error, "skipping: get test freeze result");
                return Ok(Vec::new());
            }
        };
        let labels: Vec<String> = pr
            .pull_request
            .labels
            .iter()
            .map(|l| l.name.clone())
            .collect();
        let actions = decide(org, repo, pr.number, &labels, &freeze);
        if actions.is_empty() {
            tracing::debug!(
                plugin = PLUGIN_NAME,
                org,
                repo,
                pr = pr.number,
                "not in code freeze or test freeze"
            );
        }
        Ok(actions)
    }
}
