//! Examples of embedding prow-rs: see the `examples` targets and the configuration under
//! `examples/config/`.
//!
//! | example | shows |
//! |---|---|
//! | `prowjob` | build a ProwJob in code and round-trip it through YAML |
//! | `validate_config` | validate a configuration directory and print every problem |
//! | `decide_triggers` | which presubmits a change (branch, changed files) starts |
//! | `decorate_job` | a configured presubmit as a ProwJob, then as its decorated Pod |
//! | `webhook_app` | hook's routes with a plugin of your own inside your own axum app |
//!
//! Run one with `cargo run -p prow-examples --example NAME`. Each example but `prowjob` keeps
//! its work in a function that `tests/it/main.rs` compiles in (`#[path]` modules) and calls,
//! so `cargo test --workspace` runs them all on the repository's example files.
