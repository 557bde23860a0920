//! The CustomResourceDefinition of `prowjobs.prow.k8s.io`, as upstream Prow installs it.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceSubresources,
};
use kube::CustomResourceExt;

use crate::prowjob::ProwJob;

/// The API-approval annotation that Kubernetes requires of CRDs in `*.k8s.io` groups; the value
/// is the pull request that approved Prow's API.
pub const API_APPROVED_ANNOTATION: (&str, &str) = (
    "api-approved.kubernetes.io",
    "https://github.com/kubernetes/test-infra/pull/8669",
);

/// The ProwJob CRD: group, names, scope and printer columns as upstream's, our schema, and no
/// status subresource (Prow writes status with ordinary updates).
pub fn prowjob_crd() -> CustomResourceDefinition {
    let mut crd = ProwJob::crd();
    crd.metadata.annotations = Some(BTreeMap::from([(
        API_APPROVED_ANNOTATION.0.to_owned(),
        API_APPROVED_ANNOTATION.1.to_owned(),
    )]));
    crd.spec.names.list_kind = Some("ProwJobList".to_owned());
    crd.spec.preserve_unknown_fields = Some(false);
    for version in &mut crd.spec.versions {
        version.subresources = Some(CustomResourceSubresources::default());
    }
    crd
}
