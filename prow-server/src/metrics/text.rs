//! A reader of the Prometheus and OpenMetrics text formats, strict enough to tell a valid
//! exposition from a broken one: names, label syntax and escapes, values, and that each sample
//! belongs to a family its `# TYPE` line declared.

use std::collections::{BTreeMap, BTreeSet};

/// One sample: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Sample {
    /// The sample's name (a counter's includes `_total`).
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// Every sample of an exposition, with the families' types.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Samples {
    /// The samples, in order.
    pub samples: Vec<Sample>,
    /// Each family's declared type (`counter`, `gauge`, ...).
    pub types: BTreeMap<String, String>,
}

impl Samples {
    /// The value of the sample `name` whose labels include every one of `labels`, summed over
    /// all such samples; `None` when there is none.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut found = None;
        for sample in &self.samples {
            if sample.name == name
                && labels
                    .iter()
                    .all(|(k, v)| sample.labels.get(*k).is_some_and(|x| x == v))
            {
                *found.get_or_insert(0.0) += sample.value;
            }
        }
        found
    }

    /// [`Samples::sum`], with no sample counting as 0.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.sum(name, labels).unwrap_or(0.0)
    }
}

/// Why a text exposition does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
#[non_exhaustive]
pub struct ParseError {
    /// The line, counting from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Suffixes a sample may add to its family's name.
const SUFFIXES: &[&str] = &[
    "", "_total", "_created", "_count", "_sum", "_bucket", "_info",
];

/// Parses a text exposition.
pub fn parse_text(text: &str) -> Result<Samples, ParseError> {
    let mut out = Samples::default();
    let mut families: BTreeSet<String> = BTreeSet::new();
    let mut eof = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let fail = |reason: String| ParseError {
            line: number,
            reason,
        };
        if eof {
            return Err(fail("content after # EOF".to_owned()));
        }
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim_start();
            if comment == "EOF" {
                eof = true;
                continue;
            }
            let mut words = comment.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    check_name(name).map_err(fail)?;
                    const KINDS: &[&str] = &[
                        "counter",
                        "gauge",
                        "histogram",
                        "summary",
                        "untyped",
                        "unknown",
                        "info",
                        "stateset",
                        "gaugehistogram",
                    ];
                    if !KINDS.contains(&kind) {
                        return Err(fail(format!("unknown metric type {kind:?}")));
                    }
                    if out.types.insert(name.to_owned(), kind.to_owned()).is_some() {
                        return Err(fail(format!("second # TYPE for {name}")));
                    }
                    families.insert(name.to_owned());
                }
                (Some("HELP" | "UNIT"), Some(name), _) => check_name(name).map_err(fail)?,
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).map_err(fail)?;
        let declared = SUFFIXES.iter().any(|suffix| {
            sample
                .name
                .strip_suffix(suffix)
                .is_some_and(|family| families.contains(family))
        });
        if !declared {
            return Err(fail(format!("sample {} has no # TYPE line", sample.name)));
        }
        out.samples.push(sample);
    }
    Ok(out)
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("invalid metric name {name:?}"))
    }
}

fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("invalid label name {name:?}"))
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample needs a value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let rest = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("expected a space before the value of {name}"))?;
    let mut parts = rest.split(' ');
    let value = parts.next().unwrap_or_default();
    let value = parse_value(value).ok_or_else(|| format!("invalid value {value:?} of {name}"))?;
    if let Some(timestamp) = parts.next()
        && timestamp.parse::<f64>().is_err()
    {
        return Err(format!("invalid timestamp {timestamp:?} of {name}"));
    }
    if parts.next().is_some() {
        return Err(format!("unexpected text after the value of {name}"));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

fn parse_value(value: &str) -> Option<f64> {
    match value {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        // Rust also reads `inf`, `infinity` and `nan` in any case; the format does not.
        _ if value.to_ascii_lowercase().contains("inf")
            || value.to_ascii_lowercase().contains("nan") =>
        {
            None
        }
        _ => value.parse().ok(),
    }
}

/// Reads `name="value",...}` and returns the text after the closing brace.
fn parse_labels<'a>(
    mut rest: &'a str,
    labels: &mut BTreeMap<String, String>,
) -> Result<&'a str, String> {
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let eq = rest.find('=').ok_or("a label needs =")?;
        let name = &rest[..eq];
        check_label_name(name)?;
        let mut chars = rest[eq + 1..].char_indices();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err(format!("label {name} needs a quoted value"));
        }
        let mut value = String::new();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = Some(eq + 1 + i + 1);
                    break;
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('n') => value.push('\n'),
                    other => return Err(format!("invalid escape {other:?} in label {name}")),
                },
                '\n' => return Err(format!("newline in label {name}")),
                c => value.push(c),
            }
        }
        let end = end.ok_or_else(|| format!("unterminated value of label {name}"))?;
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} given twice"));
        }
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("expected , or } after a label".to_owned());
        }
    }
}
