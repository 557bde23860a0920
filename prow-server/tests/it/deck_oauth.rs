//! deck's GitHub login over real HTTP: a fake GitHub on 127.0.0.1 serves the OAuth endpoints
//! (`/login/oauth/authorize`, `/login/oauth/access_token`, `/user`), the test follows each
//! redirect and cookie as a browser does, and reruns are then decided by the logged-in user.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prow_core::ProwJob;
use prow_github::fake::FakeGitHub;
use prow_jobs::store::{JobStore, SqliteStore};
use prow_server::deck::Deck;
use prow_server::deck::oauth::{Login, OAuthConfig};
use serde_json::{Value, json};

use crate::support;

const CONFIG: &str = r#"
prowjob_namespace: default
deck:
  rerun_auth_configs:
    acme/widgets:
      github_users: [alice]
      github_team_slugs: [{org: acme, slug: admins}]
"#;

const SECRET: &str = "0123456789abcdef0123456789abcdef-cookie";

/// The fake GitHub's OAuth state: who is signed in to GitHub, and the codes and tokens given.
#[derive(Default)]
pub(crate) struct Hub {
    pub(crate) signed_in: String,
    codes: BTreeMap<String, String>,
    tokens: BTreeMap<String, String>,
    issued: u32,
}

pub(crate) type Shared = Arc<Mutex<Hub>>;

async fn authorize(
    State(hub): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if q.get("client_id").map(String::as_str) != Some("deck-app") {
        return (StatusCode::NOT_FOUND, "unknown client").into_response();
    }
    let mut hub = hub.lock().unwrap();
    hub.issued += 1;
    let code = format!("code-{}", hub.issued);
    let user = hub.signed_in.clone();
    hub.codes.insert(code.clone(), user);
    let target = format!(
        "{}?code={code}&state={}",
        q["redirect_uri"],
        q.get("state").cloned().unwrap_or_default()
    );
    (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
}

async fn access_token(State(hub): State<Shared>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap_or_default();
    let mut hub = hub.lock().unwrap();
    if request["client_secret"] != "app-secret" {
        return axum::Json(json!({"error": "incorrect_client_credentials"})).into_response();
    }
    let Some(user) = request["code"].as_str().and_then(|c| hub.codes.remove(c)) else {
        return axum::Json(json!({"error": "bad_verification_code",
                                 "error_description": "The code passed is incorrect or expired."}))
        .into_response();
    };
    let token = format!("token-{user}");
    hub.tokens.insert(token.clone(), user);
    axum::Json(json!({"access_token": token, "token_type": "bearer", "scope": ""})).into_response()
}

async fn user(State(hub): State<Shared>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match hub.lock().unwrap().tokens.get(token) {
        Some(login) => axum::Json(json!({"login": login})).into_response(),
        None => (StatusCode::UNAUTHORIZED, "Bad credentials").into_response(),
    }
}

pub(crate) struct Setup {
    pub(crate) deck: String,
    pub(crate) hub: Shared,
    store: Arc<SqliteStore>,
    http: reqwest::Client,
}

/// The fake GitHub and a deck with GitHub login against it.
pub(crate) async fn start() -> Setup {
    let hub: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/login/oauth/authorize", axum::routing::get(authorize))
        .route(
            "/login/oauth/access_token",
            axum::routing::post(access_token),
        )
        .route("/user", axum::routing::get(user))
        .with_state(hub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let github_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let deck_url = format!("http://{}", listener.local_addr().unwrap());
    let oauth = OAuthConfig::parse(
        &format!(
            "client_id: deck-app\nclient_secret: app-secret\nredirect_url: {deck_url}/github-login/redirect\n\
             scopes: []\ngithub_url: {github_url}\napi_url: {github_url}\n"
        ),
        "github-oauth-config.yaml",
    )
    .unwrap();
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let job: ProwJob = serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": "pull-unit-1"},
        "spec": {"type": "presubmit", "job": "pull-unit",
                 "refs": {"org": "acme", "repo": "widgets", "base_ref": "main",
                          "pulls": [{"number": 7, "author": "alice", "sha": "5ha"}]}},
        "status": {"state": "failure", "startTime": "2026-01-01T10:00:00Z", "build_id": "1"},
    }))
    .unwrap();
    store.create(job).await.unwrap();
    let github = Arc::new(FakeGitHub::new("ci-robot"));
    github
        .state()
        .team_members
        .entry(("acme".to_owned(), "admins".to_owned()))
        .or_default()
        .insert("dave".to_owned());
    github.add_pull_request(
        "acme",
        "widgets",
        serde_json::from_value(json!({"number": 7, "title": "Add widgets", "state": "open",
                                      "user": {"login": "alice"},
                                      "html_url": "https://github.com/acme/widgets/pull/7"}))
        .unwrap(),
    );
    let deck = Deck::new(store.clone(), support::hook_config(CONFIG, ""))
        .github(github)
        .github_oauth(Login::new(oauth, SECRET.as_bytes()).unwrap());
    tokio::spawn(async move { axum::serve(listener, deck.router()).await });
    Setup {
        deck: deck_url,
        hub,
        store,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// The `name=value` part of a response's `Set-Cookie` for `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

impl Setup {
    /// Logs `user` in as a browser would; returns the session cookie.
    async fn login(&self, user: &str) -> String {
        self.hub.lock().unwrap().signed_in = user.to_owned();
        let start = self
            .http
            .get(format!("{}/github-login?dest=/pr", self.deck))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 302);
        let state = set_cookie(&start, "deck-oauth-state").expect("state cookie");
        let at_github = self.http.get(location(&start)).send().await.unwrap();
        assert_eq!(at_github.status(), 302, "{:?}", at_github.text().await);
        let back = self
            .http
            .get(location(&at_github))
            .header(header::COOKIE, &state)
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), 302, "{:?}", back.text().await);
        assert_eq!(location(&back), "/pr");
        set_cookie(&back, "deck-session").expect("session cookie")
    }

    /// deck's JSON at `path` for the browser holding `cookie`.
    async fn json(&self, path: &str, cookie: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.deck))
            .header(header::COOKIE, cookie)
            .send()
            .await
            .unwrap();
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    }

    async fn user(&self, cookie: &str) -> Value {
        self.json("/deck/user.json", cookie).await
    }

    async fn rerun(&self, cookie: &str, csrf: Option<&str>) -> (u16, String) {
        let mut request = self
            .http
            .post(format!("{}/rerun?prowjob=pull-unit-1", self.deck))
            .header(header::COOKIE, cookie)
            .header(header::ORIGIN, self.deck.as_str());
        if let Some(token) = csrf {
            request = request.header("X-CSRF-Token", token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn reruns(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .store
            .list(&Default::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.name() != "pull-unit-1")
            .map(|j| j.status.unwrap_or_default().description)
            .collect();
        out.sort();
        out
    }
}

#[tokio::test]
async fn github_login_lets_allowed_users_rerun_and_refuses_others() {
    let setup = start().await;
    let anonymous = setup.user("").await;
    assert_eq!(anonymous, json!({"login_enabled": true, "login": null}));
    let (status, body) = setup.rerun("", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("log in with GitHub"), "{body}");

    let alice = setup.login("alice").await;
    let who = setup.user(&alice).await;
    assert_eq!(who["login"], "alice");
    let csrf = who["csrf_token"].as_str().unwrap().to_owned();
    // Without the page's CSRF token (another site's form) the session is not enough.
    let (status, body) = setup.rerun(&alice, None).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.starts_with("missing or wrong X-CSRF-Token header"),
        "{body}"
    );
    let (status, body) = setup.rerun(&alice, Some("forged")).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = setup.rerun(&alice, Some(&csrf)).await;
    assert_eq!(status, 200, "{body}");

    // dave is in the allowed team; mallory is nobody.
    let dave = setup.login("dave").await;
    let token = setup.user(&dave).await["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(token, csrf, "each session has its own token");
    assert_eq!(setup.rerun(&dave, Some(&token)).await.0, 200);
    let mallory = setup.login("mallory").await;
    let token = setup.user(&mallory).await["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = setup.rerun(&mallory, Some(&token)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("mallory is in none of the allowed orgs and teams"),
        "{body}"
    );
    // alice's token does not work with mallory's session.
    assert_eq!(setup.rerun(&mallory, Some(&csrf)).await.0, 403);

    assert_eq!(
        setup.reruns().await,
        [
            "alice successfully reran pull-unit-1.",
            "dave successfully reran pull-unit-1."
        ]
    );
}

#[tokio::test]
async fn github_login_refuses_forged_sessions_and_mismatched_states() {
    let setup = start().await;
    let alice = setup.login("alice").await;
    let (name, value) = alice.split_once('=').unwrap();
    let (payload, signature) = value.split_once('.').unwrap();
    // The same signature over a payload naming someone else.
    let forged_payload = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let text = String::from_utf8(engine.decode(payload).unwrap()).unwrap();
        engine.encode(text.replace("alice", "admin"))
    };
    let forged = format!("{name}={forged_payload}.{signature}");
    assert_eq!(setup.user(&forged).await["login"], Value::Null);

    // A code from GitHub for another browser's login attempt is refused.
    setup.hub.lock().unwrap().signed_in = "alice".to_owned();
    let start = setup
        .http
        .get(format!("{}/github-login", setup.deck))
        .send()
        .await
        .unwrap();
    let at_github = setup.http.get(location(&start)).send().await.unwrap();
    let back = setup.http.get(location(&at_github)).send().await.unwrap();
    assert_eq!(back.status(), 400);
    assert!(set_cookie(&back, "deck-session").is_none());

    // Only paths on deck are destinations.
    let elsewhere = setup
        .http
        .get(format!("{}/github-login?dest=//evil.example/x", setup.deck))
        .send()
        .await
        .unwrap();
    let state = set_cookie(&elsewhere, "deck-oauth-state").unwrap();
    let at_github = setup.http.get(location(&elsewhere)).send().await.unwrap();
    let back = setup
        .http
        .get(location(&at_github))
        .header(header::COOKIE, &state)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&back), "/");

    let out = setup
        .http
        .get(format!("{}/logout", setup.deck))
        .header(header::COOKIE, &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(
        set_cookie(&out, "deck-session").as_deref(),
        Some("deck-session=")
    );
}

#[tokio::test]
async fn pr_dashboard_lists_the_logged_in_users_pull_requests() {
    let setup = start().await;
    let response = setup
        .http
        .get(format!("{}/deck/user-prs.json", setup.deck))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let alice = setup.login("alice").await;
    let prs = setup.json("/deck/user-prs.json", &alice).await;
    assert_eq!(
        prs,
        json!({"login": "alice", "prs": [{"org": "acme", "repo": "widgets", "number": 7,
               "title": "Add widgets", "url": "https://github.com/acme/widgets/pull/7"}]})
    );
    let bob = setup.login("bob").await;
    let prs = setup.json("/deck/user-prs.json", &bob).await;
    assert_eq!(prs["prs"], json!([]));
}

#[test]
fn oauth_config_and_cookie_secret_are_checked() {
    let missing = OAuthConfig::parse("client_id: x\nclient_secret: y\n", "oauth.yaml").unwrap_err();
    assert_eq!(missing.to_string(), "oauth.yaml: redirect_url must be set");
    let empty = OAuthConfig::parse("scopes: []\n", "oauth.yaml").unwrap_err();
    assert_eq!(
        empty.to_string(),
        "oauth.yaml: client_id, client_secret, redirect_url must be set"
    );
    let config = OAuthConfig::parse(
        "client_id: x\nclient_secret: y\nredirect_url: https://deck/github-login/redirect\n",
        "oauth.yaml",
    )
    .unwrap();
    assert_eq!(config.github_url, "https://github.com");
    let short = Login::new(config.clone(), b"short\n").unwrap_err();
    assert_eq!(
        short.to_string(),
        "cookie secret is 5 bytes; it needs at least 32"
    );
    let login = Login::new(config, SECRET.as_bytes()).unwrap();
    let cookie = login.session_cookie("alice", 1_000);
    let session = login.session(&cookie, 1_001).unwrap();
    assert_eq!(session.login, "alice");
    assert!(
        login.session(&cookie, 1_000 + 7 * 24 * 3600).is_none(),
        "expired"
    );
    assert!(login.csrf_ok(&session, &login.csrf_token(&session)));
    assert!(
        login.verify("state", &cookie).is_none(),
        "a session is no state"
    );
}
