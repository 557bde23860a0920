//! What the plugin tables share: actions in a word each, and plugins.yaml read from text.

use prow_config::plugins::PluginConfig;
use prow_plugins::{Action, Request};

/// A comment saying `body` by `u` on `o/r#1`.
pub(crate) fn request(body: &str) -> Request<'_> {
    Request {
        org: "o",
        repo: "r",
        number: 1,
        user: "u",
        body,
        url: "https://x",
    }
}

/// Each action in short: `add a,b`, `remove x`, `assign u`, `say <first line>`…
pub(crate) fn summary(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a {
            Action::AddLabels { labels, .. } => format!("add {}", labels.join(",")),
            Action::RemoveLabel { label, .. } => format!("remove {label}"),
            Action::Assign { logins, .. } => format!("assign {}", logins.join(",")),
            Action::Unassign { logins, .. } => format!("unassign {}", logins.join(",")),
            Action::RequestReview { logins, .. } => format!("request {}", logins.join(",")),
            Action::UnrequestReview { logins, .. } => format!("unrequest {}", logins.join(",")),
            Action::Close { not_planned, .. } => {
                format!("close{}", if *not_planned { " not-planned" } else { "" })
            }
            Action::Reopen { .. } => "reopen".to_owned(),
            Action::DeleteComment { id, .. } => format!("delete {id}"),
            Action::React {
                comment_id,
                reaction,
                ..
            } => match comment_id {
                Some(id) => format!("react {reaction} to {id}"),
                None => format!("react {reaction}"),
            },
            Action::SetMilestone { milestone, .. } => match milestone {
                Some(m) => format!("milestone {m}"),
                None => "clear milestone".to_owned(),
            },
            Action::Comment { body, .. } => {
                format!("say {}", body.lines().next().unwrap_or_default())
            }
            other => format!("{other:?}"),
        })
        .collect()
}

/// plugins.yaml from text, with Prow's defaults applied.
pub(crate) fn plugin_config(yaml: &str) -> PluginConfig {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("plugins.yaml");
    std::fs::write(&path, yaml).unwrap();
    prow_config::plugins::load_plugins(&prow_config::plugins::PluginLoadOptions::new(path))
        .unwrap_or_else(|e| panic!("plugins: {e}"))
        .0
}
