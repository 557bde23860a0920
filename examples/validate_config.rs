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
    let mut paths =
        prow_config::ConfigPaths::new(dir.join("config.yaml"), jobs.is_dir().then_some(jobs));
    let plugins = dir.join("plugins.yaml");
    if plugins.is_file() {
        paths = paths.with_plugin_config(plugins);
    }
    // One call reads config.yaml, the jobs and plugins.yaml, and reports every problem of all
    // of them, each naming its file and field.
    match prow_config::load_snapshot(&paths) {
        Ok((snapshot, warnings)) => {
            report.warnings = warnings;
            let j = &snapshot.config.jobs;
            report.jobs = j.presubmits.values().map(Vec::len).sum::<usize>()
                + j.postsubmits.values().map(Vec::len).sum::<usize>()
                + j.periodics.len();
        }
        Err(e) => report.errors = e.errors,
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
