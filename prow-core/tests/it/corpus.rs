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

/// The shared corpus (`PROW_CORPUS`, else `../shared/corpus` beside the repository), or `None`
/// with a notice when it is absent.
pub(crate) fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("PROW_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "notice: corpus not found at {}; set PROW_CORPUS to run the real-world tests",
            dir.display()
        );
        None
    }
}
