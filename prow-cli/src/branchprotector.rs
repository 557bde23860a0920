//! `prow branchprotector`: upstream branchprotector's flags over
//! `prow_jobs::branchprotector`. Without `--confirm` it prints the plan; with it, it applies
//! the plan and prints what it changed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::controllers::{ConfigArgs, GitHubArgs, github_options};

/// `prow branchprotector`'s flags (upstream's names).
#[derive(Debug, Clone, clap::Args)]
pub struct BranchprotectorArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// A directory of supplemental prow config files (repeatable), as Prow merges them.
    #[arg(long = "supplemental-prow-config-dir", value_name = "DIR")]
    supplemental_prow_config_dirs: Vec<PathBuf>,
    #[command(flatten)]
    github: GitHubArgs,
    /// Change GitHub; without it, print the changes that would be made.
    #[arg(long)]
    confirm: bool,
    /// Send the apps of `restrictions` (without it, a policy naming apps is an error).
    #[arg(long)]
    enable_apps_restrictions: bool,
}

/// Runs branchprotector: exit 0 when every branch is (or would be) as configured, 1 when
/// some branch could not be planned or changed.
pub async fn run(args: &BranchprotectorArgs) -> anyhow::Result<ExitCode> {
    crate::exit::require_file("--config-path", &args.config.config_path, None)?;
    let mut load = prow_config::LoadOptions::new(
        &args.config.config_path,
        args.config.job_config_path.clone(),
    );
    load.supplemental_prow_config_dirs
        .clone_from(&args.supplemental_prow_config_dirs);
    let config = prow_config::load(&load).with_context(|| {
        format!(
            "failed to load --config-path={}",
            args.config.config_path.display()
        )
    })?;
    let github = prow_server::process::connect_github(&github_options(&args.github)?)
        .await?
        .map(|(client, _)| client)
        .context(
            "branchprotector needs GitHub: --github-token-path, a GitHub App or --github-fake",
        )?;
    let options =
        prow_jobs::branchprotector::Options::with_apps_restrictions(args.enable_apps_restrictions);
    let plan = prow_jobs::branchprotector::plan(&config, github.as_ref(), &options).await;
    print!("{}", prow_jobs::branchprotector::render(&plan));
    let mut failed = plan.errors.len();
    if args.confirm {
        let errors = prow_jobs::branchprotector::apply(github.as_ref(), &plan).await;
        for e in &errors {
            println!("error: {e}");
        }
        println!(
            "applied {} changes, {} failed",
            plan.changes.len(),
            errors.len()
        );
        failed += errors.len();
    } else {
        println!("dry run: nothing changed (pass --confirm to apply)");
    }
    if failed > 0 {
        eprintln!("Encountered {failed} errors protecting branches");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
