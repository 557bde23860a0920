//! Reading `plugins.yaml` and supplemental plugin configs, merged and validated as Prow's
//! `ConfigAgent.Load` does with `CheckUnknownPlugins` on (checkconfig's setting).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::config::{Label, PluginConfig};
use super::validate::{Issue, validate};
use crate::error::{Error, Finding, Severity};
use crate::locate::{
    Anchor, FieldSegment as Seg, Lines, field_path as path, parse_field_path,
    render_field_path as render,
};

/// Default `--supplemental-plugin-configs-filename-suffix`.
pub const DEFAULT_SUPPLEMENTAL_SUFFIX: &str = "_pluginconfig.yaml";

/// Where to read plugin configuration from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PluginLoadOptions {
    /// `--plugin-config`: `plugins.yaml` (gzip is detected).
    pub path: PathBuf,
    /// `--supplemental-plugin-config-dir` (repeatable).
    pub supplemental_dirs: Vec<PathBuf>,
    /// `--supplemental-plugin-configs-filename-suffix`; an empty suffix reads no supplements.
    pub suffix: String,
    /// Reject plugin names hook does not know (checkconfig does, hook does not).
    pub check_unknown_plugins: bool,
}

impl PluginLoadOptions {
    /// Options reading `path` only, checking unknown plugin names as checkconfig does.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        PluginLoadOptions {
            path: path.into(),
            supplemental_dirs: Vec::new(),
            suffix: DEFAULT_SUPPLEMENTAL_SUFFIX.to_owned(),
            check_unknown_plugins: true,
        }
    }

    /// Adds supplemental directories and their file-name suffix.
    pub fn with_supplements(mut self, dirs: &[PathBuf], suffix: &str) -> Self {
        self.supplemental_dirs = dirs.to_vec();
        self.suffix = suffix.to_owned();
        self
    }
}

/// Loads `plugins.yaml` and its supplements: the defaulted configuration and its warnings, or
/// every error found (parse, merge and validation problems together).
pub fn load_plugins(options: &PluginLoadOptions) -> Result<(PluginConfig, Vec<Finding>), Error> {
    let mut sources = Sources::default();
    let mut issues: Vec<(usize, Vec<Seg>, Severity, String)> = Vec::new();
    let mut findings = Vec::new();

    let main = sources.read(&options.path)?;
    let mut config = match parse_plugin_config(&sources.texts[main], &options.path) {
        Ok((config, unknown)) => {
            findings.extend(unknown);
            Some(config)
        }
        Err(finding) => {
            findings.push(finding);
            None
        }
    };
    if let Some(c) = &config {
        issues.extend(form_issues(c, main));
    }

    let mut origins = Origins::default();
    if !options.suffix.is_empty() {
        for dir in &options.supplemental_dirs {
            let mut files = Vec::new();
            if let Err(e) = walk(dir, &options.suffix, &mut files) {
                findings.push(
                    Finding::error(format!("failed to walk {}: {e}", dir.display())).in_file(dir),
                );
            }
            for file in files {
                // Prow reports an unreadable supplement and goes on with the others.
                let index = match sources.read(&file) {
                    Ok(index) => index,
                    Err(e) => {
                        let cause = std::error::Error::source(&e)
                            .map(|s| format!(": {s}"))
                            .unwrap_or_default();
                        findings
                            .push(Finding::error(format!("failed to {e}{cause}")).in_file(&file));
                        continue;
                    }
                };
                let (other, unknown) = match parse_plugin_config(&sources.texts[index], &file) {
                    Ok(parsed) => parsed,
                    Err(finding) => {
                        findings.push(finding);
                        continue;
                    }
                };
                findings.extend(unknown);
                issues.extend(form_issues(&other, index));
                if let Some(config) = &mut config {
                    for (p, message) in merge(config, other, index, &mut origins) {
                        issues.push((index, p, Severity::Error, message));
                    }
                }
            }
        }
    }

    let mut config = match config {
        Some(config) => config,
        None => {
            return Err(Error::Invalid {
                errors: errors_of(findings),
            });
        }
    };
    for Issue {
        severity,
        path,
        message,
    } in validate(&mut config, options.check_unknown_plugins)
    {
        let (file, path_in_file) = origins.locate(main, &path);
        issues.push((file, path_in_file, severity, message));
    }

    // Each file's lines are indexed once for all its findings.
    let lines: Vec<Lines<'_>> = sources.texts.iter().map(|t| Lines::new(t)).collect();
    // Unknown-field warnings come without a line; find it from their path.
    for finding in &mut findings {
        if finding.line.is_none()
            && let Some(file) = &finding.file
            && let Some(index) = sources.paths.iter().position(|p| p == file)
        {
            finding.line = lines[index].line_of(&parse_field_path(&finding.field), Anchor::Key);
        }
    }
    for (file, p, severity, message) in issues {
        let mut finding = Finding::error(message)
            .in_file(&sources.paths[file])
            .at(render(&p));
        finding.severity = severity;
        finding.line = lines[file].line_of(&p, Anchor::Key);
        findings.push(finding);
    }
    if findings.iter().any(|f| f.severity == Severity::Error) {
        Err(Error::Invalid {
            errors: errors_of(findings),
        })
    } else {
        Ok((config, findings))
    }
}

/// Parses one plugin config document as written, without supplements, defaults or checks:
/// the value and its unknown-field warnings, or the located parse error.
pub fn parse_plugin_config(
    text: &str,
    file: &Path,
) -> Result<(PluginConfig, Vec<Finding>), Finding> {
    crate::parse::parse::<PluginConfig>(&yaml11_bools(text), file)
}

/// The boolean fields of plugins.yaml written the YAML 1.1 way (`prs: yes`, `gzip: off`),
/// which Go reads as booleans and YAML 1.2 as strings.
static YAML11_BOOL: LazyLock<Regex> = LazyLock::new(|| {
    let keys = [
        "add_external_link",
        "allow_closed_issues",
        "allow_missing_approved_label",
        "allow_missing_lgtm_label",
        "allow_top_level_owners",
        "always_post",
        "disabled",
        "enable_backporting",
        "exclude_defaults",
        "exclude_approvers",
        "gzip",
        "ignore_drafts",
        "ignore_ok_to_test",
        "ignore_review_state",
        "issue_required",
        "is_open",
        "issues",
        "lgtm_acts_as_approve",
        "only_org_members",
        "prs",
        "require_self_approval",
        "review_acts_as_lgtm",
        "skip_dco_check_for_collaborators",
        "skip_dco_check_for_members",
        "store_tree_hash",
        "trigger_github_workflows",
        "use_full_path_as_key",
        "use_status_availability",
        "validate_by_default",
    ];
    Regex::new(&format!(
        r"(?m)^(\s*(?:-\s+)?(?:{}):[ \t]+)(y|Y|yes|Yes|YES|on|On|ON|n|N|no|No|NO|off|Off|OFF)([ \t]*(?:#.*)?)$",
        keys.join("|")
    ))
    .expect("static regex")
});

/// Rewrites YAML 1.1 booleans of known boolean fields as `true`/`false`; lines stay put.
fn yaml11_bools(text: &str) -> Cow<'_, str> {
    YAML11_BOOL.replace_all(text, |c: &regex::Captures<'_>| {
        let value = matches!(
            &c[2],
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
        );
        format!("{}{value}{}", &c[1], &c[3])
    })
}

/// The deprecation warning of the list form, or the error of mixing both forms.
fn form_issues(c: &PluginConfig, file: usize) -> Option<(usize, Vec<Seg>, Severity, String)> {
    if let Some((list, map)) = c.plugins.mixed_forms() {
        return Some((
            file,
            path!["plugins", list],
            Severity::Error,
            format!(
                "plugins mixes the deprecated list form (here) with the map form (as in {map:?}); \
                 Prow reads only one form per file"
            ),
        ));
    }
    c.plugins
        .is_legacy()
        .then(|| (file, path!["plugins"], Severity::Warning, LEGACY.to_owned()))
}

const LEGACY: &str = "plugins declaration uses a deprecated config style, see https://github.com/kubernetes/test-infra/issues/20631#issuecomment-787693609 for a migration guide";

fn errors_of(findings: Vec<Finding>) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

/// Every file read, by index.
#[derive(Default)]
struct Sources {
    paths: Vec<PathBuf>,
    texts: Vec<String>,
}

impl Sources {
    fn read(&mut self, path: &Path) -> Result<usize, Error> {
        let text = crate::files::read_maybe_gzip(path)?;
        self.paths.push(path.to_owned());
        self.texts.push(text);
        Ok(self.texts.len() - 1)
    }
}

/// Which file each merged entry came from, so findings point into the right one.
#[derive(Default)]
struct Origins {
    /// (`plugins` or `external_plugins`, key) to file.
    keys: BTreeMap<(&'static str, String), usize>,
    /// List section to (index of the first appended entry, file) spans.
    lists: BTreeMap<&'static str, Vec<(usize, usize)>>,
}

/// The list sections a supplement may append to.
const LISTS: [&str; 4] = ["approve", "lgtm", "triggers", "welcome"];

impl Origins {
    /// The file a merged-config path belongs to, and the path inside that file.
    fn locate(&self, main: usize, p: &[Seg]) -> (usize, Vec<Seg>) {
        match p {
            [Seg::Key(section), Seg::Key(key), ..] => {
                let section = if section == "plugins" {
                    "plugins"
                } else if section == "external_plugins" {
                    "external_plugins"
                } else {
                    return (main, p.to_vec());
                };
                match self.keys.get(&(section, key.clone())) {
                    Some(file) => (*file, p.to_vec()),
                    None => (main, p.to_vec()),
                }
            }
            [Seg::Key(section), Seg::Index(i), rest @ ..] => {
                let spans = LISTS
                    .iter()
                    .find(|s| *s == section)
                    .and_then(|s| self.lists.get(s));
                let Some(&(start, file)) =
                    spans.and_then(|spans| spans.iter().rev().find(|(start, _)| start <= i))
                else {
                    return (main, p.to_vec());
                };
                let mut inner = vec![Seg::Key(section.clone()), Seg::Index(i - start)];
                inner.extend(rest.iter().cloned());
                (file, inner)
            }
            _ => (main, p.to_vec()),
        }
    }
}

/// Prow's `Configuration.mergeFrom`: a supplement may only add plugins, external plugins,
/// bugzilla, approve, lgtm, triggers, welcome and restricted labels, and may not redefine
/// an org or repo. Returns the problems, located in the supplement.
fn merge(
    c: &mut PluginConfig,
    other: PluginConfig,
    file: usize,
    origins: &mut Origins,
) -> Vec<(Vec<Seg>, String)> {
    let mut out = Vec::new();
    for field in unmergeable(&other) {
        out.push((
            path![field],
            format!(
                "supplemental plugin configuration has config that doesn't support merging: {field}"
            ),
        ));
    }

    if c.plugins.is_empty() {
        for key in other.plugins.keys() {
            origins.keys.insert(("plugins", key.clone()), file);
        }
        c.plugins = other.plugins.clone();
    } else {
        for key in other.plugins.keys() {
            if c.plugins.contains_key(key) {
                out.push((
                    path!["plugins", key],
                    format!(
                        "failed to merge .plugins from supplemental config: found duplicate config for plugins.{key}"
                    ),
                ));
                continue;
            }
            origins.keys.insert(("plugins", key.clone()), file);
            c.plugins.adopt(&other.plugins, key);
        }
    }

    let bz = &other.bugzilla;
    if bz.default.is_some() {
        if c.bugzilla.default.is_some() {
            out.push((
                path!["bugzilla", "default"],
                "failed to merge .bugzilla from supplemental config: configuration of global default defined in multiple places".to_owned(),
            ));
        } else {
            c.bugzilla.default = bz.default.clone();
        }
    }
    for (org, org_config) in bz.orgs.iter() {
        let mine = c.bugzilla.orgs.entry(org.clone()).or_default();
        if org_config.default.is_some() {
            if mine.default.is_some() {
                out.push((
                    path!["bugzilla", "orgs", org, "default"],
                    format!(
                        "failed to merge .bugzilla from supplemental config: found duplicate organization config for bugzilla.{org}"
                    ),
                ));
                continue;
            }
            mine.default = org_config.default.clone();
        }
        for (repo, repo_config) in org_config.repos.iter() {
            if mine.repos.contains_key(repo) {
                out.push((
                    path!["bugzilla", "orgs", org, "repos", repo],
                    format!(
                        "failed to merge .bugzilla from supplemental config: found duplicate repository config for bugzilla.{org}/{repo}"
                    ),
                ));
                continue;
            }
            mine.repos.insert(repo.clone(), repo_config.clone());
        }
    }

    let lists: [(&'static str, usize); 4] = [
        ("approve", c.approve.len()),
        ("lgtm", c.lgtm.len()),
        ("triggers", c.triggers.len()),
        ("welcome", c.welcome.len()),
    ];
    for (section, start) in lists {
        origins
            .lists
            .entry(section)
            .or_default()
            .push((start, file));
    }
    c.approve.extend(other.approve);
    c.lgtm.extend(other.lgtm);
    c.triggers.extend(other.triggers);
    c.welcome.extend(other.welcome);

    for (key, plugins) in other.external_plugins.0 {
        if c.external_plugins.contains_key(&key) {
            out.push((
                path!["external_plugins", &key],
                format!(
                    "failed to merge .external-plugins from supplemental config: found duplicate config for external-plugins.{key}"
                ),
            ));
            continue;
        }
        origins.keys.insert(("external_plugins", key.clone()), file);
        c.external_plugins.insert(key, plugins);
    }

    c.label
        .additional_labels
        .extend(other.label.additional_labels);
    for (key, labels) in other.label.restricted_labels.0 {
        for (i, label) in labels.iter().enumerate() {
            let clash = c
                .label
                .restricted_labels
                .get(&key)
                .is_some_and(|mine| mine.iter().any(|l| l.label == label.label));
            if clash {
                out.push((
                    path!["label", "restricted_labels", &key, i],
                    format!(
                        "failed to merge .label from supplemental config: there are multiple label.restricted_labels configs for label {}",
                        label.label
                    ),
                ));
            }
        }
        c.label
            .restricted_labels
            .entry(key)
            .or_default()
            .extend(labels);
    }
    out
}

/// Top-level sections set in a supplement that Prow cannot merge.
fn unmergeable(other: &PluginConfig) -> Vec<&'static str> {
    let d = PluginConfig::default();
    let checks = [
        ("owners", other.owners != d.owners),
        ("blockades", other.blockades != d.blockades),
        ("blunderbuss", other.blunderbuss != d.blunderbuss),
        ("rifle", other.rifle != d.rifle),
        ("branch_cleaner", other.branch_cleaner != d.branch_cleaner),
        ("cat", other.cat != d.cat),
        (
            "cherry_pick_approved",
            other.cherry_pick_approved != d.cherry_pick_approved,
        ),
        (
            "cherry_pick_unapproved",
            other.cherry_pick_unapproved != d.cherry_pick_unapproved,
        ),
        ("config_updater", other.config_updater != d.config_updater),
        ("dco", other.dco != d.dco),
        ("golint", other.golint != d.golint),
        ("goose", other.goose != d.goose),
        ("heart", other.heart != d.heart),
        (
            "label",
            other.label
                != Label {
                    restricted_labels: other.label.restricted_labels.clone(),
                    ..Label::default()
                },
        ),
        ("jira", other.jira != d.jira),
        (
            "milestone_applier",
            other.milestone_applier != d.milestone_applier,
        ),
        ("release_note", other.release_note != d.release_note),
        ("repo_milestone", other.repo_milestone != d.repo_milestone),
        ("project_config", other.project != d.project),
        (
            "project_manager",
            other.project_manager != d.project_manager,
        ),
        (
            "require_matching_label",
            other.require_matching_label != d.require_matching_label,
        ),
        ("retitle", other.retitle != d.retitle),
        ("slack", other.slack != d.slack),
        ("sigmention", other.sigmention != d.sigmention),
        ("size", other.size != d.size),
        ("override", other.override_ != d.override_),
        ("help", other.help != d.help),
        (
            "invalid_commit_msg",
            other.invalid_commit_msg != d.invalid_commit_msg,
        ),
        ("trick_or_treat", other.trick_or_treat != d.trick_or_treat),
    ];
    checks
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
}

/// Files under `dir` whose path ends in `suffix`, in Go's `filepath.Walk` order (lexical),
/// skipping `..`-prefixed entries (Kubernetes ConfigMap mounts' bookkeeping).
fn walk(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        if dir.to_string_lossy().ends_with(suffix) {
            out.push(dir.to_owned());
        }
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with("..") {
            continue;
        }
        walk(&entry.path(), suffix, out)?;
    }
    Ok(())
}
