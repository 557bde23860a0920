//! The labels and annotations Prow puts on ProwJobs and the pods that run them.

use std::collections::BTreeMap;

use prow_core::labels::{
    BASE_REF, CONTEXT, CREATED_BY_PROW, MAX_LABEL_VALUE_LEN, ORG, PROW_BUILD_ID, PROW_JOB_ID,
    PROW_JOB_NAME, PROW_JOB_TYPE, PULL, REPO,
};
use prow_core::{ProwJob, ProwJobSpec};

/// Labels and annotations, by key.
pub type Metadata = BTreeMap<String, String>;

/// The labels and annotations for anything made for a job `spec`.
///
/// Prow's own labels come first; `extra_labels` and `extra_annotations` override them. The job
/// name and context are kept in full as annotations and, cut to 63 bytes, as labels. Label
/// values Kubernetes would reject are replaced by their last path element when that is valid,
/// and dropped otherwise.
pub fn labels_and_annotations_for_spec(
    spec: &ProwJobSpec,
    extra_labels: &Metadata,
    extra_annotations: &Metadata,
) -> (Metadata, Metadata) {
    // Values are bytes until validated: Go cuts long values at a byte offset, which may split
    // a character, and such a value must then be rejected like Go rejects it.
    let mut labels: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut annotations = Metadata::new();
    labels.insert(CREATED_BY_PROW.to_owned(), b"true".to_vec());
    labels.insert(
        PROW_JOB_TYPE.to_owned(),
        spec.job_type.as_str().as_bytes().to_vec(),
    );
    for (key, value) in [(PROW_JOB_NAME, &spec.job), (CONTEXT, &spec.context)] {
        labels.insert(key.to_owned(), truncate(value.as_bytes()).to_vec());
        annotations.insert(key.to_owned(), value.clone());
    }
    if let Some(refs) = spec.main_refs() {
        labels.insert(ORG.to_owned(), refs.org.as_bytes().to_vec());
        labels.insert(REPO.to_owned(), refs.repo.as_bytes().to_vec());
        labels.insert(BASE_REF.to_owned(), refs.base_ref.as_bytes().to_vec());
        if let Some(pull) = refs.pulls.first() {
            labels.insert(PULL.to_owned(), pull.number.to_string().into_bytes());
        }
    }
    for (key, value) in extra_labels {
        labels.insert(key.clone(), value.as_bytes().to_vec());
    }
    let labels = labels
        .into_iter()
        .filter_map(|(key, value)| sanitize_label_value(&value).map(|v| (key, v)))
        .collect();
    for (key, value) in extra_annotations {
        annotations.insert(key.clone(), value.clone());
    }
    (labels, annotations)
}

/// The labels and annotations of the pod for `pj`'s build `build_id`: those of its spec, with
/// the ProwJob's own labels and annotations and the `prow.k8s.io/id` and
/// `prow.k8s.io/build-id` labels on top.
pub fn labels_and_annotations_for_job(pj: &ProwJob, build_id: &str) -> (Metadata, Metadata) {
    let mut extra_labels = pj.metadata.labels.clone().unwrap_or_default();
    let extra_annotations = pj.metadata.annotations.clone().unwrap_or_default();
    extra_labels.insert(PROW_JOB_ID.to_owned(), pj.name().to_owned());
    extra_labels.insert(PROW_BUILD_ID.to_owned(), build_id.to_owned());
    labels_and_annotations_for_spec(&pj.spec, &extra_labels, &extra_annotations)
}

/// Cuts a value to the longest label Kubernetes accepts and trims the trailing `.`, `_` and
/// `-` a label may not end with.
fn truncate(value: &[u8]) -> &[u8] {
    if value.len() <= MAX_LABEL_VALUE_LEN {
        return value;
    }
    let mut cut = &value[..MAX_LABEL_VALUE_LEN];
    while let [rest @ .., b'.' | b'_' | b'-'] = cut {
        cut = rest;
    }
    cut
}

/// A label value Kubernetes accepts made from `value`: itself, else its last path element,
/// else nothing.
pub fn sanitize_label_value(value: &[u8]) -> Option<String> {
    [value, go_base(value)]
        .into_iter()
        .find(|v| is_valid_label_value(v))
        // A valid value is ASCII.
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Whether Kubernetes accepts `value` as a label value: at most 63 bytes, empty or
/// alphanumeric at both ends with only alphanumerics, `-`, `_` and `.` between.
pub fn is_valid_label_value(value: &[u8]) -> bool {
    let Some((first, rest)) = value.split_first() else {
        return true;
    };
    let last = rest.last().unwrap_or(first);
    value.len() <= MAX_LABEL_VALUE_LEN
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Go's `filepath.Base` on Unix: the last element after trailing slashes are removed, `.` for
/// an empty path and `/` for one of only slashes.
fn go_base(path: &[u8]) -> &[u8] {
    if path.is_empty() {
        return b".";
    }
    let mut trimmed = path;
    while let [rest @ .., b'/'] = trimmed {
        trimmed = rest;
    }
    if trimmed.is_empty() {
        return b"/";
    }
    match trimmed.iter().rposition(|b| *b == b'/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_like_go() {
        for (input, want) in [
            ("", "."),
            ("///", "/"),
            ("a/b/", "b"),
            ("a", "a"),
            ("/x/y", "y"),
        ] {
            assert_eq!(go_base(input.as_bytes()), want.as_bytes(), "{input:?}");
        }
    }
}
