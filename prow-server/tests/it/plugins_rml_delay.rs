//! require-matching-label's grace period: a delayed re-check on tokio's (paused) clock that
//! holds no hook worker while it waits.

use std::time::Duration;

use prow_server::hook::Options;
use tokio::time::Instant;

use crate::plugins_misc_support::InProcess;
use crate::support::{self, comment, github, labels};

const GRACE: Duration = Duration::from_secs(3600);

fn plugins() -> String {
    format!(
        "plugins:\n  Codertocat/Hello-World:\n    plugins: [require-matching-label, hold]\nrequire_matching_label:\n- org: Codertocat\n  prs: true\n  regexp: ^kind/\n  missing_label: needs-kind\n  grace_period: {}s\n",
        GRACE.as_secs()
    )
}

fn hook() -> InProcess {
    let mut options = Options::default();
    options.workers = 1;
    InProcess::start(
        github("author"),
        support::hook_config(support::CONFIG, &plugins()),
        options,
        Vec::new(),
    )
}

#[tokio::test(start_paused = true)]
async fn the_grace_period_holds_no_worker() {
    let hook = hook();
    let start = Instant::now();
    assert_eq!(
        hook.send("pull_request", &support::opened("author")).await,
        200
    );
    assert_eq!(
        hook.send("issue_comment", &comment("/hold", "author", "author"))
            .await,
        200
    );
    // With one worker, the comment is handled while the opened PR waits out its grace.
    hook.metrics.wait_processed(2).await;
    assert!(start.elapsed() < GRACE, "waited {:?}", start.elapsed());
    assert_eq!(labels(&hook.github), ["do-not-merge/hold"]);
    // Then the check runs, once the grace period is over.
    let backstop = start + GRACE * 2;
    while !labels(&hook.github).contains(&"needs-kind".to_owned()) {
        assert!(Instant::now() < backstop, "the re-check never ran");
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    assert!(start.elapsed() >= GRACE);
    assert_eq!(labels(&hook.github), ["do-not-merge/hold", "needs-kind"]);
    hook.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_label_added_during_the_grace_period_is_seen() {
    let hook = hook();
    hook.deliver("pull_request", &support::opened("author"))
        .await;
    hook.github
        .state()
        .issues
        .get_mut(&(support::ORG.to_owned(), support::REPO.to_owned(), 2))
        .unwrap()
        .labels
        .push(prow_github::types::Label {
            name: "kind/bug".to_owned(),
            ..Default::default()
        });
    tokio::time::sleep(GRACE + Duration::from_secs(1)).await;
    // The re-check ran (the plugin ran twice) and found the label.
    let runs = |hook: &InProcess| {
        hook.metrics
            .snapshot()
            .plugins
            .get(&(
                "require-matching-label".to_owned(),
                prow_server::hook::PluginOutcome::Ok,
            ))
            .copied()
    };
    let backstop = Instant::now() + GRACE;
    while runs(&hook) != Some(2) {
        assert!(Instant::now() < backstop, "the re-check never ran");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(labels(&hook.github), ["kind/bug"]);
    hook.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutting_down_drops_pending_rechecks() {
    let hook = hook();
    hook.deliver("pull_request", &support::opened("author"))
        .await;
    let github = hook.github.clone();
    hook.shutdown().await;
    tokio::time::sleep(GRACE * 2).await;
    assert!(labels(&github).is_empty());
}

#[test]
fn hook_runs_four_workers_by_default() {
    assert_eq!(Options::default().workers, 4);
}
