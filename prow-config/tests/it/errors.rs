//! Broken configurations report every problem with file, line, field path and reason.

use std::path::Path;

use prow_config::{Error, LoadOptions, load};

/// Writes `config.yaml` and job files into a temporary tree, loads it, and lists the findings
/// (errors, or warnings when it loads) with paths relative to the tree.
fn check(config: &str, jobs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("config.yaml"), config).expect("write config");
    for (name, text) in jobs {
        let path = root.join("jobs").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write job file");
    }
    let job_dir = (!jobs.is_empty()).then(|| root.join("jobs"));
    let findings = match load(&LoadOptions::new(root.join("config.yaml"), job_dir)) {
        Ok(config) => config.warnings,
        Err(Error::Invalid { errors }) => errors,
        Err(e) => return format!("{e}"),
    };
    findings
        .iter()
        .map(|f| relative(&f.to_string(), root))
        .collect::<Vec<_>>()
        .join("\n")
}

fn relative(text: &str, root: &Path) -> String {
    text.replace(&format!("{}/", root.display()), "")
}

#[test]
fn parse_error_names_file_line_and_field() {
    let jobs = "presubmits:\n  org/repo:\n  - name: a\n    always_run: yes please\n";
    insta::assert_snapshot!(check("", &[("a.yaml", jobs)]));
}

#[test]
fn unknown_fields_are_warnings() {
    let jobs = "presubmits:\n  org/repo:\n  - name: a\n    always_runn: true\n    spec: {containers: [{image: x}]}\n";
    insta::assert_snapshot!(check("surprise: 1\n", &[("a.yaml", jobs)]));
}

#[test]
fn every_file_is_reported() {
    let a = "periodics:\n- name: p\n  interval: 1h\n  cron: '@daily'\n";
    let b = "presubmits:\n  org/repo:\n  - name: bad name\n    trigger: /x\n  - name: b\n    always_run: true\n    run_if_changed: foo\n  - name: b\n";
    let c = "periodics: [ {name: q, interval: nonsense}, {name: q, interval: 1h}, {name: r} ]\n";
    let d = "postsubmits: {org/repo: [{name: x, branches: ['('], always_run: true, skip_if_only_changed: y}]}\n";
    insta::assert_snapshot!(check(
        "",
        &[
            ("a.yaml", a),
            ("b.yml", b),
            ("sub/c.yaml", c),
            ("d.yaml", d)
        ]
    ));
}

#[test]
fn duplicate_basenames_and_skipped_files() {
    let ok = "periodics: [{name: p, interval: 1h}]\n";
    insta::assert_snapshot!(check(
        "",
        &[
            ("x/a.yaml", ok),
            ("y/a.yaml", "periodics: [{name: p2, interval: 1h}]\n"),
            ("..data/z.yaml", "not: [valid"),
            ("notes.txt", "not: [valid"),
            ("ignored/bad.yaml", "not: [valid"),
            (".prowignore", "ignored/\n"),
            ("deep/er/bad.yaml", "not: [valid"),
            ("deep/.prowignore", "er/bad.yaml\n"),
            (
                "deep/er/ok.yaml",
                "periodics: [{name: p3, interval: 1h, what: 1}]\n"
            ),
        ]
    ));
}

#[test]
fn decoration_default_forms_are_exclusive() {
    let config = "plank:\n  default_decoration_configs: {'*': {timeout: 1h}}\n  default_decoration_config_entries: [{config: {timeout: 2h}}]\n";
    insta::assert_snapshot!(check(config, &[]));
}

#[test]
fn preset_conflicts() {
    let presets = "presets:\n- labels: {a: 'true'}\n  env: [{name: X, value: '1'}]\n- labels: {a: 'true'}\n  volumes: [{name: v, emptyDir: {}}]\n";
    let jobs = "periodics:\n- name: p\n  interval: 1h\n  labels: {a: 'true'}\n  spec:\n    containers: [{image: i, env: [{name: X, value: '2'}]}]\n";
    insta::assert_snapshot!(check("", &[("presets.yaml", presets), ("jobs.yaml", jobs)]));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Loading arbitrary text never panics; it loads or reports findings.
    #[test]
    fn proptest_arbitrary_yaml_never_panics(text in "(presubmits|periodics|name|spec|- |: |\\{|\\}|\\[|\\]|\\n|  |[a-z0-9/]{1,6}|'|\"){0,40}") {
        let _ = check("", &[("a.yaml", &text)]);
    }
}

/// A decorated job and the decoration defaults it needs, with one bad duration in
/// `config.yaml`: the one error, none of the follow-on ones a section that did not parse would
/// give (no utility images, no GCS configuration).
#[test]
fn one_bad_value_in_a_section_is_one_error() {
    let config = "\
plank:
  default_decoration_config_entries:
  - config:
      timeout: 2h
      grace_period: 15s
      utility_images:
        clonerefs: c
        initupload: i
        entrypoint: e
        sidecar: s
      gcs_configuration:
        bucket: b
        path_strategy: explicit
      gcs_credentials_secret: s
sinker:
  resync_period: 1 hour
";
    let jobs = "\
presubmits:
  org/repo:
  - name: a
    decorate: true
    always_run: true
    spec: {containers: [{image: x, command: [run]}]}
periodics:
- name: p
  interval: 1h
  decorate: true
  spec: {containers: [{image: x, command: [run]}]}
postsubmits:
  org/repo:
  - name: b
    decorate: true
    spec: {containers: [{image: x, command: [run]}]}
";
    insta::assert_snapshot!(check(config, &[("a.yaml", jobs)]));
    // The same configuration with the duration fixed loads without a word.
    let fixed = config.replace("1 hour", "1h");
    assert_eq!(check(&fixed, &[("a.yaml", jobs)]), "");
}

/// A cron list with empty items loads as robfig/cron reads it (the items are dropped); a bad
/// item still fails with robfig's wording.
#[test]
fn cron_lists_drop_empty_items_as_robfig_does() {
    let ok =
        "periodics:\n- name: p\n  cron: '0 1,,13, * * *'\n  spec: {containers: [{image: x}]}\n";
    assert_eq!(check("", &[("a.yaml", ok)]), "");
    let bad = "periodics:\n- name: p\n  cron: '0 1,,x * * *'\n  spec: {containers: [{image: x}]}\n";
    insta::assert_snapshot!(check("", &[("a.yaml", bad)]), @r#"jobs/a.yaml:3: periodics[0].cron: job "p": invalid cron string 0 1,,x * * * in periodic p: failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax"#);
}

/// Prow's reporting check: a job that skips reporting must not set Gerrit's report label.
#[test]
fn a_gerrit_report_label_on_a_skip_report_job_is_an_error() {
    let jobs = "\
presubmits:
  org/repo:
  - name: a
    skip_report: true
    labels: {prow.k8s.io/gerrit-report-label: Verified}
    spec: {containers: [{image: x}]}
  - name: b
    skip_report: true
    labels: {prow.k8s.io/gerrit-report-label: ''}
    spec: {containers: [{image: x}]}
postsubmits:
  org/repo:
  - name: c
    skip_report: true
    labels: {prow.k8s.io/gerrit-report-label: Verified}
    spec: {containers: [{image: x}]}
";
    insta::assert_snapshot!(check("", &[("a.yaml", jobs)]), @r#"
    jobs/a.yaml:5: presubmits["org/repo"][0].labels: job "a": invalid presubmit job a: gerrit report label prow.k8s.io/gerrit-report-label set to non-empty string but job is configured to skip reporting.
    jobs/a.yaml:15: postsubmits["org/repo"][0].labels: job "c": invalid postsubmit job c: gerrit report label prow.k8s.io/gerrit-report-label set to non-empty string but job is configured to skip reporting.
    "#);
}

/// Two jobs of a repository on overlapping branches with one context: Prow reports the clash
/// from each job, for presubmits and postsubmits alike.
#[test]
fn context_clashes_are_reported_from_both_jobs_as_prow_does() {
    let jobs = "\
presubmits:
  org/repo:
  - name: a
    context: ci
    branches: [main]
    spec: {containers: [{image: x}]}
  - name: b
    context: ci
    branches: [main]
    spec: {containers: [{image: x}]}
  - name: c
    context: ci
    branches: [release]
    spec: {containers: [{image: x}]}
postsubmits:
  org/repo:
  - name: d
    context: post
    spec: {containers: [{image: x}]}
  - name: e
    context: post
    spec: {containers: [{image: x}]}
";
    insta::assert_snapshot!(check("", &[("a.yaml", jobs)]), @r#"
    jobs/a.yaml:4: presubmits["org/repo"][0].context: job "a": jobs b and a report to the same GitHub context "ci"
    jobs/a.yaml:8: presubmits["org/repo"][1].context: job "b": jobs a and b report to the same GitHub context "ci"
    jobs/a.yaml:18: postsubmits["org/repo"][0].context: job "d": jobs e and d report to the same GitHub context "post"
    jobs/a.yaml:21: postsubmits["org/repo"][1].context: job "e": jobs d and e report to the same GitHub context "post"
    "#);
}
