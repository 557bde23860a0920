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
    insta::assert_snapshot!(message, @"job store [file]: schema version 3 is newer than this program knows (2); refusing to open it, use a newer prow-rs");
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

#[tokio::test]
async fn label_selectors_use_the_index() {
    let store = SqliteStore::in_memory().unwrap();
    for i in 0..50 {
        store
            .create(job(&format!("job-{i}"), "kubernetes", "periodic"))
            .await
            .unwrap();
    }
    let params =
        ListParams::parse_labels("prow.k8s.io/type=presubmit,prow.k8s.io/refs.org=kubernetes")
            .unwrap();
    let plan = store.list_query_plan(&params).await.unwrap().join("\n");
    assert!(
        plan.contains("prowjob_labels_by_key_value"),
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

#[tokio::test]
async fn a_version_1_file_gains_the_heartbeat_and_keeps_its_jobs() {
    let (_dir, path, store) = temp_store().await;
    let created = store
        .create(job("a", "kubernetes", "periodic"))
        .await
        .unwrap();
    drop(store);
    // A file as version 1 wrote it: the same tables but the heartbeat.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE heartbeat; PRAGMA user_version = 1;")
            .unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), Some(created));
    store.ready().await.expect("the probe's table is there");
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 2);
}
