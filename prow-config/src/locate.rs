//! Field paths (`presubmits["org/repo"][3].run_if_changed`) and the line they are written on:
//! the one locator every finding of every file goes through.
//!
//! serde_yaml keeps no positions in values, but it puts one on every error. A path's line comes
//! from [`LineIndex`], one pass over the text that answers every path; what the index does not
//! read is found by walking the document with the parser and failing on purpose at the node
//! ([`Seek`]), whose error then carries the node's line. [`Anchor`] says which line a mapping
//! key has: its value's first token (what the parser reports, used for job files) or the line
//! that writes `key:` (used for `config.yaml` sections and `plugins.yaml`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::error::Finding;
use crate::files::read_maybe_gzip;
use crate::lines::LineIndex;

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

/// One step of a field path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldSegment {
    /// `.name` or `["org/repo"]`.
    Key(String),
    /// `[3]`.
    Index(usize),
}

impl From<&str> for FieldSegment {
    fn from(key: &str) -> Self {
        FieldSegment::Key(key.to_owned())
    }
}

impl From<&String> for FieldSegment {
    fn from(key: &String) -> Self {
        FieldSegment::Key(key.clone())
    }
}

impl From<String> for FieldSegment {
    fn from(key: String) -> Self {
        FieldSegment::Key(key)
    }
}

impl From<usize> for FieldSegment {
    fn from(index: usize) -> Self {
        FieldSegment::Index(index)
    }
}

/// Builds a field path from keys and indices: `field_path!["plugins", key, 2]`.
macro_rules! field_path {
    ($($seg:expr),* $(,)?) => {
        vec![$($crate::locate::FieldSegment::from($seg)),*]
    };
}
pub(crate) use field_path;

/// Which line a mapping key's path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// The value's first token, as the parser reports it (a block mapping's value starts on
    /// the line after its key).
    Node,
    /// The line that writes `key:`.
    Key,
}

/// Renders segments as `presubmits["org/repo"][3].run_if_changed`.
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

/// The marker error a strict [`Seek`] raises when the path leaves the document.
const MISSING: &str = "\u{0}missing";

/// Walks a YAML document along a field path and fails on purpose at the target (or, unless
/// strict, at the deepest part of the path that exists), so the parser's error carries that
/// node's position.
struct Seek<'p>(&'p [FieldSegment], bool);

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
            Err(E::custom(self.at_leaf()))
        })*
    };
}

impl Seek<'_> {
    /// The marker for a scalar or null reached: the target, unless the path goes on below it
    /// and the seek is strict.
    fn at_leaf(&self) -> &'static str {
        if self.1 && !self.0.is_empty() {
            MISSING
        } else {
            LOCATED
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML node")
    }

    located_scalar!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(E::custom(self.at_leaf()))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Err(E::custom(self.at_leaf()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        if let Some((FieldSegment::Key(want), rest)) = self.0.split_first() {
            while let Some(KeyText(key)) = map.next_key()? {
                // Keys match fields ignoring case, as in Go.
                if key.eq_ignore_ascii_case(want) {
                    return map.next_value_seed(Seek(rest, self.1));
                }
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Err(A::Error::custom(self.at_leaf()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        if let Some((FieldSegment::Index(want), rest)) = self.0.split_first() {
            let mut i = 0;
            let missing = if self.1 { MISSING } else { LOCATED };
            while i < *want {
                if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
                    return Err(A::Error::custom(missing));
                }
                i += 1;
            }
            if let Some(()) = seq.next_element_seed(Seek(rest, self.1))? {
                return Ok(());
            }
            return Err(A::Error::custom(missing));
        }
        Err(A::Error::custom(self.at_leaf()))
    }
}

/// The 1-based line of the node at `field` in the YAML `text`, or of its deepest ancestor
/// present there (a defaulted field has no line of its own; its job has), by the parser.
pub(crate) fn locate(text: &str, field: &str) -> Option<usize> {
    seek(text, &parse_field_path(field), false)
}

/// The parser's line for `path`; `strict` answers `None` when the path leaves the document.
fn seek(text: &str, path: &[FieldSegment], strict: bool) -> Option<usize> {
    use serde::de::DeserializeSeed as _;
    let de = serde_yaml::Deserializer::from_str(text);
    match Seek(path, strict).deserialize(de) {
        Err(e) if e.to_string().contains(LOCATED) => e.location().map(|l| l.line()),
        _ => None,
    }
}

/// One YAML document and, once asked, its [`LineIndex`]: answers the lines of many paths.
pub(crate) struct Lines<'t> {
    text: &'t str,
    index: std::cell::OnceCell<Option<LineIndex>>,
}

impl<'t> Lines<'t> {
    /// The document `text`; nothing is read until a line is asked for.
    pub(crate) fn new(text: &'t str) -> Self {
        Lines {
            text,
            index: std::cell::OnceCell::new(),
        }
    }

    /// The 1-based line of `path` (or of its deepest ancestor present) as `anchor` asks;
    /// `None` when not even the path's first step is in the document.
    pub(crate) fn line_of(&self, path: &[FieldSegment], anchor: Anchor) -> Option<usize> {
        let index = self.index.get_or_init(|| LineIndex::scan(self.text));
        if let Some(line) = index.as_ref().and_then(|i| i.line_at(path, anchor)) {
            return Some(line);
        }
        match anchor {
            Anchor::Node => seek(self.text, path, false),
            Anchor::Key => (1..=path.len())
                .rev()
                .find_map(|len| self.key_anchored(&path[..len])),
        }
    }

    /// The parser's line for exactly `path`, moved up to its key's line for a key.
    fn key_anchored(&self, path: &[FieldSegment]) -> Option<usize> {
        let value_line = seek(self.text, path, true)?;
        match path.last() {
            // The error sits on the value, which for a block mapping or list starts below its
            // key (after any comments): walk back up to the key.
            Some(FieldSegment::Key(key)) => {
                Some(key_line(self.text, key, value_line).unwrap_or(value_line))
            }
            _ => Some(value_line),
        }
    }
}

/// The nearest line at or above `value_line` (1-based) that writes `key:`, else the first one
/// below it (an alias's value sits at its anchor, which may come before the key).
fn key_line(text: &str, key: &str, value_line: usize) -> Option<usize> {
    let forms = [format!("{key}:"), format!("{key:?}:"), format!("'{key}':")];
    let writes_key = |line: &str| {
        let line = line.trim_start();
        let line = line.strip_prefix("- ").unwrap_or(line).trim_start();
        let line = line.strip_prefix('{').unwrap_or(line).trim_start();
        forms.iter().any(|f| line.starts_with(f.as_str()))
            || line.contains(&format!(" {key}:"))
            || line.contains(&format!("{{{key}:"))
    };
    let lines: Vec<&str> = text.lines().collect();
    let split = value_line.min(lines.len());
    let (above, below) = lines.split_at(split);
    above
        .iter()
        .rposition(|l| writes_key(l))
        .or_else(|| below.iter().position(|l| writes_key(l)).map(|i| i + split))
        .map(|i| i + 1)
}

/// Gives findings that name a file and field but no line the line of that field.
///
/// Each file is read and indexed once ([`LineIndex`]), so the work grows with the size of the
/// files and the number of findings, not with their product; a path the index cannot answer
/// is located by the parser ([`locate`]).
pub(crate) fn fill_lines(findings: &mut [Finding]) {
    fill_lines_parsed(findings, &BTreeSet::new());
}

/// [`fill_lines`], told which files (as displayed) were loaded, so parse in full: their index
/// needs no parse to check it. Files are read and indexed on every core.
pub(crate) fn fill_lines_parsed(findings: &mut [Finding], parsed: &BTreeSet<&str>) {
    let mut by_file: BTreeMap<&Path, Vec<usize>> = BTreeMap::new();
    for (i, finding) in findings.iter().enumerate() {
        if finding.line.is_some() || finding.field.is_empty() {
            continue;
        }
        if let Some(file) = &finding.file {
            by_file.entry(file).or_default().push(i);
        }
    }
    let files: Vec<(&Path, Vec<usize>)> = by_file.into_iter().collect();
    let placed = crate::parallel::map_ordered(&files, |(file, wanted)| {
        let Ok(text) = read_maybe_gzip(file) else {
            return Vec::new();
        };
        let index = if parsed.contains(file.display().to_string().as_str()) {
            LineIndex::scan_parsed(&text)
        } else {
            LineIndex::scan(&text)
        };
        wanted
            .iter()
            .map(|&i| {
                let field = &findings[i].field;
                let line = index
                    .as_ref()
                    .and_then(|index| index.line_of(&parse_field_path(field)))
                    .or_else(|| locate(&text, field));
                (i, line)
            })
            .collect()
    });
    for (i, line) in placed.into_iter().flatten() {
        findings[i].line = line;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The key-anchored line of `path`: by the index and by the parser, which must agree.
    fn line_of(text: &str, path: &str) -> Option<usize> {
        let path = parse_field_path(path);
        let lines = Lines::new(text);
        let indexed = lines.line_of(&path, Anchor::Key);
        let parsed = (1..=path.len())
            .rev()
            .find_map(|len| lines.key_anchored(&path[..len]));
        assert_eq!(indexed, parsed, "{path:?} in\n{text}");
        indexed
    }
    use serde_yaml::{Mapping, Value};

    /// A YAML tree with maps, lists of maps and scalars (what config files hold).
    fn tree() -> impl Strategy<Value = Value> {
        let leaf = "[a-z ]{0,6}".prop_map(Value::String);
        leaf.prop_recursive(4, 40, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(|values| {
                    let mut map = Mapping::new();
                    for (i, v) in values.into_iter().enumerate() {
                        map.insert(Value::String(i.to_string()), v);
                    }
                    Value::Mapping(map)
                }),
                prop::collection::vec(inner, 1..4).prop_map(|items| {
                    Value::Sequence(
                        items
                            .into_iter()
                            .map(|v| {
                                let mut map = Mapping::new();
                                map.insert(Value::String(String::new()), v);
                                Value::Mapping(map)
                            })
                            .collect(),
                    )
                }),
            ]
        })
    }

    /// Gives every key a unique name and collects every key's path and name.
    fn name_keys(value: &mut Value, path: &str, next: &mut usize, out: &mut Vec<(String, String)>) {
        match value {
            Value::Mapping(map) => {
                let entries: Vec<Value> = map.values().cloned().collect();
                map.clear();
                for mut v in entries {
                    *next += 1;
                    let name = format!("k{next}");
                    let at = format!("{path}.{name}");
                    out.push((at.clone(), name.clone()));
                    name_keys(&mut v, &at, next, out);
                    map.insert(Value::String(name), v);
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    name_keys(item, &format!("{path}[{i}]"), next, out);
                }
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn proptest_every_key_is_found_on_its_line(mut value in tree()) {
            let mut keys = Vec::new();
            let mut root = Mapping::new();
            root.insert(Value::String("top".into()), Value::Null);
            name_keys(&mut value, "top", &mut 0, &mut keys);
            root.insert(Value::String("top".into()), value);
            let yaml = serde_yaml::to_string(&Value::Mapping(root)).expect("yaml");
            let lines: Vec<&str> = yaml.lines().collect();
            for (path, name) in keys {
                let line = line_of(&yaml, &path);
                let text = line.and_then(|l| lines.get(l - 1)).copied().unwrap_or("");
                let key = format!("{name}:");
                prop_assert!(
                    text.trim_start().trim_start_matches("- ").starts_with(&key),
                    "{path} -> {line:?} {text:?} in\n{yaml}"
                );
            }
        }
    }

    const YAML: &str = "\
# comment
tide:
  queries:
  - orgs: [a]
    labels:
    - lgtm
  -   repos: [b/c]
      missingLabels: [x]
  merge_method:
    'org/repo': squash
    org2:
      other:
        \"release-(\": merge
plank:
  job_url_template: x
";

    #[test]
    fn lines_of_paths() {
        let table = [
            ("tide", Some(2)),
            ("tide.queries", Some(3)),
            ("tide.queries[0]", Some(4)),
            ("tide.queries[0].orgs", Some(4)),
            ("tide.queries[0].labels", Some(5)),
            ("tide.queries[1].missingLabels", Some(8)),
            ("tide.queries[1].repos", Some(7)),
            ("tide.queries[5].repos", Some(3)),
            ("tide.merge_method[\"org/repo\"]", Some(10)),
            ("tide.merge_method.org2.other[\"release-(\"]", Some(13)),
            ("plank.job_url_template", Some(15)),
            ("plank.missing", Some(14)),
            ("nowhere", None),
        ];
        for (path, line) in table {
            assert_eq!(line_of(YAML, path), line, "{path}");
        }
    }

    #[test]
    fn findings_get_their_lines_whether_or_not_their_files_are_known_to_parse() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.yaml");
        let b = dir.path().join("b.yaml");
        std::fs::write(
            &a,
            "periodics:\n- name: one\n  interval: 1h\n- name: two\n  cron: '* * * * *'\n",
        )
        .unwrap();
        std::fs::write(
            &b,
            "presubmits:\n  org/repo:\n  - name: three\n    context: c\n",
        )
        .unwrap();
        let gone = dir.path().join("gone.yaml");
        let findings = || {
            vec![
                Finding::warning("w")
                    .in_file(&b)
                    .at("presubmits[\"org/repo\"][0].context"),
                Finding::warning("w").in_file(&a).at("periodics[1].cron"),
                Finding::warning("w").in_file(&gone).at("periodics[0]"),
                Finding::warning("w")
                    .in_file(&a)
                    .at("periodics[0].interval"),
                Finding::warning("w").in_file(&a),
                Finding::warning("w").in_file(&a).at("periodics[0].name"),
            ]
        };
        let mut checked = findings();
        fill_lines(&mut checked);
        let lines: Vec<_> = checked.iter().map(|f| f.line).collect();
        assert_eq!(lines, [Some(4), Some(5), None, Some(3), None, Some(2)]);
        let mut trusted = findings();
        let (a, b) = (a.display().to_string(), b.display().to_string());
        fill_lines_parsed(&mut trusted, &BTreeSet::from([a.as_str(), b.as_str()]));
        assert_eq!(trusted, checked);
    }
}
