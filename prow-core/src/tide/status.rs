//! The `tide` status context: which state and description tide sets on each PR (upstream
//! `pkg/tide/status.go`), with Prow's exact texts.

use super::blockers::Blocker;
use super::context::{ContextPolicy, MergeBlocksPolicy, MergeStateStatus, PullRequest};

/// Description of a PR in the merge pool.
pub const STATUS_IN_POOL: &str = "In merge pool.";
/// Description of a PR in the pool although GitHub reports it `BLOCKED` (policy `permit`).
pub const STATUS_IN_POOL_DESPITE_BLOCKED: &str = "In merge pool (despite BLOCKED).";
/// GitHub's limit on status descriptions.
pub const MAX_STATUS_DESCRIPTION_LENGTH: usize = 140;

const NOT_IN_POOL: &str = "Not mergeable.";
const MAX_LABEL_CHARS: usize = 50;

/// The state tide gives its status context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StatusState {
    /// In the merge pool.
    Success,
    /// Not in the pool yet, or retesting.
    #[default]
    Pending,
    /// Cannot merge at all.
    Error,
}

impl StatusState {
    /// GitHub's name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusState::Success => "success",
            StatusState::Pending => "pending",
            StatusState::Error => "error",
        }
    }
}

/// The parts of a tide query the status controller compares a PR against.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct QueryRequirements {
    /// Required author (empty for any).
    pub author: String,
    /// Required labels; an entry `a,b` means "a or b".
    pub labels: Vec<String>,
    /// Forbidden labels.
    pub missing_labels: Vec<String>,
    /// Allowed base branches (empty for all).
    pub included_branches: Vec<String>,
    /// Forbidden base branches.
    pub excluded_branches: Vec<String>,
    /// Required milestone (empty for any).
    pub milestone: String,
    /// Whether GitHub's review decision must be `APPROVED`.
    pub review_approved_required: bool,
}

fn norm_login(login: &str) -> String {
    login.trim_start_matches('@').to_lowercase()
}

/// Keeps as many names as fit in the description, at least one.
fn truncate(names: &[String]) -> &[String] {
    let mut chars = names[0].len();
    let mut i = 1;
    while i < names.len() {
        if chars + names[i].len() > MAX_LABEL_CHARS {
            break;
        }
        chars += names[i].len() + 2;
        i += 1;
    }
    &names[..i]
}

/// ` Needs a label.` / ` Needs a, b labels.` with `prefix` = `Needs`.
fn labels_text(names: &mut [String], prefix: &str) -> String {
    names.sort();
    let kept = truncate(names);
    if kept.len() == 1 {
        format!(" {prefix} {} label.", kept[0])
    } else {
        format!(" {prefix} {} labels.", kept.join(", "))
    }
}

/// How far `pr` is from matching query `q`: the description of the most important difference
/// and the weighted number of differences (Prow's `requirementDiff`; 0 means it matches).
pub fn requirement_diff(
    pr: &PullRequest,
    q: &QueryRequirements,
    policy: &ContextPolicy,
    blocks: MergeBlocksPolicy,
) -> (String, u32) {
    let mut desc = String::new();
    let mut diff = 0;
    let note = |desc: &mut String, text: String| {
        if desc.is_empty() {
            *desc = text;
        }
    };
    let denied = q.excluded_branches.contains(&pr.base_ref);
    let allowed = q.included_branches.is_empty() || q.included_branches.contains(&pr.base_ref);
    if denied || !allowed {
        diff += 2000;
        note(
            &mut desc,
            format!(" Merging to branch {} is forbidden.", pr.base_ref),
        );
    }
    let author = norm_login(&q.author);
    if !author.is_empty() && norm_login(&pr.author) != author {
        diff += 1000;
        note(&mut desc, format!(" Must be by author {author}."));
    }
    if !q.milestone.is_empty() && pr.milestone.as_deref() != Some(q.milestone.as_str()) {
        diff += 100;
        note(&mut desc, format!(" Must be in milestone {}.", q.milestone));
    }
    let mut missing: Vec<String> = q
        .labels
        .iter()
        .filter(|l| !l.split(',').any(|alt| pr.has_label(alt)))
        .map(|l| l.replace(',', " or "))
        .collect();
    diff += missing.len() as u32;
    if !missing.is_empty() {
        note(&mut desc, labels_text(&mut missing, "Needs"));
    }
    let mut present: Vec<String> = q
        .missing_labels
        .iter()
        .filter(|l| pr.has_label(l))
        .cloned()
        .collect();
    diff += present.len() as u32;
    if !present.is_empty() {
        note(&mut desc, labels_text(&mut present, "Should not have"));
    }
    let mut contexts: Vec<String> = policy
        .unsuccessful_contexts(&pr.contexts)
        .into_iter()
        .map(|c| c.name)
        .collect();
    // Prow appends the missing required contexts a second time; the weight counts both.
    let present_names: Vec<&str> = pr.contexts.iter().map(|c| c.name.as_str()).collect();
    contexts.extend(policy.missing_required_contexts(&present_names));
    diff += contexts.len() as u32;
    if !contexts.is_empty() {
        contexts.sort();
        contexts.dedup();
        let kept = truncate(&contexts);
        let text = if kept.len() == 1 {
            format!(" Job {} has not succeeded.", kept[0])
        } else {
            format!(" Jobs {} have not succeeded.", kept.join(", "))
        };
        note(&mut desc, text);
    }
    if q.review_approved_required && !pr.review_approved {
        diff += 50;
        note(
            &mut desc,
            " PullRequest is missing sufficient approving GitHub review(s)".to_string(),
        );
    }
    if blocks == MergeBlocksPolicy::Block && pr.merge_state == MergeStateStatus::Blocked {
        diff += 100;
        note(
            &mut desc,
            " Blocked by GitHub (branch rulesets or protection)".to_string(),
        );
    }
    (desc, diff)
}

/// The description while required jobs are rerun for the current base (Prow's
/// `retestingStatus`).
pub fn retesting_status(retested: &[String]) -> String {
    let mut retested = retested.to_vec();
    retested.sort();
    let all = format!("{NOT_IN_POOL} Retesting: {}", retested.join(" "));
    if all.len() > MAX_STATUS_DESCRIPTION_LENGTH {
        let s = if retested.len() > 1 { "s" } else { "" };
        return format!("{NOT_IN_POOL} Retesting {} job{s}.", retested.len());
    }
    all
}

/// Shortens a description to GitHub's limit, ending it with `...` (on a character boundary).
pub fn truncate_description(desc: &str) -> String {
    if desc.len() <= MAX_STATUS_DESCRIPTION_LENGTH {
        return desc.to_string();
    }
    let mut end = MAX_STATUS_DESCRIPTION_LENGTH - 3;
    while !desc.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &desc[..end])
}

/// Everything [`expected_status`] needs to know about one PR.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct StatusInput<'a> {
    /// The PR.
    pub pr: &'a PullRequest,
    /// Why it may not merge at all (from `not_allowed_to_merge_reason`).
    pub not_allowed_reason: Option<&'a str>,
    /// Whether the sync controller put it in the pool.
    pub in_pool: bool,
    /// Blocking issues applicable to its branch.
    pub blockers: &'a [Blocker],
    /// The tide queries for its repository.
    pub queries: &'a [QueryRequirements],
    /// Its context policy.
    pub policy: &'a ContextPolicy,
    /// The repository's GitHub merge-blocks policy.
    pub blocks_policy: MergeBlocksPolicy,
    /// `display_all_tide_queries_in_status`.
    pub display_all_queries: bool,
    /// Contexts whose ProwJobs passed for the current base and head.
    pub passing_up_to_date: &'a [String],
}

impl<'a> StatusInput<'a> {
    /// Input for `pr` with no blockers, no queries, and nothing passing yet.
    pub fn new(pr: &'a PullRequest, policy: &'a ContextPolicy) -> Self {
        StatusInput {
            pr,
            not_allowed_reason: None,
            in_pool: false,
            blockers: &[],
            queries: &[],
            policy,
            blocks_policy: MergeBlocksPolicy::default(),
            display_all_queries: false,
            passing_up_to_date: &[],
        }
    }
}

/// The state and description of the `tide` context for one PR (Prow's `expectedStatus`),
/// before truncation to [`MAX_STATUS_DESCRIPTION_LENGTH`].
pub fn expected_status(input: &StatusInput<'_>) -> (StatusState, String) {
    if let Some(reason) = input.not_allowed_reason {
        return (StatusState::Error, format!("{NOT_IN_POOL} {reason}"));
    }
    if !input.in_pool {
        let mut numbers: Vec<u64> = input.blockers.iter().map(|b| b.number).collect();
        numbers.sort_unstable();
        if !numbers.is_empty() {
            let s = if numbers.len() > 1 { "s" } else { "" };
            let list: Vec<String> = numbers.iter().map(u64::to_string).collect();
            return (
                StatusState::Error,
                format!(
                    "{NOT_IN_POOL} Merging is blocked by issue{s} {}.",
                    list.join(", ")
                ),
            );
        }
        let mut fulfilled = false;
        let mut min_count: Option<u32> = None;
        let mut min_diff = String::new();
        for q in input.queries {
            let (diff, count) = requirement_diff(input.pr, q, input.policy, input.blocks_policy);
            if count == 0 {
                fulfilled = true;
                break;
            } else if input.display_all_queries {
                if count >= 2000 {
                    continue;
                }
                if !min_diff.is_empty() {
                    min_diff = format!("{} OR", min_diff.strip_suffix('.').unwrap_or(&min_diff));
                }
                min_diff.push_str(&diff);
            } else if min_count.is_none_or(|m| count < m) {
                min_count = Some(count);
                min_diff = diff;
            }
        }
        if input.display_all_queries && min_diff.is_empty() {
            min_diff = format!(" No Tide query for branch {} found.", input.pr.base_ref);
        }
        if !fulfilled {
            return (StatusState::Pending, format!("{NOT_IN_POOL}{min_diff}"));
        }
    }
    let passing: Vec<&str> = input
        .passing_up_to_date
        .iter()
        .map(String::as_str)
        .collect();
    let missing = input.policy.missing_required_contexts(&passing);
    if !missing.is_empty() {
        return (StatusState::Pending, retesting_status(&missing));
    }
    let text = if input.blocks_policy == MergeBlocksPolicy::Permit
        && input.pr.merge_state == MergeStateStatus::Blocked
    {
        STATUS_IN_POOL_DESPITE_BLOCKED
    } else {
        STATUS_IN_POOL
    };
    (StatusState::Success, text.to_string())
}
