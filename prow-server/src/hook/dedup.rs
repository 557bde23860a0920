//! The delivery IDs hook saw recently, to process a redelivered event once.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// A bounded set of recent delivery IDs: the oldest is forgotten when it is full.
#[derive(Debug)]
pub(super) struct Recent {
    capacity: usize,
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl Recent {
    pub(super) fn new(capacity: usize) -> Self {
        Recent {
            capacity: capacity.max(1),
            inner: Mutex::default(),
        }
    }

    /// Records `id`; false when it was there already.
    pub(super) fn insert(&self, id: &str) -> bool {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (set, order) = &mut *guard;
        if !set.insert(id.to_owned()) {
            return false;
        }
        order.push_back(id.to_owned());
        while order.len() > self.capacity {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        true
    }

    /// Forgets `id`.
    pub(super) fn remove(&self, id: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (set, order) = &mut *guard;
        if set.remove(id) {
            order.retain(|o| o != id);
        }
    }
}
