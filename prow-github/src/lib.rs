//! prow-github: the part of GitHub that Prow needs.
//!
//! Owns the GitHub client trait (pull requests, statuses, labels, comments, merges, search, ...),
//! its implementations (octocrab with a token or GitHub App, a rate-limit-aware caching layer,
//! an in-memory fake), webhook payload types and HMAC signature checks.
//!
//! Must never know about: configuration files, ProwJobs' execution, Kubernetes.
//!
//! Today: the [`client::GitHubClient`] trait, implemented over octocrab ([`octo`]: token or
//! GitHub App, ETag cache, coalesced GETs, rate-limit tracking with [`throttle`],
//! `Retry-After`; [`app`] for a GitHub App installed in many organisations, with [`query`]
//! splitting searches per organisation) and by an in-memory fake (`fake`, behind the
//! `test-util` feature);
//! [`events`] (the webhook payloads Prow handles), [`hmac`] signing and verification,
//! [`webhook`] request validation in Prow's order and wording, and [`phony`] for sending signed
//! webhooks.

pub mod app;
pub mod client;
mod error;
pub mod etag_cache;
pub mod events;
#[cfg(feature = "test-util")]
pub mod fake;
#[cfg(feature = "test-util")]
pub mod fake_seed;
pub mod hmac;
pub mod octo;
pub mod phony;
mod protection;
pub mod query;
pub mod throttle;
pub mod types;
pub mod webhook;

pub use client::GitHubClient;
pub use error::Error;
pub use events::{Event, GenericCommentEvent};
pub use hmac::{HmacSecrets, sign, validate_payload};
pub use webhook::{
    Delivery, DeliveryHeaders, Rejection, check_headers, validate_webhook, verify_and_parse,
};
