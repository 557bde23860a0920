//! checkconfig's work on one repository with thousands of jobs: load, default, validate and
//! run the default warnings over a generated tree (`prow_config::synthetic`), with a few
//! dozen warnings per thousand jobs.
//!
//! Target: 5,000 presubmits of one repository (plus 500 postsubmits and 250 periodics) in
//! under 1 s (release build); the 2,500 run gives the scaling ratio, near 2 when linear. The
//! `invalid_` runs add a few repeated names and contexts, so loading fails with their errors.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use prow_config::synthetic::{OneRepo, write_one_repo};
use prow_config::{Error, LoadOptions, WarningOptions, check_warnings, load};

/// Where the generated trees are, written once before the runs.
static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// The options loading the tree of `presubmits` jobs (with mistakes or not).
fn options(presubmits: usize, mistakes: bool) -> LoadOptions {
    let dir = ROOT
        .get()
        .expect("trees written")
        .join(format!("{presubmits}-{mistakes}"));
    LoadOptions::new(dir.join("config.yaml"), Some(dir.join("jobs")))
}

fn write_trees(root: &Path) {
    for presubmits in [2500, 5000] {
        for mistakes in [false, true] {
            let dir = root.join(format!("{presubmits}-{mistakes}"));
            std::fs::create_dir_all(&dir).expect("create tree dir");
            write_one_repo(&dir, &OneRepo::new(presubmits).with_mistakes(mistakes))
                .expect("write tree");
        }
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_trees(dir.path());
    ROOT.set(dir.path().to_owned()).expect("set once");
    divan::main();
}

/// checkconfig's default run: load, then the default warnings; the number of findings.
fn checkconfig(presubmits: usize) -> usize {
    let options = options(presubmits, false);
    let config = load(divan::black_box(&options)).expect("tree loads");
    let checks = WarningOptions::from_flags(&[], &[], false, false)
        .expect("default warnings")
        .with_config_path(&options.config_path);
    check_warnings(&config, &checks).len()
}

/// Loading a tree with mistakes: the number of errors.
fn invalid(presubmits: usize) -> usize {
    match load(divan::black_box(&options(presubmits, true))) {
        Err(Error::Invalid { errors }) => errors.len(),
        _ => panic!("mistakes not found"),
    }
}

/// 5,000 presubmits of one repository: load, validate, default warnings.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn validate_5000_jobs_one_repo() -> usize {
    checkconfig(5000)
}

/// 2,500 presubmits of one repository, for the scaling ratio.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn validate_2500_jobs_one_repo() -> usize {
    checkconfig(2500)
}

/// 5,000 presubmits with a few repeated names and contexts: load fails with their errors.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn invalid_5000_jobs_one_repo() -> usize {
    invalid(5000)
}

/// 2,500 presubmits with the same mistakes.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn invalid_2500_jobs_one_repo() -> usize {
    invalid(2500)
}
