//! Reads a repository's OWNERS files at one commit through [`GitHubClient::file_contents`], for
//! the OWNERS-based plugins, caching each file per repository and commit.
//!
//! Prow clones the repository and walks every OWNERS file; without a clone we read only the
//! OWNERS files in the directories of the changed files and their parents, which is all that
//! decides who owns those files (`no_parent_owners` only ever cuts the walk up short).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use prow_config::owners::{self, Aliases, OwnersFile, RepoOwners};
use prow_config::plugins::OwnersFilenames;
use prow_github::client::GitHubClient;

use super::{Context, PluginError};

/// How many files the cache keeps before it starts over (a crude bound on memory).
const MAX_CACHED_FILES: usize = 4096;

/// One file read: absent, parsed, or broken (with the parser's words).
pub type Read<T> = Option<Result<T, owners::OwnersError>>;

type Key = (String, String, String, String);

/// A cache of OWNERS files per `(org, repo, sha, path)`.
#[derive(Debug, Default)]
pub struct OwnersLoader {
    owners: Mutex<HashMap<Key, Arc<Read<OwnersFile>>>>,
    aliases: Mutex<HashMap<Key, Arc<Read<Aliases>>>>,
}

/// Every directory from `path`'s own up to the root (`""`), closest first.
pub fn ancestor_dirs(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = owners::parent_dir(path);
    loop {
        out.push(d.to_owned());
        if d.is_empty() {
            break;
        }
        d = owners::parent_dir(d);
    }
    out
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The file `(org, repo, sha, path)` parsed with `parse`, from `cache` or read from GitHub
/// (and then kept).
async fn cached<T>(
    cache: &Mutex<HashMap<Key, Arc<Read<T>>>>,
    github: &dyn GitHubClient,
    (org, repo, sha, path): (&str, &str, &str, &str),
    parse: fn(&str, &str) -> Result<T, owners::OwnersError>,
) -> Result<Arc<Read<T>>, PluginError> {
    let key = (
        org.to_owned(),
        repo.to_owned(),
        sha.to_owned(),
        path.to_owned(),
    );
    if let Some(hit) = lock(cache).get(&key) {
        return Ok(hit.clone());
    }
    let bytes = github
        .file_contents(org, repo, path, sha)
        .await
        .map_err(PluginError::github(format!(
            "read {path} of {org}/{repo} at {sha}"
        )))?;
    let read = Arc::new(bytes.map(|b| parse(path, &String::from_utf8_lossy(&b))));
    let mut cache = lock(cache);
    if cache.len() >= MAX_CACHED_FILES {
        cache.clear();
    }
    cache.insert(key, read.clone());
    Ok(read)
}

impl OwnersLoader {
    /// The OWNERS file at `path` (a full path such as `a/b/OWNERS`).
    pub async fn owners_file(
        &self,
        github: &dyn GitHubClient,
        org: &str,
        repo: &str,
        sha: &str,
        path: &str,
    ) -> Result<Arc<Read<OwnersFile>>, PluginError> {
        cached(
            &self.owners,
            github,
            (org, repo, sha, path),
            owners::parse_owners,
        )
        .await
    }

    /// The aliases file at `path`.
    pub async fn aliases_file(
        &self,
        github: &dyn GitHubClient,
        org: &str,
        repo: &str,
        sha: &str,
        path: &str,
    ) -> Result<Arc<Read<Aliases>>, PluginError> {
        cached(
            &self.aliases,
            github,
            (org, repo, sha, path),
            owners::parse_aliases,
        )
        .await
    }

    /// The owners of `files` in `org/repo` at `sha`: the aliases file and every OWNERS file in
    /// their directories and above. Broken files are skipped, as Prow skips them (with a log
    /// line); verify-owners is the plugin that reports them.
    pub async fn load(
        &self,
        github: &dyn GitHubClient,
        org: &str,
        repo: &str,
        sha: &str,
        names: &OwnersFilenames,
        files: &[String],
    ) -> Result<RepoOwners, PluginError> {
        let aliases = match &*self
            .aliases_file(github, org, repo, sha, &names.owners_aliases)
            .await?
        {
            Some(Ok(a)) => a.clone(),
            Some(Err(e)) => {
                tracing::warn!(org, repo, sha, error = %e, "ignoring a broken aliases file");
                Aliases::new()
            }
            None => Aliases::new(),
        };
        let dirs: BTreeSet<String> = files.iter().flat_map(|f| ancestor_dirs(f)).collect();
        let mut owners = RepoOwners::new(aliases);
        for dir in dirs {
            let path = join(&dir, &names.owners);
            match &*self.owners_file(github, org, repo, sha, &path).await? {
                Some(Ok(file)) => {
                    for bad in owners.add(&dir, file) {
                        tracing::debug!(org, repo, path, pattern = bad, "invalid filter regex");
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!(org, repo, sha, error = %e, "ignoring a broken OWNERS file");
                }
                None => {}
            }
        }
        Ok(owners)
    }

    /// The owners of `files` at a pull request's `base` (its SHA, or its branch when the event
    /// carries none), with the OWNERS file names `plugins.yaml` sets for `org/repo`.
    pub async fn load_at_base(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        base: &prow_github::types::Branch,
        files: &[String],
    ) -> Result<RepoOwners, PluginError> {
        let names = ctx.plugins.owners_filenames(org, repo);
        let sha = if base.sha.is_empty() {
            &base.git_ref
        } else {
            &base.sha
        };
        self.load(ctx.github, org, repo, sha, &names, files).await
    }
}
