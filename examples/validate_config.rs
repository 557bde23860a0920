//! Validate a Prow configuration directory the way `checkconfig` does and print every problem.
//!
//! Run: `cargo run -p prow-examples --example validate_config -- examples/config`
//! (a directory holding `config.yaml`, optionally `jobs/` and `plugins.yaml`).

use std::path::Path;

/// What a check found: the problems that stop Prow, and the ones that only deserve a look.
#[derive(Debug, Default)]
pub struct Report {
    /// Errors: Prow would refuse this configuration.
    pub errors: Vec<String>,
    /// Warnings: unknown fields and the like.
    pub warnings: Vec<String>,
    /// How many jobs loaded, when the configuration loaded.
    pub jobs: usize,
}

/// Loads `dir/config.yaml`, the job tree `dir/jobs/` and `dir/plugins.yaml` (each when present)
/// and collects every problem instead of stopping at the first.
pub fn check(dir: &Path) -> Report {
    let mut report = Report::default();
    let jobs = dir.join("jobs");
    let options =
        prow_config::LoadOptions::new(dir.join("config.yaml"), jobs.is_dir().then_some(jobs));
    match prow_config::load(&options) {
        Ok(config) => {
            report
                .warnings
                .extend(config.warnings.iter().map(ToString::to_string));
            let j = &config.jobs;
            report.jobs = j.presubmits.values().map(Vec::len).sum::<usize>()
                + j.postsubmits.values().map(Vec::len).sum::<usize>()
                + j.periodics.len();
        }
        // `Invalid` carries every error found, each naming its file and field.
        Err(prow_config::Error::Invalid { errors }) => {
            report.errors.extend(errors.iter().map(ToString::to_string));
        }
        Err(other) => report.errors.push(other.to_string()),
    }
    let plugins = dir.join("plugins.yaml");
    if plugins.is_file() {
        match prow_config::load_plugins(&prow_config::PluginLoadOptions::new(plugins)) {
            Ok((_, warnings)) => report
                .warnings
                .extend(warnings.iter().map(ToString::to_string)),
            Err(prow_config::Error::Invalid { errors }) => {
                report.errors.extend(errors.iter().map(ToString::to_string));
            }
            Err(other) => report.errors.push(other.to_string()),
        }
    }
    report
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/config".to_owned());
    let report = check(Path::new(&dir));
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
    for error in &report.errors {
        println!("error: {error}");
    }
    if !report.errors.is_empty() {
        anyhow::bail!("{dir}: {} error(s)", report.errors.len());
    }
    println!("{dir}: valid, {} job(s)", report.jobs);
    Ok(())
}
