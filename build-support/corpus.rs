// Where the shared corpus of real Prow deployments is, in one place for every crate.
//
// Each crate's `build.rs` and its test support `include!` this file, so the build and the tests
// agree on the path. The build script sets `cfg(no_corpus)` when the corpus is absent and `CI`
// is not `true`; tests that read the corpus carry
// `#[cfg_attr(no_corpus, ignore = "corpus absent")]`, so on a laptop without it they are
// listed as ignored, and under `CI=true` they run and fail on the missing corpus.

/// The corpus folder: `PROW_CORPUS`, else `shared/corpus` beside the repository.
#[allow(dead_code)] // not every includer uses every item
pub(crate) fn corpus_path() -> std::path::PathBuf {
    match std::env::var_os("PROW_CORPUS") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
    }
}

/// The corpus folder, for tests marked `#[cfg_attr(no_corpus, ignore = "corpus absent")]`:
/// reaching here without the corpus is a failure.
#[allow(dead_code)] // not every includer uses every item
pub(crate) fn corpus() -> std::path::PathBuf {
    let dir = corpus_path();
    assert!(
        dir.is_dir(),
        "corpus not found at {} (set PROW_CORPUS; under CI=true it is required)",
        dir.display()
    );
    dir
}

/// Every `.yaml`/`.yml` file under the corpus, sorted, for tests that read them all.
#[allow(dead_code)] // not every includer uses every item
pub(crate) fn corpus_yaml_files() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&corpus(), &mut files);
    files.sort();
    files
}

/// For `build.rs`: declares `cfg(no_corpus)` and sets it when the corpus is absent outside CI,
/// and reruns when `PROW_CORPUS`, `CI` or the corpus change. A corpus put in place later is
/// seen once `PROW_CORPUS` is set (watching a parent folder would rerun on every build).
#[allow(dead_code)] // not every includer uses every item
fn emit_corpus_cfg() {
    println!("cargo::rustc-check-cfg=cfg(no_corpus)");
    println!("cargo::rerun-if-env-changed=PROW_CORPUS");
    println!("cargo::rerun-if-env-changed=CI");
    let dir = corpus_path();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if dir.is_dir() {
        println!("cargo::rerun-if-changed={}", dir.display());
    } else if !ci {
        println!("cargo::rustc-cfg=no_corpus");
        println!(
            "cargo::warning=corpus not found at {}: its tests are ignored (set PROW_CORPUS)",
            dir.display()
        );
    }
}
