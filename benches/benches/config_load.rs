//! `checkconfig`'s work on the k8s-test-infra tree (604 YAML files, 6.9 MB, about 3,850 jobs):
//! read, parse, default and validate everything, then — as `checkconfig` does when run with no
//! `--warnings` flag — every default warning.
//!
//! Target: at most 0.25 s and 150 MB peak RSS for the whole default `checkconfig` run (release
//! build). The peak RSS of one default run is printed before the timings.

use prow_benches::corpus;

fn options() -> prow_config::LoadOptions {
    let root = corpus()
        .expect("corpus present")
        .join("k8s-test-infra/config");
    prow_config::LoadOptions::new(root.join("prow/config.yaml"), Some(root.join("jobs")))
}

/// Peak resident set size of this process so far, from `/proc/self/status`.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    if corpus().is_none() {
        eprintln!("notice: corpus not found (set PROW_CORPUS); skipping the config load benchmark");
        return;
    }
    let start = std::time::Instant::now();
    let config = prow_config::load(&options()).expect("k8s corpus loads");
    let findings = default_warnings(&config);
    eprintln!(
        "one default checkconfig: {:?} jobs, {findings} findings in {:?}, peak RSS {:.0} MB",
        config.jobs.counts(),
        start.elapsed(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    drop(config);
    divan::main();
}

/// The default warnings (no `--warnings` flag, no plugins.yaml) over `config`: the number of
/// findings.
fn default_warnings(config: &prow_config::Config) -> usize {
    let mut checks = prow_config::WarningOptions::from_flags(&[], &[], false, false)
        .expect("default warnings")
        .with_config_path(&options().config_path);
    // checkconfig checks URLs only together with plugins.yaml.
    checks.enabled.remove("validate-urls");
    prow_config::check_warnings(config, &checks).len()
}

/// `checkconfig --config-path … --job-config-path …` as a user runs it: load, default and
/// validate, then every default warning.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn checkconfig_default_k8s_test_infra() -> usize {
    let config = prow_config::load(divan::black_box(&options())).unwrap();
    default_warnings(&config)
}

/// Load, default and validate the whole k8s-test-infra configuration.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn load_k8s_test_infra() -> prow_config::Config {
    prow_config::load(divan::black_box(&options())).unwrap()
}
