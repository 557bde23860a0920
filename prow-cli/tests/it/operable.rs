//! `prow hook` as an operator runs it: an unsigned body built to expand costs no more memory
//! than its own bytes, and a plugin's error reaches the log as one of Prow's JSON lines.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::demo_support::{demo, free_port, on_the_demo, wait_for};

/// How long a started server may take to listen.
const START: Duration = Duration::from_secs(60);

/// `prow hook` on the demo, its standard error piped.
fn hook(data: &std::path::Path, port: u16, extra: &[&str]) -> Child {
    let child = on_the_demo("hook", data, port)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("hook to listen", START, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    child
}

/// The most memory the process has held, in bytes (`VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number");
    kb * 1024
}

/// Stops `child` with SIGTERM and returns what it wrote to standard error.
fn stop(mut child: Child) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .as_mut()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(exit.success(), "{stderr}");
    stderr
}

/// Posts `body` to hook as an `issue_comment` delivery with a signature that is wrong.
fn post_unsigned(port: u16, body: Vec<u8>) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/hook"))
            .header("X-GitHub-Event", "issue_comment")
            .header("X-GitHub-Delivery", "unsigned-1")
            .header("X-Hub-Signature-256", format!("sha256={}", "0".repeat(64)))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

#[test]
fn an_unsigned_expanding_body_costs_no_more_memory_than_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = hook(&tmp.path().join("data"), port, &[]);
    // Warm up the server's own buffers with a small refused delivery.
    assert_eq!(post_unsigned(port, b"{}".to_vec()), 403);
    let before = peak_rss(child.id());
    // 24 MB of empty label objects: each is 3 bytes on the wire and a full label when parsed.
    let mut body = b"{\"issue\":{\"labels\":[".to_vec();
    while body.len() < 24 << 20 {
        body.extend_from_slice(b"{},");
    }
    body.extend_from_slice(b"{}]}}");
    let size = body.len() as u64;
    assert_eq!(post_unsigned(port, body), 403);
    let grown = peak_rss(child.id()).saturating_sub(before);
    stop(child);
    // The body is held while it is read and checked; parsing it would cost many times more.
    assert!(
        grown < 4 * size,
        "peak memory grew by {grown} bytes for a {size}-byte unsigned body"
    );
}

#[test]
fn a_plugin_error_is_logged_as_one_json_line_with_prows_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = hook(
        &tmp.path().join("data"),
        port,
        &["--log-format", "json", "--log-level", "info"],
    );
    // The demo's `/test all`, on a pull request the fake GitHub does not have.
    let text = std::fs::read_to_string(demo().join("payloads/test-comment.json")).unwrap();
    let mut payload: serde_json::Value = serde_json::from_str(&text).unwrap();
    payload["issue"]["number"] = 999.into();
    let file = tmp.path().join("missing-pr.json");
    std::fs::write(&file, serde_json::to_vec(&payload).unwrap()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_phony"))
        .args([
            "--address",
            &format!("http://127.0.0.1:{port}/hook"),
            "--hmac",
            "demo-secret-change-me",
            "--event",
            "issue_comment",
            "--payload",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metrics = || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    };
    wait_for("the plugin error to be counted", START, || {
        let samples = prow_server::metrics::parse_text(&metrics()).unwrap();
        samples.value(
            "prow_plugin_handled_total",
            &[("plugin", "trigger"), ("outcome", "error")],
        ) >= 1.0
    });
    let stderr = stop(child);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let errors: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["level"] == "error" && l["plugin"] == "trigger")
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    let error = errors[0];
    assert_eq!(error["component"], "hook", "{error}");
    assert_eq!(error["event-type"], "issue_comment", "{error}");
    assert_eq!(error["org"], "prow-demo", "{error}");
    assert_eq!(error["repo"], "hello", "{error}");
    assert_eq!(error["pr"], 999, "{error}");
    assert!(
        error["event-GUID"].as_str().is_some_and(|g| !g.is_empty()),
        "{error}"
    );
    assert!(error["msg"].as_str().unwrap().contains("999"), "{error}");
    assert!(error["time"].as_str().is_some(), "{error}");
}
