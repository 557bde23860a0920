//! `mkpj`: prints the ProwJob Prow would create for a configured job (`prow_jobs::pjutil`).
//!
//! Works offline: the refs come from the flags. Looking missing values up on GitHub, as
//! upstream's mkpj does, is not wired yet; mkpj names the flags it needs instead.

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
}

fn require(missing: &mut Vec<&'static str>, value: &str, flag: &'static str) {
    if value.is_empty() {
        missing.push(flag);
    }
}

fn run() -> anyhow::Result<()> {
    let f = Flags::parse();
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
            require(&mut missing, &f.base_ref, "--base-ref");
            require(&mut missing, &f.base_sha, "--base-sha");
            require(&mut missing, &f.pull_sha, "--pull-sha");
            require(&mut missing, &f.pull_author, "--pull-author");
            if f.pull_number.is_none() {
                missing.push("--pull-number");
            }
            if !missing.is_empty() {
                bail!(
                    "presubmit {} needs {} (GitHub look-ups are not wired yet)",
                    f.job,
                    missing.join(", ")
                );
            }
            let (org, repo) = org_repo.rsplit_once('/').unwrap_or((org_repo, ""));
            let pull = prow_core::Pull {
                number: f.pull_number.unwrap_or_default(),
                author: f.pull_author,
                sha: f.pull_sha,
                head_ref: f.pull_head_ref,
                ..prow_core::Pull::default()
            };
            let refs = pjutil::pull_refs(org, repo, &f.base_ref, &f.base_sha, pull);
            let labels = pjutil::presubmit_labels(job, "", &Default::default());
            pjutil::new_prowjob(
                pjutil::presubmit_spec(job, refs)?,
                &labels,
                &job.annotations,
                now,
            )
        }
        FoundJob::Postsubmit(org_repo, job) => {
            require(&mut missing, &f.base_ref, "--base-ref");
            require(&mut missing, &f.base_sha, "--base-sha");
            if !missing.is_empty() {
                bail!(
                    "postsubmit {} needs {} (GitHub look-ups are not wired yet)",
                    f.job,
                    missing.join(", ")
                );
            }
            let (org, repo) = org_repo.rsplit_once('/').unwrap_or((org_repo, ""));
            let refs = pjutil::branch_refs(org, repo, &f.base_ref, &f.base_sha);
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
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mkpj: {err:#}");
            ExitCode::FAILURE
        }
    }
}
