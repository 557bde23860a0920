//! Integration tests of prow-config.

mod committed;
mod corpus;
mod errors;
mod fuzz;
mod matching;
mod orgrepo;
mod plugins;
mod schema;
mod triggers;
