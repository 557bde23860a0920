//! Serving a router: `axum::serve` with each connection's read buffer bounded, every request
//! answered within a deadline, and a graceful stop.
//!
//! A request must be read and its answer started within [`REQUEST_TIMEOUT`]; a client that
//! trickles its body is answered `408 Request Timeout` and its connection closed, so it can
//! neither pin a worker nor hold a graceful stop open. Responses that stream (deck's live log)
//! only have to start within the deadline.
//!
//! hyper grows a connection's read buffer while reads keep filling it, up to about 400 KB by
//! default. Webhook deliveries are tens of kilobytes each, so under load every keep-alive
//! connection ends up holding a buffer several times a delivery's size for as long as it stays
//! open: with 50 connections that was most of hook's heap. Capping it at [`READ_BUFFER_BYTES`]
//! costs nothing but a few more reads per large body, because hyper streams a body larger than
//! the buffer; only request heads must fit.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// The most a connection buffers while reading: request line and headers must fit in it
/// (a larger head is answered with 431), bodies stream through it.
pub const READ_BUFFER_BYTES: usize = 16 * 1024;

/// How long a client may take to send a request head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request may take from its head to the start of its answer, body read included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and waits
/// for the requests in flight to be answered.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, REQUEST_TIMEOUT).await
}

/// [`serve`] with another request deadline.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
    request_timeout: Duration,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .max_buf_size(READ_BUFFER_BYTES)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let router = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(request_timeout, next.run(request)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::info!(
                        component = "serve",
                        "a request was not read and answered within {request_timeout:?}; answered 408"
                    );
                    let mut response = axum::response::IntoResponse::into_response((
                        axum::http::StatusCode::REQUEST_TIMEOUT,
                        "408 Request Timeout",
                    ));
                    response.headers_mut().insert(
                        axum::http::header::CONNECTION,
                        axum::http::HeaderValue::from_static("close"),
                    );
                    response
                }
            }
        },
    ));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning, as
                    // axum::serve does.
                    tracing::error!(target: "serve", "accept: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(target: "serve", "connection: {e}");
            }
        });
    }
    drop(listener);
    // Connections still open are asked to close after their current request; requests are
    // bounded by the deadline, so this ends, and the process's grace period bounds it too.
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}
