//! rifle: hunks, blame intersection, file sampling, scores and the reviewers chosen (through
//! the real hook: prow-server's `plugins_pla`).

use std::collections::{BTreeMap, BTreeSet};

use prow_config::owners::{self, RepoOwners};
use prow_config::plugins::{Blunderbuss, ContextMatch};
use prow_github::types::{BlameRange, PullRequestFile};
use prow_plugins::plugins::rifle::{self, LineRange};

fn range(start: u64, end: u64) -> LineRange {
    LineRange { start, end }
}

#[test]
fn hunks_give_the_old_side_ranges_as_upstream() {
    let patch = "@@ -10,3 +10,4 @@ fn x\n a\n+b\n@@ -40 +41 @@\n-c\n+d\n@@ -3,0 +4,2 @@\n+e\n@@ -1,0 +1 @@\n+f\nnot a hunk @@ -1,2 +1,2 @@";
    assert_eq!(
        rifle::parse_diff_hunks(patch),
        vec![range(10, 12), range(40, 40), range(1, 3), range(1, 1)]
    );
    assert!(rifle::parse_diff_hunks("").is_empty());
}

#[test]
fn blame_is_counted_only_where_it_meets_the_changes() {
    let blame = [
        BlameRange::new(1, 10, "alice", "2024-01-01T00:00:00Z"),
        BlameRange::new(11, 20, "bob", "2024-02-01T00:00:00Z"),
        BlameRange::new(21, 30, "", "2024-03-01T00:00:00Z"),
        BlameRange::new(31, 40, "alice", "2024-04-01T00:00:00Z"),
    ];
    let stats = rifle::intersect_blame_with_changes(&blame, &[range(8, 12), range(25, 33)]);
    let got: Vec<(&str, u64, i64)> = stats
        .iter()
        .map(|(a, s)| (a.as_str(), s.line_count, s.most_recent))
        .collect();
    assert_eq!(
        got,
        vec![("alice", 3 + 3, 1_711_929_600), ("bob", 2, 1_706_745_600)]
    );
}

fn file(name: &str, status: &str, patch: &str) -> PullRequestFile {
    PullRequestFile {
        filename: name.to_owned(),
        status: status.to_owned(),
        patch: Some(patch.to_owned()),
        ..PullRequestFile::default()
    }
}

#[test]
fn large_pull_requests_sample_files_across_directories() {
    let files: Vec<PullRequestFile> = ["a/1", "a/2", "a/3", "b/1", "c/1", "c/2", "gone", "top"]
        .iter()
        .map(|n| file(n, if *n == "gone" { "removed" } else { "modified" }, ""))
        .collect();
    let names = |limit| -> Vec<&str> {
        rifle::diverse_file_selection(&files, limit)
            .iter()
            .map(|f| f.filename.as_str())
            .collect()
    };
    assert_eq!(names(20), ["a/1", "a/2", "a/3", "b/1", "c/1", "c/2", "top"]);
    assert_eq!(names(5), ["a/1", "b/1", "c/1", "top", "a/2"]);
    assert_eq!(names(0), Vec::<&str>::new());
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|i| (*i).to_owned()).collect()
}

#[test]
fn scores_weigh_lines_recency_and_ownership() {
    let now = 1_700_000_000;
    let day = 86_400;
    let date = |days_ago: i64| {
        chrono::DateTime::from_timestamp(now - days_ago * day, 0)
            .unwrap()
            .to_rfc3339()
    };
    let files = [
        file("a.go", "modified", "@@ -1,4 +1,4 @@"),
        file("b.go", "modified", ""),
    ];
    let refs: Vec<&PullRequestFile> = files.iter().collect();
    let blames: BTreeMap<String, Vec<BlameRange>> = [
        (
            "a.go".to_owned(),
            vec![
                BlameRange::new(1, 2, "alice", &date(0)),
                BlameRange::new(3, 4, "bob", &date(1)),
            ],
        ),
        (
            "b.go".to_owned(),
            vec![BlameRange::new(1, 100, "carol", &date(0))],
        ),
    ]
    .into();
    let scores = rifle::score_reviewers(
        &refs,
        &blames,
        &set(&["alice"]),
        &set(&["bob", "alice"]),
        now,
    );
    let rounded: Vec<(&str, f64)> = scores
        .iter()
        .map(|(a, s)| (a.as_str(), (s * 100.0).round() / 100.0))
        .collect();
    // alice: 2 lines × 10 + 5 × 1/(1+0) + 3 (approver); bob: 20 + 5 × 1/2 + 2 (reviewer);
    // carol's file has no hunks.
    assert_eq!(rounded, vec![("alice", 28.0), ("bob", 24.5)]);
    assert!(rifle::has_blame_scores(&scores));
    assert!(!rifle::has_blame_scores(&BTreeMap::new()));
    assert!(!rifle::has_blame_scores(
        &[("x".to_owned(), f64::NAN)].into()
    ));
}

fn owners(files: &[(&str, &str)]) -> RepoOwners {
    let mut o = RepoOwners::new(owners::Aliases::new());
    for (dir, text) in files {
        o.add(dir, &owners::parse_owners("OWNERS", text).unwrap());
    }
    o
}

fn settings(count: i64) -> Blunderbuss {
    let mut s = Blunderbuss::default();
    s.request_count = Some(count);
    s
}

fn scores(items: &[(&str, f64)]) -> BTreeMap<String, f64> {
    items.iter().map(|(a, s)| ((*a).to_owned(), *s)).collect()
}

#[test]
fn the_best_scored_owners_are_requested() {
    let o = owners(&[
        ("", "approvers: [root]\nreviewers: [r1, r2, r3]\n"),
        (
            "pkg",
            "approvers: [papp]\nreviewers: [p1, p2]\nrequired_reviewers: [sec]\n",
        ),
    ]);
    let files = ["pkg/a.go".to_owned()];
    let decide = |s: &Blunderbuss, sc: &BTreeMap<String, f64>, author: &str| {
        rifle::decide(&o, s, author, &files, sc, 7)
    };
    // With scores: the closest OWNERS file's best first, and its other reviewers before
    // any parent's, however well those score (upstream's `GetReviewers` order).
    assert_eq!(
        decide(
            &settings(2),
            &scores(&[("p2", 30.0), ("r3", 50.0), ("p1", 1.0)]),
            "author"
        ),
        ["p2", "p1", "sec"]
    );
    assert_eq!(
        decide(
            &settings(3),
            &scores(&[("p2", 30.0), ("r3", 50.0), ("p1", 1.0)]),
            "author"
        ),
        ["p2", "p1", "r3", "sec"]
    );
    // The author is never picked.
    assert_eq!(
        decide(&settings(1), &scores(&[("p2", 30.0), ("p1", 1.0)]), "P2"),
        ["p1", "sec"]
    );
    // max_request_count cuts before the required reviewers are added.
    let mut capped = settings(3);
    capped.max_request_count = 1;
    assert_eq!(
        decide(&capped, &scores(&[("p1", 9.0)]), "author"),
        ["p1", "sec"]
    );
    // Without scores the picks are random but stable, and as many as asked.
    let random = decide(&settings(3), &BTreeMap::new(), "author");
    assert_eq!(random.len(), 4);
    assert_eq!(random, decide(&settings(3), &BTreeMap::new(), "author"));
    assert!(
        set(&["p1", "p2"]).iter().any(|p| random[0] == *p),
        "{random:?}"
    );
    // No count configured: nothing.
    assert!(
        rifle::decide(
            &o,
            &Blunderbuss::default(),
            "a",
            &files,
            &BTreeMap::new(),
            7
        )
        .is_empty()
    );
}

#[test]
fn too_few_reviewers_fall_back_to_approvers_then_owners() {
    let o = owners(&[
        ("", "approvers: [root1, root2]\n"),
        ("pkg", "approvers: [papp]\nreviewers: [p1]\n"),
    ]);
    let files = ["pkg/a.go".to_owned()];
    // Every approver the second pass finds is added, even past the count, as upstream does.
    let got = rifle::decide(
        &o,
        &settings(3),
        "author",
        &files,
        &scores(&[("root2", 5.0)]),
        1,
    );
    assert_eq!(got, ["p1", "papp", "root1", "root2"]);
    let mut no_approvers = settings(3);
    no_approvers.exclude_approvers = true;
    // Approvers are excluded from the second pass, but the owner fallback still may pick them.
    let got = rifle::decide(
        &o,
        &no_approvers,
        "author",
        &files,
        &scores(&[("root1", 5.0)]),
        1,
    );
    assert_eq!(got[..2], ["p1", "root1"]);
    assert_eq!(got.len(), 3);
}

#[test]
fn the_awaited_status_is_matched_by_context_state_and_description() {
    let mut s = Blunderbuss::default();
    assert!(!rifle::status_matches(
        &s,
        "tide",
        "pending",
        "Not mergeable. Needs approved label."
    ));
    let mut wait = ContextMatch::default();
    wait.context = "tide".to_owned();
    wait.state = "pending".to_owned();
    wait.description = "Needs .* label".to_owned();
    s.wait_for_status = Some(wait);
    assert!(rifle::status_matches(
        &s,
        "tide",
        "pending",
        "Not mergeable. Needs approved label."
    ));
    assert!(!rifle::status_matches(
        &s,
        "tide",
        "success",
        "Not mergeable. Needs approved label."
    ));
    assert!(!rifle::status_matches(
        &s,
        "ci",
        "pending",
        "Not mergeable. Needs approved label."
    ));
    assert!(!rifle::status_matches(
        &s,
        "tide",
        "pending",
        "In merge pool."
    ));
}
