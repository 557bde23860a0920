//! The Jira REST API (v2) subset the jira plugin uses (upstream `pkg/jira` over go-jira):
//! read an issue, list projects, read, add and update an issue's remote links. Credentials are
//! basic auth (`--jira-username` with `--jira-password-file`) or a bearer token
//! (`--jira-bearer-token-file`); the secret files are read on every request, so a rotated
//! secret is used without a restart.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How requests to Jira authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JiraAuth {
    /// No credentials.
    Anonymous,
    /// Basic auth: the user and the file holding the password.
    Basic {
        /// The user name.
        username: String,
        /// The password file.
        password_file: PathBuf,
    },
    /// A bearer token read from a file.
    Bearer {
        /// The token file.
        token_file: PathBuf,
    },
}

/// Why a Jira request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JiraError {
    /// Jira answered that the thing does not exist (404).
    #[error("{what}: not found")]
    NotFound {
        /// The request, in words.
        what: String,
    },
    /// Jira answered with another unexpected status.
    #[error("{what}: jira answered {status}: {body}")]
    Status {
        /// The request, in words.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The response body (Jira's error messages).
        body: String,
    },
    /// The request did not complete, or its answer could not be read.
    #[error("{what}: {message}")]
    Transport {
        /// The request, in words.
        what: String,
        /// Why.
        message: String,
    },
}

impl JiraError {
    /// Whether Jira said the thing does not exist (upstream `jira.IsNotFound`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, JiraError::NotFound { .. })
    }
}

/// A remote link of a Jira issue (go-jira's `RemoteLink`, the fields Prow uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemoteLink {
    /// Jira's id of the link; absent when creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Jira's URL of the link.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    /// The global id, when the link has one.
    #[serde(rename = "globalId", default, skip_serializing_if = "Option::is_none")]
    pub global_id: Option<String>,
    /// The relationship shown in Jira, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    /// What the link points at.
    #[serde(default)]
    pub object: RemoteLinkObject,
}

/// What a remote link points at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemoteLinkObject {
    /// The linked page.
    #[serde(default)]
    pub url: String,
    /// Its title in Jira.
    #[serde(default)]
    pub title: String,
    /// The icon shown beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<RemoteLinkIcon>,
}

/// A remote link's icon.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemoteLinkIcon {
    /// The 16×16 image.
    #[serde(rename = "url16x16", default)]
    pub url16x16: String,
    /// Its tooltip.
    #[serde(default)]
    pub title: String,
}

impl RemoteLink {
    /// A new link to `url` titled `title`, with GitHub's icon (as upstream's plugin makes them).
    pub fn to_github(url: &str, title: &str) -> Self {
        RemoteLink {
            object: RemoteLinkObject {
                url: url.to_owned(),
                title: title.to_owned(),
                icon: Some(RemoteLinkIcon {
                    url16x16: "https://github.com/favicon.ico".to_owned(),
                    title: "GitHub".to_owned(),
                }),
            },
            ..RemoteLink::default()
        }
    }
}

/// A Jira server.
#[derive(Debug, Clone)]
pub struct JiraClient {
    endpoint: String,
    auth: JiraAuth,
    http: reqwest::Client,
}

impl JiraClient {
    /// A client for the Jira at `endpoint` (`https://issues.example.com`).
    pub fn new(endpoint: &str, auth: JiraAuth) -> Self {
        JiraClient {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            auth,
            http: reqwest::Client::new(),
        }
    }

    /// The Jira's base URL, for links to its issues (upstream `JiraURL`).
    pub fn url(&self) -> &str {
        &self.endpoint
    }

    /// Whether issue `key` exists (and the credentials may see it).
    pub async fn issue_exists(&self, key: &str) -> Result<bool, JiraError> {
        let what = format!("get jira issue {key}");
        match self
            .send(
                &what,
                reqwest::Method::GET,
                &format!("/rest/api/2/issue/{key}"),
                None,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The keys of every project (upstream `ListProjects`).
    pub async fn project_keys(&self) -> Result<Vec<String>, JiraError> {
        #[derive(Deserialize)]
        struct Project {
            key: String,
        }
        let what = "list jira projects";
        let body = self
            .send(what, reqwest::Method::GET, "/rest/api/2/project", None)
            .await?;
        let projects: Vec<Project> = parse(what, &body)?;
        Ok(projects.into_iter().map(|p| p.key).collect())
    }

    /// The remote links of issue `key`.
    pub async fn remote_links(&self, key: &str) -> Result<Vec<RemoteLink>, JiraError> {
        let what = format!("get the remote links of jira issue {key}");
        let body = self
            .send(
                &what,
                reqwest::Method::GET,
                &format!("/rest/api/2/issue/{key}/remotelink"),
                None,
            )
            .await?;
        parse(&what, &body)
    }

    /// Adds `link` to issue `key`.
    pub async fn add_remote_link(&self, key: &str, link: &RemoteLink) -> Result<(), JiraError> {
        let what = format!("add a remote link to jira issue {key}");
        self.send(
            &what,
            reqwest::Method::POST,
            &format!("/rest/api/2/issue/{key}/remotelink"),
            Some(json(&what, link)?),
        )
        .await
        .map(|_| ())
    }

    /// Replaces remote link `link.id` of issue `key` with `link`; Jira answers 204.
    pub async fn update_remote_link(&self, key: &str, link: &RemoteLink) -> Result<(), JiraError> {
        let id = link.id.unwrap_or_default();
        let what = format!("update remote link {id} of jira issue {key}");
        self.send(
            &what,
            reqwest::Method::PUT,
            &format!("/rest/api/2/issue/{key}/remotelink/{id}"),
            Some(json(&what, link)?),
        )
        .await
        .map(|_| ())
    }

    async fn send(
        &self,
        what: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, JiraError> {
        let transport = |message: String| JiraError::Transport {
            what: what.to_owned(),
            message,
        };
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.endpoint))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::USER_AGENT, "prow-rs jira");
        match &self.auth {
            JiraAuth::Anonymous => {}
            JiraAuth::Basic {
                username,
                password_file,
            } => {
                let password = read_secret(password_file).map_err(transport)?;
                request = request.basic_auth(username, Some(password));
            }
            JiraAuth::Bearer { token_file } => {
                let token = read_secret(token_file).map_err(transport)?;
                request = request.bearer_auth(token);
            }
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport(format!("read the answer: {e}")))?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(JiraError::NotFound {
                what: what.to_owned(),
            });
        }
        if !status.is_success() {
            return Err(JiraError::Status {
                what: what.to_owned(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        Ok(bytes.to_vec())
    }
}

/// The secret in `path`, without surrounding whitespace.
pub(crate) fn read_secret(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| format!("read {}: {e}", path.display()))
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, JiraError> {
    serde_json::from_slice(body).map_err(|e| JiraError::Transport {
        what: what.to_owned(),
        message: format!("read the answer: {e}"),
    })
}

fn json<T: Serialize>(what: &str, value: &T) -> Result<Vec<u8>, JiraError> {
    serde_json::to_vec(value).map_err(|e| JiraError::Transport {
        what: what.to_owned(),
        message: e.to_string(),
    })
}
