//! How the bot words its replies (Prow's `plugins.FormatResponse*`), so that users see the
//! same comments as from Prow.

/// The footer every reply carries.
pub const ABOUT_THIS_BOT: &str = "Instructions for interacting with me using PR comments are available [here](https://git.k8s.io/community/contributors/guide/pull-requests.md).  If you have questions or suggestions related to my behavior, please file an issue against the [kubernetes-sigs/prow](https://github.com/kubernetes-sigs/prow/issues/new?title=Prow%20issue:) repository.";

/// A reply to `to` saying `message`, with `reason` folded away.
pub fn format_response(to: &str, message: &str, reason: &str) -> String {
    format!("@{to}: {message}\n\n<details>\n\n{reason}\n\n{ABOUT_THIS_BOT}\n</details>")
}

/// A message that needs no further explanation, with the bot's footer folded away (Prow's
/// `FormatSimpleResponse`).
pub fn format_simple_response(message: &str) -> String {
    format!("{message}\n\n<details>\n\n{ABOUT_THIS_BOT}\n</details>")
}

/// A reply to the comment `body` (at `url`, by `login`) saying `reply`, quoting the comment.
pub fn format_response_raw(body: &str, url: &str, login: &str, reply: &str) -> String {
    let quoted: Vec<String> = body.split('\n').map(|l| format!(">{l}")).collect();
    let reason = format!("In response to [this]({url}):\n\n{}\n", quoted.join("\n"));
    format_response(login, reply, &reason)
}
