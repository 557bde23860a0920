//! `Refs` and `Pull`: what a job checks out, and their `PULL_REFS` string form.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::serde_util::is_false;

/// A pull request merged into the base ref before a job runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Pull {
    /// The pull request number.
    #[serde(default)]
    pub number: u64,
    /// The GitHub login of the pull request's author.
    #[serde(default)]
    pub author: String,
    /// The head commit of the pull request.
    #[serde(default)]
    pub sha: String,
    /// The pull request's title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// A git ref to fetch instead of `pull/<number>/head` (Gerrit, for one, needs this).
    #[serde(default, rename = "ref", skip_serializing_if = "String::is_empty")]
    pub git_ref: String,
    /// The name of the branch the pull request comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub head_ref: String,
    /// A link to the pull request.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub link: String,
    /// A link to the head commit.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit_link: String,
    /// A link to the author's profile.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author_link: String,
}

/// A repository and the commits of it that a job needs: a base ref and any pulls merged on top.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Refs {
    /// The GitHub organisation (or the Gerrit host).
    #[serde(default)]
    pub org: String,
    /// The repository within the organisation.
    #[serde(default)]
    pub repo: String,
    /// A link to the repository.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repo_link: String,
    /// The branch the job tests against.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base_ref: String,
    /// The commit of `base_ref` to test.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base_sha: String,
    /// A link to the base commit.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base_link: String,
    /// Pull requests merged onto the base, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pulls: Vec<Pull>,
    /// Where to clone the repository under `$GOPATH/src` instead of `github.com/org/repo`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path_alias: String,
    /// Whether the job's working directory is this repository's clone.
    #[serde(default, rename = "workdir", skip_serializing_if = "is_false")]
    pub work_dir: bool,
    /// Whether this repository is only used by the job and does not report results.
    #[serde(default, skip_serializing_if = "is_false")]
    pub auxiliary: bool,
    /// A URI to clone from instead of the GitHub URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub clone_uri: String,
    /// Whether to skip `git submodule update`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip_submodules: bool,
    /// How many commits to fetch (0 fetches everything).
    #[serde(default, skip_serializing_if = "crate::serde_util::is_zero")]
    pub clone_depth: i64,
    /// Whether to skip `git fetch` of all refs and tags before checking out.
    #[serde(default, skip_serializing_if = "is_false")]
    pub skip_fetch_head: bool,
    /// Whether to fetch without blobs (`--filter=blob:none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobless_fetch: Option<bool>,
    /// Paths for a sparse checkout; empty checks out everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparse_checkout_files: Vec<String>,
}

impl Refs {
    /// `org/repo`, or just `org` when the repository is empty.
    pub fn org_repo(&self) -> String {
        if self.repo.is_empty() {
            self.org.clone()
        } else {
            format!("{}/{}", self.org, self.repo)
        }
    }

    /// The `PULL_REFS` value: `base_ref[:base_sha]` then `,number:sha[:ref]` per pull.
    ///
    /// Also the identity of a batch: two batch jobs test the same thing when these match.
    pub fn pull_refs(&self) -> String {
        self.to_string()
    }

    /// Reads a `PULL_REFS` value back into refs for `org/repo`.
    ///
    /// Branch and ref names with `,` or `:` cannot be told apart from separators; Git forbids
    /// `:` in ref names, but allows `,`, so such a base branch does not survive the round trip.
    pub fn parse_pull_refs(org: &str, repo: &str, text: &str) -> Result<Refs, PullRefsError> {
        let error = |reason: &'static str| PullRefsError {
            input: text.to_owned(),
            reason,
        };
        let mut parts = text.split(',');
        let base = parts.next().unwrap_or_default();
        let (base_ref, base_sha) = match base.split_once(':') {
            Some((_, "")) => return Err(error("empty base SHA after ':'")),
            Some((r, sha)) => (r, sha),
            None => (base, ""),
        };
        if base_sha.contains(':') {
            return Err(error("base ref has more than one ':'"));
        }
        let mut pulls = Vec::new();
        for part in parts {
            let mut fields = part.splitn(3, ':');
            let number = fields.next().unwrap_or_default();
            let number: u64 = number
                .parse()
                .map_err(|_| error("pull number is not a non-negative integer"))?;
            let sha = fields.next().ok_or_else(|| error("pull has no ':<sha>'"))?;
            let git_ref = fields.next().unwrap_or_default();
            if git_ref.contains(':') {
                return Err(error("pull ref has more than one ':'"));
            }
            if git_ref.is_empty() && part.ends_with(':') && part.matches(':').count() == 2 {
                return Err(error("empty pull ref after ':'"));
            }
            pulls.push(Pull {
                number,
                sha: sha.to_owned(),
                git_ref: git_ref.to_owned(),
                ..Pull::default()
            });
        }
        Ok(Refs {
            org: org.to_owned(),
            repo: repo.to_owned(),
            base_ref: base_ref.to_owned(),
            base_sha: base_sha.to_owned(),
            pulls,
            ..Refs::default()
        })
    }
}

impl fmt::Display for Refs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base_ref)?;
        if !self.base_sha.is_empty() {
            write!(f, ":{}", self.base_sha)?;
        }
        for pull in &self.pulls {
            write!(f, ",{}:{}", pull.number, pull.sha)?;
            if !pull.git_ref.is_empty() {
                write!(f, ":{}", pull.git_ref)?;
            }
        }
        Ok(())
    }
}

/// A `PULL_REFS` value that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid PULL_REFS value {input:?}: {reason}")]
pub struct PullRefsError {
    /// The text that was read.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(base_ref: &str, base_sha: &str, pulls: &[(u64, &str, &str)]) -> Refs {
        Refs {
            org: "o".into(),
            repo: "r".into(),
            base_ref: base_ref.into(),
            base_sha: base_sha.into(),
            pulls: pulls
                .iter()
                .map(|&(number, sha, git_ref)| Pull {
                    number,
                    sha: sha.into(),
                    git_ref: git_ref.into(),
                    ..Pull::default()
                })
                .collect(),
            ..Refs::default()
        }
    }

    fn check(refs: Refs, expected: &str) {
        assert_eq!(refs.pull_refs(), expected);
        assert_eq!(Refs::parse_pull_refs("o", "r", expected), Ok(refs));
    }

    #[test]
    fn string_form_matches_prow() {
        check(refs("master", "", &[]), "master");
        check(refs("master", "deadbeef", &[]), "master:deadbeef");
        check(
            refs("main", "abc", &[(1, "s1", ""), (2, "s2", "refs/changes/2")]),
            "main:abc,1:s1,2:s2:refs/changes/2",
        );
        check(refs("", "abc", &[(7, "s", "")]), ":abc,7:s");
    }

    #[test]
    fn bad_strings_are_rejected() {
        for bad in ["main:", "main,x:y", "main,1", "main,1:a:b:c", "a:b:c"] {
            assert!(
                Refs::parse_pull_refs("o", "r", bad).is_err(),
                "{bad:?} should not parse"
            );
        }
    }
}

/// How a pull request is merged into its base: Prow's `merge`, `squash` and `rebase`, as tide's
/// `merge_method` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MergeMethod {
    /// A merge commit with the pull request's head as second parent.
    #[default]
    Merge,
    /// The pull request's changes as one commit on the base.
    Squash,
    /// Each of the pull request's commits replayed on the base.
    Rebase,
}

impl MergeMethod {
    /// The name Prow uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}
