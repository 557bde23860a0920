//! Load-time validation as Prow's `validateJobConfig`: every error is collected.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex::Regex;

use crate::error::Finding;
use crate::jobs::JobBase;
use crate::load::Config;

/// Compiles each distinct regex once.
#[derive(Default)]
struct Regexes(HashMap<String, Option<Regex>>);

impl Regexes {
    fn get(&mut self, pattern: &str) -> Result<&Regex, String> {
        let entry = self
            .0
            .entry(pattern.to_owned())
            .or_insert_with(|| Regex::new(pattern).ok());
        entry
            .as_ref()
            .ok_or_else(|| format!("invalid regex {pattern:?}"))
    }

    /// Prow's `Brancher.ShouldRun` (unanchored regexes; skip wins).
    fn should_run(&mut self, branches: &[String], skip: &[String], branch: &str) -> bool {
        if skip
            .iter()
            .any(|p| self.get(p).is_ok_and(|r| r.is_match(branch)))
        {
            return false;
        }
        branches.is_empty()
            || branches
                .iter()
                .any(|p| self.get(p).is_ok_and(|r| r.is_match(branch)))
    }

    /// Prow's `Brancher.Intersects`.
    fn intersects(&mut self, a: (&[String], &[String]), b: (&[String], &[String])) -> bool {
        let all = |x: (&[String], &[String])| x.0.is_empty() && x.1.is_empty();
        if all(a) || all(b) {
            return true;
        }
        if !a.0.is_empty() {
            if !b.0.is_empty() {
                return a.0.iter().any(|x| b.0.contains(x));
            }
            return a.0.iter().any(|x| self.should_run(b.0, b.1, x));
        }
        if b.0.is_empty() {
            return true;
        }
        self.intersects(b, a)
    }
}

/// Checks a job name against Prow's rule for its agent.
fn check_name(job: &impl JobBase) -> Option<String> {
    let ok = if job.agent() == "jenkins" {
        let n = job.name();
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._/".contains(c))
            && !n.starts_with('/')
            && (n.len() == 1 || !n.ends_with(['/', '.']))
    } else {
        !job.name().is_empty()
            && job
                .name()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    };
    (!ok).then(|| {
        let re = if job.agent() == "jenkins" {
            "^[A-Za-z0-9-._]([A-Za-z0-9-._/]*[A-Za-z0-9-_])?$"
        } else {
            "^[A-Za-z0-9-._]+$"
        };
        format!("name: must match regex {re:?}")
    })
}

/// Labels Prow sets itself, which jobs may not set.
const RESERVED_LABELS: &[&str] = &["prow.k8s.io/type", "created-by-prow", "prow.k8s.io/id"];

/// Prow's `validateJobBase` rules that need no cluster knowledge; each reason unwrapped.
fn job_base(job: &impl JobBase, config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(m) = check_name(job) {
        out.push(m);
    }
    if job.max_concurrency() < 0 {
        out.push(format!(
            "max_concurrency: {} must be a non-negative number",
            job.max_concurrency()
        ));
    }
    let agent = job.agent();
    if job.spec().is_some() && agent != "kubernetes" {
        out.push(format!(
            "job specs require agent: kubernetes (found {agent:?})"
        ));
    }
    if agent == "kubernetes" {
        match job.spec() {
            None => out.push("kubernetes jobs require a spec".to_owned()),
            Some(spec) if spec.containers.is_empty() => {
                out.push("pod spec must specify at least 1 container, found: 0".to_owned())
            }
            Some(spec) if spec.containers.len() > 1 && job.decorate() != Some(true) => {
                out.push(format!(
                    "pod utility decoration must be enabled to use multiple containers: {}",
                    spec.containers.len()
                ));
            }
            Some(_) => {}
        }
    }
    if job.decorate() == Some(true) && agent != "kubernetes" {
        out.push(format!(
            "decoration requires agent: kubernetes (found {agent:?})"
        ));
    }
    for label in job.labels().keys() {
        if RESERVED_LABELS.contains(&label.as_str()) {
            out.push(format!("label {label} is reserved for decoration"));
        }
    }
    let queue = job.job_queue_name();
    if !queue.is_empty() && !config.prow.plank.job_queue_capacities.contains_key(queue) {
        out.push(format!("invalid job queue name {queue}"));
    }
    out
}

/// Every load-time error in the job configuration.
pub(crate) fn validate(config: &Config) -> Vec<Finding> {
    let mut errors = Vec::new();
    let mut res = Regexes::default();
    let jobs = &config.jobs;
    let err = |job: &dyn Fn() -> (String, String), field: String, message: String| {
        let (file, name) = job();
        Finding::error(message)
            .in_file(file)
            .at(field)
            .for_job(name)
    };

    for (repo, list) in &jobs.presubmits {
        let mut seen: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut duplicates = BTreeSet::new();
        for (i, ps) in list.iter().enumerate() {
            let at = |f: &str| format!("presubmits[{repo:?}][{}]{f}", ps.source_index);
            let who = || (ps.source_path.clone(), ps.name.clone());
            let brancher = (&ps.branches[..], &ps.skip_branches[..]);
            for &j in seen.get(ps.name.as_str()).into_iter().flatten() {
                let other = &list[j];
                if res.intersects((&other.branches, &other.skip_branches), brancher) {
                    duplicates.insert(ps.name.clone());
                }
            }
            seen.entry(&ps.name).or_default().push(i);
            for (j, other) in list.iter().enumerate() {
                if j >= i || other.name == ps.name || other.context != ps.context {
                    continue;
                }
                if res.intersects((&other.branches, &other.skip_branches), brancher) {
                    errors.push(err(
                        &who,
                        at(".context"),
                        format!(
                            "jobs {} and {} report to the same GitHub context {:?}",
                            other.name, ps.name, other.context
                        ),
                    ));
                }
            }
            for m in job_base(ps, config) {
                errors.push(err(
                    &who,
                    at(""),
                    format!("invalid presubmit job {}: {m}", ps.name),
                ));
            }
            if let Some(m) = triggering(ps) {
                errors.push(err(&who, at(""), m));
            }
            match res.get(&ps.trigger) {
                Err(_) => errors.push(err(
                    &who,
                    at(".trigger"),
                    format!("could not set regex: could not compile trigger regex for {}", ps.name),
                )),
                Ok(re) if !re.is_match(&ps.rerun_command) => errors.push(err(
                    &who,
                    at(".rerun_command"),
                    format!(
                        "could not set regex: for job {}, rerun command \"{}\" does not match trigger \"{}\"",
                        ps.name, ps.rerun_command, ps.trigger
                    ),
                )),
                Ok(_) => {}
            }
            regexes(
                &mut res,
                &mut errors,
                &who,
                &at,
                &ps.branches,
                &ps.skip_branches,
                &ps.run_if_changed,
                &ps.skip_if_only_changed,
            );
        }
        if !duplicates.is_empty() {
            let names: Vec<_> = duplicates.into_iter().collect();
            errors.push(
                Finding::error(format!(
                    "duplicated presubmit jobs (consider both inrepo and central config): [{}]",
                    names.join(" ")
                ))
                .at(format!("presubmits[{repo:?}]")),
            );
        }
    }

    for (repo, list) in &jobs.postsubmits {
        let mut duplicates = BTreeSet::new();
        for (i, ps) in list.iter().enumerate() {
            let at = |f: &str| format!("postsubmits[{repo:?}][{}]{f}", ps.source_index);
            let who = || (ps.source_path.clone(), ps.name.clone());
            for other in &list[..i] {
                if other.name == ps.name
                    && res.intersects(
                        (&other.branches, &other.skip_branches),
                        (&ps.branches, &ps.skip_branches),
                    )
                {
                    duplicates.insert(ps.name.clone());
                }
            }
            for m in job_base(ps, config) {
                errors.push(err(
                    &who,
                    at(""),
                    format!("invalid postsubmit job {}: {m}", ps.name),
                ));
            }
            if let Some(m) = always_run(
                &ps.name,
                ps.always_run == Some(true),
                &ps.run_if_changed,
                &ps.skip_if_only_changed,
            ) {
                errors.push(err(&who, at(""), m));
            }
            regexes(
                &mut res,
                &mut errors,
                &who,
                &at,
                &ps.branches,
                &ps.skip_branches,
                &ps.run_if_changed,
                &ps.skip_if_only_changed,
            );
        }
        if !duplicates.is_empty() {
            let names: Vec<_> = duplicates.into_iter().collect();
            errors.push(
                Finding::error(format!(
                    "duplicated postsubmit jobs (consider both inrepo and central config): [{}]",
                    names.join(" ")
                ))
                .at(format!("postsubmits[{repo:?}]")),
            );
        }
    }

    let mut seen = BTreeSet::new();
    for p in &jobs.periodics {
        let at = |f: &str| format!("periodics[{}]{f}", p.source_index);
        let who = || (p.source_path.clone(), p.name.clone());
        if !seen.insert(&p.name) {
            errors.push(err(
                &who,
                at(".name"),
                format!("duplicated periodic job: {}", p.name),
            ));
        }
        for m in job_base(p, config) {
            errors.push(err(
                &who,
                at(""),
                format!("invalid periodic job {}: {m}", p.name),
            ));
        }
        let set = [&p.cron, &p.interval, &p.minimum_interval]
            .iter()
            .filter(|s| !s.is_empty())
            .count();
        if set > 1 {
            errors.push(err(
                &who,
                at(""),
                format!(
                    "cron, interval, and minimum_interval are mutually exclusive in periodic {}",
                    p.name
                ),
            ));
        } else if set == 0 {
            errors.push(err(
                &who,
                at(""),
                format!("at least one of cron, interval, or minimum_interval must be set in periodic {}", p.name),
            ));
        } else {
            for (field, value) in [
                ("interval", &p.interval),
                ("minimum_interval", &p.minimum_interval),
            ] {
                if !value.is_empty() && prow_core::Duration::parse(value).is_err() {
                    errors.push(err(
                        &who,
                        at(&format!(".{field}")),
                        format!("cannot parse duration for {}: {value:?}", p.name),
                    ));
                }
            }
        }
    }
    errors
}

/// Prow's `validateAlwaysRun` and the matcher half of `validateTriggering`.
fn always_run(
    name: &str,
    always_run: bool,
    run_if_changed: &str,
    skip_if_only_changed: &str,
) -> Option<String> {
    if always_run && !run_if_changed.is_empty() {
        return Some(format!(
            "job {name} is set to always run but also declares run_if_changed targets, which are mutually exclusive"
        ));
    }
    if always_run && !skip_if_only_changed.is_empty() {
        return Some(format!(
            "job {name} is set to always run but also declares skip_if_only_changed targets, which are mutually exclusive"
        ));
    }
    if !run_if_changed.is_empty() && !skip_if_only_changed.is_empty() {
        return Some(format!(
            "job {name} declares run_if_changed and skip_if_only_changed, which are mutually exclusive"
        ));
    }
    None
}

/// Prow's `validateTriggering` for presubmits.
fn triggering(job: &crate::jobs::Presubmit) -> Option<String> {
    let name = &job.name;
    if let Some(m) = always_run(
        name,
        job.always_run,
        &job.run_if_changed,
        &job.skip_if_only_changed,
    ) {
        return Some(m);
    }
    if job.trigger.is_empty() != job.rerun_command.is_empty() {
        return Some(format!(
            "either both of job.Trigger and job.RerunCommand must be set, wasnt the case for job {name:?}"
        ));
    }
    None
}

/// Checks that branch and change regexes compile.
#[allow(clippy::too_many_arguments)]
fn regexes(
    res: &mut Regexes,
    errors: &mut Vec<Finding>,
    who: &dyn Fn() -> (String, String),
    at: &dyn Fn(&str) -> String,
    branches: &[String],
    skip_branches: &[String],
    run_if_changed: &str,
    skip_if_only_changed: &str,
) {
    let mut check = |field: String, pattern: &str| {
        if let Err(m) = res.get(pattern) {
            let (file, name) = who();
            errors.push(Finding::error(m).in_file(file).at(field).for_job(name));
        }
    };
    for (i, b) in branches.iter().enumerate() {
        check(at(&format!(".branches[{i}]")), b);
    }
    for (i, b) in skip_branches.iter().enumerate() {
        check(at(&format!(".skip_branches[{i}]")), b);
    }
    for (field, value) in [
        ("run_if_changed", run_if_changed),
        ("skip_if_only_changed", skip_if_only_changed),
    ] {
        if !value.is_empty() {
            check(at(&format!(".{field}")), value);
        }
    }
}
