//! rifle: requests reviews when a pull request is opened (or marked ready), on `/auto-cc`, or
//! when a configured status says reviews are missing, choosing the OWNERS reviewers who know
//! the changed lines best by git blame (upstream `pkg/plugins/rifle`, `rifle.go` and
//! `blame.go`).
//!
//! As upstream: the changed files' blame at the merge base of base and head (or the base
//! branch when that fails) is intersected with each file's old-side hunks; an author scores
//! 10 per line and 5 × 1/(1 + days since their latest line), plus 3 for an approver or 2 for a
//! reviewer of the changed files; at most 20 files are blamed, spread over directories. With
//! scores, each pick is the best-scoring candidate; without, a random one (blunderbuss's
//! [`super::blunderbuss`] selection, one reviewer per OWNERS file first). Missing reviewers
//! come from approvers (unless `exclude_approvers`), then from every owner by score.
//!
//! Differences: random choices are seeded with the pull request number (the same pull request
//! always gets the same picks); the fallback's "every owner" is every owner of the OWNERS
//! files above the changed files (no clone of the whole repository); `use_status_availability`
//! is not supported (GitHub's busy status), and `ignore_authors` is compared without case,
//! as in blunderbuss.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use async_trait::async_trait;
use prow_config::owners::{RepoOwners, norm_login, shuffle};
use prow_config::plugins::{Blunderbuss as RifleConfig, PluginConfig};
use prow_github::events::Event;
use prow_github::types::{BlameRange, PullRequest, PullRequestFile};
use regex::Regex;

use super::blunderbuss::{
    Layers, Rng, Source, config_string, get_reviewers, ignored, pull_to_review,
};
use crate::owners_loader::OwnersLoader;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The plugin's name.
pub const PLUGIN_NAME: &str = "rifle";
/// Points per changed line an author last touched.
pub const LINE_COUNT_WEIGHT: f64 = 10.0;
/// Points for touching the lines today, falling as 1/(1 + days).
pub const RECENCY_WEIGHT: f64 = 5.0;
/// Points for approving the changed files.
pub const APPROVER_BONUS: f64 = 3.0;
/// Points for reviewing the changed files.
pub const REVIEWER_BONUS: f64 = 2.0;
/// The most files blamed for one pull request.
pub const MAX_BLAME_FILES: usize = 20;

static HUNK_HEADER_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^@@ -([0-9]+)(?:,([0-9]+))? \+([0-9]+)(?:,([0-9]+))? @@").expect("valid regex")
});

/// Lines `start..=end` of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRange {
    /// The first line.
    pub start: u64,
    /// The last line.
    pub end: u64,
}

/// The old-side line ranges of a patch's hunks (upstream `parseDiffHunks`): a pure addition
/// (`-N,0`) stands for the five lines before it.
pub fn parse_diff_hunks(patch: &str) -> Vec<LineRange> {
    patch
        .split('\n')
        .filter_map(|line| {
            let m = HUNK_HEADER_RE.captures(line)?;
            let start: u64 = m[1].parse().unwrap_or(0);
            let count: u64 = m.get(2).map_or(1, |c| c.as_str().parse().unwrap_or(0));
            Some(if count == 0 {
                LineRange {
                    start: start.saturating_sub(5).max(1),
                    end: start,
                }
            } else {
                LineRange {
                    start,
                    end: start + count - 1,
                }
            })
        })
        .collect()
}

/// What one author last touched of the changed lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthorStats {
    /// How many changed lines.
    pub line_count: u64,
    /// When they last touched one (seconds since the epoch; 0 unknown).
    pub most_recent: i64,
}

fn timestamp(date: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(date).map_or(0, |d| d.timestamp())
}

/// The authors of the blamed lines within `changed` (upstream `intersectBlameWithChanges`).
pub fn intersect_blame_with_changes(
    blame: &[BlameRange],
    changed: &[LineRange],
) -> BTreeMap<String, AuthorStats> {
    let mut stats: BTreeMap<String, AuthorStats> = BTreeMap::new();
    for range in blame.iter().filter(|r| !r.author_login.is_empty()) {
        for c in changed {
            let (start, end) = (
                range.starting_line.max(c.start),
                range.ending_line.min(c.end),
            );
            if start > end {
                continue;
            }
            let entry = stats.entry(range.author_login.clone()).or_default();
            entry.line_count += end - start + 1;
            entry.most_recent = entry.most_recent.max(timestamp(&range.date));
        }
    }
    stats
}

fn file_dir(path: &str) -> &str {
    path.rfind('/').map_or(".", |i| &path[..i])
}

/// At most `limit` of the files that are not removed, taken in turn from each directory
/// (upstream `diverseFileSelection`).
pub fn diverse_file_selection(files: &[PullRequestFile], limit: usize) -> Vec<&PullRequestFile> {
    let eligible: Vec<&PullRequestFile> = files.iter().filter(|f| f.status != "removed").collect();
    if eligible.len() <= limit {
        return eligible;
    }
    let mut groups: Vec<(&str, Vec<&PullRequestFile>)> = Vec::new();
    for f in eligible {
        let dir = file_dir(&f.filename);
        match groups.iter_mut().find(|(d, _)| *d == dir) {
            Some((_, group)) => group.push(f),
            None => groups.push((dir, vec![f])),
        }
    }
    let mut selected = Vec::new();
    let mut round = 0;
    while selected.len() < limit {
        let before = selected.len();
        for (_, group) in &groups {
            if selected.len() >= limit {
                break;
            }
            if let Some(f) = group.get(round) {
                selected.push(*f);
            }
        }
        if selected.len() == before {
            break;
        }
        round += 1;
    }
    selected
}

/// Each author's score for the changed lines of `files` given their `blames` (by path),
/// with the approver and reviewer bonuses, at time `now` (seconds since the epoch).
pub fn score_reviewers(
    files: &[&PullRequestFile],
    blames: &BTreeMap<String, Vec<BlameRange>>,
    approvers: &BTreeSet<String>,
    reviewers: &BTreeSet<String>,
    now: i64,
) -> BTreeMap<String, f64> {
    let mut scores: BTreeMap<String, f64> = BTreeMap::new();
    for file in files {
        let Some(blame) = blames.get(&file.filename) else {
            continue;
        };
        let changed = parse_diff_hunks(file.patch.as_deref().unwrap_or_default());
        if changed.is_empty() {
            continue;
        }
        for (author, stats) in intersect_blame_with_changes(blame, &changed) {
            let days = (now - stats.most_recent) as f64 / 86_400.0;
            let recency = 1.0 / (1.0 + days);
            *scores.entry(author).or_default() +=
                stats.line_count as f64 * LINE_COUNT_WEIGHT + recency * RECENCY_WEIGHT;
        }
    }
    for (author, score) in &mut scores {
        if approvers.contains(author) {
            *score += APPROVER_BONUS;
        } else if reviewers.contains(author) {
            *score += REVIEWER_BONUS;
        }
    }
    scores
}

/// Whether any author has a real score (upstream `hasBlameScores`).
pub fn has_blame_scores(scores: &BTreeMap<String, f64>) -> bool {
    scores.values().any(|s| !s.is_nan() && *s > 0.0)
}

/// The candidates in order of score, ties in an order fixed by `seed`.
fn ranked(candidates: &BTreeSet<String>, scores: &BTreeMap<String, f64>, seed: u64) -> Vec<String> {
    let mut list: Vec<String> = candidates.iter().cloned().collect();
    shuffle(&mut list, seed);
    let score = |l: &String| scores.get(l).copied().unwrap_or(0.0);
    // A stable sort keeps the shuffled order among equal scores, as upstream's insertion sort.
    list.sort_by(|a, b| score(b).total_cmp(&score(a)));
    list
}

/// Reviewers to add when OWNERS gave too few: the best-scoring owners, then owners at
/// random (upstream `findFallbackReviewers`).
fn fallback_reviewers(
    scores: &BTreeMap<String, f64>,
    all_owners: &BTreeSet<String>,
    exclude: &BTreeSet<String>,
    needed: usize,
    seed: u64,
) -> Vec<String> {
    let eligible: BTreeSet<String> = all_owners.difference(exclude).cloned().collect();
    let mut result = Vec::new();
    if has_blame_scores(scores) {
        let scored: BTreeSet<String> = eligible
            .iter()
            .filter(|l| scores.get(*l).is_some_and(|s| *s > 0.0))
            .cloned()
            .collect();
        result.extend(ranked(&scored, scores, seed).into_iter().take(needed));
    }
    if result.len() < needed {
        let mut pool: Vec<String> = eligible
            .into_iter()
            .filter(|l| !result.contains(l))
            .collect();
        shuffle(&mut pool, seed.wrapping_add(1));
        let missing = needed - result.len();
        result.extend(pool.into_iter().take(missing));
    }
    result
}

/// The reviewers rifle requests for a pull request by `author` changing `files` (paths),
/// given the blame `scores`, under `settings`; `seed` fixes the random choices.
pub fn decide(
    owners: &RepoOwners,
    settings: &RifleConfig,
    author: &str,
    files: &[String],
    scores: &BTreeMap<String, f64>,
    seed: u64,
) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut picks = 0u64;
    let use_scores = has_blame_scores(scores);
    let select = &mut |candidates: &mut Layers| {
        if !use_scores {
            return candidates.pop(&mut rng);
        }
        picks += 1;
        let best = ranked(&candidates.all(), scores, seed.wrapping_add(picks))
            .into_iter()
            .next()?;
        candidates.remove(&best);
        Some(best)
    };
    let Some(count) = settings.request_count else {
        return Vec::new();
    };
    let count = count.max(0) as usize;
    let (mut reviewers, required) =
        get_reviewers(owners, Source::Reviewers, author, files, count, select);
    if reviewers.len() < count && !settings.exclude_approvers {
        let (approvers, _) = get_reviewers(owners, Source::Approvers, author, files, count, select);
        for a in approvers {
            if !reviewers.contains(&a) {
                reviewers.push(a);
            }
        }
    }
    if reviewers.len() < count {
        let mut exclude: BTreeSet<String> = reviewers.iter().cloned().collect();
        exclude.insert(norm_login(author));
        let missing = count - reviewers.len();
        reviewers.extend(fallback_reviewers(
            scores,
            &owners.all_owners(),
            &exclude,
            missing,
            seed,
        ));
    }
    if settings.max_request_count > 0 && reviewers.len() > settings.max_request_count as usize {
        reviewers.truncate(settings.max_request_count as usize);
    }
    reviewers.extend(required);
    reviewers
}

/// Whether a status event is the one rifle waits for (`wait_for_status`: context and state
/// equal, description matching the regex).
pub fn status_matches(
    settings: &RifleConfig,
    context: &str,
    state: &str,
    description: &str,
) -> bool {
    let Some(wait) = &settings.wait_for_status else {
        return false;
    };
    context == wait.context
        && state == wait.state
        && prow_config::goregex::shared(&wait.description).is_ok_and(|re| re.is_match(description))
}

/// The rifle plugin.
#[derive(Debug, Default)]
pub struct Rifle {
    loader: OwnersLoader,
}

#[async_trait]
impl Plugin for Rifle {
    fn name(&self) -> &'static str {
        PLUGIN_NAME
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let count = plugins.rifle.request_count.unwrap_or(0);
        let mut help = PluginHelp::new(
            "The rifle plugin automatically requests reviews from reviewers when a new PR is created. Unlike blunderbuss (which selects randomly), rifle uses git blame data to identify reviewers most familiar with the changed code.",
            &["pull_request", "issue_comment", "pull_request_review", "pull_request_review_comment", "status"],
        )
        .command(
            "/auto-cc",
            "Manually request reviews from reviewers for a PR. Useful if OWNERS files were updated since the PR was opened, or PR was changed significantly.",
            "Anyone",
            &["/auto-cc"],
        );
        help.config
            .insert(String::new(), config_string(PLUGIN_NAME, count));
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let settings = &ctx.plugins.rifle;
        if let Event::Status(se) = event {
            let description = se.description.as_deref().unwrap_or_default();
            if se.state.is_empty() || se.context.is_empty() || description.is_empty() {
                return Err(PluginError::Other(
                    "invalid status event delivered with empty state/context/description"
                        .to_owned(),
                ));
            }
            if !status_matches(settings, &se.context, &se.state, description) {
                return Ok(Vec::new());
            }
            return self
                .on_status(ctx, se.repository.org(), &se.repository.name, &se.sha)
                .await;
        }
        match pull_to_review(ctx, event, settings).await? {
            Some((org, repo, pr)) => self.act(ctx, &org, &repo, &pr).await,
            None => Ok(Vec::new()),
        }
    }
}

impl Rifle {
    async fn on_status(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        sha: &str,
    ) -> Result<Vec<Action>, PluginError> {
        let settings = &ctx.plugins.rifle;
        let query = format!("{sha} repo:{org}/{repo} type:pr state:open");
        let issues = ctx
            .github
            .search_issues(&query)
            .await
            .map_err(PluginError::github(
                "error searching for issues matching commit",
            ))?;
        tracing::info!(
            plugin = PLUGIN_NAME,
            org,
            repo,
            sha,
            found = issues.len(),
            "searched for PRs matching the commit"
        );
        let mut actions = Vec::new();
        for issue in issues {
            let pr = match ctx.pull_request(org, repo, issue.number).await {
                Ok(pr) => pr,
                Err(error) => {
                    tracing::warn!(plugin = PLUGIN_NAME, org, repo, pr = issue.number, %error, "unable to fetch pull request");
                    continue;
                }
            };
            if pr.head.sha != sha || ignored(settings, &pr) || !pr.requested_reviewers.is_empty() {
                continue;
            }
            actions.extend(self.act(ctx, org, repo, &pr).await?);
        }
        Ok(actions)
    }

    async fn act(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        pr: &PullRequest,
    ) -> Result<Vec<Action>, PluginError> {
        let number = pr.number;
        let changes = ctx.pull_request_files(org, repo, number).await?;
        let files: Vec<String> = changes.iter().map(|f| f.filename.clone()).collect();
        let owners = self
            .loader
            .load_at_base(ctx, org, repo, &pr.base, &files)
            .await?;
        let mut approvers = BTreeSet::new();
        let mut reviewers = BTreeSet::new();
        for f in &files {
            approvers.extend(owners.approvers(f).into_iter().flatten());
            reviewers.extend(owners.reviewers(f).into_iter().flatten());
        }
        // Patches are three-dot diffs: their old side is the merge base, not the base tip.
        let mut git_ref = pr.base.git_ref.clone();
        if !pr.head.sha.is_empty() {
            match ctx
                .github
                .merge_base(org, repo, &pr.base.git_ref, &pr.head.sha)
                .await
            {
                Ok(base) if !base.is_empty() => git_ref = base,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(plugin = PLUGIN_NAME, org, repo, pr = number, %error, "failed to resolve merge-base for blame; falling back to base ref");
                }
            }
        }
        let selected = diverse_file_selection(&changes, MAX_BLAME_FILES);
        if selected.len() < changes.len() {
            tracing::info!(
                plugin = PLUGIN_NAME,
                total_files = changes.len(),
                selected_files = selected.len(),
                "large PR: sampling diverse subset of files for blame scoring"
            );
        }
        let mut blames = BTreeMap::new();
        for file in &selected {
            match ctx.github.blame(org, repo, &git_ref, &file.filename).await {
                Ok(ranges) => {
                    blames.insert(file.filename.clone(), ranges);
                }
                Err(error) => {
                    tracing::warn!(plugin = PLUGIN_NAME, org, repo, file = file.filename, %error, "failed to get blame data, skipping file");
                }
            }
        }
        let now = chrono::Utc::now().timestamp();
        let scores = score_reviewers(&selected, &blames, &approvers, &reviewers, now);
        let chosen = decide(
            &owners,
            &ctx.plugins.rifle,
            &pr.user.login,
            &files,
            &scores,
            number,
        );
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        tracing::info!(plugin = PLUGIN_NAME, org, repo, pr = number, reviewers = ?chosen, "requesting reviews");
        Ok(vec![Action::RequestReview {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            logins: chosen,
        }])
    }
}
