//! Bridges between YAML 1.1, which Prow's Go parser speaks, and the YAML 1.2 of serde_yaml.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_yaml::{Mapping, Value};

/// File modes written the YAML 1.1 way (`defaultMode: 0400`), which Go reads as octal and
/// YAML 1.2 reads as a string.
static OCTAL_MODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(\s*(?:-\s+)?(?:defaultMode|mode):\s*)0([0-7]+)(\s*(?:#.*)?)$")
        .expect("static regex")
});

/// Rewrites plain octal file modes as decimal numbers; lines stay where they were.
pub(crate) fn octal_modes(text: &str) -> Cow<'_, str> {
    if !text.contains("ode: 0") && !text.contains("ode:  0") {
        return Cow::Borrowed(text);
    }
    OCTAL_MODE.replace_all(text, |c: &regex::Captures<'_>| {
        let mode = u32::from_str_radix(&c[2], 8).unwrap_or_default();
        format!("{}{mode}{}", &c[1], &c[3])
    })
}

/// A YAML value read with Go's rule for repeated mapping keys: the last one wins.
pub(crate) struct LastWins(pub(crate) Value);

impl<'de> Deserialize<'de> for LastWins {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LastWinsVisitor).map(LastWins)
    }
}

struct LastWinsVisitor;

impl<'de> Visitor<'de> for LastWinsVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        LastWins::deserialize(d).map(|v| v.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(LastWins(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Sequence(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Mapping::new();
        while let Some((LastWins(k), LastWins(v))) = map.next_entry()? {
            out.insert(k, v);
        }
        Ok(Value::Mapping(out))
    }
}
