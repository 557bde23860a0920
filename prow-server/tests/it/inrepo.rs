//! In-repo configuration at run time, as a user meets it: a repository whose `.prow.yaml`
//! defines a presubmit gets it run on `/test` through the real hook, and tide waits for that
//! job's context before merging. The repository is a real bare git repository in a temp dir
//! that the fake GitHub hands out as its clone address; hook and tide share one git cache.

use std::path::Path;
use std::sync::Arc;

use git2::{Oid, Repository};
use prow_core::ProwJobState;
use prow_github::fake::FakeGitHub;
use prow_github::types::PullRequest;
use prow_jobs::inrepo::InRepoConfigCache;
use prow_jobs::store::ListParams;

fn report(github: &FakeGitHub, head: Oid, state: &str) {
    github
        .state()
        .statuses
        .entry((ORG.into(), REPO.into(), head.to_string()))
        .or_default()
        .push(crate::tide::status("in-repo-check", state));
}
use prow_server::hook::Options;
use serde_json::json;

use crate::support::{self, ORG, REPO, Server, comment, commit};

const PROW_YAML: &str = r#"
presubmits:
- name: in-repo-check
  always_run: true
  spec:
    containers:
    - image: alpine
      command: ["true"]
"#;

const CONFIG: &str = r#"
prowjob_namespace: default
in_repo_config:
  enabled:
    Codertocat/Hello-World: true
tide:
  queries:
  - repos: [Codertocat/Hello-World]
    labels: [lgtm]
presubmits:
  Codertocat/Hello-World:
  - name: unit
    always_run: true
    spec: {containers: [{image: alpine, command: ["true"]}]}
"#;

/// `Codertocat/Hello-World` with `master` at a commit without in-repo config, and pull
/// request #2 adding `.prow.yaml` (`refs/pull/2/head`); answers (base, head).
fn repository(root: &Path, prow_yaml: &str) -> (Oid, Oid) {
    let origin = Repository::init_bare(root.join("Codertocat/Hello-World.git")).unwrap();
    let base = commit(&origin, None, &[("README", "hello\n")], "Initial commit");
    let head = commit(&origin, Some(base), &[(".prow.yaml", prow_yaml)], "Add CI");
    origin
        .reference("refs/heads/master", base, true, "")
        .unwrap();
    origin
        .reference("refs/pull/2/head", head, true, "")
        .unwrap();
    (base, head)
}

/// The fake GitHub with open PR #2 (by a member, labelled `lgtm`) at those commits, its
/// `unit` context passing, and git under `root`.
fn github(root: &Path, (base, head): (Oid, Oid)) -> Arc<FakeGitHub> {
    let github = Arc::new(FakeGitHub::new("ci-robot"));
    let pr: PullRequest = serde_json::from_value(json!({
        "id": 1, "number": 2, "title": "Add CI", "state": "open", "mergeable": true,
        "user": {"login": "member"}, "labels": [{"name": "lgtm"}],
        "html_url": "https://github.com/Codertocat/Hello-World/pull/2",
        "head": {"ref": "ci", "sha": head.to_string()},
        "base": {"ref": "master", "sha": base.to_string()},
    }))
    .unwrap();
    github.add_pull_request(ORG, REPO, pr);
    let mut state = github.state();
    state.git_root = Some(root.to_owned());
    state
        .org_members
        .entry(ORG.to_owned())
        .or_default()
        .insert("member".to_owned());
    state
        .branches
        .insert((ORG.into(), REPO.into(), "master".into()), base.to_string());
    state
        .statuses
        .entry((ORG.into(), REPO.into(), head.to_string()))
        .or_default()
        .push(crate::tide::status("unit", "success"));
    drop(state);
    github
}

fn tide_status(github: &FakeGitHub, head: Oid) -> String {
    let state = github.state();
    state.statuses[&(ORG.to_owned(), REPO.to_owned(), head.to_string())]
        .iter()
        .rev()
        .find(|s| s.context == "tide")
        .and_then(|s| s.description.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prow_yaml_presubmit_runs_on_test_and_tide_waits_for_it() {
    let root = tempfile::tempdir().unwrap();
    let (base, head) = repository(root.path(), PROW_YAML);
    let github = github(root.path(), (base, head));
    let config = support::hook_config(CONFIG, support::PLUGINS);
    let cache = Arc::new(InRepoConfigCache::new(root.path().join("git-cache")));
    let server = Server::start_full(
        github.clone(),
        Options::default(),
        config.clone(),
        prow_plugins::builtin(),
        Some(cache.clone()),
    )
    .await;

    // `/test in-repo-check`: a job only `.prow.yaml` defines, at the PR's base and head.
    let (status, _) = server
        .send(
            "issue_comment",
            &comment("/test in-repo-check", "member", "member"),
        )
        .await;
    assert_eq!(status, 200);
    server.metrics.wait_processed(1).await;
    let jobs = server.store.list(&ListParams::default()).await.unwrap();
    let names: Vec<&str> = jobs.iter().map(|j| j.spec.job.as_str()).collect();
    assert_eq!(names, ["in-repo-check"], "{:?}", support::comments(&github));
    let refs = jobs[0].spec.refs.as_ref().unwrap();
    assert_eq!(refs.base_sha, base.to_string());
    assert_eq!(refs.pulls[0].sha, head.to_string());
    assert_eq!(jobs[0].spec.context, "in-repo-check");
    assert_eq!(cache.stats().mirrors, 1, "one mirror fetched");
    // crier reports the new job as pending.
    report(&github, head, "pending");

    // tide, sharing the cache and the store: `unit` passed, but the in-repo job has not.
    let tide = prow_server::tide::Controller::new(
        github.clone(),
        server.store.clone(),
        prow_jobs::config::ConfigHandle::fixed(config),
        Arc::new(crate::tide::Stopped),
    )
    .with_inrepo(cache.clone());
    tide.sync_once().await.unwrap();
    tide.status_once().await.unwrap();
    assert!(
        github.state().merges.is_empty(),
        "tide waits for in-repo-check"
    );
    assert!(
        tide_status(&github, head).contains("in-repo-check"),
        "{}",
        tide_status(&github, head)
    );
    // The merge was read once: hook and tide asked for the same (base, head).
    assert_eq!(cache.stats().entries, 1);

    // The in-repo job passes and reports; tide still wants a run of `unit` on this base (its
    // context came from elsewhere) and triggers it.
    let finish_all = || async {
        for mut job in server.store.list(&ListParams::default()).await.unwrap() {
            job.status.get_or_insert_with(Default::default).state = ProwJobState::Success;
            server.store.update(job).await.unwrap();
        }
    };
    finish_all().await;
    report(&github, head, "success");
    tide.sync_once().await.unwrap();
    assert!(github.state().merges.is_empty());
    assert_eq!(
        support::job_names(server.store.as_ref()).await,
        ["in-repo-check", "unit"]
    );

    // Everything passed on the tested head: tide merges it.
    finish_all().await;
    tide.sync_once().await.unwrap();
    let merges: Vec<(u64, Option<String>)> = github
        .state()
        .merges
        .iter()
        .map(|((_, _, n), m)| (*n, m.sha.clone()))
        .collect();
    assert_eq!(merges, [(2, Some(head.to_string()))]);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disallowed_cluster_in_prow_yaml_falls_back_to_the_central_jobs() {
    let root = tempfile::tempdir().unwrap();
    let yaml = PROW_YAML.replace(
        "  always_run: true",
        "  always_run: true\n  cluster: build-secret",
    );
    let (base, head) = repository(root.path(), &yaml);
    let github = github(root.path(), (base, head));
    let config = support::hook_config(CONFIG, support::PLUGINS);
    let cache = InRepoConfigCache::new(root.path().join("git-cache"));
    let err = cache
        .presubmits(
            &config.config,
            github.as_ref(),
            (ORG, REPO),
            &base.to_string(),
            &[head.to_string().as_str()],
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid in-repo config of Codertocat/Hello-World: .prow.yaml:5: presubmits[0].cluster: job \"in-repo-check\": cluster \"build-secret\" is not allowed for repository \"Codertocat/Hello-World\""
    );
    let server = Server::start_full(
        github.clone(),
        Options::default(),
        config,
        prow_plugins::builtin(),
        Some(Arc::new(cache)),
    )
    .await;
    let (status, _) = server
        .send("issue_comment", &comment("/test all", "member", "member"))
        .await;
    assert_eq!(status, 200);
    server.metrics.wait_processed(1).await;
    assert_eq!(support::job_names(server.store.as_ref()).await, ["unit"]);
    server.shutdown().await;
}
