//! The pod utilities end to end: mkpod decorates a presubmit, then clonerefs, initupload,
//! entrypoint and sidecar run as processes with exactly the options the pod gives them.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use git2::{Oid, Repository, Signature};
use prow_core::k8s_openapi::api::core::v1::{Container, Pod};

fn bin(name: &str) -> Command {
    let path = match name {
        "mkpod" => env!("CARGO_BIN_EXE_mkpod"),
        "clonerefs" => env!("CARGO_BIN_EXE_clonerefs"),
        "initupload" => env!("CARGO_BIN_EXE_initupload"),
        "entrypoint" => env!("CARGO_BIN_EXE_entrypoint"),
        "sidecar" => env!("CARGO_BIN_EXE_sidecar"),
        other => panic!("no binary {other}"),
    };
    let mut command = Command::new(path);
    // The utilities read their options from the environment only.
    for var in [
        "CLONEREFS_OPTIONS",
        "INITUPLOAD_OPTIONS",
        "ENTRYPOINT_OPTIONS",
        "SIDECAR_OPTIONS",
        "JOB_SPEC",
    ] {
        command.env_remove(var);
    }
    command
}

fn check(output: Output, what: &str) -> Output {
    assert!(
        output.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn commit(repo: &Repository, branch: &str, parent: Option<Oid>, file: &str, text: &str) -> Oid {
    let sig = Signature::new("dev", "dev@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
    let parent = parent.map(|p| repo.find_commit(p).unwrap());
    let mut tree = repo
        .treebuilder(parent.as_ref().map(|p| p.tree().unwrap()).as_ref())
        .unwrap();
    tree.insert(file, repo.blob(text.as_bytes()).unwrap(), 0o100644)
        .unwrap();
    let tree = repo.find_tree(tree.write().unwrap()).unwrap();
    let parents: Vec<_> = parent.iter().collect();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &sig,
        &sig,
        "c",
        &tree,
        &parents,
    )
    .unwrap()
}

/// A container's environment with the pod's paths moved under `root`.
fn env_of(container: &Container, moves: &[(&str, String)]) -> BTreeMap<String, String> {
    container
        .env
        .iter()
        .flatten()
        .map(|e| {
            let mut value = e.value.clone().unwrap_or_default();
            for (from, to) in moves {
                value = value.replace(&format!("\"{from}"), &format!("\"{to}"));
                if value.starts_with(from) {
                    value = value.replacen(from, to, 1);
                }
            }
            (e.name.clone(), value)
        })
        .collect()
}

#[test]
fn a_decorated_presubmit_runs_through_all_four_utilities() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let origin = Repository::init_bare(root.join("origin.git")).unwrap();
    let base = commit(&origin, "main", None, "README", "base readme\n");
    let pull = commit(
        &origin,
        "feature",
        Some(base),
        "feature.txt",
        "from the pull request\n",
    );
    let job = format!(
        r#"apiVersion: prow.k8s.io/v1
kind: ProwJob
metadata:
  name: 8a1d2b9c-0000-4000-8000-000000000001
spec:
  type: presubmit
  agent: kubernetes
  job: pull-e2e
  report: true
  refs:
    org: acme
    repo: widget
    base_ref: main
    base_sha: {base}
    clone_uri: {origin}
    pulls:
    - number: 7
      author: dev
      sha: {pull}
  decoration_config:
    timeout: 1m
    grace_period: 5s
    utility_images: {{clonerefs: c, initupload: i, entrypoint: e, sidecar: s}}
    gcs_configuration: {{bucket: unused, path_strategy: explicit}}
  pod_spec:
    containers:
    - image: alpine
      command: [sh, -c]
      args: ["echo hello from $JOB_NAME for PR $PULL_NUMBER; cat feature.txt; echo data > $ARTIFACTS/result.txt; exit 3"]
"#,
        origin = root.join("origin.git").display()
    );
    std::fs::write(root.join("job.yaml"), job).unwrap();
    let out = root.join("out");
    let mkpod = check(
        bin("mkpod")
            .args(["--prow-job"])
            .arg(root.join("job.yaml"))
            .args(["--build-id", "1001", "--local", "--out-dir"])
            .arg(&out)
            .output()
            .unwrap(),
        "mkpod",
    );
    let pod: Pod = serde_yaml::from_slice(&mkpod.stdout).unwrap();
    let spec = pod.spec.unwrap();
    let init = spec.init_containers.unwrap();
    let names: Vec<&str> = init.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["clonerefs", "initupload", "place-entrypoint"]);
    let moves = [
        ("/logs", root.join("logs").display().to_string()),
        ("/home/prow/go", root.join("go").display().to_string()),
        ("/output", out.join("1001").display().to_string()),
    ];
    std::fs::create_dir_all(root.join("logs")).unwrap();

    let clone_env = env_of(&init[0], &moves);
    check(
        bin("clonerefs").envs(&clone_env).output().unwrap(),
        "clonerefs",
    );
    let upload_env = env_of(&init[1], &moves);
    check(
        bin("initupload").envs(&upload_env).output().unwrap(),
        "initupload",
    );

    let test = &spec.containers[0];
    let work_dir = test
        .working_dir
        .as_deref()
        .unwrap()
        .replace("/home/prow/go", &root.join("go").display().to_string());
    let test_env = env_of(test, &moves);
    let entry = bin("entrypoint")
        .envs(&test_env)
        .current_dir(&work_dir)
        .output()
        .unwrap();
    assert_eq!(
        entry.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&entry.stderr)
    );

    let sidecar = spec
        .containers
        .iter()
        .find(|c| c.name == "sidecar")
        .unwrap();
    check(
        bin("sidecar")
            .envs(env_of(sidecar, &moves))
            .output()
            .unwrap(),
        "sidecar",
    );

    let results = out.join("1001");
    let read = |name: &str| {
        std::fs::read_to_string(results.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let build_log = read("build-log.txt");
    assert!(
        build_log.contains("hello from pull-e2e for PR 7"),
        "{build_log}"
    );
    assert!(
        build_log.contains("from the pull request"),
        "the pull was not merged:\n{build_log}"
    );
    assert_eq!(read("artifacts/result.txt"), "data\n");
    let finished: serde_json::Value = serde_json::from_str(&read("finished.json")).unwrap();
    assert_eq!(finished["passed"], false);
    assert_eq!(finished["result"], "FAILURE");
    let started: serde_json::Value = serde_json::from_str(&read("started.json")).unwrap();
    assert_eq!(started["pull"], "7");
    let records: serde_json::Value = serde_json::from_str(&read("clone-records.json")).unwrap();
    assert_eq!(records[1]["refs"]["repo"], "widget");
    assert!(records[1]["failed"].is_null(), "{records}");
    assert!(read("clone-log.txt").contains("git merge --no-ff"));
    assert_eq!(
        std::fs::read_to_string(root.join("logs/marker-file.txt")).unwrap(),
        "3"
    );
    assert!(Path::new(&work_dir).join("feature.txt").is_file());
}

#[test]
fn mkpod_reads_standard_input_and_drops_the_created_by_prow_label() {
    let job = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/prowjobs/presubmit.yaml"),
    )
    .unwrap();
    let mut child = bin("mkpod")
        .args(["--prow-job", "-", "--build-id", "snowflake"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &job).unwrap();
    let out = check(child.wait_with_output().unwrap(), "mkpod");
    let pod: Pod = serde_yaml::from_slice(&out.stdout).unwrap();
    let labels = pod.metadata.labels.unwrap();
    assert!(!labels.contains_key("created-by-prow"));
    let build_id: u64 = labels["prow.k8s.io/build-id"].parse().unwrap();
    assert!(build_id > 1 << 40, "a snowflake ID, not {build_id}");
    assert_eq!(labels["prow.k8s.io/job"], "pull-test-infra-unit");
}

#[test]
fn mkpod_rejects_out_dir_without_local() {
    let out = bin("mkpod")
        .args(["--prow-job", "x.yaml", "--out-dir", "/tmp/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mkpod: invalid options: out-dir may only be specified in --local mode\n"
    );
}

#[test]
fn entrypoint_exit_codes_wrap_like_go() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("previous"), "1").unwrap();
    let options = serde_json::json!({
        "timeout": 60_000_000_000_i64,
        "grace_period": 1_000_000_000,
        "previous_marker": tmp.path().join("previous"),
        "args": ["true"],
        "process_log": tmp.path().join("log.txt"),
        "marker_file": tmp.path().join("marker.txt"),
        "metadata_file": "",
    });
    let out = bin("entrypoint")
        .env("ENTRYPOINT_OPTIONS", options.to_string())
        .output()
        .unwrap();
    // 1130 (a previous step failed) leaves the process as 1130 mod 256.
    assert_eq!(out.status.code(), Some(1130 % 256));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("marker.txt")).unwrap(),
        "1130"
    );
}

#[test]
fn entrypoint_forwards_a_termination_signal_and_records_the_abort() {
    let tmp = tempfile::tempdir().unwrap();
    let started = tmp.path().join("started");
    let script = format!(
        "trap 'echo got-signal; exit 7' INT TERM; touch {}; sleep 30 & wait",
        started.display()
    );
    let options = serde_json::json!({
        "timeout": 600_000_000_000_i64,
        "grace_period": 10_000_000_000_i64,
        "args": ["sh", "-c", script],
        "process_log": tmp.path().join("log.txt"),
        "marker_file": tmp.path().join("marker.txt"),
        "metadata_file": "",
    });
    let child = bin("entrypoint")
        .env("ENTRYPOINT_OPTIONS", options.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the command to be running (a backstop, not a timing assumption).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the command never started"
        );
        std::thread::yield_now();
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("marker.txt")).unwrap(),
        "130"
    );
    let log = std::fs::read_to_string(tmp.path().join("log.txt")).unwrap();
    assert!(log.contains("got-signal"), "{log}");
    assert!(log.contains("received interrupt: Terminate"), "{log}");
}
