//! prow-cli: Prow's command-line tools, each a page long over the library crates.
//!
//! Owns argument parsing with Prow's flag names, exit codes, terminal output and progress. The
//! only crate that prints or uses `anyhow`.
//!
//! Must never know about: logic another crate could reuse. Anything more than parsing flags,
//! calling a library function and printing its result belongs in a library crate.

use std::io::Read;
use std::path::Path;

use anyhow::Context;

/// Reads a file, or standard input when `path` is `-`.
pub fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("failed to read standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
    }
}
