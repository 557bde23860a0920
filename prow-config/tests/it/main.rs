//! Integration tests of prow-config.

mod corpus;
mod errors;
