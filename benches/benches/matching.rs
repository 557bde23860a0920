//! Which presubmits run for a kubernetes/kubernetes pull request: the decision hook makes on
//! every pull request event, over the k8s corpus's real jobs.
//!
//! Targets: at most 50 µs for a pull request touching 1 file, 5 ms for 3,000 files.

use prow_benches::corpus;
use std::sync::LazyLock;

use prow_config::{JobConfig, PresubmitFilter};

const REPO: &str = "kubernetes/kubernetes";

static JOBS: LazyLock<JobConfig> = LazyLock::new(|| {
    let root = corpus()
        .expect("corpus present")
        .join("k8s-test-infra/config");
    let options =
        prow_config::LoadOptions::new(root.join("prow/config.yaml"), Some(root.join("jobs")));
    let jobs = prow_config::load(&options).expect("k8s corpus loads").jobs;
    jobs.presubmit_index();
    jobs
});

fn main() {
    if corpus().is_none() {
        eprintln!("notice: corpus not found (set PROW_CORPUS); skipping the matching benchmarks");
        return;
    }
    eprintln!("{REPO}: {} presubmits", JOBS.presubmits_for(REPO).len());
    divan::main();
}

/// Presubmits a new pull request touching `files` changed files starts, with the repo index.
#[divan::bench(args = [1, 100, 3000])]
fn pull_request_indexed(bencher: divan::Bencher<'_, '_>, files: usize) {
    let changes = prow_benches::k8s_pull_request_files(files);
    let filter = PresubmitFilter::test_all();
    bencher.bench(|| {
        JOBS.filter_presubmits(REPO, &filter, "master", divan::black_box(&changes))
            .unwrap()
            .len()
    });
}

/// The same decision job by job, each job reading the files itself (Prow's way).
#[divan::bench(args = [1, 100, 3000])]
fn pull_request_per_job(bencher: divan::Bencher<'_, '_>, files: usize) {
    let changes = prow_benches::k8s_pull_request_files(files);
    let filter = PresubmitFilter::test_all();
    let jobs = JOBS.presubmits_for(REPO);
    bencher.bench(|| {
        prow_config::filter_presubmits(&filter, divan::black_box(&changes), "master", jobs)
            .unwrap()
            .len()
    });
}

/// `/test pull-kubernetes-e2e-gce-cos`: one trigger regex per job against the comment.
#[divan::bench]
fn test_comment(bencher: divan::Bencher<'_, '_>) {
    let changes = prow_benches::k8s_pull_request_files(100);
    let filter = PresubmitFilter::for_comment("/test pull-kubernetes-e2e-gce-cos", true, || {
        Ok::<_, ()>(prow_config::Contexts::default())
    })
    .unwrap();
    bencher.bench(|| {
        JOBS.filter_presubmits(REPO, &filter, "master", divan::black_box(&changes))
            .unwrap()
            .len()
    });
}
