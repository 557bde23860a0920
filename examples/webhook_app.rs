//! Handle GitHub webhooks inside your own axum app: hook's routes, with the built-in plugins
//! plus one of your own, mounted under `/github` next to your own routes.
//!
//! Run: `cargo run -p prow-examples --example webhook_app`. It serves on 127.0.0.1, sends itself
//! one signed `/hello` comment from the demo's fake GitHub and prints the bot's answer.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use axum::routing::get;
use prow_github::events::Event;
use prow_plugins::{Action, Context, Plugin, PluginError, PluginHelp};
use prow_server::hook::{Deps, Hook, Options};

/// A plugin of our own: answers `/hello` with a greeting.
struct Greeter;

#[async_trait]
impl Plugin for Greeter {
    fn name(&self) -> &'static str {
        "greeter"
    }

    fn help(&self, _: &prow_config::PluginConfig) -> PluginHelp {
        PluginHelp::new("Answers /hello with a greeting.", &["issue_comment"])
    }

    // Plugins decide; hook carries out the actions (or logs them with `dry_run`).
    async fn handle(&self, _: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(comment) = event.generic_comment() else {
            return Ok(Vec::new());
        };
        if !comment.body.lines().any(|l| l.trim() == "/hello") {
            return Ok(Vec::new());
        }
        Ok(vec![Action::Comment {
            org: comment.repo.org().to_owned(),
            repo: comment.repo.name.clone(),
            number: comment.number,
            body: format!("Hello, @{}!", comment.user.login),
        }])
    }
}

/// Sets up the app over the demo's files in `demo` (`examples/prow`), serves it on 127.0.0.1,
/// delivers one `/hello` comment and returns the comments the bot left.
pub async fn run(demo: &Path) -> anyhow::Result<Vec<String>> {
    // Configuration: the demo's jobs, and its plugins with ours enabled for the demo org.
    let paths = prow_config::ConfigPaths::new(demo.join("config.yaml"), Some(demo.join("jobs")))
        .with_plugin_config(demo.join("plugins.yaml"));
    let (snapshot, _) = prow_config::load_snapshot(&paths)?;
    let mut plugins = (*snapshot.plugins).clone();
    plugins
        .plugins
        .entry("prow-demo".to_owned())
        .or_default()
        .plugins
        .push("greeter".to_owned());

    // GitHub: the in-memory fake seeded like the demo's. Jobs: an in-memory store.
    let github = Arc::new(prow_github::fake::FakeGitHub::from_seed_yaml(
        &std::fs::read_to_string(demo.join("github-fake.yaml"))?,
    )?);
    let store = Arc::new(prow_jobs::store::SqliteStore::in_memory()?);
    let secret = std::fs::read(demo.join("hmac"))?;
    let deps = Deps::new(
        github.clone(),
        store,
        "prow-bot",
        prow_github::HmacSecrets::parse(&secret),
        prow_config::ConfigSnapshot::from_shared(
            snapshot.config.clone(),
            std::sync::Arc::new(plugins),
        ),
    );

    let mut all = prow_plugins::builtin();
    all.insert("greeter", Arc::new(Greeter));
    let mut hook_options = Options::default();
    hook_options.webhook_path = "/github/hook".to_owned();
    let hook = Hook::start_with_plugins(hook_options, deps, all);
    let metrics = hook.metrics();

    // Your app: your routes, plus hook's.
    let app = axum::Router::new()
        .route("/hello", get(|| async { "my own route" }))
        .merge(hook.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/github/hook", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // What GitHub would send: the demo's comment, saying `/hello` instead.
    let mut payload: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        demo.join("payloads/test-comment.json"),
    )?)?;
    payload["comment"]["body"] = "/hello".into();
    let reply = prow_github::phony::deliver(
        &reqwest::Client::new(),
        &url,
        "issue_comment",
        &serde_json::to_vec(&payload)?,
        secret.trim_ascii(),
    )
    .await?;
    anyhow::ensure!(
        reply.status == 200,
        "hook answered {}: {}",
        reply.status,
        reply.body
    );
    // hook answers at once and works in the background; wait until it is done.
    metrics.wait_processed(1).await;
    server.abort();

    let state = github.state();
    Ok(state
        .comments
        .values()
        .flatten()
        .filter_map(|c| c.body.clone())
        .collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    for comment in run(Path::new("examples/prow")).await? {
        println!("bot: {comment}");
    }
    Ok(())
}
