//! Integration tests of prow-jobs: decoration against upstream goldens, env, labels, options.

mod goldens;
mod support;
