//! The SQLite job store: how fast plank and friends can create and update ProwJobs, one at a
//! time and in batches, in a store of 1,000 and of 100,000 jobs, and how many bytes a job
//! takes on disk (beside the layout of schema version 2, rebuilt by raw SQL in the same run).
//!
//! Before divan's benchmarks it prints, as medians of three rounds, creates/s and updates/s
//! single and batched (batches of [`BATCH`]) at each size, and bytes per job. `STORE_SIZES`
//! (comma-separated) replaces the sizes, e.g. `STORE_SIZES=1000` for a quick run.

use std::path::Path;
use std::time::Instant;

use prow_core::ProwJob;
use prow_jobs::store::{JobStore, ListParams, SqliteStore, Write};

/// Jobs written per iteration.
const JOBS: usize = 1_000;

/// Writes per batch in the batched figures: a plank pass or a horologium pass of a busy
/// deployment.
const BATCH: usize = 100;

/// Store sizes the write rates are measured at, unless `STORE_SIZES` says otherwise.
const SIZES: [usize; 2] = [1_000, 100_000];

/// Rounds per figure; the median is printed.
const ROUNDS: usize = 3;

const PROWJOB: &str =
    include_str!("../../prow-core/tests/data/prowjob/upstream/valid_prowjob.yaml");

fn main() {
    report_file_size();
    report_write_rates();
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
    named_jobs("job", JOBS)
}

/// Upstream's ProwJob `count` times, named `<prefix>-<i>`, ready to create.
fn named_jobs(prefix: &str, count: usize) -> Vec<ProwJob> {
    let template = prow_core::prowjob_from_yaml(PROWJOB).unwrap().value;
    (0..count)
        .map(|i| {
            let mut job = template.clone();
            job.metadata.name = Some(format!("{prefix}-{i}"));
            job.metadata.resource_version = None;
            job
        })
        .collect()
}

/// Creates `jobs` in batches of [`BATCH`]; the stored jobs.
async fn create_batched(store: &SqliteStore, jobs: Vec<ProwJob>) -> Vec<ProwJob> {
    let mut stored = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        let batch: Vec<Write> = jobs.by_ref().take(BATCH).map(Write::Create).collect();
        stored.extend(store.write_all(batch).await.into_iter().map(Result::unwrap));
    }
    stored
}

/// Moves each job to the other of `pending` and `triggered`, as plank's passes do.
fn flip(mut job: ProwJob) -> ProwJob {
    let status = job.status.get_or_insert_default();
    status.state = match status.state {
        prow_core::ProwJobState::Pending => prow_core::ProwJobState::Triggered,
        _ => prow_core::ProwJobState::Pending,
    };
    job
}

/// Writes per second of `count` writes that took `seconds`.
fn rate(count: usize, seconds: f64) -> f64 {
    count as f64 / seconds
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Prints creates/s and updates/s, single and batched, in stores of each size.
fn report_write_rates() {
    let sizes: Vec<usize> = std::env::var("STORE_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| SIZES.to_vec());
    let rt = runtime();
    for size in sizes {
        let dir = tempfile::tempdir().unwrap();
        let store = rt
            .block_on(SqliteStore::open(dir.path().join("prow.db")))
            .unwrap();
        let seeded_at = Instant::now();
        let mut live = rt.block_on(create_batched(&store, named_jobs("seed", size)));
        let seeding = seeded_at.elapsed().as_secs_f64();
        live.truncate(JOBS.min(size));
        let mut figures: [Vec<f64>; 4] = Default::default();
        for round in 0..ROUNDS {
            rt.block_on(async {
                let fresh = named_jobs(&format!("single-{round}"), JOBS);
                let started = Instant::now();
                for job in fresh {
                    store.create(job).await.unwrap();
                }
                figures[0].push(rate(JOBS, started.elapsed().as_secs_f64()));

                let fresh = named_jobs(&format!("batched-{round}"), JOBS);
                let started = Instant::now();
                create_batched(&store, fresh).await;
                figures[1].push(rate(JOBS, started.elapsed().as_secs_f64()));

                let started = Instant::now();
                let mut updated = Vec::with_capacity(live.len());
                for job in live.drain(..) {
                    updated.push(store.update(flip(job)).await.unwrap());
                }
                figures[2].push(rate(updated.len(), started.elapsed().as_secs_f64()));

                let count = updated.len();
                let started = Instant::now();
                for chunk in updated.chunks(BATCH) {
                    let writes = chunk.iter().cloned().map(flip).map(Write::Update).collect();
                    live.extend(
                        store
                            .write_all(writes)
                            .await
                            .into_iter()
                            .map(Result::unwrap),
                    );
                }
                figures[3].push(rate(count, started.elapsed().as_secs_f64()));
            });
        }
        let [
            single_creates,
            batched_creates,
            single_updates,
            batched_updates,
        ] = figures.map(median);
        eprintln!(
            "store of {size} jobs (seeded at {:.0} creates/s in batches of {BATCH}): creates \
             {single_creates:.0}/s single, {batched_creates:.0}/s batched; updates \
             {single_updates:.0}/s single, {batched_updates:.0}/s batched (medians of {ROUNDS} \
             rounds of {JOBS})",
            rate(size, seeding)
        );
    }
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

/// Prints the size of a store holding `JOBS` upstream-sized jobs, before the benchmarks,
/// and the size of the same jobs in schema version 2's layout (a WITHOUT ROWID table of JSON
/// text, labels in a table and an index), written by raw SQL.
fn report_file_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prow.db");
    let rt = runtime();
    let listed = rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        create_and_update(&store, jobs()).await;
        let listed = store.list(&ListParams::default()).await.unwrap();
        assert_eq!(listed.len(), JOBS);
        listed
    });
    // The store is closed here, so the WAL has been folded into the main file.
    let size = file_size(&path);
    let old_path = dir.path().join("schema-2.db");
    write_schema_2(&old_path, &listed);
    let old_size = file_size(&old_path);
    eprintln!(
        "store: {JOBS} jobs created and updated: {size} bytes on disk ({} bytes per job; \
         schema 2's layout: {} bytes per job)",
        size / JOBS as u64,
        old_size / JOBS as u64
    );
}

/// `jobs` as schema version 2 stored them, by raw SQL, in one transaction.
fn write_schema_2(path: &Path, jobs: &[ProwJob]) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE prowjobs (name TEXT PRIMARY KEY NOT NULL, resource_version INTEGER NOT \
         NULL, body TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE prowjob_labels (name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT \
         NULL, PRIMARY KEY (name, key)) WITHOUT ROWID;
         CREATE INDEX prowjob_labels_by_key_value ON prowjob_labels (key, value, name);",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    for (i, job) in jobs.iter().enumerate() {
        let name = job.metadata.name.clone().unwrap_or_default();
        tx.execute(
            "INSERT INTO prowjobs (name, resource_version, body) VALUES (?1, ?2, ?3)",
            rusqlite::params![name, i as i64, serde_json::to_string(job).unwrap()],
        )
        .unwrap();
        for (key, value) in job.metadata.labels.iter().flatten() {
            tx.execute(
                "INSERT INTO prowjob_labels (name, key, value) VALUES (?1, ?2, ?3)",
                rusqlite::params![name, key, value],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// A store in a fresh file, and the jobs to write into it.
fn fresh_store(rt: &tokio::runtime::Runtime) -> (tempfile::TempDir, SqliteStore, Vec<ProwJob>) {
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(SqliteStore::open(dir.path().join("prow.db")))
        .unwrap();
    (dir, store, jobs())
}

/// Create 1,000 jobs and update each once, in a fresh file.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn create_and_update_1000(bencher: divan::Bencher<'_, '_>) {
    let rt = runtime();
    bencher
        .with_inputs(|| fresh_store(&rt))
        .bench_local_values(|(dir, store, jobs)| {
            rt.block_on(create_and_update(&store, jobs));
            (dir, store)
        });
}

/// Create 1,000 jobs and update each once, in batches of [`BATCH`], in a fresh file.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn create_and_update_1000_batched(bencher: divan::Bencher<'_, '_>) {
    let rt = runtime();
    bencher
        .with_inputs(|| fresh_store(&rt))
        .bench_local_values(|(dir, store, jobs)| {
            rt.block_on(async {
                let created = create_batched(&store, jobs).await;
                for chunk in created.chunks(BATCH) {
                    let writes = chunk.iter().cloned().map(flip).map(Write::Update).collect();
                    for result in store.write_all(writes).await {
                        result.unwrap();
                    }
                }
            });
            (dir, store)
        });
}

/// plank's list: the live jobs among 1,000, of which one in ten is pending.
#[divan::bench(sample_count = 20)]
fn list_pending_of_1000(bencher: divan::Bencher<'_, '_>) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(SqliteStore::open(dir.path().join("prow.db")))
        .unwrap();
    let mut all = jobs();
    for (i, job) in all.iter_mut().enumerate() {
        job.status.get_or_insert_default().state = if i % 10 == 0 {
            prow_core::ProwJobState::Pending
        } else {
            prow_core::ProwJobState::Success
        };
    }
    rt.block_on(create_batched(&store, all));
    let params = ListParams::default().in_states(&[
        prow_core::ProwJobState::Triggered,
        prow_core::ProwJobState::Pending,
    ]);
    bencher.bench_local(|| {
        let found = rt.block_on(store.list(&params)).unwrap();
        assert_eq!(found.len(), JOBS / 10);
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
