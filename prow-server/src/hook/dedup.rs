//! The delivery IDs hook saw recently, to process a redelivered event once.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// A bounded set of recent delivery IDs: the oldest is forgotten when it is full.
///
/// Every operation is O(1): a forgotten ID leaves its place in the order behind, marked stale
/// by its insertion number, and the stale places are dropped as the oldest are evicted (the
/// order holds at most twice the capacity).
#[derive(Debug)]
pub(super) struct Recent {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Each ID held, with the number of its insertion.
    ids: HashMap<String, u64>,
    /// Insertions oldest first; one whose number no longer matches `ids` is stale.
    order: VecDeque<(u64, String)>,
    next: u64,
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
        let inner = &mut *guard;
        if inner.ids.contains_key(id) {
            return false;
        }
        let number = inner.next;
        inner.next += 1;
        inner.ids.insert(id.to_owned(), number);
        inner.order.push_back((number, id.to_owned()));
        while inner.ids.len() > self.capacity || inner.order.len() > 2 * self.capacity {
            let Some((number, old)) = inner.order.pop_front() else {
                break;
            };
            if inner.ids.get(&old) == Some(&number) {
                inner.ids.remove(&old);
            }
        }
        true
    }

    /// Forgets `id`.
    pub(super) fn remove(&self, id: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.ids.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn remembers_the_latest_ids_and_forgets_removed_ones() {
        let recent = Recent::new(3);
        assert!(recent.insert("a"));
        assert!(!recent.insert("a"));
        recent.remove("a");
        assert!(recent.insert("b"));
        assert!(recent.insert("c"));
        assert!(recent.insert("a"), "a removed ID is new again");
        // The stale first place of "a" is passed over: "b" is the oldest and goes.
        assert!(recent.insert("d"));
        assert!(!recent.insert("a"), "a is among the three latest");
        assert!(recent.insert("b"), "b was forgotten");
        assert!(recent.insert("e"));
        assert!(recent.insert("a"), "now a was the oldest and is forgotten");
    }

    #[test]
    fn stays_bounded_however_often_ids_are_removed() {
        let recent = Recent::new(10);
        for i in 0..10_000 {
            let id = i.to_string();
            assert!(recent.insert(&id));
            if i % 2 == 0 {
                recent.remove(&id);
            }
        }
        let inner = recent.inner.lock().unwrap();
        assert!(inner.ids.len() <= 10);
        assert!(inner.order.len() <= 20);
    }
}
