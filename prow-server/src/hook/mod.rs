//! hook: the webhook endpoint. It checks each delivery as Prow's hook does, answers at once,
//! and hands the event to the plugins through a bounded queue.
//!
//! - Bodies are capped at GitHub's 25 MB; checks run in Prow's order with Prow's answers.
//! - An accepted delivery is answered `200 Event received. Have a nice day.` and queued. When
//!   the queue is full a signed delivery waits up to [`Options::queue_wait`] for room (at most
//!   [`Options::queue_capacity`] of them wait at once), so a burst slows its sender down
//!   instead of being refused; past that the answer is `503` with `Retry-After`, so a burst
//!   cannot grow memory without bound and GitHub (or phony) can deliver again later. Prow's
//!   hook never refuses: it starts a goroutine per delivery, and its memory grows with the
//!   backlog.
//! - A delivery ID seen recently is answered 200 and not processed again.
//! - Each plugin runs with its panics contained and counted; its actions are carried out
//!   through GitHub and the job store (or only logged with `dry_run`).
//! - External plugins get the payload with the original headers.
//! - A plugin that must wait (require-matching-label's grace period) asks with
//!   [`Action::Recheck`](prow_plugins::Action::Recheck); hook runs it again from a timer task,
//!   so no worker is held while it waits.
//! - Like Prow's hook, the description of an issue or pull request when opened or edited is
//!   also a comment: plugins read it through [`Event::generic_comment`].

mod dedup;
mod help;
mod metrics;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::FutureExt;
use prow_config::ConfigSnapshot;
use prow_github::client::GitHubClient;
use prow_github::events::Event;
use prow_github::webhook::{ACCEPTED, MAX_PAYLOAD_BYTES, Rejection};
use prow_github::{HmacSecrets, check_headers, verify_and_parse};
use prow_jobs::config::ConfigHandle;
use prow_jobs::store::{JobStore, StoreError, Write};
use tokio::sync::mpsc;
use tracing::Instrument;

pub use metrics::{Metrics, PluginOutcome, Snapshot};
use prow_plugins::{self as plugins, Context, Plugin};

/// How hook runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Where deliveries are posted (`--webhook-path`, default `/hook`).
    pub webhook_path: String,
    /// How many accepted events may wait for a worker.
    pub queue_capacity: usize,
    /// How many payload bytes the waiting events may hold together (a delivery larger than this
    /// is still taken when nothing waits), so that hook's memory stays bounded however large
    /// the deliveries are.
    pub queue_bytes: usize,
    /// How many events are processed at once.
    pub workers: usize,
    /// How many recent delivery IDs are remembered to drop redeliveries.
    pub dedup_capacity: usize,
    /// Log actions instead of carrying them out.
    pub dry_run: bool,
    /// How long a signed delivery may wait for room when the queue is full before it is
    /// answered `503` (zero refuses at once). GitHub gives a delivery ten seconds.
    pub queue_wait: Duration,
    /// The `Retry-After` hook answers with when its queue is full.
    pub retry_after: Duration,
    /// Serve as the external plugin of this name (`prow external-plugin NAME`), speaking
    /// upstream's external-plugin protocol: the deliveries a hook forwards (its headers and the
    /// raw payload, checked with the same HMAC secret). That hook has chosen the repositories,
    /// so the named plugin runs on every delivery whatever `plugins:` says, no other plugin
    /// runs, and nothing is forwarded further.
    pub external_plugin: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            webhook_path: "/hook".to_owned(),
            queue_capacity: 1024,
            queue_bytes: 4 << 20,
            workers: 4,
            dedup_capacity: 10_000,
            dry_run: false,
            queue_wait: Duration::from_secs(2),
            retry_after: Duration::from_secs(5),
            external_plugin: None,
        }
    }
}

/// What hook needs to act.
#[derive(Clone)]
#[non_exhaustive]
pub struct Deps {
    /// GitHub.
    pub github: Arc<dyn GitHubClient>,
    /// The job store plugins create and abort ProwJobs in.
    pub store: Arc<dyn JobStore>,
    /// The bot's login.
    pub bot: String,
    /// The HMAC secrets deliveries are signed with.
    pub secrets: Arc<HmacSecrets>,
    /// The configuration in force (the process's one handle, which the config agent keeps
    /// current).
    pub config: ConfigHandle,
    /// Where plugins read in-repo configuration from; `None` reads the central jobs only.
    pub inrepo: Option<Arc<prow_jobs::inrepo::InRepoConfigCache>>,
}

impl Deps {
    /// Dependencies from their parts.
    pub fn new(
        github: Arc<dyn GitHubClient>,
        store: Arc<dyn JobStore>,
        bot: impl Into<String>,
        secrets: HmacSecrets,
        config: impl Into<ConfigHandle>,
    ) -> Self {
        Deps {
            github,
            store,
            bot: bot.into(),
            secrets: Arc::new(secrets),
            config: config.into(),
            inrepo: None,
        }
    }

    /// The same dependencies reading in-repo configuration through `cache`.
    pub fn with_inrepo(mut self, cache: Arc<prow_jobs::inrepo::InRepoConfigCache>) -> Self {
        self.inrepo = Some(cache);
        self
    }
}

/// An accepted delivery waiting for a worker.
///
/// Nothing in it may point into the request: hyper's header values and a one-chunk body are
/// slices of the connection's read buffer, so holding either would pin a whole buffer per
/// waiting event.
struct Queued {
    event: Event,
    guid: String,
    name: String,
    /// The raw delivery and the headers forwarded with it, copied only when an external plugin
    /// wants them.
    forward: Option<Forward>,
    /// Its share of [`Options::queue_bytes`], given back when a worker takes it.
    bytes: tokio::sync::OwnedSemaphorePermit,
}

/// What an external plugin receives: the payload and the headers it came with.
struct Forward {
    payload: Bytes,
    headers: Vec<(&'static str, HeaderValue)>,
}

/// The headers external plugins receive as hook did.
const FORWARDED_HEADERS: [&str; 5] = [
    "X-GitHub-Event",
    "X-GitHub-Delivery",
    "X-Hub-Signature-256",
    "content-type",
    "User-Agent",
];

impl Forward {
    fn copy(headers: &HeaderMap, body: &[u8]) -> Self {
        Forward {
            payload: Bytes::copy_from_slice(body),
            headers: FORWARDED_HEADERS
                .iter()
                .filter_map(|&name| {
                    let value = headers.get(name)?;
                    Some((name, HeaderValue::from_bytes(value.as_bytes()).ok()?))
                })
                .collect(),
        }
    }
}

/// What the workers share.
struct Shared {
    deps: Deps,
    options: Options,
    plugins: BTreeMap<&'static str, Arc<dyn Plugin>>,
    metrics: Arc<Metrics>,
    http: reqwest::Client,
    /// Plugin runs waiting out a grace period ([`plugins::Action::Recheck`]).
    rechecks: Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>,
}

/// What the HTTP handlers share: the workers' state plus the queue's sending end, so that
/// dropping the routes closes the queue and lets the workers finish.
struct Front {
    shared: Arc<Shared>,
    seen: dedup::Recent,
    queue: mpsc::Sender<Queued>,
    /// Payload bytes the waiting events may still take ([`Options::queue_bytes`] in all).
    room: Arc<tokio::sync::Semaphore>,
    /// Deliveries that may wait for room at once ([`Options::queue_capacity`]).
    waiters: tokio::sync::Semaphore,
}

impl std::ops::Deref for Front {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// A running hook: its HTTP routes and the workers behind them.
pub struct Hook {
    router: Router,
    metrics: Arc<Metrics>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    rechecks: Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook").finish_non_exhaustive()
    }
}

impl Hook {
    /// Starts the workers (inside a tokio runtime) and builds the routes: the webhook path,
    /// `/plugin-help` and `/`.
    pub fn start(options: Options, deps: Deps) -> Hook {
        Self::start_with_plugins(options, deps, plugins::builtin())
    }

    /// [`Hook::start`] with these plugins instead of the built-in ones (to add your own).
    pub fn start_with_plugins(
        options: Options,
        deps: Deps,
        mut plugins: BTreeMap<&'static str, Arc<dyn Plugin>>,
    ) -> Hook {
        if let Some(only) = &options.external_plugin {
            plugins.retain(|name, _| name == only);
            tracing::info!(component = "hook", plugin = %only, found = !plugins.is_empty(), "serving as an external plugin");
        } else {
            for (key, name) in unregistered_plugins(&deps.config.current().plugins, &plugins) {
                tracing::warn!(component = "hook", %key, plugin = %name, "plugins.yaml enables a plugin this hook does not have: its events skip it");
            }
        }
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let metrics = Arc::new(Metrics::default());
        let rechecks = Arc::default();
        let shared = Arc::new(Shared {
            plugins,
            rechecks: Arc::clone(&rechecks),
            metrics: metrics.clone(),
            http: reqwest::Client::new(),
            deps,
            options,
        });
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let workers = (0..shared.options.workers.max(1))
            .map(|_| {
                let shared = shared.clone();
                let rx = rx.clone();
                tokio::spawn(async move {
                    loop {
                        let next = rx.lock().await.recv().await;
                        let Some(queued) = next else { return };
                        process(&shared, queued).await;
                    }
                })
            })
            .collect();
        let mut router = Router::new()
            .route(
                &shared.options.webhook_path,
                post(receive).fallback(|| async { reject(&Rejection::MethodNotAllowed) }),
            )
            .route("/plugin-help", get(help::plugin_help));
        if shared.options.external_plugin.is_some() {
            // Prow's external plugins take deliveries at `/` (deployments list them as
            // `endpoint: http://needs-rebase`) and their help at `POST /help`.
            router = router.route(
                "/help",
                post(help::external_help).fallback(|| async {
                    (StatusCode::METHOD_NOT_ALLOWED, "405 Method not allowed")
                }),
            );
            if shared.options.webhook_path != "/" {
                router = router.route("/", get(|| async { StatusCode::OK }).post(receive));
            }
        } else if shared.options.webhook_path != "/" {
            router = router.route("/", get(|| async { StatusCode::OK }));
        }
        let router = router
            .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
            .with_state(Arc::new(Front {
                seen: dedup::Recent::new(shared.options.dedup_capacity),
                queue: tx,
                room: Arc::new(tokio::sync::Semaphore::new(queue_permits(
                    shared.options.queue_bytes,
                ))),
                waiters: tokio::sync::Semaphore::new(shared.options.queue_capacity.max(1)),
                shared,
            }));
        Hook {
            router,
            metrics,
            workers,
            rechecks,
        }
    }

    /// The routes, to serve or to merge into a larger app.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The counters.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Stops taking events and waits until every accepted one is processed. Call after the
    /// server stopped accepting requests (drop every clone of the router first). Re-checks
    /// still waiting out a grace period are dropped: the next event about the same issue
    /// checks again.
    pub async fn drain(self) {
        drop(self.router);
        for worker in self.workers {
            let _ = worker.await;
        }
        let mut rechecks =
            std::mem::take(&mut *self.rechecks.lock().unwrap_or_else(|e| e.into_inner()));
        rechecks.abort_all();
        while rechecks.join_next().await.is_some() {}
    }
}

fn reject(rejection: &Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, rejection.to_string()).into_response()
}

async fn receive(State(shared): State<Arc<Front>>, headers: HeaderMap, body: Bytes) -> Response {
    shared.metrics.received();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let delivery = match check_headers("POST", header, body.len()) {
        Ok(delivery) => delivery,
        Err(rejection) => {
            shared.metrics.rejected();
            tracing::info!(component = "hook", "refused a delivery: {rejection}");
            return reject(&rejection);
        }
    };
    // The body is read as JSON once, for the event and the secret to check it with.
    let parsed = verify_and_parse(
        delivery.event,
        &body,
        delivery.signature,
        &shared.deps.secrets,
    );
    let event = match parsed {
        Ok(Ok(event)) => {
            shared.metrics.event(delivery.event);
            event
        }
        Ok(Err(e)) => {
            shared.metrics.event(delivery.event);
            shared.metrics.rejected();
            tracing::warn!(
                component = "hook",
                "event-GUID" = delivery.guid,
                "event-type" = delivery.event,
                "refused a signed delivery: {e}"
            );
            return (StatusCode::BAD_REQUEST, format!("400 Bad Request: {e}")).into_response();
        }
        Err(rejection) => {
            shared.metrics.rejected();
            tracing::info!(
                component = "hook",
                "event-GUID" = delivery.guid,
                "event-type" = delivery.event,
                "refused a delivery: {rejection}"
            );
            return reject(&rejection);
        }
    };
    if !shared.seen.insert(delivery.guid) {
        shared.metrics.duplicate();
        tracing::info!(
            component = "hook",
            "event-GUID" = delivery.guid,
            "a redelivery of an event already accepted; not processed again"
        );
        return (StatusCode::OK, ACCEPTED).into_response();
    }
    let Some((bytes, slot)) = room(&shared, body.len()).await else {
        // Forget the delivery so that its redelivery is processed.
        shared.seen.remove(delivery.guid);
        return overloaded(&shared);
    };
    let external = shared.options.external_plugin.is_none()
        && event.repository().is_some_and(|repo| {
            // Only external plugins read the raw delivery; everyone else has the parsed event.
            let config = shared.deps.config.current();
            !config
                .plugins
                .external_plugins_for_event(repo.org(), &repo.name, delivery.event)
                .is_empty()
        });
    let queued = Queued {
        event,
        guid: delivery.guid.to_owned(),
        name: delivery.event.to_owned(),
        forward: external.then(|| Forward::copy(&headers, &body)),
        bytes,
    };
    slot.send(queued);
    shared.metrics.accepted();
    (StatusCode::OK, ACCEPTED).into_response()
}

/// The semaphore permits a byte budget is counted in: one per KiB, so that the largest
/// budget fits tokio's permit count.
fn queue_permits(bytes: usize) -> usize {
    bytes
        .div_ceil(1024)
        .clamp(1, tokio::sync::Semaphore::MAX_PERMITS)
}

/// Room in the queue for a delivery of `size` bytes: its share of the byte budget and a slot,
/// taken at once when there is room, else waited for up to [`Options::queue_wait`] by at most
/// [`Options::queue_capacity`] deliveries at a time. A delivery larger than the whole budget
/// takes all of it, so it is queued only when nothing else waits. `None`: answer 503.
async fn room(
    shared: &Front,
    size: usize,
) -> Option<(tokio::sync::OwnedSemaphorePermit, mpsc::Permit<'_, Queued>)> {
    let permits = queue_permits(size).min(queue_permits(shared.options.queue_bytes));
    let permits = u32::try_from(permits).unwrap_or(u32::MAX);
    if let Ok(bytes) = Arc::clone(&shared.room).try_acquire_many_owned(permits)
        && let Ok(slot) = shared.queue.try_reserve()
    {
        return Some((bytes, slot));
    }
    if shared.options.queue_wait.is_zero() {
        return None;
    }
    let _waiter = shared.waiters.try_acquire().ok()?;
    let _waiting = shared.metrics.wait();
    let wait = async {
        let bytes = Arc::clone(&shared.room)
            .acquire_many_owned(permits)
            .await
            .ok()?;
        let slot = shared.queue.reserve().await.ok()?;
        Some((bytes, slot))
    };
    tokio::time::timeout(shared.options.queue_wait, wait)
        .await
        .ok()
        .flatten()
}

/// 503 with `Retry-After`: the queue is full.
fn overloaded(shared: &Front) -> Response {
    shared.metrics.overloaded();
    tracing::warn!(
        component = "hook",
        "queue full: answered 503, the delivery is to be sent again"
    );
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        "503 Service Unavailable: hook is busy, deliver again later",
    )
        .into_response();
    let seconds = shared.options.retry_after.as_secs().max(1).to_string();
    if let Ok(value) = HeaderValue::from_str(&seconds) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Processes one accepted delivery inside a span carrying Prow's event fields, so that every
/// line logged meanwhile names the delivery, its repository and pull request.
async fn process(shared: &Arc<Shared>, queued: Queued) {
    let span = tracing::info_span!(
        "event",
        component = "hook",
        "event-GUID" = %queued.guid,
        "event-type" = %queued.name,
        org = tracing::field::Empty,
        repo = tracing::field::Empty,
        pr = tracing::field::Empty,
    );
    if let Some(repo) = queued.event.repository() {
        span.record("org", repo.org());
        span.record("repo", repo.name.as_str());
    }
    process_event(shared, queued).instrument(span).await;
}

/// The plugins `config` enables (under `plugins:`) that `plugins` does not hold, as
/// `(org or org/repo, name)`: hook would skip them. Hook logs them when it starts.
pub fn unregistered_plugins(
    config: &prow_config::plugins::PluginConfig,
    plugins: &BTreeMap<&'static str, Arc<dyn Plugin>>,
) -> Vec<(String, String)> {
    config
        .plugins
        .iter()
        .flat_map(|(key, entry)| entry.plugins.iter().map(move |name| (key, name)))
        .filter(|(_, name)| !plugins.contains_key(name.as_str()))
        .map(|(key, name)| (key.clone(), name.clone()))
        .collect()
}

/// Runs every plugin enabled for the event's repository and carries out their actions, then
/// forwards the delivery to the external plugins that want it.
async fn process_event(shared: &Arc<Shared>, queued: Queued) {
    drop(queued.bytes);
    let config = shared.deps.config.current();
    let Some(repo) = queued.event.repository() else {
        shared.metrics.processed();
        return;
    };
    let (org, name) = (repo.org().to_owned(), repo.name.clone());
    let view = EventView::of(&queued.event);
    if let Some(comment) = &view.comment {
        tracing::Span::current().record("pr", comment.number);
    }
    tracing::info!("processing {} event", queued.name);
    let names: Vec<&str> = if shared.options.external_plugin.is_some() {
        shared.plugins.keys().copied().collect()
    } else {
        config.plugins.plugins_for(&org, &name)
    };
    for plugin_name in names {
        let Some((&plugin_name, plugin)) = shared.plugins.get_key_value(plugin_name) else {
            tracing::debug!(plugin = plugin_name, "skipped: no such plugin in this hook");
            continue;
        };
        run_plugin(
            shared,
            &config,
            (plugin_name, plugin.as_ref()),
            &queued.event,
            &view,
            &queued.guid,
            false,
        )
        .await;
    }
    for external in config
        .plugins
        .external_plugins_for_event(&org, &name, &queued.name)
    {
        let Some(forward) = &queued.forward else {
            break;
        };
        let mut request = shared
            .http
            .post(&external.endpoint)
            .body(forward.payload.clone());
        for (name, value) in &forward.headers {
            request = request.header(*name, value.clone());
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                shared
                    .metrics
                    .plugin_external(&external.name, PluginOutcome::Ok);
            }
            Ok(response) => {
                tracing::warn!(target: "hook", plugin = %external.name, "external plugin answered {}", response.status());
                shared
                    .metrics
                    .plugin_external(&external.name, PluginOutcome::Error);
            }
            Err(e) => {
                tracing::warn!(target: "hook", plugin = %external.name, "external plugin: {e}");
                shared
                    .metrics
                    .plugin_external(&external.name, PluginOutcome::Error);
            }
        }
    }
    shared.metrics.processed();
}

/// What every plugin reads of an event's comment, worked out once per event.
struct EventView {
    comment: Option<prow_github::events::GenericCommentEvent>,
    commands: String,
}

impl EventView {
    fn of(event: &Event) -> Self {
        let comment = event.generic_comment();
        let commands = comment
            .as_ref()
            .map(|c| plugins::commands::command_lines(&c.body))
            .unwrap_or_default();
        EventView { comment, commands }
    }
}

/// Runs one plugin on `event` with its panics contained, carries out its actions and
/// schedules the re-checks it asks for.
async fn run_plugin(
    shared: &Arc<Shared>,
    config: &ConfigSnapshot,
    (plugin_name, plugin): (&'static str, &dyn Plugin),
    event: &Event,
    view: &EventView,
    delivery: &str,
    recheck: bool,
) {
    let ctx = Context::new(
        shared.deps.github.as_ref(),
        &config.plugins,
        &config.config,
        shared.deps.store.as_ref(),
        &shared.deps.bot,
        delivery,
    )
    .with_comment(view.comment.as_ref(), &view.commands)
    .with_inrepo(shared.deps.inrepo.as_deref())
    .as_recheck(recheck);
    let handled = std::panic::AssertUnwindSafe(plugin.handle(&ctx, event))
        .catch_unwind()
        .await;
    let actions = match handled {
        Ok(Ok(actions)) => actions,
        Ok(Err(e)) => {
            let e = prow_jobs::controller::error_chain(&e);
            tracing::error!(plugin = plugin_name, error = %e, "plugin {plugin_name} failed: {e}");
            shared.metrics.plugin(plugin_name, PluginOutcome::Error);
            return;
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(
                plugin = plugin_name,
                "plugin {plugin_name} panicked: {message}"
            );
            shared.metrics.plugin(plugin_name, PluginOutcome::Panic);
            return;
        }
    };
    let mut failed = false;
    let mut store_failed = false;
    let mut next = 0;
    while next < actions.len() {
        let action = &actions[next];
        if let plugins::Action::Recheck {
            after,
            plugin,
            event: again,
        } = action
        {
            schedule_recheck(shared, *after, plugin, again, delivery);
            next += 1;
            continue;
        }
        if shared.options.dry_run {
            tracing::info!(plugin = plugin_name, "dry run: would {}", action.describe());
            next += 1;
            continue;
        }
        // Consecutive job creations (trigger's jobs for one pull request) are stored in one
        // batch.
        let creations = actions[next..]
            .iter()
            .take_while(|a| matches!(a, plugins::Action::CreateProwJob(_)))
            .count();
        let errors = if creations > 1 {
            create_all_with_retries(shared, &actions[next..next + creations]).await
        } else {
            execute_with_retries(shared, action, 1)
                .await
                .err()
                .into_iter()
                .collect()
        };
        next += creations.max(1);
        for e in errors {
            let line = prow_jobs::controller::error_chain(&e);
            tracing::error!(plugin = plugin_name, error = %line, "plugin {plugin_name}: {line}");
            store_failed |= matches!(e, plugins::ActionError::Store { .. });
            failed = true;
        }
    }
    if store_failed {
        // The delivery was accepted, and what it asked for could not be stored.
        shared.metrics.dropped("store");
    }
    let outcome = if failed {
        PluginOutcome::Error
    } else {
        PluginOutcome::Ok
    };
    shared.metrics.plugin(plugin_name, outcome);
}

/// How often a store write an action needs is tried before the delivery counts as dropped.
const STORE_ATTEMPTS: u32 = 5;

/// The wait before the first retry of a failed store write; it doubles with each retry.
const STORE_RETRY_BASE: Duration = Duration::from_millis(100);

/// Carries out `action`, retrying store writes that failed for a reason that may pass (a busy
/// or full store) with exponential backoff. A job created by a write that reported failure but
/// landed is found on the retry (`AlreadyExists`) and counts as done.
async fn execute_with_retries(
    shared: &Shared,
    action: &plugins::Action,
    first_attempt: u32,
) -> Result<(), plugins::ActionError> {
    let mut attempt = first_attempt;
    loop {
        let result = plugins::execute(
            action,
            shared.deps.github.as_ref(),
            shared.deps.store.as_ref(),
        )
        .await;
        let Err(plugins::ActionError::Store { source, .. }) = &result else {
            return result;
        };
        if attempt > 1 && matches!(source, StoreError::AlreadyExists { .. }) {
            return Ok(());
        }
        if attempt >= STORE_ATTEMPTS || !source.is_transient() {
            return result;
        }
        let wait = STORE_RETRY_BASE * 2u32.pow(attempt - 1);
        tracing::warn!(error = %source, "{}: store failed, retrying in {wait:?}", action.describe());
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// Stores the jobs of `creations` (each a [`plugins::Action::CreateProwJob`]) in one batch; a
/// job whose write failed for a reason that may pass is retried alone, as
/// [`execute_with_retries`] retries, after the first wait. The errors of the jobs not stored.
async fn create_all_with_retries(
    shared: &Shared,
    creations: &[plugins::Action],
) -> Vec<plugins::ActionError> {
    let writes = creations
        .iter()
        .filter_map(|a| match a {
            plugins::Action::CreateProwJob(job) => Some(Write::Create((**job).clone())),
            _ => None,
        })
        .collect();
    let results = shared.deps.store.write_all(writes).await;
    let mut errors = Vec::new();
    for (action, result) in creations.iter().zip(results) {
        match result {
            Ok(_) => {}
            Err(source) if source.is_transient() => {
                tracing::warn!(error = %source, "{}: store failed, retrying in {STORE_RETRY_BASE:?}", action.describe());
                tokio::time::sleep(STORE_RETRY_BASE).await;
                if let Err(e) = execute_with_retries(shared, action, 2).await {
                    errors.push(e);
                }
            }
            Err(source) => errors.push(plugins::ActionError::Store {
                action: action.describe(),
                source,
            }),
        }
    }
    errors
}

/// Runs `plugin` on `event` again after `after` in a task of its own, with the configuration
/// of that moment, so that a grace period holds no worker.
fn schedule_recheck(
    shared: &Arc<Shared>,
    after: Duration,
    plugin: &str,
    event: &Event,
    delivery: &str,
) {
    let Some((&name, _)) = shared.plugins.get_key_value(plugin) else {
        tracing::warn!(target: "hook", plugin, "re-check asked for an unknown plugin");
        return;
    };
    let task_shared = Arc::clone(shared);
    let event = event.clone();
    let delivery = delivery.to_owned();
    let mut rechecks = shared.rechecks.lock().unwrap_or_else(|e| e.into_inner());
    while rechecks.try_join_next().is_some() {}
    rechecks.spawn(async move {
        tokio::time::sleep(after).await;
        let shared = task_shared;
        let config = shared.deps.config.current();
        let Some(plugin) = shared.plugins.get(name).cloned() else {
            return;
        };
        run_plugin(
            &shared,
            &config,
            (name, plugin.as_ref()),
            &event,
            &EventView::of(&event),
            &delivery,
            true,
        )
        .await;
    });
}
