//! The SQLite job store: how fast plank and friends can create and update ProwJobs, and how
//! big the file grows.

use std::path::Path;

use prow_core::ProwJob;
use prow_jobs::store::{JobStore, ListParams, SqliteStore};

/// Jobs written per iteration.
const JOBS: usize = 1_000;

const PROWJOB: &str =
    include_str!("../../prow-core/tests/data/prowjob/upstream/valid_prowjob.yaml");

fn main() {
    report_file_size();
    divan::main();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Upstream's ProwJob under the name `job-<i>`, ready to create.
fn jobs() -> Vec<ProwJob> {
    let template = prow_core::prowjob_from_yaml(PROWJOB).unwrap().value;
    (0..JOBS)
        .map(|i| {
            let mut job = template.clone();
            job.metadata.name = Some(format!("job-{i}"));
            job.metadata.resource_version = None;
            job
        })
        .collect()
}

/// Creates every job, then updates each once (to `pending`), as plank does.
async fn create_and_update(store: &SqliteStore, jobs: Vec<ProwJob>) {
    for job in jobs {
        let mut created = store.create(job).await.unwrap();
        created.status.get_or_insert_default().state = prow_core::ProwJobState::Pending;
        store.update(created).await.unwrap();
    }
}

fn file_size(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::fs::metadata(name).ok().map(|m| m.len())
        })
        .sum()
}

/// Prints the size of a store holding `JOBS` upstream-sized jobs, before the benchmarks.
fn report_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prow.db");
    let rt = runtime();
    rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        create_and_update(&store, jobs()).await;
        let listed = store.list(&ListParams::default()).await.unwrap();
        assert_eq!(listed.len(), JOBS);
    });
    // The store is closed here, so the WAL has been folded into the main file.
    let size = file_size(&path);
    eprintln!(
        "store: {JOBS} jobs created and updated: {size} bytes on disk ({} bytes per job)",
        size / JOBS as u64
    );
}

/// Create 1,000 jobs and update each once, in a fresh file.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn create_and_update_1000(bencher: divan::Bencher<'_, '_>) {
    let rt = runtime();
    bencher
        .with_inputs(|| {
            let dir = tempfile::tempdir().unwrap();
            let store = rt
                .block_on(SqliteStore::open(dir.path().join("prow.db")))
                .unwrap();
            (dir, store, jobs())
        })
        .bench_local_values(|(dir, store, jobs)| {
            rt.block_on(create_and_update(&store, jobs));
            (dir, store)
        });
}

/// List the presubmits of one org among 1,000 jobs through the label index.
#[divan::bench(sample_count = 20)]
fn list_by_labels_of_1000(bencher: divan::Bencher<'_, '_>) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(SqliteStore::open(dir.path().join("prow.db")))
        .unwrap();
    let mut all = jobs();
    // One job in ten is a presubmit; the selector finds those.
    for (i, job) in all.iter_mut().enumerate() {
        if i % 10 == 0 {
            job.metadata
                .labels
                .get_or_insert_default()
                .insert("prow.k8s.io/type".to_owned(), "presubmit".to_owned());
        }
    }
    rt.block_on(create_and_update(&store, all));
    let params =
        ListParams::parse_labels("prow.k8s.io/type=presubmit,prow.k8s.io/refs.org=kubernetes")
            .unwrap();
    bencher.bench_local(|| {
        let found = rt.block_on(store.list(&params)).unwrap();
        assert_eq!(found.len(), JOBS / 10);
    });
}

/// Open a closed store holding 1,000 jobs: the read-only check (`quick_check`) an existing
/// file gets before it is opened for writing, then the open itself.
#[divan::bench(sample_count = 20)]
fn open_existing_1000(bencher: divan::Bencher<'_, '_>) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prow.db");
    rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        create_and_update(&store, jobs()).await;
    });
    bencher.bench_local(|| rt.block_on(SqliteStore::open(&path)).unwrap());
}

/// The readiness probe: a heartbeat row written in its own transaction.
#[divan::bench(sample_count = 20)]
fn ready(bencher: divan::Bencher<'_, '_>) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(SqliteStore::open(dir.path().join("prow.db")))
        .unwrap();
    bencher.bench_local(|| rt.block_on(store.ready()).unwrap());
}
