//! Well-known label and annotation keys that Prow puts on ProwJobs and their pods.
//!
//! Every tool around Prow (deck, crier, sinker, `kubectl get -l`) selects by these, so the
//! strings are part of the compatibility contract.

/// Label on everything Prow creates; sinker only deletes pods that carry it.
pub const CREATED_BY_PROW: &str = "created-by-prow";
/// Label on jobs that tide triggered.
pub const CREATED_BY_TIDE: &str = "created-by-tide";
/// Label with the job type: `presubmit`, `postsubmit`, `periodic` or `batch`.
pub const PROW_JOB_TYPE: &str = "prow.k8s.io/type";
/// Label on pods with the name of the ProwJob they run.
pub const PROW_JOB_ID: &str = "prow.k8s.io/id";
/// Label on pods with the job's build ID.
pub const PROW_BUILD_ID: &str = "prow.k8s.io/build-id";
/// Annotation (and truncated label) with the job name.
pub const PROW_JOB_NAME: &str = "prow.k8s.io/job";
/// Annotation (and truncated label) with the job's status context.
pub const CONTEXT: &str = "prow.k8s.io/context";
/// Label with the version of Prow that decorated the pod.
pub const PLANK_VERSION: &str = "prow.k8s.io/plank-version";
/// Label with the org of the job's refs.
pub const ORG: &str = "prow.k8s.io/refs.org";
/// Label with the repo of the job's refs.
pub const REPO: &str = "prow.k8s.io/refs.repo";
/// Label with the base ref of the job's refs.
pub const BASE_REF: &str = "prow.k8s.io/refs.base_ref";
/// Label with the number of the first pull of the job's refs.
pub const PULL: &str = "prow.k8s.io/refs.pull";
/// Label on jobs created by `/retest` or `/retest-required`.
pub const RETEST: &str = "prow.k8s.io/retest";
/// Label with whether a presubmit is optional (`"true"`/`"false"`).
pub const IS_OPTIONAL: &str = "prow.k8s.io/is-optional";
/// Label counting re-runs of a periodic with `retry` configured.
pub const RE_RUN: &str = "prow.k8s.io/re-run";
/// Label with the Gerrit change ID.
pub const GERRIT_ID: &str = "prow.k8s.io/gerrit-id";
/// Annotation with the Gerrit instance URL.
pub const GERRIT_INSTANCE: &str = "prow.k8s.io/gerrit-instance";
/// Label with the SHA of the current Gerrit patchset.
pub const GERRIT_REVISION: &str = "prow.k8s.io/gerrit-revision";
/// Label with the number of the current Gerrit patchset.
pub const GERRIT_PATCHSET: &str = "prow.k8s.io/gerrit-patchset";
/// Label naming the Gerrit label that Prow votes on.
pub const GERRIT_REPORT_LABEL: &str = "prow.k8s.io/gerrit-report-label";
/// Label prefix with the webhook delivery that created a job: `event-GUID`.
pub const EVENT_GUID: &str = "event-GUID";

/// Longest label value Kubernetes accepts.
pub const MAX_LABEL_VALUE_LEN: usize = 63;

/// Makes `value` fit a label like Prow does: cut to 63 bytes, then trailing `.`, `_` and `-`
/// removed, since a label value must end with an alphanumeric character.
pub fn truncate_label_value(value: &str) -> &str {
    let mut end = value.len().min(MAX_LABEL_VALUE_LEN);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].trim_end_matches(['.', '_', '-'])
}

/// Artifact file names shared by the pod utilities, deck and crier.
pub mod files {
    /// Written when a job starts.
    pub const STARTED: &str = "started.json";
    /// Written when a job ends.
    pub const FINISHED: &str = "finished.json";
    /// The ProwJob as it was when the job ran.
    pub const PROW_JOB: &str = "prowjob.json";
    /// clonerefs' records of every git command.
    pub const CLONE_RECORDS: &str = "clone-records.json";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_cut_like_prow() {
        assert_eq!(truncate_label_value("short"), "short");
        let long = format!("{}-.x", "a".repeat(61));
        assert_eq!(truncate_label_value(&long), "a".repeat(61));
        assert_eq!(truncate_label_value(&"b".repeat(80)).len(), 63);
        // Never splits a character.
        let wide = "é".repeat(40);
        assert!(truncate_label_value(&wide).len() <= 63);
    }
}
