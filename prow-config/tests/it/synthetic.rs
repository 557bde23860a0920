//! A generated repository with hundreds of jobs and a few realistic mistakes (repeated names
//! and contexts on overlapping branches): its errors and warnings, in order and word for
//! word, as they were before validation was made linear.

use prow_config::synthetic::{OneRepo, write_one_repo};
use prow_config::{Error, Finding, LoadOptions, WarningOptions, check_warnings, load};

use crate::scenarios::listing_under as listing;

/// checkconfig's warnings for the `warnings` named (none: the default set).
fn warnings(options: &LoadOptions, warnings: &[&str]) -> Vec<Finding> {
    let config = load(options).expect("the tree without mistakes loads");
    let names: Vec<String> = warnings.iter().map(|w| (*w).to_owned()).collect();
    let checks = WarningOptions::from_flags(&names, &[], false, false)
        .expect("known warnings")
        .with_config_path(&options.config_path);
    check_warnings(&config, &checks)
}

#[test]
fn generated_repository_findings_are_unchanged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir(root.join("bad")).expect("mkdir");
    std::fs::create_dir(root.join("good")).expect("mkdir");
    let bad = write_one_repo(&root.join("bad"), &OneRepo::new(200).with_mistakes(true))
        .expect("write tree");
    let good = write_one_repo(&root.join("good"), &OneRepo::new(200)).expect("write tree");

    let errors = match load(&bad) {
        Err(Error::Invalid { errors }) => errors,
        Ok(_) => panic!("the mistakes were not found"),
        Err(e) => panic!("{e}"),
    };
    let defaults = warnings(&good, &[]);
    let optional = warnings(
        &good,
        &[
            "valid-decoration-config",
            "unanchored-branches",
            "unknown-fields-all",
        ],
    );
    let text = format!(
        "errors:\n{}\n\ndefault warnings:\n{}\n\noptional warnings:\n{}",
        listing(&errors, root),
        listing(&defaults, root),
        listing(&optional, root),
    );
    insta::assert_snapshot!(text);
}
