//! Defaulting as Prow's `finalizeJobConfig`: agents, clusters, namespaces, triggers, contexts,
//! decoration defaults and presets.

use std::collections::BTreeMap;
use std::sync::Arc;

use prow_core::k8s_openapi::api::core::v1::{Container, PodSpec, Toleration};
use prow_core::{DecorationConfig, Interner, MetaDuration, ProwJobDefault};

use crate::error::Finding;
use crate::jobs::{JobBase, JobConfig, Periodic, Postsubmit, Preset, Presubmit, SharedPresets};
use crate::load::Config;
use crate::prow::{DefaultDecorationConfigEntry, Plank, ProwConfig, ProwJobDefaultEntry};

/// The trigger regex Prow gives a presubmit that sets none.
///
/// The name is deliberately not escaped, as upstream (a `.` in a name matches any character).
pub fn default_trigger_for(name: &str) -> String {
    format!(r"(?m)^/test( | .* ){name},?($|\s.*)")
}

/// The rerun command Prow gives a presubmit that sets none.
fn default_rerun_command_for(name: &str) -> String {
    format!("/test {name}")
}

/// Fills in Prow's defaults; returns the errors found while doing so.
pub(crate) fn finalize(config: &mut Config) -> Vec<Finding> {
    let mut errors = Vec::new();
    let prow = &mut config.prow;
    if prow.pod_namespace.is_empty() {
        prow.pod_namespace = "default".to_owned();
    }
    if prow.prowjob_namespace.is_empty() {
        prow.prowjob_namespace = "default".to_owned();
    }
    component_defaults(prow);
    if let Err(e) = decoration_entries(&prow.plank) {
        errors.push(e);
    }
    let presets: Arc<[Preset]> = config.jobs.presets.clone().into();
    errors.extend(duplicate_preset_pairs(&presets));
    errors.extend(default_jobs(&config.prow, &mut config.jobs, presets));
    errors
}

/// Defaults every job of `jobs` (agent, cluster, namespace, triggers, contexts, decoration,
/// ProwJob defaults), gives each the shared `presets` and checks that they merge into its
/// spec; returns the preset conflicts.
///
/// In-repo jobs go through here too, with the global presets followed by the repository's.
pub(crate) fn default_jobs(
    prow: &ProwConfig,
    jobs: &mut JobConfig,
    presets: Arc<[Preset]>,
) -> Vec<Finding> {
    let mut errors = Vec::new();
    let entries = decoration_entries(&prow.plank).unwrap_or_default();
    let ctx = Ctx {
        pod_namespace: if prow.pod_namespace.is_empty() {
            "default"
        } else {
            &prow.pod_namespace
        },
        decorate_all: jobs.decorate_all_jobs,
        entries: &entries,
        job_defaults: &prow.prowjob_default_entries,
        presets: SharedPresets::new(presets),
        decoration: Interner::default(),
        job_default: Interner::default(),
    };
    // Presubmits on one thread, postsubmits and periodics on another: the halves are about
    // even in real configurations, and every job is defaulted on its own.
    let ctx = &ctx;
    let JobConfig {
        presubmits,
        postsubmits,
        periodics,
        ..
    } = jobs;
    let presubmit_errors = |presubmits: &mut BTreeMap<String, Vec<Presubmit>>| {
        let mut errors = Vec::new();
        for (repo, list) in presubmits {
            for job in list {
                if job.context.is_empty() {
                    job.context.clone_from(&job.name);
                }
                if job.trigger.is_empty() && job.rerun_command.is_empty() {
                    job.trigger = default_trigger_for(&job.name);
                    job.rerun_command = default_rerun_command_for(&job.name);
                }
                let at = format!("presubmits[{repo:?}][{}].spec", job.source_index);
                errors.extend(ctx.apply(job, repo, at));
            }
        }
        errors
    };
    let other_errors = |postsubmits: &mut BTreeMap<String, Vec<Postsubmit>>,
                        periodics: &mut Vec<Periodic>| {
        let mut errors = Vec::new();
        for (repo, list) in postsubmits {
            for job in list {
                if job.context.is_empty() {
                    job.context.clone_from(&job.name);
                }
                let at = format!("postsubmits[{repo:?}][{}].spec", job.source_index);
                errors.extend(ctx.apply(job, repo, at));
            }
        }
        for job in periodics {
            let repo = job
                .extra_refs
                .first()
                .map(|r| format!("{}/{}", r.org, r.repo))
                .unwrap_or_default();
            let at = format!("periodics[{}].spec", job.source_index);
            errors.extend(ctx.apply(job, &repo, at));
        }
        errors
    };
    let (pre, other) = std::thread::scope(|scope| {
        let other = scope.spawn(|| other_errors(postsubmits, periodics));
        let pre = presubmit_errors(presubmits);
        (
            pre,
            other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    errors.extend(pre);
    errors.extend(other);
    errors
}

/// A Go duration known to parse.
fn duration(text: &str) -> Option<MetaDuration> {
    prow_core::Duration::parse(text).ok().map(MetaDuration)
}

/// Prow's defaults for the component sections prow-rs types.
fn component_defaults(prow: &mut ProwConfig) {
    let plank = &mut prow.plank;
    plank.pod_pending_timeout = plank.pod_pending_timeout.or_else(|| duration("10m"));
    plank.pod_running_timeout = plank.pod_running_timeout.or_else(|| duration("48h"));
    plank.pod_unscheduled_timeout = plank.pod_unscheduled_timeout.or_else(|| duration("5m"));
    plank.max_revivals = plank.max_revivals.or(Some(3));
    if plank.max_goroutines == 0 {
        plank.max_goroutines = 20;
    }
    let sinker = &mut prow.sinker;
    sinker.resync_period = sinker.resync_period.or_else(|| duration("1h"));
    sinker.max_prowjob_age = sinker.max_prowjob_age.or_else(|| duration("168h"));
    sinker.max_pod_age = sinker.max_pod_age.or_else(|| duration("24h"));
    sinker.terminated_pod_ttl = sinker.terminated_pod_ttl.or(sinker.max_pod_age);
    prow.default_job_timeout = prow.default_job_timeout.or_else(|| duration("24h"));
    if prow.log_level.is_empty() {
        prow.log_level = "info".to_owned();
    }
}

/// What every job's defaulting needs.
struct Ctx<'a> {
    pod_namespace: &'a str,
    decorate_all: bool,
    entries: &'a [DefaultDecorationConfigEntry],
    job_defaults: &'a [ProwJobDefaultEntry],
    presets: SharedPresets,
    /// Equal defaulted decoration configs, held once.
    decoration: Interner<DecorationConfig>,
    /// Equal defaulted ProwJob defaults, held once.
    job_default: Interner<ProwJobDefault>,
}

impl Ctx<'_> {
    fn apply(&self, job: &mut impl JobBase, repo: &str, at: String) -> Option<Finding> {
        let labels = job.labels().clone();
        let base = job.base_mut();
        if base.agent.is_empty() {
            *base.agent = "kubernetes".to_owned();
        }
        if base.cluster.is_empty() {
            *base.cluster = "default".to_owned();
        }
        if base.namespace.as_deref().unwrap_or_default().is_empty() {
            *base.namespace = Some(self.pod_namespace.to_owned());
        }
        // Prow's mergeProwJobDefault: matching entries in order, the job's own on top, and the
        // global tenant when none is named.
        let cluster = base.cluster.clone();
        let mut merged: Option<ProwJobDefault> = None;
        for entry in self.job_defaults {
            if matches(&entry.org_repo, &entry.cluster, repo, &cluster)
                && let Some(cfg) = &entry.config
            {
                let mut next = cfg.clone();
                if let Some(earlier) = &merged {
                    next.apply_default(earlier);
                }
                merged = Some(next);
            }
        }
        let mut own = base
            .prowjob_defaults
            .take()
            .map(Arc::unwrap_or_clone)
            .unwrap_or_default();
        if let Some(defaults) = &merged {
            own.apply_default(defaults);
        }
        if own.tenant_id.is_empty() {
            own.tenant_id = prow_core::reporting::DEFAULT_TENANT_ID.to_owned();
        }
        *base.prowjob_defaults = Some(self.job_default.intern(own));
        let decorate = *base.decorate.get_or_insert(self.decorate_all);
        if decorate {
            let cluster = base.cluster.clone();
            let mut merged: Option<DecorationConfig> = None;
            for entry in self.entries {
                if matches(&entry.org_repo, &entry.cluster, repo, &cluster)
                    && let Some(cfg) = &entry.config
                {
                    merged = Some(match &merged {
                        Some(m) => cfg.apply_default(m),
                        None => cfg.clone(),
                    });
                }
            }
            // Like Prow, a decorated job always has a decoration config, if only an empty one,
            // so a missing default is reported by validation rather than ignored.
            let own = base.decoration_config.take();
            let defaulted = match (own, merged) {
                (Some(own), Some(def)) => own.apply_default(&def),
                (Some(own), None) => Arc::unwrap_or_clone(own),
                (None, def) => def.unwrap_or_default(),
            };
            *base.decoration_config = Some(self.decoration.intern(defaulted));
        }
        // The presets are merged when a ProwJob is made; here they are only checked.
        *base.presets = self.presets.clone();
        let presets = self.presets.as_slice();
        if let Some(spec) = job.spec()
            && let Err(e) = preset_conflict(presets, &labels, spec)
        {
            let name = job.name().to_owned();
            return Some(
                Finding::error(format!(
                    "job {name} failed to merge presets for podspec: {e}"
                ))
                .in_file(job.source_path())
                .at(at)
                .for_job(name),
            );
        }
        None
    }
}

/// Whether a default entry for `given_repo`/`given_cluster` applies to a job of `repo` on
/// `cluster` (Prow's `matches`).
pub(crate) fn matches(given_repo: &str, given_cluster: &str, repo: &str, cluster: &str) -> bool {
    if !given_cluster.is_empty() && given_cluster != "*" && given_cluster != cluster {
        return false;
    }
    if given_repo.is_empty() || given_repo == "*" || given_repo == repo {
        return true;
    }
    let repo = repo
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    given_repo == repo || repo.split('/').next() == Some(given_repo)
}

/// Plank's decoration defaults as ordered entries: the map form becomes `*`, then orgs, then
/// repos; the two forms are mutually exclusive.
fn decoration_entries(plank: &Plank) -> Result<Vec<DefaultDecorationConfigEntry>, Finding> {
    let map = &plank.default_decoration_configs;
    if !map.is_empty() && !plank.default_decoration_config_entries.is_empty() {
        return Err(Finding::error(
            "plank.default_decoration_configs and plank.default_decoration_config_entries are mutually exclusive, please use one or the other",
        )
        .at("plank"));
    }
    if map.is_empty() {
        return Ok(plank.default_decoration_config_entries.clone());
    }
    let entry = |key: &str, cfg: &DecorationConfig| DefaultDecorationConfigEntry {
        org_repo: key.to_owned(),
        cluster: String::new(),
        config: Some(cfg.clone()),
    };
    let mut out = Vec::new();
    if let Some(cfg) = map.get("*") {
        out.push(entry("*", cfg));
    }
    out.extend(
        map.iter()
            .filter(|(k, _)| *k != "*" && !k.contains('/'))
            .map(|(k, c)| entry(k, c)),
    );
    out.extend(
        map.iter()
            .filter(|(k, _)| k.contains('/'))
            .map(|(k, c)| entry(k, c)),
    );
    Ok(out)
}

/// Adds every preset's env, volumes, mounts and tolerations to `spec` in order, as Prow's
/// `setPresets`; stops at the first conflict.
pub(crate) fn merge_presets(
    presets: &[Preset],
    labels: &BTreeMap<String, String>,
    spec: &mut PodSpec,
) -> Result<(), String> {
    presets
        .iter()
        .try_for_each(|preset| merge_preset(preset, labels, spec))
}

/// Adds a preset's env, volumes, mounts and tolerations when the job carries all of its
/// labels; like Prow, anything the pod already has is an error.
fn merge_preset(
    preset: &Preset,
    labels: &std::collections::BTreeMap<String, String>,
    spec: &mut PodSpec,
) -> Result<(), String> {
    if !preset.applies_to(labels) {
        return Ok(());
    }
    for e1 in &preset.env {
        for container in &mut spec.containers {
            let env = container.env.get_or_insert_with(Vec::new);
            if env.iter().any(|e2| e2.name == e1.name) {
                return Err(format!("env var duplicated in pod spec: {}", e1.name));
            }
            env.push(e1.clone());
        }
    }
    // Lists are created only when there is something to add, so a pod without volumes or
    // tolerations serialises as Go's does (no empty lists).
    for v1 in &preset.volumes {
        let volumes = spec.volumes.get_or_insert_with(Vec::new);
        if volumes.iter().any(|v2| v2.name == v1.name) {
            return Err(format!("volume duplicated in pod spec: {}", v1.name));
        }
        volumes.push(v1.clone());
    }
    for m1 in &preset.volume_mounts {
        for container in &mut spec.containers {
            let mounts = container.volume_mounts.get_or_insert_with(Vec::new);
            if mounts.iter().any(|m2| m2.name == m1.name) {
                return Err(format!("volume mount duplicated in pod spec: {}", m1.name));
            }
            mounts.push(m1.clone());
        }
    }
    for t1 in &preset.tolerations {
        let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
        if tolerations.contains(t1) {
            return Err(format!("toleration duplicated in pod spec: {t1:?}"));
        }
        tolerations.push(t1.clone());
    }
    Ok(())
}

/// The error [`merge_presets`] would return for `spec`, found without copying it.
///
/// Every container gets the same additions, so what earlier presets added is kept once, by
/// name (by value for tolerations), and each new item is checked against it and the spec.
pub(crate) fn preset_conflict(
    presets: &[Preset],
    labels: &BTreeMap<String, String>,
    spec: &PodSpec,
) -> Result<(), String> {
    let containers = &spec.containers;
    let mut env: Vec<&str> = Vec::new();
    let mut volumes: Vec<&str> = Vec::new();
    let mut mounts: Vec<&str> = Vec::new();
    let mut tolerations: Vec<&Toleration> = Vec::new();
    for preset in presets.iter().filter(|p| p.applies_to(labels)) {
        added_to_containers(
            preset.env.iter().map(|e| e.name.as_str()),
            &mut env,
            containers,
            |c, name| c.env.iter().flatten().any(|e| e.name == name),
            "env var",
        )?;
        for v1 in &preset.volumes {
            let name = v1.name.as_str();
            if volumes.contains(&name) || spec.volumes.iter().flatten().any(|v2| v2.name == name) {
                return Err(format!("volume duplicated in pod spec: {name}"));
            }
            volumes.push(name);
        }
        added_to_containers(
            preset.volume_mounts.iter().map(|m| m.name.as_str()),
            &mut mounts,
            containers,
            |c, name| c.volume_mounts.iter().flatten().any(|m| m.name == name),
            "volume mount",
        )?;
        for t1 in &preset.tolerations {
            if tolerations.contains(&t1) || spec.tolerations.iter().flatten().any(|t2| t2 == t1) {
                return Err(format!("toleration duplicated in pod spec: {t1:?}"));
            }
            tolerations.push(t1);
        }
    }
    Ok(())
}

/// Checks `names`, which a preset adds to every container, against the containers (`has`)
/// and what earlier presets added (`added`), then records them; with no containers they have
/// nowhere to go and cannot conflict.
fn added_to_containers<'a>(
    names: impl Iterator<Item = &'a str>,
    added: &mut Vec<&'a str>,
    containers: &[Container],
    has: fn(&Container, &str) -> bool,
    what: &str,
) -> Result<(), String> {
    if containers.is_empty() {
        return Ok(());
    }
    for name in names {
        if added.contains(&name) || containers.iter().any(|c| has(c, name)) {
            return Err(format!("{what} duplicated in pod spec: {name}"));
        }
        added.push(name);
    }
    Ok(())
}

/// Prow's check that no two presets share a `label:value` pair.
fn duplicate_preset_pairs(presets: &[Preset]) -> Vec<Finding> {
    let mut seen = std::collections::BTreeSet::new();
    let mut errors = Vec::new();
    for (i, preset) in presets.iter().enumerate() {
        for (label, value) in &preset.labels {
            let pair = format!("{label}:{value}");
            if !seen.insert(pair.clone()) {
                errors.push(
                    Finding::error(format!("duplicated preset 'label:value' pair : {pair}"))
                        .at(format!("presets[{i}].labels")),
                );
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use prow_core::k8s_openapi::api::core::v1::{EnvVar, Volume, VolumeMount};

    /// Up to three names from a small alphabet, so that collisions are common.
    fn names(from: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(proptest::sample::select(from), 0..3)
            .prop_map(|v| v.into_iter().map(str::to_owned).collect())
    }

    /// One `T` per name, made by `make` (each a default value but for its name or key).
    fn named<T>(names: Vec<String>, make: fn(String) -> T) -> Vec<T> {
        names.into_iter().map(make).collect()
    }

    fn env(names: Vec<String>) -> Vec<EnvVar> {
        named(names, |name| EnvVar {
            name,
            ..EnvVar::default()
        })
    }

    fn mounts(names: Vec<String>) -> Vec<VolumeMount> {
        named(names, |name| VolumeMount {
            name,
            ..VolumeMount::default()
        })
    }

    fn volumes(names: Vec<String>) -> Vec<Volume> {
        named(names, |name| Volume {
            name,
            ..Volume::default()
        })
    }

    fn tolerations(keys: Vec<String>) -> Vec<Toleration> {
        named(keys, |key| Toleration {
            key: Some(key),
            ..Toleration::default()
        })
    }

    fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
        names(&["a", "b"]).prop_map(|v| v.into_iter().map(|k| (k, "1".to_owned())).collect())
    }

    fn preset() -> impl Strategy<Value = Preset> {
        (
            labels(),
            names(&["A", "B", "C"]),
            names(&["v", "w"]),
            names(&["m", "n"]),
            names(&["k1", "k2"]),
        )
            .prop_map(|(labels, e, v, m, t)| Preset {
                labels,
                env: env(e),
                volumes: volumes(v),
                volume_mounts: mounts(m),
                tolerations: tolerations(t),
            })
    }

    fn container() -> impl Strategy<Value = Container> {
        (names(&["A", "B", "C"]), names(&["m", "n"]), any::<bool>()).prop_map(|(e, m, lists)| {
            Container {
                env: (lists || !e.is_empty()).then(|| env(e)),
                volume_mounts: (lists || !m.is_empty()).then(|| mounts(m)),
                ..Container::default()
            }
        })
    }

    fn spec() -> impl Strategy<Value = PodSpec> {
        (
            proptest::collection::vec(container(), 0..3),
            names(&["v", "w"]),
            names(&["k1", "k2"]),
        )
            .prop_map(|(containers, v, t)| PodSpec {
                containers,
                volumes: (!v.is_empty()).then(|| volumes(v)),
                tolerations: (!t.is_empty()).then(|| tolerations(t)),
                ..PodSpec::default()
            })
    }

    proptest! {
        /// The check made at load finds exactly the first conflict the merge made for a
        /// ProwJob would stop at.
        #[test]
        fn preset_conflict_agrees_with_the_merge(
            presets in proptest::collection::vec(preset(), 0..4),
            labels in labels(),
            spec in spec(),
        ) {
            let merged = merge_presets(&presets, &labels, &mut spec.clone());
            prop_assert_eq!(preset_conflict(&presets, &labels, &spec), merged);
        }
    }

    #[test]
    fn equal_values_are_interned_once() {
        let interner = Interner::<DecorationConfig>::default();
        let timeout = DecorationConfig {
            timeout: Some(prow_core::Duration::parse("1m").expect("a duration")),
            ..DecorationConfig::default()
        };
        let a = interner.intern(timeout.clone());
        let b = interner.intern(timeout);
        let c = interner.intern(DecorationConfig::default());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(*c, DecorationConfig::default());
    }
}
