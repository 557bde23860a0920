//! Integration tests of prow-jobs: decoration against upstream goldens, env, labels, options.

mod decorate;
mod env;
mod goldens;
mod labels;
mod support;
