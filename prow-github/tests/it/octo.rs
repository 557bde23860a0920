//! The octocrab client against a fake GitHub served over HTTP on 127.0.0.1: methods, paths,
//! auth, bodies, pagination and the typed errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use prow_github::Error;
use prow_github::GitHubClient;
use prow_github::octo::{OctocrabClient, RequestStats};
use prow_github::types::{MergeRequest, Permission, Status, StatusState};

/// One request as the fake GitHub saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) authorization: String,
    pub(crate) if_none_match: String,
    pub(crate) body: String,
}

/// An answer: status, extra headers and body.
pub(crate) type Answer = (u16, Vec<(String, String)>, String);

/// Serves every request on 127.0.0.1 with `route`; returns the endpoint and the log.
pub(crate) fn fake_github(
    route: impl Fn(&Seen, &str) -> Answer + Send + 'static,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen_log = Arc::clone(&log);
    let base = endpoint.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut parts = request_line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_owned();
            let path = parts.next().unwrap_or_default().to_owned();
            let mut length = 0;
            let mut authorization = String::new();
            let mut if_none_match = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                match name.to_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "authorization" => authorization = value.trim().to_owned(),
                    "if-none-match" => if_none_match = value.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let seen = Seen {
                method,
                path,
                authorization,
                if_none_match,
                body: String::from_utf8(body).unwrap(),
            };
            let (status, headers, text) = route(&seen, &base);
            seen_log.lock().unwrap().push(seen);
            let mut reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                text.len()
            );
            for (name, value) in headers {
                reply.push_str(&format!("{name}: {value}\r\n"));
            }
            reply.push_str("\r\n");
            reply.push_str(&text);
            stream.write_all(reply.as_bytes()).unwrap();
        }
    });
    (endpoint, log)
}

pub(crate) fn ok(body: &str) -> Answer {
    (200, Vec::new(), body.to_owned())
}

pub(crate) fn client(endpoint: &str) -> OctocrabClient {
    OctocrabClient::with_token(endpoint, "t0ken").unwrap()
}

#[tokio::test]
async fn listings_follow_every_page_with_the_token() {
    let (endpoint, log) = fake_github(|seen, base| match seen.path.as_str() {
        "/repos/o/r/labels?per_page=100" => (
            200,
            vec![(
                "link".into(),
                format!(
                    r#"<{base}/repos/o/r/labels?per_page=100&page=2>; rel="next", <{base}/repos/o/r/labels?per_page=100&page=2>; rel="last""#
                ),
            )],
            r#"[{"name": "lgtm", "color": "15dd18"}]"#.into(),
        ),
        "/repos/o/r/labels?per_page=100&page=2" => ok(r#"[{"name": "approved"}]"#),
        _ => (404, Vec::new(), r#"{"message": "Not Found"}"#.into()),
    });
    let labels = client(&endpoint).repo_labels("o", "r").await.unwrap();
    let names: Vec<&str> = labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["lgtm", "approved"]);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    for seen in log.iter() {
        assert_eq!(seen.method, "GET");
        assert_eq!(seen.authorization, "Bearer t0ken");
    }
}

#[tokio::test]
async fn search_reads_items_from_every_page() {
    let (endpoint, log) = fake_github(|seen, base| {
        if seen.path.ends_with("&page=2") {
            ok(r#"{"total_count": 2, "items": [{"number": 2}]}"#)
        } else {
            (
                200,
                vec![(
                    "link".into(),
                    format!(r#"<{base}{}&page=2>; rel="next""#, seen.path),
                )],
                r#"{"total_count": 2, "items": [{"number": 1, "pull_request": {}}]}"#.into(),
            )
        }
    });
    let found = client(&endpoint)
        .search_issues(r#"is:pr state:open repo:"o/r" label:lgtm -label:do-not-merge/hold"#)
        .await
        .unwrap();
    let numbers: Vec<u64> = found.iter().map(|i| i.number).collect();
    assert_eq!(numbers, [1, 2]);
    assert!(found[0].is_pull_request());
    assert_eq!(
        log.lock().unwrap()[0].path,
        "/search/issues?q=is%3Apr+state%3Aopen+repo%3A%22o%2Fr%22+label%3Algtm+-label%3Ado-not-merge%2Fhold&per_page=100"
    );
}

#[tokio::test]
async fn writes_send_githubs_methods_paths_and_bodies() {
    let (endpoint, log) = fake_github(|seen, _| match seen.method.as_str() {
        "POST" if seen.path.ends_with("/comments") => {
            (201, Vec::new(), r#"{"id": 42, "body": "hi"}"#.into())
        }
        "DELETE" => (204, Vec::new(), String::new()),
        _ => (201, Vec::new(), "{}".into()),
    });
    let github = client(&endpoint);
    let status = Status {
        state: StatusState::Success,
        context: "pull-unit".into(),
        target_url: Some("https://prow/view/1".into()),
        description: None,
    };
    github
        .create_status("o", "r", "abc", &status)
        .await
        .unwrap();
    github
        .remove_label("o", "r", 7, "do-not-merge/hold")
        .await
        .unwrap();
    assert_eq!(github.create_comment("o", "r", 7, "hi").await.unwrap(), 42);
    github
        .add_labels("o", "r", 7, &["lgtm".to_owned()])
        .await
        .unwrap();
    let seen: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|s| {
            format!("{} {} {}", s.method, s.path, s.body)
                .trim_end()
                .to_owned()
        })
        .collect();
    insta::assert_snapshot!(seen.join("\n"), @r#"
    POST /repos/o/r/statuses/abc {"context":"pull-unit","state":"success","target_url":"https://prow/view/1"}
    DELETE /repos/o/r/issues/7/labels/do-not-merge%2Fhold
    POST /repos/o/r/issues/7/comments {"body":"hi"}
    POST /repos/o/r/issues/7/labels {"labels":["lgtm"]}
    "#);
}

#[tokio::test]
async fn answers_become_typed_errors() {
    let (endpoint, _) = fake_github(|seen, _| match seen.path.as_str() {
        "/repos/o/r/pulls/1" => (404, Vec::new(), r#"{"message": "Not Found"}"#.into()),
        "/repos/o/r/pulls/2" => (
            403,
            vec![
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), "1700000000".into()),
            ],
            r#"{"message": "API rate limit exceeded"}"#.into(),
        ),
        "/repos/o/r/pulls/3" => (
            403,
            Vec::new(),
            r#"{"message": "Resource not accessible"}"#.into(),
        ),
        "/repos/o/r/pulls/4/merge" => (
            405,
            Vec::new(),
            r#"{"message": "Pull Request is not mergeable"}"#.into(),
        ),
        "/repos/o/r/pulls/5/merge" => (
            409,
            Vec::new(),
            r#"{"message": "Head branch was modified. Review and try the merge again."}"#.into(),
        ),
        "/repos/o/r/pulls/5" => ok(r#"{"number": 5, "head": {"sha": "new"}}"#),
        "/repos/o/r/labels" => (
            422,
            Vec::new(),
            r#"{"message": "Validation Failed"}"#.into(),
        ),
        _ => (500, Vec::new(), "boom".into()),
    });
    let github = client(&endpoint);
    let merge = MergeRequest {
        sha: Some("old".into()),
        ..MergeRequest::default()
    };
    let errors = [
        github.pull_request("o", "r", 1).await.unwrap_err(),
        github.pull_request("o", "r", 2).await.unwrap_err(),
        github.pull_request("o", "r", 3).await.unwrap_err(),
        github.merge("o", "r", 4, &merge).await.unwrap_err(),
        github.merge("o", "r", 5, &merge).await.unwrap_err(),
        github
            .create_repo_label("o", "r", &prow_github::types::Label::default())
            .await
            .unwrap_err(),
        github.pull_request("o", "r", 6).await.unwrap_err(),
    ];
    assert!(matches!(errors[0], Error::NotFound { .. }));
    assert!(matches!(
        errors[1],
        Error::RateLimited {
            reset: 1_700_000_000,
            ..
        }
    ));
    assert!(matches!(errors[2], Error::Forbidden { .. }));
    assert!(matches!(errors[3], Error::NotMergeable { .. }));
    assert!(matches!(errors[4], Error::HeadChanged { .. }));
    assert!(matches!(errors[5], Error::Validation { .. }));
    assert!(matches!(errors[6], Error::Api { status: 500, .. }));
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(messages.join("\n"), @r#"
    find pull request o/r#1: not found
    pull request o/r#2: rate limited until 1700000000 (Unix seconds)
    pull request o/r#3: forbidden: Resource not accessible
    merge o/r#4: not mergeable: Pull Request is not mergeable
    merge o/r#5: head is new, not the tested old
    create label "" in o/r: invalid request: Validation Failed
    pull request o/r#6: github answered 500: boom
    "#);
}

#[tokio::test]
async fn contents_permissions_and_membership() {
    let (endpoint, _) = fake_github(|seen, _| match seen.path.as_str() {
        "/repos/o/r/contents/OWNERS?ref=main" => {
            ok(r#"{"content": "YXBwcm92ZXJz\nOgotIGFsaWNl\n", "encoding": "base64"}"#)
        }
        "/repos/o/r/collaborators/alice/permission" => {
            ok(r#"{"permission": "write", "role_name": "maintain"}"#)
        }
        "/repos/o/r/collaborators/bob/permission" => {
            ok(r#"{"permission": "read", "role_name": "read"}"#)
        }
        "/orgs/o/members/alice" => (204, Vec::new(), String::new()),
        "/orgs/o/teams/t/memberships/alice" => ok(r#"{"state": "pending"}"#),
        "/repos/o/r/branches/main/protection" => ok(
            r#"{"required_status_checks": {"strict": true, "contexts": ["tide"]}, "enforce_admins": {"enabled": true}}"#,
        ),
        _ => (404, Vec::new(), r#"{"message": "Not Found"}"#.into()),
    });
    let github = client(&endpoint);
    assert_eq!(
        github
            .file_contents("o", "r", "OWNERS", "main")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"approvers:\n- alice"[..])
    );
    assert_eq!(
        github
            .file_contents("o", "r", "OWNERS", "dev")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        github
            .collaborator_permission("o", "r", "alice")
            .await
            .unwrap(),
        Permission::Maintain
    );
    assert_eq!(
        github
            .collaborator_permission("o", "r", "bob")
            .await
            .unwrap(),
        Permission::Read
    );
    assert!(github.is_org_member("o", "alice").await.unwrap());
    assert!(!github.is_org_member("o", "bob").await.unwrap());
    assert!(!github.is_team_member("o", "t", "alice").await.unwrap());
    let protection = github
        .branch_protection("o", "r", "main")
        .await
        .unwrap()
        .unwrap();
    assert!(protection.enforce_admins);
    assert_eq!(
        protection.required_status_checks.unwrap().contexts,
        ["tide"]
    );
    assert_eq!(
        github.branch_protection("o", "r", "dev").await.unwrap(),
        None
    );
}

/// The claims of a JWT, unverified (the fake GitHub only checks who the App says it is).
pub(crate) fn jwt_claims(bearer: &str) -> serde_json::Value {
    use base64::Engine;
    let jwt = bearer.strip_prefix("Bearer ").unwrap();
    let claims = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn app_installation_tokens_are_minted_and_refreshed() {
    let minted = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&minted);
    let (endpoint, log) = fake_github(move |seen, _| match seen.path.as_str() {
        "/app/installations/7/access_tokens" => {
            let claims = jwt_claims(&seen.authorization);
            if claims["iss"] != serde_json::json!(42) {
                return (401, Vec::new(), r#"{"message": "wrong app"}"#.into());
            }
            let mut n = counter.lock().unwrap();
            *n += 1;
            // The first token is already expired, so the next call must mint another.
            let expires = if *n == 1 {
                "2020-01-01T00:00:00Z"
            } else {
                "2999-01-01T00:00:00Z"
            };
            (
                201,
                Vec::new(),
                format!(
                    r#"{{"token": "inst-{n}", "expires_at": "{expires}", "permissions": {{}}}}"#
                ),
            )
        }
        "/user" => ok(r#"{"login": "prow-bot[bot]", "type": "Bot"}"#),
        _ => (404, Vec::new(), r#"{"message": "Not Found"}"#.into()),
    });
    let key = crate::support::fixture("keys/test-app.pem");
    let github = OctocrabClient::with_app(&endpoint, 42, &key, 7).unwrap();
    for _ in 0..3 {
        assert_eq!(github.bot_user().await.unwrap().login, "prow-bot[bot]");
    }
    let seen: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|s| {
            let auth = if s.path.starts_with("/app/") {
                "Bearer <jwt>"
            } else {
                &s.authorization
            };
            format!("{} {} {auth}", s.method, s.path)
        })
        .collect();
    insta::assert_snapshot!(seen.join("\n"), @r"
    POST /app/installations/7/access_tokens Bearer <jwt>
    GET /user Bearer inst-1
    POST /app/installations/7/access_tokens Bearer <jwt>
    GET /user Bearer inst-2
    GET /user Bearer inst-2
    ");
}

#[test]
fn a_malformed_app_key_is_refused() {
    let err = OctocrabClient::with_app("http://127.0.0.1:1", 42, b"not a key", 7).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("read the private key of github app 42"),
        "{err}"
    );
}

#[tokio::test]
async fn a_repeated_get_is_a_free_304_served_from_the_cache() {
    let remaining = Arc::new(Mutex::new(5000_u64));
    let budget = Arc::clone(&remaining);
    let (endpoint, log) = fake_github(move |seen, _| {
        // Like GitHub: a conditional request that matches costs no rate limit.
        if seen.if_none_match == r#""v1""# {
            return (304, vec![("etag".into(), r#""v1""#.into())], String::new());
        }
        let mut left = budget.lock().unwrap();
        *left -= 1;
        (
            200,
            vec![
                ("etag".into(), r#""v1""#.into()),
                ("x-ratelimit-remaining".into(), left.to_string()),
            ],
            r#"{"number": 1, "title": "Fix it", "head": {"sha": "abc"}}"#.into(),
        )
    });
    let github = client(&endpoint);
    for _ in 0..3 {
        let pr = github.pull_request("o", "r", 1).await.unwrap();
        assert_eq!((pr.title.as_str(), pr.head.sha.as_str()), ("Fix it", "abc"));
    }
    let conditional: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.if_none_match.clone())
        .collect();
    assert_eq!(conditional, ["", r#""v1""#, r#""v1""#]);
    assert_eq!(*remaining.lock().unwrap(), 4999);
    assert_eq!(
        github.stats(),
        RequestStats {
            requests: 3,
            cache_hits: 2
        }
    );
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_spent_budget_fails_fast_without_asking_github() {
    let reset = unix_now() + 3600;
    let (endpoint, log) = fake_github(move |_, _| {
        (
            200,
            vec![
                ("x-ratelimit-limit".into(), "5000".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), reset.to_string()),
            ],
            r#"{"login": "prow-bot"}"#.into(),
        )
    });
    let github = client(&endpoint);
    assert_eq!(github.bot_user().await.unwrap().login, "prow-bot");
    assert_eq!(
        github.rate_limit_seen(),
        Some(prow_github::types::RateLimit {
            limit: 5000,
            remaining: 0,
            reset
        })
    );
    let err = github.bot_user().await.unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { reset: r, .. } if r == reset),
        "{err}"
    );
    assert_eq!(
        log.lock().unwrap().len(),
        1,
        "the spent budget was not respected"
    );
}

#[tokio::test]
async fn a_short_retry_after_is_waited_out_once() {
    let calls = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&calls);
    let (endpoint, log) = fake_github(move |seen, _| {
        let mut n = counter.lock().unwrap();
        *n += 1;
        if seen.path == "/user" && *n == 1 || seen.path == "/rate_limit" {
            // A secondary limit: come back in 0 seconds.
            return (
                403,
                vec![("retry-after".into(), "0".into())],
                r#"{"message": "You have exceeded a secondary rate limit"}"#.into(),
            );
        }
        ok(r#"{"login": "prow-bot"}"#)
    });
    let github = client(&endpoint);
    assert_eq!(github.bot_user().await.unwrap().login, "prow-bot");
    assert_eq!(log.lock().unwrap().len(), 2);
    // Still limited after the one retry: a typed error.
    let err = github.rate_limit().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err}");
    assert_eq!(log.lock().unwrap().len(), 4);
}

/// A backstop for tests that wait on a server; never reached when they pass.
const BACKSTOP: std::time::Duration = std::time::Duration::from_secs(30);

#[tokio::test]
async fn identical_concurrent_gets_share_one_request() {
    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let (endpoint, log) = fake_github(move |_, _| {
        arrived.send(()).unwrap();
        // Hold each answer until the test task has yielded, with both callers registered.
        gate.recv().unwrap();
        ok(r#"{"number": 1, "title": "Fix it"}"#)
    });
    // Answers every request that arrives; runs only once the test task yields.
    tokio::spawn(async move {
        while arrivals.recv().await.is_some() {
            release.send(()).unwrap();
        }
    });
    let github = client(&endpoint);
    // join! polls both callers before either can be answered, so the second finds the first
    // on its way.
    let both = async {
        tokio::join!(
            github.pull_request("o", "r", 1),
            github.pull_request("o", "r", 1)
        )
    };
    let (a, b) = tokio::time::timeout(BACKSTOP, both).await.unwrap();
    assert_eq!(a.unwrap().title, "Fix it");
    assert_eq!(b.unwrap().title, "Fix it");
    assert_eq!(log.lock().unwrap().len(), 1);
    // Once answered, the next GET asks again.
    let c = tokio::time::timeout(BACKSTOP, github.pull_request("o", "r", 1))
        .await
        .unwrap();
    assert_eq!(c.unwrap().number, 1);
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn the_token_file_is_read_trimmed() {
    let (endpoint, log) = fake_github(|_, _| ok(r#"{"login": "prow-bot"}"#));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oauth");
    std::fs::write(&path, "  t0ken\n").unwrap();
    let github = OctocrabClient::with_token_file(&endpoint, &path).unwrap();
    github.bot_user().await.unwrap();
    assert_eq!(log.lock().unwrap()[0].authorization, "Bearer t0ken");
    let err = OctocrabClient::with_token_file(&endpoint, &dir.path().join("absent")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("read {}", dir.path().join("absent").display())
    );
}

#[tokio::test]
async fn an_apps_installation_is_found_by_org() {
    let (endpoint, log) = fake_github(|seen, _| match seen.path.as_str() {
        "/orgs/kubernetes/installation" if jwt_claims(&seen.authorization)["iss"] == 42 => {
            ok(r#"{"id": 99, "account": {"login": "kubernetes"}}"#)
        }
        "/app/installations/99/access_tokens" => (
            201,
            Vec::new(),
            r#"{"token": "k8s-token", "expires_at": "2999-01-01T00:00:00Z", "permissions": {}}"#
                .into(),
        ),
        "/user" => ok(r#"{"login": "prow-bot[bot]"}"#),
        _ => (404, Vec::new(), r#"{"message": "Not Found"}"#.into()),
    });
    let key = crate::support::fixture("keys/test-app.pem");
    let github = OctocrabClient::with_app_for_org(&endpoint, 42, &key, "kubernetes")
        .await
        .unwrap();
    github.bot_user().await.unwrap();
    let last = log.lock().unwrap().last().unwrap().clone();
    assert_eq!(
        (last.path.as_str(), last.authorization.as_str()),
        ("/user", "Bearer k8s-token")
    );
    let err = OctocrabClient::with_app_for_org(&endpoint, 42, &key, "elsewhere")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "find installation of github app 42 in elsewhere: not found"
    );
}

#[tokio::test]
async fn closing_reopening_and_withdrawing_review_requests() {
    let (endpoint, log) = fake_github(|seen, _| match seen.method.as_str() {
        "DELETE" => ok("{}"),
        _ => ok(r#"{"number": 7, "state": "closed"}"#),
    });
    let github = client(&endpoint);
    github.close_issue("o", "r", 7, false).await.unwrap();
    github.close_issue("o", "r", 7, true).await.unwrap();
    github.reopen_issue("o", "r", 7).await.unwrap();
    github.set_milestone("o", "r", 7, Some(3)).await.unwrap();
    github.set_milestone("o", "r", 7, None).await.unwrap();
    github
        .create_comment_reaction("o", "r", 42, "heart")
        .await
        .unwrap();
    github
        .create_issue_reaction("o", "r", 7, "+1")
        .await
        .unwrap();
    github
        .unrequest_review("o", "r", 7, &["alice".to_owned(), "bob".to_owned()])
        .await
        .unwrap();
    let seen: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|s| format!("{} {} {}", s.method, s.path, s.body))
        .collect();
    insta::assert_snapshot!(seen.join("\n"), @r#"
    PATCH /repos/o/r/issues/7 {"state":"closed"}
    PATCH /repos/o/r/issues/7 {"state":"closed","state_reason":"not_planned"}
    PATCH /repos/o/r/issues/7 {"state":"open"}
    PATCH /repos/o/r/issues/7 {"milestone":3}
    PATCH /repos/o/r/issues/7 {"milestone":null}
    POST /repos/o/r/issues/comments/42/reactions {"content":"heart"}
    POST /repos/o/r/issues/7/reactions {"content":"+1"}
    DELETE /repos/o/r/pulls/7/requested_reviewers {"reviewers":["alice","bob"]}
    "#);
}

#[tokio::test]
async fn milestones_are_listed_open_and_closed() {
    let (endpoint, log) = fake_github(|_, _| {
        ok(
            r#"[{"number": 1, "title": "v1.0", "state": "closed"}, {"number": 2, "title": "v1.1", "state": "open"}]"#,
        )
    });
    let github = client(&endpoint);
    let milestones = github.milestones("o", "r").await.unwrap();
    let titles: Vec<(u64, &str)> = milestones
        .iter()
        .map(|m| (m.number, m.title.as_str()))
        .collect();
    assert_eq!(titles, [(1, "v1.0"), (2, "v1.1")]);
    assert!(
        log.lock().unwrap()[0]
            .path
            .starts_with("/repos/o/r/milestones?state=all&per_page="),
        "{:?}",
        log.lock().unwrap()[0].path
    );
}

#[tokio::test]
async fn blame_asks_graphql_and_merge_base_the_compare_api() {
    let (endpoint, log) = fake_github(|seen, _| match seen.path.as_str() {
        "/graphql" if seen.body.contains("\"path\":\"broken.go\"") => {
            ok(r#"{"data": null, "errors": [{"message": "Could not resolve to a Blob"}]}"#)
        }
        "/graphql" => ok(r#"{"data": {"repository": {"object": {"blame": {"ranges": [
                {"startingLine": 1, "endingLine": 4, "commit": {"author": {"user": {"login": "Alice"}, "date": "2024-01-02T03:04:05Z"}}},
                {"startingLine": 5, "endingLine": 5, "commit": {"author": {"user": null, "date": "2023-01-01T00:00:00Z"}}}
            ]}}}}}"#),
        "/repos/o/r/compare/main...abc" => ok(r#"{"merge_base_commit": {"sha": "base1"}}"#),
        _ => ok("{}"),
    });
    let github = client(&endpoint);
    let ranges = github.blame("o", "r", "main", "a/b.go").await.unwrap();
    assert_eq!(
        ranges,
        vec![
            prow_github::types::BlameRange::new(1, 4, "alice", "2024-01-02T03:04:05Z"),
            prow_github::types::BlameRange::new(5, 5, "", "2023-01-01T00:00:00Z"),
        ]
    );
    let broken = github
        .blame("o", "r", "main", "broken.go")
        .await
        .unwrap_err();
    assert!(
        broken.to_string().contains("Could not resolve to a Blob"),
        "{broken}"
    );
    assert_eq!(
        github.merge_base("o", "r", "main", "abc").await.unwrap(),
        "base1"
    );
    let none = github
        .merge_base("o", "r", "main", "zzz")
        .await
        .unwrap_err();
    assert!(
        none.to_string()
            .contains("no merge base found for main...zzz"),
        "{none}"
    );
    let seen = log.lock().unwrap();
    assert_eq!(seen[0].method, "POST");
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(
        body["variables"],
        serde_json::json!({"owner": "o", "name": "r", "ref": "main", "path": "a/b.go"})
    );
    assert!(
        body["query"]
            .as_str()
            .unwrap()
            .contains("blame(path: $path)")
    );
}

// issue-management: transfer, pin.
#[tokio::test]
async fn issues_are_read_pinned_and_transferred_through_graphql() {
    let (endpoint, log) = fake_github(|seen, _| match seen.path.as_str() {
        "/repos/o/r/issues/7" => ok(
            r#"{"number": 7, "node_id": "I_kw7", "title": "Flaky", "state": "open", "pull_request": null}"#,
        ),
        "/graphql" if seen.body.contains("I_locked") => ok(
            r#"{"data": {"pinIssue": null}, "errors": [{"message": "Repository has too many pinned issues"}]}"#,
        ),
        "/graphql" if seen.body.contains("transferIssue") => ok(
            r#"{"data": {"transferIssue": {"issue": {"url": "https://github.com/o/s/issues/3"}}}}"#,
        ),
        "/graphql" => ok(r#"{"data": {"pinIssue": {"issue": {"id": "I_kw7"}}}}"#),
        _ => (404, Vec::new(), r#"{"message": "Not Found"}"#.to_owned()),
    });
    let github = client(&endpoint);
    let issue = github.issue("o", "r", 7).await.unwrap();
    assert_eq!((issue.number, issue.node_id.as_str()), (7, "I_kw7"));
    assert!(!issue.is_pull_request());
    let missing = github.issue("o", "r", 8).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
    github.pin_issue("o", "I_kw7").await.unwrap();
    github.unpin_issue("o", "I_kw7").await.unwrap();
    let refused = github.pin_issue("o", "I_locked").await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "pin issue I_locked in o: invalid request: Repository has too many pinned issues"
    );
    assert_eq!(
        github.transfer_issue("o", "I_kw7", "R_s").await.unwrap(),
        "https://github.com/o/s/issues/3"
    );
    let seen = log.lock().unwrap();
    let graphql: Vec<serde_json::Value> = seen
        .iter()
        .filter(|s| s.path == "/graphql")
        .inspect(|s| {
            assert_eq!(s.method, "POST");
            assert_eq!(s.authorization, "Bearer t0ken");
        })
        .map(|s| serde_json::from_str(&s.body).unwrap())
        .collect();
    let mutations: Vec<(&str, &serde_json::Value)> = graphql
        .iter()
        .map(|b| (b["query"].as_str().unwrap(), &b["variables"]["input"]))
        .collect();
    assert!(
        mutations[0]
            .0
            .starts_with("mutation($input: PinIssueInput!) { pinIssue(input: $input)")
    );
    assert_eq!(mutations[0].1, &serde_json::json!({"issueId": "I_kw7"}));
    assert!(
        mutations[1]
            .0
            .starts_with("mutation($input: UnpinIssueInput!) { unpinIssue(input: $input)")
    );
    assert_eq!(mutations[1].1, &serde_json::json!({"issueId": "I_kw7"}));
    assert!(
        mutations[3]
            .0
            .starts_with("mutation($input: TransferIssueInput!) { transferIssue(input: $input)")
    );
    assert_eq!(
        mutations[3].1,
        &serde_json::json!({"issueId": "I_kw7", "repositoryId": "R_s"})
    );
}
