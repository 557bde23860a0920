//! The job store: label selectors as Kubernetes parses them, and the SQLite store's
//! Kubernetes semantics (versions, conflicts, watches), durability and refusal of foreign files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use prow_core::ProwJob;
use prow_jobs::store::{
    JobStore, ListParams, SCHEMA_VERSION, Selector, SqliteOptions, SqliteStore, StoreError,
    WatchEvent,
};
use serde_json::json;

use crate::support::prowjob;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Parses `selector` and checks whether it matches `pairs`.
fn check(selector: &str, pairs: &[(&str, &str)], expected: bool) {
    let parsed: Selector = selector
        .parse()
        .unwrap_or_else(|e| panic!("{selector:?} should parse: {e}"));
    assert_eq!(
        parsed.matches(&labels(pairs)),
        expected,
        "{selector:?} against {pairs:?}"
    );
}

const PRESUBMIT: &[(&str, &str)] = &[
    ("prow.k8s.io/type", "presubmit"),
    ("prow.k8s.io/refs.org", "kubernetes"),
    ("prow.k8s.io/refs.repo", "test-infra"),
    ("prow.k8s.io/refs.pull", "123"),
];

#[test]
fn selectors_match_as_kubernetes_does() {
    check("", PRESUBMIT, true);
    check(
        "prow.k8s.io/type=presubmit,prow.k8s.io/refs.org=kubernetes",
        PRESUBMIT,
        true,
    );
    check(
        "prow.k8s.io/type=periodic,prow.k8s.io/refs.org=kubernetes",
        PRESUBMIT,
        false,
    );
    check("prow.k8s.io/type==presubmit", PRESUBMIT, true);
    check("prow.k8s.io/type!=presubmit", PRESUBMIT, false);
    check("prow.k8s.io/type!=periodic", PRESUBMIT, true);
    // `!=` and `notin` hold when the label is absent.
    check("absent!=x", PRESUBMIT, true);
    check("absent notin (x)", PRESUBMIT, true);
    check("prow.k8s.io/type in (presubmit, batch)", PRESUBMIT, true);
    check("prow.k8s.io/type in (periodic,batch)", PRESUBMIT, false);
    check("prow.k8s.io/type notin (periodic,batch)", PRESUBMIT, true);
    check("prow.k8s.io/type notin (presubmit)", PRESUBMIT, false);
    check("prow.k8s.io/refs.pull", PRESUBMIT, true);
    check("!prow.k8s.io/refs.pull", PRESUBMIT, false);
    check("!prow.k8s.io/refs.base_ref", PRESUBMIT, true);
    check("prow.k8s.io/refs.pull>100", PRESUBMIT, true);
    check("prow.k8s.io/refs.pull<100", PRESUBMIT, false);
    // `in` and `notin` are values where a value is expected.
    check("x in (in,notin)", &[("x", "notin")], true);
    // The empty value: `x=` and `x in ()`.
    check("x=", &[("x", "")], true);
    check("x in ()", &[("x", "")], true);
    check("x in (,a)", &[("x", "")], true);
    check("  a = b ,  c  ", &[("a", "b"), ("c", "")], true);
}

#[test]
fn selectors_print_sorted_by_key() {
    let s: Selector = "z in (b,a,b), !y, a==1, m".parse().unwrap();
    insta::assert_snapshot!(s.to_string(), @"a==1,m,!y,z in (a,b)");
}

#[test]
fn bad_selectors_get_kubernetes_messages() {
    let long = "x".repeat(64);
    let bad = [
        "a b",
        "a=b=c",
        "=a",
        "a in b",
        "a in (b",
        "a in (b c)",
        "a,",
        "!",
        "!a=b",
        "a>b",
        "a~b",
        "A/b",
        "a/b/c",
        "/a",
        "a=b c",
        "a=-x",
        &format!("{long}=1"),
        "a in (-x,y-)",
    ];
    let listing: Vec<String> = bad
        .iter()
        .map(|s| match s.parse::<Selector>() {
            Ok(sel) => format!("{s:?} parsed as {sel}"),
            Err(e) => format!("{s:?}: {e}"),
        })
        .collect();
    insta::assert_snapshot!(listing.join("\n"));
}

fn key_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?(\\.[a-z0-9]{1,5}){0,2}/[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?",
        "[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?",
    ]
    // `in` and `notin` are keywords where a key is expected.
    .prop_filter("not a keyword", |k| k != "in" && k != "notin")
}

fn value_strategy() -> impl Strategy<Value = String> {
    "(([A-Za-z0-9][-A-Za-z0-9_.]{0,10})?[A-Za-z0-9])?"
}

fn requirement_strategy() -> impl Strategy<Value = String> {
    (
        key_strategy(),
        0..8usize,
        proptest::collection::vec(value_strategy(), 1..4),
        any::<u32>(),
    )
        .prop_map(|(key, op, values, n)| match op {
            0 => format!("{key}={}", values[0]),
            1 => format!("{key}=={}", values[0]),
            2 => format!("{key}!={}", values[0]),
            3 => format!("{key} in ({})", values.join(",")),
            4 => format!("{key} notin ({})", values.join(",")),
            5 => key,
            6 => format!("!{key}"),
            _ => format!("{key}>{n}"),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn proptest_selector_display_round_trips(
        reqs in proptest::collection::vec(requirement_strategy(), 0..5)
    ) {
        let text = reqs.join(",");
        let parsed: Selector = text.parse().map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        let printed = parsed.to_string();
        let reparsed: Selector = printed.parse().map_err(|e| TestCaseError::fail(format!("{printed:?}: {e}")))?;
        prop_assert_eq!(&reparsed, &parsed);
        prop_assert_eq!(reparsed.to_string(), printed);
    }

    #[test]
    fn proptest_selector_parser_never_panics(text in "[ a-zA-Z0-9=!(),<>./_-]{0,40}|\\PC{0,20}") {
        let _ = text.parse::<Selector>();
    }
}

// ---------------------------------------------------------------------------------------------
// The SQLite store.

/// A job called `name` with Prow's labels for a presubmit of `org/repo`.
fn job(name: &str, org: &str, job_type: &str) -> ProwJob {
    prowjob(
        name,
        json!({
            "prow.k8s.io/type": job_type,
            "prow.k8s.io/refs.org": org,
            "prow.k8s.io/job": "pull-test",
        }),
        json!({"type": job_type, "job": "pull-test", "agent": "kubernetes"}),
    )
}

fn names(jobs: &[ProwJob]) -> Vec<String> {
    jobs.iter()
        .map(|j| j.metadata.name.clone().unwrap_or_default())
        .collect()
}

fn version(job: &ProwJob) -> String {
    job.metadata.resource_version.clone().unwrap_or_default()
}

async fn temp_store() -> (tempfile::TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prow.db");
    let store = SqliteStore::open(&path).await.unwrap();
    (dir, path, store)
}

#[tokio::test]
async fn create_get_list_update_delete() {
    let (_dir, _path, store) = temp_store().await;
    let created = store
        .create(job("a", "kubernetes", "presubmit"))
        .await
        .unwrap();
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
    assert!(created.metadata.uid.is_some());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(version(&created), "1");
    assert_eq!(store.get("a").await.unwrap(), Some(created.clone()));
    assert_eq!(store.get("missing").await.unwrap(), None);

    let err = store
        .create(job("a", "kubernetes", "presubmit"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { ref name } if name == "a"));
    insta::assert_snapshot!(err, @r#"prowjobs.prow.k8s.io "a" already exists"#);

    store.create(job("b", "knative", "periodic")).await.unwrap();
    store
        .create(job("c", "kubernetes", "periodic"))
        .await
        .unwrap();
    let all = store.list(&ListParams::default()).await.unwrap();
    assert_eq!(names(&all), ["a", "b", "c"]);

    let mut changed = created.clone();
    changed.spec.job = "renamed".to_owned();
    let updated = store.update(changed).await.unwrap();
    assert_eq!(version(&updated), "4");
    assert_eq!(updated.metadata.uid, created.metadata.uid);
    assert_eq!(
        updated.metadata.creation_timestamp,
        created.metadata.creation_timestamp
    );
    assert_eq!(store.get("a").await.unwrap().unwrap().spec.job, "renamed");

    let deleted = store.delete("b", None).await.unwrap();
    assert_eq!(deleted.metadata.name.as_deref(), Some("b"));
    assert_eq!(store.get("b").await.unwrap(), None);
    let err = store.delete("b", None).await.unwrap_err();
    insta::assert_snapshot!(err, @r#"prowjobs.prow.k8s.io "b" not found"#);
    let all = store.list(&ListParams::default()).await.unwrap();
    assert_eq!(names(&all), ["a", "c"]);
}

#[tokio::test]
async fn lists_by_label_selector() {
    let store = SqliteStore::in_memory().unwrap();
    store
        .create(job("a", "kubernetes", "presubmit"))
        .await
        .unwrap();
    store
        .create(job("b", "kubernetes", "periodic"))
        .await
        .unwrap();
    store
        .create(job("c", "knative", "presubmit"))
        .await
        .unwrap();
    let mut unlabelled = job("d", "x", "batch");
    unlabelled.metadata.labels = None;
    store.create(unlabelled).await.unwrap();
    let list = async |selector: &str| {
        let params = ListParams::parse_labels(selector).unwrap();
        names(&store.list(&params).await.unwrap())
    };
    assert_eq!(
        list("prow.k8s.io/type=presubmit,prow.k8s.io/refs.org=kubernetes").await,
        ["a"]
    );
    assert_eq!(list("prow.k8s.io/type=presubmit").await, ["a", "c"]);
    assert_eq!(list("prow.k8s.io/type in (periodic,batch)").await, ["b"]);
    assert_eq!(list("prow.k8s.io/refs.org!=kubernetes").await, ["c", "d"]);
    assert_eq!(list("prow.k8s.io/type notin (presubmit)").await, ["b", "d"]);
    assert_eq!(list("prow.k8s.io/job").await, ["a", "b", "c"]);
    assert_eq!(list("!prow.k8s.io/job").await, ["d"]);
    assert_eq!(list("").await, ["a", "b", "c", "d"]);
    // Labels follow updates.
    let mut b = store.get("b").await.unwrap().unwrap();
    b.metadata
        .labels
        .get_or_insert_default()
        .insert("prow.k8s.io/type".to_owned(), "presubmit".to_owned());
    store.update(b).await.unwrap();
    assert_eq!(
        list("prow.k8s.io/type=presubmit,prow.k8s.io/refs.org=kubernetes").await,
        ["a", "b"]
    );
}

#[tokio::test]
async fn stale_resource_version_conflicts() {
    let store = SqliteStore::in_memory().unwrap();
    let v1 = store
        .create(job("a", "kubernetes", "presubmit"))
        .await
        .unwrap();
    let v2 = store.update(v1.clone()).await.unwrap();
    let err = store.update(v1.clone()).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { name, expected, actual }
            if name == "a" && *expected == version(&v1) && *actual == version(&v2)),
        "{err:?}"
    );
    insta::assert_snapshot!(err, @r#"operation cannot be fulfilled on prowjobs.prow.k8s.io "a": the object has been modified (resourceVersion "1" given, "2" stored); apply your changes to the latest version and try again"#);
    // A stale delete precondition conflicts too, and deletes nothing.
    let err = store.delete("a", Some(&version(&v1))).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert!(store.get("a").await.unwrap().is_some());
    store.delete("a", Some(&version(&v2))).await.unwrap();
    assert!(store.get("a").await.unwrap().is_none());
    // Updating what is gone is NotFound.
    let err = store.update(v2).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn bad_writes_list_every_problem() {
    let store = SqliteStore::in_memory().unwrap();
    let mut bad = job("", "kubernetes", "presubmit");
    bad.metadata.resource_version = Some("7".to_owned());
    bad.metadata.namespace = Some("elsewhere".to_owned());
    bad.metadata
        .labels
        .get_or_insert_default()
        .insert("Bad Key".to_owned(), "-x".to_owned());
    let err = store.create(bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    insta::assert_snapshot!(err.to_string().replace("; ", ";\n"));

    let mut no_version = job("a", "kubernetes", "presubmit");
    no_version.metadata.resource_version = None;
    let err = store.update(no_version).await.unwrap_err();
    insta::assert_snapshot!(err, @r#"prowjobs.prow.k8s.io "a" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"#);
    let err = store
        .create(job("Not_A.Name", "kubernetes", "presubmit"))
        .await
        .unwrap_err();
    insta::assert_snapshot!(err, @r#"prowjobs.prow.k8s.io "Not_A.Name" is invalid: metadata.name: Invalid value: "Not_A.Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#);
    assert!(store.list(&ListParams::default()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_updates_have_one_winner() {
    let (_dir, _path, store) = temp_store().await;
    for round in 0..20 {
        let name = format!("race-{round}");
        let created = store
            .create(job(&name, "kubernetes", "presubmit"))
            .await
            .unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = ["left", "right"]
            .into_iter()
            .map(|who| {
                let store = store.clone();
                let barrier = barrier.clone();
                let mut mine = created.clone();
                mine.spec.job = who.to_owned();
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.update(mine).await
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut conflicts = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(job) => winners.push(job),
                Err(StoreError::Conflict { .. }) => conflicts += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((winners.len(), conflicts), (1, 1), "round {round}");
        let stored = store.get(&name).await.unwrap().unwrap();
        assert_eq!(stored, winners[0]);
    }
}

#[tokio::test]
async fn watch_sees_changes_in_order() {
    let store = SqliteStore::in_memory().unwrap();
    let mut events = store.watch();
    let created = store
        .create(job("a", "kubernetes", "presubmit"))
        .await
        .unwrap();
    let updated = store.update(created.clone()).await.unwrap();
    let _ = store.update(created.clone()).await.unwrap_err(); // a conflict sends nothing
    store
        .create(job("b", "kubernetes", "presubmit"))
        .await
        .unwrap();
    let deleted = store.delete("a", None).await.unwrap();
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        let kind = match &event {
            WatchEvent::Added(_) => "Added",
            WatchEvent::Modified(_) => "Modified",
            WatchEvent::Deleted(_) => "Deleted",
            _ => "other",
        };
        seen.push(format!(
            "{kind} {} @{}",
            event.job().metadata.name.as_deref().unwrap_or(""),
            version(event.job())
        ));
    }
    assert_eq!(
        seen,
        ["Added a @1", "Modified a @2", "Added b @3", "Deleted a @4"]
    );
    assert_eq!(version(&updated), "2");
    assert_eq!(version(&deleted), "4");
}

#[tokio::test]
async fn data_survives_reopening() {
    let (_dir, path, store) = temp_store().await;
    let a = store
        .create(job("a", "kubernetes", "presubmit"))
        .await
        .unwrap();
    let a = store.update(a).await.unwrap();
    store
        .create(job("b", "kubernetes", "periodic"))
        .await
        .unwrap();
    store.delete("b", None).await.unwrap();
    drop(store);

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), Some(a));
    assert_eq!(
        names(&store.list(&ListParams::default()).await.unwrap()),
        ["a"]
    );
    // Versions keep growing across opens.
    let c = store
        .create(job("c", "kubernetes", "periodic"))
        .await
        .unwrap();
    assert_eq!(version(&c), "5");
    let params = ListParams::parse_labels("prow.k8s.io/type=periodic").unwrap();
    assert_eq!(names(&store.list(&params).await.unwrap()), ["c"]);
}

fn read_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()))
}

/// Opening `path` fails with a backend error naming the file, and leaves it as it was.
async fn check_refused(path: &Path) -> String {
    let before = read_bytes(path);
    let err = SqliteStore::open(path).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "{message} should name the file"
    );
    assert_eq!(read_bytes(path), before, "the refused file was changed");
    assert!(
        !path.with_extension("db-wal").exists(),
        "a WAL file appeared"
    );
    message.replace(&path.display().to_string(), "[file]")
}

#[tokio::test]
async fn newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future (x); INSERT INTO future VALUES (1);")
            .unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let message = check_refused(&path).await;
    insta::assert_snapshot!(message, @"job store [file]: schema version 4 is newer than this program knows (3); refusing to open it, use a newer prow-rs");
}

#[tokio::test]
async fn garbage_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, b"apiVersion: prow.k8s.io/v1\nkind: ProwJob\n").unwrap();
    let message = check_refused(&path).await;
    insta::assert_snapshot!(message, @"job store [file]: is not a SQLite database; refusing to open it");

    // A file with SQLite's header but a broken body is refused by SQLite itself.
    let broken = dir.path().join("broken.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5u8, 4096));
    std::fs::write(&broken, &bytes).unwrap();
    check_refused(&broken).await;
}

#[tokio::test]
async fn upstream_prowjob_round_trips_byte_for_byte() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../prow-core/tests/data/prowjob/upstream/valid_prowjob.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    let original = prow_core::prowjob_from_yaml(&text).unwrap().value;

    let (_dir, _path, store) = temp_store().await;
    let mut to_create = original.clone();
    // The server owns the version; everything else is the caller's.
    to_create.metadata.resource_version = None;
    let created = store.create(to_create).await.unwrap();
    let stored = store.get("test-job2").await.unwrap().unwrap();
    assert_eq!(stored, created);

    // Put back what the store assigned, and the JSON is the original's, byte for byte.
    let mut expected = original.clone();
    expected.metadata.resource_version = created.metadata.resource_version.clone();
    expected.metadata.uid = created.metadata.uid.clone();
    expected.metadata.creation_timestamp = created.metadata.creation_timestamp.clone();
    assert_eq!(
        serde_json::to_string(&stored).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
    // And the namespace, labels and spec came through untouched.
    assert_eq!(stored.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(stored.metadata.labels, original.metadata.labels);
    assert_eq!(stored.spec, original.spec);

    let params =
        ListParams::parse_labels("prow.k8s.io/type=periodic,prow.k8s.io/refs.org=kubernetes")
            .unwrap();
    assert_eq!(names(&store.list(&params).await.unwrap()), ["test-job2"]);
}

/// An in-memory store of 50 periodics of one org.
async fn fifty_periodics() -> SqliteStore {
    let store = SqliteStore::in_memory().unwrap();
    let writes = (0..50)
        .map(|i| {
            prow_jobs::store::Write::Create(job(&format!("job-{i}"), "kubernetes", "periodic"))
        })
        .collect();
    for result in store.write_all(writes).await {
        result.unwrap();
    }
    store
}

#[tokio::test]
async fn label_selectors_use_the_index() {
    let store = fifty_periodics().await;
    let params =
        ListParams::parse_labels("prow.k8s.io/type=presubmit,prow.k8s.io/refs.org=kubernetes")
            .unwrap();
    let plan = store.list_query_plan(&params).await.unwrap().join("\n");
    assert!(
        plan.contains("SEARCH prowjob_labels USING PRIMARY KEY (key=? AND value=?)"),
        "the label index is not used:\n{plan}"
    );
    assert!(
        !plan.contains("SCAN prowjobs"),
        "every job is read:\n{plan}"
    );
    // Without a selector every job is read, of course.
    let plan = store
        .list_query_plan(&ListParams::default())
        .await
        .unwrap()
        .join("\n");
    assert!(plan.contains("SCAN prowjobs"), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_race_with_one_winner() {
    let (_dir, path, left) = temp_store().await;
    let right = SqliteStore::open(&path).await.unwrap();
    for round in 0..10 {
        let name = format!("race-{round}");
        let created = left
            .create(job(&name, "kubernetes", "presubmit"))
            .await
            .unwrap();
        // The other handle sees the committed job.
        assert_eq!(right.get(&name).await.unwrap().as_ref(), Some(&created));
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = [left.clone(), right.clone()]
            .into_iter()
            .map(|store| {
                let barrier = barrier.clone();
                let job = created.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.update(job).await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(match task.await.unwrap() {
                Ok(_) => "won",
                Err(StoreError::Conflict { .. }) => "conflict",
                Err(e) => panic!("unexpected error: {e}"),
            });
        }
        outcomes.sort_unstable();
        assert_eq!(outcomes, ["conflict", "won"], "round {round}");
    }
}

/// The files SQLite keeps beside `path`.
fn beside(path: &Path) -> [PathBuf; 2] {
    ["-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

#[tokio::test]
async fn a_corrupt_file_is_refused_without_a_byte_written() {
    let (dir, path, store) = temp_store().await;
    for i in 0..60 {
        store
            .create(job(&format!("job-{i}"), "kubernetes", "periodic"))
            .await
            .unwrap();
    }
    drop(store);
    // The last connection's close checkpointed the WAL into the file and removed it.
    for file in beside(&path) {
        assert!(!file.exists(), "{} outlived the store", file.display());
    }
    let mut bytes = read_bytes(&path);
    let page_size = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let pages = bytes.len() / page_size;
    assert!(pages >= 8, "only {pages} pages");
    // A whole page in the middle of the file (one of the jobs' b-tree pages) overwritten.
    let middle = pages / 2 * page_size;
    bytes[middle..middle + page_size].fill(0x55);
    std::fs::write(&path, &bytes).unwrap();

    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err:?}");
    assert!(!err.is_transient());
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "job store {}: is corrupt: quick_check found ",
            path.display()
        )),
        "{message}"
    );
    assert!(message.contains("refusing to open it"), "{message}");
    assert_eq!(read_bytes(&path), bytes, "the refused file was changed");
    for file in beside(&path) {
        assert!(!file.exists(), "{} appeared", file.display());
    }
    drop(dir);
}

#[tokio::test]
async fn a_file_in_use_is_checked_through_its_wal() {
    let (_dir, path, store) = temp_store().await;
    let created = store
        .create(job("a", "kubernetes", "periodic"))
        .await
        .unwrap();
    // The job is committed to the WAL, not yet to the file; the check reads both.
    assert!(beside(&path)[0].exists());
    let second = SqliteStore::open(&path).await.unwrap();
    assert_eq!(second.get("a").await.unwrap(), Some(created));
}

#[tokio::test]
async fn a_full_store_refuses_writes_whole_and_is_not_ready_until_a_write_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prow.db");
    let store = SqliteStore::open_with(&path, SqliteOptions::default().max_pages(16))
        .await
        .unwrap();
    store.ready().await.expect("a new store is ready");
    let mut created = Vec::new();
    let (name, full) = loop {
        assert!(created.len() < 2000, "16 pages held 2000 jobs");
        let name = format!("job-{}", created.len());
        match store.create(job(&name, "kubernetes", "periodic")).await {
            Ok(job) => created.push(job),
            Err(err) => break (name, err),
        }
    };
    assert!(matches!(full, StoreError::Full { .. }), "{full:?}");
    assert!(full.is_transient());
    assert!(
        full.to_string()
            .starts_with(&format!("job store {} is full: ", path.display())),
        "{full}"
    );
    // Nothing of the refused job was written, and everything before it is intact.
    assert_eq!(store.get(&name).await.unwrap(), None);
    assert_eq!(
        store.list(&ListParams::default()).await.unwrap().len(),
        created.len()
    );
    let periodic = ListParams::parse_labels("prow.k8s.io/type=periodic").unwrap();
    let mut listed = store.list(&periodic).await.unwrap();
    let mut expected = created.clone();
    listed.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    expected.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    assert_eq!(listed, expected);

    // Not ready, though a heartbeat might still fit: the last write failed. A refusal of a
    // request itself (here a conflict) says nothing about the storage and changes nothing.
    let mut stale = created[0].clone();
    stale.metadata.resource_version = Some("999999".to_owned());
    for _ in 0..2 {
        let not_ready = store.ready().await.unwrap_err();
        assert!(
            matches!(not_ready, StoreError::Full { .. }),
            "{not_ready:?}"
        );
        assert!(not_ready.is_transient());
        assert!(
            not_ready.to_string().contains("the last write failed"),
            "{not_ready}"
        );
        assert!(matches!(
            store.update(stale.clone()).await,
            Err(StoreError::Conflict { .. })
        ));
    }
    // Deleting (as sinker would) frees room and succeeds, so writes work again; the refused
    // job fits now.
    for job in &created[..created.len() / 2] {
        store.delete(job.name(), None).await.unwrap();
    }
    store.ready().await.expect("ready after a successful write");
    store
        .create(job(&name, "kubernetes", "periodic"))
        .await
        .unwrap();
    store.ready().await.unwrap();
}

#[test]
fn only_a_full_or_unavailable_store_is_worth_retrying() {
    let source = || None;
    let check = |err: StoreError, expected: bool| {
        assert_eq!(err.is_transient(), expected, "{err}");
    };
    let name = || "a".to_owned();
    check(StoreError::NotFound { name: name() }, false);
    check(StoreError::AlreadyExists { name: name() }, false);
    check(
        StoreError::Conflict {
            name: name(),
            expected: "1".into(),
            actual: "2".into(),
        },
        false,
    );
    check(
        StoreError::Invalid {
            name: name(),
            reason: "bad".into(),
        },
        false,
    );
    let location = || "prow.db".to_owned();
    let reason = || "failed".to_owned();
    check(
        StoreError::Backend {
            location: location(),
            reason: reason(),
            source: source(),
        },
        false,
    );
    check(
        StoreError::Full {
            location: location(),
            reason: reason(),
            source: source(),
        },
        true,
    );
    check(
        StoreError::Unavailable {
            location: location(),
            reason: reason(),
            source: source(),
        },
        true,
    );
}

/// The tables as schema versions 1 and 2 made them: jobs as JSON text in a WITHOUT ROWID
/// table (version 2 added the heartbeat).
const OLD_TABLES: &str = "
    CREATE TABLE prowjobs (
        name TEXT PRIMARY KEY NOT NULL,
        resource_version INTEGER NOT NULL,
        body TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE prowjob_labels (
        name TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (name, key)
    ) WITHOUT ROWID;
    CREATE INDEX prowjob_labels_by_key_value ON prowjob_labels (key, value, name);
    CREATE TABLE revision (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value INTEGER NOT NULL
    );";

/// A file as schema `version` (1 or 2) wrote it, by raw SQL: `jobs` stored as JSON text with
/// versions 1, 2, ... and their labels, the revision counter at the last.
fn write_old_file(path: &Path, version: i64, jobs: &[ProwJob]) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(OLD_TABLES).unwrap();
    if version >= 2 {
        conn.execute_batch(
            "CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);",
        )
        .unwrap();
    }
    for (i, job) in jobs.iter().enumerate() {
        let name = job.metadata.name.clone().unwrap();
        conn.execute(
            "INSERT INTO prowjobs (name, resource_version, body) VALUES (?1, ?2, ?3)",
            rusqlite::params![name, i as i64 + 1, serde_json::to_string(job).unwrap()],
        )
        .unwrap();
        for (key, value) in job.metadata.labels.iter().flatten() {
            conn.execute(
                "INSERT INTO prowjob_labels (name, key, value) VALUES (?1, ?2, ?3)",
                rusqlite::params![name, key, value],
            )
            .unwrap();
        }
    }
    conn.execute(
        "INSERT INTO revision (id, value) VALUES (1, ?1)",
        [jobs.len() as i64],
    )
    .unwrap();
    conn.pragma_update(None, "user_version", version).unwrap();
}

/// Jobs as an older prow-rs stored them: `a` pending, `b` without a status, `c` finished.
fn old_jobs() -> Vec<ProwJob> {
    let mut jobs = vec![
        job("a", "kubernetes", "periodic"),
        job("b", "kubernetes", "presubmit"),
        job("c", "istio", "periodic"),
    ];
    for (i, job) in jobs.iter_mut().enumerate() {
        job.metadata.namespace = Some("default".to_owned());
        job.metadata.uid = Some(format!("uid-{i}"));
        job.metadata.resource_version = Some((i + 1).to_string());
    }
    jobs[0].status = Some(prow_core::ProwJobStatus {
        state: prow_core::ProwJobState::Pending,
        ..Default::default()
    });
    jobs[2].status = Some(prow_core::ProwJobStatus {
        state: prow_core::ProwJobState::Success,
        description: "Job succeeded.".to_owned(),
        ..Default::default()
    });
    jobs
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

/// SQLite's type of each stored body, by job name.
fn body_types(path: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, typeof(body) FROM prowjobs ORDER BY name")
        .unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn files_of_schema_1_and_2_keep_every_job_and_gain_the_new_tables() {
    for old_version in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prow.db");
        let old = old_jobs();
        write_old_file(&path, old_version, &old);

        let store = SqliteStore::open(&path).await.unwrap();
        // Every job reads back exactly as it was written, versions included.
        assert_eq!(store.list(&ListParams::default()).await.unwrap(), old);
        assert_eq!(store.get("c").await.unwrap().as_ref(), Some(&old[2]));
        // The states were read out of the old JSON into the new index.
        let pending = ListParams::default().in_states(&[prow_core::ProwJobState::Pending]);
        assert_eq!(names(&store.list(&pending).await.unwrap()), ["a"]);
        let finished = ListParams::default().in_states(&[prow_core::ProwJobState::Success]);
        assert_eq!(names(&store.list(&finished).await.unwrap()), ["c"]);
        let kubernetes = ListParams::parse_labels("prow.k8s.io/refs.org=kubernetes").unwrap();
        assert_eq!(names(&store.list(&kubernetes).await.unwrap()), ["a", "b"]);
        store.ready().await.expect("the probe's table is there");
        // Old rows keep their text until they are written again.
        assert_eq!(
            body_types(&path),
            [("a", "text"), ("b", "text"), ("c", "text")]
                .map(|(n, t)| (n.to_owned(), t.to_owned()))
        );

        // Writing goes on from the old versions; a rewritten row is packed.
        let mut a = old[0].clone();
        a.status.as_mut().unwrap().description = "Job triggered.".to_owned();
        let a = store.update(a).await.unwrap();
        assert_eq!(version(&a), "4");
        assert_eq!(a.metadata.uid.as_deref(), Some("uid-0"));
        let d = store
            .create(job("d", "kubernetes", "periodic"))
            .await
            .unwrap();
        assert_eq!(version(&d), "5");
        assert!(matches!(
            store.update(old[1].clone()).await,
            Ok(ref b) if version(b) == "6"
        ));
        drop(store);
        assert_eq!(
            body_types(&path),
            [("a", "blob"), ("b", "blob"), ("c", "text"), ("d", "blob")]
                .map(|(n, t)| (n.to_owned(), t.to_owned()))
        );
        assert_eq!(user_version(&path), SCHEMA_VERSION);
        assert_eq!(SCHEMA_VERSION, 3);

        // And everything reads back after reopening.
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(
            names(&store.list(&ListParams::default()).await.unwrap()),
            ["a", "b", "c", "d"]
        );
        assert_eq!(store.get("a").await.unwrap(), Some(a));
        assert_eq!(store.get("c").await.unwrap().as_ref(), Some(&old[2]));
        // Deleting a job written by the old version takes its label rows with it.
        store.delete("c", None).await.unwrap();
        let istio = ListParams::parse_labels("prow.k8s.io/refs.org=istio").unwrap();
        assert!(store.list(&istio).await.unwrap().is_empty());
        drop(store);
        let rows: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT count(*) FROM prowjob_labels WHERE name = 'c'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(rows, 0);
    }
}

#[tokio::test]
async fn a_stored_upstream_prowjob_is_packed_well_under_its_json() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../prow-core/tests/data/prowjob/upstream/valid_prowjob.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    let mut original = prow_core::prowjob_from_yaml(&text).unwrap().value;
    original.metadata.resource_version = None;
    let (_dir, path, store) = temp_store().await;
    let created = store.create(original).await.unwrap();
    let json = serde_json::to_vec(&created).unwrap().len();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let stored: i64 = conn
        .query_row("SELECT length(body) FROM prowjobs", [], |row| row.get(0))
        .unwrap();
    let stored = usize::try_from(stored).unwrap();
    assert!(
        stored * 2 < json,
        "the body takes {stored} bytes for {json} bytes of JSON"
    );
}

#[tokio::test]
async fn an_unknown_body_format_is_an_error_naming_the_job() {
    let (_dir, path, store) = temp_store().await;
    store
        .create(job("a", "kubernetes", "periodic"))
        .await
        .unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE prowjobs SET body = x'09ff' WHERE name = 'a'", [])
            .unwrap();
    }
    let err = store.get("a").await.unwrap_err();
    let chain = prow_jobs::controller::error_chain(&err);
    assert!(
        chain.contains("stored prowjob \"a\" is not readable")
            && chain.contains("unknown body format 9"),
        "{chain}"
    );
}

#[tokio::test]
async fn plank_s_states_use_the_state_index() {
    let store = fifty_periodics().await;
    let params = ListParams::default().in_states(&[
        prow_core::ProwJobState::Triggered,
        prow_core::ProwJobState::Pending,
        prow_core::ProwJobState::Aborted,
    ]);
    let plan = store.list_query_plan(&params).await.unwrap().join("\n");
    assert!(
        plan.contains("prowjobs_by_state"),
        "the state index is not used:\n{plan}"
    );
    assert!(
        !plan.contains("SCAN prowjobs"),
        "every job is read:\n{plan}"
    );
    // With a label selector as well, one of the two indexes narrows the rows.
    let both = ListParams::parse_labels("prow.k8s.io/type=presubmit")
        .unwrap()
        .in_states(&[prow_core::ProwJobState::Pending]);
    let plan = store.list_query_plan(&both).await.unwrap().join("\n");
    assert!(
        !plan.contains("SCAN prowjobs"),
        "every job is read:\n{plan}"
    );
}

/// `job` with `status.state` set to `state`.
fn in_state(mut job: ProwJob, state: prow_core::ProwJobState) -> ProwJob {
    job.status.get_or_insert_default().state = state;
    job
}

#[tokio::test]
async fn lists_by_state_and_labels_together() {
    use prow_core::ProwJobState::{Aborted, Pending, Success, Triggered};
    let store = SqliteStore::in_memory().unwrap();
    store
        .create(job("none", "kubernetes", "periodic"))
        .await
        .unwrap();
    for (name, org, state) in [
        ("t", "kubernetes", Triggered),
        ("p", "kubernetes", Pending),
        ("p2", "istio", Pending),
        ("s", "kubernetes", Success),
    ] {
        store
            .create(in_state(job(name, org, "periodic"), state))
            .await
            .unwrap();
    }
    let list = |params: ListParams| {
        let store = store.clone();
        async move { names(&store.list(&params).await.unwrap()) }
    };
    assert_eq!(
        list(ListParams::default().in_states(&[Pending])).await,
        ["p", "p2"]
    );
    assert_eq!(
        list(ListParams::default().in_states(&[Triggered, Pending, Aborted])).await,
        ["p", "p2", "t"]
    );
    let kubernetes = ListParams::parse_labels("prow.k8s.io/refs.org=kubernetes").unwrap();
    assert_eq!(list(kubernetes.clone().in_states(&[Pending])).await, ["p"]);
    // A job without a status is in no state; no states lists every job.
    assert_eq!(list(kubernetes).await, ["none", "p", "s", "t"]);
    // An update moves the job between states.
    let mut p = store.get("p").await.unwrap().unwrap();
    p.status.as_mut().unwrap().state = Success;
    store.update(p).await.unwrap();
    assert_eq!(
        list(ListParams::default().in_states(&[Success])).await,
        ["p", "s"]
    );
}

/// What a batch or a run of single writes did: each result (the stored job's name and
/// version, or the error's kind) and each watch event (kind, name and version).
async fn outcome_of(
    store: &SqliteStore,
    results: Vec<Result<ProwJob, StoreError>>,
    events: &mut tokio::sync::broadcast::Receiver<WatchEvent>,
) -> (Vec<String>, Vec<String>) {
    let results = results
        .into_iter()
        .map(|r| match r {
            Ok(job) => format!("ok {} {}", job.name(), version(&job)),
            Err(StoreError::AlreadyExists { name }) => format!("exists {name}"),
            Err(StoreError::Conflict {
                name,
                expected,
                actual,
            }) => format!("conflict {name} {expected} {actual}"),
            Err(StoreError::Invalid { name, .. }) => format!("invalid {name}"),
            Err(e) => format!("err {e}"),
        })
        .collect();
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        let kind = match &event {
            WatchEvent::Added(_) => "added",
            WatchEvent::Modified(_) => "modified",
            WatchEvent::Deleted(_) => "deleted",
            _ => "other",
        };
        seen.push(format!(
            "{kind} {} {}",
            event.job().name(),
            version(event.job())
        ));
    }
    let _ = store;
    (results, seen)
}

/// The writes of one batch: creates, a duplicate, a stale update, an invalid job, an update
/// of a job created earlier in the same batch, and an update of a stored job.
fn mixed_writes(stored: &ProwJob) -> Vec<prow_jobs::store::Write> {
    use prow_jobs::store::Write;
    let mut stale = stored.clone();
    stale.metadata.resource_version = Some("1000".to_owned());
    let mut fresh = stored.clone();
    fresh.status.get_or_insert_default().state = prow_core::ProwJobState::Pending;
    let mut later = job("new-1", "kubernetes", "periodic");
    // The version the batch's first create gets: the stored job's plus one.
    let next: i64 = version(stored).parse::<i64>().unwrap() + 1;
    later.metadata.resource_version = Some(next.to_string());
    later.status.get_or_insert_default().state = prow_core::ProwJobState::Pending;
    vec![
        Write::Create(job("new-1", "kubernetes", "periodic")),
        Write::Create(job("new-1", "kubernetes", "periodic")),
        Write::Update(stale),
        Write::Create(job("Not_A_Name", "kubernetes", "periodic")),
        Write::Update(later),
        Write::Update(fresh),
        Write::Create(job("new-2", "istio", "presubmit")),
    ]
}

#[tokio::test]
async fn a_batch_does_what_the_same_writes_one_at_a_time_do() {
    use prow_jobs::store::Write;
    let batched = SqliteStore::in_memory().unwrap();
    let single = SqliteStore::in_memory().unwrap();
    let mut outcomes = Vec::new();
    for (store, batch) in [(&batched, true), (&single, false)] {
        let stored = store
            .create(job("old", "kubernetes", "periodic"))
            .await
            .unwrap();
        let mut events = store.watch();
        let writes = mixed_writes(&stored);
        let results = if batch {
            store.write_all(writes).await
        } else {
            let mut results = Vec::new();
            for write in writes {
                results.push(match write {
                    Write::Create(job) => store.create(job).await,
                    Write::Update(job) => store.update(job).await,
                    _ => unreachable!("only creates and updates"),
                });
            }
            results
        };
        outcomes.push(outcome_of(store, results, &mut events).await);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    let (results, events) = &outcomes[0];
    insta::assert_snapshot!(results.join("\n"), @r"
    ok new-1 2
    exists new-1
    conflict old 1000 1
    invalid Not_A_Name
    ok new-1 3
    ok old 4
    ok new-2 5
    ");
    insta::assert_snapshot!(events.join("\n"), @r"
    added new-1 2
    modified new-1 3
    modified old 4
    added new-2 5
    ");
    // Both stores hold the same jobs.
    let all = |s: &SqliteStore| {
        let s = s.clone();
        async move {
            s.list(&ListParams::default())
                .await
                .unwrap()
                .into_iter()
                .map(|j| (j.metadata.name, j.metadata.resource_version, j.status))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(all(&batched).await, all(&single).await);
}

#[tokio::test]
async fn a_batch_that_does_not_fit_stores_nothing_and_fails_every_write() {
    use prow_jobs::store::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prow.db");
    let store = SqliteStore::open_with(&path, SqliteOptions::default().max_pages(16))
        .await
        .unwrap();
    store
        .create(job("first", "kubernetes", "periodic"))
        .await
        .unwrap();
    let before = store.version().await.unwrap();
    let mut events = store.watch();
    let writes: Vec<Write> = (0..2000)
        .map(|i| Write::Create(job(&format!("job-{i}"), "kubernetes", "periodic")))
        .chain([Write::Create(job("first", "kubernetes", "periodic"))])
        .collect();
    let results = store.write_all(writes).await;
    assert_eq!(results.len(), 2001);
    for result in &results {
        match result {
            Err(e @ StoreError::Full { .. }) => assert!(e.is_transient()),
            other => panic!("every write fails with the store full: {other:?}"),
        }
    }
    assert!(
        results[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("another write of the batch failed, none was stored"),
        "{:?}",
        results[1]
    );
    assert_eq!(store.version().await.unwrap(), before);
    assert_eq!(
        names(&store.list(&ListParams::default()).await.unwrap()),
        ["first"]
    );
    assert!(
        events.try_recv().is_err(),
        "no event for a batch not stored"
    );
    assert!(
        store.ready().await.is_err(),
        "not ready after the failed batch"
    );
}

#[tokio::test]
async fn the_version_moves_with_every_write_from_any_handle() {
    let (_dir, path, store) = temp_store().await;
    let other = SqliteStore::open(&path).await.unwrap();
    let start = store
        .version()
        .await
        .unwrap()
        .expect("sqlite has a version");
    let created = other
        .create(job("a", "kubernetes", "periodic"))
        .await
        .unwrap();
    let after_create = store.version().await.unwrap().unwrap();
    assert!(after_create > start);
    // Reads and refused writes leave it.
    store.list(&ListParams::default()).await.unwrap();
    let mut stale = created.clone();
    stale.metadata.resource_version = Some("999".to_owned());
    assert!(store.update(stale).await.is_err());
    assert_eq!(store.version().await.unwrap().unwrap(), after_create);
    store.delete("a", None).await.unwrap();
    assert!(other.version().await.unwrap().unwrap() > after_create);
}
