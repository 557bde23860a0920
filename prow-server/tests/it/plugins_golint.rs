//! The lint plugin (`golint`): added lines of a diff, the linter's output, the review, and
//! `/lint` end to end with a real git checkout of a local repository.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use proptest::prelude::*;
use prow_github::types::PullRequestFile;
use prow_plugins::plugins::golint::{self, GitCheckout, Lint, LintSettings, NO_CHECKOUT, Problem};
use prow_server::hook::Options;

use crate::plugins_misc_support::InProcess;
use crate::support::{self, ORG, REPO, comment, comments, github};

#[test]
fn added_lines_of_a_patch() {
    let check =
        |patch: &str, expected: &[u64]| assert_eq!(golint::added_lines(patch).unwrap(), expected);
    check("", &[]);
    check("@@ -0,0 +1,2 @@\n+a\n+b", &[1, 2]);
    check("@@ -1,3 +1,3 @@\n a\n-b\n+B\n c", &[2]);
    check("@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file", &[2]);
    check(
        "@@ -1,2 +1,2 @@\n a\n-b\n+c\n@@ -10,2 +10,3 @@\n x\n+y\n z",
        &[2, 11],
    );
    assert!(golint::added_lines("not a hunk").is_err());
    assert!(golint::added_lines("@@ -1,2 +1,2 @@\n a").is_err());
    assert!(golint::added_lines("@@ -1,1 +1,1 @@\n*a").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// A patch that keeps `kept` lines and then adds `added` has exactly those added lines.
    #[test]
    fn proptest_added_lines_follow_the_hunk(kept in 0u64..20, added in 0u64..20) {
        let mut patch = format!("@@ -1,{kept} +1,{} @@\n", kept + added);
        for _ in 0..kept {
            patch.push_str(" same\n");
        }
        for _ in 0..added {
            patch.push_str("+new\n");
        }
        let lines = golint::added_lines(&patch).unwrap();
        prop_assert_eq!(lines, ((kept + 1)..=(kept + added)).collect::<Vec<_>>());
    }

    /// Parsing never panics on arbitrary linter output.
    #[test]
    fn proptest_parse_output_accepts_anything(output in ".{0,200}") {
        let _ = golint::parse_output(&output);
    }
}

#[test]
fn linter_output_lines_become_problems() {
    let problems = golint::parse_output(
        "main.go:3:1: exported function Main should have comment or be unexported\n./util/x.go:10: line too long.\nnoise\nFound 2 problems\n",
    );
    assert_eq!(
        problems,
        vec![
            problem(
                "main.go",
                3,
                "exported function Main should have comment or be unexported"
            ),
            problem("util/x.go", 10, "line too long"),
        ]
    );
}

fn problem(path: &str, line: u64, text: &str) -> Problem {
    golint::parse_output(&format!("{path}:{line}: {text}")).remove(0)
}

#[test]
fn only_added_lines_get_comments_and_at_most_twenty() {
    let added = [("a.go".to_owned(), (1..=30).collect::<Vec<u64>>())].into();
    let (summary, comments) = golint::review(
        &[problem("a.go", 2, "bad"), problem("a.go", 40, "old")],
        &added,
    );
    assert_eq!(summary, "1 warning.");
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "Golint: bad. <!-- golint -->");
    assert_eq!((comments[0].path.as_str(), comments[0].line), ("a.go", 2));
    let many: Vec<Problem> = (1..=25).map(|l| problem("a.go", l, "x")).collect();
    let (summary, comments) = golint::review(&many, &added);
    assert_eq!(summary, "25 warnings.");
    assert_eq!(comments.len(), golint::MAX_COMMENTS);
}

const PLUGINS: &str = "plugins:\n  Codertocat/Hello-World:\n    plugins: [golint]\n";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn lint_command() -> Vec<String> {
    // A linter complaining about every TODO, in the `path:line: message` form.
    [
        "sh",
        "-c",
        "grep -Hn TODO \"$@\" | sed 's/$/: TODO found/'; true",
        "lint",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// GitHub with PR #2 changing main.go (lines 3 and 4 added) and README.md.
fn pr_github(head: &str) -> Arc<prow_github::fake::FakeGitHub> {
    let github = github("author");
    {
        let mut state = github.state();
        state
            .pulls
            .get_mut(&(ORG.to_owned(), REPO.to_owned(), 2))
            .unwrap()
            .head
            .sha = head.to_owned();
        state.pull_files.insert(
            (ORG.to_owned(), REPO.to_owned(), 2),
            vec![
                PullRequestFile {
                    filename: "main.go".to_owned(),
                    status: "modified".to_owned(),
                    patch: Some("@@ -1,2 +1,4 @@\n package main // TODO old\n \n+// TODO fix\n+func main() {}".to_owned()),
                    ..PullRequestFile::default()
                },
                PullRequestFile {
                    filename: "README.md".to_owned(),
                    status: "modified".to_owned(),
                    patch: Some("@@ -0,0 +1 @@\n+TODO".to_owned()),
                    ..PullRequestFile::default()
                },
            ],
        );
    }
    github
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_reviews_the_added_lines_of_a_checkout() {
    let root = tempfile::tempdir().unwrap();
    let origin = root.path().join(format!("{ORG}/{REPO}.git"));
    std::fs::create_dir_all(&origin).unwrap();
    git(&origin, &["init", "-q"]);
    std::fs::write(
        origin.join("main.go"),
        "package main // TODO old\n\n// TODO fix\nfunc main() {}\n",
    )
    .unwrap();
    std::fs::write(origin.join("README.md"), "TODO\n").unwrap();
    git(&origin, &["add", "."]);
    git(&origin, &["commit", "-q", "-m", "change"]);
    git(&origin, &["update-ref", "refs/pull/2/head", "HEAD"]);
    let head = git(&origin, &["rev-parse", "HEAD"]);
    let settings = LintSettings::new(
        lint_command(),
        vec![".go".to_owned()],
        Some(Arc::new(GitCheckout)),
    );
    let github = pr_github(&head);
    github.state().git_root = Some(root.path().to_owned());
    let hook = InProcess::start(
        github,
        support::hook_config(support::CONFIG, PLUGINS),
        Options::default(),
        vec![Arc::new(Lint::new(settings))],
    );
    hook.deliver("issue_comment", &comment("/lint", "stranger", "author"))
        .await;
    let reviews = hook
        .github
        .state()
        .draft_reviews
        .get(&(ORG.to_owned(), REPO.to_owned(), 2))
        .cloned()
        .unwrap_or_default();
    assert_eq!(reviews.len(), 1, "{:?}", comments(&hook.github));
    let review = &reviews[0];
    assert_eq!(review.event, "COMMENT");
    assert_eq!(review.commit_id, head);
    assert!(review.body.contains("1 warning."), "{}", review.body);
    assert_eq!(review.comments.len(), 1);
    assert_eq!(review.comments[0].path, "main.go");
    assert_eq!(review.comments[0].line, 3);
    assert_eq!(
        review.comments[0].body,
        "Golint: // TODO fix: TODO found. <!-- golint -->"
    );
    hook.shutdown().await;
}

#[tokio::test]
async fn without_a_git_source_lint_says_so() {
    let settings = LintSettings::new(lint_command(), vec![".go".to_owned()], None);
    let hook = InProcess::start(
        pr_github(support::HEAD),
        support::hook_config(support::CONFIG, PLUGINS),
        Options::default(),
        vec![Arc::new(Lint::new(settings))],
    );
    hook.deliver("issue_comment", &comment("/lint", "stranger", "author"))
        .await;
    hook.deliver(
        "issue_comment",
        &comment("lint please", "stranger", "author"),
    )
    .await;
    let said = comments(&hook.github);
    assert_eq!(said.len(), 1);
    assert!(said[0].contains(NO_CHECKOUT), "{}", said[0]);
    assert!(hook.github.state().draft_reviews.is_empty());
    hook.shutdown().await;
}

#[tokio::test]
async fn a_failed_checkout_is_reported() {
    let missing = tempfile::tempdir().unwrap();
    let settings = LintSettings::new(
        lint_command(),
        vec![".go".to_owned()],
        Some(Arc::new(GitCheckout)),
    );
    let github = pr_github(support::HEAD);
    github.state().git_root = Some(missing.path().to_owned());
    let hook = InProcess::start(
        github,
        support::hook_config(support::CONFIG, PLUGINS),
        Options::default(),
        vec![Arc::new(Lint::new(settings))],
    );
    hook.deliver("issue_comment", &comment("/lint", "stranger", "author"))
        .await;
    let said = comments(&hook.github);
    assert_eq!(said.len(), 1);
    assert!(
        said[0].contains("Cannot lint this pull request: checking it out failed: git fetch"),
        "{}",
        said[0]
    );
    hook.shutdown().await;
}
