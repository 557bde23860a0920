//! `checkconfig`'s work on the k8s-test-infra tree (604 YAML files, 6.9 MB, about 3,850 jobs):
//! read, parse, default and validate everything, then — as `checkconfig` does when run with no
//! `--warnings` flag — every default warning.
//!
//! Target (issue #24): at least 8× faster than PyYAML's C parser (`CSafeLoader`) only parsing
//! the same files, and at most 60 MB peak RSS. Before the divan timings it prints, measured in
//! the same run:
//!
//! - the peak RSS of this process after one default checkconfig (nothing else ran before it);
//! - the median of [`RUNS`] in-process checkconfigs;
//! - the median of [`RUNS`] runs of the release `checkconfig` binary (`CHECKCONFIG_BIN`, else
//!   `target/release/checkconfig`), wall time and peak RSS from `/usr/bin/time`, when both exist;
//! - the median of [`RUNS`] PyYAML parses of the files read into memory beforehand (so only
//!   parsing is timed, in one `python3` process), and the ratios to it. A machine without
//!   `python3` or PyYAML's C extension says so and goes on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use prow_benches::corpus;

/// How many times each side of the comparison runs; the medians are printed.
const RUNS: usize = 5;

fn root() -> PathBuf {
    corpus()
        .expect("corpus present")
        .join("k8s-test-infra/config")
}

fn options() -> prow_config::LoadOptions {
    let root = root();
    prow_config::LoadOptions::new(root.join("prow/config.yaml"), Some(root.join("jobs")))
}

/// Peak resident set size of this process so far, from `/proc/self/status`.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// PyYAML's C parser over config.yaml and every `.yaml`/`.yml` under the job folder, read into
/// memory first: the median seconds of [`RUNS`] parses, or why it could not run.
const PYYAML: &str = r#"
import os, sys, time, yaml
files = [sys.argv[1]]
for top, _, names in os.walk(sys.argv[2]):
    files += [os.path.join(top, n) for n in names if n.endswith((".yaml", ".yml"))]
data = [open(f, "rb").read() for f in files]
times = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    for d in data:
        list(yaml.load_all(d, Loader=yaml.CSafeLoader))
    times.append(time.perf_counter() - start)
times.sort()
print(len(files), times[len(times) // 2])
"#;

fn pyyaml(config: &Path, jobs: &Path) -> Result<(usize, f64), String> {
    let out = Command::new("python3")
        .args(["-c", PYYAML])
        .arg(config)
        .arg(jobs)
        .arg(RUNS.to_string())
        .output()
        .map_err(|e| format!("python3 is absent ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "python3 with PyYAML's C parser did not run: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace();
    let files = words.next().and_then(|w| w.parse().ok());
    let seconds = words.next().and_then(|w| w.parse().ok());
    files
        .zip(seconds)
        .ok_or_else(|| format!("unexpected output {text:?}"))
}

/// The release `checkconfig` binary, [`RUNS`] times: median wall seconds and peak RSS in MB.
fn binary(config: &Path, jobs: &Path) -> Result<(f64, f64), String> {
    let checkconfig = std::env::var_os("CHECKCONFIG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/checkconfig")
        });
    if !checkconfig.is_file() {
        return Err(format!("{} is absent", checkconfig.display()));
    }
    let time = Path::new("/usr/bin/time");
    if !time.is_file() {
        return Err("/usr/bin/time is absent".to_owned());
    }
    let mut walls = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..RUNS {
        let out = Command::new(time)
            .args(["-f", "figures %e %M"])
            .arg(&checkconfig)
            .arg("--config-path")
            .arg(config)
            .arg("--job-config-path")
            .arg(jobs)
            .output()
            .map_err(|e| e.to_string())?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("figures "))
            .ok_or_else(|| format!("no figures from /usr/bin/time: {stderr}"))?;
        let mut words = line.split_whitespace();
        let wall: f64 = words
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(f64::NAN);
        let kb: f64 = words
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(f64::NAN);
        walls.push(wall);
        peaks.push(kb / 1024.0);
    }
    Ok((median(walls), median(peaks)))
}

fn main() {
    if corpus().is_none() {
        eprintln!("notice: corpus not found (set PROW_CORPUS); skipping the config load benchmark");
        return;
    }
    let start = Instant::now();
    let config = prow_config::load(&options()).expect("k8s corpus loads");
    let findings = default_warnings(&config);
    eprintln!(
        "one default checkconfig: {:?} jobs, {findings} findings in {:?}, peak RSS {:.0} MB",
        config.jobs.counts(),
        start.elapsed(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    drop(config);

    let ours = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let config = prow_config::load(&options()).expect("k8s corpus loads");
                divan::black_box(default_warnings(&config));
                start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    eprintln!(
        "checkconfig in process: median {:?} of {RUNS}",
        Duration::from_secs_f64(ours)
    );
    let (config_path, jobs) = (root().join("prow/config.yaml"), root().join("jobs"));
    let binary = binary(&config_path, &jobs);
    match &binary {
        Ok((wall, peak)) => eprintln!(
            "checkconfig binary: median {wall:.3} s wall of {RUNS}, peak RSS {peak:.0} MB"
        ),
        Err(why) => eprintln!("notice: the checkconfig binary was not measured: {why}"),
    }
    match pyyaml(&config_path, &jobs) {
        Ok((files, seconds)) => {
            eprintln!(
                "PyYAML CSafeLoader parse only, {files} files: median {:?} of {RUNS}; it takes {:.1}× the in-process checkconfig{}",
                Duration::from_secs_f64(seconds),
                seconds / ours,
                match binary {
                    Ok((wall, _)) => format!(" and {:.1}× the binary's wall time", seconds / wall),
                    Err(_) => String::new(),
                }
            );
        }
        Err(why) => eprintln!("notice: no PyYAML baseline: {why}"),
    }
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
