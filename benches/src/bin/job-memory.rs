//! `job-memory`: how much heap the loaded k8s-test-infra configuration holds, and per job.
//!
//! `CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo run --release
//! -p prow-benches --bin job-memory` loads the corpus's kubernetes/test-infra configuration
//! (`config.yaml`, every job file, `plugins.yaml`) with `load_snapshot`, the loader `prow
//! serve` uses, under a counting global allocator, and prints: the peak heap during the load,
//! the live heap after it, bytes per job (presubmits + postsubmits + periodics), and what the
//! jobs' bytes are made of (pod specs as held, as written, and with their presets merged as a
//! ProwJob gets them; decoration configs; everything else), the live heap of the former layout
//! (every job holding its merged spec, made in place from the same load), and the inline sizes
//! of the job structs and of the k8s-openapi types that dominate pod specs.
//!
//! Target (issue 24): the loaded configuration small enough that `prow serve` idles at ≤ 60 MB
//! RSS before jobs. Skipped with a notice when the corpus is absent.

use std::alloc::System;

use cap::Cap;
use prow_benches::corpus;
use std::collections::BTreeMap;

use prow_config::{ConfigPaths, JobBase, Periodic, Postsubmit, Preset, Presubmit, load_snapshot};
use prow_core::k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, Volume, VolumeMount};
use prow_core::{DecorationConfig, ProwJob};

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

/// Heap bytes owned by `value`: what a deep copy of it allocates.
fn heap_of<T: Clone>(value: &T) -> usize {
    let before = ALLOC.allocated();
    let copy = value.clone();
    let after = ALLOC.allocated();
    drop(copy);
    after.saturating_sub(before)
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Heap bytes of one kind of job, split by part.
#[derive(Default)]
struct Parts {
    jobs: usize,
    /// Inline size of the job structs (in their `Vec`s).
    inline: usize,
    /// Everything the jobs own on the heap.
    heap: usize,
    /// The pod specs as the jobs hold them.
    spec: usize,
    /// The pod specs as written (without the presets' env, volumes, mounts, tolerations).
    raw_spec: usize,
    /// The pod specs as a ProwJob gets them (presets merged).
    effective_spec: usize,
}

impl Parts {
    fn add<J: JobBase + Clone>(&mut self, presets: &[Preset], job: &J, effective: Option<PodSpec>) {
        self.jobs += 1;
        self.inline += std::mem::size_of::<J>();
        self.heap += heap_of(job);
        self.spec += job.spec().map(heap_of).unwrap_or(0);
        self.raw_spec += job
            .spec()
            .map(|s| heap_of(&without_presets(presets, job.labels(), s)))
            .unwrap_or(0);
        self.effective_spec += effective.as_ref().map(heap_of).unwrap_or(0);
    }

    fn total(&self) -> usize {
        self.inline + self.heap
    }
}

fn main() {
    let Some(corpus) = corpus() else {
        eprintln!("notice: corpus not found (set PROW_CORPUS); skipping job-memory");
        return;
    };
    let k8s = corpus.join("k8s-test-infra/config");
    let paths = ConfigPaths::new(k8s.join("prow/config.yaml"), Some(k8s.join("jobs")))
        .with_plugin_config(k8s.join("prow/plugins.yaml"));
    let base = ALLOC.allocated();
    let start = std::time::Instant::now();
    let (snapshot, warnings) = load_snapshot(&paths).expect("the k8s configuration loads");
    let took = start.elapsed();
    let peak = ALLOC.max_allocated().saturating_sub(base);
    drop(warnings);
    let live = ALLOC.allocated().saturating_sub(base);
    let config = &snapshot.config;
    let (pre, post, per) = config.jobs.counts();
    let jobs = pre + post + per;
    println!(
        "kubernetes/test-infra: {pre} presubmits, {post} postsubmits, {per} periodics ({jobs} jobs), loaded in {took:?}"
    );
    println!("heap peak during load    {}", mb(peak));
    println!(
        "heap live after load     {}  ({} per job)",
        mb(live),
        live / jobs.max(1)
    );
    let whole_config = heap_of(&**config);
    let plugins = heap_of(&*snapshot.plugins);
    println!("  config.yaml + jobs     {}", mb(whole_config));
    println!("  plugins.yaml           {}", mb(plugins));

    let mut parts = [Parts::default(), Parts::default(), Parts::default()];
    let mut decoration = Shared::default();
    for job in config.jobs.presubmits.values().flatten() {
        decoration.add(job.decoration_config.as_ref());
        parts[0].add::<Presubmit>(&config.jobs.presets, job, effective(config, job));
    }
    for job in config.jobs.postsubmits.values().flatten() {
        decoration.add(job.decoration_config.as_ref());
        parts[1].add::<Postsubmit>(&config.jobs.presets, job, effective(config, job));
    }
    for job in &config.jobs.periodics {
        decoration.add(job.decoration_config.as_ref());
        parts[2].add::<Periodic>(&config.jobs.presets, job, effective(config, job));
    }
    let presets = heap_of(&config.jobs.presets);
    println!(
        "  presets ({})            {}",
        config.jobs.presets.len(),
        mb(presets)
    );
    println!(
        "  decoration configs     {} held by {} jobs as {} distinct values ({} if each job held its own)",
        mb(decoration.held),
        decoration.users,
        decoration.seen.len(),
        mb(decoration.unshared)
    );
    println!();
    println!(
        "{:<12} {:>6} {:>10} {:>10} {:>10} {:>10} {:>12} {:>10}",
        "kind", "jobs", "total", "per job", "spec held", "as written", "merged spec", "other"
    );
    let mut sum = Parts::default();
    for (name, p) in ["presubmits", "postsubmits", "periodics"]
        .iter()
        .zip(&parts)
    {
        row(name, p);
        sum.jobs += p.jobs;
        sum.inline += p.inline;
        sum.heap += p.heap;
        sum.spec += p.spec;
        sum.raw_spec += p.raw_spec;
        sum.effective_spec += p.effective_spec;
    }
    row("all jobs", &sum);
    println!();

    // The layout prow-rs had before presets were shared: every job holding its merged spec.
    // Made in place from this load, so the two figures compare within one run.
    let mut snapshot = snapshot;
    let config = std::sync::Arc::get_mut(&mut snapshot.config).expect("one owner");
    let before = ALLOC.allocated();
    for job in config.jobs.presubmits.values_mut().flatten() {
        job.spec = job.effective_spec().map(std::borrow::Cow::into_owned);
    }
    for job in config.jobs.postsubmits.values_mut().flatten() {
        job.spec = job.effective_spec().map(std::borrow::Cow::into_owned);
    }
    for job in &mut config.jobs.periodics {
        job.spec = job.effective_spec().map(std::borrow::Cow::into_owned);
    }
    let merged_live = live + ALLOC.allocated().saturating_sub(before);
    println!(
        "with presets merged into every job (the former layout): heap live {} ({} per job); shared: {} ({} per job)",
        mb(merged_live),
        merged_live / jobs.max(1),
        mb(live),
        live / jobs.max(1)
    );
    println!();
    println!(
        "inline sizes: Presubmit {} B, Postsubmit {} B, Periodic {} B, PodSpec {} B, Container {} B, Volume {} B, VolumeMount {} B, EnvVar {} B",
        std::mem::size_of::<Presubmit>(),
        std::mem::size_of::<Postsubmit>(),
        std::mem::size_of::<Periodic>(),
        std::mem::size_of::<PodSpec>(),
        std::mem::size_of::<Container>(),
        std::mem::size_of::<Volume>(),
        std::mem::size_of::<VolumeMount>(),
        std::mem::size_of::<EnvVar>(),
    );
    println!();
    stored_job();
}

/// Upstream's example ProwJob, the model of the jobs `serve-figures` stores.
const PROWJOB: &str =
    include_str!("../../../prow-core/tests/data/prowjob/upstream/valid_prowjob.yaml");

/// What one ProwJob decoded from the store holds, by part: the figure behind `prow serve`'s
/// memory with many stored jobs, where every reader shares one decoded copy of each job, and
/// the runs of one job share its pod spec and decoration config.
fn stored_job() {
    let job = prow_core::prowjob_from_yaml(PROWJOB)
        .expect("upstream's example ProwJob parses")
        .value;
    let json = serde_json::to_vec(&job).expect("a ProwJob is JSON");
    let decoded: ProwJob = serde_json::from_slice(&json).expect("its JSON reads back");
    // A clone shares the `Arc`s: this is what each further run of the job costs.
    let own = std::mem::size_of::<ProwJob>() + heap_of(&decoded);
    let pod_spec = decoded
        .spec
        .pod_spec
        .as_deref()
        .map_or(0, |s| heap_of(s) + std::mem::size_of::<PodSpec>());
    let decoration = decoded
        .spec
        .decoration_config
        .as_deref()
        .map_or(0, |d| heap_of(d) + std::mem::size_of::<DecorationConfig>());
    let metadata = heap_of(&decoded.metadata);
    println!(
        "a stored ProwJob decoded (upstream's example, {} B of JSON): {} B with its own pod spec ({pod_spec} B) and decoration config ({decoration} B); {own} B for each further run sharing them (metadata {metadata} B, ProwJob inline {} B)",
        json.len(),
        own + pod_spec + decoration,
        std::mem::size_of::<ProwJob>(),
    );
}

fn row(name: &str, p: &Parts) {
    let per = p.total() / p.jobs.max(1);
    println!(
        "{:<12} {:>6} {:>10} {:>8} B {:>10} {:>10} {:>12} {:>10}",
        name,
        p.jobs,
        mb(p.total()),
        per,
        mb(p.spec),
        mb(p.raw_spec),
        mb(p.effective_spec),
        mb(p.total().saturating_sub(p.spec)),
    );
}

/// Values jobs share through an `Arc`: held once per distinct allocation.
#[derive(Default)]
struct Shared {
    seen: std::collections::HashSet<*const DecorationConfig>,
    users: usize,
    /// What the distinct values hold, inline and on the heap.
    held: usize,
    /// What they would hold if every job had its own copy.
    unshared: usize,
}

impl Shared {
    fn add(&mut self, value: Option<&std::sync::Arc<DecorationConfig>>) {
        let Some(value) = value else { return };
        let size = std::mem::size_of::<DecorationConfig>() + heap_of(&**value);
        self.users += 1;
        self.unshared += size;
        if self.seen.insert(std::sync::Arc::as_ptr(value)) {
            self.held += size;
        }
    }
}

/// The pod spec a ProwJob made from `job` carries.
fn effective<J: JobBase>(_config: &prow_config::Config, job: &J) -> Option<PodSpec> {
    job.effective_spec().map(std::borrow::Cow::into_owned)
}

/// `spec` without what the presets matching `labels` add: the pod spec as written.
fn without_presets(
    presets: &[Preset],
    labels: &BTreeMap<String, String>,
    spec: &PodSpec,
) -> PodSpec {
    let mut spec = spec.clone();
    for preset in presets {
        if !preset.labels.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            continue;
        }
        for c in &mut spec.containers {
            if let Some(env) = &mut c.env {
                env.retain(|e| !preset.env.iter().any(|p| p.name == e.name));
            }
            if let Some(mounts) = &mut c.volume_mounts {
                mounts.retain(|m| !preset.volume_mounts.iter().any(|p| p.name == m.name));
            }
        }
        if let Some(volumes) = &mut spec.volumes {
            volumes.retain(|v| !preset.volumes.iter().any(|p| p.name == v.name));
        }
        if let Some(tolerations) = &mut spec.tolerations {
            tolerations.retain(|t| !preset.tolerations.contains(t));
        }
    }
    spec
}
