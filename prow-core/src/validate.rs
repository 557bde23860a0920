//! Checks a ProwJob against Prow's rules, listing every problem with its field path.

use std::collections::BTreeSet;

use crate::error::{Error, Problem};
use crate::prowjob::{DEFAULT_CLUSTER_ALIAS, ProwJob, ProwJobAgent, ProwJobType};

/// What the validator knows about the deployment.
#[derive(Debug, Clone, Default)]
pub struct ValidationContext {
    /// Build cluster aliases that exist; `None` skips the cluster check.
    pub known_clusters: Option<BTreeSet<String>>,
}

impl ValidationContext {
    /// A context that knows these build clusters.
    pub fn with_clusters<I, S>(clusters: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ValidationContext {
            known_clusters: Some(clusters.into_iter().map(Into::into).collect()),
        }
    }
}

impl ProwJob {
    /// Every problem with this ProwJob, as Prow's admission webhook and controllers see them.
    pub fn problems(&self, context: &ValidationContext) -> Vec<Problem> {
        let mut problems = Vec::new();
        let spec = &self.spec;
        if self.name().is_empty() {
            problems.push(Problem::new("metadata.name", "must be set"));
        }
        if spec.job.is_empty() {
            problems.push(Problem::new("spec.job", "must be set"));
        }
        let cluster_set = !spec.cluster.is_empty() && spec.cluster != DEFAULT_CLUSTER_ALIAS;
        if cluster_set && spec.agent == ProwJobAgent::Jenkins {
            problems.push(Problem::new(
                "spec.cluster",
                format!("cannot set cluster field if agent is {}", spec.agent),
            ));
        }
        if spec.agent == ProwJobAgent::Kubernetes {
            if let Some(known) = &context.known_clusters
                && !known.contains(self.cluster_alias())
            {
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                problems.push(Problem::new(
                    "spec.cluster",
                    format!(
                        "unknown build cluster {:?} for a kubernetes agent job (known clusters: {})",
                        self.cluster_alias(),
                        known.join(", ")
                    ),
                ));
            }
            if spec.pod_spec.is_none() {
                problems.push(Problem::new(
                    "spec.pod_spec",
                    "must be set for the kubernetes agent",
                ));
            }
        }
        match spec.job_type {
            ProwJobType::Presubmit | ProwJobType::Batch => match &spec.refs {
                None => problems.push(Problem::new(
                    "spec.refs",
                    format!("must be set for {} jobs", spec.job_type),
                )),
                Some(refs) if refs.pulls.is_empty() => problems.push(Problem::new(
                    "spec.refs.pulls",
                    format!("must list at least one pull for {} jobs", spec.job_type),
                )),
                Some(_) => {}
            },
            ProwJobType::Postsubmit if spec.refs.is_none() => {
                problems.push(Problem::new("spec.refs", "must be set for postsubmit jobs"))
            }
            _ => {}
        }
        for (i, refs) in spec.refs.iter().chain(&spec.extra_refs).enumerate() {
            let field = if spec.refs.is_some() && i == 0 {
                "spec.refs".to_owned()
            } else {
                let offset = usize::from(spec.refs.is_some());
                format!("spec.extra_refs[{}]", i - offset)
            };
            if refs.org.is_empty() {
                problems.push(Problem::new(format!("{field}.org"), "must be set"));
            }
            if refs.repo.is_empty() {
                problems.push(Problem::new(format!("{field}.repo"), "must be set"));
            }
        }
        if spec.max_concurrency < 0 {
            problems.push(Problem::new("spec.max_concurrency", "must not be negative"));
        }
        if let Some(decoration) = &spec.decoration_config
            && let Err(reason) = decoration.validate()
        {
            problems.push(Problem::new("spec.decoration_config", reason));
        }
        if let Some(rerun) = &spec.rerun_auth_config
            && let Err(reason) = rerun.validate()
        {
            problems.push(Problem::new("spec.rerun_auth_config", reason));
        }
        problems
    }

    /// Checks this ProwJob; the error lists every problem.
    pub fn validate(&self, context: &ValidationContext) -> Result<(), Error> {
        let problems = self.problems(context);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid {
                name: self.name().to_owned(),
                problems,
            })
        }
    }
}
