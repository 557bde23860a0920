//! Prow's Go templates over a ProwJob (`job_url_template`, `report_template(s)`, Slack's
//! `report_template`), rendered with Go `text/template` semantics by the `gtmpl` crate.
//!
//! Go templates see the ProwJob's Go struct, so fields go by their Go names (`.Spec.Refs.BaseSHA`,
//! `.Status.URL`, `.Status.BuildID`, `.Spec.Refs.Pulls`), every field of Prow's structs is there
//! even when the JSON form leaves it out (zero values: `""`, `0`, `false`, an empty list), and the
//! object's metadata is reachable both as `.ObjectMeta.Name` and, as Go promotes embedded fields,
//! as `.Name`. [`job_value`] builds that view; [`render`] parses and runs a template over it.
//!
//! `gtmpl` covers everything the corpus deployments' templates use: field chains, `if` / `else if`
//! / `else`, `with`, `range`, `eq`, `ne`, `or`, `and`, `not`, `index`, `len` and `printf` with
//! precision (`printf "%.7s"`), and `{{-`/`-}}` trimming.

use std::collections::HashMap;

use gtmpl::Value;
use prow_core::ProwJob;

/// A template that would not parse or run.
#[derive(Debug, thiserror::Error)]
#[error("template: {name}: {reason}")]
pub struct TemplateError {
    /// The template's name (such as `JobURL` or `report_template`).
    pub name: String,
    /// Why, in gtmpl's words.
    pub reason: String,
}

/// Zero values of the Go fields a template may read, per struct.
enum Zero {
    Str,
    Bool,
    Int,
    List,
    Nil,
}

const SPEC_FIELDS: &[(&str, Zero)] = &[
    ("Type", Zero::Str),
    ("Agent", Zero::Str),
    ("Cluster", Zero::Str),
    ("Namespace", Zero::Str),
    ("Job", Zero::Str),
    ("Refs", Zero::Nil),
    ("ExtraRefs", Zero::List),
    ("Report", Zero::Bool),
    ("Context", Zero::Str),
    ("RerunCommand", Zero::Str),
    ("MaxConcurrency", Zero::Int),
    ("JobQueueName", Zero::Str),
    ("Hidden", Zero::Bool),
];

const REFS_FIELDS: &[(&str, Zero)] = &[
    ("Org", Zero::Str),
    ("Repo", Zero::Str),
    ("RepoLink", Zero::Str),
    ("BaseRef", Zero::Str),
    ("BaseSHA", Zero::Str),
    ("BaseLink", Zero::Str),
    ("Pulls", Zero::List),
    ("PathAlias", Zero::Str),
    ("WorkDir", Zero::Bool),
    ("CloneURI", Zero::Str),
    ("SkipSubmodules", Zero::Bool),
    ("CloneDepth", Zero::Int),
    ("SkipFetchHead", Zero::Bool),
];

const PULL_FIELDS: &[(&str, Zero)] = &[
    ("Number", Zero::Int),
    ("Author", Zero::Str),
    ("SHA", Zero::Str),
    ("Title", Zero::Str),
    ("Ref", Zero::Str),
    ("Link", Zero::Str),
    ("CommitLink", Zero::Str),
    ("AuthorLink", Zero::Str),
];

const STATUS_FIELDS: &[(&str, Zero)] = &[
    ("StartTime", Zero::Nil),
    ("PendingTime", Zero::Nil),
    ("CompletionTime", Zero::Nil),
    ("State", Zero::Str),
    ("Description", Zero::Str),
    ("URL", Zero::Str),
    ("PodName", Zero::Str),
    ("BuildID", Zero::Str),
    ("JenkinsBuildID", Zero::Str),
    ("PodRevivalCount", Zero::Int),
];

const META_FIELDS: &[(&str, Zero)] = &[
    ("Name", Zero::Str),
    ("Namespace", Zero::Str),
    ("UID", Zero::Str),
    ("ResourceVersion", Zero::Str),
    ("GenerateName", Zero::Str),
];

/// The Go name of a JSON field name: `base_sha` → `BaseSHA`, `startTime` → `StartTime`,
/// `url` → `URL`, `build_id` → `BuildID`.
pub fn go_name(json: &str) -> String {
    // camelCase words start at capitals; snake_case words at underscores.
    let mut words: Vec<String> = Vec::new();
    for part in json.split('_') {
        let mut word = String::new();
        for c in part.chars() {
            if c.is_ascii_uppercase() && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.push(c);
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
        .iter()
        .map(|w| match w.to_ascii_lowercase().as_str() {
            "id" => "ID".to_owned(),
            "url" => "URL".to_owned(),
            "sha" => "SHA".to_owned(),
            "uri" => "URI".to_owned(),
            "uid" => "UID".to_owned(),
            "api" => "API".to_owned(),
            _ => {
                let mut chars = w.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + chars.as_str()
                })
            }
        })
        .collect()
}

/// A JSON value as a template value, keys untouched (maps such as labels, the pod spec).
fn raw(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (_, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => Value::from(f),
            _ => Value::Nil,
        },
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(raw).collect()),
        serde_json::Value::Object(map) => {
            Value::Map(map.iter().map(|(k, v)| (k.clone(), raw(v))).collect())
        }
    }
}

/// A Go struct from its JSON object: fields renamed to Go names, `nested` fields converted by
/// their own rules, and absent fields of `fields` at their zero value.
fn structure(
    json: Option<&serde_json::Value>,
    fields: &[(&str, Zero)],
    nested: &dyn Fn(&str, &serde_json::Value) -> Option<Value>,
) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    if let Some(serde_json::Value::Object(map)) = json {
        for (key, value) in map {
            let name = go_name(key);
            let converted = nested(&name, value).unwrap_or_else(|| raw(value));
            out.insert(name, converted);
        }
    }
    for (name, zero) in fields {
        out.entry((*name).to_owned()).or_insert_with(|| match zero {
            Zero::Str => Value::String(String::new()),
            Zero::Bool => Value::Bool(false),
            Zero::Int => Value::from(0i64),
            Zero::List => Value::Array(Vec::new()),
            Zero::Nil => Value::Nil,
        });
    }
    out
}

fn refs_value(json: &serde_json::Value) -> Value {
    let pulls = |name: &str, value: &serde_json::Value| {
        (name == "Pulls").then(|| match value {
            serde_json::Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|p| Value::Object(structure(Some(p), PULL_FIELDS, &|_, _| None)))
                    .collect(),
            ),
            _ => Value::Array(Vec::new()),
        })
    };
    Value::Object(structure(Some(json), REFS_FIELDS, &pulls))
}

/// The template view of a ProwJob: Go field names, Go zero values, promoted metadata fields.
pub fn job_value(job: &ProwJob) -> Value {
    let json = serde_json::to_value(job).unwrap_or_default();
    let spec_nested = |name: &str, value: &serde_json::Value| match name {
        "Refs" => Some(refs_value(value)),
        "ExtraRefs" => Some(match value {
            serde_json::Value::Array(items) => Value::Array(items.iter().map(refs_value).collect()),
            _ => Value::Array(Vec::new()),
        }),
        _ => None,
    };
    let spec = structure(json.get("spec"), SPEC_FIELDS, &spec_nested);
    let status = structure(json.get("status"), STATUS_FIELDS, &|_, _| None);
    let meta = structure(json.get("metadata"), META_FIELDS, &|_, _| None);
    let mut top: HashMap<String, Value> = meta.clone();
    top.insert("ObjectMeta".to_owned(), Value::Object(meta));
    top.insert("Spec".to_owned(), Value::Object(spec));
    top.insert("Status".to_owned(), Value::Object(status));
    top.insert("Kind".to_owned(), Value::String("ProwJob".to_owned()));
    top.insert(
        "APIVersion".to_owned(),
        Value::String("prow.k8s.io/v1".to_owned()),
    );
    Value::Object(top)
}

/// Parses `text` as the Go template `name`.
pub fn parse(name: &str, text: &str) -> Result<gtmpl::Template, TemplateError> {
    let mut template = gtmpl::Template::with_name(name);
    template.parse(text).map_err(|e| TemplateError {
        name: name.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(template)
}

/// Renders the Go template `text` (called `name` in errors) over `job`.
pub fn render(name: &str, text: &str, job: &ProwJob) -> Result<String, TemplateError> {
    let template = parse(name, text)?;
    template
        .render(&gtmpl::Context::from(job_value(job)))
        .map_err(|e| TemplateError {
            name: name.to_owned(),
            reason: e.to_string(),
        })
}
