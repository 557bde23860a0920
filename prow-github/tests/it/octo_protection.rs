//! Branch protection, branch and repository listings through the octocrab client, against a
//! fake GitHub on 127.0.0.1: paths, methods, upstream's request body and GitHub's answers.

use prow_github::GitHubClient;
use prow_github::types::{
    BranchProtection, BranchProtectionRequest, PullRequestReviews, PullRequestReviewsRequest,
    PushRestrictions, RequiredStatusChecks, RestrictionsRequest, ReviewAllowances,
    ReviewAllowancesRequest,
};

use super::octo::{client, fake_github, ok};

/// A request using every field, as branchprotector builds them.
fn full_request() -> BranchProtectionRequest {
    BranchProtectionRequest {
        required_status_checks: Some(RequiredStatusChecks {
            strict: true,
            contexts: vec!["EasyCLA".into(), "pull-unit".into()],
        }),
        enforce_admins: Some(false),
        required_pull_request_reviews: Some(PullRequestReviewsRequest {
            dismissal_restrictions: ReviewAllowancesRequest {
                users: Some(vec![]),
                teams: Some(vec!["leads".into()]),
            },
            dismiss_stale_reviews: true,
            require_code_owner_reviews: false,
            required_approving_review_count: 2,
            bypass_pull_request_allowances: ReviewAllowancesRequest::default(),
        }),
        restrictions: Some(RestrictionsRequest {
            apps: None,
            users: Some(vec![]),
            teams: Some(vec!["stage-bots".into()]),
        }),
        required_linear_history: true,
        allow_force_pushes: false,
        allow_deletions: false,
    }
}

#[tokio::test]
async fn update_puts_upstreams_request_shape_to_the_encoded_branch() {
    let (endpoint, log) = fake_github(|_, _| ok("{}"));
    let github = client(&endpoint);
    github
        .update_branch_protection("o", "r", "release/1.0", &full_request())
        .await
        .unwrap();
    github
        .update_branch_protection("o", "r", "main", &BranchProtectionRequest::default())
        .await
        .unwrap();
    let log = log.lock().unwrap();
    assert_eq!(log[0].method, "PUT");
    assert_eq!(log[0].path, "/repos/o/r/branches/release%2F1.0/protection");
    let body: serde_json::Value = serde_json::from_str(&log[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "required_status_checks": {"strict": true, "contexts": ["EasyCLA", "pull-unit"]},
            "enforce_admins": false,
            "required_pull_request_reviews": {
                "dismissal_restrictions": {"users": [], "teams": ["leads"]},
                "dismiss_stale_reviews": true,
                "require_code_owner_reviews": false,
                "required_approving_review_count": 2,
                "bypass_pull_request_allowances": {}
            },
            "restrictions": {"users": [], "teams": ["stage-bots"]},
            "required_linear_history": true,
            "allow_force_pushes": false,
            "allow_deletions": false
        })
    );
    // Unset sections are sent as null, which is how GitHub is told to turn them off.
    let body: serde_json::Value = serde_json::from_str(&log[1].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "required_status_checks": null,
            "enforce_admins": null,
            "required_pull_request_reviews": null,
            "restrictions": null,
            "required_linear_history": false,
            "allow_force_pushes": false,
            "allow_deletions": false
        })
    );
}

#[tokio::test]
async fn remove_and_signatures_use_their_own_endpoints() {
    let (endpoint, log) = fake_github(|seen, _| match seen.method.as_str() {
        "DELETE" => (204, Vec::new(), String::new()),
        _ => ok("{}"),
    });
    let github = client(&endpoint);
    github
        .remove_branch_protection("o", "r", "gh-pages")
        .await
        .unwrap();
    github
        .set_required_signatures("o", "r", "main", true)
        .await
        .unwrap();
    github
        .set_required_signatures("o", "r", "main", false)
        .await
        .unwrap();
    let calls: Vec<(String, String)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|s| (s.method.clone(), s.path.clone()))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "DELETE".to_owned(),
                "/repos/o/r/branches/gh-pages/protection".to_owned()
            ),
            (
                "POST".to_owned(),
                "/repos/o/r/branches/main/protection/required_signatures".to_owned()
            ),
            (
                "DELETE".to_owned(),
                "/repos/o/r/branches/main/protection/required_signatures".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn an_update_github_refuses_is_a_typed_error() {
    let (endpoint, _) = fake_github(|_, _| {
        (
            422,
            Vec::new(),
            r#"{"message": "Validation Failed"}"#.to_owned(),
        )
    });
    let err = client(&endpoint)
        .update_branch_protection("o", "r", "main", &full_request())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("update the protection of o/r=main") && text.contains("Validation Failed"),
        "{text}"
    );
}

#[tokio::test]
async fn protection_is_read_whole() {
    let (endpoint, _) = fake_github(|seen, _| match seen.path.as_str() {
        "/repos/o/r/branches/main/protection" => ok(r#"{
            "url": "https://api.github.com/repos/o/r/branches/main/protection",
            "required_status_checks": {"strict": false, "contexts": ["ci"], "checks": [{"context": "ci", "app_id": null}]},
            "enforce_admins": {"enabled": true},
            "required_pull_request_reviews": {
                "dismissal_restrictions": {"users": [{"login": "Alice"}], "teams": [{"slug": "leads", "name": "Leads"}]},
                "dismiss_stale_reviews": true,
                "require_code_owner_reviews": true,
                "required_approving_review_count": 1
            },
            "restrictions": {"users": [], "teams": [{"slug": "stage-bots"}], "apps": [{"slug": "k8s-ci-robot"}]},
            "required_linear_history": {"enabled": true},
            "allow_force_pushes": {"enabled": false},
            "allow_deletions": {"enabled": true},
            "required_signatures": {"enabled": true}
        }"#),
        _ => (
            404,
            Vec::new(),
            r#"{"message": "Branch not protected"}"#.into(),
        ),
    });
    let github = client(&endpoint);
    assert_eq!(
        github.branch_protection("o", "r", "main").await.unwrap(),
        Some(BranchProtection {
            required_status_checks: Some(RequiredStatusChecks {
                strict: false,
                contexts: vec!["ci".into()],
            }),
            enforce_admins: true,
            required_pull_request_reviews: Some(PullRequestReviews {
                dismissal_restrictions: Some(ReviewAllowances {
                    users: vec!["Alice".into()],
                    teams: vec!["leads".into()],
                }),
                dismiss_stale_reviews: true,
                require_code_owner_reviews: true,
                required_approving_review_count: 1,
                bypass_pull_request_allowances: None,
            }),
            restrictions: Some(PushRestrictions {
                apps: vec!["k8s-ci-robot".into()],
                users: vec![],
                teams: vec!["stage-bots".into()],
            }),
            required_linear_history: true,
            allow_force_pushes: false,
            allow_deletions: true,
            required_signatures: true,
        })
    );
    assert_eq!(
        github.branch_protection("o", "r", "dev").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn branches_by_protection_and_repositories_follow_pages() {
    let (endpoint, log) = fake_github(|seen, base| match seen.path.as_str() {
        "/repos/o/r/branches?protected=true&per_page=100" => {
            ok(r#"[{"name": "main", "commit": {"sha": "aaa"}, "protected": true}]"#)
        }
        "/repos/o/r/branches?protected=false&per_page=100" => (
            200,
            vec![(
                "link".into(),
                format!(
                    r#"<{base}/repos/o/r/branches?protected=false&per_page=100&page=2>; rel="next""#
                ),
            )],
            r#"[{"name": "dev", "commit": {"sha": "bbb"}, "protected": false}]"#.into(),
        ),
        "/repos/o/r/branches?protected=false&per_page=100&page=2" => {
            ok(r#"[{"name": "feature/x", "commit": {"sha": "ccc"}, "protected": false}]"#)
        }
        "/orgs/o/repos?per_page=100" => ok(
            r#"[{"name": "r", "full_name": "o/r", "archived": false, "private": false},
                {"name": "old", "full_name": "o/old", "archived": true, "private": false}]"#,
        ),
        "/repos/o/old" => ok(r#"{"name": "old", "full_name": "o/old", "archived": true}"#),
        _ => (404, Vec::new(), r#"{"message": "Not Found"}"#.into()),
    });
    let github = client(&endpoint);
    let names = |bs: Vec<prow_github::types::BranchHead>| -> Vec<(String, bool)> {
        bs.into_iter().map(|b| (b.name, b.protected)).collect()
    };
    assert_eq!(
        names(github.branches_by_protection("o", "r", true).await.unwrap()),
        [("main".to_owned(), true)]
    );
    assert_eq!(
        names(
            github
                .branches_by_protection("o", "r", false)
                .await
                .unwrap()
        ),
        [("dev".to_owned(), false), ("feature/x".to_owned(), false)]
    );
    let repos = github.org_repos("o").await.unwrap();
    let repos: Vec<(&str, bool)> = repos
        .iter()
        .map(|r| (r.name.as_str(), r.archived))
        .collect();
    assert_eq!(repos, [("r", false), ("old", true)]);
    assert!(github.repository("o", "old").await.unwrap().archived);
    assert!(log.lock().unwrap().iter().all(|s| s.method == "GET"));
}
