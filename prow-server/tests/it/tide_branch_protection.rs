//! tide's `from-branch-protection`: a branch's required contexts include those of its
//! configured `branch-protection:` policy (Prow's `GetTideContextPolicy`), so a PR whose jobs
//! passed still waits for a context only branch protection requires.

use prow_core::ProwJobState;

use super::tide::{ORG, REPO, finish, merges, setup, status};

/// `tide.context_options` reading branch protection, and an org policy requiring `EasyCLA`
/// (which no job reports).
const FROM_BRANCH_PROTECTION: &str = "  context_options:
    from-branch-protection: true
branch-protection:
  orgs:
    acme:
      protect: true
      required_status_checks:
        contexts: [EasyCLA]
";

/// The same policy, with tide not asked to read it.
const WITHOUT: &str = "branch-protection:
  orgs:
    acme:
      protect: true
      required_status_checks:
        contexts: [EasyCLA]
";

/// PR #1 (`unit` and `e2e` passing, `EasyCLA` as given) through tide, passing whatever
/// retests it starts: how many it started, what merged and the `tide` context's last
/// description.
async fn run(extra: &str, easycla: Option<&str>) -> (usize, Vec<(u64, String)>, String) {
    let s = setup(&[1], extra);
    if let Some(state) = easycla {
        s.github
            .state()
            .statuses
            .entry((ORG.into(), REPO.into(), "sha-1".into()))
            .or_default()
            .push(status("EasyCLA", state));
    }
    s.tide.sync_once().await.unwrap();
    let retests = finish(s.store.as_ref(), &[1], None, ProwJobState::Success).await;
    s.tide.sync_once().await.unwrap();
    s.tide.status_once().await.unwrap();
    let description = s
        .github
        .state()
        .statuses
        .get(&(ORG.into(), REPO.into(), "sha-1".into()))
        .and_then(|all| all.iter().rev().find(|st| st.context == "tide").cloned())
        .and_then(|st| st.description)
        .unwrap_or_default();
    (retests, merges(&s.github), description)
}

#[tokio::test]
async fn a_context_branch_protection_requires_holds_the_merge() {
    let (retests, merged, description) = run(FROM_BRANCH_PROTECTION, None).await;
    // Not passing, so not in the pool: neither retested nor merged.
    assert_eq!((retests, merged), (0, Vec::new()));
    insta::assert_snapshot!(description, @"Not mergeable. Job EasyCLA has not succeeded.");
}

#[tokio::test]
async fn the_pr_merges_once_that_context_passes() {
    let (retests, merged, _) = run(FROM_BRANCH_PROTECTION, Some("success")).await;
    assert_eq!((retests, merged), (2, vec![(1, "sha-1".to_owned())]));
}

#[tokio::test]
async fn without_the_option_branch_protection_is_not_read() {
    let (retests, merged, _) = run(WITHOUT, None).await;
    assert_eq!((retests, merged), (2, vec![(1, "sha-1".to_owned())]));
}
