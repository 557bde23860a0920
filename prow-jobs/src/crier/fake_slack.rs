//! A fake Slack Web API for tests (feature `test-util`): an HTTP server on 127.0.0.1 that
//! records every request and answers each with one fixed JSON body.

use std::collections::HashMap;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// One request the fake received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Received {
    /// The request path (`/chat.postMessage`).
    pub path: String,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The form fields of the body.
    pub form: HashMap<String, String>,
}

/// Serves until the test's runtime ends, answering `answer` (such as `{"ok":true}`); returns
/// its base URL and the requests as they arrive.
pub async fn serve(answer: &'static str) -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let base = format!(
        "http://{}",
        listener.local_addr().expect("the listener's address")
    );
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = answer_one(stream, answer, &tx).await;
            });
        }
    });
    (base, rx)
}

async fn answer_one(
    stream: tokio::net::TcpStream,
    answer: &str,
    tx: &mpsc::UnboundedSender<Received>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let (mut length, mut content_type) = (0usize, String::new());
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-type" => content_type = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    let _ = tx.send(Received {
        path,
        content_type,
        form: form_decode(&String::from_utf8_lossy(&body)),
    });
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    );
    reader.into_inner().write_all(response.as_bytes()).await
}

/// Decodes `application/x-www-form-urlencoded`.
fn form_decode(body: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                        Ok(b) => out.push(b),
                        Err(_) => out.push(b'%'),
                    }
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}
