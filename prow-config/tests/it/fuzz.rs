//! Loading never panics, whatever the files hold: every input ends as a config or as findings.

use proptest::prelude::*;

use prow_config::{LoadOptions, load};

/// YAML-ish text: real keys of Prow's configuration, YAML punctuation and scalars, so the
/// loader sees both near-valid documents and broken ones.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "presubmits:",
        "postsubmits:",
        "periodics:",
        "presets:",
        "plank:",
        "tide:",
        "queries:",
        "org/repo:",
        "- name: a",
        "name:",
        "branches:",
        "run_if_changed:",
        "always_run: true",
        "spec:",
        "containers:",
        "- image: x",
        "command: [a]",
        "decorate: true",
        "cron: '* * * * *'",
        "interval: 1h",
        "labels:",
        "<<: *a",
        "&a",
        "*a",
        "{",
        "}",
        "[",
        "]",
        "- ",
        ": ",
        "  ",
        "\n",
        "\n  ",
        "\n    ",
        "'",
        "\"",
        "~",
        "null",
        "0777",
        "1e9",
        "!!binary",
        "---",
        "#",
        "prow_ignored:",
        "decoration_config:",
        "timeout: 2h",
        "max_concurrency: -1",
    ]);
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn proptest_load_never_panics(config in yamlish(), jobs in yamlish()) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yaml"), &config).unwrap();
        std::fs::create_dir(dir.path().join("jobs")).unwrap();
        std::fs::write(dir.path().join("jobs/jobs.yaml"), &jobs).unwrap();
        let options = LoadOptions::new(dir.path().join("config.yaml"), Some(dir.path().join("jobs")));
        match load(&options) {
            Ok(_) => {}
            Err(prow_config::Error::Invalid { errors }) => prop_assert!(!errors.is_empty()),
            Err(other) => prop_assert!(false, "unexpected error kind: {other}"),
        }
    }

    #[test]
    fn proptest_load_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yaml"), &bytes).unwrap();
        let _ = load(&LoadOptions::new(dir.path().join("config.yaml"), None));
    }
}
