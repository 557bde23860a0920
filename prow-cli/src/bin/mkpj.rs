//! `mkpj`: prints the ProwJob Prow would create for a configured job (`prow_jobs::pjutil`).
//!
//! Works offline when the refs are all given; otherwise, with `--github-token-path`, it looks
//! the missing ones up on GitHub like upstream's mkpj (it does not prompt).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_jobs::pjutil::{self, FoundJob};

/// Print the ProwJob YAML for a configured job.
#[derive(Parser)]
#[command(name = "mkpj", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    /// The job to run.
    #[arg(long)]
    job: String,
    /// Path to the Prow config.yaml.
    #[arg(long)]
    config_path: PathBuf,
    /// Path to the job config file or folder.
    #[arg(long)]
    job_config_path: Option<PathBuf>,
    /// Git base ref under test.
    #[arg(long, default_value = "")]
    base_ref: String,
    /// Git base SHA under test.
    #[arg(long, default_value = "")]
    base_sha: String,
    /// Git pull number under test.
    #[arg(long)]
    pull_number: Option<u64>,
    /// Git pull SHA under test.
    #[arg(long, default_value = "")]
    pull_sha: String,
    /// Git pull author under test.
    #[arg(long, default_value = "")]
    pull_author: String,
    /// Git pull head ref under test.
    #[arg(long, default_value = "")]
    pull_head_ref: String,
    /// GitHub's API endpoint (GitHub Enterprise or a fake).
    #[arg(long, default_value = "https://api.github.com")]
    github_endpoint: String,
    /// A file holding a GitHub token, to look up what the flags leave out.
    #[arg(long)]
    github_token_path: Option<PathBuf>,
}

fn github(f: &Flags, missing: &[&str]) -> anyhow::Result<prow_github::octo::OctocrabClient> {
    let Some(path) = &f.github_token_path else {
        bail!(
            "job {} needs {} (or --github-token-path to look them up)",
            f.job,
            missing.join(", ")
        );
    };
    Ok(prow_github::octo::OctocrabClient::with_token_file(
        &f.github_endpoint,
        path,
    )?)
}

fn require(missing: &mut Vec<&'static str>, value: &str, flag: &'static str) {
    if value.is_empty() {
        missing.push(flag);
    }
}

fn run() -> anyhow::Result<()> {
    let f = Flags::parse();
    let f = &f;
    let options = prow_config::LoadOptions::new(&f.config_path, f.job_config_path.clone());
    let config = prow_config::load(&options).context("could not load the configuration")?;
    let Some(found) = pjutil::find_job(&config.jobs, &f.job) else {
        bail!(
            "job {:?} is not a presubmit, postsubmit or periodic of this configuration",
            f.job
        );
    };
    let now = Time(prow_core::k8s_openapi::jiff::Timestamp::now());
    let mut missing = Vec::new();
    let job = match found {
        FoundJob::Presubmit(org_repo, job) => {
            let Some(number) = f.pull_number else {
                bail!(
                    "presubmit {} needs --pull-number (mkpj does not prompt)",
                    f.job
                );
            };
            require(&mut missing, &f.base_ref, "--base-ref");
            require(&mut missing, &f.base_sha, "--base-sha");
            require(&mut missing, &f.pull_sha, "--pull-sha");
            require(&mut missing, &f.pull_author, "--pull-author");
            let (org, repo) = org_repo.rsplit_once('/').unwrap_or((org_repo, ""));
            let mut query = pjutil::PullQuery {
                base_ref: f.base_ref.clone(),
                base_sha: f.base_sha.clone(),
                pull: prow_core::Pull {
                    number,
                    author: f.pull_author.clone(),
                    sha: f.pull_sha.clone(),
                    head_ref: f.pull_head_ref.clone(),
                    ..prow_core::Pull::default()
                },
            };
            if !missing.is_empty() {
                // octocrab's client must be made inside the runtime that drives it.
                query = prow_cli::runtime()?.block_on(async {
                    let gh = github(f, &missing)?;
                    anyhow::Ok(pjutil::complete_pull(&gh, org, repo, query).await?)
                })?;
            }
            let refs = pjutil::pull_refs(org, repo, &query.base_ref, &query.base_sha, query.pull);
            let labels = pjutil::presubmit_labels(job, "", &Default::default());
            pjutil::new_prowjob(
                pjutil::presubmit_spec(job, refs)?,
                &labels,
                &job.annotations,
                now,
            )
        }
        FoundJob::Postsubmit(org_repo, job) => {
            if f.base_ref.is_empty() {
                bail!(
                    "postsubmit {} needs --base-ref (mkpj does not prompt)",
                    f.job
                );
            }
            let (org, repo) = org_repo.rsplit_once('/').unwrap_or((org_repo, ""));
            let mut base_sha = f.base_sha.clone();
            if base_sha.is_empty() {
                base_sha = prow_cli::runtime()?.block_on(async {
                    let gh = github(f, &["--base-sha"])?;
                    anyhow::Ok(pjutil::branch_sha(&gh, org, repo, &f.base_ref).await?)
                })?;
            }
            let refs = pjutil::branch_refs(org, repo, &f.base_ref, &base_sha);
            pjutil::new_prowjob(
                pjutil::postsubmit_spec(job, refs)?,
                &job.labels,
                &job.annotations,
                now,
            )
        }
        FoundJob::Periodic(job) => pjutil::new_prowjob(
            pjutil::periodic_spec(job)?,
            &job.labels,
            &job.annotations,
            now,
        ),
    };
    print!("{}", prow_core::prowjob_to_yaml(&job)?);
    Ok(())
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("mkpj");
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => prow_cli::exit::report("mkpj:", &err, ExitCode::FAILURE),
    }
}
