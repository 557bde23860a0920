//! The config-updater plugin: which keys a merge updates, its comment, and both sinks (local
//! files, and ConfigMaps on the fake Kubernetes API server).

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use prow_github::types::PullRequestFile;
use prow_jobs::kube::fake::{FakeApiServer, Resource};
use prow_plugins::plugins::config_updater::{
    self as cu, ConfigMapId, ConfigUpdater, FileSink, KeyUpdate, KubeSink,
};
use prow_server::hook::Options;
use serde_json::Value;

use crate::plugins_common::plugin_config;
use crate::plugins_misc_support::InProcess;
use crate::support::{self, ORG, REPO, comments, github};

const MERGE_SHA: &str = "1111111111111111111111111111111111111111";

const MAPS: &str = r#"
config_updater:
  maps:
    prow/config.yaml:
      name: config
    prow/jobs/**/*.yaml:
      name: job-config
      use_full_path_as_key: true
    prow/plugins.yaml:
      name: plugins
      key: plugins.yaml
      gzip: true
      clusters:
        default: [prow, test-pods]
    secret/*.yaml:
      name: secret
      denied_repos: [Codertocat]
"#;

fn file(name: &str, status: &str, previous: Option<&str>) -> PullRequestFile {
    PullRequestFile {
        filename: name.to_owned(),
        status: status.to_owned(),
        previous_filename: previous.map(str::to_owned),
        ..PullRequestFile::default()
    }
}

fn check(files: &[PullRequestFile], expected: &[&str]) {
    let config = plugin_config(MAPS).config_updater;
    let got: Vec<String> = cu::filter_changes(&config, files, "default", "Codertocat/Hello-World")
        .into_iter()
        .flat_map(|(id, updates)| {
            updates.into_iter().map(move |u| {
                format!(
                    "{}/{}@{} {}={}{}",
                    id.namespace,
                    id.name,
                    id.cluster,
                    u.key,
                    u.filename,
                    if u.gzip { " (gzip)" } else { "" }
                )
            })
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn changed_files_map_to_keys() {
    check(
        &[file("prow/config.yaml", "modified", None)],
        &["default/config@default config.yaml=prow/config.yaml"],
    );
    check(
        &[file("prow/plugins.yaml", "added", None)],
        &[
            "prow/plugins@default plugins.yaml=prow/plugins.yaml (gzip)",
            "test-pods/plugins@default plugins.yaml=prow/plugins.yaml (gzip)",
        ],
    );
    check(
        &[file("prow/jobs/a/b.yaml", "removed", None)],
        &["default/job-config@default prow-jobs-a-b.yaml="],
    );
    check(
        &[file(
            "prow/jobs/new.yaml",
            "renamed",
            Some("prow/jobs/old.yaml"),
        )],
        &[
            "default/job-config@default prow-jobs-old.yaml=",
            "default/job-config@default prow-jobs-new.yaml=prow/jobs/new.yaml",
        ],
    );
    // Not matched (a single `*` stops at slashes), or denied to this repo.
    check(
        &[
            file("README.md", "modified", None),
            file("prow/config.yaml.bak", "modified", None),
            file("secret/a.yaml", "modified", None),
        ],
        &[],
    );
}

#[test]
fn the_comment_lists_what_was_updated() {
    let id = |name: &str| ConfigMapId::new(name, "default", "default");
    let update = |key: &str, file: &str| KeyUpdate::new(key, file, false);
    let config = (
        id("config"),
        vec![update("config.yaml", "prow/config.yaml")],
    );
    assert_eq!(
        cu::message(std::slice::from_ref(&config)).unwrap(),
        "Updated the `config` configmap in namespace `default` at cluster `default` using the following files:\n - key `config.yaml` using file `prow/config.yaml`"
    );
    let plugins = (
        id("plugins"),
        vec![update("plugins.yaml", "prow/plugins.yaml")],
    );
    assert_eq!(
        cu::message(&[config, plugins]).unwrap(),
        "Updated the following 2 configmaps:\n * `config` configmap in namespace `default` at cluster `default` using the following files:\n   - key `config.yaml` using file `prow/config.yaml`\n * `plugins` configmap in namespace `default` at cluster `default` using the following files:\n   - key `plugins.yaml` using file `prow/plugins.yaml`\n"
    );
    assert_eq!(cu::message(&[]), None);
}

#[tokio::test]
async fn embedded_configmaps_are_folders_under_the_root() {
    use cu::ConfigSink;
    let root = tempfile::tempdir().unwrap();
    let sink = FileSink::under(root.path());
    let id = cu::ConfigMapId::new("config", "default", "default");
    let write = |key: &str, value: Option<&str>| {
        cu::KeyWrite::new(key, value.map(|v| v.as_bytes().to_vec()))
    };
    sink.apply(&id, &[write("config.yaml", Some("a: 1\n"))])
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(root.path().join("config/config.yaml")).unwrap(),
        "a: 1\n"
    );
    sink.apply(&id, &[write("config.yaml", None)])
        .await
        .unwrap();
    assert!(!root.path().join("config/config.yaml").exists());
    let outside = cu::ConfigMapId::new("../escape", "default", "default");
    let err = sink
        .apply(&outside, &[write("x", Some("y"))])
        .await
        .unwrap_err();
    assert!(err.contains("is not a folder name"), "{err}");
    let unmapped = FileSink::new(std::collections::BTreeMap::new());
    let err = unmapped
        .apply(&id, &[write("config.yaml", Some("a: 1\n"))])
        .await
        .unwrap_err();
    assert_eq!(err, "no directory for configmap \"config\"");
}

/// GitHub with PR #2 merged, changing `files`, whose contents at the merge are `contents`.
fn merged(
    files: Vec<PullRequestFile>,
    contents: &[(&str, &str)],
) -> (Arc<prow_github::fake::FakeGitHub>, Value) {
    let github = github("author");
    {
        let mut state = github.state();
        state
            .pull_files
            .insert((ORG.to_owned(), REPO.to_owned(), 2), files);
        for (path, text) in contents {
            state.files.insert(
                (
                    ORG.to_owned(),
                    REPO.to_owned(),
                    MERGE_SHA.to_owned(),
                    (*path).to_owned(),
                ),
                text.as_bytes().to_vec(),
            );
        }
    }
    let mut event = support::opened("author");
    event["action"] = "closed".into();
    event["pull_request"]["merged"] = true.into();
    event["pull_request"]["merge_commit_sha"] = MERGE_SHA.into();
    (github, event)
}

fn plugins_yaml() -> String {
    format!("plugins:\n  Codertocat/Hello-World:\n    plugins: [config-updater]\n{MAPS}")
}

#[tokio::test]
async fn embedded_mode_writes_the_local_files_and_comments() {
    let dir = tempfile::tempdir().unwrap();
    let (config_dir, jobs_dir) = (dir.path().join("config"), dir.path().join("jobs"));
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::create_dir_all(&jobs_dir).unwrap();
    std::fs::write(jobs_dir.join("prow-jobs-gone.yaml"), "old").unwrap();
    let sink = FileSink::new(BTreeMap::from([
        ("config".to_owned(), config_dir.clone()),
        ("job-config".to_owned(), jobs_dir.clone()),
    ]));
    let (github, event) = merged(
        vec![
            file("prow/config.yaml", "modified", None),
            file("prow/jobs/gone.yaml", "removed", None),
            file("README.md", "modified", None),
        ],
        &[("prow/config.yaml", "prowjob_namespace: new\n")],
    );
    let hook = InProcess::start(
        github,
        support::hook_config(support::CONFIG, &plugins_yaml()),
        Options::default(),
        vec![Arc::new(ConfigUpdater::new(Arc::new(sink)))],
    );
    hook.deliver("pull_request", &event).await;
    assert_eq!(
        std::fs::read_to_string(config_dir.join("config.yaml")).unwrap(),
        "prowjob_namespace: new\n"
    );
    assert!(!jobs_dir.join("prow-jobs-gone.yaml").exists());
    let said = comments(&hook.github);
    assert_eq!(said.len(), 1);
    assert!(said[0].contains("Updated the following 2 configmaps:\n * `config` configmap in namespace `default` at cluster `default` using the following files:\n   - key `config.yaml` using file `prow/config.yaml`"), "{}", said[0]);
    hook.shutdown().await;
}

#[tokio::test]
async fn only_merges_into_the_default_branch_count() {
    let dir = tempfile::tempdir().unwrap();
    let sink = FileSink::new(BTreeMap::from([(
        "config".to_owned(),
        dir.path().to_owned(),
    )]));
    let (github, mut event) = merged(
        vec![file("prow/config.yaml", "modified", None)],
        &[("prow/config.yaml", "x: 1\n")],
    );
    let hook = InProcess::start(
        github,
        support::hook_config(support::CONFIG, &plugins_yaml()),
        Options::default(),
        vec![Arc::new(ConfigUpdater::new(Arc::new(sink)))],
    );
    let mut unmerged = event.clone();
    unmerged["pull_request"]["merged"] = false.into();
    hook.deliver("pull_request", &unmerged).await;
    event["pull_request"]["base"]["ref"] = "release-1.0".into();
    hook.deliver("pull_request", &event).await;
    assert!(!dir.path().join("config.yaml").exists());
    assert!(comments(&hook.github).is_empty());
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_mode_updates_configmaps() {
    let api = FakeApiServer::start().unwrap();
    let sink = KubeSink::new(api.client());
    let (github, event) = merged(
        vec![
            file("prow/config.yaml", "modified", None),
            file("prow/plugins.yaml", "modified", None),
        ],
        &[
            ("prow/config.yaml", "prowjob_namespace: default\n"),
            ("prow/plugins.yaml", "plugins: {}\n"),
        ],
    );
    let hook = InProcess::start(
        github,
        support::hook_config(support::CONFIG, &plugins_yaml()),
        Options::default(),
        vec![Arc::new(ConfigUpdater::new(Arc::new(sink)))],
    );
    hook.deliver("pull_request", &event).await;
    let config = api.get(Resource::ConfigMaps, "default", "config").unwrap();
    assert_eq!(
        config["data"]["config.yaml"],
        "prowjob_namespace: default\n"
    );
    assert_eq!(
        config["metadata"]["labels"]["app.kubernetes.io/component"],
        "updateconfig-plugin"
    );
    for ns in ["prow", "test-pods"] {
        let plugins = api.get(Resource::ConfigMaps, ns, "plugins").unwrap();
        let zipped = plugins["binaryData"]["plugins.yaml"].as_str().unwrap();
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(zipped)
            .unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "plugins: {}\n");
    }
    // A second merge replaces the key in the existing ConfigMap.
    hook.github.state().files.insert(
        (
            ORG.to_owned(),
            REPO.to_owned(),
            MERGE_SHA.to_owned(),
            "prow/config.yaml".to_owned(),
        ),
        b"prowjob_namespace: other\n".to_vec(),
    );
    let mut again = event.clone();
    again["pull_request"]["title"] = "again".into();
    hook.deliver("pull_request", &again).await;
    let config = api.get(Resource::ConfigMaps, "default", "config").unwrap();
    assert_eq!(config["data"]["config.yaml"], "prowjob_namespace: other\n");
    assert_eq!(comments(&hook.github).len(), 2);
    hook.shutdown().await;
}

#[tokio::test]
async fn without_a_sink_the_merge_is_an_error_not_a_silence() {
    let (github, event) = merged(
        vec![file("prow/config.yaml", "modified", None)],
        &[("prow/config.yaml", "x: 1\n")],
    );
    let hook = InProcess::start(
        github,
        support::hook_config(support::CONFIG, &plugins_yaml()),
        Options::default(),
        vec![Arc::new(ConfigUpdater::default())],
    );
    hook.deliver("pull_request", &event).await;
    let snapshot = hook.metrics.snapshot();
    assert_eq!(
        snapshot.plugins.get(&(
            "config-updater".to_owned(),
            prow_server::hook::PluginOutcome::Error
        )),
        Some(&1)
    );
    hook.shutdown().await;
}

#[test]
fn partitioned_maps_spread_keys_as_upstream_does() {
    let names = ["a", "b", "c"].map(str::to_owned);
    // By the first byte of the key's SHA-256: "x" 0x2d (45 % 3 = 0), "a" 0xca (202 % 3 = 1),
    // "hello" 0x2c (44 % 3 = 2).
    assert_eq!(cu::partition(&names, "x"), "a");
    assert_eq!(cu::partition(&names, "a"), "b");
    assert_eq!(cu::partition(&names, "hello"), "c");
}
