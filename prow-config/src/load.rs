//! Reading `config.yaml` and job-config trees as Prow does, collecting every problem.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::de::DeserializeOwned;

use crate::error::{Error, Finding};
use crate::jobs::JobConfig;
use crate::lines::LineIndex;
use crate::prow::ProwConfig;

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
                Err(finding) => errors.push(finding),
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
    errors.extend(crate::prow::check(&mut config.prow, path, &text));
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
    errors.extend(crate::validate::validate(&config));
    fill_lines(&mut errors);
    fill_lines(&mut warnings);
    if errors.is_empty() {
        config.warnings = warnings;
        Ok(config)
    } else {
        Err(Error::Invalid { errors })
    }
}

/// Reads a job-config file or tree: every job, plus every problem (errors and warnings).
pub fn read_job_config(path: &Path) -> Result<(JobConfig, Vec<Finding>), Error> {
    read_job_config_with_presets(path, &mut Vec::new())
}

/// [`read_job_config`], also noting the file and in-file position of every preset read, in
/// order, so problems with presets can name their file.
fn read_job_config_with_presets(
    path: &Path,
    presets: &mut Vec<(PathBuf, usize)>,
) -> Result<(JobConfig, Vec<Finding>), Error> {
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
    let mut unique = Vec::with_capacity(files.len());
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
        unique.push(file);
    }
    // Files parse on every core; they merge in walk order, so the result does not depend on
    // the number of threads.
    let parsed = crate::parallel::map_ordered(&unique, |file| {
        read_maybe_gzip(file).map(|text| parse::<JobConfig>(&text, file))
    });
    for (file, result) in unique.iter().zip(parsed) {
        match result? {
            Ok((jobs, unknown)) => {
                found.extend(unknown);
                presets.extend((0..jobs.presets.len()).map(|i| (file.clone(), i)));
                merged.merge(jobs.with_source(file));
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
    let (parsed, unknown) = match parse_plain::<T>(text, file) {
        Ok(done) => done,
        Err(first) if first.message.starts_with("missing field") => {
            return fold_missing::<T>(text, file).ok_or(first);
        }
        Err(first) => return Err(first),
    };
    if unknown.iter().any(|w| w.message == UNKNOWN_FIELD) {
        let folded = yaml_value(text).and_then(|v| fold_case::<T>(v, file));
        return Ok(folded.unwrap_or((parsed, unknown)));
    }
    Ok((parsed, unknown))
}

/// A required field spelled with other letter case (`Name:`) is that field to Go: renames such
/// keys until the document parses. Returns `None` when that does not help.
fn fold_missing<T: DeserializeOwned>(text: &str, file: &Path) -> Option<(T, Vec<Finding>)> {
    let mut value = yaml_value(text)?;
    // Each round renames one key; a document has only so many.
    for _ in 0..1000 {
        match parse_from::<T, _>(|| &value, file) {
            Ok((parsed, unknown)) => {
                if unknown.iter().any(|w| w.message == UNKNOWN_FIELD) {
                    return fold_case::<T>(value, file).or(Some((parsed, unknown)));
                }
                return Some((parsed, unknown));
            }
            Err(e) => {
                let missing = e
                    .message
                    .strip_prefix("missing field `")?
                    .strip_suffix('`')?;
                let map = value_at(&mut value, &parse_field_path(&e.field))?.as_mapping_mut()?;
                let key = map
                    .keys()
                    .find(|k| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(missing)))?
                    .clone();
                let v = map.remove(&key)?;
                map.insert(serde_yaml::Value::String(missing.to_owned()), v);
            }
        }
    }
    None
}

/// The message of unknown-field warnings.
pub const UNKNOWN_FIELD: &str = "unknown field";

/// Go's JSON decoding matches a key to a struct field ignoring case (`NAME` is `name`). Keys
/// that serde did not know are renamed to a case variant it does know, one at a time, keeping a
/// rename only when it makes that warning go away without a new one at the renamed path.
/// Returns `None` when no rename helped.
///
/// Each round first applies every rename at once and reads the document once ([`rename_all`]);
/// only when that does not give what the renames one at a time would, are they tried one at a
/// time (a read of the document each). A file with a misspelt field in every job thus costs a
/// few reads, not one per job.
fn fold_case<T: DeserializeOwned>(
    value: serde_yaml::Value,
    file: &Path,
) -> Option<(T, Vec<Finding>)> {
    fold_case_rounds(value, file, true)
}

/// [`fold_case`], its rounds batched or (`batch` false, for tests) one rename at a time.
fn fold_case_rounds<T: DeserializeOwned>(
    mut value: serde_yaml::Value,
    file: &Path,
    batch: bool,
) -> Option<(T, Vec<Finding>)> {
    let (_, mut unknown) = parse_from::<T, _>(|| &value, file).ok()?;
    // The document as last renamed, read.
    let mut renamed: Option<T> = None;
    // A renamed key can reveal unknown keys below it, so go round until nothing changes.
    let mut tried = std::collections::BTreeSet::new();
    loop {
        let targets: Vec<String> = unknown
            .iter()
            .filter(|w| w.message == UNKNOWN_FIELD && !tried.contains(&w.field))
            .map(|w| w.field.clone())
            .collect();
        if targets.is_empty() {
            break;
        }
        tried.extend(targets.iter().cloned());
        let round = if batch {
            rename_all::<T>(&value, &targets, file)
        } else {
            Batch::Unsure
        };
        match round {
            Batch::Nothing => {}
            Batch::Applied(trial, parsed, found) => {
                value = trial;
                unknown = found;
                renamed = Some(parsed);
            }
            Batch::Unsure => {
                for target in targets {
                    if let Some((trial, parsed, found)) = rename_one::<T>(&value, &target, file) {
                        value = trial;
                        unknown = found;
                        renamed = Some(parsed);
                    }
                }
            }
        }
    }
    renamed.map(|parsed| (parsed, unknown))
}

/// The field names serde knows at `parent` that equal `key` but for letter case; when they
/// cannot be found, the usual spellings.
fn case_candidates<T: DeserializeOwned>(
    value: &serde_yaml::Value,
    parent: &[FieldSegment],
    key: &str,
) -> Vec<String> {
    match struct_fields::<T>(value, parent) {
        Some(fields) => fields
            .iter()
            .filter(|f| f.eq_ignore_ascii_case(key))
            .map(|f| (*f).to_owned())
            .collect(),
        None => {
            let mut first_lower: String =
                key.chars().take(1).flat_map(char::to_lowercase).collect();
            first_lower.extend(key.chars().skip(1));
            vec![key.to_lowercase(), first_lower]
        }
    }
}

/// Renames the key at `parent` + `key` in `trial` to `candidate`: `Err(())` when the mapping
/// or the key is not there (no candidate can help), `Ok(false)` when the candidate is taken.
fn rename_key(
    trial: &mut serde_yaml::Value,
    parent: &[FieldSegment],
    key: &str,
    candidate: &str,
) -> Result<bool, ()> {
    let map = value_at(trial, parent)
        .and_then(|v| v.as_mapping_mut())
        .ok_or(())?;
    if map.contains_key(candidate) {
        return Ok(false);
    }
    let v = map.remove(key).ok_or(())?;
    map.insert(serde_yaml::Value::String(candidate.to_owned()), v);
    Ok(true)
}

/// The path `parent` + `candidate`, rendered.
fn renamed_path(parent: &[FieldSegment], candidate: &str) -> String {
    let mut path = parent.to_vec();
    path.push(FieldSegment::Key(candidate.to_owned()));
    render_field_path(&path)
}

/// The one-at-a-time rename of `target`: its candidates in order, each in a copy of `value`
/// read in full; the first that clears the warning without a new one at the renamed path.
fn rename_one<T: DeserializeOwned>(
    value: &serde_yaml::Value,
    target: &str,
    file: &Path,
) -> Option<(serde_yaml::Value, T, Vec<Finding>)> {
    let segments = parse_field_path(target);
    let (FieldSegment::Key(key), parent) = segments.split_last()? else {
        return None;
    };
    for candidate in case_candidates::<T>(value, parent, key) {
        if candidate == *key {
            continue;
        }
        let mut trial = value.clone();
        match rename_key(&mut trial, parent, key, &candidate) {
            Err(()) => return None,
            Ok(false) => continue,
            Ok(true) => {}
        }
        let Ok((parsed, found)) = parse_from::<T, _>(|| &trial, file) else {
            continue;
        };
        let new_path = renamed_path(parent, &candidate);
        if !found
            .iter()
            .any(|w| w.field == target || w.field == new_path)
        {
            return Some((trial, parsed, found));
        }
    }
    None
}

/// What trying a round's renames all at once gave.
enum Batch<T> {
    /// No target has a rename to try.
    Nothing,
    /// Every rename did what it would alone: the renamed document, read, and its warnings.
    Applied(serde_yaml::Value, T, Vec<Finding>),
    /// The document failed or some rename did not help: try them one at a time.
    Unsure,
}

/// A round of [`fold_case`] in one read: each target's first candidate that is free, applied
/// in order to one copy of `value`. A rename only changes how its own mapping reads, so when
/// the document reads and every renamed key is known, each rename is what [`rename_one`]
/// would have kept, and the document is what the renames one after another make.
fn rename_all<T: DeserializeOwned>(
    value: &serde_yaml::Value,
    targets: &[String],
    file: &Path,
) -> Batch<T> {
    let mut trial = value.clone();
    let mut renames = Vec::new();
    for target in targets {
        let segments = parse_field_path(target);
        let Some((FieldSegment::Key(key), parent)) = segments.split_last() else {
            continue;
        };
        for candidate in case_candidates::<T>(value, parent, key) {
            if candidate == *key {
                continue;
            }
            match rename_key(&mut trial, parent, key, &candidate) {
                Err(()) => break,
                Ok(false) => continue,
                Ok(true) => {
                    renames.push((target.as_str(), renamed_path(parent, &candidate)));
                    break;
                }
            }
        }
    }
    if renames.is_empty() {
        return Batch::Nothing;
    }
    let Ok((parsed, found)) = parse_from::<T, _>(|| &trial, file) else {
        return Batch::Unsure;
    };
    let cleared = renames.iter().all(|(target, new_path)| {
        !found
            .iter()
            .any(|w| w.field == *target || w.field == *new_path)
    });
    if cleared {
        Batch::Applied(trial, parsed, found)
    } else {
        Batch::Unsure
    }
}

/// The node at `path` inside `value`, if it exists.
fn value_at<'v>(
    value: &'v mut serde_yaml::Value,
    path: &[FieldSegment],
) -> Option<&'v mut serde_yaml::Value> {
    let mut current = value;
    for segment in path {
        current = match segment {
            FieldSegment::Key(k) => current.as_mapping_mut()?.get_mut(k.as_str())?,
            FieldSegment::Index(i) => current.as_sequence_mut()?.get_mut(*i)?,
        };
    }
    Some(current)
}

/// Parses one document without the case-folding retry.
fn parse_plain<T: DeserializeOwned>(text: &str, file: &Path) -> Result<(T, Vec<Finding>), Finding> {
    let text = crate::yaml11::octal_modes(text);
    // Merge keys (`<<: *anchor`) are YAML 1.1, which Go applies; serde_yaml needs them applied
    // on a value first (lines are lost for such files).
    if text.contains("<<:")
        && let Ok(crate::yaml11::LastWins(mut value)) = serde_yaml::from_str(&text)
        && value.apply_merge().is_ok()
    {
        return parse_from(|| &value, file);
    }
    match parse_from(|| serde_yaml::Deserializer::from_str(&text), file) {
        Err(first) if first.message.starts_with("duplicate field") => {
            let Ok(crate::yaml11::LastWins(value)) = serde_yaml::from_str(&text) else {
                return Err(first);
            };
            let (parsed, mut warnings) = parse_from(|| &value, file)?;
            let mut warning = first;
            warning.severity = crate::Severity::Warning;
            warning
                .message
                .push_str("; the last value wins, as in Prow");
            warnings.insert(0, warning);
            Ok((parsed, warnings))
        }
        // Go converts YAML to JSON before decoding, so broken YAML anywhere in the file is
        // what it reports, even when a type error comes earlier in the text.
        Err(first) => match serde_yaml::from_str::<serde::de::IgnoredAny>(&text) {
            Err(syntax) if syntax.location().is_some() => {
                let mut finding = Finding::error(bare_reason(&syntax.to_string())).in_file(file);
                finding.line = syntax.location().map(|l| l.line());
                Err(finding)
            }
            _ => Err(first),
        },
        other => other,
    }
}

/// Deserialises a `T` from the deserializer `make` builds, with warnings for unknown fields.
///
/// Tracking the field path of an error doubles the deserialising code, so the first pass
/// does without it and a failed document is read again by `make`'s second deserializer, to
/// name the field. A long-running server thus never maps in the path-tracking code for the
/// configuration it loads.
pub(crate) fn parse_from<'de, T: DeserializeOwned, D>(
    make: impl Fn() -> D,
    file: &Path,
) -> Result<(T, Vec<Finding>), Finding>
where
    D: serde::Deserializer<'de>,
    D::Error: LocatedError,
{
    let mut unknown = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(&path));
    let first = match T::deserialize(serde_ignored::Deserializer::new(make(), &mut record)) {
        Ok(value) => {
            return Ok((
                value,
                unknown
                    .into_iter()
                    .map(|field| Finding::warning(UNKNOWN_FIELD).in_file(file).at(field))
                    .collect(),
            ));
        }
        Err(first) => first,
    };
    let (field, inner) = match serde_path_to_error::deserialize::<_, T>(make()) {
        Err(err) => (path_string(err.path()), err.into_inner()),
        // Cannot happen (the same document failed above); report the first error unplaced.
        Ok(_) => (String::new(), first),
    };
    let mut finding = Finding::error(bare_reason(&inner.to_string()))
        .in_file(file)
        .at(field);
    finding.line = inner.line();
    Err(finding)
}

/// An error that may know the line it happened on.
pub(crate) trait LocatedError: std::fmt::Display {
    fn line(&self) -> Option<usize>;
}

impl LocatedError for serde_yaml::Error {
    fn line(&self) -> Option<usize> {
        self.location().map(|l| l.line())
    }
}

/// One path segment: `.name`, `[3]` or `["org/repo"]`.
pub(crate) fn push_key(out: &mut String, key: &str) {
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
    static POSITION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r" at line \d+ column \d+").expect("static regex")
    });
    let message = match message.find(": ") {
        Some(i) if !message[..i].contains(' ') => &message[i + 2..],
        _ => message,
    };
    POSITION.replace_all(message, "").into_owned()
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
pub(crate) struct Ignore {
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

pub(crate) fn prowignore(root: &Path) -> Result<Ignore, Error> {
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
pub(crate) fn walk(
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

/// One step of a field path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldSegment {
    /// `.name` or `["org/repo"]`.
    Key(String),
    /// `[3]`.
    Index(usize),
}

/// Renders segments as `presubmits["org/repo"][3].run_if_changed`, like [`path_string`].
pub(crate) fn render_field_path(segments: &[FieldSegment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            FieldSegment::Key(k) => push_key(&mut out, k),
            FieldSegment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Splits a rendered field path back into segments; the inverse of [`render_field_path`].
pub(crate) fn parse_field_path(path: &str) -> Vec<FieldSegment> {
    let mut out = Vec::new();
    let mut chars = path.chars().peekable();
    let mut plain = String::new();
    let flush = |plain: &mut String, out: &mut Vec<FieldSegment>| {
        if !plain.is_empty() {
            out.push(FieldSegment::Key(std::mem::take(plain)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut plain, &mut out),
            '[' => {
                flush(&mut plain, &mut out);
                if chars.peek() == Some(&'"') {
                    chars.next();
                    let mut key = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => break,
                            '\\' => match chars.next() {
                                Some('n') => key.push('\n'),
                                Some('t') => key.push('\t'),
                                Some('r') => key.push('\r'),
                                Some('0') => key.push('\0'),
                                Some('u') => {
                                    let hex: String = chars
                                        .by_ref()
                                        .skip_while(|c| *c == '{')
                                        .take_while(|c| *c != '}')
                                        .collect();
                                    if let Some(c) =
                                        u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                                    {
                                        key.push(c);
                                    }
                                }
                                Some(other) => key.push(other),
                                None => {}
                            },
                            other => key.push(other),
                        }
                    }
                    out.push(FieldSegment::Key(key));
                    if chars.peek() == Some(&']') {
                        chars.next();
                    }
                } else {
                    let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                    match digits.parse() {
                        Ok(i) => out.push(FieldSegment::Index(i)),
                        Err(_) => out.push(FieldSegment::Key(digits)),
                    }
                }
            }
            other => plain.push(other),
        }
    }
    flush(&mut plain, &mut out);
    out
}

/// The marker error the locator raises once it reaches its target.
const LOCATED: &str = "\u{0}located";

/// Walks a YAML document along a field path and fails on purpose at the target (or at the
/// deepest part of the path that exists), so the parser's error carries that node's position.
struct Seek<'p>(&'p [FieldSegment]);

impl<'de> serde::de::DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A mapping key rendered as text, whatever its YAML type.
struct KeyText(String);

impl<'de> serde::Deserialize<'de> for KeyText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_yaml::Value::deserialize(d)?;
        Ok(KeyText(match value {
            serde_yaml::Value::String(s) => s,
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::Bool(b) => b.to_string(),
            _ => String::new(),
        }))
    }
}

macro_rules! located_scalar {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name<E: serde::de::Error>(self, _: $ty) -> Result<(), E> {
            Err(E::custom(LOCATED))
        })*
    };
}

impl<'de> serde::de::Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML node")
    }

    located_scalar!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(E::custom(LOCATED))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Err(E::custom(LOCATED))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        if let Some((FieldSegment::Key(want), rest)) = self.0.split_first() {
            while let Some(KeyText(key)) = map.next_key()? {
                // Keys match fields ignoring case, as in Go.
                if key.eq_ignore_ascii_case(want) {
                    return map.next_value_seed(Seek(rest));
                }
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Err(A::Error::custom(LOCATED))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        if let Some((FieldSegment::Index(want), rest)) = self.0.split_first() {
            let mut i = 0;
            while i < *want {
                if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
                    return Err(A::Error::custom(LOCATED));
                }
                i += 1;
            }
            if let Some(()) = seq.next_element_seed(Seek(rest))? {
                return Ok(());
            }
        }
        Err(A::Error::custom(LOCATED))
    }
}

/// The 1-based line of the node at `field` in the YAML `text`, or of its deepest ancestor
/// present there (a defaulted field has no line of its own; its job has).
pub(crate) fn locate(text: &str, field: &str) -> Option<usize> {
    use serde::de::DeserializeSeed as _;
    let segments = parse_field_path(field);
    let de = serde_yaml::Deserializer::from_str(text);
    match Seek(&segments).deserialize(de) {
        Err(e) if e.to_string().contains(LOCATED) => e.location().map(|l| l.line()),
        _ => None,
    }
}

/// Gives findings that name a file and field but no line the line of that field.
///
/// Each file is read and indexed once ([`LineIndex`]), so the work grows with the size of the
/// files and the number of findings, not with their product; a path the index cannot answer
/// is located by the parser ([`locate`]).
pub(crate) fn fill_lines(findings: &mut [Finding]) {
    let mut docs: BTreeMap<PathBuf, Option<(String, Option<LineIndex>)>> = BTreeMap::new();
    for finding in findings.iter_mut() {
        if finding.line.is_some() || finding.field.is_empty() {
            continue;
        }
        let Some(file) = &finding.file else { continue };
        let doc = docs.entry(file.clone()).or_insert_with(|| {
            read_maybe_gzip(file).ok().map(|text| {
                let index = LineIndex::scan(&text);
                (text, index)
            })
        });
        if let Some((text, index)) = doc {
            finding.line = index
                .as_ref()
                .and_then(|index| index.line_of(&parse_field_path(&finding.field)))
                .or_else(|| locate(text, &finding.field));
        }
    }
}

/// Sections a supplemental prow-config file may set.
const SUPPLEMENTAL_ONLY: &str = "only 'branch-protection', 'slack_reporter_configs', 'tide.merge_method' and 'tide.queries' may be set via additional config, all other fields have no merging logic yet";

/// The fields of a branch-protection policy, at every level.
const POLICY_KEYS: &[&str] = &[
    "unmanaged",
    "protect",
    "required_status_checks",
    "enforce_admins",
    "restrictions",
    "require_manually_triggered_jobs",
    "required_pull_request_reviews",
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "require_signed_commits",
    "exclude",
    "include",
];

/// Top-level branch-protection switches that only one file may set.
const PROTECTION_SWITCHES: &[&str] = &[
    "protect-tested-repos",
    "allow_disabled_policies",
    "allow_disabled_job_policies",
    "protect_repos_with_optional_jobs",
];

/// Reads a document as a YAML value the way Go would (octal modes, last key wins, merge keys).
fn yaml_value(text: &str) -> Option<serde_yaml::Value> {
    let text = crate::yaml11::octal_modes(text);
    let crate::yaml11::LastWins(mut value) = serde_yaml::from_str(&text).ok()?;
    if text.contains("<<:") {
        value.apply_merge().ok()?;
    }
    Some(value)
}

/// Files under `dir` whose path ends in `suffix`, in walk order, skipping `..` entries.
fn supplemental_files(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with("..") {
            continue;
        }
        let path = entry.path();
        if std::fs::metadata(&path).map_err(io)?.is_dir() {
            supplemental_files(&path, suffix, out)?;
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
    Ok(())
}

/// Merges every supplemental prow-config file into `config.yaml`'s document, as Prow's
/// `mergeFrom`: only branch protection, Slack reporter configs and Tide's merge methods and
/// queries may be set there. Each file is parsed on its own first, so its errors carry its
/// lines. Returns the merged document (`None` when `config.yaml` does not parse) and every
/// problem.
fn supplemental_merge(
    text: &str,
    options: &LoadOptions,
) -> Result<(Option<serde_yaml::Value>, Vec<Finding>), Error> {
    let mut found = Vec::new();
    let mut base = yaml_value(text);
    if let Some(v) = &base
        && v.is_null()
    {
        base = Some(serde_yaml::Value::Mapping(serde_yaml::Mapping::new()));
    }
    let mut files = Vec::new();
    for dir in &options.supplemental_prow_config_dirs {
        supplemental_files(dir, &options.supplemental_prow_configs_suffix, &mut files)?;
    }
    for file in files {
        let text = read_maybe_gzip(&file)?;
        let unknown = match parse::<ProwConfig>(&text, &file) {
            Ok((_, unknown)) => unknown,
            Err(f) => {
                found.push(f);
                continue;
            }
        };
        let Some(serde_yaml::Value::Mapping(extra)) = yaml_value(&text) else {
            found.extend(unknown);
            continue;
        };
        let mut errors = Vec::new();
        for (key, value) in &extra {
            let Some(key) = key.as_str() else { continue };
            if value.is_null() || unknown.iter().any(|w| w.field == key) {
                continue;
            }
            match (key, value) {
                ("branch-protection" | "slack_reporter_configs", _) => {}
                ("tide", serde_yaml::Value::Mapping(tide)) => {
                    for (sub, v) in tide {
                        let sub = sub.as_str().unwrap_or_default();
                        if !v.is_null() && sub != "merge_method" && sub != "queries" {
                            errors.push(
                                Finding::error(SUPPLEMENTAL_ONLY)
                                    .in_file(&file)
                                    .at(format!("tide.{sub}")),
                            );
                        }
                    }
                }
                _ => errors.push(Finding::error(SUPPLEMENTAL_ONLY).in_file(&file).at(key)),
            }
        }
        found.extend(unknown);
        if let Some(serde_yaml::Value::Mapping(base)) = &mut base {
            merge_supplemental(base, &extra, &file, &mut errors);
        }
        found.extend(errors);
    }
    Ok((base, found))
}

/// The mapping under `key` in `map`, created when absent or null.
fn child_mapping<'m>(map: &'m mut serde_yaml::Mapping, key: &str) -> &'m mut serde_yaml::Mapping {
    let entry = map
        .entry(serde_yaml::Value::String(key.to_owned()))
        .or_insert(serde_yaml::Value::Null);
    if !entry.is_mapping() {
        *entry = serde_yaml::Value::Mapping(serde_yaml::Mapping::new());
    }
    match entry {
        serde_yaml::Value::Mapping(m) => m,
        _ => unreachable!("just made a mapping"),
    }
}

/// Adds the keys of `extra` to `base`, each key only once.
fn merge_keyed(
    base: &mut serde_yaml::Mapping,
    extra: &serde_yaml::Mapping,
    what: &str,
    at: &str,
    file: &Path,
    errors: &mut Vec<Finding>,
) {
    for (k, v) in extra {
        if base.contains_key(k) {
            let name = k.as_str().unwrap_or_default();
            let mut field = at.to_owned();
            push_key(&mut field, name);
            errors.push(
                Finding::error(format!(
                    "failed to merge {what} config: config for org or repo {name} passed more than once"
                ))
                .in_file(file)
                .at(field),
            );
        } else {
            base.insert(k.clone(), v.clone());
        }
    }
}

/// Prow's `ProwConfig.mergeFrom` over YAML values.
fn merge_supplemental(
    base: &mut serde_yaml::Mapping,
    extra: &serde_yaml::Mapping,
    file: &Path,
    errors: &mut Vec<Finding>,
) {
    if let Some(serde_yaml::Value::Mapping(tide)) = extra.get("tide") {
        let base_tide = child_mapping(base, "tide");
        if let Some(serde_yaml::Value::Sequence(queries)) = tide.get("queries") {
            let entry = base_tide
                .entry(serde_yaml::Value::String("queries".to_owned()))
                .or_insert(serde_yaml::Value::Null);
            if !entry.is_sequence() {
                *entry = serde_yaml::Value::Sequence(Vec::new());
            }
            if let serde_yaml::Value::Sequence(list) = entry {
                list.extend(queries.iter().cloned());
            }
        }
        if let Some(serde_yaml::Value::Mapping(methods)) = tide.get("merge_method") {
            let base_methods = child_mapping(base_tide, "merge_method");
            merge_keyed(
                base_methods,
                methods,
                "tide",
                "tide.merge_method",
                file,
                errors,
            );
        }
    }
    if let Some(serde_yaml::Value::Mapping(slack)) = extra.get("slack_reporter_configs") {
        let base_slack = child_mapping(base, "slack_reporter_configs");
        merge_keyed(
            base_slack,
            slack,
            "slack-reporter",
            "slack_reporter_configs",
            file,
            errors,
        );
    }
    if let Some(serde_yaml::Value::Mapping(bp)) = extra.get("branch-protection") {
        let base_bp = child_mapping(base, "branch-protection");
        merge_protection(base_bp, bp, file, errors);
    }
}

/// Whether a branch-protection level sets any policy field.
fn policy_set(level: &serde_yaml::Mapping) -> bool {
    POLICY_KEYS
        .iter()
        .any(|k| level.get(*k).is_some_and(|v| !v.is_null()))
}

/// Copies the policy fields of `extra` into `base` when `base` has none; both set is an error.
fn merge_policy(
    base: &mut serde_yaml::Mapping,
    extra: &serde_yaml::Mapping,
    clash: String,
    at: &str,
    file: &Path,
    errors: &mut Vec<Finding>,
) {
    if !policy_set(extra) {
        return;
    }
    if policy_set(base) {
        errors.push(
            Finding::error(format!("failed to merge branch protection config: {clash}"))
                .in_file(file)
                .at(at),
        );
        return;
    }
    for key in POLICY_KEYS {
        if let Some(v) = extra.get(*key) {
            base.insert(serde_yaml::Value::String((*key).to_owned()), v.clone());
        }
    }
}

/// Prow's `BranchProtection.merge` over YAML values: policies per org, repo and branch.
fn merge_protection(
    base: &mut serde_yaml::Mapping,
    extra: &serde_yaml::Mapping,
    file: &Path,
    errors: &mut Vec<Finding>,
) {
    let at = "branch-protection";
    merge_policy(
        base,
        extra,
        "both brachprotection configs set a top-level policy".to_owned(),
        at,
        file,
        errors,
    );
    for switch in PROTECTION_SWITCHES {
        let Some(v) = extra.get(*switch).filter(|v| !v.is_null()) else {
            continue;
        };
        if base.get(*switch).is_some_and(|v| !v.is_null()) {
            errors.push(
                Finding::error(format!(
                    "failed to merge branch protection config: both branchprotection configs set {switch}"
                ))
                .in_file(file)
                .at(format!("{at}.{switch}")),
            );
        } else {
            base.insert(serde_yaml::Value::String((*switch).to_owned()), v.clone());
        }
    }
    let Some(serde_yaml::Value::Mapping(orgs)) = extra.get("orgs") else {
        return;
    };
    let empty = serde_yaml::Mapping::new();
    for (org, org_extra) in orgs {
        let org_name = org.as_str().unwrap_or_default();
        let org_extra = org_extra.as_mapping().unwrap_or(&empty);
        let base_org = child_mapping(child_mapping(base, "orgs"), org_name);
        let mut org_at = format!("{at}.orgs");
        push_key(&mut org_at, org_name);
        merge_policy(
            base_org,
            org_extra,
            format!("both branchprotection configs define a policy for org {org_name}"),
            &org_at,
            file,
            errors,
        );
        let Some(serde_yaml::Value::Mapping(repos)) = org_extra.get("repos") else {
            continue;
        };
        for (repo, repo_extra) in repos {
            let repo_name = repo.as_str().unwrap_or_default();
            let repo_extra = repo_extra.as_mapping().unwrap_or(&empty);
            let base_repo = child_mapping(child_mapping(base_org, "repos"), repo_name);
            let mut repo_at = format!("{org_at}.repos");
            push_key(&mut repo_at, repo_name);
            merge_policy(
                base_repo,
                repo_extra,
                format!(
                    "both branchprotection configs define a policy for repo {org_name}/{repo_name}"
                ),
                &repo_at,
                file,
                errors,
            );
            let Some(serde_yaml::Value::Mapping(branches)) = repo_extra.get("branches") else {
                continue;
            };
            for (branch, branch_extra) in branches {
                let branch_name = branch.as_str().unwrap_or_default();
                let branch_extra = branch_extra.as_mapping().unwrap_or(&empty);
                let base_branch = child_mapping(child_mapping(base_repo, "branches"), branch_name);
                let mut branch_at = format!("{repo_at}.branches");
                push_key(&mut branch_at, branch_name);
                merge_policy(
                    base_branch,
                    branch_extra,
                    format!(
                        "both branchprotection configs define a policy for branch {branch_name} in repo {org_name}/{repo_name}"
                    ),
                    &branch_at,
                    file,
                    errors,
                );
            }
        }
    }
}

/// Finds the field names serde knows for the struct at a path of a document, by deserializing
/// the document as `T` and stopping when that struct is asked for (its `deserialize_struct`
/// call carries the names). Everything off the path is read normally.
struct Probe<'de, 'p> {
    value: &'de serde_yaml::Value,
    path: &'p [FieldSegment],
}

/// The error a [`Probe`] stops with: the struct's field names, or why it could not find them.
#[derive(Debug)]
struct ProbeError(Result<Vec<&'static str>, String>);

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for ProbeError {}

impl serde::de::Error for ProbeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ProbeError(Err(msg.to_string()))
    }
}

/// The field names of the struct at `path` when the document is read as `T`.
fn struct_fields<T: DeserializeOwned>(
    value: &serde_yaml::Value,
    path: &[FieldSegment],
) -> Option<Vec<&'static str>> {
    match T::deserialize(Probe { value, path }) {
        Err(ProbeError(Ok(fields))) => Some(fields),
        _ => None,
    }
}

impl<'de> Probe<'de, '_> {
    /// Reads the value normally, turning the YAML error into a probe error.
    fn plain<V: serde::de::Visitor<'de>>(
        value: &'de serde_yaml::Value,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        use serde::Deserializer as _;
        value
            .deserialize_any(visitor)
            .map_err(|e| ProbeError(Err(e.to_string())))
    }
}

impl<'de> serde::Deserializer<'de> for Probe<'de, '_> {
    type Error = ProbeError;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        match self.value {
            serde_yaml::Value::Mapping(_) => self.deserialize_map(visitor),
            serde_yaml::Value::Sequence(_) => self.deserialize_seq(visitor),
            other => Probe::plain(other, visitor),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        if self.value.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        if self.path.is_empty() {
            return Err(ProbeError(Ok(fields.to_vec())));
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let serde_yaml::Value::Mapping(map) = self.value else {
            return Probe::plain(self.value, visitor);
        };
        // The entry on the path comes first, so nothing before it is read.
        let first = match self.path.split_first() {
            Some((FieldSegment::Key(want), _)) => {
                map.get(want.as_str()).map(|value| (want.as_str(), value))
            }
            _ => None,
        };
        visitor.visit_map(ProbeMap {
            first,
            entries: map.iter(),
            pending: None,
            path: self.path,
        })
    }

    fn deserialize_seq<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        let serde_yaml::Value::Sequence(items) = self.value else {
            return Probe::plain(self.value, visitor);
        };
        // The item on the path comes first, so nothing before it is read.
        let first = match self.path.split_first() {
            Some((FieldSegment::Index(want), _)) => items.get(*want).map(|item| (*want, item)),
            _ => None,
        };
        visitor.visit_seq(ProbeSeq {
            first,
            items: items.iter().enumerate(),
            path: self.path,
        })
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.value
            .deserialize_enum(name, variants, visitor)
            .map_err(|e| ProbeError(Err(e.to_string())))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct tuple tuple_struct identifier ignored_any
    }
}

/// A mapping read by a [`Probe`]: the entry on the path is probed further, others read plainly.
///
/// The entry on the path is handed out first: the struct's field names are all the probe is
/// after, and the types on the path do not depend on the order of entries, so the probe costs
/// the depth of the path instead of the size of the document before it.
struct ProbeMap<'de, 'p> {
    /// The key and value of the entry on the path, not handed out yet.
    first: Option<(&'p str, &'de serde_yaml::Value)>,
    entries: serde_yaml::mapping::Iter<'de>,
    /// The value of the last key read, with the rest of the path when it is on the path.
    pending: Option<(&'de serde_yaml::Value, Option<&'p [FieldSegment]>)>,
    path: &'p [FieldSegment],
}

impl<'de, 'p> serde::de::MapAccess<'de> for ProbeMap<'de, 'p> {
    type Error = ProbeError;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        if let Some((key, value)) = self.first.take() {
            self.pending = Some((value, self.path.split_first().map(|(_, rest)| rest)));
            let key = serde::de::value::StrDeserializer::<ProbeError>::new(key);
            return seed.deserialize(key).map(Some);
        }
        let on_path = match self.path.split_first() {
            Some((FieldSegment::Key(want), _)) => Some(want.as_str()),
            _ => None,
        };
        // The entry on the path was handed out first.
        let Some((key, value)) = self
            .entries
            .by_ref()
            .find(|(key, _)| on_path.is_none() || key.as_str() != on_path)
        else {
            return Ok(None);
        };
        self.pending = Some((value, None));
        seed.deserialize(key)
            .map(Some)
            .map_err(|e| ProbeError(Err(e.to_string())))
    }

    fn next_value_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, ProbeError> {
        let Some((value, path)) = self.pending.take() else {
            return Err(ProbeError(Err("value without key".to_owned())));
        };
        let Some(path) = path else {
            return seed
                .deserialize(value)
                .map_err(|e| ProbeError(Err(e.to_string())));
        };
        seed.deserialize(Probe { value, path })
    }
}

/// A list read by a [`Probe`]: the item on the path is probed further (and first, as in
/// [`ProbeMap`]), others read plainly.
struct ProbeSeq<'de, 'p> {
    /// The item on the path and its index, not handed out yet.
    first: Option<(usize, &'de serde_yaml::Value)>,
    items: std::iter::Enumerate<std::slice::Iter<'de, serde_yaml::Value>>,
    path: &'p [FieldSegment],
}

impl<'de> serde::de::SeqAccess<'de> for ProbeSeq<'de, '_> {
    type Error = ProbeError;

    fn next_element_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, ProbeError> {
        let next = match self.first.take() {
            Some(first) => Some(first),
            None => {
                let on_path = match self.path.first() {
                    Some(FieldSegment::Index(want)) => Some(*want),
                    _ => None,
                };
                // The item on the path was handed out first.
                self.items.by_ref().find(|(i, _)| Some(*i) != on_path)
            }
        };
        let Some((i, value)) = next else {
            return Ok(None);
        };
        match self.path.split_first() {
            Some((FieldSegment::Index(want), rest)) if *want == i => {
                seed.deserialize(Probe { value, path: rest }).map(Some)
            }
            _ => seed
                .deserialize(value)
                .map(Some)
                .map_err(|e| ProbeError(Err(e.to_string()))),
        }
    }
}

/// What a supplemental prow-config file configures: anything global, and which orgs and repos
/// (Prow's `HasConfigFor`).
fn supplemental_scope(
    value: &serde_yaml::Value,
    unknown: &[Finding],
) -> (
    bool,
    std::collections::BTreeSet<String>,
    std::collections::BTreeSet<String>,
) {
    let mut global = false;
    let mut orgs = std::collections::BTreeSet::new();
    let mut repos = std::collections::BTreeSet::new();
    let org_or_repo = |key: &str,
                       orgs: &mut std::collections::BTreeSet<String>,
                       repos: &mut std::collections::BTreeSet<String>| {
        if key.contains('/') {
            repos.insert(key.to_owned());
        } else {
            orgs.insert(key.to_owned());
        }
    };
    let Some(map) = value.as_mapping() else {
        return (false, orgs, repos);
    };
    let keys = |v: &serde_yaml::Value| -> Vec<String> {
        v.as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (key, value) in map {
        let Some(key) = key.as_str() else { continue };
        if value.is_null() || unknown.iter().any(|w| w.field == key) {
            continue;
        }
        match key {
            "branch-protection" => {
                let bp = value.as_mapping();
                if bp.is_some_and(policy_set)
                    || PROTECTION_SWITCHES
                        .iter()
                        .any(|s| value.get(*s).is_some_and(|v| !v.is_null()))
                {
                    global = true;
                }
                if let Some(serde_yaml::Value::Mapping(org_map)) = value.get("orgs") {
                    for (org, org_value) in org_map {
                        let org = org.as_str().unwrap_or_default();
                        if org_value.as_mapping().is_some_and(policy_set) {
                            orgs.insert(org.to_owned());
                        }
                        for repo in org_value.get("repos").map(keys).unwrap_or_default() {
                            repos.insert(format!("{org}/{repo}"));
                        }
                    }
                }
            }
            "slack_reporter_configs" => {
                for k in keys(value) {
                    if k == "*" {
                        global = true;
                    } else {
                        org_or_repo(&k, &mut orgs, &mut repos);
                    }
                }
            }
            "tide" => {
                for (sub, v) in value.as_mapping().into_iter().flatten() {
                    match sub.as_str() {
                        Some("merge_method") => {
                            for k in keys(v) {
                                org_or_repo(&k, &mut orgs, &mut repos);
                            }
                        }
                        Some("queries") => {
                            for query in v.as_sequence().into_iter().flatten() {
                                for (field, set) in [("orgs", false), ("repos", true)] {
                                    for item in query
                                        .get(field)
                                        .and_then(|l| l.as_sequence())
                                        .into_iter()
                                        .flatten()
                                        .filter_map(|i| i.as_str())
                                    {
                                        if set {
                                            repos.insert(item.to_owned());
                                        } else {
                                            orgs.insert(item.to_owned());
                                        }
                                    }
                                }
                            }
                        }
                        _ if !v.is_null() => global = true,
                        _ => {}
                    }
                }
            }
            _ => global = true,
        }
    }
    (global, orgs, repos)
}

/// checkconfig's `validate-supplemental-prow-config-hierarchy`: a supplemental file in
/// `<dir>/<org>/` may configure only that org, one in `<dir>/<org>/<repo>/` only that repo.
pub(crate) fn supplemental_hierarchy(dirs: &[PathBuf], suffix: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for root in dirs {
        let mut files = Vec::new();
        if let Err(e) = supplemental_files(root, suffix, &mut files) {
            out.push(Finding::warning(format!("error when walking: {e}")).in_file(root));
            continue;
        }
        for file in files {
            let rel: Vec<String> = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let shown = file.display();
            let (expected, is_org) = match rel.as_slice() {
                [_] => continue,
                [org, _] => (org.clone(), true),
                [org, repo, _] => (format!("{org}/{repo}"), false),
                _ => {
                    out.push(Finding::warning(format!(
                        "config {shown} is at an invalid location. All configs must be below {}. If they are org-specific, they must be in a folder named like the org. If they are repo-specific, they must be in a folder named like the repo below a folder named like the org.",
                        root.display()
                    )).in_file(&file));
                    continue;
                }
            };
            let Ok(text) = read_maybe_gzip(&file) else {
                continue;
            };
            let unknown = match parse::<ProwConfig>(&text, &file) {
                Ok((_, unknown)) => unknown,
                Err(_) => continue,
            };
            let Some(value) = yaml_value(&text) else {
                continue;
            };
            let (global, mut orgs, mut repos) = supplemental_scope(&value, &unknown);
            let fine = if is_org {
                !global && orgs.len() == 1 && orgs.contains(&expected) && repos.is_empty()
            } else {
                !global && orgs.is_empty() && repos.len() == 1 && repos.contains(&expected)
            };
            if fine {
                continue;
            }
            let mut message = if is_org {
                orgs.remove(&expected);
                format!(
                    "config {shown} is invalid: Must contain only config for org {expected}, but"
                )
            } else {
                repos.remove(&expected);
                format!(
                    "config {shown} is invalid: Must only contain config for repo {expected}, but"
                )
            };
            let mut parts = Vec::new();
            if global {
                parts.push("contains global config".to_owned());
            }
            parts.extend(orgs.iter().map(|o| format!("contains config for org {o}")));
            parts.extend(
                repos
                    .iter()
                    .map(|r| format!("contains config for repo {r}")),
            );
            message.push(' ');
            message.push_str(&parts.join(" and "));
            out.push(Finding::warning(message).in_file(&file));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Keys of a job, some in Go's other spellings: `(key, value)`.
    const JOB_KEYS: &[(&str, &str)] = &[
        ("ALWAYS_RUN", "true"),
        ("Always_Run", "false"),
        ("Optional", "true"),
        ("OPTIONAL", "false"),
        ("optional", "true"),
        ("Max_Concurrency", "3"),
        // Renaming this one makes the document fail, so the round goes one key at a time.
        ("MAX_CONCURRENCY", "many"),
        ("optinal", "true"),
        ("Decorate", "true"),
    ];

    /// A job file whose jobs carry the keys `picks` choose, in that order.
    fn job_file(jobs: &[Vec<usize>], spec_case: &[bool]) -> String {
        let mut text = String::from("presubmits:\n  org/repo:\n");
        for (i, picks) in jobs.iter().enumerate() {
            text.push_str(&format!("  - name: job-{i}\n"));
            for &k in picks {
                let (key, value) = JOB_KEYS[k];
                text.push_str(&format!("    {key}: {value}\n"));
            }
            let (spec, image) = if spec_case.get(i).copied().unwrap_or(false) {
                ("Spec", "IMAGE")
            } else {
                ("spec", "image")
            };
            text.push_str(&format!(
                "    {spec}:\n      containers:\n      - {image}: golang\n"
            ));
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Batched rounds give what renaming one key at a time gives: the same jobs and the
        /// same warnings, in order.
        #[test]
        fn proptest_batched_case_folding_is_one_at_a_time(
            jobs in prop::collection::vec(prop::collection::vec(0..JOB_KEYS.len(), 0..4), 1..8),
            spec_case in prop::collection::vec(any::<bool>(), 0..8),
        ) {
            let text = job_file(&jobs, &spec_case);
            let file = Path::new("jobs.yaml");
            let value = yaml_value(&text).expect("yaml");
            let batched = fold_case_rounds::<JobConfig>(value.clone(), file, true);
            let single = fold_case_rounds::<JobConfig>(value, file, false);
            prop_assert_eq!(batched, single, "{}", text);
        }
    }

    #[test]
    fn case_folding_renames_what_go_would_read() {
        // Job 0: folded; job 1: `MAX_CONCURRENCY: many` cannot be a number, so that round
        // goes one key at a time and the key stays unknown; job 2: the spelling Prow knows
        // is there already.
        let text = job_file(&[vec![0, 2], vec![6, 2], vec![4, 2]], &[true]);
        let (jobs, unknown) =
            fold_case_rounds::<JobConfig>(yaml_value(&text).expect("yaml"), Path::new("f"), true)
                .expect("renamed");
        let jobs = &jobs.presubmits["org/repo"];
        assert!(jobs[0].always_run && jobs[0].optional);
        assert_eq!(
            jobs[0]
                .spec
                .as_ref()
                .map(|s| s.containers[0].image.is_some()),
            Some(true)
        );
        assert!(jobs[1].optional && jobs[1].max_concurrency == 0);
        let fields: Vec<&str> = unknown.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                r#"presubmits["org/repo"][1].MAX_CONCURRENCY"#,
                r#"presubmits["org/repo"][2].Optional"#,
            ]
        );
    }

    #[test]
    fn probes_find_the_struct_at_any_index() {
        let text = job_file(&[vec![0], vec![2, 5], vec![8]], &[false, true, false]);
        let value = yaml_value(&text).expect("yaml");
        let job = |i: usize| {
            vec![
                FieldSegment::Key("presubmits".to_owned()),
                FieldSegment::Key("org/repo".to_owned()),
                FieldSegment::Index(i),
            ]
        };
        let fields = struct_fields::<JobConfig>(&value, &job(2)).expect("a presubmit");
        assert!(fields.contains(&"always_run") && fields.contains(&"name"));
        assert_eq!(struct_fields::<JobConfig>(&value, &job(0)), Some(fields));
        let mut container = job(0);
        container.extend([
            FieldSegment::Key("spec".to_owned()),
            FieldSegment::Key("containers".to_owned()),
            FieldSegment::Index(0),
        ]);
        let fields = struct_fields::<JobConfig>(&value, &container).expect("a container");
        assert!(fields.contains(&"image"));
        assert_eq!(
            struct_fields::<JobConfig>(&value, &job(3)),
            None,
            "no such job"
        );
    }
}
