//! Examples of embedding prow-rs: see the `examples` targets and the configuration under
//! `examples/config/`.
