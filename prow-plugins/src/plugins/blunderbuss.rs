//! blunderbuss: requests reviews from OWNERS reviewers when a pull request is opened (or
//! marked ready for review), and on `/auto-cc` (upstream `pkg/plugins/blunderbuss` and
//! `pkg/reviewer`).
//!
//! Reviewers are picked at random from the closest OWNERS files first; here the random choice is
//! seeded with the pull request number, so a pull request always gets the same picks.
//! `use_status_availability` is not supported (GitHub's busy status needs GraphQL) and
//! `wait_for_status` only suppresses requests on open, as in Prow, without the status handler.

use std::collections::BTreeSet;

use async_trait::async_trait;
use prow_config::owners::{RepoOwners, norm_login, shuffle};
use prow_config::plugins::{Blunderbuss as BlunderbussConfig, PluginConfig};
use prow_github::events::{CommentAction, Event};
use prow_github::types::PullRequest;

use crate::commands::GoRegex;
use crate::owners_loader::OwnersLoader;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// `/auto-cc` (upstream `reviewer.AutoCCMatch`).
pub static AUTO_CC_RE: GoRegex = GoRegex::new("pkg/reviewer/reviewer.go", r"(?mi)^/auto-cc\s*$");

/// Whether `body` asks for `/auto-cc`.
pub fn is_auto_cc(body: &str) -> bool {
    AUTO_CC_RE.is_match(body)
}

/// Whether a pull request body already `/cc`s someone (blunderbuss then stays quiet on open).
pub fn body_ccs(body: &str) -> bool {
    crate::plugins::assign::CC_RE.is_match(body)
}

/// Sets in layers (Prow's `layeredsets.String`): picks come from the lowest layer first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layers(Vec<BTreeSet<String>>);

impl Layers {
    fn from_layers(layers: Vec<BTreeSet<String>>) -> Self {
        let mut out = Layers::default();
        for (i, l) in layers.into_iter().enumerate() {
            for item in l {
                out.insert(i, item);
            }
        }
        out
    }

    pub(crate) fn all(&self) -> BTreeSet<String> {
        self.0.iter().flatten().cloned().collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.iter().map(BTreeSet::len).sum()
    }

    fn insert(&mut self, layer: usize, item: String) {
        if self.0.iter().any(|l| l.contains(&item)) {
            return;
        }
        if self.0.len() <= layer {
            self.0.resize(layer + 1, BTreeSet::new());
        }
        self.0[layer].insert(item);
    }

    fn without(&self, other: &BTreeSet<String>) -> Layers {
        Layers(
            self.0
                .iter()
                .map(|l| l.difference(other).cloned().collect())
                .collect(),
        )
    }

    fn union(&self, other: &Layers) -> Layers {
        let mut out = self.clone();
        for (i, l) in other.0.iter().enumerate() {
            for item in l {
                out.insert(i, item.clone());
            }
        }
        out
    }

    fn list(&self) -> Vec<String> {
        self.0.iter().flatten().cloned().collect()
    }

    pub(crate) fn remove(&mut self, item: &str) {
        for layer in &mut self.0 {
            layer.remove(item);
        }
    }

    pub(crate) fn pop(&mut self, rng: &mut Rng) -> Option<String> {
        let layer = self.0.iter_mut().find(|l| !l.is_empty())?;
        let i = rng.below(layer.len());
        let pick = layer.iter().nth(i)?.clone();
        layer.remove(&pick);
        Some(pick)
    }
}

/// Deterministic choices for one pull request.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        let mut items: Vec<usize> = (0..n).collect();
        self.0 = self.0.wrapping_add(1);
        shuffle(&mut items, self.0);
        items.first().copied().unwrap_or(0)
    }
}

/// Where reviewers come from: OWNERS reviewers, or approvers as the fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Reviewers,
    Approvers,
}

fn owners_dir(o: &RepoOwners, s: Source, f: &str) -> String {
    match s {
        Source::Reviewers => o.reviewer_owners_dir(f),
        Source::Approvers => o.approver_owners_dir(f),
    }
}

fn leaf(o: &RepoOwners, s: Source, f: &str) -> BTreeSet<String> {
    match s {
        Source::Reviewers => o.leaf_reviewers(f),
        Source::Approvers => o.leaf_approvers(f),
    }
}

fn all(o: &RepoOwners, s: Source, f: &str) -> Layers {
    Layers::from_layers(match s {
        Source::Reviewers => o.reviewers(f),
        Source::Approvers => o.approvers(f),
    })
}

/// Prow's `GetReviewers`: one reviewer per OWNERS file first, then more closest-first until
/// `min` are found; and the required reviewers. `select` takes one candidate out of a set
/// (blunderbuss: at random from the closest layer; rifle: the best blame score).
pub(crate) fn get_reviewers(
    o: &RepoOwners,
    s: Source,
    author: &str,
    files: &[String],
    min: usize,
    select: &mut dyn FnMut(&mut Layers) -> Option<String>,
) -> (Vec<String>, BTreeSet<String>) {
    let author: BTreeSet<String> = [norm_login(author)].into();
    let mut reviewers = Layers::default();
    let mut required = BTreeSet::new();
    let mut leaves = Layers::default();
    let mut seen = BTreeSet::new();
    if min == 0 {
        return (Vec::new(), required);
    }
    for f in files {
        if !seen.insert(owners_dir(o, s, f)) {
            continue;
        }
        required.extend(o.required_reviewers(f));
        let mut unused = Layers::from_layers(vec![leaf(o, s, f)])
            .without(&reviewers.all())
            .without(&author);
        if unused.len() == 0 {
            continue;
        }
        leaves = leaves.union(&unused);
        if let Some(r) = select(&mut unused) {
            reviewers.insert(0, r);
        }
    }
    let mut unused = leaves.without(&reviewers.all());
    while reviewers.len() < min && unused.len() > 0 {
        match select(&mut unused) {
            Some(r) => reviewers.insert(1, r),
            None => break,
        }
    }
    for f in files {
        if reviewers.len() >= min {
            break;
        }
        let mut candidates = all(o, s, f).without(&author);
        while reviewers.len() < min && candidates.len() > 0 {
            match select(&mut candidates) {
                Some(r) => reviewers.insert(2, r),
                None => break,
            }
        }
    }
    (reviewers.list(), required)
}

/// The reviewers to request for a pull request by `author` changing `files`, under
/// `settings`; `seed` fixes the random picks (the pull request number).
pub fn decide(
    owners: &RepoOwners,
    settings: &BlunderbussConfig,
    author: &str,
    files: &[String],
    seed: u64,
) -> Vec<String> {
    let mut rng = Rng(seed);
    let select = &mut |l: &mut Layers| l.pop(&mut rng);
    let count = settings.request_count.unwrap_or(2).max(0) as usize;
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
    if settings.max_request_count > 0 && reviewers.len() > settings.max_request_count as usize {
        reviewers.truncate(settings.max_request_count as usize);
    }
    reviewers.extend(required);
    reviewers
}

/// The blunderbuss plugin.
#[derive(Debug, Default)]
pub struct Blunderbuss {
    loader: OwnersLoader,
}

#[async_trait]
impl Plugin for Blunderbuss {
    fn name(&self) -> &'static str {
        "blunderbuss"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let count = plugins.blunderbuss.request_count.unwrap_or(2);
        let mut help = PluginHelp::new(
            "The blunderbuss plugin automatically requests reviews from reviewers when a new PR is created. The reviewers are selected randomly from the OWNERS files that apply to the files modified by the PR.",
            &["pull_request", "issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/auto-cc",
            "Manually request reviews from reviewers for a PR. Useful if OWNERS file were updated since the PR was opened.",
            "Anyone",
            &["/auto-cc"],
        );
        help.config
            .insert(String::new(), config_string("blunderbuss", count));
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        match pull_to_review(ctx, event, &ctx.plugins.blunderbuss).await? {
            Some((org, repo, pr)) => self.act(ctx, &org, &repo, &pr).await,
            None => Ok(Vec::new()),
        }
    }
}

/// The help's configuration line of a reviewer plugin requesting `count` reviewers
/// (upstream `reviewer.ConfigString`).
pub(crate) fn config_string(plugin: &str, count: i64) -> String {
    let s = if count > 1 { "s" } else { "" };
    format!("{plugin} is currently configured to request reviews from {count} reviewer{s}.")
}

/// Whether a reviewer plugin leaves `pr` alone under `settings`: a draft with
/// `ignore_drafts`, or by one of `ignore_authors`.
pub(crate) fn ignored(settings: &BlunderbussConfig, pr: &PullRequest) -> bool {
    (pr.draft.unwrap_or(false) && settings.ignore_drafts)
        || settings
            .ignore_authors
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&pr.user.login))
}

/// The pull request (with its org and repo) a reviewer plugin (blunderbuss, rifle) requests
/// reviews on for `event` under `settings`: one just opened or marked ready, unless its body
/// `/cc`s someone, `wait_for_status` is set or it is [`ignored`]; or the open pull request
/// an `/auto-cc` comment is on.
pub(crate) async fn pull_to_review(
    ctx: &Context<'_>,
    event: &Event,
    settings: &BlunderbussConfig,
) -> Result<Option<(String, String, PullRequest)>, PluginError> {
    if let Event::PullRequest(pe) = event {
        let pr = &pe.pull_request;
        if !matches!(pe.action.as_str(), "opened" | "ready_for_review")
            || body_ccs(pr.body.as_deref().unwrap_or_default())
            || settings.wait_for_status.is_some()
            || ignored(settings, pr)
        {
            return Ok(None);
        }
        let repo = &pe.repository;
        return Ok(Some((repo.org().to_owned(), repo.name.clone(), pr.clone())));
    }
    let Some(gc) = ctx.comment else {
        return Ok(None);
    };
    if gc.action != CommentAction::Created
        || !gc.is_pr
        || gc.issue_state == "closed"
        || !is_auto_cc(ctx.commands)
    {
        return Ok(None);
    }
    let pr = ctx.pull_request_of(gc).await?;
    Ok(Some((gc.repo.org().to_owned(), gc.repo.name.clone(), pr)))
}

impl Blunderbuss {
    async fn act(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        pr: &PullRequest,
    ) -> Result<Vec<Action>, PluginError> {
        let number = pr.number;
        let files: Vec<String> = ctx
            .github
            .pull_request_files(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "read the files of {org}/{repo}#{number}"
            )))?
            .into_iter()
            .map(|f| f.filename)
            .collect();
        let owners = self
            .loader
            .load_at_base(ctx, org, repo, &pr.base, &files)
            .await?;
        let reviewers = decide(
            &owners,
            &ctx.plugins.blunderbuss,
            &pr.user.login,
            &files,
            number,
        );
        if reviewers.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Action::RequestReview {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            logins: reviewers,
        }])
    }
}
