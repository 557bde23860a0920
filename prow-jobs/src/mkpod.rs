//! mkpod: the pod a ProwJob would run as, for inspection or for running by hand (`kubectl`,
//! kind), like Prow's `mkpod`.

use k8s_openapi::api::core::v1::{EmptyDirVolumeSource, HostPathVolumeSource, Pod, Volume};
use prow_core::ProwJob;
use prow_core::buildid::Snowflake;
use prow_core::k8s_openapi;
use prow_core::labels::CREATED_BY_PROW;

use crate::decorate::{prow_job_to_pod, prow_job_to_pod_local};
use crate::error::Error;

/// The build ID for a pod: the one asked for, `snowflake` for a fresh one, else the job's own.
pub fn build_id_for(job: &ProwJob, requested: &str) -> String {
    if requested.eq_ignore_ascii_case("snowflake") {
        return Snowflake::new(1).next_build_id();
    }
    if !requested.is_empty() {
        return requested.to_owned();
    }
    job.status
        .as_ref()
        .map(|s| s.build_id.clone())
        .unwrap_or_default()
}

/// The pod for `job`; with `local_output_dir`, results are copied to that host directory
/// instead of uploaded. The `created-by-prow` label is dropped so sinker leaves it alone.
pub fn make_pod(
    job: &ProwJob,
    build_id: &str,
    local_output_dir: Option<&str>,
) -> Result<Pod, Error> {
    let mut job = job.clone();
    job.status.get_or_insert_with(Default::default).build_id = build_id.to_owned();
    let mut pod = match local_output_dir {
        Some(dir) => prow_job_to_pod_local(&job, build_id, dir)?,
        None => prow_job_to_pod(&job, build_id)?,
    };
    if let Some(labels) = pod.metadata.labels.as_mut() {
        labels.remove(CREATED_BY_PROW);
    }
    Ok(pod)
}

/// Volumes a local run cannot provide as they are: neither `emptyDir` nor `hostPath`.
pub fn non_local_volumes(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter(|v| v.empty_dir.is_none() && v.host_path.is_none())
        .map(|v| v.name.clone())
        .collect()
}

/// What to do with a volume a local run cannot provide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeChoice {
    /// Keep the volume source and assume the cluster has it.
    Keep,
    /// Replace it with an empty directory.
    EmptyDir,
    /// Replace it with this host path.
    HostPath(String),
}

impl VolumeChoice {
    /// Reads an answer to mkpod's prompt: empty keeps, `empty`/`emptyDir` empties, anything
    /// else is a host path.
    pub fn parse(answer: &str) -> Self {
        let answer = answer.trim();
        if answer.is_empty() {
            VolumeChoice::Keep
        } else if answer == "empty" || answer.eq_ignore_ascii_case("emptydir") {
            VolumeChoice::EmptyDir
        } else {
            VolumeChoice::HostPath(answer.to_owned())
        }
    }
}

/// Applies `choice` to the volume `name` of `pod`.
pub fn apply_volume_choice(pod: &mut Pod, name: &str, choice: &VolumeChoice) {
    let volumes = pod
        .spec
        .iter_mut()
        .flat_map(|s| s.volumes.iter_mut().flatten());
    for volume in volumes.filter(|v| v.name == name) {
        let replacement = match choice {
            VolumeChoice::Keep => continue,
            VolumeChoice::EmptyDir => Volume {
                name: volume.name.clone(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            },
            VolumeChoice::HostPath(path) => Volume {
                name: volume.name.clone(),
                host_path: Some(HostPathVolumeSource {
                    path: path.clone(),
                    ..HostPathVolumeSource::default()
                }),
                ..Volume::default()
            },
        };
        *volume = replacement;
    }
}
