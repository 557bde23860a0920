//! One bad configuration per file under `tests/data/bad/`: each file's findings are snapshotted,
//! and supplemental prow-config directories merge or fail as Prow's do.

use std::path::{Path, PathBuf};

use prow_config::{Error, Finding, LoadOptions, WarningOptions, check_warnings, load};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad")
}

/// Findings as text, with paths relative to `tests/data/bad`.
fn listing(findings: &[Finding]) -> String {
    listing_under(findings, &data())
}

/// Findings as text, one a line, with paths relative to `root`.
pub(crate) fn listing_under(findings: &[Finding], root: &Path) -> String {
    let root = format!("{}/", root.display());
    if findings.is_empty() {
        return "(no findings)".to_owned();
    }
    findings
        .iter()
        .map(|f| {
            let severity = match f.severity {
                prow_config::Severity::Error => "error",
                prow_config::Severity::Warning => "warning",
            };
            format!("{severity}: {}", f.to_string().replace(&root, ""))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `--required-job-annotations` a scenario asks for on its `# flags:` line.
fn required_annotations(text: &str) -> Vec<String> {
    let Some(flags) = text.lines().next().and_then(|l| l.strip_prefix("# flags:")) else {
        return Vec::new();
    };
    flags
        .split_whitespace()
        .filter_map(|f| f.strip_prefix("--required-job-annotations="))
        .map(str::to_owned)
        .collect()
}

/// Loads one scenario: its errors, or the warnings of checkconfig's default set.
fn check(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read scenario");
    match load(&LoadOptions::new(path, None)) {
        Ok(config) => {
            let options = WarningOptions::from_flags(&[], &[], false, false)
                .expect("default warnings")
                .with_required_job_annotations(required_annotations(&text))
                .with_config_path(path);
            listing(&check_warnings(&config, &options))
        }
        Err(Error::Invalid { errors }) => listing(&errors),
        Err(e) => format!("{e}"),
    }
}

#[test]
fn every_bad_scenario_lists_its_findings() {
    let mut files: Vec<_> = std::fs::read_dir(data())
        .expect("tests/data/bad")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "scenarios missing: {files:?}");
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_owned();
        let out = check(&file);
        assert_ne!(out, "(no findings)", "{name} found nothing");
        insta::assert_snapshot!(name, out);
    }
}

#[test]
fn unknown_warning_names_are_refused_with_the_list() {
    let err = WarningOptions::from_flags(&["long-names".to_owned()], &[], false, false)
        .expect_err("unknown warning");
    insta::assert_snapshot!(err, @r#"no such warning "long-names", valid warnings: [mismatched-tide tide-strict-branch tide-context-policy mismatched-tide-lenient non-decorated-jobs long-job-names duplicate-job-refs needs-ok-to-test managed-webhooks validate-owners missing-trigger validate-urls unknown-fields validate-cluster-field validate-supplemental-prow-config-hierarchy validate-unmanaged-branchconfig-has-no-subconfig validate-label required-job-annotations periodic-default-clone-config validate-config-updater-acls verify-owners-presence valid-decoration-config unknown-fields-all validate-github-app-installation unanchored-branches]"#);
}

#[test]
fn warning_sets_follow_prows_flags() {
    let names = |w: &[&str], ex: &[&str], default: bool, expensive: bool| {
        let own = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let options = WarningOptions::from_flags(&own(w), &own(ex), default, expensive)
            .expect("known warnings");
        options.enabled.into_iter().collect::<Vec<_>>()
    };
    assert_eq!(
        names(&["long-job-names"], &[], false, false),
        ["long-job-names"]
    );
    let defaults = names(&[], &[], false, false);
    assert_eq!(defaults.len(), prow_config::DEFAULT_WARNINGS.len());
    assert!(!defaults.iter().any(|w| w == "verify-owners-presence"));
    assert!(
        names(&[], &[], false, true)
            .iter()
            .any(|w| w == "verify-owners-presence")
    );
    let with_defaults = names(&["unknown-fields-all"], &["unknown-fields"], true, false);
    assert!(with_defaults.iter().any(|w| w == "unknown-fields-all"));
    assert!(with_defaults.iter().any(|w| w == "long-job-names"));
    assert!(!with_defaults.iter().any(|w| w == "unknown-fields"));
}

/// Loads `supplemental/config.yaml` with the supplemental tree, reading files ending in
/// `suffix`.
fn load_supplemental(suffix: &str) -> Result<prow_config::Config, Error> {
    let root = data().join("supplemental");
    load(
        &LoadOptions::new(root.join("config.yaml"), None)
            .with_supplemental(vec![root.join("extra")], suffix),
    )
}

#[test]
fn supplemental_prow_configs_merge_what_prow_merges() {
    let config = load_supplemental("a_prowconfig.yaml").unwrap_or_else(|e| panic!("{e}"));
    let tide = &config.prow.tide;
    let method = |repo: &str| format!("{:?}", tide.merge_method("org", repo, "main"));
    assert_eq!(
        (method("repo"), method("other")),
        ("Squash".to_owned(), "Rebase".to_owned())
    );
    let queries: Vec<(Vec<String>, Vec<String>)> = tide
        .queries
        .iter()
        .map(|q| (q.repos.clone(), q.labels.clone()))
        .collect();
    assert_eq!(
        queries,
        [
            (
                vec!["org/repo".to_owned()],
                // Prow sorts a query's labels when it merges queries at load.
                vec!["approved".to_owned(), "lgtm".to_owned()]
            ),
            (vec!["org/other".to_owned()], vec!["lgtm".to_owned()]),
        ]
    );
    assert_eq!(config.prow.slack_reporter_configs.len(), 2);
    let repos = &config.prow.branch_protection.orgs["org"].repos;
    assert_eq!(repos["other"].protect, Some(true));
    assert_eq!(repos["repo"].protect, Some(true));
    assert_eq!(config.prow.config_version_sha, "4f2a9c1");
}

#[test]
fn supplemental_prow_configs_reject_what_prow_rejects() {
    let errors = match load_supplemental(prow_config::DEFAULT_SUPPLEMENTAL_SUFFIX) {
        Err(Error::Invalid { errors }) => errors,
        other => panic!("expected errors, got {other:?}"),
    };
    insta::assert_snapshot!(listing(&errors));
}

#[test]
fn keys_differing_only_by_case_are_read_like_go() {
    let config = load(&LoadOptions::new(data().join("unknown-fields.yaml"), None))
        .unwrap_or_else(|e| panic!("{e}"));
    let job = &config.jobs.presubmits["org/repo"][0];
    let env = job
        .spec
        .as_ref()
        .and_then(|s| s.containers[0].env.as_ref())
        .expect("env");
    assert_eq!(env[0].name, "GOFLAGS", "`NAME` is `name`, as in Go");
    assert_eq!(env[0].value.as_deref(), Some("-mod=vendor"));
    assert!(!config.warnings.iter().any(|w| w.field.contains("NAME")));
    let casey = &config.jobs.presubmits["org/repo"][1];
    assert_eq!(casey.name, "casey");
    assert!(casey.always_run);
    let spec = casey.spec.as_ref().expect("Spec is spec");
    let container = &spec.containers[0];
    assert_eq!(container.image.as_deref(), Some("golang"));
    assert_eq!(container.command.as_ref().map(Vec::len), Some(2));
    let mount = &container.volume_mounts.as_ref().expect("mounts")[0];
    assert_eq!(
        (mount.name.as_str(), mount.mount_path.as_str()),
        ("cache", "/cache")
    );
    let volume = &spec.volumes.as_ref().expect("volumes")[0];
    assert!(volume.empty_dir.is_some(), "EmptyDir is emptyDir");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Whatever the repository key holds (quotes, backslashes, dots, spaces, non-ASCII), an
    /// error in one of its jobs names the key in the field path and the field's line.
    #[test]
    fn proptest_odd_repo_keys_keep_field_paths_and_lines(
        repo in "[a-z0-9./\"\\\\ é-]{1,12}",
        before in 0usize..3,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let quoted = repo.replace('\\', "\\\\").replace('"', "\\\"");
        let mut text = String::from("presubmits:\n");
        text.push_str(&format!("  \"{quoted}\":\n"));
        for i in 0..before {
            text.push_str(&format!("  - {{name: ok-{i}, spec: {{containers: [{{image: x}}]}}}}\n"));
        }
        text.push_str("  - name: bad\n    max_concurrency: -1\n    spec: {containers: [{image: x}]}\n");
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, &text).expect("write");
        let errors = match load(&LoadOptions::new(&path, None)) {
            Err(Error::Invalid { errors }) => errors,
            other => panic!("expected errors, got {other:?}"),
        };
        proptest::prop_assert_eq!(errors.len(), 1, "{:?}", errors);
        proptest::prop_assert_eq!(
            &errors[0].field,
            &format!("presubmits[{repo:?}][{before}].max_concurrency")
        );
        proptest::prop_assert_eq!(errors[0].line, Some(4 + before));
    }
}

#[test]
fn supplemental_configs_must_match_their_org_and_repo_folders() {
    let root = data().join("supplemental");
    let dirs = vec![root.join("hierarchy")];
    let config = load(
        &LoadOptions::new(root.join("config.yaml"), None)
            .with_supplemental(dirs.clone(), prow_config::DEFAULT_SUPPLEMENTAL_SUFFIX),
    )
    .map(|_| ())
    .map_err(|e| e.to_string());
    assert!(config.is_err(), "org/repo is merged twice: {config:?}");
    let checks = WarningOptions::from_flags(
        &["validate-supplemental-prow-config-hierarchy".to_owned()],
        &[],
        false,
        false,
    )
    .expect("known warning")
    .with_supplemental(dirs, prow_config::DEFAULT_SUPPLEMENTAL_SUFFIX);
    let plain = load(&LoadOptions::new(root.join("config.yaml"), None)).expect("loads");
    insta::assert_snapshot!(listing(&check_warnings(&plain, &checks)));
}

/// Loads one decorated periodic with `cron` from a fresh config.yaml; its errors, if any.
fn cron_errors(cron: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.yaml");
    let text = format!(
        "periodics:\n- name: p\n  cron: {cron:?}\n  spec: {{containers: [{{image: x, command: [y]}}]}}\n"
    );
    std::fs::write(&path, text).expect("write");
    match load(&LoadOptions::new(&path, None)) {
        Ok(_) => Vec::new(),
        Err(Error::Invalid { errors }) => errors.into_iter().map(|e| e.message).collect(),
        Err(e) => vec![e.to_string()],
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Schedules built from in-range values, ranges, steps, lists and names are accepted.
    #[test]
    fn proptest_cron_schedules_prow_accepts_load(
        minute in 0u32..60,
        hour_from in 0u32..12,
        hour_span in 0u32..12,
        step in 1u32..10,
        dom in proptest::option::of(1u32..32),
        month in proptest::sample::select(vec!["*", "JAN", "feb-jun", "1,6,12", "*/3"]),
        dow in proptest::sample::select(vec!["*", "?", "mon-fri", "0,6", "SUN"]),
        seconds in proptest::bool::ANY,
    ) {
        let dom = dom.map_or("*".to_owned(), |d| d.to_string());
        let hours = format!("{hour_from}-{}/{step}", hour_from + hour_span);
        let mut cron = format!("{minute} {hours} {dom} {month} {dow}");
        if seconds {
            cron = format!("*/{step} {cron}");
        }
        proptest::prop_assert_eq!(cron_errors(&cron), Vec::<String>::new(), "{}", cron);
    }

    /// A minute beyond 59 is refused with Prow's wording.
    #[test]
    fn proptest_cron_out_of_range_minutes_are_refused(minute in 60u32..1000) {
        let errors = cron_errors(&format!("{minute} * * * *"));
        proptest::prop_assert_eq!(errors.len(), 1);
        let expected = format!(
            "invalid cron string {minute} * * * * in periodic p: end of range ({minute}) above maximum (59): {minute}"
        );
        proptest::prop_assert_eq!(&errors[0], &expected);
    }
}
