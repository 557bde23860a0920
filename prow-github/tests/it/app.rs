//! A GitHub App installed in two organisations, against a fake GitHub on 127.0.0.1: each
//! organisation's calls carry its own installation token, tokens are replaced a minute before
//! they expire (an injected clock moves time), and an organisation without the App is refused
//! by name.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prow_github::GitHubClient;
use prow_github::app::{AppClient, WallClock};
use prow_github::query::split_query;

use crate::octo::{Answer, Seen, fake_github, jwt_claims, ok};

/// A clock the test moves.
#[derive(Debug)]
struct TestClock(Mutex<SystemTime>);

impl TestClock {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl WallClock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// 2030-01-01T00:00:00Z.
fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_456_000)
}

/// Answers as GitHub for App 42 installed in `kubernetes` (installation 1) and `knative`
/// (installation 2); tokens are `<installation>-<n>` and live an hour from `clock`'s now.
fn route(clock: Arc<TestClock>) -> impl Fn(&Seen, &str) -> Answer + Send + 'static {
    let minted = Mutex::new([0u32; 3]);
    move |seen, _| {
        let app_call = seen.path.starts_with("/app");
        if app_call && jwt_claims(&seen.authorization)["iss"] != 42 {
            return (401, Vec::new(), r#"{"message": "wrong app"}"#.into());
        }
        match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/app/installations?per_page=100") => ok(
                r#"[{"id": 1, "account": {"login": "kubernetes"}}, {"id": 2, "account": {"login": "Knative"}}]"#,
            ),
            ("GET", "/app") => ok(r#"{"slug": "prow-app"}"#),
            ("POST", path) if path.starts_with("/app/installations/") => {
                let id: usize = path
                    .trim_start_matches("/app/installations/")
                    .trim_end_matches("/access_tokens")
                    .parse()
                    .unwrap();
                let mut minted = minted.lock().unwrap();
                minted[id] += 1;
                let expires: chrono::DateTime<chrono::Utc> =
                    (clock.now() + Duration::from_secs(3600)).into();
                (
                    201,
                    Vec::new(),
                    format!(
                        r#"{{"token": "{id}-{}", "expires_at": "{}"}}"#,
                        minted[id],
                        expires.format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                )
            }
            ("GET", path) if path.starts_with("/search/") => {
                ok(r#"{"total_count": 0, "items": []}"#)
            }
            _ => ok("[]"),
        }
    }
}

/// `METHOD path token` of every request, JWTs shown as `<jwt>`.
fn seen(log: &Mutex<Vec<Seen>>) -> String {
    log.lock()
        .unwrap()
        .iter()
        .map(|s| {
            let auth = if s.path.starts_with("/app") {
                "<jwt>"
            } else {
                s.authorization.trim_start_matches("Bearer ")
            };
            format!("{} {} {auth}", s.method, s.path)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn app(endpoint: &str, clock: Arc<TestClock>) -> AppClient {
    let key = crate::support::fixture("keys/test-app.pem");
    AppClient::new(endpoint, 42, &key)
        .unwrap()
        .with_clock(clock)
}

#[tokio::test]
async fn each_org_uses_its_own_installation_token_refreshed_before_expiry() {
    let clock = Arc::new(TestClock(Mutex::new(start())));
    let (endpoint, log) = fake_github(route(clock.clone()));
    let github = app(&endpoint, clock.clone());
    github
        .repo_labels("kubernetes", "test-infra")
        .await
        .unwrap();
    github.repo_labels("knative", "serving").await.unwrap();
    github
        .issue_labels("kubernetes", "kubernetes", 7)
        .await
        .unwrap();
    // 58 minutes on, both tokens have two minutes left: still used.
    clock.advance(Duration::from_secs(58 * 60));
    github.repo_labels("knative", "serving").await.unwrap();
    // 59m30s after minting, less than a minute left: each is replaced at its next use.
    clock.advance(Duration::from_secs(90));
    github.repo_labels("knative", "serving").await.unwrap();
    github
        .repo_labels("kubernetes", "test-infra")
        .await
        .unwrap();
    github.repo_labels("knative", "eventing").await.unwrap();
    insta::assert_snapshot!(seen(&log), @r"
    GET /app/installations?per_page=100 <jwt>
    POST /app/installations/1/access_tokens <jwt>
    GET /repos/kubernetes/test-infra/labels?per_page=100 1-1
    POST /app/installations/2/access_tokens <jwt>
    GET /repos/knative/serving/labels?per_page=100 2-1
    GET /repos/kubernetes/kubernetes/issues/7/labels?per_page=100 1-1
    GET /repos/knative/serving/labels?per_page=100 2-1
    POST /app/installations/2/access_tokens <jwt>
    GET /repos/knative/serving/labels?per_page=100 2-2
    POST /app/installations/1/access_tokens <jwt>
    GET /repos/kubernetes/test-infra/labels?per_page=100 1-2
    GET /repos/knative/eventing/labels?per_page=100 2-2
    ");
}

#[tokio::test]
async fn an_org_without_the_app_is_refused_by_name() {
    let clock = Arc::new(TestClock(Mutex::new(start())));
    let (endpoint, log) = fake_github(route(clock.clone()));
    let github = app(&endpoint, clock);
    let err = github
        .create_comment("elsewhere", "repo", 1, "hi")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the github app 42 is not installed in organization elsewhere"
    );
    // Nothing was sent on behalf of the organisation: only the listing of installations.
    assert_eq!(seen(&log), "GET /app/installations?per_page=100 <jwt>");
}

#[tokio::test]
async fn a_search_runs_once_per_org_with_its_token() {
    let clock = Arc::new(TestClock(Mutex::new(start())));
    let (endpoint, log) = fake_github(route(clock.clone()));
    let github = app(&endpoint, clock);
    github
        .search_issues(
            r#"is:pr state:open label:"do not merge" org:"knative" repo:"kubernetes/test-infra""#,
        )
        .await
        .unwrap();
    let searches: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path.starts_with("/search"))
        .map(|s| format!("{} {}", s.path, s.authorization))
        .collect();
    assert_eq!(
        searches,
        [
            "/search/issues?q=is%3Apr+state%3Aopen+label%3A%22do+not+merge%22+org%3A%22knative%22&per_page=100 Bearer 2-1",
            "/search/issues?q=is%3Apr+state%3Aopen+label%3A%22do+not+merge%22+repo%3A%22kubernetes%2Ftest-infra%22&per_page=100 Bearer 1-1",
        ]
    );
}

#[tokio::test]
async fn the_bot_is_the_apps_slug() {
    let clock = Arc::new(TestClock(Mutex::new(start())));
    let (endpoint, _log) = fake_github(route(clock.clone()));
    let github = app(&endpoint, clock);
    assert_eq!(github.bot_user().await.unwrap().login, "prow-app[bot]");
}

#[test]
fn split_query_groups_org_terms() {
    let (by_org, rest) =
        split_query(r#"is:pr label:"a b" -repo:"k8s/x" org:"Knative" repo:"k8s/y""#);
    assert_eq!(rest, ["is:pr", r#"label:"a b""#]);
    assert_eq!(
        by_org.into_iter().collect::<Vec<_>>(),
        [
            (
                "k8s".to_owned(),
                vec![r#"-repo:"k8s/x""#.to_owned(), r#"repo:"k8s/y""#.to_owned()]
            ),
            ("knative".to_owned(), vec![r#"org:"Knative""#.to_owned()]),
        ]
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Splitting keeps every term exactly once, and each org-scoped term names its org.
    #[test]
    fn proptest_split_query_keeps_every_term(
        terms in proptest::collection::vec(
            proptest::prop_oneof![
                "(is:pr|state:open|archived:false)",
                r#"label:"[a-z ]{1,8}""#,
                r#"-?repo:"[a-z]{1,4}/[a-z]{1,4}""#,
                r#"org:"[a-zA-Z]{1,4}""#,
            ],
            0..8,
        )
    ) {
        let query = terms.join(" ");
        let (by_org, rest) = split_query(&query);
        let mut again: Vec<String> = rest.clone();
        for (org, scoped) in &by_org {
            for term in scoped {
                proptest::prop_assert!(term.to_lowercase().contains(&format!("\"{org}")), "{term} under {org}");
            }
            again.extend(scoped.iter().cloned());
        }
        let mut expected = terms.clone();
        expected.sort();
        again.sort();
        proptest::prop_assert_eq!(again, expected);
        proptest::prop_assert!(rest.iter().all(|t| !t.contains("org:") && !t.contains("repo:")));
    }
}

// Classic projects (project, project-manager).
#[tokio::test]
async fn project_calls_go_through_the_installation_of_the_org_they_name() {
    let clock = Arc::new(TestClock(Mutex::new(start())));
    let (endpoint, log) = fake_github(route(clock.clone()));
    let github = app(&endpoint, clock);
    github.project_columns("Knative", 5).await.unwrap();
    github.column_cards("kubernetes", 51).await.unwrap();
    github.team_has_member("knative", 7, "alice").await.unwrap();
    insta::assert_snapshot!(seen(&log), @r"
    GET /app/installations?per_page=100 <jwt>
    POST /app/installations/2/access_tokens <jwt>
    GET /projects/5/columns?per_page=100 2-1
    POST /app/installations/1/access_tokens <jwt>
    GET /projects/columns/51/cards?per_page=100 1-1
    GET /teams/7/members?role=all&per_page=100 2-1
    ");
}

// issue-management: transfer, pin.
/// GraphQL mutations name no organisation in their address: the org argument alone picks the
/// installation whose token sends them (upstream's `MutateWithGitHubAppsSupport`).
#[tokio::test]
async fn graphql_mutations_go_with_the_named_orgs_installation() {
    let clock = Arc::new(TestClock(Mutex::new(start())));
    let github_answers = route(clock.clone());
    let (endpoint, log) = fake_github(move |seen, base| match seen.path.as_str() {
        "/graphql" => ok(
            r#"{"data": {"pinIssue": {"issue": {"id": "I"}}, "transferIssue": {"issue": {"url": "https://github.com/knative/b/issues/1"}}}}"#,
        ),
        _ => github_answers(seen, base),
    });
    let github = app(&endpoint, clock);
    github.pin_issue("kubernetes", "I_1").await.unwrap();
    github.unpin_issue("knative", "I_2").await.unwrap();
    let url = github
        .transfer_issue("knative", "I_2", "R_b")
        .await
        .unwrap();
    assert_eq!(url, "https://github.com/knative/b/issues/1");
    insta::assert_snapshot!(seen(&log), @r"
    GET /app/installations?per_page=100 <jwt>
    POST /app/installations/1/access_tokens <jwt>
    POST /graphql 1-1
    POST /app/installations/2/access_tokens <jwt>
    POST /graphql 2-1
    POST /graphql 2-1
    ");
}
