//! Integration tests of prow-config.

mod committed;
mod corpus;
mod errors;
mod plugins;
mod triggers;
