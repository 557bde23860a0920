//! `prow branchprotector` on k8s-test-infra's real `branch-protection:` policy, against the
//! fake GitHub seeded with that deployment's orgs, repositories and branches
//! (`tests/data/branchprotector/k8s-github.yaml`): the dry run's plan, `--confirm`, and that
//! GitHub then holds exactly the plan so that a second run has nothing to do.

use std::path::{Path, PathBuf};
use std::process::Command;

use prow_github::GitHubClient;
use prow_github::fake::FakeGitHub;
use prow_github::types::BranchProtection;
use prow_jobs::branchprotector::{self, Action, Options};

/// k8s-test-infra in the corpus: `PROW_CORPUS` or `../shared/corpus`; `None` (with a notice)
/// when absent, a failure under `CI=true`.
fn k8s_corpus() -> PathBuf {
    crate::corpus().join("k8s-test-infra")
}

fn seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/branchprotector/k8s-github.yaml")
}

/// `prow branchprotector` with k8s-test-infra's flags (as its periodic passes them), on the
/// fake GitHub.
fn branchprotector(root: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prow"))
        .current_dir(root)
        .args([
            "--log-level=warn",
            "branchprotector",
            "--config-path=config/prow/config.yaml",
            "--job-config-path=config/jobs",
        ])
        .arg("--github-fake")
        .arg(seed())
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn dry_run_prints_k8s_test_infras_plan() {
    let root = k8s_corpus();
    let (code, stdout, stderr) = branchprotector(&root, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    insta::assert_snapshot!("branchprotector_k8s_dry_run", stdout);
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn confirm_applies_every_planned_change() {
    let root = k8s_corpus();
    let (code, dry, stderr) = branchprotector(&root, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let planned = dry
        .lines()
        .filter(|l| l.starts_with("PUT ") || l.starts_with("DELETE "))
        .count();
    assert!(planned > 200, "{dry}");
    let (code, applied, stderr) = branchprotector(&root, &["--confirm"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        applied.contains(&format!("applied {planned} changes, 0 failed")),
        "{applied}"
    );
    assert!(!applied.contains("dry run"), "{applied}");
}

#[tokio::test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
async fn applied_k8s_plan_is_what_github_holds_and_leaves_nothing_to_do() {
    let root = k8s_corpus();
    let config = prow_config::load(&prow_config::LoadOptions::new(
        root.join("config/prow/config.yaml"),
        Some(root.join("config/jobs")),
    ))
    .unwrap();
    let github = FakeGitHub::from_seed_yaml(&std::fs::read_to_string(seed()).unwrap()).unwrap();
    let options = Options::default();
    let plan = branchprotector::plan(&config, &github, &options).await;
    assert_eq!(plan.errors, Vec::<String>::new());
    assert_eq!(
        branchprotector::apply(&github, &plan).await,
        Vec::<String>::new()
    );
    for change in &plan.changes {
        let now = github
            .branch_protection(&change.org, &change.repo, &change.branch)
            .await
            .unwrap();
        let expected = match &change.action {
            Action::Remove => None,
            Action::Update {
                request,
                signatures,
            } => {
                let mut p = change.current.clone().unwrap_or_default().applied(request);
                if let Some(s) = signatures {
                    p.required_signatures = *s;
                }
                Some(p)
            }
            other => panic!("unexpected action {other:?}"),
        };
        assert_eq!(
            now, expected,
            "{}/{}={}",
            change.org, change.repo, change.branch
        );
    }
    // kubernetes/kubernetes' release branch requires the org's EasyCLA and the jobs that
    // always run on that branch, not master's.
    let release: BranchProtection = github
        .branch_protection("kubernetes", "kubernetes", "release-1.34")
        .await
        .unwrap()
        .unwrap();
    let contexts = release.required_status_checks.unwrap().contexts;
    assert!(
        contexts.contains(&"EasyCLA".to_owned())
            && contexts.contains(&"pull-kubernetes-e2e-gce".to_owned()),
        "{contexts:?}"
    );
    let again = branchprotector::plan(&config, &github, &options).await;
    assert_eq!(again.errors, Vec::<String>::new());
    assert_eq!(again.changes, Vec::new());
    assert_eq!(
        again.unchanged,
        plan.changes
            .iter()
            .filter(|c| !matches!(c.action, Action::Remove))
            .count()
            + plan.unchanged
    );
}
