//! [`Interner`]: one shared copy of each distinct value, for the large parts many jobs repeat.
//!
//! Thousands of loaded jobs carry a handful of distinct decoration configs, and thousands of
//! stored ProwJobs carry the pod specs of far fewer job definitions (every run of a periodic,
//! every retest of a presubmit, copies its job's spec). Held once each behind an `Arc`, they
//! cost their size once instead of once per job.
//!
//! Values are found by a hash of their JSON form (which leaves out the empty optional fields
//! that make up most of a Kubernetes struct, so it is short) and then compared with `==`, so
//! two values share only when they are equal. The interner holds its values weakly: a value
//! no job holds any more is dropped, and its entry is swept out as entries grow.

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use k8s_openapi::api::core::v1::PodSpec;
use serde::Serialize;

use crate::{DecorationConfig, ProwJob, ProwJobDefault, ReporterConfig, RerunAuthConfig};

/// Hands out one shared `Arc` per distinct value. Safe to share between threads.
pub struct Interner<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    buckets: HashMap<u64, Vec<Weak<T>>>,
    /// Entries in `buckets`, live or not.
    entries: usize,
    /// When `entries` reaches this, the dead entries are swept out.
    sweep_at: usize,
}

/// Fewest entries before the first sweep.
const FIRST_SWEEP: usize = 64;

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            state: Mutex::new(State {
                buckets: HashMap::new(),
                entries: 0,
                sweep_at: FIRST_SWEEP,
            }),
        }
    }
}

impl<T> std::fmt::Debug for Interner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("distinct", &self.distinct())
            .finish()
    }
}

impl<T> Interner<T> {
    /// How many distinct values are held by someone now.
    pub fn distinct(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .buckets
            .values()
            .flatten()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

impl<T: Serialize + PartialEq> Interner<T> {
    /// The shared copy of `value`.
    pub fn intern(&self, value: T) -> Arc<T> {
        self.share(Arc::new(value))
    }

    /// The shared copy equal to `value`: one held already, or `value` itself, which is then
    /// held for the next equal value.
    pub fn share(&self, value: Arc<T>) -> Arc<T> {
        let hash = hash_of(&*value);
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        let bucket = state.buckets.entry(hash).or_default();
        if let Some(held) = bucket
            .iter()
            .filter_map(Weak::upgrade)
            .find(|held| **held == *value)
        {
            return held;
        }
        let held = bucket.len();
        bucket.retain(|w| w.strong_count() > 0);
        state.entries -= held - bucket.len();
        bucket.push(Arc::downgrade(&value));
        state.entries += 1;
        if state.entries >= state.sweep_at {
            state.sweep();
        }
        value
    }

    /// [`share`](Self::share) for an optional value.
    pub fn share_opt(&self, value: &mut Option<Arc<T>>) {
        if let Some(v) = value.take() {
            *value = Some(self.share(v));
        }
    }
}

/// The interners for the parts of a ProwJob that its job's other runs repeat: the pod spec
/// and the decoration config (the bulk of a decoded job), and the reporter, rerun and
/// ProwJob-default settings.
#[derive(Debug, Default)]
pub struct ProwJobParts {
    pod_specs: Interner<PodSpec>,
    decoration_configs: Interner<DecorationConfig>,
    reporter_configs: Interner<ReporterConfig>,
    rerun_auth_configs: Interner<RerunAuthConfig>,
    prowjob_defaults: Interner<ProwJobDefault>,
}

impl ProwJobParts {
    /// Points `job`'s shared parts at the shared copies, and gives back the room its refs were
    /// read with (a list read from JSON keeps room for four, and most jobs have one).
    pub fn share(&self, job: &mut ProwJob) {
        self.pod_specs.share_opt(&mut job.spec.pod_spec);
        self.decoration_configs
            .share_opt(&mut job.spec.decoration_config);
        self.reporter_configs
            .share_opt(&mut job.spec.reporter_config);
        self.rerun_auth_configs
            .share_opt(&mut job.spec.rerun_auth_config);
        self.prowjob_defaults
            .share_opt(&mut job.spec.prowjob_defaults);
        job.spec.extra_refs.shrink_to_fit();
        let refs = job.spec.refs.iter_mut().chain(&mut job.spec.extra_refs);
        for refs in refs {
            refs.pulls.shrink_to_fit();
        }
    }
}

impl<T> State<T> {
    /// Drops the entries of values nobody holds; the next sweep comes when the entries have
    /// doubled, so sweeping costs O(1) per value interned.
    fn sweep(&mut self) {
        self.buckets.retain(|_, bucket| {
            bucket.retain(|w| w.strong_count() > 0);
            !bucket.is_empty()
        });
        self.entries = self.buckets.values().map(Vec::len).sum();
        self.sweep_at = (self.entries * 2).max(FIRST_SWEEP);
    }
}

/// A hash of `value`'s JSON form, written straight into the hasher.
fn hash_of<T: Serialize>(value: &T) -> u64 {
    struct Feed(std::collections::hash_map::DefaultHasher);
    impl std::io::Write for Feed {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.write(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut feed = Feed(std::collections::hash_map::DefaultHasher::new());
    // A value that cannot be written as JSON hashes to what was written before the failure;
    // equal values fail alike, and `==` still decides, so sharing stays correct.
    let _ = serde_json::to_writer(&mut feed, value);
    feed.0.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_and_unequal_ones_do_not() {
        let interner = Interner::default();
        let a = interner.intern(vec!["x".to_owned()]);
        let b = interner.intern(vec!["x".to_owned()]);
        let c = interner.intern(vec!["y".to_owned()]);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(interner.distinct(), 2);
    }

    #[test]
    fn values_nobody_holds_are_let_go() {
        let interner = Interner::default();
        for i in 0..1000 {
            drop(interner.intern(i));
        }
        let kept = interner.intern(-1);
        assert_eq!(interner.distinct(), 1);
        let entries = interner.state.lock().unwrap().entries;
        assert!(entries < 200, "{entries} entries held for one live value");
        assert!(Arc::ptr_eq(&kept, &interner.intern(-1)));
    }
}
