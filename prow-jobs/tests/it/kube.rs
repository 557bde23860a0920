//! The Kubernetes backend against the fake API server: ProwJobs as custom resources (create,
//! get, list by label, replace with conflicts, delete with preconditions, watch), Pods
//! created, read as plank reads them and deleted, and how a Pod's status maps to what plank
//! decides. One test runs against a real cluster when `KUBECONFIG` is set.

use std::time::Duration;

use prow_core::ProwJob;
use prow_core::k8s_openapi::api::core::v1::Pod;
use prow_jobs::kube::fake::{FakeApiServer, Resource};
use prow_jobs::kube::{KubeRunner, KubeStore, pod_status};
use prow_jobs::runner::{PodPhase, Runner, RunnerError, StopCause};
use prow_jobs::store::{JobStore, ListParams, StoreError, WatchEvent};
use serde_json::{Value, json};

use crate::support::prowjob;

const NS: &str = "prow";

fn job(name: &str, labels: Value) -> ProwJob {
    prowjob(
        name,
        labels,
        json!({
            "type": "periodic",
            "agent": "kubernetes",
            "job": "echo",
            "pod_spec": {"containers": [{"image": "alpine", "command": ["echo", "hi"]}]},
        }),
    )
}

fn rv(job: &ProwJob) -> String {
    job.metadata
        .resource_version
        .clone()
        .expect("stored jobs have a resourceVersion")
}

/// The next event, failing the test after a generous wait.
async fn next_event(events: &mut tokio::sync::broadcast::Receiver<WatchEvent>) -> WatchEvent {
    tokio::time::timeout(Duration::from_secs(30), events.recv())
        .await
        .expect("a watch event within 30s")
        .expect("the watch is open")
}

#[tokio::test]
async fn store_creates_gets_lists_updates_and_deletes_prowjobs() {
    let fake = FakeApiServer::start().expect("fake API server");
    let store = KubeStore::new(fake.client(), NS);
    assert_eq!(store.namespace(), NS);

    let created = store
        .create(job("a", json!({"team": "red"})))
        .await
        .expect("create a");
    assert_eq!(created.metadata.namespace.as_deref(), Some(NS));
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    store
        .create(job("b", json!({"team": "blue"})))
        .await
        .expect("create b");
    assert_eq!(fake.names(Resource::ProwJobs, NS), ["a", "b"]);

    let again = store.create(job("a", json!({}))).await.unwrap_err();
    assert!(
        matches!(&again, StoreError::AlreadyExists { name } if name == "a"),
        "{again}"
    );
    let mut versioned = job("c", json!({}));
    versioned.metadata.resource_version = Some("7".into());
    assert!(matches!(
        store.create(versioned).await,
        Err(StoreError::Invalid { .. })
    ));
    let mut elsewhere = job("d", json!({}));
    elsewhere.metadata.namespace = Some("other".into());
    assert!(matches!(
        store.create(elsewhere).await,
        Err(StoreError::Invalid { .. })
    ));

    assert_eq!(store.get("a").await.unwrap().as_ref(), Some(&created));
    assert_eq!(store.get("missing").await.unwrap(), None);
    let all: Vec<String> = store
        .list(&ListParams::default())
        .await
        .unwrap()
        .iter()
        .map(|j| j.name().to_owned())
        .collect();
    assert_eq!(all, ["a", "b"]);
    let red = store
        .list(&ListParams::parse_labels("team in (red,green)").unwrap())
        .await
        .unwrap();
    assert_eq!(red.len(), 1);
    assert_eq!(red[0].name(), "a");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r == "LIST prowjobs prow labelSelector=team in (green,red)"),
        "{:?}",
        fake.requests()
    );

    // The API server cannot select on the state: the store filters what it returns, and a
    // batch is the same writes one at a time.
    let mut pending = created.clone();
    pending.status.get_or_insert_default().state = prow_core::ProwJobState::Pending;
    let results = store
        .write_all(vec![
            prow_jobs::store::Write::Update(pending),
            prow_jobs::store::Write::Create(job("b", json!({}))),
        ])
        .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(
        matches!(&results[1], Err(StoreError::AlreadyExists { name }) if name == "b"),
        "{:?}",
        results[1]
    );
    let created = results[0].as_ref().unwrap().clone();
    let live = store
        .list(&ListParams::default().in_states(&[prow_core::ProwJobState::Pending]))
        .await
        .unwrap();
    assert_eq!(live, std::slice::from_ref(&created));

    let mut changed = created.clone();
    changed.spec.job = "echo-2".into();
    let updated = store
        .update(changed.clone())
        .await
        .expect("update with the stored version");
    assert_eq!(updated.spec.job, "echo-2");
    assert_ne!(rv(&updated), rv(&created));
    assert_eq!(updated.metadata.uid, created.metadata.uid);

    // The same stale object again: the API server's 409 becomes a Conflict naming both versions.
    let stale = store.update(changed).await.unwrap_err();
    match &stale {
        StoreError::Conflict {
            name,
            expected,
            actual,
        } => {
            assert_eq!(name, "a");
            assert_eq!(expected, &rv(&created));
            assert_eq!(actual, &rv(&updated));
        }
        other => panic!("expected a conflict, got {other}"),
    }
    let mut ghost = job("ghost", json!({}));
    ghost.metadata.resource_version = Some("1".into());
    assert!(matches!(
        store.update(ghost).await,
        Err(StoreError::NotFound { .. })
    ));

    let refused = store.delete("a", Some(&rv(&created))).await.unwrap_err();
    assert!(matches!(refused, StoreError::Conflict { .. }), "{refused}");
    let deleted = store
        .delete("a", Some(&rv(&updated)))
        .await
        .expect("delete with the stored version");
    assert_eq!(deleted, updated);
    let deleted = store.delete("b", None).await.expect("unconditional delete");
    assert_eq!(deleted.name(), "b");
    assert!(matches!(
        store.delete("b", None).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(fake.names(Resource::ProwJobs, NS).is_empty());
}

#[tokio::test]
async fn a_write_that_loses_a_race_is_a_conflict_with_the_winning_version() {
    let fake = FakeApiServer::start().expect("fake API server");
    let store = KubeStore::new(fake.client(), NS);
    let created = store.create(job("raced", json!({}))).await.unwrap();
    fake.race_next_write(Resource::ProwJobs, "raced");
    let err = store.update(created.clone()).await.unwrap_err();
    let winner = fake.get(Resource::ProwJobs, NS, "raced").unwrap();
    match err {
        StoreError::Conflict {
            expected, actual, ..
        } => {
            assert_eq!(expected, rv(&created));
            assert_eq!(
                actual,
                winner["metadata"]["resourceVersion"].as_str().unwrap()
            );
        }
        other => panic!("expected a conflict, got {other}"),
    }
    // Read again, apply again: it goes through.
    let fresh = store.get("raced").await.unwrap().unwrap();
    store
        .update(fresh)
        .await
        .expect("retry with the fresh version");
}

#[tokio::test]
async fn watch_reports_every_change_in_order_whoever_makes_it() {
    let fake = FakeApiServer::start().expect("fake API server");
    let store = KubeStore::new(fake.client(), NS);
    let other_namespace = KubeStore::new(fake.client(), "elsewhere");
    store.create(job("before", json!({}))).await.unwrap();
    let mut events = store.watch();
    store.watching().await;

    let a = store.create(job("a", json!({}))).await.unwrap();
    other_namespace
        .create(job("not-ours", json!({})))
        .await
        .unwrap();
    let mut changed = a.clone();
    changed.spec.job = "changed".into();
    let changed = store.update(changed).await.unwrap();
    // Another client (deck aborting the job, say) writes directly.
    fake.modify(Resource::ProwJobs, NS, "before", |o| {
        o["spec"]["job"] = json!("by-someone-else")
    });
    store.delete("a", None).await.unwrap();

    assert_eq!(
        next_event(&mut events).await,
        WatchEvent::Added(Box::new(a))
    );
    assert_eq!(
        next_event(&mut events).await,
        WatchEvent::Modified(Box::new(changed.clone()))
    );
    match next_event(&mut events).await {
        WatchEvent::Modified(job) => assert_eq!(
            (job.name(), job.spec.job.as_str()),
            ("before", "by-someone-else")
        ),
        other => panic!("expected before modified, got {other:?}"),
    }
    match next_event(&mut events).await {
        WatchEvent::Deleted(job) => assert_eq!(job.name(), "a"),
        other => panic!("expected a deleted, got {other:?}"),
    }
    assert!(
        events.try_recv().is_err(),
        "nothing else: the first listing and other namespaces are not reported"
    );
}

#[tokio::test]
async fn runner_creates_decorated_labelled_pods_and_deletes_them() {
    let fake = FakeApiServer::start().expect("fake API server");
    let runner = KubeRunner::new(fake.client(), "test-pods", "default");
    let mut pj = job("p1", json!({}));
    pj.status.get_or_insert_default().build_id = "42".into();

    let pod = runner.create(&pj).await.expect("create pod");
    assert_eq!(
        (
            pod.name.as_str(),
            pod.prowjob.as_str(),
            pod.build_id.as_str()
        ),
        ("p1", "p1", "42")
    );
    assert_eq!(pod.phase, PodPhase::Pending);
    assert_eq!(pod.started, None);
    let stored = fake
        .get(Resource::Pods, "test-pods", "p1")
        .expect("the pod is in pod_namespace");
    let labels = &stored["metadata"]["labels"];
    assert_eq!(labels["created-by-prow"], "true");
    assert_eq!(labels["prow.k8s.io/id"], "p1");
    assert_eq!(labels["prow.k8s.io/build-id"], "42");
    assert_eq!(
        labels["prow.k8s.io/plank-version"],
        prow_jobs::kube::PLANK_VERSION_VALUE
    );
    assert_eq!(stored["spec"]["restartPolicy"], "Never");

    let again = runner.create(&pj).await.unwrap_err();
    assert!(
        matches!(&again, RunnerError::AlreadyExists { name } if name == "p1"),
        "{again}"
    );
    let mut no_spec = job("p2", json!({}));
    no_spec.spec.pod_spec = None;
    assert!(matches!(
        runner.create(&no_spec).await,
        Err(RunnerError::Unprocessable(_))
    ));

    assert_eq!(runner.get("p1").await.unwrap(), Some(pod.clone()));
    assert_eq!(runner.get("nope").await.unwrap(), None);
    assert_eq!(runner.list().await.unwrap(), vec![pod]);
    runner.delete("p1").await.expect("delete");
    runner
        .delete("p1")
        .await
        .expect("deleting a missing pod is fine");
    assert!(fake.names(Resource::Pods, "test-pods").is_empty());
}

/// A pod as the API server would show it: `status` and extra `metadata` over a minimal pod.
fn pod(metadata: Value, status: Value) -> Pod {
    let mut meta = json!({"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"prow.k8s.io/id": "job-p", "prow.k8s.io/build-id": "9"}});
    for (k, v) in metadata.as_object().unwrap() {
        meta[k] = v.clone();
    }
    serde_json::from_value(json!({"metadata": meta, "status": status})).expect("pod")
}

fn terminated(name: &str, reason: &str, exit_code: i32, finished: bool) -> Value {
    let mut t = json!({"reason": reason, "exitCode": exit_code});
    if finished {
        t["finishedAt"] = json!("2026-01-01T00:10:00Z");
    }
    json!({"name": name, "image": "x", "imageID": "", "ready": false, "restartCount": 0, "state": {"terminated": t}})
}

/// What, the pod, then its phase, stop cause, `all_containers_finished` and `deleting`.
type Case = (&'static str, Pod, PodPhase, Option<StopCause>, bool, bool);

#[test]
fn pods_read_as_upstream_plank_reads_them() {
    let deleting = json!({"deletionTimestamp": "2026-01-01T00:05:00Z"});
    let ok = terminated("test", "Completed", 0, true);
    let cases: Vec<Case> = vec![
        (
            "not yet scheduled",
            pod(json!({}), json!({"phase": "Pending"})),
            PodPhase::Pending,
            None,
            false,
            false,
        ),
        (
            "no status at all",
            pod(json!({}), json!({})),
            PodPhase::Pending,
            None,
            false,
            false,
        ),
        (
            "evicted",
            pod(json!({}), json!({"phase": "Failed", "reason": "Evicted"})),
            PodPhase::Failed,
            Some(StopCause::Evicted),
            false,
            false,
        ),
        (
            "node lost while deleting",
            pod(
                deleting.clone(),
                json!({"phase": "Running", "reason": "NodeLost"}),
            ),
            PodPhase::Running,
            Some(StopCause::Unreachable),
            false,
            true,
        ),
        (
            "node lost, not deleting",
            pod(json!({}), json!({"phase": "Running", "reason": "NodeLost"})),
            PodPhase::Running,
            None,
            false,
            false,
        ),
        (
            "OOM killed while running",
            pod(
                json!({}),
                json!({"phase": "Running", "containerStatuses": [terminated("test", "OOMKilled", 137, true)]}),
            ),
            PodPhase::Running,
            Some(StopCause::OomKilled),
            false,
            false,
        ),
        (
            "OOM killed init container",
            pod(
                json!({}),
                json!({"phase": "Running", "initContainerStatuses": [terminated("clonerefs", "OOMKilled", 137, true)]}),
            ),
            PodPhase::Running,
            Some(StopCause::OomKilled),
            false,
            false,
        ),
        (
            "OOM killed, pod already failed",
            pod(
                json!({}),
                json!({"phase": "Failed", "containerStatuses": [terminated("test", "OOMKilled", 137, true)]}),
            ),
            PodPhase::Failed,
            None,
            false,
            false,
        ),
        (
            "unknown phase",
            pod(json!({}), json!({"phase": "Unknown"})),
            PodPhase::Unknown,
            Some(StopCause::Unknown),
            false,
            false,
        ),
        (
            "succeeded",
            pod(
                json!({}),
                json!({"phase": "Succeeded", "containerStatuses": [ok.clone()], "initContainerStatuses": [ok.clone()]}),
            ),
            PodPhase::Succeeded,
            None,
            true,
            false,
        ),
        (
            "succeeded, a container unfinished",
            pod(
                json!({}),
                json!({"phase": "Succeeded", "containerStatuses": [ok.clone(), terminated("sidecar", "Completed", 0, false)]}),
            ),
            PodPhase::Succeeded,
            None,
            false,
            false,
        ),
        (
            "succeeded, an init container failed",
            pod(
                json!({}),
                json!({"phase": "Succeeded", "containerStatuses": [ok.clone()], "initContainerStatuses": [terminated("clonerefs", "Error", 1, true)]}),
            ),
            PodPhase::Succeeded,
            None,
            false,
            false,
        ),
        (
            "failed",
            pod(
                json!({}),
                json!({"phase": "Failed", "containerStatuses": [terminated("test", "Error", 1, true)]}),
            ),
            PodPhase::Failed,
            None,
            false,
            false,
        ),
        (
            "running, being deleted",
            pod(deleting, json!({"phase": "Running"})),
            PodPhase::Running,
            None,
            false,
            true,
        ),
    ];
    for (what, pod, phase, cause, succeeded, deleting) in cases {
        let status = pod_status(&pod).unwrap_or_else(|| panic!("{what}: a status"));
        assert_eq!(status.phase, phase, "{what}");
        assert_eq!(status.stop_cause, cause, "{what}");
        assert_eq!(status.all_containers_finished, succeeded, "{what}");
        assert_eq!(status.deleting, deleting, "{what}");
        assert_eq!(
            (status.prowjob.as_str(), status.build_id.as_str()),
            ("job-p", "9"),
            "{what}"
        );
    }
    let started = pod(
        json!({}),
        json!({"phase": "Pending", "startTime": "2026-01-01T00:01:00Z", "message": "pulling"}),
    );
    let status = pod_status(&started).unwrap();
    assert_eq!(
        status.started.map(|t| t.to_string()).as_deref(),
        Some("2026-01-01T00:01:00Z")
    );
    assert_eq!(status.message, "pulling");
    let finished = pod_status(&pod(
        json!({}),
        json!({"phase": "Failed", "containerStatuses": [terminated("test", "Error", 1, true)]}),
    ))
    .unwrap();
    assert_eq!(
        finished.finished.map(|t| t.to_string()).as_deref(),
        Some("2026-01-01T00:10:00Z")
    );
    let nameless: Pod = serde_json::from_value(json!({"metadata": {}})).unwrap();
    assert_eq!(pod_status(&nameless), None);
}

/// Against the cluster `KUBECONFIG` names, with the ProwJob CRD installed (`prow crd | kubectl
/// apply -f -`): a job's whole life in `$PROW_TEST_NAMESPACE` (default `default`).
#[tokio::test]
async fn real_cluster_when_kubeconfig_is_set() {
    if std::env::var_os("KUBECONFIG").is_none() {
        eprintln!("notice: KUBECONFIG is not set; skipping the real-cluster test");
        return;
    }
    let namespace = std::env::var("PROW_TEST_NAMESPACE").unwrap_or_else(|_| "default".into());
    prow_jobs::kube::install_crypto_provider();
    let client = ::kube::Client::try_default()
        .await
        .expect("a client for $KUBECONFIG");
    let store = KubeStore::new(client, &namespace);
    let name = format!("prow-rs-it-{}", uuid::Uuid::new_v4().simple());
    let created = store
        .create(job(&name, json!({"prow-rs-it": "true"})))
        .await
        .expect("create");
    let listed = store
        .list(&ListParams::parse_labels("prow-rs-it=true").unwrap())
        .await
        .expect("list");
    assert!(listed.iter().any(|j| j.name() == name));
    let mut changed = created.clone();
    changed.spec.job = "changed".into();
    let updated = store.update(changed.clone()).await.expect("update");
    assert!(matches!(
        store.update(changed).await,
        Err(StoreError::Conflict { .. })
    ));
    store
        .delete(&name, Some(&rv(&updated)))
        .await
        .expect("delete");
}

#[tokio::test]
async fn crier_recording_a_report_retries_a_lost_race_and_keeps_the_winners_change() {
    let fake = FakeApiServer::start().expect("fake API server");
    let store = KubeStore::new(fake.client(), NS);
    store.create(job("reported", json!({}))).await.unwrap();
    fake.race_next_write(Resource::ProwJobs, "reported");
    prow_jobs::crier::mark_reported(&store, "reported", prow_core::ProwJobState::Success)
        .await
        .expect("the conflict is retried");
    let stored = store.get("reported").await.unwrap().unwrap();
    let states = &stored.status.as_ref().unwrap().prev_report_states;
    assert_eq!(
        states.get(prow_jobs::crier::REPORTER_NAME),
        Some(&prow_core::ProwJobState::Success)
    );
    let annotations = stored.metadata.annotations.unwrap_or_default();
    assert!(annotations.contains_key("fake.prow-rs.dev/concurrent-writer"));
    let replaces = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("REPLACE prowjobs"))
        .count();
    assert_eq!(replaces, 2, "one lost, one won: {:?}", fake.requests());
}

#[tokio::test]
async fn refusals_name_the_job_and_why() {
    let fake = FakeApiServer::start().expect("fake API server");
    let store = KubeStore::new(fake.client(), NS);
    let runner = KubeRunner::new(fake.client(), "test-pods", "build-1");
    let created = store.create(job("a", json!({}))).await.unwrap();
    store.update(created.clone()).await.unwrap();
    let mut elsewhere = job("b", json!({}));
    elsewhere.metadata.namespace = Some("other".into());
    let mut no_spec = job("c", json!({}));
    no_spec.spec.pod_spec = None;
    let mut pj = job("d", json!({}));
    pj.status.get_or_insert_default().build_id = "1".into();
    runner.create(&pj).await.unwrap();
    let errors = vec![
        store
            .create(job("a", json!({})))
            .await
            .unwrap_err()
            .to_string(),
        store
            .create(job("", json!({})))
            .await
            .unwrap_err()
            .to_string(),
        store.create(elsewhere).await.unwrap_err().to_string(),
        store.update(created.clone()).await.unwrap_err().to_string(),
        store.delete("a", Some("1")).await.unwrap_err().to_string(),
        store.delete("zz", None).await.unwrap_err().to_string(),
        runner.create(&pj).await.unwrap_err().to_string(),
        runner.create(&no_spec).await.unwrap_err().to_string(),
    ];
    insta::assert_yaml_snapshot!(errors);
}

#[tokio::test]
async fn store_is_ready_while_the_api_server_answers() {
    let fake = FakeApiServer::start().expect("fake API server");
    let store = KubeStore::new(fake.client(), NS);
    store.ready().await.expect("ready");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("LIST prowjobs prow")),
        "{:?}",
        fake.requests()
    );
    drop(fake);
    let err = store.ready().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.is_transient(), "{err}");
}
