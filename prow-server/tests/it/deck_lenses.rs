//! deck's pure parts as tables and properties: JUnit and build-log lenses, the badge, rerun
//! authorisation, artifact paths, `mode=latest` reruns, spyglass addresses and lens choice,
//! and job-history paging.

use std::path::Path;

use proptest::prelude::*;
use prow_core::{ProwJob, RerunAuthConfig};
use prow_server::deck::auth::{Decision, decide};
use prow_server::deck::spyglass::{self, Source};
use prow_server::deck::{artifacts, badge, buildlog, history, junit};
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

fn check_source(src: &str, expected: Result<(&str, &str, &str, &str, &str), &str>) {
    let got = Source::parse(src).map(|s| {
        let (job, build) = s.job_and_build();
        (
            s.provider.clone(),
            s.bucket.clone(),
            s.path.clone(),
            job.to_owned(),
            build.to_owned(),
        )
    });
    match expected {
        Ok((provider, bucket, path, job, build)) => assert_eq!(
            got.unwrap(),
            (
                provider.to_owned(),
                bucket.to_owned(),
                path.to_owned(),
                job.to_owned(),
                build.to_owned()
            ),
            "{src}"
        ),
        Err(message) => assert_eq!(got.unwrap_err().to_string(), message, "{src}"),
    }
}

#[test]
fn spyglass_addresses_name_a_provider_bucket_and_build() {
    let ok = |p, b, path, j, n| Ok((p, b, path, j, n));
    check_source(
        "gs/kubernetes-jenkins/logs/ci-kubernetes-e2e/1234",
        ok(
            "gs",
            "kubernetes-jenkins",
            "logs/ci-kubernetes-e2e/1234",
            "ci-kubernetes-e2e",
            "1234",
        ),
    );
    check_source(
        "gcs/b/pr-logs/pull/org_repo/7/pull-unit/99/",
        ok(
            "gs",
            "b",
            "pr-logs/pull/org_repo/7/pull-unit/99",
            "pull-unit",
            "99",
        ),
    );
    check_source("s3/b/logs/j/1", ok("s3", "b", "logs/j/1", "j", "1"));
    check_source(
        "gs/b",
        Err(r#"spyglass address "gs/b" is not <storage>/<bucket>/<path>"#),
    );
    check_source(
        "http/b/logs/j/1",
        Err(
            r#"spyglass address "http/b/logs/j/1" names an unknown storage provider (want gs or s3)"#,
        ),
    );
    check_source(
        "gs/b/logs/../j/1",
        Err(r#"spyglass address "gs/b/logs/../j/1" is not a plain path"#),
    );
    check_source(
        "gs/b/logs//1",
        Err(r#"spyglass address "gs/b/logs//1" is not a plain path"#),
    );
}

#[test]
fn spyglass_links_lead_to_job_and_pr_history() {
    let pull = Source::parse("gs/b/pr-logs/pull/acme_widgets/7/pull-unit/99").unwrap();
    assert_eq!(
        pull.job_history_link(),
        "/job-history/gs/b/pr-logs/directory/pull-unit"
    );
    assert_eq!(
        pull.pull(""),
        Some(("acme".into(), "widgets".into(), "7".into()))
    );
    let legacy = Source::parse("gs/b/pr-logs/pull/widgets/7/pull-unit/99").unwrap();
    assert_eq!(
        legacy.pull("acme"),
        Some(("acme".into(), "widgets".into(), "7".into()))
    );
    assert_eq!(legacy.pull(""), None);
    let batch = Source::parse("gs/b/pr-logs/pull/batch/pull-unit/99").unwrap();
    assert_eq!(batch.pull("acme"), None);
    let periodic = Source::parse("s3/b/logs/ci-nightly/5").unwrap();
    assert_eq!(
        periodic.job_history_link(),
        "/job-history/s3/b/logs/ci-nightly"
    );
    assert_eq!(periodic.pull("acme"), None);
}

/// A typical decorated build's uploads.
const UPLOADS: [&str; 8] = [
    "build-log.txt",
    "started.json",
    "finished.json",
    "prowjob.json",
    "podinfo.json",
    "artifacts/junit_01.xml",
    "artifacts/e2e/junit_runner.xml",
    "artifacts/filtered.cov",
];

fn chosen(spyglass: &prow_config::prow::Spyglass, files: &[&str]) -> Vec<(String, Vec<String>)> {
    let files: Vec<String> = files.iter().map(|f| (*f).to_owned()).collect();
    spyglass::choose(spyglass, &files)
        .into_iter()
        .map(|c| (c.name, c.files))
        .collect()
}

#[test]
fn spyglass_lenses_need_all_required_files_and_take_optional_ones() {
    let spyglass: prow_config::prow::Spyglass = serde_yaml::from_str(
        r#"
lenses:
- lens: {name: metadata}
  required_files: ['^(?:started|finished)\.json$']
  optional_files: ['^(?:podinfo|prowjob)\.json$']
- lens: {name: buildlog}
  required_files: ['^.*build-log\.txt$']
- lens: {name: coverage}
  required_files: ['^artifacts/filtered\.cov$', '^artifacts/filtered\.html$']
- lens: {name: junit}
  required_files: ['^artifacts(/.*/|/)junit.*\.xml$']
- lens: {name: bad}
  required_files: ['(']
"#,
    )
    .unwrap();
    let v = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        chosen(&spyglass, &UPLOADS),
        [
            (
                "metadata".to_owned(),
                v(&[
                    "finished.json",
                    "podinfo.json",
                    "prowjob.json",
                    "started.json"
                ])
            ),
            ("buildlog".to_owned(), v(&["build-log.txt"])),
            (
                "junit".to_owned(),
                v(&["artifacts/e2e/junit_runner.xml", "artifacts/junit_01.xml"])
            ),
        ]
    );
    // A running build has only started.json: metadata still applies, the log does not.
    assert_eq!(
        chosen(&spyglass, &["started.json"]),
        [("metadata".to_owned(), v(&["started.json"]))]
    );
    // No lenses configured: metadata, build log and JUnit, as every corpus deployment has.
    let names: Vec<String> = chosen(&prow_config::prow::Spyglass::default(), &UPLOADS)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["metadata", "buildlog", "junit"]);
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn spyglass_lenses_of_every_corpus_deployment_show_build_log_and_junit() {
    let corpus = support::corpus();
    let configs = [
        "k8s-test-infra/config/prow/config.yaml",
        "kyma-project-test-infra/prow/config.yaml",
        "jetstack-testing/config/config.yaml",
        "knative-infra/prow/config.yaml",
    ];
    for config in configs {
        let text = std::fs::read_to_string(corpus.join(config)).unwrap();
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let spyglass: prow_config::prow::Spyglass =
            serde_yaml::from_value(doc["deck"]["spyglass"].clone())
                .unwrap_or_else(|e| panic!("{config}: deck.spyglass: {e}"));
        let names: Vec<String> = chosen(&spyglass, &UPLOADS)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        for lens in ["buildlog", "junit"] {
            assert!(names.iter().any(|n| n == lens), "{config}: {names:?}");
        }
        assert!(
            spyglass::choose(&spyglass, &[]).is_empty(),
            "{config}: a lens applies to a build without files"
        );
    }
}

#[test]
fn metadata_lens_reads_started_and_finished() {
    let (meta, problems) = spyglass::metadata(
        Some(
            r#"{"timestamp": 100, "node": "n1", "repos": {"o/r": "main:abc,7:def"}, "repo-commit": "abc"}"#,
        ),
        Some(r#"{"timestamp": 160, "passed": false, "metadata": {"k": "v"}}"#),
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        (
            meta.result.as_str(),
            meta.elapsed,
            meta.node.as_str(),
            meta.revision.as_str()
        ),
        ("FAILURE", Some(60), "n1", "abc")
    );
    assert_eq!(meta.extra["k"], "v");
    let (running, _) = spyglass::metadata(Some(r#"{"timestamp": 100}"#), None);
    assert_eq!(
        (running.result.as_str(), running.elapsed),
        ("Pending", None)
    );
    let (_, problems) = spyglass::metadata(Some("{"), Some(r#"{"result": "ABORTED"}"#));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("started.json: "), "{problems:?}");
}

#[test]
fn job_history_lists_build_folders_and_presubmit_links() {
    let mut listing = prow_jobs::storage::Listing::default();
    listing.dirs = vec!["10".into(), "9".into(), "notes".into()];
    listing.files = vec![
        ("11.txt".into(), 40),
        ("latest-build.txt".into(), 2),
        ("9.txt".into(), 40),
    ];
    assert_eq!(
        history::builds(&listing),
        [
            (11, history::BuildAt::Link),
            (10, history::BuildAt::Folder),
            (9, history::BuildAt::Folder),
        ]
    );
    assert_eq!(
        history::parse_link("gs://bucket/pr-logs/pull/o_r/1/j/11\n"),
        Some((
            "gs".into(),
            "bucket".into(),
            "pr-logs/pull/o_r/1/j/11".into()
        ))
    );
    assert_eq!(history::parse_link("no link"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Following `older` from the first page visits every build once, newest first, in
    /// pages of at most PAGE_SIZE, and each page's `newer` leads back to the page before.
    #[test]
    fn proptest_job_history_pages_cover_every_build_once(
        mut ids in proptest::collection::btree_set(0u64..10_000, 0..120)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>())
    ) {
        ids.reverse();
        let mut seen: Vec<u64> = Vec::new();
        let mut top = None;
        let mut previous_first: Option<u64> = None;
        loop {
            let page = history::page(&ids, top);
            prop_assert!(page.ids.len() <= history::PAGE_SIZE);
            prop_assert_eq!(page.newer, previous_first);
            seen.extend(&page.ids);
            match page.older {
                Some(older) => {
                    previous_first = page.ids.first().copied();
                    top = Some(older);
                }
                None => break,
            }
        }
        prop_assert_eq!(seen, ids);
    }
}

#[test]
fn coverage_lens_counts_statements_per_file_once() {
    let profile = "mode: atomic\n\
        example.com/w/a.go:3.10,5.2 2 1\n\
        example.com/w/a.go:7.10,9.2 3 0\n\
        example.com/w/b.go:1.1,2.2 4 0\n\
        example.com/w/b.go:1.1,2.2 4 5\n\
        not a profile line\n";
    let (coverage, skipped) = spyglass::coverage(profile);
    assert_eq!(skipped, 1);
    assert_eq!(
        coverage.files,
        [
            ("example.com/w/a.go".to_owned(), 2, 5),
            ("example.com/w/b.go".to_owned(), 4, 4)
        ]
    );
    assert_eq!((coverage.covered, coverage.total), (6, 9));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A job is hidden when `hidden_repos` names the org or the `org/repo` of any of its
    /// refs, matched whole (Prow's `shouldHide` over `HiddenRepos`).
    #[test]
    fn a_job_is_hidden_by_its_org_or_org_repo(
        org in "[ab/]{1,3}",
        repo in "[ab/]{1,3}",
        hidden in proptest::collection::vec("[ab/]{1,7}", 0..4),
    ) {
        let job: ProwJob = serde_json::from_value(json!({
            "apiVersion": "prow.k8s.io/v1",
            "kind": "ProwJob",
            "metadata": {"name": "j"},
            "spec": {"type": "presubmit", "job": "j", "refs": {"org": org, "repo": repo}},
        }))
        .unwrap();
        let expected = hidden.iter().any(|h| *h == org || *h == format!("{org}/{repo}"));
        prop_assert_eq!(prow_server::deck::jobs::is_hidden(&job, &hidden), expected);
    }
}
