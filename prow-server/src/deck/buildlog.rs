//! The build-log lens: lines matching the error pattern are highlighted and shown with their
//! neighbours; runs of other lines are folded, as spyglass's buildlog lens does.

use regex::Regex;
use serde::Serialize;

/// Spyglass's default highlight pattern.
pub const DEFAULT_HIGHLIGHT: &str =
    r"timed out|ERROR:|(FAIL|Failure \[)\b|panic\b|^E\d{4} \d\d:\d\d:\d\d\.\d\d\d]";
/// Lines shown on either side of a highlighted line.
pub const NEIGHBOR_LINES: usize = 5;
/// Folded runs shorter than this are shown instead.
pub const MIN_LINES_SKIPPED: usize = 5;
/// Lines longer than this are never highlighted (spyglass's default).
pub const HIGHLIGHT_LENGTH_MAX: usize = 10_000;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The text, without the newline.
    pub text: String,
    /// Whether it matches the highlight pattern.
    pub highlighted: bool,
}

/// A run of consecutive lines, folded or shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Group {
    /// Folded behind a "show N lines" control.
    pub skip: bool,
    /// The lines.
    pub lines: Vec<Line>,
}

/// The highlight pattern of a lens config's `highlight_regexes` (joined with `|`), or the
/// default when there are none or they do not compile.
pub fn highlighter(regexes: &[String]) -> Regex {
    let default = || Regex::new(DEFAULT_HIGHLIGHT).expect("the default pattern compiles");
    if regexes.is_empty() {
        return default();
    }
    let joined = regexes.join("|");
    regex::RegexBuilder::new(&joined)
        .multi_line(false)
        .build()
        .unwrap_or_else(|_| default())
}

/// The log in groups: every line starts folded; highlighted lines and their
/// [`NEIGHBOR_LINES`] neighbours are shown; folded runs shorter than [`MIN_LINES_SKIPPED`]
/// are shown too.
pub fn groups(log: &str, highlight: &Regex) -> Vec<Group> {
    let lines: Vec<Line> = log
        .lines()
        .enumerate()
        .map(|(i, text)| Line {
            number: i + 1,
            highlighted: text.len() <= HIGHLIGHT_LENGTH_MAX && highlight.is_match(text),
            text: text.to_owned(),
        })
        .collect();
    let mut skip = vec![true; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        if line.highlighted {
            let from = i.saturating_sub(NEIGHBOR_LINES);
            let to = (i + NEIGHBOR_LINES).min(lines.len().saturating_sub(1));
            for s in &mut skip[from..=to] {
                *s = false;
            }
        }
    }
    let mut out: Vec<Group> = Vec::new();
    for (line, skip) in lines.into_iter().zip(skip) {
        match out.last_mut() {
            Some(group) if group.skip == skip => group.lines.push(line),
            _ => out.push(Group {
                skip,
                lines: vec![line],
            }),
        }
    }
    for group in &mut out {
        if group.skip && group.lines.len() < MIN_LINES_SKIPPED {
            group.skip = false;
        }
    }
    // Neighbouring shown groups (after short folds were unfolded) read as one.
    let mut merged: Vec<Group> = Vec::new();
    for group in out {
        match merged.last_mut() {
            Some(last) if !last.skip && !group.skip => last.lines.extend(group.lines),
            _ => merged.push(group),
        }
    }
    merged
}
