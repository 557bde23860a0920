//! testfreeze: the freeze read from references, tide's excluded branches and the job list,
//! and the notice, case by case (through the real hook: prow-server's `plugins_pla`).

use prow_plugins::Action;
use prow_plugins::plugins::testfreeze::{self as tf, Freeze, Latest, ProwConfig, TideQuery};

fn refs(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn config(queries: &[(&[&str], &[&str])]) -> ProwConfig {
    let mut config = ProwConfig::default();
    for (repos, excluded) in queries {
        config.tide.queries.push(TideQuery {
            repos: repos.iter().map(|r| (*r).to_owned()).collect(),
            excluded_branches: excluded.iter().map(|b| (*b).to_owned()).collect(),
        });
    }
    config
}

fn latest(refs_: &[&str]) -> Latest {
    tf::latest_release(&refs(refs_)).unwrap()
}

/// (in code freeze, in test freeze, branch, tag, last fast forward)
type Want<'a> = (bool, bool, &'a str, &'a str, &'a str);

fn check(got: &Freeze, want: Want<'_>) {
    assert_eq!(
        (
            got.in_code_freeze,
            got.in_test_freeze,
            got.branch.as_str(),
            got.tag.as_str(),
            got.last_fast_forward.as_str()
        ),
        want
    );
}

#[test]
fn the_newest_release_branch_and_its_tag_are_found_as_upstream() {
    let found = latest(&[
        "HEAD",
        "refs/heads/master",
        "refs/heads/release-1.9",
        "refs/heads/release-1.23",
        "refs/heads/release-1.22",
        "refs/heads/release-1.x",
        "refs/heads/release-01.30",
        "refs/tags/v1.23.0-rc.0",
        "refs/tags/v1.22.0",
    ]);
    assert_eq!(found.branch, "release-1.23");
    assert_eq!(found.minor, (1, 23));
    assert_eq!(found.tag, None, "a release candidate is not the release");
    let tagged = latest(&["refs/heads/release-1.23", "refs/tags/v1.23.0"]);
    assert_eq!(tagged.tag.as_deref(), Some("1.23.0"));
    let build = latest(&["refs/heads/release-1.23", "refs/tags/1.23.0+meta"]);
    assert_eq!(
        build.tag.as_deref(),
        Some("1.23.0+meta"),
        "build metadata is ignored"
    );
    for none in [
        &[][..],
        &["refs/heads/master", "refs/tags/v1.0.0"][..],
        &["refs/heads/release-0.0"][..],
    ] {
        assert_eq!(
            tf::latest_release(&refs(none)).unwrap_err(),
            "no latest release branch found"
        );
    }
}

#[test]
fn the_freeze_follows_upstreams_checker() {
    let k8s: &[&str] = &["kubernetes/kubernetes"];
    let untagged = latest(&["refs/heads/release-1.23"]);
    let tagged = latest(&["refs/heads/release-1.23", "refs/tags/v1.23.0"]);
    let ff = || "Wed May  4 16:15:37 UTC 2022".to_owned();
    // No tag yet: Test Freeze, with Code Freeze when tide excludes the branch.
    check(
        &tf::freeze(&untagged, Some(&config(&[])), ff),
        (
            false,
            true,
            "release-1.23",
            "v1.23.0",
            "Wed May  4 16:15:37 UTC 2022",
        ),
    );
    check(
        &tf::freeze(&untagged, Some(&config(&[(k8s, &["release-1.23"])])), ff),
        (
            true,
            true,
            "release-1.23",
            "v1.23.0",
            "Wed May  4 16:15:37 UTC 2022",
        ),
    );
    check(
        &tf::freeze(&untagged, None, ff),
        (
            false,
            true,
            "release-1.23",
            "v1.23.0",
            "Wed May  4 16:15:37 UTC 2022",
        ),
    );
    // Tagged: no Test Freeze; Code Freeze of this branch or of the next, not yet created.
    check(
        &tf::freeze(&tagged, Some(&config(&[])), ff),
        (false, false, "release-1.23", "v1.23.0", ""),
    );
    check(
        &tf::freeze(&tagged, Some(&config(&[(k8s, &["release-1.23"])])), ff),
        (true, false, "release-1.23", "v1.23.0", ""),
    );
    check(
        &tf::freeze(&tagged, Some(&config(&[(k8s, &["release-1.24"])])), ff),
        (true, false, "release-1.24", "v1.24.0", ""),
    );
    // Only kubernetes/kubernetes queries count; an unreadable config means no Code Freeze.
    check(
        &tf::freeze(
            &tagged,
            Some(&config(&[(&["kubernetes/other"], &["release-1.24"])])),
            ff,
        ),
        (false, false, "release-1.23", "v1.23.0", ""),
    );
    check(
        &tf::freeze(&tagged, None, ff),
        (false, false, "release-1.23", "v1.23.0", ""),
    );
    // The job list is read only in Test Freeze.
    let _ = tf::freeze(&tagged, None, || {
        panic!("read the job list outside Test Freeze")
    });
}

#[test]
fn the_last_fast_forward_is_the_first_successful_run() {
    let jobs = br#"{"items": [
        {"spec": {"job": "ci-fast-forward"}, "status": {"state": "failure", "completionTime": "2022-05-05T10:00:00Z"}},
        {"spec": {"job": "other"}, "status": {"state": "success", "completionTime": "2022-05-05T09:00:00Z"}},
        {"spec": {"job": "ci-fast-forward"}, "status": {"state": "success", "completionTime": "2022-05-04T14:15:37Z"}}
    ]}"#;
    assert_eq!(
        tf::last_fast_forward(jobs).unwrap(),
        "Wed May  4 14:15:37 UTC 2022"
    );
    assert_eq!(
        tf::last_fast_forward(br#"{"items": []}"#).unwrap_err(),
        "unable to find successful run"
    );
    assert!(
        tf::last_fast_forward(b"<html>")
            .unwrap_err()
            .starts_with("unmarshal prow jobs")
    );
}

fn freeze(code: bool, test: bool) -> Freeze {
    let mut f = Freeze::default();
    f.in_code_freeze = code;
    f.in_test_freeze = test;
    f.branch = "release-1.23".to_owned();
    f.tag = "v1.23.0".to_owned();
    f.last_fast_forward = if test {
        "Wed May  4 16:15:37 UTC 2022"
    } else {
        ""
    }
    .to_owned();
    f
}

#[test]
fn only_new_kubernetes_master_pull_requests_are_looked_at() {
    assert!(tf::applies("opened", "kubernetes", "kubernetes", "master"));
    assert!(tf::applies(
        "reopened",
        "kubernetes",
        "kubernetes",
        "master"
    ));
    assert!(!tf::applies("closed", "kubernetes", "kubernetes", "master"));
    assert!(!tf::applies(
        "synchronize",
        "kubernetes",
        "kubernetes",
        "master"
    ));
    assert!(!tf::applies("opened", "invalid", "kubernetes", "master"));
    assert!(!tf::applies("opened", "kubernetes", "invalid", "master"));
    assert!(!tf::applies(
        "opened",
        "kubernetes",
        "kubernetes",
        "release-1.23"
    ));
}

#[test]
fn the_notice_says_what_upstreams_template_says() {
    let comment = |code, test, labels: &[&str]| {
        let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        match tf::decide("kubernetes", "kubernetes", 7, &labels, &freeze(code, test)).as_slice() {
            [
                Action::Comment {
                    body, number: 7, ..
                },
            ] => body.clone(),
            other => panic!("{other:?}"),
        }
    };
    assert!(tf::decide("kubernetes", "kubernetes", 7, &[], &freeze(false, false)).is_empty());
    insta::assert_snapshot!(comment(true, true, &[]), @r"
    Please note that we're already in [Code Freeze](https://github.com/kubernetes/sig-release/blob/master/releases/release_phases.md#code-freeze) for the upcoming v1.23.0 release.

    **Adding the milestone to this PR is strictly prohibited without proper approval.** If this PR needs to be included in the v1.23.0 release:
    1. Technical review: get the PR reviewed and approved as usual (`/lgtm` and `/approve`)
    2. Inclusion in release: tag `@kubernetes/sig-release-leads` on this PR and ping the [#sig-release Slack channel](https://kubernetes.slack.com/archives/C2C40FMNF) to request adding the `v1.23.0` milestone


    ---

    We're also in [Test Freeze](https://github.com/kubernetes/sig-release/blob/master/releases/release_phases.md#test-freeze) for the `release-1.23` branch. This means every merged PR will be automatically fast-forwarded via the periodic [ci-fast-forward](https://testgrid.k8s.io/sig-release-releng-blocking#git-repo-kubernetes-fast-forward) job to the release branch of the upcoming v1.23.0 release.

    Fast forwards are scheduled to happen every 6 hours, whereas the most recent run was: Wed May  4 16:15:37 UTC 2022.
    ");
    let bug = comment(true, false, &["kind/bug"]);
    assert!(bug.contains("This PR is labeled `kind/bug`, so it **may** be included in the v1.23.0 release as a bug fix."));
    assert!(!bug.contains("strictly prohibited"));
    assert!(!bug.contains("Test Freeze"));
    assert!(bug.ends_with("time-sensitive cases.\n\n"), "{bug:?}");
    // The label is matched exactly, as upstream's `slices.Contains`.
    assert!(comment(true, false, &["Kind/Bug"]).contains("strictly prohibited"));
    let test_only = comment(false, true, &[]);
    assert!(
        test_only.starts_with("\n\n---\n\nWe're in [Test Freeze]"),
        "{test_only:?}"
    );
    assert!(!test_only.contains("Code Freeze"));
    // Values are HTML-escaped as `html/template` escapes them.
    let mut odd = freeze(false, true);
    odd.branch = "a<b>&'\"+".to_owned();
    let body = match tf::decide("kubernetes", "kubernetes", 7, &[], &odd).remove(0) {
        Action::Comment { body, .. } => body,
        other => panic!("{other:?}"),
    };
    assert!(
        body.contains("`a&lt;b&gt;&amp;&#39;&#34;&#43;` branch"),
        "{body}"
    );
}
