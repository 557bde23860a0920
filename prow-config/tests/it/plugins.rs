//! plugins.yaml: corpus files load, forms, merging, validation listings, and look-ups.

use std::path::{Path, PathBuf};

use prow_config::plugins::{PluginConfig, PluginLoadOptions, load_plugins};
use prow_config::{Error, Finding};

/// The shared corpus, or `None` (with a notice) when it is absent.
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PROW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("notice: corpus not found at {}; skipping", dir.display());
        None
    }
}

/// Loads with checkconfig's settings; errors become a panic naming every finding.
fn load_ok(options: &PluginLoadOptions) -> (PluginConfig, Vec<Finding>) {
    match load_plugins(options) {
        Ok(loaded) => loaded,
        Err(Error::Invalid { errors }) => {
            let listing: Vec<_> = errors.iter().map(ToString::to_string).collect();
            panic!("{}: {} errors:\n{}", options.path.display(), errors.len(), listing.join("\n"));
        }
        Err(e) => panic!("{}: {e}", options.path.display()),
    }
}

#[test]
fn explore() {
    let Some(root) = corpus() else { return };
    for f in [
        "k8s-test-infra/config/prow/plugins.yaml",
        "kyma-project-test-infra/prow/plugins.yaml",
        "jetstack-testing/config/plugins.yaml",
        "knative-infra/prow/plugins.yaml",
        "prow-testdata/test/integration/config/prow/plugins.yaml",
        "prow-testdata/pkg/plugins/plugin-config-documented.yaml",
    ] {
        let r = load_plugins(&PluginLoadOptions::new(root.join(f)));
        match r {
            Ok((c, w)) => { eprintln!("OK {f}: {} keys", c.plugins.len()); for x in w { eprintln!("  W {x}"); } }
            Err(Error::Invalid { errors }) => { eprintln!("ERR {f}"); for x in errors { eprintln!("  E {x}"); } }
            Err(e) => eprintln!("IO {f} {e}"),
        }
    }
}
