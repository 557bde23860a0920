//! blunderbuss: reviewers picked from OWNERS (closest first, the author never, approvers as a
//! fallback unless `exclude_approvers`), `max_request_count`, required reviewers, and the
//! `/auto-cc` command end to end.

use prow_config::plugins::Blunderbuss as Config;
use prow_plugins::plugins::blunderbuss;
use prow_server::hook::Options;

use crate::plugins_approve::{TREE, owners, say, seed};
use crate::plugins_common::plugin_config;
use crate::support::{self, Server, github};

fn config(yaml: &str) -> Config {
    plugin_config(&format!("blunderbuss:\n{yaml}")).blunderbuss
}

fn pick(c: &Config, author: &str, files: &[&str], seed: u64) -> Vec<String> {
    let files: Vec<String> = files.iter().map(|s| (*s).to_owned()).collect();
    blunderbuss::decide(&owners(), c, author, &files, seed)
}

#[test]
fn reviewers_come_from_the_closest_owners_first() {
    let two = config("  request_count: 2\n");
    for seed in 0..30 {
        // src/ has two reviewers: both are picked before anyone from the root.
        let mut got = pick(&two, "author", &["src/a.go"], seed);
        got.sort();
        assert_eq!(got, ["src-reviewer", "src-second"], "seed {seed}");
        // One file under the root, one under src: one reviewer from each OWNERS file.
        let got = pick(&two, "author", &["README.md", "src/a.go"], seed);
        assert_eq!(got.len(), 2, "seed {seed}");
        assert!(got.contains(&"root-reviewer".to_owned()), "{got:?}");
        // The author is never asked.
        let got = pick(&two, "src-reviewer", &["src/a.go"], seed);
        assert!(!got.contains(&"src-reviewer".to_owned()), "{got:?}");
        assert_eq!(got.len(), 2, "falls back to the root reviewer: {got:?}");
    }
    // The same pull request gets the same picks.
    let one = config("  request_count: 1\n");
    assert_eq!(
        pick(&one, "a", &["src/a.go"], 7),
        pick(&one, "a", &["src/a.go"], 7)
    );
}

#[test]
fn approvers_fill_in_unless_excluded_and_the_maximum_caps() {
    // vendor/ has one reviewer; with no_parent_owners nobody above is asked.
    let three = config("  request_count: 3\n");
    let mut got = pick(&three, "author", &["vendor/x.go"], 1);
    got.sort();
    assert_eq!(got, ["vendor-approver", "vendor-reviewer"]);
    let excl = config("  request_count: 3\n  exclude_approvers: true\n");
    assert_eq!(
        pick(&excl, "author", &["vendor/x.go"], 1),
        ["vendor-reviewer"]
    );
    let capped = config("  request_count: 3\n  max_request_count: 1\n");
    assert_eq!(pick(&capped, "author", &["src/a.go"], 1).len(), 1);
    // The default asks for two.
    assert_eq!(pick(&config("  {}\n"), "author", &["src/a.go"], 1).len(), 2);
}

#[test]
fn commands_and_cc_in_the_body() {
    assert!(blunderbuss::is_auto_cc("/auto-cc"));
    assert!(blunderbuss::is_auto_cc("text\n/AUTO-CC \n"));
    assert!(!blunderbuss::is_auto_cc("/auto-cc me"));
    assert!(blunderbuss::body_ccs("fixes a bug\n/cc @alice\n"));
    assert!(!blunderbuss::body_ccs("no cc here"));
}

fn requested(gh: &prow_github::fake::FakeGitHub) -> Vec<String> {
    gh.state()
        .review_requests
        .get(&(support::ORG.to_owned(), support::REPO.to_owned(), 2))
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_are_requested_on_open_and_on_auto_cc() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &["src/main.go"]);
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [blunderbuss]\nblunderbuss:\n  request_count: 1\n";
    let server = Server::start_with(
        gh.clone(),
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server
        .send("pull_request", &support::opened("Codertocat"))
        .await;
    server.metrics.wait_processed(1).await;
    let first = requested(&gh);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].starts_with("src-"), "{first:?}");
    // Anyone may /auto-cc, even someone who is not a collaborator.
    server
        .send("issue_comment", &say(&gh, "stranger", "/auto-cc"))
        .await;
    server.metrics.wait_processed(2).await;
    assert_eq!(requested(&gh).len(), 2);
    // Other comments ask for nothing.
    server
        .send("issue_comment", &say(&gh, "stranger", "/cc someone"))
        .await;
    server.metrics.wait_processed(3).await;
    assert_eq!(requested(&gh).len(), 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_with_cc_or_an_ignored_author_gets_no_requests() {
    let gh = github("Codertocat");
    seed(&gh, TREE, &["src/main.go"]);
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [blunderbuss]\nblunderbuss:\n  ignore_authors: [codertocat]\n";
    let server = Server::start_with(
        gh.clone(),
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server
        .send("pull_request", &support::opened("Codertocat"))
        .await;
    let mut with_cc = support::opened("someone");
    with_cc["pull_request"]["body"] = "please look\n/cc @alice".into();
    server.send("pull_request", &with_cc).await;
    server.metrics.wait_processed(2).await;
    assert!(requested(&gh).is_empty());
    assert_eq!(gh.state().calls.get("pull_request_files"), None);
    server.shutdown().await;
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    /// Picks never include the author, never repeat, and respect the maximum.
    #[test]
    fn proptest_picks_are_sane(
        files in proptest::collection::vec(
            proptest::sample::select(vec!["src/a.go", "README.md", "vendor/x.go", "docs/y.md", "src/deep/z.go"]),
            0..5,
        ),
        author in proptest::sample::select(vec!["src-reviewer", "root-reviewer", "vendor-reviewer", "someone"]),
        count in 1i64..5,
        max in 0i64..4,
        seed in proptest::num::u64::ANY,
    ) {
        let c = config(&format!("  request_count: {count}\n  max_request_count: {max}\n"));
        let got = pick(&c, author, &files, seed);
        proptest::prop_assert!(!got.iter().any(|g| g == author), "{got:?}");
        let unique: std::collections::BTreeSet<&String> = got.iter().collect();
        proptest::prop_assert_eq!(unique.len(), got.len());
        if max > 0 {
            proptest::prop_assert!(got.len() <= max as usize, "{got:?}");
        }
    }
}
