//! The in-memory fake, used through the trait as the components will use it.

use std::sync::Arc;

use prow_github::Error;
use prow_github::GitHubClient;
use prow_github::fake::FakeGitHub;
use prow_github::types::{
    Branch, MergeMethod, MergeRequest, Permission, PullRequest, Status, StatusState, User,
};

fn pr(number: u64, author: &str, sha: &str, title: &str) -> PullRequest {
    PullRequest {
        number,
        title: title.into(),
        state: "open".into(),
        user: User {
            login: author.into(),
            ..User::default()
        },
        head: Branch {
            git_ref: format!("feature-{number}"),
            sha: sha.into(),
            ..Branch::default()
        },
        base: Branch {
            git_ref: "main".into(),
            sha: "base".into(),
            ..Branch::default()
        },
        mergeable: Some(true),
        ..PullRequest::default()
    }
}

fn seeded() -> (Arc<FakeGitHub>, Arc<dyn GitHubClient>) {
    let fake = Arc::new(FakeGitHub::new("ci-bot"));
    fake.add_pull_request("o", "r", pr(1, "alice", "a1", "Fix the parser"));
    fake.add_pull_request("o", "r", pr(2, "bob", "b2", "WIP: rewrite"));
    fake.add_pull_request("o", "other", pr(3, "alice", "c3", "Docs"));
    {
        let mut state = fake.state();
        state
            .branches
            .insert(("o".into(), "r".into(), "main".into()), "base".into());
        state
            .org_members
            .entry("o".into())
            .or_default()
            .insert("alice".into());
        state
            .collaborators
            .insert(("o".into(), "r".into(), "bob".into()), Permission::Write);
        state.files.insert(
            ("o".into(), "r".into(), "main".into(), "OWNERS".into()),
            b"approvers: [alice]\n".to_vec(),
        );
    }
    let client: Arc<dyn GitHubClient> = fake.clone();
    (fake, client)
}

#[tokio::test]
async fn labels_comments_and_assignees_round_trip() {
    let (fake, gh) = seeded();
    gh.add_labels("o", "r", 1, &["lgtm".into(), "approved".into()])
        .await
        .unwrap();
    gh.remove_label("o", "r", 1, "approved").await.unwrap();
    let labels: Vec<String> = gh
        .issue_labels("o", "r", 1)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(labels, ["lgtm"]);
    assert_eq!(gh.pull_request("o", "r", 1).await.unwrap().labels.len(), 1);
    assert!(matches!(
        gh.remove_label("o", "r", 1, "approved").await,
        Err(Error::NotFound { .. })
    ));
    let id = gh.create_comment("o", "r", 1, "/test all").await.unwrap();
    gh.edit_comment("o", "r", id, "/retest").await.unwrap();
    let comments = gh.issue_comments("o", "r", 1).await.unwrap();
    assert_eq!(
        (comments[0].body.as_deref(), comments[0].user.login.as_str()),
        (Some("/retest"), "ci-bot")
    );
    gh.delete_comment("o", "r", id).await.unwrap();
    assert!(gh.issue_comments("o", "r", 1).await.unwrap().is_empty());
    gh.add_assignees("o", "r", 1, &["bob".into()])
        .await
        .unwrap();
    assert_eq!(
        gh.pull_request("o", "r", 1).await.unwrap().assignees[0].login,
        "bob"
    );
    assert!(matches!(
        gh.issue_labels("o", "r", 99).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(fake.state().calls["add_labels"], 1);
}

#[tokio::test]
async fn merges_are_guarded_by_the_head_sha() {
    let (fake, gh) = seeded();
    let stale = MergeRequest {
        sha: Some("old".into()),
        method: MergeMethod::Squash,
        ..MergeRequest::default()
    };
    let err = gh.merge("o", "r", 1, &stale).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "merge o/r#1: head is a1, not the tested old"
    );
    fake.state()
        .pulls
        .get_mut(&("o".into(), "r".into(), 2))
        .unwrap()
        .mergeable = Some(false);
    let err = gh
        .merge("o", "r", 2, &MergeRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "merge o/r#2: not mergeable: Merge conflict"
    );
    let good = MergeRequest {
        sha: Some("a1".into()),
        ..MergeRequest::default()
    };
    gh.merge("o", "r", 1, &good).await.unwrap();
    assert_eq!(
        gh.pull_request("o", "r", 1).await.unwrap().merged,
        Some(true)
    );
    assert_eq!(
        gh.ref_sha("o", "r", "heads/main").await.unwrap(),
        "merge-1-a1"
    );
    assert!(matches!(
        gh.merge("o", "r", 1, &good).await,
        Err(Error::NotMergeable { .. })
    ));
    assert_eq!(fake.state().merges.len(), 1);
}

#[tokio::test]
async fn combined_status_keeps_the_latest_per_context() {
    let (_, gh) = seeded();
    let status = |context: &str, state| Status {
        state,
        context: context.into(),
        ..Status::default()
    };
    gh.create_status("o", "r", "a1", &status("unit", StatusState::Pending))
        .await
        .unwrap();
    gh.create_status("o", "r", "a1", &status("unit", StatusState::Success))
        .await
        .unwrap();
    gh.create_status("o", "r", "a1", &status("lint", StatusState::Success))
        .await
        .unwrap();
    let combined = gh.combined_status("o", "r", "a1").await.unwrap();
    assert_eq!(combined.state, StatusState::Success);
    assert_eq!(combined.statuses.len(), 2);
    gh.create_status("o", "r", "a1", &status("lint", StatusState::Failure))
        .await
        .unwrap();
    assert_eq!(
        gh.combined_status("o", "r", "a1").await.unwrap().state,
        StatusState::Failure
    );
    assert!(matches!(
        gh.create_status("o", "r", "a1", &status("", StatusState::Success))
            .await,
        Err(Error::Validation { .. })
    ));
}

#[tokio::test]
async fn search_understands_tides_query_terms() {
    let (_, gh) = seeded();
    gh.add_labels("o", "r", 1, &["lgtm".into(), "approved".into()])
        .await
        .unwrap();
    gh.add_labels(
        "o",
        "r",
        2,
        &["lgtm".into(), "approved".into(), "do-not-merge/hold".into()],
    )
    .await
    .unwrap();
    let numbers = |issues: Vec<prow_github::types::Issue>| {
        issues.into_iter().map(|i| i.number).collect::<Vec<_>>()
    };
    let query = r#"is:pr state:open archived:false repo:"o/r" label:"lgtm" label:approved -label:"do-not-merge/hold""#;
    assert_eq!(numbers(gh.search_issues(query).await.unwrap()), [1]);
    assert_eq!(
        numbers(gh.search_issues("is:pr org:o author:alice").await.unwrap()),
        [3, 1]
    );
    assert_eq!(
        numbers(
            gh.search_issues("is:pr org:o base:main head:feature-2")
                .await
                .unwrap()
        ),
        [2]
    );
}

#[tokio::test]
async fn membership_permissions_and_files() {
    let (_, gh) = seeded();
    assert!(gh.is_org_member("o", "alice").await.unwrap());
    assert!(!gh.is_org_member("o", "bob").await.unwrap());
    assert_eq!(
        gh.collaborator_permission("o", "r", "bob").await.unwrap(),
        Permission::Write
    );
    assert_eq!(
        gh.collaborator_permission("o", "r", "eve").await.unwrap(),
        Permission::None
    );
    assert_eq!(
        gh.file_contents("o", "r", "OWNERS", "main")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"approvers: [alice]\n"[..])
    );
    assert_eq!(
        gh.file_contents("o", "r", ".prow.yaml", "main")
            .await
            .unwrap(),
        None
    );
    assert_eq!(gh.bot_user().await.unwrap().login, "ci-bot");
    // The seven calls above each spent one request; asking for the rate limit is free.
    assert_eq!(gh.rate_limit().await.unwrap().remaining, 5000 - 7);
}

#[tokio::test]
async fn every_call_spends_the_rate_limit_until_it_is_gone() {
    let github = FakeGitHub::new("prow-bot");
    github.state().rate_limit = prow_github::types::RateLimit {
        limit: 5000,
        remaining: 2,
        reset: 1_700_000_000,
    };
    github.bot_user().await.unwrap();
    github.bot_user().await.unwrap();
    let err = github.bot_user().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::RateLimited {
                reset: 1_700_000_000,
                ..
            }
        ),
        "{err}"
    );
    // Asking for the rate limit is free, as on GitHub.
    assert_eq!(github.rate_limit().await.unwrap().remaining, 0);
    assert_eq!(github.state().calls["bot_user"], 3);
}

#[tokio::test]
async fn queued_failures_answer_the_next_calls_in_order() {
    let github = FakeGitHub::new("prow-bot");
    github.fail_next(
        "create_comment",
        Error::Forbidden {
            what: "comment".into(),
            message: "Resource not accessible by integration".into(),
        },
    );
    github.fail_next(
        "create_comment",
        Error::NotFound {
            what: "issue o/r#1".into(),
        },
    );
    let first = github.create_comment("o", "r", 1, "hi").await.unwrap_err();
    let second = github.create_comment("o", "r", 1, "hi").await.unwrap_err();
    assert!(matches!(first, Error::Forbidden { .. }), "{first}");
    assert!(matches!(second, Error::NotFound { .. }), "{second}");
    // Other methods are unaffected, and the queue is used up.
    github.bot_user().await.unwrap();
    assert_eq!(github.state().calls["create_comment"], 2);
}

#[tokio::test]
async fn seeded_protection_is_updated_listed_and_removed() {
    use prow_github::types::{
        BranchProtectionRequest, PullRequestReviewsRequest, RequiredStatusChecks,
        RestrictionsRequest,
    };
    let github = FakeGitHub::from_seed_yaml(
        "repos:\n  o/r:\n    branches: {main: aaa, dev: bbb}\n    protection:\n      main: {enforce_admins: true, required_signatures: true}\n  o/old:\n    archived: true\n",
    )
    .unwrap();
    let repos: Vec<(String, bool)> = github
        .org_repos("o")
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.name, r.archived))
        .collect();
    assert_eq!(repos, [("old".to_owned(), true), ("r".to_owned(), false)]);
    assert!(github.repository("o", "old").await.unwrap().archived);
    assert!(matches!(
        github.repository("o", "gone").await,
        Err(Error::NotFound { .. })
    ));
    let protected = github.branches_by_protection("o", "r", true).await.unwrap();
    assert_eq!(protected.len(), 1);
    assert_eq!(protected[0].name, "main");
    let request = BranchProtectionRequest {
        required_status_checks: Some(RequiredStatusChecks {
            strict: false,
            contexts: vec!["ci".into()],
        }),
        required_pull_request_reviews: Some(PullRequestReviewsRequest {
            required_approving_review_count: 1,
            ..PullRequestReviewsRequest::default()
        }),
        restrictions: Some(RestrictionsRequest::default()),
        ..BranchProtectionRequest::default()
    };
    github
        .update_branch_protection("o", "r", "dev", &request)
        .await
        .unwrap();
    let dev = github
        .branch_protection("o", "r", "dev")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dev.required_status_checks.unwrap().contexts, ["ci"]);
    let reviews = dev.required_pull_request_reviews.unwrap();
    assert_eq!(reviews.required_approving_review_count, 1);
    // Nothing named: GitHub reports no dismissal restriction and no push restriction.
    assert_eq!(reviews.dismissal_restrictions, None);
    assert_eq!(dev.restrictions, None);
    // An update keeps the commit-signature setting, which has its own endpoint.
    github
        .update_branch_protection("o", "r", "main", &request)
        .await
        .unwrap();
    let main = github
        .branch_protection("o", "r", "main")
        .await
        .unwrap()
        .unwrap();
    assert!(main.required_signatures && !main.enforce_admins);
    github
        .set_required_signatures("o", "r", "main", false)
        .await
        .unwrap();
    github
        .remove_branch_protection("o", "r", "dev")
        .await
        .unwrap();
    assert_eq!(
        github.branch_protection("o", "r", "dev").await.unwrap(),
        None
    );
    assert!(matches!(
        github
            .update_branch_protection("o", "r", "nope", &request)
            .await,
        Err(Error::NotFound { .. })
    ));
}

// issue-management: transfer, pin.
#[tokio::test]
async fn the_fake_pins_at_most_three_issues_and_transfers_issues_not_pull_requests() {
    use prow_github::fake::{issue_node_id, repo_node_id};
    use prow_github::types::{Issue, Repo};
    let github = FakeGitHub::new("bot");
    for n in 1..=4 {
        github.add_issue(
            "o",
            "r",
            Issue {
                number: n,
                ..Issue::default()
            },
        );
    }
    github.add_pull_request("o", "r", pr(9, "a", "s", "t"));
    github.state().repos.insert(
        ("o".into(), "s".into()),
        Repo {
            name: "s".into(),
            node_id: "R_custom".into(),
            ..Repo::default()
        },
    );
    let issue = github.issue("o", "r", 2).await.unwrap();
    assert_eq!(issue.node_id, issue_node_id("o", "r", 2));
    for n in 1..=3 {
        github
            .pin_issue("o", &issue_node_id("o", "r", n))
            .await
            .unwrap();
    }
    let fourth = github
        .pin_issue("o", &issue_node_id("o", "r", 4))
        .await
        .unwrap_err();
    assert!(fourth.to_string().contains("at most 3"), "{fourth}");
    // Pinning again what is pinned is no error, and unpinning frees a place.
    github
        .pin_issue("o", &issue_node_id("o", "r", 3))
        .await
        .unwrap();
    github
        .unpin_issue("o", &issue_node_id("o", "r", 1))
        .await
        .unwrap();
    github
        .pin_issue("o", &issue_node_id("o", "r", 4))
        .await
        .unwrap();
    assert_eq!(
        github
            .state()
            .pinned
            .iter()
            .map(|k| k.2)
            .collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert!(
        github
            .pin_issue("other", &issue_node_id("o", "r", 1))
            .await
            .is_err()
    );

    let url = github
        .transfer_issue("o", &issue_node_id("o", "r", 2), "R_custom")
        .await
        .unwrap();
    assert_eq!(url, "https://github.com/o/s/issues/1");
    let moved = github.issue("o", "s", 1).await.unwrap();
    assert_eq!(moved.node_id, issue_node_id("o", "r", 2));
    assert!(github.issue("o", "r", 2).await.is_err());
    assert!(!github.state().pinned.iter().any(|k| k.2 == 2 && k.1 == "r"));
    let pull = github
        .transfer_issue("o", &issue_node_id("o", "r", 9), &repo_node_id("o", "s"))
        .await;
    assert!(pull.is_err());
    let pull = github
        .transfer_issue("o", &issue_node_id("o", "r", 9), "R_custom")
        .await
        .unwrap_err();
    assert!(
        pull.to_string()
            .contains("pull requests cannot be transferred"),
        "{pull}"
    );
    assert_eq!(github.state().transfers.len(), 1);
}
