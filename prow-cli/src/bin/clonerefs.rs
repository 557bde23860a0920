//! `clonerefs`: checks out a job's refs with git2 and writes clone records (`prow_jobs::clonerefs`).

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use prow_core::Refs;
use prow_jobs::clonerefs::{self, CLONEREFS_OPTIONS, ClonerefsOptions};

/// Clone a job's refs. Reads CLONEREFS_OPTIONS when set.
#[derive(Parser)]
#[command(name = "clonerefs", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    /// Where to root source checkouts.
    #[arg(long, default_value = "")]
    src_root: String,
    /// Where to write the clone records.
    #[arg(long, default_value = "")]
    log: String,
    /// Username to set in git config.
    #[arg(long, default_value = clonerefs::DEFAULT_GIT_USER_NAME)]
    git_user_name: String,
    /// Email to set in git config.
    #[arg(long, default_value = clonerefs::DEFAULT_GIT_USER_EMAIL)]
    git_user_email: String,
    /// A repository to check out: `org,repo=base_ref[:sha][,number:sha[:ref]]...` (repeatable).
    #[arg(long = "repo")]
    repos: Vec<String>,
    /// SSH key to use for cloning (repeatable).
    #[arg(long = "ssh-key")]
    ssh_keys: Vec<String>,
    /// Path to clone to, as a template with `{{.Org}}` and `{{.Repo}}`.
    #[arg(long, default_value = "")]
    clone_alias: String,
    /// URI prefix to clone from, as a template with `{{.Org}}` and `{{.Repo}}`.
    #[arg(long, default_value = "")]
    uri_prefix: String,
    /// Maximum number of parallel workers (0: one per repository).
    #[arg(long = "max-workers", default_value_t = 0)]
    max_workers: i64,
    /// Path to a git http.cookiefile.
    #[arg(long = "cookiefile", default_value = "")]
    cookie_path: String,
    /// Exit with failure if any of the refs cannot be fetched.
    #[arg(long)]
    fail: bool,
}

fn template(text: &str, refs: &Refs) -> String {
    text.replace("{{.Org}}", &refs.org)
        .replace("{{.Repo}}", &refs.repo)
}

fn options() -> anyhow::Result<ClonerefsOptions> {
    if let Some(options) = prow_cli::options_from_env(CLONEREFS_OPTIONS)? {
        return Ok(options);
    }
    let f = Flags::parse();
    let mut git_refs = Vec::new();
    for repo in &f.repos {
        let (org_repo, pull_refs) = repo
            .split_once('=')
            .with_context(|| format!("refspec {repo} invalid: does not contain '='"))?;
        let (org, name) = org_repo.split_once(',').with_context(|| {
            format!("refspec {repo} invalid: does not contain 'org,repo' as prefix")
        })?;
        let mut refs = Refs::parse_pull_refs(org, name, pull_refs)?;
        if !f.clone_alias.is_empty() {
            refs.path_alias = template(&f.clone_alias, &refs);
        }
        if !f.uri_prefix.is_empty() {
            refs.clone_uri = template(&f.uri_prefix, &refs);
        }
        git_refs.push(refs);
    }
    Ok(ClonerefsOptions {
        src_root: f.src_root,
        log: f.log,
        git_user_name: f.git_user_name,
        git_user_email: f.git_user_email,
        git_refs,
        key_files: f.ssh_keys,
        max_parallel_workers: f.max_workers,
        fail: f.fail,
        cookie_path: f.cookie_path,
        ..ClonerefsOptions::default()
    })
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("clonerefs");
    let result = options().and_then(|options| {
        for warning in options.validate()? {
            eprintln!("clonerefs: warning: {warning}");
        }
        Ok(clonerefs::run(&options)?)
    });
    match result {
        Ok(records) => {
            let failed = records.iter().filter(|r| r.failed).count();
            if failed > 0 {
                eprintln!("clonerefs: {failed} clone records failed; initupload will report them");
            }
            ExitCode::SUCCESS
        }
        Err(err) => prow_cli::exit::report("clonerefs:", &err, ExitCode::FAILURE),
    }
}
