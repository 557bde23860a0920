//! Defaulting as Prow's `finalizeJobConfig`: agents, clusters, namespaces, triggers, contexts,
//! decoration defaults and presets.

use prow_core::DecorationConfig;
use prow_core::k8s_openapi::api::core::v1::PodSpec;

use crate::error::Finding;
use crate::jobs::{JobBase, Preset};
use crate::load::Config;
use crate::prow::{DefaultDecorationConfigEntry, Plank};

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
    let entries = match decoration_entries(&prow.plank) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let pod_namespace = prow.pod_namespace.clone();
    let jobs = &mut config.jobs;
    let decorate_all = jobs.decorate_all_jobs;
    let presets = jobs.presets.clone();
    let ctx = Ctx {
        pod_namespace: &pod_namespace,
        decorate_all,
        entries: &entries,
        presets: &presets,
    };
    for (repo, list) in &mut jobs.presubmits {
        for job in list {
            if job.context.is_empty() {
                job.context.clone_from(&job.name);
            }
            if job.trigger.is_empty() && job.rerun_command.is_empty() {
                job.trigger = default_trigger_for(&job.name);
                job.rerun_command = default_rerun_command_for(&job.name);
            }
            ctx.apply(job, repo);
        }
    }
    for (repo, list) in &mut jobs.postsubmits {
        for job in list {
            if job.context.is_empty() {
                job.context.clone_from(&job.name);
            }
            ctx.apply(job, repo);
        }
    }
    for job in &mut jobs.periodics {
        let repo = job
            .extra_refs
            .first()
            .map(|r| format!("{}/{}", r.org, r.repo))
            .unwrap_or_default();
        ctx.apply(job, &repo);
    }
    errors
}

/// What every job's defaulting needs.
struct Ctx<'a> {
    pod_namespace: &'a str,
    decorate_all: bool,
    entries: &'a [DefaultDecorationConfigEntry],
    presets: &'a [Preset],
}

impl Ctx<'_> {
    fn apply(&self, job: &mut impl JobBase, repo: &str) {
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
            *base.decoration_config = match (base.decoration_config.take(), merged) {
                (Some(own), Some(def)) => Some(own.apply_default(&def)),
                (own, def) => own.or(def),
            };
        }
        if let Some(spec) = job.spec_mut() {
            for preset in self.presets {
                merge_preset(preset, &labels, spec);
            }
        }
    }
}

/// Whether a default entry for `given_repo`/`given_cluster` applies to a job of `repo` on
/// `cluster` (Prow's `matches`).
fn matches(given_repo: &str, given_cluster: &str, repo: &str, cluster: &str) -> bool {
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

/// Adds a preset's env, volumes and mounts when the job carries all of its labels.
fn merge_preset(
    preset: &Preset,
    labels: &std::collections::BTreeMap<String, String>,
    spec: &mut PodSpec,
) {
    if !preset.labels.iter().all(|(k, v)| labels.get(k) == Some(v)) {
        return;
    }
    for container in &mut spec.containers {
        container
            .env
            .get_or_insert_with(Vec::new)
            .extend(preset.env.iter().cloned());
        container
            .volume_mounts
            .get_or_insert_with(Vec::new)
            .extend(preset.volume_mounts.iter().cloned());
    }
    spec.volumes
        .get_or_insert_with(Vec::new)
        .extend(preset.volumes.iter().cloned());
}
