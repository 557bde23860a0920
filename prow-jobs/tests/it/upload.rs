//! Uploads: gcsupload paths, initupload and sidecar against directories and object stores.

use std::path::Path;
use std::time::Duration as StdDuration;

use prow_core::{GcsConfiguration, PathStrategy, ProwJobType, Pull, Refs};
use prow_jobs::JobSpec;
use prow_jobs::clonerefs::{CloneRecord, CommandRecord};
use prow_jobs::entrypoint::{Interrupt, WrapperOptions};
use prow_jobs::gcsupload::{self, GcsUploadOptions};
use prow_jobs::initupload::{self, InitUploadOptions};
use prow_jobs::sidecar::{self, SidecarCensoringOptions, SidecarOptions};
use tokio::sync::mpsc;

use crate::support::files_in as uploaded;

fn spec(job_type: ProwJobType, org: &str, repo: &str) -> JobSpec {
    JobSpec {
        job_type,
        job: "pull-unit".into(),
        build_id: "1234".into(),
        prow_job_id: "uuid".into(),
        refs: Some(Refs {
            org: org.into(),
            repo: repo.into(),
            base_ref: "main".into(),
            base_sha: "abc".into(),
            pulls: vec![Pull {
                number: 42,
                sha: "def".into(),
                ..Pull::default()
            }],
            ..Refs::default()
        }),
        extra_refs: vec![],
        decoration_config: None,
        agent: prow_core::ProwJobAgent::Kubernetes,
    }
}

fn config(strategy: PathStrategy) -> GcsConfiguration {
    GcsConfiguration {
        bucket: "bucket".into(),
        path_strategy: Some(strategy),
        default_org: "kubernetes".into(),
        default_repo: "kubernetes".into(),
        ..GcsConfiguration::default()
    }
}

#[test]
fn paths_follow_prows_layout() {
    let check = |t, org, repo, strategy, expected: &str| {
        assert_eq!(
            gcsupload::path_for_spec(&spec(t, org, repo), &config(strategy)),
            expected
        );
    };
    use PathStrategy::*;
    use ProwJobType::*;
    check(
        Presubmit,
        "kubernetes",
        "kubernetes",
        Legacy,
        "pr-logs/pull/42/pull-unit/1234",
    );
    check(
        Presubmit,
        "kubernetes",
        "test-infra",
        Legacy,
        "pr-logs/pull/test-infra/42/pull-unit/1234",
    );
    check(
        Presubmit,
        "other",
        "repo",
        Legacy,
        "pr-logs/pull/other_repo/42/pull-unit/1234",
    );
    check(
        Presubmit,
        "kubernetes",
        "test-infra",
        Single,
        "pr-logs/pull/kubernetes_test-infra/42/pull-unit/1234",
    );
    check(
        Presubmit,
        "kubernetes",
        "kubernetes",
        Single,
        "pr-logs/pull/42/pull-unit/1234",
    );
    check(
        Presubmit,
        "kubernetes",
        "kubernetes",
        Explicit,
        "pr-logs/pull/kubernetes_kubernetes/42/pull-unit/1234",
    );
    check(
        Presubmit,
        "https://gerrit.host",
        "a/b",
        Explicit,
        "pr-logs/pull/gerrit.host_a_b/42/pull-unit/1234",
    );
    check(Postsubmit, "o", "r", Explicit, "logs/pull-unit/1234");
    check(Periodic, "o", "r", Explicit, "logs/pull-unit/1234");
    check(
        Batch,
        "o",
        "r",
        Explicit,
        "pr-logs/pull/batch/pull-unit/1234",
    );
    let s = spec(Presubmit, "o", "r");
    assert_eq!(
        gcsupload::alias_for_spec(&s).as_deref(),
        Some("pr-logs/directory/pull-unit/1234.txt")
    );
    assert_eq!(
        gcsupload::latest_build_for_spec(&s, &config(Explicit)),
        [
            "pr-logs/directory/pull-unit/latest-build.txt",
            "pr-logs/pull/o_r/42/pull-unit/latest-build.txt"
        ]
    );
}

#[tokio::test]
async fn initupload_reports_clone_failures_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let records = vec![
        CloneRecord::default(),
        CloneRecord {
            refs: spec(ProwJobType::Presubmit, "o", "r").refs.unwrap(),
            commands: vec![CommandRecord {
                command: "git fetch x".into(),
                error: "no route".into(),
                ..CommandRecord::default()
            }],
            failed: true,
            ..CloneRecord::default()
        },
    ];
    let log = dir.path().join("clone.json");
    std::fs::write(&log, serde_json::to_vec(&records).unwrap()).unwrap();
    let options = InitUploadOptions {
        gcs_options: GcsUploadOptions {
            gcs_configuration: Some(GcsConfiguration {
                local_output_dir: out.display().to_string(),
                ..config(PathStrategy::Explicit)
            }),
            ..GcsUploadOptions::default()
        },
        log: log.display().to_string(),
    };
    let err = initupload::run(
        &options,
        &spec(ProwJobType::Presubmit, "o", "r"),
        1_700_000_000,
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "clone refs: 1 clone records failed");
    assert_eq!(
        uploaded(&out),
        [
            "build-log.txt",
            "clone-log.txt",
            "clone-records.json",
            "finished.json",
            "started.json"
        ]
    );
    let finished = std::fs::read_to_string(out.join("finished.json")).unwrap();
    assert_eq!(
        finished,
        r#"{"timestamp":1700000000,"passed":false,"result":"FAILURE"}"#
    );
    let started = std::fs::read_to_string(out.join("started.json")).unwrap();
    assert_eq!(
        started,
        r#"{"timestamp":1700000000,"pull":"42","repos":{"o/r":"main:abc,42:def"},"repo-commit":"def","repo-version":"def"}"#
    );
    let clone_log = std::fs::read_to_string(out.join("clone-log.txt")).unwrap();
    assert_eq!(
        clone_log,
        "Environment setup\n# Final SHA: \n# Total runtime: 0s\n\
         # FAILED\n# Cloning o/r at main(abc)\n# Checking out pulls:\n#\t42(def)\n\
         $ git fetch x\n# Error: no route\n# Final SHA: \n# Total runtime: 0s\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("build-log.txt")).unwrap(),
        clone_log
    );
}

#[tokio::test]
async fn initupload_to_a_file_bucket_writes_the_full_layout() {
    let dir = tempfile::tempdir().unwrap();
    let options = InitUploadOptions {
        gcs_options: GcsUploadOptions {
            gcs_configuration: Some(GcsConfiguration {
                bucket: format!("file://{}", dir.path().display()),
                ..config(PathStrategy::Legacy)
            }),
            ..GcsUploadOptions::default()
        },
        log: String::new(),
    };
    initupload::run(
        &options,
        &spec(ProwJobType::Presubmit, "kubernetes", "test-infra"),
        1,
    )
    .await
    .unwrap();
    assert_eq!(
        uploaded(dir.path()),
        [
            "pr-logs/directory/pull-unit/1234.txt",
            "pr-logs/directory/pull-unit/latest-build.txt",
            "pr-logs/pull/test-infra/42/pull-unit/1234/started.json",
            "pr-logs/pull/test-infra/42/pull-unit/latest-build.txt",
        ]
    );
    let alias =
        std::fs::read_to_string(dir.path().join("pr-logs/directory/pull-unit/1234.txt")).unwrap();
    assert_eq!(
        alias,
        format!(
            "file://{}/pr-logs/pull/test-infra/42/pull-unit/1234",
            dir.path().display()
        )
    );
}

fn entry(dir: &Path, name: &str) -> WrapperOptions {
    WrapperOptions {
        args: vec!["make".into(), name.into()],
        container_name: name.into(),
        process_log: dir.join(format!("{name}-log.txt")).display().to_string(),
        marker_file: dir.join(format!("{name}-marker.txt")).display().to_string(),
        metadata_file: dir
            .join(format!("artifacts/{name}-metadata.json"))
            .display()
            .to_string(),
    }
}

fn sidecar_options(dir: &Path, entries: Vec<WrapperOptions>) -> SidecarOptions {
    std::fs::create_dir_all(dir.join("artifacts")).unwrap();
    SidecarOptions {
        gcs_options: Some(GcsUploadOptions {
            items: vec![dir.join("artifacts").display().to_string()],
            gcs_configuration: Some(GcsConfiguration {
                local_output_dir: dir.join("out").display().to_string(),
                ..config(PathStrategy::Explicit)
            }),
            ..GcsUploadOptions::default()
        }),
        entries,
        ..SidecarOptions::default()
    }
}

/// [`sidecar_options`] censoring the secret `hunter2-token` kept in `dir/secrets`.
fn censoring(dir: &Path, entries: Vec<WrapperOptions>) -> SidecarOptions {
    let mut options = sidecar_options(dir, entries);
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    std::fs::write(dir.join("secrets/token"), "hunter2-token\n").unwrap();
    options.censoring_options = Some(SidecarCensoringOptions {
        secret_directories: vec![dir.join("secrets").display().to_string()],
        ..SidecarCensoringOptions::default()
    });
    options.validate().unwrap();
    options
}

/// Runs sidecar for a job of `job_type` whose markers are written already.
async fn run_sidecar(options: &SidecarOptions, job_type: ProwJobType) -> sidecar::Outcome {
    let (_tx, rx) = mpsc::unbounded_channel();
    let (outcome, _) = sidecar::run(
        options,
        &spec(job_type, "o", "r"),
        rx,
        StdDuration::from_millis(10),
    )
    .await
    .unwrap();
    outcome
}

#[tokio::test]
async fn sidecar_uploads_logs_metadata_and_censors_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let options = censoring(d, vec![entry(d, "unit"), entry(d, "lint")]);
    std::fs::write(d.join("unit-log.txt"), "using hunter2-token here\n").unwrap();
    std::fs::write(d.join("lint-log.txt"), "lint ok\n").unwrap();
    std::fs::write(d.join("artifacts/junit.xml"), "<x>hunter2-token</x>").unwrap();
    std::fs::write(
        d.join("artifacts/unit-metadata.json"),
        r#"{"version":"v1.2"}"#,
    )
    .unwrap();
    std::fs::write(d.join("artifacts/lint-metadata.json"), "not json").unwrap();
    std::fs::write(d.join("unit-marker.txt"), "0").unwrap();
    std::fs::write(d.join("lint-marker.txt"), "2").unwrap();
    let outcome = run_sidecar(&options, ProwJobType::Presubmit).await;
    assert_eq!(
        (outcome.passed, outcome.aborted, outcome.failures),
        (false, false, 1)
    );
    let out = d.join("out");
    assert_eq!(
        uploaded(&out),
        [
            "artifacts/junit.xml",
            "artifacts/lint-metadata.json",
            "artifacts/unit-metadata.json",
            "finished.json",
            "lint-build-log.txt",
            "sidecar-logs.json",
            "unit-build-log.txt"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(out.join("unit-build-log.txt")).unwrap(),
        "using ************* here\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("artifacts/junit.xml")).unwrap(),
        "<x>*************</x>"
    );
    let finished: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("finished.json")).unwrap()).unwrap();
    assert_eq!(finished["passed"], false);
    assert_eq!(finished["result"], "FAILURE");
    assert_eq!(finished["revision"], "def");
    assert_eq!(finished["metadata"]["version"], "v1.2");
    assert!(
        finished["metadata"]["sidecar-errors"]["entry 1: make lint"].is_string(),
        "{finished}"
    );
}

#[tokio::test]
async fn sidecar_uploads_at_once_on_interrupt_then_waits_for_markers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let options = sidecar_options(d, vec![entry(d, "test")]);
    std::fs::write(d.join("test-log.txt"), "partial\n").unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let spec = spec(ProwJobType::Periodic, "o", "r");
    let task = tokio::spawn({
        let options = options.clone();
        async move { sidecar::run(&options, &spec, rx, StdDuration::from_millis(10)).await }
    });
    tx.send(Interrupt::Terminate).unwrap();
    // The best-effort upload writes finished.json with ABORTED before any marker exists.
    let finished = d.join("out/finished.json");
    let interim = loop {
        if let Ok(text) = std::fs::read_to_string(&finished) {
            break text;
        }
        tokio::task::yield_now().await;
    };
    assert!(interim.contains(r#""result":"ABORTED""#), "{interim}");
    std::fs::write(d.join("test-marker.txt"), "130").unwrap();
    let (outcome, _) = task.await.unwrap().unwrap();
    assert_eq!(
        (outcome.passed, outcome.aborted, outcome.failures),
        (false, true, 1)
    );
}

#[test]
fn sidecar_validation_matches_prow() {
    let mut options = SidecarOptions::default();
    assert_eq!(
        options.validate().unwrap_err().to_string(),
        "load sidecar options: no wrapper.Option entries"
    );
    options.secret_directories = Some(vec![]);
    options.censoring_options = Some(SidecarCensoringOptions::default());
    assert!(
        options
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("load sidecar options: cannot use deprecated options")
    );
}

/// Runs initupload then sidecar for `spec` as a pod would, uploading to `store`; returns the
/// uploaded tree as `path: content` lines with timestamps redacted.
async fn pod_upload(store: &dyn prow_jobs::storage::ArtifactStore, bucket: &str, spec: &JobSpec) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gcs = GcsUploadOptions {
        gcs_configuration: Some(GcsConfiguration {
            bucket: bucket.into(),
            ..config(PathStrategy::Legacy)
        }),
        ..GcsUploadOptions::default()
    };
    let records = vec![
        CloneRecord::default(),
        CloneRecord {
            refs: spec.refs.clone().unwrap(),
            final_sha: "merged".into(),
            ..CloneRecord::default()
        },
    ];
    std::fs::write(d.join("clone.json"), serde_json::to_vec(&records).unwrap()).unwrap();
    let init = InitUploadOptions {
        gcs_options: gcs.clone(),
        log: d.join("clone.json").display().to_string(),
    };
    initupload::run_to(Some(store), &init, spec, 1_700_000_000)
        .await
        .unwrap();
    let mut options = sidecar_options(d, vec![entry(d, "test")]);
    options.gcs_options.as_mut().unwrap().gcs_configuration = gcs.gcs_configuration.clone();
    std::fs::write(d.join("test-log.txt"), "ok\n").unwrap();
    std::fs::write(d.join("artifacts/junit_01.xml"), "<testsuite/>").unwrap();
    std::fs::write(d.join("test-marker.txt"), "0").unwrap();
    let (_tx, rx) = mpsc::unbounded_channel();
    sidecar::run_to(
        Some(store),
        &options,
        spec,
        rx,
        StdDuration::from_millis(10),
    )
    .await
    .unwrap();
}

fn redact(text: &str) -> String {
    let value: Result<serde_json::Value, _> = serde_json::from_str(text);
    match value {
        Ok(serde_json::Value::Object(mut map)) => {
            if map.contains_key("timestamp") {
                map.insert("timestamp".into(), "[timestamp]".into());
            }
            serde_json::Value::Object(map).to_string()
        }
        _ => text.replace('\n', "\\n"),
    }
}

async fn tree_of(store: &dyn object_store::ObjectStore) -> Vec<String> {
    use futures::TryStreamExt;
    use object_store::ObjectStoreExt;
    let mut lines = Vec::new();
    let objects: Vec<_> = store.list(None).try_collect().await.unwrap();
    for meta in objects {
        let bytes = store
            .get(&meta.location)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        lines.push(format!(
            "{}: {}",
            meta.location,
            redact(&String::from_utf8_lossy(&bytes))
        ));
    }
    lines.sort();
    lines
}

fn tree_of_dir(root: &Path) -> Vec<String> {
    let mut lines: Vec<String> = uploaded(root)
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(root.join(&p)).unwrap();
            format!("{p}: {}", redact(&text))
        })
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn uploaded_trees_for_a_presubmit_and_a_periodic() {
    for (name, spec) in [
        (
            "presubmit",
            spec(ProwJobType::Presubmit, "kubernetes", "test-infra"),
        ),
        (
            "periodic",
            spec(ProwJobType::Periodic, "kubernetes", "test-infra"),
        ),
    ] {
        let memory = std::sync::Arc::new(object_store::memory::InMemory::new());
        let backend =
            prow_jobs::storage::ObjectStoreBackend::new(memory.clone(), "", "gs://bucket");
        pod_upload(&backend, "gs://bucket", &spec).await;
        let in_memory = tree_of(memory.as_ref()).await;
        let dir = tempfile::tempdir().unwrap();
        let bucket = format!("file://{}", dir.path().display());
        let local = prow_jobs::storage::LocalDirStore::new(dir.path());
        pod_upload(&local, &bucket, &spec).await;
        let on_disk: Vec<String> = tree_of_dir(dir.path())
            .into_iter()
            .map(|l| l.replace(&bucket, "gs://bucket"))
            .collect();
        assert_eq!(
            on_disk, in_memory,
            "{name}: the local and object-store trees differ"
        );
        insta::assert_snapshot!(name, in_memory.join("\n"));
    }
}

#[tokio::test]
async fn sidecar_ignores_interrupts_when_told_to() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut options = sidecar_options(d, vec![entry(d, "test")]);
    options.ignore_interrupts = true;
    std::fs::write(d.join("test-log.txt"), "ok\n").unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(Interrupt::Interrupt).unwrap();
    let spec = spec(ProwJobType::Periodic, "o", "r");
    // The sidecar is polled first: it takes the interrupt, finds no marker and waits; only
    // then is the marker written.
    let sidecar = sidecar::run(&options, &spec, rx, StdDuration::from_millis(10));
    let finish = async { std::fs::write(d.join("test-marker.txt"), "0").unwrap() };
    let (result, ()) = futures::future::join(sidecar, finish).await;
    let (outcome, _) = result.unwrap();
    assert!(outcome.passed);
    let log = std::fs::read_to_string(d.join("out/sidecar-logs.json")).unwrap();
    assert!(
        log.contains("received an interrupt: Interrupt, ignoring"),
        "{log}"
    );
    assert!(!log.contains("uploading what there is"), "{log}");
}

#[tokio::test]
async fn sidecar_reads_and_censors_nothing_through_a_jobs_links() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let options = censoring(d, vec![entry(d, "unit")]);
    // Outside the job's directories: a file holding the secret, which censoring must not
    // rewrite and the upload must not copy.
    let outside = d.join("outside.txt");
    std::fs::write(&outside, "hunter2-token lives here\n").unwrap();
    std::os::unix::fs::symlink(&outside, d.join("artifacts/outside")).unwrap();
    std::fs::write(d.join("artifacts/junit.xml"), "<x>hunter2-token</x>").unwrap();
    // The process log and metadata file replaced by links, as a job could.
    std::os::unix::fs::symlink(&outside, d.join("unit-log.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, d.join("artifacts/unit-metadata.json")).unwrap();
    std::fs::write(d.join("unit-marker.txt"), "0").unwrap();
    run_sidecar(&options, ProwJobType::Periodic).await;
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "hunter2-token lives here\n"
    );
    let out = d.join("out");
    assert_eq!(
        uploaded(&out),
        [
            "artifacts/junit.xml",
            "build-log.txt",
            "finished.json",
            "sidecar-logs.json"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(out.join("artifacts/junit.xml")).unwrap(),
        "<x>*************</x>"
    );
    let build_log = std::fs::read_to_string(out.join("build-log.txt")).unwrap();
    assert!(build_log.starts_with("Failed to open "), "{build_log}");
    assert!(!build_log.contains("lives here"), "{build_log}");
    let finished = std::fs::read_to_string(out.join("finished.json")).unwrap();
    assert!(!finished.contains("lives here"), "{finished}");
    let log = std::fs::read_to_string(out.join("sidecar-logs.json")).unwrap();
    assert!(
        log.contains("skipped artifacts/outside: symbolic link to"),
        "{log}"
    );
}
