//! Integration tests of prow-config.

mod committed;
mod corpus;
mod errors;
mod matching;
mod schema;
mod triggers;
mod warnings;
