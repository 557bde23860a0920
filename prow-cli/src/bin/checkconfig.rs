//! `checkconfig`: load Prow configuration as Prow does and print every problem with its location.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use prow_config::{Error, Finding, LoadOptions, load};

/// Checks Prow's config.yaml and job configs; exits 1 on errors (or warnings with --strict).
#[derive(Parser)]
#[command(name = "checkconfig", version)]
struct Flags {
    /// Path to config.yaml.
    #[arg(long = "config-path")]
    config_path: PathBuf,
    /// Path to a job config file or a directory of them.
    #[arg(long = "job-config-path")]
    job_config_path: Option<PathBuf>,
    /// Fail on warnings as well as errors.
    #[arg(long)]
    strict: bool,
    /// Warnings to report (repeatable); unknown-field warnings are always reported for now.
    #[arg(long = "warnings")]
    warnings: Vec<String>,
    /// Warnings not to report (repeatable).
    #[arg(long = "exclude-warning")]
    exclude_warning: Vec<String>,
    /// Path to plugins.yaml (accepted; not checked yet).
    #[arg(long = "plugin-config")]
    plugin_config: Option<PathBuf>,
}

fn print(findings: &[Finding], label: &str) {
    for finding in findings {
        println!("{label}: {finding}");
    }
}

fn main() -> ExitCode {
    let flags = Flags::parse();
    let unknown_fields_excluded = flags
        .exclude_warning
        .iter()
        .any(|w| w == "unknown-fields" || w == "unknown-fields-all");
    let _ = (&flags.warnings, &flags.plugin_config);
    let options = LoadOptions::new(flags.config_path, flags.job_config_path);
    match load(&options) {
        Ok(config) => {
            let warnings = if unknown_fields_excluded {
                Vec::new()
            } else {
                config.warnings
            };
            print(&warnings, "warning");
            if flags.strict && !warnings.is_empty() {
                eprintln!("checkconfig: {} warning(s) with --strict", warnings.len());
                return ExitCode::from(1);
            }
            let (pre, post, periodic) = config.jobs.counts();
            eprintln!(
                "checkconfig: ok ({pre} presubmits, {post} postsubmits, {periodic} periodics)"
            );
            ExitCode::SUCCESS
        }
        Err(Error::Invalid { errors }) => {
            print(&errors, "error");
            eprintln!("checkconfig: {} error(s)", errors.len());
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("checkconfig: {e}");
            ExitCode::from(1)
        }
    }
}
