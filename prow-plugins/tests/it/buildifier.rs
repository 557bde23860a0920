//! buildifier: which files are Bazel files, the formatter's output and the review (through
//! the real hook with a fake `buildifier` on PATH: prow-server's `plugins_pla`).

use prow_github::types::PullRequestFile;
use prow_plugins::plugins::buildifier as bf;

fn file(name: &str, status: &str) -> PullRequestFile {
    PullRequestFile {
        filename: name.to_owned(),
        status: status.to_owned(),
        patch: Some(format!("@@ -3,2 +7,4 @@ {name}")),
        ..PullRequestFile::default()
    }
}

#[test]
fn bazel_files_are_builds_workspaces_and_bzl_files() {
    let changes = [
        file("BUILD", "modified"),
        file("pkg/BUILD.bazel", "added"),
        file("WORKSPACE", "modified"),
        file("tools/defs.bzl", "modified"),
        file("tools/old.bzl", "removed"),
        file("moved/BUILD", "renamed"),
        file("main.go", "modified"),
        file("README.bzl.md", "modified"),
    ];
    let names: Vec<String> = bf::modified_bazel_files(&changes)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(
        names,
        ["BUILD", "pkg/BUILD.bazel", "WORKSPACE", "tools/defs.bzl"]
    );
}

#[test]
fn the_check_output_names_the_files_to_reformat() {
    let output = "BUILD # reformat\n./pkg/BUILD.bazel # reformat listsort unsafesort\nWORKSPACE: warning\nBUILD # reformat\n";
    assert_eq!(bf::files_to_reformat(output), ["BUILD", "pkg/BUILD.bazel"]);
    assert!(bf::files_to_reformat("").is_empty());
}

#[test]
fn the_review_comments_each_file_at_its_first_hunk() {
    let files = vec![
        ("BUILD".to_owned(), "@@ -3,2 +7,4 @@ x\n a".to_owned()),
        ("new.bzl".to_owned(), "@@ -0,0 +1 @@\n+x".to_owned()),
        ("odd.bzl".to_owned(), String::new()),
    ];
    let problems = [
        "BUILD".to_owned(),
        "new.bzl".to_owned(),
        "odd.bzl".to_owned(),
    ];
    let (summary, comments) = bf::review(&problems, &files);
    assert_eq!(summary, "3 warnings.");
    let places: Vec<(&str, u64)> = comments.iter().map(|c| (c.path.as_str(), c.line)).collect();
    assert_eq!(places, [("BUILD", 7), ("new.bzl", 1), ("odd.bzl", 1)]);
    assert_eq!(
        comments[0].body,
        "This Bazel file needs formatting, run:\n```shell\nbuildifier -mode=fix \"BUILD\"\n```"
    );
    let (one, _) = bf::review(&problems[..1], &files);
    assert_eq!(one, "1 warning.");
    let (none, comments) = bf::review(&[], &files);
    assert_eq!((none.as_str(), comments.len()), ("0 warnings.", 0));
}

#[test]
fn the_binary_is_found_only_as_an_executable_on_the_path() {
    use std::os::unix::fs::PermissionsExt;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(a.path().join("buildifier"), "not executable").unwrap();
    let script = b.path().join("buildifier");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths([a.path(), b.path()]).unwrap();
    assert_eq!(bf::find_on_path("buildifier", &path), Some(script));
    let only_a = std::env::join_paths([a.path()]).unwrap();
    assert_eq!(bf::find_on_path("buildifier", &only_a), None);
}
