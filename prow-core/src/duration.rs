//! Go-compatible durations: `Duration` (string or integer nanoseconds) and `MetaDuration` (string only).
//!
//! Prow's decoration `timeout` and `grace_period` are a Go `time.Duration` wrapper that accepts
//! either a duration string (`"2h0m0s"`, `"1.5s"`) or an integer number of nanoseconds, and
//! always writes a string. Kubernetes' `metav1.Duration` (used for the pod timeouts) accepts only
//! strings. Both parse exactly like Go's `time.ParseDuration` and print like `Duration.String()`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// A signed span of time with nanosecond precision, read and written like Go's `time.Duration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    nanos: i64,
}

impl Duration {
    /// The zero duration.
    pub const ZERO: Duration = Duration { nanos: 0 };

    /// A duration of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: i64) -> Self {
        Duration { nanos }
    }

    /// A duration of `secs` seconds, saturating at Go's limits.
    pub const fn from_secs(secs: i64) -> Self {
        Duration {
            nanos: secs.saturating_mul(SECOND as i64),
        }
    }

    /// A duration of `mins` minutes, saturating at Go's limits.
    pub const fn from_mins(mins: i64) -> Self {
        Duration {
            nanos: mins.saturating_mul(MINUTE as i64),
        }
    }

    /// A duration of `hours` hours, saturating at Go's limits.
    pub const fn from_hours(hours: i64) -> Self {
        Duration {
            nanos: hours.saturating_mul(HOUR as i64),
        }
    }

    /// The number of nanoseconds, as Go stores it.
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// Whole seconds, truncated toward zero like Go's `int64(d / time.Second)`.
    pub const fn as_secs(self) -> i64 {
        self.nanos / SECOND as i64
    }

    /// Whether this duration is below zero.
    pub const fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// This duration as a `std::time::Duration`, or `None` when it is negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.nanos)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// Converts a `std::time::Duration`, or `None` when it does not fit Go's 292-year range.
    pub fn from_std(d: std::time::Duration) -> Option<Self> {
        i64::try_from(d.as_nanos())
            .ok()
            .map(|nanos| Duration { nanos })
    }

    /// Parses a Go duration string such as `"2h45m"`, `"1.5s"`, `"-300ms"` or `"0"`.
    pub fn parse(input: &str) -> Result<Self, DurationError> {
        parse_go_duration(input).map(|nanos| Duration { nanos })
    }
}

impl fmt::Display for Duration {
    /// Formats like Go's `Duration.String()`: `2h0m0s`, `1.5s`, `100ms`, `1µs`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_go_duration(self.nanos))
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

impl From<Duration> for MetaDuration {
    fn from(d: Duration) -> Self {
        MetaDuration(d)
    }
}

/// Why a duration string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The text is not of the form `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or overflows.
    #[error("invalid duration {input:?}")]
    Invalid {
        /// The text that was read.
        input: String,
    },
    /// A number is not followed by a unit.
    #[error("missing unit in duration {input:?}")]
    MissingUnit {
        /// The text that was read.
        input: String,
    },
    /// A unit other than `ns`, `us`, `µs`, `ms`, `s`, `m` or `h`.
    #[error("unknown unit {unit:?} in duration {input:?}")]
    UnknownUnit {
        /// The unit that was not recognised.
        unit: String,
        /// The text that was read.
        input: String,
    },
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => NANOSECOND,
        "us" | "\u{00b5}s" | "\u{03bc}s" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

/// Go's `time.ParseDuration`, step for step, so that edge cases (overflow, `"0"`, bare `"."`)
/// are accepted or rejected exactly as Prow does.
fn parse_go_duration(orig: &str) -> Result<i64, DurationError> {
    let invalid = || DurationError::Invalid {
        input: orig.to_owned(),
    };
    const LIMIT: u64 = 1 << 63;
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Leading integer.
        let mut whole: u64 = 0;
        let mut i = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if whole > (LIMIT - 1) / 10 {
                return Err(invalid());
            }
            whole = whole * 10 + u64::from(s[i] - b'0');
            if whole > LIMIT {
                return Err(invalid());
            }
            i += 1;
        }
        let pre = i > 0;
        s = &s[i..];
        // Optional fraction.
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut overflow = false;
            let mut j = 0;
            while j < s.len() && s[j].is_ascii_digit() {
                if !overflow {
                    if frac > (LIMIT - 1) / 10 {
                        overflow = true;
                    } else {
                        let next = frac * 10 + u64::from(s[j] - b'0');
                        if next > LIMIT {
                            overflow = true;
                        } else {
                            frac = next;
                            scale *= 10.0;
                        }
                    }
                }
                j += 1;
            }
            post = j > 0;
            s = &s[j..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        // Unit: everything up to the next digit or '.'.
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit {
                input: orig.to_owned(),
            });
        }
        let unit_bytes = &s[..unit_len];
        s = &s[unit_len..];
        let unit_text = String::from_utf8_lossy(unit_bytes);
        let Some(unit) = unit_nanos(&unit_text) else {
            return Err(DurationError::UnknownUnit {
                unit: unit_text.into_owned(),
                input: orig.to_owned(),
            });
        };
        if whole > LIMIT / unit {
            return Err(invalid());
        }
        let mut value = whole * unit;
        if frac > 0 {
            // Go computes the fractional part in float64 too.
            value += (frac as f64 * (unit as f64 / scale)) as u64;
            if value > LIMIT {
                return Err(invalid());
            }
        }
        total += value;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // total <= 2^63, so the negation fits.
        return Ok((total as i64).wrapping_neg());
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

/// Go's `Duration.String()`.
fn format_go_duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < SECOND {
        let (prec, unit) = match u {
            0 => return "0s".to_owned(),
            u if u < MICROSECOND => (0, "ns"),
            u if u < MILLISECOND => (3, "\u{00b5}s"),
            _ => (6, "ms"),
        };
        let (frac, int) = format_fraction(u, prec);
        out.push_str(&int.to_string());
        out.push_str(&frac);
        out.push_str(unit);
    } else {
        let (frac, secs) = format_fraction(u, 9);
        u = secs;
        let secs_part = format!("{}{frac}s", u % 60);
        u /= 60;
        if u > 0 {
            let mins_part = format!("{}m", u % 60);
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&mins_part);
        }
        out.push_str(&secs_part);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Splits `v` into `v / 10^prec` and the fraction digits (with a leading '.', trailing zeros
/// dropped, empty when the fraction is zero), like Go's `fmtFrac`.
fn format_fraction(mut v: u64, prec: u32) -> (String, u64) {
    let mut digits = Vec::new();
    let mut print = false;
    for _ in 0..prec {
        let digit = (v % 10) as u8;
        print = print || digit != 0;
        if print {
            digits.push(b'0' + digit);
        }
        v /= 10;
    }
    if !print {
        return (String::new(), v);
    }
    digits.reverse();
    let mut frac = String::with_capacity(digits.len() + 1);
    frac.push('.');
    frac.extend(digits.into_iter().map(char::from));
    (frac, v)
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

struct DurationVisitor {
    allow_integers: bool,
}

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.allow_integers {
            f.write_str(
                "a Go duration string such as \"1h30m\" or an integer number of nanoseconds",
            )
        } else {
            f.write_str("a Go duration string such as \"1h30m\"")
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        Duration::parse(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        if self.allow_integers {
            Ok(Duration::from_nanos(v))
        } else {
            Err(E::invalid_type(de::Unexpected::Signed(v), &self))
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        if !self.allow_integers {
            return Err(E::invalid_type(de::Unexpected::Unsigned(v), &self));
        }
        i64::try_from(v)
            .map(Duration::from_nanos)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor {
            allow_integers: true,
        })
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }

    fn inline_schema() -> bool {
        true
    }
}

/// A Kubernetes `metav1.Duration`: a Go duration that is only ever written as a string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetaDuration(pub Duration);

impl fmt::Display for MetaDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for MetaDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MetaDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(DurationVisitor {
                allow_integers: false,
            })
            .map(MetaDuration)
    }
}

impl JsonSchema for MetaDuration {
    fn schema_name() -> Cow<'static, str> {
        "MetaDuration".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Duration::json_schema(generator)
    }

    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = Duration::parse(input)
            .map(|d| d.to_string())
            .map_err(|e| e.to_string());
        assert_eq!(
            got.as_deref().map_err(String::as_str),
            expected,
            "parsing {input:?}"
        );
    }

    #[test]
    fn parses_and_prints_like_go() {
        // Cases from Go's time package tests (parseDurationTests and durationTests).
        check("0", Ok("0s"));
        check("5s", Ok("5s"));
        check("30s", Ok("30s"));
        check("1478s", Ok("24m38s"));
        check("-5s", Ok("-5s"));
        check("+5s", Ok("5s"));
        check("-0", Ok("0s"));
        check("+0", Ok("0s"));
        check("5.0s", Ok("5s"));
        check("5.6s", Ok("5.6s"));
        check("5.s", Ok("5s"));
        check(".5s", Ok("500ms"));
        check("1.0s", Ok("1s"));
        check("1.00s", Ok("1s"));
        check("1.004s", Ok("1.004s"));
        check("1.0040s", Ok("1.004s"));
        check("100.00100s", Ok("1m40.001s"));
        check("10ns", Ok("10ns"));
        check("11us", Ok("11µs"));
        check("12µs", Ok("12µs"));
        check("12μs", Ok("12µs"));
        check("13ms", Ok("13ms"));
        check("14s", Ok("14s"));
        check("15m", Ok("15m0s"));
        check("16h", Ok("16h0m0s"));
        check("3h30m", Ok("3h30m0s"));
        check("10.5s4m", Ok("4m10.5s"));
        check("-2m3.4s", Ok("-2m3.4s"));
        check("1h2m3s4ms5us6ns", Ok("1h2m3.004005006s"));
        check("39h9m14.425s", Ok("39h9m14.425s"));
        check("52763797000ns", Ok("52.763797s"));
        check("0.3333333333333333333h", Ok("20m0s"));
        check("9007199254740993ns", Ok("2501h59m59.254740993s"));
        check("9223372036854775807ns", Ok("2562047h47m16.854775807s"));
        check("9223372036854775.807us", Ok("2562047h47m16.854775807s"));
        check("-9223372036854775808ns", Ok("-2562047h47m16.854775808s"));
        check("0.100000000000000000000h", Ok("6m0s"));
        check("0.830103483285477580700h", Ok("49m48.372539827s"));
        check("", Err(r#"invalid duration """#));
        check("3", Err(r#"missing unit in duration "3""#));
        check("-", Err(r#"invalid duration "-""#));
        check("s", Err(r#"invalid duration "s""#));
        check(".", Err(r#"invalid duration ".""#));
        check("-.", Err(r#"invalid duration "-.""#));
        check(".s", Err(r#"invalid duration ".s""#));
        check("+.s", Err(r#"invalid duration "+.s""#));
        check("1d", Err(r#"unknown unit "d" in duration "1d""#));
        check("1h 30m", Err(r#"unknown unit "h " in duration "1h 30m""#));
        check(
            "9223372036854775808ns",
            Err(r#"invalid duration "9223372036854775808ns""#),
        );
        check(
            "9223372036854775.808us",
            Err(r#"invalid duration "9223372036854775.808us""#),
        );
        check(
            "-9223372036854775809ns",
            Err(r#"invalid duration "-9223372036854775809ns""#),
        );
        check("3000000h", Err(r#"invalid duration "3000000h""#));
    }

    #[test]
    fn reads_strings_and_nanoseconds_writes_strings() {
        let d: Duration = serde_json::from_str("7200000000000").unwrap();
        assert_eq!(d, Duration::from_hours(2));
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""2h0m0s""#);
        let d: Duration = serde_json::from_str(r#""15m""#).unwrap();
        assert_eq!(d, Duration::from_mins(15));
        let err = serde_json::from_str::<Duration>("1.5").unwrap_err();
        assert!(err.to_string().contains("Go duration string"), "{err}");
    }

    #[test]
    fn meta_duration_rejects_integers() {
        let d: MetaDuration = serde_json::from_str(r#""10m""#).unwrap();
        assert_eq!(d.0, Duration::from_mins(10));
        let err = serde_json::from_str::<MetaDuration>("600").unwrap_err();
        assert!(err.to_string().contains("invalid type: integer"), "{err}");
    }
}
