//! A git working copy for plugins that change code (upstream's git client as cherrypicker uses
//! it): clone, check out a branch, cherry-pick commits onto it, push it elsewhere.
//!
//! Everything here blocks (libgit2): call it from `tokio::task::spawn_blocking`. Remote
//! addresses may carry a token ([`prow_github::GitHubClient::git_remote`]), so no error or log
//! line here names them; callers say which repository they meant.

use std::path::Path;

use git2::build::{CheckoutBuilder, RepoBuilder};
use git2::{Direction, FetchOptions, Oid, PushOptions, RemoteCallbacks, Repository, Signature};

/// Why a git step failed, in words fit for a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GitError(pub String);

fn git(e: git2::Error) -> GitError {
    GitError(e.message().to_owned())
}

/// A clone in a directory of its own (removed when dropped).
pub struct WorkingCopy {
    repo: Repository,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for WorkingCopy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkingCopy")
            .field("path", &self.repo.path())
            .finish_non_exhaustive()
    }
}

/// Whether `remote` has branch `branch` (`git ls-remote --heads`).
pub fn remote_has_branch(remote: &str, branch: &str) -> Result<bool, GitError> {
    let mut detached = git2::Remote::create_detached(remote).map_err(git)?;
    detached.connect(Direction::Fetch).map_err(git)?;
    let wanted = format!("refs/heads/{branch}");
    let found = detached
        .list()
        .map_err(git)?
        .iter()
        .any(|h| h.name() == wanted);
    Ok(found)
}

/// The names of every reference `remote` advertises (`git ls-remote`): `HEAD`,
/// `refs/heads/…`, `refs/tags/…` (peeled tags, `…^{}`, left out).
pub fn list_refs(remote: &str) -> Result<Vec<String>, GitError> {
    let mut detached = git2::Remote::create_detached(remote).map_err(git)?;
    detached.connect(Direction::Fetch).map_err(git)?;
    let names = detached
        .list()
        .map_err(git)?
        .iter()
        .map(|h| h.name().to_owned())
        .filter(|n| !n.ends_with("^{}"))
        .collect();
    Ok(names)
}

impl WorkingCopy {
    /// Clones `remote` (its branches as `origin/*`) into a new temporary directory.
    pub fn clone(remote: &str) -> Result<WorkingCopy, GitError> {
        let dir = tempfile::tempdir().map_err(|e| GitError(format!("make a directory: {e}")))?;
        let repo = RepoBuilder::new()
            .fetch_options(FetchOptions::new())
            .clone(remote, &dir.path().join("repo"))
            .map_err(git)?;
        Ok(WorkingCopy { repo, _dir: dir })
    }

    /// Where the working tree is.
    pub fn path(&self) -> &Path {
        self.repo.workdir().unwrap_or_else(|| self.repo.path())
    }

    /// Fetches `refspec` (such as `refs/pull/7/head`) from `origin` and answers the commit it
    /// names.
    pub fn fetch(&self, refspec: &str) -> Result<Oid, GitError> {
        let mut origin = self.repo.find_remote("origin").map_err(git)?;
        origin
            .fetch(&[refspec], Some(&mut FetchOptions::new()), None)
            .map_err(git)?;
        let fetched = self.repo.find_reference("FETCH_HEAD").map_err(git)?;
        fetched.peel_to_commit().map(|c| c.id()).map_err(git)
    }

    /// Checks out `branch` as `origin` has it (`git checkout branch`).
    pub fn checkout(&self, branch: &str) -> Result<(), GitError> {
        let remote = self
            .repo
            .find_branch(&format!("origin/{branch}"), git2::BranchType::Remote)
            .map_err(|_| GitError(format!("couldn't find remote branch {branch:?}")))?;
        let commit = remote.get().peel_to_commit().map_err(git)?;
        let local = self.repo.branch(branch, &commit, true).map_err(git)?;
        let name = local.get().name().unwrap_or_default().to_owned();
        self.repo.set_head(&name).map_err(git)?;
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .map_err(git)
    }

    /// Checks out commit `commit` with a detached head (`git checkout --detach <sha>`).
    pub fn checkout_commit(&self, commit: Oid) -> Result<(), GitError> {
        self.repo.set_head_detached(commit).map_err(git)?;
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .map_err(git)
    }

    /// Starts branch `branch` at the current commit and checks it out
    /// (`git checkout -b branch`).
    pub fn checkout_new_branch(&self, branch: &str) -> Result<(), GitError> {
        let head = self.head()?;
        let commit = self.repo.find_commit(head).map_err(git)?;
        let created = self.repo.branch(branch, &commit, false).map_err(git)?;
        let name = created.get().name().unwrap_or_default().to_owned();
        self.repo.set_head(&name).map_err(git)
    }

    /// The commit checked out.
    pub fn head(&self) -> Result<Oid, GitError> {
        self.repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map(|c| c.id())
            .map_err(git)
    }

    /// Applies `commits` in order on the current branch, each as a new commit keeping its
    /// author and message, committed by `committer` (`git cherry-pick`, or `git am` of their
    /// patch). Merge commits are skipped, as a patch series leaves them out. A conflict stops
    /// with the paths that conflict.
    pub fn cherry_pick(
        &self,
        commits: &[Oid],
        committer: &Signature<'_>,
    ) -> Result<Vec<Oid>, GitError> {
        let mut made = Vec::new();
        for &oid in commits {
            let commit = self.repo.find_commit(oid).map_err(git)?;
            if commit.parent_count() > 1 {
                continue;
            }
            let head = self.repo.find_commit(self.head()?).map_err(git)?;
            let index = self
                .repo
                .cherrypick_commit(&commit, &head, 0, None)
                .map_err(git)?;
            if index.has_conflicts() {
                let paths: Vec<String> = index
                    .conflicts()
                    .map_err(git)?
                    .filter_map(Result::ok)
                    .filter_map(|c| c.our.or(c.their))
                    .map(|e| String::from_utf8_lossy(&e.path).into_owned())
                    .collect();
                let summary = String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default())
                    .into_owned();
                return Err(GitError(format!(
                    "Applying: {summary}\nPatch failed: conflict in {}",
                    paths.join(", ")
                )));
            }
            let mut index = index;
            let tree = self
                .repo
                .find_tree(index.write_tree_to(&self.repo).map_err(git)?)
                .map_err(git)?;
            let made_oid = self
                .repo
                .commit(
                    Some("HEAD"),
                    &commit.author(),
                    committer,
                    commit.message().unwrap_or_default(),
                    &tree,
                    &[&head],
                )
                .map_err(git)?;
            made.push(made_oid);
        }
        self.repo
            .checkout_head(Some(CheckoutBuilder::new().force()))
            .map_err(git)?;
        Ok(made)
    }

    /// The commit `sha`, fetching `refspec` (such as `refs/pull/7/head`) from `origin` first
    /// when the clone does not have it.
    pub fn commit_or_fetch(&self, sha: &str, refspec: &str) -> Result<Oid, GitError> {
        let oid = Oid::from_str(sha).map_err(git)?;
        if self.repo.find_commit(oid).is_ok() {
            return Ok(oid);
        }
        self.fetch(refspec)?;
        self.repo
            .find_commit(oid)
            .map(|c| c.id())
            .map_err(|_| GitError(format!("commit {sha} not found after fetching {refspec}")))
    }

    /// Every file named `name` anywhere in the tree of `commit`, with its path and contents,
    /// in path order (what Prow walks for OWNERS files). Nothing under `.git` is listed.
    pub fn files_named(&self, commit: Oid, name: &str) -> Result<Vec<(String, Vec<u8>)>, GitError> {
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(git)?;
        let mut found = Vec::new();
        let mut failed = None;
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if dir.split('/').any(|d| d == ".git") {
                return git2::TreeWalkResult::Skip;
            }
            if entry.name().ok() == Some(name) && entry.kind() == Some(git2::ObjectType::Blob) {
                match self.repo.find_blob(entry.id()) {
                    Ok(blob) => found.push((format!("{dir}{name}"), blob.content().to_vec())),
                    Err(e) => {
                        failed = Some(git(e));
                        return git2::TreeWalkResult::Abort;
                    }
                }
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(git)?;
        match failed {
            Some(e) => Err(e),
            None => {
                found.sort();
                Ok(found)
            }
        }
    }

    /// The contents of `path` in the tree of `commit`, `None` when it has no such file.
    pub fn file_at(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(git)?;
        let Ok(entry) = tree.get_path(Path::new(path)) else {
            return Ok(None);
        };
        let blob = self.repo.find_blob(entry.id()).map_err(git)?;
        Ok(Some(blob.content().to_vec()))
    }

    /// Pushes local branch `branch` to `remote` under the same name, replacing what is there
    /// when `force`.
    pub fn push(&self, remote: &str, branch: &str, force: bool) -> Result<(), GitError> {
        let mut detached = self.repo.remote_anonymous(remote).map_err(git)?;
        let refspec = format!(
            "{}refs/heads/{branch}:refs/heads/{branch}",
            if force { "+" } else { "" }
        );
        let rejected = std::cell::RefCell::new(None);
        let mut callbacks = RemoteCallbacks::new();
        callbacks.push_update_reference(|name, status| {
            if let Some(status) = status {
                *rejected.borrow_mut() = Some(format!("{name} rejected: {status}"));
            }
            Ok(())
        });
        detached
            .push(
                &[refspec.as_str()],
                Some(PushOptions::new().remote_callbacks(callbacks)),
            )
            .map_err(git)?;
        match rejected.into_inner() {
            Some(why) => Err(GitError(why)),
            None => Ok(()),
        }
    }
}
