//! Cron schedules read exactly as robfig/cron v3 reads them for Prow (five fields, an optional
//! sixth for seconds, descriptors such as `@daily`, `@every 1h`, a `TZ=` prefix): which text
//! is a field and which is a list item, and the parser's error wording.
//!
//! robfig splits a spec with Go's `strings.Fields` and a field's list with
//! `strings.FieldsFunc(field, ',')`, which drops empty items: `0 1,,13 * * *` is hours 1 and 13.
//! [`normalize`] writes a spec in that reading for schedulers that are stricter.

/// The fields of a spec (after any `TZ=` prefix), split on whitespace as Go's `strings.Fields`.
pub fn fields(spec: &str) -> Vec<&str> {
    spec.split_whitespace().collect()
}

/// The list items of one field as robfig reads them: split at commas, empty items dropped.
pub fn items(field: &str) -> impl Iterator<Item = &str> {
    field.split(',').filter(|item| !item.is_empty())
}

/// The spec without its `TZ=`/`CRON_TZ=` prefix, and the prefix's zone if any.
pub fn strip_zone(spec: &str) -> (Option<&str>, &str) {
    let spec = spec.trim();
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let (zone, rest) = spec.split_once(char::is_whitespace).unwrap_or((spec, ""));
        let zone = zone.split_once('=').map(|(_, z)| z).unwrap_or_default();
        return (Some(zone), rest.trim());
    }
    (None, spec)
}

/// `spec` as robfig reads it, written plainly: fields one space apart, empty list items
/// dropped; a descriptor or an empty spec is returned as it is (trimmed, zone kept).
pub fn normalize(spec: &str) -> String {
    let (zone, rest) = strip_zone(spec);
    if rest.starts_with('@') || rest.is_empty() {
        return spec.trim().to_owned();
    }
    let body = fields(rest)
        .into_iter()
        .map(|field| items(field).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join(" ");
    match zone {
        Some(zone) => format!("TZ={zone} {body}"),
        None => body,
    }
}

/// Checks a cron schedule the way Prow's parser (robfig/cron with optional seconds and
/// descriptors) does, with its error wording.
pub fn check(spec: &str) -> Result<(), String> {
    let mut spec = spec.trim();
    if spec.is_empty() {
        return Err("empty spec string".to_owned());
    }
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        spec = strip_zone(spec).1;
    }
    if let Some(descriptor) = spec.strip_prefix('@') {
        return match descriptor {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ => match descriptor.strip_prefix("every ") {
                Some(d) => crate::Duration::parse(d)
                    .map(|_| ())
                    .map_err(|e| format!("failed to parse duration {spec}: time: {e}")),
                None => Err(format!("unrecognized descriptor: {spec}")),
            },
        };
    }
    let fields = fields(spec);
    if !(5..=6).contains(&fields.len()) {
        return Err(format!(
            "expected 5 to 6 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let mut bounds: Vec<(u32, u32, &[&str], u32)> = vec![
        (0, 59, &[], 0),
        (0, 23, &[], 0),
        (1, 31, &[], 0),
        (1, 12, MONTHS, 1),
        (0, 6, DAYS, 0),
    ];
    if fields.len() == 6 {
        bounds.insert(0, (0, 59, &[], 0));
    }
    for (field, (min, max, names, base)) in fields.iter().zip(bounds) {
        for expr in items(field) {
            cron_range(expr, min, max, names, base)?;
        }
    }
    Ok(())
}

/// One `a-b/step` expression of a cron field.
fn cron_range(expr: &str, min: u32, max: u32, names: &[&str], base: u32) -> Result<(), String> {
    let number = |text: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
            return Ok(i as u32 + base);
        }
        match text.parse::<i64>() {
            Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {text}")),
            Ok(n) => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
            Err(_) => Err(format!(
                "failed to parse int from {text}: strconv.Atoi: parsing {text:?}: invalid syntax"
            )),
        }
    };
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let (start, mut end) = if low_high[0] == "*" || low_high[0] == "?" {
        (min, max)
    } else {
        let start = number(low_high[0])?;
        match low_high.len() {
            1 => (start, start),
            2 => (start, number(low_high[1])?),
            _ => return Err(format!("too many hyphens: {expr}")),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = number(range_and_step[1])?;
            if single {
                end = max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({min}): {expr}"
        ));
    }
    if end > max {
        return Err(format!(
            "end of range ({end}) above maximum ({max}): {expr}"
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_all(table: &[(&str, Result<(), &str>)]) {
        for (spec, want) in table {
            assert_eq!(check(spec), want.map_err(str::to_owned), "{spec:?}");
        }
    }

    #[test]
    fn specs_read_as_robfig_reads_them() {
        check_all(&[
            ("0 1,,13 * * *", Ok(())),
            ("0 1,13, * * *", Ok(())),
            ("0 ,1 * * *", Ok(())),
            ("0\t1  *   * *", Ok(())),
            ("TZ=UTC 0 1 * * *", Ok(())),
            ("5 0 1 * * *", Ok(())),
            ("0 0 30 2 *", Ok(())),
            ("@every 1h30m", Ok(())),
            ("@daily", Ok(())),
            ("0 1 * *", Err("expected 5 to 6 fields, found 4: [0 1 * *]")),
            ("@weird", Err("unrecognized descriptor: @weird")),
            (
                "0 24 * * *",
                Err("end of range (24) above maximum (23): 24"),
            ),
            (
                "0 1-x * * *",
                Err("failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"),
            ),
            ("", Err("empty spec string")),
        ]);
    }

    #[test]
    fn normalize_drops_what_robfig_drops() {
        assert_eq!(normalize(" 0  1,,13,\t* * mon,,fri "), "0 1,13 * * mon,fri");
        assert_eq!(
            normalize("CRON_TZ=Europe/Berlin 0 1, * * *"),
            "TZ=Europe/Berlin 0 1 * * *"
        );
        assert_eq!(normalize("@every 1h"), "@every 1h");
    }
}
