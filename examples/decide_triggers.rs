//! Decide which presubmits a pull request starts, given its base branch and changed files,
//! exactly as trigger does when the pull request is opened (or on `/test all`).
//!
//! Run: `cargo run -p prow-examples --example decide_triggers -- main docs/intro.md README.md`

use std::path::Path;

/// For each presubmit of `org/repo` in the configuration under `dir`: its name, whether it
/// runs for a change to `branch` touching `files`, and why.
pub fn decide(
    dir: &Path,
    repo: &str,
    branch: &str,
    files: &[&str],
) -> anyhow::Result<Vec<(String, bool, String)>> {
    let config = prow_config::load(&prow_config::LoadOptions::new(
        dir.join("config.yaml"),
        Some(dir.join("jobs")),
    ))?;
    let presubmits = config
        .jobs
        .presubmits
        .get(repo)
        .map(Vec::as_slice)
        .unwrap_or_default();
    // A new pull request runs what `/test all` runs: the jobs that run by default.
    let filter = prow_config::filter::PresubmitFilter::test_all();
    // Changed files are asked for lazily in Prow; here we already know them.
    let changes: Vec<String> = files.iter().map(|f| (*f).to_owned()).collect();
    let decided = prow_config::filter::why_presubmits(&filter, &changes, branch, presubmits)?;
    Ok(decided
        .into_iter()
        .map(|job| (job.name, job.runs, job.reason))
        .collect())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let branch = args.first().map_or("main", String::as_str);
    let files: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let decided = decide(
        Path::new("examples/config"),
        "example-org/example-repo",
        branch,
        &files,
    )?;
    for (name, runs, why) in decided {
        println!("{} {name}: {why}", if runs { "run " } else { "skip" });
    }
    Ok(())
}
