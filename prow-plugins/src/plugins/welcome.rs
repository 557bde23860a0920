//! welcome: greets the first pull request of a contributor to a repository with a message
//! from `welcome[].message_template` (upstream `pkg/plugins/welcome`).
//!
//! Trusted users (org members, collaborators, trusted apps) are not greeted unless
//! `always_post` is set; bots never are. The template is Go's: `{{.Org}}`, `{{.Repo}}`,
//! `{{.AuthorLogin}}` and `{{.AuthorName}}` are understood (the name is empty: webhook
//! payloads do not carry it); values are HTML-escaped as `html/template` does.

use std::sync::LazyLock;

use async_trait::async_trait;
use prow_config::plugins::{PluginConfig, Welcome};
use prow_github::events::Event;
use regex::Regex;

use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The message when none is configured.
pub const DEFAULT_TEMPLATE: &str =
    "Welcome @{{.AuthorLogin}}! It looks like this is your first PR to {{.Org}}/{{.Repo}} 🎉";

static FIELD_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{-?\s*([^}]*?)\s*-?\}\}").expect("valid regex"));

/// The settings for `org/repo`: the first entry naming the repo, else the first naming the
/// org, else the defaults.
pub fn options_for(plugins: &PluginConfig, org: &str, repo: &str) -> Welcome {
    let full = format!("{org}/{repo}");
    plugins
        .welcome
        .iter()
        .find(|w| w.repos.contains(&full))
        .or_else(|| {
            plugins
                .welcome
                .iter()
                .find(|w| w.repos.iter().any(|r| r == org))
        })
        .cloned()
        .unwrap_or_default()
}

/// The template of `options`, or the default.
pub fn template_of(options: &Welcome) -> &str {
    if options.message_template.is_empty() {
        DEFAULT_TEMPLATE
    } else {
        &options.message_template
    }
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '+' => out.push_str("&#43;"),
            c => out.push(c),
        }
    }
    out
}

/// `template` with its fields filled in; an action it does not know is an error naming it.
pub fn render(
    template: &str,
    org: &str,
    repo: &str,
    login: &str,
    name: &str,
) -> Result<String, String> {
    let mut out = String::new();
    let mut last = 0;
    for caps in FIELD_RE.captures_iter(template) {
        let whole = caps.get(0).ok_or("no match")?;
        out.push_str(&template[last..whole.start()]);
        let value = match &caps[1] {
            ".Org" => org,
            ".Repo" => repo,
            ".AuthorLogin" => login,
            ".AuthorName" => name,
            other => {
                return Err(format!(
                    "welcome template: unsupported action {{{{{other}}}}}"
                ));
            }
        };
        out.push_str(&escape(value));
        last = whole.end();
    }
    out.push_str(&template[last..]);
    Ok(out)
}

/// Whether to greet: not a bot, untrusted or `always_post`, and no earlier pull request
/// (`previous` are the author's pull requests in the repository, `number` this one).
pub fn should_greet(
    is_user: bool,
    trusted: bool,
    always_post: bool,
    previous: &[u64],
    number: u64,
) -> bool {
    if !is_user || (trusted && !always_post) {
        return false;
    }
    always_post || previous.is_empty() || previous == [number]
}

/// The welcome plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct WelcomePlugin;

#[async_trait]
impl Plugin for WelcomePlugin {
    fn name(&self) -> &'static str {
        "welcome"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The welcome plugin greets incoming PRs with a welcoming message.",
            &["pull_request"],
        );
        for entry in &plugins.welcome {
            for repo in &entry.repos {
                help.config.insert(
                    repo.clone(),
                    format!(
                        "The welcome plugin is configured to post using following welcome template: {}.",
                        template_of(entry)
                    ),
                );
            }
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        if pe.action != "opened" {
            return Ok(Vec::new());
        }
        let pr = &pe.pull_request;
        let (org, repo, user) = (
            pe.repository.org(),
            pe.repository.name.as_str(),
            pr.user.login.as_str(),
        );
        let is_user = pr.user.kind.is_empty() || pr.user.kind == "User";
        if !is_user {
            return Ok(Vec::new());
        }
        let options = options_for(ctx.plugins, org, repo);
        let trigger = ctx.plugins.trigger_for(org, repo);
        let trusted =
            crate::trust::trusted_user(ctx.github, &trigger, ctx.bot, user, org, repo).await?;
        if trusted && !options.always_post {
            return Ok(Vec::new());
        }
        let query = format!("is:pr repo:{org}/{repo} author:{user}");
        let previous: Vec<u64> = ctx
            .github
            .search_issues(&query)
            .await
            .map_err(PluginError::github(format!("search {query:?}")))?
            .into_iter()
            .map(|i| i.number)
            .collect();
        if !should_greet(is_user, trusted, options.always_post, &previous, pr.number) {
            return Ok(Vec::new());
        }
        let body = render(template_of(&options), org, repo, user, "")
            .map_err(|e| PluginError::Other(format!("{org}/{repo}: {e}")))?;
        Ok(vec![Action::Comment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number: pr.number,
            body,
        }])
    }
}
