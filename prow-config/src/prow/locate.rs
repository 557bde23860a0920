//! Finds the line of a field path (`tide.queries[2].labels`) in block-style YAML, so
//! validation findings can name a line like parse errors do.
//!
//! Best effort: the deepest part of the path that can be found by indentation wins, and flow
//! collections (`{a: 1}`, `[x]`) end the search at their line.

/// One non-blank, non-comment line: where its content starts, where its `- ` is (for the
/// first line of a sequence item), and the content.
struct Entry<'a> {
    line: usize,
    indent: usize,
    item_at: Option<usize>,
    text: &'a str,
}

/// A step of a field path.
#[derive(Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// The 1-based line of `path` in `text`, or of its deepest ancestor that can be found.
pub(crate) fn line_of(text: &str, path: &str) -> Option<usize> {
    let entries = entries(text);
    let mut range = 0..entries.len();
    let mut found = None;
    for segment in segments(path) {
        let scope = &entries[range.clone()];
        // A key's children follow its line; an item's first line already holds content.
        let (next, keep_line) = match segment {
            Segment::Key(key) => (find_key(scope, &key), false),
            Segment::Index(n) => (find_item(scope, n), true),
        };
        let Some((at, end)) = next else { break };
        found = Some(entries[range.start + at].line);
        let first = if keep_line { at } else { at + 1 };
        range = range.start + first..range.start + end;
    }
    found
}

fn entries(text: &str) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        let mut text = trimmed;
        let mut item_at = None;
        while let Some(rest) = text.strip_prefix("- ").or((text == "-").then_some("")) {
            item_at.get_or_insert(indent);
            let rest_trimmed = rest.trim_start();
            indent += text.len() - rest_trimmed.len();
            text = rest_trimmed;
            if text.is_empty() {
                break;
            }
        }
        out.push(Entry {
            line: i + 1,
            indent,
            item_at,
            text,
        });
    }
    out
}

/// The entry holding `key` at the top level of `scope`, and the end of its children.
fn find_key(scope: &[Entry<'_>], key: &str) -> Option<(usize, usize)> {
    let level = scope.iter().map(|e| e.indent).min()?;
    let at = scope
        .iter()
        .position(|e| e.indent == level && key_of(e.text) == Some(key))?;
    let end = scope[at + 1..]
        .iter()
        .position(|e| e.indent <= level && e.item_at.is_none_or(|d| d < level))
        .map_or(scope.len(), |p| at + 1 + p);
    Some((at, end))
}

/// The `n`th item of the sequence at the top level of `scope`, and the end of its lines.
fn find_item(scope: &[Entry<'_>], n: usize) -> Option<(usize, usize)> {
    let level = scope.iter().filter_map(|e| e.item_at).min()?;
    let starts: Vec<usize> = scope
        .iter()
        .enumerate()
        .filter(|(_, e)| e.item_at == Some(level))
        .map(|(i, _)| i)
        .collect();
    let at = *starts.get(n)?;
    let end = starts.get(n + 1).copied().unwrap_or_else(|| {
        scope[at + 1..]
            .iter()
            .position(|e| e.indent <= level)
            .map_or(scope.len(), |p| at + 1 + p)
    });
    Some((at, end))
}

/// The mapping key a line starts with, unquoted.
fn key_of(text: &str) -> Option<&str> {
    for quote in ['\'', '"'] {
        if let Some(rest) = text.strip_prefix(quote) {
            let end = rest.find(quote)?;
            return rest[end + 1..]
                .trim_start()
                .starts_with(':')
                .then(|| &rest[..end]);
        }
    }
    let colon = text
        .find(": ")
        .or_else(|| text.ends_with(':').then(|| text.len() - 1))?;
    Some(text[..colon].trim_end())
}

/// Splits `a.b[2]["c/d"]` into its steps.
fn segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut chars = path.chars().peekable();
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !key.is_empty() {
                    out.push(Segment::Key(std::mem::take(&mut key)));
                }
            }
            '[' => {
                if !key.is_empty() {
                    out.push(Segment::Key(std::mem::take(&mut key)));
                }
                if chars.peek() == Some(&'"') {
                    chars.next();
                    let mut quoted = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => quoted.extend(chars.next()),
                            '"' => break,
                            c => quoted.push(c),
                        }
                    }
                    out.push(Segment::Key(quoted));
                    chars.next_if_eq(&']');
                } else {
                    let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                    match digits.parse() {
                        Ok(n) => out.push(Segment::Index(n)),
                        Err(_) => break,
                    }
                }
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        out.push(Segment::Key(key));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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
}
