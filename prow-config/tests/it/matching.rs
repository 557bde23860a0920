//! Branchers, change matchers, the presubmit and postsubmit predicates, the comment filters,
//! the `/test` help and the indexed matcher, against Prow's semantics.

use std::collections::HashSet;

use proptest::prelude::*;

use prow_config::{
    BranchVerdict, Brancher, ChangesError, Contexts, JobConfig, LazyChanges, Outcome, Postsubmit,
    Presubmit, PresubmitFilter, Selected, available_presubmits, default_trigger_for, evaluate,
    explain_presubmit, filter_presubmits, help_message, help_note, is_help_comment,
};

/// Parses a job config and gives presubmits Prow's default trigger, rerun command and context.
fn jobs(yaml: &str) -> JobConfig {
    let mut config: JobConfig = serde_yaml::from_str(yaml).expect("job config parses");
    for list in config.presubmits.values_mut() {
        for (i, job) in list.iter_mut().enumerate() {
            job.source_index = i;
            if job.trigger.is_empty() {
                job.trigger = default_trigger_for(&job.name);
                job.rerun_command = format!("/test {}", job.name);
            }
            if job.context.is_empty() {
                job.context.clone_from(&job.name);
            }
        }
    }
    config
}

fn presubmit(yaml: &str) -> Presubmit {
    let config = jobs(&format!(
        "presubmits:\n  o/r:\n  - {}",
        yaml.replace('\n', "\n    ")
    ));
    config.presubmits["o/r"][0].clone()
}

fn postsubmit(yaml: &str) -> Postsubmit {
    let text = format!("postsubmits:\n  o/r:\n  - {}", yaml.replace('\n', "\n    "));
    let config: JobConfig = serde_yaml::from_str(&text).expect("job config parses");
    config.postsubmits["o/r"][0].clone()
}

fn files(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    files(list)
}

#[test]
fn brancher_table() {
    use BranchVerdict::*;
    for (branches, skip, branch, expected) in [
        (&[][..], &[][..], "anything", AllBranches),
        (&["main"][..], &[][..], "main", Included),
        (&["main"][..], &[][..], "master", NotListed),
        // Unanchored: the classic trap.
        (&["release-4.1"][..], &[][..], "release-4.1", Included),
        (&["release-4.1"][..], &[][..], "release-4.10", Included),
        (&["^release-4.1$"][..], &[][..], "release-4.10", NotListed),
        (&["master"][..], &[][..], "master-foo", Included),
        (
            &["^main$", "^release-.*$"][..],
            &[][..],
            "release-1.2",
            Included,
        ),
        // Skip wins over branches.
        (
            &["release-.*"][..],
            &["release-1.2"][..],
            "release-1.2",
            Skipped,
        ),
        (
            &["release-.*"][..],
            &["release-1.2"][..],
            "release-1.3",
            Included,
        ),
        (&[][..], &["^release-"][..], "release-1.2", Skipped),
        (&[][..], &["^release-"][..], "main", Included),
    ] {
        let b = Brancher::new(&strings(branches), &strings(skip)).expect("compiles");
        assert_eq!(
            b.verdict(branch),
            expected,
            "{branches:?} {skip:?} on {branch}"
        );
        assert_eq!(b.should_run(branch), expected.runs());
    }
}

#[test]
fn brancher_errors_name_the_list() {
    let err = Brancher::new(&strings(&["("]), &[]).expect_err("bad regex");
    assert!(
        err.starts_with("could not compile positive branch regex"),
        "{err}"
    );
    let err = Brancher::new(&[], &strings(&["["])).expect_err("bad regex");
    assert!(
        err.starts_with("could not compile negative branch regex"),
        "{err}"
    );
    // Joined with `|` as Prow does: halves of a group compile together.
    assert!(Brancher::new(&strings(&["(a", "b)"]), &[]).is_ok());
}

#[test]
fn brancher_intersects_table() {
    let b = |br: &[&str], skip: &[&str]| Brancher::new(&strings(br), &strings(skip)).expect("ok");
    for (left, right, expected) in [
        (b(&[], &[]), b(&["main"], &[]), true),
        (b(&["main"], &[]), b(&["main", "dev"], &[]), true),
        (b(&["main"], &[]), b(&["dev"], &[]), false),
        // Literal comparison of two `branches` lists, as upstream: regexes are not expanded.
        (b(&["release-.*"], &[]), b(&["release-1.2"], &[]), false),
        (b(&["main"], &[]), b(&[], &["main"]), false),
        (b(&["main"], &[]), b(&[], &["dev"]), true),
        (b(&[], &["dev"]), b(&["main"], &[]), true),
        (b(&[], &["a"]), b(&[], &["b"]), true),
    ] {
        assert_eq!(left.intersects(&right), expected, "{left:?} vs {right:?}");
        assert_eq!(right.intersects(&left), expected, "{right:?} vs {left:?}");
    }
}

#[test]
fn change_matcher_table() {
    for (ric, sioc, changed, expected) in [
        ("^docs/", "", &["docs/a.md"][..], true),
        ("^docs/", "", &["src/a.go", "docs/a.md"][..], true),
        ("^docs/", "", &["src/a.go"][..], false),
        // Unanchored.
        ("docs/", "", &["x/docs/a.md"][..], true),
        ("", r"\.md$", &["a.md", "b.md"][..], false),
        ("", r"\.md$", &["a.md", "main.go"][..], true),
        // An empty change list runs neither rule.
        ("^docs/", "", &[][..], false),
        ("", r"\.md$", &[][..], false),
    ] {
        let m = prow_config::ChangeMatcher::new(ric, sioc).expect("compiles");
        assert!(m.could_run());
        assert_eq!(
            m.runs_against_changes(&files(changed)),
            expected,
            "{ric:?}/{sioc:?} {changed:?}"
        );
    }
    assert!(
        !prow_config::ChangeMatcher::new("", "")
            .expect("empty")
            .could_run()
    );
    let err = prow_config::ChangeMatcher::new("(", "").expect_err("bad");
    assert!(
        err.starts_with("could not compile run_if_changed regex"),
        "{err}"
    );
}

#[test]
fn presubmit_should_run_table() {
    let none: Vec<String> = Vec::new();
    let go = files(&["main.go"]);
    let docs = files(&["docs/a.md"]);
    for (job, branch, changes, forced, defaults, expected) in [
        (
            "name: a\nalways_run: true",
            "main",
            &none,
            false,
            false,
            true,
        ),
        (
            "name: a\nalways_run: true\nbranches: [dev]",
            "main",
            &none,
            true,
            true,
            false,
        ),
        ("name: a", "main", &none, false, false, false),
        ("name: a", "main", &none, false, true, true),
        ("name: a", "main", &none, true, false, true),
        (
            "name: a\nrun_if_changed: ^docs/",
            "main",
            &go,
            false,
            false,
            false,
        ),
        (
            "name: a\nrun_if_changed: ^docs/",
            "main",
            &docs,
            false,
            false,
            true,
        ),
        // Forced ignores the change rule; defaults only add runs.
        (
            "name: a\nrun_if_changed: ^docs/",
            "main",
            &go,
            true,
            false,
            true,
        ),
        (
            "name: a\nrun_if_changed: ^docs/",
            "main",
            &go,
            false,
            true,
            true,
        ),
        (
            "name: a\nrun_if_changed: ^docs/",
            "main",
            &none,
            false,
            false,
            false,
        ),
        (
            "name: a\nskip_if_only_changed: ^docs/",
            "main",
            &docs,
            false,
            false,
            false,
        ),
        (
            "name: a\nskip_if_only_changed: ^docs/",
            "main",
            &go,
            false,
            false,
            true,
        ),
        (
            "name: a\nskip_branches: [^release-]\nalways_run: true",
            "release-1.2",
            &none,
            false,
            false,
            false,
        ),
    ] {
        let p = presubmit(job);
        let got = p
            .should_run(branch, changes, forced, defaults)
            .expect("no fetch error");
        assert_eq!(
            got, expected,
            "{job:?} on {branch} {changes:?} forced={forced} defaults={defaults}"
        );
    }
}

#[test]
fn presubmit_derived_flags() {
    let p = presubmit("name: a");
    assert!(p.needs_explicit_trigger() && p.triggers_conditionally() && p.context_required());
    let p = presubmit("name: a\nalways_run: true\noptional: true");
    assert!(!p.needs_explicit_trigger() && !p.triggers_conditionally() && !p.context_required());
    let p = presubmit("name: a\nrun_if_changed: x\nskip_report: true");
    assert!(!p.needs_explicit_trigger() && p.triggers_conditionally() && !p.context_required());
}

#[test]
fn postsubmit_always_run_unset_false_true() {
    let go = files(&["main.go"]);
    let docs = files(&["docs/a.md"]);
    for (job, changes, expected) in [
        ("name: a", &go, true),
        ("name: a\nalways_run: true", &go, true),
        ("name: a\nalways_run: false", &go, false),
        // A change rule decides before always_run.
        ("name: a\nrun_if_changed: ^docs/", &go, false),
        ("name: a\nrun_if_changed: ^docs/", &docs, true),
        (
            "name: a\nalways_run: false\nrun_if_changed: ^docs/",
            &docs,
            true,
        ),
        ("name: a\nskip_if_only_changed: ^docs/", &docs, false),
        ("name: a\nrun_if_changed: ^docs/", &Vec::new(), false),
    ] {
        let p = postsubmit(job);
        assert_eq!(
            p.should_run("main", changes).expect("ok"),
            expected,
            "{job:?} {changes:?}"
        );
    }
    let p = postsubmit("name: a\nbranches: [^main$]");
    assert!(!p.should_run("main-2", &go).expect("ok"));
}

/// The repo every filter test uses.
const REPO: &str = r#"
presubmits:
  o/r:
  - name: unit
    always_run: true
  - name: docs
    run_if_changed: ^docs/
  - name: lint
    skip_if_only_changed: \.md$
  - name: e2e
  - name: e2e-optional
    optional: true
  - name: release-only
    always_run: true
    branches: [^release-]
  - name: pull-a.b
  - name: custom
    trigger: (?m)^/run custom$
    rerun_command: /run custom
"#;

fn run(body: Option<&str>, contexts: Contexts, branch: &str, changed: &[&str]) -> Vec<String> {
    let config = jobs(REPO);
    let filter = match body {
        None => PresubmitFilter::test_all(),
        Some(body) => {
            PresubmitFilter::for_comment(body, true, || Ok::<_, ()>(contexts)).expect("contexts")
        }
    };
    let changes = files(changed);
    let plain =
        filter_presubmits(&filter, &changes, branch, config.presubmits_for("o/r")).expect("ok");
    let indexed = config
        .filter_presubmits("o/r", &filter, branch, &changes)
        .expect("ok");
    assert_eq!(plain, indexed, "indexed and plain disagree for {body:?}");
    plain.into_iter().map(|p| p.name.clone()).collect()
}

fn set(list: &[&str]) -> HashSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn filter_table() {
    let none = Contexts::default();
    let go = &["main.go"][..];
    let md = &["README.md"][..];
    let all_reported = Contexts {
        failed: set(&["unit", "e2e"]),
        all: set(&["unit", "docs", "lint", "e2e", "e2e-optional"]),
    };
    let some_reported = Contexts {
        failed: set(&["e2e-optional"]),
        all: set(&["unit", "e2e-optional"]),
    };
    for (body, contexts, branch, changed, expected) in [
        // A new pull request: automatic jobs, subject to their change rules; explicit-trigger
        // jobs are skipped.
        (None, &none, "main", go, &["unit", "lint"][..]),
        (
            None,
            &none,
            "main",
            &["docs/x.md"][..],
            &["unit", "docs"][..],
        ),
        (
            None,
            &none,
            "release-1.0",
            md,
            &["unit", "release-only"][..],
        ),
        // `/test all` skips jobs that need an explicit trigger.
        (Some("/test all"), &none, "main", go, &["unit", "lint"][..]),
        (
            Some("/ok-to-test"),
            &none,
            "main",
            go,
            &["unit", "lint"][..],
        ),
        // `/test X` forces X whatever its change rule, but not on an excluded branch.
        (Some("/test docs"), &none, "main", go, &["docs"][..]),
        (Some("/test e2e"), &none, "main", go, &["e2e"][..]),
        (
            Some("/test e2e e2e-optional"),
            &none,
            "main",
            go,
            &["e2e", "e2e-optional"][..],
        ),
        (Some("/test release-only"), &none, "main", go, &[][..]),
        (
            Some("/test unit, lint"),
            &none,
            "main",
            go,
            &["unit", "lint"][..],
        ),
        (Some("/test units"), &none, "main", go, &[][..]),
        // Dots in job names are regex wildcards in the default trigger, as upstream.
        (Some("/test pull-a.b"), &none, "main", go, &["pull-a.b"][..]),
        (Some("/test pull-aXb"), &none, "main", go, &["pull-a.b"][..]),
        (Some("/run custom"), &none, "main", go, &["custom"][..]),
        (Some("/test custom"), &none, "main", go, &[][..]),
        // `/retest` reruns failed contexts only, plus automatic jobs never reported.
        (
            Some("/retest"),
            &all_reported,
            "main",
            go,
            &["unit", "e2e"][..],
        ),
        (
            Some("/retest"),
            &some_reported,
            "main",
            go,
            &["e2e-optional", "lint"][..],
        ),
        (
            Some("/retest"),
            &some_reported,
            "main",
            md,
            &["e2e-optional"][..],
        ),
        // `/retest-required` never reruns optional jobs.
        (
            Some("/retest-required"),
            &some_reported,
            "main",
            go,
            &["lint"][..],
        ),
        (
            Some("/retest-required"),
            &all_reported,
            "main",
            go,
            &["unit", "e2e"][..],
        ),
        // `/test-manual-required`: required jobs that only run on request.
        (
            Some("/test-manual-required"),
            &none,
            "main",
            go,
            &["e2e", "pull-a.b", "custom"][..],
        ),
        (Some("no command here"), &none, "main", go, &[][..]),
    ] {
        let mut got = run(body, contexts.clone(), branch, changed);
        got.sort();
        let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        assert_eq!(got, want, "{body:?} on {branch} with {changed:?}");
    }
}

#[test]
fn ok_to_test_is_ignored_when_the_repo_says_so() {
    let config = jobs(REPO);
    let filter =
        PresubmitFilter::for_comment("/ok-to-test", false, || Ok::<_, ()>(Contexts::default()))
            .expect("ok");
    let changes = files(&["main.go"]);
    let run =
        filter_presubmits(&filter, &changes, "main", config.presubmits_for("o/r")).expect("ok");
    assert!(run.is_empty(), "{run:?}");
}

#[test]
fn contexts_are_only_fetched_for_retest() {
    let filter = PresubmitFilter::for_comment("/test unit", true, || Err("must not be called"));
    assert!(filter.is_ok());
    let filter = PresubmitFilter::for_comment("/retest", true, || Err("GitHub is down"));
    assert_eq!(filter, Err("GitHub is down"));
}

#[test]
fn changed_files_are_fetched_once_and_only_when_needed() {
    let config = jobs(REPO);
    let fetches = std::cell::Cell::new(0);
    let changes = LazyChanges::new(|| {
        fetches.set(fetches.get() + 1);
        Ok(files(&["docs/a.md"]))
    });
    let filter =
        PresubmitFilter::for_comment("/test unit", true, || Ok::<_, ()>(Contexts::default()))
            .expect("ok");
    config
        .filter_presubmits("o/r", &filter, "main", &changes)
        .expect("ok");
    assert_eq!(fetches.get(), 0, "no selected job has a change rule");
    config
        .filter_presubmits("o/r", &PresubmitFilter::test_all(), "main", &changes)
        .expect("ok");
    filter_presubmits(
        &PresubmitFilter::test_all(),
        &changes,
        "main",
        config.presubmits_for("o/r"),
    )
    .expect("ok");
    assert_eq!(fetches.get(), 1);
    let failing = LazyChanges::new(|| Err(ChangesError("rate limited".into())));
    let err = config
        .filter_presubmits("o/r", &PresubmitFilter::test_all(), "main", &failing)
        .expect_err("fetch error surfaces");
    assert_eq!(err.to_string(), "error getting changed files: rate limited");
}

#[test]
fn explanations_name_the_rule() {
    let config = jobs(REPO);
    let jobs = config.presubmits_for("o/r");
    let explain =
        |body: Option<&str>, contexts: Contexts, branch: &str, changed: &[&str], name: &str| {
            let filter = match body {
                None => PresubmitFilter::test_all(),
                Some(b) => {
                    PresubmitFilter::for_comment(b, true, || Ok::<_, ()>(contexts)).expect("ok")
                }
            };
            let job = jobs.iter().find(|j| j.name == name).expect("job");
            let changes = files(changed);
            let outcome = evaluate(&filter, job, branch, &changes).expect("ok");
            let text = explain_presubmit(job, branch, &outcome, body);
            format!(
                "{}: {text}",
                if outcome.runs() { "runs" } else { "skipped" }
            )
        };
    let none = Contexts::default();
    let failed = Contexts {
        failed: set(&["e2e"]),
        all: set(&["e2e", "unit"]),
    };
    let lines = [
        explain(None, none.clone(), "main", &["main.go"], "unit"),
        explain(
            None,
            none.clone(),
            "main",
            &["docs/a.md", "main.go"],
            "docs",
        ),
        explain(None, none.clone(), "main", &["main.go"], "docs"),
        explain(None, none.clone(), "main", &["a.md", "b.md"], "lint"),
        explain(None, none.clone(), "main", &["a.md", "b.go"], "lint"),
        explain(None, none.clone(), "main", &[], "docs"),
        explain(None, none.clone(), "main", &["main.go"], "e2e"),
        explain(None, none.clone(), "main", &["main.go"], "release-only"),
        explain(
            Some("/test docs"),
            none.clone(),
            "main",
            &["main.go"],
            "docs",
        ),
        explain(
            Some("/test docs"),
            none.clone(),
            "main",
            &["main.go"],
            "e2e",
        ),
        explain(Some("/retest"), failed.clone(), "main", &["main.go"], "e2e"),
        explain(
            Some("/retest"),
            failed.clone(),
            "main",
            &["main.go"],
            "unit",
        ),
        explain(Some("/retest"), failed.clone(), "main", &["a.md"], "lint"),
        explain(
            Some("/retest-required"),
            failed,
            "main",
            &["main.go"],
            "e2e-optional",
        ),
        explain(
            Some("/test-manual-required"),
            none,
            "main",
            &["main.go"],
            "e2e",
        ),
    ];
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn help_notes_and_message() {
    for (body, count, expected) in [
        ("/test ?", 0, Some("")),
        (
            "/test",
            5,
            Some(prow_config::filter::TEST_WITHOUT_TARGET_NOTE),
        ),
        (
            "/retest e2e",
            5,
            Some(prow_config::filter::RETEST_WITH_TARGET_NOTE),
        ),
        (
            "/test all",
            0,
            Some(prow_config::filter::NO_TEST_ALL_JOBS_NOTE),
        ),
        ("/test all", 2, None),
        (
            "/test nope",
            0,
            Some(prow_config::filter::TARGET_NOT_FOUND_NOTE),
        ),
        ("/test unit", 1, None),
        ("/retest", 0, None),
    ] {
        assert_eq!(help_note(body, count), expected, "{body:?} with {count}");
    }
    let config = jobs(REPO);
    let changes = files(&["main.go"]);
    let available =
        available_presubmits(&changes, "main", config.presubmits_for("o/r")).expect("ok");
    let message = help_message(
        "o",
        "r",
        "main",
        prow_config::filter::TARGET_NOT_FOUND_NOTE,
        &available,
    );
    assert!(is_help_comment(&message));
    insta::assert_snapshot!(message);
    let empty = available_presubmits(&changes, "main", &[]).expect("ok");
    assert_eq!(
        help_message("o", "r", "dev", "", &empty),
        "No presubmit jobs available for o/r@dev"
    );
}

#[test]
fn selected_carries_prows_forced_and_default_flags() {
    // (forced, defaults) per filter, as upstream's filters return them.
    for (selected, forced, defaults) in [
        (Selected::Command, true, true),
        (Selected::RetestFailed, false, true),
        (Selected::RetestUnreported, false, false),
        (Selected::TestManualRequired, true, false),
        (Selected::TestAll, false, false),
    ] {
        assert_eq!(
            (selected.forced(), selected.defaults()),
            (forced, defaults),
            "{selected:?}"
        );
    }
    let config = jobs(REPO);
    let job = &config.presubmits_for("o/r")[0];
    let no_files = files(&[]);
    let outcome = evaluate(&PresubmitFilter::test_all(), job, "main", &no_files).expect("ok");
    assert!(matches!(outcome, Outcome::Selected(Selected::TestAll, _)));
}

// ----- The indexed matcher against a plain reference implementation. -----

/// A plain, obviously correct reading of Prow's rules, independent of the library's code.
fn reference(
    job: &Presubmit,
    body: &str,
    ctx: &Contexts,
    branch: &str,
    changed: &[String],
) -> bool {
    let re = |p: &str| regex::Regex::new(p).expect("valid");
    let branch_ok = {
        let skip =
            !job.skip_branches.is_empty() && re(&job.skip_branches.join("|")).is_match(branch);
        let listed = job.branches.is_empty() || re(&job.branches.join("|")).is_match(branch);
        !skip && listed
    };
    let rule = !job.run_if_changed.is_empty() || !job.skip_if_only_changed.is_empty();
    let explicit = !job.always_run && !rule;
    let changes_run = if !job.run_if_changed.is_empty() {
        changed.iter().any(|f| re(&job.run_if_changed).is_match(f))
    } else {
        changed
            .iter()
            .any(|f| !re(&job.skip_if_only_changed).is_match(f))
    };
    let should = |forced: bool, defaults: bool| {
        branch_ok && (job.always_run || forced || (rule && changes_run) || defaults)
    };
    if re(&job.trigger).is_match(body) {
        return should(true, true);
    }
    let failed = ctx.failed.contains(&job.context);
    if re(r"(?m)^/retest\s*$").is_match(body)
        && (failed || (!explicit && !ctx.all.contains(&job.context)))
    {
        return should(false, failed);
    }
    let test_all = re(r"(?m)^/test all,?($|\s.*)").is_match(body)
        || re(r"(?m)^/ok-to-test\s*$").is_match(body);
    if test_all && !explicit {
        return should(false, false);
    }
    false
}

fn arb_job() -> impl Strategy<Value = String> {
    let branch = prop::sample::select(vec![
        "",
        "main",
        "^main$",
        "release-1.1",
        "release-.*",
        "^dev",
    ]);
    let skip = prop::sample::select(vec!["", "release-1.10", "^release-1.1$", "dev"]);
    let rule = prop::sample::select(vec![
        "",
        "run_if_changed: ^docs/",
        "run_if_changed: \\.go$",
        "run_if_changed: ^pkg/.*\\.go$",
        "skip_if_only_changed: \\.md$",
        "skip_if_only_changed: ^(docs|site)/",
    ]);
    (0u8..20, any::<bool>(), any::<bool>(), branch, skip, rule).prop_map(
        |(n, always, optional, b, s, r)| {
            let mut y = format!("name: job{n}\noptional: {optional}\n");
            if r.is_empty() {
                y.push_str(&format!("always_run: {always}\n"));
            } else {
                y.push_str(&format!("{r}\n"));
            }
            if !b.is_empty() {
                y.push_str(&format!("branches: ['{b}']\n"));
            }
            if !s.is_empty() {
                y.push_str(&format!("skip_branches: ['{s}']\n"));
            }
            y
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn proptest_indexed_matcher_equals_reference(
        specs in prop::collection::vec(arb_job(), 0..12),
        changed in prop::collection::vec(
            prop::sample::select(vec!["docs/a.md", "README.md", "pkg/x/y.go", "main.go", "site/index.html", "cmd/z.go"]),
            0..6,
        ),
        branch in prop::sample::select(vec!["main", "main-2", "release-1.1", "release-1.10", "dev", "develop"]),
        body in prop::sample::select(vec!["", "/test all", "/retest", "/test job1", "/test job2 job3", "/ok-to-test", "/test job1\n/retest"]),
        failed in prop::collection::hash_set((0u8..20).prop_map(|n| format!("job{n}")), 0..5),
        reported in prop::collection::hash_set((0u8..20).prop_map(|n| format!("job{n}")), 0..10),
    ) {
        let yaml = if specs.is_empty() {
            "presubmits: {}".to_owned()
        } else {
            let items: Vec<String> = specs.iter().map(|s| format!("  - {}", s.trim_end().replace('\n', "\n    "))).collect();
            format!("presubmits:\n  o/r:\n{}\n", items.join("\n"))
        };
        let config = jobs(&yaml);
        let ctx = Contexts { all: reported.union(&failed).cloned().collect(), failed };
        let changed: Vec<String> = changed.into_iter().map(str::to_owned).collect();
        let filter = if body.is_empty() {
            PresubmitFilter::test_all()
        } else {
            PresubmitFilter::for_comment(body, true, || Ok::<_, ()>(ctx.clone())).expect("ok")
        };
        let jobs = config.presubmits_for("o/r");
        let indexed: Vec<&str> = config
            .filter_presubmits("o/r", &filter, branch, &changed)
            .expect("ok")
            .into_iter()
            .map(|p| p.name.as_str())
            .collect();
        let plain: Vec<&str> = filter_presubmits(&filter, &changed, branch, jobs)
            .expect("ok")
            .into_iter()
            .map(|p| p.name.as_str())
            .collect();
        let body = if body.is_empty() { "/test all" } else { body };
        let expected: Vec<&str> = jobs
            .iter()
            .filter(|j| reference(j, body, &ctx, branch, &changed))
            .map(|p| p.name.as_str())
            .collect();
        prop_assert_eq!(&indexed, &expected);
        prop_assert_eq!(&plain, &expected);
    }
}

// ----- kubernetes/kubernetes from the shared corpus. -----

/// `count` paths spread over directories the kubernetes/kubernetes jobs watch.
fn k8s_paths(count: usize) -> Vec<String> {
    let dirs = [
        "pkg/kubelet/",
        "test/e2e/network/",
        "staging/src/k8s.io/kms/",
        "vendor/x/",
        "docs/",
    ];
    (0..count)
        .map(|i| format!("{}f{i}.{}", dirs[i % dirs.len()], ["go", "md"][i % 2]))
        .collect()
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn k8s_kubernetes_indexed_equals_plain_and_known_jobs_decide() {
    let dir = crate::corpus::corpus();
    let root = dir.join("k8s-test-infra/config");
    let options =
        prow_config::LoadOptions::new(root.join("prow/config.yaml"), Some(root.join("jobs")));
    let config = prow_config::load(&options).expect("k8s loads");
    let jobs = &config.jobs;
    let unanchored = prow_config::unanchored_branches(jobs);
    eprintln!(
        "k8s: {} unanchored branch entries match other branches in use",
        unanchored.len()
    );
    for finding in unanchored.iter().take(5) {
        eprintln!("  {finding}");
    }
    let repo = "kubernetes/kubernetes";
    assert!(jobs.presubmits_for(repo).len() > 100);
    let failed = Contexts {
        failed: set(&["pull-kubernetes-unit", "pull-kubernetes-e2e-kind"]),
        all: set(&[
            "pull-kubernetes-unit",
            "pull-kubernetes-e2e-kind",
            "pull-kubernetes-verify",
        ]),
    };
    let change_sets = [
        Vec::new(),
        files(&["pkg/kubelet/kubelet.go"]),
        files(&["go.mod", "vendor/modules.txt"]),
        files(&["pkg/cloudprovider/azure_disk.go"]),
        k8s_paths(100),
        k8s_paths(3000),
    ];
    for body in [
        None,
        Some("/test all"),
        Some("/retest"),
        Some("/test pull-kubernetes-e2e-gce-cos"),
    ] {
        let filter = match body {
            None => PresubmitFilter::test_all(),
            Some(b) => {
                PresubmitFilter::for_comment(b, true, || Ok::<_, ()>(failed.clone())).expect("ok")
            }
        };
        for branch in ["master", "release-1.30"] {
            for changes in &change_sets {
                let plain = filter_presubmits(&filter, changes, branch, jobs.presubmits_for(repo))
                    .expect("ok");
                let indexed = jobs
                    .filter_presubmits(repo, &filter, branch, changes)
                    .expect("ok");
                assert_eq!(
                    plain,
                    indexed,
                    "{body:?} on {branch} with {} files",
                    changes.len()
                );
            }
        }
    }
    let names = |changes: &[String]| -> Vec<String> {
        jobs.filter_presubmits(repo, &PresubmitFilter::test_all(), "master", changes)
            .expect("ok")
            .into_iter()
            .map(|p| p.name.clone())
            .collect()
    };
    let kubelet = names(&files(&["pkg/kubelet/kubelet.go"]));
    let deps = names(&files(&["go.mod"]));
    let azure = names(&files(&["pkg/cloudprovider/azure_disk.go"]));
    let has = |list: &[String], name: &str| list.iter().any(|n| n == name);
    assert!(
        has(&kubelet, "pull-kubernetes-e2e-gce"),
        "always_run job runs"
    );
    assert!(!has(&kubelet, "check-dependency-stats") && has(&deps, "check-dependency-stats"));
    assert!(
        !has(&kubelet, "pull-kubernetes-e2e-capz-azure-disk")
            && has(&azure, "pull-kubernetes-e2e-capz-azure-disk")
    );
    assert!(
        !has(&kubelet, "pull-kubernetes-e2e-gce-cos"),
        "explicit-trigger job does not run"
    );
}

#[test]
fn unanchored_branches_warning_names_the_trap() {
    let config = jobs(
        r#"
presubmits:
  o/r:
  - name: on-4-1
    always_run: true
    branches: [release-4.1]
  - name: on-4-10
    always_run: true
    branches: [^release-4.10$]
  - name: anchored
    always_run: true
    branches: [^release-4.1$]
  - name: pattern
    always_run: true
    branches: [release-.*]
  - name: skip-main
    always_run: true
    skip_branches: [main]
  other/repo:
  - name: elsewhere
    always_run: true
    branches: [release-4.1]
postsubmits:
  o/r:
  - name: post-main
    branches: [main]
periodics:
- name: nightly
  cron: "0 0 * * *"
  extra_refs:
  - {org: o, repo: r, base_ref: main-next}
"#,
    );
    let listing: Vec<String> = prow_config::unanchored_branches(&config)
        .iter()
        .map(ToString::to_string)
        .collect();
    insta::assert_snapshot!(listing.join("\n"));
}
