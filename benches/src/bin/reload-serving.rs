//! `reload-serving`: how `/healthz` answers while the served configuration reloads.
//!
//! `cargo run --release -p prow-benches --bin reload-serving -- [ROUNDS]` serves a copy of a
//! configuration in-process (the process assembly with deck and the config agent, on the
//! embedded backend), then ROUNDS times (default 10) changes one file so the agent reloads the
//! whole tree, and asks `/healthz` over a fresh connection, one request after another, from
//! the change until the new configuration is published. It prints, per configuration, the
//! median reload time (file written to configuration published) and the p50, p99 and maximum
//! `/healthz` latency during the reloads, against the same figures while idle.
//!
//! Configurations: the whole kubernetes/test-infra tree from the corpus (skipped with a notice
//! when the corpus is absent, failing under `CI=true`), and one generated 20 MB job file.
//! Target (issue "Operable in production"): `/healthz` answers within 100 ms during a reload.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prow_benches::corpus;
use prow_config::ConfigPaths;
use prow_server::process::{BackendOptions, Part, Process, ProcessOptions};

/// Copies the tree under `from` into `to` (files and folders only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("folder entry");
        let kind = entry.file_type().expect("file type");
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// One configuration to serve, copied into a temporary folder, and the file each round
/// changes.
struct Setup {
    name: &'static str,
    paths: ConfigPaths,
    touched: PathBuf,
}

/// The corpus's kubernetes/test-infra configuration, copied under `dir`.
fn k8s_test_infra(corpus: &Path, dir: &Path) -> Setup {
    let k8s = corpus.join("k8s-test-infra/config");
    copy_tree(&k8s.join("jobs"), &dir.join("jobs"));
    std::fs::copy(k8s.join("prow/config.yaml"), dir.join("config.yaml")).expect("copy config");
    std::fs::copy(k8s.join("prow/plugins.yaml"), dir.join("plugins.yaml")).expect("copy plugins");
    Setup {
        name: "kubernetes/test-infra (corpus)",
        paths: ConfigPaths::new(dir.join("config.yaml"), Some(dir.join("jobs")))
            .with_plugin_config(dir.join("plugins.yaml")),
        touched: dir.join("config.yaml"),
    }
}

/// A job config of one 20 MB file (800 repositories of 300 presubmits) under `dir`.
fn big_file(dir: &Path) -> Setup {
    std::fs::create_dir_all(dir.join("jobs")).expect("jobs folder");
    std::fs::write(dir.join("config.yaml"), "prowjob_namespace: default\n").expect("config");
    let mut text = String::from("presubmits:\n");
    for r in 0..800 {
        text.push_str(&format!("  org-{r}/repo:\n"));
        for j in 0..300 {
            text.push_str(&format!(
                "  - name: job-{r}-{j}\n    always_run: true\n    spec: {{containers: [{{image: alpine, command: [\"true\"]}}]}}\n"
            ));
        }
    }
    assert!(text.len() > 20 << 20, "{} bytes", text.len());
    std::fs::write(dir.join("jobs/big.yaml"), text).expect("job file");
    Setup {
        name: "one 20 MB job file",
        paths: ConfigPaths::new(dir.join("config.yaml"), Some(dir.join("jobs"))),
        touched: dir.join("jobs/big.yaml"),
    }
}

/// One `GET /healthz` over a fresh connection: how long until the whole answer is read.
fn healthz(addr: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    assert!(answer.starts_with("HTTP/1."), "{answer}");
    assert!(answer.contains(" 200 "), "{answer}");
    started.elapsed()
}

/// Asks `/healthz` one request after another on a thread of its own until `stop` is set.
fn probe(addr: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<Duration>> {
    std::thread::spawn(move || {
        let mut latencies = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            latencies.push(healthz(addr));
        }
        latencies
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `q` quantile of `values` (sorted in place), nearest rank.
fn quantile(values: &mut [Duration], q: f64) -> Duration {
    values.sort();
    let rank = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

async fn measure(setup: Setup, rounds: usize, data: &Path) {
    let mut options = ProcessOptions::new(setup.paths.clone(), vec![Part::Deck]);
    options.backend = BackendOptions::embedded(data.to_owned());
    options.listen = Some(([127, 0, 0, 1], 0).into());
    let process = Process::build(options).await.expect("process starts");
    let addr = process.local_addr().expect("listening");
    let agent = process.config_agent();
    let mut status = agent.subscribe_status();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(process.run(async {
        let _ = stopped.await;
    }));

    // Idle: as many probes as a reload gets, for comparison.
    let stop_idle = Arc::new(AtomicBool::new(false));
    let idle = probe(addr, stop_idle.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_idle.store(true, Ordering::Relaxed);
    let mut idle = idle.join().expect("idle probe");

    let mut reloads = Vec::new();
    let mut during = Vec::new();
    let original = std::fs::read(&setup.touched).expect("read the touched file");
    for round in 0..rounds {
        let before = status.borrow_and_update().reloads;
        let stop_probe = Arc::new(AtomicBool::new(false));
        let prober = probe(addr, stop_probe.clone());
        let started = Instant::now();
        let mut text = original.clone();
        text.extend_from_slice(format!("\n# reload-serving round {round}\n").as_bytes());
        std::fs::write(&setup.touched, text).expect("change the file");
        loop {
            status.changed().await.expect("agent running");
            let now = status.borrow_and_update().clone();
            assert!(now.errors.is_empty(), "{}: {:?}", setup.name, now.errors);
            if now.reloads > before {
                break;
            }
        }
        reloads.push(started.elapsed());
        stop_probe.store(true, Ordering::Relaxed);
        during.extend(prober.join().expect("probe"));
    }
    stop.send(()).expect("process running");
    running.await.expect("process task").expect("process stops");

    let idle_p99 = quantile(&mut idle, 0.99);
    let idle_p50 = quantile(&mut idle, 0.5);
    println!(
        "{}: reload median {:.0} ms over {rounds} rounds; /healthz during reloads p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} requests); idle p50 {:.2} ms, p99 {:.2} ms",
        setup.name,
        ms(quantile(&mut reloads, 0.5)),
        ms(quantile(&mut during, 0.5)),
        ms(quantile(&mut during, 0.99)),
        ms(*during.iter().max().expect("requests during reloads")),
        during.len(),
        ms(idle_p50),
        ms(idle_p99),
    );
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let tmp = tempfile::tempdir().expect("temp dir");
    match corpus() {
        Some(corpus) => {
            let dir = tmp.path().join("k8s");
            measure(k8s_test_infra(&corpus, &dir), rounds, &dir.join("data")).await;
        }
        None if std::env::var_os("CI").is_some_and(|v| v == "true") => {
            panic!("corpus not found under CI=true (set PROW_CORPUS)")
        }
        None => eprintln!("notice: corpus not found (set PROW_CORPUS); k8s-test-infra skipped"),
    }
    let dir = tmp.path().join("big");
    measure(big_file(&dir), rounds, &dir.join("data")).await;
}
