//! The `prow.k8s.io/v1` ProwJob resource: spec, status, types, states and agents.
//!
//! The spec's large settings (`pod_spec`, `decoration_config`, `tekton_pipeline_run_spec`,
//! `reporter_config`, `rerun_auth_config`, `prowjob_defaults`) are `Arc`s: the runs of one
//! job share one copy (see [`Interner`](crate::Interner)), and `Arc::make_mut` changes one
//! job's. The JSON and the CRD are Prow's either way.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::decoration::DecorationConfig;
use crate::refs::Refs;
use crate::reporting::{ProwJobDefault, ReporterConfig, RerunAuthConfig};
use crate::serde_util::{is_false, is_zero};

/// The cluster alias a job runs on when it names none.
pub const DEFAULT_CLUSTER_ALIAS: &str = "default";

/// What a ProwJob runs and how it reports: the `spec` of a `prow.k8s.io/v1` ProwJob.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "prow.k8s.io",
    version = "v1",
    kind = "ProwJob",
    plural = "prowjobs",
    singular = "prowjob",
    namespaced,
    status = "ProwJobStatus",
    derive = "PartialEq",
    doc = "ProwJob contains the spec as well as runtime metadata.",
    printcolumn = r#"{"name":"Job","type":"string","description":"The name of the job being run","jsonPath":".spec.job"}"#,
    printcolumn = r#"{"name":"BuildId","type":"string","description":"The ID of the job being run.","jsonPath":".status.build_id"}"#,
    printcolumn = r#"{"name":"Type","type":"string","description":"The type of job being run.","jsonPath":".spec.type"}"#,
    printcolumn = r#"{"name":"Org","type":"string","description":"The org for which the job is running.","jsonPath":".spec.refs.org"}"#,
    printcolumn = r#"{"name":"Repo","type":"string","description":"The repo for which the job is running.","jsonPath":".spec.refs.repo"}"#,
    printcolumn = r#"{"name":"Pulls","type":"string","description":"The pulls for which the job is running.","jsonPath":".spec.refs.pulls[*].number"}"#,
    printcolumn = r#"{"name":"StartTime","type":"date","description":"When the job started running.","jsonPath":".status.startTime"}"#,
    printcolumn = r#"{"name":"CompletionTime","type":"date","description":"When the job finished running.","jsonPath":".status.completionTime"}"#,
    printcolumn = r#"{"name":"State","type":"string","description":"The state of the job.","jsonPath":".status.state"}"#
)]
pub struct ProwJobSpec {
    /// How the job is triggered: presubmit, postsubmit, periodic or batch.
    #[serde(rename = "type")]
    pub job_type: ProwJobType,
    /// Which controller runs the job.
    #[serde(default, skip_serializing_if = "ProwJobAgent::is_unset")]
    pub agent: ProwJobAgent,
    /// The build cluster alias the job runs on (`default` when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// The namespace the job's pod runs in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// The job's name.
    pub job: String,
    /// The repository and commits under test (absent for periodics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refs: Option<Refs>,
    /// Further repositories to clone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_refs: Vec<Refs>,
    /// Whether the result is reported to GitHub.
    #[serde(default, skip_serializing_if = "is_false")]
    pub report: bool,
    /// The GitHub status context the job reports under.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub context: String,
    /// The comment that reruns the job.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rerun_command: String,
    /// How many instances of this job may run at once (0: no limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_concurrency: i64,
    /// Whether an evicted pod ends the job in `error` instead of being revived.
    #[serde(default, skip_serializing_if = "is_false")]
    pub error_on_eviction: bool,
    /// The pod to run, for the kubernetes agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_spec: Option<Arc<PodSpec>>,
    /// Settings for the jenkins agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jenkins_spec: Option<JenkinsSpec>,
    /// A Tekton `PipelineRunSpec`, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub pipeline_run_spec: Option<serde_json::Value>,
    /// Tekton pipeline run specs by API version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tekton_pipeline_run_spec: Option<Arc<TektonPipelineRunSpec>>,
    /// How the pod is decorated with the pod utilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoration_config: Option<Arc<DecorationConfig>>,
    /// Reporting besides GitHub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_config: Option<Arc<ReporterConfig>>,
    /// Who may rerun the job from deck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_auth_config: Option<Arc<RerunAuthConfig>>,
    /// Whether deck hides the job.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Defaults such as the tenant ID.
    #[serde(
        default,
        rename = "prowjob_defaults",
        skip_serializing_if = "Option::is_none"
    )]
    pub prowjob_defaults: Option<Arc<ProwJobDefault>>,
    /// The queue (`plank.job_queue_capacities`) that limits this job.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub job_queue_name: String,
}

/// Where a ProwJob is in its life.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProwJobStatus {
    /// When the job was created.
    #[serde(rename = "startTime", default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the job's pod was started.
    #[serde(
        rename = "pendingTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pending_time: Option<Time>,
    /// When the job finished; a job is complete exactly when this is set.
    #[serde(
        rename = "completionTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub completion_time: Option<Time>,
    /// The job's state.
    pub state: ProwJobState,
    /// A human-readable account of the state.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Where to see the job's results.
    #[serde(default, rename = "url", skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// How many times the pod was recreated after being lost.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pod_revival_count: i64,
    /// The name of the job's pod.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pod_name: String,
    /// The build ID, unique per job name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub build_id: String,
    /// The Jenkins build ID, for the jenkins agent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jenkins_build_id: String,
    /// The last state reported by each reporter (crier's memory).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prev_report_states: BTreeMap<String, ProwJobState>,
}

/// How a job is triggered.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProwJobType {
    /// Runs on a pull request before merge.
    Presubmit,
    /// Runs on a branch after a push.
    Postsubmit,
    /// Runs on a schedule.
    Periodic,
    /// Runs several pull requests together (tide).
    Batch,
}

impl ProwJobType {
    /// The name Prow uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ProwJobType::Presubmit => "presubmit",
            ProwJobType::Postsubmit => "postsubmit",
            ProwJobType::Periodic => "periodic",
            ProwJobType::Batch => "batch",
        }
    }
}

impl fmt::Display for ProwJobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a job is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProwJobState {
    /// Waiting for the scheduler to pick a cluster.
    Scheduling,
    /// Created, not yet started (the state of a new job).
    #[default]
    Triggered,
    /// Running.
    Pending,
    /// Finished and passed.
    Success,
    /// Finished and failed.
    Failure,
    /// Stopped before finishing.
    Aborted,
    /// Could not be run.
    Error,
}

impl ProwJobState {
    /// Every state Prow lists (`GetAllProwJobStates`: all but `scheduling`).
    pub const ALL: [ProwJobState; 6] = [
        ProwJobState::Triggered,
        ProwJobState::Pending,
        ProwJobState::Success,
        ProwJobState::Failure,
        ProwJobState::Aborted,
        ProwJobState::Error,
    ];

    /// The name Prow uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ProwJobState::Scheduling => "scheduling",
            ProwJobState::Triggered => "triggered",
            ProwJobState::Pending => "pending",
            ProwJobState::Success => "success",
            ProwJobState::Failure => "failure",
            ProwJobState::Aborted => "aborted",
            ProwJobState::Error => "error",
        }
    }

    /// Whether the job has finished in this state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ProwJobState::Success
                | ProwJobState::Failure
                | ProwJobState::Aborted
                | ProwJobState::Error
        )
    }
}

impl fmt::Display for ProwJobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which controller runs a job. Prow accepts any string here; unknown agents are kept as
/// written so that ProwJobs of other controllers survive a round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ProwJobAgent {
    /// No agent written; Prow's configuration defaults it to `kubernetes`.
    #[default]
    Unset,
    /// Runs a pod in a build cluster (plank).
    Kubernetes,
    /// Runs a Jenkins job.
    Jenkins,
    /// Runs a Tekton pipeline.
    TektonPipeline,
    /// Another controller's agent.
    Other(String),
}

impl ProwJobAgent {
    /// The name Prow uses (`""` when unset).
    pub fn as_str(&self) -> &str {
        match self {
            ProwJobAgent::Unset => "",
            ProwJobAgent::Kubernetes => "kubernetes",
            ProwJobAgent::Jenkins => "jenkins",
            ProwJobAgent::TektonPipeline => "tekton-pipeline",
            ProwJobAgent::Other(name) => name,
        }
    }

    /// Reads an agent name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "" => ProwJobAgent::Unset,
            "kubernetes" => ProwJobAgent::Kubernetes,
            "jenkins" => ProwJobAgent::Jenkins,
            "tekton-pipeline" => ProwJobAgent::TektonPipeline,
            other => ProwJobAgent::Other(other.to_owned()),
        }
    }

    fn is_unset(&self) -> bool {
        *self == ProwJobAgent::Unset
    }
}

impl fmt::Display for ProwJobAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProwJobAgent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProwJobAgent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(ProwJobAgent::from_name(&name))
    }
}

impl JsonSchema for ProwJobAgent {
    fn schema_name() -> Cow<'static, str> {
        "ProwJobAgent".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }

    fn inline_schema() -> bool {
        true
    }
}

/// Settings for the jenkins agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JenkinsSpec {
    /// Whether the Jenkins job is a GitHub branch source job.
    #[serde(default, skip_serializing_if = "is_false")]
    pub github_branch_source_job: bool,
}

/// Tekton pipeline run specs by API version, kept as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TektonPipelineRunSpec {
    /// A `tekton.dev/v1beta1` `PipelineRunSpec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub v1beta1: Option<serde_json::Value>,
}

fn preserve_unknown_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

impl ProwJob {
    /// Whether the job has finished (its completion time is set).
    pub fn is_complete(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| s.completion_time.is_some())
    }

    /// The job's state, `None` before any status was written.
    pub fn state(&self) -> Option<ProwJobState> {
        self.status.as_ref().map(|s| s.state)
    }

    /// The build cluster alias, `default` when the spec names none.
    pub fn cluster_alias(&self) -> &str {
        if self.spec.cluster.is_empty() {
            DEFAULT_CLUSTER_ALIAS
        } else {
            &self.spec.cluster
        }
    }

    /// The name of the ProwJob object.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }
}

impl ProwJobSpec {
    /// The refs that name the job's repository: `refs`, else the first of `extra_refs`.
    pub fn main_refs(&self) -> Option<&Refs> {
        self.refs.as_ref().or_else(|| self.extra_refs.first())
    }

    /// Whether the pod utilities decorate this job.
    pub fn is_decorated(&self) -> bool {
        self.decoration_config.is_some()
    }
}
