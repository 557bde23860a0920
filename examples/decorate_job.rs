//! Turn a configured presubmit into the ProwJob trigger would create for a pull request, then
//! into the decorated Pod plank would run (clonerefs, initupload, entrypoint and sidecar
//! around the job's container).
//!
//! Run: `cargo run -p prow-examples --example decorate_job` (prints the Pod as YAML).

use std::path::Path;

use prow_core::k8s_openapi::api::core::v1::Pod;

/// The Pod for build `build_id` of presubmit `job` of `example-org/example-repo` (from the
/// configuration under `dir`) on pull request #7.
pub fn pod_for(dir: &Path, job: &str, build_id: &str) -> anyhow::Result<Pod> {
    let config = prow_config::load(&prow_config::LoadOptions::new(
        dir.join("config.yaml"),
        Some(dir.join("jobs")),
    ))?;
    let presubmit = config
        .jobs
        .presubmits
        .values()
        .flatten()
        .find(|p| p.name == job)
        .ok_or_else(|| anyhow::anyhow!("no presubmit {job:?} under {}", dir.display()))?;
    // The refs name the repository, the base and the pull request to merge onto it.
    let pull = prow_core::Pull {
        number: 7,
        author: "octocat".into(),
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        ..prow_core::Pull::default()
    };
    let refs = prow_jobs::pjutil::pull_refs(
        "example-org",
        "example-repo",
        "main",
        "89abcdef0123456789abcdef0123456789abcdef",
        pull,
    );
    // The ProwJob spec carries the decoration settings defaulted from `plank` in config.yaml.
    let spec = prow_jobs::pjutil::presubmit_spec(presubmit, refs)?;
    let mut prowjob = prow_core::ProwJob::new("example-prowjob", spec);
    prowjob.metadata.namespace = Some(config.prow.prowjob_namespace.clone());
    Ok(prow_jobs::decorate::prow_job_to_pod(&prowjob, build_id)?)
}

fn main() -> anyhow::Result<()> {
    let job = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "pull-example-unit".to_owned());
    let pod = pod_for(Path::new("examples/config"), &job, "1")?;
    print!("{}", serde_yaml::to_string(&pod)?);
    Ok(())
}
