//! The milestone plugin: who may set it, valid titles, `clear`, and a comment end to end.

use prow_github::types::Milestone;
use prow_plugins::plugins::milestone;
use prow_server::hook::Options;

use crate::plugins_common::{plugin_config, request, summary};
use crate::support::{self, Server, comment, comments, github};

fn milestones() -> Vec<Milestone> {
    [(1, "v1.0"), (2, "v1.1")]
        .iter()
        .map(|(n, t)| Milestone {
            number: *n,
            title: (*t).to_owned(),
            state: "open".to_owned(),
        })
        .collect()
}

#[test]
fn maintainers_set_valid_milestones() {
    let config = plugin_config("repo_milestone:\n  '':\n    maintainers_team: release-team\n");
    let settings = milestone::settings_for(&config, "o", "r");
    assert_eq!(settings.maintainers_friendly_name, "SIG Chairs/TLs");
    let run = |body: &str, maintainer: bool| {
        let request = request(body);
        let wanted = milestone::requested(body).unwrap();
        summary(&milestone::decide(
            &request,
            &wanted,
            maintainer,
            &milestones(),
            &settings,
        ))
    };
    assert_eq!(run("/milestone v1.1", true), ["milestone 2"]);
    assert_eq!(run("/milestone clear", true), ["clear milestone"]);
    assert_eq!(
        run("/milestone v9", true),
        [
            "say @u: The provided milestone is not valid for this repository. Milestones in this repository: [`v1.0`, `v1.1`]"
        ]
    );
    assert_eq!(
        run("/milestone v1.1", false),
        [
            "say @u: You must be a member of the [o/release-team](https://github.com/orgs/o/teams/release-team/members) GitHub team to set the milestone. If you believe you should be able to issue the /milestone command, please contact your SIG Chairs/TLs and have them propose you as an additional delegate for this responsibility."
        ]
    );
    assert_eq!(
        milestone::requested("/milestone   v1.0  "),
        Some("v1.0".to_owned())
    );
    assert_eq!(milestone::requested("/milestone"), None);
    assert_eq!(milestone::requested("/MILESTONE v1"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn milestone_end_to_end() {
    let gh = github(support::ORG);
    {
        let mut state = gh.state();
        state.milestones.insert(
            (support::ORG.to_owned(), support::REPO.to_owned()),
            milestones(),
        );
        state
            .team_members
            .entry((support::ORG.to_owned(), "release-team".to_owned()))
            .or_default()
            .insert("member".to_owned());
    }
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [milestone]\nrepo_milestone:\n  Codertocat/Hello-World:\n    maintainers_team: release-team\n    maintainers_friendly_name: release leads\n";
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
    server
        .send(
            "issue_comment",
            &comment("/milestone v1.0", "stranger", support::ORG),
        )
        .await;
    server.metrics.wait_processed(1).await;
    assert!(!server.github.state().issue_milestones.contains_key(&key));
    assert!(comments(&server.github)[0].contains("please contact your release leads"));
    server
        .send(
            "issue_comment",
            &comment("/milestone v1.0", "member", support::ORG),
        )
        .await;
    server.metrics.wait_processed(2).await;
    assert_eq!(server.github.state().issue_milestones.get(&key), Some(&1));
    server
        .send(
            "issue_comment",
            &comment("/milestone clear", "member", support::ORG),
        )
        .await;
    server.metrics.wait_processed(3).await;
    assert!(!server.github.state().issue_milestones.contains_key(&key));
    server.shutdown().await;
}
