//! The dco plugin: sign-offs, the status and labels kept in step, the comment, trusted
//! authors, and a pull request end to end.

use prow_github::types::{CommitInfo, StatusState};
use prow_plugins::plugins::dco;
use prow_server::hook::Options;

use crate::plugins_common::{plugin_config, summary};
use crate::support::{self, HEAD, Server, comments, github, labels, opened};

fn commit(sha: &str, message: &str, author: &str) -> CommitInfo {
    CommitInfo {
        sha: sha.to_owned(),
        message: message.to_owned(),
        author_login: Some(author.to_owned()),
        ..CommitInfo::default()
    }
}

#[test]
fn sign_offs_are_read_like_prow() {
    assert!(dco::signed_off("Fix it\n\nSigned-off-by: A <a@x>"));
    assert!(dco::signed_off("Fix it\n\nsigned-off-by: A <a@x>"));
    assert!(!dco::signed_off("Fix it\n\n  Signed-off-by: A <a@x>"));
    assert!(!dco::signed_off("Fix it"));
    assert_eq!(
        dco::sha_list(
            "o",
            "r",
            &[commit("0123456789abcdef", "Fix it\n\nbody", "a")]
        ),
        "- [0123456](https://github.com/o/r/commits/0123456789abcdef) Fix it"
    );
    assert_eq!(
        dco::contributing_url("o", "r", &plugin_config("{}").dco_for("o", "r")),
        "https://github.com/o/r/blob/master/CONTRIBUTING.md"
    );
    let custom = plugin_config(
        "dco:\n  o/r:\n    contributing_repo: x/y\n    contributing_branch: main\n    contributing_path: docs/C.md\n",
    );
    assert_eq!(
        dco::contributing_url("o", "r", &custom.dco_for("o", "r")),
        "https://github.com/x/y/blob/main/docs/C.md"
    );
}

#[test]
fn status_labels_and_comment_follow_the_check() {
    let facts = |missing: Vec<CommitInfo>, status, yes, no, bot: &[(u64, &str)]| {
        let mut f = dco::Facts::default();
        f.missing = missing;
        f.status = status;
        f.has_yes = yes;
        f.has_no = no;
        f.bot_comments = bot.iter().map(|(i, t)| (*i, (*t).to_owned())).collect();
        f
    };
    let run = |f: &dco::Facts, comment| {
        summary(&dco::decide("o", "r", 1, "abc", f, "https://c", comment))
    };
    let status_of = |f: &dco::Facts| {
        dco::decide("o", "r", 1, "abc", f, "https://c", false)
            .into_iter()
            .find_map(|a| match a {
                prow_plugins::Action::Status { status, .. } => {
                    Some((status.state, status.description, status.target_url))
                }
                _ => None,
            })
    };
    let signed = facts(vec![], None, false, true, &[(9, dco::MARK)]);
    assert_eq!(
        run(&signed, false)[..2],
        ["remove dco-signoff: no", "add dco-signoff: yes"]
    );
    assert_eq!(run(&signed, false)[3], "delete 9");
    assert_eq!(
        status_of(&signed),
        Some((
            StatusState::Success,
            Some(dco::SUCCEEDED.to_owned()),
            Some("https://c".to_owned())
        ))
    );
    assert!(
        run(
            &facts(vec![], Some(StatusState::Success), true, false, &[]),
            false
        )
        .is_empty()
    );

    let unsigned = facts(
        vec![commit("abcdef0123", "Fix", "a")],
        Some(StatusState::Success),
        true,
        false,
        &[(9, dco::MARK)],
    );
    let acts = run(&unsigned, true);
    assert_eq!(
        acts[..2],
        ["add dco-signoff: no", "remove dco-signoff: yes"]
    );
    assert_eq!(acts[3], "delete 9");
    assert!(acts[4].starts_with(&format!("say {}", dco::MARK)));
    assert_eq!(status_of(&unsigned).unwrap().0, StatusState::Failure);
    // A reopened pull request gets no comment.
    assert_eq!(run(&unsigned, false).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dco_end_to_end() {
    let gh = github(support::ORG);
    gh.state().pull_commits.insert(
        (support::ORG.to_owned(), support::REPO.to_owned(), 2),
        vec![
            commit(
                "1111111aaaa",
                "Signed\n\nSigned-off-by: Member <m@x>",
                "outsider",
            ),
            commit("2222222bbbb", "Unsigned by a member", "member"),
            commit("3333333cccc", "Unsigned by an outsider", "outsider"),
        ],
    );
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [dco]\ndco:\n  Codertocat/Hello-World:\n    skip_dco_check_for_members: true\n";
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    server.send("pull_request", &opened(support::ORG)).await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), [dco::NO]);
    let replies = comments(&server.github);
    assert_eq!(replies.len(), 1);
    assert!(replies[0].contains("- [3333333](https://github.com/Codertocat/Hello-World/commits/3333333cccc) Unsigned by an outsider"));
    assert!(!replies[0].contains("2222222"), "members need no sign-off");
    let combined = {
        use prow_github::GitHubClient;
        server
            .github
            .combined_status(support::ORG, support::REPO, HEAD)
            .await
            .unwrap()
    };
    assert_eq!(combined.statuses.len(), 1);
    assert_eq!(combined.statuses[0].context, "dco");
    assert_eq!(combined.statuses[0].state, StatusState::Failure);
    server.shutdown().await;
}
