//! The shape several plugins share (upstream's blockade, mergecommitblocker,
//! cherry-pick-unapproved, needs-rebase): a label that follows a condition, added with a comment
//! saying why, and removed together with the bot's comments carrying that explanation.

use crate::{Action, Context, PluginError};

/// A label kept in step with a condition on `org/repo#number`, with the comment that explains
/// it recognised by `marker` (text the comment always contains).
#[derive(Debug, Clone, Copy)]
pub struct LabelNote<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The repository.
    pub repo: &'a str,
    /// The issue or pull request.
    pub number: u64,
    /// The label.
    pub label: &'a str,
    /// Text every explaining comment contains, to find them when pruning.
    pub marker: &'a str,
}

impl LabelNote<'_> {
    /// The actions when the condition is `want` and the label `has_label`: add it with the
    /// comment `note` when wanted and missing; remove it and delete the bot's comments (id and
    /// text in `bot_comments`) containing the marker when present and no longer wanted.
    pub fn decide(
        &self,
        has_label: bool,
        want: bool,
        note: impl FnOnce() -> String,
        bot_comments: &[(u64, String)],
    ) -> Vec<Action> {
        match (want, has_label) {
            (true, false) => vec![
                Action::label(self.org, self.repo, self.number, self.label, true),
                Action::Comment {
                    org: self.org.to_owned(),
                    repo: self.repo.to_owned(),
                    number: self.number,
                    body: note(),
                },
            ],
            (false, true) => {
                let mut actions = vec![Action::label(
                    self.org,
                    self.repo,
                    self.number,
                    self.label,
                    false,
                )];
                actions.extend(self.prune(bot_comments));
                actions
            }
            _ => Vec::new(),
        }
    }

    /// Deletions of the bot's comments (id and text) that contain the marker.
    pub fn prune(&self, bot_comments: &[(u64, String)]) -> Vec<Action> {
        bot_comments
            .iter()
            .filter(|(_, body)| body.contains(self.marker))
            .map(|(id, _)| Action::DeleteComment {
                org: self.org.to_owned(),
                repo: self.repo.to_owned(),
                id: *id,
            })
            .collect()
    }

    /// [`LabelNote::decide`] with the label's presence read from GitHub, and the bot's comments
    /// read only when the label is to go.
    pub async fn apply(
        &self,
        ctx: &Context<'_>,
        want: bool,
        note: impl FnOnce() -> String,
    ) -> Result<Vec<Action>, PluginError> {
        let has_label = ctx
            .has_label(self.org, self.repo, self.number, self.label)
            .await?;
        let comments = if has_label && !want {
            ctx.bot_comments(self.org, self.repo, self.number).await?
        } else {
            Vec::new()
        };
        Ok(self.decide(has_label, want, note, &comments))
    }
}
