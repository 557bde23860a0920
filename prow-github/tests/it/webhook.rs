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
