//! Kubernetes resource quantities printed the way Go's `resource.Quantity` prints them.
//!
//! k8s-openapi keeps a quantity as the string the user wrote; Go parses it and writes its
//! canonical form (`1024Mi` becomes `1Gi`, `0.5` becomes `500m`). Where a quantity ends up in
//! JSON that is compared as text (`JOB_SPEC`), we must write what Go writes.

/// How a quantity was written, which decides how it is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Powers of 1024: `Ki`, `Mi`, ...
    BinarySi,
    /// Powers of 1000: `m`, `k`, `M`, ...
    DecimalSi,
    /// `e<n>`.
    DecimalExponent,
}

/// Go's largest quantity, `2^63 - 1`.
const MAX: i128 = i64::MAX as i128;

/// The canonical form of `text` as Go prints it, or `None` when Go would reject it (or it
/// is beyond what we compute exactly), in which case callers keep the text as it is.
pub(crate) fn canonical(text: &str) -> Option<String> {
    let parsed = parse(text)?;
    let (base, exponent, mut format) = interpret(parsed.suffix)?;
    if let Some(kept) = kept_as_written(text, &parsed, base, exponent, format) {
        return Some(kept);
    }

    // The exact value is `mantissa * 10^scale`.
    let digits = format!("{}{}", parsed.num, parsed.denom);
    if digits.len() > 30 {
        return None;
    }
    let mut mantissa: i128 = digits.parse().ok()?;
    let mut scale = -(parsed.denom.len() as i32);
    if base == 10 {
        scale += exponent;
    } else {
        mantissa = mantissa.checked_mul(1i128.checked_shl(exponent as u32)?)?;
    }
    if mantissa == 0 {
        return Some("0".to_owned());
    }
    // Go rounds anything finer than a nano-unit up to the next nano-unit.
    if scale < -9 {
        let divisor = 10i128.checked_pow((-9 - scale) as u32)?;
        // The mantissa is positive here, so this rounds away from zero like Go.
        mantissa = (mantissa + divisor - 1) / divisor;
        scale = -9;
    }
    // Go caps only binary quantities; decimal ones keep their value.
    if format == Format::BinarySi && exceeds_max(mantissa, scale) {
        mantissa = MAX;
        scale = 0;
    }
    if format == Format::BinarySi && scale < 0 && mantissa < 10i128.pow((-scale) as u32) {
        format = Format::DecimalSi;
    }
    let signed = if parsed.positive { mantissa } else { -mantissa };
    Some(print(signed, scale, format))
}

/// Whether `mantissa * 10^scale` is above Go's maximum.
fn exceeds_max(mantissa: i128, scale: i32) -> bool {
    if scale >= 0 {
        10i128
            .checked_pow(scale as u32)
            .and_then(|p| mantissa.checked_mul(p))
            .is_none_or(|v| v > MAX)
    } else {
        10i128
            .checked_pow((-scale) as u32)
            .is_some_and(|p| mantissa / p > MAX || (mantissa / p == MAX && mantissa % p != 0))
    }
}

/// Prints a non-zero value `mantissa * 10^scale` canonically.
fn print(mantissa: i128, scale: i32, format: Format) -> String {
    let format = match format {
        Format::BinarySi => {
            let integer = if scale >= 0 {
                Some(mantissa * 10i128.pow(scale as u32))
            } else {
                let p = 10i128.pow((-scale) as u32);
                (mantissa % p == 0).then_some(mantissa / p)
            };
            match integer {
                Some(value) if value.abs() >= 1024 => return print_binary(value),
                _ => Format::DecimalSi,
            }
        }
        other => other,
    };
    let (mut amount, mut exponent) = (mantissa, scale);
    while amount.abs() >= 10 && amount % 10 == 0 {
        amount /= 10;
        exponent += 1;
    }
    while exponent % 3 != 0 {
        amount *= 10;
        exponent -= 1;
    }
    let suffix = match format {
        Format::DecimalExponent if exponent == 0 => String::new(),
        Format::DecimalExponent => format!("e{exponent}"),
        _ => match exponent {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            _ => "",
        }
        .to_owned(),
    };
    format!("{amount}{suffix}")
}

fn print_binary(value: i128) -> String {
    let mut amount = value;
    let mut power = 0;
    while amount.abs() >= 1024 && amount % 1024 == 0 {
        amount /= 1024;
        power += 1;
    }
    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        .get(power)
        .copied()
        .unwrap_or_default();
    format!("{amount}{suffix}")
}

/// The parts of a quantity: sign, integer digits without leading zeros, fraction digits,
/// suffix.
struct Parsed<'a> {
    positive: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// Splits `text` like Go's `parseQuantityString`.
fn parse(text: &str) -> Option<Parsed<'_>> {
    if text.is_empty() {
        return None;
    }
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut positive = true;
    match bytes.first() {
        Some(b'-') => {
            positive = false;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    while bytes.get(pos) == Some(&b'0') {
        pos += 1;
    }
    let num_start = pos;
    while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    let num = match &text[num_start..pos] {
        "" => "0",
        digits => digits,
    };
    let mut denom = "";
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        denom = &text[start..pos];
    }
    let suffix_start = pos;
    while bytes.get(pos).is_some_and(|b| b"eEinumkKMGTP".contains(b)) {
        pos += 1;
    }
    if matches!(bytes.get(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    (pos == bytes.len()).then_some(Parsed {
        positive,
        num,
        denom,
        suffix: &text[suffix_start..],
    })
}

/// A suffix's base, exponent and format, like Go's suffixer.
fn interpret(suffix: &str) -> Option<(i32, i32, Format)> {
    let decimal = |e| Some((10, e, Format::DecimalSi));
    let binary = |e| Some((2, e, Format::BinarySi));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            let exponent: i32 = rest.parse().ok()?;
            Some((10, exponent, Format::DecimalExponent))
        }
    }
}

/// Go keeps the text a quantity was written as when it is already canonical enough (its
/// fast path); this decides that the same way.
fn kept_as_written(
    text: &str,
    parsed: &Parsed<'_>,
    base: i32,
    exponent: i32,
    format: Format,
) -> Option<String> {
    let shifted = format!("{}{}", parsed.num, parsed.denom);
    let digits = (parsed.num.len() + parsed.denom.len()) as i32;
    let (precision, mantissa) = if format == Format::BinarySi {
        if exponent < 0 || !parsed.denom.is_empty() {
            return None;
        }
        let precision = 15 - parsed.num.len() as i32 - (exponent as f32 * 3.0 / 10.0) as i32 - 1;
        (precision, 1i64.checked_shl(exponent as u32)?)
    } else {
        (18 - digits, 1)
    };
    let scale = if base == 10 { exponent } else { 0 } - parsed.denom.len() as i32;
    if precision < 0 || scale < -9 {
        return None;
    }
    let value: i64 = shifted.parse().ok()?;
    value.checked_mul(mantissa)?;
    let keep = match format {
        Format::BinarySi => exponent % 10 == 0 && value & 0x07 != 0,
        _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
    };
    keep.then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn prints_like_go() {
        for (input, want) in [
            ("0", "0"),
            ("0Gi", "0"),
            ("4Gi", "4Gi"),
            ("1024Mi", "1Gi"),
            ("1000Mi", "1000Mi"),
            ("0.5Gi", "512Mi"),
            ("0.5Ki", "512"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("0.5", "500m"),
            ("2000m", "2"),
            ("1000", "1k"),
            ("100m", "100m"),
            ("1e3", "1e3"),
            ("1000e3", "1e6"),
            ("1.5e3", "1500"),
            ("12e-1", "1200e-3"),
            ("05", "05"),
            ("-1.5", "-1500m"),
            ("0.0000000001", "1n"),
            ("1.0", "1"),
            ("1.", "1."),
            ("8Gi", "8Gi"),
            ("100Gi", "100Gi"),
            ("512Ki", "512Ki"),
            ("1048576", "1048576"),
            ("1048576Ki", "1Gi"),
            ("000", "0"),
            ("16Ei", "9223372036854775807"),
            ("10E", "10E"),
            ("20E", "20E"),
        ] {
            assert_eq!(canonical(input).as_deref(), Some(want), "{input}");
        }
        for bad in ["", "x", "1Q", "1.2.3", "1e", "Gi1", "--1"] {
            assert_eq!(canonical(bad), None, "{bad}");
        }
    }
}
