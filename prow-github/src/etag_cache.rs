//! A bounded in-memory ETag cache for octocrab: octocrab's own keeps every response forever,
//! which a long-running hook or tide cannot afford.
//!
//! Entries are dropped least-recently-used first once the bodies held pass a byte budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use http::{HeaderMap, Uri};
use octocrab::service::middleware::cache::{CacheKey, CacheStorage, CacheWriter, CachedResponse};

/// The default budget: enough for tens of thousands of pull requests and statuses.
pub const DEFAULT_MAX_BYTES: usize = 256 * 1024 * 1024;

struct Entry {
    key: CacheKey,
    response: CachedResponse,
    last_used: u64,
}

#[derive(Default)]
struct Data {
    entries: HashMap<Uri, Entry>,
    bytes: usize,
    clock: u64,
}

/// An ETag cache that holds at most `max_bytes` of response bodies.
#[derive(Clone)]
pub struct BoundedCache {
    data: Arc<Mutex<Data>>,
    max_bytes: usize,
}

impl BoundedCache {
    /// A cache holding at most `max_bytes` of bodies.
    pub fn new(max_bytes: usize) -> Self {
        BoundedCache {
            data: Arc::new(Mutex::new(Data::default())),
            max_bytes,
        }
    }

    /// How many responses and body bytes are held.
    pub fn usage(&self) -> (usize, usize) {
        let data = self.lock();
        (data.entries.len(), data.bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for BoundedCache {
    fn default() -> Self {
        BoundedCache::new(DEFAULT_MAX_BYTES)
    }
}

impl CacheStorage for BoundedCache {
    fn try_hit(&self, uri: &Uri) -> Option<CacheKey> {
        self.lock().entries.get(uri).map(|e| e.key.clone())
    }

    fn load(&self, uri: &Uri) -> Option<CachedResponse> {
        let mut data = self.lock();
        data.clock += 1;
        let now = data.clock;
        data.entries.get_mut(uri).map(|e| {
            e.last_used = now;
            e.response.clone()
        })
    }

    fn writer(&self, uri: &Uri, key: CacheKey, headers: HeaderMap) -> Box<dyn CacheWriter> {
        Box::new(Writer {
            cache: self.clone(),
            uri: uri.clone(),
            key: Some(key),
            response: CachedResponse {
                body: Vec::new(),
                headers,
            },
        })
    }
}

struct Writer {
    cache: BoundedCache,
    uri: Uri,
    key: Option<CacheKey>,
    response: CachedResponse,
}

impl CacheWriter for Writer {
    fn write_body(&mut self, data: &[u8]) {
        self.response.body.extend_from_slice(data);
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let response = std::mem::take(&mut self.response);
        let size = response.body.len();
        let max = self.cache.max_bytes;
        let mut data = self.cache.lock();
        if size > max {
            return;
        }
        data.clock += 1;
        let now = data.clock;
        if let Some(old) = data.entries.insert(
            self.uri.clone(),
            Entry {
                key,
                response,
                last_used: now,
            },
        ) {
            data.bytes -= old.response.body.len();
        }
        data.bytes += size;
        while data.bytes > max {
            let Some(oldest) = data
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(uri, _)| uri.clone())
            else {
                break;
            };
            if let Some(evicted) = data.entries.remove(&oldest) {
                data.bytes -= evicted.response.body.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(cache: &BoundedCache, uri: &str, body: &[u8]) {
        let uri: Uri = uri.parse().unwrap();
        let mut writer = cache.writer(&uri, CacheKey::ETag(format!("\"{uri}\"")), HeaderMap::new());
        writer.write_body(body);
    }

    #[test]
    fn least_recently_used_entries_go_first_past_the_budget() {
        let cache = BoundedCache::new(10);
        put(&cache, "/a", b"aaaa");
        put(&cache, "/b", b"bbbb");
        // Using /a makes /b the oldest.
        assert!(cache.load(&"/a".parse().unwrap()).is_some());
        put(&cache, "/c", b"cccc");
        assert!(cache.try_hit(&"/a".parse().unwrap()).is_some());
        assert!(cache.try_hit(&"/b".parse().unwrap()).is_none());
        assert!(cache.try_hit(&"/c".parse().unwrap()).is_some());
        assert_eq!(cache.usage(), (2, 8));
        // A body larger than the whole budget is not kept; replacing an entry frees its bytes.
        put(&cache, "/huge", &[0; 11]);
        put(&cache, "/a", b"a");
        assert_eq!(cache.usage(), (2, 5));
    }
}
