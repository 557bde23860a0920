//! hook's counters: deliveries by outcome and plugin runs by outcome.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a plugin run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PluginOutcome {
    /// It decided and its actions were carried out.
    Ok,
    /// It failed, or one of its actions did.
    Error,
    /// It panicked; hook carried on.
    Panic,
}

impl PluginOutcome {
    /// The outcome as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginOutcome::Ok => "ok",
            PluginOutcome::Error => "error",
            PluginOutcome::Panic => "panic",
        }
    }
}

/// hook's counters.
#[derive(Debug)]
pub struct Metrics {
    received: AtomicU64,
    rejected: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    overloaded: AtomicU64,
    waited: AtomicU64,
    waiting: tokio::sync::watch::Sender<u64>,
    processed: tokio::sync::watch::Sender<u64>,
    /// Plugin runs by plugin and outcome; built-in plugins' names are borrowed, so that
    /// counting a run allocates nothing.
    plugins: Mutex<BTreeMap<(Cow<'static, str>, PluginOutcome), u64>>,
    events: Mutex<BTreeMap<String, u64>>,
    dropped: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            received: AtomicU64::default(),
            rejected: AtomicU64::default(),
            accepted: AtomicU64::default(),
            duplicates: AtomicU64::default(),
            overloaded: AtomicU64::default(),
            waited: AtomicU64::default(),
            waiting: tokio::sync::watch::Sender::new(0),
            processed: tokio::sync::watch::Sender::new(0),
            plugins: Mutex::default(),
            events: Mutex::default(),
            dropped: Mutex::default(),
        }
    }
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// Requests to the webhook path.
    pub received: u64,
    /// Requests refused (bad signature, headers, payload).
    pub rejected: u64,
    /// Deliveries queued.
    pub accepted: u64,
    /// Redeliveries answered without processing.
    pub duplicates: u64,
    /// Deliveries refused with 503 because the queue was full.
    pub overloaded: u64,
    /// Deliveries that found the queue full and waited for room (then taken or refused).
    pub waited: u64,
    /// Deliveries waiting for room now.
    pub waiting: u64,
    /// Deliveries fully processed.
    pub processed: u64,
    /// Plugin runs by plugin and outcome.
    pub plugins: BTreeMap<(String, PluginOutcome), u64>,
    /// Validated deliveries by GitHub event type (`X-GitHub-Event`), redeliveries included.
    pub events: BTreeMap<String, u64>,
    /// Accepted deliveries whose work could not be done, by reason (`store`: a job could not
    /// be written even after retries).
    pub dropped: BTreeMap<&'static str, u64>,
}

impl Metrics {
    pub(super) fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }
    pub(super) fn overloaded(&self) {
        self.overloaded.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a delivery waiting for room in the queue until the guard is dropped.
    pub(super) fn wait(&self) -> Waiting<'_> {
        self.waited.fetch_add(1, Ordering::Relaxed);
        self.waiting.send_modify(|n| *n += 1);
        Waiting(self)
    }

    /// How many deliveries wait for room in the queue, now and as it changes.
    pub fn subscribe_waiting(&self) -> tokio::sync::watch::Receiver<u64> {
        self.waiting.subscribe()
    }

    pub(super) fn processed(&self) {
        self.processed.send_modify(|n| *n += 1);
    }

    /// Waits until at least `count` deliveries have been processed in all.
    pub async fn wait_processed(&self, count: u64) {
        let mut rx = self.processed.subscribe();
        let _ = rx.wait_for(|n| *n >= count).await;
    }
    pub(super) fn dropped(&self, reason: &'static str) {
        let mut dropped = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
        *dropped.entry(reason).or_default() += 1;
    }

    pub(super) fn plugin(&self, name: &'static str, outcome: PluginOutcome) {
        self.count_plugin(Cow::Borrowed(name), outcome);
    }
    pub(super) fn plugin_external(&self, name: &str, outcome: PluginOutcome) {
        self.count_plugin(Cow::Owned(format!("external:{name}")), outcome);
    }
    fn count_plugin(&self, name: Cow<'static, str>, outcome: PluginOutcome) {
        let mut plugins = self.plugins.lock().unwrap_or_else(|e| e.into_inner());
        let key = (name, outcome);
        match plugins.get_mut(&key) {
            Some(n) => *n += 1,
            None => {
                plugins.insert(key, 1);
            }
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            received: self.received.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            overloaded: self.overloaded.load(Ordering::Relaxed),
            waited: self.waited.load(Ordering::Relaxed),
            waiting: *self.waiting.borrow(),
            processed: *self.processed.borrow(),
            plugins: self
                .plugins
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|((name, outcome), n)| ((name.clone().into_owned(), *outcome), *n))
                .collect(),
            events: self
                .events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            dropped: self
                .dropped
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    pub(super) fn event(&self, event_type: &str) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        match events.get_mut(event_type) {
            Some(n) => *n += 1,
            None => {
                events.insert(event_type.to_owned(), 1);
            }
        }
    }
}

/// A delivery waiting for room in the queue; see [`Metrics::wait`].
pub(super) struct Waiting<'a>(&'a Metrics);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.send_modify(|n| *n -= 1);
    }
}
