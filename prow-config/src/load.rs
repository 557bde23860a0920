//! Reading `config.yaml` and job-config trees as Prow does, collecting every problem.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::de::DeserializeOwned;

use crate::error::{Error, Finding};
use crate::jobs::JobConfig;
use crate::prow::ProwConfig;

/// Where to read configuration from.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// `--config-path`: `config.yaml` (a file).
    pub config_path: PathBuf,
    /// `--job-config-path`: a file or a directory tree, if any.
    pub job_config_path: Option<PathBuf>,
}

impl LoadOptions {
    /// Options reading `config_path` and, when given, `job_config_path`.
    pub fn new(config_path: impl Into<PathBuf>, job_config_path: Option<PathBuf>) -> Self {
        LoadOptions {
            config_path: config_path.into(),
            job_config_path,
        }
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
    match parse::<ProwConfig>(&text, path) {
        Ok((prow, unknown)) => {
            config.prow = prow;
            warnings.extend(unknown.into_iter().filter(|w| {
                !JOB_KEYS
                    .iter()
                    .any(|k| w.field.split('.').next() == Some(k))
            }));
        }
        Err(finding) => errors.push(finding),
    }
    if let Ok((jobs, _)) = parse::<JobConfig>(&text, path) {
        config.jobs = jobs.with_source(path);
    }
    if let Some(version) = path.parent().map(|d| d.join("VERSION"))
        && let Ok(sha) = std::fs::read_to_string(version)
    {
        config.prow.config_version_sha = sha.trim().to_owned();
    }
    if let Some(job_path) = &options.job_config_path {
        let (jobs, mut found) = read_job_config(job_path)?;
        for f in found.drain(..) {
            match f.severity {
                crate::Severity::Error => errors.push(f),
                crate::Severity::Warning => warnings.push(f),
            }
        }
        config.jobs.merge(jobs);
    }
    errors.extend(crate::prow::check(&mut config.prow, path, &text));
    errors.extend(crate::defaults::finalize(&mut config));
    errors.extend(crate::validate::validate(&config));
    if errors.is_empty() {
        config.warnings = warnings;
        Ok(config)
    } else {
        Err(Error::Invalid { errors })
    }
}

/// Reads a job-config file or tree: every job, plus every problem (errors and warnings).
pub fn read_job_config(path: &Path) -> Result<(JobConfig, Vec<Finding>), Error> {
    let mut found = Vec::new();
    let mut merged = JobConfig::default();
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let files = if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut Vec::new(), &mut files)?;
        files
    } else {
        vec![path.to_owned()]
    };
    let mut basenames: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        let base = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if basenames.insert(base.clone(), file.clone()).is_some() {
            found.push(
                Finding::error(format!("duplicated basename is not allowed: {base}"))
                    .in_file(&file),
            );
            continue;
        }
        let text = read_maybe_gzip(&file)?;
        match parse::<JobConfig>(&text, &file) {
            Ok((jobs, unknown)) => {
                found.extend(unknown);
                merged.merge(jobs.with_source(&file));
            }
            Err(finding) => found.push(finding),
        }
    }
    Ok((merged, found))
}

/// Parses one document, turning the first error into a located finding and unknown fields into
/// warnings.
///
/// Go's YAML parser lets a repeated key win over earlier ones, so a document failing only on a
/// duplicate field is read again that way, with a warning naming the field.
pub(crate) fn parse<T: DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<(T, Vec<Finding>), Finding> {
    let text = crate::yaml11::octal_modes(text);
    // Merge keys (`<<: *anchor`) are YAML 1.1, which Go applies; serde_yaml needs them applied
    // on a value first (lines are lost for such files).
    if text.contains("<<:")
        && let Ok(crate::yaml11::LastWins(mut value)) = serde_yaml::from_str(&text)
        && value.apply_merge().is_ok()
    {
        return parse_from(value, file);
    }
    match parse_from(serde_yaml::Deserializer::from_str(&text), file) {
        Err(first) if first.message.starts_with("duplicate field") => {
            let Ok(crate::yaml11::LastWins(value)) = serde_yaml::from_str(&text) else {
                return Err(first);
            };
            let (parsed, mut warnings) = parse_from(value, file)?;
            let mut warning = first;
            warning.severity = crate::Severity::Warning;
            warning
                .message
                .push_str("; the last value wins, as in Prow");
            warnings.insert(0, warning);
            Ok((parsed, warnings))
        }
        other => other,
    }
}

fn parse_from<'de, T: DeserializeOwned, D>(
    deserializer: D,
    file: &Path,
) -> Result<(T, Vec<Finding>), Finding>
where
    D: serde::Deserializer<'de>,
    D::Error: LocatedError,
{
    let mut unknown = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(&path));
    let ignoring = serde_ignored::Deserializer::new(deserializer, &mut record);
    match serde_path_to_error::deserialize::<_, T>(ignoring) {
        Ok(value) => Ok((
            value,
            unknown
                .into_iter()
                .map(|field| Finding::warning("unknown field").in_file(file).at(field))
                .collect(),
        )),
        Err(err) => {
            let field = path_string(err.path());
            let inner = err.into_inner();
            let mut finding = Finding::error(bare_reason(&inner.to_string()))
                .in_file(file)
                .at(field);
            finding.line = inner.line();
            Err(finding)
        }
    }
}

/// An error that may know the line it happened on.
trait LocatedError: std::fmt::Display {
    fn line(&self) -> Option<usize>;
}

impl LocatedError for serde_yaml::Error {
    fn line(&self) -> Option<usize> {
        self.location().map(|l| l.line())
    }
}

/// One path segment: `.name`, `[3]` or `["org/repo"]`.
fn push_key(out: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(key);
    } else {
        out.push_str(&format!("[{key:?}]"));
    }
}

/// Renders a serde path as `presubmits["org/repo"][3].run_if_changed`.
fn path_string(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => push_key(&mut out, "?"),
        }
    }
    out
}

/// Renders an ignored field's path in the same form as [`path_string`].
fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let mut out = ignored_path(parent);
            push_key(&mut out, key);
            out
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// Drops the path prefix and ` at line L column C` suffix the YAML library adds, since field
/// and line are reported separately.
fn bare_reason(message: &str) -> String {
    let message = match message.find(": ") {
        Some(i) if !message[..i].contains(' ') => &message[i + 2..],
        _ => message,
    };
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Reads a file as UTF-8, gunzipping it first when it starts with gzip's magic bytes.
pub(crate) fn read_maybe_gzip(path: &Path) -> Result<String, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(io)?;
        out
    } else {
        bytes
    };
    String::from_utf8(bytes)
        .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// The rules of one `.prowignore` file (gitignore syntax), relative to its directory.
#[derive(Debug, Default)]
struct Ignore {
    rules: Vec<(GlobSet, bool, bool)>,
}

impl Ignore {
    /// Whether `rel` (relative to the root, `/`-separated) is ignored; the last matching rule
    /// wins, as in gitignore.
    fn ignored(&self, rel: &str, is_dir: bool, mut ignored: bool) -> bool {
        for (set, negate, dir_only) in &self.rules {
            if *dir_only && !is_dir {
                continue;
            }
            if set.is_match(rel) {
                ignored = !negate;
            }
        }
        ignored
    }
}

fn prowignore(root: &Path) -> Result<Ignore, Error> {
    let path = root.join(".prowignore");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Ignore::default());
    };
    let mut rules = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negate, pattern) = match line.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, line),
        };
        let (dir_only, pattern) = match pattern.strip_suffix('/') {
            Some(p) => (true, p),
            None => (false, pattern),
        };
        let anchored = pattern.contains('/');
        let pattern = pattern.trim_start_matches('/');
        let base = if anchored {
            pattern.to_owned()
        } else {
            format!("**/{pattern}")
        };
        let mut set = GlobSetBuilder::new();
        for glob in [base.clone(), format!("{base}/**")] {
            let glob = Glob::new(&glob).map_err(|e| Error::Io {
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })?;
            set.add(glob);
        }
        let set = set.build().map_err(|e| Error::Io {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        rules.push((set, negate, dir_only));
    }
    Ok(Ignore { rules })
}

/// Collects `.yaml`/`.yml` files under `dir` in name order, skipping `..`-prefixed entries and
/// paths matched by a `.prowignore` in `dir` or above (nested files apply like `.gitignore`s).
fn walk(
    dir: &Path,
    ignores: &mut Vec<(PathBuf, Ignore)>,
    out: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_owned(),
        source,
    };
    let pushed = dir.join(".prowignore").is_file();
    if pushed {
        ignores.push((dir.to_owned(), prowignore(dir)?));
    }
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("..") {
            continue;
        }
        let path = entry.path();
        let is_dir = std::fs::metadata(&path).map_err(io)?.is_dir();
        let ignored = ignores.iter().fold(false, |ignored, (base, rules)| {
            let rel = path
                .strip_prefix(base)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            rules.ignored(&rel, is_dir, ignored)
        });
        if ignored {
            continue;
        }
        if is_dir {
            walk(&path, ignores, out)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    if pushed {
        ignores.pop();
    }
    Ok(())
}
