//! golint: `/lint` on a pull request runs a linter over the files it changes, in a checkout of
//! its head, and posts a review with a comment on each added line the linter complains about
//! (upstream `pkg/plugins/golint`, which runs golint over `*.go` files).
//!
//! What `prow hook` registers ([`Lint::default`]) runs the `golint` binary found on `PATH`
//! over the changed `.go` files, in a checkout of the pull request fetched from the remote the
//! GitHub client gives (`--github-endpoint`'s host, with the bot's token), where upstream links
//! golint in as a library. A missing binary is answered as such on the pull request.
//! Embedders may run any linter printing `path:line[:column]: message` lines (go vet,
//! staticcheck, ruff, shellcheck `-f gcc`...) over other extensions with [`Lint::new`]; with
//! no checkout, `/lint` answers so instead of linting.
//!
//! As upstream: only lines the pull request adds get comments, at most 20, each tagged
//! `<!-- golint -->`; the review says how many warnings there are. Not built: upstream's
//! count of warnings already reported by earlier reviews, and its code suggestions.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::client::{DraftReview, DraftReviewComment};
use prow_github::events::Event;
use regex::Regex;

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// Marks the bot's lint comments.
pub const COMMENT_TAG: &str = "<!-- golint -->";
/// The most comments one review gets.
pub const MAX_COMMENTS: usize = 20;
/// The reply when there is no git source to check the pull request out from.
pub const NO_CHECKOUT: &str = "Cannot lint this pull request: no git source is configured to check it out from (set `PROW_LINT_GIT_URL`, e.g. `https://github.com/{org}/{repo}.git`).";

/// `/lint` (upstream `lintRe`).
pub static LINT_RE: GoRegex = GoRegex::new("pkg/plugins/golint/golint.go", r"(?mi)^/lint\s*$");
static HUNK_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^@@ -(\d+),?(\d+)? \+(\d+),?(\d+)? @@").expect("valid regex"));
static PROBLEM_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\./)?([^:\s][^:]*):(\d+)(?::\d+)?:\s*(.+)$").expect("valid regex")
});

/// Whether `body` asks for `/lint`.
pub fn requested(body: &str) -> bool {
    LINT_RE.is_match(body)
}

/// The lines of the new file a unified diff adds (upstream's `AddedLines`).
pub fn added_lines(patch: &str) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    let lines: Vec<&str> = patch.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.is_empty() || line == "\\ No newline at end of file" {
            continue;
        }
        let hunk = HUNK_RE
            .captures(line)
            .ok_or_else(|| format!("line {i} of the patch is not a hunk header: {line:?}"))?;
        let number = |n: usize, default: u64| {
            hunk.get(n)
                .map_or(Ok(default), |m| m.as_str().parse::<u64>())
                .map_err(|e| format!("hunk header {line:?}: {e}"))
        };
        let (old_len, mut new_line, new_len) = (number(2, 1)?, number(3, 0)?, number(4, 1)?);
        let (mut old_seen, mut new_seen) = (0, 0);
        while old_seen < old_len || new_seen < new_len {
            let Some(body) = lines.get(i) else {
                return Err(format!("the patch ends inside the hunk {line:?}"));
            };
            i += 1;
            match body.chars().next() {
                Some(' ') | None => {
                    old_seen += 1;
                    new_seen += 1;
                    new_line += 1;
                }
                Some('-') => old_seen += 1,
                Some('+') => {
                    out.push(new_line);
                    new_seen += 1;
                    new_line += 1;
                }
                Some('\\') => {}
                Some(_) => return Err(format!("bad line {i} in the patch: {body:?}")),
            }
        }
    }
    Ok(out)
}

/// One complaint of the linter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The file, relative to the checkout.
    pub path: String,
    /// The line.
    pub line: u64,
    /// What is wrong.
    pub text: String,
}

/// The problems in a linter's output (`path:line[:column]: message` lines; others ignored).
pub fn parse_output(output: &str) -> Vec<Problem> {
    output
        .lines()
        .filter_map(|l| {
            let m = PROBLEM_RE.captures(l.trim_end())?;
            Some(Problem {
                path: m[1].to_owned(),
                line: m[2].parse().ok()?,
                text: m[3].trim().trim_end_matches('.').to_owned(),
            })
        })
        .collect()
}

/// The review for `problems` on a pull request whose `added` lines are known per file:
/// comments on added lines only (at most [`MAX_COMMENTS`]), and upstream's count.
pub fn review(
    problems: &[Problem],
    added: &BTreeMap<String, Vec<u64>>,
) -> (String, Vec<DraftReviewComment>) {
    let relevant: Vec<&Problem> = problems
        .iter()
        .filter(|p| added.get(&p.path).is_some_and(|l| l.contains(&p.line)))
        .collect();
    let total = relevant.len();
    let comments = relevant
        .into_iter()
        .take(MAX_COMMENTS)
        .map(|p| {
            DraftReviewComment::new(
                &p.path,
                p.line,
                &format!("Golint: {}. {COMMENT_TAG}", p.text),
            )
        })
        .collect();
    let s = if total == 1 { "" } else { "s" };
    (format!("{total} warning{s}."), comments)
}

/// A checkout of a pull request's head.
#[async_trait]
pub trait Checkout: Send + Sync {
    /// Checks out pull request `number` of the repository at `remote` (which may carry a
    /// token: never show it) at `sha` into a new directory, removed when dropped.
    async fn checkout(
        &self,
        remote: &str,
        number: u64,
        sha: &str,
    ) -> Result<tempfile::TempDir, String>;
}

/// Checkouts with libgit2: `refs/pull/<number>/head` fetched from the repository's remote as
/// the GitHub client gives it ([`prow_github::GitHubClient::git_remote`]), so a token in the
/// address never reaches a process list or a reply.
#[derive(Debug, Clone, Copy, Default)]
pub struct GitCheckout;

/// Fetches pull request `number` from `remote` into `dir` and checks it out; answers its SHA.
fn fetch_pull(remote: &str, number: u64, dir: &Path) -> Result<String, git2::Error> {
    let repo = git2::Repository::init(dir)?;
    let mut origin = repo.remote_anonymous(remote)?;
    let mut options = git2::FetchOptions::new();
    if !remote.starts_with("file:") && !remote.starts_with('/') {
        // libgit2's local transport cannot fetch shallow.
        options.depth(1);
    }
    let refspec = format!("+refs/pull/{number}/head:refs/prow/head");
    origin.fetch(&[refspec.as_str()], Some(&mut options), None)?;
    let commit = repo.find_reference("refs/prow/head")?.peel_to_commit()?;
    repo.checkout_tree(
        commit.as_object(),
        Some(git2::build::CheckoutBuilder::new().force()),
    )?;
    repo.set_head_detached(commit.id())?;
    Ok(commit.id().to_string())
}

#[async_trait]
impl Checkout for GitCheckout {
    async fn checkout(
        &self,
        remote: &str,
        number: u64,
        sha: &str,
    ) -> Result<tempfile::TempDir, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("make a checkout directory: {e}"))?;
        let (remote, path) = (remote.to_owned(), dir.path().to_owned());
        let head = tokio::task::spawn_blocking(move || fetch_pull(&remote, number, &path))
            .await
            .map_err(|e| format!("git fetch of pull/{number}/head stopped: {e}"))?
            .map_err(|e| format!("git fetch of pull/{number}/head: {}", e.message()))?;
        // The head may have moved since the event; lint what GitHub shows now only if it is
        // still the commit the files were listed for.
        if !sha.is_empty() && head != sha {
            return Err(format!("the pull request moved to {head} (expected {sha})"));
        }
        Ok(dir)
    }
}

/// How the lint plugin runs.
#[derive(Clone)]
#[non_exhaustive]
pub struct LintSettings {
    /// The command and its arguments; the files are appended.
    pub command: Vec<String>,
    /// The extensions of the files linted, like `.go`.
    pub extensions: Vec<String>,
    /// Where pull requests are checked out from; `None` when there is no git source.
    pub checkout: Option<Arc<dyn Checkout>>,
}

impl std::fmt::Debug for LintSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LintSettings")
            .field("command", &self.command)
            .field("extensions", &self.extensions)
            .field("checkout", &self.checkout.is_some())
            .finish()
    }
}

impl LintSettings {
    /// Settings running `command` over files with `extensions`, checked out by `checkout`.
    pub fn new(
        command: Vec<String>,
        extensions: Vec<String>,
        checkout: Option<Arc<dyn Checkout>>,
    ) -> Self {
        LintSettings {
            command,
            extensions,
            checkout,
        }
    }
}

/// The lint plugin (`golint` in plugins.yaml).
#[derive(Debug, Clone)]
pub struct Lint {
    settings: LintSettings,
}

impl Lint {
    /// The plugin with these settings.
    pub fn new(settings: LintSettings) -> Self {
        Lint { settings }
    }

    async fn run(&self, dir: &Path, files: &[String]) -> Result<String, String> {
        let Some((program, args)) = self.settings.command.split_first() else {
            return Err("no lint command is configured".to_owned());
        };
        let output = tokio::process::Command::new(program)
            .args(args)
            .args(files)
            .current_dir(dir)
            .output()
            .await
            .map_err(|e| format!("run {program}: {e}"))?;
        // Linters exit non-zero when they find problems; their output is what counts.
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Ok(text)
    }
}

impl Default for Lint {
    /// Upstream's plugin: `golint` from `PATH` over `.go` files, checked out with
    /// [`GitCheckout`].
    fn default() -> Self {
        Lint::new(LintSettings::new(
            vec!["golint".to_owned()],
            vec![".go".to_owned()],
            Some(Arc::new(GitCheckout)),
        ))
    }
}

#[async_trait]
impl Plugin for Lint {
    fn name(&self) -> &'static str {
        "golint"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            format!(
                "The golint plugin runs a linter ({}) on changes made to {} files in a PR. It then creates a new review on the pull request and leaves the warnings at the appropriate lines of code.",
                self.settings.command.join(" "),
                self.settings.extensions.join(", ")
            ),
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/lint",
            "Runs the linter on changes made to the files of a PR",
            "Anyone can trigger this command on a PR.",
            &["/lint"],
        );
        help.config.insert(
            String::new(),
            format!(
                "The golint plugin will report problems with a minimum confidence of {:.6}.",
                plugins.golint.minimum_confidence.unwrap_or(0.8)
            ),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if !gc.is_new_on_open_pull_request() || !requested(ctx.commands) {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        let reply = |text: &str| Action::Comment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            body: format_response_raw(&gc.body, &gc.html_url, &gc.user.login, text),
        };
        let pr = ctx.pull_request(org, repo, number).await?;
        let files = ctx
            .github
            .pull_request_files(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "list the files of {org}/{repo}#{number}"
            )))?;
        let mut added = BTreeMap::new();
        for file in files {
            let linted = self
                .settings
                .extensions
                .iter()
                .any(|e| file.filename.ends_with(e.as_str()));
            if !linted || file.status == "removed" {
                continue;
            }
            let lines = added_lines(file.patch.as_deref().unwrap_or_default()).map_err(|e| {
                PluginError::Other(format!("read the diff of {}: {e}", file.filename))
            })?;
            added.insert(file.filename, lines);
        }
        if added.is_empty() {
            return Ok(Vec::new());
        }
        let Some(checkout) = &self.settings.checkout else {
            return Ok(vec![reply(NO_CHECKOUT)]);
        };
        let remote = ctx
            .github
            .git_remote(org, repo)
            .await
            .map_err(PluginError::github(format!(
                "find the git remote of {org}/{repo}"
            )))?;
        let dir = match checkout.checkout(&remote, number, &pr.head.sha).await {
            Ok(dir) => dir,
            Err(e) => {
                return Ok(vec![reply(&format!(
                    "Cannot lint this pull request: checking it out failed: {e}"
                ))]);
            }
        };
        let names: Vec<String> = added.keys().cloned().collect();
        let output = match self.run(dir.path(), &names).await {
            Ok(output) => output,
            Err(e) => return Ok(vec![reply(&format!("Cannot lint this pull request: {e}"))]),
        };
        let (summary, comments) = review(&parse_output(&output), &added);
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
