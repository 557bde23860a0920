//! plank's throughput on the embedded default: 1,000 trivial jobs (`true`) created in the
//! SQLite store, started by plank on the local runner (in-process pods, commands on the host)
//! and followed to success. Divan reports the time for all 1,000; jobs per second is 1,000
//! divided by it. The store's file size after a run is printed first.

use std::path::Path;
use std::sync::Arc;

use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJob, ProwJobState};
use prow_jobs::clock::SystemClock;
use prow_jobs::plank::Controller;
use prow_jobs::runner::{ContainerRuntime, LocalOptions, LocalRunner};
use prow_jobs::store::{JobStore, SqliteStore};

/// Jobs per run.
const JOBS: usize = 1_000;
/// plank's `max_concurrency` for the run.
const MAX_CONCURRENCY: i64 = 50;

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let started = std::time::Instant::now();
    runtime().block_on(run(tmp.path()));
    let elapsed = started.elapsed();
    eprintln!(
        "plank: {JOBS} jobs in {elapsed:.2?} ({:.0} jobs/s); store file {:.1} MB after the run",
        JOBS as f64 / elapsed.as_secs_f64(),
        file_size(&tmp.path().join("prow.db")) as f64 / 1e6,
    );
    divan::main();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn job(i: usize) -> ProwJob {
    let mut job: ProwJob = serde_json::from_value(serde_json::json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": format!("job-{i:04}")},
        "spec": {
            "type": "periodic",
            "agent": "kubernetes",
            "job": format!("trivial-{}", i % 10),
            "pod_spec": {"containers": [{"image": "alpine", "command": ["true"]}]},
        },
    }))
    .expect("prowjob");
    job.status = Some(prow_core::ProwJobStatus {
        state: ProwJobState::Triggered,
        start_time: Some(Time(Timestamp::now())),
        ..Default::default()
    });
    job
}

/// Creates the jobs, runs plank until every one has finished, checks they all passed.
async fn run(dir: &Path) {
    let store: Arc<dyn JobStore> =
        Arc::new(SqliteStore::open(dir.join("prow.db")).await.expect("store"));
    let mut options = LocalOptions::new(dir.join("pods"));
    options.runtime = ContainerRuntime::Host;
    let runner = Arc::new(LocalRunner::new(options).expect("runner"));
    let mut plank = prow_config::prow::Plank::default();
    plank.max_concurrency = MAX_CONCURRENCY;
    let mut config = prow_config::Config::default();
    config.prow.plank = plank;
    let config = prow_jobs::config::ConfigHandle::fixed(prow_config::ConfigSnapshot::new(
        config,
        prow_config::PluginConfig::default(),
    ));
    let controller = Controller::new(store.clone(), runner, Arc::new(SystemClock));
    let mut events = store.watch();
    for i in 0..JOBS {
        store.create(job(i)).await.expect("create");
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stop = async {
            let _ = stopped.await;
        };
        let metrics = prow_jobs::controller::ControllerMetrics::default();
        prow_jobs::controller::drive(&controller, config, stop, &metrics).await;
    });
    let mut done = 0;
    while done < JOBS {
        match events.recv().await {
            Ok(event) if event.job().is_complete() => {
                assert_eq!(event.job().state(), Some(ProwJobState::Success));
                done += 1;
            }
            Ok(_) => {}
            Err(e) => panic!("watch: {e}"),
        }
    }
    let _ = stop.send(());
    task.await.expect("plank stops");
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

/// 1,000 trivial jobs through store, plank and the local runner.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn thousand_trivial_jobs(bencher: divan::Bencher<'_, '_>) {
    bencher
        .with_inputs(|| tempfile::tempdir().expect("temp dir"))
        .bench_values(|dir| runtime().block_on(run(dir.path())));
}
