//! Reading `/command` lines from comments as Prow's plugins do: one command per line, at the
//! start of the line, case-insensitive, with optional arguments.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// Removes HTML comments and fenced or indented code, so that commands quoted in them are not
/// acted on (Prow strips `<!-- -->` comments; code blocks are ours: a command shown as an
/// example is not a command). Most comments quote nothing and are returned as they are.
pub fn strip_quoted(body: &str) -> Cow<'_, str> {
    if !body.contains("<!--") && !body.contains("```") {
        return Cow::Borrowed(body);
    }
    static HTML_COMMENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)<!--.*?-->").expect("valid regex"));
    let without = HTML_COMMENT.replace_all(body, "");
    let mut out = String::new();
    let mut fenced = false;
    for line in without.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    Cow::Owned(out)
}

/// The lines of `body`, outside quotes and code, that start with `/`: the only lines a command
/// can be on.
pub fn command_lines(body: &str) -> String {
    let mut out = String::new();
    for line in strip_quoted(body).lines().filter(|l| l.starts_with('/')) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Each `/name [args]` line of `body` for one of `names` (case-insensitive), with its
/// arguments trimmed; a name matches only as a whole word.
pub fn find(body: &str, names: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        let Some(rest) = line.strip_prefix('/') else {
            continue;
        };
        let (word, args) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        let word = word.to_ascii_lowercase();
        if names.iter().any(|n| n.eq_ignore_ascii_case(&word)) {
            found.push((word, args.to_owned()));
        }
    }
    found
}
