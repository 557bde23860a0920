//! One YAML document read into a type: the first error as a located finding, unknown fields
//! as warnings, Go's habits (repeated keys, case-insensitive keys) honoured.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::casefold::{fold_case, fold_missing};
use crate::error::Finding;
use crate::locate::push_key;

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

/// The message of unknown-field warnings.
pub const UNKNOWN_FIELD: &str = "unknown field";

/// Reads a document as a YAML value the way Go would (octal modes, last key wins, merge keys).
pub(crate) fn yaml_value(text: &str) -> Option<serde_yaml::Value> {
    let text = crate::yaml11::octal_modes(text);
    let crate::yaml11::LastWins(mut value) = serde_yaml::from_str(&text).ok()?;
    if text.contains("<<:") {
        value.apply_merge().ok()?;
    }
    Some(value)
}

/// Parses one document without the case-folding retry.
pub(crate) fn parse_plain<T: DeserializeOwned>(
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
