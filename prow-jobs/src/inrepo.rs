//! In-repo configuration at run time: a pull request's `.prow.yaml` / `.prow/` read at its base
//! SHA merged with its heads (upstream's `prowYAMLGetter` and `InRepoConfigCache`), through
//! bare git mirrors kept under one directory.
//!
//! [`InRepoConfigCache::prow_yaml`] answers the defaulted and validated in-repo jobs of a
//! repository for (base SHA, head SHAs); [`InRepoConfigCache::presubmits`] and
//! [`InRepoConfigCache::postsubmits`] add the central jobs first, as upstream's
//! `GetPresubmits`/`GetPostsubmits` do. Repositories where `in_repo_config.enabled` is off cost
//! nothing and answer the central jobs only.
//!
//! - The mirrors (`<dir>/<org>/<repo>.git`) are fetched from [`GitHubClient::git_remote`] only
//!   when a wanted commit is missing, and reused across events. Their total size is bounded:
//!   after a fetch, the least recently used other mirrors are deleted while the total exceeds
//!   the limit.
//! - What the merge holds (the in-repo files' bytes) is cached by (repository, base SHA, head
//!   SHAs) in a bounded LRU. Defaulting and validation run against the configuration of each
//!   call, so a configuration change (presets, `allowed_clusters`) applies to cached entries.
//! - The heads are merged into the base in memory, one after the other, as a merge commit
//!   (upstream uses tide's merge method; for reading the files every method gives the same
//!   tree unless the merge conflicts, which is an error either way).
//!
//! Everything git does blocks; it runs on tokio's blocking pool.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use git2::{FetchOptions, ObjectType, Oid, Repository, Signature, Tree};
use prow_config::inrepo::{PROW_YAML_DIR, PROW_YAML_FILE, ProwYaml, load_prow_yaml};
use prow_config::{Config, Finding, Postsubmit, Presubmit};
use prow_github::GitHubClient;

/// The mirrors' default size limit: 2 GiB.
pub const DEFAULT_MAX_MIRROR_BYTES: u64 = 2 << 30;
/// How many merges' files are kept by default.
pub const DEFAULT_MAX_ENTRIES: usize = 512;

/// Why a repository's in-repo configuration could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InRepoError {
    /// GitHub did not say where the repository is.
    #[error("find the git address of {repo}: {reason}")]
    Remote {
        /// `org/repo`.
        repo: String,
        /// GitHub's error.
        reason: String,
    },
    /// A git step failed (the address is never named: it may carry a token).
    #[error("failed to clone repo for {repo:?}: {reason}")]
    Git {
        /// `org/repo`.
        repo: String,
        /// libgit2's words.
        reason: String,
    },
    /// The heads do not merge into the base.
    #[error("failed to merge: {reason}")]
    Merge {
        /// Which commits conflicted.
        reason: String,
    },
    /// The files do not load, default or validate; every finding is listed.
    #[error("invalid in-repo config of {repo}: {}", findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// `org/repo`.
        repo: String,
        /// Every problem, with the file relative to the repository root.
        findings: Vec<Finding>,
    },
}

/// The in-repo files of one merge: path relative to the root, content.
type Files = Vec<(String, Vec<u8>)>;

/// A merge: repository, base SHA, head SHAs.
type Key = (String, String, Vec<String>);

#[derive(Default)]
struct State {
    /// Merged files, newest use at the back.
    files: HashMap<Key, Arc<Files>>,
    order: VecDeque<Key>,
    /// Mirror size and last use (a counter), by `org/repo`.
    mirrors: BTreeMap<String, (u64, u64)>,
    tick: u64,
    /// One lock per mirror, so two events never fetch into the same one at once.
    locks: BTreeMap<String, Arc<Mutex<()>>>,
}

/// Bare mirrors and the merges read from them; share one per process (`Arc`).
pub struct InRepoConfigCache {
    dir: PathBuf,
    max_mirror_bytes: u64,
    max_entries: usize,
    state: Mutex<State>,
}

impl std::fmt::Debug for InRepoConfigCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InRepoConfigCache")
            .field("dir", &self.dir)
            .field("max_mirror_bytes", &self.max_mirror_bytes)
            .finish_non_exhaustive()
    }
}

/// The figures of a cache, for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Merges whose files are cached.
    pub entries: usize,
    /// Mirrors on disk.
    pub mirrors: usize,
    /// Their total size in bytes.
    pub mirror_bytes: u64,
}

impl InRepoConfigCache {
    /// A cache keeping its mirrors under `dir` (created when first needed), with the default
    /// limits.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        InRepoConfigCache {
            dir: dir.into(),
            max_mirror_bytes: DEFAULT_MAX_MIRROR_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
            state: Mutex::new(State::default()),
        }
    }

    /// The same cache with other limits: total mirror bytes and cached merges (at least one).
    pub fn with_limits(mut self, max_mirror_bytes: u64, max_entries: usize) -> Self {
        self.max_mirror_bytes = max_mirror_bytes;
        self.max_entries = max_entries.max(1);
        self
    }

    /// Where the mirrors live.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How much the cache holds now.
    pub fn stats(&self) -> CacheStats {
        let state = self.lock();
        CacheStats {
            entries: state.files.len(),
            mirrors: state.mirrors.len(),
            mirror_bytes: state.mirrors.values().map(|(b, _)| b).sum(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The in-repo jobs of `org/repo` at `base_sha` merged with `head_shas`, defaulted and
    /// validated against `config` (upstream's `prowYAMLGetterWithDefaults`). Empty when
    /// in-repo config is not enabled for the repository.
    pub async fn prow_yaml(
        &self,
        config: &Config,
        github: &dyn GitHubClient,
        (org, repo): (&str, &str),
        base_sha: &str,
        head_shas: &[&str],
    ) -> Result<ProwYaml, InRepoError> {
        let full = format!("{org}/{repo}");
        if !prow_config::inrepo::in_repo_config_enabled(config, &full) {
            return Ok(ProwYaml::default());
        }
        let key: Key = (
            full.clone(),
            base_sha.to_owned(),
            head_shas.iter().map(|s| (*s).to_owned()).collect(),
        );
        let cached = {
            let mut state = self.lock();
            let hit = state.files.get(&key).cloned();
            if hit.is_some() {
                state.order.retain(|k| k != &key);
                state.order.push_back(key.clone());
            }
            hit
        };
        let files = match cached {
            Some(files) => {
                tracing::debug!(repo = %full, base = base_sha, "in-repo config from the cache");
                files
            }
            None => {
                let remote =
                    github
                        .git_remote(org, repo)
                        .await
                        .map_err(|e| InRepoError::Remote {
                            repo: full.clone(),
                            reason: e.to_string(),
                        })?;
                let files = Arc::new(self.fetch_and_merge(&full, remote, &key).await?);
                self.remember(key, files.clone());
                files
            }
        };
        // A few small files written and parsed: cheaper in place than cloning the whole
        // configuration onto the blocking pool.
        load_files(config, &full, &files)
    }

    /// The presubmits of `org/repo` for a pull request: the central ones, then the in-repo
    /// ones of its base SHA merged with its heads (upstream's `GetPresubmits`).
    pub async fn presubmits(
        &self,
        config: &Config,
        github: &dyn GitHubClient,
        (org, repo): (&str, &str),
        base_sha: &str,
        head_shas: &[&str],
    ) -> Result<Vec<Presubmit>, InRepoError> {
        let mut jobs = central(&config.jobs.presubmits, org, repo);
        let in_repo = self
            .prow_yaml(config, github, (org, repo), base_sha, head_shas)
            .await?;
        jobs.extend(in_repo.presubmits);
        Ok(jobs)
    }

    /// The postsubmits of `org/repo` for a push of `sha`: the central ones, then the in-repo
    /// ones at that commit (upstream's `GetPostsubmits`).
    pub async fn postsubmits(
        &self,
        config: &Config,
        github: &dyn GitHubClient,
        (org, repo): (&str, &str),
        sha: &str,
    ) -> Result<Vec<Postsubmit>, InRepoError> {
        let mut jobs = central(&config.jobs.postsubmits, org, repo);
        let in_repo = self
            .prow_yaml(config, github, (org, repo), sha, &[])
            .await?;
        jobs.extend(in_repo.postsubmits);
        Ok(jobs)
    }

    fn remember(&self, key: Key, files: Arc<Files>) {
        let mut state = self.lock();
        state.order.retain(|k| k != &key);
        state.order.push_back(key.clone());
        state.files.insert(key, files);
        while state.files.len() > self.max_entries {
            let Some(oldest) = state.order.pop_front() else {
                break;
            };
            state.files.remove(&oldest);
        }
    }

    async fn fetch_and_merge(
        &self,
        full: &str,
        remote: String,
        key: &Key,
    ) -> Result<Files, InRepoError> {
        let mirror = self.dir.join(format!("{full}.git"));
        let lock = self
            .lock()
            .locks
            .entry(full.to_owned())
            .or_default()
            .clone();
        let (base, heads) = (key.1.clone(), key.2.clone());
        let repo_name = full.to_owned();
        let path = mirror.clone();
        let files = tokio::task::spawn_blocking(move || {
            let _held = lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            merged_files(&path, &remote, &base, &heads).map_err(|e| match e {
                Step::Git(reason) => InRepoError::Git {
                    repo: repo_name.clone(),
                    reason,
                },
                Step::Merge(reason) => InRepoError::Merge { reason },
            })
        })
        .await
        .map_err(|e| InRepoError::Git {
            repo: full.to_owned(),
            reason: format!("the git task failed: {e}"),
        })??;
        self.account(full, &mirror);
        tracing::info!(repo = full, base = %key.1, heads = ?key.2, files = files.len(), "read in-repo config");
        Ok(files)
    }

    /// Records the size of `full`'s mirror and deletes the least recently used others while
    /// the total is over the limit.
    fn account(&self, full: &str, mirror: &Path) {
        let size = dir_size(mirror);
        let mut state = self.lock();
        state.tick += 1;
        let tick = state.tick;
        state.mirrors.insert(full.to_owned(), (size, tick));
        loop {
            let total: u64 = state.mirrors.values().map(|(b, _)| b).sum();
            if total <= self.max_mirror_bytes {
                break;
            }
            let victim = state
                .mirrors
                .iter()
                .filter(|(name, _)| name.as_str() != full)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(name, _)| name.clone());
            let Some(victim) = victim else { break };
            let busy = state
                .locks
                .get(&victim)
                .is_some_and(|l| l.try_lock().is_err());
            state.mirrors.remove(&victim);
            if busy {
                continue;
            }
            let path = self.dir.join(format!("{victim}.git"));
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {
                    tracing::info!(repo = %victim, "deleted a git mirror over the size limit")
                }
                Err(e) => {
                    tracing::warn!(repo = %victim, error = %e, "could not delete a git mirror")
                }
            }
        }
    }
}

fn central<T: Clone>(jobs: &BTreeMap<String, Vec<T>>, org: &str, repo: &str) -> Vec<T> {
    jobs.get(&format!("{org}/{repo}"))
        .cloned()
        .unwrap_or_default()
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

enum Step {
    Git(String),
    Merge(String),
}

fn git(e: git2::Error) -> Step {
    Step::Git(e.message().to_owned())
}

/// Opens (or creates) the bare mirror at `path`, fetches from `remote` when a wanted commit
/// is missing, merges the heads into the base and answers the in-repo files of the result.
fn merged_files(path: &Path, remote: &str, base: &str, heads: &[String]) -> Result<Files, Step> {
    let repo = match Repository::open_bare(path) {
        Ok(repo) => repo,
        Err(_) => {
            std::fs::create_dir_all(path)
                .map_err(|e| Step::Git(format!("make the mirror: {e}")))?;
            Repository::init_bare(path).map_err(git)?
        }
    };
    let wanted: Vec<Oid> = std::iter::once(base)
        .chain(heads.iter().map(String::as_str))
        .map(|s| Oid::from_str(s).map_err(|_| Step::Git(format!("{s:?} is not a commit SHA"))))
        .collect::<Result<_, _>>()?;
    let missing = |repo: &Repository| -> Vec<Oid> {
        wanted
            .iter()
            .copied()
            .filter(|oid| repo.find_commit(*oid).is_err())
            .collect()
    };
    if !missing(&repo).is_empty() {
        let mut origin = repo.remote_anonymous(remote).map_err(git)?;
        origin
            .fetch(
                &[
                    "+refs/heads/*:refs/heads/*",
                    "+refs/pull/*/head:refs/pull/*/head",
                ],
                Some(&mut FetchOptions::new()),
                None,
            )
            .map_err(git)?;
        // A commit no branch or pull request names (a force-pushed head): ask for it by SHA.
        for oid in missing(&repo) {
            let spec = oid.to_string();
            let _ = origin.fetch(&[spec.as_str()], Some(&mut FetchOptions::new()), None);
        }
        if let Some(oid) = missing(&repo).first() {
            return Err(Step::Git(format!("commit {oid} is not in the repository")));
        }
    }
    let mut current = repo.find_commit(wanted[0]).map_err(git)?;
    let who = Signature::now("prow", "prow@localhost").map_err(git)?;
    for head in &wanted[1..] {
        let theirs = repo.find_commit(*head).map_err(git)?;
        if repo
            .graph_descendant_of(current.id(), theirs.id())
            .unwrap_or(false)
            || current.id() == theirs.id()
        {
            continue;
        }
        let mut index = repo.merge_commits(&current, &theirs, None).map_err(git)?;
        if index.has_conflicts() {
            let paths: Vec<String> = index
                .conflicts()
                .map_err(git)?
                .flatten()
                .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                .collect();
            return Err(Step::Merge(format!(
                "merging {} into {} conflicts in {}",
                theirs.id(),
                current.id(),
                paths.join(", ")
            )));
        }
        let tree = repo
            .find_tree(index.write_tree_to(&repo).map_err(git)?)
            .map_err(git)?;
        let message = format!("Merge {}", theirs.id());
        let merged = repo
            .commit(None, &who, &who, &message, &tree, &[&current, &theirs])
            .map_err(git)?;
        current = repo.find_commit(merged).map_err(git)?;
    }
    let tree = current.tree().map_err(git)?;
    let mut files = Files::new();
    for name in [PROW_YAML_FILE, ".prowignore"] {
        if let Some(entry) = tree.get_name(name)
            && entry.kind() == Some(ObjectType::Blob)
        {
            let blob = repo.find_blob(entry.id()).map_err(git)?;
            files.push((name.to_owned(), blob.content().to_vec()));
        }
    }
    if let Some(entry) = tree.get_name(PROW_YAML_DIR)
        && entry.kind() == Some(ObjectType::Tree)
    {
        let sub = repo.find_tree(entry.id()).map_err(git)?;
        collect(&repo, &sub, PROW_YAML_DIR, &mut files)?;
    }
    Ok(files)
}

fn collect(
    repo: &Repository,
    tree: &Tree<'_>,
    prefix: &str,
    files: &mut Files,
) -> Result<(), Step> {
    for entry in tree {
        let Ok(name) = entry.name() else { continue };
        let path = format!("{prefix}/{name}");
        match entry.kind() {
            Some(ObjectType::Blob) => {
                let blob = repo.find_blob(entry.id()).map_err(git)?;
                files.push((path, blob.content().to_vec()));
            }
            Some(ObjectType::Tree) => {
                let sub = repo.find_tree(entry.id()).map_err(git)?;
                collect(repo, &sub, &path, files)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Writes `files` into a scratch directory and loads them as checkconfig does; file names in
/// the answer (jobs' `source_path`, findings) are relative to the repository root.
fn load_files(config: &Config, repo: &str, files: &Files) -> Result<ProwYaml, InRepoError> {
    let scratch = tempfile::tempdir().map_err(|e| InRepoError::Git {
        repo: repo.to_owned(),
        reason: format!("make a scratch directory: {e}"),
    })?;
    for (path, bytes) in files {
        let to = scratch.path().join(path);
        let written = to
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&to, bytes));
        if let Err(e) = written {
            return Err(InRepoError::Git {
                repo: repo.to_owned(),
                reason: format!("write {path}: {e}"),
            });
        }
    }
    let relative = |p: &Path| -> PathBuf {
        p.strip_prefix(scratch.path())
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| p.to_path_buf())
    };
    match load_prow_yaml(config, repo, scratch.path()) {
        Ok(mut prow_yaml) => {
            for job in &mut prow_yaml.presubmits {
                job.source_path = relative(Path::new(&job.source_path)).display().to_string();
            }
            for job in &mut prow_yaml.postsubmits {
                job.source_path = relative(Path::new(&job.source_path)).display().to_string();
            }
            Ok(prow_yaml)
        }
        Err(prow_config::Error::Invalid { mut errors }) => {
            for finding in &mut errors {
                if let Some(file) = &finding.file {
                    finding.file = Some(relative(file));
                }
            }
            Err(InRepoError::Invalid {
                repo: repo.to_owned(),
                findings: errors,
            })
        }
        Err(other) => Err(InRepoError::Invalid {
            repo: repo.to_owned(),
            findings: vec![Finding::error(other.to_string())],
        }),
    }
}
