//! `checkconfig`'s work on the k8s-test-infra tree (604 YAML files, 6.9 MB, about 3,850 jobs):
//! read, parse, default and validate everything.
//!
//! Target: at most 0.25 s and 150 MB peak RSS for the whole `checkconfig` run (release build).
//! The peak RSS of one load is printed before the timings.

use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PROW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    dir.is_dir().then_some(dir)
}

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
    eprintln!(
        "one load: {:?} jobs in {:?}, peak RSS {:.0} MB",
        config.jobs.counts(),
        start.elapsed(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    drop(config);
    divan::main();
}

/// Load, default and validate the whole k8s-test-infra configuration.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn load_k8s_test_infra() -> prow_config::Config {
    prow_config::load(divan::black_box(&options())).unwrap()
}
