//! Reading and writing ProwJobs: the hot path of every store, watcher and webhook.

use prow_core::Duration;

fn main() {
    divan::main();
}

const PROWJOB: &str =
    include_str!("../../prow-core/tests/data/prowjob/upstream/valid_prowjob.yaml");

/// Parse one ProwJob from YAML, with field paths and unknown-field tracking.
#[divan::bench]
fn parse_prowjob_yaml() -> prow_core::ProwJob {
    prow_core::prowjob_from_yaml(divan::black_box(PROWJOB))
        .unwrap()
        .value
}

/// Write one ProwJob as JSON, as a store does.
#[divan::bench]
fn write_prowjob_json(bencher: divan::Bencher<'_, '_>) {
    let job = prow_core::prowjob_from_yaml(PROWJOB).unwrap().value;
    bencher.bench(|| serde_json::to_vec(divan::black_box(&job)).unwrap());
}

/// Parse a Go duration string.
#[divan::bench]
fn parse_duration() -> Duration {
    divan::black_box("1h2m3.004005006s").parse().unwrap()
}
