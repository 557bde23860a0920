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

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prow_benches::corpus;

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

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
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
}
