//! The typed `config.yaml` schema: real configs parse with no unknown fields, Tide's lookups
//! match upstream's tables, Prow's defaults and messages, and config → YAML → config.

use std::path::{Path, PathBuf};

use crate::corpus::corpus;

use proptest::prelude::*;
use prow_config::prow::{
    BranchProtection, GitHubMergeBlocksPolicy, OrgPolicy, Policy, ProwConfig, Tide,
    TideContextPolicy, TideContextPolicyOptions, TideOrgContextPolicy, TideOrgMergeType, TideQuery,
    TideRepoContextPolicy,
};
use prow_config::{Config, Error, LoadOptions, load};
use prow_core::{Duration, MergeMethod, MetaDuration};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/schema")
        .join(rel)
}

/// Loads `config.yaml` alone; panics with every error when it does not load.
fn load_config(path: &Path) -> Config {
    match load(&LoadOptions::new(path, None)) {
        Ok(config) => config,
        Err(Error::Invalid { errors }) => {
            let listing: Vec<_> = errors.iter().map(ToString::to_string).collect();
            panic!("{}:\n{}", path.display(), listing.join("\n"))
        }
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// Parses YAML as a `ProwConfig` without defaults or validation; returns it and the paths of
/// the fields it did not know.
fn parse(text: &str) -> (ProwConfig, Vec<String>) {
    let mut unknown = Vec::new();
    let de = serde_yaml::Deserializer::from_str(text);
    let config: ProwConfig = serde_ignored::deserialize(de, |path| unknown.push(path.to_string()))
        .expect("parses as a ProwConfig");
    (config, unknown)
}

fn unknown_fields(config: &Config) -> Vec<String> {
    config
        .warnings
        .iter()
        .filter(|w| w.message == "unknown field")
        .map(ToString::to_string)
        .collect()
}

fn duration(text: &str) -> Option<MetaDuration> {
    Some(MetaDuration(Duration::parse(text).expect("a Go duration")))
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn corpus_configs_load_with_no_unknown_fields() {
    let root = corpus();
    let mut problems = Vec::new();
    for rel in [
        "k8s-test-infra/config/prow/config.yaml",
        "knative-infra/prow/config.yaml",
        "kyma-project-test-infra/prow/config.yaml",
        "jetstack-testing/config/config.yaml",
        "prow-testdata/test/integration/config/prow/config.yaml",
        "prow-testdata/cmd/checkconfig/testdata/combined.yaml",
    ] {
        let found = unknown_fields(&load_config(&root.join(rel)));
        let prefix = format!("{}/", root.display());
        problems.extend(found.iter().map(|f| f.replace(&prefix, "")));
    }
    // jetstack still sets `deck.rerun_auth_config`, which Prow dropped for
    // `rerun_auth_configs`: Prow ignores it too, so it is a warning.
    assert_eq!(
        problems,
        ["jetstack-testing/config/config.yaml:100: deck.rerun_auth_config: unknown field"]
    );
}

/// The generated documentation, with its `' '` placeholders replaced where prow-core types a
/// field as an enum (Prow reads any string there and rejects it later in validation).
fn documented() -> String {
    let text = std::fs::read_to_string(data("prow-config-documented.yaml")).expect("read");
    text.replace("path_strategy: ' '", "path_strategy: explicit")
}

#[test]
fn documented_config_has_no_unknown_fields() {
    let text = documented();
    let (config, unknown) = parse(&text);
    assert_eq!(unknown, Vec::<String>::new());
    // The generated file fills every field, so values deep down must have been read.
    let query = &config.tide.queries[0];
    assert!(query.review_approved_required);
    assert_eq!(query.excluded_repos, [""]);
    let org = &config.tide.context_options.orgs[""];
    assert_eq!(
        org.repos[""].branches[""].required_if_present_contexts,
        [""]
    );
    assert_eq!(org.overwrite_pending_contexts, Some(false));
    let branch = &config.branch_protection.orgs[""].repos[""].branches[""];
    let reviews = branch
        .required_pull_request_reviews
        .as_ref()
        .expect("reviews");
    assert_eq!(reviews.approvals, Some(0));
    assert_eq!(branch.unmanaged, Some(false));
    assert_eq!(config.branch_protection.protect_tested, Some(false));
    let lens = &config.deck.spyglass.lenses[0];
    assert_eq!(
        lens.remote_config.as_ref().and_then(|r| r.priority),
        Some(0)
    );
    assert_eq!(config.tide.merge_commit_template[""].title, " ");
    assert!(config.tide.display_all_queries_in_status);
    assert_eq!(
        config
            .tide
            .gerrit
            .as_ref()
            .map(|g| g.queries[0].opt_out_help),
        Some(true)
    );
    assert_eq!(
        config.scheduler.failover.as_ref().map(|f| f.mappings.len()),
        Some(1)
    );
    assert_eq!(config.pubsub_triggers[0].max_outstanding_messages, 0);
    assert_eq!(
        config.deck.default_rerun_auth_configs[0]
            .config
            .as_ref()
            .map(|c| c.allow_anyone),
        Some(true)
    );
    assert_eq!(
        config.managed_webhooks.org_repo_config[""].token_created_after,
        "0001-01-01T00:00:00Z"
    );
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn k8s_test_infra_values() {
    let root = corpus();
    let config = load_config(&root.join("k8s-test-infra/config/prow/config.yaml"));
    let prow = &config.prow;
    let tide = &prow.tide;
    // Nine queries are written; two differ only in their repos and are merged, as in Prow.
    let path = root.join("k8s-test-infra/config/prow/config.yaml");
    let (raw, _) = parse(&std::fs::read_to_string(&path).expect("read"));
    assert_eq!(raw.tide.queries.len(), 9);
    assert_eq!(tide.queries.len(), 8);
    let (seven, eight) = (&raw.tide.queries[7].repos, &raw.tide.queries[8].repos);
    let merged = tide.queries.iter().filter(|q| q.repos.contains(&seven[0]));
    assert_eq!(
        merged.map(|q| q.repos.clone()).collect::<Vec<_>>(),
        [[seven[0].clone(), eight[0].clone()]]
    );
    assert!(tide.queries.iter().any(|q| {
        q.orgs.first().map(String::as_str) == Some("kubernetes")
            && q.excluded_repos
                .iter()
                .any(|r| r == "kubernetes/kubernetes")
    }));
    assert_eq!(tide.batch_size_limit_for("kubernetes", "kubernetes"), 15);
    assert_eq!(tide.batch_size_limit_for("kubernetes", "enhancements"), -1);
    assert_eq!(tide.batch_size_limit_for("kubernetes", "test-infra"), 0);
    assert_eq!(
        tide.merge_method("kubernetes-sigs", "kro", "main"),
        MergeMethod::Rebase
    );
    assert_eq!(
        tide.merge_method("kubernetes-client", "csharp", ""),
        MergeMethod::Squash
    );
    assert_eq!(
        tide.merge_method("kubernetes", "kubernetes", "master"),
        MergeMethod::Merge
    );
    assert_eq!(tide.sync_period, duration("2m"));
    assert_eq!(tide.status_update_period, tide.sync_period);
    assert_eq!(tide.max_goroutines, 20);
    assert_eq!(tide.blocker_label, "tide/merge-blocker");
    assert_eq!(
        tide.priority[0].labels,
        ["kind/flake", "priority/critical-urgent"]
    );
    assert_eq!(
        tide.pr_status_base_url_for("any", "repo"),
        "https://prow.k8s.io/pr"
    );
    let kueue = tide
        .context_options
        .policy_for("kubernetes-sigs", "kueue", "main");
    assert!(kueue.is_optional("deploy/netlify"));
    assert!(!kueue.is_optional("pull-kueue-test"));
    let capi = tide
        .context_options
        .policy_for("kubernetes-sigs", "cluster-api", "main");
    assert_eq!(capi.from_branch_protection, Some(true));

    let bp = &prow.branch_protection;
    assert_eq!(bp.allow_disabled_policies, Some(true));
    assert_eq!(bp.orgs.len(), 4);
    let kubernetes = &bp.orgs["kubernetes"];
    assert_eq!(kubernetes.protect, Some(true));
    assert!(kubernetes.exclude.iter().any(|e| e == "^revert-"));
    let autoscaler = &kubernetes.repos["autoscaler"];
    assert_eq!(autoscaler.branches["gh-pages"].protect, Some(false));
    let levels = bp.levels("kubernetes", "autoscaler", "gh-pages");
    assert_eq!(levels.len(), 4);
    assert_eq!(
        levels[3].0,
        r#"branch-protection.orgs["kubernetes"].repos["autoscaler"].branches["gh-pages"]"#
    );

    assert_eq!(prow.deck.tide_update_period, duration("1s"));
    assert_eq!(prow.deck.spyglass.lenses.len(), 6);
    // The older rerun map is moved into entries, "*" first.
    assert!(prow.deck.rerun_auth_configs.is_empty());
    assert_eq!(prow.deck.default_rerun_auth_configs[0].org_repo, "*");
    assert_eq!(
        prow.github_reporter.job_types_to_report,
        ["presubmit", "postsubmit"]
    );
    assert!(prow.slack_reporter_configs.contains_key("*"));
    assert!(!prow.plank.default_decoration_config_entries.is_empty());
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn knative_and_committed_jetstack_values() {
    let jetstack = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/corpus/jetstack-testing/config/config.yaml");
    let config = load_config(&jetstack);
    assert_eq!(unknown_fields(&config).len(), 1, "deck.rerun_auth_config");
    let tide = &config.prow.tide;
    assert_eq!(tide.queries.len(), 4);
    assert_eq!(
        tide.merge_method("jetstack", "preflight", "master"),
        MergeMethod::Squash
    );
    assert_eq!(
        tide.merge_method("jetstack", "testing", "master"),
        MergeMethod::Merge
    );
    assert_eq!(tide.sync_period, duration("1m"));
    assert_eq!(config.prow.branch_protection.orgs.len(), 2);

    let root = corpus();
    let knative = load_config(&root.join("knative-infra/prow/config.yaml"));
    let tide = &knative.prow.tide;
    assert_eq!(
        tide.merge_method("knative", "serving", "main"),
        MergeMethod::Squash
    );
    // `target_url` is the older form of `target_urls["*"]`.
    assert!(tide.target_url.is_empty());
    assert!(
        tide.target_url_for("knative", "serving")
            .starts_with("https://")
    );
}

/// Upstream's own table (`OrgRepoBranchMergeMethod`).
#[test]
fn merge_method_table() {
    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        #[serde(default)]
        org: String,
        #[serde(default)]
        repo: String,
        #[serde(default)]
        branch: String,
        tide: Option<Tide>,
        expected: String,
    }
    let text = std::fs::read_to_string(data("tide-merge-method.yaml")).expect("read");
    let cases: Vec<Case> = serde_yaml::from_str(&text).expect("table parses");
    assert_eq!(cases.len(), 27);
    let mut failures = Vec::new();
    for case in cases {
        let tide = case.tide.unwrap_or_default();
        let got = tide.merge_method(&case.org, &case.repo, &case.branch);
        if got.as_str() != case.expected {
            failures.push(format!(
                "{}: got {}, want {}",
                case.name,
                got.as_str(),
                case.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn query(yaml: &str) -> TideQuery {
    serde_yaml::from_str(yaml).expect("query parses")
}

#[test]
fn query_strings() {
    let check = |yaml: &str| query(yaml).query_string();
    insta::assert_snapshot!(check("{orgs: [org]}"), @r#"is:pr state:open archived:false org:"org""#);
    insta::assert_snapshot!(
        check("{repos: [b/r, a/r], excludedRepos: [b/x], labels: [lgtm, 'approved,ok'], missingLabels: [hold]}"),
        @r#"is:pr state:open archived:false label:"lgtm" label:"approved","ok" -label:"hold" repo:"a/r" repo:"b/r" -repo:"b/x""#
    );
    insta::assert_snapshot!(
        check("{orgs: [o], author: bot, includedBranches: [main], excludedBranches: [dev], milestone: v1, reviewApprovedRequired: true}"),
        @r#"is:pr state:open archived:false author:"bot" -base:"dev" base:"main" milestone:"v1" review:approved org:"o""#
    );
    let per_org = query("{orgs: [a], repos: [b/r], excludedRepos: [a/x]}").org_queries();
    insta::assert_debug_snapshot!(per_org, @r#"
    {
        "a": "is:pr state:open archived:false org:\"a\" -repo:\"a/x\"",
        "b": "is:pr state:open archived:false repo:\"b/r\"",
    }
    "#);
    let q = query("{orgs: [a], repos: [b/r], excludedRepos: [a/x]}");
    assert!(q.for_repo("a", "y"));
    assert!(!q.for_repo("a", "x"));
    assert!(q.for_repo("b", "r"));
    assert!(!q.for_repo("b", "s"));
}

#[test]
fn query_validation_table() {
    let check = |yaml: &str| match query(yaml).validate() {
        Ok(()) => "ok".to_owned(),
        Err((field, message)) => format!("{field}: {message}"),
    };
    let table = [
        "{orgs: [o], repos: [x/y], labels: [a], missingLabels: [b]}",
        "{orgs: [o/p]}",
        "{orgs: ['']}",
        "{orgs: [o, o, p, p, p]}",
        "{repos: [nope]}",
        "{repos: [o/]}",
        "{orgs: [o], repos: [o/r]}",
        "{repos: [o/r, o/r]}",
        "{labels: [a]}",
        "{orgs: [o], excludedRepos: [o]}",
        "{orgs: [o], excludedRepos: [p/r]}",
        "{orgs: [o], excludedRepos: [o/r, o/r]}",
        "{orgs: [o], labels: [b, a], missingLabels: [a, b]}",
        "{orgs: [o], labels: [a, a]}",
        "{orgs: [o], missingLabels: [a, a]}",
        "{orgs: [o], includedBranches: [m], excludedBranches: [d]}",
        "{orgs: [o], includedBranches: [m, m]}",
        "{orgs: [o], excludedBranches: [d, d]}",
    ];
    let out: Vec<String> = table
        .iter()
        .map(|q| format!("{q}\n  {}", check(q)))
        .collect();
    insta::assert_snapshot!(out.join("\n"), @r#"
    {orgs: [o], repos: [x/y], labels: [a], missingLabels: [b]}
      ok
    {orgs: [o/p]}
      orgs: orgs[0]: "o/p" contains a '/' which is not valid
    {orgs: ['']}
      orgs: orgs[0]: is an empty string
    {orgs: [o, o, p, p, p]}
      orgs: "orgs" contains 3 duplicate entries: o, p
    {repos: [nope]}
      repos: repos[0]: "nope" is not of the form "org/repo"
    {repos: [o/]}
      repos: repos[0]: "o/" is not of the form "org/repo"
    {orgs: [o], repos: [o/r]}
      repos: repos[0]: "o/r" is already included via org: "o"
    {repos: [o/r, o/r]}
      repos: "repos" contains 1 duplicate entries: o/r
    {labels: [a]}
      orgs: 'orgs' and 'repos' cannot both be empty
    {orgs: [o], excludedRepos: [o]}
      excludedRepos: excludedRepos[0]: "o" is not of the form "org/repo"
    {orgs: [o], excludedRepos: [p/r]}
      excludedRepos: excludedRepos[0]: "p/r" has no effect because org "p" is not included
    {orgs: [o], excludedRepos: [o/r, o/r]}
      excludedRepos: "excludedRepos" contains 1 duplicate entries: o/r
    {orgs: [o], labels: [b, a], missingLabels: [a, b]}
      labels: the labels: ["a" "b"] are both required and forbidden
    {orgs: [o], labels: [a, a]}
      labels: "labels" contains 1 duplicate entries: a
    {orgs: [o], missingLabels: [a, a]}
      missingLabels: "missingLabels" contains 1 duplicate entries: a
    {orgs: [o], includedBranches: [m], excludedBranches: [d]}
      includedBranches: both 'includedBranches' and 'excludedBranches' are specified ('excludedBranches' have no effect)
    {orgs: [o], includedBranches: [m, m]}
      includedBranches: "includedBranches" contains 1 duplicate entries: m
    {orgs: [o], excludedBranches: [d, d]}
      excludedBranches: "excludedBranches" contains 1 duplicate entries: d
    "#);
}

#[test]
fn context_policy_merges_global_org_repo_branch() {
    let options: TideContextPolicyOptions = serde_yaml::from_str(
        "
skip-unknown-contexts: false
required-contexts: [global]
orgs:
  o:
    optional-contexts: [docs]
    repos:
      r:
        skip-unknown-contexts: true
        optional-regex-contexts: ['^netlify/']
        branches:
          main:
            required-contexts: [e2e]
            required-if-present-contexts: [lint]
",
    )
    .expect("options parse");
    let main = options.policy_for("o", "r", "main");
    assert_eq!(main.required_contexts, ["e2e", "global"]);
    assert_eq!(main.optional_contexts, ["docs"]);
    assert_eq!(main.skip_unknown_contexts, Some(true));
    assert!(main.is_optional("docs"));
    assert!(main.is_optional("netlify/deploy"));
    assert!(main.is_optional("unknown"));
    assert!(!main.is_optional("e2e"));
    assert!(!main.is_optional("lint"));
    assert_eq!(main.missing_required_contexts(&["global", "docs"]), ["e2e"]);
    assert_eq!(main.validate(), Ok(()));

    let other_org = options.policy_for("x", "r", "main");
    assert_eq!(other_org.required_contexts, ["global"]);
    assert!(!other_org.is_optional("unknown"));
    let other_branch = options.policy_for("o", "r", "dev");
    assert_eq!(other_branch.required_contexts, ["global"]);
    assert_eq!(other_branch.skip_unknown_contexts, Some(true));

    let with_jobs = other_org.with_contexts(&["unit".into()], &[], &["global".into()]);
    assert_eq!(
        with_jobs.validate(),
        Err("contexts global are defined as required and optional".to_owned())
    );
    let mut regex = TideContextPolicy::default();
    regex.optional_regex_contexts = vec!["^e2e".into()];
    regex.required_contexts = vec!["e2e-gce".into()];
    assert_eq!(
        regex.validate(),
        Err(r#"optional context regex "^e2e" matches required context e2e-gce"#.to_owned())
    );
    regex.optional_regex_contexts = vec!["(".into()];
    assert!(
        regex
            .validate()
            .unwrap_err()
            .starts_with(r#"optional context regex "(" doesn't compile"#)
    );
    // The nested structs are the ones named in the public API.
    let org: &TideOrgContextPolicy = &options.orgs["o"];
    let repo: &TideRepoContextPolicy = &org.repos["r"];
    assert_eq!(repo.branches.len(), 1);
}

#[test]
fn per_repo_lookups() {
    let tide: Tide = serde_yaml::from_str(
        "
prioritize_existing_batches: {o: false, o/keep: true}
github_merge_blocks_policy: {'*': block, o/r: ignore}
target_urls: {'*': https://all, o: https://org}
merge_commit_template: {o: {title: org-title}, o/r: {body: repo-body}}
",
    )
    .expect("tide parses");
    assert!(!tide.prioritize_existing_batches_for("o", "x"));
    assert!(tide.prioritize_existing_batches_for("o", "keep"));
    assert!(tide.prioritize_existing_batches_for("p", "x"));
    assert_eq!(
        tide.github_merge_blocks_policy_for("o", "r"),
        GitHubMergeBlocksPolicy::Ignore
    );
    assert_eq!(
        tide.github_merge_blocks_policy_for("p", "x"),
        GitHubMergeBlocksPolicy::Block
    );
    assert_eq!(
        Tide::default().github_merge_blocks_policy_for("p", "x"),
        GitHubMergeBlocksPolicy::Permit
    );
    assert_eq!(tide.target_url_for("o", "r"), "https://org");
    assert_eq!(tide.target_url_for("p", "r"), "https://all");
    assert_eq!(tide.merge_commit_template_for("o", "r").body, "repo-body");
    assert_eq!(tide.merge_commit_template_for("o", "x").title, "org-title");
    assert_eq!(tide.merge_commit_template_for("p", "x").title, "");
}

#[test]
fn defaults_of_an_empty_config() {
    let mut config = ProwConfig::default();
    config.apply_defaults();
    let once = config.clone();
    config.apply_defaults();
    assert_eq!(config, once, "defaults are idempotent");
    assert_eq!(config.validate(), Vec::new(), "defaults validate");
    insta::assert_yaml_snapshot!(config);
}

#[test]
fn older_forms_move_into_newer_ones() {
    let (mut config, unknown) = parse(
        "
plank: {report_template: r}
tide: {target_url: t, pr_status_base_url: p, sync_period: 5m}
deck:
  spyglass:
    gcs_browser_prefix: g
    viewers: {'started.json': [metadata-viewer]}
  rerun_auth_configs: {o/r: {github_users: [b]}, '*': {allow_anyone: true}, o: {github_orgs: [o]}}
pubsub_subscriptions: {proj: [sub]}
",
    );
    assert!(unknown.is_empty());
    assert_eq!(config.validate(), Vec::new());
    config.apply_defaults();
    assert_eq!(config.validate(), Vec::new());
    assert_eq!(config.plank.report_template_for("o", "r"), Some("r"));
    assert_eq!(config.tide.target_url_for("o", "r"), "t");
    assert_eq!(config.tide.pr_status_base_url_for("o", "r"), "p");
    assert_eq!(config.tide.status_update_period, duration("5m"));
    let spyglass = &config.deck.spyglass;
    assert_eq!(spyglass.gcs_browser_prefix_for("o", "r", "b"), "g");
    assert_eq!(spyglass.viewers["started.json"], ["metadata"]);
    assert_eq!(spyglass.lenses[0].lens.name, "metadata-viewer");
    let entries: Vec<&str> = config
        .deck
        .default_rerun_auth_configs
        .iter()
        .map(|e| e.org_repo.as_str())
        .collect();
    assert_eq!(entries, ["*", "o", "o/r"]);
    assert_eq!(config.pubsub_triggers[0].project, "proj");
    assert_eq!(config.pubsub_triggers[0].allowed_clusters, ["*"]);
    assert_eq!(config.pubsub_triggers[0].max_outstanding_messages, 10);
}

#[test]
fn invalid_config_lists_every_problem() {
    let path = data("invalid/config.yaml");
    let errors = match load(&LoadOptions::new(&path, None)) {
        Err(Error::Invalid { errors }) => errors,
        other => panic!("expected errors, got {other:?}"),
    };
    let file = path.display().to_string();
    let listing: Vec<String> = errors
        .iter()
        .map(|f| f.to_string().replace(&file, "invalid/config.yaml"))
        .collect();
    insta::assert_snapshot!(listing.join("\n"));
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,6}"
}

fn names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(name(), 0..3)
}

fn method() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["merge", "squash", "rebase"]).prop_map(str::to_owned)
}

fn meta_duration() -> impl Strategy<Value = Option<MetaDuration>> {
    prop::option::of((0i64..100_000).prop_map(|s| MetaDuration(Duration::from_secs(s))))
}

fn tide_query() -> impl Strategy<Value = TideQuery> {
    (
        names(),
        names(),
        names(),
        name(),
        any::<bool>(),
        names(),
        names(),
    )
        .prop_map(|(orgs, repos, labels, author, review, missing, branches)| {
            let mut q = TideQuery::default();
            q.orgs = orgs;
            q.repos = repos.into_iter().map(|r| format!("o/{r}")).collect();
            q.labels = labels;
            q.author = author;
            q.review_approved_required = review;
            q.missing_labels = missing;
            q.included_branches = branches;
            q
        })
}

fn context_policy() -> impl Strategy<Value = TideContextPolicy> {
    (
        prop::option::of(any::<bool>()),
        names(),
        names(),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(skip, required, optional, from_bp)| {
            let mut p = TideContextPolicy::default();
            p.skip_unknown_contexts = skip;
            p.required_contexts = required;
            p.optional_contexts = optional;
            p.from_branch_protection = from_bp;
            p
        })
}

fn tide() -> impl Strategy<Value = Tide> {
    (
        prop::collection::vec(tide_query(), 0..3),
        prop::collection::btree_map(name(), method(), 0..3),
        prop::collection::btree_map(name(), method(), 0..3),
        context_policy(),
        prop::collection::btree_map(name(), context_policy(), 0..2),
        meta_duration(),
        prop::collection::btree_map(name(), -1i64..20, 0..3),
        (name(), any::<bool>()),
    )
        .prop_map(
            |(queries, orgs, branches, global, branch_policies, sync, batch, (label, all))| {
                let mut tide = Tide::default();
                tide.queries = queries;
                for (org, m) in orgs {
                    tide.merge_method.insert(org, TideOrgMergeType::method(&m));
                }
                if !branches.is_empty() {
                    let yaml = serde_yaml::to_string(&branches).expect("yaml");
                    let by_repo = format!("repo:\n{}", indent(&yaml));
                    let org: TideOrgMergeType = serde_yaml::from_str(&by_repo).expect("org map");
                    tide.merge_method.insert("by-branch".into(), org);
                }
                let mut options = TideContextPolicyOptions::default();
                options.required_contexts = global.required_contexts;
                options.skip_unknown_contexts = global.skip_unknown_contexts;
                let mut repo = TideRepoContextPolicy::default();
                repo.branches = branch_policies;
                let mut org = TideOrgContextPolicy::default();
                org.repos.insert("r".into(), repo);
                options.orgs.insert("o".into(), org);
                tide.context_options = options;
                tide.sync_period = sync;
                tide.batch_size_limit = batch;
                tide.squash_label = label;
                tide.display_all_queries_in_status = all;
                tide
            },
        )
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn branch_protection() -> impl Strategy<Value = BranchProtection> {
    (
        prop::option::of(any::<bool>()),
        names(),
        prop::collection::btree_map(name(), (prop::option::of(any::<bool>()), names()), 0..3),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(protect, exclude, orgs, tested)| {
            let mut bp = BranchProtection::default();
            bp.protect = protect;
            bp.exclude = exclude;
            bp.protect_tested = tested;
            for (org, (admins, include)) in orgs {
                let mut o = OrgPolicy::default();
                o.admins = admins;
                o.include = include;
                bp.orgs.insert(org, o);
            }
            bp
        })
}

fn prow_config() -> impl Strategy<Value = ProwConfig> {
    (
        tide(),
        branch_protection(),
        meta_duration(),
        prop::option::of(0i64..10),
        names(),
        prop::collection::btree_map(name(), 0i64..10, 0..3),
        (name(), any::<bool>(), names()),
    )
        .prop_map(
            |(tide, bp, timeout, revivals, hidden, queues, (level, serve, disabled))| {
                let mut config = ProwConfig::default();
                config.tide = tide;
                config.branch_protection = bp;
                config.plank.pod_pending_timeout = timeout;
                config.plank.max_revivals = revivals;
                config.plank.job_queue_capacities = queues;
                config.sinker.max_pod_age = timeout;
                config.deck.hidden_repos = hidden;
                config.deck.tide_update_period = timeout;
                config.log_level = level;
                config.push_gateway.serve_metrics = serve;
                config.disabled_clusters = disabled;
                config
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proptest_config_yaml_config_round_trips(config in prow_config()) {
        let yaml = serde_yaml::to_string(&config).expect("serializes");
        let (back, unknown) = parse(&yaml);
        prop_assert!(unknown.is_empty(), "unknown fields {unknown:?} in\n{yaml}");
        prop_assert_eq!(back, config, "through\n{}", yaml);
    }
}

#[test]
fn documented_config_round_trips() {
    let text = documented();
    let (config, _) = parse(&text);
    let yaml = serde_yaml::to_string(&config).expect("serializes");
    let (back, unknown) = parse(&yaml);
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(back, config);
    // Spot-check that a merged policy is reported from the right levels.
    let policy: Policy = config.branch_protection.policy();
    assert_eq!(policy.include, [""]);
}

#[test]
fn tide_queries_are_deduplicated_per_tenant() {
    let (config, _) = parse(
        "
prowjob_default_entries:
- repo: private
  config: {tenant_id: secret}
tide:
  queries:
  - {orgs: [b], labels: [lgtm, approved]}
  - {repos: [a/r], labels: [approved, lgtm]}
  - {orgs: [private], labels: [lgtm, approved]}
  - {orgs: [c], labels: [lgtm], author: bot}
",
    );
    assert_eq!(config.tenant_id("private", "*"), "secret");
    assert_eq!(config.tenant_id("private/repo", "*"), "secret");
    assert_eq!(config.tenant_id("b", "*"), "GlobalDefaultID");
    let queries = config.deduplicated_tide_queries();
    let shown: Vec<String> = queries.iter().map(TideQuery::query_string).collect();
    insta::assert_snapshot!(shown.join("\n"), @r#"
    is:pr state:open archived:false author:"bot" label:"lgtm" org:"c"
    is:pr state:open archived:false label:"approved" label:"lgtm" repo:"a/r" org:"b"
    is:pr state:open archived:false label:"approved" label:"lgtm" org:"private"
    "#);
    let mut again = config.clone();
    again.tide.queries = queries.clone();
    assert_eq!(again.deduplicated_tide_queries(), queries, "idempotent");
}

#[test]
fn plain_scalars_read_as_strings_like_go() {
    let (config, unknown) = parse(
        "tide: {queries: [{orgs: [o], milestone: 1.0, labels: [123, 'true']}]}\nlog_level: 5\n",
    );
    assert!(unknown.is_empty());
    assert_eq!(config.tide.queries[0].milestone, "1.0");
    assert_eq!(config.tide.queries[0].labels, ["123", "true"]);
    assert_eq!(config.log_level, "5");
}

#[test]
fn type_errors_in_typed_sections_name_line_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.yaml");
    std::fs::write(
        &path,
        "tide:\n  merge_method:\n    org:\n      repo: [squash]\n",
    )
    .expect("write");
    let errors = match load(&LoadOptions::new(&path, None)) {
        Err(Error::Invalid { errors }) => errors,
        other => panic!("expected errors, got {other:?}"),
    };
    let shown: Vec<String> = errors
        .iter()
        .map(|f| {
            f.to_string()
                .replace(&path.display().to_string(), "config.yaml")
        })
        .collect();
    insta::assert_snapshot!(
        shown.join("\n"),
        @"config.yaml:4: tide.merge_method.org.repo: invalid type: sequence, expected a merge method (merge, squash, rebase) or a map of them"
    );
}

#[test]
fn unknown_fields_deep_in_typed_sections_are_warnings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("config.yaml");
    std::fs::write(
        &path,
        "\
tide:
  queries:
  - orgs: [o]
    lables: [lgtm]
  context_options:
    orgs:
      o:
        repos:
          r:
            branches:
              main: {requird-contexts: [x]}
branch-protection:
  orgs:
    o:
      repos:
        r: {protekt: true}
deck:
  spyglass:
    lenses:
    - lens: {name: x, config: {anything: goes}}
      required_files: [x]
      remote_config: {endpont: y}
",
    )
    .expect("write");
    let config = load_config(&path);
    let shown: Vec<String> = unknown_fields(&config)
        .iter()
        .map(|f| f.replace(&path.display().to_string(), "config.yaml"))
        .collect();
    insta::assert_snapshot!(shown.join("\n"), @r"
    config.yaml:4: tide.queries[0].lables: unknown field
    config.yaml:11: tide.context_options.orgs.o.repos.r.branches.main.requird-contexts: unknown field
    config.yaml:16: branch-protection.orgs.o.repos.r.protekt: unknown field
    config.yaml:22: deck.spyglass.lenses[0].remote_config.endpont: unknown field
    ");
}

#[test]
fn component_lookups_by_org_and_repo() {
    let (config, unknown) = parse(
        "
plank:
  job_url_prefix_config: {'*': https://all/, o: '', o/r: https://repo/}
in_repo_config:
  enabled: {'*': true, o: false, o/r: null, o/yes: true}
owners_dir_denylist:
  default: [docs]
  repos: {o: [vendor], o/r: [third_party]}
deck:
  spyglass:
    gcs_browser_prefixes: {'*': https://any/, o/r: https://repo/}
    gcs_browser_prefixes_by_bucket: {b: https://bucket/}
",
    );
    assert!(unknown.is_empty());
    let plank = &config.plank;
    assert_eq!(plank.job_url_prefix_for("o", "r"), "https://repo/");
    // An empty org entry falls through to `*`, as in Prow.
    assert_eq!(plank.job_url_prefix_for("o", "x"), "https://all/");
    let in_repo = &config.in_repo_config;
    assert!(
        !in_repo.enabled_for("o", "r"),
        "null falls through to the org"
    );
    assert!(in_repo.enabled_for("o", "yes"));
    assert!(in_repo.enabled_for("p", "x"));
    let denylist = config.owners_dir_denylist.as_ref().expect("denylist");
    assert_eq!(
        denylist.ignored_dirs("o", "r"),
        [
            "docs",
            "vendor",
            "third_party",
            r"\.git$",
            "_output$",
            "vendor/.*/.*"
        ]
    );
    let spyglass = &config.deck.spyglass;
    assert_eq!(
        spyglass.gcs_browser_prefix_for("o", "r", "b"),
        "https://repo/"
    );
    assert_eq!(
        spyglass.gcs_browser_prefix_for("o", "x", "b"),
        "https://bucket/"
    );
    assert_eq!(spyglass.gcs_browser_prefix_for("", "", "c"), "https://any/");
}
