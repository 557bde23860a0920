//! The Kubernetes backend: ProwJobs as `prow.k8s.io/v1` custom resources and their Pods in
//! build clusters, through kube-rs.
//!
//! [`KubeStore`] is a [`JobStore`](crate::store::JobStore) over the ProwJobs of one namespace
//! (Prow's `prowjob_namespace`), so a real Prow's deck, crier and `kubectl get prowjobs` see
//! our jobs and we see theirs. [`KubeRunner`] is a [`Runner`](crate::runner::Runner) creating
//! decorated Pods in one build cluster's `pod_namespace`; [`BuildClusters`] picks the cluster
//! of each job by its `spec.cluster` alias. [`pod_status`] reads a Pod the way Prow's plank
//! does (`pkg/plank/reconciler.go`), so plank decides exactly as upstream.

mod clusters;
#[cfg(feature = "test-util")]
pub mod fake;
mod pod;
mod runner;
mod store;

pub use clusters::{BuildClusters, ClusterError, IN_CLUSTER_ALIAS, load_cluster_configs};
pub use pod::{EVICTED_REASON, NODE_UNREACHABLE_REASON, OOM_KILLED_REASON, pod_status};
pub use runner::{KubeRunner, PLANK_VERSION_VALUE};
pub use store::KubeStore;

/// Makes rustls's aws-lc-rs backend the process default unless one is chosen already:
/// with several backends linked in, rustls refuses to guess, and kube's TLS setup needs one.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread installing one is fine: there is a default.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// A client for the cluster `config` describes (see [`install_crypto_provider`]).
pub fn client(config: ::kube::Config) -> Result<::kube::Client, ::kube::Error> {
    install_crypto_provider();
    ::kube::Client::try_from(config)
}

/// The Kubernetes API's answer to a failed request, when the error is one.
fn api_status(error: &kube::Error) -> Option<&kube::core::Status> {
    match error {
        kube::Error::Api(status) => Some(status),
        _ => None,
    }
}

/// The HTTP status code of a failed API request (0 when the request never got an answer).
fn api_code(error: &kube::Error) -> u16 {
    api_status(error).map_or(0, |s| s.code)
}
