//! deck's GitHub login routes (see [`super::oauth`]): `/github-login`,
//! `/github-login/redirect`, `/logout`, `/deck/user.json` (who is logged in, and the CSRF
//! token deck's pages send with a `POST`), and `/deck/user-prs.json` (the logged-in user's
//! open pull requests, for the PR dashboard).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::Deck;
use super::handlers::error;
use super::oauth::{self, Login, Session};

type Params = Query<BTreeMap<String, String>>;

pub(super) fn routes(deck: Arc<Deck>) -> Router {
    Router::new()
        .route("/github-login", get(start))
        .route("/github-login/redirect", get(finish))
        .route("/logout", get(logout))
        .route("/deck/user.json", get(user))
        .route("/deck/user-prs.json", get(user_prs))
        .with_state(deck)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn set_cookie(login: &Login, name: &str, value: &str, max_age: i64) -> String {
    let secure = if login.secure() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response =
        (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response();
    for cookie in cookies {
        if let Ok(value) = header::HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

fn not_configured() -> Response {
    error(StatusCode::NOT_FOUND, "GitHub login is not configured")
}

impl Deck {
    /// The logged-in user of a request, when login is configured and the cookie is genuine.
    pub(super) fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let login = self.login.as_ref()?;
        let cookies = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        for line in cookies {
            if let Some(value) = oauth::cookie(line, oauth::SESSION_COOKIE)
                && let Some(session) = login.session(value, now())
            {
                return Some(session);
            }
        }
        None
    }
}

/// Sends the user to GitHub's authorize page, remembering the state and where to return.
async fn start(State(deck): State<Arc<Deck>>, Query(query): Params) -> Response {
    let Some(login) = &deck.login else {
        return not_configured();
    };
    let dest = oauth::safe_dest(query.get("dest").map_or("/", String::as_str));
    let (cookie, state) = login.state_cookie(dest, now());
    redirect(
        &login.authorize_url(&state),
        &[set_cookie(
            login,
            oauth::STATE_COOKIE,
            &cookie,
            oauth::STATE_SECONDS,
        )],
    )
}

/// Trades GitHub's code for a token, reads who the user is and starts their session.
async fn finish(
    State(deck): State<Arc<Deck>>,
    Query(query): Params,
    headers: HeaderMap,
) -> Response {
    let Some(login) = &deck.login else {
        return not_configured();
    };
    let state = query.get("state").map_or("", String::as_str);
    let code = query.get("code").map_or("", String::as_str);
    let attempt = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|line| oauth::cookie(line, oauth::STATE_COOKIE));
    let Some(dest) = attempt.and_then(|value| login.check_state(value, state, now())) else {
        return error(
            StatusCode::BAD_REQUEST,
            "login failed: the state GitHub returned does not match this browser's login attempt",
        );
    };
    if code.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "login failed: GitHub returned no code",
        );
    }
    let user = match github_user(login, code, state).await {
        Ok(user) => user,
        Err(reason) => {
            tracing::warn!(%reason, "github login failed");
            return error(StatusCode::BAD_GATEWAY, format!("login failed: {reason}"));
        }
    };
    tracing::info!(user = %user, "logged in with GitHub");
    let target = if login.config.final_redirect_url.is_empty() || dest != "/" {
        dest
    } else {
        login.config.final_redirect_url.clone()
    };
    redirect(
        &target,
        &[
            set_cookie(
                login,
                oauth::SESSION_COOKIE,
                &login.session_cookie(&user, now()),
                oauth::SESSION_SECONDS,
            ),
            set_cookie(login, oauth::STATE_COOKIE, "", 0),
        ],
    )
}

/// The access token for `code`, then the login of its user.
async fn github_user(login: &Login, code: &str, state: &str) -> Result<String, String> {
    let c = &login.config;
    let http = reqwest::Client::new();
    let body = json!({"client_id": c.client_id, "client_secret": c.client_secret,
                      "code": code, "redirect_uri": c.redirect_url, "state": state});
    let answer = http
        .post(format!(
            "{}/login/oauth/access_token",
            c.github_url.trim_end_matches('/')
        ))
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("exchange the code: {e}"))?;
    let status = answer.status();
    let token: serde_json::Value = serde_json::from_slice(
        &answer
            .bytes()
            .await
            .map_err(|e| format!("exchange the code: {e}"))?,
    )
    .map_err(|e| format!("exchange the code: {status}: {e}"))?;
    let Some(token) = token["access_token"].as_str().filter(|t| !t.is_empty()) else {
        let why = token["error_description"]
            .as_str()
            .or(token["error"].as_str())
            .unwrap_or("no access_token in the answer");
        return Err(format!("exchange the code: {status}: {why}"));
    };
    let answer = http
        .get(format!("{}/user", c.api_url.trim_end_matches('/')))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT, "application/vnd.github+json")
        .header(header::USER_AGENT, "prow-rs-deck")
        .send()
        .await
        .map_err(|e| format!("read the user: {e}"))?;
    let status = answer.status();
    let user: serde_json::Value = serde_json::from_slice(
        &answer
            .bytes()
            .await
            .map_err(|e| format!("read the user: {e}"))?,
    )
    .map_err(|e| format!("read the user: {status}: {e}"))?;
    user["login"]
        .as_str()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("read the user: {status}: no login in the answer"))
}

/// Forgets the session.
async fn logout(State(deck): State<Arc<Deck>>) -> Response {
    let Some(login) = &deck.login else {
        return not_configured();
    };
    redirect("/", &[set_cookie(login, oauth::SESSION_COOKIE, "", 0)])
}

/// Who is logged in, and the CSRF token their `POST`s carry.
async fn user(State(deck): State<Arc<Deck>>, headers: HeaderMap) -> Response {
    let session = deck.session(&headers);
    let body = match (&deck.login, &session) {
        (Some(login), Some(session)) => json!({"login_enabled": true, "login": session.login,
                                               "csrf_token": login.csrf_token(session)}),
        (Some(_), None) => json!({"login_enabled": true, "login": null}),
        (None, _) => json!({"login_enabled": false, "login": null}),
    };
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The logged-in user's open pull requests (upstream's PR dashboard), through deck's GitHub
/// client.
async fn user_prs(State(deck): State<Arc<Deck>>, headers: HeaderMap) -> Response {
    let Some(session) = deck.session(&headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "log in with GitHub to see your pull requests",
        );
    };
    let Some(github) = &deck.github else {
        return error(StatusCode::NOT_FOUND, "deck has no GitHub client");
    };
    let query = format!("is:pr is:open author:{}", session.login);
    let found = match github.search_issues(&query).await {
        Ok(found) => found,
        Err(e) => {
            return error(
                StatusCode::BAD_GATEWAY,
                format!("search pull requests: {e}"),
            );
        }
    };
    let prs: Vec<serde_json::Value> = found
        .iter()
        .filter(|i| i.pull_request.is_some() || i.repository_url.contains("/repos/"))
        .map(|i| {
            let mut parts = i.repository_url.rsplit('/');
            let repo = parts.next().unwrap_or("");
            let org = parts.next().unwrap_or("");
            json!({"org": org, "repo": repo, "number": i.number, "title": i.title,
                   "url": i.html_url})
        })
        .collect();
    let body = json!({"login": session.login, "prs": prs});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
