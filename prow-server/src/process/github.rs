//! How the process reaches GitHub: a token, a GitHub App (each organisation through its own
//! installation), or a client the caller built (the in-memory fake, or an embedder's own).

use std::path::PathBuf;
use std::sync::Arc;

use prow_github::GitHubClient;
use prow_github::app::AppClient;
use prow_github::octo::OctocrabClient;

use super::ProcessError;

/// GitHub's API endpoint unless told otherwise.
pub const DEFAULT_ENDPOINT: &str = "https://api.github.com";

/// Where GitHub is.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum GitHubOptions {
    /// No GitHub: parts that need it refuse to start.
    #[default]
    None,
    /// A bot account's token, read from a file.
    Token {
        /// The API endpoint.
        endpoint: String,
        /// The file holding the token.
        token_path: PathBuf,
        /// The bot's login; asked of GitHub when empty.
        bot: String,
    },
    /// A GitHub App acting in each organisation through its installation there.
    App {
        /// The API endpoint.
        endpoint: String,
        /// The App's ID.
        app_id: u64,
        /// The App's private key (PEM).
        private_key_path: PathBuf,
        /// An organisation the App must be installed in: checked at start, so a wrong App ID
        /// or key fails at once rather than at the first event.
        org: Option<String>,
        /// The App's `NAME[bot]` login; asked of GitHub (`GET /app`) when empty.
        bot: String,
    },
    /// A client built by the caller, with the bot's login.
    Client(Arc<dyn GitHubClient>, String),
}

impl std::fmt::Debug for GitHubOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Paths and IDs only: never a token.
        match self {
            GitHubOptions::None => f.write_str("None"),
            GitHubOptions::Token {
                endpoint,
                token_path,
                ..
            } => f
                .debug_struct("Token")
                .field("endpoint", endpoint)
                .field("token_path", token_path)
                .finish_non_exhaustive(),
            GitHubOptions::App {
                endpoint,
                app_id,
                org,
                ..
            } => f
                .debug_struct("App")
                .field("endpoint", endpoint)
                .field("app_id", app_id)
                .field("org", org)
                .finish_non_exhaustive(),
            GitHubOptions::Client(_, bot) => f.debug_tuple("Client").field(bot).finish(),
        }
    }
}

/// GitHub and the bot's login.
pub type Connected = Option<(Arc<dyn GitHubClient>, String)>;

/// Connects as `options` say (also for one-shot tools such as `prow branchprotector`).
pub async fn connect(options: &GitHubOptions) -> Result<Connected, ProcessError> {
    let github = |what: &str| {
        let what = what.to_owned();
        move |source| ProcessError::GitHub { what, source }
    };
    let (client, bot) = match options {
        GitHubOptions::None => return Ok(None),
        GitHubOptions::Client(client, bot) => return Ok(Some((client.clone(), bot.clone()))),
        GitHubOptions::Token {
            endpoint,
            token_path,
            bot,
        } => (
            Arc::new(
                OctocrabClient::with_token_file(endpoint, token_path)
                    .map_err(github("set up the GitHub client"))?,
            ) as Arc<dyn GitHubClient>,
            bot.clone(),
        ),
        GitHubOptions::App {
            endpoint,
            app_id,
            private_key_path,
            org,
            bot,
        } => {
            let pem = std::fs::read(private_key_path).map_err(|source| ProcessError::Read {
                path: private_key_path.clone(),
                source,
            })?;
            let client =
                AppClient::new(endpoint, *app_id, &pem).map_err(github("act as the GitHub App"))?;
            if let Some(org) = org {
                client
                    .client_for(org)
                    .await
                    .map_err(github("act as the GitHub App"))?;
            }
            let client: Arc<dyn GitHubClient> = Arc::new(client);
            (client, bot.clone())
        }
    };
    let bot = if bot.is_empty() {
        client
            .bot_user()
            .await
            .map_err(github("ask GitHub who the bot is"))?
            .login
    } else {
        bot
    };
    Ok(Some((client, bot)))
}
