//! `hook-load`: hook's throughput over real HTTP, beside a bare axum server that only checks
//! the signature and reads three fields (the ceiling on this machine).
//!
//! `cargo run --release -p prow-benches --bin hook-load -- [SECONDS] [CONNECTIONS]` starts each
//! server as a child process (this program with `--serve hook|bare PORT`), drives it with
//! CONNECTIONS keep-alive connections for SECONDS, each posting a signed 15 KB `issue_comment`
//! (`/lgtm` on a pull request) as fast as answers come, and prints requests per second,
//! latency percentiles and the server's peak RSS. hook runs every plugin (trigger, lgtm, hold)
//! against the in-memory GitHub and an in-memory job store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

const SECRET: &[u8] = b"load-test-secret";
const PAYLOAD: &str =
    include_str!("../../../prow-server/tests/data/webhooks/issue_comment.created.json");
const CONFIG: &str = "presubmits:\n  Codertocat/Hello-World:\n  - name: unit\n    always_run: true\n    spec: {containers: [{image: alpine, command: [\"true\"]}]}\n";
const PLUGINS: &str = "plugins:\n  Codertocat/Hello-World:\n    plugins: [trigger, lgtm, hold]\n";

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
    for kind in ["bare", "hook"] {
        drive(kind, Duration::from_secs(seconds), connections);
    }
}

fn serve(kind: &str, port: u16) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let secrets = prow_github::HmacSecrets::parse(SECRET);
        let router = if kind == "bare" {
            bare(secrets)
        } else {
            hook(secrets).router()
        };
        println!("ready");
        axum::serve(listener, router).await.expect("serve");
    });
}

/// The ceiling: checks the signature and reads three fields, nothing else.
fn bare(secrets: prow_github::HmacSecrets) -> axum::Router {
    use axum::http::HeaderMap;
    let secrets = Arc::new(secrets);
    axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let secrets = secrets.clone();
            async move {
                let signature = headers
                    .get("X-Hub-Signature-256")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if prow_github::validate_payload(&body, signature, &secrets).is_err() {
                    return (axum::http::StatusCode::FORBIDDEN, "bad");
                }
                #[derive(serde::Deserialize)]
                struct Three {
                    action: String,
                    comment: serde_json::Value,
                    repository: serde_json::Value,
                }
                match serde_json::from_slice::<Three>(&body) {
                    Ok(t)
                        if !t.action.is_empty()
                            && t.comment.is_object()
                            && t.repository.is_object() =>
                    {
                        (
                            axum::http::StatusCode::OK,
                            "Event received. Have a nice day.",
                        )
                    }
                    _ => (axum::http::StatusCode::BAD_REQUEST, "bad"),
                }
            }
        }),
    )
}

fn hook(secrets: prow_github::HmacSecrets) -> prow_server::hook::Hook {
    let tmp = std::env::temp_dir().join(format!("hook-load-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    std::fs::write(tmp.join("config.yaml"), CONFIG).expect("config");
    std::fs::write(tmp.join("plugins.yaml"), PLUGINS).expect("plugins");
    let config = prow_config::load(&prow_config::LoadOptions::new(
        tmp.join("config.yaml"),
        None,
    ))
    .expect("config loads");
    let (plugins, _) = prow_config::plugins::load_plugins(
        &prow_config::plugins::PluginLoadOptions::new(tmp.join("plugins.yaml")),
    )
    .expect("plugins load");
    let github = Arc::new(prow_github::fake::FakeGitHub::new("ci-robot"));
    let pr: prow_github::types::PullRequest = serde_json::from_value(serde_json::json!({
        "number": 1, "state": "open", "user": {"login": "Codertocat"},
        "head": {"ref": "x", "sha": "abc"}, "base": {"ref": "master", "sha": "def"},
    }))
    .expect("pr");
    github.add_pull_request("Codertocat", "Hello-World", pr);
    let store = Arc::new(prow_jobs::store::SqliteStore::in_memory().expect("store"));
    let mut options = prow_server::hook::Options::default();
    options.queue_capacity = 4096;
    options.dedup_capacity = 4096;
    // Plugins decide and their actions are only logged: the fake GitHub's state stays put.
    options.dry_run = true;
    let deps = prow_server::hook::Deps::new(
        github,
        store,
        "ci-robot",
        secrets,
        prow_server::hook::HookConfig::new(config, plugins),
    );
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

fn drive(kind: &str, duration: Duration, connections: usize) {
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
