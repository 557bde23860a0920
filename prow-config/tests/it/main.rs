//! Integration tests of prow-config.

mod committed;
mod corpus;
mod errors;
mod inrepo;
mod scenarios;
mod triggers;
