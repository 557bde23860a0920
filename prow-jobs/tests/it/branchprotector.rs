//! branchprotector's policy engine against the in-memory GitHub: which branches it covers,
//! the requests it makes (upstream's `request.go`), what it leaves alone, and that applying a
//! plan leaves nothing more to do.

use prow_config::prow::Policy;
use prow_github::GitHubClient;
use prow_github::fake::FakeGitHub;
use prow_github::types::BranchProtection;
use prow_jobs::branchprotector::request::{equal_protection, make_request};
use prow_jobs::branchprotector::{self, Action, Options, Plan};

/// Loads `config.yaml` text (jobs included) from a temporary directory.
fn config(yaml: &str) -> prow_config::Config {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, yaml).unwrap();
    prow_config::load(&prow_config::LoadOptions::new(&path, None)).unwrap()
}

/// The fake GitHub seeded from YAML.
fn github(seed: &str) -> FakeGitHub {
    FakeGitHub::from_seed_yaml(seed).unwrap()
}

/// Each change as `METHOD org/repo=branch`.
fn changes(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .map(|c| {
            let method = match c.action {
                Action::Remove => "DELETE",
                _ => "PUT",
            };
            format!("{method} {}/{}={}", c.org, c.repo, c.branch)
        })
        .collect()
}

/// The request planned for `org/repo=branch`.
fn request_for(plan: &Plan, at: &str) -> serde_json::Value {
    let change = plan
        .changes
        .iter()
        .find(|c| format!("{}/{}={}", c.org, c.repo, c.branch) == at)
        .unwrap_or_else(|| panic!("no change for {at}: {:?}", changes(plan)));
    match &change.action {
        Action::Update { request, .. } => serde_json::to_value(request).unwrap(),
        other => panic!("{at}: {other:?}"),
    }
}

const SEED: &str = "
repos:
  acme/api:
    branches: {main: a1, release-1.0: a2, revert-5-x: a3, gh-pages: a4}
    protection:
      gh-pages: {enforce_admins: true}
  acme/web:
    branches: {main: b1}
  acme/docs:
    branches: {main: e1}
  acme/old:
    archived: true
    branches: {main: c1}
  acme/site-ghsa-abcd-1234:
    private: true
    branches: {main: d1}
";

#[tokio::test]
async fn an_opinionated_org_covers_every_live_repo_and_branch_but_the_excluded() {
    let config = config(
        "
branch-protection:
  allow_disabled_policies: true
  orgs:
    acme:
      protect: true
      required_status_checks: {contexts: [EasyCLA]}
      exclude: ['^revert-']
      repos:
        api:
          restrictions: {users: [], teams: [stage-bots]}
          branches:
            gh-pages: {protect: false}
        web:
          required_pull_request_reviews: {required_approving_review_count: 1, dismiss_stale_reviews: true}
          enforce_admins: true
",
    );
    let github = github(SEED);
    let plan = branchprotector::plan(&config, &github, &Options::default()).await;
    assert_eq!(plan.errors, Vec::<String>::new());
    assert_eq!(
        changes(&plan),
        [
            "DELETE acme/api=gh-pages",
            "PUT acme/api=main",
            "PUT acme/api=release-1.0",
            "PUT acme/docs=main",
            "PUT acme/web=main",
        ]
    );
    assert_eq!(
        request_for(&plan, "acme/api=main"),
        serde_json::json!({
            "required_status_checks": {"strict": false, "contexts": ["EasyCLA"]},
            "enforce_admins": false,
            "required_pull_request_reviews": null,
            "restrictions": {"users": [], "teams": ["stage-bots"]},
            "required_linear_history": false,
            "allow_force_pushes": false,
            "allow_deletions": false
        })
    );
    assert_eq!(
        request_for(&plan, "acme/web=main"),
        serde_json::json!({
            "required_status_checks": {"strict": false, "contexts": ["EasyCLA"]},
            "enforce_admins": true,
            "required_pull_request_reviews": {
                "dismissal_restrictions": {},
                "dismiss_stale_reviews": true,
                "require_code_owner_reviews": false,
                "required_approving_review_count": 1,
                "bypass_pull_request_allowances": {}
            },
            "restrictions": null,
            "required_linear_history": false,
            "allow_force_pushes": false,
            "allow_deletions": false
        })
    );
    // Nothing was written while planning.
    assert_eq!(github.state().calls.get("update_branch_protection"), None);
}

#[tokio::test]
async fn applying_a_plan_leaves_nothing_to_do() {
    let config = config(
        "
branch-protection:
  allow_disabled_policies: true
  orgs:
    acme:
      protect: true
      required_status_checks: {contexts: [EasyCLA]}
      require_signed_commits: true
      repos:
        api:
          required_pull_request_reviews:
            required_approving_review_count: 2
            dismissal_restrictions: {teams: [leads]}
          branches:
            gh-pages: {protect: false}
presubmits:
  acme/api:
  - name: unit
    always_run: true
    skip_branches: [gh-pages]
    spec: {containers: [{image: alpine}]}
",
    );
    let github = github(SEED);
    let plan = branchprotector::plan(&config, &github, &Options::default()).await;
    assert_eq!(plan.errors, Vec::<String>::new());
    assert_eq!(plan.changes.len(), 6, "{:?}", changes(&plan));
    assert_eq!(
        branchprotector::apply(&github, &plan).await,
        Vec::<String>::new()
    );
    let main = github
        .branch_protection("acme", "api", "main")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        main.required_status_checks.unwrap().contexts,
        ["EasyCLA", "unit"]
    );
    assert!(main.required_signatures);
    assert_eq!(
        github
            .branch_protection("acme", "api", "gh-pages")
            .await
            .unwrap(),
        None
    );
    let again = branchprotector::plan(&config, &github, &Options::default()).await;
    assert_eq!(changes(&again), Vec::<String>::new());
    // Every branch but gh-pages, which stays unprotected.
    assert_eq!(again.unchanged, 5);
}

#[tokio::test]
async fn required_contexts_come_from_jobs_that_always_run() {
    let config = config(
        "
branch-protection:
  orgs:
    acme:
      repos:
        web:
          protect: true
presubmits:
  acme/web:
  - {name: always, always_run: true, spec: {containers: [{image: alpine}]}}
  - {name: changed, run_if_changed: '^docs/', spec: {containers: [{image: alpine}]}}
  - {name: skipped-only, skip_if_only_changed: '^docs/', spec: {containers: [{image: alpine}]}}
  - {name: optional, always_run: true, optional: true, spec: {containers: [{image: alpine}]}}
  - {name: silent, always_run: true, skip_report: true, spec: {containers: [{image: alpine}]}}
  - {name: manual, always_run: false, spec: {containers: [{image: alpine}]}}
  - {name: elsewhere, always_run: true, branches: [release-1.0], spec: {containers: [{image: alpine}]}}
",
    );
    let github = github(SEED);
    let plan = branchprotector::plan(&config, &github, &Options::default()).await;
    assert_eq!(changes(&plan), ["PUT acme/web=main"]);
    assert_eq!(
        request_for(&plan, "acme/web=main")["required_status_checks"],
        serde_json::json!({"strict": false, "contexts": ["always"]})
    );
}

#[tokio::test]
async fn unmanaged_unprotected_and_misconfigured_branches() {
    let config = config(
        "
branch-protection:
  orgs:
    acme:
      repos:
        api:
          protect: true
          include: ['^release-']
          branches:
            main: {unmanaged: true}
        web:
          protect: false
        docs:
          branches:
            main: {enforce_admins: true}
",
    );
    let github = github(SEED);
    let plan = branchprotector::plan(&config, &github, &Options::default()).await;
    // api: main is named but unmanaged, gh-pages and revert-5-x are not included; web is
    // unprotected already; docs names a branch without saying whether to protect it.
    assert_eq!(changes(&plan), ["PUT acme/api=release-1.0"]);
    assert_eq!(
        plan.errors,
        [
            "update acme: update docs: get main: defined branch policies must set protect or unmanaged=true"
        ]
    );
}

#[tokio::test]
async fn apps_restrictions_need_their_flag_and_protect_tested_repos_adds_repos() {
    let config = config(
        "
branch-protection:
  protect-tested-repos: true
  orgs:
    acme:
      repos:
        api:
          protect: true
          restrictions: {apps: [k8s-ci-robot], teams: [stage-bots]}
presubmits:
  acme/web:
  - {name: unit, always_run: true, spec: {containers: [{image: alpine}]}}
",
    );
    let github = github(SEED);
    let plan = branchprotector::plan(&config, &github, &Options::default()).await;
    assert_eq!(changes(&plan), ["PUT acme/web=main"]);
    assert_eq!(plan.errors.len(), 4, "{:?}", plan.errors);
    assert_eq!(
        plan.errors[0],
        "update acme: update api: update gh-pages from protected=true: 'enable-apps-restrictions' command line flag is not true, but Apps Restrictions are maintained for acme/api=gh-pages"
    );
    let plan =
        branchprotector::plan(&config, &github, &Options::with_apps_restrictions(true)).await;
    assert_eq!(plan.errors, Vec::<String>::new());
    assert_eq!(
        request_for(&plan, "acme/api=main")["restrictions"],
        serde_json::json!({"apps": ["k8s-ci-robot"], "users": [], "teams": ["stage-bots"]})
    );
}

#[test]
fn equality_reads_github_as_upstream_does() {
    let policy: Policy = serde_yaml::from_str(
        "protect: true\nrequired_status_checks: {contexts: [b, a, a]}\nrestrictions: {users: ['@Alice'], teams: []}\n",
    )
    .unwrap();
    let request = make_request(&policy, false);
    assert_eq!(
        request.required_status_checks.as_ref().unwrap().contexts,
        ["a", "b"]
    );
    // GitHub reports logins in their own case; order does not matter.
    let state: BranchProtection = serde_yaml::from_str(
        "required_status_checks: {strict: false, contexts: [b, a]}\nrestrictions: {users: [alice], teams: []}\n",
    )
    .unwrap();
    assert!(equal_protection(Some(&state), Some(&request)));
    let admins = BranchProtection {
        enforce_admins: true,
        ..state.clone()
    };
    assert!(!equal_protection(Some(&admins), Some(&request)));
    assert!(!equal_protection(None, Some(&request)));
    assert!(equal_protection(None, None));
    assert!(!equal_protection(Some(&state), None));
}
