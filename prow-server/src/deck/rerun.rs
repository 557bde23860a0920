//! The ProwJob a rerun creates: a copy of the old one's spec (Prow's default), or with
//! `mode=latest` the spec the current configuration gives the same job for the same refs.

use prow_config::JobConfig;
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::labels::{
    CREATED_BY_TIDE, EVENT_GUID, GERRIT_ID, GERRIT_INSTANCE, GERRIT_PATCHSET, GERRIT_REPORT_LABEL,
    GERRIT_REVISION,
};
use prow_core::{ProwJob, ProwJobType};
use prow_jobs::labels::Metadata;
use prow_jobs::pjutil;

/// Labels and annotations set by components (not the job's configuration), carried over to a
/// `latest` rerun.
const COMPONENT_KEYS: [&str; 7] = [
    GERRIT_REVISION,
    GERRIT_PATCHSET,
    GERRIT_REPORT_LABEL,
    EVENT_GUID,
    CREATED_BY_TIDE,
    GERRIT_ID,
    GERRIT_INSTANCE,
];

/// A new job (fresh name, `triggered` at `now`) running `old`'s spec with its labels and
/// annotations.
pub fn rerun_same(old: &ProwJob, now: Time) -> ProwJob {
    let labels = old.metadata.labels.clone().unwrap_or_default();
    let annotations = old.metadata.annotations.clone().unwrap_or_default();
    let labels: Metadata = labels.into_iter().collect();
    let annotations: Metadata = annotations.into_iter().collect();
    pjutil::new_prowjob(old.spec.clone(), &labels, &annotations, now)
}

/// A new job for `old`'s job name and refs with the spec today's `jobs` give it, keeping the
/// component-set labels and annotations (Prow's `mode=latest`). The error reads after
/// "failed getting prowjob spec: ".
pub fn rerun_latest(old: &ProwJob, jobs: &JobConfig, now: Time) -> Result<ProwJob, String> {
    let name = old.spec.job.as_str();
    let (spec, mut labels, mut annotations) = match old.spec.job_type {
        ProwJobType::Periodic => {
            let job = jobs
                .periodics
                .iter()
                .find(|p| p.name == name)
                .ok_or_else(|| format!("failed to find associated periodic job {name:?}"))?;
            let spec = pjutil::periodic_spec(job).map_err(|e| e.to_string())?;
            (spec, job.labels.clone(), job.annotations.clone())
        }
        ProwJobType::Presubmit | ProwJobType::Postsubmit => {
            let refs = verified_refs(old)?;
            let org_repo = format!("{}/{}", refs.org, refs.repo);
            let presubmit = old.spec.job_type == ProwJobType::Presubmit;
            let mut name_found = false;
            let mut found = Vec::new();
            if presubmit {
                for job in jobs.presubmits.get(&org_repo).into_iter().flatten() {
                    if job.name == name {
                        name_found = true;
                        if job.could_run(&refs.base_ref) {
                            found.push((
                                pjutil::presubmit_spec(job, refs.clone()),
                                &job.labels,
                                &job.annotations,
                            ));
                        }
                    }
                }
            } else {
                for job in jobs.postsubmits.get(&org_repo).into_iter().flatten() {
                    if job.name == name {
                        name_found = true;
                        if job.could_run(&refs.base_ref) {
                            found.push((
                                pjutil::postsubmit_spec(job, refs.clone()),
                                &job.labels,
                                &job.annotations,
                            ));
                        }
                    }
                }
            }
            match found.len() {
                0 if name_found => {
                    return Err(format!(
                        "found job {name:?}, but not allowed to run for orgRepo {org_repo:?}"
                    ));
                }
                0 => {
                    return Err(format!(
                        "failed to find job {name:?} for orgRepo {org_repo:?}"
                    ));
                }
                1 => {}
                _ => {
                    return Err(format!(
                        "{name} matches multiple prow jobs from orgRepo {org_repo:?}"
                    ));
                }
            }
            let (spec, labels, annotations) = found.remove(0);
            (
                spec.map_err(|e| e.to_string())?,
                labels.clone(),
                annotations.clone(),
            )
        }
        ProwJobType::Batch => {
            return Err(format!(
                "Could not create new prowjob: Invalid prowjob type: {:?}",
                old.spec.job_type.as_str()
            ));
        }
    };
    for (key, value) in old.metadata.labels.iter().flatten() {
        if COMPONENT_KEYS.contains(&key.as_str()) {
            labels.insert(key.clone(), value.clone());
        }
    }
    for (key, value) in old.metadata.annotations.iter().flatten() {
        if COMPONENT_KEYS.contains(&key.as_str()) {
            annotations.insert(key.clone(), value.clone());
        }
    }
    let labels: Metadata = labels.into_iter().collect();
    let annotations: Metadata = annotations.into_iter().collect();
    Ok(pjutil::new_prowjob(spec, &labels, &annotations, now))
}

fn verified_refs(job: &ProwJob) -> Result<prow_core::Refs, String> {
    let Some(refs) = &job.spec.refs else {
        return Err("Refs must be supplied".to_owned());
    };
    let mut missing = Vec::new();
    if refs.org.is_empty() {
        missing.push("org must be supplied");
    }
    if refs.repo.is_empty() {
        missing.push("repo must be supplied");
    }
    if refs.base_ref.is_empty() {
        missing.push("baseRef must be supplied");
    }
    if missing.is_empty() {
        Ok(refs.clone())
    } else {
        Err(missing.join(", "))
    }
}
