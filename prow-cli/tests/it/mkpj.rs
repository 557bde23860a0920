//! `mkpj` on real configuration, piped into `mkpod`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use prow_core::k8s_openapi::api::core::v1::Pod;

fn jetstack() -> (PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../prow-config/tests/data/corpus/jetstack-testing/config");
    (root.join("config.yaml"), root.join("jobs"))
}

const PULL: [&str; 10] = [
    "--base-ref",
    "master",
    "--base-sha",
    "0123abc",
    "--pull-number",
    "7",
    "--pull-sha",
    "fedc987",
    "--pull-author",
    "alice",
];

/// Runs mkpj with `args`, then mkpod on its output; returns the ProwJob and the Pod.
fn mkpj_then_mkpod(
    config: &Path,
    jobs: &Path,
    job: &str,
    args: &[&str],
) -> (prow_core::ProwJob, Pod) {
    let out = Command::new(env!("CARGO_BIN_EXE_mkpj"))
        .args(["--job", job, "--config-path"])
        .arg(config)
        .arg("--job-config-path")
        .arg(jobs)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mkpj: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prowjob = prow_core::prowjob_from_yaml(std::str::from_utf8(&out.stdout).unwrap())
        .unwrap()
        .value;
    let mut mkpod = Command::new(env!("CARGO_BIN_EXE_mkpod"))
        .args(["--prow-job", "-", "--build-id", "1001"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    mkpod.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let pod = mkpod.wait_with_output().unwrap();
    assert!(
        pod.status.success(),
        "mkpod: {}",
        String::from_utf8_lossy(&pod.stderr)
    );
    (prowjob, serde_yaml::from_slice(&pod.stdout).unwrap())
}

fn env_of(pod: &Pod, container: &str, name: &str) -> Option<String> {
    let spec = pod.spec.as_ref().unwrap();
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == container)?
        .env
        .iter()
        .flatten()
        .find(|e| e.name == name)?
        .value
        .clone()
}

#[test]
fn a_jetstack_presubmit_becomes_a_decorated_pod() {
    let (config, jobs) = jetstack();
    let (prowjob, pod) = mkpj_then_mkpod(&config, &jobs, "pull-testing-build", &PULL);
    assert_eq!(prowjob.problems(&Default::default()), vec![]);
    assert_eq!(
        prowjob.spec.refs.as_ref().unwrap().pull_refs(),
        "master:0123abc,7:fedc987"
    );
    let labels = pod.metadata.labels.clone().unwrap();
    assert_eq!(labels["prow.k8s.io/refs.org"], "jetstack");
    assert_eq!(labels["prow.k8s.io/refs.pull"], "7");
    assert_eq!(labels["prow.k8s.io/is-optional"], "false");
    assert_eq!(labels["prow.k8s.io/id"], prowjob.name());
    let init: Vec<String> = pod
        .spec
        .as_ref()
        .unwrap()
        .init_containers
        .iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(init, ["clonerefs", "initupload", "place-entrypoint"]);
    assert_eq!(
        env_of(&pod, "test", "PULL_REFS").as_deref(),
        Some("master:0123abc,7:fedc987")
    );
    assert_eq!(
        env_of(&pod, "test", "PULL_PULL_SHA").as_deref(),
        Some("fedc987")
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn a_k8s_corpus_presubmit_goes_through_mkpj_and_mkpod() {
    let corpus = crate::corpus();
    let root = corpus.join("k8s-test-infra/config");
    let (prowjob, pod) = mkpj_then_mkpod(
        &root.join("prow/config.yaml"),
        &root.join("jobs"),
        "pull-test-infra-unit-test",
        &PULL,
    );
    assert_eq!(
        prowjob.spec.refs.as_ref().unwrap().org_repo(),
        "kubernetes/test-infra"
    );
    assert_eq!(
        env_of(&pod, "test", "JOB_NAME").as_deref(),
        Some("pull-test-infra-unit-test")
    );
    // What Prow's mkpj makes for these inputs, but for the random name and the start time.
    let value = serde_json::to_value(&prowjob).unwrap();
    insta::assert_yaml_snapshot!("k8s-pull-test-infra-unit-test", value, {
        ".metadata.name" => "[uuid]",
        ".status.startTime" => "[time]",
    });
    assert!(
        env_of(&pod, "test", "ENTRYPOINT_OPTIONS").is_some(),
        "the job is decorated"
    );
}

#[test]
fn mkpj_names_the_flags_it_needs() {
    let (config, jobs) = jetstack();
    let out = Command::new(env!("CARGO_BIN_EXE_mkpj"))
        .args(["--job", "pull-testing-build", "--config-path"])
        .arg(&config)
        .arg("--job-config-path")
        .arg(&jobs)
        .args(["--base-ref", "master"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mkpj: presubmit pull-testing-build needs --pull-number (mkpj does not prompt)\n"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mkpj"))
        .args(["--job", "pull-testing-build", "--config-path"])
        .arg(&config)
        .arg("--job-config-path")
        .arg(&jobs)
        .args(["--base-ref", "master", "--pull-number", "7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mkpj: job pull-testing-build needs --base-sha, --pull-sha, --pull-author (or --github-token-path to look them up)\n"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mkpj"))
        .args(["--job", "no-such-job", "--config-path"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("\"no-such-job\" is not a presubmit, postsubmit or periodic")
    );
}

/// A fake GitHub on 127.0.0.1 answering the two look-ups mkpj makes; returns its address and
/// the request paths it saw with their `Authorization` headers.
fn fake_github() -> (String, std::thread::JoinHandle<Vec<(String, String)>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let mut auth = String::new();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header
                    .strip_prefix("authorization:")
                    .or_else(|| header.strip_prefix("Authorization:"))
                {
                    auth = v.trim().to_owned();
                }
            }
            let body = match path.as_str() {
                "/repos/jetstack/testing/pulls/7" => serde_json::json!({
                    "number": 7, "title": "Fix", "state": "open",
                    "user": {"login": "carol"},
                    "head": {"ref": "fix", "sha": "feed7"},
                    "base": {"ref": "main", "sha": "stale"},
                }),
                "/repos/jetstack/testing/git/ref/heads/main" => {
                    serde_json::json!({"object": {"sha": "base1"}})
                }
                _ => serde_json::json!({"message": "Not Found"}),
            }
            .to_string();
            let mut stream = stream;
            write!(stream, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
            seen.push((path, auth));
        }
        seen
    });
    (address, handle)
}

#[test]
fn mkpj_looks_missing_refs_up_on_github() {
    let (config, jobs) = jetstack();
    let (endpoint, server) = fake_github();
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "s3cr3t\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mkpj"))
        .args(["--job", "pull-testing-build", "--config-path"])
        .arg(&config)
        .arg("--job-config-path")
        .arg(&jobs)
        .args([
            "--pull-number",
            "7",
            "--github-endpoint",
            &endpoint,
            "--github-token-path",
        ])
        .arg(token.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job = prow_core::prowjob_from_yaml(std::str::from_utf8(&out.stdout).unwrap())
        .unwrap()
        .value;
    let refs = job.spec.refs.unwrap();
    assert_eq!(refs.pull_refs(), "main:base1,7:feed7");
    assert_eq!(
        (
            refs.pulls[0].author.as_str(),
            refs.pulls[0].head_ref.as_str()
        ),
        ("carol", "fix")
    );
    let seen = server.join().unwrap();
    assert_eq!(
        seen.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        [
            "/repos/jetstack/testing/pulls/7",
            "/repos/jetstack/testing/git/ref/heads/main"
        ]
    );
    assert!(
        seen.iter().all(|(_, auth)| auth == "Bearer s3cr3t"),
        "{seen:?}"
    );
}
