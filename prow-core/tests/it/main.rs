//! Integration tests of prow-core: ProwJob fixtures, the CRD, and property tests.

mod corpus;
mod crd;
mod properties;
mod prowjob;
mod tide_pool;
mod tide_queue_ops;
mod tide_safety;
mod tide_status;
mod tide_strategy;
