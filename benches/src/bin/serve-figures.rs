//! `serve-figures`: how fast `prow serve` starts and how much memory it holds when idle.
//!
//! `cargo build --release -p prow-cli --bin prow && cargo run --release -p prow-benches --bin
//! serve-figures -- [RUNS]` starts the release `prow serve` RUNS times (default 5) on each of
//! two configurations — the demo in `examples/prow/`, and the whole kubernetes/test-infra
//! configuration from the corpus (its `config.yaml`, every job file and its `plugins.yaml`) —
//! and prints, per configuration, the median time from spawning the process to `/healthz/ready`
//! answering 200, and the median resident memory after five idle seconds. It measures `prow
//! serve --without plank --without horologium` (hook, sinker, crier, tide, deck and metrics):
//! nothing it starts runs a job or creates a periodic's ProwJob, so measuring the real corpus
//! executes none of its commands here. The corpus
//! configuration is skipped with a notice when the corpus is absent. `PROW_BIN` names another
//! `prow` binary.
//!
//! Then [`stored_jobs_figures`]: the demo served over a store seeded with 10,000 ProwJobs
//! (runs of 1,000 jobs made from upstream's example job, each with a pod spec of its own; one
//! in ten pending, the rest finished, none to report): start-up,
//! the time to the first byte and to the last of `/prowjobs.js` (the first request after
//! start-up builds the body and streams it as it is written; the next ones are served from
//! deck's kept body) and of deck's
//! own page query `?omit=annotations,labels,decoration_config,pod_spec`, and resident memory
//! after the requests (current and peak).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prow_benches::corpus;
use prow_core::ProwJob;
use prow_jobs::store::{JobStore, SqliteStore, Write as StoreWrite};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One configuration to serve: config, job config and plugins.
struct Setup {
    name: &'static str,
    config: PathBuf,
    jobs: PathBuf,
    plugins: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn ready(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if stream
        .write_all(b"GET /healthz/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}

/// The `field` of `pid`'s `/proc` status (a size in kB), in MB; 0 when unreadable.
fn status_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// Resident memory of `pid` now, in MB.
fn rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmRSS:")
}

fn spawn(prow: &Path, setup: &Setup, data: &Path, port: u16) -> Child {
    let hmac = data.join("hmac");
    std::fs::write(&hmac, "serve-figures").expect("hmac file");
    Command::new(prow)
        .arg("serve")
        .arg("--config-path")
        .arg(&setup.config)
        .arg("--job-config-path")
        .arg(&setup.jobs)
        .arg("--plugin-config")
        .arg(&setup.plugins)
        .arg("--hmac-secret-file")
        .arg(&hmac)
        .arg("--github-fake")
        .arg(root().join("examples/prow/github-fake.yaml"))
        .arg("--data-dir")
        .arg(data.join("data"))
        .args(["--port", &port.to_string(), "--runtime", "host"])
        // Never run a job or start a periodic: the corpus's 930 periodics would be due at
        // once, and plank would clone and run real kubernetes job commands on this machine.
        .args(["--without", "plank", "--without", "horologium"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prow serve starts")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let prow = std::env::var_os("PROW_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/release/prow"));
    assert!(
        prow.is_file(),
        "{} is missing: cargo build --release -p prow-cli --bin prow",
        prow.display()
    );
    let demo = root().join("examples/prow");
    let mut setups = vec![Setup {
        name: "demo (examples/prow)",
        config: demo.join("config.yaml"),
        jobs: demo.join("jobs"),
        plugins: demo.join("plugins.yaml"),
    }];
    match corpus() {
        Some(corpus) => {
            let k8s = corpus.join("k8s-test-infra/config");
            setups.push(Setup {
                name: "kubernetes/test-infra (corpus)",
                config: k8s.join("prow/config.yaml"),
                jobs: k8s.join("jobs"),
                plugins: k8s.join("prow/plugins.yaml"),
            });
        }
        None => eprintln!("notice: corpus not found (set PROW_CORPUS); only the demo is measured"),
    }
    for setup in &setups {
        let mut startups = Vec::new();
        let mut idle = Vec::new();
        for _ in 0..runs {
            let data = std::env::temp_dir().join(format!(
                "serve-figures-{}-{}",
                std::process::id(),
                free_port()
            ));
            std::fs::create_dir_all(&data).expect("temp dir");
            let port = free_port();
            let started = Instant::now();
            let mut child = spawn(&prow, setup, &data, port);
            let deadline = started + Duration::from_secs(60);
            while !ready(port) {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("{}: prow serve was not ready within 60 s", setup.name);
                }
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("{}: prow serve exited with {status}", setup.name);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            startups.push(started.elapsed().as_secs_f64() * 1000.0);
            // Idle: no webhooks, the controllers' loops ticking.
            std::thread::sleep(Duration::from_secs(5));
            idle.push(rss_mb(child.id()));
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&data);
        }
        println!(
            "{}: start-up to ready median {:.0} ms (min {:.0}, max {:.0}); idle RSS median {:.1} MB ({} runs)",
            setup.name,
            median(startups.clone()),
            startups.iter().copied().fold(f64::INFINITY, f64::min),
            startups.iter().copied().fold(0.0, f64::max),
            median(idle),
            runs
        );
    }
    stored_jobs_figures(&prow, &setups[0], runs);
}

/// ProwJobs seeded into the store for [`stored_jobs_figures`].
const STORED_JOBS: usize = 10_000;

/// How many jobs the seeded ProwJobs are runs of (ten runs each): what the stored jobs can
/// share is their job's pod spec and decoration config.
const JOB_DEFINITIONS: usize = 1_000;

/// Upstream's example ProwJob, the model of the seeded jobs.
const PROWJOB: &str =
    include_str!("../../../prow-core/tests/data/prowjob/upstream/valid_prowjob.yaml");

/// Writes a store of [`STORED_JOBS`] jobs at `path`: one in ten pending, the others finished
/// successfully a moment ago (sinker keeps them), none to report (crier leaves them alone).
fn seed_store(path: &Path) {
    let template = prow_core::prowjob_from_yaml(PROWJOB)
        .expect("upstream's example ProwJob parses")
        .value;
    let now = prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        prow_core::k8s_openapi::jiff::Timestamp::now(),
    );
    let jobs: Vec<ProwJob> = (0..STORED_JOBS)
        .map(|i| {
            let mut job = template.clone();
            job.metadata.name = Some(format!("seeded-{i:05}"));
            // Runs of JOB_DEFINITIONS jobs, each with a pod spec of its own.
            let definition = i % JOB_DEFINITIONS;
            job.spec.job = format!("{}-{definition:03}", template.spec.job);
            if let Some(spec) = job.spec.pod_spec.as_mut() {
                std::sync::Arc::make_mut(spec).containers[0].args =
                    Some(vec![format!("Everything is fine! ({definition})")]);
            }
            job.metadata.resource_version = None;
            job.metadata.namespace = None;
            job.spec.report = false;
            let status = job.status.get_or_insert_default();
            status.start_time = Some(now.clone());
            if i % 10 == 0 {
                status.state = prow_core::ProwJobState::Pending;
                status.completion_time = None;
            } else {
                status.state = prow_core::ProwJobState::Success;
                status.completion_time = Some(now.clone());
            }
            job
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let store = SqliteStore::open(path).await.expect("the seed store opens");
        for chunk in jobs.chunks(500) {
            let writes = chunk.iter().cloned().map(StoreWrite::Create).collect();
            for result in store.write_all(writes).await {
                result.expect("a seeded job is stored");
            }
        }
    });
}

/// Peak resident memory (`VmHWM`) of `pid`, in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    status_mb(pid, "VmHWM:")
}

/// GETs `path` over HTTP/1.0: milliseconds to the first byte of the answer and to its last,
/// and the answer's size.
fn timed_get(port: u16, path: &str) -> (f64, f64, usize) {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("deck answers");
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .expect("request written");
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).expect("a first byte");
    let first_byte = started.elapsed().as_secs_f64() * 1000.0;
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).expect("the answer");
    let last_byte = started.elapsed().as_secs_f64() * 1000.0;
    let answer = String::from_utf8_lossy(&rest[..rest.len().min(20)]);
    assert!(
        answer.starts_with("TTP/1.0 200") || answer.starts_with("TTP/1.1 200"),
        "GET {path}: H{answer}"
    );
    (first_byte, last_byte, rest.len() + 1)
}

/// `prow serve` of `setup` over a store holding [`STORED_JOBS`] jobs: start-up, `/prowjobs.js`
/// cold (the first request) and warm (medians of the next five), and memory, over `runs`
/// runs.
fn stored_jobs_figures(prow: &Path, setup: &Setup, runs: usize) {
    // `SERVE_FIGURES_KEEP_SEED=DIR` keeps the seeded store as DIR/prow.db, to look into.
    let kept = std::env::var_os("SERVE_FIGURES_KEEP_SEED").map(PathBuf::from);
    let seed_dir = kept.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("serve-figures-seed-{}", std::process::id()))
    });
    std::fs::create_dir_all(&seed_dir).expect("temp dir");
    let seed = seed_dir.join("prow.db");
    if !seed.exists() {
        seed_store(&seed);
    }
    let seed_size = std::fs::metadata(&seed).map(|m| m.len()).unwrap_or(0);
    const PAGE_QUERY: &str = "/prowjobs.js?omit=annotations,labels,decoration_config,pod_spec";
    let mut startups = Vec::new();
    let mut figures: [Vec<f64>; 6] = Default::default();
    let mut sizes = (0, 0);
    let mut rss = Vec::new();
    let mut peak = Vec::new();
    for _ in 0..runs {
        let data = std::env::temp_dir().join(format!(
            "serve-figures-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(data.join("data")).expect("temp dir");
        std::fs::copy(&seed, data.join("data/prow.db")).expect("seed copied");
        let port = free_port();
        let started = Instant::now();
        let mut child = spawn(prow, setup, &data, port);
        let deadline = started + Duration::from_secs(60);
        while !ready(port) {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{STORED_JOBS} stored jobs: prow serve was not ready within 60 s");
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{STORED_JOBS} stored jobs: prow serve exited with {status}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        startups.push(started.elapsed().as_secs_f64() * 1000.0);
        let (cold_first, cold_last, size) = timed_get(port, "/prowjobs.js");
        sizes.0 = size;
        figures[0].push(cold_first);
        figures[1].push(cold_last);
        let mut warm_first = Vec::new();
        let mut warm_last = Vec::new();
        for _ in 0..5 {
            let (first, last, _) = timed_get(port, "/prowjobs.js");
            warm_first.push(first);
            warm_last.push(last);
        }
        figures[2].push(median(warm_first));
        figures[3].push(median(warm_last));
        let (page_first, page_last, size) = timed_get(port, PAGE_QUERY);
        sizes.1 = size;
        figures[4].push(page_first);
        figures[5].push(page_last);
        rss.push(rss_mb(child.id()));
        peak.push(peak_rss_mb(child.id()));
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&data);
    }
    if kept.is_none() {
        let _ = std::fs::remove_dir_all(&seed_dir);
    }
    let [
        cold_first,
        cold_last,
        warm_first,
        warm_last,
        page_first,
        page_last,
    ] = figures.map(median);
    println!(
        "{} with {STORED_JOBS} stored jobs ({:.1} MB store): start-up to ready median {:.0} ms; \
         /prowjobs.js ({:.1} MB) first request: first byte {cold_first:.1} ms, last \
         {cold_last:.1} ms; next requests: first byte {warm_first:.2} ms, last {warm_last:.1} ms; \
         {PAGE_QUERY} ({:.1} MB) first request: first byte {page_first:.1} ms, last \
         {page_last:.1} ms; RSS after {:.1} MB, peak {:.1} MB ({runs} runs, medians)",
        setup.name,
        seed_size as f64 / 1e6,
        median(startups),
        sizes.0 as f64 / 1e6,
        sizes.1 as f64 / 1e6,
        median(rss),
        median(peak),
    );
}
