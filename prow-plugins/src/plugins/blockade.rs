//! blockade: keeps `do-not-merge/blocked-paths` on pull requests that change files a blockade
//! protects, with a comment listing them, and removes both when no such file is changed any
//! more (upstream `pkg/plugins/blockade`).
//!
//! A file is blocked by a blockade that applies to the repository (by `org` or `org/repo`) and
//! branch (`branchregexp`) when it matches one of its `blockregexps` and none of its
//! `exceptionregexps`. Upstream lists the reasons in Go's random map order; we list them sorted.

use std::collections::BTreeMap;

use async_trait::async_trait;
use prow_config::plugins::{Blockade, PluginConfig};
use prow_github::events::Event;
use prow_github::types::PullRequestFile;
use regex::Regex;

use crate::label_note::LabelNote;
use crate::respond::format_response;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label (upstream `labels.BlockedPaths`).
pub const LABEL: &str = "do-not-merge/blocked-paths";
/// The comment's message (upstream `blockedPathsBody`); also how its comments are found again.
pub const MESSAGE: &str =
    "Adding label: `do-not-merge/blocked-paths` because PR changes a protected file.";

/// One blockade, compiled.
#[derive(Debug, Clone)]
pub struct Compiled {
    block: Vec<std::sync::Arc<Regex>>,
    except: Vec<std::sync::Arc<Regex>>,
    explanation: String,
}

impl Compiled {
    /// Whether `file` is blocked.
    pub fn blocks(&self, file: &str) -> bool {
        self.block.iter().any(|r| r.is_match(file)) && !self.except.iter().any(|r| r.is_match(file))
    }
}

fn compile_all(patterns: &[String], what: &str) -> Vec<std::sync::Arc<Regex>> {
    patterns
        .iter()
        .filter_map(|p| match prow_config::goregex::shared(p) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(plugin = "blockade", pattern = %p, error = %e, "failed to compile the blockade {what} regexp");
                None
            }
        })
        .collect()
}

/// The blockades of `blockades` that apply to `org/repo` on `branch`, compiled (upstream
/// `compileApplicableBlockades`): a blockade without a valid block regexp is dropped.
pub fn applicable(blockades: &[Blockade], org: &str, repo: &str, branch: &str) -> Vec<Compiled> {
    let full = format!("{org}/{repo}");
    blockades
        .iter()
        .filter(|b| b.repos.iter().any(|r| *r == org || *r == full))
        .filter(|b| {
            b.branchregexp.as_deref().is_none_or(|re| match prow_config::goregex::shared(re) {
                Ok(re) => re.is_match(branch),
                Err(e) => {
                    tracing::error!(plugin = "blockade", pattern = %re, error = %e, "failed to compile the blockade branch regexp");
                    false
                }
            })
        })
        .filter_map(|b| {
            let block = compile_all(&b.blockregexps, "block");
            if block.is_empty() {
                return None;
            }
            Some(Compiled {
                block,
                except: compile_all(&b.exceptionregexps, "exception"),
                explanation: if b.explanation.is_empty() {
                    "Files are protected".to_owned()
                } else {
                    b.explanation.clone()
                },
            })
        })
        .collect()
}

/// The blocked files of `files` by explanation (upstream `calculateBlocks`).
pub fn blocked<'a>(
    files: &'a [PullRequestFile],
    blockades: &[Compiled],
) -> BTreeMap<String, Vec<&'a PullRequestFile>> {
    let mut summary: BTreeMap<String, Vec<&PullRequestFile>> = BTreeMap::new();
    for file in files {
        for b in blockades {
            if b.blocks(&file.filename) {
                summary.entry(b.explanation.clone()).or_default().push(file);
            }
        }
    }
    summary
}

/// The reasons, as the comment lists them (upstream `summary.String`).
pub fn summary_text(summary: &BTreeMap<String, Vec<&PullRequestFile>>) -> String {
    let mut text = String::from("#### Reasons for blocking this PR:\n");
    for (reason, files) in summary {
        text.push_str(&format!("[{reason}]\n"));
        for file in files {
            text.push_str(&format!("- [{}]({})\n\n", file.filename, file.blob_url));
        }
    }
    text
}

/// The comment adding the label, addressed to the pull request's `author`.
pub fn comment(author: &str, summary: &BTreeMap<String, Vec<&PullRequestFile>>) -> String {
    format_response(author, MESSAGE, &summary_text(summary))
}

/// The blockade plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockadePlugin;

#[async_trait]
impl Plugin for BlockadePlugin {
    fn name(&self) -> &'static str {
        "blockade"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            format!(
                "The blockade plugin blocks pull requests from merging if they touch specific files. The plugin applies the '{LABEL}' label to pull requests that touch files that match a blockade's block regular expression and none of the corresponding exception regular expressions."
            ),
            &["pull_request"],
        );
        let mut by_repo: BTreeMap<&str, String> = BTreeMap::new();
        for b in &plugins.blockades {
            for repo in &b.repos {
                let text = by_repo.entry(repo).or_insert_with(|| {
                    "The following blockades apply in this repository:".to_owned()
                });
                if let Some(branch) = &b.branchregexp {
                    text.push_str(&format!("<br>BranchRegexp: '{branch}'"));
                }
                text.push_str(&format!(
                    "<br>Block reason: '{}'<br>&nbsp&nbsp&nbsp&nbspBlock regexps: {:?}<br>&nbsp&nbsp&nbsp&nbspException regexps: {:?}<br>",
                    b.explanation, b.blockregexps, b.exceptionregexps
                ));
            }
        }
        help.config
            .extend(by_repo.into_iter().map(|(k, v)| (k.to_owned(), v)));
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        if !matches!(pe.action.as_str(), "opened" | "reopened" | "synchronize") {
            return Ok(Vec::new());
        }
        let pr = &pe.pull_request;
        let (org, repo, number) = (pe.repository.org(), pe.repository.name.as_str(), pr.number);
        let note = LabelNote {
            org,
            repo,
            number,
            label: LABEL,
            marker: MESSAGE,
        };
        let has_label = ctx.has_label(org, repo, number, LABEL).await?;
        let blockades = applicable(&ctx.plugins.blockades, org, repo, &pr.base.git_ref);
        if blockades.is_empty() && !has_label {
            return Ok(Vec::new());
        }
        let files = if blockades.is_empty() {
            Vec::new()
        } else {
            ctx.github
                .pull_request_files(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the files of {org}/{repo}#{number}"
                )))?
        };
        let summary = blocked(&files, &blockades);
        let block = !summary.is_empty();
        let comments = if has_label && !block {
            ctx.bot_comments(org, repo, number).await?
        } else {
            Vec::new()
        };
        Ok(note.decide(
            has_label,
            block,
            || comment(&pr.user.login, &summary),
            &comments,
        ))
    }
}
