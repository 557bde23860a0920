//! Webhook intake: verify the signature of a real `issue_comment` delivery and parse it.
//! Target (issue 7): at least 50,000 events/s on one core, i.e. at most 20 µs per event.

use prow_github::{Event, HmacSecrets, sign};

fn main() {
    divan::main();
}

/// A real 13.5 KB `issue_comment` body (`/lgtm` on kubernetes/test-infra), from upstream
/// phony's examples.
const PAYLOAD: &[u8] =
    include_bytes!("../../prow-github/tests/data/webhooks/issue-comment-lgtm.json");

/// A rotated secret: the old one is still accepted while GitHub signs with the new one.
fn secrets() -> HmacSecrets {
    HmacSecrets::parse(
        b"kubernetes/test-infra:\n\
          - value: old-secret\n  created_at: 2024-01-01T00:00:00Z\n\
          - value: new-secret\n  created_at: 2025-06-01T00:00:00Z\n\
          '*':\n- value: other\n",
    )
}

/// Prow's way: the signature check reads the owner from the JSON, then the event is parsed.
#[divan::bench]
fn validate_then_parse(bencher: divan::Bencher<'_, '_>) {
    let secrets = secrets();
    let signature = sign(PAYLOAD, b"new-secret");
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench(|| {
            prow_github::validate_payload(divan::black_box(PAYLOAD), &signature, &secrets).unwrap();
            Event::parse("issue_comment", PAYLOAD).unwrap()
        });
}

/// One pass: the parsed event names the repository whose secrets check the signature.
#[divan::bench]
fn verify_and_parse(bencher: divan::Bencher<'_, '_>) {
    let secrets = secrets();
    let signature = sign(PAYLOAD, b"new-secret");
    bencher
        .counter(divan::counter::ItemsCount::new(1usize))
        .bench(|| {
            prow_github::verify_and_parse(
                "issue_comment",
                divan::black_box(PAYLOAD),
                &signature,
                &secrets,
            )
            .unwrap()
            .unwrap()
        });
}

/// The HMAC-SHA256 alone, for scale.
#[divan::bench]
fn hmac_sha256_only() -> String {
    sign(divan::black_box(PAYLOAD), b"new-secret")
}
