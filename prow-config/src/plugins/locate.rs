//! Field paths inside `plugins.yaml` and the line a path starts on.
//!
//! serde_yaml keeps no positions in values, but it does put one on every error. To find where
//! a field is, the document is walked again along the path and made to fail at the start of
//! the value sought: the error then carries that value's line, and for a key the nearest line
//! above that writes `key:` is taken.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Builds a path from keys and indices: `path!["plugins", key]`.
macro_rules! field_path {
    ($($seg:expr),* $(,)?) => {
        vec![$($crate::plugins::locate::Seg::from($seg)),*]
    };
}
pub(crate) use field_path as path;

impl From<&str> for Seg {
    fn from(key: &str) -> Self {
        Seg::Key(key.to_owned())
    }
}

impl From<&String> for Seg {
    fn from(key: &String) -> Self {
        Seg::Key(key.clone())
    }
}

impl From<String> for Seg {
    fn from(key: String) -> Self {
        Seg::Key(key)
    }
}

impl From<usize> for Seg {
    fn from(index: usize) -> Self {
        Seg::Index(index)
    }
}

/// Renders a path as `plugins["org/repo"].plugins[2]`, the form the job loader uses.
pub(crate) fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(key) => crate::load::push_key(&mut out, key),
        }
    }
    out
}

/// Reads back a path [`render`] wrote (also the job loader's form); `None` if it cannot.
pub(crate) fn parse_rendered(field: &str) -> Option<Vec<Seg>> {
    let mut out = Vec::new();
    let mut rest = field;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[\"") {
            // A quoted key ends at the first `"]` not escaped; keys with quotes are rare
            // enough that giving up on them is fine.
            let end = r.find("\"]")?;
            let key = &r[..end];
            if key.contains('\\') {
                return None;
            }
            out.push(Seg::Key(key.to_owned()));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(Seg::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        } else {
            let r = rest.strip_prefix('.').unwrap_or(rest);
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            out.push(Seg::Key(r[..end].to_owned()));
            rest = &r[end..];
        }
    }
    Some(out)
}

/// Marks the error raised on purpose, so it is not mistaken for a parse error.
const FOUND: &str = "\u{0}prow-rs: located";

/// The 1-based line where `path` (or its longest present prefix) starts in `text`.
pub(crate) fn line_of(text: &str, path: &[Seg]) -> Option<usize> {
    (1..=path.len())
        .rev()
        .find_map(|len| exact_line(text, &path[..len]))
}

fn exact_line(text: &str, path: &[Seg]) -> Option<usize> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    let value_line = match (Walk { path }).deserialize(deserializer) {
        Err(e) if e.to_string().contains(FOUND) => e.location()?.line(),
        _ => return None,
    };
    match path.last() {
        // The error sits on the value, which for a block mapping or list starts below its
        // key (after any comments): walk back up to the key.
        Some(Seg::Key(key)) => Some(key_line(text, key, value_line).unwrap_or(value_line)),
        _ => Some(value_line),
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

/// Walks along `path`, skipping everything else.
struct Walk<'a> {
    path: &'a [Seg],
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.path.split_first() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        while let Some(hit) = map.next_key_seed(Key { want })? {
            if hit && rest.is_empty() {
                map.next_value_seed(Found)?;
            } else if hit {
                map.next_value_seed(Walk { path: rest })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.path.split_first() else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let mut index = 0;
        loop {
            let more = if index == *want {
                if rest.is_empty() {
                    seq.next_element_seed(Found)?
                } else {
                    seq.next_element_seed(Walk { path: rest })?
                }
            } else {
                seq.next_element::<IgnoredAny>()?.map(|_| ())
            };
            if more.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }
}

/// Reads a mapping key and tells whether it is the one sought.
struct Key<'a> {
    want: &'a str,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        Ok(d.deserialize_any(KeyText)? == self.want)
    }
}

/// Any scalar key as text.
struct KeyText;

impl<'de> Visitor<'de> for KeyText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_unit<E>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(String::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(String::new())
    }
}

/// Fails on purpose at the start of a value.
struct Found;

impl<'de> DeserializeSeed<'de> for Found {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(FoundVisitor)
    }
}

struct FoundVisitor;

impl<'de> Visitor<'de> for FoundVisitor {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(FOUND))
    }
    fn visit_some<D: Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
}
