//! Job history and PR history, the pure part: which builds a folder listing holds, which of
//! them a page shows, and each build's row from its `started.json` and `finished.json`.
//!
//! Like upstream's `/job-history/`, builds are the numeric entries of the job's folder:
//! build folders (`logs/<job>/<build>/`), or the `<build>.txt` links of a presubmit's
//! `pr-logs/directory/<job>/` whose text is the build's real location. Pages hold
//! [`PAGE_SIZE`] builds, newest first; `buildId` names the newest build of a page.

use prow_jobs::storage::Listing;
use serde::Serialize;

/// Builds on one page, as upstream.
pub const PAGE_SIZE: usize = 20;

/// Where one build's artifacts are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildAt {
    /// A folder `<job folder>/<id>`.
    Folder,
    /// The text of `<job folder>/<id>.txt` names the folder (`gs://bucket/path`).
    Link,
}

/// The builds in a job folder's listing, newest (highest ID) first.
pub fn builds(listing: &Listing) -> Vec<(u64, BuildAt)> {
    let mut out: Vec<(u64, BuildAt)> = listing
        .dirs
        .iter()
        .filter_map(|d| d.parse().ok().map(|id| (id, BuildAt::Folder)))
        .collect();
    for (name, _) in &listing.files {
        if let Some(id) = name
            .strip_suffix(".txt")
            .and_then(|n| n.parse::<u64>().ok())
            && !out.iter().any(|(known, _)| *known == id)
        {
            out.push((id, BuildAt::Link));
        }
    }
    out.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    out
}

/// One page of `builds` (newest first): those at or below `top` (all when `None`), at most
/// [`PAGE_SIZE`]; with the `buildId` of the older page and of the newer page, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Page {
    /// The IDs shown.
    pub ids: Vec<u64>,
    /// `buildId` of the next (older) page.
    pub older: Option<u64>,
    /// `buildId` of the previous (newer) page.
    pub newer: Option<u64>,
}

/// The page of `ids` (sorted newest first) whose newest build is at or below `top`.
pub fn page(ids: &[u64], top: Option<u64>) -> Page {
    let start = top.map_or(0, |top| {
        ids.iter().position(|id| *id <= top).unwrap_or(ids.len())
    });
    let end = (start + PAGE_SIZE).min(ids.len());
    let newer = (start > 0).then(|| ids[start.saturating_sub(PAGE_SIZE)]);
    Page {
        ids: ids[start..end].to_vec(),
        older: ids.get(end).copied(),
        newer,
    }
}

/// `gs://bucket/path` (a presubmit link's text) as `(provider, bucket, path)`.
pub fn parse_link(text: &str) -> Option<(String, String, String)> {
    let (provider, rest) = text.trim().split_once("://")?;
    let (bucket, path) = rest.split_once('/')?;
    let provider = if provider == "gcs" { "gs" } else { provider };
    Some((
        provider.to_owned(),
        bucket.to_owned(),
        path.trim_matches('/').to_owned(),
    ))
}

/// A row of the job history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Build {
    /// The build ID.
    pub id: String,
    /// Its spyglass page.
    pub link: String,
    /// Start, seconds since the epoch.
    pub started: Option<i64>,
    /// Seconds it ran, when finished.
    pub duration: Option<i64>,
    /// `SUCCESS`, `FAILURE`, `ABORTED`, `Pending` or `Unknown` (no `started.json`).
    pub result: String,
    /// The tested refs, `org/repo` → `base:sha,pr:sha`.
    pub refs: std::collections::BTreeMap<String, String>,
    /// The tested revision.
    pub revision: String,
}

/// A build's row from its metadata files.
pub fn build_row(id: u64, link: String, started: Option<&str>, finished: Option<&str>) -> Build {
    let (meta, _) = super::spyglass::metadata(started, finished);
    Build {
        id: id.to_string(),
        link,
        result: if started.is_none() && finished.is_none() {
            "Unknown".to_owned()
        } else {
            meta.result
        },
        started: meta.started,
        duration: meta.elapsed,
        refs: meta.repos,
        revision: meta.revision,
    }
}
