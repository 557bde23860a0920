//! Pools, accumulation, batch selection and the sync action (Prow's TestAccumulate,
//! TestAccumulateBatch, TestPickBatchWithPreexistingTests, TestTakeAction, in table form).

use std::collections::{BTreeMap, BTreeSet};

use prow_core::ProwJob;
use prow_core::tide::blockers::applicable;
use prow_core::tide::pool::{
    Action, ActionInput, SimpleState, accumulate, accumulate_batch, base_sha_from_description,
    batch_size_limit, better_state, description_with_base_sha, divide_pool, is_retest_eligible,
    pick_batch_with_preexisting_tests, pick_highest_priority, pick_new_batch, take_action,
};
use prow_core::tide::template::MergeTemplate;
use prow_core::tide::{Blocker, Context, ContextPolicy, ContextState, PullRequest, Subpool};

fn pj(kind: &str, context: &str, pulls: &[(u64, &str)], state: &str, by_tide: bool) -> ProwJob {
    let pulls: Vec<_> = pulls
        .iter()
        .map(|(n, sha)| serde_json::json!({"number": n, "author": "a", "sha": sha}))
        .collect();
    let mut labels = serde_json::Map::new();
    if by_tide {
        labels.insert("created-by-tide".into(), "true".into());
    }
    serde_json::from_value(serde_json::json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": format!("{kind}-{context}-{state}"), "labels": labels},
        "spec": {
            "type": kind, "job": context, "context": context,
            "refs": {"org": "o", "repo": "r", "base_ref": "main", "base_sha": "base", "pulls": pulls}
        },
        "status": {"state": state, "startTime": "2026-01-01T00:00:00Z"}
    }))
    .unwrap_or_else(|e| panic!("test ProwJob: {e}"))
}

fn pr(number: u64, head: &str) -> PullRequest {
    let mut p = PullRequest::new("o", "r", number);
    p.base_ref = "main".into();
    p.head_sha = head.into();
    p
}

fn subpool(prs: Vec<PullRequest>, jobs: Vec<ProwJob>, required: &[&str]) -> Subpool {
    let presubmits = prs
        .iter()
        .map(|p| (p.number, required.iter().map(|s| s.to_string()).collect()))
        .collect();
    let mut base = BTreeMap::new();
    base.insert("o/r:main".to_string(), "base".to_string());
    let mut pools = divide_pool(prs, &jobs, &base);
    assert_eq!(pools.len(), 1);
    let mut sp = pools.remove(0);
    sp.presubmits = presubmits;
    sp
}

#[test]
fn divide_pool_groups_by_branch_and_keeps_jobs_for_the_current_base() {
    let mut other = pr(3, "c");
    other.base_ref = "release".into();
    let mut stale = pj("presubmit", "unit", &[(1, "a")], "success", false);
    if let Some(r) = stale.spec.refs.as_mut() {
        r.base_sha = "old".into();
    }
    let fresh = pj("presubmit", "unit", &[(1, "a")], "success", false);
    let mut base = BTreeMap::new();
    base.insert("o/r:main".to_string(), "base".to_string());
    let pools = divide_pool(vec![pr(2, "b"), other, pr(1, "a")], &[stale, fresh], &base);
    let keys: Vec<String> = pools.iter().map(Subpool::key).collect();
    assert_eq!(keys, vec!["o/r:main", "o/r:release"]);
    assert_eq!(
        pools[0].prs.iter().map(|p| p.number).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(pools[0].prowjobs.len(), 1);
    assert_eq!(pools[1].base_sha, "");
}

#[test]
fn accumulate_table() {
    // (name, jobs, want successes, pendings, missings)
    type Row = (&'static str, Vec<ProwJob>, Vec<u64>, Vec<u64>, Vec<u64>);
    let rows: Vec<Row> = vec![
        ("nothing ran", vec![], vec![], vec![], vec![1, 2]),
        (
            "both jobs passed for 1, one pending for 2",
            vec![
                pj("presubmit", "unit", &[(1, "a")], "success", false),
                pj("presubmit", "e2e", &[(1, "a")], "success", false),
                pj("presubmit", "unit", &[(2, "b")], "success", false),
                pj("presubmit", "e2e", &[(2, "b")], "pending", false),
            ],
            vec![1],
            vec![2],
            vec![],
        ),
        (
            "a retest that passed beats an earlier failure",
            vec![
                pj("presubmit", "unit", &[(1, "a")], "failure", false),
                pj("presubmit", "unit", &[(1, "a")], "success", false),
                pj("presubmit", "e2e", &[(1, "a")], "success", false),
            ],
            vec![1],
            vec![],
            vec![2],
        ),
        (
            "results for an old head do not count; batch jobs are not presubmits",
            vec![
                pj("presubmit", "unit", &[(1, "old")], "success", false),
                pj("presubmit", "e2e", &[(1, "a")], "success", false),
                pj("batch", "unit", &[(2, "b")], "success", false),
            ],
            vec![],
            vec![],
            vec![1, 2],
        ),
        (
            "failure and pending: missing wins",
            vec![
                pj("presubmit", "unit", &[(1, "a")], "failure", false),
                pj("presubmit", "e2e", &[(1, "a")], "triggered", false),
            ],
            vec![],
            vec![],
            vec![1, 2],
        ),
    ];
    for (name, jobs, successes, pendings, missings) in rows {
        let sp = subpool(vec![pr(1, "a"), pr(2, "b")], jobs, &["unit", "e2e"]);
        let acc = accumulate(&sp);
        assert_eq!(
            (acc.successes, acc.pendings, acc.missings),
            (successes, pendings, missings),
            "{name}"
        );
    }
}

#[test]
fn accumulate_counts_contexts_that_passed_on_this_base() {
    let mut p = pr(1, "a");
    let mut ctx = Context::new("unit", ContextState::Success);
    ctx.description = description_with_base_sha("Job succeeded.", "base");
    p.contexts.push(ctx);
    let mut skip = Context::new("e2e", ContextState::Success);
    skip.description = "Skipped [prow:skip-retest]".into();
    p.contexts.push(skip);
    let sp = subpool(vec![p], vec![], &["unit", "e2e"]);
    assert_eq!(accumulate(&sp).successes, vec![1]);
    assert_eq!(
        base_sha_from_description("Job succeeded. BaseSHA:abc"),
        Some("abc")
    );
    assert_eq!(base_sha_from_description("Job succeeded."), None);
    let long = description_with_base_sha(&"x".repeat(200), "0123456789abcdef");
    assert!(long.len() <= 140 + 2 && long.ends_with(" BaseSHA:0123456789abcdef"));
}

#[test]
fn accumulate_batch_table() {
    type Row = (&'static str, Vec<ProwJob>, Vec<u64>, Vec<u64>);
    let rows: Vec<Row> = vec![
        (
            "passing batch",
            vec![
                pj("batch", "unit", &[(1, "a"), (2, "b")], "success", true),
                pj("batch", "e2e", &[(1, "a"), (2, "b")], "success", true),
            ],
            vec![1, 2],
            vec![],
        ),
        (
            "pending batch",
            vec![
                pj("batch", "unit", &[(1, "a"), (2, "b")], "success", true),
                pj("batch", "e2e", &[(1, "a"), (2, "b")], "pending", true),
            ],
            vec![],
            vec![1, 2],
        ),
        (
            "a failed job fails the batch",
            vec![
                pj("batch", "unit", &[(1, "a"), (2, "b")], "failure", true),
                pj("batch", "e2e", &[(1, "a"), (2, "b")], "pending", true),
            ],
            vec![],
            vec![],
        ),
        (
            "a required job never ran",
            vec![pj("batch", "unit", &[(1, "a"), (2, "b")], "success", true)],
            vec![],
            vec![],
        ),
        (
            "a PR's head moved",
            vec![
                pj("batch", "unit", &[(1, "a"), (2, "old")], "success", true),
                pj("batch", "e2e", &[(1, "a"), (2, "old")], "success", true),
            ],
            vec![],
            vec![],
        ),
        (
            "a PR left the pool",
            vec![
                pj("batch", "unit", &[(1, "a"), (9, "z")], "success", true),
                pj("batch", "e2e", &[(1, "a"), (9, "z")], "success", true),
            ],
            vec![],
            vec![],
        ),
    ];
    for (name, jobs, success, pending) in rows {
        let sp = subpool(vec![pr(1, "a"), pr(2, "b")], jobs, &["unit", "e2e"]);
        let b = accumulate_batch(&sp, |_| vec!["unit".into(), "e2e".into()]);
        assert_eq!((b.success, b.pending), (success, pending), "{name}");
    }
}

#[test]
fn better_state_prefers_success_then_pending() {
    use SimpleState::*;
    assert_eq!(better_state(None, Failure), Failure);
    assert_eq!(better_state(Some(Failure), Pending), Pending);
    assert_eq!(better_state(Some(Pending), Failure), Pending);
    assert_eq!(better_state(Some(Pending), Success), Success);
    assert_eq!(better_state(Some(Success), Failure), Success);
}

#[test]
fn highest_priority_pr() {
    let mut prs: Vec<PullRequest> = (1..=4).map(|n| pr(n, "h")).collect();
    prs[2].labels = vec!["urgent".into()];
    prs[3].labels = vec!["critical".into(), "urgent".into()];
    let priorities = vec![
        vec!["critical,blocker".to_string()],
        vec!["urgent".to_string()],
    ];
    let all = |_: &PullRequest| true;
    assert_eq!(
        pick_highest_priority(&prs, &priorities, all).map(|p| p.number),
        Some(4)
    );
    let not4 = |p: &PullRequest| p.number != 4;
    assert_eq!(
        pick_highest_priority(&prs, &priorities, not4).map(|p| p.number),
        Some(3)
    );
    assert_eq!(
        pick_highest_priority(&prs, &[], all).map(|p| p.number),
        Some(1)
    );
    assert_eq!(
        pick_highest_priority(&prs, &[], |_| false).map(|p| p.number),
        None
    );
}

#[test]
fn existing_batches_are_preferred_successful_first_then_most_jobs() {
    let prs = vec![pr(1, "a"), pr(2, "b"), pr(3, "c")];
    let jobs = vec![
        pj("batch", "unit", &[(1, "a"), (2, "b")], "pending", true),
        pj("batch", "e2e", &[(1, "a"), (2, "b")], "pending", true),
        pj("batch", "unit", &[(2, "b"), (3, "c")], "success", true),
        pj("batch", "unit", &[(1, "a"), (3, "c")], "failure", true),
    ];
    let sp = subpool(prs, jobs, &["unit"]);
    assert_eq!(
        pick_batch_with_preexisting_tests(&sp, &[1, 2, 3], 0),
        vec![2, 3]
    );
    assert_eq!(
        pick_batch_with_preexisting_tests(&sp, &[1, 2], 0),
        vec![1, 2]
    );
    assert_eq!(
        pick_batch_with_preexisting_tests(&sp, &[1, 2, 3], 1),
        Vec::<u64>::new()
    );
    assert_eq!(pick_new_batch(&[5, 3, 9, 1], 2), vec![1, 3]);
    assert_eq!(pick_new_batch(&[5, 3], 0), vec![3, 5]);
    assert!(pick_new_batch(&[5, 3], -1).is_empty());
}

#[test]
fn batch_size_limit_lookup() {
    let limits: BTreeMap<String, i64> = [("*", 5), ("o", 3), ("o/special", -1)]
        .map(|(k, v)| (k.to_string(), v))
        .into();
    assert_eq!(batch_size_limit(&limits, "o", "special"), -1);
    assert_eq!(batch_size_limit(&limits, "o", "r"), 3);
    assert_eq!(batch_size_limit(&limits, "x", "r"), 5);
    assert_eq!(batch_size_limit(&BTreeMap::new(), "x", "r"), 0);
}

#[test]
fn retest_eligibility() {
    let mut policy = ContextPolicy::default();
    policy.required = vec!["unit".into()];
    policy.optional = vec!["lint".into()];
    let mut p = pr(1, "a");
    p.contexts = vec![
        Context::new("unit", ContextState::Success),
        Context::new("lint", ContextState::Failure),
        Context::new("tide", ContextState::Pending),
    ];
    let sp = subpool(vec![p.clone()], vec![], &["unit"]);
    assert!(is_retest_eligible(&p, &policy, &sp));
    p.contexts[0].state = ContextState::Pending;
    assert!(
        !is_retest_eligible(&p, &policy, &sp),
        "pending without a tide job"
    );
    let with_job = subpool(
        vec![p.clone()],
        vec![pj("presubmit", "unit", &[(1, "a")], "pending", true)],
        &["unit"],
    );
    assert!(
        is_retest_eligible(&p, &policy, &with_job),
        "pending with tide's retest"
    );
    p.contexts.remove(0);
    assert!(
        !is_retest_eligible(&p, &policy, &with_job),
        "required context missing"
    );
}

#[test]
fn take_action_table() {
    let prs = vec![pr(1, "a"), pr(2, "b"), pr(3, "c")];
    let sp = subpool(prs, vec![], &["unit"]);
    let everyone: BTreeSet<u64> = [1, 2, 3].into();
    let none = BTreeSet::new();
    struct Row {
        name: &'static str,
        successes: Vec<u64>,
        pendings: Vec<u64>,
        batch_success: Vec<u64>,
        batch_pending: Vec<u64>,
        blocked: bool,
        next_batch: Vec<u64>,
        want: Action,
    }
    let row = |name| Row {
        name,
        successes: vec![],
        pendings: vec![],
        batch_success: vec![],
        batch_pending: vec![],
        blocked: false,
        next_batch: vec![],
        want: Action::Wait,
    };
    let rows = vec![
        Row {
            blocked: true,
            batch_success: vec![1, 2],
            want: Action::Blocked,
            ..row("blocked")
        },
        Row {
            batch_success: vec![1, 2],
            successes: vec![3],
            want: Action::MergeBatch(vec![1, 2]),
            ..row("merge batch")
        },
        Row {
            successes: vec![3, 2],
            want: Action::Merge(2),
            ..row("merge lowest passing")
        },
        Row {
            successes: vec![3],
            batch_pending: vec![1, 2],
            want: Action::Wait,
            ..row("do not merge while a batch runs")
        },
        Row {
            next_batch: vec![1, 2, 3],
            want: Action::TriggerBatch(vec![1, 2, 3]),
            ..row("trigger batch")
        },
        Row {
            next_batch: vec![1],
            want: Action::Trigger(1),
            ..row("batch of one: retest serially")
        },
        Row {
            pendings: vec![1],
            want: Action::Wait,
            ..row("a retest is running")
        },
        Row {
            batch_pending: vec![1, 2],
            want: Action::Trigger(1),
            ..row("retest next to a pending batch")
        },
    ];
    for r in rows {
        let mut acc = prow_core::tide::Accumulated::default();
        acc.successes = r.successes.clone();
        acc.pendings = r.pendings.clone();
        acc.missings = [1, 2, 3]
            .into_iter()
            .filter(|n| !r.successes.contains(n) && !r.pendings.contains(n))
            .collect();
        let mut batch = prow_core::tide::BatchState::default();
        batch.success = r.batch_success.clone();
        batch.pending = r.batch_pending.clone();
        let mut input = ActionInput::new(&sp, &acc, &batch, &everyone, &everyone);
        input.blocked = r.blocked;
        input.next_batch = r.next_batch.clone();
        assert_eq!(take_action(&input), r.want, "{}", r.name);
    }
    let mut no_jobs = sp.clone();
    no_jobs.presubmits.clear();
    let acc = prow_core::tide::Accumulated::default();
    let batch = prow_core::tide::BatchState::default();
    let mut input = ActionInput::new(&no_jobs, &acc, &batch, &none, &none);
    input.next_batch = vec![1, 2];
    assert_eq!(take_action(&input), Action::Wait, "no presubmits: wait");
    assert_eq!(Action::TriggerBatch(vec![]).as_str(), "TRIGGER_BATCH");
}

#[test]
fn blockers_apply_to_repo_or_named_branches() {
    let blockers = vec![
        Blocker::new(
            "o",
            "r",
            7,
            "Release freeze branch:release-1.2 and branch: main",
        ),
        Blocker::new("o", "r", 3, "Everything is broken"),
        Blocker::new("o", "other", 1, "Not ours"),
    ];
    let nums = |b: Vec<&Blocker>| b.into_iter().map(|b| b.number).collect::<Vec<_>>();
    assert_eq!(blockers[0].branches(), vec!["release-1.2", "main"]);
    assert_eq!(nums(applicable(&blockers, "o", "r", "main")), vec![3, 7]);
    assert_eq!(nums(applicable(&blockers, "o", "r", "dev")), vec![3]);
    assert_eq!(
        nums(applicable(&blockers, "o", "x", "main")),
        Vec::<u64>::new()
    );
}

#[test]
fn merge_commit_templates() {
    let mut p = pr(42, "abc");
    p.title = "Fix the thing".into();
    p.body = "Details".into();
    p.author = "alice".into();
    let check = |t: &str, want: &str| {
        let tpl = MergeTemplate::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(tpl.render(&p), want, "{t}");
    };
    check("{{ .Title }} (#{{ .Number }})", "Fix the thing (#42)");
    check(
        "{{.Body}}\n\nby @{{ .Author.Login }}",
        "Details\n\nby @alice",
    );
    check("a  {{- .Number -}}  b", "a42b");
    check("plain", "plain");
    assert!(MergeTemplate::parse("").is_ok_and(|t| t.is_empty()));
    let err = |t: &str| {
        MergeTemplate::parse(t)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    insta::assert_snapshot!(
        [
            err("{{ if .Title }}x{{ end }}"),
            err("{{ .Title | printf \"%q\" }}"),
            err("{{ .Nope }}"),
            err("{{ .Title "),
        ]
        .join("\n"),
        @r#"
    unsupported action `{{ if .Title }}`: only field references like {{ .Title }} are supported
    unsupported action `{{ .Title | printf "%q" }}`: only field references like {{ .Title }} are supported
    unknown field `.Nope`: use one of .Number, .Title, .Body, .Author.Login, .HeadRefName, .HeadRefOID, .BaseRef.Name, .Repository.Name, .Repository.Owner.Login
    unclosed action starting at byte 0
    "#
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Text without actions renders unchanged.
        #[test]
        fn proptest_template_literal_round_trip(text in "[^{]*") {
            let tpl = MergeTemplate::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(tpl.render(&pr(1, "h")), text);
        }

        /// Title and number references render their values between arbitrary literals.
        #[test]
        fn proptest_template_fields(a in "[^{]*", b in "[^{]*", n in 1u64..100000) {
            let mut p = pr(n, "h");
            p.title = "T".into();
            let tpl = MergeTemplate::parse(&format!("{a}{{{{ .Title }}}}{b}{{{{.Number}}}}"))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(tpl.render(&p), format!("{a}T{b}{n}"));
        }
    }
}
