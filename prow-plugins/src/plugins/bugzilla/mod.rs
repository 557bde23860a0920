//! bugzilla: checks that a pull request whose title says `Bug NNN:` references a valid
//! Bugzilla bug under the branch's rules, labels it `bugzilla/valid-bug` or
//! `bugzilla/invalid-bug` (and `bugzilla/severity-*`), moves the bug to the configured states
//! on validation, merge and close, and answers `/bugzilla refresh`, `/bugzilla cc-qa` and
//! `/bugzilla assign-qa` (upstream `pkg/plugins/bugzilla/bugzilla.go`, `pkg/bugzilla`,
//! kubernetes-sigs/prow).
//!
//! The rules come from `plugins.yaml`'s `bugzilla:` block (`default`, `orgs.<org>.default`,
//! `orgs.<org>.repos.<repo>.branches`, each keyed by branch or `*`), resolved as upstream
//! resolves them ([`prow_config::plugins::Bugzilla::options_for_branch`]). Comment texts are
//! upstream's.
//!
//! Deviations: upstream reads the bug twice on a validation; here once. Cherry-pick backports
//! (`enable_backporting`: cloning the bug for a cherry-pick's branch) are not done: such pull
//! requests are logged and left alone. Upstream never carries `enable_backporting` through
//! its option resolution (and so fails on it); here it is resolved like the other fields.
//!
//! Without a Bugzilla client (no `--bugzilla-endpoint`) the plugin logs that and does nothing.

pub mod client;
#[cfg(feature = "test-util")]
pub mod fake;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use prow_config::plugins::{BugzillaBranchOptions, BugzillaBugState, PluginConfig, pretty_status};
use prow_github::events::{CommentAction, Event, GenericCommentEvent, PullRequestEvent};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

pub use client::{Bug, BugUpdate, BugzillaAuth, BugzillaClient, BugzillaError, ExternalPull};

/// `Bug NNN:` in a title (upstream `titleMatch`).
pub static TITLE_RE: GoRegex =
    GoRegex::new("pkg/plugins/bugzilla/bugzilla.go", r"(?i)Bug\s+([0-9]+):");
/// `/bugzilla refresh` (upstream `refreshCommandMatch`).
pub static REFRESH_RE: GoRegex = GoRegex::new(
    "pkg/plugins/bugzilla/bugzilla.go",
    r"(?mi)^/bugzilla refresh\s*$",
);
/// `/bugzilla assign-qa` (upstream `qaAssignCommandMatch`).
pub static ASSIGN_QA_RE: GoRegex = GoRegex::new(
    "pkg/plugins/bugzilla/bugzilla.go",
    r"(?mi)^/bugzilla assign-qa\s*$",
);
/// `/bugzilla cc-qa` (upstream `qaReviewCommandMatch`).
pub static CC_QA_RE: GoRegex = GoRegex::new(
    "pkg/plugins/bugzilla/bugzilla.go",
    r"(?mi)^/bugzilla cc-qa\s*$",
);
/// The body of a pull request the cherrypicker opened (upstream `cherrypickPRMatch`).
pub static CHERRYPICK_RE: GoRegex = GoRegex::new(
    "pkg/plugins/bugzilla/bugzilla.go",
    r"This is an automated cherry-pick of #([0-9]+)",
);

/// The label of a pull request referencing a valid bug.
pub const VALID_BUG: &str = "bugzilla/valid-bug";
/// The label of a pull request referencing an invalid bug.
pub const INVALID_BUG: &str = "bugzilla/invalid-bug";
/// The severity labels, by Bugzilla severity.
pub const SEVERITY_LABELS: [(&str, &str); 5] = [
    ("urgent", "bugzilla/severity-urgent"),
    ("high", "bugzilla/severity-high"),
    ("medium", "bugzilla/severity-medium"),
    ("low", "bugzilla/severity-low"),
    ("unspecified", "bugzilla/severity-unspecified"),
];

/// The reply on an issue.
pub const ISSUES_UNSUPPORTED: &str =
    "Bugzilla bug referencing is only supported for Pull Requests, not issues.";
/// The reply when the title references no bug.
pub const NO_BUG: &str = "No Bugzilla bug is referenced in the title of this pull request.\nTo reference a bug, add 'Bug XXX:' to the title of this pull request and request another bug refresh with <code>/bugzilla refresh</code>.";

/// `[Bugzilla bug N](<endpoint>/show_bug.cgi?id=N)` (upstream `bugLink`).
pub fn bug_link(id: u64, endpoint: &str) -> String {
    format!("[Bugzilla bug {id}]({endpoint}/show_bug.cgi?id={id})")
}

/// The bug a title references: `Ok(None)` without `Bug NNN:`.
pub fn bug_id_from_title(title: &str) -> Result<Option<u64>, PluginError> {
    let Some(c) = TITLE_RE.captures(title) else {
        return Ok(None);
    };
    c[1].parse()
        .map(Some)
        .map_err(|_| PluginError::Other(format!("Failed to parse bug ID ({}) as int", &c[1])))
}

/// The severity label of a Bugzilla severity; none for severities upstream does not know.
pub fn severity_label(severity: &str) -> Option<&'static str> {
    SEVERITY_LABELS
        .iter()
        .find(|(s, _)| *s == severity)
        .map(|(_, label)| *label)
}

/// Whether `bug` is in one of `states`.
pub fn in_states(bug: &Bug, states: &[BugzillaBugState]) -> bool {
    states
        .iter()
        .any(|s| s.matches(&bug.status, &bug.resolution))
}

fn pretty(states: &[BugzillaBugState]) -> String {
    states
        .iter()
        .map(BugzillaBugState::pretty)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The change that moves `bug` to `state`: the fields that differ (all of `state`'s set
/// fields when there is no bug); `None` when nothing changes (upstream `AsBugUpdate`).
pub fn as_bug_update(state: Option<&BugzillaBugState>, bug: Option<&Bug>) -> Option<BugUpdate> {
    let state = state?;
    let mut update = BugUpdate::default();
    if !state.status.is_empty() && bug.is_none_or(|b| b.status != state.status) {
        update.status.clone_from(&state.status);
    }
    if !state.resolution.is_empty() && bug.is_none_or(|b| b.resolution != state.resolution) {
        update.resolution.clone_from(&state.resolution);
    }
    (update != BugUpdate::default()).then_some(update)
}

/// Whether `bug` is only in groups of `allowed` (anything goes when none are configured).
pub fn is_bug_allowed(bug: &Bug, allowed: &[String]) -> bool {
    allowed.is_empty() || bug.groups.iter().all(|g| allowed.contains(g))
}

/// The outcome of checking a bug against a branch's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Validation {
    /// Whether the bug is valid.
    pub valid: bool,
    /// The checks it passed, in words.
    pub passed: Vec<String>,
    /// Why it is invalid, in words.
    pub errors: Vec<String>,
}

/// Checks `bug` and its `dependents` against `options` (upstream `validateBug`, its words).
pub fn validate_bug(
    bug: &Bug,
    dependents: &[Bug],
    options: &BugzillaBranchOptions,
    endpoint: &str,
) -> Validation {
    let mut v = Validation {
        valid: true,
        ..Validation::default()
    };
    let link = |id| bug_link(id, endpoint);
    if let Some(open) = options.is_open {
        if open != bug.is_open {
            v.valid = false;
            let (not, was) = if open { ("", "isn't") } else { ("not ", "is") };
            v.errors
                .push(format!("expected the bug to {not}be open, but it {was}"));
        } else {
            let expected = if open { "open" } else { "not open" };
            let was = if bug.is_open { "is" } else { "isn't" };
            v.passed.push(format!(
                "bug {was} open, matching expected state ({expected})"
            ));
        }
    }
    if let Some(release) = &options.target_release {
        match bug.target_release.first() {
            None => {
                v.valid = false;
                v.errors.push(format!(
                    "expected the bug to target the {release:?} release, but no target release was set"
                ));
            }
            Some(actual) if actual != release => {
                v.valid = false;
                v.errors.push(format!(
                    "expected the bug to target the {release:?} release, but it targets {actual:?} instead"
                ));
            }
            Some(actual) => v.passed.push(format!(
                "bug target release ({actual}) matches configured target release for branch ({release})"
            )),
        }
    }
    if let Some(states) = &options.valid_states {
        let mut allowed = states.clone();
        allowed.extend(options.state_after_validation.iter().cloned());
        let state = pretty_status(&bug.status, &bug.resolution);
        if in_states(bug, &allowed) {
            v.passed.push(format!(
                "bug is in the state {state}, which is one of the valid states ({})",
                pretty(&allowed)
            ));
        } else {
            v.valid = false;
            v.errors.push(format!(
                "expected the bug to be in one of the following states: {}, but it is {state} instead",
                pretty(&allowed)
            ));
        }
    }
    if let Some(states) = &options.dependent_bug_states {
        for dependent in dependents {
            let state = pretty_status(&dependent.status, &dependent.resolution);
            if in_states(dependent, states) {
                v.passed.push(format!(
                    "dependent bug {} is in the state {state}, which is one of the valid states ({})",
                    link(dependent.id),
                    pretty(states)
                ));
            } else {
                v.valid = false;
                v.errors.push(format!(
                    "expected dependent {} to be in one of the following states: {}, but it is {state} instead",
                    link(dependent.id),
                    pretty(states)
                ));
            }
        }
    }
    if let Some(releases) = &options.dependent_bug_target_releases {
        let wanted = releases.join(", ");
        for dependent in dependents {
            match dependent.target_release.first() {
                None => {
                    v.valid = false;
                    v.errors.push(format!(
                        "expected dependent {} to target a release in {wanted}, but no target release was set",
                        link(dependent.id)
                    ));
                }
                Some(actual) if releases.contains(actual) => v.passed.push(format!(
                    "dependent {} targets the {actual:?} release, which is one of the valid target releases: {wanted}",
                    link(dependent.id)
                )),
                Some(actual) => {
                    v.valid = false;
                    v.errors.push(format!(
                        "expected dependent {} to target a release in {wanted}, but it targets {actual:?} instead",
                        link(dependent.id)
                    ));
                }
            }
        }
    }
    if dependents.is_empty() {
        let message = match (
            &options.dependent_bug_states,
            &options.dependent_bug_target_releases,
        ) {
            (Some(states), Some(releases)) => Some(format!(
                "expected {} to depend on a bug targeting a release in {} and in one of the following states: {}, but no dependents were found",
                link(bug.id),
                releases.join(", "),
                pretty(states)
            )),
            (Some(states), None) => Some(format!(
                "expected {} to depend on a bug in one of the following states: {}, but no dependents were found",
                link(bug.id),
                pretty(states)
            )),
            (None, Some(releases)) => Some(format!(
                "expected {} to depend on a bug targeting a release in {}, but no dependents were found",
                link(bug.id),
                releases.join(", ")
            )),
            (None, None) => None,
        };
        if let Some(message) = message {
            v.valid = false;
            v.errors.push(message);
        }
    } else {
        v.passed.push("bug has dependents".to_owned());
    }
    v
}

/// The comment about a failed Bugzilla call while `action` (upstream `formatError`).
pub fn format_error(
    action: &str,
    endpoint: &str,
    bug: u64,
    error: &dyn std::fmt::Display,
) -> String {
    let error = error.to_string();
    let known = [(
        "There was an error reported for a GitHub REST call",
        "The Bugzilla server failed to load data from GitHub when creating the bug. This is usually caused by rate-limiting, please try again later.",
    )];
    let applicable: Vec<&str> = known
        .iter()
        .filter(|(key, _)| error.contains(key))
        .map(|(_, v)| *v)
        .collect();
    let digest = if applicable.is_empty() {
        "No known errors were detected, please see the full error message for details.".to_owned()
    } else {
        let mut digest =
            "We were able to detect the following conditions from the error:\n\n".to_owned();
        for item in applicable {
            digest.push_str(&format!("- {item}\n"));
        }
        digest
    };
    format!(
        "An error was encountered {action} for bug {bug} on the Bugzilla server at {endpoint}. {digest}\n\n<details><summary>Full error message.</summary>\n\n<code>\n{error}\n</code>\n\n</details>\n\nPlease contact an administrator to resolve this issue, then request a bug refresh with <code>/bugzilla refresh</code>."
    )
}

/// The reply about the QA contact's GitHub users found by `email` (upstream `processQuery`).
pub fn qa_contact_message(logins: &[String], email: &str) -> String {
    match logins {
        [] => format!(
            "No GitHub users were found matching the public email listed for the QA contact in Bugzilla ({email}), skipping review request."
        ),
        [one] => format!("Requesting review from QA contact:\n/cc @{one}"),
        many => {
            let mut text = format!(
                "Multiple GitHub users were found matching the public email listed for the QA contact in Bugzilla ({email}), skipping review request. List of users with matching email:"
            );
            for login in many {
                text.push_str(&format!("\n\t- {login}"));
            }
            text
        }
    }
}

/// A pull request event or command the plugin acts on (upstream's `event`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BugEvent {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The pull request's base branch.
    pub base_ref: String,
    /// The pull request.
    pub number: u64,
    /// The bug its title references.
    pub bug: Option<u64>,
    /// Whether it merged.
    pub merged: bool,
    /// Whether this is its closing.
    pub closed: bool,
    /// Whether this is its opening.
    pub opened: bool,
    /// Its state (`open`, `closed`).
    pub state: String,
    /// The text replied to (the comment, or the title for pull request events).
    pub body: String,
    /// The link replied to.
    pub html_url: String,
    /// Who is replied to.
    pub login: String,
    /// `/bugzilla assign-qa`.
    pub assign: bool,
    /// `/bugzilla cc-qa`.
    pub cc: bool,
    /// The pull request this one cherry-picks, for a just-opened cherry-pick.
    pub cherrypick_of: Option<u64>,
}

impl BugEvent {
    /// A reply saying `text`, quoting what is replied to.
    pub fn reply(&self, text: &str) -> Action {
        Action::Comment {
            org: self.org.clone(),
            repo: self.repo.clone(),
            number: self.number,
            body: crate::respond::format_response_raw(
                &self.body,
                &self.html_url,
                &self.login,
                text,
            ),
        }
    }
}

/// The event a pull request event makes, if the plugin must look at it (upstream
/// `digestPR`): openings, reopenings, closings, and edits that change the referenced bug.
pub fn digest_pr(
    pre: &PullRequestEvent,
    validate_by_default: bool,
) -> Result<Option<BugEvent>, PluginError> {
    if !matches!(
        pre.action.as_str(),
        "opened" | "reopened" | "edited" | "closed"
    ) {
        return Ok(None);
    }
    let pr = &pre.pull_request;
    let base_repo = pr.base.repo.as_ref().unwrap_or(&pre.repository);
    let mut e = BugEvent {
        org: base_repo.org().to_owned(),
        repo: base_repo.name.clone(),
        base_ref: pr.base.git_ref.clone(),
        number: pr.number,
        bug: bug_id_from_title(&pr.title)?,
        merged: pr.merged.unwrap_or(false),
        closed: pre.action == "closed",
        opened: pre.action == "opened",
        state: pr.state.clone(),
        body: pr.title.clone(),
        html_url: pr.html_url.clone(),
        login: pr.user.login.clone(),
        ..BugEvent::default()
    };
    if let Some(c) = CHERRYPICK_RE.captures(pr.body.as_deref().unwrap_or_default())
        && e.opened
    {
        e.cherrypick_of = c[1].parse().ok();
        return Ok(Some(e));
    }
    if e.closed && !e.merged {
        return Ok(Some(e));
    }
    let intermediate = (e.bug.is_some() || validate_by_default).then(|| e.clone());
    let previous = pre
        .changes
        .as_ref()
        .and_then(|c| c["title"]["from"].as_str())
        .unwrap_or_default();
    let Ok(Some(previous)) = bug_id_from_title(previous) else {
        return Ok(intermediate);
    };
    if Some(previous) == e.bug {
        tracing::debug!(target: "hook", plugin = "bugzilla", bug = previous, "referenced bug has not changed; not handling the event");
        return Ok(None);
    }
    Ok(Some(e))
}

/// Which command a comment gives: `None` without one, else `(assign, cc)`.
pub fn command(commands: &str) -> Option<(bool, bool)> {
    if REFRESH_RE.is_match(commands) {
        Some((false, false))
    } else if ASSIGN_QA_RE.is_match(commands) {
        Some((true, false))
    } else if CC_QA_RE.is_match(commands) {
        Some((false, true))
    } else {
        None
    }
}

/// The label changes that give the pull request of `e` the labels it needs, given its
/// `current` labels (upstream's label reconciliation in `handle`).
pub fn label_actions(
    e: &BugEvent,
    current: &[String],
    needs_valid: bool,
    needs_invalid: bool,
    severity: Option<&str>,
) -> Vec<Action> {
    let has = |label: &str| current.iter().any(|l| l == label);
    let severity_now = current
        .iter()
        .rfind(|l| SEVERITY_LABELS.iter().any(|(_, s)| s == l))
        .map(String::as_str);
    let mut actions = Vec::new();
    let remove = |label: &str| Action::RemoveLabel {
        org: e.org.clone(),
        repo: e.repo.clone(),
        number: e.number,
        label: label.to_owned(),
    };
    let add = |label: &str| Action::AddLabels {
        org: e.org.clone(),
        repo: e.repo.clone(),
        number: e.number,
        labels: vec![label.to_owned()],
    };
    if let Some(now) = severity_now
        && severity != Some(now)
    {
        actions.push(remove(now));
    }
    if let Some(wanted) = severity
        && severity_now != Some(wanted)
    {
        actions.push(add(wanted));
    }
    for (label, needed) in [(VALID_BUG, needs_valid), (INVALID_BUG, needs_invalid)] {
        match (needed, has(label)) {
            (true, false) => actions.push(add(label)),
            (false, true) => actions.push(remove(label)),
            _ => {}
        }
    }
    actions
}

/// The help's description of each branch's rules for one repository (upstream's
/// `helpProvider`), as an HTML list; `None` without rules.
pub fn describe_rules(options: &BTreeMap<String, BugzillaBranchOptions>) -> Option<String> {
    if options.is_empty() {
        return None;
    }
    let mut lines = vec!["The plugin has the following configuration:<ul>".to_owned()];
    for (branch, o) in options {
        let mut message = if branch == prow_config::plugins::BUGZILLA_WILDCARD {
            "by default, ".to_owned()
        } else {
            format!("on the {branch:?} branch, ")
        };
        message.push_str("valid bugs must ");
        let mut conditions = Vec::new();
        match o.is_open {
            Some(true) => conditions.push("be open".to_owned()),
            Some(false) => conditions.push("be closed".to_owned()),
            None => {}
        }
        if let Some(release) = &o.target_release {
            conditions.push(format!("target the {release:?} release"));
        }
        if let Some(states) = o.valid_states.as_ref().filter(|s| !s.is_empty()) {
            conditions.push(format!(
                "be in one of the following states: {}",
                pretty(states)
            ));
        }
        if o.dependent_bug_states.is_some() || o.dependent_bug_target_releases.is_some() {
            conditions.push("depend on at least one other bug".to_owned());
        }
        if let Some(states) = &o.dependent_bug_states {
            conditions.push(format!(
                "have all dependent bugs in one of the following states: {}",
                pretty(states)
            ));
        }
        if let Some(releases) = &o.dependent_bug_target_releases {
            conditions.push(format!(
                "have all dependent bugs in one of the following target releases: {}",
                releases.join(", ")
            ));
        }
        message.push_str(&and_list(conditions, "exist"));
        let mut updates = Vec::new();
        if let Some(state) = &o.state_after_validation {
            updates.push(format!("moved to the {} state", state.pretty()));
        }
        if o.add_external_link == Some(true) {
            updates.push(
                "updated to refer to the pull request using the external bug tracker".to_owned(),
            );
        }
        if let Some(state) = &o.state_after_merge {
            updates.push(format!(
                "moved to the {} state when all linked pull requests are merged",
                state.pretty()
            ));
        }
        if !updates.is_empty() {
            message.push_str(". After being linked to a pull request, bugs will be ");
            message.push_str(&and_list(updates, ""));
        }
        lines.push(format!("<li>{message}.</li>"));
    }
    lines.push("</ul>".to_owned());
    Some(lines.join("\n"))
}

/// `a`, `a and b`, `a, b, and c`; `empty` for none.
fn and_list(mut items: Vec<String>, empty: &str) -> String {
    match items.len() {
        0 => empty.to_owned(),
        1 => items.remove(0),
        2 => format!("{} and {}", items[0], items[1]),
        n => {
            items[n - 1] = format!("and {}", items[n - 1]);
            items.join(", ")
        }
    }
}

/// The bugzilla plugin.
#[derive(Debug, Clone, Default)]
pub struct BugzillaPlugin {
    client: Option<Arc<BugzillaClient>>,
}

impl BugzillaPlugin {
    /// The plugin talking to `client` (none: log only).
    pub fn new(client: Option<BugzillaClient>) -> Self {
        BugzillaPlugin {
            client: client.map(Arc::new),
        }
    }
}

/// Every `org/repo` the configuration has jobs or tide queries for (upstream `AllRepos`).
fn all_repos(config: &prow_config::Config) -> BTreeSet<String> {
    config
        .jobs
        .presubmits
        .keys()
        .chain(config.jobs.postsubmits.keys())
        .chain(config.prow.tide.queries.iter().flat_map(|q| q.repos.iter()))
        .cloned()
        .collect()
}

/// One event carried out against Bugzilla and GitHub.
struct Run<'a, 'c> {
    ctx: &'a Context<'c>,
    client: &'a BugzillaClient,
    options: BugzillaBranchOptions,
    e: BugEvent,
}

impl Run<'_, '_> {
    fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    fn link(&self, id: u64) -> String {
        bug_link(id, self.endpoint())
    }

    fn error(&self, action: &str, bug: u64, error: &dyn std::fmt::Display) -> Vec<Action> {
        vec![
            self.e
                .reply(&format_error(action, self.endpoint(), bug, error)),
        ]
    }

    /// Bug `id`, or the reply saying why there is none (upstream `getBug`).
    async fn bug(&self, id: u64) -> Result<Bug, Vec<Action>> {
        match self.client.bug(id).await {
            Ok(bug) => Ok(bug),
            Err(e) if e.is_not_found() => Err(vec![self.e.reply(&format!(
                "No Bugzilla bug with ID {id} exists in the tracker at {}.\nOnce a valid bug is referenced in the title of this pull request, request a bug refresh with <code>/bugzilla refresh</code>.",
                self.endpoint()
            ))]),
            Err(e) => {
                tracing::warn!(target: "hook", plugin = "bugzilla", bug = id, error = %e, "unexpected error searching for Bugzilla bug");
                Err(self.error("searching", id, &e))
            }
        }
    }

    async fn handle(&self) -> Result<Vec<Action>, PluginError> {
        let e = &self.e;
        let bug = match e.bug {
            None => None,
            Some(id) => match self.bug(id).await {
                Ok(bug) => Some(bug),
                Err(reply) => return Ok(reply),
            },
        };
        if let (Some(id), Some(bug)) = (e.bug, &bug)
            && !is_bug_allowed(bug, &self.options.allowed_groups)
        {
            if !(e.opened || REFRESH_RE.is_match(&e.body)) {
                return Ok(Vec::new());
            }
            let mut text = format!(
                "{} is in a bug group that is not in the allowed groups for this repo.",
                self.link(id)
            );
            if self.options.allowed_groups.is_empty() {
                text.push_str(" There are no allowed bug groups configured for this repo.");
            } else {
                text.push_str("\nAllowed groups for this repo are:");
                for group in &self.options.allowed_groups {
                    text.push_str(&format!("\n- {group}"));
                }
            }
            return Ok(vec![e.reply(&text)]);
        }
        if e.merged {
            return self.merged(bug.as_ref()).await;
        }
        if e.closed {
            return self.closed().await;
        }
        if e.cherrypick_of.is_some() {
            if self.options.enable_backporting == Some(true) {
                tracing::warn!(target: "hook", plugin = "bugzilla", org = %e.org, repo = %e.repo, number = e.number, "cherry-pick backport bugs are not supported; leaving the pull request alone");
            }
            return Ok(Vec::new());
        }
        self.validate(bug).await
    }

    async fn validate(&self, bug: Option<Bug>) -> Result<Vec<Action>, PluginError> {
        let e = &self.e;
        let o = &self.options;
        let (mut needs_valid, mut needs_invalid, mut response, severity) = match &bug {
            None => (false, false, NO_BUG.to_owned(), None),
            Some(bug) => {
                let mut dependents = Vec::new();
                if o.dependent_bug_states.is_some() || o.dependent_bug_target_releases.is_some() {
                    for id in &bug.depends_on {
                        match self.client.bug(*id).await {
                            Ok(dependent) => dependents.push(dependent),
                            Err(err) => {
                                return Ok(self.error(
                                    &format!("searching for dependent bug {id}"),
                                    bug.id,
                                    &err,
                                ));
                            }
                        }
                    }
                }
                let validation = validate_bug(bug, &dependents, o, self.endpoint());
                let response = if validation.valid {
                    match self.valid_response(bug, &validation).await? {
                        Ok(text) => text,
                        Err(reply) => return Ok(reply),
                    }
                } else {
                    let reasons: String = validation
                        .errors
                        .iter()
                        .map(|r| format!(" - {r}\n"))
                        .collect();
                    format!(
                        "This pull request references {}, which is invalid:\n{reasons}\nComment <code>/bugzilla refresh</code> to re-evaluate validity if changes to the Bugzilla bug are made, or edit the title of this pull request to link to a different bug.",
                        self.link(bug.id)
                    )
                };
                (
                    validation.valid,
                    !validation.valid,
                    response,
                    severity_label(&bug.severity),
                )
            }
        };
        // Labels are checked best-effort: telling the user matters more.
        let current = match self.ctx.labels(&e.org, &e.repo, e.number).await {
            Ok(labels) => labels,
            Err(err) => {
                tracing::warn!(target: "hook", plugin = "bugzilla", error = %err, "could not list labels on PR");
                Vec::new()
            }
        };
        if current.iter().any(|l| l == VALID_BUG) && !needs_valid {
            let by = self
                .ctx
                .github
                .label_added_by(&e.org, &e.repo, e.number, VALID_BUG)
                .await
                .map_err(|err| {
                    PluginError::Other(format!(
                        "failed to check if {VALID_BUG} label was added by a human: {err}"
                    ))
                })?;
            let human = by.is_some_and(|login| !login.eq_ignore_ascii_case(self.ctx.bot));
            if human {
                needs_invalid = false;
                needs_valid = true;
                response.push_str(&format!(
                    "\n\nRetaining the {VALID_BUG} label as it was manually added."
                ));
            }
        }
        let mut actions = label_actions(e, &current, needs_valid, needs_invalid, severity);
        actions.push(e.reply(&response));
        Ok(actions)
    }

    /// The reply about a valid bug, after moving and linking it as configured; `Err` is the
    /// reply about a Bugzilla or GitHub failure on the way.
    async fn valid_response(
        &self,
        bug: &Bug,
        validation: &Validation,
    ) -> Result<Result<String, Vec<Action>>, PluginError> {
        let e = &self.e;
        let o = &self.options;
        let mut response = format!(
            "This pull request references {}, which is valid.",
            self.link(bug.id)
        );
        if let Some(update) = as_bug_update(o.state_after_validation.as_ref(), Some(bug)) {
            let state = o
                .state_after_validation
                .as_ref()
                .map(BugzillaBugState::pretty)
                .unwrap_or_default();
            if let Err(err) = self.client.update_bug(bug.id, &update).await {
                tracing::warn!(target: "hook", plugin = "bugzilla", bug = bug.id, error = %err, "unexpected error updating Bugzilla bug");
                return Ok(Err(self.error(
                    &format!("updating to the {state} state"),
                    bug.id,
                    &err,
                )));
            }
            response.push_str(&format!(" The bug has been moved to the {state} state."));
        }
        if o.add_external_link == Some(true) {
            match self
                .client
                .add_pull_request(bug.id, &e.org, &e.repo, e.number)
                .await
            {
                Err(err) => {
                    return Ok(Err(self.error(
                        "adding this pull request to the external tracker bugs",
                        bug.id,
                        &err,
                    )));
                }
                Ok(true) => response.push_str(
                    " The bug has been updated to refer to the pull request using the external bug tracker.",
                ),
                Ok(false) => {}
            }
        }
        response.push_str("\n\n<details>");
        if validation.passed.is_empty() {
            response.push_str("<summary>No validations were run on this bug</summary>");
        } else {
            response.push_str(&format!(
                "<summary>{} validation(s) were run on this bug</summary>\n",
                validation.passed.len()
            ));
        }
        for passed in &validation.passed {
            response.push_str(&format!("\n* {passed}"));
        }
        response.push_str("</details>");
        let explicit = e.assign || e.cc;
        match &bug.qa_contact_detail {
            None => {
                if explicit {
                    response.push_str(&format!(
                        "{} does not have a QA contact, skipping assignment",
                        self.link(bug.id)
                    ));
                }
            }
            Some(qa) if qa.email.is_empty() => {
                if explicit {
                    response.push_str(&format!(
                        "QA contact for {} does not have a listed email, skipping assignment",
                        self.link(bug.id)
                    ));
                }
            }
            Some(qa) => {
                let logins = match self.ctx.github.users_by_email(&qa.email).await {
                    Ok(logins) => logins,
                    Err(err) => {
                        tracing::error!(target: "hook", plugin = "bugzilla", error = %err, "failed to search GitHub users by email");
                        return Ok(Err(self.error(
                            &format!("querying GitHub for users with public email ({})", qa.email),
                            bug.id,
                            &err,
                        )));
                    }
                };
                response.push_str(&format!("\n\n{}", qa_contact_message(&logins, &qa.email)));
                if e.assign {
                    response.push_str("\n\n**DEPRECATION NOTICE**: The command `assign-qa` has been deprecated. Please use the `cc-qa` command instead.");
                }
            }
        }
        Ok(Ok(response))
    }

    /// A merged pull request: the bug moves to `state_after_merge` once every linked pull
    /// request merged (upstream `handleMerge`).
    async fn merged(&self, bug: Option<&Bug>) -> Result<Vec<Action>, PluginError> {
        let e = &self.e;
        let o = &self.options;
        let (Some(state), Some(bug)) = (&o.state_after_merge, bug) else {
            return Ok(Vec::new());
        };
        let id = bug.id;
        if o.valid_states.is_some() || o.state_after_validation.is_some() {
            // Only a bug in a state the plugin knows moves: a person may have moved it on.
            let mut allowed = o.valid_states.clone().unwrap_or_default();
            allowed.extend(o.state_after_validation.iter().cloned());
            if !in_states(bug, &allowed) {
                return Ok(vec![e.reply(&format!(
                    "{} is in an unrecognized state ({}) and will not be moved to the {} state.",
                    self.link(id),
                    pretty_status(&bug.status, &bug.resolution),
                    state.pretty()
                ))]);
            }
        }
        let pulls = match self.client.external_pulls(id).await {
            Ok(pulls) => pulls,
            Err(err) => return Ok(self.error("searching for external tracker bugs", id, &err)),
        };
        let known = all_repos(self.ctx.config);
        let mut merged_pulls = Vec::new();
        let mut unmerged = Vec::new();
        let mut migrate = true;
        for pull in pulls {
            let (merged, pr_state) = if pull.org == e.org
                && pull.repo == e.repo
                && pull.number == e.number
            {
                (e.merged, e.state.clone())
            } else {
                if !known.contains(&format!("{}/{}", pull.org, pull.repo)) {
                    tracing::debug!(target: "hook", plugin = "bugzilla", pull = %format!("{}/{}#{}", pull.org, pull.repo, pull.number), "not processing PR from third-party repo");
                    continue;
                }
                match self
                    .ctx
                    .github
                    .pull_request(&pull.org, &pull.repo, pull.number)
                    .await
                {
                    Ok(pr) => (pr.merged.unwrap_or(false), pr.state),
                    Err(err) => {
                        return Ok(self.error(
                                &format!(
                                    "checking the state of a related pull request at https://github.com/{}/{}/pull/{}",
                                    pull.org, pull.repo, pull.number
                                ),
                                id,
                                &err,
                            ));
                    }
                }
            };
            migrate &= merged;
            if merged {
                merged_pulls.push(pull);
            } else {
                unmerged.push((pull, pr_state));
                // Saving requests: one unmerged pull request is enough to stay.
                break;
            }
        }
        let link = |p: &ExternalPull| {
            format!(
                "[{0}/{1}#{2}](https://github.com/{0}/{1}/pull/{2})",
                p.org, p.repo, p.number
            )
        };
        let merged_message = |statement: &str| {
            let links: Vec<String> = merged_pulls
                .iter()
                .map(|p| format!(" * {}", link(p)))
                .collect();
            format!(
                "{statement} pull requests linked via external trackers have merged:\n{}\n\n",
                links.join("\n")
            )
        };
        let outcome = |not: &str| {
            format!(
                "{} has {not}been moved to the {} state.",
                self.link(id),
                state.pretty()
            )
        };
        let Some(update) = as_bug_update(Some(state), None) else {
            return Ok(Vec::new());
        };
        if migrate {
            if let Err(err) = self.client.update_bug(id, &update).await {
                return Ok(self.error(
                    &format!("updating to the {} state", state.pretty()),
                    id,
                    &err,
                ));
            }
            return Ok(vec![e.reply(&format!(
                "{}{}",
                merged_message("All"),
                outcome("")
            ))]);
        }
        let statements: Vec<String> = unmerged
            .iter()
            .map(|(p, s)| format!(" * {} is {s}", link(p)))
            .collect();
        let unmerged_message = format!(
            "The following pull requests linked via external trackers have not merged:\n{}\n\nThese pull request must merge or be unlinked from the Bugzilla bug in order for it to move to the next state. Once unlinked, request a bug refresh with <code>/bugzilla refresh</code>.\n\n",
            statements.join("\n")
        );
        Ok(vec![e.reply(&format!(
            "{}{unmerged_message}{}",
            merged_message("Some"),
            outcome("not ")
        ))])
    }

    /// A pull request closed unmerged: unlinked from the bug, which moves to
    /// `state_after_close` when no other pull request is linked (upstream `handleClose`).
    async fn closed(&self) -> Result<Vec<Action>, PluginError> {
        let e = &self.e;
        let o = &self.options;
        let Some(id) = e.bug else {
            return Ok(Vec::new());
        };
        if o.add_external_link != Some(true) {
            return Ok(Vec::new());
        }
        let mut response = format!(
            "This pull request references {}. The bug has been updated to no longer refer to the pull request using the external bug tracker.",
            self.link(id)
        );
        let changed = match self
            .client
            .remove_pull_request(id, &e.org, &e.repo, e.number)
            .await
        {
            Ok(changed) => changed,
            Err(err) => {
                return Ok(self.error(
                    "removing this pull request from the external tracker bugs",
                    id,
                    &err,
                ));
            }
        };
        if let Some(state) = &o.state_after_close {
            let bug = match self.client.bug(id).await {
                Ok(bug) => bug,
                Err(err) => return Ok(self.error("getting bug", id, &err)),
            };
            if bug.status != "CLOSED" {
                let links = match self.client.external_pulls(id).await {
                    Ok(links) => links,
                    Err(err) => return Ok(self.error("getting external tracker bugs", id, &err)),
                };
                if links.is_empty() {
                    if let Some(update) = as_bug_update(Some(state), Some(&bug)) {
                        if let Err(err) = self.client.update_bug(id, &update).await {
                            return Ok(self.error(
                                &format!("updating to the {} state", state.pretty()),
                                id,
                                &err,
                            ));
                        }
                        response.push_str(&format!(
                            " All external bug links have been closed. The bug has been moved to the {} state.",
                            state.pretty()
                        ));
                    }
                    let note = format!(
                        "Bug status changed to {} as previous linked PR https://github.com/{}/{}/pull/{} has been closed",
                        state.status, e.org, e.repo, e.number
                    );
                    if self.client.create_comment(id, &note, true).await.is_err() {
                        response.push_str(
                            "\nWarning: Failed to comment on Bugzilla bug with reason for changed state.",
                        );
                    }
                }
            }
        }
        Ok(if changed {
            vec![e.reply(&response)]
        } else {
            Vec::new()
        })
    }
}

impl BugzillaPlugin {
    async fn run(
        &self,
        ctx: &Context<'_>,
        client: &BugzillaClient,
        e: BugEvent,
        options: BugzillaBranchOptions,
    ) -> Result<Vec<Action>, PluginError> {
        tracing::debug!(target: "hook", plugin = "bugzilla", org = %e.org, repo = %e.repo, number = e.number, bug = ?e.bug, "checking the referenced bug");
        Run {
            ctx,
            client,
            options,
            e,
        }
        .handle()
        .await
    }

    /// The event a comment makes (upstream `digestComment`), or the reply on an issue.
    async fn digest_comment(
        &self,
        ctx: &Context<'_>,
        gc: &GenericCommentEvent,
    ) -> Result<Result<Option<BugEvent>, Action>, PluginError> {
        if gc.action != CommentAction::Created {
            return Ok(Ok(None));
        }
        let Some((assign, cc)) = command(ctx.commands) else {
            return Ok(Ok(None));
        };
        let request = crate::Request::of(gc);
        if !gc.is_pr {
            return Ok(Err(request.reply(ISSUES_UNSUPPORTED)));
        }
        let pr = ctx.pull_request_of(gc).await?;
        Ok(Ok(Some(BugEvent {
            org: gc.repo.org().to_owned(),
            repo: gc.repo.name.clone(),
            base_ref: pr.base.git_ref.clone(),
            number: gc.number,
            bug: bug_id_from_title(&pr.title)?,
            merged: pr.merged.unwrap_or(false),
            state: pr.state.clone(),
            body: gc.body.clone(),
            html_url: gc.html_url.clone(),
            login: gc.user.login.clone(),
            assign,
            cc,
            ..BugEvent::default()
        })))
    }
}

#[async_trait]
impl Plugin for BugzillaPlugin {
    fn name(&self) -> &'static str {
        "bugzilla"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The bugzilla plugin ensures that pull requests reference a valid Bugzilla bug in their title.",
            &[
                "issue_comment",
                "pull_request",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
        .command(
            "/bugzilla refresh",
            "Check Bugzilla for a valid bug referenced in the PR title",
            "Anyone",
            &["/bugzilla refresh"],
        )
        .command(
            "/bugzilla assign-qa",
            "(DEPRECATED) Assign PR to QA contact specified in Bugzilla",
            "Anyone",
            &["/bugzilla assign-qa"],
        )
        .command(
            "/bugzilla cc-qa",
            "Request PR review from QA contact specified in Bugzilla",
            "Anyone",
            &["/bugzilla cc-qa"],
        );
        for (key, entry) in plugins.plugins.iter() {
            if !entry.plugins.iter().any(|p| p == "bugzilla") {
                continue;
            }
            let (org, repo) = key.split_once('/').unwrap_or((key.as_str(), ""));
            if let Some(text) = describe_rules(&plugins.bugzilla.options_for_repo(org, repo)) {
                help.config.insert(key.clone(), text);
            }
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let mut events = Vec::new();
        let mut actions = Vec::new();
        if let Event::PullRequest(pre) = event {
            let base = pre
                .pull_request
                .base
                .repo
                .as_ref()
                .unwrap_or(&pre.repository);
            let options = ctx.plugins.bugzilla.options_for_branch(
                base.org(),
                &base.name,
                &pre.pull_request.base.git_ref,
            );
            if let Some(e) = digest_pr(pre, options.validate_by_default == Some(true))? {
                events.push((e, options));
            }
        }
        if let Some(gc) = ctx.comment {
            match self.digest_comment(ctx, gc).await? {
                Ok(Some(e)) => {
                    let options =
                        ctx.plugins
                            .bugzilla
                            .options_for_branch(&e.org, &e.repo, &e.base_ref);
                    events.push((e, options));
                }
                Ok(None) => {}
                Err(reply) => actions.push(reply),
            }
        }
        if events.is_empty() {
            return Ok(actions);
        }
        let Some(client) = &self.client else {
            tracing::info!(target: "hook", plugin = "bugzilla", "no Bugzilla client configured (--bugzilla-endpoint); not checking bugs");
            return Ok(actions);
        };
        for (e, options) in events {
            actions.extend(self.run(ctx, client, e, options).await?);
        }
        Ok(actions)
    }
}
