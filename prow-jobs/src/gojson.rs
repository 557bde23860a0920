//! JSON written byte-for-byte like Go's `encoding/json`, for values the pod utilities read.

use serde::Serialize;

use crate::{Error, quantity};

/// Serialises `value` compactly and escapes what Go's `json.Marshal` escapes on top of serde_json.
///
/// Go replaces `<`, `>` and `&` with `\u003c`, `\u003e` and `\u0026` (HTML safety) and the
/// line/paragraph separators U+2028 and U+2029 with `\u2028` and `\u2029`. Those characters
/// can only occur inside JSON strings, so rewriting the finished text is exact.
pub(crate) fn to_string<T: Serialize + ?Sized>(
    value: &T,
    what: &'static str,
) -> Result<String, Error> {
    let text = serde_json::to_string(value).map_err(|source| Error::Encode { what, source })?;
    Ok(escape_like_go(text))
}

fn escape_like_go(text: String) -> String {
    if !text.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Serialises `value` like [`to_string`], then puts the fields of Kubernetes objects found
/// where `shape` says into the order Go's structs declare them.
///
/// k8s-openapi writes fields alphabetically, Go in declaration order; the difference shows
/// wherever a Kubernetes object is embedded in JSON that is compared as text, such as the
/// affinity and tolerations inside `JOB_SPEC`.
pub(crate) fn to_string_shaped<T: Serialize + ?Sized>(
    value: &T,
    shape: &Shape,
    what: &'static str,
) -> Result<String, Error> {
    let text = serde_json::to_string(value).map_err(|source| Error::Encode { what, source })?;
    let mut tree: Ordered =
        serde_json::from_str(&text).map_err(|source| Error::Encode { what, source })?;
    tree.reshape(shape);
    to_string(&tree, what)
}

/// Where Kubernetes objects sit in a JSON document and Go's field order for each.
#[derive(Debug)]
pub(crate) enum Shape {
    /// A scalar or a map with sorted keys: nothing to reorder.
    Leaf,
    /// A resource quantity, printed canonically like Go.
    Quantity,
    /// A map of resource quantities.
    QuantityMap,
    /// Every item of a list has this shape.
    List(&'static Shape),
    /// An object whose own fields keep their order; the named ones have the given shapes.
    Within(&'static [(&'static str, Shape)]),
    /// A Go struct: its fields in this order (unknown ones after, as they were), each with
    /// its shape.
    Struct(&'static [(&'static str, Shape)]),
}

/// A JSON value whose objects keep their fields in the order read.
#[derive(Debug)]
enum Ordered {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Ordered {
    fn reshape(&mut self, shape: &Shape) {
        match (self, shape) {
            (Ordered::String(text), Shape::Quantity) => {
                if let Some(canonical) = quantity::canonical(text) {
                    *text = canonical;
                }
            }
            (Ordered::Object(fields), Shape::QuantityMap) => {
                for (_, value) in fields.iter_mut() {
                    value.reshape(&Shape::Quantity);
                }
            }
            (Ordered::Array(items), Shape::List(item)) => {
                items.iter_mut().for_each(|i| i.reshape(item));
            }
            (Ordered::Object(fields), Shape::Within(known)) => {
                for (key, value) in fields.iter_mut() {
                    if let Some((_, s)) = known.iter().find(|(k, _)| k == key) {
                        value.reshape(s);
                    }
                }
            }
            (Ordered::Object(fields), Shape::Struct(known)) => {
                let rank = |key: &str| known.iter().position(|(k, _)| *k == key);
                // Stable: unknown fields (rank None sorts last) keep their relative order.
                fields.sort_by_key(|(key, _)| rank(key).map_or(usize::MAX, |r| r));
                for (key, value) in fields.iter_mut() {
                    if let Some(r) = rank(key) {
                        value.reshape(&known[r].1);
                    }
                }
            }
            _ => {}
        }
    }
}

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Ordered::Null => s.serialize_unit(),
            Ordered::Bool(b) => s.serialize_bool(*b),
            Ordered::Number(n) => n.serialize(s),
            Ordered::String(text) => s.serialize_str(text),
            Ordered::Array(items) => s.collect_seq(items),
            Ordered::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> serde::de::Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Ordered, E> {
        Ok(Ordered::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Ordered, E> {
        Ok(Ordered::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Ordered, E> {
        Ok(Ordered::Number(n.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Ordered, E> {
        serde_json::Number::from_f64(n)
            .map(Ordered::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, text: &str) -> Result<Ordered, E> {
        Ok(Ordered::String(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Ordered, E> {
        Ok(Ordered::String(text))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut fields = Vec::new();
        while let Some(entry) = map.next_entry()? {
            fields.push(entry);
        }
        Ok(Ordered::Object(fields))
    }
}

/// Go's field order for the Kubernetes objects that Prow's own types embed.
pub(crate) mod shapes {
    use super::Shape::{self, Leaf, List, Quantity, QuantityMap, Struct, Within};

    const SELECTOR_REQUIREMENT: Shape =
        Struct(&[("key", Leaf), ("operator", Leaf), ("values", Leaf)]);
    const NODE_SELECTOR_TERM: Shape = Struct(&[
        ("matchExpressions", List(&SELECTOR_REQUIREMENT)),
        ("matchFields", List(&SELECTOR_REQUIREMENT)),
    ]);
    const NODE_AFFINITY: Shape = Struct(&[
        (
            "requiredDuringSchedulingIgnoredDuringExecution",
            Struct(&[("nodeSelectorTerms", List(&NODE_SELECTOR_TERM))]),
        ),
        (
            "preferredDuringSchedulingIgnoredDuringExecution",
            List(&Struct(&[
                ("weight", Leaf),
                ("preference", NODE_SELECTOR_TERM),
            ])),
        ),
    ]);
    const LABEL_SELECTOR: Shape = Struct(&[
        ("matchLabels", Leaf),
        ("matchExpressions", List(&SELECTOR_REQUIREMENT)),
    ]);
    const POD_AFFINITY_TERM: Shape = Struct(&[
        ("labelSelector", LABEL_SELECTOR),
        ("namespaces", Leaf),
        ("topologyKey", Leaf),
        ("namespaceSelector", LABEL_SELECTOR),
        ("matchLabelKeys", Leaf),
        ("mismatchLabelKeys", Leaf),
    ]);
    const POD_AFFINITY: Shape = Struct(&[
        (
            "requiredDuringSchedulingIgnoredDuringExecution",
            List(&POD_AFFINITY_TERM),
        ),
        (
            "preferredDuringSchedulingIgnoredDuringExecution",
            List(&Struct(&[
                ("weight", Leaf),
                ("podAffinityTerm", POD_AFFINITY_TERM),
            ])),
        ),
    ]);
    /// `core/v1.Affinity`.
    pub(crate) const AFFINITY: Shape = Struct(&[
        ("nodeAffinity", NODE_AFFINITY),
        ("podAffinity", POD_AFFINITY),
        ("podAntiAffinity", POD_AFFINITY),
    ]);
    /// `core/v1.Toleration`.
    pub(crate) const TOLERATION: Shape = Struct(&[
        ("key", Leaf),
        ("operator", Leaf),
        ("value", Leaf),
        ("effect", Leaf),
        ("tolerationSeconds", Leaf),
    ]);
    /// `core/v1.ResourceRequirements`; its quantity maps have sorted keys in both languages.
    pub(crate) const RESOURCE_REQUIREMENTS: Shape = Struct(&[
        ("limits", QuantityMap),
        ("requests", QuantityMap),
        (
            "claims",
            List(&Struct(&[("name", Leaf), ("request", Leaf)])),
        ),
    ]);
    /// Prow's `DecorationConfig`: its own order is right, its Kubernetes parts need fixing.
    pub(crate) const DECORATION_CONFIG: Shape = Within(&[
        (
            "resources",
            Within(&[
                ("clonerefs", RESOURCE_REQUIREMENTS),
                ("initupload", RESOURCE_REQUIREMENTS),
                ("place_entrypoint", RESOURCE_REQUIREMENTS),
                ("sidecar", RESOURCE_REQUIREMENTS),
            ]),
        ),
        (
            "scheduling_options",
            Within(&[("affinity", AFFINITY), ("tolerations", List(&TOLERATION))]),
        ),
        ("default_memory_request", Quantity),
    ]);
}

/// `serialize_with`/`deserialize_with` for Go's `time.Duration`, which `encoding/json` writes as
/// integer nanoseconds (unlike Prow's own `Duration` wrapper, which writes strings).
pub(crate) mod nanos {
    use prow_core::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.as_nanos())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        i64::deserialize(d).map(Duration::from_nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_characters_and_separators_are_escaped_like_go() {
        let got = to_string("a<b>&c\u{2028}d\u{2029}\"é", "test").unwrap();
        assert_eq!(got, r#""a\u003cb\u003e\u0026c\u2028d\u2029\"é""#);
    }
}
