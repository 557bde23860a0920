//! `phony` against a real HTTP server on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;

/// What the server saw: request line, headers (lowercased names) and body.
type Captured = (String, Vec<(String, String)>, Vec<u8>);

/// Accepts one request and returns what it saw after answering 200.
fn capture_one() -> (String, std::thread::JoinHandle<Captured>) {
    let (address, server) = capture(vec![200]);
    (
        address,
        std::thread::spawn(move || server.join().unwrap().remove(0)),
    )
}

/// Accepts one request per status in `statuses`, answering each with it, and returns what it
/// saw, in order.
fn capture(statuses: Vec<u16>) -> (String, std::thread::JoinHandle<Vec<Captured>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        statuses
            .into_iter()
            .map(|status| serve_one(&listener, status))
            .collect()
    });
    (address, handle)
}

fn serve_one(listener: &TcpListener, status: u16) -> Captured {
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
    let reply = if status == 200 {
        "Event received. Have a nice day."
    } else {
        "403 Forbidden: Invalid X-Hub-Signature-256"
    };
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    )
    .unwrap();
    (request_line.trim_end().to_owned(), headers, body)
}

/// The value of header `name` (lowercase) in `headers`.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
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
    let header = |name: &str| header(&headers, name);
    assert_eq!(header("x-github-event"), Some("issue_comment"));
    let delivery = header("x-github-delivery").unwrap();
    assert_eq!(delivery.len(), 36, "{delivery} is not a UUID");
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

#[test]
fn phony_sends_a_folder_by_event_and_fails_if_any_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("webhooks");
    for (folder, file) in [("issue_comment", "created.json"), ("push", "main.json")] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
        std::fs::write(root.join(folder).join(file), format!("{{\"{folder}\": 1}}")).unwrap();
    }
    let (address, server) = capture(vec![200, 403]);
    let out = Command::new(env!("CARGO_BIN_EXE_phony"))
        .args(["--address", &address, "--payload"])
        .arg(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).replace(&*root.to_string_lossy(), "DIR");
    assert_eq!(
        stdout,
        "200 issue_comment DIR/issue_comment/created.json\n403 push DIR/push/main.json\n"
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "phony: 1 of 2 webhooks were refused\n"
    );
    let seen = server.join().unwrap();
    let events: Vec<_> = seen
        .iter()
        .map(|(_, headers, body)| {
            (
                header(headers, "x-github-event").unwrap().to_owned(),
                String::from_utf8(body.clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("issue_comment", "{\"issue_comment\": 1}"),
            ("push", "{\"push\": 1}")
        ]
        .map(|(e, b)| (e.to_owned(), b.to_owned()))
    );
    let deliveries: Vec<_> = seen
        .iter()
        .map(|(_, headers, _)| header(headers, "x-github-delivery").unwrap())
        .collect();
    assert_ne!(deliveries[0], deliveries[1]);
}

#[test]
fn phony_event_flag_overrides_the_folder_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), "{}").unwrap();
    let (address, server) = capture(vec![200]);
    let out = Command::new(env!("CARGO_BIN_EXE_phony"))
        .args(["--address", &address, "--event", "ping", "--payload"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = server.join().unwrap();
    assert_eq!(header(&seen[0].1, "x-github-event"), Some("ping"));
}
