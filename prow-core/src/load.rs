//! Reading ProwJob documents (YAML or JSON) with field paths, lines and unknown-field warnings.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Problem};
use crate::prowjob::ProwJob;

/// The API version of ProwJobs.
pub const API_VERSION: &str = "prow.k8s.io/v1";
/// The kind of ProwJobs.
pub const KIND: &str = "ProwJob";

/// A value read from a document, with the fields that were not understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    /// The value.
    pub value: T,
    /// Field paths present in the document but unknown to us (warnings, not errors).
    pub unknown_fields: Vec<String>,
}

#[derive(Deserialize)]
struct TypeMeta {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// Reads one ProwJob from YAML (JSON is YAML too), checking `apiVersion` and `kind`.
pub fn prowjob_from_yaml(text: &str) -> Result<Loaded<ProwJob>, Error> {
    let meta: TypeMeta = from_yaml(text)?.value;
    if meta.api_version.as_deref() != Some(API_VERSION) {
        return Err(Error::Parse {
            problem: Problem::new(
                "apiVersion",
                format!(
                    "expected {API_VERSION:?}, found {:?}",
                    meta.api_version.unwrap_or_default()
                ),
            ),
        });
    }
    if meta.kind.as_deref() != Some(KIND) {
        return Err(Error::Parse {
            problem: Problem::new(
                "kind",
                format!(
                    "expected {KIND:?}, found {:?}",
                    meta.kind.unwrap_or_default()
                ),
            ),
        });
    }
    let mut loaded: Loaded<ProwJob> = from_yaml(text)?;
    // apiVersion and kind are read above; kube's derive does not keep them.
    loaded
        .unknown_fields
        .retain(|f| f != "apiVersion" && f != "kind");
    Ok(loaded)
}

/// Deserialises any type from YAML, naming the field path and line of the first error and
/// collecting unknown fields.
///
/// The field path is tracked only when reading the text again after a failure: tracking it
/// doubles the deserialising code, which a server would otherwise keep mapped for nothing.
pub fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<Loaded<T>, Error> {
    let mut unknown_fields = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown_fields.push(ignored_path(&path));
    let ignoring =
        serde_ignored::Deserializer::new(serde_yaml::Deserializer::from_str(text), &mut record);
    let first = match T::deserialize(ignoring) {
        Ok(value) => {
            return Ok(Loaded {
                value,
                unknown_fields,
            });
        }
        Err(first) => first,
    };
    let (field, inner) =
        match serde_path_to_error::deserialize::<_, T>(serde_yaml::Deserializer::from_str(text)) {
            Err(err) => (path_string(err.path()), err.into_inner()),
            // Cannot happen (the same text failed above); report the first error unplaced.
            Ok(_) => (String::new(), first),
        };
    let line = inner.location().map(|l| l.line());
    let reason = bare_reason(&inner.to_string(), &field);
    Err(Error::Parse {
        problem: Problem {
            field,
            line,
            reason,
        },
    })
}

/// Renders a serde path as `spec.extra_refs[0].org`; the root is empty.
fn path_string(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { String::new() } else { text }
}

/// Renders an ignored field's path like serde_path_to_error does: `status.surprise`,
/// `spec.extra_refs[0].typo`, with no marker for `Option` and newtype layers.
fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let parent = ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// Drops the `path: ` prefix and ` at line L column C` suffix the YAML library adds, since
/// field and line are reported separately.
fn bare_reason(message: &str, field: &str) -> String {
    let message = message
        .strip_prefix(field)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message);
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Writes a ProwJob as YAML, with `apiVersion` and `kind`.
pub fn prowjob_to_yaml(job: &ProwJob) -> Result<String, Error> {
    let value = serde_json::to_value(job).map_err(Error::Serialize)?;
    serde_yaml::to_string(&value).map_err(|e| Error::Serialize(serde::ser::Error::custom(e)))
}
