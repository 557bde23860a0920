//! GitHub login for deck (upstream's `githuboauth`): `/github-login` sends the user to GitHub,
//! `/github-login/redirect` trades the code for a token, reads the user's login and keeps it in
//! a session cookie signed (HMAC-SHA256) with the cookie secret, and `/logout` forgets it.
//! With a session, every `POST` must carry the session's CSRF token in `X-CSRF-Token`
//! (`/deck/user.json` hands it to deck's pages).
//!
//! The configuration file has upstream's fields (`client_id`, `client_secret`,
//! `redirect_url`, `final_redirect_url`, `scopes`) plus `github_url` and `api_url` (default
//! `https://github.com` and `https://api.github.com`) for GitHub Enterprise and tests.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "deck-session";
/// The cookie carrying the login attempt's state.
pub const STATE_COOKIE: &str = "deck-oauth-state";
/// The header a `POST` carries its CSRF token in.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// How long a session lasts, in seconds (upstream's cookie lasts a week).
pub const SESSION_SECONDS: i64 = 7 * 24 * 3600;
/// How long a login attempt may take, in seconds.
pub const STATE_SECONDS: i64 = 600;
/// The shortest cookie secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// The GitHub OAuth app deck logs users in with (upstream's `github_oauth_config` file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// The OAuth app's client ID.
    #[serde(default)]
    pub client_id: String,
    /// The OAuth app's client secret.
    #[serde(default)]
    pub client_secret: String,
    /// Where GitHub sends the user back: deck's `/github-login/redirect`.
    #[serde(default)]
    pub redirect_url: String,
    /// Where deck sends the user after logging in (default `/`).
    #[serde(default)]
    pub final_redirect_url: String,
    /// The scopes asked for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// GitHub's web address (authorize and token endpoints).
    #[serde(default = "default_github_url")]
    pub github_url: String,
    /// GitHub's API address (`/user`).
    #[serde(default = "default_api_url")]
    pub api_url: String,
}

fn default_github_url() -> String {
    "https://github.com".to_owned()
}

fn default_api_url() -> String {
    "https://api.github.com".to_owned()
}

/// Why the OAuth configuration or the cookie secret was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The file could not be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("{path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// Why, with the field and line.
        reason: String,
    },
    /// Required fields are empty or missing.
    #[error("{path}: {} must be set", fields.join(", "))]
    Missing {
        /// The file.
        path: String,
        /// The fields.
        fields: Vec<&'static str>,
    },
    /// The cookie secret is too short.
    #[error("cookie secret is {len} bytes; it needs at least {MIN_SECRET_LEN}")]
    ShortSecret {
        /// Its length.
        len: usize,
    },
}

impl OAuthConfig {
    /// Reads the configuration from YAML text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<OAuthConfig, OAuthError> {
        let config: OAuthConfig = serde_yaml::from_str(text).map_err(|e| OAuthError::Parse {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let fields: Vec<&'static str> = [
            ("client_id", &config.client_id),
            ("client_secret", &config.client_secret),
            ("redirect_url", &config.redirect_url),
        ]
        .into_iter()
        .filter(|(_, value)| value.is_empty())
        .map(|(field, _)| field)
        .collect();
        if !fields.is_empty() {
            return Err(OAuthError::Missing {
                path: path.to_owned(),
                fields,
            });
        }
        Ok(config)
    }

    /// Reads the configuration file.
    pub fn from_file(path: &Path) -> Result<OAuthConfig, OAuthError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| OAuthError::Read {
            path: shown.clone(),
            source,
        })?;
        OAuthConfig::parse(&text, &shown)
    }
}

/// GitHub login as deck runs it: the app's configuration and the cookie secret.
#[derive(Clone)]
pub struct Login {
    /// The OAuth app.
    pub config: OAuthConfig,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("config.client_id", &self.config.client_id)
            .finish_non_exhaustive()
    }
}

/// A logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// The GitHub login.
    pub login: String,
    /// When the session ends, seconds since the epoch.
    pub expires: i64,
    /// The session's random ID, which its CSRF token is derived from.
    pub id: String,
}

impl Login {
    /// Login with `config`, signing cookies with `secret` (at least [`MIN_SECRET_LEN`] bytes;
    /// surrounding whitespace, as a secret file ends, is dropped).
    pub fn new(config: OAuthConfig, secret: &[u8]) -> Result<Login, OAuthError> {
        let text = String::from_utf8_lossy(secret);
        let secret = text.trim().as_bytes().to_vec();
        if secret.len() < MIN_SECRET_LEN {
            return Err(OAuthError::ShortSecret { len: secret.len() });
        }
        Ok(Login { config, secret })
    }

    fn mac(&self, what: &str, payload: &str) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(what.as_bytes());
        mac.update(b"\0");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// `payload` signed for the purpose `what`, as a cookie value.
    pub fn sign(&self, what: &str, payload: &str) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(self.mac(what, payload))
        )
    }

    /// The payload of a value [`Login::sign`] made for `what`, `None` when forged or altered.
    pub fn verify(&self, what: &str, value: &str) -> Option<String> {
        let (payload, signature) = value.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(what.as_bytes());
        mac.update(b"\0");
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;
        Some(payload)
    }

    /// The session cookie's value for `login` from `now` on.
    pub fn session_cookie(&self, login: &str, now: i64) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.sign(
            "session",
            &format!("{}|{id}|{login}", now + SESSION_SECONDS),
        )
    }

    /// The session a cookie value carries, if genuine and not expired at `now`.
    pub fn session(&self, value: &str, now: i64) -> Option<Session> {
        let payload = self.verify("session", value)?;
        let mut parts = payload.splitn(3, '|');
        let expires: i64 = parts.next()?.parse().ok()?;
        let id = parts.next()?.to_owned();
        let login = parts.next()?.to_owned();
        (expires > now && !login.is_empty()).then_some(Session { login, expires, id })
    }

    /// The CSRF token of a session.
    pub fn csrf_token(&self, session: &Session) -> String {
        URL_SAFE_NO_PAD.encode(self.mac("csrf", &session.id))
    }

    /// Whether `token` is the session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, session: &Session, token: &str) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(token.trim()) else {
            return false;
        };
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key");
        mac.update(b"csrf\0");
        mac.update(session.id.as_bytes());
        mac.verify_slice(&given).is_ok()
    }

    /// The login attempt's state cookie: a random state, where to go afterwards, and when it
    /// lapses; with the state to send to GitHub.
    pub fn state_cookie(&self, dest: &str, now: i64) -> (String, String) {
        let state = uuid::Uuid::new_v4().simple().to_string();
        let value = self.sign("state", &format!("{}|{state}|{dest}", now + STATE_SECONDS));
        (value, state)
    }

    /// The destination of a login attempt whose state cookie is `value` and whose returned
    /// state is `state`, when they match and the attempt has not lapsed.
    pub fn check_state(&self, value: &str, state: &str, now: i64) -> Option<String> {
        let payload = self.verify("state", value)?;
        let mut parts = payload.splitn(3, '|');
        let expires: i64 = parts.next()?.parse().ok()?;
        let expected = parts.next()?;
        let dest = parts.next()?.to_owned();
        (expires > now && !state.is_empty() && expected == state).then_some(dest)
    }

    /// GitHub's authorize address for a login attempt with `state`.
    pub fn authorize_url(&self, state: &str) -> String {
        let c = &self.config;
        format!(
            "{}/login/oauth/authorize?client_id={}&redirect_uri={}&scope={}&state={}",
            c.github_url.trim_end_matches('/'),
            escape(&c.client_id),
            escape(&c.redirect_url),
            escape(&c.scopes.join(" ")),
            escape(state)
        )
    }

    /// Whether cookies should be `Secure` (deck is reached over HTTPS).
    pub fn secure(&self) -> bool {
        self.config.redirect_url.starts_with("https://")
    }
}

/// A cookie value read from a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// Percent-encodes a query value.
pub fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A destination after login: only a path on deck itself, never another site.
pub fn safe_dest(dest: &str) -> &str {
    if dest.starts_with('/') && !dest.starts_with("//") && !dest.contains('\\') {
        dest
    } else {
        "/"
    }
}
