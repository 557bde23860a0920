//! Signing and verifying webhook payloads.

use proptest::prelude::*;
use prow_github::{HmacSecrets, sign, validate_payload};

use crate::support::{corpus, files_under, fixture};

#[test]
fn signatures_match_hmac_sha256_test_vectors() {
    // Computed independently (Python's hmac module).
    assert_eq!(
        sign(b"{}", b"abcde12345"),
        "sha256=58ef90db9a7b61ea65d8f24d75041308c94580ce375729ae70fecfb066963550"
    );
    assert_eq!(
        sign(b"The quick brown fox jumps over the lazy dog", b"key"),
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
}

const HIERARCHY: &str = r#"
kubernetes/test-infra:
- value: repo-old
  created_at: 2020-01-01T00:00:00Z
- value: repo-new
  created_at: 2021-01-01T00:00:00Z
kubernetes:
- value: org-token
'*':
- value: global-token
"#;

fn check(payload: &str, key: &str, expected: Result<(), &str>) {
    let secrets = HmacSecrets::parse(HIERARCHY.as_bytes());
    let signature = sign(payload.as_bytes(), key.as_bytes());
    assert_eq!(
        validate_payload(payload.as_bytes(), &signature, &secrets),
        expected.map_err(str::to_owned),
        "{payload} signed with {key}"
    );
}

#[test]
fn the_most_specific_level_decides_and_any_of_its_tokens_match() {
    let repo = r#"{"repository":{"full_name":"kubernetes/test-infra"}}"#;
    let other_repo = r#"{"repository":{"full_name":"kubernetes/kubernetes"}}"#;
    let org_event = r#"{"organization":{"login":"kubernetes"}}"#;
    let elsewhere = r#"{"repository":{"full_name":"acme/widget"}}"#;
    check(repo, "repo-old", Ok(()));
    check(repo, "repo-new", Ok(()));
    check(
        repo,
        "org-token",
        Err("misconfigured webhook secret from organization/repo: kubernetes/test-infra"),
    );
    check(other_repo, "org-token", Ok(()));
    check(
        other_repo,
        "global-token",
        Err("misconfigured webhook secret from organization/repo: kubernetes/kubernetes"),
    );
    check(org_event, "org-token", Ok(()));
    check(elsewhere, "global-token", Ok(()));
}

#[test]
fn malformed_signatures_and_payloads_are_refused() {
    let secrets = HmacSecrets::parse(b"abcde12345\n");
    assert_eq!(secrets, HmacSecrets::Single(b"abcde12345".to_vec()));
    let good = sign(b"{}", b"abcde12345");
    assert_eq!(validate_payload(b"{}", &good, &secrets), Ok(()));
    for (payload, signature, reason) in [
        (&b"not json"[..], good.as_str(), "invalid payload"),
        // Go's json.Unmarshal refuses anything but an object (or null) for its event struct.
        (b"[]", sign(b"[]", b"abcde12345").leak(), "invalid payload"),
        (
            b"\"x\"",
            sign(b"\"x\"", b"abcde12345").leak(),
            "invalid payload",
        ),
        (b"7", sign(b"7", b"abcde12345").leak(), "invalid payload"),
        (b"{}", "sha1=abc", "invalid signature"),
        (b"{}", "sha256=zz", "invalid signature"),
        (
            b"{}",
            "sha256=00",
            "misconfigured webhook secret from organization/repo: ",
        ),
    ] {
        assert_eq!(
            validate_payload(payload, signature, &secrets),
            Err(reason.to_owned())
        );
    }
    // `null` decodes to an empty event in Go, so only the signature decides.
    assert_eq!(
        validate_payload(b"null", &sign(b"null", b"abcde12345"), &secrets),
        Ok(())
    );
    let none = HmacSecrets::parse(b"");
    assert_eq!(
        validate_payload(b"{}", &good, &none),
        Err("failed to get an appropriate hmac secret".to_owned())
    );
}

#[test]
fn committed_real_payloads_validate_for_their_own_repository() {
    for (name, owner) in [
        ("webhooks/push-to-master.json", "kubernetes/test-infra"),
        ("webhooks/issue-comment-lgtm.json", "kubernetes/test-infra"),
        (
            "webhooks/check-suite-completed-in-org.json",
            "Codertocat/Hello-World",
        ),
    ] {
        let payload = fixture(name);
        let secrets = HmacSecrets::parse(
            format!("{owner}:\n- value: right\n'*':\n- value: wrong\n").as_bytes(),
        );
        assert_eq!(
            validate_payload(&payload, &sign(&payload, b"right"), &secrets),
            Ok(()),
            "{name}"
        );
        assert!(
            validate_payload(&payload, &sign(&payload, b"wrong"), &secrets).is_err(),
            "{name}"
        );
    }
}

#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn every_corpus_payload_validates_with_its_own_secret() {
    let corpus = corpus();
    let files: Vec<_> = files_under(&corpus.join("webhooks"))
        .into_iter()
        .chain(files_under(
            &corpus.join("prow-testdata/cmd/phony/examples"),
        ))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(
        files.len() >= 100,
        "expected the corpus's webhook bodies, found {}",
        files.len()
    );
    let secrets = HmacSecrets::parse(b"s3cret");
    for path in files {
        let payload = std::fs::read(&path).unwrap();
        assert_eq!(
            validate_payload(&payload, &sign(&payload, b"s3cret"), &secrets),
            Ok(()),
            "{}",
            path.display()
        );
        let mut tampered = payload.clone();
        tampered.push(b' ');
        assert!(
            validate_payload(&tampered, &sign(&payload, b"s3cret"), &secrets).is_err(),
            "{}",
            path.display()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A payload signed with the configured key always validates; with any other key, never.
    #[test]
    fn proptest_sign_then_validate(
        repo in "[a-z]{1,8}/[a-z]{1,8}",
        text in "[ -~]{0,64}",
        key in proptest::collection::vec(any::<u8>(), 1..40),
        other in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let payload = serde_json::json!({"repository": {"full_name": repo}, "text": text}).to_string();
        let secrets = HmacSecrets::Single(key.clone());
        prop_assert_eq!(validate_payload(payload.as_bytes(), &sign(payload.as_bytes(), &key), &secrets), Ok(()));
        if other != key {
            prop_assert!(validate_payload(payload.as_bytes(), &sign(payload.as_bytes(), &other), &secrets).is_err());
        }
    }

    /// Reading any secret file never panics, and a file that is not a token map is one token.
    #[test]
    fn proptest_secret_files_parse(content in proptest::collection::vec(any::<u8>(), 0..200)) {
        let secrets = HmacSecrets::parse(&content);
        let _ = secrets.tokens_for("org/repo");
    }
}

#[test]
fn rotated_tokens_are_tried_newest_first() {
    let secrets = HmacSecrets::parse(HIERARCHY.as_bytes());
    assert_eq!(
        secrets.tokens_for("kubernetes/test-infra").unwrap(),
        [&b"repo-new"[..], b"repo-old"]
    );
}
