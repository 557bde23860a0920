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
    let secrets = prow_github::HmacSecrets::parse(b"right");
    let mut checked = 0;
    for root in roots {
        for path in crate::support::files_under(&root) {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let payload = std::fs::read(&path).unwrap();
            // The octokit corpus is filed by event name; phony's examples name it in the file.
            let relative = path.strip_prefix(&root).unwrap().display().to_string();
            let name = if relative.contains('/') {
                relative.split('/').next().unwrap().to_owned()
            } else {
                continue;
            };
            for key in [&b"right"[..], b"wrong"] {
                let signature = prow_github::sign(&payload, key);
                let two_pass = prow_github::validate_payload(&payload, &signature, &secrets);
                let one_pass = prow_github::verify_and_parse(&name, &payload, &signature, &secrets);
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
    assert!(checked >= 200, "only {checked} checks");
}
