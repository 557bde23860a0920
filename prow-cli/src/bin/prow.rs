//! `prow`: the prow-rs multi-tool. Today: print the ProwJob CRD, check ProwJob files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use prow_core::validate::ValidationContext;

/// Prow, rebuilt in Rust.
#[derive(Parser)]
#[command(name = "prow", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CustomResourceDefinition of prowjobs.prow.k8s.io as YAML.
    Crd,
    /// Read ProwJob files (or `-` for standard input) and report every problem.
    CheckProwjob {
        /// ProwJob YAML or JSON files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Build cluster aliases that exist; jobs on other clusters are rejected.
        #[arg(long = "cluster", value_name = "ALIAS")]
        clusters: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Crd => {
            let crd = prow_core::prowjob_crd();
            print!(
                "{}",
                serde_yaml::to_string(&crd).context("failed to write the CRD")?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckProwjob { files, clusters } => {
            let context = if clusters.is_empty() {
                ValidationContext::default()
            } else {
                ValidationContext::with_clusters(clusters)
            };
            let mut failed = false;
            for file in &files {
                let text = prow_cli::read_input(file)?;
                let name = file.display();
                let loaded = match prow_core::prowjob_from_yaml(&text) {
                    Ok(loaded) => loaded,
                    Err(err) => {
                        println!("{name}: {err}");
                        failed = true;
                        continue;
                    }
                };
                for field in &loaded.unknown_fields {
                    println!("{name}: warning: unknown field {field}");
                }
                let job = loaded.value;
                let problems = job.problems(&context);
                for problem in &problems {
                    println!("{name}: {problem}");
                }
                failed |= !problems.is_empty();
                if problems.is_empty() {
                    let refs = job
                        .spec
                        .main_refs()
                        .map(|r| format!(" {} PULL_REFS={}", r.org_repo(), r.pull_refs()))
                        .unwrap_or_default();
                    println!(
                        "{name}: ok: {} job {}{refs}",
                        job.spec.job_type, job.spec.job
                    );
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
