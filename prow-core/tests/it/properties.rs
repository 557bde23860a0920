//! Property tests for the parsers: durations and the `PULL_REFS` string form.

use proptest::prelude::*;
use prow_core::{Duration, Pull, Refs};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any duration prints as a string that parses back to the same duration.
    #[test]
    fn proptest_duration_print_parse(nanos in any::<i64>()) {
        let d = Duration::from_nanos(nanos);
        let printed = d.to_string();
        prop_assert_eq!(Duration::parse(&printed), Ok(d), "{}", printed);
    }

    /// Any accepted duration string survives parse → print → parse.
    #[test]
    fn proptest_duration_parse_print_parse(
        text in "[-+]?(([0-9]{1,6}(\\.[0-9]{0,4})?|\\.[0-9]{1,4})(ns|us|µs|ms|s|m|h)){1,4}"
    ) {
        let first = Duration::parse(&text).unwrap();
        let again = Duration::parse(&first.to_string()).unwrap();
        prop_assert_eq!(first, again);
    }

    /// Arbitrary text never panics the parser.
    #[test]
    fn proptest_duration_never_panics(text in ".{0,24}") {
        let _ = Duration::parse(&text);
    }

    /// Refs → PULL_REFS → Refs gives back the base and every pull.
    #[test]
    fn proptest_pull_refs_round_trip(
        base_ref in "[a-zA-Z0-9._/-]{0,20}",
        base_sha in "([0-9a-f]{7,40})?",
        pulls in prop::collection::vec(
            (any::<u64>(), "[0-9a-f]{0,40}", "(refs/[a-z0-9/]{1,20})?"), 0..5),
    ) {
        let refs = Refs {
            org: "org".into(),
            repo: "repo".into(),
            base_ref,
            base_sha,
            pulls: pulls
                .into_iter()
                .map(|(number, sha, git_ref)| Pull { number, sha, git_ref, ..Pull::default() })
                .collect(),
            ..Refs::default()
        };
        let text = refs.pull_refs();
        prop_assert_eq!(Refs::parse_pull_refs("org", "repo", &text), Ok(refs), "{}", text);
    }
}
