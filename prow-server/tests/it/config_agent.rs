//! The config agent on real files: a changed job config is published and hook triggers the new
//! job without a restart; a broken one is reported and the previous configuration keeps serving.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use prow_jobs::store::{JobStore, SqliteStore};
use prow_server::config_agent::{ConfigAgent, ConfigPaths, Reload, WatchOptions};
use prow_server::hook::{Deps, Hook, Options};
use prow_server::metrics::{Exporter, parse_text};

use crate::support::{self, comment, github, job_names};

const CONFIG: &str = "prowjob_namespace: default\n";

const UNIT: &str = r#"
presubmits:
  Codertocat/Hello-World:
  - name: unit
    always_run: true
    spec: {containers: [{image: alpine, command: ["true"]}]}
"#;

const INTEGRATION: &str = r#"
presubmits:
  Codertocat/Hello-World:
  - name: integration
    always_run: false
    spec: {containers: [{image: alpine, command: ["true"]}]}
"#;

/// A backstop for waits on events that should come at once.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `config.yaml`, `jobs/unit.yaml` and `plugins.yaml` in `dir`.
fn write_files(dir: &Path) -> ConfigPaths {
    std::fs::create_dir_all(dir.join("jobs/team")).unwrap();
    std::fs::write(dir.join("config.yaml"), CONFIG).unwrap();
    std::fs::write(dir.join("jobs/unit.yaml"), UNIT).unwrap();
    std::fs::write(dir.join("plugins.yaml"), support::PLUGINS).unwrap();
    ConfigPaths::new(dir.join("config.yaml"), Some(dir.join("jobs")))
        .with_plugin_config(dir.join("plugins.yaml"))
}

fn presubmit_names(agent: &ConfigAgent) -> Vec<String> {
    let mut names: Vec<String> = agent
        .config()
        .config
        .jobs
        .presubmits
        .values()
        .flatten()
        .map(|p| p.name.clone())
        .collect();
    names.sort();
    names
}

/// hook on 127.0.0.1 whose configuration the agent keeps up to date.
struct Running {
    hook_url: String,
    store: Arc<dyn JobStore>,
    metrics: Arc<prow_server::hook::Metrics>,
    sent: u64,
}

impl Running {
    async fn start(agent: &ConfigAgent) -> Running {
        let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
        let deps = Deps::new(
            github(support::ORG),
            store.clone(),
            "ci-robot",
            prow_github::HmacSecrets::parse(support::SECRET),
            agent.handle(),
        );
        let hook = Hook::start(Options::default(), deps);
        let metrics = hook.metrics();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
        let router = hook.router();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Running {
            hook_url,
            store,
            metrics,
            sent: 0,
        }
    }

    /// Sends a comment by an org member and waits until hook processed it.
    async fn comment(&mut self, body: &str) {
        let payload = serde_json::to_vec(&comment(body, "member", support::ORG)).unwrap();
        let reply = prow_github::phony::deliver(
            &reqwest::Client::new(),
            &self.hook_url,
            "issue_comment",
            &payload,
            support::SECRET,
        )
        .await
        .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        self.sent += 1;
        tokio::time::timeout(TIMEOUT, self.metrics.wait_processed(self.sent))
            .await
            .expect("hook processes the comment");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_job_file_is_triggered_without_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let agent = ConfigAgent::load(write_files(tmp.path())).unwrap();
    let mut running = Running::start(&agent).await;

    running.comment("/test integration").await;
    assert_eq!(
        job_names(running.store.as_ref()).await,
        Vec::<String>::new()
    );
    assert_eq!(agent.check_now(), Reload::Unchanged);

    // A new file deep in the job tree.
    std::fs::write(tmp.path().join("jobs/team/integration.yaml"), INTEGRATION).unwrap();
    assert_eq!(agent.check_now(), Reload::Reloaded);
    assert_eq!(presubmit_names(&agent), ["integration", "unit"]);
    running.comment("/test integration").await;
    assert_eq!(job_names(running.store.as_ref()).await, ["integration"]);
    assert_eq!(agent.status().reloads, 1);

    // The same content written again is no change.
    std::fs::write(tmp.path().join("jobs/team/integration.yaml"), INTEGRATION).unwrap();
    assert_eq!(agent.check_now(), Reload::Unchanged);
    assert_eq!(agent.status().reloads, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_is_reported_and_the_previous_one_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let agent = Arc::new(ConfigAgent::load(write_files(tmp.path())).unwrap());
    let mut running = Running::start(&agent).await;
    let exporter = Exporter::new().with_config_agent(agent.clone());

    // Two problems at once: a job without a name, and plugins.yaml that is not YAML.
    std::fs::write(
        tmp.path().join("jobs/team/broken.yaml"),
        "presubmits:\n  Codertocat/Hello-World:\n  - always_run: true\n    spec: {containers: [{image: alpine}]}\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("plugins.yaml"), "plugins: [\n").unwrap();
    let Reload::Rejected(error) = agent.check_now() else {
        panic!("the broken configuration was not rejected");
    };
    let listing = error
        .errors
        .join("\n")
        .replace(&tmp.path().display().to_string(), "<dir>");
    insta::assert_snapshot!("broken_config_errors", listing);
    assert_eq!(agent.status().failures, 1);
    assert_eq!(agent.status().errors, error.errors);
    let samples = parse_text(&exporter.render().await).unwrap();
    assert_eq!(
        samples.value("prow_config_reloads_total", &[("outcome", "failure")]),
        1.0
    );
    assert_eq!(
        samples.value("prow_config_last_reload_successful", &[]),
        0.0
    );
    assert_eq!(
        samples.value("prow_config_errors", &[]),
        error.errors.len() as f64
    );

    // The old configuration still serves, and a second check does not report again.
    assert_eq!(presubmit_names(&agent), ["unit"]);
    running.comment("/test unit").await;
    assert_eq!(job_names(running.store.as_ref()).await, ["unit"]);
    assert_eq!(agent.check_now(), Reload::Unchanged);
    assert_eq!(agent.status().failures, 1);

    // Fixed: reloaded, and the record says so.
    std::fs::remove_file(tmp.path().join("jobs/team/broken.yaml")).unwrap();
    std::fs::write(tmp.path().join("plugins.yaml"), support::PLUGINS).unwrap();
    assert_eq!(agent.check_now(), Reload::Reloaded);
    assert!(agent.status().errors.is_empty());
    let samples = parse_text(&exporter.render().await).unwrap();
    assert_eq!(
        samples.value("prow_config_reloads_total", &[("outcome", "success")]),
        1.0
    );
    assert_eq!(
        samples.value("prow_config_last_reload_successful", &[]),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_reloads_on_file_events_and_publishes_to_the_handle() {
    let tmp = tempfile::tempdir().unwrap();
    let agent = Arc::new(ConfigAgent::load(write_files(tmp.path())).unwrap());
    let mut configs = agent.handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // A poll far beyond the test's length: only file events can find the change.
    let mut options = WatchOptions::default();
    options.debounce = Duration::from_millis(20);
    options.poll = Duration::from_secs(3600);
    let running = tokio::spawn(agent.clone().run(options, async {
        let _ = stopped.await;
    }));
    // The watcher is set up when `run` starts: make changes until one is seen, so the test
    // does not depend on when that was.
    let names = tokio::time::timeout(TIMEOUT, async {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let text = format!("{INTEGRATION}# attempt {attempt}\n");
            std::fs::write(tmp.path().join("jobs/team/integration.yaml"), text).unwrap();
            let changed = tokio::time::timeout(Duration::from_millis(500), configs.changed()).await;
            if changed.is_ok() {
                break configs
                    .current()
                    .config
                    .jobs
                    .presubmits
                    .values()
                    .flatten()
                    .map(|p| p.name.clone())
                    .collect::<Vec<String>>();
            }
        }
    })
    .await
    .expect("a file event reloads the configuration");
    assert!(names.contains(&"integration".to_owned()), "{names:?}");

    stop.send(()).unwrap();
    running.await.unwrap();
}

#[test]
fn the_first_load_refuses_a_bad_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = write_files(tmp.path());
    std::fs::write(tmp.path().join("config.yaml"), "prowjob_namespace: [\n").unwrap();
    let error = ConfigAgent::load(paths).unwrap_err();
    assert_eq!(error.errors.len(), 1, "{error}");
    assert!(error.errors[0].contains("config.yaml"), "{error}");
}

#[test]
fn files_the_loader_does_not_read_do_not_count_as_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let agent = ConfigAgent::load(write_files(tmp.path())).unwrap();
    std::fs::write(tmp.path().join("jobs/team/NOTES.md"), "not a job").unwrap();
    std::fs::create_dir(tmp.path().join("jobs/..2024_01_01")).unwrap();
    std::fs::write(tmp.path().join("jobs/..2024_01_01/unit.yaml"), INTEGRATION).unwrap();
    assert_eq!(agent.check_now(), Reload::Unchanged);
    // A `.yml` file is read, so it counts.
    std::fs::write(tmp.path().join("jobs/team/integration.yml"), INTEGRATION).unwrap();
    assert_eq!(agent.check_now(), Reload::Reloaded);
    assert_eq!(presubmit_names(&agent), ["integration", "unit"]);
}

/// The reference deployment's whole configuration loads, and hashing it finds no change.
#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn the_kubernetes_configuration_loads_and_is_stable() {
    let corpus = support::corpus();
    let root = corpus.join("k8s-test-infra/config");
    let paths = ConfigPaths::new(root.join("prow/config.yaml"), Some(root.join("jobs")))
        .with_plugin_config(root.join("prow/plugins.yaml"));
    let agent = ConfigAgent::load(paths).unwrap_or_else(|e| panic!("{e}"));
    assert!(presubmit_names(&agent).len() > 1000);
    let started = std::time::Instant::now();
    assert_eq!(agent.check_now(), Reload::Unchanged);
    eprintln!(
        "one check of the kubernetes configuration took {:?}",
        started.elapsed()
    );
}
