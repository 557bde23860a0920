//! `phony` against a real HTTP server on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;

/// What the server saw: request line, headers (lowercased names) and body.
type Captured = (String, Vec<(String, String)>, Vec<u8>);

/// Accepts one request and returns what it saw after answering 200.
fn capture_one() -> (String, std::thread::JoinHandle<Captured>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                break;
            }
            let (k, v) = line.split_once(':').unwrap();
            headers.push((k.trim().to_lowercase(), v.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let reply = "Event received. Have a nice day.";
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
        (request_line.trim_end().to_owned(), headers, body)
    });
    (address, handle)
}

#[test]
fn phony_posts_a_signed_payload_with_githubs_headers() {
    let payload = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../prow-github/tests/data/webhooks/issue-comment-lgtm.json");
    let (address, server) = capture_one();
    let out = Command::new(env!("CARGO_BIN_EXE_phony"))
        .args([
            "--address",
            &address,
            "--hmac",
            "s3cret",
            "--event",
            "issue_comment",
            "--payload",
        ])
        .arg(&payload)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (request_line, headers, body) = server.join().unwrap();
    assert_eq!(request_line, "POST /hook HTTP/1.1");
    assert_eq!(body, std::fs::read(&payload).unwrap());
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-github-event"), Some("issue_comment"));
    assert_eq!(header("x-github-delivery"), Some("GUID"));
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(
        header("x-hub-signature-256").map(str::to_owned),
        Some(prow_github::sign(&body, b"s3cret"))
    );
}

#[test]
fn phony_fails_when_nothing_listens() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    let out = Command::new(env!("CARGO_BIN_EXE_phony"))
        .args(["--address", &address])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("phony: send webhook to http://127.0.0.1:")
    );
}
