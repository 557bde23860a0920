//! Locating test data: committed fixtures and the shared real-world corpus.

use std::path::{Path, PathBuf};

/// A committed fixture under `prow-core/tests/data`.
pub(crate) fn fixture(relative: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read fixture {}: {e}", path.display()));
    (path, text)
}

include!("../../../build-support/corpus.rs");
