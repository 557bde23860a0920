//! Reading `config.yaml` and job-config trees as Prow does, collecting every problem.
//!
//! [`load`] is the entry point; the pieces live next to it: `jobfiles` (job-config trees),
//! `parse` (one document to a type, with located findings), `casefold` (Go's case-insensitive
//! keys), `files` (gzip, `.prowignore`, walks), `locate` (field paths and their lines) and
//! `supplemental` (supplemental prow-config files).

use std::path::PathBuf;

use crate::error::{Error, Finding};
use crate::files::read_maybe_gzip;
use crate::jobfiles::read_job_config_with_presets;
use crate::jobs::JobConfig;
use crate::locate::{FieldSegment, fill_lines_parsed, parse_field_path, render_field_path};
use crate::parse::{parse, parse_from};
use crate::prow::ProwConfig;
use crate::supplemental::supplemental_merge;

/// The suffix Prow gives supplemental prow-config files by default.
pub const DEFAULT_SUPPLEMENTAL_SUFFIX: &str = "_prowconfig.yaml";

/// Where to read configuration from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadOptions {
    /// `--config-path`: `config.yaml` (a file).
    pub config_path: PathBuf,
    /// `--job-config-path`: a file or a directory tree, if any.
    pub job_config_path: Option<PathBuf>,
    /// `--supplemental-prow-config-dir` (repeatable): trees of extra prow-config files.
    pub supplemental_prow_config_dirs: Vec<PathBuf>,
    /// `--supplemental-prow-configs-filename-suffix`: which files in those trees are read.
    pub supplemental_prow_configs_suffix: String,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            config_path: PathBuf::new(),
            job_config_path: None,
            supplemental_prow_config_dirs: Vec::new(),
            supplemental_prow_configs_suffix: DEFAULT_SUPPLEMENTAL_SUFFIX.to_owned(),
        }
    }
}

impl LoadOptions {
    /// Options reading `config_path` and, when given, `job_config_path`.
    pub fn new(config_path: impl Into<PathBuf>, job_config_path: Option<PathBuf>) -> Self {
        LoadOptions {
            config_path: config_path.into(),
            job_config_path,
            ..LoadOptions::default()
        }
    }

    /// Adds supplemental prow-config directories, read for files ending in `suffix`.
    pub fn with_supplemental(mut self, dirs: Vec<PathBuf>, suffix: impl Into<String>) -> Self {
        self.supplemental_prow_config_dirs = dirs;
        self.supplemental_prow_configs_suffix = suffix.into();
        self
    }
}

/// A loaded, defaulted and validated configuration, with its warnings.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Config {
    /// The component configuration.
    pub prow: ProwConfig,
    /// Every job and preset, from `config.yaml` and the job-config tree.
    pub jobs: JobConfig,
    /// Problems that do not stop Prow (unknown fields and the like).
    pub warnings: Vec<Finding>,
}

/// Keys of `config.yaml` that belong to the job part, not unknown to `ProwConfig`.
const JOB_KEYS: &[&str] = &[
    "presets",
    "presubmits",
    "postsubmits",
    "periodics",
    "prow_ignored",
    "decorate_all_jobs",
];

/// Loads configuration like Prow's `config.Load`: every error found is returned at once.
pub fn load(options: &LoadOptions) -> Result<Config, Error> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let path = &options.config_path;
    let mut config = Config::default();
    if path.is_dir() {
        errors.push(
            Finding::error(format!("prowConfig cannot be a dir - {}", path.display()))
                .in_file(path),
        );
        return Err(Error::Invalid { errors });
    }
    let text = read_maybe_gzip(path)?;
    // Whether the component part of config.yaml was read: when it was not, nothing that
    // depends on it is judged (its defaults would only give follow-on errors).
    let mut component_read = false;
    match parse::<ProwConfig>(&text, path) {
        Ok((prow, unknown)) => {
            component_read = true;
            config.prow = prow;
            warnings.extend(unknown.into_iter().filter(|w| {
                !JOB_KEYS
                    .iter()
                    .any(|k| w.field.split('.').next() == Some(k))
            }));
        }
        Err(finding) => errors.push(finding),
    }
    if !options.supplemental_prow_config_dirs.is_empty() {
        let (merged, found) = supplemental_merge(&text, options)?;
        let mut failed = false;
        for f in found {
            match f.severity {
                crate::Severity::Error => {
                    failed = true;
                    errors.push(f);
                }
                crate::Severity::Warning => warnings.push(f),
            }
        }
        if !failed
            && errors.is_empty()
            && let Some(merged) = merged
        {
            match parse_from::<ProwConfig, _>(|| merged.clone(), path) {
                Ok((prow, _)) => config.prow = prow,
                Err(finding) => {
                    component_read = false;
                    errors.push(finding);
                }
            }
        }
    }
    match parse::<JobConfig>(&text, path) {
        Ok((jobs, unknown)) => {
            config.jobs = jobs.with_source(path);
            // Unknown keys at the top were reported by the component parse; inside jobs, here.
            warnings.extend(unknown.into_iter().filter(|w| {
                let top = w.field.split(['.', '[']).next().unwrap_or_default();
                JOB_KEYS.contains(&top) && w.field != top
            }));
        }
        Err(finding) => {
            if !errors.contains(&finding) {
                errors.push(finding);
            }
        }
    }
    if let Some(version) = path.parent().map(|d| d.join("VERSION"))
        && let Ok(sha) = std::fs::read_to_string(version)
    {
        config.prow.config_version_sha = sha.trim().to_owned();
    }
    // Where each preset came from: config.yaml's first, then the job files' in order.
    let mut preset_sources: Vec<(PathBuf, usize)> = (0..config.jobs.presets.len())
        .map(|i| (path.clone(), i))
        .collect();
    if let Some(job_path) = &options.job_config_path {
        let (jobs, mut found) = read_job_config_with_presets(job_path, &mut preset_sources)?;
        for f in found.drain(..) {
            match f.severity {
                crate::Severity::Error => errors.push(f),
                crate::Severity::Warning => warnings.push(f),
            }
        }
        config.jobs.merge(jobs);
    }
    if component_read {
        errors.extend(crate::prow::check(&mut config.prow, path, &text));
    } else {
        config.prow.apply_defaults();
    }
    for mut finding in crate::defaults::finalize(&mut config) {
        // Plank's settings come from config.yaml.
        if finding.file.is_none() && finding.field.starts_with("plank") {
            finding = finding.in_file(path);
        }
        // Presets are numbered across all files; name the file and the place in it.
        if finding.file.is_none()
            && let [FieldSegment::Key(k), FieldSegment::Index(i), rest @ ..] =
                parse_field_path(&finding.field).as_slice()
            && k == "presets"
            && let Some((file, local)) = preset_sources.get(*i)
        {
            let mut segments = vec![FieldSegment::Key(k.clone()), FieldSegment::Index(*local)];
            segments.extend(rest.iter().cloned());
            finding.field = render_field_path(&segments);
            finding = finding.in_file(file);
        }
        errors.push(finding);
    }
    errors.extend(crate::validate::validate(&config, component_read));
    let parsed = config.jobs.source_paths();
    fill_lines_parsed(&mut errors, &parsed);
    fill_lines_parsed(&mut warnings, &parsed);
    if errors.is_empty() {
        config.warnings = warnings;
        Ok(config)
    } else {
        Err(Error::Invalid { errors })
    }
}
