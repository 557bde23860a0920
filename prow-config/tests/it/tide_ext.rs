//! Tide's merge-method resolution against Prow's `orgrepobranchmergemethod.yaml` table, and
//! the `merge_queue` extension keys with their conversion into engine inputs.

use std::path::PathBuf;

use prow_config::prow::Tide;
use prow_core::MergeMethod;
use prow_core::tide::{MergeBlocksPolicy, StrategyKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    repo: String,
    #[serde(default)]
    branch: String,
    #[serde(default)]
    tide: Option<Tide>,
    expected: String,
}

#[test]
fn org_repo_branch_merge_method_table() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tide/orgrepobranchmergemethod.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let cases: Vec<Case> =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let tide = c.tide.clone().unwrap_or_default();
        let got = tide.merge_method(&c.org, &c.repo, &c.branch);
        if got.as_str() != c.expected {
            failures.push(format!(
                "{}: got {}, want {}",
                c.name,
                got.as_str(),
                c.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn tide(yaml: &str) -> Tide {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

#[test]
fn merge_queue_defaults_to_prows_behaviour() {
    let t = tide("batch_size_limit: {'*': 5}");
    let o = t
        .strategy_options_for("o", "r")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.kind, StrategyKind::Tide);
    assert_eq!(o.batch_size, 5);
    assert_eq!(o.flake_retries, 0);
    assert_eq!(o.capacity, usize::MAX);
    assert!(t.merge_queue.problems().is_empty());
}

#[test]
fn merge_queue_keys_by_org_and_repo() {
    let t = tide(
        r#"
batch_size_limit: {"*": 10, "o/no-batches": -1}
merge_queue:
  strategy: {"*": bisect, "o/fast": speculative}
  flake_retries: {"o": 2}
  ci_capacity: {"*": 10, "o/fast": 20}
"#,
    );
    let o = t
        .strategy_options_for("o", "fast")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (o.kind, o.batch_size, o.capacity, o.flake_retries),
        (StrategyKind::Speculative, 10, 20, 2)
    );
    let o = t
        .strategy_options_for("x", "y")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (o.kind, o.batch_size, o.capacity, o.flake_retries),
        (StrategyKind::Bisect, 10, 10, 0)
    );
    let o = t
        .strategy_options_for("o", "no-batches")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.batch_size, 1);
}

#[test]
fn merge_queue_unsafe_strategy_only_by_name_and_the_eject_label() {
    let t = tide("merge_queue: {strategy: {'o/r': unsafe-bisect}}");
    let o = t
        .strategy_options_for("o", "r")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.kind, StrategyKind::UnsafeBisect);
    assert!(!o.kind.is_safe());
    assert!(t.merge_queue.problems().is_empty());
    assert_eq!(t.merge_queue.eject_label(), "do-not-merge/tide-ejected");
    let t = tide("merge_queue: {eject_label: queue/failed}");
    assert_eq!(t.merge_queue.eject_label(), "queue/failed");
    assert!(StrategyKind::ALL.iter().all(|k| k.is_safe()));
}

#[test]
fn merge_queue_problems_name_the_key() {
    let t = tide("merge_queue: {strategy: {'o/r': zuul}, flake_retries: {'*': -1}}");
    insta::assert_snapshot!(t.merge_queue.problems().join("\n"), @r#"
    tide.merge_queue.flake_retries["*"]: must not be negative, got -1
    tide.merge_queue.strategy["o/r"]: unknown strategy "zuul" (want tide, serial, bisect or speculative)
    "#);
    let err = t.strategy_options_for("o", "r").err().unwrap_or_default();
    assert_eq!(
        err,
        "tide.merge_queue.strategy for o/r: unknown strategy \"zuul\""
    );
}

#[test]
fn engine_inputs_from_config() {
    let t = tide(
        r#"
squash_label: tide/squash
merge_label: tide/merge
github_merge_blocks_policy: {"o": block}
priority: [{labels: [critical]}, {labels: [urgent, "a,b"]}]
context_options:
  optional-regex-contexts: ["^optional-"]
  orgs:
    o:
      required-contexts: [unit]
      skip-unknown-contexts: true
queries:
  - repos: [o/r]
    labels: [lgtm, approved]
    missingLabels: [hold]
    author: bot
"#,
    );
    let labels = t.merge_labels();
    let method = prow_core::tide::context::pr_merge_method(
        MergeMethod::Merge,
        &["tide/squash".to_string()],
        &labels,
    );
    assert_eq!(method, Some(MergeMethod::Squash));
    assert_eq!(
        t.merge_blocks_policy_for("o", "r"),
        MergeBlocksPolicy::Block
    );
    assert_eq!(
        t.merge_blocks_policy_for("x", "r"),
        MergeBlocksPolicy::Permit
    );
    let p = t
        .engine_context_policy_for("o", "r", "main")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(p.is_optional("optional-lint"));
    assert!(p.is_optional("whatever"), "skip-unknown-contexts");
    assert!(!p.is_optional("unit"));
    assert_eq!(p.missing_required_contexts(&[]), vec!["unit".to_string()]);
    let q = t.queries[0].requirements();
    assert_eq!(q.labels, vec!["lgtm", "approved"]);
    assert_eq!(q.missing_labels, vec!["hold"]);
    assert_eq!(q.author, "bot");
    assert_eq!(
        t.priority_label_sets(),
        vec![
            vec!["critical".to_string()],
            vec!["urgent".into(), "a,b".into()]
        ]
    );
    let bad = tide("context_options: {optional-regex-contexts: ['(']}");
    let err = bad
        .engine_context_policy_for("o", "r", "main")
        .err()
        .unwrap_or_default();
    assert!(err.starts_with("optional-regex-contexts \"(\":"), "{err}");
}
