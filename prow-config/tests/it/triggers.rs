//! Prow's default trigger regex: `/test <name>` and `/test all`-style comments.

use proptest::prelude::*;
use regex::Regex;

use prow_config::default_trigger_for;

fn check(name: &str, comment: &str, expected: bool) {
    let re = Regex::new(&default_trigger_for(name)).expect("trigger compiles");
    assert_eq!(re.is_match(comment), expected, "{name:?} on {comment:?}");
}

#[test]
fn default_trigger_table() {
    for (name, comment, expected) in [
        ("unit", "/test unit", true),
        ("unit", "/test unit\n", true),
        ("unit", "hello\n/test unit", true),
        ("unit", "/test e2e unit", true),
        ("unit", "/test unit, e2e", true),
        ("unit", "/test units", false),
        ("unit", "/retest", false),
        ("unit", " /test unit", false),
        // The name is not escaped, as upstream: `.` matches any character.
        ("pull-a.b", "/test pull-aXb", true),
    ] {
        check(name, comment, expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proptest_default_trigger_matches_its_rerun_command(name in "[A-Za-z0-9_-][A-Za-z0-9._-]{0,40}") {
        let re = Regex::new(&default_trigger_for(&name)).expect("trigger compiles");
        let comment = format!("/test {name}");
        prop_assert!(re.is_match(&comment));
    }
}
