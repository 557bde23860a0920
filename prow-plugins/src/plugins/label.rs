//! label: `/kind bug`, `/area x`, `/sig y`, `/remove-priority z`, `/label custom`… add and
//! remove labels of the known kinds, of `additional_labels` and restricted labels (upstream
//! `pkg/plugins/label`).
//!
//! Anyone may use the commands; a label must already exist in the repository; only org members
//! may add `triage/accepted`; restricted labels only their allowed users and teams may change.
//! The commands are upstream's case-sensitive regexes, read after HTML comments are removed
//! (a command inside `<!-- -->` does nothing); each matched line is split on single spaces as
//! upstream does, so `/kind  bug` also asks for an empty `kind/` label that no repository has.
//! When a `pull_request` gains a label named in a restricted label's `assign_on`, the
//! restricted label's allowed users are assigned.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use prow_config::plugins::{PluginConfig, RestrictedLabel};
use prow_github::events::{CommentAction, Event, GenericCommentEvent};
use regex::Regex;

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label only org members may add.
pub const TRIAGE_ACCEPTED: &str = "triage/accepted";

/// The kinds `/<kind> <name>` works for.
pub const KINDS: [&str; 8] = [
    "area",
    "committee",
    "kind",
    "language",
    "priority",
    "sig",
    "triage",
    "wg",
];

/// Kinds whose `needs-<kind>` label comes back when the last label of the kind is removed.
const NEEDS: [&str; 4] = ["kind", "priority", "sig", "triage"];

const LABEL_GO: &str = "pkg/plugins/label/label.go";
/// An HTML comment, removed before looking for commands (upstream `commentRegex`).
static HTML_COMMENT: GoRegex = GoRegex::new(LABEL_GO, r"(?s)<!--(.*?)-->");
/// `/<kind> <name> ...` (upstream `labelRegex`; case-sensitive).
pub static LABEL_RE: GoRegex = GoRegex::new(
    LABEL_GO,
    r"(?m)^/(area|committee|kind|language|priority|sig|triage|wg)\s*(.*?)\s*$",
);
/// `/remove-<kind> <name> ...` (upstream `removeLabelRegex`).
pub static REMOVE_LABEL_RE: GoRegex = GoRegex::new(
    LABEL_GO,
    r"(?m)^/remove-(area|committee|kind|language|priority|sig|triage|wg)\s*(.*?)\s*$",
);
/// `/label <name>` (upstream `customLabelRegex`).
pub static CUSTOM_LABEL_RE: GoRegex = GoRegex::new(LABEL_GO, r"(?m)^/label\s*(.*?)\s*$");
/// `/remove-label <name>` (upstream `customRemoveLabelRegex`).
pub static CUSTOM_REMOVE_LABEL_RE: GoRegex =
    GoRegex::new(LABEL_GO, r"(?m)^/remove-label\s*(.*?)\s*$");

/// What a comment asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Requested {
    /// Labels to add, lower-cased, in the order written.
    pub add: Vec<String>,
    /// Labels to remove, lower-cased, in the order written.
    pub remove: Vec<String>,
    /// `/label x` and `/remove-label x` lines naming a label that is neither additional nor
    /// restricted, as written.
    pub unknown: Vec<String>,
}

impl Requested {
    /// Whether the comment has no label command at all.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty() && self.unknown.is_empty()
    }
}

/// The body with HTML comments removed, which is what Prow reads and quotes.
pub fn without_html_comments(body: &str) -> String {
    HTML_COMMENT.replace_all(body, "").into_owned()
}

/// Upstream's `getLabelsFromREMatches`: the whole match split on single spaces, minus the
/// command word (`/kindbug` names nothing). As upstream, two spaces name an empty label
/// (`kind/`), which the repository then lacks.
fn kind_labels(re: &Regex, body: &str) -> Vec<String> {
    let mut out = Vec::new();
    for caps in re.captures_iter(body) {
        let whole = caps.get(0).map_or("", |m| m.as_str()).trim();
        for name in whole.split(' ').skip(1) {
            out.push(format!("{}/{}", &caps[1], name.trim()).to_lowercase());
        }
    }
    out
}

fn custom_labels(
    re: &Regex,
    body: &str,
    known: &dyn Fn(&str) -> bool,
    unknown: &mut Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for caps in re.captures_iter(body) {
        let matched = caps.get(0).map_or("", |m| m.as_str());
        let parts: Vec<&str> = matched.trim().split(' ').collect();
        if parts.len() != 2 || !(parts[0] == "/label" || parts[0] == "/remove-label") {
            continue;
        }
        let name = parts[1].to_lowercase();
        if known(&name) {
            out.push(name);
        } else {
            // Upstream names the whole match, untrimmed.
            unknown.push(matched.to_owned());
        }
    }
    out
}

/// The labels `body` asks to add and remove; `/label x` works for `additional` labels and
/// `restricted` ones (keys lower-cased).
pub fn requested(
    body: &str,
    additional: &[String],
    restricted: &BTreeMap<String, RestrictedLabel>,
) -> Requested {
    let body = without_html_comments(body);
    let known = |name: &str| {
        restricted.contains_key(name) || additional.iter().any(|a| a.eq_ignore_ascii_case(name))
    };
    let mut unknown = Vec::new();
    let mut add = kind_labels(&LABEL_RE, &body);
    add.extend(custom_labels(&CUSTOM_LABEL_RE, &body, &known, &mut unknown));
    let mut remove = kind_labels(&REMOVE_LABEL_RE, &body);
    remove.extend(custom_labels(
        &CUSTOM_REMOVE_LABEL_RE,
        &body,
        &known,
        &mut unknown,
    ));
    Requested {
        add,
        remove,
        unknown,
    }
}

/// What is known when deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Facts {
    /// The repository's labels, as GitHub spells them.
    pub repo_labels: Vec<String>,
    /// The issue's labels now.
    pub issue_labels: Vec<String>,
    /// The commenter belongs to the org (consulted for `triage/accepted` only).
    pub is_member: bool,
    /// Restricted labels (lower-cased) the commenter may change: listed as an allowed user or
    /// in an allowed team.
    pub may_set: BTreeSet<String>,
}

pub use crate::Request;

/// Why `user` may not change the restricted label `label` (Prow's wording).
pub fn not_allowed(label: &str, restricted: &RestrictedLabel) -> String {
    let mut msg = format!(
        "The label(s) `{label}` cannot be applied or removed, because you are not in one of the allowed teams and are not an allowed user."
    );
    if !restricted.allowed_teams.is_empty() {
        msg.push_str(&format!(
            " Must be a member of one of these teams: {}",
            restricted.allowed_teams.join(", ")
        ));
    } else if !restricted.allowed_users.is_empty() {
        let shown: Vec<&str> = restricted
            .allowed_users
            .iter()
            .take(20)
            .map(String::as_str)
            .collect();
        msg.push_str(&format!(
            " Consider assigning one of the following members: {}",
            shown.join(",")
        ));
    }
    msg
}

fn with_category<'a>(labels: impl IntoIterator<Item = &'a String>, kind: &str) -> BTreeSet<String> {
    let prefix = format!("{kind}/");
    labels
        .into_iter()
        .filter(|l| l.starts_with(&prefix))
        .cloned()
        .collect()
}

/// The actions for `want` from `request`, given `facts`, the configured `additional` labels
/// and the repository's `restricted` labels.
pub fn decide(
    request: &Request<'_>,
    want: &Requested,
    facts: &Facts,
    additional: &[String],
    restricted: &BTreeMap<String, RestrictedLabel>,
) -> Vec<Action> {
    let quoted = without_html_comments(request.body);
    let reply = |text: &str| Action::Comment {
        org: request.org.to_owned(),
        repo: request.repo.to_owned(),
        number: request.number,
        body: format_response_raw(&quoted, request.url, request.user, text),
    };
    let in_repo: BTreeMap<String, &String> = facts
        .repo_labels
        .iter()
        .map(|l| (l.to_lowercase(), l))
        .collect();
    let on_issue = |label: &str| {
        facts
            .issue_labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case(label))
    };

    let mut add = want.add.clone();
    for kind in NEEDS {
        let needs = format!("needs-{kind}");
        if !in_repo.contains_key(&needs) {
            continue;
        }
        let removed = with_category(&want.remove, kind);
        if removed.is_empty() || !with_category(&want.add, kind).is_empty() {
            continue;
        }
        if removed.is_superset(&with_category(&facts.issue_labels, kind)) {
            add.push(needs);
        }
    }

    let mut actions = Vec::new();
    let mut missing_in_repo = Vec::new();
    let mut missing_on_issue = Vec::new();
    let mut triage_refused = false;
    let mut added = Vec::new();
    for label in &add {
        if on_issue(label) || added.contains(*in_repo.get(label).unwrap_or(&label)) {
            continue;
        }
        let Some(spelled) = in_repo.get(label) else {
            missing_in_repo.push(label.clone());
            continue;
        };
        if label == TRIAGE_ACCEPTED && !facts.is_member {
            triage_refused = true;
            continue;
        }
        if let Some(r) = restricted.get(label)
            && !facts.may_set.contains(label)
        {
            actions.push(reply(&not_allowed(label, r)));
            continue;
        }
        added.push((*spelled).clone());
    }
    if !added.is_empty() {
        actions.push(Action::AddLabels {
            org: request.org.to_owned(),
            repo: request.repo.to_owned(),
            number: request.number,
            labels: added,
        });
    }
    for label in &want.remove {
        let Some(current) = facts
            .issue_labels
            .iter()
            .find(|l| l.eq_ignore_ascii_case(label))
        else {
            missing_on_issue.push(label.clone());
            continue;
        };
        if !in_repo.contains_key(label) {
            continue;
        }
        if let Some(r) = restricted.get(label)
            && !facts.may_set.contains(label)
        {
            actions.push(reply(&not_allowed(label, r)));
            continue;
        }
        let remove = Action::RemoveLabel {
            org: request.org.to_owned(),
            repo: request.repo.to_owned(),
            number: request.number,
            label: current.clone(),
        };
        if !actions.contains(&remove) {
            actions.push(remove);
        }
    }

    if !want.unknown.is_empty() {
        let mut supported: Vec<String> = additional.to_vec();
        supported.extend(restricted.keys().cloned());
        actions.push(reply(&format!(
            "The label(s) `{}` cannot be applied. These labels are supported: `{}`. Is this label configured under `labels -> additional_labels` or `labels -> restricted_labels` in `plugin.yaml`?",
            want.unknown.join(", "),
            supported.join(", ")
        )));
    } else if !missing_in_repo.is_empty() {
        actions.push(reply(&format!(
            "The label(s) `{}` cannot be applied, because the repository doesn't have them.",
            missing_in_repo.join(", ")
        )));
    } else if !missing_on_issue.is_empty() {
        actions.push(reply(&format!(
            "Those labels are not set on the issue: `{}`",
            missing_on_issue.join(", ")
        )));
    } else if triage_refused {
        actions.push(reply(&format!(
            "The label `{TRIAGE_ACCEPTED}` cannot be applied. Only GitHub organization members can add the label."
        )));
    }
    actions
}

/// The users to assign when `label` is added to `org/repo#number`: the allowed users of every
/// restricted label whose `assign_on` names it.
pub fn assign_on(
    org: &str,
    repo: &str,
    number: u64,
    label: &str,
    restricted: &BTreeMap<String, RestrictedLabel>,
) -> Vec<Action> {
    restricted
        .values()
        .filter(|r| {
            r.assign_on
                .iter()
                .any(|a| a.label.eq_ignore_ascii_case(label))
        })
        .filter(|r| !r.allowed_users.is_empty())
        .map(|r| Action::Assign {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            logins: r.allowed_users.clone(),
        })
        .collect()
}

fn config_text(plugins: &PluginConfig) -> String {
    let mut kinds: Vec<String> = ["kind", "priority", "area"]
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
    kinds.extend(plugins.label.additional_labels.iter().cloned());
    let quoted: Vec<String> = kinds.iter().map(|k| format!("\"{k}/*\"")).collect();
    let (last, rest) = quoted.split_last().unwrap_or((&quoted[0], &[]));
    format!(
        "The label plugin will work on {} and {last} labels.",
        rest.join(", ")
    )
}

/// The label plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct LabelPlugin;

#[async_trait]
impl Plugin for LabelPlugin {
    fn name(&self) -> &'static str {
        "label"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The label plugin provides commands that add or remove certain types of labels. Labels of the following types can be manipulated: 'area/*', 'committee/*', 'kind/*', 'language/*', 'priority/*', 'sig/*', 'triage/*', and 'wg/*'. More labels can be configured to be used via the /label command. Restricted labels are only able to be added by the teams and users present in their configuration, and those users can be automatically assigned when another label is added using the assign_on config.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment", "pull_request"],
        )
        .command(
            "/[remove-](area|committee|kind|language|priority|sig|triage|wg|label) <target>",
            "Applies or removes a label from one of the recognized types of labels.",
            "Anyone can trigger this command on issues and PRs. `triage/accepted` can only be added by org members. Restricted labels are only able to be added by teams and users in their configuration.",
            &["/kind bug", "/remove-area prow", "/sig testing", "/language zh", "/label foo-bar-baz"],
        );
        help.config.insert(String::new(), config_text(plugins));
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        if let Event::PullRequest(pr) = event
            && let Some(label) = pr.label.as_ref().filter(|_| pr.action == "labeled")
        {
            let org = pr.repository.org();
            let restricted = ctx.plugins.restricted_labels_for(org, &pr.repository.name);
            return Ok(assign_on(
                org,
                &pr.repository.name,
                pr.pull_request.number,
                &label.name,
                &restricted,
            ));
        }
        // A comment, or (as with Prow's hook) a pull request's description when it is opened.
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        self.comment(ctx, gc).await
    }
}

impl LabelPlugin {
    async fn comment(
        &self,
        ctx: &Context<'_>,
        gc: &GenericCommentEvent,
    ) -> Result<Vec<Action>, PluginError> {
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        let additional = &ctx.plugins.label.additional_labels;
        let restricted = ctx.plugins.restricted_labels_for(org, repo);
        // The whole comment, not `ctx.commands`: removing an HTML comment can start a line
        // with a command (`<!-- x -->/kind bug`).
        let want = requested(&gc.body, additional, &restricted);
        if want.is_empty() {
            return Ok(Vec::new());
        }
        let user = gc.user.login.as_str();
        let repo_labels = ctx
            .github
            .repo_labels(org, repo)
            .await
            .map_err(PluginError::github(format!(
                "read the labels of {org}/{repo}"
            )))?;
        let issue_labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let is_member = if want.add.iter().any(|l| l == TRIAGE_ACCEPTED) {
            ctx.github
                .is_org_member(org, user)
                .await
                .map_err(PluginError::github(format!(
                    "check whether {user} belongs to {org}"
                )))?
        } else {
            false
        };
        let mut may_set = BTreeSet::new();
        for label in want.add.iter().chain(&want.remove) {
            let Some(r) = restricted.get(label) else {
                continue;
            };
            if may_set.contains(label) {
                continue;
            }
            let mut allowed = r.allowed_users.iter().any(|u| u.eq_ignore_ascii_case(user));
            for team in &r.allowed_teams {
                if allowed {
                    break;
                }
                allowed = ctx.github.is_team_member(org, team, user).await.map_err(
                    PluginError::github(format!(
                        "check whether {user} belongs to team {org}/{team}"
                    )),
                )?;
            }
            if allowed {
                may_set.insert(label.clone());
            }
        }
        let facts = Facts {
            repo_labels: repo_labels.into_iter().map(|l| l.name).collect(),
            issue_labels: issue_labels.into_iter().map(|l| l.name).collect(),
            is_member,
            may_set,
        };
        let request = Request {
            org,
            repo,
            number,
            user,
            body: &gc.body,
            url: &gc.html_url,
        };
        Ok(decide(&request, &want, &facts, additional, &restricted))
    }
}
