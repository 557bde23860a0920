//! The failed-tests comment crier keeps on a pull request (upstream `pkg/github/report`), as
//! pure code: from the comments already on the pull request and the jobs being reported, what
//! to create, edit or delete, and the exact text.
//!
//! The comment is a table with one row per failed job, found again by a hidden marker. Prow
//! deletes it and posts a new one whenever a job fails; here it is kept in place instead: a
//! failing job adds or updates its row, a job that then passes or errors loses its row, and
//! the comment goes once no row remains. Older duplicates (from Prow, or from races) are
//! deleted and their rows carried over.

use std::collections::BTreeMap;

use prow_core::{ProwJob, ProwJobState, ProwJobType, labels};
use prow_github::types::Comment;

/// The hidden marker that identifies the failed-tests comment.
pub const COMMENT_TAG: &str = "<!-- test report -->";

/// What every comment of the bot ends with: how to talk to it.
pub const ABOUT_THIS_BOT: &str = "Instructions for interacting with me using PR comments are \
available [here](https://git.k8s.io/community/contributors/guide/pull-requests.md).  If you \
have questions or suggestions related to my behavior, please file an issue against the \
[kubernetes-sigs/prow](https://github.com/kubernetes-sigs/prow/issues/new?title=Prow%20issue:) \
repository. I understand the commands that are listed [here](https://go.k8s.io/bot-commands).";

/// The table's header and separator lines.
const TABLE_HEADER: [&str; 2] = [
    "Test name | Commit | Details | Required | Rerun command",
    "--- | --- | --- | --- | ---",
];

/// What to do with the failed-tests comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommentPlan {
    /// Comments to delete, by ID.
    pub delete: Vec<u64>,
    /// The comment to write, if any.
    pub write: Option<CommentWrite>,
}

/// Writing the failed-tests comment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommentWrite {
    /// Post a new comment with this body.
    Create {
        /// The text.
        body: String,
    },
    /// Replace the text of the comment `id`.
    Edit {
        /// The comment's ID.
        id: u64,
        /// The new text.
        body: String,
    },
}

impl CommentPlan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.write.is_none()
    }
}

/// Whether a comment by `login` was written by the bot `bot`; GitHub Apps comment as
/// `name[bot]`, so the suffix is ignored on both sides.
pub fn is_bot(bot: &str, login: &str) -> bool {
    let plain = |s: &str| s.strip_suffix("[bot]").unwrap_or(s).to_owned();
    !bot.is_empty() && plain(bot) == plain(login)
}

/// What to do with the failed-tests comment on a pull request, given the `comments` on it, the
/// bot's login, and the completed `jobs` being reported (all on this pull request). With
/// `must_create`, a comment is written even when no test failed (the "all passed" summary of
/// `summary_comment_repos`), unless a job was aborted. `report` is the rendered
/// `report_templates` text for the repository, if it has one; it follows the table.
pub fn plan_comment(
    jobs: &[&ProwJob],
    bot: &str,
    comments: &[Comment],
    must_create: bool,
    report: Option<&str>,
) -> CommentPlan {
    let jobs: Vec<&ProwJob> = jobs.iter().copied().filter(|j| j.is_complete()).collect();
    let Some(first) = jobs.first() else {
        return CommentPlan::default();
    };
    let Some(author) = single_pull(first).map(|p| p.author.as_str()) else {
        return CommentPlan::default();
    };

    let ours: Vec<&Comment> = comments
        .iter()
        .filter(|c| is_bot(bot, &c.user.login))
        .filter(|c| c.body.as_deref().is_some_and(|b| b.contains(COMMENT_TAG)))
        .collect();
    let (latest, older) = match ours.split_last() {
        Some((latest, older)) => (Some(*latest), older),
        None => (None, &[][..]),
    };

    // Rows from every marked comment, oldest first; a later row for a context replaces an
    // earlier one where the earlier one stood.
    let mut rows: Vec<String> = Vec::new();
    for comment in &ours {
        for row in table_rows(comment.body.as_deref().unwrap_or_default()) {
            match rows
                .iter()
                .position(|r| row_context(r) == row_context(&row))
            {
                Some(i) => rows[i] = row,
                None => rows.push(row),
            }
        }
    }
    // The jobs being reported decide their own rows: failures update theirs in place or add
    // one; anything else removes it.
    for job in &jobs {
        let context = job.spec.context.as_str();
        let position = rows.iter().position(|r| row_context(r) == context);
        let failed = job.state() == Some(ProwJobState::Failure);
        match (position, failed) {
            (Some(i), true) => rows[i] = table_row(job),
            (None, true) => rows.push(table_row(job)),
            (Some(i), false) => {
                rows.remove(i);
            }
            (None, false) => {}
        }
    }

    let mut delete: Vec<u64> = older.iter().map(|c| c.id).collect();
    let aborted = jobs
        .iter()
        .any(|j| j.state() == Some(ProwJobState::Aborted));
    let write_body = !rows.is_empty() || (must_create && !aborted);
    let write = match (write_body, latest) {
        (true, Some(latest)) => {
            let body = comment_body(author, &rows, report);
            (latest.body.as_deref() != Some(body.as_str())).then_some(CommentWrite::Edit {
                id: latest.id,
                body,
            })
        }
        (true, None) => Some(CommentWrite::Create {
            body: comment_body(author, &rows, report),
        }),
        (false, Some(latest)) => {
            delete.push(latest.id);
            None
        }
        (false, None) => None,
    };
    CommentPlan { delete, write }
}

/// The jobs a summary comment (`summary_comment_repos`) reports for `job`'s pull request: the
/// newest run of each reported job among `all` that tests the same pull request, or nothing
/// while any of them still runs.
pub fn summary_jobs<'a, J: std::borrow::Borrow<ProwJob>>(
    job: &ProwJob,
    all: &'a [J],
) -> Vec<&'a ProwJob> {
    let Some((refs, pull)) = job.spec.refs.as_ref().zip(single_pull(job)) else {
        return Vec::new();
    };
    let same_pull = |other: &&ProwJob| {
        other.spec.refs.as_ref().is_some_and(|r| {
            r.org == refs.org
                && r.repo == refs.repo
                && matches!(r.pulls.as_slice(), [p] if p.number == pull.number)
        })
    };
    let mut latest: BTreeMap<&str, &ProwJob> = BTreeMap::new();
    for other in all.iter().map(J::borrow).filter(same_pull) {
        if !other.is_complete() {
            return Vec::new();
        }
        if !other.spec.report {
            continue;
        }
        // Creation times have whole seconds, so runs created together are told apart by
        // their start times.
        let created = |j: &ProwJob| {
            let start = j.status.as_ref().and_then(|s| s.start_time.as_ref());
            (
                j.metadata.creation_timestamp.as_ref().map(|t| t.0),
                start.map(|t| t.0),
            )
        };
        match latest.get(other.spec.job.as_str()) {
            Some(kept) if created(kept) >= created(other) => {}
            _ => {
                latest.insert(&other.spec.job, other);
            }
        }
    }
    latest.into_values().collect()
}

/// The one pull request a job tests; batches and postsubmits have none.
fn single_pull(job: &ProwJob) -> Option<&prow_core::Pull> {
    match job.spec.refs.as_ref().map(|r| r.pulls.as_slice()) {
        Some([pull]) => Some(pull),
        _ => None,
    }
}

/// The table rows of a comment: the lines after a `---` separator up to the next blank line.
pub fn table_rows(body: &str) -> Vec<String> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in body.lines() {
        let line = line.trim();
        if line.starts_with("---") {
            in_table = true;
        } else if line.is_empty() {
            in_table = false;
        } else if in_table {
            rows.push(line.to_owned());
        }
    }
    rows
}

/// The context (test name) a row is about: its first cell.
fn row_context(row: &str) -> &str {
    row.split(" | ").next().unwrap_or(row)
}

/// A job's row: context, commit, link, whether it is required, and how to rerun it.
pub fn table_row(job: &ProwJob) -> String {
    let required = if job.spec.job_type == ProwJobType::Presubmit {
        job.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(labels::IS_OPTIONAL))
            .and_then(|v| parse_go_bool(v))
            .map_or(
                "unknown",
                |optional| if optional { "false" } else { "true" },
            )
    } else {
        "unknown"
    };
    let sha = single_pull(job).map_or("", |p| p.sha.as_str());
    let url = job.status.as_ref().map_or("", |s| s.url.as_str());
    format!(
        "{} | {sha} | [link]({url}) | {required} | `{}`",
        job.spec.context, job.spec.rerun_command
    )
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The comment's text for the pull request's `author` and the table `rows` (with no rows, the
/// "all passed" summary), followed by the rendered report template, if any, as upstream's
/// `createComment` lays it out.
pub fn comment_body(author: &str, rows: &[String], report: Option<&str>) -> String {
    let mut lines: Vec<String> = if rows.is_empty() {
        vec![format!("@{author}: all tests **passed!**"), String::new()]
    } else {
        let plural = if rows.len() > 1 { "s" } else { "" };
        let mut lines = vec![
            format!(
                "@{author}: The following test{plural} **failed**, say `/retest` to rerun all \
                 failed tests or `/retest-required` to rerun all mandatory failed tests:"
            ),
            String::new(),
        ];
        lines.extend(TABLE_HEADER.iter().map(|s| (*s).to_owned()));
        lines
    };
    lines.extend(rows.iter().cloned());
    if let Some(report) = report {
        lines.push(String::new());
        lines.push(report.to_owned());
    }
    lines.extend(
        [
            "",
            "<details>",
            "",
            ABOUT_THIS_BOT,
            "</details>",
            COMMENT_TAG,
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    lines.join("\n")
}
