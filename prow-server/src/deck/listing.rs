//! `/prowjobs.js` bodies kept until the store changes: each is built once per store version
//! (and request filters and hidden repos), then served as it is.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::Bytes;

/// How many `/prowjobs.js` variants (by filters, omitted fields and hidden repos) are kept.
const KEPT: usize = 4;

/// How many bytes of bodies are kept at most, beyond the newest one (kept whatever its size):
/// the full list of 10,000 upstream-sized jobs is about 25 MB.
const KEPT_BYTES: usize = 32 << 20;

/// The kept bodies, and a lock that lets one request build a missing body while the others
/// wait for it instead of building it too.
#[derive(Debug, Default)]
pub(super) struct BodyCache {
    entries: Mutex<VecDeque<Entry>>,
    pub(super) building: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Entry {
    version: u64,
    key: String,
    body: Bytes,
}

impl BodyCache {
    /// The body kept for `key`, when it was built at store version `version` or later.
    ///
    /// A body is labelled with the version read before its jobs were listed, so it holds at
    /// least every change up to that version.
    pub(super) fn get(&self, version: u64, key: &str) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .iter()
            .find(|e| e.key == key && e.version >= version)
            .map(|e| e.body.clone())
    }

    /// Keeps `body` for `key` as built at `version`, dropping bodies of older versions and
    /// the oldest beyond [`KEPT`] bodies or [`KEPT_BYTES`].
    pub(super) fn put(&self, version: u64, key: String, body: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|e| e.version >= version && e.key != key);
        entries.push_back(Entry { version, key, body });
        let mut bytes: usize = entries.iter().map(|e| e.body.len()).sum();
        while entries.len() > 1 && (entries.len() > KEPT || bytes > KEPT_BYTES) {
            if let Some(oldest) = entries.pop_front() {
                bytes -= oldest.body.len();
            }
        }
    }
}
