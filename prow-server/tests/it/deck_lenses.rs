//! deck's pure parts as tables and properties: JUnit and build-log lenses, the badge, rerun
//! authorisation, artifact paths and `mode=latest` reruns.

use std::path::Path;

use proptest::prelude::*;
use prow_core::{ProwJob, RerunAuthConfig};
use prow_server::deck::auth::{Decision, decide};
use prow_server::deck::{artifacts, badge, buildlog, junit};
use serde_json::json;

use crate::support;

#[test]
fn junit_lens_reads_a_real_go_junit_report() {
    let xml = std::fs::read_to_string(support::data("deck/junit_go-subtests.xml")).unwrap();
    let results = junit::parse(&xml).unwrap();
    assert_eq!((results.failed, results.skipped, results.passed), (4, 1, 6));
    insta::assert_yaml_snapshot!("junit_go_subtests", results);
}

#[test]
fn junit_lens_handles_suites_errors_and_bad_input() {
    let nested = r#"<testsuite name="outer"><testsuite name="inner">
        <testcase name="a" classname="c" time="1,234.5"><error message="boom">trace</error></testcase>
        </testsuite><testcase name="b"/></testsuite>"#;
    let results = junit::parse(nested).unwrap();
    let cases: Vec<(&str, &str, junit::Outcome, &str, f64)> = results
        .tests
        .iter()
        .map(|t| {
            (
                t.suite.as_str(),
                t.name.as_str(),
                t.outcome,
                t.message.as_str(),
                t.time,
            )
        })
        .collect();
    assert_eq!(
        cases,
        [
            ("inner", "a", junit::Outcome::Failed, "boom\ntrace", 1234.5),
            ("outer", "b", junit::Outcome::Passed, "", 0.0),
        ]
    );
    let errors = [
        ("<testsuites>", "not well-formed XML"),
        ("<html><body/></html>", "root element <html> is neither"),
        ("", "not well-formed XML"),
    ];
    for (input, expected) in errors {
        let error = junit::parse(input).unwrap_err().to_string();
        assert!(error.starts_with(expected), "{input:?}: {error}");
    }
    for (path, is) in [
        ("artifacts/junit_01.xml", true),
        ("junit.xml", true),
        ("artifacts/report.xml", false),
        ("artifacts/junit.txt", false),
    ] {
        assert_eq!(junit::is_junit(path), is, "{path}");
    }
}

/// The build-log lens's groups as `(skipped, first line, line count)`.
fn shape(log: &str) -> Vec<(bool, usize, usize)> {
    let highlight = buildlog::highlighter(&[]);
    buildlog::groups(log, &highlight)
        .iter()
        .map(|g| (g.skip, g.lines[0].number, g.lines.len()))
        .collect()
}

fn lines(n: usize, error_at: &[usize]) -> String {
    (1..=n)
        .map(|i| {
            if error_at.contains(&i) {
                format!("ERROR: step {i}\n")
            } else {
                format!("ok {i}\n")
            }
        })
        .collect()
}

#[test]
fn build_log_lens_folds_lines_far_from_errors() {
    /// Log length, lines with errors, the groups as `shape` gives them.
    type Case = (usize, &'static [usize], &'static [(bool, usize, usize)]);
    let cases: &[Case] = &[
        // Nothing highlighted: everything folded (spyglass shows the raw log beside it).
        (30, &[], &[(true, 1, 30)]),
        // Too short to fold.
        (4, &[], &[(false, 1, 4)]),
        (20, &[10], &[(false, 1, 15), (true, 16, 5)]),
        (21, &[10], &[(false, 1, 15), (true, 16, 6)]),
        (19, &[10], &[(false, 1, 19)]),
        (40, &[20], &[(true, 1, 14), (false, 15, 11), (true, 26, 15)]),
        // Two errors whose neighbourhoods are close enough to show the gap.
        (
            40,
            &[11, 24],
            &[(true, 1, 5), (false, 6, 24), (true, 30, 11)],
        ),
        // A fold of four lines is shown instead.
        (40, &[10, 23], &[(false, 1, 28), (true, 29, 12)]),
        (0, &[], &[]),
    ];
    for (n, errors, expected) in cases {
        assert_eq!(
            shape(&lines(*n, errors)),
            *expected,
            "{n} lines, errors at {errors:?}"
        );
    }
}

#[test]
fn build_log_lens_uses_spyglass_patterns() {
    let highlight = buildlog::highlighter(&[]);
    for (line, hit) in [
        ("--- FAIL: TestX", true),
        ("ERROR: nope", true),
        ("panic: runtime error", true),
        ("E0102 15:04:05.000] bad", true),
        ("request timed out", true),
        ("error: lowercase is not highlighted", false),
        ("all good", false),
    ] {
        assert_eq!(highlight.is_match(line), hit, "{line}");
    }
    let custom = buildlog::highlighter(&["^BOOM".to_owned()]);
    assert!(custom.is_match("BOOM here"));
    assert!(!custom.is_match("ERROR: default no longer applies"));
    let broken = buildlog::highlighter(&["(".to_owned()]);
    assert!(broken.is_match("ERROR: falls back to the default"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proptest_build_log_groups_keep_every_line_and_show_every_error(
        kinds in proptest::collection::vec(0u8..8, 0..120)
    ) {
        let log: String = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| if *k == 0 { format!("FAIL {i}\n") } else { format!("line {i}\n") })
            .collect();
        let groups = buildlog::groups(&log, &buildlog::highlighter(&[]));
        let numbers: Vec<usize> = groups.iter().flat_map(|g| g.lines.iter().map(|l| l.number)).collect();
        prop_assert_eq!(numbers, (1..=kinds.len()).collect::<Vec<_>>());
        for pair in groups.windows(2) {
            prop_assert_ne!(pair[0].skip, pair[1].skip);
        }
        for group in &groups {
            if group.skip {
                prop_assert!(group.lines.len() >= buildlog::MIN_LINES_SKIPPED);
                prop_assert!(group.lines.iter().all(|l| !l.highlighted));
            }
        }
    }

    #[test]
    fn proptest_artifact_paths_never_leave_the_root(
        parts in proptest::collection::vec(
            prop_oneof![Just("..".to_owned()), Just(".".to_owned()), Just("".to_owned()), "[a-z%./]{1,6}"],
            0..6,
        )
    ) {
        let relative = parts.join("/");
        let root = Path::new("/srv/artifacts");
        if let Ok(path) = artifacts::join_relative(root, &relative) {
            prop_assert!(path.starts_with(root));
            prop_assert!(path.components().all(|c| !matches!(c, std::path::Component::ParentDir)));
            prop_assert!(!relative.split('/').any(|p| p == ".."));
        }
    }
}

#[test]
fn artifact_paths_are_plain_relative_paths() {
    let root = Path::new("/srv/a");
    let cases = [
        ("logs/build-log.txt", Some("/srv/a/logs/build-log.txt")),
        ("/logs/x", Some("/srv/a/logs/x")),
        ("./logs/./x", Some("/srv/a/logs/x")),
        ("../x", None),
        ("logs/../../x", None),
        ("logs/..", None),
        ("", None),
        ("/", None),
        ("a\\..\\b", None),
        ("a\0b", None),
    ];
    for (relative, expected) in cases {
        let got = artifacts::join_relative(root, relative).ok();
        assert_eq!(got.as_deref(), expected.map(Path::new), "{relative:?}");
    }
}

fn job(name: &str, job: &str, state: &str, start: &str) -> ProwJob {
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": name},
        "spec": {"type": "periodic", "job": job},
        "status": {"state": state, "startTime": start},
    }))
    .unwrap()
}

#[test]
fn badge_names_at_most_three_failing_jobs() {
    let jobs = vec![
        job("d1", "d", "failure", "2026-01-01T10:00:00Z"),
        job("d0", "d", "success", "2026-01-01T09:00:00Z"),
        job("c1", "c", "failure", "2026-01-01T10:00:00Z"),
        job("b1", "b", "failure", "2026-01-01T10:00:00Z"),
        job("a1", "a", "failure", "2026-01-01T10:00:00Z"),
        job("e2", "e", "success", "2026-01-01T12:00:00Z"),
        job("e1", "e", "failure", "2026-01-01T11:00:00Z"),
        job("x1", "x-pending", "pending", "2026-01-01T11:00:00Z"),
    ];
    let cases = [
        ("*", "failing a, b, c, ...", "red"),
        ("a,b", "failing a, b", "red"),
        ("e", "passing", "brightgreen"),
        ("x-*", "passing", "brightgreen"),
        ("zzz", "no results", "darkgrey"),
        ("[", "no results", "darkgrey"),
    ];
    for (selector, status, color) in cases {
        let shown = badge::badge(&badge::pick_latest(&jobs, selector));
        assert_eq!(
            (shown.status.as_str(), shown.color),
            (status, color),
            "{selector}"
        );
    }
    let latest: Vec<&str> = badge::pick_latest(&jobs, "d,e")
        .iter()
        .map(|j| j.name())
        .collect();
    assert_eq!(latest, ["e2", "d1"]);
    insta::assert_snapshot!(
        "badge_shield_escapes",
        badge::shield("build", "failing <a>", "red")
    );
}

fn rac(value: serde_json::Value) -> RerunAuthConfig {
    serde_json::from_value(value).unwrap()
}

#[test]
fn rerun_authorisation_decisions() {
    let users = rac(json!({"github_users": ["@Alice"]}));
    let orgs = rac(
        json!({"github_orgs": ["acme"], "github_team_slugs": [{"org": "acme", "slug": "ops"}]}),
    );
    let anyone = rac(json!({"allow_anyone": true}));
    let h = Some("X-Forwarded-User");
    let allowed = |user: Option<&str>| Decision::Allowed {
        user: user.map(str::to_owned),
    };
    assert_eq!(decide(Some(&anyone), None, None, h), allowed(None));
    assert_eq!(
        decide(None, Some(&anyone), Some("x"), h),
        allowed(Some("x"))
    );
    assert_eq!(
        decide(Some(&users), None, Some("alice"), h),
        allowed(Some("alice"))
    );
    assert_eq!(
        decide(Some(&orgs), Some(&users), Some("ALICE"), h),
        allowed(Some("ALICE"))
    );
    assert!(matches!(
        decide(Some(&users), None, None, h),
        Decision::Denied { reason } if reason.contains("X-Forwarded-User header")
    ));
    assert!(matches!(
        decide(Some(&users), None, None, None),
        Decision::Denied { reason } if reason.contains("neither GitHub login nor a trusted proxy")
    ));
    assert!(matches!(
        decide(Some(&users), None, Some(""), h),
        Decision::Denied { .. }
    ));
    assert!(matches!(
        decide(Some(&users), None, Some("bob"), h),
        Decision::Denied { reason } if reason == "bob is not allowed by the rerun_auth_config"
    ));
    assert!(matches!(
        decide(None, None, Some("bob"), h),
        Decision::Denied { .. }
    ));
    assert_eq!(
        decide(Some(&orgs), None, Some("bob"), h),
        Decision::AskGitHub {
            user: "bob".to_owned(),
            orgs: vec!["acme".to_owned()],
            teams: vec![("acme".to_owned(), "ops".to_owned())],
        }
    );
}

#[test]
fn rerun_auth_config_is_the_last_matching_entry() {
    let config = support::hook_config(
        r#"
deck:
  rerun_auth_configs:
    '*': {github_users: [everyone-admin]}
    acme: {github_users: [acme-admin]}
    acme/widgets: {github_users: [widgets-admin]}
"#,
        "plugins: {}\n",
    );
    let deck = &config.config.prow.deck;
    let spec = |org_repo: Option<(&str, &str)>| -> prow_core::ProwJobSpec {
        let refs = org_repo.map(|(org, repo)| json!({"org": org, "repo": repo}));
        serde_json::from_value(json!({"type": "periodic", "job": "j", "extra_refs": refs.into_iter().collect::<Vec<_>>()}))
            .unwrap()
    };
    let users = |s: &prow_core::ProwJobSpec| {
        prow_server::deck::auth::config_for(deck, s).map(|c| c.github_users.clone())
    };
    assert_eq!(
        users(&spec(Some(("acme", "widgets")))),
        Some(vec!["widgets-admin".to_owned()])
    );
    assert_eq!(
        users(&spec(Some(("acme", "gadgets")))),
        Some(vec!["acme-admin".to_owned()])
    );
    assert_eq!(
        users(&spec(Some(("other", "x")))),
        Some(vec!["everyone-admin".to_owned()])
    );
    assert_eq!(users(&spec(None)), Some(vec!["everyone-admin".to_owned()]));
}
