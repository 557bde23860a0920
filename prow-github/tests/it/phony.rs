//! phony against a real HTTP server on 127.0.0.1 that validates like hook.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use prow_github::phony::{deliver, payload_files};
use prow_github::webhook::ACCEPTED;
use prow_github::{HmacSecrets, validate_webhook};

use crate::support::fixture;

/// Serves one request on 127.0.0.1: validates it as hook would and answers accordingly.
fn one_shot_hook(
    secret: &'static [u8],
) -> (String, std::thread::JoinHandle<Option<(String, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let method = request_line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_lowercase(), v.trim().to_owned()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let secrets = HmacSecrets::parse(secret);
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| *k == name.to_lowercase())
                .map(|(_, v)| v.as_str())
        };
        let (status, text, delivery) = match validate_webhook(&method, lookup, &body, &secrets) {
            Ok(d) => (200, ACCEPTED.to_owned(), Some((d.event, d.guid))),
            Err(r) => (r.status(), r.to_string(), None),
        };
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
            text.len()
        )
        .unwrap();
        delivery
    });
    (address, handle)
}

#[tokio::test]
async fn phony_sends_a_signed_webhook_hook_accepts() {
    let (address, server) = one_shot_hook(b"abcde12345");
    let payload = fixture("webhooks/push-to-master.json");
    let body = prow_github::phony::send(&address, "push", &payload, b"abcde12345")
        .await
        .unwrap();
    assert_eq!(body, ACCEPTED);
    let (event, guid) = server.join().unwrap().expect("hook accepted the delivery");
    assert_eq!(event, "push");
    assert!(uuid::Uuid::parse_str(&guid).is_ok(), "{guid} is not a UUID");
}

#[tokio::test]
async fn every_delivery_has_a_fresh_id() {
    let client = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (address, server) = one_shot_hook(b"abcde12345");
        let reply = deliver(&client, &address, "ping", b"{}", b"abcde12345")
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        let (_, guid) = server.join().unwrap().unwrap();
        assert_eq!(guid, reply.delivery);
        seen.push(guid);
    }
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test]
async fn deliver_returns_a_refusal_as_a_reply() {
    let (address, server) = one_shot_hook(b"the-real-secret");
    let reply = deliver(&reqwest::Client::new(), &address, "ping", b"{}", b"wrong")
        .await
        .unwrap();
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .body
            .starts_with("403 Forbidden: Invalid X-Hub-Signature-256")
    );
    assert_eq!(server.join().unwrap(), None);
}

#[test]
fn payload_files_take_their_event_from_their_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pull_request");
    std::fs::create_dir_all(root.join("issue_comment")).unwrap();
    for file in [
        "pull_request/opened.json",
        "pull_request/closed.json",
        "pull_request/issue_comment/created.json",
    ] {
        std::fs::write(dir.path().join(file), "{}").unwrap();
    }
    let found: Vec<(String, String)> = payload_files(&root)
        .unwrap()
        .into_iter()
        .map(|f| {
            let relative = f.path.strip_prefix(dir.path()).unwrap();
            (f.event, relative.to_string_lossy().into_owned())
        })
        .collect();
    assert_eq!(
        found,
        [
            ("pull_request", "pull_request/closed.json"),
            ("issue_comment", "pull_request/issue_comment/created.json"),
            ("pull_request", "pull_request/opened.json"),
        ]
        .map(|(e, p)| (e.to_owned(), p.to_owned()))
    );
}

#[test]
fn payload_files_of_a_missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(payload_files(&dir.path().join("absent")).is_err());
}

#[tokio::test]
async fn phony_reports_a_refusal_with_its_body() {
    let (address, server) = one_shot_hook(b"the-real-secret");
    let err = prow_github::phony::send(&address, "ping", b"{}", b"abcde12345")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "response from hook has status 403 and body 403 Forbidden: Invalid X-Hub-Signature-256 - misconfigured webhook secret from organization/repo: "
    );
    assert_eq!(server.join().unwrap(), None);
}
