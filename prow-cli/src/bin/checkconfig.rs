//! `checkconfig`: load Prow configuration as Prow does and print every problem with its location.
//!
//! Exit codes: 0 passes, 1 errors (or warnings with `--strict`), 2 bad flags.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use prow_config::inrepo::load_prow_yaml;
use prow_config::{
    DEFAULT_SUPPLEMENTAL_SUFFIX, Error, Finding, LoadOptions, Severity, WarningOptions,
    check_warnings, load,
};

/// Checks Prow's config.yaml, job configs and in-repo config; exits 1 on errors (or warnings
/// with --strict), 2 on bad flags.
#[derive(Parser)]
#[command(name = "checkconfig", version)]
struct Flags {
    #[command(flatten)]
    _log: prow_cli::logging::LogArgs,
    /// Path to config.yaml.
    #[arg(long = "config-path")]
    config_path: PathBuf,
    /// Path to a job config file or a directory of them.
    #[arg(long = "job-config-path")]
    job_config_path: Option<PathBuf>,
    /// A directory of supplemental prow-config files (repeatable).
    #[arg(long = "supplemental-prow-config-dir")]
    supplemental_prow_config_dir: Vec<PathBuf>,
    /// Suffix of supplemental prow-config files.
    #[arg(long = "supplemental-prow-configs-filename-suffix")]
    supplemental_suffix: Option<String>,
    /// Deprecated spelling of --supplemental-prow-configs-filename-suffix.
    #[arg(long = "supplemental-prow-configs-filename", hide = true)]
    supplemental_filename: Option<String>,
    /// `org/repo` whose in-repo config (.prow/ or .prow.yaml) is checked.
    #[arg(long = "prow-yaml-repo-name")]
    prow_yaml_repo_name: Option<String>,
    /// Path of the .prow.yaml to check (its directory is searched for .prow/ then .prow.yaml);
    /// default: the current directory.
    #[arg(long = "prow-yaml-path")]
    prow_yaml_path: Option<PathBuf>,
    /// Fail on warnings as well as errors.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    strict: bool,
    /// Warnings to check (repeatable); none means the default set.
    #[arg(long = "warnings")]
    warnings: Vec<String>,
    /// Warnings not to check (repeatable).
    #[arg(long = "exclude-warning")]
    exclude_warning: Vec<String>,
    /// Check the default warnings even when --warnings names some.
    #[arg(long = "include-default-warnings", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    include_default_warnings: bool,
    /// Also run the expensive checks.
    #[arg(long = "expensive-checks", num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set, default_value = "false")]
    expensive_checks: bool,
    /// Annotations every job must carry (repeatable).
    #[arg(long = "required-job-annotations")]
    required_job_annotations: Vec<String>,
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
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// Flags Prow's checkconfig takes for checks that need GitHub or storage, accepted so
    /// existing invocations keep working.
    #[command(flatten)]
    compat: CompatFlags,
}

/// Prow's GitHub and storage flags: accepted, not used (no check here talks to GitHub yet).
#[derive(clap::Args)]
struct CompatFlags {
    #[arg(hide = true, long = "github-host")]
    _github_host: Option<String>,
    #[arg(hide = true, long = "github-endpoint")]
    _github_endpoint: Vec<String>,
    #[arg(hide = true, long = "github-graphql-endpoint")]
    _github_graphql_endpoint: Option<String>,
    #[arg(hide = true, long = "github-token-path")]
    _github_token_path: Option<String>,
    #[arg(hide = true, long = "github-app-id")]
    _github_app_id: Option<String>,
    #[arg(hide = true, long = "github-app-private-key-path")]
    _github_app_private_key_path: Option<String>,
    #[arg(hide = true, long = "github-hourly-tokens")]
    _github_hourly_tokens: Option<String>,
    #[arg(hide = true, long = "github-allowed-burst")]
    _github_allowed_burst: Option<String>,
    #[arg(hide = true, long = "github-throttle-org")]
    _github_throttle_org: Vec<String>,
    #[arg(hide = true, long = "github-client.request-timeout")]
    _github_request_timeout: Option<String>,
    #[arg(hide = true, long = "github-client.max-retries")]
    _github_max_retries: Option<String>,
    #[arg(hide = true, long = "github-client.max-404-retries")]
    _github_max_404_retries: Option<String>,
    #[arg(hide = true, long = "github-client.backoff-timeout")]
    _github_backoff_timeout: Option<String>,
    #[arg(hide = true, long = "github-client.initial-delay")]
    _github_initial_delay: Option<String>,
    #[arg(hide = true, long = "git-signing-key-path")]
    _git_signing_key_path: Option<String>,
    #[arg(hide = true, long = "gcs-credentials-file")]
    _gcs_credentials_file: Option<String>,
    #[arg(hide = true, long = "s3-credentials-file")]
    _s3_credentials_file: Option<String>,
}

/// How findings are printed.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    /// Grouped by file, for people.
    Text,
    /// A JSON list of findings, for tools.
    Json,
}

fn main() -> ExitCode {
    prow_cli::exit::quiet_broken_pipe();
    prow_cli::logging::init_from_command_line("checkconfig");
    // Go's flag package reads `-config-path` like `--config-path`; so do we.
    let args = std::env::args_os().map(|arg| match arg.to_str() {
        Some(a) if a.len() > 2 && a.starts_with('-') && !a.starts_with("--") => {
            std::ffi::OsString::from(format!("-{a}"))
        }
        _ => arg,
    });
    let flags = Flags::parse_from(args);
    let mut checks = match WarningOptions::from_flags(
        &flags.warnings,
        &flags.exclude_warning,
        flags.include_default_warnings,
        flags.expensive_checks,
    ) {
        Ok(checks) => checks,
        Err(e) => return bad_flags(&e),
    };
    if flags.prow_yaml_path.is_some() && flags.prow_yaml_repo_name.is_none() {
        return bad_flags("--prow-yaml-repo-path requires --prow-yaml-repo-name to be set");
    }
    // Prow checks URLs only together with plugins.yaml.
    if flags.plugin_config.is_none() {
        checks.enabled.remove("validate-urls");
    }
    let suffix = flags
        .supplemental_suffix
        .clone()
        .or(flags.supplemental_filename.clone())
        .unwrap_or_else(|| DEFAULT_SUPPLEMENTAL_SUFFIX.to_owned());
    checks = checks
        .with_required_job_annotations(flags.required_job_annotations.clone())
        .with_config_path(&flags.config_path)
        .with_supplemental(flags.supplemental_prow_config_dir.clone(), &suffix);
    let options = LoadOptions::new(&flags.config_path, flags.job_config_path.clone())
        .with_supplemental(flags.supplemental_prow_config_dir.clone(), suffix);

    let (plugins, mut findings) = load_plugin_config(&flags, &checks);
    findings.extend(match load(&options) {
        Ok(config) => {
            let mut findings = check_warnings(&config, &checks);
            if let (Some(plugins), Some(path)) = (&plugins, &flags.plugin_config) {
                findings.extend(
                    prow_config::tide_plugins::check_plugin_warnings(&config, plugins, &checks)
                        .into_iter()
                        .map(|f| if f.file.is_none() { f.in_file(path) } else { f }),
                );
            }
            if let Some(repo) = &flags.prow_yaml_repo_name {
                let dir = match &flags.prow_yaml_path {
                    Some(path) => path
                        .parent()
                        .map(PathBuf::from)
                        .filter(|p| !p.as_os_str().is_empty())
                        .unwrap_or_else(|| PathBuf::from(".")),
                    None => PathBuf::from("."),
                };
                match load_prow_yaml(&config, repo, &dir) {
                    Ok(prow_yaml) => {
                        if checks.enabled.contains("unknown-fields-all") {
                            findings.extend(prow_yaml.warnings);
                        }
                    }
                    Err(Error::Invalid { errors }) => findings.extend(errors),
                    Err(e) => findings.push(Finding::error(format!("{:#}", anyhow::Error::new(e)))),
                }
            }
            // The process ends soon; freeing thousands of jobs one by one would take a tenth
            // of the run on a large configuration.
            std::mem::forget(config);
            findings
        }
        Err(Error::Invalid { errors }) => errors,
        Err(e) => vec![unreadable(e)],
    });
    findings.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    match flags.output {
        Output::Json => println!("{}", json(&findings)),
        Output::Text => print_text(&findings),
    }
    if errors > 0 {
        eprintln!("checkconfig: {errors} error(s), {warnings} warning(s)");
        ExitCode::from(1)
    } else if warnings > 0 && flags.strict {
        eprintln!("checkconfig: Strict is set and there were warnings ({warnings})");
        ExitCode::from(1)
    } else {
        eprintln!("checkconfig passes without any error!");
        ExitCode::SUCCESS
    }
}

/// Loads `--plugin-config` (with its supplements) when given: the config, and its errors and
/// the warnings the enabled checks ask for. Prow only logs deprecation notices, so they are
/// printed here and do not fail `--strict`.
fn load_plugin_config(
    flags: &Flags,
    checks: &WarningOptions,
) -> (Option<prow_config::PluginConfig>, Vec<Finding>) {
    let Some(path) = &flags.plugin_config else {
        return (None, Vec::new());
    };
    let options = prow_config::PluginLoadOptions::new(path).with_supplements(
        &flags.supplemental_plugin_config_dir,
        &flags.supplemental_plugin_configs_filename_suffix,
    );
    match prow_config::load_plugins(&options) {
        Ok((plugins, warnings)) => {
            let unknown_on = checks.enabled.contains("unknown-fields")
                || checks.enabled.contains("unknown-fields-all");
            let (unknown, notices): (Vec<Finding>, Vec<Finding>) = warnings
                .into_iter()
                .partition(|w| w.message == prow_config::UNKNOWN_FIELD);
            for notice in &notices {
                eprintln!("notice: {notice}");
            }
            eprintln!(
                "checkconfig: plugin config ok ({} orgs and repos)",
                plugins.plugins.len()
            );
            (Some(plugins), if unknown_on { unknown } else { Vec::new() })
        }
        Err(Error::Invalid { errors }) => (None, errors),
        Err(e) => (None, vec![unreadable(e).in_file(path)]),
    }
}

/// A configuration that could not be read, as a finding; the hint (a missing file: which flag
/// names it) goes to standard error.
fn unreadable(e: Error) -> Finding {
    let err = anyhow::Error::new(e);
    if let Some(hint) = prow_cli::exit::hint(&err) {
        eprintln!("hint: {hint}");
    }
    Finding::error(format!("{err:#}"))
}

/// Reports bad flags the way Prow words them; exit code 2.
fn bad_flags(reason: &str) -> ExitCode {
    eprintln!("checkconfig: Error parsing options - invalid options: {reason}");
    ExitCode::from(2)
}

/// Findings grouped by file, coloured on a terminal.
fn print_text(findings: &[Finding]) {
    let colour = std::io::stdout().is_terminal();
    let mut current: Option<&Option<PathBuf>> = None;
    for finding in findings {
        if current != Some(&finding.file) {
            if current.is_some() {
                println!();
            }
            current = Some(&finding.file);
        }
        let label = match (finding.severity, colour) {
            (Severity::Error, true) => "\x1b[1;31merror\x1b[0m",
            (Severity::Warning, true) => "\x1b[1;33mwarning\x1b[0m",
            (Severity::Error, false) => "error",
            (Severity::Warning, false) => "warning",
        };
        println!("{label}: {finding}");
    }
}

/// One finding as printed by `--output json`.
#[derive(serde::Serialize)]
struct JsonFinding<'a> {
    severity: &'static str,
    file: Option<String>,
    line: Option<usize>,
    field: &'a str,
    job: Option<&'a str>,
    message: &'a str,
}

/// Findings as a JSON list of `{severity, file, line, field, job, message}`.
fn json(findings: &[Finding]) -> String {
    let list: Vec<_> = findings
        .iter()
        .map(|f| JsonFinding {
            severity: match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            file: f.file.as_ref().map(|p| p.display().to_string()),
            line: f.line,
            field: &f.field,
            job: f.job.as_deref(),
            message: &f.message,
        })
        .collect();
    serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".to_owned())
}
