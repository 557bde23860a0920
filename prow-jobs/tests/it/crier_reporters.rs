//! crier's Slack reporter against a Slack API played by a local HTTP server that records what
//! it receives, and the GCS reporter's `prowjob.json` upload into a local bucket.

use std::sync::Arc;

use prow_config::prow::ProwConfig;
use prow_core::{ProwJob, ProwJobState};
use prow_jobs::crier::gcs::{PROWJOB_FILE, job_destination};
use prow_jobs::crier::slack::{should_report_slack, slack_message};
use prow_jobs::crier::{
    GCS_REPORTER_NAME, GcsReporter, JobReporter, ReporterLoop, SLACK_REPORTER_NAME, SlackClient,
    SlackReporter,
};
use prow_jobs::store::{JobStore, SqliteStore};
use serde_json::{Value, json};

use prow_jobs::crier::fake_slack::serve as fake_slack;

/// kyma's global Slack settings (from its config.yaml), with its multi-line template.
fn prow_config() -> ProwConfig {
    serde_yaml::from_str(
        r#"
slack_reporter_configs:
  "*":
    job_types_to_report: [postsubmit, periodic, batch]
    job_states_to_report: [failure, error]
    channel: kyma-ci-force
    report_template: |
      *Name:* {{.Spec.Job}}
      *Type:* {{.Spec.Type}}
      *Status:* {{.Status.State}}
      {{with .Spec.Refs}}*Repository:* {{.Org}}/{{.Repo}}
      *Commit:* <{{.BaseLink}}|{{printf "%.7s" .BaseSHA}}>
      {{end}}*<{{.Status.URL}}|View logs>*
  kyma-project/private:
    job_types_to_report: [periodic]
    job_states_to_report: [success]
    channel: private-ci
"#,
    )
    .expect("a prow config")
}

/// A postsubmit of `org/repo` in `state`, with `slack` as its `reporter_config.slack`.
fn postsubmit(name: &str, org: &str, repo: &str, state: ProwJobState, slack: Value) -> ProwJob {
    let mut spec = json!({
        "type": "postsubmit",
        "job": "post-widget-build",
        "report": true,
        "refs": {
            "org": org, "repo": repo, "base_ref": "main",
            "base_sha": "fedcba9876543210fedcba9876543210fedcba98",
            "base_link": format!("https://github.com/{org}/{repo}/commit/fedcba98"),
        },
        "decoration_config": {"gcs_configuration": {"bucket": "logs", "path_strategy": "explicit"}},
    });
    if !slack.is_null() {
        spec["reporter_config"] = json!({ "slack": slack });
    }
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": name},
        "spec": spec,
        "status": {
            "startTime": "2026-11-23T10:00:00Z",
            "state": state.as_str(),
            "build_id": "1790000000000000001",
            "url": format!("https://prow.example.com/view/gs/logs/{name}"),
        },
    }))
    .expect("a valid ProwJob")
}

#[test]
fn slack_reports_by_type_and_state_with_job_settings_winning() {
    let config = prow_config();
    let configs = &config.slack_reporter_configs;
    let failed = postsubmit(
        "a",
        "kyma-project",
        "kyma",
        ProwJobState::Failure,
        Value::Null,
    );
    assert!(should_report_slack(&failed, configs));
    let passed = postsubmit(
        "b",
        "kyma-project",
        "kyma",
        ProwJobState::Success,
        Value::Null,
    );
    assert!(
        !should_report_slack(&passed, configs),
        "success is not listed"
    );
    // The repository's own entry replaces `*`: postsubmits are not its types.
    let private = postsubmit(
        "c",
        "kyma-project",
        "private",
        ProwJobState::Failure,
        Value::Null,
    );
    assert!(!should_report_slack(&private, configs));
    // A channel on the job reports it whatever the types; its states replace the global ones.
    let own = postsubmit(
        "d",
        "kyma-project",
        "private",
        ProwJobState::Success,
        json!({"channel": "mine", "job_states_to_report": ["success"]}),
    );
    assert!(should_report_slack(&own, configs));
    // `report: false` on the job silences it.
    let silenced = postsubmit(
        "e",
        "kyma-project",
        "kyma",
        ProwJobState::Failure,
        json!({"report": false}),
    );
    assert!(!should_report_slack(&silenced, configs));

    let message = slack_message(&own, configs).unwrap();
    assert_eq!(message.channel, "mine");
    let message = slack_message(&failed, configs).unwrap();
    assert_eq!(message.channel, "kyma-ci-force");
    assert_eq!(
        message.text,
        "*Name:* post-widget-build\n*Type:* postsubmit\n*Status:* failure\n*Repository:* kyma-project/kyma\n*Commit:* <https://github.com/kyma-project/kyma/commit/fedcba98|fedcba9>\n*<https://prow.example.com/view/gs/logs/a|View logs>*\n"
    );
}

#[tokio::test]
async fn the_slack_reporter_posts_each_reported_state_once() {
    let (api, mut received) = fake_slack(r#"{"ok":true}"#).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("slack-token");
    std::fs::write(&token_file, "xoxb-secret\n").unwrap();
    let client = SlackClient::from_token_file(&api, &token_file).unwrap();
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let reporter: Arc<dyn JobReporter> = Arc::new(SlackReporter::new(client));
    let crier = ReporterLoop::new(store.clone(), reporter);
    let config = prow_config();

    let job = postsubmit(
        "deploy-1",
        "kyma-project",
        "kyma",
        ProwJobState::Pending,
        json!({"channel": "deploys", "job_states_to_report": ["pending", "success"],
               "report_template": "{{.Spec.Job}} is {{.Status.State}}: <{{.Status.URL}}|logs>"}),
    );
    store.create(job).await.unwrap();
    let pass = crier.sync_once(&config).await;
    assert!(pass.errors.is_empty(), "{:?}", pass.errors);
    assert_eq!(pass.reported.len(), 1);
    let got = received.recv().await.unwrap();
    assert_eq!(got.path, "/chat.postMessage");
    assert_eq!(got.content_type, "application/x-www-form-urlencoded");
    assert_eq!(got.form["token"], "xoxb-secret");
    assert_eq!(got.form["channel"], "deploys");
    assert_eq!(got.form["username"], "prow");
    assert_eq!(got.form["icon_emoji"], ":prow:");
    assert_eq!(
        got.form["text"],
        "post-widget-build is pending: <https://prow.example.com/view/gs/logs/deploy-1|logs>"
    );
    let stored = store.get("deploy-1").await.unwrap().unwrap();
    assert_eq!(
        stored.status.as_ref().unwrap().prev_report_states[SLACK_REPORTER_NAME],
        ProwJobState::Pending
    );

    // Nothing changed: nothing is posted.
    let pass = crier.sync_once(&config).await;
    assert!(pass.reported.is_empty() && pass.errors.is_empty());
    assert!(received.try_recv().is_err());

    // The job succeeds: one more message.
    let mut job = store.get("deploy-1").await.unwrap().unwrap();
    job.status.as_mut().unwrap().state = ProwJobState::Success;
    store.update(job).await.unwrap();
    let pass = crier.sync_once(&config).await;
    assert_eq!(pass.reported.len(), 1, "{:?}", pass.errors);
    let got = received.recv().await.unwrap();
    assert!(got.form["text"].contains("is success"), "{:?}", got.form);
}

#[tokio::test]
async fn a_message_slack_refuses_is_retried_and_not_recorded() {
    let (api, mut received) = fake_slack(r#"{"ok":false,"error":"channel_not_found"}"#).await;
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let reporter = Arc::new(SlackReporter::new(SlackClient::new(&api, "t")));
    let crier = ReporterLoop::new(store.clone(), reporter);
    let job = postsubmit(
        "p-1",
        "kyma-project",
        "kyma",
        ProwJobState::Failure,
        Value::Null,
    );
    store.create(job).await.unwrap();
    let pass = crier.sync_once(&prow_config()).await;
    assert!(pass.reported.is_empty());
    let error = format!("{}", pass.errors.first().expect("an error"));
    assert!(
        error
            .contains("failed to post message to kyma-ci-force: request failed: channel_not_found"),
        "{error}"
    );
    assert_eq!(
        received.recv().await.unwrap().form["channel"],
        "kyma-ci-force"
    );
    let stored = store.get("p-1").await.unwrap().unwrap();
    assert!(stored.status.unwrap().prev_report_states.is_empty());
}

#[tokio::test]
async fn the_gcs_reporter_writes_prowjob_json_into_the_jobs_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = format!("file://{}", dir.path().display());
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let crier = ReporterLoop::new(store.clone(), Arc::new(GcsReporter::new("", "")));
    let mut job = postsubmit(
        "build-1",
        "acme",
        "widget",
        ProwJobState::Pending,
        Value::Null,
    );
    std::sync::Arc::make_mut(job.spec.decoration_config.as_mut().unwrap())
        .gcs_configuration
        .as_mut()
        .unwrap()
        .bucket = bucket.clone();
    let (got_bucket, folder) = job_destination(&job).unwrap();
    assert_eq!(got_bucket, bucket);
    assert_eq!(folder, "logs/post-widget-build/1790000000000000001");
    store.create(job).await.unwrap();
    let config = ProwConfig::default();

    let pass = crier.sync_once(&config).await;
    assert!(pass.errors.is_empty(), "{:?}", pass.errors);
    let file = dir.path().join(&folder).join(PROWJOB_FILE);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("{\n\t\"apiVersion\""), "{text}");
    let written: ProwJob = serde_json::from_str(&text).unwrap();
    assert_eq!(written.name(), "build-1");
    assert_eq!(written.state(), Some(ProwJobState::Pending));

    // Each state change is written again; the same state is not.
    let mut job = store.get("build-1").await.unwrap().unwrap();
    assert_eq!(
        job.status.as_ref().unwrap().prev_report_states[GCS_REPORTER_NAME],
        ProwJobState::Pending
    );
    job.status.as_mut().unwrap().state = ProwJobState::Success;
    store.update(job).await.unwrap();
    assert_eq!(crier.sync_once(&config).await.reported.len(), 1);
    let written: ProwJob = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written.state(), Some(ProwJobState::Success));
    assert!(crier.sync_once(&config).await.reported.is_empty());

    // An undecorated job has nowhere to go and is not taken.
    let mut bare = postsubmit(
        "bare-1",
        "acme",
        "widget",
        ProwJobState::Pending,
        Value::Null,
    );
    bare.spec.decoration_config = None;
    assert!(job_destination(&bare).is_none());
    assert!(!GcsReporter::new("", "").should_report(&bare, &config));
}
