//! Build a presubmit ProwJob in code, print it as YAML, and read it back.

use prow_core::{ProwJob, ProwJobSpec, ProwJobType, Pull, Refs};

fn main() -> anyhow::Result<()> {
    let refs = Refs {
        org: "kubernetes".into(),
        repo: "test-infra".into(),
        base_ref: "master".into(),
        base_sha: "8c2d5a1".into(),
        pulls: vec![Pull {
            number: 42,
            author: "octocat".into(),
            sha: "f00dfeed".into(),
            ..Pull::default()
        }],
        ..Refs::default()
    };
    let mut job = ProwJob::new(
        "4c7d1f2e-0000-4000-8000-000000000000",
        ProwJobSpec {
            job_type: ProwJobType::Presubmit,
            agent: prow_core::ProwJobAgent::Kubernetes,
            cluster: String::new(),
            namespace: "test-pods".into(),
            job: "pull-test-infra-unit".into(),
            refs: Some(refs),
            extra_refs: vec![],
            report: true,
            context: "pull-test-infra-unit".into(),
            rerun_command: "/test pull-test-infra-unit".into(),
            max_concurrency: 0,
            error_on_eviction: false,
            pod_spec: Some(Default::default()),
            jenkins_spec: None,
            pipeline_run_spec: None,
            tekton_pipeline_run_spec: None,
            decoration_config: None,
            reporter_config: None,
            rerun_auth_config: None,
            hidden: false,
            prowjob_defaults: None,
            job_queue_name: String::new(),
        },
    );
    job.status = Some(Default::default());
    let yaml = prow_core::prowjob_to_yaml(&job)?;
    print!("{yaml}");
    let back = prow_core::prowjob_from_yaml(&yaml)?.value;
    assert_eq!(back, job);
    eprintln!(
        "PULL_REFS={}",
        back.spec
            .refs
            .as_ref()
            .map(Refs::pull_refs)
            .unwrap_or_default()
    );
    Ok(())
}
