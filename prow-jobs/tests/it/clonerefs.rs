//! clonerefs against real git repositories in temp dirs.

use std::path::Path;

use git2::{Oid, Repository, Signature};
use prow_core::{Pull, Refs};
use prow_jobs::clonerefs::{self, ClonerefsOptions};

fn commit(
    repo: &Repository,
    branch: &str,
    parents: &[Oid],
    files: &[(&str, &str)],
    time: i64,
) -> Oid {
    let sig = Signature::new("dev", "dev@example.com", &git2::Time::new(time, 0)).unwrap();
    let mut builder = repo
        .treebuilder(
            parents
                .first()
                .map(|p| repo.find_commit(*p).unwrap().tree().unwrap())
                .as_ref(),
        )
        .unwrap();
    for (name, content) in files {
        let blob = repo.blob(content.as_bytes()).unwrap();
        builder.insert(name, blob, 0o100644).unwrap();
    }
    let tree = repo.find_tree(builder.write().unwrap()).unwrap();
    let parents: Vec<_> = parents
        .iter()
        .map(|p| repo.find_commit(*p).unwrap())
        .collect();
    let parent_refs: Vec<_> = parents.iter().collect();
    repo.commit(
        Some(&format!("refs/heads/{branch}")),
        &sig,
        &sig,
        "change",
        &tree,
        &parent_refs,
    )
    .unwrap()
}

struct Origin {
    _dir: tempfile::TempDir,
    path: String,
    base: Oid,
    pr1: Oid,
    pr2: Oid,
}

fn origin() -> Origin {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(dir.path()).unwrap();
    let first = commit(&repo, "main", &[], &[("README", "hello\n")], 1_700_000_000);
    let base = commit(
        &repo,
        "main",
        &[first],
        &[("main.txt", "main\n")],
        1_700_000_100,
    );
    let pr1 = commit(
        &repo,
        "feature",
        &[first],
        &[("feature.txt", "feature\n")],
        1_700_000_200,
    );
    repo.reference("refs/pull/1/head", pr1, true, "pr").unwrap();
    let pr2 = commit(
        &repo,
        "other",
        &[first],
        &[("other.txt", "other\n")],
        1_700_000_300,
    );
    repo.reference("refs/pull/2/head", pr2, true, "pr").unwrap();
    let path = dir.path().display().to_string();
    Origin {
        _dir: dir,
        path,
        base,
        pr1,
        pr2,
    }
}

fn options(root: &Path, refs: Vec<Refs>) -> ClonerefsOptions {
    ClonerefsOptions {
        src_root: root.display().to_string(),
        log: root.join("clone-records.json").display().to_string(),
        git_refs: refs,
        ..ClonerefsOptions::default()
    }
}

#[test]
fn base_and_pulls_are_merged_in_order_reproducibly() {
    let origin = origin();
    let refs = Refs {
        org: "org".into(),
        repo: "repo".into(),
        base_ref: "main".into(),
        base_sha: origin.base.to_string(),
        clone_uri: origin.path.clone(),
        pulls: vec![
            Pull {
                number: 1,
                sha: origin.pr1.to_string(),
                ..Pull::default()
            },
            Pull {
                number: 2,
                ..Pull::default()
            },
        ],
        ..Refs::default()
    };
    let mut finals = Vec::new();
    for _ in 0..2 {
        let root = tempfile::tempdir().unwrap();
        let records =
            clonerefs::run_with_retries(&options(root.path(), vec![refs.clone()]), vec![]).unwrap();
        assert_eq!(records.len(), 2);
        let record = &records[1];
        assert!(!record.failed, "{record:#?}");
        let clone = root.path().join("src/github.com/org/repo");
        for file in ["README", "main.txt", "feature.txt", "other.txt"] {
            assert!(clone.join(file).is_file(), "{file} missing");
        }
        let repo = Repository::open(&clone).unwrap();
        let head = repo.head().unwrap();
        assert_eq!(head.shorthand().unwrap(), "main");
        let merge = head.peel_to_commit().unwrap();
        assert_eq!(merge.parent_id(1).unwrap(), origin.pr2);
        assert_eq!(merge.parent(0).unwrap().parent_id(1).unwrap(), origin.pr1);
        assert_eq!(merge.time().seconds(), 1_700_000_100 + 2);
        assert_eq!(record.final_sha, merge.id().to_string());
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.path().join("clone-records.json")).unwrap())
                .unwrap();
        assert_eq!(written[1]["final_sha"], record.final_sha.as_str());
        let commands: Vec<String> = record
            .commands
            .iter()
            .map(|c| {
                c.command
                    .replace(&origin.path, "ORIGIN")
                    .replace(&origin.base.to_string(), "BASE")
                    .replace(&origin.pr1.to_string(), "PR1")
                    .replace(&root.path().display().to_string(), "ROOT")
            })
            .collect();
        insta::allow_duplicates! { insta::assert_snapshot!(commands.join("\n"), @r"
        mkdir -p ROOT/src/github.com/org/repo
        git init ROOT/src/github.com/org/repo
        git config user.name ci-robot
        git config user.email ci-robot@k8s.io
        git fetch ORIGIN --tags --prune
        git fetch ORIGIN BASE
        git checkout BASE
        git branch --force main BASE
        git checkout main
        git fetch ORIGIN PR1
        GIT_AUTHOR_DATE=1700000101 GIT_COMMITTER_DATE=1700000101 git merge --no-ff PR1
        git fetch ORIGIN pull/2/head
        GIT_AUTHOR_DATE=1700000102 GIT_COMMITTER_DATE=1700000102 git merge --no-ff FETCH_HEAD
        git submodule update --init --recursive
        "); }
        finals.push(record.final_sha.clone());
    }
    assert_eq!(finals[0], finals[1], "merges must be reproducible");
}

/// An origin whose `main` and `conflict` branches both change `main.txt` from the base:
/// returns it with the two commits (ours on `main`, theirs on `conflict`).
fn conflicting_origin() -> (Origin, Oid, Oid) {
    let origin = origin();
    let repo = Repository::open_bare(&origin.path).unwrap();
    let theirs = commit(
        &repo,
        "conflict",
        &[origin.base],
        &[("main.txt", "theirs\n")],
        1_700_000_400,
    );
    let ours = commit(
        &repo,
        "main",
        &[origin.base],
        &[("main.txt", "ours\n")],
        1_700_000_500,
    );
    (origin, ours, theirs)
}

#[test]
fn a_conflicting_pull_fails_the_record_and_fail_flag_errors() {
    let (origin, main, conflict) = conflicting_origin();
    let refs = Refs {
        org: "org".into(),
        repo: "repo".into(),
        base_ref: "main".into(),
        base_sha: main.to_string(),
        clone_uri: origin.path.clone(),
        path_alias: "k8s.io/repo".into(),
        pulls: vec![Pull {
            number: 3,
            sha: conflict.to_string(),
            ..Pull::default()
        }],
        ..Refs::default()
    };
    let root = tempfile::tempdir().unwrap();
    let mut opts = options(root.path(), vec![refs]);
    let records = clonerefs::run_with_retries(&opts, vec![]).unwrap();
    assert!(records[1].failed);
    let last = records[1].commands.last().unwrap();
    assert!(
        last.error.contains("merge conflict in main.txt"),
        "{last:?}"
    );
    assert!(root.path().join("src/k8s.io/repo/main.txt").is_file());
    opts.fail = true;
    let err = clonerefs::run_with_retries(&opts, vec![]).unwrap_err();
    assert_eq!(err.to_string(), "clone refs: 1 clone records failed");
}

#[test]
fn unreachable_remote_is_recorded_not_fatal() {
    let root = tempfile::tempdir().unwrap();
    let refs = Refs {
        org: "org".into(),
        repo: "gone".into(),
        base_ref: "main".into(),
        clone_uri: root.path().join("missing.git").display().to_string(),
        skip_fetch_head: true,
        ..Refs::default()
    };
    let records = clonerefs::run_with_retries(&options(root.path(), vec![refs]), vec![]).unwrap();
    assert!(records[1].failed);
}

#[test]
fn clone_depth_from_a_local_remote_fetches_everything_and_says_so() {
    let origin = origin();
    let refs = Refs {
        org: "org".into(),
        repo: "repo".into(),
        base_ref: "main".into(),
        clone_uri: format!("file://{}", origin.path),
        clone_depth: 1,
        ..Refs::default()
    };
    let root = tempfile::tempdir().unwrap();
    let records = clonerefs::run_with_retries(&options(root.path(), vec![refs]), vec![]).unwrap();
    assert!(!records[1].failed, "{:#?}", records[1]);
    assert_eq!(records[1].final_sha, origin.base.to_string());
    let fetches: Vec<&str> = records[1]
        .commands
        .iter()
        .filter(|c| c.command.starts_with("git fetch --depth 1"))
        .map(|c| c.output.as_str())
        .collect();
    assert_eq!(
        fetches,
        ["depth ignored: shallow fetches need a network remote\n"; 2]
    );
}

#[test]
fn submodules_are_checked_out_and_refs_clone_in_parallel() {
    // A library repository, used as a submodule of the app and cloned on its own too.
    let library_dir = tempfile::tempdir().unwrap();
    let library = Repository::init_bare(library_dir.path()).unwrap();
    let lib_commit = commit(
        &library,
        "main",
        &[],
        &[("lib.txt", "library\n")],
        1_700_000_000,
    );
    let app_dir = tempfile::tempdir().unwrap();
    let app = Repository::init_bare(app_dir.path()).unwrap();
    let gitmodules = format!(
        "[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = {}\n",
        library_dir.path().display()
    );
    let sig = Signature::new("dev", "dev@example.com", &git2::Time::new(1_700_000_000, 0)).unwrap();
    let mut vendor = app.treebuilder(None).unwrap();
    vendor.insert("lib", lib_commit, 0o160000).unwrap();
    let vendor = vendor.write().unwrap();
    let mut tree = app.treebuilder(None).unwrap();
    tree.insert(
        ".gitmodules",
        app.blob(gitmodules.as_bytes()).unwrap(),
        0o100644,
    )
    .unwrap();
    tree.insert("vendor", vendor, 0o040000).unwrap();
    let tree = app.find_tree(tree.write().unwrap()).unwrap();
    app.commit(Some("refs/heads/main"), &sig, &sig, "app", &tree, &[])
        .unwrap();

    let refs = |repo: &str, uri: &Path| Refs {
        org: "org".into(),
        repo: repo.into(),
        base_ref: "main".into(),
        clone_uri: uri.display().to_string(),
        ..Refs::default()
    };
    let root = tempfile::tempdir().unwrap();
    let mut opts = options(
        root.path(),
        vec![refs("app", app_dir.path()), refs("lib", library_dir.path())],
    );
    opts.max_parallel_workers = 2;
    let records = clonerefs::run_with_retries(&opts, vec![]).unwrap();
    let repos: Vec<&str> = records.iter().map(|r| r.refs.repo.as_str()).collect();
    assert_eq!(
        repos,
        ["", "app", "lib"],
        "records keep the order of the refs"
    );
    assert!(records.iter().all(|r| !r.failed), "{records:#?}");
    let app_clone = root.path().join("src/github.com/org/app");
    assert_eq!(
        std::fs::read_to_string(app_clone.join("vendor/lib/lib.txt")).unwrap(),
        "library\n"
    );
    assert!(root.path().join("src/github.com/org/lib/lib.txt").is_file());
}

/// Over smart HTTP: the OAuth token authenticates, the cookie file's cookie is sent, a shallow
/// fetch stays shallow, and the token never appears in the records.
#[test]
fn oauth_token_cookie_file_and_depth_over_http() {
    use base64::Engine as _;
    let origin = origin();
    let served = tempfile::tempdir().unwrap();
    let target = served.path().join("org/repo.git");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::rename(&origin.path, &target).unwrap();
    let token = "tok-0123456789";
    let expected = format!(
        "Basic {}",
        base64::prelude::BASE64_STANDARD.encode(format!("{token}:x-oauth-basic"))
    );
    let server = crate::githttp::serve(served.path().to_owned(), expected.clone());

    let secrets = tempfile::tempdir().unwrap();
    std::fs::write(secrets.path().join("oauth"), format!("{token}\n")).unwrap();
    std::fs::write(
        secrets.path().join("cookies"),
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc123\n",
    )
    .unwrap();
    let refs = Refs {
        org: "org".into(),
        repo: "repo".into(),
        base_ref: "main".into(),
        repo_link: format!("{}/org/repo", server.base),
        clone_depth: 1,
        skip_fetch_head: true,
        ..Refs::default()
    };
    let root = tempfile::tempdir().unwrap();
    let mut opts = options(root.path(), vec![refs]);
    opts.oauth_token_file = secrets.path().join("oauth").display().to_string();
    opts.cookie_path = secrets.path().join("cookies").display().to_string();
    let records = clonerefs::run_with_retries(&opts, vec![]).unwrap();
    assert!(!records[1].failed, "{:#?}", records[1]);
    assert_eq!(records[1].final_sha, origin.base.to_string());

    let clone = root
        .path()
        .join("src")
        .join(server.base.trim_start_matches("http://"))
        .join("org/repo");
    assert!(
        Repository::open(&clone).unwrap().is_shallow(),
        "clone_depth 1 should be shallow"
    );
    let seen = server.seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|s| s.authorization.as_deref() == Some(expected.as_str())),
        "{seen:#?}"
    );
    assert_eq!(
        seen[0].target,
        "/org/repo.git/info/refs?service=git-upload-pack"
    );
    assert!(
        seen.iter()
            .all(|s| s.cookie.as_deref() == Some("session=abc123")),
        "{seen:#?}"
    );
    let records_json = serde_json::to_string(&records).unwrap();
    assert!(
        !records_json.contains(token),
        "the token leaked into the records"
    );
}

/// A repository whose pull request has two commits, for the squash and rebase methods.
fn two_commit_pull() -> (Origin, Oid) {
    let origin = origin();
    let repo = Repository::open_bare(&origin.path).unwrap();
    let second = commit(
        &repo,
        "feature",
        &[origin.pr1],
        &[("feature.txt", "feature, improved\n")],
        1_700_000_250,
    );
    (origin, second)
}

fn merged_with(
    method: prow_core::MergeMethod,
    head: Oid,
    origin: &Origin,
) -> (tempfile::TempDir, Vec<clonerefs::CloneRecord>) {
    let refs = Refs {
        org: "org".into(),
        repo: "repo".into(),
        base_ref: "main".into(),
        base_sha: origin.base.to_string(),
        clone_uri: origin.path.clone(),
        pulls: vec![Pull {
            number: 9,
            sha: head.to_string(),
            title: "Improve the feature".into(),
            ..Pull::default()
        }],
        ..Refs::default()
    };
    let root = tempfile::tempdir().unwrap();
    let mut opts = options(root.path(), vec![refs]);
    opts.merge_methods.insert("org/repo".into(), method);
    let records = clonerefs::run_with_retries(&opts, vec![]).unwrap();
    (root, records)
}

#[test]
fn squash_makes_one_commit_titled_like_github() {
    let (origin, head) = two_commit_pull();
    let (root, records) = merged_with(prow_core::MergeMethod::Squash, head, &origin);
    assert!(!records[1].failed, "{:#?}", records[1]);
    let repo = Repository::open(root.path().join("src/github.com/org/repo")).unwrap();
    let tip = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(tip.parent_ids().collect::<Vec<_>>(), [origin.base]);
    assert_eq!(tip.message().unwrap(), "Improve the feature (#9)");
    let dir = root.path().join("src/github.com/org/repo");
    assert_eq!(
        std::fs::read_to_string(dir.join("feature.txt")).unwrap(),
        "feature, improved\n"
    );
    assert!(records[1].commands.iter().any(|c| {
        c.command
            .ends_with(&format!("git merge --squash {head} && git commit"))
    }));
}

#[test]
fn rebase_replays_each_commit_on_the_base() {
    let (origin, head) = two_commit_pull();
    let (root, records) = merged_with(prow_core::MergeMethod::Rebase, head, &origin);
    assert!(!records[1].failed, "{:#?}", records[1]);
    let repo = Repository::open(root.path().join("src/github.com/org/repo")).unwrap();
    let tip = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(tip.parent_count(), 1);
    let first = tip.parent(0).unwrap();
    assert_eq!(
        first.parent_ids().collect::<Vec<_>>(),
        [origin.base],
        "two replayed commits on the base"
    );
    assert_eq!(tip.author().name().unwrap(), "dev", "authors are kept");
    assert_eq!(tip.committer().name().unwrap(), "ci-robot");
    assert_eq!(records[1].final_sha, tip.id().to_string());
}

#[test]
fn a_rebase_conflict_fails_the_record() {
    let (origin, ours, theirs) = conflicting_origin();
    let refs = Refs {
        org: "org".into(),
        repo: "repo".into(),
        base_ref: "main".into(),
        base_sha: ours.to_string(),
        clone_uri: origin.path.clone(),
        pulls: vec![Pull {
            number: 4,
            sha: theirs.to_string(),
            ..Pull::default()
        }],
        ..Refs::default()
    };
    let root = tempfile::tempdir().unwrap();
    let mut opts = options(root.path(), vec![refs]);
    opts.merge_methods
        .insert("org/repo".into(), prow_core::MergeMethod::Rebase);
    let records = clonerefs::run_with_retries(&opts, vec![]).unwrap();
    assert!(records[1].failed);
    assert_eq!(
        records[1].commands.last().unwrap().error,
        "rebase conflict in main.txt"
    );
}
