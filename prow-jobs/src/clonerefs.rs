//! clonerefs: checks out a job's refs (base plus merged pulls) with git2 and records every step.
//!
//! Reads `CLONEREFS_OPTIONS` like Prow's clonerefs and leaves the same results: each repository
//! under `<src_root>/src/<path alias | repo link host/path | github.com/org/repo>`, the base ref
//! checked out as a branch with the pulls merged in order (`--no-ff`, with commit dates one
//! second apart after the base commit so merges are reproducible), and `clone-records.json`: a
//! setup record, then one record per ref with the commands run, their output, failures and the
//! final SHA. Secrets never reach the records.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use git2::{
    AutotagOption, CertificateCheckStatus, Cred, CredentialType, FetchOptions, FetchPrune,
    RemoteCallbacks, Repository, Signature, build::CheckoutBuilder,
};
use prow_core::{Duration, MergeMethod, Refs};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::gojson::nanos;

pub use crate::downwardapi::DEFAULT_HOST;
pub use crate::podutils::{
    CLONEREFS_OPTIONS, ClonerefsOptions, DEFAULT_GIT_USER_EMAIL, DEFAULT_GIT_USER_NAME,
};

/// One command clonerefs ran, as Prow records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// What was run, in git's command-line terms.
    pub command: String,
    /// What it printed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// How long it took, in nanoseconds.
    #[serde(default, with = "nanos", skip_serializing_if = "is_zero_duration")]
    pub duration: Duration,
}

/// What happened to one ref (or, first, to the setup).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloneRecord {
    /// The ref that was cloned (empty for the setup record).
    pub refs: Refs,
    /// The commands run, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<CommandRecord>,
    /// Whether a command failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    /// The commit checked out at the end.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub final_sha: String,
    /// How long the ref took, in nanoseconds.
    #[serde(default, with = "nanos", skip_serializing_if = "is_zero_duration")]
    pub duration: Duration,
}

fn is_zero_duration(d: &Duration) -> bool {
    *d == Duration::ZERO
}

impl ClonerefsOptions {
    /// Reads options from their JSON form.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::InvalidOptions {
            utility: "clonerefs",
            reason: e.to_string(),
        })
    }

    /// Checks the options like Prow; two refs of the same repository cloning to one path is an
    /// error, different repositories sharing a path only a warning (returned).
    pub fn validate(&self) -> Result<Vec<String>, Error> {
        let invalid = |reason: String| {
            Err(Error::InvalidOptions {
                utility: "clonerefs",
                reason,
            })
        };
        if self.src_root.is_empty() {
            return invalid("no source root specified".into());
        }
        if self.log.is_empty() {
            return invalid("no log file specified".into());
        }
        if self.git_refs.is_empty() {
            return invalid("no refs specified to clone".into());
        }
        let mut warnings = Vec::new();
        let mut seen: Vec<(PathBuf, usize)> = Vec::new();
        for (i, refs) in self.git_refs.iter().enumerate() {
            let path = path_for_refs(Path::new(&self.src_root), refs);
            if let Some(&(_, existing)) = seen.iter().find(|(p, _)| *p == path) {
                let other = &self.git_refs[existing];
                let message = format!(
                    "clone ref config {i} (for {}/{}) will be extracted to {}, which clone ref {existing} (for {}/{}) is also using",
                    refs.org,
                    refs.repo,
                    path.display(),
                    other.org,
                    other.repo
                );
                if other.org == refs.org && other.repo == refs.repo {
                    return invalid(message);
                }
                warnings.push(message);
            }
            seen.push((path, i));
        }
        if !self.github_app_id.is_empty() || !self.github_app_private_key_file.is_empty() {
            if !self.oauth_token_file.is_empty() {
                return invalid("multiple authentication methods specified".into());
            }
            if self.github_api_endpoints.is_empty() {
                return invalid("no GitHub API endpoints for GitHub App authentication".into());
            }
        }
        if !self.github_app_id.is_empty() && self.github_app_private_key_file.is_empty() {
            return invalid("no GitHub App private key file specified".into());
        }
        if self.github_app_id.is_empty() && !self.github_app_private_key_file.is_empty() {
            return invalid("no GitHub App ID specified".into());
        }
        Ok(warnings)
    }
}

/// Where a ref is cloned under `root` (see [`crate::decorate::path_for_refs`], which decides
/// the same path for the pod's working directory).
pub fn path_for_refs(root: &Path, refs: &Refs) -> PathBuf {
    PathBuf::from(crate::decorate::path_for_refs(
        &root.to_string_lossy(),
        refs,
    ))
}

/// The URL a ref is fetched from: `clone_uri`, else `<repo_link>.git`, else GitHub's.
pub fn repository_uri(refs: &Refs) -> String {
    if !refs.clone_uri.is_empty() {
        refs.clone_uri.clone()
    } else if !refs.repo_link.is_empty() {
        format!("{}.git", refs.repo_link)
    } else {
        format!("https://{DEFAULT_HOST}/{}/{}.git", refs.org, refs.repo)
    }
}

/// Credentials and settings shared by every ref.
#[derive(Debug, Clone, Default)]
pub struct CloneSettings {
    /// Committer name of merges.
    pub user_name: String,
    /// Committer email of merges.
    pub user_email: String,
    /// An HTTPS token (OAuth or GitHub App installation token).
    pub token: Option<String>,
    /// The HTTPS user name to pair with the token (`x-access-token` for apps); with none the
    /// token is the user name, as Prow does for OAuth tokens.
    pub token_user: Option<String>,
    /// SSH private keys to offer.
    pub ssh_keys: Vec<PathBuf>,
    /// Accepted SSH host keys (`known_hosts` lines); empty accepts what libgit2 accepts.
    pub host_fingerprints: Vec<String>,
    /// A `Cookie:` header value for HTTPS.
    pub cookie_header: Option<String>,
    /// Delays between fetch attempts; empty means one attempt.
    pub fetch_retries: Vec<std::time::Duration>,
    /// How pulls are merged, by `org/repo` (default `merge`).
    pub merge_methods: BTreeMap<String, MergeMethod>,
}

/// Prow's fetch back-off: 0.1s doubling to 30s over nine retries.
pub fn default_fetch_retries() -> Vec<std::time::Duration> {
    [100, 200, 400, 800, 2_000, 5_000, 10_000, 15_000, 30_000]
        .into_iter()
        .map(std::time::Duration::from_millis)
        .collect()
}

/// The commands that failed in `records`, each with what it printed and why it failed, for
/// a person reading a failed job's summary; `None` when no record failed.
pub fn failure_summary(records: &[CloneRecord]) -> Option<String> {
    let mut lines = Vec::new();
    for record in records.iter().filter(|r| r.failed) {
        for command in record.commands.iter().filter(|c| !c.error.is_empty()) {
            lines.push(format!("  $ {}", command.command));
            for line in command.output.lines().chain(command.error.lines()) {
                if !line.trim().is_empty() {
                    lines.push(format!("    {line}"));
                }
            }
        }
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Runs clonerefs: reads credentials, clones every ref with up to `max_parallel_workers` at
/// once, writes the records to `log`, and fails if asked to and any ref failed.
pub fn run(options: &ClonerefsOptions) -> Result<Vec<CloneRecord>, Error> {
    run_with_retries(options, default_fetch_retries())
}

/// [`run`] with these delays between fetch attempts instead of Prow's.
pub fn run_with_retries(
    options: &ClonerefsOptions,
    fetch_retries: Vec<std::time::Duration>,
) -> Result<Vec<CloneRecord>, Error> {
    options.validate()?;
    let (setup, mut settings) = prepare(options);
    settings.fetch_retries = fetch_retries;
    let mut records = vec![setup.clone()];
    if !setup.failed {
        records.extend(clone_all(options, &settings));
    }
    let json = serde_json::to_vec(&records).map_err(|source| Error::Encode {
        what: "clone records",
        source,
    })?;
    std::fs::write(&options.log, json).map_err(crate::error::io_error(
        "write clone records to",
        &options.log,
    ))?;
    let failed = records.iter().filter(|r| r.failed).count();
    if options.fail && failed > 0 {
        return Err(Error::CloneFailed { failed });
    }
    Ok(records)
}

/// Reads the secrets the options point at; the setup record says what was done.
fn prepare(options: &ClonerefsOptions) -> (CloneRecord, CloneSettings) {
    let mut setup = CloneRecord::default();
    let mut settings = CloneSettings {
        user_name: non_empty_or(&options.git_user_name, DEFAULT_GIT_USER_NAME),
        user_email: non_empty_or(&options.git_user_email, DEFAULT_GIT_USER_EMAIL),
        host_fingerprints: options.host_fingerprints.clone(),
        fetch_retries: default_fetch_retries(),
        merge_methods: options.merge_methods.clone(),
        ..CloneSettings::default()
    };
    let mut step = |command: String, result: Result<(), String>| {
        let failed = result.is_err();
        setup.commands.push(CommandRecord {
            command,
            error: result.err().unwrap_or_default(),
            ..CommandRecord::default()
        });
        setup.failed |= failed;
        !failed
    };
    for key in &options.key_files {
        let keys = ssh_key_files(Path::new(key));
        let ok = step(
            format!("load SSH keys from {key}"),
            keys.as_ref().map(|_| ()).map_err(ToString::to_string),
        );
        if !ok {
            return (setup, settings);
        }
        settings.ssh_keys.extend(keys.unwrap_or_default());
    }
    if !options.oauth_token_file.is_empty() {
        match std::fs::read_to_string(&options.oauth_token_file) {
            Ok(token) => {
                settings.token = Some(token.trim().to_owned());
                step(
                    format!("read OAuth token from {}", options.oauth_token_file),
                    Ok(()),
                );
            }
            Err(e) => {
                step(
                    format!("read OAuth token from {}", options.oauth_token_file),
                    Err(e.to_string()),
                );
                return (setup, settings);
            }
        }
    }
    if !options.github_app_id.is_empty() {
        step(
            format!("mint a GitHub App {} installation token", options.github_app_id),
            Err("GitHub App authentication for clonerefs is not supported yet; mount an OAuth token instead".into()),
        );
        return (setup, settings);
    }
    if !options.cookie_path.is_empty() {
        match std::fs::read_to_string(&options.cookie_path) {
            Ok(text) => {
                settings.cookie_header = cookie_header_from_file(&text);
                step(
                    format!("read http cookiefile {}", options.cookie_path),
                    Ok(()),
                );
            }
            // Prow only warns about an unreadable cookie file.
            Err(e) => {
                setup.commands.push(CommandRecord {
                    command: format!("read http cookiefile {}", options.cookie_path),
                    error: e.to_string(),
                    ..CommandRecord::default()
                });
            }
        }
    }
    (setup, settings)
}

fn non_empty_or(value: &str, default: &str) -> String {
    if value.is_empty() { default } else { value }.to_owned()
}

/// A key file, or every regular file in a key directory (a mounted secret).
fn ssh_key_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut keys: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        keys.sort();
        Ok(keys)
    } else {
        std::fs::metadata(path).map(|_| vec![path.to_owned()])
    }
}

/// The cookies of a Netscape cookie file as one header value (`a=1; b=2`).
fn cookie_header_from_file(text: &str) -> Option<String> {
    let pairs: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && (!l.starts_with('#') || l.starts_with("#HttpOnly_")))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            (fields.len() >= 7).then(|| format!("{}={}", fields[5], fields[6].trim()))
        })
        .collect();
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

/// Clones every ref with a bounded pool of threads, keeping the refs' order in the records.
fn clone_all(options: &ClonerefsOptions, settings: &CloneSettings) -> Vec<CloneRecord> {
    let refs = &options.git_refs;
    let workers = match usize::try_from(options.max_parallel_workers) {
        Ok(n) if n > 0 => n.min(refs.len()),
        _ => refs.len(),
    };
    let queue: Mutex<VecDeque<(usize, &Refs)>> = Mutex::new(refs.iter().enumerate().collect());
    let results: Mutex<Vec<Option<CloneRecord>>> = Mutex::new(vec![None; refs.len()]);
    let root = Path::new(&options.src_root);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some((i, one)) = next else { return };
                    let record = clone_ref(one, root, settings);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(record);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// One ref's clone: the steps Prow's clonerefs runs with the git CLI, done with git2.
pub fn clone_ref(refs: &Refs, root: &Path, settings: &CloneSettings) -> CloneRecord {
    let started = Instant::now();
    let mut cloner = Cloner {
        record: CloneRecord {
            refs: refs.clone(),
            ..CloneRecord::default()
        },
        settings,
        uri: repository_uri(refs),
        dir: path_for_refs(root, refs),
    };
    if cloner.base(refs).is_ok()
        && cloner.pulls(refs).is_ok()
        && let Ok(repo) = Repository::open(&cloner.dir)
        && let Ok(head) = repo.head()
        && let Some(oid) = head.target()
    {
        cloner.record.final_sha = oid.to_string();
    }
    cloner.record.duration = Duration::from_std(started.elapsed()).unwrap_or_default();
    cloner.record
}

struct Cloner<'a> {
    record: CloneRecord,
    settings: &'a CloneSettings,
    uri: String,
    dir: PathBuf,
}

type StepResult<T> = Result<T, ()>;

impl Cloner<'_> {
    /// Runs one step and records it; secrets in its text are censored.
    fn step<T>(
        &mut self,
        command: String,
        f: impl FnOnce() -> Result<(T, String), String>,
    ) -> StepResult<T> {
        let started = Instant::now();
        let result = f();
        let duration = Duration::from_std(started.elapsed()).unwrap_or_default();
        let censor = |s: String| match &self.settings.token {
            Some(token) if !token.is_empty() => s.replace(token.as_str(), "CENSORED"),
            _ => s,
        };
        match result {
            Ok((value, output)) => {
                self.record.commands.push(CommandRecord {
                    command: censor(command),
                    output: censor(output),
                    duration,
                    ..CommandRecord::default()
                });
                Ok(value)
            }
            Err(error) => {
                self.record.commands.push(CommandRecord {
                    command: censor(command),
                    error: censor(error),
                    duration,
                    ..CommandRecord::default()
                });
                self.record.failed = true;
                Err(())
            }
        }
    }

    fn base(&mut self, refs: &Refs) -> StepResult<()> {
        let dir = self.dir.clone();
        self.step(format!("mkdir -p {}", dir.display()), || {
            std::fs::create_dir_all(&dir)
                .map(|()| ((), String::new()))
                .map_err(|e| e.to_string())
        })?;
        let repo = self.step(format!("git init {}", dir.display()), || {
            Repository::init(&dir)
                .map(|r| (r, String::new()))
                .map_err(|e| e.message().to_owned())
        })?;
        let (name, email) = (
            self.settings.user_name.clone(),
            self.settings.user_email.clone(),
        );
        self.step(format!("git config user.name {name}"), || {
            repo.config()
                .and_then(|mut c| c.set_str("user.name", &name))
                .map(|()| ((), String::new()))
                .map_err(|e| e.message().to_owned())
        })?;
        self.step(format!("git config user.email {email}"), || {
            repo.config()
                .and_then(|mut c| c.set_str("user.email", &email))
                .map(|()| ((), String::new()))
                .map_err(|e| e.message().to_owned())
        })?;
        let sparse = !refs.sparse_checkout_files.is_empty();
        let depth = (refs.clone_depth > 0).then_some(refs.clone_depth);
        if !refs.skip_fetch_head && !sparse {
            self.fetch(
                &repo,
                &["+refs/tags/*:refs/tags/*"],
                depth,
                true,
                "--tags --prune",
            )?;
        }
        let (fetch_ref, target) = if refs.base_sha.is_empty() {
            (refs.base_ref.clone(), None)
        } else {
            (refs.base_sha.clone(), Some(refs.base_sha.clone()))
        };
        let fetched = self.fetch(&repo, &[fetch_ref.as_str()], depth, false, &fetch_ref)?;
        let target_name = target.clone().unwrap_or_else(|| "FETCH_HEAD".into());
        let commit_id = match target {
            Some(sha) => git2::Oid::from_str(&sha).map_err(|e| e.message().to_owned()),
            None => fetched.ok_or_else(|| format!("fetching {fetch_ref} gave no commit")),
        };
        self.step(format!("git checkout {target_name}"), || {
            let oid = commit_id?;
            let commit = repo.find_commit(oid).map_err(|e| e.message().to_owned())?;
            repo.checkout_tree(commit.as_object(), Some(CheckoutBuilder::new().force()))
                .and_then(|()| repo.set_head_detached(oid))
                .map(|()| ((), String::new()))
                .map_err(|e| e.message().to_owned())
        })?;
        let branch = refs.base_ref.clone();
        self.step(format!("git branch --force {branch} {target_name}"), || {
            let head = repo
                .head()
                .and_then(|h| h.peel_to_commit())
                .map_err(|e| e.message().to_owned())?;
            repo.branch(&branch, &head, true)
                .map(|_| ((), String::new()))
                .map_err(|e| e.message().to_owned())
        })?;
        self.step(format!("git checkout {branch}"), || {
            repo.set_head(&format!("refs/heads/{branch}"))
                .map(|()| ((), String::new()))
                .map_err(|e| e.message().to_owned())
        })?;
        Ok(())
    }

    fn pulls(&mut self, refs: &Refs) -> StepResult<()> {
        let repo = Repository::open(&self.dir).map_err(|_| ())?;
        let base_time = repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map(|c| c.time().seconds())
            .unwrap_or(0);
        let mut timestamp = base_time;
        let method = self
            .settings
            .merge_methods
            .get(&refs.org_repo())
            .copied()
            .unwrap_or_default();
        for pull in &refs.pulls {
            let fetch_ref = if !pull.git_ref.is_empty() {
                pull.git_ref.clone()
            } else if !pull.sha.is_empty() {
                pull.sha.clone()
            } else {
                format!("pull/{}/head", pull.number)
            };
            let fetched = self.fetch(&repo, &[fetch_ref.as_str()], None, false, &fetch_ref)?;
            let (merge_name, merge_id) = if pull.sha.is_empty() {
                (
                    "FETCH_HEAD".to_owned(),
                    fetched.ok_or_else(|| format!("fetching {fetch_ref} gave no commit")),
                )
            } else {
                (
                    pull.sha.clone(),
                    git2::Oid::from_str(&pull.sha).map_err(|e| e.message().to_owned()),
                )
            };
            timestamp += 1;
            let (name, email) = (
                self.settings.user_name.clone(),
                self.settings.user_email.clone(),
            );
            let command = match method {
                MergeMethod::Merge => format!("git merge --no-ff {merge_name}"),
                MergeMethod::Squash => format!("git merge --squash {merge_name} && git commit"),
                MergeMethod::Rebase => {
                    format!("git cherry-pick $(git merge-base HEAD {merge_name})..{merge_name}")
                }
            };
            let signer = Signer {
                name: &name,
                email: &email,
                timestamp,
            };
            self.step(
                format!("GIT_AUTHOR_DATE={timestamp} GIT_COMMITTER_DATE={timestamp} {command}"),
                || {
                    let oid = merge_id?;
                    let sha = match method {
                        MergeMethod::Merge => merge_no_ff(&repo, oid, &merge_name, &signer)?,
                        MergeMethod::Squash => squash(&repo, oid, pull, &signer)?,
                        MergeMethod::Rebase => rebase(&repo, oid, &signer)?,
                    };
                    Ok(((), format!("{} made by git2: {sha}", method.as_str())))
                },
            )?;
        }
        if !refs.skip_submodules {
            self.step("git submodule update --init --recursive".into(), || {
                update_submodules(&repo).map(|()| ((), String::new()))
            })?;
        }
        Ok(())
    }

    /// Fetches `refspecs` from the ref's URI, retrying with back-off; returns FETCH_HEAD's
    /// commit when the fetch named a single ref.
    fn fetch(
        &mut self,
        repo: &Repository,
        refspecs: &[&str],
        depth: Option<i64>,
        tags: bool,
        what: &str,
    ) -> StepResult<Option<git2::Oid>> {
        let depth_arg = depth.map(|d| format!("--depth {d} ")).unwrap_or_default();
        let command = format!("git fetch {depth_arg}{} {what}", self.uri);
        let uri = self.uri.clone();
        let settings = self.settings;
        // libgit2 cannot fetch shallowly from a local repository; a local clone is cheap, so
        // fetch it whole rather than fail (git's CLI makes the same trade for plain paths).
        let (depth, note) = if depth.is_some() && is_local(&uri) {
            (
                None,
                "depth ignored: shallow fetches need a network remote\n".to_owned(),
            )
        } else {
            (depth, String::new())
        };
        self.step(command, || {
            let mut attempt = 0;
            loop {
                match fetch_once(repo, &uri, refspecs, depth, tags, settings) {
                    Ok(oid) => return Ok((oid, note)),
                    Err(_) if attempt < settings.fetch_retries.len() => {
                        std::thread::sleep(settings.fetch_retries[attempt]);
                        attempt += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        })
    }
}

/// Whether `uri` names a repository on this machine (a path or `file://`).
fn is_local(uri: &str) -> bool {
    uri.starts_with("file://") || uri.starts_with('/') || uri.starts_with('.')
}

fn fetch_once(
    repo: &Repository,
    uri: &str,
    refspecs: &[&str],
    depth: Option<i64>,
    tags: bool,
    settings: &CloneSettings,
) -> Result<Option<git2::Oid>, String> {
    let mut remote = repo
        .remote_anonymous(uri)
        .map_err(|e| e.message().to_owned())?;
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(settings));
    if let Some(depth) = depth {
        options.depth(i32::try_from(depth).unwrap_or(i32::MAX));
    }
    if tags {
        options
            .download_tags(AutotagOption::All)
            .prune(FetchPrune::On);
    } else {
        options.download_tags(AutotagOption::None);
    }
    let headers: Vec<String> = settings
        .cookie_header
        .iter()
        .map(|c| format!("Cookie: {c}"))
        .collect();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    options.custom_headers(&header_refs);
    remote
        .fetch(refspecs, Some(&mut options), None)
        .map_err(|e| e.message().to_owned())?;
    if tags {
        return Ok(None);
    }
    let fetch_head = repo
        .find_reference("FETCH_HEAD")
        .and_then(|r| r.peel_to_commit())
        .map(|c| c.id())
        .ok();
    Ok(fetch_head)
}

fn callbacks(settings: &CloneSettings) -> RemoteCallbacks<'_> {
    let mut callbacks = RemoteCallbacks::new();
    let tried = Arc::new(Mutex::new(0usize));
    callbacks.credentials(move |_url, username, allowed| {
        let mut tries = tried.lock().unwrap_or_else(|e| e.into_inner());
        *tries += 1;
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT)
            && let Some(token) = &settings.token
            && *tries == 1
        {
            return match &settings.token_user {
                Some(user) => Cred::userpass_plaintext(user, token),
                None => Cred::userpass_plaintext(token, "x-oauth-basic"),
            };
        }
        if allowed.contains(CredentialType::SSH_KEY)
            && let Some(key) = settings.ssh_keys.get(*tries - 1)
        {
            return Cred::ssh_key(username.unwrap_or("git"), None, key, None);
        }
        Err(git2::Error::from_str(
            "no usable credentials for this remote",
        ))
    });
    if !settings.host_fingerprints.is_empty() {
        callbacks.certificate_check(move |cert, host| {
            let Some(hostkey) = cert.as_hostkey() else {
                return Ok(CertificateCheckStatus::CertificatePassthrough);
            };
            let Some(key) = hostkey.hostkey() else {
                return Err(git2::Error::from_str("SSH host key is missing"));
            };
            let encoded = BASE64_STANDARD.encode(key);
            let known = settings.host_fingerprints.iter().any(|line| {
                let mut fields = line.split_whitespace();
                let hosts = fields.next().unwrap_or_default();
                let _kind = fields.next();
                let value = fields.next().unwrap_or_default();
                hosts
                    .split(',')
                    .any(|h| h == host || h.trim_matches(['[', ']']).starts_with(host))
                    && value == encoded
            });
            if known {
                Ok(CertificateCheckStatus::CertificateOk)
            } else {
                Err(git2::Error::from_str(&format!(
                    "host key of {host} is not among the host fingerprints"
                )))
            }
        });
    }
    callbacks
}

/// Who commits merges, and when (fixed, so that merges are reproducible).
struct Signer<'a> {
    name: &'a str,
    email: &'a str,
    timestamp: i64,
}

impl Signer<'_> {
    fn signature(&self) -> Result<Signature<'static>, String> {
        Signature::new(self.name, self.email, &git2::Time::new(self.timestamp, 0))
            .map_err(|e| e.message().to_owned())
    }
}

fn git_error(e: git2::Error) -> String {
    e.message().to_owned()
}

/// The conflicting paths of `index`, as an error.
fn conflicts(index: &git2::Index, what: &str) -> Result<(), String> {
    if !index.has_conflicts() {
        return Ok(());
    }
    let paths: Vec<String> = index
        .conflicts()
        .map_err(git_error)?
        .filter_map(Result::ok)
        .filter_map(|c| c.our.or(c.their))
        .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        .collect();
    Err(format!("{what} conflict in {}", paths.join(", ")))
}

/// Commits `index` as a child of `parents` on HEAD and checks it out.
fn commit_index(
    repo: &Repository,
    mut index: git2::Index,
    author: &Signature<'_>,
    committer: &Signature<'_>,
    message: &str,
    parents: &[&git2::Commit<'_>],
) -> Result<git2::Oid, String> {
    let tree = repo
        .find_tree(index.write_tree_to(repo).map_err(git_error)?)
        .map_err(git_error)?;
    let oid = repo
        .commit(Some("HEAD"), author, committer, message, &tree, parents)
        .map_err(git_error)?;
    repo.checkout_head(Some(CheckoutBuilder::new().force()))
        .map_err(git_error)?;
    Ok(oid)
}

fn head_commit(repo: &Repository) -> Result<git2::Commit<'_>, String> {
    repo.head()
        .and_then(|h| h.peel_to_commit())
        .map_err(git_error)
}

/// `git merge --no-ff <commit>`: always a merge commit; conflicts fail.
fn merge_no_ff(
    repo: &Repository,
    oid: git2::Oid,
    name: &str,
    signer: &Signer<'_>,
) -> Result<String, String> {
    let head = head_commit(repo)?;
    let theirs = repo.find_commit(oid).map_err(git_error)?;
    let index = repo
        .merge_commits(&head, &theirs, None)
        .map_err(git_error)?;
    conflicts(&index, "merge")?;
    let signature = signer.signature()?;
    let message = format!("Merge commit '{name}'");
    commit_index(
        repo,
        index,
        &signature,
        &signature,
        &message,
        &[&head, &theirs],
    )
    .map(|o| o.to_string())
}

/// The pull request's changes as one commit on HEAD, titled like GitHub's squash merges.
fn squash(
    repo: &Repository,
    oid: git2::Oid,
    pull: &prow_core::Pull,
    signer: &Signer<'_>,
) -> Result<String, String> {
    let head = head_commit(repo)?;
    let theirs = repo.find_commit(oid).map_err(git_error)?;
    let index = repo
        .merge_commits(&head, &theirs, None)
        .map_err(git_error)?;
    conflicts(&index, "squash")?;
    let signature = signer.signature()?;
    let message = if pull.title.is_empty() {
        format!("Squashed pull request #{}", pull.number)
    } else {
        format!("{} (#{})", pull.title, pull.number)
    };
    commit_index(repo, index, &signature, &signature, &message, &[&head]).map(|o| o.to_string())
}

/// Each commit of the pull request (since its merge base with HEAD) replayed on HEAD in order,
/// keeping its author and message.
fn rebase(repo: &Repository, oid: git2::Oid, signer: &Signer<'_>) -> Result<String, String> {
    let base = repo
        .merge_base(head_commit(repo)?.id(), oid)
        .map_err(git_error)?;
    let mut walk = repo.revwalk().map_err(git_error)?;
    walk.push(oid).map_err(git_error)?;
    walk.hide(base).map_err(git_error)?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .map_err(git_error)?;
    let committer = signer.signature()?;
    let mut last = head_commit(repo)?.id();
    for commit in walk {
        let commit = repo
            .find_commit(commit.map_err(git_error)?)
            .map_err(git_error)?;
        let onto = head_commit(repo)?;
        let mainline = u32::from(commit.parent_count() > 1);
        let index = repo
            .cherrypick_commit(&commit, &onto, mainline, None)
            .map_err(git_error)?;
        conflicts(&index, "rebase")?;
        let message = commit.message().unwrap_or_default().to_owned();
        last = commit_index(
            repo,
            index,
            &commit.author(),
            &committer,
            &message,
            &[&onto],
        )?;
    }
    Ok(last.to_string())
}

fn update_submodules(repo: &Repository) -> Result<(), String> {
    for mut submodule in repo.submodules().map_err(|e| e.message().to_owned())? {
        submodule.update(true, None).map_err(|e| {
            format!(
                "submodule {}: {}",
                submodule.name().unwrap_or("?"),
                e.message()
            )
        })?;
        let sub = submodule.open().map_err(|e| e.message().to_owned())?;
        update_submodules(&sub)?;
    }
    Ok(())
}
