//! The org/repo set algebra checkconfig uses, with upstream's test tables
//! (`cmd/checkconfig/main_test.go`).

use std::collections::BTreeSet;

use prow_config::orgrepo::{OrgRepoSet, label_plugin_enabled, tide_and_plugin_agree};

fn s(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|i| (*i).to_owned()).collect()
}

/// `orgs` as `(org, exceptions)`, then repos.
fn set(orgs: &[(&str, &[&str])], repos: &[&str]) -> OrgRepoSet {
    OrgRepoSet::new(orgs.iter().map(|(o, e)| ((*o).to_owned(), s(e))), s(repos))
}

#[test]
fn difference_table() {
    let cases = [
        (
            "subtract nil",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[], &[]),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
        ),
        (
            "no overlap",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("2", &[])], &["3/1"]),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
        ),
        (
            "subtract self",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[], &[]),
        ),
        (
            "subtract superset",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(
                &[("org", &["org/repo"]), ("org2", &[])],
                &["4/1", "4/2", "5/1"],
            ),
            set(&[], &[]),
        ),
        (
            "remove org with org",
            set(&[("org", &["org/repo", "org/foo"])], &["4/1", "4/2"]),
            set(&[("org", &["org/foo"]), ("2", &[])], &["3/1"]),
            set(&[], &["4/1", "4/2"]),
        ),
        (
            "shrink org with org",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("org", &["org/repo", "org/foo"]), ("2", &[])], &["3/1"]),
            set(&[], &["org/foo", "4/1", "4/2"]),
        ),
        (
            "shrink org with repo",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("2", &[])], &["org/foo", "3/1"]),
            set(&[("org", &["org/repo", "org/foo"])], &["4/1", "4/2"]),
        ),
        (
            "remove repo with org",
            set(&[("org", &["org/repo"])], &["4/1", "4/2", "4/3", "5/1"]),
            set(&[("2", &[]), ("4", &["4/2"])], &["3/1"]),
            set(&[("org", &["org/repo"])], &["4/2", "5/1"]),
        ),
        (
            "remove repo with repo",
            set(&[("org", &["org/repo"])], &["4/1", "4/2", "4/3", "5/1"]),
            set(&[("2", &[])], &["3/1", "4/2", "4/3"]),
            set(&[("org", &["org/repo"])], &["4/1", "5/1"]),
        ),
    ];
    for (name, a, b, expected) in cases {
        assert_eq!(a.difference(&b), expected, "{name}");
    }
}

#[test]
fn intersection_table() {
    let cases = [
        (
            "intersect empty",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[], &[]),
            set(&[], &[]),
        ),
        (
            "no overlap",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("2", &[])], &["3/1"]),
            set(&[], &[]),
        ),
        (
            "intersect self",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
        ),
        (
            "intersect superset",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(
                &[("org", &["org/repo"]), ("org2", &[])],
                &["4/1", "4/2", "5/1"],
            ),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
        ),
        (
            "remove org",
            set(&[("org", &["org/repo", "org/foo"])], &["4/1", "4/2"]),
            set(&[("org2", &["org2/repo1"])], &["4/1", "4/2", "5/1"]),
            set(&[], &["4/1", "4/2"]),
        ),
        (
            "shrink org with org",
            set(&[("org", &["org/repo", "org/bar"])], &["4/1", "4/2"]),
            set(&[("org", &["org/repo", "org/foo"]), ("2", &[])], &["3/1"]),
            set(&[("org", &["org/repo", "org/foo", "org/bar"])], &[]),
        ),
        (
            "shrink org with repo",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("2", &[])], &["org/repo", "org/foo", "3/1", "4/1"]),
            set(&[], &["org/foo", "4/1"]),
        ),
        (
            "remove repo with org",
            set(&[("org", &["org/repo"])], &["4/1", "4/2", "4/3", "5/1"]),
            set(&[("2", &[]), ("4", &["4/2"])], &["3/1"]),
            set(&[], &["4/1", "4/3"]),
        ),
        (
            "remove repo with repo",
            set(&[("org", &["org/repo"])], &["4/1", "4/2", "4/3", "5/1"]),
            set(&[("2", &[])], &["3/1", "4/2", "4/3"]),
            set(&[], &["4/2", "4/3"]),
        ),
    ];
    for (name, a, b, expected) in cases {
        assert_eq!(a.intersection(&b), expected, "{name}");
    }
}

#[test]
fn union_table() {
    let cases = [
        (
            "second empty",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[], &[]),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
        ),
        (
            "no overlap",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("2", &[])], &["3/1"]),
            set(
                &[("org", &["org/repo"]), ("2", &[])],
                &["4/1", "4/2", "3/1"],
            ),
        ),
        (
            "self",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
        ),
        (
            "superset",
            set(&[("org", &["org/repo"])], &["4/1", "4/2"]),
            set(
                &[("org", &["org/repo"]), ("org2", &[])],
                &["4/1", "4/2", "5/1"],
            ),
            set(
                &[("org", &["org/repo"]), ("org2", &[])],
                &["4/1", "4/2", "5/1"],
            ),
        ),
        (
            "common denials only",
            set(&[("org", &["org/repo", "org/bar"])], &[]),
            set(&[("org", &["org/repo", "org/foo"])], &[]),
            set(&[("org", &["org/repo"])], &[]),
        ),
        (
            "allowed repo lifts denial",
            set(&[("org", &["org/repo"])], &[]),
            set(&[], &["org/repo"]),
            set(&[("org", &[])], &[]),
        ),
        (
            "org covers repos",
            set(&[], &["4/1", "4/2", "4/3"]),
            set(&[("4", &["4/2"])], &[]),
            set(&[("4", &[])], &[]),
        ),
    ];
    for (name, a, b, expected) in cases {
        assert_eq!(a.union(&b), expected, "{name}");
    }
}

#[test]
fn tide_and_plugin_agreement_table() {
    let none = set(&[], &[]);
    let org = set(&[("org", &[])], &[]);
    let repo = set(&[], &["org/repo"]);
    let org_minus_repo = set(&[("org", &["org/repo"])], &[]);
    // (name, tide subset, tide superset, plugins subset, expect a problem)
    let cases = [
        ("nothing enabled", &none, &none, &none, false),
        ("plugin on org without tide", &none, &none, &org, false),
        ("plugin on repo without tide", &none, &none, &repo, false),
        ("plugin and tide on repo", &repo, &repo, &repo, false),
        ("plugin on repo, tide on org", &org, &org, &repo, true),
        ("plugin on org, tide on repo", &repo, &repo, &org, false),
        ("plugin and tide on org", &org, &org, &org, false),
        ("tide on org without plugin", &org, &org, &none, true),
        ("tide on repo without plugin", &repo, &repo, &none, true),
        (
            "plugin on org, tide merges without requiring",
            &none,
            &org,
            &org,
            true,
        ),
        (
            "plugin on repo, tide merges without requiring",
            &none,
            &repo,
            &repo,
            true,
        ),
        (
            "tide merges org, no plugin, no requirement",
            &none,
            &org,
            &none,
            false,
        ),
        (
            "tide merges repo, no plugin, no requirement",
            &none,
            &repo,
            &none,
            false,
        ),
        (
            "irrelevant exception in tide superset",
            &none,
            &org_minus_repo,
            &org,
            true,
        ),
        (
            "exception in tide superset covers the plugin's repo",
            &none,
            &org_minus_repo,
            &repo,
            false,
        ),
        (
            "exception in tide subset",
            &org_minus_repo,
            &org,
            &org,
            true,
        ),
    ];
    for (name, sub, sup, plugins, expected) in cases {
        let problems = tide_and_plugin_agree("plugin", "label", "verb", sub, sup, plugins);
        assert_eq!(!problems.is_empty(), expected, "{name}: {problems:?}");
    }
    // One direction only, as for needs-rebase.
    assert!(label_plugin_enabled("p", "l", "forbid", &repo, &repo).is_none());
    assert_eq!(
        label_plugin_enabled("needs-rebase", "needs-rebase", "forbid", &repo, &none).as_deref(),
        Some(
            "the following orgs or repos forbid the needs-rebase label for merging but do not enable the needs-rebase plugin: [repo: org/repo]"
        )
    );
    assert_eq!(
        set(&[("o", &["o/a", "o/b"])], &["x/y"]).items(),
        ["org: o without repo(s) o/a, o/b 'o/a' 'o/b'", "repo: x/y"]
    );
}

// ----- The warnings built on it. -----

use prow_config::prow::TideQuery;
use prow_config::tide_plugins::{
    PluginEnablement, mismatched_tide, missing_trigger, tide_coverage, validate_owners,
};

/// Plugin enablement given as a table.
struct Enabled(Vec<(&'static str, OrgRepoSet)>);

impl PluginEnablement for Enabled {
    fn enabled_for(&self, plugin: &str, _external: bool) -> OrgRepoSet {
        self.0
            .iter()
            .filter(|(p, _)| *p == plugin)
            .map(|(_, s)| s.clone())
            .reduce(|a, b| a.union(&b))
            .unwrap_or_default()
    }
}

fn queries(yaml: &str) -> Vec<TideQuery> {
    serde_yaml::from_str(yaml).expect("queries parse")
}

fn messages(findings: &[prow_config::Finding]) -> Vec<String> {
    findings.iter().map(|f| f.message.clone()).collect()
}

#[test]
fn tide_coverage_as_upstream() {
    let q = queries(
        r#"
- orgs: [o, p]
  excludedRepos: [o/x, o/y, p/z, q/w]
- orgs: [o]
  excludedRepos: [o/x]
- repos: [p/z, r/s]
"#,
    );
    // o's exceptions intersect across queries; p/z is included by another query.
    assert_eq!(
        tide_coverage(&q),
        set(&[("o", &["o/x"]), ("p", &[])], &["p/z", "r/s"])
    );
}

#[test]
fn mismatched_tide_and_friends() {
    let q = queries(
        r#"
- repos: [o/a]
  labels: [lgtm, approved]
  missingLabels: [do-not-merge/hold, needs-rebase, needs-ok-to-test]
- orgs: [p]
  labels: [lgtm]
"#,
    );
    let plugins = Enabled(vec![
        ("lgtm", set(&[("p", &[])], &["o/a"])),
        ("approve", set(&[("p", &[])], &[])),
        ("trigger", set(&[("o", &[])], &[])),
        ("blunderbuss", set(&[("p", &[])], &[])),
        ("verify-owners", set(&[], &["p/keep"])),
    ]);
    let lenient = messages(&mismatched_tide(&q, &plugins, false));
    let strict = messages(&mismatched_tide(&q, &plugins, true));
    let mut jobs = prow_config::JobConfig::default();
    jobs.presubmits.insert("o/a".into(), Vec::new());
    jobs.postsubmits.insert("x/y".into(), Vec::new());
    insta::assert_snapshot!(
        [
            "lenient:",
            &lenient.join("\n"),
            "strict:",
            &strict.join("\n"),
            "validate-owners:",
            &messages(&validate_owners(&plugins)).join("\n"),
            "missing-trigger:",
            &messages(&missing_trigger(&jobs, &plugins)).join("\n"),
        ]
        .join("\n")
    );
}
