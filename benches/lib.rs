//! Benchmarks of prow-rs; run with `cargo bench -p prow-benches`.
