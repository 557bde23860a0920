//! prow-server: Prow's long-running components as one process.
//!
//! Owns hook (the webhook endpoint, running prow-plugins' plugins), the tide controller, deck
//! (web UI and JSON API), Prometheus metrics, health endpoints and graceful shutdown, wired
//! over prow-jobs' store and runners.
//!
//! Must never know about: command-line parsing, exit codes, terminal output.
//!
//! Today: [`hook`], the webhook server over the plugins of `prow-plugins`, [`config_agent`] (hot reload of the configuration files) and
//! [`metrics`] (`/metrics` in the Prometheus text format).

pub mod config_agent;
pub mod deck;
pub mod hook;
pub mod metrics;
pub mod process;
pub mod serve;
pub mod statusreconciler;
pub mod tide;
