//! Webhook events over real payloads: every corpus body parses, comment-like ones generalise.

use prow_github::events::{CommentAction, Event};

use crate::support::{corpus, files_under, fixture};

#[test]
fn a_push_names_its_branch_and_changed_files() {
    let Event::Push(push) = Event::parse("push", &fixture("webhooks/push-to-master.json")).unwrap()
    else {
        panic!("not a push")
    };
    assert_eq!(push.branch(), "master");
    assert_eq!(push.repository.full_name, "kubernetes/test-infra");
    assert_eq!(push.repository.org(), "kubernetes");
    assert!(!push.is_deletion());
    insta::assert_debug_snapshot!(push.changed_files(), @r#"
    [
        "prow/Makefile",
        "prow/cluster/splice_deployment.yaml",
        "prow/cmd/splice/main.go",
    ]
    "#);
}

#[test]
fn an_lgtm_comment_is_a_generic_comment_on_a_pull_request() {
    let event = Event::parse(
        "issue_comment",
        &fixture("webhooks/issue-comment-lgtm.json"),
    )
    .unwrap();
    let comment = event.generic_comment().unwrap();
    assert_eq!(comment.action, CommentAction::Created);
    assert!(comment.is_pr);
    assert_eq!(comment.body, "/lgtm");
    assert_eq!(comment.repo.full_name, "kubernetes/test-infra");
    assert_ne!(comment.user.login, "");
    assert_ne!(comment.issue_author.login, "");
}

#[test]
fn malformed_payloads_name_the_field() {
    let err = Event::parse("push", br#"{"commits": [{"added": "not a list"}]}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "read push payload: commits[0].added: invalid type: string \"not a list\", expected a sequence at line 1 column 35"
    );
}

#[test]
fn unknown_events_are_kept_as_raw_json() {
    let event = Event::parse(
        "release",
        br#"{"action": "published", "release": {"id": 1}}"#,
    )
    .unwrap();
    assert_eq!(event.name(), "release");
    assert_eq!(event.repository(), None);
    let Event::Other { payload, .. } = event else {
        panic!("not kept raw: {event:?}")
    };
    assert_eq!(payload["release"]["id"], 1);
    let err = Event::parse("release", b"not json").unwrap_err();
    assert!(
        err.to_string().starts_with("read release payload: "),
        "{err}"
    );
}

#[test]
fn create_and_delete_name_the_ref() {
    let Event::Create(create) = Event::parse(
        "create",
        br#"{"ref": "release-1.0", "ref_type": "branch", "master_branch": "main", "repository": {"full_name": "o/r"}}"#,
    )
    .unwrap() else {
        panic!("not a create")
    };
    assert_eq!(
        (
            create.git_ref.as_str(),
            create.ref_type.as_str(),
            create.master_branch.as_str()
        ),
        ("release-1.0", "branch", "main")
    );
    let delete = Event::parse(
        "delete",
        br#"{"ref": "v1", "ref_type": "tag", "repository": {"full_name": "o/r"}}"#,
    )
    .unwrap();
    assert_eq!(delete.name(), "delete");
    assert_eq!(
        delete.repository().map(|r| r.full_name.as_str()),
        Some("o/r")
    );
}

/// The event each upstream phony example is sent as (its file names say it only loosely).
const PHONY_EXAMPLES: &[(&str, &str)] = &[
    ("lgtm_comment.json", "issue_comment"),
    ("opened_pr.json", "pull_request"),
    ("push.json", "push"),
    ("reopened_pr.json", "pull_request"),
    ("review_approve_submitted.json", "pull_request_review"),
    ("review_changes_submitted.json", "pull_request_review"),
    ("review_comment_submitted.json", "pull_request_review"),
    ("test_comment.json", "issue_comment"),
];

/// Every upstream phony example parses as the event phony would send it as.
#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn every_phony_example_parses() {
    let corpus = corpus();
    let dir = corpus.join("prow-testdata/cmd/phony/examples");
    let files: Vec<String> = files_under(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let known: Vec<&str> = PHONY_EXAMPLES.iter().map(|(f, _)| *f).collect();
    assert_eq!(files, known, "the examples changed; map each to its event");
    let mut seen = Vec::new();
    for (file, name) in PHONY_EXAMPLES {
        let event = Event::parse(name, &std::fs::read(dir.join(file)).unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(event.name(), *name);
        let repo = event
            .repository()
            .unwrap_or_else(|| panic!("{file}: no repository"));
        let comment = event.generic_comment();
        seen.push(format!(
            "{file}: {} {:?}",
            repo.full_name,
            comment.map(|c| (
                c.action,
                c.body.lines().next().unwrap_or_default().to_owned()
            ))
        ));
    }
    insta::assert_snapshot!(seen.join("\n"), @r#"
    lgtm_comment.json: kubernetes/test-infra Some((Created, "/lgtm"))
    opened_pr.json: kubernetes/test-infra Some((Created, "<!-- Reviewable:start -->"))
    push.json: kubernetes/test-infra None
    reopened_pr.json: kubernetes/test-infra None
    review_approve_submitted.json: kubernetes/kubernetes Some((Created, "This LGTM now"))
    review_changes_submitted.json: kubernetes/kubernetes Some((Created, ""))
    review_comment_submitted.json: kubernetes/kubernetes Some((Created, ""))
    test_comment.json: kubernetes/test-infra Some((Created, "/area kubectl"))
    "#);
}

/// Every body in the corpus parses as its event; the comment-like ones are listed.
#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn every_corpus_payload_parses() {
    let corpus = corpus();
    let root = corpus.join("webhooks");
    let mut generic = Vec::new();
    let mut parsed = 0;
    for path in files_under(&root) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let relative = path.strip_prefix(&root).unwrap().display().to_string();
        let name = relative.split('/').next().unwrap();
        let event = Event::parse(name, &std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{relative}: {e}"));
        parsed += 1;
        assert_eq!(event.name(), name, "{relative}");
        if !matches!(name, "ping") {
            assert!(event.repository().is_some(), "{relative}: no repository");
        }
        if let Some(c) = event.generic_comment() {
            let first_line = c.body.lines().next().unwrap_or_default().to_owned();
            generic.push(format!(
                "{relative}: {:?} pr={} #{} by {}: {first_line:?}",
                c.action, c.is_pr, c.number, c.user.login
            ));
        }
    }
    assert!(parsed >= 100, "only {parsed} payloads");
    insta::assert_snapshot!("corpus-generic-comments", generic.join("\n"));
}
