//! checkconfig's config-only warnings: upstream's table cases, Tide's context policy, one
//! snapshot of findings per bad-config fixture, and the real deployments of the corpus.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prow_config::warnings::{
    self, CONFIG_WARNINGS, DEFAULT_WARNINGS, EXPENSIVE_WARNINGS, OPTIONAL_WARNINGS, WarningOptions,
    run_warning,
};
use prow_config::{Config, Error, Finding, LoadOptions, Presubmit, load};

/// Loads `config.yaml` text (and job-config text, if any) through the real loader.
fn load_yaml(config: &str, jobs: Option<&str>) -> Config {
    let dir = tempfile::tempdir().expect("temp dir");
    let config_path = dir.path().join("config.yaml");
    std::fs::write(&config_path, config).expect("write config");
    let jobs_path = jobs.map(|text| {
        let p = dir.path().join("jobs.yaml");
        std::fs::write(&p, text).expect("write jobs");
        p
    });
    match load(&LoadOptions::new(&config_path, jobs_path)) {
        Ok(c) => c,
        Err(Error::Invalid { errors }) => {
            let listing: Vec<_> = errors.iter().map(ToString::to_string).collect();
            panic!("does not load:\n{}\n---\n{config}", listing.join("\n"))
        }
        Err(e) => panic!("{e}"),
    }
}

/// Loads `config.yaml` text, then sets presubmits parsed from YAML without Prow's load-time
/// checks, the way upstream's tables build configs in Go (contexts default to names).
fn with_presubmits(config: &str, presubmits: &str) -> Config {
    let mut loaded = load_yaml(config, None);
    let mut jobs: BTreeMap<String, Vec<Presubmit>> = if presubmits.is_empty() {
        BTreeMap::new()
    } else {
        serde_yaml::from_str(presubmits).expect("presubmits parse")
    };
    for job in jobs.values_mut().flatten() {
        if job.context.is_empty() {
            job.context = job.name.clone();
        }
    }
    loaded.jobs.presubmits = jobs;
    loaded
}

fn messages(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(|f| f.message.clone()).collect()
}

fn run(name: &str, config: &Config) -> Vec<String> {
    messages(&run_warning(name, config, &WarningOptions::default()).expect("implemented"))
}

// ---------------------------------------------------------------------------------------------
// Registry.

#[test]
fn registry_lists_prows_warnings_in_order() {
    let all: Vec<&str> = DEFAULT_WARNINGS
        .iter()
        .chain(EXPENSIVE_WARNINGS)
        .chain(OPTIONAL_WARNINGS)
        .copied()
        .collect();
    assert_eq!(warnings::all_warnings(), all);
    assert_eq!(DEFAULT_WARNINGS.len(), 20);
    assert_eq!(all[0], "mismatched-tide");
    assert_eq!(EXPENSIVE_WARNINGS, &["verify-owners-presence"]);
    assert_eq!(
        OPTIONAL_WARNINGS,
        &[
            "valid-decoration-config",
            "unknown-fields-all",
            "validate-github-app-installation",
            // Ours, beyond Prow.
            "unanchored-branches",
        ]
    );
    let config = Config::default();
    for name in warnings::all_warnings() {
        let implemented = run_warning(name, &config, &WarningOptions::default()).is_some();
        assert_eq!(implemented, CONFIG_WARNINGS.contains(&name), "{name}");
    }
    assert!(run_warning("no-such-warning", &config, &WarningOptions::default()).is_none());
}

// ---------------------------------------------------------------------------------------------
// tide-strict-branch (upstream TestValidateStrictBranches).

#[test]
fn tide_strict_branch_table() {
    // (name, config.yaml, items that must appear, items that must not)
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "no conflict: no strict config",
            "tide:\n  queries:\n  - orgs: [kubernetes]\n",
            &[],
            &["kubernetes"],
        ),
        (
            "no conflict: no tide config",
            "branch-protection:\n  orgs:\n    kubernetes:\n      protect: true\n      required_status_checks:\n        strict: true\n",
            &[],
            &["kubernetes"],
        ),
        (
            "no conflict: tide repo exclusion",
            "tide:\n  queries:\n  - orgs: [kubernetes]\n    excludedRepos: [kubernetes/test-infra]\nbranch-protection:\n  orgs:\n    kubernetes:\n      protect: false\n      repos:\n        test-infra:\n          protect: true\n          required_status_checks:\n            strict: true\n",
            &[],
            &["kubernetes", "kubernetes/test-infra"],
        ),
        (
            "no conflict: protection repo exclusion",
            "tide:\n  queries:\n  - repos: [kubernetes/test-infra]\nbranch-protection:\n  orgs:\n    kubernetes:\n      protect: true\n      required_status_checks:\n        strict: true\n      repos:\n        test-infra:\n          protect: false\n",
            &[],
            &["kubernetes", "kubernetes/test-infra"],
        ),
        (
            "conflict: tide more general",
            "tide:\n  queries:\n  - orgs: [kubernetes]\nbranch-protection:\n  protect: true\n  orgs:\n    kubernetes:\n      repos:\n        test-infra:\n          protect: true\n          required_status_checks:\n            strict: true\n",
            &["kubernetes/test-infra"],
            &["kubernetes"],
        ),
        (
            "conflict: tide more specific",
            "tide:\n  queries:\n  - repos: [kubernetes/test-infra]\nbranch-protection:\n  protect: true\n  orgs:\n    kubernetes:\n      required_status_checks:\n        strict: true\n",
            &["kubernetes/test-infra"],
            &["kubernetes"],
        ),
        (
            "conflict: org level",
            "tide:\n  queries:\n  - orgs: [kubernetes, k8s]\nbranch-protection:\n  protect: true\n  orgs:\n    kubernetes:\n      required_status_checks:\n        strict: true\n",
            &["kubernetes"],
            &[],
        ),
        (
            "conflict: repo level",
            "tide:\n  queries:\n  - repos: [kubernetes/kubernetes]\n  - repos: [kubernetes/test-infra]\nbranch-protection:\n  protect: true\n  orgs:\n    kubernetes:\n      repos:\n        kubernetes:\n          required_status_checks:\n            strict: true\n",
            &["kubernetes/kubernetes"],
            &["kubernetes", "kubernetes/test-infra"],
        ),
        (
            "conflict: branch level",
            "tide:\n  queries:\n  - repos: [kubernetes/test-infra]\n    includedBranches: [master]\n  - repos: [kubernetes/kubernetes]\nbranch-protection:\n  protect: true\n  orgs:\n    kubernetes:\n      repos:\n        test-infra:\n          branches:\n            master:\n              required_status_checks:\n                strict: true\n",
            &["kubernetes/test-infra"],
            &["kubernetes", "kubernetes/kubernetes"],
        ),
        (
            "conflict: global strict",
            "tide:\n  queries:\n  - repos: [kubernetes/test-infra]\nbranch-protection:\n  protect: true\n  required_status_checks:\n    strict: true\n",
            &["globally"],
            &[],
        ),
        (
            "no conflict: global strict, Tide disabled",
            "branch-protection:\n  protect: true\n  required_status_checks:\n    strict: true\n",
            &[],
            &["globally"],
        ),
    ];
    for (name, yaml, bad, ok) in cases {
        let config = load_yaml(yaml, None);
        let found = run("tide-strict-branch", &config);
        assert_eq!(found.is_empty(), bad.is_empty(), "{name}: {found:?}");
        let text = found.join("\n");
        for item in *bad {
            let re = regex::Regex::new(&format!("[^/]{}[^/]", regex::escape(item))).unwrap();
            assert!(re.is_match(&text), "{name}: {item} missing from {text}");
        }
        for item in *ok {
            let re = regex::Regex::new(&format!("[^/]{}[^/]", regex::escape(item))).unwrap();
            assert!(!re.is_match(&text), "{name}: {item} unexpected in {text}");
        }
    }
}

#[test]
fn tide_strict_branch_message() {
    let config = load_yaml(
        "tide:\n  queries:\n  - orgs: [kubernetes]\n    excludedRepos: [kubernetes/a]\nbranch-protection:\n  protect: true\n  orgs:\n    kubernetes:\n      required_status_checks:\n        strict: true\n      repos:\n        b:\n          required_status_checks:\n            strict: false\n",
        None,
    );
    insta::assert_snapshot!(run("tide-strict-branch", &config).join("\n"), @"the following enable strict branchprotection context requirements even though Tide handles merges: [org: kubernetes without repo(s) kubernetes/a, kubernetes/b 'kubernetes/a' 'kubernetes/b']. See #5: https://docs.prow.k8s.io/docs/components/core/tide/maintainers/#best-practices Also note that this validation is imperfect, see the check-config code for details");
}

// ---------------------------------------------------------------------------------------------
// managed-webhooks (upstream TestValidateManagedWebhooks).

#[test]
fn managed_webhooks_table() {
    let entry = "{token_created_after: 2017-10-02T15:00:00Z}";
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("empty config", &[], &[]),
        (
            "no duplicate webhooks",
            &["foo1", "foo2", "foo/bar", "foo/bar1", "foo/bar2"],
            &[],
        ),
        (
            "has duplicate webhooks",
            &["foo", "foo1", "foo2", "foo/bar", "foo/bar1", "foo/bar2"],
            &["foo/bar", "foo/bar1", "foo/bar2"],
        ),
        (
            "has multiple duplicate webhooks",
            &["foo", "foo1", "foo2", "foo/bar", "foo/bar1", "foo1/bar1"],
            &["foo/bar", "foo/bar1", "foo1/bar1"],
        ),
    ];
    for (name, keys, dupes) in cases {
        let mut yaml = String::from("managed_webhooks:\n  org_repo_config:\n");
        for k in *keys {
            yaml.push_str(&format!("    {k}: {entry}\n"));
        }
        if keys.is_empty() {
            yaml = String::new();
        }
        let found = run("managed-webhooks", &load_yaml(&yaml, None));
        let expected: Vec<String> = dupes
            .iter()
            .map(|r| format!("org-level and repo-level webhooks are configured together for \"{r}\", which is not allowed as there will be duplicated webhook events"))
            .collect();
        assert_eq!(found, expected, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// duplicate-job-refs (upstream TestValidateJobExtraRefs).

#[test]
fn duplicate_job_refs_table() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "extra ref repeats the job's repo",
            "[{org: org, repo: repo}]",
            &[
                "invalid job test on repo org/repo: the following refs specified more than once: org/repo",
            ],
        ),
        ("no duplicates", "[{org: foo, repo: bar}]", &[]),
        (
            "two extra refs repeat each other",
            "[{org: foo, repo: bar}, {org: foo, repo: bar}, {org: org, repo: repo}]",
            &[
                "invalid job test on repo org/repo: the following refs specified more than once: foo/bar,org/repo",
            ],
        ),
    ];
    for (name, refs, expected) in cases {
        let jobs = format!(
            "presubmits:\n  org/repo:\n  - name: test\n    decorate: true\n    extra_refs: {refs}\n    spec: {{containers: [{{image: x, command: [run]}}]}}\n"
        );
        let config = load_yaml(DECORATED, Some(&jobs));
        assert_eq!(run("duplicate-job-refs", &config), *expected, "{name}");
    }
}

/// A config.yaml whose decorated jobs load (utility images and GCS set).
const DECORATED: &str = "plank:\n  default_decoration_configs:\n    '*':\n      utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}\n      gcs_configuration: {bucket: b, path_strategy: explicit}\n      gcs_credentials_secret: creds\n";

// ---------------------------------------------------------------------------------------------
// Tide context policy (upstream TestValidateTideContextPolicy, TestConfigGetTideContextPolicy,
// TestBranchRequirements).

#[test]
fn tide_context_policy_warning_table() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "overlapping branch config, error",
            "",
            "presubmits:\n  a/b:\n  - {name: j1, context: a, branches: [a]}\n  - {name: j2, context: a, always_run: true}\n",
            "context policy for a branch in a/b is invalid: contexts a are defined as required and required if present",
        ),
        (
            "overlapping branch config with empty branch configs, error",
            "",
            "presubmits:\n  a/b:\n  - {name: j1, context: a}\n  - {name: j2, context: a, always_run: true}\n",
            "context policy for master branch in a/b is invalid: contexts a are defined as required and required if present",
        ),
        (
            "overlapping branch config, inrepoconfig enabled, error",
            "in_repo_config:\n  enabled:\n    '*': true\n",
            "presubmits:\n  a/b:\n  - {name: j1, context: a, branches: [a]}\n  - {name: j2, context: a, always_run: true}\n",
            "context policy for a branch in a/b is invalid: contexts a are defined as required and required if present",
        ),
        (
            "no overlapping branch config, no error",
            "",
            "presubmits:\n  a/b:\n  - {name: j1, context: a, branches: [a]}\n  - {name: j2, context: a, always_run: true, branches: [b]}\n",
            "",
        ),
        (
            "bp required context collides with conditionally-triggered job via from-branch-protection",
            "tide:\n  context_options:\n    from-branch-protection: true\nbranch-protection:\n  orgs:\n    a:\n      repos:\n        b:\n          branches:\n            master:\n              protect: true\n              required_status_checks:\n                contexts: [ci/prow/test]\n",
            "presubmits:\n  a/b:\n  - {name: test, context: ci/prow/test, branches: ['^master$'], skip_if_only_changed: '\\.md$'}\n",
            "context policy for master branch in a/b is invalid: contexts ci/prow/test are defined as required and required if present",
        ),
        (
            "tide context_options required-if-present collides with optional job",
            "tide:\n  context_options:\n    orgs:\n      a:\n        repos:\n          b:\n            branches:\n              master:\n                required-if-present-contexts: [ci/prow/coverage]\n",
            "presubmits:\n  a/b:\n  - {name: coverage, optional: true, context: ci/prow/coverage, branches: ['^master$'], skip_if_only_changed: '\\.md$'}\n",
            "context policy for master branch in a/b is invalid: contexts ci/prow/coverage are defined as optional and required if present",
        ),
    ];
    for (name, config, jobs, expected) in cases {
        let config = with_presubmits(config, jobs.trim_start_matches("presubmits:\n"));
        let found = run("tide-context-policy", &config).join("\n");
        assert_eq!(found, *expected, "{name}");
    }
}

#[test]
fn tide_context_policy_table() {
    let jobs_static = "presubmits:\n  org/repo:\n  - {name: pr1, always_run: true}\n  - {name: po1, always_run: true, optional: true}\n";
    // (name, config.yaml, jobs, required, required-if-present, optional)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        (
            "no policy - use prow jobs",
            "branch-protection:\n  protect: true\n  required_status_checks:\n    contexts: [r1, r2]\n",
            jobs_static,
            &["pr1"],
            &[],
            &["po1"],
        ),
        (
            "no policy no prow jobs defined - empty",
            "branch-protection:\n  protect: true\n  required_status_checks:\n    contexts: [r1, r2]\n",
            "",
            &[],
            &[],
            &[],
        ),
        (
            "no branch protection",
            "tide:\n  context_options:\n    from-branch-protection: true\n",
            "",
            &[],
            &[],
            &[],
        ),
        (
            "invalid branch protection",
            "branch-protection:\n  orgs:\n    org:\n      protect: false\ntide:\n  context_options:\n    from-branch-protection: true\n",
            "",
            &[],
            &[],
            &[],
        ),
        (
            "branch protection with manually required triggered jobs",
            "branch-protection:\n  orgs:\n    org:\n      require_manually_triggered_jobs: true\ntide:\n  context_options:\n    from-branch-protection: true\n",
            "presubmits:\n  org/repo:\n  - {name: pr1}\n  - {name: pr2, always_run: true}\n",
            &["pr1", "pr2"],
            &[],
            &[],
        ),
        (
            "manually defined policy",
            "tide:\n  context_options:\n    required-contexts: [r1]\n    optional-contexts: [o1]\n    optional-regex-contexts: ['b.*']\n    skip-unknown-contexts: true\n",
            "",
            &["r1"],
            &[],
            &["o1"],
        ),
        (
            "branch protection contexts join when protected",
            "branch-protection:\n  orgs:\n    org:\n      protect: true\n      required_status_checks:\n        contexts: [bp1]\ntide:\n  context_options:\n    from-branch-protection: true\n",
            jobs_static,
            &["bp1", "pr1"],
            &[],
            &["po1"],
        ),
    ];
    for (name, config, jobs, required, if_present, optional) in cases {
        let config = with_presubmits(config, jobs.trim_start_matches("presubmits:\n"));
        let presubmits = config
            .jobs
            .presubmits
            .get("org/repo")
            .cloned()
            .unwrap_or_default();
        let policy =
            warnings::tide_context_policy(&config.prow, "org", "repo", "branch", &presubmits)
                .unwrap_or_else(|e| panic!("{name}: {}", e.reason));
        assert_eq!(policy.required_contexts, *required, "{name}");
        assert_eq!(policy.required_if_present_contexts, *if_present, "{name}");
        assert_eq!(policy.optional_contexts, *optional, "{name}");
        if *name == "manually defined policy" {
            assert_eq!(policy.optional_regex_contexts, ["b.*"]);
            assert_eq!(policy.skip_unknown_contexts, Some(true));
            assert!(policy.is_optional("bar"));
        }
    }
}

#[test]
fn branch_requirements_table() {
    let basic = "presubmits:\n  o/r:\n  - {name: always-run, always_run: true}\n  - {name: run-if-changed, run_if_changed: foo}\n  - {name: skip-if-only-changed, skip_if_only_changed: foo}\n  - {name: not-always}\n  - {name: skip-report, always_run: true, skip_report: true, skip_branches: [master]}\n  - {name: optional, always_run: true, optional: true}\n";
    let manual = "presubmits:\n  o/r:\n  - {name: always-run false}\n  - {name: always-run false skip master, skip_branches: [master]}\n  - {name: run-if-changed, run_if_changed: foo}\n  - {name: skip-if-only-changed, skip_if_only_changed: foo}\n  - {name: skip-report, always_run: true, skip_report: true, skip_branches: [master]}\n  - {name: optional, always_run: true, optional: true}\n";
    type Split = (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    );
    // (jobs, require manually triggered, master, other)
    let cases: &[(&str, Option<bool>, Split, Split)] = &[
        (
            basic,
            None,
            (
                &["always-run"],
                &["run-if-changed", "skip-if-only-changed", "not-always"],
                &["optional"],
            ),
            (
                &["always-run"],
                &["run-if-changed", "skip-if-only-changed", "not-always"],
                &["skip-report", "optional"],
            ),
        ),
        (
            manual,
            Some(true),
            (
                &["always-run false"],
                &["run-if-changed", "skip-if-only-changed"],
                &["optional"],
            ),
            (
                &["always-run false", "always-run false skip master"],
                &["run-if-changed", "skip-if-only-changed"],
                &["skip-report", "optional"],
            ),
        ),
    ];
    for (jobs, manual, master, other) in cases {
        let config = with_presubmits("", jobs.trim_start_matches("presubmits:\n"));
        let presubmits = &config.jobs.presubmits["o/r"];
        for (branch, (req, ifp, opt)) in [("master", master), ("other", other)] {
            let (r, p, o) = warnings::branch_requirements(branch, presubmits, *manual);
            assert_eq!(r, *req, "{branch}");
            assert_eq!(p, *ifp, "{branch}");
            assert_eq!(o, *opt, "{branch}");
        }
    }
}

#[test]
fn branch_protection_for_follows_prow() {
    let jobs = "presubmits:\n  org/repo:\n  - {name: req, always_run: true}\n";
    type Expected = Result<Option<&'static [&'static str]>, &'static str>;
    let cases: &[(&str, Expected)] = &[
        ("", Ok(None)),
        (
            "branch-protection:\n  orgs:\n    org:\n      protect: false\n",
            Err("required prow jobs require branch protection"),
        ),
        (
            "branch-protection:\n  allow_disabled_job_policies: true\n  orgs:\n    org:\n      protect: false\n",
            Ok(None),
        ),
        (
            "branch-protection:\n  protect-tested-repos: true\n  orgs:\n    org: {}\n",
            Ok(Some(&["req"])),
        ),
        (
            "branch-protection:\n  orgs:\n    org:\n      protect: true\n      required_status_checks:\n        contexts: [extra]\n",
            Ok(Some(&["extra", "req"])),
        ),
        (
            "branch-protection:\n  orgs:\n    org:\n      repos:\n        repo:\n          branches:\n            branch:\n              enforce_admins: true\n",
            Err("defined branch policies must set protect or unmanaged=true"),
        ),
    ];
    for (yaml, expected) in cases {
        let config = with_presubmits(yaml, jobs.trim_start_matches("presubmits:\n"));
        let got = warnings::branch_protection_for(
            &config.prow,
            "org",
            "repo",
            "branch",
            &config.jobs.presubmits["org/repo"],
        );
        let got = got.map(|p| {
            p.map(|p| {
                p.required_status_checks
                    .map(|c| c.contexts)
                    .unwrap_or_default()
            })
        });
        let expected = expected
            .map(|o| o.map(|c| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()))
            .map_err(str::to_owned);
        assert_eq!(got, expected, "{yaml}");
    }
}

// ---------------------------------------------------------------------------------------------
// validate-cluster-field (upstream TestValidateClusterField).

#[test]
fn validate_cluster_field_table() {
    let statuses: BTreeMap<String, String> = [
        ("default", "Reachable"),
        ("build1", "Reachable"),
        ("build2", "No successful pod creation in cluster"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let cases: &[(&str, &str, bool, &str)] = &[
        (
            "Jenkins job with unset cluster",
            "{name: some-job, agent: jenkins}",
            false,
            "",
        ),
        (
            "jenkins job with defaulted cluster",
            "{name: some-job, agent: jenkins, cluster: default}",
            false,
            "",
        ),
        (
            "jenkins job must not set cluster",
            "{name: some-job, agent: jenkins, cluster: build1}",
            false,
            "org1/repo1: some-job: cannot set cluster field if agent is jenkins",
        ),
        (
            "k8s job can set cluster",
            "{name: j, decorate: true, cluster: default, spec: {containers: [{image: x, command: [run]}]}}",
            false,
            "",
        ),
        (
            "reachable cluster",
            "{name: j, decorate: true, cluster: build1, spec: {containers: [{image: x, command: [run]}]}}",
            true,
            "",
        ),
        (
            "unreachable cluster only logs",
            "{name: my-job, decorate: true, cluster: build2, spec: {containers: [{image: x, command: [run]}]}}",
            true,
            "",
        ),
        (
            "unknown cluster",
            "{name: my-job, decorate: true, cluster: build3, spec: {containers: [{image: x, command: [run]}]}}",
            true,
            "org1/repo1: job configuration for \"my-job\" specifies unknown 'cluster' value \"build3\"",
        ),
        (
            "status file not there yet",
            "{name: my-job, decorate: true, cluster: build3, spec: {containers: [{image: x, command: [run]}]}}",
            false,
            "",
        ),
    ];
    for (name, job, known, expected) in cases {
        let config = load_yaml(
            DECORATED,
            Some(&format!("presubmits:\n  org1/repo1:\n  - {job}\n")),
        );
        let mut opts = WarningOptions::default();
        if *known {
            opts = opts.with_cluster_statuses(statuses.clone());
        }
        let found = messages(&warnings::validate_cluster_field(&config, &opts)).join("\n");
        assert_eq!(found, *expected, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// validate-unmanaged-branchconfig-has-no-subconfig (upstream table).

#[test]
fn unmanaged_branchconfig_table() {
    let layers = |global: &str, org: &str, repo: &str, branch: &str| {
        format!(
            "branch-protection:\n  exclude: [some-regex]\n{global}  orgs:\n    my-org:\n      exclude: [some-regex]\n{org}      repos:\n        my-repo:\n          exclude: [some-regex]\n{repo}          branches:\n            my-branch:\n              protect: true\n              exclude: [some-regex]\n{branch}"
        )
    };
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("Empty config, no error", String::new(), &[]),
        (
            "Globally disabled, errors for global and org config",
            layers("  unmanaged: true\n", "", "", ""),
            &[
                "branch protection is globally set to unmanaged, but has configuration",
                "branch protection config is globally set to unmanaged but has configuration for org my-org without setting the org to unmanaged: false",
            ],
        ),
        (
            "Org-level disabled, errors for org policy and repos",
            layers("", "      unmanaged: true\n", "", ""),
            &[
                "branch protection config for org my-org is set to unmanaged, but it defines settings",
                "branch protection config for repo my-org/my-repo is defined, but branch protection is unmanaged for org my-org without setting the repo to unmanaged: false",
            ],
        ),
        (
            "Repo-level disabled, errors for repo policy and branches",
            layers("", "", "          unmanaged: true\n", ""),
            &[
                "branch protection config for repo my-org/my-repo is set to unmanaged, but it defines settings",
                "branch protection for repo my-org/my-repo is set to unmanaged, but it defines settings for branch my-branch without setting the branch to unmanaged: false",
            ],
        ),
        (
            "Branch-level disabled, errors for branch policy",
            layers("", "", "", "              unmanaged: true\n"),
            &[
                "branch protection config for branch my-branch in repo my-org/my-repo is set to unmanaged but defines settings",
            ],
        ),
        (
            "unmanaged repo level is overridden by branch level, no errors",
            layers(
                "",
                "",
                "          unmanaged: true\n",
                "              unmanaged: false\n",
            ),
            &[],
        ),
    ];
    for (name, yaml, expected) in cases {
        let found = run(
            "validate-unmanaged-branchconfig-has-no-subconfig",
            &load_yaml(&yaml, None),
        );
        assert_eq!(found, *expected, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// required-job-annotations (upstream TestValidateRequiredJobAnnotations).

#[test]
fn required_job_annotations_table() {
    let spec = "decorate: true, spec: {containers: [{image: x, command: [run]}]}";
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        ("no annotation is required, pass", "", &[], &[]),
        (
            "jobs don't have required annotation, fail",
            "annotations: {prow.k8s.io/cat: meow}, ",
            &["prow.k8s.io/maintainer"],
            &[
                "job 'pre' is missing required annotations: prow.k8s.io/maintainer",
                "job 'post' is missing required annotations: prow.k8s.io/maintainer",
                "job 'per' is missing required annotations: prow.k8s.io/maintainer",
            ],
        ),
        (
            "jobs have required annotations, pass",
            "annotations: {prow.k8s.io/maintainer: m}, ",
            &["prow.k8s.io/maintainer"],
            &[],
        ),
        (
            "two missing annotations are listed together",
            "",
            &["a", "b"],
            &[
                "job 'pre' is missing required annotations: [a, b]",
                "job 'post' is missing required annotations: [a, b]",
                "job 'per' is missing required annotations: [a, b]",
            ],
        ),
    ];
    for (name, annotations, required, expected) in cases {
        let jobs = format!(
            "presubmits:\n  org/repo:\n  - {{name: pre, {annotations}{spec}}}\npostsubmits:\n  org/repo:\n  - {{name: post, {annotations}{spec}}}\nperiodics:\n- {{name: per, interval: 1h, {annotations}{spec}}}\n"
        );
        let config = load_yaml(DECORATED, Some(&jobs));
        let opts = WarningOptions::default()
            .with_required_job_annotations(required.iter().map(|s| (*s).to_owned()).collect());
        let found = messages(&warnings::required_job_annotations(&config, &opts));
        assert_eq!(found, *expected, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Job warnings without upstream tables.

#[test]
fn job_warnings() {
    let long = "a".repeat(64);
    let ok = "b".repeat(63);
    let jobs = format!(
        "presubmits:\n  org/repo:\n  - {{name: {long}, decorate: true, spec: {{containers: [{{image: x, command: [run]}}]}}}}\n  - {{name: {ok}, decorate: true, spec: {{containers: [{{image: x, command: [run]}}]}}}}\n  - {{name: plain, decorate: false, spec: {{containers: [{{image: x, command: [run]}}]}}}}\n  - {{name: jenkins-{long}, agent: jenkins}}\npostsubmits:\n  org/repo:\n  - {{name: post-{long}, decorate: true, spec: {{containers: [{{image: x, command: [run]}}]}}}}\nperiodics:\n- {{name: per-{long}, interval: 1h, decorate: true, path_alias: x/y, spec: {{containers: [{{image: x, command: [run]}}]}}}}\n- {{name: clone, interval: 1h, decorate: true, clone_depth: 1, spec: {{containers: [{{image: x, command: [run]}}]}}}}\n"
    );
    let config = load_yaml(DECORATED, Some(&jobs));
    assert_eq!(
        run("long-job-names", &config),
        [
            format!(
                "name of Presubmit job \"{long}\" (for repo \"org/repo\") too long (should be at most 63 characters)"
            ),
            format!(
                "name of Postsubmit job \"post-{long}\" (for repo \"org/repo\") too long (should be at most 63 characters)"
            ),
            format!(
                "name of Periodic job \"per-{long}\" too long (should be at most 63 characters)"
            ),
        ]
    );
    assert_eq!(
        run("non-decorated-jobs", &config),
        [
            "the following jobs use the kubernetes provider but do not use the pod utilities: [plain]"
        ]
    );
    assert_eq!(
        run("periodic-default-clone-config", &config),
        [
            format!("periodic jobs might clone 0, 1, or more repos, top level `clone_depth`, `clone_uri`, and `path_alias` don't have any effect. Name: \"per-{long}\""),
            "periodic jobs might clone 0, 1, or more repos, top level `clone_depth`, `clone_uri`, and `path_alias` don't have any effect. Name: \"clone\"".to_owned(),
        ]
    );
    let found = run_warning("long-job-names", &config, &WarningOptions::default()).unwrap();
    assert_eq!(found[0].field, "presubmits[\"org/repo\"][0].name");
    assert!(
        found[0]
            .file
            .as_ref()
            .is_some_and(|f| f.ends_with("jobs.yaml"))
    );
    assert_eq!(found[0].job.as_deref(), Some(long.as_str()));
}

#[test]
fn valid_decoration_config_reports_incomplete_configs() {
    // Prow refuses to load a decorated job whose containers meet a bad decoration config, so
    // after a load the warning cannot fire; as upstream's tables do, the jobs are set directly.
    let config = with_presubmits(
        "plank:\n  default_decoration_configs:\n    '*':\n      utility_images: {clonerefs: c, initupload: i, entrypoint: e}\n      gcs_configuration: {bucket: b, path_strategy: explicit}\n      gcs_credentials_secret: creds\n",
        "org/repo:\n- {name: d, agent: kubernetes, decorate: true, decoration_config: {utility_images: {clonerefs: c, initupload: i, entrypoint: e}, gcs_configuration: {bucket: b, path_strategy: explicit}}, spec: {containers: [{image: x, command: [run]}]}}\n- {name: u, agent: kubernetes, decorate: false, spec: {containers: [{image: x, command: [run]}]}}\n",
    );
    assert_eq!(
        run("valid-decoration-config", &config),
        ["the following utility images are not specified: [\"sidecar\"]"]
    );
    let good = load_yaml(
        DECORATED,
        Some(
            "presubmits:\n  org/repo:\n  - {name: d, decorate: true, spec: {containers: [{image: x, command: [run]}]}}\n",
        ),
    );
    assert!(run("valid-decoration-config", &good).is_empty());
}

#[test]
fn needs_ok_to_test_flags_lgtm_queries_forbidding_it() {
    let config = load_yaml(
        "tide:\n  queries:\n  - repos: [a/b]\n    labels: [lgtm]\n  - repos: [a/b]\n    labels: [lgtm, approved]\n    missingLabels: [needs-ok-to-test]\n",
        None,
    );
    // Prow counts positions after merging and sorting the queries at load: the second query
    // of the file sorts first.
    insta::assert_snapshot!(run("needs-ok-to-test", &config).join("\n"), @r#"the tide query at position 0forbids the "needs-ok-to-test" label and requires the "lgtm" label, which is not recommended; see https://docs.prow.k8s.io/docs/components/core/tide/maintainers/#best-practices for more information"#);
}

#[test]
fn gerrit_rerun_commands_must_match_the_allowed_trigger() {
    let jobs = "presubmits:\n  org/repo:\n  - {name: a, decorate: true, spec: {containers: [{image: x, command: [run]}]}}\n  - {name: b, decorate: true, trigger: '(?m)^/check b$', rerun_command: /check b, spec: {containers: [{image: x, command: [run]}]}}\n";
    let open = load_yaml(DECORATED, Some(jobs));
    assert!(warnings::gerrit_rerun_commands(&open).is_empty());
    let strict = load_yaml(
        &format!("{DECORATED}gerrit:\n  allowed_presubmit_trigger_re: '^/test '\n"),
        Some(jobs),
    );
    assert_eq!(
        messages(&warnings::gerrit_rerun_commands(&strict)),
        [
            "rerun command /check b in job b does not conform to test command requirements,please make sure the trigger regex is a subset of ^/test  and the rerun command matches the trigger regex"
        ]
    );
}

#[test]
fn go_url_parse_table() {
    let cases: &[(&str, Option<&str>)] = &[
        ("https://github.com/kubernetes/test-infra/issues", None),
        ("", None),
        ("relative/path", None),
        ("mailto:someone@example.com", None),
        ("http://[::1]:8080/x", None),
        (
            "http://host:port/",
            Some("invalid port \":port\" after host"),
        ),
        ("http://host/%zz", Some("invalid URL escape \"%zz\"")),
        ("http://host/a%2", Some("invalid URL escape \"%2\"")),
        (":foo", Some("missing protocol scheme")),
        (
            "1a:b",
            Some("first path segment in URL cannot contain colon"),
        ),
        ("http://a b/", Some("invalid character \" \" in host name")),
        ("http://[::1/", Some("missing ']' in host")),
        (
            "http://x\n",
            Some("net/url: invalid control character in URL"),
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(
            warnings::go_url_parse_error(url).as_deref(),
            *expected,
            "{url:?}"
        );
    }
    let bad = load_yaml("status_error_link: 'http://host:port/'\n", None);
    assert_eq!(
        run("validate-urls", &bad),
        ["status_error_link is not a valid url: http://host:port/"]
    );
    assert!(run("validate-urls", &load_yaml("", None)).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Snapshots over the committed bad-config fixtures.

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/warnings")
}

/// Findings as text with the fixture directory shown relative.
fn render(findings: &[Finding], base: &Path) -> String {
    findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let Some(file) = &f.file {
                f.file = Some(file.strip_prefix(base).unwrap_or(file).to_path_buf());
            }
            f.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn snapshots_of_bad_configs() {
    let dir = data_dir();
    for name in CONFIG_WARNINGS {
        // No loadable config can trigger it (see valid_decoration_config_reports_incomplete_configs).
        if *name == "valid-decoration-config" {
            continue;
        }
        let config_path = dir.join(name).join("config.yaml");
        let jobs_path = dir.join(name).join("jobs.yaml");
        let jobs = jobs_path.is_file().then_some(jobs_path);
        let config = load(&LoadOptions::new(&config_path, jobs))
            .unwrap_or_else(|e| panic!("{}: {e}", config_path.display()));
        let mut opts = WarningOptions::new(Some(config_path.clone()))
            .with_required_job_annotations(vec!["owner".to_owned()]);
        if *name == "validate-cluster-field" {
            opts =
                opts.with_cluster_statuses([("default".to_owned(), "Reachable".to_owned())].into());
        }
        let findings = run_warning(name, &config, &opts).expect("implemented");
        assert!(
            !findings.is_empty(),
            "{name}: the fixture must trigger the warning"
        );
        insta::assert_snapshot!(format!("warning_{name}"), render(&findings, &dir));
    }
}

#[test]
fn snapshot_of_gerrit_rerun_commands() {
    let dir = data_dir();
    let base = dir.join("gerrit-rerun-commands");
    let config = load(&LoadOptions::new(
        base.join("config.yaml"),
        Some(base.join("jobs.yaml")),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let findings = warnings::gerrit_rerun_commands(&config);
    assert_eq!(findings.len(), 1, "only e2e's /run command breaks the rule");
    insta::assert_snapshot!("warning_gerrit-rerun-commands", render(&findings, &dir));
}

// ---------------------------------------------------------------------------------------------
// The corpus: what upstream's checkconfig would say for the warnings each deployment enables.

use crate::corpus::corpus;

/// Runs every implemented warning over a deployment; returns findings by warning name.
fn corpus_findings(config: &str, jobs: &str) -> BTreeMap<&'static str, Vec<Finding>> {
    let root = corpus();
    let options = LoadOptions::new(root.join(config), Some(root.join(jobs)));
    let loaded = load(&options).unwrap_or_else(|e| panic!("{config}: {e}"));
    let opts = WarningOptions::new(Some(root.join(config)));
    let mut out = BTreeMap::new();
    for name in CONFIG_WARNINGS {
        out.insert(
            *name,
            run_warning(name, &loaded, &opts).expect("implemented"),
        );
    }
    out.insert("gerrit", warnings::gerrit_rerun_commands(&loaded));
    out
}

fn counts(found: &BTreeMap<&'static str, Vec<Finding>>) -> BTreeMap<&'static str, usize> {
    found.iter().map(|(k, v)| (*k, v.len())).collect()
}

/// Checks one deployment: the warnings its own checkconfig run enables (with `--strict`) find
/// nothing, and every implemented warning finds the expected number of problems.
fn check_corpus(config: &str, jobs: &str, enabled: &[&str], expected: &[(&str, usize)]) {
    let found = corpus_findings(config, jobs);
    for name in enabled {
        let listing: Vec<String> = found[name].iter().map(ToString::to_string).collect();
        assert!(
            listing.is_empty(),
            "{config}: {name}:\n{}",
            listing.join("\n")
        );
    }
    let expected: BTreeMap<&str, usize> = expected.iter().copied().collect();
    let got: BTreeMap<&str, usize> = counts(&found).into_iter().filter(|(_, n)| *n > 0).collect();
    assert_eq!(got, expected, "{config}");
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn corpus_k8s_test_infra() {
    // test-infra's ci-test-infra-prow-checkconfig runs with --strict and these warnings (the
    // others it names need plugins.yaml); the gerrit rerun-command check always runs.
    let enabled = [
        "tide-strict-branch",
        "needs-ok-to-test",
        "validate-urls",
        "duplicate-job-refs",
        "non-decorated-jobs",
        "valid-decoration-config",
        "gerrit",
    ];
    // Not enabled there, and real: 320 kubernetes jobs have names over 63 bytes and 20
    // minikube periodics set `path_alias` (both counted independently with a YAML parser).
    check_corpus(
        "k8s-test-infra/config/prow/config.yaml",
        "k8s-test-infra/config/jobs",
        &enabled,
        &[
            ("long-job-names", 320),
            ("periodic-default-clone-config", 20),
        ],
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn corpus_knative_infra() {
    // knative's pull-infra-validate-prow-yaml runs the default warnings with --strict, less
    // mismatched-tide, non-decorated-jobs and long-job-names.
    let enabled: Vec<&str> = DEFAULT_WARNINGS
        .iter()
        .copied()
        .filter(|w| CONFIG_WARNINGS.contains(w))
        .filter(|w| !["non-decorated-jobs", "long-job-names"].contains(w))
        .chain(["gerrit"])
        .collect();
    // The excluded long-job-names would find 16 generated kafka/keda job names.
    check_corpus(
        "knative-infra/prow/config.yaml",
        "knative-infra/prow/jobs",
        &enabled,
        &[("long-job-names", 16)],
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn corpus_jetstack_testing() {
    // jetstack's pull-testing-config runs checkconfig -strict with the defaults of its day;
    // today's defaults find nothing either.
    let enabled: Vec<&str> = CONFIG_WARNINGS.iter().copied().chain(["gerrit"]).collect();
    check_corpus(
        "jetstack-testing/config/config.yaml",
        "jetstack-testing/config/jobs",
        &enabled,
        &[],
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn corpus_kyma_project_test_infra() {
    // kyma's copy runs no checkconfig. tide-strict-branch is right to complain: Tide merges
    // the whole kyma-incubator org, yet branch protection sets `strict: true` on the main
    // branch of compass and ord-service, so Prow's checkconfig reports those two repos.
    let found = corpus_findings(
        "kyma-project-test-infra/prow/config.yaml",
        "kyma-project-test-infra/prow/jobs",
    );
    let strict = &found["tide-strict-branch"];
    assert_eq!(strict.len(), 1);
    assert!(
        strict[0].message.starts_with("the following enable strict branchprotection context requirements even though Tide handles merges: [repo: kyma-incubator/compass; repo: kyma-incubator/ord-service]. "),
        "{}",
        strict[0]
    );
    let others: BTreeMap<&str, usize> = counts(&found)
        .into_iter()
        .filter(|(k, n)| *k != "tide-strict-branch" && *n > 0)
        .collect();
    assert!(others.is_empty(), "{others:?}");
}

#[test]
fn committed_corpus_subset() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    // jetstack's config passes its own `checkconfig -strict`; nothing to report.
    let jetstack = load(&LoadOptions::new(
        data.join("corpus/jetstack-testing/config/config.yaml"),
        Some(data.join("corpus/jetstack-testing/config/jobs")),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    for name in CONFIG_WARNINGS {
        let found = run(name, &jetstack);
        assert!(found.is_empty(), "jetstack {name}: {found:?}");
    }
    // kyma's config.yaml alone: the strict-branch conflict explained in the corpus test.
    let kyma_path = data.join("warnings/corpus/kyma-project-test-infra/prow/config.yaml");
    let kyma = load(&LoadOptions::new(&kyma_path, None)).unwrap_or_else(|e| panic!("{e}"));
    let found = warnings::tide_strict_branch(&kyma, &WarningOptions::new(Some(kyma_path)));
    insta::assert_snapshot!(render(&found, &data), @"warnings/corpus/kyma-project-test-infra/prow/config.yaml: branch-protection: the following enable strict branchprotection context requirements even though Tide handles merges: [repo: kyma-incubator/compass; repo: kyma-incubator/ord-service]. See #5: https://docs.prow.k8s.io/docs/components/core/tide/maintainers/#best-practices Also note that this validation is imperfect, see the check-config code for details");
}

#[test]
fn cluster_statuses_are_read_from_a_local_status_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let status = dir.path().join("status.json");
    let jobs = "presubmits:\n  org1/repo1:\n  - {name: my-job, decorate: true, cluster: build3, spec: {containers: [{image: x, command: [run]}]}}\n";
    let with_file = |location: &str| {
        load_yaml(
            &format!("{DECORATED}  build_cluster_status_file: '{location}'\n"),
            Some(jobs),
        )
    };
    let unknown =
        "org1/repo1: job configuration for \"my-job\" specifies unknown 'cluster' value \"build3\"";
    // Not written yet: skipped, like Prow.
    let config = with_file(&status.display().to_string());
    assert_eq!(run("validate-cluster-field", &config), Vec::<String>::new());
    std::fs::write(
        &status,
        r#"{"default": "Reachable", "build1": "Reachable"}"#,
    )
    .unwrap();
    assert_eq!(run("validate-cluster-field", &config), [unknown]);
    std::fs::write(
        &status,
        r#"{"default": "Reachable", "build3": "Reachable"}"#,
    )
    .unwrap();
    assert!(run("validate-cluster-field", &config).is_empty());
    std::fs::write(&status, "[not a map").unwrap();
    let found = run("validate-cluster-field", &config);
    assert!(
        found[0].starts_with("error unmarshalling build cluster status file: "),
        "{found:?}"
    );
    // Buckets are not fetched offline.
    assert!(
        run(
            "validate-cluster-field",
            &with_file("gs://bucket/status.json")
        )
        .is_empty()
    );
}

mod proptest_urls {
    use super::warnings::go_url_parse_error;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// URLs made of a scheme, a host, an optional numeric port and a plain path parse.
        #[test]
        fn proptest_plain_urls_parse(
            scheme in "[a-z][a-z0-9+.-]{0,6}",
            host in "[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?",
            port in proptest::option::of(0u32..65536),
            path in "(/[A-Za-z0-9._~-]{0,8}){0,4}",
            query in proptest::option::of("[A-Za-z0-9=&]{0,10}"),
        ) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            let url = format!("{scheme}://{host}{port}{path}{query}");
            prop_assert_eq!(go_url_parse_error(&url), None, "{}", url);
        }

        /// A control character anywhere is rejected, as Go's parser does first of all.
        #[test]
        fn proptest_control_characters_are_rejected(
            before in "[A-Za-z0-9:/.]{0,12}",
            control in prop_oneof![0u8..0x20, Just(0x7f)],
            after in "[A-Za-z0-9:/.]{0,12}",
        ) {
            let url = format!("{before}{}{after}", control as char);
            let found = go_url_parse_error(&url);
            prop_assert_eq!(
                found.as_deref(),
                Some("net/url: invalid control character in URL")
            );
        }

        /// A `%` not followed by two hex digits is rejected in the path.
        #[test]
        fn proptest_bad_escapes_are_rejected(path in "[a-z]{0,5}", tail in "[g-z]{0,2}") {
            let url = format!("https://example.com/{path}%{tail}");
            prop_assert!(go_url_parse_error(&url).is_some(), "{}", url);
        }
    }
}

#[test]
fn tide_strict_branch_stops_at_a_branch_without_protect() {
    // Prow's loader accepts this; the strict-branch check cannot merge the branch policy.
    let config = load_yaml(
        "tide:\n  queries:\n  - orgs: [acme]\nbranch-protection:\n  orgs:\n    acme:\n      repos:\n        api:\n          branches:\n            main:\n              enforce_admins: true\n",
        None,
    );
    let found = run_warning("tide-strict-branch", &config, &WarningOptions::default()).unwrap();
    assert_eq!(
        messages(&found),
        [
            "error for repo=acme/api and branch=main: defined branch policies must set protect or unmanaged=true"
        ]
    );
    assert_eq!(
        found[0].field,
        "branch-protection.orgs[\"acme\"].repos[\"api\"].branches[\"main\"]"
    );
}
