//! Every deployment in the shared corpus loads without errors, with the job counts it lists.

use std::time::Instant;

use prow_config::{LoadOptions, load};

include!("../../../build-support/corpus.rs");

/// Loads `config` and `jobs` under the corpus and compares the job counts.
fn check(config: &str, jobs: Option<&str>, expected: (usize, usize, usize)) {
    let root = corpus();
    let options = LoadOptions::new(root.join(config), jobs.map(|j| root.join(j)));
    let start = Instant::now();
    let loaded = match load(&options) {
        Ok(loaded) => loaded,
        Err(prow_config::Error::Invalid { errors }) => {
            let listing: Vec<_> = errors.iter().map(ToString::to_string).collect();
            panic!("{config}: {} errors:\n{}", errors.len(), listing.join("\n"));
        }
        Err(e) => panic!("{config}: {e}"),
    };
    eprintln!(
        "{config}: {:?} in {:?}, {} warnings",
        loaded.jobs.counts(),
        start.elapsed(),
        loaded.warnings.len()
    );
    assert_eq!(loaded.jobs.counts(), expected, "{config}");
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn k8s_test_infra() {
    check(
        "k8s-test-infra/config/prow/config.yaml",
        Some("k8s-test-infra/config/jobs"),
        (2261, 253, 1335),
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn knative_infra() {
    check(
        "knative-infra/prow/config.yaml",
        Some("knative-infra/prow/jobs"),
        (323, 6, 220),
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn kyma_project_test_infra() {
    check(
        "kyma-project-test-infra/prow/config.yaml",
        Some("kyma-project-test-infra/prow/jobs"),
        (257, 142, 24),
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn jetstack_testing() {
    check(
        "jetstack-testing/config/config.yaml",
        Some("jetstack-testing/config/jobs"),
        (86, 11, 31),
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn prow_integration_config() {
    let root = corpus();
    let options = LoadOptions::new(
        root.join("prow-testdata/test/integration/config/prow/config.yaml"),
        Some(root.join("prow-testdata/test/integration/config/prow/jobs")),
    );
    let loaded = load(&options).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.jobs.counts().0 + loaded.jobs.counts().2 > 0);
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn checkconfig_combined() {
    let root = corpus();
    let options = LoadOptions::new(
        root.join("prow-testdata/cmd/checkconfig/testdata/combined.yaml"),
        None,
    );
    let loaded = load(&options).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.jobs.counts() != (0, 0, 0));
}
