//! Reading a Kubernetes Pod as plank does: its phase, why it stopped, and whether it succeeded.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use prow_core::k8s_openapi;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::labels::{PROW_BUILD_ID, PROW_JOB_ID};

use crate::runner::{PodPhase, PodStatus, StopCause};

/// `status.reason` of a pod its node evicted.
pub const EVICTED_REASON: &str = "Evicted";
/// `status.reason` of a pod whose kubelet stopped answering (Kubernetes' `NodeLost`).
pub const NODE_UNREACHABLE_REASON: &str = "NodeLost";
/// A terminated container's `reason` when the kernel killed it for memory.
pub const OOM_KILLED_REASON: &str = "OOMKilled";

fn phase(pod: &Pod) -> PodPhase {
    match pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
    {
        "Running" => PodPhase::Running,
        "Succeeded" => PodPhase::Succeeded,
        "Failed" => PodPhase::Failed,
        "Unknown" => PodPhase::Unknown,
        // An empty phase is a pod the API server has accepted and nothing has looked at yet.
        "Pending" | "" => PodPhase::Pending,
        _ => PodPhase::Unknown,
    }
}

fn containers(pod: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    let status = pod.status.as_ref();
    let main = status.and_then(|s| s.container_statuses.as_deref());
    let init = status.and_then(|s| s.init_container_statuses.as_deref());
    main.into_iter().chain(init).flatten()
}

/// Why the pod stopped without finishing, in upstream's order of checks
/// (`getPodUnexpectedStopCause`): evicted, then unreachable while being deleted, then a
/// container killed for memory while the pod runs, then the `Unknown` phase.
fn stop_cause(pod: &Pod, phase: PodPhase) -> Option<StopCause> {
    let reason = pod
        .status
        .as_ref()
        .and_then(|s| s.reason.as_deref())
        .unwrap_or("");
    if reason == EVICTED_REASON {
        return Some(StopCause::Evicted);
    }
    if reason == NODE_UNREACHABLE_REASON && pod.metadata.deletion_timestamp.is_some() {
        return Some(StopCause::Unreachable);
    }
    if phase == PodPhase::Running
        && containers(pod).any(|c| {
            c.state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .is_some_and(|t| t.reason.as_deref() == Some(OOM_KILLED_REASON))
        })
    {
        return Some(StopCause::OomKilled);
    }
    (phase == PodPhase::Unknown).then_some(StopCause::Unknown)
}

/// Whether every container, init containers included, terminated with exit code 0 at a known
/// time (upstream's `didPodSucceed`, wary of pods reported succeeded too early).
fn all_succeeded(pod: &Pod) -> bool {
    containers(pod).all(|c| {
        c.state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .is_some_and(|t| t.exit_code == 0 && t.finished_at.is_some())
    })
}

fn last_finished(pod: &Pod) -> Option<Timestamp> {
    containers(pod)
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref())
        .map(|t| t.0)
        .max()
}

/// What plank needs to know about `pod`, or `None` for a pod without a name or creation time
/// (which the API server never returns).
///
/// The job is the pod's `prow.k8s.io/id` label (its name when the label is missing) and the
/// build its `prow.k8s.io/build-id` label. `place` stays empty: Prow's plank does not rewrite a
/// running job's description, and neither does ours for Kubernetes pods.
pub fn pod_status(pod: &Pod) -> Option<PodStatus> {
    let name = pod.metadata.name.clone()?;
    let created = pod.metadata.creation_timestamp.as_ref()?.0;
    let labels = pod.metadata.labels.as_ref();
    let label = |key: &str| labels.and_then(|l| l.get(key)).cloned();
    let phase = phase(pod);
    let mut status = PodStatus::new(
        name.clone(),
        label(PROW_JOB_ID).unwrap_or(name),
        label(PROW_BUILD_ID).unwrap_or_default(),
        phase,
        created,
    );
    status.started = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0);
    status.finished = matches!(phase, PodPhase::Succeeded | PodPhase::Failed)
        .then(|| last_finished(pod))
        .flatten();
    status.stop_cause = stop_cause(pod, phase);
    status.deleting = pod.metadata.deletion_timestamp.is_some();
    status.all_containers_finished = phase == PodPhase::Succeeded && all_succeeded(pod);
    status.message = pod
        .status
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_default();
    Some(status)
}
