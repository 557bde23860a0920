//! GitHub search queries read term by term: quoted values stay whole, and the terms that
//! scope a query to an organisation (`org:`, `repo:`, `-repo:`) are told apart.

use std::collections::BTreeMap;

/// A search query split into its organisation-scoped terms (`org:`, `repo:`, `-repo:`), by
/// organisation, and the rest, as upstream's tide splits queries for App auth.
pub fn split_query(query: &str) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let mut by_org: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rest = Vec::new();
    for term in query_terms(query) {
        let bare = term.strip_prefix('-').unwrap_or(&term);
        let org = if let Some(value) = bare.strip_prefix("org:") {
            Some(value.trim_matches('"').to_owned())
        } else if let Some(value) = bare.strip_prefix("repo:") {
            value
                .trim_matches('"')
                .split_once('/')
                .map(|(org, _)| org.to_owned())
        } else {
            None
        };
        match org {
            Some(org) if !org.is_empty() => {
                by_org.entry(org.to_lowercase()).or_default().push(term)
            }
            _ => rest.push(term),
        }
    }
    (by_org, rest)
}

/// The whitespace-separated terms of a query; quoted text keeps its spaces.
pub(crate) fn query_terms(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}
