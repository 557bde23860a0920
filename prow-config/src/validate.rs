//! Load-time validation as Prow's `validateJobConfig`: every error is collected.
//!
//! The work grows linearly with the number of jobs, also when thousands belong to one
//! repository. Upstream compares every presubmit with every earlier one of its repository; a
//! presubmit can only clash with an earlier job of the same name (a duplicate) or the same
//! context, so here the earlier jobs are kept by name and by context and each job is compared
//! with those alone, in the same order (postsubmits likewise by name). Each distinct regex
//! is checked once ([`Regexes`]), and the line of every finding comes from one index of its
//! file (`crate::lines`), not from a parse of the file per finding.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex::Regex;

use crate::error::Finding;
use crate::jobs::{JobBase, JobConfig};
use crate::load::Config;
use crate::prow::ProwConfig;

/// Checks each distinct regex once, and compiles only the few that must run.
///
/// Whether a pattern is valid is a parse (`regex-syntax`), much cheaper than compiling it;
/// the thousands of trigger and change regexes of a large configuration are checked that way
/// and compiled later, once, when a decision needs them.
#[derive(Default)]
struct Regexes {
    valid: HashMap<String, bool>,
    compiled: HashMap<String, Option<Regex>>,
}

impl Regexes {
    /// Whether `pattern` is a valid regex.
    fn check(&mut self, pattern: &str) -> Result<(), String> {
        let ok = *self
            .valid
            .entry(pattern.to_owned())
            .or_insert_with(|| regex_syntax::Parser::new().parse(pattern).is_ok());
        if ok {
            Ok(())
        } else {
            Err(crate::goregex::go_error(pattern)
                .unwrap_or_else(|| format!("error parsing regexp: `{pattern}`")))
        }
    }

    /// `pattern` compiled, if valid.
    fn get(&mut self, pattern: &str) -> Result<&Regex, String> {
        self.compiled
            .entry(pattern.to_owned())
            .or_insert_with(|| Regex::new(pattern).ok())
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

/// Names of the containers decoration adds.
const UTILITY_CONTAINERS: &[&str] = &["clonerefs", "initupload", "place-entrypoint", "sidecar"];

/// Volumes decoration adds to every decorated pod.
const DECORATION_VOLUMES: &[&str] = &["logs", "code", "tools", "gcs-credentials", "s3-credentials"];

/// Mounts decoration adds to the test container, by name and path.
const TEST_CONTAINER_MOUNTS: &[&str] = &["logs", "code", "tools"];
const TEST_CONTAINER_MOUNT_PATHS: &[&str] = &["/logs", "/home/prow/go", "/tools"];

/// The job kind, for the environment Prow reserves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Presubmit,
    Postsubmit,
    Periodic,
}

/// Environment variables Prow sets in a job of `kind`, which its containers may not set.
fn reserved_env(kind: Kind) -> Vec<&'static str> {
    let mut env = vec![
        "CI",
        "JOB_NAME",
        "JOB_SPEC",
        "JOB_TYPE",
        "PROW_JOB_ID",
        "BUILD_ID",
        "BUILD_NUMBER",
    ];
    if kind != Kind::Periodic {
        env.extend([
            "REPO_OWNER",
            "REPO_NAME",
            "SRC_BASE",
            "SRC_HOST",
            "PULL_BASE_REF",
            "PULL_BASE_SHA",
            "PULL_REFS",
        ]);
    }
    if kind == Kind::Presubmit {
        env.extend([
            "PULL_NUMBER",
            "PULL_PULL_SHA",
            "PULL_HEAD_REF",
            "PULL_TITLE",
        ]);
    }
    env
}

/// The fields of a job that `validateJobBase` looks at.
struct Base<'a> {
    kind: Kind,
    labels: &'a BTreeMap<String, String>,
    annotations: &'a BTreeMap<String, String>,
    namespace: Option<&'a str>,
    error_on_eviction: bool,
    has_pipeline_run_spec: bool,
    decoration: Option<&'a prow_core::DecorationConfig>,
    rerun_auth: Option<&'a prow_core::RerunAuthConfig>,
    clone_uri: &'a str,
}

macro_rules! base {
    ($job:expr, $kind:expr) => {
        Base {
            kind: $kind,
            labels: &$job.labels,
            annotations: &$job.annotations,
            namespace: $job.namespace.as_deref(),
            error_on_eviction: $job.error_on_eviction,
            has_pipeline_run_spec: $job.pipeline_run_spec.is_some()
                || $job
                    .tekton_pipeline_run_spec
                    .as_ref()
                    .is_some_and(|t| t.get("v1beta1").is_some_and(|v| !v.is_null())),
            decoration: $job.decoration_config.as_deref(),
            rerun_auth: $job.rerun_auth_config.as_deref(),
            clone_uri: &$job.clone_uri,
        }
    };
}

/// Kubernetes' rule for label keys and annotation keys (`IsQualifiedName`), with its wording.
fn qualified_name_errors(name: &str) -> Vec<String> {
    const NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    let parts: Vec<&str> = name.split('/').collect();
    let (prefix, local) = match parts.as_slice() {
        [local] => (None, *local),
        [prefix, local] => (Some(*prefix), *local),
        _ => {
            return vec![format!(
                "a qualified name {NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    let mut errs = Vec::new();
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            errs.push("prefix part must be non-empty".to_owned());
        } else if !is_dns_subdomain(prefix) {
            errs.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_owned());
        }
    }
    if local.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if local.len() > 63 {
        errs.push("name part must be no more than 63 bytes".to_owned());
    }
    if !local.is_empty() && !is_label_token(local) {
        errs.push(format!("name part {NAME_MSG}"));
    }
    errs
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn is_label_token(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric();
    s.starts_with(ok)
        && s.ends_with(ok)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A lowercase RFC 1123 subdomain.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
            !label.is_empty()
                && label.starts_with(ok)
                && label.ends_with(ok)
                && label.chars().all(|c| ok(c) || c == '-')
        })
}

/// Kubernetes' rule for label values (`IsValidLabelValue`), with its wording.
fn label_value_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push("must be no more than 63 bytes".to_owned());
    }
    if !value.is_empty() && !is_label_token(value) {
        errs.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".to_owned());
    }
    errs
}

/// Go's `%v` of a list of strings.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// Prow's `validatePodSpec`, every reason.
fn pod_spec(
    spec: &prow_core::k8s_openapi::api::core::v1::PodSpec,
    kind: Kind,
    decoration: Option<&prow_core::DecorationConfig>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let init: Vec<(usize, String)> = spec
        .init_containers
        .iter()
        .flatten()
        .enumerate()
        .filter(|(_, c)| c.restart_policy.as_deref() != Some("Always"))
        .map(|(i, c)| (i, c.name.clone()))
        .collect();
    if let Some((first, _)) = init.first() {
        let init: Vec<String> = init.iter().map(|(_, n)| n.clone()).collect();
        out.push((
            format!(".spec.initContainers[{first}]"),
            format!(
                "pod spec may not use init containers(sidecar container is supported): {}",
                go_list(&init)
            ),
        ));
    }
    let n = spec.containers.len();
    if n == 0 {
        out.push((
            ".spec.containers".to_owned(),
            "pod spec must specify at least 1 container, found: 0".to_owned(),
        ));
        return out;
    }
    if n > 1 && decoration.is_none() {
        out.push((
            ".spec.containers".to_owned(),
            format!("pod utility decoration must be enabled to use multiple containers: {n}"),
        ));
        return out;
    }
    if n > 1 {
        let mut names = BTreeSet::new();
        for (i, c) in spec.containers.iter().enumerate() {
            let at = format!(".spec.containers[{i}]");
            if c.name.is_empty() {
                out.push((at.clone(), "container does not have name. all containers must have names when defining multiple containers".to_owned()));
            }
            if !names.insert(c.name.as_str()) {
                out.push((
                    format!("{at}.name"),
                    format!("container named {:?} is defined more than once", c.name),
                ));
            }
            if UTILITY_CONTAINERS.contains(&c.name.as_str()) {
                out.push((format!("{at}.name"), format!("container name {} is a reserved for decoration. please specify a different container name that does not conflict with pod utility container names", c.name)));
            }
        }
    }
    let reserved = reserved_env(kind);
    for (i, c) in spec.containers.iter().enumerate() {
        let mut names = BTreeSet::new();
        for (j, env) in c.env.iter().flatten().enumerate() {
            let at = format!(".spec.containers[{i}].env[{j}].name");
            if !names.insert(env.name.as_str()) {
                out.push((
                    at.clone(),
                    format!("env var named {:?} is defined more than once", env.name),
                ));
            }
            if reserved.contains(&env.name.as_str()) {
                out.push((at, format!("env {} is reserved", env.name)));
            }
        }
    }
    let mut decoration_volumes: Vec<String> =
        DECORATION_VOLUMES.iter().map(|v| (*v).to_owned()).collect();
    if let Some(d) = decoration {
        if let Some(secret) = &d.oauth_token_secret {
            decoration_volumes.push(secret.name.clone());
        }
        decoration_volumes.extend(d.ssh_key_secrets.iter().cloned());
    }
    let mut volumes = BTreeSet::new();
    for (k, v) in spec.volumes.iter().flatten().enumerate() {
        let at = format!(".spec.volumes[{k}].name");
        if !volumes.insert(v.name.as_str()) {
            out.push((
                at.clone(),
                format!("volume named {:?} is defined more than once", v.name),
            ));
        }
        if decoration_volumes.contains(&v.name) {
            out.push((
                at,
                format!("volume {} is a reserved for decoration", v.name),
            ));
        }
    }
    for (i, c) in spec.containers.iter().enumerate() {
        for (j, m) in c.volume_mounts.iter().flatten().enumerate() {
            let at = format!(".spec.containers[{i}].volumeMounts[{j}]");
            if !volumes.contains(m.name.as_str()) && !decoration_volumes.contains(&m.name) {
                out.push((
                    format!("{at}.name"),
                    format!("volumeMount named {:?} is undefined", m.name),
                ));
            }
            if TEST_CONTAINER_MOUNTS.contains(&m.name.as_str()) {
                out.push((
                    format!("{at}.name"),
                    format!("volumeMount name {} is reserved for decoration", m.name),
                ));
            }
            if TEST_CONTAINER_MOUNT_PATHS.contains(&m.mount_path.as_str()) {
                out.push((
                    format!("{at}.mountPath"),
                    format!(
                        "mount {} at {} conflicts with decoration mount",
                        m.name, m.mount_path
                    ),
                ));
            }
        }
    }
    out
}

/// Prow's `validateJobBase`: every reason, unwrapped. Prow stops at a job's first problem;
/// every one is listed here. Without the component configuration (`prow` is `None`: its
/// section of `config.yaml` did not parse) the rules that depend on it are left out, so one
/// bad value there does not turn into an error for every job.
fn job_base(
    job: &impl JobBase,
    base: &Base<'_>,
    prow: Option<&ProwConfig>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |field: &str, message: String| out.push((field.to_owned(), message));
    if let Some(m) = check_name(job) {
        push(".name", m);
    }
    if job.max_concurrency() < 0 {
        push(
            ".max_concurrency",
            format!(
                "max_concurrency: {} must be a non-negative number",
                job.max_concurrency()
            ),
        );
    }
    let agent = job.agent();
    let known_agent = ["kubernetes", "jenkins", "tekton-pipeline"].contains(&agent);
    // Prow checks the agent rules in order and reports the first that fails; an agent it does
    // not know is not checked at all.
    let pod_namespace = match prow {
        Some(prow) if !prow.pod_namespace.is_empty() => Some(prow.pod_namespace.as_str()),
        Some(_) => Some("default"),
        None => None,
    };
    let agent_problem: Option<(&str, String)> = if !known_agent {
        None
    } else if job.spec().is_some() && agent != "kubernetes" {
        Some((
            ".agent",
            format!("job specs require agent: kubernetes (found {agent:?})"),
        ))
    } else if agent == "kubernetes" && job.spec().is_none() {
        Some(("", "kubernetes jobs require a spec".to_owned()))
    } else if base.has_pipeline_run_spec && agent != "tekton-pipeline" {
        Some((
            ".pipeline_run_spec",
            format!("job pipeline_run_spec require agent: tekton-pipeline (found {agent:?})"),
        ))
    } else if agent == "tekton-pipeline" && !base.has_pipeline_run_spec {
        Some((
            ".agent",
            "agent: tekton-pipeline jobs require a pipeline_run_spec".to_owned(),
        ))
    } else if base.decoration.is_some() && agent != "kubernetes" {
        Some((
            ".decorate",
            format!("decoration requires agent: kubernetes (found {agent:?})"),
        ))
    } else if base.error_on_eviction && agent != "kubernetes" {
        Some((
            ".error_on_eviction",
            format!("error_on_eviction only applies to agent: kubernetes (found {agent:?})"),
        ))
    } else if base
        .namespace
        .is_some_and(|n| pod_namespace.is_some_and(|p| !n.is_empty() && n != p))
        && agent != "tekton-pipeline"
    {
        Some((
            ".namespace",
            format!("namespace customization requires agent: tekton-pipeline (found {agent:?})"),
        ))
    } else {
        None
    };
    if let Some((field, message)) = agent_problem {
        push(field, message);
    }
    // Prow validates the spec its presets were merged into.
    if let Some(spec) = job.effective_spec() {
        for (field, message) in pod_spec(&spec, base.kind, base.decoration) {
            push(&field, message);
        }
    }
    for (label, value) in base.labels {
        let mut at = ".labels".to_owned();
        crate::locate::push_key(&mut at, label);
        if RESERVED_LABELS.contains(&label.as_str()) {
            push(&at, format!("label {label} is reserved for decoration"));
            continue;
        }
        let errs = qualified_name_errors(label);
        if !errs.is_empty() {
            push(&at, format!("invalid label {label}: {}", go_list(&errs)));
            continue;
        }
        let errs = label_value_errors(value);
        if !errs.is_empty() {
            push(
                &at,
                format!(
                    "label {label} has invalid value {value}: {}",
                    go_list(&errs)
                ),
            );
        }
    }
    for key in base.annotations.keys() {
        let errs = qualified_name_errors(key);
        if !errs.is_empty() {
            let mut at = ".annotations".to_owned();
            crate::locate::push_key(&mut at, key);
            push(
                &at,
                format!("invalid annotation key {key:?}: {}", go_list(&errs)),
            );
        }
    }
    let queue = job.job_queue_name();
    if !queue.is_empty()
        && prow.is_some_and(|prow| !prow.plank.job_queue_capacities.contains_key(queue))
    {
        push(".job_queue_name", format!("invalid job queue name {queue}"));
    }
    let Some(spec) = job.spec().filter(|s| !s.containers.is_empty()) else {
        return out;
    };
    if let Some(Err(e)) = base.rerun_auth.map(prow_core::RerunAuthConfig::validate) {
        push(".rerun_auth_config", e);
    }
    if !base.clone_uri.is_empty() {
        let uri = match base.clone_uri.find('@') {
            Some(i) => &base.clone_uri[i + 1..],
            None => base.clone_uri,
        };
        let oauth = base
            .decoration
            .is_some_and(|d| d.oauth_token_secret.is_some());
        if oauth && !(uri.starts_with("http://") || uri.starts_with("https://")) {
            push(
                ".clone_uri",
                format!("scheme must be http or https when OAuth secret is specified: {uri}"),
            );
        }
    }
    if let Some(decoration) = base.decoration {
        // Decoration defaults come from `plank`; without them a job's decoration is partial.
        if let Some(Err(e)) = prow.map(|_| decoration.validate()) {
            push(
                ".decoration_config",
                format!("invalid decoration config: {e}"),
            );
        } else if let Some(i) = spec.containers.iter().position(|c| {
            c.command
                .iter()
                .flatten()
                .chain(c.args.iter().flatten())
                .next()
                .is_none_or(String::is_empty)
        }) {
            push(
                &format!(".spec.containers[{i}]"),
                "decorated job containers must specify command and/or args".to_owned(),
            );
        }
    }
    out
}

/// Every load-time error in the job configuration; `component_read` is false when the
/// component part of `config.yaml` did not parse (its defaults stand in for it).
pub(crate) fn validate(config: &Config, component_read: bool) -> Vec<Finding> {
    validate_jobs(component_read.then_some(&config.prow), &config.jobs)
}

/// Every load-time error in `jobs`, judged against the component configuration `prow`:
/// presubmits on one thread, postsubmits and periodics on another (their rules are
/// independent), reported in that order.
pub(crate) fn validate_jobs(prow: Option<&ProwConfig>, jobs: &JobConfig) -> Vec<Finding> {
    let (mut errors, rest) = std::thread::scope(|scope| {
        let rest = scope.spawn(|| validate_part(prow, jobs, false));
        let presubmits = validate_part(prow, jobs, true);
        (
            presubmits,
            rest.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    errors.extend(rest);
    errors
}

/// The presubmit half (`presubmits`) or the rest of [`validate_jobs`].
fn validate_part(prow: Option<&ProwConfig>, jobs: &JobConfig, presubmits: bool) -> Vec<Finding> {
    let mut errors = Vec::new();
    let mut res = Regexes::default();
    let err = |job: &dyn Fn() -> (String, String), field: String, message: String| {
        let (file, name) = job();
        Finding::error(message)
            .in_file(file)
            .at(field)
            .for_job(name)
    };

    let (pre, post, periodics) = if presubmits {
        (&jobs.presubmits, &BTreeMap::new(), &[][..])
    } else {
        (&BTreeMap::new(), &jobs.postsubmits, &jobs.periodics[..])
    };
    for (repo, list) in pre {
        // Earlier jobs by name and by context: only those can clash with the next one, so
        // each job is compared with its namesakes and context-sharers, not with every job.
        let mut seen: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_context: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut duplicates = BTreeSet::new();
        // The first repeated job, so the aggregated error can point at a file.
        let mut where_first: Option<(String, String)> = None;
        for (i, ps) in list.iter().enumerate() {
            let at = |f: &str| format!("presubmits[{repo:?}][{}]{f}", ps.source_index);
            let who = || (ps.source_path.clone(), ps.name.clone());
            let brancher = (&ps.branches[..], &ps.skip_branches[..]);
            for &j in seen.get(ps.name.as_str()).into_iter().flatten() {
                let other = &list[j];
                if res.intersects((&other.branches, &other.skip_branches), brancher) {
                    duplicates.insert(ps.name.clone());
                    where_first.get_or_insert_with(|| (ps.source_path.clone(), at("")));
                }
            }
            seen.entry(&ps.name).or_default().push(i);
            for &j in by_context.get(ps.context.as_str()).into_iter().flatten() {
                let other = &list[j];
                if other.name == ps.name {
                    continue;
                }
                if res.intersects((&other.branches, &other.skip_branches), brancher) {
                    // Prow compares every job with every other, so each pair is reported
                    // twice, once from each job.
                    errors.extend(context_clash(
                        "presubmits",
                        repo,
                        (other.name.as_str(), &other.source_path, other.source_index),
                        (ps.name.as_str(), &ps.source_path, ps.source_index),
                        &ps.context,
                    ));
                }
            }
            by_context.entry(&ps.context).or_default().push(i);
            for (field, m) in job_base(ps, &base!(ps, Kind::Presubmit), prow) {
                errors.push(err(
                    &who,
                    at(&field),
                    format!("invalid presubmit job {}: {m}", ps.name),
                ));
            }
            if let Some((field, m)) = triggering(ps) {
                errors.push(err(&who, at(field), m));
            }
            if let Some((field, m)) = reporting(ps, ps.skip_report, &ps.context) {
                errors.push(err(
                    &who,
                    at(field),
                    format!("invalid presubmit job {}: {m}", ps.name),
                ));
            }
            // The trigger and rerun command Prow gives a job agree by construction; a job
            // name that could break the regex is reported by the name check.
            let defaulted = ps.trigger == crate::defaults::default_trigger_for(&ps.name)
                && ps.rerun_command.strip_prefix("/test ") == Some(ps.name.as_str())
                && ps
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
            let trigger = if defaulted {
                Ok(())
            } else {
                res.check(&ps.trigger)
            };
            let matches = || ps.trigger_matches(&ps.rerun_command);
            match trigger {
                Err(e) => errors.push(err(
                    &who,
                    at(".trigger"),
                    format!(
                        "could not set regex: could not compile trigger regex for {}: {e}",
                        ps.name
                    ),
                )),
                Ok(()) if !defaulted && !matches() => errors.push(err(
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
                &ps.name,
                &ps.branches,
                &ps.skip_branches,
                &ps.run_if_changed,
                &ps.skip_if_only_changed,
            );
        }
        if !duplicates.is_empty() {
            let names: Vec<_> = duplicates.into_iter().collect();
            let mut finding = Finding::error(format!(
                "duplicated presubmit jobs (consider both inrepo and central config): [{}]",
                names.join(" ")
            ))
            .at(format!("presubmits[{repo:?}]"));
            if let Some((file, field)) = where_first {
                finding = finding.in_file(file).at(field);
            }
            errors.push(finding);
        }
    }

    for (repo, list) in post {
        // Earlier jobs by name and by context: only namesakes can be duplicates, only
        // context-sharers can clash.
        let mut seen: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_context: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut duplicates = BTreeSet::new();
        // The first repeated job, so the aggregated error can point at a file.
        let mut where_first: Option<(String, String)> = None;
        for (i, ps) in list.iter().enumerate() {
            let at = |f: &str| format!("postsubmits[{repo:?}][{}]{f}", ps.source_index);
            let who = || (ps.source_path.clone(), ps.name.clone());
            for &j in seen.get(ps.name.as_str()).into_iter().flatten() {
                let other = &list[j];
                if res.intersects(
                    (&other.branches, &other.skip_branches),
                    (&ps.branches, &ps.skip_branches),
                ) {
                    duplicates.insert(ps.name.clone());
                    where_first.get_or_insert_with(|| (ps.source_path.clone(), at("")));
                }
            }
            seen.entry(&ps.name).or_default().push(i);
            for &j in by_context.get(ps.context.as_str()).into_iter().flatten() {
                let other = &list[j];
                if other.name != ps.name
                    && res.intersects(
                        (&other.branches, &other.skip_branches),
                        (&ps.branches, &ps.skip_branches),
                    )
                {
                    errors.extend(context_clash(
                        "postsubmits",
                        repo,
                        (other.name.as_str(), &other.source_path, other.source_index),
                        (ps.name.as_str(), &ps.source_path, ps.source_index),
                        &ps.context,
                    ));
                }
            }
            by_context.entry(&ps.context).or_default().push(i);
            for (field, m) in job_base(ps, &base!(ps, Kind::Postsubmit), prow) {
                errors.push(err(
                    &who,
                    at(&field),
                    format!("invalid postsubmit job {}: {m}", ps.name),
                ));
            }
            if let Some((field, m)) = reporting(ps, ps.skip_report, &ps.context) {
                errors.push(err(
                    &who,
                    at(field),
                    format!("invalid postsubmit job {}: {m}", ps.name),
                ));
            }
            if let Some((field, m)) = always_run(
                &ps.name,
                ps.always_run == Some(true),
                &ps.run_if_changed,
                &ps.skip_if_only_changed,
            ) {
                errors.push(err(&who, at(field), m));
            }
            regexes(
                &mut res,
                &mut errors,
                &who,
                &at,
                &ps.name,
                &ps.branches,
                &ps.skip_branches,
                &ps.run_if_changed,
                &ps.skip_if_only_changed,
            );
        }
        if !duplicates.is_empty() {
            let names: Vec<_> = duplicates.into_iter().collect();
            let mut finding = Finding::error(format!(
                "duplicated postsubmit jobs (consider both inrepo and central config): [{}]",
                names.join(" ")
            ))
            .at(format!("postsubmits[{repo:?}]"));
            if let Some((file, field)) = where_first {
                finding = finding.in_file(file).at(field);
            }
            errors.push(finding);
        }
    }

    let mut seen = BTreeSet::new();
    for p in periodics {
        let at = |f: &str| format!("periodics[{}]{f}", p.source_index);
        let who = || (p.source_path.clone(), p.name.clone());
        if !seen.insert(&p.name) {
            errors.push(err(
                &who,
                at(".name"),
                format!("duplicated periodic job: {}", p.name),
            ));
        }
        for (field, m) in job_base(p, &base!(p, Kind::Periodic), prow) {
            errors.push(err(
                &who,
                at(&field),
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
                if value.is_empty() {
                    continue;
                }
                if let Err(e) = prow_core::Duration::parse(value) {
                    errors.push(err(
                        &who,
                        at(&format!(".{field}")),
                        format!("cannot parse duration for {}: time: {e}", p.name),
                    ));
                }
            }
            if !p.cron.is_empty()
                && let Err(e) = prow_core::cron::check(&p.cron)
            {
                errors.push(err(
                    &who,
                    at(".cron"),
                    format!("invalid cron string {} in periodic {}: {e}", p.cron, p.name),
                ));
            }
            // Like Prow, a retry block needs an interval, even when it sets nothing else.
            if let Some(retry) = p.retry.as_ref().filter(|r| !r.is_null()) {
                let interval = retry
                    .get("interval")
                    .and_then(|i| i.as_str())
                    .unwrap_or_default();
                if let Err(e) = prow_core::Duration::parse(interval) {
                    errors.push(err(
                        &who,
                        at(".retry.interval"),
                        format!("cannot parse Retry duration for {}: time: {e}", p.name),
                    ));
                }
            }
        }
    }
    errors
}

/// Prow's `validateAlwaysRun` and the matcher half of `validateTriggering`: the field at fault
/// and why.
fn always_run(
    name: &str,
    always_run: bool,
    run_if_changed: &str,
    skip_if_only_changed: &str,
) -> Option<(&'static str, String)> {
    if always_run && !run_if_changed.is_empty() {
        return Some((
            ".run_if_changed",
            format!(
                "job {name} is set to always run but also declares run_if_changed targets, which are mutually exclusive"
            ),
        ));
    }
    if always_run && !skip_if_only_changed.is_empty() {
        return Some((
            ".skip_if_only_changed",
            format!(
                "job {name} is set to always run but also declares skip_if_only_changed targets, which are mutually exclusive"
            ),
        ));
    }
    if !run_if_changed.is_empty() && !skip_if_only_changed.is_empty() {
        return Some((
            ".skip_if_only_changed",
            format!(
                "job {name} declares run_if_changed and skip_if_only_changed, which are mutually exclusive"
            ),
        ));
    }
    None
}

/// Prow's `validateTriggering` for presubmits: the field at fault and why.
fn triggering(job: &crate::jobs::Presubmit) -> Option<(&'static str, String)> {
    let name = &job.name;
    if let Some(found) = always_run(
        name,
        job.always_run,
        &job.run_if_changed,
        &job.skip_if_only_changed,
    ) {
        return Some(found);
    }
    if job.trigger.is_empty() != job.rerun_command.is_empty() {
        let field = if job.trigger.is_empty() {
            ".rerun_command"
        } else {
            ".trigger"
        };
        return Some((
            field,
            format!(
                "either both of job.Trigger and job.RerunCommand must be set, wasnt the case for job {name:?}"
            ),
        ));
    }
    None
}

/// Prow's context clash between two jobs of one repository whose branches overlap, reported
/// from each job as Prow does (`jobs OTHER and THIS report to the same GitHub context`).
/// A job is `(name, file, index in its file)`.
fn context_clash(
    kind: &str,
    repo: &str,
    earlier: (&str, &str, usize),
    later: (&str, &str, usize),
    context: &str,
) -> [Finding; 2] {
    let finding = |this: (&str, &str, usize), other: (&str, &str, usize)| {
        Finding::error(format!(
            "jobs {} and {} report to the same GitHub context {context:?}",
            other.0, this.0
        ))
        .in_file(this.1)
        .at(format!("{kind}[{repo:?}][{}].context", this.2))
        .for_job(this.0)
    };
    [finding(earlier, later), finding(later, earlier)]
}

/// The label Gerrit's reporter reads the report label from.
const GERRIT_REPORT_LABEL: &str = "prow.k8s.io/gerrit-report-label";

/// Prow's `validateReporting`: a job that reports needs a context, and a job that skips
/// reporting must not ask Gerrit to report under a label.
fn reporting(
    job: &impl JobBase,
    skip_report: bool,
    context: &str,
) -> Option<(&'static str, String)> {
    if !skip_report {
        return context.is_empty().then(|| {
            (
                ".context",
                "job is set to report but has no context configured".to_owned(),
            )
        });
    }
    job.labels()
        .get(GERRIT_REPORT_LABEL)
        .filter(|value| !value.is_empty())
        .map(|_| {
            (
                ".labels",
                format!("gerrit report label {GERRIT_REPORT_LABEL} set to non-empty string but job is configured to skip reporting."),
            )
        })
}

/// Prow's `setBrancherRegexes` and `setChangeRegexes` with its wording: the branches are
/// compiled joined with `|` (so the quoted pattern is the joined one), the change rule by its
/// property name. The finding points at the first branch that does not compile alone.
#[allow(clippy::too_many_arguments)]
fn regexes(
    res: &mut Regexes,
    errors: &mut Vec<Finding>,
    who: &dyn Fn() -> (String, String),
    at: &dyn Fn(&str) -> String,
    name: &str,
    branches: &[String],
    skip_branches: &[String],
    run_if_changed: &str,
    skip_if_only_changed: &str,
) {
    let mut push = |field: String, message: String| {
        let (file, job) = who();
        errors.push(
            Finding::error(format!("could not set regex: {message}"))
                .in_file(file)
                .at(field)
                .for_job(job),
        );
    };
    for (list, field, sign) in [
        (branches, "branches", "positive"),
        (skip_branches, "skip_branches", "negative"),
    ] {
        if list.is_empty() {
            continue;
        }
        if let Err(e) = res.check(&list.join("|")) {
            let first = list.iter().position(|b| res.check(b).is_err()).unwrap_or(0);
            push(
                at(&format!(".{field}[{first}]")),
                format!(
                    "could not set branch regexes for {name}: could not compile {sign} branch regex: {e}"
                ),
            );
        }
    }
    let (property, value) = if !run_if_changed.is_empty() {
        ("run_if_changed", run_if_changed)
    } else {
        ("skip_if_only_changed", skip_if_only_changed)
    };
    if !value.is_empty()
        && let Err(e) = res.check(value)
    {
        push(
            at(&format!(".{property}")),
            format!(
                "could not set change regexes for {name}: could not compile {property} regex: {e}"
            ),
        );
    }
}

pub use crate::warnings::{DEFAULT_WARNINGS, EXPENSIVE_WARNINGS, OPTIONAL_WARNINGS};

pub use crate::warnings::all_warnings;

/// Which of checkconfig's optional checks run, and with what.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WarningOptions {
    /// Enabled warning names, exclusions already removed.
    pub enabled: BTreeSet<String>,
    /// `--required-job-annotations`: annotations every job must carry.
    pub required_job_annotations: Vec<String>,
    /// `--config-path`: warnings of this file count as `unknown-fields`, of others as
    /// `unknown-fields-all`.
    pub config_path: std::path::PathBuf,
    /// `--supplemental-prow-config-dir`s, for `validate-supplemental-prow-config-hierarchy`.
    pub supplemental_prow_config_dirs: Vec<std::path::PathBuf>,
    /// The suffix of supplemental prow-config files.
    pub supplemental_prow_configs_suffix: String,
}

impl WarningOptions {
    /// Resolves checkconfig's flags like Prow: no `--warnings` (or
    /// `--include-default-warnings`) means the default set, plus the expensive ones with
    /// `--expensive-checks`; `--exclude-warning` removes names. An unknown name is an error
    /// with Prow's wording.
    pub fn from_flags(
        warnings: &[String],
        exclude: &[String],
        include_default: bool,
        expensive: bool,
    ) -> Result<Self, String> {
        let all = all_warnings();
        for warning in warnings {
            if !all.contains(&warning.as_str()) {
                return Err(format!(
                    "no such warning {warning:?}, valid warnings: [{}]",
                    all.join(" ")
                ));
            }
        }
        let mut enabled: BTreeSet<String> = warnings.iter().cloned().collect();
        if warnings.is_empty() || include_default {
            let extra: &[&str] = if expensive { &all } else { DEFAULT_WARNINGS };
            enabled.extend(extra.iter().map(|w| (*w).to_owned()));
        }
        for w in exclude {
            enabled.remove(w);
        }
        Ok(WarningOptions {
            enabled,
            ..WarningOptions::default()
        })
    }

    /// Sets the annotations every job must carry.
    pub fn with_required_job_annotations(mut self, annotations: Vec<String>) -> Self {
        self.required_job_annotations = annotations;
        self
    }

    /// Sets the path of `config.yaml`.
    pub fn with_config_path(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config_path = path.into();
        self
    }

    /// Sets the supplemental prow-config directories and their files' suffix.
    pub fn with_supplemental(
        mut self,
        dirs: Vec<std::path::PathBuf>,
        suffix: impl Into<String>,
    ) -> Self {
        self.supplemental_prow_config_dirs = dirs;
        self.supplemental_prow_configs_suffix = suffix.into();
        self
    }

    fn on(&self, name: &str) -> bool {
        self.enabled.contains(name)
    }
}

/// checkconfig's warnings that need neither plugins.yaml nor GitHub: each problem once, with
/// the job's file, line and field. Includes the load warnings (unknown fields and repeated
/// keys) that `unknown-fields` / `unknown-fields-all` ask for.
pub fn check_warnings(config: &Config, options: &WarningOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    let all = options.on("unknown-fields-all");
    let main = all || options.on("unknown-fields");
    for w in &config.warnings {
        let in_main = w.file.as_deref() == Some(options.config_path.as_path());
        if (in_main && main) || all {
            out.push(w.clone());
        }
    }
    let config_checks = crate::warnings::WarningOptions::new(Some(options.config_path.clone()))
        .with_required_job_annotations(options.required_job_annotations.clone());
    for name in crate::warnings::CONFIG_WARNINGS {
        if options.on(name)
            && let Some(found) = crate::warnings::run_warning(name, config, &config_checks)
        {
            out.extend(found);
        }
    }
    // Not a named warning: Prow always checks rerun commands against Gerrit's trigger regex.
    out.extend(crate::warnings::gerrit_rerun_commands(config));
    if options.on(crate::branches::UNANCHORED_BRANCHES) {
        out.extend(crate::branches::unanchored_branches(&config.jobs));
    }
    // Prow also accepts the old misspelling of this warning's name.
    if options.on("validate-supplemental-prow-config-hierarchy")
        || options.on("validate-supplemental-prow-config-hirarchy")
    {
        out.extend(crate::supplemental::supplemental_hierarchy(
            &options.supplemental_prow_config_dirs,
            &options.supplemental_prow_configs_suffix,
        ));
    }
    crate::locate::fill_lines_parsed(&mut out, &config.jobs.source_paths());
    out
}
