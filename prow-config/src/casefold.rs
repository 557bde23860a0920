//! Go's JSON decoding matches keys to fields ignoring case: renaming keys serde did not know
//! to the spelling it does know, as Go would have read them.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::Finding;
use crate::locate::{FieldSegment, parse_field_path, render_field_path};
use crate::parse::{UNKNOWN_FIELD, parse_from, yaml_value};

/// A required field spelled with other letter case (`Name:`) is that field to Go: renames such
/// keys until the document parses. Returns `None` when that does not help.
pub(crate) fn fold_missing<T: DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Option<(T, Vec<Finding>)> {
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

/// Go's JSON decoding matches a key to a struct field ignoring case (`NAME` is `name`). Keys
/// that serde did not know are renamed to a case variant it does know, one at a time, keeping a
/// rename only when it makes that warning go away without a new one at the renamed path.
/// Returns `None` when no rename helped.
///
/// Each round first applies every rename at once and reads the document once ([`rename_all`]);
/// only when that does not give what the renames one at a time would, are they tried one at a
/// time (a read of the document each). A file with a misspelt field in every job thus costs a
/// few reads, not one per job.
pub(crate) fn fold_case<T: DeserializeOwned>(
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::jobs::JobConfig;

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
