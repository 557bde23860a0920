//! The trigger plugin and `prow triggers --output json` decide a comment with one function
//! (`prow_config::decide_comment`): for tricky comments, the jobs the real hook creates are
//! exactly the jobs that decision says run.

use prow_server::hook::Options;

use crate::support::{self, Server, comment};

/// The jobs `decide_comment` runs for `body` on PR #2 of the support config.
fn decided(body: &str) -> Vec<String> {
    let config = support::hook_config(support::CONFIG, support::PLUGINS);
    let jobs = config.config.jobs.presubmits_for("Codertocat/Hello-World");
    let decision = prow_config::decide_comment(
        body,
        true,
        prow_config::Contexts::default(),
        &Vec::<String>::new(),
        "master",
        jobs,
    )
    .unwrap();
    let mut names: Vec<String> = decision.runs().map(str::to_owned).collect();
    names.sort();
    names
}

async fn created(body: &str) -> Vec<String> {
    let github = support::github("member");
    let server = Server::start(github, Options::default()).await;
    let (status, _) = server
        .send("issue_comment", &comment(body, "member", "member"))
        .await;
    assert_eq!(status, 200);
    server.metrics.wait_processed(1).await;
    let names = support::job_names(server.store.as_ref()).await;
    server.shutdown().await;
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_and_prow_triggers_decide_tricky_comments_alike() {
    let cases: &[(&str, &[&str])] = &[
        ("/test unit", &["unit"]),
        ("/test all", &["lint", "unit"]),
        // Asking for help as well: the help reply, nothing runs.
        ("/test unit\n/test ?", &[]),
        ("/test nope", &[]),
        // A command only inside a code block does not concern trigger.
        ("```\n/test unit\n```", &[]),
        // Quoted text is no command.
        ("> /test unit", &[]),
        // A real command outside: the filter reads the whole comment, as upstream's.
        ("/test e2e\n```\n/test unit\n```", &["e2e", "unit"]),
        ("/ok-to-test cancel\n/test unit", &[]),
        // Nothing reported yet: `/retest` runs what is missing.
        ("/retest", &["lint", "unit"]),
    ];
    for (body, expected) in cases {
        let decision = decided(body);
        assert_eq!(decision, *expected, "decide_comment on {body:?}");
        assert_eq!(created(body).await, decision, "the plugin on {body:?}");
    }
}
