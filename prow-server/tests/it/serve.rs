//! `prow_server::serve::serve`: bodies larger than the bounded read buffer arrive whole, a
//! request head larger than it is refused, and a stop lets the request in flight finish.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use prow_server::serve::{READ_BUFFER_BYTES, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

/// Sends `request` on a new connection and reads the answer until the server closes it.
async fn exchange(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn echo_length() -> Router {
    Router::new().route(
        "/len",
        post(|body: Bytes| async move { body.len().to_string() }),
    )
}

async fn start(router: Router) -> (u16, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve(listener, router, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (port, stop, server)
}

#[tokio::test]
async fn a_body_many_times_the_read_buffer_arrives_whole() {
    let (port, stop, server) = start(echo_length()).await;
    let body = vec![b'x'; 40 * READ_BUFFER_BYTES + 7];
    let mut request = format!(
        "POST /len HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let answer = exchange(port, &request).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(&format!("\r\n\r\n{}", body.len())),
        "{answer}"
    );
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn a_request_head_larger_than_the_read_buffer_is_refused_with_431() {
    let (port, stop, server) = start(echo_length()).await;
    let big = "v".repeat(READ_BUFFER_BYTES + 1);
    let request = format!(
        "POST /len HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let answer = exchange(port, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    // A head that fits is served on the same server.
    let fits = "v".repeat(READ_BUFFER_BYTES / 2);
    let request = format!(
        "POST /len HTTP/1.1\r\nHost: x\r\nX-Big: {fits}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab"
    );
    let answer = exchange(port, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n2"), "{answer}");
    stop.send(()).unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn a_stop_refuses_new_connections_and_lets_the_request_in_flight_finish() {
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let router = echo_length().route(
        "/slow",
        post({
            let (entered, release) = (entered.clone(), release.clone());
            move || async move {
                entered.notify_one();
                release.notified().await;
                "finished"
            }
        }),
    );
    let (port, stop, server) = start(router).await;
    let in_flight = tokio::spawn(exchange(
        port,
        b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    ));
    entered.notified().await;
    stop.send(()).unwrap();
    // Connections may still be served until the stop is seen; after it, they are refused
    // (or reset unanswered) while the request being handled keeps going.
    while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        tokio::task::yield_now().await;
    }
    assert!(
        !server.is_finished(),
        "serve returned with a request in flight"
    );
    release.notify_one();
    let answer = in_flight.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("finished"), "{answer}");
    server.await.unwrap();
}
