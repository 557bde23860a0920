//! The exporter: gathers every source at scrape time, builds one registry and encodes it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::fmt::Write as _;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelValue, EncodeMetric, LabelValueEncoder, MetricEncoder,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use prow_core::ProwJob;
use prow_github::client::{ApiUsage, GitHubClient};
use prow_jobs::store::JobStore;

use super::figures::{TideFigures, TideFiguresCell};
use crate::config_agent::{ConfigAgent, ReloadStatus};
use crate::hook;
use prow_jobs::controller::{ControllerFigures, ControllerMetrics};

/// The content type `/metrics` answers with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The label Prow puts on retested jobs.
const RETEST_LABEL: &str = "prow.k8s.io/retest";

type Labels = Vec<(String, Value)>;

/// The sources metrics are read from; each one is optional. Clones share the sources.
#[derive(Clone, Default)]
pub struct Exporter {
    store: Option<Arc<dyn JobStore>>,
    hook: Option<Arc<hook::Metrics>>,
    github: Vec<(String, Arc<dyn GitHubClient>)>,
    tide: Option<TideFiguresCell>,
    config: Option<Arc<ConfigAgent>>,
    controllers: Option<ControllerMetrics>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

/// Everything one scrape read, before encoding.
#[derive(Debug, Default)]
struct Inputs {
    jobs: Option<Vec<Arc<ProwJob>>>,
    hook: Option<hook::Snapshot>,
    github: Vec<(String, Option<ApiUsage>)>,
    tide: Option<TideFigures>,
    config: Option<ReloadStatus>,
    controllers: BTreeMap<&'static str, ControllerFigures>,
}

impl Exporter {
    /// An exporter with no sources.
    pub fn new() -> Self {
        Exporter::default()
    }

    /// Reads ProwJobs (`prowjobs`, `plank_queue_depth`) from `store`.
    pub fn with_store(mut self, store: Arc<dyn JobStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Reads hook's counters (`prow_webhook_counter`, deliveries, plugin outcomes).
    pub fn with_hook(mut self, metrics: Arc<hook::Metrics>) -> Self {
        self.hook = Some(metrics);
        self
    }

    /// Reads a GitHub client's usage, labelled `token_hash=name` (Prow labels by a hash of
    /// the token; any name that tells tokens apart without revealing them will do).
    pub fn with_github(mut self, name: &str, client: Arc<dyn GitHubClient>) -> Self {
        self.github.push((name.to_owned(), client));
        self
    }

    /// Reads tide's figures.
    pub fn with_tide(mut self, figures: TideFiguresCell) -> Self {
        self.tide = Some(figures);
        self
    }

    /// Reads the config agent's record of reloads.
    pub fn with_config_agent(mut self, agent: Arc<ConfigAgent>) -> Self {
        self.config = Some(agent);
        self
    }

    /// Reads the controller driver's counters of every controller's passes.
    pub fn with_controllers(mut self, metrics: ControllerMetrics) -> Self {
        self.controllers = Some(metrics);
        self
    }

    /// Reads every source now and renders the metrics as OpenMetrics text. A store that
    /// cannot be listed is logged and its families left empty.
    pub async fn render(&self) -> String {
        let jobs = match &self.store {
            None => None,
            Some(store) => match store.list_shared(&Default::default()).await {
                Ok(jobs) => Some(jobs),
                Err(e) => {
                    tracing::warn!(target: "metrics", "list prowjobs: {e}");
                    None
                }
            },
        };
        let inputs = Inputs {
            jobs,
            hook: self.hook.as_ref().map(|h| h.snapshot()),
            github: self
                .github
                .iter()
                .map(|(name, client)| (name.clone(), client.api_usage()))
                .collect(),
            tide: self.tide.as_ref().map(TideFiguresCell::get),
            config: self.config.as_ref().map(|c| c.status()),
            controllers: self
                .controllers
                .as_ref()
                .map(ControllerMetrics::snapshot)
                .unwrap_or_default(),
        };
        encode(&inputs)
    }

    /// `GET /metrics`.
    pub fn router(self) -> Router {
        let exporter = Arc::new(self);
        Router::new().route(
            "/metrics",
            get(move || {
                let exporter = exporter.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, CONTENT_TYPE)],
                        exporter.render().await,
                    )
                        .into_response()
                }
            }),
        )
    }
}

/// A label value, escaped as the text format wants (the client writes values verbatim).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Value(String);

impl EncodeLabelValue for Value {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => encoder.write_str("\\\\")?,
                '"' => encoder.write_str("\\\"")?,
                '\n' => encoder.write_str("\\n")?,
                c => encoder.write_char(c)?,
            }
        }
        Ok(())
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value((*v).to_owned())))
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

/// One family with its rows, in label order so that scrapes read the same every time.
#[derive(Debug)]
struct Rows {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    rows: BTreeMap<Labels, u64>,
}

/// The families of one scrape, encoded in the order they were added.
#[derive(Debug, Default)]
struct Families(Vec<Rows>);

impl Families {
    fn add(
        &mut self,
        kind: Kind,
        name: &'static str,
        help: &'static str,
        rows: impl IntoIterator<Item = (Labels, u64)>,
    ) {
        let mut sorted: BTreeMap<Labels, u64> = BTreeMap::new();
        for (labels, value) in rows {
            *sorted.entry(labels).or_default() += value;
        }
        self.0.push(Rows {
            name,
            help,
            kind,
            rows: sorted,
        });
    }
}

fn gauges(
    families: &mut Families,
    name: &'static str,
    help: &'static str,
    rows: impl IntoIterator<Item = (Labels, u64)>,
) {
    families.add(Kind::Gauge, name, help, rows);
}

/// Counters: the encoder writes their samples with `_total`.
fn counters(
    families: &mut Families,
    name: &'static str,
    help: &'static str,
    rows: impl IntoIterator<Item = (Labels, u64)>,
) {
    families.add(Kind::Counter, name, help, rows);
}

fn encode_value(kind: Kind, value: u64, encoder: MetricEncoder<'_>) -> std::fmt::Result {
    match kind {
        Kind::Counter => ConstCounter::new(value).encode(encoder),
        Kind::Gauge => ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)).encode(encoder),
    }
}

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        for family in &self.0 {
            let kind = match family.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
            };
            let mut metric = encoder.encode_descriptor(family.name, family.help, None, kind)?;
            match family.rows.first_key_value() {
                // An unlabelled sample is written without braces.
                Some((labels, value)) if labels.is_empty() && family.rows.len() == 1 => {
                    encode_value(family.kind, *value, metric)?;
                }
                _ => {
                    for (labels, value) in &family.rows {
                        encode_value(family.kind, *value, metric.encode_family(labels)?)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The metrics of one scrape as text.
fn encode(inputs: &Inputs) -> String {
    let mut families = Families::default();
    if let Some(jobs) = &inputs.jobs {
        register_jobs(&mut families, jobs);
    }
    if let Some(hook) = &inputs.hook {
        register_hook(&mut families, hook);
    }
    if !inputs.github.is_empty() {
        register_github(&mut families, &inputs.github);
    }
    if let Some(tide) = &inputs.tide {
        register_tide(&mut families, tide);
    }
    if let Some(config) = &inputs.config {
        counters(
            &mut families,
            "prow_config_reloads",
            "Configuration changes found on disk, by outcome (loaded or rejected).",
            [
                (labels(&[("outcome", "success")]), config.reloads),
                (labels(&[("outcome", "failure")]), config.failures),
            ],
        );
        gauges(
            &mut families,
            "prow_config_last_reload_successful",
            "Whether the configuration on disk loaded (1) or its errors keep the previous one serving (0).",
            [(Labels::new(), u64::from(config.errors.is_empty()))],
        );
        gauges(
            &mut families,
            "prow_config_errors",
            "Errors in the configuration on disk (0 when it loaded).",
            [(Labels::new(), config.errors.len() as u64)],
        );
    }
    if !inputs.controllers.is_empty() {
        register_controllers(&mut families, &inputs.controllers);
    }
    let mut registry = Registry::default();
    registry.register_collector(Box::new(families));
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &registry) {
        tracing::warn!(target: "metrics", "encode metrics: {e}");
    }
    text
}

fn register_jobs(families: &mut Families, jobs: &[Arc<ProwJob>]) {
    let mut counts: BTreeMap<Labels, u64> = BTreeMap::new();
    let mut queued = 0;
    for job in jobs {
        let state = job.state().unwrap_or_default();
        if state == prow_core::ProwJobState::Triggered {
            queued += 1;
        }
        let refs = job.spec.main_refs();
        let retest = job
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(RETEST_LABEL))
            .is_some_and(|v| v == "true");
        let row = labels(&[
            (
                "job_namespace",
                job.metadata.namespace.as_deref().unwrap_or_default(),
            ),
            ("job_name", &job.spec.job),
            ("type", job.spec.job_type.as_str()),
            ("state", state.as_str()),
            ("org", refs.map(|r| r.org.as_str()).unwrap_or_default()),
            ("repo", refs.map(|r| r.repo.as_str()).unwrap_or_default()),
            (
                "base_ref",
                refs.map(|r| r.base_ref.as_str()).unwrap_or_default(),
            ),
            ("cluster", &job.spec.cluster),
            ("retest", if retest { "true" } else { "false" }),
        ]);
        *counts.entry(row).or_default() += 1;
    }
    gauges(
        families,
        "prowjobs",
        "Number of prowjobs in the system.",
        counts,
    );
    gauges(
        families,
        "plank_queue_depth",
        "ProwJobs triggered and waiting for plank to start them.",
        [(Labels::new(), queued)],
    );
}

fn register_hook(families: &mut Families, hook: &hook::Snapshot) {
    counters(
        families,
        "prow_webhook_counter",
        "A counter of the webhooks made to prow.",
        hook.events
            .iter()
            .map(|(event, n)| (labels(&[("event_type", event)]), *n)),
    );
    counters(
        families,
        "prow_webhook_deliveries",
        "Webhook requests by what hook did with them.",
        [
            ("received", hook.received),
            ("rejected", hook.rejected),
            ("accepted", hook.accepted),
            ("duplicate", hook.duplicates),
            ("overloaded", hook.overloaded),
            ("waited", hook.waited),
            ("processed", hook.processed),
        ]
        .map(|(outcome, n)| (labels(&[("outcome", outcome)]), n)),
    );
    let mut dropped = hook.dropped.clone();
    dropped.entry("store").or_default();
    counters(
        families,
        "prow_webhook_dropped",
        "Accepted webhooks whose work could not be done, by reason (store: a job could not be written even after retries).",
        dropped
            .iter()
            .map(|(reason, n)| (labels(&[("reason", reason)]), *n)),
    );
    counters(
        families,
        "prow_plugin_handled",
        "Plugin runs by plugin and outcome (ok, error, panic).",
        hook.plugins.iter().map(|((plugin, outcome), n)| {
            (
                labels(&[("plugin", plugin), ("outcome", outcome.as_str())]),
                *n,
            )
        }),
    );
}

fn register_controllers(
    families: &mut Families,
    controllers: &BTreeMap<&'static str, ControllerFigures>,
) {
    counters(
        families,
        "prow_controller_passes",
        "Controller passes by controller and outcome (ok, errors: finished with problems, failed).",
        controllers.iter().flat_map(|(name, f)| {
            [
                ("ok", f.passes_ok),
                ("errors", f.passes_with_errors),
                ("failed", f.passes_failed),
            ]
            .map(|(outcome, n)| (labels(&[("controller", name), ("outcome", outcome)]), n))
        }),
    );
    counters(
        families,
        "prow_controller_errors",
        "Problems reported by controller passes (each retried by a later pass).",
        controllers
            .iter()
            .map(|(name, f)| (labels(&[("controller", name)]), f.errors)),
    );
}

fn register_github(families: &mut Families, github: &[(String, Option<ApiUsage>)]) {
    let usage = || {
        github
            .iter()
            .filter_map(|(name, usage)| usage.map(|u| (name.as_str(), u)))
    };
    counters(
        families,
        "github_requests",
        "Requests sent to GitHub, by token.",
        usage().map(|(name, u)| (labels(&[("token_hash", name)]), u.requests)),
    );
    counters(
        families,
        "github_cache_hits",
        "Requests GitHub answered 304 Not Modified (served from the ETag cache), by token.",
        usage().map(|(name, u)| (labels(&[("token_hash", name)]), u.cache_hits)),
    );
    let limited = || usage().filter_map(|(name, u)| u.rate_limit.map(|r| (name, r)));
    let limit_labels = |name: &str| {
        labels(&[
            ("token_hash", name),
            ("api_version", "v3"),
            ("ratelimit_resource", "core"),
        ])
    };
    gauges(
        families,
        "github_token_usage",
        "How many GitHub token requests are remaining for the current hour.",
        limited().map(|(name, r)| (limit_labels(name), r.remaining)),
    );
    gauges(
        families,
        "github_token_reset",
        "Last reported GitHub token reset time.",
        limited().map(|(name, r)| (limit_labels(name), r.reset)),
    );
}

fn register_tide(families: &mut Families, tide: &TideFigures) {
    let pool = |p: &super::figures::PoolFigures| {
        labels(&[("org", &p.org), ("repo", &p.repo), ("branch", &p.branch)])
    };
    let pools = || tide.pools.values();
    gauges(
        families,
        "pooledprs",
        "Number of PRs in each Tide pool.",
        pools().map(|p| (pool(p), p.prs)),
    );
    counters(
        families,
        "tide_merges",
        "Merges tide did, by pool (a batch merge counts once).",
        pools().map(|p| (pool(p), p.merges)),
    );
    counters(
        families,
        "tide_merged_prs",
        "PRs tide merged, by pool.",
        pools().map(|p| (pool(p), p.merged_prs)),
    );
    counters(
        families,
        "tide_batches",
        "Batches tide finished, by pool and outcome.",
        pools().flat_map(|p| {
            p.batches.iter().map(move |(outcome, n)| {
                let mut row = pool(p);
                row.push(("outcome".to_owned(), Value(outcome.clone())));
                (row, *n)
            })
        }),
    );
    counters(
        families,
        "tidepoolerrors",
        "Count of Tide pool sync errors.",
        pools().map(|p| (pool(p), p.errors)),
    );
    counters(
        families,
        "tidesyncheartbeat",
        "Count of Tide syncs per controller.",
        [(labels(&[("controller", "sync")]), tide.syncs)],
    );
}
