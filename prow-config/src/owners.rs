//! OWNERS and OWNERS_ALIASES files (Prow's `pkg/repoowners`): parsing, the per-directory
//! approvers, reviewers and labels with `filters` and `no_parent_owners`, and the approval
//! arithmetic of the approve plugin (`pkg/plugins/approve/approvers`).
//!
//! Everything here is pure: the caller reads the files (from a checkout or through the GitHub
//! API) and hands their text in by directory. Logins are normalised as Prow does (lower case,
//! no leading `@`); paths use `""` for the repository root and no trailing slash.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde::Deserialize;

use crate::jobs::nullable;

/// Why an OWNERS or OWNERS_ALIASES file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OwnersError {
    /// The text is not YAML of the expected shape.
    #[error("cannot parse {file}: {reason}")]
    Parse {
        /// The file, as given by the caller.
        file: String,
        /// The parser's words (with the line when it knows it).
        reason: String,
    },
    /// An alias group is not a list of logins.
    #[error("alias group '{alias}' must contain a list of members")]
    AliasNotList {
        /// The alias.
        alias: String,
    },
    /// An alias group holds something other than logins.
    #[error("unexpected type for members of alias group '{alias}'")]
    AliasMember {
        /// The alias.
        alias: String,
    },
}

/// `options:` of an OWNERS file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DirOptions {
    /// Owners of parent directories do not own this one.
    #[serde(deserialize_with = "nullable")]
    pub no_parent_owners: bool,
    /// Changes in subfolders without their own OWNERS file need no approval.
    #[serde(deserialize_with = "nullable")]
    pub auto_approve_unowned_subfolders: bool,
}

/// The people and labels of an OWNERS file or of one of its `filters`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OwnersEntry {
    /// Who may `/approve`.
    #[serde(deserialize_with = "nullable")]
    pub approvers: Vec<String>,
    /// Who is asked to review.
    #[serde(deserialize_with = "nullable")]
    pub reviewers: Vec<String>,
    /// Who is always asked to review.
    #[serde(deserialize_with = "nullable")]
    pub required_reviewers: Vec<String>,
    /// Labels for pull requests touching the directory (owners-label).
    #[serde(deserialize_with = "nullable")]
    pub labels: Vec<String>,
}

impl OwnersEntry {
    /// Whether it names nobody and no label.
    pub fn is_empty(&self) -> bool {
        self.approvers.is_empty()
            && self.reviewers.is_empty()
            && self.required_reviewers.is_empty()
            && self.labels.is_empty()
    }

    /// Every login it names, as written.
    pub fn logins(&self) -> impl Iterator<Item = &String> {
        self.reviewers.iter().chain(&self.approvers)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SimpleRaw {
    #[serde(deserialize_with = "nullable")]
    options: DirOptions,
    #[serde(flatten)]
    entry: OwnersEntry,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FullRaw {
    #[serde(deserialize_with = "nullable")]
    options: DirOptions,
    #[serde(deserialize_with = "nullable")]
    filters: BTreeMap<String, Option<OwnersEntry>>,
}

/// A parsed OWNERS file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OwnersFile {
    /// Its `options`.
    pub options: DirOptions,
    /// Its entries by file regex (`None`: every file, the simple form or the `.*` filter).
    pub filters: Vec<(Option<String>, OwnersEntry)>,
}

impl OwnersFile {
    /// Every login it names, as written.
    pub fn logins(&self) -> BTreeSet<String> {
        self.filters
            .iter()
            .flat_map(|(_, e)| e.logins().cloned())
            .collect()
    }

    /// Every label it sets.
    pub fn labels(&self) -> BTreeSet<String> {
        self.filters
            .iter()
            .flat_map(|(_, e)| e.labels.iter().cloned())
            .collect()
    }

    /// Every approver it names, as written.
    pub fn approvers(&self) -> Vec<String> {
        self.filters
            .iter()
            .flat_map(|(_, e)| e.approvers.iter().cloned())
            .collect()
    }
}

fn parse_error(file: &str, e: impl std::fmt::Display) -> OwnersError {
    OwnersError::Parse {
        file: file.to_owned(),
        reason: e.to_string(),
    }
}

/// Parses an OWNERS file (`file` names it in errors). Like Prow, the simple form is tried
/// first and the `filters:` form when that names nobody; unknown keys are ignored.
///
/// One difference: when the simple form fails to parse and the file has no `filters` either,
/// the simple form's error is returned (Prow silently reads such a file as empty).
pub fn parse_owners(file: &str, text: &str) -> Result<OwnersFile, OwnersError> {
    let simple: Result<Option<SimpleRaw>, _> = serde_yaml::from_str(text);
    if let Ok(Some(simple)) = &simple
        && !simple.entry.is_empty()
    {
        return Ok(OwnersFile {
            options: simple.options,
            filters: vec![(None, simple.entry.clone())],
        });
    }
    let full: Option<FullRaw> = serde_yaml::from_str(text).map_err(|e| parse_error(file, e))?;
    let full = full.unwrap_or_default();
    if full.filters.is_empty()
        && let Err(e) = simple
    {
        return Err(parse_error(file, e));
    }
    let filters = full
        .filters
        .into_iter()
        .map(|(pattern, entry)| {
            let pattern = (pattern != ".*").then_some(pattern);
            (pattern, entry.unwrap_or_default())
        })
        .collect();
    Ok(OwnersFile {
        options: full.options,
        filters,
    })
}

/// A login as Prow compares them: lower case, without a leading `@`.
pub fn norm_login(login: &str) -> String {
    let lower = login.to_lowercase();
    lower.strip_prefix('@').unwrap_or(&lower).to_owned()
}

/// OWNERS_ALIASES: alias to its members, all normalised.
pub type Aliases = BTreeMap<String, BTreeSet<String>>;

/// Parses an OWNERS_ALIASES file (`file` names it in errors).
pub fn parse_aliases(file: &str, text: &str) -> Result<Aliases, OwnersError> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Raw {
        aliases: Option<BTreeMap<String, serde_yaml::Value>>,
    }
    let raw: Option<Raw> = serde_yaml::from_str(text).map_err(|e| parse_error(file, e))?;
    let mut out = Aliases::new();
    for (alias, members) in raw.unwrap_or_default().aliases.unwrap_or_default() {
        let set = match members {
            serde_yaml::Value::Sequence(items) => items
                .iter()
                .map(|m| {
                    m.as_str().map(norm_login).ok_or(OwnersError::AliasMember {
                        alias: alias.clone(),
                    })
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
            serde_yaml::Value::Mapping(map) => map
                .keys()
                .map(|m| {
                    m.as_str().map(norm_login).ok_or(OwnersError::AliasMember {
                        alias: alias.clone(),
                    })
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
            serde_yaml::Value::Null => BTreeSet::new(),
            serde_yaml::Value::String(_) => return Err(OwnersError::AliasNotList { alias }),
            _ => return Err(OwnersError::AliasMember { alias }),
        };
        out.insert(norm_login(&alias), set);
    }
    Ok(out)
}

/// The directory of `path` as Go's `filepath.Dir` canonicalised by Prow: `""` for the root.
pub fn parent_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// `path` relative to directory `dir` (which contains it).
fn relative<'a>(dir: &str, path: &'a str) -> &'a str {
    if dir.is_empty() {
        path
    } else {
        path.strip_prefix(dir)
            .map(|p| p.trim_start_matches('/'))
            .unwrap_or(path)
    }
}

/// One directory's entries of one kind: (file regex, logins or labels).
type Layer = Vec<(Option<Regex>, BTreeSet<String>)>;

/// The OWNERS files of a repository, resolved: who owns, reviews and labels which path.
#[derive(Debug, Clone, Default)]
pub struct RepoOwners {
    aliases: Aliases,
    approvers: BTreeMap<String, Layer>,
    reviewers: BTreeMap<String, Layer>,
    required_reviewers: BTreeMap<String, Layer>,
    labels: BTreeMap<String, Layer>,
    options: BTreeMap<String, DirOptions>,
}

/// Users in layers: layer 0 is the directory closest to the file, then its parents.
pub type Layered = Vec<BTreeSet<String>>;

fn union(layers: &Layered) -> BTreeSet<String> {
    layers.iter().flatten().cloned().collect()
}

impl RepoOwners {
    /// Owners with these aliases and no OWNERS file yet.
    pub fn new(aliases: Aliases) -> Self {
        RepoOwners {
            aliases,
            ..RepoOwners::default()
        }
    }

    /// The aliases.
    pub fn aliases(&self) -> &Aliases {
        &self.aliases
    }

    /// Every approver and reviewer of every OWNERS file added (upstream `AllOwners`).
    pub fn all_owners(&self) -> BTreeSet<String> {
        self.approvers
            .values()
            .chain(self.reviewers.values())
            .flatten()
            .flat_map(|(_, logins)| logins.iter().cloned())
            .collect()
    }

    /// Replaces aliases by their members (one level, as Prow does).
    pub fn expand_aliases<'a>(
        &self,
        logins: impl IntoIterator<Item = &'a String>,
    ) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for login in logins {
            let login = norm_login(login);
            match self.aliases.get(&login) {
                Some(members) => out.extend(members.iter().cloned()),
                None => {
                    out.insert(login);
                }
            }
        }
        out
    }

    /// Adds the OWNERS file of directory `dir`; returns the filter patterns that are not
    /// valid regexes (skipped, as Prow skips them).
    pub fn add(&mut self, dir: &str, file: &OwnersFile) -> Vec<String> {
        let dir = dir.trim_end_matches('/').to_owned();
        let mut bad = Vec::new();
        for (pattern, entry) in &file.filters {
            let re = match pattern {
                None => None,
                Some(p) => match Regex::new(p) {
                    Ok(re) => Some(re),
                    Err(_) => {
                        bad.push(p.clone());
                        continue;
                    }
                },
            };
            let put = |map: &mut BTreeMap<String, Layer>, set: BTreeSet<String>| {
                if !set.is_empty() {
                    map.entry(dir.clone()).or_default().push((re.clone(), set));
                }
            };
            let approvers = self.expand_aliases(&entry.approvers);
            let reviewers = self.expand_aliases(&entry.reviewers);
            let required = self.expand_aliases(&entry.required_reviewers);
            put(&mut self.approvers, approvers);
            put(&mut self.reviewers, reviewers);
            put(&mut self.required_reviewers, required);
            put(&mut self.labels, entry.labels.iter().cloned().collect());
        }
        if file.options != DirOptions::default() {
            self.options.insert(dir, file.options);
        }
        bad
    }

    fn entries(&self, path: &str, map: &BTreeMap<String, Layer>, leaf_only: bool) -> Layered {
        let mut out: Layered = Vec::new();
        let mut d = path.trim_end_matches('/');
        loop {
            let rel = relative(d, path);
            let mut layer = BTreeSet::new();
            for (re, set) in map.get(d).into_iter().flatten() {
                if re.as_ref().is_none_or(|re| re.is_match(rel)) {
                    layer.extend(set.iter().cloned());
                }
            }
            let found = !layer.is_empty() || out.iter().any(|l| !l.is_empty());
            out.push(layer);
            if leaf_only && found {
                break;
            }
            if d.is_empty() {
                break;
            }
            if self.is_no_parent_owners(d) && found {
                break;
            }
            d = parent_dir(d);
        }
        out.retain(|l| !l.is_empty());
        out
    }

    fn find_owners(path: &str, map: &BTreeMap<String, Layer>) -> String {
        let mut d = path;
        while !d.is_empty() {
            let rel = relative(d, path);
            let owns =
                map.get(d).into_iter().flatten().any(|(re, set)| {
                    re.as_ref().is_none_or(|re| re.is_match(rel)) && !set.is_empty()
                });
            if owns {
                return d.to_owned();
            }
            d = parent_dir(d);
        }
        String::new()
    }

    /// The directory of the closest OWNERS file with approvers for `path` (`""`: the root).
    pub fn approver_owners_dir(&self, path: &str) -> String {
        Self::find_owners(path, &self.approvers)
    }

    /// The directory of the closest OWNERS file with reviewers for `path`.
    pub fn reviewer_owners_dir(&self, path: &str) -> String {
        Self::find_owners(path, &self.reviewers)
    }

    /// Whether the OWNERS file of `dir` says `no_parent_owners`.
    pub fn is_no_parent_owners(&self, dir: &str) -> bool {
        self.options.get(dir).is_some_and(|o| o.no_parent_owners)
    }

    /// Whether the OWNERS file of `dir` says `auto_approve_unowned_subfolders`.
    pub fn is_auto_approve_unowned_subfolders(&self, dir: &str) -> bool {
        self.options
            .get(dir)
            .is_some_and(|o| o.auto_approve_unowned_subfolders)
    }

    /// Everyone who may approve `path`, closest directory first, up to the root or the first
    /// `no_parent_owners`.
    pub fn approvers(&self, path: &str) -> Layered {
        self.entries(path, &self.approvers, false)
    }

    /// The closest approvers of `path`.
    pub fn leaf_approvers(&self, path: &str) -> BTreeSet<String> {
        union(&self.entries(path, &self.approvers, true))
    }

    /// Everyone who may review `path`, closest directory first.
    pub fn reviewers(&self, path: &str) -> Layered {
        self.entries(path, &self.reviewers, false)
    }

    /// The closest reviewers of `path`.
    pub fn leaf_reviewers(&self, path: &str) -> BTreeSet<String> {
        union(&self.entries(path, &self.reviewers, true))
    }

    /// The required reviewers of `path`, from every directory up.
    pub fn required_reviewers(&self, path: &str) -> BTreeSet<String> {
        union(&self.entries(path, &self.required_reviewers, false))
    }

    /// The labels for a pull request touching `path`.
    pub fn labels_for(&self, path: &str) -> BTreeSet<String> {
        union(&self.entries(path, &self.labels, false))
    }
}

/// One approval: who, how (`Approved`, `LGTM`, `Author self-approved`) and where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Approval {
    /// The login as written.
    pub login: String,
    /// How they approved.
    pub how: String,
    /// A link to the approval.
    pub reference: String,
    /// Whether it was `/approve no-issue`.
    pub no_issue: bool,
}

impl std::fmt::Display for Approval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            r#"*<a href="{}" title="{}">{}</a>*"#,
            self.reference, self.how, self.login
        )
    }
}

/// Go's `filepath.Dir`, which answers `.` for a bare name.
fn go_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// The approval state of a pull request: its changed files, the OWNERS that govern them, and
/// who approved so far (Prow's `approvers.Approvers`).
#[derive(Debug, Clone)]
pub struct Approvals<'a> {
    owners: &'a RepoOwners,
    files: Vec<String>,
    approvals: BTreeMap<String, Approval>,
    assignees: BTreeSet<String>,
    /// The issue the pull request body references, if any.
    pub associated_issue: Option<u64>,
    /// `issue_required`.
    pub require_issue: bool,
    /// Someone added the `approved` label by hand.
    pub manually_approved: bool,
    /// Orders candidates when suggesting approvers (Prow seeds with the PR number).
    pub seed: u64,
}

impl<'a> Approvals<'a> {
    /// No approvals yet for `files` under `owners`.
    pub fn new(owners: &'a RepoOwners, files: Vec<String>) -> Self {
        Approvals {
            owners,
            files,
            approvals: BTreeMap::new(),
            assignees: BTreeSet::new(),
            associated_issue: None,
            require_issue: false,
            manually_approved: false,
            seed: 0,
        }
    }

    fn keep(&self, login: &str, no_issue: bool) -> bool {
        self.approvals
            .get(&login.to_lowercase())
            .is_some_and(|a| a.no_issue && !no_issue)
    }

    fn put(&mut self, login: &str, how: &str, reference: &str, no_issue: bool) {
        if self.keep(login, no_issue) {
            return;
        }
        self.approvals.insert(
            login.to_lowercase(),
            Approval {
                login: login.to_owned(),
                how: how.to_owned(),
                reference: reference.to_owned(),
                no_issue,
            },
        );
    }

    /// Records `/approve`.
    pub fn add_approver(&mut self, login: &str, reference: &str, no_issue: bool) {
        self.put(login, "Approved", reference, no_issue);
    }

    /// Records `/lgtm` acting as approval.
    pub fn add_lgtmer(&mut self, login: &str, reference: &str, no_issue: bool) {
        self.put(login, "LGTM", reference, no_issue);
    }

    /// Records the author's implicit or explicit self-approval.
    pub fn add_author_self_approver(&mut self, login: &str, reference: &str, no_issue: bool) {
        self.put(login, "Author self-approved", reference, no_issue);
    }

    /// Forgets `login`'s approval.
    pub fn remove_approver(&mut self, login: &str) {
        self.approvals.remove(&login.to_lowercase());
    }

    /// Records the pull request's assignees.
    pub fn add_assignees<'s>(&mut self, logins: impl IntoIterator<Item = &'s str>) {
        self.assignees
            .extend(logins.into_iter().map(str::to_lowercase));
    }

    /// The approvals so far, by lower-cased login.
    pub fn approvals(&self) -> Vec<&Approval> {
        self.approvals.values().collect()
    }

    fn current(&self) -> BTreeSet<String> {
        self.approvals.keys().cloned().collect()
    }

    /// The directories whose OWNERS must approve (nested ones folded into their parent unless
    /// the parent is cut off by `no_parent_owners`; auto-approved subfolders left out).
    pub fn owners_dirs(&self) -> BTreeSet<String> {
        let mut dirs = BTreeSet::new();
        for file in &self.files {
            let owners = self.owners.approver_owners_dir(file);
            if go_dir(go_dir(file)).contains(owners.as_str())
                && self.owners.is_auto_approve_unowned_subfolders(&owners)
            {
                continue;
            }
            dirs.insert(owners);
        }
        for dir in dirs.clone() {
            let mut path = dir.clone();
            while !self.owners.is_no_parent_owners(&path) && !path.is_empty() {
                path = parent_dir(&path).to_owned();
                if dirs.contains(&path) {
                    dirs.remove(&dir);
                    break;
                }
            }
        }
        dirs
    }

    fn by_dir(&self, leaf: bool) -> BTreeMap<String, BTreeSet<String>> {
        let dirs = self.owners_dirs();
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in &self.files {
            let dir = self.owners.approver_owners_dir(file);
            if !dirs.contains(&dir) {
                continue;
            }
            let people = if leaf {
                self.owners.leaf_approvers(file)
            } else {
                union(&self.owners.approvers(file))
            };
            out.entry(dir).or_default().extend(people);
        }
        out
    }

    /// Potential approvers per OWNERS directory.
    pub fn approvers_by_dir(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.by_dir(false)
    }

    /// The OWNERS directories still lacking an approval.
    pub fn unapproved_dirs(&self) -> BTreeSet<String> {
        let dirs = self.owners_dirs();
        let current = self.current();
        let mut out = BTreeSet::new();
        for file in &self.files {
            let dir = self.owners.approver_owners_dir(file);
            if !dirs.contains(&dir) {
                continue;
            }
            if union(&self.owners.approvers(file)).is_disjoint(&current) {
                out.insert(dir);
            }
        }
        out
    }

    /// Whether every changed file is approved (and there are changed files).
    pub fn files_approved(&self) -> bool {
        !self.files.is_empty() && self.unapproved_dirs().is_empty()
    }

    /// Approvals with `no-issue` from someone who owns a changed file.
    pub fn no_issue_approvals(&self) -> Vec<&Approval> {
        let reverse = reverse(&self.approvers_by_dir());
        self.approvals
            .iter()
            .filter(|(login, a)| a.no_issue && reverse.get(*login).is_some_and(|s| !s.is_empty()))
            .map(|(_, a)| a)
            .collect()
    }

    /// Files approved and, when required, an issue referenced or waived.
    pub fn requirements_met(&self) -> bool {
        self.files_approved()
            && (!self.require_issue
                || self.associated_issue.is_some()
                || !self.no_issue_approvals().is_empty())
    }

    /// Whether the pull request counts as approved.
    pub fn is_approved(&self) -> bool {
        self.requirements_met() || self.manually_approved
    }

    /// The approvers, in the order suggestions consider them (shuffled by `seed`).
    fn shuffled_candidates(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .by_dir(true)
            .into_values()
            .flatten()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        shuffle(&mut all, self.seed);
        all
    }

    fn suggest(
        &self,
        reverse: &BTreeMap<String, BTreeSet<String>>,
        candidates: &[String],
    ) -> BTreeSet<String> {
        let mut trial = Approvals::new(self.owners, self.files.clone());
        while !trial.files_approved() {
            let unapproved = trial.unapproved_dirs();
            let current = trial.current();
            let mut best = None;
            let mut max = 0;
            for c in candidates {
                let Some(can) = reverse.get(c) else { continue };
                // Prow compares against the count of every directory the candidate owns, not
                // only the unapproved ones; kept for the same suggestions.
                if can.intersection(&unapproved).count() > max && !current.contains(c) {
                    max = can.len();
                    best = Some(c.clone());
                }
            }
            let Some(best) = best else {
                return trial.current();
            };
            trial.add_approver(&best, "", false);
        }
        trial.current()
    }

    fn keep_covering(
        &self,
        reverse: &BTreeMap<String, BTreeSet<String>>,
        known: &BTreeSet<String>,
        candidates: &[String],
    ) -> BTreeSet<String> {
        let mut trial = Approvals::new(self.owners, self.files.clone());
        for k in known {
            trial.add_approver(k, "", false);
        }
        let unapproved = trial.unapproved_dirs();
        self.suggest(reverse, candidates)
            .into_iter()
            .filter(|s| reverse.get(s).is_some_and(|d| !d.is_disjoint(&unapproved)))
            .collect()
    }

    /// Who to ask for approval: a small set of approvers covering what is still unapproved,
    /// preferring assignees (Prow's `GetCCs`).
    pub fn ccs(&self) -> Vec<String> {
        let candidates = self.shuffled_candidates();
        let current = self.current();
        let approvers_and_assignees: BTreeSet<String> =
            current.union(&self.assignees).cloned().collect();
        let leaf_reverse = reverse(&self.by_dir(true));
        let suggested = self.keep_covering(&leaf_reverse, &approvers_and_assignees, &candidates);
        let approvers_and_suggested: BTreeSet<String> =
            current.union(&suggested).cloned().collect();
        let everyone: Vec<String> = approvers_and_suggested
            .union(&self.assignees)
            .cloned()
            .collect();
        let full_reverse = reverse(&self.approvers_by_dir());
        let keep_assignees = self.keep_covering(&full_reverse, &approvers_and_suggested, &everyone);
        suggested.union(&keep_assignees).cloned().collect()
    }

    /// Suggested approvers who are assigned already.
    pub fn assigned_ccs(&self) -> Vec<String> {
        self.ccs()
            .into_iter()
            .filter(|c| self.assignees.contains(c))
            .collect()
    }

    /// Suggested approvers not assigned yet.
    pub fn suggested_ccs(&self) -> Vec<String> {
        self.ccs()
            .into_iter()
            .filter(|c| !self.assignees.contains(c))
            .collect()
    }

    /// Each OWNERS directory with whether it is approved and by whom (as written).
    pub fn dir_status(&self) -> Vec<(String, bool, Vec<String>)> {
        let unapproved = self.unapproved_dirs();
        let by_dir = self.approvers_by_dir();
        self.owners_dirs()
            .into_iter()
            .map(|dir| {
                let potential = by_dir.get(&dir).cloned().unwrap_or_default();
                let mut who: Vec<String> = self
                    .approvals
                    .values()
                    .filter(|a| potential.contains(&a.login.to_lowercase()))
                    .map(|a| a.login.clone())
                    .collect();
                who.sort();
                let approved = !unapproved.contains(&dir);
                (dir, approved, who)
            })
            .collect()
    }
}

fn reverse(by_dir: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (dir, people) in by_dir {
        for p in people {
            out.entry(p.clone()).or_default().insert(dir.clone());
        }
    }
    out
}

/// A deterministic Fisher-Yates shuffle (splitmix64), so suggestions are stable per PR.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
