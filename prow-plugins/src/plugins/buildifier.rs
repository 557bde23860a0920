//! buildifier: `/buildify` (or `/buildifier`) on an open pull request checks the Bazel files it
//! changes with the `buildifier` formatter and posts a review asking to reformat each one that
//! needs it (upstream `pkg/plugins/buildifier`).
//!
//! Upstream links buildtools' formatter in; here the `buildifier` binary is run
//! (`buildifier --mode=check`, which prints `<file> # reformat` for each file it would
//! change) when it is on the `PATH` of the hook process; when it is not, the plugin replies
//! so and logs it. The pull request is cloned from
//! [`prow_github::GitHubClient::git_remote`] and checked out at `refs/pull/N/head`.
//!
//! Differences: upstream's review comments sit at diff position 1; here at the first line of
//! the file's first hunk (the same place in the diff, in today's line-based review API).
//! Upstream skips generated files named by `.generated_files`; that list is not read here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::client::{DraftReview, DraftReviewComment};
use prow_github::events::Event;
use prow_github::types::PullRequestFile;

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The plugin's name.
pub const PLUGIN_NAME: &str = "buildifier";
/// The formatter's binary name, looked up on `PATH`.
pub const BINARY: &str = "buildifier";
/// The reply when the binary is not installed.
pub const NOT_INSTALLED: &str = "Cannot buildify this pull request: the `buildifier` binary is not installed on the Prow hook (it was not found on `PATH`).";

/// `/buildify` or `/buildifier` (upstream `buildifyRe`).
pub static BUILDIFY_RE: GoRegex = GoRegex::new(
    "pkg/plugins/buildifier/buildifier.go",
    r"(?mi)^/buildif(y|ier)\s*$",
);

/// Whether `body` asks for `/buildify`.
pub fn requested(body: &str) -> bool {
    BUILDIFY_RE.is_match(body)
}

/// The Bazel files a pull request changes, with their patches (upstream
/// `modifiedBazelFiles`): not removed or renamed, and named `BUILD…`, `WORKSPACE…` or
/// `*.bzl`.
pub fn modified_bazel_files(changes: &[PullRequestFile]) -> Vec<(String, String)> {
    changes
        .iter()
        .filter(|c| c.status != "removed" && c.status != "renamed")
        .filter(|c| {
            c.filename.contains("BUILD")
                || c.filename.contains("WORKSPACE")
                || Path::new(&c.filename)
                    .extension()
                    .is_some_and(|e| e == "bzl")
        })
        .map(|c| (c.filename.clone(), c.patch.clone().unwrap_or_default()))
        .collect()
}

/// The files `buildifier --mode=check` says need reformatting, from its output.
pub fn files_to_reformat(output: &str) -> Vec<String> {
    let mut files: Vec<String> = output
        .lines()
        .filter_map(|l| {
            l.split_once(" # reformat")
                .map(|(f, _)| f.trim().to_owned())
        })
        .map(|f| f.strip_prefix("./").map(str::to_owned).unwrap_or(f))
        .collect();
    files.sort();
    files.dedup();
    files
}

/// The first new-side line of a patch's first hunk (1 without one).
fn first_line(patch: &str) -> u64 {
    patch
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("@@ -")?;
            let plus = rest.split_once(" +")?.1;
            let start = plus.split([',', ' ']).next()?;
            start.parse::<u64>().ok()
        })
        .unwrap_or(1)
        .max(1)
}

/// The review for the files needing reformatting among `files` (path, patch): one comment on
/// each, and upstream's count.
pub fn review(
    problems: &[String],
    files: &[(String, String)],
) -> (String, Vec<DraftReviewComment>) {
    let comments: Vec<DraftReviewComment> = problems
        .iter()
        .map(|f| {
            let patch = files
                .iter()
                .find(|(p, _)| p == f)
                .map_or("", |(_, patch)| patch.as_str());
            DraftReviewComment::new(
                f,
                first_line(patch),
                &format!(
                    "This Bazel file needs formatting, run:\n```shell\nbuildifier -mode=fix {f:?}\n```"
                ),
            )
        })
        .collect();
    let total = problems.len();
    let s = if total == 1 { "" } else { "s" };
    (format!("{total} warning{s}."), comments)
}

/// `name` in the directories of `path` (a `PATH` value), if one has an executable of that name.
pub fn find_on_path(name: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The buildifier plugin.
#[derive(Debug, Clone, Default)]
pub struct Buildifier {
    /// Where to look for the binary; `None` reads the process's `PATH` at each run.
    search_path: Option<OsString>,
}

impl Buildifier {
    /// The plugin looking for `buildifier` in `search_path` (a `PATH` value) instead of the
    /// process's `PATH`.
    pub fn with_search_path(search_path: impl Into<OsString>) -> Self {
        Buildifier {
            search_path: Some(search_path.into()),
        }
    }

    fn binary(&self) -> Option<PathBuf> {
        let path = self
            .search_path
            .clone()
            .or_else(|| std::env::var_os("PATH"))?;
        find_on_path(BINARY, &path)
    }
}

/// Clones `remote`, checks out pull request `number` and runs `binary --mode=check` over
/// `files` in it; answers the output.
fn check(remote: &str, number: u64, binary: &Path, files: &[String]) -> Result<String, String> {
    let copy = crate::git::WorkingCopy::clone(remote).map_err(|e| format!("clone: {e}"))?;
    let head = copy
        .fetch(&format!("refs/pull/{number}/head"))
        .map_err(|e| format!("fetch the pull request: {e}"))?;
    copy.checkout_commit(head)
        .map_err(|e| format!("check out the pull request: {e}"))?;
    let output = std::process::Command::new(binary)
        .arg("--mode=check")
        .args(files)
        .current_dir(copy.path())
        .output()
        .map_err(|e| format!("run {}: {e}", binary.display()))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    // 0: formatted; 4: some file needs reformatting. Anything else is a failure (such as a
    // file that does not parse).
    match output.status.code() {
        Some(0 | 4) => Ok(text),
        _ => Err(format!(
            "buildifier failed ({}): {}",
            output.status,
            text.trim()
        )),
    }
}

#[async_trait]
impl Plugin for Buildifier {
    fn name(&self) -> &'static str {
        PLUGIN_NAME
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The buildifier plugin runs buildifier on changes made to Bazel files in a PR. It then creates a new review on the pull request and leaves warnings at the appropriate lines of code.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/buildif(y|ier)",
            "Runs buildifier on changes made to Bazel files in a PR",
            "Anyone can trigger this command on a PR.",
            &["/buildify", "/buildifier"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if !gc.is_new_on_open_pull_request() || !requested(ctx.commands) {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        let pr = ctx.pull_request(org, repo, number).await?;
        let changes = ctx.pull_request_files(org, repo, number).await?;
        let files = modified_bazel_files(&changes);
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let reply = |text: &str| Action::Comment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            body: format_response_raw(&gc.body, &gc.html_url, &gc.user.login, text),
        };
        let Some(binary) = self.binary() else {
            tracing::warn!(
                plugin = PLUGIN_NAME,
                org,
                repo,
                pr = number,
                "buildifier is not installed: not found on PATH"
            );
            return Ok(vec![reply(NOT_INSTALLED)]);
        };
        tracing::info!(
            plugin = PLUGIN_NAME,
            org,
            repo,
            pr = number,
            files = files.len(),
            "will buildify modified Bazel files"
        );
        let remote = ctx.git_remote(org, repo).await?;
        let names: Vec<String> = files.iter().map(|(f, _)| f.clone()).collect();
        let output = tokio::task::spawn_blocking(move || check(&remote, number, &binary, &names))
            .await
            .map_err(|e| PluginError::Other(format!("buildify {org}/{repo}#{number}: {e}")))?
            .map_err(|e| PluginError::Other(format!("buildify {org}/{repo}#{number}: {e}")))?;
        let (summary, comments) = review(&files_to_reformat(&output), &files);
        Ok(vec![Action::Review {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            review: DraftReview::comment(
                &format_response_raw(&gc.body, &gc.html_url, &gc.user.login, &summary),
                &pr.head.sha,
                comments,
            ),
        }])
    }
}
