//! The Bugzilla API subset the bugzilla plugin uses (upstream `pkg/bugzilla/client.go`): read
//! a bug and its external trackers over REST, update its state, comment on it, and link or
//! unlink a pull request through the ExternalBugs JSON-RPC extension. The API key
//! (`--bugzilla-api-key-path`) is read on every request and sent as upstream's
//! `--bugzilla-auth-method` says: `bearer`, `query`, `x-bugzilla-api-key`, or by default both
//! the `X-BUGZILLA-API-KEY` header and the `api_key` query parameter.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How the API key is sent (upstream `--bugzilla-auth-method`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BugzillaAuth {
    /// The `X-BUGZILLA-API-KEY` header and the `api_key` query parameter (no method given).
    #[default]
    Both,
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// The `api_key` query parameter.
    Query,
    /// The `X-BUGZILLA-API-KEY` header.
    Header,
}

impl BugzillaAuth {
    /// The method named as upstream's flag names it; the empty name is the default.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "" => Ok(BugzillaAuth::Both),
            "bearer" => Ok(BugzillaAuth::Bearer),
            "query" => Ok(BugzillaAuth::Query),
            "x-bugzilla-api-key" => Ok(BugzillaAuth::Header),
            other => Err(format!(
                "invalid --auth-method {other}. Valid values are bearer,query or x-bugzilla-api-key"
            )),
        }
    }
}

/// Why a Bugzilla request failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct BugzillaError {
    /// The HTTP status, `None` when no answer came.
    pub status: Option<u16>,
    /// Bugzilla's own error code (`101`: invalid bug id, `102`: access denied), 0 when none.
    pub code: i64,
    /// What went wrong, worded as upstream's client words it (`code 101: ...`).
    pub message: String,
}

impl BugzillaError {
    /// Whether Bugzilla answered 404 (upstream `IsNotFound`).
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    fn other(message: String) -> Self {
        BugzillaError {
            status: None,
            code: 0,
            message,
        }
    }
}

/// A Bugzilla user as bugs show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BugzillaUser {
    /// The login name.
    pub name: String,
    /// The email address.
    pub email: String,
    /// The display name.
    pub real_name: String,
}

/// A bug, the fields the plugin reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Bug {
    /// Its number.
    pub id: u64,
    /// Its status (`NEW`, `MODIFIED`, ...).
    pub status: String,
    /// Its resolution, empty while open.
    pub resolution: String,
    /// Whether it is open.
    pub is_open: bool,
    /// Target releases (the web UI shows one; the API answers a list).
    pub target_release: Vec<String>,
    /// The bugs it depends on.
    pub depends_on: Vec<u64>,
    /// Its severity (`urgent`, `high`, `medium`, `low`, `unspecified`).
    pub severity: String,
    /// The groups that may see it.
    pub groups: Vec<String>,
    /// Its QA contact.
    pub qa_contact_detail: Option<BugzillaUser>,
}

/// A change of a bug's state (the fields of upstream's `BugUpdate` the plugin sets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BugUpdate {
    /// The new status.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// The new resolution.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resolution: String,
}

/// A pull request linked to a bug as an external bug.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct ExternalPull {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The pull request.
    pub number: u64,
}

/// `org/repo/pull/N`, how Bugzilla names a linked pull request (upstream
/// `IdentifierForPull`).
pub fn identifier_for_pull(org: &str, repo: &str, number: u64) -> String {
    format!("{org}/{repo}/pull/{number}")
}

/// The pull request an external bug id names; `Ok(None)` when it names something else (an
/// issue), an error when it is malformed (upstream `PullFromIdentifier`).
pub fn pull_from_identifier(identifier: &str) -> Result<Option<ExternalPull>, String> {
    let parts: Vec<&str> = identifier.split('/').collect();
    if parts.len() >= 3 && parts[2] != "pull" {
        return Ok(None);
    }
    let n = parts.len();
    let shape_ok = n == 4
        || (n == 5 && (parts[4].is_empty() || parts[4] == "files"))
        || (n == 6 && parts[4] == "files" && parts[5].is_empty());
    if !shape_ok {
        return Err(format!(
            "invalid pull identifier with {n} parts: {identifier:?}"
        ));
    }
    let number = parts[3].parse().map_err(|e| {
        format!(
            "invalid pull identifier: could not parse {} as number: {e}",
            parts[3]
        )
    })?;
    Ok(Some(ExternalPull {
        org: parts[0].to_owned(),
        repo: parts[1].to_owned(),
        number,
    }))
}

/// A Bugzilla server.
#[derive(Debug, Clone)]
pub struct BugzillaClient {
    endpoint: String,
    api_key_path: Option<PathBuf>,
    auth: BugzillaAuth,
    github_tracker_id: u64,
    http: reqwest::Client,
}

impl BugzillaClient {
    /// A client for the Bugzilla at `endpoint`, with the API key in `api_key_path` (none:
    /// anonymous).
    pub fn new(endpoint: &str, api_key_path: Option<PathBuf>, auth: BugzillaAuth) -> Self {
        BugzillaClient {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            api_key_path,
            auth,
            github_tracker_id: 0,
            http: reqwest::Client::new(),
        }
    }

    /// The same client naming GitHub's external tracker by id
    /// (`--bugzilla-github-external-tracker-id`) instead of by URL.
    pub fn with_github_tracker_id(mut self, id: u64) -> Self {
        self.github_tracker_id = id;
        self
    }

    /// The server's base URL, for links to bugs (upstream `Endpoint`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Bug `id` (upstream `GetBug`).
    pub async fn bug(&self, id: u64) -> Result<Bug, BugzillaError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            bugs: Vec<Bug>,
        }
        let raw = self
            .send(
                reqwest::Method::GET,
                &format!("/rest/bug/{id}"),
                &[("include_fields", "_default"), ("include_fields", "flags")],
                None,
            )
            .await?;
        let mut answer: Answer = parse(&raw)?;
        if answer.bugs.len() != 1 {
            return Err(BugzillaError::other(format!(
                "did not get one bug, but {}",
                answer.bugs.len()
            )));
        }
        Ok(answer.bugs.remove(0))
    }

    /// The GitHub pull requests linked to bug `id` as external bugs (upstream
    /// `GetExternalBugPRsOnBug`).
    pub async fn external_pulls(&self, id: u64) -> Result<Vec<ExternalPull>, BugzillaError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            bugs: Vec<Externals>,
        }
        #[derive(Deserialize)]
        struct Externals {
            #[serde(default)]
            external_bugs: Vec<External>,
        }
        #[derive(Deserialize)]
        struct External {
            #[serde(default)]
            bug_id: u64,
            #[serde(default)]
            ext_bz_bug_id: String,
            #[serde(default)]
            #[serde(rename = "type")]
            kind: ExternalType,
        }
        #[derive(Deserialize, Default)]
        struct ExternalType {
            #[serde(default)]
            url: String,
        }
        let raw = self
            .send(
                reqwest::Method::GET,
                &format!("/rest/bug/{id}"),
                &[("include_fields", "external_bugs")],
                None,
            )
            .await?;
        let answer: Answer = parse(&raw)?;
        let [bug] = answer.bugs.as_slice() else {
            return Err(BugzillaError::other(format!(
                "did not get one bug, but {}",
                answer.bugs.len()
            )));
        };
        let mut pulls = Vec::new();
        for external in &bug.external_bugs {
            if external.bug_id != id || external.kind.url != "https://github.com/" {
                continue;
            }
            match pull_from_identifier(&external.ext_bz_bug_id) {
                Ok(Some(pull)) => pulls.push(pull),
                Ok(None) => {}
                Err(e) => {
                    return Err(BugzillaError::other(format!(
                        "could not parse external identifier {:?} as pull: {e}",
                        external.ext_bz_bug_id
                    )));
                }
            }
        }
        Ok(pulls)
    }

    /// Changes bug `id` (upstream `UpdateBug`).
    pub async fn update_bug(&self, id: u64, update: &BugUpdate) -> Result<(), BugzillaError> {
        let body = serde_json::to_vec(update)
            .map_err(|e| BugzillaError::other(format!("failed to marshal update payload: {e}")))?;
        self.send(
            reqwest::Method::PUT,
            &format!("/rest/bug/{id}"),
            &[],
            Some(body),
        )
        .await
        .map(|_| ())
    }

    /// Comments `text` on bug `id`, privately or not; answers the comment's id (upstream
    /// `CreateComment`).
    pub async fn create_comment(
        &self,
        id: u64,
        text: &str,
        private: bool,
    ) -> Result<u64, BugzillaError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            id: u64,
        }
        let body = serde_json::json!({"id": id, "comment": text, "is_private": private});
        let raw = self
            .send(
                reqwest::Method::POST,
                &format!("/rest/bug/{id}/comment"),
                &[],
                Some(body.to_string().into_bytes()),
            )
            .await?;
        Ok(parse::<Answer>(&raw)?.id)
    }

    /// Links pull request `org/repo#number` to bug `id`; answers whether that changed
    /// anything (upstream `AddPullRequestAsExternalBug`).
    pub async fn add_pull_request(
        &self,
        id: u64,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<bool, BugzillaError> {
        let pull = identifier_for_pull(org, repo, number);
        let external = if self.github_tracker_id != 0 {
            serde_json::json!({"ext_type_id": self.github_tracker_id, "ext_bz_bug_id": pull})
        } else {
            serde_json::json!({"ext_type_url": "https://github.com/", "ext_bz_bug_id": pull})
        };
        let params = serde_json::json!({"bug_ids": [id], "external_bugs": [external]});
        let answer = self
            .rpc("ExternalBugs.add_external_bug", params, |code, message| {
                code == 100500
                    && message.contains(
                        r#"duplicate key value violates unique constraint "ext_bz_bug_map_bug_id_idx""#,
                    )
            })
            .await?;
        Ok(answer["result"]["bugs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|bug| bug["id"].as_u64() == Some(id))
            .any(|bug| {
                bug["changes"]["ext_bz_bug_map.ext_bz_bug_id"]["added"]
                    .as_str()
                    .is_some_and(|added| added.contains(&pull))
            }))
    }

    /// Unlinks pull request `org/repo#number` from bug `id`; answers whether that changed
    /// anything (upstream `RemovePullRequestAsExternalBug`).
    pub async fn remove_pull_request(
        &self,
        id: u64,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<bool, BugzillaError> {
        let pull = identifier_for_pull(org, repo, number);
        let params = serde_json::json!({
            "bug_ids": [id],
            "ext_type_url": "https://github.com/",
            "ext_bz_bug_id": pull,
        });
        let answer = self
            .rpc(
                "ExternalBugs.remove_external_bug",
                params,
                |code, message| {
                    code == 1006
                        && message.contains(
                            "No external tracker bugs were found that matched your criteria",
                        )
                },
            )
            .await?;
        Ok(answer["result"]["external_bugs"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|bug| bug["ext_bz_bug_id"].as_str() == Some(pull.as_str())))
    }

    /// A JSON-RPC 1.0 call to `jsonrpc.cgi`; an error `harmless` accepts answers `null`
    /// results (nothing changed).
    async fn rpc(
        &self,
        method: &str,
        params: serde_json::Value,
        harmless: impl Fn(i64, &str) -> bool,
    ) -> Result<serde_json::Value, BugzillaError> {
        let payload = serde_json::json!({
            "jsonrpc": "1.0",
            "method": method,
            "params": [params],
            "id": "identifier",
        });
        let raw = self
            .send(
                reqwest::Method::POST,
                "/jsonrpc.cgi",
                &[],
                Some(payload.to_string().into_bytes()),
            )
            .await?;
        let answer: serde_json::Value = parse(&raw)?;
        if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
            let code = error["code"].as_i64().unwrap_or_default();
            let message = error["message"].as_str().unwrap_or_default();
            if harmless(code, message) {
                return Ok(serde_json::Value::Null);
            }
            return Err(BugzillaError::other(format!(
                "JSONRPC error {code}: {message}"
            )));
        }
        if answer["id"] != "identifier" {
            return Err(BugzillaError::other(format!(
                "JSONRPC returned mismatched identifier, expected identifier but got {}",
                answer["id"].as_str().unwrap_or_default()
            )));
        }
        Ok(answer)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, BugzillaError> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.endpoint))
            .map_err(|e| BugzillaError::other(format!("invalid url: {e}")))?;
        let key = match &self.api_key_path {
            Some(path) => {
                crate::plugins::jira::client::read_secret(path).map_err(BugzillaError::other)?
            }
            None => String::new(),
        };
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
            if !key.is_empty() && matches!(self.auth, BugzillaAuth::Query | BugzillaAuth::Both) {
                pairs.append_pair("api_key", &key);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::USER_AGENT, "prow-rs bugzilla");
        if !key.is_empty() {
            match self.auth {
                BugzillaAuth::Bearer => request = request.bearer_auth(&key),
                BugzillaAuth::Header | BugzillaAuth::Both => {
                    request = request.header("X-BUGZILLA-API-KEY", &key)
                }
                BugzillaAuth::Query => {}
            }
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| BugzillaError {
            status: e.status().map(|s| s.as_u16()),
            code: 0,
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let raw = response
            .bytes()
            .await
            .map_err(|e| BugzillaError::other(format!("could not read response body: {e}")))?;
        #[derive(Deserialize, Default)]
        struct ErrorAnswer {
            #[serde(default)]
            error: bool,
            #[serde(default)]
            code: i64,
            #[serde(default)]
            message: String,
        }
        let error: ErrorAnswer = serde_json::from_slice(&raw).unwrap_or_default();
        if error.error {
            let message = if error.code != 0 {
                format!("code {}: {}", error.code, error.message)
            } else {
                error.message
            };
            return Err(BugzillaError {
                status: Some(status),
                code: error.code,
                message,
            });
        }
        // Upstream insists on 200; Bugzilla answers a created comment with 201, so any success
        // is taken.
        if !(200..300).contains(&status) {
            return Err(BugzillaError {
                status: Some(status),
                code: 0,
                message: format!("response code {status} not 200"),
            });
        }
        Ok(raw.to_vec())
    }
}

fn parse<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, BugzillaError> {
    serde_json::from_slice(raw)
        .map_err(|e| BugzillaError::other(format!("could not unmarshal response body: {e}")))
}
