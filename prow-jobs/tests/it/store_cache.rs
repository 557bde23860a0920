//! The shared job cache over the SQLite store: lists answer what the store holds at that
//! moment (this process's writes, other processes' writes, a watch that fell behind), readers
//! starting together list the store once, and unchanged jobs are handed out, not copied.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use proptest::prelude::*;
use prow_core::{ProwJob, ProwJobState, ProwJobStatus};
use prow_jobs::store::{
    CachedStore, JobStore, ListParams, SqliteStore, StoreError, WatchEvent, Write,
};
use serde_json::json;
use tokio::sync::broadcast;

use crate::support::prowjob;

/// The SQLite store, counting the lists it answers.
struct Counting {
    inner: SqliteStore,
    lists: AtomicUsize,
    /// Each list takes a permit first, so a test can hold lists back.
    gate: tokio::sync::Semaphore,
}

#[async_trait]
impl JobStore for Counting {
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }
    async fn create(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
        self.inner.create(job).await
    }
    async fn get(&self, name: &str) -> Result<Option<ProwJob>, StoreError> {
        self.inner.get(name).await
    }
    async fn list(&self, params: &ListParams) -> Result<Vec<ProwJob>, StoreError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        let _permit = self.gate.acquire().await.unwrap();
        self.inner.list(params).await
    }
    async fn update(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
        self.inner.update(job).await
    }
    async fn delete(&self, name: &str, version: Option<&str>) -> Result<ProwJob, StoreError> {
        self.inner.delete(name, version).await
    }
    async fn write_all(&self, writes: Vec<Write>) -> Vec<Result<ProwJob, StoreError>> {
        self.inner.write_all(writes).await
    }
    async fn version(&self) -> Result<Option<u64>, StoreError> {
        self.inner.version().await
    }
    fn watch(&self) -> broadcast::Receiver<WatchEvent> {
        self.inner.watch()
    }
    async fn ready(&self) -> Result<(), StoreError> {
        self.inner.ready().await
    }
}

/// Permits of the gate: more than lists at once in any test.
const GATE_PERMITS: u32 = 1 << 16;

struct Setup {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    counting: Arc<Counting>,
    cache: CachedStore,
}

impl Setup {
    async fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prow.db");
        let counting = Arc::new(Counting {
            inner: SqliteStore::open(&path).await.unwrap(),
            lists: AtomicUsize::new(0),
            gate: tokio::sync::Semaphore::new(GATE_PERMITS as usize),
        });
        let cache = CachedStore::new(counting.clone());
        Setup {
            _dir: dir,
            path,
            counting,
            cache,
        }
    }

    fn lists(&self) -> usize {
        self.counting.lists.load(Ordering::SeqCst)
    }

    /// How many jobs a list through the cache returns.
    async fn count(&self) -> usize {
        self.cache.list(&ListParams::default()).await.unwrap().len()
    }

    /// What the store itself lists for `params`, bypassing the count.
    async fn truth(&self, params: &ListParams) -> Vec<ProwJob> {
        self.counting.inner.list(params).await.unwrap()
    }
}

fn job(name: &str) -> ProwJob {
    prowjob(
        name,
        json!({"prow.k8s.io/type": "periodic", "prow.k8s.io/job": "ci-test"}),
        json!({"type": "periodic", "job": "ci-test", "agent": "kubernetes"}),
    )
}

fn with_state(mut job: ProwJob, state: ProwJobState) -> ProwJob {
    job.status = Some(ProwJobStatus {
        state,
        ..ProwJobStatus::default()
    });
    job
}

#[tokio::test]
async fn readers_starting_together_list_the_store_once_and_share_its_jobs() {
    let setup = Setup::new().await;
    for i in 0..20 {
        setup.cache.create(job(&format!("j{i:02}"))).await.unwrap();
    }
    let params = ListParams::default();
    let lists = futures::future::join_all((0..8).map(|_| setup.cache.list_shared(&params))).await;
    assert_eq!(setup.lists(), 1, "eight readers, one list of the store");
    let first = lists[0].as_ref().unwrap();
    assert_eq!(first.len(), 20);
    for other in &lists[1..] {
        let other = other.as_ref().unwrap();
        assert!(
            first.iter().zip(other).all(|(a, b)| Arc::ptr_eq(a, b)),
            "every reader holds the same jobs, not copies"
        );
    }
    // Nothing changed: the next list is answered from the cache, with the same jobs.
    let again = setup.cache.list_shared(&params).await.unwrap();
    assert_eq!(setup.lists(), 1);
    assert!(Arc::ptr_eq(&again[3], &first[3]));
}

#[tokio::test]
async fn this_processs_writes_are_in_the_next_list_without_listing_the_store() {
    let setup = Setup::new().await;
    let a = setup.cache.create(job("a")).await.unwrap();
    assert_eq!(
        setup.cache.list(&ListParams::default()).await.unwrap(),
        std::slice::from_ref(&a)
    );
    let lists = setup.lists();

    let b = setup.cache.create(job("b")).await.unwrap();
    let a = setup
        .cache
        .update(with_state(a, ProwJobState::Pending))
        .await
        .unwrap();
    assert_eq!(
        setup.cache.list(&ListParams::default()).await.unwrap(),
        [a.clone(), b.clone()]
    );
    let pending = ListParams::default().in_states(&[ProwJobState::Pending]);
    assert_eq!(setup.cache.list(&pending).await.unwrap(), [a]);
    setup.cache.delete("a", None).await.unwrap();
    assert_eq!(setup.cache.list(&ListParams::default()).await.unwrap(), [b]);
    assert_eq!(
        setup.lists(),
        lists,
        "followed through the watch, not by listing"
    );
}

#[tokio::test]
async fn another_processs_writes_are_in_the_next_list() {
    let setup = Setup::new().await;
    setup.cache.create(job("mine")).await.unwrap();
    assert_eq!(setup.count().await, 1);
    // A second handle on the same file is another writer: its changes reach this process
    // through the store's version only.
    let other = SqliteStore::open(&setup.path).await.unwrap();
    let theirs = other.create(job("theirs")).await.unwrap();
    other.delete("mine", None).await.unwrap();
    assert_eq!(
        setup.cache.list(&ListParams::default()).await.unwrap(),
        [theirs]
    );
    assert_eq!(
        setup.lists(),
        2,
        "the moved version made the cache list again"
    );
}

#[tokio::test]
async fn a_watch_that_fell_behind_lists_again() {
    let setup = Setup::new().await;
    assert!(
        setup
            .cache
            .list(&ListParams::default())
            .await
            .unwrap()
            .is_empty()
    );
    // More changes than the store's watch keeps for a slow receiver.
    let writes = (0..1100)
        .map(|i| Write::Create(job(&format!("j{i:04}"))))
        .collect();
    for result in setup.cache.write_all(writes).await {
        result.unwrap();
    }
    let listed = setup.cache.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed, setup.truth(&ListParams::default()).await);
    assert_eq!(listed.len(), 1100);
    assert_eq!(setup.lists(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_store_is_ready_once_the_copy_is_filled() {
    let setup = Setup::new().await;
    setup.cache.create(job("a")).await.unwrap();
    // Hold the fill back: readiness waits for it, then says why it is not ready.
    let held = setup
        .counting
        .gate
        .acquire_many(GATE_PERMITS)
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let refused = setup.cache.ready().await.unwrap_err();
    assert!(started.elapsed() >= prow_jobs::store::CACHE_FILL_WAIT);
    assert!(refused.is_transient(), "{refused}");
    assert!(
        refused
            .to_string()
            .contains("still reading the stored jobs"),
        "{refused}"
    );
    assert_eq!(setup.lists(), 1, "the probe started one fill");
    assert!(setup.cache.ready().await.is_err());
    assert_eq!(
        setup.lists(),
        1,
        "and the next probe waits for the same fill"
    );
    drop(held);
    // A list waits for the fill under way and is answered by it.
    assert_eq!(setup.count().await, 1);
    assert_eq!(setup.lists(), 1);
    setup.cache.ready().await.unwrap();
}

/// One step of a history: a write by this process (through the cache) or another (a second
/// handle on the file), or a list compared with the store's own.
#[derive(Debug, Clone)]
enum Step {
    Create { name: u8, foreign: bool },
    Pending { name: u8, foreign: bool },
    Delete { name: u8, foreign: bool },
    Compare,
}

fn step() -> impl Strategy<Value = Step> {
    let name = 0u8..5;
    prop_oneof![
        (name.clone(), any::<bool>()).prop_map(|(name, foreign)| Step::Create { name, foreign }),
        (name.clone(), any::<bool>()).prop_map(|(name, foreign)| Step::Pending { name, foreign }),
        (name, any::<bool>()).prop_map(|(name, foreign)| Step::Delete { name, foreign }),
        Just(Step::Compare),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever mix of writes from this process and another came before, a list through
    /// the cache is the store's own list, for every kind of list.
    #[test]
    fn lists_through_the_cache_are_the_stores_lists(steps in proptest::collection::vec(step(), 1..25)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let setup = Setup::new().await;
            let other = SqliteStore::open(&setup.path).await.unwrap();
            let all = ListParams::default();
            let pending = ListParams::default().in_states(&[ProwJobState::Pending]);
            let labelled = ListParams::parse_labels("prow.k8s.io/type=periodic").unwrap();
            for step in steps.iter().cloned().chain([Step::Compare]) {
                let writer = |foreign: bool| -> &dyn JobStore {
                    if foreign { &other } else { &setup.cache }
                };
                // Refused writes (the job exists, or not) are part of the history too.
                match step {
                    Step::Create { name, foreign } => {
                        let _ = writer(foreign).create(job(&format!("j{name}"))).await;
                    }
                    Step::Pending { name, foreign } => {
                        if let Some(found) = other.get(&format!("j{name}")).await.unwrap() {
                            let _ = writer(foreign)
                                .update(with_state(found, ProwJobState::Pending))
                                .await;
                        }
                    }
                    Step::Delete { name, foreign } => {
                        let _ = writer(foreign).delete(&format!("j{name}"), None).await;
                    }
                    Step::Compare => {
                        for params in [&all, &pending, &labelled] {
                            let cached = setup.cache.list(params).await.unwrap();
                            let truth = setup.truth(params).await;
                            assert_eq!(cached, truth, "after {steps:?}");
                        }
                    }
                }
            }
        });
    }
}

/// A run of `job_name` whose pod spec runs `image` and whose decoration config times out
/// after `timeout`.
fn run_of(name: &str, image: &str, timeout: &str) -> ProwJob {
    prowjob(
        name,
        json!({"prow.k8s.io/type": "periodic", "prow.k8s.io/job": "ci-test"}),
        json!({
            "type": "periodic", "job": "ci-test", "agent": "kubernetes",
            "pod_spec": {"containers": [{"name": "test", "image": image, "args": ["make", "test"]}]},
            "decoration_config": {"timeout": timeout, "gcs_configuration": {"bucket": "logs"}},
            "rerun_auth_config": {"github_users": ["alice"]},
            "extra_refs": [{"org": "o", "repo": "r", "base_ref": "main"}],
        }),
    )
}

#[tokio::test]
async fn runs_of_one_job_share_its_pod_spec_and_decoration_config() {
    let setup = Setup::new().await;
    // Written by another process, so the cache decodes them from the rows…
    let other = SqliteStore::open(&setup.path).await.unwrap();
    for i in 0..4 {
        other
            .create(run_of(&format!("a{i}"), "golang:1.22", "2h"))
            .await
            .unwrap();
    }
    other
        .create(run_of("b0", "golang:1.23", "2h"))
        .await
        .unwrap();
    // …and by this one, so they reach it through the watch.
    setup
        .cache
        .create(run_of("a9", "golang:1.22", "1h"))
        .await
        .unwrap();
    let jobs = setup
        .cache
        .list_shared(&ListParams::default())
        .await
        .unwrap();
    let by_name = |name: &str| {
        jobs.iter()
            .find(|j| j.metadata.name.as_deref() == Some(name))
            .unwrap()
    };
    let spec = |name: &str| by_name(name).spec.pod_spec.clone().unwrap();
    let decoration = |name: &str| by_name(name).spec.decoration_config.clone().unwrap();
    for name in ["a1", "a2", "a3", "a9"] {
        assert!(
            Arc::ptr_eq(&spec("a0"), &spec(name)),
            "{name} holds a0's pod spec"
        );
    }
    assert!(!Arc::ptr_eq(&spec("a0"), &spec("b0")));
    assert_eq!(
        spec("b0").containers[0].image.as_deref(),
        Some("golang:1.23")
    );
    assert!(Arc::ptr_eq(&decoration("a0"), &decoration("b0")));
    assert!(!Arc::ptr_eq(&decoration("a0"), &decoration("a9")));
    let rerun = |name: &str| by_name(name).spec.rerun_auth_config.clone().unwrap();
    assert!(Arc::ptr_eq(&rerun("a0"), &rerun("a9")));
    assert_eq!(rerun("b0").github_users, ["alice"]);
    // A list read from JSON keeps room for more; what is kept holds only what it has.
    assert_eq!(by_name("a1").spec.extra_refs.capacity(), 1);
    assert_eq!(
        decoration("a9").timeout.map(|t| t.to_string()),
        Some("1h0m0s".to_owned())
    );
    // What is shared reads back as written.
    assert_eq!(jobs.len(), 6);
    for job in &jobs {
        assert_eq!(
            **job,
            setup
                .counting
                .inner
                .get(job.metadata.name.as_deref().unwrap())
                .await
                .unwrap()
                .unwrap()
        );
    }
}
