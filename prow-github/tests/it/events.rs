//! Webhook events over real payloads: every corpus body parses, comment-like ones generalise.

use prow_github::events::{CommentAction, Event};

use crate::support::{corpus_dir, files_under, fixture};

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
    assert_eq!(
        Event::parse("create", b"{}").unwrap(),
        Event::Other("create".into())
    );
}

/// Every body in the corpus parses as its event; the comment-like ones are listed.
#[test]
fn every_corpus_payload_parses() {
    let Some(corpus) = corpus_dir() else { return };
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
