//! A smart-HTTP git server on 127.0.0.1 for clonerefs tests: `git http-backend` behind a small
//! HTTP/1.1 front that demands basic auth and a cookie, and records what clients sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// What one request carried.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    /// The request path and query.
    pub(crate) target: String,
    /// The `Authorization` header.
    pub(crate) authorization: Option<String>,
    /// The `Cookie` header.
    pub(crate) cookie: Option<String>,
}

/// A running server; it stops when the test process ends.
pub(crate) struct GitHttpServer {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// Every request, in order.
    pub(crate) seen: Arc<Mutex<Vec<Seen>>>,
}

/// Serves the repositories under `root`, answering 401 to requests without `authorization`.
pub(crate) fn serve(root: PathBuf, authorization: String) -> GitHttpServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (root, authorization, log) = (root.clone(), authorization.clone(), log.clone());
            std::thread::spawn(move || {
                let _ = handle(stream, &root, &authorization, &log);
            });
        }
    });
    GitHttpServer { base, seen }
}

fn handle(
    stream: TcpStream,
    root: &PathBuf,
    authorization: &str,
    log: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_lowercase(), v.trim().to_owned()));
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            read_chunked(&mut reader)?
        } else {
            let length: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            body
        };
        log.lock().unwrap().push(Seen {
            target: target.clone(),
            authorization: header("authorization"),
            cookie: header("cookie"),
        });
        if header("authorization").as_deref() != Some(authorization) {
            write!(
                writer,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\ncontent-length: 0\r\n\r\n"
            )?;
            continue;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut cgi = Command::new("git")
            .arg("http-backend")
            .env("GIT_PROJECT_ROOT", root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("PATH_INFO", path)
            .env("QUERY_STRING", query)
            .env("REQUEST_METHOD", &method)
            .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
            .env("CONTENT_LENGTH", body.len().to_string())
            .env("GIT_PROTOCOL", header("git-protocol").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        cgi.stdin.take().unwrap().write_all(&body)?;
        let output = cgi.wait_with_output()?;
        let split = output
            .stdout
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| {
                output
                    .stdout
                    .windows(2)
                    .position(|w| w == b"\n\n")
                    .map(|i| (i, 2))
            });
        let (head, payload) = match split {
            Some((i, n)) => (
                String::from_utf8_lossy(&output.stdout[..i]).into_owned(),
                &output.stdout[i + n..],
            ),
            None => (String::new(), &output.stdout[..]),
        };
        let mut status = "200 OK".to_owned();
        let mut response_headers = String::new();
        for line in head.lines() {
            match line.split_once(':') {
                Some((k, v)) if k.eq_ignore_ascii_case("status") => status = v.trim().to_owned(),
                Some(_) => response_headers.push_str(&format!("{line}\r\n")),
                None => {}
            }
        }
        write!(
            writer,
            "HTTP/1.1 {status}\r\n{response_headers}content-length: {}\r\n\r\n",
            payload.len()
        )?;
        writer.write_all(payload)?;
        writer.flush()?;
    }
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk)?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}
