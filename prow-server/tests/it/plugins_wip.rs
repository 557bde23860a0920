//! The wip plugin: titles and drafts, and a pull request end to end.

use prow_plugins::plugins::wip;
use prow_server::hook::Options;

use crate::plugins_common::summary;
use crate::support::{self, Server, github, labels, opened};

#[test]
fn titles_and_drafts_mark_work_in_progress() {
    let cases = [
        ("WIP: new thing", false, true),
        ("[WIP] new thing", false, true),
        ("wip new thing", false, true),
        ("(wip) new thing", false, true),
        ("WIP", false, false),
        ("WIPE the cache", false, false),
        ("Fix WIP handling", false, false),
        ("Ready", true, true),
        ("Ready", false, false),
    ];
    for (title, draft, want) in cases {
        assert_eq!(wip::in_progress(title, draft), want, "{title:?} {draft}");
    }
    assert_eq!(
        summary(&wip::decide("o", "r", 1, "WIP: x", false, false)),
        ["add do-not-merge/work-in-progress"]
    );
    assert_eq!(
        summary(&wip::decide("o", "r", 1, "x", false, true)),
        ["remove do-not-merge/work-in-progress"]
    );
    assert!(wip::decide("o", "r", 1, "WIP: x", false, true).is_empty());
    assert!(wip::decide("o", "r", 1, "x", false, false).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_then_ready_pull_request() {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [wip]\n";
    let server = Server::start_with(
        github(support::ORG),
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    let mut payload = opened(support::ORG);
    payload["pull_request"]["draft"] = true.into();
    server.send("pull_request", &payload).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), ["do-not-merge/work-in-progress"]);
    payload["action"] = "ready_for_review".into();
    payload["pull_request"]["draft"] = false.into();
    server.send("pull_request", &payload).await;
    server.metrics.wait_processed(2).await;
    assert!(labels(&server.github).is_empty());
    payload["action"] = "edited".into();
    payload["pull_request"]["title"] = "[WIP] Update the README".into();
    server.send("pull_request", &payload).await;
    server.metrics.wait_processed(3).await;
    assert_eq!(labels(&server.github), ["do-not-merge/work-in-progress"]);
    server.shutdown().await;
}
