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
    /// Path to plugins.yaml; checked as Prow's checkconfig does (unknown plugin names fail).
    #[arg(long = "plugin-config")]
    plugin_config: Option<PathBuf>,
    /// Directory of supplemental plugin configs merged into plugins.yaml (repeatable).
    #[arg(long = "supplemental-plugin-config-dir")]
    supplemental_plugin_config_dir: Vec<PathBuf>,
    /// File-name suffix of supplemental plugin configs.
    #[arg(
        long = "supplemental-plugin-configs-filename-suffix",
        default_value = prow_config::plugins::DEFAULT_SUPPLEMENTAL_SUFFIX
    )]
    supplemental_plugin_configs_filename_suffix: String,
}

/// Checks `--plugin-config` when given, printing its findings: whether it failed, and how many
/// warnings count for `--strict`.
///
/// Unknown fields and checkconfig's plugin checks count, as in Prow, where the deprecation
/// notices are plain log lines.
fn check_plugins(flags: &Flags, unknown_fields_excluded: bool) -> (bool, usize) {
    let Some(path) = &flags.plugin_config else {
        return (false, 0);
    };
    let options = prow_config::PluginLoadOptions::new(path).with_supplements(
        &flags.supplemental_plugin_config_dir,
        &flags.supplemental_plugin_configs_filename_suffix,
    );
    match prow_config::load_plugins(&options) {
        Ok((plugins, warnings)) => {
            let warnings: Vec<Finding> = warnings
                .into_iter()
                .filter(|w| !(unknown_fields_excluded && w.message == "unknown field"))
                .collect();
            print(&warnings, "warning");
            // checkconfig's own plugin checks (validate-owners, validate-label, ...).
            let enabled = |name: &str| {
                (flags.warnings.is_empty() || flags.warnings.iter().any(|w| w == name))
                    && !flags.exclude_warning.iter().any(|w| w == name)
            };
            let checks: Vec<Finding> = prow_config::plugins::checkconfig_warnings(&plugins)
                .into_iter()
                .filter(|w| enabled(w.name))
                .map(|w| w.finding.in_file(path))
                .collect();
            print(&checks, "warning");
            eprintln!(
                "checkconfig: plugin config ok ({} orgs and repos)",
                plugins.plugins.len()
            );
            let strict = warnings.iter().filter(|w| w.message == "unknown field");
            (false, strict.count() + checks.len())
        }
        Err(Error::Invalid { errors }) => {
            print(&errors, "error");
            eprintln!("checkconfig: {} plugin config error(s)", errors.len());
            (true, 0)
        }
        Err(e) => {
            eprintln!("checkconfig: plugin config: {e}");
            (true, 0)
        }
    }
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
    let _ = &flags.warnings;
    let (plugins_failed, plugin_warnings) = check_plugins(&flags, unknown_fields_excluded);
    let options = LoadOptions::new(flags.config_path, flags.job_config_path);
    match load(&options) {
        Ok(config) => {
            let warnings = if unknown_fields_excluded {
                Vec::new()
            } else {
                config.warnings
            };
            print(&warnings, "warning");
            if plugins_failed {
                return ExitCode::from(1);
            }
            let counted = warnings.len() + plugin_warnings;
            if flags.strict && counted > 0 {
                eprintln!("checkconfig: {counted} warning(s) with --strict");
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
