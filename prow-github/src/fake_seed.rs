//! Seeding the in-memory GitHub from a YAML file: the demo's `github-fake.yaml` and the
//! `--github-fake FILE` flag of `prow hook` and `prow serve`.
//!
//! ```yaml
//! bot: ci-robot                  # the login the fake acts as
//! orgs:
//!   example-org:
//!     members: [alice]
//!     teams: {maintainers: {id: 42, members: [alice]}}    # slug: numeric ID and members
//!     projects:                            # classic project boards of the org
//!     - {id: 7, name: Roadmap, columns: [{id: 71, name: To do}, {id: 72, name: Done}]}
//! repos:
//!   example-org/example-repo:
//!     collaborators: {bob: write}          # none, read, triage, write, maintain, admin
//!     labels: [lgtm, approved]
//!     branches: {main: 1111111111111111111111111111111111111111}
//!     protection:                          # branch protection as GitHub reports it
//!       main: {required_status_checks: {strict: false, contexts: [ci]}, enforce_admins: true}
//!     archived: false                      # archived and private repositories are
//!     private: false                       # left alone by branchprotector
//!     files:                               # contents by ref and path
//!       main: {OWNERS: "approvers: [alice]\n"}
//!     projects: []                         # the repository's boards, as the org's
//! pulls:
//! - repo: example-org/example-repo
//!   number: 1
//!   title: Add a feature
//!   author: alice
//!   head: {ref: feature, sha: 2222222222222222222222222222222222222222}
//!   base: main                             # the base sha is the branch's
//!   labels: []
//!   files: [README.md]
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::fake::FakeGitHub;
use crate::types::{
    Branch, BranchProtection, Label, Permission, PullRequest, PullRequestFile, Repo, User,
};

/// Why a seed file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// Not YAML of the expected shape; the message has the line and field.
    #[error("github fake seed: {0}")]
    Parse(String),
    /// The file is well formed but inconsistent.
    #[error("github fake seed: {0}")]
    Invalid(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Seed {
    bot: Option<String>,
    orgs: BTreeMap<String, OrgSeed>,
    repos: BTreeMap<String, RepoSeed>,
    pulls: Vec<PullSeed>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct OrgSeed {
    members: Vec<String>,
    // Classic projects (project, project-manager).
    teams: BTreeMap<String, TeamSeed>,
    projects: Vec<ProjectSeed>,
}

// Classic projects (project, project-manager).

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TeamSeed {
    id: u64,
    members: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ProjectSeed {
    id: u64,
    name: String,
    columns: Vec<ColumnSeed>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ColumnSeed {
    id: u64,
    name: String,
}

impl FakeGitHub {
    fn seed_projects(&self, owner: &str, projects: &[ProjectSeed]) {
        for p in projects {
            let columns: Vec<(u64, &str)> =
                p.columns.iter().map(|c| (c.id, c.name.as_str())).collect();
            self.add_project(owner, p.id, &p.name, &columns);
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RepoSeed {
    collaborators: BTreeMap<String, Permission>,
    labels: Vec<String>,
    branches: BTreeMap<String, String>,
    protection: BTreeMap<String, BranchProtection>,
    archived: bool,
    private: bool,
    files: BTreeMap<String, BTreeMap<String, String>>,
    projects: Vec<ProjectSeed>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct HeadSeed {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PullSeed {
    repo: String,
    number: u64,
    title: String,
    body: Option<String>,
    author: String,
    head: HeadSeed,
    base: String,
    labels: Vec<String>,
    files: Vec<String>,
    draft: bool,
}

fn split(full: &str) -> Result<(&str, &str), SeedError> {
    full.split_once('/')
        .filter(|(o, r)| !o.is_empty() && !r.is_empty())
        .ok_or_else(|| SeedError::Invalid(format!("repository {full:?} is not org/repo")))
}

impl FakeGitHub {
    /// A fake seeded from `yaml` (the format in the module docs).
    pub fn from_seed_yaml(yaml: &str) -> Result<FakeGitHub, SeedError> {
        let seed: Seed = serde_yaml::from_str(yaml).map_err(|e| SeedError::Parse(e.to_string()))?;
        let github = FakeGitHub::new(seed.bot.as_deref().unwrap_or("ci-robot"));
        {
            let mut state = github.state();
            for (org, o) in &seed.orgs {
                state
                    .org_members
                    .entry(org.clone())
                    .or_default()
                    .extend(o.members.iter().cloned());
            }
            for (full, r) in &seed.repos {
                let (org, repo) = split(full)?;
                for (login, permission) in &r.collaborators {
                    state.collaborators.insert(
                        (org.to_owned(), repo.to_owned(), login.clone()),
                        *permission,
                    );
                }
                state.repo_labels.insert(
                    (org.to_owned(), repo.to_owned()),
                    r.labels
                        .iter()
                        .map(|name| Label {
                            name: name.clone(),
                            color: "ededed".to_owned(),
                            description: None,
                        })
                        .collect(),
                );
                for (branch, sha) in &r.branches {
                    state.branches.insert(
                        (org.to_owned(), repo.to_owned(), branch.clone()),
                        sha.clone(),
                    );
                }
                for (branch, protection) in &r.protection {
                    if !r.branches.contains_key(branch) {
                        return Err(SeedError::Invalid(format!(
                            "repository {full}: protected branch {branch:?} is not among its branches"
                        )));
                    }
                    state.protections.insert(
                        (org.to_owned(), repo.to_owned(), branch.clone()),
                        protection.clone(),
                    );
                }
                state.repos.insert(
                    (org.to_owned(), repo.to_owned()),
                    Repo {
                        name: repo.to_owned(),
                        full_name: full.clone(),
                        archived: r.archived,
                        private: r.private,
                        ..Repo::default()
                    },
                );
                for (git_ref, files) in &r.files {
                    for (path, text) in files {
                        state.files.insert(
                            (
                                org.to_owned(),
                                repo.to_owned(),
                                git_ref.clone(),
                                path.clone(),
                            ),
                            text.clone().into_bytes(),
                        );
                    }
                }
            }
        }
        for (org, o) in &seed.orgs {
            for (slug, team) in &o.teams {
                let members: Vec<&str> = team.members.iter().map(String::as_str).collect();
                github.add_team(org, slug, team.id, &members);
            }
            github.seed_projects(org, &o.projects);
        }
        for (full, r) in &seed.repos {
            github.seed_projects(full, &r.projects);
        }
        for p in &seed.pulls {
            let (org, repo) = split(&p.repo)?;
            let base_sha = github
                .state()
                .branches
                .get(&(org.to_owned(), repo.to_owned(), p.base.clone()))
                .cloned()
                .ok_or_else(|| {
                    SeedError::Invalid(format!(
                        "pull {}#{}: base branch {:?} is not among the repository's branches",
                        p.repo, p.number, p.base
                    ))
                })?;
            let pr = PullRequest {
                id: p.number,
                number: p.number,
                title: p.title.clone(),
                body: p.body.clone(),
                state: "open".to_owned(),
                user: User {
                    login: p.author.clone(),
                    kind: "User".to_owned(),
                    ..User::default()
                },
                labels: p
                    .labels
                    .iter()
                    .map(|name| Label {
                        name: name.clone(),
                        ..Label::default()
                    })
                    .collect(),
                head: Branch {
                    git_ref: p.head.git_ref.clone(),
                    sha: p.head.sha.clone(),
                    ..Branch::default()
                },
                base: Branch {
                    git_ref: p.base.clone(),
                    sha: base_sha,
                    ..Branch::default()
                },
                html_url: format!("https://github.com/{}/pull/{}", p.repo, p.number),
                mergeable: Some(true),
                draft: Some(p.draft),
                ..PullRequest::default()
            };
            github.add_pull_request(org, repo, pr);
            github.state().pull_files.insert(
                (org.to_owned(), repo.to_owned(), p.number),
                p.files
                    .iter()
                    .map(|f| PullRequestFile {
                        filename: f.clone(),
                        status: "modified".to_owned(),
                        ..PullRequestFile::default()
                    })
                    .collect(),
            );
        }
        Ok(github)
    }
}
