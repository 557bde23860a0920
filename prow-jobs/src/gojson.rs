//! JSON written byte-for-byte like Go's `encoding/json`, for values the pod utilities read.

use serde::Serialize;

use crate::Error;

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
