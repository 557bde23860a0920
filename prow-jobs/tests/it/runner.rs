//! The local runner with real processes, git repositories and artifact folders: undecorated
//! and decorated pods, failures, deletion, and pods whose supervisor died.

use std::path::Path;
use std::time::Duration;

use prow_core::ProwJob;
use prow_jobs::runner::{
    ContainerRuntime, LocalOptions, LocalRunner, PodPhase, PodStatus, Runner, RunnerError,
    StopCause,
};
use serde_json::{Value, json};

use crate::support::prowjob;

pub(crate) fn runner(root: &Path) -> LocalRunner {
    let mut options = LocalOptions::new(root);
    options.runtime = ContainerRuntime::Host;
    LocalRunner::new(options).expect("runner")
}

/// A job `name` running `script` under `sh -c`, with build ID 101, decorated when
/// `decoration` is given.
pub(crate) fn job(
    name: &str,
    script: &str,
    decoration: Option<Value>,
    refs: Option<Value>,
) -> ProwJob {
    let mut spec = json!({
        "type": "periodic",
        "agent": "kubernetes",
        "job": "local-test",
        "pod_spec": {"containers": [{"image": "alpine", "command": ["sh", "-c"], "args": [script]}]},
    });
    if let Some(decoration) = decoration {
        spec["decoration_config"] = decoration;
    }
    if let Some(refs) = refs {
        spec["type"] = "postsubmit".into();
        spec["refs"] = refs;
    }
    let mut job = prowjob(name, json!({}), spec);
    job.status.get_or_insert_default().build_id = "101".to_owned();
    job
}

pub(crate) fn decoration() -> Value {
    json!({
        "timeout": "1m",
        "grace_period": "2s",
        "utility_images": {"clonerefs": "c", "initupload": "i", "entrypoint": "e", "sidecar": "s"},
        "gcs_configuration": {"bucket": "gs://not-used-locally", "path_strategy": "explicit"},
    })
}

/// Waits until the pod is finished, woken by the runner's change notifications.
pub(crate) async fn finished(runner: &LocalRunner, name: &str) -> PodStatus {
    let changes = runner.changes().expect("the local runner notifies");
    let wait = async {
        loop {
            let notified = changes.notified();
            let pod = runner.get(name).await.expect("get").expect("pod exists");
            if matches!(pod.phase, PodPhase::Succeeded | PodPhase::Failed) {
                return pod;
            }
            notified.await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("the pod finishes within a minute")
}

/// Polls until `check` holds for the pod (phases that change without a notification).
async fn until(runner: &LocalRunner, name: &str, check: impl Fn(&PodStatus) -> bool) -> PodStatus {
    let wait = async {
        loop {
            if let Some(pod) = runner.get(name).await.expect("get")
                && check(&pod)
            {
                return pod;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("the pod gets there within a minute")
}

#[tokio::test]
async fn an_undecorated_job_runs_on_the_host_with_prows_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let runner = runner(tmp.path());
    let pod = runner
        .create(&job(
            "plain",
            "echo hello from $JOB_NAME build $BUILD_ID",
            None,
            None,
        ))
        .await
        .unwrap();
    assert_eq!(pod.name, "plain");
    assert_eq!(pod.build_id, "101");
    assert_eq!(pod.place, "on the host");
    let pod = finished(&runner, "plain").await;
    assert_eq!(pod.phase, PodPhase::Succeeded);
    assert!(pod.all_containers_finished);
    assert!(pod.finished.is_some() && pod.started.is_some());
    let log = std::fs::read_to_string(tmp.path().join("plain/build-log.txt")).unwrap();
    assert!(log.contains("hello from local-test build 101"), "{log}");
    assert!(matches!(
        runner.create(&job("plain", "true", None, None)).await,
        Err(RunnerError::AlreadyExists { .. })
    ));
}

#[tokio::test]
async fn a_failing_command_fails_the_pod() {
    let tmp = tempfile::tempdir().unwrap();
    let runner = runner(tmp.path());
    runner
        .create(&job(
            "fails",
            "echo broken; exit 3",
            Some(decoration()),
            None,
        ))
        .await
        .unwrap();
    let pod = finished(&runner, "fails").await;
    assert_eq!(pod.phase, PodPhase::Failed);
    let finished: Value = serde_json::from_str(
        &std::fs::read_to_string(
            tmp.path()
                .join("artifacts/logs/local-test/101/finished.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(finished["result"], "FAILURE");
}

#[tokio::test]
async fn a_decorated_job_clones_runs_and_uploads_to_the_local_artifact_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = tmp.path().join("origin");
    let repo = git2::Repository::init(&origin).unwrap();
    std::fs::write(origin.join("hello.txt"), "from the repository\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("hello.txt")).unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    let sha = repo
        .commit(Some("refs/heads/main"), &sig, &sig, "one", &tree, &[])
        .unwrap()
        .to_string();
    let refs = json!({"org": "acme", "repo": "widget", "base_ref": "main", "base_sha": sha, "clone_uri": origin.display().to_string()});
    let runner = runner(&tmp.path().join("pods"));
    runner
        .create(&job(
            "decorated",
            "cat hello.txt; echo $PULL_BASE_SHA; echo result > $ARTIFACTS/out.txt",
            Some(decoration()),
            Some(refs),
        ))
        .await
        .unwrap();
    let pod = finished(&runner, "decorated").await;
    assert_eq!(pod.phase, PodPhase::Succeeded, "{pod:?}");
    let results = tmp.path().join("pods/artifacts/logs/local-test/101");
    let log = std::fs::read_to_string(results.join("build-log.txt")).unwrap();
    assert!(log.contains("from the repository"), "{log}");
    assert!(log.contains(&sha), "{log}");
    assert_eq!(
        std::fs::read_to_string(results.join("artifacts/out.txt")).unwrap(),
        "result\n"
    );
    let started: Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("started.json")).unwrap())
            .unwrap();
    assert_eq!(started["repo-commit"], sha.as_str());
    assert!(results.join("clone-records.json").is_file());
    assert_eq!(
        std::fs::read_to_string(
            tmp.path()
                .join("pods/artifacts/logs/local-test/latest-build.txt")
        )
        .unwrap(),
        "101"
    );
}

#[tokio::test]
async fn a_local_checkout_is_used_instead_of_cloning() {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = tmp.path().join("checkout");
    std::fs::create_dir_all(&checkout).unwrap();
    std::fs::write(checkout.join("local.txt"), "uncommitted work\n").unwrap();
    let mut options = LocalOptions::new(tmp.path().join("pods"));
    options.runtime = ContainerRuntime::Host;
    options.repos.insert("acme/widget".into(), checkout.clone());
    let runner = LocalRunner::new(options).unwrap();
    let refs = json!({"org": "acme", "repo": "widget", "base_ref": "main", "base_sha": "0123456789abcdef0123456789abcdef01234567"});
    runner
        .create(&job(
            "local",
            "cat local.txt",
            Some(decoration()),
            Some(refs),
        ))
        .await
        .unwrap();
    let pod = finished(&runner, "local").await;
    assert_eq!(pod.phase, PodPhase::Succeeded, "{pod:?}");
    let log = std::fs::read_to_string(
        tmp.path()
            .join("pods/artifacts/logs/local-test/101/build-log.txt"),
    )
    .unwrap();
    assert!(log.contains("uncommitted work"), "{log}");
}

#[tokio::test]
async fn deleting_a_running_pod_stops_its_command_and_removes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let runner = runner(tmp.path());
    runner
        .create(&job(
            "long",
            "echo started; sleep 60",
            Some(decoration()),
            None,
        ))
        .await
        .unwrap();
    until(&runner, "long", |p| p.phase == PodPhase::Running).await;
    runner.delete("long").await.unwrap();
    let deleting = runner.get("long").await.unwrap();
    assert!(deleting.is_none_or(|p| p.deleting));
    let changes = runner.changes().unwrap();
    let gone = async {
        loop {
            let notified = changes.notified();
            if runner.get("long").await.unwrap().is_none() {
                return;
            }
            notified.await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), gone)
        .await
        .expect("the pod stops well before its command would have");
    assert!(!tmp.path().join("long").exists());
    runner
        .delete("long")
        .await
        .expect("deleting a missing pod is fine");
}

#[tokio::test]
async fn a_pod_whose_supervisor_died_is_unknown_to_a_new_runner() {
    let tmp = tempfile::tempdir().unwrap();
    let first = runner(tmp.path());
    first
        .create(&job("done", "true", None, None))
        .await
        .unwrap();
    finished(&first, "done").await;
    first
        .create(&job("orphan", "true", None, None))
        .await
        .unwrap();
    finished(&first, "orphan").await;
    // As if its supervisor process had been killed before writing a result.
    std::fs::remove_file(tmp.path().join("orphan/result.json")).unwrap();
    std::fs::write(tmp.path().join("orphan/supervisor"), "999999999 1\n").unwrap();

    let second = runner(tmp.path());
    let pods = second.list().await.unwrap();
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["done", "orphan"]);
    assert_eq!(pods[0].phase, PodPhase::Succeeded);
    assert_eq!(pods[1].phase, PodPhase::Unknown);
    assert_eq!(pods[1].stop_cause, Some(StopCause::Unknown));
    second.delete("orphan").await.unwrap();
    assert!(second.get("orphan").await.unwrap().is_none());
}

#[tokio::test]
async fn a_job_that_cannot_become_a_pod_is_unprocessable() {
    let tmp = tempfile::tempdir().unwrap();
    let runner = runner(tmp.path());
    let mut no_pod = job("nopod", "true", None, None);
    no_pod.spec.pod_spec = None;
    let err = runner.create(&no_pod).await.unwrap_err();
    assert!(matches!(err, RunnerError::Unprocessable(_)), "{err}");
    assert!(err.to_string().contains("lacks a pod spec"), "{err}");
    assert!(!tmp.path().join("nopod").exists());
}

#[tokio::test]
async fn a_container_with_an_image_runs_under_the_container_engine() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    // A stand-in for docker: records its arguments, then runs the command after the image on
    // the host with the `-e` variables, as the container would.
    let engine = tmp.path().join("fake-docker");
    std::fs::write(
        &engine,
        "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/args.txt\"\nwhile [ $# -gt 0 ]; do\n  case \"$1\" in\n    run|--rm|--init) shift ;;\n    --name|-w|-v) shift 2 ;;\n    -e) export \"$2\"; shift 2 ;;\n    *) shift; break ;;\n  esac\ndone\nexec \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&engine, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut options = LocalOptions::new(tmp.path().join("pods"));
    options.runtime = ContainerRuntime::Docker;
    options.engine = Some(engine);
    let runner = LocalRunner::new(options).unwrap();
    let pod = runner
        .create(&job("boxed", "echo inside as $JOB_NAME", None, None))
        .await
        .unwrap();
    assert_eq!(pod.place, "in docker");
    let pod = finished(&runner, "boxed").await;
    assert_eq!(pod.phase, PodPhase::Succeeded, "{pod:?}");
    let args = std::fs::read_to_string(tmp.path().join("args.txt")).unwrap();
    assert!(
        args.starts_with("run --rm --init --name prow-boxed-"),
        "{args}"
    );
    assert!(args.contains("-e JOB_NAME=local-test"), "{args}");
    assert!(
        args.contains(" alpine sh -c echo inside as $JOB_NAME"),
        "{args}"
    );
    // Every variable is given with its value: a bare `-e NAME` would pass the engine's own on.
    let words: Vec<&str> = args.split(' ').collect();
    for pair in words.windows(2).filter(|w| w[0] == "-e") {
        assert!(pair[1].contains('='), "{args}");
    }
    let log = std::fs::read_to_string(tmp.path().join("pods/boxed/build-log.txt")).unwrap();
    assert!(log.contains("inside as local-test"), "{log}");
}

/// Every file under `root` as `path: content`, sorted.
fn files_under(root: &Path) -> Vec<String> {
    crate::support::files_in(root)
        .into_iter()
        .map(|relative| {
            let content = std::fs::read_to_string(root.join(&relative)).unwrap();
            format!("{relative}: {}", content.trim_end())
        })
        .collect()
}

#[tokio::test]
async fn links_in_artifacts_never_reach_outside_the_artifact_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("secret-file");
    std::fs::write(&secret, "top secret\n").unwrap();
    let other = tmp.path().join("otherdir");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("elsewhere.txt"), "not the job's\n").unwrap();
    let script = format!(
        "echo a > $ARTIFACTS/a.txt; mkdir $ARTIFACTS/sub; echo b > $ARTIFACTS/sub/b.txt; \
         ln -s '{}' $ARTIFACTS/outside; ln -s . $ARTIFACTS/loop; ln -s '{}' $ARTIFACTS/dirlink; \
         ln -s sub/b.txt $ARTIFACTS/inside; ln -s ../../.. $ARTIFACTS/sub/up; \
         ln -s missing $ARTIFACTS/dangling; mkfifo $ARTIFACTS/pipe",
        secret.display(),
        other.display()
    );
    let runner = runner(&tmp.path().join("pods"));
    runner
        .create(&job("links", &script, Some(decoration()), None))
        .await
        .unwrap();
    let pod = finished(&runner, "links").await;
    assert_eq!(pod.phase, PodPhase::Succeeded, "{pod:?}");
    let results = tmp.path().join("pods/artifacts/logs/local-test/101");
    // Each regular file once, the link inside the tree as the file it points to, and nothing
    // through `loop`, `dirlink` or `up`, nor the file outside.
    assert_eq!(
        files_under(&results.join("artifacts")),
        ["a.txt: a", "inside: b", "sub/b.txt: b"]
    );
    let everything = files_under(&results).join("\n");
    assert!(!everything.contains("top secret"), "{everything}");
    assert!(!everything.contains("not the job's"), "{everything}");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "top secret\n");

    // The upload log names every entry left out, and why.
    let log = std::fs::read_to_string(results.join("sidecar-logs.json")).unwrap();
    let skipped: Vec<String> = log
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["msg"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .filter(|msg| msg.starts_with("skipped "))
        .map(|msg| msg.replace(&tmp.path().display().to_string(), "[tmp]"))
        .collect();
    insta::assert_snapshot!(skipped.join("\n"), @r#"
    skipped artifacts/dangling: symbolic link to "missing" cannot be resolved: No such file or directory (os error 2)
    skipped artifacts/dirlink: symbolic link to "[tmp]/otherdir" is a directory; links to directories are not followed
    skipped artifacts/loop: symbolic link to "." is a directory; links to directories are not followed
    skipped artifacts/outside: symbolic link to "[tmp]/secret-file" points outside the artifact directory
    skipped artifacts/pipe: not a regular file
    skipped artifacts/sub/up: symbolic link to "../../.." is a directory; links to directories are not followed
    "#);
}

#[tokio::test]
async fn a_host_job_sees_prows_environment_and_not_the_runners() {
    let tmp = tempfile::tempdir().unwrap();
    let runner = runner(tmp.path());
    let mut env_job = job("env", "unused", None, None);
    std::sync::Arc::make_mut(env_job.spec.pod_spec.as_mut().unwrap()).containers[0] =
        serde_json::from_value(json!({
            "name": "test",
            "image": "alpine",
            "command": ["env"],
            "env": [{"name": "FROM_THE_SPEC", "value": "spec value"}],
        }))
        .unwrap();
    runner.create(&env_job).await.unwrap();
    let pod = finished(&runner, "env").await;
    assert_eq!(pod.phase, PodPhase::Succeeded, "{pod:?}");
    let log = std::fs::read_to_string(tmp.path().join("env/build-log.txt")).unwrap();
    let seen: std::collections::BTreeMap<&str, &str> =
        log.lines().filter_map(|l| l.split_once('=')).collect();
    // Exactly Prow's job variables, the spec's, PATH and HOME.
    let names: Vec<&str> = seen.keys().copied().collect();
    insta::assert_snapshot!(names.join("\n"), @"
    BUILD_ID
    BUILD_NUMBER
    CI
    FROM_THE_SPEC
    HOME
    JOB_NAME
    JOB_SPEC
    JOB_TYPE
    PATH
    PROW_JOB_ID
    ");
    assert_eq!(seen["JOB_NAME"], "local-test");
    assert_eq!(seen["BUILD_ID"], "101");
    assert_eq!(seen["FROM_THE_SPEC"], "spec value");
    assert_eq!(seen["PATH"], prow_jobs::runner::HOST_PATH);
    let home = std::path::absolute(tmp.path().join("env/home")).unwrap();
    assert_eq!(seen["HOME"], home.display().to_string());
    assert!(home.is_dir());
    // The runner's own variables (cargo's, the shell's, any secret) stay out.
    let own: Vec<String> = std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| !seen.contains_key(name.as_str()))
        .collect();
    assert!(
        !own.is_empty(),
        "the test process has no variables of its own to keep from the job"
    );
}
