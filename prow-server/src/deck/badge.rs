//! `/badge.svg`: the latest run of each job matching a glob list, drawn as Prow's shield.

use globset::Glob;
use prow_core::{ProwJob, ProwJobState};

/// What a badge says and its colour name (`brightgreen`, `red` or `darkgrey`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Badge {
    /// The right-hand text: `passing`, `failing a, b` or `no results`.
    pub status: String,
    /// The colour name, as Prow's.
    pub color: &'static str,
}

/// The newest run of each job whose name matches one of the comma-separated globs in
/// `selector`, newest first (Prow's `pickLatestJobs`).
pub fn pick_latest<'a, J: std::borrow::Borrow<ProwJob>>(
    jobs: &'a [J],
    selector: &str,
) -> Vec<&'a ProwJob> {
    let globs: Vec<globset::GlobMatcher> = selector
        .split(',')
        .filter_map(|g| Glob::new(g).ok().map(|g| g.compile_matcher()))
        .collect();
    let mut sorted: Vec<&ProwJob> = jobs.iter().map(J::borrow).collect();
    sorted.sort_by_key(|j| std::cmp::Reverse(start_time(j)));
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for job in sorted {
        if seen.contains(job.spec.job.as_str()) {
            continue;
        }
        if globs.iter().any(|g| g.is_match(&job.spec.job)) {
            seen.insert(job.spec.job.as_str());
            out.push(job);
        }
    }
    out
}

fn start_time(job: &ProwJob) -> Option<prow_core::k8s_openapi::jiff::Timestamp> {
    job.status
        .as_ref()
        .and_then(|s| s.start_time.as_ref())
        .map(|t| t.0)
}

/// The badge for these latest runs (Prow's `renderBadge`): failing jobs sorted, at most three
/// named and then `...`.
pub fn badge(latest: &[&ProwJob]) -> Badge {
    if latest.is_empty() {
        return Badge {
            status: "no results".to_owned(),
            color: "darkgrey",
        };
    }
    let mut failed: Vec<&str> = latest
        .iter()
        .filter(|j| j.status.as_ref().map(|s| s.state) == Some(ProwJobState::Failure))
        .map(|j| j.spec.job.as_str())
        .collect();
    failed.sort_unstable();
    if failed.is_empty() {
        return Badge {
            status: "passing".to_owned(),
            color: "brightgreen",
        };
    }
    if failed.len() > 3 {
        failed.truncate(3);
        failed.push("...");
    }
    Badge {
        status: format!("failing {}", failed.join(", ")),
        color: "red",
    }
}

/// The shield SVG with `subject` on the left and `status` on the right, Prow's geometry.
pub fn shield(subject: &str, status: &str, color: &str) -> String {
    let right_start = 13 + 6 * subject.len();
    let right_width = 13 + 6 * status.len();
    let width = right_start + right_width;
    let left_x = right_start as f64 * 0.5;
    let right_x = right_start as f64 + (right_width as f64 - 2.0) * 0.5;
    let fill = match color {
        "brightgreen" => "#4c1",
        "red" => "#e05d44",
        other => other,
    };
    let subject = super::html::escape(subject);
    let status = super::html::escape(status);
    let fill = super::html::escape(fill);
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20">
<linearGradient id="a" x2="0" y2="100%">
  <stop offset="0" stop-color="#bbb" stop-opacity=".1"/>
  <stop offset="1" stop-opacity=".1"/>
</linearGradient>
<rect rx="3" width="100%" height="20" fill="#555"/>
<g fill="{fill}">
  <rect rx="3" x="{right_start}" width="{right_width}" height="20"/>
  <path d="M{right_start} 0h4v20h-4z"/>
</g>
<rect rx="3" width="100%" height="20" fill="url(#a)"/>
<g fill="#fff" text-anchor="middle" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11">
<g fill="#010101" opacity=".3">
<text x="{left_x}" y="15">{subject}</text>
<text x="{right_x}" y="15">{status}</text>
</g>
<text x="{left_x}" y="14">{subject}</text>
<text x="{right_x}" y="14">{status}</text>
</g>
</svg>"##
    )
}
