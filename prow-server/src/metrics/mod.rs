//! Prometheus metrics: one registry, built at scrape time from what each component counts,
//! served at `/metrics` in the OpenMetrics text format (which Prometheus reads).
//!
//! - [`Exporter`] gathers the sources (job store, hook's counters, GitHub clients, tide's
//!   figures, the config agent) and renders them; [`Exporter::router`] serves them.
//! - [`TideFigures`] is the plain record tide fills and metrics read.
//! - [`parse_text`] reads the text format back (for tests and for tools that scrape).
//!
//! Family names follow Prow's where Prow has one (`prowjobs`, `prow_webhook_counter`,
//! `github_token_usage`, `pooledprs`, ...). The client writes counters with OpenMetrics'
//! `_total` suffix, so Prow's counter `prow_webhook_counter` is `prow_webhook_counter_total`
//! here.

mod export;
mod figures;
mod text;

pub use export::{CONTENT_TYPE, Exporter};
pub use figures::{PoolFigures, TideFigures, TideFiguresCell};
pub use text::{ParseError, Sample, Samples, parse_text};
