//! `hook-load`: hook's throughput over real HTTP, beside a lean axum server that only checks
//! the signature in constant time and reads three fields (the ceiling on this machine).
//!
//! `cargo run --release -p prow-benches --bin hook-load -- [SECONDS] [CONNECTIONS]` starts each
//! server as a child process (this program with `--serve hook|bare PORT`), drives it with
//! CONNECTIONS keep-alive connections for SECONDS, each posting a signed 15 KB `issue_comment`
//! (`/lgtm` on a pull request) as fast as answers come, and prints requests per second,
//! latency percentiles and the server's peak RSS. hook runs every plugin but rifle
//! against the in-memory GitHub and an in-memory job store.
//!
//! With `--wrk [--runs N]` it measures the way the peers in issue #10 were measured instead:
//! `wrk -t2 -cCONNECTIONS -dSECONDS` (Debian's `wrk`), every plugin but rifle enabled, medians of N
//! runs alternating the two servers, hook's own count of what it accepted and processed, and
//! each server's CPU time per request (user and system, read from `/proc` once hook has
//! processed everything it accepted): wrk shares the two cores, so this is the figure that
//! says what hook's work costs beside the bare server's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

const SECRET: &[u8] = b"load-test-secret";
const PAYLOAD: &str =
    include_str!("../../../prow-server/tests/data/webhooks/issue_comment.created.json");
const CONFIG: &str = "presubmits:\n  Codertocat/Hello-World:\n  - name: unit\n    always_run: true\n    spec: {containers: [{image: alpine, command: [\"true\"]}]}\n";

fn payload() -> Vec<u8> {
    let mut doc: serde_json::Value = serde_json::from_str(PAYLOAD).expect("payload");
    doc["issue"]["pull_request"] =
        serde_json::json!({"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"});
    // Pad to the size of a busy real comment (the peers' 15.5 KB).
    doc["comment"]["body"] = format!("/lgtm\n\n{}", "Looks good to me. ".repeat(100)).into();
    serde_json::to_vec(&doc).expect("json")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        let kind = args.get(2).cloned().unwrap_or_default();
        let port: u16 = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(0);
        serve(&kind, port);
        return;
    }
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(15);
    let connections: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    if args.iter().any(|a| a == "--wrk") {
        let runs: usize = args
            .iter()
            .position(|a| a == "--runs")
            .and_then(|i| args.get(i + 1))
            .and_then(|r| r.parse().ok())
            .unwrap_or(3);
        with_wrk(seconds, connections, runs);
        return;
    }
    for kind in ["bare", "hook"] {
        drive(kind, Duration::from_secs(seconds), connections);
    }
}

/// Every plugin `plugins:` may list (Prow's 53), enabled for the load's repository, except
/// rifle: checkconfig refuses it beside blunderbuss, as Prow does. The external plugins are
/// Prow's services of their own, not listed here.
///
/// `HOOK_LOAD_LEAVE_OUT=a,b` leaves those plugins out too, to measure what they cost in one run.
fn plugins_yaml() -> String {
    let left_out: Vec<String> = std::env::var("HOOK_LOAD_LEAVE_OUT")
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    let names: Vec<&str> = prow_config::plugins::KNOWN_PLUGINS
        .iter()
        .copied()
        .filter(|name| *name != "rifle" && !left_out.iter().any(|l| l == name))
        .collect();
    format!(
        "plugins:\n  Codertocat/Hello-World:\n    plugins: [{}]\n",
        names.join(", ")
    )
}

fn serve(kind: &str, port: u16) {
    // `HOOK_LOAD_LOG=warn` (any tracing filter) shows what the server logs, to see why a
    // plugin fails under the load.
    if let Ok(filter) = std::env::var("HOOK_LOAD_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    let workers = std::env::var("HOOK_LOAD_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        if kind == "bare" {
            println!("ready");
            axum::serve(listener, bare()).await.expect("serve");
            return;
        }
        let secrets = prow_github::HmacSecrets::parse(SECRET);
        let router = {
            let hook = hook(secrets);
            let metrics = hook.metrics();
            // What hook did with the load, for the driver to print before it stops the server.
            hook.router().route(
                "/load-stats",
                axum::routing::get(move || {
                    let s = metrics.snapshot();
                    let dispatched: u64 = s.plugins.values().sum();
                    // Plugins that did not end well, which would make the load unfair.
                    let failed: Vec<String> = s
                        .plugins
                        .iter()
                        .filter(|((_, outcome), _)| {
                            *outcome != prow_server::hook::PluginOutcome::Ok
                        })
                        .map(|((name, outcome), n)| format!("{name} {outcome:?} {n}"))
                        .collect();
                    async move {
                        format!(
                            "accepted {} processed {} overloaded {} plugin calls {} not ok [{}]",
                            s.accepted,
                            s.processed,
                            s.overloaded,
                            dispatched,
                            failed.join(", ")
                        )
                    }
                }),
            )
        };
        println!("ready");
        prow_server::serve::serve(listener, router, std::future::pending())
            .await
            .expect("serve");
    });
}

/// The ceiling: a lean axum server doing the least any webhook receiver must — the body's
/// HMAC-SHA256 checked in constant time against one secret, then three fields read without
/// building a JSON tree — served by `axum::serve` as a small axum service would be.
fn bare() -> axum::Router {
    use axum::http::{HeaderMap, StatusCode};
    use hmac::{Hmac, Mac};
    use std::borrow::Cow;

    #[derive(serde::Deserialize)]
    struct Three<'a> {
        #[serde(borrow)]
        action: Cow<'a, str>,
        #[serde(borrow)]
        comment: Comment<'a>,
        #[serde(borrow)]
        repository: Repository<'a>,
    }
    #[derive(serde::Deserialize)]
    struct Comment<'a> {
        #[serde(borrow)]
        body: Cow<'a, str>,
    }
    #[derive(serde::Deserialize)]
    struct Repository<'a> {
        #[serde(borrow)]
        full_name: Cow<'a, str>,
    }

    let key = Hmac::<sha2::Sha256>::new_from_slice(SECRET).expect("any key length");
    axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let mut mac = key.clone();
            async move {
                let signature = headers
                    .get("X-Hub-Signature-256")
                    .and_then(|v| v.as_bytes().strip_prefix(b"sha256="))
                    .and_then(|hex| hex::decode(hex).ok());
                mac.update(&body);
                // `verify_slice` compares in constant time.
                if signature.is_none_or(|s| mac.verify_slice(&s).is_err()) {
                    return (StatusCode::FORBIDDEN, "bad signature");
                }
                match serde_json::from_slice::<Three<'_>>(&body) {
                    Ok(t)
                        if !t.action.is_empty()
                            && !t.comment.body.is_empty()
                            && !t.repository.full_name.is_empty() =>
                    {
                        (StatusCode::OK, "Event received. Have a nice day.")
                    }
                    _ => (StatusCode::BAD_REQUEST, "bad payload"),
                }
            }
        }),
    )
}

fn hook(secrets: prow_github::HmacSecrets) -> prow_server::hook::Hook {
    let tmp = std::env::temp_dir().join(format!("hook-load-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    std::fs::write(tmp.join("config.yaml"), CONFIG).expect("config");
    std::fs::write(tmp.join("plugins.yaml"), plugins_yaml()).expect("plugins");
    let (snapshot, _) = prow_config::load_snapshot(
        &prow_config::ConfigPaths::new(tmp.join("config.yaml"), None)
            .with_plugin_config(tmp.join("plugins.yaml")),
    )
    .expect("config and plugins load");
    let github = Arc::new(prow_github::fake::FakeGitHub::new("ci-robot"));
    let pr: prow_github::types::PullRequest = serde_json::from_value(serde_json::json!({
        "number": 1, "state": "open", "user": {"login": "Codertocat"},
        "head": {"ref": "x", "sha": "abc"}, "base": {"ref": "master", "sha": "def"},
    }))
    .expect("pr");
    github.add_pull_request("Codertocat", "Hello-World", pr);
    // No request budget: once the fake's 5,000 were spent, lgtm failed at its first call and
    // skipped the rest of its work on four events in five.
    github.state().rate_limit.limit = 0;
    let store = Arc::new(prow_jobs::store::SqliteStore::in_memory().expect("store"));
    let mut options = prow_server::hook::Options::default();
    // Plugins decide and their actions are only logged: the fake GitHub's state stays put.
    options.dry_run = true;
    // `HOOK_LOAD_QUEUE_BYTES=N` tries another budget for the events waiting for a worker.
    if let Some(bytes) = std::env::var("HOOK_LOAD_QUEUE_BYTES")
        .ok()
        .and_then(|b| b.parse().ok())
    {
        options.queue_bytes = bytes;
    }
    let deps = prow_server::hook::Deps::new(github, store, "ci-robot", secrets, snapshot);
    prow_server::hook::Hook::start(options, deps)
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A server child process on a free port, started with `--serve kind`.
fn start_server(kind: &str) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let mut child = std::process::Command::new(std::env::current_exe().expect("self"))
        .args(["--serve", kind, &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server starts");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut ready,
    )
    .expect("ready line");
    (child, port)
}

/// One wrk run's figures.
#[derive(Debug, Clone, Copy, Default)]
struct WrkRun {
    requests_per_second: f64,
    p99_ms: f64,
    non_2xx: u64,
    rss_mb: f64,
    /// The server's CPU time (user and system, every thread) per request answered, counted
    /// after hook has processed every accepted event.
    cpu_us_per_request: f64,
}

/// The issue's measurement: `wrk -t2 -cCONNECTIONS -dSECONDS` against each server, RUNS times
/// alternating bare and hook, every request a distinct delivery (so hook's redelivery filter
/// never short-cuts one), then the medians side by side.
fn with_wrk(seconds: u64, connections: usize, runs: usize) {
    let dir = std::env::temp_dir().join(format!("hook-load-wrk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let body = payload();
    let signature = prow_github::sign(&body, SECRET);
    std::fs::write(dir.join("payload.json"), &body).expect("payload");
    let script = format!(
        r#"wrk.method = "POST"
local f = assert(io.open("{payload}", "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "issue_comment"
wrk.headers["X-Hub-Signature-256"] = "{signature}"
local next_thread = 0
function setup(thread)
  thread:set("id", next_thread)
  next_thread = next_thread + 1
end
local n = 0
function request()
  n = n + 1
  wrk.headers["X-GitHub-Delivery"] = id .. "-" .. n
  return wrk.format()
end
"#,
        payload = dir.join("payload.json").display(),
    );
    std::fs::write(dir.join("load.lua"), script).expect("script");
    println!(
        "payload {} bytes; wrk -t2 -c{connections} -d{seconds}s, {runs} runs each",
        body.len()
    );
    let mut results: std::collections::BTreeMap<&str, Vec<WrkRun>> = Default::default();
    for run in 0..runs {
        for kind in ["bare", "hook"] {
            let (mut child, port) = start_server(kind);
            let output = std::process::Command::new("wrk")
                .args([
                    "-t2",
                    &format!("-c{connections}"),
                    &format!("-d{seconds}s"),
                    "--latency",
                    "-s",
                ])
                .arg(dir.join("load.lua"))
                .arg(format!("http://127.0.0.1:{port}/hook"))
                .output()
                .expect("wrk runs (apt-get install wrk)");
            let rss_mb = peak_rss_kb(child.id()) as f64 / 1024.0;
            if kind == "hook" {
                println!("       hook: {}", hook_stats_when_drained(port));
            }
            let cpu_seconds = cpu_seconds(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let text = String::from_utf8_lossy(&output.stdout);
            let figures = parse_wrk(&text, rss_mb, cpu_seconds);
            println!(
                "run {}: {kind:>4}: {:>8.0} req/s, p99 {:.2} ms, non-2xx {}, peak RSS {:.1} MB, server CPU {:.1} us/request",
                run + 1,
                figures.requests_per_second,
                figures.p99_ms,
                figures.non_2xx,
                figures.rss_mb,
                figures.cpu_us_per_request
            );
            results.entry(kind).or_default().push(figures);
        }
    }
    let median = |values: Vec<f64>| {
        let mut v = values;
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let mut medians = std::collections::BTreeMap::new();
    for (kind, runs) in &results {
        let m = WrkRun {
            requests_per_second: median(runs.iter().map(|r| r.requests_per_second).collect()),
            p99_ms: median(runs.iter().map(|r| r.p99_ms).collect()),
            non_2xx: runs.iter().map(|r| r.non_2xx).sum(),
            rss_mb: median(runs.iter().map(|r| r.rss_mb).collect()),
            cpu_us_per_request: median(runs.iter().map(|r| r.cpu_us_per_request).collect()),
        };
        println!(
            "median {kind:>4}: {:>8.0} req/s, p99 {:.2} ms, peak RSS {:.1} MB, non-2xx in all runs {}, server CPU {:.1} us/request",
            m.requests_per_second, m.p99_ms, m.rss_mb, m.non_2xx, m.cpu_us_per_request
        );
        medians.insert(*kind, m);
    }
    if let (Some(hook), Some(bare)) = (medians.get("hook"), medians.get("bare")) {
        println!(
            "hook / bare throughput: {:.2}",
            hook.requests_per_second / bare.requests_per_second.max(1.0)
        );
        println!(
            "server CPU per request, hook / bare: {:.2} (wrk shares the same two cores)",
            hook.cpu_us_per_request / bare.cpu_us_per_request.max(f64::MIN_POSITIVE)
        );
    }
}

/// The CPU time a process has used, user and system, from `/proc/PID/stat` (in clock ticks of
/// Linux's fixed 100 Hz `USER_HZ`).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// hook's counters once every accepted event is processed (or after 30 s).
fn hook_stats_when_drained(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = std::process::Command::new("curl")
            .args(["-s", &format!("http://127.0.0.1:{port}/load-stats")])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let words: Vec<&str> = stats.split_whitespace().collect();
        let drained = words.get(1).is_some_and(|a| words.get(3) == Some(a));
        if drained || Instant::now() > deadline {
            return stats;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Requests per second, the 99th percentile and non-2xx answers from wrk's `--latency` report.
fn parse_wrk(text: &str, rss_mb: f64, cpu_seconds: f64) -> WrkRun {
    let mut run = WrkRun {
        rss_mb,
        ..WrkRun::default()
    };
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [requests, "requests", "in", ..] => {
                let requests: f64 = requests.parse().unwrap_or(0.0);
                run.cpu_us_per_request = cpu_seconds * 1e6 / requests.max(1.0);
            }
            ["Requests/sec:", value] => run.requests_per_second = value.parse().unwrap_or(0.0),
            ["99%", value] => run.p99_ms = wrk_millis(value),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.non_2xx = n.parse().unwrap_or(0),
            _ => {}
        }
    }
    run
}

/// wrk's durations (`812.00us`, `4.20ms`, `1.02s`) in milliseconds.
fn wrk_millis(value: &str) -> f64 {
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().unwrap_or(0.0);
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => number,
    }
}

fn drive(kind: &str, duration: Duration, connections: usize) {
    let (mut child, port) = start_server(kind);
    let body = Bytes::from(payload());
    let signature = prow_github::sign(&body, SECRET);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (count, non_200, mut latencies) = rt.block_on(async {
        let deadline = Instant::now() + duration;
        let mut tasks = Vec::new();
        for c in 0..connections {
            let body = body.clone();
            let signature = signature.clone();
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .expect("connect");
                let io = hyper_util::rt::TokioIo::new(stream);
                let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
                    .await
                    .expect("handshake");
                tokio::spawn(conn);
                let mut latencies = Vec::new();
                let mut non_200 = 0u64;
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let request = hyper::Request::post("/hook")
                        .header("host", "127.0.0.1")
                        .header("X-GitHub-Event", "issue_comment")
                        .header("X-GitHub-Delivery", format!("{c}-{i}"))
                        .header("X-Hub-Signature-256", &signature)
                        .header("content-type", "application/json")
                        .body(Full::new(body.clone()))
                        .expect("request");
                    let started = Instant::now();
                    let response = sender.send_request(request).await.expect("response");
                    let status = response.status();
                    let _ = response.into_body().collect().await;
                    latencies.push(started.elapsed().as_micros() as u32);
                    if status != 200 {
                        non_200 += 1;
                    }
                    i += 1;
                }
                (latencies, non_200)
            }));
        }
        let mut all = Vec::new();
        let mut non_200 = 0;
        for task in tasks {
            let (l, n) = task.await.expect("task");
            all.extend(l);
            non_200 += n;
        }
        (all.len() as u64, non_200, all)
    });
    let rss = peak_rss_kb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    println!(
        "{kind:>4}: {:>8.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-200 {non_200}, server peak RSS {:.1} MB ({connections} connections, {}s)",
        count as f64 / duration.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        rss as f64 / 1024.0,
        duration.as_secs(),
    );
}
