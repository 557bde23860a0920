//! The plugins of issue 21's second batch through the real hook: testfreeze, reward-owners,
//! rifle, project, project-manager and buildifier (their tables are in prow-plugins'
//! integration tests).

use std::sync::Arc;

use prow_github::fake::FakeGitHub;
use prow_github::types::PullRequest;
use prow_server::hook::Options;
use serde_json::{Value, json};

use crate::plugins_misc_support::InProcess;
use crate::support::{self, hook_config};

/// A pull request `number` by `author` in `org/repo` against `base`, added to `github`.
fn add_pull(github: &FakeGitHub, org: &str, repo: &str, number: u64, author: &str, base: &str) {
    let pr: PullRequest = serde_json::from_value(json!({
        "id": number, "number": number, "title": "A change", "state": "open",
        "user": {"login": author},
        "html_url": format!("https://github.com/{org}/{repo}/pull/{number}"),
        "head": {"ref": "topic", "sha": "1111111111111111111111111111111111111111"},
        "base": {"ref": base, "sha": "2222222222222222222222222222222222222222"},
    }))
    .unwrap();
    github.add_pull_request(org, repo, pr);
}

/// GitHub's `pull_request` example moved to `org/repo` with `action`, PR `number`, `base` and
/// `labels`.
fn pull_event(
    action: &str,
    org: &str,
    repo: &str,
    number: u64,
    base: &str,
    labels: &[&str],
) -> Value {
    let mut payload = support::opened("author");
    payload["action"] = action.into();
    payload["number"] = number.into();
    payload["pull_request"]["number"] = number.into();
    payload["pull_request"]["base"]["ref"] = base.into();
    payload["pull_request"]["labels"] = labels
        .iter()
        .map(|l| json!({"name": l}))
        .collect::<Vec<_>>()
        .into();
    payload["repository"]["name"] = repo.into();
    payload["repository"]["full_name"] = format!("{org}/{repo}").into();
    payload["repository"]["owner"]["login"] = org.into();
    payload
}

fn comments_on(github: &FakeGitHub, org: &str, repo: &str, number: u64) -> Vec<String> {
    github
        .state()
        .comments
        .get(&(org.to_owned(), repo.to_owned(), number))
        .map(|c| {
            c.iter()
                .map(|c| c.body.clone().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

/// A server on 127.0.0.1 answering `path` → body; its base URL.
async fn files_server(files: Vec<(&'static str, String)>) -> String {
    let mut app = axum::Router::new();
    for (path, body) in files {
        app = app.route(path, axum::routing::get(move || async move { body }));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A bare repository with branches `heads` and tags `tags`, as kubernetes/kubernetes
/// advertises them.
fn release_repo(heads: &[&str], tags: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init_bare(dir.path()).unwrap();
    let commit = support::commit(&repo, None, &[("README.md", "k8s\n")], "init");
    let object = repo.find_object(commit, None).unwrap();
    for head in heads {
        repo.reference(&format!("refs/heads/{head}"), commit, true, "branch")
            .unwrap();
    }
    for tag in tags {
        repo.tag_lightweight(tag, &object, true).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testfreeze_posts_the_notice_on_new_kubernetes_master_pull_requests() {
    use prow_plugins::plugins::testfreeze::{Sources, TestFreeze};
    let github = support::github("author");
    add_pull(&github, "kubernetes", "kubernetes", 7, "author", "master");
    add_pull(
        &github,
        "kubernetes",
        "kubernetes",
        8,
        "author",
        "release-1.30",
    );
    let remote = release_repo(
        &["master", "release-1.29", "release-1.30"],
        &["v1.29.0", "v1.30.0-rc.1"],
    );
    let server = files_server(vec![
        (
            "/config.yaml",
            "tide:\n  queries:\n  - repos: [kubernetes/kubernetes]\n    excludedBranches: [release-1.30]\n".to_owned(),
        ),
        (
            "/prowjobs.js",
            json!({"items": [{"spec": {"job": "ci-fast-forward"}, "status": {"state": "success", "completionTime": "2024-07-01T06:00:00Z"}}]}).to_string(),
        ),
    ])
    .await;
    let sources = Sources::new(
        &remote.path().display().to_string(),
        &format!("{server}/config.yaml"),
        &format!("{server}/prowjobs.js"),
    );
    let plugins = "plugins:\n  kubernetes/kubernetes:\n    plugins: [testfreeze]\n";
    let hook = InProcess::start(
        github.clone(),
        hook_config(support::CONFIG, plugins),
        Options::default(),
        vec![Arc::new(TestFreeze::new(sources))],
    );
    hook.deliver(
        "pull_request",
        &pull_event(
            "opened",
            "kubernetes",
            "kubernetes",
            7,
            "master",
            &["kind/bug"],
        ),
    )
    .await;
    let said = comments_on(&github, "kubernetes", "kubernetes", 7);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("Please note that we're already in [Code Freeze]"),
        "{}",
        said[0]
    );
    assert!(said[0].contains("This PR is labeled `kind/bug`"));
    assert!(said[0].contains("We're also in [Test Freeze]"));
    assert!(said[0].contains("for the `release-1.30` branch"));
    assert!(said[0].contains("upcoming v1.30.0 release"));
    assert!(said[0].contains("the most recent run was: Mon Jul  1 06:00:00 UTC 2024."));
    // Edits, other branches and other repositories get nothing.
    hook.deliver(
        "pull_request",
        &pull_event("edited", "kubernetes", "kubernetes", 7, "master", &[]),
    )
    .await;
    hook.deliver(
        "pull_request",
        &pull_event("opened", "kubernetes", "kubernetes", 8, "release-1.30", &[]),
    )
    .await;
    assert_eq!(comments_on(&github, "kubernetes", "kubernetes", 7).len(), 1);
    assert!(comments_on(&github, "kubernetes", "kubernetes", 8).is_empty());
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testfreeze_is_quiet_after_the_release_and_when_the_repository_is_unreachable() {
    use prow_plugins::plugins::testfreeze::{Sources, TestFreeze};
    let github = support::github("author");
    add_pull(&github, "kubernetes", "kubernetes", 7, "author", "master");
    let released = release_repo(&["master", "release-1.30"], &["v1.30.0"]);
    let server = files_server(vec![("/config.yaml", "tide: {}\n".to_owned())]).await;
    let plugins = "plugins:\n  kubernetes/kubernetes:\n    plugins: [testfreeze]\n";
    for remote in [
        released.path().display().to_string(),
        released.path().join("missing").display().to_string(),
    ] {
        let sources = Sources::new(
            &remote,
            &format!("{server}/config.yaml"),
            &format!("{server}/none"),
        );
        let hook = InProcess::start(
            github.clone(),
            hook_config(support::CONFIG, plugins),
            Options::default(),
            vec![Arc::new(TestFreeze::new(sources))],
        );
        hook.deliver(
            "pull_request",
            &pull_event("opened", "kubernetes", "kubernetes", 7, "master", &[]),
        )
        .await;
        hook.shutdown().await;
    }
    assert!(comments_on(&github, "kubernetes", "kubernetes", 7).is_empty());
}

/// A tree holding `files` (nested paths allowed) on top of `parent`'s tree.
fn tree_with(
    repo: &git2::Repository,
    parent: Option<&git2::Tree<'_>>,
    files: &[(&str, &str)],
) -> git2::Oid {
    let mut builder = repo.treebuilder(parent).unwrap();
    let mut subdirs: std::collections::BTreeMap<&str, Vec<(&str, &str)>> = Default::default();
    for (path, text) in files {
        match path.split_once('/') {
            Some((dir, rest)) => subdirs.entry(dir).or_default().push((rest, text)),
            None => {
                let blob = repo.blob(text.as_bytes()).unwrap();
                builder.insert(path, blob, 0o100644).unwrap();
            }
        }
    }
    for (dir, files) in subdirs {
        let existing = parent
            .and_then(|t| t.get_name(dir))
            .map(|e| repo.find_tree(e.id()).unwrap());
        let sub = tree_with(repo, existing.as_ref(), &files);
        builder.insert(dir, sub, 0o040000).unwrap();
    }
    builder.write().unwrap()
}

/// Commits `files` (nested paths allowed) on top of `parent` in `repo`.
fn commit_files(
    repo: &git2::Repository,
    parent: Option<git2::Oid>,
    files: &[(&str, &str)],
) -> git2::Oid {
    let parent = parent.map(|p| repo.find_commit(p).unwrap());
    let base = parent.as_ref().map(|p| p.tree().unwrap());
    let tree = repo
        .find_tree(tree_with(repo, base.as_ref(), files))
        .unwrap();
    let who = git2::Signature::now("Author", "author@example.com").unwrap();
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(None, &who, &who, "change", &tree, &parents)
        .unwrap()
}

/// The fake GitHub for PR #2 of Codertocat/Hello-World in a real bare repository: master at
/// a commit of `base_files`, `refs/pull/2/head` at a commit adding `head_files` on top (off
/// master, as after a squash merge), the pull request listing `changed` as modified with
/// `patch`. Returns the fake, the repository's root (keep it) and the two commits.
fn pull_in_git(
    base_files: &[(&str, &str)],
    head_files: &[(&str, &str)],
    changed: &[&str],
    patch: Option<&str>,
) -> (Arc<FakeGitHub>, tempfile::TempDir, git2::Oid, git2::Oid) {
    use prow_github::types::PullRequestFile;
    let github = support::github("author");
    let root = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init_bare(root.path().join("Codertocat/Hello-World.git")).unwrap();
    let base = commit_files(&repo, None, base_files);
    repo.reference("refs/heads/master", base, true, "master")
        .unwrap();
    let head = commit_files(&repo, Some(base), head_files);
    repo.reference("refs/pull/2/head", head, true, "pull")
        .unwrap();
    {
        let mut state = github.state();
        state.git_root = Some(root.path().to_owned());
        state.pull_files.insert(
            (support::ORG.to_owned(), support::REPO.to_owned(), 2),
            changed
                .iter()
                .map(|f| PullRequestFile {
                    filename: (*f).to_owned(),
                    status: "modified".to_owned(),
                    patch: patch.map(str::to_owned),
                    ..PullRequestFile::default()
                })
                .collect(),
        );
    }
    (github, root, base, head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reward_owners_welcomes_the_owners_a_merged_pull_request_adds() {
    let (github, _root, base, head) = pull_in_git(
        &[
            ("OWNERS", "approvers: [alice, leads]\n"),
            ("OWNERS_ALIASES", "aliases:\n  leads: [lee]\n"),
        ],
        &[
            ("OWNERS", "approvers: [alice, leads]\nreviewers: [Bob]\n"),
            ("pkg/OWNERS", "approvers: [carol, alice]\n"),
        ],
        &["OWNERS", "pkg/OWNERS"],
        None,
    );
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [reward-owners]\n";
    let hook = InProcess::start(
        github.clone(),
        hook_config(support::CONFIG, plugins),
        Options::default(),
        Vec::new(),
    );
    let mut event = pull_event("closed", support::ORG, support::REPO, 2, "master", &[]);
    event["pull_request"]["base"]["sha"] = base.to_string().into();
    event["pull_request"]["head"]["sha"] = head.to_string().into();
    // Closed without merging: nothing.
    event["pull_request"]["merged"] = false.into();
    hook.deliver("pull_request", &event).await;
    assert!(support::comments(&github).is_empty());
    event["pull_request"]["merged"] = true.into();
    hook.deliver("pull_request", &event).await;
    let said = support::comments(&github);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with(
            "\nThanks to @bob, @carol for serving the community in this new capacity!"
        ),
        "{}",
        said[0]
    );
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rifle_requests_the_reviewer_who_last_touched_the_changed_lines() {
    use crate::plugins_approve::{TREE, say, seed};
    use prow_github::types::BlameRange;
    let gh = support::github("Codertocat");
    seed(&gh, TREE, &["src/main.go"]);
    {
        let mut state = gh.state();
        let key = (support::ORG.to_owned(), support::REPO.to_owned(), 2);
        state.pull_files.get_mut(&key).unwrap()[0].patch =
            Some("@@ -3,2 +3,3 @@\n a\n+b\n c".to_owned());
        // Each src reviewer wrote some of the file; only src-second wrote the changed lines.
        state.blames.insert(
            (
                support::ORG.to_owned(),
                support::REPO.to_owned(),
                "src/main.go".to_owned(),
            ),
            vec![
                BlameRange::new(1, 2, "src-reviewer", "2024-01-01T00:00:00Z"),
                BlameRange::new(3, 4, "src-second", "2020-01-01T00:00:00Z"),
                BlameRange::new(5, 9, "src-reviewer", "2024-01-01T00:00:00Z"),
            ],
        );
    }
    let plugins =
        "plugins:\n  Codertocat/Hello-World:\n    plugins: [rifle]\nrifle:\n  request_count: 1\n";
    let hook = InProcess::start(
        gh.clone(),
        hook_config(support::CONFIG, plugins),
        Options::default(),
        Vec::new(),
    );
    hook.deliver("pull_request", &support::opened("Codertocat"))
        .await;
    let requested = |gh: &FakeGitHub| {
        gh.state()
            .review_requests
            .get(&(support::ORG.to_owned(), support::REPO.to_owned(), 2))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(requested(&gh), ["src-second"]);
    // The merge base was asked for (the fake has none: blame falls back to the base branch).
    assert_eq!(gh.state().calls.get("merge_base"), Some(&1));
    // /auto-cc asks again, for anyone; other comments do nothing.
    hook.deliver("issue_comment", &say(&gh, "stranger", "/cc someone"))
        .await;
    assert_eq!(gh.state().calls.get("blame"), Some(&1));
    hook.deliver("issue_comment", &say(&gh, "stranger", "/auto-cc"))
        .await;
    assert_eq!(gh.state().calls.get("blame"), Some(&2));
    assert_eq!(requested(&gh), ["src-second", "src-second"]);
    hook.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buildifier_reviews_the_bazel_files_a_fake_buildifier_flags() {
    use prow_plugins::plugins::buildifier::{Buildifier, NOT_INSTALLED};
    use std::os::unix::fs::PermissionsExt;
    let (github, _root, _, _) = pull_in_git(
        &[("BUILD", "ok\n")],
        &[
            ("BUILD", "BAD  format\n"),
            ("tools/defs.bzl", "fine\n"),
            ("main.go", "BAD\n"),
        ],
        &["BUILD", "tools/defs.bzl", "main.go"],
        Some("@@ -1 +1 @@\n-ok\n+BAD  format"),
    );
    // A stand-in for buildifier's check mode: files containing BAD need reformatting (exit
    // 4); it records the files it was given.
    let bin = tempfile::tempdir().unwrap();
    let seen = bin.path().join("seen");
    let script = bin.path().join("buildifier");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = --mode=check ] || exit 2\nshift\necho \"$@\" > {}\nrc=0\nfor f in \"$@\"; do\n  if grep -q BAD \"$f\"; then echo \"$f # reformat\" >&2; rc=4; fi\ndone\nexit $rc\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plugins = "plugins:\n  Codertocat/Hello-World:\n    plugins: [buildifier]\n";
    let hook = InProcess::start(
        github.clone(),
        hook_config(support::CONFIG, plugins),
        Options::default(),
        vec![Arc::new(Buildifier::with_search_path(bin.path()))],
    );
    hook.deliver(
        "issue_comment",
        &support::comment("/buildify", "someone", "author"),
    )
    .await;
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "BUILD tools/defs.bzl\n"
    );
    {
        let state = github.state();
        let reviews = state
            .draft_reviews
            .get(&(support::ORG.to_owned(), support::REPO.to_owned(), 2))
            .cloned()
            .unwrap_or_default();
        assert_eq!(reviews.len(), 1, "{reviews:?}");
        assert!(
            reviews[0].body.contains("1 warning."),
            "{}",
            reviews[0].body
        );
        let places: Vec<(&str, u64)> = reviews[0]
            .comments
            .iter()
            .map(|c| (c.path.as_str(), c.line))
            .collect();
        assert_eq!(places, [("BUILD", 1)]);
    }
    hook.shutdown().await;

    // Without the binary on its path the plugin says so instead.
    let empty = tempfile::tempdir().unwrap();
    let hook = InProcess::start(
        github.clone(),
        hook_config(support::CONFIG, plugins),
        Options::default(),
        vec![Arc::new(Buildifier::with_search_path(empty.path()))],
    );
    hook.deliver(
        "issue_comment",
        &support::comment("/buildifier", "someone", "author"),
    )
    .await;
    let said = support::comments(&github);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains(NOT_INSTALLED), "{}", said[0]);
    hook.shutdown().await;
}
