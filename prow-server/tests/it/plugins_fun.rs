//! help, shrug, yuks, cat, dog and pony: their commands, replies and labels, and comments end
//! to end.

use prow_github::types::{Comment, User};
use prow_plugins::fun;
use prow_plugins::plugins::{cat, dog, help, pony, shrug, yuks};
use prow_server::hook::Options;

use crate::plugins_common::summary;
use crate::support::{self, Server, comment, comments, github, labels};

fn help_run(
    body: &str,
    has_help: bool,
    has_gfi: bool,
    bot_comments: &[(u64, &str)],
) -> Vec<String> {
    let request = help::Request {
        org: "o",
        repo: "r",
        number: 1,
        user: "u",
        body,
        issue_url: "https://x",
    };
    let mut facts = help::Facts::default();
    facts.has_help = has_help;
    facts.has_good_first_issue = has_gfi;
    facts.bot_comments = bot_comments
        .iter()
        .map(|(id, t)| (*id, (*t).to_owned()))
        .collect();
    let guidelines = help::Guidelines {
        url: "https://guide",
        summary: "",
    };
    summary(&help::decide(&request, &facts, &guidelines))
}

#[test]
fn help_and_good_first_issue_labels() {
    assert_eq!(
        help_run("/help", false, false, &[]),
        ["say @u: ", "add help wanted"]
    );
    assert!(help_run("/help", true, false, &[]).is_empty());
    assert_eq!(
        help_run("/good-first-issue", false, false, &[]),
        ["say @u: ", "add good first issue", "add help wanted"]
    );
    assert_eq!(
        help_run("/good-first-issue", true, false, &[]),
        ["say @u: ", "add good first issue"]
    );
    let bot = [
        (
            7,
            "@u: \n\tThis request has been marked as needing help from a contributor.",
        ),
        (
            8,
            "@u: \n\tThis request has been marked as suitable for new contributors.",
        ),
        (9, "something else"),
    ];
    assert_eq!(
        help_run("/remove-help", true, true, &bot),
        [
            "remove help wanted",
            "delete 7",
            "remove good first issue",
            "delete 8"
        ]
    );
    assert_eq!(
        help_run("/remove-good-first-issue", true, true, &bot),
        ["remove good first issue", "delete 8"]
    );
    assert!(help_run("/remove-help", false, false, &bot).is_empty());
    assert!(help_run("help", false, false, &[]).is_empty());

    let g = help::Guidelines {
        url: "https://guide",
        summary: "",
    };
    assert_eq!(
        g.help_message(),
        "\n\tThis request has been marked as needing help from a contributor.\n\nPlease ensure the request meets the requirements listed [here](https://guide).\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-help` command.\n"
    );
    let g = help::Guidelines {
        url: "https://guide",
        summary: "Be nice.",
    };
    assert!(g.good_first_issue_message().contains("### Guidelines\nBe nice.\n\nFor more details on the requirements of such an issue, please see [here](https://guide#good-first-issue)"));
}

#[test]
fn shrug_adds_and_unshrug_answers() {
    assert_eq!(shrug::requested("/shrug"), Some(true));
    assert_eq!(shrug::requested("/UNSHRUG"), Some(false));
    assert_eq!(shrug::requested("/shrug\n/unshrug"), Some(true));
    assert_eq!(shrug::requested("shrug"), None);
    let run = |want, has| {
        summary(&shrug::decide(
            "o",
            "r",
            1,
            "u",
            "/x",
            "https://x",
            want,
            has,
        ))
    };
    assert_eq!(run(true, false), [r"add ¯\_(ツ)_/¯"]);
    assert!(run(true, true).is_empty());
    assert_eq!(
        run(false, true),
        [r"say @u: ¯\\\_(ツ)\_/¯", r"remove ¯\_(ツ)_/¯"]
    );
    assert!(run(false, false).is_empty());
}

#[test]
fn choices_are_stable_per_delivery_and_cover_the_list() {
    let list: Vec<u32> = (0..7).collect();
    let seen: std::collections::BTreeSet<u32> = (0..200)
        .map(|i| *fun::pick(&list, &format!("delivery-{i}")).unwrap())
        .collect();
    assert_eq!(seen.len(), list.len(), "every item can come up");
    assert_eq!(fun::pick(&list, "abc"), fun::pick(&list, "abc"));
    assert_eq!(fun::pick::<u32>(&[], "abc"), None);
    assert!(yuks::JOKES.contains(&yuks::joke("abc")));
    assert!(
        yuks::requested("/joke") && yuks::requested("/JOKE ") && !yuks::requested("/joke please")
    );
}

#[test]
fn pictures_come_from_the_lists() {
    let cats = vec!["https://c/1.jpg".to_owned()];
    assert_eq!(cat::requested("/meow"), Some(String::new()));
    assert_eq!(
        cat::requested("/meowvie clothes"),
        Some("clothes".to_owned())
    );
    assert_eq!(cat::requested("/meowing"), None);
    assert_eq!(
        cat::reply("", &cats, "d").unwrap(),
        "![cat image](https://c/1.jpg)"
    );
    assert_eq!(
        cat::reply("grumpy", &cats, "d").unwrap(),
        format!("![cat image]({})", cat::GRUMPY)
    );
    assert_eq!(cat::reply("", &[], "d"), None);

    let dogs = vec!["https://d/1.jpg".to_owned()];
    assert_eq!(
        dog::reply("/woof", &dogs, "d").unwrap(),
        "[![dog image](https://d/1.jpg)](https://d/1.jpg)"
    );
    assert_eq!(
        dog::reply("/bark", &dogs, "d").unwrap(),
        "[![dog image](https://d/1.jpg)](https://d/1.jpg)"
    );
    assert_eq!(
        dog::reply("/this-is-fine", &dogs, "d").unwrap(),
        "[![dog image](https://storage.googleapis.com/this-is-fine-images/this_is_fine.png)](https://storage.googleapis.com/this-is-fine-images/this_is_fine.png)"
    );
    assert_eq!(dog::reply("/woofwoof", &dogs, "d"), None);
    // Upstream asks for a dog before looking for the famous ones.
    assert_eq!(
        dog::reply("/this-is-fine\n/woof", &dogs, "d").unwrap(),
        "[![dog image](https://d/1.jpg)](https://d/1.jpg)"
    );

    let ponies = vec![
        ("Twilight Sparkle".to_owned(), "https://p/t.png".to_owned()),
        ("Rarity".to_owned(), "https://p/r.png".to_owned()),
    ];
    assert_eq!(pony::requested("/pony\n/pony  twilight "), ["", "twilight"]);
    // Upstream answers at most `maxPonies` (5) lines.
    assert_eq!(
        pony::requested(&"/pony\n".repeat(7)).len(),
        pony::MAX_PONIES
    );
    assert_eq!(
        pony::reply(&["twilight".to_owned()], &ponies, "d").unwrap(),
        "[![pony image](https://p/t.png)](https://p/t.png)"
    );
    assert_eq!(
        pony::reply(&["applejack".to_owned()], &ponies, "d").unwrap(),
        pony::NO_MATCH
    );
    assert_eq!(pony::reply(&[], &ponies, "d"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fun_commands_end_to_end() {
    let plugins =
        "plugins:\n  Codertocat/Hello-World:\n    plugins: [shrug, yuks, cat, dog, pony]\n";
    let server = Server::start_with(
        github(support::ORG),
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    for body in ["/shrug", "/joke", "/meow", "/woof", "/pony"] {
        server
            .send("issue_comment", &comment(body, "stranger", support::ORG))
            .await;
    }
    server.metrics.wait_processed(5).await;
    assert_eq!(labels(&server.github), [r"¯\_(ツ)_/¯"]);
    let mut replies = comments(&server.github);
    replies.sort();
    assert_eq!(replies.len(), 4, "{replies:#?}");
    assert!(
        replies
            .iter()
            .any(|c| c.starts_with("@stranger: ![cat image](https://"))
    );
    assert!(
        replies
            .iter()
            .any(|c| c.starts_with("@stranger: [![dog image](https://"))
    );
    assert!(
        replies
            .iter()
            .any(|c| c.starts_with("@stranger: [![pony image](https://"))
    );
    assert!(replies.iter().any(|c| {
        yuks::JOKES
            .iter()
            .any(|j| c.starts_with(&format!("@stranger: {j}")))
    }));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_on_an_issue_end_to_end() {
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [help]\n";
    let gh = github(support::ORG);
    let server = Server::start_with(
        gh,
        Options::default(),
        support::hook_config(support::CONFIG, plugins),
    )
    .await;
    // GitHub's example comment is on issue #1; make it an issue the fake knows.
    let on_issue = |body: &str| {
        let mut payload = comment(body, "stranger", support::ORG);
        payload["issue"]["number"] = 2.into();
        payload["issue"]
            .as_object_mut()
            .unwrap()
            .remove("pull_request");
        payload
    };
    server
        .send("issue_comment", &on_issue("/good-first-issue"))
        .await;
    server.metrics.wait_processed(1).await;
    assert_eq!(labels(&server.github), ["good first issue", "help wanted"]);
    let replies = comments(&server.github);
    assert_eq!(replies.len(), 1);
    assert!(replies[0].contains("This request has been marked as suitable for new contributors."));
    assert!(replies[0].contains(
        "https://git.k8s.io/community/contributors/guide/help-wanted.md#good-first-issue"
    ));
    // The reply is the bot's: make it so in the fake, then /remove-help prunes it.
    {
        let mut state = server.github.state();
        let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
        for c in state.comments.get_mut(&key).unwrap() {
            c.user = User {
                login: "ci-robot".to_owned(),
                ..User::default()
            };
        }
        state.comments.get_mut(&key).unwrap().push(Comment {
            id: 999,
            body: Some("a human".to_owned()),
            ..Comment::default()
        });
    }
    server
        .send("issue_comment", &on_issue("/remove-help"))
        .await;
    server.metrics.wait_processed(2).await;
    assert!(labels(&server.github).is_empty());
    assert_eq!(comments(&server.github), ["a human"]);
    server.shutdown().await;
}
