//! What the stand-in servers for the issue trackers share (feature `test-util`): serving a
//! router on 127.0.0.1 for the rest of the test's runtime, and their shared state.

use std::sync::{Arc, Mutex, MutexGuard};

/// State a stand-in server and its test share.
#[derive(Debug, Default)]
pub struct Shared<T>(Arc<Mutex<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Shared<T> {
    /// Shares `value`.
    pub fn new(value: T) -> Self {
        Shared(Arc::new(Mutex::new(value)))
    }

    /// The state, to read or change (a test that panicked while holding it leaves it usable).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Serves `answer` over `state` on 127.0.0.1 until the runtime ends; answers the base URL.
pub async fn serve<T, H, M>(state: Shared<T>, answer: H) -> String
where
    T: Send + 'static,
    H: axum::handler::Handler<M, Shared<T>>,
    M: 'static,
{
    let app = axum::Router::new().fallback(answer).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}
