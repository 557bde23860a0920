//! The size plugin: Prow's thresholds, configured ones, the label kept in step, and a pull
//! request end to end.

use proptest::prelude::*;
use prow_github::types::PullRequestFile;
use prow_plugins::plugins::size::{self, Thresholds};
use prow_server::hook::Options;

use crate::plugins_common::{plugin_config, summary};
use crate::support::{self, Server, github, labels, opened};

#[test]
fn default_thresholds_bucket_like_prow() {
    let t = Thresholds::default();
    let cases = [
        (0, "size/XS"),
        (9, "size/XS"),
        (10, "size/S"),
        (29, "size/S"),
        (30, "size/M"),
        (99, "size/M"),
        (100, "size/L"),
        (499, "size/L"),
        (500, "size/XL"),
        (999, "size/XL"),
        (1000, "size/XXL"),
        (1_000_000, "size/XXL"),
    ];
    for (lines, want) in cases {
        assert_eq!(t.label(lines), want, "{lines}");
    }
}

#[test]
fn configured_thresholds_replace_the_defaults() {
    let config = plugin_config("size:\n  s: 5\n  m: 30\n  l: 100\n  xl: 500\n  xxl: 2000\n");
    let t = Thresholds::from_config(&config.size);
    assert_eq!((t.s, t.m, t.l, t.xl, t.xxl), (5, 30, 100, 500, 2000));
    assert_eq!(
        Thresholds::from_config(&plugin_config("{}").size),
        Thresholds::default()
    );
    assert_eq!(t.label(5), "size/S");
    assert_eq!(t.label(1500), "size/XL");
}

proptest! {
    #[test]
    fn more_lines_never_give_a_smaller_label(a in 0u64..5000, b in 0u64..5000) {
        let order = ["size/XS", "size/S", "size/M", "size/L", "size/XL", "size/XXL"];
        let t = Thresholds::default();
        let rank = |n| order.iter().position(|l| *l == t.label(n)).unwrap();
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(rank(lo) <= rank(hi));
    }
}

#[test]
fn the_label_is_replaced_not_added_to() {
    let t = Thresholds::default();
    let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let cases: Vec<(u64, Vec<String>, Vec<&str>)> = vec![
        (3, labels(&[]), vec!["add size/XS"]),
        (3, labels(&["size/XS", "lgtm"]), vec![]),
        (
            40,
            labels(&["size/XS", "size/L", "lgtm"]),
            vec!["remove size/XS", "remove size/L", "add size/M"],
        ),
        (40, labels(&["size/M", "size/XS"]), vec!["remove size/XS"]),
    ];
    for (lines, have, want) in cases {
        assert_eq!(
            summary(&size::decide("o", "r", 1, lines, &t, &have)),
            want,
            "{lines} {have:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opened_pull_request_gets_its_size() {
    let gh = github(support::ORG);
    gh.state().pull_files.insert(
        (support::ORG.to_owned(), support::REPO.to_owned(), 2),
        vec![
            PullRequestFile {
                filename: "README.md".into(),
                additions: 20,
                deletions: 5,
                ..PullRequestFile::default()
            },
            PullRequestFile {
                filename: "main.go".into(),
                additions: 10,
                ..PullRequestFile::default()
            },
        ],
    );
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [size]\n";
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server.send("pull_request", &opened(support::ORG)).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), ["size/M"]);
    server.shutdown().await;
}
