//! The one configuration handle every component of a process reads: a `watch` receiver of the
//! current [`ConfigSnapshot`], published by whoever loads the files (the config agent).

use std::sync::Arc;

use prow_config::ConfigSnapshot;
use tokio::sync::watch;

/// Reads the configuration in force and waits for the next one. Cheap to clone; each clone
/// sees every snapshot published from then on.
#[derive(Debug, Clone)]
pub struct ConfigHandle {
    receiver: watch::Receiver<Arc<ConfigSnapshot>>,
}

impl ConfigHandle {
    /// A handle on what `receiver`'s sender publishes.
    pub fn new(receiver: watch::Receiver<Arc<ConfigSnapshot>>) -> Self {
        ConfigHandle { receiver }
    }

    /// A handle on a configuration that never changes (tests, one-shot tools).
    pub fn fixed(snapshot: impl Into<Arc<ConfigSnapshot>>) -> Self {
        let (_sender, receiver) = watch::channel(snapshot.into());
        ConfigHandle { receiver }
    }

    /// The configuration in force now.
    pub fn current(&self) -> Arc<ConfigSnapshot> {
        self.receiver.borrow().clone()
    }

    /// Waits until a newer configuration than the last one this handle saw is published. A
    /// configuration nobody publishes any more never changes: then this waits forever.
    pub async fn changed(&mut self) {
        if self.receiver.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl From<ConfigSnapshot> for ConfigHandle {
    fn from(snapshot: ConfigSnapshot) -> Self {
        ConfigHandle::fixed(snapshot)
    }
}

impl From<watch::Receiver<Arc<ConfigSnapshot>>> for ConfigHandle {
    fn from(receiver: watch::Receiver<Arc<ConfigSnapshot>>) -> Self {
        ConfigHandle::new(receiver)
    }
}
