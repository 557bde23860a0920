//! The layering of ARCHITECTURE.md, checked from every Cargo.toml in the workspace.

use std::collections::BTreeMap;
use std::path::Path;

/// Layers of the internal crates; a crate may depend only on strictly lower layers.
const LAYERS: [(&str, u8); 7] = [
    ("prow-core", 0),
    ("prow-config", 1),
    ("prow-github", 1),
    ("prow-jobs", 2),
    ("prow-plugins", 3),
    ("prow-server", 4),
    ("prow-cli", 5),
];

/// Side crates: may use every library crate, never the CLI, and are never published.
const SIDE: [&str; 2] = ["prow-examples", "prow-benches"];

fn layer(name: &str) -> Option<u8> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

/// Every layering problem in a set of manifests (package name → parsed Cargo.toml).
fn layering_problems(manifests: &BTreeMap<String, toml::Table>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, manifest) in manifests {
        let package = manifest["package"].as_table().unwrap();
        let own_layer = layer(name);
        let is_side = SIDE.contains(&name.as_str());
        if own_layer.is_none() && !is_side {
            problems.push(format!("{name}: not a known crate of ARCHITECTURE.md"));
        }
        if is_side && package.get("publish").and_then(toml::Value::as_bool) != Some(false) {
            problems.push(format!("{name}: side crates must say `publish = false`"));
        }
        let lints = manifest.get("lints").and_then(|l| l.get("workspace"));
        if lints.and_then(toml::Value::as_bool) != Some(true) {
            problems.push(format!("{name}: missing `[lints] workspace = true`"));
        }
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = manifest.get(section).and_then(toml::Value::as_table) else {
                continue;
            };
            for dep in deps.keys() {
                // A crate may use itself with extra features (its test-util fake) in tests.
                if dep == name {
                    continue;
                }
                let Some(dep_layer) = layer(dep) else {
                    continue;
                };
                if is_side {
                    if dep == "prow-cli" {
                        problems.push(format!("{name}: [{section}] must not use prow-cli"));
                    }
                } else if let Some(own) = own_layer
                    && dep_layer >= own
                {
                    let direction = if dep_layer == own { "sideways" } else { "up" };
                    problems.push(format!(
                        "{name} (layer {own}): [{section}] {dep} (layer {dep_layer}) points {direction}"
                    ));
                }
            }
        }
    }
    problems
}

fn read_toml(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("failed to parse {}: {e}", path.display()))
}

fn workspace_manifests() -> (toml::Table, BTreeMap<String, toml::Table>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = read_toml(&root.join("Cargo.toml"));
    let members = workspace["workspace"]["members"].as_array().unwrap();
    let manifests = members
        .iter()
        .map(|m| {
            let manifest = read_toml(&root.join(m.as_str().unwrap()).join("Cargo.toml"));
            let name = manifest["package"]["name"].as_str().unwrap().to_owned();
            (name, manifest)
        })
        .collect();
    (workspace, manifests)
}

#[test]
fn workspace_follows_the_layering() {
    let (_, manifests) = workspace_manifests();
    for (name, _) in LAYERS {
        assert!(manifests.contains_key(name), "workspace lacks {name}");
    }
    for name in SIDE {
        assert!(manifests.contains_key(name), "workspace lacks {name}");
    }
    assert_eq!(layering_problems(&manifests), Vec::<String>::new());
}

#[test]
fn workspace_dependencies_name_every_library_crate() {
    let (workspace, _) = workspace_manifests();
    let deps = workspace["workspace"]["dependencies"].as_table().unwrap();
    for (name, _) in LAYERS.iter().filter(|(n, _)| *n != "prow-cli") {
        assert!(
            deps.contains_key(*name),
            "[workspace.dependencies] lacks {name}"
        );
    }
    let lints = workspace["workspace"]["lints"]["rust"].as_table().unwrap();
    assert_eq!(lints["unsafe_code"].as_str(), Some("forbid"));
}

/// The checker itself must catch what it is for.
#[test]
fn layering_checker_reports_wrong_directions() {
    let manifest = |text: &str| -> toml::Table { text.parse().unwrap() };
    let manifests = BTreeMap::from([
        (
            "prow-config".to_owned(),
            manifest(
                "[package]\nname='prow-config'\n[lints]\nworkspace=true\n[dependencies]\nprow-github={workspace=true}\n",
            ),
        ),
        (
            "prow-core".to_owned(),
            manifest(
                "[package]\nname='prow-core'\n[dev-dependencies]\nprow-jobs={workspace=true}\n",
            ),
        ),
        (
            "prow-plugins".to_owned(),
            manifest(
                "[package]\nname='prow-plugins'\n[lints]\nworkspace=true\n[dependencies]\nprow-server={workspace=true}\n",
            ),
        ),
        (
            "prow-examples".to_owned(),
            manifest(
                "[package]\nname='prow-examples'\n[lints]\nworkspace=true\n[dependencies]\nprow-cli={workspace=true}\nprow-server={workspace=true}\n",
            ),
        ),
    ]);
    insta::assert_snapshot!(layering_problems(&manifests).join("\n"), @r"
    prow-config (layer 1): [dependencies] prow-github (layer 1) points sideways
    prow-core: missing `[lints] workspace = true`
    prow-core (layer 0): [dev-dependencies] prow-jobs (layer 2) points up
    prow-examples: side crates must say `publish = false`
    prow-examples: [dependencies] must not use prow-cli
    prow-plugins (layer 3): [dependencies] prow-server (layer 4) points up
    ");
}

/// Every `.rs` file under `dir`, skipping `target`.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() && name != "target" && !name.to_string_lossy().starts_with('.') {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A test that reads the corpus is ignored by name when the corpus is absent, never passed by
/// returning early: no test code tests for the corpus itself, and each crate whose tests read it
/// has the build script that sets `cfg(no_corpus)`.
#[test]
fn corpus_tests_are_ignored_not_skipped_when_the_corpus_is_absent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (workspace, _) = workspace_manifests();
    let mut problems = Vec::new();
    for member in workspace["workspace"]["members"].as_array().unwrap() {
        let name = member.as_str().unwrap();
        if name == "benches" {
            // Benchmarks are not tests: they measure the corpus when it is there.
            continue;
        }
        let dir = root.join(name);
        let mut files = Vec::new();
        for sub in ["src", "tests"] {
            if dir.join(sub).is_dir() {
                rust_files(&dir.join(sub), &mut files);
            }
        }
        let mut reads_corpus = false;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let shown = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            if file.ends_with("tests/it/workspace.rs") {
                continue;
            }
            reads_corpus |= text.contains("corpus()");
            for (n, line) in text.lines().enumerate() {
                let skips = line.contains("corpus")
                    && (line.contains("else { return")
                        || line.contains(".is_dir() {")
                        || line.contains("skipping"));
                if skips {
                    problems.push(format!("{shown}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        let build = std::fs::read_to_string(dir.join("build.rs")).unwrap_or_default();
        if reads_corpus && !build.contains("emit_corpus_cfg()") {
            problems.push(format!(
                "{name}: its tests read the corpus but build.rs does not call emit_corpus_cfg()"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
