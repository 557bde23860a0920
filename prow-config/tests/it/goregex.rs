//! Go's regexes in Rust: upstream's patterns, translated, match what Go's `regexp` matches.

use proptest::prelude::*;
use prow_config::goregex::{compile, translate};

/// Go's `\s`, `\d` and `\w` (`regexp/syntax`'s Perl groups).
const GO_SPACE: &str = "\t\n\x0c\r ";

fn go_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn check(pattern: &str, text: &str, want: bool) {
    let re = compile(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
    assert_eq!(re.is_match(text), want, "{pattern:?} on {text:?}");
}

#[test]
fn perl_classes_and_word_boundaries_are_ascii_as_in_go() {
    let cases = [
        (r"^/lgtm\s*$", "/lgtm \t\r", true),
        (r"^/lgtm\s*$", "/lgtm\u{0b}", false),
        (r"^/lgtm\s*$", "/lgtm\u{a0}", false),
        (r"^/lgtm\s*$", "/lgtm\u{2003}", false),
        (r"^/x\S$", "/xé", true),
        (r"^\w+$", "bug_1", true),
        (r"^\w+$", "café", false),
        (r"^\W$", "é", true),
        (r"^\d$", "7", true),
        (r"^\d$", "٣", false),
        (r"^\D$", "٣", true),
        (r"^[^\s]+$", "a\u{a0}b", true),
        (r"^[-\w]+$", "sig-node", true),
        (r"^[-\w]+$", "sig-nödé", false),
        (r"(?m)^/(?:re)?test\b", "/testé", true),
        (r"(?m)^/(?:re)?test\b", "/testing", false),
        (r"^a\Bb$", "ab", true),
        // Case folding is Unicode in both: Go's `(?i)k` also matches the Kelvin sign.
        (r"(?i)^k$", "\u{212a}", true),
        (r"(?i)^\w$", "\u{212a}", true),
    ];
    for (pattern, text, want) in cases {
        check(pattern, text, want);
    }
}

#[test]
fn only_perl_classes_and_word_boundaries_are_rewritten() {
    let cases = [
        (
            r"(?mi)^/lgtm(?: no-issue)?\s*$",
            r"(?mi)^/lgtm(?: no-issue)?[\t\n\f\r ]*$",
        ),
        (r"[^\s]+", r"[^[\t\n\f\r ]]+"),
        (r"[-/\w]", r"[-/[0-9A-Za-z_]]"),
        (r"\\s\\\s", r"\\s\\[\t\n\f\r ]"),
        (r"\d\D\b\B", r"[0-9][^0-9](?-u:\b)(?-u:\B)"),
        (r"(?s)<!--(.*?)-->", r"(?s)<!--(.*?)-->"),
        (
            "(?msU)^```.*(\n```\n|\n```$)",
            "(?msU)^```.*(\n```\n|\n```$)",
        ),
        (r"[[:alpha:]]\pL", r"[[:alpha:]]\pL"),
    ];
    for (go, rust) in cases {
        assert_eq!(translate(go).unwrap(), rust, "{go}");
    }
    assert!(translate(r"(unclosed").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any character is `\s`, `\d`, `\w` exactly when Go says so, inside a class or not.
    #[test]
    fn proptest_perl_classes_match_gos_sets(c in any::<char>()) {
        let text = c.to_string();
        let space = GO_SPACE.contains(c);
        prop_assert_eq!(compile(r"^\s$").unwrap().is_match(&text), space);
        prop_assert_eq!(compile(r"^[\s]$").unwrap().is_match(&text), space);
        prop_assert_eq!(compile(r"^\S$").unwrap().is_match(&text), !space);
        prop_assert_eq!(compile(r"^[^\s]$").unwrap().is_match(&text), !space);
        prop_assert_eq!(compile(r"^\d$").unwrap().is_match(&text), c.is_ascii_digit());
        prop_assert_eq!(compile(r"^\w$").unwrap().is_match(&text), go_word(c));
        prop_assert_eq!(compile(r"^[-\w]$").unwrap().is_match(&text), go_word(c) || c == '-');
        prop_assert_eq!(compile(r"^\W$").unwrap().is_match(&text), !go_word(c));
    }
}

/// Compile errors read as Go's `regexp.Compile` words them (its `regexp/syntax` error codes).
#[test]
fn compile_errors_use_gos_wording() {
    for (pattern, go) in [
        ("(", "error parsing regexp: missing closing ): `(`"),
        ("a)", "error parsing regexp: unexpected ): `a)`"),
        ("x[ab", "error parsing regexp: missing closing ]: `[ab`"),
        (
            "*.go",
            "error parsing regexp: missing argument to repetition operator: `*`",
        ),
        (
            "[z-a]",
            "error parsing regexp: invalid character class range: `z-a`",
        ),
        (
            r"a\q",
            r"error parsing regexp: invalid escape sequence: `\q`",
        ),
        (
            "a\\",
            "error parsing regexp: trailing backslash at end of expression: ``",
        ),
        (
            "(?P<",
            "error parsing regexp: invalid named capture: `(?P<`",
        ),
    ] {
        assert_eq!(
            prow_config::goregex::go_error(pattern).as_deref(),
            Some(go),
            "{pattern}"
        );
    }
    assert_eq!(prow_config::goregex::go_error("^release-.*$"), None);
}
