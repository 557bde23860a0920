//! Webhook request validation: Prow's order of checks, statuses and wording.

use std::collections::BTreeMap;

use prow_github::webhook::MAX_PAYLOAD_BYTES;
use prow_github::{HmacSecrets, sign, validate_webhook};

fn check(method: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
    let headers: BTreeMap<String, &str> = headers
        .iter()
        .map(|(k, v)| (k.to_lowercase(), *v))
        .collect();
    let secrets = HmacSecrets::parse(b"abcde12345");
    match validate_webhook(
        method,
        |name| headers.get(&name.to_lowercase()).copied(),
        body,
        &secrets,
    ) {
        Ok(d) => format!("200 {} {} {}", d.event, d.guid, d.payload.len()),
        Err(r) => format!("{} {r}", r.status()),
    }
}

#[test]
fn requests_are_checked_in_prows_order() {
    let body = br#"{"repository":{"full_name":"o/r"}}"#;
    let sig = sign(body, b"abcde12345");
    let all = [
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ("X-Hub-Signature-256", sig.as_str()),
        ("Content-Type", "application/json"),
    ];
    let without = |name: &str| -> Vec<(&str, &str)> {
        all.iter().copied().filter(|(n, _)| *n != name).collect()
    };
    let cases = [
        check("GET", &all, body),
        check("POST", &without("X-GitHub-Event"), body),
        check("POST", &without("X-GitHub-Delivery"), body),
        check("POST", &without("X-Hub-Signature-256"), body),
        check("POST", &without("Content-Type"), body),
        check(
            "POST",
            &[
                all[0],
                all[1],
                all[2],
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body,
        ),
        check(
            "POST",
            &[all[0], all[1], ("X-Hub-Signature-256", "sha256=00"), all[3]],
            body,
        ),
        check("POST", &all, b"{oops"),
        check("POST", &all, &vec![b' '; MAX_PAYLOAD_BYTES + 1]),
        check("POST", &all, body),
    ];
    insta::assert_snapshot!(cases.join("\n"), @r"
    405 405 Method not allowed
    400 400 Bad Request: Missing X-GitHub-Event Header
    400 400 Bad Request: Missing X-GitHub-Delivery Header
    403 403 Forbidden: Missing X-Hub-Signature-256
    400 400 Bad Request: Hook only accepts content-type: application/json - please reconfigure this hook on GitHub
    400 400 Bad Request: Hook only accepts content-type: application/json - please reconfigure this hook on GitHub
    403 403 Forbidden: Invalid X-Hub-Signature-256 - misconfigured webhook secret from organization/repo: o/r
    403 403 Forbidden: Invalid X-Hub-Signature-256 - invalid payload
    413 413 Payload Too Large
    200 push 72d3162e-cc78-11e3-81ab-4c9367dc0958 34
    ");
}

/// The one-pass check agrees with Prow's two-pass one on every real payload: same acceptance,
/// same refusal reason, and the event it returns is the event `Event::parse` reads.
#[test]
#[cfg_attr(no_corpus, ignore = "corpus absent")]
fn verify_and_parse_agrees_with_validate_payload_on_the_corpus() {
    let corpus = crate::support::corpus();
    let roots = [
        corpus.join("webhooks"),
        corpus.join("prow-testdata/cmd/phony/examples"),
    ];
    // One legacy token and a file of only `*` take the one-pass read; per-repository secrets
    // take the two-pass one.
    let secret_files: [&[u8]; 3] = [
        b"right",
        b"'*':\n- value: right\n",
        b"'*':\n- value: right\nsome-org:\n- value: right\n",
    ];
    let mut checked = 0;
    for secrets in secret_files.map(prow_github::HmacSecrets::parse) {
        for root in &roots {
            for path in crate::support::files_under(root) {
                if path.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let payload = std::fs::read(&path).unwrap();
                // The octokit corpus is filed by event name; phony's examples name it in the file.
                let relative = path.strip_prefix(root).unwrap().display().to_string();
                let name = if relative.contains('/') {
                    relative.split('/').next().unwrap().to_owned()
                } else {
                    continue;
                };
                for key in [&b"right"[..], b"wrong"] {
                    let signature = prow_github::sign(&payload, key);
                    let two_pass = prow_github::validate_payload(&payload, &signature, &secrets);
                    let one_pass =
                        prow_github::verify_and_parse(&name, &payload, &signature, &secrets);
                    match (two_pass, one_pass) {
                        (Ok(()), Ok(Ok(event))) => {
                            assert_eq!(
                                event,
                                prow_github::Event::parse(&name, &payload).unwrap(),
                                "{relative}"
                            )
                        }
                        (Err(reason), Err(rejection)) => assert_eq!(
                            rejection.to_string(),
                            format!("403 Forbidden: Invalid X-Hub-Signature-256 - {reason}"),
                            "{relative}"
                        ),
                        (two, one) => panic!("{relative}: two-pass {two:?}, one-pass {one:?}"),
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 600, "only {checked} checks");
}

/// What Prow's hook answers, read the two-pass way: the owner read and the signature, then the
/// typed event. `verify_and_parse` must answer the same whichever way it reads.
fn two_pass(name: &str, payload: &[u8], signature: &str, secrets: &HmacSecrets) -> String {
    match prow_github::validate_payload(payload, signature, secrets) {
        Err(reason) => format!("403 Forbidden: Invalid X-Hub-Signature-256 - {reason}"),
        Ok(()) => match prow_github::Event::parse(name, payload) {
            Ok(event) => format!("accepted {event:?}"),
            Err(e) => format!("400 {e}"),
        },
    }
}

fn one_pass(name: &str, payload: &[u8], signature: &str, secrets: &HmacSecrets) -> String {
    match prow_github::verify_and_parse(name, payload, signature, secrets) {
        Err(rejection) => rejection.to_string(),
        Ok(Ok(event)) => format!("accepted {event:?}"),
        Ok(Err(e)) => format!("400 {e}"),
    }
}

/// JSON values of every shape, for the fields Prow's owner read is strict about.
fn any_json() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        Just("null".to_owned()),
        Just("7".to_owned()),
        Just("true".to_owned()),
        Just("\"o/r\"".to_owned()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just(r#"{"login":"o"}"#.to_owned()),
        Just(r#"{"login":null}"#.to_owned()),
        Just(r#"{"login":5}"#.to_owned()),
        Just(r#"{"full_name":"o/r","name":"r","owner":{"login":"o"}}"#.to_owned()),
        Just(r#"{"full_name":5}"#.to_owned()),
        Just(r#"{"full_name":null}"#.to_owned()),
        Just(r#"{"full_name":"","owner":[]}"#.to_owned()),
        Just(r#"{"full_name":"o\/r"}"#.to_owned()),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    /// Whatever `organization` and `repository` hold, under any kind of secrets file, signed
    /// right or wrong, and whatever follows the object, the one-pass read answers exactly what
    /// the two-pass read does.
    #[test]
    fn one_pass_answers_as_two_pass(
        name in proptest::sample::select(vec!["issue_comment", "push", "status", "check_run", "ping", "release"]),
        organization in proptest::option::of(any_json()),
        repository in proptest::option::of(any_json()),
        escaped_key in proptest::bool::ANY,
        duplicate in proptest::bool::ANY,
        tail in proptest::sample::select(vec!["", " ", "\n", "x", "{}"]),
        secrets in proptest::sample::select(vec![
            &b"right"[..],
            b"'*':\n- value: right\n",
            b"'*':\n- value: right\no:\n- value: other\n",
            b"o/r:\n- value: right\n",
        ]),
        signed_right in proptest::bool::ANY,
    ) {
        let mut fields = vec![r#""action":"created""#.to_owned(), r#""sha":"abc""#.to_owned()];
        if let Some(organization) = organization {
            let key = if escaped_key { r#""organi\u007ation""# } else { r#""organization""# };
            fields.push(format!("{key}:{organization}"));
            if duplicate {
                fields.push(format!("{key}:{organization}"));
            }
        }
        if let Some(repository) = repository {
            fields.push(format!(r#""repository":{repository}"#));
        }
        let payload = format!("{{{}}}{tail}", fields.join(","));
        let secrets = HmacSecrets::parse(secrets);
        let signature = sign(payload.as_bytes(), if signed_right { b"right" } else { b"wrong" });
        proptest::prop_assert_eq!(
            one_pass(name, payload.as_bytes(), &signature, &secrets),
            two_pass(name, payload.as_bytes(), &signature, &secrets),
            "{}", payload
        );
    }
}

#[test]
fn a_signed_payload_prow_cannot_read_for_its_owner_is_refused_as_prow_refuses_it() {
    let secrets = HmacSecrets::parse(b"right");
    let answer = |payload: &str| {
        one_pass(
            "issue_comment",
            payload.as_bytes(),
            &sign(payload.as_bytes(), b"right"),
            &secrets,
        )
    };
    // Prow's owner read refuses these before it looks at the signature; the typed event alone
    // would take the first (it keeps no `organization`).
    assert_eq!(
        answer(r#"{"action":"created","organization":7}"#),
        "403 Forbidden: Invalid X-Hub-Signature-256 - invalid payload"
    );
    assert_eq!(
        answer(r#"[{"action":"created"}]"#),
        "403 Forbidden: Invalid X-Hub-Signature-256 - invalid payload"
    );
    // A payload the owner read takes and the event does not is a bad event, not a bad
    // signature.
    assert!(
        answer(r#"{"action":7,"organization":{"login":"o"}}"#).starts_with("400 "),
        "{}",
        answer(r#"{"action":7}"#)
    );
    assert!(
        answer(r#"{"action":"created","organization":{"login":"o"}}"#).starts_with("accepted ")
    );
}
