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

/// What checking `--plugin-config` found.
#[derive(Default)]
struct PluginCheck {
    /// The plugin config has errors.
    failed: bool,
    /// Warnings that fail `--strict`.
    strict_warnings: usize,
    /// The loaded plugin config, for checks that also need the jobs.
    config: Option<prow_config::PluginConfig>,
}

/// Whether checkconfig warning `name` is on: all are unless `--warnings` names some, and
/// `--exclude-warning` turns one off.
fn warning_enabled(flags: &Flags, name: &str) -> bool {
    (flags.warnings.is_empty() || flags.warnings.iter().any(|w| w == name))
        && !flags.exclude_warning.iter().any(|w| w == name)
}

/// Checks `--plugin-config` when given, printing its findings.
///
/// Unknown fields and checkconfig's plugin checks count for `--strict`, as in Prow, where the
/// deprecation notices are plain log lines.
fn check_plugins(flags: &Flags, unknown_fields_excluded: bool) -> PluginCheck {
    let Some(path) = &flags.plugin_config else {
        return PluginCheck::default();
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
            let checks: Vec<Finding> = prow_config::plugins::checkconfig_warnings(&plugins)
                .into_iter()
                .filter(|w| warning_enabled(flags, w.name))
                .map(|w| w.finding.in_file(path))
                .collect();
            print(&checks, "warning");
            eprintln!(
                "checkconfig: plugin config ok ({} orgs and repos)",
                plugins.plugins.len()
            );
            let unknown = warnings.iter().filter(|w| w.message == "unknown field");
            PluginCheck {
                failed: false,
                strict_warnings: unknown.count() + checks.len(),
                config: Some(plugins),
            }
        }
        Err(Error::Invalid { errors }) => {
            print(&errors, "error");
            eprintln!("checkconfig: {} plugin config error(s)", errors.len());
            PluginCheck {
                failed: true,
                ..PluginCheck::default()
            }
        }
        Err(e) => {
            eprintln!("checkconfig: plugin config: {e}");
            PluginCheck {
                failed: true,
                ..PluginCheck::default()
            }
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
    let plugins = check_plugins(&flags, unknown_fields_excluded);
    let missing_trigger_enabled = warning_enabled(&flags, "missing-trigger");
    let options = LoadOptions::new(flags.config_path, flags.job_config_path);
    match load(&options) {
        Ok(config) => {
            let warnings = if unknown_fields_excluded {
                Vec::new()
            } else {
                config.warnings
            };
            print(&warnings, "warning");
            let mut plugin_warnings = plugins.strict_warnings;
            if let (Some(pcfg), Some(path)) = (&plugins.config, &flags.plugin_config)
                && missing_trigger_enabled
                && let Some(w) = prow_config::plugins::missing_trigger_warning(pcfg, &config.jobs)
            {
                print(&[w.finding.in_file(path)], "warning");
                plugin_warnings += 1;
            }
            if plugins.failed {
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
