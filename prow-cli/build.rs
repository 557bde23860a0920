//! Marks the tests that read the shared corpus as ignored when it is absent outside CI.

include!("../build-support/corpus.rs");

fn main() {
    emit_corpus_cfg();
}
