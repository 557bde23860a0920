//! Integration tests of prow-config.

mod committed;
mod corpus;
mod errors;
mod fuzz;
mod goregex;
mod inrepo;
mod matching;
mod orgrepo;
mod owners;
mod plugins;
mod scenarios;
mod schema;
mod synthetic;
mod tide_ext;
mod triggers;
mod warnings;
