//! Job configuration: presubmits, postsubmits, periodics and presets, with Prow's YAML names.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use prow_core::k8s_openapi::api::core::v1::{EnvVar, PodSpec, Toleration, Volume, VolumeMount};
use prow_core::{DecorationConfig, ProwJobDefault, Refs, ReporterConfig, RerunAuthConfig};
use serde::{Deserialize, Deserializer};

/// Reads YAML `null` as the type's default, like Go's JSON decoding does.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Declares a job struct carrying Prow's inline `JobBase` and `UtilityConfig` fields.
///
/// Go embeds these structs; serde's `flatten` would drop unknown fields silently and lose
/// error locations, so the fields are written out inline instead.
macro_rules! job_struct {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $vis:vis $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The job name (required).
            pub name: String,
            /// Labels copied to the ProwJob and pod; they select presets.
            #[serde(default, deserialize_with = "nullable")]
            pub labels: BTreeMap<String, String>,
            /// Most runs at once; 0 is unlimited.
            #[serde(default)]
            pub max_concurrency: i64,
            /// Which controller runs the job (default `kubernetes`).
            #[serde(default, deserialize_with = "nullable")]
            pub agent: String,
            /// Build cluster alias (default `default`).
            #[serde(default, deserialize_with = "nullable")]
            pub cluster: String,
            /// Namespace of the pod (default `pod_namespace`).
            #[serde(default)]
            pub namespace: Option<String>,
            /// Re-run the job when its pod is evicted.
            #[serde(default)]
            pub error_on_eviction: bool,
            /// Pod spec for the kubernetes agent, as written: the presets whose labels the job
            /// carries are merged in only when a ProwJob is made, see `effective_spec`.
            #[serde(default)]
            pub spec: Option<PodSpec>,
            /// Tekton pipeline run spec, kept raw.
            #[serde(default)]
            pub pipeline_run_spec: Option<Box<serde_yaml::Value>>,
            /// Versioned Tekton pipeline run spec, kept raw.
            #[serde(default)]
            pub tekton_pipeline_run_spec: Option<Box<serde_yaml::Value>>,
            /// Annotations copied to the ProwJob and pod.
            #[serde(default, deserialize_with = "nullable")]
            pub annotations: BTreeMap<String, String>,
            /// Reporting settings (Slack).
            #[serde(default)]
            pub reporter_config: Option<Box<ReporterConfig>>,
            /// Who may rerun the job.
            #[serde(default)]
            pub rerun_auth_config: Option<Box<RerunAuthConfig>>,
            /// Hidden from deck.
            #[serde(default)]
            pub hidden: bool,
            /// Defaults for the ProwJob (tenant, result store); after defaulting, jobs with
            /// equal defaults share one value.
            #[serde(default, rename = "prowjob_defaults")]
            pub prowjob_defaults: Option<Arc<ProwJobDefault>>,
            /// Name of a queue in `plank.job_queue_capacities`.
            #[serde(default, deserialize_with = "nullable")]
            pub job_queue_name: String,
            /// Decorate the pod with the pod utilities (default `decorate_all_jobs`).
            #[serde(default)]
            pub decorate: Option<bool>,
            /// Import path to clone to, instead of `github.com/org/repo`.
            #[serde(default, deserialize_with = "nullable")]
            pub path_alias: String,
            /// URI to clone from instead of GitHub.
            #[serde(default, deserialize_with = "nullable")]
            pub clone_uri: String,
            /// Do not clone submodules.
            #[serde(default)]
            pub skip_submodules: bool,
            /// Shallow clone depth (0 = full).
            #[serde(default)]
            pub clone_depth: i64,
            /// Do not fetch `FETCH_HEAD`.
            #[serde(default)]
            pub skip_fetch_head: bool,
            /// More repositories to clone.
            #[serde(default, deserialize_with = "nullable")]
            pub extra_refs: Vec<Refs>,
            /// Decoration settings, merged over the defaults; after defaulting, jobs with
            /// equal settings share one value.
            #[serde(default)]
            pub decoration_config: Option<Arc<DecorationConfig>>,
            /// Path of the file the job came from (not read from YAML).
            #[serde(skip)]
            pub source_path: String,
            /// Position of the job in its list in the source file (not read from YAML).
            #[serde(skip)]
            pub source_index: usize,
            /// The presets of the job's configuration, shared by all its jobs (set by
            /// defaulting, not read from YAML).
            #[serde(skip)]
            pub(crate) presets: SharedPresets,
            $($(#[$fm])* $vis $field: $ty,)*
        }

        impl $name {
            /// The pod spec a ProwJob of this job carries: `spec` with the env, volumes,
            /// mounts and tolerations of every preset whose labels the job carries, as Prow's
            /// loaded `Spec` is. Borrowed when no preset applies.
            pub fn effective_spec(&self) -> Option<Cow<'_, PodSpec>> {
                self.presets.apply(&self.labels, self.spec.as_ref())
            }
        }

        impl JobBase for $name {
            fn name(&self) -> &str { &self.name }
            fn labels(&self) -> &BTreeMap<String, String> { &self.labels }
            fn agent(&self) -> &str { &self.agent }
            fn spec(&self) -> Option<&PodSpec> { self.spec.as_ref() }
            fn effective_spec(&self) -> Option<Cow<'_, PodSpec>> { $name::effective_spec(self) }
            fn spec_mut(&mut self) -> Option<&mut PodSpec> { self.spec.as_mut() }
            fn decorate(&self) -> Option<bool> { self.decorate }
            fn source_path(&self) -> &str { &self.source_path }
            fn max_concurrency(&self) -> i64 { self.max_concurrency }
            fn job_queue_name(&self) -> &str { &self.job_queue_name }
            fn base_mut(&mut self) -> BaseMut<'_> {
                BaseMut {
                    agent: &mut self.agent,
                    cluster: &mut self.cluster,
                    namespace: &mut self.namespace,
                    decorate: &mut self.decorate,
                    decoration_config: &mut self.decoration_config,
                    prowjob_defaults: &mut self.prowjob_defaults,
                    presets: &mut self.presets,
                    extra_refs: &self.extra_refs,
                }
            }
        }
    };
}

/// The fields every job kind shares (Prow's `JobBase` with its inline `UtilityConfig`).
pub trait JobBase {
    /// The job name.
    fn name(&self) -> &str;
    /// The job's labels.
    fn labels(&self) -> &BTreeMap<String, String>;
    /// The agent, after defaulting `kubernetes`.
    fn agent(&self) -> &str;
    /// The pod spec as written, if any.
    fn spec(&self) -> Option<&PodSpec>;
    /// The pod spec with the job's presets merged, as a ProwJob carries it, if any.
    fn effective_spec(&self) -> Option<Cow<'_, PodSpec>>;
    /// The pod spec, mutable, if any.
    fn spec_mut(&mut self) -> Option<&mut PodSpec>;
    /// Whether the job is decorated, when set.
    fn decorate(&self) -> Option<bool>;
    /// The file the job was read from.
    fn source_path(&self) -> &str;
    /// Most runs at once (0 = unlimited).
    fn max_concurrency(&self) -> i64;
    /// The job's queue in `plank.job_queue_capacities`, if any.
    fn job_queue_name(&self) -> &str;
    /// The fields defaulting writes.
    fn base_mut(&mut self) -> BaseMut<'_>;
}

/// Mutable view of the shared fields that defaulting fills in.
#[derive(Debug)]
#[non_exhaustive]
pub struct BaseMut<'a> {
    /// `agent`.
    pub agent: &'a mut String,
    /// `cluster`.
    pub cluster: &'a mut String,
    /// `namespace`.
    pub namespace: &'a mut Option<String>,
    /// `decorate`.
    pub decorate: &'a mut Option<bool>,
    /// `decoration_config`.
    pub decoration_config: &'a mut Option<Arc<DecorationConfig>>,
    /// `prowjob_defaults`.
    pub prowjob_defaults: &'a mut Option<Arc<ProwJobDefault>>,
    /// The presets the job's spec is merged with when a ProwJob is made.
    pub(crate) presets: &'a mut SharedPresets,
    /// `extra_refs` (read only; periodics match defaults by the first).
    pub extra_refs: &'a [Refs],
}

/// The presets of one configuration, held once and shared by every job it loaded.
///
/// Prow merges presets into every job's pod spec at load; holding them once and merging when
/// a ProwJob is made keeps a loaded job to what its YAML says (a merged spec repeats each
/// preset's volumes, mounts and env in every job that carries its labels).
#[derive(Clone, Default)]
pub(crate) struct SharedPresets(Option<Arc<[Preset]>>);

impl SharedPresets {
    /// Shares `presets`.
    pub(crate) fn new(presets: Arc<[Preset]>) -> Self {
        SharedPresets((!presets.is_empty()).then_some(presets))
    }

    /// The shared presets (none when the configuration has none).
    pub(crate) fn as_slice(&self) -> &[Preset] {
        self.0.as_deref().unwrap_or_default()
    }

    /// `spec` with the presets matching `labels` merged in; borrowed when none matches.
    ///
    /// Conflicts were reported when the configuration was loaded; like that check, merging
    /// stops at the first one.
    fn apply<'a>(
        &self,
        labels: &BTreeMap<String, String>,
        spec: Option<&'a PodSpec>,
    ) -> Option<Cow<'a, PodSpec>> {
        let spec = spec?;
        let presets = self.as_slice();
        if !presets.iter().any(|p| p.applies_to(labels)) {
            return Some(Cow::Borrowed(spec));
        }
        let mut merged = spec.clone();
        let _ = crate::defaults::merge_presets(presets, labels, &mut merged);
        Some(Cow::Owned(merged))
    }
}

impl PartialEq for SharedPresets {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (a, b) => a.is_none() && b.is_none(),
        }
    }
}

impl std::fmt::Debug for SharedPresets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} presets",
            self.0.as_deref().map_or(0, <[Preset]>::len)
        )
    }
}

job_struct! {
    /// A job run against pull requests.
    Presubmit {
        /// Run on every pull request.
        #[serde(default)]
        pub always_run: bool,
        /// A failure does not block merging.
        #[serde(default)]
        pub optional: bool,
        /// Comment regex that triggers the job (default from the name).
        #[serde(default, deserialize_with = "nullable")]
        pub trigger: String,
        /// Comment that reruns the job (default `/test <name>`).
        #[serde(default, deserialize_with = "nullable")]
        pub rerun_command: String,
        /// Tide runs it before merging even if it would not otherwise run.
        #[serde(default)]
        pub run_before_merge: bool,
        /// Branch regexes the job runs on.
        #[serde(default, deserialize_with = "nullable")]
        pub branches: Vec<String>,
        /// Branch regexes the job never runs on.
        #[serde(default, deserialize_with = "nullable")]
        pub skip_branches: Vec<String>,
        /// Run when a changed file matches this regex.
        #[serde(default, deserialize_with = "nullable")]
        pub run_if_changed: String,
        /// Skip when every changed file matches this regex.
        #[serde(default, deserialize_with = "nullable")]
        pub skip_if_only_changed: String,
        /// GitHub status context (default: the name).
        #[serde(default, deserialize_with = "nullable")]
        pub context: String,
        /// Do not report a status.
        #[serde(default)]
        pub skip_report: bool,
        /// Jenkins settings, kept raw.
        #[serde(default)]
        pub jenkins_spec: Option<Box<serde_yaml::Value>>,
        /// Compiled trigger, branch and change regexes (built once, on first use).
        #[serde(skip)]
        pub(crate) matchers: crate::matching::Compiled,
    }
}

job_struct! {
    /// A job run after a push to a branch.
    Postsubmit {
        /// Run on every push; unset means true unless a change matcher decides.
        #[serde(default)]
        pub always_run: Option<bool>,
        /// Branch regexes the job runs on.
        #[serde(default, deserialize_with = "nullable")]
        pub branches: Vec<String>,
        /// Branch regexes the job never runs on.
        #[serde(default, deserialize_with = "nullable")]
        pub skip_branches: Vec<String>,
        /// Run when a changed file matches this regex.
        #[serde(default, deserialize_with = "nullable")]
        pub run_if_changed: String,
        /// Skip when every changed file matches this regex.
        #[serde(default, deserialize_with = "nullable")]
        pub skip_if_only_changed: String,
        /// GitHub status context (default: the name).
        #[serde(default, deserialize_with = "nullable")]
        pub context: String,
        /// Do not report a status.
        #[serde(default)]
        pub skip_report: bool,
        /// Jenkins settings, kept raw.
        #[serde(default)]
        pub jenkins_spec: Option<Box<serde_yaml::Value>>,
        /// Compiled trigger, branch and change regexes (built once, on first use).
        #[serde(skip)]
        pub(crate) matchers: crate::matching::Compiled,
    }
}

job_struct! {
    /// A job run on a schedule.
    Periodic {
        /// Go duration between starts (deprecated in favour of `cron`).
        #[serde(default, deserialize_with = "nullable")]
        pub interval: String,
        /// Go duration between the end of one run and the next start.
        #[serde(default, deserialize_with = "nullable")]
        pub minimum_interval: String,
        /// Cron schedule, evaluated in UTC.
        #[serde(default, deserialize_with = "nullable")]
        pub cron: String,
        /// Free-form tags.
        #[serde(default, deserialize_with = "nullable")]
        pub tags: Vec<String>,
        /// Retry settings, kept raw.
        #[serde(default)]
        pub retry: Option<Box<serde_yaml::Value>>,
    }
}

/// Environment, volumes and mounts added to jobs whose labels match.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Preset {
    /// Labels a job must carry (all of them) to get this preset.
    #[serde(default, deserialize_with = "nullable")]
    pub labels: BTreeMap<String, String>,
    /// Environment variables added to every container.
    #[serde(default, deserialize_with = "nullable")]
    pub env: Vec<EnvVar>,
    /// Volumes added to the pod.
    #[serde(default, deserialize_with = "nullable")]
    pub volumes: Vec<Volume>,
    /// Mounts added to every container.
    #[serde(default, rename = "volumeMounts", deserialize_with = "nullable")]
    pub volume_mounts: Vec<VolumeMount>,
    /// Tolerations added to the pod.
    #[serde(default, deserialize_with = "nullable")]
    pub tolerations: Vec<Toleration>,
}

impl Preset {
    /// Whether a job with `labels` gets this preset: it carries every label of the preset.
    pub fn applies_to(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

/// The job part of Prow's configuration, as read from one file or merged from many.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct JobConfig {
    /// Presets applied by label.
    #[serde(default, deserialize_with = "nullable")]
    pub presets: Vec<Preset>,
    /// Presubmits by `org/repo`.
    #[serde(default, deserialize_with = "nullable")]
    pub presubmits: BTreeMap<String, Vec<Presubmit>>,
    /// Postsubmits by `org/repo`.
    #[serde(default, deserialize_with = "nullable")]
    pub postsubmits: BTreeMap<String, Vec<Postsubmit>>,
    /// Periodic jobs.
    #[serde(default, deserialize_with = "nullable")]
    pub periodics: Vec<Periodic>,
    /// Anything, ignored; lets YAML anchors live in strictly parsed files.
    #[serde(default)]
    pub prow_ignored: Option<serde_yaml::Value>,
    /// Decorate every job that does not set `decorate`.
    #[serde(default)]
    pub decorate_all_jobs: bool,
    /// Presubmits indexed by repository (built on first use).
    #[serde(skip)]
    pub(crate) index: crate::index::IndexCache,
}

impl JobConfig {
    /// Counts of presubmits, postsubmits and periodics.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.presubmits.values().map(Vec::len).sum(),
            self.postsubmits.values().map(Vec::len).sum(),
            self.periodics.len(),
        )
    }

    /// The files the jobs were read from: each was parsed in full.
    pub(crate) fn source_paths(&self) -> std::collections::BTreeSet<&str> {
        let pre = self
            .presubmits
            .values()
            .flatten()
            .map(|j| j.source_path.as_str());
        let post = self
            .postsubmits
            .values()
            .flatten()
            .map(|j| j.source_path.as_str());
        let per = self.periodics.iter().map(|j| j.source_path.as_str());
        pre.chain(post).chain(per).collect()
    }

    /// Records `path` as the source of every job.
    pub(crate) fn with_source(mut self, path: &std::path::Path) -> Self {
        let path = path.display().to_string();
        for list in self.presubmits.values_mut() {
            for (i, j) in list.iter_mut().enumerate() {
                j.source_path.clone_from(&path);
                j.source_index = i;
            }
        }
        for list in self.postsubmits.values_mut() {
            for (i, j) in list.iter_mut().enumerate() {
                j.source_path.clone_from(&path);
                j.source_index = i;
            }
        }
        for (i, j) in self.periodics.iter_mut().enumerate() {
            j.source_path.clone_from(&path);
            j.source_index = i;
        }
        self
    }

    /// Appends another file's jobs and presets (no de-duplication; validation finds duplicates).
    pub fn merge(&mut self, other: JobConfig) {
        self.reindex();
        self.presets.extend(other.presets);
        for (repo, jobs) in other.presubmits {
            self.presubmits.entry(repo).or_default().extend(jobs);
        }
        for (repo, jobs) in other.postsubmits {
            self.postsubmits.entry(repo).or_default().extend(jobs);
        }
        self.periodics.extend(other.periodics);
    }
}
