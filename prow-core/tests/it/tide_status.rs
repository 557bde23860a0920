//! The `tide` status context: Prow's `TestExpectedStatus` and `TestRequirementDiff` cases.

use prow_core::MergeMethod;
use prow_core::tide::context::{not_allowed_to_merge_reason, pr_merge_method};
use prow_core::tide::status::{
    expected_status, requirement_diff, retesting_status, truncate_description,
};
use prow_core::tide::{
    AllowedMergeMethods, Blocker, Context, ContextPolicy, ContextState, MergeBlocksPolicy,
    MergeLabels, MergeStateStatus, Mergeable, PullRequest, QueryRequirements, StatusInput,
    StatusState,
};

const LONG: &str = "need-a-very-super-duper-extra-not-short-at-all-label-name";

/// One row of the table: how the PR differs from the default "batman, v1.0, all labels" PR.
#[derive(Default)]
struct Case {
    name: &'static str,
    labels: Option<Vec<&'static str>>,
    base: &'static str,
    allow: Vec<&'static str>,
    deny: Vec<&'static str>,
    same_branch_reqs: bool,
    extra_label_query: Option<&'static str>,
    author: Option<&'static str>,
    first_author: &'static str,
    second_author: &'static str,
    milestone: Option<&'static str>,
    contexts: Vec<(&'static str, ContextState)>,
    in_pool: bool,
    blocks: Vec<u64>,
    display_all: bool,
    required: Vec<&'static str>,
    passing: Vec<&'static str>,
    conflict: bool,
    merge_state_blocked: bool,
    blocks_policy: MergeBlocksPolicy,
    want: (StatusState, &'static str),
}

fn queries(c: &Case) -> Vec<QueryRequirements> {
    let mut first = QueryRequirements::default();
    first.labels = vec!["need-1".into(), "need-2".into(), format!("{LONG},need-3")];
    first.missing_labels = vec!["forbidden-1".into(), "forbidden-2".into()];
    first.author = c.first_author.into();
    first.milestone = "v1.0".into();
    first.included_branches = c.allow.iter().map(|s| s.to_string()).collect();
    first.excluded_branches = c.deny.iter().map(|s| s.to_string()).collect();
    let mut second = QueryRequirements::default();
    second.labels = (1..=7).map(|i| i.to_string()).collect();
    second.author = c.second_author.into();
    second.milestone = "v1.0".into();
    if c.same_branch_reqs {
        second.included_branches = first.included_branches.clone();
        second.excluded_branches = first.excluded_branches.clone();
    }
    let mut all = vec![first, second];
    if let Some(label) = c.extra_label_query {
        let mut extra = QueryRequirements::default();
        extra.labels = vec![label.into()];
        all.push(extra);
    }
    all
}

fn check(c: Case) {
    let mut pr = PullRequest::new("org", "repo", 1);
    pr.base_ref = c.base.into();
    pr.author = c.author.unwrap_or("batman").into();
    pr.milestone = Some(c.milestone.unwrap_or("v1.0").into());
    pr.labels = c
        .labels
        .clone()
        .unwrap_or_else(|| vec!["need-1", "need-2", LONG])
        .into_iter()
        .map(String::from)
        .collect();
    pr.contexts = c
        .contexts
        .iter()
        .map(|(n, s)| Context::new(*n, *s))
        .collect();
    if c.conflict {
        pr.mergeable = Mergeable::Conflicting;
    }
    if c.merge_state_blocked {
        pr.merge_state = MergeStateStatus::Blocked;
    }
    let mut policy = ContextPolicy::default();
    policy.required = c.required.iter().map(|s| s.to_string()).collect();
    let labels = MergeLabels::new("tide/merge-method-squash", "", "tide/merge-method-merge");
    let method = pr_merge_method(MergeMethod::Merge, &pr.labels, &labels);
    let reason =
        not_allowed_to_merge_reason(&pr, method, AllowedMergeMethods::default(), c.blocks_policy);
    let blockers: Vec<Blocker> = c
        .blocks
        .iter()
        .map(|n| Blocker::new("org", "repo", *n, "blocker"))
        .collect();
    let queries = queries(&c);
    let passing: Vec<String> = c.passing.iter().map(|s| s.to_string()).collect();
    let mut input = StatusInput::new(&pr, &policy);
    input.not_allowed_reason = reason.as_deref();
    input.in_pool = c.in_pool;
    input.blockers = &blockers;
    input.queries = &queries;
    input.display_all_queries = c.display_all;
    input.passing_up_to_date = &passing;
    input.blocks_policy = c.blocks_policy;
    let (state, desc) = expected_status(&input);
    assert_eq!((state, desc.as_str()), c.want, "case {:?}", c.name);
}

#[test]
fn expected_status_table() {
    use ContextState::*;
    use StatusState::{Error as Err, Pending as Pend, Success as Ok};
    let cases = vec![
        Case {
            name: "in pool",
            in_pool: true,
            want: (Ok, "In merge pool."),
            ..Case::default()
        },
        Case {
            name: "check truncation of label list",
            labels: Some(vec![]),
            first_author: "batman",
            second_author: "batman",
            want: (Pend, "Not mergeable. Needs need-1, need-2 labels."),
            ..Case::default()
        },
        Case {
            name: "check truncation of label list is not excessive",
            labels: Some(vec!["need-1", "need-2"]),
            want: (
                Pend,
                "Not mergeable. Needs need-a-very-super-duper-extra-not-short-at-all-label-name or need-3 label.",
            ),
            ..Case::default()
        },
        Case {
            name: "check multiple /tide labels result in conflict message",
            labels: Some(vec![
                "need-1",
                "tide/merge-method-merge",
                "tide/merge-method-squash",
            ]),
            want: (
                Err,
                "Not mergeable. PR has conflicting merge method override labels",
            ),
            ..Case::default()
        },
        Case {
            name: "has forbidden labels",
            labels: Some(vec!["need-1", "need-2", LONG, "forbidden-1", "forbidden-2"]),
            want: (
                Pend,
                "Not mergeable. Should not have forbidden-1, forbidden-2 labels.",
            ),
            ..Case::default()
        },
        Case {
            name: "has one forbidden label",
            labels: Some(vec!["need-1", "need-2", LONG, "forbidden-1"]),
            want: (Pend, "Not mergeable. Should not have forbidden-1 label."),
            ..Case::default()
        },
        Case {
            name: "only mention one requirement class",
            labels: Some(vec!["need-2", LONG, "forbidden-1"]),
            want: (Pend, "Not mergeable. Needs need-1 label."),
            ..Case::default()
        },
        Case {
            name: "mention all possible queries when opted in",
            labels: Some(vec!["need-2", LONG, "forbidden-1"]),
            display_all: true,
            want: (
                Pend,
                "Not mergeable. Needs need-1 label OR Needs 1, 2, 3, 4, 5, 6, 7 labels.",
            ),
            ..Case::default()
        },
        Case {
            name: "displayAllTideQueries when there is no matching query",
            base: "bad",
            deny: vec!["bad"],
            same_branch_reqs: true,
            labels: Some(vec!["need-2", LONG, "forbidden-1"]),
            display_all: true,
            want: (Pend, "Not mergeable. No Tide query for branch bad found."),
            ..Case::default()
        },
        Case {
            name: "displayAllTideQueries shows only queries matching the branch",
            base: "main",
            deny: vec!["main"],
            same_branch_reqs: true,
            extra_label_query: Some("good-to-go"),
            labels: Some(vec!["need-2", LONG, "forbidden-1"]),
            display_all: true,
            want: (Pend, "Not mergeable. Needs good-to-go label."),
            ..Case::default()
        },
        Case {
            name: "against excluded branch",
            base: "bad",
            deny: vec!["bad"],
            same_branch_reqs: true,
            want: (Pend, "Not mergeable. Merging to branch bad is forbidden."),
            ..Case::default()
        },
        Case {
            name: "not against included branch",
            base: "bad",
            allow: vec!["good"],
            same_branch_reqs: true,
            want: (Pend, "Not mergeable. Merging to branch bad is forbidden."),
            ..Case::default()
        },
        Case {
            name: "choose query for correct branch",
            base: "bad",
            allow: vec!["good"],
            want: (Pend, "Not mergeable. Needs 1, 2, 3, 4, 5, 6, 7 labels."),
            ..Case::default()
        },
        Case {
            name: "tides own context failed but is ignored",
            contexts: vec![("tide", Error)],
            want: (Ok, "In merge pool."),
            ..Case::default()
        },
        Case {
            name: "single bad context",
            contexts: vec![("job-name", Error)],
            want: (Pend, "Not mergeable. Job job-name has not succeeded."),
            ..Case::default()
        },
        Case {
            name: "multiple bad contexts",
            contexts: vec![("job-name", Error), ("other-job-name", Failure)],
            want: (
                Pend,
                "Not mergeable. Jobs job-name, other-job-name have not succeeded.",
            ),
            ..Case::default()
        },
        Case {
            name: "good context, bad other context",
            contexts: vec![("job-name", Success), ("other-job-name", Failure)],
            want: (Pend, "Not mergeable. Job other-job-name has not succeeded."),
            ..Case::default()
        },
        Case {
            name: "wrong author",
            first_author: "batman",
            second_author: "batman",
            author: Some("robin"),
            contexts: vec![("job-name", Success)],
            want: (Pend, "Not mergeable. Must be by author batman."),
            ..Case::default()
        },
        Case {
            name: "wrong author; use lowest diff",
            first_author: "penguin",
            second_author: "batman",
            author: Some("robin"),
            contexts: vec![("job-name", Success)],
            want: (Pend, "Not mergeable. Must be by author penguin."),
            ..Case::default()
        },
        Case {
            name: "wrong milestone",
            milestone: Some("v1.1"),
            contexts: vec![("job-name", Success)],
            want: (Pend, "Not mergeable. Must be in milestone v1.0."),
            ..Case::default()
        },
        Case {
            name: "not in pool, but all requirements are met",
            want: (Ok, "In merge pool."),
            ..Case::default()
        },
        Case {
            name: "check that min diff query is used",
            labels: Some(vec!["3", "4", "5", "6", "7"]),
            want: (Pend, "Not mergeable. Needs 1, 2 labels."),
            ..Case::default()
        },
        Case {
            name: "check that blockers take precedence over other queries",
            labels: Some(vec!["3", "4", "5", "6", "7"]),
            blocks: vec![2, 1],
            want: (Err, "Not mergeable. Merging is blocked by issues 1, 2."),
            ..Case::default()
        },
        Case {
            name: "one blocker",
            labels: Some(vec![]),
            blocks: vec![7],
            want: (Err, "Not mergeable. Merging is blocked by issue 7."),
            ..Case::default()
        },
        Case {
            name: "missing passing up-to-date context",
            in_pool: true,
            required: vec!["foo", "bar"],
            passing: vec!["foo"],
            want: (Pend, "Not mergeable. Retesting: bar"),
            ..Case::default()
        },
        Case {
            name: "missing passing up-to-date contexts",
            in_pool: true,
            required: vec!["foo", "baz", "bar"],
            passing: vec!["foo"],
            want: (Pend, "Not mergeable. Retesting: bar baz"),
            ..Case::default()
        },
        Case {
            name: "mergeconflicts",
            conflict: true,
            want: (Err, "Not mergeable. PR has a merge conflict."),
            ..Case::default()
        },
        Case {
            name: "blocked by GitHub with policy permit",
            in_pool: true,
            merge_state_blocked: true,
            want: (Ok, "In merge pool (despite BLOCKED)."),
            ..Case::default()
        },
        Case {
            name: "blocked by GitHub with policy block",
            merge_state_blocked: true,
            blocks_policy: MergeBlocksPolicy::Block,
            want: (
                Err,
                "Not mergeable. PR is blocked from merging by GitHub (check branch protection, required reviews, or rulesets)",
            ),
            ..Case::default()
        },
        Case {
            name: "blocked by GitHub with policy ignore",
            in_pool: true,
            merge_state_blocked: true,
            blocks_policy: MergeBlocksPolicy::Ignore,
            want: (Ok, "In merge pool."),
            ..Case::default()
        },
    ];
    for c in cases {
        check(c);
    }
}

#[test]
fn requirement_diff_weights() {
    let mut pr = PullRequest::new("o", "r", 1);
    pr.base_ref = "main".into();
    pr.author = "Alice".into();
    let policy = ContextPolicy::default();
    let check = |q: QueryRequirements, pr: &PullRequest, want: (&str, u32)| {
        let (d, n) = requirement_diff(pr, &q, &policy, MergeBlocksPolicy::Block);
        assert_eq!((d.as_str(), n), want);
    };
    let mut q = QueryRequirements::default();
    q.excluded_branches = vec!["main".into()];
    q.author = "bob".into();
    check(q, &pr, (" Merging to branch main is forbidden.", 3000));
    let mut q = QueryRequirements::default();
    q.author = "@alice".into();
    check(q, &pr, ("", 0));
    let mut q = QueryRequirements::default();
    q.milestone = "v2".into();
    q.labels = vec!["a".into(), "b".into()];
    check(q, &pr, (" Must be in milestone v2.", 102));
    let mut q = QueryRequirements::default();
    q.review_approved_required = true;
    check(
        q,
        &pr,
        (
            " PullRequest is missing sufficient approving GitHub review(s)",
            50,
        ),
    );
    let mut blocked = pr.clone();
    blocked.merge_state = MergeStateStatus::Blocked;
    check(
        QueryRequirements::default(),
        &blocked,
        (" Blocked by GitHub (branch rulesets or protection)", 100),
    );
    // A missing required context counts twice, as in Prow, and is named once.
    let mut policy = ContextPolicy::default();
    policy.required = vec!["unit".into()];
    let (d, n) = requirement_diff(
        &pr,
        &QueryRequirements::default(),
        &policy,
        MergeBlocksPolicy::Permit,
    );
    assert_eq!((d.as_str(), n), (" Job unit has not succeeded.", 2));
}

#[test]
fn retesting_status_shortens_long_lists() {
    assert_eq!(
        retesting_status(&["b".into(), "a".into()]),
        "Not mergeable. Retesting: a b"
    );
    let long: Vec<String> = (0..3).map(|i| format!("{i}-{}", "x".repeat(50))).collect();
    assert_eq!(retesting_status(&long), "Not mergeable. Retesting 3 jobs.");
    let one = vec!["y".repeat(140)];
    assert_eq!(retesting_status(&one), "Not mergeable. Retesting 1 job.");
}

#[test]
fn descriptions_are_truncated_to_github_limit() {
    let long = "é".repeat(100);
    let t = truncate_description(&long);
    assert!(t.len() <= 140 && t.ends_with("..."), "{t}");
    assert_eq!(truncate_description("short"), "short");
}

#[test]
fn merge_method_labels() {
    let labels = MergeLabels::new("squash-me", "rebase-me", "merge-me");
    let l = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        pr_merge_method(MergeMethod::Merge, &l(&[]), &labels),
        Some(MergeMethod::Merge)
    );
    assert_eq!(
        pr_merge_method(MergeMethod::Merge, &l(&["squash-me", "x"]), &labels),
        Some(MergeMethod::Squash)
    );
    assert_eq!(
        pr_merge_method(MergeMethod::Squash, &l(&["rebase-me"]), &labels),
        Some(MergeMethod::Rebase)
    );
    assert_eq!(
        pr_merge_method(MergeMethod::Squash, &l(&["merge-me"]), &labels),
        Some(MergeMethod::Merge)
    );
    assert_eq!(
        pr_merge_method(MergeMethod::Merge, &l(&["squash-me", "merge-me"]), &labels),
        None
    );
    // Unset labels never match, not even an empty label name.
    let none = MergeLabels::default();
    assert_eq!(
        pr_merge_method(MergeMethod::Rebase, &l(&["", "squash-me"]), &none),
        Some(MergeMethod::Rebase)
    );
}

#[test]
fn allowed_to_merge_reasons() {
    let mut pr = PullRequest::new("o", "r", 1);
    let mut only_squash = AllowedMergeMethods::default();
    only_squash.merge = false;
    only_squash.rebase = false;
    let p = MergeBlocksPolicy::Permit;
    assert_eq!(
        not_allowed_to_merge_reason(&pr, Some(MergeMethod::Squash), only_squash, p),
        None
    );
    assert_eq!(
        not_allowed_to_merge_reason(&pr, Some(MergeMethod::Merge), only_squash, p).as_deref(),
        Some("Merge type \"merge\" disallowed by repo settings")
    );
    pr.can_be_rebased = false;
    assert_eq!(
        not_allowed_to_merge_reason(
            &pr,
            Some(MergeMethod::Rebase),
            AllowedMergeMethods::default(),
            p
        )
        .as_deref(),
        Some("PR can't be rebased")
    );
}
