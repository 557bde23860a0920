//! Pod and ProwJob labels: truncation, sanitising and precedence.

use std::collections::BTreeMap;

use proptest::prelude::*;
use prow_core::ProwJobSpec;
use prow_core::labels::{CONTEXT, PROW_JOB_NAME};
use prow_jobs::labels::{is_valid_label_value, labels_and_annotations_for_spec};
use serde_json::{Value, json};

fn spec(job: &str, context: &str, extra: Value) -> ProwJobSpec {
    let mut spec = json!({"type": "postsubmit", "job": job, "context": context});
    for (k, v) in extra.as_object().expect("object") {
        spec[k] = v.clone();
    }
    serde_json::from_value(spec).expect("spec")
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Labels of `spec` with `extra` labels, compared with `expected` in full; annotations must
/// hold the job and context in full.
fn check(spec: ProwJobSpec, extra: &[(&str, &str)], expected: &[(&str, &str)]) {
    let (labels, annotations) =
        labels_and_annotations_for_spec(&spec, &map(extra), &BTreeMap::new());
    assert_eq!(labels, map(expected), "labels of job {:?}", spec.job);
    assert_eq!(annotations[PROW_JOB_NAME], spec.job);
    assert_eq!(annotations[CONTEXT], spec.context);
}

const BASE: [(&str, &str); 2] = [
    ("created-by-prow", "true"),
    ("prow.k8s.io/type", "postsubmit"),
];

fn with_base<'a>(rest: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    BASE.iter().copied().chain(rest.iter().copied()).collect()
}

#[test]
fn labels_table() {
    let long = format!("{}-_.{}", "a".repeat(60), "b".repeat(10));
    check(
        spec(&long, "ctx", json!({})),
        &[],
        &with_base(&[
            ("prow.k8s.io/job", &"a".repeat(60)),
            ("prow.k8s.io/context", "ctx"),
        ]),
    );
    // Slashes are not allowed in label values: the last path element is used instead.
    check(
        spec("ci/kubernetes/e2e", "", json!({})),
        &[],
        &with_base(&[("prow.k8s.io/job", "e2e"), ("prow.k8s.io/context", "")]),
    );
    // User labels override Prow's; ones that cannot be fixed are dropped.
    check(
        spec("job", "ctx", json!({})),
        &[
            ("prow.k8s.io/type", "custom"),
            ("bad", "a b"),
            ("path", "x/y/"),
        ],
        &[
            ("created-by-prow", "true"),
            ("prow.k8s.io/type", "custom"),
            ("prow.k8s.io/job", "job"),
            ("prow.k8s.io/context", "ctx"),
            ("path", "y"),
        ],
    );
    // Without refs, the first extra refs name the repository.
    check(
        spec(
            "job",
            "ctx",
            json!({"extra_refs": [{"org": "o", "repo": "r", "base_ref": "release/1.0"}]}),
        ),
        &[],
        &with_base(&[
            ("prow.k8s.io/job", "job"),
            ("prow.k8s.io/context", "ctx"),
            ("prow.k8s.io/refs.org", "o"),
            ("prow.k8s.io/refs.repo", "r"),
            ("prow.k8s.io/refs.base_ref", "1.0"),
        ]),
    );
    // A cut through a multi-byte character leaves an invalid value, which Prow drops.
    let wide = format!("{}é", "a".repeat(62));
    check(
        spec(&wide, "ctx", json!({})),
        &[],
        &with_base(&[("prow.k8s.io/context", "ctx")]),
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn proptest_label_values_are_always_valid(
        job in "[a-zA-Z0-9._/ -]{0,90}",
        extra in "[a-zA-Z0-9._/:-]{0,70}",
    ) {
        let spec = spec(&job, "context", json!({}));
        let (labels, annotations) = labels_and_annotations_for_spec(
            &spec,
            &map(&[("extra", &extra)]),
            &BTreeMap::new(),
        );
        for value in labels.values() {
            prop_assert!(is_valid_label_value(value.as_bytes()), "{value:?}");
        }
        prop_assert_eq!(&annotations[PROW_JOB_NAME], &job);
        // The job label is the name (cut and trimmed), a path element of it, or absent.
        if let Some(label) = labels.get(PROW_JOB_NAME) {
            prop_assert!(job.contains(label.as_str()), "{label:?} from {job:?}");
        }
        if job.len() <= 63 && is_valid_label_value(job.as_bytes()) {
            prop_assert_eq!(&labels[PROW_JOB_NAME], &job);
        }
        if is_valid_label_value(extra.as_bytes()) {
            prop_assert_eq!(&labels["extra"], &extra);
        }
    }
}
