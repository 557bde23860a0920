//! The committed corpus subset under `tests/data/corpus`, run by every checkout.

use std::path::PathBuf;

use prow_config::{LoadOptions, Severity, load, read_job_config};

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus")
        .join(path)
}

#[test]
fn jetstack_testing_subset_loads() {
    let options = LoadOptions::new(
        data("jetstack-testing/config/config.yaml"),
        Some(data("jetstack-testing/config/jobs/testing")),
    );
    let config = load(&options).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(config.jobs.counts(), (4, 8, 4));
    // The secret mode written `0400` is octal, as Go reads it.
    let mode = config
        .jobs
        .presets
        .iter()
        .flat_map(|p| &p.volumes)
        .filter_map(|v| v.secret.as_ref())
        .find(|s| s.secret_name.as_deref() == Some("jetstack-bot-ssh-keys"))
        .and_then(|s| s.default_mode);
    assert_eq!(mode, Some(0o400));
    // Every job got the defaults Prow gives it.
    let ps = &config.jobs.presubmits.values().next().expect("presubmits")[0];
    assert_eq!(ps.context, ps.name);
    assert!(!ps.trigger.is_empty() && !ps.rerun_command.is_empty());
    assert_eq!(
        ps.namespace.as_deref(),
        Some(config.prow.pod_namespace.as_str())
    );
}

#[test]
fn repeated_key_last_wins_with_a_warning() {
    let (jobs, findings) =
        read_job_config(&data("knative-infra/prow/jobs/custom/peribolos.yaml")).expect("read");
    assert_eq!(jobs.counts(), (2, 2, 2));
    let listing: Vec<_> = findings
        .iter()
        .map(|f| {
            assert_eq!(f.severity, Severity::Warning);
            f.to_string().replace(env!("CARGO_MANIFEST_DIR"), "")
        })
        .collect();
    insta::assert_snapshot!(listing.join("\n"));
}

#[test]
fn decoration_defaults_merge_in_order() {
    let config = "decorate_all_jobs: true\nplank:\n  default_decoration_config_entries:\n  - config: {timeout: 1h, grace_period: 1m, gcs_credentials_secret: all, utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}, gcs_configuration: {bucket: b, path_strategy: explicit}}\n  - repo: org\n    config: {timeout: 2h}\n  - repo: other\n    config: {timeout: 3h}\n  - cluster: other\n    config: {grace_period: 9m}\n";
    // Like Prow, `decorate_all_jobs` counts only in config.yaml.
    let jobs = "decorate_all_jobs: false\npostsubmits:\n  org/repo:\n  - name: a\n    decoration_config: {gcs_credentials_secret: mine}\n    spec: {containers: [{image: i, command: [x]}]}\n  - name: b\n    decorate: false\n    spec: {containers: [{image: i}]}\n";
    let loaded = load_strs(config, jobs);
    let list = &loaded.jobs.postsubmits["org/repo"];
    let a = list[0].decoration_config.as_ref().expect("decorated");
    assert_eq!(a.timeout.map(|t| t.to_string()).as_deref(), Some("2h0m0s"));
    assert_eq!(
        a.grace_period.map(|t| t.to_string()).as_deref(),
        Some("1m0s")
    );
    assert_eq!(a.gcs_credentials_secret.as_deref(), Some("mine"));
    assert_eq!(list[1].decorate, Some(false));
    // Component defaults as Prow's.
    let sinker = &loaded.prow.sinker;
    assert_eq!(
        sinker.max_prowjob_age.map(|d| d.to_string()).as_deref(),
        Some("168h0m0s")
    );
    assert_eq!(sinker.terminated_pod_ttl, sinker.max_pod_age);
    assert_eq!(loaded.prow.plank.max_revivals, Some(3));
    assert_eq!(loaded.prow.pod_namespace, "default");
    assert!(list[1].decoration_config.is_none());
}

#[test]
fn yaml_merge_keys_apply_as_in_go() {
    let jobs = "prow_ignored:\n  base: &base\n    interval: 1h\n    spec: {containers: [{image: i, command: [x]}]}\nperiodics:\n- name: a\n  <<: *base\n- <<: *base\n  name: b\n  interval: 2h\n";
    let loaded = load_strs("", jobs);
    let p = &loaded.jobs.periodics;
    assert_eq!(
        (p[0].interval.as_str(), p[1].interval.as_str()),
        ("1h", "2h")
    );
    assert!(p.iter().all(|j| j.spec.is_some()));
}

#[test]
fn prowjob_defaults_merge_in_order_with_the_global_tenant_last() {
    let config = "prowjob_default_entries:\n- config: {tenant_id: everyone, resultstore_config: {project_id: all}}\n- repo: org\n  config: {tenant_id: org-tenant}\n- cluster: other\n  config: {tenant_id: other-cluster}\n";
    let jobs = "postsubmits:\n  org/repo:\n  - name: a\n    spec: {containers: [{image: i}]}\n  - name: b\n    prowjob_defaults: {tenant_id: mine}\n    spec: {containers: [{image: i}]}\n  elsewhere/repo:\n  - name: c\n    spec: {containers: [{image: i}]}\nperiodics:\n- name: d\n  interval: 1h\n  spec: {containers: [{image: i}]}\n";
    let loaded = load_strs(config, jobs);
    let tenant = |job: &Option<std::sync::Arc<prow_core::ProwJobDefault>>| {
        job.as_ref().expect("defaulted").tenant_id.clone()
    };
    let org = &loaded.jobs.postsubmits["org/repo"];
    assert_eq!(tenant(&org[0].prowjob_defaults), "org-tenant");
    assert_eq!(
        org[0]
            .prowjob_defaults
            .as_ref()
            .unwrap()
            .resultstore_config
            .as_ref()
            .unwrap()
            .project_id,
        "all",
        "earlier entries fill what later ones leave unset"
    );
    assert_eq!(tenant(&org[1].prowjob_defaults), "mine");
    assert_eq!(
        tenant(&loaded.jobs.postsubmits["elsewhere/repo"][0].prowjob_defaults),
        "everyone"
    );

    // With no entries, every job gets Prow's global tenant.
    let loaded = load_strs("{}\n", jobs);
    assert_eq!(
        tenant(&loaded.jobs.periodics[0].prowjob_defaults),
        "GlobalDefaultID"
    );
}

/// Loads `config` as config.yaml and `jobs` as the job config, from a temp dir.
fn load_strs(config: &str, jobs: &str) -> prow_config::Config {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("config.yaml"), config).expect("write");
    std::fs::write(dir.path().join("jobs.yaml"), jobs).expect("write");
    load(&LoadOptions::new(
        dir.path().join("config.yaml"),
        Some(dir.path().join("jobs.yaml")),
    ))
    .unwrap_or_else(|e| panic!("{e:?}"))
}
