//! The error type of prow-github.

/// Everything that can go wrong in prow-github.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request could not be sent or its response read.
    #[error("send webhook to {address}")]
    Send {
        /// Where it was sent.
        address: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The receiver answered with something other than 200.
    #[error("response from hook has status {status} and body {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The response body.
        body: String,
    },
    /// A webhook payload does not have the shape of its event.
    #[error("read {event} payload: {path}: {reason}")]
    Payload {
        /// The event name.
        event: String,
        /// The field path of the problem.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A GitHub App has no installation in the organisation a call names.
    #[error("the github app {app_id} is not installed in organization {org}")]
    NotInstalled {
        /// The App.
        app_id: u64,
        /// The organisation.
        org: String,
    },
    /// The thing asked for does not exist (or the credentials may not see it).
    #[error("find {what}: not found")]
    NotFound {
        /// What was looked up, such as `pull request o/r#1`.
        what: String,
    },
    /// GitHub refused the request for these credentials.
    #[error("{what}: forbidden: {message}")]
    Forbidden {
        /// What was attempted.
        what: String,
        /// GitHub's message.
        message: String,
    },
    /// The rate limit is spent until `reset`.
    #[error("{what}: rate limited until {reset} (Unix seconds)")]
    RateLimited {
        /// What was attempted.
        what: String,
        /// When the limit resets, in Unix seconds.
        reset: u64,
    },
    /// GitHub will not merge the pull request (conflict, failing protection, closed).
    #[error("merge {what}: not mergeable: {reason}")]
    NotMergeable {
        /// The pull request.
        what: String,
        /// GitHub's reason.
        reason: String,
    },
    /// The pull request's head moved since it was tested.
    #[error("merge {what}: head is {actual}, not the tested {expected}")]
    HeadChanged {
        /// The pull request.
        what: String,
        /// The SHA that was tested.
        expected: String,
        /// The SHA the head is now.
        actual: String,
    },
    /// A credential file (`--github-token-path`, an App's private key) could not be read.
    #[error("read {path}")]
    ReadFile {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// GitHub answered with a status no other variant covers.
    #[error("{what}: github answered {status}: {message}")]
    Api {
        /// What was attempted.
        what: String,
        /// The HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// GitHub could not be reached, or its answer could not be read.
    #[error("{what}")]
    Transport {
        /// What was attempted.
        what: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// GitHub rejected the request as invalid.
    #[error("{what}: invalid request: {message}")]
    Validation {
        /// What was attempted.
        what: String,
        /// GitHub's message.
        message: String,
    },
}
