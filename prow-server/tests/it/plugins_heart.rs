//! The heart plugin: who and what is celebrated, and reactions end to end.

use prow_github::types::PullRequestFile;
use prow_plugins::plugins::heart;
use prow_server::hook::Options;

use crate::support::{self, Server, comment, github, opened};

fn file(name: &str, additions: u64) -> PullRequestFile {
    PullRequestFile {
        filename: name.to_owned(),
        additions,
        ..PullRequestFile::default()
    }
}

#[test]
fn adorees_and_owners_files_are_celebrated() {
    let adorees = vec!["alice".to_owned()];
    assert!(heart::adored("alice", "thanks!", &adorees, "(?i)thank"));
    assert!(!heart::adored("bob", "thanks!", &adorees, "(?i)thank"));
    assert!(!heart::adored("alice", "meh", &adorees, "(?i)thank"));
    assert!(!heart::adored("alice", "thanks!", &adorees, ""));
    assert!(!heart::adored("alice", "thanks!", &[], ".*"));

    assert!(heart::adds_owners(
        &[file("pkg/OWNERS", 2)],
        "OWNERS",
        "OWNERS_ALIASES"
    ));
    assert!(heart::adds_owners(
        &[file("OWNERS_ALIASES", 1)],
        "OWNERS",
        "OWNERS_ALIASES"
    ));
    assert!(!heart::adds_owners(
        &[file("pkg/OWNERS", 0)],
        "OWNERS",
        "OWNERS_ALIASES"
    ));
    assert!(!heart::adds_owners(
        &[file("pkg/NOT_OWNERS", 3)],
        "OWNERS",
        "OWNERS_ALIASES"
    ));
    assert!(heart::REACTIONS.contains(&heart::reaction("any")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_end_to_end() {
    let gh = github(support::ORG);
    gh.state().pull_files.insert(
        (support::ORG.to_owned(), support::REPO.to_owned(), 2),
        vec![file("docs/OWNERS", 4)],
    );
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [heart]\nheart:\n  adorees: [alice]\n  commentregexp: (?i)lgtm\n";
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server.send("pull_request", &opened(support::ORG)).await;
    let mut adored = comment("LGTM, lovely", "alice", support::ORG);
    adored["comment"]["id"] = 77.into();
    server.send("issue_comment", &adored).await;
    server
        .send("issue_comment", &comment("LGTM", "bob", support::ORG))
        .await;
    server.metrics.wait_processed(3).await;
    {
        let state = server.github.state();
        let on_pr = &state.issue_reactions[&(support::ORG.to_owned(), support::REPO.to_owned(), 2)];
        assert_eq!(on_pr.len(), 1);
        assert!(heart::REACTIONS.contains(&on_pr[0].as_str()));
        assert_eq!(state.comment_reactions.len(), 1);
        assert!(state.comment_reactions.contains_key(&(
            support::ORG.to_owned(),
            support::REPO.to_owned(),
            77
        )));
    }
    server.shutdown().await;
}
